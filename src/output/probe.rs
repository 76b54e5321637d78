//! What `llmload probe` prints: each SSE event as a person reads it (its arrival, type, last
//! event ID, data, and what the adapter read from it) or as one JSON object, and the one-line
//! verdict with the likely fix. Pure: events and counts in, text out; sending the request is the
//! command's, and the last event ID is the SSE parser's.

use crate::measure::{ErrorKind, Outcome};
use crate::protocol::Delta;
use crate::util::decimals::three;
use serde::Serialize;
use std::fmt::Write;
use std::time::Duration;

/// Characters of an event's data the text view shows before it cuts (the JSON keeps it whole).
const DATA_SHOWN: usize = 200;
/// Characters of a text delta the text view quotes.
const TEXT_SHOWN: usize = 60;

/// What the adapter read from one event, detached from it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    pub recognised: bool,
    pub answer: String,
    pub reasoning: String,
    pub output_tokens: Option<u64>,
    pub input_tokens: Option<u64>,
    /// The part of the input read from the server's prompt cache (shown, not in `--json`).
    pub cached_tokens: Option<u64>,
    pub done: bool,
    /// An error event inside the stream, with the server's message.
    pub error: Option<String>,
    /// Why the adapter could not read the event at all.
    pub malformed: Option<String>,
}

impl Reading {
    pub fn of(read: Result<Delta<'_>, String>) -> Reading {
        match read {
            Ok(d) => Reading {
                recognised: d.recognised,
                answer: d.answer.into_owned(),
                reasoning: d.reasoning.into_owned(),
                output_tokens: d.output_tokens,
                input_tokens: d.input_tokens,
                cached_tokens: d.cached_tokens,
                done: d.done,
                error: d.error,
                malformed: None,
            },
            Err(why) => Reading { malformed: Some(why), ..Reading::default() },
        }
    }

    pub fn has_text(&self) -> bool {
        !self.answer.is_empty() || !self.reasoning.is_empty()
    }
}

/// One dispatched event as the probe shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// 1-based, in arrival order.
    pub index: usize,
    /// Since the request started; `None` for a recorded body (no network, no timing).
    pub offset: Option<Duration>,
    /// The event type: the `event:` field, `message` when there was none (WHATWG).
    pub event: String,
    pub data: String,
    /// The last event ID when it was dispatched (it carries over between events), `""` when none.
    pub id: String,
    pub reading: Reading,
}

/// The event as one JSON line: the WHATWG event (`event`, `data`, `id`), when it arrived, and
/// the adapter's reading, keys in this order.
#[derive(Serialize)]
struct Line<'a> {
    index: usize,
    #[serde(serialize_with = "three")]
    offset_ms: Option<f64>,
    event: &'a str,
    data: &'a str,
    id: &'a str,
    recognised: bool,
    answer: &'a str,
    reasoning: &'a str,
    output_tokens: Option<u64>,
    input_tokens: Option<u64>,
    done: bool,
    error: Option<&'a str>,
    malformed: Option<&'a str>,
}

/// One JSON object, newline-terminated.
pub fn json_line(s: &Seen) -> String {
    let r = &s.reading;
    let line = Line {
        index: s.index,
        offset_ms: s.offset.map(|d| d.as_secs_f64() * 1000.0),
        event: &s.event,
        data: &s.data,
        id: &s.id,
        recognised: r.recognised,
        answer: &r.answer,
        reasoning: &r.reasoning,
        output_tokens: r.output_tokens,
        input_tokens: r.input_tokens,
        done: r.done,
        error: r.error.as_deref(),
        malformed: r.malformed.as_deref(),
    };
    // Plain strings, integers and finite floats: serializing cannot fail.
    serde_json::to_string(&line).unwrap_or_default() + "\n"
}

/// The event for a person: a head line (number, arrival, type, id), its data, and the reading.
pub fn text(s: &Seen, api: &str) -> String {
    let mut o = format!("#{}", s.index);
    if let Some(d) = s.offset {
        let _ = write!(o, "  +{:.1}ms", d.as_secs_f64() * 1000.0);
    }
    let _ = write!(o, "  event: {}", s.event);
    if !s.id.is_empty() {
        let _ = write!(o, "  id: {}", s.id);
    }
    let _ = writeln!(o, "\n    data: {}", shown(&s.data, DATA_SHOWN));
    let _ = writeln!(o, "    → {}", reading(&s.reading, api));
    o
}

/// What the adapter read, in words.
pub fn reading(r: &Reading, api: &str) -> String {
    if let Some(why) = &r.malformed {
        return format!("malformed for {api}: {why}");
    }
    let mut parts = Vec::new();
    if !r.answer.is_empty() {
        parts.push(format!("answer \"{}\"", shown(&r.answer, TEXT_SHOWN)));
    }
    if !r.reasoning.is_empty() {
        parts.push(format!("reasoning \"{}\"", shown(&r.reasoning, TEXT_SHOWN)));
    }
    if let Some(n) = r.output_tokens {
        parts.push(format!("usage: {n} output tokens"));
    }
    match (r.input_tokens, r.cached_tokens) {
        (Some(n), Some(c)) => parts.push(format!("{n} input tokens ({c} cached)")),
        (Some(n), None) => parts.push(format!("{n} input tokens")),
        (None, Some(c)) => parts.push(format!("{c} cached input tokens")),
        (None, None) => {}
    }
    if let Some(e) = &r.error {
        parts.push(format!("error event: {e}"));
    }
    if r.done {
        parts.push("terminal event".into());
    }
    match (parts.is_empty(), r.recognised) {
        (_, false) => format!("not recognised as {api}"),
        (true, true) => "recognised, no text".into(),
        (false, true) => parts.join(" · "),
    }
}

/// A text on one line (line breaks as `\n`), cut at `n` characters with `…`.
fn shown(text: &str, n: usize) -> String {
    let flat = text.replace('\r', "\\r").replace('\n', "\\n");
    match flat.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

/// Counts over the events of one stream, for the verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub events: usize,
    /// Events with answer or reasoning text, up to the terminal event.
    pub text: usize,
    pub recognised: usize,
    /// Events after the terminal event (a load test ignores them).
    pub after_terminal: usize,
    pub terminal: bool,
}

impl Tally {
    pub fn add(&mut self, r: &Reading) {
        self.events += 1;
        if self.terminal {
            self.after_terminal += 1;
            return;
        }
        self.recognised += usize::from(r.recognised);
        self.text += usize::from(r.has_text());
        self.terminal = r.done;
    }
}

/// What the probe found, for the verdict.
pub struct Found<'a> {
    pub api: &'a str,
    pub tally: Tally,
    /// The HTTP status; `None` when no response came (or a recorded body).
    pub status: Option<u16>,
    /// The outcome a load test would give this request.
    pub outcome: &'a Outcome,
    /// Another API whose adapter recognises these events, when `api`'s does not.
    pub suggestion: Option<&'a str>,
    /// The stream ends at the end of the body (no terminal event exists for this API).
    pub ends_at_close: bool,
}

/// The exit code when the stream was read and recognised, with text and its end.
pub const PROBE_OK: u8 = 0;
/// The stream was read but gave no text or no end, or `--api` does not fit it.
pub const PROBE_NO_TOKENS: u8 = 1;
/// No stream at all: no connection, TLS or an HTTP error status.
pub const PROBE_NO_STREAM: u8 = 2;

/// The verdict line (without a newline) and the probe's exit code.
pub fn verdict(f: &Found) -> (String, u8) {
    let t = &f.tally;
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let message = match f.outcome {
        Outcome::Failed { message, .. } => message.as_str(),
        _ => "",
    };
    let stream_read = f.status.is_some_and(|s| (200..300).contains(&s));
    if !stream_read {
        let kind = match f.outcome {
            Outcome::Failed { kind, .. } => kind.name(),
            other => other.name(),
        };
        return (format!("no stream: {kind}: {message}"), PROBE_NO_STREAM);
    }
    let events = plural(t.events, "event");
    let fix = match f.suggestion {
        Some(other) => format!("is --api right? they read as {other}: try --api {other}"),
        None => "is --api right?".into(),
    };
    if matches!(f.outcome, Outcome::Failed { kind: ErrorKind::NotSse, .. }) {
        return (format!("no tokens: {message}"), PROBE_NO_TOKENS);
    }
    if t.events == 0 {
        return (
            format!(
                "no tokens: the body held no SSE event (`data: …` lines, each event ended by a blank line): {message}"
            ),
            PROBE_NO_TOKENS,
        );
    }
    if t.recognised == 0 {
        return (format!("no tokens: {events}, none recognised as {}: {fix}", f.api), PROBE_NO_TOKENS);
    }
    let text = format!("{} with text", t.text);
    match f.outcome {
        Outcome::Ok => {
            let end =
                if t.terminal { "ended with the terminal event" } else { "ended at the close of the body" };
            let mut line = format!("ok: {events}, {text}, {end}");
            if t.recognised < t.events - t.after_terminal {
                let _ = write!(
                    line,
                    "; {} not recognised as {}",
                    t.events - t.after_terminal - t.recognised,
                    f.api
                );
            }
            if t.after_terminal > 0 {
                let _ = write!(
                    line,
                    "; {} after the terminal event (a load test ignores them)",
                    t.after_terminal
                );
            }
            (line, PROBE_OK)
        }
        Outcome::Failed { kind: ErrorKind::NoText, .. } => (
            format!(
                "no tokens: {events}, {text}: the stream ended normally but no event carried text; {fix}"
            ),
            PROBE_NO_TOKENS,
        ),
        Outcome::Failed { kind: ErrorKind::StreamError, .. } => (
            format!("no tokens: {events}, {text}: the server sent an error event: {message}"),
            PROBE_NO_TOKENS,
        ),
        Outcome::Failed { kind: ErrorKind::Truncated, .. } => {
            let hint = if f.ends_at_close {
                String::new()
            } else {
                format!(
                    " (no {} terminal event came: the server cut the stream, or it ends at the close: --api custom --done-marker \"\")",
                    f.api
                )
            };
            (format!("no terminal event: {events}, {text}: {message}{hint}"), PROBE_NO_TOKENS)
        }
        Outcome::Failed { kind, .. } => {
            (format!("failed: {events}, {text}: {}: {message}", kind.name()), PROBE_NO_TOKENS)
        }
        Outcome::Cancelled | Outcome::Abandoned => (format!("cancelled: {events}, {text}"), PROBE_NO_TOKENS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::TimeoutPhase;

    fn seen(event: &str, data: &str, id: &str, reading: Reading) -> Seen {
        Seen {
            index: 3,
            offset: Some(Duration::from_micros(152_449)),
            event: event.into(),
            data: data.into(),
            id: id.into(),
            reading,
        }
    }

    fn answer(text: &str) -> Reading {
        Reading { recognised: true, answer: text.into(), ..Reading::default() }
    }

    #[test]
    fn an_event_reads_as_text_and_as_json() {
        let s = seen("message", "{\"answer\":\"你好\"}\nsecond line", "7", answer("你好"));
        assert_eq!(
            text(&s, "dify-chat"),
            "#3  +152.4ms  event: message  id: 7\n    data: {\"answer\":\"你好\"}\\nsecond line\n    → answer \"你好\"\n"
        );
        assert_eq!(
            json_line(&s),
            "{\"index\":3,\"offset_ms\":152.449,\"event\":\"message\",\"data\":\"{\\\"answer\\\":\\\"你好\\\"}\\nsecond line\",\"id\":\"7\",\"recognised\":true,\"answer\":\"你好\",\"reasoning\":\"\",\"output_tokens\":null,\"input_tokens\":null,\"done\":false,\"error\":null,\"malformed\":null}\n"
        );
        let recorded = Seen { offset: None, id: String::new(), ..s };
        assert!(text(&recorded, "dify-chat").starts_with("#3  event: message\n"));
        assert!(json_line(&recorded).contains("\"offset_ms\":null"));
    }

    #[test]
    fn readings_name_what_the_adapter_found() {
        let api = "openai-chat";
        assert_eq!(reading(&Reading::default(), api), "not recognised as openai-chat");
        assert_eq!(reading(&Reading { recognised: true, ..Reading::default() }, api), "recognised, no text");
        let usage = Reading {
            recognised: true,
            output_tokens: Some(10),
            input_tokens: Some(4),
            ..Reading::default()
        };
        assert_eq!(reading(&usage, api), "usage: 10 output tokens · 4 input tokens");
        let cached = Reading { cached_tokens: Some(3), ..usage };
        assert_eq!(reading(&cached, api), "usage: 10 output tokens · 4 input tokens (3 cached)");
        let end = Reading { recognised: true, done: true, ..Reading::default() };
        assert_eq!(reading(&end, api), "terminal event");
        let think = Reading { recognised: true, reasoning: "x".repeat(70), ..Reading::default() };
        assert_eq!(reading(&think, api), format!("reasoning \"{}…\"", "x".repeat(60)));
        let bad =
            Reading { malformed: Some("event data is not the expected JSON".into()), ..Reading::default() };
        assert_eq!(reading(&bad, api), "malformed for openai-chat: event data is not the expected JSON");
        let error = Reading { recognised: true, error: Some("quota".into()), ..Reading::default() };
        assert_eq!(reading(&error, api), "error event: quota");
    }

    fn tally(readings: &[Reading]) -> Tally {
        let mut t = Tally::default();
        readings.iter().for_each(|r| t.add(r));
        t
    }

    fn found<'a>(tally: Tally, outcome: &'a Outcome, suggestion: Option<&'a str>) -> Found<'a> {
        Found { api: "dify-chat", tally, status: Some(200), outcome, suggestion, ends_at_close: false }
    }

    fn failed(kind: ErrorKind, message: &str) -> Outcome {
        Outcome::Failed { kind, message: message.into() }
    }

    #[test]
    fn a_good_stream_is_ok_and_counts_what_came_after_its_end() {
        let end = Reading { recognised: true, done: true, ..Reading::default() };
        let t = tally(&[
            Reading { recognised: true, ..Reading::default() },
            answer("a"),
            answer("b"),
            end,
            answer("late"),
        ]);
        assert_eq!(t, Tally { events: 5, text: 2, recognised: 4, after_terminal: 1, terminal: true });
        assert_eq!(
            verdict(&found(t, &Outcome::Ok, None)),
            (
                "ok: 5 events, 2 with text, ended with the terminal event; 1 after the terminal event (a load test ignores them)".into(),
                PROBE_OK
            )
        );
        let close = tally(&[answer("a"), Reading::default()]);
        assert_eq!(
            verdict(&found(close, &Outcome::Ok, None)).0,
            "ok: 2 events, 1 with text, ended at the close of the body; 1 not recognised as dify-chat"
        );
    }

    #[test]
    fn a_stream_of_another_api_names_the_fix() {
        let t = tally(&[Reading::default(), Reading::default()]);
        let o = failed(ErrorKind::Truncated, "the stream closed between events");
        assert_eq!(
            verdict(&found(t, &o, Some("openai-chat"))),
            (
                "no tokens: 2 events, none recognised as dify-chat: is --api right? they read as openai-chat: try --api openai-chat".into(),
                PROBE_NO_TOKENS
            )
        );
        assert!(verdict(&found(t, &o, None)).0.ends_with("none recognised as dify-chat: is --api right?"));
    }

    #[test]
    fn every_other_end_says_why() {
        let one = tally(&[answer("a")]);
        let cut = failed(ErrorKind::Truncated, "the stream closed between events before its terminal event");
        assert_eq!(
            verdict(&found(one, &cut, None)),
            (
                "no terminal event: 1 event, 1 with text: the stream closed between events before its terminal event (no dify-chat terminal event came: the server cut the stream, or it ends at the close: --api custom --done-marker \"\")".into(),
                PROBE_NO_TOKENS
            )
        );
        let quiet = tally(&[Reading { recognised: true, done: true, ..Reading::default() }]);
        assert_eq!(
            verdict(&found(quiet, &failed(ErrorKind::NoText, "m"), None)).0,
            "no tokens: 1 event, 0 with text: the stream ended normally but no event carried text; is --api right?"
        );
        assert_eq!(
            verdict(&found(quiet, &failed(ErrorKind::StreamError, "HTTP 400 quota"), None)).0,
            "no tokens: 1 event, 0 with text: the server sent an error event: HTTP 400 quota"
        );
        let none = Tally::default();
        assert!(verdict(&found(none, &cut, None)).0.starts_with("no tokens: the body held no SSE event"));
        let html = failed(
            ErrorKind::NotSse,
            "expected an event stream but got \"text/html\": <html> (is --api right for this server?)",
        );
        assert_eq!(verdict(&found(none, &html, None)).1, PROBE_NO_TOKENS);
        let idle = failed(ErrorKind::Timeout(TimeoutPhase::Idle), "no bytes for 60s");
        assert_eq!(
            verdict(&found(one, &idle, None)),
            ("failed: 1 event, 1 with text: timeout_idle: no bytes for 60s".into(), PROBE_NO_TOKENS)
        );
    }

    #[test]
    fn no_response_or_an_error_status_is_no_stream() {
        let refused = failed(ErrorKind::Connect, "connection refused (is the server running?)");
        let f = Found { status: None, ..found(Tally::default(), &refused, None) };
        assert_eq!(
            verdict(&f),
            ("no stream: connect: connection refused (is the server running?)".into(), PROBE_NO_STREAM)
        );
        let denied = failed(ErrorKind::Http(401), "HTTP 401: bad key");
        let f = Found { status: Some(401), ..found(Tally::default(), &denied, None) };
        assert_eq!(verdict(&f), ("no stream: http_401: HTTP 401: bad key".into(), PROBE_NO_STREAM));
    }
}
