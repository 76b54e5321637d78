//! Answer checks: what a prompt's answer must be (`"expect"` on a JSONL prompt line, `--expect`
//! for every prompt without one) — contain a text, match a regular expression, or parse as JSON
//! (optionally an object with given keys) — parsed from their two spellings, and judged on a
//! finished answer's text. It does not keep answers or count verdicts: the engine checks each
//! answer once, when its request has ended, and the statistics count them.

use regex::Regex;
use serde_json::Value;

/// The longest answer excerpt a record keeps for a failed check, in characters.
pub const EXCERPT_CHARS: usize = 120;

/// What an answer must be.
#[derive(Debug, Clone)]
pub enum Expect {
    /// The answer contains this text (non-empty).
    Contains(String),
    /// The answer has a match of this regular expression somewhere (anchor with `^…$` for the
    /// whole answer).
    Regex(Regex),
    /// The answer, its whitespace and an optional ```` ``` ```` / ```` ```json ```` fence
    /// trimmed, parses as JSON; with keys, as an object that has each of them.
    Json { keys: Vec<String> },
}

impl PartialEq for Expect {
    fn eq(&self, other: &Expect) -> bool {
        match (self, other) {
            (Expect::Contains(a), Expect::Contains(b)) => a == b,
            (Expect::Regex(a), Expect::Regex(b)) => a.as_str() == b.as_str(),
            (Expect::Json { keys: a }, Expect::Json { keys: b }) => a == b,
            _ => false,
        }
    }
}

/// How `--expect` is written, for its errors.
pub const SPEC_FIX: &str =
    "write contains:TEXT, regex:PATTERN, json, or json:KEY,KEY (e.g. --expect 'json:name,age')";

/// How a JSONL line's `"expect"` is written, for its errors.
const VALUE_FIX: &str = "give a string (text the answer must contain), {\"regex\": \"PATTERN\"}, {\"json\": true} or {\"json\": [\"key\", …]}";

impl Expect {
    /// `--expect`'s spelling: `contains:TEXT`, `regex:PATTERN`, `json` or `json:KEY,KEY`.
    /// The error says what is wrong; the caller names the flag.
    pub fn parse_spec(spec: &str) -> Result<Expect, String> {
        let (kind, arg) = match spec.split_once(':') {
            Some((k, a)) => (k.trim(), Some(a)),
            None => (spec.trim(), None),
        };
        match (kind, arg) {
            ("contains", Some(text)) => contains(text.to_string()),
            ("regex", Some(pattern)) => regex(pattern),
            ("json", None) => Ok(Expect::Json { keys: Vec::new() }),
            ("json", Some(keys)) => {
                let keys: Vec<String> = keys.split(',').map(|k| k.trim().to_string()).collect();
                if keys.iter().any(String::is_empty) {
                    return Err(format!("json:{} names an empty key: {SPEC_FIX}", arg.unwrap_or_default()));
                }
                Ok(Expect::Json { keys })
            }
            ("contains" | "regex", None) => Err(format!("{kind} needs its text after a colon: {SPEC_FIX}")),
            _ => Err(format!("unknown check: {SPEC_FIX}")),
        }
    }

    /// A JSONL line's `"expect"`: a string, `{"regex": "…"}`, `{"json": true}` or
    /// `{"json": ["key", …]}`. `null` is no check.
    pub fn from_value(v: &Value) -> Result<Option<Expect>, String> {
        let bad = || Err(format!("\"expect\" is {v}: {VALUE_FIX}"));
        match v {
            Value::Null => Ok(None),
            Value::String(s) => contains(s.clone()).map(Some).map_err(|e| format!("\"expect\": {e}")),
            Value::Object(o) if o.len() == 1 => match (o.get("regex"), o.get("json")) {
                (Some(Value::String(p)), _) => regex(p).map(Some).map_err(|e| format!("\"expect\": {e}")),
                (_, Some(Value::Bool(true))) => Ok(Some(Expect::Json { keys: Vec::new() })),
                (_, Some(Value::Array(keys))) => {
                    let keys: Option<Vec<String>> =
                        keys.iter().map(|k| k.as_str().filter(|k| !k.is_empty()).map(String::from)).collect();
                    keys.map_or_else(bad, |keys| Ok(Some(Expect::Json { keys })))
                }
                _ => bad(),
            },
            _ => bad(),
        }
    }

    /// Whether `answer` passes.
    pub fn check(&self, answer: &str) -> bool {
        match self {
            Expect::Contains(text) => answer.contains(text.as_str()),
            Expect::Regex(re) => re.is_match(answer),
            Expect::Json { keys } => match serde_json::from_str::<Value>(unfenced(answer)) {
                Ok(Value::Object(o)) => keys.iter().all(|k| o.contains_key(k)),
                Ok(_) => keys.is_empty(),
                Err(_) => false,
            },
        }
    }
}

fn contains(text: String) -> Result<Expect, String> {
    if text.is_empty() {
        return Err(format!("the text to contain is empty: {SPEC_FIX}"));
    }
    Ok(Expect::Contains(text))
}

fn regex(pattern: &str) -> Result<Expect, String> {
    Regex::new(pattern).map(Expect::Regex).map_err(|e| {
        let text = e.to_string();
        let last = text.lines().last().unwrap_or_default().trim();
        let why = last.strip_prefix("error: ").unwrap_or(last);
        format!(
            "{pattern:?} is not a regular expression ({why}): fix it (the Rust regex syntax: no look-around or backreferences)"
        )
    })
}

/// The answer without surrounding whitespace and an optional Markdown code fence (```` ``` ````
/// or ```` ```json ```` on its first line, ```` ``` ```` at its end), as models often wrap JSON.
fn unfenced(answer: &str) -> &str {
    let t = answer.trim();
    let Some(rest) = t.strip_prefix("```") else {
        return t;
    };
    let body = rest.split_once('\n').map_or("", |(_lang, body)| body);
    body.trim_end().strip_suffix("```").unwrap_or(body).trim()
}

/// The first `EXCERPT_CHARS` characters of an answer, for a record of a failed check.
pub fn excerpt(answer: &str) -> String {
    answer.chars().take(EXCERPT_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn specs_parse_and_bad_ones_say_what_to_write() {
        assert_eq!(Expect::parse_spec("contains:模型").unwrap(), Expect::Contains("模型".into()));
        assert_eq!(Expect::parse_spec("contains:a:b").unwrap(), Expect::Contains("a:b".into()));
        assert_eq!(Expect::parse_spec("json").unwrap(), Expect::Json { keys: vec![] });
        assert_eq!(
            Expect::parse_spec("json:a, b").unwrap(),
            Expect::Json { keys: vec!["a".into(), "b".into()] }
        );
        assert!(
            matches!(Expect::parse_spec(r"regex:^\d+$").unwrap(), Expect::Regex(r) if r.as_str() == r"^\d+$")
        );
        assert_eq!(Expect::parse_spec("jsn").unwrap_err(), format!("unknown check: {SPEC_FIX}"));
        assert_eq!(
            Expect::parse_spec("contains:").unwrap_err(),
            format!("the text to contain is empty: {SPEC_FIX}")
        );
        assert_eq!(
            Expect::parse_spec("regex").unwrap_err(),
            format!("regex needs its text after a colon: {SPEC_FIX}")
        );
        assert!(Expect::parse_spec("json:a,,b").unwrap_err().starts_with("json:a,,b names an empty key"));
        let e = Expect::parse_spec("regex:(unclosed").unwrap_err();
        assert!(e.starts_with("\"(unclosed\" is not a regular expression (unclosed group)"), "{e}");
        assert!(e.ends_with("no look-around or backreferences)"), "{e}");
    }

    #[test]
    fn jsonl_values_parse_and_bad_ones_say_what_to_write() {
        let v = |v: Value| Expect::from_value(&v);
        assert_eq!(v(json!(null)).unwrap(), None);
        assert_eq!(v(json!("ok")).unwrap(), Some(Expect::Contains("ok".into())));
        assert_eq!(v(json!({"json": true})).unwrap(), Some(Expect::Json { keys: vec![] }));
        assert_eq!(v(json!({"json": ["k"]})).unwrap(), Some(Expect::Json { keys: vec!["k".into()] }));
        assert!(matches!(v(json!({"regex": "^a"})).unwrap(), Some(Expect::Regex(_))));
        assert_eq!(v(json!(3)).unwrap_err(), format!("\"expect\" is 3: {VALUE_FIX}"));
        for bad in [
            json!({"json": false}),
            json!({"json": [1]}),
            json!({"json": [""]}),
            json!({"regex": 1}),
            json!({"re": "x"}),
            json!({"regex": "a", "json": true}),
        ] {
            assert!(v(bad.clone()).unwrap_err().starts_with("\"expect\" is {"), "{bad}");
        }
        assert!(v(json!("")).unwrap_err().starts_with("\"expect\": the text to contain is empty"));
        assert!(
            v(json!({"regex": "a{2"}))
                .unwrap_err()
                .starts_with("\"expect\": \"a{2\" is not a regular expression")
        );
    }

    #[test]
    fn substring_and_regex_checks() {
        let c = Expect::parse_spec("contains:模型").unwrap();
        assert!(c.check("大语言模型逐个") && !c.check("WRONG WRONG "));
        let r = Expect::parse_spec(r"regex:^\d+$").unwrap();
        assert!(r.check("42") && !r.check("42 apples") && !r.check(""));
        let anywhere = Expect::parse_spec("regex:[Pp]aris").unwrap();
        assert!(anywhere.check("The capital is Paris."));
    }

    #[test]
    fn json_checks_trim_fences_and_require_keys() {
        let any = Expect::parse_spec("json").unwrap();
        let keys = Expect::parse_spec("json:name,age").unwrap();
        assert!(any.check(" [1, 2] \n") && any.check("\"s\"") && !any.check("{\"a\": 1") && !any.check(""));
        assert!(keys.check("{\"name\": \"x\", \"age\": 3, \"more\": null}"));
        assert!(!keys.check("{\"name\": \"x\"}") && !keys.check("[\"name\", \"age\"]"));
        let fenced = "```json\n{\"name\": \"x\", \"age\": 3}\n```\n";
        assert!(keys.check(fenced) && any.check("```\n[1]\n```") && any.check("  ```json\n{}\n```"));
        // An unclosed fence still parses what follows it; text around a fence does not.
        assert!(any.check("```json\n{}"));
        assert!(!any.check("Here it is: ```json\n{}\n```"));
        assert!(!any.check("```json {} ```"), "the fence's first line is its language, not JSON");
    }

    #[test]
    fn excerpts_are_at_most_120_characters() {
        assert_eq!(excerpt("short"), "short");
        let long = "字".repeat(200);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS);
    }
}
