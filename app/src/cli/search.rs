//! The `embed`, `index` and `search` commands.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use lakebook_core::embed::{self, EmbedRequest, MiniLm};
use lakebook_core::search::{self, IndexOptions, SearchMode, SearchRequest, VECTOR_INDEX_MIN_ROWS};
use lakebook_core::{Job, Lake};

use super::output::{Format, print_hits, print_indexes};

/// Arguments of `embed`.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// Dataset name.
    pub name: String,
    /// Columns whose text is embedded, comma-separated (default: the passage
    /// text of documents; the text columns of a table, as `col: value; ...`).
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Drop the existing vectors and embed every row again (e.g. to change --columns).
    #[arg(long)]
    pub rebuild: bool,
    /// Model folder (default: LAKEBOOK_MODEL, Lakebook's data dir, the Hugging Face cache).
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub index: IndexArgs,
}

impl EmbedArgs {
    /// Defaults for embedding `name`.
    pub fn for_dataset(name: &str) -> Self {
        Self {
            name: name.to_string(),
            columns: None,
            rebuild: false,
            model: None,
            index: IndexArgs {
                index_min_rows: VECTOR_INDEX_MIN_ROWS,
            },
        }
    }
}

/// Index settings shared by `embed` and `index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Build a vector index only from this many vectors on (below it, search is exact and fast).
    #[arg(long, default_value_t = VECTOR_INDEX_MIN_ROWS)]
    pub index_min_rows: u64,
}

/// `--mode` of `search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ModeArg {
    /// Nearest neighbours of the query's embedding.
    Semantic,
    /// BM25 over the full-text index.
    Fulltext,
    /// Both, fused by reciprocal rank.
    #[default]
    Hybrid,
}

/// Arguments of `search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// `NAME QUERY` searches one dataset; `QUERY` alone searches every dataset of the lake.
    #[arg(required = true, num_args = 1..=2, value_names = ["NAME", "QUERY"])]
    pub words: Vec<String>,
    /// How hits are found.
    #[arg(long, value_enum, default_value_t)]
    pub mode: ModeArg,
    /// Hits to return (per dataset when searching the lake).
    #[arg(short = 'k', long = "k", default_value_t = 10)]
    pub k: usize,
    /// Only rows matching this SQL predicate, e.g. --where "format = 'pdf'".
    #[arg(long = "where")]
    pub filter: Option<String>,
    /// Compare with every vector instead of using the vector index (slow on big datasets).
    #[arg(long)]
    pub exact: bool,
    /// Output format (table cuts long text; csv and json give it whole).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Model folder (default: LAKEBOOK_MODEL, Lakebook's data dir, the Hugging Face cache).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// `embed NAME`: vectors for the rows that have none, then the indexes.
pub async fn run_embed(
    lake_dir: &Path,
    args: EmbedArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
    show_progress: bool,
) -> Result<()> {
    let mut lake = Lake::open(lake_dir).await?;
    lake.entry(&args.name)?;
    let model = Arc::new(embed::load_model(args.model.as_deref())?);
    let request = EmbedRequest {
        name: args.name.clone(),
        columns: args.columns.clone(),
        rebuild: args.rebuild,
    };
    let bar = show_progress.then(|| crate::progress::show(job));
    let report = embed::embed_dataset(&mut lake, model, &request, job).await?;
    let index_job = Job::new();
    let indexes = search::refresh_indexes(
        &mut lake,
        &args.name,
        IndexOptions {
            min_vector_rows: args.index.index_min_rows,
        },
        &index_job,
    )
    .await?;
    drop(bar);
    let fresh = report.embedded - report.resumed;
    if report.embedded == 0 {
        writeln!(
            out,
            "{}: all {} rows already have vectors ({})",
            report.name,
            report.already,
            report.source_columns.join(", ")
        )?;
    } else {
        let rate = fresh as f64 / report.seconds.max(1e-9);
        writeln!(
            out,
            "{}: embedded {} rows from {} into '{}' in {:.1} s ({rate:.0} rows/s); version {}",
            report.name,
            report.embedded,
            report.source_columns.join(", "),
            report.column,
            report.seconds,
            report.version
        )?;
    }
    if report.resumed > 0 {
        writeln!(
            out,
            "  {} rows came from the checkpoint of an interrupted run",
            report.resumed
        )?;
    }
    if report.without_text > 0 {
        writeln!(
            out,
            "  {} rows have no text (null or blank) and got no vector",
            report.without_text
        )?;
    }
    if report.already > 0 && report.embedded > 0 {
        writeln!(
            out,
            "  {} rows already had vectors and were left alone",
            report.already
        )?;
    }
    print_indexes(out, &indexes)?;
    Ok(())
}

/// `index NAME`: build missing indexes, fold new rows into existing ones.
pub async fn run_index(
    lake_dir: &Path,
    name: &str,
    args: IndexArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
    show_progress: bool,
) -> Result<()> {
    let mut lake = Lake::open(lake_dir).await?;
    let bar = show_progress.then(|| crate::progress::show(job));
    let report = search::refresh_indexes(
        &mut lake,
        name,
        IndexOptions {
            min_vector_rows: args.index_min_rows,
        },
        job,
    )
    .await?;
    drop(bar);
    writeln!(out, "{name}: version {}", report.version)?;
    if report.vector.is_none() && report.fulltext.is_empty() {
        writeln!(out, "  nothing to index: no embeddings and no text columns")?;
    }
    print_indexes(out, &report)?;
    Ok(())
}

/// `search [NAME] QUERY`.
pub async fn run_search(
    lake_dir: &Path,
    args: SearchArgs,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let lake = Lake::open(lake_dir).await?;
    let (name, query) = match args.words.as_slice() {
        [query] => (None, query.clone()),
        [name, query] => (Some(name.clone()), query.clone()),
        _ => bail!("search takes NAME QUERY, or QUERY alone to search the whole lake"),
    };
    if let Some(name) = &name {
        lake.entry(name)?;
    }
    let mode = match args.mode {
        ModeArg::Semantic => SearchMode::Semantic,
        ModeArg::Fulltext => SearchMode::Fulltext,
        ModeArg::Hybrid => SearchMode::Hybrid,
    };
    let model = if mode == SearchMode::Fulltext {
        None
    } else {
        Some(embed::load_model(args.model.as_deref())?)
    };
    let request = SearchRequest {
        query,
        mode,
        k: args.k.max(1),
        filter: args.filter.clone(),
        exact: args.exact,
    };
    let groups = match &name {
        Some(name) => vec![search::search_dataset(&lake, model.as_ref(), name, &request).await?],
        None => search::search_lake(&lake, model.as_ref(), &request).await?,
    };
    print_hits(out, &groups, args.format, name.is_none())
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

/// `model info`.
pub fn run_model(command: ModelCommand, out: &mut (dyn Write + Send)) -> Result<()> {
    let ModelCommand::Info { model } = command;
    let source = embed::locate_model(model.as_deref())?;
    let loaded = MiniLm::load(&source.dir)?;
    writeln!(out, "model:      {}", embed::MODEL_NAME)?;
    writeln!(out, "folder:     {}", loaded.dir().display())?;
    writeln!(out, "found by:   {}", source.found_by)?;
    writeln!(
        out,
        "dimensions: {} (mean pooling, L2-normalised), at most {} tokens per text",
        embed::EMBEDDING_DIM,
        embed::MAX_TOKENS
    )?;
    Ok(())
}
