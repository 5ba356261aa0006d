//! Chunks of whole records into Arrow batches: one row's fields checked
//! against the column types, then appended to typed column builders.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder,
    RecordBatch, StringArray, TimestampMicrosecondBuilder,
};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;

use super::records::each_record;
use super::values::{is_null_token, parse_bits};
use super::{ChunkResult, shorten};
use crate::ingest::column_type::ColumnType;
use crate::ingest::{IngestError, OnError, SourceStats};

/// A field's `start..end` byte offsets in the bytes it was read from.
pub(super) type FieldBounds = (usize, usize);

/// Turns chunks of whole records into batches; shared by the parser threads.
pub(super) struct ChunkParser {
    pub(super) path: PathBuf,
    pub(super) schema: SchemaRef,
    pub(super) types: Vec<ColumnType>,
    pub(super) delimiter: u8,
    pub(super) on_error: OnError,
    pub(super) stats: Arc<SourceStats>,
}

impl ChunkParser {
    /// Parses a chunk. Text is validated as UTF-8 once per column; only if that
    /// fails is the chunk parsed again field by field to name the bad line.
    pub(super) fn parse(&self, chunk: &[u8], first_line: u64, skip_header: bool) -> ChunkResult {
        match self.parse_with(chunk, first_line, skip_header, false)? {
            Ok(batch) => Ok(batch),
            Err(_) => self
                .parse_with(chunk, first_line, skip_header, true)?
                .map_err(|e| IngestError::Unreadable {
                    path: self.path.clone(),
                    source: e.into(),
                }),
        }
    }

    fn parse_with(
        &self,
        chunk: &[u8],
        first_line: u64,
        skip_header: bool,
        check_text: bool,
    ) -> Result<Result<Option<RecordBatch>, ArrowError>, IngestError> {
        let mut rows = Rows::new(self, chunk.len(), check_text);
        each_record(
            &self.path,
            chunk,
            self.delimiter,
            first_line,
            skip_header,
            |base, bounds, line| rows.add(base, bounds, line),
        )?;
        Ok(rows.finish())
    }

    /// Checks one record against the column types, leaving each non-text
    /// value's bits in `values` and whether it is null in `nulls`; or says
    /// which line and column is wrong. Text is checked for UTF-8 only with
    /// `check_text` (otherwise once per column, when the batch is finished).
    fn parse_row(
        &self,
        base: &[u8],
        bounds: &[FieldBounds],
        line: u64,
        values: &mut [u64],
        nulls: &mut [bool],
        check_text: bool,
    ) -> Result<(), IngestError> {
        let types = &self.types[..];
        if bounds.len() != types.len() {
            return Err(self.wrong_field_count(line, bounds.len()));
        }
        for i in 0..types.len() {
            let ty = types[i];
            let (start, end) = bounds[i];
            let raw = &base[start..end];
            if ty == ColumnType::Text {
                nulls[i] = raw.is_empty();
                if check_text && std::str::from_utf8(raw).is_err() {
                    return Err(self.not_utf8(line, i));
                }
                continue;
            }
            let v = raw.trim_ascii();
            nulls[i] = is_null_token(v);
            if !nulls[i] {
                values[i] = parse_bits(ty, v).ok_or_else(|| self.bad_value(line, i, v))?;
            }
        }
        Ok(())
    }

    #[cold]
    fn wrong_field_count(&self, line: u64, found: usize) -> IngestError {
        IngestError::Parse {
            path: self.path.clone(),
            location: format!("line {line}"),
            reason: format!(
                "expected {} fields (as in the first row), found {found}; check for an unquoted delimiter or a missing quote, or use --on-error skip",
                self.types.len(),
            ),
        }
    }

    #[cold]
    fn not_utf8(&self, line: u64, column: usize) -> IngestError {
        IngestError::Parse {
            path: self.path.clone(),
            location: format!("line {line}, column '{}'", self.schema.field(column).name()),
            reason: "not valid UTF-8; if the file uses another encoding pass --encoding (e.g. windows-1252)".into(),
        }
    }

    #[cold]
    fn bad_value(&self, line: u64, column: usize, v: &[u8]) -> IngestError {
        IngestError::Parse {
            path: self.path.clone(),
            location: format!("line {line}, column '{}'", self.schema.field(column).name()),
            reason: format!(
                "'{}' is not a valid {}, the type inferred from the column's first rows; fix the value or use --on-error skip",
                shorten(&String::from_utf8_lossy(v)),
                self.types[column].describe()
            ),
        }
    }
}

/// The rows of one chunk so far, column by column.
struct Rows<'p> {
    parser: &'p ChunkParser,
    builders: Vec<ColumnBuilder>,
    /// Scratch for one row: each non-text value's bits, and which are null.
    values: Vec<u64>,
    nulls: Vec<bool>,
    check_text: bool,
    count: usize,
}

impl<'p> Rows<'p> {
    fn new(parser: &'p ChunkParser, chunk_len: usize, check_text: bool) -> Self {
        let ncols = parser.types.len();
        let estimate = chunk_len / (8 * ncols.max(1)) + 16;
        Self {
            parser,
            builders: parser
                .types
                .iter()
                .map(|t| ColumnBuilder::new(*t, estimate))
                .collect(),
            values: vec![0; ncols],
            nulls: vec![false; ncols],
            check_text,
            count: 0,
        }
    }

    /// Appends a record whose fields are `bounds` in `base`; a bad record is
    /// skipped and counted under `--on-error skip`, and an error otherwise.
    fn add(&mut self, base: &[u8], bounds: &[FieldBounds], line: u64) -> Result<(), IngestError> {
        let parser = self.parser;
        match parser.parse_row(
            base,
            bounds,
            line,
            &mut self.values,
            &mut self.nulls,
            self.check_text,
        ) {
            Ok(()) => {
                for (i, b) in self.builders.iter_mut().enumerate() {
                    let (start, end) = bounds[i];
                    b.push(self.values[i], self.nulls[i], &base[start..end]);
                }
                self.count += 1;
                Ok(())
            }
            Err(e) if parser.on_error == OnError::Skip => {
                // A quote left open swallows the lines after it into one
                // record: every line it took is a row lost, and said so.
                let spanned = match (bounds.first(), bounds.last()) {
                    (Some(first), Some(last)) if first.0 < last.1 => {
                        let text = base[first.0..last.1].trim_ascii_end();
                        1 + memchr::memchr_iter(b'\n', text).count() as u64
                    }
                    _ => 1,
                };
                let skipped = parser.stats.skipped.fetch_add(spanned, Ordering::Relaxed);
                if spanned > 1 {
                    parser.stats.warn(format!(
                        "skipped lines {line} to {}: a quoted field runs over {spanned} lines (a quote left open?), so they were read as one bad row: {e}",
                        line + spanned - 1
                    ));
                } else if skipped < 5 {
                    parser.stats.warn(format!("skipped: {e}"));
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The batch (`None` when every row was skipped); text that is not UTF-8 is an error.
    fn finish(mut self) -> Result<Option<RecordBatch>, ArrowError> {
        if self.count == 0 {
            return Ok(None);
        }
        let columns = self
            .builders
            .iter_mut()
            .map(ColumnBuilder::finish)
            .collect::<Result<Vec<ArrayRef>, _>>()?;
        RecordBatch::try_new(self.parser.schema.clone(), columns).map(Some)
    }
}

/// One column's values, typed.
enum ColumnBuilder {
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    /// Bytes, validated as UTF-8 once per batch in `finish`.
    Text(BinaryBuilder),
}

impl ColumnBuilder {
    fn new(ty: ColumnType, capacity: usize) -> Self {
        match ty {
            ColumnType::Bool => Self::Bool(BooleanBuilder::with_capacity(capacity)),
            ColumnType::Int => Self::Int(Int64Builder::with_capacity(capacity)),
            ColumnType::Float => Self::Float(Float64Builder::with_capacity(capacity)),
            ColumnType::Date => Self::Date(Date32Builder::with_capacity(capacity)),
            ColumnType::Timestamp => {
                Self::Timestamp(TimestampMicrosecondBuilder::with_capacity(capacity))
            }
            ColumnType::Text => Self::Text(BinaryBuilder::with_capacity(capacity, capacity * 16)),
        }
    }

    /// Appends a value: `bits` as `parse_bits` gave them, or the field's bytes for text.
    fn push(&mut self, bits: u64, null: bool, raw: &[u8]) {
        if null {
            match self {
                Self::Bool(b) => b.append_null(),
                Self::Int(b) => b.append_null(),
                Self::Float(b) => b.append_null(),
                Self::Date(b) => b.append_null(),
                Self::Timestamp(b) => b.append_null(),
                Self::Text(b) => b.append_null(),
            }
            return;
        }
        match self {
            Self::Bool(b) => b.append_value(bits != 0),
            Self::Int(b) => b.append_value(bits as i64),
            Self::Float(b) => b.append_value(f64::from_bits(bits)),
            Self::Date(b) => b.append_value(bits as i64 as i32),
            Self::Timestamp(b) => b.append_value(bits as i64),
            Self::Text(b) => b.append_value(raw),
        }
    }

    /// The column so far; text that is not UTF-8 is an error.
    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(match self {
            Self::Bool(b) => Arc::new(b.finish()),
            Self::Int(b) => Arc::new(b.finish()),
            Self::Float(b) => Arc::new(b.finish()),
            Self::Date(b) => Arc::new(b.finish()),
            Self::Timestamp(b) => Arc::new(b.finish()),
            Self::Text(b) => Arc::new(StringArray::try_from_binary(b.finish())?),
        })
    }
}
