//! Graph cells: a graph built from the lake, or the stored one reopened when
//! nothing it was built from has changed.

use std::sync::Arc;

use async_trait::async_trait;

use crate::graph::sources::{DEFAULT_MAX_GROUP, NodeTable, lake_tables};
use crate::graph::store::StoredGraph;
use crate::graph::{GraphData, GraphOutput, GraphRecipe, build_graph, load_graph, save_graph};
use crate::job::Job;
use crate::lake::Lake;
use crate::notebook::file::Cell;
use crate::notebook::kind::{CellKind, run_of, table};
use crate::notebook::output::{CellError, CellOutput, CellRun};
use crate::notebook::run::RunContext;

/// Builds a graph from the lake (or reopens the stored one when nothing it
/// was built from has changed).
pub struct GraphCell;

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

/// Whether the stored graph was built by `recipe` from the datasets as they
/// are now. A lake graph read every table, so it is current only while the
/// lake holds exactly those tables at those versions; a SQL graph's inputs
/// are whatever its query reads, so it is always rebuilt.
fn is_current(stored: &StoredGraph, recipe: &GraphRecipe, lake: &Lake) -> bool {
    if stored.record.recipe != *recipe {
        return false;
    }
    match recipe {
        GraphRecipe::Sql { .. } => false,
        GraphRecipe::Lake => lake_tables(lake).is_ok_and(|now| now == stored.record.read),
        _ => stored
            .record
            .read
            .iter()
            .all(|(name, version)| lake.entry(name).is_ok_and(|e| e.version == *version)),
    }
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
        // Only the save holds the shared handle's write lock.
        let lake = ctx.lake_copy().await;
        let existing = load_graph(&lake, &name).await.ok();
        let (stored, changed) = match existing {
            Some(s) if !cell.flag("rebuild") && is_current(&s, &recipe, &lake) => (s, Vec::new()),
            _ => {
                let built = build_graph(&lake, &recipe, job)
                    .await
                    .map_err(CellError::new)?;
                let record = {
                    let mut shared = ctx.lake.write().await;
                    save_graph(&mut shared, &name, &recipe, &built)
                        .await
                        .map_err(CellError::new)?
                };
                let changed = vec![record.nodes_dataset.clone(), record.edges_dataset.clone()];
                let lake = ctx.lake_copy().await;
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
