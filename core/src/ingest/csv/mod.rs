//! Delimited text (CSV, TSV, ...): delimiter and header sniffing, type inference,
//! encodings, and row-level errors that name the line and column.

mod batch;
mod records;
mod values;

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use csv::ByteRecord;
use encoding_rs::Encoding;

use self::batch::ChunkParser;
use self::records::Chunker;
use self::values::TypeGuess;
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

/// Streams a delimited text file as Arrow batches.
pub(crate) struct CsvReader {
    path: PathBuf,
    schema: SchemaRef,
    /// Chunks read during type inference, parsed before the rest of the file.
    sample: VecDeque<(Vec<u8>, u64)>,
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

        // Pass 1: the first rows, read in chunks and kept for pass 2, give the
        // first record and the types of the columns.
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let mut chunker = Chunker::new(open_stream(Some(progress.clone()))?);
        let last_line = if progress.file_bytes() <= FULL_INFERENCE_BYTES {
            u64::MAX
        } else {
            INFERENCE_ROWS as u64 + 1
        };
        let mut sample = VecDeque::new();
        while chunker.next_line() <= last_line {
            if progress.cancelled() {
                return Err(IngestError::Cancelled);
            }
            match chunker.next_chunk().map_err(io)? {
                Some(chunk) => sample.push_back(chunk),
                None => break,
            }
        }
        let first = match sample.front() {
            Some((chunk, line)) => records::first_record(path, chunk, delimiter, *line)?,
            None => None,
        };
        let Some(first) = first else {
            return Err(IngestError::Empty {
                path: path.to_path_buf(),
            });
        };
        let (guesses, data_rows) = guess_types(
            path,
            sample.make_contiguous(),
            delimiter,
            first.len(),
            last_line,
            workers,
        )?;
        let mut types: Vec<ColumnType> = guesses.iter().map(TypeGuess::resolve).collect();
        let header = options.header.unwrap_or_else(|| {
            // Like a person would: the first row is data only if every value fits
            // its column and at least one column is not plain text, unless it
            // reads as names (see `names_row`).
            let all_text = types.iter().all(|t| *t == ColumnType::Text);
            let fits = first
                .iter()
                .zip(&types)
                .all(|(v, t)| TypeGuess::accepts(*t, v));
            let named = fits
                && !all_text
                && (names_row(&first, &types, sample.front(), delimiter)
                    || row_names_corner(&first, sample.front(), delimiter));
            if all_text && data_rows > 0 {
                stats.warn(format!(
                    "{}: took the first row for column names, a guess since every column is text; use --no-header if it is data",
                    path.display()
                ));
            }
            data_rows == 0 || all_text || !fits || named
        });
        if !header {
            let mut g = guesses.clone();
            for (g, v) in g.iter_mut().zip(first.iter()) {
                g.observe(v);
            }
            types = g.iter().map(TypeGuess::resolve).collect();
        }
        let names = column_names(path, header.then_some(&first), first.len(), &stats)?;
        for (name, guess) in names.iter().zip(&guesses) {
            if guess.widened_integers() {
                stats.warn(super::guard::widened_integers_note(path, name));
            }
        }
        let schema = Arc::new(Schema::new(
            names
                .iter()
                .zip(&types)
                .map(|(n, t)| Field::new(n, t.data_type(), true))
                .collect::<Vec<_>>(),
        ));

        // Pass 2 (the stream Lance pulls): the sample, then the rest, in chunks
        // of whole records parsed on worker threads, batches handed on in file order.
        let parser = Arc::new(ChunkParser {
            path: path.to_path_buf(),
            schema: schema.clone(),
            types,
            delimiter,
            on_error,
            stats,
        });
        let tasks = spawn_parsers(workers, &parser).map_err(io)?;
        Ok(Self {
            path: path.to_path_buf(),
            schema,
            sample,
            chunker,
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
pub(super) type ChunkResult = Result<Option<RecordBatch>, IngestError>;

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
                let next = match self.sample.pop_front() {
                    Some(chunk) => Some(chunk),
                    None => self.chunker.next_chunk().map_err(io)?,
                };
                let Some((chunk, first_line)) = next else {
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
        parser_gone(&self.path)
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

/// Observes the values of the sample's records up to `last_line` (the first
/// record left out), the chunks spread over `workers` threads; gives what each
/// column could be and how many records were looked at.
fn guess_types(
    path: &Path,
    sample: &[(Vec<u8>, u64)],
    delimiter: u8,
    ncols: usize,
    last_line: u64,
    workers: usize,
) -> Result<(Vec<TypeGuess>, usize), IngestError> {
    let observe = |index: usize| -> Result<(Vec<TypeGuess>, usize), IngestError> {
        let (chunk, first_line) = &sample[index];
        let mut guesses = vec![TypeGuess::default(); ncols];
        let mut rows = 0;
        records::each_record(
            path,
            chunk,
            delimiter,
            *first_line,
            index == 0,
            |base, bounds, line| {
                if line <= last_line {
                    rows += 1;
                    if bounds.len() == ncols {
                        for (g, &(start, end)) in guesses.iter_mut().zip(bounds) {
                            g.observe(&base[start..end]);
                        }
                    }
                }
                Ok(())
            },
        )?;
        Ok((guesses, rows))
    };
    let mut guesses = vec![TypeGuess::default(); ncols];
    let mut rows = 0;
    let parts = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.min(sample.len()))
            .map(|w| {
                scope.spawn(move || -> Result<Vec<_>, IngestError> {
                    (w..sample.len()).step_by(workers).map(observe).collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(parser_gone(path))))
            .collect::<Vec<_>>()
    });
    for part in parts {
        for (part_guesses, part_rows) in part? {
            for (g, p) in guesses.iter_mut().zip(&part_guesses) {
                g.merge(p);
            }
            rows += part_rows;
        }
    }
    Ok((guesses, rows))
}

/// The error when a parser thread panicked.
fn parser_gone(path: &Path) -> IngestError {
    IngestError::Format {
        path: path.to_path_buf(),
        reason: "a CSV parser thread stopped unexpectedly".into(),
    }
}

/// At most 40 characters of `s`, with an ellipsis when cut.
pub(super) fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

/// A csv crate error as an ingest error naming the file and line.
pub(super) fn csv_error(path: &Path, e: csv::Error, first_line: u64) -> IngestError {
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
        let mut reader = records::csv_reader(sample, d);
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

/// Whether a first row that fits every column still reads as column names:
/// its text columns hold distinct words that never occur again below them,
/// and its typed columns are empty (R's `""` over the row names, for one).
fn names_row(
    first: &ByteRecord,
    types: &[ColumnType],
    sample: Option<&(Vec<u8>, u64)>,
    delimiter: u8,
) -> bool {
    let text_columns: Vec<usize> = (0..first.len())
        .filter(|&i| types.get(i) == Some(&ColumnType::Text))
        .collect();
    let typed_empty = (0..first.len())
        .filter(|i| !text_columns.contains(i))
        .all(|i| first[i].trim_ascii().is_empty());
    let mut words: Vec<&[u8]> = text_columns
        .iter()
        .map(|&i| first[i].trim_ascii())
        .collect();
    if !typed_empty
        || words
            .iter()
            .any(|w| w.is_empty() || values::is_null_token(w))
    {
        return false;
    }
    words.sort_unstable();
    if words.windows(2).any(|w| w[0] == w[1]) {
        return false;
    }
    let Some((chunk, _)) = sample else {
        return false;
    };
    let mut reader = records::csv_reader(chunk, delimiter);
    let mut records = reader.byte_records().skip(1).take(2_000);
    !records.any(|r| {
        r.is_ok_and(|r| {
            text_columns
                .iter()
                .any(|&i| r.get(i).map(<[u8]>::trim_ascii) == Some(first[i].trim_ascii()))
        })
    })
}

/// R's `write.csv` signature: the first row starts with an empty name over a
/// column of row names that is never empty below it (`"","1940","1945"` over
/// `"Food",22.2,44.5`), so the row is names even when they look like numbers.
fn row_names_corner(first: &ByteRecord, sample: Option<&(Vec<u8>, u64)>, delimiter: u8) -> bool {
    if first.len() < 2 || !first[0].trim_ascii().is_empty() {
        return false;
    }
    let Some((chunk, _)) = sample else {
        return false;
    };
    let mut reader = records::csv_reader(chunk, delimiter);
    let mut below = reader.byte_records().skip(1).take(2_000).peekable();
    below.peek().is_some()
        && below.all(|r| r.is_ok_and(|r| r.get(0).is_some_and(|v| !v.trim_ascii().is_empty())))
}

/// Column names from the header row: trimmed, empty ones named (`rownames` first, then `column_N`).
fn column_names(
    path: &Path,
    header: Option<&ByteRecord>,
    ncols: usize,
    stats: &SourceStats,
) -> Result<Vec<String>, IngestError> {
    let mut names: Vec<String> = Vec::with_capacity(ncols);
    for i in 0..ncols {
        let raw = header.map(|h| String::from_utf8_lossy(&h[i]).trim().to_string());
        let name = match raw {
            Some(n) if !n.is_empty() => n,
            // R's write.csv leaves its row-names column unnamed.
            Some(_) if i == 0 => {
                let n = "rownames".to_string();
                stats.warn(format!(
                    "{}: column 1 has no name; called it '{n}' (R writes its row names there)",
                    path.display()
                ));
                n
            }
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
        // Repeats are made unique with the other storage rules, in `lake::columns`.
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_sniffed() {
        assert_eq!(sniff_delimiter(b"a;b;c\n1;2;3\n4;5;6\n", false, true), b';');
        assert_eq!(sniff_delimiter(b"a\tb\n1\t2\n", false, true), b'\t');
        assert_eq!(sniff_delimiter(b"a,b\n\"x;y\",2\n", false, true), b',');
        assert_eq!(sniff_delimiter(b"a|b|c\n1|2|3\n", false, true), b'|');
    }
}
