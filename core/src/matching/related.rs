//! Lake-wide discovery: which tables can be joined or unioned with this one,
//! found without matching every pair.
//!
//! Each table is reduced to a small sketch (per column: MinHash of the values,
//! distinct count, name words). Two LSH indexes hold the sketches: one over
//! column value signatures (columns with overlapping values collide, the start
//! of a join path) and one over each table's set of column words (tables with
//! alike schemas collide, the start of a union). A query scores only the
//! tables that collide with it, so a lake of thousands of tables answers in
//! milliseconds. Sketches are kept in `LAKE/.lakebook/related.json`, refreshed
//! when a dataset has a new version.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::column::{ValueClass, uniqueness, value_class};
use super::name::{NameKey, name_similarity, table_noise};
use super::tables::containment_trust;
use crate::job::Job;
use crate::lake::Lake;
use crate::profile::sketch::{Banding, MINHASH_SIZE, MinHash, hash_value, optimal_banding};
use crate::profile::{DatasetProfile, PROFILE_FORMAT, ProfileError, profile_dataset};

/// Jaccard threshold of the value index (low, as containment matters more).
const VALUE_THRESHOLD: f64 = 0.2;
/// Jaccard threshold of the schema-word index.
const SCHEMA_THRESHOLD: f64 = 0.3;
/// Candidate tables fully scored per query (the best by a quick score).
pub const MAX_CANDIDATES: usize = 100;
/// Lowest score of a table worth reporting.
const MIN_SCORE: f64 = 0.3;

/// What discovery keeps of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSketch {
    /// Column name.
    pub name: String,
    /// Name words as written.
    pub tokens: Vec<String>,
    /// Arrow type name.
    pub data_type: String,
    /// Estimated distinct values.
    pub distinct: u64,
    /// Share of distinct values among non-null ones.
    pub uniqueness: f64,
    /// MinHash of the value set.
    pub minhash: MinHash,
    /// A row index (0..n-1 or 1..n): two of them are no join path (see `ColumnProfile::is_row_index`).
    #[serde(default)]
    pub row_index: bool,
    /// A row index named as one (`rownames`): no join path at all.
    #[serde(default)]
    pub row_names: bool,
}

/// What discovery keeps of one table version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSketch {
    /// Dataset name.
    pub name: String,
    /// The version sketched.
    pub version: u64,
    /// Rows.
    pub rows: u64,
    /// Columns.
    pub columns: Vec<ColumnSketch>,
}

impl TableSketch {
    /// The sketch of a profiled table.
    pub fn from_profile(p: &DatasetProfile) -> Self {
        Self {
            name: p.name.clone(),
            version: p.version,
            rows: p.rows,
            columns: p
                .columns
                .iter()
                .map(|c| ColumnSketch {
                    name: c.name.clone(),
                    tokens: c.name_tokens.clone(),
                    data_type: c.data_type.clone(),
                    distinct: c.distinct,
                    uniqueness: uniqueness(c),
                    minhash: c.minhash.clone(),
                    row_index: c.is_row_index(),
                    row_names: c.is_row_names(),
                })
                .collect(),
        }
    }

    /// Name keys of the columns (table-wide noise words removed).
    fn name_keys(&self) -> Vec<NameKey> {
        let words: Vec<Vec<String>> = self.columns.iter().map(|c| c.tokens.clone()).collect();
        let noise = table_noise(&words);
        self.columns
            .iter()
            .map(|c| NameKey::new(&c.name, &c.tokens, &noise))
            .collect()
    }

    /// MinHash of the table's set of canonical column words.
    fn schema_minhash(keys: &[NameKey]) -> MinHash {
        let mut m = MinHash::default();
        for k in keys {
            for w in &k.words {
                m.add(hash_value(w));
            }
        }
        m
    }
}

/// A column whose values can take part in a join.
fn joinable_column(c: &ColumnSketch) -> bool {
    c.distinct >= 3 && value_class(&c.data_type) != ValueClass::Boolean && !c.minhash.is_empty()
}

/// Whether two columns could join the tables: both joinable, and not both row
/// indexes (every table with R's row names "joins" every other on 1..n).
fn joinable_pair(a: &ColumnSketch, b: &ColumnSketch) -> bool {
    joinable_column(a) && joinable_column(b) && !row_index_pair(a, b)
}

/// Two row indexes, or a column of row names with anything.
fn row_index_pair(a: &ColumnSketch, b: &ColumnSketch) -> bool {
    (a.row_index && b.row_index) || a.row_names || b.row_names
}

/// A join path to a related table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinPath {
    /// Column of the queried table.
    pub column: String,
    /// Column of the related table.
    pub other_column: String,
    /// Share of the smaller value set inside the larger.
    pub containment: f64,
    /// Join score: containment × key uniqueness.
    pub score: f64,
}

/// A table related to the queried one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Related {
    /// The related table.
    pub table: String,
    /// Best join path, if any.
    pub join: Option<JoinPath>,
    /// Unionability: share of columns that align, weighted by similarity.
    pub union_score: f64,
    /// The aligned columns (queried, related).
    pub aligned: Vec<(String, String)>,
    /// max(join, union).
    pub score: f64,
}

/// Order of related tables: the score, then the weaker of join and union
/// (a near-duplicate both joins and unions; a lookup table only joins).
fn rank(r: &Related) -> f64 {
    let join = r.join.as_ref().map_or(0.0, |j| j.score);
    r.score + 0.01 * join.min(r.union_score)
}

/// The LSH indexes over every table sketch of a lake.
#[derive(Debug)]
pub struct RelatedIndex {
    tables: Vec<TableSketch>,
    keys: Vec<Vec<NameKey>>,
    value_banding: Banding,
    schema_banding: Banding,
    value_buckets: HashMap<u64, Vec<(u32, u32)>>,
    schema_buckets: HashMap<u64, Vec<u32>>,
}

impl RelatedIndex {
    /// Builds the indexes.
    pub fn build(tables: Vec<TableSketch>) -> Self {
        let value_banding = optimal_banding(VALUE_THRESHOLD, MINHASH_SIZE, 0.5, 0.5);
        let schema_banding = optimal_banding(SCHEMA_THRESHOLD, MINHASH_SIZE, 0.5, 0.5);
        let keys: Vec<Vec<NameKey>> = tables.iter().map(TableSketch::name_keys).collect();
        let mut value_buckets: HashMap<u64, Vec<(u32, u32)>> = HashMap::new();
        let mut schema_buckets: HashMap<u64, Vec<u32>> = HashMap::new();
        for (t, table) in tables.iter().enumerate() {
            for (c, column) in table.columns.iter().enumerate() {
                if joinable_column(column) {
                    for key in column.minhash.band_keys(value_banding) {
                        value_buckets
                            .entry(key)
                            .or_default()
                            .push((t as u32, c as u32));
                    }
                }
            }
            let schema = TableSketch::schema_minhash(&keys[t]);
            for key in schema.band_keys(schema_banding) {
                schema_buckets.entry(key).or_default().push(t as u32);
            }
        }
        Self {
            tables,
            keys,
            value_banding,
            schema_banding,
            value_buckets,
            schema_buckets,
        }
    }

    /// Tables indexed.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Whether no table is indexed.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The tables related to `name`, best first (at most `limit`).
    ///
    /// Candidates are the tables sharing an LSH bucket with it; the best of
    /// them by a quick score (at most [`MAX_CANDIDATES`]) are fully scored.
    pub fn related(&self, name: &str, limit: usize) -> Option<Vec<Related>> {
        let q = self.tables.iter().position(|t| t.name == name)?;
        let mut join_pairs: HashMap<u32, HashSet<(u32, u32)>> = HashMap::new();
        let mut hits: HashMap<u32, usize> = HashMap::new();
        for (c, column) in self.tables[q].columns.iter().enumerate() {
            if !joinable_column(column) {
                continue;
            }
            for key in column.minhash.band_keys(self.value_banding) {
                for &(t, oc) in self.value_buckets.get(&key).into_iter().flatten() {
                    if t as usize != q {
                        join_pairs.entry(t).or_default().insert((c as u32, oc));
                        *hits.entry(t).or_default() += 1;
                    }
                }
            }
        }
        let schema = TableSketch::schema_minhash(&self.keys[q]);
        for key in schema.band_keys(self.schema_banding) {
            for &t in self.schema_buckets.get(&key).into_iter().flatten() {
                if t as usize != q {
                    *hits.entry(t).or_default() += 1;
                }
            }
        }
        // A quick score first (containment of the colliding columns, share of
        // buckets hit); names are compared only for the best candidates.
        let bands = self.schema_banding.bands.max(1) as f64;
        let mut candidates: Vec<(u32, f64)> = hits
            .into_iter()
            .map(|(t, n)| {
                let join = join_pairs
                    .get(&t)
                    .into_iter()
                    .flatten()
                    .map(|&(c, o)| self.quick_join(q, c as usize, t as usize, o as usize))
                    .fold(0.0, f64::max);
                (t, join.max(n as f64 / bands))
            })
            .collect();
        candidates.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        candidates.truncate(MAX_CANDIDATES.max(limit));
        let mut out: Vec<Related> = candidates
            .into_iter()
            .map(|(t, _)| self.score(q, t as usize, join_pairs.get(&t)))
            .filter(|r| r.score >= MIN_SCORE)
            .collect();
        out.sort_by(|a, b| rank(b).total_cmp(&rank(a)).then(a.table.cmp(&b.table)));
        out.truncate(limit);
        Some(out)
    }

    /// Scores every table against `name` without the indexes (the baseline
    /// the benchmark compares with).
    pub fn related_brute_force(&self, name: &str, limit: usize) -> Option<Vec<Related>> {
        let q = self.tables.iter().position(|t| t.name == name)?;
        let mut out: Vec<Related> = (0..self.tables.len())
            .filter(|&t| t != q)
            .map(|t| {
                let pairs: HashSet<(u32, u32)> = (0..self.tables[q].columns.len() as u32)
                    .flat_map(|c| (0..self.tables[t].columns.len() as u32).map(move |o| (c, o)))
                    .collect();
                self.score(q, t, Some(&pairs))
            })
            .filter(|r| r.score >= MIN_SCORE)
            .collect();
        out.sort_by(|a, b| rank(b).total_cmp(&rank(a)).then(a.table.cmp(&b.table)));
        out.truncate(limit);
        Some(out)
    }

    /// Containment × key uniqueness of one column pair, without names.
    fn quick_join(&self, q: usize, c: usize, t: usize, o: usize) -> f64 {
        let (a, b) = (&self.tables[q].columns[c], &self.tables[t].columns[o]);
        if row_index_pair(a, b) {
            return 0.0;
        }
        let (small, large) = if a.distinct <= b.distinct {
            (a, b)
        } else {
            (b, a)
        };
        small
            .minhash
            .containment_in(&large.minhash, small.distinct, large.distinct)
            * a.uniqueness.max(b.uniqueness)
    }

    /// Join and union scores of table `t` for the queried table `q`.
    fn score(&self, q: usize, t: usize, join_pairs: Option<&HashSet<(u32, u32)>>) -> Related {
        let (query, other) = (&self.tables[q], &self.tables[t]);
        let mut join: Option<JoinPath> = None;
        for &(c, o) in join_pairs.into_iter().flatten() {
            let (a, b) = (&query.columns[c as usize], &other.columns[o as usize]);
            if !joinable_pair(a, b) {
                continue;
            }
            let (small, large) = if a.distinct <= b.distinct {
                (a, b)
            } else {
                (b, a)
            };
            let containment =
                small
                    .minhash
                    .containment_in(&large.minhash, small.distinct, large.distinct);
            let name = name_similarity(&self.keys[q][c as usize], &self.keys[t][o as usize]).0;
            // A small domain inside a key is credible when the names agree too.
            let trust = containment_trust(small.distinct, &small.data_type).max(name);
            // Alike names break ties between equally contained columns.
            let score = containment * trust * a.uniqueness.max(b.uniqueness) * (0.85 + 0.15 * name);
            if score > join.as_ref().map_or(0.0, |j| j.score) {
                join = Some(JoinPath {
                    column: a.name.clone(),
                    other_column: b.name.clone(),
                    containment,
                    score,
                });
            }
        }
        let (union_score, aligned) = self.union_alignment(q, t);
        let score = join.as_ref().map_or(0.0, |j| j.score).max(union_score);
        Related {
            table: other.name.clone(),
            join,
            union_score,
            aligned,
            score,
        }
    }

    /// Greedy alignment of the two tables' columns by name and value overlap.
    fn union_alignment(&self, q: usize, t: usize) -> (f64, Vec<(String, String)>) {
        let (query, other) = (&self.tables[q], &self.tables[t]);
        let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
        for (i, a) in query.columns.iter().enumerate() {
            for (j, b) in other.columns.iter().enumerate() {
                if value_class(&a.data_type) != value_class(&b.data_type) {
                    continue;
                }
                let name = name_similarity(&self.keys[q][i], &self.keys[t][j]).0;
                let values = a.minhash.jaccard(&b.minhash);
                let s = name.max(values);
                if s >= 0.5 {
                    pairs.push((s, i, j));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (mut used_q, mut used_t) = (HashSet::new(), HashSet::new());
        let mut total = 0.0;
        let mut aligned = Vec::new();
        for (s, i, j) in pairs {
            if used_q.insert(i) & used_t.insert(j) {
                total += s;
                aligned.push((query.columns[i].name.clone(), other.columns[j].name.clone()));
            }
        }
        let wider = query.columns.len().max(other.columns.len()).max(1) as f64;
        (total / wider, aligned)
    }
}

/// The stored sketches, with the profile format they were made from.
#[derive(Serialize, Deserialize)]
struct StoredSketches {
    format: u32,
    tables: Vec<TableSketch>,
}

/// Where the sketches of a lake are kept.
fn sketch_file(lake: &Lake) -> std::path::PathBuf {
    lake.dir().join(".lakebook").join("related.json")
}

/// The sketches of every table of the lake at its latest version (a stored
/// graph's node and edge datasets are not tables: they are left out):
/// stored ones are reused, missing or stale ones are profiled (progress and
/// cancel through `job`) and stored.
pub async fn lake_sketches(lake: &Lake, job: &Job) -> Result<Vec<TableSketch>, ProfileError> {
    let file = sketch_file(lake);
    let stored: Vec<TableSketch> = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| serde_json::from_str::<StoredSketches>(&t).ok())
        .filter(|s| s.format == PROFILE_FORMAT)
        .map(|s| s.tables)
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut changed = false;
    let graph_parts = crate::graph::graph_parts(lake);
    for name in lake.dataset_names() {
        if graph_parts.contains_key(&name) {
            continue;
        }
        let version = lake.entry(&name)?.version;
        match stored
            .iter()
            .find(|s| s.name == name && s.version == version)
        {
            Some(s) => out.push(s.clone()),
            None => {
                let profile = profile_dataset(lake, &name, job).await?;
                out.push(TableSketch::from_profile(&profile));
                changed = true;
            }
        }
    }
    if changed || out.len() != stored.len() {
        // Sketches that cannot be stored are recomputed next time; not an error.
        let store = StoredSketches {
            format: PROFILE_FORMAT,
            tables: out.clone(),
        };
        if let Ok(text) = serde_json::to_string(&store) {
            let _ = crate::files::write_atomic(&file, text.as_bytes());
        }
    }
    Ok(out)
}
