//! Pacers: the few threads that send the timed events of every streaming response, so an event
//! costs the mock one `send` instead of a thread wake-up and two context switches. Each pacer
//! keeps its streams in a heap keyed by next deadline, writes whatever is due — one
//! non-blocking `send` per event, the truth instant taken as it returns — then sleeps until the
//! earliest deadline or a new stream. A client that stops reading delays only its own stream:
//! its unsent bytes wait and are retried every millisecond.
//!
//! It owns pacing and handing a finished stream back to the connection thread that waits for
//! it. What to write and when comes from `stream`; merging the record into the truth is the
//! connection thread's.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::io;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{self, AtomicUsize};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{self as channel, Receiver, SendError, Sender, TryRecvError};

use super::http::Next;
use super::os;
use super::slots::Pause;
use super::stream::{Chunk, Mark, Step, Stream};
use super::truth::Recorder;

/// How soon a stream whose socket buffer was full is tried again.
const RETRY: Duration = Duration::from_millis(1);

/// A finished stream's record, and what its connection does next.
type Finished = (Recorder, Next);

/// The pacer threads; streams are dealt round-robin.
pub(super) struct Pacers {
    lanes: Vec<Lane>,
    next: AtomicUsize,
    /// Streams whose client left run to their end unsent (`MockConfig::keep_decoding`).
    keep_decoding: bool,
}

/// One pacer's intake. A pacer sleeps with `thread::park_timeout` and is unparked when a stream
/// arrives: one futex call each way, where a channel's blocking receive spins and yields first.
struct Lane {
    jobs: Sender<Box<InFlight>>,
    pacer: JoinHandle<()>,
}

/// A stream in a pacer's hands.
struct InFlight {
    conn: Arc<TcpStream>,
    stream: Stream,
    rec: Recorder,
    /// Where the finished record goes: the connection thread waiting for it.
    done: Sender<Finished>,
    /// The write under way, and how many of its bytes have left.
    write: Chunk,
    sent: usize,
    /// When the (rest of the) write may go.
    due: Instant,
    /// Its client has gone; with `keep_decoding` the stream runs to its end unsent.
    left: bool,
    keep_decoding: bool,
}

impl Pacers {
    /// Starts `count` pacers (at least one), which send nothing during `pause`; dropping
    /// `Pacers` ends and joins them.
    pub(super) fn start(count: usize, pause: Option<Pause>, keep_decoding: bool) -> io::Result<Self> {
        // Built in place, so a failed spawn drops (and so stops) the pacers already started.
        let mut pacers = Pacers { lanes: Vec::new(), next: AtomicUsize::new(0), keep_decoding };
        for _ in 0..count.max(1) {
            let (jobs, arrivals) = channel::unbounded();
            let pacer =
                thread::Builder::new().name("mock-pacer".into()).spawn(move || run(&arrivals, pause))?;
            pacers.lanes.push(Lane { jobs, pacer });
        }
        Ok(pacers)
    }

    /// Sends `stream` on `conn` through the next pacer, recording into `rec`, and returns once
    /// it is over: its last byte sent, or the client gone.
    pub(super) fn pace(&self, conn: &Arc<TcpStream>, stream: Stream, rec: Recorder) -> Finished {
        let finished = self.hand_over(conn, stream, rec);
        // Only a pacer that panicked drops a job unanswered; the request still counts.
        finished.recv().unwrap_or_else(|_| (Recorder::new(Instant::now()), Next::Close))
    }

    /// Gives `stream` to the next pacer; its record arrives on the returned channel once it is
    /// over (at once when nothing is left to send or no pacer is left).
    fn hand_over(&self, conn: &Arc<TcpStream>, mut stream: Stream, rec: Recorder) -> Receiver<Finished> {
        let (done, finished) = channel::bounded(1);
        let write = match stream.next_step() {
            Step::Chunk(write) => write,
            Step::End(next) => {
                let _ = done.send((rec, next));
                return finished;
            }
        };
        let due = write.due.unwrap_or_else(Instant::now);
        let keep_decoding = self.keep_decoding;
        let job = Box::new(InFlight {
            conn: Arc::clone(conn),
            stream,
            rec,
            done,
            write,
            sent: 0,
            due,
            left: false,
            keep_decoding,
        });
        let lane = &self.lanes[self.next.fetch_add(1, atomic::Ordering::Relaxed) % self.lanes.len()];
        match lane.jobs.send(job) {
            Ok(()) => lane.pacer.thread().unpark(),
            Err(SendError(job)) => job.finish(Next::Close),
        }
        finished
    }
}

impl Drop for Pacers {
    /// Disconnects each pacer, wakes it to notice, and joins it. The connection threads are
    /// gone by then (they share `Pacers`), so no stream is left to send.
    fn drop(&mut self) {
        for Lane { jobs, pacer } in self.lanes.drain(..) {
            drop(jobs);
            pacer.thread().unpark();
            let _ = pacer.join();
        }
    }
}

/// One pacer: sends what is due, earliest first, then sleeps until the next deadline or until
/// unparked by an arrival. A write due during `pause` waits for its end.
fn run(arrivals: &Receiver<Box<InFlight>>, pause: Option<Pause>) {
    os::precise_timers();
    let mut heap = BinaryHeap::new();
    loop {
        loop {
            match arrivals.try_recv() {
                Ok(job) => heap.push(Reverse(Due::of(job))),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) if heap.is_empty() => return,
                Err(TryRecvError::Disconnected) => break,
            }
        }
        // Only what was due when the pass began, so arrivals are taken in between.
        let now = Instant::now();
        while heap.peek().is_some_and(|Reverse(first)| first.at <= now) {
            if let Some(job) = heap.pop().and_then(|Reverse(first)| first.job.drive(pause)) {
                heap.push(Reverse(Due::of(job)));
            }
        }
        match heap.peek() {
            Some(Reverse(first)) => {
                let now = Instant::now();
                if first.at > now {
                    thread::park_timeout(first.at - now);
                }
            }
            None => thread::park(),
        }
    }
}

impl InFlight {
    /// Sends the due write and the writes that follow it at once; the job comes back with its
    /// next deadline while it has more to send (the end of `pause`, while it lasts).
    fn drive(mut self: Box<Self>, pause: Option<Pause>) -> Option<Box<Self>> {
        loop {
            if let Some(until) = pause.and_then(|p| p.holds(Instant::now())) {
                self.due = until;
                return Some(self);
            }
            let sent = if self.left { Ok(Some(Instant::now())) } else { self.send() };
            let at = match sent {
                Ok(Some(at)) => at,
                Ok(None) => {
                    self.due = Instant::now() + RETRY;
                    return Some(self);
                }
                Err(_) => {
                    // The client left: a server that notices stops here; `--keep-decoding`
                    // generates the rest for nobody.
                    self.rec.left();
                    if !self.keep_decoding {
                        self.finish(Next::Close);
                        return None;
                    }
                    self.left = true;
                    Instant::now()
                }
            };
            match (self.write.mark, self.left) {
                (Mark::Text, true) => self.rec.unread(),
                (Mark::Text, false) => self.rec.text(at),
                (Mark::Completed, false) => self.rec.completed(at),
                _ => {}
            }
            match self.stream.next_step() {
                Step::Chunk(write) => {
                    let timed = write.due.is_some();
                    (self.due, self.write, self.sent) = (write.due.unwrap_or(at), write, 0);
                    if timed {
                        return Some(self);
                    }
                }
                Step::End(next) => {
                    let next = if self.left { Next::Close } else { next };
                    self.finish(next);
                    return None;
                }
            }
        }
    }

    /// Sends what is left of the write without blocking: the instant its last byte left, or
    /// `None` when the socket buffer is full.
    fn send(&mut self) -> io::Result<Option<Instant>> {
        while let Some(rest) = self.write.bytes.get(self.sent..).filter(|rest| !rest.is_empty()) {
            match os::send_now(&self.conn, rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Some(Instant::now()))
    }

    /// Hands the record back; the socket is let go first, so the connection thread is its
    /// only owner again when it wakes.
    fn finish(self: Box<Self>, next: Next) {
        let InFlight { conn, rec, done, .. } = *self;
        drop(conn);
        let _ = done.send((rec, next));
    }
}

/// A job ordered by its deadline alone, kept beside it so comparing touches no job.
struct Due {
    at: Instant,
    job: Box<InFlight>,
}

impl Due {
    fn of(job: Box<InFlight>) -> Self {
        Due { at: job.due, job }
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at.cmp(&other.at)
    }
}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Due {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::MockConfig;
    use crate::mock::respond::Plan;
    use crate::mock::shapes::{self, Route};
    use crate::mock::truth::Truth;
    use std::io::Read;
    use std::net::TcpListener;

    /// A connected pair: the side the mock writes to, and the client's side.
    fn pair() -> (Arc<TcpStream>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (Arc::new(server), client)
    }

    /// A Dify stream of `tokens` tokens, all due at once.
    fn stream(tokens: u64) -> Stream {
        let config = MockConfig { ttft: Duration::ZERO, itl: Duration::ZERO, ..MockConfig::default() };
        let (shape, _) = shapes::read(Route::Dify, &serde_json::Value::Null, 0);
        let plan = Plan { tokens, prompt_tokens: 0, cached_tokens: 0, finish_reason: "stop" };
        Stream::new(shape, plan, None, &config, 0, Instant::now(), false)
    }

    /// Hands `tokens` on `conn` to a pacer: `(completed, text events, next)` once it is over.
    fn hand_over(
        pacers: &Pacers,
        conn: &Arc<TcpStream>,
        tokens: u64,
    ) -> impl Fn(Duration) -> Option<(u64, u64, Next)> {
        let finished = pacers.hand_over(conn, stream(tokens), Recorder::new(Instant::now()));
        move |wait| {
            let (rec, next) = finished.recv_timeout(wait).ok()?;
            let mut t = Truth::default();
            rec.merge_into(&mut t);
            Some((t.completed, t.text_events, next))
        }
    }

    #[test]
    fn a_client_that_stops_reading_stalls_only_its_own_stream() {
        let pacers = Pacers::start(1, None, false).unwrap();
        let (full, full_client) = pair();
        // Fills the socket buffers, so the pacer's first write to it would block; the stream is
        // far too long to ever fit, however much room acknowledgements free.
        while os::send_now(&full, &[0; 1 << 16]).is_ok() {}
        let stalled = hand_over(&pacers, &full, 1_000_000);
        let (conn, mut client) = pair();
        let other = hand_over(&pacers, &conn, 3);
        assert_eq!(
            other(Duration::from_secs(10)),
            Some((1, 3, Next::KeepAlive)),
            "the other stream finished"
        );
        client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let (mut got, mut buf) = (Vec::new(), [0; 4096]);
        while !got.ends_with(b"0\r\n\r\n") {
            let n = client.read(&mut buf).unwrap();
            assert!(n > 0, "the stream ends with its terminating chunk");
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(stalled(Duration::ZERO), None, "the stalled stream is still held");
        drop(full_client);
        let gone = stalled(Duration::from_secs(10));
        assert!(matches!(gone, Some((0, _, Next::Close))), "a gone client ends its stream: {gone:?}");
    }
}
