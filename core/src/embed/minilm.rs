//! all-MiniLM-L6-v2: tokenise (at most 256 tokens), BERT forward ([`super::bert`]),
//! mean over each text's tokens, L2 normalisation, as sentence-transformers does.

use std::path::{Path, PathBuf};

use tokenizers::{Tokenizer, TruncationParams};

use super::EmbedError;
use super::bert::{Bert, BertConfig};
use super::locate::{MODEL_NAME, check_dir};

/// Length of every embedding.
pub const EMBEDDING_DIM: usize = 384;
/// Longer texts are truncated to this many tokens (the model's `max_seq_length`).
pub const MAX_TOKENS: usize = 256;
/// Texts tokenised at a time (bounds the memory of one `embed` call's tokens).
const TOKENISE_BATCH: usize = 4096;

/// The loaded model, ready to embed.
pub struct MiniLm {
    model: Bert,
    tokenizer: Tokenizer,
    threads: usize,
    dir: PathBuf,
}

impl std::fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLm")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl MiniLm {
    /// Loads the model from a folder with `config.json`, `tokenizer.json`, `model.safetensors`.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        check_dir(dir)?;
        let bad = |reason: String| EmbedError::BadModel {
            dir: dir.to_path_buf(),
            reason,
        };
        let config_text = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| bad(format!("config.json: {e}")))?;
        let config: BertConfig = serde_json::from_str(&config_text)
            .map_err(|e| bad(format!("config.json is not a BERT config: {e}")))?;
        if config.hidden_size != EMBEDDING_DIM {
            return Err(bad(format!(
                "its hidden size is {}, but {MODEL_NAME} has {EMBEDDING_DIM} dimensions",
                config.hidden_size
            )));
        }
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| bad(format!("tokenizer.json: {e}")))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| bad(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);
        let weights = std::fs::read(dir.join("model.safetensors"))
            .map_err(|e| bad(format!("model.safetensors: {e}")))?;
        let model = Bert::load(&config, &weights).map_err(bad)?;
        Ok(Self {
            model,
            tokenizer,
            threads: threads(),
            dir: dir.to_path_buf(),
        })
    }

    /// The folder the model was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Number of tokens a text becomes (after truncation), special tokens included.
    pub fn token_count(&self, text: &str) -> Result<usize, EmbedError> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| EmbedError::Run(format!("tokenising: {e}")))?;
        Ok(enc.get_ids().len())
    }

    /// Embeds texts: one unit-length vector of [`EMBEDDING_DIM`] floats per text, in order.
    ///
    /// Runs on `LAKEBOOK_THREADS` threads (default: one per core).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(TOKENISE_BATCH) {
            let encodings = self
                .tokenizer
                .encode_batch(batch.to_vec(), true)
                .map_err(|e| EmbedError::Run(format!("tokenising: {e}")))?;
            let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
            out.extend(
                self.model
                    .embed(&ids, self.threads)
                    .map_err(EmbedError::Run)?,
            );
        }
        Ok(out)
    }
}

/// Worker threads for the forward: `LAKEBOOK_THREADS`, else one per core.
fn threads() -> usize {
    std::env::var("LAKEBOOK_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
