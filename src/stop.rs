//! The run's stop signal: a "stop now" flag with a wakeable wait, a second flag that also ends
//! the requests in flight, and the guard that trips the first when a thread panics. It knows
//! nothing of what is stopped; the engine's timer trips and cuts it at the deadline or on an
//! interrupt, and workers and the client check it.

use crate::util::sys::latch::Latch;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// A shared "stop now" flag with a wakeable wait, in two steps: `trip` stops new requests and
/// wakes every `wait` at once; `cut` also ends the requests in flight (after an interrupt the
/// two are a grace period apart; at the deadline they come together).
///
/// The wait is a latch (`util::sys::latch`), entered only for a real wait: all workers pass
/// through `wait` as the start gate opens, and a channel's wait registers each of them in one
/// locked list, which at 1,000 workers on 2 busy cores held the last ones back for over a
/// second.
#[derive(Clone, Default)]
pub struct StopSignal {
    stopped: Arc<Latch>,
    cut: Arc<AtomicBool>,
    /// When the load stopped growing: the first worker done for lack of requests, the open
    /// loop's last arrival, or the trip, whichever came first (`load_ended`).
    load_end: Arc<OnceLock<Instant>>,
}

impl StopSignal {
    pub fn trip(&self) {
        self.load_ended();
        self.stopped.open(); // wakes every waiter
    }

    /// Trips the signal and ends the requests in flight: a request that has not read its end
    /// by now is cancelled, whatever it reads later.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.trip();
    }

    pub fn is_set(&self) -> bool {
        self.stopped.is_open()
    }

    /// Whether the requests in flight were cut (one relaxed load: cheap enough for every read).
    pub fn is_cut(&self) -> bool {
        self.cut.load(Ordering::Relaxed)
    }

    /// Says the load stops growing now: no more requests will start than are running (a worker
    /// found the request budget spent, the open loop sent its last arrival). The first call
    /// counts; `trip` calls it too.
    pub fn load_ended(&self) {
        let _ = self.load_end.set(Instant::now());
    }

    /// When the load first stopped growing (`load_ended`), if it has.
    pub fn load_ended_at(&self) -> Option<Instant> {
        self.load_end.get().copied()
    }

    /// Waits up to `d`; true if the signal was tripped.
    pub fn wait(&self, d: Duration) -> bool {
        self.stopped.wait_for(d)
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
    fn a_trip_stops_new_work_and_a_cut_also_ends_what_is_in_flight() {
        let stop = StopSignal::default();
        stop.trip();
        assert!(stop.is_set() && !stop.is_cut());
        let stop = StopSignal::default();
        let s = stop.clone();
        let h = thread::spawn(move || s.wait(Duration::from_secs(30)));
        stop.cut();
        assert!(h.join().unwrap());
        assert!(stop.is_set() && stop.is_cut());
    }

    #[test]
    fn wait_times_out_when_not_tripped() {
        let (stop, t) = (StopSignal::default(), Instant::now());
        assert!(!stop.wait(Duration::from_millis(20)));
        assert!(t.elapsed() >= Duration::from_millis(20), "not cut short by a spurious wake-up");
    }
}
