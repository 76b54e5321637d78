//! Anthropic Messages (`/v1/messages`): `x-api-key` and `anthropic-version` headers, a required
//! `max_tokens`, real `event:` lines; text in `content_block_delta` `text_delta` (and tool-use
//! `input_json_delta`, output like OpenAI's tool-call arguments), reasoning in `thinking_delta`;
//! input usage (and `cache_read_input_tokens`, the prompt-cache hits) in `message_start`, output
//! in `message_delta`; `message_stop` ends the stream; `event: error` can follow HTTP 200.

use super::{Api, Delta, Protocol, RequestSpec, json_text, parse_event};
use crate::sse::Event;
use serde::Deserialize;
use serde_json::{Value, json};
use std::borrow::Cow;

pub struct Anthropic;

/// The API requires `max_tokens`; this is sent when neither `--max-tokens` nor the prompt sets it.
pub const DEFAULT_MAX_TOKENS: u32 = 1024;
const VERSION: &str = "2023-06-01";

/// The fields of an event that matter; everything else is skipped without allocating.
#[derive(Deserialize)]
struct AnthropicEvent<'a> {
    #[serde(borrow, rename = "type", default)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    delta: Option<EventDelta<'a>>,
    usage: Option<Usage>,
    message: Option<Message>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct EventDelta<'a> {
    #[serde(borrow, deserialize_with = "super::text", default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "super::text", default)]
    thinking: Option<Cow<'a, str>>,
    /// A tool call's arguments, streamed as JSON text.
    #[serde(borrow, deserialize_with = "super::text", default)]
    partial_json: Option<Cow<'a, str>>,
    /// `message_delta`'s reason the answer ended: `end_turn`, `max_tokens`, `tool_use`…
    #[serde(borrow, deserialize_with = "super::text", default)]
    stop_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Message {
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Usage {
    input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    output_tokens: Option<u64>,
}

impl Usage {
    /// The whole prompt (`input_tokens` counts only what was neither written to nor read from
    /// the cache) and the part read from the cache, where this usage gives them (`message_start`
    /// always; `message_delta` repeats them, cumulative, on newer servers).
    fn read_input(&self, d: &mut Delta) {
        let cache = self.cache_creation_input_tokens.unwrap_or(0) + self.cache_read_input_tokens.unwrap_or(0);
        if let Some(n) = self.input_tokens {
            d.input_tokens = Some(n + cache);
        }
        if self.cache_read_input_tokens.is_some() {
            d.cached_tokens = self.cache_read_input_tokens;
        }
    }
}

impl Protocol for Anthropic {
    fn api(&self) -> Api {
        Api::Anthropic
    }

    fn body(&self, spec: &RequestSpec) -> Vec<u8> {
        let mut body = json!({
            "model": spec.model.unwrap_or("default"),
            "max_tokens": spec.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            "messages": [{"role": "user", "content": spec.prompt.text}],
            "stream": true,
            "metadata": {"user_id": spec.user},
        });
        if let Some(Value::Array(messages)) = &spec.prompt.messages {
            // Anthropic takes the system prompt beside the messages, not among them.
            let (system, rest): (Vec<&Value>, Vec<&Value>) =
                messages.iter().partition(|m| m["role"] == "system");
            body["messages"] = rest.into_iter().cloned().collect();
            if !system.is_empty() {
                let text: Vec<&str> = system.iter().filter_map(|m| m["content"].as_str()).collect();
                body["system"] = text.join("\n").into();
            }
        }
        super::merge_extra(&mut body, spec.extra);
        body.to_string().into_bytes()
    }

    fn headers(&self, key: Option<&str>) -> Vec<(&'static str, String)> {
        let mut h = vec![("anthropic-version", VERSION.to_string())];
        h.extend(key.map(|k| ("x-api-key", k.to_string())));
        h
    }

    fn interpret<'a>(&self, event: &'a Event) -> Result<Delta<'a>, String> {
        let ev: AnthropicEvent = parse_event(&event.data)?;
        let mut d = Delta { recognised: true, ..Delta::default() };
        // The `event:` line and the JSON `type` agree on a well-behaved server; either names it.
        let kind = if event.event.is_empty() { ev.kind.as_ref() } else { event.event.as_str() };
        match kind {
            "content_block_delta" => {
                if let Some(delta) = ev.delta {
                    d.answer = delta.text.or(delta.partial_json).unwrap_or_default();
                    d.reasoning = delta.thinking.unwrap_or_default();
                }
            }
            "message_start" => {
                if let Some(u) = ev.message.and_then(|m| m.usage) {
                    u.read_input(&mut d);
                }
            }
            "message_delta" => {
                if let Some(u) = ev.usage {
                    d.output_tokens = u.output_tokens;
                    u.read_input(&mut d);
                }
                d.model_stopped = ev.delta.and_then(|x| x.stop_reason).as_deref() == Some("end_turn");
            }
            "message_stop" => d.done = true,
            "error" => {
                let err = ev.error.unwrap_or(Value::Null);
                let (kind, msg) = (json_text(err.get("type")), json_text(err.get("message")));
                d.error = Some(format!("Anthropic error event: {kind}: {msg}"));
            }
            "content_block_start" | "content_block_stop" | "ping" => {}
            _ => d.recognised = false,
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{interpret_named, interpret_owned, known};
    use crate::workload::Prompt;
    use serde_json::Map;

    #[test]
    fn reads_text_thinking_usage_stop_and_errors() {
        let p = Anthropic;
        let start = r#"{"type":"message_start","message":{"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":5,"output_tokens":1}}}"#;
        let d = interpret_named(&p, "message_start", start).unwrap();
        assert_eq!((d.input_tokens, d.output_tokens, d.cached_tokens), (Some(30), None, Some(5)));
        let think =
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#;
        let d = interpret_named(&p, "content_block_delta", think).unwrap();
        assert_eq!((d.answer.as_ref(), d.reasoning.as_ref()), ("", "hm"));
        let sig =
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"Eq"}}"#;
        assert_eq!(interpret_named(&p, "content_block_delta", sig).unwrap(), known());
        let text = r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"你好"}}"#;
        assert_eq!(interpret_named(&p, "", text).unwrap().answer, "你好", "type alone names the event");
        let tool = r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"#;
        assert_eq!(interpret_named(&p, "content_block_delta", tool).unwrap().answer, "{\"city\":");
        let md =
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}"#;
        let d = interpret_named(&p, "message_delta", md).unwrap();
        assert_eq!((d.output_tokens, d.input_tokens, d.cached_tokens), (Some(42), None, None));
        let cumulative = r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,"output_tokens":42}}"#;
        let d = interpret_named(&p, "message_delta", cumulative).unwrap();
        assert_eq!((d.output_tokens, d.input_tokens, d.cached_tokens), (Some(42), Some(2058), Some(2048)));
        assert!(interpret_named(&p, "message_delta", md).unwrap().model_stopped);
        let capped =
            r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":9}}"#;
        assert!(!interpret_named(&p, "message_delta", capped).unwrap().model_stopped);
        assert!(interpret_named(&p, "message_stop", r#"{"type":"message_stop"}"#).unwrap().done);
        assert_eq!(interpret_named(&p, "ping", r#"{"type":"ping"}"#).unwrap(), known());
        let err = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        let d = interpret_named(&p, "error", err).unwrap();
        assert_eq!(d.error.as_deref(), Some("Anthropic error event: overloaded_error: Overloaded"));
        assert!(interpret_named(&p, "content_block_delta", "{oops").is_err());
    }

    #[test]
    fn only_anthropics_own_events_are_recognised() {
        let p = Anthropic;
        let block = r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#;
        assert!(interpret_owned(&p, block).unwrap().recognised, "type alone names it");
        assert!(interpret_named(&p, "content_block_stop", r#"{"index":0}"#).unwrap().recognised);
        let theirs = [
            r#"{"event":"message","answer":"x"}"#,
            r#"{"choices":[{"delta":{"content":"x"}}]}"#,
            r#"{"type":"response.created","response":{}}"#,
        ];
        for data in theirs {
            assert!(!interpret_owned(&p, data).unwrap().recognised, "{data}");
        }
        assert_eq!(p.api(), Api::Anthropic);
    }

    #[test]
    fn body_and_headers_follow_the_api() {
        let prompt = Prompt::text("hi");
        let inputs = Map::new();
        let spec = RequestSpec {
            prompt: &prompt,
            model: Some("claude"),
            max_tokens: None,
            user: "u",
            inputs: &inputs,
            conversation_id: None,
            ignore_eos: true,
            extra: None,
        };
        let v: Value = serde_json::from_slice(&Anthropic.body(&spec)).unwrap();
        assert_eq!(
            v,
            json!({"model": "claude", "max_tokens": 1024, "messages": [{"role": "user", "content": "hi"}],
                   "stream": true, "metadata": {"user_id": "u"}})
        );
        assert_eq!(
            Anthropic.headers(Some("sk-ant-1")),
            [("anthropic-version", "2023-06-01".to_string()), ("x-api-key", "sk-ant-1".to_string())]
        );
        assert_eq!(Anthropic.headers(None).len(), 1);
        let mut chat = Prompt::text("x");
        chat.messages =
            Some(json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "x"}]));
        let v: Value =
            serde_json::from_slice(&Anthropic.body(&RequestSpec { prompt: &chat, ..spec })).unwrap();
        assert_eq!(
            (v["system"].as_str(), &v["messages"]),
            (Some("be brief"), &json!([{"role": "user", "content": "x"}]))
        );
        let extra = serde_json::from_str(r#"{"temperature": 0.2, "system": "s"}"#).unwrap();
        let v: Value =
            serde_json::from_slice(&Anthropic.body(&RequestSpec { extra: Some(&extra), ..spec })).unwrap();
        assert_eq!((&v["temperature"], &v["system"]), (&json!(0.2), &json!("s")));
    }
}
