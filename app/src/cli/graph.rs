//! Graph commands: `graph` (build, show, list) and `communities` (whole
//! graph or around seeds).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use lakebook_core::graph::communities::{membership_table, seeded_table, seeds_by_id, summarise};
use lakebook_core::graph::export;
use lakebook_core::graph::leiden::{LeidenOptions, leiden_with_job};
use lakebook_core::graph::output::laid_out_scene;
use lakebook_core::graph::seeded::{DEFAULT_THRESHOLD, NeighbourhoodIndex, SeededOptions};
use lakebook_core::graph::sources::{DEFAULT_MAX_GROUP, NodeTable};
use lakebook_core::graph::store::{CommunityRun, StoredGraph, save_node_state};
use lakebook_core::graph::{
    GraphData, GraphRecipe, GraphRecord, build_graph, graph_names, load_graph, save_graph,
};
use lakebook_core::render::render_batches;
use lakebook_core::{Job, Lake};

use super::output::Format;

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
    let (positions, scene) = laid_out_scene(
        &data,
        stored.communities.as_deref(),
        &[],
        steps,
        &title,
        [1600, 1200],
    );
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
