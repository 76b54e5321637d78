//! `--vllm-json`: the run in the keys vLLM's `vllm bench serve --save-result` writes, so
//! dashboards and scripts built on vLLM's results read llmload's. Every value is llmload's own
//! number under vLLM's name (docs/json.md says where a definition differs): `completed` is
//! `requests.ok`, `duration` is `window_s`, medians are `p50`, and `std_*` is the population
//! standard deviation (numpy's `std`, as vLLM computes it) over the same values. An empty metric
//! is `null` (vLLM writes 0); `request_goodput` is `goodput.requests_per_s` (`null` without `--slo`), `request_rate` is
//! `"inf"` for a closed-loop run, as vLLM writes it.

use crate::stats::Distribution;
use crate::summary::Summary;
use crate::util::decimals::{six, three};
use serde::Serialize;
use serde_json::Value;

/// vLLM's result keys, in the order vLLM writes them.
#[derive(Debug, Serialize)]
struct Result {
    date: String,
    backend: &'static str,
    model_id: Option<String>,
    num_prompts: u64,
    /// Requests per second of an open-loop run, else `"inf"`.
    request_rate: Value,
    max_concurrency: Option<u64>,
    #[serde(serialize_with = "six")]
    duration: f64,
    completed: u64,
    failed: u64,
    total_input_tokens: u64,
    total_output_tokens: u64,
    #[serde(serialize_with = "three")]
    request_throughput: f64,
    #[serde(serialize_with = "three")]
    request_goodput: Option<f64>,
    #[serde(serialize_with = "three")]
    output_throughput: f64,
    #[serde(serialize_with = "three")]
    total_token_throughput: f64,
    #[serde(flatten)]
    ttft: Stats<Ttft>,
    #[serde(flatten)]
    tpot: Stats<Tpot>,
    #[serde(flatten)]
    itl: Stats<Itl>,
    #[serde(flatten)]
    e2el: Stats<E2el>,
}

/// A metric's four vLLM keys: `mean_X_ms`, `median_X_ms`, `std_X_ms`, `p99_X_ms`.
#[derive(Debug)]
struct Stats<N> {
    mean: Option<f64>,
    median: Option<f64>,
    std: Option<f64>,
    p99: Option<f64>,
    name: std::marker::PhantomData<N>,
}

trait Name {
    const NAME: &'static str;
}
#[derive(Debug)]
struct Ttft;
#[derive(Debug)]
struct Tpot;
#[derive(Debug)]
struct Itl;
#[derive(Debug)]
struct E2el;
impl Name for Ttft {
    const NAME: &'static str = "ttft";
}
impl Name for Tpot {
    const NAME: &'static str = "tpot";
}
impl Name for Itl {
    const NAME: &'static str = "itl";
}
impl Name for E2el {
    const NAME: &'static str = "e2el";
}

impl<N: Name> Serialize for Stats<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let round = |v: Option<f64>| v.map(|v| crate::util::decimals::round(v, 3));
        let mut m = s.serialize_map(Some(4))?;
        for (stat, v) in [("mean", self.mean), ("median", self.median), ("std", self.std), ("p99", self.p99)]
        {
            m.serialize_entry(&format!("{stat}_{}_ms", N::NAME), &round(v))?;
        }
        m.end()
    }
}

fn stats<N>(d: &Option<Distribution>, std: Option<f64>) -> Stats<N> {
    Stats {
        mean: d.map(|d| d.mean),
        median: d.map(|d| d.p50),
        std,
        p99: d.map(|d| d.p99),
        name: std::marker::PhantomData,
    }
}

/// The vLLM result of `s`, pretty-printed with a final newline.
pub fn vllm_json(s: &Summary) -> Vec<u8> {
    let t = &s.tokens;
    let total_tokens = t.input_total + t.output_total;
    let date = chrono::DateTime::parse_from_rfc3339(&s.started_at)
        .map_or_else(|_| s.started_at.clone(), |d| d.format("%Y%m%d-%H%M%S").to_string());
    let r = Result {
        date,
        backend: "llmload",
        model_id: s.config["model"].as_str().map(String::from),
        num_prompts: s.requests.total,
        request_rate: match s.config["rate"].as_f64() {
            Some(rate) => rate.into(),
            None => "inf".into(),
        },
        max_concurrency: s.config["concurrency"].as_u64(),
        duration: s.window_s,
        completed: s.requests.ok,
        failed: s.requests.failed,
        total_input_tokens: t.input_total,
        total_output_tokens: t.output_total,
        request_throughput: s.throughput.requests_per_s,
        request_goodput: s.goodput.as_ref().map(|g| g.requests_per_s),
        output_throughput: s.throughput.output_tokens_per_s,
        total_token_throughput: if s.window_s > 0.0 { total_tokens as f64 / s.window_s } else { 0.0 },
        ttft: stats(&s.metrics.ttft_ms, s.spread.ttft_ms),
        tpot: stats(&s.metrics.tpot_ms, s.spread.tpot_ms),
        itl: stats(&s.metrics.itl_ms, s.spread.itl_ms),
        e2el: stats(&s.metrics.e2e_ms, s.spread.e2e_ms),
    };
    // Plain fields and finite-or-null floats: serializing cannot fail.
    let mut out = serde_json::to_vec_pretty(&r).unwrap_or_default();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Measurement;
    use crate::stats::RunStats;
    use crate::summary::RunOutput;
    use std::time::{Duration, Instant};

    #[test]
    fn exact_result() {
        let t0 = Instant::now();
        let mut stats = RunStats::default();
        for (ttft_ms, end_ms) in [(100, 300), (200, 600)] {
            let mut m = Measurement::new(0, 0, None, t0);
            m.headers_at = Some(t0 + Duration::from_millis(10));
            m.text_at = vec![t0 + Duration::from_millis(ttft_ms), t0 + Duration::from_millis(ttft_ms + 50)];
            m.end_at = t0 + Duration::from_millis(end_ms);
            m.usage_output_tokens = Some(3);
            m.usage_input_tokens = Some(5);
            stats.add(&m);
        }
        let run = RunOutput::of(stats, 4.0);
        let mut s = Summary::new(serde_json::json!({"model": "m", "concurrency": 2}), &run, None);
        s.started_at = "2024-05-01T12:00:00.000+02:00".into();
        let got = String::from_utf8(vllm_json(&s)).unwrap();
        assert_eq!(got, EXPECTED);
    }

    #[test]
    fn request_goodput_is_good_requests_per_second() {
        let t0 = Instant::now();
        let slo = crate::slo::Slo::parse("ttft<=150ms").unwrap();
        let mut stats = RunStats::judged_by(Some(&slo));
        for ttft_ms in [100, 200] {
            let mut m = Measurement::new(0, 0, None, t0);
            m.text_at = vec![t0 + Duration::from_millis(ttft_ms)];
            m.end_at = t0 + Duration::from_millis(300);
            stats.add(&m);
        }
        let window = Duration::from_secs(4);
        let run = RunOutput::of(stats, window.as_secs_f64());
        let s = Summary::new(serde_json::json!({}), &run, None);
        let v: serde_json::Value = serde_json::from_slice(&vllm_json(&s)).unwrap();
        assert_eq!(v["request_goodput"], 0.25);
    }

    /// Two requests: TTFT 100 and 200 ms (std 50), E2E 300 and 600 (std 150), TPOT (E2E − TTFT)
    /// / 2 = 100 and 200, one 50 ms gap each; 16 tokens (10 in, 6 out) over 4 s. Medians and p99 are the
    /// summary's own (histogram bucket midpoints, within 0.1 %), means and std exact.
    const EXPECTED: &str = r#"{
  "date": "20240501-120000",
  "backend": "llmload",
  "model_id": "m",
  "num_prompts": 2,
  "request_rate": "inf",
  "max_concurrency": 2,
  "duration": 4.0,
  "completed": 2,
  "failed": 0,
  "total_input_tokens": 10,
  "total_output_tokens": 6,
  "request_throughput": 0.5,
  "request_goodput": null,
  "output_throughput": 1.5,
  "total_token_throughput": 4.0,
  "mean_ttft_ms": 150.0,
  "median_ttft_ms": 100.031,
  "std_ttft_ms": 50.0,
  "p99_ttft_ms": 200.0,
  "mean_tpot_ms": 150.0,
  "median_tpot_ms": 100.031,
  "std_tpot_ms": 50.0,
  "p99_tpot_ms": 200.0,
  "mean_itl_ms": 50.0,
  "median_itl_ms": 50.0,
  "std_itl_ms": 0.0,
  "p99_itl_ms": 50.0,
  "mean_e2el_ms": 450.0,
  "median_e2el_ms": 300.0,
  "std_e2el_ms": 150.0,
  "p99_e2el_ms": 599.551
}
"#;
}
