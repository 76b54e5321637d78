//! `llmload sweep`'s banner (the target, the levels, the time they should take); its table: one
//! row per level as it ends, the same columns for every kind of sweep (and the server's most
//! requests running and waiting and its KV cache's highest use when it scrapes
//! `--server-metrics`); and `--find`'s lines: what
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
/// The server's columns (`--server-metrics`), before the verdict: its most requests running and
/// waiting over the level, and its KV cache at its fullest.
const SERVER_COLUMNS: [(&str, &str); 3] =
    [("running max", "运行中最多"), ("waiting max", "等待最多"), ("KV max", "KV 最高")];
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
    /// The server's most requests running and waiting, and its KV cache's highest use (0–1),
    /// over the level (`--server-metrics`); `None` without them.
    pub running_max: Option<f64>,
    pub waiting_max: Option<f64>,
    pub kv_max: Option<f64>,
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

    /// The server's cells: running max, waiting max, KV max (`-` where unknown).
    pub fn server_cells(&self) -> [String; 3] {
        let whole = |v: Option<f64>| {
            v.map_or_else(|| "-".to_string(), |v| super::format::count(v.round().max(0.0) as u64))
        };
        [whole(self.running_max), whole(self.waiting_max), percent(self.kv_max)]
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
            running_max: s.server.as_ref().and_then(|x| x.running_max),
            waiting_max: s.server.as_ref().and_then(|x| x.waiting_max),
            kv_max: s.server.as_ref().and_then(|x| x.kv_use_max),
        }
    }
}

/// The header line; with the server's columns when the sweep scrapes `--server-metrics`.
pub fn header(lang: Lang, server: bool) -> String {
    let mut line = pad_right(lang.pick("level", "级别"), LEVEL_WIDTH);
    let (before, verdict) = COLUMNS[..COLUMNS.len() - 1].split_at(COLUMNS.len() - 2);
    let shown = if server { &SERVER_COLUMNS[..] } else { &[] };
    for &c in before.iter().chain(shown).chain(verdict) {
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

/// One level's line, its columns under the header's (`server`: as the header was given).
pub fn row(r: &Row, server: bool) -> String {
    let verdict = r.verdict.map_or("-", Verdict::name);
    let mut line = pad_right(&r.level, LEVEL_WIDTH);
    let shown = if server { r.server_cells().to_vec() } else { Vec::new() };
    for c in r.cells().iter().chain(&shown).map(String::as_str).chain([verdict]) {
        line.push_str(&pad_left(c, WIDTH));
    }
    line
}

/// The line before a `--find` measurement: the level, its requests and why, and the time they
/// should take at `rate` req/s (estimated from the level before; `None` for the first).
pub fn find_try(variable: search::Variable, t: &Try, target: f64, rate: Option<f64>, l: Lang) -> String {
    let label = variable.label(t.level);
    let why = match t.why {
        Why::First => {
            let n = search::needed(target);
            l.pick(
                format!("a pass at {target} needs at least {n}"),
                format!("目标 {target} 下通过至少需要 {n} 个"),
            )
        }
        Why::Undecided => {
            let (good, n) = t.so_far;
            let ci = search::wilson(good, n).map_or("-".into(), |(lo, hi)| format!("{lo:.3}–{hi:.3}"));
            l.pick(
                format!("undecided: {good} of {n} good, interval {ci}"),
                format!("无法判定：{n} 个中达标 {good} 个，区间 {ci}"),
            )
        }
        Why::ClientBound => l.pick("again: the client was the limit", "重测：上次受限于客户端").to_string(),
    };
    let eta = rate.filter(|r| *r > 0.0).map_or(l.pick("time unknown", "时间未知").into(), |r| {
        let t = search::human(std::time::Duration::from_secs_f64(t.requests as f64 / r));
        l.pick(format!("about {t}"), format!("约 {t}"))
    });
    let (requests, cap) = (t.requests, search::human(t.cap));
    l.pick(
        format!("find: {label}: {requests} requests ({why}), {eta}, at most {cap}"),
        format!("搜索：{label}：{requests} 个请求（{why}），{eta}，至多 {cap}"),
    )
}

/// The answer of `--find` in one line: the capacity, or the bounds known, with each bounding
/// level's attainment, interval and requests.
pub fn find_answer(c: &Capacity, l: Lang) -> String {
    let name = match c.variable {
        Variable::Concurrency => l.pick("concurrency", "并发"),
        Variable::Rate => l.pick("rate", "速率"),
    };
    let level = |v: f64| {
        let label = c.variable.label(v);
        let Some(p) = c.last_of(v) else { return label };
        let word = match p.decided {
            Some(true) => l.pick("passed", "通过"),
            Some(false) => l.pick("failed", "未通过"),
            None => l.pick("undecided", "无法判定"),
        };
        let bound = match c.client_bound(v) {
            true => {
                l.pick(", client-bound: the client may have set it", "，受限于客户端：结果可能由客户端决定")
            }
            false => "",
        };
        let counts = counts(p, l);
        l.pick(format!("{label} {word} ({counts}{bound})"), format!("{label} {word}（{counts}{bound}）"))
    };
    let show = search::show;
    let head = match (c.answer(), c.passing, c.failing) {
        (Answer::Found, Some(p), _) => format!("{name} {}", show(p)),
        (_, Some(p), Some(f)) => {
            let (p, f) = (show(p), show(f));
            l.pick(format!("{name} between {p} and {f}"), format!("{name}介于 {p} 与 {f} 之间"))
        }
        (_, Some(p), None) => {
            let p = show(p);
            l.pick(format!("{name} at least {p}"), format!("{name}至少 {p}"))
        }
        (_, None, Some(f)) => {
            let f = show(f);
            l.pick(format!("none: below {name} {f}"), format!("无：低于{name} {f}"))
        }
        (_, None, None) => l.pick("unknown: no level was decided", "未知：没有级别得出判定").to_string(),
    };
    let mut known: Vec<String> = [c.passing, c.failing].into_iter().flatten().map(level).collect();
    if let Some(u) = c.undecided() {
        let (label, t, counts) = (c.variable.label(u.level), search::human(u.level_elapsed), counts(u, l));
        known.push(l.pick(
            format!("{label} undecided after {t} ({counts})"),
            format!("{label} 在 {t} 后仍无法判定（{counts}）"),
        ));
    }
    let (reason, target) = (c.stop_reason.get(l), c.target);
    match (known.is_empty(), l) {
        (true, Lang::En) => format!("capacity: {head} ({reason}; target {target} of requests within --slo)"),
        (false, Lang::En) => format!(
            "capacity: {head} ({reason}; target {target} of requests within --slo): {}",
            known.join(", ")
        ),
        (true, Lang::Zh) => format!("容量：{head}（{reason}；目标：{target} 的请求满足 --slo）"),
        (false, Lang::Zh) => {
            format!("容量：{head}（{reason}；目标：{target} 的请求满足 --slo）：{}", known.join("，"))
        }
    }
}

/// A level's attainment, its interval and the requests behind them.
fn counts(p: &Probe, l: Lang) -> String {
    match (p.attainment, p.attainment_ci) {
        (Some(a), Some((lo, hi))) => {
            let n = p.determined;
            l.pick(
                format!("{a:.3}, {lo:.3}–{hi:.3}, {n} requests"),
                format!("{a:.3}，{lo:.3}–{hi:.3}，{n} 个请求"),
            )
        }
        _ => l.pick("no request judged", "没有已判定的请求").to_string(),
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
            running_max: None,
            waiting_max: None,
            kv_max: None,
        };
        let (h, line) = (header(Lang::En, false), row(&r, false));
        assert_eq!(
            line,
            "c8                       12.3      1,234.5      101.2ms      150.0ms       10.0ms            -        2.50s         0.0%         11.0        97.5% client-bound"
        );
        assert_eq!(h.len(), LEVEL_WIDTH + 11 * WIDTH);
        assert!(h.starts_with("level") && h.ends_with("    verdict"), "{h}");
        let zh = header(Lang::Zh, false);
        assert!(zh.starts_with("级别") && zh.ends_with("    判定") && zh.contains("有效吞吐"), "{zh}");
        assert_eq!(super::super::format::display_width(&zh), h.len(), "the same columns in both languages");
    }

    #[test]
    fn a_sweep_that_scrapes_the_server_has_its_columns_before_the_verdict() {
        let r = Row {
            level: "c4".into(),
            req_s: 8.0,
            tok_s: 64.0,
            ttft: (Some(20.0), Some(30.0)),
            tpot: (Some(2.0), Some(3.0)),
            e2e_p99: Some(50.0),
            errors: Some(0.0),
            goodput: None,
            attainment: None,
            verdict: Some(Verdict::Ok),
            running_max: Some(4.0),
            waiting_max: Some(12.4),
            kv_max: Some(0.875),
        };
        let h = header(Lang::En, true);
        assert_eq!(
            h,
            "level                   req/s    out tok/s     TTFT p50     TTFT p99     TPOT p50     TPOT p99      E2E p99       errors      goodput   attainment  running max  waiting max       KV max      verdict"
        );
        assert_eq!(
            row(&r, true),
            "c4                        8.0         64.0       20.0ms       30.0ms       2.00ms       3.00ms       50.0ms         0.0%            -            -            4           12        87.5%           ok"
        );
        assert_eq!(h.len(), LEVEL_WIDTH + 14 * WIDTH);
        let zh = header(Lang::Zh, true);
        assert!(zh.ends_with("   运行中最多     等待最多      KV 最高         判定"), "{zh}");
        assert_eq!(super::super::format::display_width(&zh), h.len(), "the same columns in both languages");
        // A level with no server block under the columns: dashes.
        let none = Row { running_max: None, waiting_max: None, kv_max: None, ..r };
        assert!(row(&none, true).ends_with("            -            -            -           ok"));
        // Without --server-metrics, no columns, whatever the row holds.
        assert_eq!(header(Lang::En, false).len(), LEVEL_WIDTH + 11 * WIDTH);
        assert!(!row(&none, false).contains("87.5%"));
    }

    #[test]
    fn the_search_lines_are_in_the_sweeps_language() {
        use crate::search::{Measured, Probe};
        let t =
            Try { level: 4.0, requests: 73, cap: Duration::from_secs(30), why: Why::First, so_far: (0, 0) };
        let v = Variable::Concurrency;
        assert_eq!(
            find_try(v, &t, 0.95, Some(36.5), Lang::En),
            "find: c4: 73 requests (a pass at 0.95 needs at least 73), about 2.0s, at most 30.0s"
        );
        assert_eq!(
            find_try(v, &t, 0.95, Some(36.5), Lang::Zh),
            "搜索：c4：73 个请求（目标 0.95 下通过至少需要 73 个），约 2.0s，至多 30.0s"
        );
        let again = Try { why: Why::Undecided, so_far: (40, 45), ..t };
        assert_eq!(
            find_try(v, &again, 0.95, None, Lang::Zh),
            "搜索：c4：73 个请求（无法判定：45 个中达标 40 个，区间 0.765–0.952），时间未知，至多 30.0s"
        );
        let bound = Try { why: Why::ClientBound, ..t };
        assert!(find_try(v, &bound, 0.95, None, Lang::Zh).contains("（重测：上次受限于客户端）"));
        let probe = |level: f64, good: u64, decided| Probe {
            level,
            requests: 73,
            measured: Measured {
                good,
                determined: 73,
                client_bound: false,
                all_failed: false,
                elapsed: Duration::from_secs(2),
                requests_per_s: 36.5,
            },
            counted: true,
            good,
            determined: 73,
            attainment: Some(good as f64 / 73.0),
            attainment_ci: search::wilson(good, 73),
            decided,
            cap: Duration::from_secs(30),
            level_elapsed: Duration::from_secs(2),
        };
        let c = Capacity {
            variable: v,
            value: Some(4.0),
            passing: Some(4.0),
            failing: Some(5.0),
            target: 0.95,
            probes: vec![probe(4.0, 73, Some(true)), probe(5.0, 30, Some(false))],
            stop_reason: crate::lang::Text { en: "converged".into(), zh: "已收敛".into() },
        };
        assert_eq!(
            find_answer(&c, Lang::En),
            "capacity: concurrency 4 (converged; target 0.95 of requests within --slo): c4 passed (1.000, 0.950–1.000, 73 requests), c5 failed (0.411, 0.305–0.526, 73 requests)"
        );
        assert_eq!(
            find_answer(&c, Lang::Zh),
            "容量：并发 4（已收敛；目标：0.95 的请求满足 --slo）：c4 通过（1.000，0.950–1.000，73 个请求），c5 未通过（0.411，0.305–0.526，73 个请求）"
        );
        let none = Capacity { value: None, passing: None, probes: vec![probe(5.0, 30, Some(false))], ..c };
        assert!(
            find_answer(&none, Lang::Zh).starts_with("容量：无：低于并发 5（已收敛；"),
            "{}",
            find_answer(&none, Lang::Zh)
        );
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
