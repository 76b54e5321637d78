//! A server that closes its connections (llama.cpp's closes after every streamed response while
//! saying keep-alive): a request whose pooled connection turns out closed before any byte of a
//! response is sent again once on a fresh connection, counted as a reconnect in the summary, the
//! JSON and the records, and is neither a failure nor a retry; a response that says
//! `Connection: close` is never reused. The mock's `--close-after-response` closes each
//! connection late (when the next request arrives, unanswered), so every reuse meets a closed
//! connection and the counts are exact.

use crate::util::*;
use llmload::mock::{self, FaultRule, MockConfig, MockHandle};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// A fast mock that closes each connection after one response, with `faults`.
fn closing_mock(faults: &[&str]) -> MockHandle {
    let config = MockConfig {
        ttft: Duration::from_millis(5),
        itl: Duration::from_millis(1),
        tokens: 8,
        faults: faults.iter().map(|f| f.parse::<FaultRule>().expect("valid fault")).collect(),
        close_after_response: true,
        ..MockConfig::default()
    };
    mock::start(([127, 0, 0, 1], 0).into(), config).expect("mock starts")
}

fn reconnects(r: &Value) -> u64 {
    r["reconnects"].as_u64().expect("every record has reconnects")
}

#[test]
fn a_server_that_closes_after_each_response_costs_reconnects_not_failures() {
    let mock = closing_mock(&[]);
    let dir = Dir::new("reconnects-close-after-response");
    let (out, j, recs) = Llmload::run(&mock).args("--api openai-chat -c 8 -n 200 --quiet").logged(&dir);
    out.expect_code(0);
    let requests = &j["requests"];
    assert_eq!(
        [&requests["ok"], &requests["failed"], &requests["retried"], &requests["attempts"]],
        [&Value::from(200), &Value::from(0), &Value::from(0), &Value::from(200)],
        "{}",
        out.context()
    );
    assert_eq!(recs.len(), 200, "{}", out.context());
    // Each worker's first request opens its connection; every later one finds the pooled
    // connection closed and goes again on a fresh one, exactly once.
    let mut workers = BTreeSet::new();
    for r in &recs {
        let first = workers.insert(r["worker"].as_u64().unwrap());
        assert_eq!(reconnects(r), u64::from(!first), "{r}{}", out.context());
        assert_eq!((&r["outcome"], &r["attempts"]), (&Value::from("ok"), &Value::from(1)), "{r}");
    }
    let total = j["client"]["reconnects"].as_u64().expect("client.reconnects");
    assert_eq!(total, recs.iter().map(reconnects).sum::<u64>(), "{}", out.context());
    assert_eq!(total, 200 - workers.len() as u64, "{}", out.context());
    assert!(total > 0);
    // The mock agrees: each re-send is a request it closed unanswered, and every answered
    // request (the preflight's too) had a connection of its own.
    let t = truth(&mock);
    assert_eq!((t.requests, t.unanswered, t.connections), (201, total, 201), "{}", out.context());
    let line = format!(
        "  reconnects  {total} sent again on a fresh connection: the server had closed the pooled one before answering (not failures, not retries)\n"
    );
    assert!(out.stdout.contains(&line), "the summary names them{}", out.context());
    // A summary rebuilt from the records counts the same.
    let rebuilt_path = dir.join("rebuilt.json");
    let out = Llmload::new("report").arg(dir.path(Dir::RECORDS)).arg("--json").arg(&rebuilt_path).output();
    out.expect_code(0);
    assert_eq!(read_json(&rebuilt_path, &out)["client"]["reconnects"], total, "{}", out.context());
}

#[test]
fn a_response_that_says_connection_close_is_not_reused() {
    // Every response says `Connection: close`; the mock keeps the connection open anyway, until
    // a next request would arrive: a client that reused it would meet a closed connection.
    let mock = closing_mock(&["close"]);
    let (out, j, recs) = Llmload::run(&mock)
        .args("--api openai-chat -c 4 -n 40 --quiet")
        .logged(&Dir::new("reconnects-connection-close"));
    out.expect_code(0);
    assert_eq!((&j["requests"]["ok"], &j["client"]["reconnects"]), (&Value::from(40), &Value::from(0)));
    assert!(recs.iter().all(|r| reconnects(r) == 0), "{}", out.context());
    let t = truth(&mock);
    assert_eq!((t.requests, t.unanswered, t.connections), (41, 0, 41), "a connection each{}", out.context());
    assert!(!out.stdout.contains("reconnects"), "{}", out.context());
}

#[test]
fn reconnects_are_not_attempts_and_add_up_over_retries() {
    // Every odd answered request is a 503. Each request after the first goes out on a pooled
    // connection the mock closes unanswered; the retry of a 503 does too.
    let mock = closing_mock(&["http-503:0.5"]);
    let (out, j, recs) = Llmload::run(&mock)
        .args("-c 1 -n 4 --retries 2 --quiet --no-preflight")
        .logged(&Dir::new("reconnects-retries"));
    out.expect_code(0);
    let per = |key: &str| recs.iter().map(|r| r[key].as_u64().unwrap()).collect::<Vec<_>>();
    assert_eq!(
        (per("attempts"), per("reconnects")),
        (vec![1, 2, 2, 2], vec![0, 2, 2, 2]),
        "{}",
        out.context()
    );
    assert_eq!((&j["requests"]["attempts"], &j["client"]["reconnects"]), (&Value::from(7), &Value::from(6)));
    let t = truth(&mock);
    assert_eq!((t.requests, t.unanswered, t.connections), (7, 6, 7), "{}", out.context());
}

#[test]
fn a_reset_on_a_pooled_connection_before_any_byte_is_sent_again_once() {
    // The mock resets every odd request after reading it. Each lands on the connection the
    // request before left in the pool, so it goes again on a fresh one (the next, even, request
    // number), and succeeds; the run meets no failure.
    let mock = fast_mock(4, &["reset:0.5"]);
    let (out, j, recs) =
        Llmload::run(&mock).args("-c 1 -n 8 --quiet --no-preflight").logged(&Dir::new("reconnects-reset"));
    out.expect_code(0);
    assert_eq!((&j["requests"]["ok"], &j["client"]["reconnects"]), (&Value::from(8), &Value::from(7)));
    assert_eq!(recs.iter().map(reconnects).collect::<Vec<_>>(), [0, 1, 1, 1, 1, 1, 1, 1]);
    let t = truth(&mock);
    assert_eq!((t.requests, t.faults["reset"], t.connections), (15, 7, 8), "{}", out.context());
}
