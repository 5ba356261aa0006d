//! Schema-matching evaluation: `eval match`, `eval match-suite` and `fabricate`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use lakebook_core::ingest::{self, IngestOptions};
use lakebook_core::job::Watch;
use lakebook_core::matching::{
    Calibration, ColumnEmbedder, MatchReport, Matcher, match_profiles, match_profiles_with,
};
use lakebook_core::profile::{DatasetProfile, profile_batch, profile_dataset};
use lakebook_core::{Job, Lake};
use serde_json::json;

use crate::matching::fabricate::{self, FabricatedPair};
use crate::matching::metrics::{self, Metrics, scored_pairs};

/// Arguments of `eval match`.
#[derive(Debug, Args)]
pub struct EvalMatchArgs {
    /// Source dataset or file.
    pub source: String,
    /// Target dataset or file.
    pub target: String,
    /// Ground truth: {"matches":[{"source_column":..,"target_column":..}]}.
    #[arg(long)]
    pub truth: PathBuf,
    /// Which matcher scores the pairs.
    #[arg(long, default_value = "combined", value_parser = Matcher::from_str)]
    pub matcher: Matcher,
    /// Model folder for the semantic matcher.
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// Arguments of `eval match-suite`.
#[derive(Debug, Args)]
pub struct EvalSuiteArgs {
    /// Folder of pair folders.
    pub dir: PathBuf,
    /// Which matcher scores the pairs.
    #[arg(long, default_value = "combined", value_parser = Matcher::from_str)]
    pub matcher: Matcher,
    /// Model folder for the semantic matcher.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Add each listed pair's per-matcher scores ("evidence").
    #[arg(long)]
    pub evidence: bool,
    /// Calibration for tuning studies: evidence below FLOOR is no match
    /// (0 lists every pair), evidence from SURE is certain.
    #[arg(long, num_args = 2, value_names = ["FLOOR", "SURE"])]
    pub calibration: Option<Vec<f64>>,
}

/// `eval match`: one pair scored against its ground truth, as JSON.
pub async fn eval_match(
    lake_dir: &Path,
    args: EvalMatchArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let matcher = args.matcher;
    let truth = read_truth(&args.truth)?;
    let model = ColumnEmbedder::for_matcher(matcher, args.model.as_deref())?;
    let a = profile_named(lake_dir, &args.source, job).await?;
    let b = profile_named(lake_dir, &args.target, job).await?;
    let started = Instant::now();
    let report = match_profiles(&a, &b, matcher, model.as_ref())?;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let m = metrics::evaluate(&scored_pairs(&report), &truth);
    let mut value = pair_json(&report, &m, elapsed);
    value["matcher"] = json!(matcher.label());
    writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    Ok(())
}

/// `eval match-suite`: every pair folder under `dir`, as one line of JSON.
pub fn eval_match_suite(
    args: EvalSuiteArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let (dir, matcher) = (args.dir.as_path(), args.matcher);
    let calibration = match args.calibration.as_deref() {
        Some([floor, sure]) if floor < sure => Calibration {
            floor: *floor,
            sure: *sure,
        },
        Some(_) => bail!("--calibration FLOOR SURE needs FLOOR < SURE"),
        None => Calibration::default(),
    };
    let model = ColumnEmbedder::for_matcher(matcher, args.model.as_deref())?;
    let pairs = pair_dirs(dir)?;
    if pairs.is_empty() {
        bail!("no pair folders (with truth.json) under {}", dir.display());
    }
    let mut results = Vec::new();
    let mut total = 0.0;
    let count = pairs.len() as u64;
    for (done, pair) in pairs.into_iter().enumerate() {
        job.check()?;
        job.begin_stage(format!("matching {}", pair.display()), count, "pairs");
        job.set_done(done as u64);
        let truth = read_truth(&pair.join("truth.json"))?;
        // The reads report to a job of their own: the bar counts pairs.
        let reading = Job::new();
        let read = |f: &str| ingest::read_table(&pair.join(f), &IngestOptions::default(), &reading);
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
            .strip_prefix(dir)
            .unwrap_or(&pair)
            .to_string_lossy()
            .to_string();
        value["pair"] = json!(rel);
        if args.evidence {
            value["evidence"] = evidence_json(&report);
        }
        results.push(value);
    }
    let value = json!({"matcher": matcher.label(), "total_ms": total, "pairs": results});
    writeln!(out, "{}", serde_json::to_string(&value)?)?;
    Ok(())
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
    let variants = fabricate::suite();
    let count = (args.bases.len() * variants.len()) as u64;
    for base in &args.bases {
        let batch = ingest::read_table(base, &IngestOptions::default(), &Job::new())?;
        let stem = base
            .file_stem()
            .map_or("table".into(), |s| s.to_string_lossy().to_string());
        job.begin_stage(
            format!("fabricating from {}", base.display()),
            count,
            "pairs",
        );
        for variant in &variants {
            job.check()?;
            job.set_done(written as u64);
            let pair: FabricatedPair = fabricate::fabricate(&batch, &stem, variant, args.seed)
                .with_context(|| format!("fabricating from {}", base.display()))?;
            let dir = args.out.join(&stem).join(variant.id());
            fabricate::write_pair(&dir, &pair)?;
            written += 1;
        }
    }
    writeln!(out, "{written} pairs written under {}", args.out.display())?;
    Ok(())
}
