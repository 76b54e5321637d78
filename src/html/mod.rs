//! The `--html` report: one self-contained page (inline CSS and SVG; no script, font, image or
//! stylesheet fetched, a Content-Security-Policy that forbids any) with the run's headline
//! numbers, the client's verdict, the per-second charts (the `--series` rows), the
//! distributions of TTFT, ITL, E2E and output tokens, the errors, the warnings and the config
//! (keys masked, as the JSON summary has them). Every text from a run (prompt sources, error
//! messages, URLs) is escaped. Pure: a `Page` in, the HTML out; `commands` writes it.
//!
//! Later sections (goodput, thresholds, a sweep's latency-vs-throughput chart) are `Section`s
//! that their own modules build and pass in `Page::extra`; the page places them after the
//! errors, before the config, and lists them in its contents.

mod bins;
mod charts;

use crate::lang::Lang;
use crate::output::format::{count, ms, number, percent, rate};
use crate::output::text::verdict_meaning;
use crate::stats::{Distribution, RunStats, SeriesRow};
use crate::summary::Summary;
use crate::summary::verdict::Verdict;
use crate::svg::escape;
use serde_json::Value;
use std::fmt::Write;

/// What the page shows: the summary, the run second by second, and the statistics whose
/// histograms the distributions draw.
pub struct Page<'a> {
    pub summary: &'a Summary,
    pub series: &'a [SeriesRow],
    pub stats: &'a RunStats,
    /// Sections built elsewhere, placed after the errors in this order.
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
    let mut sections = vec![
        Section { id: "summary", title: title(("Summary", "汇总")), body: headline(s, l) },
        Section { id: "client", title: title(("Client verdict", "客户端判定")), body: verdict(s, l) },
        Section {
            id: "series",
            title: title(("Second by second", "逐秒")),
            body: charts::series(p.series, l),
        },
        Section {
            id: "distributions",
            title: title(("Distributions", "分布")),
            body: distributions(p.stats, l),
        },
        Section { id: "errors", title: title(("Errors", "错误")), body: errors(s, l) },
    ];
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

    let heading = heading(&s.config, l);
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"generator\" content=\"llmload {v}\"><title>{t}</title><style>{STYLE}</style></head><body>\n\
<header><h1>{t}</h1><p>{started_w} {started} · {wall_w} {wall:.2} s · {window_w} {window:.2} s · llmload {v}</p><nav>",
        code = l.code(),
        started_w = l.pick("started", "开始于"),
        wall_w = l.pick("wall", "总耗时"),
        window_w = l.pick("window", "测量窗口"),
        v = escape(s.tool.version),
        t = escape(&heading),
        started = escape(&s.started_at),
        wall = s.wall_s,
        window = s.window_s,
    );
    for x in &sections {
        let _ = write!(o, "<a href=\"#{}\">{}</a>", x.id, escape(&x.title));
    }
    o.push_str("</nav></header>\n<main>\n");
    for x in &sections {
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
fn heading(config: &Value, l: Lang) -> String {
    let mut parts = vec![l.pick("llmload report", "llmload 报告").to_string()];
    parts.extend(["api", "url"].iter().filter_map(|k| config[k].as_str().map(String::from)));
    parts.join(" · ")
}

fn card(label: &str, value: &str, detail: &str) -> String {
    format!(
        "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"detail\">{}</div></div>",
        escape(label),
        escape(value),
        escape(detail)
    )
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
    for (label, d) in [("TTFT p50", &m.ttft_ms), ("ITL p50", &m.itl_ms), ("E2E p50", &m.e2e_ms)] {
        let (value, detail) = p50_p99(d, l);
        o += &card(label, &value, &detail);
    }
    o += "</div>";
    let _ = write!(o, "<table><thead><tr><th>{}</th>", l.pick("metric", "指标"));
    for c in [
        ("count", "数量"),
        ("mean", "均值"),
        ("min", "最小"),
        ("p50", "p50"),
        ("p90", "p90"),
        ("p95", "p95"),
        ("p99", "p99"),
        ("max", "最大"),
    ] {
        let _ = write!(o, "<th>{}</th>", l.of(c));
    }
    o += "</tr></thead><tbody>";
    let rows: [((&str, &str), &Option<Distribution>); 9] = [
        (("TTFB ms", "TTFB ms"), &m.ttfb_ms),
        (("TTFT ms", "TTFT 首字 ms"), &m.ttft_ms),
        (("TTFA ms", "TTFA 首答 ms"), &m.ttfa_ms),
        (("ITL ms", "ITL 字间 ms"), &m.itl_ms),
        (("TPOT ms", "TPOT ms"), &m.tpot_ms),
        (("E2E ms", "E2E 端到端 ms"), &m.e2e_ms),
        (("output tokens", "输出 token"), &m.output_tokens),
        (("decode tok/s", "解码 tok/s"), &m.decode_tokens_per_s),
        (("client read lag ms", "客户端读取滞后 ms"), &s.client.read_lag_ms),
    ];
    for (name, d) in rows {
        let _ = write!(o, "<tr><td>{}</td>", escape(l.pick(name.0, name.1)));
        match d {
            Some(d) => {
                let _ = write!(o, "<td>{}</td>", count(d.count));
                for v in [d.mean, d.min, d.p50, d.p90, d.p95, d.p99, d.max] {
                    let _ = write!(o, "<td>{}</td>", number(v));
                }
            }
            None => {
                let _ = write!(o, "<td colspan=\"8\" class=\"none\">{}</td>", l.pick("no values", "无数据"));
            }
        }
        o += "</tr>";
    }
    o += "</tbody></table>";
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
            let _ = write!(o, "<li>{}</li>", escape(r));
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
    o
}

fn distributions(stats: &RunStats, l: Lang) -> String {
    let all = [
        ("TTFT", "ms", &stats.ttft, 0.001, false),
        ("ITL", "ms", &stats.itl, 0.001, false),
        ("E2E", "ms", &stats.e2e, 0.001, false),
        (l.pick("Output tokens", "输出 token"), "tokens", &stats.tokens_per_request, 1.0, true),
    ];
    let none = l.pick("No successful request: nothing to draw.", "没有成功的请求：没有可画的图。");
    let mut o = String::new();
    for (name, unit, h, scale, whole) in all {
        let _ = write!(o, "<h3>{}</h3>", escape(name));
        o += &charts::distribution(l, name, unit, h, scale, whole)
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
        let base = Instant::now();
        let (mut stats, mut series) = (RunStats::default(), SeriesBuilder::new(true));
        for i in 0..seconds * 20 {
            let t0 = base + Duration::from_millis(50 * i);
            let mut m = Measurement::new(0, 0, None, t0);
            let ttft = Duration::from_micros(1_000 + (i * 7919) % 60_000_000);
            let tokens = 1 + (i * 31) % 400;
            m.text_at = (0..tokens)
                .map(|k| t0 + ttft + Duration::from_micros(k * (500 + (i * k) % 40_000)))
                .collect();
            m.end_at = *m.text_at.last().unwrap();
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
        }
        RunOutput {
            stats,
            wall: Duration::from_secs(seconds),
            window: Duration::from_secs(seconds),
            started_at: chrono::Local::now(),
            warnings: vec!["a warning with <b>markup</b> & 中文".into()],
            records_error: None,
            interrupted: false,
            stats_lost: false,
            series: series.rows(),
            breakdown: Default::default(),
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
    fn the_page_holds_every_section_and_fetches_nothing() {
        let html = render(&run(30));
        for id in ["summary", "client", "series", "distributions", "errors", "warnings", "config"] {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "no {id} section");
            assert!(html.contains(&format!("<a href=\"#{id}\">")), "no link to {id}");
        }
        assert_eq!(html.matches("<svg").count(), 6 + 4 * 2, "six series charts, two a distribution");
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
