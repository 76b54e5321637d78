//! `--metrics-listen`: the page of live metrics the reporter publishes once a second (and at the
//! run's start and end), the count of requests in flight the workers keep, and the thread that
//! serves the page on the endpoint `config` bound. The reporter still owns every statistic: it
//! renders `export::prometheus` text from its totals and swaps it in; the server only copies the
//! last page out, one connection at a time, and ends with the run (after `--metrics-linger`).
//! What it does not do: keep serving between runs, compress, or speak anything but `GET` and
//! `HEAD /metrics`.

use crate::config::{Config, MetricsEndpoint};
use crate::export::prometheus::{self, Live};
use crate::stats::RunStats;
use crate::summary::verdict::{Inputs, Model, judge};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Requests sent and not yet ended, of the run now going on (runs of one process follow each
/// other, so one count serves them all).
static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);

/// A request counted in flight while it lives (a panic included).
pub(super) struct InFlight;

impl InFlight {
    pub(super) fn enter() -> InFlight {
        IN_FLIGHT.fetch_add(1, Ordering::Relaxed);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The last page rendered, shared by the reporter (which writes it) and the server.
pub(super) type Page = Arc<parking_lot::Mutex<Arc<str>>>;

/// How long the server waits between looks for a connection or the end of the run.
const POLL: Duration = Duration::from_millis(50);
/// How long one scrape may take to send its request and read the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest request head read; a longer one is answered from what was read.
const MAX_HEAD: usize = 8 << 10;

/// What the reporter renders each page from besides its statistics.
pub(super) struct Publisher {
    page: Page,
    base: Live,
    model: Model,
}

impl Publisher {
    /// The run's publisher, with the page of a run that has not started yet already in place.
    pub(super) fn new(c: &Config, page: Page) -> Publisher {
        let base = Live {
            run_id: c.scale.run_id.clone(),
            shard: c.scale.shard.map(|s| s.to_string()).unwrap_or_default(),
            api: c.api.name().to_string(),
            url_host: prometheus::url_host(&c.client.url),
            version: env!("CARGO_PKG_VERSION").to_string(),
            ..Live::default()
        };
        let model = c.pacing.open.map_or(Model::Closed, |o| Model::Open { rate: o.rate });
        let p = Publisher { page, base, model };
        p.publish(&RunStats::default(), 0, Duration::ZERO);
        p
    }

    /// Renders the run so far (`total`, `workers` active, `elapsed` since its start) as the page.
    pub(super) fn publish(&self, total: &RunStats, workers: usize, elapsed: Duration) {
        let ms = |us: u64| us as f64 / 1000.0;
        let q = |h: &crate::stats::Histogram, p| h.quantile(p).map(ms);
        let secs = elapsed.as_secs_f64();
        // The findings of the client's own lags only: CPU and throttling are judged at the end.
        let verdict = judge(&Inputs {
            model: self.model,
            kernel_clock: total.kernel_clock(),
            read_lag_p99_ms: q(&total.read_lag, 0.99),
            itl_p50_ms: q(&total.itl, 0.5),
            ttft_p50_ms: q(&total.ttft, 0.5),
            start_lag_mean_ms: total.start_lag.distribution(0.001).map(|d| d.mean),
            start_lag_p99_ms: q(&total.start_lag, 0.99),
            wall_s: secs,
            window_s: secs,
            cpus: crate::util::sys::cpus(),
            ..Inputs::default()
        })
        .verdict;
        let live = Live {
            in_flight: IN_FLIGHT.load(Ordering::Relaxed),
            workers: workers as u64,
            verdict: Some(verdict.name()),
            ..Live::from_stats(&self.base, total)
        };
        let text: Arc<str> = prometheus::render(&live).into();
        *self.page.lock() = text;
    }
}

/// The serving thread of one run.
pub(super) struct Server {
    handle: JoinHandle<()>,
    /// Dropped to end the thread.
    stop: Sender<()>,
    linger: Duration,
}

impl Server {
    /// Serves `page` on `endpoint` from a thread `spawn` starts.
    pub(super) fn start(
        endpoint: Arc<MetricsEndpoint>,
        page: Page,
        spawn: impl FnOnce(Box<dyn FnOnce() + Send>) -> std::io::Result<JoinHandle<()>>,
    ) -> std::io::Result<Server> {
        let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
        let linger = endpoint.linger;
        let handle = spawn(Box::new(move || serve(&endpoint, &page, &stopped)))?;
        Ok(Server { handle, stop, linger })
    }

    /// Keeps serving the last page for `--metrics-linger` (cut short by an interrupt), then ends
    /// the thread and returns once it has.
    pub(super) fn finish(self, interrupts: &Receiver<()>) {
        if !self.linger.is_zero() {
            crossbeam_channel::select! {
                recv(crossbeam_channel::after(self.linger)) -> _ => (),
                recv(interrupts) -> _ => (),
            };
        }
        drop(self.stop);
        let _ = self.handle.join();
    }
}

/// Answers connections one at a time until `stopped` disconnects. A socket error ends nothing
/// but the connection it came on.
fn serve(endpoint: &MetricsEndpoint, page: &Page, stopped: &Receiver<()>) {
    let listener = &endpoint.listener;
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    loop {
        match listener.accept() {
            Ok((stream, _)) => answer(stream, page),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // Nothing waiting (or no file descriptor to take it with): look again soon.
            Err(_) => match stopped.recv_timeout(POLL) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => return,
            },
        }
        if matches!(stopped.try_recv(), Err(crossbeam_channel::TryRecvError::Disconnected)) {
            return;
        }
    }
}

/// Reads one request head and answers it: the page for `GET /metrics` (headers only for
/// `HEAD`), 404 for any other path, 400 for what is not an HTTP request line.
fn answer(mut stream: TcpStream, page: &Page) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while head.len() < MAX_HEAD
        && !head.windows(4).any(|w| w == b"\r\n\r\n")
        && !head.windows(2).any(|w| w == b"\n\n")
    {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let (status, content_type, body, send_body) = respond(&head, page);
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(reply.as_bytes());
    if send_body {
        let _ = stream.write_all(body.as_bytes());
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// The status, content type and body for a request `head`, and whether the body is sent.
fn respond(head: &[u8], page: &Page) -> (&'static str, &'static str, Arc<str>, bool) {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let (method, target, version) = (words.next(), words.next(), words.next());
    let text = "text/plain; charset=utf-8";
    match (method, target.map(|t| t.split('?').next().unwrap_or(t)), version) {
        (Some(m @ ("GET" | "HEAD")), Some("/metrics"), Some(v)) if v.starts_with("HTTP/") => {
            ("200 OK", prometheus::CONTENT_TYPE, page.lock().clone(), m == "GET")
        }
        (Some(m), Some(_), Some(v)) if v.starts_with("HTTP/") => {
            ("404 Not Found", text, "not found: llmload serves its metrics on /metrics\n".into(), m != "HEAD")
        }
        _ => ("400 Bad Request", text, "bad request\n".into(), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> Page {
        Arc::new(parking_lot::Mutex::new(text.into()))
    }

    #[test]
    fn answers_metrics_404_and_400_without_panicking() {
        let p = page("x 1\n");
        let (s, t, b, send) = respond(b"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", &p);
        assert_eq!((s, t, &*b, send), ("200 OK", prometheus::CONTENT_TYPE, "x 1\n", true));
        assert_eq!(respond(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n", &p).0, "200 OK");
        assert!(!respond(b"HEAD /metrics HTTP/1.1\r\n\r\n", &p).3, "HEAD: no body");
        assert_eq!(respond(b"GET / HTTP/1.1\r\n\r\n", &p).0, "404 Not Found");
        assert_eq!(respond(b"POST /metrics/x HTTP/1.1\r\n\r\n", &p).0, "404 Not Found");
        for bad in [&b""[..], b"\xff\xfe", b"GET", b"GET /metrics", b"GET /metrics FTP/1\r\n\r\n", b"\n\n\n"]
        {
            assert_eq!(respond(bad, &p).0, "400 Bad Request", "{bad:?}");
        }
    }
}
