//! Retiring: a dataset another one contains becomes a view over it, only
//! after the view is checked to yield exactly its rows; `restore` brings its
//! own rows back from its history, byte for byte.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::redundancy::{NAMES, Order, csv, near_copy, orders, renamed_csv, reordered_csv};
use crate::support::TestLake;

/// The data files of a dataset's folder.
fn data_files(t: &TestLake, name: &str) -> Result<BTreeSet<String>> {
    let catalog: Value =
        serde_json::from_str(&std::fs::read_to_string(t.lake().join("lake.json"))?)?;
    let dir = catalog["datasets"][name]["dir"]
        .as_str()
        .context("a dataset folder")?;
    let mut files = BTreeSet::new();
    for e in std::fs::read_dir(t.lake().join(dir).join("data"))? {
        files.insert(e?.file_name().to_string_lossy().into_owned());
    }
    Ok(files)
}

/// Each version of a dataset with its row count.
async fn versions(t: &TestLake, name: &str) -> Result<Vec<(u64, u64)>> {
    let out = t.run(&["versions", name, "--format", "json"]).await?;
    let rows: Vec<Value> = serde_json::from_str(out.trim())?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r["version"].as_u64().unwrap_or(0),
                r["rows"].as_u64().unwrap_or(0),
            )
        })
        .collect())
}

/// The kind `ls` shows for a dataset.
async fn kind(t: &TestLake, name: &str) -> Result<String> {
    let out = t.run(&["ls", "--format", "json"]).await?;
    let rows: Vec<Value> = serde_json::from_str(out.trim())?;
    let row = rows
        .iter()
        .find(|r| r["name"] == name)
        .with_context(|| format!("{name} in ls"))?;
    Ok(row["kind"].as_str().unwrap_or_default().to_string())
}

#[tokio::test]
async fn a_retired_dataset_answers_through_its_view_and_restores_byte_for_byte() -> Result<()> {
    let t = TestLake::new()?;
    let all = orders();
    let q1: Vec<Order> = all.iter().filter(|r| r.0 <= 50).cloned().collect();
    let odd: Vec<Order> = all.iter().filter(|r| r.0 % 2 == 1).cloned().collect();
    let near = near_copy(&all);
    let files = [
        t.file("orders.csv", csv(&NAMES, &[0, 1, 2, 3, 4], &all))?,
        t.file("orders_copy.csv", renamed_csv(&all))?,
        t.file("orders_q1.csv", reordered_csv(&q1))?,
        t.file("odd_orders.csv", csv(&NAMES, &[0, 1, 2, 3, 4], &odd))?,
        t.file("orders_near.csv", csv(&NAMES, &[0, 1, 2, 3, 4], &near))?,
        t.file("people.csv", "name,age\nada,36\nbo,41\ncy,29\n")?,
    ];
    let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    t.ingest(&paths, &[]).await?;
    t.run(&["redundancy"]).await?;

    // Refusals change nothing on disk.
    let untouched = t.snapshot()?;
    assert_eq!(
        t.run_err(&["retire", "odd_orders"]).await,
        "'odd_orders' is contained in 'orders', but no range predicate selects exactly its rows there, so no view rebuilds it yet; it is not retired"
    );
    assert_eq!(
        t.run_err(&["retire", "orders_near", "--from", "orders"])
            .await,
        "'orders_near' only overlaps 'orders' (96.1% of 128 sampled rows found there); a dataset is retired only when every row is rebuilt"
    );
    assert_eq!(
        t.run_err(&["retire", "people"]).await,
        "no dataset holds every row of 'people', so nothing could rebuild it"
    );
    assert_eq!(t.snapshot()?, untouched);

    // Retire the first quarter into a view over orders.
    let query_q1 = "SELECT * FROM orders_q1 ORDER BY order_id";
    let rows_q1 = t.sql(query_q1).await?;
    let files_q1 = data_files(&t, "orders_q1")?;
    let out = t
        .run(&["retire", "orders_q1", "--from", "orders", "--json"])
        .await?;
    let mut done: Value = serde_json::from_str(&out)?;
    let bytes = done["bytes"].take();
    assert!(bytes.as_u64().is_some_and(|b| b > 1000), "{bytes}");
    assert_eq!(
        done,
        json!({
            "name": "orders_q1",
            "relation": "contained",
            "container": "orders",
            "container_version": 1,
            "query": "SELECT \"order_date\", \"order_id\", \"amount\", \"customer\", \"quantity\" FROM \"orders@1\" \
                      WHERE \"order_date\" BETWEEN DATE '2024-01-01' AND DATE '2024-03-29'",
            "rows": 50,
            "data_version": 1,
            "retired_version": 2,
            "bytes": null,
        })
    );
    assert_eq!(t.sql(query_q1).await?, rows_q1, "the view yields its rows");
    assert_eq!(
        t.sql("SELECT count(*) AS n FROM orders_q1 q JOIN orders o USING (order_id)")
            .await?,
        vec![json!({"n": 50})]
    );
    assert_eq!(versions(&t, "orders_q1").await?, [(1, 50), (2, 0)]);
    assert_eq!(kind(&t, "orders_q1").await?, "retired: view over orders@1");
    // Its profile (what the inspector, matching and related tables read) is of its rows.
    let lake = lakebook_core::Lake::open(&t.lake()).await?;
    let profile =
        lakebook_core::profile::profile_dataset(&lake, "orders_q1", &lakebook_core::Job::new())
            .await?;
    assert_eq!((profile.rows, profile.version), (50, 1));
    // Old versions read as before.
    assert_eq!(
        t.sql("SELECT * FROM \"orders_q1@1\" ORDER BY order_id")
            .await?,
        rows_q1
    );

    // The container keeps its name; the retired dataset takes no writes.
    assert_eq!(
        t.run_err(&["rm", "orders"]).await,
        "'orders' rebuilds the retired dataset 'orders_q1' and keeps its name; `lakebook restore orders_q1` first"
    );
    assert_eq!(
        t.run_err(&["mv", "orders", "all_orders"]).await,
        "'orders' rebuilds the retired dataset 'orders_q1' and keeps its name; `lakebook restore orders_q1` first"
    );
    let more = t.file("more.csv", csv(&NAMES, &[0, 1, 2, 3, 4], &q1[..2]))?;
    let append = t
        .run_err(&[
            "ingest",
            &more.to_string_lossy(),
            "--name",
            "orders_q1",
            "--mode",
            "append",
        ])
        .await;
    assert!(
        append.ends_with("dataset 'orders_q1' is retired (read through a view over 'orders'); `lakebook restore orders_q1` brings its rows back before it is written to"),
        "{append}"
    );
    assert_eq!(
        t.run_err(&["retire", "orders_q1"]).await,
        "dataset 'orders_q1' is retired (read through a view over 'orders'); `lakebook restore orders_q1` brings its rows back before it is written to"
    );
    assert_eq!(
        t.run_err(&["search", "orders_q1", "ada", "--mode", "fulltext"])
            .await,
        "'orders_q1' is retired (read through a view over 'orders'): search 'orders', or `lakebook restore orders_q1` first"
    );
    let report: Value = serde_json::from_str(&t.run(&["redundancy", "--format", "json"]).await?)?;
    let notes = report["notes"].as_array().context("notes")?;
    assert!(
        notes.contains(&json!("retired (read through views, left out): orders_q1")),
        "{notes:?}"
    );

    // A notebook reads it through the view, and its Redundancy cell leaves it out.
    let notebook = t.src("redundancy.lakebook");
    std::fs::write(
        &notebook,
        format!(
            "format = 1\ntitle = \"Redundancy\"\nlake = \"{}\"\n\n\
             [[cells]]\nid = \"dupes\"\nkind = \"redundancy\"\n\n\
             [[cells]]\nid = \"q1\"\nkind = \"sql\"\n\
             sql = \"SELECT count(*) AS n, sum(order_id) AS ids FROM orders_q1\"\n",
            t.lake().display()
        ),
    )?;
    let shown = t
        .run(&["run", &notebook.to_string_lossy(), "--no-save"])
        .await?;
    let lines: Vec<&str> = shown.lines().collect();
    for want in [
        "8 redundant pair(s) among 5 table(s)",
        "note: retired (read through views, left out): orders_q1",
        "| 50 | 1275 |",
    ] {
        assert!(lines.contains(&want), "{want:?} missing from:\n{shown}");
    }

    // A duplicate retires into its twin, under its own column names.
    let query_copy = "SELECT * FROM orders_copy ORDER BY \"Order.ID\"";
    let rows_copy = t.sql(query_copy).await?;
    t.run(&["retire", "orders_copy"]).await?;
    assert_eq!(t.sql(query_copy).await?, rows_copy);
    assert_eq!(
        kind(&t, "orders_copy").await?,
        "retired: view over orders@1"
    );

    // Restore: the rows of version 1 are the latest again, from the same files.
    assert_eq!(
        t.run(&["restore", "orders_q1"]).await?.trim(),
        "restored 'orders_q1': the 50 rows of version 1 are its latest version again (version 3, the same data files); it is no longer a view"
    );
    assert_eq!(versions(&t, "orders_q1").await?, [(1, 50), (2, 0), (3, 50)]);
    assert_eq!(kind(&t, "orders_q1").await?, "table");
    assert_eq!(t.sql(query_q1).await?, rows_q1);
    assert_eq!(
        data_files(&t, "orders_q1")?,
        files_q1,
        "no data was rewritten"
    );
    t.run(&["restore", "orders_copy"]).await?;
    t.run(&["mv", "orders", "all_orders"]).await?;
    Ok(())
}

#[tokio::test]
async fn floats_equal_only_to_twelve_digits_are_found_but_not_retired() -> Result<()> {
    let t = TestLake::new()?;
    let a = t.file("prices.csv", "id,price\n1,0.3\n2,1.5\n3,2.25\n")?;
    let b = t.file(
        "prices_export.csv",
        "id,price\n1,0.30000000000000004\n2,1.5\n3,2.25\n",
    )?;
    t.ingest(&[a.as_path(), b.as_path()], &[]).await?;
    let report: Value = serde_json::from_str(&t.run(&["redundancy", "--format", "json"]).await?)?;
    let pairs = report["pairs"].as_array().context("pairs")?;
    assert_eq!(
        pairs
            .iter()
            .map(|p| (p["a"].clone(), p["relation"].clone(), p["b"].clone()))
            .collect::<Vec<_>>(),
        [(json!("prices"), json!("duplicate"), json!("prices_export"))]
    );
    let untouched = t.snapshot()?;
    assert_eq!(
        t.run_err(&["retire", "prices_export"]).await,
        "the view over 'prices' yields 3 rows that are not exactly the 3 rows of 'prices_export' (values differ in some bits, or in copies); it is not retired"
    );
    assert_eq!(t.snapshot()?, untouched);
    Ok(())
}
