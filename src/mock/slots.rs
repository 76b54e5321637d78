//! Capacity (`--slots N`) and the global pause (`--stall-at`, `--stall-for`): how many streams
//! may generate at once, the FIFO queue the others wait in, and the window in which no stream
//! sends an event. It decides who may go and when; it does not write, pace or record (a waiting
//! request's wait shows in the truth because its record starts when the request was read).

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Instant;

/// At most `limit` holders at once, admitted in arrival order (a ticket lock): request `t` goes
/// when fewer than `limit` of the ones before it still hold a slot.
pub(super) struct Slots {
    limit: Option<u64>,
    /// (tickets handed out, tickets admitted so far + free slots): ticket `t` may go once
    /// `t < admitted`.
    state: Mutex<(u64, u64)>,
    freed: Condvar,
}

/// A held slot, given back when dropped.
pub(super) struct Slot<'a> {
    slots: Option<&'a Slots>,
    /// When it was taken; `None` without a limit (nothing was waited for).
    pub at: Option<Instant>,
}

impl Slots {
    /// `None`: no limit.
    pub(super) fn new(limit: Option<usize>) -> Slots {
        let limit = limit.map(|n| n as u64);
        Slots { limit, state: Mutex::new((0, limit.unwrap_or(0))), freed: Condvar::new() }
    }

    /// Waits for a slot, behind every request that asked before.
    pub(super) fn take(&self) -> Slot<'_> {
        if self.limit.is_none() {
            return Slot { slots: None, at: None };
        }
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let ticket = s.0;
        s.0 += 1;
        let _held = self.freed.wait_while(s, |s| ticket >= s.1).unwrap_or_else(PoisonError::into_inner);
        Slot { slots: Some(self), at: Some(Instant::now()) }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Some(slots) = self.slots {
            slots.state.lock().unwrap_or_else(PoisonError::into_inner).1 += 1;
            slots.freed.notify_all();
        }
    }
}

/// The window in which no stream sends an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pause {
    pub from: Instant,
    pub until: Instant,
}

impl Pause {
    /// When a send at `now` may go instead: the pause's end while it lasts, else `None`.
    pub(super) fn holds(&self, now: Instant) -> Option<Instant> {
        (now >= self.from && now < self.until).then_some(self.until)
    }

    /// Sleeps out the pause if `now` falls in it.
    pub(super) fn wait_out(pause: Option<Pause>) {
        let now = Instant::now();
        if let Some(until) = pause.and_then(|p| p.holds(now)) {
            std::thread::sleep(until - now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn slots_admit_in_arrival_order() {
        let slots = Arc::new(Slots::new(Some(2)));
        let (a, b) = (slots.take(), slots.take());
        let (admitted, order) = mpsc::channel();
        let mut waiters = Vec::new();
        for i in 0..3 {
            let (mine, admitted) = (Arc::clone(&slots), admitted.clone());
            let (release, released) = mpsc::channel::<()>();
            let waiter = std::thread::spawn(move || {
                let _slot = mine.take();
                admitted.send(i).unwrap();
                let _ = released.recv();
            });
            waiters.push((release, waiter));
            // Each waiter has its ticket before the next one asks.
            while slots.state.lock().unwrap().0 < 3 + i as u64 {
                std::thread::yield_now();
            }
        }
        let next = || order.recv_timeout(Duration::from_secs(10)).ok();
        let none_yet = || order.recv_timeout(Duration::from_millis(30)).is_err();
        assert!(none_yet(), "both slots are held");
        drop(a);
        assert_eq!(next(), Some(0));
        assert!(none_yet(), "one slot freed, one admitted");
        drop(b);
        assert_eq!(next(), Some(1));
        waiters[0].0.send(()).unwrap();
        assert_eq!(next(), Some(2), "first come, first served");
        for (release, waiter) in waiters {
            let _ = release.send(());
            waiter.join().unwrap();
        }
        // No limit: nobody waits.
        let free = Slots::new(None);
        let held: Vec<Slot<'_>> = (0..100).map(|_| free.take()).collect();
        assert_eq!(held.len(), 100);
    }

    #[test]
    fn a_pause_holds_sends_inside_it_only() {
        let from = Instant::now() + Duration::from_secs(10);
        let p = Pause { from, until: from + Duration::from_secs(1) };
        assert_eq!(p.holds(from - Duration::from_millis(1)), None);
        assert_eq!(p.holds(from), Some(p.until));
        assert_eq!(p.holds(from + Duration::from_millis(999)), Some(p.until));
        assert_eq!(p.holds(p.until), None);
    }
}
