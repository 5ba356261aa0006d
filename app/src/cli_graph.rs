//! Graph commands: `graph` (build, show, list), `communities` (whole graph or
//! around seeds), `generate lfr`, `eval communities`, `eval seeded` and
//! `bench graph`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use lakebook_core::graph::communities::{
    best_community_f1, evaluate_partition, evaluate_seeded, membership_table, seeded_table,
    seeds_by_id, summarise,
};
use lakebook_core::graph::edge_list::read_edge_list;
use lakebook_core::graph::export;
use lakebook_core::graph::leiden::{LeidenOptions, leiden, leiden_with_job};
use lakebook_core::graph::lfr::{self, LfrParams};
use lakebook_core::graph::output::laid_out_scene;
use lakebook_core::graph::seeded::{DEFAULT_THRESHOLD, NeighbourhoodIndex, SeededOptions};
use lakebook_core::graph::sources::{DEFAULT_MAX_GROUP, NodeTable};
use lakebook_core::graph::store::{CommunityRun, StoredGraph, save_node_state};
use lakebook_core::graph::{
    Adjacency, GraphData, GraphRecipe, GraphRecord, build_graph, graph_names, load_graph,
    save_graph,
};
use lakebook_core::render::render_batches;
use lakebook_core::rng::Rng;
use lakebook_core::{Job, Lake};
use serde_json::json;

use crate::cli::Format;

/// Arguments of `graph`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("builder").args(["edges", "sql", "cooccur", "knn", "lake_graph"])))]
pub struct GraphArgs {
    /// Graph name (its datasets are NAME_nodes and NAME_edges); without a
    /// builder flag the stored graph is described; without a name, graphs are listed.
    pub name: Option<String>,
    /// Build from an edge table: one edge per row (needs --source and --target).
    #[arg(long, value_name = "DATASET")]
    pub edges: Option<String>,
    /// Build from a SQL query's rows (needs --source and --target).
    #[arg(long, value_name = "QUERY")]
    pub sql: Option<String>,
    /// Column of the edge's first end.
    #[arg(long, value_name = "COL")]
    pub source: Option<String>,
    /// Column of the edge's second end.
    #[arg(long, value_name = "COL")]
    pub target: Option<String>,
    /// Column of the edge weight (default: 1 per row; repeated edges add up).
    #[arg(long, value_name = "COL")]
    pub weight: Option<String>,
    /// With --edges: a table of the nodes (every id becomes a node, with its
    /// --label; edges naming other ids are skipped and counted).
    #[arg(long, value_name = "DATASET", requires = "edges")]
    pub nodes: Option<String>,
    /// Id column of --nodes.
    #[arg(long, value_name = "COL", default_value = "id")]
    pub id: String,
    /// Build from co-occurrence: values of --item that share a --group value
    /// are linked (e.g. authors of the same paper); the weight counts shared groups.
    #[arg(long, value_name = "DATASET")]
    pub cooccur: Option<String>,
    /// Group column of --cooccur.
    #[arg(long, value_name = "COL")]
    pub group: Option<String>,
    /// Item column of --cooccur (the nodes).
    #[arg(long, value_name = "COL")]
    pub item: Option<String>,
    /// Groups with more members are skipped (a group of n adds n(n-1)/2 edges).
    #[arg(long, default_value_t = DEFAULT_MAX_GROUP)]
    pub max_group: usize,
    /// Build the k-nearest-neighbour graph of an embedded dataset's rows
    /// (up to 200,000 rows; exact up to 4,096, NN-descent above).
    #[arg(long, value_name = "DATASET")]
    pub knn: Option<String>,
    /// Neighbours per row for --knn (1 to 50).
    #[arg(short = 'k', long = "k", default_value_t = 10)]
    pub k: usize,
    /// Label column of --nodes, or of --knn rows (default: the title, else the first embedded column).
    #[arg(long, value_name = "COL")]
    pub label: Option<String>,
    /// Build the lake's own graph: datasets, their columns, and columns linked
    /// to the columns of related tables.
    #[arg(long)]
    pub lake_graph: bool,
    /// Draw the stored graph into FILE (.svg or .png), coloured by its
    /// communities; the layout is kept in NAME_nodes (x, y) for next time.
    #[arg(long, value_name = "FILE")]
    pub export: Option<PathBuf>,
    /// Layout steps (ForceAtlas2) when the graph has no saved layout.
    #[arg(long, default_value_t = 600)]
    pub layout_steps: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `communities`.
#[derive(Debug, Args)]
pub struct CommunitiesArgs {
    /// Graph name.
    pub name: String,
    /// Find the community around these nodes (ids, comma-separated) instead
    /// of partitioning the whole graph.
    #[arg(long, value_delimiter = ',')]
    pub seeds: Vec<String>,
    /// Leiden's resolution (whole graph): higher gives more, smaller communities.
    #[arg(long, default_value_t = 1.0)]
    pub resolution: f64,
    /// Random seed (whole graph).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Most passes of Leiden over the whole graph (0: until a pass no
    /// longer raises modularity). A few passes give nearly the same result
    /// much sooner on large graphs.
    #[arg(long, default_value_t = 0)]
    pub passes: usize,
    /// Seeded: stop at exactly this many members (default: cut where the
    /// community is best separated, by conductance).
    #[arg(long)]
    pub size: Option<usize>,
    /// Seeded: LSH Jaccard threshold of the neighbourhood index.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Rows shown in table format (0: all); csv and json print every node.
    #[arg(long, default_value_t = 50)]
    pub max_rows: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `generate` subcommands.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// An LFR benchmark graph with planted communities (Lancichinetti,
    /// Fortunato & Radicchi 2008): OUT/edges.txt ("a b" lines) and
    /// OUT/labels.txt ("node community" lines).
    Lfr(LfrArgs),
}

/// Arguments of `generate lfr`.
#[derive(Debug, Args)]
pub struct LfrArgs {
    /// Nodes.
    #[arg(long, default_value_t = 10_000)]
    pub nodes: usize,
    /// Mean degree.
    #[arg(long)]
    pub average_degree: Option<f64>,
    /// Largest degree.
    #[arg(long)]
    pub max_degree: Option<usize>,
    /// Mixing: share of each node's edges leaving its community.
    #[arg(long, default_value_t = 0.3)]
    pub mu: f64,
    /// Smallest community.
    #[arg(long)]
    pub min_community: Option<usize>,
    /// Largest community.
    #[arg(long)]
    pub max_community: Option<usize>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
}

impl LfrArgs {
    fn params(&self) -> LfrParams {
        let mut p = LfrParams::new(self.nodes);
        p.mixing = self.mu;
        p.seed = self.seed;
        if let Some(v) = self.average_degree {
            p.average_degree = v;
        }
        if let Some(v) = self.max_degree {
            p.max_degree = v;
        }
        if let Some(v) = self.min_community {
            p.min_community = v;
        }
        if let Some(v) = self.max_community {
            p.max_community = v;
        }
        p
    }
}

/// Arguments shared by `eval communities` and `eval seeded`.
#[derive(Debug, Args)]
pub struct EvalGraphArgs {
    /// Edge list: "a b [weight]" lines (SNAP format; # comments).
    pub edges: PathBuf,
    /// Known groups: "node group" lines.
    #[arg(long)]
    pub truth: PathBuf,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// `eval communities`.
#[derive(Debug, Args)]
pub struct EvalCommunitiesArgs {
    #[command(flatten)]
    pub graph: EvalGraphArgs,
    /// Leiden's resolution.
    #[arg(long, default_value_t = 1.0)]
    pub resolution: f64,
    /// Louvain instead of Leiden (no refinement).
    #[arg(long)]
    pub louvain: bool,
    /// Most passes (0: until stable).
    #[arg(long, default_value_t = 0)]
    pub passes: usize,
}

/// `eval seeded`.
#[derive(Debug, Args)]
pub struct EvalSeededArgs {
    #[command(flatten)]
    pub graph: EvalGraphArgs,
    /// Seeds per query, drawn from one known group.
    #[arg(long, default_value_t = 3)]
    pub seeds: usize,
    /// Queries per group.
    #[arg(long, default_value_t = 5)]
    pub trials: usize,
    /// Groups smaller than this are not queried.
    #[arg(long, default_value_t = 10)]
    pub min_group: usize,
    /// LSH Jaccard threshold of the neighbourhood index.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
}

/// Arguments of `bench graph`.
#[derive(Debug, Args)]
pub struct BenchGraphArgs {
    /// Nodes of the generated LFR graph.
    #[arg(long, default_value_t = 1_000_000)]
    pub nodes: usize,
    /// Its mean degree (edges = nodes × degree / 2).
    #[arg(long, default_value_t = 20.0)]
    pub average_degree: f64,
    /// Its mixing.
    #[arg(long, default_value_t = 0.3)]
    pub mu: f64,
    /// Seeded queries timed.
    #[arg(long, default_value_t = 500)]
    pub queries: usize,
    /// Seeds per query.
    #[arg(long, default_value_t = 3)]
    pub seeds: usize,
    /// LSH Jaccard threshold.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Also time whole-graph Leiden (the slow way to answer the same question).
    #[arg(long)]
    pub leiden: bool,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `graph [NAME] [builder]`.
pub async fn run_graph(
    lake_dir: &Path,
    args: GraphArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let mut lake = Lake::open(lake_dir).await?;
    let Some(name) = args.name.clone() else {
        return list_graphs(&lake, args.format, out);
    };
    let Some(recipe) = recipe_of(&args)? else {
        let stored = load_graph(&lake, &name).await?;
        if let Some(path) = &args.export {
            return export_graph(&mut lake, &stored, path, args.layout_steps, out).await;
        }
        return describe(&stored.record, args.format, out);
    };
    lakebook_core::graph::store::check_name(&name)?;
    let built = build_graph(&lake, &recipe, job).await?;
    let record = save_graph(&mut lake, &name, &recipe, &built).await?;
    describe(&record, args.format, out)
}

/// `graph NAME --export FILE`: the graph drawn as SVG or PNG.
async fn export_graph(
    lake: &mut Lake,
    stored: &StoredGraph,
    path: &Path,
    steps: usize,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let svg = match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_lowercase)
    {
        Some(e) if e == "svg" => true,
        Some(e) if e == "png" => false,
        _ => bail!("{}: export to a .svg or .png file", path.display()),
    };
    let data = GraphData::from_stored(stored);
    let title = format!(
        "{}: {}",
        stored.record.name,
        stored.record.recipe.describe()
    );
    let had_layout = stored.positions.is_some();
    let (positions, scene) =
        laid_out_scene(&data, stored.communities.as_deref(), &[], steps, &title);
    let bytes = if svg {
        export::to_svg(&scene, 1600, 1200).into_bytes()
    } else {
        export::to_png(&scene, 1600, 1200).map_err(|e| anyhow::anyhow!("{e}"))?
    };
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    if !had_layout {
        save_node_state(lake, stored, None, Some(&positions)).await?;
    }
    writeln!(
        out,
        "{} nodes, {} edges drawn to {}{}",
        stored.graph.node_count(),
        stored.graph.edge_count(),
        path.display(),
        if had_layout {
            " (saved layout)"
        } else {
            "; layout saved"
        }
    )?;
    Ok(())
}

/// The recipe the builder flags describe (`None` without a builder flag).
fn recipe_of(args: &GraphArgs) -> Result<Option<GraphRecipe>> {
    let ends = || -> Result<(String, String)> {
        match (&args.source, &args.target) {
            (Some(s), Some(t)) => Ok((s.clone(), t.clone())),
            _ => bail!("--edges and --sql need --source COL and --target COL"),
        }
    };
    Ok(Some(if let Some(dataset) = &args.edges {
        let (source, target) = ends()?;
        GraphRecipe::Edges {
            dataset: dataset.clone(),
            source,
            target,
            weight: args.weight.clone(),
            nodes: args.nodes.as_ref().map(|table| NodeTable {
                dataset: table.clone(),
                id: args.id.clone(),
                label: args.label.clone(),
            }),
        }
    } else if let Some(query) = &args.sql {
        let (source, target) = ends()?;
        GraphRecipe::Sql {
            query: query.clone(),
            source,
            target,
            weight: args.weight.clone(),
        }
    } else if let Some(dataset) = &args.cooccur {
        let (Some(group), Some(item)) = (&args.group, &args.item) else {
            bail!("--cooccur needs --group COL and --item COL");
        };
        GraphRecipe::CoOccurrence {
            dataset: dataset.clone(),
            group: group.clone(),
            item: item.clone(),
            max_group: args.max_group,
        }
    } else if let Some(dataset) = &args.knn {
        GraphRecipe::Knn {
            dataset: dataset.clone(),
            k: args.k,
            label: args.label.clone(),
        }
    } else if args.lake_graph {
        GraphRecipe::Lake
    } else {
        return Ok(None);
    }))
}

fn list_graphs(lake: &Lake, format: Format, out: &mut (dyn Write + Send)) -> Result<()> {
    let records: Vec<GraphRecord> = graph_names(lake)
        .iter()
        .filter_map(|n| lakebook_core::graph::store::read_record(lake, n).ok())
        .collect();
    if format == Format::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(&records)?)?;
        return Ok(());
    }
    if records.is_empty() {
        writeln!(
            out,
            "no graphs yet: build one with `lakebook graph NAME --edges DATASET --source COL --target COL`"
        )?;
    }
    for r in records {
        writeln!(
            out,
            "{:<20} {:>9} nodes {:>10} edges  {}",
            r.name,
            r.nodes,
            r.edges,
            r.recipe.describe()
        )?;
    }
    Ok(())
}

fn describe(record: &GraphRecord, format: Format, out: &mut (dyn Write + Send)) -> Result<()> {
    if format == Format::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(record)?)?;
        return Ok(());
    }
    writeln!(out, "{}", record.headline())?;
    writeln!(
        out,
        "stored as datasets {} and {}",
        record.nodes_dataset, record.edges_dataset
    )?;
    for note in record.report.notes() {
        writeln!(out, "  note: {note}")?;
    }
    if let Some(run) = &record.communities {
        writeln!(out, "{}", run.describe())?;
    }
    Ok(())
}

/// `communities NAME [--seeds ...]`.
pub async fn run_communities(
    lake_dir: &Path,
    args: CommunitiesArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let mut lake = Lake::open(lake_dir).await?;
    let stored = load_graph(&lake, &args.name).await?;
    let adjacency = stored.graph.adjacency();
    let limit = |batch: arrow::array::RecordBatch| {
        if args.format == Format::Table && args.max_rows > 0 && batch.num_rows() > args.max_rows {
            batch.slice(0, args.max_rows)
        } else {
            batch
        }
    };
    let seeds: Vec<String> = args
        .seeds
        .iter()
        .filter(|s| !s.trim().is_empty())
        .cloned()
        .collect();
    if !seeds.is_empty() {
        let seed_nodes = seeds_by_id(&stored.graph, &seeds)?;
        let index = NeighbourhoodIndex::build(&adjacency, args.threshold, job)?;
        let community = index.query(
            &adjacency,
            &seed_nodes,
            &SeededOptions {
                size: args.size,
                ..SeededOptions::default()
            },
        )?;
        let table = seeded_table(&stored.graph, &community, &seed_nodes)?;
        if args.format == Format::Table {
            writeln!(
                out,
                "community around {}: {} members, conductance {:.3}, {} candidates scored in {:.1} ms (index built in {:.0} ms)",
                seeds.join(", "),
                community.members.len(),
                community.conductance,
                community.candidates,
                community.elapsed.as_secs_f64() * 1000.0,
                index.build_time().as_secs_f64() * 1000.0
            )?;
        }
        write!(
            out,
            "{}",
            render_batches(&table.schema(), &[limit(table.clone())], args.format.into())?
        )?;
        if args.format == Format::Table && table.num_rows() > args.max_rows && args.max_rows > 0 {
            writeln!(
                out,
                "({} more members; --max-rows 0 shows all)",
                table.num_rows() - args.max_rows
            )?;
        }
        return Ok(());
    }
    let options = LeidenOptions {
        resolution: args.resolution,
        seed: args.seed,
        max_passes: args.passes,
        ..LeidenOptions::default()
    };
    let started = Instant::now();
    // On a blocking thread: the runtime keeps drawing progress and watching Ctrl-C.
    let leiden_job = job.clone();
    let (adjacency, partition) = tokio::task::spawn_blocking(move || {
        let partition = leiden_with_job(&adjacency, &options, &leiden_job);
        (adjacency, partition)
    })
    .await?;
    let partition = partition.context("cancelled")?;
    let elapsed = started.elapsed();
    let run = CommunityRun::finished(&options, &partition);
    save_node_state(
        &mut lake,
        &stored,
        Some((&partition.membership, run.clone())),
        None,
    )
    .await?;
    let table = membership_table(&stored.graph, &adjacency, &partition.membership)?;
    if args.format == Format::Table {
        writeln!(
            out,
            "{}; Leiden took {:.0} ms; stored in {}.community",
            run.describe(),
            elapsed.as_secs_f64() * 1000.0,
            stored.record.nodes_dataset
        )?;
        for s in summarise(&stored.graph, &adjacency, &partition.membership)
            .iter()
            .take(10)
        {
            writeln!(out, "  {s}")?;
        }
    }
    write!(
        out,
        "{}",
        render_batches(&table.schema(), &[limit(table.clone())], args.format.into())?
    )?;
    if args.format == Format::Table && args.max_rows > 0 && table.num_rows() > args.max_rows {
        writeln!(
            out,
            "({} more nodes; --max-rows 0 shows all)",
            table.num_rows() - args.max_rows
        )?;
    }
    Ok(())
}

/// `generate lfr`.
pub fn run_generate(command: GenerateCommand, out: &mut (dyn Write + Send)) -> Result<()> {
    let GenerateCommand::Lfr(args) = command;
    let params = args.params();
    let started = Instant::now();
    let graph = lfr::generate(&params).map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let edges_path = args.out.join("edges.txt");
    let labels_path = args.out.join("labels.txt");
    let mut edges =
        std::fs::File::create(&edges_path).with_context(|| edges_path.display().to_string())?;
    let mut labels =
        std::fs::File::create(&labels_path).with_context(|| labels_path.display().to_string())?;
    lfr::write_edge_list(&graph, &mut edges, &mut labels)?;
    writeln!(
        out,
        "{} nodes, {} edges, {} communities, mixing {:.3} in {:.1} s: {} and {}",
        graph.membership.len(),
        graph.edges.len(),
        graph.communities,
        lfr::realised_mixing(&graph),
        started.elapsed().as_secs_f64(),
        edges_path.display(),
        labels_path.display()
    )?;
    Ok(())
}

/// `eval communities`: Leiden on a text graph against its known groups, as JSON.
pub fn run_eval_communities(args: EvalCommunitiesArgs, out: &mut (dyn Write + Send)) -> Result<()> {
    let read = read_edge_list(&args.graph.edges, Some(&args.graph.truth))?;
    let adjacency = read.graph.adjacency();
    let truth = read.truth.unwrap_or_default();
    let options = LeidenOptions {
        resolution: args.resolution,
        seed: args.graph.seed,
        refine: !args.louvain,
        max_passes: args.passes,
    };
    let (_, evaluation) = evaluate_partition(&adjacency, &truth, &options);
    let mut value = serde_json::to_value(&evaluation)?;
    value["method"] = json!(if args.louvain {
        "lakebook-louvain"
    } else {
        "lakebook-leiden"
    });
    value["notes"] = json!(read.report.notes());
    writeln!(out, "{}", serde_json::to_string(&value)?)?;
    Ok(())
}

/// `eval seeded`: seeded queries on a text graph against its known groups, as JSON.
pub fn run_eval_seeded(
    args: EvalSeededArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let read = read_edge_list(&args.graph.edges, Some(&args.graph.truth))?;
    let adjacency = read.graph.adjacency();
    let truth = read.truth.unwrap_or_default();
    let index = NeighbourhoodIndex::build(&adjacency, args.threshold, job)?;
    let evaluation = evaluate_seeded(
        &adjacency,
        &index,
        &truth,
        args.seeds,
        args.trials,
        args.min_group,
        args.graph.seed,
    );
    // The same questions answered the slow way: Leiden on the whole graph,
    // then the community holding most seeds.
    let started = Instant::now();
    let partition = leiden(&adjacency, &LeidenOptions::default());
    let leiden_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut value = serde_json::to_value(&evaluation)?;
    value["whole_graph_leiden_ms"] = json!(leiden_ms);
    value["leiden_community_f1"] = json!(best_community_f1(
        &partition.membership,
        &truth,
        args.min_group
    ));
    writeln!(out, "{}", serde_json::to_string(&value)?)?;
    Ok(())
}

/// `bench graph`: seeded-query latency on a generated LFR graph, as JSON.
pub fn run_bench_graph(
    args: BenchGraphArgs,
    out: &mut (dyn Write + Send),
    job: &Job,
) -> Result<()> {
    let mut params = LfrParams::with_average_degree(args.nodes, args.average_degree);
    params.mixing = args.mu;
    params.seed = args.seed;
    let started = Instant::now();
    let generated = lfr::generate(&params).map_err(|e| anyhow::anyhow!("{e}"))?;
    let generate_s = started.elapsed().as_secs_f64();
    let edges: Vec<(u32, u32, f32)> = generated.edges.iter().map(|(a, b)| (*a, *b, 1.0)).collect();
    let started = Instant::now();
    let adjacency = Adjacency::from_edges(generated.membership.len(), &edges);
    drop(edges);
    let adjacency_s = started.elapsed().as_secs_f64();
    let index = NeighbourhoodIndex::build(&adjacency, args.threshold, job)?;
    let mut by_community: Vec<Vec<u32>> = vec![Vec::new(); generated.communities];
    for (v, c) in generated.membership.iter().enumerate() {
        by_community[*c as usize].push(v as u32);
    }
    let mut rng = Rng::new(args.seed);
    let mut times = Vec::with_capacity(args.queries);
    let (mut f1_sum, mut recall_sum) = (0.0, 0.0);
    for _ in 0..args.queries {
        let community = &by_community[rng.below(by_community.len())];
        if community.len() <= args.seeds {
            continue;
        }
        let mut pool = community.clone();
        rng.shuffle(&mut pool);
        let found = index.query(&adjacency, &pool[..args.seeds], &SeededOptions::default())?;
        times.push(found.elapsed.as_secs_f64() * 1000.0);
        let planted = generated.membership[pool[0] as usize];
        let hits = found
            .members
            .iter()
            .filter(|(v, _)| generated.membership[*v as usize] == planted)
            .count() as f64;
        let (p, r) = (
            hits / found.members.len() as f64,
            hits / community.len() as f64,
        );
        recall_sum += r;
        f1_sum += if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        times
            .get(((times.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let q = times.len().max(1) as f64;
    let mut value = json!({
        "nodes": adjacency.node_count(),
        "edges": adjacency.edge_count(),
        "communities": generated.communities,
        "generate_s": generate_s,
        "adjacency_s": adjacency_s,
        "index_build_s": index.build_time().as_secs_f64(),
        "index_memory_mb": index.memory_bytes() as f64 / 1e6,
        "banding": [index.banding().bands, index.banding().rows],
        "queries": times.len(),
        "seeds": args.seeds,
        "query_ms_p50": pct(0.5),
        "query_ms_p95": pct(0.95),
        "query_ms_max": times.last().copied().unwrap_or(0.0),
        "recall": recall_sum / q,
        "f1": f1_sum / q,
    });
    if args.leiden {
        let started = Instant::now();
        let partition = leiden(&adjacency, &LeidenOptions::default());
        value["whole_graph_leiden_s"] = json!(started.elapsed().as_secs_f64());
        value["whole_graph_modularity"] = json!(partition.modularity);
        value["speedup_p95_vs_whole_graph"] =
            json!(started.elapsed().as_secs_f64() * 1000.0 / pct(0.95).max(1e-9));
    }
    writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    Ok(())
}
