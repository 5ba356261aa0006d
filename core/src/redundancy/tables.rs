//! The redundancy report and the retirement plan as tables and text, the
//! same for the command line and the Redundancy cell.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow::error::ArrowError;

use super::plan::RetirementPlan;
use super::{RedundancyReport, RedundantPair};

/// Strings of one column, one per item.
fn strings<T>(items: &[T], f: impl Fn(&T) -> String) -> ArrayRef {
    Arc::new(StringArray::from(items.iter().map(f).collect::<Vec<_>>()))
}

/// A pair's mapping as `a→b` pairs (`a` alone where the names agree).
fn mapping_text(pair: &RedundantPair) -> String {
    pair.mapping
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.clone()
            } else {
                format!("{a}→{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The pairs, one row each: who holds whom, how much, how it was decided
/// and mapped, A's bytes and the column mapping.
pub fn pairs_table(report: &RedundancyReport) -> Result<RecordBatch, ArrowError> {
    let p = &report.pairs;
    RecordBatch::try_from_iter([
        ("a", strings(p, |x| x.a.clone())),
        ("relation", strings(p, |x| x.relation.label().to_string())),
        ("b", strings(p, |x| x.b.clone())),
        (
            "share",
            Arc::new(Float64Array::from(
                p.iter().map(|x| x.share).collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        ("stage", strings(p, |x| x.stage.label().to_string())),
        ("mapped_by", strings(p, |x| x.mapped_by.label().to_string())),
        (
            "bytes",
            Arc::new(UInt64Array::from(
                p.iter().map(|x| x.bytes).collect::<Vec<_>>(),
            )),
        ),
        ("columns", strings(p, mapping_text)),
    ])
}

/// The cascade's stages with their candidates and times, the sampling
/// bound, and the notes, as lines.
pub fn stages_text(report: &RedundancyReport) -> String {
    let mut text = String::new();
    for s in &report.stages {
        let unit = if s.name == "profiles" {
            "tables"
        } else {
            "pairs"
        };
        let reused = if s.reused > 0 {
            format!(" ({} reused)", s.reused)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "{:<10} {:>8} {unit}{reused} in {:.2} s\n",
            s.name, s.candidates, s.seconds
        ));
    }
    text.push_str(&format!(
        "content stage: {} rows sampled per table; a pair missing a share f of its rows passes with probability at most (1-f)^{}\n",
        report.sample_rows, report.sample_rows
    ));
    for note in &report.notes {
        text.push_str(&format!("note: {note}\n"));
    }
    text
}

/// The plan as lines a person reads.
pub fn plan_text(plan: &RetirementPlan) -> String {
    if plan.retire.is_empty() {
        return format!(
            "nothing to retire: no contained or duplicate dataset rebuilds within {:.0} ms\n",
            plan.max_rebuild_ms
        );
    }
    let mut text = String::new();
    for r in &plan.retire {
        let how = r
            .rebuild
            .as_deref()
            .unwrap_or("(a list of its rows in the container)");
        text.push_str(&format!(
            "retire {:<24} {:>12} bytes  rebuilt from {} in ~{:.0} ms: {how}\n",
            r.name, r.bytes, r.from, r.rebuild_ms
        ));
    }
    text.push_str(&format!(
        "saves {} bytes ({} search; rebuild estimates at {:.0} MB/s, measured here)\n",
        plan.bytes_saved,
        format!("{:?}", plan.method).to_lowercase(),
        plan.scan_bytes_per_ms / 1000.0
    ));
    text
}
