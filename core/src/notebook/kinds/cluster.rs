//! Cluster cells: the subpopulations of a dataset, described.

use async_trait::async_trait;

use crate::cluster::{ClusterRequest, KChoice, cluster_dataset};
use crate::job::Job;
use crate::notebook::file::Cell;
use crate::notebook::kind::{CellKind, run_of, table};
use crate::notebook::output::{CellError, CellOutput, CellRun};
use crate::notebook::run::RunContext;

/// Subpopulations of a dataset: clusters of its rows, described.
pub struct ClusterCell;

#[async_trait]
impl CellKind for ClusterCell {
    fn name(&self) -> &'static str {
        "cluster"
    }
    fn label(&self) -> &'static str {
        "Clusters"
    }
    fn default_params(&self) -> toml::Table {
        table(&[
            ("dataset", "".into()),
            ("by", "".into()),
            ("method", "kmeans".into()),
            ("k", "auto".into()),
            ("projection", "umap".into()),
        ])
    }
    async fn run(
        &self,
        cell: &Cell,
        ctx: &RunContext<'_>,
        job: &Job,
    ) -> Result<CellRun, CellError> {
        let dataset = cell.text("dataset").trim().to_string();
        if dataset.is_empty() {
            return Err(CellError::new("choose a dataset to cluster"));
        }
        let mut request = ClusterRequest::new(&dataset);
        let by = cell.text("by").trim();
        if !by.is_empty() {
            request.by = Some(by.parse().map_err(CellError::new)?);
        }
        let method = cell.text("method").trim();
        if !method.is_empty() {
            request.method = method.parse().map_err(CellError::new)?;
        }
        request.k = match cell.params.get("k") {
            Some(toml::Value::Integer(k)) if *k >= 1 => KChoice::Fixed(*k as usize),
            Some(toml::Value::String(s)) if s.trim().parse::<usize>().is_ok_and(|k| k >= 1) => {
                KChoice::Fixed(s.trim().parse().unwrap_or(1))
            }
            _ => request.k,
        };
        if let Some(size) = cell.int("min_cluster_size").filter(|s| *s >= 2) {
            request.min_cluster_size = size as usize;
        }
        if let Some(seed) = cell.int("seed") {
            request.seed = seed as u64;
        }
        request.projection = cell.text("projection").parse().map_err(CellError::new)?;
        let lake = ctx.lake_copy().await;
        let report = cluster_dataset(&lake, &request, job)
            .await
            .map_err(CellError::new)?;
        let mut run = run_of(CellOutput::Cluster(Box::new(report.clone())));
        run.read.insert(dataset, report.version);
        Ok(run)
    }
}
