//! The graph view of Graph and Communities cells: a painter-drawn graph laid
//! out by ForceAtlas2 while the user watches (pause/resume), zoom, pan, drag
//! nodes, hover tooltips, select a node to see its rows, colour by community,
//! size by degree, filter by community, find by label, pick seeds and run a
//! seeded community query, export PNG and SVG. Graphs too large to draw are
//! shown as communities (super-nodes) that expand on demand.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::epaint::Mesh;
use egui::{Color32, Vec2};
use lakebook_core::Job;
use lakebook_core::graph::export::{self, NO_COMMUNITY, Scene, SceneNode, community_colour};
use lakebook_core::graph::seeded::{
    DEFAULT_THRESHOLD, NeighbourhoodIndex, SeededCommunity, SeededOptions,
};
use lakebook_core::graph::store::{GraphRecord, node_rows_sql};
use lakebook_core::graph::{GraphData, GraphOutput};

use super::camera::Camera;
use super::probe;
use super::work::{Background, Polled, Spawner};

mod canvas;
mod labels;
mod levels;
mod mesh;

use levels::{Drawn, Level, empty_level, first_level, nodes_level};

/// Graphs with more nodes are shown as their communities.
pub const MAX_DRAWN_NODES: usize = 20_000;
/// Time the layout may take per frame.
const LAYOUT_BUDGET: Duration = Duration::from_millis(12);
/// A press this close to a node (screen points) takes the node, however
/// small it is drawn.
const PICK_RADIUS: f32 = 8.0;
/// Height of the drawing area.
const CANVAS_HEIGHT: f32 = 460.0;
/// Levels of graphs with more edges are built in the background (a
/// communities level sums every edge; a frame must not wait for that).
const BACKGROUND_EDGES: usize = 200_000;

/// The seeded-query index, built as a job the first time it is needed.
enum IndexState {
    None,
    Building(Background<Result<NeighbourhoodIndex, String>>),
    Ready(Arc<NeighbourhoodIndex>),
    Failed(String),
}

/// Where an export of the view stands.
enum ExportState {
    Idle,
    /// The user asked for one: SVG (true) or PNG; the app asks where.
    Asked(bool),
    /// The picture is being drawn and written, as a job.
    Writing(Background<Result<PathBuf, String>>),
}

/// What the panel asks the notebook to do.
#[derive(Debug, Default)]
pub struct GraphAction {
    /// Add (and run) a SQL cell with this query after the cell.
    pub new_sql: Option<String>,
    /// The seeds of a query just run (ids), to keep in a Communities cell.
    pub seeds: Option<Vec<String>>,
    /// Ask where to export the view: SVG (true) or PNG; then call
    /// [`GraphPanel::export_to`].
    pub export: Option<bool>,
}

/// One cell's graph view and everything the user did in it.
pub struct GraphPanel {
    data: Arc<GraphData>,
    record: GraphRecord,
    membership: Option<Vec<u32>>,
    drawn: Drawn,
    /// A level being built in the background, drawn once it is ready (a
    /// level to return to with it: the overview of an expanded community).
    pending: Option<Background<(Drawn, Option<Drawn>)>>,
    /// The whole-graph level to return to from an expanded community.
    overview: Option<Drawn>,
    running: bool,
    camera: Camera,
    fit_pending: bool,
    /// The canvas size the view was last fitted to: an untouched view is
    /// fitted again when the canvas changes size (a scroll bar appeared).
    fitted_size: Vec2,
    /// The user zoomed or panned: the view no longer follows the layout.
    view_touched: bool,
    colour_by_community: bool,
    filter: Option<u32>,
    hovered: Option<usize>,
    selected: Option<usize>,
    dragging: Option<usize>,
    find: String,
    seeds: Vec<u32>,
    /// The drawn nodes labelled in the last frame (exports label the same).
    shown_labels: Vec<usize>,
    highlight: HashSet<u32>,
    index: IndexState,
    query_pending: bool,
    last_query: Option<SeededCommunity>,
    message: Option<String>,
    export: ExportState,
    spawner: Spawner,
    /// A query ran since the last frame: its seeds go back into the cell.
    seeds_changed: bool,
    /// The last frame's edge and disc meshes: the next frame refills their
    /// buffers instead of allocating megabytes afresh.
    meshes: [Arc<Mesh>; 2],
}

impl GraphPanel {
    /// A view of a cell's graph output (which must carry the graph's data);
    /// a large graph's first level is built by `spawner`, in the background.
    pub fn new(output: &GraphOutput, spawner: &Spawner) -> Option<Self> {
        let data = output.data.clone()?;
        let membership = output.membership.clone();
        let n = data.graph.node_count();
        let (drawn, pending) = if data.adjacency.edge_count() > BACKGROUND_EDGES {
            let (data, membership) = (data.clone(), membership.clone());
            let title = format!("laying out graph {}", output.record.name);
            let pending = spawner.spawn(title, move |_| {
                (first_level(&data, membership.as_deref()), None)
            });
            (empty_level(), Some(pending))
        } else {
            (first_level(&data, membership.as_deref()), None)
        };
        let mut panel = Self {
            record: output.record.clone(),
            membership,
            drawn,
            pending,
            overview: None,
            running: true,
            camera: Camera::default(),
            fit_pending: true,
            fitted_size: Vec2::ZERO,
            view_touched: false,
            colour_by_community: output.membership.is_some(),
            filter: None,
            hovered: None,
            selected: None,
            dragging: None,
            find: String::new(),
            seeds: Vec::new(),
            shown_labels: Vec::new(),
            highlight: HashSet::new(),
            index: IndexState::None,
            query_pending: false,
            last_query: None,
            message: None,
            export: ExportState::Idle,
            spawner: spawner.clone(),
            seeds_changed: false,
            meshes: Default::default(),
            data,
        };
        if let Some(seeded) = &output.seeded {
            panel.seeds = seeded.seed_nodes.clone();
            panel.show_query(seeded.community.clone());
        }
        if n > MAX_DRAWN_NODES {
            panel.message = Some(match &panel.membership {
                Some(_) => format!("{n} nodes: shown as communities; select one and expand it"),
                None => format!(
                    "{n} nodes: the {MAX_DRAWN_NODES} best-connected are shown; run a Communities cell to see the whole graph by community"
                ),
            });
        }
        Some(panel)
    }

    /// One frame of layout (within the time budget), then the toolbar, canvas and details.
    pub fn ui(&mut self, ui: &mut egui::Ui, id: &str) -> GraphAction {
        let mut action = GraphAction::default();
        self.poll_background();
        if self.running && !self.drawn.layout.settled() {
            let started = Instant::now();
            loop {
                self.drawn.layout.step(&self.drawn.adjacency);
                if started.elapsed() >= LAYOUT_BUDGET / 2 || self.drawn.layout.settled() {
                    break;
                }
            }
            // The view follows the layout, except under a dragged node,
            // which stays under the pointer.
            if !self.view_touched && self.dragging.is_none() {
                self.fit_pending = true;
            }
            ui.ctx().request_repaint();
        }
        self.toolbar(ui, id);
        self.canvas(ui, id);
        self.details(ui, &mut action);
        if let ExportState::Asked(svg) = self.export {
            action.export = Some(svg);
            self.export = ExportState::Idle;
        }
        if std::mem::take(&mut self.seeds_changed) {
            action.seeds = Some(
                self.seeds
                    .iter()
                    .filter_map(|v| self.data.graph.node(*v).map(|n| n.id.clone()))
                    .collect(),
            );
        }
        action
    }

    fn toolbar(&mut self, ui: &mut egui::Ui, id: &str) {
        ui.horizontal_wrapped(|ui| {
            let label = if self.running {
                "⏸ Pause"
            } else {
                "▶ Resume"
            };
            if ui
                .button(label)
                .on_hover_text("Pause or resume the layout (Space)")
                .clicked()
            {
                self.running = !self.running;
            }
            if ui
                .button("Fit")
                .on_hover_text("Show the whole graph (F)")
                .clicked()
            {
                self.fit_pending = true;
                self.view_touched = false;
            }
            if self.membership.is_some() {
                ui.checkbox(&mut self.colour_by_community, "Colour by community");
                let count = self.community_count();
                let shown = match self.filter {
                    Some(c) => format!("community {c}"),
                    None => "all communities".to_string(),
                };
                egui::ComboBox::from_id_salt(("graph-filter", id))
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut self.filter, None, "all communities");
                        for c in 0..count.min(200) as u32 {
                            ui.selectable_value(
                                &mut self.filter,
                                Some(c),
                                format!("community {c}"),
                            );
                        }
                    });
            }
            let find = ui.add(
                egui::TextEdit::singleline(&mut self.find)
                    .hint_text("find a node…")
                    .desired_width(140.0),
            );
            if find.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                self.find_node();
            }
            if matches!(self.drawn.level, Level::Nodes(_)) {
                let can_query = !self.seeds.is_empty();
                if ui
                    .add_enabled(can_query, egui::Button::new("Find community"))
                    .on_hover_text("The community around the chosen seeds (MinHash LSH)")
                    .clicked()
                {
                    self.query_pending = true;
                }
                if !self.seeds.is_empty() && ui.button("Clear seeds").clicked() {
                    self.seeds.clear();
                    self.highlight.clear();
                    self.last_query = None;
                }
            }
            if self.overview.is_some()
                && ui.button("⬅ All communities").clicked()
                && let Some(overview) = self.overview.take()
            {
                self.drawn = overview;
                self.selected = None;
                self.fit_pending = true;
            }
            let export = ui.menu_button("Export", |ui| {
                let png = ui.button("PNG image…");
                probe::mark(format!("export png:{id}"), || probe::rect(png.rect));
                if png.clicked() {
                    self.ask_export(false);
                    ui.close();
                }
                if ui.button("SVG drawing…").clicked() {
                    self.ask_export(true);
                    ui.close();
                }
            });
            probe::mark(format!("export:{id}"), || probe::rect(export.response.rect));
        });
        if let Some(message) = &self.message {
            ui.small(message);
        }
    }

    fn community_count(&self) -> usize {
        self.membership
            .as_ref()
            .and_then(|m| m.iter().max())
            .map_or(0, |m| *m as usize + 1)
    }

    /// The graph node a drawn node stands for (none for super-nodes).
    fn graph_node(&self, local: usize) -> Option<u32> {
        match &self.drawn.level {
            Level::Nodes(nodes) => nodes.get(local).copied(),
            Level::Communities(_) => None,
        }
    }

    fn community_of_local(&self, local: usize) -> Option<u32> {
        match &self.drawn.level {
            Level::Nodes(nodes) => {
                let m = self.membership.as_ref()?;
                m.get(*nodes.get(local)? as usize).copied()
            }
            Level::Communities(list) => list.get(local).map(|(c, _)| *c),
        }
    }

    fn visible(&self, local: usize) -> bool {
        match self.filter {
            None => true,
            Some(c) => self.community_of_local(local) == Some(c),
        }
    }

    fn colour(&self, local: usize) -> Color32 {
        let rgba = match (self.colour_by_community, self.community_of_local(local)) {
            (true, Some(c)) => community_colour(c),
            _ => NO_COMMUNITY,
        };
        Color32::from_rgba_unmultiplied(rgba[0], rgba[1], rgba[2], rgba[3])
    }

    /// Radius in screen points: grows with degree (or community size), and a little with zoom.
    fn radius(&self, local: usize) -> f32 {
        let weight = match &self.drawn.level {
            Level::Nodes(_) => self.drawn.adjacency.degree(local as u32) as f32,
            Level::Communities(list) => list.get(local).map_or(1, |(_, size)| *size) as f32 / 4.0,
        };
        ((2.0 + 1.2 * weight.sqrt()) * self.camera.zoom.sqrt().clamp(0.5, 3.0)).clamp(1.5, 24.0)
    }

    fn label(&self, local: usize) -> String {
        match &self.drawn.level {
            Level::Nodes(nodes) => nodes
                .get(local)
                .and_then(|v| self.data.graph.node(*v))
                .map(|n| n.label.clone())
                .unwrap_or_default(),
            Level::Communities(list) => list
                .get(local)
                .map(|(c, size)| format!("community {c} ({size} nodes)"))
                .unwrap_or_default(),
        }
    }

    /// Shows one community's nodes (from the communities level).
    fn expand(&mut self, local: usize) {
        let Level::Communities(list) = &self.drawn.level else {
            return;
        };
        let (Some(&(community, _)), Some(m)) = (list.get(local), self.membership.as_ref()) else {
            return;
        };
        let mut nodes: Vec<u32> = (0..m.len() as u32)
            .filter(|v| m[*v as usize] == community)
            .collect();
        if nodes.len() > MAX_DRAWN_NODES {
            nodes.sort_by_key(|v| std::cmp::Reverse(self.data.adjacency.degree(*v)));
            nodes.truncate(MAX_DRAWN_NODES);
            self.message = Some(format!(
                "community {community} is large: its {MAX_DRAWN_NODES} best-connected nodes are shown"
            ));
        }
        let overview = std::mem::replace(&mut self.drawn, empty_level());
        self.selected = None;
        if self.data.adjacency.edge_count() > BACKGROUND_EDGES {
            let data = self.data.clone();
            let title = format!("laying out community {community}");
            self.pending = Some(self.spawner.spawn(title, move |_| {
                (nodes_level(&data.adjacency, nodes, None), Some(overview))
            }));
        } else {
            self.show_level(
                nodes_level(&self.data.adjacency, nodes, None),
                Some(overview),
            );
        }
    }

    /// Layout steps taken on the level drawn now.
    pub fn layout_iterations(&self) -> usize {
        self.drawn.layout.iterations()
    }

    /// Waits for a level being built in the background (benchmarks time
    /// frames of the laid-out graph).
    pub fn wait_until_laid_out(&mut self) {
        while self.pending.is_some() {
            std::thread::sleep(Duration::from_millis(10));
            self.poll_background();
        }
    }

    /// Draws `level` from now on (keeping `overview` to return to).
    fn show_level(&mut self, level: Drawn, overview: Option<Drawn>) {
        self.drawn = level;
        if overview.is_some() {
            self.overview = overview;
        }
        self.running = true;
        self.fit_pending = true;
    }

    fn details(&mut self, ui: &mut egui::Ui, action: &mut GraphAction) {
        if let Some(i) = self.selected {
            ui.horizontal_wrapped(|ui| {
                ui.strong(self.label(i));
                match self.graph_node(i) {
                    Some(v) => {
                        if let Some(node) = self.data.graph.node(v) {
                            ui.label(format!(
                                "id {} · degree {}",
                                node.id,
                                self.data.adjacency.degree(v)
                            ));
                            if let Some(c) =
                                self.membership.as_ref().and_then(|m| m.get(v as usize))
                            {
                                ui.label(format!("· community {c}"));
                            }
                            let is_seed = self.seeds.contains(&v);
                            if ui
                                .button(if is_seed {
                                    "Remove seed"
                                } else {
                                    "Add as seed"
                                })
                                .clicked()
                            {
                                if is_seed {
                                    self.seeds.retain(|s| *s != v);
                                } else {
                                    self.seeds.push(v);
                                }
                            }
                            if let Some(sql) = node_rows_sql(&self.record, &node.id, 100)
                                && ui
                                    .button("Rows in the lake")
                                    .on_hover_text(
                                        "Add a SQL cell listing the rows that mention this node",
                                    )
                                    .clicked()
                            {
                                action.new_sql = Some(sql);
                            }
                        }
                    }
                    None => {
                        if ui
                            .button("Expand")
                            .on_hover_text("Show this community's nodes (double-click)")
                            .clicked()
                        {
                            self.expand(i);
                        }
                    }
                }
            });
        } else if matches!(self.drawn.level, Level::Nodes(_)) {
            ui.small("Click a node for details and to pick it as a seed; drag nodes; Ctrl+scroll to zoom; drag the background to pan.");
        }
        if let Some(q) = &self.last_query {
            ui.small(format!(
                "community around {} seed(s): {} members (highlighted), conductance {:.3}, {:.1} ms",
                self.seeds.len(),
                q.members.len(),
                q.conductance,
                q.elapsed.as_secs_f64() * 1000.0
            ));
        }
        if self.pending.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.small("laying out the graph…");
            });
        }
        if let ExportState::Writing(_) = &self.export {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.small("exporting…");
            });
        }
        match &self.index {
            IndexState::Building(_) => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.small("indexing neighbourhoods…");
                });
            }
            IndexState::Failed(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            _ => {}
        }
    }

    fn find_node(&mut self) {
        let text = self.find.trim();
        let found = self.data.graph.search(text, 1).first().copied();
        let local = found.and_then(|v| match &self.drawn.level {
            Level::Nodes(nodes) => nodes.iter().position(|n| *n == v),
            Level::Communities(list) => {
                let c = self.membership.as_ref()?.get(v as usize)?;
                list.iter().position(|(x, _)| x == c)
            }
        });
        match local {
            Some(i) => {
                self.selected = Some(i);
                if let Some(p) = self.drawn.layout.positions().get(i) {
                    self.camera.centre = Vec2::new(p[0], p[1]);
                    self.camera.zoom = self.camera.zoom.max(1.0);
                    self.view_touched = true;
                }
                self.message = None;
            }
            None => self.message = Some(format!("no node matches '{text}'")),
        }
    }

    fn show_query(&mut self, community: SeededCommunity) {
        self.highlight = community.members.iter().map(|(v, _)| *v).collect();
        self.last_query = Some(community);
    }

    /// Levels, index builds, seeded queries and exports finishing.
    fn poll_background(&mut self) {
        if let Some(pending) = &self.pending {
            match pending.poll() {
                Polled::Done((level, overview)) => {
                    self.pending = None;
                    self.show_level(level, overview);
                }
                Polled::Lost => {
                    self.pending = None;
                    self.message = Some("the graph could not be laid out".into());
                }
                Polled::Running => {}
            }
        }
        if let IndexState::Building(building) = &self.index {
            match building.poll() {
                Polled::Done(Ok(index)) => self.index = IndexState::Ready(Arc::new(index)),
                Polled::Done(Err(e)) => {
                    // No retry loop: the next query asks again.
                    self.query_pending = false;
                    self.index = IndexState::Failed(e);
                }
                Polled::Lost => {
                    self.query_pending = false;
                    self.index = IndexState::Failed("indexing stopped".into());
                }
                Polled::Running => {}
            }
        }
        if self.query_pending {
            match &self.index {
                IndexState::None | IndexState::Failed(_) => {
                    let data = self.data.clone();
                    let title = format!("indexing neighbourhoods of {}", self.record.name);
                    let building = self.spawner.spawn(title, move |job: &Job| {
                        NeighbourhoodIndex::build(&data.adjacency, DEFAULT_THRESHOLD, job)
                            .map_err(|e| e.to_string())
                    });
                    self.index = IndexState::Building(building);
                }
                IndexState::Building(_) => {}
                IndexState::Ready(index) => {
                    self.query_pending = false;
                    match index.query(&self.data.adjacency, &self.seeds, &SeededOptions::default())
                    {
                        Ok(found) => {
                            self.show_query(found);
                            self.seeds_changed = true;
                        }
                        Err(e) => self.message = Some(e.to_string()),
                    }
                }
            }
        }
        match &self.export {
            ExportState::Idle | ExportState::Asked(_) => {}
            ExportState::Writing(writing) => match writing.poll() {
                Polled::Done(result) => {
                    self.export = ExportState::Idle;
                    self.message = Some(match result {
                        Ok(path) => format!("saved {}", path.display()),
                        Err(e) => e,
                    });
                }
                Polled::Lost => {
                    self.export = ExportState::Idle;
                    self.message = Some("the export stopped".into());
                }
                Polled::Running => {}
            },
        }
    }

    fn ask_export(&mut self, svg: bool) {
        if matches!(self.export, ExportState::Idle) {
            self.export = ExportState::Asked(svg);
        }
    }

    /// Draws the view as it stands to `path` (SVG or PNG), in the
    /// background; the panel says when it is written or why not.
    pub fn export_to(&mut self, path: PathBuf, svg: bool) {
        let scene = self.scene();
        let title = format!("exporting {}", path.display());
        self.export = ExportState::Writing(self.spawner.spawn(title, move |_| {
            write_export(&scene, svg, &path)
                .map(|()| path.clone())
                .map_err(|e| format!("could not save {}: {e}", path.display()))
        }));
    }

    /// The view as it stands, for export.
    pub fn scene(&self) -> Scene {
        let nodes = (0..self.drawn.layout.positions().len())
            .map(|i| {
                let p = self.drawn.layout.positions()[i];
                let c = self.colour(i).to_srgba_unmultiplied();
                let node = self.graph_node(i);
                SceneNode {
                    position: if self.visible(i) {
                        p
                    } else {
                        [f32::NAN, f32::NAN]
                    },
                    radius: self.radius(i) / self.camera.zoom.max(1e-6),
                    colour: c,
                    // The labels the window shows (those that fit, and the chosen ones).
                    label: self.shown_labels.contains(&i).then(|| self.label(i)),
                    highlighted: node.is_some_and(|v| self.highlight.contains(&v)),
                }
            })
            .collect();
        Scene {
            nodes,
            edges: self
                .drawn
                .adjacency
                .edges()
                .map(|(a, b, _)| (a, b))
                .collect(),
            edge_colour: [90, 90, 110, 90],
            legend: self.legend(),
            background: [255, 255, 255, 255],
            title: Some(format!(
                "{} — {}",
                self.record.name,
                self.record.recipe.describe()
            )),
        }
    }
}

/// Draws `scene` as SVG or PNG (1600×1200) and writes it to `path`.
fn write_export(scene: &Scene, svg: bool, path: &std::path::Path) -> Result<(), String> {
    let bytes = if svg {
        export::to_svg(scene, 1600, 1200).into_bytes()
    } else {
        export::to_png(scene, 1600, 1200).map_err(|e| e.to_string())?
    };
    std::fs::write(path, bytes).map_err(|e| e.to_string())
}
