//! The first two stages of the cascade: which pairs could hold one another
//! by their schemas (an index, not all pairs), and which of those their
//! stored statistics still allow (sound: a pair is dropped only when the
//! statistics prove it cannot reach the threshold).

use std::collections::{HashMap, HashSet};

use super::mapping::{Mapping, ValueKind, map_columns, normalised, value_kind};
use crate::job::{Cancelled, Job};
use crate::matching::related::{MAX_CANDIDATES, RelatedIndex, TableSketch};
use crate::profile::{ColumnProfile, DatasetProfile};

/// One dataset taking part: its profile and what is compared of it.
#[derive(Debug)]
pub(crate) struct Table {
    /// The profile of the version examined (name, version, rows, columns).
    pub profile: DatasetProfile,
    /// Bytes of the dataset's folder on disk.
    pub bytes: u64,
    /// The compared columns (indices into the profile's columns).
    pub compared: Vec<usize>,
    /// Columns left out of the comparison, each with the reason.
    pub left_out: Vec<String>,
}

impl Table {
    /// Chooses the compared columns: all but row names (R's `rownames`,
    /// pandas' `Unnamed: 0`), which number the rows of each file afresh and
    /// say nothing about content.
    pub fn new(profile: DatasetProfile, bytes: u64) -> Self {
        let mut compared = Vec::new();
        let mut left_out = Vec::new();
        for (i, c) in profile.columns.iter().enumerate() {
            if c.is_row_names() {
                left_out.push(format!("{}: row names (1..n), not content", c.name));
            } else {
                compared.push(i);
            }
        }
        Self {
            profile,
            bytes,
            compared,
            left_out,
        }
    }

    /// The dataset's name.
    pub fn name(&self) -> &str {
        &self.profile.name
    }

    fn normalised_names(&self) -> HashSet<String> {
        self.compared
            .iter()
            .map(|&i| normalised(&self.profile.columns[i].name))
            .collect()
    }

    fn kind_counts(&self) -> HashMap<ValueKind, usize> {
        let mut counts = HashMap::new();
        for &i in &self.compared {
            *counts
                .entry(value_kind(&self.profile.columns[i].data_type))
                .or_insert(0) += 1;
        }
        counts
    }
}

/// A pair that may hold A's rows in B, with the column mapping to check.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// A (index into the tables).
    pub a: usize,
    /// B.
    pub b: usize,
    /// A's compared columns onto B's.
    pub mapping: Mapping,
}

/// Whether B's columns could take A's by kind, all-null columns fitting anywhere.
fn kinds_fit(a: &HashMap<ValueKind, usize>, b: &HashMap<ValueKind, usize>) -> bool {
    let spare_nulls = b.get(&ValueKind::Null).copied().unwrap_or(0);
    let mut short = 0;
    for (kind, &n) in a {
        if *kind == ValueKind::Null {
            continue;
        }
        short += n.saturating_sub(b.get(kind).copied().unwrap_or(0));
    }
    short <= spare_nulls
}

/// Widest table whose columns are also matched under other names: the
/// related-tables index and the matcher compare every column of one table
/// with every column of the other, which for thousands of columns costs
/// minutes. Wider tables are compared by their names only.
pub(crate) const MATCHER_MAX_COLUMNS: usize = 256;

/// Stage 1: pairs (A, B) whose schemas allow B to hold A's rows. Tables
/// sharing A's rarest normalised column name are tried by names; tables the
/// related-tables index finds by values (renamed columns) are tried with the
/// schema matcher as well.
pub(crate) fn schema_candidates(tables: &[Table], job: &Job) -> Result<Vec<Candidate>, Cancelled> {
    let names: Vec<HashSet<String>> = tables.iter().map(Table::normalised_names).collect();
    let kinds: Vec<HashMap<ValueKind, usize>> = tables.iter().map(Table::kind_counts).collect();
    let mut postings: HashMap<&str, Vec<usize>> = HashMap::new();
    for (t, set) in names.iter().enumerate() {
        for name in set {
            postings.entry(name.as_str()).or_default().push(t);
        }
    }
    let related = RelatedIndex::build(
        tables
            .iter()
            .map(|t| TableSketch::from_profile(&t.profile))
            .collect(),
    );
    let by_name: HashMap<&str, usize> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name(), i))
        .collect();
    job.begin_stage("schema: candidate pairs", tables.len() as u64, "tables");
    let mut out = Vec::new();
    for (a, table) in tables.iter().enumerate() {
        if job.is_cancelled() {
            return Err(Cancelled);
        }
        job.advance(1);
        if table.compared.is_empty() {
            continue;
        }
        let fits = |b: usize| {
            b != a
                && tables[b].compared.len() >= table.compared.len()
                && kinds_fit(&kinds[a], &kinds[b])
        };
        // A's columns mapped onto B's (by names, or with the matcher too).
        let try_pair = |b: usize, use_matcher: bool| {
            let other = &tables[b];
            map_columns(
                &table.profile,
                &table.compared,
                &other.profile,
                &other.compared,
                use_matcher,
            )
            .map(|mapping| Candidate { a, b, mapping })
        };
        let mut tried = HashSet::new();
        let rarest = names[a]
            .iter()
            .min_by_key(|n| (postings.get(n.as_str()).map_or(0, Vec::len), n.as_str()));
        for &b in rarest
            .and_then(|n| postings.get(n.as_str()))
            .into_iter()
            .flatten()
        {
            if !fits(b) || !names[a].is_subset(&names[b]) {
                continue;
            }
            tried.insert(b);
            out.extend(try_pair(b, false));
        }
        if table.compared.len() > MATCHER_MAX_COLUMNS {
            continue;
        }
        for found in related
            .related(table.name(), MAX_CANDIDATES)
            .unwrap_or_default()
        {
            let Some(&b) = by_name.get(found.table.as_str()) else {
                continue;
            };
            if !fits(b) || !tried.insert(b) {
                continue;
            }
            out.extend(try_pair(b, true));
        }
    }
    Ok(out)
}

/// What a column's stored statistics allow about A's rows in B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Allowed {
    /// Every row of A could be in B (as a multiset).
    pub contained: bool,
    /// At least the threshold's share of A's rows could be in B.
    pub overlap: bool,
}

/// A bound as a number, for numeric columns.
fn number(v: &Option<String>) -> Option<f64> {
    v.as_deref()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|x| !x.is_nan())
}

/// Slack on numeric bounds: floats are compared to about 12 significant
/// digits (see `rows`), so a bound may differ by that much and still hold.
fn slack(x: f64) -> f64 {
    x.abs() * 1e-11 + 1e-300
}

/// Whether the non-null values of `a` could all lie among those of `b`
/// (`None`: the bounds cannot be compared, so nothing is concluded).
fn range_within(a: &ColumnProfile, b: &ColumnProfile) -> Option<bool> {
    let kind = value_kind(&a.data_type);
    if kind == ValueKind::Number && value_kind(&b.data_type) == ValueKind::Number {
        let (lo_a, hi_a) = (number(&a.min)?, number(&a.max)?);
        let (lo_b, hi_b) = (number(&b.min)?, number(&b.max)?);
        return Some(
            lo_b - slack(lo_b) <= lo_a + slack(lo_a) && hi_a - slack(hi_a) <= hi_b + slack(hi_b),
        );
    }
    // Other kinds keep their bounds as text; those compare only between
    // columns of one type, as fixed-width text (dates, times) or strings.
    if a.data_type != b.data_type
        || !matches!(
            kind,
            ValueKind::Text | ValueKind::Instant | ValueKind::TimeOfDay
        )
    {
        return None;
    }
    let (lo_a, hi_a, lo_b, hi_b) = (
        a.min.as_ref()?,
        a.max.as_ref()?,
        b.min.as_ref()?,
        b.max.as_ref()?,
    );
    if kind != ValueKind::Text && [hi_a, lo_b, hi_b].iter().any(|v| v.len() != lo_a.len()) {
        return None;
    }
    Some(lo_b <= lo_a && hi_a <= hi_b)
}

/// Whether the value ranges of `a` and `b` do not meet at all.
fn ranges_apart(a: &ColumnProfile, b: &ColumnProfile) -> bool {
    // Apart when neither's range can hold the other's bounds: tested as
    // "a's largest below b's smallest, or a's smallest above b's largest".
    let numbers = value_kind(&a.data_type) == ValueKind::Number
        && value_kind(&b.data_type) == ValueKind::Number;
    if numbers {
        let (Some(lo_a), Some(hi_a), Some(lo_b), Some(hi_b)) = (
            number(&a.min),
            number(&a.max),
            number(&b.min),
            number(&b.max),
        ) else {
            return false;
        };
        return hi_a + slack(hi_a) < lo_b - slack(lo_b) || lo_a - slack(lo_a) > hi_b + slack(hi_b);
    }
    if a.data_type != b.data_type || value_kind(&a.data_type) != ValueKind::Text {
        return false;
    }
    match (&a.min, &a.max, &b.min, &b.max) {
        (Some(lo_a), Some(hi_a), Some(lo_b), Some(hi_b)) => hi_a < lo_b || lo_a > hi_b,
        _ => false,
    }
}

/// Stage 2 for one candidate: what the profiles of A and B allow. Sound:
/// rows are counted exactly and bounds are true minima and maxima, so a
/// contained pair always passes, and an overlapping one whenever its share
/// is at least `threshold`.
pub(crate) fn statistics_allow(a: &Table, b: &Table, mapping: &Mapping, threshold: f64) -> Allowed {
    let (pa, pb) = (&a.profile, &b.profile);
    let mut contained = pa.rows <= pb.rows && pb.rows > 0;
    // Rows of A that cannot be in B, at least (the worst column decides).
    let mut surely_missing = 0u64;
    for &(i, j) in &mapping.pairs {
        let (ca, cb) = (&pa.columns[i], &pb.columns[j]);
        // A null of A matches only a null of B; as a multiset, one each.
        if ca.nulls > cb.nulls {
            contained = false;
        }
        let present_a = ca.rows - ca.nulls;
        if cb.nulls == 0 {
            surely_missing = surely_missing.max(ca.nulls);
        }
        if present_a > 0 && cb.rows == cb.nulls {
            contained = false;
            surely_missing = surely_missing.max(present_a);
        }
        if range_within(ca, cb) == Some(false) {
            contained = false;
        }
        if ranges_apart(ca, cb) {
            surely_missing = surely_missing.max(present_a);
        }
    }
    let overlap =
        pb.rows > 0 && super::reaches(pa.rows - surely_missing.min(pa.rows), pa.rows, threshold);
    Allowed {
        contained,
        overlap: overlap || contained,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
    use arrow::record_batch::RecordBatch;

    use super::*;
    use crate::profile::profile_batch;

    fn table(name: &str, ids: &[i64], texts: &[Option<&str>], amounts: &[f64]) -> Table {
        let batch = RecordBatch::try_from_iter([
            ("id", Arc::new(Int64Array::from(ids.to_vec())) as ArrayRef),
            (
                "label",
                Arc::new(StringArray::from(texts.to_vec())) as ArrayRef,
            ),
            (
                "amount",
                Arc::new(Float64Array::from(amounts.to_vec())) as ArrayRef,
            ),
        ])
        .expect("batch");
        Table::new(profile_batch(name, &batch), 0)
    }

    /// (contained, overlap) as the statistics allow them.
    fn verdict(a: &Table, b: &Table, threshold: f64) -> (bool, bool) {
        let mapping = map_columns(&a.profile, &a.compared, &b.profile, &b.compared, false)
            .expect("same names map");
        let allowed = statistics_allow(a, b, &mapping, threshold);
        (allowed.contained, allowed.overlap)
    }

    #[test]
    fn statistics_keep_true_containments_and_drop_what_cannot_hold() {
        let b = table(
            "b",
            &[1, 2, 3, 4, 5],
            &[Some("a"), Some("b"), None, Some("d"), Some("e")],
            &[0.1, 0.2, 0.3, 0.4, 0.5],
        );
        // A subset (a selection, with the null row): allowed.
        let a = table("a", &[2, 3], &[Some("b"), None], &[0.2, 0.3]);
        assert_eq!(verdict(&a, &b, 0.9), (true, true));
        // A bound that differs in its last bits still holds.
        let close = table("c", &[5], &[Some("e")], &[0.5 + 1e-15]);
        assert!(verdict(&close, &b, 0.9).0);
        // More rows than B, or more nulls: not contained as a multiset, but
        // the set share may still reach the threshold.
        let more = table("m", &[1, 1, 2, 2, 3, 3], &[Some("a"); 6], &[0.1; 6]);
        assert_eq!(verdict(&more, &b, 0.9), (false, true));
        let nulls = table("n", &[3, 3], &[None, None], &[0.3, 0.3]);
        assert_eq!(verdict(&nulls, &b, 0.9), (false, true));
        // A value beyond B's largest: not contained; four rows of five may still overlap.
        let beyond = table("x", &[1, 2, 3, 4, 9], &[Some("a"); 5], &[0.1; 5]);
        assert_eq!(verdict(&beyond, &b, 0.8), (false, true));
        // Ranges apart: no row of A can be in B.
        let apart = table("y", &[10, 11], &[Some("a"), Some("b")], &[0.1, 0.2]);
        assert_eq!(verdict(&apart, &b, 0.1), (false, false));
        let text_apart = table("z", &[1, 2], &[Some("x"), Some("y")], &[0.1, 0.2]);
        assert_eq!(verdict(&text_apart, &b, 0.1), (false, false));
    }

    #[test]
    fn row_names_are_left_out_of_the_comparison() {
        let batch = RecordBatch::try_from_iter([
            (
                "rownames",
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef,
            ),
            (
                "v",
                Arc::new(StringArray::from(vec!["a", "b", "c", "d"])) as ArrayRef,
            ),
        ])
        .expect("batch");
        let t = Table::new(profile_batch("r", &batch), 0);
        assert_eq!(t.compared, vec![1]);
        assert_eq!(
            t.left_out,
            vec!["rownames: row names (1..n), not content".to_string()]
        );
    }
}
