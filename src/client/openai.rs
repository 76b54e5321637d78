//! OpenAI-compatible chat completions (vLLM, SGLang, llama.cpp, Ollama, TGI…): text in
//! `choices[0].delta.content`, reasoning in `reasoning_content` or `reasoning`, usage in a last
//! chunk (asked for with `stream_options.include_usage`), `[DONE]` at the end, `{"error":…}`
//! mid-stream.

use super::protocol::{Delta, Protocol, RequestSpec, json_text, parse_event};
use crate::sse::Event;
use serde::Deserialize;
use serde_json::{Value, json};
use std::borrow::Cow;

pub struct OpenAiChat;

/// The fields of a chunk that matter; everything else is skipped without allocating.
#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, deserialize_with = "first_choice", default)]
    choices: Option<Choice<'a>>,
    usage: Option<Usage>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow)]
    delta: Option<ChunkDelta<'a>>,
}

#[derive(Deserialize)]
struct ChunkDelta<'a> {
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reasoning: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(super) struct Usage {
    pub completion_tokens: Option<u64>,
    pub prompt_tokens: Option<u64>,
}

/// Reads `choices` keeping only the first element (streaming sends one choice unless `n` > 1),
/// so no `Vec` is allocated per event; `null` and `[]` read as none.
fn first_choice<'de: 'a, 'a, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Choice<'a>>, D::Error> {
    struct First<'a>(std::marker::PhantomData<Choice<'a>>);
    impl<'de: 'a, 'a> serde::de::Visitor<'de> for First<'a> {
        type Value = Option<Choice<'a>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of choices or null")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let first = seq.next_element()?;
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(first)
        }
    }
    d.deserialize_any(First(std::marker::PhantomData))
}

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

    fn interpret<'a>(&self, event: &'a Event) -> Result<Delta<'a>, String> {
        let mut d = Delta::default();
        if event.data.trim() == "[DONE]" {
            d.done = true;
            return Ok(d);
        }
        let chunk: Chunk = parse_event(&event.data)?;
        if let Some(err) = chunk.error {
            let msg = err.get("message").map_or_else(|| json_text(Some(&err)), |m| json_text(Some(m)));
            d.error = Some(format!("error event: {msg}"));
            return Ok(d);
        }
        let delta = chunk.choices.and_then(|c| c.delta);
        if let Some(delta) = delta {
            d.answer = delta.content.unwrap_or_default();
            d.reasoning =
                delta.reasoning_content.filter(|r| !r.is_empty()).or(delta.reasoning).unwrap_or_default();
        }
        if let Some(u) = chunk.usage {
            d.output_tokens = u.completion_tokens;
            d.input_tokens = u.prompt_tokens;
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::protocol::interpret_owned;

    #[test]
    fn reads_content_reasoning_usage_done_and_errors() {
        let p = OpenAiChat;
        let role = r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#;
        assert_eq!(interpret_owned(&p, role).unwrap(), Delta::default());
        let null = r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}"#;
        assert_eq!(interpret_owned(&p, null).unwrap(), Delta::default());
        let d = interpret_owned(&p, r#"{"choices":[{"delta":{"content":"好"}}]}"#).unwrap();
        assert_eq!(d.answer, "好");
        let d = interpret_owned(&p, r#"{"choices":[{"delta":{"reasoning_content":"嗯"}}]}"#).unwrap();
        assert_eq!((d.answer.as_ref(), d.reasoning.as_ref()), ("", "嗯"));
        let d = interpret_owned(&p, r#"{"choices":[{"delta":{"reasoning":"so"}}]}"#).unwrap();
        assert_eq!(d.reasoning, "so");
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":9}}"#;
        let d = interpret_owned(&p, usage).unwrap();
        assert_eq!((d.output_tokens, d.input_tokens), (Some(9), Some(4)));
        assert!(interpret_owned(&p, "[DONE]").unwrap().done);
        let d = interpret_owned(&p, r#"{"error":{"message":"overloaded","type":"x"}}"#).unwrap();
        assert_eq!(d.error.as_deref(), Some("error event: overloaded"));
        assert!(interpret_owned(&p, r#"{"choices":[{"delta":{"content":"x"#).is_err());
        assert!(interpret_owned(&p, "[1]").is_err());
        let escaped = r#"{"choices":[{"delta":{"content":"\u4f60\n"}}],"usage":null}"#;
        assert_eq!(interpret_owned(&p, escaped).unwrap().answer, "你\n");
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
