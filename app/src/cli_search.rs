//! The `embed`, `index` and `search` commands.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, bail};
use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use clap::{Args, ValueEnum};
use lakebook_core::embed::{self, EmbedRequest, MiniLm};
use lakebook_core::render::render_batches;
use lakebook_core::search::{
    self, IndexOptions, IndexReport, SearchHits, SearchMode, SearchRequest, VECTOR_INDEX_MIN_ROWS,
};
use lakebook_core::{Job, Lake};

use crate::cli::Format;

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

fn load_model(dir: Option<&Path>) -> Result<MiniLm> {
    let source = embed::locate_model(dir)?;
    Ok(MiniLm::load(&source.dir)?)
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
    let model = Arc::new(load_model(args.model.as_deref())?);
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

fn print_indexes(out: &mut (dyn Write + Send), report: &IndexReport) -> Result<()> {
    if let Some((name, action)) = &report.vector {
        writeln!(out, "  vector index {name}: {action}")?;
    }
    for (column, action) in &report.fulltext {
        writeln!(out, "  full-text index on {column}: {action}")?;
    }
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
        Some(load_model(args.model.as_deref())?)
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

pub(crate) fn print_hits(
    out: &mut (dyn Write + Send),
    groups: &[SearchHits],
    format: Format,
    lake_wide: bool,
) -> Result<()> {
    if format == Format::Json {
        let mut all = Vec::new();
        for g in groups {
            let text = render_batches(
                &g.rows.schema(),
                std::slice::from_ref(&g.rows),
                format.into(),
            )?;
            let hits: serde_json::Value = serde_json::from_str(&text)?;
            all.push(serde_json::json!({
                "dataset": g.dataset,
                "kind": g.kind.to_string(),
                "mode": g.mode.to_string(),
                "hits": hits,
                "notes": g.notes,
            }));
        }
        let value = if lake_wide {
            serde_json::Value::Array(all)
        } else {
            all.pop().map_or(serde_json::Value::Null, |g| g)
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    if groups.is_empty() {
        writeln!(out, "no hits")?;
        return Ok(());
    }
    for g in groups {
        if lake_wide || format == Format::Table {
            writeln!(
                out,
                "{} ({}, {} search): {} hit{}",
                g.dataset,
                g.kind,
                g.mode,
                g.rows.num_rows(),
                if g.rows.num_rows() == 1 { "" } else { "s" }
            )?;
        }
        let rows = if format == Format::Table {
            shorten_text(&g.rows, 80)?
        } else {
            g.rows.clone()
        };
        let text = render_batches(&rows.schema(), &[rows], format.into())?;
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            writeln!(out)?;
        }
        for note in &g.notes {
            writeln!(out, "note: {note}")?;
        }
    }
    Ok(())
}

/// Text cells cut to `max` characters (with an ellipsis), one line each, for a readable table.
pub(crate) fn shorten_text(batch: &RecordBatch, max: usize) -> Result<RecordBatch> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if field.data_type() == &DataType::Utf8 {
            let strings = column.as_string::<i32>();
            let short: StringArray = strings
                .iter()
                .map(|v| {
                    v.map(|s| {
                        let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
                        if flat.chars().count() > max {
                            let cut: String = flat.chars().take(max - 1).collect();
                            format!("{cut}…")
                        } else {
                            flat
                        }
                    })
                })
                .collect();
            fields.push(Field::new(field.name(), DataType::Utf8, true));
            columns.push(Arc::new(short));
        } else if column.data_type().is_nested() {
            continue;
        } else {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
        }
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// `bench` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Time the model on a file of texts: texts/s and tokens/s.
    ///
    /// FILE holds one text per line: a JSON string, or plain text. Used by
    /// bench/embed_speed.py.
    Embed {
        /// The texts.
        file: PathBuf,
        /// Model folder.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Embed at most this many texts.
        #[arg(long)]
        limit: Option<usize>,
        /// Write the vectors here as raw little-endian f32, one text after another.
        #[arg(long)]
        vectors: Option<PathBuf>,
    },
    /// Time semantic search of an embedded dataset, and its recall@k against exact search.
    ///
    /// QUERIES holds one query per line (JSON string or plain text). Used by
    /// bench/search_speed.py.
    Search {
        /// Dataset name.
        name: String,
        /// The queries.
        queries: PathBuf,
        /// Hits per query.
        #[arg(short = 'k', long = "k", default_value_t = 10)]
        k: usize,
        /// Model folder.
        #[arg(long)]
        model: Option<PathBuf>,
    },
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
    /// Lake-wide discovery of related tables on a synthetic lake of table
    /// sketches: index build time, query latency of LSH against scoring every
    /// table, and recall of planted joinable and unionable partners.
    Related(crate::bench_related::RelatedBenchArgs),
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
    /// k-means on raw f32 vectors (bench/cluster.py): seconds, inertia,
    /// iterations (and ARI, NMI) as JSON.
    Kmeans(crate::bench_cluster::BenchKmeansArgs),
    /// HDBSCAN on raw f32 vectors (bench/cluster.py): seconds, clusters,
    /// noise (and ARI, NMI) as JSON.
    Hdbscan(crate::bench_cluster::BenchHdbscanArgs),
    /// The scatter view's UMAP on raw f32 vectors (bench/cluster.py):
    /// seconds as JSON, the layout to a file.
    Umap(crate::bench_cluster::BenchUmapArgs),
    /// Seeded-community query latency (MinHash LSH) on a generated LFR graph,
    /// 1M nodes / 10M edges by default: index build, p50/p95 per query, recall.
    Graph(crate::cli_graph::BenchGraphArgs),
}

/// Runs a benchmark command (`bench frames` runs from `main`, which owns the runtime).
pub async fn run_bench(
    lake_dir: &Path,
    command: BenchCommand,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    match command {
        BenchCommand::Embed {
            file,
            model,
            limit,
            vectors,
        } => run_embed_bench(&file, model.as_deref(), limit, vectors.as_deref(), out),
        BenchCommand::Search {
            name,
            queries,
            k,
            model,
        } => run_search_bench(lake_dir, &name, &queries, k, model.as_deref(), out).await,
        BenchCommand::Related(args) => crate::bench_related::run(args, out),
        BenchCommand::Kmeans(args) => crate::bench_cluster::run_kmeans(args, out),
        BenchCommand::Hdbscan(args) => crate::bench_cluster::run_hdbscan(args, out),
        BenchCommand::Umap(args) => crate::bench_cluster::run_umap(args, out),
        BenchCommand::Graph(args) => crate::cli_graph::run_bench_graph(args, out, &Job::new()),
        BenchCommand::GraphFrames {
            nodes,
            average_degree,
            frames,
        } => {
            let value = crate::gui::bench_graph_frames(nodes, average_degree, frames)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            Ok(())
        }
        BenchCommand::Frames { .. } => {
            bail!("bench frames runs from the lakebook program itself")
        }
    }
}

/// One text per line: a JSON string, or the line itself.
fn read_lines(file: &Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let mut texts: Vec<String> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let t = if line.starts_with('"') {
            serde_json::from_str::<String>(line)
                .map_err(|e| anyhow::anyhow!("{} line {}: {e}", file.display(), n + 1))?
        } else {
            line.to_string()
        };
        texts.push(t);
    }
    Ok(texts)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn latency_summary(mut ms: Vec<f64>) -> serde_json::Value {
    ms.sort_by(f64::total_cmp);
    let mean = ms.iter().sum::<f64>() / ms.len().max(1) as f64;
    serde_json::json!({
        "p50_ms": percentile(&ms, 50.0),
        "p95_ms": percentile(&ms, 95.0),
        "max_ms": ms.last().copied().unwrap_or(0.0),
        "mean_ms": mean,
    })
}

/// `bench search`: indexed vs exact semantic search over the same query vectors.
async fn run_search_bench(
    lake_dir: &Path,
    name: &str,
    queries: &Path,
    k: usize,
    model_dir: Option<&Path>,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let lake = Lake::open(lake_dir).await?;
    let rows = lake.entry(name)?.rows;
    let texts = read_lines(queries)?;
    let model = load_model(model_dir)?;
    let mut embed_ms = Vec::new();
    let mut vectors = Vec::new();
    for t in &texts {
        let started = std::time::Instant::now();
        let mut v = model.embed(&[t.as_str()])?;
        embed_ms.push(started.elapsed().as_secs_f64() * 1e3);
        vectors.push(v.pop().unwrap_or_default());
    }
    let request = |exact| SearchRequest {
        query: "bench".to_string(),
        mode: SearchMode::Semantic,
        k: k.max(1),
        filter: None,
        exact,
    };
    let (indexed, exact) = (request(false), request(true));
    // Warm-up: open files, load the index.
    for v in vectors.iter().take(5) {
        search::search_dataset_by_vector(&lake, name, v, &indexed).await?;
        search::search_dataset_by_vector(&lake, name, v, &exact).await?;
    }
    let mut indexed_ms = Vec::new();
    let mut exact_ms = Vec::new();
    let mut recall_sum = 0.0;
    for v in &vectors {
        let started = std::time::Instant::now();
        let fast = search::search_dataset_by_vector(&lake, name, v, &indexed).await?;
        indexed_ms.push(started.elapsed().as_secs_f64() * 1e3);
        let started = std::time::Instant::now();
        let truth = search::search_dataset_by_vector(&lake, name, v, &exact).await?;
        exact_ms.push(started.elapsed().as_secs_f64() * 1e3);
        let truth: std::collections::HashSet<u64> = truth.row_ids.iter().copied().collect();
        let found = fast.row_ids.iter().filter(|id| truth.contains(id)).count();
        recall_sum += found as f64 / truth.len().max(1) as f64;
    }
    let indexed_summary = latency_summary(indexed_ms);
    let exact_summary = latency_summary(exact_ms);
    let speedup = exact_summary["p50_ms"].as_f64().unwrap_or(0.0)
        / indexed_summary["p50_ms"].as_f64().unwrap_or(1.0).max(1e-9);
    let report = serde_json::json!({
        "dataset": name,
        "rows": rows,
        "queries": texts.len(),
        "k": k,
        "indexed": indexed_summary,
        "exact": exact_summary,
        "query_embedding": latency_summary(embed_ms),
        "recall_at_k": recall_sum / vectors.len().max(1) as f64,
        "speedup_p50": speedup,
    });
    writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    Ok(())
}

/// `bench embed FILE`: embeds the texts of FILE and reports the speed.
fn run_embed_bench(
    file: &Path,
    model_dir: Option<&Path>,
    limit: Option<usize>,
    vectors_out: Option<&Path>,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let mut texts = read_lines(file)?;
    if let Some(limit) = limit {
        texts.truncate(limit);
    }
    let model = load_model(model_dir)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut tokens = 0usize;
    for t in &refs {
        tokens += model.token_count(t)?;
    }
    // One small warm-up so first-touch costs are not timed.
    model.embed(&refs[..refs.len().min(8)])?;
    let started = std::time::Instant::now();
    let vectors = model.embed(&refs)?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = vectors_out {
        let mut bytes = Vec::with_capacity(vectors.len() * embed::EMBEDDING_DIM * 4);
        for v in &vectors {
            for x in v {
                bytes.extend_from_slice(&x.to_le_bytes());
            }
        }
        std::fs::write(path, bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    let report = serde_json::json!({
        "texts": texts.len(),
        "tokens": tokens,
        "seconds": seconds,
        "texts_per_s": texts.len() as f64 / seconds.max(1e-9),
        "tokens_per_s": tokens as f64 / seconds.max(1e-9),
    });
    writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    Ok(())
}
