//! Rows as vectors for clustering: a dataset's embeddings, or its columns
//! (numbers and dates standardised, low-cardinality values one-hot), or both.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use serde::{Deserialize, Serialize};

use super::matrix::Matrix;

/// Distinct values a text column may have to be one-hot encoded.
pub const MAX_CATEGORIES: usize = 50;

/// What the rows are represented by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureSource {
    /// The embedding column (passages and embedded tables).
    #[default]
    Embedding,
    /// Numeric, date and categorical columns.
    Columns,
    /// Both, side by side (the embedding scaled to weigh as much as the columns).
    Both,
}

impl std::fmt::Display for FeatureSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Embedding => "embedding",
            Self::Columns => "columns",
            Self::Both => "embedding and columns",
        })
    }
}

impl std::str::FromStr for FeatureSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "embedding" | "embeddings" => Ok(Self::Embedding),
            "columns" => Ok(Self::Columns),
            "both" => Ok(Self::Both),
            other => Err(format!(
                "'{other}' is not a feature source: use embedding, columns or both"
            )),
        }
    }
}

/// The vectors of the rows, and what went into them.
#[derive(Debug, Clone)]
pub struct Features {
    /// One row per table row.
    pub matrix: Matrix,
    /// Columns used (one-hot columns once, by name).
    pub columns: Vec<String>,
    /// Columns left out, and why.
    pub skipped: Vec<String>,
}

/// Why rows could not become vectors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureError {
    /// No column could be used.
    #[error(
        "no column to cluster by: the table has no numeric, date or low-cardinality columns{0}"
    )]
    NoColumns(String),
    /// The embedding column is missing or malformed.
    #[error("{0}")]
    Embedding(String),
}

/// How a column enters the vectors.
enum Encoding {
    /// Standardised values (nulls at the mean).
    Numeric { values: Vec<f64> },
    /// One-hot over these values (others and nulls all zero).
    OneHot {
        codes: Vec<Option<usize>>,
        width: usize,
    },
}

/// The usable columns of `batch` as standardised numbers and one-hot categories.
pub fn column_features(batch: &RecordBatch) -> Result<Features, FeatureError> {
    let rows = batch.num_rows();
    let mut encodings = Vec::new();
    let mut columns = Vec::new();
    let mut skipped = Vec::new();
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        let name = field.name();
        match encode(array.as_ref(), rows) {
            Ok(encoding) => {
                columns.push(name.clone());
                encodings.push(encoding);
            }
            Err(why) => skipped.push(format!("{name}: {why}")),
        }
    }
    if encodings.is_empty() {
        let why = if skipped.is_empty() {
            String::new()
        } else {
            format!(" ({})", skipped.join("; "))
        };
        return Err(FeatureError::NoColumns(why));
    }
    let width: usize = encodings
        .iter()
        .map(|e| match e {
            Encoding::Numeric { .. } => 1,
            Encoding::OneHot { width, .. } => *width,
        })
        .sum();
    let mut matrix = Matrix::zeros(rows, width);
    let mut offset = 0;
    for encoding in &encodings {
        match encoding {
            Encoding::Numeric { values } => {
                for (r, v) in values.iter().enumerate() {
                    matrix.row_mut(r)[offset] = *v as f32;
                }
                offset += 1;
            }
            Encoding::OneHot { codes, width } => {
                // Each category column weighs like one standardised number.
                let weight = std::f32::consts::FRAC_1_SQRT_2;
                for (r, code) in codes.iter().enumerate() {
                    if let Some(c) = code {
                        matrix.row_mut(r)[offset + c] = weight;
                    }
                }
                offset += width;
            }
        }
    }
    Ok(Features {
        matrix,
        columns,
        skipped,
    })
}

/// Whether an integer column with `distinct` values over `rows` rows looks
/// like an identifier (almost every value distinct): it says nothing about
/// which rows resemble each other.
pub(super) fn identifier_like(distinct: usize, rows: usize) -> bool {
    distinct as f64 >= 0.95 * rows as f64
}

/// One column's encoding, or why it is left out.
fn encode(array: &dyn Array, rows: usize) -> Result<Encoding, String> {
    let data_type = array.data_type();
    if data_type.is_numeric() || matches!(data_type, DataType::Boolean) {
        let floats = cast(array, &DataType::Float64).map_err(|e| e.to_string())?;
        let floats = floats.as_primitive::<Float64Type>();
        let values: Vec<Option<f64>> = (0..rows)
            .map(|i| (floats.is_valid(i) && floats.value(i).is_finite()).then(|| floats.value(i)))
            .collect();
        if data_type.is_integer() {
            let mut distinct: Vec<i64> = values.iter().flatten().map(|v| *v as i64).collect();
            distinct.sort_unstable();
            distinct.dedup();
            // Tiny tables keep theirs: there may be nothing else to cluster on.
            if rows >= 20 && identifier_like(distinct.len(), rows) {
                return Err("an identifier (almost every value distinct)".into());
            }
        }
        return standardise(&values);
    }
    if matches!(
        data_type,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)
    ) {
        let ints = cast(array, &DataType::Int64)
            .or_else(|_| {
                cast(
                    array,
                    &DataType::Timestamp(arrow::datatypes::TimeUnit::Second, None),
                )
                .and_then(|t| cast(&t, &DataType::Int64))
            })
            .map_err(|e| e.to_string())?;
        let ints = ints.as_primitive::<arrow::datatypes::Int64Type>();
        let values: Vec<Option<f64>> = (0..rows)
            .map(|i| ints.is_valid(i).then(|| ints.value(i) as f64))
            .collect();
        return standardise(&values);
    }
    if matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..)
    ) {
        let text = cast(array, &DataType::Utf8).map_err(|e| e.to_string())?;
        let text = text.as_string::<i32>();
        let mut values: Vec<&str> = (0..rows)
            .filter(|i| text.is_valid(*i))
            .map(|i| text.value(i))
            .collect();
        values.sort_unstable();
        values.dedup();
        if values.len() > MAX_CATEGORIES || values.len() * 2 > rows.max(2) {
            return Err(format!(
                "text with {} distinct values (used for labels, not distances)",
                values.len()
            ));
        }
        if values.len() < 2 {
            return Err("the same value in every row".into());
        }
        let codes = (0..rows)
            .map(|i| {
                text.is_valid(i)
                    .then(|| values.binary_search(&text.value(i)).ok())
                    .flatten()
            })
            .collect();
        return Ok(Encoding::OneHot {
            codes,
            width: values.len(),
        });
    }
    Err(format!("type {data_type} is not used"))
}

/// Values as z-scores, missing ones at 0 (the mean).
fn standardise(values: &[Option<f64>]) -> Result<Encoding, String> {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    if present.is_empty() {
        return Err("no values".into());
    }
    let mean = present.iter().sum::<f64>() / present.len() as f64;
    let variance = present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / present.len() as f64;
    let sd = variance.sqrt();
    if sd <= 1e-12 || !sd.is_finite() {
        return Err("the same value in every row".into());
    }
    Ok(Encoding::Numeric {
        values: values
            .iter()
            .map(|v| v.map_or(0.0, |v| (v - mean) / sd))
            .collect(),
    })
}

/// The embedding column of `batch` as vectors; rows without a vector are
/// reported (their indices) and left out.
pub fn embedding_features(
    batch: &RecordBatch,
    column: &str,
) -> Result<(Features, Vec<usize>), FeatureError> {
    let array = batch
        .column_by_name(column)
        .ok_or_else(|| FeatureError::Embedding(format!("no column '{column}'")))?;
    let list = array
        .as_fixed_size_list_opt()
        .ok_or_else(|| FeatureError::Embedding(format!("'{column}' is not a vector column")))?;
    let dim = list.value_length() as usize;
    let values = cast(list.values(), &DataType::Float32)
        .map_err(|e| FeatureError::Embedding(e.to_string()))?;
    let values = values.as_primitive::<Float32Type>();
    let mut data = Vec::with_capacity(batch.num_rows() * dim);
    let mut kept = Vec::new();
    for row in 0..batch.num_rows() {
        if list.is_null(row) {
            continue;
        }
        let start = list.value_offset(row) as usize;
        let v = &values.values()[start..start + dim];
        if v.iter().all(|x| x.is_finite()) {
            data.extend_from_slice(v);
            kept.push(row);
        }
    }
    let matrix = Matrix::new(kept.len(), dim, data)
        .ok_or_else(|| FeatureError::Embedding("vector lengths differ".into()))?;
    Ok((
        Features {
            matrix,
            columns: vec![column.to_string()],
            skipped: Vec::new(),
        },
        kept,
    ))
}

/// Two feature sets side by side, each scaled to the same total variance.
pub fn combine(a: &Features, b: &Features) -> Features {
    let rows = a.matrix.rows().min(b.matrix.rows());
    let scale = |m: &Matrix| {
        let total: f64 = m.as_slice().iter().map(|v| f64::from(*v).powi(2)).sum();
        let per_row = total / m.rows().max(1) as f64;
        if per_row > 0.0 {
            (1.0 / per_row.sqrt()) as f32
        } else {
            1.0
        }
    };
    let (sa, sb) = (scale(&a.matrix), scale(&b.matrix));
    let cols = a.matrix.cols() + b.matrix.cols();
    let mut matrix = Matrix::zeros(rows, cols);
    for r in 0..rows {
        let out = matrix.row_mut(r);
        for (o, v) in out.iter_mut().zip(a.matrix.row(r)) {
            *o = v * sa;
        }
        for (o, v) in out[a.matrix.cols()..].iter_mut().zip(b.matrix.row(r)) {
            *o = v * sb;
        }
    }
    Features {
        matrix,
        columns: a.columns.iter().chain(&b.columns).cloned().collect(),
        skipped: a.skipped.iter().chain(&b.skipped).cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};

    use super::*;

    #[test]
    fn numbers_are_standardised_categories_one_hot_and_ids_left_out() {
        let rows = 40;
        let batch = RecordBatch::try_from_iter(vec![
            (
                "id",
                Arc::new(Int64Array::from_iter_values(0..rows)) as ArrayRef,
            ),
            (
                "age",
                Arc::new(Float64Array::from_iter((0..rows).map(|i| {
                    if i == 3 {
                        None
                    } else {
                        Some(20.0 + (i % 10) as f64)
                    }
                }))),
            ),
            (
                "region",
                Arc::new(StringArray::from_iter_values(
                    (0..rows).map(|i| if i % 2 == 0 { "north" } else { "south" }),
                )),
            ),
            (
                "note",
                Arc::new(StringArray::from_iter_values(
                    (0..rows).map(|i| format!("text {i}")),
                )),
            ),
        ])
        .expect("batch");
        let f = column_features(&batch).expect("features");
        assert_eq!(f.columns, vec!["age", "region"]);
        assert_eq!(f.matrix.cols(), 3);
        let mean: f32 = (0..rows as usize).map(|r| f.matrix.row(r)[0]).sum::<f32>() / rows as f32;
        assert!(mean.abs() < 0.1, "{mean}");
        assert_eq!(f.matrix.row(3)[0], 0.0, "a missing number sits at the mean");
        assert!(f.matrix.row(0)[1] > 0.0 && f.matrix.row(0)[2] == 0.0);
        assert!(f.skipped.iter().any(|s| s.starts_with("id:")));
        assert!(f.skipped.iter().any(|s| s.starts_with("note:")));
    }

    #[test]
    fn a_table_with_nothing_usable_is_a_clear_error() {
        let batch = RecordBatch::try_from_iter(vec![(
            "note",
            Arc::new(StringArray::from_iter_values(
                (0..30).map(|i| format!("t{i}")),
            )) as ArrayRef,
        )])
        .expect("batch");
        let err = column_features(&batch).expect_err("nothing usable");
        assert!(err.to_string().contains("no column to cluster by"), "{err}");
    }
}
