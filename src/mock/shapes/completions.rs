//! OpenAI-compatible `/v1/completions` as vLLM streams it (`fixtures/vllm_completions.sse`): no
//! role chunk, text in `choices[0].text`, a finish chunk, an optional usage chunk, `[DONE]`.

use serde_json::{Value, json};

use super::{Ask, End, OpenAi, Shape, SplitMix64, data, quote, unix_now};

pub(in crate::mock) fn ask(body: &Value) -> Ask {
    Ask {
        stream: body["stream"] == true,
        prompt_tokens: super::tokens(&body["prompt"]),
        max_tokens: super::cap(body),
        ignore_eos: body["ignore_eos"] == true,
    }
}

pub(in crate::mock) struct Completions {
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
    /// `{"id":…,"object":"text_completion","created":…,"model":…,` — every chunk starts with it.
    head: String,
}

impl Completions {
    pub(in crate::mock) fn new(body: &Value, rng: &mut SplitMix64) -> Self {
        let id = format!("cmpl-{:016x}", rng.next_u64());
        let model = body["model"].as_str().unwrap_or("llmload-mock").to_string();
        let created = unix_now();
        let head = format!(
            "{{\"id\":{},\"object\":\"text_completion\",\"created\":{created},\"model\":{},",
            quote(&id),
            quote(&model)
        );
        let include_usage = body["stream_options"]["include_usage"] == true;
        Completions { id, created, model, include_usage, head }
    }
}

impl Shape for Completions {
    fn opening(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }

    fn text_json(&self, token: &str) -> String {
        format!(
            "{}\"choices\":[{{\"index\":0,\"text\":{},\"logprobs\":null,\"finish_reason\":null}}]}}",
            self.head,
            quote(token)
        )
    }

    fn closing(&self, end: &End) -> Vec<Vec<u8>> {
        let mut events = vec![data(&format!(
            "{}\"choices\":[{{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"{}\"}}]}}",
            self.head, end.finish_reason
        ))];
        if self.include_usage {
            events.push(data(&format!("{}\"choices\":[],\"usage\":{}}}", self.head, OpenAi::usage(end))));
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
            "object": "text_completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "text": text, "logprobs": null, "finish_reason": end.finish_reason}],
            "usage": OpenAi::usage(end),
        })
        .to_string()
    }
}
