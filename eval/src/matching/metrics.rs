//! Evaluation with the Valentine benchmark's metrics, with its exact
//! semantics (valentine 1.0): precision, recall and F1 after its default
//! one-to-one selection (Hungarian assignment, then a cut at the median of
//! the distinct scores), precision of the top 10% of that selection, recall
//! of the top |ground truth| pairs, and mean reciprocal rank.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use lakebook_core::matching::MatchReport;
use lakebook_core::matching::assign::hungarian;

/// A scored correspondence: (source column, target column, score).
pub type ScoredPair = (String, String, f64);

/// The pairs of a report as (source, target, score), best first, for [`evaluate`].
pub fn scored_pairs(report: &MatchReport) -> Vec<ScoredPair> {
    report
        .ranked
        .iter()
        .map(|m| (m.source.clone(), m.target.clone(), m.score))
        .collect()
}

/// The metrics of one matching against its ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Metrics {
    /// TP / (TP + FP) after one-to-one selection.
    pub precision: f64,
    /// TP / (TP + FN) after one-to-one selection.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
    /// Precision of the best 10% of the one-to-one selection.
    pub precision_top_10_percent: f64,
    /// Recall of the best |ground truth| pairs of the whole ranking.
    pub recall_at_size_of_ground_truth: f64,
    /// Mean over ground-truth sources of 1 / rank of their first correct target.
    pub mean_reciprocal_rank: f64,
}

fn safe_div(n: f64, d: f64) -> f64 {
    if d == 0.0 { 0.0 } else { n / d }
}

/// Sorts pairs best first, keeping the given order among equal scores.
pub fn ranked(mut pairs: Vec<ScoredPair>) -> Vec<ScoredPair> {
    pairs.sort_by(|a, b| b.2.total_cmp(&a.2));
    pairs
}

/// Valentine's default one-to-one selection of a ranking (best first).
pub fn one_to_one(ranking: &[ScoredPair]) -> Vec<ScoredPair> {
    if ranking.is_empty() {
        return Vec::new();
    }
    let mut sources: Vec<&str> = Vec::new();
    let mut targets: Vec<&str> = Vec::new();
    let mut source_index: HashMap<&str, usize> = HashMap::new();
    let mut target_index: HashMap<&str, usize> = HashMap::new();
    for (s, t, _) in ranking {
        source_index.entry(s.as_str()).or_insert_with(|| {
            sources.push(s);
            sources.len() - 1
        });
        target_index.entry(t.as_str()).or_insert_with(|| {
            targets.push(t);
            targets.len() - 1
        });
    }
    let mut sim = vec![vec![0.0; targets.len()]; sources.len()];
    let mut lookup: HashMap<(usize, usize), usize> = HashMap::new();
    for (i, (s, t, score)) in ranking.iter().enumerate() {
        let key = (source_index[s.as_str()], target_index[t.as_str()]);
        sim[key.0][key.1] = *score;
        lookup.insert(key, i);
    }
    let assignment = hungarian(&sim);
    let mut distinct: Vec<f64> = ranking.iter().map(|p| p.2).collect();
    distinct.sort_by(|a, b| b.total_cmp(a));
    distinct.dedup();
    if distinct.len() < 2 {
        return ranking.to_vec();
    }
    let cut = distinct[(distinct.len() as f64 / 2.0).ceil() as usize];
    let selected: Vec<ScoredPair> = assignment
        .into_iter()
        .filter_map(|key| lookup.get(&key).map(|&i| ranking[i].clone()))
        .filter(|p| p.2 >= cut)
        .collect();
    ranked(selected)
}

/// (true positives, false negatives, false positives) of `pairs`.
fn counts(pairs: &[ScoredPair], truth: &[(String, String)]) -> (f64, f64, f64) {
    let found: HashSet<(&str, &str)> = pairs
        .iter()
        .map(|(s, t, _)| (s.as_str(), t.as_str()))
        .collect();
    let gold: HashSet<(&str, &str)> = truth
        .iter()
        .map(|(s, t)| (s.as_str(), t.as_str()))
        .collect();
    let tp = truth
        .iter()
        .filter(|(s, t)| found.contains(&(s.as_str(), t.as_str())))
        .count();
    let fp = pairs
        .iter()
        .filter(|(s, t, _)| !gold.contains(&(s.as_str(), t.as_str())))
        .count();
    (tp as f64, (truth.len() - tp) as f64, fp as f64)
}

/// Every metric of a ranking (any order; it is ranked here) against the truth.
pub fn evaluate(pairs: &[ScoredPair], truth: &[(String, String)]) -> Metrics {
    let ranking = ranked(pairs.to_vec());
    let selected = one_to_one(&ranking);
    let (tp, fn_, fp) = counts(&selected, truth);
    let precision = safe_div(tp, tp + fp);
    let recall = safe_div(tp, tp + fn_);
    let f1 = safe_div(2.0 * precision * recall, precision + recall);
    let keep = ((10.0 / 100.0) * selected.len() as f64).ceil() as usize;
    let (tp10, _, fp10) = counts(&selected[..keep.min(selected.len())], truth);
    let top = &ranking[..truth.len().min(ranking.len())];
    let (tp_gt, fn_gt, _) = counts(top, truth);
    Metrics {
        precision,
        recall,
        f1,
        precision_top_10_percent: safe_div(tp10, tp10 + fp10),
        recall_at_size_of_ground_truth: safe_div(tp_gt, tp_gt + fn_gt),
        mean_reciprocal_rank: mean_reciprocal_rank(&ranking, truth),
    }
}

fn mean_reciprocal_rank(ranking: &[ScoredPair], truth: &[(String, String)]) -> f64 {
    let mut gold: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (s, t) in truth {
        gold.entry(s).or_default().insert(t);
    }
    if gold.is_empty() {
        return 0.0;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut rank: HashMap<&str, usize> = HashMap::new();
    for (s, t, _) in ranking {
        let Some(targets) = gold.get(s.as_str()) else {
            continue;
        };
        if rank.contains_key(s.as_str()) {
            continue;
        }
        let n = seen.entry(s).or_default();
        *n += 1;
        if targets.contains(t.as_str()) {
            rank.insert(s, *n);
        }
    }
    rank.values().map(|r| 1.0 / *r as f64).sum::<f64>() / gold.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, t: &str, score: f64) -> ScoredPair {
        (s.into(), t.into(), score)
    }

    fn truth(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(s, t)| (s.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn worked_example_by_hand() {
        // Distinct scores 0.9 0.8 0.7 0.4 0.3 0.2: the cut is the 4th (index 3) = 0.4.
        let pairs = vec![
            p("a", "x", 0.9),
            p("a", "y", 0.8),
            p("b", "y", 0.7),
            p("b", "x", 0.3),
            p("c", "z", 0.4),
            p("c", "x", 0.2),
        ];
        let gold = truth(&[("a", "x"), ("b", "y"), ("c", "w")]);
        let m = evaluate(&pairs, &gold);
        // Hungarian: a-x 0.9, b-y 0.7, c-z 0.4; all ≥ 0.4. TP 2, FP 1, FN 1.
        assert!((m.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.f1 - 2.0 / 3.0).abs() < 1e-12);
        // Top 10% of three pairs is one pair: a-x, correct.
        assert_eq!(m.precision_top_10_percent, 1.0);
        // Top 3 of the ranking: a-x, a-y, b-y → 2 of 3.
        assert!((m.recall_at_size_of_ground_truth - 2.0 / 3.0).abs() < 1e-12);
        // a: rank 1; b: its ranking is b-y (rank 1); c: never → (1 + 1 + 0) / 3.
        assert!((m.mean_reciprocal_rank - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_single_distinct_score_keeps_everything() {
        let pairs = vec![p("a", "x", 0.5), p("a", "y", 0.5)];
        assert_eq!(one_to_one(&pairs).len(), 2);
        assert_eq!(evaluate(&[], &truth(&[("a", "x")])), Metrics::default());
    }
}
