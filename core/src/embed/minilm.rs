//! all-MiniLM-L6-v2 with candle: tokenise (at most 256 tokens), BERT forward,
//! mean over the attention mask, L2 normalisation, as sentence-transformers does.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

use super::EmbedError;
use super::locate::{MODEL_NAME, check_dir};

/// Length of every embedding.
pub const EMBEDDING_DIM: usize = 384;
/// Longer texts are truncated to this many tokens (the model's `max_seq_length`).
pub const MAX_TOKENS: usize = 256;
/// Texts per forward pass; texts are sorted by length so a batch pads little.
const BATCH: usize = 32;

/// The loaded model, ready to embed.
pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
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
        let config: Config = serde_json::from_str(&config_text)
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
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| bad(format!("model.safetensors: {e}")))?;
        let model = BertModel::load(vb, &config)
            .map_err(|e| bad(format!("model.safetensors does not fit config.json: {e}")))?;
        Ok(Self {
            model,
            tokenizer,
            device,
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
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            let vectors = self.embed_batch(batch)?;
            for (k, &i) in chunk.iter().enumerate() {
                out[i] = vectors[k].clone();
            }
        }
        Ok(out)
    }

    fn embed_batch(&self, batch: Vec<&str>) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(batch, true)
            .map_err(|e| EmbedError::Run(format!("tokenising: {e}")))?;
        let n = encodings.len();
        let len = encodings
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(1)
            .max(1);
        let mut ids = vec![0u32; n * len];
        let mut mask = vec![0u32; n * len];
        for (r, e) in encodings.iter().enumerate() {
            for (c, id) in e.get_ids().iter().enumerate() {
                ids[r * len + c] = *id;
                mask[r * len + c] = 1;
            }
        }
        let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
        let token_types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &token_types, Some(&mask))?; // (n, len, 384)
        let weights = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (n, len, 1)
        let summed = hidden.broadcast_mul(&weights)?.sum(1)?; // (n, 384)
        let counts = weights.sum(1)?.clamp(1e-9f32, f32::MAX)?; // (n, 1)
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12f32, f32::MAX)?;
        Ok(mean.broadcast_div(&norms)?.to_vec2()?)
    }
}
