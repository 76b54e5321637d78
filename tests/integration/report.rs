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
    for key in ["requests", "success_rate", "errors", "error_messages"] {
        assert_eq!(rebuilt[key], live[key], "{key}{}", out.context());
    }
    assert_eq!(rebuilt["tokens"], live["tokens"], "{}", out.context());
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

/// `llmload sweep --url MOCK ARGS -n 6 -q --json --records` in `dir`: its output, the sweep's
/// JSON and the records file.
fn recorded_sweep(
    dir: &std::path::Path,
    mock: &llmload::mock::MockHandle,
    levels: &[&str],
) -> (Output, Value, std::path::PathBuf) {
    let (json, rec) = (dir.join("sweep.json"), dir.join("sweep.jsonl"));
    let u = url(mock);
    let mut args = vec!["sweep", "--url", &u, "--api", "openai-chat", "-n", "6", "-q"];
    args.extend_from_slice(levels);
    args.extend_from_slice(&["--json", json.to_str().unwrap(), "--records", rec.to_str().unwrap()]);
    let out = llmload(&args);
    out.expect_code(0);
    let doc = read_json(&json, &out);
    (out, doc, rec)
}

/// A sweep JSON's level labels, in order.
fn labels(doc: &Value) -> Vec<&str> {
    let levels = doc["levels"].as_array().unwrap_or_else(|| panic!("no levels: {doc:#}"));
    levels.iter().map(|l| l["label"].as_str().unwrap()).collect()
}

#[test]
fn a_sweeps_records_give_a_summary_per_level_as_the_sweep_wrote() {
    let mock = fast_mock(8, &[]);
    let dir = tempdir("report-sweep");
    let (_, live, rec) = recorded_sweep(&dir, &mock, &["--concurrency", "1,3"]);
    let rebuilt_path = dir.join("rebuilt.json");
    let out = llmload(&["report", rec.to_str().unwrap(), "--json", rebuilt_path.to_str().unwrap()]);
    out.expect_code(0);
    let rebuilt = read_json(&rebuilt_path, &out);
    // The same document: the sweep's run id, its levels in order, no capacity (a list sweep has none).
    assert_eq!(
        (&rebuilt["version"], &rebuilt["kind"], &rebuilt["run_id"], &rebuilt["capacity"]),
        (&live["version"], &live["kind"], &live["run_id"], &Value::Null),
        "{}",
        out.context()
    );
    assert_eq!(labels(&rebuilt), ["c1", "c3"], "{}", out.context());
    let (l, r) = (live["levels"].as_array().unwrap(), rebuilt["levels"].as_array().unwrap());
    for (l, r) in l.iter().zip(r) {
        assert_eq!((&r["label"], &r["level"]), (&l["label"], &l["level"]));
        // The records do not know the run's threads.
        assert_eq!(r["threads"], Value::Null);
        // Each level's requests exactly as the live sweep counted them, 6 a level.
        assert_eq!(r["summary"]["requests"], l["summary"]["requests"], "{}", l["label"]);
        assert_eq!(r["summary"]["requests"]["ok"], 6);
        assert_eq!(r["summary"]["metrics"]["ttft_ms"]["count"], l["summary"]["metrics"]["ttft_ms"]["count"]);
        assert_eq!(r["summary"]["tokens"], l["summary"]["tokens"], "{}", l["label"]);
    }
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&rebuilt), keys(&live));
    assert_eq!(keys(&r[0]), keys(&l[0]));
    // The sweep's table: its header and a row per level, in order.
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.context());
    assert!(lines[0].starts_with("level") && lines[0].ends_with("verdict"), "{}", out.context());
    assert!(lines[1].starts_with("c1 ") && lines[2].starts_with("c3 "), "{}", out.context());
    assert!(
        out.stderr.contains("the sweep sweep-") && out.stderr.contains("2 levels (c1, c3)"),
        "{}",
        out.context()
    );
}

#[test]
fn report_level_rebuilds_one_level_as_a_run() {
    let mock = fast_mock(8, &[]);
    let dir = tempdir("report-sweep-level");
    // 12.5 req/s is labelled r12.500; --level r12.5 names it.
    let (_, live, rec) = recorded_sweep(&dir, &mock, &["--rate", "12.5,25"]);
    assert_eq!(labels(&live), ["r12.500", "r25"]);
    let (one, csv) = (dir.join("one.json"), dir.join("one.csv"));
    let rec_s = rec.to_str().unwrap();
    let out = llmload(&[
        "report",
        rec_s,
        "--level",
        "r12.5",
        "--json",
        one.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    out.expect_code(0);
    assert!(out.stdout.contains("llmload summary"), "{}", out.context());
    let one = read_json(&one, &out);
    let level = &live["levels"][0]["summary"];
    assert_eq!(one["requests"], level["requests"], "{}", out.context());
    assert_eq!(one["requests"]["total"], 6);
    assert_eq!(one["metrics"]["e2e_ms"]["count"], level["metrics"]["e2e_ms"]["count"]);
    assert_eq!(one["tokens"], level["tokens"]);
    // That level's records alone: a header and 6 rows.
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 7);
    // A level the file does not hold: the levels it does.
    let out = llmload(&["report", rec_s, "--level", "c8"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("--level c8 names no level of")
            && out.stderr.contains("its levels are r12.500, r25"),
        "{}",
        out.context()
    );
    let out = llmload(&["report", rec_s, "--level", "8"]);
    out.expect_code(2);
    assert!(out.stderr.contains("give a sweep level as its label: c8"), "{}", out.context());
    // What only a run has needs a level.
    let out = llmload(&["report", rec_s, "--vllm-json", dir.join("v.json").to_str().unwrap()]);
    out.expect_code(2);
    assert!(out.stderr.contains("add --level r12.500"), "{}", out.context());
    assert!(!dir.join("v.json").exists(), "refused before anything is written");
}

#[test]
fn report_level_of_a_runs_records_is_refused() {
    let dir = tempdir("report-level-run");
    let (_, rec) = live_run(&dir, &[]);
    let out = llmload(&["report", rec.to_str().unwrap(), "--level", "c3"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("hold no sweep's") && out.stderr.contains("leave --level out"),
        "{}",
        out.context()
    );
}

#[test]
fn compare_of_sweeps_names_the_level() {
    let mock = fast_mock(8, &[]);
    let dir = tempdir("compare-sweep");
    let (_, _, rec) = recorded_sweep(&dir, &mock, &["--concurrency", "1,2"]);
    let live = dir.join("sweep.json");
    let (live_s, rec_s) = (live.to_str().unwrap(), rec.to_str().unwrap());
    // The same sweep rebuilt, with a level fewer by name: c2 only.
    let rebuilt = dir.join("rebuilt.json");
    llmload(&["report", rec_s, "--json", rebuilt.to_str().unwrap()]).expect_code(0);
    let c2 = dir.join("c2.json");
    llmload(&["report", rec_s, "--level", "c2", "--json", c2.to_str().unwrap()]).expect_code(0);
    let (rebuilt_s, c2_s) = (rebuilt.to_str().unwrap(), c2.to_str().unwrap());

    let out = llmload(&["compare", live_s, rebuilt_s]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("both are sweeps")
            && out.stderr.contains("--level c1 (in both: c1, c2)")
            && out.stdout.is_empty(),
        "{}",
        out.context()
    );
    let out = llmload(&["compare", c2_s, live_s]);
    out.expect_code(2);
    assert!(out.stderr.contains("one is a sweep") && out.stderr.contains("--level c1"), "{}", out.context());
    let out = llmload(&["compare", live_s, rebuilt_s, "--level", "c4"]);
    out.expect_code(2);
    assert!(out.stderr.contains("has no level c4: its levels are c1, c2"), "{}", out.context());
    let out = llmload(&["compare", c2_s, c2_s, "--level", "c2"]);
    out.expect_code(2);
    assert!(out.stderr.contains("are run summaries: leave --level out"), "{}", out.context());

    // A level of each sweep; the gates judge that level: the same requests, so no change in req/s.
    let out = llmload(&["compare", live_s, rebuilt_s, "--level", "c2", "--fail-if", "success_rate<-0.5pp"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("sweep.json c2 → ") && out.stdout.contains("rebuilt.json c2"),
        "{}",
        out.context()
    );
    // A gate that holds for any change is breached: exit 1.
    let out = llmload(&["compare", live_s, rebuilt_s, "--level", "c1", "--fail-if", "ttft.p50>-100%"]);
    out.expect_code(1);
    assert!(out.stderr.contains("gate breached: ttft.p50>-100%"), "{}", out.context());
    // A sweep's level against a run's summary: the run's is as it is.
    let out = llmload(&["compare", c2_s, live_s, "--level", "c2", "--fail-if", "success_rate<-0.5pp"]);
    out.expect_code(0);
    assert!(out.stdout.contains("c2.json → ") && out.stdout.contains("sweep.json c2"), "{}", out.context());
}
