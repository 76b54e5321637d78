//! A repeated test (`--repeat N`): the headline numbers of each run, and across the runs their
//! mean, coefficient of variation and a 95 % interval of the mean (Student's t, the runs taken as
//! independent samples of one setup). One run on a shared machine is one sample; this says how
//! far the next would likely fall. The pooled summary beside it counts every run's requests.

use super::{RunOutput, Summary};
use crate::util::decimals::{six, three};
use serde::Serialize;

/// A headline number's name, and how it is read from a run's summary.
type Headline = (&'static str, fn(&Summary) -> Option<f64>);

/// The headline numbers.
const HEADLINES: &[Headline] = &[
    ("requests_per_s", |s| Some(s.throughput.requests_per_s)),
    ("output_tokens_per_s", |s| Some(s.throughput.output_tokens_per_s)),
    ("success_rate", |s| s.success_rate),
    ("ttft_p50_ms", |s| s.metrics.ttft_ms.map(|d| d.p50)),
    ("ttft_p99_ms", |s| s.metrics.ttft_ms.map(|d| d.p99)),
    ("itl_p50_ms", |s| s.metrics.itl_ms.map(|d| d.p50)),
    ("itl_p99_ms", |s| s.metrics.itl_ms.map(|d| d.p99)),
    ("tpot_p50_ms", |s| s.metrics.tpot_ms.map(|d| d.p50)),
    ("e2e_p50_ms", |s| s.metrics.e2e_ms.map(|d| d.p50)),
    ("e2e_p99_ms", |s| s.metrics.e2e_ms.map(|d| d.p99)),
    ("steady_requests_per_s", |s| s.steady_state.as_ref().map(|st| st.requests_per_s)),
];

/// The summary's `repeats`.
#[derive(Debug, Clone, Serialize)]
pub struct Repeats {
    /// Runs made (fewer than asked when an interrupt ended the test early).
    pub runs: u32,
    /// Each headline number across the runs, in a fixed order.
    pub metrics: Vec<Spread>,
}

/// One headline number across the runs.
#[derive(Debug, Clone, Serialize)]
pub struct Spread {
    /// Its name: as the summary's key it comes from (`requests_per_s`, `ttft_p99_ms`…).
    pub metric: &'static str,
    /// Each run's value, first run first; `null` where a run had none.
    #[serde(serialize_with = "three")]
    pub values: Vec<Option<f64>>,
    /// Over the runs that had one.
    #[serde(serialize_with = "three")]
    pub mean: Option<f64>,
    /// The sample standard deviation over the mean; `null` for fewer than two values or a
    /// mean of 0.
    #[serde(serialize_with = "six")]
    pub cv: Option<f64>,
    /// The 95 % interval of the mean: mean ± t(0.975, n − 1) × sd / √n; `null` for fewer than
    /// two values.
    #[serde(serialize_with = "three")]
    pub ci95: Option<[f64; 2]>,
}

impl Repeats {
    /// The spread of `runs`' headline numbers, in run order.
    pub fn of(runs: &[Summary]) -> Repeats {
        let metrics = HEADLINES
            .iter()
            .map(|(metric, read)| Spread::of(metric, runs.iter().map(read).collect()))
            .collect();
        Repeats { runs: runs.len() as u32, metrics }
    }
}

impl Spread {
    fn of(metric: &'static str, values: Vec<Option<f64>>) -> Spread {
        let xs: Vec<f64> = values.iter().flatten().copied().collect();
        let n = xs.len();
        let mean = (n > 0).then(|| xs.iter().sum::<f64>() / n as f64);
        let sd = mean.filter(|_| n >= 2).map(|m| {
            let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
            (ss / (n - 1) as f64).sqrt()
        });
        let cv = mean.zip(sd).filter(|(m, _)| *m != 0.0).map(|(m, sd)| sd / m.abs());
        let ci95 = mean.zip(sd).map(|(m, sd)| {
            let half = t975(n - 1) * sd / (n as f64).sqrt();
            [m - half, m + half]
        });
        Spread { metric, values, mean, cv, ci95 }
    }
}

impl RunOutput {
    /// The runs of a repeated test as one: every request counted, times added up, the seconds
    /// of each run after the last's, each run's scrapes of the servers kept (their counters'
    /// growth adds up). No steady state: each run had its own (`Repeats` has their rates).
    pub fn pooled(runs: Vec<RunOutput>) -> Option<RunOutput> {
        let mut runs = runs.into_iter();
        let mut all = runs.next()?;
        all.steady = None;
        for run in runs {
            let offset = all.wall.as_secs_f64();
            all.stats += &run.stats;
            all.breakdown += &run.breakdown;
            all.series.extend(run.series.into_iter().map(|mut row| {
                row.elapsed_s += offset;
                row
            }));
            all.server.extend(run.server);
            (all.wall, all.window) = (all.wall + run.wall, all.window + run.window);
            for w in run.warnings {
                if !all.warnings.contains(&w) {
                    all.warnings.push(w);
                }
            }
            all.records_error = all.records_error.or(run.records_error);
            all.interrupted |= run.interrupted;
            all.interrupted_after =
                run.interrupted_after.map(|d| d + std::time::Duration::from_secs_f64(offset));
            all.stats_lost |= run.stats_lost;
        }
        Some(all)
    }
}

/// Student's t at 0.975 for `df` degrees of freedom (two-sided 95 %); the normal's 1.96 past 30.
fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042,
    ];
    T.get(df.wrapping_sub(1)).copied().unwrap_or(1.96)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_cv_and_the_t_interval() {
        let s = Spread::of("x", vec![Some(10.0), Some(12.0), Some(14.0)]);
        assert_eq!(s.mean, Some(12.0));
        // sd 2, cv 2/12; half-width t(0.975, 2) × 2 / √3 = 4.303 × 1.1547 = 4.9687.
        assert!((s.cv.unwrap() - 1.0 / 6.0).abs() < 1e-12);
        let [lo, hi] = s.ci95.unwrap();
        assert!((lo - 7.03132).abs() < 1e-4 && (hi - 16.96868).abs() < 1e-4, "{lo} {hi}");
    }

    #[test]
    fn one_value_has_no_spread_and_missing_values_are_left_out() {
        let s = Spread::of("x", vec![Some(5.0)]);
        assert_eq!((s.mean, s.cv, s.ci95), (Some(5.0), None, None));
        let s = Spread::of("x", vec![None, Some(4.0), Some(4.0)]);
        assert_eq!((s.mean, s.cv, s.ci95), (Some(4.0), Some(0.0), Some([4.0, 4.0])));
        let s = Spread::of("x", vec![None, None]);
        assert_eq!((s.mean, s.cv, s.ci95), (None, None, None));
        assert_eq!((t975(1), t975(30), t975(31)), (12.706, 2.042, 1.96));
    }
}
