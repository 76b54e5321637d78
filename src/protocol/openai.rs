//! OpenAI-compatible chat completions and completions (vLLM, SGLang, llama.cpp, Ollama, TGI…):
//! text in `choices[0].delta.content` (chat, with tool-call `arguments` counted as output) or
//! `choices[0].text` (completions), reasoning in `reasoning_content` or `reasoning`, usage in a
//! last chunk (asked for with `stream_options.include_usage`; some servers never send it; the
//! prompt-cache hits in `prompt_tokens_details.cached_tokens`),
//! `[DONE]` at the end, `{"error":…}` mid-stream.

use super::{Api, Delta, Protocol, RequestSpec, json_text, parse_event};
use crate::sse::Event;
use serde::Deserialize;
use serde_json::{Value, json};
use std::borrow::Cow;

/// Which OpenAI endpoint; they share chunks and differ in body and where text lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenAi {
    Chat,
    Completions,
}

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
    /// Completions put the text here.
    #[serde(borrow, deserialize_with = "super::text", default)]
    text: Option<Cow<'a, str>>,
    /// `stop`, `length`, `tool_calls`… in the choice's last chunk.
    #[serde(borrow, deserialize_with = "super::text", default)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ChunkDelta<'a> {
    #[serde(borrow, deserialize_with = "super::text", default)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "super::text", default)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "super::text", default)]
    reasoning: Option<Cow<'a, str>>,
    /// Only allocated in chunks that call tools.
    #[serde(borrow)]
    tool_calls: Option<Vec<ToolCall<'a>>>,
}

#[derive(Deserialize)]
struct ToolCall<'a> {
    #[serde(borrow)]
    function: Option<Function<'a>>,
}

#[derive(Deserialize)]
struct Function<'a> {
    #[serde(borrow, deserialize_with = "super::text", default)]
    arguments: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Usage {
    completion_tokens: Option<u64>,
    prompt_tokens: Option<u64>,
    completion_tokens_details: Option<Details>,
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Deserialize)]
struct Details {
    reasoning_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct PromptDetails {
    cached_tokens: Option<u64>,
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

/// The text of a chunk's tool-call arguments (one call per chunk in practice; more are joined).
fn arguments(calls: Vec<ToolCall<'_>>) -> Cow<'_, str> {
    let mut args = calls.into_iter().filter_map(|c| c.function?.arguments).filter(|a| !a.is_empty());
    match (args.next(), args.next()) {
        (None, _) => Cow::Borrowed(""),
        (Some(a), None) => a,
        (Some(a), Some(b)) => Cow::Owned([a, b].into_iter().chain(args).collect()),
    }
}

impl Protocol for OpenAi {
    fn api(&self) -> Api {
        match self {
            OpenAi::Chat => Api::OpenAiChat,
            OpenAi::Completions => Api::OpenAiCompletions,
        }
    }

    fn body(&self, spec: &RequestSpec) -> Vec<u8> {
        let mut body = json!({
            "model": spec.model.unwrap_or("default"),
            "stream": true,
            "stream_options": {"include_usage": true},
            "user": spec.user,
        });
        match self {
            OpenAi::Chat => {
                body["messages"] = spec
                    .prompt
                    .messages
                    .clone()
                    .unwrap_or_else(|| json!([{"role": "user", "content": spec.prompt.text}]));
            }
            OpenAi::Completions => body["prompt"] = spec.prompt.text.clone().into(),
        }
        super::capped_body(body, "max_tokens", spec)
    }

    fn interpret<'a>(&self, event: &'a Event) -> Result<Delta<'a>, String> {
        let mut d = Delta { recognised: true, ..Delta::default() };
        if event.data.trim() == "[DONE]" {
            d.done = true;
            return Ok(d);
        }
        let chunk: Chunk = parse_event(&event.data)?;
        // Every chunk has `choices` or `usage`; another API's JSON has neither.
        d.recognised = chunk.choices.is_some() || chunk.usage.is_some() || chunk.error.is_some();
        if let Some(err) = chunk.error {
            let msg = err.get("message").map_or_else(|| json_text(Some(&err)), |m| json_text(Some(m)));
            d.error = Some(format!("error event: {msg}"));
            return Ok(d);
        }
        if let Some(choice) = chunk.choices {
            d.model_stopped = choice.finish_reason.as_deref() == Some("stop");
            if let Some(text) = choice.text {
                d.answer = text;
            }
            if let Some(delta) = choice.delta {
                d.answer = delta.content.unwrap_or_default();
                if d.answer.is_empty() {
                    d.answer = delta.tool_calls.map(arguments).unwrap_or_default();
                }
                d.reasoning =
                    delta.reasoning_content.filter(|r| !r.is_empty()).or(delta.reasoning).unwrap_or_default();
            }
        }
        if let Some(u) = chunk.usage {
            d.output_tokens = u.completion_tokens;
            d.input_tokens = u.prompt_tokens;
            d.reasoning_tokens = u.completion_tokens_details.and_then(|r| r.reasoning_tokens);
            d.cached_tokens = u.prompt_tokens_details.and_then(|p| p.cached_tokens);
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{interpret_owned, known};
    use crate::workload::Prompt;
    use serde_json::Map;

    #[test]
    fn reads_content_reasoning_usage_done_and_errors() {
        let p = OpenAi::Chat;
        let role = r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#;
        assert_eq!(interpret_owned(&p, role).unwrap(), known());
        let null = r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}"#;
        assert_eq!(interpret_owned(&p, null).unwrap(), known());
        let d =
            interpret_owned(&p, r#"{"choices":[{"delta":{"role":"assistant","content":"好"}}]}"#).unwrap();
        assert_eq!(d.answer, "好", "a role repeated in every chunk changes nothing");
        let d = interpret_owned(&p, r#"{"choices":[{"delta":{"reasoning_content":"嗯"}}]}"#).unwrap();
        assert_eq!((d.answer.as_ref(), d.reasoning.as_ref()), ("", "嗯"));
        let d = interpret_owned(&p, r#"{"choices":[{"delta":{"reasoning":"so"}}]}"#).unwrap();
        assert_eq!(d.reasoning, "so");
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":9,"completion_tokens_details":{"reasoning_tokens":6}}}"#;
        let d = interpret_owned(&p, usage).unwrap();
        assert_eq!((d.output_tokens, d.input_tokens, d.reasoning_tokens), (Some(9), Some(4), Some(6)));
        assert_eq!(d.cached_tokens, None, "no details: the cache is not reported");
        let cached = r#"{"choices":[],"usage":{"prompt_tokens":40,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":32}}}"#;
        assert_eq!(interpret_owned(&p, cached).unwrap().cached_tokens, Some(32));
        let null = r#"{"choices":[],"usage":{"prompt_tokens":40,"completion_tokens":9,"prompt_tokens_details":null}}"#;
        assert_eq!(interpret_owned(&p, null).unwrap().cached_tokens, None);
        assert!(interpret_owned(&p, "[DONE]").unwrap().done);
        let d = interpret_owned(&p, r#"{"error":{"message":"overloaded","type":"x"}}"#).unwrap();
        assert_eq!(d.error.as_deref(), Some("error event: overloaded"));
        assert!(interpret_owned(&p, r#"{"choices":[{"delta":{"content":"x"#).is_err());
        assert!(interpret_owned(&p, "[1]").is_err());
        let escaped = r#"{"choices":[{"delta":{"content":"\u4f60\n"}}],"usage":null}"#;
        assert_eq!(interpret_owned(&p, escaped).unwrap().answer, "你\n");
    }

    #[test]
    fn only_chunks_with_choices_usage_or_an_error_are_recognised() {
        let p = OpenAi::Chat;
        let ours = [
            r#"{"choices":[{"delta":{"content":"x"}}]}"#,
            r#"{"choices":[],"usage":{"completion_tokens":1}}"#,
            r#"{"error":{"message":"x"}}"#,
            "[DONE]",
        ];
        for data in ours {
            assert!(interpret_owned(&p, data).unwrap().recognised, "{data}");
        }
        let theirs = [
            r#"{"event":"message","answer":"x"}"#,
            r#"{"type":"content_block_delta","delta":{"text":"x"}}"#,
            r#"{"token":{"text":"x"}}"#,
        ];
        for data in theirs {
            assert!(!interpret_owned(&p, data).unwrap().recognised, "{data}");
        }
        assert_eq!(p.api(), Api::OpenAiChat);
        assert_eq!(OpenAi::Completions.api(), Api::OpenAiCompletions);
    }

    #[test]
    fn tool_call_arguments_are_output() {
        let p = OpenAi::Chat;
        let first = r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}"#;
        assert_eq!(interpret_owned(&p, first).unwrap(), known());
        let args =
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}"#;
        assert_eq!(interpret_owned(&p, args).unwrap().answer, "{\"city\":");
        let two = r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"a"}},{"function":{"arguments":"b"}}]}}]}"#;
        assert_eq!(interpret_owned(&p, two).unwrap().answer, "ab");
    }

    #[test]
    fn a_tool_call_stream_is_timed_and_counted_by_its_arguments() {
        let mut deltas = Vec::new();
        let mut parser = crate::sse::Parser::new(crate::sse::Limits::default());
        let bytes =
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/openai_tool_calls.sse"));
        parser.feed(bytes, &mut |ev| deltas.push(interpret_owned(&OpenAi::Chat, &ev.data).unwrap())).unwrap();
        let text: Vec<&str> = deltas.iter().map(|d| d.answer.as_ref()).filter(|a| !a.is_empty()).collect();
        assert_eq!(text, ["{\"", "location", "\":\"", "Paris", ",", " France", "\"}"]);
        let usage = &deltas[deltas.len() - 2];
        assert_eq!(
            (usage.input_tokens, usage.output_tokens, usage.cached_tokens, usage.reasoning_tokens),
            (Some(1536), Some(17), Some(1280), Some(0))
        );
        assert!(deltas.last().unwrap().done);
    }

    #[test]
    fn completions_read_choice_text() {
        let p = OpenAi::Completions;
        let d = interpret_owned(&p, r#"{"object":"text_completion","choices":[{"index":0,"text":"ition"}]}"#)
            .unwrap();
        assert_eq!(d.answer, "ition");
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":8}}"#;
        assert_eq!(interpret_owned(&p, usage).unwrap().output_tokens, Some(8));
    }

    #[test]
    fn bodies_ask_for_streamed_usage_caps_and_exact_lengths() {
        let prompt = Prompt::text("hi");
        let inputs = Map::new();
        let spec = RequestSpec {
            prompt: &prompt,
            model: Some("m"),
            max_tokens: Some(16),
            user: "u",
            inputs: &inputs,
            conversation_id: None,
            ignore_eos: true,
            extra: None,
        };
        let v: Value = serde_json::from_slice(&OpenAi::Chat.body(&spec)).unwrap();
        assert_eq!(
            v,
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true,
                   "stream_options": {"include_usage": true}, "user": "u", "max_tokens": 16, "ignore_eos": true})
        );
        let v: Value = serde_json::from_slice(&OpenAi::Completions.body(&spec)).unwrap();
        assert_eq!((v["prompt"].as_str(), v.get("messages")), (Some("hi"), None));
        let mut chat = Prompt::text("x");
        chat.messages = Some(json!([{"role": "system", "content": "s"}, {"role": "user", "content": "x"}]));
        let spec = RequestSpec { prompt: &chat, ignore_eos: false, max_tokens: None, ..spec };
        let v: Value = serde_json::from_slice(&OpenAi::Chat.body(&spec)).unwrap();
        assert_eq!(v["messages"][0]["content"], "s");
        assert_eq!((v.get("ignore_eos"), v.get("max_tokens")), (None, None));
        let extra = serde_json::from_str(r#"{"temperature": 0, "user": "x", "tools": []}"#).unwrap();
        let v: Value =
            serde_json::from_slice(&OpenAi::Chat.body(&RequestSpec { extra: Some(&extra), ..spec })).unwrap();
        assert_eq!((&v["temperature"], &v["user"], &v["tools"]), (&json!(0), &json!("x"), &json!([])));
        assert_eq!(v["stream"], true, "what is not in the extra fields stays the adapter's");
    }

    #[test]
    fn a_stop_finish_reason_is_the_model_stopping() {
        let p = OpenAi::Chat;
        let stop = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
        assert!(interpret_owned(&p, stop).unwrap().model_stopped);
        for other in ["\"length\"", "\"tool_calls\"", "null"] {
            let data = format!(r#"{{"choices":[{{"index":0,"delta":{{}},"finish_reason":{other}}}]}}"#);
            assert!(!interpret_owned(&p, &data).unwrap().model_stopped, "{data}");
        }
        let completion = r#"{"choices":[{"index":0,"text":"","finish_reason":"stop"}]}"#;
        assert!(interpret_owned(&OpenAi::Completions, completion).unwrap().model_stopped);
    }
}
