//! Dify's `/v1/chat-messages`: the event name lives inside the JSON, text in `message` and
//! `agent_message` answers, usage in `message_end.metadata.usage`, no `[DONE]`, and `error` events
//! that can follow HTTP 200.

use super::protocol::{Delta, Protocol, RequestSpec, json_text, parse_event};
use crate::sse::Event;
use serde::Deserialize;
use serde_json::{Value, json};
use std::borrow::Cow;

pub struct DifyChat;

/// The fields of a Dify event that matter; everything else is skipped without allocating.
#[derive(Deserialize)]
struct DifyEvent<'a> {
    #[serde(borrow, default)]
    event: Cow<'a, str>,
    #[serde(borrow)]
    answer: Option<Cow<'a, str>>,
    metadata: Option<Metadata>,
    status: Option<Value>,
    code: Option<Value>,
    message: Option<Value>,
}

#[derive(Deserialize)]
struct Metadata {
    usage: Option<super::openai::Usage>,
}

impl Protocol for DifyChat {
    fn path(&self) -> &'static str {
        "/v1/chat-messages"
    }

    fn body(&self, spec: &RequestSpec) -> Vec<u8> {
        json!({
            "inputs": {},
            "query": spec.prompt,
            "user": spec.user,
            "response_mode": "streaming",
            "auto_generate_name": false,
        })
        .to_string()
        .into_bytes()
    }

    fn interpret<'a>(&self, event: &'a Event) -> Result<Delta<'a>, String> {
        let ev: DifyEvent = parse_event(&event.data)?;
        let mut d = Delta::default();
        match ev.event.as_ref() {
            "message" | "agent_message" => d.answer = ev.answer.unwrap_or_default(),
            "message_end" => {
                d.done = true;
                if let Some(u) = ev.metadata.and_then(|m| m.usage) {
                    d.output_tokens = u.completion_tokens;
                    d.input_tokens = u.prompt_tokens;
                }
            }
            "error" => {
                d.error = Some(format!(
                    "Dify error event: status {} code {}: {}",
                    json_text(ev.status.as_ref()),
                    json_text(ev.code.as_ref()),
                    json_text(ev.message.as_ref())
                ));
            }
            _ => {}
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::protocol::interpret_owned;

    #[test]
    fn reads_answers_usage_and_errors() {
        let p = DifyChat;
        let d = interpret_owned(&p, r#"{"event":"message","answer":"你好"}"#).unwrap();
        assert_eq!(d.answer, "你好");
        let d = interpret_owned(&p, r#"{"event":"agent_message","answer":"hi"}"#).unwrap();
        assert_eq!(d.answer, "hi");
        let end = r#"{"event":"message_end","metadata":{"usage":{"prompt_tokens":3,"completion_tokens":7}}}"#;
        let d = interpret_owned(&p, end).unwrap();
        assert_eq!((d.done, d.output_tokens, d.input_tokens), (true, Some(7), Some(3)));
        let err = r#"{"event":"error","status":400,"code":"invalid_param","message":"bad"}"#;
        let d = interpret_owned(&p, err).unwrap();
        assert_eq!(d.error.as_deref(), Some("Dify error event: status 400 code invalid_param: bad"));
        assert!(interpret_owned(&p, r#"{"event":"workflow_started"}"#).unwrap() == Delta::default());
        assert!(interpret_owned(&p, "{not json").is_err());
        assert!(interpret_owned(&p, "[1]").is_err());
    }

    #[test]
    fn body_is_the_seed_request() {
        let spec = RequestSpec { prompt: "你好", model: None, max_tokens: None, user: "llmload-3" };
        let v: Value = serde_json::from_slice(&DifyChat.body(&spec)).unwrap();
        assert_eq!(v["query"], "你好");
        assert_eq!(v["user"], "llmload-3");
        assert_eq!(v["response_mode"], "streaming");
        assert_eq!(v["inputs"], json!({}));
    }
}
