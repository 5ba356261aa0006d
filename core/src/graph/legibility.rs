//! Keeping dense graphs readable on screen and in exports: discs that do not cover one another, and
//! edges whose opacity follows their weight and the graph's density.

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

#[cfg(test)]
mod tests {
    use super::*;

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
