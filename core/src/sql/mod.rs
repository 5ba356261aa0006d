//! SQL over the lake with DataFusion: every dataset is a table under its name.
//!
//! Datasets are opened lazily when a query names them. `"name@3"` reads
//! version 3 of dataset `name`. Tables and views created in a session live
//! in that session only.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::default_table_source::provider_as_source;
use datafusion::catalog::view::ViewTable;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::common::Column;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{DdlStatement, Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use lance::datafusion::LanceTableProvider;

use crate::lake::{Lake, LakeError, columns};

mod cache;

use cache::{CachedTable, ColumnCache};

/// A table or column name quoted as a SQL identifier (`"name"`, inner quotes doubled).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A failed query, with the query and DataFusion's own words.
#[derive(Debug, thiserror::Error)]
#[error("{message}\n  in query: {query}")]
pub struct SqlError {
    /// The SQL text.
    pub query: String,
    /// DataFusion's message (or why the plan was refused).
    pub message: String,
    /// DataFusion's error, when it gave one.
    #[source]
    pub source: Option<DataFusionError>,
}

impl SqlError {
    /// A failed query in DataFusion's words, keeping its error.
    fn from_datafusion(query: &str, error: DataFusionError) -> Self {
        SqlError {
            query: query.to_string(),
            message: error.to_string(),
            source: Some(error),
        }
    }
}

/// The result of a query, all batches collected.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// Columns of the result.
    pub schema: SchemaRef,
    /// Rows, in batches.
    pub batches: Vec<RecordBatch>,
}

impl QueryResult {
    /// Number of rows in all batches.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Refuses a plan that reads or writes files outside the lake or changes
/// datasets behind the catalog's back: `COPY ... TO`, `CREATE EXTERNAL
/// TABLE` and `INSERT`/`UPDATE`/`DELETE`, also inside `EXPLAIN ANALYZE`.
/// Notebooks are shared, so their SQL must not touch the machine. Views and
/// in-memory tables of the session stay allowed.
pub fn check_plan(plan: &LogicalPlan) -> Result<(), String> {
    let mut refused: Option<String> = None;
    let _ = plan.apply_with_subqueries(|node| {
        refused = match node {
            LogicalPlan::Copy(_) => Some(
                "COPY ... TO writes files, and SQL in Lakebook never writes outside the lake; \
                 export a result from its cell (or `lakebook sql ... --format csv > FILE`)"
                    .to_string(),
            ),
            LogicalPlan::Ddl(DdlStatement::CreateExternalTable(t)) => Some(format!(
                "CREATE EXTERNAL TABLE reads files, and SQL in Lakebook reads only the lake; \
                 ingest the file instead: `lakebook ingest {}`",
                t.location
            )),
            LogicalPlan::Dml(dml) => Some(format!(
                "{} changes a dataset outside Lakebook's versioned writes; \
                 use `lakebook ingest --mode append` or `--mode overwrite` instead",
                dml.op
            )),
            _ => None,
        };
        Ok(if refused.is_some() {
            datafusion::common::tree_node::TreeNodeRecursion::Stop
        } else {
            datafusion::common::tree_node::TreeNodeRecursion::Continue
        })
    });
    match refused {
        Some(reason) => Err(reason),
        None => Ok(()),
    }
}

/// Lake datasets as a DataFusion schema.
#[derive(Debug)]
struct LakeSchema {
    lake: Lake,
    cache: Option<Arc<ColumnCache>>,
    opened: Mutex<HashMap<String, Arc<dyn TableProvider>>>,
    session_tables: Mutex<HashMap<String, Arc<dyn TableProvider>>>,
    /// Datasets read at a fixed version when named without `@N`.
    pins: HashMap<String, u64>,
    /// Every dataset version queries of this session have read.
    read: Mutex<BTreeMap<String, u64>>,
    /// Whether a retired dataset is read through its view (not inside a
    /// view, so a crafted catalog cannot make views read each other forever).
    views: bool,
}

/// The table under the column names the user knows (`Sepal.Length`), when
/// some are stored under others (see [`crate::lake::columns`]): a view that
/// renames, which DataFusion inlines, so filters and projections still reach Lance.
fn with_user_names(
    provider: Arc<dyn TableProvider>,
) -> Result<Arc<dyn TableProvider>, DataFusionError> {
    let schema = provider.schema();
    if !columns::has_renamed(&schema) {
        return Ok(provider);
    }
    let exprs: Vec<Expr> = schema
        .fields()
        .iter()
        .map(|f| Expr::Column(Column::new_unqualified(f.name())).alias(columns::user_name(f)))
        .collect();
    let plan = LogicalPlanBuilder::scan("stored", provider_as_source(provider), None)?
        .project(exprs)?
        .build()?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}

impl LakeSchema {
    /// A retired dataset named without a version (or pinned to one after
    /// its rows moved into its history) is read through its view: the
    /// recorded query over its container, planned in a session of its own.
    async fn retired_view(
        &self,
        name: &str,
    ) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        let Some(entry) = self.lake.catalog().datasets.get(name) else {
            return Ok(None);
        };
        let Some(retired) = entry.retired.as_ref() else {
            return Ok(None);
        };
        if !self.views
            || self
                .pins
                .get(name)
                .is_some_and(|&v| v <= retired.data_version)
        {
            return Ok(None);
        }
        let options = SqlOptions {
            cache: self.cache.clone().map(SqlCache),
            pins: HashMap::new(),
        };
        let inner = SqlEngine::build(&self.lake, options, false);
        let df = inner.plan(&retired.query).await.map_err(|e| {
            DataFusionError::Plan(format!(
                "'{name}' is retired and read through a view over '{}', which failed: {e}",
                retired.container
            ))
        })?;
        if let Ok(mut read) = self.read.lock() {
            read.insert(name.to_string(), entry.version);
            read.extend(inner.versions_read());
        }
        let provider = df.into_view();
        if let Ok(mut o) = self.opened.lock() {
            o.insert(name.to_string(), provider.clone());
        }
        Ok(Some(provider))
    }
}

/// Splits `name@7` into the dataset and version, when `name` is a dataset.
fn versioned<'a>(lake: &Lake, name: &'a str) -> Option<(&'a str, u64)> {
    let (base, v) = name.rsplit_once('@')?;
    let v = v.parse().ok()?;
    lake.catalog()
        .datasets
        .contains_key(base)
        .then_some((base, v))
}

#[async_trait]
impl SchemaProvider for LakeSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.lake.dataset_names();
        if let Ok(t) = self.session_tables.lock() {
            names.extend(t.keys().cloned());
        }
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        if let Some(t) = self
            .session_tables
            .lock()
            .ok()
            .and_then(|t| t.get(name).cloned())
        {
            return Ok(Some(t));
        }
        if let Some(t) = self.opened.lock().ok().and_then(|o| o.get(name).cloned()) {
            return Ok(Some(t));
        }
        if let Some(view) = self.retired_view(name).await? {
            return Ok(Some(view));
        }
        let (dataset, version) = if self.lake.catalog().datasets.contains_key(name) {
            (name, self.pins.get(name).copied())
        } else if let Some((base, v)) = versioned(&self.lake, name) {
            (base, Some(v))
        } else {
            return Ok(None);
        };
        let ds = self
            .lake
            .open_dataset(dataset, version)
            .await
            .map_err(|e: LakeError| DataFusionError::External(Box::new(e)))?;
        let key = format!("{dataset}@{}", ds.version().version);
        if let Ok(mut read) = self.read.lock() {
            read.insert(dataset.to_string(), ds.version().version);
        }
        let rows = match &self.cache {
            Some(_) => ds
                .count_rows(None)
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?,
            None => 0,
        };
        let lance: Arc<dyn TableProvider> = Arc::new(LanceTableProvider::new(ds, false, false));
        let provider: Arc<dyn TableProvider> = match &self.cache {
            Some(cache) => Arc::new(CachedTable::new(key, lance, rows, cache.clone())),
            None => lance,
        };
        let provider = with_user_names(provider)?;
        if let Ok(mut o) = self.opened.lock() {
            o.insert(name.to_string(), provider.clone());
        }
        Ok(Some(provider))
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        if self.lake.catalog().datasets.contains_key(&name) {
            return Err(DataFusionError::Plan(format!(
                "'{name}' is a dataset of the lake; pick another name"
            )));
        }
        let mut t = self
            .session_tables
            .lock()
            .map_err(|_| DataFusionError::Internal("session table lock poisoned".into()))?;
        Ok(t.insert(name, table))
    }

    fn deregister_table(
        &self,
        name: &str,
    ) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        let mut t = self
            .session_tables
            .lock()
            .map_err(|_| DataFusionError::Internal("session table lock poisoned".into()))?;
        Ok(t.remove(name))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.lake.catalog().datasets.contains_key(name)
            || versioned(&self.lake, name).is_some()
            || self
                .session_tables
                .lock()
                .is_ok_and(|t| t.contains_key(name))
    }
}

/// Decoded columns kept in memory between queries, shareable by several sessions.
#[derive(Debug, Clone)]
pub struct SqlCache(Arc<ColumnCache>);

impl SqlCache {
    /// A cache holding at most `bytes` of decoded columns.
    pub fn new(bytes: usize) -> Self {
        Self(Arc::new(ColumnCache::new(bytes)))
    }
}

/// How a session reads the lake.
#[derive(Debug, Clone, Default)]
pub struct SqlOptions {
    /// Keep decoded columns in memory (entries are per dataset version, so sharing is safe).
    pub cache: Option<SqlCache>,
    /// Read these datasets at these versions when a query names them without `@N`.
    pub pins: HashMap<String, u64>,
}

/// A SQL session over one lake.
#[derive(Clone)]
pub struct SqlEngine {
    ctx: SessionContext,
    schema: Arc<LakeSchema>,
}

impl std::fmt::Debug for SqlEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlEngine").finish_non_exhaustive()
    }
}

impl SqlEngine {
    /// A session where every dataset of `lake` is a table, read from Lance on every query.
    pub fn new(lake: &Lake) -> Self {
        Self::with_options(lake, SqlOptions::default())
    }

    /// Like [`SqlEngine::new`], but keeps decoded columns in memory, up to
    /// `cache_bytes`, so that repeated queries in a long-lived session are fast.
    pub fn with_cache(lake: &Lake, cache_bytes: usize) -> Self {
        Self::with_options(
            lake,
            SqlOptions {
                cache: Some(SqlCache::new(cache_bytes)),
                ..SqlOptions::default()
            },
        )
    }

    /// A session with a shared cache and/or pinned dataset versions.
    pub fn with_options(lake: &Lake, options: SqlOptions) -> Self {
        Self::build(lake, options, true)
    }

    /// A session; `views` says whether retired datasets are read through their views.
    fn build(lake: &Lake, options: SqlOptions, views: bool) -> Self {
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema("lake", "public");
        let ctx = SessionContext::new_with_config(config);
        let catalog = Arc::new(datafusion::catalog::MemoryCatalogProvider::new());
        let schema = Arc::new(LakeSchema {
            lake: lake.clone(),
            cache: options.cache.map(|c| c.0),
            opened: Mutex::new(HashMap::new()),
            session_tables: Mutex::new(HashMap::new()),
            pins: options.pins,
            read: Mutex::new(BTreeMap::new()),
            views,
        });
        // Registering into a fresh in-memory catalog cannot fail.
        let _ = datafusion::catalog::CatalogProvider::register_schema(
            catalog.as_ref(),
            "public",
            schema.clone(),
        );
        ctx.register_catalog("lake", catalog);
        Self { ctx, schema }
    }

    /// Each dataset this session's queries have read, with the version read.
    pub fn versions_read(&self) -> BTreeMap<String, u64> {
        self.schema
            .read
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// The DataFusion session, for callers that need more than [`SqlEngine::query`].
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Plans a query, refusing what reaches outside the lake (see [`check_plan`]).
    pub async fn plan(&self, sql: &str) -> Result<DataFrame, SqlError> {
        let err = |e: DataFusionError| SqlError::from_datafusion(sql, e);
        let state = self.ctx.state();
        let plan = state.create_logical_plan(sql).await.map_err(err)?;
        check_plan(&plan).map_err(|message| SqlError {
            query: sql.to_string(),
            message,
            source: None,
        })?;
        self.ctx.execute_logical_plan(plan).await.map_err(err)
    }

    /// Plans and starts a query; batches are pulled from the stream.
    pub async fn stream(&self, sql: &str) -> Result<SendableRecordBatchStream, SqlError> {
        let df = self.plan(sql).await?;
        df.execute_stream()
            .await
            .map_err(|e| SqlError::from_datafusion(sql, e))
    }

    /// Runs a query and collects all rows.
    pub async fn query(&self, sql: &str) -> Result<QueryResult, SqlError> {
        let df = self.plan(sql).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df
            .collect()
            .await
            .map_err(|e| SqlError::from_datafusion(sql, e))?;
        Ok(QueryResult { schema, batches })
    }
}
