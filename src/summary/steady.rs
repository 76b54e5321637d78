//! The steady state of a run: the part between the load reaching its level (the ramp-up's
//! end: the worker that brings the load to 95 % of `-c` due to start; an open loop's start) and
//! the load ceasing to grow (the first worker that found the request budget spent, the open
//! loop's last arrival, the deadline or an interrupt). Its throughput counts the successful
//! requests meant to start inside it, over its length (in a steady state requests start as fast
//! as they end), so the ramp-up, the first answers' fill and the drain no longer dilute it; its
//! latencies are those of the requests that ran wholly inside it. Beside the whole run's.

use crate::stats::{Distribution, Percentiles, RunStats};
use crate::util::decimals::{six, three};
use serde::Serialize;
use std::time::Duration;

/// The steady state as the engine found it.
#[derive(Debug, Clone, Default)]
pub struct SteadyRun {
    /// Its bounds, from the run's start.
    pub start: Duration,
    pub end: Duration,
    /// The requests that started at or after `start` and ended by `end`.
    pub stats: RunStats,
    /// Successful requests meant to start inside it, whenever they ended, and their output tokens.
    pub ok: u64,
    pub output_tokens: u64,
}

/// The shortest steady state reported: a second, and a tenth of the measured window.
const SHORTEST_S: f64 = 1.0;
const SHORTEST_SHARE: f64 = 0.1;

/// The summary's `steady_state`.
#[derive(Debug, Clone, Serialize)]
pub struct SteadyState {
    /// Its bounds, seconds from the run's start.
    #[serde(serialize_with = "six")]
    pub start_s: f64,
    #[serde(serialize_with = "six")]
    pub end_s: f64,
    #[serde(serialize_with = "six")]
    pub duration_s: f64,
    /// Successful requests meant to start inside it, a second.
    #[serde(serialize_with = "three")]
    pub requests_per_s: f64,
    /// Their output tokens, a second.
    #[serde(serialize_with = "three")]
    pub output_tokens_per_s: f64,
    /// Requests that ran wholly inside it (their latencies below), and of those, successful.
    pub requests: u64,
    pub ok: u64,
    pub ttft_ms: Option<Distribution>,
    pub itl_ms: Option<Distribution>,
    pub tpot_ms: Option<Distribution>,
    pub e2e_ms: Option<Distribution>,
}

impl SteadyState {
    /// The steady state of `run`, or `None` when it is shorter than a second or a tenth of the
    /// measured window `window_s` (a run too short to have one).
    pub fn of(run: &SteadyRun, window_s: f64, percentiles: &Percentiles) -> Option<SteadyState> {
        let (start_s, end_s) = (run.start.as_secs_f64(), run.end.as_secs_f64());
        let duration_s = end_s - start_s;
        if duration_s < SHORTEST_S.max(window_s * SHORTEST_SHARE) {
            return None;
        }
        let s = &run.stats;
        Some(SteadyState {
            start_s,
            end_s,
            duration_s,
            requests_per_s: run.ok as f64 / duration_s,
            output_tokens_per_s: run.output_tokens as f64 / duration_s,
            requests: s.total(),
            ok: s.ok,
            ttft_ms: s.ttft.distribution_at(0.001, percentiles),
            itl_ms: s.itl.distribution_at(0.001, percentiles),
            tpot_ms: s.tpot.distribution_at(0.001, percentiles),
            e2e_ms: s.e2e.distribution_at(0.001, percentiles),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_state_too_short_for_its_run_is_none() {
        let run = |start: f64, end: f64| SteadyRun {
            start: Duration::from_secs_f64(start),
            end: Duration::from_secs_f64(end),
            ok: 50,
            output_tokens: 5_000,
            ..SteadyRun::default()
        };
        let s = SteadyState::of(&run(2.0, 12.0), 14.0, &Percentiles::default()).unwrap();
        assert_eq!((s.duration_s, s.requests_per_s, s.output_tokens_per_s), (10.0, 5.0, 500.0));
        assert!(SteadyState::of(&run(2.0, 2.9), 3.0, &Percentiles::default()).is_none(), "under a second");
        assert!(
            SteadyState::of(&run(2.0, 7.0), 60.0, &Percentiles::default()).is_none(),
            "under a tenth of the window"
        );
    }
}
