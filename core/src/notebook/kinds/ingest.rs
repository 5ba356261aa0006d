//! Ingest cells: files and folders into the lake, as `lakebook ingest` does.

use async_trait::async_trait;

use crate::ingest::{self, IngestOptions, WriteMode};
use crate::job::Job;
use crate::notebook::file::Cell;
use crate::notebook::kind::{CellKind, run_of, table};
use crate::notebook::output::{CellError, CellOutput, CellRun};
use crate::notebook::run::RunContext;

/// Files and folders into the lake.
pub struct IngestCell;

#[async_trait]
impl CellKind for IngestCell {
    fn name(&self) -> &'static str {
        "ingest"
    }
    fn label(&self) -> &'static str {
        "Ingest files"
    }
    fn default_params(&self) -> toml::Table {
        table(&[
            ("paths", toml::Value::Array(Vec::new())),
            ("mode", "create".into()),
        ])
    }
    async fn run(
        &self,
        cell: &Cell,
        ctx: &RunContext<'_>,
        job: &Job,
    ) -> Result<CellRun, CellError> {
        let paths: Vec<std::path::PathBuf> = cell
            .params
            .get("paths")
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(toml::Value::as_str)
                    .map(|p| ctx.resolve(p))
                    .collect()
            })
            .unwrap_or_default();
        if paths.is_empty() {
            return Err(CellError::new(
                "no files chosen: add files or folders to ingest",
            ));
        }
        let mode = match cell.text("mode") {
            "" | "create" => WriteMode::Create,
            "append" => WriteMode::Append,
            "overwrite" => WriteMode::Overwrite,
            other => {
                return Err(CellError::new(format!(
                    "unknown mode '{other}' (create, append or overwrite)"
                )));
            }
        };
        let name = Some(cell.text("name").trim().to_string()).filter(|n| !n.is_empty());
        let options = IngestOptions {
            name,
            mode,
            ..IngestOptions::default()
        };
        // The shared handle catches up after, or at the next run.
        let mut lake = ctx.lake_copy().await;
        let report = ingest::ingest(&mut lake, &paths, &options, job)
            .await
            .map_err(CellError::new)?;
        if let Ok(mut shared) = ctx.lake.try_write() {
            *shared = lake;
        }
        let mut text = String::new();
        for d in &report.datasets {
            text.push_str(&format!(
                "{}: +{} rows ({}, version {}, {} rows in all)\n",
                d.name, d.rows_added, d.kind, d.version, d.rows_total
            ));
            for f in &d.failed {
                text.push_str(&format!("  failed: {}: {}\n", f.path, f.reason));
            }
        }
        for f in &report.failed_tables {
            text.push_str(&format!("left out: {}\n", f.reason));
        }
        let mut run = run_of(CellOutput::Text(text));
        run.changed = report.datasets.iter().map(|d| d.name.clone()).collect();
        Ok(run)
    }
}
