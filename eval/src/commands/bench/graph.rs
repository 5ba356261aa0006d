//! `bench graph`: seeded-community query latency on a generated LFR graph.

use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use lakebook_core::Job;
use lakebook_core::graph::Adjacency;
use lakebook_core::graph::leiden::{LeidenOptions, leiden};
use lakebook_core::graph::seeded::{DEFAULT_THRESHOLD, NeighbourhoodIndex, SeededOptions};
use lakebook_core::rng::Rng;
use serde_json::json;

use crate::graph::lfr::{self, LfrParams};

/// Arguments of `bench graph`.
#[derive(Debug, Args)]
pub struct BenchGraphArgs {
    /// Nodes of the generated LFR graph.
    #[arg(long, default_value_t = 1_000_000)]
    pub nodes: usize,
    /// Its mean degree (edges = nodes × degree / 2).
    #[arg(long, default_value_t = 20.0)]
    pub average_degree: f64,
    /// Its mixing.
    #[arg(long, default_value_t = 0.3)]
    pub mu: f64,
    /// Seeded queries timed.
    #[arg(long, default_value_t = 500)]
    pub queries: usize,
    /// Seeds per query.
    #[arg(long, default_value_t = 3)]
    pub seeds: usize,
    /// LSH Jaccard threshold.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Also time whole-graph Leiden (the slow way to answer the same question).
    #[arg(long)]
    pub leiden: bool,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `bench graph`: seeded-query latency on a generated LFR graph, as JSON.
pub fn run_bench_graph(
    args: BenchGraphArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let mut params = LfrParams::with_average_degree(args.nodes, args.average_degree);
    params.mixing = args.mu;
    params.seed = args.seed;
    let started = Instant::now();
    let generated = lfr::generate(&params).map_err(|e| anyhow::anyhow!("{e}"))?;
    let generate_s = started.elapsed().as_secs_f64();
    let edges: Vec<(u32, u32, f32)> = generated.edges.iter().map(|(a, b)| (*a, *b, 1.0)).collect();
    let started = Instant::now();
    let adjacency = Adjacency::from_edges(generated.membership.len(), &edges);
    drop(edges);
    let adjacency_s = started.elapsed().as_secs_f64();
    let index = NeighbourhoodIndex::build(&adjacency, args.threshold, job)?;
    let mut by_community: Vec<Vec<u32>> = vec![Vec::new(); generated.communities];
    for (v, c) in generated.membership.iter().enumerate() {
        by_community[*c as usize].push(v as u32);
    }
    let mut rng = Rng::new(args.seed);
    let mut times = Vec::with_capacity(args.queries);
    let (mut f1_sum, mut recall_sum) = (0.0, 0.0);
    for _ in 0..args.queries {
        let community = &by_community[rng.below(by_community.len())];
        if community.len() <= args.seeds {
            continue;
        }
        let mut pool = community.clone();
        rng.shuffle(&mut pool);
        let found = index.query(&adjacency, &pool[..args.seeds], &SeededOptions::default())?;
        times.push(found.elapsed.as_secs_f64() * 1000.0);
        let planted = generated.membership[pool[0] as usize];
        let hits = found
            .members
            .iter()
            .filter(|(v, _)| generated.membership[*v as usize] == planted)
            .count() as f64;
        let (p, r) = (
            hits / found.members.len() as f64,
            hits / community.len() as f64,
        );
        recall_sum += r;
        f1_sum += if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        times
            .get(((times.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let q = times.len().max(1) as f64;
    let mut value = json!({
        "nodes": adjacency.node_count(),
        "edges": adjacency.edge_count(),
        "communities": generated.communities,
        "generate_s": generate_s,
        "adjacency_s": adjacency_s,
        "index_build_s": index.build_time().as_secs_f64(),
        "index_memory_mb": index.memory_bytes() as f64 / 1e6,
        "banding": [index.banding().bands, index.banding().rows],
        "queries": times.len(),
        "seeds": args.seeds,
        "query_ms_p50": pct(0.5),
        "query_ms_p95": pct(0.95),
        "query_ms_max": times.last().copied().unwrap_or(0.0),
        "recall": recall_sum / q,
        "f1": f1_sum / q,
    });
    if args.leiden {
        let started = Instant::now();
        let partition = leiden(&adjacency, &LeidenOptions::default());
        value["whole_graph_leiden_s"] = json!(started.elapsed().as_secs_f64());
        value["whole_graph_modularity"] = json!(partition.modularity);
        value["speedup_p95_vs_whole_graph"] =
            json!(started.elapsed().as_secs_f64() * 1000.0 / pct(0.95).max(1e-9));
    }
    writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    Ok(())
}
