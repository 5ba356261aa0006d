//! Progressive ForceAtlas2 layout for the graph view.
//!
//! ForceAtlas2 (Jacomy, Venturini, Heymann and Bastian 2014, PLoS ONE 9(6):
//! e98679) moves every node along the sum of three forces:
//!
//! * repulsion between every pair of nodes, `kr · m₁ · m₂ / d` with the mass
//!   `m` of a node being its degree plus one;
//! * attraction along each edge, `w^δ · d` (or `w^δ · ln(1 + d)` in lin-log
//!   mode);
//! * gravity towards the origin, `kg · m` (or `kg · m · d` when strong), which
//!   keeps disconnected components on screen. Constant gravity fades
//!   linearly within one unit of the origin, so a lone node rests there.
//!
//! Repulsion is approximated with a Barnes–Hut quadtree rebuilt every step:
//! nodes are sorted along a Z-order curve, so each cell is a run of them and
//! the cells sit in one flat `Vec` in depth-first order. All nodes of a leaf
//! share one walk of the tree, and the bodies it collects are summed in
//! lanes the compiler vectorises. Large graphs split that work over a few
//! scoped threads.
//!
//! How far a node moves is set by the paper's adaptive speed: a global speed
//! from the ratio of the graph's traction (forces that keep their direction)
//! to its swing (forces that flip), slowed per node by that node's own swing.
//! Dense, heavily weighted graphs swing more than they pull step after step;
//! Gephi's speed efficiency brakes them further, and a layout still moving
//! after [`COOLING_AFTER`] steps cools until it comes to rest.
//!
//! The panel calls [`ForceLayout::step`] a few times per frame and stops
//! animating once [`ForceLayout::settled`] says so. Results depend only on the
//! seed and the graph, never on how many threads did the work.

use std::ops::Range;
use std::sync::{Mutex, OnceLock};

use super::adjacency::Adjacency;
use crate::rng::Rng;

/// Tuning of the layout; [`Default`] gives the usual ForceAtlas2 settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayoutOptions {
    /// Repulsion strength `kr`: larger spreads the graph out.
    pub scaling: f32,
    /// Gravity strength `kg`, pulling every node towards the origin.
    pub gravity: f32,
    /// Gravity grows with the distance from the origin instead of being constant.
    pub strong_gravity: bool,
    /// Logarithmic attraction: tighter, better separated clusters.
    pub lin_log: bool,
    /// Exponent `δ` applied to edge weights (0 ignores weights).
    pub edge_weight_influence: f32,
    /// Barnes–Hut opening criterion: a cell of side `s` at distance `d` is
    /// taken as one body when `s / d < theta` (0 means exact repulsion).
    pub theta: f32,
    /// How much swinging the adaptive speed tolerates (`τ`): higher is faster
    /// but less precise.
    pub jitter_tolerance: f32,
    /// Seed of the initial positions.
    pub seed: u64,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        LayoutOptions {
            scaling: 2.0,
            gravity: 1.0,
            strong_gravity: false,
            lin_log: false,
            edge_weight_influence: 1.0,
            theta: 1.2,
            jitter_tolerance: 1.0,
            seed: 0,
        }
    }
}

impl LayoutOptions {
    /// These options with every non-finite or out-of-range value replaced by
    /// its default, so no setting can make a position NaN.
    fn sanitized(self) -> Self {
        let defaults = LayoutOptions::default();
        let non_negative = |value: f32, default: f32| {
            if value.is_finite() && value >= 0.0 {
                value
            } else {
                default
            }
        };
        LayoutOptions {
            scaling: non_negative(self.scaling, defaults.scaling),
            gravity: non_negative(self.gravity, defaults.gravity),
            edge_weight_influence: if self.edge_weight_influence.is_finite() {
                self.edge_weight_influence
            } else {
                defaults.edge_weight_influence
            },
            theta: non_negative(self.theta, defaults.theta),
            jitter_tolerance: if self.jitter_tolerance.is_finite() && self.jitter_tolerance > 0.0 {
                self.jitter_tolerance
            } else {
                defaults.jitter_tolerance
            },
            ..self
        }
    }
}

/// Half the side of the initial square, per square root of the node count.
const INITIAL_SPREAD: f32 = 5.0;
/// Base node speed `ks` of the paper.
const NODE_SPEED: f32 = 0.1;
/// Longest move of one node in one step (`ksmax` of the paper).
const MAX_NODE_DISPLACEMENT: f32 = 10.0;
/// The global speed rises by at most this fraction per step.
const MAX_SPEED_RISE: f32 = 0.5;
/// Bounds of the global speed: the floor lets a stalled layout wake up again.
const MIN_GLOBAL_SPEED: f32 = 1e-6;
/// Floor of the speed efficiency, the extra brake an oscillating layout gets.
const MIN_EFFICIENCY: f32 = 0.05;
/// Swing beyond this many times the traction counts as oscillation.
const OSCILLATION_RATIO: f64 = 2.0;
/// Steps after which a layout that is still moving cools: each further
/// step moves nodes [`COOLING`] times as far as the one before, so every
/// layout comes to rest (a drag or a changed graph starts the count again).
const COOLING_AFTER: usize = 1500;
/// Factor by which moves shrink per step once cooling.
const COOLING: f32 = 0.99;
const MAX_GLOBAL_SPEED: f32 = 1e4;
/// Closest two bodies are taken to be when computing repulsion.
const MIN_DISTANCE: f32 = 0.01;
const MIN_DISTANCE_SQUARED: f32 = MIN_DISTANCE * MIN_DISTANCE;
/// No coordinate leaves `[-MAX_COORDINATE, MAX_COORDINATE]`.
const MAX_COORDINATE: f32 = 1e7;
/// Largest `w^δ` an edge may contribute.
const MAX_EDGE_FACTOR: f32 = 1e6;
/// Settled once the mean move per node, in the last step and on recent
/// average, is below this fraction of the extent. Larger values stop the
/// view while trees, paths and lin-log layouts are still visibly unfolding.
const SETTLE_FRACTION: f64 = 3e-4;
/// Weight of the newest step in the recent average of moves (about the
/// last ten steps count), so one quiet step does not stop the view.
const MOTION_SMOOTHING: f64 = 0.1;
/// Quadtree leaves hold up to this many nodes (more only at the depth cap).
const LEAF_CAPACITY: usize = 16;
/// Levels of the quadtree: positions are quantised to `2^MAX_DEPTH` cells a side.
const MAX_DEPTH: u32 = 16;
/// Node count from which forces are computed on several threads.
const PARALLEL_MIN_NODES: usize = 2000;
/// At most this many threads share a step.
const MAX_THREADS: usize = 4;
/// Nodes handed to a thread at a time (rounded up to whole leaves).
const BLOCK_NODES: usize = 256;
/// Golden angle in radians, for spirals that never line up.
const GOLDEN_ANGLE: f32 = 2.399_963;

/// A ForceAtlas2 layout in progress: positions plus what the adaptive speed
/// remembers between steps.
#[derive(Debug, Clone)]
pub struct ForceLayout {
    options: LayoutOptions,
    positions: Vec<[f32; 2]>,
    pinned: Vec<bool>,
    /// Each node's force in the previous step (for swing and traction).
    previous_forces: Vec<[f32; 2]>,
    global_speed: f32,
    /// Extra brake on the global speed, halved while the layout oscillates
    /// (swing well above traction) and eased off while it does not.
    efficiency: f32,
    iterations: usize,
    /// The step from which moves cool (see [`COOLING_AFTER`]).
    cool_from: usize,
    /// Recent average of the mean move per node over the extent; infinite
    /// before the first step and after the user moved something.
    recent_motion: f64,
    /// Whether the last step and the recent average moved nodes little.
    settled: bool,
    /// Source of positions for nodes that appear later.
    rng: Rng,
    scratch: Scratch,
}

/// Buffers reused from step to step.
#[derive(Debug, Clone, Default)]
struct Scratch {
    masses: Vec<f32>,
    tree: QuadTree,
    /// Forces in the tree's node order.
    sorted_forces: Vec<[f32; 2]>,
    forces: Vec<[f32; 2]>,
    swings: Vec<f32>,
}

impl ForceLayout {
    /// A layout of `graph` with positions drawn from `options.seed`: uniform
    /// in a square centred on the origin whose side grows with `sqrt(n)`.
    pub fn new(graph: &Adjacency, options: LayoutOptions) -> Self {
        let mut rng = Rng::new(options.seed);
        let n = graph.node_count();
        let positions = (0..n).map(|_| random_position(&mut rng, n)).collect();
        Self::from_parts(options, positions, rng)
    }

    /// A layout of `graph` resumed from saved `positions` (one per node); a
    /// list of the wrong length falls back to [`ForceLayout::new`], and
    /// non-finite entries are replaced by seeded random positions.
    pub fn with_positions(
        graph: &Adjacency,
        options: LayoutOptions,
        positions: Vec<[f32; 2]>,
    ) -> Self {
        if positions.len() != graph.node_count() {
            return Self::new(graph, options);
        }
        let mut rng = Rng::new(options.seed);
        let n = positions.len();
        let positions = positions
            .into_iter()
            .map(|p| {
                if p[0].is_finite() && p[1].is_finite() {
                    clamp_position(p)
                } else {
                    random_position(&mut rng, n)
                }
            })
            .collect();
        Self::from_parts(options, positions, rng)
    }

    fn from_parts(options: LayoutOptions, positions: Vec<[f32; 2]>, rng: Rng) -> Self {
        let n = positions.len();
        ForceLayout {
            options: options.sanitized(),
            positions,
            pinned: vec![false; n],
            previous_forces: vec![[0.0; 2]; n],
            global_speed: 1.0,
            efficiency: 1.0,
            iterations: 0,
            cool_from: COOLING_AFTER,
            recent_motion: f64::INFINITY,
            settled: false,
            rng,
            scratch: Scratch::default(),
        }
    }

    /// One ForceAtlas2 iteration over `graph`. A graph with a different node
    /// count than before is accepted: extra positions are dropped and new
    /// nodes get random ones.
    pub fn step(&mut self, graph: &Adjacency) {
        self.fit_to(graph);
        self.iterations += 1;
        let n = self.positions.len();
        if n == 0 {
            self.settled = true;
            return;
        }
        self.scratch.masses.clear();
        self.scratch
            .masses
            .extend((0..n as u32).map(|v| graph.degree(v) as f32 + 1.0));
        self.build_tree();
        self.compute_forces(graph);
        self.move_nodes();
    }

    /// `steps` iterations of [`ForceLayout::step`].
    pub fn run(&mut self, graph: &Adjacency, steps: usize) {
        for _ in 0..steps {
            self.step(graph);
        }
    }

    /// Current position of every node.
    pub fn positions(&self) -> &[[f32; 2]] {
        &self.positions
    }

    /// Moves `node` to `position` (a drag); unknown nodes and non-finite
    /// positions are ignored.
    pub fn set_position(&mut self, node: u32, position: [f32; 2]) {
        if !(position[0].is_finite() && position[1].is_finite()) {
            return;
        }
        if let Some(slot) = self.positions.get_mut(node as usize) {
            *slot = clamp_position(position);
            self.disturb();
        }
    }

    /// Pins or releases `node`: pinned nodes keep their position but still
    /// push and pull the others. Unknown nodes are ignored.
    pub fn set_pinned(&mut self, node: u32, pinned: bool) {
        if let Some(flag) = self.pinned.get_mut(node as usize)
            && *flag != pinned
        {
            *flag = pinned;
            self.disturb();
        }
    }

    /// Steps taken so far.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Whether the layout has come to rest, so the view can stop animating:
    /// the mean move per node in the last step, and its average over about
    /// the last ten steps, are below 0.03% of the layout's extent. False
    /// before the first step and after a drag or pin change.
    pub fn settled(&self) -> bool {
        self.settled
    }

    /// Lower-left and upper-right corners of the positions (zeros when empty).
    pub fn bounds(&self) -> ([f32; 2], [f32; 2]) {
        bounds_of(&self.positions)
    }

    /// Resizes the per-node state to `graph`'s node count.
    fn fit_to(&mut self, graph: &Adjacency) {
        let n = graph.node_count();
        if self.positions.len() == n {
            return;
        }
        self.positions.truncate(n);
        while self.positions.len() < n {
            let position = random_position(&mut self.rng, n);
            self.positions.push(position);
        }
        self.pinned.resize(n, false);
        self.previous_forces.resize(n, [0.0; 2]);
        self.disturb();
    }

    /// Forgets that the layout was at rest (the user or the graph changed it).
    fn disturb(&mut self) {
        self.recent_motion = f64::INFINITY;
        self.settled = false;
        self.cool_from = self.iterations + COOLING_AFTER;
    }

    /// Sorts the nodes into the quadtree's order and builds it; crowds of
    /// nodes that share the finest cell are first spread on a small spiral.
    fn build_tree(&mut self) {
        let tree = &mut self.scratch.tree;
        let side = tree.sort(&self.positions);
        if tree.longest_run() > LEAF_CAPACITY {
            spread_crowds(&mut self.positions, &self.pinned, &tree.keyed, side);
            tree.sort(&self.positions);
        }
        tree.build(&self.positions, &self.scratch.masses);
    }

    /// Total force on every node into `scratch.forces`.
    fn compute_forces(&mut self, graph: &Adjacency) {
        let n = self.positions.len();
        let field = ForceField {
            tree: &self.scratch.tree,
            positions: &self.positions,
            masses: &self.scratch.masses,
            graph,
            options: self.options,
        };
        let sorted = &mut self.scratch.sorted_forces;
        sorted.clear();
        sorted.resize(n, [0.0; 2]);
        let threads = if n >= PARALLEL_MIN_NODES {
            worker_count()
        } else {
            1
        };
        if threads <= 1 {
            field.fill(0..field.tree.leaves.len(), sorted);
        } else {
            // Blocks of whole leaves are handed out one at a time, so threads
            // that meet dense regions of the tree do not hold the others up.
            let blocks = Mutex::new(field.tree.blocks(sorted, BLOCK_NODES).into_iter());
            let work = || {
                loop {
                    let next = match blocks.lock() {
                        Ok(mut guard) => guard.next(),
                        Err(poisoned) => poisoned.into_inner().next(),
                    };
                    let Some((leaves, out)) = next else { break };
                    field.fill(leaves, out);
                }
            };
            std::thread::scope(|scope| {
                for _ in 1..threads {
                    scope.spawn(work);
                }
                work();
            });
        }
        let forces = &mut self.scratch.forces;
        forces.clear();
        forces.resize(n, [0.0; 2]);
        for (node, force) in self.scratch.tree.nodes.iter().zip(sorted.iter()) {
            forces[*node as usize] = *force;
        }
    }

    /// Adaptive speeds (global, then per node) and the moves they allow.
    fn move_nodes(&mut self) {
        let n = self.positions.len();
        let forces = &self.scratch.forces;
        let masses = &self.scratch.masses;
        let swings = &mut self.scratch.swings;
        swings.clear();
        swings.resize(n, 0.0);
        let mut total_swing = 0.0f64;
        let mut total_traction = 0.0f64;
        for v in 0..n {
            if self.pinned[v] {
                continue;
            }
            let [fx, fy] = forces[v];
            let [px, py] = self.previous_forces[v];
            let swing = length(fx - px, fy - py);
            let traction = 0.5 * length(fx + px, fy + py);
            swings[v] = swing;
            total_swing += f64::from(masses[v]) * f64::from(swing);
            total_traction += f64::from(masses[v]) * f64::from(traction);
        }
        // Dense, heavily weighted graphs swing far more than they pull
        // (every node overshoots each step): brake harder until they stop.
        if total_swing > OSCILLATION_RATIO * total_traction {
            self.efficiency = (self.efficiency * 0.5).max(MIN_EFFICIENCY);
        } else {
            self.efficiency = (self.efficiency * 1.3).min(1.0);
        }
        let tolerated = f64::from(self.options.jitter_tolerance) * total_traction;
        let target = if total_swing > 0.0 {
            (tolerated / total_swing) as f32 * self.efficiency
        } else {
            f32::INFINITY
        };
        let rise_limit = self.global_speed * (1.0 + MAX_SPEED_RISE);
        self.global_speed = target
            .min(rise_limit)
            .clamp(MIN_GLOBAL_SPEED, MAX_GLOBAL_SPEED);
        let cooled = self.iterations.saturating_sub(self.cool_from);
        let speed = self.global_speed * COOLING.powi(cooled.min(10_000) as i32);

        let mut total_displacement = 0.0f64;
        let mut moved = 0usize;
        for v in 0..n {
            if self.pinned[v] {
                continue;
            }
            let [fx, fy] = forces[v];
            let magnitude = length(fx, fy);
            moved += 1;
            if magnitude <= 0.0 {
                continue;
            }
            let node_speed = (NODE_SPEED * speed / (1.0 + speed * swings[v].sqrt()))
                .min(MAX_NODE_DISPLACEMENT / magnitude);
            let position = &mut self.positions[v];
            let old = *position;
            *position = clamp_position([old[0] + node_speed * fx, old[1] + node_speed * fy]);
            total_displacement += f64::from(length(position[0] - old[0], position[1] - old[1]));
        }
        self.previous_forces.copy_from_slice(forces);
        let (min, max) = self.bounds();
        let extent = f64::from((max[0] - min[0]).max(max[1] - min[1]).max(1.0));
        let motion = total_displacement / moved.max(1) as f64 / extent;
        self.recent_motion = if self.recent_motion.is_finite() {
            self.recent_motion + MOTION_SMOOTHING * (motion - self.recent_motion)
        } else {
            motion
        };
        self.settled = motion < SETTLE_FRACTION && self.recent_motion < SETTLE_FRACTION;
    }
}

/// Everything the per-node force computation reads, shared by the threads.
#[derive(Clone, Copy)]
struct ForceField<'a> {
    tree: &'a QuadTree,
    positions: &'a [[f32; 2]],
    masses: &'a [f32],
    graph: &'a Adjacency,
    options: LayoutOptions,
}

impl ForceField<'_> {
    /// Total force on the nodes of the tree's leaves `leaves` (numbered in
    /// slot order), written to `out` from the first of those slots on.
    fn fill(&self, leaves: Range<usize>, out: &mut [[f32; 2]]) {
        let theta_squared = self.options.theta * self.options.theta;
        let mut bodies = Bodies::default();
        let mut out = out.iter_mut();
        for &leaf in &self.tree.leaves[leaves] {
            self.tree
                .far_bodies(leaf as usize, theta_squared, &mut bodies);
            let cell = self.tree.cells[leaf as usize];
            for (slot, force) in (cell.start as usize..cell.end as usize).zip(&mut out) {
                let node = self.tree.nodes[slot];
                let [fx, fy] = bodies.push_on(self.tree.xs[slot], self.tree.ys[slot]);
                let [nx, ny] = self.tree.push_within_leaf(&cell, slot);
                let mass = self.masses[node as usize];
                let repulsion = self.options.scaling * mass;
                let [ax, ay] = self.attraction(node);
                let [gx, gy] = self.gravity(node);
                let total = [
                    (fx + nx) * repulsion + ax + gx,
                    (fy + ny) * repulsion + ay + gy,
                ];
                *force = if total[0].is_finite() && total[1].is_finite() {
                    total
                } else {
                    [0.0; 2]
                };
            }
        }
    }

    /// Pull of `node`'s edges on it.
    fn attraction(&self, node: u32) -> [f32; 2] {
        let [x, y] = self.positions[node as usize];
        let influence = self.options.edge_weight_influence;
        let (targets, weights) = self.graph.neighbours(node);
        let (mut fx, mut fy) = (0.0f32, 0.0f32);
        for (target, weight) in targets.iter().zip(weights) {
            let factor = edge_factor(*weight, influence);
            let [tx, ty] = self.positions[*target as usize];
            let (dx, dy) = (tx - x, ty - y);
            let pull = if self.options.lin_log {
                let distance = (dx * dx + dy * dy).sqrt();
                if distance > 0.0 {
                    factor * distance.ln_1p() / distance
                } else {
                    0.0
                }
            } else {
                factor
            };
            fx += pull * dx;
            fy += pull * dy;
        }
        [fx, fy]
    }

    /// Pull towards the origin. Constant gravity fades linearly within one
    /// unit of the origin, so a lone node comes to rest there.
    fn gravity(&self, node: u32) -> [f32; 2] {
        let [x, y] = self.positions[node as usize];
        let strength = self.options.gravity * self.masses[node as usize];
        let factor = if self.options.strong_gravity {
            strength
        } else {
            strength / (x * x + y * y).sqrt().max(1.0)
        };
        [-factor * x, -factor * y]
    }
}

/// `weight^influence`, zero for non-positive or non-finite weights.
fn edge_factor(weight: f32, influence: f32) -> f32 {
    if !(weight.is_finite() && weight > 0.0) {
        return 0.0;
    }
    let factor = if influence == 1.0 {
        weight
    } else if influence == 0.0 {
        1.0
    } else {
        weight.powf(influence)
    };
    factor.min(MAX_EDGE_FACTOR)
}

/// One cell of the quadtree, stored in depth-first order so a walk needs no
/// stack: the first child of cell `i` is `i + 1` and `next` is the first cell
/// after its subtree.
#[derive(Debug, Clone, Copy)]
struct Cell {
    /// Centre of mass.
    x: f32,
    y: f32,
    mass: f32,
    /// Side of the cell's square.
    size: f32,
    /// The cell's nodes are tree slots `start..end`.
    start: u32,
    end: u32,
    next: u32,
    leaf: bool,
}

/// A Barnes–Hut quadtree over the nodes sorted along a Morton (Z-order)
/// curve, so every cell is a contiguous run of slots.
#[derive(Debug, Clone, Default)]
struct QuadTree {
    /// `morton code << 32 | node`, sorted.
    keyed: Vec<u64>,
    /// Node at each slot, and its position and mass.
    nodes: Vec<u32>,
    xs: Vec<f32>,
    ys: Vec<f32>,
    masses: Vec<f32>,
    cells: Vec<Cell>,
    /// Indices of the leaf cells, in slot order.
    leaves: Vec<u32>,
    /// Side of the root square.
    side: f32,
}

impl QuadTree {
    /// Sorts the nodes by Morton code over the positions' bounding square;
    /// returns the square's side.
    fn sort(&mut self, positions: &[[f32; 2]]) -> f32 {
        let (min, max) = bounds_of(positions);
        let side = (max[0] - min[0]).max(max[1] - min[1]);
        let side = if side > 0.0 { side } else { 1.0 };
        self.side = side;
        let cells_per_side = (1u32 << MAX_DEPTH) as f32;
        let scale = (cells_per_side - 1.0) / side;
        self.keyed.clear();
        self.keyed
            .extend(positions.iter().enumerate().map(|(node, [x, y])| {
                // `as` saturates, so rounding at the edges stays in range.
                let qx = ((x - min[0]) * scale) as u32;
                let qy = ((y - min[1]) * scale) as u32;
                (u64::from(morton(qx, qy)) << 32) | node as u64
            }));
        self.keyed.sort_unstable();
        side
    }

    /// Most nodes sharing one finest cell.
    fn longest_run(&self) -> usize {
        self.keyed
            .chunk_by(|a, b| a >> 32 == b >> 32)
            .map(<[u64]>::len)
            .max()
            .unwrap_or(0)
    }

    /// Builds the cells over the nodes as last sorted.
    fn build(&mut self, positions: &[[f32; 2]], masses: &[f32]) {
        self.nodes.clear();
        self.xs.clear();
        self.ys.clear();
        self.masses.clear();
        self.cells.clear();
        self.leaves.clear();
        for key in &self.keyed {
            let node = (key & 0xffff_ffff) as usize;
            self.nodes.push(node as u32);
            self.xs.push(positions[node][0]);
            self.ys.push(positions[node][1]);
            self.masses.push(masses[node]);
        }
        if self.nodes.is_empty() {
            return;
        }
        self.build_cell(0, self.nodes.len(), 0, self.side);
    }

    /// Appends the cell over slots `start..end` at `depth` and its subtree.
    fn build_cell(&mut self, start: usize, end: usize, depth: u32, size: f32) {
        let index = self.cells.len();
        self.cells.push(Cell {
            x: 0.0,
            y: 0.0,
            mass: 0.0,
            size,
            start: start as u32,
            end: end as u32,
            next: 0,
            leaf: false,
        });
        let (mut mass, mut x, mut y) = (0.0f32, 0.0f32, 0.0f32);
        let leaf = end - start <= LEAF_CAPACITY || depth >= MAX_DEPTH;
        if leaf {
            self.leaves.push(index as u32);
            for slot in start..end {
                let m = self.masses[slot];
                mass += m;
                x += m * self.xs[slot];
                y += m * self.ys[slot];
            }
        } else {
            // The two key bits that pick the quadrant at this depth.
            let shift = 32 + 2 * (MAX_DEPTH - 1 - depth);
            let mut low = start;
            for quadrant in 0..4u64 {
                let high = if quadrant == 3 {
                    end
                } else {
                    low + self.keyed[low..end].partition_point(|key| (key >> shift) & 3 <= quadrant)
                };
                if high > low {
                    let child = self.cells.len();
                    self.build_cell(low, high, depth + 1, size * 0.5);
                    let c = self.cells[child];
                    mass += c.mass;
                    x += c.mass * c.x;
                    y += c.mass * c.y;
                }
                low = high;
            }
        }
        let next = self.cells.len() as u32;
        let cell = &mut self.cells[index];
        cell.mass = mass;
        cell.x = x / mass;
        cell.y = y / mass;
        cell.next = next;
        cell.leaf = leaf;
    }

    /// Collects into `bodies` what repels the nodes of leaf cell `leaf` from
    /// outside it: whole cells that look small enough from every point of
    /// the leaf's bounding box, and the single nodes of leaves that do not.
    fn far_bodies(&self, leaf: usize, theta_squared: f32, bodies: &mut Bodies) {
        bodies.clear();
        let group = self.cells[leaf];
        let (mut low, mut high) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
        for slot in group.start as usize..group.end as usize {
            low = [low[0].min(self.xs[slot]), low[1].min(self.ys[slot])];
            high = [high[0].max(self.xs[slot]), high[1].max(self.ys[slot])];
        }
        let mut index = 0usize;
        while let Some(cell) = self.cells.get(index) {
            if index == leaf {
                index = cell.next as usize;
                continue;
            }
            // Ancestors of the leaf are always opened.
            if cell.start <= group.start && group.start < cell.end {
                index += 1;
                continue;
            }
            let dx = (low[0] - cell.x).max(cell.x - high[0]).max(0.0);
            let dy = (low[1] - cell.y).max(cell.y - high[1]).max(0.0);
            if cell.size * cell.size < theta_squared * (dx * dx + dy * dy) {
                bodies.push(cell.x, cell.y, cell.mass);
            } else if cell.leaf {
                for slot in cell.start as usize..cell.end as usize {
                    bodies.push(self.xs[slot], self.ys[slot], self.masses[slot]);
                }
            } else {
                index += 1;
                continue;
            }
            index = cell.next as usize;
        }
        bodies.pad();
    }

    /// Repulsion on the node at `slot` from the other nodes of its own leaf
    /// `cell`, per unit of `kr` and of its own mass. Coincident nodes are
    /// always in the same leaf: they push each other apart in a direction
    /// fixed by their ids.
    fn push_within_leaf(&self, cell: &Cell, slot: usize) -> [f32; 2] {
        let (px, py) = (self.xs[slot], self.ys[slot]);
        let (mut fx, mut fy) = (0.0f32, 0.0f32);
        for other in cell.start as usize..cell.end as usize {
            if other == slot {
                continue;
            }
            let (mut dx, mut dy) = (px - self.xs[other], py - self.ys[other]);
            let mut distance_squared = dx * dx + dy * dy;
            if distance_squared < MIN_DISTANCE_SQUARED {
                if distance_squared == 0.0 {
                    [dx, dy] = coincident_direction(self.nodes[slot], self.nodes[other]);
                }
                distance_squared = MIN_DISTANCE_SQUARED;
            }
            let push = self.masses[other] / distance_squared;
            fx += push * dx;
            fy += push * dy;
        }
        [fx, fy]
    }

    /// Splits `forces` (one per slot) into runs of whole leaves holding at
    /// least `nodes` nodes each (the last may hold fewer).
    fn blocks<'a>(
        &self,
        mut forces: &'a mut [[f32; 2]],
        nodes: usize,
    ) -> Vec<(Range<usize>, &'a mut [[f32; 2]])> {
        let mut blocks = Vec::new();
        let (mut first_leaf, mut held) = (0, 0);
        for (index, leaf) in self.leaves.iter().enumerate() {
            let cell = &self.cells[*leaf as usize];
            held += (cell.end - cell.start) as usize;
            if held >= nodes || index + 1 == self.leaves.len() {
                let cut = held.min(forces.len());
                let (block, rest) = std::mem::take(&mut forces).split_at_mut(cut);
                blocks.push((first_leaf..index + 1, block));
                forces = rest;
                first_leaf = index + 1;
                held = 0;
            }
        }
        blocks
    }
}

/// Point masses acting on one leaf, in columns so the sum over them
/// vectorises.
#[derive(Debug, Default)]
struct Bodies {
    xs: Vec<f32>,
    ys: Vec<f32>,
    masses: Vec<f32>,
}

/// Lanes of the vectorised repulsion sum.
const LANES: usize = 8;

impl Bodies {
    fn clear(&mut self) {
        self.xs.clear();
        self.ys.clear();
        self.masses.clear();
    }

    fn push(&mut self, x: f32, y: f32, mass: f32) {
        self.xs.push(x);
        self.ys.push(y);
        self.masses.push(mass);
    }

    /// Pads with massless bodies to a whole number of lanes.
    fn pad(&mut self) {
        while !self.xs.len().is_multiple_of(LANES) {
            self.push(0.0, 0.0, 0.0);
        }
    }

    /// Sum of `m · (p − q) / |p − q|²` over the bodies `q` for `p = (x, y)`.
    fn push_on(&self, x: f32, y: f32) -> [f32; 2] {
        let mut sum_x = [0.0f32; LANES];
        let mut sum_y = [0.0f32; LANES];
        let columns = self
            .xs
            .chunks_exact(LANES)
            .zip(self.ys.chunks_exact(LANES))
            .zip(self.masses.chunks_exact(LANES));
        for ((xs, ys), masses) in columns {
            for lane in 0..LANES {
                let dx = x - xs[lane];
                let dy = y - ys[lane];
                let push = masses[lane] / (dx * dx + dy * dy).max(MIN_DISTANCE_SQUARED);
                sum_x[lane] += push * dx;
                sum_y[lane] += push * dy;
            }
        }
        [sum_x.iter().sum(), sum_y.iter().sum()]
    }
}

/// Interleaves the bits of `x` and `y` (x in the even bits).
fn morton(x: u32, y: u32) -> u32 {
    fn spread(v: u32) -> u32 {
        let mut v = v & 0xffff;
        v = (v | (v << 8)) & 0x00ff_00ff;
        v = (v | (v << 4)) & 0x0f0f_0f0f;
        v = (v | (v << 2)) & 0x3333_3333;
        (v | (v << 1)) & 0x5555_5555
    }
    spread(x) | (spread(y) << 1)
}

/// A direction of length [`MIN_DISTANCE`] that pushes two coincident nodes
/// apart, fixed by their ids and opposite for each of the two.
fn coincident_direction(node: u32, other: u32) -> [f32; 2] {
    let (low, high, sign) = if node < other {
        (node, other, 1.0)
    } else {
        (other, node, -1.0)
    };
    let angle =
        Rng::new((u64::from(low) << 32) | u64::from(high)).unit() as f32 * std::f32::consts::TAU;
    let length = sign * MIN_DISTANCE;
    [length * angle.cos(), length * angle.sin()]
}

/// Spreads every run of more than [`LEAF_CAPACITY`] nodes sharing a finest
/// quadtree cell (`keyed` sorted as by [`QuadTree::sort`]) on a small
/// golden-angle spiral, so the tree stays shallow and forces have a direction.
/// Pinned nodes stay put.
fn spread_crowds(positions: &mut [[f32; 2]], pinned: &[bool], keyed: &[u64], side: f32) {
    for run in keyed.chunk_by(|a, b| a >> 32 == b >> 32) {
        if run.len() <= LEAF_CAPACITY {
            continue;
        }
        let node_of = |key: &u64| (key & 0xffff_ffff) as usize;
        let [cx, cy] = run.first().map_or([0.0; 2], |key| positions[node_of(key)]);
        // One finest cell, but never so small that f32 cannot show the move.
        let magnitude = cx.abs().max(cy.abs()).max(1.0);
        let unit = (side / (1u32 << MAX_DEPTH) as f32).max(magnitude * 1e-5);
        for (turn, key) in run.iter().enumerate() {
            let node = node_of(key);
            if pinned[node] {
                continue;
            }
            let radius = unit * (turn as f32 + 0.5).sqrt();
            let angle = turn as f32 * GOLDEN_ANGLE;
            positions[node] =
                clamp_position([cx + radius * angle.cos(), cy + radius * angle.sin()]);
        }
    }
}

/// Min and max corners of `positions` (zeros when empty).
fn bounds_of(positions: &[[f32; 2]]) -> ([f32; 2], [f32; 2]) {
    let Some(first) = positions.first() else {
        return ([0.0; 2], [0.0; 2]);
    };
    positions.iter().fold((*first, *first), |(min, max), p| {
        (
            [min[0].min(p[0]), min[1].min(p[1])],
            [max[0].max(p[0]), max[1].max(p[1])],
        )
    })
}

/// A uniform position in the initial square of a graph of `n` nodes.
fn random_position(rng: &mut Rng, n: usize) -> [f32; 2] {
    let half = f64::from(INITIAL_SPREAD) * (n.max(1) as f64).sqrt();
    [rng.range(-half, half) as f32, rng.range(-half, half) as f32]
}

/// Length of `(x, y)`, squared in f64 so large forces cannot overflow
/// (cheaper than `hypot`).
fn length(x: f32, y: f32) -> f32 {
    let (x, y) = (f64::from(x), f64::from(y));
    (x * x + y * y).sqrt() as f32
}

/// `(x, y)` moved inside the square no coordinate leaves.
fn clamp_position([x, y]: [f32; 2]) -> [f32; 2] {
    [
        x.clamp(-MAX_COORDINATE, MAX_COORDINATE),
        y.clamp(-MAX_COORDINATE, MAX_COORDINATE),
    ]
}

/// Threads a large step is split over.
fn worker_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, MAX_THREADS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// `m` distinct random edges over `n` nodes, all of weight 1.
    fn random_graph(n: usize, m: usize, seed: u64) -> Adjacency {
        let mut rng = Rng::new(seed);
        let mut seen = HashSet::new();
        let mut edges = Vec::with_capacity(m);
        while edges.len() < m {
            let (a, b) = (rng.below(n) as u32, rng.below(n) as u32);
            if a != b && seen.insert((a.min(b), a.max(b))) {
                edges.push((a, b, 1.0));
            }
        }
        Adjacency::from_edges(n, &edges)
    }

    /// Two groups of `size` nodes, each pair inside a group linked with
    /// probability `density`, and one edge between the groups.
    fn two_clusters(size: usize, density: f64, seed: u64) -> Adjacency {
        let mut rng = Rng::new(seed);
        let mut edges = Vec::new();
        for group in 0..2 {
            let base = (group * size) as u32;
            for a in 0..size as u32 {
                for b in a + 1..size as u32 {
                    if rng.chance(density) {
                        edges.push((base + a, base + b, 1.0));
                    }
                }
            }
        }
        edges.push((0, size as u32, 1.0));
        Adjacency::from_edges(2 * size, &edges)
    }

    fn path(n: usize) -> Adjacency {
        let edges: Vec<_> = (1..n as u32).map(|v| (v - 1, v, 1.0)).collect();
        Adjacency::from_edges(n, &edges)
    }

    fn distance(a: [f32; 2], b: [f32; 2]) -> f32 {
        (a[0] - b[0]).hypot(a[1] - b[1])
    }

    fn centroid(points: &[[f32; 2]]) -> [f32; 2] {
        let n = points.len() as f32;
        let (x, y) = points
            .iter()
            .fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
        [x / n, y / n]
    }

    fn all_finite(layout: &ForceLayout) -> bool {
        layout
            .positions()
            .iter()
            .all(|p| p[0].is_finite() && p[1].is_finite())
    }

    /// Exact `O(n²)` repulsion per unit of `kr`, with the same distance floor.
    fn exact_repulsion(positions: &[[f32; 2]], masses: &[f32]) -> Vec<[f32; 2]> {
        (0..positions.len())
            .map(|i| {
                let (mut fx, mut fy) = (0.0f64, 0.0f64);
                for j in 0..positions.len() {
                    if i == j {
                        continue;
                    }
                    let dx = f64::from(positions[i][0] - positions[j][0]);
                    let dy = f64::from(positions[i][1] - positions[j][1]);
                    let d2 = (dx * dx + dy * dy).max(f64::from(MIN_DISTANCE_SQUARED));
                    let push = f64::from(masses[j]) / d2;
                    fx += push * dx;
                    fy += push * dy;
                }
                let m = f64::from(masses[i]);
                [(fx * m) as f32, (fy * m) as f32]
            })
            .collect()
    }

    /// Barnes–Hut repulsion per unit of `kr` of `layout`'s current positions.
    fn tree_repulsion(layout: &mut ForceLayout, graph: &Adjacency, theta: f32) -> Vec<[f32; 2]> {
        let n = layout.positions.len();
        layout.scratch.masses = (0..n as u32)
            .map(|v| graph.degree(v) as f32 + 1.0)
            .collect();
        layout.build_tree();
        let tree = &layout.scratch.tree;
        let mut bodies = Bodies::default();
        let mut forces = vec![[0.0; 2]; n];
        for &leaf in &tree.leaves {
            let cell = tree.cells[leaf as usize];
            tree.far_bodies(leaf as usize, theta * theta, &mut bodies);
            for slot in cell.start as usize..cell.end as usize {
                let node = tree.nodes[slot] as usize;
                let [fx, fy] = bodies.push_on(tree.xs[slot], tree.ys[slot]);
                let [nx, ny] = tree.push_within_leaf(&cell, slot);
                let m = layout.scratch.masses[node];
                forces[node] = [(fx + nx) * m, (fy + ny) * m];
            }
        }
        forces
    }

    #[test]
    fn barnes_hut_agrees_with_exact_repulsion() {
        let graph = random_graph(3000, 9000, 7);
        let options = LayoutOptions {
            seed: 3,
            ..LayoutOptions::default()
        };
        let mut layout = ForceLayout::new(&graph, options);
        // Check both the uniform start and the clumpier layout after a while.
        for steps in [0, 60] {
            layout.run(&graph, steps);
            let masses: Vec<f32> = (0..3000).map(|v| graph.degree(v) as f32 + 1.0).collect();
            let exact = exact_repulsion(layout.positions(), &masses);
            let approximate = tree_repulsion(&mut layout, &graph, 0.5);
            let mut errors: Vec<f32> = exact
                .iter()
                .zip(&approximate)
                .map(|(e, a)| distance(*e, *a) / e[0].hypot(e[1]).max(1e-9))
                .collect();
            errors.sort_by(f32::total_cmp);
            let mean = errors.iter().sum::<f32>() / errors.len() as f32;
            let p95 = errors[errors.len() * 95 / 100];
            assert!(
                mean < 0.01,
                "after {steps} steps: mean relative error {mean}"
            );
            assert!(
                p95 < 0.03,
                "after {steps} steps: 95th percentile relative error {p95}"
            );
            // The default theta stays within a few percent.
            let loose = tree_repulsion(&mut layout, &graph, LayoutOptions::default().theta);
            let mean_loose = exact
                .iter()
                .zip(&loose)
                .map(|(e, a)| distance(*e, *a) / e[0].hypot(e[1]).max(1e-9))
                .sum::<f32>()
                / exact.len() as f32;
            assert!(
                mean_loose < 0.03,
                "theta 1.2: mean relative error {mean_loose}"
            );
            // theta 0 opens every cell: exact up to rounding.
            let opened = tree_repulsion(&mut layout, &graph, 0.0);
            for (e, o) in exact.iter().zip(&opened) {
                assert!(distance(*e, *o) <= 1e-3 * e[0].hypot(e[1]) + 1e-3);
            }
        }
    }

    #[test]
    fn forces_do_not_depend_on_how_the_work_is_split() {
        let graph = random_graph(3000, 9000, 8);
        let mut layout = ForceLayout::new(&graph, LayoutOptions::default());
        layout.run(&graph, 5);
        layout.build_tree();
        let field = ForceField {
            tree: &layout.scratch.tree,
            positions: &layout.positions,
            masses: &layout.scratch.masses,
            graph: &graph,
            options: layout.options,
        };
        let mut whole = vec![[0.0; 2]; 3000];
        field.fill(0..field.tree.leaves.len(), &mut whole);
        let mut split = vec![[0.0; 2]; 3000];
        for (leaves, out) in field.tree.blocks(&mut split, 100) {
            field.fill(leaves, out);
        }
        assert_eq!(whole, split);
        assert!(whole.iter().all(|f| f[0] != 0.0 && f[1] != 0.0));
    }

    #[test]
    fn dense_clusters_separate() {
        let graph = two_clusters(40, 0.5, 11);
        let mut layout = ForceLayout::new(
            &graph,
            LayoutOptions {
                seed: 5,
                ..LayoutOptions::default()
            },
        );
        layout.run(&graph, 300);
        let positions = layout.positions();
        let (left, right) = positions.split_at(40);
        let gap = distance(centroid(left), centroid(right));
        let mean_inside = |group: &[[f32; 2]]| {
            let mut total = 0.0;
            let mut count = 0;
            for (i, a) in group.iter().enumerate() {
                for b in &group[i + 1..] {
                    total += distance(*a, *b);
                    count += 1;
                }
            }
            total / count as f32
        };
        let inside = mean_inside(left).max(mean_inside(right));
        assert!(
            gap > 5.0 * inside,
            "centroids {gap} apart, clusters {inside} across"
        );
    }

    #[test]
    fn path_unfolds() {
        let n = 30;
        let graph = path(n);
        let mut layout = ForceLayout::new(
            &graph,
            LayoutOptions {
                seed: 9,
                ..LayoutOptions::default()
            },
        );
        layout.run(&graph, 500);
        let positions = layout.positions();
        let link = positions
            .windows(2)
            .map(|w| distance(w[0], w[1]))
            .sum::<f32>()
            / (n - 1) as f32;
        let ends = distance(positions[0], positions[n - 1]);
        assert!(ends > 8.0 * link, "ends {ends} apart, links {link} long");
    }

    #[test]
    fn pinned_node_stays_and_still_pulls() {
        let graph = path(10);
        let mut layout = ForceLayout::new(&graph, LayoutOptions::default());
        layout.set_position(0, [400.0, -300.0]);
        layout.set_pinned(0, true);
        layout.run(&graph, 300);
        assert_eq!(layout.positions()[0], [400.0, -300.0]);
        // Its neighbour followed it out, far from where gravity would hold it.
        assert!(distance(layout.positions()[1], [400.0, -300.0]) < 100.0);
        // Released, it moves again.
        layout.set_pinned(0, false);
        layout.run(&graph, 5);
        assert_ne!(layout.positions()[0], [400.0, -300.0]);
        // Unknown nodes are ignored.
        layout.set_pinned(99, true);
        layout.set_position(99, [1.0, 1.0]);
        layout.set_position(1, [f32::NAN, 0.0]);
        assert!(all_finite(&layout));
    }

    #[test]
    fn degenerate_inputs_stay_finite() {
        for (n, m) in [(50, 200), (3000, 9000)] {
            let graph = random_graph(n, m, 1);
            let start = vec![[3.0, 3.0]; n];
            let mut layout = ForceLayout::with_positions(&graph, LayoutOptions::default(), start);
            layout.run(&graph, 40);
            assert!(all_finite(&layout));
            let (min, max) = layout.bounds();
            assert!(
                max[0] - min[0] > 1.0 && max[1] - min[1] > 1.0,
                "still in a heap"
            );
        }

        let empty = Adjacency::from_edges(0, &[]);
        let mut layout = ForceLayout::new(&empty, LayoutOptions::default());
        layout.run(&empty, 10);
        assert!(layout.positions().is_empty());
        assert_eq!(layout.bounds(), ([0.0; 2], [0.0; 2]));
        assert!(layout.settled());

        let single = Adjacency::from_edges(1, &[]);
        let mut layout = ForceLayout::new(&single, LayoutOptions::default());
        layout.run(&single, 500);
        assert!(all_finite(&layout));
        assert!(distance(layout.positions()[0], [0.0; 2]) < 1.0);
        assert!(layout.settled());

        let loose = Adjacency::from_edges(300, &[]);
        for strong_gravity in [false, true] {
            let options = LayoutOptions {
                strong_gravity,
                ..LayoutOptions::default()
            };
            let mut layout = ForceLayout::new(&loose, options);
            layout.run(&loose, 400);
            assert!(all_finite(&layout));
            let (min, max) = layout.bounds();
            assert!(min[0] > -2000.0 && max[0] < 2000.0 && min[1] > -2000.0 && max[1] < 2000.0);
        }

        let silly = LayoutOptions {
            scaling: f32::NAN,
            gravity: f32::INFINITY,
            edge_weight_influence: f32::NAN,
            theta: -1.0,
            jitter_tolerance: 0.0,
            lin_log: true,
            ..LayoutOptions::default()
        };
        let weighted =
            Adjacency::from_edges(4, &[(0, 1, f32::MAX), (1, 2, -3.0), (2, 3, f32::NAN)]);
        let mut layout = ForceLayout::with_positions(
            &weighted,
            silly,
            vec![[f32::NAN, 0.0], [f32::INFINITY, 1.0], [0.0; 2], [0.0; 2]],
        );
        layout.run(&weighted, 100);
        assert!(all_finite(&layout));
    }

    #[test]
    fn coincident_nodes_push_apart() {
        let graph = Adjacency::from_edges(3, &[]);
        let mut layout =
            ForceLayout::with_positions(&graph, LayoutOptions::default(), vec![[2.0, 2.0]; 3]);
        layout.run(&graph, 20);
        let p = layout.positions();
        assert!(
            distance(p[0], p[1]) > 0.5 && distance(p[0], p[2]) > 0.5 && distance(p[1], p[2]) > 0.5
        );
    }

    #[test]
    fn crowds_are_spread_before_the_tree_is_built() {
        let n = 5000;
        let graph = random_graph(n, 10_000, 6);
        let mut layout =
            ForceLayout::with_positions(&graph, LayoutOptions::default(), vec![[7.0, -7.0]; n]);
        layout.set_pinned(0, true);
        layout.scratch.masses = vec![1.0; n];
        layout.build_tree();
        let tree = &layout.scratch.tree;
        let largest_leaf = tree.leaves.iter().map(|&leaf| {
            let cell = tree.cells[leaf as usize];
            cell.end - cell.start
        });
        assert!(largest_leaf.max().unwrap_or(0) as usize <= LEAF_CAPACITY);
        assert_eq!(layout.positions()[0], [7.0, -7.0]);
        let distinct: HashSet<_> = layout
            .positions()
            .iter()
            .map(|p| (p[0].to_bits(), p[1].to_bits()))
            .collect();
        assert_eq!(distinct.len(), n);
    }

    #[test]
    fn same_seed_same_layout() {
        let graph = random_graph(2500, 7500, 4);
        let options = LayoutOptions {
            seed: 42,
            ..LayoutOptions::default()
        };
        let mut first = ForceLayout::new(&graph, options);
        let mut second = ForceLayout::new(&graph, options);
        first.run(&graph, 30);
        second.run(&graph, 30);
        assert_eq!(first.positions(), second.positions());
        let other = ForceLayout::new(
            &graph,
            LayoutOptions {
                seed: 43,
                ..options
            },
        );
        assert_ne!(
            ForceLayout::new(&graph, options).positions(),
            other.positions()
        );
    }

    #[test]
    fn small_graph_settles() {
        let graph = random_graph(40, 80, 2);
        let mut layout = ForceLayout::new(&graph, LayoutOptions::default());
        assert!(!layout.settled());
        let mut steps = 0;
        while !layout.settled() && steps < 3000 {
            layout.step(&graph);
            steps += 1;
        }
        assert!(layout.settled(), "not settled after {steps} steps");
        assert_eq!(layout.iterations(), steps);
        // A drag wakes it up.
        layout.set_position(0, [50.0, 50.0]);
        assert!(!layout.settled());
    }

    /// A co-occurrence graph as dense as the window's worst case: 60 items,
    /// 1,761 of the 1,770 possible pairs, weights (shared groups) from 1 to 40.
    fn dense_weighted(seed: u64) -> Adjacency {
        let mut rng = Rng::new(seed);
        let mut edges = Vec::new();
        for a in 0..60u32 {
            for b in a + 1..60 {
                edges.push((a, b, 1.0 + rng.below(40) as f32));
            }
        }
        edges.truncate(1761);
        Adjacency::from_edges(60, &edges)
    }

    #[test]
    fn a_dense_weighted_graph_settles_from_any_start() {
        for seed in 0..6 {
            let graph = dense_weighted(seed);
            assert_eq!(graph.edge_count(), 1761);
            let options = LayoutOptions {
                seed,
                ..LayoutOptions::default()
            };
            let mut layout = ForceLayout::new(&graph, options);
            let mut steps = 0;
            while !layout.settled() && steps < 5000 {
                layout.step(&graph);
                steps += 1;
            }
            assert!(
                layout.settled(),
                "seed {seed}: not settled after {steps} steps"
            );
            assert_apart(&layout);
        }
    }

    fn assert_apart(layout: &ForceLayout) {
        // At rest, no node sits on another: the closest pair is at least a
        // hundredth of the layout's extent apart.
        let (min, max) = layout.bounds();
        let extent = (max[0] - min[0]).max(max[1] - min[1]);
        let p = layout.positions();
        let closest = (0..p.len())
            .flat_map(|a| (a + 1..p.len()).map(move |b| (a, b)))
            .map(|(a, b)| length(p[a][0] - p[b][0], p[a][1] - p[b][1]))
            .fold(f32::INFINITY, f32::min);
        assert!(closest > extent / 100.0, "{closest} in {extent}");
    }

    #[test]
    fn resumes_saved_positions_and_follows_graph_changes() {
        let graph = path(5);
        let saved = vec![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [9.0, 10.0]];
        let layout = ForceLayout::with_positions(&graph, LayoutOptions::default(), saved.clone());
        assert_eq!(layout.positions(), &saved[..]);
        assert_eq!(layout.bounds(), ([1.0, 2.0], [9.0, 10.0]));
        let fallback =
            ForceLayout::with_positions(&graph, LayoutOptions::default(), saved[..3].to_vec());
        assert_eq!(
            fallback.positions(),
            ForceLayout::new(&graph, LayoutOptions::default()).positions()
        );

        let mut layout = layout;
        layout.set_pinned(4, true);
        let bigger = path(8);
        layout.run(&bigger, 20);
        assert_eq!(layout.positions().len(), 8);
        layout.run(&path(3), 20);
        assert_eq!(layout.positions().len(), 3);
        assert!(all_finite(&layout));
    }
}
