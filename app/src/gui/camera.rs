//! The 2-D camera of the canvas panels (graph view, cluster scatter): maps
//! world points to the screen, frames a set of points, zooms around the
//! pointer and pans.

use egui::{Pos2, Rect, Vec2};

/// Closest and farthest the camera zooms (screen points per world unit).
const ZOOM_RANGE: (f32, f32) = (1e-5, 1e5);

/// Smallest world extent [`Camera::fit`] frames, so one point (or points on
/// a line) does not zoom in without bound.
const MIN_EXTENT: f32 = 1e-3;

/// Where a canvas looks: the world point at the centre of its rectangle and
/// the screen points per world unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    pub centre: Vec2,
    pub zoom: f32,
}

impl Default for Camera {
    fn default() -> Self {
        Camera {
            centre: Vec2::ZERO,
            zoom: 1.0,
        }
    }
}

impl Camera {
    /// The screen position of `world` in a canvas occupying `rect`.
    pub fn to_screen(&self, rect: Rect, world: Vec2) -> Pos2 {
        rect.center() + (world - self.centre) * self.zoom
    }

    /// The world point shown at `screen` in a canvas occupying `rect`.
    pub fn to_world(&self, rect: Rect, screen: Pos2) -> Vec2 {
        (screen - rect.center()) / self.zoom + self.centre
    }

    /// Centres and zooms so that the finite `points` fill `rect` less a
    /// `margin` (screen points) all round. Returns false, leaving the camera
    /// as it was, when there is no finite point.
    pub fn fit(&mut self, rect: Rect, points: impl IntoIterator<Item = Vec2>, margin: f32) -> bool {
        let (mut lo, mut hi) = (Vec2::splat(f32::INFINITY), Vec2::splat(f32::NEG_INFINITY));
        for p in points
            .into_iter()
            .filter(|p| p.x.is_finite() && p.y.is_finite())
        {
            lo = lo.min(p);
            hi = hi.max(p);
        }
        if !lo.x.is_finite() {
            return false;
        }
        let size = (hi - lo).max(Vec2::splat(MIN_EXTENT));
        self.centre = (lo + hi) / 2.0;
        self.zoom = ((rect.width() - 2.0 * margin) / size.x)
            .min((rect.height() - 2.0 * margin) / size.y)
            .clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
        true
    }

    /// Zooms by `factor`, keeping the world point under `pointer` in place.
    pub fn zoom_at(&mut self, rect: Rect, pointer: Pos2, factor: f32) {
        let before = self.to_world(rect, pointer);
        self.zoom = (self.zoom * factor).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
        let after = self.to_world(rect, pointer);
        self.centre += before - after;
    }

    /// Moves the view with a drag of `screen_delta` (the world follows the
    /// pointer).
    pub fn pan(&mut self, screen_delta: Vec2) {
        self.centre -= screen_delta / self.zoom;
    }

    /// Applies this frame's Ctrl+wheel and pinch while the pointer is over
    /// `response` (a canvas occupying `rect`), zooming around the pointer.
    /// A plain wheel is left to the notebook, which scrolls: one rule for
    /// every canvas and chart. Returns whether the view changed.
    pub fn zoom_from_input(
        &mut self,
        ui: &egui::Ui,
        response: &egui::Response,
        rect: Rect,
    ) -> bool {
        if !response.hovered() {
            return false;
        }
        // egui turns Ctrl+wheel into a zoom delta (and scrolls nothing then).
        let factor = ui.input(|i| i.zoom_delta());
        match response.hover_pos() {
            Some(pointer) if (factor - 1.0).abs() > 1e-4 => {
                self.zoom_at(rect, pointer, factor);
                true
            }
            _ => false,
        }
    }
}
