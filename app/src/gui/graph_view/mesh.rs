//! Drawing primitives the graph view batches into one mesh per frame.

use egui::epaint::{Mesh, Vertex, WHITE_UV};
use egui::{Color32, Pos2, Vec2};

/// A thin quad from `p` to `q`.
pub(super) fn add_segment(mesh: &mut Mesh, p: Pos2, q: Pos2, width: f32, colour: Color32) {
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
pub(super) fn add_disc(mesh: &mut Mesh, centre: Pos2, radius: f32, colour: Color32) {
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
