//! Prompt sources and conversations end to end: JSONL lines with their own caps, synthetic
//! prompts with exact output lengths, `--turns` numbering, and `--api auto`.

use crate::util::*;

/// Runs `args` (after `run --url URL`) with records and a JSON summary; returns both.
fn run_recorded(
    mock_url: &str,
    name: &str,
    args: &[&str],
) -> (Output, serde_json::Value, Vec<serde_json::Value>) {
    let mut full = vec!["run", "--url", mock_url, "--quiet"];
    full.extend_from_slice(args);
    let (out, json, recs) = run_logged(name, &full);
    out.expect_code(0);
    (out, json, recs)
}

#[test]
fn jsonl_lines_carry_their_own_prompt_messages_and_caps() {
    let mock = fast_mock(20, &[]);
    let dir = tempdir("jsonl-file");
    let file = dir.join("p.jsonl");
    std::fs::write(
        &file,
        concat!(
            "{\"prompt\": \"one two\", \"max_tokens\": 3}\n",
            "\n",
            "{\"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": \"user\", \"content\": \"你好\"}], \"max_tokens\": 5}\n",
            "{\"query\": \"no cap\"}\n",
        ),
    )
    .unwrap();
    let (out, j, recs) = run_recorded(
        &url(&mock),
        "jsonl",
        &["--api", "openai-chat", "--param-file", file.to_str().unwrap(), "-c", "1", "-n", "6"],
    );
    assert_eq!(j["requests"]["ok"], 6, "{}", out.context());
    assert_eq!(j["config"]["prompts"], 3);
    let tokens: Vec<(u64, u64)> = recs
        .iter()
        .map(|r| (r["prompt_index"].as_u64().unwrap(), r["output_tokens"].as_u64().unwrap()))
        .collect();
    assert_eq!(tokens, [(0, 3), (1, 5), (2, 20), (0, 3), (1, 5), (2, 20)]);
    // The mock counts the tokens of every message (docs/mock.md): "be brief" + "你好" = 2 + 2.
    assert_eq!(recs[1]["input_tokens"], 4);
    assert_eq!(j["tokens"]["input_total"], 2 * (2 + 4 + 2));
}

#[test]
fn synthetic_prompts_ask_for_exact_output_lengths() {
    let mock = fast_mock(50, &[]);
    let (out, j, recs) = run_recorded(
        &url(&mock),
        "synthetic",
        &["--api", "openai-chat", "--prompt-tokens", "200", "--output-tokens", "7", "-c", "2", "-n", "8"],
    );
    assert_eq!(j["requests"]["ok"], 8, "{}", out.context());
    assert_eq!(j["config"]["prompts"], 64);
    assert_eq!(j["config"]["prompt_source"], "--prompt-tokens 200 (mixed)");
    assert_eq!(j["tokens"]["output_total"], 8 * 7);
    for r in &recs {
        assert_eq!(r["output_tokens"], 7, "{r}");
        // The mock counts tokens by the estimate's rule: a prompt of about 200 has 200 or 201.
        let input = r["input_tokens"].as_u64().unwrap();
        assert!((200..=201).contains(&input), "{r}");
    }
}

#[test]
fn turns_number_each_workers_conversation() {
    let mock = fast_mock(3, &[]);
    let (out, j, recs) = run_recorded(&url(&mock), "turns", &["--turns", "3", "-c", "1", "-n", "7"]);
    assert_eq!(j["requests"]["ok"], 7, "{}", out.context());
    assert_eq!(j["config"]["turns"], 3);
    let turns: Vec<u64> = recs.iter().map(|r| r["turn"].as_u64().unwrap()).collect();
    assert_eq!(turns, [1, 2, 3, 1, 2, 3, 1]);
    // The mock answers in the conversation it is given: turns 2 and 3 continue turn 1's.
    let ids: Vec<&str> = recs.iter().map(|r| r["conversation_id"].as_str().unwrap()).collect();
    assert_eq!((ids[0], ids[0]), (ids[1], ids[2]), "{}", out.context());
    assert_eq!((ids[3], ids[3]), (ids[4], ids[5]));
    assert_ne!(ids[0], ids[3]);
    assert_ne!(ids[3], ids[6]);
}

#[test]
fn auto_picks_the_api_from_the_url_path_and_says_so() {
    let mock = fast_mock(4, &[]);
    let full = format!("{}/v1/chat/completions", url(&mock));
    let (out, j, _) = run_recorded(&full, "auto", &["-n", "2"]);
    assert_eq!(j["config"]["api"], "openai-chat", "{}", out.context());
    assert_eq!(j["config"]["url"], full);
    assert!(out.stderr.contains("--api auto: openai-chat (from the URL path)"), "{}", out.context());
    assert_eq!(j["tokens"]["output_total"], 8);
}
