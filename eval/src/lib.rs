//! Lakebook's evaluation and benchmarks, kept apart from the product.
//!
//! The `lakebook` program nests these commands (`eval`, `fabricate`,
//! `generate`, `bench`), so the scripts under `bench/` call one binary, but
//! neither the engine (`lakebook-core`) nor the window holds any of this code.
//!
//! - [`matching`]: Valentine's metrics for schema matching, and table pairs
//!   with known answers fabricated from real tables (Valentine's scenarios).
//! - [`graph`]: LFR graphs with planted communities, SNAP-style edge lists
//!   with known groups, and community detection measured against them.
//! - [`commands`]: the command-line side, one module per family; the
//!   benchmarks live under [`commands::bench`].

pub mod commands;
pub mod graph;
pub mod matching;
