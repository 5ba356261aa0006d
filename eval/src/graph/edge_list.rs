//! Plain-text graphs as SNAP and the LFR generator write them: one `a b`
//! edge per line (optionally a third column, the weight) and a labels file of
//! `node group` lines, for evaluation and benchmarks outside the lake.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use lakebook_core::graph::GraphError;
use lakebook_core::graph::model::{BuildReport, EdgeMerge, GraphBuilder, LakeGraph};

/// A graph read from text files, with the known group of each node when a
/// labels file was given.
#[derive(Debug)]
pub struct EdgeListGraph {
    /// The graph (repeated edges merged as in a simple graph: first weight kept).
    pub graph: LakeGraph,
    /// What was skipped or merged.
    pub report: BuildReport,
    /// Group of each node; nodes the labels file does not name get a group of their own.
    pub truth: Option<Vec<u32>>,
}

/// Splits a data line into fields (spaces, tabs or commas); `None` for blank
/// lines and `#` or `%` comments.
fn fields(line: &str) -> Option<Vec<&str>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with('%') {
        return None;
    }
    Some(
        line.split(|c: char| c.is_whitespace() || c == ',')
            .filter(|f| !f.is_empty())
            .collect(),
    )
}

fn open(path: &Path) -> Result<BufReader<File>, GraphError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|source| GraphError::Io {
            path: path.display().to_string(),
            source,
        })
}

fn line_error(path: &Path, line: usize, reason: impl std::fmt::Display) -> GraphError {
    GraphError::Input {
        message: format!("{}:{line}: {reason}", path.display()),
    }
}

/// Reads `edges` (and `labels`): labelled nodes come first, in the labels
/// file's order, so isolated labelled nodes are kept.
pub fn read_edge_list(edges: &Path, labels: Option<&Path>) -> Result<EdgeListGraph, GraphError> {
    let mut builder = GraphBuilder::new(EdgeMerge::First);
    let mut groups: HashMap<String, u32> = HashMap::new();
    let mut label_of: Vec<Option<u32>> = Vec::new();
    if let Some(path) = labels {
        for (i, line) in open(path)?.lines().enumerate() {
            let line = line.map_err(|e| line_error(path, i + 1, e))?;
            let Some(f) = fields(&line) else { continue };
            let [node, group, ..] = f.as_slice() else {
                return Err(line_error(path, i + 1, "expected `node group`"));
            };
            let next = groups.len() as u32;
            let group = *groups.entry((*group).to_string()).or_insert(next);
            let v = builder.add_node(node, None) as usize;
            if label_of.len() <= v {
                label_of.resize(v + 1, None);
            }
            label_of[v] = Some(group);
        }
    }
    for (i, line) in open(edges)?.lines().enumerate() {
        let line = line.map_err(|e| line_error(edges, i + 1, e))?;
        let Some(f) = fields(&line) else { continue };
        let weight = match f.get(2) {
            None => 1.0,
            Some(w) => w
                .parse::<f64>()
                .map_err(|_| line_error(edges, i + 1, format!("weight '{w}' is not a number")))?,
        };
        let [a, b, ..] = f.as_slice() else {
            return Err(line_error(
                edges,
                i + 1,
                "expected `source target [weight]`",
            ));
        };
        builder.add_edge(Some(a), Some(b), Some(weight));
    }
    let (graph, report) = builder.finish();
    let truth = labels.map(|_| {
        let distinct = groups.len() as u32;
        (0..graph.node_count())
            .map(|v| {
                label_of
                    .get(v)
                    .copied()
                    .flatten()
                    .unwrap_or(distinct + v as u32)
            })
            .collect()
    });
    Ok(EdgeListGraph {
        graph,
        report,
        truth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_edges_labels_comments_and_reports_line_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let edges = dir.path().join("edges.txt");
        let labels = dir.path().join("labels.txt");
        std::fs::write(&edges, "# comment\n0 1\n1 0\n1\t2 2.5\n\n2,2\n").expect("write");
        std::fs::write(&labels, "0 a\n1 a\n2 b\n9 b\n").expect("write");
        let g = read_edge_list(&edges, Some(&labels)).expect("read");
        assert_eq!(g.graph.node_count(), 4);
        assert_eq!(g.graph.edge_count(), 2);
        assert_eq!(g.truth, Some(vec![0, 0, 1, 1]));
        assert_eq!((g.report.duplicate_edges, g.report.self_loops), (1, 1));
        assert_eq!(g.report.isolated_nodes, 1);
        std::fs::write(&edges, "0 1\n0 x y\n").expect("write");
        let err = read_edge_list(&edges, None).expect_err("bad weight");
        assert!(err.to_string().contains("edges.txt:2"), "{err}");
        std::fs::write(&edges, "lonely\n").expect("write");
        assert!(read_edge_list(&edges, None).is_err());
    }
}
