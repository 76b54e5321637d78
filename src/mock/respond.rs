//! One API response, from the parsed request to the start of its stream: the plan (token count,
//! finish reason), the chosen fault, error and non-streaming replies, and a stream's head and
//! opening events — after which the stream's timed events are the pacer's to send (`stream`
//! says which, `pacer` sends them).
//!
//! The bytes of each event come from `shapes`, the deadlines from `script`, and the choice of
//! fault from `faults`. It does not read requests, route, or touch the shared truth (the caller
//! merges the `Recorder`).

use std::io::{self, Write};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::MockConfig;
use super::faults::{self, Fault};
use super::http::{self, HTML, JSON, Length, Next, SSE};
use super::prefixes::PrefixTable;
use super::script::{self, Schedule};
use super::shapes::{self, Ask, End, Route, Shape};
use super::stream::Stream;
use super::truth::Recorder;
use std::sync::{Mutex, PoisonError};

/// Deeper request JSON is refused before parsing: serde_json recurses per level, and connection
/// threads run on small stacks.
const MAX_NESTING: usize = 32;

/// Everything one response needs besides the shapes.
pub(super) struct Reply<'a, W: Write> {
    w: &'a mut W,
    rec: &'a mut Recorder,
    config: &'a MockConfig,
    /// The prompt starts read so far, for cached tokens in usage.
    prefixes: &'a Mutex<PrefixTable>,
    /// The request's sequence number: picks the fault and seeds jitter and ids.
    n: u64,
    received: Instant,
    close: bool,
    headers: Vec<(&'static str, String)>,
}

/// More tokens than this are not sent, whatever `max_tokens` with `ignore_eos` asks: one
/// request cannot hold a connection for ever.
pub(super) const MAX_TOKENS: u64 = 1 << 20;

/// How many tokens to send and how the answer ends.
pub(super) struct Plan {
    pub tokens: u64,
    pub prompt_tokens: u64,
    pub cached_tokens: u64,
    pub finish_reason: &'static str,
}

impl Plan {
    /// With `ignore_eos` and a cap, exactly the cap (`length`). Otherwise the answer's natural
    /// length, the configured count (half of it, at least 1, when `early`: the model "stopping"
    /// on its own), capped by the request's `max_tokens` (`length`), else `stop`.
    fn new(ask: &Ask, configured: u32, early: bool) -> Self {
        let (tokens, finish_reason) = match ask.max_tokens {
            Some(cap) if ask.ignore_eos => (cap.min(MAX_TOKENS), "length"),
            cap => {
                let natural = u64::from(configured);
                let natural = if early { (natural / 2).max(1) } else { natural };
                let tokens = cap.map_or(natural, |cap| cap.min(natural));
                (tokens, if tokens < natural { "length" } else { "stop" })
            }
        };
        Plan { tokens, prompt_tokens: ask.prompt_tokens, cached_tokens: 0, finish_reason }
    }

    /// The answer ended on its own below the request's cap: what a client counts as ended early.
    fn ended_early(&self, ask: &Ask) -> bool {
        self.finish_reason == "stop" && ask.max_tokens.is_some_and(|cap| self.tokens < cap)
    }

    pub(super) fn end(&self, latency: Duration) -> End {
        End {
            prompt_tokens: self.prompt_tokens,
            cached_tokens: self.cached_tokens,
            completion_tokens: self.tokens,
            finish_reason: self.finish_reason,
            latency_s: latency.as_secs_f64(),
        }
    }
}

/// Where a response stands once `Reply` is done with it.
pub(super) enum Handoff {
    /// Over; the connection carries on as this says.
    Done(Next),
    /// The head and opening events are out; the rest is for a pacer to send.
    Paced(Stream),
}

impl<'a, W: Write> Reply<'a, W> {
    /// `close`: the client asked for `Connection: close`.
    pub(super) fn new(
        w: &'a mut W,
        rec: &'a mut Recorder,
        config: &'a MockConfig,
        prefixes: &'a Mutex<PrefixTable>,
        n: u64,
        received: Instant,
        close: bool,
    ) -> Self {
        // `x-request-id`, as many servers send, is what llmload records per request.
        let headers = vec![("x-mock-request", n.to_string()), ("x-request-id", format!("mock-{n}"))];
        Reply { w, rec, config, prefixes, n, received, close, headers }
    }

    /// Answers the request body `body` in `api`'s shapes. A failed write ends the connection.
    pub(super) fn run(mut self, api: Route, body: &[u8]) -> Handoff {
        self.answer(api, body).unwrap_or(Handoff::Done(Next::Close))
    }

    fn answer(&mut self, api: Route, body: &[u8]) -> io::Result<Handoff> {
        let parsed = parse_body(body);
        let (shape, ask) = shapes::read(api, parsed.as_ref().unwrap_or(&Value::Null), self.n);
        if let Err(message) = parsed {
            return self.whole(400, JSON, shape.error_body(400, &message).as_bytes()).map(Handoff::Done);
        }
        let fault = faults::select(&self.config.faults, self.n);
        if let Some(f) = fault {
            self.rec.fault(f.to_string());
            self.close |= f == Fault::Close;
        }
        if self.config.close_after_response && !self.close {
            // What llama.cpp's server says before it closes anyway.
            self.headers
                .extend([("connection", "keep-alive".into()), ("keep-alive", "timeout=5, max=100".into())]);
        }
        let early = !ask.ignore_eos && faults::hits(self.config.eos_share, self.n);
        let mut plan = Plan::new(&ask, self.config.tokens, early);
        if let Ok(body) = &parsed {
            let prompt = shapes::prompt_text(api, body);
            plan.cached_tokens = self
                .prefixes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .read(&prompt)
                .min(plan.prompt_tokens);
        }
        self.rec.asked(plan.prompt_tokens, plan.cached_tokens, plan.ended_early(&ask), plan.finish_reason);
        if fault == Some(Fault::SlowHeaders) {
            script::sleep_until(Instant::now() + self.config.fault_delay);
        }
        let next = match fault {
            Some(Fault::Reset) => Ok(Next::Reset),
            Some(Fault::Status { code, html }) => self.status_fault(&*shape, code, html),
            Some(Fault::RateLimitedBare) => {
                let body = shape.error_body(429, "mock: injected HTTP 429 without Retry-After");
                self.whole(429, JSON, body.as_bytes())
            }
            Some(Fault::NotSse) => self.whole(200, HTML, &shapes::html_not_sse_page()),
            // A non-streaming reply has no stream to break: an error status stands in.
            Some(Fault::StreamError) if !ask.stream => self.status_fault(&*shape, 500, false),
            _ if ask.stream => return self.stream(shape, plan, fault).map(Handoff::Paced),
            _ => self.blocking(&*shape, &plan, fault),
        };
        next.map(Handoff::Done)
    }

    /// An immediate error status with a JSON or HTML body.
    fn status_fault(&mut self, shape: &dyn Shape, code: u16, html: bool) -> io::Result<Next> {
        if code == 429 {
            self.headers.push(("retry-after", "1".into()));
        }
        if html {
            return self.whole(code, HTML, &shapes::html_error_page(code, http::reason(code)));
        }
        let body = shape.error_body(code, &format!("mock: injected HTTP {code}"));
        self.whole(code, JSON, body.as_bytes())
    }

    /// A stream's head and opening events, sent at once; the timed rest is returned.
    fn stream(
        &mut self,
        shape: Box<dyn Shape + Send>,
        plan: Plan,
        fault: Option<Fault>,
    ) -> io::Result<Stream> {
        self.write(&http::head(200, SSE, Length::Chunked, self.close, &self.headers))?;
        if fault != Some(Fault::PingsOnly) {
            for event in shape.opening() {
                self.write(&http::chunk(&event, false))?;
            }
        }
        Ok(Stream::new(shape, plan, fault, self.config, self.n, self.received, self.close))
    }

    /// The non-streaming reply, after the whole generation time. `cut` sends half the body
    /// and closes; `malformed` sends half the body as if it were all of it.
    fn blocking(&mut self, shape: &dyn Shape, plan: &Plan, fault: Option<Fault>) -> io::Result<Next> {
        let mut schedule = Schedule::new(self.received, self.config, self.n);
        for _ in 1..plan.tokens {
            schedule.next_deadline();
        }
        if plan.tokens > 0 {
            script::sleep_until(schedule.next_deadline());
        }
        self.rec.generated(plan.tokens);
        let wrong = faults::hits(self.config.wrong_share, self.n);
        let text = script::text(self.config.lang, wrong, plan.tokens);
        let body = shape.blocking_body(&text, &plan.end(self.received.elapsed()));
        let body = match fault {
            Some(Fault::Cut) => return self.cut_body(body.as_bytes()),
            Some(Fault::Malformed) => shapes::first_half(&body),
            _ => &body,
        };
        let next = self.whole(200, JSON, body.as_bytes())?;
        self.rec.completed(Instant::now());
        Ok(next)
    }

    /// A head announcing all of `body`, half of it, and the end of the connection.
    fn cut_body(&mut self, body: &[u8]) -> io::Result<Next> {
        let mut out = http::head(200, JSON, Length::Fixed(body.len()), self.close, &self.headers);
        out.extend_from_slice(&body[..body.len() / 2]);
        self.write(&out)?;
        Ok(Next::Close)
    }

    fn whole(&mut self, status: u16, content_type: &str, body: &[u8]) -> io::Result<Next> {
        self.write(&http::response(status, content_type, body, self.close, &self.headers))?;
        Ok(Next::after(self.close))
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.w.write_all(bytes)
    }
}

/// The request body as a JSON object, or the message for a 400.
fn parse_body(body: &[u8]) -> Result<Value, String> {
    if nesting(body) > MAX_NESTING {
        return Err(format!("request JSON is nested deeper than {MAX_NESTING} levels"));
    }
    match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("request body must be a JSON object".into()),
        Err(e) => Err(format!("request body is not valid JSON: {e}")),
    }
}

/// The deepest `[`/`{` nesting outside strings, found without recursion.
fn nesting(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_ignores_brackets_in_strings() {
        assert_eq!(nesting(br#"{"a":[1,{"b":"[[[\"{{"}]}"#), 3);
        assert_eq!(nesting(b"[]"), 1);
        assert_eq!(nesting(b"1"), 0);
    }

    #[test]
    fn bodies_that_are_not_objects_or_too_deep_are_refused() {
        assert!(parse_body(br#"{"query":"hi"}"#).is_ok());
        for body in [&b""[..], b"[]", b"{", b"\"s\""] {
            assert!(parse_body(body).is_err(), "{body:?}");
        }
        let deep = "[".repeat(MAX_NESTING + 1) + &"]".repeat(MAX_NESTING + 1);
        assert!(parse_body(format!("{{\"a\":{deep}}}").as_bytes()).unwrap_err().contains("nested"));
    }

    #[test]
    fn plan_caps_tokens_and_says_length() {
        let ask = |max_tokens| Ask { stream: true, prompt_tokens: 2, max_tokens, ignore_eos: false };
        let p = Plan::new(&ask(Some(3)), 8, false);
        assert_eq!((p.tokens, p.finish_reason, p.ended_early(&ask(Some(3)))), (3, "length", false));
        let p = Plan::new(&ask(Some(8)), 8, false);
        assert_eq!((p.tokens, p.finish_reason, p.ended_early(&ask(Some(8)))), (8, "stop", false));
        let p = Plan::new(&ask(None), 8, false);
        assert_eq!((p.tokens, p.finish_reason, p.ended_early(&ask(None))), (8, "stop", false));
        let p = Plan::new(&ask(Some(20)), 8, false);
        assert_eq!((p.tokens, p.finish_reason, p.ended_early(&ask(Some(20)))), (8, "stop", true));
    }

    #[test]
    fn ignore_eos_sends_the_cap_and_early_answers_stop_at_half() {
        let exact = |cap| Ask { stream: true, prompt_tokens: 0, max_tokens: cap, ignore_eos: true };
        let p = Plan::new(&exact(Some(100)), 8, true);
        assert_eq!((p.tokens, p.finish_reason, p.ended_early(&exact(Some(100)))), (100, "length", false));
        let p = Plan::new(&exact(Some(u64::MAX)), 8, false);
        assert_eq!(p.tokens, MAX_TOKENS);
        let p = Plan::new(&exact(None), 8, false);
        assert_eq!((p.tokens, p.finish_reason), (8, "stop"), "no cap: the natural length");
        let free = Ask { ignore_eos: false, ..exact(Some(6)) };
        let p = Plan::new(&free, 8, true);
        assert_eq!((p.tokens, p.finish_reason, p.ended_early(&free)), (4, "stop", true));
        let p = Plan::new(&Ask { max_tokens: Some(3), ..free }, 8, true);
        assert_eq!((p.tokens, p.finish_reason), (3, "length"));
        let p = Plan::new(&Ask { max_tokens: None, ..free }, 1, true);
        assert_eq!(p.tokens, 1, "at least one token");
    }
}
