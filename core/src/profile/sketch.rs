//! Small summaries of large value sets: HyperLogLog (how many distinct values)
//! and MinHash (how much two value sets overlap).

use serde::{Deserialize, Serialize};

/// A 64-bit hash of a value's text, the same on every machine and run.
pub fn hash_value(text: &str) -> u64 {
    // FNV-1a, then a finaliser so that nearby strings spread over all bits.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// The splitmix64 finaliser (a bijective 64-bit mix).
pub(crate) fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Registers of the HyperLogLog: 2^12, a standard error of about 1.6%.
const HLL_BITS: u32 = 12;

/// A HyperLogLog distinct-count sketch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HyperLogLog {
    registers: Vec<u8>,
}

impl Default for HyperLogLog {
    fn default() -> Self {
        Self {
            registers: vec![0; 1 << HLL_BITS],
        }
    }
}

impl HyperLogLog {
    /// Adds a hashed value.
    pub fn add(&mut self, hash: u64) {
        let index = (hash >> (64 - HLL_BITS)) as usize;
        let rest = (hash << HLL_BITS) | (1 << (HLL_BITS - 1));
        let rank = rest.leading_zeros() as u8 + 1;
        if let Some(r) = self.registers.get_mut(index)
            && *r < rank
        {
            *r = rank;
        }
    }

    /// The estimated number of distinct values added.
    pub fn estimate(&self) -> u64 {
        let m = self.registers.len() as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self
            .registers
            .iter()
            .map(|r| 2f64.powi(-i32::from(*r)))
            .sum();
        let raw = alpha * m * m / sum;
        let zeros = self.registers.iter().filter(|r| **r == 0).count();
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            // Small ranges: linear counting is more accurate.
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        estimate.round() as u64
    }
}

/// Hash functions of a MinHash signature.
pub const MINHASH_SIZE: usize = 128;

/// The MinHash permutations (a odd, b), fixed for every run and machine.
fn permutations() -> &'static [(u64, u64); MINHASH_SIZE] {
    static PERMS: std::sync::OnceLock<[(u64, u64); MINHASH_SIZE]> = std::sync::OnceLock::new();
    PERMS.get_or_init(|| {
        let mut out = [(0u64, 0u64); MINHASH_SIZE];
        for (i, p) in out.iter_mut().enumerate() {
            let seed = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            *p = (
                mix(seed ^ 0xa076_1d64_78bd_642f) | 1,
                mix(seed ^ 0xe703_7ed1_a0b4_28db),
            );
        }
        out
    })
}

/// A MinHash signature of a value set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinHash {
    mins: Vec<u64>,
}

impl Default for MinHash {
    fn default() -> Self {
        Self {
            mins: vec![u64::MAX; MINHASH_SIZE],
        }
    }
}

impl MinHash {
    /// Adds a hashed value. Permutation `i` is `a_i * hash + b_i` (mod 2^64,
    /// `a_i` odd) followed by an xor-shift-multiply, so a value costs a few
    /// dozen nanoseconds.
    pub fn add(&mut self, hash: u64) {
        let perms = permutations();
        for (slot, (a, b)) in self.mins.iter_mut().zip(perms) {
            let mut h = a.wrapping_mul(hash).wrapping_add(*b);
            h ^= h >> 31;
            h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
            if h < *slot {
                *slot = h;
            }
        }
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.mins.iter().all(|m| *m == u64::MAX)
    }

    /// The estimated Jaccard similarity of the two value sets.
    pub fn jaccard(&self, other: &MinHash) -> f64 {
        if self.is_empty() || other.is_empty() || self.mins.len() != other.mins.len() {
            return 0.0;
        }
        let same = self
            .mins
            .iter()
            .zip(&other.mins)
            .filter(|(a, b)| a == b)
            .count();
        same as f64 / self.mins.len() as f64
    }

    /// The estimated share of this set's `distinct` values that the other set
    /// (with `other_distinct` values) also holds.
    pub fn containment_in(&self, other: &MinHash, distinct: u64, other_distinct: u64) -> f64 {
        let j = self.jaccard(other);
        if distinct == 0 {
            return 0.0;
        }
        let shared = j / (1.0 + j) * (distinct + other_distinct) as f64;
        (shared / distinct as f64).clamp(0.0, 1.0)
    }

    /// The signature's values (for LSH banding).
    pub fn values(&self) -> &[u64] {
        &self.mins
    }
}

/// Writes the 32-bit MinHash signature of hashed values into `out` (one slot
/// per permutation, at most [`MINHASH_SIZE`]): the high half of each
/// permutation's minimum, with the same permutations as [`MinHash`]. Half the
/// memory of a [`MinHash`], for millions of signatures (graph neighbourhoods).
pub fn minhash32(hashes: &[u64], out: &mut [u32]) {
    out.fill(u32::MAX);
    for &hash in hashes {
        for (slot, (a, b)) in out.iter_mut().zip(permutations()) {
            let mut h = a.wrapping_mul(hash).wrapping_add(*b);
            h ^= h >> 31;
            h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
            let v = (h >> 32) as u32;
            if v < *slot {
                *slot = v;
            }
        }
    }
}

/// The hash of a node or item number, for [`minhash32`].
pub fn hash_u64(value: u64) -> u64 {
    mix(value ^ 0x2545_f491_4f6c_dd1d)
}

/// Band keys of a 32-bit signature, as [`MinHash::band_keys`] does for 64-bit ones.
pub fn band_keys32(signature: &[u32], banding: Banding) -> impl Iterator<Item = u64> + '_ {
    (0..banding.bands).filter_map(move |band| {
        let values = signature.get(band * banding.rows..(band + 1) * banding.rows)?;
        let mut h = mix(band as u64 ^ 0x5bd1_e995);
        for v in values {
            h = mix(h ^ u64::from(*v));
        }
        Some(h)
    })
}

/// LSH banding of a MinHash signature: `bands` bands of `rows` values each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Banding {
    /// Bands (hash tables).
    pub bands: usize,
    /// Signature values per band.
    pub rows: usize,
}

/// Probability that two sets of Jaccard `s` share at least one band.
fn collision(s: f64, b: Banding) -> f64 {
    1.0 - (1.0 - s.powi(b.rows as i32)).powi(b.bands as i32)
}

/// Integral of `f` over [lo, hi] (Simpson's rule).
fn integrate(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let n = 200;
    let h = (hi - lo) / n as f64;
    let mut sum = f(lo) + f(hi);
    for i in 1..n {
        let x = lo + i as f64 * h;
        sum += if i % 2 == 1 { 4.0 } else { 2.0 } * f(x);
    }
    sum * h / 3.0
}

/// The banding of a `size`-value signature that, for a Jaccard `threshold`,
/// minimises the weighted area of false positives (pairs below the threshold
/// that collide) and false negatives (pairs above it that do not), as
/// datasketch chooses its LSH parameters.
pub fn optimal_banding(threshold: f64, size: usize, fp_weight: f64, fn_weight: f64) -> Banding {
    let mut best = Banding {
        bands: 1,
        rows: size,
    };
    let mut best_error = f64::INFINITY;
    for bands in 1..=size {
        for rows in 1..=size / bands {
            let b = Banding { bands, rows };
            let fp = integrate(|s| collision(s, b), 0.0, threshold);
            let fn_ = integrate(|s| 1.0 - collision(s, b), threshold, 1.0);
            let error = fp_weight * fp + fn_weight * fn_;
            if error < best_error {
                best_error = error;
                best = b;
            }
        }
    }
    best
}

impl MinHash {
    /// One key per band: the hash of the band's values, tagged with the band number.
    pub fn band_keys(&self, banding: Banding) -> Vec<u64> {
        (0..banding.bands)
            .filter_map(|band| {
                let values = self
                    .mins
                    .get(band * banding.rows..(band + 1) * banding.rows)?;
                let mut h = mix(band as u64 ^ 0x5bd1_e995);
                for v in values {
                    h = mix(h ^ v);
                }
                Some(h)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyperloglog_counts_within_a_few_percent() {
        for n in [10u64, 1_000, 100_000] {
            let mut h = HyperLogLog::default();
            for i in 0..n {
                h.add(hash_value(&format!("value-{i}")));
                h.add(hash_value(&format!("value-{i}")));
            }
            let e = h.estimate() as f64;
            let error = (e - n as f64).abs() / n as f64;
            assert!(error < 0.05, "{n}: estimated {e}");
        }
    }

    #[test]
    fn minhash_estimates_overlap_and_containment() {
        let (mut a, mut b, mut c) = (MinHash::default(), MinHash::default(), MinHash::default());
        for i in 0..1000 {
            a.add(hash_value(&i.to_string()));
        }
        for i in 500..1500 {
            b.add(hash_value(&i.to_string()));
        }
        for i in 0..200 {
            c.add(hash_value(&i.to_string()));
        }
        // |A∩B| = 500, |A∪B| = 1500.
        assert!(
            (a.jaccard(&b) - 1.0 / 3.0).abs() < 0.12,
            "{}",
            a.jaccard(&b)
        );
        // C is inside A.
        assert!(c.containment_in(&a, 200, 1000) > 0.8);
        assert!(a.containment_in(&c, 1000, 200) < 0.35);
        assert_eq!(MinHash::default().jaccard(&a), 0.0);
    }

    #[test]
    fn banding_follows_the_threshold() {
        let low = optimal_banding(0.3, MINHASH_SIZE, 0.5, 0.5);
        let high = optimal_banding(0.8, MINHASH_SIZE, 0.5, 0.5);
        assert!(low.bands * low.rows <= MINHASH_SIZE);
        // A lower threshold needs more, shorter bands.
        assert!(low.rows < high.rows, "{low:?} vs {high:?}");
        let mut a = MinHash::default();
        let mut b = MinHash::default();
        for i in 0..100 {
            a.add(hash_value(&i.to_string()));
            b.add(hash_value(&(i + 10).to_string()));
        }
        let shared = a
            .band_keys(low)
            .iter()
            .zip(b.band_keys(low))
            .filter(|(x, y)| **x == *y)
            .count();
        assert!(shared > 0, "sets with Jaccard 0.82 share a band");
    }
}
