//! `run --repeat N`: the same test N times, one summary of every run's requests with each
//! headline number's spread across the runs; each run's records under its own run id, one CSV
//! header; `report` rebuilds the same from the records; the flags' mistakes refused.

use crate::util::*;

#[test]
fn a_repeated_run_pools_its_runs_and_gives_each_numbers_spread() {
    let mock = paced_mock(10, 1, 4);
    let dir = Dir::new("repeat");
    let csv = dir.path("rec.csv");
    let (out, j, recs) = Llmload::run(&mock)
        .args("--api openai-chat -c 2 -n 6 --repeat 3 --repeat-pause 50ms --run-id rep-test")
        .opt("--csv", &csv)
        .opt("--html", dir.path("report.html"))
        .logged(&dir);
    out.expect_code(0);
    assert_eq!((j["requests"]["total"].as_u64(), j["requests"]["ok"].as_u64()), (Some(18), Some(18)));
    let r = &j["repeats"];
    assert_eq!(r["runs"], 3, "{}", out.context());
    let metrics = r["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), 11);
    let rps = &metrics[0];
    assert_eq!(rps["metric"], "requests_per_s");
    assert_eq!(rps["values"].as_array().map(Vec::len), Some(3));
    let [lo, hi] = [rps["ci95"][0].as_f64().unwrap(), rps["ci95"][1].as_f64().unwrap()];
    assert!(lo <= rps["mean"].as_f64().unwrap() && rps["mean"].as_f64().unwrap() <= hi, "{rps}");
    assert_eq!(metrics[2]["values"], serde_json::json!([1.0, 1.0, 1.0]), "success_rate");
    // Each run under its own run id, six records each; one CSV header over all their rows.
    let ids = count_by(&recs, "run_id");
    let want: std::collections::BTreeMap<String, usize> =
        (1..=3).map(|k| (format!("rep-test:rep{k}"), 6)).collect();
    assert_eq!(ids, want);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 19, "a header and 18 rows");
    assert_eq!(text.lines().filter(|l| l.starts_with("worker,")).count(), 1);
    assert!(out.stdout.contains("repeats: 3 runs"), "{}", out.stdout);
    assert!(out.stderr.contains("run 3 of 3"), "{}", out.stderr);
    let page = std::fs::read_to_string(dir.path("report.html")).unwrap();
    assert!(page.contains("<section id=\"repeats\">") && page.contains(">run 3</th>"), "the report's table");
    // `report` rebuilds the pooled summary and the spread from the records.
    let rebuilt = dir.path("rebuilt.json");
    let rep =
        llmload(&["report", dir.path(Dir::RECORDS).to_str().unwrap(), "--json", rebuilt.to_str().unwrap()]);
    rep.expect_code(0);
    let b = read_json(&rebuilt, &rep);
    assert_eq!(b["requests"]["total"], 18, "{}", rep.context());
    assert_eq!(b["repeats"]["runs"], 3);
    for (live, again) in metrics.iter().zip(b["repeats"]["metrics"].as_array().unwrap()) {
        assert_eq!(live["metric"], again["metric"]);
        // Each run's percentiles again, within the histograms' 0.1 % (records keep times to the
        // microsecond, and a value at a bucket's edge may fall on its other side).
        if live["metric"].as_str().unwrap().ends_with("_ms") {
            let (a, b) = (live["values"].as_array().unwrap(), again["values"].as_array().unwrap());
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(b) {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                assert!((x - y).abs() <= x.abs() * 0.002 + 0.002, "{live} {again}");
            }
        }
    }
}

#[test]
fn repeat_flags_are_checked_before_any_request() {
    let mock = fast_mock(4, &[]);
    for (args, said) in [
        ("--repeat 0", "give a count from 1 to 1000"),
        ("--repeat-pause 1s", "give --repeat N (N > 1) too"),
        ("--repeat 2 --start-at +1s", "--repeat and --start-at"),
    ] {
        let out = Llmload::run(&mock).args("-n 1").args(args).output();
        out.expect_code(2);
        assert!(out.stderr.contains(said), "{args}: {}", out.stderr);
    }
    let out = Llmload::new("sweep")
        .url(&mock)
        .args("-c 1 --find concurrency --slo ttft<=1s -n 2 --repeat 2")
        .output();
    out.expect_code(2);
    assert!(out.stderr.contains("--repeat repeats a level"), "{}", out.stderr);
    assert_eq!(truth(&mock).requests, 0);
}

#[test]
fn a_sweep_repeats_each_level_and_report_and_compare_read_it_back() {
    let mock = paced_mock(10, 1, 4);
    let dir = Dir::new("repeat-sweep");
    let (json, records) = (dir.path("sweep.json"), dir.path("sweep.jsonl"));
    let out = Llmload::new("sweep")
        .url(&mock)
        .args("--api openai-chat -c 1,2 -n 6 --repeat 2")
        .opt("--json", &json)
        .opt("--records", &records)
        .output();
    out.expect_code(0);
    let s = read_json(&json, &out);
    for level in s["levels"].as_array().unwrap() {
        assert_eq!(level["summary"]["requests"]["total"], 12, "{level}");
        assert_eq!(level["summary"]["repeats"]["runs"], 2, "{level}");
    }
    let ids = count_by(&read_records(&records, &out), "run_id");
    assert_eq!(ids.len(), 4, "two runs a level: {ids:?}");
    assert!(ids.keys().all(|id| id.ends_with(":rep1") || id.ends_with(":rep2")), "{ids:?}");
    let rebuilt = dir.path("rebuilt.json");
    let rep = llmload(&["report", records.to_str().unwrap(), "--json", rebuilt.to_str().unwrap()]);
    rep.expect_code(0);
    let r = read_json(&rebuilt, &rep);
    for level in r["levels"].as_array().unwrap() {
        assert_eq!(level["summary"]["requests"]["total"], 12, "{level}");
        assert_eq!(level["summary"]["repeats"]["runs"], 2, "{level}");
    }
    let path = records.to_str().unwrap();
    let cmp = llmload(&["compare", path, path, "--level", "c2"]);
    cmp.expect_code(0);
    assert!(cmp.stdout.contains("ttft    n 12 → 12"), "{}", cmp.context());
}

#[test]
fn compare_takes_each_run_of_a_repeated_records_file_as_a_run() {
    let mock = paced_mock(10, 1, 4);
    let dir = Dir::new("repeat-compare");
    let (base, new) = (dir.path("base.jsonl"), dir.path("new.jsonl"));
    Llmload::run(&mock)
        .args("--api openai-chat -c 2 -n 20 -q")
        .opt("--records", &base)
        .output()
        .expect_code(0);
    Llmload::run(&mock)
        .args("--api openai-chat -c 2 -n 20 -q --repeat 2")
        .opt("--records", &new)
        .output()
        .expect_code(0);
    let out = llmload(&["compare", base.to_str().unwrap(), new.to_str().unwrap()]);
    out.expect_code(0);
    assert!(out.stdout.contains("ttft    n 20 → 40"), "the two runs pooled: {}", out.context());
}
