//! Communities cells: the whole graph with Leiden, or the community around
//! seeds with MinHash LSH.

use std::sync::Arc;

use async_trait::async_trait;

use crate::graph::communities::seeds_by_id;
use crate::graph::leiden::{LeidenOptions, leiden_with_job};
use crate::graph::output::SeededView;
use crate::graph::seeded::{DEFAULT_THRESHOLD, NeighbourhoodIndex, SeededOptions};
use crate::graph::store::{CommunityRun, save_node_state};
use crate::graph::{GraphData, GraphOutput, load_graph};
use crate::job::Job;
use crate::notebook::file::Cell;
use crate::notebook::kind::{CellKind, run_of, table};
use crate::notebook::output::{CellError, CellOutput, CellRun};
use crate::notebook::run::RunContext;

/// Communities of a stored graph: the whole graph, or around seeds.
pub struct CommunitiesCell;

/// Seeds from a cell: a list of strings, or one comma-separated string.
pub fn seed_list(cell: &Cell) -> Vec<String> {
    match cell.params.get("seeds") {
        Some(toml::Value::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                toml::Value::String(s) => Some(s.clone()),
                toml::Value::Integer(i) => Some(i.to_string()),
                _ => None,
            })
            .filter(|s| !s.trim().is_empty())
            .collect(),
        Some(toml::Value::String(s)) => s
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

#[async_trait]
impl CellKind for CommunitiesCell {
    fn name(&self) -> &'static str {
        "communities"
    }
    fn label(&self) -> &'static str {
        "Communities"
    }
    fn default_params(&self) -> toml::Table {
        table(&[
            ("graph", "".into()),
            ("seeds", toml::Value::Array(Vec::new())),
            ("resolution", 1.0.into()),
            ("passes", 0.into()),
        ])
    }
    async fn run(
        &self,
        cell: &Cell,
        ctx: &RunContext<'_>,
        job: &Job,
    ) -> Result<CellRun, CellError> {
        let name = cell.text("graph").trim().to_string();
        if name.is_empty() {
            return Err(CellError::new("choose a graph"));
        }
        // Only the save of new communities holds the shared handle's write lock.
        let lake = ctx.lake_copy().await;
        let mut stored = load_graph(&lake, &name).await.map_err(CellError::new)?;
        let data = Arc::new(GraphData::from_stored(&stored));
        let seeds = seed_list(cell);
        let mut changed = Vec::new();
        let resolution = cell
            .float("resolution")
            .filter(|r| r.is_finite() && *r > 0.0)
            .unwrap_or(1.0);
        let options = LeidenOptions {
            resolution,
            seed: cell.int("seed").map_or(42, i64::unsigned_abs),
            max_passes: cell.int("passes").map_or(0, |p| p.max(0) as usize),
            ..LeidenOptions::default()
        };
        let stale = stored
            .record
            .communities
            .as_ref()
            .is_none_or(|run| !run.matches(&options));
        if stale || stored.communities.is_none() {
            let (shared, leiden_job) = (data.clone(), job.clone());
            let partition = tokio::task::spawn_blocking(move || {
                leiden_with_job(&shared.adjacency, &options, &leiden_job)
            })
            .await
            .map_err(|e| CellError::new(format!("community detection failed: {e}")))?
            .ok_or_else(CellError::cancelled)?;
            let run = CommunityRun::finished(&options, &partition);
            let mut shared = ctx.lake.write().await;
            stored.record = save_node_state(
                &mut shared,
                &stored,
                Some((&partition.membership, run)),
                None,
            )
            .await
            .map_err(CellError::new)?;
            drop(shared);
            stored.communities = Some(partition.membership);
            changed.push(stored.record.nodes_dataset.clone());
        }
        let mut output = GraphOutput::new(&stored, data.clone());
        if !seeds.is_empty() {
            let seed_nodes = seeds_by_id(&data.graph, &seeds).map_err(CellError::new)?;
            let (shared, job) = (data.clone(), job.clone());
            let key = (name.clone(), stored.record.built);
            let index = ctx
                .seeded_index
                .get_or_build(key, || async move {
                    tokio::task::spawn_blocking(move || {
                        NeighbourhoodIndex::build(&shared.adjacency, DEFAULT_THRESHOLD, &job)
                    })
                    .await
                    .map_err(|e| CellError::new(format!("indexing the graph failed: {e}")))?
                    .map_err(CellError::new)
                })
                .await?;
            let size = cell.int("size").filter(|s| *s > 0).map(|s| s as usize);
            let community = index
                .query(
                    &data.adjacency,
                    &seed_nodes,
                    &SeededOptions {
                        size,
                        ..SeededOptions::default()
                    },
                )
                .map_err(CellError::new)?;
            output.seeded = Some(SeededView {
                seeds,
                seed_nodes,
                community,
            });
        }
        let mut run = run_of(CellOutput::Graph(Box::new(output)));
        run.read = stored.record.read.clone();
        run.changed = changed;
        Ok(run)
    }
}
