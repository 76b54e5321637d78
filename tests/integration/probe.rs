//! `llmload probe`: one request against the mock with every event and the verdict shown; a
//! recorded body read with `--json`, its WHATWG event, data and last event ID exact; a stream
//! of another API named with the fix; and the exit codes.

use crate::util::*;
use llmload::mock::{self, MockConfig, Split};
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

#[test]
fn a_probe_of_the_mock_shows_every_event_and_says_ok() {
    let mock = fast_mock(3, &[]);
    let out = llmload(&["probe", "--url", &url(&mock), "--api", "openai-chat", "--prompt", "hi"]);
    out.expect_code(0);
    let heads: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(heads.len(), 7, "role chunk, 3 tokens, finish, usage, [DONE]{}", out.context());
    assert!(heads.iter().all(|h| h.contains("ms  event: message")), "{}", out.context());
    let readings: Vec<&str> = out.stdout.lines().filter_map(|l| l.strip_prefix("    → ")).collect();
    assert_eq!(
        readings,
        [
            "recognised, no text",
            "answer \"大\"",
            "answer \"语\"",
            "answer \"言\"",
            "recognised, no text",
            "usage: 3 output tokens · 1 input tokens (0 cached)",
            "terminal event",
        ],
        "{}",
        out.context()
    );
    assert_eq!(
        out.stdout.lines().last(),
        Some("ok: 7 events, 3 with text, ended with the terminal event"),
        "{}",
        out.context()
    );
}

#[test]
fn a_recorded_body_reads_as_whatwg_events_with_the_last_event_id() {
    let file = format!("{FIXTURES}probe_ids.sse");
    let out = llmload(&["probe", "--file", &file, "--api", "anthropic", "--json"]);
    out.expect_code(0);
    let lines: Vec<Value> =
        out.stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect();
    let seen: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| (l["event"].as_str().unwrap(), l["data"].as_str().unwrap(), l["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "message_start",
                r#"{"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}"#,
                "1"
            ),
            (
                "content_block_delta",
                "{\"type\":\"content_block_delta\",\"index\":0,\n\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}",
                "1"
            ),
            ("ping", r#"{"type": "ping"}"#, "2"),
            (
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}"#,
                ""
            ),
            // A block with only `id: 9` dispatched nothing but set the last event ID.
            ("message_stop", r#"{"type":"message_stop"}"#, "9"),
        ],
        "{}",
        out.context()
    );
    let answers: Vec<&str> = lines.iter().map(|l| l["answer"].as_str().unwrap()).collect();
    assert_eq!(answers, ["", "Hi", "", "", ""]);
    assert!(lines.iter().all(|l| l["offset_ms"].is_null() && l["recognised"] == true), "{}", out.context());
    assert_eq!((lines[3]["output_tokens"].as_u64(), lines[4]["done"].as_bool()), (Some(1), Some(true)));
    assert_eq!(
        out.stderr.trim_end().lines().last(),
        Some("ok: 5 events, 1 with text, ended with the terminal event"),
        "the verdict goes to stderr with --json{}",
        out.context()
    );
    // A data line without a type reads as `message`, as a browser's EventSource has it.
    let plain = llmload(&["probe", "--file", &format!("{FIXTURES}vllm_completions.sse"), "--json"]);
    plain.expect_code(0);
    let first: Value = serde_json::from_str(plain.stdout.lines().next().unwrap()).unwrap();
    assert_eq!((&first["event"], &first["id"]), (&Value::from("message"), &Value::from("")));
    assert!(plain.stderr.contains("read as openai-chat"), "{}", plain.context());
}

#[test]
fn a_stream_of_another_api_exits_1_and_names_the_fix() {
    let body = std::fs::read(format!("{FIXTURES}vllm_chat_usage.sse")).expect("fixture");
    let config = MockConfig {
        replay: Some(mock::Replay::new(body, Split::Whole).expect("fixture")),
        ..MockConfig::default()
    };
    let server = mock::start(([127, 0, 0, 1], 0).into(), config).expect("mock starts");
    let out = llmload(&["probe", "--url", &url(&server), "--api", "dify-chat"]);
    out.expect_code(1);
    assert_eq!(
        out.stdout.lines().last(),
        Some(
            "no tokens: 11 events, none recognised as dify-chat: is --api right? they read as openai-chat: try --api openai-chat"
        ),
        "{}",
        out.context()
    );
    assert_eq!(out.stdout.matches("→ not recognised as dify-chat").count(), 10, "{}", out.context());
}

#[test]
fn no_stream_or_bad_usage_exits_2() {
    let dead = format!("http://127.0.0.1:{}", dead_port());
    let out = llmload(&["probe", "--url", &dead, "--api", "openai-chat"]);
    out.expect_code(2);
    assert!(out.stdout.starts_with("no stream: connect: "), "{}", out.context());
    let mock = fast_mock(3, &["http-401"]);
    let denied = llmload(&["probe", "--url", &url(&mock), "--api", "openai-chat"]);
    denied.expect_code(2);
    assert!(denied.stdout.starts_with("no stream: http_401: "), "{}", denied.context());
    let both = llmload(&["probe", "--file", "x.sse", "--url", &dead]);
    both.expect_code(2);
    assert!(both.stderr.contains("not both"), "{}", both.context());
    llmload(&["probe", "--file", "/nonexistent/capture.sse"]).expect_code(2);
}
