//! A misbehaving server: each fault ends its request with the right outcome, the run goes on,
//! and the summary, JSON and records count it exactly.

use crate::util::*;
use serde_json::Value;
use std::time::Duration;

/// Runs 8 requests on one worker against a mock with `fault` and returns (output, json, records).
fn run_with(fault: &str, api: &str) -> (Output, Value, Vec<Value>) {
    run_with_args(fault, api, &[])
}

/// `run_with` plus client flags; the mock's slow faults last 3 s, far past the timeouts given.
/// No preflight: the faults fall on the requests of the run, and some would stop it first.
fn run_with_args(fault: &str, api: &str, extra: &[&str]) -> (Output, Value, Vec<Value>) {
    let mock = slow_fault_mock(6, &[fault], Duration::from_secs(3));
    let (out, j, recs) = Llmload::run(&mock)
        .opt("--api", api)
        .args("-c 1 -n 8 --quiet --no-preflight")
        .arg_list(extra)
        .logged(&Dir::new(&format!("fault-{}-{api}", fault.replace(':', "_"))));
    assert_eq!(recs.len(), 8, "every request has a record{}", out.context());
    assert_eq!(truth(&mock).requests, 8, "{}", out.context());
    (out, j, recs)
}

fn assert_all_failed(fault: &str, api: &str, kind: &str, message_part: &str) {
    let (out, j, recs) = run_with(fault, api);
    out.expect_code(1);
    assert_eq!(j["requests"]["failed"], 8, "{}", out.context());
    assert_eq!(j["errors"][kind], 8, "{}", out.context());
    let msg = j["error_messages"][kind].as_str().unwrap_or_default();
    assert!(msg.contains(message_part), "message {msg:?} lacks {message_part:?}{}", out.context());
    assert!(recs.iter().all(|r| r["outcome"] == kind && r["error"].is_string()));
    assert!(out.stdout.contains("every request failed"), "{}", out.context());
}

#[test]
fn http_errors_are_classified_with_the_servers_message() {
    assert_all_failed("http-401", "dify-chat", "http_401", "check --api-key");
    assert_all_failed("http-404", "openai-chat", "http_404", "check --url");
    assert_all_failed("http-429", "dify-chat", "http_429", "lower --concurrency");
    assert_all_failed("http-500", "openai-chat", "http_500", "HTTP 500");
    assert_all_failed("html-502", "dify-chat", "http_502", "HTTP 502");
    assert_all_failed("http-502", "dify-chat", "http_502", "mock: injected HTTP 502");
    assert_all_failed("html-503", "openai-chat", "http_503", "503 Service Unavailable nginx");
    assert_all_failed("http-503", "dify-chat", "http_503", "mock: injected HTTP 503");
    assert_all_failed("html-500", "dify-chat", "http_500", "500 Internal Server Error nginx");
    assert_all_failed("http-429-no-retry-after", "openai-chat", "http_429", "without Retry-After");
}

#[test]
fn an_html_error_page_is_one_line_of_its_text() {
    let (out, j, recs) = run_with("html-502", "dify-chat");
    out.expect_code(1);
    let text = "HTTP 502: 502 Bad Gateway 502 Bad Gateway nginx";
    assert_eq!(j["error_messages"]["http_502"], text, "{}", out.context());
    assert!(recs.iter().all(|r| r["error"] == text), "{}", out.context());
    let lines: Vec<&str> = out.stdout.lines().collect();
    let at = lines.iter().position(|l| l.trim_start().starts_with("http_502")).expect("an errors line");
    assert!(lines[at].ends_with(text), "{}", out.context());
    assert_eq!(
        (lines[at - 1], lines[at + 1]),
        ("  errors", ""),
        "one line in the errors block{}",
        out.context()
    );
}

/// Half the requests (every odd one) get `fault`; each ends as `kind`, the others succeed: the
/// worker goes on to its next request after every fault.
fn assert_half_failed(fault: &str, api: &str, extra: &[&str], kind: &str, message_part: &str) {
    let (out, j, recs) = run_with_args(&format!("{fault}:0.5"), api, extra);
    out.expect_code(0);
    assert_eq!(j["requests"]["ok"], 4, "{}", out.context());
    assert_eq!(j["errors"][kind], 4, "{}", out.context());
    let msg = j["error_messages"][kind].as_str().unwrap_or_default();
    assert!(msg.contains(message_part), "message {msg:?} lacks {message_part:?}{}", out.context());
    let outcomes: Vec<&str> = recs.iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["ok", kind, "ok", kind, "ok", kind, "ok", kind], "{}", out.context());
    // A partly failed run says so, with the share and the kind, though it exits 0.
    let warning = format!("warning: 4 of 8 requests failed (50.0%): {kind} 4×");
    assert!(out.stdout.contains(&warning), "stdout lacks {warning:?}{}", out.context());
    assert!(j["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().starts_with(&warning[9..])));
    // The errors block has the kind's line: its count, then its first message.
    let line = format!("    {kind}  {:>7}  {msg}", 4);
    assert!(out.stdout.lines().any(|l| l == line), "stdout lacks {line:?}{}", out.context());
}

/// Every request is reset, so none leaves a connection in the pool: each goes out on a fresh
/// one and fails (a reset on a pooled connection is sent again: `reconnects`).
#[test]
fn a_reset_before_the_headers_is_a_transport_error() {
    let (out, j, recs) = run_with("reset", "dify-chat");
    out.expect_code(1);
    assert_eq!(
        (&j["errors"]["transport"], &j["client"]["reconnects"]),
        (&8.into(), &0.into()),
        "{}",
        out.context()
    );
    let msg = j["error_messages"]["transport"].as_str().unwrap_or_default();
    assert!(msg.contains("reset"), "{msg:?}{}", out.context());
    assert!(recs.iter().all(|r| r["outcome"] == "transport" && r["reconnects"] == 0), "{}", out.context());
}

#[test]
fn slow_headers_trip_the_ttfb_timeout() {
    assert_half_failed(
        "slow-headers",
        "openai-chat",
        &["--ttfb-timeout", "500ms"],
        "timeout_ttfb",
        "no response headers within 500ms",
    );
    // With the header wait bounded by the shorter --idle-timeout, it is still a TTFB timeout.
    assert_half_failed(
        "slow-headers",
        "dify-chat",
        &["--idle-timeout", "500ms"],
        "timeout_ttfb",
        "no response headers within 500ms (--ttfb-timeout 60s, bounded by --idle-timeout 500ms)",
    );
}

#[test]
fn a_stalled_stream_trips_the_idle_timeout() {
    assert_half_failed(
        "stall",
        "dify-chat",
        &["--idle-timeout", "500ms"],
        "timeout_idle",
        "no bytes for --idle-timeout 500ms",
    );
}

#[test]
fn a_stream_longer_than_the_whole_request_limit_is_timeout_total() {
    // Bytes keep coming (every 300 ms, within the per-read limit), but the whole stream takes
    // 3 s: the between-reads check ends it at --timeout 1s. No preflight: it would wait 1 s too.
    let mock = paced_mock(5, 300, 10);
    let (out, j) =
        Llmload::run(&mock).args("-n 2 --timeout 1s --quiet --no-preflight").json(&Dir::new("timeout-total"));
    out.expect_code(1);
    assert_eq!(j["errors"]["timeout_total"], 2, "{}", out.context());
    assert!(j["error_messages"]["timeout_total"].as_str().unwrap().contains("longer than --timeout 1s"));
}

#[test]
fn a_10_mib_line_is_a_malformed_stream() {
    assert_half_failed("huge-line", "openai-chat", &[], "malformed_stream", "longer than");
}

#[test]
fn keep_alive_comments_only_and_no_terminal_event_are_truncated() {
    assert_half_failed("pings-only", "dify-chat", &[], "truncated_stream", "between events");
    assert_half_failed("no-end", "openai-chat", &[], "truncated_stream", "between events");
}

#[test]
fn invalid_utf8_in_a_complete_stream_is_a_warning() {
    for api in ["dify-chat", "openai-chat", "anthropic"] {
        let (out, j, recs) = run_with("bad-utf8:0.5", api);
        out.expect_code(0);
        assert_eq!(j["requests"]["ok"], 8, "{}", out.context());
        let warned = recs.iter().filter(|r| {
            r["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("invalid UTF-8"))
        });
        assert_eq!(warned.count(), 4, "{}", out.context());
        assert!(out.stdout.contains("4 successful requests carried stream problems"), "{}", out.context());
    }
}

#[test]
fn a_non_sse_response_says_so() {
    assert_all_failed("not-sse", "dify-chat", "not_sse", "expected an event stream");
}

#[test]
fn a_stream_cut_midway_is_truncated() {
    assert_all_failed("cut", "openai-chat", "truncated_stream", "before its terminal event");
    assert_all_failed("cut", "dify-chat", "truncated_stream", "before its terminal event");
}

#[test]
fn an_error_event_after_200_fails_the_request() {
    assert_all_failed("stream-error", "dify-chat", "stream_error", "Dify error event");
    assert_all_failed("stream-error", "openai-chat", "stream_error", "error event");
    assert_all_failed("stream-error", "anthropic", "stream_error", "overloaded_error");
    assert_all_failed("stream-error", "dify-workflow", "stream_error", "error");
}

#[test]
fn a_malformed_event_in_a_complete_stream_is_a_warning() {
    for api in ["dify-chat", "openai-chat", "anthropic"] {
        let (out, j, recs) = run_with("malformed", api);
        out.expect_code(0);
        assert_eq!(j["requests"]["ok"], 8, "{}", out.context());
        for r in &recs {
            let w = r["warnings"].as_array().unwrap();
            assert!(w.iter().any(|w| w.as_str().unwrap().starts_with("malformed event")), "{r}");
        }
        assert!(out.stdout.contains("8 successful requests carried stream problems"), "{}", out.context());
    }
}

#[test]
fn a_share_of_faults_is_counted_exactly_and_the_run_goes_on() {
    let (out, j, recs) = run_with("http-500:0.25", "openai-chat");
    out.expect_code(0);
    assert_eq!(j["requests"]["ok"], 6, "{}", out.context());
    assert_eq!(j["errors"]["http_500"], 2);
    assert_eq!(count_by(&recs, "outcome")["ok"], 6);
    assert!((j["success_rate"].as_f64().unwrap() - 0.75).abs() < 1e-9);
}

#[test]
fn connection_close_after_each_response_still_works() {
    let (out, j, _) = run_with("close", "dify-chat");
    out.expect_code(0);
    assert_eq!(j["requests"]["ok"], 8, "{}", out.context());
}

#[test]
fn an_unreachable_server_is_a_connect_error() {
    let (out, j) = Llmload::new("run --url")
        .arg(format!("http://127.0.0.1:{}", dead_port()))
        .args("-n 3 --quiet --no-preflight")
        .json(&Dir::new("unreachable"));
    out.expect_code(1);
    assert_eq!(j["errors"]["connect"], 3, "{}", out.context());
    assert!(out.stdout.contains("is the server running?"), "{}", out.context());
}
