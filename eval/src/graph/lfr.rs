//! LFR benchmark graphs (Lancichinetti, Fortunato and Radicchi 2008): graphs
//! with planted communities whose degrees and community sizes both follow
//! power laws, and where a tunable share `μ` of every node's edges leaves its
//! community. They are the usual yardstick for community detection: the
//! planted partition is the answer a method should find.
//!
//! How a graph is built (every random choice comes from one [`Rng`] started
//! from the seed, so the same parameters always give the same graph):
//!
//! 1. Degrees are drawn from a power law `p(k) ∝ k^-τ1` on the integers
//!    `kmin..=max_degree`. The smallest degree is solved for so that the mean
//!    is exactly `average_degree`: the law is a blend of the laws that start
//!    at two neighbouring integers, mixed in the proportion that hits the
//!    target. The total is then made even.
//! 2. Community sizes are drawn from a power law `p(s) ∝ s^-τ2` on
//!    `min_community..=max_community` until they cover the nodes; the last
//!    draw is trimmed, or the remainder spread over the others, so the sizes
//!    sum to exactly `nodes` and all stay within bounds.
//! 3. Each node's internal degree is `(1 − μ)·k`, rounded down or up at
//!    random in proportion to the fraction, so the expected share of external
//!    edge ends is exactly `μ` (plain rounding biases it for small degrees).
//! 4. Nodes are placed largest internal degree first, each into a random free
//!    place among the communities that are larger than its internal degree.
//!    Because larger nodes go first, a node finds no such place only when the
//!    size constraints cannot all be met; it is then bumped: its internal
//!    degree drops to fit the largest community with room, the difference
//!    becoming external edges. Placement therefore always ends.
//! 5. Internal stubs are paired at random within each community and external
//!    stubs across the whole graph (configuration model). Self-loops,
//!    repeated edges and external edges that landed inside one community are
//!    repaired by degree-preserving swaps with random good edges (a bounded
//!    number of tries each); whatever still cannot be placed is dropped.
//!
//! Duplicates are found by sorting packed edge keys, not with a set of all
//! edges; a million nodes of average degree 20 take a few seconds.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::io::{self, BufWriter, Write};

use lakebook_core::job::{Cancelled, Unwatched, Watch};
use lakebook_core::rng::Rng;

/// How many swaps are tried to repair one bad edge before it is dropped.
const REWIRE_TRIES: usize = 64;

/// Parameters of an LFR graph.
#[derive(Debug, Clone, PartialEq)]
pub struct LfrParams {
    /// Number of nodes (`N`); nodes are numbered `0..nodes`.
    pub nodes: usize,
    /// Target mean degree (`<k>`).
    pub average_degree: f64,
    /// Largest degree (`kmax`); below `nodes`.
    pub max_degree: usize,
    /// Exponent of the degree power law (`τ1`), usually 2 to 3; 2.5 by default.
    pub degree_exponent: f64,
    /// Exponent of the community-size power law (`τ2`), usually 1 to 2; 1.5
    /// by default.
    pub community_exponent: f64,
    /// Smallest community size.
    pub min_community: usize,
    /// Largest community size.
    pub max_community: usize,
    /// Mixing parameter `μ` in [0, 1]: the share of each node's edges that
    /// leave its community.
    pub mixing: f64,
    /// Seed of the random generator.
    pub seed: u64,
}

impl LfrParams {
    /// The usual benchmark settings for `nodes` nodes: average degree 20,
    /// maximum degree 50, communities of 20 to 100 nodes, `τ1` = 2.5,
    /// `τ2` = 1.5, `μ` = 0.3, seed 1. For small graphs the maximum degree is
    /// capped at `nodes − 1`, the community bounds at `nodes`, and the average
    /// degree lowered to what the capped maximum allows.
    pub fn new(nodes: usize) -> Self {
        let degree_exponent = 2.5;
        let max_degree = 50.min(nodes.saturating_sub(1)).max(1);
        let average_degree = 20f64
            .min(max_degree as f64 / 2.0)
            .max(lowest_mean_degree(max_degree, degree_exponent));
        let max_community = 100.min(nodes).max(1);
        LfrParams {
            nodes,
            average_degree,
            max_degree,
            degree_exponent,
            community_exponent: 1.5,
            min_community: 20.min(max_community),
            max_community,
            mixing: 0.3,
            seed: 1,
        }
    }

    /// The usual settings for `nodes` nodes with mean degree `average_degree`:
    /// the largest degree is raised to 2.5 times the mean when the default
    /// would not leave room for it (capped at `nodes − 1`).
    pub fn with_average_degree(nodes: usize, average_degree: f64) -> Self {
        let mut params = Self::new(nodes);
        params.average_degree = average_degree;
        params.max_degree = params
            .max_degree
            .max((average_degree * 2.5) as usize)
            .min(nodes.saturating_sub(1));
        params
    }
}

/// A generated graph and its planted communities.
#[derive(Debug, Clone, PartialEq)]
pub struct LfrGraph {
    /// Undirected edges `(a, b)` with `a < b`, sorted, without self-loops or
    /// duplicates.
    pub edges: Vec<(u32, u32)>,
    /// The planted community of each node (`membership.len()` is the number
    /// of nodes; communities are numbered `0..communities`).
    pub membership: Vec<u32>,
    /// Number of planted communities.
    pub communities: usize,
}

/// Why a graph could not be generated: the message names the parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct LfrError(pub String);

impl From<Cancelled> for LfrError {
    fn from(_: Cancelled) -> Self {
        LfrError("cancelled".into())
    }
}

fn fail<T>(message: String) -> Result<T, LfrError> {
    Err(LfrError(message))
}

/// Generates the LFR graph described by `params`.
pub fn generate(params: &LfrParams) -> Result<LfrGraph, LfrError> {
    generate_watched(params, &Unwatched)
}

/// [`generate`], telling `watch` which of its five stages runs and stopping
/// between them on a cancel.
pub fn generate_watched(params: &LfrParams, watch: &dyn Watch) -> Result<LfrGraph, LfrError> {
    let stage = |done: u64, name: &str| {
        watch.check()?;
        watch.progress(name, done, 5);
        Ok::<(), Cancelled>(())
    };
    stage(0, "LFR: degrees")?;
    validate(params)?;
    let n = params.nodes;
    let mut rng = Rng::new(params.seed);

    // 1. Degrees, with an even total.
    let law = DegreeLaw::solve(
        params.average_degree,
        params.max_degree,
        params.degree_exponent,
    )?;
    let mut degree: Vec<u32> = (0..n).map(|_| law.sample(&mut rng)).collect();
    let total: u64 = degree.iter().map(|&k| u64::from(k)).sum();
    if total % 2 == 1 {
        let v = rng.below(n);
        if (degree[v] as usize) < params.max_degree {
            degree[v] += 1;
        } else {
            degree[v] -= 1;
        }
    }

    // 2. Community sizes summing to n.
    stage(1, "LFR: community sizes")?;
    let sizes = community_sizes(params, &mut rng)?;

    // 3. Internal degrees, rounded at random so the mean mixing is exactly μ.
    let keep = 1.0 - params.mixing;
    let mut internal: Vec<u32> = degree
        .iter()
        .map(|&k| {
            let x = keep * f64::from(k);
            let floor = x.floor();
            let up = rng.chance(x - floor);
            (floor as u32 + u32::from(up)).min(k)
        })
        .collect();

    // 4. Placement (may lower some internal degrees).
    stage(2, "LFR: placing nodes in communities")?;
    let membership = assign(&sizes, &mut internal, &mut rng)?;
    let (offsets, members) = group_members(&membership, sizes.len());

    // Each community's internal stubs must pair up: fix odd totals by moving
    // one stub of a member between internal and external.
    for c in 0..sizes.len() {
        let group = &members[offsets[c]..offsets[c + 1]];
        let sum: u64 = group.iter().map(|&v| u64::from(internal[v as usize])).sum();
        if sum % 2 == 1 {
            fix_parity(group, &degree, &mut internal, sizes[c], &mut rng);
        }
    }
    if params.mixing == 0.0 {
        // No edge may leave a community: stubs that bumps and parity fixes
        // moved out are dropped instead.
        degree.copy_from_slice(&internal);
    }

    // 5a. Internal edges: a configuration model per community.
    stage(3, "LFR: internal edges")?;
    let mut edges: Vec<u64> = Vec::with_capacity((total / 2) as usize + 1);
    let mut stubs: Vec<u32> = Vec::new();
    for c in 0..sizes.len() {
        stubs.clear();
        for &v in &members[offsets[c]..offsets[c + 1]] {
            stubs.extend(std::iter::repeat_n(v, internal[v as usize] as usize));
        }
        rng.shuffle(&mut stubs);
        let keys = stubs.chunks_exact(2).map(|p| key(p[0], p[1])).collect();
        edges.extend(repair(keys, |_, _| true, &mut rng));
    }

    // 5b. External edges: one configuration model over the whole graph.
    stage(4, "LFR: external edges")?;
    stubs.clear();
    for (v, (&k, &d)) in degree.iter().zip(&internal).enumerate() {
        stubs.extend(std::iter::repeat_n(v as u32, (k - d) as usize));
    }
    rng.shuffle(&mut stubs);
    let keys = stubs.chunks_exact(2).map(|p| key(p[0], p[1])).collect();
    drop(stubs);
    let crosses = |a: u32, b: u32| membership[a as usize] != membership[b as usize];
    edges.extend(repair(keys, crosses, &mut rng));

    edges.sort_unstable();
    Ok(LfrGraph {
        edges: edges.into_iter().map(ends).collect(),
        membership,
        communities: sizes.len(),
    })
}

/// The share of edge ends that leave their node's planted community: the
/// realised mixing parameter (0 for a graph without edges).
pub fn realised_mixing(graph: &LfrGraph) -> f64 {
    if graph.edges.is_empty() {
        return 0.0;
    }
    let community = |v: u32| graph.membership.get(v as usize).copied();
    let crossing = graph
        .edges
        .iter()
        .filter(|&&(a, b)| community(a) != community(b))
        .count();
    // Each crossing edge has both ends outside the other's community.
    crossing as f64 / graph.edges.len() as f64
}

/// Writes the graph as two text files in the format of the SNAP benchmark
/// data (email-Eu-core): `edges` gets one `a b` line per edge, `labels` one
/// `node community` line per node. Both writers are buffered here.
pub fn write_edge_list(
    graph: &LfrGraph,
    edges: &mut impl Write,
    labels: &mut impl Write,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, edges);
    for &(a, b) in &graph.edges {
        writeln!(out, "{a} {b}")?;
    }
    out.flush()?;
    let mut out = BufWriter::with_capacity(1 << 16, labels);
    for (v, c) in graph.membership.iter().enumerate() {
        writeln!(out, "{v} {c}")?;
    }
    out.flush()
}

fn validate(p: &LfrParams) -> Result<(), LfrError> {
    let n = p.nodes;
    if n < 2 {
        return fail(format!("nodes must be at least 2, got {n}"));
    }
    if n > u32::MAX as usize {
        return fail(format!("nodes must be at most {}, got {n}", u32::MAX));
    }
    if !(0.0..=1.0).contains(&p.mixing) {
        return fail(format!("mixing must be between 0 and 1, got {}", p.mixing));
    }
    if !p.degree_exponent.is_finite() || p.degree_exponent < 0.0 {
        return fail(format!(
            "degree_exponent must be a finite number ≥ 0, got {}",
            p.degree_exponent
        ));
    }
    if !p.community_exponent.is_finite() || p.community_exponent < 0.0 {
        return fail(format!(
            "community_exponent must be a finite number ≥ 0, got {}",
            p.community_exponent
        ));
    }
    if p.max_degree == 0 {
        return fail("max_degree must be at least 1".to_string());
    }
    if p.max_degree >= n {
        return fail(format!(
            "max_degree ({}) must be below nodes ({n}): a node has at most nodes − 1 neighbours",
            p.max_degree
        ));
    }
    if !p.average_degree.is_finite() || p.average_degree <= 0.0 {
        return fail(format!(
            "average_degree must be a positive number, got {}",
            p.average_degree
        ));
    }
    if (p.max_degree as f64) < p.average_degree {
        return fail(format!(
            "max_degree ({}) must be at least average_degree ({})",
            p.max_degree, p.average_degree
        ));
    }
    let lowest = lowest_mean_degree(p.max_degree, p.degree_exponent);
    if p.average_degree < lowest - 1e-9 {
        return fail(format!(
            "average_degree ({}) is below {lowest:.3}, the smallest mean a power law with \
             degree_exponent {} and max_degree {} reaches with degrees of at least 1",
            p.average_degree, p.degree_exponent, p.max_degree
        ));
    }
    if p.min_community == 0 {
        return fail("min_community must be at least 1".to_string());
    }
    if p.min_community > p.max_community {
        return fail(format!(
            "min_community ({}) must not exceed max_community ({})",
            p.min_community, p.max_community
        ));
    }
    if p.max_community > n {
        return fail(format!(
            "max_community ({}) must not exceed nodes ({n})",
            p.max_community
        ));
    }
    // Some number of communities c must have c·min ≤ n ≤ c·max; the smallest
    // candidate is ceil(n / max).
    if n.div_ceil(p.max_community) * p.min_community > n {
        return fail(format!(
            "min_community ({}) and max_community ({}) cannot split {n} nodes into communities",
            p.min_community, p.max_community
        ));
    }
    let needed = ((1.0 - p.mixing) * p.max_degree as f64).round() as usize;
    if needed >= p.max_community {
        return fail(format!(
            "max_community ({}) is too small: nodes of max_degree {} with mixing {} need about \
             {needed} neighbours inside their community, so communities of at least {} nodes",
            p.max_community,
            p.max_degree,
            p.mixing,
            needed + 1
        ));
    }
    Ok(())
}

/// Weights `k^-τ` for `k` in `lo..=hi`, as cumulative sums for sampling.
struct PowerLaw {
    lo: usize,
    cumulative: Vec<f64>,
}

impl PowerLaw {
    fn new(lo: usize, hi: usize, exponent: f64) -> Self {
        let mut sum = 0.0;
        let cumulative = (lo..=hi)
            .map(|k| {
                sum += (k as f64).powf(-exponent);
                sum
            })
            .collect();
        PowerLaw { lo, cumulative }
    }

    /// A value from the law restricted to `start..=hi` (`start ≥ lo`).
    fn sample_from(&self, start: usize, rng: &mut Rng) -> usize {
        let skip = start.saturating_sub(self.lo);
        let base = if skip == 0 {
            0.0
        } else {
            self.cumulative[skip - 1]
        };
        let top = self.cumulative.last().copied().unwrap_or(0.0);
        let u = base + rng.unit() * (top - base);
        let index = self.cumulative.partition_point(|&c| c <= u);
        self.lo + index.clamp(skip, self.cumulative.len().saturating_sub(1))
    }
}

/// Means of `k^-τ` on `a..=kmax` for every start `a` (index `a − 1`).
fn tail_means(max_degree: usize, exponent: f64) -> Vec<f64> {
    let mut means = vec![0.0; max_degree];
    let (mut weight, mut weighted) = (0.0, 0.0);
    for k in (1..=max_degree).rev() {
        let w = (k as f64).powf(-exponent);
        weight += w;
        weighted += w * k as f64;
        means[k - 1] = weighted / weight;
    }
    means
}

/// The mean degree of the power law when degrees start at 1: the lowest
/// average degree reachable.
fn lowest_mean_degree(max_degree: usize, exponent: f64) -> f64 {
    if max_degree == 0 {
        return 0.0;
    }
    let (mut weight, mut weighted) = (0.0, 0.0);
    for k in 1..=max_degree {
        let w = (k as f64).powf(-exponent);
        weight += w;
        weighted += w * k as f64;
    }
    weighted / weight
}

/// The degree law: the power law on `start..=kmax`, where `start` is `low`
/// with probability `share_low` and `low + 1` otherwise, so the mean is exact.
struct DegreeLaw {
    law: PowerLaw,
    low: usize,
    share_low: f64,
}

impl DegreeLaw {
    fn solve(average: f64, max_degree: usize, exponent: f64) -> Result<Self, LfrError> {
        let means = tail_means(max_degree, exponent);
        // The largest start whose mean does not exceed the target.
        let count = means.partition_point(|&m| m <= average);
        if count == 0 {
            return fail(format!(
                "average_degree ({average}) is too low for degree_exponent {exponent} and \
                 max_degree {max_degree}"
            ));
        }
        let low = count; // start value (index count − 1)
        let share_low = match means.get(count) {
            Some(&next) if next > means[count - 1] => (next - average) / (next - means[count - 1]),
            _ => 1.0,
        };
        Ok(DegreeLaw {
            law: PowerLaw::new(1, max_degree, exponent),
            low,
            share_low,
        })
    }

    fn sample(&self, rng: &mut Rng) -> u32 {
        let start = if rng.chance(self.share_low) {
            self.low
        } else {
            self.low + 1
        };
        self.law.sample_from(start, rng) as u32
    }
}

/// Community sizes in `min..=max` that sum to exactly `nodes`.
fn community_sizes(p: &LfrParams, rng: &mut Rng) -> Result<Vec<usize>, LfrError> {
    let (n, lo, hi) = (p.nodes, p.min_community, p.max_community);
    let law = PowerLaw::new(lo, hi, p.community_exponent);
    let mut sizes = Vec::new();
    let mut total = 0;
    while total < n {
        let s = law.sample_from(lo, rng);
        if total + s <= n {
            sizes.push(s);
            total += s;
            continue;
        }
        let rest = n - total;
        total = n;
        if rest >= lo {
            sizes.push(rest); // rest < s ≤ max
            continue;
        }
        let room: usize = sizes.iter().map(|&s| hi - s).sum();
        if room >= rest {
            // Spread the remaining nodes over communities with room.
            let mut open: Vec<usize> = (0..sizes.len()).filter(|&c| sizes[c] < hi).collect();
            for _ in 0..rest {
                let i = rng.below(open.len());
                let c = open[i];
                sizes[c] += 1;
                if sizes[c] == hi {
                    open.swap_remove(i);
                }
            }
        } else {
            // One more community of the minimum size, its missing nodes taken
            // from communities above the minimum (possible as validated).
            let mut take = lo - rest;
            let mut spare: Vec<usize> = (0..sizes.len()).filter(|&c| sizes[c] > lo).collect();
            while take > 0 {
                if spare.is_empty() {
                    return fail(format!(
                        "min_community ({lo}) and max_community ({hi}) cannot split {n} nodes"
                    ));
                }
                let i = rng.below(spare.len());
                let c = spare[i];
                sizes[c] -= 1;
                take -= 1;
                if sizes[c] == lo {
                    spare.swap_remove(i);
                }
            }
            sizes.push(lo);
        }
    }
    Ok(sizes)
}

/// Places every node in a community larger than its internal degree,
/// largest internal degree first, at a random free place; lowers the
/// internal degree of a node that fits nowhere. Returns the membership.
fn assign(sizes: &[usize], internal: &mut [u32], rng: &mut Rng) -> Result<Vec<u32>, LfrError> {
    let n = internal.len();
    let mut by_size: Vec<usize> = (0..sizes.len()).collect();
    by_size.sort_by_key(|&c| (Reverse(sizes[c]), c));
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by_key(|&v| (Reverse(internal[v as usize]), v));

    let mut free: Vec<u32> = Vec::with_capacity(n);
    let mut next = 0;
    let mut membership = vec![0u32; n];
    for v in order {
        let mut d = internal[v as usize] as usize;
        loop {
            while next < by_size.len() && sizes[by_size[next]] > d {
                let c = by_size[next];
                free.extend(std::iter::repeat_n(c as u32, sizes[c]));
                next += 1;
            }
            if !free.is_empty() {
                break;
            }
            // No room in any community larger than d: bump the node down to
            // the largest community not yet open (one exists, as sizes sum to n).
            let Some(&c) = by_size.get(next) else {
                return fail("community sizes do not cover the nodes".to_string());
            };
            d = sizes[c].saturating_sub(1);
        }
        internal[v as usize] = d as u32;
        let j = rng.below(free.len());
        membership[v as usize] = free.swap_remove(j);
    }
    Ok(membership)
}

/// Nodes grouped by community: `members[offsets[c]..offsets[c + 1]]`.
fn group_members(membership: &[u32], communities: usize) -> (Vec<usize>, Vec<u32>) {
    let mut offsets = vec![0usize; communities + 1];
    for &c in membership {
        offsets[c as usize + 1] += 1;
    }
    for c in 0..communities {
        offsets[c + 1] += offsets[c];
    }
    let mut cursor = offsets.clone();
    let mut members = vec![0u32; membership.len()];
    for (v, &c) in membership.iter().enumerate() {
        members[cursor[c as usize]] = v as u32;
        cursor[c as usize] += 1;
    }
    (offsets, members)
}

/// Makes a community's internal degrees sum to an even number by moving one
/// stub of one member, picked at random, between internal and external.
fn fix_parity(group: &[u32], degree: &[u32], internal: &mut [u32], size: usize, rng: &mut Rng) {
    let start = rng.below(group.len());
    let up_first = rng.chance(0.5);
    for i in 0..group.len() {
        let v = group[(start + i) % group.len()] as usize;
        let can_up = internal[v] < degree[v] && (internal[v] as usize) + 1 < size;
        let can_down = internal[v] > 0;
        if can_up && (up_first || !can_down) {
            internal[v] += 1;
            return;
        }
        if can_down {
            internal[v] -= 1;
            return;
        }
    }
}

/// An undirected edge packed as `(min << 32) | max`.
fn key(a: u32, b: u32) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    (u64::from(lo) << 32) | u64::from(hi)
}

/// The two ends of a packed edge, smaller first.
fn ends(k: u64) -> (u32, u32) {
    ((k >> 32) as u32, k as u32)
}

/// Keeps the first copy of every valid edge in `keys` (not a loop, `ok`) and
/// repairs the others — loops, repeats, edges `ok` rejects — by swapping ends
/// with a random good edge `c–d`: `a–b, c–d` become `a–c, b–d` (or `a–d,
/// b–c`), which keeps every degree. Edges still bad after the tries are
/// dropped. Returns the edges in no particular order.
fn repair(mut keys: Vec<u64>, ok: impl Fn(u32, u32) -> bool, rng: &mut Rng) -> Vec<u64> {
    keys.sort_unstable();
    let mut good: Vec<u64> = Vec::with_capacity(keys.len());
    let mut bad: Vec<u64> = Vec::new();
    for k in keys {
        let (a, b) = ends(k);
        if a == b || !ok(a, b) || good.last() == Some(&k) {
            bad.push(k);
        } else {
            good.push(k);
        }
    }
    if bad.is_empty() || good.is_empty() {
        return good;
    }

    let mut dead = vec![false; good.len()];
    let mut added: HashSet<u64> = HashSet::new();
    for k in bad {
        let (a, b) = ends(k);
        for _ in 0..REWIRE_TRIES {
            let j = rng.below(good.len());
            if dead[j] {
                continue;
            }
            let (c, d) = ends(good[j]);
            let (c, d) = if rng.chance(0.5) { (c, d) } else { (d, c) };
            if a == c || b == d || !ok(a, c) || !ok(b, d) {
                continue;
            }
            let (k1, k2) = (key(a, c), key(b, d));
            let present =
                |k: u64| added.contains(&k) || good.binary_search(&k).is_ok_and(|i| !dead[i]);
            if k1 == k2 || present(k1) || present(k2) {
                continue;
            }
            dead[j] = true;
            added.insert(k1);
            added.insert(k2);
            break;
        }
    }
    let mut out: Vec<u64> = good
        .into_iter()
        .zip(dead)
        .filter_map(|(k, gone)| (!gone).then_some(k))
        .collect();
    out.extend(added);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(nodes: usize, mixing: f64, seed: u64) -> LfrParams {
        LfrParams {
            mixing,
            seed,
            ..LfrParams::new(nodes)
        }
    }

    fn generated(p: &LfrParams) -> LfrGraph {
        match generate(p) {
            Ok(g) => g,
            Err(e) => panic!("generation failed: {e}"),
        }
    }

    fn community_sizes_of(g: &LfrGraph) -> Vec<usize> {
        let mut sizes = vec![0usize; g.communities];
        for &c in &g.membership {
            sizes[c as usize] += 1;
        }
        sizes
    }

    #[test]
    fn edges_are_simple_and_sorted() {
        let g = generated(&params(10_000, 0.3, 7));
        assert_eq!(g.membership.len(), 10_000);
        for &(a, b) in &g.edges {
            assert!(a < b, "edge {a}-{b} is not ordered or is a loop");
            assert!((b as usize) < 10_000);
        }
        for w in g.edges.windows(2) {
            assert!(w[0] < w[1], "edges repeat or are unsorted: {:?}", w);
        }
    }

    #[test]
    fn mean_degree_is_near_target() {
        for (n, mu) in [(10_000, 0.3), (2_000, 0.1), (500, 0.5)] {
            let p = params(n, mu, 3);
            let g = generated(&p);
            let mean = 2.0 * g.edges.len() as f64 / n as f64;
            let target = p.average_degree;
            assert!(
                (mean - target).abs() <= 0.1 * target,
                "n={n}: mean degree {mean} vs target {target}"
            );
        }
    }

    #[test]
    fn degrees_stay_within_bounds() {
        let p = params(10_000, 0.3, 5);
        let g = generated(&p);
        let mut degree = vec![0usize; p.nodes];
        for &(a, b) in &g.edges {
            degree[a as usize] += 1;
            degree[b as usize] += 1;
        }
        assert!(degree.iter().all(|&k| k <= p.max_degree));
    }

    #[test]
    fn realised_mixing_matches_mu() {
        for mu in [0.1, 0.3, 0.5] {
            let g = generated(&params(10_000, mu, 11));
            let got = realised_mixing(&g);
            assert!((got - mu).abs() <= 0.05, "μ={mu}: realised {got}");
        }
    }

    #[test]
    fn extreme_mixing_values_work() {
        let g = generated(&params(2_000, 0.0, 2));
        assert_eq!(realised_mixing(&g), 0.0);
        let g = generated(&params(2_000, 1.0, 2));
        assert!(realised_mixing(&g) > 0.99);
    }

    #[test]
    fn community_sizes_stay_in_bounds() {
        for (n, lo, hi, seed) in [(10_000, 20, 100, 1), (1_000, 10, 50, 2), (237, 20, 30, 3)] {
            let mut p = params(n, 0.3, seed);
            p.min_community = lo;
            p.max_community = hi;
            p.average_degree = 8.0;
            p.max_degree = 20;
            let g = generated(&p);
            let sizes = community_sizes_of(&g);
            assert_eq!(sizes.iter().sum::<usize>(), n);
            for s in sizes {
                assert!((lo..=hi).contains(&s), "size {s} outside [{lo}, {hi}]");
            }
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let p = params(5_000, 0.3, 42);
        assert_eq!(generated(&p), generated(&p));
        let other = generated(&params(5_000, 0.3, 43));
        assert_ne!(generated(&p).edges, other.edges);
    }

    #[test]
    fn small_graphs_from_defaults() {
        for n in [2, 3, 5, 10, 30, 60, 150] {
            let g = generated(&LfrParams::new(n));
            assert_eq!(g.membership.len(), n);
            assert!(g.edges.iter().all(|&(a, b)| a < b && (b as usize) < n));
        }
    }

    #[test]
    fn bad_parameters_name_the_culprit() {
        let base = LfrParams::new(1_000);
        let cases: Vec<(LfrParams, &str)> = vec![
            (
                LfrParams {
                    nodes: 1,
                    ..base.clone()
                },
                "nodes",
            ),
            (
                LfrParams {
                    mixing: 1.5,
                    ..base.clone()
                },
                "mixing",
            ),
            (
                LfrParams {
                    mixing: -0.1,
                    ..base.clone()
                },
                "mixing",
            ),
            (
                LfrParams {
                    mixing: f64::NAN,
                    ..base.clone()
                },
                "mixing",
            ),
            (
                LfrParams {
                    max_degree: 10,
                    ..base.clone()
                },
                "max_degree",
            ),
            (
                LfrParams {
                    max_degree: 1_000,
                    ..base.clone()
                },
                "max_degree",
            ),
            (
                LfrParams {
                    average_degree: 0.0,
                    ..base.clone()
                },
                "average_degree",
            ),
            (
                LfrParams {
                    average_degree: 1.01,
                    ..base.clone()
                },
                "average_degree",
            ),
            (
                LfrParams {
                    min_community: 200,
                    ..base.clone()
                },
                "min_community",
            ),
            (
                LfrParams {
                    min_community: 0,
                    ..base.clone()
                },
                "min_community",
            ),
            (
                LfrParams {
                    max_community: 2_000,
                    ..base.clone()
                },
                "max_community",
            ),
            (
                LfrParams {
                    max_community: 30,
                    ..base.clone()
                },
                "max_community",
            ),
            (
                LfrParams {
                    degree_exponent: f64::INFINITY,
                    ..base.clone()
                },
                "degree_exponent",
            ),
            (
                LfrParams {
                    community_exponent: -1.0,
                    ..base.clone()
                },
                "community_exponent",
            ),
            (
                LfrParams {
                    nodes: 130,
                    min_community: 70,
                    max_community: 100,
                    ..base.clone()
                },
                "min_community",
            ),
        ];
        for (p, name) in cases {
            match generate(&p) {
                Ok(_) => panic!("{name}: accepted {p:?}"),
                Err(e) => assert!(e.to_string().contains(name), "{name}: message was {e}"),
            }
        }
    }

    #[test]
    fn edge_list_format() {
        let g = LfrGraph {
            edges: vec![(0, 1), (1, 3)],
            membership: vec![0, 0, 1, 1],
            communities: 2,
        };
        let (mut edges, mut labels) = (Vec::new(), Vec::new());
        if let Err(e) = write_edge_list(&g, &mut edges, &mut labels) {
            panic!("write failed: {e}");
        }
        assert_eq!(String::from_utf8_lossy(&edges), "0 1\n1 3\n");
        assert_eq!(String::from_utf8_lossy(&labels), "0 0\n1 0\n2 1\n3 1\n");
        assert!((realised_mixing(&g) - 0.5).abs() < 1e-12);
    }
}
