//! Cached cell outputs, kept beside the notebook (`NAME.out/`), not inside it.
//!
//! Per cell: `ID.json` (status, time, versions read, text) and, for tables
//! and search hits, `ID-N.arrow` files (Arrow IPC). A notebook reopened shows
//! its last outputs without running anything.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::FileWriter;
use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};

use super::file::NotebookError;
use super::output::{CellError, CellOutput, CellRun};
use crate::lake::DatasetKind;
use crate::search::{SearchHits, SearchMode};

/// The folder of cached outputs of the notebook at `notebook`.
pub fn outputs_dir(notebook: &Path) -> PathBuf {
    let mut name = notebook
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".out");
    notebook.with_file_name(name)
}

#[derive(Debug, Serialize, Deserialize)]
struct GroupMeta {
    dataset: String,
    kind: DatasetKind,
    mode: String,
    notes: Vec<String>,
    row_ids: Vec<u64>,
}

/// How one output part is kept: its kind, its text (JSON for structured
/// parts) and, for tables and search hits, its Arrow pages from `first_page`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PartMeta {
    output: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    groups: Vec<GroupMeta>,
    /// A table output holds only the first page of its result.
    #[serde(default)]
    partial: bool,
    /// The first `ID-N.arrow` file of this part (pages are numbered across
    /// the parts of a cell).
    #[serde(default)]
    first_page: usize,
}

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    /// The output, or `output: "parts"` with the parts in `parts`.
    #[serde(flatten)]
    part: PartMeta,
    elapsed_ms: f64,
    #[serde(default)]
    read: BTreeMap<String, u64>,
    #[serde(default)]
    changed: Vec<String>,
    #[serde(default)]
    error: Option<String>,
    /// The error is the user's cancel.
    #[serde(default)]
    cancelled: bool,
    #[serde(default)]
    parts: Vec<PartMeta>,
}

fn io_err(path: &Path, e: impl Into<crate::BoxError>) -> NotebookError {
    NotebookError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    }
}

fn write_arrow(
    path: &Path,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<(), NotebookError> {
    let file = File::create(path).map_err(|e| io_err(path, e))?;
    let mut writer = FileWriter::try_new(file, schema).map_err(|e| io_err(path, e))?;
    for b in batches {
        writer.write(b).map_err(|e| io_err(path, e))?;
    }
    writer.finish().map_err(|e| io_err(path, e))
}

fn read_arrow(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>), NotebookError> {
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let reader = FileReader::try_new(file, None).map_err(|e| io_err(path, e))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| io_err(path, e))?;
    Ok((schema, batches))
}

/// Refuses a cell id that could reach outside the outputs folder.
fn check_id(dir: &Path, id: &str) -> Result<(), NotebookError> {
    crate::lake::names::check_cell_id(id).map_err(|reason| io_err(dir, reason))
}

/// Removes every cached file of a cell: `ID.json` and its pages
/// `ID-0.arrow`, `ID-1.arrow`, ... (named, not searched for, so saving the
/// outputs of many cells costs the same per cell however many there are).
fn clear(dir: &Path, id: &str) -> Result<(), NotebookError> {
    let remove = |path: PathBuf| match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err(&path, e)),
    };
    remove(dir.join(format!("{id}.json")))?;
    let mut page = 0;
    while remove(dir.join(format!("{id}-{page}.arrow")))? {
        page += 1;
    }
    Ok(())
}

/// Saves a cell's run (or its error, or its cancel) as its cached output.
pub fn save(
    dir: &Path,
    id: &str,
    result: Result<&CellRun, &CellError>,
) -> Result<(), NotebookError> {
    check_id(dir, id)?;
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    clear(dir, id)?;
    let mut meta = Meta {
        part: PartMeta {
            output: "error".to_string(),
            ..PartMeta::default()
        },
        elapsed_ms: 0.0,
        read: BTreeMap::new(),
        changed: Vec::new(),
        error: None,
        cancelled: false,
        parts: Vec::new(),
    };
    match result {
        Err(e) => {
            meta.error = Some(e.message.clone());
            meta.cancelled = e.cancelled;
        }
        Ok(run) => {
            meta.elapsed_ms = run.elapsed.as_secs_f64() * 1e3;
            meta.read = run.read.clone();
            meta.changed = run.changed.clone();
            let mut next_page = 0;
            match &run.output {
                CellOutput::Parts(_) => {
                    meta.part.output = "parts".into();
                    for part in run.output.parts() {
                        meta.parts.push(save_part(dir, id, part, &mut next_page)?);
                    }
                }
                one => meta.part = save_part(dir, id, one, &mut next_page)?,
            }
        }
    }
    let path = dir.join(format!("{id}.json"));
    let text = serde_json::to_string_pretty(&meta).map_err(|e| io_err(&path, e))?;
    std::fs::write(&path, text).map_err(|e| io_err(&path, e))
}

fn to_json<T: Serialize>(dir: &Path, value: &T) -> Result<String, NotebookError> {
    serde_json::to_string(value).map_err(|e| io_err(dir, e))
}

/// Keeps one part (never a `Parts`), its Arrow pages numbered from `next_page`.
fn save_part(
    dir: &Path,
    id: &str,
    output: &CellOutput,
    next_page: &mut usize,
) -> Result<PartMeta, NotebookError> {
    let mut meta = PartMeta {
        first_page: *next_page,
        ..PartMeta::default()
    };
    let mut page = |schema: &SchemaRef, batches: &[RecordBatch]| {
        let path = dir.join(format!("{id}-{}.arrow", *next_page));
        *next_page += 1;
        write_arrow(&path, schema, batches)
    };
    match output {
        CellOutput::Markdown(text) => {
            meta.output = "markdown".into();
            meta.text = text.clone();
        }
        CellOutput::Text(text) => {
            meta.output = "text".into();
            meta.text = text.clone();
        }
        CellOutput::Table {
            schema,
            batches,
            complete,
        } => {
            meta.output = "table".into();
            meta.partial = !complete;
            page(schema, batches)?;
        }
        CellOutput::Match(m) => {
            meta.output = "match".into();
            meta.text = to_json(dir, m.as_ref())?;
        }
        CellOutput::Graph(g) => {
            meta.output = "graph".into();
            meta.text = to_json(dir, g.as_ref())?;
        }
        CellOutput::Cluster(c) => {
            meta.output = "cluster".into();
            meta.text = to_json(dir, c.as_ref())?;
            if let Some(rows) = &c.rows_shown {
                page(&rows.schema(), std::slice::from_ref(rows))?;
            }
        }
        CellOutput::Search(groups) => {
            meta.output = "search".into();
            for g in groups {
                page(&g.rows.schema(), std::slice::from_ref(&g.rows))?;
                meta.groups.push(GroupMeta {
                    dataset: g.dataset.clone(),
                    kind: g.kind,
                    mode: g.mode.to_string(),
                    notes: g.notes.clone(),
                    row_ids: g.row_ids.clone(),
                });
            }
        }
        CellOutput::Parts(_) => {
            return Err(io_err(
                dir,
                "parts inside parts are flattened before saving",
            ));
        }
    }
    Ok(meta)
}

/// The cached output of a cell: `None` if it never ran (or the cache is gone),
/// `Some(Err(error))` if its last run failed or was cancelled.
pub fn load(dir: &Path, id: &str) -> Result<Option<Result<CellRun, CellError>>, NotebookError> {
    check_id(dir, id)?;
    let path = dir.join(format!("{id}.json"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let meta: Meta = serde_json::from_str(&text).map_err(|e| io_err(&path, e))?;
    if let Some(message) = meta.error {
        let error = if meta.cancelled {
            CellError::cancelled()
        } else {
            CellError::new(message)
        };
        return Ok(Some(Err(error)));
    }
    let output = if meta.part.output == "parts" {
        let parts = meta
            .parts
            .into_iter()
            .map(|part| load_part(dir, id, &path, part))
            .collect::<Result<Vec<_>, _>>()?;
        CellOutput::Parts(parts)
    } else {
        load_part(dir, id, &path, meta.part)?
    };
    Ok(Some(Ok(CellRun {
        output,
        read: meta.read,
        changed: meta.changed,
        elapsed: Duration::from_secs_f64(meta.elapsed_ms.max(0.0) / 1e3),
        more: None,
    })))
}

/// Reads back one part kept by [`save_part`]; `path` is the cell's JSON file, for errors.
fn load_part(
    dir: &Path,
    id: &str,
    path: &Path,
    meta: PartMeta,
) -> Result<CellOutput, NotebookError> {
    let page = |n: usize| dir.join(format!("{id}-{}.arrow", meta.first_page + n));
    Ok(match meta.output.as_str() {
        "markdown" => CellOutput::Markdown(meta.text),
        "text" => CellOutput::Text(meta.text),
        "match" => CellOutput::Match(Box::new(
            serde_json::from_str(&meta.text).map_err(|e| io_err(path, e))?,
        )),
        "cluster" => {
            let mut report: crate::cluster::ClusterReport =
                serde_json::from_str(&meta.text).map_err(|e| io_err(path, e))?;
            // The rows are optional: an output without them still shows its clusters.
            report.rows_shown = read_arrow(&page(0))
                .ok()
                .and_then(|(_, batches)| batches.into_iter().next());
            CellOutput::Cluster(Box::new(report))
        }
        "graph" => CellOutput::Graph(Box::new(
            serde_json::from_str(&meta.text).map_err(|e| io_err(path, e))?,
        )),
        "table" => {
            let (schema, batches) = read_arrow(&page(0))?;
            CellOutput::Table {
                schema,
                batches,
                complete: !meta.partial,
            }
        }
        "search" => {
            let mut groups = Vec::new();
            for (n, g) in meta.groups.into_iter().enumerate() {
                let (_, batches) = read_arrow(&page(n))?;
                let rows = batches
                    .into_iter()
                    .next()
                    .ok_or_else(|| io_err(path, "a search output file is empty"))?;
                groups.push(SearchHits {
                    dataset: g.dataset,
                    kind: g.kind,
                    mode: match g.mode.as_str() {
                        "semantic" => SearchMode::Semantic,
                        "fulltext" => SearchMode::Fulltext,
                        _ => SearchMode::Hybrid,
                    },
                    rows,
                    notes: g.notes,
                    row_ids: g.row_ids,
                });
            }
            CellOutput::Search(groups)
        }
        other => return Err(io_err(path, format!("unknown output kind '{other}'"))),
    })
}
