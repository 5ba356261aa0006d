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

impl Placement<'_> {
    /// The nodes with a label to write, and the label.
    pub(super) fn labelled(&self) -> Vec<(&PlacedNode<'_>, &str)> {
        self.nodes
            .iter()
            .filter_map(|p| {
                p.node
                    .label
                    .as_deref()
                    .filter(|l| !l.is_empty())
                    .map(|l| (p, l))
            })
            .collect()
    }
}

/// Size of node labels and of the colour key's text, in pixels.
pub(super) const LABEL_SIZE: f32 = 12.0;
/// Size of the title, in pixels, and where its baseline starts.
pub(super) const TITLE_SIZE: f32 = 16.0;
pub(super) const TITLE_ORIGIN: [f32; 2] = [12.0, 24.0];

/// Where a node's label starts: its baseline, just right of the disc.
pub(super) fn label_origin(placed: &PlacedNode<'_>) -> [f32; 2] {
    [
        placed.centre[0] + placed.radius + 3.0,
        placed.centre[1] + 4.0,
    ]
}

/// Keeps, of the scene's labels, those that can be read in a
/// `width`×`height` picture: highlighted nodes always keep theirs; the other
/// labelled nodes, biggest first, keep theirs when it covers no label kept
/// before it and no other disc, up to `limit` of them. The other labels are
/// removed. Labels are measured in the font the PNG writes them with.
pub fn keep_fitting_labels(scene: &mut Scene, width: u32, height: u32, limit: usize) {
    let (positions, scale) = fit(scene, width, height, picture_margin(width, height));
    let radii: Vec<f32> = scene
        .nodes
        .iter()
        .map(|node| drawn_radius(node.radius, scale))
        .collect();
    let drawn: Vec<bool> = positions
        .iter()
        .map(|p| p[0].is_finite() && p[1].is_finite())
        .collect();
    let face = super::text::Typeface::ui();
    let sizes: Vec<[f32; 2]> = scene
        .nodes
        .iter()
        .map(|node| {
            let text = node.label.as_deref().unwrap_or_default();
            let text_width = face
                .as_ref()
                .map_or(7.0 * text.chars().count() as f32, |face| {
                    face.width(text, LABEL_SIZE)
                });
            [text_width, LABEL_SIZE * 1.25]
        })
        .collect();
    let mut candidates: Vec<usize> = (0..scene.nodes.len())
        .filter(|&i| {
            scene.nodes[i]
                .label
                .as_deref()
                .is_some_and(|l| !l.is_empty())
        })
        .filter(|&i| !scene.nodes[i].highlighted)
        .collect();
    candidates.sort_by(|&a, &b| radii[b].total_cmp(&radii[a]).then(a.cmp(&b)));
    let kept: std::collections::HashSet<usize> = crate::graph::legibility::placed_labels(
        &candidates,
        &positions,
        &radii,
        &sizes,
        &drawn,
        limit,
    )
    .into_iter()
    .collect();
    for (i, node) in scene.nodes.iter_mut().enumerate() {
        if !node.highlighted && !kept.contains(&i) {
            node.label = None;
        }
    }
}

/// Side of a colour key's square, in pixels.
pub(super) const KEY_SQUARE: f32 = 10.0;

/// The colour key's box at the lower left of the picture: one line per
/// entry, 16 px apart, inside an 8 px padding.
pub(super) struct KeyBox {
    pub(super) left: f32,
    pub(super) top: f32,
    pub(super) width: f32,
    pub(super) height: f32,
    /// Per entry: the top-left corner of its colour square, and where its
    /// text's baseline starts.
    pub(super) rows: Vec<([f32; 2], [f32; 2])>,
}

impl KeyBox {
    /// Lays out `entries` in a picture `picture_height` pixels high;
    /// `text_width` measures an entry's text in pixels.
    pub(super) fn new(
        entries: &[(String, [u8; 4])],
        picture_height: u32,
        text_width: impl Fn(&str) -> f32,
    ) -> Self {
        let (line, pad, left) = (16.0f32, 8.0f32, 12.0f32);
        let widest = entries
            .iter()
            .map(|(text, _)| text_width(text))
            .fold(0.0f32, f32::max);
        let height = line * entries.len() as f32 + 2.0 * pad;
        let width = 14.0 + widest + 2.0 * pad;
        let top = picture_height as f32 - 12.0 - height;
        let rows = (0..entries.len())
            .map(|n| {
                let y = top + pad + line * n as f32;
                ([left + pad, y + 3.0], [left + pad + 14.0, y + 12.0])
            })
            .collect();
        KeyBox {
            left,
            top,
            width,
            height,
            rows,
        }
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
    fn labels_that_would_cover_others_are_dropped() {
        // Three nodes in a row, about 21 px apart: the big one's long label
        // would cover the next disc, so it is dropped; the next one's short
        // label fits, as does the lone node's below; the highlighted node
        // always keeps its own.
        let mut scene = Scene {
            nodes: vec![
                node(0.0, 0.0, 8.0, NO_COMMUNITY),
                node(20.0, 0.0, 4.0, NO_COMMUNITY),
                node(40.0, 0.0, 2.0, NO_COMMUNITY),
                node(40.0, 200.0, 2.0, NO_COMMUNITY),
            ],
            ..Scene::default()
        };
        for (i, text) in ["a long label here", "b", "c", "d"].iter().enumerate() {
            scene.nodes[i].label = Some(text.to_string());
        }
        scene.nodes[2].highlighted = true;
        keep_fitting_labels(&mut scene, 100, 220, 10);
        let labels: Vec<Option<&str>> = scene.nodes.iter().map(|n| n.label.as_deref()).collect();
        assert_eq!(labels, [None, Some("b"), Some("c"), Some("d")]);
        // A limit of one keeps the biggest that fits (and the highlighted).
        scene.nodes[3].label = Some("d".into());
        keep_fitting_labels(&mut scene, 100, 220, 1);
        let labels: Vec<Option<&str>> = scene.nodes.iter().map(|n| n.label.as_deref()).collect();
        assert_eq!(labels, [None, Some("b"), Some("c"), None]);
    }

    #[test]
    fn drawn_radius_is_clamped() {
        assert_eq!(drawn_radius(0.0, 10.0), 1.5);
        assert_eq!(drawn_radius(f32::NAN, 10.0), 1.5);
        assert_eq!(drawn_radius(100.0, 10.0), 30.0);
        assert_eq!(drawn_radius(2.0, 3.0), 6.0);
    }
}
