//! `--dataset` end to end: a ShareGPT file's replies sizing each answer, the filter, the sample
//! with and without replacement, OpenAI-request JSONL, plain lines, and the flag clashes. The
//! mock caps each answer at the request's `max_tokens`, so the records show what was asked.

use crate::util::*;
use llmload::mock::MockHandle;

/// The five-conversation ShareGPT sample: three usable (their replies have 18, 17 and 16
/// estimated tokens), one without a human turn and one with an empty one.
fn sample() -> String {
    format!("{}/tests/fixtures/sharegpt_sample.json", env!("CARGO_MANIFEST_DIR"))
}

/// `run` against `mock` with the API, one worker, no preflight (so the mock's counts are the
/// run's alone) and `args`.
fn run(mock: &MockHandle, args: &str) -> Llmload {
    Llmload::run(mock).args("--api openai-chat -c 1 --no-preflight --quiet").args(args)
}

/// Each record's (prompt index, output tokens).
fn sent(recs: &[serde_json::Value]) -> Vec<(u64, u64)> {
    recs.iter().map(|r| (r["prompt_index"].as_u64().unwrap(), r["output_tokens"].as_u64().unwrap())).collect()
}

#[test]
fn sharegpt_replies_size_each_answer_and_skipped_conversations_are_said() {
    let mock = fast_mock(100, &[]);
    let dir = Dir::new("dataset-sharegpt");
    let (out, j, recs) = run(&mock, "-n 7").opt("--dataset", sample()).logged(&dir);
    out.expect_code(0);
    assert_eq!(j["requests"]["ok"], 7, "{}", out.context());
    assert_eq!(j["config"]["prompts"], 3);
    assert_eq!(
        j["config"]["prompt_source"],
        format!("--dataset {} (sharegpt, 3 of 5 conversations)", sample())
    );
    // Shuffled by the default seed 1: Hamlet (18), the Chinese one (16), the haiku (17).
    assert_eq!(sent(&recs), [(0, 18), (1, 16), (2, 17), (0, 18), (1, 16), (2, 17), (0, 18)]);
    let skipped = "--dataset: 2 of 5 entries skipped (2 without a human turn or with an empty one); prompts are taken from the other 3";
    assert_eq!(j["warnings"], serde_json::json!([skipped]), "{}", out.context());
    assert!(out.stderr.contains(skipped), "{}", out.context());
    let t = truth(&mock);
    assert_eq!((t.requests, t.text_events), (7, 3 * 18 + 2 * 16 + 2 * 17));
}

#[test]
fn output_tokens_overrides_the_replies_and_the_filter_skips_long_prompts() {
    let mock = fast_mock(100, &[]);
    let dir = Dir::new("dataset-filter");
    // The prompts have 9 (Hamlet), 7 (haiku) and 12 (Chinese) estimated tokens.
    let (out, j, recs) = run(&mock, "-n 4 --output-tokens 5 --dataset-max-prompt-tokens 10 --seed 3")
        .opt("--dataset", sample())
        .logged(&dir);
    out.expect_code(0);
    assert_eq!(j["config"]["prompts"], 2, "{}", out.context());
    assert_eq!(
        j["config"]["prompt_source"],
        format!("--dataset {} (sharegpt, 2 of 5 conversations)", sample())
    );
    // The mock counts prompts as llmload's estimate does: Hamlet's 9 and the haiku's 7, each twice.
    let mut got: Vec<(u64, u64)> = recs
        .iter()
        .map(|r| (r["input_tokens"].as_u64().unwrap(), r["output_tokens"].as_u64().unwrap()))
        .collect();
    got.sort();
    assert_eq!(got, [(7, 5), (7, 5), (9, 5), (9, 5)], "{}", out.context());
    assert_eq!(
        j["warnings"][0],
        "--dataset: 3 of 5 entries skipped (2 without a human turn or with an empty one, 1 over --dataset-max-prompt-tokens 10); prompts are taken from the other 2"
    );
    assert_eq!(truth(&mock).text_events, 4 * 5);
}

#[test]
fn a_sample_larger_than_the_dataset_is_drawn_with_replacement() {
    let mock = fast_mock(100, &[]);
    let dir = Dir::new("dataset-sample");
    let (out, j, recs) = run(&mock, "-n 12 --dataset-sample 12").opt("--dataset", sample()).logged(&dir);
    out.expect_code(0);
    assert_eq!(j["config"]["prompts"], 12, "{}", out.context());
    assert_eq!(
        j["config"]["prompt_source"],
        format!("--dataset {} (sharegpt, 12 drawn with replacement from 5 conversations)", sample())
    );
    // Every answer is one of the three replies' lengths, and 12 draws of 3 repeat some.
    assert!(recs.iter().all(|r| [16, 17, 18].contains(&r["output_tokens"].as_u64().unwrap())));
    assert_eq!(sent(&recs).iter().map(|(i, _)| *i).collect::<Vec<_>>(), (0..12).collect::<Vec<_>>());
    // Without replacement: two distinct prompts.
    let dir = Dir::new("dataset-sample-2");
    let (out, j, recs) = run(&mock, "-n 2 --dataset-sample 2").opt("--dataset", sample()).logged(&dir);
    out.expect_code(0);
    assert_eq!(
        j["config"]["prompt_source"],
        format!("--dataset {} (sharegpt, 2 of 5 conversations)", sample())
    );
    assert_ne!(recs[0]["output_tokens"], recs[1]["output_tokens"], "{}", out.context());
}

#[test]
fn openai_request_lines_send_their_messages_and_caps() {
    let mock = recording_mock(100, 0.0);
    let dir = Dir::new("dataset-openai");
    let file = dir.create(
        "requests.jsonl",
        concat!(
            "{\"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": \"user\", \"content\": \"你好\"}], \"max_tokens\": 3, \"temperature\": 0}\n",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hello\"}], \"max_completion_tokens\": 6}\n",
        ),
    );
    let (out, j, recs) = run(&mock, "-n 4 --seed 2").opt("--dataset", &file).logged(&dir);
    out.expect_code(0);
    let source = j["config"]["prompt_source"].as_str().unwrap();
    assert!(source.ends_with("(openai, 2 of 2 requests)"), "{}", out.context());
    // The mock counts every message as llmload's estimate does: "be brief" + "你好" = 4, "hello" = 1.
    let mut got: Vec<(u64, u64)> = recs
        .iter()
        .map(|r| (r["input_tokens"].as_u64().unwrap(), r["output_tokens"].as_u64().unwrap()))
        .collect();
    got.sort();
    assert_eq!(got, [(1, 6), (1, 6), (4, 3), (4, 3)]);
    assert_eq!(truth(&mock).requests, 4);
    // A line's other fields go into its body, over --extra-body where both name a key.
    let bodies = mock.bodies();
    let with = |t: Option<i64>| bodies.iter().filter(|b| b["temperature"].as_i64() == t).count();
    assert_eq!((with(Some(0)), with(None)), (2, 2), "{bodies:?}");
    let out = run(&mock, "-n 2 --seed 2")
        .opt("--dataset", &file)
        .opt("--extra-body", r#"{"temperature": 1, "top_p": 0.5}"#)
        .output();
    out.expect_code(0);
    let bodies = mock.bodies();
    let last: Vec<_> =
        bodies[bodies.len() - 2..].iter().map(|b| (b["temperature"].as_i64(), b["top_p"].as_f64())).collect();
    assert!(last.iter().all(|(_, p)| *p == Some(0.5)), "{last:?}");
    assert!(last.iter().any(|(t, _)| *t == Some(0)) || last.iter().all(|(t, _)| *t == Some(1)), "{last:?}");
    let bad = dir.create(
        "bad.jsonl",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stream\": false}\n",
    );
    let out = run(&mock, "-n 1").opt("--dataset", &bad).output();
    assert_eq!(out.code, 0, "stream is the adapter's and dropped from a dataset line{}", out.context());
}

#[test]
fn plain_lines_read_as_a_dataset_and_clashes_are_refused() {
    let mock = fast_mock(4, &[]);
    let dir = Dir::new("dataset-lines");
    let file = dir.create("p.txt", "one\ntwo\nthree\n");
    let (out, j) = run(&mock, "-n 3 --dataset-format lines").opt("--dataset", &file).json(&dir);
    out.expect_code(0);
    assert!(j["config"]["prompt_source"].as_str().unwrap().ends_with("(lines, 3 of 3 prompts)"));
    assert_eq!(j["tokens"]["output_total"], 12, "{}", out.context());
    let refused = |args: &str, message: &str| {
        let out = run(&mock, args).opt("--dataset", &file).output();
        out.expect_code(2);
        assert!(out.stderr.contains(message), "{message}{}", out.context());
    };
    refused("--prompt hi", "--dataset and --prompt are both prompt sources: give one");
    refused("--prompt-tokens 10", "--dataset and --prompt-tokens are both prompt sources");
    refused("--dataset-format csv", "--dataset-format \"csv\" is invalid: unknown dataset format");
    refused("--dataset-sample 0", "--dataset-sample \"0\" is invalid: must be at least 1");
    refused("--dataset-replace", "--dataset-replace applies to --dataset-sample");
    refused("--dataset-format prompts", "is not prompt JSONL");
    let out = run(&mock, "--dataset-sample 3").output();
    out.expect_code(2);
    assert!(
        out.stderr.contains("--dataset-sample applies to --dataset: add --dataset FILE"),
        "{}",
        out.context()
    );
    assert_eq!(truth(&mock).requests, 3);
}

/// With `--turns`, a ShareGPT conversation's later user turns are its session's next turns,
/// after the server's real answers; a conversation with fewer user turns ends its session sooner.
#[test]
fn a_sharegpt_conversation_is_a_session_of_its_user_turns() {
    let mock = recording_mock(3, 0.0);
    let dir = Dir::new("dataset-sessions");
    let (out, _, recs) = run(&mock, "-n 6 --turns 3 --max-tokens 3").opt("--dataset", sample()).logged(&dir);
    out.expect_code(0);
    let bodies = mock.bodies();
    let users = |b: &serde_json::Value| -> Vec<String> {
        b["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "user")
            .map(|m| m["content"].as_str().unwrap().to_string())
            .collect()
    };
    let thanks: Vec<&serde_json::Value> =
        bodies.iter().filter(|b| users(b).last().is_some_and(|u| u == "Thanks!")).collect();
    assert!(!thanks.is_empty(), "the Hamlet conversation's second user turn was sent: {bodies:?}");
    for b in &thanks {
        let m = b["messages"].as_array().unwrap();
        assert!(m[0]["content"].as_str().unwrap().starts_with("Summarize the plot of Hamlet"), "{b}");
        assert_eq!(
            (m[1]["role"].as_str(), m[1]["content"].as_str()),
            (Some("assistant"), Some("大语言")),
            "{b}"
        );
        assert_eq!(m.len(), 3, "{b}");
    }
    // Only the Hamlet conversation has a second user turn, and none a third: every other
    // session ends after its one turn.
    assert!(
        bodies.iter().all(|b| users(b).len() == 1 || users(b).last().unwrap() == "Thanks!"),
        "{bodies:?}"
    );
    assert!(recs.iter().all(|r| r["turn"].as_u64().unwrap() <= 2), "{}", out.context());
}
