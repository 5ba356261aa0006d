//! Cell kinds: what each kind of cell does when run, and the registry of kinds.
//!
//! A new kind is one type implementing [`CellKind`] plus one line in
//! [`Registry::builtin`] (plugins register theirs the same way).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::file::Cell;
use super::pager::{PAGE_ROWS, ResultPager, read_page};
use super::run::{CellError, CellOutput, CellRun, RunContext};
use crate::ingest::{self, IngestOptions, WriteMode};
use crate::job::Job;
use crate::matching::related::{RelatedIndex, lake_sketches};
use crate::matching::{ColumnEmbedder, MatchOutput, Matcher, match_datasets};
use crate::search::{self, SearchMode, SearchRequest};
use crate::sql::{SqlEngine, SqlOptions};

/// One kind of cell.
#[async_trait]
pub trait CellKind: Send + Sync {
    /// The `kind` written in notebook files.
    fn name(&self) -> &'static str;
    /// A short label for menus ("SQL query").
    fn label(&self) -> &'static str;
    /// The parameters of a new, empty cell.
    fn default_params(&self) -> toml::Table;
    /// Runs the cell.
    async fn run(&self, cell: &Cell, ctx: &RunContext<'_>, job: &Job)
    -> Result<CellRun, CellError>;
}

/// The cell kinds a notebook can use, in menu order.
#[derive(Clone)]
pub struct Registry {
    kinds: Vec<Arc<dyn CellKind>>,
}

impl Registry {
    /// The kinds built into Lakebook.
    pub fn builtin() -> Self {
        let mut r = Self { kinds: Vec::new() };
        r.register(Arc::new(MarkdownCell));
        r.register(Arc::new(SqlCell));
        r.register(Arc::new(SearchCell));
        r.register(Arc::new(IngestCell));
        r.register(Arc::new(MatchCell));
        r.register(Arc::new(super::graph_cells::GraphCell));
        r.register(Arc::new(super::graph_cells::CommunitiesCell));
        r.register(Arc::new(super::graph_cells::ClusterCell));
        r
    }

    /// Adds a kind (replacing one of the same name).
    pub fn register(&mut self, kind: Arc<dyn CellKind>) {
        self.kinds.retain(|k| k.name() != kind.name());
        self.kinds.push(kind);
    }

    /// The kind called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn CellKind>> {
        self.kinds.iter().find(|k| k.name() == name).cloned()
    }

    /// Every kind's name, in menu order.
    pub fn names(&self) -> Vec<&'static str> {
        self.kinds.iter().map(|k| k.name()).collect()
    }

    /// Every kind, in menu order.
    pub fn kinds(&self) -> &[Arc<dyn CellKind>] {
        &self.kinds
    }
}

pub(super) fn run_of(output: CellOutput) -> CellRun {
    CellRun {
        output,
        read: BTreeMap::new(),
        changed: Vec::new(),
        elapsed: Duration::ZERO,
        more: None,
    }
}

pub(super) fn table(pairs: &[(&str, toml::Value)]) -> toml::Table {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Text in Markdown, shown rendered.
struct MarkdownCell;

#[async_trait]
impl CellKind for MarkdownCell {
    fn name(&self) -> &'static str {
        "markdown"
    }
    fn label(&self) -> &'static str {
        "Text (Markdown)"
    }
    fn default_params(&self) -> toml::Table {
        table(&[("text", "".into())])
    }
    async fn run(&self, cell: &Cell, _: &RunContext<'_>, _: &Job) -> Result<CellRun, CellError> {
        Ok(run_of(CellOutput::Markdown(cell.text("text").to_string())))
    }
}

/// A SQL query over the lake.
struct SqlCell;

#[async_trait]
impl CellKind for SqlCell {
    fn name(&self) -> &'static str {
        "sql"
    }
    fn label(&self) -> &'static str {
        "SQL query"
    }
    fn default_params(&self) -> toml::Table {
        table(&[("sql", "SELECT 1".into())])
    }
    async fn run(
        &self,
        cell: &Cell,
        ctx: &RunContext<'_>,
        job: &Job,
    ) -> Result<CellRun, CellError> {
        let sql = cell.text("sql");
        if sql.trim().is_empty() {
            return Err(CellError::new("the query is empty"));
        }
        let lake = ctx.lake.read().await;
        let engine = SqlEngine::with_options(
            &lake,
            SqlOptions {
                cache: Some(ctx.sql_cache.clone()),
                pins: ctx.pins.clone().into_iter().collect::<HashMap<_, _>>(),
            },
        );
        // The first page only: the rest stays in the stream until asked for.
        let first_page = async {
            let mut stream = engine
                .stream(sql)
                .await
                .map_err(|e| sql_error(sql, &e.message))?;
            let page = read_page(&mut stream, PAGE_ROWS)
                .await
                .map_err(|message| sql_error(sql, &message))?;
            Ok::<_, CellError>((stream, page))
        };
        let (stream, page) = tokio::select! {
            r = first_page => r?,
            () = job.cancelled() => return Err(CellError::new("cancelled")),
        };
        let schema = stream.schema();
        let more = (!page.done).then(|| ResultPager::new(stream));
        let mut run = run_of(CellOutput::Table {
            schema,
            batches: page.batches,
            complete: page.done,
        });
        run.more = more;
        run.read = engine.versions_read();
        Ok(run)
    }
}

/// DataFusion's message, with the span of the first name it complains about
/// that appears in the query (a quoted name, or the one after "No field named").
fn sql_error(sql: &str, message: &str) -> CellError {
    let quoted = message.split(['\'', '"']).skip(1).step_by(2);
    let unknown_field = message
        .split("No field named ")
        .nth(1)
        .and_then(|rest| rest.split([' ', '.', ',']).next());
    let span = unknown_field
        .into_iter()
        .chain(quoted)
        .filter(|name| !name.is_empty())
        .find_map(|name| {
            let bare = name.rsplit('.').next().unwrap_or(name);
            sql.find(bare).map(|start| start..start + bare.len())
        });
    CellError {
        message: message.to_string(),
        span,
    }
}

/// Semantic / full-text / hybrid search over a dataset or the whole lake.
struct SearchCell;

#[async_trait]
impl CellKind for SearchCell {
    fn name(&self) -> &'static str {
        "search"
    }
    fn label(&self) -> &'static str {
        "Search"
    }
    fn default_params(&self) -> toml::Table {
        table(&[
            ("query", "".into()),
            ("mode", "hybrid".into()),
            ("dataset", "".into()),
            ("k", 10.into()),
        ])
    }
    async fn run(&self, cell: &Cell, ctx: &RunContext<'_>, _: &Job) -> Result<CellRun, CellError> {
        let mode = match cell.text("mode") {
            "semantic" => SearchMode::Semantic,
            "fulltext" | "full-text" => SearchMode::Fulltext,
            "" | "hybrid" => SearchMode::Hybrid,
            other => {
                return Err(CellError::new(format!(
                    "unknown search mode '{other}' (semantic, fulltext or hybrid)"
                )));
            }
        };
        let filter = Some(cell.text("where").trim().to_string()).filter(|w| !w.is_empty());
        let request = SearchRequest {
            query: cell.text("query").to_string(),
            mode,
            k: cell.int("k").unwrap_or(10).clamp(1, 1000) as usize,
            filter,
            exact: cell.flag("exact"),
        };
        let model = if mode == SearchMode::Fulltext {
            None
        } else {
            Some(ctx.model().await?)
        };
        let lake = ctx.lake.read().await;
        let dataset = cell.text("dataset").trim();
        let groups = if dataset.is_empty() {
            search::search_lake(&lake, model.as_deref(), &request).await
        } else {
            search::search_dataset(&lake, model.as_deref(), dataset, &request)
                .await
                .map(|g| vec![g])
        }
        .map_err(CellError::new)?;
        let mut read = BTreeMap::new();
        for g in &groups {
            if let Ok(e) = lake.entry(&g.dataset) {
                read.insert(g.dataset.clone(), e.version);
            }
        }
        let mut run = run_of(CellOutput::Search(groups));
        run.read = read;
        Ok(run)
    }
}

/// Files and folders into the lake.
struct IngestCell;

#[async_trait]
impl CellKind for IngestCell {
    fn name(&self) -> &'static str {
        "ingest"
    }
    fn label(&self) -> &'static str {
        "Ingest files"
    }
    fn default_params(&self) -> toml::Table {
        table(&[
            ("paths", toml::Value::Array(Vec::new())),
            ("mode", "create".into()),
        ])
    }
    async fn run(
        &self,
        cell: &Cell,
        ctx: &RunContext<'_>,
        job: &Job,
    ) -> Result<CellRun, CellError> {
        let paths: Vec<std::path::PathBuf> = cell
            .params
            .get("paths")
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(toml::Value::as_str)
                    .map(|p| ctx.resolve(p))
                    .collect()
            })
            .unwrap_or_default();
        if paths.is_empty() {
            return Err(CellError::new(
                "no files chosen: add files or folders to ingest",
            ));
        }
        let mode = match cell.text("mode") {
            "" | "create" => WriteMode::Create,
            "append" => WriteMode::Append,
            "overwrite" => WriteMode::Overwrite,
            other => {
                return Err(CellError::new(format!(
                    "unknown mode '{other}' (create, append or overwrite)"
                )));
            }
        };
        let name = Some(cell.text("name").trim().to_string()).filter(|n| !n.is_empty());
        let options = IngestOptions {
            name,
            mode,
            ..IngestOptions::default()
        };
        let mut lake = ctx.lake.write().await;
        let report = ingest::ingest(&mut lake, &paths, &options, job)
            .await
            .map_err(CellError::new)?;
        let mut text = String::new();
        for d in &report.datasets {
            text.push_str(&format!(
                "{}: +{} rows ({}, version {}, {} rows in all)\n",
                d.name, d.rows_added, d.kind, d.version, d.rows_total
            ));
            for f in &d.failed {
                text.push_str(&format!("  failed: {}: {}\n", f.path, f.reason));
            }
        }
        for f in &report.failed_tables {
            text.push_str(&format!("left out: {}\n", f.reason));
        }
        let mut run = run_of(CellOutput::Text(text));
        run.changed = report.datasets.iter().map(|d| d.name.clone()).collect();
        Ok(run)
    }
}

/// Schema matching: which columns of two tables correspond, or which tables
/// of the lake relate to one (target left empty).
struct MatchCell;

/// A cell parameter holding pairs of column names: `[["a", "b"], ...]`.
pub fn pair_list(cell: &Cell, key: &str) -> Vec<(String, String)> {
    cell.params
        .get(key)
        .and_then(toml::Value::as_array)
        .map(|pairs| {
            pairs
                .iter()
                .filter_map(|p| {
                    let p = p.as_array()?;
                    Some((
                        p.first()?.as_str()?.to_string(),
                        p.get(1)?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[async_trait]
impl CellKind for MatchCell {
    fn name(&self) -> &'static str {
        "match"
    }
    fn label(&self) -> &'static str {
        "Match schemas"
    }
    fn default_params(&self) -> toml::Table {
        table(&[
            ("source", "".into()),
            ("target", "".into()),
            ("matcher", "combined".into()),
        ])
    }
    async fn run(
        &self,
        cell: &Cell,
        ctx: &RunContext<'_>,
        job: &Job,
    ) -> Result<CellRun, CellError> {
        let source = cell.text("source").trim().to_string();
        let target = cell.text("target").trim().to_string();
        if source.is_empty() {
            return Err(CellError::new("choose a table to match"));
        }
        let matcher: Matcher = match cell.text("matcher").trim() {
            "" => Matcher::Combined,
            m => m.parse().map_err(CellError::new)?,
        };
        let lake = ctx.lake.read().await;
        let mut read = BTreeMap::new();
        for name in [&source, &target].into_iter().filter(|n| !n.is_empty()) {
            read.insert(
                name.clone(),
                lake.entry(name).map_err(CellError::new)?.version,
            );
        }
        let output = if target.is_empty() {
            let sketches = lake_sketches(&lake, job).await.map_err(CellError::new)?;
            let index = RelatedIndex::build(sketches);
            let related = index.related(&source, 20).unwrap_or_default();
            MatchOutput::Related {
                table: source,
                related,
            }
        } else {
            let model = match matcher {
                Matcher::Combined => ctx.model().await.ok(),
                Matcher::Semantic => Some(ctx.model().await?),
                _ => None,
            };
            let embedder = model.map(ColumnEmbedder::new);
            let report = match_datasets(&lake, &source, &target, matcher, embedder.as_ref(), job)
                .await
                .map_err(CellError::new)?;
            MatchOutput::Pairs(report)
        };
        let mut run = run_of(CellOutput::Match(Box::new(output)));
        run.read = read;
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_errors_point_at_the_name_they_complain_about() {
        let sql = "SELECT nope FROM customers";
        let e = sql_error(
            sql,
            "Schema error: No field named nope. Valid fields are 'customers.id'.",
        );
        assert_eq!(e.span, Some(7..11));
        let e = sql_error(
            sql,
            "Error during planning: table 'lake.public.customerz' not found",
        );
        assert_eq!(e.span, None);
        let sql = "SELECT * FROM customerz";
        let e = sql_error(
            sql,
            "Error during planning: table 'lake.public.customerz' not found",
        );
        assert_eq!(e.span, Some(14..23));
    }
}
