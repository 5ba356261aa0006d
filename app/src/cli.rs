//! Command-line interface: parsing with clap and one function per command.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use clap::{Args, Parser, Subcommand, ValueEnum};
use lakebook_core::ingest::{self, CsvOptions, IngestOptions, OnError, PassageOptions, WriteMode};
use lakebook_core::render::{OutputFormat, StreamingWriter, render_batches};
use lakebook_core::sql::SqlEngine;
use lakebook_core::{Job, Lake};

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

/// Output formats of listings and query results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// An aligned table.
    #[default]
    Table,
    /// CSV with a header row.
    Csv,
    /// JSON.
    Json,
}

impl From<Format> for OutputFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Table => OutputFormat::Table,
            Format::Csv => OutputFormat::Csv,
            Format::Json => OutputFormat::Json,
        }
    }
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
    Ingest(IngestArgs),
    /// List the datasets of the lake.
    Ls {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show the columns of a dataset.
    Schema {
        /// Dataset name.
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List the versions of a dataset (read an old one in SQL as "NAME@VERSION").
    Versions {
        /// Dataset name.
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Remove a dataset: it leaves the catalog and its folder moves to the
    /// lake's trash (.lakebook/trash), from where `restore` brings it back
    /// until `gc` empties the trash.
    Rm(crate::cli_lake::RmArgs),
    /// Bring a removed dataset back from the trash.
    Restore(crate::cli_lake::RestoreArgs),
    /// Reclaim space: empty the trash, and delete folders and data files that
    /// killed or failed writers left behind (never anything a version uses).
    Gc(crate::cli_lake::GcArgs),
    /// Run a SQL query; every dataset is a table under its name.
    ///
    /// Quote odd names: SELECT * FROM "my table". Read an older version with
    /// "NAME@VERSION", e.g. SELECT count(*) FROM "orders@1".
    Sql {
        /// The query.
        query: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Print the query time to stderr.
        #[arg(long)]
        timing: bool,
        /// Run the query this many times in one session (columns stay cached in
        /// memory after the first run, as in the notebook); with --timing each run's time is printed.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        repeat: u32,
        /// Rows shown in table format (0 shows all); csv and json print every row.
        #[arg(long, default_value_t = 200)]
        max_rows: usize,
    },
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
    Embed(crate::cli_search::EmbedArgs),
    /// Build a dataset's missing search indexes and fold new rows into existing ones.
    Index {
        /// Dataset name.
        name: String,
        #[command(flatten)]
        args: crate::cli_search::IndexArgs,
    },
    /// Search one dataset, or the whole lake, semantically, by full text, or both.
    ///
    /// `search NAME "query"` searches one dataset; `search "query"` searches
    /// every embedded dataset, grouped by dataset. Scores: cosine similarity
    /// (semantic), BM25 (fulltext), reciprocal-rank fusion (hybrid).
    Search(crate::cli_search::SearchArgs),
    /// The local embedding model.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Run a notebook headless: every cell in order, printing each output.
    ///
    /// Outputs are cached beside the notebook (NAME.out/) and the dataset
    /// versions each cell read are written back into it; --pinned re-reads
    /// those versions. The lake is the notebook's own (its `lake` field), else --lake.
    Run(crate::cli_notebook::RunArgs),
    /// Which columns of two datasets correspond: ranked pairs with scores and
    /// evidence, the one-to-one selection (✓), and whether the tables join or union.
    Match(crate::cli_match::MatchArgs),
    /// Tables of the lake that can be joined or unioned with this one (LSH over
    /// column sketches; datasets are profiled once per version).
    Related(crate::cli_match::RelatedArgs),
    /// Score Lakebook against known answers: schema matching (the Valentine
    /// benchmark's metrics) and communities (NMI, ARI, seeded recall), as JSON.
    #[command(subcommand)]
    Eval(crate::cli_match::EvalCommand),
    /// Make table pairs with known correspondences from real base tables
    /// (Valentine's unionable, view-unionable, joinable and semantically-joinable
    /// scenarios, with verbatim or noisy names and values).
    Fabricate(crate::cli_match::FabricateArgs),
    /// Build a graph from the lake and store it (NAME_nodes, NAME_edges), describe
    /// a stored graph, or list them. Builders: --edges, --sql, --cooccur, --knn, --lake-graph.
    Graph(crate::cli_graph::GraphArgs),
    /// Communities of a stored graph: the whole graph (Leiden; stored in
    /// NAME_nodes.community), or the community around --seeds (MinHash LSH, ranked).
    Communities(crate::cli_graph::CommunitiesArgs),
    /// The groups inside a dataset (k-means or HDBSCAN over its embeddings or
    /// columns), each described by its distinctive terms, the values that set
    /// it apart and its most central rows; --save N --as NAME keeps one as a dataset.
    Cluster(crate::cli_cluster::ClusterArgs),
    /// Generate benchmark data.
    #[command(subcommand)]
    Generate(crate::cli_graph::GenerateCommand),
    /// Benchmarks (see bench/ and the README): numbers as JSON.
    #[command(subcommand)]
    Bench(crate::cli_search::BenchCommand),
}

/// `model` subcommands.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Say which model was found where, and check that it loads.
    Info {
        /// Model folder (config.json, tokenizer.json, model.safetensors); default: LAKEBOOK_MODEL, Lakebook's data dir, the Hugging Face cache.
        #[arg(long)]
        model: Option<PathBuf>,
    },
}

/// Arguments of `ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files or folders to ingest.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Dataset name (default: the file name without extension, or `documents`).
    #[arg(long)]
    pub name: Option<String>,
    /// Create a new dataset, append to it, or overwrite it (as a new version).
    #[arg(long, value_enum, default_value_t = ModeArg::Create)]
    pub mode: ModeArg,
    /// Stop at the first bad row, or skip bad rows and count them.
    #[arg(long = "on-error", value_enum, default_value_t = OnErrorArg::Fail)]
    pub on_error: OnErrorArg,
    /// With several files: write nothing if any file fails. By default each
    /// file goes in whole or not at all, the bad ones are listed, and the exit
    /// status is 3 when any file was left out.
    #[arg(long)]
    pub all_or_nothing: bool,
    /// Field delimiter of delimited text (default: sniffed among , TAB ; |).
    #[arg(long)]
    pub delimiter: Option<String>,
    /// The first row of delimited text holds column names (default: guessed).
    #[arg(long, conflicts_with = "no_header")]
    pub header: bool,
    /// The first row of delimited text is data.
    #[arg(long)]
    pub no_header: bool,
    /// Text encoding of delimited text and text documents (e.g. windows-1252, latin1, utf-16; default UTF-8).
    #[arg(long)]
    pub encoding: Option<String>,
    /// Target passage length in words, for documents.
    #[arg(long, default_value_t = 200)]
    pub passage_words: usize,
    /// Words repeated between consecutive passages.
    #[arg(long, default_value_t = 30)]
    pub overlap_words: usize,
    /// Report format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `--mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// A new dataset; fails if the name is taken.
    Create,
    /// Add rows as a new version.
    Append,
    /// Replace the rows as a new version.
    Overwrite,
}

/// `--on-error` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnErrorArg {
    /// Stop and leave the lake unchanged.
    Fail,
    /// Skip and count.
    Skip,
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
            bail!("the notebook window opens from the lakebook program itself");
        }
        Command::Init => {
            let lake = Lake::init(&lake_dir).await?;
            writeln!(
                out,
                "lake ready at {} ({} datasets)",
                lake.dir().display(),
                lake.catalog().datasets.len()
            )?;
        }
        Command::Ingest(args) => {
            let options = ingest_options(&args)?;
            let mut lake = Lake::open_or_init(&lake_dir).await?;
            let _bar = show_progress.then(|| crate::progress::show(job));
            let started = std::time::Instant::now();
            let report = ingest::ingest(&mut lake, &args.paths, &options, job).await?;
            drop(_bar);
            print_ingest_report(out, &report, args.format)?;
            let left_out: Vec<String> = report
                .failed_tables
                .iter()
                .chain(report.datasets.iter().flat_map(|d| d.failed.iter()))
                .map(|f| match f.reason.starts_with(&f.path) {
                    true => f.reason.clone(),
                    false => format!("{}: {}", f.path, f.reason),
                })
                .collect();
            if args.format != Format::Json {
                let rows: u64 = report.datasets.iter().map(|d| d.rows_added).sum();
                writeln!(
                    out,
                    "{} dataset{} written, {rows} rows in {:.2} s",
                    report.datasets.len(),
                    if report.datasets.len() == 1 { "" } else { "s" },
                    started.elapsed().as_secs_f64()
                )?;
            }
            if !left_out.is_empty() {
                return Err(IngestIncomplete { left_out }.into());
            }
        }
        Command::Rm(args) => crate::cli_lake::rm(&lake_dir, &args, out).await?,
        Command::Restore(args) => crate::cli_lake::restore(&lake_dir, &args, out).await?,
        Command::Gc(args) => crate::cli_lake::gc(&lake_dir, &args, out).await?,
        Command::Ls { format } => {
            let lake = Lake::open(&lake_dir).await?;
            let entries = &lake.catalog().datasets;
            let strings = |f: &dyn Fn(&String, &lakebook_core::lake::DatasetEntry) -> String| {
                Arc::new(StringArray::from_iter_values(
                    entries.iter().map(|(n, e)| f(n, e)),
                )) as ArrayRef
            };
            let numbers = |f: &dyn Fn(&lakebook_core::lake::DatasetEntry) -> u64| {
                Arc::new(UInt64Array::from_iter_values(entries.values().map(f))) as ArrayRef
            };
            let batch = batch(vec![
                ("name", strings(&|n, _| n.clone())),
                ("kind", strings(&|_, e| e.kind.to_string())),
                ("rows", numbers(&|e| e.rows)),
                ("version", numbers(&|e| e.version)),
                ("columns", numbers(&|e| e.schema.len() as u64)),
                (
                    "vectors",
                    strings(&|_, e| match &e.embedding {
                        None => "-".to_string(),
                        Some(v) if v.rows_pending > 0 => {
                            format!("{} (+{} to embed)", v.rows_with_vector, v.rows_pending)
                        }
                        Some(v) => v.rows_with_vector.to_string(),
                    }),
                ),
                (
                    "updated",
                    strings(&|_, e| e.updated.format("%Y-%m-%d %H:%M:%S").to_string()),
                ),
            ])?;
            write_batch(out, &batch, format)?;
        }
        Command::Schema { name, format } => {
            let lake = Lake::open(&lake_dir).await?;
            let ds = lake.open_dataset(&name, None).await?;
            let schema = lakebook_core::lake::columns::user_schema(&Schema::from(ds.schema()));
            let batch = batch(vec![
                (
                    "column",
                    Arc::new(StringArray::from_iter_values(
                        schema.fields().iter().map(|f| f.name().clone()),
                    )) as ArrayRef,
                ),
                (
                    "type",
                    Arc::new(StringArray::from_iter_values(
                        schema.fields().iter().map(|f| f.data_type().to_string()),
                    )),
                ),
                (
                    "nullable",
                    Arc::new(BooleanArray::from(
                        schema
                            .fields()
                            .iter()
                            .map(|f| f.is_nullable())
                            .collect::<Vec<_>>(),
                    )),
                ),
            ])?;
            write_batch(out, &batch, format)?;
            if format == Format::Table {
                for note in &lake.entry(&name)?.notes {
                    writeln!(out, "note: {note}")?;
                }
            }
        }
        Command::Versions { name, format } => {
            let lake = Lake::open(&lake_dir).await?;
            let versions = lake.versions(&name).await?;
            let batch = batch(vec![
                (
                    "version",
                    Arc::new(UInt64Array::from_iter_values(
                        versions.iter().map(|v| v.version),
                    )) as ArrayRef,
                ),
                (
                    "committed",
                    Arc::new(StringArray::from_iter_values(
                        versions
                            .iter()
                            .map(|v| v.timestamp.format("%Y-%m-%d %H:%M:%S").to_string()),
                    )),
                ),
                (
                    "rows",
                    Arc::new(UInt64Array::from_iter_values(
                        versions.iter().map(|v| v.rows),
                    )),
                ),
                (
                    "latest",
                    Arc::new(BooleanArray::from(
                        versions.iter().map(|v| v.latest).collect::<Vec<_>>(),
                    )),
                ),
            ])?;
            write_batch(out, &batch, format)?;
        }
        Command::Sql {
            query,
            format,
            timing,
            repeat,
            max_rows,
        } => {
            let lake = Lake::open(&lake_dir).await?;
            if repeat == 1 {
                let started = std::time::Instant::now();
                let engine = SqlEngine::new(&lake);
                let rows = print_query(&engine, &query, format, max_rows, out).await?;
                if timing {
                    let ms = started.elapsed().as_secs_f64() * 1e3;
                    eprintln!("{rows} rows in {ms:.3} ms");
                }
                return Ok(());
            }
            let engine = SqlEngine::with_cache(&lake, sql_cache_bytes());
            let mut result = None;
            for _ in 0..repeat {
                let started = std::time::Instant::now();
                let r = engine.query(&query).await?;
                if timing {
                    let ms = started.elapsed().as_secs_f64() * 1e3;
                    eprintln!("{} rows in {ms:.3} ms", r.num_rows());
                }
                result = Some(r);
            }
            if let Some(r) = result {
                let total = r.num_rows();
                let shown = if format == Format::Table && max_rows > 0 && total > max_rows {
                    let batch = arrow::compute::concat_batches(&r.schema, &r.batches)?;
                    vec![batch.slice(0, max_rows)]
                } else {
                    r.batches
                };
                let text = render_batches(&r.schema, &shown, format.into())?;
                write_text(out, &text)?;
                if format == Format::Table
                    && shown.iter().map(|b| b.num_rows()).sum::<usize>() < total
                {
                    writeln!(
                        out,
                        "({total} rows; showing the first {max_rows}: use --max-rows 0, or --format csv|json, for all)"
                    )?;
                }
            }
        }
        Command::Embed(args) => {
            Box::pin(crate::cli_search::run_embed(
                &lake_dir,
                args,
                out,
                job,
                show_progress,
            ))
            .await?;
        }
        Command::Index { name, args } => {
            Box::pin(crate::cli_search::run_index(
                &lake_dir,
                &name,
                args,
                out,
                job,
                show_progress,
            ))
            .await?;
        }
        Command::Search(args) => {
            Box::pin(crate::cli_search::run_search(&lake_dir, args, out)).await?;
        }
        Command::Model(ModelCommand::Info { model }) => {
            let source = lakebook_core::embed::locate_model(model.as_deref())?;
            let loaded = lakebook_core::embed::MiniLm::load(&source.dir)?;
            writeln!(out, "model:      {}", lakebook_core::embed::MODEL_NAME)?;
            writeln!(out, "folder:     {}", loaded.dir().display())?;
            writeln!(out, "found by:   {}", source.found_by)?;
            writeln!(
                out,
                "dimensions: {} (mean pooling, L2-normalised), at most {} tokens per text",
                lakebook_core::embed::EMBEDDING_DIM,
                lakebook_core::embed::MAX_TOKENS
            )?;
        }
        Command::Run(args) => {
            Box::pin(crate::cli_notebook::run_notebook(&lake_dir, args, out, job)).await?;
        }
        Command::Match(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(crate::cli_match::run_match(&lake_dir, args, out, job)).await?;
        }
        Command::Related(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(crate::cli_match::run_related(&lake_dir, args, out, job)).await?;
        }
        Command::Eval(command) => {
            Box::pin(crate::cli_match::run_eval(&lake_dir, command, out, job)).await?;
        }
        Command::Fabricate(args) => crate::cli_match::run_fabricate(args, out, job)?,
        Command::Graph(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(crate::cli_graph::run_graph(&lake_dir, args, out, job)).await?;
        }
        Command::Communities(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(crate::cli_graph::run_communities(&lake_dir, args, out, job)).await?;
        }
        Command::Generate(command) => crate::cli_graph::run_generate(command, out)?,
        Command::Cluster(args) => {
            let _bar = show_progress.then(|| crate::progress::show(job));
            Box::pin(crate::cli_cluster::run_cluster(&lake_dir, args, out, job)).await?;
        }
        Command::Bench(command) => {
            Box::pin(crate::cli_search::run_bench(&lake_dir, command, out)).await?;
        }
        Command::Demo { .. } => {
            let assets = demo_assets();
            let _bar = show_progress.then(|| crate::progress::show(job));
            let report = lakebook_core::demo::build_demo(&lake_dir, &assets, job).await?;
            match report {
                Some(r) => {
                    print_ingest_report(out, &r, Format::Table)?;
                    writeln!(out, "demo lake built at {}", lake_dir.display())?;
                }
                None => writeln!(
                    out,
                    "the demo lake at {} is already built",
                    lake_dir.display()
                )?,
            }
            // Embedded documents make the demo's search cells work.
            let lake = Lake::open(&lake_dir).await?;
            if lake.entry("documents")?.embedding.is_none() {
                drop(lake);
                match lakebook_core::embed::locate_model(None) {
                    Ok(_) => {
                        let args = crate::cli_search::EmbedArgs::for_dataset("documents");
                        Box::pin(crate::cli_search::run_embed(
                            &lake_dir, args, out, job, false,
                        ))
                        .await?;
                    }
                    Err(e) => writeln!(out, "documents not embedded, so search is off: {e}")?,
                }
            }
            drop(_bar);
            writeln!(
                out,
                "try: lakebook --lake {} sql \"SELECT city, count(*) AS customers FROM customers GROUP BY city ORDER BY customers DESC LIMIT 5\"",
                lake_dir.display()
            )?;
        }
    }
    Ok(())
}

/// Memory for the SQL session cache: `LAKEBOOK_SQL_CACHE_MB`, default 1024.
fn sql_cache_bytes() -> usize {
    std::env::var("LAKEBOOK_SQL_CACHE_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1024)
        << 20
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

fn ingest_options(args: &IngestArgs) -> Result<IngestOptions> {
    let delimiter = match args.delimiter.as_deref() {
        None => None,
        Some("\\t" | "tab" | "TAB") => Some(b'\t'),
        Some(d) if d.len() == 1 => Some(d.as_bytes()[0]),
        Some(d) => bail!("--delimiter takes one ASCII character (or 'tab'), not '{d}'"),
    };
    let encoding = match args.encoding.as_deref() {
        None => None,
        Some(label) => Some(
            encoding_rs::Encoding::for_label(label.as_bytes())
                .with_context(|| format!("unknown encoding '{label}' (try utf-8, windows-1252, latin1, utf-16le, shift_jis)"))?,
        ),
    };
    Ok(IngestOptions {
        name: args.name.clone(),
        mode: match args.mode {
            ModeArg::Create => WriteMode::Create,
            ModeArg::Append => WriteMode::Append,
            ModeArg::Overwrite => WriteMode::Overwrite,
        },
        on_error: match args.on_error {
            OnErrorArg::Fail => OnError::Fail,
            OnErrorArg::Skip => OnError::Skip,
        },
        csv: CsvOptions {
            delimiter,
            header: if args.header {
                Some(true)
            } else if args.no_header {
                Some(false)
            } else {
                None
            },
            encoding,
        },
        passages: PassageOptions {
            target_words: args.passage_words.max(1),
            overlap_words: args.overlap_words,
        },
        all_or_nothing: args.all_or_nothing,
        ..IngestOptions::default()
    })
}

/// An ingest that wrote the files it could and left others out: the process
/// exits with [`IngestIncomplete::EXIT_CODE`].
#[derive(Debug)]
pub struct IngestIncomplete {
    /// Why each file left out failed (each reason names its file).
    pub left_out: Vec<String>,
}

impl IngestIncomplete {
    /// The exit status of an ingest that left files out.
    pub const EXIT_CODE: u8 = 3;
}

impl std::fmt::Display for IngestIncomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.left_out.len();
        write!(
            f,
            "{n} file{} could not be ingested and {} left out; everything else is in:",
            if n == 1 { "" } else { "s" },
            if n == 1 { "was" } else { "were" }
        )?;
        for reason in &self.left_out {
            write!(f, "\n  {reason}")?;
        }
        Ok(())
    }
}

impl std::error::Error for IngestIncomplete {}

fn print_ingest_report(
    out: &mut (dyn Write + Send),
    report: &ingest::IngestReport,
    format: Format,
) -> Result<()> {
    if format == Format::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(report)?)?;
        return Ok(());
    }
    for d in &report.datasets {
        writeln!(
            out,
            "{}: +{} rows ({}, version {}, {} rows in all) from {} file{}",
            d.name,
            d.rows_added,
            d.kind,
            d.version,
            d.rows_total,
            d.sources.len(),
            if d.sources.len() == 1 { "" } else { "s" }
        )?;
        if d.rows_skipped > 0 {
            writeln!(out, "  skipped {} bad rows", d.rows_skipped)?;
        }
        for w in &d.warnings {
            writeln!(out, "  note: {w}")?;
        }
        for f in &d.failed {
            writeln!(out, "  failed: {}: {}", f.path, f.reason)?;
        }
    }
    for f in &report.failed_tables {
        writeln!(out, "left out: {}", f.reason)?;
    }
    for name in &report.already_ingested {
        writeln!(out, "{name}: already holds this file; left as it is")?;
    }
    if !report.ignored.is_empty() {
        writeln!(
            out,
            "ignored {} files that are not tables or documents",
            report.ignored.len()
        )?;
    }
    Ok(())
}

/// Runs a query and prints it as its rows arrive: CSV and JSON stream in the
/// memory of one batch; a table keeps the rows it shows (`max_rows`, 0 for
/// all) and counts the rest. Returns the rows of the result.
async fn print_query(
    engine: &SqlEngine,
    query: &str,
    format: Format,
    max_rows: usize,
    out: &mut (dyn Write + Send),
) -> Result<usize> {
    use futures::StreamExt;
    let mut stream = engine.stream(query).await?;
    let schema = stream.schema();
    if let Some(mut writer) = StreamingWriter::new(&mut *out, format.into()) {
        while let Some(batch) = stream.next().await {
            writer.write(&batch?)?;
        }
        return Ok(writer.finish(&schema)?);
    }
    let (mut kept, mut kept_rows, mut total) = (Vec::new(), 0, 0);
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        total += batch.num_rows();
        let room = if max_rows == 0 {
            batch.num_rows()
        } else {
            max_rows.saturating_sub(kept_rows).min(batch.num_rows())
        };
        if room > 0 {
            kept.push(batch.slice(0, room));
            kept_rows += room;
        }
    }
    write_text(out, &render_batches(&schema, &kept, format.into())?)?;
    if kept_rows < total {
        writeln!(
            out,
            "({total} rows; showing the first {max_rows}: use --max-rows 0, or --format csv|json, for all)"
        )?;
    }
    Ok(total)
}

/// Writes text ending in exactly one newline.
fn write_text(out: &mut (dyn Write + Send), text: &str) -> Result<()> {
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), a.data_type() != &DataType::Null))
        .collect();
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}

fn write_batch(out: &mut (dyn Write + Send), batch: &RecordBatch, format: Format) -> Result<()> {
    let text = render_batches(&batch.schema(), std::slice::from_ref(batch), format.into())?;
    write_text(out, &text)?;
    Ok(())
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
