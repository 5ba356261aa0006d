//! Markdown cells: text shown rendered.

use async_trait::async_trait;

use crate::job::Job;
use crate::notebook::file::Cell;
use crate::notebook::kind::{CellKind, run_of, table};
use crate::notebook::output::{CellError, CellOutput, CellRun};
use crate::notebook::run::RunContext;

/// Text in Markdown, shown rendered.
pub struct MarkdownCell;

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
