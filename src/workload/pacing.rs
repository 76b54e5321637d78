//! When workers start and how many requests they may send. Closed loop: each worker sends its next
//! request as soon as the previous one ends. It does not sleep; the engine waits on the stop signal.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How much work a run does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    pub concurrency: usize,
    pub ramp_up: Duration,
    pub duration: Option<Duration>,
    /// Total requests across workers; `None` with no duration means one request per worker (the seed).
    pub requests: Option<u64>,
}

impl Pacing {
    /// Worker `i`'s start offset: starts spread evenly over the ramp-up, the first at 0.
    pub fn start_offset(&self, worker: usize) -> Duration {
        if self.concurrency <= 1 {
            return Duration::ZERO;
        }
        self.ramp_up.mul_f64(worker as f64 / self.concurrency as f64)
    }

    /// The request budget all workers share (`--requests`).
    pub fn budget(&self) -> RequestBudget {
        RequestBudget { limit: self.requests, taken: AtomicU64::new(0) }
    }

    /// Requests each worker may send on its own: one when neither a duration nor a request
    /// count is given, as in the seed tool, where every thread sent one request.
    pub fn per_worker_limit(&self) -> Option<u64> {
        (self.requests.is_none() && self.duration.is_none()).then_some(1)
    }
}

/// A count of requests that workers draw from; each draw is one request they may send.
#[derive(Debug)]
pub struct RequestBudget {
    limit: Option<u64>,
    taken: AtomicU64,
}

impl RequestBudget {
    /// True if the caller may send one more request.
    pub fn take(&self) -> bool {
        match self.limit {
            None => true,
            Some(limit) => self.taken.fetch_add(1, Ordering::Relaxed) < limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pacing(c: usize, ramp_s: u64, d: Option<u64>, n: Option<u64>) -> Pacing {
        Pacing {
            concurrency: c,
            ramp_up: Duration::from_secs(ramp_s),
            duration: d.map(Duration::from_secs),
            requests: n,
        }
    }

    #[test]
    fn ramp_up_spreads_starts_evenly() {
        let p = pacing(4, 8, None, None);
        let got: Vec<u64> = (0..4).map(|i| p.start_offset(i).as_secs()).collect();
        assert_eq!(got, [0, 2, 4, 6]);
    }

    #[test]
    fn budgets_count_exactly() {
        let b = pacing(3, 0, None, Some(5)).budget();
        assert_eq!((0..10).filter(|_| b.take()).count(), 5);
        let b = pacing(3, 0, Some(1), None).budget();
        assert_eq!((0..1000).filter(|_| b.take()).count(), 1000);
        assert_eq!(pacing(3, 0, None, None).per_worker_limit(), Some(1));
        assert_eq!(pacing(3, 0, Some(1), None).per_worker_limit(), None);
        assert_eq!(pacing(3, 0, None, Some(9)).per_worker_limit(), None);
    }
}
