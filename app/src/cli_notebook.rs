//! `lakebook run NOTEBOOK`: a notebook run headless, cell by cell, through the
//! same [`Runner`] the GUI uses.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use lakebook_core::Job;
use lakebook_core::matching::{MatchOutput, text};
use lakebook_core::notebook::{CellOutput, CellRun, Notebook, Runner, outputs};
use lakebook_core::render::render_batches;

use crate::cli::Format;

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The notebook file (.lakebook).
    pub notebook: PathBuf,
    /// Read each dataset at the version the notebook recorded for it (a reproducible re-run).
    #[arg(long)]
    pub pinned: bool,
    /// Do not write outputs or the versions read back beside/into the notebook.
    #[arg(long)]
    pub no_save: bool,
    /// Rows shown per table result (0 shows all).
    #[arg(long, default_value_t = 20)]
    pub max_rows: usize,
    /// Output format of results.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Model folder (default: LAKEBOOK_MODEL, Lakebook's data dir, the Hugging Face cache).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// Runs every cell in order, printing each output; failed cells are reported and the rest still run.
pub async fn run_notebook(
    lake_arg: &Path,
    args: RunArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let mut notebook = Notebook::load(&args.notebook)?;
    let lake_dir = notebook
        .lake_dir(&args.notebook)
        .unwrap_or_else(|| lake_arg.to_path_buf());
    let base = args
        .notebook
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let runner = Runner::open(&lake_dir, &base, args.model.as_deref()).await?;
    let outputs_dir = outputs::outputs_dir(&args.notebook);
    let mut failed = 0;
    if !notebook.title.is_empty() {
        writeln!(out, "# {}", notebook.title)?;
    }
    for cell in notebook.cells.iter_mut() {
        if job.is_cancelled() {
            bail!("cancelled");
        }
        let pins = if args.pinned {
            cell.read.clone()
        } else {
            BTreeMap::new()
        };
        let result = runner.run(cell, &pins, job).await;
        match &result {
            Ok(run) => {
                writeln!(
                    out,
                    "\n[{}] {} ({:.0} ms)",
                    cell.id,
                    cell.kind,
                    run.elapsed.as_secs_f64() * 1e3
                )?;
                print_output(out, run, &args).await?;
                cell.read = run.read.clone();
            }
            Err(e) => {
                failed += 1;
                writeln!(out, "\n[{}] {} failed", cell.id, cell.kind)?;
                writeln!(out, "error: {e}")?;
            }
        }
        if !args.no_save {
            outputs::save(
                &outputs_dir,
                &cell.id,
                result.as_ref().map_err(|e| e.message.as_str()),
            )?;
        }
    }
    if !args.no_save {
        notebook.save(&args.notebook)?;
    }
    if failed > 0 {
        bail!(
            "{failed} of {} cells failed (outputs above)",
            notebook.cells.len()
        );
    }
    Ok(())
}

async fn print_output(out: &mut (dyn Write + Send), run: &CellRun, args: &RunArgs) -> Result<()> {
    match &run.output {
        CellOutput::Markdown(text) | CellOutput::Text(text) => {
            writeln!(out, "{}", text.trim_end())?;
        }
        CellOutput::Table {
            schema, batches, ..
        } => {
            let first: usize = batches.iter().map(|b| b.num_rows()).sum();
            let mut all = batches.clone();
            let mut total = first;
            // A table shows its first rows and counts the rest page by page
            // (memory stays bounded); csv and json print every row.
            if let Some(more) = &run.more {
                if args.format == Format::Table && args.max_rows > 0 && first > args.max_rows {
                    total += more.count_rest().await.map_err(anyhow::Error::msg)?;
                } else {
                    all.extend(more.rest().await.map_err(anyhow::Error::msg)?);
                    total = all.iter().map(|b| b.num_rows()).sum();
                }
            }
            let shown =
                if args.format == Format::Table && args.max_rows > 0 && total > args.max_rows {
                    let joined = arrow::compute::concat_batches(schema, &all)?;
                    vec![joined.slice(0, args.max_rows.min(joined.num_rows()))]
                } else {
                    all
                };
            let text = render_batches(schema, &shown, args.format.into())?;
            writeln!(out, "{}", text.trim_end())?;
            if args.format == Format::Table {
                writeln!(out, "({total} rows)")?;
            }
        }
        CellOutput::Search(groups) => {
            crate::cli_search::print_hits(out, groups, args.format, true)?;
        }
        CellOutput::Match(m) => {
            let text = match m.as_ref() {
                MatchOutput::Pairs(report) => text::report_text(report, 20),
                MatchOutput::Related { table, related } => text::related_text(table, related),
            };
            writeln!(out, "{}", text.trim_end())?;
        }
        CellOutput::Cluster(c) => crate::cli_cluster::write_report(c, out)?,
        CellOutput::Graph(g) => {
            writeln!(out, "{}", g.summary().trim_end())?;
            if let Some(table) = g.table() {
                let table = table?;
                let shown = if args.format == Format::Table {
                    table.slice(0, table.num_rows().min(20))
                } else {
                    table.clone()
                };
                let text = render_batches(&table.schema(), &[shown], args.format.into())?;
                writeln!(out, "{}", text.trim_end())?;
                if args.format == Format::Table {
                    writeln!(out, "({} rows)", table.num_rows())?;
                }
            }
        }
    }
    Ok(())
}
