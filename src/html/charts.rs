//! The report's charts, drawn with the `svg` writer: the per-second time series (requests/s,
//! output tokens/s, in flight, TTFT and ITL p50/p99, errors/s) from the same rows as
//! `--series`, and each distribution's histogram and cumulative share. Labels and units live
//! here; scales, ticks and escaping in `svg`.

use super::bins::{self, Bins, Point};
use crate::lang::Lang;
use crate::stats::{Histogram, SeriesRow};
use crate::svg::{Plot, escape};

/// A long run's seconds are merged so that a chart holds at most this many points.
pub const MAX_POINTS: usize = 300;
/// Bars in a distribution's histogram.
const BINS: usize = 40;

const W: f64 = 560.0;
const H: f64 = 220.0;

/// A compact axis label: 0.25, 12, 1.5k, 2M.
pub fn short(v: f64) -> String {
    let a = v.abs();
    let trim = |s: String| {
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
    };
    if a >= 1e6 {
        format!("{}M", trim(format!("{:.1}", v / 1e6)))
    } else if a >= 1e4 {
        format!("{}k", trim(format!("{:.1}", v / 1e3)))
    } else if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        trim(format!("{v:.1}"))
    } else {
        trim(format!("{v:.3}"))
    }
}

/// Elapsed seconds as an axis label.
fn secs(v: f64) -> String {
    format!("{}s", short(v))
}

/// A line of a time-series chart: its legend label, CSS class, and value at a point.
type Line = (&'static str, &'static str, fn(&Point) -> Option<f64>);

/// One time-series chart of `lines`.
fn series_chart(l: Lang, title: &str, unit: &str, pts: &[Point], lines: &[Line]) -> String {
    let t_max = pts.last().map_or(1.0, |p| p.t);
    let y_max = pts.iter().flat_map(|p| lines.iter().filter_map(|l| (l.2)(p))).fold(0.0, f64::max);
    let mut plot = Plot::new(W, H, (0.0, t_max), (0.0, if y_max > 0.0 { y_max } else { 1.0 }));
    plot.axes(l.pick("elapsed", "已运行"), unit, secs, short);
    for (label, class, value) in lines {
        let points: Vec<(f64, Option<f64>)> = pts.iter().map(|p| (p.t, value(p))).collect();
        plot.line(label, class, &points);
    }
    figure(title, plot.finish(title))
}

fn figure(caption: &str, svg: String) -> String {
    format!("<figure>{svg}<figcaption>{}</figcaption></figure>", escape(caption))
}

/// The time-series charts, and a note on how many seconds a point stands for.
pub fn series(rows: &[SeriesRow], l: Lang) -> String {
    if rows.is_empty() {
        let none = l.pick("No request finished: nothing to chart.", "没有请求结束：没有可画的图。");
        return format!("<p class=\"none\">{none}</p>");
    }
    let (pts, k) = bins::points(rows, MAX_POINTS);
    let mut out = String::new();
    if k > 1 {
        let n = rows.len();
        let note = l.pick(
            format!("{n} seconds, merged {k} at a time: rates over each {k} s, the median of their p50s and the largest of their p99s, the most in flight."),
            format!("共 {n} 秒，每 {k} 秒合并为一点：速率按每 {k} 秒计算，取 p50 的中位数、p99 的最大值、在途请求的最大值。"),
        );
        out += &format!("<p class=\"note\">{note}</p>");
    }
    out += "<div class=\"grid\">";
    out += &series_chart(
        l,
        l.pick("Requests per second (ok)", "每秒请求数（成功）"),
        "req/s",
        &pts,
        &[("ok/s", "s1", |p| Some(p.requests_per_s))],
    );
    out += &series_chart(
        l,
        l.pick("Output tokens per second", "每秒输出 token"),
        "tok/s",
        &pts,
        &[("tok/s", "s1", |p| Some(p.tokens_per_s))],
    );
    out += &series_chart(
        l,
        l.pick("Requests in flight", "在途请求"),
        l.pick("requests", "请求"),
        &pts,
        &[("in flight", "s1", |p| Some(p.in_flight as f64))],
    );
    out += &series_chart(
        l,
        l.pick("Errors per second", "每秒错误数"),
        "errors/s",
        &pts,
        &[("failed/s", "s3", |p| Some(p.errors_per_s))],
    );
    out += &series_chart(
        l,
        l.pick("TTFT of requests ending each second", "每秒结束请求的 TTFT"),
        "ms",
        &pts,
        &[("p50", "s1", |p| p.ttft[0]), ("p99", "s2", |p| p.ttft[1])],
    );
    out += &series_chart(
        l,
        l.pick("ITL of requests ending each second", "每秒结束请求的 ITL"),
        "ms",
        &pts,
        &[("p50", "s1", |p| p.itl[0]), ("p99", "s2", |p| p.itl[1])],
    );
    out += "</div>";
    out
}

/// A distribution's histogram and cumulative share, side by side; `None` when it is empty.
pub fn distribution(
    l: Lang,
    name: &str,
    unit: &str,
    h: &Histogram,
    scale: f64,
    whole: bool,
) -> Option<String> {
    let b: Bins = bins::bins(h, scale, BINS, whole)?;
    let (mut lo, mut hi) = (b.lo, b.hi());
    if b.counts.len() < 5 {
        // A few values only: room either side, so one bar is not the whole chart.
        (lo, hi) = (lo - 2.0 * b.width, hi + 2.0 * b.width);
    }
    let top = b.counts.iter().copied().max().unwrap_or(1) as f64;
    let mut hist = Plot::new(W, H, (lo, hi), (0.0, top));
    hist.axes(unit, l.pick("requests", "请求"), short, short);
    let bars: Vec<(f64, f64, f64)> = b
        .counts
        .iter()
        .enumerate()
        .map(|(i, &c)| (b.lo + b.width * i as f64, b.lo + b.width * (i + 1) as f64, c as f64))
        .collect();
    hist.bars("count", "s1", &bars);
    let mut cdf = Plot::new(W, H, (lo, hi), (0.0, 1.0));
    cdf.axes(unit, l.pick("share ≤ x", "占比 ≤ x"), short, short);
    let pts: Vec<(f64, Option<f64>)> = b.cdf.iter().map(|&(x, f)| (x, Some(f))).collect();
    cdf.line("cumulative share", "s2", &pts);
    let above = if b.above > 0 {
        let (n, hi) = (b.above, short(b.hi()));
        l.pick(
            format!(" ({n} above {hi} {unit} not shown: past the 99.9th percentile)"),
            format!("（{n} 个高于 {hi} {unit} 的值未画出：超过第 99.9 百分位）"),
        )
    } else {
        String::new()
    };
    Some(format!(
        "<div class=\"grid\">{}{}</div>",
        figure(
            &l.pick(format!("{name}: histogram{above}"), format!("{name}：直方图{above}")),
            hist.finish(&format!("{name} histogram"))
        ),
        figure(
            &l.pick(format!("{name}: cumulative share"), format!("{name}：累计占比")),
            cdf.finish(&format!("{name} CDF"))
        )
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_short() {
        let got: Vec<String> =
            [0.0, 0.25, 1.5, 12.0, 250.0, 9999.0, 15_000.0, 2_000_000.0].map(short).to_vec();
        assert_eq!(got, ["0", "0.25", "1.5", "12", "250", "9999", "15k", "2M"]);
        assert_eq!(secs(30.0), "30s");
    }
}
