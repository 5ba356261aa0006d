//! `rm`, `restore` and `gc`: removing datasets safely and reclaiming space.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use lakebook_core::Lake;
use lakebook_core::lake::gc::{GcOptions, collect_garbage};

/// Arguments of `rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// The datasets to remove.
    #[arg(required = true)]
    pub names: Vec<String>,
}

/// Arguments of `restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The dataset to bring back (the most recently removed one of that name).
    pub name: String,
}

/// Arguments of `gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// Leave folders and files changed in the last SECONDS alone (another
    /// program may be writing them).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub min_age: u64,
    /// Keep the trash (removed datasets stay restorable).
    #[arg(long)]
    pub keep_trash: bool,
}

/// Removes datasets into the trash.
pub async fn rm(lake_dir: &Path, args: &RmArgs, out: &mut (dyn Write + Send)) -> Result<()> {
    let mut lake = Lake::open(lake_dir).await?;
    for name in &args.names {
        let trashed = lake.remove_dataset(name).await?;
        writeln!(
            out,
            "removed '{name}' (kept in {trashed} until `lakebook gc`; `lakebook restore {name}` brings it back)"
        )?;
    }
    Ok(())
}

/// Brings a dataset back from the trash.
pub async fn restore(
    lake_dir: &Path,
    args: &RestoreArgs,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let mut lake = Lake::open(lake_dir).await?;
    lake.restore_dataset(&args.name).await?;
    let entry = lake.entry(&args.name)?;
    writeln!(
        out,
        "restored '{}' ({} rows, version {})",
        args.name, entry.rows, entry.version
    )?;
    Ok(())
}

/// Reclaims leftovers and prints what was freed.
pub async fn gc(lake_dir: &Path, args: &GcArgs, out: &mut (dyn Write + Send)) -> Result<()> {
    let lake = Lake::open(lake_dir).await?;
    let options = GcOptions {
        min_age: Duration::from_secs(args.min_age),
        empty_trash: !args.keep_trash,
    };
    let report = collect_garbage(&lake, &options).await?;
    writeln!(
        out,
        "freed {:.1} MB: {} removed dataset{} from the trash, {} abandoned folder{}, {} unreferenced data file{}",
        report.bytes_freed as f64 / 1e6,
        report.trash.len(),
        plural(report.trash.len()),
        report.abandoned.len(),
        plural(report.abandoned.len()),
        report.orphan_files.len(),
        plural(report.orphan_files.len()),
    )?;
    for left in &report.left {
        writeln!(out, "  left alone: {left}")?;
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
