//! The `--json` summary: `Summary` serialized as it is (its field docs are the contract,
//! docs/json.md), pretty-printed with a final newline. Renaming a key bumps
//! `summary::SCHEMA_VERSION`.

use crate::summary::Summary;

pub fn summary_json(s: &Summary) -> Vec<u8> {
    // Plain structs, string map keys and finite-or-null floats: serializing cannot fail.
    let mut out = serde_json::to_vec_pretty(s).unwrap_or_default();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::{ErrorKind, Measurement, Outcome};
    use crate::stats::RunStats;
    use crate::summary::RunOutput;
    use crate::summary::verdict::{Cause, Judgement, Machine, Verdict};
    use std::time::{Duration, Instant};

    #[test]
    fn exact_summary() {
        let t0 = Instant::now();
        let at = |us: u64| t0 + Duration::from_micros(us);
        // TTFT and TPOT meet their objectives; one text event leaves ITL undetermined.
        let slo = crate::slo::Slo::parse("ttft<=200ms,tpot<=20ms,itl<=5ms").unwrap();
        let mut stats = RunStats::judged_by(Some(&slo));
        let mut ok = Measurement::new(0, 0, None, t0);
        ok.headers_at = Some(at(1_234));
        ok.text_at = vec![at(100_250)];
        ok.end_at = at(140_000);
        ok.usage_output_tokens = Some(3);
        ok.counted_tokens = 4;
        ok.usage_input_tokens = Some(7);
        ok.usage_cached_tokens = Some(4);
        (ok.read_lags_us, ok.send_lag) = (vec![12, 42], Some(Duration::from_micros(850)));
        stats.add(&ok);
        let mut failed = Measurement::new(1, 0, None, t0);
        failed.outcome = Outcome::Failed { kind: ErrorKind::Http(500), message: "HTTP 500: boom".into() };
        (failed.read_lags_us, failed.reconnects) = (vec![7], 1);
        stats.add(&failed);
        stats.worker_up(Duration::from_micros(1_500));
        let run = RunOutput {
            wall: Duration::from_millis(3_250),
            warnings: vec!["a warning".into()],
            ..RunOutput::of(stats, 3.0)
        };
        let config = serde_json::json!({"api": "dify-chat", "concurrency": 2});
        let mut s = Summary::new(config, &run, Some((0.1 + 0.2, 3 << 20)));
        s.client.judged(Judgement {
            verdict: Verdict::Degraded,
            cause: Some(Cause::Machine),
            reasons: vec!["a reason".into()],
            machine: Some(Machine {
                cpus: 2,
                others_cores: 1.9,
                steal: 0.0,
                load_1m: Some(4.25),
                busy: true,
            }),
        });
        (s.started_at, s.tool.version) = ("2024-05-01T12:00:00.000+02:00".into(), "9.9.9");
        let thresholds = ["ttft.p95<100ms", "error_rate <= 50%", "attainment>=50%"]
            .map(|t| crate::gate::Threshold::parse(t).unwrap());
        s.check(&thresholds);
        let got = String::from_utf8(summary_json(&s)).unwrap();
        assert_eq!(got, EXPECTED);
    }

    /// Keys in `Summary`'s field order, floats rounded (1/3 req/s over the 3 s window, 0.1 + 0.2
    /// CPU-s, a mean read lag of 20.333 µs), empty metrics `null`, the failed request's read lag
    /// counted, the thresholds checked against the summary's own numbers, a final newline.
    const EXPECTED: &str = r#"{
  "version": 1,
  "tool": {
    "name": "llmload",
    "version": "9.9.9"
  },
  "config": {
    "api": "dify-chat",
    "concurrency": 2
  },
  "started_at": "2024-05-01T12:00:00.000+02:00",
  "wall_s": 3.25,
  "window_s": 3.0,
  "requests": {
    "total": 2,
    "ok": 1,
    "failed": 1,
    "cancelled": 0,
    "stalled": 0,
    "abandoned": 0,
    "retried": 0,
    "attempts": 2,
    "warmup": 0,
    "ended_early": 0,
    "answers_checked": 0,
    "wrong_answer": 0
  },
  "success_rate": 0.5,
  "wrong_answer_rate": null,
  "errors": {
    "http_500": 1
  },
  "error_messages": {
    "http_500": "HTTP 500: boom"
  },
  "throughput": {
    "requests_per_s": 0.333,
    "output_tokens_per_s": 1.0
  },
  "steady_state": null,
  "goodput": {
    "slo": "ttft<=200ms,tpot<=20ms,itl<=5ms",
    "requests_per_s": 0.0,
    "attainment": 0.0,
    "attainment_ci": [
      0.0,
      0.793451
    ],
    "judged": 2,
    "determined": 1,
    "conforming": 0,
    "failed": 1,
    "by_objective": [
      {
        "objective": "ttft<=200ms",
        "met": 1,
        "missed": 0,
        "undetermined": 0
      },
      {
        "objective": "tpot<=20ms",
        "met": 1,
        "missed": 0,
        "undetermined": 0
      },
      {
        "objective": "itl<=5ms",
        "met": 0,
        "missed": 0,
        "undetermined": 1
      }
    ]
  },
  "tokens": {
    "output_total": 3,
    "input_total": 7,
    "reasoning_total": 0,
    "cached_input": 4,
    "cache_hit_share": 0.571429,
    "from_usage": 1,
    "estimated": 0,
    "from_tokenizer": 0,
    "from_cancelled": 0,
    "from_abandoned": 0,
    "usage_vs_counted": {
      "compared": 1,
      "differ": 1,
      "mean_abs_diff_pct": 33.33,
      "max_abs_diff_pct": 33.33
    },
    "prompt_vs_sent": null
  },
  "metrics": {
    "ttfb_ms": {
      "count": 1,
      "mean": 1.234,
      "min": 1.234,
      "p50": 1.234,
      "p90": 1.234,
      "p95": 1.234,
      "p99": 1.234,
      "max": 1.234
    },
    "ttfe_ms": null,
    "ttft_ms": {
      "count": 1,
      "mean": 100.25,
      "min": 100.25,
      "p50": 100.25,
      "p90": 100.25,
      "p95": 100.25,
      "p99": 100.25,
      "max": 100.25
    },
    "ttfa_ms": null,
    "itl_ms": null,
    "tpot_ms": {
      "count": 1,
      "mean": 19.875,
      "min": 19.875,
      "p50": 19.875,
      "p90": 19.875,
      "p95": 19.875,
      "p99": 19.875,
      "max": 19.875
    },
    "e2e_ms": {
      "count": 1,
      "mean": 140.0,
      "min": 140.0,
      "p50": 140.0,
      "p90": 140.0,
      "p95": 140.0,
      "p99": 140.0,
      "max": 140.0
    },
    "ttft_sched_ms": {
      "count": 1,
      "mean": 100.25,
      "min": 100.25,
      "p50": 100.25,
      "p90": 100.25,
      "p95": 100.25,
      "p99": 100.25,
      "max": 100.25
    },
    "e2e_sched_ms": {
      "count": 1,
      "mean": 140.0,
      "min": 140.0,
      "p50": 140.0,
      "p90": 140.0,
      "p95": 140.0,
      "p99": 140.0,
      "max": 140.0
    },
    "start_delay_ms": {
      "count": 2,
      "mean": 0.0,
      "min": 0.0,
      "p50": 0.0,
      "p90": 0.0,
      "p95": 0.0,
      "p99": 0.0,
      "max": 0.0
    },
    "input_tokens": {
      "count": 1,
      "mean": 7.0,
      "min": 7.0,
      "p50": 7.0,
      "p90": 7.0,
      "p95": 7.0,
      "p99": 7.0,
      "max": 7.0
    },
    "output_tokens": {
      "count": 1,
      "mean": 3.0,
      "min": 3.0,
      "p50": 3.0,
      "p90": 3.0,
      "p95": 3.0,
      "p99": 3.0,
      "max": 3.0
    },
    "decode_tokens_per_s": null,
    "tokens_per_event": {
      "count": 1,
      "mean": 3.0,
      "min": 3.0,
      "p50": 3.0,
      "p90": 3.0,
      "p95": 3.0,
      "p99": 3.0,
      "max": 3.0
    },
    "itl_per_token_ms": null,
    "server_latency_ms": null,
    "server_ttft_ms": null
  },
  "client": {
    "cpu_s": 0.3,
    "peak_rss_mb": 3.0,
    "clock": "kernel",
    "read_lag_ms": {
      "count": 3,
      "mean": 0.02,
      "min": 0.007,
      "p50": 0.012,
      "p90": 0.042,
      "p95": 0.042,
      "p99": 0.042,
      "max": 0.042
    },
    "gaps_read_together": null,
    "send_lag_ms": {
      "count": 1,
      "mean": 0.85,
      "min": 0.85,
      "p50": 0.85,
      "p90": 0.85,
      "p95": 0.85,
      "p99": 0.85,
      "max": 0.85
    },
    "start_lag_ms": {
      "count": 1,
      "mean": 1.5,
      "min": 1.5,
      "p50": 1.5,
      "p90": 1.5,
      "p95": 1.5,
      "p99": 1.5,
      "max": 1.5
    },
    "connect_ms": null,
    "reconnects": 1,
    "verdict": "degraded",
    "cause": "machine",
    "reasons": [
      "a reason"
    ],
    "machine": {
      "cpus": 2,
      "others_cores": 1.9,
      "steal": 0.0,
      "load_1m": 4.25,
      "busy": true
    }
  },
  "warnings": [
    "a warning"
  ],
  "thresholds": [
    {
      "expr": "ttft.p95<100ms",
      "actual": 100.25,
      "pass": false
    },
    {
      "expr": "error_rate <= 50%",
      "actual": 0.5,
      "pass": true
    },
    {
      "expr": "attainment>=50%",
      "actual": 0.0,
      "pass": false
    }
  ],
  "by_key": [],
  "by_prompt": [],
  "sessions": null,
  "server": null,
  "repeats": null
}
"#;
}
