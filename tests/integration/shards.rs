//! One run over several processes: `--shard`/`--shards` bad input (exit 2, nothing sent), the
//! records' shard keys, `report` refusing other runs and naming a missing shard, and four shards
//! on loopback opening their start gates at one `--start-at` instant.

use crate::util::*;
use serde_json::Value;
use std::process::{Command, Stdio};

fn refused(args: &[&str], env: &[(&str, &str)], expected: &str) {
    let mock = fast_mock(2, &[]);
    let u = url(&mock);
    let mut full = vec!["run", "--url", u.as_str()];
    full.extend_from_slice(args);
    let out = llmload_env(&full, env);
    out.expect_code(2);
    assert!(out.stderr.contains(expected), "stderr lacks {expected:?}{}", out.context());
    assert_eq!(truth(&mock).requests, 0, "a fatal error must come before any request{}", out.context());
}

#[test]
fn bad_shards_and_start_instants_are_refused_before_any_request() {
    refused(&["-c", "8", "--shard", "4/4"], &[], "--shard \"4/4\" is invalid: shard indexes are 0-based");
    refused(
        &["-c", "8", "--shard", "1/0"],
        &[],
        "--shard \"1/0\" is invalid: the shard count must be at least 1",
    );
    refused(&["-c", "2", "--shard", "0/4"], &[], "--concurrency 2 is smaller than the shard count 4");
    refused(&["-c", "8", "-n", "3", "--shard", "0/4"], &[], "--requests 3 is smaller than the shard count 4");
    refused(&["-c", "8", "--shards", "4"], &[], "which is not set: set it to 0 … 3, or give --shard INDEX/4");
    refused(
        &["-c", "8", "--shards", "4"],
        &[("JOB_COMPLETION_INDEX", "4")],
        "JOB_COMPLETION_INDEX=\"4\" is not a shard index",
    );
    refused(&["-c", "8", "--shard", "0/4", "--shards", "4"], &[], "not both");
    refused(&["--start-at", "2001-01-01T00:00:00Z"], &[], "s in the past (now is ");
    refused(&["--start-at", "noon"], &[], "--start-at \"noon\" is invalid: give an RFC 3339 instant");
}

#[test]
fn a_shard_sends_its_part_and_stamps_its_records() {
    let mock = fast_mock(3, &[]);
    let dir = tempdir("shard-part");
    let prompts = dir.join("p.txt");
    std::fs::write(&prompts, "a\nb\nc\nd\n").unwrap();
    let before = wall_ms();
    let (out, json, records) = run_logged(
        "shard-part-run",
        &["run", "--url", &url(&mock), "-c", "3", "-n", "5", "--shard", "1/2", "--run-id", "t-1", "-q"],
    );
    out.expect_code(0);
    // -c 3 -n 5 over 2 shards: shard 1 has 1 worker and 2 requests, from prompt 2 of 4 on.
    let (json_p, recs_p) = {
        let p = prompts.to_str().unwrap();
        let (out, json, records) = run_logged(
            "shard-part-prompts",
            &["run", "--url", &url(&mock), "-c", "3", "-n", "5", "--shard", "1/2", "--param-file", p, "-q"],
        );
        out.expect_code(0);
        (json, records)
    };
    assert_eq!((records.len(), json["config"]["concurrency"].as_u64()), (2, Some(1)), "{}", out.context());
    assert_eq!(
        (&json["config"]["shard"], &json["config"]["run_id"]),
        (&Value::from("1/2"), &Value::from("t-1"))
    );
    for r in &records {
        assert_eq!(
            (&r["shard"], &r["run_id"], &r["worker"]),
            (&Value::from("1/2"), &Value::from("t-1"), &Value::from(0))
        );
        let at = r["start_unix_ms"].as_f64().unwrap();
        assert!(at >= before && at <= wall_ms(), "start_unix_ms {at} is not during the run{}", out.context());
    }
    let mut prompt_indexes: Vec<u64> = recs_p.iter().map(|r| r["prompt_index"].as_u64().unwrap()).collect();
    prompt_indexes.sort();
    assert_eq!(prompt_indexes, [2, 3]);
    assert_eq!(json_p["config"]["run_id"].as_str().map(str::len), Some(16), "random without --run-id");
}

#[test]
fn report_refuses_other_runs_and_names_a_missing_shard() {
    let mock = fast_mock(2, &[]);
    let dir = tempdir("shard-report");
    let file = |name: &str| dir.join(name).to_str().unwrap().to_string();
    for (shard, id, name) in [("0/3", "r", "a.jsonl"), ("2/3", "r", "b.jsonl"), ("1/3", "other", "c.jsonl")] {
        let rec = file(name);
        let args = ["run", "--url", &url(&mock), "-c", "3", "-n", "3", "--shard", shard, "--run-id", id];
        llmload(&[&args[..], &["-q", "--records", &rec]].concat()).expect_code(0);
    }
    let (a, b, c) = (file("a.jsonl"), file("b.jsonl"), file("c.jsonl"));
    let out = llmload(&["report", &a, &b]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("shard 1/3 of the run is missing: the totals cover 2 of 3 shards"),
        "{}",
        out.context()
    );
    let out = llmload(&["report", &a, &c]);
    out.expect_code(2);
    let expected = format!("the records come from different runs: {a} has run_id r, {c} has run_id other");
    assert!(out.stderr.contains(&expected), "{}", out.context());
}

/// Now by the wall clock, ms since the epoch.
fn wall_ms() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() as f64 / 1e3
}

#[test]
fn four_shards_start_together_and_report_as_one_run() {
    let mock = fast_mock(4, &[]);
    let dir = tempdir("four-shards");
    // One instant for all four, 2 s ahead: every process is set up and waiting before it.
    let start =
        chrono::DateTime::from_timestamp_millis(chrono::Utc::now().timestamp_millis() + 2_000).unwrap();
    let start_at = start.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let files: Vec<String> =
        (0..4).map(|i| dir.join(format!("shard-{i}.jsonl")).to_str().unwrap().into()).collect();
    let children: Vec<_> = (0..4)
        .map(|i| {
            let shard = format!("{i}/4");
            let args = [
                "run",
                "--url",
                &url(&mock),
                "-c",
                "8",
                "-n",
                "32",
                "--shard",
                &shard,
                "--start-at",
                &start_at,
                "-q",
            ];
            Command::new(env!("CARGO_BIN_EXE_llmload"))
                .args(args)
                .args(["--records", &files[i]])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run llmload")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let start_ms = start.timestamp_micros() as f64 / 1e3;
    let mut firsts = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let records: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(records.len(), 8, "{f}: each shard sends 32 / 4 requests");
        let run_ids: Vec<&str> = records.iter().map(|r| r["run_id"].as_str().unwrap()).collect();
        assert!(
            run_ids.iter().all(|id| *id == format!("{}-4", start.format("%Y%m%dT%H%M%S%.3fZ"))),
            "{run_ids:?}"
        );
        let first = records.iter().map(|r| r["start_unix_ms"].as_f64().unwrap()).fold(f64::MAX, f64::min);
        assert!(first >= start_ms, "{f} started {:.3} ms before --start-at", start_ms - first);
        firsts.push(first);
    }
    let spread =
        firsts.iter().cloned().fold(f64::MIN, f64::max) - firsts.iter().cloned().fold(f64::MAX, f64::min);
    let late = firsts.iter().cloned().fold(f64::MIN, f64::max) - start_ms;
    eprintln!("four shards: first requests {spread:.3} ms apart, the last {late:.3} ms after --start-at");
    assert!(spread < 1_000.0, "shards started {spread} ms apart");
    let json = dir.join("all.json");
    let mut args = vec!["report".to_string()];
    args.extend(files.iter().cloned());
    args.extend(["--json".into(), json.to_str().unwrap().into()]);
    let out = llmload(&args.iter().map(String::as_str).collect::<Vec<_>>());
    out.expect_code(0);
    let summary = read_json(&json, &out);
    assert_eq!(summary["requests"]["total"], 32, "{}", out.context());
    assert!(!out.stderr.contains("missing"), "{}", out.context());
}
