//! What a request says: the `Prompt` type and `--param-file`'s two formats — one prompt a line
//! (the seed's), or JSONL (`{"prompt":…}`, `{"messages":[…]}`, `{"query":…, "inputs":{…}}`, each
//! with an optional `max_tokens`), detected when every non-empty line is a JSON object. It does
//! not read files (`lines`) or build synthetic prompts (`synthetic`).

use crate::tokens;
use serde_json::{Map, Value};

/// One prompt as every API can send it.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// The prompt text: the line, `prompt`/`query`, or the last user message of `messages`.
    pub text: String,
    /// A JSONL line's chat messages, sent as they are by the chat APIs.
    pub messages: Option<Value>,
    /// A JSONL line's Dify app variables.
    pub inputs: Option<Map<String, Value>>,
    /// A JSONL line's own cap on output tokens.
    pub max_tokens: Option<u32>,
    /// Our count of what the server reads (all messages), for input tokens without usage: the
    /// estimate, recounted by `--tokenizer` when one is given.
    pub counted_tokens: u64,
}

impl Prompt {
    pub fn text(text: impl Into<String>) -> Prompt {
        let text = text.into();
        let counted_tokens = tokens::estimate(&text);
        Prompt { text, messages: None, inputs: None, max_tokens: None, counted_tokens }
    }

    /// All the text the server reads: every message's, or the prompt's.
    pub fn input_text(&self) -> String {
        match self.messages.as_ref().and_then(Value::as_array) {
            Some(list) => list.iter().map(content_text).collect::<Vec<_>>().join("\n"),
            None => self.text.clone(),
        }
    }
}

/// The prompts of a file's non-empty lines: JSONL when every line is a JSON object, else one
/// prompt a line. The error names the line and what to write.
pub fn from_lines(lines: Vec<String>) -> Result<Vec<Prompt>, String> {
    let objects: Option<Vec<Map<String, Value>>> = lines
        .iter()
        .map(|l| match serde_json::from_str(l) {
            Ok(Value::Object(o)) => Some(o),
            _ => None,
        })
        .collect();
    match objects {
        None => Ok(lines.into_iter().map(Prompt::text).collect()),
        Some(objects) => objects
            .into_iter()
            .enumerate()
            .map(|(i, o)| from_object(o).map_err(|e| format!("JSONL line {}: {e}", i + 1)))
            .collect(),
    }
}

/// One JSONL object as a prompt.
fn from_object(mut o: Map<String, Value>) -> Result<Prompt, String> {
    const FIX: &str = "give \"prompt\", \"query\" or \"messages\" (e.g. {\"prompt\": \"Hello\"})";
    let max_tokens = match o.remove("max_tokens") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n > 0 => Some(n),
            _ => return Err(format!("\"max_tokens\" is {v}: give a whole number of at least 1")),
        },
    };
    let inputs = match o.remove("inputs") {
        None | Some(Value::Null) => None,
        Some(Value::Object(i)) => Some(i),
        Some(v) => return Err(format!("\"inputs\" is {v}: give a JSON object of app variables")),
    };
    let string = |o: &Map<String, Value>, key: &str| -> Result<Option<String>, String> {
        match o.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
            Some(v) => Err(format!("\"{key}\" is {v}: give a non-empty string")),
        }
    };
    let (text, messages, counted_tokens) = if let Some(messages) = o.remove("messages") {
        let list = messages.as_array().filter(|m| !m.is_empty()).ok_or_else(|| {
            "\"messages\" must be a non-empty array of {\"role\": …, \"content\": …}".to_string()
        })?;
        let text = list
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .map(content_text)
            .filter(|t| !t.trim().is_empty())
            .ok_or(
                "\"messages\" has no user message with text: add {\"role\": \"user\", \"content\": \"…\"}",
            )?;
        let estimated = list.iter().map(|m| tokens::estimate(&content_text(m))).sum();
        (text, Some(messages), estimated)
    } else {
        let text = string(&o, "prompt")?.or(string(&o, "query")?).ok_or(FIX)?;
        let estimated = tokens::estimate(&text);
        (text, None, estimated)
    };
    Ok(Prompt { text, messages, inputs, max_tokens, counted_tokens })
}

/// A message's text: a string `content`, or the `text` of its parts.
fn content_text(message: &Value) -> String {
    match &message["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn plain_lines_stay_prompts_even_with_some_json() {
        let got = from_lines(lines(&["你好", "{\"prompt\":\"x\"}"])).unwrap();
        assert_eq!(got[0], Prompt::text("你好"));
        assert_eq!(got[1].text, "{\"prompt\":\"x\"}");
    }

    #[test]
    fn jsonl_reads_every_form() {
        let got = from_lines(lines(&[
            r#"{"prompt": "Hello world", "max_tokens": 8}"#,
            r#"{"query": "你好", "inputs": {"lang": "zh"}}"#,
            r#"{"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": [{"type": "text", "text": "hi"}]}]}"#,
        ]))
        .unwrap();
        assert_eq!(
            (got[0].text.as_str(), got[0].max_tokens, got[0].counted_tokens),
            ("Hello world", Some(8), 2)
        );
        assert_eq!(got[1].text, "你好");
        assert_eq!(got[1].inputs.as_ref().unwrap()["lang"], "zh");
        assert_eq!(got[2].text, "hi");
        assert_eq!(got[2].messages.as_ref().unwrap()[0]["content"], "be brief");
        assert_eq!(got[2].counted_tokens, 3);
    }

    #[test]
    fn bad_jsonl_lines_name_the_line_and_the_fix() {
        let err = |l: &str| from_lines(lines(&[r#"{"prompt":"ok"}"#, l])).unwrap_err();
        assert!(
            err(r#"{"text":"x"}"#).starts_with("JSONL line 2: give \"prompt\", \"query\" or \"messages\"")
        );
        assert_eq!(
            err(r#"{"prompt":"x","max_tokens":0}"#),
            "JSONL line 2: \"max_tokens\" is 0: give a whole number of at least 1"
        );
        assert_eq!(err(r#"{"prompt":3}"#), "JSONL line 2: \"prompt\" is 3: give a non-empty string");
        assert!(err(r#"{"messages":[]}"#).contains("non-empty array"));
        assert!(err(r#"{"messages":[{"role":"assistant","content":"x"}]}"#).contains("no user message"));
        assert!(err(r#"{"query":"q","inputs":[1]}"#).contains("\"inputs\" is [1]"));
    }
}
