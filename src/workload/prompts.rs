//! What a request says: the `Prompt` type and `--param-file`'s two formats — one prompt a line
//! (the seed's), or JSONL (`{"prompt":…}`, `{"messages":[…]}`, `{"query":…, "inputs":{…}}`, each
//! with an optional `max_tokens` and an optional answer check `expect`), detected when the first non-empty line begins with `{` and
//! some line is a JSON object; a JSONL file's broken line is an error with its line number, never
//! a prompt of raw JSON. It does not read files (`lines`) or build synthetic prompts (`synthetic`).

use super::expect::Expect;
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
    /// A request line's other body fields (`--dataset`'s OpenAI-request JSONL: `temperature`,
    /// `tools`…), to be merged into the request body.
    pub extra: Option<Map<String, Value>>,
    /// The conversation's later user turns, in order (`--dataset` ShareGPT with `--turns`): a
    /// session sends them as its next turns.
    pub followups: Vec<String>,
    /// Our count of what the server reads (all messages), for input tokens without usage: the
    /// estimate, recounted by `--tokenizer` when one is given.
    pub counted_tokens: u64,
    /// A JSONL line's check of the answer (`"expect"`); `--expect` applies to prompts without one.
    pub expect: Option<Expect>,
}

impl Prompt {
    pub fn text(text: impl Into<String>) -> Prompt {
        let text = text.into();
        let counted_tokens = tokens::estimate(&text);
        Prompt {
            text,
            messages: None,
            inputs: None,
            max_tokens: None,
            extra: None,
            followups: Vec::new(),
            counted_tokens,
            expect: None,
        }
    }

    /// All the text the server reads: every message's, or the prompt's.
    pub fn input_text(&self) -> String {
        match self.messages.as_ref().and_then(Value::as_array) {
            Some(list) => list.iter().map(content_text).collect::<Vec<_>>().join("\n"),
            None => self.text.clone(),
        }
    }
}

/// The prompts of a file's non-empty lines, each with its line number: JSONL when the first
/// line begins with `{` and some line is a JSON object, else one prompt a line. In a JSONL file
/// every line must be a JSON object: a broken one is an error, never a prompt of raw JSON. The
/// error names the line, what is wrong with it and what to write.
pub fn from_lines(lines: Vec<(usize, String)>) -> Result<Vec<Prompt>, String> {
    let object = |l: &str| match serde_json::from_str(l) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(other) => Err(format!("is {}, not a JSON object", kind(&other))),
        Err(e) => Err(format!("is not valid JSON ({e})")),
    };
    let jsonl = lines.first().is_some_and(|(_, l)| l.trim_start().starts_with('{'))
        && lines.iter().any(|(_, l)| object(l).is_ok());
    if !jsonl {
        return Ok(lines.into_iter().map(|(_, l)| Prompt::text(l)).collect());
    }
    lines
        .into_iter()
        .map(|(n, l)| {
            let o = object(&l).map_err(|e| {
                format!(
                    "JSONL line {n} {e}: the file is read as JSONL (its first line begins with `{{` and it holds JSON objects), so every line must be one object such as {{\"prompt\": \"Hello\"}}: fix the line, or give a plain-text file of one prompt a line"
                )
            })?;
            from_object(o).map_err(|e| format!("JSONL line {n}: {e}"))
        })
        .collect()
}

/// What a JSON value is, for a message.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One JSONL object as a prompt (its other keys are ignored).
pub fn from_object(mut o: Map<String, Value>) -> Result<Prompt, String> {
    const FIX: &str = "give \"prompt\", \"query\" or \"messages\" (e.g. {\"prompt\": \"Hello\"})";
    let max_tokens = match o.remove("max_tokens") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n > 0 => Some(n),
            _ => return Err(format!("\"max_tokens\" is {v}: give a whole number of at least 1")),
        },
    };
    let expect = match o.remove("expect") {
        None => None,
        Some(v) => Expect::from_value(&v)?,
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
    Ok(Prompt {
        text,
        messages,
        inputs,
        max_tokens,
        extra: None,
        followups: Vec::new(),
        counted_tokens,
        expect,
    })
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

    /// Non-empty lines numbered as a file without blank lines would number them.
    fn lines(v: &[&str]) -> Vec<(usize, String)> {
        v.iter().enumerate().map(|(i, s)| (i + 1, s.to_string())).collect()
    }

    #[test]
    fn plain_lines_stay_prompts_even_with_some_json() {
        let got = from_lines(lines(&["你好", "{\"prompt\":\"x\"}"])).unwrap();
        assert_eq!(got[0], Prompt::text("你好"));
        assert_eq!(got[1].text, "{\"prompt\":\"x\"}");
        // A first line that only looks like JSON, in a file with no JSON object, is a prompt.
        let got = from_lines(lines(&["{name} says hi", "{not json"])).unwrap();
        assert_eq!(got[1], Prompt::text("{not json"));
    }

    #[test]
    fn a_broken_line_in_a_jsonl_file_is_an_error_with_its_line_number() {
        let numbered = vec![(1, r#"{"prompt": "ok"}"#.to_string()), (3, r#"{"prompt": "broken"#.to_string())];
        assert_eq!(
            from_lines(numbered).unwrap_err(),
            "JSONL line 3 is not valid JSON (EOF while parsing a string at line 1 column 18): the file is read as JSONL (its first line begins with `{` and it holds JSON objects), so every line must be one object such as {\"prompt\": \"Hello\"}: fix the line, or give a plain-text file of one prompt a line"
        );
        // The first line broken, a later one whole: still JSONL, still an error.
        let err = from_lines(lines(&[r#"{"prompt": "x""#, r#"{"prompt": "y"}"#])).unwrap_err();
        assert!(err.starts_with("JSONL line 1 is not valid JSON ("), "{err}");
        let err = from_lines(lines(&[r#"{"prompt": "x"}"#, "plain text"])).unwrap_err();
        assert!(
            err.starts_with("JSONL line 2 is not valid JSON (expected value at line 1 column 1)"),
            "{err}"
        );
        let err = from_lines(lines(&[r#"{"prompt": "x"}"#, "[1]"])).unwrap_err();
        assert!(err.starts_with("JSONL line 2 is an array, not a JSON object: "), "{err}");
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
    fn jsonl_lines_carry_their_answer_checks() {
        let got = from_lines(lines(&[
            r#"{"prompt": "a", "expect": "Paris"}"#,
            r#"{"prompt": "b", "expect": {"json": ["name"]}}"#,
            r#"{"prompt": "c"}"#,
        ]))
        .unwrap();
        assert_eq!(got[0].expect, Some(Expect::Contains("Paris".into())));
        assert_eq!(got[1].expect, Some(Expect::Json { keys: vec!["name".into()] }));
        assert_eq!(got[2].expect, None);
        let err = from_lines(lines(&[r#"{"prompt": "a"}"#, r#"{"prompt": "b", "expect": {"regex": "("}}"#]))
            .unwrap_err();
        assert!(err.starts_with("JSONL line 2: \"expect\": \"(\" is not a regular expression ("), "{err}");
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
