//! Cell kinds: the [`CellKind`] trait and the [`Registry`] of kinds.
//!
//! A kind is one type implementing [`CellKind`]: its name, its default
//! parameters and what running it does. Its output is made of the engine's
//! output parts ([`CellOutput`], several at once with [`CellOutput::Parts`]),
//! which the window, the CLI and saved notebooks already show and keep, so a
//! kind registered at run time ([`Registry::register`], e.g. by a plugin or
//! a test) needs no edits anywhere else. The built-in kinds are in
//! [`super::kinds`], one module each.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::file::Cell;
use super::kinds;
use super::output::{CellError, CellOutput, CellRun};
use super::run::RunContext;
use crate::job::Job;

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
        r.register(Arc::new(kinds::markdown::MarkdownCell));
        r.register(Arc::new(kinds::sql::SqlCell));
        r.register(Arc::new(kinds::search::SearchCell));
        r.register(Arc::new(kinds::ingest::IngestCell));
        r.register(Arc::new(kinds::matching::MatchCell));
        r.register(Arc::new(kinds::graph::GraphCell));
        r.register(Arc::new(kinds::communities::CommunitiesCell));
        r.register(Arc::new(kinds::cluster::ClusterCell));
        r.register(Arc::new(kinds::redundancy::RedundancyCell));
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

/// A run that shows `output` (read and changed filled in by the kind).
pub fn run_of(output: CellOutput) -> CellRun {
    CellRun {
        output,
        read: BTreeMap::new(),
        changed: Vec::new(),
        elapsed: Duration::ZERO,
        more: None,
    }
}

/// Parameters from (name, value) pairs.
pub fn table(pairs: &[(&str, toml::Value)]) -> toml::Table {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}
