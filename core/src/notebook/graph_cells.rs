//! The graph and cluster cell kinds: Graph (build a graph from the lake, or
//! reopen the stored one), Communities (the whole graph with Leiden, or the
//! community around seeds with MinHash LSH) and Clusters (subpopulations of a
//! dataset, described).

use std::sync::Arc;

use async_trait::async_trait;

use super::cells::{CellKind, run_of, table};
use super::file::Cell;
use super::run::{CellError, CellOutput, CellRun, RunContext};
use crate::cluster::{ClusterRequest, KChoice, cluster_dataset};
use crate::graph::communities::seeds_by_id;
use crate::graph::leiden::{LeidenOptions, leiden_with_job};
use crate::graph::output::SeededView;
use crate::graph::seeded::{DEFAULT_THRESHOLD, NeighbourhoodIndex, SeededOptions};
use crate::graph::sources::{DEFAULT_MAX_GROUP, NodeTable};
use crate::graph::store::{CommunityRun, StoredGraph, save_node_state};
use crate::graph::{GraphData, GraphOutput, GraphRecipe, build_graph, load_graph, save_graph};
use crate::job::Job;
use crate::lake::Lake;

/// Builds a graph from the lake (or reopens the stored one when nothing it
/// was built from has changed).
pub(super) struct GraphCell;

/// The recipe a Graph cell's parameters describe.
fn recipe_of(cell: &Cell) -> Result<GraphRecipe, CellError> {
    let text = |k: &str| cell.text(k).trim().to_string();
    let optional = |k: &str| Some(text(k)).filter(|v| !v.is_empty());
    let need = |k: &str, what: &str| {
        optional(k).ok_or_else(|| CellError::new(format!("choose {what} ({k})")))
    };
    Ok(match cell.text("from").trim() {
        "" | "edges" => GraphRecipe::Edges {
            dataset: need("dataset", "the edge table")?,
            source: need("source", "the source column")?,
            target: need("target", "the target column")?,
            weight: optional("weight"),
            nodes: optional("nodes").map(|dataset| NodeTable {
                dataset,
                id: optional("node_id").unwrap_or_else(|| "id".to_string()),
                label: optional("node_label"),
            }),
        },
        "sql" => GraphRecipe::Sql {
            query: need("query", "the edge query")?,
            source: need("source", "the source column")?,
            target: need("target", "the target column")?,
            weight: optional("weight"),
        },
        "cooccur" => GraphRecipe::CoOccurrence {
            dataset: need("dataset", "the table")?,
            group: need("group", "the group column")?,
            item: need("item", "the item column")?,
            max_group: cell
                .int("max_group")
                .map_or(DEFAULT_MAX_GROUP, |v| v.max(2) as usize),
        },
        "knn" => GraphRecipe::Knn {
            dataset: need("dataset", "an embedded dataset")?,
            k: cell.int("k").map_or(10, |v| v.clamp(1, 100) as usize),
            label: optional("label"),
        },
        "lake" => GraphRecipe::Lake,
        other => {
            return Err(CellError::new(format!(
                "unknown graph source '{other}': use edges, sql, cooccur, knn or lake"
            )));
        }
    })
}

/// Whether the stored graph was built by `recipe` from the datasets as they are now.
fn is_current(stored: &StoredGraph, recipe: &GraphRecipe, lake: &Lake) -> bool {
    stored.record.recipe == *recipe
        && !matches!(recipe, GraphRecipe::Sql { .. } | GraphRecipe::Lake)
        && stored
            .record
            .read
            .iter()
            .all(|(name, version)| lake.entry(name).is_ok_and(|e| e.version == *version))
}

#[async_trait]
impl CellKind for GraphCell {
    fn name(&self) -> &'static str {
        "graph"
    }
    fn label(&self) -> &'static str {
        "Graph"
    }
    fn default_params(&self) -> toml::Table {
        table(&[
            ("name", "".into()),
            ("from", "edges".into()),
            ("dataset", "".into()),
            ("source", "".into()),
            ("target", "".into()),
        ])
    }
    async fn run(
        &self,
        cell: &Cell,
        ctx: &RunContext<'_>,
        job: &Job,
    ) -> Result<CellRun, CellError> {
        let name = cell.text("name").trim().to_string();
        if name.is_empty() {
            return Err(CellError::new("name the graph"));
        }
        crate::graph::store::check_name(&name).map_err(CellError::new)?;
        let recipe = recipe_of(cell)?;
        let mut lake = ctx.lake.write().await;
        let existing = load_graph(&lake, &name).await.ok();
        let (stored, changed) = match existing {
            Some(s) if !cell.flag("rebuild") && is_current(&s, &recipe, &lake) => (s, Vec::new()),
            _ => {
                let built = build_graph(&lake, &recipe, job)
                    .await
                    .map_err(CellError::new)?;
                let record = save_graph(&mut lake, &name, &recipe, &built)
                    .await
                    .map_err(CellError::new)?;
                let changed = vec![record.nodes_dataset.clone(), record.edges_dataset.clone()];
                let stored = load_graph(&lake, &name).await.map_err(CellError::new)?;
                (stored, changed)
            }
        };
        let data = Arc::new(GraphData::from_stored(&stored));
        let mut run = run_of(CellOutput::Graph(Box::new(GraphOutput::new(&stored, data))));
        run.read = stored.record.read.clone();
        run.changed = changed;
        Ok(run)
    }
}

/// Communities of a stored graph: the whole graph, or around seeds.
pub(super) struct CommunitiesCell;

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
        let mut lake = ctx.lake.write().await;
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
            .ok_or_else(|| CellError::new("cancelled"))?;
            let run = CommunityRun::finished(&options, &partition);
            stored.record =
                save_node_state(&mut lake, &stored, Some((&partition.membership, run)), None)
                    .await
                    .map_err(CellError::new)?;
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

/// Subpopulations of a dataset: clusters of its rows, described.
pub(super) struct ClusterCell;

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
        let lake = ctx.lake.read().await;
        let report = cluster_dataset(&lake, &request, job)
            .await
            .map_err(CellError::new)?;
        let mut run = run_of(CellOutput::Cluster(Box::new(report.clone())));
        run.read.insert(dataset, report.version);
        Ok(run)
    }
}
