//! The Lakebook engine: a lake of Lance datasets, ingest, SQL and the rest.
//!
//! No UI lives here: everything the GUI or CLI can do goes through these
//! modules and is tested headless.

pub mod cluster;
pub mod demo;
pub mod embed;
pub mod files;
pub mod graph;
pub mod ingest;
pub mod job;
pub mod lake;
pub mod matching;
pub mod notebook;
mod parallel;
pub mod profile;
pub mod redundancy;
pub mod render;
pub mod result_file;
pub mod rng;
pub mod search;
pub mod sql;
pub mod table_text;

pub use job::{Job, Progress};
pub use lake::{Lake, LakeError};

/// The cause kept inside an error whose source can be one of several error
/// types (Lance, Arrow, DataFusion, I/O): its text is shown, and it stays
/// reachable through `Error::source`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
