//! The statistics of a run or of one second of it: outcome counts, errors by kind, token totals,
//! one histogram per metric, and the client's own lag and clock. Mergeable (`+=`), so per-second
//! windows add up to the total exactly. Recorded in microseconds; `summary` scales to
//! milliseconds. With `--slo`, every request that passes `add` is judged against the objectives
//! (`slo::SloTally`), so a live run and `llmload report` judge alike.

use super::Histogram;
use crate::measure::{Measurement, Outcome, TokenSource};
use crate::slo::{Slo, SloTally};
use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::time::Duration;

/// How often an error kind happened, with the first message seen (later ones are usually alike).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorTally {
    pub count: u64,
    pub first_message: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    /// `--warmup` requests: recorded, and in no other number here.
    pub warmup: u64,
    /// Each session turn's requests (`--turns`), by 1-based turn.
    pub by_turn: BTreeMap<u32, TurnTally>,
    pub ok: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Requests the client left on purpose (`--cancel`): neither failures nor in any latency.
    pub abandoned: u64,
    /// Requests that needed more than one attempt (`--retries`), whatever their outcome.
    pub retried: u64,
    /// Attempts of every request, retries included.
    pub attempts: u64,
    /// Sends again on a fresh connection after a pooled one turned out closed (`Measurement::reconnects`).
    pub reconnects: u64,
    pub errors: BTreeMap<String, ErrorTally>,
    /// Output tokens of successful requests, and of cancelled ones the text they received
    /// before the cut.
    pub output_tokens: u64,
    /// Usage's prompt tokens, else our count of the prompt, of successful requests and of
    /// cancelled ones that received text (the server had read their prompt).
    pub input_tokens: u64,
    /// Cancelled requests that received text, whose tokens are in `output_tokens` and
    /// `input_tokens` (counted by our own counter, as usage comes only at a stream's end).
    pub tokens_cancelled: u64,
    /// Abandoned requests that received text, whose tokens are in `output_tokens` and
    /// `input_tokens` (counted by our own counter).
    pub tokens_abandoned: u64,
    /// Output tokens received by requests in no other count here: `--warmup` requests and
    /// failed ones (a stream that broke after text). A server generated them all the same:
    /// with `output_tokens`, what its generation counter should have grown by.
    pub unmeasured_output_tokens: u64,
    /// The reasoning part of `output_tokens`, where usage breaks it out.
    pub reasoning_tokens: u64,
    /// Successful requests whose usage said how much of the prompt the server's cache held;
    /// their cached input tokens, and their input tokens (the cache-hit share's denominator).
    pub cache_reported: u64,
    pub cached_input_tokens: u64,
    pub cache_input_tokens: u64,
    /// Successful requests whose token count came from usage / the estimate / `--tokenizer`.
    pub tokens_from_usage: u64,
    pub tokens_estimated: u64,
    pub tokens_from_tokenizer: u64,
    /// Successful requests with both usage and our own count, and how far apart they were.
    pub usage_check: UsageCheck,
    /// Successful requests with the server's prompt count and ours of what was sent.
    pub prompt_check: PromptCheck,
    /// Requests that succeeded with warnings (malformed events, invalid UTF-8).
    pub with_warnings: u64,
    /// Successful answers the model ended itself below the asked `max_tokens`
    /// (`Measurement::ended_early`).
    pub ended_early: u64,
    /// Successful requests whose answer was checked (`Measurement::expect_ok`), and of them
    /// those whose answer failed its check (still `ok`, in every latency).
    pub answers_checked: u64,
    pub wrong_answers: u64,
    pub ttfb: Histogram,
    pub ttfe: Histogram,
    pub ttft: Histogram,
    pub ttfa: Histogram,
    pub itl: Histogram,
    pub tpot: Histogram,
    pub e2e: Histogram,
    /// TTFT and E2E from each request's intended start (`Measurement::scheduled`).
    pub ttft_sched: Histogram,
    pub e2e_sched: Histogram,
    /// Each request's intended start → actual start, whatever its outcome.
    pub start_delay: Histogram,
    pub tokens_per_request: Histogram,
    /// Input tokens per successful request: the server's usage, else our count of the prompt.
    pub input_per_request: Histogram,
    /// Milli-tokens per second, so integer buckets keep three decimals.
    pub decode_mtps: Histogram,
    /// The server's own latency and TTFT (Dify), beside ours.
    pub server_latency: Histogram,
    pub server_ttft: Histogram,
    /// Mean tokens per text event of each request, in thousandths (known counts only).
    pub tokens_per_event_milli: Histogram,
    /// Every ITL gap divided by its request's tokens per event.
    pub itl_per_token: Histogram,
    /// The client's own lag on every timed read with a kernel stamp, of every request whatever
    /// its outcome (a rebuilt run: each record's largest).
    pub read_lag: Histogram,
    /// Each request's attempt start → last request byte written, whatever its outcome.
    pub send_lag: Histogram,
    /// Timed reads without a kernel stamp: while there are none (and some reads), every arrival
    /// time of the run came from the kernel.
    pub user_reads: u64,
    /// The client's lateness in starting what it was told to: closed loop, each worker's
    /// scheduled start (the run's start plus its ramp-up offset) → when it started; open loop,
    /// each request's scheduled start → when it was sent, when a worker was free for it (a
    /// wait for a free worker is the server's slowness, not the client's).
    pub start_lag: Histogram,
    /// Closed loop: each worker's first connection, opened before the run's clock started
    /// (`Client::preconnect`), µs; kept apart from every request's times, as wrk does.
    pub connect: Histogram,
    /// Each request judged against `--slo`; `None` without one.
    pub slo: Option<SloTally>,
    /// Each cancelled request's silence when it was cut, ms: since its last text event, for
    /// those that had received text…
    pub cut_silence_streaming: Histogram,
    /// …and since its start, for those that had not. `stalls` judges them against the run's ITL
    /// and TTFT.
    pub cut_silence_waiting: Histogram,
}

/// A cut request is stalled when it had been silent for at least `STALL_FACTOR` times the p99
/// of the wait it was in (ITL once it had text, TTFT before), and never less than
/// `STALL_FLOOR_MS`.
pub const STALL_FACTOR: u64 = 10;
pub const STALL_FLOOR_MS: u64 = 1000;

/// The cancelled requests that were stalled when the run cut them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stalls {
    pub count: u64,
    /// The longest silence among them, ms; 0 when there is none.
    pub longest_ms: u64,
}

/// Usage against our own count (estimate or tokenizer): how users catch a wrong tokenizer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageCheck {
    pub compared: u64,
    pub differ: u64,
    /// |counted − usage| / usage of each compared request, in basis points (1/100 %).
    pub abs_diff_bp: Histogram,
}

impl AddAssign<&UsageCheck> for UsageCheck {
    fn add_assign(&mut self, o: &UsageCheck) {
        self.compared += o.compared;
        self.differ += o.differ;
        self.abs_diff_bp += &o.abs_diff_bp;
    }
}

/// One session turn's requests: how many, how many succeeded, their TTFT, and their prompt
/// tokens with the part the server read from its cache (where usage said).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TurnTally {
    pub requests: u64,
    pub ok: u64,
    pub ttft: Histogram,
    pub input_tokens: u64,
    pub cached_tokens: u64,
    /// Input tokens of the requests whose usage reported the cache.
    pub cache_input_tokens: u64,
    /// Of its successful requests, their session so far, µs: the session's first send → this
    /// turn's end (the whole µs to this turn's send plus its E2E, as a record rebuilds it). A
    /// failed turn ends its session, so a session's turn k succeeds only after turns 1..k did.
    pub session_us: Histogram,
}

impl TurnTally {
    fn add(&mut self, m: &Measurement) {
        self.requests += 1;
        if m.outcome != Outcome::Ok {
            return;
        }
        self.ok += 1;
        if let Some(t) = m.ttft() {
            self.ttft.record(us(t));
        }
        self.input_tokens += m.input_tokens();
        let since_first = m.session_t0.map_or(Duration::ZERO, |s0| m.t0.saturating_duration_since(s0));
        self.session_us.record(us(since_first) + us(m.end_at.saturating_duration_since(m.t0)));
        if let Some(c) = m.usage_cached_tokens {
            (self.cached_tokens, self.cache_input_tokens) =
                (self.cached_tokens + c, self.cache_input_tokens + m.input_tokens());
        }
    }
}

impl AddAssign<&TurnTally> for TurnTally {
    fn add_assign(&mut self, o: &TurnTally) {
        self.requests += o.requests;
        self.ok += o.ok;
        self.ttft += &o.ttft;
        self.input_tokens += o.input_tokens;
        self.cached_tokens += o.cached_tokens;
        self.cache_input_tokens += o.cache_input_tokens;
        self.session_us += &o.session_us;
    }
}

/// The server's prompt tokens (usage) against our count of the prompt sent (estimate or
/// `--tokenizer`): a chat template adds the same tokens to every prompt, a wrong tokenizer is off
/// in proportion to the prompt's length, so the per-request difference tells them apart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptCheck {
    pub compared: u64,
    /// Our counts and the server's, summed over the compared requests.
    pub sent: u64,
    pub reported: u64,
    /// reported − sent of each compared request: the differences ≥ 0, and the others negated.
    pub over: Histogram,
    pub under: Histogram,
}

impl PromptCheck {
    /// Adds one request that sent `sent` tokens by our count and that the server counted as
    /// `reported`.
    pub fn add(&mut self, sent: u64, reported: u64) {
        self.compared += 1;
        self.sent += sent;
        self.reported += reported;
        match reported.checked_sub(sent) {
            Some(d) => self.over.record(d),
            None => self.under.record(sent - reported),
        }
    }

    /// The difference reported − sent at quantile `q` (the ceil(q·n)-th smallest, as
    /// `Histogram::quantile`); `None` when nothing was compared.
    pub fn diff_quantile(&self, q: f64) -> Option<i64> {
        let n = self.compared;
        if n == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).clamp(1, n);
        let below = self.under.count();
        let at = |h: &Histogram, rank: u64| {
            // The quantile whose rank is `rank` in `h`, safe from rounding at the boundary.
            h.quantile((rank as f64 - 0.5) / h.count() as f64).map_or(0, |v| v as i64)
        };
        Some(match rank <= below {
            // The negated ones in descending order of size come first.
            true => -at(&self.under, below - rank + 1),
            false => at(&self.over, rank - below),
        })
    }
}

impl AddAssign<&PromptCheck> for PromptCheck {
    fn add_assign(&mut self, o: &PromptCheck) {
        self.compared += o.compared;
        self.sent += o.sent;
        self.reported += o.reported;
        self.over += &o.over;
        self.under += &o.under;
    }
}

fn us(d: Duration) -> u64 {
    d.as_micros().min(u64::MAX as u128) as u64
}

impl RunStats {
    /// Empty statistics that judge every request `add`ed against `slo`, when there is one.
    pub fn judged_by(slo: Option<&Slo>) -> RunStats {
        RunStats { slo: slo.cloned().map(SloTally::new), ..RunStats::default() }
    }

    /// Empty statistics that judge as these do (the next window of a run).
    pub fn fresh(&self) -> RunStats {
        RunStats::judged_by(self.slo.as_ref().map(|t| &t.slo))
    }

    pub fn total(&self) -> u64 {
        self.ok + self.failed + self.cancelled + self.abandoned
    }

    /// The share of the run's ITL gaps that read 0: both events came in one read, which has
    /// one arrival time (`None` without gaps). Gaps are µs, and the histogram is exact there.
    pub fn gaps_read_together(&self) -> Option<f64> {
        let all = self.itl.count();
        (all > 0).then(|| (all - self.itl.count_at_least(1)) as f64 / all as f64)
    }

    /// Whether every timed read of the run had a kernel stamp (and there was one).
    pub fn kernel_clock(&self) -> bool {
        self.user_reads == 0 && !self.read_lag.is_empty()
    }

    /// Adds a worker that started `lag` after its scheduled start.
    pub fn worker_up(&mut self, lag: Duration) {
        self.start_lag.record(us(lag));
    }

    /// The stall threshold for a silence in a wait whose p99 was `p99_us` (none: the floor), ms.
    pub fn stall_threshold_ms(p99_us: Option<u64>) -> u64 {
        STALL_FLOOR_MS.max(p99_us.map_or(0, |us| (us * STALL_FACTOR).div_ceil(1000)))
    }

    /// The cancelled requests that were stalled at the cut: silent since their last text event
    /// for at least `stall_threshold_ms` of the run's ITL p99, or, with no text yet, since their
    /// start for at least that of its TTFT p99.
    pub fn stalls(&self) -> Stalls {
        let (mut count, mut longest_ms) = (0, 0);
        for (silences, p99) in [
            (&self.cut_silence_streaming, self.itl.quantile(0.99)),
            (&self.cut_silence_waiting, self.ttft.quantile(0.99)),
        ] {
            let n = silences.count_at_least(Self::stall_threshold_ms(p99));
            if n > 0 {
                count += n;
                longest_ms = longest_ms.max(silences.max().unwrap_or(0));
            }
        }
        Stalls { count, longest_ms }
    }

    /// Adds one finished request. Latency metrics come from successful requests, so a fast 429
    /// never makes the server look quick, and from cancelled ones as far as they got (`add_cut`).
    pub fn add(&mut self, m: &Measurement) {
        if m.warmup {
            self.warmup += 1;
            self.unmeasured_output_tokens += m.output_tokens().0;
            return;
        }
        self.start_delay.record(us(m.start_delay()));
        if let Some(lag) = m.dispatch_lag {
            self.start_lag.record(us(lag));
        }
        if let Some(t) = &mut self.slo {
            t.add(m);
        }
        self.by_turn.entry(m.turn.max(1)).or_default().add(m);
        for &lag in &m.read_lags_us {
            self.read_lag.record(u64::from(lag));
        }
        if let Some(d) = m.send_lag {
            self.send_lag.record(us(d));
        }
        self.user_reads += u64::from(m.user_reads);
        self.attempts += u64::from(m.attempts);
        self.reconnects += u64::from(m.reconnects);
        if let Some(ok) = m.expect_ok {
            self.answers_checked += 1;
            self.wrong_answers += u64::from(!ok);
        }
        if m.attempts > 1 {
            self.retried += 1;
        }
        match &m.outcome {
            Outcome::Cancelled => self.add_cut(m),
            Outcome::Abandoned => self.add_abandoned(m),
            Outcome::Failed { kind, message } => {
                self.failed += 1;
                if !m.text_at.is_empty() {
                    self.unmeasured_output_tokens += m.output_tokens().0;
                }
                self.errors
                    .entry(kind.name())
                    .and_modify(|t| t.count += 1)
                    .or_insert_with(|| ErrorTally { count: 1, first_message: message.clone() });
            }
            Outcome::Ok => self.add_ok(m),
        }
    }

    /// A request the run cut (the deadline, or an interrupt's end): what it received before the
    /// cut is as measured as a finished request's. Its times to the first header, event, text
    /// and answer that came, every ITL gap between text events that came, and the tokens of its
    /// text (with its prompt's, once text came) count; E2E, TPOT, decode speed and tokens per
    /// request, which the cut would shorten, do not. Its silence at the cut is kept for `stalls`.
    fn add_cut(&mut self, m: &Measurement) {
        self.cancelled += 1;
        self.add_received(m);
        let ms = |d: Duration| d.as_millis().min(u128::from(u64::MAX)) as u64;
        match m.text_at.last() {
            Some(&last) => {
                self.tokens_cancelled += 1;
                self.output_tokens += m.output_tokens().0;
                self.input_tokens += m.input_tokens();
                self.cut_silence_streaming.record(ms(m.end_at.saturating_duration_since(last)));
            }
            None => self.cut_silence_waiting.record(ms(m.e2e())),
        }
    }

    /// A request the client left on purpose (`--cancel`): counted apart, with the tokens it
    /// received before it left (and its prompt's, once text came); none of its times counts,
    /// since when it left was the client's choice (a delay's cut would keep only the quick
    /// first tokens, and bias TTFT low).
    fn add_abandoned(&mut self, m: &Measurement) {
        self.abandoned += 1;
        if !m.text_at.is_empty() {
            self.tokens_abandoned += 1;
            self.output_tokens += m.output_tokens().0;
            self.input_tokens += m.input_tokens();
        }
    }

    /// What any request measured as far as it got, finished or cut: its times to the first
    /// header, event, text and answer that came, and every ITL gap between text events.
    fn add_received(&mut self, m: &Measurement) {
        let firsts = [
            (&mut self.ttfb, m.ttfb()),
            (&mut self.ttfe, m.ttfe()),
            (&mut self.ttft, m.ttft()),
            (&mut self.ttfa, m.ttfa()),
            (&mut self.ttft_sched, m.ttft_sched()),
        ];
        record_each(firsts);
        for gap in m.itls() {
            self.itl.record(us(gap));
        }
    }

    fn add_ok(&mut self, m: &Measurement) {
        self.ok += 1;
        if !m.warnings.is_empty() {
            self.with_warnings += 1;
        }
        self.ended_early += u64::from(m.ended_early());
        let (tokens, source) = m.output_tokens();
        self.output_tokens += tokens;
        self.input_tokens += m.input_tokens();
        self.reasoning_tokens += m.reasoning_tokens.unwrap_or(0);
        if let Some(cached) = m.usage_cached_tokens {
            self.cache_reported += 1;
            self.cached_input_tokens += cached;
            self.cache_input_tokens += m.input_tokens();
        }
        match source {
            TokenSource::Usage => self.tokens_from_usage += 1,
            TokenSource::Estimate => self.tokens_estimated += 1,
            TokenSource::Tokenizer => self.tokens_from_tokenizer += 1,
        }
        if let Some(usage) = m.usage_output_tokens.filter(|&u| u > 0) {
            let diff = m.counted_tokens.abs_diff(usage);
            self.usage_check.compared += 1;
            self.usage_check.differ += u64::from(diff > 0);
            self.usage_check.abs_diff_bp.record(diff * 10_000 / usage);
        }
        // A prompt of no tokens by our count is one we do not know (a summary rebuilt from
        // records of older versions). A session's later turn is left out: its history holds
        // answers our counter reads back as text and a chat template's tokens for each message.
        if let Some(reported) = m.usage_input_tokens.filter(|_| m.prompt_counted > 0 && m.turn <= 1) {
            self.prompt_check.add(m.prompt_counted, reported);
        }
        if let Some(tpe) = m.tokens_per_event() {
            self.tokens_per_event_milli.record((tpe * 1000.0).round() as u64);
            for gap in m.itls() {
                self.itl_per_token.record((us(gap) as f64 / tpe).round() as u64);
            }
        }
        self.tokens_per_request.record(tokens);
        self.input_per_request.record(m.input_tokens());
        self.add_received(m);
        let whole = [
            (&mut self.tpot, m.tpot()),
            (&mut self.e2e, Some(m.e2e())),
            (&mut self.e2e_sched, Some(m.e2e_sched())),
            (&mut self.server_latency, m.server_latency()),
            (&mut self.server_ttft, m.server_ttft()),
        ];
        record_each(whole);
        if let Some(tps) = m.decode_tokens_per_s() {
            self.decode_mtps.record((tps * 1000.0).round() as u64);
        }
    }
}

/// Records each duration that is there into its histogram.
fn record_each<const N: usize>(pairs: [(&mut Histogram, Option<Duration>); N]) {
    for (h, d) in pairs {
        if let Some(d) = d {
            h.record(us(d));
        }
    }
}

impl AddAssign<&RunStats> for RunStats {
    fn add_assign(&mut self, o: &RunStats) {
        self.warmup += o.warmup;
        self.ok += o.ok;
        self.failed += o.failed;
        self.cancelled += o.cancelled;
        self.abandoned += o.abandoned;
        self.retried += o.retried;
        self.attempts += o.attempts;
        self.reconnects += o.reconnects;
        self.ended_early += o.ended_early;
        self.answers_checked += o.answers_checked;
        self.wrong_answers += o.wrong_answers;
        for (kind, t) in &o.errors {
            self.errors
                .entry(kind.clone())
                .and_modify(|mine| mine.count += t.count)
                .or_insert_with(|| t.clone());
        }
        self.output_tokens += o.output_tokens;
        self.input_tokens += o.input_tokens;
        self.tokens_cancelled += o.tokens_cancelled;
        self.tokens_abandoned += o.tokens_abandoned;
        self.unmeasured_output_tokens += o.unmeasured_output_tokens;
        self.reasoning_tokens += o.reasoning_tokens;
        self.cache_reported += o.cache_reported;
        self.cached_input_tokens += o.cached_input_tokens;
        self.cache_input_tokens += o.cache_input_tokens;
        self.tokens_from_usage += o.tokens_from_usage;
        self.tokens_estimated += o.tokens_estimated;
        self.tokens_from_tokenizer += o.tokens_from_tokenizer;
        self.usage_check += &o.usage_check;
        self.prompt_check += &o.prompt_check;
        for (turn, t) in &o.by_turn {
            *self.by_turn.entry(*turn).or_default() += t;
        }
        self.with_warnings += o.with_warnings;
        self.ttfb += &o.ttfb;
        self.ttfe += &o.ttfe;
        self.ttft += &o.ttft;
        self.ttfa += &o.ttfa;
        self.itl += &o.itl;
        self.tpot += &o.tpot;
        self.e2e += &o.e2e;
        self.ttft_sched += &o.ttft_sched;
        self.e2e_sched += &o.e2e_sched;
        self.start_delay += &o.start_delay;
        self.tokens_per_request += &o.tokens_per_request;
        self.input_per_request += &o.input_per_request;
        self.decode_mtps += &o.decode_mtps;
        self.server_latency += &o.server_latency;
        self.server_ttft += &o.server_ttft;
        self.tokens_per_event_milli += &o.tokens_per_event_milli;
        self.itl_per_token += &o.itl_per_token;
        self.read_lag += &o.read_lag;
        self.send_lag += &o.send_lag;
        self.user_reads += o.user_reads;
        self.start_lag += &o.start_lag;
        self.connect += &o.connect;
        self.cut_silence_streaming += &o.cut_silence_streaming;
        self.cut_silence_waiting += &o.cut_silence_waiting;
        match (&mut self.slo, &o.slo) {
            (Some(mine), Some(theirs)) => *mine += theirs,
            (None, Some(theirs)) => self.slo = Some(theirs.clone()),
            (_, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::ErrorKind;
    use std::time::Instant;

    fn ok(t0: Instant, ttft_ms: u64, tokens: u64) -> Measurement {
        let mut m = Measurement::new(0, 0, None, t0);
        m.read_lags_us = (0..tokens as u32).map(|i| 10 + i).collect();
        m.send_lag = Some(Duration::from_micros(ttft_ms));
        m.headers_at = Some(t0 + Duration::from_millis(1));
        m.text_at = (0..tokens).map(|i| t0 + Duration::from_millis(ttft_ms + 10 * i)).collect();
        m.end_at = *m.text_at.last().unwrap();
        m.usage_output_tokens = Some(tokens);
        m
    }

    fn failed(kind: ErrorKind, msg: &str) -> Measurement {
        let mut m = Measurement::new(0, 0, None, Instant::now());
        m.outcome = Outcome::Failed { kind, message: msg.into() };
        m
    }

    #[test]
    fn wrong_answers_are_counted_and_keep_their_latencies() {
        let t0 = Instant::now();
        let (mut a, mut b) = (RunStats::default(), RunStats::default());
        let mut right = ok(t0, 100, 5);
        right.expect_ok = Some(true);
        let mut wrong = ok(t0, 200, 3);
        wrong.expect_ok = Some(false);
        a.add(&right);
        a.add(&ok(t0, 100, 5)); // no check
        b.add(&wrong);
        let mut warm = wrong.clone();
        warm.warmup = true;
        b.add(&warm);
        a += &b;
        assert_eq!((a.ok, a.answers_checked, a.wrong_answers, a.ttft.count()), (3, 2, 1, 3));
    }

    #[test]
    fn counts_outcomes_errors_and_tokens() {
        let t0 = Instant::now();
        let mut s = RunStats::default();
        s.add(&ok(t0, 100, 5));
        s.add(&ok(t0, 200, 3));
        s.add(&failed(ErrorKind::Http(429), "first"));
        s.add(&failed(ErrorKind::Http(429), "second"));
        let mut c = Measurement::new(0, 0, None, t0);
        c.outcome = Outcome::Cancelled;
        s.add(&c);
        assert_eq!((s.ok, s.failed, s.cancelled, s.total()), (2, 2, 1, 5));
        assert_eq!((s.retried, s.attempts), (0, 5));
        let mut retried = failed(ErrorKind::Http(503), "busy");
        retried.attempts = 3;
        retried.reconnects = 2;
        s.add(&retried);
        assert_eq!((s.retried, s.attempts, s.reconnects), (1, 8, 2));
        assert_eq!(s.errors["http_429"], ErrorTally { count: 2, first_message: "first".into() });
        assert_eq!((s.output_tokens, s.tokens_from_usage, s.tokens_estimated), (8, 2, 0));
        assert_eq!(s.ttft.count(), 2);
        // Usage and the (zero) counted tokens disagree on both successful requests.
        assert_eq!((s.usage_check.compared, s.usage_check.differ), (2, 2));
        assert_eq!(s.tokens_per_event_milli.count(), 2);
        assert_eq!(s.itl_per_token.count(), 6);
        assert_eq!(s.itl.count(), 4 + 2);
        let p50 = s.ttft.quantile(0.5).unwrap() as f64;
        assert!((p50 - 100_000.0).abs() <= 100.0, "{p50}");
        // The client's lags count every request; the clock is the kernel's until a read is not.
        assert_eq!((s.read_lag.count(), s.read_lag.quantile(1.0), s.send_lag.count()), (8, Some(14), 2));
        assert!(s.kernel_clock());
        let mut user = failed(ErrorKind::Transport, "reset");
        user.user_reads = 1;
        s.add(&user);
        assert_eq!((s.user_reads, s.kernel_clock()), (1, false));
        assert!(!RunStats::default().kernel_clock(), "no read, no kernel clock");
    }

    /// A request cut `cut_ms` after its start, having received text at `text_ms` (its first
    /// header 1 ms in) and `counted` tokens by our own count.
    fn cut(t0: Instant, text_ms: &[u64], cut_ms: u64, counted: u64) -> Measurement {
        let mut m = Measurement::new(0, 0, None, t0);
        m.outcome = Outcome::Cancelled;
        m.headers_at = Some(t0 + Duration::from_millis(1));
        m.first_event_at = text_ms.first().map(|&ms| t0 + Duration::from_millis(ms));
        m.first_answer_at = m.first_event_at;
        m.text_at = text_ms.iter().map(|&ms| t0 + Duration::from_millis(ms)).collect();
        m.end_at = t0 + Duration::from_millis(cut_ms);
        m.counted_tokens = counted;
        m.prompt_counted = 2;
        m
    }

    #[test]
    fn a_cut_request_counts_what_it_received_and_nothing_the_cut_shortened() {
        let t0 = Instant::now();
        let mut s = RunStats::default();
        s.add(&ok(t0, 100, 5)); // TTFT 100 ms, four 10 ms gaps, 5 tokens from usage
        s.add(&cut(t0, &[200, 210, 220], 230, 3)); // streaming when cut
        s.add(&cut(t0, &[], 500, 0)); // waiting for its first text
        assert_eq!((s.ok, s.cancelled, s.total()), (1, 2, 3));
        // Times to the first X: every request that got X (both cut ones had headers, the one
        // with text its first event and answer too; `ok` sets neither).
        assert_eq!((s.ttfb.count(), s.ttfe.count(), s.ttft.count(), s.ttfa.count()), (3, 1, 2, 1));
        assert_eq!((s.ttft.min(), s.ttft.max(), s.ttft_sched.count()), (Some(100_000), Some(200_000), 2));
        // Gaps between text that came: 4 + 2.
        assert_eq!(s.itl.count(), 6);
        // Tokens: 5 from usage, 3 counted before the cut; the prompt (2) of the cut one with text
        // (`ok` counts none).
        assert_eq!((s.output_tokens, s.input_tokens, s.tokens_cancelled), (8, 2, 1));
        assert_eq!((s.tokens_from_usage, s.tokens_estimated), (1, 0), "sources count finished requests");
        // What the cut shortens: the ok request's only.
        let shortened = [&s.e2e, &s.e2e_sched, &s.tpot, &s.tokens_per_request, &s.decode_mtps];
        assert_eq!(shortened.map(Histogram::count), [1; 5]);
        assert_eq!((s.cut_silence_streaming.max(), s.cut_silence_waiting.max()), (Some(10), Some(500)));
    }

    #[test]
    fn a_request_cut_after_a_silence_of_ten_p99s_and_at_least_a_second_is_stalled() {
        assert_eq!(RunStats::stall_threshold_ms(None), 1000);
        assert_eq!(RunStats::stall_threshold_ms(Some(10_000)), 1000, "10 × 10 ms is under the floor");
        assert_eq!(RunStats::stall_threshold_ms(Some(250_001)), 2501);
        let t0 = Instant::now();
        let mut s = RunStats::default();
        // ITL p99 10 ms (gaps of 10 ms): 1 s is the threshold once text came; TTFT p99 is 300 ms
        // (the cut ones' 300 ms first text included; to the histogram's 0.1 %): 3 s before.
        s.add(&ok(t0, 100, 50));
        s.add(&cut(t0, &[300, 310], 1309, 2)); // 999 ms of silence: not stalled
        s.add(&cut(t0, &[300, 310], 1310, 2)); // 1 s: stalled
        s.add(&cut(t0, &[300], 6300, 1)); // 6 s: stalled
        s.add(&cut(t0, &[], 2900, 0)); // no text, under 3 s: not stalled
        s.add(&cut(t0, &[], 3100, 0)); // stalled
        assert_eq!(s.stalls(), Stalls { count: 3, longest_ms: 6000 });
        // A run whose every request stalled before any text: the floor alone judges.
        let mut none = RunStats::default();
        none.add(&cut(t0, &[], 2000, 0));
        none.add(&cut(t0, &[], 999, 0));
        assert_eq!(none.stalls(), Stalls { count: 1, longest_ms: 2000 });
        assert_eq!(RunStats::default().stalls(), Stalls::default());
    }

    #[test]
    fn prompt_differences_keep_their_sign_and_order() {
        let mut c = PromptCheck::default();
        assert_eq!(c.diff_quantile(0.5), None);
        // Differences −30, −5, 0, 15, 15, 2000 (over 1024: to the histogram's 0.1 %).
        for (sent, reported) in [(100, 70), (10, 5), (7, 7), (200, 215), (300, 315), (1000, 3000)] {
            c.add(sent, reported);
        }
        assert_eq!((c.compared, c.sent, c.reported), (6, 1617, 3612));
        let q = |q| c.diff_quantile(q).unwrap();
        assert_eq!(
            [q(0.0), q(0.1), q(0.2), q(0.34), q(0.5), q(0.6), q(0.67), q(0.9)],
            [-30, -30, -5, 0, 0, 15, 15, 2000]
        );
        let mut merged = PromptCheck::default();
        merged += &c;
        assert_eq!(merged, c);
    }

    #[test]
    fn windows_add_up_to_the_whole() {
        let t0 = Instant::now();
        let all: Vec<Measurement> = (0..30)
            .map(|i| if i % 7 == 0 { failed(ErrorKind::Truncated, "cut") } else { ok(t0, 50 + i, 1 + i % 4) })
            .collect();
        let slo = crate::slo::Slo::parse("ttft<=60ms,tpot<=10ms").unwrap();
        let mut whole = RunStats::judged_by(Some(&slo));
        let mut merged = RunStats::default();
        for (i, chunk) in all.chunks(4).enumerate() {
            let mut window = whole.fresh();
            let lag = Duration::from_micros(250 * i as u64);
            window.worker_up(lag);
            whole.worker_up(lag);
            for m in chunk {
                window.add(m);
                whole.add(m);
            }
            merged += &window;
        }
        assert_eq!(merged.start_lag.count(), 8);
        assert_eq!(merged.total(), 30);
        assert_eq!(merged.errors, whole.errors);
        assert_eq!(merged.ttft.distribution(1.0), whole.ttft.distribution(1.0));
        assert_eq!(merged.itl.distribution(1.0), whole.itl.distribution(1.0));
        assert_eq!(merged, whole);
        // 30 requests: 5 failed; of the 25 ok, TTFT 50 + i ms meets 60 ms for i ≤ 10; one token
        // (i % 4 == 0) leaves TPOT undetermined.
        let t = whole.slo.as_ref().unwrap();
        assert_eq!((t.judged, t.failed), (30, 5));
        assert_eq!(t.by_objective[0].met, (1..=10).filter(|i| i % 7 != 0).count() as u64);
        assert_eq!(
            t.by_objective[1].undetermined,
            (0..30).filter(|i| i % 7 != 0 && i % 4 == 0).count() as u64
        );
    }
}
