//! Ingest: files and folders into Lance datasets of the lake.
//!
//! Tables (CSV/TSV, Parquet, JSON/NDJSON, Arrow IPC, Excel) become one dataset
//! per file (per sheet for workbooks); documents (txt, md, html, pdf) become
//! passages in one documents dataset. Batches stream from the reader to Lance.
//!
//! The whole command is all-or-nothing: every dataset is first written
//! *uncommitted*; only when every source has been read without a fatal error
//! are the Lance transactions committed and the catalog updated. On error or
//! cancel the files written so far are removed and the lake is as it was.

mod column_type;
mod columnar;
pub mod csv;
mod detect;
pub mod documents;
mod excel;
mod guard;
mod json;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::job::Job;
use crate::lake::{DatasetKind, FailedSource, Lake, LakeError};

pub use csv::CsvOptions;
pub use detect::{DocFormat, SourceFormat, TableFormat};
pub use documents::PassageOptions;

/// What to do when the dataset already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// Make a new dataset; fail if the name is taken.
    #[default]
    Create,
    /// Add rows as a new version (the dataset is created if missing).
    Append,
    /// Replace all rows with a new version; older versions stay readable.
    Overwrite,
}

/// What to do with a bad row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Stop, report the row, leave the lake unchanged.
    #[default]
    Fail,
    /// Skip bad rows, count and report them.
    Skip,
}

/// Options of one ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Dataset name; by default the file stem (tables) or `documents`.
    pub name: Option<String>,
    /// Create, append or overwrite.
    pub mode: WriteMode,
    /// Fail on the first bad row, or skip and count.
    pub on_error: OnError,
    /// Delimited-text settings.
    pub csv: CsvOptions,
    /// How documents are cut into passages.
    pub passages: PassageOptions,
    /// Rows per Arrow batch handed to Lance.
    pub batch_rows: usize,
    /// With several files, write nothing if any file fails. By default each
    /// file is atomic on its own: the good ones go in, the bad ones are
    /// listed in [`IngestReport::failed_tables`] with their reasons.
    pub all_or_nothing: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            name: None,
            mode: WriteMode::Create,
            on_error: OnError::Fail,
            csv: CsvOptions::default(),
            passages: PassageOptions::default(),
            batch_rows: 8192,
            all_or_nothing: false,
        }
    }
}

/// Default name of the documents dataset.
pub const DOCUMENTS_DATASET: &str = "documents";

/// Errors of an ingest. Each names the file and, where it can, the line and field.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be opened or read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A value or row could not be read.
    #[error("{}: {location}: {reason}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where: `line 17, column 'price'`, `sheet 'Q1', row 4`, ...
        location: String,
        /// What is wrong and, where it helps, what to do.
        reason: String,
    },
    /// The file is not what its name or content says.
    #[error("{}: {reason}", .path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A library could not read the file (Arrow, Parquet, JSON).
    #[error("{}: {source}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The library's error.
        source: crate::BoxError,
    },
    /// The file has no data.
    #[error("{}: the file is empty; there is nothing to ingest", .path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file type is not one Lakebook reads.
    #[error(
        "{}: not a file type Lakebook ingests (tables: csv tsv parquet json ndjson jsonl arrow feather xlsx xls ods; documents: txt md html pdf)",
        .path.display()
    )]
    Unsupported {
        /// The file.
        path: PathBuf,
    },
    /// Create mode, but the dataset exists.
    #[error(
        "dataset '{name}' already exists; use --mode append or --mode overwrite, or --name to pick another name"
    )]
    Exists {
        /// The dataset.
        name: String,
    },
    /// The options do not fit the input.
    #[error("{0}")]
    Options(String),
    /// Nothing was found to ingest.
    #[error("no ingestible files under {}", .path.display())]
    NothingFound {
        /// The folder.
        path: PathBuf,
    },
    /// Every document failed.
    #[error("no document could be read:\n{}", .failed.iter().map(|f| format!("  {}: {}", f.path, f.reason)).collect::<Vec<_>>().join("\n"))]
    NoDocuments {
        /// Each document and why it failed.
        failed: Vec<FailedSource>,
    },
    /// The user cancelled; nothing was written.
    #[error("ingest cancelled; the lake is unchanged")]
    Cancelled,
    /// The user cancelled while datasets were being committed: those listed
    /// were committed whole, nothing of the others was written.
    #[error(
        "ingest cancelled after committing {} of {} datasets ({}); nothing of the others was written. Run the same command again to ingest the rest: datasets already holding their file are skipped",
        .committed.len(), .committed.len() + .not_written.len(), .committed.join(", ")
    )]
    CancelledPartway {
        /// Datasets committed before the cancel, whole.
        committed: Vec<String>,
        /// Datasets not written.
        not_written: Vec<String>,
    },
    /// Lance refused the data.
    #[error("writing dataset '{name}': {source}")]
    Write {
        /// The dataset.
        name: String,
        /// What Lance said.
        source: crate::BoxError,
    },
    /// The lake itself failed.
    #[error(transparent)]
    Lake(#[from] LakeError),
}

crate::cancelled_converts_to!(IngestError::Cancelled);

/// What happened to one dataset.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DatasetReport {
    /// Dataset name.
    pub name: String,
    /// Table or documents.
    pub kind: DatasetKind,
    /// New Lance version.
    pub version: u64,
    /// Rows added by this ingest.
    pub rows_added: u64,
    /// Rows in the dataset now.
    pub rows_total: u64,
    /// Rows skipped under `--on-error skip`.
    pub rows_skipped: u64,
    /// Files read into it.
    pub sources: Vec<String>,
    /// Files that failed (documents, or tables under `--on-error skip`).
    pub failed: Vec<FailedSource>,
    /// Things the user may want to know (renamed columns, ...).
    pub warnings: Vec<String>,
}

/// What an ingest did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IngestReport {
    /// One entry per dataset written.
    pub datasets: Vec<DatasetReport>,
    /// Files in walked folders that are not ingestible, left alone.
    pub ignored: Vec<String>,
    /// Table files that could not be read, left out whole (an ingest of
    /// several files, unless it is all or nothing), each with its reason.
    pub failed_tables: Vec<FailedSource>,
    /// Datasets left as they were because they already hold exactly the
    /// file (a re-run of an ingest that was cancelled or killed partway).
    pub already_ingested: Vec<String>,
}

/// One planned dataset write.
#[derive(Debug, Clone)]
struct PlannedTable {
    path: PathBuf,
    format: TableFormat,
    sheet: Option<String>,
    dataset: String,
}

/// The documents of an ingest and the one dataset they go into.
#[derive(Debug, Clone)]
struct PlannedDocs {
    dataset: String,
    files: Vec<(PathBuf, DocFormat)>,
}

/// Shared counters of one source, updated by its reader.
#[derive(Debug, Default)]
pub(crate) struct SourceStats {
    pub rows: AtomicU64,
    pub skipped: AtomicU64,
    pub warnings: std::sync::Mutex<Vec<String>>,
}

impl SourceStats {
    pub(crate) fn warn(&self, text: String) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(text);
        }
    }
}

/// Ingests files and folders into the lake.
///
/// Progress is reported in bytes of input read; cancel through `job`.
pub async fn ingest(
    lake: &mut Lake,
    paths: &[PathBuf],
    options: &IngestOptions,
    job: &Job,
) -> Result<IngestReport, IngestError> {
    let mut report = IngestReport::default();
    let found = detect::collect(paths, &mut report.ignored)?;
    // With several files, each goes in whole or not at all and the others
    // still go in; with one file (or when asked), any failure fails the ingest.
    let per_file = !options.all_or_nothing && found.len() > 1;
    let mut plan = plan(lake, &found, options, per_file, &mut report.failed_tables)?;
    report.already_ingested = std::mem::take(&mut plan.already);

    let total_bytes: u64 = found
        .iter()
        .map(|(p, _)| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    job.set_total(total_bytes, "bytes");

    let mut staged: Vec<write::Staged> = Vec::new();
    let result = stage_all(
        lake,
        &plan,
        options,
        per_file,
        job,
        &mut staged,
        &mut report,
    )
    .await;
    if let Err(e) = result {
        for s in staged {
            s.discard().await;
        }
        return Err(e);
    }
    // Each dataset commits whole, one after another; a cancel between two
    // commits stops there and says exactly which datasets are in.
    let mut session = match lake.begin_commits().await {
        Ok(session) => session,
        Err(e) => {
            for s in staged {
                s.discard().await;
            }
            return Err(e.into());
        }
    };
    let mut staged = staged.into_iter();
    while let Some(s) = staged.next() {
        if job.is_cancelled() {
            let mut not_written = vec![s.name().to_string()];
            not_written.extend(staged.as_slice().iter().map(|r| r.name().to_string()));
            s.discard().await;
            for rest in staged {
                rest.discard().await;
            }
            session.finish()?;
            if report.datasets.is_empty() {
                return Err(IngestError::Cancelled);
            }
            return Err(IngestError::CancelledPartway {
                committed: report.datasets.iter().map(|d| d.name.clone()).collect(),
                not_written,
            });
        }
        match s.commit(&mut session).await {
            Ok(outcome) => report.datasets.push(outcome),
            Err(e) => {
                for rest in staged {
                    rest.discard().await;
                }
                session.finish()?;
                return Err(e);
            }
        }
    }
    session.finish()?;
    Ok(report)
}

/// Reads one table file (the first sheet of a workbook) into memory, with the
/// same readers, type inference and errors as an ingest; nothing is written.
pub fn read_table(
    path: &Path,
    options: &IngestOptions,
    job: &Job,
) -> Result<arrow::record_batch::RecordBatch, IngestError> {
    let mut ignored = Vec::new();
    let found = detect::collect(&[path.to_path_buf()], &mut ignored)?;
    let Some((path, SourceFormat::Table(format))) = found.into_iter().next() else {
        return Err(IngestError::Format {
            path: path.to_path_buf(),
            reason: "not a table file (CSV, TSV, Parquet, JSON, Arrow IPC or Excel)".into(),
        });
    };
    let sheet = match format {
        TableFormat::Excel => excel::sheet_names(&path)?.into_iter().next(),
        _ => None,
    };
    let table = PlannedTable {
        path: path.clone(),
        format,
        sheet,
        dataset: String::new(),
    };
    let stats = Arc::new(SourceStats::default());
    let reader = open_table(&table, options, job, &stats, None)?;
    let slot = reader.error_slot();
    let schema = arrow::record_batch::RecordBatchReader::schema(&reader);
    let mut batches = Vec::new();
    for batch in reader {
        match batch {
            Ok(b) => batches.push(b),
            Err(e) => {
                let kept = slot.lock().ok().and_then(|mut s| s.take());
                return Err(kept.unwrap_or_else(|| IngestError::Unreadable {
                    path: path.clone(),
                    source: e.into(),
                }));
            }
        }
    }
    arrow::compute::concat_batches(&schema, &batches).map_err(|e| IngestError::Unreadable {
        path: path.clone(),
        source: e.into(),
    })
}

async fn stage_all(
    lake: &Lake,
    plan: &Plan,
    options: &IngestOptions,
    per_file: bool,
    job: &Job,
    staged: &mut Vec<write::Staged>,
    report: &mut IngestReport,
) -> Result<(), IngestError> {
    // A workbook goes in whole or not at all: one bad sheet also leaves out
    // the sheets of that file staged before it. `staged` starts empty and
    // `staged_from[i]` is the table `staged[i]` came from.
    let mut staged_from: Vec<&PlannedTable> = Vec::new();
    let mut failed_files: Vec<&Path> = Vec::new();
    let (tables, docs) = (&plan.tables, plan.docs.as_ref());
    for table in tables {
        if job.is_cancelled() {
            return Err(IngestError::Cancelled);
        }
        job.set_message(format!("reading {}", table.path.display()));
        let stats = Arc::new(SourceStats::default());
        let target =
            write::Target::resolve(lake, &table.dataset, DatasetKind::Table, options.mode).await?;
        let outcome = async {
            let reader = open_table(table, options, job, &stats, target.existing_schema())?;
            let sources = vec![source_label(&table.path, table.sheet.as_deref())];
            target
                .stage(lake, reader, stats.clone(), sources, Default::default())
                .await
        }
        .await;
        match outcome {
            Ok(s) if failed_files.contains(&table.path.as_path()) => {
                s.discard().await;
                report.failed_tables.push(sibling_failed(table));
            }
            Ok(s) => {
                staged.push(s);
                staged_from.push(table);
            }
            Err(e) if per_file && is_source_error(&e) => {
                report.failed_tables.push(FailedSource {
                    path: source_label(&table.path, table.sheet.as_deref()),
                    reason: e.to_string(),
                });
                failed_files.push(&table.path);
                while let Some(i) = staged_from.iter().position(|t| t.path == table.path) {
                    staged.remove(i).discard().await;
                    report
                        .failed_tables
                        .push(sibling_failed(staged_from.remove(i)));
                }
            }
            // The caller discards everything staged.
            Err(e) => return Err(e),
        }
    }
    if let Some(docs) = docs {
        let name = &docs.dataset;
        let stats = Arc::new(SourceStats::default());
        let target =
            write::Target::resolve(lake, name, DatasetKind::Documents, options.mode).await?;
        let failed = Arc::new(std::sync::Mutex::new(Vec::new()));
        let reader = documents::PassageReader::new(
            docs.files.clone(),
            options.passages.clone(),
            options.csv.encoding,
            job.clone(),
            failed.clone(),
        );
        let sources: Vec<String> = docs
            .files
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        let label = PathBuf::from(format!("documents dataset '{name}'"));
        let reader = guard::Guarded::new(
            Box::new(reader),
            &label,
            job.clone(),
            stats.clone(),
            target.existing_schema(),
        )?;
        match target.stage(lake, reader, stats, sources, failed).await {
            Ok(s) => staged.push(s),
            Err(IngestError::Cancelled) => return Err(IngestError::Cancelled),
            // Every document failed: each is listed with its reason.
            Err(IngestError::NoDocuments { failed }) if per_file && !tables.is_empty() => {
                report.failed_tables.extend(failed);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Errors that concern one source file (as opposed to the lake or the options).
fn is_source_error(e: &IngestError) -> bool {
    matches!(
        e,
        IngestError::Io { .. }
            | IngestError::Parse { .. }
            | IngestError::Format { .. }
            | IngestError::Unreadable { .. }
            | IngestError::Empty { .. }
            | IngestError::Write { .. }
    )
}

/// The entry for a sheet left out because another sheet of its workbook failed.
fn sibling_failed(table: &PlannedTable) -> FailedSource {
    FailedSource {
        path: source_label(&table.path, table.sheet.as_deref()),
        reason: format!(
            "{}: not written, since another sheet of this workbook failed and a file goes in whole or not at all",
            source_label(&table.path, table.sheet.as_deref())
        ),
    }
}

fn source_label(path: &Path, sheet: Option<&str>) -> String {
    match sheet {
        Some(s) => format!("{}#{s}", path.display()),
        None => path.display().to_string(),
    }
}

/// The reader of one table source. A reader that panics while opening (a
/// third-party parser meeting a file it did not expect) fails the file only.
fn open_table(
    table: &PlannedTable,
    options: &IngestOptions,
    job: &Job,
    stats: &Arc<SourceStats>,
    conform_to: Option<arrow::datatypes::SchemaRef>,
) -> Result<guard::Guarded, IngestError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        open_table_reader(table, options, job, stats, conform_to)
    }))
    .unwrap_or_else(|_| Err(guard::reader_panicked(&table.path)))
}

fn open_table_reader(
    table: &PlannedTable,
    options: &IngestOptions,
    job: &Job,
    stats: &Arc<SourceStats>,
    conform_to: Option<arrow::datatypes::SchemaRef>,
) -> Result<guard::Guarded, IngestError> {
    let progress = guard::FileProgress::new(job.clone(), &table.path);
    let inner: Box<dyn arrow::record_batch::RecordBatchReader + Send> = match table.format {
        TableFormat::Csv | TableFormat::Tsv => Box::new(csv::CsvReader::open(
            &table.path,
            &options.csv,
            table.format == TableFormat::Tsv,
            options.on_error,
            progress,
            stats.clone(),
        )?),
        TableFormat::Json => json::open(&table.path, options, progress, stats.clone())?,
        TableFormat::Parquet => columnar::open_parquet(&table.path, options.batch_rows, progress)?,
        TableFormat::ArrowIpc => columnar::open_ipc(&table.path, progress)?,
        TableFormat::Excel => {
            let sheet = table.sheet.as_deref().unwrap_or_default();
            excel::open_sheet(
                &table.path,
                sheet,
                options.batch_rows,
                progress,
                stats.clone(),
            )?
        }
    };
    // Errors found while conforming name the sheet as well as the file.
    let label = PathBuf::from(source_label(&table.path, table.sheet.as_deref()));
    guard::Guarded::new(inner, &label, job.clone(), stats.clone(), conform_to)
}

/// The tables to write (one dataset each), the documents (one dataset
/// together), and the datasets that already hold their files.
struct Plan {
    tables: Vec<PlannedTable>,
    docs: Option<PlannedDocs>,
    already: Vec<String>,
}

/// Decides the dataset of every table source and checks names before anything is written.
fn plan(
    lake: &Lake,
    found: &[(PathBuf, SourceFormat)],
    options: &IngestOptions,
    per_file: bool,
    failed: &mut Vec<FailedSource>,
) -> Result<Plan, IngestError> {
    let mut tables = Vec::new();
    let mut docs = Vec::new();
    for (path, format) in found {
        match format {
            SourceFormat::Table(TableFormat::Excel) => {
                let sheets = match excel::sheet_names(path) {
                    Ok(sheets) => sheets,
                    Err(e) if per_file => {
                        failed.push(FailedSource {
                            path: path.display().to_string(),
                            reason: e.to_string(),
                        });
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                let single = sheets.len() == 1;
                for sheet in sheets {
                    tables.push((path.clone(), TableFormat::Excel, Some(sheet), single));
                }
            }
            SourceFormat::Table(f) => tables.push((path.clone(), *f, None, true)),
            SourceFormat::Document(f) => docs.push((path.clone(), *f)),
        }
    }
    let table_files: std::collections::BTreeSet<&PathBuf> = tables.iter().map(|t| &t.0).collect();
    if options.name.is_some()
        && (table_files.len() > 1 || (!table_files.is_empty() && !docs.is_empty()))
    {
        return Err(IngestError::Options(
            "--name names one dataset: give it one table file (a workbook's sheets become NAME_SHEET), or documents only".into(),
        ));
    }
    if let Some(name) = &options.name
        && !lake.catalog().datasets.contains_key(name)
    {
        crate::lake::check_dataset_name(name).map_err(LakeError::from)?;
    }
    let mut planned: Vec<PlannedTable> = Vec::new();
    for (path, format, sheet, single) in tables {
        // A file's own name is made usable; a chosen --name was checked above.
        let stem = options.name.clone().unwrap_or_else(|| {
            let stem = path
                .file_stem()
                .map(|s| crate::lake::usable_name(&s.to_string_lossy()))
                .unwrap_or_default();
            if stem.is_empty() {
                "table".into()
            } else {
                stem
            }
        });
        let base = match (&sheet, single) {
            (Some(s), false) if !s.eq_ignore_ascii_case(&stem) => {
                crate::lake::usable_name(&format!("{stem}_{s}"))
            }
            _ => stem,
        };
        let mut name = base.clone();
        let mut n = 2;
        while planned.iter().any(|p| p.dataset == name)
            || (name == DOCUMENTS_DATASET && !docs.is_empty())
        {
            name = format!("{base}_{n}");
            n += 1;
        }
        planned.push(PlannedTable {
            path,
            format,
            sheet,
            dataset: name,
        });
    }
    let docs = (!docs.is_empty()).then(|| PlannedDocs {
        dataset: options
            .name
            .clone()
            .filter(|_| planned.is_empty())
            .unwrap_or_else(|| DOCUMENTS_DATASET.to_string()),
        files: docs,
    });
    let mut already = Vec::new();
    let mut docs = docs;
    if options.mode == WriteMode::Create {
        // A dataset that holds exactly this file, unchanged since, is what an
        // earlier run of this ingest committed before it was cancelled or
        // killed: skip it. A file changed since is still a name clash.
        let holds = |name: &str, sources: Vec<String>, files: &[&Path]| {
            lake.catalog().datasets.get(name).is_some_and(|e| {
                let unchanged = files.iter().all(|f| {
                    std::fs::metadata(f)
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| chrono::DateTime::<chrono::Utc>::from(t) <= e.updated)
                });
                e.sources == sources && unchanged
            })
        };
        planned.retain(|p| {
            let label = source_label(&p.path, p.sheet.as_deref());
            let done = holds(&p.dataset, vec![label], &[p.path.as_path()]);
            if done {
                already.push(p.dataset.clone());
            }
            !done
        });
        if let Some(d) = &docs {
            let labels = d
                .files
                .iter()
                .map(|(p, _)| p.display().to_string())
                .collect();
            let paths: Vec<&Path> = d.files.iter().map(|(p, _)| p.as_path()).collect();
            if holds(&d.dataset, labels, &paths) {
                already.push(d.dataset.clone());
                docs = None;
            }
        }
        let names = planned
            .iter()
            .map(|p| &p.dataset)
            .chain(docs.as_ref().map(|d| &d.dataset));
        for name in names {
            if lake.catalog().datasets.contains_key(name) {
                return Err(IngestError::Exists { name: name.clone() });
            }
        }
    }
    Ok(Plan {
        tables: planned,
        docs,
        already,
    })
}
