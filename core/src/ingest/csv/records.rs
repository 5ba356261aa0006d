//! Finding records in delimited text: chunks that end at record boundaries,
//! and the fields of quote-free chunks without the csv crate's state machine.

use std::io::Read;
use std::path::Path;

use csv::ByteRecord;

use super::batch::FieldBounds;
use super::csv_error;
use crate::ingest::IngestError;

/// Bytes of input per chunk handed to a parser thread.
pub(super) const CHUNK_BYTES: usize = 4 << 20;

/// Cuts a text stream into chunks that end at record boundaries.
///
/// A newline ends a record unless it is inside quotes; with RFC 4180 quoting
/// (a quote inside a quoted field is doubled) that is exactly when an odd
/// number of quote characters precede it since the chunk's start.
pub(super) struct Chunker {
    input: Box<dyn Read + Send>,
    carry: Vec<u8>,
    next_line: u64,
    done: bool,
}

impl Chunker {
    pub(super) fn new(input: Box<dyn Read + Send>) -> Self {
        Self {
            input,
            carry: Vec::new(),
            next_line: 1,
            done: false,
        }
    }

    /// The line the next chunk starts on.
    pub(super) fn next_line(&self) -> u64 {
        self.next_line
    }

    /// The next chunk and the line number it starts on.
    pub(super) fn next_chunk(&mut self) -> std::io::Result<Option<(Vec<u8>, u64)>> {
        let mut buf = std::mem::take(&mut self.carry);
        let mut want = CHUNK_BYTES;
        let mut scanned = 0;
        let mut in_quotes = false;
        let mut boundary = None;
        loop {
            let fresh = &buf[scanned..];
            if !in_quotes && memchr::memchr(b'"', fresh).is_none() {
                // No quotes (the usual case): the last newline is the boundary.
                if let Some(i) = memchr::memrchr(b'\n', fresh) {
                    boundary = Some(scanned + i + 1);
                }
            } else {
                for i in memchr::memchr2_iter(b'"', b'\n', fresh) {
                    let i = scanned + i;
                    if buf[i] == b'"' {
                        in_quotes = !in_quotes;
                    } else if !in_quotes {
                        boundary = Some(i + 1);
                    }
                }
            }
            scanned = buf.len();
            if self.done || (buf.len() >= want && boundary.is_some()) {
                break;
            }
            if buf.len() >= want {
                want *= 2; // one record longer than a chunk
            }
            let asked = want - buf.len();
            buf.reserve_exact(asked);
            let got = (&mut self.input).take(asked as u64).read_to_end(&mut buf)?;
            self.done = got < asked;
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

/// Calls `record` with the bytes, field bounds and line number of each record
/// in a chunk of whole records (the first one left out with `skip_first`):
/// split directly when the chunk is plain, by the csv crate when it has
/// quotes. Stops at the first error.
pub(super) fn each_record(
    path: &Path,
    chunk: &[u8],
    delimiter: u8,
    first_line: u64,
    skip_first: bool,
    mut record: impl FnMut(&[u8], &[FieldBounds], u64) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let mut skip = skip_first;
    if is_plain(chunk) {
        return each_plain_record(chunk, delimiter, first_line, |bounds, line| {
            if std::mem::take(&mut skip) {
                return Ok(());
            }
            record(chunk, bounds, line)
        });
    }
    let mut reader = csv_reader(chunk, delimiter);
    let mut fields = ByteRecord::new();
    let mut bounds: Vec<FieldBounds> = Vec::with_capacity(16);
    while reader
        .read_byte_record(&mut fields)
        .map_err(|e| csv_error(path, e, first_line))?
    {
        if std::mem::take(&mut skip) {
            continue;
        }
        let line = first_line + fields.position().map_or(1, |p| p.line()) - 1;
        bounds.clear();
        bounds.extend((0..fields.len()).filter_map(|i| fields.range(i).map(|r| (r.start, r.end))));
        record(fields.as_slice(), &bounds, line)?;
    }
    Ok(())
}

/// The csv crate reading `text` as Lakebook reads delimited text: every row
/// is a record (headers are handled by the caller) and rows may be ragged
/// (their length is checked by the caller, to name the line).
pub(super) fn csv_reader(text: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text)
}

/// The first record of a chunk, if it has one.
pub(super) fn first_record(
    path: &Path,
    chunk: &[u8],
    delimiter: u8,
    first_line: u64,
) -> Result<Option<ByteRecord>, IngestError> {
    let mut reader = csv_reader(chunk, delimiter);
    let mut first = ByteRecord::new();
    let found = reader
        .read_byte_record(&mut first)
        .map_err(|e| csv_error(path, e, first_line))?;
    Ok(found.then_some(first))
}

/// Whether a chunk can be split without the csv crate: it holds no quote
/// character, and every carriage return is part of a `\r\n` line end.
pub(super) fn is_plain(chunk: &[u8]) -> bool {
    memchr::memchr(b'"', chunk).is_none()
        && memchr::memchr_iter(b'\r', chunk).all(|i| chunk.get(i + 1) == Some(&b'\n'))
}

/// Calls `record` with the field bounds and line number of each record of a
/// plain chunk (see [`is_plain`]), reading it as the csv crate does: a line
/// ends a record, blank lines are skipped, and fields split at the delimiter.
/// Stops at the first error `record` returns.
pub(super) fn each_plain_record<E, F>(
    chunk: &[u8],
    delimiter: u8,
    first_line: u64,
    record: F,
) -> Result<(), E>
where
    F: FnMut(&[FieldBounds], u64) -> Result<(), E>,
{
    let mut splitter = PlainSplitter {
        chunk,
        delimiter,
        record,
        bounds: Vec::with_capacity(16),
        line: first_line,
        field_start: 0,
        line_start: 0,
    };
    // Eight bytes at a time: a mask of where the delimiters and newlines are.
    let words = chunk.chunks_exact(8);
    let tail = words.remainder().len();
    for (w, word) in words.enumerate() {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let mut mask = bytes_equal(word, delimiter) | bytes_equal(word, b'\n');
        while mask != 0 {
            splitter.separator(w * 8 + mask.trailing_zeros() as usize / 8)?;
            mask &= mask - 1;
        }
    }
    let tail_start = chunk.len() - tail;
    for (i, &byte) in chunk[tail_start..].iter().enumerate() {
        if byte == delimiter || byte == b'\n' {
            splitter.separator(tail_start + i)?;
        }
    }
    splitter.finish()
}

/// The state of [`each_plain_record`] between separators.
struct PlainSplitter<'c, F> {
    chunk: &'c [u8],
    delimiter: u8,
    record: F,
    bounds: Vec<FieldBounds>,
    line: u64,
    field_start: usize,
    line_start: usize,
}

impl<E, F: FnMut(&[FieldBounds], u64) -> Result<(), E>> PlainSplitter<'_, F> {
    /// A delimiter or newline at `at` ends a field, and a newline a record.
    #[inline(always)]
    fn separator(&mut self, at: usize) -> Result<(), E> {
        if self.chunk[at] == self.delimiter {
            self.bounds.push((self.field_start, at));
            self.field_start = at + 1;
            return Ok(());
        }
        let end = if at > self.field_start && self.chunk[at - 1] == b'\r' {
            at - 1
        } else {
            at
        };
        if end > self.line_start || !self.bounds.is_empty() {
            self.bounds.push((self.field_start, end));
            (self.record)(&self.bounds, self.line)?;
        }
        self.bounds.clear();
        self.line += 1;
        self.field_start = at + 1;
        self.line_start = at + 1;
        Ok(())
    }

    /// The last record, when the chunk does not end with a newline.
    fn finish(mut self) -> Result<(), E> {
        if self.line_start < self.chunk.len() {
            self.bounds.push((self.field_start, self.chunk.len()));
            (self.record)(&self.bounds, self.line)?;
        }
        Ok(())
    }
}

/// The high bit of each byte of `word` that equals `byte`, and no other bits.
fn bytes_equal(word: u64, byte: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ (u64::from(byte) * 0x0101_0101_0101_0101);
    // A byte's high bit ends up set unless the byte of x is zero; no carries
    // cross bytes, so the answer is exact.
    !(((x & LOW7) + LOW7) | x | LOW7)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each record's fields and line, as the plain splitter reads them.
    fn plain(text: &[u8], delimiter: u8) -> Vec<(Vec<String>, u64)> {
        assert!(is_plain(text));
        let mut out = Vec::new();
        each_plain_record(text, delimiter, 1, |bounds, line| {
            let fields = bounds
                .iter()
                .map(|&(s, e)| String::from_utf8_lossy(&text[s..e]).into_owned())
                .collect();
            out.push((fields, line));
            Ok::<(), ()>(())
        })
        .expect("the callback never fails");
        out
    }

    /// The same, as the csv crate reads them.
    fn csv_crate(text: &[u8], delimiter: u8) -> Vec<(Vec<String>, u64)> {
        let mut reader = csv_reader(text, delimiter);
        reader
            .byte_records()
            .map(|r| {
                let r = r.expect("byte records always read");
                let fields = r
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect();
                (fields, r.position().expect("records have positions").line())
            })
            .collect()
    }

    #[test]
    fn plain_records_are_read_as_the_csv_crate_reads_them() {
        let cases: [&[u8]; 9] = [
            b"a,b,c\n1,2,3\n4,5,6\n",
            b"a,b,c\n1,2,3\n4,5,6",
            b"a,b\r\n1,2\r\n\r\n3,4\r\n",
            b"\n\na,b\n\n1,\n,\n,,x\n",
            b"only\n one field \n",
            b"x,y\n1,2,3\n4\n",
            b"a,b\n1,2\r\n",
            b"  \n,\n",
            b"",
        ];
        for text in cases {
            let (ours, theirs) = (plain(text, b','), csv_crate(text, b','));
            let fields =
                |r: &[(Vec<String>, u64)]| r.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>();
            assert_eq!(
                fields(&ours),
                fields(&theirs),
                "{:?}",
                String::from_utf8_lossy(text)
            );
            // The csv crate's line numbers drift after blank lines and on
            // \r\n line ends; ours are the lines a text editor shows.
            if !text.contains(&b'\r') && !text.windows(2).any(|w| w == b"\n\n") {
                assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(text));
            }
        }
        let lines = |text: &[u8]| plain(text, b',').iter().map(|r| r.1).collect::<Vec<_>>();
        assert_eq!(lines(b"a,b\r\n1,2\r\n\r\n3,4\r\n"), [1, 2, 4]);
        assert_eq!(lines(b"\n\na,b\n\n1,\n,\n"), [3, 5, 6]);
        let tabs = b"a\tb,c\n1\t2,3\n";
        assert_eq!(plain(tabs, b'\t'), csv_crate(tabs, b'\t'));
    }

    #[test]
    fn random_plain_text_is_split_as_the_csv_crate_splits_it() {
        let mut rng = crate::rng::Rng::new(5);
        for _ in 0..200 {
            let len = rng.below(300);
            let mut text: Vec<u8> = (0..len)
                .map(|_| rng.pick(&[b'a', b'b', b' ', b',', b';', b'\n', 0xC3, 0xA9]))
                .collect();
            if rng.chance(0.3) {
                text = text
                    .split(|b| *b == b'\n')
                    .collect::<Vec<_>>()
                    .join(&b"\r\n"[..]);
            }
            let fields =
                |r: Vec<(Vec<String>, u64)>| r.into_iter().map(|(f, _)| f).collect::<Vec<_>>();
            for delimiter in [b',', b';'] {
                assert_eq!(
                    fields(plain(&text, delimiter)),
                    fields(csv_crate(&text, delimiter)),
                    "{:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }

    #[test]
    fn byte_masks_are_exact() {
        let mut rng = crate::rng::Rng::new(9);
        for _ in 0..10_000 {
            let word = rng.next_u64();
            let byte = rng.pick(&[b',', b'\n', 0x00, 0x80, 0xFF, (word >> 8) as u8]);
            let expected = (0..8)
                .filter(|i| (word >> (8 * i)) as u8 == byte)
                .fold(0u64, |m, i| m | 0x80 << (8 * i));
            assert_eq!(bytes_equal(word, byte), expected, "{word:#x} {byte:#x}");
        }
    }

    #[test]
    fn quotes_and_lone_carriage_returns_are_not_plain() {
        assert!(!is_plain(b"a,\"b\"\n"));
        assert!(!is_plain(b"a,b\r1,2\r"));
        assert!(!is_plain(b"a,b\r"));
        assert!(is_plain(b"a,b\r\n1,2\r\n"));
    }

    #[test]
    fn chunks_end_at_record_boundaries() {
        let mut text = Vec::new();
        for i in 0..500_000 {
            text.extend_from_slice(format!("{i},\"a\nb\",x\n").as_bytes());
        }
        let mut chunker = Chunker::new(Box::new(std::io::Cursor::new(text.clone())));
        let mut rejoined = Vec::new();
        let mut expected_line = 1;
        let mut chunks = 0;
        while let Some((chunk, line)) = chunker.next_chunk().expect("reading memory") {
            chunks += 1;
            assert_eq!(line, expected_line);
            assert!(chunk.ends_with(b",x\n"), "a chunk ends inside a record");
            expected_line += memchr::memchr_iter(b'\n', &chunk).count() as u64;
            rejoined.extend_from_slice(&chunk);
        }
        assert!(chunks > 1, "the text spans several chunks");
        assert_eq!(rejoined, text);
    }
}
