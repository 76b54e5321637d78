//! `--slo`: goodput and attainment against a mock whose TTFT misses one objective (attainment 0)
//! or meets every one (attainment 1), with the counts behind them; a malformed `--slo` (exit 2,
//! no request sent); `report --slo` judging the records as the run did; and an attainment
//! threshold that fails.

use crate::util::*;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Runs 6 requests with `--slo slo` and `extra` flags; returns the output, the JSON and the
/// records file.
fn run_slo(
    name: &str,
    mock: &llmload::mock::MockHandle,
    slo: &str,
    extra: &[&str],
) -> (Output, Value, PathBuf) {
    let dir = Dir::new(name);
    let (out, j) = Llmload::run(mock)
        .args("--api openai-chat -c 2 -n 6 --quiet")
        .opt("--slo", slo)
        .arg_list(extra)
        .records_in(&dir)
        .json(&dir);
    (out, j, dir.path(Dir::RECORDS))
}

#[test]
fn a_ttft_over_its_objective_gives_attainment_0() {
    // 60 ms to the first token against 20 ms: every request misses TTFT and meets the rest.
    let mock = paced_mock(60, 1, 4);
    let (out, j, _) = run_slo("slo-miss", &mock, "ttft<=20ms,e2e<=10s", &[]);
    out.expect_code(0);
    let g = &j["goodput"];
    assert_eq!(g["slo"], "ttft<=20ms,e2e<=10s", "{}", out.context());
    assert_eq!(
        (&g["judged"], &g["determined"], &g["conforming"], &g["failed"]),
        (&json!(6), &json!(6), &json!(0), &json!(0))
    );
    assert_eq!((&g["attainment"], &g["requests_per_s"]), (&json!(0.0), &json!(0.0)));
    assert_eq!(g["attainment_ci"][0], 0.0);
    assert_eq!(
        g["by_objective"],
        json!([
            {"objective": "ttft<=20ms", "met": 0, "missed": 6, "undetermined": 0},
            {"objective": "e2e<=10s", "met": 6, "missed": 0, "undetermined": 0},
        ])
    );
    assert_eq!(j["config"]["slo"], "ttft<=20ms,e2e<=10s");
    assert!(
        out.stdout.contains("  goodput     0.0 req/s · attainment 0.0% (95% CI 0.0%–"),
        "{}",
        out.context()
    );
    assert!(out.stdout.contains("ttft<=20ms  0 met · 6 missed · 0 undetermined"), "{}", out.context());
}

#[test]
fn objectives_that_hold_give_attainment_1_and_report_agrees() {
    let mock = paced_mock(5, 1, 4);
    let (out, j, rec) = run_slo("slo-meet", &mock, "ttft<=5s,tpot<=5s,itl<=5s", &[]);
    out.expect_code(0);
    let g = &j["goodput"];
    assert_eq!((&g["determined"], &g["conforming"], &g["attainment"]), (&json!(6), &json!(6), &json!(1.0)));
    assert!(g["requests_per_s"].as_f64().unwrap() > 0.0, "{}", out.context());
    assert_eq!(g["attainment_ci"][1], 1.0);
    // The records judged again, by `report --slo`, give the same numbers over their own window.
    let rebuilt = rec.with_file_name("rebuilt.json");
    let slo = "ttft<=5s,tpot<=5s,itl<=5s";
    let (report, r) = Llmload::new("report").arg(&rec).opt("--slo", slo).json_at(&rebuilt);
    report.expect_code(0);
    let strip = |v: &Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("requests_per_s");
        v
    };
    assert_eq!(strip(&r["goodput"]), strip(g), "{}", report.context());
    // Without --slo a report has no goodput.
    let (plain, r) = Llmload::new("report").arg(&rec).json_at(&rebuilt);
    plain.expect_code(0);
    assert_eq!(r["goodput"], Value::Null);
}

#[test]
fn report_slo_judges_a_failing_run_as_the_live_run_did() {
    let mock = fast_mock(3, &["http-500:0.5"]);
    let slo = "ttft<=10s,tpot<=10s";
    let (out, j, rec) = run_slo("slo-report", &mock, slo, &[]);
    out.expect_code(0);
    let failed = j["requests"]["failed"].clone();
    assert_eq!(j["goodput"]["failed"], failed);
    assert_eq!(j["goodput"]["judged"], 6);
    let rebuilt = rec.with_file_name("rebuilt.json");
    let (report, r) = Llmload::new("report").arg(&rec).opt("--slo", slo).json_at(&rebuilt);
    report.expect_code(0);
    for key in ["attainment", "attainment_ci", "judged", "determined", "conforming", "failed", "by_objective"]
    {
        assert_eq!(r["goodput"][key], j["goodput"][key], "{key}{}", report.context());
    }
}

#[test]
fn a_malformed_slo_exits_2_before_any_request() {
    let mock = fast_mock(3, &[]);
    for (slo, says) in [
        (
            "ttfx<=5ms",
            "unknown metric \"ttfx\" in \"ttfx<=5ms\": use one of ttft, tpot, e2e, itl, ttft_sched, e2e_sched",
        ),
        ("ttft<=500", "the time 500 in \"ttft<=500\" has no unit: write 500ms or 500s"),
        ("ttft<=5ms,tpot5ms", "\"tpot5ms\" has no comparison"),
    ] {
        let out = Llmload::run(&mock).args("--api openai-chat -n 1 --quiet").opt("--slo", slo).output();
        out.expect_code(2);
        assert!(
            out.stderr.contains(&format!("error: --slo {slo:?} is invalid: {says}")),
            "{}",
            out.context()
        );
    }
    assert_eq!(truth(&mock).requests, 0, "a bad --slo sends nothing");
    let out = llmload(&["report", "nothing.jsonl", "--slo", "e2e>1s"]);
    out.expect_code(2);
    assert!(out.stderr.contains("an objective is an upper bound: use <= or <"), "{}", out.context());
}

#[test]
fn an_attainment_threshold_fails_with_exit_1() {
    let mock = paced_mock(60, 1, 4);
    let (out, j, _) = run_slo(
        "slo-gate",
        &mock,
        "ttft<=20ms",
        &["--threshold", "attainment>=0.9", "--threshold", "goodput>=0"],
    );
    out.expect_code(1);
    assert!(out.stderr.contains("threshold failed: attainment>=0.9 (actual 0.00%)"), "{}", out.context());
    let t = &j["thresholds"];
    assert_eq!((&t[0]["actual"], &t[0]["pass"], &t[1]["pass"]), (&json!(0.0), &json!(false), &json!(true)));
}

#[test]
fn vllm_request_goodput_is_the_goodput() {
    let mock = paced_mock(5, 1, 3);
    let vllm = Dir::new("slo-vllm").path("vllm.json");
    let (out, j, _) = run_slo("slo-vllm", &mock, "e2e<=10s", &["--vllm-json", vllm.to_str().unwrap()]);
    out.expect_code(0);
    let v = read_json(&vllm, &out);
    assert_eq!(v["request_goodput"], j["goodput"]["requests_per_s"]);
    assert_eq!(v["request_goodput"], j["throughput"]["requests_per_s"], "every request met e2e<=10s");
}
