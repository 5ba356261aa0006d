//! What a graph is built from ([`GraphRecipe`], stored with the graph so it
//! can be rebuilt) and what building gives ([`BuiltGraph`]). A leaf module:
//! `sources` builds from a recipe, `store` keeps it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{BuildReport, LakeGraph};

/// How a graph is built; stored with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum GraphRecipe {
    /// One edge per row of a dataset.
    Edges {
        /// The edge table.
        dataset: String,
        /// Column of the first end.
        source: String,
        /// Column of the second end.
        target: String,
        /// Column of the weight (1 per row when absent).
        weight: Option<String>,
        /// A table of the nodes (every id becomes a node, with its label;
        /// edges to ids it lacks are skipped and counted).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nodes: Option<NodeTable>,
    },
    /// One edge per row of a SQL result.
    Sql {
        /// The query.
        query: String,
        /// Column of the first end.
        source: String,
        /// Column of the second end.
        target: String,
        /// Column of the weight.
        weight: Option<String>,
    },
    /// Items linked when they appear in the same group (authors of the same
    /// paper); the weight counts the groups they share.
    CoOccurrence {
        /// The table of (group, item) rows.
        dataset: String,
        /// The column whose equal values form a group.
        group: String,
        /// The column whose values become nodes.
        item: String,
        /// Larger groups are skipped (and counted).
        max_group: usize,
    },
    /// Each row linked to its `k` most similar rows by embedding (cosine).
    Knn {
        /// An embedded dataset.
        dataset: String,
        /// Neighbours per row.
        k: usize,
        /// Column used as the node label (the first text column when absent).
        label: Option<String>,
    },
    /// The lake itself: datasets and their columns, columns linked to the
    /// columns of related tables they join or union with.
    Lake,
}

/// A table listing a graph's nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeTable {
    /// The dataset.
    pub dataset: String,
    /// Its id column (the values the edges name).
    pub id: String,
    /// Its label column (the id when absent).
    pub label: Option<String>,
}

impl GraphRecipe {
    /// A one-line description for lists and reports.
    pub fn describe(&self) -> String {
        match self {
            GraphRecipe::Edges {
                dataset,
                source,
                target,
                weight,
                nodes,
            } => format!(
                "edges {dataset}.{source} – {target}{}{}",
                weight
                    .as_ref()
                    .map(|w| format!(" weighted by {w}"))
                    .unwrap_or_default(),
                nodes
                    .as_ref()
                    .map(|n| format!(", nodes from {}.{}", n.dataset, n.id))
                    .unwrap_or_default()
            ),
            GraphRecipe::Sql { source, target, .. } => format!("SQL edges {source} – {target}"),
            GraphRecipe::CoOccurrence {
                dataset,
                group,
                item,
                ..
            } => format!("{item} co-occurring in the same {group} of {dataset}"),
            GraphRecipe::Knn { dataset, k, .. } => format!("{k} nearest neighbours in {dataset}"),
            GraphRecipe::Lake => "tables and columns of the lake".to_string(),
        }
    }

    /// The dataset the nodes' rows come from, when nodes are values of one.
    pub fn node_dataset(&self) -> Option<(&str, Vec<&str>)> {
        match self {
            GraphRecipe::Edges {
                nodes: Some(table), ..
            } => Some((&table.dataset, vec![table.id.as_str()])),
            GraphRecipe::Edges {
                dataset,
                source,
                target,
                ..
            } => Some((dataset, vec![source.as_str(), target.as_str()])),
            GraphRecipe::CoOccurrence { dataset, item, .. } => Some((dataset, vec![item.as_str()])),
            _ => None,
        }
    }
}

/// A built graph, what was cleaned up, and the dataset versions it read.
#[derive(Debug)]
pub struct BuiltGraph {
    /// The graph.
    pub graph: LakeGraph,
    /// Counts of skipped and merged input.
    pub report: BuildReport,
    /// Dataset versions read.
    pub read: BTreeMap<String, u64>,
}
