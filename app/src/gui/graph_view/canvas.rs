//! The graph's canvas: nodes and edges drawn as two meshes a frame (their
//! buffers reused from frame to frame), hover, tooltips, and what the mouse
//! does there (select, drag a node, pan, Ctrl+wheel zoom).

use std::sync::Arc;

use egui::epaint::Mesh;
use egui::{Color32, Pos2, Rect, Sense, Shape, Stroke, Vec2};
use lakebook_core::graph::legibility::{EdgeShade, spare_radii};

use super::mesh::{add_disc, add_segment};
use super::{CANVAS_HEIGHT, GraphPanel, PICK_RADIUS, probe};

impl GraphPanel {
    pub(super) fn to_screen(&self, rect: Rect, p: [f32; 2]) -> Pos2 {
        self.camera.to_screen(rect, Vec2::new(p[0], p[1]))
    }

    pub(super) fn to_world(&self, rect: Rect, p: Pos2) -> [f32; 2] {
        let w = self.camera.to_world(rect, p);
        [w.x, w.y]
    }

    pub(super) fn fit(&mut self, rect: Rect) {
        let positions = self.drawn.layout.positions();
        let visible: Vec<Vec2> = positions
            .iter()
            .enumerate()
            .filter(|(i, _)| self.visible(*i))
            .map(|(_, p)| Vec2::new(p[0], p[1]))
            .collect();
        self.camera.fit(rect, visible, 20.0);
    }

    pub(super) fn canvas(&mut self, ui: &mut egui::Ui, id: &str) {
        let size = Vec2::new(ui.available_width().max(200.0), CANVAS_HEIGHT);
        let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
        let resized = (rect.size() - self.fitted_size).length() > 1.0;
        if self.fit_pending || (resized && !self.view_touched && self.dragging.is_none()) {
            self.fit(rect);
            self.fit_pending = false;
            self.fitted_size = rect.size();
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
        let mut radii: Vec<f32> = (0..n).map(|i| self.radius(i)).collect();
        let on_screen: Vec<bool> = (0..n)
            .map(|i| visible[i] && rect.expand(30.0).contains(screen[i]))
            .collect();
        let points: Vec<[f32; 2]> = screen.iter().map(|p| [p.x, p.y]).collect();
        spare_radii(&points, &on_screen, &mut radii);
        probe::mark(format!("graph:{id}"), || {
            let nodes: Vec<serde_json::Value> = (0..n)
                .filter(|i| on_screen[*i])
                .take(500)
                .map(|i| serde_json::json!([self.label(i), points[i][0], points[i][1], radii[i]]))
                .collect();
            serde_json::json!({
                "rect": probe::rect(rect),
                "settled": self.drawn.layout.settled(),
                "iterations": self.drawn.layout.iterations(),
                "centre": [self.camera.centre.x, self.camera.centre.y],
                "zoom": self.camera.zoom,
                "dragging": self.dragging.map(|i| self.label(i)),
                "nodes": nodes,
            })
        });
        // Hover: the nearest visible node under the pointer.
        let pointer = response.hover_pos();
        self.hovered = pointer.and_then(|p| {
            (0..n)
                .filter(|i| visible[*i])
                .map(|i| (i, screen[i].distance_sq(p)))
                .filter(|(i, d)| *d <= (radii[*i] + 3.0).max(PICK_RADIUS).powi(2))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i)
        });
        self.interact(ui, &response, rect);
        // Edges, then nodes, in two meshes.
        let dark = ui.visuals().dark_mode;
        let ([red, green, blue], base_alpha) = if dark {
            ([200, 200, 220], 40)
        } else {
            ([60, 60, 80], 45)
        };
        let shade = EdgeShade::new(
            base_alpha,
            self.drawn.heaviest,
            self.drawn.adjacency.edge_count(),
        );
        // Few distinct opacities: each colour is converted once a frame.
        let mut colour_of_alpha = [None; 256];
        // The seeded community in the text colour: no community has that colour.
        let community_edge = ui.visuals().strong_text_color();
        let [mut edge_mesh, mut node_mesh] = std::mem::take(&mut self.meshes);
        let edges = reused(&mut edge_mesh);
        edges.reserve_triangles(self.drawn.adjacency.edge_count() * 2);
        edges.reserve_vertices(self.drawn.adjacency.edge_count() * 4);
        for a in 0..n {
            if !visible[a] {
                continue;
            }
            let p = screen[a];
            let (targets, weights) = self.drawn.adjacency.neighbours(a as u32);
            for (&b, &weight) in targets.iter().zip(weights) {
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
                    let alpha = shade.alpha(weight);
                    *colour_of_alpha[usize::from(alpha)].get_or_insert_with(|| {
                        Color32::from_rgba_unmultiplied(red, green, blue, alpha)
                    })
                };
                add_segment(edges, p, q, 0.8, colour);
            }
        }
        painter.add(Shape::Mesh(edge_mesh.clone()));
        let nodes = reused(&mut node_mesh);
        let mut rings = Vec::new();
        for (i, &p) in screen.iter().enumerate() {
            if !visible[i] || !rect.expand(30.0).contains(p) {
                continue;
            }
            let r = radii[i];
            add_disc(nodes, p, r, self.colour(i));
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
        painter.add(Shape::Mesh(node_mesh.clone()));
        self.meshes = [edge_mesh, node_mesh];
        for (p, r, stroke) in rings {
            painter.circle_stroke(p, r, stroke);
        }
        let on_screen: Vec<bool> = (0..n)
            .map(|i| visible[i] && rect.contains(screen[i]))
            .collect();
        let legend = self.draw_legend(ui, &painter, rect);
        self.draw_labels(ui, &painter, &points, &radii, &on_screen, legend);
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

    pub(super) fn tooltip(&self, local: usize) -> String {
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

    pub(super) fn interact(&mut self, ui: &egui::Ui, response: &egui::Response, rect: Rect) {
        // The node under the press is taken at the press, not when the drag
        // is recognised a few points later, by which time the pointer (or
        // the moving node) has left a small disc and the drag would pan.
        // It is pinned at once so it stays under the pointer.
        if response.is_pointer_button_down_on()
            && ui.input(|i| i.pointer.primary_pressed())
            && let Some(i) = self.hovered
        {
            self.dragging = Some(i);
            self.drawn.layout.set_pinned(i as u32, true);
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
        let released = response.drag_stopped() || !ui.input(|i| i.pointer.primary_down());
        if released && let Some(i) = self.dragging.take() {
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
}

/// The mesh emptied for a new frame, keeping its buffers (a copy only if
/// last frame's shapes still hold it).
fn reused(mesh: &mut Arc<Mesh>) -> &mut Mesh {
    let mesh = Arc::make_mut(mesh);
    mesh.vertices.clear();
    mesh.indices.clear();
    mesh
}
