//! Each protocol's wire shapes: what a request asks for (streaming or not, prompt size, token
//! cap) and the bytes of its SSE events, error bodies and non-streaming bodies, modelled on the
//! streams in `fixtures/` (Dify chat-messages; OpenAI chat completions as vLLM sends them).
//!
//! A protocol is one `Shape` implementation plus one arm in `read`: OpenAI completions, OpenAI's
//! Responses API, Dify workflows and Anthropic Messages live in `shapes/`. Text events are
//! rendered from a pre-built prefix (the hot path, one per token); the rest use `serde_json`.
//! This module does not time, write or choose faults.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::script::SplitMix64;

mod anthropic;
mod completions;
mod responses;
mod workflow;

/// The APIs the mock serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    /// Dify `POST /v1/chat-messages`, and `/v1/completion-messages` (the same events).
    Dify,
    /// Dify `POST /v1/workflows/run`.
    DifyWorkflow,
    /// OpenAI-compatible `POST /v1/chat/completions`.
    OpenAi,
    /// OpenAI-compatible `POST /v1/completions`.
    OpenAiCompletions,
    /// OpenAI's Responses API, `POST /v1/responses`.
    OpenAiResponses,
    /// Anthropic `POST /v1/messages`.
    Anthropic,
}

/// What the request asks of the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Ask {
    pub stream: bool,
    /// The prompt text's tokens by the mock's own count (`tokens`), which needs no tokenizer.
    pub prompt_tokens: u64,
    /// The request's cap on generated tokens, if any.
    pub max_tokens: Option<u64>,
    /// `ignore_eos: true` (vLLM, SGLang, llama.cpp): generate to the cap, never end early.
    pub ignore_eos: bool,
}

/// How a response ended, for usage blocks and finish reasons.
#[derive(Debug, Clone, Copy)]
pub(super) struct End {
    pub prompt_tokens: u64,
    /// Units of the prompt's start the mock had read before (`prefixes`).
    pub cached_tokens: u64,
    pub completion_tokens: u64,
    /// `"stop"`, or `"length"` when the request's token cap cut the answer short.
    pub finish_reason: &'static str,
    /// Request read → this event, seconds (Dify reports it as `usage.latency`).
    pub latency_s: f64,
}

/// One response's renderings in one protocol. Events come back SSE-framed (`data: …\n\n`).
pub(super) trait Shape {
    /// Events sent as soon as the head is written, before the first token.
    fn opening(&self) -> Vec<Vec<u8>>;
    /// The JSON of the event that carries `token`.
    fn text_json(&self, token: &str) -> String;
    /// The events after the last token; the last of them is the terminal event.
    fn closing(&self, end: &End) -> Vec<Vec<u8>>;
    /// The protocol's in-stream error, ending the stream.
    fn stream_error(&self) -> Vec<Vec<u8>>;
    /// The JSON body of an HTTP error response.
    fn error_body(&self, status: u16, message: &str) -> String;
    /// The whole reply to a non-streaming request.
    fn blocking_body(&self, text: &str, end: &End) -> String;

    fn text_event(&self, token: &str) -> Vec<u8> {
        data(&self.text_json(token))
    }

    /// A text event cut off mid-JSON (still valid UTF-8): what a broken proxy might pass on.
    fn malformed_event(&self) -> Vec<u8> {
        data(first_half(&self.text_json(" ")))
    }
}

/// The shape for `api`, filled from the request body (anything, even `null`), and what the
/// request asks for. `seed` makes the generated ids reproducible.
pub(super) fn read(api: Route, body: &Value, seed: u64) -> (Box<dyn Shape + Send>, Ask) {
    let mut rng = SplitMix64::new(seed ^ IDS_SALT);
    match api {
        Route::Dify => (Box::new(Dify::new(body, &mut rng)), dify_ask(body)),
        Route::DifyWorkflow => (Box::new(workflow::Workflow::new(&mut rng)), workflow::ask(body)),
        Route::OpenAi => (Box::new(OpenAi::new(body, &mut rng)), openai_ask(body)),
        Route::OpenAiCompletions => {
            (Box::new(completions::Completions::new(body, &mut rng)), completions::ask(body))
        }
        Route::OpenAiResponses => (Box::new(responses::Responses::new(body, &mut rng)), responses::ask(body)),
        Route::Anthropic => (Box::new(anthropic::Anthropic::new(body, &mut rng)), anthropic::ask(body)),
    }
}

/// Keeps id draws apart from the jitter draws of the same response.
const IDS_SALT: u64 = 0x6d6f_636b_5f69_6473;

/// Built for every event, so sized once.
fn data(json: &str) -> Vec<u8> {
    let mut event = Vec::with_capacity(json.len() + 8);
    for part in [&b"data: "[..], json.as_bytes(), b"\n\n"] {
        event.extend_from_slice(part);
    }
    event
}

/// The first half of `s`, backed off to a character boundary.
pub(super) fn first_half(s: &str) -> &str {
    let mut end = s.len() / 2;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A JSON string literal; serializing a `str` cannot fail.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The mock's own token count of a JSON string (0 for anything else): each CJK character
/// (Han, kana, Hangul, CJK punctuation, full-width forms) is one token, each run of other letters
/// or digits one, each other character but whitespace one. Written here, not shared with the
/// client, and on the same rule as its default estimate, so a prompt llmload sized to N
/// estimated tokens is reported back as N.
fn tokens(v: &Value) -> u64 {
    v.as_str().map_or(0, super::prefixes::units)
}

/// The request's cap on output tokens: `max_completion_tokens`, `max_tokens` or (the Responses
/// API's) `max_output_tokens`, the first given.
fn cap(body: &Value) -> Option<u64> {
    ["max_completion_tokens", "max_tokens", "max_output_tokens"].iter().find_map(|k| body[*k].as_u64())
}

/// All the prompt text a request carries, in order, for the prefix table.
pub(super) fn prompt_text(api: Route, body: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let messages = |v: &Value| {
        v.as_array().map_or_else(Vec::new, |m| {
            m.iter()
                .map(|m| match &m["content"] {
                    Value::Array(parts) => {
                        parts.iter().map(|p| text(&p["text"])).collect::<Vec<_>>().join("\n")
                    }
                    content => text(content),
                })
                .collect()
        })
    };
    match api {
        Route::Dify => [text(&body["query"]), text(&body["inputs"]["query"])].join("\n"),
        Route::DifyWorkflow => text(&body["inputs"]["query"]),
        Route::OpenAi => messages(&body["messages"]).join("\n"),
        Route::OpenAiCompletions => text(&body["prompt"]),
        Route::OpenAiResponses => match &body["input"] {
            Value::Array(_) => messages(&body["input"]).join("\n"),
            input => text(input),
        },
        Route::Anthropic => [vec![text(&body["system"])], messages(&body["messages"])].concat().join("\n"),
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn uuid(rng: &mut SplitMix64) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// An nginx-style error page, as a gateway in front of an API sends.
pub(super) fn html_error_page(status: u16, reason: &str) -> Vec<u8> {
    format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n\
         <center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n\
         </body>\r\n</html>\r\n"
    )
    .into_bytes()
}

/// A 200 page that is not an event stream (a login wall or captive portal).
pub(super) fn html_not_sse_page() -> Vec<u8> {
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n\
      <body><h1>Please sign in to continue</h1></body></html>\n"
        .to_vec()
}

fn dify_ask(body: &Value) -> Ask {
    Ask {
        stream: body["response_mode"] != "blocking",
        // A completion app may carry the prompt only in its inputs.
        prompt_tokens: tokens(&body["query"]).max(tokens(&body["inputs"]["query"])),
        max_tokens: None,
        ignore_eos: false,
    }
}

/// Dify chat app: the event name is inside the JSON, `message_end` closes, no `[DONE]`.
struct Dify {
    task_id: String,
    message_id: String,
    conversation_id: String,
    created: u64,
    /// The ids every event repeats, pre-rendered in Dify's field order.
    common: String,
}

impl Dify {
    fn new(body: &Value, rng: &mut SplitMix64) -> Self {
        let conversation_id = match body["conversation_id"].as_str() {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => uuid(rng),
        };
        let (task_id, message_id, created) = (uuid(rng), uuid(rng), unix_now());
        let common = format!(
            "\"conversation_id\":{},\"message_id\":{},\"created_at\":{created},\"task_id\":{},\"id\":{}",
            quote(&conversation_id),
            quote(&message_id),
            quote(&task_id),
            quote(&message_id),
        );
        Dify { task_id, message_id, conversation_id, created, common }
    }

    /// Dify's JSON error body, shared by every Dify app type.
    fn error_body_for(status: u16, message: &str) -> String {
        let code = match status {
            400 => "invalid_param",
            404 => "not_found",
            429 => "too_many_requests",
            _ if status < 500 => "bad_request",
            _ => "internal_server_error",
        };
        json!({"code": code, "message": message, "status": status}).to_string()
    }

    fn usage(end: &End) -> Value {
        json!({
            "prompt_tokens": end.prompt_tokens,
            "completion_tokens": end.completion_tokens,
            "total_tokens": end.prompt_tokens + end.completion_tokens,
            "latency": end.latency_s,
        })
    }
}

impl Shape for Dify {
    fn opening(&self) -> Vec<Vec<u8>> {
        vec![b"event: ping\n\n".to_vec()]
    }

    fn text_json(&self, token: &str) -> String {
        format!(
            "{{\"event\":\"message\",{},\"answer\":{},\"from_variable_selector\":null}}",
            self.common,
            quote(token)
        )
    }

    fn closing(&self, end: &End) -> Vec<Vec<u8>> {
        let metadata = json!({
            "annotation_reply": null,
            "retriever_resources": [],
            "usage": Dify::usage(end),
        });
        vec![data(&format!(
            "{{\"event\":\"message_end\",{},\"metadata\":{metadata},\"files\":null}}",
            self.common
        ))]
    }

    fn stream_error(&self) -> Vec<Vec<u8>> {
        let event = json!({
            "event": "error",
            "task_id": self.task_id,
            "message_id": self.message_id,
            "status": 500,
            "code": "internal_error",
            "message": "mock: injected stream error",
        });
        vec![data(&event.to_string())]
    }

    fn error_body(&self, status: u16, message: &str) -> String {
        Dify::error_body_for(status, message)
    }

    fn blocking_body(&self, text: &str, end: &End) -> String {
        json!({
            "event": "message",
            "task_id": self.task_id,
            "id": self.message_id,
            "message_id": self.message_id,
            "conversation_id": self.conversation_id,
            "mode": "chat",
            "answer": text,
            "metadata": {"usage": Dify::usage(end), "retriever_resources": []},
            "created_at": self.created,
        })
        .to_string()
    }
}

fn openai_ask(body: &Value) -> Ask {
    let prompt_tokens =
        body["messages"].as_array().map_or(0, |messages| messages.iter().map(message_tokens).sum());
    Ask {
        stream: body["stream"] == true,
        prompt_tokens,
        max_tokens: cap(body),
        ignore_eos: body["ignore_eos"] == true,
    }
}

/// Tokens of a message's `content`: a string, or an array of parts with `text`.
fn message_tokens(message: &Value) -> u64 {
    match &message["content"] {
        Value::Array(parts) => parts.iter().map(|p| tokens(&p["text"])).sum(),
        content => tokens(content),
    }
}

/// OpenAI-compatible chat completions, as vLLM streams them: a role-only first chunk, one
/// chunk per token, a finish chunk, an optional usage chunk, then `[DONE]`.
struct OpenAi {
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
    /// `{"id":…,"object":…,"created":…,"model":…,` — every chunk starts with it.
    head: String,
}

impl OpenAi {
    fn new(body: &Value, rng: &mut SplitMix64) -> Self {
        let id = format!("chatcmpl-{:016x}", rng.next_u64());
        let model = body["model"].as_str().unwrap_or("llmload-mock").to_string();
        let created = unix_now();
        let head = format!(
            "{{\"id\":{},\"object\":\"chat.completion.chunk\",\"created\":{created},\"model\":{},",
            quote(&id),
            quote(&model)
        );
        OpenAi { id, created, model, include_usage: body["stream_options"]["include_usage"] == true, head }
    }

    fn chunk(&self, rest: &str) -> Vec<u8> {
        data(&format!("{}{rest}", self.head))
    }

    fn usage(end: &End) -> Value {
        json!({
            "prompt_tokens": end.prompt_tokens,
            "completion_tokens": end.completion_tokens,
            "total_tokens": end.prompt_tokens + end.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": end.cached_tokens},
        })
    }

    fn error(status: u16, message: &str) -> Value {
        let (kind, code) = match status {
            429 => ("requests", "rate_limit_exceeded"),
            _ if status < 500 => ("invalid_request_error", "invalid_request"),
            _ => ("server_error", "internal_error"),
        };
        json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
    }

    /// The in-stream error both OpenAI shapes send (vLLM's: an error chunk, then `[DONE]`).
    fn stream_error_events() -> Vec<Vec<u8>> {
        let error = OpenAi::error(500, "mock: injected stream error");
        vec![data(&error.to_string()), data("[DONE]")]
    }
}

impl Shape for OpenAi {
    fn opening(&self) -> Vec<Vec<u8>> {
        vec![self.chunk(
            "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\
             \"logprobs\":null,\"finish_reason\":null}]}",
        )]
    }

    fn text_json(&self, token: &str) -> String {
        format!(
            "{}\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{}}},\"logprobs\":null,\
             \"finish_reason\":null}}]}}",
            self.head,
            quote(token)
        )
    }

    fn closing(&self, end: &End) -> Vec<Vec<u8>> {
        let mut events = vec![self.chunk(&format!(
            "\"choices\":[{{\"index\":0,\"delta\":{{}},\"logprobs\":null,\"finish_reason\":\"{}\"}}]}}",
            end.finish_reason
        ))];
        if self.include_usage {
            let usage = OpenAi::usage(end);
            events.push(self.chunk(&format!("\"choices\":[],\"usage\":{usage}}}")));
        }
        events.push(data("[DONE]"));
        events
    }

    fn stream_error(&self) -> Vec<Vec<u8>> {
        OpenAi::stream_error_events()
    }

    fn error_body(&self, status: u16, message: &str) -> String {
        OpenAi::error(status, message).to_string()
    }

    fn blocking_body(&self, text: &str, end: &End) -> String {
        json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": null,
                "finish_reason": end.finish_reason,
            }],
            "usage": OpenAi::usage(end),
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end() -> End {
        End {
            prompt_tokens: 3,
            cached_tokens: 0,
            completion_tokens: 2,
            finish_reason: "length",
            latency_s: 0.5,
        }
    }

    /// The JSON payload of a `data:` event.
    fn payload(event: &[u8]) -> Value {
        let s = std::str::from_utf8(event).unwrap();
        let json = s.strip_prefix("data: ").unwrap().strip_suffix("\n\n").unwrap();
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn asks_are_read_from_each_protocols_request() {
        let dify = json!({"query": "你好 ab", "inputs": {}, "user": "u", "response_mode": "blocking"});
        let (_, ask) = read(Route::Dify, &dify, 1);
        let want = Ask { stream: false, prompt_tokens: 3, ..Ask::default() };
        assert_eq!(ask, want);
        let openai = json!({
            "model": "m", "stream": true, "max_tokens": 9, "max_completion_tokens": 4,
            "messages": [{"role": "user", "content": "abc"},
                         {"role": "user", "content": [{"type": "text", "text": "汉字"}]}],
        });
        let (_, ask) = read(Route::OpenAi, &openai, 1);
        assert_eq!(ask, Ask { stream: true, prompt_tokens: 3, max_tokens: Some(4), ignore_eos: false });
        let (_, ask) = read(Route::OpenAi, &Value::Null, 1);
        assert_eq!(ask, Ask::default());
        let exact = json!({"stream": true, "ignore_eos": true, "max_output_tokens": 7, "messages": []});
        let (_, ask) = read(Route::OpenAi, &exact, 1);
        assert_eq!(ask, Ask { stream: true, prompt_tokens: 0, max_tokens: Some(7), ignore_eos: true });
    }

    #[test]
    fn prompt_tokens_count_cjk_characters_words_and_symbols() {
        let t = |s: &str| tokens(&json!(s));
        assert_eq!(t("你好，世界"), 5);
        assert_eq!(t("Hello, world!"), 4);
        assert_eq!(t("GPU 利用率 is 95%"), 7);
        assert_eq!(t("  \n\t"), 0);
        assert_eq!(tokens(&json!(42)), 0);
    }

    #[test]
    fn dify_events_match_the_fixture_shape() {
        let body = json!({"conversation_id": "c\"1"});
        let (shape, _) = read(Route::Dify, &body, 7);
        assert_eq!(shape.opening(), [b"event: ping\n\n".to_vec()]);
        let msg = payload(&shape.text_event("好"));
        assert_eq!((msg["event"].as_str(), msg["answer"].as_str()), (Some("message"), Some("好")));
        assert_eq!(msg["conversation_id"], "c\"1");
        assert_eq!(msg["id"], msg["message_id"]);
        let closing = shape.closing(&end());
        let usage = &payload(&closing[0])["metadata"]["usage"];
        assert_eq!((usage["completion_tokens"].as_u64(), usage["total_tokens"].as_u64()), (Some(2), Some(5)));
        assert_eq!(usage["latency"], 0.5);
        let err = payload(&shape.stream_error()[0]);
        assert_eq!((err["event"].as_str(), err["status"].as_u64()), (Some("error"), Some(500)));
    }

    #[test]
    fn openai_events_match_the_fixture_shape() {
        let body = json!({"model": "qwen", "stream_options": {"include_usage": true}});
        let (shape, _) = read(Route::OpenAi, &body, 7);
        let role = payload(&shape.opening()[0]);
        assert_eq!(role["choices"][0]["delta"], json!({"role": "assistant", "content": ""}));
        assert_eq!(
            (role["model"].as_str(), role["object"].as_str()),
            (Some("qwen"), Some("chat.completion.chunk"))
        );
        let text = payload(&shape.text_event("字"));
        assert_eq!(text["choices"][0]["delta"]["content"], "字");
        let closing = shape.closing(&end());
        assert_eq!(closing.len(), 3);
        assert_eq!(payload(&closing[0])["choices"][0]["finish_reason"], "length");
        assert_eq!(payload(&closing[1])["usage"]["completion_tokens"], 2);
        assert_eq!(closing[2], b"data: [DONE]\n\n");
        let errors = shape.stream_error();
        assert!(payload(&errors[0])["error"]["message"].is_string());
        assert_eq!(errors[1], b"data: [DONE]\n\n");
    }

    #[test]
    fn malformed_events_are_utf8_but_not_json() {
        for api in [
            Route::Dify,
            Route::DifyWorkflow,
            Route::OpenAi,
            Route::OpenAiCompletions,
            Route::OpenAiResponses,
            Route::Anthropic,
        ] {
            let (shape, _) = read(api, &json!({"model": "模型模型模型模型"}), 3);
            let event = String::from_utf8(shape.malformed_event()).unwrap();
            let json = event.strip_prefix("data: ").unwrap().trim_end();
            assert!(serde_json::from_str::<Value>(json).is_err(), "{json}");
        }
    }

    /// The `event:` name and JSON payload of an event.
    fn named(event: &[u8]) -> (String, Value) {
        let s = std::str::from_utf8(event).unwrap();
        let (name, rest) = match s.strip_prefix("event: ") {
            Some(r) => r.split_once('\n').unwrap(),
            None => ("", s),
        };
        (name.to_string(), payload(rest.as_bytes()))
    }

    #[test]
    fn completions_workflow_and_anthropic_asks() {
        let (_, ask) =
            read(Route::OpenAiCompletions, &json!({"prompt": "abc", "stream": true, "max_tokens": 4}), 1);
        assert_eq!(ask, Ask { stream: true, prompt_tokens: 1, max_tokens: Some(4), ignore_eos: false });
        let (_, ask) =
            read(Route::DifyWorkflow, &json!({"inputs": {"query": "你好"}, "response_mode": "streaming"}), 1);
        assert_eq!(ask, Ask { stream: true, prompt_tokens: 2, ..Ask::default() });
        let body = json!({"system": "ab", "messages": [{"role": "user", "content": "xyz"}], "max_tokens": 9, "stream": true});
        let (_, ask) = read(Route::Anthropic, &body, 1);
        assert_eq!(ask, Ask { stream: true, prompt_tokens: 2, max_tokens: Some(9), ignore_eos: false });
        let (_, ask) = read(Route::Dify, &json!({"inputs": {"query": "four 四"}}), 1);
        assert_eq!(ask.prompt_tokens, 2, "a completion app's prompt may be only in inputs");
    }

    #[test]
    fn workflow_events_match_the_fixture_shape() {
        let (shape, _) = read(Route::DifyWorkflow, &json!({}), 7);
        let opening: Vec<String> =
            shape.opening().iter().map(|e| payload(e)["event"].as_str().unwrap().into()).collect();
        assert_eq!(opening, ["workflow_started", "node_started", "node_finished", "node_started"]);
        let text = payload(&shape.text_event("字"));
        assert_eq!((text["event"].as_str(), text["data"]["text"].as_str()), (Some("text_chunk"), Some("字")));
        let closing = shape.closing(&end());
        let last = payload(closing.last().unwrap());
        assert_eq!(
            (last["event"].as_str(), last["data"]["status"].as_str()),
            (Some("workflow_finished"), Some("succeeded"))
        );
        assert_eq!(
            (last["data"]["total_tokens"].as_u64(), last["data"]["elapsed_time"].as_f64()),
            (Some(5), Some(0.5))
        );
        let failed = payload(shape.stream_error().last().unwrap());
        assert_eq!(failed["data"]["status"], "failed");
        assert!(failed["data"]["error"].is_string());
    }

    #[test]
    fn anthropic_events_have_event_lines_and_usage() {
        let (shape, _) =
            read(Route::Anthropic, &json!({"messages": [{"role": "user", "content": "你好"}]}), 7);
        let opening: Vec<(String, Value)> = shape.opening().iter().map(|e| named(e)).collect();
        assert_eq!(opening[0].0, "message_start");
        assert_eq!(opening[0].1["message"]["usage"]["input_tokens"], 2);
        assert_eq!((opening[1].0.as_str(), opening[2].0.as_str()), ("content_block_start", "ping"));
        let (name, text) = named(&shape.text_event("好"));
        assert_eq!((name.as_str(), text["delta"]["text"].as_str()), ("content_block_delta", Some("好")));
        let closing: Vec<(String, Value)> = shape.closing(&end()).iter().map(|e| named(e)).collect();
        let names: Vec<&str> = closing.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["content_block_stop", "message_delta", "message_stop"]);
        assert_eq!(closing[1].1["usage"]["output_tokens"], 2);
        assert_eq!(closing[1].1["delta"]["stop_reason"], "max_tokens");
        assert_eq!(named(&shape.stream_error()[0]).0, "error");
    }

    #[test]
    fn responses_events_follow_the_documented_sequence() {
        let body = json!({"model": "gpt", "input": [{"role": "user", "content": "hi"}], "stream": true,
                          "max_output_tokens": 2, "instructions": "ab"});
        let (shape, ask) = read(Route::OpenAiResponses, &body, 7);
        assert_eq!(ask, Ask { stream: true, prompt_tokens: 2, max_tokens: Some(2), ignore_eos: false });
        let (_, ask) = read(Route::OpenAiResponses, &json!({"input": "你好"}), 7);
        assert_eq!(ask, Ask { stream: false, prompt_tokens: 2, max_tokens: None, ignore_eos: false });
        let mut events: Vec<(String, Value)> = shape.opening().iter().map(|e| named(e)).collect();
        events.push(named(&shape.text_event("字")));
        events.push(named(&shape.text_event("好")));
        events.extend(shape.closing(&end()).iter().map(|e| named(e)));
        let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.incomplete",
            ]
        );
        for (k, (name, v)) in events.iter().enumerate() {
            assert_eq!(
                (v["type"].as_str(), v["sequence_number"].as_u64()),
                (Some(name.as_str()), Some(k as u64))
            );
        }
        assert_eq!(events[4].1["delta"], "字");
        assert_eq!(events[6].1["text"], "字好");
        let last = &events[9].1["response"];
        assert_eq!((last["status"].as_str(), last["model"].as_str()), (Some("incomplete"), Some("gpt")));
        assert_eq!(last["incomplete_details"]["reason"], "max_output_tokens");
        assert_eq!(
            (last["usage"]["input_tokens"].as_u64(), last["usage"]["output_tokens"].as_u64()),
            (Some(3), Some(2))
        );
        let stop = End { finish_reason: "stop", ..end() };
        let (name, done) = named(shape.closing(&stop).last().unwrap());
        assert_eq!(
            (name.as_str(), done["response"]["status"].as_str()),
            ("response.completed", Some("completed"))
        );
        let (name, failed) = named(&shape.stream_error()[0]);
        assert_eq!(name, "response.failed");
        assert_eq!(failed["response"]["error"]["code"], "server_error");
        let blocking: Value = serde_json::from_str(&shape.blocking_body("好", &stop)).unwrap();
        assert_eq!(blocking["output"][0]["content"][0]["text"], "好");
    }

    #[test]
    fn completions_stream_text_without_a_role_chunk() {
        let (shape, _) =
            read(Route::OpenAiCompletions, &json!({"stream_options": {"include_usage": true}}), 7);
        assert!(shape.opening().is_empty());
        let text = payload(&shape.text_event("ition"));
        assert_eq!(
            (text["object"].as_str(), text["choices"][0]["text"].as_str()),
            (Some("text_completion"), Some("ition"))
        );
        let closing = shape.closing(&end());
        assert_eq!(payload(&closing[1])["usage"]["completion_tokens"], 2);
        assert_eq!(closing[2], b"data: [DONE]\n\n");
    }
}
