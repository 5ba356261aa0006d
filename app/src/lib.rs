//! The `lakebook` program: a command line over the engine (the GUI comes later).

pub mod cli;
mod cli_notebook;
mod cli_search;
mod progress;
