//! The preflight: one ordinary request, sent before any worker starts, that tells a target the
//! load test cannot measure (nothing listening, a wrong host, TLS that fails, a key or path the
//! server refuses) from one it can (even one that answers 5xx, 429 or a broken stream: those are
//! what the load test is for). It only judges; `commands` decides what to print or stop.

use super::{Client, ClientSettings, Request};
use crate::measure::{ErrorKind, Outcome};
use crate::stop::StopSignal;
use crate::workload::Prompt;

/// What the preflight request found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preflight {
    /// The request succeeded.
    Passed,
    /// It failed in a way the load test should measure; the message says how.
    Noted(String),
    /// Every request would fail this way, so the load would measure nothing: stop, with the fix.
    Refused(String),
}

impl Client {
    /// Sends one request with `prompt` and `key`, as a worker would but with no retries, and
    /// judges the target by it. It goes through its own agent, so no connection it leaves open
    /// is counted in the run.
    pub fn preflight(settings: &ClientSettings, prompt: &Prompt, key: Option<&str>) -> Preflight {
        let client = Client::new(ClientSettings { retries: 0, workers: 1, ..settings.clone() });
        let request = Request {
            worker: 0,
            prompt_index: 0,
            prompt,
            key: key.map(|k| (0, k)),
            user: "llmload-preflight",
            conversation_id: None,
            turn: 1,
        };
        verdict(client.execute(&request, &StopSignal::default()).outcome)
    }
}

/// A target that cannot be reached, speaks no TLS we accept, or refuses the key or the path,
/// fails every request the same way; anything else the load test measures.
fn verdict(outcome: Outcome) -> Preflight {
    match outcome {
        // Nothing trips its stop signal, so it is never cancelled.
        Outcome::Ok | Outcome::Cancelled => Preflight::Passed,
        Outcome::Failed {
            kind: ErrorKind::Connect | ErrorKind::Tls | ErrorKind::Http(401 | 403 | 404),
            message,
        } => Preflight::Refused(message),
        Outcome::Failed { kind, message } => Preflight::Noted(format!("{}: {message}", kind.name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::TimeoutPhase;

    fn failed(kind: ErrorKind) -> Outcome {
        Outcome::Failed { kind, message: "m".into() }
    }

    #[test]
    fn only_failures_every_request_would_share_stop_the_run() {
        assert_eq!(verdict(Outcome::Ok), Preflight::Passed);
        for k in [
            ErrorKind::Connect,
            ErrorKind::Tls,
            ErrorKind::Http(401),
            ErrorKind::Http(403),
            ErrorKind::Http(404),
        ] {
            assert_eq!(verdict(failed(k)), Preflight::Refused("m".into()), "{k:?}");
        }
        assert_eq!(verdict(failed(ErrorKind::Http(503))), Preflight::Noted("http_503: m".into()));
        for k in [
            ErrorKind::Http(429),
            ErrorKind::Http(400),
            ErrorKind::Timeout(TimeoutPhase::Connect),
            ErrorKind::Timeout(TimeoutPhase::Ttfb),
            ErrorKind::StreamError,
            ErrorKind::Truncated,
            ErrorKind::Transport,
            ErrorKind::NotSse,
        ] {
            assert!(matches!(verdict(failed(k)), Preflight::Noted(_)), "{k:?}");
        }
    }
}
