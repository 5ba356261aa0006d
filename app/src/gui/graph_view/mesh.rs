//! Drawing primitives the graph view batches into one mesh per frame.

use egui::epaint::{Mesh, Vertex, WHITE_UV};
use std::sync::LazyLock;

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
    let corner = |pos| Vertex {
        pos,
        uv: WHITE_UV,
        color: colour,
    };
    mesh.vertices
        .extend_from_slice(&[corner(p + n), corner(p - n), corner(q - n), corner(q + n)]);
    mesh.indices
        .extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
}

/// Points around the unit circle for discs of 6, 10 and 16 sides, worked
/// out once (thousands of discs are drawn a frame).
static UNIT_CIRCLES: LazyLock<[Vec<Vec2>; 3]> = LazyLock::new(|| {
    [6, 10, 16].map(|sides| {
        (0..sides)
            .map(|s| Vec2::angled(s as f32 / sides as f32 * std::f32::consts::TAU))
            .collect()
    })
});

/// A filled disc as a small polygon.
pub(super) fn add_disc(mesh: &mut Mesh, centre: Pos2, radius: f32, colour: Color32) {
    let circle = &UNIT_CIRCLES[if radius < 4.0 {
        0
    } else if radius < 10.0 {
        1
    } else {
        2
    }];
    let sides = circle.len() as u32;
    let base = mesh.vertices.len() as u32;
    mesh.colored_vertex(centre, colour);
    for &direction in circle {
        mesh.colored_vertex(centre + radius * direction, colour);
    }
    for s in 0..sides {
        mesh.add_triangle(base, base + 1 + s, base + 1 + (s + 1) % sides);
    }
}
