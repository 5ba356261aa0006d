//! Running a search against one dataset or every searchable dataset of the lake.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float32Array, RecordBatch};
use arrow::compute::interleave;
use arrow::datatypes::{DataType, Field, Float32Type, Schema, UInt64Type};
use lance::Dataset;
use lance::dataset::scanner::Scanner;
use lance_index::scalar::FullTextSearchQuery;
use lance_linalg::distance::DistanceType;

use super::index::{fulltext_indexed_columns, has_vector_index};
use super::{SearchError, SearchMode, SearchRequest};
use crate::embed::MiniLm;
use crate::lake::{DatasetKind, Lake, columns};

/// Reciprocal rank fusion constant: a hit ranked r in one list adds 1/(RRF_K + r).
const RRF_K: f32 = 60.0;
/// Candidates each side brings to a hybrid fusion, per hit asked for.
const HYBRID_DEPTH: usize = 4;

/// The hits of one dataset, best first.
#[derive(Debug, Clone)]
pub struct SearchHits {
    /// The dataset.
    pub dataset: String,
    /// Table or documents.
    pub kind: DatasetKind,
    /// The mode actually used (hybrid falls back to semantic without a full-text index).
    pub mode: SearchMode,
    /// `score` (higher is better: cosine similarity, BM25, or fused rank score),
    /// then the row's own columns without its vector.
    pub rows: RecordBatch,
    /// Things the user should know about these results.
    pub notes: Vec<String>,
    /// Lance row id of each hit, in the order of `rows`.
    pub row_ids: Vec<u64>,
}

impl SearchHits {
    /// The best score, if there is a hit.
    pub fn best_score(&self) -> Option<f32> {
        let scores = self.rows.column(0).as_primitive::<Float32Type>();
        (!scores.is_empty()).then(|| scores.value(0))
    }
}

/// Searches one dataset. `model` embeds the query for semantic and hybrid search.
pub async fn search_dataset(
    lake: &Lake,
    model: Option<&MiniLm>,
    name: &str,
    request: &SearchRequest,
) -> Result<SearchHits, SearchError> {
    let vector = query_vector(model, request)?;
    search_one(lake, name, vector.as_deref(), request).await
}

/// Searches one dataset with a query vector computed beforehand (semantic and
/// hybrid modes use it; full-text ignores it).
pub async fn search_dataset_by_vector(
    lake: &Lake,
    name: &str,
    vector: &[f32],
    request: &SearchRequest,
) -> Result<SearchHits, SearchError> {
    search_one(lake, name, Some(vector), request).await
}

/// Searches every dataset that can answer `request.mode`, grouped by dataset,
/// the dataset with the best hit first. Datasets with no hits are left out.
pub async fn search_lake(
    lake: &Lake,
    model: Option<&MiniLm>,
    request: &SearchRequest,
) -> Result<Vec<SearchHits>, SearchError> {
    let vector = query_vector(model, request)?;
    let mut results = Vec::new();
    let mut searchable = 0;
    for name in lake.dataset_names() {
        if lake.entry(&name).is_ok_and(|e| e.retired.is_some()) {
            continue;
        }
        match search_one(lake, &name, vector.as_deref(), request).await {
            Ok(hits) => {
                searchable += 1;
                if hits.rows.num_rows() > 0 {
                    results.push(hits);
                }
            }
            // Datasets that cannot answer this mode, or lack the filter's columns, are skipped.
            Err(
                SearchError::NotEmbedded { .. }
                | SearchError::NoFulltextIndex { .. }
                | SearchError::BadFilter { .. },
            ) => {}
            Err(e) => return Err(e),
        }
    }
    if searchable == 0 {
        let hint = match request.mode {
            SearchMode::Fulltext => {
                "run `lakebook index NAME` or `lakebook embed NAME` on a dataset"
            }
            _ => "run `lakebook embed NAME` on a dataset",
        };
        return Err(SearchError::NothingSearchable {
            mode: request.mode,
            hint: hint.to_string(),
        });
    }
    results.sort_by(|a, b| {
        b.best_score()
            .unwrap_or(0.0)
            .total_cmp(&a.best_score().unwrap_or(0.0))
    });
    Ok(results)
}

fn query_vector(
    model: Option<&MiniLm>,
    request: &SearchRequest,
) -> Result<Option<Vec<f32>>, SearchError> {
    if request.query.trim().is_empty() {
        return Err(SearchError::EmptyQuery);
    }
    if request.mode == SearchMode::Fulltext {
        return Ok(None);
    }
    let model = model.ok_or_else(|| {
        SearchError::Model(crate::embed::EmbedError::Run(
            "no model was loaded".to_string(),
        ))
    })?;
    let mut vectors = model.embed(&[request.query.as_str()])?;
    Ok(vectors.pop())
}

/// One dataset. Hybrid mode without a full-text index answers semantically, with a note.
async fn search_one(
    lake: &Lake,
    name: &str,
    vector: Option<&[f32]>,
    request: &SearchRequest,
) -> Result<SearchHits, SearchError> {
    let entry = lake.entry(name)?.clone();
    if let Some(retired) = &entry.retired {
        // Its rows are in its container, which is searched instead.
        return Err(SearchError::Retired {
            name: name.to_string(),
            container: retired.container.clone(),
        });
    }
    let ds = lake.open_dataset(name, None).await?;
    let lance_err = |e: lance::Error| SearchError::Lance {
        name: name.to_string(),
        source: e.into(),
    };
    let vector_column = entry
        .embedding
        .as_ref()
        .map(|e| e.column.clone())
        .filter(|c| ds.schema().field(c).is_some());
    let projection: Vec<String> = ds
        .schema()
        .fields
        .iter()
        .map(|f| f.name.clone())
        .filter(|n| Some(n) != vector_column.as_ref())
        .collect();
    let fulltext_columns = fulltext_indexed_columns(&ds).await.map_err(lance_err)?;
    let mut notes = Vec::new();

    let mut mode = request.mode;
    if mode == SearchMode::Hybrid && fulltext_columns.is_empty() {
        mode = SearchMode::Semantic;
        notes.push(format!(
            "no full-text index, so these are semantic results only (run `lakebook index {name}`)"
        ));
    }
    if mode != SearchMode::Fulltext {
        if vector_column.is_none() {
            return Err(SearchError::NotEmbedded {
                name: name.to_string(),
            });
        }
        if let Some(e) = &entry.embedding
            && e.rows_pending > 0
        {
            notes.push(format!(
                "{} rows added since the last embed have no vector yet and are not searched semantically (run `lakebook embed {name}`)",
                e.rows_pending
            ));
        }
    }
    if mode == SearchMode::Fulltext && fulltext_columns.is_empty() {
        return Err(SearchError::NoFulltextIndex {
            name: name.to_string(),
        });
    }

    let k = request.k.max(1);
    let depth = if mode == SearchMode::Hybrid {
        (k * HYBRID_DEPTH).max(20)
    } else {
        k
    };
    let semantic = match (mode, &vector_column, vector) {
        (SearchMode::Semantic | SearchMode::Hybrid, Some(column), Some(v)) => {
            Some(nearest(&ds, name, column, v, depth, request, &projection).await?)
        }
        _ => None,
    };
    let fulltext = match mode {
        SearchMode::Fulltext | SearchMode::Hybrid => Some(
            bm25(
                &ds,
                name,
                &request.query,
                &fulltext_columns,
                depth,
                request,
                &projection,
            )
            .await?,
        ),
        SearchMode::Semantic => None,
    };

    let (rows, row_ids) = match (semantic, fulltext) {
        (Some(s), None) => {
            let distance = s
                .column_by_name("_distance")
                .map(|c| c.as_primitive::<Float32Type>().clone())
                .unwrap_or_else(|| Float32Array::from(Vec::<f32>::new()));
            let scores: Vec<f32> = distance.iter().map(|d| 1.0 - d.unwrap_or(1.0)).collect();
            let picks: Vec<(usize, usize)> = (0..s.num_rows()).map(|r| (0, r)).collect();
            (
                assemble(&[&s], &picks, scores, &projection)?,
                row_ids(&[&s], &picks),
            )
        }
        (None, Some(f)) => {
            let scores: Vec<f32> = f
                .column_by_name("_score")
                .map(|c| {
                    c.as_primitive::<Float32Type>()
                        .iter()
                        .map(|s| s.unwrap_or(0.0))
                        .collect()
                })
                .unwrap_or_default();
            let picks: Vec<(usize, usize)> = (0..f.num_rows()).map(|r| (0, r)).collect();
            (
                assemble(&[&f], &picks, scores, &projection)?,
                row_ids(&[&f], &picks),
            )
        }
        (Some(s), Some(f)) => {
            let (picks, scores) = fuse(&s, &f, k);
            (
                assemble(&[&s, &f], &picks, scores, &projection)?,
                row_ids(&[&s, &f], &picks),
            )
        }
        (None, None) => {
            return Err(SearchError::NotEmbedded {
                name: name.to_string(),
            });
        }
    };
    let rows =
        columns::as_named_in(rows, &Schema::from(ds.schema())).map_err(lance_err_arrow(name))?;
    Ok(SearchHits {
        dataset: name.to_string(),
        kind: entry.kind,
        mode,
        rows,
        notes,
        row_ids,
    })
}

fn bad_filter(name: &str, request: &SearchRequest, e: lance::Error) -> SearchError {
    match &request.filter {
        Some(filter) => SearchError::BadFilter {
            name: name.to_string(),
            filter: filter.clone(),
            source: e,
        },
        None => SearchError::Lance {
            name: name.to_string(),
            source: e.into(),
        },
    }
}

/// Turns Arrow errors of dataset `name` into search errors.
fn lance_err_arrow(name: &str) -> impl Fn(arrow::error::ArrowError) -> SearchError + '_ {
    move |e| SearchError::Lance {
        name: name.to_string(),
        source: e.into(),
    }
}

/// Turns Lance errors of dataset `name` into search errors.
fn lance_error(name: &str) -> impl Fn(lance::Error) -> SearchError + '_ {
    move |e| SearchError::Lance {
        name: name.to_string(),
        source: e.into(),
    }
}

/// A SQL predicate as Lance's filter parser reads it. In SQL `"name"` is a
/// column; Lance's parser takes it for a string and quotes columns with
/// backticks, so a filter that works in a SQL cell would silently match
/// nothing. Double-quoted names become backtick-quoted; string literals and
/// everything else pass through as written.
pub fn lance_filter(sql: &str, renames: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                out.push(c);
                // A string literal, with '' for a quote inside it.
                while let Some(s) = chars.next() {
                    out.push(s);
                    if s == '\'' {
                        if chars.peek() == Some(&'\'') {
                            out.push('\'');
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            '"' | '`' => {
                let mut name = String::new();
                while let Some(s) = chars.next() {
                    if s == c {
                        if chars.peek() == Some(&c) {
                            name.push(c);
                            chars.next();
                        } else {
                            break;
                        }
                    } else {
                        name.push(s);
                    }
                }
                let stored = renames.get(&name).unwrap_or(&name);
                out.push('`');
                out.push_str(&stored.replace('`', "``"));
                out.push('`');
            }
            _ => out.push(c),
        }
    }
    out
}

/// A scan of the projected columns with row ids, `--where` applied before ranking.
fn ranked_scan(
    ds: &Arc<Dataset>,
    name: &str,
    request: &SearchRequest,
    projection: &[String],
) -> Result<Scanner, SearchError> {
    let mut scan = ds.scan();
    scan.project(projection).map_err(lance_error(name))?;
    scan.with_row_id();
    scan.prefilter(true);
    if let Some(filter) = &request.filter {
        let renames = columns::renames(&Schema::from(ds.schema()));
        scan.filter(&lance_filter(filter, &renames))
            .map_err(|e| bad_filter(name, request, e))?;
    }
    Ok(scan)
}

async fn nearest(
    ds: &Arc<Dataset>,
    name: &str,
    column: &str,
    vector: &[f32],
    k: usize,
    request: &SearchRequest,
    projection: &[String],
) -> Result<RecordBatch, SearchError> {
    let indexed = has_vector_index(ds, column)
        .await
        .map_err(lance_error(name))?;
    let query = Float32Array::from(vector.to_vec());
    let mut scan = ranked_scan(ds, name, request, projection)?;
    scan.nearest(column, &query, k).map_err(lance_error(name))?;
    scan.distance_metric(DistanceType::Cosine);
    if request.exact {
        scan.use_index(false);
    } else if indexed {
        // Re-rank a few times k candidates with exact distances: better recall, exact scores.
        scan.refine(4);
        scan.ef((k * 8).max(64));
    }
    scan.try_into_batch()
        .await
        .map_err(|e| bad_filter(name, request, e))
}

async fn bm25(
    ds: &Arc<Dataset>,
    name: &str,
    text: &str,
    columns: &[String],
    k: usize,
    request: &SearchRequest,
    projection: &[String],
) -> Result<RecordBatch, SearchError> {
    let query = FullTextSearchQuery::new(text.to_string())
        .with_columns(columns)
        .map_err(lance_error(name))?;
    let mut scan = ranked_scan(ds, name, request, projection)?;
    scan.full_text_search(query).map_err(lance_error(name))?;
    scan.limit(Some(k as i64), None)
        .map_err(lance_error(name))?;
    scan.try_into_batch()
        .await
        .map_err(|e| bad_filter(name, request, e))
}

/// Reciprocal rank fusion of two ranked lists, matched on `_rowid`: the best
/// `k` as (list, row) picks with their fused scores.
fn fuse(
    semantic: &RecordBatch,
    fulltext: &RecordBatch,
    k: usize,
) -> (Vec<(usize, usize)>, Vec<f32>) {
    let ids = |b: &RecordBatch| -> Vec<u64> {
        b.column_by_name("_rowid")
            .map(|c| c.as_primitive::<UInt64Type>().values().to_vec())
            .unwrap_or_default()
    };
    // row id -> (fused score, where to read the row, best rank for tie-breaks)
    let mut fused: HashMap<u64, (f32, (usize, usize), usize)> = HashMap::new();
    for (list, batch) in [semantic, fulltext].into_iter().enumerate() {
        for (rank, id) in ids(batch).into_iter().enumerate() {
            let add = 1.0 / (RRF_K + rank as f32 + 1.0);
            let slot = fused.entry(id).or_insert((0.0, (list, rank), rank));
            slot.0 += add;
            slot.2 = slot.2.min(rank);
        }
    }
    let mut ranked: Vec<(f32, (usize, usize), usize)> = fused.into_values().collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)));
    ranked.truncate(k);
    ranked.into_iter().map(|(s, pick, _)| (pick, s)).unzip()
}

/// The `_rowid` of each picked row.
fn row_ids(sources: &[&RecordBatch], picks: &[(usize, usize)]) -> Vec<u64> {
    picks
        .iter()
        .filter_map(|(list, row)| {
            let ids = sources.get(*list)?.column_by_name("_rowid")?;
            let ids = ids.as_primitive::<UInt64Type>();
            (*row < ids.len()).then(|| ids.value(*row))
        })
        .collect()
}

/// The output batch: `score`, then the projected columns of the picked rows.
fn assemble(
    sources: &[&RecordBatch],
    picks: &[(usize, usize)],
    scores: Vec<f32>,
    projection: &[String],
) -> Result<RecordBatch, SearchError> {
    let arrow_err = |e: arrow::error::ArrowError| SearchError::Lance {
        name: String::new(),
        source: e.into(),
    };
    let mut fields = vec![Field::new("score", DataType::Float32, false)];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(Float32Array::from(scores))];
    for name in projection {
        let parts: Vec<&dyn Array> = sources
            .iter()
            .filter_map(|b| b.column_by_name(name).map(|c| c.as_ref()))
            .collect();
        if parts.len() != sources.len() {
            continue;
        }
        let Some(field) = sources[0].schema().field_with_name(name).ok().cloned() else {
            continue;
        };
        columns.push(interleave(&parts, picks).map_err(arrow_err)?);
        fields.push(field.with_nullable(true));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_quoted_names_become_lance_columns_and_strings_stay_strings() {
        let none = HashMap::new();
        assert_eq!(
            lance_filter(r#""region" = 'north' AND "Sepal.Length" > 2"#, &none),
            "`region` = 'north' AND `Sepal.Length` > 2"
        );
        assert_eq!(
            lance_filter(r#"title = 'say "hi"' OR "it""s" = 'don''t'"#, &none),
            r#"title = 'say "hi"' OR `it"s` = 'don''t'"#
        );
        assert_eq!(lance_filter("`a` = 1", &none), "`a` = 1");
        assert_eq!(
            lance_filter(r#""odd`name" IS NULL"#, &none),
            "`odd``name` IS NULL"
        );
        assert_eq!(lance_filter("`a``b` = 1", &none), "`a``b` = 1");
        // Columns stored under another name are filtered by their stored name.
        let renames = HashMap::from([("Sepal.Length".to_string(), "Sepal_Length".to_string())]);
        assert_eq!(
            lance_filter(r#""Sepal.Length" > 2 AND `Sepal.Length` < 9"#, &renames),
            "`Sepal_Length` > 2 AND `Sepal_Length` < 9"
        );
    }
    use arrow::array::UInt64Array;

    fn ranked(ids: &[u64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "_rowid",
            DataType::UInt64,
            false,
        )]));
        RecordBatch::try_new(schema, vec![Arc::new(UInt64Array::from(ids.to_vec()))])
            .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(Schema::empty())))
    }

    #[test]
    fn fusion_rewards_rows_both_lists_agree_on() {
        let semantic = ranked(&[10, 11, 12]);
        let fulltext = ranked(&[12, 13]);
        let (picks, scores) = fuse(&semantic, &fulltext, 3);
        // 12 is third in one list and first in the other: it wins.
        assert_eq!(picks[0], (0, 2));
        assert!(scores[0] > scores[1]);
        // Of the rows only one list has, the top-ranked one comes next.
        assert_eq!(picks[1], (0, 0));
        assert_eq!(picks.len(), 3);
    }
}
