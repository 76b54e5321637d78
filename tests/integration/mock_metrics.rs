//! The mock's `GET /metrics` (vLLM's names) against what the mock did: after a run its counters
//! and histogram counts equal the requests, tokens and finishes exactly, its gauges fall back to
//! 0, and under `--slots` a scrape during the run sees requests waiting.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use llmload::mock::MockConfig;

use crate::util::*;

/// The body of `GET path` from the mock, on a connection of its own.
pub fn get(mock: &llmload::mock::MockHandle, path: &str) -> String {
    let mut conn = TcpStream::connect(mock.addr()).expect("connect to the mock");
    conn.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    conn.write_all(req.as_bytes()).expect("send");
    let mut raw = String::new();
    conn.read_to_string(&mut raw).expect("a whole response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head");
    assert!(head.starts_with("HTTP/1.1 200"), "GET {path}: {head}");
    body.to_string()
}

/// The value of the sample `name` whose labels include every one of `labels` (`k="v"`).
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    let found = text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (series, value) = l.rsplit_once(' ')?;
        let (n, rest) = series.split_once('{')?;
        (n == name && labels.iter().all(|want| rest.contains(want))).then(|| value.parse().ok())?
    });
    found.unwrap_or_else(|| panic!("no sample {name}{labels:?} in\n{text}"))
}

fn count(text: &str, histogram: &str) -> f64 {
    sample(text, &format!("{histogram}_count"), &[])
}

/// Each histogram's buckets never fall and end, at `+Inf`, at its count.
fn buckets_are_cumulative(text: &str, histogram: &str) {
    let name = format!("{histogram}_bucket{{");
    let values: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with(&name))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse().unwrap())
        .collect();
    assert!(values.windows(2).all(|w| w[0] <= w[1]), "{histogram}: {values:?}");
    assert_eq!(values.last().copied(), Some(count(text, histogram)), "{histogram}");
}

const HISTOGRAMS: [&str; 5] = [
    "vllm:time_to_first_token_seconds",
    "vllm:inter_token_latency_seconds",
    "vllm:e2e_request_latency_seconds",
    "vllm:request_queue_time_seconds",
    "vllm:request_prefill_time_seconds",
];

#[test]
fn after_a_run_the_mocks_metrics_count_exactly_what_it_did() {
    let mock = paced_mock(2, 1, 8);
    let out = Llmload::run(&mock).args("-c 2 -n 10 --no-preflight --quiet").output();
    out.expect_code(0);
    let t = truth(&mock);
    let m = get(&mock, "/metrics");
    let label = "model_name=\"llmload-mock\"";
    assert!(
        m.lines().filter(|l| !l.starts_with('#')).all(|l| l.contains(label) && l.contains("engine=\"0\""))
    );
    assert_eq!(sample(&m, "vllm:generation_tokens_total", &[]), 80.0, "10 × 8 tokens");
    let reason = |r: &str| sample(&m, "vllm:request_success_total", &[&format!("finished_reason=\"{r}\"")]);
    assert_eq!((reason("stop"), reason("length"), reason("abort"), reason("error")), (10.0, 0.0, 0.0, 0.0));
    assert_eq!(count(&m, "vllm:time_to_first_token_seconds"), 10.0);
    assert_eq!(count(&m, "vllm:inter_token_latency_seconds"), 70.0, "7 gaps a stream");
    for h in ["vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds"] {
        assert_eq!(count(&m, h), 10.0, "{h}");
    }
    assert_eq!(count(&m, "vllm:request_prefill_time_seconds"), 10.0);
    HISTOGRAMS.iter().for_each(|h| buckets_are_cumulative(&m, h));
    assert_eq!(sample(&m, "vllm:prompt_tokens_total", &[]), t.prompt_tokens_total as f64);
    assert_eq!(sample(&m, "vllm:prefix_cache_queries_total", &[]), t.prompt_tokens_total as f64);
    assert_eq!(sample(&m, "vllm:prefix_cache_hits_total", &[]), t.cached_tokens as f64);
    assert!(t.prompt_tokens_total > 0);
    for gauge in ["vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc"] {
        assert_eq!(sample(&m, gauge, &[]), 0.0, "{gauge} after the run");
    }
    assert_eq!(sample(&m, "vllm:num_preemptions_total", &[]), 0.0);
    // Queue (0 without slots) + prefill is the TTFT, to the microsecond.
    let sum = |h: &str| sample(&m, &format!("{h}_sum"), &[]);
    let split = sum("vllm:request_queue_time_seconds") + sum("vllm:request_prefill_time_seconds");
    assert!((split - sum("vllm:time_to_first_token_seconds")).abs() < 1e-5, "{split}\n{m}");
}

/// promtool (Debian's `prometheus` package) parses the exposition; its only lint is the colon
/// in vLLM's own names, which it raises for vLLM's `/metrics` too.
#[test]
fn promtool_accepts_the_mocks_metrics() {
    let Ok(probe) = std::process::Command::new("promtool").arg("--version").output() else {
        return skip(
            "promtool_accepts_the_mocks_metrics",
            "promtool is not installed (apt install prometheus)",
        );
    };
    assert!(probe.status.success());
    let mock = fast_mock(4, &[]);
    Llmload::run(&mock).args("-n 3 --no-preflight --quiet").output().expect_code(0);
    truth(&mock);
    let text = get(&mock, "/metrics");
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run promtool");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let problems: Vec<&str> =
        said.lines().filter(|l| !l.ends_with("metric names should not contain ':'")).collect();
    assert!(problems.is_empty(), "promtool: {problems:?}\n{text}");
    assert_eq!(said.lines().filter(|l| !l.is_empty()).count(), 14, "promtool read all 14 families: {said}");
}

#[test]
fn under_slots_a_scrape_during_the_run_sees_requests_waiting() {
    // One slot, three workers, 10 tokens 40 ms apart: each answer holds the slot ~0.4 s while
    // two requests wait; the scrape polls every 10 ms (bounded by `wait_for`).
    let mock = mock_with(MockConfig {
        ttft: Duration::from_millis(5),
        itl: Duration::from_millis(40),
        tokens: 10,
        slots: Some(1),
        ..MockConfig::default()
    });
    let run = Llmload::run(&mock).args("-c 3 -n 3 --no-preflight --quiet");
    let child =
        run.command().stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn();
    let child = child.expect("spawn llmload");
    let mut seen = String::new();
    let waited = wait_for(|| {
        seen = get(&mock, "/metrics");
        sample(&seen, "vllm:num_requests_waiting", &[]) >= 1.0
    });
    let out = finish(child, &run.argv());
    out.expect_code(0);
    assert!(waited, "no scrape saw a request waiting:\n{seen}");
    assert_eq!(sample(&seen, "vllm:num_requests_running", &[]), 1.0, "one slot, held");
    assert_eq!(sample(&seen, "vllm:kv_cache_usage_perc", &[]), 1.0);
    truth(&mock);
    let m = get(&mock, "/metrics");
    assert_eq!(
        (sample(&m, "vllm:num_requests_running", &[]), sample(&m, "vllm:num_requests_waiting", &[])),
        (0.0, 0.0)
    );
    assert_eq!(count(&m, "vllm:request_queue_time_seconds"), 3.0);
    // The second and third waited out a whole answer (10 × 40 ms) each.
    let quick = sample(&m, "vllm:request_queue_time_seconds_bucket", &["le=\"0.3\""]);
    assert!(quick <= 1.0, "{m}");
}

/// Streams cut by their client: `abort` counts them; a server that notices stops generating
/// and its running count falls back to 0; one that keeps decoding generates every token.
#[test]
fn cancelled_streams_are_aborts_and_running_falls_back() {
    for keep_decoding in [false, true] {
        let mock = mock_with(MockConfig {
            ttft: Duration::from_millis(2),
            itl: Duration::from_millis(2),
            tokens: 64,
            keep_decoding,
            ..MockConfig::default()
        });
        let dir = Dir::new("mock-metrics-cancel");
        let (out, j) =
            Llmload::run(&mock).args("-c 4 -n 20 --cancel 0.5@3tok --no-preflight --quiet").json(&dir);
        out.expect_code(0);
        let abandoned = j["requests"]["abandoned"].as_u64().unwrap();
        assert!(abandoned > 0);
        let t = truth(&mock);
        let m = get(&mock, "/metrics");
        assert_eq!(sample(&m, "vllm:num_requests_running", &[]), 0.0, "({keep_decoding})");
        let reason =
            |r: &str| sample(&m, "vllm:request_success_total", &[&format!("finished_reason=\"{r}\"")]);
        assert_eq!(reason("abort"), abandoned as f64);
        assert_eq!(reason("stop"), (20 - abandoned) as f64);
        let generated = sample(&m, "vllm:generation_tokens_total", &[]);
        assert_eq!(generated, (t.text_events + t.decoded_unread) as f64);
        if keep_decoding {
            assert_eq!(generated, 20.0 * 64.0, "every token, read or not");
        } else {
            // At least what each client read; what a cut stream wrote before the mock noticed.
            assert!(generated >= ((20 - abandoned) * 64 + abandoned * 3) as f64);
            assert!(generated < 20.0 * 64.0);
        }
    }
}
