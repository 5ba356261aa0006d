//! `lakebook run NOTEBOOK`: a notebook run headless, cell by cell, through the
//! same [`Runner`] the GUI uses.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use lakebook_core::Job;
use lakebook_core::notebook::{Notebook, Runner, saved};

use super::output::{Format, print_cell_output};

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
    let outputs_dir = saved::outputs_dir(&args.notebook);
    let mut failed = 0;
    let mut cancelled = false;
    if !notebook.title.is_empty() {
        writeln!(out, "# {}", notebook.title)?;
    }
    let count = notebook.cells.len();
    for (at, cell) in notebook.cells.iter_mut().enumerate() {
        if job.is_cancelled() {
            bail!("cancelled");
        }
        // The bar names the cell; the cell's own work fills it in.
        job.begin_stage(
            format!("cell {} of {count}: {} ({})", at + 1, cell.id, cell.kind),
            0,
            "steps",
        );
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
                print_cell_output(out, run, args.format, args.max_rows).await?;
                cell.read = run.read.clone();
            }
            Err(e) if e.cancelled => {
                writeln!(out, "\n[{}] {} cancelled", cell.id, cell.kind)?;
            }
            Err(e) => {
                failed += 1;
                writeln!(out, "\n[{}] {} failed", cell.id, cell.kind)?;
                writeln!(out, "error: {e}")?;
            }
        }
        if !args.no_save {
            saved::save(&outputs_dir, &cell.id, result.as_ref())?;
        }
        if result.as_ref().is_err_and(|e| e.cancelled) {
            cancelled = true;
            break;
        }
    }
    if !args.no_save {
        notebook.save(&args.notebook)?;
    }
    if cancelled {
        bail!("cancelled: the cells after the cancelled one did not run");
    }
    if failed > 0 {
        bail!(
            "{failed} of {} cells failed (outputs above)",
            notebook.cells.len()
        );
    }
    Ok(())
}
