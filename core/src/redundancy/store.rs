//! Outcomes of the content and exact stages per pair of dataset versions,
//! kept in `.lakebook/redundancy.json`: a later run reuses every pair whose
//! two versions are unchanged and reads only the rest.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::content::{Counted, Sampled};
use crate::lake::Lake;
use crate::profile::DatasetProfile;

/// Format of the stored outcomes; another format is ignored and rewritten.
const FORMAT: u32 = 1;

/// Which pair of dataset versions an outcome belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct PairKey {
    a: String,
    a_version: u64,
    b: String,
    b_version: u64,
}

impl PairKey {
    /// The key of A's rows in B at the profiled versions.
    pub fn new(a: &DatasetProfile, b: &DatasetProfile) -> Self {
        Self {
            a: a.name.clone(),
            a_version: a.version,
            b: b.name.clone(),
            b_version: b.version,
        }
    }
}

/// The stored outcomes of one pair.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Outcome {
    /// (rows sampled, seed, rows checked, rows found).
    sampled: Option<(usize, u64, u64, u64)>,
    /// (rows, in set, in multiset).
    counted: Option<(u64, u64, u64)>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    format: u32,
    pairs: Vec<(PairKey, Outcome)>,
}

/// Outcomes read from the lake, and those added by this run.
#[derive(Debug, Default)]
pub(crate) struct Stored {
    pairs: HashMap<PairKey, Outcome>,
    changed: bool,
}

fn path(lake: &Lake) -> std::path::PathBuf {
    lake.dir().join(".lakebook").join("redundancy.json")
}

impl Stored {
    /// The stored outcomes (none when the file is missing or unreadable).
    pub fn read(lake: &Lake) -> Self {
        let pairs = std::fs::read_to_string(path(lake))
            .ok()
            .and_then(|t| serde_json::from_str::<File>(&t).ok())
            .filter(|f| f.format == FORMAT)
            .map(|f| f.pairs.into_iter().collect())
            .unwrap_or_default();
        Self {
            pairs,
            changed: false,
        }
    }

    /// The sample outcome of a pair, if taken with the same size and seed.
    pub fn sampled(&self, key: &PairKey, k: usize, seed: u64) -> Option<Sampled> {
        let (size, s, checked, found) = self.pairs.get(key)?.sampled?;
        (size == k && s == seed).then_some(Sampled { checked, found })
    }

    /// Keeps a pair's sample outcome.
    pub fn set_sampled(&mut self, key: PairKey, k: usize, seed: u64, s: Sampled) {
        self.pairs.entry(key).or_default().sampled = Some((k, seed, s.checked, s.found));
        self.changed = true;
    }

    /// The exact counts of a pair.
    pub fn counted(&self, key: &PairKey) -> Option<Counted> {
        let (rows, in_set, in_multiset) = self.pairs.get(key)?.counted?;
        Some(Counted {
            rows,
            in_set,
            in_multiset,
        })
    }

    /// Keeps a pair's exact counts.
    pub fn set_counted(&mut self, key: PairKey, n: Counted) {
        self.pairs.entry(key).or_default().counted = Some((n.rows, n.in_set, n.in_multiset));
        self.changed = true;
    }

    /// Writes the outcomes back (atomically) when this run added any; pairs
    /// of versions no longer current are dropped.
    pub fn write(&mut self, lake: &Lake) -> std::io::Result<()> {
        if !self.changed {
            return Ok(());
        }
        let current =
            |name: &str, version: u64| lake.entry(name).is_ok_and(|e| e.version == version);
        let mut pairs: Vec<(PairKey, Outcome)> = self
            .pairs
            .iter()
            .filter(|(k, _)| current(&k.a, k.a_version) && current(&k.b, k.b_version))
            .map(|(k, o)| (k.clone(), o.clone()))
            .collect();
        pairs.sort_by(|x, y| (&x.0.a, &x.0.b).cmp(&(&y.0.a, &y.0.b)));
        let file = File {
            format: FORMAT,
            pairs,
        };
        let text = serde_json::to_string(&file).map_err(std::io::Error::other)?;
        crate::files::write_atomic(&path(lake), text.as_bytes())
    }
}
