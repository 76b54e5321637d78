//! When and how long to wait before retrying a request: which outcomes are worth another attempt
//! (connect errors, 429, 5xx), jittered exponential backoff, and the server's `Retry-After`; and
//! how long a worker waits before its next request while the server cannot be reached. Pure: the
//! client and the engine do the waiting (on the stop signal, so a deadline or Ctrl-C cuts it short).

use crate::measure::{ErrorKind, Outcome, TimeoutPhase};
use std::time::{Duration, SystemTime};

/// The first backoff; each further attempt doubles it.
const BASE: Duration = Duration::from_millis(200);
/// No computed backoff is longer than this.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A server's `Retry-After` is honoured up to this; a longer one would stall the worker.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// A worker's first wait after a request that could not connect; each further one doubles it.
const CONNECT_BASE: Duration = Duration::from_millis(50);
/// No wait between requests that cannot connect is longer than this, so a server that comes
/// back is soon measured.
const CONNECT_MAX: Duration = Duration::from_secs(1);

/// A request that failed before the server did any work on it, or that the server asked to
/// repeat. Timeouts after the headers and broken streams are not retried: the server did work.
pub fn retryable(outcome: &Outcome) -> bool {
    connect_failed(outcome)
        || matches!(outcome, Outcome::Failed { kind: ErrorKind::Http(429 | 500..=599), .. })
}

/// A request that never reached the server: refused, not resolved, or not connected within
/// `--connect-timeout`.
pub fn connect_failed(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Failed { kind: ErrorKind::Connect | ErrorKind::Timeout(TimeoutPhase::Connect), .. }
    )
}

/// How long a worker waits before its next request after `failures` ≥ 1 requests in a row
/// could not connect: 50 ms doubling to 1 s, jittered as `delay` is. A refused connection
/// fails in microseconds; without this wait every worker would spin on it.
pub fn connect_backoff(failures: u32, unit: f64) -> Duration {
    jittered(CONNECT_BASE, CONNECT_MAX, failures, unit)
}

/// How long to wait before attempt `attempt + 1` (`attempt` ≥ 1 attempts were made): the
/// server's `Retry-After` when it gave one (capped), else full-jitter exponential backoff,
/// a uniform draw from [backoff/2, backoff]; `unit` is that draw's position in [0, 1).
pub fn delay(attempt: u32, retry_after: Option<Duration>, unit: f64) -> Duration {
    match retry_after {
        Some(d) => d.min(MAX_RETRY_AFTER),
        None => jittered(BASE, MAX_BACKOFF, attempt, unit),
    }
}

/// `base` doubled for each of `n` ≥ 1 steps after the first, capped at `max`, then a uniform
/// draw from [backoff/2, backoff] at `unit` in [0, 1): workers that failed together spread out.
fn jittered(base: Duration, max: Duration, n: u32, unit: f64) -> Duration {
    let backoff = base.saturating_mul(1 << n.saturating_sub(1).min(16)).min(max);
    backoff.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3); a date in the past is 0.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at: SystemTime = chrono::DateTime::parse_from_rfc2822(v).ok()?.into();
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(kind: ErrorKind) -> Outcome {
        Outcome::Failed { kind, message: String::new() }
    }

    #[test]
    fn only_connect_errors_429_and_5xx_are_retried() {
        for k in [ErrorKind::Connect, ErrorKind::Timeout(TimeoutPhase::Connect), ErrorKind::Http(429)] {
            assert!(retryable(&failed(k)), "{k:?}");
        }
        assert!(retryable(&failed(ErrorKind::Http(500))) && retryable(&failed(ErrorKind::Http(599))));
        for k in [
            ErrorKind::Http(400),
            ErrorKind::Http(401),
            ErrorKind::Timeout(TimeoutPhase::Idle),
            ErrorKind::Truncated,
            ErrorKind::StreamError,
            ErrorKind::Tls,
        ] {
            assert!(!retryable(&failed(k)), "{k:?}");
        }
        assert!(!retryable(&Outcome::Ok) && !retryable(&Outcome::Cancelled));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        assert_eq!(delay(1, None, 0.0), Duration::from_millis(100));
        assert_eq!(delay(1, None, 0.999_999), Duration::from_millis(200).mul_f64(0.999_999_5));
        assert_eq!(delay(3, None, 0.0), Duration::from_millis(400));
        assert_eq!(delay(40, None, 0.0), Duration::from_secs(5));
        assert_eq!(delay(2, Some(Duration::from_secs(3)), 0.5), Duration::from_secs(3));
        assert_eq!(delay(2, Some(Duration::from_secs(3600)), 0.5), MAX_RETRY_AFTER);
    }

    #[test]
    fn a_worker_that_cannot_connect_waits_longer_each_time_up_to_a_second() {
        let ms = |n, unit| connect_backoff(n, unit).as_millis();
        assert_eq!(
            [ms(1, 0.999_999), ms(2, 0.999_999), ms(3, 0.999_999), ms(5, 0.999_999)],
            [49, 99, 199, 799]
        );
        assert_eq!(
            [ms(1, 0.0), ms(2, 0.0), ms(6, 0.0), ms(7, 0.0), ms(u32::MAX, 0.0)],
            [25, 50, 500, 500, 500]
        );
        assert_eq!(connect_backoff(9, 1.5), Duration::from_secs(1), "the draw is clamped");
        assert!(connect_failed(&failed(ErrorKind::Connect)));
        assert!(connect_failed(&failed(ErrorKind::Timeout(TimeoutPhase::Connect))));
        for k in [
            ErrorKind::Tls,
            ErrorKind::Transport,
            ErrorKind::Http(503),
            ErrorKind::Timeout(TimeoutPhase::Ttfb),
        ] {
            assert!(!connect_failed(&failed(k)), "{k:?}");
        }
        assert!(!connect_failed(&Outcome::Ok) && !connect_failed(&Outcome::Cancelled));
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 1994-11-06 08:49:37 UTC
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
