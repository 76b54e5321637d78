//! Recorded-shape streams of every protocol, replayed by the mock through a real socket in
//! adversarial splits (one byte a write; cut at a different offset per response), read by the
//! real binary: exact event and text-event counts, tokens, server numbers and outcome per record.

use crate::util::*;
use llmload::mock::{self, MockConfig, Split};
use serde_json::{Value, json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

/// Serves `file` with `split` and runs `requests` requests of `args` against it; returns the
/// records and the JSON summary.
fn replay(file: &str, split: Split, requests: u32, args: &[&str]) -> (Output, Vec<Value>, Value) {
    let config = MockConfig {
        replay: Some(mock::Replay::new(std::fs::read(file).expect("fixture"), split).expect("fixture")),
        ..MockConfig::default()
    };
    let server = mock::start(([127, 0, 0, 1], 0).into(), config).expect("mock starts");
    let name = std::path::Path::new(file).file_stem().unwrap().to_string_lossy().to_string();
    let dir = tempdir(&format!("replay-{name}-{split:?}"));
    let (json_path, rec_path) = (dir.join("out.json"), dir.join("rec.jsonl"));
    let (u, n) = (url(&server), requests.to_string());
    let (j, r) = (json_path.display().to_string(), rec_path.display().to_string());
    // No preflight: each response of the run, not a check before it, gets the next split offset.
    let mut full = vec![
        "run",
        "--url",
        &u,
        "-c",
        "2",
        "-n",
        &n,
        "--quiet",
        "--no-preflight",
        "--json",
        &j,
        "--records",
        &r,
    ];
    full.extend_from_slice(args);
    let out = llmload(&full);
    let recs = read_records(&rec_path, &out);
    let summary = read_json(&json_path, &out);
    assert_eq!(recs.len(), requests as usize, "{}", out.context());
    (out, recs, summary)
}

/// What every record of a fixture must say.
struct Expect {
    outcome: &'static str,
    events: u64,
    text_events: u64,
    output_tokens: u64,
    token_source: &'static str,
    input_tokens: Option<u64>,
    server_latency_ms: Value,
    server_ttft_ms: Value,
}

const OK: Expect = Expect {
    outcome: "ok",
    events: 0,
    text_events: 0,
    output_tokens: 0,
    token_source: "usage",
    input_tokens: None,
    server_latency_ms: Value::Null,
    server_ttft_ms: Value::Null,
};

/// Replays `file` byte by byte (2 responses) and cut at 24 offsets, checking every record.
fn check(file: &str, args: &[&str], e: Expect) {
    for (split, n) in [(Split::Bytes, 2), (Split::Offsets, 24)] {
        let (out, recs, _) = replay(file, split, n, args);
        for r in &recs {
            let ctx = || format!("{file} {split:?}: {r}{}", out.context());
            assert_eq!(r["outcome"], e.outcome, "{}", ctx());
            assert_eq!(r["events"], e.events, "{}", ctx());
            assert_eq!(r["text_events"], e.text_events, "{}", ctx());
            assert_eq!(r["warnings"], json!([]), "{}", ctx());
            if e.outcome == "ok" {
                assert_eq!(r["output_tokens"], e.output_tokens, "{}", ctx());
                assert_eq!(r["token_source"], e.token_source, "{}", ctx());
                assert!(r["ttft_ms"].as_f64() >= r["ttfe_ms"].as_f64(), "{}", ctx());
            }
            if let Some(input) = e.input_tokens {
                assert_eq!(r["input_tokens"], input, "{}", ctx());
            }
            assert_eq!(r["server_latency_ms"], e.server_latency_ms, "{}", ctx());
            assert_eq!(r["server_ttft_ms"], e.server_ttft_ms, "{}", ctx());
        }
    }
}

fn fixture(name: &str) -> String {
    format!("{FIXTURES}{name}")
}

#[test]
fn dify_chat_fixture() {
    let e = Expect {
        events: 9,
        text_events: 8,
        output_tokens: 19,
        input_tokens: Some(1033),
        server_latency_ms: json!(1381.76), // the fixture says 1.381760165997548 s: whole µs
        server_ttft_ms: json!(412.318),
        ..OK
    };
    check(&fixture("sample_dify_chat.sse"), &["--api", "dify-chat"], e);
}

#[test]
fn openai_chat_fixtures() {
    let api = ["--api", "openai-chat"];
    let e = Expect { events: 21, text_events: 17, output_tokens: 18, input_tokens: Some(22), ..OK };
    check(&fixture("sample_openai_chat_usage.sse"), &api, e);
    let e = Expect { events: 11, text_events: 8, output_tokens: 8, input_tokens: Some(26), ..OK };
    check(&fixture("vllm_chat_usage.sse"), &api, e);
    let e = Expect { events: 11, text_events: 7, output_tokens: 8, input_tokens: Some(26), ..OK };
    check(&fixture("llama_server_chat_usage.sse"), &api, e);
}

#[test]
fn openai_without_usage_and_with_reasoning() {
    let api = ["--api", "openai-chat"];
    // "Hello world!" is 3 tokens by the estimate: Hello, world, !
    let e = Expect { events: 5, text_events: 3, output_tokens: 3, token_source: "estimate", ..OK };
    check(&fixture("openai_no_usage.sse"), &api, e);
    let e = Expect { events: 12, text_events: 8, output_tokens: 14, input_tokens: Some(9), ..OK };
    check(&fixture("openai_reasoning.sse"), &api, e);
    let (out, recs, j) = replay(&fixture("openai_reasoning.sse"), Split::Bytes, 2, &api);
    assert_eq!(j["tokens"]["reasoning_total"], 22, "{}", out.context());
    for r in &recs {
        assert_eq!(r["reasoning_tokens"], 11, "{r}");
        // TTFT counts the first reasoning chunk, TTFA waits for the answer, 6 chunks later (at
        // the same kernel time only if one read brought them all: a worker stalled for 30 ms).
        assert!(r["ttfa_ms"].as_f64() >= r["ttft_ms"].as_f64(), "{r}");
    }
}

#[test]
fn tool_call_arguments_are_the_text_of_a_tool_call_stream() {
    let api = ["--api", "openai-chat"];
    // A role chunk naming the call, 7 argument chunks, the finish, usage, [DONE].
    let e = Expect { events: 11, text_events: 7, output_tokens: 17, input_tokens: Some(1536), ..OK };
    check(&fixture("openai_tool_calls.sse"), &api, e);
    let (out, recs, j) = replay(&fixture("openai_tool_calls.sse"), Split::Whole, 2, &api);
    assert_eq!(j["metrics"]["ttft_ms"]["count"], 2, "{}", out.context());
    assert_eq!(j["metrics"]["itl_ms"]["count"], 2 * 6, "{}", out.context());
    assert_eq!(j["tokens"]["cached_input"], 2 * 1280, "{}", out.context());
    assert_eq!(j["tokens"]["cache_hit_share"], 0.833333, "{}", out.context());
    assert!(
        recs.iter().all(|r| r["cached_tokens"] == 1280 && r["ttfa_ms"] == r["ttft_ms"]),
        "{}",
        out.context()
    );
}

#[test]
fn responses_api_fixtures() {
    let api = ["--api", "openai-responses"];
    let e = Expect { events: 14, text_events: 6, output_tokens: 6, input_tokens: Some(17), ..OK };
    check(&fixture("vllm_responses.sse"), &api, e);
    // Reasoning summary (5 deltas) before the answer (6): 24 events in all.
    let e = Expect { events: 24, text_events: 11, output_tokens: 30, input_tokens: Some(1200), ..OK };
    check(&fixture("openai_responses_reasoning.sse"), &api, e);
    let (out, recs, j) = replay(&fixture("openai_responses_reasoning.sse"), Split::Whole, 2, &api);
    assert_eq!(j["tokens"]["reasoning_total"], 2 * 12, "{}", out.context());
    assert_eq!(j["tokens"]["cached_input"], 2 * 1024, "{}", out.context());
    assert_eq!(j["tokens"]["cache_hit_share"], 0.853333, "{}", out.context());
    for r in &recs {
        assert_eq!(
            (r["cached_tokens"].as_u64(), r["reasoning_tokens"].as_u64()),
            (Some(1024), Some(12)),
            "{r}"
        );
        assert!(r["ttfa_ms"].as_f64() >= r["ttft_ms"].as_f64(), "{r}");
    }
    // The records rebuild the same token totals.
    let dir = tempdir("replay-responses-report");
    let rec = dir.join("rec.jsonl");
    std::fs::write(&rec, recs.iter().map(|r| format!("{r}\n")).collect::<String>()).unwrap();
    let report = dir.join("report.json");
    let out = llmload(&["report", rec.to_str().unwrap(), "--json", report.to_str().unwrap()]);
    out.expect_code(0);
    let rebuilt = read_json(&report, &out);
    assert_eq!(rebuilt["tokens"], j["tokens"], "{}", out.context());
}

#[test]
fn openai_completions_fixture() {
    let e = Expect { events: 10, text_events: 8, output_tokens: 8, input_tokens: Some(3), ..OK };
    check(&fixture("vllm_completions.sse"), &["--api", "openai-completions"], e);
}

#[test]
fn anthropic_fixtures() {
    let e = Expect { events: 14, text_events: 5, output_tokens: 42, input_tokens: Some(25), ..OK };
    check(&fixture("sample_anthropic.sse"), &["--api", "anthropic"], e);
    let e = Expect { outcome: "stream_error", events: 5, text_events: 2, ..OK };
    check(&fixture("anthropic_overloaded.sse"), &["--api", "anthropic"], e);
}

#[test]
fn dify_workflow_fixtures() {
    let e = Expect { events: 13, text_events: 5, output_tokens: 183, server_latency_ms: json!(2510.0), ..OK };
    check(&fixture("dify_workflow.sse"), &["--api", "dify-workflow"], e);
    let e =
        Expect { outcome: "stream_error", events: 6, text_events: 0, server_latency_ms: json!(410.0), ..OK };
    check(&fixture("dify_workflow_failed.sse"), &["--api", "dify-workflow"], e);
}

#[test]
fn dify_completion_agent_and_chatflow_fixtures() {
    let e = Expect {
        events: 5,
        text_events: 4,
        output_tokens: 12,
        input_tokens: Some(21),
        server_latency_ms: json!(900.0),
        ..OK
    };
    check(&fixture("dify_completion.sse"), &["--api", "dify-completion"], e);
    let e = Expect {
        events: 7,
        text_events: 3,
        output_tokens: 30,
        input_tokens: Some(400),
        server_latency_ms: json!(3200.0),
        server_ttft_ms: json!(1100.0),
        ..OK
    };
    check(&fixture("dify_agent.sse"), &["--api", "dify-chat"], e);
    let e = Expect {
        events: 11,
        text_events: 4,
        output_tokens: 7,
        input_tokens: Some(50),
        server_latency_ms: json!(1020.0),
        server_ttft_ms: json!(300.0),
        ..OK
    };
    check(&fixture("dify_chatflow.sse"), &["--api", "dify-chat"], e);
}

#[test]
fn custom_fixture_ends_at_the_end_of_the_body() {
    let dir = tempdir("custom-template");
    let template = dir.join("body.json");
    std::fs::write(
        &template,
        r#"{"inputs": {{prompt}}, "parameters": {"max_new_tokens": {{max_tokens}}}, "stream": true}"#,
    )
    .unwrap();
    let t = template.display().to_string();
    let args = [
        "--api",
        "custom",
        "--body-template",
        &t,
        "--text-path",
        "/token/text",
        "--usage-path",
        "/details/generated_tokens",
        "--done-marker",
        "",
    ];
    let e = Expect { events: 5, text_events: 5, output_tokens: 5, ..OK };
    check(&fixture("custom_tgi.sse"), &args, e);
    // With the default marker, the same body ends without its terminal event.
    let (out, recs, _) = replay(&fixture("custom_tgi.sse"), Split::Whole, 1, &args[..8]);
    assert_eq!(recs[0]["outcome"], "truncated_stream", "{}", out.context());
}

#[test]
fn the_summary_keeps_server_numbers_and_reasoning() {
    let (out, _, j) = replay(&fixture("sample_dify_chat.sse"), Split::Whole, 3, &["--api", "dify-chat"]);
    assert_eq!(j["metrics"]["server_latency_ms"]["count"], 3, "{}", out.context());
    assert_eq!(j["metrics"]["server_ttft_ms"]["count"], 3);
    assert!(out.stdout.contains("server latency"), "{}", out.context());
    assert_eq!(j["tokens"]["input_total"], 3 * 1033);
    let (out, _, j) = replay(&fixture("vllm_chat_usage.sse"), Split::Whole, 2, &["--api", "openai-chat"]);
    assert!(j["metrics"]["server_latency_ms"].is_null(), "{}", out.context());
    assert!(!out.stdout.contains("server latency"), "{}", out.context());
    assert_eq!(j["tokens"]["reasoning_total"], 0);
}

#[test]
fn events_a_server_sends_together_are_read_together_and_the_summary_counts_their_gaps() {
    // One write of the whole body: its 8 text events arrive in one read, one arrival time, so
    // every one of the 2 × 7 gaps reads 0.
    let (out, recs, j) = replay(&fixture("vllm_chat_usage.sse"), Split::Whole, 2, &["--api", "openai-chat"]);
    assert_eq!(j["metrics"]["itl_ms"]["count"], 14, "{}", out.context());
    assert_eq!(j["client"]["gaps_read_together"], 1.0, "{}", out.context());
    for r in &recs {
        assert_eq!(r["itl_ms"], json!(vec![0.0; 7]), "{r}");
    }
    // Cut in two writes 2 ms apart at a different offset per response: in the responses cut
    // between two events, the second is read apart from the first, so the share is below 1.
    let (out, _, j) = replay(&fixture("vllm_chat_usage.sse"), Split::Offsets, 24, &["--api", "openai-chat"]);
    let share = j["client"]["gaps_read_together"].as_f64().expect("a share");
    assert!(share < 1.0, "{share}{}", out.context());
}
