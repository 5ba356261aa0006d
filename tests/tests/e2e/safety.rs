//! Data safety: concurrent writers, hostile names and notebooks, SQL that
//! would reach outside the lake, lossy appends, removing and reclaiming.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::support::TestLake;

/// Runs `lakebook --lake LAKE ARGS...` in-process on a task of its own, so
/// several run at once, each with its own view of the lake.
fn spawn_cli(lake: &Path, args: &[&str]) -> tokio::task::JoinHandle<Result<String>> {
    let mut all = vec!["--lake".to_string(), lake.to_string_lossy().into_owned()];
    all.extend(args.iter().map(|s| s.to_string()));
    tokio::spawn(async move { lakebook::cli::run_to_string(all).await })
}

fn catalog(t: &TestLake) -> Result<Value> {
    Ok(serde_json::from_str(&std::fs::read_to_string(
        t.lake().join("lake.json"),
    )?)?)
}

/// The `*.lance` folders at the top of the lake.
fn dataset_folders(lake: &Path) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(lake)? {
        let name = e?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".lance") {
            out.insert(name);
        }
    }
    Ok(out)
}

/// The error of appending `file` to dataset `name` (the append must fail).
async fn append_err(t: &TestLake, file: &Path, name: &str) -> String {
    let path = file.to_string_lossy();
    t.run_err(&["ingest", &path, "--name", name, "--mode", "append"])
        .await
}

/// A CSV of `rows` rows whose `v` column sums to `rows * tag`.
fn tagged_csv(rows: usize, tag: usize) -> String {
    let mut text = String::from("id,v\n");
    for i in 0..rows {
        text.push_str(&format!("{i},{tag}\n"));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_name_never_delete_the_winner() -> Result<()> {
    for round in 0..3 {
        let t = TestLake::new()?;
        t.run(&["init"]).await?;
        let mut tasks = Vec::new();
        for writer in 1..=6 {
            let file = t.file(&format!("w{writer}.csv"), tagged_csv(500 + writer, writer))?;
            let path = file.to_string_lossy().into_owned();
            tasks.push(spawn_cli(&t.lake(), &["ingest", &path, "--name", "dup"]));
        }
        let mut won = Vec::new();
        for (n, task) in tasks.into_iter().enumerate() {
            match task.await? {
                Ok(_) => won.push(n + 1),
                Err(e) => {
                    let text = format!("{e:#}");
                    assert!(
                        text.contains("'dup' already exists"),
                        "round {round}: {text}"
                    );
                }
            }
        }
        assert_eq!(
            won.len(),
            1,
            "round {round}: exactly one create wins: {won:?}"
        );
        let w = won[0];
        let rows = t.sql("SELECT count(*) AS n, sum(v) AS s FROM dup").await?;
        assert_eq!(
            rows,
            vec![json!({"n": 500 + w, "s": (500 + w) * w})],
            "round {round}: the winner's rows, all of them"
        );
        assert_eq!(
            dataset_folders(&t.lake())?,
            BTreeSet::from([catalog(&t)?["datasets"]["dup"]["dir"]
                .as_str()
                .unwrap_or_default()
                .to_string()]),
            "round {round}: the losers removed only their own folders"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_share_a_folder_stem_both_keep_their_data() -> Result<()> {
    let t = TestLake::new()?;
    t.run(&["init"]).await?;
    let a = t.file("a.csv", tagged_csv(10, 1))?;
    let b = t.file("b.csv", tagged_csv(20, 2))?;
    let (a, b) = (a.to_string_lossy(), b.to_string_lossy());
    let first = spawn_cli(&t.lake(), &["ingest", &a, "--name", "x y"]);
    let second = spawn_cli(&t.lake(), &["ingest", &b, "--name", "x_y"]);
    first.await??;
    second.await??;
    assert_eq!(t.scalar("SELECT sum(v) FROM \"x y\"").await?, json!(10));
    assert_eq!(t.scalar("SELECT sum(v) FROM x_y").await?, json!(40));
    assert_eq!(dataset_folders(&t.lake())?.len(), 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_ingests_all_reach_the_catalog_under_their_names() -> Result<()> {
    let names = [
        "my café",
        "orders",
        "x y",
        "x_y",
        "Sepal.Length",
        "数据",
        "b",
        "c",
    ];
    for round in 0..3 {
        let t = TestLake::new()?;
        t.run(&["init"]).await?;
        let mut tasks = Vec::new();
        for (n, name) in names.iter().enumerate() {
            let file = t.file(&format!("f{n}.csv"), tagged_csv(100 + n, 1))?;
            let path = file.to_string_lossy().into_owned();
            tasks.push(spawn_cli(&t.lake(), &["ingest", &path, "--name", name]));
        }
        for task in tasks {
            task.await??;
        }
        let cat = catalog(&t)?;
        let listed: BTreeSet<&str> = cat["datasets"]
            .as_object()
            .context("datasets")?
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(listed, names.iter().copied().collect(), "round {round}");
        for (n, name) in names.iter().enumerate() {
            let entry = &cat["datasets"][name];
            assert_eq!(entry["rows"], json!(100 + n), "round {round}: {name}");
            assert_eq!(
                entry["sources"].as_array().map(Vec::len),
                Some(1),
                "round {round}: {name} keeps its source"
            );
            let quoted = format!("SELECT count(*) FROM \"{name}\"");
            assert_eq!(t.scalar(&quoted).await?, json!(100 + n), "{name}");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_keep_every_row_and_the_catalog_agrees() -> Result<()> {
    let t = TestLake::new()?;
    let base = t.file("base.csv", tagged_csv(10, 1))?;
    t.ingest(&[&base], &["--name", "t"]).await?;
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let file = t.file(&format!("more{writer}.csv"), tagged_csv(25, 1))?;
        let path = file.to_string_lossy().into_owned();
        tasks.push(spawn_cli(
            &t.lake(),
            &["ingest", &path, "--name", "t", "--mode", "append"],
        ));
    }
    for task in tasks {
        task.await??;
    }
    assert_eq!(t.scalar("SELECT count(*) FROM t").await?, json!(210));
    let cat = catalog(&t)?;
    assert_eq!(cat["datasets"]["t"]["rows"], json!(210));
    assert_eq!(cat["datasets"]["t"]["version"], json!(9));
    assert_eq!(
        cat["datasets"]["t"]["sources"].as_array().map(Vec::len),
        Some(9)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedding_survives_concurrent_ingests_of_other_datasets() -> Result<()> {
    let t = TestLake::new()?;
    let notes = t.file(
        "notes.csv",
        "id,text\n1,the comet is brightest near the sun\n2,tides follow the moon\n3,bread rises with yeast\n",
    )?;
    t.ingest(&[&notes], &[]).await?;
    let embed = spawn_cli(&t.lake(), &["embed", "notes"]);
    let mut others = Vec::new();
    for n in 0..4 {
        let file = t.file(&format!("other{n}.csv"), tagged_csv(5, n))?;
        let path = file.to_string_lossy().into_owned();
        others.push(spawn_cli(&t.lake(), &["ingest", &path]));
    }
    embed.await??;
    for task in others {
        task.await??;
    }
    let cat = catalog(&t)?;
    assert_eq!(
        cat["datasets"]["notes"]["embedding"]["rows_with_vector"],
        json!(3)
    );
    assert_eq!(cat["datasets"].as_object().map(|d| d.len()), Some(5));
    let hits = t
        .run(&["search", "notes", "moon and tides", "--format", "json"])
        .await?;
    let hits: Value = serde_json::from_str(hits.trim())?;
    assert_eq!(hits["hits"][0]["id"], json!(2), "{hits}");
    // `--where` takes SQL as a SQL cell does: a double-quoted name is a column.
    for filter in ["\"id\" = 3", "id = 3"] {
        let hits = t
            .run(&[
                "search",
                "notes",
                "moon and tides",
                "--where",
                filter,
                "--format",
                "json",
            ])
            .await?;
        let hits: Value = serde_json::from_str(hits.trim())?;
        let ids: Vec<Value> = hits["hits"]
            .as_array()
            .map(|h| h.iter().map(|h| h["id"].clone()).collect())
            .unwrap_or_default();
        assert_eq!(ids, vec![json!(3)], "{filter}: {hits}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dataset_names_are_checked_and_versions_stay_unambiguous() -> Result<()> {
    let t = TestLake::new()?;
    let base = t.file("base.csv", tagged_csv(1000, 1))?;
    t.ingest(&[&base], &[]).await?;
    let more = t.file("more.csv", tagged_csv(10, 1))?;
    t.ingest(&[&more], &["--name", "base", "--mode", "append"])
        .await?;
    let before = t.snapshot()?;
    let refusals = [
        ("", "a name cannot be empty"),
        ("   ", "a name cannot be only spaces"),
        (
            "base@1",
            "'@' marks a version in SQL (\"name@3\"), so names cannot hold it (try 'base_1')",
        ),
        (
            "two\nlines",
            "control characters such as newlines or tabs (try 'two_lines')",
        ),
        (
            "../../escape",
            "a name cannot hold '/' or '\\' (try '.._.._escape')",
        ),
    ];
    for (name, expected) in refusals {
        let err = t
            .run_err(&["ingest", &more.to_string_lossy(), "--name", name])
            .await;
        assert!(err.ends_with(expected), "{name:?}: {err}");
    }
    let long = "n".repeat(129);
    let err = t
        .run_err(&["ingest", &more.to_string_lossy(), "--name", &long])
        .await;
    assert!(err.contains("at most 128 characters"), "{err}");
    assert_eq!(t.snapshot()?, before, "refused names write nothing");
    // "base@1" is version 1 of base, never another dataset.
    assert_eq!(
        t.scalar("SELECT count(*) FROM \"base@1\"").await?,
        json!(1000)
    );
    // A file whose own name is not usable gets a usable one.
    let odd = t.file("v@2.csv", tagged_csv(3, 1))?;
    t.ingest(&[&odd], &[]).await?;
    assert_eq!(t.scalar("SELECT count(*) FROM v_2").await?, json!(3));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notebook_cell_id_cannot_write_outside_its_folder() -> Result<()> {
    let t = TestLake::new()?;
    let data = t.file("s.csv", "a\n1\n")?;
    t.ingest(&[&data], &["--name", "s"]).await?;
    // A second lake beside the first, the target of the attack.
    let victim = t.src("victimlake");
    let victim_str = victim.to_string_lossy().into_owned();
    lakebook::cli::run_to_string(["--lake", victim_str.as_str(), "init"]).await?;
    let victim_catalog = std::fs::read_to_string(victim.join("lake.json"))?;
    let notebook = t.src("nb/evil.lakebook");
    std::fs::create_dir_all(notebook.parent().context("parent")?)?;
    let depth = "../".repeat(8);
    let target = format!("{depth}{}", victim.join("lake").to_string_lossy());
    std::fs::write(
        &notebook,
        format!(
            "format = 1\nlake = \"{}\"\n\n[[cells]]\nid = \"{target}\"\nkind = \"sql\"\nsql = \"SELECT * FROM s\"\n",
            t.lake().to_string_lossy()
        ),
    )?;
    let err = t.run_err(&["run", &notebook.to_string_lossy()]).await;
    assert!(
        err.contains("cell 1: cell id") && err.contains("is not allowed"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(victim.join("lake.json"))?,
        victim_catalog
    );
    assert!(!notebook.with_extension("lakebook.out").exists());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crafted_catalog_cannot_point_a_dataset_outside_the_lake() -> Result<()> {
    let t = TestLake::new()?;
    let data = t.file("t.csv", tagged_csv(5, 1))?;
    t.ingest(&[&data], &["--name", "t"]).await?;
    // Another lake's dataset, outside this one.
    let victim = t.src("victim");
    let victim_str = victim.to_string_lossy().into_owned();
    let other = t.file("v.csv", tagged_csv(7, 1))?;
    lakebook::cli::run_to_string([
        "--lake",
        victim_str.as_str(),
        "ingest",
        &other.to_string_lossy(),
        "--name",
        "v",
    ])
    .await?;
    let victim_files = std::fs::read_dir(victim.join("v.lance").join("_versions"))?.count();
    let mut cat = catalog(&t)?;
    cat["datasets"]["t"]["dir"] = json!("../src/victim/v.lance");
    std::fs::write(t.lake().join("lake.json"), cat.to_string())?;

    let err = t
        .run_err(&[
            "ingest",
            &data.to_string_lossy(),
            "--name",
            "t",
            "--mode",
            "overwrite",
        ])
        .await;
    assert!(
        err.contains("the catalog entry of dataset 't' names the folder '../src/victim/v.lance'"),
        "{err}"
    );
    let err = t.run_err(&["sql", "SELECT count(*) FROM t"]).await;
    assert!(
        err.contains("must be directly inside the lake folder"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(victim.join("v.lance").join("_versions"))?.count(),
        victim_files,
        "no new version was written outside the lake"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_cannot_read_or_write_files_outside_the_lake() -> Result<()> {
    let t = TestLake::new()?;
    let data = t.file("t.csv", tagged_csv(5, 1))?;
    t.ingest(&[&data], &["--name", "t"]).await?;
    let outside = t.src("copied.csv");
    let copy = format!("COPY (SELECT * FROM t) TO '{}'", outside.to_string_lossy());
    let err = t.run_err(&["sql", &copy]).await;
    assert!(err.contains("COPY ... TO writes files"), "{err}");
    assert!(!outside.exists());
    let passwd = t.file("passwd", "root:x:0:0\n")?;
    let external = format!(
        "CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '{}'",
        passwd.to_string_lossy()
    );
    let err = t.run_err(&["sql", &external]).await;
    assert!(
        err.contains("CREATE EXTERNAL TABLE reads files") && err.contains("lakebook ingest"),
        "{err}"
    );
    let err = t.run_err(&["sql", "INSERT INTO t VALUES (1, 1)"]).await;
    assert!(
        err.contains("changes a dataset outside Lakebook's versioned writes"),
        "{err}"
    );
    let err = t
        .run_err(&["sql", &format!("EXPLAIN ANALYZE {copy}")])
        .await;
    assert!(err.contains("COPY ... TO writes files"), "{err}");
    assert!(!outside.exists());
    // Reading the lake, and views of the session, still work.
    assert_eq!(t.scalar("SELECT count(*) FROM t").await?, json!(5));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_that_would_change_values_is_refused() -> Result<()> {
    let t = TestLake::new()?;
    let ints = t.file("q.csv", "id,qty,at\n1,5,2024-01-02\n2,6,2024-01-03\n")?;
    t.ingest(&[&ints], &["--name", "q"]).await?;
    let before = t.snapshot()?;
    let fractional = t.file("q2.csv", "id,qty,at\n3,7,2024-01-04\n4,7.9,2024-01-05\n")?;
    let err = append_err(&t, &fractional, "q").await;
    assert!(
        err.contains(
            "q2.csv: data row 2, column 'qty': 7.9 would become 7 in the dataset's Int64 column"
        ),
        "{err}"
    );
    let timed = t.file("q3.csv", "id,qty,at\n5,8,2024-01-06T10:30:00\n")?;
    let err = append_err(&t, &timed, "q").await;
    assert!(
        err.contains("column 'at'") && err.contains("losing data"),
        "{err}"
    );
    assert_eq!(t.snapshot()?, before);
    // Whole numbers written as floats fit without loss.
    let whole = t.file("q4.csv", "id,qty,at\n6,9.0,2024-01-07\n")?;
    t.ingest(&[&whole], &["--name", "q", "--mode", "append"])
        .await?;
    assert_eq!(t.scalar("SELECT sum(qty) FROM q").await?, json!(20));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rm_moves_a_dataset_to_the_trash_restore_brings_it_back_and_gc_empties_it() -> Result<()> {
    let t = TestLake::new()?;
    let data = t.file("t.csv", tagged_csv(12, 1))?;
    t.ingest(&[&data], &["--name", "t"]).await?;
    let out = t.run(&["rm", "t"]).await?;
    assert!(
        out.starts_with("removed 't' (kept in .lakebook/trash/t.lance."),
        "{out}"
    );
    let err = t.run_err(&["sql", "SELECT count(*) FROM t"]).await;
    assert!(err.contains("not found"), "{err}");
    assert!(dataset_folders(&t.lake())?.is_empty());
    let out = t.run(&["restore", "t"]).await?;
    assert_eq!(out, "restored 't' (12 rows, version 1)\n");
    assert_eq!(t.scalar("SELECT count(*) FROM t").await?, json!(12));
    t.run(&["rm", "t"]).await?;
    let out = t.run(&["gc", "--min-age", "0"]).await?;
    assert!(
        out.contains(
            ": 1 removed dataset from the trash, 0 abandoned folders, 0 unreferenced data files"
        ),
        "{out}"
    );
    let err = t.run_err(&["restore", "t"]).await;
    assert!(err.contains("none by that name in the trash"), "{err}");
    // The name is free again.
    t.ingest(&[&data], &["--name", "t"]).await?;
    assert_eq!(t.scalar("SELECT count(*) FROM t").await?, json!(12));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mv_renames_a_dataset_in_place_and_refuses_taken_or_path_names() -> Result<()> {
    let t = TestLake::new()?;
    let data = t.file("t.csv", tagged_csv(12, 1))?;
    t.ingest(&[&data], &["--name", "t"]).await?;
    t.ingest(&[&data], &["--name", "u"]).await?;
    let folders = dataset_folders(&t.lake())?;
    assert_eq!(
        t.run(&["mv", "t", "tagged"]).await?,
        "renamed 't' to 'tagged'\n"
    );
    assert_eq!(t.scalar("SELECT count(*) FROM tagged").await?, json!(12));
    // Nothing moved on disk: the folder keeps its name.
    assert_eq!(dataset_folders(&t.lake())?, folders);
    let err = t.run_err(&["mv", "tagged", "u"]).await;
    assert!(err.contains("a dataset named 'u' already exists"), "{err}");
    let err = t.run_err(&["mv", "tagged", "../outside"]).await;
    assert!(err.contains("../outside"), "{err}");
    assert!(!t.lake().join("../outside").exists());
    assert_eq!(t.scalar("SELECT count(*) FROM tagged").await?, json!(12));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_reclaims_what_killed_writers_left_and_nothing_else() -> Result<()> {
    let t = TestLake::new()?;
    let data = t.file("t.csv", tagged_csv(50, 1))?;
    t.ingest(&[&data], &["--name", "t"]).await?;
    let more = t.file("more.csv", tagged_csv(5, 1))?;
    t.ingest(&[&more], &["--name", "t", "--mode", "append"])
        .await?;
    // What a writer killed while staging leaves: a reserved folder with data
    // but no version, and a data file no version references.
    let abandoned = t.lake().join("big-2.lance");
    std::fs::create_dir_all(abandoned.join("data"))?;
    std::fs::write(abandoned.join("data").join("x.lance"), vec![0u8; 4096])?;
    let dir = catalog(&t)?["datasets"]["t"]["dir"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let orphan: PathBuf = t.lake().join(&dir).join("data").join("orphan.lance");
    std::fs::write(&orphan, vec![0u8; 2048])?;
    // Too recent: another program may be writing them.
    let out = t.run(&["gc"]).await?;
    assert!(
        out.contains("0 abandoned folders, 0 unreferenced data files"),
        "{out}"
    );
    assert!(abandoned.exists() && orphan.exists());
    let out = t.run(&["gc", "--min-age", "0"]).await?;
    assert!(
        out.starts_with("freed 0.0 MB: 0 removed datasets from the trash, 1 abandoned folder, 1 unreferenced data file"),
        "{out}"
    );
    assert!(!abandoned.exists() && !orphan.exists());
    // Every version still reads in full.
    assert_eq!(t.scalar("SELECT count(*) FROM \"t@1\"").await?, json!(50));
    assert_eq!(t.scalar("SELECT count(*) FROM t").await?, json!(55));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_build_killed_between_its_datasets_can_be_rebuilt() -> Result<()> {
    let t = TestLake::new()?;
    let edges = t.file("links.csv", "src,dst\na,b\nb,c\nc,a\nd,e\n")?;
    t.ingest(&[&edges], &[]).await?;
    let build = [
        "graph", "g", "--edges", "links", "--source", "src", "--target", "dst",
    ];
    t.run(&build).await?;
    // The state a kill after the datasets but before the record leaves:
    // the datasets, the build's claim, no record.
    let graphs = t.lake().join(".lakebook").join("graphs");
    std::fs::remove_file(graphs.join("g.json"))?;
    std::fs::write(
        graphs.join("g.building"),
        r#"{"g_edges": "", "g_nodes": ""}"#,
    )?;
    let out = t.run(&build).await?;
    assert!(out.contains("5 nodes, 4 edges"), "{out}");
    assert!(!graphs.join("g.building").exists());
    assert_eq!(t.scalar("SELECT count(*) FROM g_nodes").await?, json!(5));
    // A dataset of the user's that merely has the name is still protected.
    let own = t.file("h_edges.csv", "a\n1\n")?;
    t.ingest(&[&own], &[]).await?;
    let err = t
        .run_err(&[
            "graph", "h", "--edges", "links", "--source", "src", "--target", "dst",
        ])
        .await;
    assert!(
        err.contains("'h_edges' already exists and is not part of a graph"),
        "{err}"
    );
    Ok(())
}

/// Not a test of its own: the kill tests run this test binary again as a
/// child process that runs one `lakebook` command (from the environment),
/// so that the child can be killed at any moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of the kill tests"]
async fn child_cli() -> Result<()> {
    let Ok(args) = std::env::var("LAKEBOOK_CHILD_ARGS") else {
        return Ok(());
    };
    let args: Vec<String> = serde_json::from_str(&args)?;
    lakebook::cli::run_to_string(args).await?;
    Ok(())
}

/// Starts `lakebook ARGS...` in a child process.
fn spawn_child(args: &[String]) -> Result<std::process::Child> {
    Ok(std::process::Command::new(std::env::current_exe()?)
        .args([
            "--ignored",
            "--exact",
            "safety::child_cli",
            "--test-threads=1",
        ])
        .env("LAKEBOOK_CHILD_ARGS", serde_json::to_string(args)?)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?)
}

/// Every dataset the catalog lists reads in full: its rows as recorded,
/// once the lake has been opened (which repairs what killed writers left).
async fn every_dataset_reads_in_full(t: &TestLake) -> Result<usize> {
    t.run(&["ls"]).await?;
    let cat = catalog(t)?;
    let datasets = cat["datasets"].as_object().context("datasets")?;
    for (name, entry) in datasets {
        let n = t
            .scalar(&format!("SELECT count(*) FROM \"{name}\""))
            .await
            .with_context(|| format!("reading {name}"))?;
        assert_eq!(n, entry["rows"], "{name}: the catalog's rows are all there");
    }
    Ok(datasets.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_writers_never_break_the_lake_and_a_rerun_completes() -> Result<()> {
    let t = TestLake::new()?;
    let base = t.file("base.csv", tagged_csv(1000, 1))?;
    t.ingest(&[&base], &["--name", "t"]).await?;
    for n in 0..12 {
        t.file(&format!("batch/part{n:02}.csv"), tagged_csv(20_000, n))?;
    }
    let lake = t.lake().to_string_lossy().into_owned();
    let batch = t.src("batch").to_string_lossy().into_owned();
    let create: Vec<String> = ["--lake", &lake, "ingest", &batch]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let append: Vec<String> = [
        "--lake",
        &lake,
        "ingest",
        &base.to_string_lossy(),
        "--name",
        "t",
        "--mode",
        "append",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Kill moments spread over a run, the same every time.
    let mut moment = 0x9e37_79b9_u64;
    let mut appended = 0;
    for kill in 0..10 {
        moment = moment
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let delay = std::time::Duration::from_millis(50 + (moment >> 33) % 2500);
        let args = if kill % 3 == 2 { &append } else { &create };
        let mut child = spawn_child(args)?;
        tokio::time::sleep(delay).await;
        let finished = child.try_wait()?.is_some();
        child.kill()?;
        child.wait()?;
        if args == &append && finished {
            appended += 1;
        }
        every_dataset_reads_in_full(&t).await?;
    }
    // What the kills left staged is reclaimed; every version still reads.
    t.run(&["gc", "--min-age", "0"]).await?;
    let left = t.run(&["gc", "--min-age", "0"]).await?;
    assert!(
        left.starts_with("freed 0.0 MB: 0 removed datasets from the trash, 0 abandoned folders, 0 unreferenced data files"),
        "{left}"
    );
    every_dataset_reads_in_full(&t).await?;
    // Re-running the ingest finishes it: the parts already in are skipped.
    t.run(&["ingest", &batch]).await?;
    assert_eq!(every_dataset_reads_in_full(&t).await?, 13);
    for n in 0..12 {
        let sum = t.scalar(&format!("SELECT sum(v) FROM part{n:02}")).await?;
        assert_eq!(sum, json!(20_000 * n), "part{n:02}");
    }
    let rows = t.scalar("SELECT count(*) FROM t").await?;
    assert!(
        rows.as_i64()
            .is_some_and(|r| r >= 1000 * (1 + appended) && r % 1000 == 0),
        "t holds whole appends only: {rows}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_join_keeps_its_meaning_with_a_line_break_in_a_column_name() -> Result<()> {
    use lakebook_core::matching::{Matcher, match_datasets, to_sql};
    let t = TestLake::new()?;
    let mut left = String::from("id,\"note\nSELECT 1 --\"\n");
    let mut right = String::from("id,\"note\nSELECT 1 --\"\n");
    for i in 0..500 {
        left.push_str(&format!("{i},a{i}\n"));
        right.push_str(&format!("{i},b{i}\n"));
    }
    let l = t.file("l.csv", left)?;
    let r = t.file("r.csv", right)?;
    t.ingest(&[&l, &r], &[]).await?;
    let lake = lakebook_core::Lake::open(&t.lake()).await?;
    let report = match_datasets(&lake, "l", "r", Matcher::Name, None, &Default::default()).await?;
    let odd = "note\nSELECT 1 --".to_string();
    let pairs = vec![("id".to_string(), "id".to_string()), (odd.clone(), odd)];
    let sql = to_sql::join_sql(&report, &pairs).context("a join")?;
    let joined = t.sql(&sql).await?;
    assert_eq!(joined.len(), 500, "{sql}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_bad_rows_counts_every_row_lost() -> Result<()> {
    let t = TestLake::new()?;
    let mut text = String::from("id,v,w\n1,a,x\n2,b,y\n3,c,z\n4,\"oops,q\n");
    for i in 5..55 {
        text.push_str(&format!("{i},ok,fine\n"));
    }
    let file = t.file("quote.csv", text)?;
    let out = t.ingest(&[&file], &["--on-error", "skip"]).await?;
    assert!(out.contains("  skipped 51 bad rows\n"), "{out}");
    assert!(
        out.contains("skipped lines 5 to 55: a quoted field runs over 51 lines"),
        "{out}"
    );
    assert_eq!(t.scalar("SELECT count(*) FROM quote").await?, json!(3));
    // A number too long for any integer is a float, not a crash.
    let long = t.file("long.csv", "id,big\n1,123456789012345678901234\n2,5\n")?;
    t.ingest(&[&long], &["--on-error", "skip"]).await?;
    assert_eq!(t.scalar("SELECT count(*) FROM long").await?, json!(2));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_writers_of_every_kind_share_one_lake() -> Result<()> {
    for round in 0..3 {
        let t = TestLake::new()?;
        let base = t.file("t.csv", tagged_csv(100, 1))?;
        let links = t.file("links.csv", "src,dst\na,b\nb,c\nc,a\nd,e\n")?;
        let notes = t.file(
            "notes.csv",
            "id,text\n1,comets shine near the sun\n2,the moon pulls the tides\n",
        )?;
        t.ingest(&[&base, &links, &notes], &[]).await?;
        let more = t.file("more.csv", tagged_csv(10, 1))?;
        let fresh = t.file("fresh.csv", tagged_csv(7, 1))?;
        let cell_file = t.file("by_notebook.csv", tagged_csv(3, 1))?;
        let notebook = t.src("nb.lakebook");
        std::fs::write(
            &notebook,
            format!(
                "format = 1\nlake = \"{}\"\n\n[[cells]]\nid = \"load\"\nkind = \"ingest\"\npaths = [\"{}\"]\n\n[[cells]]\nid = \"count\"\nkind = \"sql\"\nsql = \"SELECT count(*) FROM t\"\n",
                t.lake().to_string_lossy(),
                cell_file.to_string_lossy()
            ),
        )?;
        let (more, fresh) = (more.to_string_lossy(), fresh.to_string_lossy());
        let nb = notebook.to_string_lossy();
        let lake = t.lake();
        let writers = vec![
            spawn_cli(&lake, &["ingest", &more, "--name", "t", "--mode", "append"]),
            spawn_cli(&lake, &["ingest", &more, "--name", "t", "--mode", "append"]),
            spawn_cli(&lake, &["ingest", &fresh, "--name", "fresh one"]),
            spawn_cli(&lake, &["ingest", &fresh, "--name", "fresh two"]),
            spawn_cli(&lake, &["embed", "notes"]),
            spawn_cli(
                &lake,
                &[
                    "graph", "g", "--edges", "links", "--source", "src", "--target", "dst",
                ],
            ),
            spawn_cli(&lake, &["run", &nb]),
            spawn_cli(&lake, &["rm", "links"]),
        ];
        for (n, w) in writers.into_iter().enumerate() {
            let outcome = w.await?;
            // The graph may read `links` before or after it is removed.
            if n == 5 && outcome.is_err() {
                continue;
            }
            outcome.with_context(|| format!("round {round}, writer {n}"))?;
        }
        let cat = catalog(&t)?;
        let names: BTreeSet<&str> = cat["datasets"]
            .as_object()
            .context("datasets")?
            .keys()
            .map(String::as_str)
            .collect();
        for name in ["t", "notes", "fresh one", "fresh two", "by_notebook"] {
            assert!(names.contains(name), "round {round}: {name} in {names:?}");
        }
        assert!(!names.contains("links"), "round {round}: removed");
        assert_eq!(cat["datasets"]["t"]["rows"], json!(120), "round {round}");
        assert_eq!(
            cat["datasets"]["notes"]["embedding"]["rows_with_vector"],
            json!(2),
            "round {round}"
        );
        every_dataset_reads_in_full(&t).await?;
    }
    Ok(())
}
