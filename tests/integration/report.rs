//! `llmload report`: a run's records rebuild the same summary and JSON as the live run, several
//! files merge, and a run killed with SIGKILL keeps every finished request.

use crate::util::*;
use serde_json::Value;

fn live_run(dir: &std::path::Path, faults: &[&str]) -> (Value, std::path::PathBuf) {
    live_run_of(dir, "openai-chat", faults)
}

/// A run of 24 requests against `api`, its JSON summary, and its records file.
fn live_run_of(dir: &std::path::Path, api: &str, faults: &[&str]) -> (Value, std::path::PathBuf) {
    let mock = fast_mock(8, faults);
    let (json_path, rec_path) = (dir.join(format!("live-{api}.json")), dir.join(format!("rec-{api}.jsonl")));
    let out = Llmload::run(&mock)
        .opt("--api", api)
        .args("-c 3 -n 24 --quiet")
        .opt("--json", &json_path)
        .opt("--records", &rec_path)
        .output();
    out.expect_code(0);
    (read_json(&json_path, &out), rec_path)
}

#[test]
fn records_rebuild_the_live_summary() {
    let dir = Dir::new("report-same");
    let (live, rec) = live_run(&dir, &["http-500:0.125", "malformed:0.25"]);
    let (out, rebuilt) = Llmload::new("report").arg(&rec).json(&dir);
    out.expect_code(0);
    assert_eq!(rebuilt["version"], live["version"]);
    for key in ["requests", "success_rate", "errors", "error_messages", "tokens"] {
        assert_eq!(rebuilt[key], live[key], "{key}{}", out.context());
    }
    // Times are recorded in whole microseconds, as statistics record them: the same histograms.
    for key in ["ttfb_ms", "ttfe_ms", "ttft_ms", "ttfa_ms", "itl_ms", "e2e_ms", "output_tokens"] {
        assert_eq!(rebuilt["metrics"][key], live["metrics"][key], "{key}");
    }
    // TPOT and decode speed derive from sums of rounded times: a neighbouring histogram bucket
    // at most (each bucket spans 0.1 %).
    for key in ["tpot_ms", "decode_tokens_per_s"] {
        assert_eq!(rebuilt["metrics"][key]["count"], live["metrics"][key]["count"], "{key}");
        for p in ["mean", "p50", "p99"] {
            let (a, b) =
                (rebuilt["metrics"][key][p].as_f64().unwrap(), live["metrics"][key][p].as_f64().unwrap());
            assert!((a - b).abs() <= 3e-3 * b, "{key}.{p}: {a} vs {b}");
        }
    }
    assert_eq!(rebuilt["config"]["source"][0], rec.to_str().unwrap());
    // The records name the run's API and URL; the client's own usage they never had.
    let live_url = live["config"]["url"].as_str().unwrap();
    assert_eq!(
        (&rebuilt["config"]["api"], rebuilt["config"]["url"].as_str()),
        (&live["config"]["api"], Some(live_url))
    );
    assert!(
        rebuilt["client"]["cpu_s"].is_null() && rebuilt["client"]["peak_rss_mb"].is_null(),
        "{rebuilt:#}"
    );
    // Of the client's lags they keep each request's largest read lag: the clock and the largest
    // of all rebuild, one value a request; the send lag is not kept.
    let (l, r) = (&live["client"], &rebuilt["client"]);
    assert_eq!(r["clock"], l["clock"], "{rebuilt:#}");
    if l["clock"] == "kernel" {
        assert_eq!(
            (&r["read_lag_ms"]["count"], &r["read_lag_ms"]["max"]),
            (&serde_json::json!(24), &l["read_lag_ms"]["max"])
        );
    }
    assert!(r["send_lag_ms"].is_null() && l["send_lag_ms"]["count"] == 24, "{rebuilt:#}");
    let title = format!("llmload summary · openai-chat · {live_url} · rebuilt from {}", rec.display());
    assert!(out.stdout.contains(&title), "{title}{}", out.context());
    assert!(out.stdout.contains("  client      not recorded (rebuilt from records)\n"), "{}", out.context());
    assert!(out.stdout.contains("24 total · 21 ok · 3 failed"), "{}", out.context());
    assert_eq!(rebuilt["warnings"], live["warnings"], "{}", out.context());
}

#[test]
fn records_of_different_runs_say_so_and_keep_the_first() {
    let dir = Dir::new("report-disagree");
    let (openai, openai_rec) = live_run_of(&dir, "openai-chat", &[]);
    let (_, dify_rec) = live_run_of(&dir, "dify-chat", &[]);
    // Two runs' records, each with its own run id, are refused outright.
    let refused = Llmload::new("report").arg(&openai_rec).arg(&dify_rec).output();
    refused.expect_code(2);
    assert!(refused.stderr.contains("the records come from different runs: "), "{}", refused.context());
    // Records written before they carried a run id can only be told apart by API and URL.
    for rec in [&openai_rec, &dify_rec] {
        let text = std::fs::read_to_string(rec).unwrap();
        let old: String = text
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("run_id");
                format!("{v}\n")
            })
            .collect();
        std::fs::write(rec, old).unwrap();
    }
    let (out, j) = Llmload::new("report").arg(&openai_rec).arg(&dify_rec).json(&dir);
    out.expect_code(0);
    assert_eq!(
        (&j["config"]["api"], &j["config"]["url"]),
        (&openai["config"]["api"], &openai["config"]["url"])
    );
    let warnings = j["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{}", out.context());
    let w = warnings[0].as_str().unwrap();
    assert!(
        w.starts_with("the records come from different runs (")
            && w.contains(&format!(
                "{}: openai-chat at {}",
                openai_rec.display(),
                openai["config"]["url"].as_str().unwrap()
            ))
            && w.contains(&format!("{}: dify-chat at http://", dify_rec.display()))
            && w.ends_with(
                "the summary header names the first; report each run's records on their own to compare them"
            ),
        "{w}"
    );
    assert!(out.stdout.contains(&format!("\nwarning: {w}\n")), "{}", out.context());
    assert_eq!(j["requests"]["total"], 48);
}

#[test]
fn several_files_merge_into_one_summary() {
    let dir = Dir::new("report-merge");
    let (live, rec) = live_run(&dir, &["http-500:0.125"]);
    let (out, merged) = Llmload::new("report").arg(&rec).arg(&rec).json(&dir);
    out.expect_code(0);
    assert_eq!(merged["requests"]["total"], 48);
    assert_eq!(merged["errors"]["http_500"], 2 * live["errors"]["http_500"].as_u64().unwrap());
    assert_eq!(
        merged["metrics"]["itl_ms"]["count"],
        2 * live["metrics"]["itl_ms"]["count"].as_u64().unwrap()
    );
    assert_eq!(merged["metrics"]["ttft_ms"]["p50"], live["metrics"]["ttft_ms"]["p50"]);
}

#[test]
fn report_input_errors_name_the_file() {
    let dir = Dir::new("report-bad");
    let out = llmload(&["report"]);
    out.expect_code(2);
    assert!(out.stderr.contains("report needs at least one records file"), "{}", out.context());
    let missing = dir.join("missing.jsonl");
    let out = Llmload::new("report").arg(missing).output();
    out.expect_code(2);
    assert!(out.stderr.contains("missing.jsonl: file not found"), "{}", out.context());
    let bad = dir.create("bad.jsonl", "{\"hello\":1}\n");
    let out = Llmload::new("report").arg(bad).output();
    out.expect_code(2);
    assert!(out.stderr.contains("bad.jsonl: line 1 is not an llmload record"), "{}", out.context());
    let empty = dir.create("empty.jsonl", "");
    let out = Llmload::new("report").arg(empty).output();
    out.expect_code(2);
    assert!(out.stderr.contains("hold no records"), "{}", out.context());
}

#[test]
fn a_run_killed_with_sigkill_keeps_its_records_and_report_rebuilds_them() {
    let mock = paced_mock(5, 5, 10);
    let dir = Dir::new("sigkill");
    let mut child = Llmload::run(&mock)
        .args("-c 4 -d 60s --quiet")
        .records_in(&dir)
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().unwrap(); // SIGKILL: no handler runs
    child.wait().unwrap();
    let completed = truth(&mock).completed;
    let (out, j) = Llmload::new("report").arg(dir.path(Dir::RECORDS)).json(&dir);
    out.expect_code(0);
    // Every stream the mock finished was read to its end by llmload, so at most the 4
    // in flight at the kill are missing (those the client read but had not yet written).
    let ok = j["requests"]["ok"].as_u64().unwrap();
    assert!(ok >= 8 && ok <= completed && completed - ok <= 4, "ok {ok}, mock completed {completed}");
    assert_eq!(j["requests"]["failed"], 0);
}
