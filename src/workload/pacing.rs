//! When requests start and how many may be sent. Closed loop: each worker sends its next request
//! as soon as the previous one ends. Open loop (`--rate`): requests start on a schedule
//! (`schedule`), whatever the server does, on as many workers as are free, up to a cap. And which
//! requests only warm the server up. It does not sleep; the engine waits on the stop signal.

use super::schedule::OpenLoop;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How much work a run does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// Workers: closed loop, each sends one request after another; open loop, the most that
    /// may be in flight at once (`--max-concurrency`).
    pub concurrency: usize,
    pub ramp_up: Duration,
    pub duration: Option<Duration>,
    /// Total requests across workers; `None` with no duration means one request per worker (the seed).
    pub requests: Option<u64>,
    /// `--rate`: requests start on a schedule instead of one after another.
    pub open: Option<OpenLoop>,
    /// `--warmup`: the first requests are sent and recorded but kept out of every statistic.
    pub warmup: Option<Warmup>,
}

/// Which requests warm the server up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Warmup {
    /// Those meant to start within this long of the run's start.
    Time(Duration),
    /// The first this many.
    Requests(u64),
}

impl Warmup {
    /// Whether request `index` (0-based, in the order requests were taken), meant to start
    /// `offset` after the run's start, is a warm-up request.
    pub fn includes(&self, index: u64, offset: Duration) -> bool {
        match *self {
            Warmup::Time(d) => offset < d,
            Warmup::Requests(n) => index < n,
        }
    }
}

impl Pacing {
    /// Worker `i`'s start offset: starts spread evenly over the ramp-up, the first at 0. (Open
    /// loop: every worker is ready at 0, and the schedule ramps the rate.)
    pub fn start_offset(&self, worker: usize) -> Duration {
        if self.concurrency <= 1 || self.open.is_some() {
            return Duration::ZERO;
        }
        self.ramp_up.mul_f64(worker as f64 / self.concurrency as f64)
    }

    /// Where the steady state can begin, from the run's start: closed loop, when the worker
    /// that brings the load to 95 % of `concurrency` is due to start (the ramp-up's end, near
    /// enough); open loop, at once; in both, not before a `--warmup` time ends.
    pub fn plateau_start(&self) -> Duration {
        let workers = self.concurrency.max(1);
        let load = (workers * 95).div_ceil(100).max(1);
        let warmup = match self.warmup {
            Some(Warmup::Time(d)) => d,
            _ => Duration::ZERO,
        };
        self.start_offset(load - 1).max(warmup)
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
    /// The index (0-based) of one more request the caller may send, if any is left.
    pub fn take(&self) -> Option<u64> {
        let index = self.taken.fetch_add(1, Ordering::Relaxed);
        self.limit.is_none_or(|limit| index < limit).then_some(index)
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
            open: None,
            warmup: None,
        }
    }

    #[test]
    fn ramp_up_spreads_starts_evenly() {
        let p = pacing(4, 8, None, None);
        let got: Vec<u64> = (0..4).map(|i| p.start_offset(i).as_secs()).collect();
        assert_eq!(got, [0, 2, 4, 6]);
    }

    #[test]
    fn warm_up_by_time_or_count() {
        let by_time = Warmup::Time(Duration::from_secs(2));
        assert!(
            by_time.includes(99, Duration::from_millis(1999)) && !by_time.includes(0, Duration::from_secs(2))
        );
        let by_count = Warmup::Requests(3);
        assert!(by_count.includes(2, Duration::from_secs(60)) && !by_count.includes(3, Duration::ZERO));
    }

    #[test]
    fn budgets_count_exactly() {
        let b = pacing(3, 0, None, Some(5)).budget();
        assert_eq!((0..10).filter_map(|_| b.take()).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        let b = pacing(3, 0, Some(1), None).budget();
        assert_eq!((0..1000).filter_map(|_| b.take()).count(), 1000);
        assert_eq!(pacing(3, 0, None, None).per_worker_limit(), Some(1));
        assert_eq!(pacing(3, 0, Some(1), None).per_worker_limit(), None);
        assert_eq!(pacing(3, 0, None, Some(9)).per_worker_limit(), None);
    }
}
