//! The embedded mock LLM server: a user feature (`llmload mock`, `llmload demo`) and the
//! project's measuring instrument. It streams Dify (chat, completion, workflow), OpenAI-compatible
//! (chat, completions, the Responses API) and Anthropic responses on a scripted schedule, or replays a recorded
//! stream (`replay`), injects faults on request, and records the truth of what it sent — when each event
//! left — so a client's TTFT/ITL can be checked against it.
//!
//! This file owns the public API, the accept loop (one small-stack thread per connection, for
//! thousands of concurrent streams), the keep-alive connection loop and routing. A connection
//! thread reads requests and writes everything but a stream's timed events, which it hands to a
//! pacer (`pacer`), waiting until the stream is over. It does not parse HTTP (`http`), time or
//! word responses (`script`), shape events (`shapes`), pick faults (`faults`), write API
//! responses (`respond`, `stream`), count prompts or keep the prefix table (`prefixes`), queue requests for capacity or hold the global pause
//! (`slots`), write `/metrics` (`metrics`) or make system calls std lacks (`os`). No async runtime:
//! `std::net` and threads.
//!
//! The mock is apart on purpose: it imports nothing of the crate but `stats` and `rng` (the tidy
//! test enforces it). It writes every protocol from its own reading of the servers' documents and
//! recordings, never through the client's `protocol/` adapters: an instrument that shared the
//! client's reading of a protocol would share its bugs and agree with them.

mod faults;
mod http;
mod metrics;
mod os;
mod pacer;
mod prefixes;
mod replay;
mod respond;
mod script;
mod shapes;
mod slots;
mod stream;
mod truth;

pub use faults::{Fault, FaultRule};
pub use replay::{Replay, Split};
pub use script::Lang;
pub use truth::Truth;

use std::collections::VecDeque;
use std::io::{self, BufReader, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use http::{JSON, Next, Request, TEXT};
use pacer::Pacers;
use respond::{Handoff, Reply};
use shapes::Route;
use slots::{Pause, Slots};
use truth::Recorder;

/// Connection threads only parse small JSON and format events; 128 KiB lets thousands run.
const CONN_STACK: usize = 128 * 1024;

/// How long a closing connection drains unread request bytes, so the client gets the reply
/// rather than a reset.
const LINGER: Duration = Duration::from_millis(250);

/// The most arrivals `/mock/arrivals` keeps; older ones are dropped first.
const MAX_ARRIVALS: usize = 100_000;

/// Longer than llmload's default TTFB and idle timeouts (60 s), so those faults trip them.
pub const DEFAULT_FAULT_DELAY: Duration = Duration::from_secs(75);

const DIFY_PATH: &str = "/v1/chat-messages";
const DIFY_COMPLETION_PATH: &str = "/v1/completion-messages";
const DIFY_WORKFLOW_PATH: &str = "/v1/workflows/run";
const OPENAI_PATH: &str = "/v1/chat/completions";
const OPENAI_COMPLETIONS_PATH: &str = "/v1/completions";
const ANTHROPIC_PATH: &str = "/v1/messages";
const OPENAI_RESPONSES_PATH: &str = "/v1/responses";

/// Every API path and what it speaks. These paths and shapes repeat `protocol::Api` on purpose,
/// so that the instrument and the client disagree loudly when either is wrong: do not merge them.
const ROUTES: [(&str, Route); 7] = [
    (DIFY_PATH, Route::Dify),
    (DIFY_COMPLETION_PATH, Route::Dify),
    (DIFY_WORKFLOW_PATH, Route::DifyWorkflow),
    (OPENAI_PATH, Route::OpenAi),
    (OPENAI_COMPLETIONS_PATH, Route::OpenAiCompletions),
    (OPENAI_RESPONSES_PATH, Route::OpenAiResponses),
    (ANTHROPIC_PATH, Route::Anthropic),
];

/// How the mock answers: timing, length, language and faults.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Request read → first text event.
    pub ttft: Duration,
    /// Between consecutive text events.
    pub itl: Duration,
    /// Tokens per response, capped by the request's `max_tokens` / `max_completion_tokens` /
    /// `max_output_tokens`; a request with `ignore_eos: true` and a cap gets exactly the cap.
    pub tokens: u32,
    /// The share (0..=1) of answers without `ignore_eos` that end early: after half their
    /// tokens, with finish reason `stop` (`--eos-share`). Picked like a fault's share.
    pub eos_share: f64,
    /// The share (0..=1) of answers whose text is wrong: every token of the answer is
    /// `WRONG ` instead of the language's passage, with the same count and timing
    /// (`--wrong-share`, for testing answer checks). Picked by the request's sequence number
    /// like a fault's share, so `0.25` makes exactly every 4th answer wrong.
    pub wrong_share: f64,
    /// Keep the first this many API request bodies, parsed, for `MockHandle::bodies` (tests
    /// that check what a client sent). 0: none.
    pub keep_bodies: usize,
    /// Uniform ± fraction (0.0..=1.0) applied to the TTFT and every ITL.
    pub jitter: f64,
    pub lang: Lang,
    /// Tried in order for each API request; the first rule that hits wins.
    pub faults: Vec<FaultRule>,
    /// How long `slow-headers` holds the head back and `stall` goes silent.
    pub fault_delay: Duration,
    /// Answer every POST with this recorded stream instead (timing and faults unused).
    pub replay: Option<Replay>,
    /// At most this many API responses generate at once (`--slots`); later requests wait in
    /// arrival order, and their head and schedule start when a slot frees. `None`: no limit.
    pub slots: Option<usize>,
    /// `(at, for)`: from `at` after the mock started, for `for`, no stream sends an event
    /// (`--stall-at`, `--stall-for`); what falls due meanwhile goes out when it ends.
    pub stall: Option<(Duration, Duration)>,
    /// Each connection carries one response, and says otherwise (`--close-after-response`):
    /// API responses advertise `Connection: keep-alive`, and the connection closes, unanswered,
    /// when the next request arrives on it (a server that closes after each response, as
    /// llama.cpp's does, with its close always late: it crosses the client's next request).
    pub close_after_response: bool,
    /// A stream whose client left is generated to its end anyway, for nobody (`--keep-decoding`:
    /// a server that does not notice); counted in `Truth::decoded_unread`.
    pub keep_decoding: bool,
}

impl Default for MockConfig {
    /// Chinese by default: multi-byte text is the case clients most often get wrong.
    fn default() -> Self {
        MockConfig {
            ttft: Duration::from_millis(100),
            itl: Duration::from_millis(10),
            tokens: 64,
            eos_share: 0.0,
            wrong_share: 0.0,
            keep_bodies: 0,
            jitter: 0.0,
            lang: Lang::Zh,
            faults: Vec::new(),
            fault_delay: DEFAULT_FAULT_DELAY,
            replay: None,
            slots: None,
            stall: None,
            close_after_response: false,
            keep_decoding: false,
        }
    }
}

/// A running mock server. Dropping it stops it like `shutdown`.
pub struct MockHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

/// What every connection thread shares.
struct Shared {
    config: MockConfig,
    /// The next API request's sequence number.
    seq: AtomicU64,
    truth: Mutex<Truth>,
    /// The first `keep_bodies` API request bodies (JSON; `null` for one that is not).
    bodies: Mutex<Vec<serde_json::Value>>,
    /// The leading blocks of prompts received (`prefixes`).
    prefixes: Mutex<prefixes::PrefixTable>,
    /// API responses not yet merged into `truth`; changed under its lock when decremented.
    in_flight: AtomicU64,
    /// API responses holding a slot (generating); decremented under `truth`'s lock after the
    /// merge, so a scrape that reads 0 has every response in its counters.
    running: AtomicU64,
    /// API requests waiting for a slot.
    waiting: AtomicU64,
    /// When the mock started: arrivals are counted from here.
    started: Instant,
    /// The last `MAX_ARRIVALS` API requests' arrivals (fully read), µs after `started`, and path.
    arrivals: Mutex<VecDeque<(u64, &'static str)>>,
    /// Signalled after each merge, for `truth_when_idle`.
    merged: Condvar,
    stop: AtomicBool,
    pacers: Pacers,
    slots: Slots,
    pause: Option<Pause>,
}

impl MockHandle {
    /// The bound address (with the real port when bound to port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// API requests read and not yet answered to their end (or their client's close): a test
    /// knows by it that a request reached the mock.
    pub fn in_flight(&self) -> u64 {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// A snapshot of the truth so far. A response is merged just after its last write, so a
    /// client that has just read a stream's end may be a moment ahead of this.
    pub fn truth(&self) -> Truth {
        self.shared.lock_truth().clone()
    }

    /// The first `MockConfig::keep_bodies` API request bodies received, in arrival order, as
    /// JSON (`null` for a body that is not).
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.shared.bodies.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The truth once no API response is in progress (or when `timeout` runs out): what a test
    /// or bench wants after its clients have read their last byte.
    pub fn truth_when_idle(&self, timeout: Duration) -> Truth {
        let shared = &*self.shared;
        let busy = |_: &mut Truth| shared.in_flight.load(Ordering::SeqCst) > 0;
        let guard = shared.lock_truth();
        let (guard, _) =
            shared.merged.wait_timeout_while(guard, timeout, busy).unwrap_or_else(PoisonError::into_inner);
        guard.clone()
    }

    /// Stops accepting and joins the accept thread; connection threads end when their clients
    /// close, and the pacers after the last of them.
    pub fn shutdown(mut self) {
        self.stop();
    }

    /// Wakes the blocked `accept` with a connection of our own. If even that fails, the accept
    /// thread is left to exit on its next connection rather than joined forever.
    fn stop(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        self.shared.stop.store(true, Ordering::SeqCst);
        if TcpStream::connect_timeout(&wake_addr(self.addr), Duration::from_secs(1)).is_ok() {
            let _ = accept.join();
        }
    }
}

impl Drop for MockHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A wildcard bind is reached through the loopback of its family.
fn wake_addr(addr: SocketAddr) -> SocketAddr {
    let mut addr = addr;
    match addr {
        SocketAddr::V4(ref mut a) if a.ip().is_unspecified() => a.set_ip([127, 0, 0, 1].into()),
        SocketAddr::V6(ref mut a) if a.ip().is_unspecified() => a.set_ip(std::net::Ipv6Addr::LOCALHOST),
        _ => {}
    }
    addr
}

/// Binds `bind` (e.g. `127.0.0.1:0` for an ephemeral port) and serves in background threads.
/// Fails on a bind error or a config `start` cannot honour (jitter or a share out of range).
/// Raises the process's soft open-file limit to its hard limit: each connection holds one.
pub fn start(bind: SocketAddr, config: MockConfig) -> io::Result<MockHandle> {
    validate(&config)?;
    os::raise_open_file_limit();
    let listener = TcpListener::bind(bind)?;
    os::deepen_backlog(&listener);
    let addr = listener.local_addr()?;
    let now = Instant::now();
    let pause = config.stall.map(|(at, length)| Pause { from: now + at, until: now + at + length });
    let pacers =
        Pacers::start(thread::available_parallelism().map_or(1, usize::from), pause, config.keep_decoding)?;
    let shared = Arc::new(Shared {
        slots: Slots::new(config.slots),
        pause,
        config,
        seq: AtomicU64::new(0),
        truth: Mutex::new(Truth::default()),
        bodies: Mutex::new(Vec::new()),
        prefixes: Mutex::default(),
        in_flight: AtomicU64::new(0),
        running: AtomicU64::new(0),
        waiting: AtomicU64::new(0),
        started: now,
        arrivals: Mutex::default(),
        merged: Condvar::new(),
        stop: AtomicBool::new(false),
        pacers,
    });
    let accept = thread::Builder::new().name("mock-accept".into()).spawn({
        let shared = Arc::clone(&shared);
        move || accept_loop(&listener, &shared)
    })?;
    Ok(MockHandle { addr, shared, accept: Some(accept) })
}

/// The fields are public, so values the parsers would refuse can still arrive here.
fn validate(config: &MockConfig) -> io::Result<()> {
    let invalid = |msg: String| Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
    if !(0.0..=1.0).contains(&config.jitter) {
        return invalid(format!("mock jitter {} is outside 0..=1", config.jitter));
    }
    if !(0.0..=1.0).contains(&config.eos_share) {
        return invalid(format!("mock eos share {} is outside 0..=1", config.eos_share));
    }
    if !(0.0..=1.0).contains(&config.wrong_share) {
        return invalid(format!("mock wrong share {} is outside 0..=1", config.wrong_share));
    }
    if config.slots == Some(0) {
        return invalid("mock slots must be at least 1".into());
    }
    match config.faults.iter().find(|r| !faults::valid_share(r.share)) {
        Some(r) => invalid(format!("mock fault {} has share {} outside (0, 1]", r.fault, r.share)),
        None => Ok(()),
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        match conn {
            Ok(stream) => spawn_connection(stream, shared),
            // Out of descriptors and the like: back off instead of spinning.
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// If the thread cannot be spawned, the stream is dropped and the client sees a close.
fn spawn_connection(stream: TcpStream, shared: &Arc<Shared>) {
    let shared = Arc::clone(shared);
    let _ = thread::Builder::new()
        .name("mock-conn".into())
        .stack_size(CONN_STACK)
        .spawn(move || serve(&Arc::new(stream), &shared));
}

/// Answers requests on one connection until either side closes it. The socket is shared only
/// with the pacer sending a stream, while this thread waits for it.
fn serve(conn: &Arc<TcpStream>, shared: &Shared) {
    shared.lock_truth().connections += 1;
    let stream = &**conn;
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream);
    let mut writer = stream;
    loop {
        let next = match http::read_request(&mut reader, &mut writer) {
            Ok(Some(req)) => shared.route(&req, Instant::now(), conn),
            Ok(None) | Err(http::ReadError::Gone) => return,
            Err(http::ReadError::Bad(status, reason)) => {
                let body = serde_json::json!({ "error": reason }).to_string();
                let _ = io::Write::write_all(
                    &mut writer,
                    &http::response(status, JSON, body.as_bytes(), true, &[]),
                );
                Next::Close
            }
        };
        match next {
            Next::KeepAlive | Next::CloseAnnounced if shared.config.close_after_response => {
                return shared.close_late(stream, &mut reader);
            }
            Next::KeepAlive => {}
            Next::CloseAnnounced | Next::Close => return close_gracefully(stream),
            Next::Reset => return os::reset_on_close(stream),
        }
    }
}

/// Sends FIN, then drains what the client still sends for a moment: closing a socket with
/// unread input makes the kernel send a reset, which can destroy the reply in flight.
fn close_gracefully(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(LINGER));
    let _ = io::copy(&mut stream.take(1 << 20), &mut io::sink());
}

impl Shared {
    fn lock_truth(&self) -> MutexGuard<'_, Truth> {
        self.truth.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `--close-after-response`, once a connection's response is out: it stays open until the
    /// client's next request has arrived on it (or the client closes it), then closes without a
    /// byte of an answer (not even a `100 Continue`). The request is counted as unanswered; it
    /// gets no sequence number, so faults fall on answered requests only.
    fn close_late(&self, stream: &TcpStream, reader: &mut BufReader<&TcpStream>) {
        if let Ok(Some(_)) | Err(http::ReadError::Bad(..)) = http::read_request(reader, &mut io::sink()) {
            self.lock_truth().unanswered += 1;
        }
        close_gracefully(stream);
    }

    /// `received`: the instant the whole request (head and body) had been read.
    fn route(&self, req: &Request, received: Instant, conn: &Arc<TcpStream>) -> Next {
        let plain = |status, content_type, body: &[u8]| {
            let out = http::response(status, content_type, body, req.close, &[]);
            match io::Write::write_all(&mut &**conn, &out) {
                Ok(()) => Next::after(req.close),
                Err(_) => Next::Close,
            }
        };
        let route = ROUTES.iter().find(|(path, _)| *path == req.path);
        let api = route.map(|(_, api)| *api);
        if req.method == "POST" && (route.is_some() || self.config.replay.is_some()) {
            self.arrived(received, route.map_or("replay", |(path, _)| path));
        }
        match (req.method.as_str(), req.path.as_str(), api, &self.config.replay) {
            ("POST", _, _, Some(replay)) => {
                let n = self.seq.fetch_add(1, Ordering::Relaxed);
                replay.serve(&mut &**conn, n, req.close)
            }
            ("POST", _, Some(api), None) => self.api(api, req, received, conn),
            ("GET", "/mock/stats", _, _) => {
                // Rendered first: the lock must not be held across a socket write.
                let stats = self.lock_truth().to_json().to_string();
                plain(200, JSON, stats.as_bytes())
            }
            ("GET", "/metrics", _, _) => plain(200, metrics::CONTENT_TYPE, self.metrics().as_bytes()),
            ("GET", "/mock/arrivals", _, _) => plain(200, JSON, self.arrivals_json().as_bytes()),
            ("GET", "/health", _, _) => plain(200, TEXT, b"ok"),
            _ => plain(404, JSON, not_found(req).as_bytes()),
        }
    }

    /// Notes an API request's arrival (`received`) for `/mock/arrivals`.
    fn arrived(&self, received: Instant, path: &'static str) {
        let at = u64::try_from((received - self.started).as_micros()).unwrap_or(u64::MAX);
        let mut log = self.arrivals.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() >= MAX_ARRIVALS {
            log.pop_front();
        }
        log.push_back((at, path));
    }

    /// `[{"at_ms", "path"}, …]`, oldest first.
    fn arrivals_json(&self) -> String {
        let log = self.arrivals.lock().unwrap_or_else(PoisonError::into_inner);
        let list: Vec<_> = log
            .iter()
            .map(|&(us, path)| serde_json::json!({"at_ms": us as f64 / 1000.0, "path": path}))
            .collect();
        drop(log);
        serde_json::Value::from(list).to_string()
    }

    /// The exposition, read under the truth's lock so the gauges and counters agree.
    fn metrics(&self) -> String {
        let truth = self.lock_truth();
        let gauges = metrics::Gauges {
            running: self.running.load(Ordering::SeqCst),
            waiting: self.waiting.load(Ordering::SeqCst),
            slots: self.config.slots,
        };
        metrics::render(&truth, gauges)
    }

    /// An API request: numbered, answered (a stream through a pacer), and merged into the truth
    /// once, whatever happened.
    fn api(&self, api: Route, req: &Request, received: Instant, conn: &Arc<TcpStream>) -> Next {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        if self.config.keep_bodies > 0 {
            let mut kept = self.bodies.lock().unwrap_or_else(PoisonError::into_inner);
            if kept.len() < self.config.keep_bodies {
                kept.push(serde_json::from_slice(&req.body).unwrap_or_default());
            }
        }
        // The record starts when the request was read, so the wait for a slot shows in its
        // TTFT; the response's schedule starts when the slot is taken.
        let mut rec = Recorder::new(received);
        let limited = self.config.slots.is_some();
        self.waiting.fetch_add(u64::from(limited), Ordering::SeqCst);
        let slot = self.slots.take();
        self.running.fetch_add(1, Ordering::SeqCst);
        self.waiting.fetch_sub(u64::from(limited), Ordering::SeqCst);
        Pause::wait_out(self.pause);
        let start = slot.at.unwrap_or(received);
        rec.admitted(start);
        let mut w = &**conn;
        let reply = Reply::new(&mut w, &mut rec, &self.config, &self.prefixes, n, start, req.close);
        let (rec, next) = match reply.run(api, &req.body) {
            Handoff::Done(next) => (rec, next),
            Handoff::Paced(stream) => self.pacers.pace(conn, stream, rec),
        };
        let mut truth = self.lock_truth();
        rec.merge_into(&mut truth);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.running.fetch_sub(1, Ordering::SeqCst);
        drop(truth);
        // Given back after the merge, so `running` never counts more than the slots.
        drop(slot);
        self.merged.notify_all();
        next
    }
}

fn not_found(req: &Request) -> String {
    serde_json::json!({
        "error": format!("no route for {} {}", req.method, req.path),
        "paths": ROUTES.iter().map(|(path, _)| format!("POST {path}"))
            .chain(["GET /mock/stats", "GET /mock/arrivals", "GET /metrics", "GET /health"].map(String::from))
            .collect::<Vec<_>>(),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::io::{BufRead, Write};

    fn config(tokens: u32, faults: &[&str]) -> MockConfig {
        MockConfig {
            ttft: Duration::from_millis(5),
            itl: Duration::from_millis(1),
            tokens,
            jitter: 0.0,
            lang: Lang::Zh,
            faults: faults.iter().map(|f| f.parse().unwrap()).collect(),
            fault_delay: Duration::from_secs(1),
            replay: None,
            slots: None,
            stall: None,
            close_after_response: false,
            ..MockConfig::default()
        }
    }

    fn server(config: MockConfig) -> MockHandle {
        start("127.0.0.1:0".parse().unwrap(), config).unwrap()
    }

    fn dify(query: &str) -> Value {
        json!({"inputs": {}, "query": query, "user": "u", "response_mode": "streaming"})
    }

    fn openai(extra: Value) -> Value {
        let mut body = json!({
            "model": "qwen-mock", "stream": true,
            "messages": [{"role": "user", "content": "你好呀"}],
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    }

    /// A tiny HTTP/1.1 client: enough to send a request and de-chunk the reply.
    struct Client {
        reader: BufReader<TcpStream>,
    }

    struct Resp {
        status: u16,
        headers: Vec<(String, String)>,
        /// The body as the chunks it came in (one element for a Content-Length body).
        chunks: Vec<Vec<u8>>,
        /// The body was delimited properly (terminating chunk or full Content-Length).
        complete: bool,
    }

    impl Client {
        fn connect(h: &MockHandle) -> Self {
            let stream = TcpStream::connect(h.addr()).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            Client { reader: BufReader::new(stream) }
        }

        fn send_raw(&mut self, bytes: &[u8]) {
            self.reader.get_mut().write_all(bytes).unwrap();
        }

        fn call(&mut self, method: &str, path: &str, body: &Value) -> Resp {
            let body = if body.is_null() { String::new() } else { body.to_string() };
            let req = format!(
                "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            self.send_raw(req.as_bytes());
            self.response()
        }

        fn line(&mut self) -> Option<String> {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(n) if n > 0 => Some(line.trim_end_matches(['\r', '\n']).to_string()),
                _ => None,
            }
        }

        fn response(&mut self) -> Resp {
            let status_line = self.line().expect("a status line");
            let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
            let mut headers = Vec::new();
            while let Some(line) = self.line().filter(|l| !l.is_empty()) {
                let (name, value) = line.split_once(':').unwrap();
                headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
            }
            let mut resp = Resp { status, headers, chunks: Vec::new(), complete: false };
            match resp.header("content-length").map(|v| v.parse::<u64>().unwrap()) {
                Some(len) => self.read_sized(&mut resp, len),
                None => self.read_chunked(&mut resp),
            }
            resp
        }

        fn read_sized(&mut self, resp: &mut Resp, len: u64) {
            let mut body = Vec::new();
            let _ = self.reader.by_ref().take(len).read_to_end(&mut body);
            resp.complete = body.len() as u64 == len;
            resp.chunks.push(body);
        }

        fn read_chunked(&mut self, resp: &mut Resp) {
            while let Some(size) = self.line() {
                let size = u64::from_str_radix(&size, 16).unwrap();
                if size == 0 {
                    resp.complete = self.line().is_some_and(|l| l.is_empty());
                    return;
                }
                let mut chunk = Vec::new();
                let _ = self.reader.by_ref().take(size).read_to_end(&mut chunk);
                let whole = chunk.len() as u64 == size;
                resp.chunks.push(chunk);
                if !whole || self.line().is_none_or(|l| !l.is_empty()) {
                    return;
                }
            }
        }

        /// The server closed the connection (after any response already read).
        fn closed(&mut self) -> bool {
            matches!(self.reader.read(&mut [0; 1]), Ok(0))
        }
    }

    impl Resp {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
        }

        fn body(&self) -> String {
            String::from_utf8(self.chunks.concat()).unwrap()
        }

        fn json(&self) -> Value {
            serde_json::from_str(&self.body()).unwrap()
        }

        /// SSE events (blank-line separated blocks), asserting one event per chunk.
        fn events(&self) -> Vec<String> {
            for chunk in &self.chunks {
                let chunk = std::str::from_utf8(chunk).unwrap();
                assert_eq!(chunk.matches("\n\n").count(), 1, "one event per chunk: {chunk:?}");
                assert!(chunk.ends_with("\n\n"));
            }
            self.body().split("\n\n").filter(|e| !e.is_empty()).map(String::from).collect()
        }

        /// The JSON of each `data:` event that parses; `[DONE]` and broken JSON are skipped.
        fn data(&self) -> Vec<Value> {
            let events = self.events();
            let payloads = events.iter().filter_map(|e| e.strip_prefix("data: "));
            payloads.filter_map(|p| serde_json::from_str(p).ok()).collect()
        }
    }

    fn answers(data: &[Value]) -> String {
        let text = |d: &Value| match d["answer"].as_str() {
            Some(a) => a.to_string(),
            None => d["choices"][0]["delta"]["content"].as_str().unwrap_or("").to_string(),
        };
        data.iter().map(text).collect()
    }

    fn text_events(data: &[Value]) -> usize {
        let is_text = |d: &&Value| {
            d["event"] == "message"
                || d["choices"][0]["delta"]["content"].as_str().is_some_and(|c| !c.is_empty())
        };
        data.iter().filter(is_text).count()
    }

    #[test]
    fn dify_stream_has_ping_tokens_message_end_and_intact_chinese() {
        let h = server(config(6, &[]));
        let r = Client::connect(&h).call("POST", DIFY_PATH, &dify("你好"));
        assert_eq!((r.status, r.header("x-mock-request")), (200, Some("0")));
        assert!(r.header("content-type").unwrap().starts_with("text/event-stream"));
        assert!(r.complete);
        let events = r.events();
        assert_eq!(events[0], "event: ping");
        assert!(events.iter().all(|e| e != "data: [DONE]"));
        let data = r.data();
        assert_eq!(data.len(), 7);
        assert_eq!(text_events(&data), 6);
        assert_eq!(answers(&data), "大语言模型逐");
        let end = data.last().unwrap();
        assert_eq!(end["event"], "message_end");
        let usage = &end["metadata"]["usage"];
        assert_eq!(
            (usage["prompt_tokens"].as_u64(), usage["completion_tokens"].as_u64()),
            (Some(2), Some(6))
        );
        assert_eq!(usage["total_tokens"], 8);
        assert!(usage["latency"].as_f64().unwrap() > 0.0);
    }

    #[test]
    fn a_wrong_share_makes_exactly_that_share_of_answers_wrong() {
        let h = server(MockConfig { wrong_share: 0.25, ..config(3, &[]) });
        let mut client = Client::connect(&h);
        let wrong: Vec<bool> = (0..8)
            .map(|_| {
                let r = client.call("POST", DIFY_PATH, &dify("hi"));
                let text = answers(&r.data());
                assert!(text == "WRONG WRONG WRONG " || text == "大语言", "{text}");
                text.starts_with("WRONG")
            })
            .collect();
        assert_eq!(wrong, [false, false, false, true, false, false, false, true]);
    }

    #[test]
    fn openai_stream_has_role_chunk_tokens_finish_usage_and_done() {
        let h = server(MockConfig { lang: Lang::Mixed, ..config(6, &[]) });
        let body = openai(json!({"stream_options": {"include_usage": true}}));
        let r = Client::connect(&h).call("POST", OPENAI_PATH, &body);
        assert_eq!(r.status, 200);
        let events = r.events();
        assert_eq!(events.last().unwrap(), "data: [DONE]");
        let data = r.data();
        assert_eq!(data[0]["choices"][0]["delta"], json!({"role": "assistant", "content": ""}));
        assert!(data.iter().all(|d| d["model"] == "qwen-mock"));
        assert_eq!(text_events(&data), 6);
        assert_eq!(answers(&data), script::text(Lang::Mixed, false, 6));
        let n = data.len();
        assert_eq!(data[n - 2]["choices"][0]["finish_reason"], "stop");
        assert_eq!(data[n - 1]["choices"], json!([]));
        let usage = &data[n - 1]["usage"];
        assert_eq!(
            (usage["prompt_tokens"].as_u64(), usage["completion_tokens"].as_u64()),
            (Some(3), Some(6))
        );
        assert_eq!(usage["total_tokens"], 9);
    }

    #[test]
    fn openai_max_tokens_caps_with_length_and_usage_is_optional() {
        let h = server(config(6, &[]));
        let mut c = Client::connect(&h);
        for cap in ["max_tokens", "max_completion_tokens"] {
            let r = c.call("POST", OPENAI_PATH, &openai(json!({cap: 3})));
            let data = r.data();
            assert_eq!(text_events(&data), 3, "{cap}");
            assert_eq!(data.last().unwrap()["choices"][0]["finish_reason"], "length");
            assert!(data.iter().all(|d| d.get("usage").is_none()));
            assert_eq!(r.events().last().unwrap(), "data: [DONE]");
        }
    }

    #[test]
    fn keep_alive_serves_several_requests_on_one_connection_and_truth_is_exact() {
        let h = server(config(5, &[]));
        let mut c = Client::connect(&h);
        for n in 0..3 {
            let (path, body) =
                if n % 2 == 0 { (DIFY_PATH, dify("q")) } else { (OPENAI_PATH, openai(json!({}))) };
            let r = c.call("POST", path, &body);
            assert_eq!((r.status, r.complete), (200, true));
            assert_eq!(r.header("x-mock-request"), Some(n.to_string().as_str()));
            assert_eq!(r.header("connection"), None);
        }
        let t = h.truth_when_idle(Duration::from_secs(2));
        assert_eq!((t.requests, t.completed, t.text_events), (3, 3, 15));
        assert_eq!((t.ttft_us.count(), t.itl_us.count(), t.e2e_us.count()), (3, 12, 3));
        assert!(t.ttft_us.quantile(0.0).unwrap() >= 5_000, "never before its deadline");
        assert!(t.faults.is_empty());
        let stats = c.call("GET", "/mock/stats", &Value::Null);
        let (got, want) = (stats.json(), t.to_json());
        for key in ["requests", "completed", "text_events", "faults", "connections", "unanswered"] {
            assert_eq!(got[key], want[key], "{key}");
        }
        assert_eq!((t.connections, t.unanswered), (1, 0));
        for key in ["ttft_ms", "itl_ms", "e2e_ms"] {
            assert_eq!(got[key]["count"], want[key]["count"], "{key}");
        }
        assert_eq!(h.truth().requests, 3, "stats requests are not API requests");
    }

    #[test]
    fn non_streaming_requests_get_one_json_body_after_generation() {
        let h = server(config(4, &[]));
        let mut c = Client::connect(&h);
        let blocking = json!({"query": "hi", "inputs": {}, "user": "u", "response_mode": "blocking"});
        let r = c.call("POST", DIFY_PATH, &blocking);
        let j = r.json();
        assert_eq!((j["event"].as_str(), j["answer"].as_str()), (Some("message"), Some("大语言模")));
        assert_eq!(j["metadata"]["usage"]["completion_tokens"], 4);
        let r = c.call("POST", OPENAI_PATH, &openai(json!({"stream": false, "max_tokens": 2})));
        let j = r.json();
        assert_eq!(j["object"], "chat.completion");
        assert_eq!(j["choices"][0]["message"]["content"], "大语");
        assert_eq!(j["choices"][0]["finish_reason"], "length");
        assert_eq!(j["usage"]["completion_tokens"], 2);
        let t = h.truth_when_idle(Duration::from_secs(2));
        assert_eq!((t.requests, t.completed, t.text_events, t.e2e_us.count()), (2, 2, 0, 2));
    }

    #[test]
    fn status_faults_are_protocol_shaped_and_keep_the_connection() {
        let h = server(config(4, &["http-429"]));
        let mut c = Client::connect(&h);
        let r = c.call("POST", OPENAI_PATH, &openai(json!({})));
        assert_eq!((r.status, r.header("retry-after")), (429, Some("1")));
        assert_eq!(r.json()["error"]["code"], "rate_limit_exceeded");
        let r = c.call("POST", DIFY_PATH, &dify("q"));
        assert_eq!((r.status, r.json()["status"].as_u64()), (429, Some(429)));
        assert!(r.json()["code"].is_string() && r.json()["message"].is_string());
        assert_eq!(h.truth_when_idle(Duration::from_secs(2)).faults["http-429"], 2);

        let h = server(config(4, &["html-502"]));
        let r = Client::connect(&h).call("POST", DIFY_PATH, &dify("q"));
        assert_eq!(r.status, 502);
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        assert!(r.body().contains("502 Bad Gateway"));
        assert_eq!(r.header("retry-after"), None);
    }

    #[test]
    fn not_sse_fault_is_a_200_html_page() {
        let h = server(config(4, &["not-sse"]));
        let r = Client::connect(&h).call("POST", OPENAI_PATH, &openai(json!({})));
        assert_eq!(r.status, 200);
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        assert!(r.body().contains("<html>"));
        let t = h.truth_when_idle(Duration::from_secs(2));
        assert_eq!((t.requests, t.completed, t.faults["not-sse"]), (1, 0, 1));
    }

    #[test]
    fn cut_fault_stops_mid_event_without_terminator_and_closes() {
        let h = server(config(6, &["cut"]));
        let mut c = Client::connect(&h);
        let r = c.call("POST", DIFY_PATH, &dify("q"));
        assert_eq!(r.status, 200);
        assert!(!r.complete);
        let (partial, whole) = r.chunks.split_last().unwrap();
        assert!(!partial.ends_with(b"\n\n") && partial.starts_with(b"data: {"));
        let whole: Vec<Value> = whole
            .iter()
            .filter_map(|e| std::str::from_utf8(e).ok()?.strip_prefix("data: "))
            .filter_map(|p| serde_json::from_str(p).ok())
            .collect();
        assert_eq!(text_events(&whole), 3);
        assert!(c.closed());
        let t = h.truth_when_idle(Duration::from_secs(2));
        assert_eq!((t.completed, t.text_events, t.faults["cut"]), (0, 3, 1));
    }

    #[test]
    fn malformed_fault_adds_one_broken_event_and_completes() {
        let h = server(config(6, &["malformed"]));
        let r = Client::connect(&h).call("POST", OPENAI_PATH, &openai(json!({})));
        assert!(r.complete);
        let events = r.events();
        let broken = events
            .iter()
            .filter_map(|e| e.strip_prefix("data: "))
            .filter(|p| *p != "[DONE]" && serde_json::from_str::<Value>(p).is_err())
            .count();
        assert_eq!(broken, 1);
        assert_eq!(text_events(&r.data()), 6);
        assert_eq!(events.last().unwrap(), "data: [DONE]");
        let t = h.truth_when_idle(Duration::from_secs(2));
        assert_eq!((t.completed, t.text_events, t.faults["malformed"]), (1, 6, 1));
    }

    #[test]
    fn stream_error_fault_sends_the_protocols_error_event() {
        let h = server(config(6, &["stream-error"]));
        let mut c = Client::connect(&h);
        let r = c.call("POST", DIFY_PATH, &dify("q"));
        assert!(r.complete);
        let data = r.data();
        assert_eq!(text_events(&data), 3);
        let last = data.last().unwrap();
        assert_eq!((last["event"].as_str(), last["status"].as_u64()), (Some("error"), Some(500)));
        assert_eq!(last["code"], "internal_error");
        let r = c.call("POST", OPENAI_PATH, &openai(json!({})));
        let events = r.events();
        assert_eq!(events.last().unwrap(), "data: [DONE]");
        assert!(r.data().last().unwrap()["error"]["message"].is_string());
        let t = h.truth_when_idle(Duration::from_secs(2));
        assert_eq!((t.requests, t.completed, t.text_events, t.faults["stream-error"]), (2, 0, 6, 2));
    }

    #[test]
    fn close_fault_sends_connection_close_then_closes() {
        let h = server(config(3, &["close"]));
        let mut c = Client::connect(&h);
        let r = c.call("POST", DIFY_PATH, &dify("q"));
        assert_eq!((r.header("connection"), r.complete), (Some("close"), true));
        assert_eq!(text_events(&r.data()), 3);
        assert!(c.closed());
        let t = h.truth_when_idle(Duration::from_secs(2));
        assert_eq!((t.completed, t.faults["close"]), (1, 1));
    }

    #[test]
    fn close_after_response_says_keep_alive_then_closes_on_the_next_request_unanswered() {
        let h = server(MockConfig { close_after_response: true, ..config(3, &["close:0.5"]) });
        let mut c = Client::connect(&h);
        let r = c.call("POST", OPENAI_PATH, &openai(json!({})));
        assert_eq!((r.status, r.complete, text_events(&r.data())), (200, true, 3));
        assert_eq!(
            (r.header("connection"), r.header("keep-alive")),
            (Some("keep-alive"), Some("timeout=5, max=100"))
        );
        assert!(still_open(&mut c), "the close waits for the next request");
        c.send_raw(format!("POST {OPENAI_PATH} HTTP/1.1\r\nContent-Length: 2\r\n\r\n{{}}").as_bytes());
        assert!(c.closed(), "closed, not a byte of an answer");
        // Request 1 gets the `close` fault: its head says so, and the connection still waits.
        let mut c = Client::connect(&h);
        let r = c.call("POST", OPENAI_PATH, &openai(json!({})));
        assert_eq!((r.header("connection"), r.header("keep-alive"), r.complete), (Some("close"), None, true));
        assert!(still_open(&mut c), "a client that ignores the header would be caught reusing it");
        drop(c);
        let t = h.truth_when_idle(Duration::from_secs(2));
        assert_eq!((t.requests, t.completed, t.unanswered, t.connections), (2, 2, 1, 2));
        assert_eq!(t.faults["close"], 1);
    }

    /// Nothing arrives on `c` for 50 ms: the server has not closed it.
    fn still_open(c: &mut Client) -> bool {
        c.reader.get_ref().set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let open = matches!(c.reader.read(&mut [0; 1]), Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut);
        c.reader.get_ref().set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        open
    }

    #[test]
    fn fault_shares_hit_exact_requests() {
        let h = server(config(1, &["http-500:0.25"]));
        let mut c = Client::connect(&h);
        let statuses: Vec<u16> = (0..8).map(|_| c.call("POST", DIFY_PATH, &dify("q")).status).collect();
        assert_eq!(statuses, [200, 200, 200, 500, 200, 200, 200, 500]);
        let t = h.truth_when_idle(Duration::from_secs(2));
        assert_eq!((t.requests, t.completed, t.faults["http-500"]), (8, 6, 2));
    }

    #[test]
    fn unknown_routes_bad_bodies_and_health() {
        let h = server(config(2, &[]));
        let mut c = Client::connect(&h);
        let r = c.call("GET", "/nope", &Value::Null);
        assert_eq!(r.status, 404);
        assert!(r.json()["paths"].as_array().unwrap().contains(&json!("POST /v1/chat-messages")));
        let r = c.call("GET", "/health", &Value::Null);
        assert_eq!((r.status, r.body().as_str()), (200, "ok"));
        c.send_raw(b"POST /v1/chat-messages HTTP/1.1\r\nContent-Length: 3\r\n\r\n{x}");
        let r = c.response();
        assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("invalid_param")));
        assert_eq!(r.header("x-mock-request"), Some("0"));
        let t = h.truth_when_idle(Duration::from_secs(2));
        assert_eq!((t.requests, t.completed), (1, 0));
    }

    #[test]
    fn the_arrival_log_lists_api_requests_in_order_and_is_bounded() {
        let h = server(config(2, &[]));
        let mut c = Client::connect(&h);
        c.call("POST", DIFY_PATH, &dify("q"));
        c.call("GET", "/health", &Value::Null);
        c.call("POST", OPENAI_PATH, &openai(json!({})));
        let log = c.call("GET", "/mock/arrivals", &Value::Null).json();
        let paths: Vec<&str> = log.as_array().unwrap().iter().map(|a| a["path"].as_str().unwrap()).collect();
        assert_eq!(paths, [DIFY_PATH, OPENAI_PATH], "API requests only");
        let at = |i: usize| log[i]["at_ms"].as_f64().unwrap();
        assert!(0.0 <= at(0) && at(0) <= at(1), "{log}");
        for _ in 0..MAX_ARRIVALS {
            h.shared.arrived(Instant::now(), OPENAI_PATH);
        }
        let log = c.call("GET", "/mock/arrivals", &Value::Null).json();
        assert_eq!(log.as_array().unwrap().len(), MAX_ARRIVALS);
        assert_eq!(log[0]["path"], OPENAI_PATH, "the oldest dropped first");
        assert!(
            c.call("GET", "/nope", &Value::Null).json()["paths"]
                .as_array()
                .unwrap()
                .contains(&json!("GET /metrics"))
        );
    }

    #[test]
    fn deep_json_parses_on_the_small_stack_up_to_the_limit() {
        let h = server(config(1, &[]));
        let mut c = Client::connect(&h);
        let nest = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let mut body = dify("q");
        body["inputs"] = serde_json::from_str(&nest(31)).unwrap();
        assert_eq!(c.call("POST", DIFY_PATH, &body).status, 200);
        let raw = format!("{{\"query\":{}}}", nest(100_000));
        let req = format!("POST {DIFY_PATH} HTTP/1.1\r\nContent-Length: {}\r\n\r\n{raw}", raw.len());
        c.send_raw(req.as_bytes());
        let r = c.response();
        assert_eq!(r.status, 400);
        assert!(r.json()["message"].as_str().unwrap().contains("nested deeper"));
    }

    #[test]
    fn malformed_http_gets_400_and_a_close() {
        let h = server(config(2, &[]));
        let mut c = Client::connect(&h);
        c.send_raw(b"HELLO THERE\r\nx: y\r\n\r\n");
        let r = c.response();
        assert_eq!(r.status, 400);
        assert!(r.json()["error"].as_str().unwrap().contains("request line"));
        assert!(c.closed());
        assert_eq!(h.truth().requests, 0);
    }

    #[test]
    fn fifty_concurrent_streams_all_complete() {
        let h = server(config(5, &[]));
        let clients: Vec<_> = (0..50)
            .map(|k| {
                let mut c = Client::connect(&h);
                thread::spawn(move || {
                    let r = if k % 2 == 0 {
                        c.call("POST", OPENAI_PATH, &openai(json!({})))
                    } else {
                        c.call("POST", DIFY_PATH, &dify("q"))
                    };
                    r.complete && text_events(&r.data()) == 5
                })
            })
            .collect();
        assert!(clients.into_iter().all(|t| t.join().unwrap()));
        let t = h.truth_when_idle(Duration::from_secs(2));
        assert_eq!((t.requests, t.completed, t.text_events, t.itl_us.count()), (50, 50, 250, 200));
    }

    #[test]
    fn start_refuses_bad_config_and_shutdown_stops_listening() {
        let bad = start("127.0.0.1:0".parse().unwrap(), MockConfig { jitter: 1.5, ..config(1, &[]) });
        assert_eq!(bad.err().map(|e| e.kind()), Some(io::ErrorKind::InvalidInput));
        let mut zero_share = config(1, &[]);
        zero_share.faults.push(FaultRule { fault: Fault::Cut, share: 0.0 });
        assert!(start("127.0.0.1:0".parse().unwrap(), zero_share).is_err());
        let h = server(config(1, &[]));
        let addr = h.addr();
        h.shutdown();
        assert!(TcpStream::connect(addr).is_err());
    }
}
