//! Dify's `/v1/chat-messages`: the event name lives inside the JSON, text in `message` and
//! `agent_message` answers, usage in `message_end.metadata.usage`, no `[DONE]`, and `error` events
//! that can follow HTTP 200.

use super::protocol::{Delta, Protocol, RequestSpec, json_object, take_str};
use crate::sse::Event;
use serde_json::{Value, json};

pub struct DifyChat;

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

    fn interpret(&self, event: &Event) -> Result<Delta, String> {
        let mut v = json_object(&event.data)?;
        let mut d = Delta::default();
        match v.get("event").and_then(Value::as_str).unwrap_or("") {
            "message" | "agent_message" => d.answer = take_str(&mut v, "/answer"),
            "message_end" => {
                d.done = true;
                let usage = v.pointer("/metadata/usage");
                let field = |name| usage.and_then(|u| u.get(name)).and_then(Value::as_u64);
                d.output_tokens = field("completion_tokens");
                d.input_tokens = field("prompt_tokens");
            }
            "error" => {
                let get = |k| v.get(k).map(|x: &Value| x.to_string().trim_matches('"').to_string());
                d.error = Some(format!(
                    "Dify error event: status {} code {}: {}",
                    get("status").unwrap_or_default(),
                    get("code").unwrap_or_default(),
                    get("message").unwrap_or_default()
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

    fn ev(data: &str) -> Event {
        Event { event: String::new(), data: data.into(), id: None }
    }

    #[test]
    fn reads_answers_usage_and_errors() {
        let p = DifyChat;
        let d = p.interpret(&ev(r#"{"event":"message","answer":"你好"}"#)).unwrap();
        assert_eq!(d.answer, "你好");
        let d = p.interpret(&ev(r#"{"event":"agent_message","answer":"hi"}"#)).unwrap();
        assert_eq!(d.answer, "hi");
        let end = r#"{"event":"message_end","metadata":{"usage":{"prompt_tokens":3,"completion_tokens":7}}}"#;
        let d = p.interpret(&ev(end)).unwrap();
        assert_eq!((d.done, d.output_tokens, d.input_tokens), (true, Some(7), Some(3)));
        let err = r#"{"event":"error","status":400,"code":"invalid_param","message":"bad"}"#;
        let d = p.interpret(&ev(err)).unwrap();
        assert_eq!(d.error.as_deref(), Some("Dify error event: status 400 code invalid_param: bad"));
        assert!(p.interpret(&ev(r#"{"event":"workflow_started"}"#)).unwrap() == Delta::default());
        assert!(p.interpret(&ev("{not json")).is_err());
        assert!(p.interpret(&ev("[1]")).is_err());
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
