//! Property tests: generated and mutated byte streams through the SSE parser and every protocol
//! adapter, split at random read boundaries. Nothing may panic, and the parser's buffers stay
//! within its limits whatever arrives. A deterministic generator (no crate, reproducible by
//! seed); `LLMLOAD_FUZZ_CASES` raises the case count beyond the default CI-sized budget.

use super::Protocol;
use super::anthropic::Anthropic;
use super::custom::Custom;
use super::dify::Dify;
use super::openai::OpenAi;
use super::responses::Responses;
use crate::sse::{Limits, Parser};
use crate::util::rng::SplitMix64;

/// Cases per run by default: a few seconds in a debug build on a small machine.
const DEFAULT_CASES: u64 = 100_000;

fn cases() -> u64 {
    std::env::var("LLMLOAD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES)
}

/// Every adapter: each Dify and OpenAI endpoint (the Responses API too), Anthropic, and a custom
/// API reading text and usage by JSON pointer.
fn adapters() -> Vec<Box<dyn Protocol>> {
    let custom = Custom {
        template: r#"{"input": {{prompt}}}"#.into(),
        text_path: "/choices/0/delta/content".into(),
        usage_path: Some("/usage/completion_tokens".into()),
        done_marker: Some("[DONE]".into()),
    };
    vec![
        Box::new(Dify::Chat),
        Box::new(Dify::Completion),
        Box::new(Dify::Workflow),
        Box::new(OpenAi::Chat),
        Box::new(OpenAi::Completions),
        Box::new(Responses),
        Box::new(Anthropic),
        Box::new(custom),
    ]
}

/// Picks below `n` (fragments, split points, mutations).
fn below(rng: &mut SplitMix64, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

/// Pieces of real streams of every supported shape, and the bytes that break them.
const FRAGMENTS: &[&[u8]] = &[
    b"data: ",
    b"data:",
    b"event: ",
    b"event: error\n",
    b"event: content_block_delta\n",
    b"event: message_delta\n",
    b"event: message_stop\n",
    b"event: response.output_text.delta\n",
    b"event: response.completed\n",
    b"id: 7\n",
    b"retry: 100\n",
    b": ping\n\n",
    b"\n",
    b"\r\n",
    b"\r",
    b"\n\n",
    b"\xEF\xBB\xBF",
    b"[DONE]",
    br#"{"event":"message","answer":"\u4f60\u597d"}"#,
    br#"{"event":"message_end","metadata":{"usage":{"completion_tokens":5,"prompt_tokens":2}}}"#,
    br#"{"event":"error","status":500,"code":"x","message":"boom"}"#,
    br#"{"event":"workflow_finished","data":{}}"#,
    br#"{"choices":[{"delta":{"role":"assistant"}}]}"#,
    br#"{"choices":[{"delta":{"content":"hi","reasoning_content":"r"}}]}"#,
    br#"{"choices":[{"text":"x","finish_reason":"stop"}]}"#,
    br#"{"choices":[],"usage":{"completion_tokens":18446744073709551615}}"#,
    br#"{"error":{"message":"bad","code":null}}"#,
    br#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"t"}}"#,
    br#"{"choices":[{"delta":{"content":null}}],"usage":{"completion_tokens":-1}}"#,
    br#"{"type":"response.output_text.delta","delta":"\u4f60","sequence_number":4}"#,
    br#"{"type":"response.completed","response":{"usage":{"input_tokens":3,"input_tokens_details":{"cached_tokens":2},"output_tokens":5}}}"#,
    br#"{"type":"response.failed","response":{"error":{"code":"server_error","message":"m"}}}"#,
    br#"{"type":"response.incomplete","response":{"incomplete_details":{"reason":"content_filter"}}}"#,
    br#"{"type":"error","code":null,"message":"x"}"#,
    br#"{"choices":[],"usage":{"prompt_tokens":9,"prompt_tokens_details":{"cached_tokens":8}}}"#,
    b"{",
    b"}",
    b"\"",
    b"\\u",
    b"1e999",
    b"null",
    b"\xFF\xFE",
    b"\xE4\xBD",
    b"\xC3\x28",
    b"\x00",
];

/// The event payloads among the fragments.
const JSON: &[&[u8]] = &[
    br#"{"event":"message","answer":"\u4f60\u597d"}"#,
    br#"{"event":"message_end","metadata":{"usage":{"completion_tokens":5,"prompt_tokens":2}}}"#,
    br#"{"choices":[{"delta":{"content":"hi","reasoning_content":"r"}}]}"#,
    br#"{"choices":[],"usage":{"completion_tokens":18446744073709551615}}"#,
    br#"{"error":{"message":"bad","code":null}}"#,
    br#"{"type":"content_block_delta","delta":{"type":"thinking_delta","thinking":"t"}}"#,
    br#"{"type":"message_delta","usage":{"output_tokens":3}}"#,
    br#"{"type":"response.reasoning_text.delta","delta":"r"}"#,
    br#"{"type":"response.completed","response":{"usage":{"input_tokens":3,"output_tokens":5}}}"#,
    b"[DONE]",
];

/// Event names as every API sends them (Anthropic's matter; the others' are ignored).
const EVENT_NAMES: &[&str] = &[
    "",
    "message",
    "ping",
    "error",
    "content_block_delta",
    "message_delta",
    "message_stop",
    "response.output_text.delta",
    "response.completed",
    "response.failed",
];

/// One stream: whole events, fragments, random bytes and long runs, then an optional mutation.
fn stream(rng: &mut SplitMix64, limits: Limits) -> Vec<u8> {
    let mut s = Vec::new();
    const ENDS: &[&[u8]] = &[b"\n", b"\r\n", b"\r"];
    for _ in 0..1 + below(rng, 12) {
        match below(rng, 20) {
            // A whole event, as servers send them.
            0..10 => {
                let data = JSON[below(rng, JSON.len())];
                let end = ENDS[below(rng, ENDS.len())];
                s.extend_from_slice(b"data: ");
                s.extend_from_slice(data);
                s.extend_from_slice(end);
                s.extend_from_slice(end);
            }
            10 => s.extend((0..below(rng, 16)).map(|_| rng.next_u64() as u8)),
            11 => s.extend(std::iter::repeat_n(b'x', below(rng, limits.max_line_bytes * 2))),
            _ => s.extend_from_slice(FRAGMENTS[below(rng, FRAGMENTS.len())]),
        }
    }
    if !s.is_empty() && below(rng, 4) == 0 {
        let i = below(rng, s.len());
        s[i] ^= 1 << below(rng, 8);
    }
    s
}

#[test]
fn random_streams_never_panic_and_stay_bounded() {
    let limits = Limits { max_line_bytes: 256, max_event_bytes: 1024 };
    let protocols = adapters();
    let mut rng = SplitMix64::new(0x5EED);
    let (mut events, mut errors) = (0u64, 0u64);
    for _ in 0..cases() {
        let bytes = stream(&mut rng, limits);
        let mut parser = Parser::new(limits);
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at(1 + below(&mut rng, rest.len()));
            rest = tail;
            let fed = parser.feed(chunk, &mut |ev| {
                events += 1;
                for p in &protocols {
                    let _ = p.interpret(ev);
                }
            });
            assert!(parser.buffered() <= limits.max_line_bytes + limits.max_event_bytes + 64);
            if fed.is_err() {
                errors += 1;
                break;
            }
        }
        parser.finish();
    }
    // The generator reaches both the events and the limits, or this test proves little.
    assert!(events > cases() / 2 && errors > cases() / 100, "events {events}, limit errors {errors}");
}

#[test]
fn mutated_event_data_never_panics_an_adapter() {
    let protocols = adapters();
    let mut rng = SplitMix64::new(0xDA7A);
    let json: Vec<&[u8]> = FRAGMENTS.iter().filter(|f| f.starts_with(b"{")).copied().collect();
    for _ in 0..cases() / 4 {
        let mut data = json[below(&mut rng, json.len())].to_vec();
        for _ in 0..1 + below(&mut rng, 3) {
            let i = below(&mut rng, data.len());
            match below(&mut rng, 3) {
                0 => data[i] = rng.next_u64() as u8,
                1 => data.truncate(i),
                _ => data.insert(i, FRAGMENTS[below(&mut rng, FRAGMENTS.len())][0]),
            }
            if data.is_empty() {
                break;
            }
        }
        let event = crate::sse::Event {
            event: EVENT_NAMES[below(&mut rng, EVENT_NAMES.len())].into(),
            data: String::from_utf8_lossy(&data).into_owned(),
            id: String::new(),
        };
        for p in &protocols {
            let _ = p.interpret(&event);
        }
    }
}
