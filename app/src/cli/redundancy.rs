//! `redundancy`: the lake's duplicate, contained and overlapping tables;
//! `plan`: which of them could be retired.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use arrow::array::{ArrayRef, Float64Array, StringArray, UInt64Array};
use clap::Args;
use lakebook_core::redundancy::plan::{RetirementPlan, plan_retirement};
use lakebook_core::redundancy::{
    RedundancyOptions, RedundancyReport, Relation, dataset_bytes, find_redundancy, scan_speed,
};
use lakebook_core::{Job, Lake};

use super::output::{Format, batch, write_batch};

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
    let kept = report
        .pairs
        .iter()
        .filter(|p| p.relation != Relation::Overlapping);
    let mut bytes = std::collections::BTreeMap::new();
    for p in kept {
        for name in [&p.a, &p.b] {
            if !bytes.contains_key(name) {
                bytes.insert(name.clone(), dataset_bytes(&lake, name)?);
            }
        }
    }
    // The scan speed is measured on the largest dataset that would rebuild another.
    let largest = bytes
        .iter()
        .max_by_key(|(_, b)| **b)
        .map(|(n, _)| n.clone());
    let speed = match largest {
        Some(name) => scan_speed(&lake, &name, job).await?,
        None => 1.0,
    };
    let plan = plan_retirement(&report.pairs, &bytes, args.max_rebuild_ms, speed);
    if args.format == Format::Json {
        let value = serde_json::json!({"plan": plan, "report": report});
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    print_plan(out, &plan)
}

/// The plan as lines a person reads.
fn print_plan(out: &mut (dyn Write + Send), plan: &RetirementPlan) -> Result<()> {
    if plan.retire.is_empty() {
        writeln!(
            out,
            "nothing to retire: no contained or duplicate dataset rebuilds within {:.0} ms",
            plan.max_rebuild_ms
        )?;
        return Ok(());
    }
    for r in &plan.retire {
        let how = r
            .rebuild
            .as_deref()
            .unwrap_or("(a list of its rows in the container)");
        writeln!(
            out,
            "retire {:<24} {:>12} bytes  rebuilt from {} in ~{:.0} ms: {how}",
            r.name, r.bytes, r.from, r.rebuild_ms
        )?;
    }
    writeln!(
        out,
        "saves {} bytes ({} search; rebuild estimates at {:.0} MB/s, measured here)",
        plan.bytes_saved,
        format!("{:?}", plan.method).to_lowercase(),
        plan.scan_bytes_per_ms / 1000.0
    )?;
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
    write_batch(out, &pairs_batch(&report)?, args.format)?;
    if args.format == Format::Table {
        print_stages(out, &report)?;
    }
    Ok(())
}

/// The pairs as a table: one row each, the mapping as `a→b` pairs.
fn pairs_batch(report: &RedundancyReport) -> Result<arrow::record_batch::RecordBatch> {
    let p = &report.pairs;
    let text = |f: &dyn Fn(&lakebook_core::redundancy::RedundantPair) -> String| -> ArrayRef {
        Arc::new(StringArray::from(p.iter().map(f).collect::<Vec<_>>()))
    };
    let mapping = |x: &lakebook_core::redundancy::RedundantPair| {
        x.mapping
            .iter()
            .map(|(a, b)| {
                if a == b {
                    a.clone()
                } else {
                    format!("{a}→{b}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    batch(vec![
        ("a", text(&|x| x.a.clone())),
        ("relation", text(&|x| x.relation.label().to_string())),
        ("b", text(&|x| x.b.clone())),
        (
            "share",
            Arc::new(Float64Array::from(
                p.iter().map(|x| x.share).collect::<Vec<_>>(),
            )),
        ),
        ("stage", text(&|x| x.stage.label().to_string())),
        ("mapped_by", text(&|x| x.mapped_by.label().to_string())),
        (
            "bytes",
            Arc::new(UInt64Array::from(
                p.iter().map(|x| x.bytes).collect::<Vec<_>>(),
            )),
        ),
        ("columns", text(&mapping)),
    ])
}

/// The cascade's stages, the sampling bound and the notes.
fn print_stages(out: &mut (dyn Write + Send), report: &RedundancyReport) -> Result<()> {
    writeln!(out)?;
    for s in &report.stages {
        let unit = if s.name == "profiles" {
            "tables"
        } else {
            "pairs"
        };
        let reused = if s.reused > 0 {
            format!(" ({} reused)", s.reused)
        } else {
            String::new()
        };
        writeln!(
            out,
            "{:<10} {:>8} {unit}{reused} in {:.2} s",
            s.name, s.candidates, s.seconds
        )?;
    }
    writeln!(
        out,
        "content stage: {} rows sampled per table; a pair missing a share f of its rows passes with probability at most (1-f)^{}",
        report.sample_rows, report.sample_rows
    )?;
    for note in &report.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}
