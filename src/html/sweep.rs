//! `llmload sweep --html`: one self-contained page for a whole sweep, in the run report's shell
//! (its style, its policy that forbids fetching, every text escaped). With `--find`, the
//! capacity first: the answer, the stop reason, the target, the last level that passed and the
//! first that failed. Then latency against throughput (requests/s on x, TTFT p50 and p99 on y,
//! one point per level labelled with it; the `--slo` TTFT bound a dashed line, and for `--find`
//! each level marked passed, failed or undecided, in a sign as well as a colour, and the
//! capacity a vertical line), the attainment of each level with its 95 % interval against the
//! target, the table of levels with the columns of the sweep's terminal table, and the first
//! level's configuration. When the levels scraped `--server-metrics`, the server's most
//! requests waiting and running and its KV cache's highest use by level (where it saturated),
//! charted and in the table. Pure: the levels' summaries in, the HTML out.

use super::svg::{Plot, escape};
use super::{Section, charts, shell};
use crate::lang::Lang;
use crate::output::format::{ms, percent, rate};
use crate::output::sweep::Row;
use crate::search::{self, Capacity, Probe};
use crate::slo::{Bound, Metric, Slo};
use crate::summary::Summary;
use crate::summary::verdict::Verdict;
use std::fmt::Write;

/// One level of the sweep: its label (`c4`, `r2.5`), its concurrency or rate, its summary.
pub struct Level<'a> {
    pub label: &'a str,
    pub value: f64,
    pub summary: &'a Summary,
}

const W: f64 = 760.0;
const H: f64 = 320.0;

/// How `--find` judged a level.
#[derive(Clone, Copy, PartialEq)]
enum Judged {
    Passed,
    Failed,
    Undecided,
    /// Client-bound, or every request failed: the search stopped without using it as a bound.
    Unused,
}

impl Judged {
    fn class(self) -> &'static str {
        match self {
            Judged::Passed => "passed",
            Judged::Failed => "failed",
            Judged::Undecided | Judged::Unused => "undecided",
        }
    }

    fn sign(self) -> &'static str {
        match self {
            Judged::Passed => "✓",
            Judged::Failed => "✗",
            Judged::Undecided => "?",
            Judged::Unused => "–",
        }
    }

    fn word(self, l: Lang) -> &'static str {
        match self {
            Judged::Passed => l.pick("✓ passed", "✓ 通过"),
            Judged::Failed => l.pick("✗ failed", "✗ 未通过"),
            Judged::Undecided => l.pick("? undecided", "? 未决"),
            Judged::Unused => l.pick("– not a bound", "– 不作为边界"),
        }
    }
}

/// What `--find` made of level `i`: the search's probes are the levels in the order they ran.
fn judged(capacity: Option<&Capacity>, i: usize, level: &Level) -> Option<Judged> {
    let p: &Probe = capacity?.probes.get(i).filter(|p| p.level == level.value)?;
    Some(match p.decided {
        _ if !p.counted || p.measured.all_failed => Judged::Unused,
        Some(true) => Judged::Passed,
        Some(false) => Judged::Failed,
        None => Judged::Undecided,
    })
}

/// The index of the level that is the capacity found: the last run of that value.
fn capacity_level(capacity: Option<&Capacity>, levels: &[Level]) -> Option<usize> {
    let v = capacity?.value?;
    levels.iter().rposition(|l| l.value == v)
}

/// The `--slo` TTFT objective of the sweep (every level has the same `--slo`), in ms.
fn ttft_bound(levels: &[Level]) -> Option<(Bound, f64)> {
    let text = &levels.first()?.summary.goodput.as_ref()?.slo;
    let slo = Slo::parse(text).ok()?;
    slo.objectives
        .iter()
        .filter(|o| o.metric == Metric::Ttft)
        .map(|o| (o.bound, o.limit_us as f64 / 1000.0))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// The whole page.
pub fn page(levels: &[Level], capacity: Option<&Capacity>, l: Lang) -> String {
    let title = |pair| l.of(pair).to_string();
    let mut sections = Vec::new();
    if let Some(c) = capacity {
        sections.push(Section {
            id: "capacity",
            title: title(("Capacity", "容量")),
            body: capacity_section(c, levels, l),
        });
    }
    sections.push(Section {
        id: "latency",
        title: title(("Latency against throughput", "延迟与吞吐")),
        body: latency(levels, capacity, l),
    });
    if !levels.is_empty() {
        sections.push(Section {
            id: "by-level",
            title: title(("Tokens, ITL and errors by level", "各级别的 token、ITL 与错误")),
            body: by_level(levels, l),
        });
    }
    if has_server(levels) {
        sections.push(Section {
            id: "server",
            title: title(("The server by level", "各级别的服务端")),
            body: server(levels, l),
        });
    }
    if levels.iter().any(|x| x.summary.goodput.is_some()) {
        sections.push(Section {
            id: "attainment",
            title: title(("SLO attainment", "SLO 达成率")),
            body: attainment(levels, capacity, l),
        });
    }
    sections.push(Section {
        id: "levels",
        title: title(("Levels", "各级别")),
        body: table(levels, capacity, l),
    });
    if let Some(first) = levels.first() {
        sections.push(Section {
            id: "config",
            title: title(("Configuration of the first level", "第一个级别的配置")),
            body: super::config(&first.summary.config, l),
        });
    }
    let (config, started) = levels
        .first()
        .map_or((serde_json::Value::Null, ""), |f| (f.summary.config.clone(), f.summary.started_at.as_str()));
    let n = levels.len();
    let subtitle =
        l.pick(format!("started {started} · {n} levels"), format!("开始于 {started} · {n} 个级别"));
    let heading = super::heading(l.pick("llmload sweep", "llmload 扫描"), &config);
    let version = levels.first().map_or(env!("CARGO_PKG_VERSION"), |f| f.summary.tool.version);
    let notice = match levels.last() {
        Some(last) if last.summary.interrupted => {
            let label = last.label;
            super::notice(&l.pick(
                format!("Interrupted (Ctrl-C or SIGTERM) during level {label}: that level covers only what ran before the interrupt, and no later level ran."),
                format!("已中断（Ctrl-C 或 SIGTERM），发生在级别 {label}：该级别只涵盖中断前运行的部分，之后的级别没有运行。"),
            ))
        }
        _ => String::new(),
    };
    shell(l, &heading, &subtitle, version, &notice, &sections)
}

/// The answer of `--find`, in words.
fn capacity_section(c: &Capacity, levels: &[Level], l: Lang) -> String {
    let name = c.variable.name();
    let label = |v: f64| match c.variable {
        search::Variable::Concurrency => format!("c{}", search::show(v)),
        search::Variable::Rate => format!("r{}", search::show(v)),
    };
    let (class, answer) = match c.value {
        Some(v) => {
            let at = capacity_level(Some(c), levels).map(|i| levels[i].summary.throughput.requests_per_s);
            let extra = at.map_or(String::new(), |r| {
                let r = rate(r);
                l.pick(format!(", {r} req/s"), format!("，{r} 请求/秒"))
            });
            let v = search::show(v);
            ("ok", l.pick(format!("Capacity: {name} {v}{extra}"), format!("容量：{name} {v}{extra}")))
        }
        None => {
            let show = search::show;
            let (en, zh) = match (c.passing, c.failing) {
                (Some(p), Some(f)) => (
                    format!("Capacity: {name} between {} and {} (not found exactly)", show(p), show(f)),
                    format!("容量：{name} 介于 {} 与 {} 之间（未精确找到）", show(p), show(f)),
                ),
                (Some(p), None) => (
                    format!("Capacity: {name} at least {}", show(p)),
                    format!("容量：{name} 至少 {}", show(p)),
                ),
                (None, Some(f)) => (
                    format!("No capacity: {name} {} already failed", show(f)),
                    format!("无容量：{name} {} 已未通过", show(f)),
                ),
                (None, None) => (
                    "No capacity found: no level was decided".to_string(),
                    "未找到容量：没有级别得出结论".to_string(),
                ),
            };
            ("bound", l.pick(en, zh))
        }
    };
    let target = percent(Some(c.target));
    let slo = levels.first().and_then(|f| f.summary.goodput.as_ref()).map_or("", |g| g.slo.as_str());
    let mut o = format!("<p class=\"verdict {class}\"><strong>{}</strong></p>", escape(&answer));
    let _ = write!(
        o,
        "<p>{} <code>{}</code></p>",
        escape(&l.pick(
            format!(
                "Target: at least {target} of requests (the lower end of the attainment's 95% interval) meet"
            ),
            format!("目标：至少 {target} 的请求（达成率 95% 区间的下端）满足"),
        )),
        escape(slo)
    );
    let none = || "-".to_string();
    let _ = write!(
        o,
        "<p>{}: {} · {}: {} · {}: {}</p>",
        l.pick("stopped", "停止原因"),
        escape(c.stop_reason.get(l)),
        l.pick("last level passed", "最后通过的级别"),
        escape(&c.passing.map_or_else(none, label)),
        l.pick("first level failed", "首个未通过的级别"),
        escape(&c.failing.map_or_else(none, label)),
    );
    o
}

/// Whether every level is of one kind (all concurrencies or all rates), read off its label.
fn one_kind(levels: &[Level]) -> bool {
    let kind = |l: &Level| l.label.chars().next();
    levels.iter().all(|l| kind(l) == levels.first().and_then(kind))
}

/// The levels' indices in level order, the order a chart's line joins them: by concurrency or
/// rate, increasing (the order a list ran; `--find`'s probes sorted), ties in the order they ran.
/// `--rate auto` mixes kinds: its synchronous level (`c1`) first, then its rates, then its
/// saturated concurrency. Never by throughput: a saturated server's levels share one, and a
/// line sorted by it would zig-zag between them.
fn level_order(levels: &[Level]) -> Vec<usize> {
    let one = one_kind(levels);
    let rank = |l: &Level| match l.label.chars().next() {
        _ if one => 0,
        Some('c') if l.value <= 1.0 => 0,
        Some('r') => 1,
        _ => 2,
    };
    let mut order: Vec<usize> = (0..levels.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&levels[a], &levels[b]);
        rank(x).cmp(&rank(y)).then(x.value.total_cmp(&y.value)).then(a.cmp(&b))
    });
    order
}

/// The levels that have a TTFT, in level order: (index, requests/s, p50, p99).
fn ttft_points(levels: &[Level]) -> Vec<(usize, f64, f64, f64)> {
    level_order(levels)
        .into_iter()
        .filter_map(|i| {
            let x = &levels[i];
            let d = x.summary.metrics.ttft_ms.as_ref()?;
            Some((i, x.summary.throughput.requests_per_s, d.p50, d.p99))
        })
        .collect()
}

/// A note under a chart when some of its points' labels had no room (the table names them).
fn dropped_note(dropped: usize, l: Lang) -> String {
    if dropped == 0 {
        return String::new();
    }
    let note = l.pick(
        format!("{dropped} point label(s) left off where points crowd: the table below lists every level."),
        format!("点过于密集处省略了 {dropped} 个标签：下方的表格列出每个级别。"),
    );
    format!("<p class=\"note\">{note}</p>")
}

/// The chart of TTFT p50 and p99 against requests/s, one point per level.
fn latency(levels: &[Level], capacity: Option<&Capacity>, l: Lang) -> String {
    let pts = ttft_points(levels);
    if pts.is_empty() {
        let none = l.pick(
            "No level had a successful request: nothing to draw.",
            "没有级别有成功的请求：没有可画的图。",
        );
        return format!("<p class=\"none\">{none}</p>");
    }
    let bound = ttft_bound(levels);
    let x_max = pts.iter().map(|p| p.1).fold(0.0, f64::max);
    let y_max = pts.iter().map(|p| p.3).chain(bound.map(|b| b.1)).fold(0.0, f64::max);
    let mut plot = Plot::new(
        W,
        H,
        (0.0, if x_max > 0.0 { x_max * 1.12 } else { 1.0 }),
        (0.0, if y_max > 0.0 { y_max * 1.1 } else { 1.0 }),
    );
    plot.axes(l.pick("requests/s", "请求/秒"), "TTFT ms", charts::tick, charts::tick);
    if let Some((b, limit)) = bound {
        let sign = if b == Bound::Le { "≤" } else { "<" };
        plot.hline("slo", limit, &format!("SLO TTFT {sign} {}", ms(limit)));
    }
    if let Some(i) = capacity_level(capacity, levels) {
        let label = levels[i].label;
        plot.vline(
            "cap",
            levels[i].summary.throughput.requests_per_s,
            &l.pick(format!("capacity {label}"), format!("容量 {label}")),
        );
    }
    let line =
        |f: fn(&(usize, f64, f64, f64)) -> f64| pts.iter().map(|p| (p.1, Some(f(p)))).collect::<Vec<_>>();
    plot.line("TTFT p50", "s1", &line(|p| p.2));
    plot.line("TTFT p99", "s2", &line(|p| p.3));
    let (mut marked, mut dropped) = (Vec::new(), 0);
    for &(i, x, p50, p99) in &pts {
        plot.dot("s1", (x, p50), 3.0);
        let judged = judged(capacity, i, &levels[i]);
        let label = match judged {
            Some(j) => format!("{} {}", levels[i].label, j.sign()),
            None => levels[i].label.to_string(),
        };
        plot.dot("s2", (x, p99), 3.0);
        dropped += usize::from(!plot.label((x, p99), &label));
        if let Some(j) = judged {
            plot.dot(j.class(), (x, p99), 6.5);
            if !marked.contains(&j) {
                marked.push(j);
            }
        }
    }
    for j in [Judged::Passed, Judged::Failed, Judged::Undecided, Judged::Unused] {
        if marked.contains(&j) {
            plot.key(j.word(l), j.class());
        }
    }
    let caption = l.pick(
        "TTFT p50 and p99 against successful requests/s, one point per level (labelled with its level)",
        "各级别的 TTFT p50 与 p99 对成功请求/秒，每个级别一个点（标注其级别）",
    );
    let mut o = format!(
        "<figure class=\"sweep\">{}<figcaption>{}</figcaption></figure>",
        plot.finish(caption),
        escape(caption)
    );
    o += &dropped_note(dropped, l);
    if pts.len() < levels.len() {
        let n = levels.len() - pts.len();
        let note = l.pick(
            format!("{n} level(s) had no successful request and are not drawn."),
            format!("{n} 个级别没有成功的请求，未画出。"),
        );
        let _ = write!(o, "<p class=\"note\">{note}</p>");
    }
    o
}

/// A line of a chart by level: its legend label, CSS class, and value for a level's summary.
type ByLevel = (&'static str, &'static str, fn(&Summary) -> Option<f64>);

/// Failed among a level's finished requests; `None` when none finished.
fn error_share(s: &Summary) -> Option<f64> {
    let finished = s.requests.ok + s.requests.failed;
    (finished > 0).then(|| s.requests.failed as f64 / finished as f64)
}

/// One chart of `lines` against the levels, in level order: x is the concurrency or the rate
/// when the levels are of one kind, else (`--rate auto`) the successful requests/s with each
/// point labelled with its level. `y_label` writes the y ticks; `tag` adds a label to a point;
/// `top` fixes the y axis's end (a share's 100 %), else it is a tenth above the largest value.
fn by_level_chart(
    levels: &[Level],
    l: Lang,
    (title, unit, top): (&str, &str, Option<f64>),
    lines: &[ByLevel],
    y_label: impl Fn(f64, usize) -> String,
    tag: impl Fn(&Summary) -> Option<String>,
) -> String {
    let one = one_kind(levels);
    let x_of = |x: &Level| if one { x.value } else { x.summary.throughput.requests_per_s };
    let x_title = match levels.first().and_then(|x| x.label.chars().next()) {
        _ if !one => l.pick("requests/s", "请求/秒"),
        Some('r') => l.pick("rate, req/s", "速率 req/s"),
        _ => l.pick("concurrency", "并发"),
    };
    let order = level_order(levels);
    let x_max = levels.iter().map(x_of).fold(0.0, f64::max);
    let y_max = levels.iter().flat_map(|x| lines.iter().filter_map(|f| (f.2)(x.summary))).fold(0.0, f64::max);
    let y_top = top.unwrap_or(if y_max > 0.0 { y_max * 1.1 } else { 1.0 });
    let mut plot =
        Plot::new(W * 0.74, H * 0.75, (0.0, if x_max > 0.0 { x_max * 1.08 } else { 1.0 }), (0.0, y_top));
    plot.axes(x_title, unit, charts::tick, y_label);
    for &(label, class, value) in lines {
        let points: Vec<(f64, Option<f64>)> =
            order.iter().map(|&i| (x_of(&levels[i]), value(levels[i].summary))).collect();
        plot.line(label, class, &points);
        for &(x, y) in &points {
            if let Some(y) = y {
                plot.dot(class, (x, y), 2.5);
            }
        }
    }
    let mut dropped = 0;
    for &i in &order {
        let x = &levels[i];
        let Some(y) = lines.first().and_then(|f| (f.2)(x.summary)) else { continue };
        let text = match (one, tag(x.summary)) {
            (true, None) => continue,
            (true, Some(t)) => t,
            (false, None) => x.label.to_string(),
            (false, Some(t)) => format!("{} · {t}", x.label),
        };
        dropped += usize::from(!plot.label((x_of(x), y), &text));
    }
    format!(
        "<figure>{}<figcaption>{}</figcaption>{}</figure>",
        plot.finish(title),
        escape(title),
        dropped_note(dropped, l)
    )
}

/// Output tokens/s, ITL p50 and p99, and the errors against the levels.
fn by_level(levels: &[Level], l: Lang) -> String {
    let mut o = String::from("<div class=\"grid\">");
    o += &by_level_chart(
        levels,
        l,
        (l.pick("Output tokens per second by level", "各级别的每秒输出 token"), "tok/s", None),
        &[("out tok/s", "s1", |s| Some(s.throughput.output_tokens_per_s))],
        charts::tick,
        |_| None,
    );
    o += &by_level_chart(
        levels,
        l,
        (l.pick("ITL by level", "各级别的 ITL"), "ITL ms", None),
        &[
            ("p50", "s1", |s| s.metrics.itl_ms.as_ref().map(|d| d.p50)),
            ("p99", "s2", |s| s.metrics.itl_ms.as_ref().map(|d| d.p99)),
        ],
        charts::tick,
        |_| None,
    );
    if levels.iter().any(|x| x.summary.requests.failed > 0) {
        // A share's ticks are a hundredth of its percentages': two decimals fewer.
        let pct = |v: f64, d: usize| format!("{}%", charts::tick(v * 100.0, d.saturating_sub(2)));
        o += &by_level_chart(
            levels,
            l,
            (
                l.pick(
                    "Errors by level: failed among finished requests",
                    "各级别的错误：失败占已结束请求的比例",
                ),
                l.pick("error share", "错误率"),
                None,
            ),
            &[(l.pick("error share", "错误率"), "s3", error_share)],
            pct,
            |s| {
                let n = s.requests.failed;
                (n > 0).then(|| l.pick(format!("{n} failed"), format!("失败 {n}")))
            },
        );
    }
    o += "</div>";
    if !levels.iter().any(|x| x.summary.requests.failed > 0) {
        let _ = write!(
            o,
            "<p class=\"note\">{}</p>",
            l.pick("No request failed at any level.", "所有级别都没有失败的请求。")
        );
    }
    o
}

/// Whether any level scraped the server (`--server-metrics`).
fn has_server(levels: &[Level]) -> bool {
    levels.iter().any(|x| x.summary.server.is_some())
}

/// Where the server saturated: its most requests waiting (and running) and its KV cache's
/// highest use against the levels.
fn server(levels: &[Level], l: Lang) -> String {
    let mut o = String::from("<div class=\"grid\">");
    o += &by_level_chart(
        levels,
        l,
        (
            l.pick(
                "Requests on the server by level: the most waiting and running",
                "各级别服务端的请求：等待与运行中的最多数",
            ),
            l.pick("requests", "请求"),
            None,
        ),
        &[
            (l.pick("waiting max", "等待最多"), "s3", |s| s.server.as_ref()?.waiting_max),
            (l.pick("running max", "运行中最多"), "s1", |s| s.server.as_ref()?.running_max),
        ],
        charts::tick,
        |_| None,
    );
    // A share's ticks are a hundredth of its percentages': two decimals fewer.
    let pct = |v: f64, d: usize| format!("{}%", charts::tick(v * 100.0, d.saturating_sub(2)));
    o += &by_level_chart(
        levels,
        l,
        (
            l.pick("KV cache use by level: its highest", "各级别的 KV 缓存占用：最高值"),
            l.pick("KV use", "KV 占用"),
            Some(1.0),
        ),
        &[(l.pick("KV max", "KV 最高"), "s4", |s| s.server.as_ref()?.kv_use_max)],
        pct,
        |_| None,
    );
    o += "</div>";
    let note = l.pick(
        "The server's own metrics (--server-metrics), over each level's scrapes: a queue that grows from one level to the next, or a KV cache near 100%, is where the server saturated.",
        "服务端自身的指标（--server-metrics），按各级别的抓取计：等待队列逐级增长，或 KV 缓存接近 100%，即服务端饱和之处。",
    );
    let _ = write!(o, "<p class=\"note\">{note}</p>");
    o
}

/// A level's index, requests/s, attainment and attainment's interval.
type Attained = (usize, f64, f64, Option<(f64, f64)>);

/// Each level's attainment and its 95 % interval against requests/s, and `--find`'s target.
fn attainment(levels: &[Level], capacity: Option<&Capacity>, l: Lang) -> String {
    let pts: Vec<Attained> = level_order(levels)
        .into_iter()
        .filter_map(|i| {
            let x = &levels[i];
            let g = x.summary.goodput.as_ref()?;
            let ci = g.attainment_ci.as_deref().and_then(|c| Some((*c.first()?, *c.get(1)?)));
            Some((i, x.summary.throughput.requests_per_s, g.attainment?, ci))
        })
        .collect();
    if pts.is_empty() {
        let none =
            l.pick("No level had a request to judge against --slo.", "没有级别有可按 --slo 判定的请求。");
        return format!("<p class=\"none\">{none}</p>");
    }
    let low =
        pts.iter().map(|p| p.3.map_or(p.2, |c| c.0)).chain(capacity.map(|c| c.target)).fold(1.0, f64::min);
    let y_lo = if low >= 0.5 { ((low - 0.05) * 10.0).floor() / 10.0 } else { 0.0 };
    let x_max = pts.iter().map(|p| p.1).fold(0.0, f64::max);
    let mut plot =
        Plot::new(W, H * 0.8, (0.0, if x_max > 0.0 { x_max * 1.12 } else { 1.0 }), (y_lo.max(0.0), 1.0));
    // A share's ticks are a hundredth of its percentages': two decimals fewer.
    let pct = |v: f64, d: usize| format!("{}%", charts::tick(v * 100.0, d.saturating_sub(2)));
    plot.axes(l.pick("requests/s", "请求/秒"), l.pick("attainment", "达成率"), charts::tick, pct);
    if let Some(c) = capacity {
        plot.hline(
            "slo",
            c.target,
            &l.pick(format!("target {}", pct(c.target, 0)), format!("目标 {}", pct(c.target, 0))),
        );
    }
    let line: Vec<(f64, Option<f64>)> = pts.iter().map(|p| (p.1, Some(p.2))).collect();
    plot.line(l.pick("attainment", "达成率"), "s1", &line);
    let mut dropped = 0;
    for &(i, x, a, ci) in &pts {
        if let Some((lo, hi)) = ci {
            plot.segment("interval", (x, lo), (x, hi));
        }
        let label = match judged(capacity, i, &levels[i]) {
            Some(j) => format!("{} {}", levels[i].label, j.sign()),
            None => levels[i].label.to_string(),
        };
        plot.dot("s1", (x, a), 3.0);
        dropped += usize::from(!plot.label((x, a), &label));
    }
    plot.key(l.pick("95% interval", "95% 区间"), "interval");
    let caption = l.pick(
        "SLO attainment of each level (the dot) and its 95% Wilson interval (the bar) against successful requests/s",
        "各级别的 SLO 达成率（点）及其 95% Wilson 区间（竖线）对成功请求/秒",
    );
    format!(
        "<figure class=\"sweep\">{}<figcaption>{}</figcaption></figure>{}",
        plot.finish(caption),
        escape(caption),
        dropped_note(dropped, l)
    )
}

/// The table of levels: the terminal table's columns, the attainment's interval, and for
/// `--find` how each level was judged.
fn table(levels: &[Level], capacity: Option<&Capacity>, l: Lang) -> String {
    if levels.is_empty() {
        return format!("<p class=\"none\">{}</p>", l.pick("No level ran.", "没有运行任何级别。"));
    }
    let mut o = String::from("<div class=\"wide\"><table class=\"sweep\"><thead><tr>");
    let mut columns = vec![
        l.pick("level", "级别"),
        "req/s",
        "out tok/s",
        "TTFT p50",
        "TTFT p99",
        "TPOT p50",
        "TPOT p99",
        "E2E p99",
        l.pick("failed", "失败"),
        l.pick("error share", "错误率"),
        l.pick("goodput", "有效吞吐"),
        l.pick("attainment", "达成率"),
        l.pick("95% interval", "95% 区间"),
    ];
    let server = has_server(levels);
    if server {
        columns.extend([
            l.pick("running max", "运行中最多"),
            l.pick("waiting max", "等待最多"),
            l.pick("KV max", "KV 最高"),
        ]);
    }
    columns.push(l.pick("verdict", "判定"));
    if capacity.is_some() {
        columns.push(l.pick("search", "搜索"));
    }
    for c in columns {
        let _ = write!(o, "<th>{}</th>", escape(c));
    }
    o += "</tr></thead><tbody>";
    let cap = capacity_level(capacity, levels);
    for (i, x) in levels.iter().enumerate() {
        let r = Row::of(x.label, x.summary);
        let judged = judged(capacity, i, x);
        let class = match judged {
            Some(Judged::Passed) => " class=\"passed\"",
            Some(Judged::Failed) => " class=\"fail\"",
            _ => "",
        };
        let verdict = r.verdict.map_or("-", Verdict::name);
        let interval = x
            .summary
            .goodput
            .as_ref()
            .and_then(|g| g.attainment_ci.as_deref())
            .and_then(|c| Some(format!("{}–{}", percent(Some(*c.first()?)), percent(Some(*c.get(1)?)))))
            .unwrap_or_else(|| "-".into());
        let mut level = if cap == Some(i) {
            format!("<strong>{}</strong> {}", escape(x.label), l.pick("(capacity)", "（容量）"))
        } else {
            escape(x.label)
        };
        if x.summary.interrupted {
            level += l.pick(" (interrupted)", "（已中断）");
        }
        let _ = write!(o, "<tr{class}><td>{level}</td>");
        let mut cells = r.cells().to_vec();
        // The failed requests beside their share (the terminal's `errors` column).
        cells.insert(7, crate::output::format::count(x.summary.requests.failed));
        cells.push(interval);
        if server {
            cells.extend(r.server_cells());
        }
        for cell in cells.into_iter().chain([verdict.to_string()]) {
            let _ = write!(o, "<td>{}</td>", escape(&cell));
        }
        if capacity.is_some() {
            let word = judged.map_or("-".to_string(), |j| {
                let secs = capacity
                    .and_then(|c| c.probes.get(i))
                    .map_or(0.0, |p| (p.measured.elapsed.as_secs_f64() * 10.0).round() / 10.0);
                format!("{} · {secs}s", j.word(l))
            });
            let _ = write!(o, "<td class=\"result\">{}</td>", escape(&word));
        }
        o += "</tr>";
    }
    o += "</tbody></table></div>";
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{Measured, Variable};

    /// A level's summary: `n` requests at concurrency `c`, TTFT growing with it, judged
    /// against `ttft<=100ms`, the config naming a URL with markup in it.
    fn summary(c: u64) -> Summary {
        use crate::measure::Measurement;
        use std::time::{Duration, Instant};
        let base = Instant::now();
        let slo = Some(crate::slo::SloTally::new(Slo::parse("ttft<=100ms").unwrap()));
        let mut stats = crate::stats::RunStats { slo, ..Default::default() };
        for i in 0..40u64 {
            let t0 = base + Duration::from_millis(10 * i);
            let mut m = Measurement::new(0, 0, None, t0);
            let ttft = Duration::from_millis(30 * c + i % 7);
            m.text_at = (0..5).map(|k| t0 + ttft + Duration::from_millis(k * 5)).collect();
            m.end_at = *m.text_at.last().unwrap();
            m.usage_output_tokens = Some(5);
            stats.add(&m);
        }
        let run = crate::summary::RunOutput {
            wall: Duration::from_secs(2),
            ..crate::summary::RunOutput::of(stats, 2.0 / c as f64)
        };
        let config =
            serde_json::json!({"api": "openai-chat", "url": "http://127.0.0.1:9/<b>x</b>", "concurrency": c});
        Summary::new(config, &run, None)
    }

    fn probe(level: f64, decided: Option<bool>) -> Probe {
        let measured = Measured {
            good: 0,
            determined: 0,
            client_bound: false,
            all_failed: false,
            elapsed: std::time::Duration::from_secs(1),
            requests_per_s: 1.0,
        };
        Probe {
            level,
            requests: 73,
            measured,
            counted: true,
            good: 0,
            determined: 0,
            attainment: None,
            attainment_ci: None,
            decided,
            cap: std::time::Duration::from_secs(600),
            level_elapsed: std::time::Duration::from_secs(1),
        }
    }

    fn sweep(lang: Lang, find: bool) -> String {
        let summaries: Vec<(String, f64, Summary)> =
            [1u64, 2, 4, 3].iter().map(|&c| (format!("c{c}"), c as f64, summary(c))).collect();
        let levels: Vec<Level> =
            summaries.iter().map(|(label, value, summary)| Level { label, value: *value, summary }).collect();
        let capacity = Capacity {
            variable: Variable::Concurrency,
            value: Some(2.0),
            passing: Some(2.0),
            failing: Some(3.0),
            target: 0.9,
            probes: vec![
                probe(1.0, Some(true)),
                probe(2.0, Some(true)),
                probe(4.0, Some(false)),
                probe(3.0, Some(false)),
            ],
            stop_reason: "converged <ok>".into(),
        };
        page(&levels, find.then_some(&capacity), lang)
    }

    #[test]
    fn a_sweep_page_shows_every_level_and_fetches_nothing() {
        let html = sweep(Lang::En, false);
        for id in ["latency", "attainment", "levels", "config"] {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "no {id}");
        }
        assert!(!html.contains("id=\"capacity\"") && !html.contains("(capacity)"), "no --find, no capacity");
        for label in ["c1", "c2", "c3", "c4"] {
            assert!(html.contains(&format!("<tr><td>{label}</td>")), "no row for {label}");
            assert!(html.contains(&format!(">{label}</text>")), "no point labelled {label}");
        }
        assert!(html.contains("SLO TTFT ≤ 100.0ms"), "the SLO's TTFT bound is drawn");
        // Latency, attainment, and tok/s and ITL by level (no level failed: no errors chart).
        assert_eq!(html.matches("<svg").count(), 4);
        assert!(html.contains("<p class=\"note\">No request failed at any level.</p>"));
        assert!(!html.contains("class=\"notice\""), "nothing was interrupted");
        assert!(
            html.contains("<h1>llmload sweep · openai-chat · http://127.0.0.1:9/&lt;b&gt;x&lt;/b&gt;</h1>")
        );
        for banned in ["<script", "<link", "<img", "@import", "url(", " src=", "<b>x"] {
            assert!(!html.contains(banned), "{banned} in the page");
        }
        assert!(html.contains("default-src 'none'"));
        assert_eq!(page(&[], None, Lang::En).matches("No level ran.").count(), 1);
    }

    #[test]
    fn a_capacity_search_marks_the_capacity_and_each_level() {
        let html = sweep(Lang::En, true);
        assert!(html.contains("<strong>Capacity: concurrency 2, "), "{html}");
        assert!(html.contains("converged &lt;ok&gt;") && !html.contains("<ok>"), "the stop reason, escaped");
        assert!(html.contains("last level passed: c2 · first level failed: c3"));
        assert!(html.contains("<tr class=\"passed\"><td><strong>c2</strong> (capacity)</td>"), "{html}");
        assert!(html.contains("<tr class=\"fail\"><td>c4</td>"));
        assert_eq!(html.matches("✓ passed · 1s</td>").count(), 2, "the search column says how long");
        assert_eq!(html.matches("✗ failed · 1s</td>").count(), 2);
        assert!(
            html.contains(">c2 ✓</text>") && html.contains(">c3 ✗</text>"),
            "points say how they were judged"
        );
        assert!(html.contains(">capacity c2</text>") && html.contains("class=\"cap\""));
        assert!(html.contains(">target 90%</text>"));
        let none = page(&[], Some(&Capacity { value: None, ..dummy() }), Lang::En);
        assert!(none.contains("<strong>No capacity: rate 1 already failed</strong>"), "{none}");
        let bracket = Capacity { passing: Some(8.0), failing: Some(12.0), ..dummy() };
        let bracket = page(&[], Some(&bracket), Lang::En);
        assert!(bracket.contains("<strong>Capacity: rate between 8 and 12 (not found exactly)</strong>"));
    }

    /// Levels labelled `labels` (`c8`, `r2.5`) with summaries from `summary`, each changed by
    /// `edit` (its index, its summary).
    fn made(labels: &[&str], edit: impl Fn(usize, &mut Summary)) -> Vec<(String, f64, Summary)> {
        labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let value: f64 = label[1..].parse().unwrap();
                let mut s = summary(value.ceil() as u64);
                edit(i, &mut s);
                (label.to_string(), value, s)
            })
            .collect()
    }

    fn levels(owned: &[(String, f64, Summary)]) -> Vec<Level<'_>> {
        owned.iter().map(|(label, value, summary)| Level { label, value: *value, summary }).collect()
    }

    /// The x coordinates of the first polyline of class `class` after `from` in `html`.
    fn polyline_xs(html: &str, from: &str, class: &str) -> Vec<f64> {
        let at = &html[html.find(from).unwrap()..];
        let pts = at.split(&format!("<polyline class=\"{class}\" points=\"")).nth(1).unwrap();
        pts.split('"')
            .next()
            .unwrap()
            .split(' ')
            .map(|p| p.split_once(',').unwrap().0.parse().unwrap())
            .collect()
    }

    #[test]
    fn points_are_joined_in_level_order_not_by_throughput() {
        // Run in --find's order (c1, c2, c4, c3), and c4 is slower than c3, which is slower
        // than c2: the line goes c1, c2, c3, c4, back along the x axis.
        let rps = [10.0, 30.0, 20.0, 25.0];
        let owned = made(&["c1", "c2", "c4", "c3"], |i, s| s.throughput.requests_per_s = rps[i]);
        let lv = levels(&owned);
        assert_eq!(level_order(&lv), [0, 1, 3, 2]);
        let html = page(&lv, None, Lang::En);
        let xs = polyline_xs(&html, "<section id=\"latency\">", "s1");
        assert_eq!(xs.len(), 4, "{xs:?}");
        assert!(xs[0] < xs[1] && xs[1] > xs[2] && xs[2] > xs[3], "c1, c2, c3, c4 by requests/s: {xs:?}");
        // The charts by level put the concurrency on x: there it rises.
        let by = polyline_xs(&html, "<section id=\"by-level\">", "s1");
        assert!(by.windows(2).all(|w| w[0] < w[1]), "{by:?}");
        // --rate auto ran c1, c64, then its rates: c1 first, the rates, the saturated level last.
        let auto = made(&["c1", "c64", "r5", "r2.5"], |_, _| {});
        assert_eq!(level_order(&levels(&auto)), [0, 3, 2, 1]);
        let html = page(&levels(&auto), None, Lang::En);
        assert!(
            html.contains(">requests/s</text>") && html.contains(">r2.5</text>"),
            "mixed kinds: by requests/s"
        );
    }

    /// The point labels of `svg`: (left, baseline, text).
    fn point_labels(svg: &str) -> Vec<(f64, f64, String)> {
        svg.split("<text class=\"label\" x=\"")
            .skip(1)
            .map(|t| {
                let (x, rest) = t.split_once("\" y=\"").unwrap();
                let (y, rest) = rest.split_once("\">").unwrap();
                (x.parse().unwrap(), y.parse().unwrap(), rest.split_once("</text>").unwrap().0.to_string())
            })
            .collect()
    }

    #[test]
    fn labels_of_levels_whose_points_crowd_do_not_overlap() {
        // A saturated server: eight levels at one throughput and almost one TTFT.
        let names = ["c8", "c16", "c24", "c32", "c40", "c48", "c56", "c64"];
        let owned = made(&names, |i, s| {
            s.throughput.requests_per_s = 50.0 + i as f64 * 0.01;
            let d = s.metrics.ttft_ms.as_mut().unwrap();
            (d.p50, d.p99) = (400.0, 900.0 + i as f64);
        });
        let html = page(&levels(&owned), None, Lang::En);
        let latency = &html
            [html.find("<section id=\"latency\">").unwrap()..html.find("<section id=\"by-level\">").unwrap()];
        let placed = point_labels(latency);
        assert!(placed.len() >= 4, "{placed:?}");
        for (i, a) in placed.iter().enumerate() {
            // Coordinates are written to a tenth of a pixel.
            for b in &placed[i + 1..] {
                let w = |t: &str| t.chars().count() as f64 * 7.0;
                let apart = a.0 + w(&a.2) <= b.0 || b.0 + w(&b.2) <= a.0 || (a.1 - b.1).abs() > 11.9;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
        let dropped = names.len() - placed.len();
        assert_eq!(dropped, 2, "{placed:?}");
        assert!(latency.contains("2 point label(s) left off where points crowd"), "{latency}");
        assert_eq!(page(&levels(&owned), None, Lang::En), html, "the same levels drop the same labels");
    }

    #[test]
    fn the_sweep_page_charts_tokens_itl_and_errors_by_level() {
        let owned = made(&["c1", "c2", "c4"], |i, s| {
            s.requests.failed = [0, 4, 10][i];
            s.requests.total += s.requests.failed;
        });
        let html = page(&levels(&owned), None, Lang::En);
        let by = &html[html.find("<section id=\"by-level\">").unwrap()
            ..html.find("<section id=\"attainment\">").unwrap()];
        for caption in [
            "<figcaption>Output tokens per second by level</figcaption>",
            "<figcaption>ITL by level</figcaption>",
            "<figcaption>Errors by level: failed among finished requests</figcaption>",
        ] {
            assert!(by.contains(caption), "{caption}: {by}");
        }
        assert_eq!(by.matches("<svg").count(), 3);
        assert_eq!(by.matches(">concurrency</text>").count(), 3, "each against the concurrency");
        assert!(by.contains(">ITL ms</text>") && by.contains(">p50<") && by.contains(">p99<"));
        // 40 ok each: 4 of 44 and 10 of 50 failed, labelled with the count.
        assert!(by.contains(">4 failed</text>") && by.contains(">10 failed</text>"), "{by}");
        assert!(!by.contains(">0 failed</text>"));
        let table = &html[html.find("<section id=\"levels\">").unwrap()..];
        assert!(table.contains("<th>failed</th><th>error share</th>"), "{table}");
        assert!(table.contains("<td>10</td><td>20.0%</td>"), "{table}");
        let zh = page(&levels(&owned), None, Lang::Zh);
        for text in [
            "各级别的每秒输出 token",
            "各级别的 ITL",
            "各级别的错误",
            ">失败 10</text>",
            "<th>失败</th><th>错误率</th>",
            ">并发</text>",
        ] {
            assert!(zh.contains(text), "{text}");
        }
    }

    #[test]
    fn levels_that_scraped_the_server_show_where_it_saturated() {
        let owned = made(&["c1", "c2", "c4"], |i, s| {
            let mut b = crate::html::server::tests::block();
            (b.running_max, b.waiting_max, b.kv_use_max) = (
                [Some(1.0), Some(2.0), Some(4.0)][i],
                [Some(0.0), Some(3.0), Some(11.6)][i],
                Some(0.25 * (i + 1) as f64),
            );
            s.server = Some(b);
        });
        let html = page(&levels(&owned), None, Lang::En);
        let (by, server, levels_at) = (
            html.find("<section id=\"by-level\">").unwrap(),
            html.find("<section id=\"server\">").expect("a server section"),
            html.find("<section id=\"levels\">").unwrap(),
        );
        assert!(by < server && server < levels_at, "after the charts by level, before the table");
        let section = &html[server..html.find("<section id=\"attainment\">").unwrap()];
        assert_eq!(section.matches("<svg").count(), 2, "{section}");
        for text in [
            "<figcaption>Requests on the server by level: the most waiting and running</figcaption>",
            "<figcaption>KV cache use by level: its highest</figcaption>",
            ">waiting max<",
            ">running max<",
            ">KV max<",
            ">100%</text>",
        ] {
            assert!(section.contains(text), "{text}: {section}");
        }
        let table = &html[levels_at..];
        assert!(
            table.contains(
                "<th>95% interval</th><th>running max</th><th>waiting max</th><th>KV max</th><th>verdict</th>"
            ),
            "{table}"
        );
        assert!(
            table.contains("<td>0.0%–8.8%</td><td>4</td><td>12</td><td>75.0%</td><td>-</td></tr>"),
            "{table}"
        );
        assert!(
            table.contains("<td>91.2%–100.0%</td><td>1</td><td>0</td><td>25.0%</td><td>-</td></tr>"),
            "{table}"
        );
        let zh = page(&levels(&owned), None, Lang::Zh);
        for text in [
            "<h2>各级别的服务端</h2>",
            "<th>运行中最多</th><th>等待最多</th><th>KV 最高</th>",
            "各级别的 KV 缓存占用",
        ] {
            assert!(zh.contains(text), "{text}");
        }
        // Without a server block: neither the section nor the columns.
        let plain = sweep(Lang::En, false);
        assert!(!plain.contains("id=\"server\"") && !plain.contains("waiting max"));
    }

    #[test]
    fn a_sweep_whose_last_level_was_interrupted_says_so_at_the_top() {
        let owned = made(&["c1", "c2"], |i, s| s.interrupted = i == 1);
        let en = page(&levels(&owned), None, Lang::En);
        assert!(en.contains("<main>\n<p class=\"notice\" role=\"status\"><strong>Interrupted (Ctrl-C or SIGTERM) during level c2: that level covers only what ran before the interrupt, and no later level ran.</strong></p>"), "{en}");
        assert!(en.contains("<tr><td>c2 (interrupted)</td>"));
        let zh = page(&levels(&owned), None, Lang::Zh);
        assert!(zh.contains("<strong>已中断（Ctrl-C 或 SIGTERM），发生在级别 c2：该级别只涵盖中断前运行的部分，之后的级别没有运行。</strong>"));
        assert!(zh.contains("<tr><td>c2（已中断）</td>"));
    }

    fn dummy() -> Capacity {
        Capacity {
            variable: Variable::Rate,
            value: None,
            passing: None,
            failing: Some(1.0),
            target: 0.95,
            probes: Vec::new(),
            stop_reason: "the first level, 1, failed".into(),
        }
    }

    #[test]
    fn the_sweep_page_speaks_chinese() {
        let html = sweep(Lang::Zh, true);
        assert!(html.contains("<html lang=\"zh-CN\">"));
        for zh in [
            "<h2>容量</h2>",
            "<h2>延迟与吞吐</h2>",
            "<h2>各级别</h2>",
            "容量：concurrency 2",
            "✓ 通过",
            "（容量）",
        ] {
            assert!(html.contains(zh), "{zh}");
        }
        for en in ["Capacity", "passed", "Levels", "attainment", "requests/s", "first level"] {
            assert!(!html.contains(&format!(">{en}")), "{en} in the Chinese page");
        }
    }
}
