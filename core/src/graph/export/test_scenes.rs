//! Scenes and helpers shared by the export tests.

use super::{Scene, SceneNode, community_colour};

/// A small deterministic generator for test data.
pub(super) struct TestRng(pub(super) u64);

impl TestRng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(super) fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

pub(super) fn node(x: f32, y: f32, radius: f32, colour: [u8; 4]) -> SceneNode {
    SceneNode {
        position: [x, y],
        radius,
        colour,
        label: None,
        highlighted: false,
    }
}

pub(super) fn pixel(rgba: &[u8], width: u32, x: u32, y: u32) -> [u8; 4] {
    let i = ((y * width + x) * 4) as usize;
    [rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]]
}

/// A random graph shaped like a ForceAtlas2 layout: communities as
/// Gaussian clusters, most edges to a near member of the same community,
/// some between communities; radii grow with degree.
pub(super) fn random_scene(nodes: usize, edges: usize, seed: u64) -> Scene {
    let mut rng = TestRng(seed);
    let mut normal = || {
        let u = rng.unit().max(1e-7);
        let v = rng.unit();
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    };
    let communities = 14;
    let centres: Vec<[f32; 2]> = (0..communities)
        .map(|_| [normal() * 600.0, normal() * 450.0])
        .collect();
    let mut rng = TestRng(seed ^ 0x5555);
    let mut scene = Scene {
        title: Some("Sample <graph>".into()),
        ..Scene::default()
    };
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); communities];
    for i in 0..nodes {
        let community = (rng.next() % communities as u64) as usize;
        members[community].push(i);
        let spread = [
            rng.unit() + rng.unit() + rng.unit() - 1.5,
            rng.unit() + rng.unit() + rng.unit() - 1.5,
        ];
        scene.nodes.push(SceneNode {
            position: [
                centres[community][0] + spread[0] * 220.0,
                centres[community][1] + spread[1] * 220.0,
            ],
            radius: 0.0,
            colour: community_colour(community as u32),
            label: (i % 200 == 0).then(|| format!("node {i}")),
            highlighted: community == 3,
        });
    }
    let community_of: Vec<usize> = {
        let mut of = vec![0; nodes];
        for (community, list) in members.iter().enumerate() {
            for &i in list {
                of[i] = community;
            }
        }
        of
    };
    let distance = |a: usize, b: usize| {
        let (p, q) = (scene.nodes[a].position, scene.nodes[b].position);
        (p[0] - q[0]).hypot(p[1] - q[1])
    };
    let mut degree = vec![0u32; nodes];
    for _ in 0..edges {
        let a = (rng.next() % nodes as u64) as usize;
        let b = if rng.unit() < 0.85 {
            let list = &members[community_of[a]];
            let mut best = a;
            for _ in 0..8 {
                let candidate = list[(rng.next() % list.len() as u64) as usize];
                if candidate != a && (best == a || distance(a, candidate) < distance(a, best)) {
                    best = candidate;
                }
            }
            best
        } else {
            (rng.next() % nodes as u64) as usize
        };
        scene.edges.push((a as u32, b as u32));
        degree[a] += 1;
        degree[b] += 1;
    }
    for (node, &degree) in scene.nodes.iter_mut().zip(&degree) {
        node.radius = 2.0 + (degree as f32).sqrt() * 2.0;
    }
    scene
}

/// Decodes a PNG file with the `png` crate: width, height and RGBA pixels.
pub(super) fn decode_png(file: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
    let decoder = png::Decoder::new(std::io::Cursor::new(file));
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let size = reader.output_buffer_size().ok_or("no buffer size")?;
    let mut pixels = vec![0; size];
    let info = reader.next_frame(&mut pixels).map_err(|e| e.to_string())?;
    if info.color_type != png::ColorType::Rgba || info.bit_depth != png::BitDepth::Eight {
        return Err(format!("{:?} {:?}", info.color_type, info.bit_depth));
    }
    pixels.truncate(info.buffer_size());
    Ok((info.width, info.height, pixels))
}
