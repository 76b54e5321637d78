//! The seam between HTTP streaming and an API's meaning: a `Protocol` builds the request body and
//! reads each SSE event into a `Delta`. One file per API implements it; none of them does I/O or
//! timing.

use crate::sse::Event;
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// What one request asks for, independent of the API's JSON shape.
#[derive(Debug, Clone, Copy)]
pub struct RequestSpec<'a> {
    pub prompt: &'a str,
    pub model: Option<&'a str>,
    pub max_tokens: Option<u32>,
    /// A stable per-worker user name, so per-user server state is realistic.
    pub user: &'a str,
}

/// What one event meant. Empty strings mean "no text in this event". Text borrows from the
/// event's data where it can: this runs once per streamed token on every worker.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Delta<'a> {
    pub answer: Cow<'a, str>,
    pub reasoning: Cow<'a, str>,
    pub output_tokens: Option<u64>,
    pub input_tokens: Option<u64>,
    /// The API's normal terminal event (`[DONE]`, `message_end`).
    pub done: bool,
    /// An error event inside a 2xx stream, with the server's message.
    pub error: Option<String>,
}

pub trait Protocol: Send + Sync {
    /// The path appended to the base URL, e.g. `/v1/chat-messages`.
    fn path(&self) -> &'static str;
    /// The JSON request body.
    fn body(&self, spec: &RequestSpec) -> Vec<u8>;
    /// Reads one event; `Err` describes an event this API cannot have sent (malformed).
    fn interpret<'a>(&self, event: &'a Event) -> Result<Delta<'a>, String>;
}

/// The APIs `--api` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    DifyChat,
    OpenAiChat,
}

impl Api {
    pub const NAMES: &'static str = "dify-chat, openai-chat";

    pub fn name(&self) -> &'static str {
        match self {
            Api::DifyChat => "dify-chat",
            Api::OpenAiChat => "openai-chat",
        }
    }

    pub fn protocol(&self) -> Box<dyn Protocol> {
        match self {
            Api::DifyChat => Box::new(super::dify::DifyChat),
            Api::OpenAiChat => Box::new(super::openai::OpenAiChat),
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Api {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "dify-chat" | "dify" => Ok(Api::DifyChat),
            "openai-chat" | "openai" => Ok(Api::OpenAiChat),
            _ => Err(format!("unknown API: use one of {}", Api::NAMES)),
        }
    }
}

/// Parses an event's data as the API's typed event; the error says what was wrong and quotes it.
pub fn parse_event<'a, T: serde::Deserialize<'a>>(data: &'a str) -> Result<T, String> {
    serde_json::from_str(data)
        .map_err(|e| format!("event data is not the expected JSON ({e}): {}", snippet(data)))
}

/// The first 120 characters of a text, for messages.
pub fn snippet(text: &str) -> String {
    let t = text.trim();
    match t.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
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

/// Test helper: interprets `data` as one event and detaches the result from it.
#[cfg(test)]
pub fn interpret_owned(p: &dyn Protocol, data: &str) -> Result<Delta<'static>, String> {
    let event = Event { event: String::new(), data: data.into(), id: None };
    p.interpret(&event).map(|d| Delta {
        answer: Cow::Owned(d.answer.into_owned()),
        reasoning: Cow::Owned(d.reasoning.into_owned()),
        output_tokens: d.output_tokens,
        input_tokens: d.input_tokens,
        done: d.done,
        error: d.error,
    })
}
