//! The lake itself: `init`, `ls`, `schema`, `versions`, and `rm`, `restore`
//! and `gc` (removing datasets safely and reclaiming space).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use arrow::array::{ArrayRef, BooleanArray, StringArray, UInt64Array};
use arrow::datatypes::Schema;
use clap::Args;
use lakebook_core::Lake;
use lakebook_core::lake::gc::{GcOptions, collect_garbage};
use lakebook_core::redundancy::retire::restore_retired;

use super::output::{Format, batch, write_batch};

/// Arguments of `ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `schema` and `versions`.
#[derive(Debug, Args)]
pub struct DatasetArgs {
    /// Dataset name.
    pub name: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `init`.
pub async fn init(lake_dir: &Path, out: &mut (dyn Write + Send)) -> Result<()> {
    let lake = Lake::init(lake_dir).await?;
    writeln!(
        out,
        "lake ready at {} ({} datasets)",
        lake.dir().display(),
        lake.catalog().datasets.len()
    )?;

    Ok(())
}

/// `ls`: every dataset with its kind, size, version and vectors.
pub async fn ls(lake_dir: &Path, args: LsArgs, out: &mut (dyn Write + Send)) -> Result<()> {
    let format = args.format;
    let lake = Lake::open(lake_dir).await?;
    let entries = &lake.catalog().datasets;
    let strings = |f: &dyn Fn(&String, &lakebook_core::lake::DatasetEntry) -> String| {
        Arc::new(StringArray::from_iter_values(
            entries.iter().map(|(n, e)| f(n, e)),
        )) as ArrayRef
    };
    let numbers = |f: &dyn Fn(&lakebook_core::lake::DatasetEntry) -> u64| {
        Arc::new(UInt64Array::from_iter_values(entries.values().map(f))) as ArrayRef
    };
    let batch = batch(vec![
        ("name", strings(&|n, _| n.clone())),
        (
            "kind",
            strings(&|_, e| match &e.retired {
                Some(r) => format!("retired: view over {}@{}", r.container, r.container_version),
                None => e.kind.to_string(),
            }),
        ),
        ("rows", numbers(&|e| e.rows)),
        ("version", numbers(&|e| e.version)),
        ("columns", numbers(&|e| e.schema.len() as u64)),
        (
            "vectors",
            strings(&|_, e| match &e.embedding {
                None => "-".to_string(),
                Some(v) if v.rows_pending > 0 => {
                    format!("{} (+{} to embed)", v.rows_with_vector, v.rows_pending)
                }
                Some(v) => v.rows_with_vector.to_string(),
            }),
        ),
        (
            "updated",
            strings(&|_, e| e.updated.format("%Y-%m-%d %H:%M:%S").to_string()),
        ),
    ])?;
    write_batch(out, &batch, format)?;

    Ok(())
}

/// `schema NAME`: the user's column names and types, and the notes of its ingest.
pub async fn schema(
    lake_dir: &Path,
    args: DatasetArgs,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let DatasetArgs { name, format } = args;
    let lake = Lake::open(lake_dir).await?;
    let ds = lake.open_dataset(&name, None).await?;
    let schema = lakebook_core::lake::columns::user_schema(&Schema::from(ds.schema()));
    let batch = batch(vec![
        (
            "column",
            Arc::new(StringArray::from_iter_values(
                schema.fields().iter().map(|f| f.name().clone()),
            )) as ArrayRef,
        ),
        (
            "type",
            Arc::new(StringArray::from_iter_values(
                schema.fields().iter().map(|f| f.data_type().to_string()),
            )),
        ),
        (
            "nullable",
            Arc::new(BooleanArray::from(
                schema
                    .fields()
                    .iter()
                    .map(|f| f.is_nullable())
                    .collect::<Vec<_>>(),
            )),
        ),
    ])?;
    write_batch(out, &batch, format)?;
    if format == Format::Table {
        for note in &lake.entry(&name)?.notes {
            writeln!(out, "note: {note}")?;
        }
    }

    Ok(())
}

/// `versions NAME`.
pub async fn versions(
    lake_dir: &Path,
    args: DatasetArgs,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let DatasetArgs { name, format } = args;
    let lake = Lake::open(lake_dir).await?;
    let versions = lake.versions(&name).await?;
    let batch = batch(vec![
        (
            "version",
            Arc::new(UInt64Array::from_iter_values(
                versions.iter().map(|v| v.version),
            )) as ArrayRef,
        ),
        (
            "committed",
            Arc::new(StringArray::from_iter_values(
                versions
                    .iter()
                    .map(|v| v.timestamp.format("%Y-%m-%d %H:%M:%S").to_string()),
            )),
        ),
        (
            "rows",
            Arc::new(UInt64Array::from_iter_values(
                versions.iter().map(|v| v.rows),
            )),
        ),
        (
            "latest",
            Arc::new(BooleanArray::from(
                versions.iter().map(|v| v.latest).collect::<Vec<_>>(),
            )),
        ),
    ])?;
    write_batch(out, &batch, format)?;

    Ok(())
}

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

/// Arguments of `mv`.
#[derive(Debug, Args)]
pub struct MvArgs {
    /// The dataset's name now.
    pub from: String,
    /// Its new name.
    pub to: String,
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

/// Renames a dataset.
pub async fn mv(lake_dir: &Path, args: &MvArgs, out: &mut (dyn Write + Send)) -> Result<()> {
    let mut lake = Lake::open(lake_dir).await?;
    lake.rename_dataset(&args.from, &args.to).await?;
    writeln!(out, "renamed '{}' to '{}'", args.from, args.to)?;
    Ok(())
}

/// Brings a dataset back from the trash, or a retired one's rows back from its history.
pub async fn restore(
    lake_dir: &Path,
    args: &RestoreArgs,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let mut lake = Lake::open(lake_dir).await?;
    if lake.entry(&args.name).is_ok_and(|e| e.retired.is_some()) {
        let restored = restore_retired(&mut lake, &args.name).await?;
        writeln!(
            out,
            "restored '{}': the {} rows of version {} are its latest version again (version {}, the same data files); it is no longer a view",
            restored.name, restored.rows, restored.from_version, restored.version
        )?;
        return Ok(());
    }
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
