//! A cell kind added from outside the engine (as a plugin will) runs, is
//! saved with its notebook and its output, reopens, and is shown by the CLI
//! and the window with no edits anywhere else.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use async_trait::async_trait;
use lakebook::cli::Format;
use lakebook::cli::output::print_cell_output;
use lakebook::gui::Command;
use lakebook_core::Job;
use lakebook_core::notebook::kind::{run_of, table};
use lakebook_core::notebook::{
    Cell, CellError, CellKind, CellOutput, CellRun, Notebook, RunContext, Runner, saved,
};

use crate::gui::{open_app_with, shows, step_until};
use crate::support::TestLake;

/// Rows and version of one dataset: a heading, a table and a note.
struct RowCountCell;

#[async_trait]
impl CellKind for RowCountCell {
    fn name(&self) -> &'static str {
        "row_count"
    }
    fn label(&self) -> &'static str {
        "Row count"
    }
    fn default_params(&self) -> toml::Table {
        table(&[("dataset", "".into())])
    }
    async fn run(&self, cell: &Cell, ctx: &RunContext<'_>, _: &Job) -> Result<CellRun, CellError> {
        let name = cell.text("dataset");
        let lake = ctx.lake.read().await;
        let entry = lake.entry(name).map_err(CellError::new)?;
        let schema = Arc::new(Schema::new(vec![
            Field::new("dataset", DataType::Utf8, false),
            Field::new("rows", DataType::UInt64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![name])),
                Arc::new(UInt64Array::from(vec![entry.rows])),
            ],
        )
        .map_err(CellError::new)?;
        let mut run = run_of(CellOutput::Parts(vec![
            CellOutput::Markdown(format!("## Rows of {name}")),
            CellOutput::Table {
                schema,
                batches: vec![batch],
                complete: true,
            },
            CellOutput::Text(format!("counted at version {}", entry.version)),
        ]));
        run.read.insert(name.to_string(), entry.version);
        Ok(run)
    }
}

async fn printed(run: &CellRun) -> Result<String> {
    let mut out = Vec::new();
    print_cell_output(&mut out, run, Format::Table, 20).await?;
    Ok(String::from_utf8(out)?)
}

#[test]
fn a_cell_kind_registered_from_outside_runs_saves_reopens_and_renders() -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let t = TestLake::new()?;
    let csv = t.file("orders.csv", "id,total\n1,9.5\n2,3.25\n3,7\n")?;
    rt.block_on(t.ingest(&[&csv], &[]))?;

    let path = t.src("counts.lakebook");
    let mut notebook = Notebook::default();
    let mut params = RowCountCell.default_params();
    params.insert("dataset".into(), "orders".into());
    notebook.push("row_count", params);
    notebook.save(&path)?;
    let reopened = Notebook::load(&path)?;
    assert_eq!(reopened, notebook, "the notebook file keeps the new kind");
    let cell = reopened.cells[0].clone();

    let base = t.src("");
    let mut runner = rt
        .block_on(Runner::open(&t.lake(), &base, None))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    runner.registry_mut().register(Arc::new(RowCountCell));
    assert!(runner.registry().names().contains(&"row_count"));
    let run = rt
        .block_on(runner.run(&cell, &BTreeMap::new(), &Job::new()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(run.read, BTreeMap::from([("orders".to_string(), 1)]));
    let expected = "## Rows of orders\n\
                    +---------+------+\n\
                    | dataset | rows |\n\
                    +---------+------+\n\
                    | orders  | 3    |\n\
                    +---------+------+\n\
                    (1 rows)\n\
                    counted at version 1\n";
    assert_eq!(rt.block_on(printed(&run))?, expected);

    // Saved beside the notebook and read back without running: the same parts.
    let dir = saved::outputs_dir(&path);
    saved::save(&dir, &cell.id, Ok(&run))?;
    let cached = saved::load(&dir, &cell.id)?
        .context("a cached output")?
        .map_err(anyhow::Error::msg)?;
    assert_eq!(cached.read, run.read);
    assert_eq!(rt.block_on(printed(&cached))?, expected);
    let kinds = |r: &CellRun| -> Vec<&'static str> {
        r.output
            .parts()
            .iter()
            .map(|p| match p {
                CellOutput::Markdown(_) => "markdown",
                CellOutput::Table { .. } => "table",
                CellOutput::Text(_) => "text",
                _ => "other",
            })
            .collect()
    };
    assert_eq!(kinds(&cached), ["markdown", "table", "text"]);

    // The window shows the cached output on opening, and runs the cell again.
    std::fs::remove_dir_all(&dir)?;
    let mut h = open_app_with(&rt, runner, &path)?;
    h.state_mut().send(Command::Run(cell.id.clone()));
    step_until(&mut h, "the cell's output", |h| {
        shows(h, "Rows of orders") && shows(h, "counted at version 1")
    })?;
    assert!(shows(&h, "dataset"), "the table's header is shown");
    Ok(())
}
