//! `--retries`: off by default, retried attempts counted in the summary, JSON and records, the
//! server's `Retry-After` honoured, and latency measured from the first attempt.

use crate::util::*;
use serde_json::json;

/// No preflight: the faults fall on the requests of the run and the mock counts only theirs.
fn run(fault: &str, n: &str, extra: &[&str]) -> (Output, serde_json::Value, Vec<serde_json::Value>, u64) {
    let mock = fast_mock(4, &[fault]);
    let (out, j, recs) = Llmload::run(&mock)
        .args("-c 1")
        .opt("-n", n)
        .args("--quiet --no-preflight")
        .arg_list(extra)
        .logged(&Dir::new(&format!("retries-{}", fault.replace(':', "_"))));
    (out, j, recs, truth(&mock).requests)
}

#[test]
fn retries_are_off_by_default() {
    let (out, j, recs, sent) = run("http-503:0.5", "4", &[]);
    out.expect_code(0);
    assert_eq!(sent, 4);
    assert_eq!(
        j["requests"],
        json!({"total": 4, "ok": 2, "failed": 2, "cancelled": 0, "stalled": 0, "abandoned": 0, "retried": 0, "attempts": 4, "warmup": 0, "ended_early": 0, "answers_checked": 0, "wrong_answer": 0})
    );
    assert!(recs.iter().all(|r| r["attempts"] == 1));
}

#[test]
fn server_errors_are_retried_counted_and_timed_from_the_first_attempt() {
    // The mock fails every odd-numbered request: each of the 4 requests but the first needs a
    // second attempt, so the mock sees 7 in all.
    let (out, j, recs, sent) = run("http-503:0.5", "4", &["--retries", "2"]);
    out.expect_code(0);
    assert_eq!(sent, 7, "{}", out.context());
    assert_eq!(
        j["requests"],
        json!({"total": 4, "ok": 4, "failed": 0, "cancelled": 0, "stalled": 0, "abandoned": 0, "retried": 3, "attempts": 7, "warmup": 0, "ended_early": 0, "answers_checked": 0, "wrong_answer": 0})
    );
    let attempts: Vec<u64> = recs.iter().map(|r| r["attempts"].as_u64().unwrap()).collect();
    assert_eq!(attempts, [1, 2, 2, 2]);
    // The backoff (at least 100 ms) is inside the retried requests' TTFB and E2E.
    for r in recs.iter().filter(|r| r["attempts"] == 2) {
        assert!(r["ttfb_ms"].as_f64().unwrap() >= 100.0, "{r}");
    }
    assert!(out.stdout.contains("3 requests retried · 7 attempts in all"), "{}", out.context());
}

#[test]
fn a_429_without_retry_after_is_retried_after_a_backoff() {
    let (out, j, recs, sent) = run("http-429-no-retry-after:0.5", "4", &["--retries", "1"]);
    out.expect_code(0);
    assert_eq!(sent, 7, "{}", out.context());
    assert_eq!(j["requests"]["ok"], 4);
    let attempts: Vec<u64> = recs.iter().map(|r| r["attempts"].as_u64().unwrap()).collect();
    assert_eq!(attempts, [1, 2, 2, 2]);
}

#[test]
fn retry_after_is_honoured_and_exhausted_retries_fail() {
    // Every response is a 429 with `Retry-After: 1`: one retry waits a whole second.
    let (out, j, recs, sent) = run("http-429", "1", &["--retries", "1"]);
    out.expect_code(1);
    assert_eq!(sent, 2);
    assert_eq!(j["requests"]["retried"], 1);
    assert_eq!(j["errors"]["http_429"], 1);
    assert_eq!(recs[0]["attempts"], 2);
    // The request's own clock holds the wait: Retry-After: 1 was waited for.
    assert!(recs[0]["e2e_ms"].as_f64().unwrap() >= 1000.0, "{}", recs[0]);
}

#[test]
fn the_deadline_cuts_a_retry_wait_short() {
    // Every response is a 429 asking for a 1 s wait; the run ends after 300 ms, in that wait.
    let mock = fast_mock(4, &["http-429"]);
    let dir = Dir::new("retry-deadline");
    let out = Llmload::run(&mock).args("-d 300ms --retries 10 --quiet").records_in(&dir).output();
    out.expect_code(1);
    let recs = dir.records(&out);
    assert_eq!(recs.len(), 1, "{}", out.context());
    // The server did refuse it: the last attempt's failure stands, with the attempts made. One
    // attempt of eleven allowed: the deadline ended the 1 s wait (a wait that outlived it would
    // have sent a second; how soon it ends is a time, measured in benches/stops.sh).
    assert_eq!((recs[0]["outcome"].as_str(), recs[0]["attempts"].as_u64()), (Some("http_429"), Some(1)));
}

#[test]
fn connect_errors_are_retried() {
    let dir = Dir::new("retry-connect");
    let out = Llmload::new("run --url")
        .arg(format!("http://127.0.0.1:{}", dead_port()))
        .args("-n 2 --retries 2 --quiet --no-preflight")
        .records_in(&dir)
        .output();
    out.expect_code(1);
    let recs = dir.records(&out);
    assert!(recs.iter().all(|r| r["attempts"] == 3 && r["outcome"] == "connect"), "{}", out.context());
    assert!(out.stdout.contains("2 requests retried · 6 attempts in all"), "{}", out.context());
}

#[test]
fn retries_and_timeouts_reject_nonsense() {
    let out = llmload(&["run", "--retries", "1000"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--retries \"1000\" is invalid: at most 100"), "{}", out.context());
    for flag in ["--timeout", "--connect-timeout", "--ttfb-timeout", "--idle-timeout"] {
        let out = llmload(&["run", flag, "0"]);
        out.expect_code(2);
        assert!(
            out.stderr.contains(&format!("{flag} \"0\" is invalid: must be longer than 0")),
            "{}",
            out.context()
        );
        let out = llmload(&["run", flag, "soon"]);
        out.expect_code(2);
        assert!(
            out.stderr.contains(&format!("{flag} \"soon\" is invalid: use a duration")),
            "{}",
            out.context()
        );
    }
    let out = llmload(&["run", "--grace", "x"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--grace \"x\" is invalid"), "{}", out.context());
}
