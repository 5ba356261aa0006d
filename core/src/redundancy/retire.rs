//! Retiring a redundant dataset, and bringing it back.
//!
//! `retire` turns a dataset that another one duplicates or contains into a
//! view over that container, and only after proving the view exact: the
//! view's rows and the dataset's stored rows are hashed value by value with
//! every bit of floats and decimals kept ([`rows::exact_value_hashes`]), and
//! their multisets must be equal. The dataset then gets a new, empty Lance
//! version; its rows stay in its history, so `restore` brings them back byte
//! for byte (Lance restores the old version's data files, not a copy).
//!
//! The view reads the container at the version that was checked
//! (`container@N`), so later writes to the container change nothing. The
//! container then keeps its name and cannot be removed while the view needs it.
//!
//! The order of the writes keeps every step safe to interrupt: the catalog
//! records the view first (the rows are still in the latest version, and the
//! view yields the same rows), then the empty version is committed, then its
//! number recorded. Restore commits first and records after.

use arrow::array::RecordBatch;
use futures::StreamExt;
use serde::Serialize;

use super::rebuild::{Rebuild, aliased};
use super::rows::{Hash128, exact_value_hashes, row_hash};
use super::{
    RedundancyError, RedundancyOptions, RedundantPair, Relation, dataset_bytes, find_redundancy,
};
use crate::job::Job;
use crate::lake::{DatasetEntry, Lake, LakeError, LakeLock, RetiredEntry};
use crate::profile::sketch::mix;
use crate::sql::{SqlEngine, quote_ident};

/// What a retirement did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetireReport {
    /// The dataset retired.
    pub name: String,
    /// How its rows stood in the container.
    pub relation: Relation,
    /// The dataset its view reads.
    pub container: String,
    /// The container's version the view reads.
    pub container_version: u64,
    /// The view's query.
    pub query: String,
    /// Rows verified equal (as a multiset, every bit) before retiring.
    pub rows: u64,
    /// The dataset's version that keeps its rows (what `restore` brings back).
    pub data_version: u64,
    /// The dataset's new, empty version.
    pub retired_version: u64,
    /// Bytes of the dataset's folder, all kept in its history until it is cleaned up.
    pub bytes: u64,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restored {
    /// The dataset.
    pub name: String,
    /// The version whose rows came back.
    pub from_version: u64,
    /// The new latest version, holding them.
    pub version: u64,
    /// Rows it holds.
    pub rows: u64,
}

/// The container chosen and how A is read from it.
#[derive(Debug, Clone)]
struct Source {
    relation: Relation,
    container: String,
    container_version: u64,
    /// A's columns and the container's columns they come from.
    mapping: Vec<(String, String)>,
    predicate: Option<String>,
}

/// Why no container rebuilds `name`, from what the redundancy run found.
fn no_source_reason(name: &str, pairs: &[&RedundantPair], into: Option<&str>) -> String {
    let within = into.map_or(String::new(), |c| format!(" in '{c}'"));
    if let Some(p) = pairs.iter().find(|p| p.relation != Relation::Overlapping) {
        return format!(
            "'{name}' is {} '{}', but no range predicate selects exactly its rows there, so no view rebuilds it yet; it is not retired",
            if p.relation == Relation::Duplicate {
                "a duplicate of"
            } else {
                "contained in"
            },
            p.b
        );
    }
    if let Some(p) = pairs.first() {
        let how = match p.stage {
            super::Decided::Content => "sampled",
            super::Decided::Exact => "counted",
        };
        return format!(
            "'{name}' only overlaps '{}' ({:.1}% of {} {how} rows found there); a dataset is retired only when every row is rebuilt",
            p.b,
            p.share * 100.0,
            p.checked_rows
        );
    }
    format!("no dataset{within} holds every row of '{name}', so nothing could rebuild it")
}

/// Picks the container of `name`: duplicates before containers, then the
/// smallest on disk (the cheapest to rebuild from).
fn choose_source(
    lake: &Lake,
    name: &str,
    version: u64,
    pairs: &[RedundantPair],
    into: Option<&str>,
) -> Result<Source, RedundancyError> {
    let mut sources = Vec::new();
    let mut near = Vec::new();
    for p in pairs {
        if p.a == name && p.a_version == version && into.is_none_or(|c| c == p.b) {
            near.push(p);
            if p.relation != Relation::Overlapping && p.rebuild.is_some() {
                sources.push(Source {
                    relation: p.relation,
                    container: p.b.clone(),
                    container_version: p.b_version,
                    mapping: p.mapping.clone(),
                    predicate: p.rebuild_where.clone(),
                });
            }
        } else if p.b == name
            && p.b_version == version
            && p.relation == Relation::Duplicate
            && into.is_none_or(|c| c == p.a)
        {
            sources.push(Source {
                relation: p.relation,
                container: p.a.clone(),
                container_version: p.a_version,
                mapping: p
                    .mapping
                    .iter()
                    .map(|(x, y)| (y.clone(), x.clone()))
                    .collect(),
                predicate: None,
            });
        }
    }
    let mut ranked = Vec::new();
    for s in sources {
        let bytes = dataset_bytes(lake, &s.container)?;
        ranked.push((s.relation != Relation::Duplicate, bytes, s));
    }
    ranked.sort_by_key(|x| (x.0, x.1));
    ranked
        .into_iter()
        .next()
        .map(|(_, _, s)| s)
        .ok_or_else(|| RedundancyError::BadOptions(no_source_reason(name, &near, into)))
}

/// The view's query: the container's columns under the dataset's names, cast
/// to its types where they differ, read at the version that was compared.
async fn view_query(
    engine: &SqlEngine,
    name: &str,
    version: u64,
    source: &Source,
) -> Result<String, RedundancyError> {
    let plan_error = |e: crate::sql::SqlError| RedundancyError::Read {
        name: name.to_string(),
        source: Box::new(e),
    };
    let at = |n: &str, v: u64| quote_ident(&format!("{n}@{v}"));
    let own = engine
        .plan(&format!("SELECT * FROM {} LIMIT 0", at(name, version)))
        .await
        .map_err(plan_error)?;
    let from = format!("{}@{}", source.container, source.container_version);
    let theirs = engine
        .plan(&format!("SELECT * FROM {} LIMIT 0", quote_ident(&from)))
        .await
        .map_err(plan_error)?;
    let mut columns = Vec::new();
    let mut missing = Vec::new();
    for field in own.schema().as_arrow().fields() {
        let Some((_, b)) = source.mapping.iter().find(|(a, _)| a == field.name()) else {
            missing.push(field.name().clone());
            continue;
        };
        let b_type = theirs
            .schema()
            .as_arrow()
            .field_with_name(b)
            .map(|f| f.data_type().clone())
            .map_err(|e| RedundancyError::Gone {
                name: source.container.clone(),
                reason: e.to_string(),
            })?;
        let read = if &b_type == field.data_type() {
            quote_ident(b)
        } else {
            format!("arrow_cast({}, '{}')", quote_ident(b), field.data_type())
        };
        columns.push(aliased(read, field.name()));
    }
    if !missing.is_empty() {
        return Err(RedundancyError::BadOptions(format!(
            "a view over '{}' would not rebuild column(s) {} of '{name}' (they were left out of the comparison), so it is not retired",
            source.container,
            missing.join(", ")
        )));
    }
    Ok(Rebuild::new(&columns, source.predicate.clone()).sql(&from))
}

/// A multiset of rows in constant memory: the row count and two sums of
/// independent mixes of each row's exact hash (equal multisets give equal
/// digests; unequal ones collide with negligible chance).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Digest {
    rows: u64,
    sum: u128,
    mixed: u128,
}

impl Digest {
    fn add(&mut self, batch: &RecordBatch) {
        let columns: Vec<Vec<Hash128>> = batch
            .columns()
            .iter()
            .map(|c| exact_value_hashes(c.as_ref()))
            .collect();
        for row in 0..batch.num_rows() {
            let h = row_hash(columns.iter().map(|c| c[row]));
            let (hi, lo) = ((h >> 64) as u64, h as u64);
            let again =
                (u128::from(mix(lo ^ 0x9e37_79b9)) << 64) | u128::from(mix(hi ^ 0x7f4a_7c15));
            self.rows += 1;
            self.sum = self.sum.wrapping_add(h);
            self.mixed = self.mixed.wrapping_add(again);
        }
    }
}

/// The digest of a query's rows and the Arrow types of its columns.
async fn digest(
    engine: &SqlEngine,
    name: &str,
    query: &str,
    job: &Job,
) -> Result<(Digest, Vec<(String, String)>), RedundancyError> {
    let read = |e: crate::BoxError| RedundancyError::Read {
        name: name.to_string(),
        source: e,
    };
    let df = engine.plan(query).await.map_err(|e| read(Box::new(e)))?;
    let types = df
        .schema()
        .as_arrow()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().to_string()))
        .collect();
    let mut stream = df.execute_stream().await.map_err(|e| read(Box::new(e)))?;
    let mut digest = Digest::default();
    while let Some(batch) = stream.next().await {
        if job.is_cancelled() {
            return Err(RedundancyError::Cancelled);
        }
        let batch = batch.map_err(|e| read(Box::new(e)))?;
        digest.add(&batch);
        job.advance(batch.num_rows() as u64);
    }
    Ok((digest, types))
}

/// Refuses what cannot be retired: a dataset already retired, one with
/// vectors (a view cannot rebuild them), one that rebuilds another retired
/// dataset, and a stored graph's parts.
fn check_retirable(lake: &Lake, name: &str) -> Result<(), RedundancyError> {
    let entry = lake.entry(name)?;
    if let Some(r) = &entry.retired {
        return Err(LakeError::Retired {
            name: name.to_string(),
            container: r.container.clone(),
        }
        .into());
    }
    if let Some(e) = &entry.embedding {
        return Err(RedundancyError::BadOptions(format!(
            "'{name}' has vectors (column '{}'), which no view over another dataset rebuilds; it is not retired",
            e.column
        )));
    }
    lake.catalog().check_not_a_container(name)?;
    if let Some(graph) = crate::graph::graph_parts(lake).remove(name) {
        return Err(LakeError::GraphPart {
            name: name.to_string(),
            graph,
        }
        .into());
    }
    Ok(())
}

/// Retires `name` into a view over the dataset that contains it (`into`, or
/// the best one found), after checking the view yields exactly its rows.
/// Nothing changes when any check fails.
pub async fn retire(
    lake: &mut Lake,
    name: &str,
    into: Option<&str>,
    job: &Job,
) -> Result<RetireReport, RedundancyError> {
    check_retirable(lake, name)?;
    let version = lake.entry(name)?.version;
    let report = find_redundancy(lake, &RedundancyOptions::default(), job).await?;
    let source = choose_source(lake, name, version, &report.pairs, into)?;
    let engine = SqlEngine::new(lake);
    let query = view_query(&engine, name, version, &source).await?;

    let rows = lake.entry(name)?.rows;
    job.begin_stage(
        format!("checking the view of '{name}' row by row"),
        2 * rows,
        "rows",
    );
    let own = format!(
        "SELECT * FROM {}",
        quote_ident(&format!("{name}@{version}"))
    );
    let (stored, stored_types) = digest(&engine, name, &own, job).await?;
    let (viewed, view_types) = digest(&engine, &source.container, &query, job).await?;
    if view_types != stored_types {
        return Err(RedundancyError::BadOptions(format!(
            "the view over '{}' yields columns {view_types:?}, not those of '{name}' {stored_types:?}; it is not retired",
            source.container
        )));
    }
    if viewed != stored {
        return Err(RedundancyError::BadOptions(format!(
            "the view over '{}' yields {} rows that are not exactly the {} rows of '{name}' (values differ in some bits, or in copies); it is not retired",
            source.container, viewed.rows, stored.rows
        )));
    }
    commit_retirement(lake, name, version, source, query, stored.rows).await
}

/// Changes `name`'s catalog entry, under the lake lock `held`.
fn change_entry(
    lake: &mut Lake,
    held: &LakeLock,
    name: &str,
    change: impl FnOnce(&mut DatasetEntry),
) -> Result<(), LakeError> {
    lake.update_catalog_locked(held, |catalog| {
        if let Some(e) = catalog.datasets.get_mut(name) {
            change(e);
        }
        Ok(())
    })
}

/// Records the checked view and moves the rows into history (see the module doc).
async fn commit_retirement(
    lake: &mut Lake,
    name: &str,
    version: u64,
    source: Source,
    query: String,
    rows: u64,
) -> Result<RetireReport, RedundancyError> {
    let changed = |what| {
        RedundancyError::Lake(LakeError::Conflict {
            name: name.to_string(),
            what,
        })
    };
    let held = lake.lock().await?;
    lake.reload_catalog(&held)?;
    check_retirable(lake, name)?;
    let recorded = lake.entry(name)?.version;
    let container_ok = lake
        .entry(&source.container)
        .is_ok_and(|c| c.retired.is_none());
    if recorded != version || !container_ok {
        return Err(changed("or its container was changed"));
    }
    let mut dataset = (*lake.open_dataset(name, None).await?).clone();
    if dataset.version().version != version {
        return Err(changed("was written to"));
    }
    let retired = RetiredEntry {
        container: source.container.clone(),
        container_version: source.container_version,
        query: query.clone(),
        data_version: version,
        rows,
        retired: chrono::Utc::now(),
        extra: serde_json::Map::new(),
    };
    change_entry(lake, &held, name, |e| e.retired = Some(retired))?;
    let lance_err = |e: lance::Error| LakeError::Lance {
        name: name.to_string(),
        source: Box::new(e),
    };
    if let Err(e) = dataset.truncate_table().await {
        // Nothing was committed: the dataset is as it was.
        change_entry(lake, &held, name, |e| e.retired = None)?;
        return Err(lance_err(e).into());
    }
    let retired_version = dataset.version().version;
    change_entry(lake, &held, name, |e| {
        e.version = retired_version;
        e.updated = chrono::Utc::now();
    })?;
    drop(held);
    Ok(RetireReport {
        name: name.to_string(),
        relation: source.relation,
        container: source.container,
        container_version: source.container_version,
        query,
        rows,
        data_version: version,
        retired_version,
        bytes: dataset_bytes(lake, name)?,
    })
}

/// Brings a retired dataset's rows back: the version that held them becomes
/// the latest again (the same data files), and the view goes.
pub async fn restore_retired(lake: &mut Lake, name: &str) -> Result<Restored, RedundancyError> {
    let held = lake.lock().await?;
    lake.reload_catalog(&held)?;
    let entry = lake.entry(name)?.clone();
    let Some(retired) = entry.retired else {
        return Err(RedundancyError::BadOptions(format!(
            "'{name}' is not retired"
        )));
    };
    let lance_err = |e: lance::Error| LakeError::Lance {
        name: name.to_string(),
        source: Box::new(e),
    };
    let latest = lake.open_dataset(name, None).await?;
    let mut old = latest
        .checkout_version(retired.data_version)
        .await
        .map_err(|e| RedundancyError::Gone {
            name: name.to_string(),
            reason: format!(
                "version {} that held its rows can no longer be read ({e}); its view over '{}' still answers",
                retired.data_version, retired.container
            ),
        })?;
    old.restore().await.map_err(lance_err)?;
    let rows = old.count_rows(None).await.map_err(lance_err)? as u64;
    let version = old.version().version;
    change_entry(lake, &held, name, |e| {
        e.retired = None;
        e.version = version;
        e.rows = rows;
        e.updated = chrono::Utc::now();
    })?;
    Ok(Restored {
        name: name.to_string(),
        from_version: retired.data_version,
        version,
        rows,
    })
}
