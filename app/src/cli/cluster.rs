//! `cluster`: the groups inside a dataset, described in words.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use clap::Args;
use lakebook_core::cluster::{
    ClusterRequest, FeatureSource, KChoice, Method, Projection, cluster_dataset, save_slice,
};
use lakebook_core::{Job, Lake};

use super::output::{Format, print_cluster_report};

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
    /// How rows are placed in 2-D (json's "projection"): umap or pca (faster).
    #[arg(long, default_value = "umap", value_parser = parse_projection)]
    pub projection: Projection,
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

fn parse_projection(s: &str) -> Result<Projection, String> {
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
    request.projection = args.projection;
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
        Format::Table => print_cluster_report(&report, out)?,
    }
    Ok(())
}
