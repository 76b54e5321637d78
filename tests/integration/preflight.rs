//! The one request that checks the target before the load: a target no request can reach, or
//! one that refuses the key or the path, stops the run at once (exit 2, nothing written, one
//! request sent); any other failure is noted and measured; the check is in no count or record.
//! And during a run, workers that cannot connect back off instead of spinning.

use crate::util::*;
use std::path::PathBuf;

/// Runs with `--json` and `--records` into `name`'s directory; returns the output and the two
/// files' contents, which a stopped run leaves empty.
fn run_files(name: &str, args: &[&str]) -> (Output, String, String) {
    let dir = tempdir(name);
    let (json, records): (PathBuf, PathBuf) = (dir.join("out.json"), dir.join("rec.jsonl"));
    let mut full = args.to_vec();
    full.extend_from_slice(&["--json", json.to_str().unwrap(), "--records", records.to_str().unwrap()]);
    let out = llmload(&full);
    let read =
        |p: &PathBuf| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p:?}: {e}{}", out.context()));
    let (json, records) = (read(&json), read(&records));
    (out, json, records)
}

/// The run stopped at the preflight with `problem` in its one error line.
fn assert_stopped(out: &Output, json: &str, records: &str, url: &str, problem: &str) {
    out.expect_code(2);
    let errors: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{}", out.context());
    let head = format!("error: preflight request to {url} failed: ");
    assert!(errors[0].starts_with(&head), "{}", out.context());
    assert!(errors[0].contains(problem), "{problem:?}{}", out.context());
    assert!(
        errors[0].ends_with("; no load was sent beyond this one request (--no-preflight skips the check)"),
        "{}",
        out.context()
    );
    assert!(out.stdout.is_empty(), "no summary{}", out.context());
    assert_eq!((json, records), ("", ""), "the opened files stay empty{}", out.context());
}

#[test]
fn a_refused_connection_stops_the_run_before_any_worker() {
    let base = format!("http://127.0.0.1:{}", dead_port());
    let (out, json, records) =
        run_files("preflight-refused", &["run", "--url", &base, "-c", "4", "-d", "3s", "--quiet"]);
    // No load ran: exit 2 with one error, no summary and empty files (`assert_stopped`).
    let url = format!("{base}/v1/chat-messages");
    assert_stopped(&out, &json, &records, &url, "(is the server running? check --url/--host/--port)");
}

#[test]
fn a_refused_key_or_path_stops_the_run_after_one_request() {
    for (fault, status, hint) in [
        ("http-401", "HTTP 401", "(check --api-key / --api-key-file)"),
        ("http-403", "HTTP 403", "(check --api-key / --api-key-file)"),
        ("http-404", "HTTP 404", "(check --url and --api: the path may be wrong for this server)"),
    ] {
        let mock = fast_mock(4, &[fault]);
        let u = url(&mock);
        let (out, json, records) = run_files(
            &format!("preflight-{fault}"),
            &[
                "run",
                "--url",
                &u,
                "--api",
                "openai-chat",
                "-c",
                "4",
                "-n",
                "20",
                "--api-key",
                "sk-preflight-key-1234",
            ],
        );
        assert_stopped(&out, &json, &records, &format!("{u}/v1/chat/completions"), &format!("{status}: "));
        assert!(out.stderr.contains(hint), "{hint}{}", out.context());
        assert_eq!(truth(&mock).requests, 1, "{}", out.context());
    }
}

#[test]
fn a_failing_server_is_noted_once_and_measured() {
    for (fault, kind) in
        [("http-503", "http_503"), ("http-429", "http_429"), ("stream-error", "stream_error")]
    {
        let mock = fast_mock(4, &[fault]);
        let u = url(&mock);
        let (out, j, recs) =
            run_logged(&format!("preflight-noted-{fault}"), &["run", "--url", &u, "-n", "3", "--quiet"]);
        out.expect_code(1);
        let notes: Vec<&str> =
            out.stderr.lines().filter_map(|l| l.strip_prefix("warning: preflight: ")).collect();
        assert_eq!(notes.len(), 1, "{}", out.context());
        let notes: Vec<String> = notes.iter().map(|n| format!("preflight: {n}")).collect();
        assert!(notes[0].starts_with(&format!("preflight: {kind}: ")), "{}", out.context());
        assert!(notes[0].ends_with(" (the load test goes on and measures it)"), "{}", out.context());
        assert_eq!(
            (j["requests"]["total"].as_u64(), j["errors"][kind].as_u64()),
            (Some(3), Some(3)),
            "{}",
            out.context()
        );
        assert_eq!(recs.len(), 3, "{}", out.context());
        assert_eq!(truth(&mock).requests, 4, "3 and the preflight{}", out.context());
        // Like every warning, it reaches the JSON too.
        let in_json = j["warnings"].as_array().unwrap().iter().any(|w| w.as_str() == Some(notes[0].as_str()));
        assert!(in_json, "{}", out.context());
    }
}

#[test]
fn a_passing_preflight_is_silent_and_no_preflight_sends_nothing_extra() {
    let mock = fast_mock(4, &[]);
    let u = url(&mock);
    let (out, j, recs) = run_logged("preflight-passed", &["run", "--url", &u, "-n", "3", "--quiet"]);
    out.expect_code(0);
    assert!(!out.stderr.contains("preflight"), "{}", out.context());
    assert_eq!((j["requests"]["total"].as_u64(), recs.len()), (Some(3), 3), "{}", out.context());
    assert_eq!(truth(&mock).requests, 4, "{}", out.context());
    let (out, _, _) =
        run_logged("preflight-off", &["run", "--url", &u, "-n", "3", "--quiet", "--no-preflight"]);
    out.expect_code(0);
    assert_eq!(truth(&mock).requests, 7, "3 more, and no preflight{}", out.context());
}

#[test]
fn workers_that_cannot_connect_back_off_until_the_deadline() {
    let u = format!("http://127.0.0.1:{}", dead_port());
    let (out, j, recs) =
        run_logged("backoff", &["run", "--url", &u, "-c", "4", "-d", "2s", "--quiet", "--no-preflight"]);
    out.expect_code(1);
    // Each worker waits 25-50 ms, then twice as long each time up to 0.5-1 s: at most 8 requests
    // each in 2 s. Without the backoff, tens of thousands.
    let total = j["requests"]["total"].as_u64().unwrap();
    assert!((4..=40).contains(&total), "{total} requests{}", out.context());
    assert_eq!(j["errors"]["connect"].as_u64(), Some(total), "{}", out.context());
    assert_eq!(recs.len() as u64, total, "{}", out.context());
    assert!(recs.iter().all(|r| r["outcome"] == "connect"), "{}", out.context());
    // How soon the deadline cuts a backoff is a time: benches/stops.sh measures it.
}
