//! The built-in cell kinds, one module each; [`super::kind::Registry::builtin`]
//! lists them in menu order.

pub mod cluster;
pub mod communities;
pub mod graph;
pub mod ingest;
pub mod markdown;
pub mod matching;
pub mod redundancy;
pub mod search;
pub mod sql;
