//! Prompt sources and conversations end to end: JSONL lines with their own caps, synthetic
//! prompts with exact output lengths, output lengths drawn per request, `--turns` numbering, and `--api auto`.

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
    assert_eq!(j["config"]["prompts"], 8, "a pool of -n prompts");
    assert_eq!(j["config"]["prompt_source"], "--prompt-tokens 200 (mixed)");
    assert_eq!((&j["config"]["prompt_tokens"], &j["config"]["output_tokens"]), (&"200".into(), &"7".into()));
    assert_eq!(j["tokens"]["output_total"], 8 * 7);
    for r in &recs {
        assert_eq!(r["output_tokens"], 7, "{r}");
        // The mock counts prompts as the estimate does: exactly what was sent.
        assert_eq!(r["input_tokens"], 200, "{r}");
    }
}

#[test]
fn one_prompt_draws_an_output_length_per_request_by_seed() {
    let mock = fast_mock(50, &[]);
    let caps = |seed: &str, name: &str| {
        let (out, j, recs) = run_recorded(
            &url(&mock),
            name,
            &[
                "--api",
                "openai-chat",
                "--prompt",
                "hello",
                "--output-tokens",
                "10..20",
                "--seed",
                seed,
                "-c",
                "2",
                "-n",
                "30",
            ],
        );
        assert_eq!(j["requests"]["ok"], 30, "{}", out.context());
        assert_eq!(recs.len(), 30);
        let mut caps: Vec<u64> = recs.iter().map(|r| r["max_tokens"].as_u64().unwrap()).collect();
        for r in &recs {
            assert_eq!(r["output_tokens"], r["max_tokens"], "asked for exactly: {r}");
        }
        caps.sort_unstable();
        caps
    };
    let a = caps("3", "per-request-3");
    assert!(a.iter().all(|m| (10..=20).contains(m)), "{a:?}");
    assert!(
        a.iter().collect::<std::collections::BTreeSet<_>>().len() >= 6,
        "one prompt, many lengths: {a:?}"
    );
    assert_eq!(a, caps("3", "per-request-3-again"), "the same seed, the same lengths");
    assert_ne!(a, caps("4", "per-request-4"));
}

#[test]
fn synthetic_lengths_follow_their_distribution_by_seed() {
    let mock = fast_mock(400, &[]);
    let lengths = |seed: &str, name: &str| {
        let (out, j, recs) = run_recorded(
            &url(&mock),
            name,
            &[
                "--api",
                "openai-completions",
                "--prompt-tokens",
                "50..150",
                "--output-tokens",
                "lognormal(40,20)",
                "--prompt-pool",
                "20",
                "--seed",
                seed,
                "-c",
                "2",
                "-n",
                "40",
            ],
        );
        assert_eq!(j["requests"]["ok"], 40, "{}", out.context());
        let c = &j["config"];
        assert_eq!(
            (&c["prompt_tokens"], &c["output_tokens"]),
            (&"50..150".into(), &"lognormal(40,20)".into())
        );
        assert_eq!((c["prompt_pool"].as_u64(), c["prompts"].as_u64()), (Some(20), Some(20)));
        let mut by_prompt = vec![(0, 0); 20];
        for r in &recs {
            let i = r["prompt_index"].as_u64().unwrap() as usize;
            let (input, output) = (r["input_tokens"].as_u64().unwrap(), r["output_tokens"].as_u64().unwrap());
            assert!((50..=150).contains(&input), "{r}");
            assert!(by_prompt[i] == (0, 0) || by_prompt[i] == (input, output), "a prompt is one length: {r}");
            by_prompt[i] = (input, output);
        }
        by_prompt
    };
    let a = lengths("3", "seed-3");
    assert!(a.iter().map(|l| l.0).collect::<std::collections::BTreeSet<_>>().len() > 10, "{a:?}");
    assert!(a.iter().map(|l| l.1).collect::<std::collections::BTreeSet<_>>().len() > 5, "{a:?}");
    assert_eq!(a, lengths("3", "seed-3-again"), "the same seed, the same lengths");
    assert_ne!(a, lengths("4", "seed-4"));
}

#[test]
fn shared_prefixes_are_cached_by_the_mock_and_cache_bust_shares_none() {
    let run = |extra: &[&str], name: &str| {
        let mock = fast_mock(4, &[]);
        let mut args = vec![
            "--api",
            "openai-chat",
            "--prompt-tokens",
            "40",
            "--prefix-tokens",
            "64",
            "-c",
            "1",
            "-n",
            "10",
            "--no-preflight",
        ];
        args.extend_from_slice(extra);
        let (out, j, recs) = run_recorded(&url(&mock), name, &args);
        assert_eq!(j["requests"]["ok"], 10, "{}", out.context());
        assert!(
            recs.iter().all(|r| r["input_tokens"] == 104),
            "prefix and own part exactly: {}",
            out.context()
        );
        (j, truth(&mock))
    };
    let (j, t) = run(&[], "prefix");
    assert_eq!((&j["config"]["prefix_tokens"], &j["config"]["prefix_groups"]), (&64.into(), &1.into()));
    assert_eq!(j["config"]["cache_bust"], false);
    // Each request after the first finds the 64-token prefix's four whole blocks of 16 cached.
    assert_eq!((t.requests, t.prompt_tokens_total), (10, 10 * 104));
    assert_eq!(t.cached_tokens, 9 * 64);
    let (j, t) = run(&["--cache-bust"], "cache-bust");
    assert_eq!(j["config"]["cache_bust"], true);
    assert_eq!((t.requests, t.prompt_tokens_total, t.cached_tokens), (10, 10 * 104, 0));
    // Two groups drawn by Zipf: still only prefixes are shared.
    let (j, t) = run(&["--prefix-groups", "2", "--prefix-zipf", "1.2", "--seed", "5"], "zipf");
    assert_eq!(j["config"]["prefix_zipf"], 1.2);
    assert!([8 * 64, 9 * 64].contains(&t.cached_tokens), "{}", t.cached_tokens);
}

#[test]
fn an_exact_tokenizer_sizes_synthetic_prompts_and_bad_shapes_are_refused() {
    let mock = fast_mock(3, &[]);
    let (out, j, _) = run_recorded(
        &url(&mock),
        "cl100k",
        &["--api", "openai-chat", "--tokenizer", "cl100k", "--prompt-tokens", "normal(300,80)", "-n", "5"],
    );
    assert_eq!(j["requests"]["ok"], 5, "{}", out.context());
    assert_eq!(j["config"]["prompt_tokens"], "normal(300,80)");
    for (args, says) in [
        ("--prompt-tokens 9..3", "--prompt-tokens \"9..3\" is invalid: give a token count N"),
        ("--prefix-tokens 8", "--prefix-tokens only applies to synthetic prompts"),
        (
            "--prompt-tokens 8 --prefix-groups 3",
            "--prefix-groups shapes shared prefixes: add --prefix-tokens",
        ),
        ("--prompt-tokens 8 --prefix-tokens 8 --prefix-zipf 0", "--prefix-zipf \"0\" is invalid"),
        ("--prompt-tokens 8 --prompt-pool 0", "--prompt-pool \"0\" is invalid"),
        ("--prompt-tokens 100000 --prompt-pool 10000", "lower --prompt-pool"),
        ("--cache-bust", "--cache-bust only applies to synthetic prompts"),
        ("--seed 3", "--seed draws the --rate schedule and synthetic lengths"),
    ] {
        let out = Llmload::run(&mock).args(args).args("-n 1 --no-preflight").output();
        out.expect_code(2);
        assert!(out.stderr.contains(says), "{args}: {}", out.context());
    }
}

#[test]
fn a_sweep_of_replayed_prompts_says_so_and_synthetic_levels_draw_afresh() {
    let mock = fast_mock(2, &[]);
    let sweep = |args: &str| Llmload::new("sweep").url(&mock).args(args).output();
    let out = sweep("-c 1,2 -n 4 --prompt hello");
    out.expect_code(0);
    assert!(out.stderr.contains("every level sends the same 1 prompt(s) (--prompt)"), "{}", out.context());
    assert!(out.stderr.contains("--cache-bust"), "{}", out.context());
    let before = truth(&mock).cached_tokens;
    let out = sweep("-c 1,2 -n 4 --prompt-tokens 48 --api openai-chat");
    out.expect_code(0);
    assert!(!out.stderr.contains("every level sends the same"), "{}", out.context());
    // Four prompts a level, each 48 tokens: the second level's are new, so nothing is cached
    // but the preflight's repeat of the first level's first prompt.
    assert_eq!(truth(&mock).cached_tokens - before, 48, "{}", out.context());
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

#[test]
fn the_servers_prompt_count_is_compared_with_what_was_sent() {
    // Long English words: one each by the estimate's rule (the mock's), several each by cl100k.
    let words = "internationalization uncharacteristically electroencephalography counterrevolutionaries";
    let line = |n: usize| vec![words; n].join(" ");
    let dir = Dir::new("prompt-count-files");
    let varied = dir.create("varied.txt", [5, 20, 40, 80, 120, 160].map(line).join("\n"));
    let same = dir.create("same.txt", [line(50), line(50)].join("\n"));
    let mock = fast_mock(2, &[]);
    let counts = |name: &str, api: &str, file: &std::path::Path, tokenizer: &str| {
        let file = file.to_str().unwrap();
        let args =
            ["--api", api, "--param-file", file, "--tokenizer", tokenizer, "-n", "12", "--no-preflight"];
        let (out, j, _) = run_recorded(&url(&mock), name, &args);
        assert_eq!(j["requests"]["ok"], 12, "{}", out.context());
        let warned: Vec<String> = j["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|w| {
                w.as_str().filter(|w| w.starts_with("the server counts the prompts")).map(String::from)
            })
            .collect();
        (out, j["tokens"]["prompt_vs_sent"].clone(), warned)
    };
    // With the estimate, the mock reports exactly what was sent.
    let (out, p, warned) = counts("estimate", "openai-chat", &varied, "estimate");
    assert_eq!(
        (&p["compared"], &p["diff_p10"], &p["diff_p90"], &p["relative_diff_pct"]),
        (&12.into(), &0.into(), &0.into(), &0.0.into()),
        "{}",
        out.context()
    );
    assert!(warned.is_empty(), "{}", out.context());
    // Counted by cl100k, the prompts are longer than the server says, the more the longer.
    let (out, p, warned) = counts("cl100k", "openai-chat", &varied, "cl100k");
    assert!(p["diff_spread_pct"].as_f64() > Some(5.0), "{p} {}", out.context());
    assert_eq!(warned.len(), 1, "{}", out.context());
    assert!(warned[0].contains("llmload's cl100k: over 12 requests"), "{}", out.context());
    assert!(warned[0].ends_with("give --tokenizer the served model's tokenizer.json"), "{}", out.context());
    assert!(out.stdout.contains("warning: the server counts the prompts differently"), "{}", out.context());
    // Prompts of one length: the same difference each time is a chat template's to a chat API…
    let (out, p, warned) = counts("same-chat", "openai-chat", &same, "cl100k");
    assert_eq!(p["diff_p10"], p["diff_p90"], "{}", out.context());
    assert!(p["relative_diff_pct"].as_f64() < Some(-5.0), "{p} {}", out.context());
    assert!(warned.is_empty(), "{}", out.context());
    // …but the completions API has none: the totals must agree too.
    let (out, _, warned) = counts("same-completions", "openai-completions", &same, "cl100k");
    assert_eq!(warned.len(), 1, "{}", out.context());
    assert!(warned[0].contains("% in all"), "{}", out.context());
}
