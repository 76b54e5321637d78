//! One request from start to end: the attempts `--retries` allows (waiting on the stop signal,
//! so a deadline or Ctrl-C cuts a backoff short), and one attempt's request, headers and status,
//! with when its last byte went out and when its head arrived (the transport's clocks). An
//! attempt whose pooled connection turns out closed before any byte of a response (the server
//! closed it while it sat idle, and its close crossed the request) is sent again at once on a
//! fresh connection: a reconnect, counted, not a failure and not a retry. When to retry is
//! `retry`'s; reading the stream is `read_loop`'s.

use super::failure::{failure, http_error, one_line, read_snippet};
use super::{CancelAt, Client, MAX_REQUEST_ID, Request, retry, transport};
use crate::measure::{ErrorKind, Measurement, Outcome, arrival};
use crate::protocol::RequestSpec;
use crate::sse;
use crate::stop::StopSignal;
use crate::util::rng::SplitMix64;
use crate::workload::mask_secrets;
use std::time::{Duration, Instant, SystemTime};

/// From this many workers on, each gives back the stack pages its request's send touched as
/// the answer starts to stream (`pages::release_stack_below`): 12 KiB a stream, 120 MB at
/// 10,000 streams. Below it the memory is small and the cost is not: the `madvise` and the
/// faults of the next send took 30 µs a request (one-token answers at 32 streams: 49–58 → 84–87 µs).
const RELEASE_STACK_WORKERS: usize = 1000;

impl Client {
    /// Sends one request, retrying as `--retries` allows, and streams its response to the end,
    /// the stop signal, or a failure. Latencies count from the first attempt's start.
    pub fn execute(&self, job: &Request, stop: &StopSignal) -> Box<Measurement> {
        self.execute_observed(job, stop, &mut |_, _| {})
    }

    /// `execute`, with `observe` called on every SSE event as it is parsed, with its arrival
    /// since the request's start (the clock the measurement uses): `llmload probe`'s view.
    pub fn execute_observed<F: FnMut(&sse::Event, Duration)>(
        &self,
        job: &Request,
        stop: &StopSignal,
        observe: &mut F,
    ) -> Box<Measurement> {
        let t0 = Instant::now();
        let mut jitter = SplitMix64::new(job.worker as u64 ^ (job.prompt_index as u64) << 32 ^ nanos());
        let (mut attempts, mut started, mut reconnects) = (1, t0, 0);
        loop {
            let (mut m, retry_after) = self.attempt(job, stop, t0, started, observe);
            m.attempts = attempts;
            reconnects += m.reconnects;
            m.reconnects = reconnects;
            self.mask(job, &mut m);
            if attempts > self.settings.retries || !retry::retryable(&m.outcome) {
                return m;
            }
            let wait = retry::delay(attempts, retry_after, jitter.unit());
            // A retry that could not start before --timeout would only end as a timeout.
            if t0.elapsed() + wait >= self.settings.timeouts.total || stop.wait(wait) {
                return m;
            }
            (attempts, started) = (attempts + 1, Instant::now());
        }
    }

    /// Masks what this request sent that a server may have echoed into a message.
    fn mask(&self, job: &Request, m: &mut Measurement) {
        let secrets =
            || job.key.map(|k| k.1).into_iter().chain(self.secret_headers.iter().map(String::as_str));
        if let Outcome::Failed { message, .. } = &mut m.outcome {
            mask_secrets(message, secrets());
        }
        for w in &mut m.warnings {
            mask_secrets(w, secrets());
        }
    }

    /// One attempt, which started at `started`; also returns the server's `Retry-After`, if it
    /// sent one.
    fn attempt<F: FnMut(&sse::Event, Duration)>(
        &self,
        job: &Request,
        stop: &StopSignal,
        t0: Instant,
        started: Instant,
        observe: &mut F,
    ) -> (Box<Measurement>, Option<Duration>) {
        let spec = RequestSpec {
            prompt: job.prompt,
            model: self.settings.model.as_deref(),
            max_tokens: job
                .prompt
                .max_tokens
                .or_else(|| self.settings.output.map(|(o, seed)| o.draw_for(seed, job.index)))
                .or(self.settings.max_tokens),
            user: job.user,
            inputs: &self.settings.inputs,
            conversation_id: job.conversation_id,
            ignore_eos: self.settings.ignore_eos,
            extra: self
                .settings
                .prompt_extra
                .get(job.prompt_index)
                .and_then(Option::as_ref)
                .or(self.settings.extra.as_ref()),
        };
        let body = self.settings.protocol.body(&spec);
        // `--cancel`: this request is abandoned after a delay from its send, or a text count.
        let abandon = self.settings.cancel.filter(|c| c.chosen(job.index)).map(|c| c.at);
        transport::abandon_at(match abandon {
            Some(CancelAt::After(d)) => started.checked_add(d),
            _ => None,
        });
        let abandon_tokens = match abandon {
            Some(CancelAt::Tokens(n)) => Some(n),
            _ => None,
        };
        // The answer's text is kept for a session's next turn, or for its check (`expect`).
        let keep_answer =
            self.settings.keep_answers || self.settings.expect.is_some() || job.prompt.expect.is_some();
        let sent = Sent { t0, started, abandon_tokens, keep_answer };
        let (m, retry_after) = self.attempt_sent(job, stop, sent, &spec, &body, observe);
        transport::abandon_at(None);
        (m, retry_after)
    }

    /// The attempt once its body is built: the send, the head and the stream.
    fn attempt_sent<F: FnMut(&sse::Event, Duration)>(
        &self,
        job: &Request,
        stop: &StopSignal,
        sent: Sent,
        spec: &RequestSpec,
        body: &[u8],
        observe: &mut F,
    ) -> (Box<Measurement>, Option<Duration>) {
        let Sent { t0, started, abandon_tokens, keep_answer } = sent;
        // On the heap from the start: returned by value up four calls, it took room in each
        // frame, and the worker's stack, resident while the answer streams, was a page deeper
        // (20 against 16 KiB a stream at 10,000 streams).
        let mut m = Box::new(Measurement::new(job.worker, job.prompt_index, job.key.map(|k| k.0), t0));
        m.max_tokens = spec.max_tokens;
        m.make_room(spec.max_tokens);
        m.turn = job.turn;
        m.prompt_counted = job.prompt.counted_tokens;
        transport::forget();
        let mut response = self.request(job).send(body);
        if response.as_ref().is_err_and(closed_unanswered) && !stop.is_cut() && !transport::abandon_due() {
            // Nothing of this request reached the server's application: a fresh connection
            // carries it, from the same start (what the stale one cost shows in the latencies).
            m.reconnects += 1;
            transport::forget();
            response = self.request(job).send(body);
        }
        let now = Instant::now();
        m.end_at = now;
        m.send_lag = transport::written().map(|w| w.saturating_duration_since(started));
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                m.outcome = if stop.is_cut() {
                    Outcome::Cancelled
                } else if transport::abandon_due() {
                    Outcome::Abandoned
                } else {
                    failure(&e, &self.settings.timeouts, false)
                };
                return (m, None);
            }
        };
        let kernel = transport::arrived();
        m.headers_at = Some(arrival(now, kernel));
        m.timed_read(now, kernel);
        let status = response.status().as_u16();
        m.status = Some(status);
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        m.request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(MAX_REQUEST_ID).collect());
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
        let reader = response.into_body().into_reader();
        if !(200..300).contains(&status) {
            m.outcome =
                Outcome::Failed { kind: ErrorKind::Http(status), message: http_error(status, reader) };
            m.end_at = Instant::now();
            return (m, retry_after);
        }
        if !content_type.contains("text/event-stream") {
            let body = read_snippet(reader);
            m.outcome = Outcome::Failed {
                kind: ErrorKind::NotSse,
                message: format!(
                    "expected an event stream but got {:?}: {} (is --api right for this server?)",
                    content_type,
                    one_line(&body)
                ),
            };
            m.end_at = Instant::now();
            return (m, None);
        }
        if self.settings.workers >= RELEASE_STACK_WORKERS {
            // Sending went deeper than streaming will: those stack pages go back before the wait.
            crate::util::sys::pages::release_stack_below();
        }
        self.stream(reader, &mut m, stop, (abandon_tokens, keep_answer), observe);
        (m, None)
    }

    /// The request `job` as the worker's agent will send it, without its body.
    fn request(&self, job: &Request) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        let mut req = self
            .agent(job.worker)
            .post(&self.settings.url)
            .header("Content-Type", "application/json")
            .header("Accept", "text/event-stream");
        for (k, v) in self.settings.protocol.headers(job.key.map(|k| k.1)) {
            req = req.header(k, v);
        }
        for (k, v) in &self.settings.headers {
            req = req.header(k, v);
        }
        req
    }
}

/// When an attempt's request started, and after how many text events it is abandoned.
#[derive(Clone, Copy)]
struct Sent {
    t0: Instant,
    started: Instant,
    abandon_tokens: Option<u32>,
    /// Keep the answer's text in the measurement (`Measurement::answer`).
    keep_answer: bool,
}

/// Whether a send that failed with `e` went out on a pooled connection that the server had
/// already closed: the connection came from the pool, not a byte of a response came back, and
/// it ended in a close (EOF, which ureq reports as "Peer disconnected") or a reset, or a write
/// found it broken. Each worker's agent pools at most one idle connection and this one has
/// left the pool, so the next send opens a fresh connection.
fn closed_unanswered(e: &ureq::Error) -> bool {
    use std::io::ErrorKind as K;
    let closed = matches!(
        e,
        ureq::Error::Io(io) if matches!(
            io.kind(),
            K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe
        )
    );
    closed && transport::pooled_without_reply()
}

/// Seeds jitter differently per process and request.
fn nanos() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() as u64)
}
