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

use crate::output::format::{count, ms, number, percent, rate};
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
    let s = p.summary;
    let mut sections = vec![
        Section { id: "summary", title: "Summary".into(), body: headline(s) },
        Section { id: "client", title: "Client verdict".into(), body: verdict(s) },
        Section { id: "series", title: "Second by second".into(), body: charts::series(p.series) },
        Section { id: "distributions", title: "Distributions".into(), body: distributions(p.stats) },
        Section { id: "errors", title: "Errors".into(), body: errors(s) },
    ];
    if !s.warnings.is_empty() {
        sections.push(Section { id: "warnings", title: "Warnings".into(), body: warnings(s) });
    }
    sections.extend(p.extra.iter().map(|x| Section {
        id: x.id,
        title: x.title.clone(),
        body: x.body.clone(),
    }));
    sections.push(Section { id: "config", title: "Configuration".into(), body: config(&s.config) });

    let heading = title(&s.config);
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"generator\" content=\"llmload {v}\"><title>{t}</title><style>{STYLE}</style></head><body>\n\
<header><h1>{t}</h1><p>started {started} · wall {wall:.2} s · window {window:.2} s · llmload {v}</p><nav>",
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
    o.push_str("</main>\n<footer>Written by llmload; self-contained: nothing on this page is fetched.</footer>\n</body></html>\n");
    o
}

/// `llmload report · API · URL`, from the config (a rebuilt run may name neither).
fn title(config: &Value) -> String {
    let mut parts = vec!["llmload report".to_string()];
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

fn p50_p99(d: &Option<Distribution>) -> (String, String) {
    match d {
        Some(d) => (ms(d.p50), format!("p99 {} · max {}", ms(d.p99), ms(d.max))),
        None => ("-".into(), "no successful request".into()),
    }
}

fn headline(s: &Summary) -> String {
    let r = &s.requests;
    let m = &s.metrics;
    let mut o = String::from("<div class=\"cards\">");
    o += &card(
        "requests",
        &count(r.total),
        &format!("{} ok · {} failed · {} cancelled", count(r.ok), count(r.failed), count(r.cancelled)),
    );
    o += &card("success", &percent(s.success_rate), "ok / (ok + failed)");
    o += &card("requests/s", &rate(s.throughput.requests_per_s), "successful, over the measured window");
    o += &card(
        "output tok/s",
        &rate(s.throughput.output_tokens_per_s),
        &format!("{} output tokens", count(s.tokens.output_total)),
    );
    for (label, d) in [("TTFT p50", &m.ttft_ms), ("ITL p50", &m.itl_ms), ("E2E p50", &m.e2e_ms)] {
        let (value, detail) = p50_p99(d);
        o += &card(label, &value, &detail);
    }
    o += "</div>";
    o += "<table><thead><tr><th>metric</th>";
    for c in ["count", "mean", "min", "p50", "p90", "p95", "p99", "max"] {
        let _ = write!(o, "<th>{c}</th>");
    }
    o += "</tr></thead><tbody>";
    let rows: [(&str, &Option<Distribution>); 9] = [
        ("TTFB ms", &m.ttfb_ms),
        ("TTFT ms", &m.ttft_ms),
        ("TTFA ms", &m.ttfa_ms),
        ("ITL ms", &m.itl_ms),
        ("TPOT ms", &m.tpot_ms),
        ("E2E ms", &m.e2e_ms),
        ("output tokens", &m.output_tokens),
        ("decode tok/s", &m.decode_tokens_per_s),
        ("client read lag ms", &s.client.read_lag_ms),
    ];
    for (name, d) in rows {
        let _ = write!(o, "<tr><td>{}</td>", escape(name));
        match d {
            Some(d) => {
                let _ = write!(o, "<td>{}</td>", count(d.count));
                for v in [d.mean, d.min, d.p50, d.p90, d.p95, d.p99, d.max] {
                    let _ = write!(o, "<td>{}</td>", number(v));
                }
            }
            None => o += "<td colspan=\"8\" class=\"none\">no values</td>",
        }
        o += "</tr>";
    }
    o += "</tbody></table>";
    o
}

fn verdict(s: &Summary) -> String {
    let c = &s.client;
    let (class, word, meaning) = match c.verdict {
        Some(Verdict::Ok) => ("ok", "ok", "the client kept up: the numbers are the server's"),
        Some(Verdict::Degraded) => {
            ("degraded", "degraded", "the client added delays of its own; read the latencies with care")
        }
        Some(Verdict::ClientBound) => (
            "bound",
            "client-bound",
            "the client, not the server, set these numbers; do not read them as the server's",
        ),
        None => ("none", "not judged", "rebuilt from records: the client's own use was not recorded"),
    };
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
        (Some(cpu), Some(mb)) => format!("{cpu:.2} CPU-s · peak memory {mb:.1} MiB"),
        _ => "CPU and memory not recorded".into(),
    };
    let lag = c.read_lag_ms.as_ref().map_or("-".into(), |d| ms(d.p99));
    let clock = match c.clock {
        crate::summary::Clock::Kernel => "kernel",
        crate::summary::Clock::User => "user",
    };
    let _ = write!(o, "<p>{} · clock {clock} · read lag p99 {}</p>", escape(&cpu), escape(&lag));
    o
}

fn distributions(stats: &RunStats) -> String {
    let all = [
        ("TTFT", "ms", &stats.ttft, 0.001, false),
        ("ITL", "ms", &stats.itl, 0.001, false),
        ("E2E", "ms", &stats.e2e, 0.001, false),
        ("Output tokens", "tokens", &stats.tokens_per_request, 1.0, true),
    ];
    let mut o = String::new();
    for (name, unit, h, scale, whole) in all {
        let _ = write!(o, "<h3>{}</h3>", escape(name));
        o += &charts::distribution(name, unit, h, scale, whole)
            .unwrap_or_else(|| "<p class=\"none\">No successful request: nothing to draw.</p>".into());
    }
    o
}

fn errors(s: &Summary) -> String {
    let errors = s.errors_by_count();
    if errors.is_empty() {
        return "<p class=\"none\">No request failed.</p>".into();
    }
    let mut o = String::from(
        "<table><thead><tr><th>kind</th><th>count</th><th class=\"message\">first message</th></tr></thead><tbody>",
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

fn warnings(s: &Summary) -> String {
    let mut o = String::from("<ul>");
    for w in &s.warnings {
        let _ = write!(o, "<li>{}</li>", escape(w));
    }
    o += "</ul>";
    o
}

/// The config's keys and values (masked by `Config::describe`), in name order.
fn config(config: &Value) -> String {
    let Value::Object(map) = config else { return "<p class=\"none\">No configuration.</p>".into() };
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
        page(&Page { summary: &summary, series: &run.series, stats: &run.stats, extra: Vec::new() })
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
        let html = page(&Page { summary: &summary, series: &[], stats: &empty.stats, extra });
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
