//! The run by API key and by prompt: `by_key` and `by_prompt` of a live run with two keys and
//! three prompts (round-robin, so the counts are exact), their tables in the text summary, and
//! the same counts rebuilt by `llmload report` (without the key labels and prompt text).

use crate::util::*;
use serde_json::{Value, json};

/// `(index, label, requests, ok)` of each row, and whether every row has both TTFTs.
fn rows(v: &Value, index: &str, label: &str) -> (Vec<(u64, Value, u64, u64)>, bool) {
    let rows = v.as_array().expect("an array");
    let timed = rows.iter().all(|r| r["ttft_p50_ms"].is_number() && r["ttft_p99_ms"].is_number());
    let picked = rows
        .iter()
        .map(|r| {
            (
                r[index].as_u64().unwrap(),
                r[label].clone(),
                r["requests"].as_u64().unwrap(),
                r["ok"].as_u64().unwrap(),
            )
        })
        .collect();
    (picked, timed)
}

#[test]
fn two_keys_and_three_prompts_are_broken_down_exactly() {
    let mock = fast_mock(3, &[]);
    let dir = Dir::new("breakdown-files");
    let (out, json, records) = Llmload::run(&mock)
        .args("--api openai-chat -c 1 -n 12 --quiet")
        .opt("--api-key-file", dir.create("keys.txt", "sk-first-key-00000001\nsk-second-key-0000002\n"))
        .opt("--param-file", dir.create("prompts.txt", "first prompt\n第二个提示词，稍微长一点点\nthird\n"))
        .logged(&Dir::new("breakdown"));
    out.expect_code(0);
    let (by_key, timed) = rows(&json["by_key"], "key_index", "key");
    assert_eq!(by_key, [(0, json!("sk-f…0001"), 6, 6), (1, json!("sk-s…0002"), 6, 6)], "{}", out.context());
    assert!(timed, "{}", json["by_key"]);
    assert!(json["by_key"].as_array().unwrap().iter().all(|r| r["success_rate"] == 1.0));
    let (mut by_prompt, timed) = rows(&json["by_prompt"], "prompt_index", "prompt");
    assert!(timed, "{}", json["by_prompt"]);
    by_prompt.sort_by_key(|r| r.0); // ranked by TTFT p99, which timing decides
    assert_eq!(
        by_prompt,
        [
            (0, json!("first prompt"), 4, 4),
            (1, json!("第二个提示词，稍微长一点点"), 4, 4),
            (2, json!("third"), 4, 4)
        ]
    );
    let p99: Vec<f64> =
        json["by_prompt"].as_array().unwrap().iter().map(|r| r["ttft_p99_ms"].as_f64().unwrap()).collect();
    assert!(p99.windows(2).all(|w| w[0] >= w[1]), "slowest first: {p99:?}");
    assert!(
        out.stdout.contains("\n  by API key\n") && out.stdout.contains("  sk-f…0001 "),
        "{}",
        out.context()
    );
    assert!(out.stdout.contains("\n  by prompt, slowest TTFT p99 first (at most 20)\n"), "{}", out.context());
    assert!(!out.stdout.contains("sk-first-key-00000001"), "keys are masked{}", out.context());

    // Rebuilt from the records: the same counts, no labels.
    let rec_path = dir.join("rec.jsonl");
    let text: String = records.iter().map(|r| r.to_string() + "\n").collect();
    std::fs::write(&rec_path, text).unwrap();
    let rebuilt_path = dir.join("rebuilt.json");
    let report = llmload(&["report", rec_path.to_str().unwrap(), "--json", rebuilt_path.to_str().unwrap()]);
    report.expect_code(0);
    let rebuilt = read_json(&rebuilt_path, &report);
    let (by_key, _) = rows(&rebuilt["by_key"], "key_index", "key");
    assert_eq!(by_key, [(0, Value::Null, 6, 6), (1, Value::Null, 6, 6)], "{}", report.context());
    let (mut by_prompt, timed) = rows(&rebuilt["by_prompt"], "prompt_index", "prompt");
    by_prompt.sort_by_key(|r| r.0);
    assert_eq!(by_prompt, [(0, Value::Null, 4, 4), (1, Value::Null, 4, 4), (2, Value::Null, 4, 4)]);
    assert!(timed);
    assert!(report.stdout.contains("  key #1 "), "{}", report.context());
}

#[test]
fn one_key_and_one_prompt_print_no_breakdown_tables() {
    let mock = fast_mock(2, &[]);
    let (out, json, _) = Llmload::run(&mock)
        .args("--api openai-chat -n 2 --quiet --api-key sk-only-key-000000001")
        .logged(&Dir::new("breakdown-one"));
    out.expect_code(0);
    assert_eq!(json["by_key"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["by_prompt"].as_array().map(Vec::len), Some(1));
    assert!(!out.stdout.contains("by API key") && !out.stdout.contains("by prompt"), "{}", out.context());
}
