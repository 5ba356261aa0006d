//! Which files to ingest and what they are: by extension, checked against content.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::IngestError;

/// A table file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Comma- (or sniffed-) delimited text.
    Csv,
    /// Tab-delimited text.
    Tsv,
    /// Apache Parquet.
    Parquet,
    /// JSON array of objects, or newline-delimited JSON.
    Json,
    /// Arrow IPC file or stream.
    ArrowIpc,
    /// Excel or OpenDocument workbook.
    Excel,
}

/// A document file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFormat {
    /// Plain text.
    Text,
    /// Markdown.
    Markdown,
    /// HTML.
    Html,
    /// PDF.
    Pdf,
}

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// Rows of a table.
    Table(TableFormat),
    /// Prose to cut into passages.
    Document(DocFormat),
}

/// The format named by a file's extension, if Lakebook reads it.
pub fn by_extension(path: &Path) -> Option<SourceFormat> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    use DocFormat::*;
    use SourceFormat::*;
    use TableFormat::*;
    Some(match ext.as_str() {
        "csv" => Table(Csv),
        "tsv" | "tab" => Table(Tsv),
        "parquet" | "pq" => Table(Parquet),
        "json" | "ndjson" | "jsonl" => Table(Json),
        "arrow" | "feather" | "ipc" | "arrows" => Table(ArrowIpc),
        "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Table(Excel),
        "txt" | "text" => Document(Text),
        "md" | "markdown" => Document(Markdown),
        "html" | "htm" | "xhtml" => Document(Html),
        "pdf" => Document(Pdf),
        _ => return None,
    })
}

/// The format told by a file's first bytes, for files without a known extension.
pub fn by_content(path: &Path) -> Option<SourceFormat> {
    let mut head = [0u8; 8];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let head = &head[..n];
    if head.starts_with(b"PAR1") {
        Some(SourceFormat::Table(TableFormat::Parquet))
    } else if head.starts_with(b"ARROW1") || head.starts_with(&[0xff, 0xff, 0xff, 0xff]) {
        Some(SourceFormat::Table(TableFormat::ArrowIpc))
    } else if head.starts_with(b"%PDF") {
        Some(SourceFormat::Document(DocFormat::Pdf))
    } else {
        None
    }
}

/// Expands the given paths into files with their formats.
///
/// Folders are walked (sorted, hidden entries skipped); files there that are not
/// ingestible are added to `ignored`. A file named directly must be ingestible.
pub fn collect(
    paths: &[PathBuf],
    ignored: &mut Vec<String>,
) -> Result<Vec<(PathBuf, SourceFormat)>, IngestError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| IngestError::Io {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            let before = out.len();
            let walker = walkdir::WalkDir::new(path)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                });
            for entry in walker {
                let entry = entry.map_err(|e| IngestError::Io {
                    path: e
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| path.clone()),
                    source: e.into(),
                })?;
                if !entry.file_type().is_file() {
                    continue;
                }
                let p = entry.into_path();
                match by_extension(&p).or_else(|| by_content(&p)) {
                    Some(f) => out.push((p, f)),
                    None => ignored.push(p.display().to_string()),
                }
            }
            if out.len() == before {
                return Err(IngestError::NothingFound { path: path.clone() });
            }
        } else {
            match by_extension(path).or_else(|| by_content(path)) {
                Some(f) => out.push((path.clone(), f)),
                None => return Err(IngestError::Unsupported { path: path.clone() }),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_magic_bytes_decide_the_format() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(
            by_extension(Path::new("a/B.CSV")),
            Some(SourceFormat::Table(TableFormat::Csv))
        );
        assert_eq!(
            by_extension(Path::new("notes.md")),
            Some(SourceFormat::Document(DocFormat::Markdown))
        );
        assert_eq!(by_extension(Path::new("x.exe")), None);
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("no_extension");
        std::fs::write(&p, b"PAR1....")?;
        assert_eq!(
            by_content(&p),
            Some(SourceFormat::Table(TableFormat::Parquet))
        );
        std::fs::write(&p, b"%PDF-1.7")?;
        assert_eq!(by_content(&p), Some(SourceFormat::Document(DocFormat::Pdf)));
        Ok(())
    }
}
