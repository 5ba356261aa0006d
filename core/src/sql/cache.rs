//! A session cache of decoded columns, so that repeated queries in a long-lived
//! session (the notebook, `sql --repeat`) read memory instead of decoding Lance
//! pages again.
//!
//! Columns are cached whole, per dataset version, under a byte budget with
//! least-recently-used eviction. Queries with a `LIMIT` and datasets too large
//! for the budget go straight to Lance, which pushes limits and filters down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::memory::MemorySourceConfig;
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;

/// Rows per batch handed to DataFusion from cached columns.
const BATCH_ROWS: usize = 16 * 1024;

#[derive(Debug, Default)]
struct CacheState {
    used: usize,
    tick: u64,
    entries: HashMap<(String, usize), (ArrayRef, usize, u64)>,
}

/// The columns cached by one SQL session.
#[derive(Debug)]
pub(crate) struct ColumnCache {
    budget: usize,
    state: Mutex<CacheState>,
}

impl ColumnCache {
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            budget,
            state: Mutex::new(CacheState::default()),
        }
    }

    fn get(&self, key: &str, column: usize) -> Option<ArrayRef> {
        let mut s = self.state.lock().ok()?;
        s.tick += 1;
        let tick = s.tick;
        let entry = s.entries.get_mut(&(key.to_string(), column))?;
        entry.2 = tick;
        Some(entry.0.clone())
    }

    fn insert(&self, key: &str, column: usize, array: ArrayRef) {
        let bytes = array.get_array_memory_size();
        let Ok(mut s) = self.state.lock() else { return };
        while s.used + bytes > self.budget && !s.entries.is_empty() {
            let oldest = s
                .entries
                .iter()
                .min_by_key(|(_, (_, _, t))| *t)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest
                && let Some((_, b, _)) = s.entries.remove(&k)
            {
                s.used -= b;
            }
        }
        s.tick += 1;
        let tick = s.tick;
        s.used += bytes;
        if let Some((_, old, _)) = s
            .entries
            .insert((key.to_string(), column), (array, bytes, tick))
        {
            s.used -= old;
        }
    }
}

/// A rough size of a column, to decide whether caching it fits the budget.
fn estimated_bytes(dt: &DataType, rows: usize) -> usize {
    let per_row = dt.primitive_width().unwrap_or(match dt {
        DataType::Boolean => 1,
        _ => 32,
    });
    per_row.saturating_mul(rows)
}

/// A dataset (at one version) served from cached columns when it can be.
#[derive(Debug)]
pub(crate) struct CachedTable {
    key: String,
    inner: Arc<dyn TableProvider>,
    rows: usize,
    cache: Arc<ColumnCache>,
}

impl CachedTable {
    pub(crate) fn new(
        key: String,
        inner: Arc<dyn TableProvider>,
        rows: usize,
        cache: Arc<ColumnCache>,
    ) -> Self {
        Self {
            key,
            inner,
            rows,
            cache,
        }
    }

    /// Loads the columns not yet cached with one Lance scan, then returns all wanted columns.
    async fn columns(
        &self,
        state: &dyn Session,
        wanted: &[usize],
    ) -> Result<Option<Vec<ArrayRef>>> {
        let missing: Vec<usize> = wanted
            .iter()
            .copied()
            .filter(|c| self.cache.get(&self.key, *c).is_none())
            .collect();
        if !missing.is_empty() {
            let plan = self.inner.scan(state, Some(&missing), &[], None).await?;
            let batches = datafusion::physical_plan::collect(plan, state.task_ctx()).await?;
            for (pos, column) in missing.iter().enumerate() {
                let parts: Vec<&dyn Array> =
                    batches.iter().map(|b| b.column(pos).as_ref()).collect();
                let whole = if parts.is_empty() {
                    arrow::array::new_empty_array(self.inner.schema().field(*column).data_type())
                } else {
                    arrow::compute::concat(&parts)?
                };
                self.cache.insert(&self.key, *column, whole);
            }
        }
        // A column evicted while loading others means the budget is too small for this query.
        Ok(wanted
            .iter()
            .map(|c| self.cache.get(&self.key, *c))
            .collect())
    }
}

#[async_trait]
impl TableProvider for CachedTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = self.inner.schema();
        let wanted: Vec<usize> = projection
            .cloned()
            .unwrap_or_else(|| (0..schema.fields().len()).collect());
        let estimate: usize = wanted
            .iter()
            .map(|c| estimated_bytes(schema.field(*c).data_type(), self.rows))
            .sum();
        if limit.is_some() || wanted.is_empty() || estimate > self.cache.budget / 2 {
            return self.inner.scan(state, projection, filters, limit).await;
        }
        let Some(columns) = self.columns(state, &wanted).await? else {
            return self.inner.scan(state, projection, filters, limit).await;
        };
        let projected = Arc::new(schema.project(&wanted)?);
        let rows = columns.first().map(|c| c.len()).unwrap_or(0);
        let parts = state.config().target_partitions().max(1);
        let per_part = rows.div_ceil(parts).max(1);
        let mut partitions: Vec<Vec<RecordBatch>> = Vec::with_capacity(parts);
        let mut start = 0;
        while start < rows {
            let end = (start + per_part).min(rows);
            let mut batches = Vec::new();
            let mut at = start;
            while at < end {
                let len = BATCH_ROWS.min(end - at);
                let cols = columns.iter().map(|c| c.slice(at, len)).collect();
                batches.push(
                    RecordBatch::try_new(projected.clone(), cols).map_err(DataFusionError::from)?,
                );
                at += len;
            }
            partitions.push(batches);
            start = end;
        }
        if partitions.is_empty() {
            partitions.push(Vec::new());
        }
        let exec = MemorySourceConfig::try_new_exec(&partitions, projected, None)?;
        Ok(exec)
    }
}
