//! The last two stages of the cascade, which read rows: sampled rows of A
//! probed in B (stage 3), and the exact count of A's rows missing from B
//! (stage 4). Rows are compared by their canonical hashes (`rows`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use futures::StreamExt;
use lance::Dataset;

use super::RedundancyError;
use super::candidates::{Candidate, Table};
use super::rows::{Hash128, row_hash, value_hashes};
use crate::job::Job;
use crate::lake::Lake;
use crate::lake::columns::stored_name;
use crate::rng::Rng;

/// Distinct rows of A held in memory at once by the exact check; larger
/// tables are checked in several passes, each over a share of the hashes.
const EXACT_ROWS_PER_PASS: u64 = 4_000_000;

/// A dataset opened at the version its profile describes, with its columns'
/// stored names.
struct Opened {
    dataset: Arc<Dataset>,
    schema: arrow::datatypes::Schema,
}

async fn open(lake: &Lake, table: &Table) -> Result<Opened, RedundancyError> {
    let name = table.name();
    let dataset = lake
        .open_dataset(name, Some(table.profile.version))
        .await
        .map_err(|e| RedundancyError::Gone {
            name: name.to_string(),
            reason: e.to_string(),
        })?;
    let schema = arrow::datatypes::Schema::from(dataset.schema());
    Ok(Opened { dataset, schema })
}

impl Opened {
    /// The stored names of the given columns (indices into the profile).
    fn stored(&self, table: &Table, columns: &[usize]) -> Result<Vec<String>, RedundancyError> {
        columns
            .iter()
            .map(|&i| {
                let user = &table.profile.columns[i].name;
                stored_name(&self.schema, user)
                    .map(str::to_string)
                    .ok_or_else(|| RedundancyError::Gone {
                        name: table.name().to_string(),
                        reason: format!("column '{user}' is missing"),
                    })
            })
            .collect()
    }

    /// Streams the given columns, in order, batch by batch to `each`, which
    /// returns false to stop early.
    async fn scan(
        &self,
        table: &Table,
        columns: &[usize],
        job: &Job,
        mut each: impl FnMut(&RecordBatch) -> bool,
    ) -> Result<(), RedundancyError> {
        let read = |e: lance::Error| RedundancyError::Read {
            name: table.name().to_string(),
            source: Box::new(e),
        };
        let stored = self.stored(table, columns)?;
        let mut scan = self.dataset.scan();
        scan.project(&stored).map_err(read)?;
        let mut stream = scan.try_into_stream().await.map_err(read)?;
        while let Some(batch) = stream.next().await {
            if job.is_cancelled() {
                return Err(RedundancyError::Cancelled);
            }
            if !each(&batch.map_err(read)?) {
                break;
            }
        }
        Ok(())
    }
}

/// Hashes of each of a batch's columns.
fn column_hashes(batch: &RecordBatch) -> Vec<Vec<Hash128>> {
    crate::parallel::parallel_map(batch.columns().to_vec(), |c| value_hashes(c.as_ref()))
}

/// Row hashes over the columns at `positions` of `hashes`, in that order.
fn rows_over(hashes: &[Vec<Hash128>], positions: &[usize], rows: usize) -> Vec<Hash128> {
    (0..rows)
        .map(|r| row_hash(positions.iter().map(|&p| hashes[p][r])))
        .collect()
}

/// `k` distinct row offsets out of `rows`, in increasing order (all when
/// `rows <= k`), the same for a seed.
fn sample_offsets(rows: u64, k: usize, seed: u64) -> Vec<u64> {
    if rows <= k as u64 {
        return (0..rows).collect();
    }
    // Floyd's algorithm: k distinct draws in k steps.
    let mut rng = Rng::new(seed);
    let mut chosen = HashSet::with_capacity(k);
    for j in (rows - k as u64)..rows {
        let t = rng.below(j as usize + 1) as u64;
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    let mut out: Vec<u64> = chosen.into_iter().collect();
    out.sort_unstable();
    out
}

/// What stage 3 saw of one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Sampled {
    /// Rows of A sampled (all of A's rows when it has at most k).
    pub checked: u64,
    /// Of those, rows found in B.
    pub found: u64,
}

/// Stage 3: `k` rows of each A (seeded), hashed over its mapped columns,
/// looked up in one scan of each B over the columns all its pairs need.
pub(crate) async fn sample_content(
    lake: &Lake,
    tables: &[Table],
    pairs: &[&Candidate],
    k: usize,
    seed: u64,
    job: &Job,
) -> Result<Vec<Result<Sampled, String>>, RedundancyError> {
    let mut results: Vec<Result<Sampled, String>> = vec![Ok(Sampled::default()); pairs.len()];
    // Each pair's sampled row hashes, with how many sampled rows have each.
    let mut wanted: Vec<HashMap<Hash128, u64>> = vec![HashMap::new(); pairs.len()];
    let mut by_a: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut by_b: HashMap<usize, Vec<usize>> = HashMap::new();
    for (p, pair) in pairs.iter().enumerate() {
        by_a.entry(pair.a).or_default().push(p);
        by_b.entry(pair.b).or_default().push(p);
    }
    job.begin_stage(
        "content: sampling rows",
        (by_a.len() + by_b.len()) as u64,
        "tables",
    );
    let mut a_order: Vec<_> = by_a.into_iter().collect();
    a_order.sort_unstable();
    for (a, ps) in a_order {
        job.advance(1);
        let table = &tables[a];
        let sampled =
            async {
                let opened = open(lake, table).await?;
                let offsets = sample_offsets(table.profile.rows, k, seed ^ a as u64);
                let stored = opened.stored(table, &table.compared)?;
                let projection = opened.dataset.schema().project(&stored).map_err(|e| {
                    RedundancyError::Read {
                        name: table.name().to_string(),
                        source: Box::new(e),
                    }
                })?;
                let batch = opened
                    .dataset
                    .take(&offsets, projection)
                    .await
                    .map_err(|e| RedundancyError::Read {
                        name: table.name().to_string(),
                        source: Box::new(e),
                    })?;
                Ok::<_, RedundancyError>(batch)
            }
            .await;
        let batch = match sampled {
            Ok(batch) => batch,
            Err(RedundancyError::Gone { name, reason }) => {
                for &p in &ps {
                    results[p] = Err(format!("{name}: {reason}"));
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        // Columns of the batch follow `table.compared`.
        let hashes = column_hashes(&batch);
        let position = |column: usize| table.compared.iter().position(|&c| c == column);
        for &p in &ps {
            let positions: Vec<usize> = pairs[p]
                .mapping
                .pairs
                .iter()
                .filter_map(|&(i, _)| position(i))
                .collect();
            let rows = rows_over(&hashes, &positions, batch.num_rows());
            for h in rows {
                *wanted[p].entry(h).or_insert(0) += 1;
            }
            if let Ok(s) = &mut results[p] {
                s.checked = batch.num_rows() as u64;
            }
        }
    }
    let mut b_order: Vec<_> = by_b.into_iter().collect();
    b_order.sort_unstable();
    for (b, ps) in b_order {
        job.advance(1);
        let ps: Vec<usize> = ps.into_iter().filter(|&p| results[p].is_ok()).collect();
        if ps.is_empty() {
            continue;
        }
        let table = &tables[b];
        // The union of B's columns these pairs compare, and where each pair's are.
        let mut needed: Vec<usize> = Vec::new();
        for &p in &ps {
            for &(_, j) in &pairs[p].mapping.pairs {
                if !needed.contains(&j) {
                    needed.push(j);
                }
            }
        }
        let positions: Vec<Vec<usize>> = ps
            .iter()
            .map(|&p| {
                pairs[p]
                    .mapping
                    .pairs
                    .iter()
                    .filter_map(|&(_, j)| needed.iter().position(|&n| n == j))
                    .collect()
            })
            .collect();
        let mut seen: Vec<HashSet<Hash128>> = vec![HashSet::new(); ps.len()];
        let scanned = async {
            let opened = open(lake, table).await?;
            opened
                .scan(table, &needed, job, |batch| {
                    let hashes = column_hashes(batch);
                    let mut all_found = true;
                    for (slot, &p) in ps.iter().enumerate() {
                        if seen[slot].len() == wanted[p].len() {
                            continue;
                        }
                        for h in rows_over(&hashes, &positions[slot], batch.num_rows()) {
                            if wanted[p].contains_key(&h) {
                                seen[slot].insert(h);
                            }
                        }
                        all_found &= seen[slot].len() == wanted[p].len();
                    }
                    !all_found
                })
                .await
        }
        .await;
        match scanned {
            Ok(()) => {}
            Err(RedundancyError::Gone { name, reason }) => {
                for &p in &ps {
                    results[p] = Err(format!("{name}: {reason}"));
                }
                continue;
            }
            Err(e) => return Err(e),
        }
        for (slot, &p) in ps.iter().enumerate() {
            let found: u64 = seen[slot].iter().map(|h| wanted[p][h]).sum();
            if let Ok(s) = &mut results[p] {
                s.found = found;
            }
        }
    }
    Ok(results)
}

/// What stage 4 counted for one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Counted {
    /// Rows of A.
    pub rows: u64,
    /// Rows of A whose row occurs in B at all (set semantics).
    pub in_set: u64,
    /// Rows of A matched one to one with rows of B (multiset semantics:
    /// a row A holds three times needs three copies in B).
    pub in_multiset: u64,
}

/// Stage 4: every row of A looked up in B over the mapped columns, streaming
/// both; A's distinct rows are held in memory, in several passes when there
/// are more than [`EXACT_ROWS_PER_PASS`].
pub(crate) async fn exact_counts(
    lake: &Lake,
    tables: &[Table],
    pair: &Candidate,
    job: &Job,
) -> Result<Counted, RedundancyError> {
    let (a, b) = (&tables[pair.a], &tables[pair.b]);
    let a_columns: Vec<usize> = pair.mapping.pairs.iter().map(|&(i, _)| i).collect();
    let b_columns: Vec<usize> = pair.mapping.pairs.iter().map(|&(_, j)| j).collect();
    let all: Vec<usize> = (0..a_columns.len()).collect();
    let (oa, ob) = (open(lake, a).await?, open(lake, b).await?);
    let passes = a.profile.rows.div_ceil(EXACT_ROWS_PER_PASS).max(1) as u128;
    let mut counted = Counted::default();
    for pass in 0..passes {
        let mine = |h: Hash128| h % passes == pass;
        // (rows of A, rows of B) per distinct row of A in this pass.
        let mut counts: HashMap<Hash128, (u64, u64)> = HashMap::new();
        oa.scan(a, &a_columns, job, |batch| {
            let hashes = column_hashes(batch);
            for h in rows_over(&hashes, &all, batch.num_rows()) {
                if mine(h) {
                    counts.entry(h).or_insert((0, 0)).0 += 1;
                }
            }
            true
        })
        .await?;
        ob.scan(b, &b_columns, job, |batch| {
            let hashes = column_hashes(batch);
            for h in rows_over(&hashes, &all, batch.num_rows()) {
                if let Some(c) = counts.get_mut(&h) {
                    c.1 += 1;
                }
            }
            true
        })
        .await?;
        for (n_a, n_b) in counts.into_values() {
            counted.rows += n_a;
            if n_b > 0 {
                counted.in_set += n_a;
            }
            counted.in_multiset += n_a.min(n_b);
        }
    }
    Ok(counted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_distinct_sorted_and_seeded() {
        let s = sample_offsets(1_000, 50, 7);
        assert_eq!(s.len(), 50);
        assert!(s.windows(2).all(|w| w[0] < w[1]) && s[49] < 1_000);
        assert_eq!(s, sample_offsets(1_000, 50, 7));
        assert_ne!(s, sample_offsets(1_000, 50, 8));
        assert_eq!(sample_offsets(3, 50, 7), vec![0, 1, 2]);
    }
}
