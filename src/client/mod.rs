//! Sends one request and measures it: the ureq agent's setup (timeouts, TLS, proxies), the
//! attempts `--retries` allows, the streaming read loop that feeds bytes to the SSE parser and
//! events to the protocol, and the mapping of every failure to an `Outcome`, with any key a server
//! echoed masked. It never prints and never panics on what a server sends. When to retry is
//! `retry`'s; how to verify servers is `tls`'s.

pub mod anthropic;
pub mod custom;
pub mod dify;
#[cfg(test)]
mod fuzz;
pub mod openai;
pub mod protocol;
pub mod retry;
pub mod tls;

pub use protocol::{Api, Delta, Protocol, RequestSpec};

use crate::config::{Config, Timeouts};
use crate::engine::StopSignal;
use crate::measure::TokenSource;
use crate::measure::{ErrorKind, Measurement, Outcome, TimeoutPhase};
use crate::rng::SplitMix64;
use crate::sse;
use crate::tokens::{Estimator, Tokenizer};
use crate::workload::{Prompt, mask_secrets};
use serde_json::{Map, Value};
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// At most this much of an error response body is read for its message.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// Longer `x-request-id` values are cut: a record stays small whatever a server sends.
const MAX_REQUEST_ID: usize = 128;
/// Warnings kept per request; more are counted, not stored (bounded memory).
const MAX_WARNINGS: usize = 8;

/// The agent every worker shares: pooled keep-alive connections for every worker, statuses as
/// data (not errors), TLS as configured, proxies from the environment (ureq reads `ALL_PROXY`,
/// `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`), and timeouts so that no request can hang a run.
///
/// The whole-request limit (`--timeout`) is checked by `Client::stream` between reads rather
/// than given to ureq as a global timeout: a shrinking timeout costs a `setsockopt` on every
/// read, while the fixed per-read one (`--idle-timeout`) is set once per connection. ureq's
/// per-read limit also covers the wait for headers, so that wait is bounded by the shorter of
/// `--ttfb-timeout` and `--idle-timeout`.
pub fn agent(config: &Config) -> ureq::Agent {
    let pool = config.pacing.concurrency + 8;
    let t = &config.timeouts;
    let (header_limit, read_limit) = (t.ttfb.min(t.total), t.idle.min(t.total));
    let agent_config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls::config(&config.tls))
        .timeout_connect(Some(t.connect.min(t.total)))
        // Only when tighter than the per-read limit: as a phase budget it shrinks, and each
        // request would cost two `setsockopt`s (measured with strace) instead of none.
        .timeout_recv_response((header_limit < read_limit).then_some(header_limit))
        .timeout_per_read(Some(read_limit))
        // ureq's 128 KiB buffers a connection would cost 2.5 GiB at 10,000 workers; SSE events
        // are small, and headers up to ureq's 64 KiB limit still fit.
        .input_buffer_size(64 * 1024)
        .output_buffer_size(16 * 1024)
        .max_idle_connections(pool)
        .max_idle_connections_per_host(pool)
        .user_agent(concat!("llmload/", env!("CARGO_PKG_VERSION")))
        .build();
    tls::agent(agent_config, &config.tls)
}

/// What one worker asks the client to send.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    pub worker: usize,
    pub prompt_index: usize,
    pub prompt: &'a Prompt,
    pub key: Option<(usize, &'a str)>,
    pub user: &'a str,
    /// The Dify conversation this request continues (`--turns`).
    pub conversation_id: Option<&'a str>,
    /// 1-based position in the worker's conversation.
    pub turn: u32,
}

/// Sends requests for one run; shared by all workers.
pub struct Client {
    agent: ureq::Agent,
    protocol: Arc<dyn Protocol>,
    url: String,
    headers: Vec<(String, String)>,
    /// Header values that may be credentials, masked wherever a server echoes them.
    secret_headers: Vec<String>,
    model: Option<String>,
    max_tokens: Option<u32>,
    inputs: Map<String, Value>,
    ignore_eos: bool,
    timeouts: Timeouts,
    retries: u32,
    tokenizer: Arc<Tokenizer>,
    limits: sse::Limits,
}

impl Client {
    pub fn new(config: &Config, agent: ureq::Agent) -> Self {
        Self {
            agent,
            protocol: config.protocol.clone(),
            url: config.url.clone(),
            headers: config.headers.clone(),
            secret_headers: config
                .headers
                .iter()
                .filter(|(k, _)| crate::workload::is_secret_header(k))
                // `Bearer sk-…`: the token alone is what a server would echo.
                .flat_map(|(_, v)| [v.clone(), v.split_whitespace().last().unwrap_or("").to_string()])
                .collect(),
            model: config.model.clone(),
            max_tokens: config.max_tokens,
            inputs: config.inputs.clone(),
            ignore_eos: config.ignore_eos,
            timeouts: config.timeouts,
            retries: config.retries,
            tokenizer: config.tokenizer.clone(),
            limits: sse::Limits::default(),
        }
    }

    /// Sends one request, retrying as `--retries` allows, and streams its response to the end,
    /// the stop signal, or a failure. Latencies count from the first attempt's start.
    pub fn execute(&self, job: &Job, stop: &StopSignal) -> Measurement {
        let t0 = Instant::now();
        let mut jitter = SplitMix64::new(job.worker as u64 ^ (job.prompt_index as u64) << 32 ^ nanos());
        let mut attempts = 1;
        loop {
            let (mut m, retry_after) = self.attempt(job, stop, t0);
            m.attempts = attempts;
            self.mask(job, &mut m);
            if attempts > self.retries || !retry::retryable(&m.outcome) {
                return m;
            }
            let wait = retry::delay(attempts, retry_after, jitter.unit());
            // A retry that could not start before --timeout would only end as a timeout.
            if t0.elapsed() + wait >= self.timeouts.total || stop.wait(wait) {
                return m;
            }
            attempts += 1;
        }
    }

    /// Masks what this request sent that a server may have echoed into a message.
    fn mask(&self, job: &Job, m: &mut Measurement) {
        let secrets =
            || job.key.map(|k| k.1).into_iter().chain(self.secret_headers.iter().map(String::as_str));
        if let Outcome::Failed { message, .. } = &mut m.outcome {
            mask_secrets(message, secrets());
        }
        for w in &mut m.warnings {
            mask_secrets(w, secrets());
        }
    }

    /// One attempt; also returns the server's `Retry-After`, if it sent one.
    fn attempt(&self, job: &Job, stop: &StopSignal, t0: Instant) -> (Measurement, Option<Duration>) {
        let spec = RequestSpec {
            prompt: job.prompt,
            model: self.model.as_deref(),
            max_tokens: job.prompt.max_tokens.or(self.max_tokens),
            user: job.user,
            inputs: &self.inputs,
            conversation_id: job.conversation_id,
            ignore_eos: self.ignore_eos,
        };
        let body = self.protocol.body(&spec);
        let mut req = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Accept", "text/event-stream");
        for (k, v) in self.protocol.headers(job.key.map(|k| k.1)) {
            req = req.header(k, v);
        }
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let mut m = Measurement::new(job.worker, job.prompt_index, job.key.map(|k| k.0), t0);
        m.turn = job.turn;
        m.prompt_counted = job.prompt.counted_tokens;
        let response = req.send(&body[..]);
        let now = Instant::now();
        m.end_at = now;
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                m.outcome =
                    if stop.is_set() { Outcome::Cancelled } else { failure(&e, &self.timeouts, false) };
                return (m, None);
            }
        };
        m.headers_at = Some(now);
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
                    protocol::snippet(&body)
                ),
            };
            m.end_at = Instant::now();
            return (m, None);
        }
        self.stream(reader, &mut m, stop);
        (m, None)
    }

    /// Reads the event stream, timing each read, until the body ends, fails, or the run stops.
    fn stream(&self, mut reader: impl Read, m: &mut Measurement, stop: &StopSignal) {
        let mut parser = sse::Parser::new(self.limits);
        // A real tokenizer counts the whole text at the end; the estimate counts as text arrives.
        let mut s =
            StreamState { text: (!self.tokenizer.is_estimate()).then(String::new), ..Default::default() };
        let mut buf = vec![0u8; 8 * 1024];
        // The stop signal is not checked between reads: the timer shuts the agent down when
        // in-flight requests must end, which interrupts the read at once.
        let read_error = loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break None,
                Ok(n) => n,
                Err(e) => break Some(e),
            };
            let now = Instant::now();
            let fed = parser.feed(&buf[..n], &mut |ev| s.on_event(self.protocol.as_ref(), ev, now, m));
            if let Err(e) = fed {
                s.malformed.get_or_insert(e.to_string());
                break None;
            }
            if !s.done && now.duration_since(m.t0) > self.timeouts.total {
                s.timed_out = true;
                break None;
            }
        };
        let cut_mid_event = parser.finish();
        if !s.done {
            m.end_at = Instant::now();
            // Without a terminal event, a clean close after a whole event is the normal end.
            let clean = read_error.is_none() && !s.timed_out && !cut_mid_event && !stop.is_set();
            s.done = clean && self.protocol.ends_at_close();
        }
        if parser.saw_invalid_utf8() {
            m.warnings.push("stream contained invalid UTF-8 (replaced with U+FFFD)".into());
        }
        if s.dropped_warnings > 0 {
            m.warnings.push(format!("{} more malformed events", s.dropped_warnings));
        }
        match &s.text {
            None => m.counted_tokens = s.estimator.tokens(),
            Some(text) => {
                m.counted_tokens = self.tokenizer.count(text);
                m.counter = TokenSource::Tokenizer;
            }
        }
        m.outcome = if let Some(msg) = s.malformed {
            Outcome::Failed { kind: ErrorKind::Malformed, message: msg }
        } else if let Some(msg) = s.error {
            Outcome::Failed { kind: ErrorKind::StreamError, message: msg }
        } else if s.done {
            if m.text_at.is_empty() {
                let message = "the stream ended normally but carried no text".to_string();
                Outcome::Failed { kind: ErrorKind::NoText, message }
            } else {
                Outcome::Ok
            }
        } else if stop.is_set() {
            Outcome::Cancelled
        } else if s.timed_out {
            timed_out(TimeoutPhase::Total, &self.timeouts)
        } else if let Some(e) = read_error.filter(|e| e.kind() != std::io::ErrorKind::UnexpectedEof) {
            io_failure(&e, &self.timeouts)
        } else {
            let how = if cut_mid_event { "in the middle of an event" } else { "between events" };
            Outcome::Failed {
                kind: ErrorKind::Truncated,
                message: format!("the stream closed {how} before its terminal event"),
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
    /// The text so far, kept only when a real tokenizer will count it.
    text: Option<String>,
}

impl StreamState {
    fn on_event(&mut self, protocol: &dyn Protocol, ev: &sse::Event, now: Instant, m: &mut Measurement) {
        m.first_event_at.get_or_insert(now);
        if self.done {
            return;
        }
        m.events += 1;
        let d = match protocol.interpret(ev) {
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
        if d.done {
            self.done = true;
            m.end_at = now;
        }
    }
}

/// The message for a non-2xx response: the status, the server's own words, and what to check.
fn http_error(status: u16, reader: impl Read) -> String {
    let body = read_snippet(reader);
    let server_says = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            let m = v.get("message").or_else(|| v.pointer("/error/message"));
            m.and_then(|m| m.as_str()).map(str::to_string)
        })
        .unwrap_or(body);
    let hint = match status {
        401 | 403 => " (check --api-key / --api-key-file)",
        404 => " (check --url and --api: the path may be wrong for this server)",
        429 => " (the server is rate limiting: lower --concurrency)",
        400 | 422 => " (the server rejected the request body: check --api, --model and --max-tokens)",
        _ => "",
    };
    format!("HTTP {status}: {}{hint}", protocol::snippet(&server_says))
}

fn read_snippet(reader: impl Read) -> String {
    let mut bytes = Vec::new();
    let _ = reader.take(ERROR_BODY_LIMIT).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Maps a ureq error to an outcome; `streaming` says whether the headers had arrived, since
/// ureq's per-read limit fires both while waiting for headers (TTFB) and mid-stream (idle).
fn failure(e: &ureq::Error, t: &Timeouts, streaming: bool) -> Outcome {
    use ureq::Error as E;
    let (kind, hint) = match e {
        E::Timeout(ureq::Timeout::PerRead) if !streaming => return timed_out(TimeoutPhase::Ttfb, t),
        E::Timeout(p) => return timed_out(phase(*p), t),
        E::HostNotFound => (ErrorKind::Connect, " (check the host name in --url/--host)"),
        E::ConnectionFailed => (ErrorKind::Connect, " (is the server running? check --url/--host/--port)"),
        E::Tls(_) | E::Rustls(_) | E::Pem(_) => (ErrorKind::Tls, ""),
        E::Io(io) => return io_failure(io, t),
        _ => (ErrorKind::Transport, ""),
    };
    Outcome::Failed { kind, message: format!("{e}{hint}") }
}

/// Maps an I/O error while reading the body to an outcome, finding ureq's timeout phase inside
/// it when there is one.
fn io_failure(e: &std::io::Error, t: &Timeouts) -> Outcome {
    use std::io::ErrorKind as K;
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
        return failure(inner, t, true);
    }
    if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        let hint = match tls {
            rustls::Error::InvalidCertificate(_) => {
                " (a private CA? give its certificate with --ca-cert; --insecure skips the check)"
            }
            _ => "",
        };
        return Outcome::Failed { kind: ErrorKind::Tls, message: format!("TLS: {tls}{hint}") };
    }
    let (kind, hint) = match e.kind() {
        K::ConnectionRefused => (ErrorKind::Connect, " (is the server running? check --url/--host/--port)"),
        K::TimedOut | K::WouldBlock => return timed_out(TimeoutPhase::Idle, t),
        _ => (ErrorKind::Transport, ""),
    };
    Outcome::Failed { kind, message: format!("{e}{hint}") }
}

/// A timeout's outcome, naming the flag that set the limit.
fn timed_out(phase: TimeoutPhase, t: &Timeouts) -> Outcome {
    let message = match phase {
        TimeoutPhase::Connect => format!("could not connect within --connect-timeout {:?}", t.connect),
        TimeoutPhase::Ttfb => format!(
            "no response headers within {:?} (--ttfb-timeout {:?}, bounded by --idle-timeout {:?})",
            t.ttfb.min(t.idle).min(t.total),
            t.ttfb,
            t.idle
        ),
        TimeoutPhase::Idle => format!("the stream sent no bytes for --idle-timeout {:?}", t.idle),
        TimeoutPhase::Total => format!("the request took longer than --timeout {:?}", t.total),
    };
    Outcome::Failed { kind: ErrorKind::Timeout(phase), message }
}

/// Seeds jitter differently per process and request.
fn nanos() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() as u64)
}

fn phase(t: ureq::Timeout) -> TimeoutPhase {
    use ureq::Timeout as T;
    match t {
        T::Resolve | T::Connect => TimeoutPhase::Connect,
        T::SendRequest | T::SendBody | T::RecvResponse | T::Await100 => TimeoutPhase::Ttfb,
        T::PerRead => TimeoutPhase::Idle,
        _ => TimeoutPhase::Total,
    }
}

/// The URL for `base` and `path` (the API's, or `--path`): the path is appended unless `base`
/// already ends with it; without a path (`custom`) the URL is used as is.
pub fn endpoint(base: &str, path: Option<&str>) -> String {
    let Some(path) = path else { return base.to_string() };
    let base = base.trim_end_matches('/');
    if base.ends_with(path) {
        return base.to_string();
    }
    // A base that already ends in /v1 (as Dify's console shows it) gets the rest of the path.
    match base.strip_suffix("/v1") {
        Some(root) => format!("{root}{path}"),
        None => format!("{base}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_appends_the_path_once() {
        let e = |b| endpoint(b, Api::OpenAiChat.path());
        assert_eq!(e("http://h:8000"), "http://h:8000/v1/chat/completions");
        assert_eq!(e("http://h:8000/"), "http://h:8000/v1/chat/completions");
        assert_eq!(e("http://h:8000/v1"), "http://h:8000/v1/chat/completions");
        assert_eq!(e("https://h/p/v1/chat/completions"), "https://h/p/v1/chat/completions");
        assert_eq!(endpoint("https://h/prefix", Api::DifyChat.path()), "https://h/prefix/v1/chat-messages");
        assert_eq!(endpoint("https://h/any/where?x=1", None), "https://h/any/where?x=1");
        assert_eq!(endpoint("https://h/", Some("/api/generate")), "https://h/api/generate");
    }

    #[test]
    fn each_timeout_reports_its_own_kind_and_flag() {
        let t = Timeouts {
            total: Duration::from_secs(300),
            connect: Duration::from_secs(10),
            ttfb: Duration::from_secs(60),
            idle: Duration::from_secs(5),
        };
        let kind = |o: Outcome| match o {
            Outcome::Failed { kind, message } => (kind.name(), message),
            other => panic!("{other:?}"),
        };
        let (k, m) = kind(failure(&ureq::Error::Timeout(ureq::Timeout::Connect), &t, false));
        assert_eq!(
            (k.as_str(), m.as_str()),
            ("timeout_connect", "could not connect within --connect-timeout 10s")
        );
        // ureq's per-read limit before the headers is a TTFB timeout, bounded by the idle limit.
        let (k, m) = kind(failure(&ureq::Error::Timeout(ureq::Timeout::PerRead), &t, false));
        assert_eq!(k, "timeout_ttfb");
        assert_eq!(m, "no response headers within 5s (--ttfb-timeout 60s, bounded by --idle-timeout 5s)");
        let (k, _) = kind(failure(&ureq::Error::Timeout(ureq::Timeout::RecvResponse), &t, false));
        assert_eq!(k, "timeout_ttfb");
        let (k, m) = kind(failure(&ureq::Error::Timeout(ureq::Timeout::PerRead), &t, true));
        assert_eq!(
            (k.as_str(), m.as_str()),
            ("timeout_idle", "the stream sent no bytes for --idle-timeout 5s")
        );
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "read timed out");
        assert_eq!(kind(io_failure(&io, &t)).0, "timeout_idle");
    }

    #[test]
    fn http_errors_quote_the_server_and_hint_the_fix() {
        let body: &[u8] = br#"{"code":"unauthorized","message":"Access token is invalid","status":401}"#;
        assert_eq!(
            http_error(401, body),
            "HTTP 401: Access token is invalid (check --api-key / --api-key-file)"
        );
        let body: &[u8] = b"<html>oops</html>";
        assert_eq!(http_error(502, body), "HTTP 502: <html>oops</html>");
    }
}
