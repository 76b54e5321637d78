//! OpenAI's Responses API (`/v1/responses`, served by OpenAI, vLLM and others): every event has
//! a JSON `type` (and usually a matching `event:` line). Text in `response.output_text.delta` (and
//! refusals and function-call arguments, output like chat's tool-call arguments), reasoning in
//! `response.reasoning_text.delta` and `response.reasoning_summary_text.delta`; usage and the
//! end in `response.completed`, or `response.incomplete` when the answer hit
//! `max_output_tokens` (the cap asked for: a normal end); `response.failed`, `response.incomplete`
//! for any other reason, and `error` events fail the request with the server's message.

use super::{Api, Delta, Protocol, RequestSpec, json_text, parse_event};
use crate::sse::Event;
use serde::Deserialize;
use serde_json::{Value, json};
use std::borrow::Cow;

pub struct Responses;

/// The fields of an event that matter; everything else is skipped without allocating.
#[derive(Deserialize)]
struct ResponsesEvent<'a> {
    #[serde(borrow, rename = "type", default)]
    kind: Cow<'a, str>,
    /// Text of every `*.delta` event (another API's object here is no text).
    #[serde(borrow, deserialize_with = "text_only", default)]
    delta: Option<Cow<'a, str>>,
    /// The whole response, on `response.*` lifecycle events.
    response: Option<Response>,
    /// An `error` event's own fields.
    code: Option<Value>,
    message: Option<Value>,
}

#[derive(Deserialize)]
struct Response {
    usage: Option<Usage>,
    error: Option<Value>,
    incomplete_details: Option<Value>,
}

#[derive(Deserialize)]
struct Usage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    input_tokens_details: Option<InputDetails>,
    output_tokens_details: Option<OutputDetails>,
}

#[derive(Deserialize)]
struct InputDetails {
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct OutputDetails {
    reasoning_tokens: Option<u64>,
}

/// A string, borrowed where it has no escapes; any other JSON value reads as none.
fn text_only<'de: 'a, 'a, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    struct Text<'a>(std::marker::PhantomData<Cow<'a, str>>);
    impl<'de: 'a, 'a> serde::de::Visitor<'de> for Text<'a> {
        type Value = Option<Cow<'a, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(s)))
        }
        fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(s.to_string())))
        }
        fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(s)))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    d.deserialize_any(Text(std::marker::PhantomData))
}

/// Why a response is incomplete (`incomplete_details.reason`), or `"unknown"`.
fn reason(details: Option<&Value>) -> String {
    match details.and_then(|d| d.get("reason")) {
        Some(r) if !r.is_null() => json_text(Some(r)),
        _ => "unknown".into(),
    }
}

/// `code: message`, or the one that is there.
fn code_message(code: Option<&Value>, message: Option<&Value>) -> String {
    let (code, message) = (json_text(code.filter(|c| !c.is_null())), json_text(message));
    match (code.is_empty(), message.is_empty()) {
        (false, false) => format!("{code}: {message}"),
        (false, true) => code,
        _ => message,
    }
}

impl Protocol for Responses {
    fn api(&self) -> Api {
        Api::OpenAiResponses
    }

    fn body(&self, spec: &RequestSpec) -> Vec<u8> {
        let input = match &spec.prompt.messages {
            Some(messages) => messages.clone(),
            None => spec.prompt.text.clone().into(),
        };
        let body = json!({
            "model": spec.model.unwrap_or("default"),
            "input": input,
            "stream": true,
        });
        super::capped_body(body, "max_output_tokens", spec)
    }

    fn interpret<'a>(&self, event: &'a Event) -> Result<Delta<'a>, String> {
        let ev: ResponsesEvent = parse_event(&event.data)?;
        let mut d = Delta { recognised: true, ..Delta::default() };
        // The JSON `type` is always there; the `event:` line repeats it where a server sends one.
        let kind = if ev.kind.is_empty() { event.event.as_str() } else { ev.kind.as_ref() };
        let usage = |d: &mut Delta, r: &Option<Response>| {
            if let Some(u) = r.as_ref().and_then(|r| r.usage.as_ref()) {
                d.input_tokens = u.input_tokens;
                d.output_tokens = u.output_tokens;
                d.cached_tokens = u.input_tokens_details.as_ref().and_then(|i| i.cached_tokens);
                d.reasoning_tokens = u.output_tokens_details.as_ref().and_then(|o| o.reasoning_tokens);
            }
        };
        match kind {
            "response.output_text.delta"
            | "response.refusal.delta"
            | "response.function_call_arguments.delta" => d.answer = ev.delta.unwrap_or_default(),
            "response.reasoning_text.delta" | "response.reasoning_summary_text.delta" => {
                d.reasoning = ev.delta.unwrap_or_default()
            }
            "response.completed" => {
                usage(&mut d, &ev.response);
                d.done = true;
            }
            "response.incomplete" => {
                usage(&mut d, &ev.response);
                let why = reason(ev.response.as_ref().and_then(|r| r.incomplete_details.as_ref()));
                match why.as_str() {
                    "max_output_tokens" => d.done = true,
                    _ => d.error = Some(format!("Responses API response.incomplete: {why}")),
                }
            }
            "response.failed" => {
                usage(&mut d, &ev.response);
                let err = ev.response.and_then(|r| r.error).unwrap_or(Value::Null);
                let msg = code_message(err.get("code"), err.get("message"));
                d.error = Some(format!("Responses API response.failed: {msg}"));
            }
            "error" => {
                let msg = code_message(ev.code.as_ref(), ev.message.as_ref());
                d.error = Some(format!("Responses API error event: {msg}"));
            }
            k if k.starts_with("response.") => {}
            _ => d.recognised = false,
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{interpret_named, interpret_owned, known};
    use crate::sse::{Limits, Parser};
    use crate::workload::Prompt;
    use serde_json::Map;

    /// Every event of a recorded stream, read by the adapter.
    fn read(bytes: &[u8]) -> Vec<Delta<'static>> {
        let mut out = Vec::new();
        let mut parser = Parser::new(Limits::default());
        parser
            .feed(bytes, &mut |ev| out.push(interpret_named(&Responses, &ev.event, &ev.data).unwrap()))
            .unwrap();
        parser.finish();
        out
    }

    #[test]
    fn a_captured_vllm_stream_reads_as_text_usage_and_its_end() {
        let deltas =
            read(include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vllm_responses.sse")));
        assert_eq!(deltas.len(), 14);
        assert!(deltas.iter().all(|d| d.recognised && d.error.is_none()));
        let text: String = deltas.iter().map(|d| d.answer.as_ref()).collect();
        assert_eq!(text, "天气生成使用量报告小狗发送一个JSON对象oringmentmen测试工具预测一首短诗qulo");
        assert_eq!(deltas.iter().filter(|d| !d.answer.is_empty()).count(), 6);
        let last = deltas.last().unwrap();
        assert!(last.done, "vLLM ends a capped answer with response.completed");
        assert_eq!(
            (last.input_tokens, last.output_tokens, last.cached_tokens, last.reasoning_tokens),
            (Some(17), Some(6), Some(0), Some(0))
        );
        assert_eq!(deltas.iter().filter(|d| d.done).count(), 1);
    }

    #[test]
    fn an_openai_shaped_stream_with_reasoning_and_cached_tokens() {
        let deltas = read(include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/openai_responses_reasoning.sse"
        )));
        assert!(deltas.iter().all(|d| d.recognised && d.error.is_none()));
        let reasoning: String = deltas.iter().map(|d| d.reasoning.as_ref()).collect();
        let answer: String = deltas.iter().map(|d| d.answer.as_ref()).collect();
        assert_eq!((reasoning.as_str(), answer.as_str()), ("Two plus two. ", "2 + 2 = 4."));
        let last = deltas.last().unwrap();
        assert_eq!(
            (last.done, last.input_tokens, last.output_tokens, last.cached_tokens, last.reasoning_tokens),
            (true, Some(1200), Some(30), Some(1024), Some(12))
        );
    }

    #[test]
    fn failures_carry_the_servers_message() {
        let p = Responses;
        let failed = r#"{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"The model crashed"}}}"#;
        let d = interpret_named(&p, "response.failed", failed).unwrap();
        assert_eq!(
            d.error.as_deref(),
            Some("Responses API response.failed: server_error: The model crashed")
        );
        assert!(!d.done);
        let err = r#"{"type":"error","code":"ERR_SOMETHING","message":"Something went wrong","param":null,"sequence_number":1}"#;
        let d = interpret_named(&p, "error", err).unwrap();
        assert_eq!(
            d.error.as_deref(),
            Some("Responses API error event: ERR_SOMETHING: Something went wrong")
        );
        let bare = r#"{"type":"error","code":null,"message":"overloaded"}"#;
        let d = interpret_owned(&p, bare).unwrap();
        assert_eq!(d.error.as_deref(), Some("Responses API error event: overloaded"));
        let filtered = r#"{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"content_filter"},"usage":{"input_tokens":3,"output_tokens":2}}}"#;
        let d = interpret_owned(&p, filtered).unwrap();
        assert_eq!(d.error.as_deref(), Some("Responses API response.incomplete: content_filter"));
        assert_eq!(d.output_tokens, Some(2));
        let capped = r#"{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":3,"output_tokens":8}}}"#;
        let d = interpret_owned(&p, capped).unwrap();
        assert_eq!((d.done, d.error, d.output_tokens), (true, None, Some(8)), "the cap asked for ends it");
        assert!(interpret_named(&p, "response.output_text.delta", "{oops").is_err());
    }

    #[test]
    fn tool_calls_and_refusals_are_output_and_only_its_own_events_are_recognised() {
        let p = Responses;
        let args = r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":"{\"city\":"}"#;
        assert_eq!(interpret_owned(&p, args).unwrap().answer, "{\"city\":");
        let refusal = r#"{"type":"response.refusal.delta","delta":"No."}"#;
        assert_eq!(interpret_owned(&p, refusal).unwrap().answer, "No.");
        let done = r#"{"type":"response.output_text.done","text":"whole"}"#;
        assert_eq!(interpret_owned(&p, done).unwrap(), known(), "the whole text again is not new text");
        let theirs = [
            r#"{"event":"message","answer":"x"}"#,
            r#"{"choices":[{"delta":{"content":"x"}}]}"#,
            r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#,
        ];
        for data in theirs {
            assert!(!interpret_owned(&p, data).unwrap().recognised, "{data}");
        }
        assert_eq!(p.api(), Api::OpenAiResponses);
    }

    #[test]
    fn the_body_sends_the_prompt_or_the_messages_as_input() {
        let prompt = Prompt::text("hi");
        let inputs = Map::new();
        let spec = RequestSpec {
            prompt: &prompt,
            model: Some("m"),
            max_tokens: Some(16),
            user: "u",
            inputs: &inputs,
            conversation_id: None,
            ignore_eos: false,
            extra: None,
        };
        let v: Value = serde_json::from_slice(&Responses.body(&spec)).unwrap();
        assert_eq!(v, json!({"model": "m", "input": "hi", "stream": true, "max_output_tokens": 16}));
        let mut chat = Prompt::text("x");
        chat.messages = Some(json!([{"role": "system", "content": "s"}, {"role": "user", "content": "x"}]));
        let spec = RequestSpec { prompt: &chat, max_tokens: None, ignore_eos: true, ..spec };
        let v: Value = serde_json::from_slice(&Responses.body(&spec)).unwrap();
        assert_eq!(
            v,
            json!({"model": "m", "input": [{"role": "system", "content": "s"}, {"role": "user", "content": "x"}],
                   "stream": true, "ignore_eos": true})
        );
    }
}
