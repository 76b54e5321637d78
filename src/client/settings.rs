//! What the client needs to know about a run, as one plain struct that `config` builds: the
//! endpoint and its protocol, what every request body carries, the limits of one request, how
//! HTTPS servers are verified. The client never sees the command line or the run's whole configuration.

use crate::protocol::Protocol;
use crate::tokens::Tokenizer;
use crate::workload::{Expect, Lengths};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// Everything the client sends and enforces, fixed for the whole run.
#[derive(Clone)]
pub struct ClientSettings {
    /// The adapter for the API (for `custom`, with its template and pointers).
    pub protocol: Arc<dyn Protocol>,
    /// The full endpoint URL requests go to.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub model: Option<String>,
    pub max_tokens: Option<u32>,
    /// `--output-tokens` as a distribution and `--seed`: each request whose prompt sets no
    /// `max_tokens` draws its own from its number (prompts from a file, `--prompt`, datasets;
    /// a synthetic pool's prompts carry the length drawn with theirs).
    pub output: Option<(Lengths, u64)>,
    /// Dify app variables (`--inputs`).
    pub inputs: Map<String, Value>,
    /// Ask for exactly `max_tokens` (`--output-tokens`, `--ignore-eos`).
    pub ignore_eos: bool,
    /// Fields laid over every request body (`--extra-body`).
    pub extra: Option<Map<String, Value>>,
    /// Per prompt (by its index), the fields laid over its bodies instead of `extra` when its
    /// `--param-file` line has its own `extra`: `--extra-body`'s fields, then the line's. Empty
    /// when no line has one.
    pub prompt_extra: Arc<Vec<Option<Map<String, Value>>>>,
    /// Counts each request's text when the server sends no usage.
    pub tokenizer: Arc<Tokenizer>,
    /// The limits of one request; every default is finite, so no request can hang a run.
    pub timeouts: Timeouts,
    /// Extra attempts after a connect error, 429 or 5xx (0: failures stay visible).
    pub retries: u32,
    pub tls: Tls,
    /// Workers sending requests at once: each has its own agent, so its own pooled connection.
    pub workers: usize,
    /// Keep each answer's text in its measurement (`Measurement::answer`): a session's next turn
    /// sends it back as the conversation so far.
    pub keep_answers: bool,
    /// `--expect`: the check of every answer whose prompt has none of its own (`Prompt::expect`).
    /// A request with a check keeps its answer's text until the engine has checked it.
    pub expect: Option<Expect>,
    /// `--cancel`: the share of streams the client leaves on purpose, and when.
    pub cancel: Option<Cancel>,
}

/// `--cancel SHARE[@DELAY]`: which requests the client abandons, and when. A request is chosen
/// from the run's seed and its number alone, so a run repeats its choice; a chosen request's
/// connection is closed at the cut (never pooled, never retried).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cancel {
    /// The share of requests abandoned, in (0, 1].
    pub share: f64,
    pub at: CancelAt,
    /// `--seed`.
    pub seed: u64,
}

/// When a chosen request is abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelAt {
    /// This long after its send (0: right after it).
    After(Duration),
    /// Once it has received this many text events.
    Tokens(u32),
}

impl Cancel {
    /// Whether request `index` of the run is abandoned: a uniform draw from the seed and the
    /// index alone, below the share.
    pub fn chosen(&self, index: u64) -> bool {
        let mut mix = crate::util::rng::SplitMix64::new(self.seed ^ 0x6361_6e63_656c_0000);
        let a = mix.next_u64();
        crate::util::rng::SplitMix64::new(a ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15)).unit() < self.share
    }
}

/// How long each phase of a request may take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    /// The whole request, from the first attempt's start.
    pub total: Duration,
    pub connect: Duration,
    /// Request sent → response headers.
    pub ttfb: Duration,
    /// The longest wait for any read to return bytes.
    pub idle: Duration,
}

/// How HTTPS servers are verified.
#[derive(Debug, Clone)]
pub enum Tls {
    /// Mozilla's root certificates, bundled (no system store needed in a static binary).
    WebPki,
    /// Only these CA certificates (DER), from `--ca-cert`.
    CaCerts(Vec<Vec<u8>>),
    /// `--insecure`: no verification at all.
    Insecure,
}
