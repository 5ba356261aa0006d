//! Delimited text (CSV, TSV, ...): delimiter and header sniffing, type inference,
//! encodings, and row-level errors that name the line and column.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, mpsc};

use arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder,
    RecordBatch, RecordBatchReader, StringArray, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use chrono::{DateTime, NaiveDateTime};
use csv::ByteRecord;
use encoding_rs::Encoding;

use super::column_type::ColumnType;
use super::guard::{CountingRead, FileProgress, read_head, to_arrow};
use super::{IngestError, OnError, SourceStats};

/// Settings for delimited text; `None` means "work it out from the file".
#[derive(Debug, Clone, Default)]
pub struct CsvOptions {
    /// Field delimiter; sniffed from `, \t ; |` when unset.
    pub delimiter: Option<u8>,
    /// Whether the first row holds column names; guessed when unset.
    pub header: Option<bool>,
    /// Text encoding; UTF-8 (with or without BOM) when unset. Also used for text documents.
    pub encoding: Option<&'static Encoding>,
}

/// Files up to this size are scanned whole for type inference; larger ones by their first rows.
const FULL_INFERENCE_BYTES: u64 = 32 << 20;
/// Rows scanned for type inference in larger files.
const INFERENCE_ROWS: usize = 100_000;
/// Bytes looked at for encoding checks and delimiter sniffing.
const SAMPLE_BYTES: u64 = 1 << 20;

/// What the values seen so far in a column could all be.
#[derive(Debug, Clone, Copy)]
struct TypeGuess {
    seen: bool,
    bool_: bool,
    int: bool,
    float: bool,
    date: bool,
    timestamp: bool,
}

impl Default for TypeGuess {
    fn default() -> Self {
        Self {
            seen: false,
            bool_: true,
            int: true,
            float: true,
            date: true,
            timestamp: true,
        }
    }
}

impl TypeGuess {
    fn observe(&mut self, raw: &[u8]) {
        let v = raw.trim_ascii();
        if is_null_token(v) {
            return;
        }
        self.seen = true;
        self.bool_ = self.bool_ && parse_bool(v).is_some();
        self.int = self.int && parse_int(v).is_some();
        self.float = self.float && parse_float(v).is_some();
        self.date = self.date && parse_date(v).is_some();
        self.timestamp = self.timestamp && parse_timestamp(v).is_some();
    }

    fn resolve(&self) -> ColumnType {
        match () {
            _ if !self.seen => ColumnType::Text,
            _ if self.bool_ => ColumnType::Bool,
            _ if self.int => ColumnType::Int,
            _ if self.float => ColumnType::Float,
            _ if self.date => ColumnType::Date,
            _ if self.timestamp => ColumnType::Timestamp,
            _ => ColumnType::Text,
        }
    }

    /// Whether a value fits the resolved type (used to tell a header row from data).
    fn accepts(ty: ColumnType, raw: &[u8]) -> bool {
        let v = raw.trim_ascii();
        is_null_token(v) || parse_cell(ty, v).is_ok()
    }
}

fn is_null_token(v: &[u8]) -> bool {
    v.is_empty()
        || v.len() <= 4
            && [&b"null"[..], b"na", b"n/a", b"none", b"nil", b"nan"]
                .iter()
                .any(|t| v.eq_ignore_ascii_case(t))
}

fn parse_bool(v: &[u8]) -> Option<bool> {
    if v.eq_ignore_ascii_case(b"true") {
        Some(true)
    } else if v.eq_ignore_ascii_case(b"false") {
        Some(false)
    } else {
        None
    }
}

fn parse_int(v: &[u8]) -> Option<i64> {
    let digits = v
        .strip_prefix(b"-")
        .or_else(|| v.strip_prefix(b"+"))
        .unwrap_or(v);
    // Leading zeros ("007", zip codes) mean an identifier, not a number.
    if digits.is_empty()
        || !digits.iter().all(u8::is_ascii_digit)
        || (digits.len() > 1 && digits[0] == b'0')
    {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

fn parse_float(v: &[u8]) -> Option<f64> {
    if !v.iter().any(u8::is_ascii_digit) {
        return None;
    }
    let digits = v
        .strip_prefix(b"-")
        .or_else(|| v.strip_prefix(b"+"))
        .unwrap_or(v);
    if digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit() {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// The number in `v[range]` if it is all ASCII digits.
fn digits(v: &[u8], range: std::ops::Range<usize>) -> Option<u32> {
    v.get(range)?.iter().try_fold(0u32, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// Days since 1970-01-01 of a valid calendar date (proleptic Gregorian).
fn days_from_civil(year: i32, month: u32, day: u32) -> Option<i32> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month[month as usize - 1] {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn parse_date(v: &[u8]) -> Option<i32> {
    if v.len() != 10 || !(v[4] == v[7] && (v[4] == b'-' || v[4] == b'/')) {
        return None;
    }
    days_from_civil(digits(v, 0..4)? as i32, digits(v, 5..7)?, digits(v, 8..10)?)
}

/// `YYYY-MM-DD[ T]HH:MM[:SS[.fraction]][Z]` without allocation; `None` for other shapes.
fn parse_plain_timestamp(v: &[u8]) -> Option<i64> {
    if v.len() < 16
        || v[4] != b'-'
        || v[7] != b'-'
        || !matches!(v[10], b' ' | b'T')
        || v[13] != b':'
    {
        return None;
    }
    let days = days_from_civil(digits(v, 0..4)? as i32, digits(v, 5..7)?, digits(v, 8..10)?)?;
    let (hour, minute) = (digits(v, 11..13)?, digits(v, 14..16)?);
    let mut rest = &v[16..];
    let mut second = 0;
    let mut micros = 0i64;
    if let [b':', ..] = rest {
        second = digits(rest, 1..3)?;
        rest = &rest[3..];
        if let [b'.', frac @ ..] = rest {
            let n = frac.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 || n > 9 {
                return None;
            }
            let mut value = i64::from(digits(frac, 0..n.min(6))?);
            for _ in n..6 {
                value *= 10;
            }
            micros = value;
            rest = &frac[n..];
        }
    }
    if !(rest.is_empty() || rest == b"Z") || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let secs = i64::from(days) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(secs * 1_000_000 + micros)
}

/// Microseconds since the epoch; values with an offset are converted to UTC.
fn parse_timestamp(v: &[u8]) -> Option<i64> {
    if v.len() < 10 || !v[0].is_ascii_digit() {
        return None;
    }
    if let Some(days) = parse_date(v) {
        return Some(i64::from(days) * 86_400_000_000);
    }
    if let Some(t) = parse_plain_timestamp(v) {
        return Some(t);
    }
    let s = std::str::from_utf8(v).ok()?;
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_micros());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y/%m/%d %H:%M:%S",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.and_utc().timestamp_micros());
        }
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.timestamp_micros());
        }
    }
    None
}

/// One parsed value, ready for its column builder.
#[derive(Debug, Clone, Copy)]
enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Date(i32),
    Timestamp(i64),
    Text,
}

fn parse_cell(ty: ColumnType, v: &[u8]) -> Result<Cell, ()> {
    Ok(match ty {
        ColumnType::Bool => Cell::Bool(parse_bool(v).ok_or(())?),
        ColumnType::Int => Cell::Int(parse_int(v).ok_or(())?),
        ColumnType::Float => Cell::Float(parse_float(v).ok_or(())?),
        ColumnType::Date => Cell::Date(parse_date(v).ok_or(())?),
        ColumnType::Timestamp => Cell::Timestamp(parse_timestamp(v).ok_or(())?),
        ColumnType::Text => Cell::Text,
    })
}

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

    fn push(&mut self, cell: Cell, raw: &[u8]) {
        match (self, cell) {
            (Self::Bool(b), Cell::Bool(v)) => b.append_value(v),
            (Self::Int(b), Cell::Int(v)) => b.append_value(v),
            (Self::Float(b), Cell::Float(v)) => b.append_value(v),
            (Self::Date(b), Cell::Date(v)) => b.append_value(v),
            (Self::Timestamp(b), Cell::Timestamp(v)) => b.append_value(v),
            (Self::Text(b), Cell::Text) => b.append_value(raw),
            (Self::Bool(b), _) => b.append_null(),
            (Self::Int(b), _) => b.append_null(),
            (Self::Float(b), _) => b.append_null(),
            (Self::Date(b), _) => b.append_null(),
            (Self::Timestamp(b), _) => b.append_null(),
            (Self::Text(b), _) => b.append_null(),
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

/// Streams a delimited text file as Arrow batches.
pub(crate) struct CsvReader {
    path: PathBuf,
    schema: SchemaRef,
    chunker: Chunker,
    tasks: Option<mpsc::SyncSender<ParseTask>>,
    pending: VecDeque<mpsc::Receiver<ChunkResult>>,
    max_in_flight: usize,
    header_pending: bool,
    exhausted: bool,
    progress: FileProgress,
}

impl CsvReader {
    /// Opens the file, checks its encoding, sniffs its layout and infers column types.
    pub(crate) fn open(
        path: &Path,
        options: &CsvOptions,
        tsv: bool,
        on_error: OnError,
        progress: FileProgress,
        stats: Arc<SourceStats>,
    ) -> Result<Self, IngestError> {
        let io = |source| IngestError::Io {
            path: path.to_path_buf(),
            source,
        };
        let head = read_head(path, &progress, SAMPLE_BYTES)?;
        let (encoding, bom_len) = match (options.encoding, head.as_slice()) {
            (_, [0xEF, 0xBB, 0xBF, ..]) => (None, 3),
            (None, [0xFF, 0xFE, ..]) => (Some(encoding_rs::UTF_16LE), 0),
            (None, [0xFE, 0xFF, ..]) => (Some(encoding_rs::UTF_16BE), 0),
            (e, _) => (e, 0),
        };
        let sample: Vec<u8> = match encoding {
            None => {
                let body = &head[bom_len..];
                check_utf8_text(path, body)?;
                body.to_vec()
            }
            Some(enc) => enc
                .decode_with_bom_removal(&head)
                .0
                .into_owned()
                .into_bytes(),
        };
        if sample.trim_ascii().is_empty() {
            return Err(IngestError::Empty {
                path: path.to_path_buf(),
            });
        }
        let complete = progress.file_bytes() <= SAMPLE_BYTES;
        let delimiter = options
            .delimiter
            .unwrap_or_else(|| sniff_delimiter(&sample, tsv, complete));

        let open_stream =
            |counted: Option<FileProgress>| -> Result<Box<dyn Read + Send>, IngestError> {
                let file = BufReader::with_capacity(1 << 16, File::open(path).map_err(io)?);
                let raw: Box<dyn Read + Send> = match counted {
                    Some(p) => Box::new(CountingRead::new(file, p)),
                    None => Box::new(file),
                };
                let text: Box<dyn Read + Send> = match encoding {
                    Some(enc) => Box::new(
                        encoding_rs_io::DecodeReaderBytesBuilder::new()
                            .encoding(Some(enc))
                            .build(raw),
                    ),
                    None => {
                        let mut raw = raw;
                        if bom_len > 0 {
                            let mut bom = [0u8; 3];
                            raw.read_exact(&mut bom).map_err(io)?;
                        }
                        raw
                    }
                };
                Ok(text)
            };

        // Pass 1: the first record and the types of the columns.
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(open_stream(None)?);
        let mut first = ByteRecord::new();
        if !reader
            .read_byte_record(&mut first)
            .map_err(|e| csv_error(path, e, 1))?
        {
            return Err(IngestError::Empty {
                path: path.to_path_buf(),
            });
        }
        let ncols = first.len();
        let mut guesses = vec![TypeGuess::default(); ncols];
        let limit = if progress.file_bytes() <= FULL_INFERENCE_BYTES {
            usize::MAX
        } else {
            INFERENCE_ROWS
        };
        let mut record = ByteRecord::new();
        let mut data_rows = 0usize;
        while data_rows < limit
            && reader
                .read_byte_record(&mut record)
                .map_err(|e| csv_error(path, e, 1))?
        {
            if progress.cancelled() {
                return Err(IngestError::Cancelled);
            }
            if record.len() == ncols {
                for (g, v) in guesses.iter_mut().zip(record.iter()) {
                    g.observe(v);
                }
            }
            data_rows += 1;
        }
        let mut types: Vec<ColumnType> = guesses.iter().map(TypeGuess::resolve).collect();
        let header = options.header.unwrap_or_else(|| {
            // Like a person would: the first row is data only if every value fits
            // its column and at least one column is not plain text.
            data_rows == 0
                || types.iter().all(|t| *t == ColumnType::Text)
                || !first
                    .iter()
                    .zip(&types)
                    .all(|(v, t)| TypeGuess::accepts(*t, v))
        });
        if !header {
            let mut g = guesses.clone();
            for (g, v) in g.iter_mut().zip(first.iter()) {
                g.observe(v);
            }
            types = g.iter().map(TypeGuess::resolve).collect();
        }
        let names = column_names(path, header.then_some(&first), ncols, &stats)?;
        let schema = Arc::new(Schema::new(
            names
                .iter()
                .zip(&types)
                .map(|(n, t)| Field::new(n, t.data_type(), true))
                .collect::<Vec<_>>(),
        ));

        // Pass 2 (the stream Lance pulls): from the top, in chunks of whole
        // records parsed on worker threads, batches handed on in file order.
        let parser = Arc::new(ChunkParser {
            path: path.to_path_buf(),
            schema: schema.clone(),
            types,
            delimiter,
            on_error,
            stats,
        });
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let tasks = spawn_parsers(workers, &parser).map_err(io)?;
        Ok(Self {
            path: path.to_path_buf(),
            schema,
            chunker: Chunker::new(open_stream(Some(progress.clone()))?),
            tasks: Some(tasks),
            pending: VecDeque::new(),
            max_in_flight: 2 * workers + 1,
            header_pending: header,
            exhausted: false,
            progress,
        })
    }
}

/// What parsing one chunk gives: a batch, nothing (all rows skipped), or the first error.
type ChunkResult = Result<Option<RecordBatch>, IngestError>;

/// One chunk for a parser thread, with where to send the result.
struct ParseTask {
    chunk: Vec<u8>,
    first_line: u64,
    skip_header: bool,
    reply: mpsc::SyncSender<ChunkResult>,
}

/// Starts `n` parser threads; they stop when the returned sender is dropped.
fn spawn_parsers(
    n: usize,
    parser: &Arc<ChunkParser>,
) -> std::io::Result<mpsc::SyncSender<ParseTask>> {
    let (tx, rx) = mpsc::sync_channel::<ParseTask>(n);
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..n {
        let rx = rx.clone();
        let parser = parser.clone();
        std::thread::Builder::new()
            .name("lakebook-csv".into())
            .spawn(move || {
                loop {
                    let task = match rx.lock() {
                        Ok(guard) => match guard.recv() {
                            Ok(t) => t,
                            Err(_) => return,
                        },
                        Err(_) => return,
                    };
                    let result = parser.parse(&task.chunk, task.first_line, task.skip_header);
                    let _ = task.reply.send(result);
                }
            })?;
    }
    Ok(tx)
}

/// Bytes of input per chunk handed to a parser thread.
const CHUNK_BYTES: usize = 4 << 20;

/// Cuts a text stream into chunks that end at record boundaries.
///
/// A newline ends a record unless it is inside quotes; with RFC 4180 quoting
/// (a quote inside a quoted field is doubled) that is exactly when an odd
/// number of quote characters precede it since the chunk's start.
struct Chunker {
    input: Box<dyn Read + Send>,
    carry: Vec<u8>,
    next_line: u64,
    done: bool,
}

impl Chunker {
    fn new(input: Box<dyn Read + Send>) -> Self {
        Self {
            input,
            carry: Vec::new(),
            next_line: 1,
            done: false,
        }
    }

    /// The next chunk and the line number it starts on.
    fn next_chunk(&mut self) -> std::io::Result<Option<(Vec<u8>, u64)>> {
        let mut buf = std::mem::take(&mut self.carry);
        let mut want = CHUNK_BYTES;
        let mut scanned = 0;
        let mut in_quotes = false;
        let mut boundary = None;
        loop {
            for i in memchr::memchr2_iter(b'"', b'\n', &buf[scanned..]) {
                let i = scanned + i;
                if buf[i] == b'"' {
                    in_quotes = !in_quotes;
                } else if !in_quotes {
                    boundary = Some(i + 1);
                }
            }
            scanned = buf.len();
            if self.done || (buf.len() >= want && boundary.is_some()) {
                break;
            }
            if buf.len() >= want {
                want *= 2; // one record longer than a chunk
            }
            let start = buf.len();
            buf.resize(want, 0);
            let mut filled = start;
            while filled < want {
                match self.input.read(&mut buf[filled..]) {
                    Ok(0) => {
                        self.done = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            buf.truncate(filled);
        }
        if !self.done
            && let Some(b) = boundary
        {
            self.carry = buf.split_off(b);
        }
        if buf.is_empty() {
            return Ok(None);
        }
        let line = self.next_line;
        self.next_line += memchr::memchr_iter(b'\n', &buf).count() as u64;
        Ok(Some((buf, line)))
    }
}

/// Turns chunks of whole records into batches; shared by the parser threads.
struct ChunkParser {
    path: PathBuf,
    schema: SchemaRef,
    types: Vec<ColumnType>,
    delimiter: u8,
    on_error: OnError,
    stats: Arc<SourceStats>,
}

impl ChunkParser {
    /// Parses a chunk. Text is validated as UTF-8 once per column; only if that
    /// fails is the chunk parsed again field by field to name the bad line.
    fn parse(&self, chunk: &[u8], first_line: u64, skip_header: bool) -> ChunkResult {
        match self.parse_with(chunk, first_line, skip_header, false)? {
            Ok(batch) => Ok(batch),
            Err(_) => self
                .parse_with(chunk, first_line, skip_header, true)?
                .map_err(|e| IngestError::Format {
                    path: self.path.clone(),
                    reason: e.to_string(),
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
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(chunk);
        let mut record = ByteRecord::new();
        let mut cells = vec![Cell::Null; self.types.len()];
        let estimate = chunk.len() / (8 * self.types.len().max(1)) + 16;
        let mut builders: Vec<ColumnBuilder> = self
            .types
            .iter()
            .map(|t| ColumnBuilder::new(*t, estimate))
            .collect();
        let read = |reader: &mut csv::Reader<&[u8]>, record: &mut ByteRecord| {
            reader
                .read_byte_record(record)
                .map_err(|e| csv_error(&self.path, e, first_line))
        };
        if skip_header {
            read(&mut reader, &mut record)?;
        }
        let mut rows = 0;
        while read(&mut reader, &mut record)? {
            match self.parse_row(&record, first_line, &mut cells, check_text) {
                Ok(()) => {
                    for (i, b) in builders.iter_mut().enumerate() {
                        b.push(cells[i], &record[i]);
                    }
                    rows += 1;
                }
                Err(e) if self.on_error == OnError::Skip => {
                    let skipped = self.stats.skipped.fetch_add(1, Ordering::Relaxed);
                    if skipped < 5 {
                        self.stats.warn(format!("skipped: {e}"));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        if rows == 0 {
            return Ok(Ok(None));
        }
        let columns: Result<Vec<ArrayRef>, ArrowError> =
            builders.iter_mut().map(ColumnBuilder::finish).collect();
        Ok(columns
            .and_then(|c| RecordBatch::try_new(self.schema.clone(), c))
            .map(Some))
    }

    /// Parses one record into `cells`, or says which line and column is wrong.
    /// Text is checked for UTF-8 here only with `check_text`.
    fn parse_row(
        &self,
        record: &ByteRecord,
        first_line: u64,
        cells: &mut [Cell],
        check_text: bool,
    ) -> Result<(), IngestError> {
        let line = first_line + record.position().map_or(1, |p| p.line()) - 1;
        if record.len() != self.types.len() {
            return Err(IngestError::Parse {
                path: self.path.clone(),
                location: format!("line {line}"),
                reason: format!(
                    "expected {} fields (as in the first row), found {}; check for an unquoted delimiter or a missing quote, or use --on-error skip",
                    self.types.len(),
                    record.len()
                ),
            });
        }
        for (i, ty) in self.types.iter().enumerate() {
            let raw = &record[i];
            let cell = if *ty == ColumnType::Text {
                if raw.is_empty() {
                    Cell::Null
                } else if !check_text || std::str::from_utf8(raw).is_ok() {
                    Cell::Text
                } else {
                    return Err(IngestError::Parse {
                        path: self.path.clone(),
                        location: format!("line {line}, column '{}'", self.schema.field(i).name()),
                        reason: "not valid UTF-8; if the file uses another encoding pass --encoding (e.g. windows-1252)".into(),
                    });
                }
            } else {
                let v = raw.trim_ascii();
                if is_null_token(v) {
                    Cell::Null
                } else {
                    parse_cell(*ty, v).map_err(|()| IngestError::Parse {
                        path: self.path.clone(),
                        location: format!("line {line}, column '{}'", self.schema.field(i).name()),
                        reason: format!(
                            "'{}' is not a valid {}, the type inferred from the column's first rows; fix the value or use --on-error skip",
                            shorten(&String::from_utf8_lossy(v)),
                            ty.describe()
                        ),
                    })?
                }
            };
            cells[i] = cell;
        }
        Ok(())
    }
}

impl CsvReader {
    fn next_batch(&mut self) -> ChunkResult {
        loop {
            if self.progress.cancelled() {
                return Err(IngestError::Cancelled);
            }
            while self.pending.len() < self.max_in_flight && !self.exhausted {
                let io = |source| IngestError::Io {
                    path: self.path.clone(),
                    source,
                };
                let Some((chunk, first_line)) = self.chunker.next_chunk().map_err(io)? else {
                    self.exhausted = true;
                    break;
                };
                let (reply, result) = mpsc::sync_channel(1);
                let task = ParseTask {
                    chunk,
                    first_line,
                    skip_header: std::mem::take(&mut self.header_pending),
                    reply,
                };
                let sent = self.tasks.as_ref().is_some_and(|t| t.send(task).is_ok());
                if !sent {
                    return Err(self.worker_gone());
                }
                self.pending.push_back(result);
            }
            let Some(next) = self.pending.pop_front() else {
                self.progress.finish();
                self.tasks = None;
                return Ok(None);
            };
            match next.recv() {
                Ok(Ok(None)) => continue,
                Ok(result) => return result,
                Err(_) => return Err(self.worker_gone()),
            }
        }
    }

    fn worker_gone(&self) -> IngestError {
        IngestError::Format {
            path: self.path.clone(),
            reason: "a CSV parser thread stopped unexpectedly".into(),
        }
    }
}

impl Iterator for CsvReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().map_err(to_arrow).transpose()
    }
}

impl RecordBatchReader for CsvReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

fn csv_error(path: &Path, e: csv::Error, first_line: u64) -> IngestError {
    let location = e
        .position()
        .map(|p| format!("line {}", first_line + p.line() - 1))
        .unwrap_or_else(|| "reading".into());
    match e.into_kind() {
        csv::ErrorKind::Io(source) => IngestError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => IngestError::Parse {
            path: path.to_path_buf(),
            location,
            reason: format!("{other:?}"),
        },
    }
}

/// Rejects binary data and invalid UTF-8 in the sample, naming the line.
fn check_utf8_text(path: &Path, body: &[u8]) -> Result<(), IngestError> {
    if let Some(pos) = body.iter().position(|b| *b == 0) {
        return Err(IngestError::Format {
            path: path.to_path_buf(),
            reason: format!(
                "this is binary data, not delimited text (a NUL byte at offset {pos}); is it really a CSV file?"
            ),
        });
    }
    if let Err(e) = std::str::from_utf8(body) {
        // An error at the very end is a character cut by the sample, not bad data.
        if e.error_len().is_some() {
            let at = e.valid_up_to();
            let line = body[..at].iter().filter(|b| **b == b'\n').count() + 1;
            return Err(IngestError::Parse {
                path: path.to_path_buf(),
                location: format!("line {line} (byte {at})"),
                reason: "not valid UTF-8; if the file uses another encoding pass --encoding (e.g. --encoding windows-1252 or latin1)".into(),
            });
        }
    }
    Ok(())
}

/// Picks the delimiter that splits the sample's rows into the most consistent number of fields.
fn sniff_delimiter(sample: &[u8], tsv: bool, complete: bool) -> u8 {
    if tsv {
        return b'\t';
    }
    let mut best = (b',', 0.0f64);
    for d in [b',', b'\t', b';', b'|'] {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(d)
            .has_headers(false)
            .flexible(true)
            .from_reader(sample);
        let mut counts: Vec<usize> = reader
            .byte_records()
            .take(50)
            .filter_map(Result::ok)
            .map(|r| r.len())
            .collect();
        if !complete && counts.len() > 1 {
            counts.pop(); // the last row may be cut by the sample
        }
        let Some(first) = counts.first().copied() else {
            continue;
        };
        if first < 2 {
            continue;
        }
        let consistent =
            counts.iter().filter(|c| **c == first).count() as f64 / counts.len() as f64;
        let score = consistent * 1000.0 + first as f64;
        if score > best.1 {
            best = (d, score);
        }
    }
    best.0
}

/// Column names from the header row: trimmed, empty ones named `column_N`, repeats made unique.
fn column_names(
    path: &Path,
    header: Option<&ByteRecord>,
    ncols: usize,
    stats: &SourceStats,
) -> Result<Vec<String>, IngestError> {
    let mut names: Vec<String> = Vec::with_capacity(ncols);
    for i in 0..ncols {
        let raw = header.map(|h| String::from_utf8_lossy(&h[i]).trim().to_string());
        let mut name = match raw {
            Some(n) if !n.is_empty() => n,
            Some(_) => {
                let n = format!("column_{}", i + 1);
                stats.warn(format!(
                    "{}: column {} has no name; called it '{n}'",
                    path.display(),
                    i + 1
                ));
                n
            }
            None => format!("column_{}", i + 1),
        };
        if names.contains(&name) {
            let base = name.clone();
            let mut k = 2;
            while names.contains(&name) {
                name = format!("{base}_{k}");
                k += 1;
            }
            stats.warn(format!(
                "{}: column name '{base}' repeats; the repeat is called '{name}'",
                path.display()
            ));
        }
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_like_a_person_reads_them() {
        assert_eq!(parse_int(b"-42"), Some(-42));
        assert_eq!(parse_int(b"007"), None, "leading zeros are identifiers");
        assert_eq!(parse_float(b"3.5e2"), Some(350.0));
        assert_eq!(parse_float(b"inf"), None, "words are not numbers");
        assert_eq!(parse_date(b"1970-01-02"), Some(1));
        assert_eq!(parse_date(b"2024-02-30"), None);
        assert_eq!(parse_timestamp(b"1970-01-01 00:00:01"), Some(1_000_000));
        assert_eq!(parse_timestamp(b"1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_timestamp(b"2024-02-29 23:59:59.25"),
            Some(1_709_251_199_250_000)
        );
        assert_eq!(parse_timestamp(b"1969-12-31T23:59Z"), Some(-60_000_000));
        assert_eq!(parse_timestamp(b"2023-02-29 10:00:00"), None);
        assert_eq!(parse_date(b"2000-03-01"), Some(11_017));
        assert_eq!(parse_date(b"1900-02-29"), None);
        assert!(is_null_token(b"N/A") && is_null_token(b"") && !is_null_token(b"0"));
    }

    #[test]
    fn guesses_prefer_the_narrowest_type() {
        let mut g = TypeGuess::default();
        for v in [&b"1"[..], b"2", b"", b"NA"] {
            g.observe(v);
        }
        assert_eq!(g.resolve(), ColumnType::Int);
        g.observe(b"2.5");
        assert_eq!(g.resolve(), ColumnType::Float);
        g.observe(b"n/a");
        g.observe(b"abc");
        assert_eq!(g.resolve(), ColumnType::Text);
        let mut d = TypeGuess::default();
        d.observe(b"2024-01-01");
        d.observe(b"2024-01-01 10:00");
        assert_eq!(d.resolve(), ColumnType::Timestamp);
    }

    #[test]
    fn delimiters_are_sniffed() {
        assert_eq!(sniff_delimiter(b"a;b;c\n1;2;3\n4;5;6\n", false, true), b';');
        assert_eq!(sniff_delimiter(b"a\tb\n1\t2\n", false, true), b'\t');
        assert_eq!(sniff_delimiter(b"a,b\n\"x;y\",2\n", false, true), b',');
        assert_eq!(sniff_delimiter(b"a|b|c\n1|2|3\n", false, true), b'|');
    }
}
