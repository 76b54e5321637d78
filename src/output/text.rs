//! The final summary a person reads on stdout: counts, errors with their first message,
//! throughput, and the percentile table of every metric.

use super::format::{count, number, pad_left, pad_right, percent, rate};
use crate::summary::Summary;
use std::fmt::Write;

pub fn render(s: &Summary) -> String {
    let mut o = String::new();
    match s.config["source"].as_array() {
        // Rebuilt by `llmload report` from records files.
        Some(files) => {
            let files: Vec<&str> = files.iter().filter_map(|f| f.as_str()).collect();
            let _ = writeln!(o, "\nllmload summary · rebuilt from {}", files.join(", "));
        }
        None => {
            let api = s.config["api"].as_str().unwrap_or("?");
            let url = s.config["url"].as_str().unwrap_or("?");
            let _ = writeln!(o, "\nllmload summary · {api} · {url}");
        }
    }
    let _ = writeln!(
        o,
        "  requests    {} total · {} ok · {} failed · {} cancelled at the deadline",
        count(s.total),
        count(s.ok),
        count(s.failed),
        count(s.cancelled)
    );
    let _ = writeln!(o, "  success     {}", percent(s.success_rate));
    if s.retried > 0 {
        let _ = writeln!(
            o,
            "  retries     {} requests retried · {} attempts in all (latencies count from the first)",
            count(s.retried),
            count(s.attempts)
        );
    }
    let _ = writeln!(
        o,
        "  throughput  {} req/s · {} output tok/s · wall {:.2}s",
        rate(s.requests_per_s),
        rate(s.output_tokens_per_s),
        s.wall_s
    );
    let reasoning = match s.reasoning_tokens {
        0 => String::new(),
        n => format!(" ({} reasoning)", count(n)),
    };
    let _ = writeln!(
        o,
        "  tokens      {} output{reasoning} · {} input (token counts: {} requests from usage, {} from the tokenizer, {} estimated)",
        count(s.output_tokens),
        count(s.input_tokens),
        count(s.tokens_from_usage),
        count(s.tokens_from_tokenizer),
        count(s.tokens_estimated)
    );
    if let Some(c) = &s.usage_check {
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
    let _ = writeln!(
        o,
        "  client      {:.2} CPU-s · peak memory {:.1} MiB",
        s.client_cpu_s, s.client_peak_rss_mb
    );
    if !s.errors.is_empty() {
        let _ = writeln!(o, "  errors");
        let width = s.errors.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (kind, t) in &s.errors {
            let _ = writeln!(
                o,
                "    {}  {}  {}",
                pad_right(kind, width),
                pad_left(&count(t.count), 7),
                t.first_message
            );
        }
    }
    let _ = writeln!(o);
    let cols = ["count", "mean", "min", "p50", "p90", "p95", "p99", "max"];
    let mut head = pad_right("  metric", 20);
    for c in cols {
        head.push_str(&pad_left(c, 10));
    }
    let _ = writeln!(o, "{head}");
    for m in s.metrics.iter().filter(|m| !(m.optional && m.dist.is_none())) {
        let label = if m.unit.is_empty() { m.label.to_string() } else { format!("{} ({})", m.label, m.unit) };
        let mut line = pad_right(&format!("  {label}"), 20);
        match &m.dist {
            None => line.push_str(&pad_left("0", 10)),
            Some(d) => {
                line.push_str(&pad_left(&count(d.count), 10));
                for v in [d.mean, d.min, d.p50, d.p90, d.p95, d.p99, d.max] {
                    line.push_str(&pad_left(&number(v), 10));
                }
            }
        }
        let _ = writeln!(o, "{}", line.trim_end());
    }
    for w in &s.warnings {
        let _ = writeln!(o, "\nwarning: {w}");
    }
    o
}
