//! The streaming read loop: each read is timed (its bytes' arrival is the kernel's receive stamp
//! where the transport has one, else the read time), its bytes fed to the SSE parser and each
//! event to the protocol, until the body ends, fails, the whole-request limit passes or the run
//! stops; then the request's outcome (which asks whether `--api` is right when the protocol
//! recognised none of the events).

use super::failure::{io_failure, timed_out};
use super::{Client, MAX_WARNINGS, transport};
use crate::measure::{ErrorKind, Measurement, Outcome, TimeoutPhase, TokenSource, arrival};
use crate::protocol::{self, Protocol};
use crate::sse;
use crate::stop::StopSignal;
use crate::tokens::Estimator;
use std::io::Read;
use std::time::{Duration, Instant};

/// Bytes taken from ureq's buffer per read.
const READ_CHUNK: usize = 1024;

impl Client {
    /// Reads a recorded response body (a capture of a 2xx event stream) through the same read
    /// loop as a live response, so its outcome is the one a load test would give it; there is
    /// no network, so every offset `observe` sees is the time the file took to read.
    pub fn read_recorded<F: FnMut(&sse::Event, Duration)>(
        &self,
        body: impl Read,
        observe: &mut F,
    ) -> Measurement {
        let mut m = Measurement::new(0, 0, None, Instant::now());
        m.status = Some(200);
        transport::forget();
        self.stream(body, &mut m, &StopSignal::default(), (None, self.settings.keep_answers), observe);
        m
    }

    /// Reads the event stream, timing each read, until the body ends, fails, or the run stops.
    /// `observe` sees every dispatched event with its arrival since the request's start (those
    /// after the terminal event too); a load test passes a closure that does nothing, which
    /// compiles away. With `abandon_after`, the request is abandoned (`--cancel`) once that many
    /// text events have come: no event after the last of them counts, and the reader is dropped
    /// unfinished, which closes its connection (ureq pools only a connection whose body ended).
    /// With `keep_answer`, the answer's text ends in `Measurement::answer`.
    pub(super) fn stream<F: FnMut(&sse::Event, Duration)>(
        &self,
        mut reader: impl Read,
        m: &mut Measurement,
        stop: &StopSignal,
        (abandon_after, keep_answer): (Option<u32>, bool),
        observe: &mut F,
    ) {
        let mut parser = sse::Parser::new(self.limits);
        // A real tokenizer counts the whole text at the end; the estimate counts as text arrives.
        let mut s = StreamState {
            text: (!self.settings.tokenizer.is_estimate()).then(String::new),
            answer: keep_answer.then(String::new),
            abandon_after: abandon_after.map(|n| n as usize),
            ..Default::default()
        };
        // ureq reads the socket into its own buffer; this one only takes what ureq has. An
        // event is a few hundred bytes, and a bigger buffer is memory every stream touches
        // (10,000 streams: each KiB here is 10 MB).
        let mut buf = vec![0u8; READ_CHUNK];
        // Once the run cuts in-flight requests (the deadline, or the end of an interrupt's grace
        // period), nothing more is read into the measurement: the request is cancelled even if
        // the socket still holds its end. The client's cut then shuts every socket's read side,
        // which wakes a blocked read at once.
        let read_error = loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break None,
                Ok(n) => n,
                Err(e) => break Some(e),
            };
            if stop.is_cut() {
                break None;
            }
            let read_at = Instant::now();
            let kernel = transport::arrived();
            let at = arrival(read_at, kernel);
            let events = m.events;
            let fed = parser.feed(&buf[..n], &mut |ev| {
                observe(ev, at.saturating_duration_since(m.t0));
                s.on_event(self.settings.protocol.as_ref(), ev, at, m)
            });
            // Only a read that completed an event times something.
            if m.events > events {
                m.timed_read(read_at, kernel);
            }
            if let Err(e) = fed {
                s.malformed.get_or_insert(e.to_string());
                break None;
            }
            if s.abandoned {
                break None;
            }
            if !s.done && read_at.duration_since(m.t0) > self.settings.timeouts.total {
                s.timed_out = true;
                break None;
            }
        };
        let cut_mid_event = parser.finish();
        // A delay's abandon (`--cancel`) ends the read with an error once its instant passed.
        s.abandoned |= read_error.is_some() && transport::abandon_due();
        if !s.done {
            m.end_at = Instant::now();
            // Without a terminal event, a clean close after a whole event is the normal end.
            let clean =
                read_error.is_none() && !s.timed_out && !s.abandoned && !cut_mid_event && !stop.is_cut();
            s.done = clean && self.settings.protocol.ends_at_close();
        }
        if parser.saw_invalid_utf8() {
            m.warnings.push("stream contained invalid UTF-8 (replaced with U+FFFD)".into());
        }
        if s.dropped_warnings > 0 {
            m.warnings.push(format!("{} more malformed events", s.dropped_warnings));
        }
        m.answer = s.answer.take();
        match &s.text {
            None => m.counted_tokens = s.estimator.tokens(),
            Some(text) => {
                m.counted_tokens = self.settings.tokenizer.count(text);
                m.counter = TokenSource::Tokenizer;
            }
        }
        let protocol = self.settings.protocol.as_ref();
        m.outcome = if let Some(msg) = s.malformed {
            Outcome::Failed { kind: ErrorKind::Malformed, message: msg }
        } else if let Some(msg) = s.error {
            Outcome::Failed { kind: ErrorKind::StreamError, message: msg }
        } else if s.done {
            if m.text_at.is_empty() {
                let message =
                    format!("the stream ended normally but carried no text{}", s.foreign(protocol, m));
                Outcome::Failed { kind: ErrorKind::NoText, message }
            } else {
                Outcome::Ok
            }
        } else if stop.is_cut() {
            Outcome::Cancelled
        } else if s.abandoned {
            Outcome::Abandoned
        } else if s.timed_out {
            timed_out(TimeoutPhase::Total, &self.settings.timeouts)
        } else if let Some(e) = read_error.filter(|e| e.kind() != std::io::ErrorKind::UnexpectedEof) {
            io_failure(&e, &self.settings.timeouts)
        } else {
            let how = if cut_mid_event { "in the middle of an event" } else { "between events" };
            Outcome::Failed {
                kind: ErrorKind::Truncated,
                message: format!(
                    "the stream closed {how} before its terminal event{}",
                    s.foreign(protocol, m)
                ),
            }
        };
    }
}

/// Per-request parsing state beside the `Measurement`.
#[derive(Default)]
struct StreamState {
    estimator: Estimator,
    done: bool,
    error: Option<String>,
    malformed: Option<String>,
    dropped_warnings: usize,
    /// The whole-request limit passed mid-stream.
    timed_out: bool,
    /// `--cancel` by count: abandon once this many text events came.
    abandon_after: Option<usize>,
    /// The client left the stream on purpose (`--cancel`).
    abandoned: bool,
    /// The text so far, kept only when a real tokenizer will count it.
    text: Option<String>,
    /// The answer so far (no reasoning), kept only for sessions (`ClientSettings::keep_answers`)
    /// and answer checks (`expect`).
    answer: Option<String>,
    /// Whether the protocol recognised any event as its own.
    recognised: bool,
    /// The first event, described, while none has been recognised.
    first: Option<String>,
}

impl StreamState {
    /// For a stream with events but none the protocol knew, what it got and the likely fix.
    fn foreign(&self, protocol: &dyn Protocol, m: &Measurement) -> String {
        match &self.first {
            Some(first) if !self.recognised => format!(
                ": {} event{}, none recognised as {} (first: `{first}`): is --api right?",
                m.events,
                if m.events == 1 { "" } else { "s" },
                protocol.api()
            ),
            _ => String::new(),
        }
    }

    fn on_event(&mut self, protocol: &dyn Protocol, ev: &sse::Event, now: Instant, m: &mut Measurement) {
        if self.abandoned {
            return;
        }
        m.first_event_at.get_or_insert(now);
        if self.done {
            return;
        }
        m.events += 1;
        let d = protocol.interpret(ev);
        if !self.recognised && d.as_ref().is_ok_and(|d| d.recognised) {
            (self.recognised, self.first) = (true, None);
        } else if !self.recognised && self.first.is_none() {
            self.first = Some(protocol::describe(ev));
        }
        let d = match d {
            Ok(d) => d,
            Err(msg) => {
                if m.warnings.len() < MAX_WARNINGS {
                    m.warnings.push(format!("malformed event: {msg}"));
                } else {
                    self.dropped_warnings += 1;
                }
                return;
            }
        };
        if !d.answer.is_empty() || !d.reasoning.is_empty() {
            m.text_at.push(now);
            self.abandoned = self.abandon_after.is_some_and(|n| m.text_at.len() >= n);
            match &mut self.text {
                Some(text) => {
                    text.push_str(&d.reasoning);
                    text.push_str(&d.answer);
                }
                None => {
                    self.estimator.feed(&d.reasoning);
                    self.estimator.feed(&d.answer);
                }
            }
        }
        if !d.answer.is_empty() {
            m.first_answer_at.get_or_insert(now);
            if let Some(answer) = &mut self.answer {
                answer.push_str(&d.answer);
            }
        }
        if d.output_tokens.is_some() {
            m.usage_output_tokens = d.output_tokens;
        }
        if d.input_tokens.is_some() {
            m.usage_input_tokens = d.input_tokens;
        }
        if d.reasoning_tokens.is_some() {
            m.reasoning_tokens = d.reasoning_tokens;
        }
        if d.cached_tokens.is_some() {
            m.usage_cached_tokens = d.cached_tokens;
        }
        if d.server_latency_s.is_some() {
            m.server_latency_s = d.server_latency_s;
        }
        if d.server_ttft_s.is_some() {
            m.server_ttft_s = d.server_ttft_s;
        }
        if let (None, Some(id)) = (&m.conversation_id, d.conversation_id) {
            m.conversation_id = Some(id.into_owned());
        }
        if let Some(e) = d.error {
            self.error.get_or_insert(e);
        }
        m.model_stopped |= d.model_stopped;
        if d.done {
            self.done = true;
            m.end_at = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientSettings, Timeouts, Tls};
    use crate::protocol::OpenAi;
    use std::sync::Arc;
    use std::time::Duration;

    const STREAM: &[u8] = b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n";

    /// A body that holds the whole stream, its end included (a client that fell behind), and
    /// does `at_read` to the stop signal when it is first read.
    struct Behind<'a> {
        stop: &'a StopSignal,
        at_read: fn(&StopSignal),
        body: &'a [u8],
    }

    impl Read for Behind<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            (self.at_read)(self.stop);
            let n = self.body.len().min(buf.len());
            buf[..n].copy_from_slice(&self.body[..n]);
            self.body = &self.body[n..];
            Ok(n)
        }
    }

    fn outcome(at_read: fn(&StopSignal)) -> Outcome {
        let t = Duration::from_secs(60);
        let settings = ClientSettings {
            protocol: Arc::new(OpenAi::Chat),
            url: "http://127.0.0.1:1/v1/chat/completions".into(),
            headers: vec![],
            model: None,
            max_tokens: None,
            output: None,
            inputs: Default::default(),
            ignore_eos: false,
            extra: None,
            prompt_extra: Default::default(),
            tokenizer: Arc::new(crate::tokens::Tokenizer::Estimate),
            timeouts: Timeouts { total: t, connect: t, ttfb: t, idle: t },
            retries: 0,
            tls: Tls::WebPki,
            workers: 1,
            keep_answers: false,
            expect: None,
            cancel: None,
        };
        let client = Client::new(settings);
        let (stop, mut m) = (StopSignal::default(), Measurement::new(0, 0, None, Instant::now()));
        client.stream(
            Behind { stop: &stop, at_read, body: STREAM },
            &mut m,
            &stop,
            (None, false),
            &mut |_, _| {},
        );
        m.outcome
    }

    #[test]
    fn an_end_read_after_the_cut_is_cancelled_and_one_read_in_a_grace_period_is_ok() {
        assert_eq!(outcome(|_| {}), Outcome::Ok);
        assert_eq!(outcome(StopSignal::cut), Outcome::Cancelled);
        assert_eq!(outcome(StopSignal::trip), Outcome::Ok, "a trip stops new requests only");
    }
}
