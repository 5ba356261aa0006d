//! `bench`: speed and quality benchmarks that print JSON (or a table) for
//! the scripts under `bench/`. The window's frame benchmarks are in the
//! `lakebook` program itself.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Subcommand;
use lakebook_core::Job;

pub mod cluster;
pub mod graph;
pub mod related;
pub mod search;

/// `bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time the model on a file of texts: texts/s and tokens/s.
    ///
    /// FILE holds one text per line: a JSON string, or plain text. Used by
    /// bench/embed_speed.py.
    Embed {
        /// The texts.
        file: PathBuf,
        /// Model folder.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Embed at most this many texts.
        #[arg(long)]
        limit: Option<usize>,
        /// Write the vectors here as raw little-endian f32, one text after another.
        #[arg(long)]
        vectors: Option<PathBuf>,
    },
    /// Time semantic search of an embedded dataset, and its recall@k against exact search.
    ///
    /// QUERIES holds one query per line (JSON string or plain text). Used by
    /// bench/search_speed.py.
    Search {
        /// Dataset name.
        name: String,
        /// The queries.
        queries: PathBuf,
        /// Hits per query.
        #[arg(short = 'k', long = "k", default_value_t = 10)]
        k: usize,
        /// Model folder.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Lake-wide discovery of related tables on a synthetic lake of table
    /// sketches: index build time, query latency of LSH against scoring every
    /// table, and recall of planted joinable and unionable partners.
    Related(related::RelatedBenchArgs),
    /// k-means on raw f32 vectors (bench/cluster.py): seconds, inertia,
    /// iterations (and ARI, NMI) as JSON.
    Kmeans(cluster::BenchKmeansArgs),
    /// HDBSCAN on raw f32 vectors (bench/cluster.py): seconds, clusters,
    /// noise (and ARI, NMI) as JSON.
    Hdbscan(cluster::BenchHdbscanArgs),
    /// The scatter view's UMAP on raw f32 vectors (bench/cluster.py):
    /// seconds as JSON, the layout to a file.
    Umap(cluster::BenchUmapArgs),
    /// Seeded-community query latency (MinHash LSH) on a generated LFR graph,
    /// 1M nodes / 10M edges by default: index build, p50/p95 per query, recall.
    Graph(graph::BenchGraphArgs),
}

/// Runs a benchmark command.
pub async fn run_bench(
    lake_dir: &Path,
    command: BenchCommand,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    match command {
        BenchCommand::Embed {
            file,
            model,
            limit,
            vectors,
        } => search::run_embed_bench(&file, model.as_deref(), limit, vectors.as_deref(), out),
        BenchCommand::Search {
            name,
            queries,
            k,
            model,
        } => search::run_search_bench(lake_dir, &name, &queries, k, model.as_deref(), out).await,
        BenchCommand::Related(args) => related::run(args, out),
        BenchCommand::Kmeans(args) => cluster::run_kmeans(args, out),
        BenchCommand::Hdbscan(args) => cluster::run_hdbscan(args, out),
        BenchCommand::Umap(args) => cluster::run_umap(args, out),
        BenchCommand::Graph(args) => graph::run_bench_graph(args, out, &Job::new()),
    }
}
