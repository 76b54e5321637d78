//! Sends one request and measures it: the ureq agent's setup, the streaming read loop that feeds
//! bytes to the SSE parser and events to the protocol, and the mapping of every failure to an
//! `Outcome`. It never prints and never panics on what a server sends.

pub mod anthropic;
pub mod custom;
pub mod dify;
pub mod openai;
pub mod protocol;

pub use protocol::{Api, Delta, Protocol, RequestSpec};

use crate::config::Config;
use crate::engine::StopSignal;
use crate::measure::TokenSource;
use crate::measure::{ErrorKind, Measurement, Outcome, TimeoutPhase};
use crate::sse;
use crate::tokens::{Estimator, Tokenizer};
use crate::workload::Prompt;
use serde_json::{Map, Value};
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// At most this much of an error response body is read for its message.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// Warnings kept per request; more are counted, not stored (bounded memory).
const MAX_WARNINGS: usize = 8;

/// The agent every worker shares: pooled keep-alive connections for every worker, statuses as
/// data (not errors), and timeouts so that no request can hang a run.
///
/// The whole-request limit is checked by `Client::stream` between reads rather than given to
/// ureq as a global timeout: a shrinking timeout costs a `setsockopt` on every read, while a
/// fixed per-read one is set once per connection.
pub fn agent(config: &Config) -> ureq::Agent {
    let pool = config.pacing.concurrency + 8;
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(config.connect_timeout))
        .timeout_recv_response(Some(config.timeout))
        .timeout_per_read(Some(config.timeout))
        // ureq's 128 KiB buffers a connection would cost 2.5 GiB at 10,000 workers; SSE events
        // are small, and headers up to ureq's 64 KiB limit still fit.
        .input_buffer_size(64 * 1024)
        .output_buffer_size(16 * 1024)
        .max_idle_connections(pool)
        .max_idle_connections_per_host(pool)
        .user_agent(concat!("llmload/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
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
    model: Option<String>,
    max_tokens: Option<u32>,
    inputs: Map<String, Value>,
    ignore_eos: bool,
    timeout: Duration,
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
            model: config.model.clone(),
            max_tokens: config.max_tokens,
            inputs: config.inputs.clone(),
            ignore_eos: config.ignore_eos,
            timeout: config.timeout,
            tokenizer: config.tokenizer.clone(),
            limits: sse::Limits::default(),
        }
    }

    /// Sends one request and streams its response to the end, the stop signal, or a failure.
    pub fn execute(&self, job: &Job, stop: &StopSignal) -> Measurement {
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
        let t0 = Instant::now();
        let mut m = Measurement::new(job.worker, job.prompt_index, job.key.map(|k| k.0), t0);
        m.turn = job.turn;
        m.prompt_counted = job.prompt.counted_tokens;
        let response = req.send(&body[..]);
        let now = Instant::now();
        m.end_at = now;
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                m.outcome = if stop.is_set() { Outcome::Cancelled } else { failure(&e) };
                return m;
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
        let reader = response.into_body().into_reader();
        if !(200..300).contains(&status) {
            m.outcome =
                Outcome::Failed { kind: ErrorKind::Http(status), message: http_error(status, reader) };
            m.end_at = Instant::now();
            return m;
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
            return m;
        }
        self.stream(reader, &mut m, stop);
        m
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
            if !s.done && now.duration_since(m.t0) > self.timeout {
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
            Outcome::Failed {
                kind: ErrorKind::Timeout(TimeoutPhase::Total),
                message: format!("the request took longer than --timeout {:?}", self.timeout),
            }
        } else if let Some(e) = read_error.filter(|e| e.kind() != std::io::ErrorKind::UnexpectedEof) {
            io_failure(&e)
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

/// Maps a request-level ureq error (before any response) to an outcome.
fn failure(e: &ureq::Error) -> Outcome {
    use ureq::Error as E;
    let (kind, hint) = match e {
        E::Timeout(t) => (ErrorKind::Timeout(phase(*t)), ""),
        E::HostNotFound => (ErrorKind::Connect, " (check the host name in --url/--host)"),
        E::ConnectionFailed => (ErrorKind::Connect, " (is the server running? check --url/--host/--port)"),
        E::Tls(_) | E::Rustls(_) | E::Pem(_) => (ErrorKind::Tls, ""),
        E::Io(io) => return io_failure(io),
        _ => (ErrorKind::Transport, ""),
    };
    Outcome::Failed { kind, message: format!("{e}{hint}") }
}

/// Maps an I/O error (connecting or reading the body) to an outcome, finding ureq's timeout
/// phase inside it when there is one.
fn io_failure(e: &std::io::Error) -> Outcome {
    use std::io::ErrorKind as K;
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
        return failure(inner);
    }
    let (kind, hint) = match e.kind() {
        K::ConnectionRefused => (ErrorKind::Connect, " (is the server running? check --url/--host/--port)"),
        K::TimedOut | K::WouldBlock => (ErrorKind::Timeout(TimeoutPhase::Idle), ""),
        _ => (ErrorKind::Transport, ""),
    };
    Outcome::Failed { kind, message: format!("{e}{hint}") }
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

/// How long a stuck connect may take, whatever `--timeout` says.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
