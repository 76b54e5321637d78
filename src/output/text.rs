//! The final summary a person reads on stdout: counts, errors with their first message,
//! throughput, the client's cost and its verdict when that is not `ok`, and the percentile table
//! of every metric.

use super::format::{count, display_width, number, pad_left, pad_right, percent, rate};
use crate::stats::Distribution;
use crate::summary::verdict::Verdict;
use crate::summary::{ClientUsage, Metrics, Summary};
use serde_json::Value;
use std::fmt::Write;

/// The metric table's columns after the label column, each `STAT_WIDTH` wide, right-aligned.
const STAT_COLUMNS: [&str; 8] = ["count", "mean", "min", "p50", "p90", "p95", "p99", "max"];
const STAT_WIDTH: usize = 10;

pub fn render(s: &Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "\n{}", title(&s.config));
    let _ = writeln!(
        o,
        "  requests    {} total · {} ok · {} failed · {} cancelled {}",
        count(s.requests.total),
        count(s.requests.ok),
        count(s.requests.failed),
        count(s.requests.cancelled),
        if s.interrupted { "by the interrupt" } else { "at the deadline" }
    );
    let _ = writeln!(o, "  success     {}", percent(s.success_rate));
    if s.requests.retried > 0 {
        let _ = writeln!(
            o,
            "  retries     {} requests retried · {} attempts in all (latencies count from the first)",
            count(s.requests.retried),
            count(s.requests.attempts)
        );
    }
    let _ = writeln!(
        o,
        "  throughput  {} req/s · {} output tok/s · wall {:.2}s",
        rate(s.throughput.requests_per_s),
        rate(s.throughput.output_tokens_per_s),
        s.wall_s
    );
    o.push_str(&goodput(s));
    let t = &s.tokens;
    let reasoning = match t.reasoning_total {
        0 => String::new(),
        n => format!(" ({} reasoning)", count(n)),
    };
    let _ = writeln!(
        o,
        "  tokens      {} output{reasoning} · {} input (token counts: {} requests from usage, {} from the tokenizer, {} estimated)",
        count(t.output_total),
        count(t.input_total),
        count(t.from_usage),
        count(t.from_tokenizer),
        count(t.estimated)
    );
    if let Some(c) = &t.usage_vs_counted {
        let counter = s.config["tokenizer"].as_str().unwrap_or("estimate");
        let _ = writeln!(
            o,
            "  usage check {counter} vs server usage: {} of {} requests differ · mean |diff| {:.1}% · max {:.1}%",
            count(c.differ),
            count(c.compared),
            c.mean_abs_diff_pct,
            c.max_abs_diff_pct
        );
    }
    let _ = writeln!(o, "  client      {}", client(s));
    o.push_str(&verdict(&s.client));
    let errors = s.errors_by_count();
    if !errors.is_empty() {
        let _ = writeln!(o, "  errors");
        let width = errors.iter().map(|(kind, ..)| kind.len()).max().unwrap_or(0);
        for (kind, n, message) in errors {
            let _ = writeln!(o, "    {}  {}  {message}", pad_right(kind, width), pad_left(&count(n), 7));
        }
    }
    let _ = writeln!(o);
    o.push_str(&metric_table(&s.metrics));
    for w in &s.warnings {
        let _ = writeln!(o, "\nwarning: {w}");
    }
    o
}

/// The goodput lines against `--slo` (none without it): good requests per second, the
/// attainment with its 95 % interval and the counts behind it, then each objective's counts.
fn goodput(s: &Summary) -> String {
    let Some(g) = &s.goodput else { return String::new() };
    let ci = match g.attainment_ci.as_deref() {
        Some([lo, hi]) => format!(" (95% CI {}–{})", percent(Some(*lo)), percent(Some(*hi))),
        _ => String::new(),
    };
    let mut o = format!(
        "  goodput     {} req/s · attainment {}{ci} · {} good of {} determined · {} failed · {} undetermined · slo {}\n",
        rate(g.requests_per_s),
        percent(g.attainment),
        count(g.conforming),
        count(g.determined),
        count(g.failed),
        count(g.judged - g.determined),
        g.slo
    );
    let width = g.by_objective.iter().map(|b| display_width(&b.objective)).max().unwrap_or(0);
    for b in &g.by_objective {
        let _ = writeln!(
            o,
            "    {}  {} met · {} missed · {} undetermined",
            pad_right(&b.objective, width),
            count(b.met),
            count(b.missed),
            count(b.undetermined)
        );
    }
    o
}

/// `llmload summary · API · URL`, and `· rebuilt from FILES` for `llmload report`; a rebuilt
/// summary names the API and URL only when its records carried them.
fn title(config: &Value) -> String {
    let mut parts = vec!["llmload summary".to_string()];
    parts.extend(["api", "url"].iter().filter_map(|k| config[k].as_str().map(String::from)));
    if let Some(files) = config["source"].as_array() {
        let files: Vec<&str> = files.iter().filter_map(Value::as_str).collect();
        parts.push(format!("rebuilt from {}", files.join(", ")));
    }
    parts.join(" · ")
}

/// The client's own CPU and memory; a summary rebuilt from records never had them.
fn client(s: &Summary) -> String {
    match (s.client.cpu_s, s.client.peak_rss_mb) {
        (Some(cpu_s), Some(mb)) => format!("{cpu_s:.2} CPU-s · peak memory {mb:.1} MiB"),
        _ => "not recorded (rebuilt from records)".into(),
    }
}

/// The verdict's lines when it is not `ok` (or not judged): what it means, then each reason,
/// which says what to do.
fn verdict(c: &ClientUsage) -> String {
    let meaning = match c.verdict {
        Some(Verdict::Degraded) => {
            "degraded: the client added delays of its own; read the latencies with care"
        }
        Some(Verdict::ClientBound) => {
            "client-bound: the client, not the server, set these numbers; do not read them as the server's"
        }
        Some(Verdict::Ok) | None => return String::new(),
    };
    let mut o = format!("  verdict     {meaning}\n");
    for reason in &c.reasons {
        let _ = writeln!(o, "    - {reason}");
    }
    o
}

/// The metric table's rows: label and unit, the distribution, and whether an empty row is left
/// out (only some APIs report the server's own numbers).
fn metric_rows(m: &Metrics) -> [(&'static str, Option<&Distribution>, bool); 13] {
    [
        ("TTFB (ms)", m.ttfb_ms.as_ref(), false),
        ("TTFE (ms)", m.ttfe_ms.as_ref(), false),
        ("TTFT (ms)", m.ttft_ms.as_ref(), false),
        ("TTFA (ms)", m.ttfa_ms.as_ref(), false),
        ("ITL (ms)", m.itl_ms.as_ref(), false),
        ("TPOT (ms)", m.tpot_ms.as_ref(), false),
        ("E2E (ms)", m.e2e_ms.as_ref(), false),
        ("output tokens", m.output_tokens.as_ref(), false),
        ("decode tok/s", m.decode_tokens_per_s.as_ref(), false),
        ("tokens/event", m.tokens_per_event.as_ref(), false),
        ("ITL per token (ms)", m.itl_per_token_ms.as_ref(), false),
        ("server latency (ms)", m.server_latency_ms.as_ref(), true),
        ("server TTFT (ms)", m.server_ttft_ms.as_ref(), true),
    ]
}

/// The percentile table: the label column fits the longest label of any row (shown or not),
/// so every row lines up with the header.
fn metric_table(m: &Metrics) -> String {
    let rows = metric_rows(m);
    let label_width = 2 + rows.iter().map(|(label, ..)| display_width(label)).max().unwrap_or(0);
    let mut head = pad_right("  metric", label_width);
    for c in STAT_COLUMNS {
        head.push_str(&pad_left(c, STAT_WIDTH));
    }
    let mut o = format!("{head}\n");
    for (label, dist, optional) in rows {
        if optional && dist.is_none() {
            continue;
        }
        let mut line = pad_right(&format!("  {label}"), label_width);
        match dist {
            None => line.push_str(&pad_left("0", STAT_WIDTH)),
            Some(d) => {
                line.push_str(&pad_left(&count(d.count), STAT_WIDTH));
                for v in [d.mean, d.min, d.p50, d.p90, d.p95, d.p99, d.max] {
                    line.push_str(&pad_left(&number(v), STAT_WIDTH));
                }
            }
        }
        let _ = writeln!(o, "{line}");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dist(count: u64, base: f64) -> Option<Distribution> {
        Some(Distribution {
            count,
            mean: base * 1.5,
            min: base,
            p50: base * 1.4,
            p90: base * 2.0,
            p95: base * 2.5,
            p99: base * 3.0,
            max: base * 4.0,
        })
    }

    fn metrics() -> Metrics {
        Metrics {
            ttfb_ms: dist(20, 1.25),
            ttfe_ms: dist(20, 2.5),
            ttft_ms: dist(20, 101.0),
            ttfa_ms: dist(20, 101.0),
            itl_ms: dist(1_180, 10.04),
            tpot_ms: dist(20, 10.0),
            e2e_ms: dist(20, 700.0),
            output_tokens: dist(20, 60.0),
            decode_tokens_per_s: dist(20, 99.6),
            tokens_per_event: None,
            itl_per_token_ms: None,
            server_latency_ms: dist(20, 2_900.0),
            server_ttft_ms: None,
        }
    }

    #[test]
    fn every_metric_row_lines_up_with_the_header() {
        let table = metric_table(&metrics());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines,
            [
                "  metric                  count      mean       min       p50       p90       p95       p99       max",
                "  TTFB (ms)                  20      1.88      1.25      1.75      2.50      3.12      3.75      5.00",
                "  TTFE (ms)                  20      3.75      2.50      3.50      5.00      6.25      7.50     10.00",
                "  TTFT (ms)                  20     151.5     101.0     141.4     202.0     252.5     303.0     404.0",
                "  TTFA (ms)                  20     151.5     101.0     141.4     202.0     252.5     303.0     404.0",
                "  ITL (ms)                1,180     15.06     10.04     14.06     20.08     25.10     30.12     40.16",
                "  TPOT (ms)                  20     15.00     10.00     14.00     20.00     25.00     30.00     40.00",
                "  E2E (ms)                   20    1050.0     700.0     980.0    1400.0    1750.0    2100.0    2800.0",
                "  output tokens              20     90.00     60.00     84.00     120.0     150.0     180.0     240.0",
                "  decode tok/s               20     149.4     99.60     139.4     199.2     249.0     298.8     398.4",
                "  tokens/event                0",
                "  ITL per token (ms)          0",
                "  server latency (ms)        20    4350.0    2900.0    4060.0    5800.0    7250.0    8700.0    11,600",
            ]
        );
        // The label column is as wide as the longest label; after it every cell, header's
        // included, is right-aligned in its own STAT_WIDTH columns with a space before it.
        let label_width = display_width("  server latency (ms)");
        for line in &lines {
            let cells = &line[label_width..];
            assert_eq!(cells.len() % STAT_WIDTH, 0, "{line:?}");
            for cell in cells.as_bytes().chunks(STAT_WIDTH) {
                assert!(cell[0] == b' ' && cell[STAT_WIDTH - 1] != b' ', "{line:?}");
            }
        }
    }

    #[test]
    fn the_verdict_shows_when_it_is_not_ok() {
        let client = |verdict, reasons: &[&str]| ClientUsage {
            cpu_s: Some(1.0),
            peak_rss_mb: Some(8.0),
            clock: crate::summary::Clock::Kernel,
            read_lag_ms: None,
            send_lag_ms: None,
            start_lag_ms: None,
            verdict,
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
        };
        assert_eq!(verdict(&client(Some(Verdict::Ok), &[])), "");
        assert_eq!(verdict(&client(None, &[])), "");
        assert_eq!(
            verdict(&client(
                Some(Verdict::ClientBound),
                &["it was throttled; lower -c", "it was busy; lower -c"]
            )),
            "  verdict     client-bound: the client, not the server, set these numbers; do not read them as the server's\n    - it was throttled; lower -c\n    - it was busy; lower -c\n"
        );
        assert!(verdict(&client(Some(Verdict::Degraded), &["r"])).starts_with("  verdict     degraded: "));
    }

    #[test]
    fn the_title_names_the_api_the_url_and_the_records() {
        let live = json!({"api": "dify-chat", "url": "http://h:1/v1/chat-messages", "model": "m"});
        assert_eq!(title(&live), "llmload summary · dify-chat · http://h:1/v1/chat-messages");
        let rebuilt = json!({"source": ["a.jsonl", "b.jsonl"], "api": "openai-chat", "url": "http://h:2/v1/chat/completions"});
        assert_eq!(
            title(&rebuilt),
            "llmload summary · openai-chat · http://h:2/v1/chat/completions · rebuilt from a.jsonl, b.jsonl"
        );
        assert_eq!(title(&json!({"source": ["old.jsonl"]})), "llmload summary · rebuilt from old.jsonl");
    }
}
