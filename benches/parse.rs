//! Hot-path costs per event: SSE framing, protocol interpretation, and histogram recording.
//! Prints the median of several timed rounds; `cargo bench --bench parse`.

use llmload::{Anthropic, Delta, Dify, Histogram, Limits, OpenAi, Parser, Protocol};
use std::hint::black_box;
use std::time::Instant;

const EVENTS: usize = 200_000;
const ROUNDS: usize = 7;

/// Median nanoseconds per item of `f`, which processes `items` items per call.
fn median_ns(items: usize, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_nanos() as f64 / items as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[ROUNDS / 2]
}

fn main() {
    let openai = r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"你好"},"logprobs":null,"finish_reason":null}]}"#;
    let dify = r#"data: {"event": "message", "task_id": "t", "id": "i", "message_id": "i", "conversation_id": "c", "answer": "你好", "created_at": 1705398420}"#;
    let anthropic = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"你好\"}}";
    let protocols: [(&str, &str, &dyn Protocol); 3] = [
        ("openai-chat", openai, &OpenAi::Chat),
        ("dify-chat", dify, &Dify::Chat),
        ("anthropic", anthropic, &Anthropic),
    ];
    for (name, line, protocol) in protocols {
        let stream: Vec<u8> = format!("{line}\n\n").repeat(EVENTS).into_bytes();
        let sse = median_ns(EVENTS, || {
            let mut p = Parser::new(Limits::default());
            let mut n = 0;
            for chunk in stream.chunks(4096) {
                p.feed(chunk, &mut |e| n += e.data.len()).unwrap();
            }
            black_box(n);
        });
        let mut events = Vec::with_capacity(EVENTS);
        Parser::new(Limits::default()).feed(&stream, &mut |e| events.push(e.clone())).unwrap();
        let interpret = median_ns(EVENTS, || {
            for e in &events {
                let d: Delta = protocol.interpret(e).unwrap();
                black_box(d);
            }
        });
        println!("{name:12} SSE framing {sse:7.1} ns/event   protocol interpret {interpret:7.1} ns/event");
    }
    let mut h = Histogram::new();
    let record = median_ns(1_000_000, || {
        for i in 0..1_000_000u64 {
            h.record(black_box(i * 7919 % 5_000_000));
        }
    });
    println!("histogram    record {record:.1} ns/value");
}
