//! A mergeable log-linear histogram of `u64` values (microseconds, token counts, milli-tokens/s).
//!
//! It owns bucketing, merging and percentile lookup with a bounded relative error (≤ 0.1 % at the
//! bucket midpoint, exact below 1024), so per-event data never needs an unbounded sample vector.
//! It does not know units: callers record integers and scale when they summarise.

use super::percentiles::{self, MAX, Percentiles};
use crate::util::decimals::round;
use std::ops::AddAssign;

/// Mantissa bits: values below 2^P are stored exactly; above, each power of two has 2^(P-1) buckets.
const P: u32 = 10;
const EXACT: u64 = 1 << P;
const HALF: u64 = 1 << (P - 1);

/// Counts of values in log-linear buckets plus exact count, sum, min and max.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    counts: Vec<u64>,
    count: u64,
    sum: u128,
    /// The sum of squares, for the standard deviation.
    sum_sq: u128,
    min: u64,
    max: u64,
}

/// A distribution's summary, in the histogram's recorded unit times a scale. Its JSON is
/// `{count,mean,min,p50,p90,p95,p99,max}` with three decimals, or with `--percentiles` the
/// percentiles asked for in place of the four (`{count,mean,min,p50,p99.9,max}`); an empty set
/// is `None`, `null`. p50 to p99 are always computed, reported or not: the verdict, the sweep
/// table, the capacity search and the charts read them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Distribution {
    /// Values recorded.
    pub count: u64,
    pub mean: f64,
    pub min: f64,
    /// Percentiles: the midpoint of the bucket holding the value, within 0.1 %.
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    /// `--percentiles`, when it asked for other than the four: reported in their place.
    pub asked: Option<Asked>,
}

/// The percentiles `--percentiles` asked for, with their values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Asked {
    percentiles: Percentiles,
    values: [f64; MAX],
}

impl Distribution {
    /// The percentiles reported, with their values, ascending: those asked for, else p50, p90,
    /// p95 and p99.
    pub fn reported(&self) -> Vec<(f64, f64)> {
        match &self.asked {
            Some(a) => a.percentiles.as_slice().iter().copied().zip(a.values).collect(),
            None => percentiles::STANDARD.into_iter().zip([self.p50, self.p90, self.p95, self.p99]).collect(),
        }
    }
}

/// `count, mean, min`, the reported percentiles (`p50`, `p99.9`), `max`, in that order.
impl serde::Serialize for Distribution {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let reported = self.reported();
        let mut m = s.serialize_map(Some(4 + reported.len()))?;
        m.serialize_entry("count", &self.count)?;
        m.serialize_entry("mean", &round(self.mean, 3))?;
        m.serialize_entry("min", &round(self.min, 3))?;
        for (p, v) in reported {
            m.serialize_entry(&percentiles::name(p), &round(v, 3))?;
        }
        m.serialize_entry("max", &round(self.max, 3))?;
        m.end()
    }
}

fn bucket_of(v: u64) -> usize {
    if v < EXACT {
        return v as usize;
    }
    let e = 63 - v.leading_zeros() as u64; // e >= P
    let mant = v >> (e - (P as u64 - 1)); // in [HALF, EXACT)
    (EXACT + (e - P as u64) * HALF + (mant - HALF)) as usize
}

/// The smallest and largest value that fall into bucket `i`.
fn bucket_bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < EXACT {
        return (i, i);
    }
    let k = i - EXACT;
    let e = k / HALF + P as u64;
    let mant = k % HALF + HALF;
    let shift = e - (P as u64 - 1);
    let lo = mant << shift;
    (lo, lo + ((1u64 << shift) - 1))
}

impl Histogram {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&mut self, v: u64) {
        let b = bucket_of(v);
        if b >= self.counts.len() {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += 1;
        if self.count == 0 || v < self.min {
            self.min = v;
        }
        self.max = self.max.max(v);
        self.count += 1;
        self.sum += v as u128;
        self.sum_sq = self.sum_sq.saturating_add((v as u128) * (v as u128));
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The exact sum of the recorded values.
    pub fn sum(&self) -> u128 {
        self.sum
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The value at quantile `q` (0..=1): the midpoint of the bucket holding the
    /// ceil(q·count)-th smallest value, clamped to the exact min and max. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        // q·count within a rounding error of a whole number is that number: 0.999 is stored a
        // hair above itself, and 0.999 × 1000 must be the 999th value, not the 1000th.
        let x = q.clamp(0.0, 1.0) * self.count as f64;
        let whole = (x - x.round()).abs() <= 1e-9 * x.max(1.0);
        let rank = ((if whole { x.round() } else { x.ceil() }) as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, hi) = bucket_bounds(i);
                return Some((lo + (hi - lo) / 2).clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }

    /// The population standard deviation (numpy's `std`, as vLLM reports it), times `scale`;
    /// `None` when empty. Exact: from the sums, not the buckets.
    pub fn std(&self, scale: f64) -> Option<f64> {
        (self.count > 0).then(|| {
            let n = self.count as f64;
            let mean = self.sum as f64 / n;
            (self.sum_sq as f64 / n - mean * mean).max(0.0).sqrt() * scale
        })
    }

    /// The smallest value, or `None` when empty.
    pub fn min(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min)
    }

    /// The largest value, or `None` when empty.
    pub fn max(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max)
    }

    /// How many values are at least `v`, to the bucket: a value in `v`'s own bucket counts
    /// (exact below 1024; above, it may be up to 0.2 % below `v`).
    pub fn count_at_least(&self, v: u64) -> u64 {
        self.counts.iter().skip(bucket_of(v)).sum()
    }

    /// Every bucket that holds values: its smallest and largest value and its count, in order
    /// (for drawing the distribution; the bucket bounds are the recorded values' resolution).
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        let clamp = |(lo, hi): (u64, u64)| (lo.max(self.min), hi.min(self.max));
        self.counts.iter().enumerate().filter(|(_, c)| **c > 0).map(move |(i, &c)| {
            let (lo, hi) = clamp(bucket_bounds(i));
            (lo, hi, c)
        })
    }

    /// The standard summary, each value multiplied by `scale` (e.g. 0.001 for µs → ms).
    pub fn distribution(&self, scale: f64) -> Option<Distribution> {
        self.distribution_at(scale, &Percentiles::default())
    }

    /// The summary reporting `percentiles` (the standard four are computed all the same).
    pub fn distribution_at(&self, scale: f64, percentiles: &Percentiles) -> Option<Distribution> {
        let q = |p: f64| self.quantile(p / 100.0).map_or(0.0, |v| v as f64 * scale);
        let asked = (!percentiles.is_standard()).then(|| {
            let mut values = [0.0; MAX];
            for (v, &p) in values.iter_mut().zip(percentiles.as_slice()) {
                *v = q(p);
            }
            Asked { percentiles: *percentiles, values }
        });
        (self.count > 0).then(|| Distribution {
            count: self.count,
            mean: self.sum as f64 / self.count as f64 * scale,
            min: self.min as f64 * scale,
            p50: q(50.0),
            p90: q(90.0),
            p95: q(95.0),
            p99: q(99.0),
            max: self.max as f64 * scale,
            asked,
        })
    }
}

impl AddAssign<&Histogram> for Histogram {
    fn add_assign(&mut self, other: &Histogram) {
        if other.count == 0 {
            return;
        }
        if other.counts.len() > self.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.min = if self.count == 0 { other.min } else { self.min.min(other.min) };
        self.max = self.max.max(other.max);
        self.count += other.count;
        self.sum += other.sum;
        self.sum_sq = self.sum_sq.saturating_add(other.sum_sq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_trip_and_are_contiguous() {
        let mut prev_hi = None;
        for i in 0..bucket_of(u64::MAX) + 1 {
            let (lo, hi) = bucket_bounds(i);
            assert_eq!(bucket_of(lo), i);
            assert_eq!(bucket_of(hi), i);
            if let Some(p) = prev_hi {
                assert_eq!(lo, p + 1);
            }
            prev_hi = Some(hi);
        }
        assert_eq!(prev_hi, Some(u64::MAX));
    }

    #[test]
    fn small_values_are_exact() {
        let mut h = Histogram::new();
        for v in 1..=100 {
            h.record(v);
        }
        assert_eq!(h.quantile(0.5), Some(50));
        assert_eq!(h.quantile(0.99), Some(99));
        assert_eq!(h.quantile(1.0), Some(100));
        assert_eq!(h.quantile(0.0), Some(1));
        let d = h.distribution(1.0).unwrap();
        assert_eq!((d.count, d.mean, d.min, d.max), (100, 50.5, 1.0, 100.0));
        let mut two = Histogram::new();
        two.record(1_000);
        two.record(3_000);
        assert_eq!((two.std(0.001), Histogram::new().std(1.0)), (Some(1.0), None));
    }

    #[test]
    fn large_values_within_a_tenth_of_a_percent() {
        for v in [123_456u64, 9_876_543, 100_000_000] {
            let mut h = Histogram::new();
            h.record(v);
            h.record(v + 1); // so min/max clamping does not hide the bucket error
            h.record(v * 3);
            let got = h.quantile(0.5).unwrap() as f64;
            assert!((got - v as f64).abs() / v as f64 <= 0.001, "{v} -> {got}");
        }
    }

    #[test]
    fn buckets_list_the_values_held() {
        let mut h = Histogram::new();
        for v in [3, 3, 7, 5000, 5001] {
            h.record(v);
        }
        let b: Vec<_> = h.buckets().collect();
        assert_eq!(b, [(3, 3, 2), (7, 7, 1), (5000, 5001, 2)]);
        assert_eq!((h.min(), Histogram::new().min(), Histogram::new().buckets().count()), (Some(3), None, 0));
    }

    #[test]
    fn values_at_least_one_are_counted_to_the_bucket() {
        let mut h = Histogram::new();
        for v in [3, 999, 1000, 1001, 5000, 5004, 5008] {
            h.record(v);
        }
        assert_eq!((h.count_at_least(0), h.count_at_least(1000), h.count_at_least(1002)), (7, 5, 3));
        // 5000..=5007 share a bucket: 5004 counts as at least 5006, 5008 does not share it.
        assert_eq!((h.count_at_least(5006), h.count_at_least(5008), h.count_at_least(6000)), (3, 1, 0));
        assert_eq!(
            (h.max(), Histogram::new().max(), Histogram::new().count_at_least(1)),
            (Some(5008), None, 0)
        );
    }

    #[test]
    fn asked_percentiles_replace_the_four_in_order() {
        let mut h = Histogram::new();
        for v in 1..=1000 {
            h.record(v);
        }
        let json = |d: Option<Distribution>| serde_json::to_string(&d).unwrap();
        assert_eq!(
            json(h.distribution(1.0)),
            r#"{"count":1000,"mean":500.5,"min":1.0,"p50":500.0,"p90":900.0,"p95":950.0,"p99":990.0,"max":1000.0}"#
        );
        let asked = h.distribution_at(1.0, &Percentiles::parse("99.90,50").unwrap());
        assert_eq!(
            json(asked),
            r#"{"count":1000,"mean":500.5,"min":1.0,"p50":500.0,"p99.9":999.0,"max":1000.0}"#
        );
        // The four are computed all the same, for the code that reads them.
        let a = asked.unwrap();
        assert_eq!((a.p90, a.p95, a.p99), (900.0, 950.0, 990.0));
        assert_eq!(a.reported(), [(50.0, 500.0), (99.9, 999.0)]);
        // Asking for the four is the default.
        assert_eq!(h.distribution_at(1.0, &Percentiles::parse("50,90,95,99").unwrap()), h.distribution(1.0));
    }

    #[test]
    fn empty_gives_none() {
        let h = Histogram::new();
        assert_eq!(h.quantile(0.5), None);
        assert_eq!(h.distribution(1.0), None);
    }

    #[test]
    fn merge_equals_recording_everything_in_one() {
        let (mut a, mut b, mut all) = (Histogram::new(), Histogram::new(), Histogram::new());
        for v in 0..5000u64 {
            let x = v * v % 100_003;
            if v % 3 == 0 {
                a.record(x)
            } else {
                b.record(x)
            }
            all.record(x);
        }
        let mut merged = Histogram::new();
        merged += &a;
        merged += &b;
        assert_eq!(merged.distribution(1.0), all.distribution(1.0));
        assert_eq!(merged.count(), 5000);
    }
}
