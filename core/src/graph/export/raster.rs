//! The scene drawn into RGBA pixels, and pixels encoded as PNG.

use super::fit::{
    EDGE_WIDTH, KEY_SQUARE, KeyBox, LABEL_SIZE, Placement, RING_COLOUR, RING_WIDTH, TITLE_ORIGIN,
    TITLE_SIZE, label_origin,
};
use super::palette::text_colours;
use super::text::{Mask, Typeface};
use super::{ExportError, MAX_SIDE, Scene};

/// The scene as `width`×`height` RGBA pixels (row-major, straight alpha):
/// the background, edges, discs, rings around highlighted nodes, then the
/// labels (each on a halo of the background colour), the colour key and the
/// title, written in the window's font as the SVG places them.
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
    if let Some(face) = Typeface::ui() {
        write_text(&mut canvas, &face, scene, &placement, height);
    }
    canvas.pixels
}

/// The labels, colour key and title.
fn write_text(
    canvas: &mut Canvas,
    face: &Typeface,
    scene: &Scene,
    placement: &Placement<'_>,
    height: u32,
) {
    let (text_colour, halo_colour) = text_colours(scene.background);
    let labels: Vec<(&str, [f32; 2])> = placement
        .labelled()
        .into_iter()
        .map(|(placed, label)| (label, label_origin(placed)))
        .collect();
    // Every halo first, so that no halo covers a neighbour's text.
    for &(label, origin) in &labels {
        if let Some(halo) = face.mask(label, LABEL_SIZE, origin, 1) {
            canvas.mask(&halo, halo_colour);
        }
    }
    for &(label, origin) in &labels {
        if let Some(text) = face.mask(label, LABEL_SIZE, origin, 0) {
            canvas.mask(&text, text_colour);
        }
    }

    if !scene.legend.is_empty() {
        let key = KeyBox::new(&scene.legend, height, |text| face.width(text, LABEL_SIZE));
        let mut backing = halo_colour;
        backing[3] = (f32::from(backing[3]) * 0.85).round() as u8;
        canvas.rectangle([key.left, key.top], [key.width, key.height], backing);
        for ((text, colour), &(square, origin)) in scene.legend.iter().zip(&key.rows) {
            canvas.rectangle(square, [KEY_SQUARE; 2], *colour);
            if let Some(text) = face.mask(text, LABEL_SIZE, origin, 0) {
                canvas.mask(&text, text_colour);
            }
        }
    }

    if let Some(title) = scene.title.as_deref()
        && let Some(text) = face.mask(title, TITLE_SIZE, TITLE_ORIGIN, 0)
    {
        canvas.mask(&text, text_colour);
    }
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

    /// `colour` blended over the pixels a text mask covers, by its coverage.
    fn mask(&mut self, mask: &Mask, colour: [u8; 4]) {
        for (row, coverage) in mask.coverage.chunks(mask.width.max(1)).enumerate() {
            let Ok(y) = usize::try_from(mask.top + row as i64) else {
                continue;
            };
            if y >= self.height {
                break;
            }
            for (column, &amount) in coverage.iter().enumerate() {
                if let Ok(x) = usize::try_from(mask.left + column as i64) {
                    self.blend(x, y, colour, amount);
                }
            }
        }
    }

    /// An axis-aligned rectangle from `corner` of the given `size`, with
    /// partly covered pixels on its edges.
    fn rectangle(&mut self, corner: [f32; 2], size: [f32; 2], colour: [u8; 4]) {
        let far = [corner[0] + size[0], corner[1] + size[1]];
        let Some((x_first, x_last)) = pixel_span(corner[0], far[0], self.width) else {
            return;
        };
        let Some((y_first, y_last)) = pixel_span(corner[1], far[1], self.height) else {
            return;
        };
        let overlap = |pixel: usize, low: f32, high: f32| {
            (high.min(pixel as f32 + 1.0) - low.max(pixel as f32)).clamp(0.0, 1.0)
        };
        for y in y_first..=y_last {
            let vertical = overlap(y, corner[1], far[1]);
            for x in x_first..=x_last {
                let coverage = vertical * overlap(x, corner[0], far[0]);
                if coverage > 0.0 {
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

/// The scene rasterised ([`rasterise`]) and encoded as PNG ([`encode_png`]).
pub fn to_png(scene: &Scene, width: u32, height: u32) -> Result<Vec<u8>, ExportError> {
    check_size(width, height)?;
    encode_png(&rasterise(scene, width, height), width, height)
}

/// Rejects sides of zero or above [`MAX_SIDE`].
fn check_size(width: u32, height: u32) -> Result<(), ExportError> {
    if width == 0 || height == 0 {
        return Err(ExportError::Empty { width, height });
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(ExportError::TooLarge { width, height });
    }
    Ok(())
}

/// RGBA pixels (row-major, 8 bits a channel) encoded as a PNG file (8-bit
/// RGBA, adaptive row filters, the `png` crate's strongest compression).
pub fn encode_png(rgba: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ExportError> {
    check_size(width, height)?;
    let expected = width as usize * height as usize * 4;
    if rgba.len() != expected {
        return Err(ExportError::WrongLength {
            given: rgba.len(),
            width,
            height,
            expected,
        });
    }
    let mut file = Vec::new();
    let mut encoder = png::Encoder::new(&mut file, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    encoder.set_filter(png::Filter::Adaptive);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgba)?;
    writer.finish()?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::export::fit::picture_margin;
    use crate::graph::export::test_scenes::{decode_png, node, pixel, random_scene};
    use crate::graph::export::{fit, to_svg};

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
        let error = encode_png(&[0; 16], 2, 3).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("16 bytes of pixels given for a 2×3 RGBA picture, which needs 24")
        );
        let error = to_png(&Scene::default(), 20_000, 5)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("picture of 20000×5 pixels is too large (at most 16384 a side)")
        );
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
    fn labels_key_and_title_are_written_where_the_svg_puts_them() {
        let key_colour = crate::graph::export::community_colour(1);
        let bare = Scene {
            nodes: vec![node(0.0, 0.0, 5.0, [120, 120, 120, 255])],
            ..Scene::default()
        };
        let mut written = bare.clone();
        written.nodes[0].label = Some("Label".into());
        written.legend = vec![("community 1 · 3 nodes".into(), key_colour)];
        written.title = Some("Title".into());
        let (plain, text) = (rasterise(&bare, 300, 200), rasterise(&written, 300, 200));

        // The node sits at (150, 100) with a 5 px radius: its label's
        // baseline starts at (158, 104). The key is one line at the lower
        // left (box from y = 156); the title's baseline starts at (12, 24).
        let label = |x: u32, y: u32| (156..200).contains(&x) && (90..108).contains(&y);
        let key = |x: u32, y: u32| (12..200).contains(&x) && (156..188).contains(&y);
        let title = |x: u32, y: u32| (10..60).contains(&x) && (7..30).contains(&y);
        let mut changed = [0usize; 3];
        let mut darkest_label = 255u8;
        for y in 0..200 {
            for x in 0..300 {
                let (before, after) = (pixel(&plain, 300, x, y), pixel(&text, 300, x, y));
                if before == after {
                    continue;
                }
                let region = [label(x, y), key(x, y), title(x, y)];
                assert!(region.contains(&true), "pixel ({x}, {y}) changed");
                for (count, inside) in changed.iter_mut().zip(region) {
                    *count += usize::from(inside);
                }
                if label(x, y) {
                    darkest_label = darkest_label.min(after[0]);
                }
            }
        }
        assert!(changed.iter().all(|&n| n >= 20), "{changed:?}");
        // Text in the text colour (34, 34, 34) somewhere in the label.
        assert!(darkest_label <= 60, "{darkest_label}");
        // The key's square, 10 px from (20, 167): whole pixels in its colour.
        assert_eq!(pixel(&text, 300, 25, 172), key_colour);
        assert_eq!(pixel(&text, 300, 20, 167), key_colour);
        // The backdrop: white at 85% over white stays white.
        assert_eq!(pixel(&text, 300, 14, 158), [255, 255, 255, 255]);
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
}
