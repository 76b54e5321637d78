//! The live metrics `--metrics-listen` serves, in the Prometheus text exposition format 0.0.4:
//! `Live`, the few numbers of a run so far (taken from the reporter's running totals by
//! `Live::from_stats`), and `render`, the pure function that writes them. Every sample carries
//! `run_id` and `shard` (empty when the process is not a shard). Latencies are Prometheus
//! histograms with the fixed bounds `BOUNDS_S`, counted from the run's own histograms (to their
//! resolution, 0.1 %). Serving the text is the engine's; the names are documented in
//! docs/server-metrics.md ("Live metrics").

use crate::stats::{Histogram, RunStats};
use std::fmt::Write;

/// The upper bounds (seconds) of every latency histogram's buckets, `+Inf` aside: from a fast
/// model's token gap (1 ms) to a long answer (5 min).
pub const BOUNDS_S: [f64; 17] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 60.0, 120.0, 300.0];

/// The Content-Type of the text `render` writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One latency as a Prometheus histogram: the values at or below each of `BOUNDS_S`
/// (cumulative), how many in all, and their sum in seconds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Buckets {
    pub le: [u64; BOUNDS_S.len()],
    pub count: u64,
    pub sum_s: f64,
}

impl Buckets {
    /// A histogram of microseconds as buckets: a value in the internal bucket that holds a
    /// bound's next microsecond counts above the bound (0.1 % of the bound at most).
    pub fn of(h: &Histogram) -> Buckets {
        let count = h.count();
        let le = BOUNDS_S.map(|b| count - h.count_at_least((b * 1e6).round() as u64 + 1));
        Buckets { le, count, sum_s: h.sum() as f64 / 1e6 }
    }
}

/// What one scrape shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Live {
    pub run_id: String,
    /// `i/n`, or empty when the run is not sharded.
    pub shard: String,
    pub api: String,
    /// The target's host and port (never a user or password in the URL).
    pub url_host: String,
    pub version: String,
    pub ok: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub abandoned: u64,
    /// `--warmup` requests, apart from every other number.
    pub warmup: u64,
    /// Failed requests by error kind, as the summary names them.
    pub errors: Vec<(String, u64)>,
    pub in_flight: u64,
    /// Workers started and not yet done.
    pub workers: u64,
    pub output_tokens: u64,
    pub input_tokens: u64,
    pub ttft: Buckets,
    pub itl: Buckets,
    pub e2e: Buckets,
    /// The p99 of the client's read lag, seconds; `None` before any timed read had one.
    pub read_lag_p99_s: Option<f64>,
    /// The live verdict's word (`ok`, `degraded`, `client-bound`).
    pub verdict: Option<&'static str>,
}

/// The verdicts `llmload_client_verdict` has a sample for, each 1 when it is the verdict.
pub const VERDICTS: [&str; 3] = ["ok", "degraded", "client-bound"];

impl Live {
    /// The counts and latencies of `s` (the run so far), with the labels of `base`; the gauges
    /// and the verdict are the caller's to set.
    pub fn from_stats(base: &Live, s: &RunStats) -> Live {
        Live {
            ok: s.ok,
            failed: s.failed,
            cancelled: s.cancelled,
            abandoned: s.abandoned,
            warmup: s.warmup,
            errors: s.errors.iter().map(|(k, t)| (k.clone(), t.count)).collect(),
            output_tokens: s.output_tokens,
            input_tokens: s.input_tokens,
            ttft: Buckets::of(&s.ttft),
            itl: Buckets::of(&s.itl),
            e2e: Buckets::of(&s.e2e),
            read_lag_p99_s: s.read_lag.quantile(0.99).map(|us| us as f64 / 1e6),
            ..base.clone()
        }
    }
}

/// The host and port of `url`, without its scheme, credentials, path or query.
pub fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.rsplit_once('@').map_or(authority, |(_, host)| host).to_string()
}

/// The exposition of `l`: a `# HELP` and `# TYPE` line per family, then its samples.
pub fn render(l: &Live) -> String {
    let common = format!("run_id=\"{}\",shard=\"{}\"", escape(&l.run_id), escape(&l.shard));
    let mut out = String::with_capacity(8 << 10);
    let mut family = |name: &str, kind: &str, help: &str, samples: &[(String, String)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{labels} {value}");
        }
    };
    let sample = |name: &str, extra: &str, value: String| {
        let labels = if extra.is_empty() { common.clone() } else { format!("{common},{extra}") };
        (format!("{name}{{{labels}}}"), value)
    };
    let outcomes =
        [("ok", l.ok), ("failed", l.failed), ("cancelled", l.cancelled), ("abandoned", l.abandoned)];
    family(
        "llmload_requests_total",
        "counter",
        "Requests finished, by outcome (warm-up requests apart).",
        &outcomes.map(|(o, n)| sample("llmload_requests_total", &format!("outcome=\"{o}\""), n.to_string())),
    );
    family(
        "llmload_warmup_requests_total",
        "counter",
        "Warm-up requests finished (--warmup), in no other number.",
        &[sample("llmload_warmup_requests_total", "", l.warmup.to_string())],
    );
    let errors: Vec<_> = l
        .errors
        .iter()
        .map(|(k, n)| sample("llmload_errors_total", &format!("kind=\"{}\"", escape(k)), n.to_string()))
        .collect();
    family("llmload_errors_total", "counter", "Failed requests, by error kind.", &errors);
    family(
        "llmload_requests_in_flight",
        "gauge",
        "Requests sent and not yet ended.",
        &[sample("llmload_requests_in_flight", "", l.in_flight.to_string())],
    );
    family(
        "llmload_workers",
        "gauge",
        "Workers started and not yet done.",
        &[sample("llmload_workers", "", l.workers.to_string())],
    );
    family(
        "llmload_output_tokens_total",
        "counter",
        "Output tokens of finished requests (usage, else llmload's count).",
        &[sample("llmload_output_tokens_total", "", l.output_tokens.to_string())],
    );
    family(
        "llmload_input_tokens_total",
        "counter",
        "Input (prompt) tokens of finished requests (usage, else llmload's count).",
        &[sample("llmload_input_tokens_total", "", l.input_tokens.to_string())],
    );
    for (name, help, b) in [
        ("llmload_ttft_seconds", "Time to first token (the requests the summary's TTFT counts).", &l.ttft),
        ("llmload_itl_seconds", "Gaps between text events (inter-token latency), pooled.", &l.itl),
        ("llmload_e2e_seconds", "End-to-end latency of successful requests (the summary's E2E).", &l.e2e),
    ] {
        let bucket = format!("{name}_bucket");
        let mut samples: Vec<_> = BOUNDS_S
            .iter()
            .zip(b.le)
            .map(|(bound, n)| sample(&bucket, &format!("le=\"{bound}\""), n.to_string()))
            .collect();
        samples.push(sample(&bucket, "le=\"+Inf\"", b.count.to_string()));
        samples.push(sample(&format!("{name}_sum"), "", b.sum_s.to_string()));
        samples.push(sample(&format!("{name}_count"), "", b.count.to_string()));
        family(name, "histogram", help, &samples);
    }
    let lag: Vec<_> = l
        .read_lag_p99_s
        .map(|s| sample("llmload_read_lag_p99_seconds", "", s.to_string()))
        .into_iter()
        .collect();
    family(
        "llmload_read_lag_p99_seconds",
        "gauge",
        "The p99 of the client's own read lag (kernel receive time to read), run so far.",
        &lag,
    );
    let verdicts: Vec<_> = l
        .verdict
        .map(|v| {
            VERDICTS.map(|w| {
                sample("llmload_client_verdict", &format!("verdict=\"{w}\""), u8::from(v == w).to_string())
            })
        })
        .into_iter()
        .flatten()
        .collect();
    family(
        "llmload_client_verdict",
        "gauge",
        "The live verdict on the client (read and start lag so far): 1 for the verdict, 0 for the others.",
        &verdicts,
    );
    let info = format!(
        "api=\"{}\",url_host=\"{}\",version=\"{}\"",
        escape(&l.api),
        escape(&l.url_host),
        escape(&l.version)
    );
    family(
        "llmload_run_info",
        "gauge",
        "The run's API, target and llmload's version.",
        &[sample("llmload_run_info", &info, "1".into())],
    );
    out
}

/// A label value as the format writes it: backslash, double quote and line feed escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_count_values_at_or_below_each_bound() {
        let mut h = Histogram::new();
        for us in [500, 1000, 1001, 30_000, 2_000_000, 400_000_000] {
            h.record(us);
        }
        let b = Buckets::of(&h);
        assert_eq!(b.le, [2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5]);
        assert_eq!((b.count, b.sum_s), (6, 402.032501));
    }

    #[test]
    fn the_host_without_credentials_or_path() {
        assert_eq!(url_host("https://user:pw@api.example.com:8443/v1/chat?x=1"), "api.example.com:8443");
        assert_eq!(url_host("http://127.0.0.1:8000"), "127.0.0.1:8000");
        assert_eq!(url_host("host"), "host");
    }

    #[test]
    fn renders_the_exact_text() {
        let mut ttft = Histogram::new();
        ttft.record(20_000);
        ttft.record(200_000);
        let l = Live {
            run_id: "r1".into(),
            shard: "0/2".into(),
            api: "openai-chat".into(),
            url_host: "h:1".into(),
            version: "9.9.9".into(),
            ok: 2,
            failed: 1,
            errors: vec![("http_500 \"x\"\\".into(), 1)],
            in_flight: 3,
            workers: 4,
            output_tokens: 10,
            input_tokens: 7,
            ttft: Buckets::of(&ttft),
            read_lag_p99_s: Some(0.000125),
            verdict: Some("degraded"),
            ..Live::default()
        };
        let got = render(&l);
        let c = "run_id=\"r1\",shard=\"0/2\"";
        let mut want = format!(
            "# HELP llmload_requests_total Requests finished, by outcome (warm-up requests apart).
# TYPE llmload_requests_total counter
llmload_requests_total{{{c},outcome=\"ok\"}} 2
llmload_requests_total{{{c},outcome=\"failed\"}} 1
llmload_requests_total{{{c},outcome=\"cancelled\"}} 0
llmload_requests_total{{{c},outcome=\"abandoned\"}} 0
# HELP llmload_warmup_requests_total Warm-up requests finished (--warmup), in no other number.
# TYPE llmload_warmup_requests_total counter
llmload_warmup_requests_total{{{c}}} 0
# HELP llmload_errors_total Failed requests, by error kind.
# TYPE llmload_errors_total counter
llmload_errors_total{{{c},kind=\"http_500 \\\"x\\\"\\\\\"}} 1
# HELP llmload_requests_in_flight Requests sent and not yet ended.
# TYPE llmload_requests_in_flight gauge
llmload_requests_in_flight{{{c}}} 3
# HELP llmload_workers Workers started and not yet done.
# TYPE llmload_workers gauge
llmload_workers{{{c}}} 4
# HELP llmload_output_tokens_total Output tokens of finished requests (usage, else llmload's count).
# TYPE llmload_output_tokens_total counter
llmload_output_tokens_total{{{c}}} 10
# HELP llmload_input_tokens_total Input (prompt) tokens of finished requests (usage, else llmload's count).
# TYPE llmload_input_tokens_total counter
llmload_input_tokens_total{{{c}}} 7
# HELP llmload_ttft_seconds Time to first token (the requests the summary's TTFT counts).
# TYPE llmload_ttft_seconds histogram
"
        );
        let ttft_le = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2];
        for (b, n) in BOUNDS_S.iter().zip(ttft_le) {
            want += &format!("llmload_ttft_seconds_bucket{{{c},le=\"{b}\"}} {n}\n");
        }
        want += &format!(
            "llmload_ttft_seconds_bucket{{{c},le=\"+Inf\"}} 2\nllmload_ttft_seconds_sum{{{c}}} 0.22\nllmload_ttft_seconds_count{{{c}}} 2\n"
        );
        for (name, help) in [
            ("llmload_itl_seconds", "Gaps between text events (inter-token latency), pooled."),
            ("llmload_e2e_seconds", "End-to-end latency of successful requests (the summary's E2E)."),
        ] {
            want += &format!("# HELP {name} {help}\n# TYPE {name} histogram\n");
            for b in BOUNDS_S {
                want += &format!("{name}_bucket{{{c},le=\"{b}\"}} 0\n");
            }
            want +=
                &format!("{name}_bucket{{{c},le=\"+Inf\"}} 0\n{name}_sum{{{c}}} 0\n{name}_count{{{c}}} 0\n");
        }
        want += &format!(
            "# HELP llmload_read_lag_p99_seconds The p99 of the client's own read lag (kernel receive time to read), run so far.
# TYPE llmload_read_lag_p99_seconds gauge
llmload_read_lag_p99_seconds{{{c}}} 0.000125
# HELP llmload_client_verdict The live verdict on the client (read and start lag so far): 1 for the verdict, 0 for the others.
# TYPE llmload_client_verdict gauge
llmload_client_verdict{{{c},verdict=\"ok\"}} 0
llmload_client_verdict{{{c},verdict=\"degraded\"}} 1
llmload_client_verdict{{{c},verdict=\"client-bound\"}} 0
# HELP llmload_run_info The run's API, target and llmload's version.
# TYPE llmload_run_info gauge
llmload_run_info{{{c},api=\"openai-chat\",url_host=\"h:1\",version=\"9.9.9\"}} 1
"
        );
        assert_eq!(got, want);
        assert!(
            got.contains("le=\"0.0025\"") && got.contains("le=\"300\""),
            "bounds as Prometheus writes them"
        );
    }
}
