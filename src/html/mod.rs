//! The `--html` report: one self-contained page (inline CSS and SVG; no script, font, image or
//! stylesheet fetched, a Content-Security-Policy that forbids any) with the run's headline
//! numbers, the thresholds' result and the goodput when the run had `--threshold` or `--slo`
//! (`goals`), the client's verdict, the per-second charts (the `--series` rows), the server's
//! side beside the client's when the run scraped `--server-metrics` (`server`), the
//! distributions of TTFT, ITL, E2E and output tokens, the run by API key and by prompt when it
//! used more than one (`breakdown`), the errors, the warnings and the config (keys masked, as
//! the JSON summary has them). Every text from a run (prompt sources, error messages, URLs,
//! expressions) is escaped. Pure: a `Page` in, the HTML out; `commands` writes it.
//!
//! A section whose data is not in one run's `Summary` is built by its own module and passed in
//! `Page::extra`; the page places it after the errors and warnings, before the config, and
//! lists it in its contents. `llmload sweep --html` is a page of its own in the same shell
//! (`sweep`): its levels' summaries in, one table and the charts across them out, with no one
//! level's per-second charts or distributions.

mod bins;
mod breakdown;
mod charts;
mod goals;
mod server;
mod svg;
pub mod sweep;

use crate::lang::Lang;
use crate::output::format::{count, ms, number, percent, rate, seconds};
use crate::output::text::{beyond_noise, busy_machine, verdict_meaning};
use crate::stats::{Distribution, RunStats, SeriesRow};
use crate::summary::Summary;
use crate::summary::verdict::Verdict;
use serde_json::Value;
use std::fmt::Write;
use svg::escape;

/// What the page shows: the summary, the run second by second, and the statistics whose
/// histograms the distributions draw.
pub struct Page<'a> {
    pub summary: &'a Summary,
    pub series: &'a [SeriesRow],
    pub stats: &'a RunStats,
    /// Sections built elsewhere from more than this run's summary (a sweep's levels), placed
    /// after the errors and warnings, before the config, in this order.
    pub extra: Vec<Section>,
    /// The language of the page's labels and headings (numbers, units, keys as they are).
    pub lang: Lang,
}

/// One section of the page: its anchor (`id`), its heading, and its HTML (already escaped).
pub struct Section {
    pub id: &'static str,
    pub title: String,
    pub body: String,
}

/// An error message longer than this is cut in the table (an HTML error page can be long).
const MAX_MESSAGE_CHARS: usize = 300;

const STYLE: &str = include_str!("style.css");

/// The whole page.
pub fn page(p: &Page) -> String {
    let (s, l) = (p.summary, p.lang);
    let title = |pair| l.of(pair).to_string();
    let mut sections =
        vec![Section { id: "summary", title: title(("Summary", "汇总")), body: headline(s, l) }];
    if !s.thresholds.is_empty() {
        sections.push(Section {
            id: "thresholds",
            title: title(("Thresholds", "阈值")),
            body: goals::thresholds(&s.thresholds, l),
        });
    }
    if let Some(g) = &s.goodput {
        sections.push(Section {
            id: "goodput",
            title: title(("Goodput", "有效吞吐")),
            body: goals::goodput(g, l),
        });
    }
    if let Some(r) = &s.repeats {
        sections
            .push(Section { id: "repeats", title: title(("Repeats", "重复运行")), body: repeats(r, l) });
    }
    sections.extend([
        Section { id: "client", title: title(("Client verdict", "客户端判定")), body: verdict(s, l) },
        Section {
            id: "series",
            title: title(("Second by second", "逐秒")),
            body: charts::series(p.series, l),
        },
    ]);
    if let Some(server) = &s.server {
        sections.push(Section {
            id: "server",
            title: title(("Server", "服务端")),
            body: server::section(server, &s.metrics, p.series, l),
        });
    }
    sections.extend([Section {
        id: "distributions",
        title: title(("Distributions", "分布")),
        body: distributions(s, p.stats, l),
    }]);
    if let Some(body) = breakdown::keys(&s.by_key, l) {
        sections.push(Section { id: "keys", title: title(("By API key", "按 API 密钥")), body });
    }
    if let Some(body) = breakdown::prompts(&s.by_prompt, l) {
        sections.push(Section { id: "prompts", title: title(("By prompt", "按提示词")), body });
    }
    sections.push(Section { id: "errors", title: title(("Errors", "错误")), body: errors(s, l) });
    if !s.warnings.is_empty() {
        sections.push(Section { id: "warnings", title: title(("Warnings", "警告")), body: warnings(s, l) });
    }
    sections.extend(p.extra.iter().map(|x| Section {
        id: x.id,
        title: x.title.clone(),
        body: x.body.clone(),
    }));
    sections.push(Section {
        id: "config",
        title: title(("Configuration", "配置")),
        body: config(&s.config, l),
    });

    let subtitle = format!(
        "{started_w} {started} · {wall_w} {wall:.2} s · {window_w} {window:.2} s",
        started_w = l.pick("started", "开始于"),
        wall_w = l.pick("wall", "总耗时"),
        window_w = l.pick("window", "测量窗口"),
        started = s.started_at,
        wall = s.wall_s,
        window = s.window_s,
    );
    let notice = if s.interrupted {
        let wall = format!("{:.2}", s.wall_s);
        notice(&l.pick(
            format!("Interrupted (Ctrl-C or SIGTERM) after {wall} s: this report covers only what ran before the interrupt."),
            format!("已中断（Ctrl-C 或 SIGTERM），运行 {wall} 秒后停止：本报告只涵盖中断前运行的部分。"),
        ))
    } else {
        String::new()
    };
    shell(
        l,
        &heading(l.pick("llmload report", "llmload 报告"), &s.config),
        &subtitle,
        s.tool.version,
        &notice,
        &sections,
    )
}

/// A line at the top of the page that changes how all of it reads (an interrupted run), escaped.
fn notice(text: &str) -> String {
    format!("<p class=\"notice\" role=\"status\"><strong>{}</strong></p>\n", escape(text))
}

/// The page around `sections`: the head (style, the policy that forbids fetching), the header
/// with `heading`, `subtitle` and a link to each section, `notice` (HTML, already escaped; may
/// be empty) at the top of the main part, and the footer. Every text escaped.
fn shell(
    l: Lang,
    heading: &str,
    subtitle: &str,
    version: &str,
    notice: &str,
    sections: &[Section],
) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"generator\" content=\"llmload {v}\"><title>{t}</title><style>{STYLE}</style></head><body>\n\
<header><h1>{t}</h1><p>{sub} · llmload {v}</p><nav>",
        code = l.code(),
        v = escape(version),
        t = escape(heading),
        sub = escape(subtitle),
    );
    for x in sections {
        let _ = write!(o, "<a href=\"#{}\">{}</a>", x.id, escape(&x.title));
    }
    o.push_str("</nav></header>\n<main>\n");
    o.push_str(notice);
    for x in sections {
        let _ = writeln!(o, "<section id=\"{}\"><h2>{}</h2>{}</section>", x.id, escape(&x.title), x.body);
    }
    let footer = l.pick(
        "Written by llmload; self-contained: nothing on this page is fetched.",
        "由 llmload 生成；自包含：本页不加载任何外部内容。",
    );
    let _ = write!(o, "</main>\n<footer>{footer}</footer>\n</body></html>\n");
    o
}

/// `llmload report · API · URL`, from the config (a rebuilt run may name neither).
fn heading(first: &str, config: &Value) -> String {
    let mut parts = vec![first.to_string()];
    parts.extend(["api", "url"].iter().filter_map(|k| config[k].as_str().map(String::from)));
    parts.join(" · ")
}

/// A headline number: its label, its value, a line of detail, and a CSS class (`pass`,
/// `fail`, or none) whose colour only repeats what the words say.
pub struct Card {
    pub class: &'static str,
    pub label: String,
    pub value: String,
    pub detail: String,
}

impl Card {
    pub fn html(&self) -> String {
        let class = if self.class.is_empty() { "card".to_string() } else { format!("card {}", self.class) };
        format!(
            "<div class=\"{class}\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"detail\">{}</div></div>",
            escape(&self.label),
            escape(&self.value),
            escape(&self.detail)
        )
    }
}

/// `--repeat`: each headline number's runs, mean, coefficient of variation and 95 % interval.
fn repeats(r: &crate::summary::Repeats, l: Lang) -> String {
    let n = r.runs;
    let mut o = format!(
        "<p>{}</p><table><thead><tr><th>{}</th>",
        escape(&l.pick(
            format!("{n} runs of the same test: the report above pools every run's requests; here each number across the runs."),
            format!("同一测试运行 {n} 次：上方报告合并了每次运行的请求；此处为各数字在各次运行间的分布。"),
        )),
        l.pick("metric", "指标")
    );
    for k in 1..=n {
        o += &format!("<th class=\"num\">{}</th>", l.pick(format!("run {k}"), format!("第 {k} 次")));
    }
    o += &format!(
        "<th class=\"num\">{}</th><th class=\"num\">CV</th><th class=\"num\">{}</th></tr></thead><tbody>",
        l.pick("mean", "平均"),
        l.pick("95% interval", "95% 区间")
    );
    for m in &r.metrics {
        let (name, shown) = crate::output::text::repeated_metric(m.metric, l);
        o += &format!("<tr><td>{}</td>", escape(name));
        for v in &m.values {
            o += &format!("<td class=\"num\">{}</td>", v.map_or_else(|| "-".into(), shown));
        }
        let interval = m.ci95.map_or_else(|| "-".into(), |[lo, hi]| format!("{} – {}", shown(lo), shown(hi)));
        o += &format!(
            "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            m.mean.map_or_else(|| "-".into(), shown),
            percent(m.cv),
            interval
        );
    }
    o + "</tbody></table>"
}

fn card(label: &str, value: &str, detail: &str) -> String {
    Card { class: "", label: label.into(), value: value.into(), detail: detail.into() }.html()
}

fn p50_p99(d: &Option<Distribution>, l: Lang) -> (String, String) {
    match d {
        Some(d) => {
            let (p99, max) = (ms(d.p99), ms(d.max));
            (ms(d.p50), l.pick(format!("p99 {p99} · max {max}"), format!("p99 {p99} · 最大 {max}")))
        }
        None => ("-".into(), l.pick("no successful request", "没有成功的请求").into()),
    }
}

fn headline(s: &Summary, l: Lang) -> String {
    let r = &s.requests;
    let m = &s.metrics;
    let mut o = String::from("<div class=\"cards\">");
    if !s.thresholds.is_empty() {
        o += &goals::thresholds_card(&s.thresholds, l).html();
    }
    if let Some(g) = &s.goodput {
        o += &goals::goodput_card(g, l).html();
    }
    let (ok, failed, cancelled) = (count(r.ok), count(r.failed), count(r.cancelled));
    o += &card(
        l.pick("requests", "请求"),
        &count(r.total),
        &l.pick(
            format!("{ok} ok · {failed} failed · {cancelled} cancelled"),
            format!("成功 {ok} · 失败 {failed} · 取消 {cancelled}"),
        ),
    );
    o += &card(
        l.pick("success", "成功率"),
        &percent(s.success_rate),
        l.pick("ok / (ok + failed)", "成功 / (成功 + 失败)"),
    );
    if r.answers_checked > 0 {
        let (wrong, checked) = (count(r.wrong_answer), count(r.answers_checked));
        let class = if r.wrong_answer > 0 { "fail" } else { "pass" };
        o += &Card {
            class,
            label: l.pick("wrong answers", "错误回答").into(),
            value: percent(s.wrong_answer_rate),
            detail: l.pick(
                format!("{wrong} of {checked} checked answers failed their check"),
                format!("{checked} 个经检查的回答中 {wrong} 个未通过"),
            ),
        }
        .html();
    }
    o += &card(
        l.pick("requests/s", "请求/秒"),
        &rate(s.throughput.requests_per_s),
        l.pick("successful, over the measured window", "成功请求，按测量窗口计"),
    );
    let tokens = count(s.tokens.output_total);
    o += &card(
        l.pick("output tok/s", "输出 tok/s"),
        &rate(s.throughput.output_tokens_per_s),
        &l.pick(format!("{tokens} output tokens"), format!("输出 {tokens} token")),
    );
    if let Some(st) = &s.steady_state {
        let (from, to) = (seconds(st.start_s), seconds(st.end_s));
        let (tps, ttft) =
            (rate(st.output_tokens_per_s), st.ttft_ms.map_or_else(|| "-".into(), |d| ms(d.p50)));
        o += &card(
            l.pick("steady requests/s", "稳态 请求/秒"),
            &rate(st.requests_per_s),
            &l.pick(
                format!("{from} → {to}: {tps} output tok/s · TTFT p50 {ttft} (ramp-up and drain left out)"),
                format!("{from} → {to}：输出 {tps} tok/s · TTFT p50 {ttft}（不含爬坡与收尾）"),
            ),
        );
    }
    if let (Some(cached), Some(share)) = (s.tokens.cached_input, s.tokens.cache_hit_share) {
        let cached = count(cached);
        o += &card(
            l.pick("cache hits", "缓存命中"),
            &percent(Some(share)),
            &l.pick(
                format!("{cached} input tokens from the server's prefix cache"),
                format!("{cached} 个输入 token 来自服务器的前缀缓存"),
            ),
        );
    }
    for (label, d) in [("TTFT p50", &m.ttft_ms), ("ITL p50", &m.itl_ms), ("E2E p50", &m.e2e_ms)] {
        let (value, detail) = p50_p99(d, l);
        o += &card(label, &value, &detail);
    }
    o += "</div>";
    let _ = write!(o, "<table><thead><tr><th>{}</th>", l.pick("metric", "指标"));
    // Every distribution reports the same percentiles: any one gives the columns.
    let any = [&m.ttfb_ms, &m.ttft_ms, &m.itl_ms, &m.e2e_ms, &m.output_tokens, &s.client.read_lag_ms]
        .into_iter()
        .find_map(Option::as_ref);
    let columns = crate::output::text::stat_columns(any, l);
    for c in &columns {
        let _ = write!(o, "<th>{}</th>", escape(c));
    }
    o += "</tr></thead><tbody>";
    // The latencies from the intended start sit under their neighbours, when they differ
    // beyond noise (the text summary's rule).
    let (ttft_sched, e2e_sched) =
        (beyond_noise(&m.ttft_sched_ms, &m.ttft_ms), beyond_noise(&m.e2e_sched_ms, &m.e2e_ms));
    // TTFA equal to TTFT in every statistic (an API without reasoning) is one row, as in the
    // text summary.
    let ttfa_is_ttft = m.ttfa_ms.is_some() && m.ttfa_ms == m.ttft_ms;
    let ttft_name =
        if ttfa_is_ttft { ("TTFT = TTFA ms", "TTFT = TTFA ms") } else { ("TTFT ms", "TTFT 首字 ms") };
    let rows: [((&str, &str), Option<&Distribution>, bool); 12] = [
        (("TTFB ms", "TTFB ms"), m.ttfb_ms.as_ref(), true),
        (ttft_name, m.ttft_ms.as_ref(), true),
        (("TTFT sched ms", "计划起 TTFT ms"), ttft_sched, ttft_sched.is_some()),
        (("TTFA ms", "TTFA 首答 ms"), m.ttfa_ms.as_ref(), !ttfa_is_ttft),
        (("ITL ms", "ITL 字间 ms"), m.itl_ms.as_ref(), true),
        (("TPOT ms", "TPOT ms"), m.tpot_ms.as_ref(), true),
        (("E2E ms", "E2E 端到端 ms"), m.e2e_ms.as_ref(), true),
        (("E2E sched ms", "计划起 E2E ms"), e2e_sched, e2e_sched.is_some()),
        (("input tokens", "输入 token"), m.input_tokens.as_ref(), true),
        (("output tokens", "输出 token"), m.output_tokens.as_ref(), true),
        (("decode tok/s", "解码 tok/s"), m.decode_tokens_per_s.as_ref(), true),
        (("client read lag ms", "客户端读取滞后 ms"), s.client.read_lag_ms.as_ref(), true),
    ];
    for (name, d, shown) in rows {
        if !shown {
            continue;
        }
        let class = if name.0.contains("sched") { " class=\"sched\"" } else { "" };
        let _ = write!(o, "<tr{class}><td>{}</td>", escape(l.pick(name.0, name.1)));
        match d {
            Some(d) => {
                let _ = write!(o, "<td>{}</td>", count(d.count));
                for v in crate::output::text::stat_values(d) {
                    let _ = write!(o, "<td>{}</td>", number(v));
                }
            }
            None => {
                let (span, none) = (columns.len(), l.pick("no values", "无数据"));
                let _ = write!(o, "<td colspan=\"{span}\" class=\"none\">{none}</td>");
            }
        }
        o += "</tr>";
    }
    o += "</tbody></table>";
    if ttft_sched.is_some() || e2e_sched.is_some() {
        let delay = m.start_delay_ms.as_ref().map_or("-".into(), |d| ms(d.p99));
        let note = l.pick(
            format!("The sched rows count from each request's intended start (its place in the --rate schedule, or when its worker was free), not from its send: the client or a full worker pool held requests back, a wait TTFT and E2E hide. Start delay p99 {delay}."),
            format!("“计划起”各行从每个请求的计划开始时间算起（它在 --rate 计划中的位置，或其工作线程空闲之时），而非从发送算起：客户端或满载的工作线程池让请求等待了，TTFT 与 E2E 看不到这段等待。启动延迟 p99 {delay}。"),
        );
        let _ = write!(o, "<p class=\"note\">{}</p>", escape(&note));
    }
    o
}

fn verdict(s: &Summary, l: Lang) -> String {
    let c = &s.client;
    let (class, word) = match c.verdict {
        Some(Verdict::Ok) => ("ok", "ok"),
        Some(Verdict::Degraded) => ("degraded", "degraded"),
        Some(Verdict::ClientBound) => ("bound", "client-bound"),
        None => ("none", l.pick("not judged", "未判定")),
    };
    let meaning = l.of(verdict_meaning(c.verdict));
    let mut o =
        format!("<p class=\"verdict {class}\"><strong>{}</strong>: {}</p>", escape(word), escape(meaning));
    if !c.reasons.is_empty() {
        o += "<ul>";
        for r in &c.reasons {
            let _ = write!(o, "<li>{}</li>", escape(r.get(l)));
        }
        o += "</ul>";
    }
    let cpu = match (c.cpu_s, c.peak_rss_mb) {
        (Some(cpu), Some(mb)) => l.pick(
            format!("{cpu:.2} CPU-s · peak memory {mb:.1} MiB"),
            format!("{cpu:.2} CPU-s · 峰值内存 {mb:.1} MiB"),
        ),
        _ => l.pick("CPU and memory not recorded", "未记录 CPU 与内存").into(),
    };
    let lag = c.read_lag_ms.as_ref().map_or("-".into(), |d| ms(d.p99));
    let clock = match c.clock {
        crate::summary::Clock::Kernel => "kernel",
        crate::summary::Clock::User => "user",
    };
    let (clock_w, lag_w) = (l.pick("clock", "时钟"), l.pick("read lag p99", "读取滞后 p99"));
    let _ = write!(o, "<p>{} · {clock_w} {clock} · {lag_w} {}</p>", escape(&cpu), escape(&lag));
    if let Some(machine) = busy_machine(c, l) {
        let _ = write!(o, "<p>{}{}</p>", l.pick("Machine: ", "本机："), escape(&machine));
    }
    o
}

/// The distributions; TTFT's cumulative share has a second line from the intended start when
/// the summary table shows that row; an empty one says so.
fn distributions(s: &Summary, stats: &RunStats, l: Lang) -> String {
    let sched = beyond_noise(&s.metrics.ttft_sched_ms, &s.metrics.ttft_ms).map(|_| charts::Also {
        label: l.pick("from the intended start", "从计划开始起"),
        h: &stats.ttft_sched,
    });
    let all = [
        ("TTFT", "ms", &stats.ttft, 0.001, false, sched),
        ("ITL", "ms", &stats.itl, 0.001, false, None),
        ("E2E", "ms", &stats.e2e, 0.001, false, None),
        (l.pick("Input tokens", "输入 token"), "tokens", &stats.input_per_request, 1.0, true, None),
        (l.pick("Output tokens", "输出 token"), "tokens", &stats.tokens_per_request, 1.0, true, None),
    ];
    // Empty when no request measured it: none succeeded, or (ITL) every answer was one event.
    let none = l.pick("No data: no request measured this.", "无数据：没有请求测到这一项。");
    let mut o = String::new();
    for (name, unit, h, scale, whole, also) in all {
        let _ = write!(o, "<h3>{}</h3>", escape(name));
        o += &charts::distribution(l, name, unit, h, scale, whole, also)
            .unwrap_or_else(|| format!("<p class=\"none\">{none}</p>"));
    }
    o
}

fn errors(s: &Summary, l: Lang) -> String {
    let errors = s.errors_by_count();
    if errors.is_empty() {
        return format!("<p class=\"none\">{}</p>", l.pick("No request failed.", "没有失败的请求。"));
    }
    let mut o = format!(
        "<table><thead><tr><th>{}</th><th>{}</th><th class=\"message\">{}</th></tr></thead><tbody>",
        l.pick("kind", "类型"),
        l.pick("count", "次数"),
        l.pick("first message", "首条消息")
    );
    for (kind, n, message) in errors {
        let mut shown: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
        if shown.len() < message.len() {
            shown.push('…');
        }
        let _ = write!(
            o,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"message\">{}</td></tr>",
            escape(kind),
            count(n),
            escape(&shown)
        );
    }
    o += "</tbody></table>";
    o
}

fn warnings(s: &Summary, l: Lang) -> String {
    let mut o = String::from("<ul>");
    for w in &s.warnings {
        let _ = write!(o, "<li>{}</li>", escape(w.get(l)));
    }
    o += "</ul>";
    o
}

/// The config's keys and values (masked by `Config::describe`), in name order.
fn config(config: &Value, l: Lang) -> String {
    let Value::Object(map) = config else {
        return format!("<p class=\"none\">{}</p>", l.pick("No configuration.", "没有配置。"));
    };
    let mut o = String::from("<table class=\"config\"><tbody>");
    for (k, v) in map {
        let shown = match v {
            Value::String(s) => s.clone(),
            Value::Null => "-".into(),
            Value::Array(items) if items.is_empty() => "-".into(),
            Value::Array(items) if items.iter().all(Value::is_string) => {
                items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
            }
            other => other.to_string(),
        };
        let _ = write!(o, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&shown));
    }
    o += "</tbody></table>";
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::{ErrorKind, Measurement, Outcome};
    use crate::stats::SeriesBuilder;
    use crate::summary::RunOutput;
    use std::time::{Duration, Instant};

    const KEY: &str = "sk-abcdefghijklmnop9f3c";

    /// A run of `seconds` seconds: a request every 50 ms (TTFT from 1 ms to a minute, up to 400
    /// tokens each), one in 13 failed with a message holding markup and Chinese.
    fn run(seconds: u64) -> RunOutput {
        run_with(seconds, false)
    }

    /// `run`, and when `judged`: `--slo`, three prompts and two keys round-robin, and requests
    /// sent up to 190 ms after their intended start (a full pool held them back).
    fn run_with(seconds: u64, judged: bool) -> RunOutput {
        let base = Instant::now();
        let (mut stats, mut series) = (RunStats::default(), SeriesBuilder::new(true));
        let mut breakdown = crate::stats::Breakdown::default();
        if judged {
            let slo = crate::slo::Slo::parse("ttft<=500ms,tpot<10ms").unwrap();
            stats.slo = Some(crate::slo::SloTally::new(slo));
        }
        for i in 0..seconds * 20 {
            let intended = base + Duration::from_millis(50 * i);
            let held = if judged { Duration::from_millis(10 * (i % 20)) } else { Duration::ZERO };
            let t0 = intended + held;
            let (prompt, key) = if judged { ((i % 3) as usize, Some((i % 2) as usize)) } else { (0, None) };
            let mut m = Measurement::new(0, prompt, key, t0);
            m.scheduled = intended;
            let ttft = Duration::from_micros(1_000 + (i * 7919) % 60_000_000);
            let tokens = 1 + (i * 31) % 400;
            m.text_at = (0..tokens)
                .map(|k| t0 + ttft + Duration::from_micros(k * (500 + (i * k) % 40_000)))
                .collect();
            m.end_at = *m.text_at.last().unwrap();
            m.first_answer_at = m.text_at.first().copied();
            m.usage_output_tokens = Some(tokens);
            m.read_lags_us = vec![20, 30 + (i % 100) as u32];
            if i % 13 == 0 {
                let kind = [ErrorKind::Http(500 + (i % 7) as u16), ErrorKind::Transport][(i % 2) as usize];
                m.outcome = Outcome::Failed {
                    kind,
                    message: format!("<html>服务繁忙 & {}</html>", "x".repeat(1000)),
                };
            }
            stats.add(&m);
            series.add(&m, base);
            breakdown.add(&m);
        }
        RunOutput {
            warnings: vec!["a warning with <b>markup</b> & 中文".into()],
            series: series.rows(),
            breakdown,
            ..RunOutput::of(stats, seconds as f64)
        }
    }

    fn config() -> Value {
        let args = crate::cli::RunArgs {
            url: Some("http://127.0.0.1:9/v1".into()),
            api: Some("openai-chat".into()),
            api_key: Some(KEY.into()),
            prompt: Some("<script>alert(1)</script> 你好".into()),
            header: vec![format!("Authorization: Bearer {KEY}")],
            ..Default::default()
        };
        crate::config::Config::from_args(&args).unwrap().0.describe()
    }

    fn render(run: &RunOutput) -> String {
        let summary = Summary::new(config(), run, Some((1.5, 40 << 20)));
        page(&Page {
            summary: &summary,
            series: &run.series,
            stats: &run.stats,
            extra: Vec::new(),
            lang: Lang::En,
        })
    }

    #[test]
    fn ttfa_equal_to_ttft_is_one_row() {
        let html = render(&run(2));
        assert!(html.contains("<td>TTFT = TTFA ms</td>"), "folded");
        assert!(!html.contains("<td>TTFA ms</td>") && !html.contains("<td>TTFT ms</td>"));
    }

    #[test]
    fn an_interrupted_run_is_marked_at_the_top_in_both_languages() {
        let run = RunOutput { interrupted: true, ..run(2) };
        let summary = Summary::new(config(), &run, None);
        let page_in = |lang| {
            page(&Page { summary: &summary, series: &run.series, stats: &run.stats, extra: Vec::new(), lang })
        };
        let wall = format!("{:.2}", summary.wall_s);
        let en = page_in(Lang::En);
        let mark = format!(
            "<main>\n<p class=\"notice\" role=\"status\"><strong>Interrupted (Ctrl-C or SIGTERM) after {wall} s: this report covers only what ran before the interrupt.</strong></p>\n<section id=\"summary\">"
        );
        assert!(en.contains(&mark), "first in the page: {}", &en[en.find("<main>").unwrap()..][..400]);
        let zh = page_in(Lang::Zh);
        assert!(
            zh.contains(&format!("<strong>已中断（Ctrl-C 或 SIGTERM），运行 {wall} 秒后停止：本报告只涵盖中断前运行的部分。</strong>")),
            "{}",
            &zh[zh.find("<main>").unwrap()..][..400]
        );
        assert!(!render(&run_with(2, false)).contains("class=\"notice\""), "a finished run has no mark");
    }

    #[test]
    fn an_empty_distribution_says_no_data() {
        // Every answer is one event: TTFT has values, ITL has none.
        let (base, mut stats) = (Instant::now(), RunStats::default());
        for i in 0..5 {
            let t0 = base + Duration::from_millis(10 * i);
            let mut m = Measurement::new(0, 0, None, t0);
            m.text_at = vec![t0 + Duration::from_millis(3)];
            m.end_at = t0 + Duration::from_millis(4);
            m.usage_output_tokens = Some(1);
            stats.add(&m);
        }
        let html = render(&RunOutput::of(stats, 1.0));
        let itl = &html[html.find("<h3>ITL</h3>").expect("an ITL heading")..];
        assert!(
            itl.starts_with("<h3>ITL</h3><p class=\"none\">No data: no request measured this.</p>"),
            "{itl:.200}"
        );
        let ttft = &html[html.find("<h3>TTFT</h3>").expect("a TTFT heading")..];
        assert!(!ttft.starts_with("<h3>TTFT</h3><p class=\"none\">"), "{ttft:.200}");
    }

    #[test]
    fn the_page_holds_every_section_and_fetches_nothing() {
        let html = render(&run(30));
        for id in ["summary", "client", "series", "distributions", "errors", "warnings", "config"] {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "no {id} section");
            assert!(html.contains(&format!("<a href=\"#{id}\">")), "no link to {id}");
        }
        assert_eq!(html.matches("<svg").count(), 6 + 5 * 2, "six series charts, two a distribution");
        for h in ["<h3>TTFT</h3>", "<h3>ITL</h3>", "<h3>E2E</h3>", "<h3>Output tokens</h3>"] {
            assert!(html.contains(h), "{h}");
        }
        // Nothing is fetched: no script, no external resource of any kind.
        for banned in
            ["<script", "<link", "<img", "<iframe", "@import", "url(", " src=", "xmlns", "href=\"http"]
        {
            assert!(!html.contains(banned), "{banned} in the page");
        }
        for (i, _) in html.match_indices("http") {
            let before = &html[i.saturating_sub(6)..i];
            assert!(
                !before.contains('=') && !before.contains('('),
                "a reference: …{}…",
                &html[i - 6..i + 20]
            );
        }
        assert!(html.contains("default-src 'none'"), "the CSP forbids fetching");
    }

    #[test]
    fn text_is_escaped_and_keys_are_masked() {
        let html = render(&run(30));
        assert!(!html.contains(KEY) && !html.contains("abcdefghijklmnop"), "a key in clear");
        assert!(html.contains("sk-a…9f3c"), "the masked key is shown");
        assert!(html.contains("Authorization: Bear…9f3c"), "the masked header is shown");
        assert!(
            !html.contains("<html>服务") && html.contains("&lt;html&gt;服务繁忙 &amp; "),
            "the error message"
        );
        assert!(html.contains("a warning with &lt;b&gt;markup&lt;/b&gt; &amp; 中文"));
        assert!(!html.contains("<b>markup"), "markup from a run stays text");
        // Long messages are cut in the table.
        assert!(html.contains(&format!("{}…", "x".repeat(270))) && !html.contains(&"x".repeat(400)));
        assert_eq!(html.matches("<!DOCTYPE html>").count(), 1);
    }

    #[test]
    fn a_ten_minute_run_stays_under_300_kb() {
        let long = run(600);
        // Ten minutes of starts; the slowest requests end about a minute later.
        let seconds = long.series.len();
        assert!((600..=700).contains(&seconds), "{seconds}");
        let html = render(&long);
        assert!(html.len() <= 300 * 1024, "{} bytes", html.len());
        let note = format!("{seconds} seconds, merged {} at a time", seconds.div_ceil(charts::MAX_POINTS));
        assert!(html.contains(&note), "the note says how points were merged");
        // An hour is merged harder and still fits.
        let hour = render(&run(3600));
        assert!(hour.len() <= 300 * 1024, "{} bytes", hour.len());
    }

    /// The page of a `judged` run with thresholds, one of them failing, the keys masked and the
    /// prompts named as a live run names them.
    fn judged_page(lang: Lang) -> String {
        let run = run_with(30, true);
        let mut summary = Summary::new(config(), &run, Some((1.5, 40 << 20)));
        let thresholds: Vec<crate::gate::Threshold> = ["ttft.p99<10m", "error_rate<1%", "success_rate>0.5"]
            .iter()
            .map(|t| crate::gate::Threshold::parse(t).unwrap())
            .collect();
        summary.check(&thresholds);
        let keys = ["sk-first-key-00000001", "sk-second-key-0000002"];
        let prompts = ["<b>first</b> & 你好", "second", "third"];
        summary.name_breakdown(
            |i| keys.get(i).map(|k| crate::workload::mask_key(k)),
            |i| prompts.get(i).map(|p| p.to_string()),
        );
        page(&Page { summary: &summary, series: &run.series, stats: &run.stats, extra: Vec::new(), lang })
    }

    #[test]
    fn the_cache_hit_share_has_a_card_where_usage_reported_it() {
        let run = run(30);
        let mut summary = Summary::new(config(), &run, None);
        let show = |s: &Summary, lang| {
            page(&Page { summary: s, series: &run.series, stats: &run.stats, extra: Vec::new(), lang })
        };
        assert!(!show(&summary, Lang::En).contains("cache hits"), "no usage said what was cached");
        (summary.tokens.cached_input, summary.tokens.cache_hit_share) = (Some(6700), Some(0.67));
        let card = "<div class=\"card\"><div class=\"label\">cache hits</div><div class=\"value\">67.0%</div><div class=\"detail\">6,700 input tokens from the server&#39;s prefix cache</div></div>";
        assert!(show(&summary, Lang::En).contains(card), "{}", show(&summary, Lang::En));
        let zh = "<div class=\"label\">缓存命中</div><div class=\"value\">67.0%</div><div class=\"detail\">6,700 个输入 token 来自服务器的前缀缓存</div>";
        assert!(show(&summary, Lang::Zh).contains(zh));
    }

    /// The page of `run(30)` with the server block of `server::tests::block` and a scrape in
    /// every second (`kv`: with the KV cache's use).
    fn server_page(lang: Lang, kv: bool) -> String {
        let run = run(30);
        let mut summary = Summary::new(config(), &run, None);
        summary.server = Some(server::tests::block());
        let series = server::tests::scraped(&run.series, kv);
        page(&Page { summary: &summary, series: &series, stats: &run.stats, extra: Vec::new(), lang })
    }

    /// The x coordinates of the time ticks (`12s`) of the `<svg>`s in `html`, each chart's.
    fn time_ticks(html: &str) -> Vec<Vec<String>> {
        html.split("<svg class=\"chart\"")
            .skip(1)
            .map(|svg| {
                let svg = svg.split("</svg>").next().unwrap();
                svg.split("<text class=\"tick\" x=\"")
                    .skip(1)
                    .filter_map(|t| {
                        let (x, rest) = t.split_once('"')?;
                        let label = rest.split_once('>')?.1.split_once('<')?.0;
                        let secs = label.strip_suffix('s').is_some_and(|n| n.parse::<f64>().is_ok());
                        secs.then(|| format!("{x}:{label}"))
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_server_section_sits_after_the_series_with_its_charts_on_their_time_axis() {
        let html = server_page(Lang::En, true);
        let (series, server, distributions) = (
            html.find("<section id=\"series\">").unwrap(),
            html.find("<section id=\"server\">").expect("a server section"),
            html.find("<section id=\"distributions\">").unwrap(),
        );
        assert!(series < server && server < distributions, "after the series, before the distributions");
        assert!(html.contains("<a href=\"#server\">Server</a>"));
        let section = &html[server..distributions];
        // Two pairs of charts and the TTFT split's bar.
        assert_eq!(section.matches("<figure class=\"pair\">").count(), 2, "{section}");
        assert_eq!(section.matches("<svg class=\"chart\"").count(), 4);
        assert_eq!(section.matches("<svg class=\"stacked\"").count(), 1);
        assert_eq!(html.matches("<svg").count(), 6 + 5 * 2 + 5, "the run's charts and the server's");
        for text in [
            "<title>Requests on the server</title>",
            "<title>Client TTFT p50</title>",
            "<title>KV cache use</title>",
            ">waiting<",
            ">server generated<",
            "<td>TTFT</td><td>10</td><td>20.0–40.0ms</td>",
            "the server generated 80 · llmload received 80",
        ] {
            assert!(section.contains(text), "{text}");
        }
        // Every time-series chart of the page, the server's too, has the same time axis.
        let ticks = time_ticks(&html[series..distributions]);
        assert_eq!(ticks.len(), 6 + 4, "{ticks:?}");
        assert!(!ticks[0].is_empty() && ticks.iter().all(|t| t == &ticks[0]), "{ticks:?}");
        // Without the KV cache's use: one pair, and a note that says why.
        let no_kv = server_page(Lang::En, false);
        assert_eq!(no_kv.matches("<figure class=\"pair\">").count(), 1);
        assert!(no_kv.contains("<p class=\"note\">The server's pages show no KV cache use.</p>"));
    }

    #[test]
    fn the_server_section_speaks_chinese() {
        let html = server_page(Lang::Zh, true);
        let section = &html[html.find("<section id=\"server\">").unwrap()..];
        let section = &section[..section.find("</section>").unwrap()];
        for text in [
            "<h2>服务端</h2>",
            "运行中最多",
            "等待最多",
            "KV 缓存最高",
            "服务器生成 80 · llmload 收到 80",
            "<title>服务端的请求</title>",
            ">排队<",
        ] {
            assert!(section.contains(text), "{text}");
        }
        for english in ["waiting", "running", "queue", "generated", "received", "Requests on"] {
            assert!(!section.contains(english), "{english} in the Chinese section");
        }
    }

    #[test]
    fn checked_answers_have_a_card() {
        let run = run(30);
        let mut summary = Summary::new(config(), &run, None);
        let show = |s: &Summary, lang| {
            page(&Page { summary: s, series: &run.series, stats: &run.stats, extra: Vec::new(), lang })
        };
        assert!(!show(&summary, Lang::En).contains("wrong answers"), "nothing was checked");
        (summary.requests.answers_checked, summary.requests.wrong_answer) = (20, 5);
        summary.wrong_answer_rate = Some(0.25);
        let card = "<div class=\"card fail\"><div class=\"label\">wrong answers</div><div class=\"value\">25.0%</div><div class=\"detail\">5 of 20 checked answers failed their check</div></div>";
        assert!(show(&summary, Lang::En).contains(card), "{}", show(&summary, Lang::En));
        let zh = "<div class=\"label\">错误回答</div><div class=\"value\">25.0%</div><div class=\"detail\">20 个经检查的回答中 5 个未通过</div>";
        assert!(show(&summary, Lang::Zh).contains(zh));
    }

    #[test]
    fn sections_appear_only_with_their_data() {
        let plain = render(&run(30));
        for id in ["thresholds", "goodput", "keys", "prompts", "server"] {
            assert!(!plain.contains(&format!("id=\"{id}\"")), "{id} without its data");
        }
        assert!(
            !plain.contains("class=\"sched\"") && !plain.contains("from the intended start"),
            "no delay, no row"
        );
        assert!(!plain.contains("card pass") && !plain.contains("card fail"));

        let html = judged_page(Lang::En);
        let ids = [
            "summary",
            "thresholds",
            "goodput",
            "client",
            "series",
            "distributions",
            "keys",
            "prompts",
            "errors",
        ];
        let at: Vec<usize> = ids
            .iter()
            .map(|id| html.find(&format!("<section id=\"{id}\">")).unwrap_or_else(|| panic!("no {id}")))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "sections in order: {at:?}");
        for id in ids {
            assert!(html.contains(&format!("<a href=\"#{id}\">")), "no link to {id}");
        }
        // The overall result is at the top, in words.
        let cards = &html[at[0]..at[1]];
        assert!(cards.contains("<div class=\"card fail\"><div class=\"label\">thresholds passed</div><div class=\"value\">2 of 3</div><div class=\"detail\">FAIL: 1 not met</div>"), "{cards}");
        assert!(cards.contains("<div class=\"label\">goodput req/s</div>"), "{cards}");
        assert!(html.contains("<code>error_rate&lt;1%</code>") && html.contains("✗ FAIL"));
        assert!(html.contains("<code>ttft&lt;=500ms,tpot&lt;10ms</code>"), "the objectives");
        assert_eq!(html.matches("<svg class=\"stacked\"").count(), 2, "one bar per objective");
        assert_eq!(html.matches("<svg class=\"chart interval\"").count(), 1);
        // Keys masked, prompt text escaped.
        assert!(html.contains("<code>sk-f…0001</code>") && html.contains("<code>sk-s…0002</code>"));
        assert!(!html.contains("sk-first-key") && !html.contains("<b>first"), "a key or markup in clear");
        assert!(html.contains("&lt;b&gt;first&lt;/b&gt; &amp; 你好"));
        // Held back up to 190 ms: the latencies from the intended start are shown, and drawn.
        assert!(html.contains("<tr class=\"sched\"><td>TTFT sched ms</td>"), "the TTFT sched row");
        assert!(html.contains("<tr class=\"sched\"><td>E2E sched ms</td>"), "the E2E sched row");
        assert!(html.contains("count from each request&#39;s intended start"), "the note");
        assert!(html.contains("TTFT: cumulative share, from the send and from the intended start"));
        assert!(html.len() <= 300 * 1024, "{} bytes", html.len());
    }

    #[test]
    fn the_new_sections_speak_chinese() {
        let html = judged_page(Lang::Zh);
        for heading in ["<h2>阈值</h2>", "<h2>有效吞吐</h2>", "<h2>按 API 密钥</h2>", "<h2>按提示词</h2>"]
        {
            assert!(html.contains(heading), "{heading}");
        }
        assert!(
            html.contains("3 项中通过 2 项") && html.contains("失败：1 项未满足") && html.contains(">2 / 3<")
        );
        assert!(html.contains("<td>计划起 TTFT ms</td>") && html.contains("从计划开始起"));
        for english in
            ["of 3 passed", "attainment", "undetermined", "intended start", "By prompt", "goodput req/s"]
        {
            assert!(!html.contains(english), "{english} in the Chinese page");
        }
    }

    #[test]
    fn an_empty_run_says_so_and_later_sections_find_their_place() {
        let mut empty = run(0);
        empty.warnings.clear();
        let summary = Summary::new(serde_json::json!({"source": ["a.jsonl"]}), &empty, None);
        let extra = vec![Section { id: "goodput", title: "Goodput".into(), body: "<p>later</p>".into() }];
        let html = page(&Page { summary: &summary, series: &[], stats: &empty.stats, extra, lang: Lang::En });
        assert!(html.contains("No request finished: nothing to chart."));
        assert!(html.contains("No request failed.") && !html.contains("id=\"warnings\""));
        assert!(html.contains("<strong>not judged</strong>"));
        let (errors, goodput, config) = (
            html.find("id=\"errors\"").unwrap(),
            html.find("id=\"goodput\"").unwrap(),
            html.find("id=\"config\"").unwrap(),
        );
        assert!(
            errors < goodput && goodput < config,
            "an extra section goes after the errors, before the config"
        );
        assert!(html.contains("<a href=\"#goodput\">Goodput</a>"));
    }
}
