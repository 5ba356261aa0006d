//! Match cells: the column correspondences of two tables, or the tables
//! related to one.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::job::Job;
use crate::matching::related::{RelatedIndex, lake_sketches};
use crate::matching::{ColumnEmbedder, MatchOutput, Matcher, match_datasets};
use crate::notebook::file::Cell;
use crate::notebook::kind::{CellKind, run_of, table};
use crate::notebook::output::{CellError, CellOutput, CellRun};
use crate::notebook::run::RunContext;

/// Schema matching: which columns of two tables correspond, or which tables
/// of the lake relate to one (target left empty).
pub struct MatchCell;

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
        let lake = ctx.lake_copy().await;
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
