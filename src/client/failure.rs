//! Every way a request can fail, as an `Outcome` whose message names the cause and the flag or
//! fix: ureq's errors, I/O errors mid-stream (ureq's timeout phase and rustls's certificate
//! errors found inside them), timeouts by phase, and non-2xx responses with the server's words.

use super::Timeouts;
use crate::measure::{ErrorKind, Outcome, TimeoutPhase};
use crate::protocol;
use std::io::Read;

/// At most this much of an error response body is read for its message.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// The message for a non-2xx response: the status, the server's own words, and what to check.
pub(super) fn http_error(status: u16, reader: impl Read) -> String {
    let body = read_snippet(reader);
    let server_says = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            let m = v.get("message").or_else(|| v.pointer("/error/message"));
            m.and_then(|m| m.as_str()).map(str::to_string)
        })
        .unwrap_or(body);
    let hint = match status {
        401 | 403 => " (check --api-key / --api-key-file)",
        404 => " (check --url and --api: the path may be wrong for this server)",
        429 => " (the server is rate limiting: lower --concurrency)",
        400 | 422 => " (the server rejected the request body: check --api, --model and --max-tokens)",
        _ => "",
    };
    format!("HTTP {status}: {}{hint}", protocol::snippet(&server_says))
}

pub(super) fn read_snippet(reader: impl Read) -> String {
    let mut bytes = Vec::new();
    let _ = reader.take(ERROR_BODY_LIMIT).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Maps a ureq error to an outcome; `streaming` says whether the headers had arrived, since
/// ureq's per-read limit fires both while waiting for headers (TTFB) and mid-stream (idle).
pub(super) fn failure(e: &ureq::Error, t: &Timeouts, streaming: bool) -> Outcome {
    use ureq::Error as E;
    let (kind, hint) = match e {
        E::Timeout(ureq::Timeout::PerRead) if !streaming => return timed_out(TimeoutPhase::Ttfb, t),
        E::Timeout(p) => return timed_out(phase(*p), t),
        E::HostNotFound => (ErrorKind::Connect, " (check the host name in --url/--host)"),
        E::ConnectionFailed => (ErrorKind::Connect, " (is the server running? check --url/--host/--port)"),
        E::Tls(_) | E::Rustls(_) | E::Pem(_) => (ErrorKind::Tls, ""),
        E::Io(io) => return io_failure(io, t),
        _ => (ErrorKind::Transport, ""),
    };
    Outcome::Failed { kind, message: format!("{e}{hint}") }
}

/// Maps an I/O error while reading the body to an outcome, finding ureq's timeout phase inside
/// it when there is one.
pub(super) fn io_failure(e: &std::io::Error, t: &Timeouts) -> Outcome {
    use std::io::ErrorKind as K;
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
        return failure(inner, t, true);
    }
    if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        let hint = match tls {
            rustls::Error::InvalidCertificate(_) => {
                " (a private CA? give its certificate with --ca-cert; --insecure skips the check)"
            }
            _ => "",
        };
        return Outcome::Failed { kind: ErrorKind::Tls, message: format!("TLS: {tls}{hint}") };
    }
    let (kind, hint) = match e.kind() {
        K::ConnectionRefused => (ErrorKind::Connect, " (is the server running? check --url/--host/--port)"),
        K::TimedOut | K::WouldBlock => return timed_out(TimeoutPhase::Idle, t),
        _ => (ErrorKind::Transport, ""),
    };
    Outcome::Failed { kind, message: format!("{e}{hint}") }
}

/// A timeout's outcome, naming the flag that set the limit.
pub(super) fn timed_out(phase: TimeoutPhase, t: &Timeouts) -> Outcome {
    let message = match phase {
        TimeoutPhase::Connect => format!("could not connect within --connect-timeout {:?}", t.connect),
        TimeoutPhase::Ttfb => format!(
            "no response headers within {:?} (--ttfb-timeout {:?}, bounded by --idle-timeout {:?})",
            t.ttfb.min(t.idle).min(t.total),
            t.ttfb,
            t.idle
        ),
        TimeoutPhase::Idle => format!("the stream sent no bytes for --idle-timeout {:?}", t.idle),
        TimeoutPhase::Total => format!("the request took longer than --timeout {:?}", t.total),
    };
    Outcome::Failed { kind: ErrorKind::Timeout(phase), message }
}

fn phase(t: ureq::Timeout) -> TimeoutPhase {
    use ureq::Timeout as T;
    match t {
        T::Resolve | T::Connect => TimeoutPhase::Connect,
        T::SendRequest | T::SendBody | T::RecvResponse | T::Await100 => TimeoutPhase::Ttfb,
        T::PerRead => TimeoutPhase::Idle,
        _ => TimeoutPhase::Total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn each_timeout_reports_its_own_kind_and_flag() {
        let t = Timeouts {
            total: Duration::from_secs(300),
            connect: Duration::from_secs(10),
            ttfb: Duration::from_secs(60),
            idle: Duration::from_secs(5),
        };
        let kind = |o: Outcome| match o {
            Outcome::Failed { kind, message } => (kind.name(), message),
            other => panic!("{other:?}"),
        };
        let (k, m) = kind(failure(&ureq::Error::Timeout(ureq::Timeout::Connect), &t, false));
        assert_eq!(
            (k.as_str(), m.as_str()),
            ("timeout_connect", "could not connect within --connect-timeout 10s")
        );
        // ureq's per-read limit before the headers is a TTFB timeout, bounded by the idle limit.
        let (k, m) = kind(failure(&ureq::Error::Timeout(ureq::Timeout::PerRead), &t, false));
        assert_eq!(k, "timeout_ttfb");
        assert_eq!(m, "no response headers within 5s (--ttfb-timeout 60s, bounded by --idle-timeout 5s)");
        let (k, _) = kind(failure(&ureq::Error::Timeout(ureq::Timeout::RecvResponse), &t, false));
        assert_eq!(k, "timeout_ttfb");
        let (k, m) = kind(failure(&ureq::Error::Timeout(ureq::Timeout::PerRead), &t, true));
        assert_eq!(
            (k.as_str(), m.as_str()),
            ("timeout_idle", "the stream sent no bytes for --idle-timeout 5s")
        );
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "read timed out");
        assert_eq!(kind(io_failure(&io, &t)).0, "timeout_idle");
    }

    #[test]
    fn http_errors_quote_the_server_and_hint_the_fix() {
        let body: &[u8] = br#"{"code":"unauthorized","message":"Access token is invalid","status":401}"#;
        assert_eq!(
            http_error(401, body),
            "HTTP 401: Access token is invalid (check --api-key / --api-key-file)"
        );
        let body: &[u8] = b"<html>oops</html>";
        assert_eq!(http_error(502, body), "HTTP 502: <html>oops</html>");
    }
}
