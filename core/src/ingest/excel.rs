//! Excel and OpenDocument workbooks: one dataset per non-empty sheet, typed columns.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, RecordBatch,
    RecordBatchReader, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use calamine::{Data, Range, Reader, open_workbook_auto};
use chrono::NaiveDate;

use super::column_type::ColumnType;
use super::guard::FileProgress;
use super::{IngestError, SourceStats};

fn workbook_error(path: &Path, e: impl std::fmt::Display) -> IngestError {
    IngestError::Format {
        path: path.to_path_buf(),
        reason: format!("not a readable workbook: {e}"),
    }
}

fn load_range(path: &Path, sheet: &str) -> Result<Range<Data>, IngestError> {
    let mut book = open_workbook_auto(path).map_err(|e| workbook_error(path, e))?;
    book.worksheet_range(sheet)
        .map_err(|e| IngestError::Format {
            path: path.to_path_buf(),
            reason: format!("sheet '{sheet}' cannot be read: {e}"),
        })
}

/// Names of the sheets that hold at least one cell.
pub(crate) fn sheet_names(path: &Path) -> Result<Vec<String>, IngestError> {
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == 0 {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mut book = open_workbook_auto(path).map_err(|e| workbook_error(path, e))?;
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| IngestError::Format {
                path: path.to_path_buf(),
                reason: format!("sheet '{name}' cannot be read: {e}"),
            })?;
        if !range.is_empty() {
            out.push(name);
        }
    }
    if out.is_empty() {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

fn datetime_micros(cell: &Data) -> Option<i64> {
    match cell {
        Data::DateTime(d) => d.as_datetime().map(|t| t.and_utc().timestamp_micros()),
        Data::DateTimeIso(s) => chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            })
            .map(|t| t.and_utc().timestamp_micros()),
        _ => None,
    }
}

fn infer(cells: impl Iterator<Item = Data>) -> ColumnType {
    let (mut seen, mut bool_, mut int, mut float, mut date, mut ts) =
        (false, true, true, true, true, true);
    for c in cells {
        match c {
            Data::Empty | Data::Error(_) => continue,
            _ => seen = true,
        }
        let micros = datetime_micros(&c);
        bool_ &= matches!(c, Data::Bool(_));
        int &= match c {
            Data::Int(_) => true,
            Data::Float(f) => f.fract() == 0.0 && f.abs() < 9.0e15,
            _ => false,
        };
        float &= matches!(c, Data::Int(_) | Data::Float(_));
        ts &= micros.is_some();
        date &= micros.is_some_and(|m| m % 86_400_000_000 == 0);
    }
    match () {
        _ if !seen => ColumnType::Text,
        _ if bool_ => ColumnType::Bool,
        _ if int => ColumnType::Int,
        _ if float => ColumnType::Float,
        _ if date => ColumnType::Date,
        _ if ts => ColumnType::Timestamp,
        _ => ColumnType::Text,
    }
}

fn cell_text(c: &Data) -> Option<String> {
    match c {
        Data::Empty | Data::Error(_) => None,
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(format!("{}", *f as i64)),
        Data::DateTime(d) => d.as_datetime().map(|t| {
            if t.time() == chrono::NaiveTime::MIN {
                t.date().to_string()
            } else {
                t.to_string()
            }
        }),
        other => Some(other.to_string()),
    }
}

struct SheetReader {
    path: PathBuf,
    sheet: String,
    range: Range<Data>,
    schema: SchemaRef,
    types: Vec<ColumnType>,
    next_row: usize,
    batch_rows: usize,
    progress: FileProgress,
}

/// Opens one sheet; its first non-empty row holds the column names.
pub(crate) fn open_sheet(
    path: &Path,
    sheet: &str,
    batch_rows: usize,
    progress: FileProgress,
    stats: Arc<SourceStats>,
) -> Result<Box<dyn RecordBatchReader + Send>, IngestError> {
    let range = load_range(path, sheet)?;
    let width = range.width();
    let header_row = range
        .rows()
        .position(|r| r.iter().any(|c| !matches!(c, Data::Empty)))
        .unwrap_or(0);
    let header: Vec<Data> = range
        .rows()
        .nth(header_row)
        .map(<[Data]>::to_vec)
        .unwrap_or_default();
    let mut names: Vec<String> = Vec::with_capacity(width);
    for i in 0..width {
        let mut name = header
            .get(i)
            .and_then(cell_text)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("column_{}", i + 1));
        let base = name.clone();
        let mut k = 2;
        while names.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        if name != base {
            stats.warn(format!(
                "{}#{sheet}: column name '{base}' repeats; the repeat is called '{name}'",
                path.display()
            ));
        }
        names.push(name);
    }
    let types: Vec<ColumnType> = (0..width)
        .map(|i| {
            infer(
                range
                    .rows()
                    .skip(header_row + 1)
                    .map(|r| r.get(i).cloned().unwrap_or(Data::Empty)),
            )
        })
        .collect();
    let fields: Vec<Field> = names
        .iter()
        .zip(&types)
        .map(|(n, t)| Field::new(n, t.data_type(), true))
        .collect();
    Ok(Box::new(SheetReader {
        path: path.to_path_buf(),
        sheet: sheet.to_string(),
        range,
        schema: Arc::new(Schema::new(fields)),
        types,
        next_row: header_row + 1,
        batch_rows,
        progress,
    }))
}

impl SheetReader {
    fn column(&self, i: usize, rows: &[&[Data]]) -> ArrayRef {
        let cell = |r: &&[Data]| r.get(i).cloned().unwrap_or(Data::Empty);
        match self.types[i] {
            ColumnType::Bool => {
                let mut b = BooleanBuilder::new();
                rows.iter().for_each(|r| {
                    b.append_option(match cell(r) {
                        Data::Bool(v) => Some(v),
                        _ => None,
                    })
                });
                Arc::new(b.finish())
            }
            ColumnType::Int => {
                let mut b = Int64Builder::new();
                rows.iter().for_each(|r| {
                    b.append_option(match cell(r) {
                        Data::Int(v) => Some(v),
                        Data::Float(f) => Some(f as i64),
                        _ => None,
                    })
                });
                Arc::new(b.finish())
            }
            ColumnType::Float => {
                let mut b = Float64Builder::new();
                rows.iter().for_each(|r| {
                    b.append_option(match cell(r) {
                        Data::Int(v) => Some(v as f64),
                        Data::Float(f) => Some(f),
                        _ => None,
                    })
                });
                Arc::new(b.finish())
            }
            ColumnType::Date => {
                let mut b = Date32Builder::new();
                rows.iter().for_each(|r| {
                    b.append_option(
                        datetime_micros(&cell(r))
                            .and_then(|m| i32::try_from(m / 86_400_000_000).ok()),
                    )
                });
                Arc::new(b.finish())
            }
            ColumnType::Timestamp => {
                let mut b = TimestampMicrosecondBuilder::new();
                rows.iter()
                    .for_each(|r| b.append_option(datetime_micros(&cell(r))));
                Arc::new(b.finish())
            }
            ColumnType::Text => {
                let mut b = StringBuilder::new();
                rows.iter()
                    .for_each(|r| b.append_option(cell_text(&cell(r))));
                Arc::new(b.finish())
            }
        }
    }
}

impl Iterator for SheetReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let height = self.range.height();
        if self.next_row >= height {
            self.progress.finish();
            return None;
        }
        if self.progress.cancelled() {
            return Some(Err(ArrowError::ExternalError(Box::new(
                IngestError::Cancelled,
            ))));
        }
        let rows: Vec<&[Data]> = self
            .range
            .rows()
            .skip(self.next_row)
            .take(self.batch_rows)
            .collect();
        self.next_row += rows.len();
        self.progress
            .set_fraction(self.next_row as f64 / height as f64);
        let columns: Vec<ArrayRef> = (0..self.types.len())
            .map(|i| self.column(i, &rows))
            .collect();
        Some(
            RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| {
                ArrowError::ExternalError(Box::new(IngestError::Format {
                    path: self.path.clone(),
                    reason: format!("sheet '{}': {e}", self.sheet),
                }))
            }),
        )
    }
}

impl RecordBatchReader for SheetReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}
