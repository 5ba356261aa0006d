//! The lake itself: catalog, versions, modes, adoption of foreign datasets.

use std::sync::Arc;

use anyhow::Result;
use arrow::array::{Int64Array, RecordBatch, RecordBatchIterator};
use arrow::datatypes::{DataType, Field, Schema};
use serde_json::{Value, json};

use crate::support::TestLake;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ingest_is_a_version_and_old_versions_stay_readable() -> Result<()> {
    let t = TestLake::new()?;
    let a = t.file("t.csv", "id,v\n1,10\n2,20\n")?;
    let b = t.file("more.csv", "id,v\n3,30\n")?;
    t.ingest(&[&a], &[]).await?;
    t.ingest(&[&b], &["--name", "t", "--mode", "append"])
        .await?;
    t.ingest(&[&b], &["--name", "t", "--mode", "overwrite"])
        .await?;
    let versions: Vec<Value> =
        serde_json::from_str(t.run(&["versions", "t", "--format", "json"]).await?.trim())?;
    let rows: Vec<(i64, i64, bool)> = versions
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap_or(0),
                v["rows"].as_i64().unwrap_or(0),
                v["latest"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(rows, [(1, 2, false), (2, 3, false), (3, 1, true)]);
    assert_eq!(t.scalar("SELECT sum(v) FROM \"t@1\"").await?, json!(30));
    assert_eq!(t.scalar("SELECT sum(v) FROM \"t@2\"").await?, json!(60));
    assert_eq!(t.scalar("SELECT sum(v) FROM t").await?, json!(30));
    let err = t.run_err(&["sql", "SELECT * FROM \"t@9\""]).await;
    assert!(err.contains("no version 9"), "{err}");

    let ls: Vec<Value> = serde_json::from_str(t.run(&["ls", "--format", "json"]).await?.trim())?;
    assert_eq!(ls[0]["name"], "t");
    assert_eq!(ls[0]["rows"], 1);
    assert_eq!(ls[0]["version"], 3);
    let catalog: Value =
        serde_json::from_str(&std::fs::read_to_string(t.lake().join("lake.json"))?)?;
    let entry = &catalog["datasets"]["t"];
    assert_eq!(entry["kind"], "table");
    assert_eq!(
        entry["sources"].as_array().map(Vec::len),
        Some(1),
        "overwrite replaces sources"
    );
    assert!(entry["schema"][0]["type"] == "Int64" && entry["created"].is_string());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datasets_written_by_another_lance_client_are_adopted() -> Result<()> {
    let t = TestLake::new()?;
    t.run(&["init"]).await?;
    let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(vec![1, 2, 3]))],
    )?;
    let uri = t
        .lake()
        .join("foreign.lance")
        .to_string_lossy()
        .into_owned();
    let reader = RecordBatchIterator::new(vec![Ok(batch)], schema);
    lance::Dataset::write(reader, &uri, None).await?;
    let ls: Vec<Value> = serde_json::from_str(&t.run(&["ls", "--format", "json"]).await?)?;
    let names: Vec<&str> = ls.iter().filter_map(|d| d["name"].as_str()).collect();
    assert_eq!(names, ["foreign"]);
    assert_eq!(t.scalar("SELECT sum(n) FROM foreign").await?, json!(6));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_errors_show_the_query_and_no_lake_is_a_clear_error() -> Result<()> {
    let t = TestLake::new()?;
    let err = t.run_err(&["ls"]).await;
    assert!(
        err.contains("is not a Lakebook lake") && err.contains("init"),
        "{err}"
    );
    let a = t.file("t.csv", "id\n1\n")?;
    t.ingest(&[&a], &[]).await?;
    let err = t.run_err(&["sql", "SELECT nope FROM t"]).await;
    assert!(
        err.contains("nope") && err.contains("in query: SELECT nope FROM t"),
        "{err}"
    );
    let err = t.run_err(&["schema", "missing"]).await;
    assert!(
        err.contains("no dataset named 'missing'") && err.contains("t"),
        "{err}"
    );
    Ok(())
}
