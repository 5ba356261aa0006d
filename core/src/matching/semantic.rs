//! The semantic matcher: MiniLM embeddings of each column's name and a few of
//! its values, compared by cosine, so that `town` finds `city` and a column of
//! surnames finds another one with different people in it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::embed::EmbedError;
use crate::embed::MiniLm;
use crate::profile::ColumnProfile;
use crate::profile::sketch::hash_value;

/// Values shown to the model per column (few and short: the model's cost
/// grows with the tokens, and a column is embedded in every match).
const VALUES: usize = 2;
/// Longest value shown, in characters.
const VALUE_CHARS: usize = 20;

/// The column's name and a few of its values: the sampled values with the
/// smallest hashes, so that two samples of the same value set tend to show
/// the same values whatever order the rows came in.
pub fn column_text(c: &ColumnProfile) -> String {
    let mut values: Vec<&String> = c.sample.iter().chain(&c.examples).collect();
    values.sort_by_key(|v| hash_value(v));
    values.dedup();
    let shown: Vec<String> = values
        .into_iter()
        .take(VALUES)
        .map(|v| v.chars().take(VALUE_CHARS).collect())
        .collect();
    format!("{}: {}", c.name_tokens.join(" "), shown.join(", "))
}

/// The model with a memory of the column texts it has embedded, so a column
/// seen in many pairs is embedded once.
#[derive(Debug)]
pub struct ColumnEmbedder {
    model: Arc<MiniLm>,
    cache: Mutex<HashMap<String, Vec<f32>>>,
}

impl ColumnEmbedder {
    /// Wraps a loaded model.
    pub fn new(model: Arc<MiniLm>) -> Self {
        Self {
            model,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The model wrapped for `matcher`, when that matcher may use it. The
    /// combined matcher goes on without one when none is found (and says so
    /// in its notes); the semantic matcher, or a model folder named
    /// explicitly, needs one.
    pub fn for_matcher(
        matcher: super::Matcher,
        model_dir: Option<&std::path::Path>,
    ) -> Result<Option<Self>, EmbedError> {
        use super::Matcher;
        if !matches!(matcher, Matcher::Combined | Matcher::Semantic) {
            return Ok(None);
        }
        match crate::embed::load_model(model_dir) {
            Ok(model) => Ok(Some(Self::new(Arc::new(model)))),
            Err(e) if matcher == Matcher::Semantic || model_dir.is_some() => Err(e),
            Err(_) => Ok(None),
        }
    }

    /// One vector per column, in order.
    pub fn embed(&self, columns: &[&ColumnProfile]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let texts: Vec<String> = columns.iter().map(|c| column_text(c)).collect();
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| EmbedError::Run("embedding cache poisoned".into()))?;
        let mut missing: Vec<&str> = texts
            .iter()
            .map(String::as_str)
            .filter(|t| !cache.contains_key(*t))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let vectors = self.model.embed(&missing)?;
            for (t, v) in missing.iter().zip(vectors) {
                cache.insert((*t).to_string(), v);
            }
        }
        Ok(texts
            .iter()
            .map(|t| cache.get(t).cloned().unwrap_or_default())
            .collect())
    }
}

/// Semantic similarity in [0, 1] with the reason: the cosine of the two
/// columns' embeddings, with the level that unrelated short texts reach under
/// MiniLM (about 0.2) mapped to 0.
pub fn semantic_similarity(a: &[f32], b: &[f32]) -> (f64, String) {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        return (0.0, "no embedding".into());
    }
    let cos = f64::from(dot / (na * nb));
    (
        ((cos - 0.2) / 0.8).clamp(0.0, 1.0),
        format!("embedding cosine {cos:.2}"),
    )
}
