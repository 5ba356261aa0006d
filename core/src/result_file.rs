//! A query result saved as a CSV or Parquet file, batch by batch, so a
//! result of any size streams out in the memory of one batch. The file
//! appears whole or not at all: rows go to a temporary file beside it, which
//! takes the file's name only when the last row is written.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use futures::StreamExt;

use crate::{BoxError, Job};

/// The kinds of file a result is saved as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFormat {
    /// Comma-separated text with a header row; nested values as their text.
    Csv,
    /// Parquet, every Arrow type kept.
    Parquet,
}

impl ResultFormat {
    /// The format a file name asks for, by its extension.
    pub fn from_path(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(Self::Csv),
            "parquet" | "pq" => Some(Self::Parquet),
            _ => None,
        }
    }

    /// The usual extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Parquet => "parquet",
        }
    }
}

/// Why a result could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum ResultFileError {
    /// The file (or its temporary twin) could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A batch could not be encoded, or the query failed while streaming.
    #[error("cannot save {}: {source}", path.display())]
    Encode {
        /// The file.
        path: PathBuf,
        /// Why.
        source: BoxError,
    },
    /// The save was cancelled; nothing was written.
    #[error("cancelled: {} was not written", path.display())]
    Cancelled {
        /// The file.
        path: PathBuf,
    },
}

enum Encoder {
    Csv(arrow::csv::Writer<File>),
    Parquet(Box<parquet::arrow::ArrowWriter<File>>),
}

/// Writes a result to a file batch by batch; [`ResultWriter::finish`] gives
/// the file its name. Dropped unfinished, it leaves nothing behind.
pub struct ResultWriter {
    path: PathBuf,
    temp: tempfile::NamedTempFile,
    encoder: Encoder,
    rows: usize,
}

impl std::fmt::Debug for ResultWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultWriter")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl ResultWriter {
    /// A writer of `schema`'s rows to `path` in `format`.
    pub fn create(
        path: &Path,
        schema: &SchemaRef,
        format: ResultFormat,
    ) -> Result<Self, ResultFileError> {
        let io = |source| ResultFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".lakebook-save-")
            .tempfile_in(folder)
            .map_err(io)?;
        let file = temp.reopen().map_err(io)?;
        let encoder = match format {
            ResultFormat::Csv => Encoder::Csv(
                arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(file),
            ),
            ResultFormat::Parquet => Encoder::Parquet(Box::new(
                parquet::arrow::ArrowWriter::try_new(file, schema.clone(), None).map_err(|e| {
                    ResultFileError::Encode {
                        path: path.to_path_buf(),
                        source: Box::new(e),
                    }
                })?,
            )),
        };
        Ok(Self {
            path: path.to_path_buf(),
            temp,
            encoder,
            rows: 0,
        })
    }

    /// Writes one batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), ResultFileError> {
        let encode = |e: BoxError| ResultFileError::Encode {
            path: self.path.clone(),
            source: e,
        };
        match &mut self.encoder {
            Encoder::Csv(w) => {
                let flat = csv_ready(batch).map_err(|e| encode(Box::new(e)))?;
                w.write(&flat).map_err(|e| encode(Box::new(e)))?;
            }
            Encoder::Parquet(w) => w.write(batch).map_err(|e| encode(Box::new(e)))?,
        }
        self.rows += batch.num_rows();
        Ok(())
    }

    /// Ends the file and gives it its name (replacing an older file of that
    /// name); returns the rows written.
    pub fn finish(self) -> Result<usize, ResultFileError> {
        let Self {
            path,
            temp,
            encoder,
            rows,
        } = self;
        let encode = |e: BoxError| ResultFileError::Encode {
            path: path.clone(),
            source: e,
        };
        match encoder {
            Encoder::Csv(w) => {
                let file = w.into_inner();
                file.sync_all().map_err(|e| encode(Box::new(e)))?;
            }
            Encoder::Parquet(w) => {
                let file = w.into_inner().map_err(|e| encode(Box::new(e)))?;
                file.sync_all().map_err(|e| encode(Box::new(e)))?;
            }
        }
        temp.persist(&path).map_err(|e| ResultFileError::Io {
            path: path.clone(),
            source: e.error,
        })?;
        Ok(rows)
    }
}

/// Saves `batches` to `path`; returns the rows written.
pub fn save_batches(
    path: &Path,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    format: ResultFormat,
) -> Result<usize, ResultFileError> {
    let mut writer = ResultWriter::create(path, schema, format)?;
    for b in batches {
        writer.write(b)?;
    }
    writer.finish()
}

/// Saves every batch of `stream` to `path`, counting rows on `job`; a
/// cancel or a failing batch leaves no file.
pub async fn save_stream<E>(
    path: &Path,
    schema: &SchemaRef,
    mut stream: impl futures::Stream<Item = Result<RecordBatch, E>> + Unpin,
    format: ResultFormat,
    job: &Job,
) -> Result<usize, ResultFileError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let mut writer = ResultWriter::create(path, schema, format)?;
    loop {
        let next =
            job.or_cancelled(stream.next())
                .await
                .map_err(|_| ResultFileError::Cancelled {
                    path: path.to_path_buf(),
                })?;
        match next {
            None => break,
            Some(Ok(batch)) => {
                writer.write(&batch)?;
                job.advance(batch.num_rows() as u64);
            }
            Some(Err(e)) => {
                return Err(ResultFileError::Encode {
                    path: path.to_path_buf(),
                    source: Box::new(e),
                });
            }
        }
    }
    writer.finish()
}

/// Runs `sql` over `lake`, reading the datasets in `pins` at those versions
/// (the versions a cell's result came from), and saves every row to `path`.
pub async fn save_query(
    lake: &crate::Lake,
    sql: &str,
    pins: std::collections::HashMap<String, u64>,
    path: &Path,
    format: ResultFormat,
    job: &Job,
) -> Result<usize, ResultFileError> {
    let engine =
        crate::sql::SqlEngine::with_options(lake, crate::sql::SqlOptions { cache: None, pins });
    let planned =
        job.or_cancelled(engine.stream(sql))
            .await
            .map_err(|_| ResultFileError::Cancelled {
                path: path.to_path_buf(),
            })?;
    let stream = planned.map_err(|e| ResultFileError::Encode {
        path: path.to_path_buf(),
        source: e.message.into(),
    })?;
    let schema = stream.schema();
    job.begin_stage(format!("saving {}", path.display()), 0, "rows");
    save_stream(path, &schema, stream, format, job).await
}

/// `batch` with the columns CSV cannot hold (lists, structs, maps, binary)
/// as their display text.
fn csv_ready(batch: &RecordBatch) -> Result<RecordBatch, arrow::error::ArrowError> {
    let flat = |t: &DataType| {
        matches!(
            t,
            DataType::List(_)
                | DataType::LargeList(_)
                | DataType::FixedSizeList(..)
                | DataType::Struct(_)
                | DataType::Map(..)
                | DataType::Union(..)
                | DataType::Dictionary(..)
        )
    };
    if !batch.schema().fields().iter().any(|f| flat(f.data_type())) {
        return Ok(batch.clone());
    }
    let options = FormatOptions::default();
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if flat(field.data_type()) {
            let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
            let text: StringArray = (0..column.len())
                .map(|i| (!column.is_null(i)).then(|| formatter.value(i).to_string()))
                .collect();
            fields.push(Field::new(field.name(), DataType::Utf8, true));
            columns.push(Arc::new(text));
        } else {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

#[cfg(test)]
mod tests {
    use arrow::array::{Float32Array, Int64Array, ListArray};
    use arrow::datatypes::Int32Type;

    use super::*;

    fn result() -> Result<(SchemaRef, RecordBatch), arrow::error::ArrowError> {
        let vectors = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
            None,
        ]);
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("Sepal.Length", DataType::Float32, true),
            Field::new("v", vectors.data_type().clone(), true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(Float32Array::from(vec![Some(5.1), None])),
                Arc::new(vectors),
            ],
        )?;
        Ok((schema, batch))
    }

    #[test]
    fn a_result_saves_as_csv_with_nested_values_as_text() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out.csv");
        let (schema, batch) = result()?;
        let rows = save_batches(&path, &schema, &[batch.clone(), batch], ResultFormat::Csv);
        assert_eq!(rows?, 4);
        assert_eq!(
            std::fs::read_to_string(&path)?,
            "id,Sepal.Length,v\n1,5.1,\"[1, 2]\"\n2,,\n1,5.1,\"[1, 2]\"\n2,,\n"
        );
        // Only the file itself is left in the folder.
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
        Ok(())
    }

    #[test]
    fn a_result_saves_as_parquet_that_reads_back_whole() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out.parquet");
        let (schema, batch) = result()?;
        assert_eq!(ResultFormat::from_path(&path), Some(ResultFormat::Parquet));
        save_batches(
            &path,
            &schema,
            std::slice::from_ref(&batch),
            ResultFormat::Parquet,
        )?;
        let file = File::open(&path)?;
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)?
            .build()?;
        let read: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
        assert_eq!(read, vec![batch]);
        Ok(())
    }

    #[tokio::test]
    async fn a_failing_or_cancelled_stream_leaves_the_old_file_untouched()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out.csv");
        std::fs::write(&path, "old\n")?;
        let (schema, batch) = result()?;
        let failing = futures::stream::iter(vec![
            Ok(batch.clone()),
            Err(arrow::error::ArrowError::ComputeError(
                "disk on fire".into(),
            )),
        ]);
        let job = Job::new();
        let err = save_stream(&path, &schema, failing, ResultFormat::Csv, &job)
            .await
            .expect_err("it should fail");
        assert_eq!(
            err.to_string(),
            format!(
                "cannot save {}: Compute error: disk on fire",
                path.display()
            )
        );
        let cancelled = Job::new();
        cancelled.cancel();
        let pending = futures::stream::pending::<Result<RecordBatch, arrow::error::ArrowError>>();
        let err = save_stream(&path, &schema, pending, ResultFormat::Csv, &cancelled)
            .await
            .expect_err("it should fail");
        assert!(matches!(err, ResultFileError::Cancelled { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&path)?, "old\n");
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
        let ok = futures::stream::iter(vec![Ok::<_, arrow::error::ArrowError>(batch)]);
        let saving = Job::new();
        let rows = save_stream(&path, &schema, ok, ResultFormat::Csv, &saving).await;
        assert_eq!(rows?, 2);
        assert_eq!(saving.snapshot().done, 2);
        assert_eq!(
            std::fs::read_to_string(&path)?,
            "id,Sepal.Length,v\n1,5.1,\"[1, 2]\"\n2,,\n"
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_query_saves_whole_at_the_versions_its_cell_read()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mut lake = crate::Lake::init(&dir.path().join("lake")).await?;
        crate::lake::write_counting_versions(&mut lake, "t", &[3, 5]).await?;
        let path = dir.path().join("first.csv");
        let pins = [("t".to_string(), 1u64)].into_iter().collect();
        let job = Job::new();
        let saved = save_query(
            &lake,
            "SELECT n * 2 AS twice FROM t",
            pins,
            &path,
            ResultFormat::Csv,
            &job,
        )
        .await?;
        assert_eq!(saved, 3);
        assert_eq!(std::fs::read_to_string(&path)?, "twice\n0\n2\n4\n");
        let latest = save_query(
            &lake,
            "SELECT count(*) AS c FROM t",
            Default::default(),
            &path,
            ResultFormat::Csv,
            &job,
        )
        .await?;
        assert_eq!(latest, 1);
        assert_eq!(std::fs::read_to_string(&path)?, "c\n5\n");
        let err = save_query(
            &lake,
            "SELECT nope FROM t",
            Default::default(),
            &path,
            ResultFormat::Csv,
            &job,
        )
        .await
        .expect_err("it should fail")
        .to_string();
        assert!(
            err.starts_with(&format!("cannot save {}: ", path.display())),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path)?, "c\n5\n");
        Ok(())
    }
}
