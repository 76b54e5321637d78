//! `--threshold` and `llmload compare`: a passing and a failing threshold (exit 0 and 1, the
//! table, the JSON), a malformed one (exit 2 before any request), thresholds on a rebuilt
//! summary, and compare's gates, held and breached, the files it refuses, and on records files
//! whether a change is significant (two runs of one mock, and of one slowed by 20 ms).

use crate::util::*;
use llmload::mock::MockConfig;
use serde_json::Value;
use std::time::Duration;

/// Runs 6 requests against a fast mock (one in three HTTP 500) with `thresholds`; returns the
/// output and the JSON it wrote.
fn run_with(name: &str, thresholds: &[&str]) -> (Output, Value) {
    let mock = fast_mock(4, &["http-500:0.34"]);
    let cmd = Llmload::run(&mock).args("--api openai-chat -c 1 -n 6 --quiet");
    thresholds.iter().fold(cmd, |cmd, t| cmd.arg("--threshold").arg(t)).json(&Dir::new(name))
}

#[test]
fn thresholds_that_hold_exit_0_with_their_table() {
    let (out, j) = run_with("th-pass", &["ttft.p95<10s", "success_rate>=50%", "req_s>0"]);
    out.expect_code(0);
    assert!(out.stdout.contains("Thresholds: 3 passed, 0 failed"), "{}", out.context());
    assert!(!out.stderr.contains("threshold failed"), "{}", out.context());
    let t = j["thresholds"].as_array().unwrap();
    assert_eq!(t.len(), 3);
    assert_eq!((&t[0]["expr"], &t[0]["pass"]), (&Value::from("ttft.p95<10s"), &Value::from(true)));
    assert_eq!(t[0]["actual"], j["metrics"]["ttft_ms"]["p95"]);
    // 4 of 6 succeeded: the fraction, as the JSON's success_rate.
    assert_eq!(t[1]["actual"], j["success_rate"]);
    assert_eq!(j["success_rate"].as_f64(), Some(0.666667));
    assert_eq!(t[2]["actual"], j["throughput"]["requests_per_s"]);
}

#[test]
fn a_failed_threshold_exits_1_and_names_itself_on_stderr() {
    let (out, j) = run_with("th-fail", &["ttft.p95<10s", "error_rate<=10%", "ttfa.p50<1ms"]);
    out.expect_code(1);
    assert!(out.stdout.contains("Thresholds: 1 passed, 2 failed"), "{}", out.context());
    let row = out.stdout.lines().find(|l| l.trim_start().starts_with("error_rate<=10%")).unwrap_or_default();
    assert!(row.ends_with("33.33%  FAIL"), "{row:?}{}", out.context());
    assert!(out.stderr.contains("threshold failed: error_rate<=10% (actual 33.33%)"), "{}", out.context());
    assert!(out.stderr.contains("threshold failed: ttfa.p50<1ms (actual "), "{}", out.context());
    let pass: Vec<bool> =
        j["thresholds"].as_array().unwrap().iter().map(|t| t["pass"].as_bool().unwrap()).collect();
    assert_eq!(pass, [true, false, false]);
    assert_eq!(j["thresholds"][1]["actual"].as_f64(), Some(0.333333));
}

#[test]
fn a_metric_without_data_fails_with_actual_null() {
    let mock = fast_mock(4, &["http-500"]);
    let (out, j) = Llmload::run(&mock)
        .args("-n 2 --quiet --no-preflight --threshold ttft.p99<1s")
        .json(&Dir::new("th-nodata"));
    out.expect_code(1);
    assert_eq!(j["thresholds"][0], serde_json::json!({"expr": "ttft.p99<1s", "actual": null, "pass": false}));
    assert!(
        out.stderr.contains("threshold failed: ttft.p99<1s: no data: no successful request measured ttft"),
        "{}",
        out.context()
    );
}

#[test]
fn a_malformed_threshold_exits_2_before_any_request() {
    let mock = fast_mock(4, &[]);
    let dir = Dir::new("th-bad");
    let json = dir.path(Dir::JSON);
    for (expr, says) in [
        (
            "ttft.p95<500",
            "--threshold \"ttft.p95<500\" is invalid: the value 500 has no unit and ttft.p95 is a time: write 500ms or 500s",
        ),
        ("ttfx.p95<5ms", "unknown metric \"ttfx\": use one of ttfb"),
        ("success_rate>99", "99 is more than 1: success_rate is a fraction, so write 0.99 or 99%"),
    ] {
        let out = Llmload::run(&mock).args("-n 3 --threshold").arg(expr).json_in(&dir).output();
        out.expect_code(2);
        assert!(out.stderr.contains(says), "{expr}{}", out.context());
    }
    assert_eq!(truth(&mock).requests, 0, "no request, not even the preflight");
    assert!(!json.exists(), "no output file is created for a bad threshold");
}

#[test]
fn a_rebuilt_summary_is_checked_too() {
    let mock = fast_mock(4, &[]);
    let dir = Dir::new("th-report");
    Llmload::run(&mock).args("-n 3 --quiet").records_in(&dir).output().expect_code(0);
    let rec = dir.path(Dir::RECORDS);
    let rec = rec.to_str().unwrap();
    llmload(&["report", rec, "--threshold", "e2e.max<1m"]).expect_code(0);
    let failed = llmload(&["report", rec, "--threshold", "req_s>1000000"]);
    failed.expect_code(1);
    assert!(failed.stderr.contains("threshold failed: req_s>1000000"), "{}", failed.context());
    llmload(&["report", rec, "--threshold", "req_s>fast"]).expect_code(2);
}

/// Writes a summary with these headline values to `dir/name`, as llmload writes them.
fn summary_file(dir: &std::path::Path, name: &str, version: u64, ttft_p95: f64, success: f64) -> String {
    let dist = |v: f64| serde_json::json!({"count": 10, "mean": v, "min": v, "p50": v, "p90": v, "p95": v, "p99": v, "max": v});
    let s = serde_json::json!({
        "version": version,
        "tool": {"name": "llmload", "version": "0.1.0"},
        "requests": {"total": 100, "ok": (success * 100.0) as u64, "failed": 100 - (success * 100.0) as u64},
        "success_rate": success,
        "throughput": {"requests_per_s": 20.0, "output_tokens_per_s": 1000.0},
        "metrics": {"ttft_ms": dist(ttft_p95), "itl_ms": dist(10.0), "tpot_ms": dist(10.0), "e2e_ms": dist(900.0)},
    });
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&s).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn compare_shows_the_change_and_gates_on_it() {
    let dir = Dir::new("compare");
    let base = summary_file(&dir, "base.json", 1, 100.0, 1.0);
    let new = summary_file(&dir, "new.json", 1, 112.0, 0.99);
    let out = llmload(&["compare", &base, &new]);
    out.expect_code(0);
    let row = |o: &Output, name: &str| {
        o.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(row(&out, "ttft.p99"), "ttft.p99 100.0ms 112.0ms +12.0ms +12.0%", "{}", out.context());
    assert_eq!(row(&out, "success_rate"), "success_rate 100.00% 99.00% -1.00pp -1.0%", "{}", out.context());
    assert_eq!(row(&out, "req_s"), "req_s 20.0 20.0 +0.00 +0.0%", "{}", out.context());

    let held =
        llmload(&["compare", &base, &new, "--fail-if", "ttft.p95>+15%", "--fail-if", "success_rate<-2pp"]);
    held.expect_code(0);
    assert!(held.stdout.contains("Gates: 2 held, 0 breached"), "{}", held.context());
    assert!(held.stderr.is_empty(), "{}", held.context());
    assert_eq!(
        row(&held, "ttft.p95"),
        "ttft.p95 100.0ms 112.0ms +12.0ms +12.0%",
        "gated rows join the table{}",
        held.context()
    );

    let breached = llmload(&[
        "compare",
        &base,
        &new,
        "--fail-if",
        "ttft.p95>+10%",
        "--fail-if",
        "success_rate<-0.5pp",
        "--fail-if",
        "req_s<-5%",
    ]);
    breached.expect_code(1);
    assert!(breached.stdout.contains("Gates: 1 held, 2 breached"), "{}", breached.context());
    assert_eq!(
        breached.stderr,
        "gate breached: ttft.p95>+10%: +12.0% (100.0ms → 112.0ms)\ngate breached: success_rate<-0.5pp: -1.00pp (100.00% → 99.00%)\n",
        "{}",
        breached.context()
    );
}

#[test]
fn compare_refuses_other_versions_and_other_files() {
    let dir = Dir::new("compare-bad");
    let v1 = summary_file(&dir, "v1.json", 1, 100.0, 1.0);
    let v2 = summary_file(&dir, "v2.json", 2, 100.0, 1.0);
    let out = llmload(&["compare", &v1, &v2]);
    out.expect_code(2);
    assert!(
        out.stderr.contains(&format!("{v1} is a version 1 summary and {v2} version 2")),
        "{}",
        out.context()
    );
    let other = dir.join("other.json");
    std::fs::write(&other, br#"{"completed": 3, "duration": 1.0}"#).unwrap();
    let out = llmload(&["compare", &v1, other.to_str().unwrap()]);
    out.expect_code(2);
    assert!(
        out.stderr.contains(&format!("compare {}: is not an llmload summary", other.display())),
        "{}",
        out.context()
    );
    std::fs::write(&other, b"not json").unwrap();
    let out = llmload(&["compare", other.to_str().unwrap(), &v1]);
    out.expect_code(2);
    assert!(out.stderr.contains(&format!("compare {}: is not JSON", other.display())), "{}", out.context());
    let missing = dir.join("missing.json");
    let out = llmload(&["compare", &v1, missing.to_str().unwrap()]);
    out.expect_code(2);
    assert!(out.stderr.contains("file not found: check the path"), "{}", out.context());
    let out = llmload(&["compare", &v1, &v1, "--fail-if", "ttft.p95>+10"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("--fail-if \"ttft.p95>+10\" is invalid: the change +10 has neither % nor a unit"),
        "{}",
        out.context()
    );
}

/// A run of 60 requests against a fresh mock whose TTFT is `ttft_ms` ± 50 % (seeded: each fresh
/// mock draws the same sequence, so two runs of one TTFT have the same sample but for the
/// client's own noise), recorded to `<dir>/<name>`.
fn recorded_run(dir: &Dir, name: &str, ttft_ms: u64) -> String {
    let mock = mock_with(MockConfig {
        ttft: Duration::from_millis(ttft_ms),
        itl: Duration::from_millis(2),
        tokens: 8,
        jitter: 0.5,
        ..MockConfig::default()
    });
    let path = dir.path(name);
    let out = Llmload::run(&mock).args("-n 60 -c 4 --quiet").opt("--records", &path).output();
    out.expect_code(0);
    path.to_str().unwrap().to_string()
}

/// The table row of `name`, its words joined by one space.
fn table_row(o: &Output, name: &str) -> String {
    let line = o.stdout.lines().find(|l| l.trim_start().starts_with(&format!("{name} ")));
    line.unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn compare_of_records_judges_significance_and_gates_on_it() {
    let dir = Dir::new("compare-significant");
    let (same1, same2) = (recorded_run(&dir, "a.jsonl", 20), recorded_run(&dir, "b.jsonl", 20));
    let slow = recorded_run(&dir, "slow.jsonl", 40);
    let gate = "ttft.p50>+10% significant";

    // Two runs of one server: the gate holds and says the change is not significant.
    let out = llmload(&["compare", &same1, &same2, "--fail-if", gate]);
    out.expect_code(0);
    assert!(out.stdout.contains("significant\n"), "the column's heading{}", out.context());
    assert!(table_row(&out, "ttft.p50").contains(" no ["), "{}", out.context());
    assert!(table_row(&out, "req_s").ends_with(" -"), "no samples for req_s{}", out.context());
    assert!(table_row(&out, "ttft").contains("no significant shift"), "{}", out.context());
    assert!(out.stdout.contains("Gates: 1 held, 0 breached"), "{}", out.context());
    assert!(out.stdout.contains(", not significant (95% interval of the change "), "{}", out.context());
    assert!(out.stderr.is_empty(), "{}", out.context());

    // A server slower by 20 ms to the first token, against both runs pooled: breached.
    let pooled = format!("{same1},{same2}");
    let out = llmload(&["compare", &pooled, &slow, "--fail-if", gate]);
    out.expect_code(1);
    assert!(table_row(&out, "ttft.p50").contains(" yes [+"), "{}", out.context());
    let ttft = table_row(&out, "ttft");
    assert!(ttft.starts_with("ttft n 120 → 60 ") && ttft.ends_with("shifted up"), "{}", out.context());
    assert!(out.stdout.contains("Gates: 0 held, 1 breached"), "{}", out.context());
    assert!(
        out.stderr.starts_with(&format!("gate breached: {gate}: +"))
            && out.stderr.contains(", significant (95% interval of the change +"),
        "{}",
        out.context()
    );
}

#[test]
fn compare_refuses_significance_without_records() {
    let dir = Dir::new("compare-significant-summaries");
    let base = summary_file(&dir, "base.json", 1, 100.0, 1.0);
    let new = summary_file(&dir, "new.json", 1, 150.0, 1.0);
    let out = llmload(&["compare", &base, &new]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("significant: not judged: JSON summaries hold percentiles"),
        "{}",
        out.context()
    );
    let out = llmload(&["compare", &base, &new, "--fail-if", "ttft.p99>+10% significant"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains(&format!(
            "--fail-if \"ttft.p99>+10% significant\" tests the change in ttft.p99 against each request's value, and {base} is a JSON summary"
        )) && out.stderr.contains("give both runs' records files"),
        "{}",
        out.context()
    );
    let out = llmload(&["compare", &base, &new, "--fail-if", "req_s<-5% significant"]);
    out.expect_code(2);
    assert!(out.stderr.contains("req_s is not measured per request"), "{}", out.context());
    let out = llmload(&["compare", &format!("{base},{new}"), &new]);
    out.expect_code(2);
    assert!(out.stderr.contains("is not a records file"), "{}", out.context());
}
