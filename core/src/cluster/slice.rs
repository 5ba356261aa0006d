//! SQL that selects exactly a cluster's rows. A cluster's description (its
//! attributes' predicate) says what its rows have in common, but other rows
//! can share it and some members can lack it; to slice the cluster itself,
//! its members are named by a key column of the clustered rows.

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::sql::quote_ident;

/// Members beyond this many are not listed in one query (the query would
/// be longer than a person can read or an editor can hold comfortably).
pub const MAX_LISTED_MEMBERS: usize = 5000;

/// The first column of `rows` whose values identify them: integers or
/// text, no nulls, no value twice. Columns named `id` or ending in `_id`
/// are preferred.
pub fn key_column(rows: &RecordBatch) -> Option<usize> {
    let schema = rows.schema();
    let candidates: Vec<usize> = (0..rows.num_columns())
        .filter(|&i| is_key(rows.column(i).as_ref()))
        .collect();
    let named_like_key = |i: &&usize| {
        let name = schema.field(**i).name().to_lowercase();
        name == "id" || name.ends_with("_id")
    };
    candidates
        .iter()
        .find(named_like_key)
        .or(candidates.first())
        .copied()
}

fn is_key(column: &dyn Array) -> bool {
    let keyable = column.data_type().is_integer()
        || matches!(
            column.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        );
    if !keyable || column.null_count() > 0 || column.is_empty() {
        return false;
    }
    let Ok(formatter) = ArrayFormatter::try_new(column, &FormatOptions::default()) else {
        return false;
    };
    let mut seen = std::collections::HashSet::with_capacity(column.len());
    (0..column.len()).all(|i| seen.insert(formatter.value(i).to_string()))
}

/// `SELECT * FROM dataset WHERE key IN (…)` listing the key of every row of
/// `rows` whose label is `cluster`. None when the rows have no key column,
/// the cluster has no members, or it has more than [`MAX_LISTED_MEMBERS`].
pub fn membership_sql(
    dataset: &str,
    rows: &RecordBatch,
    labels: &[i32],
    cluster: i32,
) -> Option<String> {
    let key = key_column(rows)?;
    let column = rows.column(key);
    let text = !column.data_type().is_integer();
    let formatter = ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default()).ok()?;
    let members: Vec<String> = labels
        .iter()
        .enumerate()
        .filter(|(row, label)| **label == cluster && *row < rows.num_rows())
        .map(|(row, _)| {
            let value = formatter.value(row).to_string();
            if text {
                format!("'{}'", value.replace('\'', "''"))
            } else {
                value
            }
        })
        .collect();
    if members.is_empty() || members.len() > MAX_LISTED_MEMBERS {
        return None;
    }
    let name = rows.schema().field(key).name().clone();
    Some(format!(
        "SELECT *\nFROM {}\nWHERE {} IN ({})",
        quote_ident(dataset),
        quote_ident(&name),
        members.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn rows() -> RecordBatch {
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("score", DataType::Float64, false),
                Field::new("code", DataType::Utf8, false),
                Field::new("customer_id", DataType::Int64, false),
            ])),
            vec![
                Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0])),
                Arc::new(StringArray::from(vec!["a", "b'x", "c", "d"])),
                Arc::new(Int64Array::from(vec![10, 11, 12, 13])),
            ],
        )
        .expect("batch")
    }

    #[test]
    fn members_are_listed_by_the_key_column() {
        let sql = membership_sql("shop customers", &rows(), &[0, 1, 0, -1], 0);
        assert_eq!(
            sql.as_deref(),
            Some("SELECT *\nFROM \"shop customers\"\nWHERE \"customer_id\" IN (10, 12)")
        );
        assert_eq!(membership_sql("t", &rows(), &[0, 1, 0, -1], 7), None);
    }

    #[test]
    fn text_keys_are_quoted_and_repeated_values_are_no_key() {
        let batch = rows().project(&[0, 1]).expect("project");
        assert_eq!(key_column(&batch), Some(1));
        assert_eq!(
            membership_sql("t", &batch, &[1, 1, 0, 0], 1).as_deref(),
            Some("SELECT *\nFROM \"t\"\nWHERE \"code\" IN ('a', 'b''x')")
        );
        let repeated = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)])),
            vec![Arc::new(Int64Array::from(vec![1, 1]))],
        )
        .expect("batch");
        assert_eq!(key_column(&repeated), None);
    }
}
