//! `GET /metrics`: the mock's own bookkeeping in the Prometheus text format 0.0.4, under vLLM's
//! names, labels and histogram buckets (`vllm:num_requests_running`, `vllm:time_to_first_token_seconds`
//! …), so a scraper built for vLLM reads the mock as it reads vLLM, and every number it reads is
//! what the mock really did.
//!
//! It owns the exposition writer and the Prometheus histograms (exact counts per bucket bound,
//! kept beside the truth's own histograms, whose log buckets do not fall on vLLM's bounds). It
//! does not measure: the values come from the merged `Truth` and the live gauges `Shared`
//! keeps. Written by hand on purpose: the mock imports nothing of the crate but `stats` and `rng`.

use std::fmt::Write as _;
use std::ops::AddAssign;

use super::truth::Truth;

/// What a scraper is told it reads.
pub(super) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `model_name` label of every sample: the mock answers any model name a request gives,
/// so it names itself.
pub(super) const MODEL_NAME: &str = "llmload-mock";

/// vLLM's bounds for `time_to_first_token_seconds`, in seconds.
const TTFT_BOUNDS: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
    80.0, 160.0, 640.0, 2560.0,
];
/// vLLM's bounds for `inter_token_latency_seconds`.
const ITL_BOUNDS: &[f64] = &[
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
];
/// vLLM's bounds for the request-level histograms (E2E, queue, prefill).
const REQUEST_BOUNDS: &[f64] = &[
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
    960.0, 1920.0, 7680.0,
];

/// One Prometheus histogram: how many observations fell at or below each bound (not
/// cumulative here; the writer sums), their count and their sum, in µs so sums are exact.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Buckets {
    bounds: &'static [f64],
    /// `counts[i]`: observations in `(bounds[i-1], bounds[i]]`; the last: above every bound.
    counts: Vec<u64>,
    count: u64,
    sum_us: u64,
}

impl Buckets {
    fn new(bounds: &'static [f64]) -> Self {
        Buckets { bounds, counts: vec![0; bounds.len() + 1], count: 0, sum_us: 0 }
    }

    pub(super) fn record(&mut self, us: u64) {
        let i = self.bounds.iter().position(|&b| us <= bound_us(b)).unwrap_or(self.bounds.len());
        self.counts[i] += 1;
        self.count += 1;
        self.sum_us = self.sum_us.saturating_add(us);
    }
}

impl AddAssign<&Buckets> for Buckets {
    fn add_assign(&mut self, other: &Buckets) {
        self.counts.iter_mut().zip(&other.counts).for_each(|(a, b)| *a += b);
        self.count += other.count;
        self.sum_us = self.sum_us.saturating_add(other.sum_us);
    }
}

/// A bound in whole µs (every vLLM bound is a whole number of them).
fn bound_us(seconds: f64) -> u64 {
    (seconds * 1e6).round() as u64
}

/// The latency histograms `/metrics` serves, each in vLLM's buckets.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Latencies {
    /// Request read → first text event written (as the truth's `ttft_us`).
    pub ttft: Buckets,
    /// Every gap between text events written (as `itl_us`).
    pub itl: Buckets,
    /// Request read → terminal event written, completed responses (as `e2e_us`).
    pub e2e: Buckets,
    /// Request read → its slot taken (0 without `--slots`), every API request.
    pub queue: Buckets,
    /// Slot taken → first text event written, streams that wrote one.
    pub prefill: Buckets,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies {
            ttft: Buckets::new(TTFT_BOUNDS),
            itl: Buckets::new(ITL_BOUNDS),
            e2e: Buckets::new(REQUEST_BOUNDS),
            queue: Buckets::new(REQUEST_BOUNDS),
            prefill: Buckets::new(REQUEST_BOUNDS),
        }
    }
}

impl AddAssign<&Latencies> for Latencies {
    fn add_assign(&mut self, other: &Latencies) {
        self.ttft += &other.ttft;
        self.itl += &other.itl;
        self.e2e += &other.e2e;
        self.queue += &other.queue;
        self.prefill += &other.prefill;
    }
}

/// What is true now rather than summed at each response's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Gauges {
    /// API responses holding a slot (generating), whether or not their client is still there.
    pub running: u64,
    /// API requests waiting for a slot (`--slots`).
    pub waiting: u64,
    /// The capacity, `None` without `--slots`.
    pub slots: Option<usize>,
}

/// The exposition: every family vLLM serves that the mock can state truly.
pub(super) fn render(truth: &Truth, gauges: Gauges) -> String {
    let mut w = Writer::default();
    let kv = gauges.slots.map_or(0.0, |n| (gauges.running as f64 / n as f64).min(1.0));
    w.family("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.");
    w.sample("vllm:num_requests_running", &[], gauges.running);
    w.family("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.");
    w.sample("vllm:num_requests_waiting", &[], gauges.waiting);
    w.family("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.");
    w.sample("vllm:kv_cache_usage_perc", &[], kv);
    let counters: [(&str, &str, u64); 5] = [
        ("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.", 0),
        ("vllm:prompt_tokens_total", "Number of prefill tokens processed.", truth.prompt_tokens_total),
        ("vllm:generation_tokens_total", "Number of generation tokens processed.", truth.generated_tokens),
        (
            "vllm:prefix_cache_queries_total",
            "Prefix cache queries, in terms of number of queried tokens.",
            truth.prompt_tokens_total,
        ),
        (
            "vllm:prefix_cache_hits_total",
            "Prefix cache hits, in terms of number of cached tokens.",
            truth.cached_tokens,
        ),
    ];
    for (name, help, value) in counters {
        w.family(name, "counter", help);
        w.sample(name, &[], value);
    }
    let success = "vllm:request_success_total";
    w.family(success, "counter", "Count of successfully processed requests.");
    let reason = |r: &str| truth.finish_reasons.get(r).copied().unwrap_or(0);
    let ended = truth.completed + truth.abandoned;
    for (label, n) in [
        ("stop", reason("stop")),
        ("length", reason("length")),
        ("abort", truth.abandoned),
        ("error", truth.requests.saturating_sub(ended)),
    ] {
        w.sample(success, &[("finished_reason", label)], n);
    }
    let l = &truth.latency_buckets;
    for (name, help, b) in [
        ("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", &l.ttft),
        ("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", &l.itl),
        ("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", &l.e2e),
        (
            "vllm:request_queue_time_seconds",
            "Histogram of time spent in WAITING phase for request.",
            &l.queue,
        ),
        (
            "vllm:request_prefill_time_seconds",
            "Histogram of time spent in PREFILL phase for request.",
            &l.prefill,
        ),
    ] {
        w.histogram(name, help, b);
    }
    w.out
}

/// Text format 0.0.4, line by line.
#[derive(Default)]
struct Writer {
    out: String,
}

impl Writer {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// `name{engine="0",<extra>,model_name="…"} value`, the labels in vLLM's (sorted) order.
    fn sample(&mut self, name: &str, extra: &[(&str, &str)], value: impl std::fmt::Display) {
        let _ = write!(self.out, "{name}{{engine=\"0\"");
        for (k, v) in extra {
            let _ = write!(self.out, ",{k}=\"{}\"", escape(v));
        }
        let _ = writeln!(self.out, ",model_name=\"{}\"}} {value}", escape(MODEL_NAME));
    }

    /// Cumulative `_bucket`s up to `+Inf`, then `_sum` (seconds) and `_count`.
    fn histogram(&mut self, name: &str, help: &str, b: &Buckets) {
        self.family(name, "histogram", help);
        let bucket = format!("{name}_bucket");
        let mut below = 0;
        for (i, n) in b.counts.iter().enumerate() {
            below += n;
            let le = b.bounds.get(i).map_or_else(|| "+Inf".to_string(), |v| format!("{v:?}"));
            self.sample(&bucket, &[("le", &le)], below);
        }
        self.sample(&format!("{name}_sum"), &[], b.sum_us as f64 / 1e6);
        self.sample(&format!("{name}_count"), &[], b.count);
    }
}

/// A label value as the text format wants it: backslash, quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', r"\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_count_at_or_below_each_bound_and_render_cumulative() {
        let mut b = Buckets::new(ITL_BOUNDS);
        for us in [10_000, 10_001, 25_000, 100_000_000] {
            b.record(us);
        }
        let mut w = Writer::default();
        w.histogram("x", "h", &b);
        let line = |le: &str| {
            let want = format!("x_bucket{{engine=\"0\",le=\"{le}\",model_name=\"llmload-mock\"}} ");
            w.out.lines().find_map(|l| l.strip_prefix(want.as_str())).map(str::to_string)
        };
        assert_eq!(line("0.01").as_deref(), Some("1"), "{}", w.out);
        assert_eq!(line("0.025").as_deref(), Some("3"));
        assert_eq!(line("80.0").as_deref(), Some("3"));
        assert_eq!(line("+Inf").as_deref(), Some("4"));
        assert!(w.out.contains("x_sum{engine=\"0\",model_name=\"llmload-mock\"} 100.045001\n"), "{}", w.out);
        assert!(w.out.contains("x_count{engine=\"0\",model_name=\"llmload-mock\"} 4\n"));
        assert!(w.out.starts_with("# HELP x h\n# TYPE x histogram\n"));
    }

    #[test]
    fn render_states_the_gauges_and_every_finish_reason() {
        let mut t =
            Truth { requests: 7, completed: 4, abandoned: 2, generated_tokens: 30, ..Truth::default() };
        t.finish_reasons.insert("stop".into(), 3);
        t.finish_reasons.insert("length".into(), 1);
        let text = render(&t, Gauges { running: 1, waiting: 2, slots: Some(4) });
        for want in [
            "vllm:num_requests_running{engine=\"0\",model_name=\"llmload-mock\"} 1\n",
            "vllm:num_requests_waiting{engine=\"0\",model_name=\"llmload-mock\"} 2\n",
            "vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"llmload-mock\"} 0.25\n",
            "vllm:generation_tokens_total{engine=\"0\",model_name=\"llmload-mock\"} 30\n",
            "vllm:num_preemptions_total{engine=\"0\",model_name=\"llmload-mock\"} 0\n",
            "vllm:request_success_total{engine=\"0\",finished_reason=\"stop\",model_name=\"llmload-mock\"} 3\n",
            "vllm:request_success_total{engine=\"0\",finished_reason=\"length\",model_name=\"llmload-mock\"} 1\n",
            "vllm:request_success_total{engine=\"0\",finished_reason=\"abort\",model_name=\"llmload-mock\"} 2\n",
            "vllm:request_success_total{engine=\"0\",finished_reason=\"error\",model_name=\"llmload-mock\"} 1\n",
            "vllm:request_prefill_time_seconds_count{engine=\"0\",model_name=\"llmload-mock\"} 0\n",
        ] {
            assert!(text.contains(want), "{want}\n{text}");
        }
        let free = render(&t, Gauges { running: 3, waiting: 0, slots: None });
        assert!(free.contains("vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"llmload-mock\"} 0\n"));
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
