//! Notebooks: cells in order, saved as readable TOML, run headless or by the window.
//!
//! - [`file`]: the document (cells and their parameters);
//! - [`kind`]: the [`CellKind`] trait and the [`Registry`]; [`kinds`]: the
//!   built-in kinds (markdown, sql, search, ingest, match, graph,
//!   communities, cluster), one module each;
//! - [`output`]: what a run produces ([`CellOutput`], made of parts;
//!   [`CellRun`]; [`CellError`]);
//! - [`run`]: the [`Runner`] front ends share, and the context a kind gets;
//! - [`saved`]: cached outputs kept beside the notebook file;
//! - [`pager`]: the rest of a large SQL result, a page at a time.

pub mod file;
pub mod history;
pub mod kind;
pub mod kinds;
pub mod output;
pub mod pager;
pub mod run;
pub mod saved;

pub use file::{Cell, Notebook, NotebookError, TableView};
pub use history::History;
pub use kind::{CellKind, Registry};
pub use output::{CellError, CellOutput, CellRun};
pub use pager::ResultPager;
pub use run::{RunContext, Runner};
