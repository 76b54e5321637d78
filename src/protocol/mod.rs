//! The seam between HTTP streaming and an API's meaning: a `Protocol` builds the request body and
//! headers and reads each SSE event into a `Delta`. One file per API family implements it; `api`
//! names the protocols `--api` accepts and the URL paths they live at. Pure: nothing here does
//! I/O or timing, and nothing here knows the client that sends the requests.

mod anthropic;
mod api;
mod custom;
mod dify;
#[cfg(test)]
mod fuzz;
mod openai;
mod responses;

pub use anthropic::Anthropic;
pub use api::{Api, endpoint};
pub use custom::{Custom, check_pointer, check_template};
pub use dify::Dify;
pub use openai::OpenAi;
pub use responses::Responses;

use crate::sse::Event;
use crate::workload::Prompt;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// What one request asks for, independent of the API's JSON shape.
#[derive(Debug, Clone, Copy)]
pub struct RequestSpec<'a> {
    pub prompt: &'a Prompt,
    pub model: Option<&'a str>,
    /// The prompt's own cap, else `--max-tokens`.
    pub max_tokens: Option<u32>,
    /// A stable per-worker user name, so per-user server state is realistic.
    pub user: &'a str,
    /// `--inputs` (Dify app variables); a JSONL line's own `inputs` are laid over them.
    pub inputs: &'a Map<String, Value>,
    /// Continue this Dify conversation (`--turns`).
    pub conversation_id: Option<&'a str>,
    /// Ask the server to generate exactly `max_tokens` (`--output-tokens`; vLLM's `ignore_eos`).
    pub ignore_eos: bool,
    /// Fields laid over the body the adapter built (`--extra-body`, then a JSONL line's
    /// `extra`), already checked by `config` against what this API's adapter must own.
    pub extra: Option<&'a Map<String, Value>>,
}

/// The end every OpenAI-family body shares: the output cap under `cap_key` (the Responses API
/// names it `max_output_tokens`), `ignore_eos`, the extra fields laid over, as bytes.
pub fn capped_body(mut body: Value, cap_key: &str, spec: &RequestSpec) -> Vec<u8> {
    if let Some(n) = spec.max_tokens {
        body[cap_key] = n.into();
    }
    if spec.ignore_eos {
        body["ignore_eos"] = true.into();
    }
    merge_extra(&mut body, spec.extra);
    body.to_string().into_bytes()
}

/// Lays `extra`'s fields over `body` (a JSON object): each key replaces the adapter's, whole.
/// The adapters that send JSON call it last, before serialising.
pub fn merge_extra(body: &mut Value, extra: Option<&Map<String, Value>>) {
    if let (Value::Object(body), Some(extra)) = (body, extra) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
}

/// What one event meant. Empty strings mean "no text in this event". Text borrows from the
/// event's data where it can: this runs once per streamed token on every worker.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Delta<'a> {
    pub answer: Cow<'a, str>,
    pub reasoning: Cow<'a, str>,
    pub output_tokens: Option<u64>,
    pub input_tokens: Option<u64>,
    /// The reasoning part of `output_tokens`, where usage breaks it out.
    pub reasoning_tokens: Option<u64>,
    /// The part of `input_tokens` the server read from its prompt cache, where usage says.
    pub cached_tokens: Option<u64>,
    /// The server's own account of the request (Dify `usage.latency`, workflow `elapsed_time`).
    pub server_latency_s: Option<f64>,
    /// The server's own time to first token (Dify `usage.time_to_first_token`).
    pub server_ttft_s: Option<f64>,
    /// Dify's conversation, for the next turn.
    pub conversation_id: Option<Cow<'a, str>>,
    /// The API's normal terminal event (`[DONE]`, `message_end`, `message_stop`).
    pub done: bool,
    /// The server says the model ended the answer itself (OpenAI `finish_reason: "stop"`,
    /// Anthropic `stop_reason: "end_turn"`), not a length cap: with fewer tokens than asked
    /// for, the answer ended early.
    pub model_stopped: bool,
    /// An error event inside a 2xx stream, with the server's message.
    pub error: Option<String>,
    /// The API knows this event as one of its own (text, usage, a control event, its terminal
    /// event, an error): a stream with none is likely another API's, which `--api` should name.
    pub recognised: bool,
}

pub trait Protocol: Send + Sync {
    /// The `--api` this adapter speaks, for messages.
    fn api(&self) -> Api;
    /// The JSON request body.
    fn body(&self, spec: &RequestSpec) -> Vec<u8>;
    /// Reads one event; `Err` describes an event this API cannot have sent (malformed).
    fn interpret<'a>(&self, event: &'a Event) -> Result<Delta<'a>, String>;
    /// Headers for the API key (if any) and the API's fixed headers.
    fn headers(&self, key: Option<&str>) -> Vec<(&'static str, String)> {
        key.map(|k| ("Authorization", format!("Bearer {k}"))).into_iter().collect()
    }
    /// True when the end of the body is the stream's normal end (no terminal event exists).
    fn ends_at_close(&self) -> bool {
        false
    }
}

/// Parses an event's data as the API's typed event; the error says what was wrong and quotes it.
pub fn parse_event<'a, T: serde::Deserialize<'a>>(data: &'a str) -> Result<T, String> {
    serde_json::from_str(data)
        .map_err(|e| format!("event data is not the expected JSON ({e}): {}", snippet(data)))
}

/// An optional JSON string, borrowed from the event's data unless it has escapes. serde's
/// `borrow` borrows a bare `Cow<str>` but always copies one inside an `Option`: that was one
/// allocation per streamed token (found with a `malloc` probe under `perf`).
fn text<'de: 'a, 'a, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(<Option<Text<'a>> as serde::Deserialize>::deserialize(d)?.map(|t| t.0))
}

/// The first 120 characters of a text, for messages.
pub fn snippet(text: &str) -> String {
    cut(text, 120)
}

/// The first `n` characters of a text, trimmed, with `…` where it was cut.
fn cut(text: &str, n: usize) -> String {
    let t = text.trim();
    match t.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

/// An event as a message shows it, on one line: its name (the `event:` line, or Dify's
/// `event` inside the JSON), else the start of its data.
pub fn describe(event: &Event) -> String {
    if !event.event.is_empty() {
        return format!("event: {}", cut(&event.event, 40));
    }
    let named = serde_json::from_str::<Value>(&event.data).ok();
    match named.as_ref().and_then(|v| v.get("event")).and_then(Value::as_str) {
        Some(name) => format!("event: {}", cut(name, 40)),
        None => cut(&event.data.split_whitespace().collect::<Vec<_>>().join(" "), 40),
    }
}

/// A JSON value as message text: strings without their quotes, anything else as JSON.
pub fn json_text(v: Option<&serde_json::Value>) -> String {
    match v {
        None => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Test helper: interprets `data` as one event named `event` and detaches the result from it.
#[cfg(test)]
pub fn interpret_named(p: &dyn Protocol, event: &str, data: &str) -> Result<Delta<'static>, String> {
    let event = Event { event: event.into(), data: data.into(), id: String::new() };
    p.interpret(&event).map(|d| Delta {
        answer: Cow::Owned(d.answer.into_owned()),
        reasoning: Cow::Owned(d.reasoning.into_owned()),
        conversation_id: d.conversation_id.map(|c| Cow::Owned(c.into_owned())),
        output_tokens: d.output_tokens,
        input_tokens: d.input_tokens,
        reasoning_tokens: d.reasoning_tokens,
        cached_tokens: d.cached_tokens,
        server_latency_s: d.server_latency_s,
        server_ttft_s: d.server_ttft_s,
        done: d.done,
        model_stopped: d.model_stopped,
        error: d.error,
        recognised: d.recognised,
    })
}

/// Test helper: a delta that carries nothing but is the API's own event.
#[cfg(test)]
pub fn known() -> Delta<'static> {
    Delta { recognised: true, ..Delta::default() }
}

/// Test helper: `interpret_named` for an event without an `event:` line.
#[cfg(test)]
pub fn interpret_owned(p: &dyn Protocol, data: &str) -> Result<Delta<'static>, String> {
    interpret_named(p, "", data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_borrows_from_the_event_unless_it_has_escapes() {
        let ev = |data: &str| Event { event: String::new(), data: data.into(), id: String::new() };
        let plain = ev(r#"{"choices":[{"delta":{"content":"你好"}}]}"#);
        let escaped = ev(r#"{"choices":[{"delta":{"content":"a\nb"}}]}"#);
        let (p, a, d): (&dyn Protocol, &dyn Protocol, &dyn Protocol) =
            (&OpenAi::Chat, &Anthropic, &Dify::Chat);
        assert!(matches!(p.interpret(&plain).unwrap().answer, Cow::Borrowed("你好")));
        assert!(matches!(p.interpret(&escaped).unwrap().answer, Cow::Owned(ref s) if s == "a\nb"));
        let anthropic = ev(r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"hi"}}"#);
        assert!(matches!(a.interpret(&anthropic).unwrap().answer, Cow::Borrowed("hi")));
        let dify = ev(r#"{"event":"message","answer":"hi","conversation_id":"c1"}"#);
        let delta = d.interpret(&dify).unwrap();
        assert!(matches!(
            (delta.answer, delta.conversation_id),
            (Cow::Borrowed("hi"), Some(Cow::Borrowed("c1")))
        ));
    }

    #[test]
    fn extra_fields_replace_the_adapters_whole_and_add_new_ones() {
        let mut body = json!({"model": "m", "stream": true, "stop": ["a"], "n": {"x": 1}});
        let extra: Map<String, Value> =
            serde_json::from_str(r#"{"stop": ["b"], "n": {"y": 2}, "temperature": 0.5}"#).unwrap();
        merge_extra(&mut body, Some(&extra));
        assert_eq!(
            body,
            json!({"model": "m", "stream": true, "stop": ["b"], "n": {"y": 2}, "temperature": 0.5})
        );
        let before = body.clone();
        merge_extra(&mut body, None);
        assert_eq!(body, before);
    }

    #[test]
    fn events_are_described_by_name_or_the_start_of_their_data() {
        let ev =
            |event: &str, data: &str| Event { event: event.into(), data: data.into(), id: String::new() };
        assert_eq!(describe(&ev("message_start", "{}")), "event: message_start");
        assert_eq!(describe(&ev("", r#"{"event":"workflow_started","data":{}}"#)), "event: workflow_started");
        assert_eq!(describe(&ev("", "[DONE]")), "[DONE]");
        let long = format!("{{\n\"choices\": [{}]}}", "1, ".repeat(30));
        assert_eq!(describe(&ev("", &long)), "{ \"choices\": [1, 1, 1, 1, 1, 1, 1, 1, 1,…");
    }
}
