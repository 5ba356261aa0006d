//! Words on the graph: node labels where they fit (the selected node and
//! the seeds always), and the colour key of the communities shown.

use egui::{Color32, Painter, Rect, Vec2};
use lakebook_core::graph::export::community_key;
use lakebook_core::graph::legibility::{label_rect, placed_labels};

use super::GraphPanel;

/// Nodes at most whose labels are measured in a frame (the biggest first).
const MOST_LABEL_CANDIDATES: usize = 120;

/// Labels at most drawn besides the chosen ones.
const MOST_LABELS: usize = 60;

impl GraphPanel {
    /// Draws the labels that fit: each covers no other label and no other
    /// disc, the selected node and the seeds first (and always), then the
    /// biggest nodes. Remembers them for exports.
    pub(super) fn draw_labels(
        &mut self,
        ui: &egui::Ui,
        painter: &Painter,
        points: &[[f32; 2]],
        radii: &[f32],
        on_screen: &[bool],
        legend: Option<Rect>,
    ) {
        let text_colour = ui.visuals().text_color();
        let important = |i: usize| {
            self.selected == Some(i) || self.graph_node(i).is_some_and(|v| self.seeds.contains(&v))
        };
        // Each node's claim computed once; only the strongest are sorted
        // (a sort of every node with this comparison cost frames their time).
        let mut claims: Vec<(bool, f32, usize)> = (0..points.len())
            .filter(|&i| on_screen[i])
            .map(|i| (important(i), radii[i], i))
            .collect();
        let strongest_first = |a: &(bool, f32, usize), b: &(bool, f32, usize)| {
            b.0.cmp(&a.0).then(b.1.total_cmp(&a.1))
        };
        if claims.len() > MOST_LABEL_CANDIDATES {
            claims.select_nth_unstable_by(MOST_LABEL_CANDIDATES, strongest_first);
            claims.truncate(MOST_LABEL_CANDIDATES);
        }
        claims.sort_by(strongest_first);
        let candidates: Vec<usize> = claims.iter().map(|c| c.2).collect();
        let font = egui::FontId::proportional(11.0);
        let mut galleys = std::collections::HashMap::new();
        let mut sizes = vec![[0.0f32; 2]; points.len()];
        for &i in &candidates {
            let galley = painter.layout_no_wrap(self.label(i), font.clone(), text_colour);
            sizes[i] = [galley.size().x, galley.size().y];
            galleys.insert(i, galley);
        }
        // Labels under the colour key would be hidden: not offered.
        let clear_of_key = |i: usize| {
            let [l, t, r, b] = label_rect(points[i], radii[i], sizes[i]);
            let label = Rect::from_min_max(egui::pos2(l, t), egui::pos2(r, b));
            legend.is_none_or(|key| !key.intersects(label))
        };
        let offered: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| clear_of_key(i))
            .collect();
        let mut labelled = placed_labels(&offered, points, radii, &sizes, on_screen, MOST_LABELS);
        let chosen: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| important(i) && !labelled.contains(&i))
            .collect();
        labelled.extend(chosen);
        for &i in &labelled {
            let [left, top, ..] = label_rect(points[i], radii[i], sizes[i]);
            if let Some(galley) = galleys.remove(&i) {
                painter.galley(egui::pos2(left, top), galley, text_colour);
            }
        }
        self.shown_labels = labelled;
    }

    /// The communities shown, largest first, as the key names them: their
    /// colour and "community C · N nodes"; the last entry counts the rest.
    pub(super) fn legend(&self) -> Vec<(String, [u8; 4])> {
        if !self.colour_by_community {
            return Vec::new();
        }
        community_key(
            (0..self.drawn.layout.positions().len())
                .filter(|&local| self.visible(local))
                .filter_map(|local| self.community_of_local(local)),
        )
    }

    /// The key in the canvas's top right corner, over a backdrop; where it is.
    pub(super) fn draw_legend(&self, ui: &egui::Ui, painter: &Painter, rect: Rect) -> Option<Rect> {
        let entries = self.legend();
        if entries.is_empty() {
            return None;
        }
        let font = egui::FontId::proportional(11.0);
        let text_colour = ui.visuals().text_color();
        let galleys: Vec<_> = entries
            .iter()
            .map(|(text, _)| painter.layout_no_wrap(text.clone(), font.clone(), text_colour))
            .collect();
        let (swatch, gap, pad) = (10.0, 4.0, 6.0);
        let line = galleys.iter().map(|g| g.size().y).fold(swatch, f32::max) + 2.0;
        let width =
            galleys.iter().map(|g| g.size().x).fold(0.0, f32::max) + swatch + gap + 2.0 * pad;
        let height = line * galleys.len() as f32 + 2.0 * pad;
        let key = Rect::from_min_size(
            rect.right_top() + Vec2::new(-width - 8.0, 8.0),
            Vec2::new(width, height),
        );
        painter.rect_filled(key, 4.0, ui.visuals().extreme_bg_color.gamma_multiply(0.9));
        super::probe::mark("graph legend", || super::probe::rect(key));
        for (n, ((_, rgba), galley)) in entries.iter().zip(galleys).enumerate() {
            let top = key.top() + pad + line * n as f32;
            if rgba[3] > 0 {
                let colour = Color32::from_rgba_unmultiplied(rgba[0], rgba[1], rgba[2], rgba[3]);
                let square = Rect::from_min_size(
                    egui::pos2(key.left() + pad, top + (line - swatch) / 2.0),
                    Vec2::splat(swatch),
                );
                painter.rect_filled(square, 2.0, colour);
            }
            let y = top + (line - galley.size().y) / 2.0;
            painter.galley(
                egui::pos2(key.left() + pad + swatch + gap, y),
                galley,
                text_colour,
            );
        }
        Some(key)
    }
}
