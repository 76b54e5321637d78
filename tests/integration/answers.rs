//! Answers checked: prompt lines' `expect` and `--expect` against the mock's `--wrong-share`, with
//! exact counts (the summary, the JSON, the records and `llmload report`'s rebuild), the
//! `wrong_answer_rate` threshold, and bad checks refused before any request.

use crate::util::*;
use llmload::mock::MockConfig;
use serde_json::{Value, json};
use std::time::Duration;

/// A fast mock whose every 4th answer (requests 3, 7, 11, …) is `WRONG ` × 4, the others `大语言模`.
fn wrong_mock() -> llmload::mock::MockHandle {
    mock_with(MockConfig {
        ttft: Duration::from_millis(2),
        itl: Duration::from_millis(1),
        tokens: 4,
        wrong_share: 0.25,
        ..MockConfig::default()
    })
}

#[test]
fn wrong_answers_are_counted_exactly_and_keep_their_latencies() {
    let mock = wrong_mock();
    let dir = Dir::new("answers-counted");
    let prompts = dir.create(
        "p.jsonl",
        "{\"prompt\": \"a\", \"expect\": \"大语\"}\n{\"prompt\": \"b\", \"expect\": {\"regex\": \"^大语言模$\"}}\n",
    );
    let (out, j, recs) = Llmload::run(&mock)
        .args("--api openai-chat -c 2 -n 20 --no-preflight --quiet")
        .opt("--param-file", &prompts)
        .logged(&dir);
    out.expect_code(0);
    let r = &j["requests"];
    assert_eq!((&r["ok"], &r["answers_checked"], &r["wrong_answer"]), (&json!(20), &json!(20), &json!(5)));
    assert_eq!(j["wrong_answer_rate"], json!(0.25), "{}", out.context());
    assert_eq!(j["metrics"]["ttft_ms"]["count"], json!(20), "a wrong answer's latencies count");
    assert!(out.stdout.contains("5 of 20 checked answers wrong (25.0%)"), "{}", out.context());
    let wrong: Vec<&Value> = recs.iter().filter(|r| r["expect_ok"] == false).collect();
    assert_eq!((wrong.len(), count_by(&recs, "expect_ok").get("true")), (5, Some(&15)), "{recs:?}");
    assert!(wrong.iter().all(|r| r["outcome"] == "ok" && r["answer_excerpt"] == "WRONG WRONG WRONG WRONG "));
    assert!(recs.iter().filter(|r| r["expect_ok"] == true).all(|r| r["answer_excerpt"].is_null()));

    // `report` rebuilds the counts from the records, and gates on them.
    let rebuilt = dir.path("rebuilt.json");
    let (report, again) = Llmload::new("report")
        .arg(dir.path(Dir::RECORDS))
        .args("--threshold wrong_answer_rate<1%")
        .json_at(&rebuilt);
    report.expect_code(1);
    assert_eq!(again["requests"], j["requests"], "{}", report.context());
    assert_eq!(again["wrong_answer_rate"], json!(0.25));
    assert!(
        report.stderr.contains("threshold failed: wrong_answer_rate<1% (actual 25.00%)"),
        "{}",
        report.context()
    );
}

#[test]
fn expect_checks_prompts_without_their_own_and_the_threshold_fails_the_run() {
    let mock = wrong_mock();
    let dir = Dir::new("answers-flag");
    // One client worker, no preflight: request k sends prompt k % 2 and is the mock's request
    // k, wrong for k = 3, 7, 11, 15, 19 (all prompt 1's). Prompt 0's own check fails on every
    // right answer (10); prompt 1 takes --expect, failing on the mock's 5 wrong ones.
    let prompts = dir.create("p.jsonl", "{\"prompt\": \"a\", \"expect\": \"WRONG\"}\n{\"prompt\": \"b\"}\n");
    let (out, j) = Llmload::run(&mock)
        .args("--api openai-chat -c 1 -n 20 --no-preflight --quiet")
        .opt("--param-file", &prompts)
        .opt("--expect", "contains:大语")
        .opt("--threshold", "wrong_answer_rate<1%")
        .json(&dir);
    out.expect_code(1);
    assert_eq!((&j["requests"]["answers_checked"], &j["requests"]["wrong_answer"]), (&json!(20), &json!(15)));
    assert_eq!(j["thresholds"][0], json!({"expr": "wrong_answer_rate<1%", "actual": 0.75, "pass": false}));
    assert!(
        out.stderr.contains("threshold failed: wrong_answer_rate<1% (actual 75.00%)"),
        "{}",
        out.context()
    );

    // JSON checks: no plain answer parses, so --expect json fails each one.
    let (out, j) = Llmload::run(&mock)
        .args("--api anthropic -c 1 -n 4 --no-preflight --quiet --expect json:a,b")
        .json(&Dir::new("answers-json"));
    out.expect_code(0);
    assert_eq!((&j["requests"]["answers_checked"], &j["requests"]["wrong_answer"]), (&json!(4), &json!(4)));
}

#[test]
fn without_a_check_nothing_is_counted_and_the_threshold_has_no_data() {
    let mock = wrong_mock();
    let (out, j) = Llmload::run(&mock)
        .args("-n 4 --no-preflight --quiet --threshold wrong_answer_rate<1%")
        .json(&Dir::new("answers-none"));
    out.expect_code(1);
    assert_eq!((&j["requests"]["answers_checked"], &j["wrong_answer_rate"]), (&json!(0), &Value::Null));
    assert!(!out.stdout.contains("checked answers"), "{}", out.context());
    assert!(out.stderr.contains("no data: no answer was checked: give --expect"), "{}", out.context());
}

#[test]
fn bad_checks_are_refused_before_any_request() {
    let mock = wrong_mock();
    let out = Llmload::run(&mock).opt("--expect", "regex:(").args("-n 1").output();
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("--expect \"regex:(\" is invalid: \"(\" is not a regular expression (unclosed group)"),
        "{}",
        out.context()
    );
    let out = Llmload::run(&mock).opt("--expect", "startswith:x").args("-n 1").output();
    out.expect_code(2);
    assert!(
        out.stderr.contains("write contains:TEXT, regex:PATTERN, json, or json:KEY,KEY"),
        "{}",
        out.context()
    );
    let dir = Dir::new("answers-bad-line");
    let prompts =
        dir.create("p.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \"b\", \"expect\": {\"json\": 1}}\n");
    let out = Llmload::run(&mock).opt("--param-file", &prompts).args("-n 1").output();
    out.expect_code(2);
    assert!(
        out.stderr.contains("p.jsonl: JSONL line 2: \"expect\" is {\"json\":1}: give a string"),
        "{}",
        out.context()
    );
    assert_eq!(truth(&mock).requests, 0, "refused before any request, the preflight's included");
}
