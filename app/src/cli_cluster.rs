//! `cluster`: the groups inside a dataset, described in words.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use clap::Args;
use lakebook_core::cluster::{
    ClusterReport, ClusterRequest, FeatureSource, KChoice, Method, cluster_dataset, save_slice,
};
use lakebook_core::render::row_summary;
use lakebook_core::{Job, Lake};

use crate::cli::Format;

/// Arguments of `cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// The dataset.
    pub name: String,
    /// What rows are compared by: embedding, columns or both (default:
    /// the embedding when the dataset has one, else its columns).
    #[arg(long, value_parser = parse_source)]
    pub by: Option<FeatureSource>,
    /// kmeans (k chosen by silhouette unless --k) or hdbscan (density, with noise).
    #[arg(long, default_value = "kmeans", value_parser = parse_method)]
    pub method: Method,
    /// Number of clusters for k-means, or "auto".
    #[arg(long, default_value = "auto", value_parser = parse_k)]
    pub k: KChoice,
    /// Smallest cluster HDBSCAN reports.
    #[arg(long, default_value_t = 15)]
    pub min_cluster_size: usize,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Rows clustered at most.
    #[arg(long, default_value_t = lakebook_core::cluster::DEFAULT_MAX_ROWS)]
    pub max_rows: usize,
    /// Save cluster N's rows as a new dataset (with --as).
    #[arg(long, value_name = "N", requires = "slice_name")]
    pub save: Option<i32>,
    /// Name of the saved slice.
    #[arg(long = "as", value_name = "DATASET")]
    pub slice_name: Option<String>,
    /// Output format (json has every row's cluster and 2-D position).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn parse_source(s: &str) -> Result<FeatureSource, String> {
    s.parse()
}

fn parse_method(s: &str) -> Result<Method, String> {
    s.parse()
}

fn parse_k(s: &str) -> Result<KChoice, String> {
    if s.trim().eq_ignore_ascii_case("auto") {
        return Ok(KChoice::Auto { min: 2, max: 12 });
    }
    match s.trim().parse::<usize>() {
        Ok(k) if k >= 1 => Ok(KChoice::Fixed(k)),
        _ => Err(format!(
            "'{s}' is not a number of clusters (1 or more, or auto)"
        )),
    }
}

/// `cluster NAME`.
pub async fn run_cluster(
    lake_dir: &Path,
    args: ClusterArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let mut lake = Lake::open(lake_dir).await?;
    let mut request = ClusterRequest::new(&args.name);
    request.by = args.by;
    request.method = args.method;
    request.k = args.k;
    request.min_cluster_size = args.min_cluster_size;
    request.seed = args.seed;
    request.max_rows = args.max_rows;
    let report = cluster_dataset(&lake, &request, job).await?;
    if let (Some(cluster), Some(name)) = (args.save, &args.slice_name) {
        let rows = save_slice(&mut lake, &report, cluster, name).await?;
        writeln!(
            out,
            "cluster {cluster}: {rows} rows saved as dataset {name}"
        )?;
        return Ok(());
    }
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Csv => {
            writeln!(out, "cluster,label,size,share,attributes")?;
            for s in &report.subpopulations {
                let attributes: Vec<&str> = s.attributes.iter().map(|a| a.text.as_str()).collect();
                writeln!(
                    out,
                    "{},\"{}\",{},{:.4},\"{}\"",
                    s.id,
                    s.label.replace('"', "\"\""),
                    s.size,
                    s.share,
                    attributes.join("; ").replace('"', "\"\"")
                )?;
            }
        }
        Format::Table => write_report(&report, out)?,
    }
    Ok(())
}

/// The report for people: each cluster with its label, size, attributes and central rows.
pub(crate) fn write_report(report: &ClusterReport, out: &mut (dyn Write + Send)) -> Result<()> {
    writeln!(
        out,
        "{} rows of {} (version {}) by {:?}, {:?}: {} clusters in {:.2} s",
        report.rows,
        report.dataset,
        report.version,
        report.by,
        report.method,
        report.clusters,
        report.seconds
    )?;
    if !report.silhouettes.is_empty() {
        let tried: Vec<String> = report
            .silhouettes
            .iter()
            .map(|(k, s)| format!("{k}: {s:.3}"))
            .collect();
        writeln!(out, "silhouette by k: {}", tried.join(", "))?;
    }
    for note in &report.notes {
        writeln!(out, "  note: {note}")?;
    }
    let shown = report.rows_shown.as_ref();
    for s in &report.subpopulations {
        writeln!(out)?;
        writeln!(
            out,
            "#{:<3} {}  ({} rows, {:.1}%)",
            s.id,
            s.label,
            s.size,
            s.share * 100.0
        )?;
        for a in &s.attributes {
            writeln!(out, "      {}", a.text)?;
        }
        if let Some(rows) = shown {
            for r in &s.central {
                writeln!(out, "      · {}", row_text(rows, *r))?;
            }
        }
    }
    if !report.dimensions.is_empty() {
        writeln!(out)?;
        writeln!(out, "by dimension:")?;
        for d in &report.dimensions {
            let values: Vec<String> = d
                .values
                .iter()
                .map(|(v, ids)| {
                    let ids: Vec<String> = ids.iter().map(|i| format!("#{i}")).collect();
                    format!("{v} → {}", ids.join(" "))
                })
                .collect();
            writeln!(out, "  {}: {}", d.name, values.join("; "))?;
        }
    }
    Ok(())
}

/// One row in a line.
fn row_text(rows: &arrow::array::RecordBatch, r: usize) -> String {
    row_summary(rows, r, 60)
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Arguments of `bench kmeans`.
#[derive(Debug, Args)]
pub struct BenchKmeansArgs {
    /// Raw little-endian f32 vectors, row after row.
    #[arg(long)]
    pub vectors: std::path::PathBuf,
    /// Rows in the file.
    #[arg(long)]
    pub rows: usize,
    /// Values per row.
    #[arg(long)]
    pub dims: usize,
    /// Clusters.
    #[arg(long)]
    pub k: usize,
    /// Most Lloyd iterations.
    #[arg(long, default_value_t = 300)]
    pub max_iter: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Mini-batch size (default: full Lloyd iterations).
    #[arg(long)]
    pub mini_batch: Option<usize>,
    /// Planted labels, one integer per row (whitespace-separated): adds ARI and NMI.
    #[arg(long)]
    pub labels: Option<std::path::PathBuf>,
}

/// `bench kmeans`: k-means on raw vectors, timed (reading excluded); JSON out.
pub fn run_bench_kmeans(args: BenchKmeansArgs, out: &mut (dyn Write + Send)) -> Result<()> {
    use lakebook_core::cluster::kmeans::{KMeansOptions, kmeans};
    use lakebook_core::cluster::matrix::Matrix;
    let bytes = std::fs::read(&args.vectors)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.vectors.display()))?;
    let expected = args.rows * args.dims * 4;
    if bytes.len() != expected {
        anyhow::bail!(
            "{}: {} bytes, but {} rows × {} dims of f32 need {expected}",
            args.vectors.display(),
            bytes.len(),
            args.rows,
            args.dims
        );
    }
    let data: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let matrix = Matrix::new(args.rows, args.dims, data)
        .ok_or_else(|| anyhow::anyhow!("the vectors do not fill {} rows", args.rows))?;
    let options = KMeansOptions {
        k: KChoice::Fixed(args.k),
        max_iterations: args.max_iter,
        seed: args.seed,
        mini_batch: args.mini_batch,
        ..KMeansOptions::default()
    };
    let started = std::time::Instant::now();
    let result = kmeans(&matrix, &options, &|| false)?;
    let seconds = started.elapsed().as_secs_f64();
    let mut value = serde_json::json!({
        "seconds": seconds,
        "inertia": result.inertia,
        "iterations": result.iterations,
        "k": result.k,
    });
    if let Some(path) = &args.labels {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let truth: Vec<u32> = text
            .split_whitespace()
            .map(|t| t.parse::<u32>())
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        use lakebook_core::graph::quality::{ari, nmi};
        value["ari"] = serde_json::json!(ari(&result.labels, &truth));
        value["nmi"] = serde_json::json!(nmi(&result.labels, &truth));
    }
    writeln!(out, "{}", serde_json::to_string(&value)?)?;
    Ok(())
}
