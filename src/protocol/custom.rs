//! `--api custom`: any SSE API measured without code. The body comes from `--body-template`
//! (JSON with `{{prompt}}`, `{{model}}`, `{{max_tokens}}`, `{{user}}` placeholders, each replaced
//! by a JSON value), the text and usage from JSON pointers into each event's data
//! (`--text-path`, `--usage-path`), and the end from `--done-marker` or, without one, the end of
//! the body. Events are parsed into a `serde_json::Value`: the pointers are only known at run
//! time, so this adapter trades the others' zero-copy parsing for generality.

use super::{Api, Delta, Protocol, RequestSpec, json_text, parse_event};
use crate::sse::Event;
use serde_json::Value;
use std::borrow::Cow;

#[derive(Debug, PartialEq)]
pub struct Custom {
    /// The template text, checked at startup (`check_template`).
    pub template: String,
    pub text_path: String,
    pub usage_path: Option<String>,
    /// The data that ends the stream; `None`: the end of the body does.
    pub done_marker: Option<String>,
}

const PLACEHOLDERS: [&str; 4] = ["{{prompt}}", "{{model}}", "{{max_tokens}}", "{{user}}"];

/// Fills the template; each placeholder becomes a JSON value (a string with its quotes, a number,
/// or `null` when unset). One left-to-right pass, so a prompt containing `{{user}}` stays text.
pub fn fill(
    template: &str,
    prompt: &str,
    model: Option<&str>,
    max_tokens: Option<u32>,
    user: &str,
) -> String {
    let value = |p: &str| -> String {
        match p {
            "{{prompt}}" => Value::from(prompt).to_string(),
            "{{model}}" => model.map_or(Value::Null, Value::from).to_string(),
            "{{max_tokens}}" => max_tokens.map_or(Value::Null, Value::from).to_string(),
            _ => Value::from(user).to_string(),
        }
    };
    let mut out = String::with_capacity(template.len() + prompt.len());
    let mut rest = template;
    while let Some((at, p)) = PLACEHOLDERS.iter().filter_map(|p| rest.find(p).map(|at| (at, *p))).min() {
        out.push_str(&rest[..at]);
        out.push_str(&value(p));
        rest = &rest[at + p.len()..];
    }
    out.push_str(rest);
    out
}

/// Why a template cannot be used, or `Ok` when filling it gives a JSON object.
pub fn check_template(template: &str) -> Result<(), String> {
    if !template.contains("{{prompt}}") {
        return Err("has no {{prompt}} placeholder: put it where the prompt goes, e.g. {\"input\": {{prompt}}, \"stream\": true}".into());
    }
    let filled = fill(template, "a \"quoted\" prompt", Some("m"), Some(16), "u");
    match serde_json::from_str::<Value>(&filled) {
        Ok(Value::Object(_)) => Ok(()),
        Ok(_) => Err("is not a JSON object once filled: the body must be {…}".into()),
        Err(e) => Err(format!(
            "is not valid JSON once filled ({e}): write placeholders without quotes, e.g. {{\"input\": {{{{prompt}}}}}}"
        )),
    }
}

/// Why a JSON pointer flag is unusable, or `Ok`.
pub fn check_pointer(p: &str) -> Result<(), String> {
    if p.is_empty() || p.starts_with('/') {
        Ok(())
    } else {
        Err(format!("a JSON pointer starts with '/': try /{p}"))
    }
}

impl Protocol for Custom {
    fn api(&self) -> Api {
        Api::Custom
    }

    fn body(&self, spec: &RequestSpec) -> Vec<u8> {
        fill(&self.template, &spec.prompt.text, spec.model, spec.max_tokens, spec.user).into_bytes()
    }

    fn interpret<'a>(&self, event: &'a Event) -> Result<Delta<'a>, String> {
        let mut d = Delta { recognised: true, ..Delta::default() };
        if self.done_marker.as_deref().is_some_and(|m| event.data.trim() == m) {
            d.done = true;
            return Ok(d);
        }
        let v: Value = parse_event(&event.data)?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            let msg = err.get("message").unwrap_or(err);
            d.error = Some(format!("error event: {}", json_text(Some(msg))));
            return Ok(d);
        }
        let text = v.pointer(&self.text_path);
        if let Some(Value::String(text)) = text {
            d.answer = Cow::Owned(text.clone());
        }
        let usage = self.usage_path.as_ref().and_then(|path| v.pointer(path));
        d.output_tokens = usage.and_then(Value::as_u64);
        // An event is ours when a pointer the user gave finds something in it.
        d.recognised = text.is_some() || usage.is_some();
        Ok(d)
    }

    fn ends_at_close(&self) -> bool {
        self.done_marker.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::interpret_owned;

    fn custom(done: Option<&str>) -> Custom {
        Custom {
            template: r#"{"input": {{prompt}}, "stream": true}"#.into(),
            text_path: "/output/text".into(),
            usage_path: Some("/usage/output_tokens".into()),
            done_marker: done.map(str::to_string),
        }
    }

    #[test]
    fn fills_placeholders_with_json_values_once() {
        let t = r#"{"p": {{prompt}}, "m": {{model}}, "n": {{max_tokens}}, "u": {{user}}}"#;
        assert_eq!(
            fill(t, "say \"{{user}}\"\n", None, Some(8), "w1"),
            r#"{"p": "say \"{{user}}\"\n", "m": null, "n": 8, "u": "w1"}"#
        );
    }

    #[test]
    fn templates_are_checked_with_a_fix() {
        assert_eq!(check_template(r#"{"input": {{prompt}}, "n": {{max_tokens}}}"#), Ok(()));
        assert!(
            check_template(r#"{"input": "{{prompt}}"}"#)
                .unwrap_err()
                .contains("write placeholders without quotes")
        );
        assert!(check_template(r#"{"input": "x"}"#).unwrap_err().starts_with("has no {{prompt}}"));
        assert!(check_template("[{{prompt}}]").unwrap_err().contains("not a JSON object"));
        assert_eq!(
            check_pointer("output/text"),
            Err("a JSON pointer starts with '/': try /output/text".into())
        );
        assert_eq!(check_pointer("/a/0"), Ok(()));
    }

    #[test]
    fn reads_text_usage_marker_and_errors_by_pointer() {
        let p = custom(Some("[END]"));
        let d = interpret_owned(&p, r#"{"output":{"text":"好"},"usage":null}"#).unwrap();
        assert_eq!((d.answer.as_ref(), d.output_tokens), ("好", None));
        let d = interpret_owned(&p, r#"{"output":{"text":""},"usage":{"output_tokens":5}}"#).unwrap();
        assert_eq!((d.answer.as_ref(), d.output_tokens), ("", Some(5)));
        assert!(interpret_owned(&p, "[END]").unwrap().done);
        assert!(interpret_owned(&p, "[DONE]").is_err());
        let d = interpret_owned(&p, r#"{"error":{"message":"quota"}}"#).unwrap();
        assert_eq!(d.error.as_deref(), Some("error event: quota"));
        assert!(!p.ends_at_close());
        assert!(custom(None).ends_at_close());
    }

    #[test]
    fn an_event_is_recognised_when_a_pointer_finds_something() {
        let p = custom(Some("[END]"));
        for data in
            [r#"{"output":{"text":null}}"#, r#"{"usage":{"output_tokens":5}}"#, r#"{"error":"x"}"#, "[END]"]
        {
            assert!(interpret_owned(&p, data).unwrap().recognised, "{data}");
        }
        for data in [r#"{"choices":[{"delta":{"content":"x"}}]}"#, r#"{"output":{}}"#] {
            assert!(!interpret_owned(&p, data).unwrap().recognised, "{data}");
        }
        assert_eq!(p.api(), Api::Custom);
    }
}
