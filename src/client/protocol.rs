//! The seam between HTTP streaming and an API's meaning: a `Protocol` builds the request body and
//! reads each SSE event into a `Delta`. One file per API implements it; none of them does I/O or
//! timing.

use crate::sse::Event;
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

/// What one event meant. Empty strings mean "no text in this event".
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Delta {
    pub answer: String,
    pub reasoning: String,
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
    fn interpret(&self, event: &Event) -> Result<Delta, String>;
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

/// Parses an event's data as a JSON object, the one shape both APIs send.
pub fn json_object(data: &str) -> Result<serde_json::Value, String> {
    match serde_json::from_str::<serde_json::Value>(data) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(format!("event data is JSON but not an object: {}", snippet(data))),
        Err(e) => Err(format!("event data is not valid JSON ({e}): {}", snippet(data))),
    }
}

/// The first 120 characters of a text, for messages.
pub fn snippet(text: &str) -> String {
    let t = text.trim();
    match t.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

/// Takes the string at a JSON pointer out of `v`, or "" when it is absent or not a string.
pub fn take_str(v: &mut serde_json::Value, pointer: &str) -> String {
    match v.pointer_mut(pointer).map(serde_json::Value::take) {
        Some(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
