//! Schema-matching commands: `match` and `related`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use lakebook_core::matching::related::{RelatedIndex, lake_sketches};
use lakebook_core::matching::text;
use lakebook_core::matching::{ColumnEmbedder, Matcher, match_datasets};
use lakebook_core::{Job, Lake};
use serde_json::json;

use super::output::{Format, print_match_report};

/// Arguments of `match`.
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Source dataset.
    pub source: String,
    /// Target dataset.
    pub target: String,
    /// Which matcher scores the pairs.
    #[arg(long, default_value = "combined", value_parser = Matcher::from_str)]
    pub matcher: Matcher,
    /// Pairs shown in table format (0: all).
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Output format (json includes every pair with its evidence).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Model folder for the semantic matcher (default: LAKEBOOK_MODEL, Lakebook's data dir, the Hugging Face cache).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// Arguments of `related`.
#[derive(Debug, Args)]
pub struct RelatedArgs {
    /// The dataset whose relatives are wanted.
    pub name: String,
    /// Tables listed at most.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `match A B`.
pub async fn run_match(
    lake_dir: &Path,
    args: MatchArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let lake = Lake::open(lake_dir).await?;
    lake.entry(&args.source)?;
    lake.entry(&args.target)?;
    let model = ColumnEmbedder::for_matcher(args.matcher, args.model.as_deref())?;
    let started = Instant::now();
    let report = match_datasets(
        &lake,
        &args.source,
        &args.target,
        args.matcher,
        model.as_ref(),
        job,
    )
    .await?;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    if args.format == Format::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(());
    }
    print_match_report(out, &report, args.top, args.format == Format::Csv)?;
    if args.format == Format::Table {
        writeln!(
            out,
            "matched in {elapsed:.0} ms ({} matcher)",
            report.matcher.label()
        )?;
    }
    Ok(())
}

/// `related A`.
pub async fn run_related(
    lake_dir: &Path,
    args: RelatedArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let lake = Lake::open(lake_dir).await?;
    lake.entry(&args.name)?;
    let sketches = lake_sketches(&lake, job).await?;
    let built = Instant::now();
    let index = RelatedIndex::build(sketches);
    let build_ms = built.elapsed().as_secs_f64() * 1000.0;
    let asked = Instant::now();
    let related = index
        .related(&args.name, args.limit)
        .context("dataset not indexed")?;
    let query_ms = asked.elapsed().as_secs_f64() * 1000.0;
    if args.format == Format::Json {
        let value = json!({"table": args.name, "related": related, "index_tables": index.len(), "build_ms": build_ms, "query_ms": query_ms});
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    write!(out, "{}", text::related_text(&args.name, &related))?;
    if args.format == Format::Table {
        writeln!(
            out,
            "answered in {query_ms:.1} ms over {} tables (index built in {build_ms:.1} ms)",
            index.len()
        )?;
    }
    Ok(())
}
