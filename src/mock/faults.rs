//! Fault injection rules: the fault kinds the mock can inject, parsing `KIND[:share]`, and the
//! deterministic choice of which request gets which fault.
//!
//! Selection depends only on the request's sequence number, never on a random draw, so tests and
//! benches can assert exact counts ("share 0.25 over 8 requests hits exactly 2"). This module
//! does not render faults on the wire; `respond` does that with the protocol's shapes.

use std::fmt;
use std::str::FromStr;

/// The kinds as users write them, for error messages.
const VALID_KINDS: &str = "http-<400..599> (e.g. http-429, http-500), html-<400..599> (e.g. \
                           html-502), http-429-no-retry-after, reset, slow-headers, not-sse, cut, \
                           stall, malformed, bad-utf8, huge-line, stream-error, pings-only, \
                           no-end, close";

/// One way a response can go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// An immediate error status: a protocol-shaped JSON error body, or an HTML page (`html`),
    /// as a gateway in front of the server would send. 429 carries `Retry-After: 1`.
    Status { code: u16, html: bool },
    /// HTTP 429 without `Retry-After`, so a client must pick its own backoff.
    RateLimitedBare,
    /// The request is read, then the connection is reset (TCP RST) before any byte is sent.
    Reset,
    /// The response head is sent only after the fault delay (`--fault-delay`).
    SlowHeaders,
    /// 200 with `Content-Type: text/html` and an HTML body instead of a stream.
    NotSse,
    /// After half the tokens, part of an event (mid-JSON), then the socket is shut down without
    /// the chunk terminator.
    Cut,
    /// Halfway through, the stream sends nothing for the fault delay, then goes on.
    Stall,
    /// One extra event halfway through carries invalid JSON; the stream otherwise completes.
    Malformed,
    /// One extra text event halfway through carries bytes that are not UTF-8; the stream
    /// otherwise completes.
    BadUtf8,
    /// One 10 MiB `data:` line halfway through, longer than any client should buffer.
    HugeLine,
    /// Only `: ping` keep-alive comments, one per token, then the end of the body: no events.
    PingsOnly,
    /// Every token, then the end of the body without the terminal event.
    NoEnd,
    /// After a few tokens, the protocol's in-stream error event, then the stream ends.
    StreamError,
    /// A normal response sent with `Connection: close`; the socket is closed after it.
    Close,
}

/// A fault and the share of requests (in (0, 1]) it applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultRule {
    pub fault: Fault,
    pub share: f64,
}

impl fmt::Display for Fault {
    /// The kind as written on the command line; also the key in `Truth::faults`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Status { code, html: false } => write!(f, "http-{code}"),
            Fault::Status { code, html: true } => write!(f, "html-{code}"),
            named => f.write_str(NAMED.iter().find(|(_, k)| k == named).map_or("?", |(n, _)| n)),
        }
    }
}

/// The kinds without a status code, by the name users write.
const NAMED: &[(&str, Fault)] = &[
    ("http-429-no-retry-after", Fault::RateLimitedBare),
    ("reset", Fault::Reset),
    ("slow-headers", Fault::SlowHeaders),
    ("not-sse", Fault::NotSse),
    ("cut", Fault::Cut),
    ("stall", Fault::Stall),
    ("malformed", Fault::Malformed),
    ("bad-utf8", Fault::BadUtf8),
    ("huge-line", Fault::HugeLine),
    ("stream-error", Fault::StreamError),
    ("pings-only", Fault::PingsOnly),
    ("no-end", Fault::NoEnd),
    ("close", Fault::Close),
];

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        NAMED
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, f)| *f)
            .or_else(|| parse_status(s))
            .ok_or_else(|| format!("unknown fault kind '{s}': expected one of {VALID_KINDS}"))
    }
}

/// `http-NNN` or `html-NNN` with an error status (4xx or 5xx).
fn parse_status(s: &str) -> Option<Fault> {
    let (html, code) = match s.split_at_checked(5)? {
        ("http-", code) => (false, code),
        ("html-", code) => (true, code),
        _ => return None,
    };
    let code: u16 = code.parse().ok()?;
    (400..=599).contains(&code).then_some(Fault::Status { code, html })
}

impl FromStr for FaultRule {
    type Err = String;

    /// `KIND[:share]`; the share defaults to 1 (every request).
    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, share) = match s.split_once(':') {
            Some((kind, share)) => (kind, parse_share(share)?),
            None => (s, 1.0),
        };
        Ok(FaultRule { fault: kind.parse()?, share })
    }
}

fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if valid_share(v) => Ok(v),
        _ => Err(format!("bad fault share '{s}': expected a number in (0, 1], e.g. cut:0.25")),
    }
}

/// Shares outside (0, 1] (or NaN) would make the selection arithmetic meaningless.
pub(super) fn valid_share(share: f64) -> bool {
    share > 0.0 && share <= 1.0
}

/// Whether a rule with `share` hits request `n` (0-based): exactly when floor(n·share) steps up,
/// so any window of requests gets its share to within one. The tiny epsilon keeps shares that
/// are not binary fractions (0.1, 0.3) from losing a hit to rounding.
pub(super) fn hits(share: f64, n: u64) -> bool {
    let steps = |k: u64| (k as f64 * share + 1e-9).floor();
    steps(n + 1) > steps(n)
}

/// The fault for request `n`: the first rule that hits it wins. Rule `i` counts requests from
/// `i` on (its hits are shifted `i` requests earlier), so rules with equal or multiple shares
/// (`cut:0.01`, `http-503:0.01`, `reset:0.005`) hit different requests and a mix adds up, instead
/// of the first rule taking every request they share.
pub(super) fn select(rules: &[FaultRule], n: u64) -> Option<Fault> {
    rules.iter().enumerate().find(|(i, r)| hits(r.share, n + *i as u64)).map(|(_, r)| r.fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_and_round_trips_its_name() {
        let named = NAMED.iter().map(|(n, _)| *n);
        for s in ["http-429", "http-500", "html-502"].into_iter().chain(named) {
            let rule: FaultRule = s.parse().unwrap();
            assert_eq!(rule.share, 1.0);
            assert_eq!(rule.fault.to_string(), s);
        }
        let rule: FaultRule = "http-503:0.25".parse().unwrap();
        let want = Fault::Status { code: 503, html: false };
        assert_eq!((rule.fault, rule.share), (want, 0.25));
    }

    #[test]
    fn parse_errors_name_the_bad_part_and_the_valid_kinds() {
        let err = "boom:0.5".parse::<FaultRule>().unwrap_err();
        assert!(err.contains("'boom'") && err.contains("stream-error"), "{err}");
        for bad in ["http-200", "http-abc", "html-", "http-7000"] {
            let err = bad.parse::<FaultRule>().unwrap_err();
            assert!(err.contains(bad) && err.contains("not-sse"), "{err}");
        }
        for share in ["0", "1.5", "-0.1", "x", "", "NaN"] {
            let err = format!("cut:{share}").parse::<FaultRule>().unwrap_err();
            assert!(err.contains(&format!("'{share}'")) && err.contains("(0, 1]"), "{err}");
        }
    }

    #[test]
    fn share_hits_exact_counts_at_predictable_requests() {
        let rules = ["http-500:0.25".parse().unwrap()];
        let hit: Vec<u64> = (0..8).filter(|&n| select(&rules, n).is_some()).collect();
        assert_eq!(hit, [3, 7]);
        for share in [0.1, 0.3, 0.7, 1.0] {
            let count = (0..1000).filter(|&n| hits(share, n)).count();
            assert_eq!(count, (share * 1000.0).round() as usize, "share {share}");
        }
    }

    #[test]
    fn a_mix_of_equal_shares_adds_up() {
        let rules: Vec<FaultRule> = ["http-503:0.01", "cut:0.01", "reset:0.005", "stall:0.005"]
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        let mut count = std::collections::BTreeMap::new();
        for n in 0..10_000 {
            if let Some(f) = select(&rules, n) {
                *count.entry(f.to_string()).or_insert(0) += 1;
            }
        }
        let want = [("cut", 100), ("http-503", 100), ("reset", 50), ("stall", 50)];
        assert_eq!(count, want.map(|(k, v)| (k.to_string(), v)).into_iter().collect());
    }

    #[test]
    fn first_matching_rule_wins() {
        let rules: Vec<FaultRule> = vec!["cut:0.5".parse().unwrap(), "close".parse().unwrap()];
        let got: Vec<_> = (0..4).map(|n| select(&rules, n)).collect();
        let want = [Fault::Close, Fault::Cut, Fault::Close, Fault::Cut];
        assert_eq!(got, want.map(Some));
    }
}
