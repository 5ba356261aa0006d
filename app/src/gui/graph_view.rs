//! The graph view of Graph and Communities cells: a painter-drawn graph laid
//! out by ForceAtlas2 while the user watches (pause/resume), zoom, pan, drag
//! nodes, hover tooltips, select a node to see its rows, colour by community,
//! size by degree, filter by community, find by label, pick seeds and run a
//! seeded community query, export PNG and SVG. Graphs too large to draw are
//! shown as communities (super-nodes) that expand on demand.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use egui::epaint::{Mesh, Vertex, WHITE_UV};
use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};
use lakebook_core::Job;
use lakebook_core::graph::export::{self, NO_COMMUNITY, Scene, SceneNode, community_colour};
use lakebook_core::graph::layout::{ForceLayout, LayoutOptions};
use lakebook_core::graph::seeded::{
    DEFAULT_THRESHOLD, NeighbourhoodIndex, SeededCommunity, SeededOptions,
};
use lakebook_core::graph::store::{GraphRecord, node_rows_sql};
use lakebook_core::graph::{Adjacency, GraphData, GraphOutput};

use super::camera::Camera;

/// Graphs with more nodes are shown as their communities.
pub const MAX_DRAWN_NODES: usize = 20_000;
/// Time the layout may take per frame.
const LAYOUT_BUDGET: Duration = Duration::from_millis(12);
/// Height of the drawing area.
const CANVAS_HEIGHT: f32 = 460.0;

/// What the view is drawing.
enum Level {
    /// Nodes of the graph (all of it, or one community): local index → graph node.
    Nodes(Vec<u32>),
    /// Communities as super-nodes: local index → (community, members).
    Communities(Vec<(u32, usize)>),
}

/// The part of the graph on screen, with its own layout.
struct Drawn {
    level: Level,
    adjacency: Adjacency,
    layout: ForceLayout,
}

/// The seeded-query index, built on a thread the first time it is needed.
enum IndexState {
    None,
    Building(Receiver<Result<NeighbourhoodIndex, String>>),
    Ready(Arc<NeighbourhoodIndex>),
    Failed(String),
}

/// What the panel asks the notebook to do.
#[derive(Debug, Default)]
pub struct GraphAction {
    /// Add (and run) a SQL cell with this query after the cell.
    pub new_sql: Option<String>,
    /// The seeds of a query just run (ids), to keep in a Communities cell.
    pub seeds: Option<Vec<String>>,
}

/// One cell's graph view and everything the user did in it.
pub struct GraphPanel {
    data: Arc<GraphData>,
    record: GraphRecord,
    membership: Option<Vec<u32>>,
    drawn: Drawn,
    /// The whole-graph level to return to from an expanded community.
    overview: Option<Drawn>,
    running: bool,
    camera: Camera,
    fit_pending: bool,
    /// The user zoomed or panned: the view no longer follows the layout.
    view_touched: bool,
    colour_by_community: bool,
    filter: Option<u32>,
    hovered: Option<usize>,
    selected: Option<usize>,
    dragging: Option<usize>,
    find: String,
    seeds: Vec<u32>,
    highlight: HashSet<u32>,
    index: IndexState,
    query_pending: bool,
    last_query: Option<SeededCommunity>,
    message: Option<String>,
    export: Option<Receiver<Option<PathBuf>>>,
    export_svg: bool,
    /// A query ran since the last frame: its seeds go back into the cell.
    seeds_changed: bool,
}

impl GraphPanel {
    /// A view of a cell's graph output (which must carry the graph's data).
    pub fn new(output: &GraphOutput) -> Option<Self> {
        let data = output.data.clone()?;
        let membership = output.membership.clone();
        let n = data.graph.node_count();
        let drawn = if n > MAX_DRAWN_NODES {
            match &membership {
                Some(m) => communities_level(&data.adjacency, m),
                None => {
                    // No communities yet: the best-connected nodes.
                    let mut nodes: Vec<u32> = (0..n as u32).collect();
                    nodes.sort_by_key(|v| std::cmp::Reverse(data.adjacency.degree(*v)));
                    nodes.truncate(MAX_DRAWN_NODES);
                    nodes_level(&data.adjacency, nodes, None)
                }
            }
        } else {
            let positions = data.positions.clone();
            nodes_level(&data.adjacency, (0..n as u32).collect(), positions)
        };
        let mut panel = Self {
            record: output.record.clone(),
            membership,
            drawn,
            overview: None,
            running: true,
            camera: Camera::default(),
            fit_pending: true,
            view_touched: false,
            colour_by_community: output.membership.is_some(),
            filter: None,
            hovered: None,
            selected: None,
            dragging: None,
            find: String::new(),
            seeds: Vec::new(),
            highlight: HashSet::new(),
            index: IndexState::None,
            query_pending: false,
            last_query: None,
            message: None,
            export: None,
            export_svg: false,
            seeds_changed: false,
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
            if !self.view_touched {
                self.fit_pending = true;
            }
            ui.ctx().request_repaint();
        }
        self.toolbar(ui, id);
        self.canvas(ui);
        self.details(ui, &mut action);
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
            ui.menu_button("Export", |ui| {
                if ui.button("PNG image…").clicked() {
                    self.start_export(false);
                    ui.close();
                }
                if ui.button("SVG drawing…").clicked() {
                    self.start_export(true);
                    ui.close();
                }
            });
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

    fn to_screen(&self, rect: Rect, p: [f32; 2]) -> Pos2 {
        self.camera.to_screen(rect, Vec2::new(p[0], p[1]))
    }

    fn to_world(&self, rect: Rect, p: Pos2) -> [f32; 2] {
        let w = self.camera.to_world(rect, p);
        [w.x, w.y]
    }

    fn fit(&mut self, rect: Rect) {
        let positions = self.drawn.layout.positions();
        let visible: Vec<Vec2> = positions
            .iter()
            .enumerate()
            .filter(|(i, _)| self.visible(*i))
            .map(|(_, p)| Vec2::new(p[0], p[1]))
            .collect();
        self.camera.fit(rect, visible, 20.0);
    }

    fn canvas(&mut self, ui: &mut egui::Ui) {
        let size = Vec2::new(ui.available_width().max(200.0), CANVAS_HEIGHT);
        let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
        if self.fit_pending {
            self.fit(rect);
            self.fit_pending = false;
        }
        let n = self.drawn.layout.positions().len();
        let screen: Vec<Pos2> = self
            .drawn
            .layout
            .positions()
            .iter()
            .map(|p| self.to_screen(rect, *p))
            .collect();
        // Per node, once a frame: shown at all, part of the seeded community, size.
        let visible: Vec<bool> = (0..n).map(|i| self.visible(i)).collect();
        let highlighted: Vec<bool> = (0..n)
            .map(|i| {
                self.graph_node(i)
                    .is_some_and(|v| self.highlight.contains(&v))
            })
            .collect();
        let radii: Vec<f32> = (0..n).map(|i| self.radius(i)).collect();
        // Hover: the nearest visible node under the pointer.
        let pointer = response.hover_pos();
        self.hovered = pointer.and_then(|p| {
            (0..n)
                .filter(|i| visible[*i])
                .map(|i| (i, screen[i].distance_sq(p)))
                .filter(|(i, d)| *d <= (radii[*i] + 3.0).powi(2))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i)
        });
        self.interact(ui, &response, rect);
        // Edges, then nodes, in two meshes.
        let dark = ui.visuals().dark_mode;
        let edge_colour = if dark {
            Color32::from_rgba_unmultiplied(200, 200, 220, 40)
        } else {
            Color32::from_rgba_unmultiplied(60, 60, 80, 45)
        };
        // The seeded community in the text colour: no community has that colour.
        let community_edge = ui.visuals().strong_text_color();
        let mut edges = Mesh::default();
        edges.reserve_triangles(self.drawn.adjacency.edge_count() * 2);
        edges.reserve_vertices(self.drawn.adjacency.edge_count() * 4);
        for a in 0..n {
            if !visible[a] {
                continue;
            }
            let p = screen[a];
            let (targets, _) = self.drawn.adjacency.neighbours(a as u32);
            for &b in targets {
                let b = b as usize;
                if b <= a || !visible[b] {
                    continue;
                }
                let q = screen[b];
                if !rect.contains(p) && !rect.contains(q) {
                    continue;
                }
                let colour = if highlighted[a] && highlighted[b] {
                    community_edge
                } else {
                    edge_colour
                };
                add_segment(&mut edges, p, q, 0.8, colour);
            }
        }
        painter.add(edges);
        let mut nodes = Mesh::default();
        let mut rings = Vec::new();
        for (i, &p) in screen.iter().enumerate() {
            if !visible[i] || !rect.expand(30.0).contains(p) {
                continue;
            }
            let r = radii[i];
            add_disc(&mut nodes, p, r, self.colour(i));
            if highlighted[i] {
                let seed = self.graph_node(i).is_some_and(|v| self.seeds.contains(&v));
                rings.push(if seed {
                    (p, r + 3.0, Stroke::new(2.5, Color32::from_rgb(220, 40, 40)))
                } else {
                    (p, r + 2.0, Stroke::new(1.5, community_edge))
                });
            } else if self.graph_node(i).is_some_and(|v| self.seeds.contains(&v)) {
                rings.push((p, r + 3.0, Stroke::new(2.5, Color32::from_rgb(220, 40, 40))));
            }
            if self.selected == Some(i) {
                rings.push((p, r + 5.0, Stroke::new(3.0, ui.visuals().selection.bg_fill)));
            }
        }
        painter.add(nodes);
        for (p, r, stroke) in rings {
            painter.circle_stroke(p, r, stroke);
        }
        // Labels: selected, hovered, seeds, and big nodes when there is room.
        let text_colour = ui.visuals().text_color();
        let mut labelled = 0;
        for (i, &p) in screen.iter().enumerate() {
            let important = self.selected == Some(i)
                || self.graph_node(i).is_some_and(|v| self.seeds.contains(&v));
            let roomy = radii[i] >= 9.0 && labelled < 60;
            if visible[i] && rect.contains(p) && (important || roomy) {
                labelled += 1;
                painter.text(
                    p + Vec2::new(radii[i] + 3.0, 0.0),
                    egui::Align2::LEFT_CENTER,
                    self.label(i),
                    egui::FontId::proportional(11.0),
                    text_colour,
                );
            }
        }
        if let Some(i) = self.hovered {
            let text = self.tooltip(i);
            response.clone().on_hover_ui_at_pointer(|ui| {
                ui.label(text);
            });
        }
        painter.text(
            rect.left_bottom() + Vec2::new(6.0, -6.0),
            egui::Align2::LEFT_BOTTOM,
            format!(
                "{} nodes · {} edges · layout step {}{}",
                n,
                self.drawn.adjacency.edge_count(),
                self.drawn.layout.iterations(),
                if self.drawn.layout.settled() {
                    " (settled)"
                } else {
                    ""
                }
            ),
            egui::FontId::proportional(10.0),
            ui.visuals().weak_text_color(),
        );
    }

    fn tooltip(&self, local: usize) -> String {
        let mut text = self.label(local);
        if let Some(v) = self.graph_node(local)
            && let Some(node) = self.data.graph.node(v)
        {
            if node.id != node.label {
                text.push_str(&format!("\nid {}", node.id));
            }
            text.push_str(&format!("\ndegree {}", self.data.adjacency.degree(v)));
            if let Some(c) = self.membership.as_ref().and_then(|m| m.get(v as usize)) {
                text.push_str(&format!("\ncommunity {c}"));
            }
        }
        text
    }

    fn interact(&mut self, ui: &egui::Ui, response: &egui::Response, rect: Rect) {
        if response.drag_started() {
            self.dragging = self.hovered;
            if let Some(i) = self.dragging {
                self.drawn.layout.set_pinned(i as u32, true);
            }
        }
        if response.dragged() {
            match (self.dragging, response.interact_pointer_pos()) {
                (Some(i), Some(p)) => {
                    let world = self.to_world(rect, p);
                    self.drawn.layout.set_position(i as u32, world);
                }
                _ => {
                    self.camera.pan(response.drag_delta());
                    self.view_touched = true;
                }
            }
        }
        if response.drag_stopped()
            && let Some(i) = self.dragging.take()
        {
            self.drawn.layout.set_pinned(i as u32, false);
        }
        if response.clicked() {
            self.selected = self.hovered;
        }
        if response.double_clicked()
            && let Some(i) = self.hovered
        {
            self.expand(i);
        }
        if response.hovered() {
            if self.camera.zoom_from_input(ui, response, rect) {
                self.view_touched = true;
            }
            ui.input(|i| {
                if i.key_pressed(egui::Key::Space) {
                    self.running = !self.running;
                }
                if i.key_pressed(egui::Key::F) {
                    self.fit_pending = true;
                    self.view_touched = false;
                }
                if i.key_pressed(egui::Key::Escape) {
                    self.selected = None;
                }
            });
        }
    }

    /// Shows one community's nodes (from the communities level).
    fn expand(&mut self, local: usize) {
        let Level::Communities(list) = &self.drawn.level else {
            return;
        };
        let (Some((community, _)), Some(m)) = (list.get(local), self.membership.as_ref()) else {
            return;
        };
        let mut nodes: Vec<u32> = (0..m.len() as u32)
            .filter(|v| m[*v as usize] == *community)
            .collect();
        if nodes.len() > MAX_DRAWN_NODES {
            nodes.sort_by_key(|v| std::cmp::Reverse(self.data.adjacency.degree(*v)));
            nodes.truncate(MAX_DRAWN_NODES);
            self.message = Some(format!(
                "community {community} is large: its {MAX_DRAWN_NODES} best-connected nodes are shown"
            ));
        }
        let level = nodes_level(&self.data.adjacency, nodes, None);
        self.overview = Some(std::mem::replace(&mut self.drawn, level));
        self.selected = None;
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
            ui.small("Click a node for details and to pick it as a seed; drag nodes; scroll to zoom; drag the background to pan.");
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

    /// Index builds, seeded queries and export dialogs finishing.
    fn poll_background(&mut self) {
        if let IndexState::Building(rx) = &self.index {
            match rx.try_recv() {
                Ok(Ok(index)) => self.index = IndexState::Ready(Arc::new(index)),
                Ok(Err(e)) => self.index = IndexState::Failed(e),
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    self.index = IndexState::Failed("indexing stopped".into())
                }
            }
        }
        if self.query_pending {
            match &self.index {
                IndexState::None | IndexState::Failed(_) => {
                    let data = self.data.clone();
                    let (tx, rx) = std::sync::mpsc::channel();
                    std::thread::spawn(move || {
                        let built = NeighbourhoodIndex::build(
                            &data.adjacency,
                            DEFAULT_THRESHOLD,
                            &Job::new(),
                        )
                        .map_err(|e| e.to_string());
                        let _ = tx.send(built);
                    });
                    self.index = IndexState::Building(rx);
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
        if let Some(rx) = &self.export {
            match rx.try_recv() {
                Ok(Some(path)) => {
                    self.export = None;
                    self.message = Some(match self.write_export(&path) {
                        Ok(()) => format!("saved {}", path.display()),
                        Err(e) => format!("could not save {}: {e}", path.display()),
                    });
                }
                Ok(None) | Err(TryRecvError::Disconnected) => self.export = None,
                Err(TryRecvError::Empty) => {}
            }
        }
    }

    fn start_export(&mut self, svg: bool) {
        let (tx, rx) = std::sync::mpsc::channel();
        let (extension, kind) = if svg {
            ("svg", "SVG drawing")
        } else {
            ("png", "PNG image")
        };
        let name = format!("{}.{extension}", self.record.name);
        // Native dialogs block their thread; never the UI's.
        std::thread::spawn(move || {
            let path = rfd::FileDialog::new()
                .add_filter(kind, &[extension])
                .set_file_name(name)
                .save_file();
            let _ = tx.send(path);
        });
        self.export = Some(rx);
        self.export_svg = svg;
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
                    label: (self.selected == Some(i)
                        || node.is_some_and(|v| self.seeds.contains(&v)))
                    .then(|| self.label(i)),
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
            background: [255, 255, 255, 255],
            title: Some(format!(
                "{} — {}",
                self.record.name,
                self.record.recipe.describe()
            )),
        }
    }

    fn write_export(&self, path: &std::path::Path) -> Result<(), String> {
        let scene = self.scene();
        let bytes = if self.export_svg {
            export::to_svg(&scene, 1600, 1200).into_bytes()
        } else {
            export::to_png(&scene, 1600, 1200).map_err(|e| e.to_string())?
        };
        std::fs::write(path, bytes).map_err(|e| e.to_string())
    }
}

/// A level drawing `nodes` of the graph (their induced subgraph).
fn nodes_level(adjacency: &Adjacency, nodes: Vec<u32>, positions: Option<Vec<[f32; 2]>>) -> Drawn {
    let sub = if nodes.len() == adjacency.node_count() {
        adjacency.clone()
    } else {
        adjacency.induced(&nodes)
    };
    let options = LayoutOptions::default();
    let layout = match positions {
        Some(p) if p.len() == nodes.len() => ForceLayout::with_positions(&sub, options, p),
        _ => ForceLayout::new(&sub, options),
    };
    Drawn {
        level: Level::Nodes(nodes),
        adjacency: sub,
        layout,
    }
}

/// A level drawing each community as one node, linked by the weight between them.
fn communities_level(adjacency: &Adjacency, membership: &[u32]) -> Drawn {
    let count = membership.iter().max().map_or(0, |m| *m as usize + 1);
    let mut sizes = vec![0usize; count];
    for c in membership {
        sizes[*c as usize] += 1;
    }
    let mut between = std::collections::HashMap::new();
    for (a, b, w) in adjacency.edges() {
        let (ca, cb) = (membership[a as usize], membership[b as usize]);
        if ca != cb {
            *between.entry((ca.min(cb), ca.max(cb))).or_insert(0.0f32) += w;
        }
    }
    let edges: Vec<(u32, u32, f32)> = between.into_iter().map(|((a, b), w)| (a, b, w)).collect();
    let sub = Adjacency::from_edges(count, &edges);
    let layout = ForceLayout::new(&sub, LayoutOptions::default());
    Drawn {
        level: Level::Communities(
            sizes
                .into_iter()
                .enumerate()
                .map(|(c, s)| (c as u32, s))
                .collect(),
        ),
        adjacency: sub,
        layout,
    }
}

/// A thin quad from `p` to `q`.
fn add_segment(mesh: &mut Mesh, p: Pos2, q: Pos2, width: f32, colour: Color32) {
    let d = q - p;
    let len = d.length();
    if len < 0.5 {
        return;
    }
    let n = Vec2::new(-d.y, d.x) / len * (width / 2.0);
    let base = mesh.vertices.len() as u32;
    for pos in [p + n, p - n, q - n, q + n] {
        mesh.vertices.push(Vertex {
            pos,
            uv: WHITE_UV,
            color: colour,
        });
    }
    mesh.add_triangle(base, base + 1, base + 2);
    mesh.add_triangle(base, base + 2, base + 3);
}

/// A filled disc as a small polygon.
fn add_disc(mesh: &mut Mesh, centre: Pos2, radius: f32, colour: Color32) {
    let segments = if radius < 4.0 {
        6
    } else if radius < 10.0 {
        10
    } else {
        16
    };
    let base = mesh.vertices.len() as u32;
    mesh.colored_vertex(centre, colour);
    for s in 0..segments {
        let angle = s as f32 / segments as f32 * std::f32::consts::TAU;
        mesh.colored_vertex(centre + radius * Vec2::angled(angle), colour);
    }
    for s in 0..segments {
        mesh.add_triangle(base, base + 1 + s, base + 1 + (s + 1) % segments);
    }
}

/// `lakebook bench graph-frames`: CPU time of the graph view's frames (layout
/// steps, drawing and tessellation) on an LFR graph, as JSON.
pub fn bench_graph_frames(
    nodes: usize,
    average_degree: f64,
    frames: usize,
) -> anyhow::Result<serde_json::Value> {
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
    let mut panel = GraphPanel::new(&output).ok_or_else(|| anyhow::anyhow!("no graph data"))?;
    let ctx = egui::Context::default();
    let started = Instant::now();
    let mut times = Vec::with_capacity(frames);
    for frame in 0..frames {
        // The pointer wanders over the canvas, zooming a little now and then.
        let x = 200.0 + (frame % 50) as f32 * 12.0;
        let mut events = vec![egui::Event::PointerMoved(egui::pos2(x, 300.0))];
        if frame % 10 == 0 {
            events.push(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Point,
                delta: egui::vec2(0.0, if frame % 20 == 0 { 30.0 } else { -30.0 }),
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Unknown,
                modifiers: egui::Modifiers::NONE,
            });
        }
        let input = egui::RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, Vec2::new(1400.0, 900.0))),
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
    let iterations = panel.drawn.layout.iterations();
    let mut value = super::frame_bench::summary(times);
    value["nodes"] = serde_json::json!(nodes);
    value["edges"] = serde_json::json!(generated.edges.len());
    value["layout_iterations"] = serde_json::json!(iterations);
    Ok(value)
}
