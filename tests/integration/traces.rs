//! `--trace` end to end: a mooncake trace replayed against the mock at its own instants (scaled
//! by `--trace-speed`, cut by `--trace-window`), each answer as long as its entry asks, the
//! blocks of shared `hash_ids` identical in what the server received, the dispatch lateness
//! reported, and a malformed entry refused with its line number before any request.

use crate::util::*;
use llmload::mock::MockHandle;
use serde_json::Value;

/// Four entries 200 ms apart: the first, second and fourth share blocks 1 and 2 (8 tokens
/// each with `--trace-block-tokens 8`), the third shares nothing.
fn fixture() -> String {
    format!("{}/tests/fixtures/trace_mooncake.jsonl", env!("CARGO_MANIFEST_DIR"))
}

fn run(mock: &MockHandle, args: &str) -> Llmload {
    Llmload::run(mock).args("--api openai-chat --no-preflight --quiet --trace-block-tokens 8").args(args)
}

/// Each record's (prompt index, scheduled ms, output tokens), in the order they were scheduled.
fn sent(recs: &[Value]) -> Vec<(u64, f64, u64)> {
    let mut v: Vec<_> = recs
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_u64().unwrap();
            (n("prompt_index"), r["scheduled_ms"].as_f64().unwrap(), n("output_tokens"))
        })
        .collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1));
    v
}

#[test]
fn a_mooncake_trace_is_sent_at_its_instants_with_its_lengths_and_shared_blocks() {
    let mock = recording_mock(100, 0.0);
    let dir = Dir::new("trace_mooncake");
    let (out, j, recs) = run(&mock, "--trace-speed 2").opt("--trace", fixture()).logged(&dir);
    out.expect_code(0);
    assert_eq!(j["requests"]["total"], 4, "{}", out.context());
    assert_eq!(
        sent(&recs),
        [(0, 0.0, 3), (1, 100.0, 5), (2, 200.0, 2), (3, 300.0, 4)],
        "the trace's instants halved and its output lengths{}",
        out.context()
    );
    assert_eq!(j["client"]["start_lag_ms"]["count"], 4, "each dispatch's lateness{}", out.context());
    assert_eq!(j["config"]["arrival"], "trace");
    // What the server received: the entries naming blocks 1 and 2 open with the same 16 tokens.
    let bodies = mock.bodies();
    assert_eq!(bodies.len(), 4);
    let text = |i: usize| bodies[i]["messages"][0]["content"].as_str().unwrap().to_string();
    let mut texts: Vec<String> = (0..4).map(text).collect();
    texts.sort_by_key(String::len);
    let (third, first, fourth, second) = (&texts[0], &texts[1], &texts[2], &texts[3]);
    assert!(second.starts_with(first.as_str()) && fourth.starts_with(first.as_str()), "{texts:?}");
    assert_ne!(second, fourth);
    assert!(!first.starts_with(&third[..4]), "{texts:?}");
    let inputs: Vec<u64> = {
        let mut v: Vec<_> = recs.iter().map(|r| r["input_tokens"].as_u64().unwrap()).collect();
        v.sort();
        v
    };
    assert_eq!(inputs, [10, 16, 20, 24], "{}", out.context());
}

#[test]
fn a_window_cuts_the_trace_and_a_budget_cuts_it_shorter() {
    let mock = fast_mock(100, &[]);
    let dir = Dir::new("trace_window");
    let (out, _, recs) = run(&mock, "--trace-window 0.2..0.6").opt("--trace", fixture()).logged(&dir);
    out.expect_code(0);
    assert_eq!(sent(&recs), [(0, 0.0, 5), (1, 200.0, 2)], "{}", out.context());
    let (out, _, recs) = run(&mock, "-n 3 --max-concurrency 1").opt("--trace", fixture()).logged(&dir);
    out.expect_code(0);
    assert_eq!(sent(&recs).len(), 3, "{}", out.context());
}

#[test]
fn a_malformed_entry_is_refused_with_its_line_before_any_request() {
    let mock = fast_mock(4, &[]);
    let dir = Dir::new("trace_malformed");
    let bad = dir.create(
        "bad.jsonl",
        "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2}\n{\"timestamp\": 10, \"input_length\": \"many\", \"output_length\": 2}\n",
    );
    let out = run(&mock, "").opt("--trace", &bad).output();
    out.expect_code(2);
    assert!(
        out.stderr.contains("line 2: input_length is \"many\": give a whole number of tokens"),
        "{}",
        out.context()
    );
    let out = run(&mock, "--rate 5").opt("--trace", fixture()).output();
    out.expect_code(2);
    assert!(out.stderr.contains("--trace and --rate clash"), "{}", out.context());
    assert_eq!(mock.truth().requests, 0);
}

/// A run's own records replayed: the same schedule (the intended starts) and, for each request,
/// the prompt tokens it sent and the answer length it got.
#[test]
fn a_runs_records_replay_its_schedule_and_lengths() {
    let mock = paced_mock(2, 1, 12);
    let dir = Dir::new("trace-records");
    let (out, _, recs) = Llmload::run(&mock)
        .args("--api openai-chat --no-preflight --quiet --rate 20 --arrival constant -n 6")
        .opt("--prompt", "one two three")
        .logged(&dir);
    out.expect_code(0);
    let first: Vec<(f64, u64)> = recs
        .iter()
        .map(|r| (r["scheduled_ms"].as_f64().unwrap(), r["output_tokens"].as_u64().unwrap()))
        .collect();
    let replay = Dir::new("trace-records-replay");
    let (out, j, again) = Llmload::run(&mock)
        .args("--api openai-chat --no-preflight --quiet")
        .opt("--trace", dir.path(Dir::RECORDS))
        .logged(&replay);
    out.expect_code(0);
    assert!(j["config"]["prompt_source"].as_str().unwrap().contains("records"), "{}", out.context());
    let mut got: Vec<(f64, u64)> = again
        .iter()
        .map(|r| (r["scheduled_ms"].as_f64().unwrap(), r["output_tokens"].as_u64().unwrap()))
        .collect();
    got.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut want = first.clone();
    want.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Times count from the first request: a constant 20 req/s is 0, 50, 100 … ms both times.
    let t0 = want[0].0;
    let want: Vec<(f64, u64)> = want.iter().map(|(t, n)| (t - t0, *n)).collect();
    assert_eq!(got.len(), 6, "{}", out.context());
    for ((g, gn), (w, wn)) in got.iter().zip(&want) {
        assert!((g - w).abs() < 0.002, "scheduled {g} against {w}{}", out.context());
        assert_eq!(gn, wn, "the same answer length");
    }
    let inputs: Vec<u64> = again.iter().map(|r| r["sent_tokens"].as_u64().unwrap()).collect();
    assert!(inputs.iter().all(|&n| n == 3), "the prompt tokens the run sent: {inputs:?}");
}

/// The mock's arrival log against the trace: each gap between two arrivals is the trace's gap
/// within the run's own measured dispatch lateness (`client.start_lag_ms` max) plus a small
/// allowance for what lies after the dispatch: taking or opening a loopback connection, writing
/// the request, and the mock reading it whole.
///
/// Why that cannot make the test pass whatever happens: the tolerance is measured, not chosen,
/// and the trace's gaps (200 to 400 ms) are far wider than it. A replay at the wrong speed (2×:
/// every gap short by 100 to 200 ms) or one that ignored the instants fails, and a run so late
/// that its lateness alone would cover a 2× error says so instead of passing (`skip`).
#[test]
fn a_traces_send_times_match_the_mocks_arrival_log_within_the_dispatch_lateness() {
    /// Loopback connect, request write and the mock's read of it, on a busy machine.
    const ALLOWANCE_MS: f64 = 20.0;
    const OFFSETS_MS: [f64; 6] = [0.0, 300.0, 500.0, 900.0, 1100.0, 1500.0];
    let dir = Dir::new("trace_arrivals");
    let lines: Vec<String> = OFFSETS_MS
        .iter()
        .enumerate()
        .map(|(k, t)| {
            format!(
                "{{\"timestamp\": {t}, \"input_length\": 8, \"output_length\": 2, \"hash_ids\": [{k}]}}\n"
            )
        })
        .collect();
    let trace = dir.create("arrivals.jsonl", lines.concat());
    let mock = fast_mock(2, &[]);
    let (out, j) = run(&mock, "").opt("--trace", &trace).json(&dir);
    out.expect_code(0);
    assert_eq!(j["requests"]["total"], 6, "{}", out.context());
    let lateness = j["client"]["start_lag_ms"]["max"].as_f64().expect("the dispatch lateness");
    let tolerance = lateness + ALLOWANCE_MS;
    let log = crate::mock_metrics::get(&mock, "/mock/arrivals");
    let log: Value = serde_json::from_str(&log).expect("the arrival log is JSON");
    let arrivals: Vec<f64> = log.as_array().unwrap().iter().map(|a| a["at_ms"].as_f64().unwrap()).collect();
    assert_eq!(arrivals.len(), 6, "{log}");
    assert!(log.as_array().unwrap().iter().all(|a| a["path"] == "/v1/chat/completions"));
    let smallest_gap = OFFSETS_MS.windows(2).map(|w| w[1] - w[0]).fold(f64::MAX, f64::min);
    if tolerance >= smallest_gap / 2.0 {
        return skip(
            "a_traces_send_times_match_the_mocks_arrival_log_within_the_dispatch_lateness",
            &format!("dispatch lateness {lateness} ms is too large to tell a replay at twice the speed"),
        );
    }
    for (k, (trace, got)) in OFFSETS_MS.windows(2).zip(arrivals.windows(2)).enumerate() {
        let (want, gap) = (trace[1] - trace[0], got[1] - got[0]);
        assert!(
            (gap - want).abs() <= tolerance,
            "arrivals {k}→{}: {gap:.3} ms apart, the trace says {want} (± {tolerance:.3}: lateness {lateness} + {ALLOWANCE_MS}); {arrivals:?}{}",
            k + 1,
            out.context()
        );
    }
}
