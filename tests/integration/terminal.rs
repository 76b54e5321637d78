//! What the terminal shows and what happens when it goes away: a closed stderr or stdout stops
//! that output only, `--json -` puts the JSON on stdout, the banner reads as English, `-h` is
//! help, and a ramp-up longer than the run warns.

use crate::util::*;
use std::process::{Command, Stdio};

#[test]
fn a_closed_stderr_and_stdout_stop_only_that_output() {
    let mock = fast_mock(20, &[]);
    let dir = tempdir("closed-pipes");
    let (json_path, rec_path) = (dir.join("out.json"), dir.join("rec.jsonl"));
    // `llmload run … 2>&1 | head -1`: the reader goes away before the first table row.
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmload"))
        .args(["run", "--url", &url(&mock), "-c", "4", "-n", "200"])
        .args(["--json", json_path.to_str().unwrap(), "--records", rec_path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    let out = Output {
        cmd: "llmload run … (stdout and stderr closed)".into(),
        code: status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::new(),
    };
    out.expect_code(0);
    let j = read_json(&json_path, &out);
    let recs = read_records(&rec_path, &out);
    assert_eq!(truth(&mock).requests, 201, "the run went on to its end (200 and the preflight)");
    assert_eq!(j["requests"]["ok"], 200, "every request counted{}", out.context());
    assert_eq!(recs.len(), 200, "every request recorded");
}

#[test]
fn json_dash_writes_the_summary_json_to_stdout_and_the_text_to_stderr() {
    let mock = fast_mock(3, &[]);
    let out = Llmload::run(&mock).args("-n 3 --quiet --json -").output();
    out.expect_code(0);
    let j: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("stdout is JSON: {e}{}", out.context()));
    assert_eq!(j["requests"]["ok"], 3, "{}", out.context());
    assert!(out.stderr.contains("llmload summary"), "{}", out.context());
    assert!(!std::path::Path::new("-").exists(), "no file named -");
    let both = Llmload::run(&mock).args("--json - --records -").output();
    both.expect_code(2);
    assert!(both.stderr.contains("--json and --records name the same file"), "{}", both.context());
}

#[test]
fn the_banner_reads_as_english() {
    let mock = fast_mock(2, &[]);
    let out = Llmload::run(&mock).args("--api dify-chat -n 1").output();
    out.expect_code(0);
    let expected = format!(
        "llmload {} → dify-chat {}/v1/chat-messages · 1 worker · 1 requests · 1 prompt from default · no API key",
        env!("CARGO_PKG_VERSION"),
        url(&mock)
    );
    assert!(out.stderr.contains(&expected), "stderr lacks {expected:?}{}", out.context());
    let out = Llmload::run(&mock).args("--api dify-chat -c 4 --ramp-up 200ms -d 1.5s").output();
    assert!(out.stderr.contains("· 4 workers (ramp-up 200ms) · for 1.5s ·"), "{}", out.context());
}

#[test]
fn a_ramp_up_longer_than_the_run_warns_how_many_workers_start() {
    let mock = fast_mock(2, &[]);
    let (out, j, _) =
        Llmload::run(&mock).args("-c 4 --ramp-up 4s -d 1s --quiet").logged(&Dir::new("ramp-warn"));
    out.expect_code(0);
    let warning = "--ramp-up 4s is longer than --duration 1s: only 1 of 4 workers start before the end; shorten --ramp-up or lengthen --duration";
    assert!(out.stderr.contains(&format!("warning: {warning}")), "{}", out.context());
    assert!(j["warnings"].as_array().unwrap().iter().any(|w| w == warning), "{}", out.context());
}

#[test]
fn dash_h_is_help_and_a_port_out_of_range_says_what_a_port_is() {
    for args in [&["-h"][..], &["run", "-h"]] {
        let out = llmload(args);
        out.expect_code(0);
        assert!(out.stdout.starts_with("Usage: llmload"), "{}", out.context());
    }
    let out = llmload(&["run", "--port", "99999"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("'--port' with value '99999': give a port number from 0 to 65535"),
        "{}",
        out.context()
    );
    let out = llmload(&["demo", "--api", "custom"]);
    out.expect_code(2);
    assert!(out.stderr.contains("demo speaks every API but custom"), "{}", out.context());
}

#[test]
fn records_that_cannot_be_written_are_a_warning_in_the_summary_and_the_json() {
    let mock = fast_mock(3, &[]);
    let (out, j) =
        Llmload::run(&mock).args("-n 3 --quiet --records /dev/full").json(&Dir::new("records-full"));
    out.expect_code(0);
    assert_eq!(j["requests"]["ok"], 3, "the run went on{}", out.context());
    let warning = "writing records stopped: --records /dev/full: No space left on device (os error 28); the summary still counts every request, but that file lacks the later ones";
    assert!(j["warnings"].as_array().unwrap().iter().any(|w| w == warning), "{}", out.context());
    assert!(out.stdout.contains(&format!("warning: {warning}")), "{}", out.context());
}
