//! A result's values as people read them: floats without binary noise, one
//! line per cell, rows found by a filter text, and a whole table as TSV or
//! Markdown for the clipboard.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// Significant digits a float is shown with: enough for every value a person
/// typed or a query computed exactly, few enough to hide the last-bit noise
/// of binary arithmetic (`82734.30000000002` is shown `82734.3`).
const FLOAT_DIGITS: usize = 15;

/// A float as text: rounded to [`FLOAT_DIGITS`] significant digits, then
/// printed in the shortest form that reads back as that rounded value. Whole
/// values keep a `.0` so they read as floats; very large and very small ones
/// use an exponent.
pub fn float_text(value: f64) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let rounded: f64 = format!("{value:.*e}", FLOAT_DIGITS - 1)
        .parse()
        .unwrap_or(value);
    // Debug prints the shortest exact form, with `.0` on whole numbers and
    // an exponent outside 1e-5..1e16.
    format!("{rounded:?}")
}

/// `text` on one line, at most `max_chars` long: line breaks and tabs become
/// visible marks (`↵`, `⇥`) and a longer text ends in `…`. Also says whether
/// anything was cut or marked, so a tooltip can show the whole.
pub fn one_line(text: &str, max_chars: usize) -> (String, bool) {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut changed = false;
    for (n, c) in text.chars().enumerate() {
        if n == max_chars {
            out.push('…');
            return (out, true);
        }
        match c {
            '\r' => changed = true,
            '\n' => {
                out.push('↵');
                changed = true;
            }
            '\t' => {
                out.push('⇥');
                changed = true;
            }
            c => out.push(c),
        }
    }
    (out, changed)
}

/// How a column's values become text.
enum ColumnText<'a> {
    Float64(&'a arrow::array::PrimitiveArray<Float64Type>),
    Float32(&'a arrow::array::PrimitiveArray<Float32Type>),
    Other(Option<ArrayFormatter<'a>>),
}

/// The values of a batch as text, cell by cell; nulls are empty.
pub struct TableText<'a> {
    batch: &'a RecordBatch,
    columns: Vec<ColumnText<'a>>,
}

impl<'a> TableText<'a> {
    /// Text for every column of `batch`.
    pub fn new(batch: &'a RecordBatch) -> Self {
        let options = FormatOptions::default();
        let columns = batch
            .columns()
            .iter()
            .map(|c| match c.data_type() {
                DataType::Float64 => ColumnText::Float64(c.as_primitive()),
                DataType::Float32 => ColumnText::Float32(c.as_primitive()),
                _ => ColumnText::Other(ArrayFormatter::try_new(c.as_ref(), &options).ok()),
            })
            .collect();
        Self { batch, columns }
    }

    /// Whether the value at (`row`, `column`) is null.
    pub fn is_null(&self, row: usize, column: usize) -> bool {
        self.batch.column(column).is_null(row)
    }

    /// The value at (`row`, `column`); "" for a null.
    pub fn value(&self, row: usize, column: usize) -> String {
        if self.is_null(row, column) {
            return String::new();
        }
        match &self.columns[column] {
            ColumnText::Float64(a) => float_text(a.value(row)),
            // A Float32's shortest form is already free of noise ("21.7").
            ColumnText::Float32(a) => match a.value(row) {
                v if v.is_finite() => format!("{v:?}"),
                v => float_text(f64::from(v)),
            },
            ColumnText::Other(Some(f)) => f.value(row).to_string(),
            ColumnText::Other(None) => String::new(),
        }
    }

    /// The rows (in `rows` order) whose text in some column contains
    /// `needle`, ignoring case; every row for an empty needle.
    pub fn matching(&self, rows: impl Iterator<Item = usize>, needle: &str) -> Vec<usize> {
        let needle = needle.trim().to_lowercase();
        if needle.is_empty() {
            return rows.collect();
        }
        rows.filter(|&r| {
            (0..self.columns.len()).any(|c| self.value(r, c).to_lowercase().contains(&needle))
        })
        .collect()
    }

    /// The header and `rows` as tab-separated lines, as spreadsheets paste
    /// them: tabs and line breaks inside a value become spaces.
    pub fn tsv(&self, rows: &[usize]) -> String {
        let clean = |s: String| s.replace(['\t', '\n', '\r'], " ");
        let mut out = self.names().join("\t");
        out.push('\n');
        for &r in rows {
            let line: Vec<String> = (0..self.columns.len())
                .map(|c| clean(self.value(r, c)))
                .collect();
            out.push_str(&line.join("\t"));
            out.push('\n');
        }
        out
    }

    /// The header and `rows` as a Markdown table, numbers right-aligned;
    /// `|` is escaped and line breaks become `<br>`.
    pub fn markdown(&self, rows: &[usize]) -> String {
        let clean = |s: &str| {
            s.replace('|', "\\|")
                .replace("\r\n", "<br>")
                .replace(['\n', '\r'], "<br>")
        };
        let names: Vec<String> = self.names().iter().map(|n| clean(n)).collect();
        let mut out = format!("| {} |\n|", names.join(" | "));
        for field in self.batch.schema().fields() {
            out.push_str(if field.data_type().is_numeric() {
                " ---: |"
            } else {
                " --- |"
            });
        }
        out.push('\n');
        for &r in rows {
            let line: Vec<String> = (0..self.columns.len())
                .map(|c| clean(&self.value(r, c)))
                .collect();
            out.push_str(&format!("| {} |\n", line.join(" | ")));
        }
        out
    }

    fn names(&self) -> Vec<String> {
        self.batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{BooleanArray, Float32Array, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch() -> Result<RecordBatch, arrow::error::ArrowError> {
        let schema = Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("total", DataType::Float64, true),
            Field::new("n", DataType::Int64, true),
            Field::new("ok", DataType::Boolean, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec![
                    Some("Ada | Lovelace"),
                    Some("two\nlines"),
                    None,
                ])),
                Arc::new(Float64Array::from(vec![
                    Some(0.1 + 0.2),
                    Some(82734.30000000002),
                    Some(3.0),
                ])),
                Arc::new(Int64Array::from(vec![Some(1), None, Some(-7)])),
                Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
            ],
        )
    }

    #[test]
    fn floats_lose_binary_noise_and_keep_their_value() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(float_text(0.1 + 0.2), "0.3");
        assert_eq!(float_text(82734.30000000002), "82734.3");
        assert_eq!(float_text(3.0), "3.0");
        assert_eq!(float_text(-2.5e-7), "-2.5e-7");
        assert_eq!(float_text(1e20), "1e20");
        assert_eq!(float_text(123456789.125), "123456789.125");
        assert_eq!(float_text(f64::NAN), "NaN");
        assert_eq!(float_text(f64::NEG_INFINITY), "-inf");
        // 15 significant digits survive.
        assert_eq!(float_text(0.123456789012345), "0.123456789012345");
        // A Float32 is shown as the value it was written as, not its binary expansion.
        let f32_batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("t", DataType::Float32, false)])),
            vec![Arc::new(Float32Array::from(vec![21.7f32]))],
        )?;
        assert_eq!(TableText::new(&f32_batch).value(0, 0), "21.7");
        Ok(())
    }

    #[test]
    fn a_cell_is_one_line_and_says_when_it_was_changed() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(one_line("plain", 10), ("plain".to_string(), false));
        assert_eq!(one_line("a\r\nb\tc", 10), ("a↵b⇥c".to_string(), true));
        assert_eq!(one_line("abcdefgh", 5), ("abcde…".to_string(), true));
        assert_eq!(one_line("abcde", 5), ("abcde".to_string(), false));
        Ok(())
    }

    #[test]
    fn tables_copy_as_tsv_and_markdown() -> Result<(), Box<dyn std::error::Error>> {
        let b = batch()?;
        let text = TableText::new(&b);
        assert_eq!(
            text.tsv(&[0, 1, 2]),
            "name\ttotal\tn\tok\nAda | Lovelace\t0.3\t1\ttrue\ntwo lines\t82734.3\t\tfalse\n\t3.0\t-7\t\n"
        );
        assert_eq!(
            text.markdown(&[1, 0]),
            "| name | total | n | ok |\n| --- | ---: | ---: | --- |\n\
             | two<br>lines | 82734.3 |  | false |\n\
             | Ada \\| Lovelace | 0.3 | 1 | true |\n"
        );
        Ok(())
    }

    #[test]
    fn a_filter_finds_rows_by_any_column_ignoring_case() -> Result<(), Box<dyn std::error::Error>> {
        let b = batch()?;
        let text = TableText::new(&b);
        assert_eq!(text.matching(0..3, "LOVE"), vec![0]);
        assert_eq!(text.matching(0..3, "82734.3"), vec![1]);
        assert_eq!(text.matching(0..3, "-7"), vec![2]);
        assert_eq!(text.matching([2, 0, 1].into_iter(), "  "), vec![2, 0, 1]);
        assert_eq!(text.matching(0..3, "absent"), Vec::<usize>::new());
        Ok(())
    }
}
