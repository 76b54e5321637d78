//! Every API against the mock's generated streams (its own timing, token count and usage), so
//! `llmload mock` + `llmload run --api X` works for users: exact counts against the mock's truth.

use crate::util::*;
use serde_json::{Value, json};

#[test]
fn every_api_runs_against_the_mock_with_exact_counts() {
    let mock = fast_mock(6, &[]);
    // (api, events per response): the mock's opening, text and closing events.
    let cases = [
        ("dify-chat", 7),          // 6 message + message_end (the ping has no data)
        ("dify-completion", 7),    // the same events
        ("dify-workflow", 14), // workflow_started + 3 node events, 6 text_chunk, 3 node events, workflow_finished
        ("openai-chat", 10),   // role chunk, 6 content, finish, usage, [DONE]
        ("openai-completions", 9), // 6 text, finish, usage, [DONE]
        ("anthropic", 12), // message_start, content_block_start, ping, 6 deltas, block stop, message_delta, message_stop
        ("openai-responses", 14), // created, in_progress, item and part added, 6 deltas, text/part/item done, completed
    ];
    for (i, (api, events)) in cases.into_iter().enumerate() {
        let (out, j, recs) = Llmload::run(&mock)
            .opt("--api", api)
            .args("--model m -c 2 -n 4 --quiet")
            .logged(&Dir::new(&format!("api-{api}")));
        out.expect_code(0);
        assert_eq!(j["requests"]["ok"], 4, "{api}{}", out.context());
        assert_eq!(j["config"]["api"], api);
        // Dify workflows report total tokens (prompt "你好" = 2 characters to the mock, plus 6).
        let per_request = if api == "dify-workflow" { 8 } else { 6 };
        assert_eq!(j["tokens"]["output_total"], 4 * per_request, "{api}{}", out.context());
        for r in &recs {
            assert_eq!(r["events"], events, "{api}: {r}");
            assert_eq!(r["text_events"], 6, "{api}: {r}");
            assert_eq!(r["token_source"], "usage", "{api}: {r}");
            if api.starts_with("dify") {
                assert!(r["server_latency_ms"].as_f64().is_some(), "{api}: {r}");
            }
            // The OpenAI shapes report the cache (the mock's prefix table: the run's one prompt was
            // read before, by the preflight, so only whole blocks of 16 count, none of 2 tokens).
            let cached = if api.starts_with("openai") { json!(0) } else { Value::Null };
            assert_eq!(r["cached_tokens"], cached, "{api}: {r}");
        }
        let truth = truth(&mock);
        // 4 requests and the preflight for each API; the preflight reads to its first text and
        // closes, so the mock wrote 1 to 6 of its text events: all of them, and its response
        // counts as completed, when the mock wrote its whole short answer before the close.
        let (sent, done) = (5 * (i as u64 + 1), 4 * (i as u64 + 1));
        assert_eq!(truth.requests, sent, "{api}");
        assert!((done..=sent).contains(&truth.completed), "{api}: {truth:?}");
        let preflights = truth.text_events - done * 6;
        assert!((i as u64 + 1..=6 * (i as u64 + 1)).contains(&preflights), "{api}: {truth:?}");
    }
}

#[test]
fn stream_errors_of_every_api_fail_the_request() {
    let mock = fast_mock(6, &["stream-error"]);
    for api in ["dify-chat", "dify-workflow", "openai-completions", "anthropic", "openai-responses"] {
        let out = Llmload::run(&mock).opt("--api", api).args("-n 2 --quiet").output();
        out.expect_code(1);
        assert!(out.stdout.contains("stream_error"), "{api}{}", out.context());
    }
}

#[test]
fn the_responses_api_is_found_from_its_url_and_ends_capped_answers_normally() {
    let mock = fast_mock(6, &[]);
    let dir = Dir::new("api-responses-auto");
    let (out, j) = Llmload::new("run")
        .opt("--url", format!("{}/v1/responses", url(&mock)))
        .args("-c 2 -n 5 --max-tokens 4")
        .json(&dir);
    out.expect_code(0);
    assert!(out.stderr.contains("--api auto: openai-responses (from the URL path)"), "{}", out.context());
    assert_eq!(j["config"]["api"], "openai-responses");
    // The cap ends each answer with `response.incomplete` (reason `max_output_tokens`): not a failure.
    assert_eq!((j["requests"]["ok"].as_u64(), j["requests"]["failed"].as_u64()), (Some(5), Some(0)));
    assert_eq!(j["tokens"]["output_total"], 5 * 4, "{}", out.context());
    assert_eq!(j["tokens"]["from_usage"], 5);
    // "你好" is 2 characters, the mock's prompt tokens.
    assert_eq!(j["tokens"]["input_total"], 5 * 2);
    assert_eq!(
        (j["tokens"]["cached_input"].as_u64(), j["tokens"]["cache_hit_share"].as_f64()),
        (Some(0), Some(0.0))
    );
    assert!(
        out.stdout.contains("cache hits  0 input tokens read from the server's cache: 0.0%"),
        "{}",
        out.context()
    );
    let t = truth(&mock);
    assert_eq!((t.requests, t.completed), (6, 5), "5 requests and the preflight: {t:?}");
    assert!((21..=24).contains(&t.text_events), "4 a request, and 1 to 4 for the preflight: {t:?}");
    assert_eq!(j["metrics"]["ttft_ms"]["count"], 5);
    assert_eq!(j["metrics"]["itl_ms"]["count"], 5 * 3);
}

#[test]
fn another_apis_stream_asks_whether_api_is_right() {
    // The mock answers Dify's path in Dify's shape, whatever the client asked for.
    let mock = fast_mock(6, &[]);
    let (out, j, recs) = Llmload::run(&mock)
        .args("--api openai-chat --path /v1/chat-messages -n 2 --quiet")
        .logged(&Dir::new("api-mismatch"));
    out.expect_code(1);
    let hint = "the stream closed between events before its terminal event: 7 events, none recognised as \
                openai-chat (first: `event: message`): is --api right?";
    assert_eq!(j["errors"]["truncated_stream"], 2, "{}", out.context());
    assert_eq!(j["error_messages"]["truncated_stream"], hint, "{}", out.context());
    assert!(recs.iter().all(|r| r["error"] == hint), "{}", out.context());
    // The preflight saw it too, and let the run measure it.
    assert!(
        out.stderr.contains(&format!("warning: preflight: truncated_stream: {hint}")),
        "{}",
        out.context()
    );
    assert_eq!(truth(&mock).requests, 3, "{}", out.context());
}

#[test]
fn openai_compatible_server_names_pick_openai_chat() {
    let mock = fast_mock(3, &[]);
    for name in ["vllm", "llama.cpp"] {
        let (out, j, _) = Llmload::run(&mock)
            .opt("--api", name)
            .args("-n 1 --quiet")
            .logged(&Dir::new(&format!("api-alias-{name}")));
        out.expect_code(0);
        assert_eq!(
            (j["config"]["api"].as_str(), j["requests"]["ok"].as_u64()),
            (Some("openai-chat"), Some(1))
        );
    }
}
