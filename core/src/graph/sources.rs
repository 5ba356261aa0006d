//! Where a graph comes from: an edge table or SQL result, co-occurrence of
//! values across rows (a bipartite projection), the k nearest neighbours of
//! each row's embedding, or the lake's own schema (tables, columns and the
//! matches between them). Each is a [`GraphRecipe`] ([`super::recipe`]),
//! kept with the graph so it can be rebuilt.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use futures::TryStreamExt;

use super::GraphError;
use super::model::{EdgeMerge, GraphBuilder};
pub use super::recipe::{BuiltGraph, GraphRecipe, NodeTable};
use crate::cluster::kernels::dot;
use crate::cluster::matrix::Matrix;
use crate::cluster::neighbours::nearest_neighbours;
use crate::job::Job;
use crate::lake::Lake;
use crate::matching::related::{RelatedIndex, lake_sketches};
use crate::sql::{SqlEngine, quote_ident};

/// Members a co-occurrence group may have before it is skipped: a group of
/// n members adds n(n-1)/2 edges.
pub const DEFAULT_MAX_GROUP: usize = 200;
/// Rows a nearest-neighbour graph is built over at most (the vectors are
/// held in memory: 200,000 × 384 values is about 300 MB).
pub const MAX_KNN_ROWS: usize = 200_000;
/// Most neighbours a row links to in a nearest-neighbour graph.
pub const MAX_KNN_K: usize = 50;
/// Seed of the approximate neighbour search, so rebuilding a graph gives the
/// same graph.
const KNN_SEED: u64 = 7;

/// Builds the graph a recipe describes; `job` shows rows read and cancels.
pub async fn build_graph(
    lake: &Lake,
    recipe: &GraphRecipe,
    job: &Job,
) -> Result<BuiltGraph, GraphError> {
    match recipe {
        GraphRecipe::Edges {
            dataset,
            source,
            target,
            weight,
            nodes,
        } => {
            let entry = lake.entry(dataset)?;
            job.set_total(entry.rows, "rows");
            let sql = edge_query(
                &format!("SELECT * FROM {}", quote_ident(dataset)),
                source,
                target,
                weight.as_deref(),
            );
            let engine = SqlEngine::new(lake);
            let mut builder = GraphBuilder::new(EdgeMerge::Sum);
            if let Some(table) = nodes {
                add_node_table(&engine, table, &mut builder).await?;
            }
            edges_from_sql(engine, builder, &sql, job).await
        }
        GraphRecipe::Sql {
            query,
            source,
            target,
            weight,
        } => {
            let inner = query.trim().trim_end_matches(';');
            edges_from_sql(
                SqlEngine::new(lake),
                GraphBuilder::new(EdgeMerge::Sum),
                &edge_query(inner, source, target, weight.as_deref()),
                job,
            )
            .await
        }
        GraphRecipe::CoOccurrence {
            dataset,
            group,
            item,
            max_group,
        } => co_occurrence(lake, dataset, group, item, *max_group, job).await,
        GraphRecipe::Knn { dataset, k, label } => {
            knn(lake, dataset, *k, label.as_deref(), job).await
        }
        GraphRecipe::Lake => lake_graph(lake, job).await,
    }
}

/// Column `i` of a batch as plain UTF-8 text (SQL casts may give string views).
fn text_column(batch: &RecordBatch, i: usize) -> Result<arrow::array::StringArray, GraphError> {
    let column = cast(batch.column(i), &DataType::Utf8).map_err(GraphError::Arrow)?;
    Ok(column.as_string::<i32>().clone())
}

/// A query giving (source, target, weight) as text, text and double.
fn edge_query(inner: &str, source: &str, target: &str, weight: Option<&str>) -> String {
    let weight = weight.map_or("CAST(1.0 AS DOUBLE)".to_string(), |w| {
        format!("TRY_CAST({} AS DOUBLE)", quote_ident(w))
    });
    format!(
        "SELECT CAST({} AS VARCHAR) AS s, CAST({} AS VARCHAR) AS t, {weight} AS w FROM ({inner}) AS edges",
        quote_ident(source),
        quote_ident(target)
    )
}

/// Every row of a node table becomes a node; then only those ids are nodes.
async fn add_node_table(
    engine: &SqlEngine,
    table: &NodeTable,
    builder: &mut GraphBuilder,
) -> Result<(), GraphError> {
    let label = table.label.as_deref().unwrap_or(&table.id);
    let sql = format!(
        "SELECT CAST({} AS VARCHAR) AS id, CAST({} AS VARCHAR) AS label FROM {}",
        quote_ident(&table.id),
        quote_ident(label),
        quote_ident(&table.dataset)
    );
    let result = engine.query(&sql).await.map_err(GraphError::from_sql)?;
    for batch in &result.batches {
        let (ids, labels) = (text_column(batch, 0)?, text_column(batch, 1)?);
        for row in 0..batch.num_rows() {
            if ids.is_valid(row) && !ids.value(row).is_empty() {
                let label = labels.is_valid(row).then(|| labels.value(row));
                builder.add_node(ids.value(row), label);
            }
        }
    }
    builder.close_node_set();
    Ok(())
}

/// Runs an edge query and adds every row to `builder`.
async fn edges_from_sql(
    engine: SqlEngine,
    mut builder: GraphBuilder,
    sql: &str,
    job: &Job,
) -> Result<BuiltGraph, GraphError> {
    let mut stream = engine.stream(sql).await.map_err(GraphError::from_sql)?;
    while let Some(batch) = stream.try_next().await? {
        if job.is_cancelled() {
            return Err(GraphError::Cancelled);
        }
        let (s, t) = (text_column(&batch, 0)?, text_column(&batch, 1)?);
        let w = cast(batch.column(2), &DataType::Float64).map_err(GraphError::Arrow)?;
        let w = w.as_primitive::<Float64Type>();
        for row in 0..batch.num_rows() {
            builder.add_edge(
                s.is_valid(row).then(|| s.value(row)),
                t.is_valid(row).then(|| t.value(row)),
                w.is_valid(row).then(|| w.value(row)),
            );
        }
        job.advance(batch.num_rows() as u64);
    }
    let (graph, report) = builder.finish();
    Ok(BuiltGraph {
        graph,
        report,
        read: engine.versions_read(),
    })
}

/// Items linked by the groups they share.
async fn co_occurrence(
    lake: &Lake,
    dataset: &str,
    group: &str,
    item: &str,
    max_group: usize,
    job: &Job,
) -> Result<BuiltGraph, GraphError> {
    let entry = lake.entry(dataset)?;
    job.set_total(entry.rows, "rows");
    let sql = format!(
        "SELECT DISTINCT CAST({} AS VARCHAR) AS g, CAST({} AS VARCHAR) AS i FROM {}",
        quote_ident(group),
        quote_ident(item),
        quote_ident(dataset)
    );
    let engine = SqlEngine::new(lake);
    let result = engine.query(&sql).await.map_err(GraphError::from_sql)?;
    let mut builder = GraphBuilder::new(EdgeMerge::Sum);
    let mut groups: HashMap<String, Vec<u32>> = HashMap::new();
    for batch in &result.batches {
        let (g, i) = (text_column(batch, 0)?, text_column(batch, 1)?);
        for row in 0..batch.num_rows() {
            builder.report_mut().rows_read += 1;
            if g.is_null(row) || i.is_null(row) || i.value(row).is_empty() {
                builder.report_mut().missing_ids += 1;
                continue;
            }
            let node = builder.add_node(i.value(row), None);
            groups
                .entry(g.value(row).to_string())
                .or_default()
                .push(node);
        }
        job.advance(batch.num_rows() as u64);
    }
    for members in groups.values() {
        if job.is_cancelled() {
            return Err(GraphError::Cancelled);
        }
        if members.len() > max_group {
            builder.report_mut().oversized_groups += 1;
            continue;
        }
        for (x, a) in members.iter().enumerate() {
            for b in &members[x + 1..] {
                builder.link(*a, *b, 1.0);
            }
        }
    }
    let (graph, mut report) = builder.finish();
    // A pair sharing several groups is one edge of higher weight, not a repeat.
    report.duplicate_edges = 0;
    Ok(BuiltGraph {
        graph,
        report,
        read: engine.versions_read(),
    })
}

/// Each embedded row linked to its `k` nearest rows (cosine; exact up to
/// 4,096 rows, NN-descent above).
async fn knn(
    lake: &Lake,
    dataset: &str,
    k: usize,
    label: Option<&str>,
    job: &Job,
) -> Result<BuiltGraph, GraphError> {
    let entry = lake.entry(dataset)?;
    let Some(embedding) = entry.embedding.clone() else {
        return Err(GraphError::NotEmbedded(dataset.to_string()));
    };
    if k > MAX_KNN_K {
        return Err(GraphError::TooLarge {
            what: format!("{k} neighbours a row"),
            limit: format!(
                "nearest-neighbour graphs link each row to at most {MAX_KNN_K} neighbours"
            ),
        });
    }
    if entry.rows as usize > MAX_KNN_ROWS {
        return Err(GraphError::TooLarge {
            what: format!("{dataset} has {} rows", entry.rows),
            limit: format!(
                "nearest-neighbour graphs are built over at most {} rows; to graph a sample, ingest and embed it as a dataset of its own",
                grouped(MAX_KNN_ROWS)
            ),
        });
    }
    // Passages read best by their document's title; tables by their first embedded column.
    let has_title = entry.schema.iter().any(|c| c.name == "title");
    let label = label
        .map(str::to_string)
        .or_else(|| has_title.then(|| "title".to_string()))
        .or_else(|| embedding.source_columns.first().cloned())
        .unwrap_or_else(|| embedding.column.clone());
    let sql = format!(
        "SELECT CAST({} AS VARCHAR) AS label, {} AS v FROM {} WHERE {} IS NOT NULL",
        quote_ident(&label),
        quote_ident(&embedding.column),
        quote_ident(dataset),
        quote_ident(&embedding.column)
    );
    let engine = SqlEngine::new(lake);
    let result = engine.query(&sql).await.map_err(GraphError::from_sql)?;
    let (labels, vectors, dim) = vectors_of(&result.batches, embedding.dim)?;
    job.set_message(format!("neighbours of {} rows", labels.len()));
    // The query result is not needed while the neighbours are searched.
    drop(result);
    let job_ref = job.clone();
    let neighbours = tokio::task::spawn_blocking(move || nearest(vectors, dim, k, &job_ref))
        .await
        .map_err(|e| GraphError::Sql {
            message: format!("nearest-neighbour search failed: {e}"),
        })??;
    let mut builder = GraphBuilder::new(EdgeMerge::First);
    for (row, text) in labels.iter().enumerate() {
        builder.add_node(&row.to_string(), Some(&short_label(text)));
    }
    for (row, list) in neighbours.iter().enumerate() {
        for (other, similarity) in list {
            builder.report_mut().rows_read += 1;
            // Cosine can be ≤ 0; the edge still stands, with a small weight.
            builder.link(row as u32, *other, similarity.max(1e-3));
        }
    }
    let (graph, mut report) = builder.finish();
    report.duplicate_edges = 0; // mutual neighbours are one edge
    Ok(BuiltGraph {
        graph,
        report,
        read: engine.versions_read(),
    })
}

/// `n` with its digits in groups of three: 200,000.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A label on one line and short enough for the view.
fn short_label(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Labels and unit-length vectors (flat) from a (label, vector) result.
fn vectors_of(
    batches: &[RecordBatch],
    dim: usize,
) -> Result<(Vec<String>, Vec<f32>, usize), GraphError> {
    let mut labels = Vec::new();
    let mut flat = Vec::new();
    for batch in batches {
        let text = text_column(batch, 0)?;
        let list = batch
            .column(1)
            .as_fixed_size_list_opt()
            .ok_or_else(|| GraphError::Sql {
                message: "the embedding column is not a fixed-size list".into(),
            })?;
        if list.value_type() != DataType::Float32 || list.value_length() as usize != dim {
            return Err(GraphError::Sql {
                message: format!("the embedding column is not {dim} float32 values"),
            });
        }
        let values = list.values().as_primitive::<Float32Type>();
        for row in 0..batch.num_rows() {
            labels.push(if text.is_valid(row) {
                text.value(row).to_string()
            } else {
                String::new()
            });
            let start = (list.value_offset(row)) as usize;
            let v = &values.values()[start..start + dim];
            // A vector with a value that is not a number is no vector:
            // zeros, which find no neighbours.
            let finite = v.iter().all(|x| x.is_finite());
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            if finite && norm > 0.0 && norm.is_finite() {
                flat.extend(v.iter().map(|x| x / norm));
            } else {
                flat.extend(std::iter::repeat_n(0.0, dim));
            }
        }
    }
    Ok((labels, flat, dim))
}

/// Each row's `k` most similar other rows, most similar first, with their
/// cosine similarity (`vectors`: `dim` values a row, unit length or all
/// zero): every pair measured up to 4,096 rows, NN-descent above. Rows of
/// zeros (no usable vector) have no neighbours and are no one's neighbour.
/// `Cancelled` when `job` is cancelled.
fn nearest(
    vectors: Vec<f32>,
    dim: usize,
    k: usize,
    job: &Job,
) -> Result<Vec<Vec<(u32, f32)>>, GraphError> {
    let rows = vectors.len() / dim.max(1);
    let usable: Vec<u32> = (0..rows)
        .filter(|row| vectors[row * dim..][..dim].iter().any(|x| *x != 0.0))
        .map(|row| row as u32)
        .collect();
    let mut lists = vec![Vec::new(); rows];
    if usable.len() < 2 {
        return Ok(lists);
    }
    let k = k.clamp(1, usable.len() - 1);
    // The usable rows moved to the front, in place: no second copy of the
    // vectors (300 MB at the row limit).
    let mut vectors = vectors;
    for (at, row) in usable.iter().enumerate() {
        let row = *row as usize;
        vectors.copy_within(row * dim..(row + 1) * dim, at * dim);
    }
    vectors.truncate(usable.len() * dim);
    let data = Matrix::new(usable.len(), dim, vectors).ok_or_else(|| GraphError::Sql {
        message: format!("the embeddings are not {dim} values a row"),
    })?;
    let rows_searched = usable.len();
    let found = nearest_neighbours(
        &data,
        k,
        KNN_SEED,
        &|| job.is_cancelled(),
        &|round, improved| {
            job.set_message(format!(
                "neighbours of {rows_searched} rows: round {round} improved {:.1}% (done under 0.1%)",
                improved * 100.0
            ));
        },
    )
    .map_err(|_| GraphError::Cancelled)?;
    for (at, indices) in found.indices.chunks(k).enumerate() {
        lists[usable[at] as usize] = indices
            .iter()
            .filter(|other| **other != u32::MAX)
            .map(|other| {
                let similarity = dot(data.row(at), data.row(*other as usize));
                (usable[*other as usize], similarity)
            })
            .collect();
    }
    Ok(lists)
}

/// The lake's own tables and their versions: every dataset except the parts
/// of stored graphs, which are not part of its schema (a lake graph that
/// counted its own output would always look out of date).
pub fn lake_tables(lake: &Lake) -> Result<BTreeMap<String, u64>, GraphError> {
    let graph_parts = super::store::graph_parts(lake);
    let mut tables = BTreeMap::new();
    for name in lake.dataset_names() {
        if !graph_parts.contains_key(&name) {
            let version = lake.entry(&name)?.version;
            tables.insert(name, version);
        }
    }
    Ok(tables)
}

/// Datasets and their columns; columns linked to the columns of related
/// tables (join paths and aligned union columns).
async fn lake_graph(lake: &Lake, job: &Job) -> Result<BuiltGraph, GraphError> {
    let mut builder = GraphBuilder::new(EdgeMerge::Sum);
    let read = lake_tables(lake)?;
    let is_table = |name: &str| read.contains_key(name);
    for name in read.keys() {
        let entry = lake.entry(name)?;
        let table = builder.add_node(name, Some(&format!("table {name}")));
        for column in &entry.schema {
            let id = format!("{name}.{}", column.name);
            let node = builder.add_node(&id, Some(&id));
            builder.link(table, node, 1.0);
        }
    }
    let sketches = lake_sketches(lake, job).await?;
    let sketches: Vec<_> = sketches.into_iter().filter(|s| is_table(&s.name)).collect();
    let names: Vec<String> = sketches.iter().map(|s| s.name.clone()).collect();
    let index = RelatedIndex::build(sketches);
    for name in &names {
        for related in index.related(name, 20).unwrap_or_default() {
            if let Some(join) = &related.join {
                let a = builder.add_node(&format!("{name}.{}", join.column), None);
                let b = builder.add_node(&format!("{}.{}", related.table, join.other_column), None);
                if a != b {
                    builder.link(a, b, join.score.max(0.05) as f32);
                }
            }
            for (mine, theirs) in &related.aligned {
                let a = builder.add_node(&format!("{name}.{mine}"), None);
                let b = builder.add_node(&format!("{}.{theirs}", related.table), None);
                if a != b {
                    builder.link(a, b, related.union_score.max(0.05) as f32);
                }
            }
        }
    }
    let (graph, mut report) = builder.finish();
    report.duplicate_edges = 0; // each relation is found from both of its tables
    Ok(BuiltGraph {
        graph,
        report,
        read,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, FixedSizeListArray, Float32Array, StringArray};
    use arrow::datatypes::Field;

    use super::*;
    use crate::rng::Rng;

    /// `rows` unit vectors of `dim` values around `groups` random centres.
    fn clustered(rows: usize, dim: usize, groups: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        let centres: Vec<f64> = (0..groups * dim).map(|_| rng.normal()).collect();
        let mut out = Vec::with_capacity(rows * dim);
        for row in 0..rows {
            let centre = &centres[(row % groups) * dim..][..dim];
            let v: Vec<f64> = centre.iter().map(|c| c + 0.6 * rng.normal()).collect();
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            out.extend(v.iter().map(|x| (x / norm) as f32));
        }
        out
    }

    #[test]
    fn nearest_rows_above_the_exact_limit_are_found_by_descent() {
        let (rows, dim, k) = (6_000, 64, 10);
        let vectors = clustered(rows, dim, 40, 3);
        let job = Job::new();
        let found = nearest(vectors.clone(), dim, k, &job).expect("not cancelled");
        assert_eq!(found.len(), rows);
        let message = job.snapshot().message;
        assert!(
            message.starts_with("neighbours of 6000 rows: round ") && message.contains("improved"),
            "the rounds are reported: {message}"
        );
        let mut hits = 0;
        let sample: Vec<usize> = (0..rows).step_by(20).collect();
        for &row in &sample {
            let list = &found[row];
            assert_eq!(list.len(), k);
            assert!(list.iter().all(|(other, _)| *other as usize != row));
            assert!(
                list.windows(2).all(|w| w[0].1 >= w[1].1),
                "most similar first"
            );
            let query = &vectors[row * dim..][..dim];
            for (other, similarity) in list {
                let exact = dot(query, &vectors[*other as usize * dim..][..dim]);
                assert!((exact - similarity).abs() < 1e-4, "{exact} vs {similarity}");
            }
            // The true k nearest, by measuring every row.
            let mut all: Vec<(f32, usize)> = (0..rows)
                .filter(|other| *other != row)
                .map(|other| (dot(query, &vectors[other * dim..][..dim]), other))
                .collect();
            all.sort_by(|a, b| b.0.total_cmp(&a.0));
            let truth: Vec<u32> = all[..k].iter().map(|(_, o)| *o as u32).collect();
            hits += list.iter().filter(|(o, _)| truth.contains(o)).count();
        }
        let recall = hits as f64 / (sample.len() * k) as f64;
        assert!(recall > 0.95, "recall {recall}");
    }

    #[test]
    fn tiny_inputs_and_cancel_are_handled() {
        let one = nearest(vec![1.0, 0.0], 2, 5, &Job::new()).expect("ran");
        assert_eq!(one, vec![Vec::new()]);
        // k is cut to the other rows there are.
        let three = nearest(vec![1.0, 0.0, 0.0, 1.0, 0.6, 0.8], 2, 5, &Job::new()).expect("ran");
        assert_eq!(three[0].len(), 2);
        assert_eq!(three[0][0].0, 2, "(0.6, 0.8) is nearer (1, 0) than (0, 1)");
        let job = Job::new();
        job.cancel();
        let cancelled = nearest(clustered(5_000, 8, 5, 1), 8, 5, &job);
        assert!(matches!(cancelled, Err(GraphError::Cancelled)));
        assert_eq!(grouped(200_000), "200,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
    }

    #[test]
    fn rows_without_a_usable_vector_stay_out_of_the_search() {
        // Row 1 holds a value that is not a number, row 3 only zeros: both
        // come out of reading as zeros, and then have no neighbours.
        let (dim, rows) = (3, 6);
        let mut values: Vec<f32> = clustered(rows, dim, 2, 5);
        values[dim] = f32::NAN;
        values[3 * dim..4 * dim].fill(0.0);
        let batch = RecordBatch::try_from_iter([
            (
                "label",
                Arc::new(StringArray::from(vec!["a"; rows])) as ArrayRef,
            ),
            (
                "v",
                Arc::new(FixedSizeListArray::new(
                    Arc::new(Field::new_list_field(DataType::Float32, true)),
                    dim as i32,
                    Arc::new(Float32Array::from(values)),
                    None,
                )) as ArrayRef,
            ),
        ])
        .expect("a batch");
        let (_, vectors, _) = vectors_of(&[batch], dim).expect("read");
        assert!(vectors[dim..2 * dim].iter().all(|x| *x == 0.0));
        let found = nearest(vectors, dim, 10, &Job::new()).expect("ran");
        assert!(found[1].is_empty() && found[3].is_empty());
        for (row, list) in found.iter().enumerate().filter(|(r, _)| *r != 1 && *r != 3) {
            assert_eq!(list.len(), 3, "row {row}: the other usable rows");
            assert!(
                list.iter()
                    .all(|(other, s)| *other != 1 && *other != 3 && s.is_finite())
            );
        }
    }
}
