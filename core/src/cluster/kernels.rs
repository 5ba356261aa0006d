//! The vector kernels every clustering and neighbour search uses: dot
//! products (one row against one or two) and the squared Euclidean distance.

// The kernels below are shaped for LLVM's vectorisers on x86-64 without
// target-cpu flags (SSE2), at opt-level 2 (dev builds: loop vectoriser
// only) and 3 (release: SLP vectoriser too). Measured with rustc 1.95: the
// whole-chunk loop must sit alone in a function that is never inlined, with
// 16 lanes per accumulator for one row against two and 32 for one against
// one. Near-identical shapes (8 lanes, two rows against two, the leftover
// values in the same function) compile to scalar or badly shuffled code at
// one of the two levels and run 3–5× slower.

/// `a · b`.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let whole = a.len().min(b.len()) / 32 * 32;
    let tail: f32 = a[whole..].iter().zip(&b[whole..]).map(|(x, y)| x * y).sum();
    dot_whole_chunks(a, b) + tail
}

#[inline(never)]
fn dot_whole_chunks(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 32];
    for (x, y) in a.chunks_exact(32).zip(b.chunks_exact(32)) {
        for l in 0..32 {
            lanes[l] += x[l] * y[l];
        }
    }
    lanes.iter().sum()
}

/// `‖a − b‖²`, the one squared-distance kernel of the crate: 32 lanes over
/// whole chunks, then the leftover values added in order. HDBSCAN's block
/// distances form their sums in exactly this order, so both give the same bits.
pub fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    let whole = a.len().min(b.len()) / 32 * 32;
    let mut sum = squared_whole_chunks(a, b);
    for (x, y) in a[whole..].iter().zip(&b[whole..]) {
        sum += (x - y) * (x - y);
    }
    sum
}

#[inline(never)]
fn squared_whole_chunks(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 32];
    for (x, y) in a.chunks_exact(32).zip(b.chunks_exact(32)) {
        for l in 0..32 {
            let difference = x[l] - y[l];
            lanes[l] += difference * difference;
        }
    }
    lanes.iter().sum()
}

/// `[a · b0, a · b1]`: one row against two, reading the row once. The
/// kernel of every distance computation.
pub fn dot_1x2(a: &[f32], b0: &[f32], b1: &[f32]) -> [f32; 2] {
    let whole = a.len().min(b0.len()).min(b1.len()) / 16 * 16;
    let [mut first, mut second] = dot_1x2_whole_chunks(a, b0, b1);
    for ((x, y0), y1) in a[whole..].iter().zip(&b0[whole..]).zip(&b1[whole..]) {
        first += x * y0;
        second += x * y1;
    }
    [first, second]
}

#[inline(never)]
fn dot_1x2_whole_chunks(a: &[f32], b0: &[f32], b1: &[f32]) -> [f32; 2] {
    let (mut first, mut second) = ([0f32; 16], [0f32; 16]);
    for ((x, y0), y1) in a
        .chunks_exact(16)
        .zip(b0.chunks_exact(16))
        .zip(b1.chunks_exact(16))
    {
        for l in 0..16 {
            first[l] += x[l] * y0[l];
            second[l] += x[l] * y1[l];
        }
    }
    [first.iter().sum(), second.iter().sum()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_match_the_plain_sums() {
        for n in [0usize, 1, 7, 31, 32, 33, 64, 100, 384] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let c: Vec<f32> = (0..n).map(|i| i as f32 / 100.0).collect();
            let close = |x: f32, y: f32| (x - y).abs() <= 1e-4 * (1.0 + y.abs());
            let plain_dot = |p: &[f32], q: &[f32]| p.iter().zip(q).map(|(x, y)| x * y).sum::<f32>();
            let plain_sq: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
            assert!(close(dot(&a, &b), plain_dot(&a, &b)), "dot, n = {n}");
            assert!(
                close(squared_distance(&a, &b), plain_sq),
                "distance, n = {n}"
            );
            let [ab, ac] = dot_1x2(&a, &b, &c);
            assert!(
                close(ab, plain_dot(&a, &b)) && close(ac, plain_dot(&a, &c)),
                "1x2, n = {n}"
            );
        }
        // Under 32 values the distance is the plain sum in order, bit for bit.
        let (a, b) = ([1.5f32, -2.25, 3.0], [0.5f32, 1.0, -1.0]);
        assert_eq!(
            squared_distance(&a, &b).to_bits(),
            (1.0f32 + 10.5625 + 16.0).to_bits()
        );
    }
}
