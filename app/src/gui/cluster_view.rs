//! A Clusters cell's output: the rows as a 2-D scatter coloured by cluster
//! (Ctrl+scroll to zoom, drag to pan, hover for the row, shift-drag to select a
//! box and see its rows), the subpopulations with labels, sizes and the
//! values that set them apart (click one to see its members), the clusters
//! by dimension, and a SQL cell for a subpopulation's slice.

use std::sync::Arc;

use arrow::array::{RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;
use egui::epaint::Mesh;
use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};
use lakebook_core::cluster::ClusterReport;
use lakebook_core::cluster::slice::membership_sql;
use lakebook_core::graph::export::{NO_COMMUNITY, community_colour};
use lakebook_core::render::row_summary;
use lakebook_core::sql::quote_ident;

use super::camera::Camera;
use super::table_view::ResultTable;

/// Height of the scatter.
const SCATTER_HEIGHT: f32 = 360.0;

/// What the panel asks the notebook to do.
#[derive(Debug, Default)]
pub struct ClusterAction {
    /// Add (and run) a SQL cell with this query after the cell.
    pub new_sql: Option<String>,
    /// What was asked of the members' table, and its rows.
    pub members: Option<(super::table_view::TableAction, RecordBatch)>,
}

/// One Clusters cell's view state.
pub struct ClusterPanel {
    report: Arc<ClusterReport>,
    camera: Camera,
    fitted: bool,
    hovered: Option<usize>,
    focus: Option<i32>,
    box_start: Option<Pos2>,
    selection: Vec<usize>,
    members: Option<ResultTable>,
}

/// The world point of a projected row: y grows upwards, as in a plot.
fn world(p: [f32; 2]) -> Vec2 {
    Vec2::new(p[0], -p[1])
}

fn colour_of(cluster: i32, faded: bool) -> Color32 {
    let rgba = if cluster < 0 {
        NO_COMMUNITY
    } else {
        community_colour(cluster as u32)
    };
    let alpha = if faded { 40 } else { 220 };
    Color32::from_rgba_unmultiplied(rgba[0], rgba[1], rgba[2], alpha)
}

impl ClusterPanel {
    /// The view of a cluster report.
    pub fn new(report: &ClusterReport) -> Self {
        Self {
            report: Arc::new(report.clone()),
            camera: Camera::default(),
            fitted: false,
            hovered: None,
            focus: None,
            box_start: None,
            selection: Vec::new(),
            members: None,
        }
    }

    /// Scatter, subpopulations, members.
    pub fn ui(&mut self, ui: &mut egui::Ui, id: &str) -> ClusterAction {
        let mut action = ClusterAction::default();
        self.scatter(ui);
        if !self.selection.is_empty() {
            ui.horizontal(|ui| {
                ui.label(format!("{} rows selected", self.selection.len()));
                if ui.small_button("Clear").clicked() {
                    self.selection.clear();
                    self.members = None;
                }
            });
        }
        self.subpopulations(ui, id, &mut action);
        if let Some(table) = self.members.as_mut() {
            ui.add_space(4.0);
            let asked = table.ui(ui, &format!("{id}-members"));
            action.members = Some((asked, table.batch()));
        }
        action
    }

    fn to_screen(&self, rect: Rect, p: [f32; 2]) -> Pos2 {
        self.camera.to_screen(rect, world(p))
    }

    fn fit(&mut self, rect: Rect) {
        let points = self.report.projection.iter().map(|p| world(*p));
        self.camera.fit(rect, points, 15.0);
    }

    fn scatter(&mut self, ui: &mut egui::Ui) {
        let size = Vec2::new(ui.available_width().max(200.0), SCATTER_HEIGHT);
        let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
        if !self.fitted {
            self.fit(rect);
            self.fitted = true;
        }
        let report = self.report.clone();
        let screen: Vec<Pos2> = report
            .projection
            .iter()
            .map(|p| self.to_screen(rect, *p))
            .collect();
        // Zoom around the pointer, pan by dragging, shift-drag selects a box.
        self.camera.zoom_from_input(ui, &response, rect);
        let shift = ui.input(|i| i.modifiers.shift);
        if response.drag_started() && shift {
            self.box_start = response.interact_pointer_pos();
        }
        if response.dragged() && self.box_start.is_none() {
            self.camera.pan(response.drag_delta());
        }
        if let (Some(start), Some(now)) = (self.box_start, response.interact_pointer_pos()) {
            let area = Rect::from_two_pos(start, now);
            painter.rect_stroke(
                area,
                0.0,
                Stroke::new(1.0, ui.visuals().selection.stroke.color),
                egui::StrokeKind::Inside,
            );
            if response.drag_stopped() {
                self.selection = (0..screen.len())
                    .filter(|i| area.contains(screen[*i]))
                    .collect();
                self.box_start = None;
                self.focus = None;
                self.show_rows(self.selection.clone());
            }
        }
        if response.double_clicked() {
            self.fit(rect);
        }
        let pointer = response.hover_pos();
        self.hovered = pointer.and_then(|p| {
            screen
                .iter()
                .enumerate()
                .map(|(i, s)| (i, s.distance_sq(p)))
                .filter(|(_, d)| *d <= 36.0)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i)
        });
        let selected: std::collections::HashSet<usize> = self.selection.iter().copied().collect();
        let mut mesh = Mesh::default();
        for (i, p) in screen.iter().enumerate() {
            if !rect.contains(*p) {
                continue;
            }
            let cluster = report.labels.get(i).copied().unwrap_or(-1);
            let faded = self.focus.is_some_and(|f| f != cluster)
                || (!selected.is_empty() && !selected.contains(&i));
            let r = if selected.contains(&i) { 3.5 } else { 2.5 };
            add_square(&mut mesh, *p, r, colour_of(cluster, faded));
        }
        painter.add(mesh);
        if let Some(i) = self.hovered {
            painter.circle_stroke(
                screen[i],
                5.0,
                Stroke::new(1.5, ui.visuals().strong_text_color()),
            );
            let text = self.row_text(i);
            response.on_hover_ui_at_pointer(|ui| {
                ui.label(text);
            });
        }
        painter.text(
            rect.left_bottom() + Vec2::new(6.0, -6.0),
            egui::Align2::LEFT_BOTTOM,
            format!(
                "{} · Ctrl+scroll: zoom · drag: pan · shift-drag: select · double-click: fit",
                report.projected_by
            ),
            egui::FontId::proportional(10.0),
            ui.visuals().weak_text_color(),
        );
    }

    fn row_text(&self, i: usize) -> String {
        let cluster = self.report.labels.get(i).copied().unwrap_or(-1);
        let label = self
            .report
            .subpopulations
            .iter()
            .find(|s| s.id == cluster)
            .map_or(String::new(), |s| s.label.clone());
        let mut text = format!("#{cluster} {label}");
        if let Some(rows) = &self.report.rows_shown {
            text.push('\n');
            text.push_str(&describe_row(rows, i));
        }
        text
    }

    fn show_rows(&mut self, rows: Vec<usize>) {
        self.members = self.report.rows_shown.as_ref().and_then(|batch| {
            let indices = UInt32Array::from_iter_values(rows.iter().map(|r| *r as u32));
            let taken: RecordBatch = take_record_batch(batch, &indices).ok()?;
            ResultTable::new(&taken.schema(), std::slice::from_ref(&taken)).ok()
        });
    }

    fn subpopulations(&mut self, ui: &mut egui::Ui, id: &str, action: &mut ClusterAction) {
        let report = self.report.clone();
        ui.add_space(4.0);
        for s in &report.subpopulations {
            ui.horizontal_wrapped(|ui| {
                let (swatch, _) = ui.allocate_exact_size(Vec2::splat(12.0), Sense::hover());
                ui.painter().rect_filled(swatch, 2.0, colour_of(s.id, false));
                let focused = self.focus == Some(s.id);
                let title = format!("#{} {}", s.id, s.label);
                if ui.selectable_label(focused, egui::RichText::new(title).strong()).on_hover_text("Show its members").clicked() {
                    if focused {
                        self.focus = None;
                        self.members = None;
                    } else {
                        self.focus = Some(s.id);
                        self.selection.clear();
                        let members: Vec<usize> = (0..report.labels.len())
                            .filter(|r| report.labels[*r] == s.id)
                            .collect();
                        self.show_rows(members);
                    }
                }
                ui.weak(format!("{} rows · {:.1}%", s.size, s.share * 100.0));
                for a in &s.attributes {
                    ui.label(&a.text);
                }
                let members = report
                    .rows_shown
                    .as_ref()
                    .and_then(|rows| membership_sql(&report.dataset, rows, &report.labels, s.id));
                if let Some(sql) = members
                    && ui
                        .small_button("SQL: its rows")
                        .on_hover_text("A SQL cell selecting exactly this cluster's rows, by their key")
                        .clicked()
                {
                    action.new_sql = Some(sql);
                }
                if let Some(predicate) = s.predicate()
                    && ui
                        .small_button("SQL: rows like it")
                        .on_hover_text(
                            "A SQL cell selecting every row that has this cluster's attributes: \
                             other rows may share them, and some members may not",
                        )
                        .clicked()
                {
                    action.new_sql = Some(format!(
                        "-- rows with the attributes of cluster #{} ({} members)\nSELECT *\nFROM {}\nWHERE {predicate}",
                        s.id,
                        s.size,
                        quote_ident(&report.dataset)
                    ));
                }
            });
        }
        if !report.dimensions.is_empty() {
            egui::CollapsingHeader::new("By dimension")
                .id_salt(("cluster-dimensions", id))
                .show(ui, |ui| {
                    for d in &report.dimensions {
                        ui.label(egui::RichText::new(&d.name).strong());
                        for (value, clusters) in &d.values {
                            let ids: Vec<String> =
                                clusters.iter().map(|c| format!("#{c}")).collect();
                            ui.label(format!("    {value} → {}", ids.join(" ")));
                        }
                    }
                });
        }
        if !report.notes.is_empty() {
            egui::CollapsingHeader::new(format!("Notes ({})", report.notes.len()))
                .id_salt(("cluster-notes", id))
                .show(ui, |ui| {
                    for n in &report.notes {
                        ui.small(n);
                    }
                });
        }
    }
}

/// A small filled square (cheaper than a circle for thousands of points).
fn add_square(mesh: &mut Mesh, centre: Pos2, r: f32, colour: Color32) {
    let base = mesh.vertices.len() as u32;
    for (dx, dy) in [(-r, -r), (r, -r), (r, r), (-r, r)] {
        mesh.colored_vertex(centre + Vec2::new(dx, dy), colour);
    }
    mesh.add_triangle(base, base + 1, base + 2);
    mesh.add_triangle(base, base + 2, base + 3);
}

/// A row's values, one per line.
fn describe_row(rows: &RecordBatch, r: usize) -> String {
    row_summary(rows, r, 80)
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join("\n")
}
