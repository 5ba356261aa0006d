//! The distribution matcher: do two columns' values look alike, even when
//! they are not the same values?
//!
//! Numbers are compared by the earth mover's distance between their
//! quantiles, directly and after rescaling (a column in grams against one in
//! kilograms); categories by the overlap of their frequencies; every column by
//! type, uniqueness and the shape of its text (length, digits, letters).

use super::column::{ValueClass, uniqueness, value_class};
use crate::profile::ColumnProfile;

/// Share of the sampled values that read as numbers.
fn numeric_share(c: &ColumnProfile) -> f64 {
    if c.sample.is_empty() {
        return 0.0;
    }
    let n = c
        .sample
        .iter()
        .filter(|v| v.trim().replace(',', "").parse::<f64>().is_ok())
        .count();
    n as f64 / c.sample.len() as f64
}

/// How compatible two columns' types are, in [0, 1].
pub fn type_compatibility(a: &ColumnProfile, b: &ColumnProfile) -> f64 {
    use ValueClass::*;
    let (ca, cb) = (value_class(&a.data_type), value_class(&b.data_type));
    if ca == cb {
        return 1.0;
    }
    let text_side = if ca == Text { a } else { b };
    match (ca, cb) {
        (Number, Text) | (Text, Number) => 0.3 + 0.5 * numeric_share(text_side),
        (Temporal, Text) | (Text, Temporal) => {
            let digits = text_shape(text_side)[0];
            0.3 + 0.5 * (digits * 2.0).min(1.0)
        }
        (Boolean, Text) | (Text, Boolean) => 0.5,
        (Number, Boolean) | (Boolean, Number) => 0.4,
        _ => 0.2,
    }
}

/// Shares of digits, letters, spaces and other characters over the sampled values.
pub fn text_shape(c: &ColumnProfile) -> [f64; 4] {
    let mut counts = [0usize; 4];
    for v in &c.sample {
        for ch in v.chars() {
            let slot = if ch.is_ascii_digit() {
                0
            } else if ch.is_alphabetic() {
                1
            } else if ch.is_whitespace() {
                2
            } else {
                3
            };
            counts[slot] += 1;
        }
    }
    let total = counts.iter().sum::<usize>().max(1) as f64;
    counts.map(|n| n as f64 / total)
}

/// Earth mover's distance between two quantile vectors, as a share of their joint range.
fn quantile_distance(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    let lo = a.iter().chain(b).copied().fold(f64::INFINITY, f64::min);
    let hi = a.iter().chain(b).copied().fold(f64::NEG_INFINITY, f64::max);
    let range = hi - lo;
    if !range.is_finite() {
        return None;
    }
    if range == 0.0 {
        return Some(0.0);
    }
    let emd = a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64;
    Some((emd / range).clamp(0.0, 1.0))
}

/// Quantiles divided by their largest magnitude, so that units drop out.
fn rescaled(q: &[f64]) -> Vec<f64> {
    let scale = q.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if scale == 0.0 {
        q.to_vec()
    } else {
        q.iter().map(|v| v / scale).collect()
    }
}

/// Overlap of the two columns' most frequent values (histogram intersection).
fn frequency_overlap(a: &ColumnProfile, b: &ColumnProfile) -> f64 {
    let total = |c: &ColumnProfile| c.top.iter().map(|(_, n)| *n).sum::<u64>().max(1) as f64;
    let (ta, tb) = (total(a), total(b));
    a.top
        .iter()
        .filter_map(|(v, n)| {
            b.top
                .iter()
                .find(|(w, _)| w.eq_ignore_ascii_case(v))
                .map(|(_, m)| (*n as f64 / ta).min(*m as f64 / tb))
        })
        .sum()
}

/// Whether a column has few distinct values (a category).
fn is_categorical(c: &ColumnProfile) -> bool {
    c.distinct <= 50 || uniqueness(c) < 0.05
}

/// Distribution similarity in [0, 1] with the reason.
///
/// `shapes` are the two columns' [`text_shape`]s, computed once per column
/// by the caller rather than once per pair.
pub fn distribution_similarity(
    a: &ColumnProfile,
    b: &ColumnProfile,
    shapes: (&[f64; 4], &[f64; 4]),
) -> (f64, String) {
    let compat = type_compatibility(a, b);
    let mut parts: Vec<(f64, f64)> = Vec::new();
    let mut why = vec![format!("types {} / {}", a.data_type, b.data_type)];
    if let Some(d) = quantile_distance(&a.quantiles, &b.quantiles) {
        let direct = 1.0 - d;
        let shape = quantile_distance(&rescaled(&a.quantiles), &rescaled(&b.quantiles))
            .map_or(0.0, |d| 1.0 - d);
        let numeric = direct.max(0.85 * shape);
        parts.push((numeric, 3.0));
        why.push(format!("quantile distance {d:.2} of range"));
        if shape > direct + 0.1 {
            why.push("alike after rescaling (units?)".into());
        }
    }
    if is_categorical(a) && is_categorical(b) {
        let f = frequency_overlap(a, b);
        parts.push((f, 2.0));
        why.push(format!("frequent values overlap {f:.2}"));
    }
    let ua = uniqueness(a);
    let ub = uniqueness(b);
    parts.push((1.0 - (ua - ub).abs(), 1.0));
    let (la, lb) = (a.length.2, b.length.2);
    let length = if la.max(lb) == 0.0 {
        1.0
    } else {
        la.min(lb) / la.max(lb)
    };
    parts.push((length, 1.0));
    let (sa, sb) = shapes;
    let shape = 1.0 - sa.iter().zip(sb).map(|(x, y)| (x - y).abs()).sum::<f64>() / 2.0;
    parts.push((shape, 1.0));
    let weight: f64 = parts.iter().map(|(_, w)| w).sum();
    let mean = parts.iter().map(|(s, w)| s * w).sum::<f64>() / weight;
    why.push(format!("uniqueness {ua:.2} / {ub:.2}"));
    ((compat * mean).clamp(0.0, 1.0), why.join(", "))
}
