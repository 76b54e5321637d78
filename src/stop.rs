//! The run's stop signal: one "stop now" flag with a wakeable wait, and the guard that trips it
//! when a thread panics. It knows nothing of what is stopped; the engine's timer trips it at the
//! deadline or on an interrupt, and workers and the client check it.

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// A shared "stop now" flag with a wakeable wait: tripping it wakes every `wait` at once.
#[derive(Clone)]
pub struct StopSignal {
    flag: Arc<AtomicBool>,
    wake: Arc<Mutex<Option<Sender<()>>>>,
    woken: Receiver<()>,
}

impl Default for StopSignal {
    fn default() -> Self {
        let (tx, rx) = crossbeam_channel::bounded(0);
        Self { flag: Arc::new(AtomicBool::new(false)), wake: Arc::new(Mutex::new(Some(tx))), woken: rx }
    }
}

impl StopSignal {
    pub fn trip(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.wake.lock().take(); // disconnecting wakes every waiter
    }

    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Waits up to `d`; true if the signal was tripped.
    pub fn wait(&self, d: Duration) -> bool {
        match self.woken.recv_timeout(d) {
            Err(RecvTimeoutError::Disconnected) => true,
            _ => self.is_set(),
        }
    }
}

/// Trips the stop signal if a worker panics, so a bug ends the run instead of hanging it.
pub struct PanicGuard(pub StopSignal);

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.trip();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trip_wakes_waiters_at_once() {
        let stop = StopSignal::default();
        let s = stop.clone();
        let h = thread::spawn(move || s.wait(Duration::from_secs(30)));
        stop.trip();
        assert!(h.join().unwrap());
        assert!(stop.is_set());
        assert!(stop.wait(Duration::from_secs(30)));
    }

    #[test]
    fn wait_times_out_when_not_tripped() {
        assert!(!StopSignal::default().wait(Duration::from_millis(1)));
    }
}
