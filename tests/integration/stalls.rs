//! Requests the run cuts: what they received counts (TTFT, ITL, tokens) and what the cut shortens
//! does not; those the server had left silent are `stalled`, with a warning and a threshold name.

use crate::util::*;
use serde_json::Value;
use std::time::Duration;

/// The sum of `key` over the records (a number each, or an array's length with `len`).
fn total(records: &[Value], key: &str) -> u64 {
    records.iter().map(|r| r[key].as_u64().unwrap_or_else(|| panic!("{key} in {r}"))).sum()
}

#[test]
fn a_deadline_run_of_long_answers_keeps_their_ttft_itl_and_tokens() {
    // 2,000 tokens 5 ms apart: every answer is still streaming at the 1 s deadline.
    let mock = paced_mock(5, 5, 2000);
    let dir = Dir::new("cut-long-answers");
    let (out, j, recs) = Llmload::run(&mock).args("-c 2 -d 1s --quiet").logged(&dir);
    out.expect_code(1); // nothing finished
    let r = &j["requests"];
    assert_eq!(
        (r["total"].as_u64(), r["cancelled"].as_u64(), r["stalled"].as_u64()),
        (Some(2), Some(2), Some(0))
    );
    assert!(
        recs.iter().all(|r| r["outcome"] == "cancelled" && r["ttft_ms"].is_number()),
        "{}",
        out.context()
    );
    let m = &j["metrics"];
    // What came before the cut is measured, exactly as the records hold it.
    assert_eq!(m["ttft_ms"]["count"], 2, "{}", out.context());
    assert_eq!(m["ttfb_ms"]["count"], 2, "{}", out.context());
    let gaps: usize = recs.iter().map(|r| r["itl_ms"].as_array().unwrap().len()).sum();
    assert_eq!(m["itl_ms"]["count"].as_u64(), Some(gaps as u64), "{}", out.context());
    let tokens = total(&recs, "output_tokens");
    assert!(tokens > 2, "{tokens}{}", out.context());
    assert_eq!(j["tokens"]["output_total"].as_u64(), Some(tokens), "{}", out.context());
    assert_eq!(j["tokens"]["input_total"].as_u64(), Some(total(&recs, "input_tokens")), "{}", out.context());
    assert_eq!(j["tokens"]["from_cancelled"], 2, "{}", out.context());
    assert_eq!(j["tokens"]["estimated"], 0, "sources count finished requests{}", out.context());
    assert!(j["throughput"]["output_tokens_per_s"].as_f64().unwrap() > 0.0, "{}", out.context());
    // What the cut shortens is not.
    for key in ["e2e_ms", "tpot_ms", "e2e_sched_ms", "output_tokens", "decode_tokens_per_s"] {
        assert!(m[key].is_null(), "{key}: {}{}", m[key], out.context());
    }
    assert!(recs.iter().all(|r| r["silence_ms"].is_number()), "{}", out.context());
    assert!(!out.stderr.contains("stalled"), "{}", out.context());
    assert!(out.stdout.contains("2 cancelled at the deadline\n"), "{}", out.context());

    // `llmload report` counts the records alike.
    let rebuilt = dir.path("rebuilt.json");
    let report = Llmload::new("report").arg(dir.path(Dir::RECORDS)).opt("--json", &rebuilt).output();
    let b = read_json(&rebuilt, &report);
    for path in
        [["metrics", "ttft_ms", "count"], ["metrics", "itl_ms", "count"], ["tokens", "output_total", ""]]
    {
        let get = |v: &Value| path.iter().filter(|k| !k.is_empty()).fold(v.clone(), |v, k| v[k].clone());
        assert_eq!(get(&b), get(&j), "{path:?}{}", report.context());
    }
    assert_eq!(b["requests"]["stalled"], 0, "{}", report.context());
}

#[test]
fn streams_the_server_left_silent_at_the_deadline_are_stalled_warned_and_gated() {
    // Every answer stops after 4 of its 8 tokens and would go on after a minute.
    let mock = slow_fault_mock(8, &["stall"], Duration::from_secs(60));
    let (out, j, recs) =
        Llmload::run(&mock).args("-c 2 -d 3s --quiet --threshold stalled<1").logged(&Dir::new("stalled"));
    out.expect_code(1);
    let r = &j["requests"];
    let counts = ["total", "ok", "failed", "cancelled", "stalled"].map(|k| r[k].as_u64().unwrap());
    assert_eq!(counts, [2, 0, 0, 2, 2], "{}", out.context());
    // Each record's silence: since its 4th and last token, the rest of the run.
    for rec in &recs {
        assert_eq!(rec["text_events"], 4, "{rec}");
        assert!(rec["silence_ms"].as_f64().unwrap() >= 1000.0, "{rec}{}", out.context());
    }
    assert_eq!(j["metrics"]["itl_ms"]["count"], 6, "3 gaps each{}", out.context());
    assert_eq!(j["tokens"]["from_cancelled"], 2, "{}", out.context());
    let warning = "2 requests were stalled when the deadline cut them: no text from the server for at least 10 × the run's ITL p99";
    assert!(out.stdout.contains(&format!("warning: {warning}")), "{}", out.context());
    let in_json =
        j["warnings"].as_array().unwrap().iter().any(|w| w.as_str().is_some_and(|w| w.starts_with(warning)));
    assert!(in_json, "{}", out.context());
    assert!(out.stdout.contains("2 cancelled at the deadline (2 stalled)"), "{}", out.context());
    let t = &j["thresholds"][0];
    assert_eq!(
        (t["expr"].as_str(), t["actual"].as_f64(), t["pass"].as_bool()),
        (Some("stalled<1"), Some(2.0), Some(false))
    );
    assert!(out.stderr.contains("threshold failed"), "{}", out.context());
}
