//! `--vllm-json`: the run in the keys vLLM's `vllm bench serve --save-result` writes, so
//! dashboards and scripts built on vLLM's results read llmload's. Every value is llmload's own
//! number under vLLM's name (docs/json.md says where a definition differs): `completed` is
//! `requests.ok`, `duration` is `window_s`, medians are `p50`, and `std_*` is the population
//! standard deviation (numpy's `std`, as vLLM computes it) over the same values. An empty metric
//! is `null` (vLLM writes 0); `request_goodput` is `goodput.requests_per_s` (`null` without `--slo`), `request_rate` is
//! `"inf"` for a closed-loop run, as vLLM writes it. `--percentiles` adds vLLM's key for each
//! percentile asked for beyond p99 (`p99.9_ttft_ms`, as `--metric-percentiles 99.9` names it);
//! the four keys of each metric stay.

use crate::stats::{Distribution, percentiles};
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

/// A metric's four vLLM keys: `mean_X_ms`, `median_X_ms`, `std_X_ms`, `p99_X_ms`, then
/// `pN_X_ms` for each other percentile `--percentiles` asked for.
#[derive(Debug)]
struct Stats<N> {
    mean: Option<f64>,
    median: Option<f64>,
    std: Option<f64>,
    p99: Option<f64>,
    /// The other percentiles asked for, and their values.
    more: Vec<(f64, Option<f64>)>,
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
        let mut m = s.serialize_map(Some(4 + self.more.len()))?;
        for (stat, v) in [("mean", self.mean), ("median", self.median), ("std", self.std), ("p99", self.p99)]
        {
            m.serialize_entry(&format!("{stat}_{}_ms", N::NAME), &round(v))?;
        }
        for &(p, v) in &self.more {
            m.serialize_entry(&format!("{}_{}_ms", percentiles::name(p), N::NAME), &round(v))?;
        }
        m.end()
    }
}

/// `asked`: the percentiles of `--percentiles` (the summary's `config.percentiles`), if any.
fn stats<N>(d: &Option<Distribution>, std: Option<f64>, asked: &[f64]) -> Stats<N> {
    let at = |p: f64| d.and_then(|d| d.reported().into_iter().find(|r| r.0 == p)).map(|r| r.1);
    Stats {
        mean: d.map(|d| d.mean),
        median: d.map(|d| d.p50),
        std,
        p99: d.map(|d| d.p99),
        more: asked.iter().filter(|p| **p != 99.0).map(|&p| (p, at(p))).collect(),
        name: std::marker::PhantomData,
    }
}

/// The vLLM result of `s`, pretty-printed with a final newline.
pub fn vllm_json(s: &Summary) -> Vec<u8> {
    let t = &s.tokens;
    let total_tokens = t.input_total + t.output_total;
    let date = chrono::DateTime::parse_from_rfc3339(&s.started_at)
        .map_or_else(|_| s.started_at.clone(), |d| d.format("%Y%m%d-%H%M%S").to_string());
    let asked: Vec<f64> =
        s.config["percentiles"].as_array().map_or(vec![], |a| a.iter().filter_map(Value::as_f64).collect());
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
        ttft: stats(&s.metrics.ttft_ms, s.spread.ttft_ms, &asked),
        tpot: stats(&s.metrics.tpot_ms, s.spread.tpot_ms, &asked),
        itl: stats(&s.metrics.itl_ms, s.spread.itl_ms, &asked),
        e2el: stats(&s.metrics.e2e_ms, s.spread.e2e_ms, &asked),
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

    #[test]
    fn asked_percentiles_add_vllm_keys_beyond_p99() {
        let t0 = Instant::now();
        let mut stats = RunStats::default();
        for ttft_ms in 1..=1000 {
            let mut m = Measurement::new(0, 0, None, t0);
            m.text_at = vec![t0 + Duration::from_micros(ttft_ms * 100)];
            m.end_at = t0 + Duration::from_millis(300);
            stats.add(&m);
        }
        let p = crate::stats::Percentiles::parse("50,99,99.9").unwrap();
        let config = serde_json::json!({"percentiles": p.as_slice()});
        let s = Summary::reporting(config, &RunOutput::of(stats, 4.0), None, &p);
        let text = String::from_utf8(vllm_json(&s)).unwrap();
        let keys: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"')?.split_once('"'))
            .map(|(k, _)| k)
            .collect();
        let ttft: Vec<&str> = keys.iter().copied().filter(|k| k.ends_with("_ttft_ms")).collect();
        // vLLM's four keys stay; p99 is one of them, so p50 and p99.9 are added, as vLLM names them.
        assert_eq!(
            ttft,
            ["mean_ttft_ms", "median_ttft_ms", "std_ttft_ms", "p99_ttft_ms", "p50_ttft_ms", "p99.9_ttft_ms"]
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let d = s.metrics.ttft_ms.unwrap();
        let at =
            |p: f64| d.reported().iter().find(|r| r.0 == p).map(|r| crate::util::decimals::round(r.1, 3));
        assert_eq!((v["p50_ttft_ms"].as_f64(), v["p99.9_ttft_ms"].as_f64()), (at(50.0), at(99.9)));
        assert!(v["p99.9_e2el_ms"].is_number(), "{v}");
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
