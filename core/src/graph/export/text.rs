//! Text for rasterised pictures: the window's own font (Ubuntu Light, from
//! egui's default fonts) turned into coverage masks, so that a PNG carries
//! the labels, colour key and title that the window and the SVG show.
//!
//! Glyph outlines come from `skrifa`, unhinted, at the pixel size asked for.
//! Curves are flattened into line segments, and the segments are filled with
//! the non-zero winding rule: four sample rows per pixel, each crossing the
//! outline at exact horizontal positions, so horizontal coverage is exact and
//! vertical coverage comes in quarters. That is plenty for 12–16 px text.

use skrifa::instance::{LocationRef, Size};
use skrifa::outline::{DrawSettings, OutlinePen};
use skrifa::{FontRef, GlyphId, MetadataProvider};

/// Sample rows per pixel row.
const SAMPLE_ROWS: usize = 4;

/// A font ready to measure and draw text.
pub(super) struct Typeface {
    font: FontRef<'static>,
}

/// How much of each pixel a piece of text covers, over the pixels it touches.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Mask {
    /// Pixel column of the mask's first column (may be negative).
    pub(super) left: i64,
    /// Pixel row of the mask's first row (may be negative).
    pub(super) top: i64,
    pub(super) width: usize,
    pub(super) height: usize,
    /// Coverage in 0..=1, row-major.
    pub(super) coverage: Vec<f32>,
}

impl Typeface {
    /// The window's proportional font; `None` only if the font data could
    /// not be read, which would be a build fault.
    pub(super) fn ui() -> Option<Self> {
        FontRef::new(epaint_default_fonts::UBUNTU_LIGHT)
            .ok()
            .map(|font| Typeface { font })
    }

    /// The advance width of `text` at `size` pixels (no kerning).
    pub(super) fn width(&self, text: &str, size: f32) -> f32 {
        let metrics = self
            .font
            .glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .map(|ch| metrics.advance_width(self.glyph(ch)).unwrap_or(0.0))
            .sum()
    }

    /// Ascent and descent at `size` pixels, both positive.
    #[cfg(test)]
    pub(super) fn extent(&self, size: f32) -> (f32, f32) {
        let metrics = self.font.metrics(Size::new(size), LocationRef::default());
        (metrics.ascent, -metrics.descent)
    }

    /// The coverage of `text` at `size` pixels with its baseline starting at
    /// `origin` (pixels, y down), grown by `spread` pixels all round (a halo:
    /// each pixel takes the largest coverage within `spread` of it).
    /// `None` when nothing would be drawn (empty or blank text).
    pub(super) fn mask(
        &self,
        text: &str,
        size: f32,
        origin: [f32; 2],
        spread: usize,
    ) -> Option<Mask> {
        let outlines = self.font.outline_glyphs();
        let metrics = self
            .font
            .glyph_metrics(Size::new(size), LocationRef::default());
        let mut pen = Flattener {
            origin,
            segments: Vec::new(),
            start: [0.0; 2],
            current: [0.0; 2],
        };
        for ch in text.chars() {
            let glyph = self.glyph(ch);
            if let Some(outline) = outlines.get(glyph) {
                // A glyph that cannot be drawn is left blank; its advance keeps
                // the rest of the text in place.
                let settings = DrawSettings::unhinted(Size::new(size), LocationRef::default());
                let _ = outline.draw(settings, &mut pen);
            }
            pen.origin[0] += metrics.advance_width(glyph).unwrap_or(0.0);
        }
        let mask = fill(&pen.segments)?;
        Some(if spread == 0 {
            mask
        } else {
            grow(&mask, spread)
        })
    }

    /// The glyph for a character: the font's own, or its "missing" box.
    fn glyph(&self, ch: char) -> GlyphId {
        let ch = if ch.is_control() { ' ' } else { ch };
        self.font.charmap().map(ch).unwrap_or(GlyphId::NOTDEF)
    }
}

/// A straight piece of outline, in pixels (y down).
type Segment = ([f32; 2], [f32; 2]);

/// Collects a glyph's outline as straight segments in picture pixels.
struct Flattener {
    /// Where the glyph's origin lies in the picture.
    origin: [f32; 2],
    segments: Vec<Segment>,
    start: [f32; 2],
    current: [f32; 2],
}

impl Flattener {
    /// A font point (y up, relative to the glyph origin) in picture pixels.
    fn place(&self, x: f32, y: f32) -> [f32; 2] {
        [self.origin[0] + x, self.origin[1] - y]
    }

    fn segment_to(&mut self, to: [f32; 2]) {
        if to != self.current {
            self.segments.push((self.current, to));
        }
        self.current = to;
    }

    /// A curve through its control points, as enough straight pieces that
    /// none strays more than a fraction of a pixel.
    fn flatten_curve(&mut self, controls: &[[f32; 2]]) {
        let from = self.current;
        let reach: f32 = std::iter::once(from)
            .chain(controls.iter().copied())
            .collect::<Vec<_>>()
            .windows(2)
            .map(|pair| (pair[1][0] - pair[0][0]).hypot(pair[1][1] - pair[0][1]))
            .sum();
        let pieces = (reach / 2.0).ceil().clamp(1.0, 16.0) as usize;
        for step in 1..=pieces {
            let t = step as f32 / pieces as f32;
            self.segment_to(bezier_point(from, controls, t));
        }
    }
}

/// The point at `t` of the Bézier curve from `from` through `controls`
/// (de Casteljau).
fn bezier_point(from: [f32; 2], controls: &[[f32; 2]], t: f32) -> [f32; 2] {
    let mut points: Vec<[f32; 2]> = std::iter::once(from)
        .chain(controls.iter().copied())
        .collect();
    while points.len() > 1 {
        points = points
            .windows(2)
            .map(|pair| {
                [
                    pair[0][0] + (pair[1][0] - pair[0][0]) * t,
                    pair[0][1] + (pair[1][1] - pair[0][1]) * t,
                ]
            })
            .collect();
    }
    points.first().copied().unwrap_or(from)
}

impl OutlinePen for Flattener {
    fn move_to(&mut self, x: f32, y: f32) {
        self.close();
        self.start = self.place(x, y);
        self.current = self.start;
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let to = self.place(x, y);
        self.segment_to(to);
    }

    fn quad_to(&mut self, cx0: f32, cy0: f32, x: f32, y: f32) {
        let controls = [self.place(cx0, cy0), self.place(x, y)];
        self.flatten_curve(&controls);
    }

    fn curve_to(&mut self, cx0: f32, cy0: f32, cx1: f32, cy1: f32, x: f32, y: f32) {
        let controls = [self.place(cx0, cy0), self.place(cx1, cy1), self.place(x, y)];
        self.flatten_curve(&controls);
    }

    fn close(&mut self) {
        let start = self.start;
        self.segment_to(start);
    }
}

/// The coverage of the closed outline made of `segments` (non-zero rule);
/// `None` for an empty outline.
fn fill(segments: &[Segment]) -> Option<Mask> {
    let finite = |p: &[f32; 2]| p[0].is_finite() && p[1].is_finite();
    let segments: Vec<Segment> = segments
        .iter()
        .filter(|(a, b)| finite(a) && finite(b) && a[1] != b[1])
        .copied()
        .collect();
    let (mut low, mut high) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
    for point in segments.iter().flat_map(|(a, b)| [a, b]) {
        for axis in 0..2 {
            low[axis] = low[axis].min(point[axis]);
            high[axis] = high[axis].max(point[axis]);
        }
    }
    if segments.is_empty() {
        return None;
    }
    let (left, top) = (low[0].floor(), low[1].floor());
    let width = (high[0].ceil() - left) as usize;
    let height = (high[1].ceil() - top) as usize;
    let mut coverage = vec![0.0f32; width * height];
    let mut crossings: Vec<(f32, i32)> = Vec::new();
    for (row, pixels) in coverage.chunks_mut(width.max(1)).enumerate() {
        for sample in 0..SAMPLE_ROWS {
            let y = top + row as f32 + (sample as f32 + 0.5) / SAMPLE_ROWS as f32;
            crossings.clear();
            for &(a, b) in &segments {
                let (upper, lower, winding) = if a[1] < b[1] { (a, b, 1) } else { (b, a, -1) };
                if upper[1] <= y && y < lower[1] {
                    let along = (y - upper[1]) / (lower[1] - upper[1]);
                    let x = upper[0] + (lower[0] - upper[0]) * along;
                    crossings.push((x - left, winding));
                }
            }
            crossings.sort_by(|p, q| p.0.total_cmp(&q.0));
            let mut winding = 0;
            for pair in crossings.windows(2) {
                winding += pair[0].1;
                if winding != 0 {
                    add_span(pixels, pair[0].0, pair[1].0, 1.0 / SAMPLE_ROWS as f32);
                }
            }
        }
    }
    for value in &mut coverage {
        *value = value.min(1.0);
    }
    Some(Mask {
        left: left as i64,
        top: top as i64,
        width,
        height,
        coverage,
    })
}

/// Adds `weight` times the overlap of `[from, to)` with each pixel of a row.
fn add_span(row: &mut [f32], from: f32, to: f32, weight: f32) {
    if to <= from {
        return;
    }
    let first = from.floor().max(0.0) as usize;
    let last = (to.ceil().max(0.0) as usize).min(row.len());
    for (column, value) in row.iter_mut().enumerate().take(last).skip(first) {
        let overlap = to.min(column as f32 + 1.0) - from.max(column as f32);
        if overlap > 0.0 {
            *value += weight * overlap;
        }
    }
}

/// The mask grown by `spread` pixels: each pixel takes the largest coverage
/// within `spread` columns and rows of it.
fn grow(mask: &Mask, spread: usize) -> Mask {
    let width = mask.width + 2 * spread;
    let height = mask.height + 2 * spread;
    let source = |x: usize, y: usize| -> f32 {
        let inside = (spread..spread + mask.width).contains(&x)
            && (spread..spread + mask.height).contains(&y);
        if inside {
            mask.coverage[(y - spread) * mask.width + x - spread]
        } else {
            0.0
        }
    };
    let mut coverage = vec![0.0f32; width * height];
    for y in 0..height {
        for x in 0..width {
            let mut most = 0.0f32;
            for near_y in y.saturating_sub(spread)..=(y + spread).min(height - 1) {
                for near_x in x.saturating_sub(spread)..=(x + spread).min(width - 1) {
                    most = most.max(source(near_x, near_y));
                }
            }
            coverage[y * width + x] = most;
        }
    }
    Mask {
        left: mask.left - spread as i64,
        top: mask.top - spread as i64,
        width,
        height,
        coverage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A closed rectangle from (x0, y0) to (x1, y1), clockwise when
    /// `clockwise`, as segments.
    fn rectangle(x0: f32, y0: f32, x1: f32, y1: f32, clockwise: bool) -> Vec<Segment> {
        let corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
        let mut segments: Vec<Segment> =
            (0..4).map(|i| (corners[i], corners[(i + 1) % 4])).collect();
        if !clockwise {
            segments = segments.into_iter().rev().map(|(a, b)| (b, a)).collect();
        }
        segments
    }

    #[test]
    fn a_rectangle_covers_whole_and_half_pixels_exactly() -> Result<(), Box<dyn std::error::Error>>
    {
        let mask = fill(&rectangle(2.0, 1.0, 5.0, 3.0, true)).ok_or("no mask")?;
        assert_eq!((mask.left, mask.top, mask.width, mask.height), (2, 1, 3, 2));
        assert_eq!(mask.coverage, vec![1.0; 6]);
        // Half a pixel in on the left, a quarter of a pixel row at the bottom.
        let mask = fill(&rectangle(0.5, 0.0, 2.0, 1.25, false)).ok_or("no mask")?;
        assert_eq!((mask.left, mask.top, mask.width, mask.height), (0, 0, 2, 2));
        assert_eq!(mask.coverage, vec![0.5, 1.0, 0.125, 0.25]);
        assert_eq!(fill(&[]), None);
        Ok(())
    }

    #[test]
    fn winding_decides_holes() -> Result<(), Box<dyn std::error::Error>> {
        // An inner square turning the other way is a hole (as in "o").
        let mut ring = rectangle(0.0, 0.0, 4.0, 4.0, true);
        ring.extend(rectangle(1.0, 1.0, 3.0, 3.0, false));
        let mask = fill(&ring).ok_or("no mask")?;
        #[rustfmt::skip]
        let expected = vec![
            1.0, 1.0, 1.0, 1.0,
            1.0, 0.0, 0.0, 1.0,
            1.0, 0.0, 0.0, 1.0,
            1.0, 1.0, 1.0, 1.0,
        ];
        assert_eq!(mask.coverage, expected);
        // Turning the same way, it is filled (non-zero rule), never above 1.
        let mut nested = rectangle(0.0, 0.0, 4.0, 4.0, true);
        nested.extend(rectangle(1.0, 1.0, 3.0, 3.0, true));
        assert_eq!(fill(&nested).ok_or("no mask")?.coverage, vec![1.0; 16]);
        Ok(())
    }

    #[test]
    fn a_halo_grows_the_mask_by_its_spread() -> Result<(), Box<dyn std::error::Error>> {
        let dot = fill(&rectangle(3.0, 3.0, 4.0, 4.0, true)).ok_or("no mask")?;
        let halo = grow(&dot, 1);
        assert_eq!((halo.left, halo.top, halo.width, halo.height), (2, 2, 3, 3));
        assert_eq!(halo.coverage, vec![1.0; 9]);
        Ok(())
    }

    #[test]
    fn text_is_measured_and_drawn_with_the_window_font() -> Result<(), Box<dyn std::error::Error>> {
        let face = Typeface::ui().ok_or("font")?;
        let (ascent, descent) = face.extent(12.0);
        assert!(
            (10.0..12.5).contains(&ascent) && (1.5..3.5).contains(&descent),
            "{ascent} {descent}"
        );
        let width = face.width("Lakebook", 12.0);
        assert!((40.0..60.0).contains(&width), "{width}");
        assert_eq!(
            face.width("ab", 12.0),
            face.width("a", 12.0) + face.width("b", 12.0)
        );
        assert_eq!(face.width("", 12.0), 0.0);
        assert_eq!(face.mask(" ", 12.0, [0.0, 0.0], 0), None);

        // "I" is one upright stem: drawn above the baseline, starting near
        // the origin, with fully covered pixels in its middle.
        let stem = face.mask("I", 12.0, [10.0, 20.0], 0).ok_or("no mask")?;
        assert!(
            stem.top >= 20 - 10 && stem.top + stem.height as i64 <= 20,
            "{stem:?}"
        );
        assert!((10..13).contains(&stem.left) && stem.width <= 3, "{stem:?}");
        let middle_row = &stem.coverage[stem.width * (stem.height / 2)..][..stem.width];
        let ink: f32 = middle_row.iter().sum();
        assert!((0.8..2.0).contains(&ink), "{middle_row:?}");

        // The mask spans the measured width, and a missing glyph draws its box.
        let word = face
            .mask("Lakebook", 12.0, [0.0, 12.0], 0)
            .ok_or("no mask")?;
        assert!(
            (word.width as f32 - width).abs() < 3.0,
            "{} vs {width}",
            word.width
        );
        assert!(face.mask("\u{10fff0}", 12.0, [0.0, 12.0], 0).is_some());
        Ok(())
    }
}
