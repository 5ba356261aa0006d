//! Keeping dense graphs readable on screen and in exports: discs that do not cover one another,
//! edges whose opacity follows their weight and the graph's density, and
//! labels only where they fit.

use std::collections::HashMap;

/// Smallest radius a disc is shrunk to (coincident nodes stay visible).
const MIN_RADIUS: f32 = 1.5;
/// Edges beyond this many fade: a thousand faint lines read as a shade,
/// a thousand strong ones as a blot.
const FADE_FROM_EDGES: f32 = 1500.0;

/// Shrinks each drawn disc to at most half the screen distance to its
/// nearest drawn neighbour (never below [`MIN_RADIUS`]), so discs of a dense
/// or zoomed-out graph sit side by side instead of on top of each other.
/// `drawn` says which nodes are on screen.
pub fn spare_radii(screen: &[[f32; 2]], drawn: &[bool], radii: &mut [f32]) {
    let largest = radii.iter().copied().fold(0.0f32, f32::max);
    if largest <= MIN_RADIUS {
        return;
    }
    // Buckets as wide as the largest disc's diameter: only nodes in the
    // same or a neighbouring bucket can overlap.
    let cell = 2.0 * largest;
    let key = |p: [f32; 2]| ((p[0] / cell).floor() as i32, (p[1] / cell).floor() as i32);
    let mut buckets: HashMap<(i32, i32), Vec<usize>> = HashMap::new();
    for (i, p) in screen.iter().enumerate() {
        if drawn[i] {
            buckets.entry(key(*p)).or_default().push(i);
        }
    }
    for (i, p) in screen.iter().enumerate() {
        if !drawn[i] {
            continue;
        }
        let (bx, by) = key(*p);
        let mut nearest = f32::INFINITY;
        for dx in -1..=1 {
            for dy in -1..=1 {
                for &j in buckets.get(&(bx + dx, by + dy)).into_iter().flatten() {
                    if j != i {
                        let (dx, dy) = (p[0] - screen[j][0], p[1] - screen[j][1]);
                        nearest = nearest.min((dx * dx + dy * dy).sqrt());
                    }
                }
            }
        }
        radii[i] = radii[i].min(nearest / 2.0).max(MIN_RADIUS);
    }
}

/// Opacity of an edge of `weight` (the heaviest being `heaviest`) in a view
/// of `edges` edges, from the sparse-graph opacity `base`: heavier edges are
/// darker, and the more edges there are the fainter each one is.
pub fn edge_alpha(base: u8, weight: f32, heaviest: f32, edges: usize) -> u8 {
    let density = (FADE_FROM_EDGES / edges.max(1) as f32)
        .sqrt()
        .clamp(0.25, 1.0);
    let share = if heaviest > 0.0 && weight.is_finite() {
        (weight / heaviest).clamp(0.0, 1.0)
    } else {
        1.0
    };
    let alpha = f32::from(base) * density * (0.3 + 0.7 * share);
    alpha.round().clamp(6.0, 255.0) as u8
}

/// Gap kept between a label and its disc, in points.
const LABEL_GAP: f32 = 3.0;

/// Where the label of node `i` goes: to the right of its disc, vertically
/// centred, `size` wide and high. As `[left, top, right, bottom]`.
pub fn label_rect(centre: [f32; 2], radius: f32, size: [f32; 2]) -> [f32; 4] {
    let left = centre[0] + radius + LABEL_GAP;
    [
        left,
        centre[1] - size[1] / 2.0,
        left + size[0],
        centre[1] + size[1] / 2.0,
    ]
}

/// The labels to draw, at most `limit`: `candidates` (node indices, the
/// most wanted first) each keep their label when it covers no label kept
/// before it and no other drawn disc. `sizes[i]` is node `i`'s label size.
pub fn placed_labels(
    candidates: &[usize],
    screen: &[[f32; 2]],
    radii: &[f32],
    sizes: &[[f32; 2]],
    drawn: &[bool],
    limit: usize,
) -> Vec<usize> {
    // Discs in buckets, so each label looks only at the discs near it.
    const CELL: f32 = 48.0;
    let key = |x: f32, y: f32| ((x / CELL).floor() as i32, (y / CELL).floor() as i32);
    let mut buckets: HashMap<(i32, i32), Vec<usize>> = HashMap::new();
    for (i, p) in screen.iter().enumerate() {
        if drawn[i] {
            let r = radii[i];
            let (x0, y0) = key(p[0] - r, p[1] - r);
            let (x1, y1) = key(p[0] + r, p[1] + r);
            for bx in x0..=x1 {
                for by in y0..=y1 {
                    buckets.entry((bx, by)).or_default().push(i);
                }
            }
        }
    }
    let overlaps =
        |a: &[f32; 4], b: &[f32; 4]| a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
    let covers_disc = |r: &[f32; 4], centre: [f32; 2], radius: f32| {
        let nx = centre[0].clamp(r[0], r[2]);
        let ny = centre[1].clamp(r[1], r[3]);
        let (dx, dy) = (centre[0] - nx, centre[1] - ny);
        dx * dx + dy * dy < radius * radius
    };
    let mut kept: Vec<usize> = Vec::new();
    let mut rects: Vec<[f32; 4]> = Vec::new();
    for &i in candidates {
        if kept.len() >= limit {
            break;
        }
        if !drawn[i] {
            continue;
        }
        let rect = label_rect(screen[i], radii[i], sizes[i]);
        if rects.iter().any(|k| overlaps(k, &rect)) {
            continue;
        }
        let (x0, y0) = key(rect[0], rect[1]);
        let (x1, y1) = key(rect[2], rect[3]);
        let on_a_disc = (x0..=x1).any(|bx| {
            (y0..=y1).any(|by| {
                buckets.get(&(bx, by)).is_some_and(|near| {
                    near.iter()
                        .any(|&j| j != i && covers_disc(&rect, screen[j], radii[j]))
                })
            })
        });
        if !on_a_disc {
            kept.push(i);
            rects.push(rect);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_go_only_where_they_cover_no_label_and_no_disc() {
        // 0 and 1 side by side: 1's label would cover 0's; 2's label would
        // cover disc 3; 4 stands alone; 5 is off screen.
        let screen = [
            [0.0, 0.0],
            [0.0, 5.0],
            [100.0, 100.0],
            [130.0, 100.0],
            [300.0, 300.0],
            [500.0, 500.0],
        ];
        let radii = [4.0; 6];
        let sizes = [[40.0, 12.0]; 6];
        let drawn = [true, true, true, true, true, false];
        let all = [0, 1, 2, 3, 4, 5];
        assert_eq!(
            placed_labels(&all, &screen, &radii, &sizes, &drawn, 10),
            [0, 3, 4]
        );
        // Priority decides who wins a place, and the limit is kept.
        assert_eq!(
            placed_labels(&[1, 0, 4], &screen, &radii, &sizes, &drawn, 10),
            [1, 4]
        );
        assert_eq!(
            placed_labels(&all, &screen, &radii, &sizes, &drawn, 2),
            [0, 3]
        );
    }

    #[test]
    fn discs_of_close_nodes_shrink_to_meet_but_not_overlap() {
        let screen = [[0.0, 0.0], [10.0, 0.0], [200.0, 0.0], [200.0, 0.0]];
        let mut radii = [12.0, 8.0, 12.0, 12.0];
        spare_radii(&screen, &[true, true, true, true], &mut radii);
        assert_eq!(radii, [5.0, 5.0, MIN_RADIUS, MIN_RADIUS]);
        // A node off screen takes no room from its neighbours.
        let mut radii = [12.0, 8.0, 12.0, 12.0];
        spare_radii(&screen, &[true, false, true, false], &mut radii);
        assert_eq!(radii, [12.0, 8.0, 12.0, 12.0]);
    }

    #[test]
    fn edges_fade_with_density_and_darken_with_weight() {
        assert_eq!(edge_alpha(40, 1.0, 1.0, 100), 40);
        assert_eq!(edge_alpha(40, 0.0, 10.0, 100), 12);
        // 1,761 edges: each is drawn a little fainter.
        assert_eq!(edge_alpha(40, 10.0, 10.0, 1761), 37);
        assert_eq!(edge_alpha(40, 1.0, 1.0, 1_000_000), 10);
        assert_eq!(edge_alpha(40, f32::NAN, 1.0, 100), 40);
    }
}
