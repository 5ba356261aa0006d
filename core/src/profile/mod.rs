//! Column profiles: what each column of a dataset holds, computed in one
//! streaming pass and stored per dataset version (`LAKE/.lakebook/profiles/`).
//! Schema matching, containment and the inspector build on them.

pub mod sketch;

use std::collections::HashMap;
use std::path::PathBuf;

use arrow::array::Array;
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::job::Job;
use crate::lake::{Lake, LakeError};
use crate::parallel::parallel_map;
use sketch::{HyperLogLog, MinHash, hash_value};

/// Values kept per column for quantiles and top values (a uniform sample).
const SAMPLE: usize = 10_000;
/// Example values shown and embedded per column.
const EXAMPLES: usize = 20;
/// Values of the uniform sample kept in the stored profile (for instance matching).
const KEPT_SAMPLE: usize = 500;

/// Errors of profiling.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The lake refused.
    #[error(transparent)]
    Lake(#[from] LakeError),
    /// Lance failed reading the dataset.
    #[error("profiling '{name}': {source}")]
    Read {
        /// Dataset.
        name: String,
        /// Lance's error.
        source: lance::Error,
    },
    /// Cancelled by the user.
    #[error("cancelled")]
    Cancelled,
}

crate::cancelled_converts_to!(ProfileError::Cancelled);

/// What one column holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// Column name.
    pub name: String,
    /// Arrow type.
    pub data_type: String,
    /// Rows.
    pub rows: u64,
    /// Null values.
    pub nulls: u64,
    /// Estimated distinct values (HyperLogLog).
    pub distinct: u64,
    /// Smallest and largest value as text (numeric order for numbers).
    pub min: Option<String>,
    /// See `min`.
    pub max: Option<String>,
    /// The 0th, 10th, ..., 100th percentiles of a numeric column (from a sample).
    pub quantiles: Vec<f64>,
    /// Most frequent values in the sample, with their sample counts.
    pub top: Vec<(String, u64)>,
    /// Shortest, longest and mean length of the values as text.
    pub length: (usize, usize, f64),
    /// MinHash signature of the set of values.
    pub minhash: MinHash,
    /// The name cut into lower-case words (`custNo` → `cust`, `no`).
    pub name_tokens: Vec<String>,
    /// The first distinct values met.
    pub examples: Vec<String>,
    /// A uniform sample of the values (up to 500, duplicates kept).
    pub sample: Vec<String>,
    /// Values the top counts and the histogram were counted in: a uniform
    /// sample of up to 10,000, so every value when it equals `rows − nulls`.
    #[serde(default)]
    pub sampled: u64,
    /// A numeric column's distribution over its sampled values.
    #[serde(default)]
    pub histogram: Option<Histogram>,
}

/// Equal-width bins from the smallest to the largest sampled value of a
/// numeric column. Only the two ends and the counts are kept, so a stored
/// profile reads back equal to the computed one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// The smallest value.
    pub lo: f64,
    /// The largest value.
    pub hi: f64,
    /// Values in each bin, counted in the sample.
    pub counts: Vec<u64>,
}

impl Histogram {
    /// Every bin as (start, end, sample count).
    pub fn bins(&self) -> Vec<(f64, f64, u64)> {
        let n = self.counts.len().max(1) as f64;
        let width = (self.hi - self.lo) / n;
        self.counts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let end = if i + 1 == self.counts.len() {
                    self.hi
                } else {
                    self.lo + (i + 1) as f64 * width
                };
                (self.lo + i as f64 * width, end, *c)
            })
            .collect()
    }
}

/// Format of stored profiles; a stored profile of another format is recomputed.
pub const PROFILE_FORMAT: u32 = 3;

/// Every column of one dataset version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetProfile {
    /// [`PROFILE_FORMAT`] when computed.
    pub format: u32,
    /// Dataset.
    pub name: String,
    /// The version profiled.
    pub version: u64,
    /// Rows.
    pub rows: u64,
    /// Columns, in schema order (vector columns left out).
    pub columns: Vec<ColumnProfile>,
}

/// Cuts a column name into lower-case words: snake, kebab, dotted, camel case and digits.
pub fn name_tokens(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev: Option<char> = None;
    for c in name.chars() {
        let boundary = !c.is_alphanumeric()
            || prev.is_some_and(|p| {
                (p.is_lowercase() && c.is_uppercase())
                    || (p.is_alphabetic() && c.is_ascii_digit())
                    || (p.is_ascii_digit() && c.is_alphabetic())
            });
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
        prev = Some(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Accumulates one column's profile.
struct ColumnState {
    name: String,
    data_type: DataType,
    rows: u64,
    nulls: u64,
    hll: HyperLogLog,
    minhash: MinHash,
    sample: Vec<String>,
    seen: u64,
    numbers: Vec<f64>,
    min: Option<(f64, String)>,
    max: Option<(f64, String)>,
    min_text: Option<String>,
    max_text: Option<String>,
    lengths: (usize, usize, u64),
    examples: Vec<String>,
}

impl ColumnState {
    fn new(name: &str, data_type: DataType) -> Self {
        Self {
            name: name.to_string(),
            data_type,
            rows: 0,
            nulls: 0,
            hll: HyperLogLog::default(),
            minhash: MinHash::default(),
            sample: Vec::new(),
            seen: 0,
            numbers: Vec::new(),
            min: None,
            max: None,
            min_text: None,
            max_text: None,
            lengths: (usize::MAX, 0, 0),
            examples: Vec::new(),
        }
    }

    fn add(&mut self, column: &dyn Array) {
        let options = FormatOptions::default();
        let Ok(formatter) = ArrayFormatter::try_new(column, &options) else {
            return;
        };
        let numbers = arrow::compute::cast(column, &DataType::Float64)
            .ok()
            .filter(|_| self.data_type.is_numeric());
        let numbers = numbers.as_ref().map(|a| {
            arrow::array::AsArray::as_primitive::<arrow::datatypes::Float64Type>(a.as_ref())
        });
        // Logical nulls: a Null-typed column is all nulls though it has no validity buffer.
        let nulls = column.logical_nulls();
        for row in 0..column.len() {
            self.rows += 1;
            if nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                self.nulls += 1;
                continue;
            }
            let text = formatter.value(row).to_string();
            let text = text.trim().to_string();
            let h = hash_value(&text);
            self.hll.add(h);
            self.minhash.add(h);
            let len = text.chars().count();
            self.lengths.0 = self.lengths.0.min(len);
            self.lengths.1 = self.lengths.1.max(len);
            self.lengths.2 += len as u64;
            if let Some(n) = numbers.filter(|n| n.is_valid(row)).map(|n| n.value(row)) {
                if self.min.as_ref().is_none_or(|(m, _)| n < *m) {
                    self.min = Some((n, text.clone()));
                }
                if self.max.as_ref().is_none_or(|(m, _)| n > *m) {
                    self.max = Some((n, text.clone()));
                }
            } else {
                if self.min_text.as_ref().is_none_or(|m| text < *m) {
                    self.min_text = Some(text.clone());
                }
                if self.max_text.as_ref().is_none_or(|m| text > *m) {
                    self.max_text = Some(text.clone());
                }
            }
            if self.examples.len() < EXAMPLES && !self.examples.contains(&text) {
                self.examples.push(text.clone());
            }
            // Reservoir sampling keeps a uniform sample of the values.
            self.seen += 1;
            let slot = if self.sample.len() < SAMPLE {
                Some(self.sample.len())
            } else {
                let r = (hash_value(&format!("{}#{}", self.seen, self.name)) % self.seen) as usize;
                (r < SAMPLE).then_some(r)
            };
            if let Some(slot) = slot {
                let value = numbers.filter(|n| n.is_valid(row)).map(|n| n.value(row));
                if slot == self.sample.len() {
                    self.sample.push(text);
                    if let Some(v) = value {
                        self.numbers.push(v);
                    }
                } else {
                    self.sample[slot] = text;
                    if let (Some(v), Some(n)) = (value, self.numbers.get_mut(slot)) {
                        *n = v;
                    }
                }
            }
        }
    }

    fn finish(mut self) -> ColumnProfile {
        let present = self.rows - self.nulls;
        let mut quantiles = Vec::new();
        if !self.numbers.is_empty() {
            self.numbers.sort_by(f64::total_cmp);
            let last = self.numbers.len() - 1;
            for q in 0..=10 {
                quantiles.push(self.numbers[(q as f64 / 10.0 * last as f64).round() as usize]);
            }
        }
        let histogram = histogram(&self.numbers, HISTOGRAM_BINS);
        let sampled = self.sample.len() as u64;
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for v in &self.sample {
            *counts.entry(v.as_str()).or_default() += 1;
        }
        let mut top: Vec<(String, u64)> = counts
            .into_iter()
            .map(|(v, n)| (v.to_string(), n))
            .collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(10);
        let (min, max) = match (self.min, self.max) {
            (Some((_, lo)), Some((_, hi))) => (Some(lo), Some(hi)),
            _ => (self.min_text, self.max_text),
        };
        ColumnProfile {
            name_tokens: name_tokens(&self.name),
            name: self.name,
            data_type: self.data_type.to_string(),
            rows: self.rows,
            nulls: self.nulls,
            distinct: self.hll.estimate().min(present),
            min,
            max,
            quantiles,
            top,
            length: if present == 0 {
                (0, 0, 0.0)
            } else {
                (
                    self.lengths.0,
                    self.lengths.1,
                    self.lengths.2 as f64 / present as f64,
                )
            },
            minhash: self.minhash,
            examples: self.examples,
            sample: spread(&self.sample, KEPT_SAMPLE),
            sampled,
            histogram,
        }
    }
}

/// Bins of a profile's histogram.
const HISTOGRAM_BINS: usize = 20;

/// `bins` equal-width bins over sorted, finite-or-not `numbers` (non-finite
/// values are left out); one bin when every value is the same.
fn histogram(numbers: &[f64], bins: usize) -> Option<Histogram> {
    let finite: Vec<f64> = numbers.iter().copied().filter(|v| v.is_finite()).collect();
    let (&lo, &hi) = (finite.first()?, finite.last()?);
    if hi <= lo {
        return Some(Histogram {
            lo,
            hi,
            counts: vec![finite.len() as u64],
        });
    }
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u64; bins];
    for v in &finite {
        let bin = (((v - lo) / width) as usize).min(bins - 1);
        counts[bin] += 1;
    }
    Some(Histogram { lo, hi, counts })
}

/// The profile of an in-memory table (a file read for evaluation, a query result).
pub fn profile_batch(name: &str, batch: &arrow::record_batch::RecordBatch) -> DatasetProfile {
    let schema = batch.schema();
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(f, _)| !matches!(f.data_type(), DataType::FixedSizeList(..)))
        .collect();
    let columns = parallel_map(fields, |(f, column)| {
        let mut state = ColumnState::new(f.name(), f.data_type().clone());
        state.add(column.as_ref());
        state.finish()
    });
    DatasetProfile {
        format: PROFILE_FORMAT,
        name: name.to_string(),
        version: 0,
        rows: batch.num_rows() as u64,
        columns,
    }
}

/// Up to `n` items taken evenly across `items`.
fn spread(items: &[String], n: usize) -> Vec<String> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n).map(|i| items[i * items.len() / n].clone()).collect()
}

fn profile_file(lake: &Lake, name: &str, version: u64) -> Result<PathBuf, LakeError> {
    let dir = &lake.entry(name)?.dir;
    Ok(lake
        .dir()
        .join(".lakebook")
        .join("profiles")
        .join(dir)
        .join(format!("v{version}.json")))
}

impl ColumnProfile {
    /// Whether the column is a row index: whole numbers 0..n-1 or 1..n, no
    /// nulls, no repeats (R's row names, pandas' saved index). Two tables
    /// share such a column by construction, so it is no evidence that they
    /// join or match.
    pub fn is_row_index(&self) -> bool {
        let integer = self.data_type.starts_with("Int") || self.data_type.starts_with("UInt");
        let bound = |v: &Option<String>| v.as_deref().and_then(|v| v.parse::<i64>().ok());
        let (Some(min), Some(max)) = (bound(&self.min), bound(&self.max)) else {
            return false;
        };
        integer
            && self.nulls == 0
            && self.rows >= 3
            && (min == 0 || min == 1)
            && u64::try_from(max - min + 1).ok() == Some(self.rows)
            && self.distinct as f64 >= 0.97 * self.rows as f64
    }

    /// A row index under a row-index name (`rownames` as Lakebook names R's
    /// unnamed column, `X` as R reads it back, pandas' `Unnamed: 0`, `index`):
    /// no evidence that its table joins any other.
    pub fn is_row_names(&self) -> bool {
        let name = self.name.trim().to_ascii_lowercase();
        self.is_row_index()
            && matches!(
                name.as_str(),
                "rownames" | "row.names" | "row_names" | "x" | "unnamed: 0" | "index"
            )
    }
}

/// The profile of a dataset's latest version: read from the store, or computed
/// in one streaming pass (progress in rows) and stored. A retired dataset's
/// rows are those of the version its view was checked against.
pub async fn profile_dataset(
    lake: &Lake,
    name: &str,
    job: &Job,
) -> Result<DatasetProfile, ProfileError> {
    let rows_at = lake.entry(name)?.retired.as_ref().map(|r| r.data_version);
    let ds = lake.open_dataset(name, rows_at).await?;
    let version = ds.version().version;
    let file = profile_file(lake, name, version)?;
    if let Some(p) = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| serde_json::from_str::<DatasetProfile>(&t).ok())
        .filter(|p| p.format == PROFILE_FORMAT)
    {
        return Ok(p);
    }
    let read_err = |source: lance::Error| ProfileError::Read {
        name: name.to_string(),
        source,
    };
    let rows = ds.count_rows(None).await.map_err(read_err)? as u64;
    job.set_total(rows, "rows");
    job.set_message(format!("profiling {name}"));
    let schema = arrow::datatypes::Schema::from(ds.schema());
    let profiled: Vec<&arrow::datatypes::FieldRef> = schema
        .fields()
        .iter()
        .filter(|f| !matches!(f.data_type(), DataType::FixedSizeList(..)))
        .collect();
    // Lance reads stored names; the profile carries the names the user knows.
    let columns: Vec<String> = profiled.iter().map(|f| f.name().clone()).collect();
    let mut states: Vec<ColumnState> = profiled
        .iter()
        .map(|f| ColumnState::new(crate::lake::columns::user_name(f), f.data_type().clone()))
        .collect();
    if !columns.is_empty() {
        let mut scan = ds.scan();
        scan.project(&columns).map_err(read_err)?;
        let mut stream = scan.try_into_stream().await.map_err(read_err)?;
        while let Some(batch) = stream.next().await {
            if job.is_cancelled() {
                return Err(ProfileError::Cancelled);
            }
            let batch = batch.map_err(read_err)?;
            let work: Vec<_> = states.iter_mut().zip(batch.columns()).collect();
            parallel_map(work, |(state, column)| state.add(column.as_ref()));
            job.advance(batch.num_rows() as u64);
        }
    }
    let profile = DatasetProfile {
        format: PROFILE_FORMAT,
        name: name.to_string(),
        version,
        rows,
        columns: parallel_map(states, ColumnState::finish),
    };
    // A profile that cannot be stored is recomputed next time; not an error.
    if let Some(dir) = file.parent()
        && std::fs::create_dir_all(dir).is_ok()
        && let Ok(text) = serde_json::to_string(&profile)
    {
        let _ = crate::files::write_atomic(&file, text.as_bytes());
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_type_profiles_and_numbers_get_a_histogram() {
        use arrow::array::{BooleanArray, Float32Array, Float64Array, Int64Array};
        use std::sync::Arc;
        let schema = Arc::new(arrow::datatypes::Schema::new(vec![
            arrow::datatypes::Field::new("f64", DataType::Float64, true),
            arrow::datatypes::Field::new("f32", DataType::Float32, true),
            arrow::datatypes::Field::new("flag", DataType::Boolean, true),
            arrow::datatypes::Field::new("n", DataType::Int64, true),
        ]));
        let batch = arrow::record_batch::RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Float64Array::from(vec![
                    Some(0.0),
                    Some(10.0),
                    None,
                    Some(5.0),
                ])),
                Arc::new(Float32Array::from(vec![1.5f32, 1.5, 1.5, 1.5])),
                Arc::new(BooleanArray::from(vec![
                    Some(true),
                    None,
                    Some(true),
                    Some(false),
                ])),
                Arc::new(Int64Array::from(vec![1i64, 2, 3, 4])),
            ],
        )
        .expect("batch");
        let profile = profile_batch("t", &batch);
        let column = |name: &str| {
            profile
                .columns
                .iter()
                .find(|c| c.name == name)
                .expect("column")
        };
        let f = column("f64");
        assert_eq!((f.rows, f.nulls, f.sampled), (4, 1, 3));
        assert_eq!(
            (f.min.as_deref(), f.max.as_deref()),
            (Some("0.0"), Some("10.0"))
        );
        let bins = f.histogram.as_ref().expect("a histogram").bins();
        assert_eq!(bins.len(), 20);
        assert_eq!(bins[0], (0.0, 0.5, 1));
        assert_eq!(bins[10], (5.0, 5.5, 1));
        assert_eq!(bins[19], (9.5, 10.0, 1));
        assert_eq!(bins.iter().map(|b| b.2).sum::<u64>(), 3);
        assert_eq!(
            column("f32").histogram.as_ref().map(Histogram::bins),
            Some(vec![(1.5, 1.5, 4)])
        );
        let flag = column("flag");
        assert_eq!(
            flag.top,
            vec![("true".to_string(), 2), ("false".to_string(), 1)]
        );
        assert_eq!(flag.histogram, None);
        let n = column("n").histogram.as_ref().expect("a histogram");
        assert_eq!(n.counts.iter().sum::<u64>(), 4);
        // Kept as its ends and counts: the stored JSON reads back equal.
        let json = serde_json::to_string(&profile).expect("json");
        let back: DatasetProfile = serde_json::from_str(&json).expect("read back");
        assert_eq!(back, profile);
    }

    #[test]
    fn names_split_into_words() {
        assert_eq!(name_tokens("cust_no"), vec!["cust", "no"]);
        assert_eq!(name_tokens("customerNumber"), vec!["customer", "number"]);
        assert_eq!(name_tokens("Order.Date-2"), vec!["order", "date", "2"]);
        assert_eq!(name_tokens("dob"), vec!["dob"]);
        assert_eq!(name_tokens("address2Line"), vec!["address", "2", "line"]);
    }
}
