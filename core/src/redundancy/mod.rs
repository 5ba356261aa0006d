//! Redundancy across the lake: which tables duplicate, contain or largely
//! overlap others, found by a cascade that shrinks the candidate pairs stage
//! by stage (the method of R2D2, Shah et al., SIGMOD 2024), on one machine.
//!
//! For a pair (A, B), A's columns are first mapped onto B's (`mapping`:
//! names, normalised names, then the schema matcher). Then:
//! 1. **schema** (`candidates`): pairs whose schemas let B hold A's rows,
//!    found through an index of column names and the related-tables index,
//!    not by trying all pairs;
//! 2. **statistics**: row counts, nulls and value bounds from the stored
//!    profiles drop pairs that provably cannot qualify (sound: never a true
//!    containment);
//! 3. **content** (`content`): `k` sampled rows of A, hashed canonically
//!    (`rows`), looked up in B. A pair in which a share `f` of A's rows is
//!    absent from B passes with probability at most `(1 − f)^k`;
//! 4. **exact** (on request): every row of A counted against B, as a set and
//!    as a multiset.
//!
//! Outcomes are stored per pair of dataset versions in
//! `.lakebook/redundancy.json`, so a run after one ingest reads only the
//! pairs that involve the changed dataset.

mod candidates;
mod content;
pub mod mapping;
pub mod plan;
mod rebuild;
pub mod retire;
mod rows;
mod store;
pub mod tables;

use std::collections::HashMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::job::Job;
use crate::lake::{Lake, LakeError};
use crate::profile::{ProfileError, profile_dataset};
use candidates::{Allowed, Candidate, Table, schema_candidates, statistics_allow};
use content::{Counted, Sampled, exact_counts, sample_content};
pub use mapping::MappedBy;

/// How A's rows stand in B's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// The same rows as a multiset, in any row or column order.
    Duplicate,
    /// Every row of A occurs in B, with at least as many copies.
    Contained,
    /// At least the threshold's share of A's rows occur in B.
    Overlapping,
}

impl Relation {
    /// The name shown and written in JSON.
    pub fn label(self) -> &'static str {
        match self {
            Relation::Duplicate => "duplicate",
            Relation::Contained => "contained",
            Relation::Overlapping => "overlapping",
        }
    }
}

/// The stage whose evidence decided a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decided {
    /// Sampled rows (stage 3): all of A's rows when A has at most `k`.
    Content,
    /// Every row counted (stage 4).
    Exact,
}

impl Decided {
    /// The name shown and written in JSON.
    pub fn label(self) -> &'static str {
        match self {
            Decided::Content => "content",
            Decided::Exact => "exact",
        }
    }
}

/// One redundant pair: A's rows in B.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedundantPair {
    /// The dataset whose rows are held (for a duplicate, the first by name).
    pub a: String,
    /// The dataset holding them.
    pub b: String,
    /// The versions compared.
    pub a_version: u64,
    /// See `a_version`.
    pub b_version: u64,
    /// Duplicate, contained or overlapping.
    pub relation: Relation,
    /// Share of A's rows that occur in B (set semantics; from the sample at
    /// stage 3, exact at stage 4).
    pub share: f64,
    /// Share of A's rows matched one to one with rows of B (multiset
    /// semantics); known only from the exact stage.
    pub multiset_share: Option<f64>,
    /// Every row of A occurs in B, whatever the copies (the set verdict).
    pub set_contained: bool,
    /// A's columns and the columns of B they were compared with.
    pub mapping: Vec<(String, String)>,
    /// How the columns were mapped.
    pub mapped_by: MappedBy,
    /// Columns of A left out of the comparison, with the reason.
    pub left_out: Vec<String>,
    /// The stage that decided.
    pub stage: Decided,
    /// Rows of A the deciding stage looked at.
    pub checked_rows: u64,
    /// Bytes of A's dataset on disk.
    pub bytes: u64,
    /// SQL that rebuilds A from B, once one is known.
    pub rebuild: Option<String>,
    /// The predicate of that SQL (none when A is all of B).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebuild_where: Option<String>,
}

impl RedundantPair {
    /// For a duplicate, the query that rebuilds B from A (the reverse of
    /// [`RedundantPair::rebuild`]): A's columns under B's names.
    pub fn reverse_rebuild(&self) -> Option<String> {
        use crate::sql::quote_ident;
        if self.relation != Relation::Duplicate || self.mapping.is_empty() {
            return None;
        }
        let items: Vec<String> = self
            .mapping
            .iter()
            .map(|(a, b)| rebuild::aliased(quote_ident(a), b))
            .collect();
        Some(rebuild::Rebuild::new(&items, None).sql(&self.a))
    }
}

/// What one stage did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageReport {
    /// `profiles`, `schema`, `statistics`, `content` or `exact`.
    pub name: String,
    /// Tables (profiles) or candidate pairs left after the stage.
    pub candidates: usize,
    /// Wall-clock time of the stage.
    pub seconds: f64,
    /// Pairs whose outcome was read from the store instead of recomputed.
    #[serde(default)]
    pub reused: usize,
}

/// What a redundancy run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedundancyReport {
    /// Redundant pairs: duplicates first, then by bytes of A.
    pub pairs: Vec<RedundantPair>,
    /// The stages in order.
    pub stages: Vec<StageReport>,
    /// Rows sampled per table at stage 3.
    pub sample_rows: usize,
    /// The share of A's rows that makes a pair overlapping.
    pub threshold: f64,
    /// What the user should know (tables left out, pairs that could not be read).
    pub notes: Vec<String>,
}

/// How a redundancy run is done.
#[derive(Debug, Clone, PartialEq)]
pub struct RedundancyOptions {
    /// Share of A's rows in B that makes a pair overlapping (0.9).
    pub threshold: f64,
    /// Count every row (stage 4) of the pairs stage 3 keeps.
    pub exact: bool,
    /// Tables with fewer rows are left out (1: empty tables).
    pub min_rows: u64,
    /// Rows of A sampled at stage 3 (128).
    pub sample_rows: usize,
    /// Seed of the samples.
    pub seed: u64,
}

impl Default for RedundancyOptions {
    fn default() -> Self {
        Self {
            threshold: 0.9,
            exact: false,
            min_rows: 1,
            sample_rows: 128,
            seed: 7,
        }
    }
}

/// Errors of a redundancy run.
#[derive(Debug, thiserror::Error)]
pub enum RedundancyError {
    /// The lake refused.
    #[error(transparent)]
    Lake(#[from] LakeError),
    /// A dataset could not be profiled.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Lance failed reading a dataset.
    #[error("reading '{name}': {source}")]
    Read {
        /// Dataset.
        name: String,
        /// Lance's error.
        source: crate::BoxError,
    },
    /// A dataset (or the version examined) went away while the job ran.
    #[error("'{name}' changed while the job ran: {reason}")]
    Gone {
        /// Dataset.
        name: String,
        /// What is missing.
        reason: String,
    },
    /// The options make no sense.
    #[error("{0}")]
    BadOptions(String),
    /// Cancelled by the user.
    #[error("cancelled")]
    Cancelled,
}

crate::cancelled_converts_to!(RedundancyError::Cancelled);

/// Bytes of a dataset's folder on disk (every version it keeps).
pub fn dataset_bytes(lake: &Lake, name: &str) -> Result<u64, LakeError> {
    Ok(bytes_on_disk(&lake.dir().join(&lake.entry(name)?.dir)))
}

/// How fast a whole dataset scans here, in bytes on disk per millisecond:
/// every column of `name` read once (what a rebuild from it costs).
pub async fn scan_speed(lake: &Lake, name: &str, job: &Job) -> Result<f64, RedundancyError> {
    use futures::StreamExt;
    let bytes = dataset_bytes(lake, name)?;
    let read = |e: lance::Error| RedundancyError::Read {
        name: name.to_string(),
        source: Box::new(e),
    };
    let started = Instant::now();
    let dataset = lake.open_dataset(name, None).await?;
    let mut stream = dataset.scan().try_into_stream().await.map_err(read)?;
    while let Some(batch) = stream.next().await {
        if job.is_cancelled() {
            return Err(RedundancyError::Cancelled);
        }
        batch.map_err(read)?;
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(bytes as f64 / ms.max(0.001))
}

/// Bytes of every file under `dir`.
fn bytes_on_disk(dir: &std::path::Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

/// Whether `found` of `of` rows reach the overlap threshold (never when
/// `of` is 0), with a little slack for the rounding of `threshold × of`.
pub(crate) fn reaches(found: u64, of: u64, threshold: f64) -> bool {
    of > 0 && found as f64 >= threshold * of as f64 - 1e-9
}

/// Finds the duplicate, contained and overlapping tables of the lake.
/// Progress per stage and cancel through `job`.
pub async fn find_redundancy(
    lake: &Lake,
    options: &RedundancyOptions,
    job: &Job,
) -> Result<RedundancyReport, RedundancyError> {
    if !(options.threshold > 0.0 && options.threshold <= 1.0) {
        return Err(RedundancyError::BadOptions(format!(
            "the threshold must be above 0 and at most 1, not {}",
            options.threshold
        )));
    }
    if options.sample_rows == 0 {
        return Err(RedundancyError::BadOptions(
            "at least one row must be sampled".to_string(),
        ));
    }
    let mut stages = Vec::new();
    let mut notes = Vec::new();
    let mut clock = Instant::now();
    let mut stage = |name: &str, candidates: usize, reused: usize, clock: &mut Instant| {
        stages.push(StageReport {
            name: name.to_string(),
            candidates,
            seconds: clock.elapsed().as_secs_f64(),
            reused,
        });
        *clock = Instant::now();
    };

    // Profiles (stored ones are read back).
    let graph_parts = crate::graph::graph_parts(lake);
    let names: Vec<String> = lake
        .dataset_names()
        .into_iter()
        .filter(|n| !graph_parts.contains_key(n))
        .collect();
    let (retired, names): (Vec<String>, Vec<String>) = names
        .into_iter()
        .partition(|n| lake.entry(n).is_ok_and(|e| e.retired.is_some()));
    if !retired.is_empty() {
        notes.push(format!(
            "retired (read through views, left out): {}",
            retired.join(", ")
        ));
    }
    let mut tables = Vec::new();
    let mut small = 0;
    for (i, name) in names.iter().enumerate() {
        job.set_message(format!("profiles: {name} ({} of {})", i + 1, names.len()));
        let profile = profile_dataset(lake, name, job).await?;
        if profile.rows < options.min_rows {
            small += 1;
            continue;
        }
        tables.push(Table::new(profile, dataset_bytes(lake, name)?));
    }
    if small > 0 {
        notes.push(format!(
            "{small} dataset(s) with fewer than {} row(s) left out",
            options.min_rows
        ));
    }
    stage("profiles", tables.len(), 0, &mut clock);

    // Stage 1: schemas.
    let candidates = schema_candidates(&tables, job)?;
    let wide: Vec<&str> = tables
        .iter()
        .filter(|t| t.compared.len() > candidates::MATCHER_MAX_COLUMNS)
        .map(Table::name)
        .collect();
    if !wide.is_empty() {
        notes.push(format!(
            "over {} columns, compared under equal or normalised names only: {}",
            candidates::MATCHER_MAX_COLUMNS,
            wide.join(", ")
        ));
    }
    stage("schema", candidates.len(), 0, &mut clock);

    // Stage 2: statistics.
    let allowed: Vec<(Candidate, Allowed)> = candidates
        .into_iter()
        .filter_map(|c| {
            let allowed =
                statistics_allow(&tables[c.a], &tables[c.b], &c.mapping, options.threshold);
            (allowed.contained || allowed.overlap).then_some((c, allowed))
        })
        .collect();
    stage("statistics", allowed.len(), 0, &mut clock);

    // Stage 3: sampled content, reusing stored outcomes of unchanged pairs.
    let mut stored = store::Stored::read(lake);
    let key = |c: &Candidate| store::PairKey::new(&tables[c.a].profile, &tables[c.b].profile);
    let mut sampled: Vec<Option<Sampled>> = allowed
        .iter()
        .map(|(c, _)| stored.sampled(&key(c), options.sample_rows, options.seed))
        .collect();
    let reused = sampled.iter().filter(|s| s.is_some()).count();
    let fresh: Vec<usize> = (0..allowed.len())
        .filter(|&i| sampled[i].is_none())
        .collect();
    let fresh_pairs: Vec<&Candidate> = fresh.iter().map(|&i| &allowed[i].0).collect();
    let outcomes = sample_content(
        lake,
        &tables,
        &fresh_pairs,
        options.sample_rows,
        options.seed,
        job,
    )
    .await?;
    for (&i, outcome) in fresh.iter().zip(outcomes) {
        match outcome {
            Ok(s) => {
                stored.set_sampled(key(&allowed[i].0), options.sample_rows, options.seed, s);
                sampled[i] = Some(s);
            }
            Err(why) => notes.push(format!("left out: {why}")),
        }
    }
    let kept: Vec<usize> = (0..allowed.len())
        .filter(|&i| sampled[i].is_some_and(|s| reaches(s.found, s.checked, options.threshold)))
        .collect();
    stage("content", kept.len(), reused, &mut clock);

    // Stage 4: exact counts.
    let mut counted: HashMap<usize, Counted> = HashMap::new();
    if options.exact {
        let mut reused = 0;
        job.begin_stage("exact: counting rows", kept.len() as u64, "pairs");
        for &i in &kept {
            let c = &allowed[i].0;
            if let Some(n) = stored.counted(&key(c)) {
                counted.insert(i, n);
                reused += 1;
            } else {
                match exact_counts(lake, &tables, c, job).await {
                    Ok(n) => {
                        stored.set_counted(key(c), n);
                        counted.insert(i, n);
                    }
                    Err(RedundancyError::Gone { name, reason }) => {
                        notes.push(format!("left out: {name}: {reason}"));
                    }
                    Err(e) => return Err(e),
                }
            }
            job.advance(1);
        }
        let still = kept
            .iter()
            .filter(|&&i| {
                counted
                    .get(&i)
                    .is_some_and(|n| reaches(n.in_set, n.rows, options.threshold))
            })
            .count();
        stage("exact", still, reused, &mut clock);
    }
    // Outcomes that cannot be stored are recomputed next time; not an error.
    let _ = stored.write(lake);

    let mut pairs = verdicts(&tables, &allowed, &kept, &sampled, &counted, options);
    rebuild_queries(lake, &tables, &allowed, &mut pairs, &mut notes).await;
    Ok(RedundancyReport {
        pairs,
        stages,
        sample_rows: options.sample_rows,
        threshold: options.threshold,
        notes,
    })
}

/// The query that rebuilds each contained or duplicate A from its B, where
/// a range predicate selects exactly A's rows.
async fn rebuild_queries(
    lake: &Lake,
    tables: &[Table],
    allowed: &[(Candidate, Allowed)],
    pairs: &mut [RedundantPair],
    notes: &mut Vec<String>,
) {
    let engine = crate::sql::SqlEngine::new(lake);
    let by_names: HashMap<(&str, &str), &Candidate> = allowed
        .iter()
        .map(|(c, _)| ((tables[c.a].name(), tables[c.b].name()), c))
        .collect();
    for p in pairs.iter_mut() {
        if p.relation == Relation::Overlapping {
            continue;
        }
        let Some(c) = by_names.get(&(p.a.as_str(), p.b.as_str())) else {
            continue;
        };
        match rebuild::rebuild_query(&engine, &tables[c.a], &tables[c.b], &c.mapping).await {
            Ok(query) => {
                p.rebuild = query.as_ref().map(|r| r.sql(&p.b));
                p.rebuild_where = query.and_then(|r| r.predicate);
            }
            Err(e) => notes.push(format!("no rebuild query for {} from {}: {e}", p.a, p.b)),
        }
    }
}

/// The reported pairs from each kept pair's evidence: a pair found both
/// ways with equal rows and all columns mapped is one duplicate.
fn verdicts(
    tables: &[Table],
    allowed: &[(Candidate, Allowed)],
    kept: &[usize],
    sampled: &[Option<Sampled>],
    counted: &HashMap<usize, Counted>,
    options: &RedundancyOptions,
) -> Vec<RedundantPair> {
    let mut pairs: Vec<RedundantPair> = Vec::new();
    for &i in kept {
        let (c, allow) = &allowed[i];
        let (a, b) = (&tables[c.a], &tables[c.b]);
        let (share, multiset_share, set_contained, contained, stage, checked) =
            match (counted.get(&i), sampled[i]) {
                (Some(n), _) => {
                    let share = n.in_set as f64 / n.rows as f64;
                    let multiset = n.in_multiset as f64 / n.rows as f64;
                    (
                        share,
                        Some(multiset),
                        n.in_set == n.rows,
                        n.in_multiset == n.rows,
                        Decided::Exact,
                        n.rows,
                    )
                }
                (None, Some(s)) => {
                    let all = s.found == s.checked;
                    let share = s.found as f64 / s.checked as f64;
                    (
                        share,
                        None,
                        all,
                        all && allow.contained,
                        Decided::Content,
                        s.checked,
                    )
                }
                (None, None) => continue,
            };
        if options.exact && stage == Decided::Content {
            continue;
        }
        if !contained && share < options.threshold - 1e-9 {
            continue;
        }
        let relation = if contained {
            Relation::Contained
        } else {
            Relation::Overlapping
        };
        pairs.push(RedundantPair {
            a: a.name().to_string(),
            b: b.name().to_string(),
            a_version: a.profile.version,
            b_version: b.profile.version,
            relation,
            share,
            multiset_share,
            set_contained,
            mapping: c
                .mapping
                .pairs
                .iter()
                .map(|&(x, y)| {
                    (
                        a.profile.columns[x].name.clone(),
                        b.profile.columns[y].name.clone(),
                    )
                })
                .collect(),
            mapped_by: c.mapping.by,
            left_out: a.left_out.clone(),
            stage,
            checked_rows: checked,
            bytes: a.bytes,
            rebuild: None,
            rebuild_where: None,
        });
    }
    merge_duplicates(tables, pairs)
}

/// Pairs contained both ways, with equal rows and every column of both
/// sides compared, become one duplicate (A the first by name).
fn merge_duplicates(tables: &[Table], pairs: Vec<RedundantPair>) -> Vec<RedundantPair> {
    let compared: HashMap<&str, usize> = tables
        .iter()
        .map(|t| (t.name(), t.compared.len()))
        .collect();
    let rows: HashMap<&str, u64> = tables.iter().map(|t| (t.name(), t.profile.rows)).collect();
    let contained: std::collections::HashSet<(String, String)> = pairs
        .iter()
        .filter(|p| p.relation == Relation::Contained)
        .map(|p| (p.a.clone(), p.b.clone()))
        .collect();
    let mut out: Vec<RedundantPair> = Vec::new();
    for mut p in pairs {
        let both = p.relation == Relation::Contained
            && contained.contains(&(p.b.clone(), p.a.clone()))
            && rows.get(p.a.as_str()) == rows.get(p.b.as_str())
            && compared.get(p.a.as_str()) == compared.get(p.b.as_str());
        if both {
            if p.a > p.b {
                continue;
            }
            p.relation = Relation::Duplicate;
        }
        out.push(p);
    }
    let rank = |r: Relation| match r {
        Relation::Duplicate => 0,
        Relation::Contained => 1,
        Relation::Overlapping => 2,
    };
    out.sort_by(|x, y| {
        rank(x.relation)
            .cmp(&rank(y.relation))
            .then(y.bytes.cmp(&x.bytes))
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    out
}
