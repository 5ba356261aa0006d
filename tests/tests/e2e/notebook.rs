//! Notebooks run headless: `lakebook run`, cached outputs, pinned re-runs.

use anyhow::{Context, Result};
use lakebook_core::notebook::{CellOutput, Notebook, outputs};

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
        !outputs::outputs_dir(&notebook).exists(),
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
    let dir = outputs::outputs_dir(&notebook);
    let total = outputs::load(&dir, "total")?.context("cached output")?;
    let run = total.map_err(anyhow::Error::msg)?;
    let CellOutput::Table { batches, .. } = &run.output else {
        anyhow::bail!("expected a table, got {:?}", run.output);
    };
    let text = arrow::util::pretty::pretty_format_batches(batches)?.to_string();
    assert!(text.contains("42"), "{text}");
    let typo = outputs::load(&dir, "typo")?.context("cached error")?;
    let message = typo.err().context("the typo cell failed")?;
    assert!(message.contains("salez"), "{message}");

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
