//! Incremental Server-Sent Events framing: turns the bytes of a response body, fed in whatever
//! chunks the network delivers, into events exactly as the WHATWG EventSource specification's
//! "interpreting an event stream" rules describe (line endings, BOM, comments, fields, dispatch on a
//! blank line). It deliberately does nothing else: no I/O, no JSON, no meaning of any vendor
//! protocol (`[DONE]`, `event: ping`, ...), and no timing; callers own all of that.

use std::borrow::Cow;
use std::fmt;

/// The UTF-8 byte order mark, dropped once at the very start of a stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Pending-line capacity kept after a line completes, so one huge line does not pin memory for the
/// rest of a long-lived stream (thousands of streams run at once).
const KEPT_LINE_CAPACITY: usize = 64 * 1024;

/// Limits that keep memory bounded against a hostile or broken server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest accepted line, terminator excluded; checked while an unterminated line accumulates.
    pub max_line_bytes: usize,
    /// Largest accepted data buffer of one event (every `data` value plus its `'\n'`).
    pub max_event_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_line_bytes: 1024 * 1024, max_event_bytes: 4 * 1024 * 1024 }
    }
}

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field, `""` when absent (not replaced by `"message"`, so callers can tell).
    pub event: String,
    /// The `data:` lines joined with `'\n'`.
    pub data: String,
    /// The WHATWG last event ID: the value of the latest valid `id:` field in the stream so far,
    /// set even by a block without data (which dispatches nothing), `""` before any.
    pub id: String,
}

/// Why a stream was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// A line exceeded [`Limits::max_line_bytes`].
    LineTooLong { limit: usize },
    /// An event's data exceeded [`Limits::max_event_bytes`].
    EventTooLarge { limit: usize },
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SseError::LineTooLong { limit } => {
                write!(f, "SSE line longer than {limit} bytes (server sent an oversized line)")
            }
            SseError::EventTooLarge { limit } => {
                write!(f, "SSE event data larger than {limit} bytes (server sent an oversized event)")
            }
        }
    }
}

impl std::error::Error for SseError {}

/// Incremental parser for one response body.
#[derive(Debug)]
pub struct Parser {
    limits: Limits,
    /// Start of a line whose terminator has not arrived yet; empty while lines fit in one feed.
    line: Vec<u8>,
    /// `Some(n)` while the stream start is undecided and its first `n` bytes matched the BOM.
    bom_matched: Option<usize>,
    /// The last feed ended with CR, so an LF opening the next feed completes that CRLF.
    after_cr: bool,
    event_type: String,
    data: String,
    /// A field line arrived since the last blank line, so an end of body here cuts an event.
    in_event: bool,
    invalid_utf8: bool,
    /// The event handed to `on_event`; its buffers are reused from one event to the next.
    out: Event,
}

/// Room each of the two data buffers starts with: a streamed chunk of the common APIs (JSON with
/// ids, model and delta) fits, so a stream's events never regrow them: each `realloc` takes the
/// malloc arena's lock (`util::sys::malloc_arenas_for`).
const DATA_ROOM: usize = 512;

impl Parser {
    pub fn new(limits: Limits) -> Self {
        Parser {
            limits,
            line: Vec::new(),
            bom_matched: Some(0),
            after_cr: false,
            event_type: String::new(),
            data: String::with_capacity(DATA_ROOM),
            in_event: false,
            invalid_utf8: false,
            out: Event { event: String::new(), data: String::with_capacity(DATA_ROOM), id: String::new() },
        }
    }

    /// Feeds the next bytes of the body; calls `on_event` for each dispatched event, in order.
    /// Returns Err on a limit breach; after an Err the parser may be discarded.
    pub fn feed(&mut self, bytes: &[u8], on_event: &mut dyn FnMut(&Event)) -> Result<(), SseError> {
        let mut rest = bytes;
        if let Some(matched) = self.bom_matched {
            let want = &BOM[matched..];
            let n = want.len().min(rest.len());
            if rest[..n] == want[..n] {
                if n < want.len() {
                    // Too few bytes to decide yet; hold them back as a BOM prefix.
                    self.bom_matched = Some(matched + n);
                    return Ok(());
                }
                rest = &rest[n..];
            } else {
                // Not a BOM after all: the bytes held back are ordinary line content.
                self.line.extend_from_slice(&BOM[..matched]);
            }
            self.bom_matched = None;
        }
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.check_line_len(self.line.len() + pos)?;
            if self.line.is_empty() {
                // Common case: the whole line is inside this feed, so parse it in place.
                self.process_line(&rest[..pos], on_event)?;
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&rest[..pos]);
                let result = self.process_line(&line, on_event);
                line.clear();
                line.shrink_to(KEPT_LINE_CAPACITY);
                self.line = line;
                result?;
            }
            let was_cr = rest[pos] == b'\r';
            rest = &rest[pos + 1..];
            if was_cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        // Checked before buffering, so an endless line costs at most `max_line_bytes` of memory.
        self.check_line_len(self.line.len() + rest.len())?;
        self.line.extend_from_slice(rest);
        Ok(())
    }

    /// End of body: per spec an incomplete event (no terminating blank line) is NOT dispatched.
    /// Returns true if there were buffered, undispatched bytes/fields (a stream cut mid-event), so
    /// callers can report truncation. Pending state is discarded, so a second call returns false.
    pub fn finish(&mut self) -> bool {
        let truncated = self.in_event || !self.line.is_empty() || self.bom_matched.is_some_and(|n| n > 0);
        self.line.clear();
        self.bom_matched = None;
        self.after_cr = false;
        self.event_type.clear();
        self.data.clear();
        self.in_event = false;
        truncated
    }

    /// Bytes held between feeds (the partial line and the event being built), for the
    /// bounded-memory property tests.
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> usize {
        self.line.len() + self.data.len() + self.event_type.len()
    }

    /// True if any line contained invalid UTF-8 (it was decoded lossily with U+FFFD).
    pub fn saw_invalid_utf8(&self) -> bool {
        self.invalid_utf8
    }

    fn check_line_len(&self, len: usize) -> Result<(), SseError> {
        if len > self.limits.max_line_bytes {
            return Err(SseError::LineTooLong { limit: self.limits.max_line_bytes });
        }
        Ok(())
    }

    /// Applies one complete line (terminator removed).
    fn process_line(&mut self, line: &[u8], on_event: &mut dyn FnMut(&Event)) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch(on_event);
            return Ok(());
        }
        // Borrowed (no copy) when valid; the lossy copy (U+FFFD) only for invalid lines.
        let text = match std::str::from_utf8(line) {
            Ok(valid) => Cow::Borrowed(valid),
            Err(_) => {
                self.invalid_utf8 = true;
                String::from_utf8_lossy(line)
            }
        };
        if text.starts_with(':') {
            return Ok(()); // a comment: keep-alives
        }
        self.in_event = true;
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (&*text, ""),
        };
        match field {
            "event" => {
                self.event_type.clear();
                self.event_type.push_str(value);
            }
            "data" => {
                if self.data.len() + value.len() + 1 > self.limits.max_event_bytes {
                    return Err(SseError::EventTooLarge { limit: self.limits.max_event_bytes });
                }
                // One reservation for value and '\n', so a one-line event allocates once.
                self.data.reserve(value.len() + 1);
                self.data.push_str(value);
                self.data.push('\n');
            }
            // The last event ID buffer lives in the event handed out: it persists across events.
            "id" if !value.contains('\0') => {
                self.out.id.clear();
                self.out.id.push_str(value);
            }
            // `retry:` sets a reconnection delay; a load tester never reconnects a stream.
            _ => {}
        }
        Ok(())
    }

    /// Handles a blank line: emits the event if it has data, and starts a new one either way.
    fn dispatch(&mut self, on_event: &mut dyn FnMut(&Event)) {
        self.in_event = false;
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        // Every data line appended a '\n'; the spec removes the last one.
        self.data.pop();
        // Swap the buffers into the event handed out and back, so a steady stream allocates nothing.
        std::mem::swap(&mut self.out.data, &mut self.data);
        std::mem::swap(&mut self.out.event, &mut self.event_type);
        on_event(&self.out);
        self.data.clear();
        self.event_type.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parser state visible after a whole stream, compared across every way of splitting it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Ended {
        truncated: bool,
        invalid_utf8: bool,
    }

    type RunResult = Result<(Vec<Event>, Ended), SseError>;

    fn ev(event: &str, data: &str, id: &str) -> Event {
        Event { event: event.to_owned(), data: data.to_owned(), id: id.to_owned() }
    }

    fn data(data: &str) -> Event {
        ev("", data, "")
    }

    fn run(limits: Limits, chunks: &[&[u8]]) -> RunResult {
        let mut parser = Parser::new(limits);
        let mut events = Vec::new();
        for chunk in chunks {
            parser.feed(chunk, &mut |event| events.push(event.clone()))?;
        }
        let truncated = parser.finish();
        assert!(!parser.finish(), "finish() must discard pending state");
        let outcome = Ended { truncated, invalid_utf8: parser.saw_invalid_utf8() };
        Ok((events, outcome))
    }

    /// Every offset for short inputs; for long ones, a spread plus the edges.
    fn sample_offsets(len: usize) -> Vec<usize> {
        if len <= 48 {
            return (0..=len).collect();
        }
        let mut offsets: Vec<usize> =
            (0..=len).step_by(len / 16).chain([1, 2, len / 2 + 1, len - 2, len - 1, len]).collect();
        offsets.sort_unstable();
        offsets.dedup();
        offsets
    }

    /// Feeds `input` whole, byte by byte, in two pieces split at every offset and in three pieces
    /// at sampled offset pairs, asserts all of them agree (events, errors and parser state), and
    /// returns that common result.
    fn check_splits(limits: Limits, input: &[u8]) -> RunResult {
        let whole = run(limits, &[input]);
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run(limits, &bytes), whole, "byte by byte");
        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            assert_eq!(run(limits, &[a, b]), whole, "split at {i}");
        }
        let offsets = sample_offsets(input.len());
        for (n, &i) in offsets.iter().enumerate() {
            for &j in &offsets[n..] {
                let parts = [&input[..i], &input[i..j], &input[j..]];
                assert_eq!(run(limits, &parts), whole, "split at {i} and {j}");
            }
        }
        whole
    }

    /// Asserts `input` yields exactly `expected` however it is split; returns the parser state.
    fn check(input: &[u8], expected: &[Event]) -> Ended {
        let (events, outcome) = check_splits(Limits::default(), input).expect("stream is valid");
        assert_eq!(events, expected);
        outcome
    }

    fn clean(truncated: bool) -> Ended {
        Ended { truncated, invalid_utf8: false }
    }

    #[test]
    fn lf_line_endings() {
        let outcome = check(b"data: a\n\ndata: b\n\n", &[data("a"), data("b")]);
        assert_eq!(outcome, clean(false));
    }

    #[test]
    fn crlf_line_endings() {
        check(b"data: a\r\n\r\ndata: b\r\n\r\n", &[data("a"), data("b")]);
    }

    #[test]
    fn lone_cr_line_endings() {
        check(b"data: a\r\rdata: b\r\r", &[data("a"), data("b")]);
    }

    #[test]
    fn mixed_line_endings() {
        // "\n\r" is two terminators (LF, then a lone CR ending an empty line), not one pair.
        check(
            b"data: a\r\n\rdata: b\n\r\ndata: c\r\rdata: d\n\rdata: e\r\n\n",
            &[data("a"), data("b"), data("c"), data("d"), data("e")],
        );
    }

    #[test]
    fn crlf_split_across_feeds_is_one_terminator() {
        // An extra empty line after "a" would split this into two events.
        check(b"data: a\r\ndata: b\r\n\r\n", &[data("a\nb")]);
        let feeds: [&[u8]; 5] = [b"data: a\r", b"", b"\ndata: b\r", b"\n\r", b"\n"];
        let (events, _) = run(Limits::default(), &feeds).unwrap();
        assert_eq!(events, [data("a\nb")]);
    }

    #[test]
    fn leading_bom_is_dropped() {
        let outcome = check(b"\xEF\xBB\xBFdata: a\n\n", &[data("a")]);
        assert_eq!(outcome, clean(false));
        assert_eq!(check(b"\xEF\xBB\xBF", &[]), clean(false));
    }

    #[test]
    fn bom_is_dropped_only_once() {
        // Later BOMs are content, so "\u{FEFF}data" is an unknown field name.
        check(
            "\u{FEFF}\u{FEFF}data: a\n\ndata: b\n\n\u{FEFF}data: c\n\ndata: \u{FEFF}d\n\n".as_bytes(),
            &[data("b"), data("\u{FEFF}d")],
        );
    }

    #[test]
    fn partial_bom_is_ordinary_content() {
        let outcome = check(b"\xEF\xBBdata: a\n\ndata: b\n\n", &[data("b")]);
        assert!(outcome.invalid_utf8);
        // A body cut inside the BOM still held back bytes.
        assert!(check(b"\xEF\xBB", &[]).truncated);
    }

    #[test]
    fn comments_only() {
        let outcome = check(b": ping\n\n:keep-alive\r\n\r\n:\n\n", &[]);
        assert_eq!(outcome, clean(false));
        // A comment inside an event does not disturb it.
        check(b"data: a\n: ping\ndata: b\n\n", &[data("a\nb")]);
    }

    #[test]
    fn event_without_data_is_not_dispatched() {
        // Dify sends `event: ping` alone; the type must not leak into the next event.
        check(b"event: ping\n\ndata: x\n\n", &[data("x")]);
    }

    #[test]
    fn multi_line_data_is_joined_with_lf() {
        check(b"data: a\ndata: b\ndata: c\n\n", &[data("a\nb\nc")]);
        check(b"data: a\ndata:\n\n", &[data("a\n")]);
    }

    #[test]
    fn data_without_colon_appends_empty_line() {
        check(b"data\n\n", &[data("")]);
        check(b"data\ndata\n\n", &[data("\n")]);
    }

    #[test]
    fn data_without_space() {
        check(b"data:x\n\n", &[data("x")]);
    }

    #[test]
    fn only_one_leading_space_is_dropped() {
        check(b"data:  two spaces\n\ndata: a: b\n\n", &[data(" two spaces"), data("a: b")]);
    }

    #[test]
    fn id_and_retry() {
        check(
            b"id: 1\nretry: 1500\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 2\nid: x\0y\ndata: d\n\n\
              retry: 12a\nretry: -5\nretry:\nretry: 99999999999999999999999\ndata: e\n\n",
            &[ev("", "a", "1"), ev("", "b", "1"), data("c"), ev("", "d", "2"), ev("", "e", "2")],
        );
        // A block with only an id dispatches nothing but sets the last event ID the next event carries.
        check(b"id: 7\n\ndata: a\n\n", &[ev("", "a", "7")]);
        check(b"data: a\n\nid: 7\n\n", &[data("a")]);
    }

    #[test]
    fn unknown_fields_are_ignored() {
        check(b"foo: bar\nDATA: x\ndata: a\n\n", &[data("a")]);
    }

    #[test]
    fn trailing_event_without_blank_line_is_not_dispatched() {
        assert!(check(b"data: a\n\ndata: b\n", &[data("a")]).truncated);
        assert!(check(b"data: a\n\ndata: b", &[data("a")]).truncated);
        assert!(check(b"data: a\n\nevent: x\n", &[data("a")]).truncated);
        assert!(!check(b"data: a\n\n: bye\n", &[data("a")]).truncated);
    }

    #[test]
    fn dify_like_stream_with_chinese_split_at_every_byte() {
        let input = "event: ping\n\ndata: {\"event\": \"message\", \"answer\": \"你好\"}\n\n";
        let outcome = check(input.as_bytes(), &[data("{\"event\": \"message\", \"answer\": \"你好\"}")]);
        assert_eq!(outcome, clean(false));
    }

    #[test]
    fn openai_like_stream_ends_with_done() {
        let input = b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n\
                      data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\n\
                      data: [DONE]\n\n";
        check(
            input,
            &[
                data("{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}"),
                data("{\"choices\":[],\"usage\":{\"total_tokens\":3}}"),
                data("[DONE]"),
            ],
        );
    }

    #[test]
    fn anthropic_like_stream_with_event_lines() {
        let input = b"event: message_start\ndata: {\"type\":\"message_start\"}\n\n\
                      event: ping\ndata: {\"type\": \"ping\"}\n\n\
                      event: content_block_delta\ndata: {\"delta\":{\"text\":\"Hi\"}}\n\n\
                      event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        check(
            input,
            &[
                ev("message_start", "{\"type\":\"message_start\"}", ""),
                ev("ping", "{\"type\": \"ping\"}", ""),
                ev("content_block_delta", "{\"delta\":{\"text\":\"Hi\"}}", ""),
                ev("message_stop", "{\"type\":\"message_stop\"}", ""),
            ],
        );
    }

    #[test]
    fn line_too_long() {
        let limits = Limits { max_line_bytes: 16, ..Limits::default() };
        let err = Err(SseError::LineTooLong { limit: 16 });
        assert_eq!(check_splits(limits, b"data: 0123456789a\n\n"), err);
        assert_eq!(check_splits(limits, b"data: 0123456789a"), err);
        assert_eq!(check_splits(limits, b": 0123456789abcde\r\n"), err);
        // Exactly at the limit is fine.
        let (events, _) = check_splits(limits, b"data: 0123456789\r\n\r\n").unwrap();
        assert_eq!(events, [data("0123456789")]);
    }

    #[test]
    fn endless_line_errors_early_with_bounded_memory() {
        let limits = Limits::default();
        let mut parser = Parser::new(limits);
        let piece = [b'x'; 16 * 1024];
        let mut fed = 0;
        let err = loop {
            match parser.feed(&piece, &mut |_| panic!("no event expected")) {
                Ok(()) => fed += piece.len(),
                Err(err) => break err,
            }
            assert!(parser.line.len() <= limits.max_line_bytes);
            assert!(fed < 10 * 1024 * 1024, "no error after {fed} bytes");
        };
        assert_eq!(err, SseError::LineTooLong { limit: 1024 * 1024 });
        assert!(fed <= limits.max_line_bytes, "accepted {fed} bytes");
    }

    #[test]
    fn event_too_large() {
        let limits = Limits { max_event_bytes: 10, ..Limits::default() };
        assert_eq!(
            check_splits(limits, b"data: 12345\ndata: 6789\n\n"),
            Err(SseError::EventTooLarge { limit: 10 })
        );
        // The buffer holds "123456789\n", exactly the limit; each event starts from zero.
        let (events, _) = check_splits(limits, b"data: 123456789\n\ndata: 123456789\n\n").unwrap();
        assert_eq!(events, [data("123456789"), data("123456789")]);
    }

    #[test]
    fn invalid_utf8_is_replaced_and_flagged() {
        let outcome = check(b"data: a\xFFb\n\n", &[data("a\u{FFFD}b")]);
        assert!(outcome.invalid_utf8);
        assert!(check(b": \xC3\n\n", &[]).invalid_utf8);
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            SseError::LineTooLong { limit: 1048576 }.to_string(),
            "SSE line longer than 1048576 bytes (server sent an oversized line)"
        );
        assert_eq!(
            SseError::EventTooLarge { limit: 10 }.to_string(),
            "SSE event data larger than 10 bytes (server sent an oversized event)"
        );
    }

    #[test]
    fn fixtures() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
        // Counted by hand: blank-line-terminated blocks with at least one data line.
        let cases = [
            ("sample_dify_chat.sse", 9),
            ("sample_openai_chat_usage.sse", 21),
            ("sample_anthropic.sse", 14),
            ("vllm_chat_usage.sse", 11),
            ("vllm_completions.sse", 10),
            ("llama_server_chat_usage.sse", 11),
        ];
        for (name, count) in cases {
            let input = std::fs::read(format!("{dir}{name}")).expect("fixture is readable");
            let (events, outcome) = check_splits(Limits::default(), &input).expect(name);
            assert_eq!(events.len(), count, "{name}");
            assert_eq!(outcome, clean(false), "{name}");
            let named = events.iter().filter(|e| !e.event.is_empty()).count();
            let expected_named = if name.contains("anthropic") { count } else { 0 };
            assert_eq!(named, expected_named, "{name}");
            let done = events.last().is_some_and(|e| e.data == "[DONE]");
            assert_eq!(done, !name.starts_with("sample_dify") && !name.contains("anthropic"));
        }
    }
}
