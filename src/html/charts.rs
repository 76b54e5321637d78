//! The report's charts, drawn with the `svg` writer: the per-second time series (requests/s,
//! output tokens/s, in flight, TTFT and ITL p50/p99, errors/s) from the same rows as
//! `--series`, each distribution's histogram and cumulative share (a step line, since the share
//! rises only where values are; TTFT's with a second line from the intended start when that
//! differs), a share with its interval on one bar (goodput's
//! attainment), and the small stacked bar of counts in a table row. Labels and units live
//! here; scales, ticks and escaping in `svg`.

use super::bins::{self, Bins, Point};
use super::svg::{Plot, Scale, escape};
use crate::lang::Lang;
use crate::stats::{Histogram, SeriesRow};
use std::fmt::Write;

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

/// An axis tick's label: `short`, or, where the ticks are closer than 1 apart, with the
/// `decimals` that keep neighbouring labels apart (730.5, not 731 beside 731).
pub fn tick(v: f64, decimals: usize) -> String {
    if decimals == 0 || v.abs() >= 1e4 { short(v) } else { format!("{v:.decimals$}") }
}

/// Elapsed seconds as an axis tick's label.
fn secs(v: f64, decimals: usize) -> String {
    format!("{}s", tick(v, decimals))
}

/// A line of a time-series chart: its legend label, CSS class, and value at a point.
type Line = (&'static str, &'static str, fn(&Point) -> Option<f64>);

/// One time-series chart of `lines`.
fn series_chart(l: Lang, title: &str, unit: &str, pts: &[Point], lines: &[Line]) -> String {
    figure(title, time_plot(l, (title, unit), pts, lines, H))
}

/// The `<svg>` of `lines` over the run's time, `height` pixels high: x from 0 to the last
/// point's end, as every time-series chart of the page has it, so charts line up.
fn time_plot(l: Lang, (title, unit): (&str, &str), pts: &[Point], lines: &[Line], height: f64) -> String {
    let t_max = pts.last().map_or(1.0, |p| p.t);
    let y_max = pts.iter().flat_map(|p| lines.iter().filter_map(|l| (l.2)(p))).fold(0.0, f64::max);
    let mut plot = Plot::new(W, height, (0.0, t_max), (0.0, if y_max > 0.0 { y_max } else { 1.0 }));
    plot.axes(l.pick("elapsed", "已运行"), unit, secs, tick);
    for (label, class, value) in lines {
        let points: Vec<(f64, Option<f64>)> = pts.iter().map(|p| (p.t, value(p))).collect();
        plot.line(label, class, &points);
    }
    plot.finish(title)
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
        &[(l.pick("ok/s", "成功/秒"), "s1", |p| Some(p.requests_per_s))],
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
        &[(l.pick("in flight", "在途"), "s1", |p| Some(p.in_flight as f64))],
    );
    out += &series_chart(
        l,
        l.pick("Errors per second", "每秒错误数"),
        "errors/s",
        &pts,
        &[(l.pick("failed/s", "失败/秒"), "s3", |p| Some(p.errors_per_s))],
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

/// The height of each of two charts stacked on one time axis.
const PAIR_H: f64 = 180.0;

/// Two charts one above the other on the same time axis (the server's series above, the
/// client's below), under one caption.
fn pair(caption: &str, top: String, bottom: String) -> String {
    format!("<figure class=\"pair\">{top}{bottom}<figcaption>{}</figcaption></figure>", escape(caption))
}

/// The server's scraped series against the client's, each pair of charts on the time axis of
/// the page's other time-series charts: requests waiting and running above the client's TTFT
/// p50, and the KV cache's use above output tokens/s (received, and the server's generation
/// counter's growth). A pair whose server series no scrape had is left out, and said so.
pub fn server_series(rows: &[SeriesRow], l: Lang) -> String {
    let (pts, _) = bins::points(rows, MAX_POINTS);
    let has = |f: fn(&Point) -> Option<f64>| pts.iter().any(|p| f(p).is_some());
    let queue = has(|p| p.waiting) || has(|p| p.running);
    let kv = has(|p| p.kv_use);
    if !queue && !kv {
        let none = l.pick(
            "No scrape during the run held the server's requests or KV cache: nothing to chart.",
            "运行期间没有抓取到服务端的请求数或 KV 缓存：没有可画的图。",
        );
        return format!("<p class=\"none\">{none}</p>");
    }
    let mut out = String::from("<div class=\"grid\">");
    if queue {
        let top = time_plot(
            l,
            (l.pick("Requests on the server", "服务端的请求"), l.pick("requests", "请求")),
            &pts,
            &[
                (l.pick("waiting", "等待"), "s3", |p| p.waiting),
                (l.pick("running", "运行中"), "s1", |p| p.running),
            ],
            PAIR_H,
        );
        let bottom = time_plot(
            l,
            (l.pick("Client TTFT p50", "客户端 TTFT p50"), "TTFT ms"),
            &pts,
            &[("TTFT p50", "s2", |p| p.ttft[0])],
            PAIR_H,
        );
        out += &pair(
            l.pick(
                "Requests waiting and running on the server (above) against the client's TTFT p50 of the requests ending each second (below)",
                "服务端等待与运行中的请求（上）对客户端每秒结束请求的 TTFT p50（下）",
            ),
            top,
            bottom,
        );
    }
    if kv {
        let top = time_plot(
            l,
            (l.pick("KV cache use", "KV 缓存占用"), l.pick("KV use %", "KV 占用 %")),
            &pts,
            &[(l.pick("KV use", "KV 占用"), "s4", |p| p.kv_use.map(|v| v * 100.0))],
            PAIR_H,
        );
        let bottom = time_plot(
            l,
            (l.pick("Output tokens per second", "每秒输出 token"), "tok/s"),
            &pts,
            &[
                (l.pick("received", "已接收"), "s1", |p| Some(p.tokens_per_s)),
                (l.pick("server generated", "服务端生成"), "s2", |p| p.generated_per_s),
            ],
            PAIR_H,
        );
        out += &pair(
            l.pick(
                "The server's KV cache use (above) against output tokens per second, received by llmload and generated by the server (below)",
                "服务端 KV 缓存占用（上）对每秒输出 token：llmload 接收的与服务端生成的（下）",
            ),
            top,
            bottom,
        );
    }
    out += "</div>";
    if !(queue && kv) {
        let missing = if queue {
            l.pick("The server's pages show no KV cache use.", "服务端页面没有 KV 缓存占用。")
        } else {
            l.pick(
                "The server's pages show no running or waiting requests.",
                "服务端页面没有运行中或等待的请求数。",
            )
        };
        out += &format!("<p class=\"note\">{missing}</p>");
    }
    out
}

/// A second cumulative line on a distribution's chart: its legend label and its histogram
/// (in the same unit and scale as the first).
pub struct Also<'a> {
    pub label: &'a str,
    pub h: &'a Histogram,
}

/// A distribution's histogram and cumulative share, side by side; `None` when it is empty.
/// `also` adds a second line to the cumulative share (TTFT from the intended start), the x axis
/// widened to hold both.
pub fn distribution(
    l: Lang,
    name: &str,
    unit: &str,
    h: &Histogram,
    scale: f64,
    whole: bool,
    also: Option<Also>,
) -> Option<String> {
    let b: Bins = bins::bins(h, scale, BINS, whole)?;
    let (mut lo, mut hi) = (b.lo, b.hi());
    if b.counts.len() < 5 {
        // A few values only: room either side, so one bar is not the whole chart.
        (lo, hi) = (lo - 2.0 * b.width, hi + 2.0 * b.width);
    }
    let top = b.counts.iter().copied().max().unwrap_or(1) as f64;
    let mut hist = Plot::new(W, H, (lo, hi), (0.0, top));
    hist.axes(unit, l.pick("requests", "请求"), tick, tick);
    let bars: Vec<(f64, f64, f64)> = b
        .counts
        .iter()
        .enumerate()
        .map(|(i, &c)| (b.lo + b.width * i as f64, b.lo + b.width * (i + 1) as f64, c as f64))
        .collect();
    hist.bars(l.pick("count", "数量"), "s1", &bars);
    let also = also.and_then(|a| Some((a.label, bins::bins(a.h, scale, BINS, whole)?)));
    let (cdf_lo, cdf_hi) = match &also {
        Some((_, a)) => (lo.min(a.lo), hi.max(a.hi())),
        None => (lo, hi),
    };
    let mut cdf = Plot::new(W, H, (cdf_lo, cdf_hi), (0.0, 1.0));
    cdf.axes(unit, l.pick("share ≤ x", "占比 ≤ x"), tick, tick);
    match &also {
        Some((label, a)) => {
            cdf.steps(l.pick("from the send", "从发送起"), "s2", &b.cdf);
            cdf.steps(label, "s4", &a.cdf);
        }
        None => cdf.steps(l.pick("cumulative share", "累计占比"), "s2", &b.cdf),
    }
    let above = if b.above > 0 {
        let (n, hi) = (b.above, short(b.hi()));
        l.pick(
            format!(" ({n} above {hi} {unit} not shown: past the 99.9th percentile)"),
            format!("（{n} 个高于 {hi} {unit} 的值未画出：超过第 99.9 百分位）"),
        )
    } else {
        String::new()
    };
    let cdf_caption = match &also {
        Some((label, _)) => l.pick(
            format!("{name}: cumulative share, from the send and {label}"),
            format!("{name}：累计占比，从发送起与{label}"),
        ),
        None => l.pick(format!("{name}: cumulative share"), format!("{name}：累计占比")),
    };
    Some(format!(
        "<div class=\"grid\">{}{}</div>",
        figure(
            &l.pick(format!("{name}: histogram{above}"), format!("{name}：直方图{above}")),
            hist.finish(&format!("{name} histogram"))
        ),
        figure(&cdf_caption, cdf.finish(&format!("{name} CDF")))
    ))
}

/// Pixels of the interval bar.
const BAR_W: f64 = 560.0;
const BAR_H: f64 = 64.0;

/// A share (0–1) and its interval on one horizontal bar: the interval a band, the share a mark
/// with its value above it, percent ticks below. The axis starts at 0, or at a round tenth below
/// the interval when the interval sits high (99 % in a 0–100 % bar is a sliver); the ticks say
/// where it starts.
pub fn interval(title: &str, share: f64, (lo, hi): (f64, f64)) -> String {
    let start = if lo >= 0.5 { (((lo - 0.05) * 10.0).floor() / 10.0).max(0.0) } else { 0.0 };
    let x = Scale::new(start, 1.0, 16.0, BAR_W - 16.0);
    let pct = |v: f64| {
        let p = v * 100.0;
        if (p - p.round()).abs() < 1e-9 { format!("{p:.0}%") } else { format!("{p:.1}%") }
    };
    let n = |v: f64| format!("{:.1}", v);
    let mut o = format!(
        r#"<svg class="chart interval" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"><title>{}</title>"#,
        escape(title),
        w = BAR_W,
        h = BAR_H
    );
    let _ = write!(
        o,
        r#"<rect class="track" x="{}" y="24" width="{}" height="14"/>"#,
        n(x.at(start)),
        n(x.at(1.0) - x.at(start))
    );
    let (a, b) = (x.at(lo.clamp(start, 1.0)), x.at(hi.clamp(start, 1.0)));
    let _ =
        write!(o, r#"<rect class="band" x="{}" y="24" width="{}" height="14"/>"#, n(a), n((b - a).max(1.0)));
    let m = x.at(share.clamp(start, 1.0));
    let _ = write!(
        o,
        r#"<line class="mark" x1="{m}" x2="{m}" y1="19" y2="43"/><text class="title" x="{m}" y="14" text-anchor="middle">{}</text>"#,
        escape(&pct(share)),
        m = n(m)
    );
    for t in x.ticks(5) {
        let _ = write!(
            o,
            r#"<text class="tick" x="{}" y="58" text-anchor="middle">{}</text>"#,
            n(x.at(t)),
            escape(&pct(t))
        );
    }
    o += "</svg>";
    o
}

/// Counts side by side on one small bar, each part as wide as its share, in its CSS class;
/// the title (read by screen readers, shown as a tooltip) says the counts, as the table does.
pub fn stacked(title: &str, parts: &[(&str, u64)]) -> String {
    let (w, h) = (160.0, 12.0);
    let total: u64 = parts.iter().map(|p| p.1).sum();
    let mut o = format!(
        r#"<svg class="stacked" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"><title>{}</title>"#,
        escape(title)
    );
    let mut x = 0.0;
    for &(class, c) in parts.iter().filter(|p| p.1 > 0) {
        let width = w * c as f64 / total as f64;
        let _ = write!(o, r#"<rect class="{class}" x="{x:.1}" y="0" width="{width:.1}" height="{h}"/>"#);
        x += width;
    }
    if total == 0 {
        let _ = write!(o, r#"<rect class="track" x="0" y="0" width="{w}" height="{h}"/>"#);
    }
    o += "</svg>";
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_short() {
        let got: Vec<String> =
            [0.0, 0.25, 1.5, 12.0, 250.0, 9999.0, 15_000.0, 2_000_000.0].map(short).to_vec();
        assert_eq!(got, ["0", "0.25", "1.5", "12", "250", "9999", "15k", "2M"]);
        assert_eq!(secs(30.0, 0), "30s");
    }

    #[test]
    fn ticks_closer_than_one_keep_the_decimals_that_tell_them_apart() {
        let labels = |ticks: &[f64], d| ticks.iter().map(|&v| tick(v, d)).collect::<Vec<_>>();
        // A narrow E2E axis: 730 to 732 in steps of 0.5 read "730, 731, 731, 732, 732" before.
        assert_eq!(
            labels(&[730.0, 730.5, 731.0, 731.5, 732.0], 1),
            ["730.0", "730.5", "731.0", "731.5", "732.0"]
        );
        assert_eq!(labels(&[0.05, 0.1, 0.15], 2), ["0.05", "0.10", "0.15"]);
        assert_eq!(labels(&[0.0, 500.0, 1000.0], 0), ["0", "500", "1000"]);
        assert_eq!(secs(2.5, 1), "2.5s");
    }

    #[test]
    fn a_cumulative_share_is_drawn_in_steps() {
        let mut h = Histogram::default();
        for v in [1_000u64, 1_000, 2_000, 5_000, 5_000, 5_000, 9_000, 20_000] {
            h.record(v);
        }
        let html = distribution(Lang::En, "TTFT", "ms", &h, 0.001, false, None).unwrap();
        let cdf = html.split("<polyline class=\"s2\" points=\"").nth(1).unwrap().split('"').next().unwrap();
        let pts: Vec<(f64, f64)> = cdf
            .split(' ')
            .map(|p| p.split_once(',').map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap())).unwrap())
            .collect();
        assert!(pts.len() >= 6, "{cdf}");
        // Every segment is level or upright, never back or down the share, and they alternate:
        // across to the next value, up by its share (the smallest value rises where it starts).
        let mut level = Vec::new();
        for (i, w) in pts.windows(2).enumerate() {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            assert!(y0 == y1 || x0 == x1, "segment {i} of {cdf} is slanted");
            assert!(x1 >= x0 && y1 <= y0, "segment {i} of {cdf} goes back or down the share");
            level.push(y0 == y1);
        }
        assert!(level.windows(2).all(|w| w[0] != w[1]), "{cdf}: {level:?}");
        assert_eq!(level.iter().filter(|&&l| !l).count(), 5, "a rise for each of the 5 values: {cdf}");
    }

    #[test]
    fn an_interval_marks_its_share_and_starts_low_enough() {
        let svg = interval("a <b>", 0.5, (0.4, 0.6));
        assert!(svg.contains("<title>a &lt;b&gt;</title>") && svg.contains(">50%<"), "{svg}");
        assert!(svg.contains(">0%<") && svg.contains(">100%<"), "from 0 to 100 %: {svg}");
        // 40 %–60 % of 528 px from x = 16: the band starts at 227.2 and is 105.6 wide.
        assert!(svg.contains(r#"<rect class="band" x="227.2" y="24" width="105.6""#), "{svg}");
        // A high share is drawn on an axis from a round tenth below its interval.
        let high = interval("t", 0.985, (0.97, 0.995));
        assert!(high.contains(">90%<") && !high.contains(">0%<") && high.contains(">98.5%<"), "{high}");
    }

    #[test]
    fn a_stacked_bar_splits_by_count() {
        let svg = stacked("met 3 · missed 1", &[("s1", 3), ("s3", 1), ("s0", 0)]);
        assert!(svg.contains(r#"<rect class="s1" x="0.0" y="0" width="120.0""#), "{svg}");
        assert!(svg.contains(r#"<rect class="s3" x="120.0" y="0" width="40.0""#), "{svg}");
        assert!(!svg.contains("s0"), "an empty part is not drawn: {svg}");
        assert!(stacked("none", &[("s1", 0)]).contains("class=\"track\""));
    }
}
