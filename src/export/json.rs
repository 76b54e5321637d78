//! The `--json` summary. Its field names are a contract (README "JSON summary"); renaming one
//! bumps `summary::SCHEMA_VERSION`.

use crate::stats::Distribution;
use crate::summary::{SCHEMA_VERSION, Summary};
use serde_json::{Map, Value, json};

pub fn summary_json(s: &Summary) -> Vec<u8> {
    let errors: Map<String, Value> = s.errors.iter().map(|(k, t)| (k.clone(), json!(t.count))).collect();
    let messages: Map<String, Value> =
        s.errors.iter().map(|(k, t)| (k.clone(), json!(t.first_message))).collect();
    let metrics: Map<String, Value> =
        s.metrics.iter().map(|m| (m.key.to_string(), Distribution::json(m.dist.as_ref()))).collect();
    let doc = json!({
        "version": SCHEMA_VERSION,
        "tool": {"name": "llmload", "version": s.tool_version},
        "config": s.config,
        "started_at": s.started_at,
        "wall_s": s.wall_s,
        "requests": {
            "total": s.total,
            "ok": s.ok,
            "failed": s.failed,
            "cancelled": s.cancelled,
            "retried": s.retried,
            "attempts": s.attempts,
        },
        "success_rate": s.success_rate,
        "errors": errors,
        "error_messages": messages,
        "throughput": {"requests_per_s": s.requests_per_s, "output_tokens_per_s": s.output_tokens_per_s},
        "tokens": {
            "output_total": s.output_tokens,
            "input_total": s.input_tokens,
            "reasoning_total": s.reasoning_tokens,
            "from_usage": s.tokens_from_usage,
            "estimated": s.tokens_estimated,
            "from_tokenizer": s.tokens_from_tokenizer,
            "usage_vs_counted": s.usage_check.map(|c| json!({
                "compared": c.compared,
                "differ": c.differ,
                "mean_abs_diff_pct": c.mean_abs_diff_pct,
                "max_abs_diff_pct": c.max_abs_diff_pct,
            })),
        },
        "metrics": metrics,
        "client": {"cpu_s": s.client_cpu_s, "peak_rss_mb": s.client_peak_rss_mb},
        "warnings": s.warnings,
    });
    let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    out.push(b'\n');
    out
}
