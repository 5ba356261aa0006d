//! Which redundant datasets could be retired (R2D2's second half), as advice:
//! the set that saves the most bytes while every retired dataset keeps a
//! live container that rebuilds it within the latency budget.
//!
//! A retired dataset is rebuilt from one live container, never from another
//! retired one, so there are no chains and no cycles. Choosing the set is a
//! covering problem: an exact search over every subset when there are at
//! most [`EXACT_MAX`] candidates, a greedy pass (largest first) beyond.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{
    RedundancyError, RedundancyReport, RedundantPair, Relation, dataset_bytes, scan_speed,
};
use crate::job::Job;
use crate::lake::Lake;

/// Candidates up to which every subset is tried.
pub const EXACT_MAX: usize = 16;

/// How the set was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanMethod {
    /// Every subset of the candidates tried.
    Exact,
    /// Largest first, kept when it leaves every retired dataset a live container.
    Greedy,
}

/// One dataset the plan would retire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retirement {
    /// The dataset.
    pub name: String,
    /// The live container it would be rebuilt from.
    pub from: String,
    /// Bytes it frees once its history is cleaned up.
    pub bytes: u64,
    /// Estimated rebuild time: a scan of the container.
    pub rebuild_ms: f64,
    /// The query that rebuilds it, when one is known (else a row list is needed).
    pub rebuild: Option<String>,
}

/// The retirement advice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetirementPlan {
    /// Datasets to retire, most bytes first.
    pub retire: Vec<Retirement>,
    /// Their bytes together.
    pub bytes_saved: u64,
    /// How the set was chosen.
    pub method: PlanMethod,
    /// The latency budget a rebuild must stay within.
    pub max_rebuild_ms: f64,
    /// The scan speed the estimates assume, in bytes per millisecond.
    pub scan_bytes_per_ms: f64,
}

/// An edge "A can be rebuilt from B" that fits the budget.
#[derive(Debug, Clone)]
struct Edge {
    from: usize,
    rebuild_ms: f64,
    rebuild: Option<String>,
}

/// Plans retirements for a lake from its redundancy report: the bytes of
/// every dataset involved, and the scan speed measured on the largest
/// container (what a rebuild reads).
pub async fn plan_lake(
    lake: &Lake,
    report: &RedundancyReport,
    max_rebuild_ms: f64,
    job: &Job,
) -> Result<RetirementPlan, RedundancyError> {
    let mut bytes = BTreeMap::new();
    for p in report
        .pairs
        .iter()
        .filter(|p| p.relation != Relation::Overlapping)
    {
        for name in [&p.a, &p.b] {
            if !bytes.contains_key(name) {
                bytes.insert(name.clone(), dataset_bytes(lake, name)?);
            }
        }
    }
    let largest = bytes
        .iter()
        .max_by_key(|(_, b)| **b)
        .map(|(n, _)| n.clone());
    let speed = match largest {
        Some(name) => scan_speed(lake, &name, job).await?,
        None => 1.0,
    };
    Ok(plan_retirement(
        &report.pairs,
        &bytes,
        max_rebuild_ms,
        speed,
    ))
}

/// Plans retirements from a report's contained and duplicate pairs.
/// `bytes_of` gives each dataset's bytes on disk (containers included);
/// a rebuild is estimated as a scan of the container at `scan_bytes_per_ms`.
pub fn plan_retirement(
    pairs: &[RedundantPair],
    bytes_of: &BTreeMap<String, u64>,
    max_rebuild_ms: f64,
    scan_bytes_per_ms: f64,
) -> RetirementPlan {
    // Datasets by name, and for each retirable one its containers within budget.
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for p in pairs.iter().filter(|p| p.relation != Relation::Overlapping) {
        names.insert(&p.a);
        names.insert(&p.b);
    }
    let names: Vec<&str> = names.into_iter().collect();
    let index = |n: &str| names.iter().position(|m| *m == n);
    let bytes: Vec<u64> = names
        .iter()
        .map(|n| bytes_of.get(*n).copied().unwrap_or(0))
        .collect();
    let mut edges: Vec<Vec<Edge>> = vec![Vec::new(); names.len()];
    let mut add = |a: &str, b: &str, rebuild: &Option<String>| {
        let (Some(a), Some(b)) = (index(a), index(b)) else {
            return;
        };
        let rebuild_ms = bytes[b] as f64 / scan_bytes_per_ms.max(f64::MIN_POSITIVE);
        if rebuild_ms <= max_rebuild_ms {
            edges[a].push(Edge {
                from: b,
                rebuild_ms,
                rebuild: rebuild.clone(),
            });
        }
    };
    for p in pairs {
        match p.relation {
            Relation::Contained => add(&p.a, &p.b, &p.rebuild),
            // Either copy rebuilds the other; the query selects A from B.
            Relation::Duplicate => {
                add(&p.a, &p.b, &p.rebuild);
                add(&p.b, &p.a, &p.reverse_rebuild());
            }
            Relation::Overlapping => {}
        }
    }
    let candidates: Vec<usize> = (0..names.len()).filter(|&i| !edges[i].is_empty()).collect();
    // Whether every retired dataset keeps a live container.
    let valid = |retired: &[bool]| {
        (0..names.len())
            .filter(|&i| retired[i])
            .all(|i| edges[i].iter().any(|e| !retired[e.from]))
    };
    let mut retired = vec![false; names.len()];
    let method = if candidates.len() <= EXACT_MAX {
        let mut best = (0u64, 0u32);
        for mask in 0u32..(1u32 << candidates.len()) {
            let mut trial = vec![false; names.len()];
            let mut saved = 0u64;
            for (k, &i) in candidates.iter().enumerate() {
                if mask & (1 << k) != 0 {
                    trial[i] = true;
                    saved += bytes[i];
                }
            }
            if saved > best.0 && valid(&trial) {
                best = (saved, mask);
            }
        }
        for (k, &i) in candidates.iter().enumerate() {
            retired[i] = best.1 & (1 << k) != 0;
        }
        PlanMethod::Exact
    } else {
        let mut order = candidates.clone();
        order.sort_by(|&x, &y| bytes[y].cmp(&bytes[x]).then(names[x].cmp(names[y])));
        for i in order {
            retired[i] = true;
            if !valid(&retired) {
                retired[i] = false;
            }
        }
        PlanMethod::Greedy
    };
    let mut retire: Vec<Retirement> = (0..names.len())
        .filter(|&i| retired[i])
        .filter_map(|i| {
            // The quickest live container, preferring one with a known query.
            let edge = edges[i]
                .iter()
                .filter(|e| !retired[e.from])
                .min_by(|x, y| {
                    (x.rebuild.is_none(), x.rebuild_ms)
                        .partial_cmp(&(y.rebuild.is_none(), y.rebuild_ms))
                        .unwrap_or(std::cmp::Ordering::Equal)
                })?;
            Some(Retirement {
                name: names[i].to_string(),
                from: names[edge.from].to_string(),
                bytes: bytes[i],
                rebuild_ms: edge.rebuild_ms,
                rebuild: edge.rebuild.clone(),
            })
        })
        .collect();
    retire.sort_by(|x, y| y.bytes.cmp(&x.bytes).then(x.name.cmp(&y.name)));
    RetirementPlan {
        bytes_saved: retire.iter().map(|r| r.bytes).sum(),
        retire,
        method,
        max_rebuild_ms,
        scan_bytes_per_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redundancy::{Decided, MappedBy};

    fn pair(a: &str, relation: Relation, b: &str) -> RedundantPair {
        RedundantPair {
            a: a.to_string(),
            b: b.to_string(),
            a_version: 1,
            b_version: 1,
            relation,
            share: 1.0,
            multiset_share: None,
            set_contained: true,
            mapping: Vec::new(),
            mapped_by: MappedBy::Names,
            left_out: Vec::new(),
            stage: Decided::Exact,
            checked_rows: 1,
            bytes: 0,
            rebuild: Some(format!("SELECT * FROM {b}")),
            rebuild_where: None,
        }
    }

    fn sizes(items: &[(&str, u64)]) -> BTreeMap<String, u64> {
        items.iter().map(|(n, b)| (n.to_string(), *b)).collect()
    }

    fn retired(plan: &RetirementPlan) -> Vec<(&str, &str)> {
        plan.retire
            .iter()
            .map(|r| (r.name.as_str(), r.from.as_str()))
            .collect()
    }

    #[test]
    fn duplicates_keep_one_copy_and_containers_stay_live() {
        // a = b (duplicates), c ⊆ a, c ⊆ b: keep one of a/b, retire the other and c.
        let pairs = [
            pair("a", Relation::Duplicate, "b"),
            pair("c", Relation::Contained, "a"),
            pair("c", Relation::Contained, "b"),
            pair("d", Relation::Overlapping, "a"),
        ];
        let plan = plan_retirement(
            &pairs,
            &sizes(&[("a", 100), ("b", 100), ("c", 40), ("d", 500)]),
            1_000.0,
            1.0,
        );
        assert_eq!(plan.method, PlanMethod::Exact);
        assert_eq!(plan.bytes_saved, 140);
        assert_eq!(retired(&plan).len(), 2);
        let live: Vec<&str> = ["a", "b"]
            .into_iter()
            .filter(|n| !plan.retire.iter().any(|r| r.name == *n))
            .collect();
        assert_eq!(live.len(), 1);
        assert!(plan.retire.iter().all(|r| r.from == live[0]));
        assert!(
            plan.retire
                .iter()
                .all(|r| (r.rebuild_ms - 100.0).abs() < 1e-9)
        );
    }

    #[test]
    fn a_container_too_slow_to_scan_retires_nothing() {
        let pairs = [pair("small", Relation::Contained, "huge")];
        let sizes = sizes(&[("small", 10), ("huge", 5_000)]);
        let slow = plan_retirement(&pairs, &sizes, 1_000.0, 1.0);
        assert_eq!((slow.retire.len(), slow.bytes_saved), (0, 0));
        let fast = plan_retirement(&pairs, &sizes, 1_000.0, 10.0);
        assert_eq!(retired(&fast), vec![("small", "huge")]);
    }

    #[test]
    fn greedy_beyond_the_exact_limit_still_keeps_a_live_container_each() {
        // A chain t0 ⊆ t1 ⊆ … ⊆ t19: retiring t_i needs t_{i+1} live.
        let pairs: Vec<RedundantPair> = (0..EXACT_MAX + 4)
            .map(|i| {
                pair(
                    &format!("t{i:02}"),
                    Relation::Contained,
                    &format!("t{:02}", i + 1),
                )
            })
            .collect();
        let sizes: BTreeMap<String, u64> = (0..=EXACT_MAX + 4)
            .map(|i| (format!("t{i:02}"), 10 + i as u64))
            .collect();
        let plan = plan_retirement(&pairs, &sizes, f64::INFINITY, 1.0);
        assert_eq!(plan.method, PlanMethod::Greedy);
        let names: BTreeSet<&str> = plan.retire.iter().map(|r| r.name.as_str()).collect();
        for r in &plan.retire {
            assert!(
                !names.contains(r.from.as_str()),
                "{} rebuilt from a retired {}",
                r.name,
                r.from
            );
        }
        // Largest first: t19 (from t20), t17, t15, … every other one.
        assert_eq!(plan.retire.len(), 10);
        assert_eq!(plan.retire[0].name, "t19");
    }
}
