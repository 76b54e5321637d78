//! `--percentiles`: the percentiles asked for replace the standard four in every distribution of
//! the JSON (in order, nothing else), the text and HTML tables, the vLLM result's extra keys,
//! thresholds on them (`ttft.p99.9`), and `report` rebuilding the same from the records; a bad
//! list, or a threshold on a percentile not reported, exits 2 before any request.

use crate::util::*;

/// The keys of the first distribution `"KEY": {...}` in the JSON text `text`, in the order
/// written (a parsed `Value` sorts them).
fn keys_in_order(text: &str, key: &str) -> Vec<String> {
    let text: String = text.split_whitespace().collect();
    let start = text.find(&format!("\"{key}\":{{")).unwrap_or_else(|| panic!("no {key} in {text}"));
    let body = &text[start + key.len() + 4..];
    let body = &body[..body.find('}').unwrap()];
    body.split(',').map(|kv| kv.split_once(':').unwrap().0.trim_matches('"').to_string()).collect()
}

#[test]
fn asked_percentiles_replace_the_four_everywhere() {
    let mock = paced_mock(20, 2, 8);
    let dir = Dir::new("pct-asked");
    let (html, vllm) = (dir.path("report.html"), dir.path("vllm.json"));
    let out = Llmload::run(&mock)
        .args("--api openai-chat -c 2 -n 8 --percentiles 99.90,50 --threshold ttft.p99.9<10s")
        .opt("--html", &html)
        .opt("--vllm-json", &vllm)
        .json_in(&dir)
        .records_in(&dir)
        .output();
    out.expect_code(0);
    let text = std::fs::read_to_string(dir.path(Dir::JSON)).unwrap();
    let j = dir.json(&out);
    let dist = ["count", "mean", "min", "p50", "p99.9", "max"];
    for metric in ["ttft_ms", "e2e_ms", "itl_ms", "output_tokens"] {
        assert_eq!(keys_in_order(&text, metric), dist, "metrics.{metric}{}", out.context());
    }
    assert_eq!(keys_in_order(&text, "read_lag_ms"), dist, "the client's lags too");
    assert_eq!(j["config"]["percentiles"], serde_json::json!([50.0, 99.9]));
    let ttft = &j["metrics"]["ttft_ms"];
    assert!(ttft["p50"].as_f64() <= ttft["p99.9"].as_f64() && ttft["p99.9"].as_f64() <= ttft["max"].as_f64());
    // The threshold reads the JSON's own p99.9.
    assert_eq!(j["thresholds"][0]["actual"], ttft["p99.9"], "{}", out.context());
    assert_eq!(j["thresholds"][0]["pass"], true);

    // The text table's header: the percentiles asked for, no p95.
    let header = out.stdout.lines().find(|l| l.trim_start().starts_with("metric")).unwrap_or_default();
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(columns, ["metric", "count", "mean", "min", "p50", "p99.9", "max"], "{}", out.context());

    // The HTML distribution table, and vLLM's key for the 99.9th beside its own four.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<th>p50</th><th>p99.9</th><th>max</th>") && !page.contains("<th>p95</th>"));
    let v = std::fs::read_to_string(&vllm).unwrap();
    for key in ["\"p99_ttft_ms\"", "\"median_ttft_ms\"", "\"p99.9_ttft_ms\"", "\"p50_e2el_ms\""] {
        assert!(v.contains(key), "{key} in {v}");
    }

    // `report` over the records rebuilds the same keys.
    let (rep, rebuilt) = Llmload::new("report")
        .arg(dir.path(Dir::RECORDS))
        .args("--percentiles 50,99.9 --threshold ttft.p99.9<10s")
        .json_at(&dir.path("rebuilt.json"));
    rep.expect_code(0);
    let rebuilt_text = std::fs::read_to_string(dir.path("rebuilt.json")).unwrap();
    assert_eq!(keys_in_order(&rebuilt_text, "ttft_ms"), dist, "{}", rep.context());
    assert_eq!(rebuilt["config"]["percentiles"], serde_json::json!([50.0, 99.9]));
    assert_eq!(rebuilt["metrics"]["ttft_ms"]["count"], ttft["count"]);
    assert_eq!(rebuilt["thresholds"][0]["pass"], true);
}

#[test]
fn a_threshold_on_an_asked_percentile_fails_with_exit_1() {
    let mock = paced_mock(20, 2, 8);
    let (out, j) = Llmload::run(&mock)
        .args("--api openai-chat -c 1 -n 3 -q --percentiles 50,99.9 --threshold ttft.p99.9<1ms")
        .json(&Dir::new("pct-fail"));
    out.expect_code(1);
    assert!(out.stderr.contains("threshold failed: ttft.p99.9<1ms (actual "), "{}", out.context());
    assert_eq!(j["thresholds"][0]["actual"], j["metrics"]["ttft_ms"]["p99.9"]);
    assert_eq!(j["thresholds"][0]["pass"], false);
}

#[test]
fn bad_percentiles_exit_2_naming_the_flag_and_the_fix() {
    let mock = fast_mock(4, &[]);
    for (args, says) in [
        (
            "--percentiles 50,100",
            "--percentiles \"50,100\" is invalid: 100 is not between 0 and 100 (both excluded)",
        ),
        ("--percentiles 50,x", "--percentiles \"50,x\" is invalid: \"x\" is not a number"),
        ("--percentiles 1,2,3,4,5,6,7,8,9,10,11", "it asks for 11 percentiles: give at most 10"),
        (
            "--threshold ttft.p99.9<2s",
            "--threshold \"ttft.p99.9<2s\" is invalid: ttft.p99.9 is not reported (the percentiles are 50,90,95,99): give --percentiles 50,90,95,99,99.9",
        ),
        (
            "--percentiles 50,99.9 --threshold ttft.p95<2s",
            "ttft.p95 is not reported (the percentiles are 50,99.9): give --percentiles 50,95,99.9",
        ),
    ] {
        let out = Llmload::run(&mock).args("-n 3").args(args).output();
        out.expect_code(2);
        assert!(out.stderr.contains(says), "{args}{}", out.context());
        assert_eq!(truth(&mock).requests, 0, "{args}: refused before any request");
    }
    let out = llmload(&["report", "nothing.jsonl", "--percentiles", "99.9,0"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("--percentiles \"99.9,0\" is invalid: 0 is not between"),
        "{}",
        out.context()
    );
}
