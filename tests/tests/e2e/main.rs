//! End-to-end tests: the CLI and engine over real lakes in temp dirs.
//!
//! One test binary for the whole workspace's end-to-end suite; each concern is a module.

mod bad_input;
mod cli_help;
mod cluster;
mod demo_sql;
mod embed;
mod extension;
mod formats;
mod fuzz;
mod graphs;
mod gui;
mod lake;
mod matching;
mod notebook;
mod profile;
mod real_files;
mod redundancy;
mod retire;
mod safety;
mod search;
mod support;
mod window_input;
