//! Notebooks: cells in order, saved as readable TOML, run headless or by the GUI.
//!
//! `file` is the document (cells and their parameters); `cells` the kinds of
//! cell and what running each does (`graph_cells` for Graph and Communities); `run` the [`Runner`] front ends share;
//! `outputs` the cached results kept beside the notebook file.

pub mod cells;
pub mod file;
pub mod graph_cells;
pub mod outputs;
pub mod pager;
pub mod run;

pub use cells::{CellKind, Registry};
pub use file::{Cell, Notebook, NotebookError};
pub use pager::ResultPager;
pub use run::{CellError, CellOutput, CellRun, RunContext, Runner};
