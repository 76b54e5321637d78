//! `--out-dir`: one flag keeps every output of a run, a sweep or the demo under default names,
//! a flag that names one output's path wins for that output, and a folder that cannot be made is
//! refused before any request. `demo --html` writes the report of its run.

use crate::util::*;
use std::path::Path;

/// The names in `dir`, sorted.
fn listed(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn out_dir_keeps_every_output_of_a_run_and_a_named_one_wins() {
    let mock = fast_mock(5, &[]);
    let dir = Dir::new("out-dir-run");
    let (out_dir, json) = (dir.path("made/here"), dir.path("elsewhere.json"));
    let out = Llmload::run(&mock)
        .args("--api openai-chat -c 2 -n 6 -q")
        .opt("--out-dir", &out_dir)
        .opt("--json", &json)
        .output();
    out.expect_code(0);
    assert_eq!(
        listed(&out_dir),
        ["records.csv", "records.jsonl", "report.html", "series.jsonl", "vllm.json"],
        "every output but the one --json names{}",
        out.context()
    );
    assert_eq!(read_json(&json, &out)["requests"]["ok"], 6);
    assert_eq!(read_records(&out_dir.join("records.jsonl"), &out).len(), 6);
    let csv = std::fs::read_to_string(out_dir.join("records.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7, "a header and a row a request");
    let vllm = read_json(&out_dir.join("vllm.json"), &out);
    assert_eq!(vllm["completed"], 6);
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..40.min(html.len())]);
    assert!(
        out.stderr.contains(&format!(
            "outputs in {}: records.csv, records.jsonl, report.html, series.jsonl, vllm.json",
            out_dir.display()
        )),
        "{}",
        out.context()
    );
}

#[test]
fn out_dir_keeps_a_sweeps_three_outputs() {
    let mock = fast_mock(3, &[]);
    let dir = Dir::new("out-dir-sweep");
    let out = Llmload::new("sweep")
        .url(&mock)
        .args("--api openai-chat --concurrency 1,2 -n 4 -q")
        .opt("--out-dir", &*dir)
        .output();
    out.expect_code(0);
    assert_eq!(listed(&dir), ["records.jsonl", "sweep.html", "sweep.json"], "{}", out.context());
    let sweep = read_json(&dir.join("sweep.json"), &out);
    assert_eq!(sweep["levels"].as_array().map(Vec::len), Some(2));
    assert_eq!(read_records(&dir.join("records.jsonl"), &out).len(), 8);
}

#[test]
fn an_out_dir_that_cannot_be_made_is_refused_before_any_request() {
    let mock = fast_mock(3, &[]);
    let dir = Dir::new("out-dir-bad");
    let below = dir.create("a-file", "x").join("out");
    let out = Llmload::run(&mock).args("-n 1").opt("--out-dir", &below).output();
    out.expect_code(2);
    assert!(
        out.stderr.contains(&format!("--out-dir {}: cannot make the folder", below.display())),
        "{}",
        out.context()
    );
    let file = dir.path("a-file");
    let out = Llmload::run(&mock).args("-n 1").opt("--out-dir", &file).output();
    out.expect_code(2);
    assert!(
        out.stderr.contains(&format!("--out-dir {}: is a file, not a folder", file.display())),
        "{}",
        out.context()
    );
    assert_eq!(truth(&mock).requests, 0, "no request was sent");
}

#[test]
fn the_demo_writes_its_html_report() {
    let dir = Dir::new("demo-html");
    let html = dir.path("demo.html");
    let out = Llmload::new("demo -d 1s -c 2 -q --ttft 5ms --itl 1ms").opt("--html", &html).output();
    out.expect_code(0);
    let page = std::fs::read_to_string(&html).unwrap_or_else(|e| panic!("{e}{}", out.context()));
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<svg"), "a report with charts");
    assert!(out.stdout.contains(&format!("The HTML report: {}", html.display())), "{}", out.context());
}
