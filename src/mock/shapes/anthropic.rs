//! Anthropic Messages (`/v1/messages`) as `fixtures/sample_anthropic.sse` shows it: real `event:`
//! lines, `message_start` with input usage, one text content block, `ping`, `content_block_delta`
//! `text_delta`s, `message_delta` with output usage, `message_stop`; `event: error` mid-stream.

use serde_json::{Value, json};

use super::{Ask, End, Shape, SplitMix64, message_tokens, quote};

pub(in crate::mock) fn ask(body: &Value) -> Ask {
    let messages = body["messages"].as_array().map_or(0, |m| m.iter().map(message_tokens).sum::<u64>());
    Ask {
        stream: body["stream"] == true,
        prompt_tokens: messages + super::tokens(&body["system"]),
        max_tokens: body["max_tokens"].as_u64(),
        ignore_eos: false,
    }
}

pub(in crate::mock) struct Anthropic {
    id: String,
    model: String,
    prompt_tokens: u64,
}

/// An SSE event with its `event:` line, as Anthropic sends every one.
fn named(event: &str, json: &Value) -> Vec<u8> {
    format!("event: {event}\ndata: {json}\n\n").into_bytes()
}

impl Anthropic {
    pub(in crate::mock) fn new(body: &Value, rng: &mut SplitMix64) -> Self {
        Anthropic {
            id: format!("msg_{:016x}", rng.next_u64()),
            model: body["model"].as_str().unwrap_or("llmload-mock").to_string(),
            prompt_tokens: ask(body).prompt_tokens,
        }
    }

    fn stop_reason(end: &End) -> &'static str {
        if end.finish_reason == "length" { "max_tokens" } else { "end_turn" }
    }

    fn error(status: u16, message: &str) -> Value {
        let kind = match status {
            429 => "rate_limit_error",
            529 => "overloaded_error",
            401 => "authentication_error",
            _ if status < 500 => "invalid_request_error",
            _ => "api_error",
        };
        json!({"type": "error", "error": {"type": kind, "message": message}})
    }
}

impl Shape for Anthropic {
    fn opening(&self) -> Vec<Vec<u8>> {
        let start = json!({"type": "message_start", "message": {
            "id": self.id, "type": "message", "role": "assistant", "model": self.model, "content": [],
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": self.prompt_tokens, "output_tokens": 1}}});
        vec![
            named("message_start", &start),
            named(
                "content_block_start",
                &json!({"type": "content_block_start", "index": 0,
                                                  "content_block": {"type": "text", "text": ""}}),
            ),
            named("ping", &json!({"type": "ping"})),
        ]
    }

    fn text_json(&self, token: &str) -> String {
        format!(
            "{{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":{}}}}}",
            quote(token)
        )
    }

    fn text_event(&self, token: &str) -> Vec<u8> {
        format!("event: content_block_delta\ndata: {}\n\n", self.text_json(token)).into_bytes()
    }

    fn closing(&self, end: &End) -> Vec<Vec<u8>> {
        let delta = json!({"type": "message_delta",
                           "delta": {"stop_reason": Anthropic::stop_reason(end), "stop_sequence": null},
                           "usage": {"output_tokens": end.completion_tokens}});
        vec![
            named("content_block_stop", &json!({"type": "content_block_stop", "index": 0})),
            named("message_delta", &delta),
            named("message_stop", &json!({"type": "message_stop"})),
        ]
    }

    fn stream_error(&self) -> Vec<Vec<u8>> {
        vec![named(
            "error",
            &json!({"type": "error", "error": {"type": "overloaded_error",
                                                                "message": "mock: injected stream error"}}),
        )]
    }

    fn error_body(&self, status: u16, message: &str) -> String {
        Anthropic::error(status, message).to_string()
    }

    fn blocking_body(&self, text: &str, end: &End) -> String {
        json!({
            "id": self.id, "type": "message", "role": "assistant", "model": self.model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": Anthropic::stop_reason(end), "stop_sequence": null,
            "usage": {"input_tokens": end.prompt_tokens, "output_tokens": end.completion_tokens},
        })
        .to_string()
    }
}
