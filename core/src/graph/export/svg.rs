//! The scene as a standalone SVG document.

use std::fmt::{self, Write as _};

use super::Scene;
use super::fit::{
    EDGE_WIDTH, KEY_SQUARE, KeyBox, PlacedNode, Placement, RING_COLOUR, RING_WIDTH, TITLE_ORIGIN,
    TITLE_SIZE, label_origin,
};
use super::palette::text_colours;

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
    let labelled = placement.labelled();
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
                    Decimal(label_origin(placed)[0], 1),
                    Decimal(label_origin(placed)[1], 1),
                    XmlText(label),
                );
            }
            svg.push_str("</g>\n");
        }
    }

    if !scene.legend.is_empty() {
        // Without the reader's font to measure, text is taken as about 7 px
        // a character.
        let key = KeyBox::new(&scene.legend, height, |text| {
            7.0 * text.chars().count() as f32
        });
        let _ = writeln!(
            svg,
            r#"<g font-family="sans-serif" font-size="12"><rect x="{}" y="{}" width="{}" height="{}" rx="4" fill="{}" fill-opacity="0.85"/>"#,
            Decimal(key.left, 1),
            Decimal(key.top, 1),
            Decimal(key.width, 1),
            Decimal(key.height, 1),
            Hex(halo_colour),
        );
        for ((text, colour), (square, origin)) in scene.legend.iter().zip(&key.rows) {
            if colour[3] > 0 {
                let _ = writeln!(
                    svg,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" rx="2" fill="{}"{}/>"#,
                    Decimal(square[0], 1),
                    Decimal(square[1], 1),
                    Decimal(KEY_SQUARE, 0),
                    Decimal(KEY_SQUARE, 0),
                    Hex(*colour),
                    OpacityAttribute("fill-opacity", colour[3]),
                );
            }
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{}" fill="{}">{}</text>"#,
                Decimal(origin[0], 1),
                Decimal(origin[1], 1),
                Hex(text_colour),
                XmlText(text),
            );
        }
        svg.push_str("</g>\n");
    }

    if let Some(title) = scene.title.as_deref().filter(|t| !t.is_empty()) {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" font-family="sans-serif" font-size="{}" font-weight="bold" fill="{}">{}</text>"#,
            Decimal(TITLE_ORIGIN[0], 0),
            Decimal(TITLE_ORIGIN[1], 0),
            Decimal(TITLE_SIZE, 0),
            Hex(text_colour),
            XmlText(title),
        );
    }
    svg.push_str("</svg>\n");
    svg
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::export::test_scenes::{node, random_scene};
    use crate::graph::export::{fit, rasterise, to_png};

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
    fn the_colour_key_sits_at_the_lower_left() {
        let scene = Scene {
            legend: vec![
                ("community 3 · 12 nodes".into(), [255, 0, 0, 128]),
                ("… 2 more & <others>".into(), [0, 0, 0, 0]),
            ],
            ..Scene::default()
        };
        let svg = to_svg(&scene, 200, 100);
        let key = concat!(
            "<g font-family=\"sans-serif\" font-size=\"12\"><rect x=\"12\" y=\"40\" width=\"184\" height=\"48\" rx=\"4\" fill=\"#ffffff\" fill-opacity=\"0.85\"/>\n",
            "<rect x=\"20\" y=\"51\" width=\"10\" height=\"10\" rx=\"2\" fill=\"#ff0000\" fill-opacity=\"0.502\"/>\n",
            "<text x=\"34\" y=\"60\" fill=\"#222222\">community 3 · 12 nodes</text>\n",
            "<text x=\"34\" y=\"76\" fill=\"#222222\">… 2 more &amp; &lt;others&gt;</text>\n",
            "</g>\n",
        );
        assert!(svg.contains(key), "{svg}");
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
}
