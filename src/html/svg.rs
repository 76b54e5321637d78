//! A small SVG writer for the HTML report's charts: linear scales with round ticks, a plot area
//! with axes, grid and labels, lines (broken where a value is missing), bars, a legend, and the
//! escaping of every text it writes (`escape`, which the HTML page uses too). It writes inline
//! SVG for an HTML page (no `xmlns`, nothing fetched); colours come from the page's CSS classes.
//! Pure: numbers in, text out. It knows nothing of runs or units; callers format tick labels.

use std::fmt::Write;

/// `s` safe inside XML and HTML text and attribute values: `& < > " '` become entities.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// About how wide `s` is in 11 px text: a CJK character (or any wide one) twice a Latin one.
fn text_width(s: &str) -> f64 {
    s.chars().map(|c| if c as u32 >= 0x2E80 { 12.0 } else { 7.0 }).sum()
}

/// A coordinate with at most one decimal, and none when it is whole: short files.
fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() { format!("{}", r as i64) } else { format!("{r:.1}") }
}

/// A linear map from a domain of values to a range of pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub lo: f64,
    pub hi: f64,
    from: f64,
    to: f64,
}

impl Scale {
    /// Maps `[lo, hi]` onto `[from, to]`; an empty or reversed domain is widened to one unit.
    pub fn new(lo: f64, hi: f64, from: f64, to: f64) -> Scale {
        let (lo, hi) = if lo.is_finite() && hi.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let hi = if hi > lo { hi } else { lo + 1.0 };
        Scale { lo, hi, from, to }
    }

    /// The pixel for `v` (values outside the domain map outside the range).
    pub fn at(&self, v: f64) -> f64 {
        self.from + (v - self.lo) / (self.hi - self.lo) * (self.to - self.from)
    }

    /// About `n` round values (1, 2 or 5 times a power of ten apart) within the domain.
    pub fn ticks(&self, n: usize) -> Vec<f64> {
        let step = nice_step((self.hi - self.lo) / n.max(1) as f64);
        let first = (self.lo / step).ceil() as i64;
        let last = (self.hi / step + 1e-9).floor() as i64;
        (first..=last).map(|i| i as f64 * step).collect()
    }

    /// The domain widened to round ends (the first and last ticks), for a y axis from 0.
    pub fn nice(self, n: usize) -> Scale {
        let step = nice_step((self.hi - self.lo) / n.max(1) as f64);
        let lo = (self.lo / step).floor() * step;
        let hi = (self.hi / step - 1e-9).ceil() * step;
        Scale::new(lo, hi, self.from, self.to)
    }
}

/// The decimals evenly spaced `ticks` need so that their labels differ: none for a step of 1 or
/// more, one for 0.5 or 0.2, two for 0.05, …
fn decimals_of(ticks: &[f64]) -> usize {
    match ticks {
        [a, b, ..] if b - a < 1.0 && b > a => (-(b - a).log10()).ceil().max(0.0) as usize,
        _ => 0,
    }
}

/// The round step (1, 2 or 5 × 10ⁿ) nearest above `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let m = raw / mag;
    let f = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    f * mag
}

/// How many lines below its first place a point's label may move before it tries the other side.
const LABEL_LINES: usize = 3;
/// The height of a line of 11 px text, with room between lines.
const LINE: f64 = 12.0;

/// The baseline of a label `left`..`left + width` wide: from `first` down, each time just below
/// the `placed` labels (left, baseline, width) in its way, at most `LABEL_LINES` lines; `None`
/// when it leaves that room or the plot (`inside`). A label is in the way when less than a line
/// (less a hair, so that moving below it always moves down) separates them; each can be in the
/// way once.
fn free_line(
    placed: &[(f64, f64, f64)],
    (left, width): (f64, f64),
    first: f64,
    inside: impl Fn(f64) -> bool,
) -> Option<f64> {
    let mut base = first;
    for _ in 0..=placed.len() {
        if base >= first + LINE * (LABEL_LINES as f64 - 0.5) || !inside(base) {
            return None;
        }
        let below = placed
            .iter()
            .filter(|&&(l, b, w)| left < l + w && l < left + width && (base - b).abs() < LINE - 0.01)
            .map(|&(_, b, _)| b + LINE)
            .reduce(f64::max);
        match below {
            None => return Some(base),
            Some(b) => base = b,
        }
    }
    None
}

/// Room around the plot area for tick labels and titles.
const LEFT: f64 = 58.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 26.0;
const BOTTOM: f64 = 40.0;

/// One chart: a plot area inside `width` × `height` pixels, its scales, and what is drawn.
pub struct Plot {
    width: f64,
    height: f64,
    pub x: Scale,
    pub y: Scale,
    body: String,
    legend: Vec<(String, String)>,
    /// The labels placed: left edge, baseline and width, in pixels.
    labels: Vec<(f64, f64, f64)>,
}

impl Plot {
    /// A plot of x in `[x_lo, x_hi]` and y from `y_lo` to `y_hi` widened to round ticks.
    pub fn new(width: f64, height: f64, (x_lo, x_hi): (f64, f64), (y_lo, y_hi): (f64, f64)) -> Plot {
        let x = Scale::new(x_lo, x_hi, LEFT, width - RIGHT);
        let y = Scale::new(y_lo, y_hi, height - BOTTOM, TOP).nice(4);
        Plot { width, height, x, y, body: String::new(), legend: Vec::new(), labels: Vec::new() }
    }

    /// Grid lines, ticks and labels on both axes, and each axis's title.
    pub fn axes(
        &mut self,
        x_title: &str,
        y_title: &str,
        x_label: impl Fn(f64, usize) -> String,
        y_label: impl Fn(f64, usize) -> String,
    ) {
        let (left, right) = (LEFT, self.width - RIGHT);
        let (top, bottom) = (TOP, self.height - BOTTOM);
        let b = &mut self.body;
        let y_ticks = self.y.ticks(4);
        let y_decimals = decimals_of(&y_ticks);
        for t in y_ticks {
            let y = num(self.y.at(t));
            let _ = write!(
                b,
                r#"<line class="gridline" x1="{}" x2="{}" y1="{y}" y2="{y}"/>"#,
                num(left),
                num(right)
            );
            let _ = write!(
                b,
                r#"<text class="tick" x="{}" y="{y}" dy="4" text-anchor="end">{}</text>"#,
                num(left - 6.0),
                escape(&y_label(t, y_decimals))
            );
        }
        let x_ticks = self.x.ticks(6);
        let x_decimals = decimals_of(&x_ticks);
        for t in x_ticks {
            let x = num(self.x.at(t));
            let _ = write!(
                b,
                r#"<line class="axis" x1="{x}" x2="{x}" y1="{}" y2="{}"/>"#,
                num(bottom),
                num(bottom + 4.0)
            );
            let _ = write!(
                b,
                r#"<text class="tick" x="{x}" y="{}" text-anchor="middle">{}</text>"#,
                num(bottom + 16.0),
                escape(&x_label(t, x_decimals))
            );
        }
        let _ = write!(
            b,
            r#"<line class="axis" x1="{l}" x2="{r}" y1="{bo}" y2="{bo}"/><line class="axis" x1="{l}" x2="{l}" y1="{t}" y2="{bo}"/>"#,
            l = num(left),
            r = num(right),
            t = num(top),
            bo = num(bottom)
        );
        let _ = write!(
            b,
            r#"<text class="title" x="{}" y="{}" text-anchor="middle">{}</text><text class="title" x="{}" y="{}">{}</text>"#,
            num((left + right) / 2.0),
            num(self.height - 6.0),
            escape(x_title),
            num(4.0),
            num(TOP - 10.0),
            escape(y_title)
        );
    }

    /// A line through `points` in CSS class `class`, broken where a y is missing; a point alone
    /// between gaps is a dot. Named `label` in the legend.
    pub fn line(&mut self, label: &str, class: &str, points: &[(f64, Option<f64>)]) {
        self.legend.push((label.to_string(), class.to_string()));
        let mut run: Vec<(f64, f64)> = Vec::new();
        for &(x, y) in points.iter().chain([(f64::NAN, None)].iter()) {
            match y.filter(|y| y.is_finite()) {
                Some(y) => run.push((self.x.at(x), self.y.at(y))),
                None => {
                    self.polyline(class, &run);
                    run.clear();
                }
            }
        }
    }

    /// A step line through `points` (sorted by x) in CSS class `class`, as a cumulative share is
    /// drawn: from each point level to the next one's x, then up (or down) to its y. Named
    /// `label` in the legend.
    pub fn steps(&mut self, label: &str, class: &str, points: &[(f64, f64)]) {
        self.legend.push((label.to_string(), class.to_string()));
        let mut run: Vec<(f64, f64)> = Vec::with_capacity(points.len() * 2);
        for &(x, y) in points.iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
            let (x, y) = (self.x.at(x), self.y.at(y));
            if let Some(&(last, before)) = run.last()
                && last != x
            {
                run.push((x, before));
            }
            if run.last() != Some(&(x, y)) {
                run.push((x, y));
            }
        }
        self.polyline(class, &run);
    }

    fn polyline(&mut self, class: &str, run: &[(f64, f64)]) {
        match run {
            [] => {}
            [(x, y)] => {
                let _ =
                    write!(self.body, r#"<circle class="{class}" cx="{}" cy="{}" r="2"/>"#, num(*x), num(*y));
            }
            _ => {
                let pts: Vec<String> = run.iter().map(|(x, y)| format!("{},{}", num(*x), num(*y))).collect();
                let _ = write!(self.body, r#"<polyline class="{class}" points="{}"/>"#, pts.join(" "));
            }
        }
    }

    /// Bars from `x0` to `x1`, `y` high, in CSS class `class`.
    pub fn bars(&mut self, label: &str, class: &str, bars: &[(f64, f64, f64)]) {
        self.legend.push((label.to_string(), class.to_string()));
        let base = self.y.at(self.y.lo.max(0.0));
        for &(x0, x1, y) in bars.iter().filter(|b| b.2 > 0.0) {
            let (left, right, top) = (self.x.at(x0), self.x.at(x1), self.y.at(y));
            let _ = write!(
                self.body,
                r#"<rect class="{class}" x="{}" y="{}" width="{}" height="{}"/>"#,
                num(left),
                num(top),
                num((right - left - 0.5).max(0.5)),
                num((base - top).max(0.5))
            );
        }
    }

    /// A dot at (`x`, `y`) in CSS class `class`, `r` pixels wide.
    pub fn dot(&mut self, class: &str, (x, y): (f64, f64), r: f64) {
        let (cx, cy) = (self.x.at(x), self.y.at(y));
        let _ = write!(
            self.body,
            r#"<circle class="{class}" cx="{}" cy="{}" r="{}"/>"#,
            num(cx),
            num(cy),
            num(r)
        );
    }

    /// `text` beside the point (`x`, `y`): above and to its right (below, at the top of the plot),
    /// else just below the labels in its way, at most two lines further down, else the same on
    /// its left; the first place that lies inside the plot and overlaps no label placed before
    /// wins. A label with no such place
    /// is dropped (`false`): labels never cover each other, and the same points always drop the
    /// same labels.
    pub fn label(&mut self, (x, y): (f64, f64), text: &str) -> bool {
        let (px, py, width) = (self.x.at(x), self.y.at(y), text_width(text));
        // Near the top, where the legend is, below the point instead.
        let first = if py - 6.0 < TOP + 4.0 { py + 14.0 } else { py - 6.0 };
        let (right_end, bottom) = (self.width - RIGHT, self.height - BOTTOM);
        let inside = |left: f64, base: f64| {
            left >= LEFT && left + width <= right_end && base - 10.0 >= TOP && base <= bottom - 2.0
        };
        let place = [px + 7.0, px - 7.0 - width].into_iter().find_map(|left| {
            Some((left, free_line(&self.labels, (left, width), first, |b| inside(left, b))?))
        });
        let Some((left, base)) = place else { return false };
        self.labels.push((left, base, width));
        let _ = write!(
            self.body,
            r#"<text class="label" x="{}" y="{}">{}</text>"#,
            num(left),
            num(base),
            escape(text)
        );
        true
    }

    /// A horizontal line across the plot at `y` in CSS class `class`, `label` above its left end
    /// (where a chart of rising load has its lowest points).
    pub fn hline(&mut self, class: &str, y: f64, label: &str) {
        let (left, right, at) = (LEFT, self.width - RIGHT, self.y.at(y));
        let _ = write!(
            self.body,
            r#"<line class="{class}" x1="{}" x2="{}" y1="{y}" y2="{y}"/><text class="title" x="{}" y="{}">{}</text>"#,
            num(left),
            num(right),
            num(left + 4.0),
            num(at - 4.0),
            escape(label),
            y = num(at)
        );
    }

    /// A vertical line up the plot at `x` in CSS class `class`, `label` at its top.
    pub fn vline(&mut self, class: &str, x: f64, label: &str) {
        let (top, bottom, at) = (TOP, self.height - BOTTOM, self.x.at(x));
        let anchor = if at > (LEFT + self.width - RIGHT) / 2.0 { "end" } else { "start" };
        let dx = if anchor == "end" { -4.0 } else { 4.0 };
        let _ = write!(
            self.body,
            r#"<line class="{class}" x1="{x}" x2="{x}" y1="{}" y2="{}"/><text class="title" x="{}" y="{}" text-anchor="{anchor}">{}</text>"#,
            num(top),
            num(bottom),
            num(at + dx),
            num(top + 10.0),
            escape(label),
            x = num(at)
        );
    }

    /// A line from `a` to `b` (in the plot's values) in CSS class `class`.
    pub fn segment(&mut self, class: &str, a: (f64, f64), b: (f64, f64)) {
        let _ = write!(
            self.body,
            r#"<line class="{class}" x1="{}" x2="{}" y1="{}" y2="{}"/>"#,
            num(self.x.at(a.0)),
            num(self.x.at(b.0)),
            num(self.y.at(a.1)),
            num(self.y.at(b.1))
        );
    }

    /// Names `label` in the legend with a key of CSS class `class`, for what `dot` drew.
    pub fn key(&mut self, label: &str, class: &str) {
        self.legend.push((label.to_string(), class.to_string()));
    }

    /// The finished `<svg>`, titled `title` (read by screen readers and as a tooltip).
    pub fn finish(mut self, title: &str) -> String {
        let mut x = self.width - RIGHT;
        for (label, class) in self.legend.iter().rev() {
            x -= 12.0 + text_width(label);
            let _ = write!(
                self.body,
                r#"<rect class="{class} key" x="{}" y="6" width="9" height="9"/><text class="tick" x="{}" y="14">{}</text>"#,
                num(x),
                num(x + 12.0),
                escape(label)
            );
            x -= 8.0;
        }
        format!(
            r#"<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"><title>{}</title>{}</svg>"#,
            escape(title),
            self.body,
            w = num(self.width),
            h = num(self.height)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape(r#"<b>"x" & 'y'</b>"#), "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;");
        assert_eq!(escape("你好 <3"), "你好 &lt;3");
        let mut p = Plot::new(300.0, 200.0, (0.0, 10.0), (0.0, 1.0));
        p.axes("t <s>", "a & b", |v, _| format!("{v}<"), |v, _| format!("{v}"));
        p.line("p50 <x>", "s1", &[(0.0, Some(0.5))]);
        let svg = p.finish("TTFT \"p50\" <script>");
        assert!(svg.contains("<title>TTFT &quot;p50&quot; &lt;script&gt;</title>"), "{svg}");
        assert!(
            svg.contains(">t &lt;s&gt;<") && svg.contains(">a &amp; b<") && svg.contains(">p50 &lt;x&gt;<"),
            "{svg}"
        );
        assert!(!svg.contains("<script") && !svg.contains("xmlns"), "{svg}");
    }

    #[test]
    fn labels_step_down_past_the_ones_they_would_overlap() {
        let mut p = Plot::new(300.0, 200.0, (0.0, 10.0), (0.0, 10.0));
        p.label((5.0, 5.0), "c2 ?");
        p.label((5.0, 5.0), "c2 ✗");
        p.label((9.0, 5.0), "far");
        let svg = p.finish("t");
        assert!(svg.contains(r#"y="87">c2 ?<"#) && svg.contains(r#"y="99">c2 ✗<"#), "{svg}");
        assert!(svg.contains(r#"y="87">far<"#), "a label elsewhere stays beside its point: {svg}");
    }

    /// The placed point labels of `svg`: (left, baseline, text).
    fn labels(svg: &str) -> Vec<(f64, f64, String)> {
        svg.split(r#"<text class="label" x=""#)
            .skip(1)
            .map(|t| {
                let (x, rest) = t.split_once(r#"" y=""#).unwrap();
                let (y, rest) = rest.split_once(r#"">"#).unwrap();
                (x.parse().unwrap(), y.parse().unwrap(), rest.split_once("</text>").unwrap().0.to_string())
            })
            .collect()
    }

    #[test]
    fn labels_of_points_on_top_of_each_other_never_overlap_and_drop_the_same_ones() {
        let draw = || {
            let mut p = Plot::new(300.0, 200.0, (0.0, 10.0), (0.0, 10.0));
            let placed: Vec<bool> =
                (0..10).map(|i| p.label((5.0 + i as f64 * 0.01, 5.0), &format!("c{}", 1 << i))).collect();
            (placed, p.finish("t"))
        };
        let (placed, svg) = draw();
        // Three lines right of the point, three left of it; the other four have no room.
        assert_eq!(placed, [true, true, true, true, true, true, false, false, false, false]);
        let got = labels(&svg);
        assert_eq!(got.len(), 6, "{svg}");
        for (i, a) in got.iter().enumerate() {
            for b in &got[i + 1..] {
                let (wa, wb) = (text_width(&a.2), text_width(&b.2));
                let apart = a.0 + wa <= b.0 || b.0 + wb <= a.0 || (a.1 - b.1).abs() > 11.9;
                assert!(apart, "{a:?} overlaps {b:?}: {svg}");
            }
        }
        assert_eq!(draw().1, svg, "the same points place and drop the same labels");
        // A label past the plot's right edge goes to the left of its point.
        let mut p = Plot::new(300.0, 200.0, (0.0, 10.0), (0.0, 10.0));
        assert!(p.label((10.0, 5.0), "r12.5"));
        let edge = p.finish("t");
        assert_eq!(labels(&edge), [(286.0 - 7.0 - 35.0, 87.0, "r12.5".to_string())], "{edge}");
    }

    #[test]
    fn a_label_a_rounding_error_under_a_line_below_another_still_moves_on() {
        // 73.17719982868147 − 61.17719982868147 is a hair under a line, yet the first plus a
        // line is no more than the second: moving below the label in the way moved nowhere, and
        // placing the label never ended.
        let (b, base) = (61.17719982868147, 73.17719982868147);
        assert!(base - b < LINE && b + LINE <= base, "the case this test is about");
        let placed = [(100.0, b, 21.0)];
        assert_eq!(free_line(&placed, (100.0, 21.0), base, |_| true), Some(base), "a line apart: free");
        // In the way of the first place, each label is passed once, and the room runs out.
        let stack: Vec<_> = (0..5).map(|k| (100.0, 50.0 + 12.0 * k as f64, 21.0)).collect();
        assert_eq!(free_line(&stack, (100.0, 21.0), 50.0, |_| true), None);
        assert_eq!(free_line(&stack[..2], (100.0, 21.0), 50.0, |_| true), Some(74.0));
        assert_eq!(free_line(&stack[..2], (100.0, 21.0), 50.0, |b| b < 70.0), None, "out of the plot");
    }

    #[test]
    fn steps_go_across_then_up() {
        let mut p = Plot::new(300.0, 200.0, (0.0, 4.0), (0.0, 1.0));
        p.steps("cdf", "s2", &[(0.0, 0.0), (1.0, 0.5), (1.0, 0.75), (4.0, 1.0)]);
        let svg = p.finish("t");
        // x: 58 + 57 a unit; y: 160 at 0, 26 at 1.
        assert!(
            svg.contains(r#"<polyline class="s2" points="58,160 115,160 115,93 115,59.5 286,59.5 286,26"/>"#),
            "{svg}"
        );
    }

    #[test]
    fn scales_map_and_tick_at_round_values() {
        let s = Scale::new(0.0, 10.0, 100.0, 200.0);
        assert_eq!((s.at(0.0), s.at(5.0), s.at(10.0)), (100.0, 150.0, 200.0));
        let y = Scale::new(0.0, 10.0, 200.0, 0.0);
        assert_eq!(y.at(2.5), 150.0, "y grows upward");
        assert_eq!(s.ticks(5), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(Scale::new(0.0, 1234.0, 0.0, 1.0).ticks(4), [0.0, 500.0, 1000.0]);
        assert_eq!(Scale::new(0.0, 0.037, 0.0, 1.0).nice(4).hi, 0.04);
        assert_eq!(Scale::new(0.0, 1234.0, 0.0, 1.0).nice(4).hi, 1500.0);
        // An empty or broken domain is widened, never divided by zero.
        let flat = Scale::new(3.0, 3.0, 0.0, 10.0);
        assert_eq!((flat.lo, flat.hi, flat.at(3.0)), (3.0, 4.0, 0.0));
        assert_eq!(Scale::new(f64::NAN, 1.0, 0.0, 1.0).hi, 1.0);
        assert_eq!((nice_step(0.0), nice_step(0.3), nice_step(7.0), nice_step(15.0)), (1.0, 0.5, 10.0, 20.0));
    }

    #[test]
    fn lines_break_at_gaps_and_bars_stand_on_zero() {
        let mut p = Plot::new(300.0, 200.0, (0.0, 4.0), (0.0, 10.0));
        p.line(
            "x",
            "s1",
            &[(0.0, Some(1.0)), (1.0, Some(2.0)), (2.0, None), (3.0, Some(5.0)), (4.0, Some(f64::NAN))],
        );
        p.bars("n", "s2", &[(0.0, 1.0, 10.0), (1.0, 2.0, 0.0)]);
        let svg = p.finish("t");
        assert_eq!(svg.matches("<polyline").count(), 1, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 1, "the lone point is a dot: {svg}");
        // One bar drawn (an empty one is not), plus the two legend keys.
        assert_eq!(svg.matches("<rect class=\"s2\"").count(), 1, "{svg}");
        assert!(svg.contains(r#"<rect class="s2" x="58" y="26" width="56.5" height="134"/>"#), "{svg}");
        assert_eq!((num(1.25), num(3.0), num(-0.04)), ("1.3".into(), "3".into(), "0".into()));
        assert_eq!((text_width("p50"), text_width("从发送起"), text_width("≤ x")), (21.0, 48.0, 21.0));
    }
}
