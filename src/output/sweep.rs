//! `llmload sweep`'s banner (the target, the levels, the time they should take); its table: one
//! row per level as it ends, the same columns for every kind of sweep; and `--find`'s lines: what
//! each level is about to measure, and the answer with what is known of the levels that bound
//! it. The live line under a level is `progress`'s.

use super::format::{opt_ms, pad_left, pad_right, percent, rate};
use super::warnings::human;
use crate::lang::Lang;
use crate::search::{self, Answer, Capacity, Probe, Try, Variable, Why};
use crate::summary::Summary;
use crate::summary::verdict::Verdict;
use std::time::Duration;

const COLUMNS: [(&str, &str); 12] = [
    ("req/s", "req/s"),
    ("out tok/s", "输出 tok/s"),
    ("TTFT p50", "TTFT p50"),
    ("TTFT p99", "TTFT p99"),
    ("TPOT p50", "TPOT p50"),
    ("TPOT p99", "TPOT p99"),
    ("E2E p99", "E2E p99"),
    ("errors", "错误"),
    ("goodput", "有效吞吐"),
    ("attainment", "达成率"),
    ("verdict", "判定"),
    ("", ""),
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
pub fn header(lang: Lang) -> String {
    let mut line = pad_right(lang.pick("level", "级别"), LEVEL_WIDTH);
    for &c in &COLUMNS[..COLUMNS.len() - 1] {
        line.push_str(&pad_left(lang.of(c), WIDTH));
    }
    line
}

/// The levels a sweep runs, as its banner names them.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A list of concurrencies or rates.
    List(Variable, Vec<f64>),
    /// `--rate auto`: a synchronous level, a saturated one at this concurrency, then this many
    /// rates between.
    Auto { saturated: usize, between: usize },
    /// `--find`: from `start`, the largest level where `target` of the requests meet `--slo`,
    /// a level taking at most `level_time`.
    Find { variable: Variable, start: f64, target: f64, level_time: Duration },
}

impl Shape {
    /// How many levels, when known before the sweep runs (`--rate auto` may stop after two).
    pub fn count(&self) -> Option<usize> {
        match self {
            Shape::List(_, levels) => Some(levels.len()),
            Shape::Auto { between, .. } => Some(2 + between),
            Shape::Find { .. } => None,
        }
    }
}

/// What the banner says: the target, the levels, each level's end and the total time.
pub struct Banner<'a> {
    pub api: &'a str,
    pub url: &'a str,
    pub shape: &'a Shape,
    /// `-d`: a level's length (for `--find`, one measurement's longest).
    pub duration: Option<Duration>,
    /// `-n`: a level's request budget.
    pub requests: Option<u64>,
}

/// The line before the first level: `llmload sweep → openai URL · concurrency 1, 2, 4 · 10s a
/// level · about 30s in all`. The total is the levels times `-d` for a list ("at most" with `-n`
/// too, or for `--rate auto`, which may stop early), and said to be unknown otherwise.
pub fn banner(b: &Banner, lang: Lang) -> String {
    let list = |levels: &[f64]| levels.iter().map(f64::to_string).collect::<Vec<_>>().join(", ");
    let levels = match b.shape {
        Shape::List(Variable::Concurrency, l) => {
            lang.pick(format!("concurrency {}", list(l)), format!("并发 {}", list(l)))
        }
        Shape::List(Variable::Rate, l) => {
            lang.pick(format!("rate {} req/s", list(l)), format!("速率 {} req/s", list(l)))
        }
        Shape::Auto { saturated, between } => lang.pick(
            format!(
                "rate auto: c1, c{saturated}, then {between} rate{} between",
                if *between == 1 { "" } else { "s" }
            ),
            format!("速率 auto：c1、c{saturated}，再取其间 {between} 个速率"),
        ),
        Shape::Find { variable, start, target, level_time } => {
            let (from, most) = (variable.label(*start), human(*level_time));
            let cap = |en: &str, zh: &str| {
                b.duration.map_or(String::new(), |d| format!("{}{}", lang.pick(en, zh), human(d)))
            };
            let zh_name = match variable {
                Variable::Concurrency => "并发",
                Variable::Rate => "速率",
            };
            lang.pick(
                format!(
                    "find the largest {} from {from} where {target} of requests meet --slo (a level at most {most}{})",
                    variable.name(),
                    cap(", a measurement at most ", "")
                ),
                format!("寻找 {target} 的请求满足 --slo 的最大{zh_name}，从 {from} 起（每级至多 {most}{}）", cap("", "，每次测量至多 ")),
            )
        }
    };
    let each = match (b.shape, b.duration, b.requests) {
        (Shape::Find { .. }, ..) => None,
        (_, Some(d), Some(n)) => Some(lang.pick(
            format!("{} or {n} requests a level", human(d)),
            format!("每级 {} 或 {n} 个请求", human(d)),
        )),
        (_, Some(d), None) => Some(lang.pick(format!("{} a level", human(d)), format!("每级 {}", human(d)))),
        (_, None, Some(n)) => Some(lang.pick(format!("{n} requests a level"), format!("每级 {n} 个请求"))),
        (_, None, None) => None,
    };
    let total = match (b.shape, b.shape.count(), b.duration) {
        (Shape::Find { .. }, ..) => lang.pick(
            "total time unknown: the search decides its levels".to_string(),
            "总时间未知：级别由搜索决定".to_string(),
        ),
        (shape, Some(n), Some(d)) => {
            let t = super::progress::clock(d.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX)));
            if b.requests.is_some() || matches!(shape, Shape::Auto { .. }) {
                lang.pick(format!("at most {t} in all"), format!("总计至多 {t}"))
            } else {
                lang.pick(format!("about {t} in all"), format!("总计约 {t}"))
            }
        }
        _ => lang.pick(
            "total time unknown: each level ends with its requests".to_string(),
            "总时间未知：每级随其请求结束".to_string(),
        ),
    };
    let mut parts = vec![format!("llmload sweep → {} {}", b.api, b.url), levels];
    parts.extend(each);
    parts.push(total);
    parts.join(" · ")
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
        let (h, line) = (header(Lang::En), row(&r));
        assert_eq!(
            line,
            "c8                       12.3      1,234.5      101.2ms      150.0ms       10.0ms            -        2.50s         0.0%         11.0        97.5% client-bound"
        );
        assert_eq!(h.len(), LEVEL_WIDTH + 11 * WIDTH);
        assert!(h.starts_with("level") && h.ends_with("    verdict"), "{h}");
        let zh = header(Lang::Zh);
        assert!(zh.starts_with("级别") && zh.ends_with("    判定") && zh.contains("有效吞吐"), "{zh}");
        assert_eq!(super::super::format::display_width(&zh), h.len(), "the same columns in both languages");
    }

    const URL: &str = "http://127.0.0.1:8080/v1/chat/completions";

    fn said(shape: Shape, duration: Option<u64>, requests: Option<u64>, lang: Lang) -> String {
        let duration = duration.map(Duration::from_secs);
        banner(&Banner { api: "openai-chat", url: URL, shape: &shape, duration, requests }, lang)
    }

    #[test]
    fn the_banner_names_the_target_the_levels_and_the_time() {
        let c = || Shape::List(Variable::Concurrency, vec![1.0, 2.0, 4.0, 8.0]);
        assert_eq!(
            said(c(), Some(30), None, Lang::En),
            format!(
                "llmload sweep → openai-chat {URL} · concurrency 1, 2, 4, 8 · 30s a level · about 2m00s in all"
            )
        );
        assert_eq!(
            said(c(), Some(30), None, Lang::Zh),
            format!("llmload sweep → openai-chat {URL} · 并发 1, 2, 4, 8 · 每级 30s · 总计约 2m00s")
        );
        assert_eq!(
            said(c(), Some(10), Some(100), Lang::En),
            format!(
                "llmload sweep → openai-chat {URL} · concurrency 1, 2, 4, 8 · 10s or 100 requests a level · at most 40s in all"
            )
        );
        let r = Shape::List(Variable::Rate, vec![2.5, 5.0]);
        assert_eq!(
            said(r.clone(), None, Some(50), Lang::En),
            format!(
                "llmload sweep → openai-chat {URL} · rate 2.5, 5 req/s · 50 requests a level · total time unknown: each level ends with its requests"
            )
        );
        assert_eq!(
            said(r, None, Some(50), Lang::Zh),
            format!(
                "llmload sweep → openai-chat {URL} · 速率 2.5, 5 req/s · 每级 50 个请求 · 总时间未知：每级随其请求结束"
            )
        );
        let auto = Shape::Auto { saturated: 256, between: 5 };
        assert_eq!(auto.count(), Some(7));
        assert_eq!(
            said(auto.clone(), Some(20), None, Lang::En),
            format!(
                "llmload sweep → openai-chat {URL} · rate auto: c1, c256, then 5 rates between · 20s a level · at most 2m20s in all"
            )
        );
        assert_eq!(
            said(auto, Some(20), None, Lang::Zh),
            format!(
                "llmload sweep → openai-chat {URL} · 速率 auto：c1、c256，再取其间 5 个速率 · 每级 20s · 总计至多 2m20s"
            )
        );
    }

    #[test]
    fn a_search_banner_names_its_target_and_an_unknown_total() {
        let find = |variable| Shape::Find {
            variable,
            start: 1.0,
            target: 0.95,
            level_time: Duration::from_secs(600),
        };
        assert_eq!(find(Variable::Concurrency).count(), None);
        assert_eq!(
            said(find(Variable::Concurrency), Some(30), None, Lang::En),
            format!(
                "llmload sweep → openai-chat {URL} · find the largest concurrency from c1 where 0.95 of requests meet --slo (a level at most 10m, a measurement at most 30s) · total time unknown: the search decides its levels"
            )
        );
        assert_eq!(
            said(find(Variable::Rate), None, None, Lang::En),
            format!(
                "llmload sweep → openai-chat {URL} · find the largest rate from r1 where 0.95 of requests meet --slo (a level at most 10m) · total time unknown: the search decides its levels"
            )
        );
        assert_eq!(
            said(find(Variable::Concurrency), Some(30), None, Lang::Zh),
            format!(
                "llmload sweep → openai-chat {URL} · 寻找 0.95 的请求满足 --slo 的最大并发，从 c1 起（每级至多 10m，每次测量至多 30s） · 总时间未知：级别由搜索决定"
            )
        );
    }
}
