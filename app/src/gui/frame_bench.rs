//! Frame-time benchmark: the CPU time of the window's frames (all UI code plus
//! tessellation, no GPU) while scrolling a 1M-row result, and while a long
//! ingest runs in the background. `lakebook bench frames` prints it as JSON.
//! `lakebook bench graph-frames` does the same for the graph view.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use lakebook_core::notebook::{Notebook, Runner};

use lakebook_core::graph::store::GraphRecord;
use lakebook_core::graph::{GraphData, GraphOutput};

use super::app::{Command, LakebookApp};
use super::graph_view::GraphPanel;
use super::settings::Settings;
use super::work::Spawner;

/// Window size the frames are laid out for.
const SCREEN: egui::Vec2 = egui::vec2(1400.0, 900.0);

struct Window {
    ctx: egui::Context,
    app: LakebookApp,
    started: Instant,
}

impl Window {
    /// One frame with `events`; returns its CPU time.
    fn frame(&mut self, events: Vec<egui::Event>) -> Duration {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, SCREEN)),
            time: Some(self.started.elapsed().as_secs_f64()),
            events,
            ..Default::default()
        };
        let t = Instant::now();
        let app = &mut self.app;
        let mut output = self.ctx.run_ui(input, |ui| app.frame_ui(ui));
        let primitives = self.ctx.tessellate(output.shapes, output.pixels_per_point);
        let took = t.elapsed();
        // No GPU here: font texture updates are not uploaded anywhere.
        output.textures_delta.clear();
        drop(primitives);
        took
    }

    fn until_idle(&mut self, timeout: Duration) -> Result<Vec<Duration>> {
        let started = Instant::now();
        let mut times = Vec::new();
        self.frame(Vec::new());
        while self.app.busy() {
            if started.elapsed() > timeout {
                bail!("the cells did not finish in {timeout:?}");
            }
            times.push(self.frame(scroll()));
            std::thread::sleep(Duration::from_millis(16));
        }
        self.frame(Vec::new());
        Ok(times)
    }
}

/// The pointer over the result table, and a wheel step down.
fn scroll() -> Vec<egui::Event> {
    vec![
        egui::Event::PointerMoved(egui::pos2(700.0, 420.0)),
        egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -90.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: egui::Modifiers::NONE,
        },
    ]
}

pub(super) fn summary(mut times: Vec<Duration>) -> serde_json::Value {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |p: f64| {
        times
            .get(((times.len().saturating_sub(1)) as f64 * p).round() as usize)
            .copied()
            .map_or(0.0, ms)
    };
    serde_json::json!({
        "frames": times.len(),
        "p50_ms": at(0.5),
        "p95_ms": at(0.95),
        "max_ms": times.last().copied().map_or(0.0, ms),
    })
}

/// Writes a CSV of about `rows` rows for the background ingest.
fn write_csv(path: &Path, rows: usize) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "id,amount,city,note")?;
    let cities = ["Lisbon", "Porto", "Helsinki", "Paris", "Rome"];
    for i in 0..rows {
        writeln!(
            f,
            "{i},{}.{:02},{},order number {i} placed online",
            i % 977,
            i % 100,
            cities[i % cities.len()]
        )?;
    }
    f.flush()?;
    Ok(())
}

/// Runs the benchmark in `work` (a scratch folder) and returns its numbers.
pub fn bench_frames(
    rt: &tokio::runtime::Runtime,
    work: &Path,
    rows: usize,
    ingest_rows: usize,
) -> Result<serde_json::Value> {
    std::fs::create_dir_all(work)?;
    let lake = work.join("lake");
    let path = work.join("frames.lakebook");
    let mut notebook = Notebook::default();
    let mut params = toml::Table::new();
    params.insert(
        "sql".into(),
        format!(
            "SELECT value AS id, value * 0.5 AS x, concat('row ', CAST(value AS VARCHAR)) AS label, value % 97 AS bucket FROM generate_series(1, {rows})"
        )
        .into(),
    );
    notebook.push("sql", params);
    notebook.save(&path)?;
    let runner = rt
        .block_on(Runner::open(&lake, work, None))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ctx = egui::Context::default();
    let created = Instant::now();
    let app = LakebookApp::new(
        &ctx,
        rt.handle().clone(),
        Arc::new(runner),
        notebook,
        Some(path),
        Settings::in_memory(),
    );
    let mut w = Window {
        ctx,
        app,
        started: Instant::now(),
    };
    let first = w.frame(Vec::new());
    let startup = created.elapsed();

    let query_started = Instant::now();
    w.app.send(Command::Run("c1".into()));
    w.until_idle(Duration::from_secs(300))?;
    let query = query_started.elapsed();
    // The cell keeps a first page; the rest comes a page at a time, as
    // when the user scrolls to the end of what is loaded.
    let paging_started = Instant::now();
    let mut during_paging = Vec::new();
    while w.app.loaded_rows("c1") < Some(rows) {
        if paging_started.elapsed() > Duration::from_secs(300) {
            bail!("the query cell did not page in {rows} rows");
        }
        w.app.send(Command::FetchMore("c1".into()));
        during_paging.extend(w.until_idle(Duration::from_secs(300))?);
    }
    let paging = paging_started.elapsed();
    if w.app.loaded_rows("c1") != Some(rows) {
        bail!(
            "the query cell produced {:?} rows, not {rows}",
            w.app.loaded_rows("c1")
        );
    }
    // Scroll through the result: 600 wheel steps.
    let mut scrolling = Vec::new();
    for _ in 0..600 {
        scrolling.push(w.frame(scroll()));
    }

    let csv = work.join("big.csv");
    write_csv(&csv, ingest_rows)?;
    w.app.send(Command::IngestPaths(vec![csv]));
    let ingest_started = Instant::now();
    let during_ingest = w.until_idle(Duration::from_secs(600))?;
    let ingest = ingest_started.elapsed();
    if !lake.join("big.lance").exists() {
        bail!("the background ingest did not write its dataset");
    }

    Ok(serde_json::json!({
        "result_rows": rows,
        "first_frame_ms": first.as_secs_f64() * 1e3,
        "app_to_first_frame_ms": startup.as_secs_f64() * 1e3,
        "query_seconds": query.as_secs_f64(),
        "paging_seconds": paging.as_secs_f64(),
        "during_paging": summary(during_paging),
        "scrolling": summary(scrolling),
        "ingest_rows": ingest_rows,
        "ingest_seconds": ingest.as_secs_f64(),
        "during_ingest": summary(during_ingest),
    }))
}

/// `lakebook bench graph-frames`: CPU time of the graph view's frames (layout
/// steps, drawing and tessellation) on an LFR graph, as JSON.
pub fn bench_graph_frames(
    nodes: usize,
    average_degree: f64,
    frames: usize,
) -> Result<serde_json::Value> {
    use lakebook_core::graph::{GraphBuilder, model::EdgeMerge};
    use lakebook_eval::graph::lfr::{LfrParams, generate};
    let params = LfrParams::with_average_degree(nodes, average_degree);
    let generated = generate(&params).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut builder = GraphBuilder::new(EdgeMerge::First);
    for (a, b) in &generated.edges {
        builder.add_edge(Some(&a.to_string()), Some(&b.to_string()), Some(1.0));
    }
    let (graph, report) = builder.finish();
    let adjacency = graph.adjacency();
    let record = GraphRecord {
        name: "bench".into(),
        recipe: lakebook_core::graph::GraphRecipe::Lake,
        nodes_dataset: String::new(),
        edges_dataset: String::new(),
        nodes: graph.node_count() as u64,
        edges: graph.edge_count() as u64,
        report,
        read: Default::default(),
        built: Default::default(),
        communities: None,
        extra: Default::default(),
    };
    let membership =
        lakebook_core::graph::leiden::leiden(&adjacency, &Default::default()).membership;
    let output = GraphOutput {
        record,
        membership: Some(membership),
        summaries: Vec::new(),
        seeded: None,
        data: Some(Arc::new(GraphData {
            graph,
            adjacency,
            positions: None,
        })),
    };
    let ctx = egui::Context::default();
    // The command line runs inside a runtime already (and a runtime may not
    // be dropped inside another): its handle serves; otherwise a new one.
    let owned;
    let handle = match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle,
        Err(_) => {
            owned = tokio::runtime::Runtime::new()?;
            owned.handle().clone()
        }
    };
    let spawner = Spawner::new(handle, ctx.clone());
    let mut panel =
        GraphPanel::new(&output, &spawner).ok_or_else(|| anyhow::anyhow!("no graph data"))?;
    panel.wait_until_laid_out();
    let started = Instant::now();
    let mut times = Vec::with_capacity(frames);
    for frame in 0..frames {
        // The pointer wanders over the canvas, zooming (Ctrl+wheel) a little
        // now and then.
        let x = 200.0 + (frame % 50) as f32 * 12.0;
        let mut events = vec![egui::Event::PointerMoved(egui::pos2(x, 300.0))];
        if frame % 10 == 0 {
            events.push(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Point,
                delta: egui::vec2(0.0, if frame % 20 == 0 { 30.0 } else { -30.0 }),
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Unknown,
                modifiers: egui::Modifiers::COMMAND,
            });
        }
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::Vec2::new(1400.0, 900.0),
            )),
            time: Some(started.elapsed().as_secs_f64()),
            events,
            ..Default::default()
        };
        let t = Instant::now();
        let mut output = ctx.run_ui(input, |ui| {
            egui::CentralPanel::default().show(ui, |ui| {
                panel.ui(ui, "bench");
            });
        });
        let primitives =
            ctx.tessellate(std::mem::take(&mut output.shapes), output.pixels_per_point);
        times.push(t.elapsed());
        // No GPU here: font texture updates are not uploaded anywhere.
        output.textures_delta.clear();
        drop(primitives);
    }
    let iterations = panel.layout_iterations();
    let mut value = summary(times);
    value["nodes"] = serde_json::json!(nodes);
    value["edges"] = serde_json::json!(generated.edges.len());
    value["layout_iterations"] = serde_json::json!(iterations);
    Ok(value)
}
