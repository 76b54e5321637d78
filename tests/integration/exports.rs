//! `--csv` and `--vllm-json`: the CSV has a header and one row per record, each cell the
//! record's value (quoted where it must be), live and rebuilt alike; the vLLM keys hold the JSON
//! summary's own numbers.

use crate::util::*;
use serde_json::Value;

/// RFC 4180 rows: quoted cells may hold commas, doubled quotes and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(!quoted && cell.is_empty() && row.is_empty(), "the CSV ends with a complete row");
    rows
}

/// A record's value as its CSV cell reads.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every row of `csv` is the record in the same place, key by key.
fn assert_rows_are_records(csv: &str, records: &[Value], what: &str) {
    let rows = parse_csv(csv);
    assert_eq!(rows.len(), records.len() + 1, "{what}: a header and one row a record");
    let keys: Vec<&String> = records[0].as_object().unwrap().keys().collect();
    let mut header = rows[0].clone();
    header.sort();
    let mut sorted: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    sorted.sort();
    assert_eq!(header, sorted, "{what}: the header is the records' keys");
    assert_eq!(&rows[0][..3], ["worker", "prompt_index", "key_index"], "{what}: in the records' order");
    for (row, rec) in rows[1..].iter().zip(records) {
        for (name, got) in rows[0].iter().zip(row) {
            assert_eq!(got, &cell(&rec[name]), "{what}: {name}");
        }
    }
}

#[test]
fn csv_rows_are_the_records_live_and_rebuilt() {
    // Lists of gaps (commas), warnings (quotes) and failures (empty cells) in one file.
    let mock = fast_mock(5, &["http-500:0.25", "malformed:0.25"]);
    let dir = Dir::new("csv");
    let (csv, rec_path) = (dir.path("run.csv"), dir.path(Dir::RECORDS));
    let out = Llmload::run(&mock).args("-c 2 -n 12 --quiet --csv").arg(&csv).records_in(&dir).output();
    out.expect_code(0);
    let records = dir.records(&out);
    assert_eq!(records.len(), 12, "{}", out.context());
    assert!(records.iter().any(|r| r["warnings"].as_array().is_some_and(|w| !w.is_empty())), "a quoted list");
    assert!(records.iter().any(|r| r["error"].is_string()), "an error message");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_rows_are_records(&text, &records, "run --csv");

    let rebuilt = dir.join("report.csv");
    let report = llmload(&["report", rec_path.to_str().unwrap(), "--csv", rebuilt.to_str().unwrap()]);
    report.expect_code(0);
    assert_eq!(
        std::fs::read_to_string(&rebuilt).unwrap(),
        text,
        "report --csv writes the same rows{}",
        report.context()
    );
}

#[test]
fn an_unwritable_csv_path_is_refused_before_the_run() {
    let mock = fast_mock(3, &[]);
    let out = Llmload::run(&mock).args("-n 2 --csv /nonexistent-dir/x.csv").output();
    out.expect_code(2);
    assert!(out.stderr.contains("--csv /nonexistent-dir/x.csv: cannot create it"), "{}", out.context());
    let out = Llmload::run(&mock).args("-n 2 --csv same.out --vllm-json same.out").output();
    out.expect_code(2);
    assert!(out.stderr.contains("--csv and --vllm-json name the same file (same.out)"), "{}", out.context());
    assert_eq!(truth(&mock).requests, 0);
}

#[test]
fn vllm_keys_hold_the_summarys_numbers() {
    let mock = fast_mock(6, &["http-500:0.2"]);
    let dir = Dir::new("vllm");
    let vllm = dir.path("vllm.json");
    let (out, s) = Llmload::run(&mock)
        .args("--api openai-chat --model m -c 2 -n 10 --quiet --vllm-json")
        .arg(&vllm)
        .json(&dir);
    out.expect_code(0);
    let v = read_json(&vllm, &out);
    let same = [
        ("completed", &s["requests"]["ok"]),
        ("failed", &s["requests"]["failed"]),
        ("num_prompts", &s["requests"]["total"]),
        ("total_input_tokens", &s["tokens"]["input_total"]),
        ("total_output_tokens", &s["tokens"]["output_total"]),
        ("request_throughput", &s["throughput"]["requests_per_s"]),
        ("output_throughput", &s["throughput"]["output_tokens_per_s"]),
        ("duration", &s["window_s"]),
        ("max_concurrency", &s["config"]["concurrency"]),
        ("model_id", &s["config"]["model"]),
    ];
    for (key, want) in same {
        assert_eq!(&v[key], want, "{key}{}", out.context());
    }
    assert_eq!((v["completed"].as_u64(), v["failed"].as_u64()), (Some(8), Some(2)));
    for (x, metric) in [("ttft", "ttft_ms"), ("tpot", "tpot_ms"), ("itl", "itl_ms"), ("e2el", "e2e_ms")] {
        for (stat, ours) in [("mean", "mean"), ("median", "p50"), ("p99", "p99")] {
            assert_eq!(v[format!("{stat}_{x}_ms")], s["metrics"][metric][ours], "{stat}_{x}_ms");
        }
        let std = v[format!("std_{x}_ms")].as_f64().unwrap();
        let (min, max) =
            (s["metrics"][metric]["min"].as_f64().unwrap(), s["metrics"][metric]["max"].as_f64().unwrap());
        assert!(std >= 0.0 && std <= max - min, "std_{x}_ms {std} within the range {min}..{max}");
    }
    let tokens = s["tokens"]["input_total"].as_f64().unwrap() + s["tokens"]["output_total"].as_f64().unwrap();
    let total = tokens / s["window_s"].as_f64().unwrap();
    // From the unrounded window: within the rounding of window_s.
    assert!((v["total_token_throughput"].as_f64().unwrap() - total).abs() < 1e-3 * total, "{v}");
    assert_eq!((&v["request_rate"], &v["request_goodput"]), (&Value::from("inf"), &Value::Null));
}
