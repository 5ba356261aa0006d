//! Search cells: semantic, full-text or hybrid search over one dataset or the lake.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::job::Job;
use crate::notebook::file::Cell;
use crate::notebook::kind::{CellKind, run_of, table};
use crate::notebook::output::{CellError, CellOutput, CellRun};
use crate::notebook::run::RunContext;
use crate::search::{self, SearchMode, SearchRequest};

/// Semantic / full-text / hybrid search over a dataset or the whole lake.
pub struct SearchCell;

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
        let lake = ctx.lake_copy().await;
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
