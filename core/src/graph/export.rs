//! Exporting the graph view as an SVG document or a PNG image.
//!
//! The graph panel hands over a [`Scene`]: node positions in layout
//! coordinates, radii, colours (see [`community_colour`]), labels and edges.
//! [`fit`] maps the layout into the picture with a margin, keeping the aspect
//! ratio. [`to_svg`] writes a standalone SVG document (the report bundle
//! embeds it as is); [`rasterise`] draws the same picture into RGBA pixels
//! with anti-aliased lines and discs, and [`encode_png`] stores them as a PNG
//! file.
//!
//! Everything here is plain `std`: the PNG writer computes CRC-32 and
//! Adler-32 itself and compresses with a small DEFLATE encoder: LZ77 with a
//! hash-chain matcher over a 32 KiB window and lazy matching, then per block
//! whichever is smallest of the fixed Huffman codes, Huffman codes built for
//! the block, or stored bytes. On graph pictures (mostly flat background) it
//! compresses about as well as zlib at its highest level.
//!
//! Nodes with a non-finite position are not drawn, nor are their edges;
//! edges naming a node that does not exist, and self-loops, are skipped.
//! Output is deterministic: the same scene gives the same bytes.

use std::fmt::{self, Write as _};

/// One node to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneNode {
    /// Position in layout coordinates (any scale; y grows downwards).
    pub position: [f32; 2],
    /// Radius in layout coordinates; scaled like positions, then drawn
    /// between 1.5 and 30 pixels.
    pub radius: f32,
    /// Fill colour, RGBA.
    pub colour: [u8; 4],
    /// Text drawn beside the node (SVG only).
    pub label: Option<String>,
    /// Drawn with a dark outline ring (e.g. a seeded community).
    pub highlighted: bool,
}

/// Everything the graph view shows, independent of the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    /// The nodes, drawn in this order.
    pub nodes: Vec<SceneNode>,
    /// Edges as pairs of indices into `nodes`.
    pub edges: Vec<(u32, u32)>,
    /// Colour of every edge, RGBA (usually semi-transparent).
    pub edge_colour: [u8; 4],
    /// Background colour, RGBA.
    pub background: [u8; 4],
    /// Title written at the top-left (SVG only).
    pub title: Option<String>,
}

impl Default for Scene {
    /// An empty scene: white background, translucent grey edges, no title.
    fn default() -> Self {
        Scene {
            nodes: Vec::new(),
            edges: Vec::new(),
            edge_colour: [96, 96, 96, 72],
            background: [255, 255, 255, 255],
            title: None,
        }
    }
}

/// Why a picture could not be encoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ExportError(pub String);

/// The largest width or height, in pixels, that can be rasterised or encoded.
pub const MAX_SIDE: u32 = 16384;

/// Colour of nodes without a community.
pub const NO_COMMUNITY: [u8; 4] = [170, 170, 170, 255];

/// The first community colours: well separated in hue and lightness.
const PALETTE: [[u8; 3]; 20] = [
    [59, 111, 216],
    [242, 142, 43],
    [58, 163, 91],
    [216, 67, 59],
    [142, 92, 200],
    [140, 90, 60],
    [232, 112, 180],
    [168, 176, 48],
    [35, 181, 200],
    [31, 58, 122],
    [236, 206, 40],
    [19, 122, 110],
    [138, 28, 58],
    [143, 209, 107],
    [185, 163, 232],
    [244, 164, 140],
    [93, 107, 122],
    [200, 40, 140],
    [140, 196, 240],
    [184, 90, 13],
];

/// The colour of community `c` (a fixed palette of 20 well-separated colours,
/// then golden-angle hues for more), the same everywhere (GUI, SVG, PNG).
pub fn community_colour(c: u32) -> [u8; 4] {
    if let Some(&[r, g, b]) = PALETTE.get(c as usize) {
        return [r, g, b, 255];
    }
    const GOLDEN_ANGLE_DEGREES: f64 = 137.507_764_050_037_85;
    const LIGHTNESS: [f64; 3] = [0.50, 0.64, 0.38];
    let step = c - PALETTE.len() as u32;
    let hue = (f64::from(step) * GOLDEN_ANGLE_DEGREES + 15.0) % 360.0;
    let lightness = LIGHTNESS[(step % 3) as usize];
    let [r, g, b] = hsl_to_rgb(hue, 0.68, lightness);
    [r, g, b, 255]
}

/// HSL (hue in degrees, saturation and lightness in 0..=1) to 8-bit RGB.
fn hsl_to_rgb(hue: f64, saturation: f64, lightness: f64) -> [u8; 3] {
    let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let sector = hue.rem_euclid(360.0) / 60.0;
    let second = chroma * (1.0 - (sector % 2.0 - 1.0).abs());
    let (r, g, b) = match sector as u32 {
        0 => (chroma, second, 0.0),
        1 => (second, chroma, 0.0),
        2 => (0.0, chroma, second),
        3 => (0.0, second, chroma),
        4 => (second, 0.0, chroma),
        _ => (chroma, 0.0, second),
    };
    let lift = lightness - chroma / 2.0;
    let to_byte = |v: f64| ((v + lift) * 255.0).round().clamp(0.0, 255.0) as u8;
    [to_byte(r), to_byte(g), to_byte(b)]
}

// ---------------------------------------------------------------------------
// Fitting the layout into the picture
// ---------------------------------------------------------------------------

/// Smallest and largest radius drawn, in pixels.
const MIN_DRAWN_RADIUS: f32 = 1.5;
const MAX_DRAWN_RADIUS: f32 = 30.0;
/// Width of an edge, in pixels.
const EDGE_WIDTH: f32 = 1.0;
/// Width of the ring around highlighted nodes, in pixels, and its colour.
const RING_WIDTH: f32 = 1.5;
const RING_COLOUR: [u8; 4] = [34, 34, 34, 255];

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
fn picture_margin(width: u32, height: u32) -> f32 {
    (width.min(height) as f32 * 0.05).clamp(4.0, MAX_DRAWN_RADIUS + 10.0)
}

/// A radius in layout units as drawn, in pixels.
fn drawn_radius(radius: f32, scale: f32) -> f32 {
    let pixels = radius * scale;
    if pixels.is_nan() {
        MIN_DRAWN_RADIUS
    } else {
        pixels.clamp(MIN_DRAWN_RADIUS, MAX_DRAWN_RADIUS)
    }
}

/// One node as it will be drawn.
struct PlacedNode<'a> {
    node: &'a SceneNode,
    centre: [f32; 2],
    radius: f32,
}

/// The scene fitted into the picture: drawable nodes and edges.
struct Placement<'a> {
    nodes: Vec<PlacedNode<'a>>,
    edges: Vec<([f32; 2], [f32; 2])>,
}

impl<'a> Placement<'a> {
    fn new(scene: &'a Scene, width: u32, height: u32) -> Self {
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

// ---------------------------------------------------------------------------
// SVG
// ---------------------------------------------------------------------------

/// Edges per `<path>` element.
const EDGES_PER_PATH: usize = 1000;

/// The scene as a standalone SVG document of `width`×`height` (also the
/// viewBox): edges first (one `<path>` per thousand edges, thin and in the
/// scene's edge colour), then nodes (`<circle>`), rings around highlighted
/// nodes (one more `<circle>` each), labels (`<text>`, XML-escaped) and the
/// title at the top-left. No XML declaration, so it can also be inlined in
/// HTML. Deterministic output.
pub fn to_svg(scene: &Scene, width: u32, height: u32) -> String {
    let placement = Placement::new(scene, width, height);
    let mut svg =
        String::with_capacity(256 + placement.edges.len() * 28 + placement.nodes.len() * 64);
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="{width}" height="{height}" fill="{}"{}/>"#,
        Hex(scene.background),
        OpacityAttribute("fill-opacity", scene.background[3]),
    );

    if scene.edge_colour[3] > 0 {
        // The style is repeated on each path (there are few) so that any
        // path can be lifted out on its own.
        for chunk in placement.edges.chunks(EDGES_PER_PATH) {
            let _ = write!(
                svg,
                r#"<path fill="none" stroke="{}"{} stroke-width="{}" stroke-linecap="round" d=""#,
                Hex(scene.edge_colour),
                OpacityAttribute("stroke-opacity", scene.edge_colour[3]),
                Decimal(EDGE_WIDTH, 2),
            );
            for (from, to) in chunk {
                let _ = write!(
                    svg,
                    "M{} {}L{} {}",
                    Decimal(from[0], 1),
                    Decimal(from[1], 1),
                    Decimal(to[0], 1),
                    Decimal(to[1], 1)
                );
            }
            svg.push_str("\"/>\n");
        }
    }

    if !placement.nodes.is_empty() {
        svg.push_str("<g stroke=\"none\">\n");
        for placed in &placement.nodes {
            let _ = writeln!(
                svg,
                r#"<circle cx="{}" cy="{}" r="{}" fill="{}"{}/>"#,
                Decimal(placed.centre[0], 1),
                Decimal(placed.centre[1], 1),
                Decimal(placed.radius, 1),
                Hex(placed.node.colour),
                OpacityAttribute("fill-opacity", placed.node.colour[3]),
            );
        }
        svg.push_str("</g>\n");
    }

    let highlighted: Vec<&PlacedNode> = placement
        .nodes
        .iter()
        .filter(|p| p.node.highlighted)
        .collect();
    if !highlighted.is_empty() {
        let _ = writeln!(
            svg,
            r#"<g fill="none" stroke="{}" stroke-width="{}">"#,
            Hex(RING_COLOUR),
            Decimal(RING_WIDTH, 2)
        );
        for placed in highlighted {
            // The ring covers [r - 0.5, r + 1], as in the raster.
            let _ = writeln!(
                svg,
                r#"<circle cx="{}" cy="{}" r="{}"/>"#,
                Decimal(placed.centre[0], 1),
                Decimal(placed.centre[1], 1),
                Decimal(placed.radius - 0.5 + RING_WIDTH / 2.0, 2),
            );
        }
        svg.push_str("</g>\n");
    }

    let (text_colour, halo_colour) = text_colours(scene.background);
    let labelled: Vec<(&PlacedNode, &str)> = placement
        .nodes
        .iter()
        .filter_map(|p| {
            p.node
                .label
                .as_deref()
                .filter(|l| !l.is_empty())
                .map(|l| (p, l))
        })
        .collect();
    if !labelled.is_empty() {
        // A halo in the background colour first, then the text over it
        // (two passes rather than `paint-order`, which not every renderer knows).
        let passes = [
            format!(
                r#"fill="none" stroke="{}" stroke-width="3" stroke-linejoin="round""#,
                Hex(halo_colour)
            ),
            format!(r#"fill="{}""#, Hex(text_colour)),
        ];
        for style in passes {
            let _ = writeln!(
                svg,
                r#"<g font-family="sans-serif" font-size="12" {style}>"#
            );
            for &(placed, label) in &labelled {
                let _ = writeln!(
                    svg,
                    r#"<text x="{}" y="{}">{}</text>"#,
                    Decimal(placed.centre[0] + placed.radius + 3.0, 1),
                    Decimal(placed.centre[1] + 4.0, 1),
                    XmlText(label),
                );
            }
            svg.push_str("</g>\n");
        }
    }

    if let Some(title) = scene.title.as_deref().filter(|t| !t.is_empty()) {
        let _ = writeln!(
            svg,
            r#"<text x="12" y="24" font-family="sans-serif" font-size="16" font-weight="bold" fill="{}">{}</text>"#,
            Hex(text_colour),
            XmlText(title),
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Text and halo colours that read well on `background`.
fn text_colours(background: [u8; 4]) -> ([u8; 4], [u8; 4]) {
    let [r, g, b, _] = background.map(f32::from);
    let luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    if luminance >= 128.0 {
        ([34, 34, 34, 255], [255, 255, 255, 255])
    } else {
        ([238, 238, 238, 255], [17, 17, 17, 255])
    }
}

/// `#rrggbb` of an RGBA colour (alpha is written separately).
struct Hex([u8; 4]);

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [r, g, b, _] = self.0;
        write!(f, "#{r:02x}{g:02x}{b:02x}")
    }
}

/// ` name="0.xyz"` for an alpha below 255, nothing for opaque colours.
struct OpacityAttribute(&'static str, u8);

impl fmt::Display for OpacityAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.1 == 255 {
            return Ok(());
        }
        write!(
            f,
            r#" {}="{}""#,
            self.0,
            Decimal(f32::from(self.1) / 255.0, 3)
        )
    }
}

/// A number with at most the given decimals, trailing zeros dropped, no `-0`.
struct Decimal(f32, usize);

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Decimal(value, decimals) = *self;
        if !value.is_finite() {
            return f.write_str("0");
        }
        let text = format!("{value:.decimals$}");
        let text = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.')
        } else {
            &text
        };
        match text {
            "-0" | "" => f.write_str("0"),
            _ => f.write_str(text),
        }
    }
}

/// Text escaped for XML content and attributes; characters XML 1.0 cannot
/// hold (most control characters) are replaced by U+FFFD.
struct XmlText<'a>(&'a str);

impl fmt::Display for XmlText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&apos;")?,
                '\t' | '\n' | '\r' => f.write_char(c)?,
                c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                    f.write_char('\u{FFFD}')?
                }
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Raster
// ---------------------------------------------------------------------------

/// The scene rasterised into RGBA pixels (row-major, `width*height*4`) with
/// anti-aliased lines and anti-aliased filled circles (coverage from the
/// distance of each pixel centre to the shape), alpha-blended over the
/// background. Labels and title are not drawn (no font).
///
/// A side of zero gives an empty buffer, as does a side above [`MAX_SIDE`]
/// (check sizes first, or use [`to_png`], which reports them).
pub fn rasterise(scene: &Scene, width: u32, height: u32) -> Vec<u8> {
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Vec::new();
    }
    let placement = Placement::new(scene, width, height);
    let mut canvas = Canvas::new(width as usize, height as usize, scene.background);
    if scene.edge_colour[3] > 0 {
        for &(from, to) in &placement.edges {
            canvas.line(from, to, EDGE_WIDTH, scene.edge_colour);
        }
    }
    for placed in &placement.nodes {
        canvas.annulus(placed.centre, None, placed.radius, placed.node.colour);
    }
    for placed in placement.nodes.iter().filter(|p| p.node.highlighted) {
        let inner = placed.radius - 0.5;
        canvas.annulus(placed.centre, Some(inner), inner + RING_WIDTH, RING_COLOUR);
    }
    canvas.pixels
}

/// An RGBA picture being drawn.
struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: usize, height: usize, background: [u8; 4]) -> Self {
        let pixels = background.repeat(width * height);
        Canvas {
            width,
            height,
            pixels,
        }
    }

    /// Blends `colour` over pixel (x, y) with the given coverage in 0..=1
    /// (straight alpha, "over" operator).
    fn blend(&mut self, x: usize, y: usize, colour: [u8; 4], coverage: f32) {
        let alpha = coverage * f32::from(colour[3]) / 255.0;
        if alpha < 1.0 / 512.0 || x >= self.width {
            return;
        }
        let start = (y * self.width + x) * 4;
        let Some(pixel) = self.pixels.get_mut(start..start + 4) else {
            return;
        };
        let below_alpha = f32::from(pixel[3]) / 255.0 * (1.0 - alpha);
        let out_alpha = alpha + below_alpha;
        if out_alpha <= 0.0 {
            return;
        }
        for (channel, &source) in pixel.iter_mut().zip(&colour[..3]) {
            let mixed = (f32::from(source) * alpha + f32::from(*channel) * below_alpha) / out_alpha;
            *channel = (mixed + 0.5).clamp(0.0, 255.0) as u8;
        }
        pixel[3] = (out_alpha * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
    }

    /// An anti-aliased segment of the given width with round ends: walks the
    /// major axis and, per column (or row), the few pixels near the line.
    fn line(&mut self, from: [f32; 2], to: [f32; 2], width: f32, colour: [u8; 4]) {
        let (dx, dy) = (to[0] - from[0], to[1] - from[1]);
        let length_squared = dx * dx + dy * dy;
        let has_length = length_squared.is_finite() && length_squared > 1e-12;
        if !has_length {
            return;
        }
        let half = width / 2.0;
        let reach = half + 1.0;
        // (u, v): u along the major axis, v across it.
        let x_major = dx.abs() >= dy.abs();
        let swap = |p: [f32; 2]| if x_major { p } else { [p[1], p[0]] };
        let ([au, av], [bu, bv]) = (swap(from), swap(to));
        let (du, dv) = (bu - au, bv - av);
        let (size_u, size_v) = if x_major {
            (self.width, self.height)
        } else {
            (self.height, self.width)
        };
        let across = reach * length_squared.sqrt() / du.abs();

        let Some((u_first, u_last)) = pixel_span(au.min(bu) - reach, au.max(bu) + reach, size_u)
        else {
            return;
        };
        for u in u_first..=u_last {
            let cu = u as f32 + 0.5;
            let v_on_line = av + ((cu - au) / du).clamp(0.0, 1.0) * dv;
            let Some((v_first, v_last)) =
                pixel_span(v_on_line - across, v_on_line + across, size_v)
            else {
                continue;
            };
            for v in v_first..=v_last {
                let cv = v as f32 + 0.5;
                let t = (((cu - au) * du + (cv - av) * dv) / length_squared).clamp(0.0, 1.0);
                let distance = (au + t * du - cu).hypot(av + t * dv - cv);
                let coverage = (half + 0.5 - distance).clamp(0.0, 1.0);
                if coverage > 0.0 {
                    let (x, y) = if x_major { (u, v) } else { (v, u) };
                    self.blend(x, y, colour, coverage);
                }
            }
        }
    }

    /// An anti-aliased disc of radius `outer`, or a ring between `inner` and
    /// `outer` when `inner` is given.
    fn annulus(&mut self, centre: [f32; 2], inner: Option<f32>, outer: f32, colour: [u8; 4]) {
        let has_area = outer.is_finite() && outer > 0.0;
        if colour[3] == 0 || !has_area {
            return;
        }
        let reach = outer + 1.0;
        let Some((x_first, x_last)) = pixel_span(centre[0] - reach, centre[0] + reach, self.width)
        else {
            return;
        };
        let Some((y_first, y_last)) = pixel_span(centre[1] - reach, centre[1] + reach, self.height)
        else {
            return;
        };
        for y in y_first..=y_last {
            let cy = y as f32 + 0.5 - centre[1];
            for x in x_first..=x_last {
                let distance = (x as f32 + 0.5 - centre[0]).hypot(cy);
                let mut coverage = (outer + 0.5 - distance).clamp(0.0, 1.0);
                if let Some(inner) = inner {
                    coverage = coverage.min((distance - inner + 0.5).clamp(0.0, 1.0));
                }
                if coverage > 0.0 {
                    self.blend(x, y, colour, coverage);
                }
            }
        }
    }
}

/// Pixel indices whose centres may lie in `[low, high]`, clipped to `0..size`.
fn pixel_span(low: f32, high: f32, size: usize) -> Option<(usize, usize)> {
    let ordered = low <= high;
    if size == 0 || !ordered || high < 0.0 || low >= size as f32 {
        return None;
    }
    let first = low.floor().max(0.0) as usize;
    let last = (high.ceil().max(0.0) as usize).min(size - 1);
    (first <= last).then_some((first, last))
}

// ---------------------------------------------------------------------------
// PNG
// ---------------------------------------------------------------------------

/// The scene rasterised ([`rasterise`]) and encoded as PNG ([`encode_png`]).
pub fn to_png(scene: &Scene, width: u32, height: u32) -> Result<Vec<u8>, ExportError> {
    check_size(width, height)?;
    encode_png(&rasterise(scene, width, height), width, height)
}

/// Rejects sides of zero or above [`MAX_SIDE`].
fn check_size(width: u32, height: u32) -> Result<(), ExportError> {
    if width == 0 || height == 0 {
        return Err(ExportError(format!(
            "cannot export an empty picture ({width}×{height} pixels)"
        )));
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(ExportError(format!(
            "picture of {width}×{height} pixels is too large (at most {MAX_SIDE} a side)"
        )));
    }
    Ok(())
}

/// RGBA pixels (row-major, 8 bits a channel) encoded as a PNG file:
/// signature, IHDR (8-bit RGBA), one IDAT zlib stream, IEND. Each row gets
/// the PNG filter whose output has the smallest sum of absolute values.
pub fn encode_png(rgba: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ExportError> {
    check_size(width, height)?;
    let row_bytes = width as usize * 4;
    let expected = row_bytes * height as usize;
    if rgba.len() != expected {
        return Err(ExportError(format!(
            "{} bytes of pixels given for a {width}×{height} RGBA picture, which needs {expected}",
            rgba.len()
        )));
    }

    let filtered = filter_rows(rgba, row_bytes);
    let compressed = zlib_compress(&filtered);

    let mut png = Vec::with_capacity(compressed.len() + 64);
    png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    // 8 bits a channel, RGBA, deflate, PNG filters, no interlace.
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    write_chunk(&mut png, b"IHDR", &header)?;
    write_chunk(&mut png, b"IDAT", &compressed)?;
    write_chunk(&mut png, b"IEND", &[])?;
    Ok(png)
}

/// Appends one PNG chunk: length, type, data, CRC of type and data.
fn write_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) -> Result<(), ExportError> {
    let length = u32::try_from(data.len())
        .ok()
        .filter(|&n| n <= i32::MAX as u32)
        .ok_or_else(|| ExportError(format!("PNG chunk of {} bytes is too long", data.len())))?;
    png.extend_from_slice(&length.to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32_finish(crc32_update(crc32_update(CRC32_START, kind), data));
    png.extend_from_slice(&crc.to_be_bytes());
    Ok(())
}

/// PNG filter types.
const FILTER_NONE: u8 = 0;
const FILTER_SUB: u8 = 1;
const FILTER_UP: u8 = 2;
const FILTER_AVERAGE: u8 = 3;
const FILTER_PAETH: u8 = 4;

/// Filters every row of 4-byte pixels, each prefixed with its filter type.
fn filter_rows(rgba: &[u8], row_bytes: usize) -> Vec<u8> {
    const BPP: usize = 4;
    if row_bytes == 0 {
        return Vec::new();
    }
    let rows = rgba.len() / row_bytes;
    let mut out = Vec::with_capacity(rows * (row_bytes + 1));
    let zero_row = vec![0u8; row_bytes];
    let mut candidate = vec![0u8; row_bytes];
    let mut best = vec![0u8; row_bytes];
    for (index, row) in rgba.chunks_exact(row_bytes).enumerate() {
        let above = match index {
            0 => &zero_row[..],
            _ => &rgba[(index - 1) * row_bytes..index * row_bytes],
        };
        let mut best_type = FILTER_NONE;
        let mut best_cost = u64::MAX;
        for filter in [
            FILTER_NONE,
            FILTER_SUB,
            FILTER_UP,
            FILTER_AVERAGE,
            FILTER_PAETH,
        ] {
            for i in 0..row_bytes {
                let left = if i >= BPP { row[i - BPP] } else { 0 };
                let up = above[i];
                let up_left = if i >= BPP { above[i - BPP] } else { 0 };
                let predicted = match filter {
                    FILTER_NONE => 0,
                    FILTER_SUB => left,
                    FILTER_UP => up,
                    FILTER_AVERAGE => ((u16::from(left) + u16::from(up)) / 2) as u8,
                    _ => paeth(left, up, up_left),
                };
                candidate[i] = row[i].wrapping_sub(predicted);
            }
            let cost: u64 = candidate
                .iter()
                .map(|&b| u64::from((b as i8).unsigned_abs()))
                .sum();
            if cost < best_cost {
                best_cost = cost;
                best_type = filter;
                std::mem::swap(&mut best, &mut candidate);
            }
        }
        out.push(best_type);
        out.extend_from_slice(&best);
    }
    out
}

/// The Paeth predictor of PNG.
fn paeth(left: u8, up: u8, up_left: u8) -> u8 {
    let (a, b, c) = (i16::from(left), i16::from(up), i16::from(up_left));
    let p = a + b - c;
    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
    if pa <= pb && pa <= pc {
        left
    } else if pb <= pc {
        up
    } else {
        up_left
    }
}

/// CRC-32 (ISO-HDLC, as in PNG and zlib) lookup table.
const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

const CRC32_START: u32 = 0xFFFF_FFFF;

fn crc32_update(mut crc: u32, bytes: &[u8]) -> u32 {
    for &byte in bytes {
        crc = CRC32_TABLE[((crc ^ u32::from(byte)) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc
}

fn crc32_finish(crc: u32) -> u32 {
    crc ^ 0xFFFF_FFFF
}

/// CRC-32 of `bytes`.
#[cfg(test)]
fn crc32(bytes: &[u8]) -> u32 {
    crc32_finish(crc32_update(CRC32_START, bytes))
}

/// Adler-32 of `bytes` (the zlib trailer).
fn adler32(bytes: &[u8]) -> u32 {
    const MODULUS: u32 = 65521;
    // 5552 bytes is the most that can be summed before `b` could overflow.
    let (mut a, mut b) = (1u32, 0u32);
    for block in bytes.chunks(5552) {
        for &byte in block {
            a += u32::from(byte);
            b += a;
        }
        a %= MODULUS;
        b %= MODULUS;
    }
    (b << 16) | a
}

/// `bytes` as a zlib stream: header, DEFLATE data, Adler-32.
fn zlib_compress(bytes: &[u8]) -> Vec<u8> {
    // CMF 0x78: deflate with a 32 KiB window; FLG 0x5E: "fast" level, check bits.
    let mut out = vec![0x78, 0x5E];
    out.extend_from_slice(&deflate(bytes));
    out.extend_from_slice(&adler32(bytes).to_be_bytes());
    out
}

// ---------------------------------------------------------------------------
// DEFLATE (RFC 1951): LZ77 with hash chains and lazy matching; each block
// uses whichever is smallest of fixed Huffman codes, its own (dynamic)
// Huffman codes, or stored bytes.
// ---------------------------------------------------------------------------

const WINDOW: usize = 32 * 1024;
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
/// How many earlier positions with the same hash are tried per match.
const MAX_CHAIN: usize = 64;
/// Matches shorter than this are kept only if the next position has no
/// longer one (lazy matching).
const LAZY_BELOW: usize = 32;
const HASH_BITS: u32 = 16;
/// Tokens per block: each block gets its own Huffman codes.
const BLOCK_TOKENS: usize = 16 * 1024;
/// The most bytes one stored block holds.
const STORED_MAX: usize = 65_535;
/// No position in a hash chain.
const NO_POSITION: usize = usize::MAX;

/// Base lengths of length codes 257..=285.
const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances of distance codes 0..=29.
const DISTANCE_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DISTANCE_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
const END_OF_BLOCK: usize = 256;
/// Literal/length symbols (286 and 287 exist only in the fixed code).
const LITERAL_SYMBOLS: usize = 286;
const DISTANCE_SYMBOLS: usize = 30;
/// Symbols of the code-length code: lengths 0..=15, then the repeat codes.
const REPEAT_PREVIOUS: u8 = 16;
const REPEAT_ZERO_SHORT: u8 = 17;
const REPEAT_ZERO_LONG: u8 = 18;
/// Order in which the code-length code's own lengths are sent.
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// The lowest `bits` bits of `code` in reverse order (DEFLATE sends Huffman
/// codes most-significant bit first into an LSB-first bit stream).
const fn reverse_bits(code: u16, bits: u8) -> u16 {
    if bits == 0 {
        0
    } else {
        code.reverse_bits() >> (16 - bits as u32)
    }
}

/// The fixed Huffman code of each literal/length symbol (bit-reversed) with
/// its length in bits.
const FIXED_LITERAL_CODES: [(u16, u8); 288] = {
    let mut codes = [(0u16, 0u8); 288];
    let mut symbol = 0;
    while symbol < 288 {
        let (code, bits) = match symbol {
            0..=143 => (0x30 + symbol, 8),
            144..=255 => (0x190 + symbol - 144, 9),
            256..=279 => (symbol - 256, 7),
            _ => (0xC0 + symbol - 280, 8),
        };
        codes[symbol] = (reverse_bits(code as u16, bits), bits);
        symbol += 1;
    }
    codes
};

/// The fixed distance code: five bits, bit-reversed.
const FIXED_DISTANCE_CODES: [(u16, u8); 30] = {
    let mut codes = [(0u16, 0u8); 30];
    let mut symbol = 0;
    while symbol < 30 {
        codes[symbol] = (reverse_bits(symbol as u16, 5), 5);
        symbol += 1;
    }
    codes
};

/// One LZ77 output item.
#[derive(Debug, Clone, Copy)]
enum Token {
    Literal(u8),
    Match { length: u16, distance: u16 },
}

/// Length code index (symbol − 257) for a match length of 3..=258.
fn length_code(length: u16) -> usize {
    LENGTH_BASE
        .partition_point(|&base| base <= length)
        .saturating_sub(1)
}

/// Distance code for a distance of 1..=32768.
fn distance_code(distance: u16) -> usize {
    DISTANCE_BASE
        .partition_point(|&base| base <= distance)
        .saturating_sub(1)
}

/// Writes bits least-significant first, as DEFLATE wants.
struct BitWriter {
    bytes: Vec<u8>,
    pending: u64,
    pending_bits: u32,
}

impl BitWriter {
    fn new(capacity: usize) -> Self {
        BitWriter {
            bytes: Vec::with_capacity(capacity),
            pending: 0,
            pending_bits: 0,
        }
    }

    /// Appends the lowest `bits` bits of `value` (at most 32).
    fn write(&mut self, value: u32, bits: u32) {
        self.pending |= u64::from(value) << self.pending_bits;
        self.pending_bits += bits;
        while self.pending_bits >= 8 {
            self.bytes.push(self.pending as u8);
            self.pending >>= 8;
            self.pending_bits -= 8;
        }
    }

    /// Appends a Huffman code from a `(reversed code, length)` table entry.
    fn write_code(&mut self, (code, bits): (u16, u8)) {
        self.write(u32::from(code), u32::from(bits));
    }

    /// Pads with zero bits to the next byte boundary.
    fn align(&mut self) {
        if self.pending_bits > 0 {
            self.bytes.push(self.pending as u8);
            self.pending = 0;
            self.pending_bits = 0;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.align();
        self.bytes
    }
}

/// Remembers, per 3-byte hash, the positions where it occurred.
struct MatchFinder {
    head: Vec<usize>,
    previous: Vec<usize>,
}

impl MatchFinder {
    fn new() -> Self {
        MatchFinder {
            head: vec![NO_POSITION; 1 << HASH_BITS],
            previous: vec![NO_POSITION; WINDOW],
        }
    }

    fn hash(data: &[u8], position: usize) -> Option<usize> {
        let bytes = data.get(position..position + MIN_MATCH)?;
        let key = u32::from(bytes[0]) | u32::from(bytes[1]) << 8 | u32::from(bytes[2]) << 16;
        Some((key.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize)
    }

    fn insert(&mut self, data: &[u8], position: usize) {
        if let Some(hash) = Self::hash(data, position) {
            self.previous[position % WINDOW] = self.head[hash];
            self.head[hash] = position;
        }
    }

    /// The longest earlier match for the bytes at `position` as
    /// `(length, distance)`, if one of at least [`MIN_MATCH`] bytes exists.
    fn longest_match(&self, data: &[u8], position: usize) -> Option<(usize, usize)> {
        let limit = MAX_MATCH.min(data.len().saturating_sub(position));
        if limit < MIN_MATCH {
            return None;
        }
        let ahead = &data[position..position + limit];
        let mut candidate = self.head[Self::hash(data, position)?];
        let mut best: Option<(usize, usize)> = None;
        let mut best_length = MIN_MATCH - 1;
        for _ in 0..MAX_CHAIN {
            if candidate == NO_POSITION || candidate >= position || position - candidate > WINDOW {
                break;
            }
            let earlier = &data[candidate..candidate + limit];
            if earlier[best_length] == ahead[best_length] {
                let length = earlier
                    .iter()
                    .zip(ahead)
                    .take_while(|(a, b)| a == b)
                    .count();
                if length > best_length {
                    best_length = length;
                    best = Some((length, position - candidate));
                    if length == limit {
                        break;
                    }
                }
            }
            let next = self.previous[candidate % WINDOW];
            if next >= candidate {
                break;
            }
            candidate = next;
        }
        best
    }
}

/// Turns bytes into LZ77 tokens, a block at a time.
struct Tokeniser<'a> {
    data: &'a [u8],
    finder: MatchFinder,
    /// Where the next token starts.
    position: usize,
    /// The match search already done (and hashed) at `position`, if any.
    searched: Option<Option<(usize, usize)>>,
}

impl<'a> Tokeniser<'a> {
    fn new(data: &'a [u8]) -> Self {
        Tokeniser {
            data,
            finder: MatchFinder::new(),
            position: 0,
            searched: None,
        }
    }

    fn done(&self) -> bool {
        self.position >= self.data.len()
    }

    /// Searches at `position`, then adds it to the hash chains.
    fn search(&mut self, position: usize) -> Option<(usize, usize)> {
        let found = self.finder.longest_match(self.data, position);
        self.finder.insert(self.data, position);
        found
    }

    /// Replaces `tokens` with the next block's tokens; returns the bytes they cover.
    fn next_block(&mut self, tokens: &mut Vec<Token>) -> &'a [u8] {
        let data = self.data;
        let start = self.position;
        tokens.clear();
        while self.position < data.len() && tokens.len() < BLOCK_TOKENS {
            let position = self.position;
            let found = match self.searched.take() {
                Some(found) => found,
                None => self.search(position),
            };
            let Some((length, distance)) = found else {
                tokens.push(Token::Literal(data[position]));
                self.position += 1;
                continue;
            };
            // Lazy matching: a longer match one byte later wins over this one.
            let mut hashed_to = position + 1;
            if length < LAZY_BELOW {
                let next = self.search(position + 1);
                if next.is_some_and(|(next_length, _)| next_length > length) {
                    tokens.push(Token::Literal(data[position]));
                    self.position += 1;
                    self.searched = Some(next);
                    continue;
                }
                hashed_to = position + 2;
            }
            for covered in hashed_to..position + length {
                self.finder.insert(data, covered);
            }
            tokens.push(Token::Match {
                length: length as u16,
                distance: distance as u16,
            });
            self.position += length;
        }
        &data[start..self.position]
    }
}

/// Compresses `data` into a raw DEFLATE stream.
fn deflate(data: &[u8]) -> Vec<u8> {
    let mut writer = BitWriter::new(data.len() / 8 + 64);
    if data.is_empty() {
        write_huffman_block(&mut writer, &[], &BlockCodes::fixed(), true);
        return writer.finish();
    }
    let mut tokeniser = Tokeniser::new(data);
    let mut tokens = Vec::with_capacity(BLOCK_TOKENS);
    while !tokeniser.done() {
        let bytes = tokeniser.next_block(&mut tokens);
        write_block(&mut writer, bytes, &tokens, tokeniser.done());
    }
    writer.finish()
}

/// Huffman codes of one block: `(reversed code, length)` per symbol.
struct BlockCodes {
    literal: Vec<(u16, u8)>,
    distance: Vec<(u16, u8)>,
}

impl BlockCodes {
    fn fixed() -> Self {
        BlockCodes {
            literal: FIXED_LITERAL_CODES.to_vec(),
            distance: FIXED_DISTANCE_CODES.to_vec(),
        }
    }

    /// Bits the tokens and the end-of-block code take with these codes.
    fn cost(&self, tokens: &[Token]) -> usize {
        let bits = |table: &[(u16, u8)], symbol: usize| {
            table.get(symbol).map_or(0, |&(_, bits)| usize::from(bits))
        };
        let body: usize = tokens
            .iter()
            .map(|&token| match token {
                Token::Literal(byte) => bits(&self.literal, usize::from(byte)),
                Token::Match { length, distance } => {
                    let (length, distance) = (length_code(length), distance_code(distance));
                    bits(&self.literal, 257 + length)
                        + usize::from(LENGTH_EXTRA[length])
                        + bits(&self.distance, distance)
                        + usize::from(DISTANCE_EXTRA[distance])
                }
            })
            .sum();
        body + bits(&self.literal, END_OF_BLOCK)
    }
}

/// Codes built for one block's symbol counts, and the header that sends them.
struct DynamicCodes {
    codes: BlockCodes,
    literal_count: usize,
    distance_count: usize,
    /// Lengths of the code-length code, by code-length symbol.
    code_length_lengths: [u8; 19],
    code_length_codes: Vec<(u16, u8)>,
    /// The literal and distance code lengths, run-length encoded as
    /// `(code-length symbol, extra bits value)`.
    runs: Vec<(u8, u8)>,
}

impl DynamicCodes {
    fn new(tokens: &[Token]) -> Self {
        let mut literal_counts = [0u32; LITERAL_SYMBOLS];
        let mut distance_counts = [0u32; DISTANCE_SYMBOLS];
        literal_counts[END_OF_BLOCK] = 1;
        for &token in tokens {
            match token {
                Token::Literal(byte) => literal_counts[usize::from(byte)] += 1,
                Token::Match { length, distance } => {
                    literal_counts[257 + length_code(length)] += 1;
                    distance_counts[distance_code(distance)] += 1;
                }
            }
        }
        let literal_lengths = huffman_lengths(&literal_counts, 15);
        let distance_lengths = huffman_lengths(&distance_counts, 15);
        let literal_count = last_used(&literal_lengths).max(257);
        let distance_count = last_used(&distance_lengths).max(1);

        let mut all_lengths = literal_lengths[..literal_count].to_vec();
        all_lengths.extend_from_slice(&distance_lengths[..distance_count]);
        let runs = run_length_encode(&all_lengths);
        let mut run_counts = [0u32; 19];
        for &(symbol, _) in &runs {
            run_counts[usize::from(symbol)] += 1;
        }
        let mut code_length_lengths = [0u8; 19];
        for (slot, length) in code_length_lengths
            .iter_mut()
            .zip(huffman_lengths(&run_counts, 7))
        {
            *slot = length;
        }
        DynamicCodes {
            codes: BlockCodes {
                literal: canonical_codes(&literal_lengths),
                distance: canonical_codes(&distance_lengths),
            },
            literal_count,
            distance_count,
            code_length_codes: canonical_codes(&code_length_lengths),
            code_length_lengths,
            runs,
        }
    }

    /// How many code-length code lengths are sent (trailing zeros dropped).
    fn code_length_count(&self) -> usize {
        let last = CODE_LENGTH_ORDER
            .iter()
            .rposition(|&symbol| self.code_length_lengths[symbol] != 0);
        last.map_or(4, |index| (index + 1).max(4))
    }

    fn header_cost(&self) -> usize {
        let runs: usize = self
            .runs
            .iter()
            .map(|&(symbol, _)| {
                usize::from(self.code_length_lengths[usize::from(symbol)])
                    + usize::from(repeat_extra_bits(symbol))
            })
            .sum();
        5 + 5 + 4 + 3 * self.code_length_count() + runs
    }

    fn write_header(&self, writer: &mut BitWriter) {
        let code_length_count = self.code_length_count();
        writer.write((self.literal_count - 257) as u32, 5);
        writer.write((self.distance_count - 1) as u32, 5);
        writer.write((code_length_count - 4) as u32, 4);
        for &symbol in &CODE_LENGTH_ORDER[..code_length_count] {
            writer.write(u32::from(self.code_length_lengths[symbol]), 3);
        }
        for &(symbol, extra) in &self.runs {
            writer.write_code(self.code_length_codes[usize::from(symbol)]);
            writer.write(u32::from(extra), u32::from(repeat_extra_bits(symbol)));
        }
    }
}

/// Extra bits after a code-length symbol.
fn repeat_extra_bits(symbol: u8) -> u8 {
    match symbol {
        REPEAT_PREVIOUS => 2,
        REPEAT_ZERO_SHORT => 3,
        REPEAT_ZERO_LONG => 7,
        _ => 0,
    }
}

/// One past the last symbol with a code.
fn last_used(lengths: &[u8]) -> usize {
    lengths
        .iter()
        .rposition(|&length| length != 0)
        .map_or(0, |last| last + 1)
}

/// Code lengths, as `(code-length symbol, extra bits value)`: runs of zeros
/// become codes 17 and 18, other repeats code 16.
fn run_length_encode(lengths: &[u8]) -> Vec<(u8, u8)> {
    let mut runs = Vec::new();
    let mut index = 0;
    while let Some(&length) = lengths.get(index) {
        let run = lengths[index..]
            .iter()
            .take_while(|&&l| l == length)
            .count();
        let mut left = run;
        if length == 0 {
            while left >= 11 {
                let take = left.min(138);
                runs.push((REPEAT_ZERO_LONG, (take - 11) as u8));
                left -= take;
            }
            if left >= 3 {
                runs.push((REPEAT_ZERO_SHORT, (left - 3) as u8));
                left = 0;
            }
        } else {
            runs.push((length, 0));
            left -= 1;
            while left >= 3 {
                let take = left.min(6);
                runs.push((REPEAT_PREVIOUS, (take - 3) as u8));
                left -= take;
            }
        }
        runs.extend(std::iter::repeat_n((length, 0), left));
        index += run;
    }
    runs
}

/// Huffman code lengths for the given symbol counts, none longer than
/// `max_bits`. At least two symbols get a code (a lone symbol gets a partner)
/// so that every code is complete. Counts are flattened until the code fits.
fn huffman_lengths(counts: &[u32], max_bits: u8) -> Vec<u8> {
    let mut weights: Vec<u64> = counts.iter().map(|&count| u64::from(count)).collect();
    for _ in weights.iter().filter(|&&w| w > 0).count()..2 {
        if let Some(unused) = weights.iter_mut().find(|w| **w == 0) {
            *unused = 1;
        }
    }
    loop {
        let lengths = unlimited_huffman_lengths(&weights);
        if lengths.iter().all(|&length| length <= max_bits) {
            return lengths;
        }
        for weight in weights.iter_mut().filter(|w| **w > 0) {
            *weight = (*weight >> 1) | 1;
        }
    }
}

/// Plain Huffman code lengths (zero for symbols of weight zero).
fn unlimited_huffman_lengths(weights: &[u64]) -> Vec<u8> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    let mut lengths = vec![0u8; weights.len()];
    let symbols: Vec<usize> = (0..weights.len()).filter(|&s| weights[s] > 0).collect();
    if symbols.len() < 2 {
        for &symbol in &symbols {
            lengths[symbol] = 1;
        }
        return lengths;
    }
    // Nodes 0..symbols.len() are leaves; merged nodes follow, so a parent
    // always has a higher index than its children. Ties break on the index,
    // which keeps the result deterministic.
    let mut parent = vec![usize::MAX; symbols.len()];
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = symbols
        .iter()
        .enumerate()
        .map(|(node, &symbol)| Reverse((weights[symbol], node)))
        .collect();
    while let (Some(Reverse((first, a))), Some(Reverse((second, b)))) = (heap.pop(), heap.pop()) {
        let merged = parent.len();
        parent.push(usize::MAX);
        parent[a] = merged;
        parent[b] = merged;
        heap.push(Reverse((first + second, merged)));
    }
    let mut depth = vec![0u8; parent.len()];
    for node in (0..parent.len()).rev() {
        if let Some(&above) = depth.get(parent[node]) {
            depth[node] = above.saturating_add(1);
        }
    }
    for (node, &symbol) in symbols.iter().enumerate() {
        lengths[symbol] = depth[node];
    }
    lengths
}

/// Canonical Huffman codes (RFC 1951 §3.2.2) for the given lengths,
/// bit-reversed for output, as `(code, length)`.
fn canonical_codes(lengths: &[u8]) -> Vec<(u16, u8)> {
    let mut length_counts = [0u16; 16];
    for &length in lengths {
        if let Some(count) = length_counts.get_mut(usize::from(length)) {
            *count += 1;
        }
    }
    length_counts[0] = 0;
    let mut next_code = [0u16; 16];
    let mut code = 0u16;
    for bits in 1..16 {
        code = code.wrapping_add(length_counts[bits - 1]) << 1;
        next_code[bits] = code;
    }
    lengths
        .iter()
        .map(|&length| match next_code.get_mut(usize::from(length)) {
            Some(next) if length > 0 => {
                let code = *next;
                *next = next.wrapping_add(1);
                (reverse_bits(code, length), length)
            }
            _ => (0, 0),
        })
        .collect()
}

/// Writes one block in the smallest of the three forms.
fn write_block(writer: &mut BitWriter, bytes: &[u8], tokens: &[Token], is_final: bool) {
    let fixed = BlockCodes::fixed();
    let fixed_bits = 3 + fixed.cost(tokens);
    let dynamic = DynamicCodes::new(tokens);
    let dynamic_bits = 3 + dynamic.header_cost() + dynamic.codes.cost(tokens);
    let stored_bits = bytes.len().div_ceil(STORED_MAX).max(1) * (3 + 7 + 32) + 8 * bytes.len();
    if stored_bits < fixed_bits.min(dynamic_bits) {
        write_stored_blocks(writer, bytes, is_final);
    } else if dynamic_bits < fixed_bits {
        writer.write(u32::from(is_final), 1);
        writer.write(2, 2);
        dynamic.write_header(writer);
        write_tokens(writer, tokens, &dynamic.codes);
    } else {
        write_huffman_block(writer, tokens, &fixed, is_final);
    }
}

/// Raw bytes, in as many stored blocks as needed.
fn write_stored_blocks(writer: &mut BitWriter, bytes: &[u8], is_final: bool) {
    let pieces = bytes.len().div_ceil(STORED_MAX).max(1);
    for index in 0..pieces {
        let piece = bytes
            .get(index * STORED_MAX..bytes.len().min((index + 1) * STORED_MAX))
            .unwrap_or_default();
        writer.write(u32::from(is_final && index + 1 == pieces), 1);
        writer.write(0, 2);
        writer.align();
        let length = piece.len() as u16;
        writer.bytes.extend_from_slice(&length.to_le_bytes());
        writer.bytes.extend_from_slice(&(!length).to_le_bytes());
        writer.bytes.extend_from_slice(piece);
    }
}

/// A block with the fixed Huffman codes.
fn write_huffman_block(
    writer: &mut BitWriter,
    tokens: &[Token],
    codes: &BlockCodes,
    is_final: bool,
) {
    writer.write(u32::from(is_final), 1);
    writer.write(1, 2);
    write_tokens(writer, tokens, codes);
}

/// The tokens and the end-of-block code.
fn write_tokens(writer: &mut BitWriter, tokens: &[Token], codes: &BlockCodes) {
    let code = |table: &[(u16, u8)], symbol: usize| table.get(symbol).copied().unwrap_or((0, 0));
    for &token in tokens {
        match token {
            Token::Literal(byte) => writer.write_code(code(&codes.literal, usize::from(byte))),
            Token::Match { length, distance } => {
                let length_index = length_code(length);
                writer.write_code(code(&codes.literal, 257 + length_index));
                writer.write(
                    u32::from(length - LENGTH_BASE[length_index]),
                    u32::from(LENGTH_EXTRA[length_index]),
                );
                let distance_index = distance_code(distance);
                writer.write_code(code(&codes.distance, distance_index));
                writer.write(
                    u32::from(distance - DISTANCE_BASE[distance_index]),
                    u32::from(DISTANCE_EXTRA[distance_index]),
                );
            }
        }
    }
    writer.write_code(code(&codes.literal, END_OF_BLOCK));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator for test data.
    struct TestRng(u64);

    impl TestRng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn unit(&mut self) -> f32 {
            (self.next() >> 40) as f32 / (1u64 << 24) as f32
        }
    }

    /// Reads DEFLATE bits least-significant first.
    struct BitReader<'a> {
        bytes: &'a [u8],
        position: usize,
        bit: u32,
    }

    impl BitReader<'_> {
        fn bit(&mut self) -> Result<u32, String> {
            let byte = *self.bytes.get(self.position).ok_or("stream ended early")?;
            let value = u32::from(byte >> self.bit) & 1;
            self.bit += 1;
            if self.bit == 8 {
                self.bit = 0;
                self.position += 1;
            }
            Ok(value)
        }
        fn bits(&mut self, count: u32) -> Result<u32, String> {
            let mut value = 0;
            for i in 0..count {
                value |= self.bit()? << i;
            }
            Ok(value)
        }
        fn align(&mut self) {
            if self.bit > 0 {
                self.bit = 0;
                self.position += 1;
            }
        }
    }

    /// Decodes one canonical Huffman code, given its code lengths.
    struct Decoder {
        /// How many codes have each length.
        length_counts: [u16; 16],
        /// Symbols ordered by code length, then by symbol.
        symbols: Vec<usize>,
    }

    impl Decoder {
        fn new(lengths: &[u8]) -> Self {
            let mut length_counts = [0u16; 16];
            let mut symbols = Vec::new();
            for length in 1..16u8 {
                for (symbol, _) in lengths.iter().enumerate().filter(|&(_, &l)| l == length) {
                    length_counts[usize::from(length)] += 1;
                    symbols.push(symbol);
                }
            }
            Decoder {
                length_counts,
                symbols,
            }
        }

        /// Reads bits until they form a code: codes of each length are
        /// consecutive numbers following those of the shorter lengths.
        fn decode(&self, reader: &mut BitReader) -> Result<usize, String> {
            let (mut code, mut first, mut index) = (0usize, 0usize, 0usize);
            for length in 1..16 {
                code |= reader.bit()? as usize;
                let count = usize::from(self.length_counts[length]);
                if code < first + count {
                    return Ok(self.symbols[index + code - first]);
                }
                index += count;
                first = (first + count) << 1;
                code <<= 1;
            }
            Err("invalid Huffman code".into())
        }
    }

    /// Reads the code lengths of a dynamic block and builds its decoders.
    fn dynamic_decoders(reader: &mut BitReader) -> Result<(Decoder, Decoder), String> {
        let literal_count = reader.bits(5)? as usize + 257;
        let distance_count = reader.bits(5)? as usize + 1;
        let code_length_count = reader.bits(4)? as usize + 4;
        let mut code_length_lengths = [0u8; 19];
        for &symbol in &CODE_LENGTH_ORDER[..code_length_count] {
            code_length_lengths[symbol] = reader.bits(3)? as u8;
        }
        let code_lengths = Decoder::new(&code_length_lengths);
        let mut lengths: Vec<u8> = Vec::new();
        while lengths.len() < literal_count + distance_count {
            match code_lengths.decode(reader)? {
                16 => {
                    let previous = *lengths.last().ok_or("repeat with nothing before")?;
                    let times = 3 + reader.bits(2)? as usize;
                    lengths.extend(std::iter::repeat_n(previous, times));
                }
                17 => lengths.extend(std::iter::repeat_n(0, 3 + reader.bits(3)? as usize)),
                18 => lengths.extend(std::iter::repeat_n(0, 11 + reader.bits(7)? as usize)),
                length => lengths.push(length as u8),
            }
        }
        if lengths.len() != literal_count + distance_count {
            return Err("code lengths overrun".into());
        }
        if lengths[END_OF_BLOCK] == 0 {
            return Err("no end-of-block code".into());
        }
        Ok((
            Decoder::new(&lengths[..literal_count]),
            Decoder::new(&lengths[literal_count..]),
        ))
    }

    /// Decoders for the fixed codes, built from the lengths in RFC 1951.
    fn fixed_decoders() -> (Decoder, Decoder) {
        let literal: Vec<u8> = (0..288)
            .map(|s| match s {
                0..=143 => 8,
                144..=255 => 9,
                256..=279 => 7,
                _ => 8,
            })
            .collect();
        (Decoder::new(&literal), Decoder::new(&[5; 30]))
    }

    /// Inflates a raw DEFLATE stream (stored, fixed and dynamic blocks).
    fn inflate(bytes: &[u8]) -> Result<Vec<u8>, String> {
        inflate_blocks(bytes).map(|(out, _)| out)
    }

    /// Inflates, also returning the type of each block.
    fn inflate_blocks(bytes: &[u8]) -> Result<(Vec<u8>, Vec<u32>), String> {
        let mut reader = BitReader {
            bytes,
            position: 0,
            bit: 0,
        };
        let mut out = Vec::new();
        let mut block_types = Vec::new();
        loop {
            let is_final = reader.bits(1)? == 1;
            let block_type = reader.bits(2)?;
            if block_type == 0 {
                reader.align();
                let header = bytes
                    .get(reader.position..reader.position + 4)
                    .ok_or("short stored header")?;
                let length = u16::from_le_bytes([header[0], header[1]]);
                let check = u16::from_le_bytes([header[2], header[3]]);
                if length != !check {
                    return Err("stored length check failed".into());
                }
                let start = reader.position + 4;
                let end = start + usize::from(length);
                out.extend_from_slice(bytes.get(start..end).ok_or("short stored block")?);
                reader.position = end;
            } else {
                let (literals, distances) = match block_type {
                    1 => fixed_decoders(),
                    2 => dynamic_decoders(&mut reader)?,
                    _ => return Err("reserved block type".into()),
                };
                loop {
                    let symbol = literals.decode(&mut reader)?;
                    match symbol {
                        0..=255 => out.push(symbol as u8),
                        END_OF_BLOCK => break,
                        _ => {
                            let code = symbol - 257;
                            let length =
                                usize::from(*LENGTH_BASE.get(code).ok_or("bad length code")?)
                                    + reader.bits(u32::from(LENGTH_EXTRA[code]))? as usize;
                            let code = distances.decode(&mut reader)?;
                            let distance =
                                usize::from(*DISTANCE_BASE.get(code).ok_or("bad distance code")?)
                                    + reader.bits(u32::from(DISTANCE_EXTRA[code]))? as usize;
                            if distance > out.len() {
                                return Err("distance before start".into());
                            }
                            for _ in 0..length {
                                out.push(out[out.len() - distance]);
                            }
                        }
                    }
                }
            }
            block_types.push(block_type);
            if is_final {
                let used = reader.position + usize::from(reader.bit > 0);
                return if used == bytes.len() {
                    Ok((out, block_types))
                } else {
                    Err("bytes after the final block".into())
                };
            }
        }
    }

    fn zlib_decompress(bytes: &[u8]) -> Result<Vec<u8>, String> {
        if bytes.len() < 6
            || bytes[0] != 0x78
            || (u16::from(bytes[0]) << 8 | u16::from(bytes[1])) % 31 != 0
        {
            return Err("bad zlib header".into());
        }
        let out = inflate(&bytes[2..bytes.len() - 4])?;
        let trailer = &bytes[bytes.len() - 4..];
        if adler32(&out).to_be_bytes() != trailer {
            return Err("Adler-32 mismatch".into());
        }
        Ok(out)
    }

    /// Decodes a PNG written by [`encode_png`] back to RGBA, checking CRCs.
    fn decode_png(png: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
        if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Err("no PNG signature".into());
        }
        let mut at = 8;
        let (mut width, mut height) = (0, 0);
        let mut idat = Vec::new();
        let mut kinds = Vec::new();
        while at < png.len() {
            let length =
                u32::from_be_bytes(png[at..at + 4].try_into().map_err(|_| "short")?) as usize;
            let kind = &png[at + 4..at + 8];
            let data = &png[at + 8..at + 8 + length];
            let crc = u32::from_be_bytes(
                png[at + 8 + length..at + 12 + length]
                    .try_into()
                    .map_err(|_| "short")?,
            );
            if crc != crc32(&png[at + 4..at + 8 + length]) {
                return Err("chunk CRC mismatch".into());
            }
            match kind {
                b"IHDR" => {
                    width = u32::from_be_bytes(data[0..4].try_into().map_err(|_| "short")?);
                    height = u32::from_be_bytes(data[4..8].try_into().map_err(|_| "short")?);
                    if data[8..] != [8, 6, 0, 0, 0] {
                        return Err("unexpected IHDR".into());
                    }
                }
                b"IDAT" => idat.extend_from_slice(data),
                _ => {}
            }
            kinds.push(String::from_utf8_lossy(kind).into_owned());
            at += 12 + length;
        }
        if kinds != ["IHDR", "IDAT", "IEND"] {
            return Err(format!("chunks {kinds:?}"));
        }
        let filtered = zlib_decompress(&idat)?;
        let row_bytes = width as usize * 4;
        let mut rgba: Vec<u8> = Vec::with_capacity(row_bytes * height as usize);
        for (y, row) in filtered.chunks(row_bytes + 1).enumerate() {
            let start = y * row_bytes;
            for i in 0..row_bytes {
                let left = if i >= 4 { rgba[start + i - 4] } else { 0 };
                let up = if y > 0 {
                    rgba[start + i - row_bytes]
                } else {
                    0
                };
                let up_left = if y > 0 && i >= 4 {
                    rgba[start + i - row_bytes - 4]
                } else {
                    0
                };
                let predicted = match row[0] {
                    FILTER_NONE => 0,
                    FILTER_SUB => left,
                    FILTER_UP => up,
                    FILTER_AVERAGE => ((u16::from(left) + u16::from(up)) / 2) as u8,
                    FILTER_PAETH => paeth(left, up, up_left),
                    other => return Err(format!("bad filter {other}")),
                };
                rgba.push(row[1 + i].wrapping_add(predicted));
            }
        }
        Ok((width, height, rgba))
    }

    fn node(x: f32, y: f32, radius: f32, colour: [u8; 4]) -> SceneNode {
        SceneNode {
            position: [x, y],
            radius,
            colour,
            label: None,
            highlighted: false,
        }
    }

    fn pixel(rgba: &[u8], width: u32, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * width + x) * 4) as usize;
        [rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]]
    }

    /// A random graph shaped like a ForceAtlas2 layout: communities as
    /// Gaussian clusters, most edges to a near member of the same community,
    /// some between communities; radii grow with degree.
    fn random_scene(nodes: usize, edges: usize, seed: u64) -> Scene {
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

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(b""), 1);
        // Long input exercises the deferred modulo.
        let long = vec![0xFFu8; 100_000];
        let (mut a, mut b) = (1u64, 0u64);
        for &x in &long {
            a = (a + u64::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        assert_eq!(adler32(&long), ((b << 16) | a) as u32);
    }

    #[test]
    fn deflate_round_trips() {
        let mut rng = TestRng(0x1234_5678_9ABC_DEF1);
        let random: Vec<u8> = (0..100_000).map(|_| rng.next() as u8).collect();
        let runs: Vec<u8> = (0..200_000).map(|i| ((i / 1000) % 7) as u8).collect();
        let text = b"the quick brown fox jumps over the lazy dog; ".repeat(500);
        let mixed: Vec<u8> = (0..150_000u32)
            .map(|i| {
                if i % 97 < 40 {
                    (i % 13) as u8
                } else {
                    rng.next() as u8
                }
            })
            .collect();
        let far: Vec<u8> = random[..40_000]
            .iter()
            .chain(&random[..40_000])
            .copied()
            .collect();
        let inputs: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("one byte", vec![42]),
            ("two bytes", vec![1, 2]),
            ("zeros", vec![0; 70_000]),
            ("random", random.clone()),
            ("runs", runs),
            ("text", text.clone()),
            ("mixed", mixed),
            ("beyond the window", far),
        ];
        for (name, input) in &inputs {
            let compressed = deflate(input);
            assert_eq!(inflate(&compressed).as_ref(), Ok(input), "{name}");
            assert_eq!(
                zlib_decompress(&zlib_compress(input)).as_ref(),
                Ok(input),
                "{name} (zlib)"
            );
        }
        // Incompressible data falls back to stored blocks: tiny overhead.
        assert!(deflate(&random).len() < random.len() + random.len() / 1000 + 16);
        assert!(deflate(&text).len() < text.len() / 20);
        assert!(deflate(&[0u8; 70_000]).len() < 600);
    }

    #[test]
    fn deflate_round_trips_a_megabyte_of_image_rows() {
        let scene = random_scene(600, 1800, 7);
        let rgba = rasterise(&scene, 512, 512);
        assert_eq!(rgba.len(), 1 << 20);
        let filtered = filter_rows(&rgba, 512 * 4);
        for input in [&rgba, &filtered] {
            let compressed = deflate(input);
            assert!(
                compressed.len() < input.len() / 4,
                "{} of {}",
                compressed.len(),
                input.len()
            );
            assert_eq!(inflate(&compressed).as_ref(), Ok(input));
        }
    }

    #[test]
    fn png_decodes_back_to_the_pixels() {
        let scene = random_scene(300, 900, 11);
        let rgba = rasterise(&scene, 257, 129);
        let png = encode_png(&rgba, 257, 129);
        let png = png.as_deref().unwrap_or_default();
        assert_eq!(decode_png(png), Ok((257, 129, rgba)));

        let gradient: Vec<u8> = (0..64 * 48)
            .flat_map(|i| [(i % 64) as u8 * 4, (i / 64) as u8 * 5, 200, 255])
            .collect();
        let png = encode_png(&gradient, 64, 48);
        assert_eq!(
            decode_png(png.as_deref().unwrap_or_default()),
            Ok((64, 48, gradient))
        );
    }

    #[test]
    fn every_filter_type_decodes() {
        let mut rng = TestRng(99);
        let rgba: Vec<u8> = (0..16 * 4 * 5).map(|_| (rng.next() % 256) as u8).collect();
        let filtered = filter_rows(&rgba, 64);
        for filter in [
            FILTER_NONE,
            FILTER_SUB,
            FILTER_UP,
            FILTER_AVERAGE,
            FILTER_PAETH,
        ] {
            // Refilter every row with one type and check the decoder agrees.
            let mut forced = Vec::new();
            for (y, row) in rgba.chunks(64).enumerate() {
                forced.push(filter);
                for i in 0..64 {
                    let left = if i >= 4 { row[i - 4] } else { 0 };
                    let up = if y > 0 { rgba[(y - 1) * 64 + i] } else { 0 };
                    let up_left = if y > 0 && i >= 4 {
                        rgba[(y - 1) * 64 + i - 4]
                    } else {
                        0
                    };
                    let predicted = match filter {
                        FILTER_NONE => 0,
                        FILTER_SUB => left,
                        FILTER_UP => up,
                        FILTER_AVERAGE => ((u16::from(left) + u16::from(up)) / 2) as u8,
                        _ => paeth(left, up, up_left),
                    };
                    forced.push(row[i].wrapping_sub(predicted));
                }
            }
            let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
            let header: Vec<u8> = [16u32.to_be_bytes(), 5u32.to_be_bytes()]
                .concat()
                .into_iter()
                .chain([8, 6, 0, 0, 0])
                .collect();
            assert!(write_chunk(&mut png, b"IHDR", &header).is_ok());
            assert!(write_chunk(&mut png, b"IDAT", &zlib_compress(&forced)).is_ok());
            assert!(write_chunk(&mut png, b"IEND", &[]).is_ok());
            assert_eq!(
                decode_png(&png),
                Ok((16, 5, rgba.clone())),
                "filter {filter}"
            );
        }
        assert_eq!(filtered.len(), 5 * 65);
    }

    #[test]
    fn sparse_picture_compresses_well() {
        // 2,000 nodes and 6,000 edges; about a fifth of the pixels differ
        // from the background. Denser pictures of the same graph size reach
        // about 1.1 MB, as with zlib at level 9.
        let scene = random_scene(2000, 6000, 1);
        let rgba = rasterise(&scene, 1600, 1200);
        let drawn = rgba.chunks(4).filter(|p| *p != scene.background).count();
        assert!(
            (0.15..0.3).contains(&(drawn as f64 / (1600.0 * 1200.0))),
            "{drawn} pixels drawn"
        );
        let png = encode_png(&rgba, 1600, 1200).unwrap_or_default();
        assert!(png.len() < 800_000, "{} bytes", png.len());
        assert_eq!(decode_png(&png), Ok((1600, 1200, rgba)));
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(encode_png(&[], 0, 10).is_err());
        assert!(encode_png(&[], 10, 0).is_err());
        assert!(encode_png(&[0; 16], 2, 3).is_err());
        assert!(to_png(&Scene::default(), MAX_SIDE + 1, 1).is_err());
        assert!(rasterise(&Scene::default(), MAX_SIDE + 1, 1).is_empty());
        assert!(rasterise(&Scene::default(), 0, 5).is_empty());
        let error = encode_png(&[0; 16], 2, 3)
            .err()
            .unwrap_or(ExportError(String::new()));
        assert!(error.to_string().contains("24"), "{error}");
    }

    #[test]
    fn empty_scene_gives_valid_pictures() {
        let scene = Scene::default();
        let png = to_png(&scene, 8, 4).unwrap_or_default();
        let (_, _, rgba) = decode_png(&png).unwrap_or_default();
        assert_eq!(rgba, [255u8; 8 * 4 * 4].to_vec());
        let svg = to_svg(&scene, 8, 4);
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 0);
    }

    #[test]
    fn node_at_the_centre_is_drawn_and_corners_stay_background() {
        let red = [255, 0, 0, 255];
        let scene = Scene {
            nodes: vec![node(3.0, -7.0, 10.0, red)],
            ..Scene::default()
        };
        let rgba = rasterise(&scene, 100, 80);
        assert_eq!(rgba.len(), 100 * 80 * 4);
        assert_eq!(pixel(&rgba, 100, 50, 40), red);
        assert_eq!(pixel(&rgba, 100, 0, 0), scene.background);
        assert_eq!(pixel(&rgba, 100, 99, 79), scene.background);
        // Anti-aliasing: some pixels on the rim are between red and white.
        let partial = rgba
            .chunks(4)
            .filter(|p| p[0] == 255 && p[1] > 20 && p[1] < 235)
            .count();
        assert!(partial >= 8, "{partial} partly covered pixels");
        // The disc has about the right area (π·10² ≈ 314 pixels of red).
        let covered: f32 = rgba.chunks(4).map(|p| 1.0 - f32::from(p[1]) / 255.0).sum();
        assert!((covered - 314.16).abs() < 6.0, "{covered}");
    }

    #[test]
    fn edge_colours_its_midpoint() {
        let black = [0, 0, 0, 255];
        let mut scene = Scene {
            nodes: vec![node(0.0, 0.0, 1.0, black), node(100.0, 0.0, 1.0, black)],
            edges: vec![(0, 1)],
            edge_colour: black,
            ..Scene::default()
        };
        let rgba = rasterise(&scene, 201, 101);
        assert_eq!(pixel(&rgba, 201, 100, 50), black);
        assert_eq!(pixel(&rgba, 201, 100, 45), scene.background);
        // Between pixel rows the line is shared, at half strength each.
        let rgba = rasterise(&scene, 200, 100);
        let [upper, lower] = [pixel(&rgba, 200, 100, 49)[0], pixel(&rgba, 200, 100, 50)[0]];
        assert!(
            (110..=145).contains(&upper) && (110..=145).contains(&lower),
            "{upper} {lower}"
        );
        // A diagonal edge, and one with a translucent colour.
        scene.nodes[1].position = [100.0, 80.0];
        scene.edge_colour = [0, 0, 255, 128];
        let rgba = rasterise(&scene, 300, 300);
        let (positions, _) = fit(&scene, 300, 300, picture_margin(300, 300));
        let middle = [
            (positions[0][0] + positions[1][0]) / 2.0,
            (positions[0][1] + positions[1][1]) / 2.0,
        ];
        let [r, g, b, a] = pixel(&rgba, 300, middle[0] as u32, middle[1] as u32);
        assert!(b == 255 && r < 200 && r == g && a == 255, "{r} {g} {b} {a}");
    }

    #[test]
    fn broken_positions_and_edges_are_skipped() {
        let red = [255, 0, 0, 255];
        let scene = Scene {
            nodes: vec![
                node(0.0, 0.0, 1.0, red),
                node(f32::NAN, 1.0, 1.0, red),
                node(f32::INFINITY, 0.0, 1.0, red),
                node(10.0, 5.0, 1.0, red),
            ],
            edges: vec![(0, 1), (2, 3), (0, 99), (99, 98), (3, 3), (0, 3)],
            ..Scene::default()
        };
        let svg = to_svg(&scene, 200, 100);
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(svg.matches('M').count(), 1, "{svg}");
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert_eq!(rasterise(&scene, 200, 100).len(), 200 * 100 * 4);
        let (positions, scale) = fit(&scene, 200, 100, 10.0);
        assert!(positions[1][0].is_nan() && positions[2][0].is_nan());
        assert!(scale.is_finite() && scale > 0.0);

        let all_broken = Scene {
            nodes: vec![node(f32::NAN, 0.0, 1.0, red)],
            edges: vec![(0, 0)],
            ..Scene::default()
        };
        assert_eq!(to_svg(&all_broken, 10, 10).matches("<circle").count(), 0);
        assert!(to_png(&all_broken, 10, 10).is_ok());
    }

    #[test]
    fn svg_has_circles_rings_escaped_labels_and_view_box() {
        let mut scene = random_scene(50, 80, 5);
        scene.nodes[7].label = Some(r#"a<b & c>"d" 'e'"#.into());
        scene.nodes[8].label = Some("bell\u{7}".into());
        scene.title = Some("Title & <more>".into());
        let highlighted = scene.nodes.iter().filter(|n| n.highlighted).count();
        assert!(highlighted > 0);
        let svg = to_svg(&scene, 640, 480);
        assert_eq!(svg.matches("<circle").count(), 50 + highlighted);
        assert!(svg.contains(r#"viewBox="0 0 640 480""#));
        assert!(svg.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
        assert!(svg.contains("a&lt;b &amp; c&gt;&quot;d&quot; &apos;e&apos;"));
        assert!(svg.contains("bell\u{FFFD}"));
        assert!(svg.contains(">Title &amp; &lt;more&gt;</text>"));
        assert!(!svg.contains("<b") && !svg.contains("<more"));
        assert_eq!(svg.matches("<path").count(), 1);
        assert_eq!(svg, to_svg(&scene, 640, 480), "deterministic");

        let big = random_scene(3000, 2500, 1);
        let svg = to_svg(&big, 800, 600);
        assert_eq!(svg.matches("<path").count(), 3);
        assert_eq!(
            svg.matches('M').count(),
            big.edges.iter().filter(|(a, b)| a != b).count()
        );
    }

    #[test]
    fn numbers_are_short_and_never_negative_zero() {
        assert_eq!(Decimal(12.0, 1).to_string(), "12");
        assert_eq!(Decimal(12.25, 1).to_string(), "12.2");
        assert_eq!(Decimal(-0.01, 1).to_string(), "0");
        assert_eq!(Decimal(0.5, 3).to_string(), "0.5");
        assert_eq!(Decimal(f32::NAN, 1).to_string(), "0");
        assert_eq!(OpacityAttribute("fill-opacity", 255).to_string(), "");
        assert_eq!(
            OpacityAttribute("fill-opacity", 51).to_string(),
            r#" fill-opacity="0.2""#
        );
    }

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

    #[test]
    fn community_colours_are_distinct_and_stable() {
        let first: Vec<[u8; 4]> = (0..20).map(community_colour).collect();
        for (i, a) in first.iter().enumerate() {
            assert_eq!(a[3], 255);
            for b in first.iter().skip(i + 1).chain([&NO_COMMUNITY]) {
                let distance = a
                    .iter()
                    .zip(b)
                    .take(3)
                    .map(|(&x, &y)| (f32::from(x) - f32::from(y)).powi(2))
                    .sum::<f32>()
                    .sqrt();
                assert!(distance > 45.0, "{a:?} vs {b:?}");
            }
        }
        assert_eq!(first, (0..20).map(community_colour).collect::<Vec<_>>());
        assert_eq!(community_colour(0), [59, 111, 216, 255]);
        // Beyond the palette: golden-angle hues, all different for a while.
        let more: Vec<[u8; 4]> = (20..220).map(community_colour).collect();
        let mut unique = more.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), more.len());
        // The same community always gets the same colour (no hidden state),
        // and the largest id is a colour too.
        let again: Vec<[u8; 4]> = (20..220).map(community_colour).collect();
        assert_eq!(again, more);
        assert_eq!(community_colour(u32::MAX)[3], 255);
    }

    #[test]
    fn each_block_form_is_used_where_it_is_smallest() {
        let types = |input: &[u8]| {
            inflate_blocks(&deflate(input))
                .map(|(_, types)| types)
                .unwrap_or_default()
        };
        let mut rng = TestRng(5);
        let random: Vec<u8> = (0..200_000).map(|_| rng.next() as u8).collect();
        assert!(
            types(&random).iter().all(|&t| t == 0),
            "{:?}",
            types(&random)
        );
        assert_eq!(types(b"abc"), [1]);
        let image = filter_rows(&rasterise(&random_scene(400, 1200, 2), 400, 300), 1600);
        assert!(types(&image).contains(&2), "{:?}", types(&image));
        assert_eq!(types(&[]), [1]);
    }

    #[test]
    fn huffman_lengths_respect_the_limit_and_are_complete() {
        // Fibonacci counts make the deepest possible plain Huffman tree.
        let mut fibonacci = vec![1u32, 1];
        while fibonacci.len() < 30 {
            let next = fibonacci[fibonacci.len() - 1] + fibonacci[fibonacci.len() - 2];
            fibonacci.push(next);
        }
        for (counts, limit) in [
            (fibonacci.clone(), 15),
            (fibonacci[..19].to_vec(), 7),
            (vec![0, 0, 9, 0], 15),
            (vec![0; 10], 15),
            (vec![5; 286], 15),
        ] {
            let lengths = huffman_lengths(&counts, limit);
            assert!(lengths.iter().all(|&l| l <= limit), "{lengths:?}");
            assert!(lengths.iter().filter(|&&l| l > 0).count() >= 2);
            for (&count, &length) in counts.iter().zip(&lengths) {
                assert!(count == 0 || length > 0);
            }
            // Kraft: a complete prefix code fills the code space exactly.
            let space: u64 = lengths
                .iter()
                .filter(|&&l| l > 0)
                .map(|&l| 1u64 << (15 - l))
                .sum();
            assert_eq!(space, 1 << 15, "{lengths:?}");
        }
        assert_eq!(unlimited_huffman_lengths(&[1, 1, 2, 4]), [3, 3, 2, 1]);
    }

    #[test]
    fn canonical_codes_follow_the_rfc_example() {
        // RFC 1951 §3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) give codes
        // 010, 011, 100, 101, 110, 00, 1110, 1111.
        let codes = canonical_codes(&[3, 3, 3, 3, 3, 2, 4, 4]);
        let expected = [
            (0b010, 3),
            (0b011, 3),
            (0b100, 3),
            (0b101, 3),
            (0b110, 3),
            (0b00, 2),
            (0b1110, 4),
            (0b1111, 4),
        ];
        for (&(code, bits), &(want, want_bits)) in codes.iter().zip(&expected) {
            assert_eq!((reverse_bits(code, bits), bits), (want, want_bits));
        }
        assert_eq!(FIXED_LITERAL_CODES[0], (reverse_bits(0x30, 8), 8));
        assert_eq!(FIXED_LITERAL_CODES[END_OF_BLOCK], (0, 7));
    }

    #[test]
    fn code_length_runs_expand_back() {
        let lengths: Vec<u8> = [
            vec![0; 150],
            vec![8; 20],
            vec![0; 5],
            vec![7, 7, 7],
            vec![0, 0],
            vec![9; 4],
            vec![0; 12],
        ]
        .concat();
        let runs = run_length_encode(&lengths);
        let mut expanded: Vec<u8> = Vec::new();
        for &(symbol, extra) in &runs {
            let extra = usize::from(extra);
            match symbol {
                REPEAT_PREVIOUS => {
                    expanded.extend(vec![*expanded.last().unwrap_or(&99); 3 + extra])
                }
                REPEAT_ZERO_SHORT => expanded.extend(vec![0; 3 + extra]),
                REPEAT_ZERO_LONG => expanded.extend(vec![0; 11 + extra]),
                length => expanded.push(length),
            }
        }
        assert_eq!(expanded, lengths);
        assert!(runs.len() < 20, "{runs:?}");
    }

    #[test]
    fn lengths_and_distances_map_to_their_codes() {
        assert_eq!(length_code(3), 0);
        assert_eq!(length_code(10), 7);
        assert_eq!(length_code(11), 8);
        assert_eq!(length_code(12), 8);
        assert_eq!(length_code(257), 27);
        assert_eq!(length_code(258), 28);
        assert_eq!(distance_code(1), 0);
        assert_eq!(distance_code(4), 3);
        assert_eq!(distance_code(5), 4);
        assert_eq!(distance_code(24576), 28);
        assert_eq!(distance_code(24577), 29);
        assert_eq!(distance_code(32768), 29);
    }
}
