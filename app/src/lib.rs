//! The `lakebook` program: the notebook window and the command line over the engine.

mod bench_cluster;
mod bench_related;
pub mod cli;
mod cli_cluster;
mod cli_graph;
mod cli_lake;
mod cli_match;
mod cli_notebook;
pub mod cli_search;
pub mod gui;
mod progress;
