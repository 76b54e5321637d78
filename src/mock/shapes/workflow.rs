//! Dify `/v1/workflows/run` (a workflow app with start → LLM → end nodes): `workflow_started`
//! and node events before any text, text in `text_chunk` `data.text`, and `workflow_finished`
//! with `total_tokens` and `elapsed_time`; a failed run ends with `status: failed` and its error.

use serde_json::{Value, json};

use super::{Ask, Dify, End, Shape, SplitMix64, data, quote, unix_now, uuid};

pub(in crate::mock) fn ask(body: &Value) -> Ask {
    Ask {
        stream: body["response_mode"] != "blocking",
        prompt_tokens: super::tokens(&body["inputs"]["query"]),
        max_tokens: None,
        ignore_eos: false,
    }
}

pub(in crate::mock) struct Workflow {
    task_id: String,
    run_id: String,
    workflow_id: String,
    created: u64,
}

/// The nodes every run passes: (node id, type, title).
const NODES: [(&str, &str, &str); 3] =
    [("1732611000001", "start", "Start"), ("1732611000002", "llm", "LLM"), ("1732611000003", "end", "End")];

impl Workflow {
    pub(in crate::mock) fn new(rng: &mut SplitMix64) -> Self {
        Workflow { task_id: uuid(rng), run_id: uuid(rng), workflow_id: uuid(rng), created: unix_now() }
    }

    fn event(&self, event: &str, data_json: Value) -> Vec<u8> {
        let e = json!({"event": event, "task_id": self.task_id, "workflow_run_id": self.run_id, "data": data_json});
        data(&e.to_string())
    }

    fn node(&self, event: &str, index: usize, status: Option<&str>) -> Vec<u8> {
        let (node_id, node_type, title) = NODES[index];
        let mut d = json!({
            "id": format!("{}-{index}", self.run_id), "node_id": node_id, "node_type": node_type,
            "title": title, "index": index + 1, "predecessor_node_id": null, "created_at": self.created,
        });
        if let Some(status) = status {
            d["status"] = status.into();
            d["elapsed_time"] = 0.001.into();
        }
        self.event(event, d)
    }

    fn finished(&self, status: &str, error: Option<&str>, end: Option<&End>) -> Vec<u8> {
        self.event(
            "workflow_finished",
            json!({
                "id": self.run_id, "workflow_id": self.workflow_id, "status": status, "error": error,
                "elapsed_time": end.map_or(0.0, |e| e.latency_s),
                "total_tokens": end.map_or(0, |e| e.prompt_tokens + e.completion_tokens),
                "total_steps": NODES.len(), "created_at": self.created, "finished_at": unix_now(),
            }),
        )
    }
}

impl Shape for Workflow {
    fn opening(&self) -> Vec<Vec<u8>> {
        let started = json!({"id": self.run_id, "workflow_id": self.workflow_id, "sequence_number": 1,
                             "created_at": self.created});
        vec![
            self.event("workflow_started", started),
            self.node("node_started", 0, None),
            self.node("node_finished", 0, Some("succeeded")),
            self.node("node_started", 1, None),
        ]
    }

    fn text_json(&self, token: &str) -> String {
        format!(
            "{{\"event\":\"text_chunk\",\"task_id\":{},\"workflow_run_id\":{},\"data\":{{\"text\":{},\
             \"from_variable_selector\":[\"{}\",\"text\"]}}}}",
            quote(&self.task_id),
            quote(&self.run_id),
            quote(token),
            NODES[1].0
        )
    }

    fn closing(&self, end: &End) -> Vec<Vec<u8>> {
        vec![
            self.node("node_finished", 1, Some("succeeded")),
            self.node("node_started", 2, None),
            self.node("node_finished", 2, Some("succeeded")),
            self.finished("succeeded", None, Some(end)),
        ]
    }

    fn stream_error(&self) -> Vec<Vec<u8>> {
        vec![
            self.node("node_finished", 1, Some("failed")),
            self.finished("failed", Some("mock: injected stream error"), None),
        ]
    }

    fn error_body(&self, status: u16, message: &str) -> String {
        Dify::error_body_for(status, message)
    }

    fn blocking_body(&self, text: &str, end: &End) -> String {
        json!({
            "task_id": self.task_id,
            "workflow_run_id": self.run_id,
            "data": {
                "id": self.run_id, "workflow_id": self.workflow_id, "status": "succeeded",
                "outputs": {"text": text}, "error": null, "elapsed_time": end.latency_s,
                "total_tokens": end.prompt_tokens + end.completion_tokens, "total_steps": NODES.len(),
                "created_at": self.created, "finished_at": unix_now(),
            },
        })
        .to_string()
    }
}
