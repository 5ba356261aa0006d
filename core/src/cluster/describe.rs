//! Subpopulations in words: each cluster's most distinctive terms
//! (class-based TF-IDF over its texts), its most central members, and for
//! tables the attribute values that set it apart (`region = North (81% vs 20%
//! overall)`, `age 30–39`); the clusters grouped by the columns that describe
//! them (dimension → attribute values → subpopulations); and a SQL predicate
//! for each, to save it as a slice.

use std::collections::HashMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};
use serde::{Deserialize, Serialize};

use super::features::{MAX_CATEGORIES, identifier_like};
use super::kernels::squared_distance;
use super::matrix::Matrix;
use crate::sql::quote_ident;

/// Terms in a cluster's label.
const LABEL_TERMS: usize = 4;
/// Attributes kept per cluster.
const ATTRIBUTES: usize = 3;
/// Central members kept per cluster.
const CENTRAL: usize = 3;

/// What sets a cluster apart on one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// The column.
    pub column: String,
    /// In words: `region = North (81% vs 20% overall)` or `age 30–39`.
    pub text: String,
    /// The same as a SQL condition.
    pub predicate: String,
    /// How strongly it sets the cluster apart (share difference, or half the
    /// median's shift in standard deviations).
    pub score: f64,
    /// For a value: its share in the cluster.
    pub share: Option<f64>,
    /// For a value: its share overall.
    pub overall: Option<f64>,
}

/// One cluster, described.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subpopulation {
    /// Cluster number (0 is the largest; -1 is noise).
    pub id: i32,
    /// Short label: its distinctive terms, else its attributes.
    pub label: String,
    /// Distinctive terms, best first.
    pub terms: Vec<String>,
    /// Rows in it.
    pub size: usize,
    /// Share of all rows.
    pub share: f64,
    /// What sets it apart, strongest first.
    pub attributes: Vec<Attribute>,
    /// Row positions (in the clustered rows) closest to its centre.
    pub central: Vec<usize>,
}

impl Subpopulation {
    /// A SQL predicate approximating the cluster from its attributes
    /// (`None` when it has none, e.g. passages described by terms only).
    pub fn predicate(&self) -> Option<String> {
        let parts: Vec<&str> = self
            .attributes
            .iter()
            .map(|a| a.predicate.as_str())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" AND "))
    }
}

/// A column that describes some clusters, with its values and the clusters
/// each value describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dimension {
    /// The column (or "topic" for term labels).
    pub name: String,
    /// (attribute text, clusters it describes).
    pub values: Vec<(String, Vec<i32>)>,
}

/// Describes each cluster of `labels` (one per row of `batch`; -1 is noise).
/// `texts` are the rows' texts for term labels (empty: none); `matrix` the
/// clustered vectors, for central members.
pub fn describe(
    batch: &RecordBatch,
    labels: &[i32],
    matrix: &Matrix,
    texts: &[String],
) -> Vec<Subpopulation> {
    let rows = labels.len();
    let mut ids: Vec<i32> = labels.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let terms = class_terms(texts, labels, &ids);
    let columns = column_profiles(batch, rows);
    let mut out: Vec<Subpopulation> = ids
        .iter()
        .map(|&id| {
            let members: Vec<usize> = (0..rows).filter(|r| labels[*r] == id).collect();
            let mut attributes: Vec<Attribute> = columns
                .iter()
                .filter_map(|c| c.attribute(&members))
                .collect();
            attributes.sort_by(|a, b| b.score.total_cmp(&a.score));
            // Columns that say the same thing (a document's id, path and title)
            // have the same shares: keep the first.
            let mut seen: Vec<(Option<u64>, Option<u64>)> = Vec::new();
            attributes.retain(|a| {
                let key = (
                    a.share.map(|s| (s * 1e6).round() as u64),
                    a.overall.map(|s| (s * 1e6).round() as u64),
                );
                if key.0.is_some() && seen.contains(&key) {
                    return false;
                }
                seen.push(key);
                true
            });
            attributes.truncate(ATTRIBUTES);
            let terms = terms.get(&id).cloned().unwrap_or_default();
            let label = if id < 0 {
                "noise (no cluster)".to_string()
            } else if !terms.is_empty() {
                terms.join(", ")
            } else if !attributes.is_empty() {
                attributes
                    .iter()
                    .take(2)
                    .map(|a| a.text.split(" (").next().unwrap_or(&a.text).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                format!("cluster {id}")
            };
            Subpopulation {
                id,
                label,
                terms,
                size: members.len(),
                share: members.len() as f64 / rows.max(1) as f64,
                attributes,
                central: central_members(matrix, &members),
            }
        })
        .collect();
    out.sort_by_key(|s| (s.id < 0, std::cmp::Reverse(s.size), s.id));
    out
}

/// The members closest to their mean.
fn central_members(matrix: &Matrix, members: &[usize]) -> Vec<usize> {
    if matrix.rows() == 0 || members.is_empty() {
        return Vec::new();
    }
    let mut centre = vec![0f32; matrix.cols()];
    for &r in members.iter().filter(|r| **r < matrix.rows()) {
        for (c, v) in centre.iter_mut().zip(matrix.row(r)) {
            *c += v;
        }
    }
    for c in &mut centre {
        *c /= members.len() as f32;
    }
    let mut by_distance: Vec<(f32, usize)> = members
        .iter()
        .filter(|r| **r < matrix.rows())
        .map(|r| (squared_distance(matrix.row(*r), &centre), *r))
        .collect();
    by_distance.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    by_distance.iter().take(CENTRAL).map(|(_, r)| *r).collect()
}

/// Words too common to describe anything.
const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was",
    "one", "our", "out", "has", "have", "him", "his", "how", "its", "may", "new", "now", "see",
    "two", "way", "who", "did", "get", "let", "say", "she", "too", "use", "that", "with", "this",
    "from", "they", "will", "would", "there", "their", "what", "about", "which", "when", "make",
    "like", "time", "just", "know", "take", "into", "year", "your", "some", "could", "them",
    "than", "then", "look", "only", "come", "over", "also", "back", "after", "work", "first",
    "well", "even", "want", "because", "these", "give", "most", "very", "were", "been", "more",
    "each", "other", "such", "where", "while", "should", "does", "being", "here", "those",
    "through", "before", "under", "again", "between", "both", "every", "many", "much", "same",
    "still", "until", "upon", "what", "whether", "within", "without", "yet", "off", "own", "per",
    "via", "etc", "one", "two", "three", "four", "five", "first", "second",
];

/// Lower-case words of three letters or more that are not stop words.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 && w.chars().any(char::is_alphabetic))
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
}

/// Each cluster's most distinctive terms by class-based TF-IDF: a term's
/// frequency in the cluster's texts, weighted by ln(1 + A / its frequency in
/// all clusters), A being the mean number of words per cluster.
fn class_terms(texts: &[String], labels: &[i32], ids: &[i32]) -> HashMap<i32, Vec<String>> {
    let mut out = HashMap::new();
    if texts.is_empty() {
        return out;
    }
    let mut per_class: HashMap<i32, HashMap<String, f64>> = HashMap::new();
    let mut totals: HashMap<String, f64> = HashMap::new();
    for (text, label) in texts.iter().zip(labels) {
        if *label < 0 {
            continue;
        }
        let counts = per_class.entry(*label).or_default();
        for w in words(text) {
            *counts.entry(w.clone()).or_default() += 1.0;
            *totals.entry(w).or_default() += 1.0;
        }
    }
    let classes = per_class.len().max(1) as f64;
    let average = totals.values().sum::<f64>() / classes;
    for id in ids.iter().filter(|i| **i >= 0) {
        let Some(counts) = per_class.get(id) else {
            continue;
        };
        let words_in_class: f64 = counts.values().sum::<f64>().max(1.0);
        let mut scored: Vec<(f64, &String)> = counts
            .iter()
            .filter(|(_, n)| **n >= 2.0)
            .map(|(w, n)| {
                let f = totals.get(w).copied().unwrap_or(1.0);
                (n / words_in_class * (1.0 + average / f).ln(), w)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        out.insert(
            *id,
            scored
                .iter()
                .take(LABEL_TERMS)
                .map(|(_, w)| (*w).clone())
                .collect(),
        );
    }
    out
}

/// What describing needs of one column.
enum ColumnProfile {
    /// A low-cardinality column: each row's value.
    Values {
        name: String,
        values: Vec<Option<String>>,
        overall: HashMap<String, f64>,
    },
    /// A number: each row's value, with the overall median and spread.
    Number {
        name: String,
        values: Vec<Option<f64>>,
        median: f64,
        sd: f64,
        integer: bool,
    },
}

/// Profiles of the columns that can describe clusters.
fn column_profiles(batch: &RecordBatch, rows: usize) -> Vec<ColumnProfile> {
    let mut out = Vec::new();
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        let name = field.name().clone();
        let data_type = array.data_type();
        if data_type.is_numeric() {
            let Ok(floats) = cast(array, &DataType::Float64) else {
                continue;
            };
            let floats = floats.as_primitive::<Float64Type>();
            let values: Vec<Option<f64>> = (0..rows.min(floats.len()))
                .map(|i| {
                    (floats.is_valid(i) && floats.value(i).is_finite()).then(|| floats.value(i))
                })
                .collect();
            let mut present: Vec<f64> = values.iter().flatten().copied().collect();
            if present.len() < 2 {
                continue;
            }
            present.sort_by(f64::total_cmp);
            let mean = present.iter().sum::<f64>() / present.len() as f64;
            let sd = (present.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
                / present.len() as f64)
                .sqrt();
            let distinct = present.windows(2).filter(|w| w[0] != w[1]).count() + 1;
            if sd <= 0.0 || (data_type.is_integer() && identifier_like(distinct, rows)) {
                continue;
            }
            out.push(ColumnProfile::Number {
                name,
                values,
                median: quantile(&present, 0.5),
                sd,
                integer: data_type.is_integer(),
            });
        } else if matches!(
            data_type,
            DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
                | DataType::Boolean
                | DataType::Dictionary(..)
        ) {
            let Ok(text) = cast(array, &DataType::Utf8) else {
                continue;
            };
            let text = text.as_string::<i32>();
            let values: Vec<Option<String>> = (0..rows.min(text.len()))
                .map(|i| text.is_valid(i).then(|| text.value(i).to_string()))
                .collect();
            let mut overall: HashMap<String, f64> = HashMap::new();
            for v in values.iter().flatten() {
                *overall.entry(v.clone()).or_default() += 1.0;
            }
            if overall.len() < 2 || overall.len() > MAX_CATEGORIES || overall.len() * 2 > rows {
                continue;
            }
            for share in overall.values_mut() {
                *share /= rows as f64;
            }
            out.push(ColumnProfile::Values {
                name,
                values,
                overall,
            });
        }
    }
    out
}

/// A number as an exact SQL literal: what a predicate says is what it
/// selects (a rounded bound such as `0.00` or a saturated integer would not).
fn sql_number(v: f64) -> String {
    if v == 0.0 || (v.abs() >= 1e-4 && v.abs() < 1e15) {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}

/// The `q` quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
}

/// A number as a person writes it: integers plain, others with up to 2
/// decimals, very large or very small ones in scientific notation.
fn number_text(v: f64, integer: bool) -> String {
    if !v.is_finite() {
        v.to_string()
    } else if v.abs() >= 1e15 || (v != 0.0 && v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else if integer || v.fract().abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

impl ColumnProfile {
    /// What sets `members` apart on this column, if anything does.
    fn attribute(&self, members: &[usize]) -> Option<Attribute> {
        if members.is_empty() {
            return None;
        }
        match self {
            ColumnProfile::Values {
                name,
                values,
                overall,
            } => {
                let mut counts: HashMap<&str, f64> = HashMap::new();
                for r in members {
                    if let Some(Some(v)) = values.get(*r) {
                        *counts.entry(v.as_str()).or_default() += 1.0;
                    }
                }
                let (value, share, base) = counts
                    .iter()
                    .map(|(v, n)| {
                        let share = n / members.len() as f64;
                        (*v, share, overall.get(*v).copied().unwrap_or(0.0))
                    })
                    .filter(|(_, share, base)| *share >= 0.3 && *share >= 1.5 * base)
                    .max_by(|a, b| (a.1 - a.2).total_cmp(&(b.1 - b.2)).then(b.0.cmp(a.0)))?;
                Some(Attribute {
                    column: name.clone(),
                    text: format!(
                        "{name} = {value} ({:.0}% vs {:.0}% overall)",
                        share * 100.0,
                        base * 100.0
                    ),
                    predicate: format!(
                        "CAST({} AS VARCHAR) = '{}'",
                        quote_ident(name),
                        value.replace('\'', "''")
                    ),
                    score: share - base,
                    share: Some(share),
                    overall: Some(base),
                })
            }
            ColumnProfile::Number {
                name,
                values,
                median,
                sd,
                integer,
            } => {
                let mut mine: Vec<f64> = members
                    .iter()
                    .filter_map(|r| values.get(*r).copied().flatten())
                    .collect();
                if mine.len() < 2 {
                    return None;
                }
                mine.sort_by(f64::total_cmp);
                let shift = (quantile(&mine, 0.5) - median) / sd;
                if shift.abs() < 0.5 {
                    return None;
                }
                let (lo, hi) = (quantile(&mine, 0.25), quantile(&mine, 0.75));
                if !lo.is_finite() || !hi.is_finite() {
                    return None;
                }
                let (lo_text, hi_text) = (number_text(lo, *integer), number_text(hi, *integer));
                let text = if lo_text == hi_text {
                    format!("{name} {lo_text}")
                } else {
                    format!("{name} {lo_text}–{hi_text}")
                };
                Some(Attribute {
                    column: name.clone(),
                    text,
                    predicate: format!(
                        "{} BETWEEN {} AND {}",
                        quote_ident(name),
                        sql_number(lo),
                        sql_number(hi)
                    ),
                    score: (shift.abs() * 0.5).min(1.0),
                    share: None,
                    overall: None,
                })
            }
        }
    }
}

/// The clusters grouped by what describes them: one dimension per column
/// that describes some cluster (its values, each with the clusters it
/// describes), and a "topic" dimension of term labels.
pub fn structure(subpopulations: &[Subpopulation]) -> Vec<Dimension> {
    let mut dimensions: Vec<Dimension> = Vec::new();
    for s in subpopulations.iter().filter(|s| s.id >= 0) {
        for a in &s.attributes {
            let index = match dimensions.iter().position(|d| d.name == a.column) {
                Some(i) => i,
                None => {
                    dimensions.push(Dimension {
                        name: a.column.clone(),
                        values: Vec::new(),
                    });
                    dimensions.len() - 1
                }
            };
            let value = a.text.split(" (").next().unwrap_or(&a.text).to_string();
            let values = &mut dimensions[index].values;
            match values.iter_mut().find(|(v, _)| *v == value) {
                Some((_, ids)) => ids.push(s.id),
                None => values.push((value, vec![s.id])),
            }
        }
    }
    if subpopulations.iter().any(|s| !s.terms.is_empty()) {
        dimensions.push(Dimension {
            name: "topic".into(),
            values: subpopulations
                .iter()
                .filter(|s| s.id >= 0 && !s.terms.is_empty())
                .map(|s| (s.label.clone(), vec![s.id]))
                .collect(),
        });
    }
    dimensions
        .sort_by_key(|d| std::cmp::Reverse(d.values.iter().map(|(_, c)| c.len()).sum::<usize>()));
    dimensions
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, StringArray};

    use super::*;

    #[test]
    fn clusters_get_their_topic_terms_and_the_values_that_set_them_apart() {
        let rows: usize = 60;
        let region: Vec<&str> = (0..rows)
            .map(|i| {
                if i < 30 {
                    if i % 10 == 0 { "south" } else { "north" }
                } else {
                    "south"
                }
            })
            .collect();
        let age: Vec<i64> = (0..rows)
            .map(|i| {
                if i < 30 {
                    31 + i as i64 % 8
                } else {
                    60 + i as i64 % 10
                }
            })
            .collect();
        let texts: Vec<String> = (0..rows)
            .map(|i| {
                if i < 30 {
                    format!("espresso roast beans grinder crema {i}")
                } else {
                    format!("telescope comet orbit planets night {i}")
                }
            })
            .collect();
        let batch = RecordBatch::try_from_iter(vec![
            ("region", Arc::new(StringArray::from(region)) as ArrayRef),
            ("age", Arc::new(Int64Array::from(age))),
        ])
        .expect("batch");
        let labels: Vec<i32> = (0..rows).map(|i| if i < 30 { 0 } else { 1 }).collect();
        let matrix = Matrix::new(rows, 1, (0..rows).map(|i| i as f32).collect()).expect("matrix");
        let described = describe(&batch, &labels, &matrix, &texts);
        assert_eq!(described.len(), 2);
        let coffee = &described[0];
        assert!(
            coffee.terms.contains(&"espresso".to_string()),
            "{:?}",
            coffee.terms
        );
        assert!(!coffee.terms.iter().any(|t| t == "telescope"));
        let region = coffee
            .attributes
            .iter()
            .find(|a| a.column == "region")
            .expect("region sets it apart");
        assert_eq!(region.text, "region = north (90% vs 45% overall)");
        let age = coffee
            .attributes
            .iter()
            .find(|a| a.column == "age")
            .expect("age too");
        assert!(age.text.starts_with("age 3"), "{}", age.text);
        assert!(coffee.predicate().is_some_and(|p| p.contains("BETWEEN")));
        assert_eq!(coffee.central.len(), 3);
        let dims = structure(&described);
        assert!(dims.iter().any(|d| d.name == "age"));
        assert!(dims.iter().any(|d| d.name == "topic"));
    }

    #[tokio::test]
    async fn slice_predicates_select_their_rows_at_any_scale() {
        use arrow::array::Float64Array;
        let rows = 200;
        // Cluster 0: tiny and huge values; cluster 1: ordinary ones.
        let tiny: Vec<f64> = (0..rows)
            .map(|i| {
                if i < 100 {
                    0.001 + i as f64 * 1e-5
                } else {
                    0.5 + i as f64 * 1e-3
                }
            })
            .collect();
        let huge: Vec<f64> = (0..rows)
            .map(|i| {
                if i < 100 {
                    1e20 + i as f64 * 1e17
                } else {
                    1e10 + i as f64
                }
            })
            .collect();
        let batch = RecordBatch::try_from_iter(vec![
            ("odd\nname", Arc::new(Float64Array::from(tiny)) as ArrayRef),
            ("huge", Arc::new(Float64Array::from(huge))),
        ])
        .expect("batch");
        let labels: Vec<i32> = (0..rows).map(|i| i32::from(i >= 100)).collect();
        let matrix = Matrix::new(rows, 1, (0..rows).map(|i| i as f32).collect()).expect("matrix");
        let described = describe(&batch, &labels, &matrix, &[]);
        let ctx = datafusion::prelude::SessionContext::new();
        ctx.register_batch("t", batch).expect("register");
        for sub in &described {
            for attribute in &sub.attributes {
                let sql = format!("SELECT count(*) FROM t WHERE {}", attribute.predicate);
                let counted = ctx
                    .sql(&sql)
                    .await
                    .expect("plans")
                    .collect()
                    .await
                    .expect("runs");
                let n = counted[0]
                    .column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .map_or(0, |a| a.value(0));
                // The middle half of the cluster's values, and none of the other's.
                assert_eq!(n, 50, "{} selects {n} rows", attribute.predicate);
            }
        }
        assert!(described.iter().map(|d| d.attributes.len()).sum::<usize>() >= 2);
    }
}
