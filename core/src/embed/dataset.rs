//! Embedding a whole dataset: a vector column written into a new Lance version.
//!
//! The column is declared once (all null, metadata only), then filled fragment
//! by fragment from the vectors the model computes. Finished chunks go to
//! checkpoint files first, so a cancelled or crashed run loses no finished
//! work, and the fill is one atomic `DataReplacement` commit. Fragments that
//! already carry vectors are left alone: after an append only the new rows are
//! embedded.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Field, Schema, UInt64Type};
use chrono::Utc;
use futures::StreamExt;
use lance::dataset::fragment::FileFragment;
use lance::dataset::transaction::{DataReplacementGroup, Operation, Transaction};
use lance::dataset::{CommitBuilder, NewColumnTransform};

use super::checkpoint::{FragmentCheckpoint, vector_type};
use super::text::{default_source_columns, render_rows};
use super::{EMBEDDING_DIM, EmbedError, MODEL_NAME, MiniLm};
use crate::job::Job;
use crate::lake::{EmbeddingEntry, Lake};

/// Name of the vector column, unless the table already has a column of that name.
pub const VECTOR_COLUMN: &str = "embedding";
/// Rows handed to the model at once, and saved as one checkpoint chunk.
const CHUNK_ROWS: usize = 512;

/// What to embed.
#[derive(Debug, Clone, Default)]
pub struct EmbedRequest {
    /// The dataset.
    pub name: String,
    /// Columns whose text is embedded; `None` = the dataset's text columns
    /// (documents: the passage text), or the columns of an earlier embed.
    pub columns: Option<Vec<String>>,
    /// Throw away existing vectors and embed every row again.
    pub rebuild: bool,
}

/// What an embed run did.
#[derive(Debug, Clone)]
pub struct EmbedReport {
    /// The dataset.
    pub name: String,
    /// The vector column.
    pub column: String,
    /// The columns whose text was embedded.
    pub source_columns: Vec<String>,
    /// Rows embedded by this run (including rows finished by an earlier, interrupted run).
    pub embedded: u64,
    /// Of those, rows with no text (null, empty or blank), which get no vector.
    pub without_text: u64,
    /// Rows that had vectors before this run and were left alone.
    pub already: u64,
    /// Rows recovered from the checkpoint of an interrupted run.
    pub resumed: u64,
    /// Dataset version after the run.
    pub version: u64,
    /// Wall time of the embedding itself, in seconds.
    pub seconds: f64,
}

/// Embeds the rows of a dataset that have no vector yet; see the module docs.
pub async fn embed_dataset(
    lake: &mut Lake,
    model: Arc<MiniLm>,
    request: &EmbedRequest,
    job: &Job,
) -> Result<EmbedReport, EmbedError> {
    let name = request.name.as_str();
    let lance_err = |source: lance::Error| EmbedError::Lance {
        name: name.to_string(),
        source,
    };
    let entry = lake.entry(name)?.clone();
    let mut ds = (*lake.open_dataset(name, None).await?).clone();
    let checkpoint_root = lake.dir().join(".lakebook").join("embed").join(&entry.dir);

    let mut existing = entry.embedding.clone();
    if let Some(e) = &existing
        && (request.rebuild || e.model != MODEL_NAME)
    {
        if !request.rebuild {
            return Err(EmbedError::Columns {
                name: name.to_string(),
                reason: format!(
                    "it was embedded with {}, not {MODEL_NAME}; run embed with --rebuild to replace its vectors",
                    e.model
                ),
            });
        }
        if ds.schema().field(&e.column).is_some() {
            ds.drop_columns(&[e.column.as_str()])
                .await
                .map_err(lance_err)?;
        }
        existing = None;
    }
    if request.rebuild && checkpoint_root.exists() {
        std::fs::remove_dir_all(&checkpoint_root).map_err(|source| EmbedError::Io {
            path: checkpoint_root.clone(),
            source,
        })?;
    }

    let arrow_schema = Schema::from(ds.schema());
    // The user names columns as SQL shows them; Lance reads them by their stored names.
    let asked: Option<Vec<String>> = request.columns.as_ref().map(|c| {
        c.iter()
            .map(|n| {
                crate::lake::columns::stored_name(&arrow_schema, n)
                    .unwrap_or(n)
                    .to_string()
            })
            .collect()
    });
    let (column, source_columns) = match &existing {
        Some(e) => {
            if let Some(asked) = &asked
                && *asked != e.source_columns
            {
                return Err(EmbedError::Columns {
                    name: name.to_string(),
                    reason: format!(
                        "it is embedded from {}; run embed with --rebuild to embed {} instead",
                        e.source_columns.join(", "),
                        asked.join(", ")
                    ),
                });
            }
            (e.column.clone(), e.source_columns.clone())
        }
        None => {
            let column = if arrow_schema.field_with_name(VECTOR_COLUMN).is_ok() {
                format!("{VECTOR_COLUMN}_minilm")
            } else {
                VECTOR_COLUMN.to_string()
            };
            let sources = match &asked {
                Some(c) => c.clone(),
                None => default_source_columns(entry.kind, &arrow_schema, &column),
            };
            (column, sources)
        }
    };
    check_source_columns(name, &arrow_schema, &source_columns, &column)?;

    if ds.schema().field(&column).is_none() {
        let declared = Schema::new(vec![Field::new(&column, vector_type(), true)]);
        ds.add_columns(NewColumnTransform::AllNulls(Arc::new(declared)), None, None)
            .await
            .map_err(lance_err)?;
        let rows = ds.count_rows(None).await.map_err(lance_err)? as u64;
        let declared_entry = EmbeddingEntry {
            model: MODEL_NAME.to_string(),
            column: column.clone(),
            dim: EMBEDDING_DIM,
            source_columns: source_columns.clone(),
            rows_with_vector: 0,
            rows_pending: rows,
            updated: Utc::now(),
            extra: serde_json::Map::new(),
        };
        lake.record_new_version(name, &ds, Some(declared_entry))
            .await?;
    }

    let field = ds
        .schema()
        .field(&column)
        .cloned()
        .ok_or_else(|| EmbedError::Columns {
            name: name.to_string(),
            reason: format!("the vector column '{column}' vanished"),
        })?;
    let field_id = u32::try_from(field.id).map_err(|_| EmbedError::Columns {
        name: name.to_string(),
        reason: format!("column '{column}' has no field id"),
    })?;
    let todo: Vec<FileFragment> = ds
        .get_fragments()
        .into_iter()
        .filter(|f| f.data_file_for_field(field_id).is_none())
        .collect();
    let mut total = 0u64;
    for f in &todo {
        total += f.count_rows(None).await.map_err(lance_err)? as u64;
    }
    let rows_before = ds.count_rows(None).await.map_err(lance_err)? as u64;
    let already = rows_before.saturating_sub(total);
    job.set_total(total, "rows");
    job.set_message(format!("embedding {name}"));

    let started = Instant::now();
    let mut report = EmbedReport {
        name: name.to_string(),
        column: column.clone(),
        source_columns: source_columns.clone(),
        embedded: 0,
        without_text: 0,
        already,
        resumed: 0,
        version: ds.version().version,
        seconds: 0.0,
    };
    let write_schema = lance::datatypes::Schema {
        fields: vec![field.clone()],
        metadata: Default::default(),
    };
    let column_schema = Arc::new(Schema::new(vec![Field::from(&field)]));
    let mut replacements: Vec<DataReplacementGroup> = Vec::new();
    let mut checkpoints: Vec<FragmentCheckpoint> = Vec::new();
    // The vector files are written long before the commit: while they are
    // nobody's but this writer's, clean-ups (gc, a failed append) keep off.
    let dataset_dir = lake.entry(name)?.dir.clone();
    let _staging = crate::lake::StagingLock::join(lake.dir(), &dataset_dir).await?;
    for fragment in &todo {
        let checkpoint = FragmentCheckpoint::open(checkpoint_dir(&checkpoint_root, fragment))?;
        embed_fragment(
            name,
            fragment,
            &source_columns,
            &model,
            &checkpoint,
            job,
            &mut report,
        )
        .await?;
        let physical = fragment.physical_rows().await.map_err(lance_err)?;
        let mut column_batches = checkpoint.column_batches(physical, 4096)?;
        let schema = column_schema.clone();
        let batches = std::iter::from_fn(move || match column_batches.next_batch() {
            Ok(Some(array)) => {
                Some(RecordBatch::try_new(schema.clone(), vec![array]).map_err(lance::Error::from))
            }
            Ok(None) => None,
            Err(e) => Some(Err(lance::Error::invalid_input(e.to_string()))),
        });
        let group = fragment
            .write_columns(futures::stream::iter(batches), &write_schema)
            .await
            .map_err(lance_err)?;
        replacements.push(group);
        checkpoints.push(checkpoint);
    }

    if !replacements.is_empty() {
        let transaction = Transaction::new(
            ds.version_id(),
            Operation::DataReplacement { replacements },
            None,
        );
        ds = CommitBuilder::new(Arc::new(ds))
            .execute(transaction)
            .await
            .map_err(lance_err)?;
    }
    report.seconds = started.elapsed().as_secs_f64();
    report.version = ds.version().version;

    let with_vector = ds
        .count_rows(Some(format!("{} IS NOT NULL", quote(&column))))
        .await
        .map_err(lance_err)? as u64;
    let mut done_entry =
        lake.entry(name)?
            .embedding
            .clone()
            .ok_or_else(|| EmbedError::Columns {
                name: name.to_string(),
                reason: "the catalog lost its embedding entry".to_string(),
            })?;
    done_entry.rows_with_vector = with_vector;
    done_entry.rows_pending = 0;
    done_entry.updated = Utc::now();
    lake.record_new_version(name, &ds, Some(done_entry)).await?;
    for checkpoint in checkpoints {
        // Committed: the chunks are no longer needed. A leftover folder is harmless.
        let _ = checkpoint.remove();
    }
    Ok(report)
}

/// Embeds the rows of one fragment not yet in its checkpoint, saving chunk by chunk.
async fn embed_fragment(
    name: &str,
    fragment: &FileFragment,
    source_columns: &[String],
    model: &Arc<MiniLm>,
    checkpoint: &FragmentCheckpoint,
    job: &Job,
    report: &mut EmbedReport,
) -> Result<(), EmbedError> {
    let lance_err = |source: lance::Error| EmbedError::Lance {
        name: name.to_string(),
        source,
    };
    let done = checkpoint.done_offsets()?;
    report.resumed += done.len() as u64;
    report.embedded += done.len() as u64;
    job.advance(done.len() as u64);

    let mut scan = fragment.scan();
    scan.project(source_columns)
        .map_err(lance_err)?
        .with_row_address()
        .batch_size(CHUNK_ROWS);
    let mut stream = scan.try_into_stream().await.map_err(lance_err)?;
    let mut offsets: Vec<u32> = Vec::with_capacity(CHUNK_ROWS);
    let mut texts: Vec<Option<String>> = Vec::with_capacity(CHUNK_ROWS);
    loop {
        if job.is_cancelled() {
            return Err(EmbedError::Cancelled);
        }
        let batch = stream.next().await.transpose().map_err(lance_err)?;
        if let Some(batch) = &batch {
            let rendered =
                render_rows(batch, source_columns).map_err(|reason| EmbedError::Columns {
                    name: name.to_string(),
                    reason,
                })?;
            let addresses = batch
                .column_by_name("_rowaddr")
                .ok_or_else(|| EmbedError::Columns {
                    name: name.to_string(),
                    reason: "the scan returned no row addresses".to_string(),
                })?
                .as_primitive::<UInt64Type>();
            for (address, text) in addresses.values().iter().zip(rendered) {
                // The low 32 bits of a row address are the row's offset in its fragment.
                let offset = (*address & 0xFFFF_FFFF) as u32;
                if !done.contains(&offset) {
                    offsets.push(offset);
                    texts.push(text);
                }
            }
        }
        let finished = batch.is_none();
        while offsets.len() >= CHUNK_ROWS || (finished && !offsets.is_empty()) {
            let take = offsets.len().min(CHUNK_ROWS);
            let chunk_offsets: Vec<u32> = offsets.drain(..take).collect();
            let chunk_texts: Vec<Option<String>> = texts.drain(..take).collect();
            let vectors = embed_chunk(model, chunk_texts).await?;
            report.without_text += vectors.iter().filter(|v| v.is_none()).count() as u64;
            checkpoint.save(chunk_offsets, &vectors)?;
            report.embedded += take as u64;
            job.advance(take as u64);
            if job.is_cancelled() {
                return Err(EmbedError::Cancelled);
            }
        }
        if finished {
            return Ok(());
        }
    }
}

/// Runs the model on a chunk off the async threads; rows without text get `None`.
async fn embed_chunk(
    model: &Arc<MiniLm>,
    texts: Vec<Option<String>>,
) -> Result<Vec<Option<Vec<f32>>>, EmbedError> {
    let model = model.clone();
    tokio::task::spawn_blocking(move || {
        let present: Vec<&str> = texts.iter().flatten().map(String::as_str).collect();
        let mut vectors = model.embed(&present)?.into_iter();
        Ok(texts
            .iter()
            .map(|t| t.as_ref().and_then(|_| vectors.next()))
            .collect())
    })
    .await
    .map_err(|e| EmbedError::Run(format!("the embedding thread failed: {e}")))?
}

fn checkpoint_dir(root: &std::path::Path, fragment: &FileFragment) -> PathBuf {
    // A fragment id alone could be reused after an overwrite; its first data file's name is unique.
    let file = fragment
        .metadata()
        .files
        .first()
        .map(|f| {
            std::path::Path::new(&f.path)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    root.join(format!("fragment-{}-{file}", fragment.id()))
}

fn check_source_columns(
    name: &str,
    schema: &Schema,
    columns: &[String],
    vector_column: &str,
) -> Result<(), EmbedError> {
    if columns.is_empty() {
        return Err(EmbedError::Columns {
            name: name.to_string(),
            reason: "there are no columns to embed; name some with --columns".to_string(),
        });
    }
    for c in columns {
        if c == vector_column {
            return Err(EmbedError::Columns {
                name: name.to_string(),
                reason: format!("'{c}' is the vector column itself"),
            });
        }
        if schema.field_with_name(c).is_err() {
            let known: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(EmbedError::Columns {
                name: name.to_string(),
                reason: format!("it has no column '{c}' (its columns: {})", known.join(", ")),
            });
        }
    }
    Ok(())
}

/// `name` as a SQL identifier for Lance filters.
pub(crate) fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}
