//! One request's raw observations (`Measurement`) and the metrics derived from them, exactly as
//! docs/metrics.md defines them; when a read's bytes arrived (`arrival`: the kernel's stamp where there
//! is one) and the client's own lag that it shows; the error taxonomy (`Outcome`, `ErrorKind`);
//! where a token count came from (`TokenSource`).
//!
//! It stores `Instant`s and derives durations by method. It does not aggregate (see `stats`),
//! write records (see `export::records`) or format (see `output`).

use std::time::{Duration, Instant};

/// Which timeout fired, so users can tell a dead server from a slow one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimeoutPhase {
    /// Resolving and connecting (TCP and TLS).
    Connect,
    /// Sending the request and waiting for the response headers.
    Ttfb,
    /// No byte arrived for too long while streaming.
    Idle,
    /// The whole request took longer than `--timeout`.
    Total,
}

/// Why a request failed. `name()` is the stable key used in JSON and records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// Refused, unreachable, or the host name did not resolve.
    Connect,
    Tls,
    Timeout(TimeoutPhase),
    /// A non-2xx status.
    Http(u16),
    /// A 2xx response that is not an event stream.
    NotSse,
    /// The server sent an error event inside a 2xx stream.
    StreamError,
    /// The stream broke the SSE or protocol framing (oversized line, unusable events).
    Malformed,
    /// The stream ended without its terminal event (cut mid-way).
    Truncated,
    /// The stream ended normally but carried no text.
    NoText,
    /// The connection failed after it was made (reset, broken pipe, HTTP framing error).
    Transport,
}

impl ErrorKind {
    /// The kind a `name()` came from (records are read back by `llmload report`).
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        let kind = match name {
            "connect" => ErrorKind::Connect,
            "tls" => ErrorKind::Tls,
            "timeout_connect" => ErrorKind::Timeout(TimeoutPhase::Connect),
            "timeout_ttfb" => ErrorKind::Timeout(TimeoutPhase::Ttfb),
            "timeout_idle" => ErrorKind::Timeout(TimeoutPhase::Idle),
            "timeout_total" => ErrorKind::Timeout(TimeoutPhase::Total),
            "not_sse" => ErrorKind::NotSse,
            "stream_error" => ErrorKind::StreamError,
            "malformed_stream" => ErrorKind::Malformed,
            "truncated_stream" => ErrorKind::Truncated,
            "no_text" => ErrorKind::NoText,
            "transport" => ErrorKind::Transport,
            _ => ErrorKind::Http(name.strip_prefix("http_")?.parse().ok()?),
        };
        Some(kind)
    }

    pub fn name(&self) -> String {
        match self {
            ErrorKind::Connect => "connect".into(),
            ErrorKind::Tls => "tls".into(),
            ErrorKind::Timeout(TimeoutPhase::Connect) => "timeout_connect".into(),
            ErrorKind::Timeout(TimeoutPhase::Ttfb) => "timeout_ttfb".into(),
            ErrorKind::Timeout(TimeoutPhase::Idle) => "timeout_idle".into(),
            ErrorKind::Timeout(TimeoutPhase::Total) => "timeout_total".into(),
            ErrorKind::Http(code) => format!("http_{code}"),
            ErrorKind::NotSse => "not_sse".into(),
            ErrorKind::StreamError => "stream_error".into(),
            ErrorKind::Malformed => "malformed_stream".into(),
            ErrorKind::Truncated => "truncated_stream".into(),
            ErrorKind::NoText => "no_text".into(),
            ErrorKind::Transport => "transport".into(),
        }
    }
}

/// How a request ended. A request cut by the deadline is `Cancelled`, not a failure; one the
/// client left on purpose (`--cancel`) is `Abandoned`, neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Cancelled,
    Abandoned,
    Failed { kind: ErrorKind, message: String },
}

impl Outcome {
    pub fn name(&self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::Cancelled => "cancelled".into(),
            Outcome::Abandoned => "abandoned".into(),
            Outcome::Failed { kind, .. } => kind.name(),
        }
    }
}

/// Where a request's output token count came from; lowercase in records (`usage`, `estimate`,
/// `tokenizer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenSource {
    Usage,
    Estimate,
    /// `--tokenizer` (a bundled encoding or a tokenizer.json).
    Tokenizer,
}

/// Everything observed about one request, as raw instants and counts.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub worker: usize,
    pub prompt_index: usize,
    pub key_index: Option<usize>,
    /// The instant the request was handed to the HTTP client.
    pub t0: Instant,
    /// When it was meant to start: open loop, its place in the schedule; closed loop, when its
    /// worker was free to send it. Latencies "from schedule" count from here, so a client (or a
    /// full worker pool) that fell behind cannot hide the wait.
    pub scheduled: Instant,
    /// Sent and recorded, but kept out of every statistic (`--warmup`).
    pub warmup: bool,
    /// Open loop: the scheduled start → the send, when a worker was free for the request (the
    /// client's own lateness; `None` when it waited for one, or in a closed loop).
    pub dispatch_lag: Option<Duration>,
    pub status: Option<u16>,
    pub headers_at: Option<Instant>,
    pub first_event_at: Option<Instant>,
    pub first_answer_at: Option<Instant>,
    /// Arrival of every event that carried text (answer or reasoning), in order.
    pub text_at: Vec<Instant>,
    /// Every SSE event dispatched, text or not (pings with data, role chunks, node events…).
    pub events: usize,
    /// Terminal event, or the close of the stream, or the moment the request was abandoned.
    pub end_at: Instant,
    pub usage_output_tokens: Option<u64>,
    pub usage_input_tokens: Option<u64>,
    /// The reasoning part of the output, where usage breaks it out.
    pub reasoning_tokens: Option<u64>,
    /// The part of the usage's input tokens the server read from its prompt cache, where usage
    /// says (`prompt_tokens_details.cached_tokens`, `cache_read_input_tokens`, the Responses
    /// API's `input_tokens_details.cached_tokens`).
    pub usage_cached_tokens: Option<u64>,
    /// Our count of the prompt (estimate or `--tokenizer`), for input tokens when usage has none.
    pub prompt_counted: u64,
    /// The output cap the request asked for (`max_tokens`), if any.
    pub max_tokens: Option<u32>,
    /// The server said the model ended the answer itself (`finish_reason: "stop"`,
    /// `stop_reason: "end_turn"`), not a cap.
    pub model_stopped: bool,
    /// The server's own latency and time to first token, in seconds (Dify reports them).
    pub server_latency_s: Option<f64>,
    pub server_ttft_s: Option<f64>,
    /// The Dify conversation the response belongs to, for the worker's next turn.
    pub conversation_id: Option<String>,
    /// The answer's text, kept for a session's next turn (`ClientSettings::keep_answers`) and for
    /// its check (`expect`) until the engine has made it; never sent to the reporter otherwise.
    pub answer: Option<String>,
    /// A successful request's answer passed its check (`expect`, `--expect`); `None` when it had
    /// none, or did not succeed.
    pub expect_ok: Option<bool>,
    /// A failed check's answer, its first characters (`expect::excerpt`).
    pub answer_excerpt: Option<String>,
    /// 1-based turn in the worker's conversation (always 1 without `--turns`).
    pub turn: u32,
    /// The worker's session this request belongs to (1-based, counted per worker; a request is
    /// a session of one turn without `--turns`), and its first turn's `t0` (`None`: this one's).
    pub session: u32,
    pub session_t0: Option<Instant>,
    /// Our own count of the whole text, by `counter` (the estimate or `--tokenizer`).
    pub counted_tokens: u64,
    pub counter: TokenSource,
    pub outcome: Outcome,
    /// Problems that did not fail the request (a malformed event in an otherwise good stream).
    pub warnings: Vec<String>,
    /// Attempts made (1 without retries); latencies count from the first one's `t0`.
    pub attempts: u32,
    /// Times the request was sent again, over all its attempts, because the pooled connection
    /// it went out on had been closed by the server before any byte of a response (a
    /// reconnect: neither a failure nor an attempt).
    pub reconnects: u32,
    /// The server's `x-request-id`, to find the request in its logs.
    pub request_id: Option<String>,
    /// The client's own lag on each timed read (the response head's, and each that completed
    /// an event) that had a kernel stamp: the read's time − the kernel's receive time, µs.
    /// Bounded: at most one entry per event, and one for the head.
    pub read_lags_us: Vec<u32>,
    /// Timed reads without a kernel stamp, timed when they returned instead (the user clock).
    pub user_reads: u32,
    /// The attempt's start (`t0` for the first) → the request's last byte written, by the
    /// transport's clock.
    pub send_lag: Option<Duration>,
}

/// When the bytes of a read that returned at `read_at` arrived: the kernel's receive time
/// `kernel` where the transport has one, never later than the read (a step of the realtime clock
/// could put it there), else the read time itself.
pub fn arrival(read_at: Instant, kernel: Option<Instant>) -> Instant {
    kernel.map_or(read_at, |k| k.min(read_at))
}

fn between(a: Instant, b: Option<Instant>) -> Option<Duration> {
    b.map(|b| b.saturating_duration_since(a))
}

/// The arrivals a request makes room for when its answer's length is not asked for, and the most
/// it makes room for when it is (`Measurement::make_room`): beyond, a vector grows as usual.
const ARRIVALS_ROOM: usize = 32;
const ARRIVALS_ROOM_MAX: usize = 256;

impl Measurement {
    pub fn new(worker: usize, prompt_index: usize, key_index: Option<usize>, t0: Instant) -> Self {
        Self {
            worker,
            prompt_index,
            key_index,
            t0,
            scheduled: t0,
            warmup: false,
            dispatch_lag: None,
            status: None,
            headers_at: None,
            first_event_at: None,
            answer: None,
            expect_ok: None,
            answer_excerpt: None,
            first_answer_at: None,
            text_at: Vec::new(),
            events: 0,
            end_at: t0,
            usage_output_tokens: None,
            usage_input_tokens: None,
            reasoning_tokens: None,
            usage_cached_tokens: None,
            prompt_counted: 0,
            max_tokens: None,
            model_stopped: false,
            server_latency_s: None,
            server_ttft_s: None,
            conversation_id: None,
            turn: 1,
            session: 0,
            session_t0: None,
            counted_tokens: 0,
            counter: TokenSource::Estimate,
            outcome: Outcome::Ok,
            warnings: Vec::new(),
            attempts: 1,
            reconnects: 0,
            request_id: None,
            read_lags_us: Vec::new(),
            user_reads: 0,
            send_lag: None,
        }
    }

    /// Makes room for the arrivals of an answer of up to `max_tokens` (`ARRIVALS_ROOM` when not
    /// asked, at most `ARRIVALS_ROOM_MAX`), so that a stream does not regrow its vectors as it
    /// goes: each `realloc` takes the malloc arena's lock (`util::sys::malloc_arenas_for`).
    pub fn make_room(&mut self, max_tokens: Option<u32>) {
        let room = max_tokens.map_or(ARRIVALS_ROOM, |t| (t as usize).min(ARRIVALS_ROOM_MAX)) + 2;
        self.text_at.reserve_exact(room);
        self.read_lags_us.reserve_exact(room);
    }

    /// Notes a read whose arrival time a metric uses: its lag behind the kernel's stamp, or
    /// that it had none.
    pub fn timed_read(&mut self, read_at: Instant, kernel: Option<Instant>) {
        match kernel {
            Some(_) => {
                let lag = read_at.duration_since(arrival(read_at, kernel)).as_micros();
                self.read_lags_us.push(lag.min(u32::MAX as u128) as u32);
            }
            None => self.user_reads += 1,
        }
    }

    /// The largest read lag, when every timed read had a kernel stamp; `None` with the user
    /// clock (or no timed read).
    pub fn read_lag_max(&self) -> Option<Duration> {
        let max = self.read_lags_us.iter().max().filter(|_| self.user_reads == 0)?;
        Some(Duration::from_micros(u64::from(*max)))
    }

    pub fn ttfb(&self) -> Option<Duration> {
        between(self.t0, self.headers_at)
    }

    pub fn ttfe(&self) -> Option<Duration> {
        between(self.t0, self.first_event_at)
    }

    pub fn ttft(&self) -> Option<Duration> {
        between(self.t0, self.text_at.first().copied())
    }

    pub fn ttfa(&self) -> Option<Duration> {
        between(self.t0, self.first_answer_at)
    }

    /// Intended start → first text (`ttft_sched`).
    pub fn ttft_sched(&self) -> Option<Duration> {
        between(self.scheduled, self.text_at.first().copied())
    }

    /// Intended start → end (`e2e_sched`).
    pub fn e2e_sched(&self) -> Duration {
        self.end_at.saturating_duration_since(self.scheduled)
    }

    /// Intended start → actual start: the dispatcher's lateness and any wait for a free worker.
    pub fn start_delay(&self) -> Duration {
        self.t0.saturating_duration_since(self.scheduled)
    }

    pub fn e2e(&self) -> Duration {
        self.end_at.saturating_duration_since(self.t0)
    }

    /// Gaps between consecutive text-bearing events.
    pub fn itls(&self) -> impl Iterator<Item = Duration> + '_ {
        self.text_at.windows(2).map(|w| w[1].saturating_duration_since(w[0]))
    }

    /// Server-reported usage when present, else our count of the whole text.
    pub fn output_tokens(&self) -> (u64, TokenSource) {
        match self.usage_output_tokens {
            Some(n) => (n, TokenSource::Usage),
            None => (self.counted_tokens, self.counter),
        }
    }

    /// A successful answer the model ended itself with fewer tokens than the request asked for
    /// (`max_tokens`): the server did not honour the length (no `ignore_eos`, or it ignores it).
    pub fn ended_early(&self) -> bool {
        self.outcome == Outcome::Ok
            && self.model_stopped
            && self.max_tokens.is_some_and(|n| self.output_tokens().0 < u64::from(n))
    }

    /// Server-reported prompt tokens when present, else our count of the prompt.
    pub fn input_tokens(&self) -> u64 {
        self.usage_input_tokens.unwrap_or(self.prompt_counted)
    }

    /// Mean tokens per text event, where the count is known (usage or a real tokenizer, not the
    /// estimate); divides ITL into time per token.
    pub fn tokens_per_event(&self) -> Option<f64> {
        let (tokens, source) = self.output_tokens();
        (source != TokenSource::Estimate && tokens > 0 && !self.text_at.is_empty())
            .then(|| tokens as f64 / self.text_at.len() as f64)
    }

    /// (E2E − TTFT) / (output_tokens − 1), for at least 2 output tokens.
    pub fn tpot(&self) -> Option<Duration> {
        let (tokens, _) = self.output_tokens();
        let ttft = self.ttft()?;
        (tokens >= 2).then(|| (self.e2e().saturating_sub(ttft)).div_f64((tokens - 1) as f64))
    }

    /// The server's own latency (Dify), as a duration; `None` when it sent none or a negative one.
    pub fn server_latency(&self) -> Option<Duration> {
        self.server_latency_s.and_then(|s| Duration::try_from_secs_f64(s).ok())
    }

    /// The server's own time to first token (Dify), as a duration.
    pub fn server_ttft(&self) -> Option<Duration> {
        self.server_ttft_s.and_then(|s| Duration::try_from_secs_f64(s).ok())
    }

    /// (output_tokens − 1) / (t_last_text − t_first_text) in tokens per second.
    pub fn decode_tokens_per_s(&self) -> Option<f64> {
        let (tokens, _) = self.output_tokens();
        let span = self.text_at.last()?.saturating_duration_since(*self.text_at.first()?);
        (tokens >= 2 && !span.is_zero()).then(|| (tokens - 1) as f64 / span.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn derives_every_metric_from_instants() {
        let t0 = Instant::now();
        let mut m = Measurement::new(0, 0, None, t0);
        m.headers_at = Some(at(t0, 10));
        m.first_event_at = Some(at(t0, 20));
        m.text_at = vec![at(t0, 100), at(t0, 110), at(t0, 130)];
        m.first_answer_at = Some(at(t0, 110));
        m.end_at = at(t0, 140);
        m.usage_output_tokens = Some(5);
        m.counted_tokens = 3;
        assert_eq!(m.ttfb(), Some(Duration::from_millis(10)));
        assert_eq!(m.ttfe(), Some(Duration::from_millis(20)));
        assert_eq!(m.ttft(), Some(Duration::from_millis(100)));
        assert_eq!(m.ttfa(), Some(Duration::from_millis(110)));
        assert_eq!(m.e2e(), Duration::from_millis(140));
        let itl: Vec<u64> = m.itls().map(|d| d.as_millis() as u64).collect();
        assert_eq!(itl, [10, 20]);
        assert_eq!(m.output_tokens(), (5, TokenSource::Usage));
        assert_eq!(m.tpot(), Some(Duration::from_millis(10)));
        assert_eq!(m.decode_tokens_per_s(), Some(4.0 / 0.030));
        assert_eq!(m.tokens_per_event(), Some(5.0 / 3.0));
        m.usage_output_tokens = None;
        assert_eq!(m.output_tokens(), (3, TokenSource::Estimate));
        assert_eq!(m.tokens_per_event(), None, "an estimate is not a known count");
        m.prompt_counted = 9;
        assert_eq!(m.input_tokens(), 9);
        m.usage_input_tokens = Some(12);
        assert_eq!(m.input_tokens(), 12);
        m.server_latency_s = Some(0.25);
        assert_eq!((m.server_latency(), m.server_ttft()), (Some(Duration::from_millis(250)), None));
    }

    #[test]
    fn one_token_has_no_tpot_and_no_decode_speed() {
        let t0 = Instant::now();
        let mut m = Measurement::new(0, 0, None, t0);
        m.text_at = vec![at(t0, 50)];
        m.end_at = at(t0, 60);
        m.usage_output_tokens = Some(1);
        assert_eq!(m.tpot(), None);
        assert_eq!(m.decode_tokens_per_s(), None);
        assert_eq!(m.itls().count(), 0);
    }

    #[test]
    fn a_read_arrives_at_its_kernel_stamp_never_after_the_read() {
        let read_at = Instant::now() + Duration::from_millis(10);
        let kernel = read_at - Duration::from_micros(250);
        assert_eq!(arrival(read_at, Some(kernel)), kernel);
        assert_eq!(arrival(read_at, None), read_at);
        assert_eq!(arrival(read_at, Some(read_at + Duration::from_micros(3))), read_at);
    }

    #[test]
    fn read_lags_and_the_user_clock() {
        let read_at = Instant::now() + Duration::from_millis(10);
        let mut m = Measurement::new(0, 0, None, Instant::now());
        assert_eq!(m.read_lag_max(), None, "no timed read");
        m.timed_read(read_at, Some(read_at - Duration::from_micros(250)));
        m.timed_read(read_at, Some(read_at - Duration::from_micros(40)));
        m.timed_read(read_at, Some(read_at + Duration::from_micros(3)));
        assert_eq!((m.read_lags_us.clone(), m.user_reads), (vec![250, 40, 0], 0));
        assert_eq!(m.read_lag_max(), Some(Duration::from_micros(250)));
        m.timed_read(read_at, None);
        assert_eq!((m.read_lags_us.len(), m.user_reads), (3, 1));
        assert_eq!(m.read_lag_max(), None, "a read on the user clock");
    }

    #[test]
    fn kind_names_are_stable() {
        assert_eq!(ErrorKind::Http(429).name(), "http_429");
        assert_eq!(ErrorKind::Timeout(TimeoutPhase::Idle).name(), "timeout_idle");
        assert_eq!(Outcome::Cancelled.name(), "cancelled");
    }
}
