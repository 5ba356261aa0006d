//! Graphs kept in the lake: two Lance datasets, `NAME_nodes` (node, id,
//! label, degree, community, x, y) and `NAME_edges` (source, target, their
//! ids, weight), which SQL sees like any table, and a description in
//! `.lakebook/graphs/NAME.json` (how the graph was built, from which dataset
//! versions, what building cleaned up, the last community run).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float32Array, Int64Array, RecordBatch, StringArray, UInt32Array,
};
use arrow::datatypes::{DataType, Field, Float32Type, Int64Type, Schema, SchemaRef, UInt32Type};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::GraphError;
use super::model::{BuildReport, GraphNode, LakeGraph};
use super::recipe::{BuiltGraph, GraphRecipe};
use crate::lake::{Lake, LakeError};

/// Rows per batch when a graph is written.
const WRITE_BATCH: usize = 65_536;

/// The last whole-graph community run stored with a graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommunityRun {
    /// Leiden's resolution.
    pub resolution: f64,
    /// Random seed.
    pub seed: u64,
    /// Communities found.
    pub count: usize,
    /// Modularity of the partition.
    pub modularity: f64,
    /// When it ran.
    pub computed: DateTime<Utc>,
    /// Most passes it was allowed (0: until stable).
    #[serde(default)]
    pub pass_limit: usize,
    /// Passes it took (0 in records from before this was kept).
    #[serde(default)]
    pub passes: usize,
    /// Whether it ended because a pass no longer raised modularity.
    #[serde(default = "stable_by_default")]
    pub stable: bool,
}

/// Runs recorded before `stable` was kept always went on until stable.
fn stable_by_default() -> bool {
    true
}

impl CommunityRun {
    /// The record of a Leiden run that just finished.
    pub fn finished(
        options: &super::leiden::LeidenOptions,
        partition: &super::leiden::Partition,
    ) -> Self {
        Self {
            resolution: options.resolution,
            seed: options.seed,
            count: partition.count,
            modularity: partition.modularity,
            computed: Utc::now(),
            pass_limit: options.max_passes,
            passes: partition.passes,
            stable: partition.stable,
        }
    }

    /// Whether this run answers a request with `options` (same resolution,
    /// seed and pass limit).
    pub fn matches(&self, options: &super::leiden::LeidenOptions) -> bool {
        self.resolution == options.resolution
            && self.seed == options.seed
            && self.pass_limit == options.max_passes
    }

    /// One line for people: "12 communities, modularity 0.4172 (resolution
    /// 1, seed 42, 3 passes until stable)".
    pub fn describe(&self) -> String {
        let passes = match (self.passes, self.stable) {
            (0, _) => String::new(),
            (1, true) => ", 1 pass until stable".to_string(),
            (n, true) => format!(", {n} passes until stable"),
            (n, false) => format!(
                ", stopped at the limit of {n} pass{}: more may raise modularity",
                if n == 1 { "" } else { "es" }
            ),
        };
        format!(
            "{} communities, modularity {:.4} (resolution {}, seed {}{passes})",
            self.count, self.modularity, self.resolution, self.seed
        )
    }
}

/// What the lake keeps about a graph besides its two datasets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphRecord {
    /// Graph name.
    pub name: String,
    /// How it was built.
    pub recipe: GraphRecipe,
    /// The nodes dataset.
    pub nodes_dataset: String,
    /// The edges dataset.
    pub edges_dataset: String,
    /// Nodes.
    pub nodes: u64,
    /// Edges.
    pub edges: u64,
    /// What building cleaned up.
    pub report: BuildReport,
    /// Dataset versions it was built from.
    pub read: BTreeMap<String, u64>,
    /// When it was built.
    pub built: DateTime<Utc>,
    /// The last whole-graph community run, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub communities: Option<CommunityRun>,
    /// Fields written by a newer Lakebook, kept as they were.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl GraphRecord {
    /// "graph NAME: N nodes, M edges (how it was built)".
    pub fn headline(&self) -> String {
        format!(
            "graph {}: {} nodes, {} edges ({})",
            self.name,
            self.nodes,
            self.edges,
            self.recipe.describe()
        )
    }
}

/// A graph read back from the lake.
#[derive(Debug, Clone)]
pub struct StoredGraph {
    /// Its description.
    pub record: GraphRecord,
    /// The graph.
    pub graph: LakeGraph,
    /// Community of each node from the last run, if any.
    pub communities: Option<Vec<u32>>,
    /// Saved layout positions, if any.
    pub positions: Option<Vec<[f32; 2]>>,
}

fn graphs_dir(lake: &Lake) -> PathBuf {
    lake.dir().join(".lakebook").join("graphs")
}

fn record_path(lake: &Lake, name: &str) -> PathBuf {
    graphs_dir(lake).join(format!("{name}.json"))
}

/// Whether `name` can name a graph (and its datasets).
pub fn check_name(name: &str) -> Result<(), GraphError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(GraphError::BadName(name.to_string()))
    }
}

/// Names of the graphs stored in the lake, sorted.
pub fn graph_names(lake: &Lake) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(graphs_dir(lake))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json").map(str::to_string)
        })
        .filter(|n| check_name(n).is_ok())
        .collect();
    names.sort();
    names
}

/// The datasets that hold stored graphs' nodes and edges, each with the
/// graph it belongs to. They are parts of a graph, not tables of the lake:
/// lists group them under their graph, and related tables leave them out.
pub fn graph_parts(lake: &Lake) -> BTreeMap<String, String> {
    graph_names(lake)
        .into_iter()
        .filter_map(|g| read_record(lake, &g).ok().map(|r| (g, r)))
        .flat_map(|(g, r)| [(r.nodes_dataset, g.clone()), (r.edges_dataset, g)])
        .collect()
}

/// The stored description of graph `name`.
pub fn read_record(lake: &Lake, name: &str) -> Result<GraphRecord, GraphError> {
    check_name(name)?;
    let path = record_path(lake, name);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(GraphError::NotFound(name.to_string()));
        }
        Err(source) => {
            return Err(GraphError::Io {
                path: path.display().to_string(),
                source,
            });
        }
    };
    serde_json::from_str(&text).map_err(|e| GraphError::Damaged {
        name: name.to_string(),
        reason: format!("{}: {e}", path.display()),
    })
}

fn write_record(lake: &Lake, record: &GraphRecord) -> Result<(), GraphError> {
    let dir = graphs_dir(lake);
    let io = |path: &PathBuf| {
        let path = path.display().to_string();
        move |source| GraphError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let path = record_path(lake, &record.name);
    let text = serde_json::to_string_pretty(record).map_err(|e| GraphError::Damaged {
        name: record.name.clone(),
        reason: e.to_string(),
    })?;
    crate::files::write_atomic(&path, text.as_bytes()).map_err(io(&path))
}

fn nodes_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("node", DataType::UInt32, false),
        Field::new("id", DataType::Utf8, false),
        Field::new("label", DataType::Utf8, false),
        Field::new("degree", DataType::UInt32, false),
        Field::new("community", DataType::Int64, true),
        Field::new("x", DataType::Float32, true),
        Field::new("y", DataType::Float32, true),
    ]))
}

fn edges_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("source", DataType::UInt32, false),
        Field::new("target", DataType::UInt32, false),
        Field::new("source_id", DataType::Utf8, false),
        Field::new("target_id", DataType::Utf8, false),
        Field::new("weight", DataType::Float32, false),
    ]))
}

/// Stores a freshly built graph as `name` (replacing an older graph of that
/// name: its datasets get a new version, the old ones stay readable).
pub async fn save_graph(
    lake: &mut Lake,
    name: &str,
    recipe: &GraphRecipe,
    built: &BuiltGraph,
) -> Result<GraphRecord, GraphError> {
    check_name(name)?;
    let nodes_dataset = format!("{name}_nodes");
    let edges_dataset = format!("{name}_edges");
    let previous = read_record(lake, name).ok();
    // A build killed between its two datasets leaves its claim behind: the
    // datasets it lists (by folder) are the graph's, and a rebuild
    // overwrites them; any other dataset of those names is the user's.
    let claim_path = graphs_dir(lake).join(format!("{name}.building"));
    let mut claim: BTreeMap<String, String> = std::fs::read_to_string(&claim_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    for (dataset, schema) in [
        (&nodes_dataset, nodes_schema()),
        (&edges_dataset, edges_schema()),
    ] {
        let Ok(entry) = lake.entry(dataset) else {
            continue;
        };
        // Claimed by folder, or claimed before its commit (a kill came
        // between the commit and the claim's update) and shaped as a graph's.
        let ours = match claim.get(dataset.as_str()) {
            Some(dir) if dir == &entry.dir => true,
            Some(dir) if dir.is_empty() => entry
                .schema
                .iter()
                .map(|c| c.name.as_str())
                .eq(schema.fields().iter().map(|f| f.name().as_str())),
            _ => false,
        };
        if previous.is_none() && !ours {
            return Err(GraphError::NameTaken(dataset.clone()));
        }
    }
    let io = |path: &PathBuf| {
        let path = path.display().to_string();
        move |source| GraphError::Io { path, source }
    };
    std::fs::create_dir_all(graphs_dir(lake)).map_err(io(&graphs_dir(lake)))?;
    for dataset in [&edges_dataset, &nodes_dataset] {
        claim.entry(dataset.clone()).or_default();
    }
    let text = serde_json::to_string(&claim).unwrap_or_default();
    std::fs::write(&claim_path, text).map_err(io(&claim_path))?;
    let graph = &built.graph;
    let parts = [
        (&edges_dataset, edges_schema(), edges_batches(graph)?),
        (
            &nodes_dataset,
            nodes_schema(),
            nodes_batches(graph, None, None)?,
        ),
    ];
    for (dataset, schema, batches) in parts {
        lake.write_table(dataset, schema, batches).await?;
        let dir = lake.entry(dataset)?.dir.clone();
        claim.insert(dataset.clone(), dir);
        let text = serde_json::to_string(&claim).unwrap_or_default();
        std::fs::write(&claim_path, text).map_err(io(&claim_path))?;
    }
    let record = GraphRecord {
        name: name.to_string(),
        recipe: recipe.clone(),
        nodes_dataset,
        edges_dataset,
        nodes: graph.node_count() as u64,
        edges: graph.edge_count() as u64,
        report: built.report.clone(),
        read: built.read.clone(),
        built: Utc::now(),
        communities: None,
        extra: previous.map(|p| p.extra).unwrap_or_default(),
    };
    write_record(lake, &record)?;
    let _ = std::fs::remove_file(&claim_path);
    Ok(record)
}

/// Writes a new version of the graph's nodes with their communities and/or
/// layout (what is not given is kept from the stored version).
pub async fn save_node_state(
    lake: &mut Lake,
    stored: &StoredGraph,
    communities: Option<(&[u32], CommunityRun)>,
    positions: Option<&[[f32; 2]]>,
) -> Result<GraphRecord, GraphError> {
    let membership = communities
        .as_ref()
        .map(|(m, _)| *m)
        .or(stored.communities.as_deref());
    let positions = positions.or(stored.positions.as_deref());
    let batches = nodes_batches(&stored.graph, membership, positions)?;
    lake.write_table(&stored.record.nodes_dataset, nodes_schema(), batches)
        .await?;
    let mut record = stored.record.clone();
    if let Some((_, run)) = communities {
        record.communities = Some(run);
    }
    write_record(lake, &record)?;
    Ok(record)
}

/// Reads graph `name` back from the lake.
pub async fn load_graph(lake: &Lake, name: &str) -> Result<StoredGraph, GraphError> {
    let record = read_record(lake, name)?;
    let damaged = |reason: String| GraphError::Damaged {
        name: name.to_string(),
        reason,
    };
    let nodes = scan_all(lake, &record.nodes_dataset).await?;
    let edges = scan_all(lake, &record.edges_dataset).await?;
    let mut graph_nodes = Vec::new();
    let mut communities = Vec::new();
    let mut positions = Vec::new();
    for batch in &nodes {
        let column = |n: &str| {
            batch
                .column_by_name(n)
                .cloned()
                .ok_or_else(|| damaged(format!("{} has no column '{n}'", record.nodes_dataset)))
        };
        let (ids, labels) = (column("id")?, column("label")?);
        let (community, x, y) = (column("community")?, column("x")?, column("y")?);
        let (Some(ids), Some(labels)) = (ids.as_string_opt::<i32>(), labels.as_string_opt::<i32>())
        else {
            return Err(damaged("node ids and labels must be text".into()));
        };
        let (Some(community), Some(x), Some(y)) = (
            community.as_primitive_opt::<Int64Type>(),
            x.as_primitive_opt::<Float32Type>(),
            y.as_primitive_opt::<Float32Type>(),
        ) else {
            return Err(damaged("community, x and y have the wrong types".into()));
        };
        for row in 0..batch.num_rows() {
            graph_nodes.push(GraphNode {
                id: ids.value(row).to_string(),
                label: labels.value(row).to_string(),
            });
            communities.push(community.is_valid(row).then(|| community.value(row) as u32));
            positions
                .push((x.is_valid(row) && y.is_valid(row)).then(|| [x.value(row), y.value(row)]));
        }
    }
    let count = graph_nodes.len() as u32;
    let mut edge_list = Vec::new();
    for batch in &edges {
        let column = |n: &str| {
            batch
                .column_by_name(n)
                .cloned()
                .ok_or_else(|| damaged(format!("{} has no column '{n}'", record.edges_dataset)))
        };
        let (s, t, w) = (column("source")?, column("target")?, column("weight")?);
        let (Some(s), Some(t), Some(w)) = (
            s.as_primitive_opt::<UInt32Type>(),
            t.as_primitive_opt::<UInt32Type>(),
            w.as_primitive_opt::<Float32Type>(),
        ) else {
            return Err(damaged("edge columns have the wrong types".into()));
        };
        for row in 0..batch.num_rows() {
            let (a, b) = (s.value(row), t.value(row));
            if a >= count || b >= count {
                return Err(damaged(format!(
                    "edge {a}–{b} names a node beyond the {count} stored"
                )));
            }
            edge_list.push((a, b, w.value(row)));
        }
    }
    let communities = communities
        .iter()
        .all(Option::is_some)
        .then(|| communities.iter().map(|c| c.unwrap_or_default()).collect());
    let positions = positions
        .iter()
        .all(Option::is_some)
        .then(|| positions.iter().map(|p| p.unwrap_or_default()).collect());
    Ok(StoredGraph {
        graph: LakeGraph::from_parts(graph_nodes, &edge_list),
        record,
        communities: communities.filter(|c: &Vec<u32>| !c.is_empty()),
        positions: positions.filter(|p: &Vec<[f32; 2]>| !p.is_empty()),
    })
}

/// Every row of a dataset, in stored order.
async fn scan_all(lake: &Lake, name: &str) -> Result<Vec<RecordBatch>, GraphError> {
    let dataset = lake.open_dataset(name, None).await?;
    let lance_err = |e: lance::Error| {
        GraphError::Lake(LakeError::Lance {
            name: name.to_string(),
            source: Box::new(e),
        })
    };
    let mut scanner = dataset.scan();
    scanner.scan_in_order(true);
    let stream = scanner.try_into_stream().await.map_err(lance_err)?;
    stream.try_collect().await.map_err(lance_err)
}

/// The nodes as batches, with optional communities and positions.
fn nodes_batches(
    graph: &LakeGraph,
    communities: Option<&[u32]>,
    positions: Option<&[[f32; 2]]>,
) -> Result<Vec<RecordBatch>, GraphError> {
    let n = graph.node_count();
    let communities = communities.filter(|c| c.len() == n);
    let positions = positions.filter(|p| p.len() == n);
    let nodes: Vec<&GraphNode> = graph.nodes().collect();
    let mut out = Vec::new();
    for start in (0..n).step_by(WRITE_BATCH) {
        let range = start..(start + WRITE_BATCH).min(n);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(UInt32Array::from_iter_values(
                range.clone().map(|i| i as u32),
            )),
            Arc::new(StringArray::from_iter_values(
                range.clone().map(|i| &nodes[i].id),
            )),
            Arc::new(StringArray::from_iter_values(
                range.clone().map(|i| &nodes[i].label),
            )),
            Arc::new(UInt32Array::from_iter_values(range.clone().map(|i| {
                graph
                    .graph
                    .neighbors(petgraph::graph::NodeIndex::new(i))
                    .count() as u32
            }))),
            Arc::new(Int64Array::from_iter(
                range.clone().map(|i| communities.map(|c| i64::from(c[i]))),
            )),
            Arc::new(Float32Array::from_iter(
                range.clone().map(|i| positions.map(|p| p[i][0])),
            )),
            Arc::new(Float32Array::from_iter(
                range.map(|i| positions.map(|p| p[i][1])),
            )),
        ];
        out.push(batch(nodes_schema(), columns)?);
    }
    Ok(out)
}

/// The edges as batches.
fn edges_batches(graph: &LakeGraph) -> Result<Vec<RecordBatch>, GraphError> {
    let edges: Vec<(u32, u32, f32)> = graph.edges().collect();
    let id = |i: u32| graph.node(i).map_or("", |n| n.id.as_str());
    let mut out = Vec::new();
    for chunk in edges.chunks(WRITE_BATCH) {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(UInt32Array::from_iter_values(chunk.iter().map(|e| e.0))),
            Arc::new(UInt32Array::from_iter_values(chunk.iter().map(|e| e.1))),
            Arc::new(StringArray::from_iter_values(chunk.iter().map(|e| id(e.0)))),
            Arc::new(StringArray::from_iter_values(chunk.iter().map(|e| id(e.1)))),
            Arc::new(Float32Array::from_iter_values(chunk.iter().map(|e| e.2))),
        ];
        out.push(batch(edges_schema(), columns)?);
    }
    Ok(out)
}

fn batch(schema: SchemaRef, columns: Vec<ArrayRef>) -> Result<RecordBatch, GraphError> {
    RecordBatch::try_new(schema, columns).map_err(|e| GraphError::Sql {
        message: format!("building the graph's rows failed: {e}"),
    })
}

/// The rows of the graph's source dataset that mention node `id` (for the
/// view's "click a node to see its rows"), as a SQL query; `None` when the
/// graph's nodes are not values of one dataset.
pub fn node_rows_sql(record: &GraphRecord, id: &str, limit: usize) -> Option<String> {
    let (dataset, columns) = record.recipe.node_dataset()?;
    let literal = format!("'{}'", id.replace('\'', "''"));
    let test: Vec<String> = columns
        .iter()
        .map(|c| {
            format!(
                "CAST({} AS VARCHAR) = {literal}",
                crate::sql::quote_ident(c)
            )
        })
        .collect();
    Some(format!(
        "SELECT * FROM {} WHERE {} LIMIT {limit}",
        crate::sql::quote_ident(dataset),
        test.join(" OR ")
    ))
}
