//! OpenAI's Responses API (`/v1/responses`) as OpenAI documents it and `fixtures/vllm_responses.sse`
//! shows vLLM sending it: every event with an `event:` line, its `type` and a `sequence_number`;
//! `response.created`, `response.in_progress`, the message item and its text part opened, one
//! `response.output_text.delta` a token, the text, part and item closed with the whole text, then
//! `response.completed` with usage, or `response.incomplete` (`max_output_tokens`) when the cap
//! cut the answer; the `stream-error` fault sends `response.failed`.

use std::cell::{Cell, RefCell};

use serde_json::{Value, json};

use super::{Ask, End, OpenAi, Shape, SplitMix64, cap, message_tokens, quote, tokens, unix_now};

pub(in crate::mock) fn ask(body: &Value) -> Ask {
    let input = match &body["input"] {
        Value::Array(items) => items.iter().map(message_tokens).sum(),
        text => tokens(text),
    };
    Ask {
        stream: body["stream"] == true,
        prompt_tokens: input + tokens(&body["instructions"]),
        max_tokens: cap(body),
        ignore_eos: body["ignore_eos"] == true,
    }
}

pub(in crate::mock) struct Responses {
    id: String,
    item_id: String,
    model: String,
    created: u64,
    max_output_tokens: Value,
    /// The next event's `sequence_number`.
    seq: Cell<u64>,
    /// The text sent so far, which the closing events repeat whole.
    text: RefCell<String>,
}

impl Responses {
    pub(in crate::mock) fn new(body: &Value, rng: &mut SplitMix64) -> Self {
        Responses {
            id: format!("resp_{:016x}", rng.next_u64()),
            item_id: format!("msg_{:016x}", rng.next_u64()),
            model: body["model"].as_str().unwrap_or("llmload-mock").to_string(),
            created: unix_now(),
            max_output_tokens: body["max_output_tokens"].clone(),
            seq: Cell::new(0),
            text: RefCell::new(String::new()),
        }
    }

    fn next_seq(&self) -> u64 {
        let n = self.seq.get();
        self.seq.set(n + 1);
        n
    }

    /// An event of `kind` with `fields`, its `type` and its `sequence_number`.
    fn event(&self, kind: &str, mut fields: Value) -> Vec<u8> {
        fields["type"] = kind.into();
        fields["sequence_number"] = self.next_seq().into();
        format!("event: {kind}\ndata: {fields}\n\n").into_bytes()
    }

    /// The response object the lifecycle events carry.
    fn response(&self, status: &str, output: Value, end: Option<&End>) -> Value {
        let incomplete =
            end.filter(|e| e.finish_reason == "length").map(|_| json!({"reason": "max_output_tokens"}));
        json!({
            "id": self.id, "object": "response", "created_at": self.created, "status": status,
            "error": null, "incomplete_details": incomplete, "instructions": null,
            "max_output_tokens": self.max_output_tokens, "model": self.model, "output": output,
            "parallel_tool_calls": true, "previous_response_id": null, "reasoning": null,
            "temperature": 1.0, "text": {"format": {"type": "text"}}, "tool_choice": "auto",
            "tools": [], "top_p": 1.0, "truncation": "disabled",
            "usage": end.map(Responses::usage), "metadata": {},
        })
    }

    fn usage(end: &End) -> Value {
        json!({
            "input_tokens": end.prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": end.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": end.prompt_tokens + end.completion_tokens,
        })
    }

    fn part(text: &str) -> Value {
        json!({"type": "output_text", "text": text, "annotations": []})
    }

    fn item(&self, status: &str, text: Option<&str>) -> Value {
        let content = text.map_or_else(|| json!([]), |t| json!([Responses::part(t)]));
        json!({"id": self.item_id, "type": "message", "status": status, "role": "assistant",
               "content": content})
    }

    /// `completed`, or `incomplete` when the token cap cut the answer.
    fn status(end: &End) -> &'static str {
        if end.finish_reason == "length" { "incomplete" } else { "completed" }
    }
}

impl Shape for Responses {
    fn opening(&self) -> Vec<Vec<u8>> {
        let created = self.response("in_progress", json!([]), None);
        vec![
            self.event("response.created", json!({"response": created})),
            self.event("response.in_progress", json!({"response": created})),
            self.event(
                "response.output_item.added",
                json!({"output_index": 0, "item": self.item("in_progress", None)}),
            ),
            self.event(
                "response.content_part.added",
                json!({"item_id": self.item_id, "output_index": 0, "content_index": 0,
                       "part": Responses::part("")}),
            ),
        ]
    }

    fn text_json(&self, token: &str) -> String {
        self.text.borrow_mut().push_str(token);
        format!(
            "{{\"type\":\"response.output_text.delta\",\"item_id\":{},\"output_index\":0,\
             \"content_index\":0,\"delta\":{},\"logprobs\":[],\"sequence_number\":{}}}",
            quote(&self.item_id),
            quote(token),
            self.next_seq()
        )
    }

    fn text_event(&self, token: &str) -> Vec<u8> {
        format!("event: response.output_text.delta\ndata: {}\n\n", self.text_json(token)).into_bytes()
    }

    fn closing(&self, end: &End) -> Vec<Vec<u8>> {
        let text = self.text.borrow().clone();
        let status = Responses::status(end);
        let output = json!([self.item("completed", Some(&text))]);
        let ids = |mut v: Value| {
            v["item_id"] = self.item_id.as_str().into();
            v["output_index"] = 0.into();
            v["content_index"] = 0.into();
            v
        };
        vec![
            self.event("response.output_text.done", ids(json!({"text": text, "logprobs": []}))),
            self.event("response.content_part.done", ids(json!({"part": Responses::part(&text)}))),
            self.event(
                "response.output_item.done",
                json!({"output_index": 0, "item": self.item("completed", Some(&text))}),
            ),
            self.event(
                &format!("response.{status}"),
                json!({"response": self.response(status, output, Some(end))}),
            ),
        ]
    }

    fn stream_error(&self) -> Vec<Vec<u8>> {
        let mut failed = self.response("failed", json!([]), None);
        failed["error"] = json!({"code": "server_error", "message": "mock: injected stream error"});
        vec![self.event("response.failed", json!({"response": failed}))]
    }

    fn error_body(&self, status: u16, message: &str) -> String {
        OpenAi::error(status, message).to_string()
    }

    fn blocking_body(&self, text: &str, end: &End) -> String {
        self.response(Responses::status(end), json!([self.item("completed", Some(text))]), Some(end))
            .to_string()
    }
}
