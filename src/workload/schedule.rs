//! Open-loop arrivals: when each request is meant to start, as offsets from the run's start,
//! whatever the server does. Gaps between arrivals are drawn in units of the expected gap
//! (constant: every gap 1; Poisson: exponential; gamma with shape K: mean 1, variance 1/K, so K
//! below 1 is burstier), and a linear `--ramp-up` bends the clock so that the rate rises from 0 to
//! its full value over the ramp: arrival k is at the instant by which k arrivals are expected.
//! Pure and reproducible from the seed.

use crate::util::rng::SplitMix64;
use std::time::Duration;

/// How gaps between arrivals are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arrival {
    Constant,
    Poisson,
    /// Gamma-distributed gaps with this shape (`--burstiness`).
    Gamma(f64),
    /// A trace's own instants (`--trace`): never drawn here.
    Trace,
}

impl Arrival {
    pub const CHOICES: &'static str = "constant, poisson or gamma";

    pub fn name(&self) -> &'static str {
        match self {
            Arrival::Constant => "constant",
            Arrival::Poisson => "poisson",
            Arrival::Gamma(_) => "gamma",
            Arrival::Trace => "trace",
        }
    }
}

/// An open-loop load: the total request rate and how arrivals are spread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenLoop {
    /// Requests per second, total, once any ramp-up is over.
    pub rate: f64,
    pub arrival: Arrival,
    pub seed: u64,
}

/// The intended start of every request of an open-loop run, in order.
pub struct Schedule {
    rate: f64,
    arrival: Arrival,
    ramp: f64,
    rng: SplitMix64,
    /// Arrivals expected so far, in units of the expected gap: where the next one falls.
    expected: f64,
}

impl Schedule {
    pub fn new(load: &OpenLoop, ramp_up: Duration) -> Self {
        Schedule {
            rate: load.rate,
            arrival: load.arrival,
            ramp: ramp_up.as_secs_f64(),
            rng: SplitMix64::new(load.seed),
            expected: 0.0,
        }
    }

    /// The instant (from the run's start) by which `n` arrivals are expected: the inverse of
    /// n(t) = rate·t²/(2·ramp) during the ramp, rate·(t − ramp/2) after it.
    fn at(&self, n: f64) -> f64 {
        let in_ramp = self.rate * self.ramp / 2.0;
        if n < in_ramp {
            (2.0 * self.ramp * n / self.rate).sqrt()
        } else {
            self.ramp + (n - in_ramp) / self.rate
        }
    }

    fn gap(&mut self) -> f64 {
        match self.arrival {
            Arrival::Constant | Arrival::Trace => 1.0,
            Arrival::Poisson => exponential(&mut self.rng),
            Arrival::Gamma(shape) => gamma(&mut self.rng, shape) / shape,
        }
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    /// The next request's offset; the first is at the start.
    fn next(&mut self) -> Option<Duration> {
        let at = self.at(self.expected);
        self.expected += self.gap();
        Duration::try_from_secs_f64(at).ok()
    }
}

/// Exp(1).
fn exponential(rng: &mut SplitMix64) -> f64 {
    -(1.0 - rng.unit()).ln()
}

/// A standard normal (Box–Muller).
fn normal(rng: &mut SplitMix64) -> f64 {
    let (u, v) = (1.0 - rng.unit(), rng.unit());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Gamma(shape, 1), by Marsaglia and Tsang; below shape 1, Gamma(shape + 1) · U^(1/shape).
fn gamma(rng: &mut SplitMix64, shape: f64) -> f64 {
    if shape < 1.0 {
        return gamma(rng, shape + 1.0) * (1.0 - rng.unit()).powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = 1.0 - rng.unit();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(arrival: Arrival, rate: f64, ramp_s: u64, n: usize) -> Vec<f64> {
        let load = OpenLoop { rate, arrival, seed: 7 };
        Schedule::new(&load, Duration::from_secs(ramp_s)).take(n).map(|d| d.as_secs_f64()).collect()
    }

    fn gap_cv(t: &[f64]) -> (f64, f64) {
        let gaps: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        (mean, var.sqrt() / mean)
    }

    #[test]
    fn a_constant_rate_spaces_arrivals_exactly() {
        let t = offsets(Arrival::Constant, 50.0, 0, 1001);
        assert_eq!(t[0], 0.0);
        assert!((t[1000] - 20.0).abs() < 1e-9, "{}", t[1000]);
        assert!(t.windows(2).all(|w| (w[1] - w[0] - 0.02).abs() < 1e-9));
    }

    #[test]
    fn poisson_and_gamma_gaps_have_the_mean_and_spread_asked() {
        let (mean, cv) = gap_cv(&offsets(Arrival::Poisson, 100.0, 0, 20_001));
        assert!((mean - 0.01).abs() < 0.0003 && (cv - 1.0).abs() < 0.03, "{mean} {cv}");
        // Shape K: the gaps' CV is 1/√K.
        for k in [0.25, 0.5, 4.0] {
            let (mean, cv) = gap_cv(&offsets(Arrival::Gamma(k), 100.0, 0, 40_001));
            let want = 1.0 / f64::sqrt(k);
            assert!((mean - 0.01).abs() < 0.0005 && (cv - want).abs() < 0.06 * want, "K {k}: {mean} {cv}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        assert_eq!(offsets(Arrival::Poisson, 10.0, 0, 100), offsets(Arrival::Poisson, 10.0, 0, 100));
        let other = OpenLoop { rate: 10.0, arrival: Arrival::Poisson, seed: 8 };
        let other: Vec<f64> =
            Schedule::new(&other, Duration::ZERO).take(100).map(|d| d.as_secs_f64()).collect();
        assert_ne!(other, offsets(Arrival::Poisson, 10.0, 0, 100));
    }

    #[test]
    fn a_ramp_up_raises_the_rate_linearly_from_zero() {
        // 10 req/s after a 10 s ramp: 50 arrivals in the ramp, the k-th at √(2k) s.
        let t = offsets(Arrival::Constant, 10.0, 10, 61);
        assert!((t[8] - 4.0).abs() < 1e-9, "{}", t[8]);
        assert_eq!(t.iter().filter(|&&s| s < 10.0).count(), 50);
        assert!((t[60] - 11.0).abs() < 1e-9, "{}", t[60]);
    }
}
