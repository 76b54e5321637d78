//! The paced part of one SSE response, everything after its opening events: which chunk goes
//! next, when it is due, what it marks in the truth, and how the response ends. Mid-stream
//! faults strike here (`cut`, `stall`, `malformed`, `bad-utf8`, `huge-line`, `stream-error`,
//! `pings-only`, `no-end`).
//!
//! Writes are rendered one token at a time, only when the pacer asks for the next, so the
//! closing events carry the latency at the moment they leave. This module does not write, wait
//! or record: the pacer does.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::MockConfig;
use super::faults::Fault;
use super::http::{self, Next};
use super::respond::Plan;
use super::script::{self, Lang, Schedule};
use super::shapes::Shape;

/// The in-stream error comes after this many tokens (or all, if fewer).
const STREAM_ERROR_AFTER: u64 = 3;

/// The `huge-line` fault's line: ten times llmload's 1 MiB line limit.
const HUGE_LINE_BYTES: usize = 10 << 20;

/// Stands in for the invalid bytes of `bad-utf8` while the event is rendered as JSON.
const BAD_UTF8_MARK: &str = "BAD-UTF8-HERE";

/// What a write's completion means for the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    /// Nothing to record (a fault's bytes, a closing event before the terminal one).
    Plain,
    /// A text event.
    Text,
    /// The normal terminal event.
    Completed,
}

/// One chunk to write in one `send`.
#[derive(Debug)]
pub(super) struct Chunk {
    /// Chunk-framed, terminating chunk included when it is the last.
    pub bytes: Vec<u8>,
    /// When it is due; `None`: right after the write before it.
    pub due: Option<Instant>,
    pub mark: Mark,
}

/// What the pacer does next with a stream.
#[derive(Debug)]
pub(super) enum Step {
    Chunk(Chunk),
    /// All is sent; the connection carries on as this says.
    End(Next),
}

/// The rest of one streaming response.
pub(super) struct Stream {
    shape: Box<dyn Shape + Send>,
    plan: Plan,
    lang: Lang,
    /// The answer is wrong (`MockConfig::wrong_share`): every token is `script::WRONG`.
    wrong: bool,
    schedule: Schedule,
    received: Instant,
    /// Token index and fault, when a mid-stream fault strikes before that token.
    strike: Option<(u64, Fault)>,
    /// `pings-only`: every token is a keep-alive comment, and no event is sent.
    pings_only: bool,
    /// How long `stall` goes silent.
    fault_delay: Duration,
    close: bool,
    /// The token index rendered next.
    i: u64,
    /// Writes rendered but not yet handed out, in order.
    queue: VecDeque<Chunk>,
    /// How the response ends once `queue` is empty; set with its last writes.
    end: Option<Next>,
}

impl Stream {
    /// The rest of request `n`, fully read at `received`; `close`: the connection closes after
    /// it.
    pub(super) fn new(
        shape: Box<dyn Shape + Send>,
        plan: Plan,
        fault: Option<Fault>,
        config: &MockConfig,
        n: u64,
        received: Instant,
        close: bool,
    ) -> Self {
        Stream {
            shape,
            strike: fault.and_then(|f| fault_point(f, plan.tokens).map(|at| (at, f))),
            pings_only: fault == Some(Fault::PingsOnly),
            fault_delay: config.fault_delay,
            plan,
            lang: config.lang,
            wrong: super::faults::hits(config.wrong_share, n),
            schedule: Schedule::new(received, config, n),
            received,
            close,
            i: 0,
            queue: VecDeque::new(),
            end: None,
        }
    }

    /// The next write, or the end once every write has been handed out.
    pub(super) fn next_step(&mut self) -> Step {
        loop {
            if let Some(write) = self.queue.pop_front() {
                return Step::Chunk(write);
            }
            if let Some(next) = self.end {
                return Step::End(next);
            }
            self.render();
        }
    }

    /// Renders token `i`'s writes: a fault striking before it, then its text event, or the
    /// closing events after the last token.
    fn render(&mut self) {
        let i = self.i;
        self.i += 1;
        let mut delay = Duration::ZERO;
        match self.strike.filter(|&(at, _)| at == i).map(|(_, f)| f) {
            Some(Fault::Cut) => {
                let event = self.shape.text_event(script::answer_token(self.lang, self.wrong, i));
                self.push(http::cut_chunk(&event), None, Mark::Plain);
                self.end = Some(Next::Close);
                return;
            }
            Some(Fault::Malformed) => {
                let event = self.shape.malformed_event();
                self.push(http::chunk(&event, false), None, Mark::Plain);
            }
            Some(Fault::StreamError) => {
                let events = self.shape.stream_error();
                self.push_all(&events, Mark::Plain);
                self.end = Some(Next::after(self.close));
                return;
            }
            Some(Fault::Stall) => delay = self.fault_delay,
            Some(Fault::BadUtf8) => {
                let event = self.shape.text_event(BAD_UTF8_MARK);
                self.push(
                    http::chunk(&replace(&event, BAD_UTF8_MARK.as_bytes(), b"\xFF\xFE?"), false),
                    None,
                    Mark::Plain,
                );
            }
            Some(Fault::HugeLine) => {
                let mut line = Vec::with_capacity(HUGE_LINE_BYTES + 8);
                line.extend_from_slice(b"data: ");
                line.resize(HUGE_LINE_BYTES, b'x');
                line.extend_from_slice(b"\n\n");
                self.push(http::chunk(&line, false), None, Mark::Plain);
            }
            Some(Fault::NoEnd) => {
                self.push(http::END_CHUNK.to_vec(), None, Mark::Plain);
                self.end = Some(Next::after(self.close));
                return;
            }
            _ => {}
        }
        if i < self.plan.tokens && self.pings_only {
            let due = self.schedule.next_deadline();
            self.push(http::chunk(b": ping\n\n", false), Some(due), Mark::Plain);
        } else if i < self.plan.tokens {
            let due = self.schedule.next_deadline() + delay;
            let event = self.shape.text_event(script::answer_token(self.lang, self.wrong, i));
            self.push(http::chunk(&event, false), Some(due), Mark::Text);
        } else if self.pings_only {
            self.push(http::END_CHUNK.to_vec(), None, Mark::Plain);
            self.end = Some(Next::after(self.close));
        } else {
            let events = self.shape.closing(&self.plan.end(self.received.elapsed()));
            self.push_all(&events, Mark::Completed);
            self.end = Some(Next::after(self.close));
        }
    }

    fn push(&mut self, bytes: Vec<u8>, due: Option<Instant>, mark: Mark) {
        self.queue.push_back(Chunk { bytes, due, mark });
    }

    /// `events` right away, the last with the chunk terminator and `last_mark`.
    fn push_all(&mut self, events: &[Vec<u8>], last_mark: Mark) {
        for (k, event) in events.iter().enumerate() {
            let last = k + 1 == events.len();
            self.push(http::chunk(event, last), None, if last { last_mark } else { Mark::Plain });
        }
    }
}

/// Where a mid-stream fault strikes: before this token index (`no-end`: instead of the end).
fn fault_point(fault: Fault, tokens: u64) -> Option<u64> {
    match fault {
        Fault::Cut | Fault::Malformed | Fault::Stall | Fault::BadUtf8 | Fault::HugeLine => Some(tokens / 2),
        Fault::StreamError => Some(tokens.min(STREAM_ERROR_AFTER)),
        Fault::NoEnd => Some(tokens),
        _ => None,
    }
}

/// `bytes` with the first `mark` replaced by `with`.
fn replace(bytes: &[u8], mark: &[u8], with: &[u8]) -> Vec<u8> {
    match bytes.windows(mark.len()).position(|w| w == mark) {
        Some(at) => [&bytes[..at], with, &bytes[at + mark.len()..]].concat(),
        None => bytes.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::shapes::{self, Route};
    use std::time::Duration;

    /// The marks and due-ness of every write of a `tokens`-token OpenAI stream, and its end.
    fn run(tokens: u64, fault: Option<Fault>) -> (Vec<(Mark, bool)>, Next) {
        let config = MockConfig {
            ttft: Duration::from_millis(5),
            itl: Duration::from_millis(1),
            ..MockConfig::default()
        };
        let (shape, _) = shapes::read(Route::OpenAi, &serde_json::json!({"stream": true}), 1);
        let plan = Plan { tokens, prompt_tokens: 1, cached_tokens: 0, finish_reason: "stop" };
        let mut s = Stream::new(shape, plan, fault, &config, 1, Instant::now(), false);
        let mut writes = Vec::new();
        loop {
            match s.next_step() {
                Step::Chunk(w) => writes.push((w.mark, w.due.is_some())),
                Step::End(next) => return (writes, next),
            }
        }
    }

    const TEXT: (Mark, bool) = (Mark::Text, true);
    const NOW: (Mark, bool) = (Mark::Plain, false);
    const DONE: (Mark, bool) = (Mark::Completed, false);

    #[test]
    fn tokens_are_timed_and_closing_events_follow_at_once() {
        assert_eq!(run(3, None), (vec![TEXT, TEXT, TEXT, NOW, DONE], Next::KeepAlive));
        assert_eq!(run(0, None), (vec![NOW, DONE], Next::KeepAlive));
    }

    #[test]
    fn mid_stream_faults_strike_where_and_how_they_should() {
        assert_eq!(run(4, Some(Fault::Cut)), (vec![TEXT, TEXT, NOW], Next::Close));
        let malformed = vec![TEXT, TEXT, NOW, TEXT, TEXT, NOW, DONE];
        assert_eq!(run(4, Some(Fault::Malformed)), (malformed.clone(), Next::KeepAlive));
        let error = vec![TEXT, TEXT, TEXT, NOW, NOW];
        assert_eq!(run(6, Some(Fault::StreamError)), (error, Next::KeepAlive));
        for extra in [Fault::BadUtf8, Fault::HugeLine] {
            assert_eq!(run(4, Some(extra)), (malformed.clone(), Next::KeepAlive), "{extra}");
        }
        assert_eq!(run(2, Some(Fault::Stall)), (vec![TEXT, TEXT, NOW, DONE], Next::KeepAlive));
        assert_eq!(run(3, Some(Fault::NoEnd)), (vec![TEXT, TEXT, TEXT, NOW], Next::KeepAlive));
        let pings = (vec![(Mark::Plain, true), (Mark::Plain, true), NOW], Next::KeepAlive);
        assert_eq!(run(2, Some(Fault::PingsOnly)), pings);
    }

    #[test]
    fn a_stall_delays_the_token_it_strikes_by_the_fault_delay() {
        let config = MockConfig { fault_delay: Duration::from_secs(7), ..MockConfig::default() };
        let (shape, _) = shapes::read(Route::Dify, &serde_json::json!({}), 1);
        let plan = Plan { tokens: 2, prompt_tokens: 1, cached_tokens: 0, finish_reason: "stop" };
        let start = Instant::now();
        let mut s = Stream::new(shape, plan, Some(Fault::Stall), &config, 1, start, false);
        let dues: Vec<Duration> = std::iter::from_fn(|| match s.next_step() {
            Step::Chunk(w) => Some(w.due.map(|d| d - start)),
            Step::End(_) => None,
        })
        .flatten()
        .collect();
        assert!(dues[0] < Duration::from_secs(1) && dues[1] >= Duration::from_secs(7), "{dues:?}");
    }

    #[test]
    fn bad_utf8_replaces_the_mark_with_invalid_bytes() {
        assert_eq!(replace(b"a-MARK-b", b"MARK", b"\xFF"), b"a-\xFF-b");
        assert_eq!(replace(b"none", b"MARK", b"\xFF"), b"none");
    }
}
