//! The embedded mock LLM server: a user feature (`llmload mock`, `llmload demo`) and the
//! project's measuring instrument. It streams Dify and OpenAI-compatible responses on a scripted
//! schedule, injects faults on request, and records the truth of what it sent — when each event
//! left — so a client's TTFT/ITL can be checked against it.
//!
//! This file owns the public API, the accept loop (one small-stack thread per connection, for
//! thousands of concurrent streams), the keep-alive connection loop and routing. It does not
//! parse HTTP (`http`), time or word responses (`script`), shape events (`shapes`), pick faults
//! (`faults`) or write API responses (`respond`). No async runtime: `std::net` and threads.

mod faults;
mod http;
mod respond;
mod script;
mod shapes;
mod truth;

pub use faults::{Fault, FaultRule};
pub use script::Lang;
pub use truth::Truth;

use std::io::{self, BufReader, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use http::{JSON, Next, Request, TEXT};
use respond::Reply;
use shapes::Api;
use truth::Recorder;

/// Connection threads only parse small JSON and format events; 128 KiB lets thousands run.
const CONN_STACK: usize = 128 * 1024;

/// How long a closing connection drains unread request bytes, so the client gets the reply
/// rather than a reset.
const LINGER: Duration = Duration::from_millis(250);

const DIFY_PATH: &str = "/v1/chat-messages";
const OPENAI_PATH: &str = "/v1/chat/completions";

/// How the mock answers: timing, length, language and faults.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Request read → first text event.
    pub ttft: Duration,
    /// Between consecutive text events.
    pub itl: Duration,
    /// Tokens per response, capped by the request's `max_tokens` / `max_completion_tokens`.
    pub tokens: u32,
    /// Uniform ± fraction (0.0..=1.0) applied to the TTFT and every ITL.
    pub jitter: f64,
    pub lang: Lang,
    /// Tried in order for each API request; the first rule that hits wins.
    pub faults: Vec<FaultRule>,
}

impl Default for MockConfig {
    /// Chinese by default: multi-byte text is the case clients most often get wrong.
    fn default() -> Self {
        MockConfig {
            ttft: Duration::from_millis(100),
            itl: Duration::from_millis(10),
            tokens: 64,
            jitter: 0.0,
            lang: Lang::Zh,
            faults: Vec::new(),
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
    stop: AtomicBool,
}

impl MockHandle {
    /// The bound address (with the real port when bound to port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the truth so far.
    pub fn truth(&self) -> Truth {
        self.shared.truth()
    }

    /// Stops accepting and joins the accept thread; connection threads end when their clients
    /// close.
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
pub fn start(bind: SocketAddr, config: MockConfig) -> io::Result<MockHandle> {
    validate(&config)?;
    let listener = TcpListener::bind(bind)?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        config,
        seq: AtomicU64::new(0),
        truth: Mutex::new(Truth::default()),
        stop: AtomicBool::new(false),
    });
    let accept = thread::Builder::new()
        .name("mock-accept".into())
        .spawn({
            let shared = Arc::clone(&shared);
            move || accept_loop(&listener, &shared)
        })?;
    Ok(MockHandle {
        addr,
        shared,
        accept: Some(accept),
    })
}

/// The fields are public, so values the parsers would refuse can still arrive here.
fn validate(config: &MockConfig) -> io::Result<()> {
    let invalid = |msg: String| Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
    if !(0.0..=1.0).contains(&config.jitter) {
        return invalid(format!("mock jitter {} is outside 0..=1", config.jitter));
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
        .spawn(move || serve(&stream, &shared));
}

/// Answers requests on one connection until either side closes it.
fn serve(stream: &TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream);
    let mut writer = stream;
    loop {
        let next = match http::read_request(&mut reader, &mut writer) {
            Ok(Some(req)) => shared.route(&req, Instant::now(), &mut writer),
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
        if next == Next::Close {
            return close_gracefully(stream);
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
    fn truth(&self) -> Truth {
        self.truth
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `received`: the instant the whole request (head and body) had been read.
    fn route(&self, req: &Request, received: Instant, w: &mut &TcpStream) -> Next {
        let plain = |w: &mut &TcpStream, status, content_type, body: &[u8]| {
            let out = http::response(status, content_type, body, req.close, &[]);
            match io::Write::write_all(w, &out) {
                Ok(()) => Next::after(req.close),
                Err(_) => Next::Close,
            }
        };
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", DIFY_PATH) => self.api(Api::Dify, req, received, w),
            ("POST", OPENAI_PATH) => self.api(Api::OpenAi, req, received, w),
            ("GET", "/mock/stats") => plain(w, 200, JSON, self.truth().to_json().to_string().as_bytes()),
            ("GET", "/health") => plain(w, 200, TEXT, b"ok"),
            _ => plain(w, 404, JSON, not_found(req).as_bytes()),
        }
    }

    /// An API request: numbered, answered, and merged into the truth once, whatever happened.
    fn api(&self, api: Api, req: &Request, received: Instant, w: &mut &TcpStream) -> Next {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut rec = Recorder::new(received);
        let next = Reply::new(w, &mut rec, &self.config, n, received, req.close).run(api, &req.body);
        *self.truth.lock().unwrap_or_else(PoisonError::into_inner) += &rec.into_truth();
        next
    }
}

fn not_found(req: &Request) -> String {
    serde_json::json!({
        "error": format!("no route for {} {}", req.method, req.path),
        "paths": [
            format!("POST {DIFY_PATH}"),
            format!("POST {OPENAI_PATH}"),
            "GET /mock/stats",
            "GET /health",
        ],
    })
    .to_string()
}
