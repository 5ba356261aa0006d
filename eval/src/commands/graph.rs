//! Community-detection evaluation: `generate lfr`, `eval communities` and `eval seeded`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use lakebook_core::Job;
use lakebook_core::graph::leiden::{LeidenOptions, leiden};
use lakebook_core::graph::seeded::{DEFAULT_THRESHOLD, NeighbourhoodIndex};
use serde_json::json;

use crate::graph::edge_list::read_edge_list;
use crate::graph::evaluate::{best_community_f1, evaluate_partition, evaluate_seeded};
use crate::graph::lfr::{self, LfrParams};

/// `generate` subcommands.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// An LFR benchmark graph with planted communities (Lancichinetti,
    /// Fortunato & Radicchi 2008): OUT/edges.txt ("a b" lines) and
    /// OUT/labels.txt ("node community" lines).
    Lfr(LfrArgs),
}

/// Arguments of `generate lfr`.
#[derive(Debug, Args)]
pub struct LfrArgs {
    /// Nodes.
    #[arg(long, default_value_t = 10_000)]
    pub nodes: usize,
    /// Mean degree.
    #[arg(long)]
    pub average_degree: Option<f64>,
    /// Largest degree.
    #[arg(long)]
    pub max_degree: Option<usize>,
    /// Mixing: share of each node's edges leaving its community.
    #[arg(long, default_value_t = 0.3)]
    pub mu: f64,
    /// Smallest community.
    #[arg(long)]
    pub min_community: Option<usize>,
    /// Largest community.
    #[arg(long)]
    pub max_community: Option<usize>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
}

impl LfrArgs {
    fn params(&self) -> LfrParams {
        let mut p = LfrParams::new(self.nodes);
        p.mixing = self.mu;
        p.seed = self.seed;
        if let Some(v) = self.average_degree {
            p.average_degree = v;
        }
        if let Some(v) = self.max_degree {
            p.max_degree = v;
        }
        if let Some(v) = self.min_community {
            p.min_community = v;
        }
        if let Some(v) = self.max_community {
            p.max_community = v;
        }
        p
    }
}

/// Arguments shared by `eval communities` and `eval seeded`.
#[derive(Debug, Args)]
pub struct EvalGraphArgs {
    /// Edge list: "a b [weight]" lines (SNAP format; # comments).
    pub edges: PathBuf,
    /// Known groups: "node group" lines.
    #[arg(long)]
    pub truth: PathBuf,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// `eval communities`.
#[derive(Debug, Args)]
pub struct EvalCommunitiesArgs {
    #[command(flatten)]
    pub graph: EvalGraphArgs,
    /// Leiden's resolution.
    #[arg(long, default_value_t = 1.0)]
    pub resolution: f64,
    /// Louvain instead of Leiden (no refinement).
    #[arg(long)]
    pub louvain: bool,
    /// Most passes (0: until stable).
    #[arg(long, default_value_t = 0)]
    pub passes: usize,
}

/// `eval seeded`.
#[derive(Debug, Args)]
pub struct EvalSeededArgs {
    #[command(flatten)]
    pub graph: EvalGraphArgs,
    /// Seeds per query, drawn from one known group.
    #[arg(long, default_value_t = 3)]
    pub seeds: usize,
    /// Queries per group.
    #[arg(long, default_value_t = 5)]
    pub trials: usize,
    /// Groups smaller than this are not queried.
    #[arg(long, default_value_t = 10)]
    pub min_group: usize,
    /// LSH Jaccard threshold of the neighbourhood index.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
}

/// `generate lfr`.
pub fn run_generate(
    command: GenerateCommand,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let GenerateCommand::Lfr(args) = command;
    let params = args.params();
    let started = Instant::now();
    let graph = lfr::generate_watched(&params, job).map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let edges_path = args.out.join("edges.txt");
    let labels_path = args.out.join("labels.txt");
    let mut edges =
        std::fs::File::create(&edges_path).with_context(|| edges_path.display().to_string())?;
    let mut labels =
        std::fs::File::create(&labels_path).with_context(|| labels_path.display().to_string())?;
    lfr::write_edge_list(&graph, &mut edges, &mut labels)?;
    writeln!(
        out,
        "{} nodes, {} edges, {} communities, mixing {:.3} in {:.1} s: {} and {}",
        graph.membership.len(),
        graph.edges.len(),
        graph.communities,
        lfr::realised_mixing(&graph),
        started.elapsed().as_secs_f64(),
        edges_path.display(),
        labels_path.display()
    )?;
    Ok(())
}

/// `eval communities`: Leiden on a text graph against its known groups, as JSON.
pub fn run_eval_communities(args: EvalCommunitiesArgs, out: &mut (dyn Write + Send)) -> Result<()> {
    let read = read_edge_list(&args.graph.edges, Some(&args.graph.truth))?;
    let adjacency = read.graph.adjacency();
    let truth = read.truth.unwrap_or_default();
    let options = LeidenOptions {
        resolution: args.resolution,
        seed: args.graph.seed,
        refine: !args.louvain,
        max_passes: args.passes,
    };
    let (_, evaluation) = evaluate_partition(&adjacency, &truth, &options);
    let mut value = serde_json::to_value(&evaluation)?;
    value["method"] = json!(if args.louvain {
        "lakebook-louvain"
    } else {
        "lakebook-leiden"
    });
    value["notes"] = json!(read.report.notes());
    writeln!(out, "{}", serde_json::to_string(&value)?)?;
    Ok(())
}

/// `eval seeded`: seeded queries on a text graph against its known groups, as JSON.
pub fn run_eval_seeded(
    args: EvalSeededArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let read = read_edge_list(&args.graph.edges, Some(&args.graph.truth))?;
    let adjacency = read.graph.adjacency();
    let truth = read.truth.unwrap_or_default();
    let index = NeighbourhoodIndex::build(&adjacency, args.threshold, job)?;
    let evaluation = evaluate_seeded(
        &adjacency,
        &index,
        &truth,
        args.seeds,
        args.trials,
        args.min_group,
        args.graph.seed,
    );
    // The same questions answered the slow way: Leiden on the whole graph,
    // then the community holding most seeds.
    let started = Instant::now();
    let partition = leiden(&adjacency, &LeidenOptions::default());
    let leiden_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut value = serde_json::to_value(&evaluation)?;
    value["whole_graph_leiden_ms"] = json!(leiden_ms);
    value["leiden_community_f1"] = json!(best_community_f1(
        &partition.membership,
        &truth,
        args.min_group
    ));
    writeln!(out, "{}", serde_json::to_string(&value)?)?;
    Ok(())
}
