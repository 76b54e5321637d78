//! A one-way latch that many threads wait on and one opens: the run's start gate and its stop
//! signal. On Linux the waiters sleep on a futex and `open` wakes every one of them with one
//! system call, without a lock: a condition variable makes each woken thread take its mutex
//! again, one after another, and a wake-up per thread leaves the waker behind the threads it
//! woke; with 1,000 workers on 2 busy cores either let the last ones go up to a second late.
//! Elsewhere a mutex and a condition variable.

use std::time::{Duration, Instant};

/// Closed until `open`; never closes again.
#[derive(Default)]
pub struct Latch {
    inner: imp::Latch,
}

impl Latch {
    pub fn is_open(&self) -> bool {
        self.inner.is_open()
    }

    /// Opens the latch and wakes every thread waiting on it.
    pub fn open(&self) {
        self.inner.open();
    }

    /// Waits until the latch opens.
    pub fn wait(&self) {
        while !self.inner.is_open() {
            self.inner.sleep(None);
        }
    }

    /// Waits until the latch opens or `limit` has passed; whether it is open.
    pub fn wait_for(&self, limit: Duration) -> bool {
        if limit.is_zero() {
            return self.is_open(); // one load: no clock read, no system call
        }
        let Some(deadline) = Instant::now().checked_add(limit) else {
            self.wait();
            return true;
        };
        while !self.inner.is_open() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.inner.sleep(Some(left));
        }
        true
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    #[derive(Default)]
    pub struct Latch(AtomicU32);

    impl Latch {
        pub fn is_open(&self) -> bool {
            self.0.load(Ordering::Acquire) == 1
        }

        pub fn open(&self) {
            self.0.store(1, Ordering::Release);
            // SAFETY: FUTEX_WAKE reads the word's address only; the word outlives the call.
            unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    self.0.as_ptr(),
                    libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                    i32::MAX,
                );
            }
        }

        /// Sleeps while the latch is closed, at most `limit`; returns early on a wake-up, a
        /// signal, or an open that came first (the kernel compares the word before sleeping).
        pub fn sleep(&self, limit: Option<Duration>) {
            let timeout = limit.map(|d| libc::timespec {
                tv_sec: d.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
                tv_nsec: d.subsec_nanos() as libc::c_long,
            });
            let timeout = timeout.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
            // SAFETY: FUTEX_WAIT reads the word and the timespec, both alive for the call.
            unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    self.0.as_ptr(),
                    libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                    0u32,
                    timeout,
                );
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::sync::{Condvar, Mutex, PoisonError};
    use std::time::Duration;

    #[derive(Default)]
    pub struct Latch {
        open: Mutex<bool>,
        opened: Condvar,
    }

    impl Latch {
        pub fn is_open(&self) -> bool {
            *self.open.lock().unwrap_or_else(PoisonError::into_inner)
        }

        pub fn open(&self) {
            *self.open.lock().unwrap_or_else(PoisonError::into_inner) = true;
            self.opened.notify_all();
        }

        pub fn sleep(&self, limit: Option<Duration>) {
            let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            match limit {
                Some(d) => drop(self.opened.wait_timeout_while(open, d, |o| !*o)),
                None => drop(self.opened.wait_while(open, |o| !*o)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn opening_lets_every_waiter_go_and_later_waits_pass_at_once() {
        let latch = Arc::new(Latch::default());
        let waiters: Vec<_> = (0..16)
            .map(|_| {
                let l = Arc::clone(&latch);
                std::thread::spawn(move || l.wait())
            })
            .collect();
        assert!(!latch.is_open());
        latch.open();
        for w in waiters {
            w.join().unwrap();
        }
        assert!(latch.is_open() && latch.wait_for(Duration::from_secs(60)));
        latch.wait();
    }

    #[test]
    fn a_timed_wait_on_a_closed_latch_lasts_its_time() {
        let (latch, t) = (Latch::default(), Instant::now());
        assert!(!latch.wait_for(Duration::from_millis(20)));
        assert!(t.elapsed() >= Duration::from_millis(20), "not cut short by an early wake-up");
        assert!(!latch.wait_for(Duration::ZERO));
    }

    #[test]
    fn an_open_wakes_a_timed_wait() {
        let latch = Arc::new(Latch::default());
        let l = Arc::clone(&latch);
        let waiter = std::thread::spawn(move || l.wait_for(Duration::from_secs(600)));
        latch.open();
        assert!(waiter.join().unwrap());
    }
}
