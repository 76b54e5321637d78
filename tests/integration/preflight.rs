//! The one request that checks the target before the load: a target no request can reach, or
//! one that refuses the key or the path, stops the run at once (exit 2, no file left, one
//! request sent); any other failure before the first text is noted and measured; the check
//! reads only to the first text event, is in no count or record, and an interrupt during it
//! exits 130 with nothing measured and no file left. And during a run, workers that cannot
//! connect back off instead of spinning.

use crate::util::*;

/// Runs `cmd` with `--json` and `--records` into `name`'s directory; returns the output and the
/// two files' contents, `None` for a file the run did not leave.
fn run_files(name: &str, cmd: Llmload) -> (Output, Option<String>, Option<String>) {
    let dir = Dir::new(name);
    let out = cmd.json_in(&dir).records_in(&dir).output();
    let read = |file: &str| std::fs::read_to_string(dir.path(file)).ok();
    let (json, records) = (read(Dir::JSON), read(Dir::RECORDS));
    (out, json, records)
}

/// The run stopped at the preflight with `problem` in its one error line, and left no file.
fn assert_stopped(out: &Output, json: &Option<String>, records: &Option<String>, url: &str, problem: &str) {
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
    assert_eq!(
        (json, records),
        (&None, &None),
        "the files it would have written are not left{}",
        out.context()
    );
}

#[test]
fn a_refused_connection_stops_the_run_before_any_worker() {
    let base = format!("http://127.0.0.1:{}", dead_port());
    let (out, json, records) =
        run_files("preflight-refused", Llmload::new("run --url").arg(&base).args("-c 4 -d 3s --quiet"));
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
            Llmload::run(&mock).args("--api openai-chat -c 4 -n 20 --api-key sk-preflight-key-1234"),
        );
        assert_stopped(&out, &json, &records, &format!("{u}/v1/chat/completions"), &format!("{status}: "));
        assert!(out.stderr.contains(hint), "{hint}{}", out.context());
        assert_eq!(truth(&mock).requests, 1, "{}", out.context());
    }
}

#[test]
fn a_failing_server_is_noted_once_and_measured() {
    // Each fails before any text (a stream error after the first text is the load's to measure).
    for (fault, kind) in
        [("http-503", "http_503"), ("http-429", "http_429"), ("pings-only", "truncated_stream")]
    {
        let mock = fast_mock(4, &[fault]);
        let (out, j, recs) =
            Llmload::run(&mock).args("-n 3 --quiet").logged(&Dir::new(&format!("preflight-noted-{fault}")));
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
    let (out, j, recs) = Llmload::run(&mock).args("-n 3 --quiet").logged(&Dir::new("preflight-passed"));
    out.expect_code(0);
    assert!(!out.stderr.contains("preflight"), "{}", out.context());
    assert_eq!((j["requests"]["total"].as_u64(), recs.len()), (Some(3), 3), "{}", out.context());
    assert_eq!(truth(&mock).requests, 4, "{}", out.context());
    let (out, _, _) =
        Llmload::run(&mock).args("-n 3 --quiet --no-preflight").logged(&Dir::new("preflight-off"));
    out.expect_code(0);
    assert_eq!(truth(&mock).requests, 7, "3 more, and no preflight{}", out.context());
}

#[test]
fn workers_that_cannot_connect_back_off_until_the_deadline() {
    let (out, j, recs) = Llmload::new("run --url")
        .arg(format!("http://127.0.0.1:{}", dead_port()))
        .args("-c 4 -d 2s --quiet --no-preflight")
        .logged(&Dir::new("backoff"));
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

#[test]
fn the_preflight_reads_a_long_answer_only_to_its_first_token() {
    // 2,000 tokens 5 ms apart: 10 s to read whole, which the run's one-second load never does.
    let mock = paced_mock(5, 5, 2000);
    let (out, j, recs) = Llmload::run(&mock).args("-c 1 -d 1s --quiet").logged(&Dir::new("preflight-long"));
    out.expect_code(1); // the run's one request is cut at the deadline: all cancelled
    assert_eq!((j["requests"]["total"].as_u64(), recs.len()), (Some(1), 1), "{}", out.context());
    let t = truth(&mock);
    // The preflight closed its connection after its first text, so neither response ended.
    assert_eq!((t.requests, t.completed), (2, 0), "{t:?}{}", out.context());
}

#[test]
fn an_interrupt_during_the_preflight_exits_130_with_nothing_measured_and_no_file() {
    let mock = paced_mock(60_000, 1, 4); // the first token would come after a minute
    let u = url(&mock);
    let dir = Dir::new("preflight-interrupted");
    let (json, records) = (dir.path(Dir::JSON), dir.path(Dir::RECORDS));
    let cmd = Llmload::run(&mock).args("-d 5s").json_in(&dir).records_in(&dir);
    let args = cmd.argv();
    let child = spawn_llmload(&args, Sigint::Default);
    // The request reached the mock, so the preflight is under way and its handler in place.
    assert!(wait_for(|| mock.in_flight() == 1), "the preflight never reached the mock");
    signal(&child, libc::SIGINT);
    let out = finish(child, &args);
    out.expect_code(130);
    let url = format!("{u}/v1/chat-messages");
    let line = format!(
        "interrupted during the preflight request to {url}: nothing was measured and no output file was written"
    );
    assert_eq!(out.stderr.lines().filter(|l| *l == line).count(), 1, "{}", out.context());
    assert!(!out.stderr.contains("error"), "{}", out.context());
    assert!(out.stdout.is_empty(), "no summary{}", out.context());
    assert!(!json.exists() && !records.exists(), "files left behind{}", out.context());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "{}", out.context());
}

#[test]
fn an_interrupt_the_process_was_started_to_ignore_stays_ignored() {
    // A script's background job starts with SIGINT ignored, so that Ctrl-C at the terminal
    // reaches only the foreground job: llmload keeps it so, as shells and other tools do.
    let mock = paced_mock(1000, 1, 4);
    let cmd = Llmload::run(&mock).args("-n 1 --quiet");
    let args = cmd.argv();
    let child = spawn_llmload(&args, Sigint::Ignored);
    assert!(wait_for(|| mock.in_flight() == 1), "the preflight never reached the mock");
    signal(&child, libc::SIGINT);
    let out = finish(child, &args);
    out.expect_code(0);
    assert!(out.stdout.contains("1 total · 1 ok"), "{}", out.context());
    assert!(!out.stderr.contains("interrupted"), "{}", out.context());
}

#[test]
fn a_run_that_fails_its_checks_leaves_none_of_its_files() {
    let dir = Dir::new("checks-fail");
    let (json, earlier) = (dir.path(Dir::JSON), dir.create("earlier.csv", "an earlier run's rows\n"));
    let bad = dir.join("no-such-folder").join("rec.jsonl");
    let mock = fast_mock(2, &[]);
    let out = Llmload::run(&mock).json_in(&dir).arg("--csv").arg(&earlier).arg("--records").arg(bad).output();
    out.expect_code(2);
    assert!(out.stderr.contains("--records"), "{}", out.context());
    assert!(!json.exists(), "an empty --json was left{}", out.context());
    let kept = std::fs::read_to_string(&earlier).unwrap();
    assert_eq!(kept, "an earlier run's rows\n", "an existing file was emptied{}", out.context());
    assert_eq!(truth(&mock).requests, 0, "{}", out.context());
}
