//! Dify's app APIs: chat (`/v1/chat-messages`, also agent and chatflow apps), completion
//! (`/v1/completion-messages`) and workflow (`/v1/workflows/run`). The event name lives inside
//! the JSON; text in `message`/`agent_message` answers and workflow `text_chunk`s
//! (`agent_thought` and node events carry none); usage in `message_end.metadata.usage` or
//! `workflow_finished.data.total_tokens`; Dify's own latency beside ours; no `[DONE]`; `error`
//! events and failed workflows after HTTP 200.

use super::{Api, Delta, Protocol, RequestSpec, json_text, parse_event};
use crate::sse::Event;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::borrow::Cow;

/// Dify's events that carry nothing llmload measures (progress of nodes, agents, files, TTS).
const CONTROL_EVENTS: &[&str] = &[
    "workflow_started",
    "node_started",
    "node_finished",
    "node_retry",
    "iteration_started",
    "iteration_next",
    "iteration_completed",
    "loop_started",
    "loop_next",
    "loop_completed",
    "parallel_branch_started",
    "parallel_branch_finished",
    "agent_thought",
    "agent_log",
    "message_file",
    "message_replace",
    "text_replace",
    "tts_message",
    "tts_message_end",
    "ping",
];

/// Which Dify app API; they share events and differ in body and terminal event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dify {
    Chat,
    Completion,
    Workflow,
}

/// The fields of a Dify event that matter; everything else is skipped without allocating.
#[derive(Deserialize)]
struct DifyEvent<'a> {
    #[serde(borrow, default)]
    event: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "super::text", default)]
    answer: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "super::text", default)]
    conversation_id: Option<Cow<'a, str>>,
    metadata: Option<Metadata>,
    #[serde(borrow)]
    data: Option<Data<'a>>,
    status: Option<Value>,
    code: Option<Value>,
    message: Option<Value>,
}

#[derive(Deserialize)]
struct Metadata {
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Usage {
    completion_tokens: Option<u64>,
    prompt_tokens: Option<u64>,
    latency: Option<f64>,
    time_to_first_token: Option<f64>,
}

/// `data` of workflow events: `text_chunk` text, `workflow_finished` outcome and totals.
#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow, deserialize_with = "super::text", default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "super::text", default)]
    status: Option<Cow<'a, str>>,
    error: Option<Value>,
    total_tokens: Option<u64>,
    elapsed_time: Option<f64>,
}

impl Dify {
    /// Dify's variables: `--inputs`, the prompt's own laid over them; a completion or workflow
    /// app reads the prompt from `inputs.query` unless the variables name one.
    fn inputs(&self, spec: &RequestSpec) -> Map<String, Value> {
        let mut inputs = spec.inputs.clone();
        if let Some(own) = &spec.prompt.inputs {
            inputs.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if *self != Dify::Chat && !inputs.contains_key("query") {
            inputs.insert("query".into(), spec.prompt.text.clone().into());
        }
        inputs
    }
}

impl Protocol for Dify {
    fn api(&self) -> Api {
        match self {
            Dify::Chat => Api::DifyChat,
            Dify::Completion => Api::DifyCompletion,
            Dify::Workflow => Api::DifyWorkflow,
        }
    }

    fn body(&self, spec: &RequestSpec) -> Vec<u8> {
        let mut body = json!({
            "inputs": self.inputs(spec),
            "user": spec.user,
            "response_mode": "streaming",
        });
        if *self != Dify::Workflow {
            body["query"] = spec.prompt.text.clone().into();
        }
        if *self == Dify::Chat {
            body["auto_generate_name"] = false.into();
            if let Some(id) = spec.conversation_id {
                body["conversation_id"] = id.into();
            }
        }
        body.to_string().into_bytes()
    }

    fn interpret<'a>(&self, event: &'a Event) -> Result<Delta<'a>, String> {
        let ev: DifyEvent = parse_event(&event.data)?;
        let mut d = Delta { conversation_id: ev.conversation_id, recognised: true, ..Delta::default() };
        match ev.event.as_ref() {
            "message" | "agent_message" => d.answer = ev.answer.unwrap_or_default(),
            "text_chunk" => d.answer = ev.data.and_then(|data| data.text).unwrap_or_default(),
            "message_end" => {
                d.done = *self != Dify::Workflow;
                if let Some(u) = ev.metadata.and_then(|m| m.usage) {
                    d.output_tokens = u.completion_tokens;
                    d.input_tokens = u.prompt_tokens;
                    d.server_latency_s = u.latency;
                    d.server_ttft_s = u.time_to_first_token;
                }
            }
            "workflow_finished" => {
                // In chat apps (chatflow) `message_end` follows and ends the stream.
                d.done = *self == Dify::Workflow;
                let data = ev.data.ok_or("workflow_finished without data")?;
                if matches!(data.status.as_deref(), Some("failed" | "stopped")) {
                    d.error = Some(format!(
                        "Dify workflow {}: {}",
                        data.status.unwrap_or_default(),
                        json_text(data.error.as_ref())
                    ));
                }
                d.output_tokens = data.total_tokens;
                d.server_latency_s = data.elapsed_time;
            }
            "error" => {
                d.error = Some(format!(
                    "Dify error event: status {} code {}: {}",
                    json_text(ev.status.as_ref()),
                    json_text(ev.code.as_ref()),
                    json_text(ev.message.as_ref())
                ));
            }
            name => d.recognised = CONTROL_EVENTS.contains(&name),
        }
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{interpret_owned, known};
    use crate::workload::Prompt;

    #[test]
    fn reads_answers_usage_latency_and_errors() {
        let p = Dify::Chat;
        let d = interpret_owned(&p, r#"{"event":"message","conversation_id":"c1","answer":"你好"}"#).unwrap();
        assert_eq!((d.answer.as_ref(), d.conversation_id.as_deref()), ("你好", Some("c1")));
        let d = interpret_owned(&p, r#"{"event":"agent_message","answer":"hi"}"#).unwrap();
        assert_eq!(d.answer, "hi");
        let thought = r#"{"event":"agent_thought","thought":"I should search","observation":""}"#;
        assert_eq!(interpret_owned(&p, thought).unwrap(), known());
        let end = r#"{"event":"message_end","metadata":{"usage":{"prompt_tokens":3,"completion_tokens":7,"latency":1.5,"time_to_first_token":0.25}}}"#;
        let d = interpret_owned(&p, end).unwrap();
        assert_eq!((d.done, d.output_tokens, d.input_tokens), (true, Some(7), Some(3)));
        assert_eq!((d.server_latency_s, d.server_ttft_s), (Some(1.5), Some(0.25)));
        let err = r#"{"event":"error","status":400,"code":"invalid_param","message":"bad"}"#;
        let d = interpret_owned(&p, err).unwrap();
        assert_eq!(d.error.as_deref(), Some("Dify error event: status 400 code invalid_param: bad"));
        assert_eq!(interpret_owned(&p, r#"{"event":"workflow_started","data":{}}"#).unwrap(), known());
        assert!(interpret_owned(&p, "{not json").is_err());
        assert!(interpret_owned(&p, "[1]").is_err());
    }

    #[test]
    fn only_difys_own_events_are_recognised() {
        let p = Dify::Workflow;
        let ours = [
            r#"{"event":"node_started","data":{}}"#,
            r#"{"event":"text_chunk","data":{"text":"x"}}"#,
            r#"{"event":"message_end"}"#,
            r#"{"event":"error","message":"x"}"#,
        ];
        for data in ours {
            assert!(interpret_owned(&p, data).unwrap().recognised, "{data}");
        }
        let theirs = [
            r#"{"choices":[{"delta":{"content":"x"}}]}"#,
            r#"{"type":"message_start","message":{}}"#,
            r#"{"event":"something_new"}"#,
        ];
        for data in theirs {
            assert!(!interpret_owned(&p, data).unwrap().recognised, "{data}");
        }
        assert_eq!((Dify::Chat.api(), p.api()), (Api::DifyChat, Api::DifyWorkflow));
    }

    #[test]
    fn workflows_end_with_workflow_finished_and_fail_with_its_error() {
        let chunk = r#"{"event":"text_chunk","data":{"text":"字","from_variable_selector":["1","text"]}}"#;
        for p in [Dify::Workflow, Dify::Chat] {
            assert_eq!(interpret_owned(&p, chunk).unwrap().answer, "字");
        }
        let ok = r#"{"event":"workflow_finished","data":{"status":"succeeded","error":null,"elapsed_time":2.5,"total_tokens":42}}"#;
        let d = interpret_owned(&Dify::Workflow, ok).unwrap();
        assert_eq!((d.done, d.output_tokens, d.server_latency_s, d.error), (true, Some(42), Some(2.5), None));
        assert!(!interpret_owned(&Dify::Chat, ok).unwrap().done, "chatflow ends at message_end");
        assert!(!interpret_owned(&Dify::Workflow, r#"{"event":"message_end"}"#).unwrap().done);
        let failed =
            r#"{"event":"workflow_finished","data":{"status":"failed","error":"LLM node timed out"}}"#;
        let d = interpret_owned(&Dify::Workflow, failed).unwrap();
        assert_eq!(d.error.as_deref(), Some("Dify workflow failed: LLM node timed out"));
        assert!(interpret_owned(&Dify::Workflow, r#"{"event":"workflow_finished"}"#).is_err());
    }

    #[test]
    fn bodies_fit_each_app_type() {
        let prompt = Prompt::text("你好");
        let mut inputs = Map::new();
        inputs.insert("lang".into(), "zh".into());
        let spec = RequestSpec {
            prompt: &prompt,
            model: None,
            max_tokens: None,
            user: "llmload-3",
            inputs: &inputs,
            conversation_id: Some("c9"),
            ignore_eos: false,
            extra: None,
        };
        let body = |p: Dify| serde_json::from_slice::<Value>(&p.body(&spec)).unwrap();
        assert_eq!(
            body(Dify::Chat),
            json!({"inputs": {"lang": "zh"}, "query": "你好", "user": "llmload-3",
                   "response_mode": "streaming", "auto_generate_name": false, "conversation_id": "c9"})
        );
        assert_eq!(
            body(Dify::Completion),
            json!({"inputs": {"lang": "zh", "query": "你好"}, "query": "你好", "user": "llmload-3", "response_mode": "streaming"})
        );
        assert_eq!(
            body(Dify::Workflow),
            json!({"inputs": {"lang": "zh", "query": "你好"}, "user": "llmload-3", "response_mode": "streaming"})
        );
        let mut own = Prompt::text("x");
        own.inputs =
            Some(Map::from_iter([("query".to_string(), json!("mine")), ("lang".to_string(), json!("en"))]));
        let spec = RequestSpec { prompt: &own, ..spec };
        let v: Value = serde_json::from_slice(&Dify::Workflow.body(&spec)).unwrap();
        assert_eq!(v["inputs"], json!({"lang": "en", "query": "mine"}));
    }
}
