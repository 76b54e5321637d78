//! What goes into a request body and how answers end, end to end: `--extra-body` and a JSONL
//! line's `extra` as the mock received them, the refusals before any request, `--ignore-eos`
//! and the answers that ended early (`requests.ended_early`), counted exactly against the mock's
//! own record, and the prompt tokens the mock counted.

use crate::util::*;
use serde_json::{Value, json};
use std::time::Duration;

/// `run` against `mock` with no preflight (so the mock's record holds only the run), a JSON
/// summary and records.
fn run(mock: &llmload::mock::MockHandle, dir: &Dir, line: &str) -> Llmload {
    Llmload::run(mock).args("--no-preflight --quiet").args(line).json_in(dir).records_in(dir)
}

#[test]
fn extra_body_and_a_lines_extra_are_laid_over_the_adapters_body() {
    let mock = recording_mock(4, 0.0);
    let dir = Dir::new("extra-body");
    let prompts = dir.create(
        "p.jsonl",
        "{\"prompt\": \"one two\"}\n{\"prompt\": \"三\", \"extra\": {\"seed\": 2, \"top_k\": 5}}\n",
    );
    let out = run(&mock, &dir, "--api openai-chat --model m --max-tokens 3 -c 1 -n 2")
        .opt("--param-file", &prompts)
        .opt("--extra-body", r#"{"temperature": 0, "seed": 1, "user": "bench", "tools": []}"#)
        .output();
    out.expect_code(0);
    let bodies = mock.bodies();
    let body = |content: &str, seed: u64, more: Value| {
        let mut b = json!({"model": "m", "stream": true, "stream_options": {"include_usage": true},
            "user": "bench", "messages": [{"role": "user", "content": content}], "max_tokens": 3,
            "temperature": 0, "seed": seed, "tools": []});
        b.as_object_mut().unwrap().extend(more.as_object().unwrap().clone());
        b
    };
    assert_eq!(
        bodies,
        [body("one two", 1, json!({})), body("三", 2, json!({"top_k": 5}))],
        "{}",
        out.context()
    );
    assert_eq!(dir.json(&out)["requests"]["ok"], 2);
}

#[test]
fn extra_body_from_a_file_reaches_anthropic() {
    let mock = recording_mock(4, 0.0);
    let dir = Dir::new("extra-body-file");
    let file = dir.create("extra.json", r#"{"temperature": 0.5, "system": "be brief", "top_k": 3}"#);
    let out = run(&mock, &dir, "--api anthropic --model c --prompt hi -n 1")
        .opt("--extra-body", format!("@{}", file.display()))
        .output();
    out.expect_code(0);
    let got = &mock.bodies()[0];
    let want = json!({"model": "c", "max_tokens": 1024, "messages": [{"role": "user", "content": "hi"}],
        "stream": true, "metadata": {"user_id": got["metadata"]["user_id"]}, "temperature": 0.5,
        "system": "be brief", "top_k": 3});
    assert_eq!(got, &want, "{}", out.context());
}

#[test]
fn bodies_that_cannot_be_merged_are_refused_before_any_request() {
    let mock = recording_mock(4, 0.0);
    let dir = Dir::new("extra-body-refused");
    let bad_line = dir
        .create("p.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \"b\", \"extra\": {\"stream_options\": {}}}\n");
    let cases: [(&[&str], &str); 6] = [
        (
            &["--api", "openai-chat", "--extra-body", r#"{"stream": false}"#],
            "error: --extra-body key \"stream\": llmload measures streamed answers",
        ),
        (
            &["--api", "openai-chat", "--extra-body", "[1]"],
            "error: --extra-body \"[1]\" is invalid: give a JSON object",
        ),
        (
            &["--api", "dify-chat", "--extra-body", r#"{"temperature": 0}"#],
            "error: --extra-body key \"temperature\": the Dify APIs send a fixed body",
        ),
        (
            &["--api", "openai-completions", "--extra-body", r#"{"max_tokens": 9}"#],
            "error: --extra-body key \"max_tokens\": llmload must know the output cap",
        ),
        (
            &["--api", "openai-chat", "--param-file", bad_line.to_str().unwrap()],
            "JSONL line 2: \"extra\" key \"stream_options\"",
        ),
        (
            &["--api", "anthropic", "--ignore-eos", "--max-tokens", "8"],
            "error: --ignore-eos only applies to the OpenAI APIs",
        ),
    ];
    for (args, want) in cases {
        let out = Llmload::run(&mock).args("-n 1 --quiet").arg_list(args).output();
        out.expect_code(2);
        assert!(out.stderr.contains(want), "{want}\n{}", out.context());
    }
    let out = Llmload::run(&mock).args("--api openai-chat --ignore-eos -n 1").output();
    out.expect_code(2);
    assert!(out.stderr.contains("--ignore-eos needs an output length"), "{}", out.context());
    assert_eq!(mock.truth().requests, 0, "nothing was sent");
}

#[test]
fn ignore_eos_gets_every_answer_to_its_cap() {
    let mock = recording_mock(4, 0.5);
    let dir = Dir::new("ignore-eos");
    let out = run(&mock, &dir, "--api openai-chat --max-tokens 10 --ignore-eos -c 2 -n 6").output();
    out.expect_code(0);
    let j = dir.json(&out);
    assert_eq!(
        (&j["requests"]["ok"], &j["tokens"]["output_total"]),
        (&json!(6), &json!(60)),
        "{}",
        out.context()
    );
    assert_eq!(j["requests"]["ended_early"], 0);
    assert!(mock.bodies().iter().all(|b| b["ignore_eos"] == true && b["max_tokens"] == 10));
    assert_eq!(mock.truth_when_idle(Duration::from_secs(5)).ended_early, 0);
    assert!(!out.stdout.contains("ended early"), "{}", out.context());
}

#[test]
fn answers_that_stop_before_their_cap_are_counted_as_ended_early() {
    // Every other answer stops at half of 8 tokens; the rest send 8 of the 12 asked for: all
    // end on their own below the cap.
    let mock = recording_mock(8, 0.5);
    let dir = Dir::new("ended-early");
    let out = run(&mock, &dir, "--api openai-chat --max-tokens 12 -c 1 -n 8").output();
    out.expect_code(0);
    let j = dir.json(&out);
    assert_eq!(j["requests"]["ended_early"], 8, "{}", out.context());
    assert_eq!(j["tokens"]["output_total"], 4 * 4 + 4 * 8);
    let truth = mock.truth_when_idle(Duration::from_secs(5));
    assert_eq!(truth.ended_early, 8);
    assert!(
        out.stdout.contains("ended early 8 answers stopped by the model before their max_tokens"),
        "{}",
        out.context()
    );
    let recs = dir.records(&out);
    assert!(recs.iter().all(|r| r["max_tokens"] == 12 && r["model_stopped"] == true), "{recs:?}");

    // A cap at the answers' natural length: only the early half ended early.
    let mock = recording_mock(8, 0.5);
    let dir = Dir::new("ended-early-half");
    let out = run(&mock, &dir, "--api openai-completions --max-tokens 8 -c 2 -n 8 --lang zh").output();
    out.expect_code(0);
    let j = dir.json(&out);
    assert_eq!(j["requests"]["ended_early"], 4, "{}", out.context());
    assert_eq!(mock.truth_when_idle(Duration::from_secs(5)).ended_early, 4);
    assert!(out.stdout.contains("4 个回答在达到 max_tokens 前被模型结束"), "{}", out.context());
    // `llmload report` rebuilds the same count from the records.
    let report = llmload(&[
        "report",
        dir.path(Dir::RECORDS).to_str().unwrap(),
        "--json",
        dir.path("r.json").to_str().unwrap(),
    ]);
    report.expect_code(0);
    assert_eq!(read_json(&dir.path("r.json"), &report)["requests"]["ended_early"], 4);
}

#[test]
fn the_mock_reports_the_prompt_tokens_it_received() {
    // CJK characters one each, words one each, punctuation one each: 5 + 4 + 7 = 16.
    let mock = recording_mock(3, 0.0);
    let dir = Dir::new("prompt-tokens");
    let out = run(&mock, &dir, "--api openai-chat -c 2 -n 4")
        .opt("--prompt", "你好，世界 Hello, world! GPU 利用率 is 95%")
        .output();
    out.expect_code(0);
    let truth = mock.truth_when_idle(Duration::from_secs(5));
    let p = &truth.prompt_tokens;
    assert_eq!(
        (p.count(), p.min(), p.max(), truth.prompt_tokens_total),
        (4, Some(16), Some(16), 64),
        "{}",
        out.context()
    );
    let j = dir.json(&out);
    assert_eq!(j["tokens"]["input_total"], 64, "the usage llmload read is the mock's count");

    // Synthetic prompts of about 300 tokens arrive as llmload counted them.
    let mock = recording_mock(3, 0.0);
    let dir = Dir::new("prompt-tokens-synthetic");
    let out = run(&mock, &dir, "--api openai-chat --prompt-tokens 300 --output-tokens 3 -c 2 -n 6").output();
    out.expect_code(0);
    let truth = mock.truth_when_idle(Duration::from_secs(5));
    let recs = dir.records(&out);
    let total: u64 = recs.iter().map(|r| r["input_tokens"].as_u64().unwrap()).sum();
    assert_eq!((truth.prompt_tokens.count(), truth.prompt_tokens_total), (6, total), "{}", out.context());
    let (min, max) = (truth.prompt_tokens.min().unwrap(), truth.prompt_tokens.max().unwrap());
    assert!(300 <= min && max <= 301, "{min}..{max}");
    assert!(recs.iter().all(|r| r["output_tokens"] == 3), "{recs:?}");
}

/// `--turns` for the chat APIs but Dify: each turn sends the conversation so far, the mock's
/// real answers included, and a session whose turn fails ends there.
#[test]
fn a_session_sends_the_conversation_so_far_with_the_servers_answers() {
    for api in ["openai-chat", "anthropic", "openai-responses"] {
        let mock = recording_mock(3, 0.0);
        let dir = Dir::new("sessions");
        let (out, j, recs) = Llmload::run(&mock)
            .args(&format!("--api {api} -c 1 -n 4 --turns 2 --no-preflight --quiet"))
            .opt("--prompt", "hi")
            .logged(&dir);
        out.expect_code(0);
        assert_eq!(j["config"]["turns"], 2);
        let sessions = &j["sessions"];
        assert_eq!((sessions["turns"].as_u64(), sessions["completed"].as_u64()), (Some(2), Some(2)), "{api}");
        let rows: Vec<(u64, u64, u64)> = sessions["by_turn"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (t["turn"].as_u64().unwrap(), t["requests"].as_u64().unwrap(), t["ok"].as_u64().unwrap())
            })
            .collect();
        assert_eq!(rows, [(1, 2, 2), (2, 2, 2)], "{api}");
        // The second turn's prompt holds the first turn's prompt and answer: more tokens.
        let input = |i: usize| sessions["by_turn"][i]["input_tokens_mean"].as_f64().unwrap();
        assert!(input(1) > input(0), "{api}: {sessions}");
        assert!(
            out.stdout.contains("  sessions    2 completed every one of their 2 turns\n"),
            "{}",
            out.context()
        );
        let turns: Vec<u64> = recs.iter().map(|r| r["turn"].as_u64().unwrap()).collect();
        assert_eq!(turns, [1, 2, 1, 2], "{api}");
        let bodies = mock.bodies();
        let said = |b: &serde_json::Value| {
            let list = if api == "openai-responses" { &b["input"] } else { &b["messages"] };
            match list {
                serde_json::Value::Array(m) => {
                    m.iter().map(|m| (m["role"].to_string(), m["content"].to_string())).collect()
                }
                other => vec![("\"user\"".to_string(), other.to_string())],
            }
        };
        let user = ("\"user\"".to_string(), "\"hi\"".to_string());
        assert_eq!(said(&bodies[0]), std::slice::from_ref(&user), "{api}: the first turn");
        // The mock's answer of 3 tokens is "大语言": the second turn carries it back.
        let answer = ("\"assistant\"".to_string(), "\"大语言\"".to_string());
        assert_eq!(said(&bodies[1]), [user.clone(), answer, user.clone()], "{api}: the second turn");
        assert_eq!(said(&bodies[2]), [user], "{api}: a new session");
    }
}

#[test]
fn think_time_is_refused_where_it_cannot_apply() {
    let mock = fast_mock(2, &[]);
    for (args, message) in [
        (
            "--api openai-chat -n 2 --think-time 1s",
            "--think-time is the pause between a session's turns: add --turns N",
        ),
        (
            concat!(
                "--api openai-chat --turns 2 --trace ",
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/trace_mooncake.jsonl"
            ),
            "--turns and --trace both say when requests start",
        ),
        ("--api openai-completions -n 2 --turns 2", "--turns only applies to the chat APIs"),
    ] {
        let out = Llmload::run(&mock).args(args).output();
        out.expect_code(2);
        assert!(out.stderr.contains(message), "{message}{}", out.context());
    }
}

/// Under `--rate`, each arrival starts a session: its later turns follow on the same worker,
/// each after the answer before it, and `-n` counts the sessions.
#[test]
fn under_a_rate_each_arrival_is_a_session() {
    let mock = recording_mock(3, 0.0);
    let dir = Dir::new("sessions-rate");
    let (out, j, recs) = Llmload::run(&mock)
        .args("--api openai-chat --rate 50 --arrival constant -n 3 --turns 2 --think-time 5ms --no-preflight --quiet")
        .opt("--prompt", "hi")
        .logged(&dir);
    out.expect_code(0);
    assert_eq!(j["requests"]["ok"], 6, "three sessions of two turns{}", out.context());
    assert_eq!(j["sessions"]["completed"], 3, "{}", out.context());
    let mut turns: Vec<u64> = recs.iter().map(|r| r["turn"].as_u64().unwrap()).collect();
    turns.sort();
    assert_eq!(turns, [1, 1, 1, 2, 2, 2]);
    let second: Vec<_> =
        mock.bodies().into_iter().filter(|b| b["messages"].as_array().unwrap().len() == 3).collect();
    assert_eq!(second.len(), 3, "each second turn carries its first turn and answer");
    assert!(second.iter().all(|b| b["messages"][1]["content"] == "大语言"));
}
