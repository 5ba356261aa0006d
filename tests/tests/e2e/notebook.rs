//! Notebooks run headless: `lakebook run`, cached outputs, pinned re-runs.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use lakebook_core::Job;
use lakebook_core::notebook::kind::table;
use lakebook_core::notebook::{Cell, CellOutput, Notebook, Runner, saved};

use crate::support::{TestLake, demo_assets};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_notebook_runs_headless_on_the_demo_lake() -> Result<()> {
    let t = TestLake::new()?;
    let out = t.run(&["demo"]).await?;
    assert!(out.contains("documents: embedded"), "{out}");
    let notebook = t.src("demo.lakebook");
    std::fs::copy(demo_assets().join("demo.lakebook"), &notebook)?;
    let out = t
        .run(&["run", &notebook.to_string_lossy(), "--no-save"])
        .await?;
    assert!(out.contains("# A tour of the demo lake"), "{out}");
    assert!(out.contains("| Lisbon"), "{out}");
    assert!(
        out.contains("Ridgeline 1P Tent") && out.contains("| 98 "),
        "{out}"
    );
    assert!(out.contains("comets-and-their-tails"), "{out}");
    assert!(out.contains("sourdough-bread.txt"), "{out}");
    assert!(
        !saved::outputs_dir(&notebook).exists(),
        "--no-save writes nothing"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_cell_is_reported_and_outputs_and_versions_are_kept() -> Result<()> {
    let t = TestLake::new()?;
    let csv = t.file("sales.csv", "region,amount\nnorth,10\nsouth,32\n")?;
    t.ingest(&[&csv], &[]).await?;
    let notebook = t.src("sales.lakebook");
    let lake = t.lake().to_string_lossy().into_owned();
    std::fs::write(
        &notebook,
        format!(
            r#"format = 1
title = "Sales"
lake = "{lake}"
owner = "kept from a newer version"

[[cells]]
id = "total"
kind = "sql"
sql = "SELECT sum(amount) AS total FROM sales"

[[cells]]
id = "typo"
kind = "sql"
sql = "SELECT amount FROM salez"

[[cells]]
id = "note"
kind = "markdown"
text = "Done."
"#
        ),
    )?;
    let err = t.run_err(&["run", &notebook.to_string_lossy()]).await;
    assert!(err.contains("1 of 3 cells failed"), "{err}");

    // The notebook now records the version each cell read; unknown fields survive.
    let saved = Notebook::load(&notebook)?;
    assert_eq!(saved.cells[0].read.get("sales"), Some(&1));
    assert!(std::fs::read_to_string(&notebook)?.contains("owner = \"kept from a newer version\""));

    // Outputs are cached beside it: reopened without running anything.
    let dir = saved::outputs_dir(&notebook);
    let total = saved::load(&dir, "total")?.context("cached output")?;
    let run = total.map_err(anyhow::Error::msg)?;
    let CellOutput::Table { batches, .. } = &run.output else {
        anyhow::bail!("expected a table, got {:?}", run.output);
    };
    let text = arrow::util::pretty::pretty_format_batches(batches)?.to_string();
    assert_eq!(
        text, "+-------+\n| total |\n+-------+\n| 42    |\n+-------+",
        "the cached sum is exactly 10 + 32"
    );
    let typo = saved::load(&dir, "typo")?.context("cached error")?;
    let message = typo.err().context("the typo cell failed")?;
    assert!(message.message.contains("salez"), "{message}");

    // Append, then: a plain re-run sees the new rows, a pinned re-run the recorded version.
    let more = t.file("more.csv", "region,amount\neast,58\n")?;
    t.ingest(&[&more], &["--name", "sales", "--mode", "append"])
        .await?;
    let mut fixed = Notebook::load(&notebook)?;
    fixed.cells.retain(|c| c.id != "typo");
    fixed.save(&notebook)?;
    let path = notebook.to_string_lossy().into_owned();
    let pinned = t.run(&["run", &path, "--pinned", "--no-save"]).await?;
    assert!(pinned.contains("| 42 "), "{pinned}");
    let latest = t.run(&["run", &path, "--no-save"]).await?;
    assert!(latest.contains("| 100 "), "{latest}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_result_comes_a_page_at_a_time() -> Result<()> {
    use arrow::array::{AsArray, RecordBatch};
    use arrow::datatypes::Int64Type;
    use lakebook_core::Job;
    use lakebook_core::notebook::pager::PAGE_ROWS;
    use lakebook_core::notebook::{Cell, Runner};

    const ROWS: usize = 250_000;
    let t = TestLake::new()?;
    let mut csv = String::from("n,label\n");
    for n in 0..ROWS {
        csv.push_str(&format!("{n},row {n}\n"));
    }
    let file = t.file("numbers.csv", csv)?;
    t.ingest(&[&file], &[]).await?;
    let runner = Runner::open(&t.lake(), &t.lake(), None).await?;
    let mut params = toml::Table::new();
    params.insert(
        "sql".into(),
        "SELECT n, label FROM numbers ORDER BY n".into(),
    );
    let cell = Cell::new("sql", params, &[]);
    let run = runner
        .run(&cell, &Default::default(), &Job::new())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    // The cell keeps one page; the rest waits in the pager.
    let CellOutput::Table {
        batches, complete, ..
    } = &run.output
    else {
        anyhow::bail!("not a table: {:?}", run.output);
    };
    assert!(!complete);
    let first: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert!(
        (PAGE_ROWS..ROWS).contains(&first),
        "first page: {first} rows"
    );
    let pager = run.more.clone().context("a pager for the rest")?;
    let mut all = batches.clone();
    loop {
        let page = pager
            .next_page(PAGE_ROWS)
            .await
            .map_err(anyhow::Error::msg)?;
        all.extend(page.batches);
        if page.done {
            break;
        }
    }
    let values: Vec<i64> = all
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
        .collect();
    assert_eq!(values.len(), ROWS);
    assert!(values.iter().enumerate().all(|(i, v)| *v == i as i64));
    assert!(
        pager
            .next_page(PAGE_ROWS)
            .await
            .map_err(anyhow::Error::msg)?
            .done
    );

    // The cached output says it holds the first page only.
    let dir = t.src("out");
    saved::save(&dir, &cell.id, Ok(&run))?;
    let cached = saved::load(&dir, &cell.id)?.context("cached")?;
    let cached = cached.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert!(matches!(
        cached.output,
        CellOutput::Table {
            complete: false,
            ..
        }
    ));
    assert!(cached.more.is_none());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_cell_is_cancelled_not_failed_and_stays_so_when_cached() -> Result<()> {
    let t = TestLake::new()?;
    t.run(&["init"]).await?;
    let runner = Runner::open(&t.lake(), &t.src(""), None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let slow = Cell::new(
        "sql",
        table(&[("sql", "SELECT count(*) FROM range(1, 20000000000) a".into())]),
        &[],
    );
    let job = Job::new();
    let cancel = job.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let Err(stopped) = runner.run(&slow, &BTreeMap::new(), &job).await else {
        anyhow::bail!("a 20-billion-row count finished before the cancel");
    };
    assert_eq!(
        (stopped.message.as_str(), stopped.cancelled),
        ("cancelled", true)
    );

    let typo = Cell::new(
        "sql",
        table(&[("sql", "SELECT nope".into())]),
        &[slow.id.as_str()],
    );
    let Err(failed) = runner.run(&typo, &BTreeMap::new(), &Job::new()).await else {
        anyhow::bail!("a query of an unknown column ran");
    };
    assert!(!failed.cancelled, "a failure is not a cancel");

    // The cache keeps the difference.
    let dir = t.src("cells.lakebook.out");
    saved::save(&dir, &slow.id, Err(&stopped))?;
    saved::save(&dir, &typo.id, Err(&failed))?;
    let back = |id: &str| -> Result<bool> {
        let cached = saved::load(&dir, id)?.context("cached")?;
        Ok(cached.err().context("an error")?.cancelled)
    };
    assert_eq!((back(&slow.id)?, back(&typo.id)?), (true, false));
    Ok(())
}
