//! The command line: the clap tree and the dispatch only. Each command
//! family owns its arguments and its `run` in a module of its own; how
//! results print is in [`output`]. The evaluation commands (`eval`,
//! `fabricate`, `generate`, `bench`) come from the `lakebook-eval` crate.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use lakebook_core::Job;
use lakebook_eval::commands as eval;

pub mod cluster;
pub mod graph;
pub mod ingest;
pub mod lake;
pub mod matching;
pub mod notebook;
pub mod output;
pub mod redundancy;
pub mod search;
pub mod sql;

pub use ingest::IngestIncomplete;
pub use output::Format;

/// Lakebook: explore a data lake of Lance datasets from the command line.
///
/// A lake is a folder of Lance datasets plus a `lake.json` catalog. Start with
/// `lakebook --lake DIR demo` for a small demo lake, or `lakebook --lake DIR
/// ingest FILES...` to load your own files.
#[derive(Debug, Parser)]
#[command(name = "lakebook", version)]
pub struct Cli {
    /// The lake folder.
    #[arg(long, global = true, env = "LAKEBOOK_LAKE", default_value = "lake")]
    pub lake: PathBuf,

    /// What to do; without one, the notebook window opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an empty lake (a folder with a lake.json catalog).
    Init,
    /// Load files or whole folders into the lake.
    ///
    /// Tables (csv, tsv, parquet, json, ndjson, arrow, xlsx) become one dataset
    /// per file (per sheet for workbooks), named after the file. Documents (txt,
    /// md, html, pdf) become passages in one dataset, `documents` by default.
    /// Nothing is written unless every file is read: a failed or cancelled
    /// ingest leaves the lake as it was.
    Ingest(ingest::IngestArgs),
    /// List the datasets of the lake.
    Ls(lake::LsArgs),
    /// Show the columns of a dataset.
    Schema(lake::DatasetArgs),
    /// List the versions of a dataset (read an old one in SQL as "NAME@VERSION").
    Versions(lake::DatasetArgs),
    /// Remove a dataset: it leaves the catalog and its folder moves to the
    /// lake's trash (.lakebook/trash), from where `restore` brings it back
    /// until `gc` empties the trash.
    Rm(lake::RmArgs),
    /// Bring a removed dataset back from the trash, or a retired one's rows
    /// back from its history (it stops being a view).
    Restore(lake::RestoreArgs),
    /// Rename a dataset (its data and versions stay where they are).
    Mv(lake::MvArgs),
    /// Reclaim space: empty the trash, and delete folders and data files that
    /// killed or failed writers left behind (never anything a version uses).
    Gc(lake::GcArgs),
    /// Run a SQL query; every dataset is a table under its name.
    ///
    /// Quote odd names: SELECT * FROM "my table". Read an older version with
    /// "NAME@VERSION", e.g. SELECT count(*) FROM "orders@1".
    Sql(sql::SqlArgs),
    /// Build the demo lake from the bundled sources (assets/demo) and open it
    /// in the notebook window with the demo notebook.
    Demo {
        /// Only build the lake; do not open the window.
        #[arg(long)]
        no_gui: bool,
    },
    /// Open the notebook window: NOTEBOOK, else the last one, else a new one.
    Open {
        /// A notebook file (.lakebook).
        notebook: Option<PathBuf>,
    },
    /// Embed a dataset with the local model, then build its search indexes.
    ///
    /// Vectors go into a new column (FixedSizeList<Float32, 384>) as a new
    /// version. Only rows without a vector are embedded, so after an append
    /// this embeds just the new rows. Ctrl-C stops it; finished batches are
    /// kept and the next run resumes from them.
    Embed(search::EmbedArgs),
    /// Build a dataset's missing search indexes and fold new rows into existing ones.
    Index {
        /// Dataset name.
        name: String,
        #[command(flatten)]
        args: search::IndexArgs,
    },
    /// Search one dataset, or the whole lake, semantically, by full text, or both.
    ///
    /// `search NAME "query"` searches one dataset; `search "query"` searches
    /// every embedded dataset, grouped by dataset. Scores: cosine similarity
    /// (semantic), BM25 (fulltext), reciprocal-rank fusion (hybrid).
    Search(search::SearchArgs),
    /// The local embedding model.
    #[command(subcommand)]
    Model(search::ModelCommand),
    /// Run a notebook headless: every cell in order, printing each output.
    ///
    /// Outputs are cached beside the notebook (NAME.out/) and the dataset
    /// versions each cell read are written back into it; --pinned re-reads
    /// those versions. The lake is the notebook's own (its `lake` field), else --lake.
    Run(notebook::RunArgs),
    /// Which columns of two datasets correspond: ranked pairs with scores and
    /// evidence, the one-to-one selection (✓), and whether the tables join or union.
    Match(matching::MatchArgs),
    /// Tables of the lake that can be joined or unioned with this one (LSH over
    /// column sketches; datasets are profiled once per version).
    Related(matching::RelatedArgs),
    /// Tables that duplicate, contain or largely overlap others, row for row
    /// under mapped columns: a cascade of schema, statistics, sampled rows and
    /// (with --exact) every row, each stage with its candidate pairs and time.
    Redundancy(redundancy::RedundancyArgs),
    /// Which contained or duplicate datasets could be retired: the set saving
    /// the most bytes while each keeps a live container that rebuilds it within
    /// --max-rebuild-ms (advice; nothing is changed).
    Plan(redundancy::PlanArgs),
    /// Turn a dataset that another duplicates or contains into a view over
    /// it, after checking row by row that the view yields exactly its rows;
    /// its own rows stay in its history until `restore` brings them back.
    Retire(redundancy::RetireArgs),
    /// Score Lakebook against known answers: schema matching (the Valentine
    /// benchmark's metrics) and communities (NMI, ARI, seeded recall), as JSON.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Make table pairs with known correspondences from real base tables
    /// (Valentine's unionable, view-unionable, joinable and semantically-joinable
    /// scenarios, with verbatim or noisy names and values).
    Fabricate(eval::FabricateArgs),
    /// Build a graph from the lake and store it (NAME_nodes, NAME_edges), describe
    /// a stored graph, or list them. Builders: --edges, --sql, --cooccur, --knn, --lake-graph.
    Graph(graph::GraphArgs),
    /// Communities of a stored graph: the whole graph (Leiden; stored in
    /// NAME_nodes.community), or the community around --seeds (MinHash LSH, ranked).
    Communities(graph::CommunitiesArgs),
    /// The groups inside a dataset (k-means or HDBSCAN over its embeddings or
    /// columns), each described by its distinctive terms, the values that set
    /// it apart and its most central rows; --save N --as NAME keeps one as a dataset.
    Cluster(cluster::ClusterArgs),
    /// Generate benchmark data.
    #[command(subcommand)]
    Generate(eval::GenerateCommand),
    /// Benchmarks (see bench/ and the README): numbers as JSON.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// `bench` subcommands: the window's frame benchmarks, and the rest from `lakebook-eval`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// CPU time per frame of the notebook window while scrolling a large
    /// result and while an ingest runs in the background (no GPU needed).
    Frames {
        /// Rows of the result to scroll through.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Rows of the CSV ingested in the background.
        #[arg(long, default_value_t = 3_000_000)]
        ingest_rows: usize,
        /// Scratch folder (default: a temp folder, removed afterwards).
        #[arg(long)]
        work: Option<PathBuf>,
    },
    /// CPU time per frame of the graph view (ForceAtlas2 layout steps,
    /// drawing, tessellation) on an LFR graph, 10k nodes / 50k edges by default.
    GraphFrames {
        /// Nodes.
        #[arg(long, default_value_t = 10_000)]
        nodes: usize,
        /// Mean degree (edges = nodes × degree / 2).
        #[arg(long, default_value_t = 10.0)]
        average_degree: f64,
        /// Frames timed.
        #[arg(long, default_value_t = 300)]
        frames: usize,
    },
    #[command(flatten)]
    Eval(eval::BenchCommand),
}

/// Runs one command, writing its output to `out`. `show_progress` draws bars on stderr.
pub async fn run(
    cli: Cli,
    out: &mut (dyn Write + Send),
    job: &Job,
    show_progress: bool,
) -> Result<()> {
    let lake_dir = cli.lake;
    let Some(command) = cli.command else {
        bail!("the notebook window opens from the lakebook program itself; give a command here");
    };
    match command {
        Command::Open { .. } => {
            bail!("the notebook window opens from the lakebook program itself")
        }
        Command::Init => lake::init(&lake_dir, out).await,
        Command::Ingest(args) => {
            Box::pin(ingest::run_ingest(&lake_dir, args, out, job, show_progress)).await
        }
        Command::Demo { .. } => {
            Box::pin(ingest::run_demo(&lake_dir, out, job, show_progress)).await
        }
        Command::Ls(args) => lake::ls(&lake_dir, args, out).await,
        Command::Schema(args) => lake::schema(&lake_dir, args, out).await,
        Command::Versions(args) => lake::versions(&lake_dir, args, out).await,
        Command::Rm(args) => lake::rm(&lake_dir, &args, out).await,
        Command::Restore(args) => lake::restore(&lake_dir, &args, out).await,
        Command::Mv(args) => lake::mv(&lake_dir, &args, out).await,
        Command::Gc(args) => lake::gc(&lake_dir, &args, out).await,
        Command::Sql(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(sql::run_sql(&lake_dir, args, out, job)).await
        }
        Command::Embed(args) => {
            Box::pin(search::run_embed(&lake_dir, args, out, job, show_progress)).await
        }
        Command::Index { name, args } => {
            Box::pin(search::run_index(
                &lake_dir,
                &name,
                args,
                out,
                job,
                show_progress,
            ))
            .await
        }
        Command::Search(args) => Box::pin(search::run_search(&lake_dir, args, out)).await,
        Command::Model(command) => search::run_model(command, out),
        Command::Run(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(notebook::run_notebook(&lake_dir, args, out, job)).await
        }
        Command::Match(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(matching::run_match(&lake_dir, args, out, job)).await
        }
        Command::Related(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(matching::run_related(&lake_dir, args, out, job)).await
        }
        Command::Redundancy(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(redundancy::run_redundancy(&lake_dir, args, out, job)).await
        }
        Command::Plan(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(redundancy::run_plan(&lake_dir, args, out, job)).await
        }
        Command::Retire(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(redundancy::run_retire(&lake_dir, args, out, job)).await
        }
        Command::Graph(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(graph::run_graph(&lake_dir, args, out, job)).await
        }
        Command::Communities(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(graph::run_communities(&lake_dir, args, out, job)).await
        }
        Command::Cluster(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(cluster::run_cluster(&lake_dir, args, out, job)).await
        }
        Command::Eval(command) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(eval::run_eval(&lake_dir, command, out, job)).await
        }
        Command::Fabricate(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            eval::run_fabricate(args, out, job)
        }
        Command::Generate(command) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            eval::run_generate(command, out, job)
        }
        Command::Bench(BenchCommand::Eval(command)) => {
            Box::pin(eval::run_bench(&lake_dir, command, out)).await
        }
        Command::Bench(BenchCommand::GraphFrames {
            nodes,
            average_degree,
            frames,
        }) => {
            let value = crate::gui::bench_graph_frames(nodes, average_degree, frames)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            Ok(())
        }
        Command::Bench(BenchCommand::Frames { .. }) => {
            bail!("bench frames runs from the lakebook program itself, which owns the runtime")
        }
    }
}

/// An error and its causes on one line, each cause once: errors that show
/// their cause in their own message (`file: what the OS said`) also keep it
/// as their source, and it is not repeated.
pub fn error_text(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// Where the demo sources are: `LAKEBOOK_ASSETS`, else the checkout this binary was built from.
pub fn demo_assets() -> PathBuf {
    let dir = std::env::var_os("LAKEBOOK_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets")))
        .join("demo");
    // Clean paths (no `app/..`) end up in the catalog and in search hits.
    dir.canonicalize().unwrap_or(dir)
}

/// Parses `args` (without the program name) and runs the command, returning its output.
///
/// Used by tests and scripts: same code path as the binary, no progress bars.
pub async fn run_to_string<I, S>(args: I) -> Result<String>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(
        std::iter::once("lakebook".into()).chain(args.into_iter().map(Into::into)),
    )?;
    let mut out: Vec<u8> = Vec::new();
    run(cli, &mut out, &Job::new(), false).await?;
    Ok(String::from_utf8(out)?)
}
