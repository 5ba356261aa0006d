//! The instance matcher: do two columns hold the same values?
//!
//! Two kinds of evidence: the overlap of the whole value sets, estimated from
//! MinHash signatures (Jaccard, and containment either way), and the TF-IDF
//! similarity of the columns' sampled values, read as documents of words and
//! character trigrams (as COMA's instance matcher does), which still sees
//! `Amsterdam` in `amsterdm` or `2021-03-07` in `07/03/2021`.

use std::collections::HashMap;

use super::column::{ValueClass, value_class};
use crate::profile::ColumnProfile;

/// Hashes terms already hashed: the key is used as it is.
#[derive(Default)]
struct TermHasher(u64);

impl std::hash::Hasher for TermHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type TermMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<TermHasher>>;

/// A column's sampled values as a weighted bag of terms (terms by hash).
#[derive(Debug, Clone, Default)]
pub struct TermVector {
    weights: Vec<(u64, f64)>,
    norm: f64,
}

/// Mixes a term's pieces into one well-spread 64-bit key.
fn term_key(kind: u64, parts: impl IntoIterator<Item = u64>) -> u64 {
    let mut h = kind.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for p in parts {
        h = (h ^ p).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h ^= h >> 29;
    }
    h
}

/// The terms of one value: its words (numbers by shape) and character trigrams.
fn terms(value: &str, chars: &mut Vec<char>, out: &mut Vec<u64>) {
    chars.clear();
    chars.push(' ');
    chars.extend(value.chars().flat_map(char::to_lowercase));
    chars.push(' ');
    for word in chars.split(|c| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if word.iter().all(|c| c.is_ascii_digit()) {
            out.push(term_key(1, [word.len().min(12) as u64]));
        } else {
            out.push(term_key(2, word.iter().map(|c| u64::from(*c))));
        }
    }
    for w in chars.windows(3) {
        out.push(term_key(3, w.iter().map(|c| u64::from(*c))));
    }
}

/// TF-IDF vectors of the columns of both tables, one corpus for the pair.
pub fn term_vectors(columns: &[&ColumnProfile]) -> Vec<TermVector> {
    let mut chars = Vec::new();
    let mut buf = Vec::new();
    let counts: Vec<TermMap<f64>> = columns
        .iter()
        .map(|c| {
            let mut bag = TermMap::default();
            for v in &c.sample {
                buf.clear();
                terms(v, &mut chars, &mut buf);
                for t in &buf {
                    *bag.entry(*t).or_default() += 1.0;
                }
            }
            bag
        })
        .collect();
    let mut df: TermMap<f64> = TermMap::default();
    for bag in &counts {
        for t in bag.keys() {
            *df.entry(*t).or_default() += 1.0;
        }
    }
    let n = columns.len() as f64;
    counts
        .iter()
        .map(|bag| {
            let mut weights: Vec<(u64, f64)> = bag
                .iter()
                .map(|(t, tf)| {
                    let idf = (1.0 + n / df.get(t).copied().unwrap_or(1.0)).ln();
                    (*t, (1.0 + tf.ln()) * idf)
                })
                .collect();
            weights.sort_unstable_by_key(|(t, _)| *t);
            let norm = weights.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
            TermVector { weights, norm }
        })
        .collect()
}

/// Cosine similarity of two term vectors.
pub fn cosine(a: &TermVector, b: &TermVector) -> f64 {
    if a.norm == 0.0 || b.norm == 0.0 {
        return 0.0;
    }
    // Both sorted by term: one merge pass.
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.weights.len() && j < b.weights.len() {
        let (ta, wa) = a.weights[i];
        let (tb, wb) = b.weights[j];
        match ta.cmp(&tb) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += wa * wb;
                i += 1;
                j += 1;
            }
        }
    }
    (dot / (a.norm * b.norm)).clamp(0.0, 1.0)
}

/// Overlap of the two value sets: (Jaccard, share of the smaller set in the larger).
pub fn value_overlap(a: &ColumnProfile, b: &ColumnProfile) -> (f64, f64) {
    let jaccard = a.minhash.jaccard(&b.minhash);
    let (small, large) = if a.distinct <= b.distinct {
        (a, b)
    } else {
        (b, a)
    };
    let contained = small
        .minhash
        .containment_in(&large.minhash, small.distinct, large.distinct);
    (jaccard, contained)
}

/// Instance similarity in [0, 1] with the reason, given the pair's term vectors.
pub fn instance_similarity(
    a: &ColumnProfile,
    b: &ColumnProfile,
    ta: &TermVector,
    tb: &TermVector,
) -> (f64, String) {
    let (jaccard, contained) = value_overlap(a, b);
    let tfidf = cosine(ta, tb);
    // Containment means little for small domains: two boolean columns share
    // everything, and so do an hour and a day-of-month column of integers.
    let domain = a.distinct.min(b.distinct) as f64;
    let numeric = value_class(&a.data_type) == ValueClass::Number
        && value_class(&b.data_type) == ValueClass::Number;
    let trust = (domain / if numeric { 200.0 } else { 20.0 }).min(1.0);
    let overlap = jaccard.max(contained * (0.6 + 0.3 * trust));
    let score = overlap.max(tfidf * 0.9) * (0.5 + 0.5 * trust);
    let why = format!(
        "value Jaccard {jaccard:.2}, containment {:.0}%, TF-IDF cosine {tfidf:.2}",
        contained * 100.0
    );
    (score.clamp(0.0, 1.0), why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringArray;
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;
    use std::sync::Arc;

    fn profile(values: &[&str]) -> ColumnProfile {
        let schema = Arc::new(Schema::new(vec![Field::new("c", DataType::Utf8, true)]));
        let array = Arc::new(StringArray::from(values.to_vec()));
        let batch = RecordBatch::try_new(schema, vec![array]).expect("batch");
        crate::profile::profile_batch("t", &batch).columns.remove(0)
    }

    const CITIES: [&str; 24] = [
        "Amsterdam",
        "Rotterdam",
        "Utrecht",
        "Delft",
        "Leiden",
        "Haarlem",
        "Groningen",
        "Zwolle",
        "Arnhem",
        "Nijmegen",
        "Breda",
        "Tilburg",
        "Eindhoven",
        "Maastricht",
        "Venlo",
        "Enschede",
        "Deventer",
        "Apeldoorn",
        "Alkmaar",
        "Hoorn",
        "Gouda",
        "Dordrecht",
        "Middelburg",
        "Assen",
    ];

    /// Swaps two letters in every other value.
    fn misspelled(v: &str, i: usize) -> String {
        let mut c: Vec<char> = v.chars().collect();
        if i.is_multiple_of(2) && c.len() > 3 {
            c.swap(1, 2);
        }
        c.into_iter().collect()
    }

    #[test]
    fn shared_and_misspelled_values_score_high_unrelated_low() {
        let typo_values: Vec<String> = CITIES
            .iter()
            .enumerate()
            .map(|(i, v)| misspelled(v, i))
            .collect();
        let typo_refs: Vec<&str> = typo_values.iter().map(String::as_str).collect();
        let cities = profile(&CITIES);
        let typos = profile(&typo_refs);
        let colours = profile(&[
            "red", "green", "blue", "yellow", "purple", "orange", "black",
        ]);
        let few = profile(&["Amsterdam", "Delft"]);
        let cols = [&cities, &typos, &colours, &few];
        let v = term_vectors(&cols);
        let same = instance_similarity(&cities, &cities, &v[0], &v[0]).0;
        let typo = instance_similarity(&cities, &typos, &v[0], &v[1]).0;
        let other = instance_similarity(&cities, &colours, &v[0], &v[2]).0;
        let tiny = instance_similarity(&cities, &few, &v[0], &v[3]).0;
        assert!(same > 0.95, "{same}");
        assert!(typo > 0.5, "{typo}");
        assert!(other < 0.2, "{other}");
        // Two shared values say less than twenty-four.
        assert!(tiny < same, "{tiny}");
    }
}
