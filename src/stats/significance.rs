//! Whether two runs' per-request samples differ by more than chance, for `llmload compare` of
//! records files. Two tests, each for what it answers:
//!
//! - a **bootstrap confidence interval** (95 %, percentile method, seeded) of the difference of a
//!   statistic (a percentile such as the median or p99, or the mean) between the two samples: a
//!   percentile's difference has no closed-form standard error, and resampling gives one without
//!   assuming a shape. The difference is significant when the interval excludes 0. The resampled
//!   unit is a request (its one value, or all its inter-token gaps), so gaps of one stream, which
//!   move together, are never taken for independent samples;
//! - the **Mann–Whitney U test** (two-sided, normal approximation with the tie correction and a
//!   continuity correction, as SciPy's `method="asymptotic"`): whether one distribution is shifted
//!   against the other, for the sample as a whole rather than one percentile.
//!
//! Pure: samples in, numbers out, no I/O and no formatting. The time is bounded: a side of more
//! than `MAX_VALUES` values is thinned to a seeded random subset of its requests for the bootstrap
//! (which only widens the interval), and `RESAMPLES` resamples are drawn.

use crate::util::rng::SplitMix64;

/// Resamples the bootstrap draws.
pub const RESAMPLES: usize = 2000;
/// The bootstrap's seed: the same samples give the same interval on every run.
pub const SEED: u64 = 0x5151_F1CA_2700_0021;
/// Values a side keeps for the bootstrap; beyond them, a seeded random subset of its requests.
pub const MAX_VALUES: usize = 5000;
/// The significance level: the interval is the central 95 %, the test's threshold 0.05.
pub const ALPHA: f64 = 0.05;

/// The statistic a bootstrap interval is of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    /// The nearest-rank quantile (0.5 is the median, 0.99 the p99).
    Quantile(f64),
    Mean,
}

impl Statistic {
    /// The statistic of `values`, reordering them; `None` when there are none.
    pub fn of(self, values: &mut [f64]) -> Option<f64> {
        if values.is_empty() {
            return None;
        }
        match self {
            Statistic::Mean => Some(values.iter().sum::<f64>() / values.len() as f64),
            Statistic::Quantile(q) => {
                let n = values.len();
                let rank = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
                let (_, v, _) = values.select_nth_unstable_by(rank, f64::total_cmp);
                Some(*v)
            }
        }
    }
}

/// A bootstrap interval of new − base.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The statistic of the whole new sample less the base's.
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// Whether the difference is significant: the interval does not hold 0.
    pub fn significant(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }
}

/// The 95 % bootstrap interval of `stat(new) − stat(base)`, each side a list of requests (a
/// request's values: one, or its gaps), resampled by request. `None` when a side has fewer than
/// 2 requests with a value.
pub fn bootstrap(base: &[Vec<f64>], new: &[Vec<f64>], stat: Statistic, seed: u64) -> Option<Interval> {
    let base: Vec<&[f64]> = base.iter().filter(|r| !r.is_empty()).map(Vec::as_slice).collect();
    let new: Vec<&[f64]> = new.iter().filter(|r| !r.is_empty()).map(Vec::as_slice).collect();
    if base.len() < 2 || new.len() < 2 {
        return None;
    }
    let whole = |side: &[&[f64]]| stat.of(&mut side.concat());
    let estimate = whole(&new)? - whole(&base)?;
    let mut rng = SplitMix64::new(seed);
    let (base, new) = (thin(&base, &mut rng), thin(&new, &mut rng));
    let mut buf = Vec::new();
    let mut draw = |side: &[&[f64]], rng: &mut SplitMix64| {
        buf.clear();
        for _ in 0..side.len() {
            buf.extend_from_slice(side[pick(rng, side.len())]);
        }
        stat.of(&mut buf).unwrap_or(0.0)
    };
    let mut diffs: Vec<f64> = (0..RESAMPLES).map(|_| draw(&new, &mut rng) - draw(&base, &mut rng)).collect();
    diffs.sort_by(f64::total_cmp);
    let at = |p: f64| diffs[((p * RESAMPLES as f64) as usize).min(RESAMPLES - 1)];
    Some(Interval { estimate, low: at(ALPHA / 2.0), high: at(1.0 - ALPHA / 2.0) })
}

/// A uniform index below `n`.
fn pick(rng: &mut SplitMix64, n: usize) -> usize {
    ((rng.unit() * n as f64) as usize).min(n - 1)
}

/// `side`, or a seeded random subset of its requests holding about `MAX_VALUES` values.
fn thin<'a>(side: &[&'a [f64]], rng: &mut SplitMix64) -> Vec<&'a [f64]> {
    let total: usize = side.iter().map(|r| r.len()).sum();
    if total <= MAX_VALUES {
        return side.to_vec();
    }
    let mut order: Vec<&[f64]> = side.to_vec();
    let (mut kept, mut values) = (0, 0);
    // A partial Fisher–Yates shuffle: the first `kept` are a uniform random subset.
    while kept < order.len() && values < MAX_VALUES {
        let j = kept + pick(rng, order.len() - kept);
        order.swap(kept, j);
        values += order[kept].len();
        kept += 1;
    }
    order.truncate(kept.max(2));
    order
}

/// The Mann–Whitney U test of `base` against `new`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of the base sample: the pairs (base, new) in which the base value is the larger, ties
    /// counting a half.
    pub u: f64,
    /// The standard normal deviate, continuity-corrected; positive when new tends to be larger.
    pub z: f64,
    /// The two-sided p-value.
    pub p: f64,
}

impl MannWhitney {
    /// Whether one distribution is shifted against the other at `ALPHA`.
    pub fn significant(&self) -> bool {
        self.p < ALPHA
    }
}

/// The two-sided Mann–Whitney U test with the normal approximation, the tie correction of the
/// variance and a continuity correction of 0.5; `None` when a side is empty. All values tied
/// give p = 1.
pub fn mann_whitney(base: &[f64], new: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (base.len(), new.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let mut all: Vec<(f64, bool)> =
        base.iter().map(|&v| (v, true)).chain(new.iter().map(|&v| (v, false))).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = all.len();
    let (mut rank_sum, mut ties, mut i) = (0.0, 0.0, 0);
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Ranks i+1 … j+1 share their mean.
        let mid = (i + j + 2) as f64 / 2.0;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        rank_sum += mid * all[i..=j].iter().filter(|x| x.1).count() as f64;
        i = j + 1;
    }
    let (a, b, nf) = (n1 as f64, n2 as f64, n as f64);
    let u = rank_sum - a * (a + 1.0) / 2.0;
    let mu = a * b / 2.0;
    let var = a * b / 12.0 * ((nf + 1.0) - ties / (nf * (nf - 1.0)));
    if var <= 0.0 || !var.is_finite() {
        return Some(MannWhitney { u, z: 0.0, p: 1.0 });
    }
    // U of new, less its mean: positive when new is the larger.
    let d = mu - u;
    let z = (d.abs() - 0.5).max(0.0).copysign(d) / var.sqrt();
    let p = (erfc(z.abs() / std::f64::consts::SQRT_2)).min(1.0);
    Some(MannWhitney { u, z, p })
}

/// The complementary error function, to a relative error below 1.2e-7 (Numerical Recipes'
/// Chebyshev fit `erfcc`).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn each(v: &[f64]) -> Vec<Vec<f64>> {
        v.iter().map(|&x| vec![x]).collect()
    }

    #[test]
    fn mann_whitney_matches_scipy_asymptotic() {
        // SciPy's `mannwhitneyu` example (males, females): U1 = 17, and with
        // method="asymptotic" p = 0.11134688653314041.
        let males = [19.0, 22.0, 16.0, 29.0, 24.0];
        let females = [20.0, 11.0, 17.0, 12.0];
        let t = mann_whitney(&males, &females).unwrap();
        assert_eq!(t.u, 17.0);
        assert!((t.p - 0.111_346_886_533_140_41).abs() < 1e-6, "{t:?}");
        assert!(t.z < 0.0 && !t.significant());
        // The other way round: the same p, the opposite sign.
        let r = mann_whitney(&females, &males).unwrap();
        assert_eq!(r.u, 3.0);
        assert!((r.p - t.p).abs() < 1e-12 && r.z == -t.z);
    }

    #[test]
    fn mann_whitney_corrects_for_ties() {
        // Sorted: 1 2 3 3 3 4 4 4 5 5 6, ranks 1 2 4 4 4 7 7 7 9.5 9.5 11; the base holds
        // 1 + 2 + 4 + 4 + 7 = 18, so U = 18 − 15 = 3. Ties of 3, 3 and 2: Σ(t³ − t) = 54;
        // var = 5·6/12 · (12 − 54/110) = 28.772727…; z = (15 − 3 − 0.5) / √var = 2.1439138…;
        // p = erfc(z/√2) = 0.0320398 (checked against a direct computation).
        let base = [1.0, 3.0, 2.0, 4.0, 3.0];
        let new = [3.0, 4.0, 5.0, 4.0, 6.0, 5.0];
        let t = mann_whitney(&base, &new).unwrap();
        assert_eq!(t.u, 3.0);
        assert!((t.z - 2.143_913_83).abs() < 1e-7, "{t:?}");
        assert!((t.p - 0.032_039_79).abs() < 1e-6 && t.significant(), "{t:?}");
        // Every value tied: no evidence either way.
        assert_eq!(mann_whitney(&[2.0, 2.0], &[2.0]).unwrap().p, 1.0);
        assert_eq!(mann_whitney(&[], &[1.0]), None);
    }

    #[test]
    fn mann_whitney_sees_a_shift_and_not_noise() {
        let base: Vec<f64> = (0..60).map(|i| 20.0 + (i % 7) as f64 * 0.1).collect();
        let slower: Vec<f64> = base.iter().map(|v| v + 20.0).collect();
        let t = mann_whitney(&base, &slower).unwrap();
        assert!(t.significant() && t.z > 0.0 && t.p < 1e-15, "{t:?}");
        let same = mann_whitney(&base, &base).unwrap();
        assert!(!same.significant() && same.p > 0.99, "{same:?}");
    }

    #[test]
    fn erfc_known_values() {
        for (x, want) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122),
            (1.0, 0.157_299_207),
            (2.0, 0.004_677_735),
            (-1.0, 1.842_700_793),
        ] {
            assert!((erfc(x) - want).abs() < 2e-7 * want.max(1e-3), "erfc({x})");
        }
    }

    #[test]
    fn statistics_are_nearest_rank() {
        let mut v = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(Statistic::Quantile(0.5).of(&mut v), Some(3.0));
        assert_eq!(Statistic::Quantile(0.99).of(&mut v), Some(5.0));
        assert_eq!(Statistic::Quantile(0.2).of(&mut v), Some(1.0));
        assert_eq!(Statistic::Mean.of(&mut v), Some(3.0));
        assert_eq!(Statistic::Mean.of(&mut []), None);
    }

    #[test]
    fn bootstrap_holds_zero_for_one_sample_and_not_for_a_shifted_one() {
        let base: Vec<f64> = (0..80).map(|i| 20.0 + ((i * 37) % 11) as f64 * 0.3).collect();
        for stat in [Statistic::Quantile(0.5), Statistic::Quantile(0.99), Statistic::Mean] {
            let same = bootstrap(&each(&base), &each(&base), stat, SEED).unwrap();
            assert_eq!(same.estimate, 0.0);
            assert!(same.low <= 0.0 && same.high >= 0.0 && !same.significant(), "{stat:?} {same:?}");
            let slower: Vec<f64> = base.iter().map(|v| v + 20.0).collect();
            let shifted = bootstrap(&each(&base), &each(&slower), stat, SEED).unwrap();
            assert!((shifted.estimate - 20.0).abs() < 1e-9, "{stat:?} {shifted:?}");
            assert!(shifted.low > 0.0 && shifted.significant(), "{stat:?} {shifted:?}");
            assert!(shifted.low <= 20.0 + 1e-9 && shifted.high >= 20.0 - 1e-9, "{stat:?} {shifted:?}");
        }
    }

    #[test]
    fn bootstrap_is_deterministic_by_seed_and_needs_two_requests() {
        let base: Vec<f64> = (0..50).map(|i| ((i * 7919) % 101) as f64).collect();
        let new: Vec<f64> = (0..50).map(|i| ((i * 104_729) % 97) as f64 + 3.0).collect();
        let s = Statistic::Quantile(0.5);
        let a = bootstrap(&each(&base), &each(&new), s, SEED);
        assert_eq!(a, bootstrap(&each(&base), &each(&new), s, SEED));
        assert_ne!(a, bootstrap(&each(&base), &each(&new), s, SEED + 1));
        assert_eq!(bootstrap(&each(&[1.0]), &each(&new), s, SEED), None);
        // Requests without a value (a stream of one token has no gap) do not count.
        assert_eq!(bootstrap(&[vec![1.0], vec![]], &each(&new), s, SEED), None);
    }

    #[test]
    fn bootstrap_resamples_requests_and_thins_large_sides() {
        // Each request's gaps move together: 100 requests of 100 gaps on each side.
        let side = |off: f64| -> Vec<Vec<f64>> {
            (0..100)
                .map(|r| (0..100).map(|g| off + (r % 10) as f64 + (g % 3) as f64 * 0.01).collect())
                .collect()
        };
        let (base, new) = (side(10.0), side(10.5));
        let i = bootstrap(&base, &new, Statistic::Quantile(0.5), SEED).unwrap();
        assert_eq!(i.estimate, 0.5);
        // Ten distinct request levels: resampling requests (not gaps) keeps the interval wide.
        assert!(!i.significant(), "{i:?}");
        let mut rng = SplitMix64::new(1);
        let refs: Vec<&[f64]> = base.iter().map(Vec::as_slice).collect();
        let thinned = thin(&refs, &mut rng);
        assert_eq!(thinned.len(), MAX_VALUES / 100);
    }
}
