//! Property tests: generated and mutated byte streams through the SSE parser and every protocol
//! adapter, split at random read boundaries. Nothing may panic, and the parser's buffers stay
//! within its limits whatever arrives. A deterministic generator (no crate, reproducible by
//! seed); `LLMLOAD_FUZZ_CASES` raises the case count beyond the default CI-sized budget.

use super::protocol::Api;
use crate::sse::{Limits, Parser};

/// Cases per run by default: a few seconds in a debug build on a small machine.
const DEFAULT_CASES: u64 = 200_000;

fn cases() -> u64 {
    std::env::var("LLMLOAD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES)
}

/// splitmix64: fast, and good enough to pick fragments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Pieces of real streams of every supported shape, and the bytes that break them.
const FRAGMENTS: &[&[u8]] = &[
    b"data: ",
    b"data:",
    b"event: ",
    b"event: error\n",
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
    b"[DONE]",
];

/// One stream: whole events, fragments, random bytes and long runs, then an optional mutation.
fn stream(rng: &mut Rng, limits: Limits) -> Vec<u8> {
    let mut s = Vec::new();
    const ENDS: &[&[u8]] = &[b"\n", b"\r\n", b"\r"];
    for _ in 0..1 + rng.below(12) {
        match rng.below(20) {
            // A whole event, as servers send them.
            0..10 => {
                let data = JSON[rng.below(JSON.len())];
                let end = ENDS[rng.below(ENDS.len())];
                s.extend_from_slice(b"data: ");
                s.extend_from_slice(data);
                s.extend_from_slice(end);
                s.extend_from_slice(end);
            }
            10 => s.extend((0..rng.below(16)).map(|_| rng.next() as u8)),
            11 => s.extend(std::iter::repeat_n(b'x', rng.below(limits.max_line_bytes * 2))),
            _ => s.extend_from_slice(FRAGMENTS[rng.below(FRAGMENTS.len())]),
        }
    }
    if !s.is_empty() && rng.below(4) == 0 {
        let i = rng.below(s.len());
        s[i] ^= 1 << rng.below(8);
    }
    s
}

#[test]
fn random_streams_never_panic_and_stay_bounded() {
    let limits = Limits { max_line_bytes: 256, max_event_bytes: 1024 };
    let protocols: Vec<_> = [Api::DifyChat, Api::OpenAiChat].iter().map(|a| a.protocol()).collect();
    let mut rng = Rng(0x5EED);
    let (mut events, mut errors) = (0u64, 0u64);
    for _ in 0..cases() {
        let bytes = stream(&mut rng, limits);
        let mut parser = Parser::new(limits);
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at(1 + rng.below(rest.len()));
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
    let protocols: Vec<_> = [Api::DifyChat, Api::OpenAiChat].iter().map(|a| a.protocol()).collect();
    let mut rng = Rng(0xDA7A);
    let json: Vec<&[u8]> = FRAGMENTS.iter().filter(|f| f.starts_with(b"{")).copied().collect();
    for _ in 0..cases() / 4 {
        let mut data = json[rng.below(json.len())].to_vec();
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(data.len());
            match rng.below(3) {
                0 => data[i] = rng.next() as u8,
                1 => data.truncate(i),
                _ => data.insert(i, FRAGMENTS[rng.below(FRAGMENTS.len())][0]),
            }
            if data.is_empty() {
                break;
            }
        }
        let event = crate::sse::Event {
            event: String::new(),
            data: String::from_utf8_lossy(&data).into_owned(),
            id: None,
        };
        for p in &protocols {
            let _ = p.interpret(&event);
        }
    }
}
