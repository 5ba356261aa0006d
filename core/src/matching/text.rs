//! Match reports and related tables as plain text (the CLI and headless
//! notebook runs print these).

use std::collections::HashSet;
use std::fmt::Write;

use super::MatchReport;
use super::related::Related;

/// A score as a bar of ten cells.
pub fn bar(score: f64) -> String {
    let filled = (score.clamp(0.0, 1.0) * 10.0).round() as usize;
    format!("{}{}", "█".repeat(filled), "·".repeat(10 - filled))
}

/// The ranked pairs (at most `top`; 0: all), ✓ on the one-to-one selection,
/// the strongest evidence of each, then the table-level verdicts and notes.
pub fn report_text(r: &MatchReport, top: usize) -> String {
    let mut out = String::new();
    let selected: HashSet<(&str, &str)> = r
        .selected
        .iter()
        .map(|m| (m.source.as_str(), m.target.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "{} ↔ {}: {} correspondences selected ({} matcher)",
        r.source,
        r.target,
        r.selected.len(),
        r.matcher.label()
    );
    let width = |f: &dyn Fn(&super::ColumnMatch) -> usize| {
        r.ranked.iter().map(f).max().unwrap_or(6).clamp(6, 30)
    };
    let sw = width(&|m| m.source.chars().count());
    let tw = width(&|m| m.target.chars().count());
    let shown = if top == 0 {
        r.ranked.len()
    } else {
        top.min(r.ranked.len())
    };
    for m in &r.ranked[..shown] {
        let mark = if selected.contains(&(m.source.as_str(), m.target.as_str())) {
            "✓"
        } else {
            " "
        };
        let best = m.strongest_evidence();
        let _ = writeln!(
            out,
            "{mark} {:<sw$}  {:<tw$}  {} {:.2}  {best}",
            m.source,
            m.target,
            bar(m.score),
            m.score
        );
    }
    if r.ranked.is_empty() {
        let _ = writeln!(out, "  no column pair has evidence of a correspondence");
    } else if shown < r.ranked.len() {
        let _ = writeln!(out, "  … {} more pairs", r.ranked.len() - shown);
    }
    let _ = match &r.tables.join {
        Some(j) => writeln!(
            out,
            "joinable: {:.2} on {} = {} ({:.0}% of values contained, key uniqueness {:.2})",
            j.score,
            j.source_column,
            j.target_column,
            j.containment * 100.0,
            j.key_uniqueness
        ),
        None => writeln!(
            out,
            "joinable: no key-like column pair with overlapping values"
        ),
    };
    let _ = writeln!(
        out,
        "unionable: {:.2} ({} columns aligned)",
        r.tables.unionability, r.tables.aligned
    );
    for note in &r.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// One line per related table: score bar, join path and union alignment.
pub fn related_text(table: &str, related: &[Related]) -> String {
    let mut out = String::new();
    if related.is_empty() {
        let _ = writeln!(out, "no table in the lake relates to '{table}'");
    }
    for r in related {
        let _ = writeln!(
            out,
            "{:<24} {} {:.2}  {}",
            r.table,
            bar(r.score),
            r.score,
            related_why(r)
        );
    }
    out
}

/// Why a table is related, in words.
pub fn related_why(r: &Related) -> String {
    let join = r.join.as_ref().filter(|j| j.score >= 0.3).map(|j| {
        format!(
            "join {} = {} ({:.0}% contained)",
            j.column,
            j.other_column,
            j.containment * 100.0
        )
    });
    let union = (r.union_score >= 0.3).then(|| format!("union: {} columns align", r.aligned.len()));
    join.into_iter().chain(union).collect::<Vec<_>>().join("; ")
}
