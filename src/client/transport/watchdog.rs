//! The read and write limits, kept by one thread instead of the kernel. A socket timeout
//! (`SO_RCVTIMEO`) arms and cancels a kernel timer on every blocking read, once per streamed
//! token on every connection; here a read or write only stores its deadline in its socket (an
//! atomic, no syscall), and the watchdog thread, waking every `TICK`, shuts down the socket of
//! any I/O still blocked past its deadline. The blocked call then returns, and the transport
//! reports ureq's timeout with the limit's reason, as the kernel's timeout did.

use super::Socket;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::thread;
use std::time::{Duration, Instant};

/// How often the watchdog looks: a limit fires up to this late. Scanning 10,000 connections
/// costs about 100 µs, so 1 % of a core at most.
pub(super) const TICK: Duration = Duration::from_millis(10);

/// A socket's deadline word: no I/O under a limit.
const IDLE: u64 = 0;
/// A socket's deadline word: the watchdog fired and shut the socket down.
const FIRED: u64 = u64::MAX;

/// The deadline of the socket's blocked I/O, as nanoseconds since `epoch()` (never `IDLE` or
/// `FIRED`), or one of those two.
#[derive(Debug, Default)]
pub(super) struct Deadline(AtomicU64);

impl Deadline {
    /// Puts the next I/O under `limit` from now; `None`: no limit.
    pub(super) fn arm(&self, limit: Option<Duration>) {
        let deadline = |l| Instant::now().checked_add(l).map_or(FIRED - 1, nanos);
        let word = limit.map_or(IDLE, |l| deadline(l).clamp(1, FIRED - 1));
        self.0.store(word, Ordering::Release);
    }

    /// Ends the I/O's watch; whether the watchdog had fired (the socket is then shut down).
    pub(super) fn disarm(&self) -> bool {
        self.0.swap(IDLE, Ordering::AcqRel) == FIRED
    }

    /// Fires if the deadline passed at `now`; whether this call fired it.
    fn fire_if_due(&self, now: u64) -> bool {
        let word = self.0.load(Ordering::Acquire);
        word != IDLE
            && word != FIRED
            && word <= now
            && self.0.compare_exchange(word, FIRED, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }
}

/// Every open connection's socket, for the watchdog to look at.
#[derive(Default)]
struct Watched {
    sockets: Mutex<Vec<Weak<Socket>>>,
    /// Wakes the watchdog when the first socket comes, so that it sleeps while there is none.
    added: Condvar,
}

fn watched() -> &'static Watched {
    static WATCHED: OnceLock<Watched> = OnceLock::new();
    WATCHED.get_or_init(|| {
        if let Err(e) = thread::Builder::new().name("watchdog".into()).stack_size(64 * 1024).spawn(watch) {
            // Without the thread no limit fires; every read still ends at the run's cut.
            eprintln!("warning: could not start the timeout watchdog thread ({e}): timeouts will not fire");
        }
        Watched::default()
    })
}

/// Puts a new connection's socket under watch (starting the watchdog with the first).
pub(super) fn watch_socket(socket: &Arc<Socket>) {
    let w = watched();
    w.sockets.lock().push(Arc::downgrade(socket));
    w.added.notify_one();
}

/// The watchdog: every `TICK`, forgets closed connections and shuts down each socket whose I/O
/// is past its deadline; sleeps while no connection is open.
fn watch() {
    let w = watched();
    loop {
        {
            let mut sockets = w.sockets.lock();
            if sockets.is_empty() {
                w.added.wait(&mut sockets);
            }
            let now = nanos(Instant::now());
            sockets.retain(|s| {
                let Some(socket) = s.upgrade() else { return false };
                if socket.deadline.fire_if_due(now) {
                    // Both sides: a write blocked on a full send buffer wakes too.
                    let _ = socket.stream.shutdown(std::net::Shutdown::Both);
                }
                true
            });
        }
        thread::sleep(TICK);
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
        let d = Deadline::default();
        assert!(!d.fire_if_due(u64::MAX - 1), "nothing armed");
        d.arm(Some(Duration::from_secs(3600)));
        assert!(!d.fire_if_due(nanos(Instant::now())), "not due");
        assert!(!d.disarm(), "disarmed before it fired");
        d.arm(Some(Duration::ZERO));
        assert!(d.fire_if_due(nanos(Instant::now() + Duration::from_millis(1))));
        assert!(!d.fire_if_due(FIRED - 1), "fires once");
        assert!(d.disarm(), "the I/O learns that it fired");
        assert!(!d.disarm());
        d.arm(None);
        assert!(!d.fire_if_due(FIRED - 1), "no limit never fires");
    }
}
