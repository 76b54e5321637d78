//! Just enough HTTP/1.1 for the mock: reading one request at a time (request line, headers
//! matched case-insensitively, a `Content-Length` body, `Connection: close`, `Expect:
//! 100-continue`) within fixed size bounds, and building response heads, whole responses and
//! chunks as byte buffers so each can leave in one `write_all`.
//!
//! It deliberately does not route, look inside bodies, accept chunked request bodies or any
//! version but HTTP/1.1, or keep headers it has no use for. Bad input is a `ReadError::Bad`
//! carrying the status to answer with, never a panic.

use std::io::{self, BufRead, Read, Write};

/// Request line plus headers; beyond this the client gets 431.
pub(super) const MAX_HEAD: usize = 64 * 1024;
/// Request body; beyond this the client gets 413.
pub(super) const MAX_BODY: usize = 16 * 1024 * 1024;

pub(super) const JSON: &str = "application/json";
pub(super) const SSE: &str = "text/event-stream; charset=utf-8";
pub(super) const HTML: &str = "text/html; charset=utf-8";
pub(super) const TEXT: &str = "text/plain; charset=utf-8";

/// One request, fully read.
#[derive(Debug)]
pub(super) struct Request {
    pub method: String,
    /// The target without its query string.
    pub path: String,
    pub body: Vec<u8>,
    /// The client asked to close the connection after the response.
    pub close: bool,
}

/// Why no request came out of the connection.
#[derive(Debug)]
pub(super) enum ReadError {
    /// The client went away (EOF or an I/O error) mid-request; there is no one to answer.
    Gone,
    /// The request is unacceptable: answer with this status and reason, then close.
    Bad(u16, String),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Gone
    }
}

/// Whether the connection carries on after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    KeepAlive,
    /// A whole response whose head said `Connection: close`: close, as announced.
    CloseAnnounced,
    /// Close now: the response broke off, or the client is gone.
    Close,
    /// Close with a TCP reset (the `reset` fault).
    Reset,
}

impl Next {
    /// After a whole response; `close`: its head said `Connection: close`.
    pub(super) fn after(close: bool) -> Next {
        if close { Next::CloseAnnounced } else { Next::KeepAlive }
    }
}

/// The parts of the head the mock acts on.
struct Head {
    method: String,
    path: String,
    length: usize,
    close: bool,
    expect_continue: bool,
}

fn bad(status: u16, reason: impl Into<String>) -> ReadError {
    ReadError::Bad(status, reason.into())
}

/// Reads the next request. `Ok(None)` is a clean close between requests. `w` is only used for
/// the interim `100 Continue` that clients such as curl wait for before sending a body.
pub(super) fn read_request(r: &mut impl BufRead, w: &mut impl Write) -> Result<Option<Request>, ReadError> {
    let Some(lines) = read_head(r)? else {
        return Ok(None);
    };
    let head = parse_head(&lines)?;
    if head.expect_continue && head.length > 0 {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = read_body(r, head.length)?;
    Ok(Some(Request { method: head.method, path: head.path, body, close: head.close }))
}

/// The head's lines without line endings; blank lines before the request line are skipped, as
/// RFC 9112 asks. The whole head is read before judging it, so an error reply is not answered
/// with a reset caused by unread request bytes.
fn read_head(r: &mut impl BufRead) -> Result<Option<Vec<String>>, ReadError> {
    let mut lines = Vec::new();
    let mut budget = MAX_HEAD;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = r.by_ref().take(budget as u64).read_until(b'\n', &mut line)?;
        budget -= n;
        if line.last() != Some(&b'\n') {
            return if budget == 0 {
                Err(bad(431, "request head larger than 64 KiB"))
            } else if n == 0 && lines.is_empty() {
                Ok(None)
            } else {
                Err(ReadError::Gone)
            };
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        match (text.is_empty(), lines.is_empty()) {
            (true, true) => continue,
            (true, false) => return Ok(Some(lines)),
            (false, _) => lines
                .push(String::from_utf8(text.to_vec()).map_err(|_| bad(400, "request head is not UTF-8"))?),
        }
    }
}

fn parse_head(lines: &[String]) -> Result<Head, ReadError> {
    let (request_line, fields) = lines.split_first().ok_or_else(|| bad(400, "empty request"))?;
    let mut head = parse_request_line(request_line)?;
    let mut length = None;
    for field in fields {
        let (name, value) = field
            .split_once(':')
            .filter(|(name, _)| is_token(name))
            .ok_or_else(|| bad(400, format!("malformed header line '{field}'")))?;
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = Some(parse_length(value, length)?),
            "transfer-encoding" => {
                return Err(bad(400, "chunked request bodies are not supported; send Content-Length"));
            }
            "connection" => head.close |= value.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")),
            "expect" => head.expect_continue = value.eq_ignore_ascii_case("100-continue"),
            _ => {}
        }
    }
    head.length = length.unwrap_or(0);
    Ok(head)
}

fn parse_request_line(line: &str) -> Result<Head, ReadError> {
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(400, format!("malformed request line '{line}'")));
    };
    if !is_token(method) || !target.starts_with('/') {
        return Err(bad(400, format!("malformed request line '{line}'")));
    }
    if version != "HTTP/1.1" {
        return Err(bad(505, format!("only HTTP/1.1 is supported, got '{version}'")));
    }
    Ok(Head {
        method: method.to_string(),
        path: target.split('?').next().unwrap_or(target).to_string(),
        length: 0,
        close: false,
        expect_continue: false,
    })
}

/// RFC 9110 token characters (method and header names).
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Digits only (Rust's parser would take "+5"); repeated headers must agree.
fn parse_length(value: &str, earlier: Option<usize>) -> Result<usize, ReadError> {
    let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    let n: usize = match value.parse() {
        Ok(n) if digits => n,
        _ if digits => usize::MAX, // too many digits: certainly too large
        _ => return Err(bad(400, format!("bad Content-Length '{value}'"))),
    };
    if earlier.is_some_and(|e| e != n) {
        return Err(bad(400, "conflicting Content-Length headers"));
    }
    if n > MAX_BODY {
        return Err(bad(413, "request body larger than 16 MiB"));
    }
    Ok(n)
}

/// Reads exactly `len` bytes, growing the buffer as data arrives rather than trusting the
/// declared length with an allocation up front.
fn read_body(r: &mut impl BufRead, len: usize) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::with_capacity(len.min(64 * 1024));
    r.take(len as u64).read_to_end(&mut body)?;
    if body.len() < len {
        return Err(ReadError::Gone);
    }
    Ok(body)
}

/// How a response body is delimited.
#[derive(Debug, Clone, Copy)]
pub(super) enum Length {
    Fixed(usize),
    Chunked,
}

/// A response head. `extra` holds additional `(name, value)` header pairs.
pub(super) fn head(
    status: u16,
    content_type: &str,
    length: Length,
    close: bool,
    extra: &[(&str, String)],
) -> Vec<u8> {
    let mut h = format!("HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\n", reason(status));
    match length {
        Length::Fixed(n) => h.push_str(&format!("content-length: {n}\r\n")),
        Length::Chunked => h.push_str("transfer-encoding: chunked\r\ncache-control: no-cache\r\n"),
    }
    if close {
        h.push_str("connection: close\r\n");
    }
    for (name, value) in extra {
        h.push_str(&format!("{name}: {value}\r\n"));
    }
    h.push_str("\r\n");
    h.into_bytes()
}

/// A whole response: head and body in one buffer.
pub(super) fn response(
    status: u16,
    content_type: &str,
    body: &[u8],
    close: bool,
    extra: &[(&str, String)],
) -> Vec<u8> {
    let mut out = head(status, content_type, Length::Fixed(body.len()), close, extra);
    out.extend_from_slice(body);
    out
}

/// One chunk holding `payload`, followed by the terminating chunk when `last`.
pub(super) fn chunk(payload: &[u8], last: bool) -> Vec<u8> {
    // Sized once: this is built for every event.
    let mut out = Vec::with_capacity(payload.len() + 32);
    let _ = write!(out, "{:x}\r\n", payload.len()); // writing to a Vec cannot fail
    out.extend_from_slice(payload);
    out.extend_from_slice(b"\r\n");
    if last {
        out.extend_from_slice(END_CHUNK);
    }
    out
}

/// The terminating chunk: the end of a chunked body.
pub(super) const END_CHUNK: &[u8] = b"0\r\n\r\n";

/// A chunk that announces all of `payload` but carries only its first half, as when a
/// connection dies mid-write.
pub(super) fn cut_chunk(payload: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", payload.len()).into_bytes();
    out.extend_from_slice(&payload[..payload.len() / 2]);
    out
}

pub(super) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ if status < 500 => "Client Error",
        _ => "Server Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn read(raw: &[u8]) -> (Result<Option<Request>, ReadError>, Vec<u8>) {
        let mut interim = Vec::new();
        let got = read_request(&mut Cursor::new(raw), &mut interim);
        (got, interim)
    }

    fn status_of(raw: &[u8]) -> u16 {
        match read(raw).0 {
            Err(ReadError::Bad(status, _)) => status,
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn reads_sequential_requests_with_bodies_and_headers_in_any_case() {
        let raw = b"POST /v1/chat/completions?x=1 HTTP/1.1\r\nHOST: a\r\ncOnTeNt-LeNgTh: 2\r\n\r\nhi\
                    \r\nGET /health HTTP/1.1\nConnection: keep-alive, Close\n\n";
        let mut cur = Cursor::new(&raw[..]);
        let mut sink = Vec::new();
        let a = read_request(&mut cur, &mut sink).unwrap().unwrap();
        assert_eq!((a.method.as_str(), a.path.as_str()), ("POST", "/v1/chat/completions"));
        assert_eq!((a.body.as_slice(), a.close), (&b"hi"[..], false));
        let b = read_request(&mut cur, &mut sink).unwrap().unwrap();
        assert_eq!((b.path.as_str(), b.body.len(), b.close), ("/health", 0, true));
        assert!(matches!(read_request(&mut cur, &mut sink), Ok(None)));
        assert!(sink.is_empty());
    }

    #[test]
    fn answers_expect_continue_before_the_body() {
        let (got, interim) = read(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx");
        assert_eq!(got.unwrap().unwrap().body, b"x");
        assert_eq!(interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    }

    #[test]
    fn rejects_malformed_and_oversized_requests_with_a_status() {
        assert_eq!(status_of(b"GARBAGE\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET /a b HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET nopath HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.0\r\n\r\n"), 505);
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nno colon\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nbad name: x\r\n\r\n"), 400);
        assert_eq!(status_of(b"GET / HTTP/1.1\r\n\xff: x\r\n\r\n"), 400);
        for len in ["+5", "-1", "", "5x", "0x10"] {
            let raw = format!("POST / HTTP/1.1\r\nContent-Length: {len}\r\n\r\n");
            assert_eq!(status_of(raw.as_bytes()), 400, "{len}");
        }
        let two = b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";
        assert_eq!(status_of(two), 400);
        let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        assert_eq!(status_of(chunked), 400);
        let huge = b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n";
        assert_eq!(status_of(huge), 413);
        let mut long = b"GET / HTTP/1.1\r\nx: ".to_vec();
        long.resize(MAX_HEAD + 10, b'a');
        assert_eq!(status_of(&long), 431);
    }

    #[test]
    fn a_client_leaving_mid_request_is_gone_not_bad() {
        for raw in [&b"GET / HTTP/1.1\r\nHost"[..], b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"] {
            assert!(matches!(read(raw).0, Err(ReadError::Gone)));
        }
        assert!(matches!(read(b"\r\n\r\n").0, Ok(None)));
    }

    #[test]
    fn writes_heads_chunks_and_cut_chunks() {
        let h = head(429, "application/json", Length::Fixed(2), true, &[("retry-after", "1".into())]);
        let h = String::from_utf8(h).unwrap();
        assert!(h.starts_with("HTTP/1.1 429 Too Many Requests\r\n"));
        assert!(h.contains("content-length: 2\r\n") && h.contains("connection: close\r\n"));
        assert!(h.contains("retry-after: 1\r\n") && h.ends_with("\r\n\r\n"));
        let s = String::from_utf8(head(200, "text/event-stream", Length::Chunked, false, &[])).unwrap();
        assert!(s.contains("transfer-encoding: chunked\r\n") && !s.contains("connection"));
        assert_eq!(chunk(b"data: x\n\n", false), b"9\r\ndata: x\n\n\r\n");
        assert_eq!(chunk(b"ab", true), b"2\r\nab\r\n0\r\n\r\n");
        assert_eq!(cut_chunk(b"abcdefghijklmnop"), b"10\r\nabcdefgh");
    }
}
