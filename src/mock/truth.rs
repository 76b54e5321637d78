//! The ground truth of what the mock sent: counters and histograms of when text and terminal
//! events left the socket, for comparing a client's measured TTFT/ITL against reality.
//!
//! A response records into its own `Recorder` (no lock per event) and is merged once, when it
//! ends, into the server's `Mutex<Truth>`. This module does not decide what to send or time it.

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::time::{Duration, Instant};

use super::metrics::Latencies;
use crate::stats::Histogram;

/// What the mock actually sent. Times are taken right after each event's write returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Truth {
    /// API requests received (not `/mock/stats` or `/health`).
    pub requests: u64,
    /// Responses that reached their normal terminal event (or whole non-streaming body).
    pub completed: u64,
    /// Text-bearing events written.
    pub text_events: u64,
    /// Fault kind name → times injected.
    pub faults: BTreeMap<String, u64>,
    /// Connections accepted.
    pub connections: u64,
    /// Requests the mock closed their connection on without answering
    /// (`--close-after-response`); not in `requests`.
    pub unanswered: u64,
    /// Each API request's prompt, in the mock's own token count (docs/mock.md), with their sum.
    pub prompt_tokens: Histogram,
    pub prompt_tokens_total: u64,
    /// Answers that ended on their own (`stop`, `end_turn`) below the request's `max_tokens`, as
    /// planned (`--eos-share`, or a cap above `--tokens` without `ignore_eos`).
    pub ended_early: u64,
    /// Of the prompt tokens, those of prompt starts the mock had read before (reported as cached).
    pub cached_tokens: u64,
    /// Streams whose client left before their end (a write found the connection gone).
    pub abandoned: u64,
    /// Text events generated after their client left (`--keep-decoding`: a server that does not
    /// notice, as SGLang issue 37833 describes); 0 for a server that stops.
    pub decoded_unread: u64,
    /// Tokens generated: every text event written, every one generated for nobody
    /// (`decoded_unread`), and a non-streaming answer's tokens once its generation time is over.
    pub generated_tokens: u64,
    /// Completed responses by the finish reason they were planned with (`stop`, `length`).
    pub finish_reasons: BTreeMap<String, u64>,
    /// Request fully read → first text event written, µs.
    pub ttft_us: Histogram,
    /// Every gap between consecutive text events of a response, µs.
    pub itl_us: Histogram,
    /// Request fully read → terminal event written, µs.
    pub e2e_us: Histogram,
    /// The same latencies, with queue and prefill time, in vLLM's buckets for `/metrics`.
    pub(super) latency_buckets: Latencies,
}

impl Truth {
    /// `{"requests","completed","text_events","faults":{..},"connections","unanswered",
    /// "prompt_tokens","prompt_tokens_total","cached_tokens","ended_early","abandoned","decoded_unread",
    /// "generated_tokens","finish_reasons":{..},"ttft_ms","itl_ms","e2e_ms"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let ms = |h: &Histogram| h.distribution(0.001);
        serde_json::json!({
            "requests": self.requests,
            "completed": self.completed,
            "text_events": self.text_events,
            "faults": self.faults,
            "connections": self.connections,
            "unanswered": self.unanswered,
            "prompt_tokens": self.prompt_tokens.distribution(1.0),
            "prompt_tokens_total": self.prompt_tokens_total,
            "cached_tokens": self.cached_tokens,
            "ended_early": self.ended_early,
            "abandoned": self.abandoned,
            "decoded_unread": self.decoded_unread,
            "generated_tokens": self.generated_tokens,
            "finish_reasons": self.finish_reasons,
            "ttft_ms": ms(&self.ttft_us),
            "itl_ms": ms(&self.itl_us),
            "e2e_ms": ms(&self.e2e_us),
        })
    }
}

impl AddAssign<&Truth> for Truth {
    fn add_assign(&mut self, other: &Truth) {
        self.requests += other.requests;
        self.completed += other.completed;
        self.text_events += other.text_events;
        for (kind, n) in &other.faults {
            *self.faults.entry(kind.clone()).or_default() += n;
        }
        self.connections += other.connections;
        self.unanswered += other.unanswered;
        self.prompt_tokens += &other.prompt_tokens;
        self.prompt_tokens_total += other.prompt_tokens_total;
        self.ended_early += other.ended_early;
        self.cached_tokens += other.cached_tokens;
        self.abandoned += other.abandoned;
        self.decoded_unread += other.decoded_unread;
        self.generated_tokens += other.generated_tokens;
        for (reason, n) in &other.finish_reasons {
            *self.finish_reasons.entry(reason.clone()).or_default() += n;
        }
        self.latency_buckets += &other.latency_buckets;
        self.ttft_us += &other.ttft_us;
        self.itl_us += &other.itl_us;
        self.e2e_us += &other.e2e_us;
    }
}

/// One response's share of the truth, filled as its events are written. Its times stay raw
/// until the merge: a histogram per response would give each one a fresh, sparse bucket array
/// to fill, a cache miss per event on the pacer.
pub(super) struct Recorder {
    received: Instant,
    /// When it took its slot (`received` without `--slots`).
    admitted: Option<Instant>,
    /// The finish reason it was planned with, counted if it completes.
    finish: &'static str,
    first_text: Option<Instant>,
    last_text: Option<Instant>,
    /// Request read → first text event, µs.
    ttft_us: Option<u64>,
    /// Gaps between text events, µs.
    itl_us: Vec<u64>,
    /// Request read → terminal event, µs.
    e2e_us: Option<u64>,
    /// The counts, faults and prompt sizes; its timing histograms stay empty.
    counts: Truth,
}

impl Recorder {
    /// Starts the record of one API request, fully read at `received`.
    pub(super) fn new(received: Instant) -> Self {
        Recorder {
            received,
            admitted: None,
            finish: "stop",
            first_text: None,
            last_text: None,
            ttft_us: None,
            itl_us: Vec::new(),
            e2e_us: None,
            counts: Truth { requests: 1, ..Truth::default() },
        }
    }

    /// A text event finished writing at `at`.
    pub(super) fn text(&mut self, at: Instant) {
        match self.last_text {
            None => {
                self.ttft_us = Some(micros(at - self.received));
                self.first_text = Some(at);
            }
            Some(prev) => self.itl_us.push(micros(at - prev)),
        }
        self.last_text = Some(at);
        self.counts.text_events += 1;
        self.counts.generated_tokens += 1;
    }

    /// The request took its slot at `at` (at once without `--slots`): its queue time ends.
    pub(super) fn admitted(&mut self, at: Instant) {
        self.admitted = Some(at);
    }

    /// A non-streaming answer of `tokens` tokens has been generated (its schedule is over).
    pub(super) fn generated(&mut self, tokens: u64) {
        self.counts.generated_tokens += tokens;
    }

    /// The normal terminal event (or whole body) finished writing at `at`.
    pub(super) fn completed(&mut self, at: Instant) {
        self.e2e_us = Some(micros(at - self.received));
        self.counts.completed += 1;
        *self.counts.finish_reasons.entry(self.finish.to_string()).or_default() += 1;
    }

    /// The request's prompt tokens, the first `cached` of them read before, whether its answer
    /// is planned to end early, and the finish reason planned (`stop`, `length`).
    pub(super) fn asked(&mut self, prompt_tokens: u64, cached: u64, ended_early: bool, finish: &'static str) {
        self.finish = finish;
        self.counts.prompt_tokens.record(prompt_tokens);
        self.counts.prompt_tokens_total += prompt_tokens;
        self.counts.cached_tokens += cached;
        self.counts.ended_early += u64::from(ended_early);
    }

    /// The client left before the stream's end.
    pub(super) fn left(&mut self) {
        self.counts.abandoned += 1;
    }

    /// A text event generated for a client that had left.
    pub(super) fn unread(&mut self) {
        self.counts.decoded_unread += 1;
        self.counts.generated_tokens += 1;
    }

    pub(super) fn fault(&mut self, kind: String) {
        *self.counts.faults.entry(kind).or_default() += 1;
    }

    /// Adds this response to `truth`.
    pub(super) fn merge_into(self, truth: &mut Truth) {
        *truth += &self.counts;
        let b = &mut truth.latency_buckets;
        self.ttft_us.iter().for_each(|&v| b.ttft.record(v));
        self.itl_us.iter().for_each(|&v| b.itl.record(v));
        self.e2e_us.iter().for_each(|&v| b.e2e.record(v));
        if let Some(admitted) = self.admitted {
            b.queue.record(micros(admitted.saturating_duration_since(self.received)));
            if let Some(first) = self.first_text {
                b.prefill.record(micros(first.saturating_duration_since(admitted)));
            }
        }
        for (hist, values) in [
            (&mut truth.ttft_us, self.ttft_us.as_slice()),
            (&mut truth.itl_us, &self.itl_us),
            (&mut truth.e2e_us, self.e2e_us.as_slice()),
        ] {
            values.iter().for_each(|&v| hist.record(v));
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_counts_ttft_once_and_every_gap() {
        let t0 = Instant::now();
        let mut rec = Recorder::new(t0);
        for k in 1..=4 {
            rec.text(t0 + Duration::from_millis(10 * k));
        }
        rec.completed(t0 + Duration::from_millis(45));
        rec.fault("cut".into());
        let mut t = Truth::default();
        rec.merge_into(&mut t);
        assert_eq!((t.requests, t.completed, t.text_events), (1, 1, 4));
        assert_eq!((t.ttft_us.count(), t.itl_us.count()), (1, 3));
        assert_eq!(t.ttft_us.quantile(0.5), Some(10_000));
        assert_eq!(t.e2e_us.quantile(0.5), Some(45_000));
        assert_eq!(t.faults["cut"], 1);
    }

    #[test]
    fn merge_adds_everything_and_json_has_the_documented_keys() {
        let t0 = Instant::now();
        let mut total = Truth::default();
        for _ in 0..3 {
            let mut rec = Recorder::new(t0);
            rec.text(t0 + Duration::from_millis(2));
            rec.fault("close".into());
            rec.merge_into(&mut total);
        }
        assert_eq!((total.requests, total.text_events, total.faults["close"]), (3, 3, 3));
        let j = total.to_json();
        assert_eq!(j["requests"], 3);
        assert_eq!(j["faults"]["close"], 3);
        assert_eq!(j["ttft_ms"]["count"], 3);
        assert_eq!(j["ttft_ms"]["p50"], 2.0);
        assert!(j["itl_ms"].is_null() && j["e2e_ms"].is_null());
        assert_eq!(j["completed"], 0);
    }
}
