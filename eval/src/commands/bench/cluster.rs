//! `bench kmeans`, `bench hdbscan` and `bench umap`: the clustering engine on
//! raw vectors, timed with reading excluded, for bench/cluster.py. Each
//! prints one JSON object; the planted labels, when given, add ARI and NMI,
//! and the labels or coordinates found can be written out so the script
//! scores every method the same way.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use lakebook_core::cluster::hdbscan::{HdbscanOptions, hdbscan};
use lakebook_core::cluster::kmeans::{KMeansOptions, kmeans};
use lakebook_core::cluster::matrix::Matrix;
use lakebook_core::cluster::umap::UmapOptions;
use lakebook_core::cluster::{KChoice, Projection, project_2d};
use lakebook_core::graph::quality::{ari, nmi};
use serde_json::{Value, json};

/// The vectors a clustering benchmark reads, and where its answer goes.
#[derive(Debug, Args)]
pub struct BenchVectors {
    /// Raw little-endian f32 vectors, row after row.
    #[arg(long)]
    pub vectors: PathBuf,
    /// Rows in the file.
    #[arg(long)]
    pub rows: usize,
    /// Values per row.
    #[arg(long)]
    pub dims: usize,
    /// Planted labels, one integer per row (whitespace-separated): adds ARI and NMI.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Write each row's cluster here, one per line (-1: noise).
    #[arg(long)]
    pub labels_out: Option<PathBuf>,
}

impl BenchVectors {
    /// The vectors as a matrix, checked against `--rows` and `--dims`.
    fn read(&self) -> Result<Matrix> {
        let path = &self.vectors;
        let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
        let expected = self.rows * self.dims * 4;
        if bytes.len() != expected {
            bail!(
                "{}: {} bytes, but {} rows × {} dims of f32 need {expected}",
                path.display(),
                bytes.len(),
                self.rows,
                self.dims
            );
        }
        let data: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Matrix::new(self.rows, self.dims, data)
            .with_context(|| format!("the vectors do not fill {} rows", self.rows))
    }

    /// Adds ARI and NMI against `--labels` to `value` (noise, -1, counts as
    /// one more cluster) and writes `--labels-out`.
    fn finish(&self, labels: &[i32], value: &mut Value) -> Result<()> {
        if let Some(path) = &self.labels {
            let truth = read_labels(path)?;
            if truth.len() != labels.len() {
                bail!(
                    "{}: {} labels for {} rows",
                    path.display(),
                    truth.len(),
                    labels.len()
                );
            }
            let noise = labels.iter().copied().max().unwrap_or(0).max(0) + 1;
            let found: Vec<u32> = labels
                .iter()
                .map(|&l| if l < 0 { noise } else { l } as u32)
                .collect();
            value["ari"] = json!(ari(&found, &truth));
            value["nmi"] = json!(nmi(&found, &truth));
        }
        if let Some(path) = &self.labels_out {
            let text: String = labels.iter().map(|l| format!("{l}\n")).collect();
            std::fs::write(path, text).with_context(|| path.display().to_string())?;
        }
        Ok(())
    }
}

/// Whitespace-separated non-negative integers.
fn read_labels(path: &Path) -> Result<Vec<u32>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    text.split_whitespace()
        .map(|t| t.parse::<u32>())
        .collect::<Result<_, _>>()
        .with_context(|| path.display().to_string())
}

/// Arguments of `bench kmeans`.
#[derive(Debug, Args)]
pub struct BenchKmeansArgs {
    #[command(flatten)]
    pub input: BenchVectors,
    /// Clusters.
    #[arg(long)]
    pub k: usize,
    /// Most Lloyd iterations (with --mini-batch: most passes over the data).
    #[arg(long, default_value_t = 300)]
    pub max_iter: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Mini-batch size (default: full Lloyd iterations).
    #[arg(long)]
    pub mini_batch: Option<usize>,
}

/// `bench kmeans`: seconds, inertia, iterations, k (and ARI, NMI).
pub fn run_kmeans(args: BenchKmeansArgs, out: &mut (dyn Write + Send)) -> Result<()> {
    let matrix = args.input.read()?;
    let options = KMeansOptions {
        k: KChoice::Fixed(args.k),
        max_iterations: args.max_iter,
        seed: args.seed,
        mini_batch: args.mini_batch,
        ..KMeansOptions::default()
    };
    let started = Instant::now();
    let result = kmeans(&matrix, &options, &|| false)?;
    let seconds = started.elapsed().as_secs_f64();
    let mut value = json!({
        "seconds": seconds,
        "inertia": result.inertia,
        "iterations": result.iterations,
        "k": result.k,
    });
    let labels: Vec<i32> = result.labels.iter().map(|&l| l as i32).collect();
    args.input.finish(&labels, &mut value)?;
    writeln!(out, "{}", serde_json::to_string(&value)?)?;
    Ok(())
}

/// Arguments of `bench hdbscan`.
#[derive(Debug, Args)]
pub struct BenchHdbscanArgs {
    #[command(flatten)]
    pub input: BenchVectors,
    /// Smallest cluster.
    #[arg(long, default_value_t = 15)]
    pub min_cluster_size: usize,
    /// Neighbours that make a point dense (default: --min-cluster-size).
    #[arg(long)]
    pub min_samples: Option<usize>,
}

/// `bench hdbscan`: seconds, clusters, noise (and ARI, NMI).
pub fn run_hdbscan(args: BenchHdbscanArgs, out: &mut (dyn Write + Send)) -> Result<()> {
    let matrix = args.input.read()?;
    let options = HdbscanOptions {
        min_cluster_size: args.min_cluster_size,
        min_samples: args.min_samples,
        ..HdbscanOptions::default()
    };
    let started = Instant::now();
    let result = hdbscan(&matrix, &options, &|| false)?;
    let seconds = started.elapsed().as_secs_f64();
    let noise = result.labels.iter().filter(|l| **l < 0).count();
    let mut value = json!({
        "seconds": seconds,
        "clusters": result.clusters,
        "noise": noise,
    });
    args.input.finish(&result.labels, &mut value)?;
    writeln!(out, "{}", serde_json::to_string(&value)?)?;
    Ok(())
}

/// Arguments of `bench umap`.
#[derive(Debug, Args)]
pub struct BenchUmapArgs {
    #[command(flatten)]
    pub input: BenchVectors,
    /// Neighbours of each point.
    #[arg(long, default_value_t = 15)]
    pub neighbours: usize,
    /// Smallest distance between points in the layout.
    #[arg(long, default_value_t = 0.1)]
    pub min_dist: f32,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the layout here: raw little-endian f32, x then y for each row.
    #[arg(long)]
    pub out: PathBuf,
}

/// `bench umap`: the scatter view's UMAP (a PCA to 50 dimensions first, as
/// in the app); prints the seconds, writes the layout.
pub fn run_umap(args: BenchUmapArgs, out: &mut (dyn Write + Send)) -> Result<()> {
    let matrix = args.input.read()?;
    let options = UmapOptions {
        neighbours: args.neighbours,
        min_dist: args.min_dist,
        seed: args.seed,
        ..UmapOptions::default()
    };
    let started = Instant::now();
    let layout = project_2d(&matrix, Projection::Umap, &options, &|| false)?;
    let seconds = started.elapsed().as_secs_f64();
    let bytes: Vec<u8> = layout
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(&args.out, bytes).with_context(|| args.out.display().to_string())?;
    writeln!(
        out,
        "{}",
        serde_json::to_string(&json!({ "seconds": seconds, "rows": layout.len() }))?
    )?;
    Ok(())
}
