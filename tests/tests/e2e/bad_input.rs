//! Bad input gets a clear error naming the file and place, and the lake loses nothing.

use anyhow::Result;
use serde_json::json;

use crate::support::TestLake;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ragged_rows_name_the_line_and_can_be_skipped() -> Result<()> {
    let t = TestLake::new()?;
    let ragged = t.file("ragged.csv", "a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n")?;
    let err = t.run_err(&["ingest", &ragged.to_string_lossy()]).await;
    assert!(
        err.contains("ragged.csv: line 3: expected 3 fields"),
        "{err}"
    );
    let out = t.ingest(&[&ragged], &["--on-error", "skip"]).await?;
    assert!(
        out.contains("ragged: +2 rows") && out.contains("skipped 2 bad rows"),
        "{out}"
    );
    assert_eq!(t.scalar("SELECT sum(a) FROM ragged").await?, json!(7));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_empty_and_truncated_files_are_refused_clearly() -> Result<()> {
    let t = TestLake::new()?;
    t.run(&["init"]).await?;
    let junk = t.file(
        "junk.csv",
        [0u8, 159, 146, 150, 0, 1, 2, 3, 255, 254].repeat(100),
    )?;
    let empty = t.file("empty.csv", "")?;
    let blank = t.file("blank.csv", "\n\n  \n")?;
    let pq = t.file(
        "cut.parquet",
        b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00",
    )?;
    let notjson = t.file("x.json", "hello")?;
    let badline = t.file("bad.ndjson", "{\"a\":1}\n{\"a\":\n{\"a\":3}\n")?;
    let missing = t.src("nope.csv");
    let cases = [
        (&junk, "binary data"),
        (&empty, "empty"),
        (&blank, "empty"),
        (&pq, "not a readable Parquet file"),
        (&notjson, "not JSON"),
        (&badline, "line 2"),
        (&missing, "No such file"),
    ];
    for (path, expected) in cases {
        let err = t.run_err(&["ingest", &path.to_string_lossy()]).await;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(
            err.contains(&name) && err.contains(expected),
            "{name}: {err}"
        );
    }
    assert_eq!(t.run(&["ls", "--format", "json"]).await?.trim(), "[]");
    let out = t.ingest(&[&badline], &["--on-error", "skip"]).await?;
    assert!(
        out.contains("bad: +2 rows") && out.contains("skipped 1"),
        "{out}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_column_and_file_names_work_in_sql() -> Result<()> {
    let t = TestLake::new()?;
    let odd = t.file("my café.csv", "id,,id,Prix unitaire €,\n1,a,2,3.5,x\n")?;
    let out = t.ingest(&[&odd], &[]).await?;
    assert!(
        out.contains("note:") && out.contains("'id_2'") && out.contains("'column_2'"),
        "{out}"
    );
    let s = t.schema("my café").await?;
    assert_eq!(
        s.keys().cloned().collect::<Vec<_>>(),
        ["Prix unitaire €", "column_2", "column_5", "id", "id_2"]
    );
    assert_eq!(
        t.scalar("SELECT \"Prix unitaire €\" + id_2 FROM \"my café\"")
            .await?,
        json!(5.5)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_megabyte_line_is_one_value() -> Result<()> {
    let t = TestLake::new()?;
    let big = "x".repeat(10 << 20);
    let csv = t.file("wide.csv", format!("id,blob\n1,{big}\n2,small\n"))?;
    let doc = t.file("one_line.txt", format!("{} end", "word ".repeat(2 << 20)))?;
    t.ingest(&[&csv], &[]).await?;
    assert_eq!(
        t.scalar("SELECT max(length(blob)) FROM wide").await?,
        json!(10 << 20)
    );
    t.ingest(&[&doc], &[]).await?;
    assert_eq!(
        t.scalar("SELECT count(*) > 1000 FROM documents").await?,
        json!(true)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_ingest_leaves_the_lake_exactly_as_it_was() -> Result<()> {
    let t = TestLake::new()?;
    let good = t.file("batch/a_good.csv", "id,v\n1,x\n2,y\n")?;
    t.ingest(&[&good], &["--name", "kept"]).await?;
    t.file("docs/d.md", "# Doc\n\nSome words here.")?;
    t.ingest(&[&t.src("docs")], &[]).await?;
    let before = t.snapshot()?;

    // A folder with a good file, then a bad one, all or nothing: nothing of it may land.
    t.file("batch/b_bad.csv", "id,v\n1,x\n2\n")?;
    let err = t
        .run_err(&[
            "ingest",
            &t.src("batch").to_string_lossy(),
            "--all-or-nothing",
        ])
        .await;
    assert!(err.contains("b_bad.csv: line 3"), "{err}");
    assert_eq!(t.snapshot()?, before, "create of new datasets");

    // Appending a bad file to existing datasets: same.
    let bad = t.src("batch/b_bad.csv");
    let err = t
        .run_err(&[
            "ingest",
            &bad.to_string_lossy(),
            "--name",
            "kept",
            "--mode",
            "append",
        ])
        .await;
    assert!(err.contains("line 3"), "{err}");
    assert_eq!(t.snapshot()?, before, "append");

    // A schema that does not fit the dataset appended to.
    let other = t.file("other.csv", "id,w\n1,2\n")?;
    let err = t
        .run_err(&[
            "ingest",
            &other.to_string_lossy(),
            "--name",
            "kept",
            "--mode",
            "append",
        ])
        .await;
    assert!(err.contains("column 'w' is not in the dataset"), "{err}");
    assert_eq!(t.snapshot()?, before, "schema mismatch");

    // Create over an existing name (from another file: the same file again
    // is a re-run, and leaves the dataset as it is).
    let err = t
        .run_err(&["ingest", &other.to_string_lossy(), "--name", "kept"])
        .await;
    assert!(
        err.contains("'kept' already exists") && err.contains("--mode append"),
        "{err}"
    );

    // Documents that all fail.
    t.file("alldocsbad/x.txt", b"bad\x00\xc3(".as_slice())?;
    t.file("alldocsbad/y.md", "")?;
    let err = t
        .run_err(&[
            "ingest",
            &t.src("alldocsbad").to_string_lossy(),
            "--mode",
            "append",
        ])
        .await;
    assert!(
        err.contains("no document could be read") && err.contains("y.md"),
        "{err}"
    );
    assert_eq!(t.snapshot()?, before, "all documents failed");

    // Cancelled before it starts.
    let job = lakebook_core::Job::new();
    job.cancel();
    let mut lake = lakebook_core::Lake::open(&t.lake()).await?;
    let r =
        lakebook_core::ingest::ingest(&mut lake, &[t.src("other.csv")], &Default::default(), &job)
            .await;
    assert!(
        matches!(r, Err(lakebook_core::ingest::IngestError::Cancelled)),
        "{r:?}"
    );
    assert_eq!(t.snapshot()?, before, "cancelled");
    assert_eq!(t.scalar("SELECT count(*) FROM kept").await?, json!(2));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_utf8_far_into_a_file_names_its_line() -> Result<()> {
    let t = TestLake::new()?;
    let mut body = b"id,name\n".to_vec();
    for i in 0..60_000 {
        body.extend_from_slice(format!("{i},person number {i}\n").as_bytes());
    }
    body.extend_from_slice(b"60000,caf\xe9\n60001,ok\n");
    let csv = t.file("late.csv", body)?;
    let err = t.run_err(&["ingest", &csv.to_string_lossy()]).await;
    assert!(
        err.contains("late.csv: line 60002, column 'name': not valid UTF-8"),
        "{err}"
    );
    let out = t.ingest(&[&csv], &["--on-error", "skip"]).await?;
    assert!(
        out.contains("late: +60001 rows") && out.contains("skipped 1"),
        "{out}"
    );
    Ok(())
}
