//! Trace files for `--trace`, parsed from their bytes: mooncake JSONL (`timestamp` in ms,
//! `input_length`, `output_length`, `hash_ids`), the Azure LLM inference trace CSV (`TIMESTAMP,
//! ContextTokens, GeneratedTokens`, timestamps as datetimes) and BurstGPT CSV (`Timestamp, Model,
//! Request tokens, Response tokens, …`, timestamps in seconds) and llmload's own records
//! (`--records`: each request at its intended start, with the prompt tokens it sent and the
//! output tokens it got), told apart by the first line; the
//! instants of a window of the trace at a speed; and each entry's prompt, built block by block so
//! that entries naming the same `hash_id` send that block's text exactly. A malformed entry is
//! an error with its line number. It does not read files (`util::files`) or send anything.

use super::Prompt;
use super::synthetic::Blocks;
use crate::tokens::Tokenizer;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The longest prompt or answer an entry may ask for.
pub const MAX_LENGTH: u64 = 1_000_000;

/// A trace file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Mooncake,
    Azure,
    BurstGpt,
    /// llmload's `--records`: a recorded run's schedule and lengths.
    Records,
}

impl Format {
    pub fn name(&self) -> &'static str {
        match self {
            Format::Mooncake => "mooncake",
            Format::Azure => "azure",
            Format::BurstGpt => "burstgpt",
            Format::Records => "records",
        }
    }
}

/// One request of a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Milliseconds since the trace's first entry.
    pub at_ms: f64,
    /// Prompt tokens.
    pub input: u32,
    /// Output tokens, asked for exactly.
    pub output: u32,
    /// The blocks the prompt is made of, in order (mooncake only): equal ids, equal text.
    pub hash_ids: Vec<u64>,
}

/// A parsed trace: its entries in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub format: Format,
    pub entries: Vec<Entry>,
    /// Entries left out because they ask for no input or no output tokens (BurstGPT logs failed
    /// requests with 0 response tokens).
    pub skipped: usize,
}

/// A trace's entries, whatever the format; the error names the line and the fix.
pub fn parse(bytes: &[u8]) -> Result<Trace, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8 text: save it as UTF-8".to_string())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty());
    let Some((first_n, first)) = lines.next() else {
        return Err("is empty: give a trace with one entry a line".into());
    };
    // Raw entries: the time in µs on the file's own clock (µs since 1970 fit an f64 exactly).
    let mut raw: Vec<(f64, Option<Entry>)> = Vec::new();
    let format = if first.trim_start().starts_with('{') {
        let records = first.contains("\"start_ms\"") && first.contains("\"worker\"");
        let read = if records { record } else { mooncake };
        for (n, l) in std::iter::once((first_n, first)).chain(lines) {
            raw.push(read(l).map_err(|e| format!("line {n}: {e}"))?);
        }
        if records { Format::Records } else { Format::Mooncake }
    } else {
        let header: Vec<String> =
            split_csv(first).into_iter().map(|h| h.trim().to_ascii_lowercase()).collect();
        let col = |name: &str| header.iter().position(|h| h == name);
        let (format, time, input, output) = match (
            col("timestamp"),
            col("contexttokens"),
            col("generatedtokens"),
            col("request tokens"),
            col("response tokens"),
        ) {
            (Some(t), Some(i), Some(o), _, _) => (Format::Azure, t, i, o),
            (Some(t), _, _, Some(i), Some(o)) => (Format::BurstGpt, t, i, o),
            _ => {
                return Err(format!(
                    "line {first_n} is neither a mooncake JSON object ({{\"timestamp\": 0, \"input_length\": 600, \"output_length\": 20, \"hash_ids\": [0, 1]}}) nor the header of an Azure trace (TIMESTAMP,ContextTokens,GeneratedTokens) or a BurstGPT one (Timestamp,Model,Request tokens,Response tokens,…): give one of these formats"
                ));
            }
        };
        for (n, l) in lines {
            let fields = split_csv(l);
            let field = |i: usize, name: &str| {
                fields.get(i).map(|f| f.trim()).ok_or_else(|| {
                    format!(
                        "line {n}: has {} fields, no {name} (the header's column {})",
                        fields.len(),
                        i + 1
                    )
                })
            };
            let (t, i, o) = (field(time, "timestamp")?, field(input, "input")?, field(output, "output")?);
            let at_us = match format {
                Format::Azure => datetime_us(t).ok_or_else(|| {
                    format!(
                        "line {n}: TIMESTAMP {t:?} is not a date and time: give one such as 2023-11-16 18:15:46.6805900"
                    )
                })?,
                _ => seconds_us(t).ok_or_else(|| {
                    format!("line {n}: Timestamp {t:?} is not a number of seconds (at least 0)")
                })?,
            };
            let (ni, no) = match format {
                Format::Azure => ("ContextTokens", "GeneratedTokens"),
                _ => ("Request tokens", "Response tokens"),
            };
            let input = count(&Value::String(i.into()), ni).map_err(|e| format!("line {n}: {e}"))?;
            let output = count(&Value::String(o.into()), no).map_err(|e| format!("line {n}: {e}"))?;
            raw.push(entry(at_us, input, output, Vec::new()));
        }
        format
    };
    let start = raw.iter().map(|(t, _)| *t).fold(f64::INFINITY, f64::min);
    let skipped = raw.iter().filter(|(_, e)| e.is_none()).count();
    let mut entries: Vec<Entry> =
        raw.into_iter().filter_map(|(t, e)| e.map(|e| Entry { at_ms: (t - start) / 1000.0, ..e })).collect();
    if entries.is_empty() {
        return Err(match skipped {
            0 => "holds no entries: give a trace with one entry a line".into(),
            n => format!("has {n} entries, none with input and output tokens: give a trace with lengths"),
        });
    }
    entries.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms)); // stable: equal instants keep the file's order
    Ok(Trace { format, entries, skipped })
}

/// The raw time and the entry (`None` when it asks for no tokens).
fn entry(at_us: f64, input: u32, output: u32, hash_ids: Vec<u64>) -> (f64, Option<Entry>) {
    let e = (input > 0 && output > 0).then_some(Entry { at_ms: 0.0, input, output, hash_ids });
    (at_us, e)
}

/// One mooncake line.
fn mooncake(line: &str) -> Result<(f64, Option<Entry>), String> {
    let o = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Err("is not a JSON object: give one such as {\"timestamp\": 0, \"input_length\": 600, \"output_length\": 20, \"hash_ids\": [0, 1]}".into()),
        Err(e) => return Err(format!("is not valid JSON ({e})")),
    };
    let field = |k: &str| o.get(k).filter(|v| !v.is_null()).ok_or_else(|| format!("has no \"{k}\""));
    let t = field("timestamp")?;
    let at_ms = t
        .as_f64()
        .filter(|t| t.is_finite() && *t >= 0.0)
        .ok_or_else(|| format!("\"timestamp\" is {t}: give the milliseconds since the trace's start"))?;
    let input = count(field("input_length")?, "input_length")?;
    let output = count(field("output_length")?, "output_length")?;
    let hash_ids = match o.get("hash_ids") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|v| v.as_u64().ok_or_else(|| format!("\"hash_ids\" holds {v}: give whole numbers")))
            .collect::<Result<_, _>>()?,
        Some(v) => return Err(format!("\"hash_ids\" is {v}: give an array of whole numbers")),
    };
    Ok(entry(at_ms * 1000.0, input, output, hash_ids))
}

/// One line of llmload's records: its request at its intended start (`scheduled_ms`, else
/// `start_ms`), with the prompt tokens it sent (`sent_tokens`, else `input_tokens`) and the
/// output tokens it got; a request that got none (a failure) is left out, as a trace's.
fn record(line: &str) -> Result<(f64, Option<Entry>), String> {
    let o = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Err("is not a JSON object: a records file holds one request a line".into()),
        Err(e) => return Err(format!("is not valid JSON ({e}): a records file holds one request a line")),
    };
    let number = |k: &str| o.get(k).and_then(Value::as_f64).filter(|v| v.is_finite() && *v >= 0.0);
    let at_ms = number("scheduled_ms")
        .or_else(|| number("start_ms"))
        .ok_or("has no \"start_ms\": is it a records file of `llmload run --records`?")?;
    let tokens = |k: &str| o.get(k).filter(|v| !v.is_null());
    let input =
        count(tokens("sent_tokens").or(tokens("input_tokens")).unwrap_or(&Value::from(0)), "input_tokens")?;
    let output = count(tokens("output_tokens").unwrap_or(&Value::from(0)), "output_tokens")?;
    Ok(entry(at_ms * 1000.0, input, output, Vec::new()))
}

/// A token count: a whole number (a JSON number, or a CSV field's text) up to `MAX_LENGTH`.
fn count(v: &Value, name: &str) -> Result<u32, String> {
    let n = match v {
        Value::String(s) => s.parse::<u64>().ok(),
        v => v.as_u64(),
    };
    match n {
        Some(n) if n <= MAX_LENGTH => Ok(n as u32),
        _ => Err(format!("{name} is {v}: give a whole number of tokens, at most {MAX_LENGTH}")),
    }
}

/// A number of seconds as microseconds.
fn seconds_us(t: &str) -> Option<f64> {
    t.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(|s| s * 1e6)
}

/// A date and time (`2023-11-16 18:15:46.6805900`, a `T` instead of the space, an optional UTC
/// offset) as microseconds since the Unix epoch; without an offset it is read as UTC.
fn datetime_us(t: &str) -> Option<f64> {
    let ms = |d: chrono::NaiveDateTime| d.and_utc().timestamp_micros() as f64;
    for f in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(d) = chrono::DateTime::parse_from_str(t, f) {
            return Some(ms(d.naive_utc()));
        }
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(t, f) {
            return Some(ms(d));
        }
    }
    None
}

/// A CSV line's fields; a field in double quotes may hold commas and `""` for a quote.
fn split_csv(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// The entries from `window`'s start (seconds into the trace, inclusive) to its end
/// (exclusive), each as its index and its instant in the run: its time into the trace less the
/// window's start, divided by `speed`, to the microsecond.
pub fn replay(entries: &[Entry], window: Option<(f64, f64)>, speed: f64) -> Vec<(usize, Duration)> {
    let (from_ms, to_ms) = window.map_or((0.0, f64::INFINITY), |(a, b)| (a * 1000.0, b * 1000.0));
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.at_ms >= from_ms && e.at_ms < to_ms)
        .map(|(i, e)| {
            let us = ((e.at_ms - from_ms) / speed * 1000.0).round();
            (i, Duration::from_micros(us as u64))
        })
        .collect()
}

/// Builds the prompts of trace entries, sharing the blocks of equal `hash_ids`.
pub struct Builder<'a> {
    blocks: Blocks<'a>,
    block_tokens: u32,
    /// Shared blocks built so far, by id and length.
    shared: HashMap<(u64, u64), (Arc<str>, u64)>,
}

impl<'a> Builder<'a> {
    pub fn new(tokenizer: &'a Tokenizer, block_tokens: u32) -> Self {
        Builder { blocks: Blocks::new(tokenizer), block_tokens: block_tokens.max(1), shared: HashMap::new() }
    }

    /// Entry `index`'s prompt blocks and their counts. With `hash_ids`, block i is
    /// `block_tokens` long (the last one shorter, to make `input` tokens in all) and is the text
    /// of `hash_ids[i]`, the same for every entry that names it; a block past the ids is the
    /// entry's own. Without ids the prompt is one block of the entry's own, exactly `input` long.
    pub fn blocks(&mut self, index: usize, e: &Entry) -> Vec<(Arc<str>, u64)> {
        let own = |b: &Blocks, block: u64, tokens: u64| {
            let (text, n) = b.block((1 + index as u64, block), tokens);
            (Arc::<str>::from(text), n)
        };
        let input = u64::from(e.input);
        if e.hash_ids.is_empty() {
            return vec![own(&self.blocks, 0, input)];
        }
        let size = u64::from(self.block_tokens);
        (0..input.div_ceil(size))
            .map(|i| {
                let tokens = size.min(input - i * size);
                match e.hash_ids.get(i as usize) {
                    Some(&id) => {
                        let blocks = &self.blocks;
                        self.shared
                            .entry((id, tokens))
                            .or_insert_with(|| {
                                let (text, n) = blocks.block((0, id), tokens);
                                (Arc::from(text), n)
                            })
                            .clone()
                    }
                    None => own(&self.blocks, i, tokens),
                }
            })
            .collect()
    }

    /// Entry `index`'s prompt: its blocks in order, asking for exactly `output` tokens.
    pub fn prompt(&mut self, index: usize, e: &Entry) -> Prompt {
        let blocks = self.blocks(index, e);
        let text: String = blocks.iter().map(|(t, _)| &**t).collect();
        let counted_tokens = blocks.iter().map(|(_, n)| n).sum();
        Prompt { counted_tokens, max_tokens: Some(e.output), ..Prompt::text(text) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &Trace) -> Vec<(f64, u32, u32)> {
        t.entries.iter().map(|e| (e.at_ms, e.input, e.output)).collect()
    }

    #[test]
    fn mooncake_lines_give_times_lengths_and_blocks() {
        let t = parse(
            b"{\"timestamp\": 27482, \"input_length\": 6955, \"output_length\": 52, \"hash_ids\": [46, 47, 48]}\n\n\
              {\"timestamp\": 30535, \"input_length\": 6472, \"output_length\": 26, \"hash_ids\": [46, 49]}\n\
              {\"timestamp\": 27000, \"input_length\": 10, \"output_length\": 1}\n",
        )
        .unwrap();
        assert_eq!(t.format, Format::Mooncake);
        // Sorted by time, measured from the first.
        assert_eq!(at(&t), [(0.0, 10, 1), (482.0, 6955, 52), (3535.0, 6472, 26)]);
        assert_eq!(t.entries[1].hash_ids, [46, 47, 48]);
        assert!(t.entries[0].hash_ids.is_empty());
        assert_eq!(t.skipped, 0);
    }

    #[test]
    fn a_malformed_mooncake_line_is_refused_with_its_number() {
        let err = |line: &str| {
            let text = format!("{{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2}}\n\n{line}\n");
            parse(text.as_bytes()).unwrap_err()
        };
        assert!(err("{\"timestamp\": 1, \"input_length\": 5").starts_with("line 3: is not valid JSON ("));
        assert!(err("[1]").starts_with("line 3: is not a JSON object"));
        assert_eq!(err("{\"input_length\": 5, \"output_length\": 2}"), "line 3: has no \"timestamp\"");
        assert_eq!(
            err("{\"timestamp\": -1, \"input_length\": 5, \"output_length\": 2}"),
            "line 3: \"timestamp\" is -1: give the milliseconds since the trace's start"
        );
        assert_eq!(
            err("{\"timestamp\": 1, \"input_length\": 5.5, \"output_length\": 2}"),
            "line 3: input_length is 5.5: give a whole number of tokens, at most 1000000"
        );
        assert_eq!(err("{\"timestamp\": 1, \"input_length\": 5}"), "line 3: has no \"output_length\"");
        assert_eq!(
            err("{\"timestamp\": 1, \"input_length\": 5, \"output_length\": 2, \"hash_ids\": [1, \"a\"]}"),
            "line 3: \"hash_ids\" holds \"a\": give whole numbers"
        );
        assert!(parse(b"").unwrap_err().starts_with("is empty"));
        assert!(parse(b"hello,world\n1,2\n").unwrap_err().starts_with("line 1 is neither a mooncake"));
        assert_eq!(parse(b"\xff\xfe").unwrap_err(), "is not UTF-8 text: save it as UTF-8");
    }

    #[test]
    fn azure_csv_reads_datetimes_as_instants() {
        let t = parse(
            b"TIMESTAMP,ContextTokens,GeneratedTokens\n\
              2023-11-16 18:15:46.6805900,374,44\n\
              2023-11-16 18:15:50.9951690,396,109\n\
              2023-11-16 18:15:47.0000000+00:00,10,0\n",
        )
        .unwrap();
        assert_eq!(t.format, Format::Azure);
        assert_eq!(t.entries.len(), 2);
        assert_eq!(t.skipped, 1, "no output tokens");
        assert_eq!((t.entries[1].input, t.entries[1].output), (396, 109));
        assert!((t.entries[1].at_ms - 4314.579).abs() < 1e-6, "{}", t.entries[1].at_ms);
        let err = parse(b"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1,1\nyesterday,3,4\n")
            .unwrap_err();
        assert!(err.starts_with("line 3: TIMESTAMP \"yesterday\" is not a date and time"), "{err}");
        let err = parse(b"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1\n").unwrap_err();
        assert_eq!(err, "line 2: has 2 fields, no output (the header's column 3)");
        let err = parse(b"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,x,1\n").unwrap_err();
        assert_eq!(err, "line 2: ContextTokens is \"x\": give a whole number of tokens, at most 1000000");
    }

    #[test]
    fn burstgpt_csv_reads_seconds_and_leaves_out_failed_requests() {
        let t = parse(
            b"Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n\
              5,ChatGPT,472,18,490,Conversation log\n\
              45.5,\"GPT-4, big\",1087,0,1087,Conversation log\n\
              46.25,GPT-4,1087,230,1317,Conversation log\n",
        )
        .unwrap();
        assert_eq!(t.format, Format::BurstGpt);
        assert_eq!(at(&t), [(0.0, 472, 18), (41250.0, 1087, 230)]);
        assert_eq!(t.skipped, 1);
        let err =
            parse(b"Timestamp,Model,Request tokens,Response tokens\n1,m,2,3\nsoon,m,2,3\n").unwrap_err();
        assert_eq!(err, "line 3: Timestamp \"soon\" is not a number of seconds (at least 0)");
        let err = parse(b"Timestamp,Model,Request tokens,Response tokens\n1,m,0,0\n").unwrap_err();
        assert!(err.starts_with("has 1 entries, none with input and output tokens"), "{err}");
    }

    #[test]
    fn a_records_file_replays_its_schedule_and_lengths() {
        let t = parse(
            b"{\"worker\":0,\"start_ms\":12.5,\"scheduled_ms\":10.0,\"outcome\":\"ok\",\"output_tokens\":7,\"input_tokens\":30,\"sent_tokens\":20}\n\
              {\"worker\":1,\"start_ms\":60.0,\"outcome\":\"http_500\",\"output_tokens\":0,\"input_tokens\":20}\n\
              {\"worker\":1,\"start_ms\":110.25,\"outcome\":\"ok\",\"output_tokens\":9,\"input_tokens\":25}\n",
        )
        .unwrap();
        assert_eq!(t.format, Format::Records);
        // The intended start where recorded, the prompt tokens sent where recorded; a request that
        // got no output tokens (a failure) is left out.
        assert_eq!(at(&t), [(0.0, 20, 7), (100.25, 25, 9)]);
        assert_eq!(t.skipped, 1);
        let err = parse(b"{\"worker\":0,\"start_ms\":1,\"output_tokens\":1}\n{\"worker\":0}\n").unwrap_err();
        assert!(err.starts_with("line 2: has no \"start_ms\""), "{err}");
    }

    #[test]
    fn a_window_and_a_speed_place_entries_in_the_run() {
        let e = |at_ms| Entry { at_ms, input: 1, output: 1, hash_ids: vec![] };
        let entries = [e(0.0), e(1500.0), e(2000.0), e(3000.0)];
        let ms = |r: Vec<(usize, Duration)>| {
            r.into_iter().map(|(i, d)| (i, d.as_secs_f64() * 1000.0)).collect::<Vec<_>>()
        };
        assert_eq!(ms(replay(&entries, None, 1.0)), [(0, 0.0), (1, 1500.0), (2, 2000.0), (3, 3000.0)]);
        assert_eq!(ms(replay(&entries, None, 2.0)), [(0, 0.0), (1, 750.0), (2, 1000.0), (3, 1500.0)]);
        assert_eq!(ms(replay(&entries, Some((1.5, 3.0)), 0.5)), [(1, 0.0), (2, 1000.0)]);
    }

    #[test]
    fn entries_naming_the_same_hash_ids_share_those_blocks_exactly() {
        let tokenizer = Tokenizer::Estimate;
        let mut b = Builder::new(&tokenizer, 16);
        let one = Entry { at_ms: 0.0, input: 40, output: 3, hash_ids: vec![7, 8, 9] };
        let two = Entry { at_ms: 1.0, input: 60, output: 4, hash_ids: vec![7, 8, 10] };
        let (x, y) = (b.blocks(0, &one), b.blocks(1, &two));
        let counts = |v: &[(Arc<str>, u64)]| v.iter().map(|(_, n)| *n).collect::<Vec<_>>();
        assert_eq!((counts(&x), counts(&y)), (vec![16, 16, 8], vec![16, 16, 16, 12]));
        assert_eq!((&x[0], &x[1]), (&y[0], &y[1]), "blocks 7 and 8 are the same text");
        assert_ne!(x[2].0, y[2].0);
        // Built again by another builder, the same text: the server sees the trace's sharing.
        let again = Builder::new(&tokenizer, 16).blocks(5, &two);
        assert_eq!(again[..3], y[..3]);
        assert_ne!(again[3], y[3], "a block past the ids is the entry's own");
        let p = b.prompt(1, &two);
        assert!(p.text.starts_with(&format!("{}{}", x[0].0, x[1].0)));
        assert_eq!((p.counted_tokens, p.max_tokens, tokenizer.count(&p.text)), (60, Some(4), 60));
        // Without ids the prompt is the entry's own, exactly its length.
        let plain = Entry { at_ms: 0.0, input: 700, output: 1, hash_ids: vec![] };
        let p = b.prompt(2, &plain);
        assert_eq!((p.counted_tokens, tokenizer.count(&p.text)), (700, 700));
    }

    #[test]
    fn shared_blocks_are_exact_with_a_bpe_tokenizer() {
        let Some(Ok(tokenizer)) = Tokenizer::builtin("cl100k") else { panic!("cl100k is built in") };
        let mut b = Builder::new(&tokenizer, 64);
        let one = Entry { at_ms: 0.0, input: 150, output: 3, hash_ids: vec![1, 2, 3] };
        let two = Entry { at_ms: 0.0, input: 100, output: 3, hash_ids: vec![1, 4] };
        let (x, y) = (b.blocks(0, &one), b.blocks(1, &two));
        assert_eq!(x[0], y[0]);
        for (text, n) in x.iter().chain(&y) {
            assert_eq!(tokenizer.count(text), *n);
        }
        assert_eq!(x.iter().map(|(_, n)| n).sum::<u64>(), 150);
    }
}
