//! Every way a request can fail, as an `Outcome` whose message names the cause and the flag or
//! fix: ureq's errors, I/O errors mid-stream (ureq's timeout phase and rustls's errors found
//! inside them), timeouts by phase, and non-2xx responses with the server's words, on one line
//! (an HTML page as its text).

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
    format!("HTTP {status}: {}{hint}", one_line(&server_says))
}

/// A response body as message text: one line, an HTML page's text without its tags, scripts
/// and styles (a gateway's error page), cut short.
pub(super) fn one_line(body: &str) -> String {
    let t = body.trim_start();
    let html = t.starts_with('<') && t.get(..200).unwrap_or(t).to_ascii_lowercase().contains("html");
    let text = if html { html_text(t) } else { body.to_string() };
    protocol::snippet(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The text of an HTML page: tags become spaces, `<script>` and `<style>` are dropped whole.
fn html_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        let tag = &rest[open..];
        let name: String =
            tag[1..].chars().take_while(char::is_ascii_alphabetic).collect::<String>().to_ascii_lowercase();
        let end = match name.as_str() {
            "script" | "style" => tag.to_ascii_lowercase().find(&format!("</{name}")).unwrap_or(tag.len()),
            _ => 0,
        };
        rest = tag[end..].find('>').map_or("", |close| &tag[end + close + 1..]);
    }
    text.push_str(rest);
    text
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
        E::Rustls(tls) => return tls_failure(tls),
        E::Tls(_) | E::Pem(_) => (ErrorKind::Tls, ""),
        E::Io(io) => return io_failure(io, t),
        E::LargeResponseHeader(..) => (
            ErrorKind::Transport,
            " (llmload reads response heads up to 16 KiB, more than a proxy such as nginx passes by default: is something in front of the server adding headers?)",
        ),
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
        return tls_failure(tls);
    }
    let (kind, hint) = match e.kind() {
        K::ConnectionRefused => (ErrorKind::Connect, " (is the server running? check --url/--host/--port)"),
        K::TimedOut | K::WouldBlock => return timed_out(TimeoutPhase::Idle, t),
        _ => (ErrorKind::Transport, ""),
    };
    Outcome::Failed { kind, message: format!("{e}{hint}") }
}

/// A TLS failure, with the fix for the two that users cause.
fn tls_failure(e: &rustls::Error) -> Outcome {
    use rustls::{Error as T, InvalidMessage};
    let hint = match e {
        T::InvalidCertificate(_) => {
            " (a private CA? give its certificate with --ca-cert; --insecure skips the check)"
        }
        // The server answered the handshake in plain text (`HTTP/1.1 400…`).
        T::InvalidMessage(InvalidMessage::InvalidContentType) => {
            " (is this server plain http://? use an http:// URL)"
        }
        _ => "",
    };
    Outcome::Failed { kind: ErrorKind::Tls, message: format!("TLS: {e}{hint}") }
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
    fn a_response_head_over_the_buffer_says_how_large_it_may_be() {
        let t = Timeouts {
            total: Duration::from_secs(300),
            connect: Duration::from_secs(10),
            ttfb: Duration::from_secs(60),
            idle: Duration::from_secs(60),
        };
        let big = ureq::Error::LargeResponseHeader(20_000, super::super::agent::INPUT_BUFFER);
        match failure(&big, &t, false) {
            Outcome::Failed { kind: ErrorKind::Transport, message } => {
                assert!(message.ends_with("(llmload reads response heads up to 16 KiB, more than a proxy such as nginx passes by default: is something in front of the server adding headers?)"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn http_errors_quote_the_server_and_hint_the_fix() {
        let body: &[u8] = br#"{"code":"unauthorized","message":"Access token is invalid","status":401}"#;
        assert_eq!(
            http_error(401, body),
            "HTTP 401: Access token is invalid (check --api-key / --api-key-file)"
        );
        let body: &[u8] = b"<html>oops</html>";
        assert_eq!(http_error(502, body), "HTTP 502: oops");
    }

    #[test]
    fn an_html_page_becomes_one_line_of_its_text() {
        let nginx = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                     <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
                     </body>\r\n</html>\r\n";
        assert_eq!(http_error(502, nginx.as_bytes()), "HTTP 502: 502 Bad Gateway 502 Bad Gateway nginx");
        let styled = "<!DOCTYPE html>\n<HTML><head><STYLE>body { color: red }\n</STYLE>\
                      <script>if (a < b) {}</script></head><body><p>Error\n  1033</p></body></html>";
        assert_eq!(one_line(styled), "Error 1033");
        let long = format!("<html><body>{}</body></html>", "word ".repeat(100));
        assert_eq!(one_line(&long).chars().count(), 121, "cut at 120 characters and …");
        assert_eq!(one_line("<html><p>unclosed"), "unclosed");
        assert_eq!(one_line("Traceback:\n  line 1\n\tboom"), "Traceback: line 1 boom");
        assert_eq!(one_line("a < b but not html"), "a < b but not html");
    }

    #[test]
    fn tls_to_a_plain_http_port_says_to_use_http() {
        let e = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        let t = Timeouts {
            total: Duration::from_secs(1),
            connect: Duration::from_secs(1),
            ttfb: Duration::from_secs(1),
            idle: Duration::from_secs(1),
        };
        let want = Outcome::Failed {
            kind: ErrorKind::Tls,
            message: "TLS: received corrupt message of type InvalidContentType (is this server plain http://? use an http:// URL)".into(),
        };
        assert_eq!(failure(&ureq::Error::Rustls(e.clone()), &t, false), want);
        assert_eq!(io_failure(&std::io::Error::other(e), &t), want);
    }
}
