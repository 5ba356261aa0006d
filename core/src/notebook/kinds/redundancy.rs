//! Redundancy cells: the lake's duplicate, contained and overlapping
//! tables, the cascade that found them, and the retirement plan.

use async_trait::async_trait;

use crate::job::Job;
use crate::notebook::file::Cell;
use crate::notebook::kind::{CellKind, run_of, table};
use crate::notebook::output::{CellError, CellOutput, CellRun};
use crate::notebook::run::RunContext;
use crate::redundancy::plan::plan_lake;
use crate::redundancy::tables::{pairs_table, plan_text, stages_text};
use crate::redundancy::{RedundancyOptions, find_redundancy};

/// Which tables repeat or contain others, and what could be retired.
pub struct RedundancyCell;

#[async_trait]
impl CellKind for RedundancyCell {
    fn name(&self) -> &'static str {
        "redundancy"
    }
    fn label(&self) -> &'static str {
        "Redundancy"
    }
    fn default_params(&self) -> toml::Table {
        table(&[
            ("threshold", 0.9.into()),
            ("exact", false.into()),
            ("max_rebuild_ms", 2000.0.into()),
        ])
    }
    async fn run(
        &self,
        cell: &Cell,
        ctx: &RunContext<'_>,
        job: &Job,
    ) -> Result<CellRun, CellError> {
        let defaults = RedundancyOptions::default();
        let options = RedundancyOptions {
            threshold: cell.float("threshold").unwrap_or(defaults.threshold),
            exact: cell.flag("exact"),
            ..defaults
        };
        let budget = cell
            .float("max_rebuild_ms")
            .filter(|ms| *ms >= 0.0)
            .unwrap_or(2000.0);
        let lake = ctx.lake_copy().await;
        let report = find_redundancy(&lake, &options, job)
            .await
            .map_err(CellError::new)?;
        let plan = plan_lake(&lake, &report, budget, job)
            .await
            .map_err(CellError::new)?;
        let pairs = pairs_table(&report).map_err(CellError::new)?;
        let headline = format!(
            "{} redundant pair(s) among {} table(s)\n",
            report.pairs.len(),
            report.stages.first().map_or(0, |s| s.candidates)
        );
        let mut run = run_of(CellOutput::Parts(vec![
            CellOutput::Text(headline),
            CellOutput::Table {
                schema: pairs.schema(),
                batches: vec![pairs],
                complete: true,
            },
            CellOutput::Text(format!("{}\n{}", plan_text(&plan), stages_text(&report))),
        ]));
        for p in &report.pairs {
            run.read.insert(p.a.clone(), p.a_version);
            run.read.insert(p.b.clone(), p.b_version);
        }
        Ok(run)
    }
}
