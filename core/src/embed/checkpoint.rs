//! Finished embedding batches kept on disk until they are committed.
//!
//! Embedding a big fragment takes minutes. Each finished chunk of vectors is
//! written to its own Arrow IPC file (temp file + rename, so a crash leaves
//! either a whole chunk or none); a cancelled or crashed run picks up where it
//! stopped, and the column written into Lance is streamed back from these
//! files, so memory stays bounded whatever the fragment size.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, FixedSizeListArray, FixedSizeListBuilder, Float32Builder, UInt32Array,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::FileWriter;
use arrow::record_batch::RecordBatch;

use super::EMBEDDING_DIM;

/// Errors of the checkpoint files.
#[derive(Debug, thiserror::Error)]
#[error("embedding checkpoint {}: {reason}", .path.display())]
pub struct CheckpointError {
    /// The file or folder.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

fn err(path: &Path, reason: impl std::fmt::Display) -> CheckpointError {
    CheckpointError {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// The type of an embedding column: `FixedSizeList<Float32, 384>`.
pub fn vector_type() -> DataType {
    DataType::FixedSizeList(
        Arc::new(Field::new("item", DataType::Float32, true)),
        EMBEDDING_DIM as i32,
    )
}

fn chunk_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("offset", DataType::UInt32, false),
        Field::new("vector", vector_type(), true),
    ]))
}

/// Builds a vector column from optional vectors (`None` = null).
pub fn vector_array(vectors: &[Option<Vec<f32>>]) -> FixedSizeListArray {
    let mut builder = FixedSizeListBuilder::with_capacity(
        Float32Builder::with_capacity(vectors.len() * EMBEDDING_DIM),
        EMBEDDING_DIM as i32,
        vectors.len(),
    );
    for v in vectors {
        match v {
            Some(v) => {
                builder.values().append_slice(v);
                builder.append(true);
            }
            None => {
                builder.values().append_nulls(EMBEDDING_DIM);
                builder.append(false);
            }
        }
    }
    builder.finish()
}

/// The checkpoint folder of one fragment being embedded.
#[derive(Debug)]
pub struct FragmentCheckpoint {
    dir: PathBuf,
}

impl FragmentCheckpoint {
    /// Opens (creating if needed) the checkpoint folder `dir`.
    pub fn open(dir: PathBuf) -> Result<Self, CheckpointError> {
        std::fs::create_dir_all(&dir).map_err(|e| err(&dir, e))?;
        Ok(Self { dir })
    }

    fn chunk_files(&self) -> Result<Vec<PathBuf>, CheckpointError> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(|e| err(&self.dir, e))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("chunk-") && n.ends_with(".arrow"))
            })
            .collect();
        // Names carry the zero-padded first offset, so name order is row order.
        files.sort();
        Ok(files)
    }

    /// Row offsets already embedded by an earlier run.
    pub fn done_offsets(&self) -> Result<HashSet<u32>, CheckpointError> {
        let mut done = HashSet::new();
        for path in self.chunk_files()? {
            for batch in read_chunk(&path)? {
                let offsets = batch
                    .column(0)
                    .as_primitive::<arrow::datatypes::UInt32Type>();
                done.extend(offsets.values().iter().copied());
            }
        }
        Ok(done)
    }

    /// Saves a finished chunk: row offsets (ascending) and their vectors.
    pub fn save(
        &self,
        offsets: Vec<u32>,
        vectors: &[Option<Vec<f32>>],
    ) -> Result<(), CheckpointError> {
        let Some(first) = offsets.first().copied() else {
            return Ok(());
        };
        let batch = RecordBatch::try_new(
            chunk_schema(),
            vec![
                Arc::new(UInt32Array::from(offsets)),
                Arc::new(vector_array(vectors)),
            ],
        )
        .map_err(|e| err(&self.dir, e))?;
        let path = self.dir.join(format!("chunk-{first:010}.arrow"));
        crate::files::write_atomic_with(&path, |file| {
            let mut writer =
                FileWriter::try_new(file, &chunk_schema()).map_err(std::io::Error::other)?;
            writer.write(&batch).map_err(std::io::Error::other)?;
            writer.finish().map_err(std::io::Error::other)
        })
        .map_err(|e| err(&path, e))
    }

    /// The whole column for a fragment of `physical_rows` rows, in batches of
    /// `batch_rows`, read back from the chunks; rows no chunk covers are null.
    pub fn column_batches(
        &self,
        physical_rows: usize,
        batch_rows: usize,
    ) -> Result<ColumnBatches, CheckpointError> {
        Ok(ColumnBatches {
            files: self.chunk_files()?.into_iter().rev().collect(),
            pending: Vec::new(),
            next_offset: 0,
            physical_rows,
            batch_rows: batch_rows.max(1),
        })
    }

    /// Deletes the folder once its vectors are committed.
    pub fn remove(self) -> Result<(), CheckpointError> {
        std::fs::remove_dir_all(&self.dir).map_err(|e| err(&self.dir, e))
    }
}

fn read_chunk(path: &Path) -> Result<Vec<RecordBatch>, CheckpointError> {
    let file = File::open(path).map_err(|e| err(path, e))?;
    let reader = FileReader::try_new(file, None).map_err(|e| err(path, e))?;
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(path, e))?;
    for b in &batches {
        if b.schema() != chunk_schema() {
            return Err(err(path, "not an embedding chunk (unexpected columns)"));
        }
    }
    Ok(batches)
}

/// Streams a fragment's vector column back out of its chunk files.
pub struct ColumnBatches {
    /// Chunk files not read yet, last first.
    files: Vec<PathBuf>,
    /// (offset, vector row) pairs read but not yet emitted, in order.
    pending: Vec<(u32, FixedSizeListArray, usize)>,
    next_offset: usize,
    physical_rows: usize,
    batch_rows: usize,
}

impl ColumnBatches {
    fn fill_pending(&mut self, until: usize) -> Result<(), CheckpointError> {
        while self
            .pending
            .last()
            .is_none_or(|(offset, _, _)| (*offset as usize) < until)
        {
            let Some(path) = self.files.pop() else {
                break;
            };
            for batch in read_chunk(&path)? {
                let offsets = batch
                    .column(0)
                    .as_primitive::<arrow::datatypes::UInt32Type>();
                let vectors = batch.column(1).as_fixed_size_list().clone();
                for (row, offset) in offsets.values().iter().enumerate() {
                    if self
                        .pending
                        .last()
                        .is_some_and(|(last, _, _)| *last >= *offset)
                        || (*offset as usize) < self.next_offset
                    {
                        return Err(err(&path, "chunks overlap; run embed with --rebuild"));
                    }
                    self.pending.push((*offset, vectors.clone(), row));
                }
            }
        }
        Ok(())
    }

    /// The next batch of the column, or `None` when all rows are out.
    pub fn next_batch(&mut self) -> Result<Option<ArrayRef>, CheckpointError> {
        if self.next_offset >= self.physical_rows {
            return Ok(None);
        }
        let end = (self.next_offset + self.batch_rows).min(self.physical_rows);
        self.fill_pending(end)?;
        let mut builder = FixedSizeListBuilder::with_capacity(
            Float32Builder::with_capacity((end - self.next_offset) * EMBEDDING_DIM),
            EMBEDDING_DIM as i32,
            end - self.next_offset,
        );
        let mut taken = 0;
        for offset in self.next_offset..end {
            match self.pending.get(taken) {
                Some((o, vectors, row)) if *o as usize == offset && vectors.is_valid(*row) => {
                    let values = vectors.value(*row);
                    builder.values().append_slice(
                        values
                            .as_primitive::<arrow::datatypes::Float32Type>()
                            .values(),
                    );
                    builder.append(true);
                    taken += 1;
                }
                Some((o, _, _)) if *o as usize == offset => {
                    builder.values().append_nulls(EMBEDDING_DIM);
                    builder.append(false);
                    taken += 1;
                }
                _ => {
                    builder.values().append_nulls(EMBEDDING_DIM);
                    builder.append(false);
                }
            }
        }
        self.pending.drain(..taken);
        self.next_offset = end;
        Ok(Some(Arc::new(builder.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(x: f32) -> Option<Vec<f32>> {
        Some(vec![x; EMBEDDING_DIM])
    }

    #[test]
    fn chunks_come_back_in_row_order_with_gaps_as_nulls() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let cp = FragmentCheckpoint::open(dir.path().join("f"))?;
        cp.save(vec![0, 1, 3], &[vector(0.0), None, vector(3.0)])?;
        cp.save(vec![4, 6], &[vector(4.0), vector(6.0)])?;
        let done = cp.done_offsets()?;
        assert_eq!(done.len(), 5);
        assert!(done.contains(&6) && !done.contains(&2));
        let mut column = cp.column_batches(8, 3)?;
        let mut values: Vec<Option<f32>> = Vec::new();
        while let Some(batch) = column.next_batch()? {
            let list = batch.as_fixed_size_list();
            for i in 0..list.len() {
                values.push(list.is_valid(i).then(|| {
                    list.value(i)
                        .as_primitive::<arrow::datatypes::Float32Type>()
                        .value(0)
                }));
            }
        }
        assert_eq!(
            values,
            vec![
                Some(0.0),
                None,
                None,
                Some(3.0),
                Some(4.0),
                None,
                Some(6.0),
                None
            ]
        );
        cp.remove()?;
        assert!(!dir.path().join("f").exists());
        Ok(())
    }
}
