//! OpenAI-compatible chat completions (vLLM, SGLang, llama.cpp, Ollama, TGI…): text in
//! `choices[0].delta.content`, reasoning in `reasoning_content` or `reasoning`, usage in a last
//! chunk (asked for with `stream_options.include_usage`), `[DONE]` at the end, `{"error":…}`
//! mid-stream.

use super::protocol::{Delta, Protocol, RequestSpec, json_object, take_str};
use crate::sse::Event;
use serde_json::{Value, json};

pub struct OpenAiChat;

impl Protocol for OpenAiChat {
    fn path(&self) -> &'static str {
        "/v1/chat/completions"
    }

    fn body(&self, spec: &RequestSpec) -> Vec<u8> {
        let mut body = json!({
            "model": spec.model.unwrap_or("default"),
            "messages": [{"role": "user", "content": spec.prompt}],
            "stream": true,
            "stream_options": {"include_usage": true},
            "user": spec.user,
        });
        if let Some(n) = spec.max_tokens {
            body["max_tokens"] = n.into();
        }
        body.to_string().into_bytes()
    }

    fn interpret(&self, event: &Event) -> Result<Delta, String> {
        let mut d = Delta::default();
        if event.data.trim() == "[DONE]" {
            d.done = true;
            return Ok(d);
        }
        let mut v = json_object(&event.data)?;
        if let Some(err) = v.get("error") {
            let msg = err.get("message").and_then(Value::as_str).map(str::to_string);
            d.error = Some(format!("error event: {}", msg.unwrap_or_else(|| err.to_string())));
            return Ok(d);
        }
        d.answer = take_str(&mut v, "/choices/0/delta/content");
        d.reasoning = take_str(&mut v, "/choices/0/delta/reasoning_content");
        if d.reasoning.is_empty() {
            d.reasoning = take_str(&mut v, "/choices/0/delta/reasoning");
        }
        if let Some(usage) = v.get("usage").filter(|u| u.is_object()) {
            d.output_tokens = usage.get("completion_tokens").and_then(Value::as_u64);
            d.input_tokens = usage.get("prompt_tokens").and_then(Value::as_u64);
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
    fn reads_content_reasoning_usage_done_and_errors() {
        let p = OpenAiChat;
        let role = r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#;
        assert_eq!(p.interpret(&ev(role)).unwrap(), Delta::default());
        let null = r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}"#;
        assert_eq!(p.interpret(&ev(null)).unwrap(), Delta::default());
        let d = p.interpret(&ev(r#"{"choices":[{"delta":{"content":"好"}}]}"#)).unwrap();
        assert_eq!(d.answer, "好");
        let d = p.interpret(&ev(r#"{"choices":[{"delta":{"reasoning_content":"嗯"}}]}"#)).unwrap();
        assert_eq!((d.answer.as_str(), d.reasoning.as_str()), ("", "嗯"));
        let d = p.interpret(&ev(r#"{"choices":[{"delta":{"reasoning":"so"}}]}"#)).unwrap();
        assert_eq!(d.reasoning, "so");
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":9}}"#;
        let d = p.interpret(&ev(usage)).unwrap();
        assert_eq!((d.output_tokens, d.input_tokens), (Some(9), Some(4)));
        assert!(p.interpret(&ev("[DONE]")).unwrap().done);
        let d = p.interpret(&ev(r#"{"error":{"message":"overloaded","type":"x"}}"#)).unwrap();
        assert_eq!(d.error.as_deref(), Some("error event: overloaded"));
        assert!(p.interpret(&ev(r#"{"choices":[{"delta":{"content":"x"#)).is_err());
    }

    #[test]
    fn body_asks_for_streamed_usage_and_caps_tokens() {
        let spec = RequestSpec { prompt: "hi", model: Some("m"), max_tokens: Some(16), user: "u" };
        let v: Value = serde_json::from_slice(&OpenAiChat.body(&spec)).unwrap();
        assert_eq!(v["stream"], true);
        assert_eq!(v["stream_options"]["include_usage"], true);
        assert_eq!(v["max_tokens"], 16);
        assert_eq!(v["model"], "m");
        assert_eq!(v["messages"][0]["content"], "hi");
    }
}
