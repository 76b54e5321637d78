//! When and how long to wait before retrying a request: which outcomes are worth another attempt
//! (connect errors, 429, 5xx), jittered exponential backoff, and the server's `Retry-After`.
//! Pure: the client does the waiting (on the stop signal, so a deadline or Ctrl-C cuts it short).

use crate::measure::{ErrorKind, Outcome, TimeoutPhase};
use std::time::{Duration, SystemTime};

/// The first backoff; each further attempt doubles it.
const BASE: Duration = Duration::from_millis(200);
/// No computed backoff is longer than this.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A server's `Retry-After` is honoured up to this; a longer one would stall the worker.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// A request that failed before the server did any work on it, or that the server asked to
/// repeat. Timeouts after the headers and broken streams are not retried: the server did work.
pub fn retryable(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Failed { kind, .. } => matches!(
            kind,
            ErrorKind::Connect | ErrorKind::Timeout(TimeoutPhase::Connect) | ErrorKind::Http(429 | 500..=599)
        ),
        _ => false,
    }
}

/// How long to wait before attempt `attempt + 1` (`attempt` ≥ 1 attempts were made): the
/// server's `Retry-After` when it gave one (capped), else full-jitter exponential backoff,
/// a uniform draw from [backoff/2, backoff]; `unit` is that draw's position in [0, 1).
pub fn delay(attempt: u32, retry_after: Option<Duration>, unit: f64) -> Duration {
    if let Some(d) = retry_after {
        return d.min(MAX_RETRY_AFTER);
    }
    let backoff = BASE.saturating_mul(1 << attempt.saturating_sub(1).min(16)).min(MAX_BACKOFF);
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
    fn retry_after_in_seconds_or_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 1994-11-06 08:49:37 UTC
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
