//! The evaluation commands, nested into the `lakebook` program: `eval`,
//! `fabricate`, `generate` and `bench`. Each family owns its arguments and
//! its `run`; output is JSON for the scripts under `bench/`.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use clap::Subcommand;
use lakebook_core::Job;

pub mod bench;
pub mod graph;
pub mod matching;

pub use bench::{BenchCommand, run_bench};
pub use graph::{GenerateCommand, run_generate};
pub use matching::{FabricateArgs, run_fabricate};

/// `eval` subcommands.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Match two tables and score the result against a ground truth with the
    /// Valentine benchmark's metrics (printed as JSON).
    ///
    /// SOURCE and TARGET are datasets of the lake or table files.
    Match(matching::EvalMatchArgs),
    /// Whole-graph communities (Leiden) of a text edge list against known
    /// groups: nodes, edges, communities, modularity, NMI, ARI, seconds,
    /// passes and whether they ended stable (JSON).
    Communities(graph::EvalCommunitiesArgs),
    /// Seeded communities (MinHash LSH) of a text edge list against known
    /// groups: recall as members are added, F1 of the automatic cut, query times (JSON).
    Seeded(graph::EvalSeededArgs),
    /// Evaluate every pair folder under DIR (source.csv, target.csv,
    /// truth.json, as `fabricate` writes them) in one process; JSON out.
    MatchSuite(matching::EvalSuiteArgs),
}

/// Runs an `eval` command.
pub async fn run_eval(
    lake_dir: &Path,
    command: EvalCommand,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    match command {
        EvalCommand::Match(args) => matching::eval_match(lake_dir, args, out, job).await,
        EvalCommand::MatchSuite(args) => matching::eval_match_suite(args, out, job),
        EvalCommand::Communities(args) => graph::run_eval_communities(args, out),
        EvalCommand::Seeded(args) => graph::run_eval_seeded(args, out, job),
    }
}
