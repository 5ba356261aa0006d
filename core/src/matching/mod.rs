//! Schema matching: which columns of two tables mean the same thing, and which
//! tables of the lake relate to a given one.
//!
//! Four matchers each score every column pair in [0, 1] and say why: names
//! ([`name`]), values ([`instances`]), value distributions ([`distribution`])
//! and MiniLM embeddings ([`semantic`]). The combined matcher, the default,
//! aggregates them in the spirit of COMA. Out come the ranked pairs, a
//! one-to-one selection ([`assign`]) and table-level joinability and
//! unionability ([`tables`]). [`related`] finds related tables across the
//! lake through LSH. (Scoring against Valentine's metrics and fabricating
//! pairs with known answers live in the `lakebook-eval` crate.)

pub mod assign;
pub mod column;
pub mod distribution;
pub mod instances;
pub mod name;
pub mod related;
pub mod semantic;
pub mod tables;
pub mod text;
pub mod to_sql;

use std::collections::HashSet;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::embed::EmbedError;
use crate::job::Job;
use crate::lake::Lake;
use crate::profile::{ColumnProfile, DatasetProfile, ProfileError, profile_dataset};
pub use semantic::ColumnEmbedder;
pub use tables::{Joinability, TableScores};

/// How raw evidence becomes a score: 0 below `floor` (no correspondence,
/// not listed), 1 from `sure` (certain), linear between.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Evidence below which a pair is no correspondence.
    pub floor: f64,
    /// Evidence from which a correspondence is certain.
    pub sure: f64,
}

impl Default for Calibration {
    fn default() -> Self {
        Self {
            floor: 0.5,
            sure: 0.75,
        }
    }
}

impl Calibration {
    /// Raw evidence as a score in [0, 1].
    pub fn score(self, raw: f64) -> f64 {
        ((raw - self.floor) / (self.sure - self.floor)).clamp(0.0, 1.0)
    }
}
/// Cheap evidence at which a column is taken as settled (a certain, mutual
/// best partner), so the model is not asked about it.
const SETTLED: f64 = 0.75;
/// Lowest score of a pair kept in the one-to-one selection.
pub const ACCEPT: f64 = 0.2;
/// Above this many column pairs, the one-to-one selection is greedy, not Hungarian.
const HUNGARIAN_MAX_PAIRS: usize = 250_000;

/// Which matcher scores the pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Matcher {
    /// All four, aggregated (the default).
    #[default]
    Combined,
    /// Column names only.
    Name,
    /// Value overlap and TF-IDF of values only.
    Instances,
    /// Value distributions and types only.
    Distribution,
    /// MiniLM embeddings of names and values only.
    Semantic,
}

impl Matcher {
    /// Every matcher, the default first.
    pub const ALL: [Matcher; 5] = [
        Matcher::Combined,
        Matcher::Name,
        Matcher::Instances,
        Matcher::Distribution,
        Matcher::Semantic,
    ];

    /// The name used on the command line and in notebooks.
    pub fn label(self) -> &'static str {
        match self {
            Matcher::Combined => "combined",
            Matcher::Name => "name",
            Matcher::Instances => "instances",
            Matcher::Distribution => "distribution",
            Matcher::Semantic => "semantic",
        }
    }

    /// Whether this matcher needs the embedding model.
    pub fn needs_model(self) -> bool {
        matches!(self, Matcher::Semantic)
    }
}

impl FromStr for Matcher {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Matcher::ALL
            .into_iter()
            .find(|m| m.label() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!("unknown matcher '{s}' (use combined, name, instances, distribution or semantic)")
            })
    }
}

/// One matcher's verdict on a pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The matcher.
    pub matcher: String,
    /// Its score in [0, 1].
    pub score: f64,
    /// Why, in words.
    pub detail: String,
}

/// A scored correspondence between a source and a target column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnMatch {
    /// Source column.
    pub source: String,
    /// Target column.
    pub target: String,
    /// Score in [0, 1].
    pub score: f64,
    /// What each matcher saw.
    pub evidence: Vec<Evidence>,
}

impl ColumnMatch {
    /// The strongest matcher's verdict as "matcher: why" (empty without evidence).
    pub fn strongest_evidence(&self) -> String {
        self.evidence
            .iter()
            .max_by(|a, b| a.score.total_cmp(&b.score))
            .map(|e| format!("{}: {}", e.matcher, e.detail))
            .unwrap_or_default()
    }
}

/// The answer to "which columns of these two tables correspond?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchReport {
    /// Source table.
    pub source: String,
    /// Target table.
    pub target: String,
    /// The matcher used.
    pub matcher: Matcher,
    /// Every pair with a score above zero, best first.
    pub ranked: Vec<ColumnMatch>,
    /// The one-to-one selection: each column at most once, score ≥ [`ACCEPT`].
    pub selected: Vec<ColumnMatch>,
    /// Table-level joinability and unionability.
    pub tables: TableScores,
    /// What the user should know (a matcher skipped, an empty table).
    pub notes: Vec<String>,
}

/// What a Match cell shows: the correspondences of two tables, or the tables
/// related to one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MatchOutput {
    /// Two tables matched.
    Pairs(MatchReport),
    /// Tables of the lake related to `table`.
    Related {
        /// The queried table.
        table: String,
        /// Related tables, best first.
        related: Vec<related::Related>,
    },
}

/// Errors of matching.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// Profiling a table failed.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The embedding model failed or is missing.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// The request cannot be answered.
    #[error("{0}")]
    Invalid(String),
}

/// Per-pair scores of every matcher, before aggregation.
struct PairScores {
    name: (f64, String),
    instances: (f64, String),
    distribution: (f64, String),
    semantic: Option<(f64, String)>,
    /// The names differ by opposite words (`min` / `max`).
    contrast: bool,
}

/// Scores every column pair with every matcher.
fn score_pairs(source: &[&ColumnProfile], target: &[&ColumnProfile]) -> Vec<Vec<PairScores>> {
    let keys = |cols: &[&ColumnProfile]| -> Vec<name::NameKey> {
        let words: Vec<Vec<String>> = cols.iter().map(|c| c.name_tokens.clone()).collect();
        let noise = name::table_noise(&words);
        cols.iter()
            .zip(&words)
            .map(|(c, w)| name::NameKey::new(&c.name, w, &noise))
            .collect()
    };
    let (source_keys, target_keys) = (keys(source), keys(target));
    let all: Vec<&ColumnProfile> = source.iter().chain(target).copied().collect();
    let terms = instances::term_vectors(&all);
    let (source_terms, target_terms) = terms.split_at(source.len());
    let shapes: Vec<[f64; 4]> = all.iter().map(|c| distribution::text_shape(c)).collect();
    let (source_shapes, target_shapes) = shapes.split_at(source.len());
    source
        .iter()
        .enumerate()
        .map(|(i, s)| {
            target
                .iter()
                .enumerate()
                .map(|(j, t)| PairScores {
                    name: name::name_similarity(&source_keys[i], &target_keys[j]),
                    instances: instances::instance_similarity(
                        s,
                        t,
                        &source_terms[i],
                        &target_terms[j],
                    ),
                    distribution: distribution::distribution_similarity(
                        s,
                        t,
                        (&source_shapes[i], &target_shapes[j]),
                    ),
                    semantic: None,
                    contrast: name::contrast(&source_keys[i], &target_keys[j]).is_some(),
                })
                .collect()
        })
        .collect()
}

/// Adds the semantic matcher's scores: for every pair when `all`, else only
/// between columns that the cheap matchers left unsettled (no mutual best
/// partner with evidence ≥ [`SETTLED`]), which is where names and values
/// did not already answer.
fn add_semantic(
    scores: &mut [Vec<PairScores>],
    source: &[&ColumnProfile],
    target: &[&ColumnProfile],
    embedder: &ColumnEmbedder,
    all: bool,
) -> Result<(), EmbedError> {
    let cheap: Vec<Vec<f64>> = scores
        .iter()
        .map(|r| r.iter().map(combine).collect())
        .collect();
    let (row_best, col_best) = best_per_row_and_column(&cheap);
    let (rows, cols) = (row_best.len(), col_best.len());
    let mut settled_source = vec![false; rows];
    let mut settled_target = vec![false; cols];
    for i in 0..rows {
        for j in 0..cols {
            let s = cheap[i][j];
            if !all && s >= SETTLED && s >= row_best[i] && s >= col_best[j] {
                settled_source[i] = true;
                settled_target[j] = true;
            }
        }
    }
    let open_source: Vec<usize> = (0..rows).filter(|i| !settled_source[*i]).collect();
    let open_target: Vec<usize> = (0..cols).filter(|j| !settled_target[*j]).collect();
    if open_source.is_empty() || open_target.is_empty() {
        return Ok(());
    }
    let columns: Vec<&ColumnProfile> = open_source
        .iter()
        .map(|&i| source[i])
        .chain(open_target.iter().map(|&j| target[j]))
        .collect();
    let vectors = embedder.embed(&columns)?;
    let (vs, vt) = vectors.split_at(open_source.len());
    for (a, &i) in vs.iter().zip(&open_source) {
        for (b, &j) in vt.iter().zip(&open_target) {
            scores[i][j].semantic = Some(semantic::semantic_similarity(a, b));
        }
    }
    Ok(())
}

/// The combined score of one pair, in the spirit of COMA's aggregation: the
/// strongest of name, values and meaning, backed by the runner-up and by the
/// distributions. Missing instance overlap is weak evidence against a match
/// (two halves of a table share no ids), so a mean over all matchers would
/// sink true pairs; opposite words in the names (`min` / `max`) halve it.
fn combine(p: &PairScores) -> f64 {
    let mut evidence = vec![p.name.0, p.instances.0];
    if let Some((s, _)) = &p.semantic {
        evidence.push(0.8 * s);
    }
    evidence.sort_by(|a, b| b.total_cmp(a));
    let top = 0.8 * evidence[0] + 0.2 * evidence[1];
    let score = 0.8 * top + 0.2 * p.distribution.0;
    let score = if p.contrast { score * 0.5 } else { score };
    score.clamp(0.0, 1.0)
}

/// The score a single matcher gives a pair.
fn single(p: &PairScores, matcher: Matcher) -> f64 {
    match matcher {
        Matcher::Combined => combine(p),
        Matcher::Name => p.name.0,
        Matcher::Instances => p.instances.0,
        Matcher::Distribution => p.distribution.0,
        Matcher::Semantic => p.semantic.as_ref().map_or(0.0, |s| s.0),
    }
}

/// The best score of each row and of each column of a score matrix.
fn best_per_row_and_column(matrix: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let cols = matrix.first().map_or(0, Vec::len);
    let row_best = matrix
        .iter()
        .map(|r| r.iter().copied().fold(0.0, f64::max))
        .collect();
    let col_best = (0..cols)
        .map(|j| matrix.iter().map(|r| r[j]).fold(0.0, f64::max))
        .collect();
    (row_best, col_best)
}

/// Context, as COMA's selection uses it: a pair that is the best for both its
/// columns keeps its score; one whose columns have better partners is damped.
fn sharpen(matrix: &mut [Vec<f64>]) {
    let (row_best, col_best) = best_per_row_and_column(matrix);
    for (i, row) in matrix.iter_mut().enumerate() {
        for (j, s) in row.iter_mut().enumerate() {
            let best = row_best[i].max(col_best[j]);
            if best > 0.0 {
                *s *= 0.6 + 0.4 * (*s / best);
            }
        }
    }
}

fn evidence(p: &PairScores) -> Vec<Evidence> {
    let mut out = vec![
        Evidence {
            matcher: "name".into(),
            score: p.name.0,
            detail: p.name.1.clone(),
        },
        Evidence {
            matcher: "instances".into(),
            score: p.instances.0,
            detail: p.instances.1.clone(),
        },
        Evidence {
            matcher: "distribution".into(),
            score: p.distribution.0,
            detail: p.distribution.1.clone(),
        },
    ];
    if let Some((s, why)) = &p.semantic {
        out.push(Evidence {
            matcher: "semantic".into(),
            score: *s,
            detail: why.clone(),
        });
    }
    out
}

/// Columns that can be matched (vector columns are left out by profiling).
fn matchable(profile: &DatasetProfile) -> Vec<&ColumnProfile> {
    profile.columns.iter().collect()
}

/// Matches the columns of two profiled tables.
///
/// `model` is needed by the semantic matcher; the combined matcher works
/// without it (and says so in the notes).
pub fn match_profiles(
    source: &DatasetProfile,
    target: &DatasetProfile,
    matcher: Matcher,
    model: Option<&ColumnEmbedder>,
) -> Result<MatchReport, MatchError> {
    match_profiles_with(source, target, matcher, model, Calibration::default())
}

/// [`match_profiles`] with another calibration (for tuning studies).
pub fn match_profiles_with(
    source: &DatasetProfile,
    target: &DatasetProfile,
    matcher: Matcher,
    model: Option<&ColumnEmbedder>,
    calibration: Calibration,
) -> Result<MatchReport, MatchError> {
    let (src, tgt) = (matchable(source), matchable(target));
    let mut notes = Vec::new();
    if matcher.needs_model() && model.is_none() {
        return Err(MatchError::Invalid(
            "the semantic matcher needs the embedding model (run scripts/setup.sh or pass --model)"
                .into(),
        ));
    }
    for (p, cols) in [(source, &src), (target, &tgt)] {
        if cols.is_empty() {
            notes.push(format!("'{}' has no columns to match", p.name));
        } else if p.rows == 0 {
            notes.push(format!(
                "'{}' has no rows: only names and types are compared",
                p.name
            ));
        }
    }
    let mut scores = score_pairs(&src, &tgt);
    let use_model = matches!(matcher, Matcher::Combined | Matcher::Semantic);
    match model.filter(|_| use_model) {
        Some(m) => add_semantic(&mut scores, &src, &tgt, m, matcher == Matcher::Semantic)?,
        None if matcher == Matcher::Combined => {
            notes.push("semantic matcher skipped: no embedding model".into());
        }
        None => {}
    }
    let mut raw: Vec<Vec<f64>> = scores
        .iter()
        .map(|row| row.iter().map(|p| single(p, matcher)).collect())
        .collect();
    if matcher == Matcher::Combined {
        sharpen(&mut raw);
    }
    let matrix: Vec<Vec<f64>> = raw
        .iter()
        .map(|r| r.iter().map(|v| calibration.score(*v)).collect())
        .collect();
    // Listed best first by the evidence itself, so that certain pairs (all
    // scored 1) keep their order.
    let mut ranked: Vec<(usize, usize)> = Vec::new();
    for (i, row) in matrix.iter().enumerate() {
        for (j, score) in row.iter().enumerate() {
            if *score > 0.0 {
                ranked.push((i, j));
            }
        }
    }
    ranked.sort_by(|a, b| raw[b.0][b.1].total_cmp(&raw[a.0][a.1]));
    let column_match = |&(i, j): &(usize, usize)| ColumnMatch {
        source: src[i].name.clone(),
        target: tgt[j].name.clone(),
        score: matrix[i][j],
        evidence: evidence(&scores[i][j]),
    };
    let selected: Vec<ColumnMatch> = select_one_to_one(&matrix, &ranked)
        .iter()
        .map(column_match)
        .collect();
    let instance: Vec<Vec<f64>> = scores
        .iter()
        .map(|r| r.iter().map(|p| p.instances.0).collect())
        .collect();
    let names: Vec<Vec<f64>> = scores
        .iter()
        .map(|r| r.iter().map(|p| p.name.0).collect())
        .collect();
    let tables = tables::table_scores(&src, &tgt, &instance, &names, &selected);
    let ranked = ranked.iter().map(column_match).collect();
    Ok(MatchReport {
        source: source.name.clone(),
        target: target.name.clone(),
        matcher,
        ranked,
        selected,
        tables,
        notes,
    })
}

/// The one-to-one selection: Hungarian (greedy over `ranked` for huge
/// tables), keeping pairs scoring at least [`ACCEPT`], best first.
fn select_one_to_one(matrix: &[Vec<f64>], ranked: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let pairs = matrix.len() * matrix.first().map_or(0, Vec::len);
    let mut chosen: Vec<(usize, usize)> = if pairs <= HUNGARIAN_MAX_PAIRS {
        assign::hungarian(matrix)
    } else {
        let mut used_source = HashSet::new();
        let mut used_target = HashSet::new();
        ranked
            .iter()
            .copied()
            .filter(|(i, j)| used_source.insert(*i) & used_target.insert(*j))
            .collect()
    };
    chosen.retain(|&(i, j)| matrix[i][j] >= ACCEPT);
    chosen.sort_by(|a, b| matrix[b.0][b.1].total_cmp(&matrix[a.0][a.1]));
    chosen
}

/// Profiles two datasets of the lake (from the store when already done) and matches them.
pub async fn match_datasets(
    lake: &Lake,
    source: &str,
    target: &str,
    matcher: Matcher,
    model: Option<&ColumnEmbedder>,
    job: &Job,
) -> Result<MatchReport, MatchError> {
    let a = profile_dataset(lake, source, job).await?;
    let b = profile_dataset(lake, target, job).await?;
    match_profiles(&a, &b, matcher, model)
}

/// The correspondences a user keeps: the one-to-one selection plus the pairs
/// they accepted, less the ones they rejected, in ranking order.
pub fn accepted_pairs(
    report: &MatchReport,
    accepted: &[(String, String)],
    rejected: &[(String, String)],
) -> Vec<(String, String)> {
    let chosen = |m: &ColumnMatch| {
        let pair = (m.source.clone(), m.target.clone());
        let selected = report
            .selected
            .iter()
            .any(|s| s.source == m.source && s.target == m.target);
        ((selected || accepted.contains(&pair)) && !rejected.contains(&pair)).then_some(pair)
    };
    report.ranked.iter().filter_map(chosen).collect()
}
