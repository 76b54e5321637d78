//! `llmload sweep`'s table: one row per level as it ends, the same columns for every kind of
//! sweep; and `--find`'s lines: what each level is about to measure, and the answer with what
//! is known of the levels that bound it.

use super::format::{opt_ms, pad_left, pad_right, percent, rate};
use crate::search::{self, Answer, Capacity, Probe, Try, Why};
use crate::summary::Summary;
use crate::summary::verdict::Verdict;

const COLUMNS: [&str; 12] = [
    "req/s",
    "out tok/s",
    "TTFT p50",
    "TTFT p99",
    "TPOT p50",
    "TPOT p99",
    "E2E p99",
    "errors",
    "goodput",
    "attainment",
    "verdict",
    "",
];
const LEVEL_WIDTH: usize = 16;
const WIDTH: usize = 13;

/// One level's numbers.
pub struct Row {
    pub level: String,
    pub req_s: f64,
    pub tok_s: f64,
    pub ttft: (Option<f64>, Option<f64>),
    pub tpot: (Option<f64>, Option<f64>),
    pub e2e_p99: Option<f64>,
    /// Failed among finished requests.
    pub errors: Option<f64>,
    pub goodput: Option<f64>,
    pub attainment: Option<f64>,
    pub verdict: Option<Verdict>,
}

impl Row {
    /// The level's numbers, as the table's cells from req/s to attainment (the terminal's and
    /// the HTML page's).
    pub fn cells(&self) -> [String; 10] {
        [
            rate(self.req_s),
            rate(self.tok_s),
            opt_ms(self.ttft.0),
            opt_ms(self.ttft.1),
            opt_ms(self.tpot.0),
            opt_ms(self.tpot.1),
            opt_ms(self.e2e_p99),
            percent(self.errors),
            self.goodput.map_or_else(|| "-".into(), rate),
            percent(self.attainment),
        ]
    }

    pub fn of(level: &str, s: &Summary) -> Row {
        let m = &s.metrics;
        let p =
            |d: &Option<crate::stats::Distribution>| (d.as_ref().map(|d| d.p50), d.as_ref().map(|d| d.p99));
        let finished = s.requests.ok + s.requests.failed;
        Row {
            level: level.to_string(),
            req_s: s.throughput.requests_per_s,
            tok_s: s.throughput.output_tokens_per_s,
            ttft: p(&m.ttft_ms),
            tpot: p(&m.tpot_ms),
            e2e_p99: m.e2e_ms.as_ref().map(|d| d.p99),
            errors: (finished > 0).then(|| s.requests.failed as f64 / finished as f64),
            goodput: s.goodput.as_ref().map(|g| g.requests_per_s),
            attainment: s.goodput.as_ref().and_then(|g| g.attainment),
            verdict: s.client.verdict,
        }
    }
}

/// The header line.
pub fn header() -> String {
    let mut line = pad_right("level", LEVEL_WIDTH);
    for c in &COLUMNS[..COLUMNS.len() - 1] {
        line.push_str(&pad_left(c, WIDTH));
    }
    line
}

/// One level's line, its columns under the header's.
pub fn row(r: &Row) -> String {
    let verdict = r.verdict.map_or("-", Verdict::name);
    let mut line = pad_right(&r.level, LEVEL_WIDTH);
    for c in r.cells().iter().map(String::as_str).chain([verdict]) {
        line.push_str(&pad_left(c, WIDTH));
    }
    line
}

/// The line before a `--find` measurement: the level, its requests and why, and the time they
/// should take at `rate` req/s (estimated from the level before; `None` for the first).
pub fn find_try(variable: search::Variable, t: &Try, target: f64, rate: Option<f64>) -> String {
    let label = variable.label(t.level);
    let why = match t.why {
        Why::First => format!("a pass at {target} needs at least {}", search::needed(target)),
        Why::Undecided => {
            let (good, n) = t.so_far;
            let ci = search::wilson(good, n).map_or("-".into(), |(lo, hi)| format!("{lo:.3}–{hi:.3}"));
            format!("undecided: {good} of {n} good, interval {ci}")
        }
        Why::ClientBound => "again: the client was the limit".to_string(),
    };
    let eta = rate.filter(|r| *r > 0.0).map_or("time unknown".into(), |r| {
        format!("about {}", search::human(std::time::Duration::from_secs_f64(t.requests as f64 / r)))
    });
    format!("find: {label}: {} requests ({why}), {eta}, at most {}", t.requests, search::human(t.cap))
}

/// The answer of `--find` in one line: the capacity, or the bounds known, with each bounding
/// level's attainment, interval and requests.
pub fn find_answer(c: &Capacity) -> String {
    let name = c.variable.name();
    let level = |v: f64| {
        let Some(p) = c.last_of(v) else { return c.variable.label(v) };
        let word = match p.decided {
            Some(true) => "passed",
            Some(false) => "failed",
            None => "undecided",
        };
        let bound = if c.client_bound(v) { ", client-bound: the client may have set it" } else { "" };
        format!("{} {word} ({}{bound})", c.variable.label(v), counts(p))
    };
    let show = search::show;
    let head = match (c.answer(), c.passing, c.failing) {
        (Answer::Found, Some(p), _) => format!("{name} {}", show(p)),
        (_, Some(p), Some(f)) => format!("{name} between {} and {}", show(p), show(f)),
        (_, Some(p), None) => format!("{name} at least {}", show(p)),
        (_, None, Some(f)) => format!("none: below {name} {}", show(f)),
        (_, None, None) => "unknown: no level was decided".to_string(),
    };
    let mut known: Vec<String> = [c.passing, c.failing].into_iter().flatten().map(level).collect();
    if let Some(u) = c.undecided() {
        known.push(format!(
            "{} undecided after {} ({})",
            c.variable.label(u.level),
            search::human(u.level_elapsed),
            counts(u)
        ));
    }
    let known = if known.is_empty() { String::new() } else { format!(": {}", known.join(", ")) };
    format!("capacity: {head} ({}; target {} of requests within --slo){known}", c.stop_reason, c.target)
}

/// A level's attainment, its interval and the requests behind them.
fn counts(p: &Probe) -> String {
    match (p.attainment, p.attainment_ci) {
        (Some(a), Some((lo, hi))) => format!("{a:.3}, {lo:.3}–{hi:.3}, {} requests", p.determined),
        _ => "no request judged".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_line_up_with_the_header() {
        let r = Row {
            level: "c8".into(),
            req_s: 12.34,
            tok_s: 1_234.5,
            ttft: (Some(101.2), Some(150.0)),
            tpot: (Some(10.0), None),
            e2e_p99: Some(2_500.0),
            errors: Some(0.0),
            goodput: Some(11.0),
            attainment: Some(0.975),
            verdict: Some(Verdict::ClientBound),
        };
        let (h, line) = (header(), row(&r));
        assert_eq!(
            line,
            "c8                       12.3      1,234.5      101.2ms      150.0ms       10.0ms            -        2.50s         0.0%         11.0        97.5% client-bound"
        );
        assert_eq!(h.len(), LEVEL_WIDTH + 11 * WIDTH);
        assert!(h.starts_with("level") && h.ends_with("    verdict"), "{h}");
    }
}
