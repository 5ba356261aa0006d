//! Table-level answers: can two tables be joined (a key-like column whose
//! values the other table's column contains), or unioned (most columns align)?

use serde::{Deserialize, Serialize};

use super::ColumnMatch;
use super::column::{ValueClass, uniqueness, value_class};
use super::instances::value_overlap;
use crate::profile::ColumnProfile;

/// The best join path between two tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Joinability {
    /// Source column.
    pub source_column: String,
    /// Target column.
    pub target_column: String,
    /// Share of the smaller value set found in the larger one.
    pub containment: f64,
    /// How unique the key side's values are.
    pub key_uniqueness: f64,
    /// Join score in [0, 1].
    pub score: f64,
}

/// Joinability and unionability of a table pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TableScores {
    /// The best join path, if any column pair is key-like and overlapping.
    pub join: Option<Joinability>,
    /// Share of the wider table's columns aligned by the one-to-one selection, weighted by score.
    pub unionability: f64,
    /// Columns aligned by the selection.
    pub aligned: usize,
}

/// Whether a column can serve as a join key: mostly distinct, not a handful of values.
fn key_likeness(c: &ColumnProfile) -> f64 {
    if c.distinct < 3 || value_class(&c.data_type) == ValueClass::Boolean {
        return 0.0;
    }
    uniqueness(c)
}

/// How much a value set contained in another says: a handful of small
/// numbers (quantities 1 to 5) sits inside any range of ids by chance.
pub fn containment_trust(distinct: u64, data_type: &str) -> f64 {
    let needed = match value_class(data_type) {
        ValueClass::Number => 200.0,
        _ => 20.0,
    };
    (distinct as f64 / needed).min(1.0)
}

/// Table-level scores from the column profiles, the instance and name
/// scores of every pair (`instance[i][j]`, `names[i][j]`) and the
/// one-to-one selection.
pub fn table_scores(
    source: &[&ColumnProfile],
    target: &[&ColumnProfile],
    instance: &[Vec<f64>],
    names: &[Vec<f64>],
    selected: &[ColumnMatch],
) -> TableScores {
    let mut join: Option<Joinability> = None;
    for (i, s) in source.iter().enumerate() {
        for (j, t) in target.iter().enumerate() {
            // Row indexes (1..n) hold the same values in any two tables.
            let key = key_likeness(s).max(key_likeness(t));
            let row_index_pair =
                (s.is_row_index() && t.is_row_index()) || s.is_row_names() || t.is_row_names();
            if key < 0.5 || row_index_pair {
                continue;
            }
            let (_, contained) = value_overlap(s, t);
            let small = if s.distinct <= t.distinct { s } else { t };
            // A small domain inside a key is credible when the names agree too.
            let trust = containment_trust(small.distinct, &small.data_type).max(names[i][j]);
            let evidence = (contained * trust).max(0.8 * instance[i][j]);
            // Alike names break ties between equally contained columns.
            let score = evidence * key * (0.85 + 0.15 * names[i][j]);
            if score > join.as_ref().map_or(0.3, |b| b.score) {
                join = Some(Joinability {
                    source_column: s.name.clone(),
                    target_column: t.name.clone(),
                    containment: contained,
                    key_uniqueness: key,
                    score,
                });
            }
        }
    }
    let wider = source.len().max(target.len()).max(1) as f64;
    TableScores {
        join,
        unionability: selected.iter().fold(0.0, |sum, m| sum + m.score) / wider,
        aligned: selected.len(),
    }
}
