//! Keeping dense graphs readable on screen and in exports: discs that do not cover one another,
//! edges whose opacity follows their weight and the graph's density, and
//! labels only where they fit.

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
    // Cells at least as wide as the largest disc's diameter: only nodes in
    // the same or a neighbouring cell can overlap.
    let points = (0..screen.len())
        .filter(|&i| drawn[i])
        .map(|i| (i, [screen[i][0], screen[i][1], screen[i][0], screen[i][1]]));
    let grid = Grid::new(points, 2.0 * largest);
    for (i, p) in screen.iter().enumerate() {
        if !drawn[i] {
            continue;
        }
        let (column, row) = grid.cell_of(p[0], p[1]);
        let mut nearest = f32::INFINITY;
        for near_row in row - 1..=row + 1 {
            for near_column in column - 1..=column + 1 {
                for &j in grid.members(near_column, near_row) {
                    let j = j as usize;
                    if j != i {
                        let (dx, dy) = (p[0] - screen[j][0], p[1] - screen[j][1]);
                        nearest = nearest.min(dx * dx + dy * dy);
                    }
                }
            }
        }
        radii[i] = radii[i].min(nearest.sqrt() / 2.0).max(MIN_RADIUS);
    }
}

/// Items filed in square cells over the box that holds them all (a counting
/// sort into a dense grid), to find what lies near a place without a hash
/// map: per frame, thousands of nodes are filed and looked up.
struct Grid {
    cell: f32,
    origin: [f32; 2],
    columns: usize,
    rows: usize,
    /// Where each cell's members start in `members`, plus the end.
    starts: Vec<u32>,
    members: Vec<u32>,
}

impl Grid {
    /// Files each item (its index and `[left, top, right, bottom]` box) in
    /// every cell its box touches; cells are `cell` wide or, where that
    /// would make far more cells than items, wider. Items with a box that
    /// is not finite are left out.
    fn new(items: impl Iterator<Item = (usize, [f32; 4])> + Clone, cell: f32) -> Self {
        let finite = |b: &[f32; 4]| b.iter().all(|v| v.is_finite());
        let (mut low, mut high, mut count) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2], 0usize);
        for (_, b) in items.clone().filter(|(_, b)| finite(b)) {
            low = [low[0].min(b[0]), low[1].min(b[1])];
            high = [high[0].max(b[2]), high[1].max(b[3])];
            count += 1;
        }
        if count == 0 {
            return Grid {
                cell: 1.0,
                origin: [0.0; 2],
                columns: 0,
                rows: 0,
                starts: vec![0],
                members: Vec::new(),
            };
        }
        let extent = [(high[0] - low[0]).max(0.0), (high[1] - low[1]).max(0.0)];
        let mut cell = if cell.is_finite() && cell > 0.0 {
            cell
        } else {
            1.0
        };
        let most_cells = (4 * count + 64) as f32;
        let cells =
            |cell: f32| ((extent[0] / cell).floor() + 1.0) * ((extent[1] / cell).floor() + 1.0);
        while cells(cell) > most_cells {
            cell *= 2.0;
        }
        let columns = (extent[0] / cell).floor() as usize + 1;
        let rows = (extent[1] / cell).floor() as usize + 1;
        let mut grid = Grid {
            cell,
            origin: low,
            columns,
            rows,
            starts: vec![0; columns * rows + 1],
            members: Vec::new(),
        };
        // Count, then place: each cell's members end up contiguous.
        let spans: Vec<(usize, [usize; 4])> = items
            .filter(|(_, b)| finite(b))
            .map(|(i, b)| (i, grid.span(&b)))
            .collect();
        for (_, [c0, r0, c1, r1]) in &spans {
            for row in *r0..=*r1 {
                for column in *c0..=*c1 {
                    grid.starts[row * columns + column + 1] += 1;
                }
            }
        }
        for k in 1..grid.starts.len() {
            grid.starts[k] += grid.starts[k - 1];
        }
        let mut next: Vec<u32> = grid.starts[..columns * rows].to_vec();
        grid.members = vec![0; grid.starts[columns * rows] as usize];
        for (i, [c0, r0, c1, r1]) in spans {
            for row in r0..=r1 {
                for column in c0..=c1 {
                    let slot = &mut next[row * columns + column];
                    grid.members[*slot as usize] = i as u32;
                    *slot += 1;
                }
            }
        }
        grid
    }

    /// The cell holding (x, y), which may lie outside the grid.
    fn cell_of(&self, x: f32, y: f32) -> (isize, isize) {
        let at = |v: f32, origin: f32| {
            let cell = ((v - origin) / self.cell).floor();
            if cell.is_finite() {
                cell.clamp(-1e9, 1e9) as isize
            } else {
                -1
            }
        };
        (at(x, self.origin[0]), at(y, self.origin[1]))
    }

    /// First and last column and row a box touches, inside the grid.
    fn span(&self, b: &[f32; 4]) -> [usize; 4] {
        let (c0, r0) = self.cell_of(b[0], b[1]);
        let (c1, r1) = self.cell_of(b[2], b[3]);
        let clamp = |v: isize, size: usize| v.clamp(0, size as isize - 1) as usize;
        [
            clamp(c0, self.columns),
            clamp(r0, self.rows),
            clamp(c1, self.columns),
            clamp(r1, self.rows),
        ]
    }

    /// The items filed in a cell; none outside the grid.
    fn members(&self, column: isize, row: isize) -> &[u32] {
        let inside =
            (0..self.columns as isize).contains(&column) && (0..self.rows as isize).contains(&row);
        if !inside {
            return &[];
        }
        let k = row as usize * self.columns + column as usize;
        &self.members[self.starts[k] as usize..self.starts[k + 1] as usize]
    }
}

/// Opacity of an edge of `weight` (the heaviest being `heaviest`) in a view
/// of `edges` edges, from the sparse-graph opacity `base`: heavier edges are
/// darker, and the more edges there are the fainter each one is.
pub fn edge_alpha(base: u8, weight: f32, heaviest: f32, edges: usize) -> u8 {
    EdgeShade::new(base, heaviest, edges).alpha(weight)
}

/// [`edge_alpha`] for one view, with what depends only on the view (its
/// edge count and heaviest weight) worked out once for all its edges.
#[derive(Debug, Clone, Copy)]
pub struct EdgeShade {
    /// The base opacity, faded for density.
    faded: f32,
    heaviest: f32,
}

impl EdgeShade {
    /// The shading of a view of `edges` edges whose heaviest weighs `heaviest`.
    pub fn new(base: u8, heaviest: f32, edges: usize) -> Self {
        let density = (FADE_FROM_EDGES / edges.max(1) as f32)
            .sqrt()
            .clamp(0.25, 1.0);
        EdgeShade {
            faded: f32::from(base) * density,
            heaviest,
        }
    }

    /// The opacity of an edge of `weight`.
    pub fn alpha(&self, weight: f32) -> u8 {
        let share = if self.heaviest > 0.0 && weight.is_finite() {
            (weight / self.heaviest).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let alpha = self.faded * (0.3 + 0.7 * share);
        alpha.round().clamp(6.0, 255.0) as u8
    }
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
    // Discs filed in cells, so each label looks only at the discs near it.
    let discs = (0..screen.len()).filter(|&i| drawn[i]).map(|i| {
        let (p, r) = (screen[i], radii[i]);
        (i, [p[0] - r, p[1] - r, p[0] + r, p[1] + r])
    });
    let grid = Grid::new(discs, 48.0);
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
        let (c0, r0) = grid.cell_of(rect[0], rect[1]);
        let (c1, r1) = grid.cell_of(rect[2], rect[3]);
        let (c0, r0) = (c0.max(0), r0.max(0));
        let (c1, r1) = (
            c1.min(grid.columns as isize - 1),
            r1.min(grid.rows as isize - 1),
        );
        let on_a_disc = (r0..=r1).any(|row| {
            (c0..=c1).any(|column| {
                grid.members(column, row).iter().any(|&j| {
                    let j = j as usize;
                    j != i && covers_disc(&rect, screen[j], radii[j])
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
        // Nodes spread far apart (a grid of 2 px cells would have ~10^12
        // cells): the close pair still meets, the far ones keep their size.
        let screen = [
            [0.0, 0.0],
            [3.0, 0.0],
            [1e6, 1e6],
            [-1e6, 5e5],
            [f32::NAN, 0.0],
        ];
        let mut radii = [4.0, 2.0, 2.0, 2.0, 2.0];
        spare_radii(&screen, &[true, true, true, true, false], &mut radii);
        assert_eq!(radii, [MIN_RADIUS, MIN_RADIUS, 2.0, 2.0, 2.0]);
    }

    #[test]
    fn the_grid_files_boxes_in_every_cell_they_touch() {
        let boxes = [(0, [0.0, 0.0, 15.0, 5.0]), (1, [12.0, 12.0, 12.0, 12.0])];
        let grid = Grid::new(boxes.into_iter(), 10.0);
        assert_eq!((grid.columns, grid.rows), (2, 2));
        assert_eq!(grid.members(0, 0), [0]);
        assert_eq!(grid.members(1, 0), [0]);
        assert_eq!(grid.members(0, 1), [] as [u32; 0]);
        assert_eq!(grid.members(1, 1), [1]);
        assert_eq!(grid.members(-1, 0), [] as [u32; 0]);
        assert_eq!(grid.members(2, 1), [] as [u32; 0]);
        assert_eq!(grid.cell_of(12.0, 3.0), (1, 0));
        let empty = Grid::new(std::iter::empty(), 10.0);
        assert_eq!(empty.members(0, 0), [] as [u32; 0]);
    }

    #[test]
    fn edges_fade_with_density_and_darken_with_weight() {
        assert_eq!(edge_alpha(40, 1.0, 1.0, 100), 40);
        assert_eq!(edge_alpha(40, 0.0, 10.0, 100), 12);
        // 1,761 edges: each is drawn a little fainter.
        assert_eq!(edge_alpha(40, 10.0, 10.0, 1761), 37);
        assert_eq!(edge_alpha(40, 1.0, 1.0, 1_000_000), 10);
        assert_eq!(edge_alpha(40, f32::NAN, 1.0, 100), 40);
        let shade = EdgeShade::new(40, 10.0, 1761);
        assert_eq!(
            [shade.alpha(10.0), shade.alpha(0.0)],
            [37, edge_alpha(40, 0.0, 10.0, 1761)]
        );
    }
}
