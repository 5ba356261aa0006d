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

/// The splitmix64 finaliser.
fn mix(mut x: u64) -> u64 {
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
    /// Adds a hashed value.
    pub fn add(&mut self, hash: u64) {
        for (i, slot) in self.mins.iter_mut().enumerate() {
            let h = mix(hash ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
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
}
