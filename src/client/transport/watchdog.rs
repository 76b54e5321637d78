//! The read and write limits, kept by one thread instead of the kernel. A socket timeout
//! (`SO_RCVTIMEO`) arms and cancels a kernel timer on every blocking read, once per streamed
//! token on every connection; here a read or write only stores its deadline in its socket's
//! slot (an atomic, no syscall), and the watchdog thread, waking every `TICK`, shuts down the
//! socket of any I/O still blocked past its deadline. The blocked call then returns, and the
//! transport reports ureq's timeout with the limit's reason, as the kernel's timeout did.
//!
//! The same table lets the run's cut reach every connection at once (`cut_all`), in place of
//! ureq's shutdown handles, which its pool sweeps (every handle ever registered) on each request:
//! at 10,000 connections, 20,000 scattered loads a request under the pool's one lock.
//!
//! The deadlines sit side by side in chunks of `CHUNK` slots, so that the watchdog's scan reads
//! contiguous memory (10,000 connections: 80 KB, some microseconds a tick) and touches a
//! socket only to fire.

use super::Socket;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::thread;
use std::time::{Duration, Instant};

/// How often the watchdog looks: a limit fires up to this late.
pub(super) const TICK: Duration = Duration::from_millis(10);

/// Slots a chunk of deadlines holds.
const CHUNK: usize = 256;

/// A deadline word: no I/O under a limit.
const IDLE: u64 = 0;
/// A deadline word: the watchdog fired and shut the socket down.
const FIRED: u64 = u64::MAX;

type Chunk = [AtomicU64; CHUNK];

/// A connection's deadline: the I/O blocked on its socket must end by then. The word holds
/// nanoseconds since `epoch` (never `IDLE` or `FIRED`), or one of those two.
pub(super) struct Deadline {
    chunk: Arc<Chunk>,
    slot: usize,
}

impl Deadline {
    fn word(&self) -> &AtomicU64 {
        &self.chunk[self.slot % CHUNK]
    }

    /// Puts the next I/O under `limit` from now; `None`: no limit.
    pub(super) fn arm(&self, limit: Option<Duration>) {
        let deadline = |l| Instant::now().checked_add(l).map_or(FIRED - 1, nanos);
        self.word().store(limit.map_or(IDLE, |l| deadline(l).clamp(1, FIRED - 1)), Ordering::Release);
    }

    /// Ends the I/O's watch; whether the watchdog had fired (the socket is then shut down).
    pub(super) fn disarm(&self) -> bool {
        self.word().swap(IDLE, Ordering::AcqRel) == FIRED
    }
}

impl Drop for Deadline {
    /// Frees the slot for the next connection.
    fn drop(&mut self) {
        self.word().store(IDLE, Ordering::Release);
        watched().slots.lock().release(self.slot);
    }
}

/// Fires `word` if its deadline passed at `now`; whether this call fired it.
fn fire_if_due(word: &AtomicU64, now: u64) -> bool {
    let w = word.load(Ordering::Acquire);
    w != IDLE
        && w != FIRED
        && w <= now
        && word.compare_exchange(w, FIRED, Ordering::AcqRel, Ordering::Acquire).is_ok()
}

/// Every open connection's slot.
#[derive(Default)]
struct Slots {
    chunks: Vec<Arc<Chunk>>,
    /// By slot: the socket to shut down when its deadline passes.
    sockets: Vec<Weak<Socket>>,
    free: Vec<usize>,
}

impl Slots {
    /// A free slot (a new one, in a new chunk when the last is full), given to `socket`.
    fn take(&mut self, socket: Weak<Socket>) -> Deadline {
        let slot = self.free.pop().unwrap_or_else(|| {
            let slot = self.sockets.len();
            self.sockets.push(Weak::new());
            if slot % CHUNK == 0 {
                self.chunks.push(Arc::new(std::array::from_fn(|_| AtomicU64::new(IDLE))));
            }
            slot
        });
        self.sockets[slot] = socket;
        Deadline { chunk: self.chunks[slot / CHUNK].clone(), slot }
    }

    fn release(&mut self, slot: usize) {
        self.sockets[slot] = Weak::new();
        self.free.push(slot);
    }
}

#[derive(Default)]
struct Watched {
    slots: Mutex<Slots>,
    /// Wakes the watchdog when the first connection comes, so that it sleeps while there is none.
    added: Condvar,
}

fn watched() -> &'static Watched {
    static WATCHED: OnceLock<Watched> = OnceLock::new();
    WATCHED.get_or_init(|| {
        if let Err(e) = thread::Builder::new().name("watchdog".into()).stack_size(64 * 1024).spawn(watch_all)
        {
            // Without the thread no limit fires; every read still ends at the run's cut.
            eprintln!("warning: could not start the timeout watchdog thread ({e}): timeouts will not fire");
        }
        Watched::default()
    })
}

/// A slot for a new connection's socket (starting the watchdog with the first); `socket` is
/// what to shut down when a deadline passes.
pub(super) fn watch(socket: Weak<Socket>) -> Deadline {
    let w = watched();
    let deadline = w.slots.lock().take(socket);
    w.added.notify_one();
    deadline
}

/// The watchdog: every `TICK`, shuts down each socket whose I/O is past its deadline; sleeps
/// while no connection was ever opened.
fn watch_all() {
    let w = watched();
    let mut chunks = Vec::new();
    loop {
        {
            let mut slots = w.slots.lock();
            if slots.chunks.is_empty() {
                w.added.wait(&mut slots);
            }
            chunks.clone_from(&slots.chunks);
        }
        let now = nanos(Instant::now());
        for (c, chunk) in chunks.iter().enumerate() {
            for (i, word) in chunk.iter().enumerate() {
                if fire_if_due(word, now) {
                    let socket = w.slots.lock().sockets[c * CHUNK + i].upgrade();
                    // Both sides: a write blocked on a full send buffer wakes too.
                    if let Some(socket) = socket {
                        let _ = socket.stream.shutdown(std::net::Shutdown::Both);
                    }
                }
            }
        }
        thread::sleep(TICK);
    }
}

/// Shuts down the read side of every open connection: a read blocked on one returns at once,
/// with the end of the stream. The read side only: a full shutdown sends a FIN on every socket
/// from the one thread that stops the run (measured at 10,000 streams: 0.3 s against 0.6–5.9 s);
/// the FIN goes when each worker drops its connection. A write blocked on a full send buffer is
/// not woken; requests are small, and the write limit still bounds it.
pub(in crate::client) fn cut_all() {
    let sockets: Vec<Arc<Socket>> = watched().slots.lock().sockets.iter().filter_map(Weak::upgrade).collect();
    for socket in sockets {
        let _ = socket.stream.shutdown(std::net::Shutdown::Read);
    }
}

/// Nanoseconds from the process's first deadline to `t` (0 before it).
fn nanos(t: Instant) -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(t.saturating_duration_since(epoch).as_nanos()).unwrap_or(FIRED - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_fires_once_when_due_and_disarming_tells_it() {
        let d = watch(Weak::new());
        assert!(!fire_if_due(d.word(), FIRED - 1), "nothing armed");
        d.arm(Some(Duration::from_secs(3600)));
        assert!(!fire_if_due(d.word(), nanos(Instant::now())), "not due");
        assert!(!d.disarm(), "disarmed before it fired");
        d.arm(Some(Duration::ZERO));
        assert!(fire_if_due(d.word(), nanos(Instant::now() + Duration::from_millis(1))));
        assert!(!fire_if_due(d.word(), FIRED - 1), "fires once");
        assert!(d.disarm(), "the I/O learns that it fired");
        assert!(!d.disarm());
        d.arm(None);
        assert!(!fire_if_due(d.word(), FIRED - 1), "no limit never fires");
    }

    #[test]
    fn slots_are_reused_once_their_connection_is_gone_and_chunks_added_as_they_fill() {
        let mut slots = Slots::default();
        let taken: Vec<Deadline> = (0..CHUNK + 1).map(|_| slots.take(Weak::new())).collect();
        assert_eq!((slots.chunks.len(), taken[CHUNK].slot), (2, CHUNK));
        assert!(Arc::ptr_eq(&taken[0].chunk, &taken[CHUNK - 1].chunk));
        slots.release(7);
        let again = slots.take(Weak::new());
        assert_eq!((again.slot, slots.sockets.len()), (7, CHUNK + 1), "the freed slot is taken again");
        // Dropped, they would free their slots in the process's own table.
        std::mem::forget((taken, again));
    }
}
