//! One JSON line per finished request (`--records`), owned both ways by `Record`: the reporter
//! writes a line as each request ends (so a killed run keeps every finished request) and
//! `llmload report` reads the lines back into the `Measurement`s they came from. The field docs
//! are the format's contract (docs/records.md); keys appear in field order. Writing takes plain
//! durations (the reporter measures the start from its own clock); only reading places a record
//! back on a timeline, for the same `RunStats::add` a live run uses. Files are `commands::rebuild`'s.

use crate::measure::{ErrorKind, Measurement, Outcome, TokenSource};
use crate::util::decimals::three;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// One finished request in plain numbers. Times are milliseconds with whole microseconds, as
/// statistics record them, so `to_measurement` rebuilds the same histograms. Keys added after
/// the first release default when absent, so older records still load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The worker (0-based) that sent the request.
    pub worker: usize,
    /// The prompt's line in the prompt source (0-based).
    pub prompt_index: usize,
    /// Which `--api-key-file` key was used (0-based); `null` with one key or none.
    pub key_index: Option<usize>,
    /// 1-based turn in the worker's conversation (always 1 without `--turns`).
    #[serde(default = "one")]
    pub turn: u32,
    /// Dify's conversation, so records of one conversation can be grouped.
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// The worker's session the request belongs to, 1-based and counted per worker (with
    /// `worker`, it names the session; without `--turns` each request is a session of one turn).
    #[serde(default)]
    pub session: u32,
    /// When the session's first turn started, ms since the run started.
    #[serde(default, serialize_with = "three")]
    pub session_start_ms: Option<f64>,
    /// When the request started, ms since the run started.
    #[serde(default, serialize_with = "three")]
    pub start_ms: f64,
    /// When the request started by the wall clock: ms since the Unix epoch, with a fraction, so
    /// `llmload report` lays the records of several shards on one timeline.
    #[serde(default, serialize_with = "three")]
    pub start_unix_ms: Option<f64>,
    /// Attempts made; more than 1 only with `--retries`.
    #[serde(default = "one")]
    pub attempts: u32,
    /// Times the request was sent again on a fresh connection because the pooled one it went
    /// out on had been closed by the server before any byte of a response (not an attempt).
    #[serde(default)]
    pub reconnects: u32,
    /// The server's `x-request-id` header, when it sent one.
    #[serde(default)]
    pub request_id: Option<String>,
    /// The HTTP status; `null` when no response arrived.
    pub status: Option<u16>,
    /// `ok`, `cancelled`, `abandoned` (`--cancel`), or the error kind (`http_500`, `timeout_idle`, …).
    pub outcome: String,
    /// The error message of a failed request.
    pub error: Option<String>,
    /// Request sent → headers, first event, first text, first answer text; ms.
    #[serde(serialize_with = "three")]
    pub ttfb_ms: Option<f64>,
    #[serde(serialize_with = "three")]
    pub ttfe_ms: Option<f64>,
    #[serde(serialize_with = "three")]
    pub ttft_ms: Option<f64>,
    #[serde(serialize_with = "three")]
    pub ttfa_ms: Option<f64>,
    /// (E2E − TTFT) / (output tokens − 1), ms; `null` below 2 tokens.
    #[serde(serialize_with = "three")]
    pub tpot_ms: Option<f64>,
    /// Request sent → end of stream (or the moment it was abandoned), ms.
    #[serde(serialize_with = "three")]
    pub e2e_ms: f64,
    /// Every gap between text events, ms, so ITL percentiles rebuild exactly.
    #[serde(default, serialize_with = "three")]
    pub itl_ms: Vec<f64>,
    /// A cancelled request's silence when it was cut, ms: since its last text event, or since
    /// its start when no text came (`e2e_ms` and the text times give it back); `null` for a
    /// request that ended. The summary's `requests.stalled` counts the long ones.
    #[serde(default, serialize_with = "three")]
    pub silence_ms: Option<f64>,
    /// Output tokens: usage when the server sent it, else `counted_tokens`.
    pub output_tokens: u64,
    /// Where `output_tokens` came from: `usage`, `estimate` or `tokenizer`.
    pub token_source: TokenSource,
    /// Our own count of the text (estimate or `--tokenizer`), to compare with usage.
    #[serde(default)]
    pub counted_tokens: u64,
    /// Usage's prompt tokens, else our count of the prompt (estimate or `--tokenizer`).
    #[serde(default)]
    pub input_tokens: u64,
    /// Our count of the prompt sent (estimate or `--tokenizer`); `null` in older records.
    #[serde(default)]
    pub sent_tokens: Option<u64>,
    /// The server's own count of the prompt, where its usage gave one.
    #[serde(default)]
    pub usage_input_tokens: Option<u64>,
    /// The reasoning part of the output, where usage breaks it out.
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
    /// The part of `input_tokens` the server read from its prompt cache, where usage says.
    #[serde(default)]
    pub cached_tokens: Option<u64>,
    /// The output cap the request asked for (`max_tokens`); `null` when it asked for none.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// The server said the model ended the answer itself (`finish_reason` `stop`, Anthropic
    /// `end_turn`). With `output_tokens` below `max_tokens`, the answer ended early.
    #[serde(default)]
    pub model_stopped: bool,
    /// The answer passed its check (`expect`, `--expect`): `true`, `false` (a wrong answer, still
    /// `ok`), or `null` when it had none or did not succeed.
    #[serde(default)]
    pub expect_ok: Option<bool>,
    /// A wrong answer's first 120 characters; `null` otherwise.
    #[serde(default)]
    pub answer_excerpt: Option<String>,
    /// The server's own latency and time to first token (Dify), ms.
    #[serde(default, serialize_with = "three")]
    pub server_latency_ms: Option<f64>,
    #[serde(default, serialize_with = "three")]
    pub server_ttft_ms: Option<f64>,
    /// SSE events dispatched, text or not.
    #[serde(default)]
    pub events: usize,
    /// Events that carried text (answer or reasoning).
    pub text_events: usize,
    /// Problems that did not fail the request (a malformed event in a good stream).
    pub warnings: Vec<String>,
    /// The run's API (`dify-chat`, `openai-chat`, …), so `llmload report` can name it.
    #[serde(default)]
    pub api: Option<String>,
    /// The run's endpoint URL.
    #[serde(default)]
    pub url: Option<String>,
    /// The request's largest read lag (read time − the kernel's receive time), ms; `null` when a
    /// timed read had no kernel stamp (the user clock) or nothing was read.
    #[serde(default, serialize_with = "three")]
    pub read_lag_max_ms: Option<f64>,
    /// When the request was meant to start, ms since the run started: its place in the
    /// `--rate` schedule, or (closed loop) when its worker was free to send it. `start_ms`
    /// minus this is how late it was sent. `null` in records that predate it.
    #[serde(default, serialize_with = "three")]
    pub scheduled_ms: Option<f64>,
    /// A `--warmup` request: recorded, and kept out of every statistic.
    #[serde(default)]
    pub warmup: bool,
    /// The run's id (`--run-id`, derived from `--start-at`, or random); shards of one run share it.
    #[serde(default)]
    pub run_id: Option<String>,
    /// `INDEX/COUNT` of the shard that sent the request (`--shard`); `null` in a run of one process.
    #[serde(default)]
    pub shard: Option<String>,
}

/// What ties a run's records to the wall clock and to the other shards of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp {
    pub run_id: String,
    pub shard: Option<String>,
    /// The run's start (the instant the reporter measures from), ms since the Unix epoch.
    pub start_unix_ms: f64,
}

impl Stamp {
    /// Writes the stamp into `r`, which started `start` after the run did.
    pub fn apply(&self, r: &mut Record, start: Duration) {
        r.start_unix_ms = Some(self.start_unix_ms + us_ms(start));
        r.run_id = Some(self.run_id.clone());
        r.shard = self.shard.clone();
    }
}

fn one() -> u32 {
    1
}

/// Milliseconds with microsecond resolution.
fn us_ms(d: Duration) -> f64 {
    d.as_micros() as f64 / 1e3
}

/// Milliseconds back to a duration, to the microsecond; clamped (to 11 days) so a corrupt
/// record cannot overflow an `Instant`.
fn ms_us(ms: f64) -> Duration {
    Duration::from_micros((ms * 1e3).round().clamp(0.0, 1e12) as u64)
}

impl Record {
    /// A record with every field zero, empty or `null` (the CSV header reads its keys).
    pub fn empty() -> Record {
        Record {
            worker: 0,
            prompt_index: 0,
            key_index: None,
            turn: 1,
            conversation_id: None,
            session: 0,
            session_start_ms: None,
            start_ms: 0.0,
            start_unix_ms: None,
            attempts: 1,
            reconnects: 0,
            request_id: None,
            status: None,
            outcome: String::new(),
            error: None,
            ttfb_ms: None,
            ttfe_ms: None,
            ttft_ms: None,
            ttfa_ms: None,
            tpot_ms: None,
            e2e_ms: 0.0,
            itl_ms: Vec::new(),
            silence_ms: None,
            output_tokens: 0,
            token_source: TokenSource::Estimate,
            counted_tokens: 0,
            input_tokens: 0,
            sent_tokens: None,
            usage_input_tokens: None,
            reasoning_tokens: None,
            cached_tokens: None,
            max_tokens: None,
            model_stopped: false,
            expect_ok: None,
            answer_excerpt: None,
            server_latency_ms: None,
            server_ttft_ms: None,
            events: 0,
            text_events: 0,
            warnings: Vec::new(),
            api: None,
            url: None,
            read_lag_max_ms: None,
            scheduled_ms: None,
            warmup: false,
            run_id: None,
            shard: None,
        }
    }

    /// The record of `m`, which started `start` after the run did, in a run of `api` at `url`.
    pub fn from_measurement(m: &Measurement, start: Duration, api: &str, url: &str) -> Record {
        let ms = |d: Option<Duration>| d.map(us_ms);
        let (output_tokens, token_source) = m.output_tokens();
        Record {
            worker: m.worker,
            prompt_index: m.prompt_index,
            key_index: m.key_index,
            turn: m.turn,
            conversation_id: m.conversation_id.clone(),
            session: m.session,
            // The first send's offset in whole µs before this one's, so a rebuilt session's
            // duration is the live one to the µs.
            session_start_ms: Some(us_ms(start) - m.session_t0.map_or(0.0, |s0| us_ms(m.t0 - s0))),
            start_ms: us_ms(start),
            start_unix_ms: None,
            attempts: m.attempts,
            reconnects: m.reconnects,
            request_id: m.request_id.clone(),
            status: m.status,
            outcome: m.outcome.name(),
            error: match &m.outcome {
                Outcome::Failed { message, .. } => Some(message.clone()),
                _ => None,
            },
            ttfb_ms: ms(m.ttfb()),
            ttfe_ms: ms(m.ttfe()),
            ttft_ms: ms(m.ttft()),
            ttfa_ms: ms(m.ttfa()),
            tpot_ms: ms(m.tpot()),
            e2e_ms: us_ms(m.e2e()),
            itl_ms: m.itls().map(us_ms).collect(),
            silence_ms: (m.outcome == Outcome::Cancelled).then(|| {
                us_ms(m.end_at.saturating_duration_since(m.text_at.last().copied().unwrap_or(m.t0)))
            }),
            output_tokens,
            token_source,
            counted_tokens: m.counted_tokens,
            input_tokens: m.input_tokens(),
            sent_tokens: Some(m.prompt_counted),
            usage_input_tokens: m.usage_input_tokens,
            reasoning_tokens: m.reasoning_tokens,
            cached_tokens: m.usage_cached_tokens,
            max_tokens: m.max_tokens,
            model_stopped: m.model_stopped,
            expect_ok: m.expect_ok,
            answer_excerpt: m.answer_excerpt.clone(),
            server_latency_ms: ms(m.server_latency()),
            server_ttft_ms: ms(m.server_ttft()),
            events: m.events,
            text_events: m.text_at.len(),
            warnings: m.warnings.clone(),
            api: Some(api.into()),
            url: Some(url.into()),
            read_lag_max_ms: ms(m.read_lag_max()),
            scheduled_ms: Some(us_ms(start.saturating_sub(m.start_delay()))),
            warmup: m.warmup,
            run_id: None,
            shard: None,
        }
    }

    /// The measurement this record describes, placed on a timeline that starts at `run_start`:
    /// the inverse of `from_measurement`, so `llmload report` feeds the same `RunStats::add` as
    /// a live run.
    pub fn to_measurement(&self, run_start: Instant) -> Result<Measurement, String> {
        let t0 = run_start + ms_us(self.start_ms);
        let after = |ms: Option<f64>| ms.map(|ms| t0 + ms_us(ms));
        let mut m = Measurement::new(self.worker, self.prompt_index, self.key_index, t0);
        m.status = self.status;
        m.headers_at = after(self.ttfb_ms);
        m.first_event_at = after(self.ttfe_ms);
        m.first_answer_at = after(self.ttfa_ms);
        if let Some(first) = after(self.ttft_ms) {
            m.text_at.reserve_exact(1 + self.itl_ms.len());
            m.text_at.push(first);
            for &gap in &self.itl_ms {
                let next = *m.text_at.last().unwrap_or(&first) + ms_us(gap);
                m.text_at.push(next);
            }
        }
        m.end_at = t0 + ms_us(self.e2e_ms);
        m.counted_tokens = self.counted_tokens;
        match self.token_source {
            TokenSource::Usage => m.usage_output_tokens = Some(self.output_tokens),
            counter => {
                m.counter = counter;
                m.counted_tokens = self.output_tokens;
            }
        }
        // Both counts of the prompt where the record has them; an older record's one count
        // stands in for usage, so `input_tokens()` gives it back either way.
        match self.sent_tokens {
            Some(sent) => (m.prompt_counted, m.usage_input_tokens) = (sent, self.usage_input_tokens),
            None => m.usage_input_tokens = Some(self.input_tokens),
        }
        m.reasoning_tokens = self.reasoning_tokens;
        m.usage_cached_tokens = self.cached_tokens;
        (m.max_tokens, m.model_stopped) = (self.max_tokens, self.model_stopped);
        (m.expect_ok, m.answer_excerpt) = (self.expect_ok, self.answer_excerpt.clone());
        m.server_latency_s = self.server_latency_ms.map(|ms| ms_us(ms).as_secs_f64());
        m.server_ttft_s = self.server_ttft_ms.map(|ms| ms_us(ms).as_secs_f64());
        m.turn = self.turn;
        m.session = self.session;
        // Counted back from this request's own start, so shards laid on one timeline keep it.
        let before = |s: f64| ms_us(self.start_ms).saturating_sub(ms_us(s));
        m.session_t0 = self.session_start_ms.map(|s| t0.checked_sub(before(s)).unwrap_or(t0));
        m.conversation_id = self.conversation_id.clone();
        m.events = self.events;
        m.outcome = match self.outcome.as_str() {
            "ok" => Outcome::Ok,
            "cancelled" => Outcome::Cancelled,
            "abandoned" => Outcome::Abandoned,
            name => Outcome::Failed {
                kind: ErrorKind::from_name(name).ok_or_else(|| format!("unknown outcome {name:?}"))?,
                message: self.error.clone().unwrap_or_default(),
            },
        };
        m.scheduled = self.scheduled_ms.map_or(t0, |ms| (run_start + ms_us(ms)).min(t0));
        m.warmup = self.warmup;
        m.warnings = self.warnings.clone();
        m.attempts = self.attempts;
        m.reconnects = self.reconnects;
        m.request_id = self.request_id.clone();
        // Only the largest lag is recorded: it stands for the request's reads. A request with a
        // head but no lag had a read on the user clock.
        match (self.read_lag_max_ms, self.status) {
            (Some(lag), _) => m.read_lags_us.push(ms_us(lag).as_micros().min(u32::MAX as u128) as u32),
            (None, Some(_)) => m.user_reads = 1,
            (None, None) => {}
        }
        Ok(m)
    }
}

/// The line for `r`: compact JSON and a newline.
pub fn line(r: &Record) -> Vec<u8> {
    // Plain fields and finite-or-null floats: serializing cannot fail.
    let mut out = serde_json::to_vec(r).unwrap_or_default();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        Record {
            worker: 3,
            prompt_index: 1,
            key_index: Some(0),
            turn: 2,
            conversation_id: Some("c1".into()),
            session: 4,
            session_start_ms: Some(2.5),
            start_ms: 12.5,
            start_unix_ms: Some(1_748_779_200_012.5),
            attempts: 1,
            reconnects: 0,
            request_id: Some("req-7".into()),
            status: Some(200),
            outcome: "ok".into(),
            error: None,
            ttfb_ms: Some(1.5),
            ttfe_ms: Some(2.0),
            ttft_ms: Some(100.25),
            ttfa_ms: Some(100.25),
            tpot_ms: Some(10.0),
            e2e_ms: 200.0,
            itl_ms: vec![10.0, 9.875],
            silence_ms: None,
            output_tokens: 11,
            token_source: TokenSource::Usage,
            counted_tokens: 10,
            input_tokens: 7,
            sent_tokens: Some(6),
            usage_input_tokens: Some(7),
            reasoning_tokens: Some(4),
            cached_tokens: Some(3),
            max_tokens: None,
            model_stopped: false,
            expect_ok: None,
            answer_excerpt: None,
            server_latency_ms: Some(190.5),
            server_ttft_ms: None,
            events: 13,
            text_events: 11,
            warnings: vec![],
            api: Some("dify-chat".into()),
            url: Some("http://127.0.0.1:8080/v1/chat-messages".into()),
            read_lag_max_ms: Some(0.042),
            scheduled_ms: Some(12.0),
            warmup: false,
            run_id: Some("20250601T120000.000Z-4".into()),
            shard: Some("1/4".into()),
        }
    }

    #[test]
    fn exact_line() {
        let got = String::from_utf8(line(&sample())).unwrap();
        assert_eq!(
            got,
            "{\"worker\":3,\"prompt_index\":1,\"key_index\":0,\"turn\":2,\"conversation_id\":\"c1\",\"session\":4,\"session_start_ms\":2.5,\"start_ms\":12.5,\"start_unix_ms\":1748779200012.5,\"attempts\":1,\"reconnects\":0,\"request_id\":\"req-7\",\"status\":200,\"outcome\":\"ok\",\"error\":null,\"ttfb_ms\":1.5,\"ttfe_ms\":2.0,\"ttft_ms\":100.25,\"ttfa_ms\":100.25,\"tpot_ms\":10.0,\"e2e_ms\":200.0,\"itl_ms\":[10.0,9.875],\"silence_ms\":null,\"output_tokens\":11,\"token_source\":\"usage\",\"counted_tokens\":10,\"input_tokens\":7,\"sent_tokens\":6,\"usage_input_tokens\":7,\"reasoning_tokens\":4,\"cached_tokens\":3,\"max_tokens\":null,\"model_stopped\":false,\"expect_ok\":null,\"answer_excerpt\":null,\"server_latency_ms\":190.5,\"server_ttft_ms\":null,\"events\":13,\"text_events\":11,\"warnings\":[],\"api\":\"dify-chat\",\"url\":\"http://127.0.0.1:8080/v1/chat-messages\",\"read_lag_max_ms\":0.042,\"scheduled_ms\":12.0,\"warmup\":false,\"run_id\":\"20250601T120000.000Z-4\",\"shard\":\"1/4\"}
"
        );
        let back: Record = serde_json::from_str(&got).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn times_keep_microseconds_and_floats_lose_their_tails() {
        let r = Record { start_ms: 0.1 + 0.2, server_latency_ms: Some(28.123456789), ..sample() };
        let got = String::from_utf8(line(&r)).unwrap();
        assert!(got.contains("\"start_ms\":0.3,"), "{got}");
        assert!(got.contains("\"server_latency_ms\":28.123,"), "{got}");
    }

    #[test]
    fn older_records_load_with_defaults() {
        let old = "{\"outcome\":\"ok\",\"worker\":0,\"prompt_index\":0,\"key_index\":null,\"status\":200,\"error\":null,\"ttfb_ms\":null,\"ttfe_ms\":null,\"ttft_ms\":null,\"ttfa_ms\":null,\"tpot_ms\":null,\"e2e_ms\":1.0,\"output_tokens\":0,\"token_source\":\"estimate\",\"text_events\":0,\"warnings\":[]}";
        let r: Record = serde_json::from_str(old).unwrap();
        assert_eq!(
            (r.turn, r.attempts, r.start_ms, r.itl_ms.len(), r.events, r.api, r.url, r.read_lag_max_ms),
            (1, 1, 0.0, 0, 0, None, None, None)
        );
        assert_eq!((r.start_unix_ms, r.run_id, r.shard), (None, None, None));
        assert_eq!(r.token_source, TokenSource::Estimate);
    }

    #[test]
    fn a_measurement_round_trips_through_its_record() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut m = Measurement::new(0, 0, None, t0);
        m.headers_at = Some(at(10));
        m.first_event_at = Some(at(20));
        m.text_at = vec![at(100), at(110), at(130)];
        m.first_answer_at = Some(at(110));
        m.end_at = at(140);
        m.usage_output_tokens = Some(5);
        m.counted_tokens = 3;
        m.prompt_counted = 9;
        m.usage_input_tokens = Some(12);
        m.usage_cached_tokens = Some(8);
        m.server_latency_s = Some(0.25);
        m.status = Some(200);
        m.read_lags_us = vec![40, 1_250, 7];
        let r = Record::from_measurement(&m, Duration::from_micros(1_500), "openai-chat", "http://h/v1");
        assert_eq!(r.read_lag_max_ms, Some(1.25));
        assert_eq!(
            (r.input_tokens, r.cached_tokens, r.server_latency_ms, r.server_ttft_ms, r.turn),
            (12, Some(8), Some(250.0), None, 1)
        );
        assert_eq!(
            (r.start_ms, r.ttft_ms, r.itl_ms.clone(), r.e2e_ms),
            (1.5, Some(100.0), vec![10.0, 20.0], 140.0)
        );
        assert_eq!((r.api.as_deref(), r.url.as_deref()), (Some("openai-chat"), Some("http://h/v1")));
        let base = Instant::now();
        let back = r.to_measurement(base).unwrap();
        assert_eq!(back.t0, base + Duration::from_micros(1_500));
        assert_eq!(back.usage_cached_tokens, Some(8));
        assert_eq!(
            (back.ttfb(), back.ttft(), back.ttfa(), back.e2e()),
            (m.ttfb(), m.ttft(), m.ttfa(), m.e2e())
        );
        assert_eq!(back.itls().collect::<Vec<_>>(), m.itls().collect::<Vec<_>>());
        assert_eq!(r.silence_ms, None, "it ended");
        // Cut 500 ms after its last text: its silence, which the times give back.
        m.outcome = Outcome::Cancelled;
        m.end_at = at(630);
        let cut = Record::from_measurement(&m, Duration::ZERO, "openai-chat", "http://h/v1");
        assert_eq!(cut.silence_ms, Some(500.0));
        let back = cut.to_measurement(base).unwrap();
        assert_eq!(back.end_at.duration_since(*back.text_at.last().unwrap()), Duration::from_millis(500));
        assert_eq!((back.output_tokens(), back.input_tokens()), ((5, TokenSource::Usage), 12));
        assert_eq!(back.server_latency(), Some(Duration::from_millis(250)));
        assert_eq!((back.read_lags_us.clone(), back.read_lag_max()), (vec![1_250], m.read_lag_max()));
        // A request on the user clock stays on it.
        m.user_reads = 1;
        let r = Record::from_measurement(&m, Duration::ZERO, "openai-chat", "http://h/v1");
        let back = r.to_measurement(base).unwrap();
        assert_eq!((r.read_lag_max_ms, back.read_lags_us.len(), back.user_reads), (None, 0, 1));
    }
}
