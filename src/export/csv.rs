//! `--csv`: one row per finished request with a header row, the records' fields flattened in
//! the records' own key order (docs/records.md). The columns come from `Record`'s serialization,
//! so a new record key is a new column without a second list to keep. A `null` is an empty cell,
//! a list (`itl_ms`, `warnings`) its compact JSON (`[10.0,9.875]`), so every cell reads back
//! exactly; cells holding a comma, a quote, CR or LF are quoted (RFC 4180), quotes doubled. Rows
//! end with `\n`; text is UTF-8 (Chinese error messages as they are). Hand-written: quoting is
//! a dozen lines, not a crate.

use super::records::Record;
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// A JSON object's fields in the order they were written.
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    fields.push(entry);
                }
                Ok(Ordered(fields))
            }
        }
        d.deserialize_map(V)
    }
}

/// `r`'s fields in the records' key order.
fn fields(r: &Record) -> Vec<(String, Value)> {
    // The records line is plain JSON of a plain struct: writing and reading it back cannot fail.
    serde_json::from_slice::<Ordered>(&super::records::line(r)).map_or_else(|_| Vec::new(), |o| o.0)
}

/// The header row: the records' keys.
pub fn header() -> Vec<u8> {
    let names: Vec<String> = fields(&Record::empty()).into_iter().map(|(k, _)| k).collect();
    row_of(names.iter().map(String::as_str))
}

/// The row of `r`.
pub fn row(r: &Record) -> Vec<u8> {
    let cells: Vec<String> = fields(r).into_iter().map(|(_, v)| cell(&v)).collect();
    row_of(cells.iter().map(String::as_str))
}

/// One value as a cell's text: empty for `null`, strings as they are, the rest as JSON.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn row_of<'a>(cells: impl Iterator<Item = &'a str>) -> Vec<u8> {
    let mut out = String::new();
    for (i, c) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        quote_into(&mut out, c);
    }
    out.push('\n');
    out.into_bytes()
}

/// `c`, quoted when it holds a comma, a quote or a line break.
fn quote_into(out: &mut String, c: &str) {
    if c.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&c.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::TokenSource;

    #[test]
    fn header_is_the_records_keys_in_order() {
        let h = String::from_utf8(header()).unwrap();
        assert!(
            h.starts_with(
                "worker,prompt_index,key_index,turn,conversation_id,session,session_start_ms,start_ms,"
            ),
            "{h}"
        );
        assert!(h.ends_with(",warnings,api,url,read_lag_max_ms,scheduled_ms,warmup,run_id,shard\n"), "{h}");
        let line = String::from_utf8(super::super::records::line(&Record::empty())).unwrap();
        let keys: Vec<String> =
            serde_json::from_str::<serde_json::Map<String, Value>>(&line).unwrap().keys().cloned().collect();
        assert_eq!(h.trim_end().split(',').count(), keys.len());
    }

    #[test]
    fn exact_row_with_quoting() {
        let r = Record {
            worker: 2,
            status: Some(500),
            outcome: "http_500".into(),
            error: Some("HTTP 500: \"服务繁忙\", retry\nlater".into()),
            e2e_ms: 12.5,
            itl_ms: vec![10.0, 9.875],
            token_source: TokenSource::Estimate,
            warnings: vec!["a, b".into()],
            api: Some("dify-chat".into()),
            url: Some("http://127.0.0.1:1/v1/chat-messages".into()),
            start_unix_ms: Some(1_748_779_200_000.25),
            run_id: Some("r-1".into()),
            shard: Some("1/4".into()),
            ..Record::empty()
        };
        let got = String::from_utf8(row(&r)).unwrap();
        assert_eq!(
            got,
            "2,0,,1,,0,,0.0,1748779200000.25,1,0,,500,http_500,\"HTTP 500: \"\"服务繁忙\"\", retry
later\",,,,,,12.5,\"[10.0,9.875]\",,0,estimate,0,0,,,,,,false,,,,,0,0,\"[\"\"a, b\"\"]\",dify-chat,http://127.0.0.1:1/v1/chat-messages,,,false,r-1,1/4
"
        );
    }
}
