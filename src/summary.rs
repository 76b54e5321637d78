//! The result of a run in plain numbers: what the text summary prints and the exporters write.
//! Built once, after the run, from the reporter's statistics; holds no `Instant`s.

use crate::stats::{Distribution, ErrorTally, Histogram, RunStats};
use serde_json::Value;
use std::time::Duration;

/// Bumped whenever a JSON field is renamed or changes meaning (DESIGN §6).
pub const SCHEMA_VERSION: u32 = 1;

/// How far our own token count (estimate or `--tokenizer`) was from the server's usage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsageCheckSummary {
    pub compared: u64,
    pub differ: u64,
    pub mean_abs_diff_pct: f64,
    pub max_abs_diff_pct: f64,
}

/// A finished run: the statistics and what the run itself noticed.
pub struct RunOutput {
    pub stats: RunStats,
    pub wall: Duration,
    pub started_at: chrono::DateTime<chrono::Local>,
    /// Problems with the run itself (workers that could not start).
    pub warnings: Vec<String>,
    /// The records file failed mid-run (the summary is still complete).
    pub records_error: Option<String>,
    /// Ctrl-C or SIGTERM ended the run.
    pub interrupted: bool,
}

/// One metric's distribution with its JSON key and display label.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub dist: Option<Distribution>,
    /// Only some APIs report it: the text summary leaves the row out when it is empty.
    pub optional: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub tool_version: &'static str,
    pub config: Value,
    /// RFC 3339 wall-clock start.
    pub started_at: String,
    pub wall_s: f64,
    pub total: u64,
    pub ok: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Requests that needed more than one attempt, and attempts in all (`--retries`).
    pub retried: u64,
    pub attempts: u64,
    /// ok / (ok + failed); cancelled requests are not counted. `None` when nothing finished.
    pub success_rate: Option<f64>,
    pub errors: Vec<(String, ErrorTally)>,
    /// Successful requests per second of wall time.
    pub requests_per_s: f64,
    pub output_tokens_per_s: f64,
    pub output_tokens: u64,
    pub input_tokens: u64,
    pub reasoning_tokens: u64,
    pub tokens_from_usage: u64,
    pub tokens_estimated: u64,
    pub tokens_from_tokenizer: u64,
    /// Usage against our own count, over requests that had both.
    pub usage_check: Option<UsageCheckSummary>,
    pub with_warnings: u64,
    pub metrics: Vec<Metric>,
    pub client_cpu_s: f64,
    pub client_peak_rss_mb: f64,
    pub warnings: Vec<String>,
}

impl Summary {
    pub fn new(config: Value, run: &RunOutput, cpu_s: f64, peak_rss_bytes: u64) -> Summary {
        let s = &run.stats;
        let wall_s = run.wall.as_secs_f64();
        let per_s = |n: u64| if wall_s > 0.0 { n as f64 / wall_s } else { 0.0 };
        let finished = s.ok + s.failed;
        let mut summary = Summary {
            tool_version: env!("CARGO_PKG_VERSION"),
            config,
            started_at: run.started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
            wall_s,
            total: s.total(),
            ok: s.ok,
            failed: s.failed,
            cancelled: s.cancelled,
            retried: s.retried,
            attempts: s.attempts,
            success_rate: (finished > 0).then(|| s.ok as f64 / finished as f64),
            errors: s.errors.iter().map(|(k, t)| (k.clone(), t.clone())).collect(),
            requests_per_s: per_s(s.ok),
            output_tokens_per_s: per_s(s.output_tokens),
            output_tokens: s.output_tokens,
            input_tokens: s.input_tokens,
            reasoning_tokens: s.reasoning_tokens,
            tokens_from_usage: s.tokens_from_usage,
            tokens_estimated: s.tokens_estimated,
            tokens_from_tokenizer: s.tokens_from_tokenizer,
            usage_check: s.usage_check.abs_diff_bp.distribution(0.01).map(|d| UsageCheckSummary {
                compared: s.usage_check.compared,
                differ: s.usage_check.differ,
                mean_abs_diff_pct: d.mean,
                max_abs_diff_pct: d.max,
            }),
            with_warnings: s.with_warnings,
            metrics: metrics(s),
            client_cpu_s: cpu_s,
            client_peak_rss_mb: peak_rss_bytes as f64 / (1024.0 * 1024.0),
            warnings: run.warnings.clone(),
        };
        summary.errors.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(&b.0)));
        summary
    }

    pub fn metric(&self, key: &str) -> Option<&Distribution> {
        self.metrics.iter().find(|m| m.key == key).and_then(|m| m.dist.as_ref())
    }
}

fn metrics(s: &RunStats) -> Vec<Metric> {
    let ms = |h: &Histogram| h.distribution(0.001);
    let m = |key, label, unit, dist| Metric { key, label, unit, dist, optional: false };
    let server = |key, label, dist| Metric { key, label, unit: "ms", dist, optional: true };
    vec![
        m("ttfb_ms", "TTFB", "ms", ms(&s.ttfb)),
        m("ttfe_ms", "TTFE", "ms", ms(&s.ttfe)),
        m("ttft_ms", "TTFT", "ms", ms(&s.ttft)),
        m("ttfa_ms", "TTFA", "ms", ms(&s.ttfa)),
        m("itl_ms", "ITL", "ms", ms(&s.itl)),
        m("tpot_ms", "TPOT", "ms", ms(&s.tpot)),
        m("e2e_ms", "E2E", "ms", ms(&s.e2e)),
        m("output_tokens", "output tokens", "", s.tokens_per_request.distribution(1.0)),
        m("decode_tokens_per_s", "decode tok/s", "", s.decode_mtps.distribution(0.001)),
        m("tokens_per_event", "tokens/event", "", s.tokens_per_event_milli.distribution(0.001)),
        m("itl_per_token_ms", "ITL per token", "ms", ms(&s.itl_per_token)),
        server("server_latency_ms", "server latency", ms(&s.server_latency)),
        server("server_ttft_ms", "server TTFT", ms(&s.server_ttft)),
    ]
}
