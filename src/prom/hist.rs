//! A server's histogram as its cumulative buckets (summed over label sets), the difference
//! between two scrapes of it (one run's observations), and the percentile estimate Prometheus's
//! `histogram_quantile` makes from buckets, with the bucket that holds it as the error bounds.
//! Also a counter's difference between two scrapes. Pure arithmetic; which families are
//! histograms of what is `known`'s business.
//!
//! The estimate: the rank `q × count` falls in one bucket `(low, high]`; the value is placed
//! linearly inside it, as if its observations were spread evenly. The true percentile lies
//! somewhere in `(low, high]`, so the bucket's width is the error. The first bucket starts at 0
//! (observations are taken to be non-negative, as Prometheus does); a rank in the `+Inf` bucket
//! answers the highest finite bound, with `+Inf` as its upper error.

use super::parse::{Family, Kind};

/// Cumulative buckets `(le, count of observations ≤ le)` in ascending `le`, the `+Inf` bucket
/// last where the server sent one, with the observations' sum and count.
#[derive(Debug, Clone, PartialEq)]
pub struct Hist {
    pub buckets: Vec<(f64, f64)>,
    pub sum: f64,
    pub count: f64,
}

/// A percentile estimated from buckets, and the bounds of the bucket that holds it: the true
/// value lies in `(low, high]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Hist {
    /// A histogram (or gauge histogram) family's buckets, summed over its label sets bucket by
    /// bucket (as `sum by (le)` does). `None` for other kinds and for a family with no buckets.
    pub fn from_family(f: &Family) -> Option<Hist> {
        let (sum_suffix, count_suffix) = match f.kind {
            Kind::Histogram => ("_sum", "_count"),
            Kind::GaugeHistogram => ("_gsum", "_gcount"),
            _ => return None,
        };
        let mut buckets: Vec<(f64, f64)> = Vec::new();
        let (mut sum, mut count, mut counted) = (0.0, 0.0, false);
        for s in &f.samples {
            match s.name.strip_prefix(f.name.as_str()) {
                Some("_bucket") => {
                    let Some(le) =
                        s.label("le").and_then(|le| le.parse::<f64>().ok()).filter(|le| !le.is_nan())
                    else {
                        continue;
                    };
                    match buckets.iter_mut().find(|(l, _)| *l == le) {
                        Some(b) => b.1 += s.value,
                        None => buckets.push((le, s.value)),
                    }
                }
                Some(x) if x == sum_suffix || x == "_sum" => sum += s.value,
                Some(x) if x == count_suffix || x == "_count" => {
                    count += s.value;
                    counted = true;
                }
                _ => {}
            }
        }
        if buckets.is_empty() {
            return None;
        }
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        if !counted {
            count = buckets.last().map_or(0.0, |b| b.1);
        }
        Some(Hist { buckets, sum, count })
    }

    /// The observations made since `earlier` (one run's, from the scrapes at its start and end).
    /// A reset in between (the count fell, a bucket fell, or the buckets changed) leaves only
    /// what the restarted server counted: `self`.
    pub fn since(&self, earlier: &Hist) -> Hist {
        let same_layout = self.buckets.len() == earlier.buckets.len()
            && self.buckets.iter().zip(&earlier.buckets).all(|(a, b)| a.0 == b.0 && a.1 >= b.1);
        if self.count < earlier.count || !same_layout {
            return self.clone();
        }
        Hist {
            buckets: self.buckets.iter().zip(&earlier.buckets).map(|(a, b)| (a.0, a.1 - b.1)).collect(),
            sum: self.sum - earlier.sum,
            count: self.count - earlier.count,
        }
    }

    /// The `q`-quantile (0 ≤ q ≤ 1) by Prometheus's `histogram_quantile`: linear interpolation
    /// inside the bucket that holds rank `q × total`. `None` when there are no observations, for
    /// a `q` outside [0, 1], and when the only bucket is `+Inf`. Where Prometheus would answer
    /// NaN for `q = 0`, this answers the lower bound of the first bucket with observations.
    pub fn quantile(&self, q: f64) -> Option<Estimate> {
        if !(0.0..=1.0).contains(&q) {
            return None;
        }
        // Counts made monotonic, as Prometheus does for buckets scraped at slightly different times.
        let mut highest = 0.0f64;
        let cum: Vec<(f64, f64)> = self
            .buckets
            .iter()
            .map(|&(le, c)| {
                highest = if c.is_nan() { highest } else { highest.max(c) };
                (le, highest)
            })
            .collect();
        let total = cum.last()?.1;
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let i = if rank == 0.0 {
            cum.iter().position(|&(_, c)| c > 0.0)?
        } else {
            cum.iter().position(|&(_, c)| c >= rank)?
        };
        let (le, c) = cum[i];
        if le == f64::INFINITY {
            let below = cum[..i].last()?.0;
            return Some(Estimate { value: below, low: below, high: f64::INFINITY });
        }
        if i == 0 && le <= 0.0 {
            let low = if le == 0.0 { 0.0 } else { f64::NEG_INFINITY };
            return Some(Estimate { value: le, low, high: le });
        }
        let (start, before) = if i == 0 { (0.0, 0.0) } else { cum[i - 1] };
        let value = start + (le - start) * ((rank - before) / (c - before));
        Some(Estimate { value, low: start, high: le })
    }

    /// The mean observation, `sum / count`; `None` without observations.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0.0).then(|| self.sum / self.count)
    }
}

/// A counter's increase from `earlier` to `now`; after a reset (the counter fell, the server
/// restarted) the increase is what it counted since: `now`.
pub fn counter_since(now: f64, earlier: f64) -> f64 {
    if now < earlier { now } else { now - earlier }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prom::parse;

    const INF: f64 = f64::INFINITY;

    /// 50 observations: 10 ≤ 0.25, 20 in (0.25, 0.5], 10 in (0.5, 1], 5 in (1, 2], 5 above 2.
    fn known() -> Hist {
        Hist {
            buckets: vec![(0.25, 10.0), (0.5, 30.0), (1.0, 40.0), (2.0, 45.0), (INF, 50.0)],
            sum: 40.0,
            count: 50.0,
        }
    }

    fn est(value: f64, low: f64, high: f64) -> Option<Estimate> {
        Some(Estimate { value, low, high })
    }

    #[test]
    fn quantiles_interpolate_inside_their_bucket() {
        let h = known();
        assert_eq!(h.quantile(0.1), est(0.125, 0.0, 0.25), "rank 5 of 10 in the first bucket, from 0");
        assert_eq!(h.quantile(0.5), est(0.4375, 0.25, 0.5), "rank 25: 15 of the bucket's 20");
        assert_eq!(h.quantile(0.8), est(1.0, 0.5, 1.0), "rank 40: the bucket's top");
        assert_eq!(h.quantile(0.9), est(2.0, 1.0, 2.0));
        assert_eq!(h.quantile(0.0), est(0.0, 0.0, 0.25));
        assert_eq!(h.mean(), Some(0.8));
    }

    #[test]
    fn a_rank_in_the_inf_bucket_answers_the_highest_finite_bound() {
        let h = known();
        assert_eq!(h.quantile(0.95), est(2.0, 2.0, INF));
        assert_eq!(h.quantile(1.0), est(2.0, 2.0, INF));
    }

    #[test]
    fn empty_and_degenerate_histograms_have_no_quantile() {
        let empty = Hist { buckets: vec![(0.5, 0.0), (INF, 0.0)], sum: 0.0, count: 0.0 };
        assert_eq!(empty.quantile(0.5), None);
        assert_eq!(empty.mean(), None);
        assert_eq!(Hist { buckets: vec![], sum: 0.0, count: 0.0 }.quantile(0.5), None);
        let only_inf = Hist { buckets: vec![(INF, 3.0)], sum: 1.0, count: 3.0 };
        assert_eq!(only_inf.quantile(0.5), None);
        assert_eq!(known().quantile(1.5), None);
        assert_eq!(known().quantile(-0.1), None);
        assert_eq!(known().quantile(f64::NAN), None);
    }

    #[test]
    fn a_first_bucket_at_zero_is_exact() {
        // SGLang's queue-time histogram starts with le="0.0".
        let h = Hist { buckets: vec![(0.0, 8.0), (0.1, 10.0), (INF, 10.0)], sum: 0.1, count: 10.0 };
        assert_eq!(h.quantile(0.5), est(0.0, 0.0, 0.0));
        assert_eq!(h.quantile(0.9), est(0.05, 0.0, 0.1));
    }

    #[test]
    fn counts_that_fall_between_buckets_are_made_monotonic() {
        let h = Hist { buckets: vec![(1.0, 4.0), (2.0, 3.0), (INF, 4.0)], sum: 4.0, count: 4.0 };
        assert_eq!(h.quantile(0.5), est(0.5, 0.0, 1.0));
    }

    #[test]
    fn since_subtracts_and_a_reset_keeps_the_later_scrape() {
        let later = known();
        let earlier = Hist {
            buckets: vec![(0.25, 4.0), (0.5, 10.0), (1.0, 10.0), (2.0, 10.0), (INF, 10.0)],
            sum: 5.0,
            count: 10.0,
        };
        let run = later.since(&earlier);
        assert_eq!(
            run,
            Hist {
                buckets: vec![(0.25, 6.0), (0.5, 20.0), (1.0, 30.0), (2.0, 35.0), (INF, 40.0)],
                sum: 35.0,
                count: 40.0
            }
        );
        assert_eq!(run.quantile(0.5), est(0.5, 0.25, 0.5));
        // The server restarted: its count fell.
        let restarted = Hist {
            buckets: vec![(0.25, 1.0), (0.5, 2.0), (1.0, 2.0), (2.0, 2.0), (INF, 2.0)],
            sum: 0.5,
            count: 2.0,
        };
        assert_eq!(restarted.since(&later), restarted);
        // A bucket fell though the count did not: a reset too.
        let odd = Hist {
            buckets: vec![(0.25, 0.0), (0.5, 30.0), (1.0, 40.0), (2.0, 45.0), (INF, 60.0)],
            sum: 50.0,
            count: 60.0,
        };
        assert_eq!(odd.since(&later), odd);
        // The buckets changed (a new server): nothing to subtract from.
        let other = Hist { buckets: vec![(1.0, 60.0), (INF, 60.0)], sum: 9.0, count: 60.0 };
        assert_eq!(other.since(&later), other);
        assert_eq!(later.since(&later).quantile(0.5), None, "nothing happened in between");
    }

    #[test]
    fn counters_since() {
        assert_eq!(counter_since(544.0, 500.0), 44.0);
        assert_eq!(counter_since(500.0, 500.0), 0.0);
        assert_eq!(counter_since(12.0, 500.0), 12.0, "a reset: the restarted server's count");
    }

    #[test]
    fn from_a_family_sums_label_sets_bucket_by_bucket() {
        let page = parse(
            "# TYPE t histogram\n\
             t_bucket{engine=\"0\",le=\"0.5\"} 1\nt_bucket{engine=\"0\",le=\"1\"} 3\nt_bucket{engine=\"0\",le=\"+Inf\"} 4\n\
             t_sum{engine=\"0\"} 3\nt_count{engine=\"0\"} 4\n\
             t_bucket{engine=\"1\",le=\"+Inf\"} 2\nt_bucket{engine=\"1\",le=\"1\"} 2\nt_bucket{engine=\"1\",le=\"0.5\"} 0\n\
             t_sum{engine=\"1\"} 1.5\nt_count{engine=\"1\"} 2\nt_created{engine=\"1\"} 1.7e9\n\
             # TYPE g gauge\ng 1\n",
        )
        .unwrap();
        let h = Hist::from_family(page.family("t").unwrap()).unwrap();
        assert_eq!(h, Hist { buckets: vec![(0.5, 1.0), (1.0, 5.0), (INF, 6.0)], sum: 4.5, count: 6.0 });
        assert_eq!(Hist::from_family(page.family("g").unwrap()), None);
    }

    #[test]
    fn a_gauge_histogram_and_a_histogram_without_count() {
        let page = parse(
            "# TYPE g gaugehistogram\ng_bucket{le=\"1\"} 2\ng_bucket{le=\"+Inf\"} 3\ng_gsum 2.5\ng_gcount 3\n\
             # TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 5\nh_sum 7\n\
             # TYPE e histogram\ne_sum 0\ne_count 0\n# EOF\n",
        )
        .unwrap();
        let g = Hist::from_family(page.family("g").unwrap()).unwrap();
        assert_eq!((g.sum, g.count), (2.5, 3.0));
        let h = Hist::from_family(page.family("h").unwrap()).unwrap();
        assert_eq!(h.count, 5.0, "taken from the +Inf bucket");
        assert_eq!(Hist::from_family(page.family("e").unwrap()), None, "no buckets");
    }
}
