//! The preflight: one ordinary request, sent before any worker starts, that tells a target the
//! load test cannot measure (nothing listening, a wrong host, TLS that fails, a key or path the
//! server refuses) from one it can (even one that answers 5xx, 429 or a broken stream: those are
//! what the load test is for). It reads only to the first text event, which proves the target
//! reachable, the key accepted and the protocol right, then closes the connection: a long answer
//! costs its time to first token, not its whole length. An interrupt ends it at once. It only
//! judges; `commands` decides what to print or stop.

use super::{Client, ClientSettings, Request};
use crate::measure::{ErrorKind, Outcome};
use crate::stop::StopSignal;
use crate::workload::Prompt;
use crossbeam_channel::{Receiver, select};
use std::sync::atomic::{AtomicBool, Ordering};

/// What the preflight request found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preflight {
    /// The request carried text.
    Passed,
    /// It failed in a way the load test should measure; the message says how.
    Noted(String),
    /// Every request would fail this way, so the load would measure nothing: stop, with the fix.
    Refused(String),
    /// An interrupt came before it ended: nothing was measured.
    Interrupted,
}

impl Client {
    /// Sends one request with `prompt` and `key`, as a worker would but with no retries, reads
    /// it to its first text event (or its end, or its failure), and judges the target by it. A
    /// message on `interrupts` cuts it at once. It goes through its own agent, so no connection
    /// it leaves open is counted in the run; it runs before any other connection is open (its
    /// cut reaches every socket of the process).
    pub fn preflight(
        settings: &ClientSettings,
        prompt: &Prompt,
        key: Option<&str>,
        interrupts: &Receiver<()>,
    ) -> Preflight {
        // The check is never abandoned on purpose (`--cancel` is for the load).
        let client = Client::new(ClientSettings { retries: 0, workers: 1, cancel: None, ..settings.clone() });
        let request = Request {
            worker: 0,
            prompt_index: 0,
            index: 0,
            prompt,
            key: key.map(|k| (0, k)),
            user: "llmload-preflight",
            conversation_id: None,
            turn: 1,
        };
        let (stop, interrupted) = (StopSignal::default(), AtomicBool::new(false));
        let (done, finished) = crossbeam_channel::bounded::<()>(0);
        let outcome = std::thread::scope(|scope| {
            let watch = std::thread::Builder::new().name("preflight".into()).stack_size(64 * 1024);
            // Without the thread, an interrupt waits for the request's own end.
            let _ = watch.spawn_scoped(scope, || {
                select! {
                    recv(interrupts) -> msg => if msg.is_ok() {
                        interrupted.store(true, Ordering::SeqCst);
                        stop.cut();
                        client.cut();
                    },
                    recv(finished) -> _ => {}
                }
            });
            let protocol = client.settings.protocol.clone();
            let mut text = false;
            let m = client.execute_observed(&request, &stop, &mut |event, _| {
                let carries_text = || {
                    protocol.interpret(event).is_ok_and(|d| !d.answer.is_empty() || !d.reasoning.is_empty())
                };
                if !text && carries_text() {
                    // Proven: stop reading, and wake the read that would wait for the next event.
                    text = true;
                    stop.cut();
                    client.cut();
                }
            });
            drop(done);
            m.outcome
        });
        if interrupted.load(Ordering::SeqCst) { Preflight::Interrupted } else { verdict(outcome) }
    }
}

/// A target that cannot be reached, speaks no TLS we accept, or refuses the key or the path,
/// fails every request the same way; anything else the load test measures.
fn verdict(outcome: Outcome) -> Preflight {
    match outcome {
        // Cancelled: cut at its first text event (an interrupt is told apart before this).
        Outcome::Ok | Outcome::Cancelled | Outcome::Abandoned => Preflight::Passed,
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
