//! `redundancy`: the lake's duplicate, contained and overlapping tables;
//! `plan`: which of them could be retired; `retire`: retiring one.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use clap::Args;
use lakebook_core::redundancy::plan::plan_lake;
use lakebook_core::redundancy::retire::retire;
use lakebook_core::redundancy::tables::{pairs_table, plan_text, stages_text};
use lakebook_core::redundancy::{RedundancyOptions, Relation, find_redundancy};
use lakebook_core::{Job, Lake};

use super::output::{Format, write_batch};

/// Arguments of `redundancy`.
#[derive(Debug, Args)]
pub struct RedundancyArgs {
    /// Share of A's rows found in B that makes a pair overlapping.
    #[arg(long, default_value_t = 0.9)]
    pub threshold: f64,
    /// Count every row of the pairs the sample keeps (slower; exact shares,
    /// and the multiset verdict).
    #[arg(long)]
    pub exact: bool,
    /// Leave out tables with fewer rows.
    #[arg(long, default_value_t = 1)]
    pub min_rows: u64,
    /// Rows of each table sampled at the content stage.
    #[arg(long, default_value_t = 128)]
    pub sample_rows: usize,
    /// Output format (json: every field, stable for scripts).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The longest a retired dataset may take to rebuild (a scan of its container).
    #[arg(long, default_value_t = 2000.0)]
    pub max_rebuild_ms: f64,
    /// Count every row of the candidate pairs first (exact containment).
    #[arg(long)]
    pub exact: bool,
    /// Output format (json: the plan with the report it rests on).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `retire`.
#[derive(Debug, Args)]
pub struct RetireArgs {
    /// The dataset to retire.
    pub name: String,
    /// Rebuild it from this dataset (default: a duplicate, else the smallest container).
    #[arg(long)]
    pub from: Option<String>,
    /// Print what was done as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `retire`: a dataset becomes a checked view over its container.
pub async fn run_retire(
    lake_dir: &Path,
    args: RetireArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let mut lake = Lake::open(lake_dir).await?;
    let done = retire(&mut lake, &args.name, args.from.as_deref(), job).await?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&done)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "retired '{}' ({} '{}'): its {} rows are read through the view\n  {}\nchecked first: the view yields exactly its rows (every value, every bit, as a multiset)",
        done.name,
        match done.relation {
            Relation::Duplicate => "a duplicate of",
            _ => "contained in",
        },
        done.container,
        done.rows,
        done.query
    )?;
    writeln!(
        out,
        "its rows stay in its history (version {}; {} bytes on disk) and `lakebook restore {}` brings them back; '{}' keeps its name while the view reads it",
        done.data_version, done.bytes, done.name, done.container
    )?;
    Ok(())
}

/// `plan`: the datasets that could be retired, most bytes first.
pub async fn run_plan(
    lake_dir: &Path,
    args: PlanArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let lake = Lake::open(lake_dir).await?;
    let options = RedundancyOptions {
        exact: args.exact,
        ..RedundancyOptions::default()
    };
    let report = find_redundancy(&lake, &options, job).await?;
    let plan = plan_lake(&lake, &report, args.max_rebuild_ms, job).await?;
    if args.format == Format::Json {
        let value = serde_json::json!({"plan": plan, "report": report});
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    write!(out, "{}", plan_text(&plan))?;
    Ok(())
}

/// `redundancy`.
pub async fn run_redundancy(
    lake_dir: &Path,
    args: RedundancyArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let lake = Lake::open(lake_dir).await?;
    let options = RedundancyOptions {
        threshold: args.threshold,
        exact: args.exact,
        min_rows: args.min_rows,
        sample_rows: args.sample_rows,
        ..RedundancyOptions::default()
    };
    let report = find_redundancy(&lake, &options, job).await?;
    if args.format == Format::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(());
    }
    write_batch(out, &pairs_table(&report)?, args.format)?;
    if args.format == Format::Table {
        writeln!(out)?;
        write!(out, "{}", stages_text(&report))?;
    }
    Ok(())
}
