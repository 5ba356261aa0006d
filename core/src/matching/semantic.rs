//! The semantic matcher: MiniLM embeddings of each column's name and a few of
//! its values, compared by cosine, so that `town` finds `city` and a column of
//! surnames finds another one with different people in it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::embed::EmbedError;
use crate::embed::MiniLm;
use crate::profile::ColumnProfile;

/// Values shown to the model per column (few and short: the model's cost
/// grows with the tokens, and a column is embedded in every match).
const VALUES: usize = 3;
/// Longest value shown, in characters.
const VALUE_CHARS: usize = 20;

/// The column's name in words.
pub fn name_text(c: &ColumnProfile) -> String {
    c.name_tokens.join(" ")
}

/// The column's name and a few of its values.
pub fn column_text(c: &ColumnProfile) -> String {
    let values: Vec<String> = c
        .examples
        .iter()
        .take(VALUES)
        .map(|v| v.chars().take(VALUE_CHARS).collect())
        .collect();
    format!("{}: {}", c.name_tokens.join(" "), values.join(", "))
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

    /// The vectors of each column, in order.
    pub fn embed(&self, columns: &[&ColumnProfile]) -> Result<Vec<ColumnVectors>, EmbedError> {
        let texts: Vec<String> = columns
            .iter()
            .flat_map(|c| [name_text(c), column_text(c)])
            .collect();
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
        let vector = |t: &String| cache.get(t).cloned().unwrap_or_default();
        Ok(texts
            .chunks(2)
            .map(|pair| ColumnVectors {
                name: vector(&pair[0]),
                full: vector(&pair[1]),
            })
            .collect())
    }
}

/// A column's embeddings: of its name alone, and of its name with values.
#[derive(Debug, Clone, Default)]
pub struct ColumnVectors {
    /// The name in words.
    pub name: Vec<f32>,
    /// The name and a few values.
    pub full: Vec<f32>,
}

/// Semantic similarity in [0, 1] with the reason: the closer of the names
/// alone and the names with values.
pub fn semantic_similarity(a: &ColumnVectors, b: &ColumnVectors) -> (f64, String) {
    let (by_name, name_why) = cosine_score(&a.name, &b.name);
    let (by_values, values_why) = cosine_score(&a.full, &b.full);
    if by_name >= by_values {
        (by_name, format!("names: {name_why}"))
    } else {
        (by_values, format!("names and values: {values_why}"))
    }
}

/// Cosine mapped to [0, 1], with the level that unrelated short texts reach
/// under MiniLM (about 0.2) mapped to 0.
fn cosine_score(a: &[f32], b: &[f32]) -> (f64, String) {
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
