//! Exporting the graph view as an SVG document or a PNG image.
//!
//! The graph panel hands over a [`Scene`]: node positions in layout
//! coordinates, radii, colours ([`palette`]), labels and edges.
//! [`fit()`] maps the layout into the picture with a margin, keeping the
//! aspect ratio. [`to_svg`] writes a standalone SVG document (the report
//! bundle embeds it as is); [`rasterise`] draws the same picture into RGBA
//! pixels with anti-aliased lines and discs, and its text in the window's
//! own font, and [`encode_png`] stores them as a PNG file with
//! the `png` crate.
//!
//! Nodes with a non-finite position are not drawn, nor are their edges;
//! edges naming a node that does not exist, and self-loops, are skipped.
//! Output is deterministic: the same scene gives the same bytes.

mod fit;
pub mod palette;
mod raster;
mod svg;
#[cfg(test)]
mod test_scenes;
mod text;

pub use fit::{fit, keep_fitting_labels};
pub use palette::{KEY_ENTRIES, NO_COMMUNITY, community_colour, community_key};
pub use raster::{encode_png, rasterise, to_png};
pub use svg::to_svg;

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
    /// Text written beside the node.
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
    /// Title written at the top-left.
    pub title: Option<String>,
    /// The colour key, written at the lower left: each entry's
    /// text beside a square of its colour (none when fully transparent).
    pub legend: Vec<(String, [u8; 4])>,
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
            legend: Vec::new(),
        }
    }
}

/// The largest width or height, in pixels, that can be rasterised or encoded.
pub const MAX_SIDE: u32 = 16384;

/// Why a picture could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A side of zero pixels.
    #[error("cannot export an empty picture ({width}×{height} pixels)")]
    Empty { width: u32, height: u32 },
    /// A side above [`MAX_SIDE`].
    #[error("picture of {width}×{height} pixels is too large (at most {MAX_SIDE} a side)")]
    TooLarge { width: u32, height: u32 },
    /// A pixel buffer that does not fit the size given.
    #[error(
        "{given} bytes of pixels given for a {width}×{height} RGBA picture, which needs {expected}"
    )]
    WrongLength {
        given: usize,
        width: u32,
        height: u32,
        expected: usize,
    },
    /// The PNG encoder failed.
    #[error("could not encode the PNG")]
    Png(#[from] png::EncodingError),
}
