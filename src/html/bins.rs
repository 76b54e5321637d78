//! What the report's charts plot, cut down to what a page can carry: a histogram's buckets
//! regrouped into a few equal-width bins (and its cumulative share), and a long run's seconds
//! merged into at most a few hundred points. Pure numbers; drawing is `charts`'.

use crate::stats::{Histogram, SeriesRow, ServerSecond};

/// Values in equal-width bins from `lo`; those beyond the last bin's end are in `above`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bins {
    pub lo: f64,
    pub width: f64,
    pub counts: Vec<u64>,
    /// Values past the last bin (above the 99.9th percentile).
    pub above: u64,
    /// The cumulative share at the end of each of the histogram's own buckets: (value, share).
    pub cdf: Vec<(f64, f64)>,
}

impl Bins {
    pub fn hi(&self) -> f64 {
        self.lo + self.width * self.counts.len() as f64
    }
}

/// `h`'s values times `scale` in about `n` bins from the smallest to the 99.9th percentile (so
/// one outlier does not squeeze the rest into one bar); integer values (`whole`) in bins at
/// least one wide. `None` when empty.
pub fn bins(h: &Histogram, scale: f64, n: usize, whole: bool) -> Option<Bins> {
    let min = h.min()? as f64 * scale;
    let top = h.quantile(0.999)? as f64 * scale;
    let top = if top > min { top } else { h.quantile(1.0)? as f64 * scale };
    let mut width = (top - min) / n.max(1) as f64;
    if whole {
        width = width.ceil().max(1.0);
    }
    if width <= 0.0 {
        width = (min.abs() * 0.1).max(scale);
    }
    let count = (((top - min) / width + 1e-9).floor() as usize + 1).min(n.max(1) + 1);
    let (mut counts, mut above) = (vec![0u64; count], 0);
    let total = h.count() as f64;
    let (mut seen, mut cdf) = (0u64, vec![(min, 0.0)]);
    let end = min + width * count as f64;
    for (lo, hi, c) in h.buckets() {
        let mid = (lo + hi) as f64 / 2.0 * scale;
        if mid >= end {
            above += c;
        } else {
            counts[(((mid - min) / width).floor().max(0.0) as usize).min(count - 1)] += c;
        }
        seen += c;
        let x = hi as f64 * scale;
        if x <= end {
            cdf.push((x, seen as f64 / total));
        }
    }
    Some(Bins { lo: min, width, counts, above, cdf: thin(cdf, 240) })
}

/// At most about `n` of `points`, evenly taken, the last always kept.
fn thin<T: Copy>(points: Vec<T>, n: usize) -> Vec<T> {
    if points.len() <= n {
        return points;
    }
    let step = points.len().div_ceil(n);
    let last = points[points.len() - 1];
    let mut out: Vec<T> = points.into_iter().step_by(step).collect();
    out.push(last);
    out
}

/// One point of a time-series chart: a second, or several merged.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The end of the merged seconds, s from the run's start.
    pub t: f64,
    pub requests_per_s: f64,
    pub tokens_per_s: f64,
    pub errors_per_s: f64,
    /// The largest in flight at the end of any merged second.
    pub in_flight: u64,
    /// The median of the merged seconds' p50s, and the largest of their p99s (so a spike shows).
    pub ttft: [Option<f64>; 2],
    pub itl: [Option<f64>; 2],
    /// The server's requests running and waiting and its KV cache use (0–1), the largest of
    /// the merged seconds' scrapes (so a queue's peak shows); `None` without a scrape.
    pub running: Option<f64>,
    pub waiting: Option<f64>,
    pub kv_use: Option<f64>,
    /// The server's generation-token counter's growth a second, the mean of the merged seconds'.
    pub generated_per_s: Option<f64>,
}

/// `rows` merged `k` at a time so that at most `max` points remain; and `k`.
pub fn points(rows: &[SeriesRow], max: usize) -> (Vec<Point>, usize) {
    let k = rows.len().div_ceil(max.max(1)).max(1);
    let mut groups: Vec<&[SeriesRow]> = rows.chunks(k).collect();
    // A last sliver (requests cut at the deadline end just after it) joins the point before,
    // so its rates are not read off a few milliseconds.
    if let [.., before, last] = groups[..]
        && last.iter().map(|r| r.duration_s).sum::<f64>() < 0.5
    {
        let start = rows.len() - before.len() - last.len();
        groups.truncate(groups.len() - 2);
        groups.push(&rows[start..]);
    }
    let merged = groups
        .into_iter()
        .map(|g| {
            let secs: f64 = g.iter().map(|r| r.duration_s).sum::<f64>().max(1e-3);
            let per_s = |f: fn(&SeriesRow) -> u64| g.iter().map(f).sum::<u64>() as f64 / secs;
            let p50 = |f: fn(&SeriesRow) -> Option<f64>| median(g.iter().filter_map(f).collect());
            let p99 = |f: fn(&SeriesRow) -> Option<f64>| g.iter().filter_map(f).reduce(f64::max);
            let server = |f: fn(&ServerSecond) -> Option<f64>| {
                g.iter().filter_map(move |r| r.server.as_ref().and_then(f))
            };
            let mean = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
            Point {
                t: g[g.len() - 1].elapsed_s,
                requests_per_s: per_s(|r| r.ok),
                tokens_per_s: per_s(|r| r.output_tokens),
                errors_per_s: per_s(|r| r.failed),
                in_flight: g.iter().map(|r| r.in_flight).max().unwrap_or(0),
                ttft: [p50(|r| r.ttft_p50_ms), p99(|r| r.ttft_p99_ms)],
                itl: [p50(|r| r.itl_p50_ms), p99(|r| r.itl_p99_ms)],
                running: server(|s| s.running).reduce(f64::max),
                waiting: server(|s| s.waiting).reduce(f64::max),
                kv_use: server(|s| s.kv_use).reduce(f64::max),
                generated_per_s: mean(server(|s| s.generation_tokens_per_s).collect()),
            }
        })
        .collect();
    (merged, k)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().filter(|_| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_bins_to_the_999th_percentile() {
        let mut h = Histogram::new();
        for v in 0..1000u64 {
            h.record(100 + v % 100); // 100..199, ten of each
        }
        h.record(1_000_000); // one outlier
        let b = bins(&h, 1.0, 10, false).unwrap();
        assert_eq!((b.lo, b.counts.len()), (100.0, 11));
        assert_eq!(b.counts.iter().sum::<u64>() + b.above, 1001);
        assert_eq!(b.above, 1, "the outlier is past the last bin");
        assert_eq!(b.cdf.first(), Some(&(100.0, 0.0)));
        assert!(b.cdf.len() <= 242 && b.cdf.last().unwrap().1 < 1.0, "{:?}", b.cdf.last());
        // Whole numbers: bins one wide when the values span less than the bins.
        let mut tokens = Histogram::new();
        for v in [60, 61, 61, 64] {
            tokens.record(v);
        }
        let b = bins(&tokens, 1.0, 40, true).unwrap();
        assert_eq!((b.lo, b.width, b.counts.clone(), b.above), (60.0, 1.0, vec![1, 2, 0, 0, 1], 0));
        // One value alone still makes a bar; nothing makes none.
        let mut one = Histogram::new();
        one.record(5000);
        let b = bins(&one, 0.001, 40, false).unwrap();
        assert_eq!((b.counts.iter().sum::<u64>(), b.above), (1, 0));
        assert_eq!(bins(&Histogram::new(), 1.0, 40, false), None);
    }

    fn row(i: usize) -> SeriesRow {
        SeriesRow {
            elapsed_s: i as f64 + 1.0,
            duration_s: 1.0,
            started: 2,
            finished: 2,
            finished_total: 2 * i as u64 + 2,
            ok: 2,
            failed: (i % 2) as u64,
            cancelled: 0,
            in_flight: i as u64 % 7,
            success_rate: Some(1.0),
            requests_per_s: 2.0,
            output_tokens: 100,
            output_tokens_per_s: 100.0,
            ttft_p50_ms: Some(i as f64),
            ttft_p99_ms: Some(2.0 * i as f64),
            itl_p50_ms: (i % 3 != 0).then_some(1.0),
            itl_p99_ms: None,
            read_lag_p99_ms: None,
            server: None,
        }
    }

    #[test]
    fn long_runs_merge_seconds_into_few_points() {
        let rows: Vec<SeriesRow> = (0..600).map(row).collect();
        let (p, k) = points(&rows, 300);
        assert_eq!((p.len(), k), (300, 2));
        assert_eq!(
            (p[0].t, p[0].requests_per_s, p[0].tokens_per_s, p[0].errors_per_s),
            (2.0, 2.0, 100.0, 0.5)
        );
        assert_eq!((p[0].in_flight, p[0].ttft, p[0].itl), (1, [Some(1.0), Some(2.0)], [Some(1.0), None]));
        let (p, k) = points(&rows[..5], 300);
        assert_eq!((p.len(), k, p[4].t), (5, 1, 5.0));
        // A last sliver of a second joins the point before it.
        let mut cut: Vec<SeriesRow> = rows[..3].to_vec();
        cut[2].duration_s = 0.01;
        cut[2].elapsed_s = 2.01;
        let (p, _) = points(&cut, 300);
        assert_eq!((p.len(), p[1].t, p[1].requests_per_s), (2, 2.01, 4.0 / 1.01));
        assert!(points(&[], 300).0.is_empty());
    }

    #[test]
    fn merged_seconds_keep_the_servers_peak() {
        let rows: Vec<SeriesRow> = (0..4)
            .map(|i| SeriesRow {
                server: (i != 1).then(|| ServerSecond {
                    running: Some(2.0),
                    waiting: Some([3.0, 0.0, 9.0, 1.0][i]),
                    kv_use: Some(0.1 * i as f64),
                    generation_tokens_per_s: Some([100.0, 0.0, 50.0, 70.0][i]),
                    prompt_tokens_per_s: None,
                    values: Default::default(),
                }),
                ..row(i)
            })
            .collect();
        let (p, _) = points(&rows, 2);
        // Seconds 1–2 (the second without a scrape adds nothing) and 3–4.
        assert_eq!(
            (p[0].waiting, p[0].running, p[0].kv_use, p[0].generated_per_s),
            (Some(3.0), Some(2.0), Some(0.0), Some(100.0))
        );
        assert_eq!(
            (p[1].waiting, p[1].kv_use, p[1].generated_per_s),
            (Some(9.0), Some(0.30000000000000004), Some(60.0))
        );
        let (plain, _) = points(&rows[1..2], 300);
        assert_eq!((plain[0].waiting, plain[0].kv_use), (None, None), "no scrape, no value");
    }
}
