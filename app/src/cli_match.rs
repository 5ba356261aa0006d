//! Schema-matching commands: `match`, `related`, `eval match`, `eval match-suite`,
//! `fabricate` and `bench related`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use lakebook_core::ingest::{self, IngestOptions};
use lakebook_core::matching::fabricate::{self, FabricatedPair};
use lakebook_core::matching::metrics::{self, Metrics};
use lakebook_core::matching::related::{RelatedIndex, lake_sketches};
use lakebook_core::matching::text;
use lakebook_core::matching::{
    Calibration, ColumnEmbedder, MatchReport, Matcher, match_datasets, match_profiles,
    match_profiles_with, scored_pairs,
};
use lakebook_core::profile::{DatasetProfile, profile_batch, profile_dataset};
use lakebook_core::{Job, Lake, embed};
use serde_json::json;

use crate::cli::Format;

/// Arguments of `match`.
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Source dataset.
    pub source: String,
    /// Target dataset.
    pub target: String,
    /// Which matcher scores the pairs.
    #[arg(long, default_value = "combined", value_parser = parse_matcher)]
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

/// `eval` subcommands.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Match two tables and score the result against a ground truth with the
    /// Valentine benchmark's metrics (printed as JSON).
    ///
    /// SOURCE and TARGET are datasets of the lake or table files.
    Match {
        /// Source dataset or file.
        source: String,
        /// Target dataset or file.
        target: String,
        /// Ground truth: {"matches":[{"source_column":..,"target_column":..}]}.
        #[arg(long)]
        truth: PathBuf,
        /// Which matcher scores the pairs.
        #[arg(long, default_value = "combined", value_parser = parse_matcher)]
        matcher: Matcher,
        /// Model folder for the semantic matcher.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Whole-graph communities (Leiden) of a text edge list against known
    /// groups: nodes, edges, communities, modularity, NMI, ARI, seconds,
    /// passes and whether they ended stable (JSON).
    Communities(crate::cli_graph::EvalCommunitiesArgs),
    /// Seeded communities (MinHash LSH) of a text edge list against known
    /// groups: recall as members are added, F1 of the automatic cut, query times (JSON).
    Seeded(crate::cli_graph::EvalSeededArgs),
    /// Evaluate every pair folder under DIR (source.csv, target.csv,
    /// truth.json, as `fabricate` writes them) in one process; JSON out.
    MatchSuite {
        /// Folder of pair folders.
        dir: PathBuf,
        /// Which matcher scores the pairs.
        #[arg(long, default_value = "combined", value_parser = parse_matcher)]
        matcher: Matcher,
        /// Model folder for the semantic matcher.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Add each listed pair's per-matcher scores ("evidence").
        #[arg(long)]
        evidence: bool,
        /// Calibration for tuning studies: evidence below FLOOR is no match
        /// (0 lists every pair), evidence from SURE is certain.
        #[arg(long, num_args = 2, value_names = ["FLOOR", "SURE"])]
        calibration: Option<Vec<f64>>,
    },
}

/// Arguments of `fabricate`.
#[derive(Debug, Args)]
pub struct FabricateArgs {
    /// Real base tables (any table file Lakebook reads).
    #[arg(required = true)]
    pub bases: Vec<PathBuf>,
    /// Output folder: OUT/<base>/<variant>/{source.csv,target.csv,truth.json,meta.json}.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

fn parse_matcher(s: &str) -> Result<Matcher, String> {
    s.parse()
}

/// The model wrapped for column embedding, when the matcher may use it.
/// The combined matcher goes on without one (and says so); the semantic one needs it.
fn embedder(matcher: Matcher, dir: Option<&Path>) -> Result<Option<ColumnEmbedder>> {
    if !matches!(matcher, Matcher::Combined | Matcher::Semantic) {
        return Ok(None);
    }
    let loaded = embed::locate_model(dir).and_then(|s| embed::MiniLm::load(&s.dir));
    match loaded {
        Ok(model) => Ok(Some(ColumnEmbedder::new(Arc::new(model)))),
        Err(e) if matcher == Matcher::Semantic || dir.is_some() => Err(e.into()),
        Err(_) => Ok(None),
    }
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
    let model = embedder(args.matcher, args.model.as_deref())?;
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
    print_report(out, &report, args.top, args.format == Format::Csv)?;
    if args.format == Format::Table {
        writeln!(
            out,
            "matched in {elapsed:.0} ms ({} matcher)",
            report.matcher.label()
        )?;
    }
    Ok(())
}

fn print_report(
    out: &mut (dyn Write + Send),
    r: &MatchReport,
    top: usize,
    csv: bool,
) -> Result<()> {
    if !csv {
        write!(out, "{}", text::report_text(r, top))?;
        return Ok(());
    }
    let selected: std::collections::HashSet<(&str, &str)> = r
        .selected
        .iter()
        .map(|m| (m.source.as_str(), m.target.as_str()))
        .collect();
    writeln!(out, "source,target,score,selected")?;
    for m in &r.ranked {
        let chosen = selected.contains(&(m.source.as_str(), m.target.as_str()));
        writeln!(
            out,
            "{},{},{:.4},{chosen}",
            csv_field(&m.source),
            csv_field(&m.target),
            m.score
        )?;
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
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

/// A table named on the command line: a dataset of the lake, else a file.
async fn profile_named(lake_dir: &Path, name: &str, job: &Job) -> Result<DatasetProfile> {
    let path = Path::new(name);
    if path.is_file() {
        return profile_file(path, job);
    }
    let lake = Lake::open(lake_dir)
        .await
        .with_context(|| format!("'{name}' is not a file, and the lake could not be opened"))?;
    Ok(profile_dataset(&lake, name, job).await?)
}

fn profile_file(path: &Path, job: &Job) -> Result<DatasetProfile> {
    let batch = ingest::read_table(path, &IngestOptions::default(), job)?;
    let stem = path
        .file_stem()
        .map_or("table".into(), |s| s.to_string_lossy().to_string());
    Ok(profile_batch(&stem, &batch))
}

/// Reads a ground-truth file: {"matches":[{"source_column":..,"target_column":..}]}.
pub fn read_truth(path: &Path) -> Result<Vec<(String, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let Some(matches) = value.get("matches").and_then(|m| m.as_array()) else {
        bail!(
            "{}: expected {{\"matches\": [{{\"source_column\": .., \"target_column\": ..}}]}}",
            path.display()
        );
    };
    matches
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let field = |k: &str| m.get(k).and_then(|v| v.as_str()).map(str::to_string);
            match (field("source_column"), field("target_column")) {
                (Some(s), Some(t)) => Ok((s, t)),
                _ => bail!(
                    "{}: match {i} lacks source_column or target_column",
                    path.display()
                ),
            }
        })
        .collect()
}

/// The JSON of one evaluated pair.
fn pair_json(report: &MatchReport, metrics: &Metrics, elapsed_ms: f64) -> serde_json::Value {
    let matches: Vec<serde_json::Value> = scored_pairs(report)
        .into_iter()
        .map(|(s, t, score)| json!([s, t, score]))
        .collect();
    json!({"elapsed_ms": elapsed_ms, "metrics": metrics, "matches": matches, "notes": report.notes})
}

/// Per-matcher scores of every listed pair: [[source, target, {matcher: score}], ...].
fn evidence_json(report: &MatchReport) -> serde_json::Value {
    report
        .ranked
        .iter()
        .map(|m| {
            let scores: serde_json::Map<String, serde_json::Value> = m
                .evidence
                .iter()
                .map(|e| (e.matcher.to_string(), json!(e.score)))
                .collect();
            json!([m.source, m.target, scores])
        })
        .collect()
}

/// `eval match` and `eval match-suite`.
pub async fn run_eval(
    lake_dir: &Path,
    command: EvalCommand,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    match command {
        EvalCommand::Communities(args) => crate::cli_graph::run_eval_communities(args, out)?,
        EvalCommand::Seeded(args) => crate::cli_graph::run_eval_seeded(args, out, job)?,
        EvalCommand::Match {
            source,
            target,
            truth,
            matcher,
            model,
        } => {
            let truth = read_truth(&truth)?;
            let model = embedder(matcher, model.as_deref())?;
            let a = profile_named(lake_dir, &source, job).await?;
            let b = profile_named(lake_dir, &target, job).await?;
            let started = Instant::now();
            let report = match_profiles(&a, &b, matcher, model.as_ref())?;
            let elapsed = started.elapsed().as_secs_f64() * 1000.0;
            let m = metrics::evaluate(&scored_pairs(&report), &truth);
            let mut value = pair_json(&report, &m, elapsed);
            value["matcher"] = json!(matcher.label());
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        EvalCommand::MatchSuite {
            dir,
            matcher,
            model,
            evidence,
            calibration,
        } => {
            let calibration = match calibration.as_deref() {
                Some([floor, sure]) if floor < sure => Calibration {
                    floor: *floor,
                    sure: *sure,
                },
                Some(_) => bail!("--calibration FLOOR SURE needs FLOOR < SURE"),
                None => Calibration::default(),
            };
            let model = embedder(matcher, model.as_deref())?;
            let pairs = pair_dirs(&dir)?;
            if pairs.is_empty() {
                bail!("no pair folders (with truth.json) under {}", dir.display());
            }
            let mut results = Vec::new();
            let mut total = 0.0;
            for pair in pairs {
                let truth = read_truth(&pair.join("truth.json"))?;
                let read =
                    |f: &str| ingest::read_table(&pair.join(f), &IngestOptions::default(), job);
                let (a, b) = (read("source.csv")?, read("target.csv")?);
                // Timed like Valentine's match call: profiling and matching, not CSV parsing.
                let started = Instant::now();
                let report = match_profiles_with(
                    &profile_batch("source", &a),
                    &profile_batch("target", &b),
                    matcher,
                    model.as_ref(),
                    calibration,
                )?;
                let elapsed = started.elapsed().as_secs_f64() * 1000.0;
                total += elapsed;
                let m = metrics::evaluate(&scored_pairs(&report), &truth);
                let mut value = pair_json(&report, &m, elapsed);
                let rel = pair
                    .strip_prefix(&dir)
                    .unwrap_or(&pair)
                    .to_string_lossy()
                    .to_string();
                value["pair"] = json!(rel);
                if evidence {
                    value["evidence"] = evidence_json(&report);
                }
                results.push(value);
            }
            let value = json!({"matcher": matcher.label(), "total_ms": total, "pairs": results});
            writeln!(out, "{}", serde_json::to_string(&value)?)?;
        }
    }
    Ok(())
}

/// Every folder under `dir` holding a truth.json, sorted.
fn pair_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in walk(dir)? {
        if entry.join("truth.json").is_file() {
            found.push(entry);
        }
    }
    found.sort();
    Ok(found)
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        let current = out[i].clone();
        i += 1;
        for entry in
            std::fs::read_dir(&current).with_context(|| format!("reading {}", current.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                out.push(path);
            }
        }
    }
    Ok(out)
}

/// `fabricate BASE... --out DIR`.
pub fn run_fabricate(args: FabricateArgs, out: &mut (dyn Write + Send), job: &Job) -> Result<()> {
    let mut written = 0;
    for base in &args.bases {
        let batch = ingest::read_table(base, &IngestOptions::default(), job)?;
        let stem = base
            .file_stem()
            .map_or("table".into(), |s| s.to_string_lossy().to_string());
        for variant in fabricate::suite() {
            let pair: FabricatedPair = fabricate::fabricate(&batch, &stem, &variant, args.seed)
                .with_context(|| format!("fabricating from {}", base.display()))?;
            let dir = args.out.join(&stem).join(variant.id());
            fabricate::write_pair(&dir, &pair)?;
            written += 1;
        }
    }
    writeln!(out, "{written} pairs written under {}", args.out.display())?;
    Ok(())
}
