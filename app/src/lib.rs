//! The `lakebook` program: the notebook window and the command line over the engine.

pub mod cli;
pub mod gui;
mod progress;
