//! Fitting the layout into the picture: pixel positions, drawn radii, and
//! the nodes and edges that can be drawn.

use super::{Scene, SceneNode};

/// Smallest and largest radius drawn, in pixels.
const MIN_DRAWN_RADIUS: f32 = 1.5;
const MAX_DRAWN_RADIUS: f32 = 30.0;
/// Width of an edge, in pixels.
pub(super) const EDGE_WIDTH: f32 = 1.0;
/// Width of the ring around highlighted nodes, in pixels, and its colour.
pub(super) const RING_WIDTH: f32 = 1.5;
pub(super) const RING_COLOUR: [u8; 4] = [34, 34, 34, 255];

/// Fits the scene's node positions into `width`×`height` pixels with a margin
/// (keeps aspect ratio, flips nothing: y grows downwards as on screen);
/// returns per-node pixel positions and the scale used (so radii can be
/// scaled the same way, but the drawn radius is clamped to [1.5, 30] px).
///
/// Nodes with a non-finite position get `[NaN, NaN]`. A single node, or nodes
/// that all share one position, are centred with scale 1. The margin is
/// clamped to half the smaller side.
pub fn fit(scene: &Scene, width: u32, height: u32, margin: f32) -> (Vec<[f32; 2]>, f32) {
    let (width, height) = (f64::from(width), f64::from(height));
    let margin = if margin.is_finite() {
        f64::from(margin).max(0.0)
    } else {
        0.0
    };
    let margin = margin.min(width / 2.0).min(height / 2.0);

    let mut low = [f64::INFINITY; 2];
    let mut high = [f64::NEG_INFINITY; 2];
    for node in &scene.nodes {
        if let Some(point) = finite_point(node.position) {
            for axis in 0..2 {
                low[axis] = low[axis].min(point[axis]);
                high[axis] = high[axis].max(point[axis]);
            }
        }
    }
    if low[0] > high[0] {
        let none = scene.nodes.iter().map(|_| [f32::NAN; 2]).collect();
        return (none, 1.0);
    }

    let available = [width - 2.0 * margin, height - 2.0 * margin];
    let scale = (0..2)
        .filter(|&axis| high[axis] - low[axis] > 0.0)
        .map(|axis| available[axis] / (high[axis] - low[axis]))
        .fold(f64::INFINITY, f64::min);
    let scale = if scale.is_finite() {
        scale.min(f64::from(f32::MAX))
    } else {
        1.0
    };

    let picture_centre = [width / 2.0, height / 2.0];
    let layout_centre = [(low[0] + high[0]) / 2.0, (low[1] + high[1]) / 2.0];
    let limits = [(margin, width - margin), (margin, height - margin)];
    let positions = scene
        .nodes
        .iter()
        .map(|node| match finite_point(node.position) {
            Some(point) => [0, 1].map(|axis| {
                let pixel = picture_centre[axis] + (point[axis] - layout_centre[axis]) * scale;
                pixel.clamp(limits[axis].0, limits[axis].1) as f32
            }),
            None => [f32::NAN; 2],
        })
        .collect();
    (positions, scale as f32)
}

/// The position in `f64` when both coordinates are finite.
fn finite_point(position: [f32; 2]) -> Option<[f64; 2]> {
    (position[0].is_finite() && position[1].is_finite()).then(|| position.map(f64::from))
}

/// Margin used by [`to_svg`] and [`rasterise`]: room for the largest disc.
pub(super) fn picture_margin(width: u32, height: u32) -> f32 {
    (width.min(height) as f32 * 0.05).clamp(4.0, MAX_DRAWN_RADIUS + 10.0)
}

/// A radius in layout units as drawn, in pixels.
pub(super) fn drawn_radius(radius: f32, scale: f32) -> f32 {
    let pixels = radius * scale;
    if pixels.is_nan() {
        MIN_DRAWN_RADIUS
    } else {
        pixels.clamp(MIN_DRAWN_RADIUS, MAX_DRAWN_RADIUS)
    }
}

/// One node as it will be drawn.
pub(super) struct PlacedNode<'a> {
    pub(super) node: &'a SceneNode,
    pub(super) centre: [f32; 2],
    pub(super) radius: f32,
}

/// The scene fitted into the picture: drawable nodes and edges.
pub(super) struct Placement<'a> {
    pub(super) nodes: Vec<PlacedNode<'a>>,
    pub(super) edges: Vec<([f32; 2], [f32; 2])>,
}

impl<'a> Placement<'a> {
    pub(super) fn new(scene: &'a Scene, width: u32, height: u32) -> Self {
        let (positions, scale) = fit(scene, width, height, picture_margin(width, height));
        let drawable = |p: &[f32; 2]| p[0].is_finite() && p[1].is_finite();
        let nodes = scene
            .nodes
            .iter()
            .zip(&positions)
            .filter(|(_, centre)| drawable(centre))
            .map(|(node, &centre)| PlacedNode {
                node,
                centre,
                radius: drawn_radius(node.radius, scale),
            })
            .collect();
        let edges = scene
            .edges
            .iter()
            .filter(|(from, to)| from != to)
            .filter_map(|&(from, to)| {
                let from = *positions.get(from as usize)?;
                let to = *positions.get(to as usize)?;
                (drawable(&from) && drawable(&to)).then_some((from, to))
            })
            .collect();
        Placement { nodes, edges }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::export::NO_COMMUNITY;
    use crate::graph::export::test_scenes::{node, random_scene};

    #[test]
    fn fit_keeps_everything_inside_the_margins() {
        let scene = random_scene(500, 0, 9);
        for (width, height) in [(1600, 1200), (300, 900), (50, 50)] {
            let margin = 20.0;
            let (positions, scale) = fit(&scene, width, height, margin);
            assert!(scale > 0.0 && scale.is_finite());
            for p in &positions {
                assert!(p[0] >= margin && p[0] <= width as f32 - margin, "{p:?}");
                assert!(p[1] >= margin && p[1] <= height as f32 - margin, "{p:?}");
            }
            // One axis is filled to the margins.
            let (min_x, max_x) = positions.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| {
                (lo.min(p[0]), hi.max(p[0]))
            });
            let (min_y, max_y) = positions.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| {
                (lo.min(p[1]), hi.max(p[1]))
            });
            let fills_x = (max_x - min_x - (width as f32 - 2.0 * margin)).abs() < 0.01;
            let fills_y = (max_y - min_y - (height as f32 - 2.0 * margin)).abs() < 0.01;
            assert!(fills_x || fills_y);
        }
        // Aspect ratio kept: a 2:1 layout in a square stays 2:1.
        let wide = Scene {
            nodes: vec![
                node(0.0, 0.0, 1.0, NO_COMMUNITY),
                node(20.0, 10.0, 1.0, NO_COMMUNITY),
            ],
            ..Scene::default()
        };
        let (positions, scale) = fit(&wide, 100, 100, 0.0);
        assert_eq!(positions, vec![[0.0, 25.0], [100.0, 75.0]]);
        assert_eq!(scale, 5.0);
    }

    #[test]
    fn fit_centres_single_and_coincident_nodes() {
        let single = Scene {
            nodes: vec![node(-123.0, 456.0, 4.0, NO_COMMUNITY)],
            ..Scene::default()
        };
        let (positions, scale) = fit(&single, 300, 200, 10.0);
        assert_eq!(positions, vec![[150.0, 100.0]]);
        assert_eq!(scale, 1.0);
        let same = Scene {
            nodes: vec![node(5.0, 5.0, 1.0, NO_COMMUNITY); 3],
            ..Scene::default()
        };
        let (positions, scale) = fit(&same, 300, 200, 10.0);
        assert_eq!(positions, vec![[150.0, 100.0]; 3]);
        assert!(scale.is_finite());
        // A vertical line of nodes scales by height only.
        let column = Scene {
            nodes: vec![
                node(1.0, 0.0, 1.0, NO_COMMUNITY),
                node(1.0, 18.0, 1.0, NO_COMMUNITY),
            ],
            ..Scene::default()
        };
        let (positions, scale) = fit(&column, 300, 200, 10.0);
        assert_eq!(positions, vec![[150.0, 10.0], [150.0, 190.0]]);
        assert_eq!(scale, 10.0);
        // Zero sizes and silly margins do not panic.
        assert_eq!(fit(&column, 0, 0, f32::NAN).0, vec![[0.0, 0.0]; 2]);
        assert_eq!(fit(&column, 10, 10, 1e9).0, vec![[5.0, 5.0]; 2]);
        let empty = fit(&Scene::default(), 10, 10, 1.0);
        assert!(empty.0.is_empty() && empty.1 == 1.0);
    }

    #[test]
    fn drawn_radius_is_clamped() {
        assert_eq!(drawn_radius(0.0, 10.0), 1.5);
        assert_eq!(drawn_radius(f32::NAN, 10.0), 1.5);
        assert_eq!(drawn_radius(100.0, 10.0), 30.0);
        assert_eq!(drawn_radius(2.0, 3.0), 6.0);
    }
}
