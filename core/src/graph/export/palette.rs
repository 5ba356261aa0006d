//! Colours: one per community, the same in the window, SVG and PNG, and
//! text colours that read on a background.

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

/// Text and halo colours that read well on `background`.
pub(super) fn text_colours(background: [u8; 4]) -> ([u8; 4], [u8; 4]) {
    let [r, g, b, _] = background.map(f32::from);
    let luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    if luminance >= 128.0 {
        ([34, 34, 34, 255], [255, 255, 255, 255])
    } else {
        ([238, 238, 238, 255], [17, 17, 17, 255])
    }
}

/// Communities a colour key names; the rest are counted in one more line.
pub const KEY_ENTRIES: usize = 8;

/// The colour key of the communities shown (`members`: the community of
/// each node shown), largest first, ties by community number: each entry is
/// "community C · N nodes" and its colour; past [`KEY_ENTRIES`], one line
/// "… M more communities" without a colour.
pub fn community_key(members: impl IntoIterator<Item = u32>) -> Vec<(String, [u8; 4])> {
    let mut sizes = std::collections::BTreeMap::<u32, usize>::new();
    for community in members {
        *sizes.entry(community).or_default() += 1;
    }
    let mut by_size: Vec<(u32, usize)> = sizes.into_iter().collect();
    by_size.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut entries: Vec<(String, [u8; 4])> = by_size
        .iter()
        .take(KEY_ENTRIES)
        .map(|&(c, n)| {
            let noun = if n == 1 { "node" } else { "nodes" };
            (format!("community {c} · {n} {noun}"), community_colour(c))
        })
        .collect();
    if by_size.len() > KEY_ENTRIES {
        let rest = by_size.len() - KEY_ENTRIES;
        entries.push((format!("… {rest} more communities"), [0, 0, 0, 0]));
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_names_the_largest_communities_and_counts_the_rest() {
        let key = community_key([3, 1, 3, 2, 3, 1]);
        let expected = vec![
            ("community 3 · 3 nodes".to_string(), community_colour(3)),
            ("community 1 · 2 nodes".to_string(), community_colour(1)),
            ("community 2 · 1 node".to_string(), community_colour(2)),
        ];
        assert_eq!(key, expected);
        let many = community_key(0..20);
        assert_eq!(many.len(), KEY_ENTRIES + 1);
        assert_eq!(many[0].0, "community 0 · 1 node");
        assert_eq!(
            many[KEY_ENTRIES],
            ("… 12 more communities".to_string(), [0, 0, 0, 0])
        );
        assert!(community_key([]).is_empty());
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
}
