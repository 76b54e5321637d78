//! `--dataset FILE`'s formats, parsed from the file's bytes, and the choice of prompts from it:
//! ShareGPT JSON (an array of conversations; the first human turn is the prompt and the first
//! answer after it sets the output length), OpenAI-request JSONL (one request body a line: its
//! `messages` sent as given, its other fields kept for the body), the `--param-file` prompt JSONL
//! and one prompt a line; then the filter (`--dataset-max-prompt-tokens`), the seeded shuffle and
//! the sample. A ShareGPT file is read as a stream of borrowed conversations, so only the turns
//! kept are copied. It does not read files (`config` does, through `util::files`) or decide what
//! the flags mean together.

use super::{Prompt, lines, prompts};
use crate::tokens::Tokenizer;
use crate::util::rng::SplitMix64;
use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// A dataset file's format (`--dataset-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    ShareGpt,
    OpenAi,
    Prompts,
    Lines,
}

impl Format {
    pub const CHOICES: &'static str = "sharegpt, openai, prompts or lines";

    pub fn name(self) -> &'static str {
        match self {
            Format::ShareGpt => "sharegpt",
            Format::OpenAi => "openai",
            Format::Prompts => "prompts",
            Format::Lines => "lines",
        }
    }

    /// What one entry of a file in this format is, in the plural.
    pub fn entries(self) -> &'static str {
        match self {
            Format::ShareGpt => "conversations",
            Format::OpenAi => "requests",
            Format::Prompts | Format::Lines => "prompts",
        }
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sharegpt" => Ok(Format::ShareGpt),
            "openai" => Ok(Format::OpenAi),
            "prompts" => Ok(Format::Prompts),
            "lines" => Ok(Format::Lines),
            _ => Err(format!("unknown dataset format: give {}", Format::CHOICES)),
        }
    }
}

/// The format of a file's bytes: a `[` first is ShareGPT; a first line that is a JSON object
/// with `messages` and no `prompt`, `query` or `inputs` is an OpenAI request; a file with a JSON
/// object line whose first line begins with `{` is prompt JSONL (as `--param-file` reads it);
/// anything else is one prompt a line.
pub fn detect(bytes: &[u8]) -> Format {
    let text = without_bom(bytes);
    let Some(start) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Format::Lines;
    };
    let text = &text[start..];
    let object = |line: &[u8]| serde_json::from_slice::<Map<String, Value>>(line).ok();
    match text[0] {
        b'[' => Format::ShareGpt,
        b'{' => {
            let first = text.split(|b| *b == b'\n').next().unwrap_or(text);
            match object(first) {
                Some(o)
                    if o.contains_key("messages")
                        && !["prompt", "query", "inputs"].iter().any(|k| o.contains_key(*k)) =>
                {
                    Format::OpenAi
                }
                Some(_) => Format::Prompts,
                None if text.split(|b| *b == b'\n').any(|l| object(l).is_some()) => Format::Prompts,
                None => Format::Lines,
            }
        }
        _ => Format::Lines,
    }
}

/// How to choose prompts from the file's entries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    /// Skip prompts longer than this many tokens (counted with the tokenizer in use).
    pub max_prompt_tokens: Option<u64>,
    /// Take this many: without replacement when they fit and `replace` is off, else with.
    pub sample: Option<usize>,
    pub replace: bool,
    /// The shuffle's and the draws' seed.
    pub seed: u64,
    /// Set each ShareGPT prompt's `max_tokens` to its reply's length (and skip those without a
    /// reply); off when the output length comes from another flag.
    pub reply_lengths: bool,
    /// Keep each ShareGPT conversation's later user turns (`Prompt::followups`), for sessions.
    pub followups: bool,
}

/// Entries left out, by reason.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Skipped {
    /// ShareGPT conversations without a human turn, or whose first one is empty.
    pub no_prompt: usize,
    /// ShareGPT conversations with no answer after the prompt to size the output by.
    pub no_reply: usize,
    /// Prompts over `--dataset-max-prompt-tokens`.
    pub too_long: usize,
}

impl Skipped {
    pub fn total(&self) -> usize {
        self.no_prompt + self.no_reply + self.too_long
    }
}

/// The prompts chosen from a file, in the order they are sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub prompts: Vec<Prompt>,
    pub format: Format,
    /// Entries in the file (conversations, request lines or prompt lines).
    pub entries: usize,
    pub skipped: Skipped,
    /// Whether the sample was drawn with replacement.
    pub replaced: bool,
}

/// A prompt read from the file, with the ShareGPT reply that sizes its answer.
struct Candidate<'a> {
    prompt: Prompt,
    reply: Option<Cow<'a, str>>,
}

/// The prompts of `bytes` read as `format` and chosen by `choice`. Token counts (the filter,
/// the reply lengths, each prompt's `counted_tokens`) come from `tokenizer`. The error says
/// what is wrong with the file and how to fix it.
pub fn load(bytes: &[u8], format: Format, choice: &Choice, tokenizer: &Tokenizer) -> Result<Dataset, String> {
    let mut skipped = Skipped::default();
    let candidates = match format {
        Format::ShareGpt => {
            let (c, no_prompt) = sharegpt(bytes, choice.followups)?;
            skipped.no_prompt = no_prompt;
            c
        }
        Format::OpenAi => openai(bytes)?,
        Format::Prompts | Format::Lines => prompt_lines(bytes, format)?,
    };
    let entries = candidates.len() + skipped.no_prompt;
    let count = |p: &Prompt| {
        if tokenizer.is_estimate() { p.counted_tokens } else { tokenizer.count(&p.input_text()) }
    };
    let mut kept: Vec<Candidate> = Vec::with_capacity(candidates.len());
    for mut c in candidates {
        if format == Format::ShareGpt && choice.reply_lengths && c.reply.is_none() {
            skipped.no_reply += 1;
            continue;
        }
        if let Some(max) = choice.max_prompt_tokens {
            c.prompt.counted_tokens = count(&c.prompt);
            if c.prompt.counted_tokens > max {
                skipped.too_long += 1;
                continue;
            }
        }
        kept.push(c);
    }
    if kept.is_empty() {
        return Err(format!(
            "has no prompt to send: {} of its {entries} {} were skipped ({}): check the file and --dataset-format{}",
            skipped.total(),
            format.entries(),
            reasons(&skipped),
            if skipped.too_long > 0 { ", or raise --dataset-max-prompt-tokens" } else { "" }
        ));
    }
    let mut rng = SplitMix64::new(choice.seed);
    let mut order: Vec<usize> = (0..kept.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, below(&mut rng, i + 1));
    }
    let replaced = choice.sample.is_some_and(|n| choice.replace || n > kept.len());
    let chosen: Vec<usize> = match choice.sample {
        None => order,
        Some(n) if !replaced => order[..n].to_vec(),
        Some(n) => (0..n).map(|_| below(&mut rng, kept.len())).collect(),
    };
    // Counted once per entry, however often a draw with replacement takes it.
    let mut sized: Vec<Option<(u64, Option<u32>)>> = vec![None; kept.len()];
    let prompts = chosen
        .into_iter()
        .map(|i| {
            let c = &kept[i];
            let (counted, reply) = *sized[i].get_or_insert_with(|| {
                let counted = match choice.max_prompt_tokens {
                    Some(_) => c.prompt.counted_tokens,
                    None => count(&c.prompt),
                };
                let reply = match (&c.reply, choice.reply_lengths && format == Format::ShareGpt) {
                    (Some(r), true) => Some(u32::try_from(tokenizer.count(r)).unwrap_or(u32::MAX).max(1)),
                    _ => None,
                };
                (counted, reply)
            });
            let mut p = c.prompt.clone();
            p.counted_tokens = counted;
            if reply.is_some() {
                p.max_tokens = reply;
            }
            p
        })
        .collect();
    Ok(Dataset { prompts, format, entries, skipped, replaced })
}

/// The reasons of `skipped`, for a message.
pub fn reasons(skipped: &Skipped) -> String {
    let mut r = Vec::new();
    if skipped.no_prompt > 0 {
        r.push(format!("{} without a human turn or with an empty one", skipped.no_prompt));
    }
    if skipped.no_reply > 0 {
        r.push(format!("{} without a reply to size the answer", skipped.no_reply));
    }
    if skipped.too_long > 0 {
        r.push(format!("{} over --dataset-max-prompt-tokens", skipped.too_long));
    }
    if r.is_empty() { "none".into() } else { r.join(", ") }
}

/// Uniform in `0..n` (`n` ≥ 1).
fn below(rng: &mut SplitMix64, n: usize) -> usize {
    ((rng.unit() * n as f64) as usize).min(n - 1)
}

fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// One ShareGPT conversation: its other keys (`id`…) are not read.
#[derive(Deserialize)]
struct Conversation<'a> {
    #[serde(borrow, default)]
    conversations: Vec<Turn<'a>>,
}

#[derive(Deserialize)]
struct Turn<'a> {
    #[serde(borrow, default)]
    from: Cow<'a, str>,
    #[serde(borrow, default)]
    value: Cow<'a, str>,
}

/// The ShareGPT speakers whose turns are the user's, and the system's (neither a prompt nor a reply).
const HUMAN: &[&str] = &["human", "user"];
const SYSTEM: &[&str] = &["system"];

/// Reads the array one conversation at a time, keeping only each one's prompt and reply (and,
/// for sessions, its later user turns).
struct Conversations {
    followups: bool,
}

impl<'de> Visitor<'de> for Conversations {
    type Value = (Vec<Candidate<'de>>, usize);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of {\"conversations\": [{\"from\": …, \"value\": …}]}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut out, mut no_prompt) = (Vec::new(), 0);
        while let Some(c) = seq.next_element::<Conversation<'de>>()? {
            let turns = c.conversations;
            let Some(at) = turns.iter().position(|t| HUMAN.contains(&t.from.as_ref())) else {
                no_prompt += 1;
                continue;
            };
            if turns[at].value.trim().is_empty() {
                no_prompt += 1;
                continue;
            }
            let later: Vec<String> = if self.followups {
                let human = |t: &&Turn<'de>| HUMAN.contains(&t.from.as_ref()) && !t.value.trim().is_empty();
                turns[at + 1..].iter().filter(human).map(|t| t.value.to_string()).collect()
            } else {
                Vec::new()
            };
            let mut turns = turns.into_iter().skip(at);
            let prompt = turns.next().map(|t| t.value.into_owned()).unwrap_or_default();
            let reply = turns
                .find(|t| !HUMAN.contains(&t.from.as_ref()) && !SYSTEM.contains(&t.from.as_ref()))
                .map(|t| t.value)
                .filter(|v| !v.trim().is_empty());
            out.push(Candidate { prompt: Prompt { followups: later, ..Prompt::text(prompt) }, reply });
        }
        Ok((out, no_prompt))
    }
}

/// The candidates of a ShareGPT file and how many conversations had no prompt.
fn sharegpt(bytes: &[u8], followups: bool) -> Result<(Vec<Candidate<'_>>, usize), String> {
    let mut de = serde_json::Deserializer::from_slice(without_bom(bytes));
    let read = (&mut de).deserialize_seq(Conversations { followups }).and_then(|v| de.end().map(|()| v));
    read.map_err(|e| {
        format!(
            "is not ShareGPT JSON ({e}): give a JSON array of {{\"conversations\": [{{\"from\": \"human\", \"value\": …}}, {{\"from\": \"gpt\", \"value\": …}}]}}, or name the format with --dataset-format"
        )
    })
}

/// The candidates of an OpenAI-request JSONL file: each line's `messages` (and `max_tokens` or
/// `max_completion_tokens`) become the prompt; `stream` and `stream_options` are llmload's to
/// set; every other field is kept in `extra`.
fn openai(bytes: &[u8]) -> Result<Vec<Candidate<'_>>, String> {
    let mut out = Vec::new();
    for (i, line) in without_bom(bytes).split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let n = i + 1;
        let fix = "every line must be one request body such as {\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}], \"max_tokens\": 100}";
        let mut body = match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(o)) => o,
            Ok(_) => return Err(format!("line {n} is not a JSON object: {fix}")),
            Err(e) => return Err(format!("line {n} is not valid JSON ({e}): {fix}")),
        };
        let mut core = Map::new();
        if let Some(m) = body.remove("messages") {
            core.insert("messages".into(), m);
        } else {
            return Err(format!("line {n} has no \"messages\": {fix}"));
        }
        match (body.remove("max_tokens"), body.remove("max_completion_tokens")) {
            (Some(m), _) | (None, Some(m)) => {
                core.insert("max_tokens".into(), m);
            }
            (None, None) => {}
        }
        if let Some(e) = body.remove("expect") {
            core.insert("expect".into(), e); // llmload's check of the answer, never sent
        }
        body.remove("stream");
        body.remove("stream_options");
        let mut prompt = prompts::from_object(core).map_err(|e| format!("line {n}: {e}"))?;
        prompt.extra = (!body.is_empty()).then_some(body);
        out.push(Candidate { prompt, reply: None });
    }
    Ok(out)
}

/// The candidates of a prompt JSONL file (`--param-file`'s) or of one prompt a line.
fn prompt_lines(bytes: &[u8], format: Format) -> Result<Vec<Candidate<'static>>, String> {
    let numbered = lines::parse_lines(bytes, "prompt")?;
    let prompts = match format {
        Format::Lines => numbered.into_iter().map(|(_, l)| Prompt::text(l)).collect(),
        _ => {
            let jsonl = numbered.first().is_some_and(|(_, l)| l.trim_start().starts_with('{'))
                && numbered.iter().any(|(_, l)| serde_json::from_str::<Map<String, Value>>(l).is_ok());
            if !jsonl {
                return Err("is not prompt JSONL (its first line must begin with `{` and its lines be JSON objects such as {\"prompt\": \"Hello\"}): fix the file, or give --dataset-format lines".into());
            }
            prompts::from_lines(numbered)?
        }
    };
    Ok(prompts.into_iter().map(|prompt| Candidate { prompt, reply: None }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str =
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sharegpt_sample.json"));

    fn choice() -> Choice {
        Choice {
            max_prompt_tokens: None,
            sample: None,
            replace: false,
            seed: 1,
            reply_lengths: true,
            followups: false,
        }
    }

    fn load_with(bytes: &str, format: Format, c: Choice) -> Result<Dataset, String> {
        load(bytes.as_bytes(), format, &c, &Tokenizer::Estimate)
    }

    fn texts(d: &Dataset) -> Vec<(&str, Option<u32>)> {
        let mut v: Vec<_> = d.prompts.iter().map(|p| (p.text.as_str(), p.max_tokens)).collect();
        v.sort();
        v
    }

    #[test]
    fn each_format_is_detected() {
        assert_eq!(detect(SAMPLE.as_bytes()), Format::ShareGpt);
        assert_eq!(detect(b"\xEF\xBB\xBF  \n[]"), Format::ShareGpt);
        assert_eq!(detect(br#"{"messages": [], "temperature": 0}"#), Format::OpenAi);
        assert_eq!(detect(br#"{"messages": [], "inputs": {}}"#), Format::Prompts);
        assert_eq!(detect(br#"{"prompt": "x"}"#), Format::Prompts);
        assert_eq!(detect(b"{broken\n{\"prompt\": \"x\"}"), Format::Prompts);
        assert_eq!(detect(b"{name} says hi\n{not json"), Format::Lines);
        assert_eq!(detect(b"hello\n{\"prompt\": \"x\"}"), Format::Lines);
        assert_eq!(detect(b""), Format::Lines);
        assert_eq!("openai".parse(), Ok(Format::OpenAi));
        assert!("csv".parse::<Format>().unwrap_err().contains("sharegpt, openai, prompts or lines"));
    }

    #[test]
    fn sharegpt_takes_the_first_human_turn_and_sizes_the_answer_by_its_reply() {
        let d = load_with(SAMPLE, Format::ShareGpt, choice()).unwrap();
        assert_eq!(
            (d.entries, d.skipped, d.replaced),
            (5, Skipped { no_prompt: 2, ..Skipped::default() }, false)
        );
        assert_eq!(
            texts(&d),
            [
                ("Summarize the plot of Hamlet in one sentence.", Some(18)),
                ("Write a haiku about the sea.", Some(17)),
                ("你好，请介绍一下你自己。", Some(16)),
            ]
        );
        // Counted with the estimate: the prompt's own tokens.
        let zh = d.prompts.iter().find(|p| p.text.starts_with('你')).unwrap();
        assert_eq!(zh.counted_tokens, 12);
        assert!(d.prompts.iter().all(|p| p.extra.is_none() && p.messages.is_none()));
    }

    #[test]
    fn sharegpt_without_reply_lengths_keeps_conversations_without_a_reply() {
        let file = r#"[{"id": "a", "conversations": [{"from": "human", "value": "only a question"}]},
                       {"id": "b", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a b c"}]}]"#;
        let d = load_with(file, Format::ShareGpt, choice()).unwrap();
        assert_eq!((d.prompts.len(), d.skipped.no_reply), (1, 1));
        let d = load_with(file, Format::ShareGpt, Choice { reply_lengths: false, ..choice() }).unwrap();
        assert_eq!(texts(&d), [("only a question", None), ("q", None)]);
    }

    #[test]
    fn the_filter_the_shuffle_and_the_sample() {
        let lines: String = (1..=10).map(|i| format!("prompt {}\n", "x ".repeat(i))).collect();
        let all = load_with(&lines, Format::Lines, choice()).unwrap();
        assert_eq!(all.prompts.len(), 10);
        // Shuffled by the seed: the same seed the same order, another seed another.
        let order = |seed| {
            let d = load_with(&lines, Format::Lines, Choice { seed, ..choice() }).unwrap();
            d.prompts.iter().map(|p| p.counted_tokens).collect::<Vec<_>>()
        };
        assert_eq!(order(1), order(1));
        assert_ne!(order(1), order(2));
        let mut sorted = order(1);
        sorted.sort();
        assert_eq!(sorted, (2..=11).collect::<Vec<u64>>());
        // "prompt" and i × "x": 1 + i tokens; at most 6 keeps i ≤ 5.
        let short =
            load_with(&lines, Format::Lines, Choice { max_prompt_tokens: Some(6), ..choice() }).unwrap();
        assert_eq!((short.prompts.len(), short.skipped.too_long), (5, 5));
        assert!(short.prompts.iter().all(|p| p.counted_tokens <= 6));
        // Without replacement: distinct prompts.
        let some = load_with(&lines, Format::Lines, Choice { sample: Some(4), ..choice() }).unwrap();
        let mut distinct: Vec<u64> = some.prompts.iter().map(|p| p.counted_tokens).collect();
        distinct.dedup();
        assert_eq!((some.prompts.len(), distinct.len(), some.replaced), (4, 4, false));
        // More than the dataset holds: with replacement, so some repeat.
        let many = load_with(&lines, Format::Lines, Choice { sample: Some(50), ..choice() }).unwrap();
        assert_eq!((many.prompts.len(), many.replaced), (50, true));
        let mut seen: Vec<u64> = many.prompts.iter().map(|p| p.counted_tokens).collect();
        seen.sort();
        seen.dedup();
        assert!(seen.len() <= 10);
        let forced = load_with(&lines, Format::Lines, Choice { sample: Some(4), replace: true, ..choice() });
        assert!(forced.unwrap().replaced);
    }

    #[test]
    fn an_openai_request_line_keeps_its_messages_and_other_fields() {
        let file = concat!(
            "{\"model\": \"m\", \"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": \"user\", \"content\": \"hi there\"}], \"max_tokens\": 9, \"temperature\": 0.5, \"stream\": false}\n",
            "\n",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"second\"}], \"max_completion_tokens\": 4}\r\n",
        );
        let d = load_with(file, Format::OpenAi, Choice { seed: 3, ..choice() }).unwrap();
        assert_eq!((d.entries, d.format), (2, Format::OpenAi));
        let first = d.prompts.iter().find(|p| p.text == "hi there").unwrap();
        assert_eq!(first.max_tokens, Some(9));
        assert_eq!(first.messages.as_ref().unwrap()[0]["content"], "be brief");
        assert_eq!(
            Value::Object(first.extra.clone().unwrap()),
            serde_json::json!({"model": "m", "temperature": 0.5})
        );
        assert_eq!(first.counted_tokens, 4);
        let second = d.prompts.iter().find(|p| p.text == "second").unwrap();
        assert_eq!((second.max_tokens, second.extra.is_none()), (Some(4), true));
    }

    #[test]
    fn a_bad_file_names_the_line_and_the_fix() {
        let err = |s: &str, f| load_with(s, f, choice()).unwrap_err();
        assert!(
            err("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}\n[1]", Format::OpenAi)
                .starts_with("line 2 is not a JSON object: every line must be one request body")
        );
        assert!(err("{\"prompt\": \"x\"}", Format::OpenAi).starts_with("line 1 has no \"messages\""));
        assert!(
            err("{\"messages\": []}", Format::OpenAi)
                .starts_with("line 1: \"messages\" must be a non-empty array")
        );
        assert!(
            err("[{\"conversations\": 3}]", Format::ShareGpt)
                .starts_with("is not ShareGPT JSON (invalid type")
        );
        assert!(
            err("[{\"conversations\": []}] x", Format::ShareGpt)
                .starts_with("is not ShareGPT JSON (trailing")
        );
        assert!(err("{\"a\": 1}", Format::ShareGpt).contains("expected a JSON array of"));
        assert_eq!(
            err("[{\"conversations\": [{\"from\": \"gpt\", \"value\": \"x\"}]}]", Format::ShareGpt),
            "has no prompt to send: 1 of its 1 conversations were skipped (1 without a human turn or with an empty one): check the file and --dataset-format"
        );
        assert!(err("hello", Format::Prompts).starts_with("is not prompt JSONL"));
        assert_eq!(
            load_with("a b c\n", Format::Lines, Choice { max_prompt_tokens: Some(1), ..choice() })
                .unwrap_err(),
            "has no prompt to send: 1 of its 1 prompts were skipped (1 over --dataset-max-prompt-tokens): check the file and --dataset-format, or raise --dataset-max-prompt-tokens"
        );
    }

    #[test]
    fn prompt_jsonl_and_lines_read_as_param_file_reads_them() {
        let file = "{\"prompt\": \"a\", \"max_tokens\": 3}\n{\"query\": \"b\", \"inputs\": {\"k\": \"v\"}}\n";
        let d = load_with(file, Format::Prompts, choice()).unwrap();
        assert_eq!(texts(&d), [("a", Some(3)), ("b", None)]);
        // Named as lines, a JSON line is a prompt like any other.
        let d = load_with(file, Format::Lines, choice()).unwrap();
        assert!(d.prompts.iter().all(|p| p.text.starts_with('{')));
    }

    #[test]
    fn a_real_tokenizer_counts_prompts_and_replies() {
        let t = Tokenizer::builtin("cl100k").unwrap().unwrap();
        let d = load(SAMPLE.as_bytes(), Format::ShareGpt, &choice(), &t).unwrap();
        for p in &d.prompts {
            assert_eq!(p.counted_tokens, t.count(&p.text), "{}", p.text);
        }
        let hamlet = d.prompts.iter().find(|p| p.text.contains("Hamlet")).unwrap();
        assert_ne!(hamlet.max_tokens, None);
    }
}
