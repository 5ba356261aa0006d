//! SQL cells: a query over the lake, its first page at once and the rest
//! as the table scrolls.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::job::Job;
use crate::notebook::file::Cell;
use crate::notebook::kind::{CellKind, run_of, table};
use crate::notebook::output::{CellError, CellOutput, CellRun};
use crate::notebook::pager::{PAGE_ROWS, ResultPager, read_page};
use crate::notebook::run::RunContext;
use crate::sql::{SqlEngine, SqlOptions};

/// A SQL query over the lake.
pub struct SqlCell;

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
        let lake = ctx.lake_copy().await;
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
                .map_err(|e| sql_error(sql, &e.to_string()))?;
            Ok::<_, CellError>((stream, page))
        };
        let (stream, page) = job.or_cancelled(first_page).await??;
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
        cancelled: false,
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
