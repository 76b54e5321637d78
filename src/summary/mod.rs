//! The result of a run in plain numbers, in the shape of the `--json` summary: `Summary` and its
//! parts derive `Serialize`, so their field docs are the JSON contract (docs/json.md) and keys
//! appear in field order. Built once, after the run, from the reporter's statistics; holds no
//! `Instant`s. The text summary reads the same fields; labels and units belong to `output`.
//! `verdict` judges whether the client itself limited the run.

mod repeats;
pub mod server;
mod steady;
pub mod verdict;

use crate::gate::{Checked, Threshold};
use crate::lang::Text;
use crate::slo::SloTally;
use crate::stats::{Breakdown, Distribution, Histogram, Percentiles, PromptCheck, RunStats, SeriesRow};
use crate::util::decimals::{six, three};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use verdict::{Cause, Judgement, Machine, Verdict};

pub use repeats::Repeats;
pub use steady::{SteadyRun, SteadyState};

/// Bumped whenever a JSON field is renamed or changes meaning (docs/json.md).
pub const SCHEMA_VERSION: u32 = 1;

/// A finished run: the statistics and what the run itself noticed.
pub struct RunOutput {
    pub stats: RunStats,
    /// The run's start (every thread spawned, the start gate opened) → its last worker's end.
    pub wall: Duration,
    /// The measured window: the run's start → the cut of in-flight requests (the deadline, or
    /// the end of an interrupt's grace period) or the last request's end, whichever came first.
    pub window: Duration,
    pub started_at: chrono::DateTime<chrono::Local>,
    /// Problems with the run itself (workers that could not start, an interrupt…), as the
    /// sentences `output::warnings::Warning` gives them, in both languages.
    pub warnings: Vec<Text>,
    /// The records file failed mid-run (the summary is still complete).
    pub records_error: Option<String>,
    /// Ctrl-C or SIGTERM ended the run.
    pub interrupted: bool,
    /// The run's start → the interrupt, when there was one: the load's own time, without the
    /// grace period in-flight requests then had.
    pub interrupted_after: Option<Duration>,
    /// The reporter thread failed, so `stats` is empty whatever was sent.
    pub stats_lost: bool,
    /// The run second by second (`--series`, `--html`); empty when not asked for.
    pub series: Vec<SeriesRow>,
    /// The run by API key and by prompt.
    pub breakdown: Breakdown,
    /// Each `--server-metrics` page's scrapes; empty without any.
    pub server: Vec<server::PageRun>,
    /// The steady state's bounds and requests; `None` where the load never reached its level
    /// before it stopped growing (and for a rebuilt summary).
    pub steady: Option<SteadyRun>,
}

/// Test helper: a run of `stats` whose wall time and window were `secs`, with nothing else to say.
#[cfg(test)]
impl RunOutput {
    pub fn of(stats: RunStats, secs: f64) -> RunOutput {
        let d = Duration::from_secs_f64(secs);
        RunOutput {
            stats,
            wall: d,
            window: d,
            started_at: chrono::Local::now(),
            warnings: Vec::new(),
            records_error: None,
            interrupted: false,
            interrupted_after: None,
            stats_lost: false,
            series: Vec::new(),
            breakdown: Breakdown::default(),
            server: Vec::new(),
            steady: None,
        }
    }
}

/// The JSON summary (`--json`), top-level keys in this order.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The schema version, `SCHEMA_VERSION`.
    pub version: u32,
    pub tool: Tool,
    /// The run's settings (`Config::describe`), keys masked; for a summary rebuilt by
    /// `llmload report`, `{"source": [files]}` plus the `api` and `url` the records name.
    pub config: Value,
    /// Wall-clock start, RFC 3339 with milliseconds and the local offset.
    pub started_at: String,
    /// The run's wall time, seconds: its start (every worker thread spawned) → the last worker's
    /// end, so it includes the moments cancelled requests take to wind down.
    #[serde(serialize_with = "six")]
    pub wall_s: f64,
    /// The measured window, seconds: the run's start → the deadline's cut or the last request's
    /// end, whichever came first; the throughput's denominator.
    #[serde(serialize_with = "six")]
    pub window_s: f64,
    pub requests: Requests,
    /// ok / (ok + failed): cancelled requests are not counted; `null` when none finished.
    #[serde(serialize_with = "six")]
    pub success_rate: Option<f64>,
    /// wrong_answer / answers_checked; `null` when no answer was checked.
    #[serde(serialize_with = "six")]
    pub wrong_answer_rate: Option<f64>,
    /// Failed requests by error kind (`http_500`, `timeout_ttfb`, …).
    pub errors: BTreeMap<String, u64>,
    /// The first message seen for each error kind (later ones are usually alike).
    pub error_messages: BTreeMap<String, String>,
    pub throughput: Throughput,
    /// Throughput and latencies over the steady state alone (the ramp-up and the drain left
    /// out), with its bounds; `null` when the run had none a second and a tenth of it long, and
    /// for a rebuilt summary.
    pub steady_state: Option<SteadyState>,
    /// The run against `--slo`; `null` without one.
    pub goodput: Option<Goodput>,
    pub tokens: Tokens,
    pub metrics: Metrics,
    pub client: ClientUsage,
    /// What to look at before trusting the numbers, each sentence saying what to do next
    /// (in English here; the text summary and the HTML report show them in `--lang`).
    pub warnings: Vec<Text>,
    /// Each `--threshold` checked against this summary, in the order given; empty without one.
    pub thresholds: Vec<Checked>,
    /// Every API key used, by its index; empty when requests went without a key.
    pub by_key: Vec<KeyRow>,
    /// The `TOP_PROMPTS` prompts with the slowest TTFT p99, slowest first (prompts without a
    /// TTFT last, ties by index).
    pub by_prompt: Vec<PromptRow>,
    /// Sessions (`--turns` above 1): how many completed every turn, and each turn's numbers;
    /// `null` without sessions.
    pub sessions: Option<Sessions>,
    /// The server's own view of the run, from `--server-metrics`; `null` without it.
    pub server: Option<server::Server>,
    /// `--repeat N`: each headline number across the runs (this summary pools them all);
    /// `null` for a single run.
    pub repeats: Option<Repeats>,
    /// Standard deviations, for the vLLM export (not in llmload's own JSON).
    #[serde(skip)]
    pub spread: Spread,
    /// Successful requests that carried stream problems: the reason for a warning, not a key.
    #[serde(skip)]
    pub with_warnings: u64,
    /// Ctrl-C or SIGTERM, not the deadline, cut the requests still running.
    #[serde(skip)]
    pub interrupted: bool,
    /// Seconds from the run's start to the interrupt (`wall_s` holds the grace period after it).
    #[serde(skip)]
    pub interrupted_after_s: Option<f64>,
    /// The counts are empty because the statistics were lost, not because nothing was sent.
    #[serde(skip)]
    pub stats_lost: bool,
    /// The longest silence of a stalled request, ms (0 without one): for its warning.
    #[serde(skip)]
    pub stalled_longest_ms: u64,
}

/// Prompts `by_prompt` lists.
pub const TOP_PROMPTS: usize = 20;

/// A run's sessions, turn by turn.
#[derive(Debug, Serialize)]
pub struct Sessions {
    /// Requests a session (`--turns`).
    pub turns: u32,
    /// Sessions whose every turn succeeded: the successful requests of the last turn.
    pub completed: u64,
    /// How long the sessions that completed every turn took, ms: the first turn's send → the
    /// last turn's end, think time included; `null` without one.
    pub duration_ms: Option<Distribution>,
    /// Sessions by the turns they completed (a failed turn ends its session), fewest first.
    pub turns_completed: Vec<TurnsCompleted>,
    pub by_turn: Vec<TurnRow>,
}

/// The sessions that ended after completing `turns` turns.
#[derive(Debug, Serialize)]
pub struct TurnsCompleted {
    pub turns: u32,
    pub sessions: u64,
}

/// One turn of the sessions: the prefix cache's effect shows as TTFT and the cached share
/// against the turn.
#[derive(Debug, Serialize)]
pub struct TurnRow {
    /// 1-based.
    pub turn: u32,
    pub requests: u64,
    pub ok: u64,
    #[serde(serialize_with = "six")]
    pub ttft_p50_ms: Option<f64>,
    #[serde(serialize_with = "six")]
    pub ttft_p99_ms: Option<f64>,
    /// Mean prompt tokens of its successful requests (the conversation so far grows them).
    #[serde(serialize_with = "six")]
    pub input_tokens_mean: Option<f64>,
    /// Cached prompt tokens / prompt tokens, of the requests whose usage reported the cache.
    #[serde(serialize_with = "six")]
    pub cache_hit_share: Option<f64>,
}

impl Sessions {
    /// The sessions of `s`, where the config asked for more than one turn or the records hold
    /// a later turn (a rebuilt summary's config has no `turns`).
    fn of(s: &RunStats, config: &Value, percentiles: &Percentiles) -> Option<Sessions> {
        let last = s.by_turn.keys().copied().max().unwrap_or(1);
        let turns = config["turns"].as_u64().map_or(last, |t| t as u32);
        if turns < 2 && last < 2 {
            return None;
        }
        let by_turn: Vec<TurnRow> = s
            .by_turn
            .iter()
            .map(|(&turn, t)| TurnRow {
                turn,
                requests: t.requests,
                ok: t.ok,
                ttft_p50_ms: t.ttft.quantile(0.5).map(|v| v as f64 / 1000.0),
                ttft_p99_ms: t.ttft.quantile(0.99).map(|v| v as f64 / 1000.0),
                input_tokens_mean: (t.ok > 0).then(|| t.input_tokens as f64 / t.ok as f64),
                cache_hit_share: (t.cache_input_tokens > 0)
                    .then(|| t.cached_tokens as f64 / t.cache_input_tokens as f64),
            })
            .collect();
        let completed = s.by_turn.get(&turns.max(1)).map_or(0, |t| t.ok);
        let ok = |k: u32| s.by_turn.get(&k).map_or(0, |t| t.ok);
        let duration_ms =
            s.by_turn.get(&turns.max(1)).and_then(|t| t.session_us.distribution_at(0.001, percentiles));
        // A session's turn k succeeds only after its turns before it did: the sessions that
        // completed exactly k turns are turn k's successes less turn k+1's; none, a failed first turn.
        let first_failed = s.by_turn.get(&1).map_or(0, |t| t.requests - t.ok);
        let turns_completed = std::iter::once(TurnsCompleted { turns: 0, sessions: first_failed })
            .chain((1..=last).map(|k| TurnsCompleted { turns: k, sessions: ok(k).saturating_sub(ok(k + 1)) }))
            .filter(|t| t.sessions > 0)
            .collect();
        Some(Sessions { turns: turns.max(last), completed, duration_ms, turns_completed, by_turn })
    }
}

/// One API key's requests.
#[derive(Debug, Serialize)]
pub struct KeyRow {
    /// The key's line in `--api-key-file` (0-based; 0 for `--api-key`).
    pub key_index: usize,
    /// The key, masked (`sk-a…9f3c`); `null` when rebuilt (records hold only the index).
    pub key: Option<String>,
    /// Requests that ended: ok, failed and cancelled.
    pub requests: u64,
    pub ok: u64,
    /// ok / (ok + failed); `null` when none finished.
    #[serde(serialize_with = "six")]
    pub success_rate: Option<f64>,
    /// TTFT of its successful requests, ms; `null` without one, or past the first
    /// `stats::breakdown::TRACKED` keys (counted, not timed).
    #[serde(serialize_with = "three")]
    pub ttft_p50_ms: Option<f64>,
    #[serde(serialize_with = "three")]
    pub ttft_p99_ms: Option<f64>,
}

/// One prompt's requests.
#[derive(Debug, Serialize)]
pub struct PromptRow {
    /// The prompt's line in the prompt source (0-based), as in the records.
    pub prompt_index: usize,
    /// The prompt's first characters; `null` when rebuilt (records hold only the index).
    pub prompt: Option<String>,
    /// Requests that ended: ok, failed and cancelled.
    pub requests: u64,
    pub ok: u64,
    /// TTFT of its successful requests, ms; `null` without one, or past the first
    /// `stats::breakdown::TRACKED` distinct prompts (counted, not timed).
    #[serde(serialize_with = "three")]
    pub ttft_p50_ms: Option<f64>,
    #[serde(serialize_with = "three")]
    pub ttft_p99_ms: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    /// Always `llmload`.
    pub name: &'static str,
    /// The llmload version that wrote the summary.
    pub version: &'static str,
}

/// Request counts: `total` = `ok` + `failed` + `cancelled` + `abandoned`.
#[derive(Debug, Serialize)]
pub struct Requests {
    pub total: u64,
    pub ok: u64,
    pub failed: u64,
    /// Cut by the deadline (or an interrupt) before they ended: neither ok nor failed.
    pub cancelled: u64,
    /// Of `cancelled`, those the server had left silent when they were cut: for at least 10 ×
    /// the run's ITL p99 since their last text (TTFT p99 since their start, before any text),
    /// and at least 1 s (docs/metrics.md).
    pub stalled: u64,
    /// Left by the client on purpose (`--cancel`): neither ok nor failed, and in no latency.
    pub abandoned: u64,
    /// Requests that needed more than one attempt (`--retries`).
    pub retried: u64,
    /// Attempts of every request, retries included.
    pub attempts: u64,
    /// `--warmup` requests: sent and recorded, and counted in nothing else here.
    pub warmup: u64,
    /// Of `ok`, the answers the model ended itself (finish reason `stop`, Anthropic `end_turn`)
    /// with fewer output tokens than the request's `max_tokens` asked for.
    pub ended_early: u64,
    /// Of `ok`, the answers checked (`expect`, `--expect`), and of those the ones that failed
    /// their check: still `ok`, their latencies counted.
    pub answers_checked: u64,
    pub wrong_answer: u64,
}

/// Per second of the measured window (`window_s`).
#[derive(Debug, Serialize)]
pub struct Throughput {
    /// Successful requests per second.
    #[serde(serialize_with = "three")]
    pub requests_per_s: f64,
    /// Output tokens per second: of successful requests, and what cancelled ones received.
    #[serde(serialize_with = "three")]
    pub output_tokens_per_s: f64,
}

/// The run against `--slo`: a request is good when it succeeded and met every objective
/// (`slo::Slo::judge`); cancelled requests are not judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Goodput {
    /// The objectives, as llmload writes them (`ttft<=500ms,tpot<50ms`).
    pub slo: String,
    /// Good requests per second of the measured window (`window_s`).
    #[serde(serialize_with = "three")]
    pub requests_per_s: f64,
    /// conforming / determined; `null` when no request was determined.
    #[serde(serialize_with = "six")]
    pub attainment: Option<f64>,
    /// The Wilson 95 % score interval of `attainment`, `[low, high]`; `null` with it.
    #[serde(serialize_with = "six")]
    pub attainment_ci: Option<Vec<f64>>,
    /// Requests judged: ok and failed ones.
    pub judged: u64,
    /// Judged requests known good or not good: good, failed, or missed an objective. The rest
    /// met every objective they had a value for and had none for another.
    pub determined: u64,
    /// Good requests.
    pub conforming: u64,
    /// Failed requests: determined and not good, their times not judged.
    pub failed: u64,
    /// One entry per objective, in `slo`'s order, over successful requests.
    pub by_objective: Vec<ObjectiveGoodput>,
}

/// How one objective went over the successful requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectiveGoodput {
    /// The objective, as in `slo` (`tpot<50ms`).
    pub objective: String,
    pub met: u64,
    pub missed: u64,
    /// Requests without a value for it (TPOT of a one-token answer, ITL of one text event).
    pub undetermined: u64,
}

impl Goodput {
    /// The goodput of `tally` over a measured window of `window_s` seconds.
    pub fn new(tally: &SloTally, window_s: f64) -> Goodput {
        Goodput {
            slo: tally.slo.to_string(),
            requests_per_s: if window_s > 0.0 { tally.conforming as f64 / window_s } else { 0.0 },
            attainment: tally.attainment(),
            attainment_ci: tally.attainment_ci().map(|(lo, hi)| vec![lo, hi]),
            judged: tally.judged,
            determined: tally.determined,
            conforming: tally.conforming,
            failed: tally.failed,
            by_objective: tally
                .slo
                .objectives
                .iter()
                .zip(&tally.by_objective)
                .map(|(o, c)| ObjectiveGoodput {
                    objective: o.to_string(),
                    met: c.met,
                    missed: c.missed,
                    undetermined: c.undetermined,
                })
                .collect(),
        }
    }
}

/// Token totals of successful requests and of what cancelled ones received before the cut, and
/// where their counts came from.
#[derive(Debug, Serialize)]
pub struct Tokens {
    /// Output tokens, reasoning included.
    pub output_total: u64,
    /// Usage's prompt tokens, else our count of the prompt.
    pub input_total: u64,
    /// The reasoning part of `output_total`, where usage breaks it out.
    pub reasoning_total: u64,
    /// Input tokens the server read from its prompt cache, summed over the successful requests
    /// whose usage reported it; `None` when none did.
    pub cached_input: Option<u64>,
    /// `cached_input` / the input tokens of those same requests; `None` when none reported it
    /// (or their prompts had no tokens).
    #[serde(serialize_with = "six")]
    pub cache_hit_share: Option<f64>,
    /// Requests whose output count came from the server's usage.
    pub from_usage: u64,
    /// Requests whose output count is the built-in estimate.
    pub estimated: u64,
    /// Requests whose output count came from `--tokenizer`.
    pub from_tokenizer: u64,
    /// Cancelled requests that received text: the tokens of that text (by our own count: usage
    /// comes only at a stream's end) and of their prompt are in the totals.
    pub from_cancelled: u64,
    /// Abandoned requests (`--cancel`) that received text: the tokens of that text (our own
    /// count) and of their prompt are in the totals.
    pub from_abandoned: u64,
    /// Our own count against the server's usage; `null` when no request had both.
    pub usage_vs_counted: Option<UsageVsCounted>,
    /// The server's prompt tokens against our count of the prompt sent; `null` when no request
    /// had both (a summary rebuilt from records has no count of its own).
    pub prompt_vs_sent: Option<PromptVsSent>,
}

/// The server's count of each prompt (usage's `prompt_tokens`) against ours of what was sent
/// (the estimate or `--tokenizer`), per successful request: d = reported − sent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PromptVsSent {
    /// Requests with both counts.
    pub compared: u64,
    /// Mean prompt tokens sent (our count) and reported (the server's).
    #[serde(serialize_with = "three")]
    pub sent_mean: f64,
    #[serde(serialize_with = "three")]
    pub reported_mean: f64,
    /// The mean of d, and its 10th, 50th and 90th percentiles (tokens; a chat template's
    /// overhead shows as one constant d).
    #[serde(serialize_with = "three")]
    pub diff_mean: f64,
    pub diff_p10: i64,
    pub diff_p50: i64,
    pub diff_p90: i64,
    /// (p90 − p10 of d) / `sent_mean`, percent: how much d varies with the prompt.
    #[serde(serialize_with = "three")]
    pub diff_spread_pct: f64,
    /// (Σ reported − Σ sent) / Σ sent, percent.
    #[serde(serialize_with = "three")]
    pub relative_diff_pct: f64,
}

impl PromptVsSent {
    /// The limit, percent, above which the two counts are said to disagree.
    pub const LIMIT_PCT: f64 = 5.0;
    /// Differences of fewer tokens than this never count as a disagreement (short prompts).
    pub const FLOOR_TOKENS: f64 = 2.0;

    fn of(c: &PromptCheck) -> Option<PromptVsSent> {
        let n = c.compared as f64;
        let (p10, p50, p90) = (c.diff_quantile(0.1)?, c.diff_quantile(0.5)?, c.diff_quantile(0.9)?);
        let sent_mean = c.sent as f64 / n;
        let diff = c.reported as f64 - c.sent as f64;
        let pct = |x: f64, of: f64| if of > 0.0 { 100.0 * x / of } else { 0.0 };
        Some(PromptVsSent {
            compared: c.compared,
            sent_mean,
            reported_mean: c.reported as f64 / n,
            diff_mean: diff / n,
            diff_p10: p10,
            diff_p50: p50,
            diff_p90: p90,
            diff_spread_pct: pct((p90 - p10) as f64, sent_mean),
            relative_diff_pct: pct(diff, c.sent as f64),
        })
    }

    /// Whether our counts are not the served model's. A server adds its chat template's tokens
    /// to every prompt (`templated`: every API but the completions one), the same number each
    /// time, so only a d that varies by more than `LIMIT_PCT` of the mean prompt says so (a
    /// wrong tokenizer is off in proportion to the prompt's length); without a template, a mean
    /// d over `LIMIT_PCT` of the prompt says so too. Fewer than `FLOOR_TOKENS` never do.
    pub fn disagree(&self, templated: bool) -> bool {
        let spread = (self.diff_p90 - self.diff_p10) as f64;
        let varies = self.diff_spread_pct > Self::LIMIT_PCT && spread >= Self::FLOOR_TOKENS;
        let off =
            self.relative_diff_pct.abs() > Self::LIMIT_PCT && self.diff_mean.abs() >= Self::FLOOR_TOKENS;
        varies || (!templated && off)
    }
}

/// How far our own token count (estimate or `--tokenizer`) was from the server's usage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UsageVsCounted {
    /// Requests with both counts.
    pub compared: u64,
    /// Of those, requests where the two differ.
    pub differ: u64,
    /// Mean and largest |counted − usage| / usage, percent.
    #[serde(serialize_with = "three")]
    pub mean_abs_diff_pct: f64,
    #[serde(serialize_with = "three")]
    pub max_abs_diff_pct: f64,
}

/// One distribution per metric (defined in docs/metrics.md) over successful requests; `null` when empty.
#[derive(Debug, Default, Serialize)]
pub struct Metrics {
    /// Request sent → response headers, ms.
    pub ttfb_ms: Option<Distribution>,
    /// Request sent → first SSE event of any kind, ms.
    pub ttfe_ms: Option<Distribution>,
    /// Request sent → first event with text (answer or reasoning), ms.
    pub ttft_ms: Option<Distribution>,
    /// Request sent → first event with answer text, ms.
    pub ttfa_ms: Option<Distribution>,
    /// Gaps between consecutive text events, pooled over requests, ms.
    pub itl_ms: Option<Distribution>,
    /// (E2E − TTFT) / (output tokens − 1), requests with at least 2 tokens, ms.
    pub tpot_ms: Option<Distribution>,
    /// Request sent → end of stream, ms.
    pub e2e_ms: Option<Distribution>,
    /// Intended start → first text: open loop, from the request's place in the schedule;
    /// closed loop, from when its worker was free to send it. Includes any wait the client or
    /// a full worker pool added, which `ttft_ms` hides, ms.
    pub ttft_sched_ms: Option<Distribution>,
    /// Intended start → end of stream, ms.
    pub e2e_sched_ms: Option<Distribution>,
    /// Intended start → sent, every request whatever its outcome, ms.
    pub start_delay_ms: Option<Distribution>,
    /// Input (prompt) tokens per successful request: the server's usage, else our count.
    pub input_tokens: Option<Distribution>,
    /// Output tokens per request.
    pub output_tokens: Option<Distribution>,
    /// (output tokens − 1) / (last text − first text) per request, tokens per second.
    pub decode_tokens_per_s: Option<Distribution>,
    /// Output tokens per text event, where the count is known (usage or `--tokenizer`).
    pub tokens_per_event: Option<Distribution>,
    /// Each ITL gap divided by its request's tokens per event, ms.
    pub itl_per_token_ms: Option<Distribution>,
    /// The server's own latency (Dify), ms.
    pub server_latency_ms: Option<Distribution>,
    /// The server's own time to first token (Dify), ms.
    pub server_ttft_ms: Option<Distribution>,
}

/// Population standard deviations (numpy's `std`) of the metrics vLLM reports it for, ms.
#[derive(Debug, Default)]
pub struct Spread {
    pub ttft_ms: Option<f64>,
    pub tpot_ms: Option<f64>,
    pub itl_ms: Option<f64>,
    pub e2e_ms: Option<f64>,
}

/// What the run cost the client itself, how late it was, and whether the client limited the
/// run; `null` when unknown (a summary rebuilt from records).
#[derive(Debug, Serialize)]
pub struct ClientUsage {
    /// CPU seconds, user and system.
    #[serde(serialize_with = "six")]
    pub cpu_s: Option<f64>,
    /// Peak resident memory, MiB.
    #[serde(serialize_with = "three")]
    pub peak_rss_mb: Option<f64>,
    /// Where arrival times came from: `kernel` when every timed read had the kernel's receive
    /// stamp, `user` when any was timed when it returned (or nothing was read).
    pub clock: Clock,
    /// Each timed read's time − its bytes' kernel receive time, ms (a rebuilt summary: each
    /// request's largest).
    pub read_lag_ms: Option<Distribution>,
    /// The share of the ITL gaps (0 to 1) that read 0 ms because both events came in one read,
    /// which has one arrival time: a client that read late (the kernel merges the segments
    /// waiting in a socket and keeps the last one's receive time), or a server or proxy that
    /// sent them together; `null` without gaps.
    #[serde(serialize_with = "six")]
    pub gaps_read_together: Option<f64>,
    /// Each request's attempt start → its last byte written, ms; `null` rebuilt (not recorded).
    pub send_lag_ms: Option<Distribution>,
    /// Each worker's scheduled start (the run's start plus its ramp-up offset) → its actual
    /// start, ms, over the workers that started.
    pub start_lag_ms: Option<Distribution>,
    /// Closed loop: each worker's first connection, opened before the run's clock started, ms
    /// (kept out of every request's times, as wrk does); `null` in an open loop, behind a proxy,
    /// and for a rebuilt summary.
    pub connect_ms: Option<Distribution>,
    /// Requests sent again on a fresh connection because the pooled one they went out on had
    /// been closed by the server before any byte of a response (not failures, not retries).
    pub reconnects: u64,
    /// Whether the client itself limited the run (`verdict::judge`): `ok`, `degraded` or
    /// `client-bound`; `null` when not judged (a rebuilt summary).
    pub verdict: Option<Verdict>,
    /// The worst finding's cause: `client` (its own work) or `machine` (other work on a busy
    /// machine); `null` when `ok` or not judged.
    pub cause: Option<Cause>,
    /// Why, the worst first, each naming its cause and what to do; empty when `ok`.
    pub reasons: Vec<Text>,
    /// How busy the machine was with other work during the run; `null` where it could not be
    /// read, and for a rebuilt summary.
    pub machine: Option<Machine>,
}

impl ClientUsage {
    /// Puts the verdict on the run into the summary.
    pub fn judged(&mut self, j: Judgement) {
        (self.verdict, self.cause, self.reasons, self.machine) =
            (Some(j.verdict), j.cause, j.reasons, j.machine);
    }
}

/// The clock an arrival time is read from (docs/metrics.md, "The clock and the client's own lag").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Clock {
    /// The kernel's receive timestamp of the bytes.
    Kernel,
    /// The time the read returned them.
    User,
}

impl Summary {
    /// `usage`: the client's CPU seconds and peak resident bytes, when this process ran the test.
    pub fn new(config: Value, run: &RunOutput, usage: Option<(f64, u64)>) -> Summary {
        Summary::reporting(config, run, usage, &Percentiles::default())
    }

    /// `new`, with every distribution reporting `percentiles` (`--percentiles`).
    pub fn reporting(
        config: Value,
        run: &RunOutput,
        usage: Option<(f64, u64)>,
        percentiles: &Percentiles,
    ) -> Summary {
        let s = &run.stats;
        let sessions = Sessions::of(s, &config, percentiles);
        let window_s = run.window.as_secs_f64();
        let per_s = |n: u64| if window_s > 0.0 { n as f64 / window_s } else { 0.0 };
        let finished = s.ok + s.failed;
        let stalls = s.stalls();
        Summary {
            version: SCHEMA_VERSION,
            tool: Tool { name: "llmload", version: env!("CARGO_PKG_VERSION") },
            config,
            started_at: run.started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
            wall_s: run.wall.as_secs_f64(),
            window_s,
            requests: Requests {
                total: s.total(),
                ok: s.ok,
                failed: s.failed,
                cancelled: s.cancelled,
                stalled: stalls.count,
                abandoned: s.abandoned,
                retried: s.retried,
                attempts: s.attempts,
                warmup: s.warmup,
                ended_early: s.ended_early,
                answers_checked: s.answers_checked,
                wrong_answer: s.wrong_answers,
            },
            success_rate: (finished > 0).then(|| s.ok as f64 / finished as f64),
            wrong_answer_rate: (s.answers_checked > 0)
                .then(|| s.wrong_answers as f64 / s.answers_checked as f64),
            errors: s.errors.iter().map(|(k, t)| (k.clone(), t.count)).collect(),
            error_messages: s.errors.iter().map(|(k, t)| (k.clone(), t.first_message.clone())).collect(),
            throughput: Throughput {
                requests_per_s: per_s(s.ok),
                output_tokens_per_s: per_s(s.output_tokens),
            },
            steady_state: run.steady.as_ref().and_then(|st| SteadyState::of(st, window_s, percentiles)),
            goodput: s.slo.as_ref().map(|t| Goodput::new(t, window_s)),
            tokens: Tokens {
                output_total: s.output_tokens,
                input_total: s.input_tokens,
                reasoning_total: s.reasoning_tokens,
                cached_input: (s.cache_reported > 0).then_some(s.cached_input_tokens),
                cache_hit_share: (s.cache_reported > 0 && s.cache_input_tokens > 0)
                    .then(|| s.cached_input_tokens as f64 / s.cache_input_tokens as f64),
                from_usage: s.tokens_from_usage,
                estimated: s.tokens_estimated,
                from_tokenizer: s.tokens_from_tokenizer,
                from_cancelled: s.tokens_cancelled,
                from_abandoned: s.tokens_abandoned,
                usage_vs_counted: s.usage_check.abs_diff_bp.distribution(0.01).map(|d| UsageVsCounted {
                    compared: s.usage_check.compared,
                    differ: s.usage_check.differ,
                    mean_abs_diff_pct: d.mean,
                    max_abs_diff_pct: d.max,
                }),
                prompt_vs_sent: PromptVsSent::of(&s.prompt_check),
            },
            metrics: metrics(s, percentiles),
            client: ClientUsage {
                cpu_s: usage.map(|(cpu_s, _)| cpu_s),
                peak_rss_mb: usage.map(|(_, bytes)| bytes as f64 / (1024.0 * 1024.0)),
                clock: if s.kernel_clock() { Clock::Kernel } else { Clock::User },
                read_lag_ms: s.read_lag.distribution_at(0.001, percentiles),
                gaps_read_together: s.gaps_read_together(),
                send_lag_ms: s.send_lag.distribution_at(0.001, percentiles),
                start_lag_ms: s.start_lag.distribution_at(0.001, percentiles),
                connect_ms: s.connect.distribution_at(0.001, percentiles),
                reconnects: s.reconnects,
                verdict: None,
                cause: None,
                reasons: Vec::new(),
                machine: None,
            },
            warnings: run.warnings.clone(),
            thresholds: Vec::new(),
            by_key: run
                .breakdown
                .keys
                .by_index
                .iter()
                .map(|(&key_index, k)| KeyRow {
                    key_index,
                    key: None,
                    requests: k.requests,
                    ok: k.ok,
                    success_rate: k.success_rate(),
                    ttft_p50_ms: k.ttft_ms(0.5),
                    ttft_p99_ms: k.ttft_ms(0.99),
                })
                .collect(),
            by_prompt: run
                .breakdown
                .slowest_prompts(TOP_PROMPTS)
                .into_iter()
                .map(|(prompt_index, p)| PromptRow {
                    prompt_index,
                    prompt: None,
                    requests: p.requests,
                    ok: p.ok,
                    ttft_p50_ms: p.ttft_ms(0.5),
                    ttft_p99_ms: p.ttft_ms(0.99),
                })
                .collect(),
            sessions,
            repeats: None,
            server: (!run.server.is_empty())
                .then(|| server::Server::of(&run.server, s, s.ttft.distribution(0.001).map(|d| d.mean))),
            spread: Spread {
                ttft_ms: s.ttft.std(0.001),
                tpot_ms: s.tpot.std(0.001),
                itl_ms: s.itl.std(0.001),
                e2e_ms: s.e2e.std(0.001),
            },
            with_warnings: s.with_warnings,
            interrupted: run.interrupted,
            interrupted_after_s: run.interrupted_after.map(|d| d.as_secs_f64()),
            stats_lost: run.stats_lost,
            stalled_longest_ms: stalls.longest_ms,
        }
    }

    /// Checks each threshold against this summary's own JSON numbers (so a threshold sees what
    /// the JSON shows) and keeps the results in `thresholds`.
    pub fn check(&mut self, thresholds: &[Threshold]) {
        self.thresholds.clear();
        // Plain structs, string map keys and finite-or-null floats: serializing cannot fail.
        let json = serde_json::to_value(&*self).unwrap_or_default();
        self.thresholds = thresholds.iter().map(|t| t.check(&json)).collect();
    }

    /// Names the rows of `by_key` and `by_prompt`: `key` gives a key's masked label, `prompt` a
    /// prompt's snippet, each by index (a live run knows them; records do not).
    pub fn name_breakdown(
        &mut self,
        key: impl Fn(usize) -> Option<String>,
        prompt: impl Fn(usize) -> Option<String>,
    ) {
        for row in &mut self.by_key {
            row.key = key(row.key_index);
        }
        for row in &mut self.by_prompt {
            row.prompt = prompt(row.prompt_index);
        }
    }

    /// Error kinds with their counts and first messages, most frequent first, then by name.
    pub fn errors_by_count(&self) -> Vec<(&str, u64, &str)> {
        let mut errors: Vec<(&str, u64, &str)> = self
            .errors
            .iter()
            .map(|(kind, &n)| (kind.as_str(), n, self.error_messages.get(kind).map_or("", String::as_str)))
            .collect();
        // Stable: equal counts keep the map's name order.
        errors.sort_by_key(|&(_, n, _)| std::cmp::Reverse(n));
        errors
    }
}

fn metrics(s: &RunStats, percentiles: &Percentiles) -> Metrics {
    let ms = |h: &Histogram| h.distribution_at(0.001, percentiles);
    Metrics {
        ttfb_ms: ms(&s.ttfb),
        ttfe_ms: ms(&s.ttfe),
        ttft_ms: ms(&s.ttft),
        ttfa_ms: ms(&s.ttfa),
        itl_ms: ms(&s.itl),
        tpot_ms: ms(&s.tpot),
        e2e_ms: ms(&s.e2e),
        ttft_sched_ms: ms(&s.ttft_sched),
        e2e_sched_ms: ms(&s.e2e_sched),
        start_delay_ms: ms(&s.start_delay),
        input_tokens: s.input_per_request.distribution_at(1.0, percentiles),
        output_tokens: s.tokens_per_request.distribution_at(1.0, percentiles),
        decode_tokens_per_s: s.decode_mtps.distribution_at(0.001, percentiles),
        tokens_per_event: s.tokens_per_event_milli.distribution_at(0.001, percentiles),
        itl_per_token_ms: ms(&s.itl_per_token),
        server_latency_ms: ms(&s.server_latency),
        server_ttft_ms: ms(&s.server_ttft),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::{ErrorKind, Measurement, Outcome};
    use std::time::Instant;

    #[test]
    fn errors_sort_by_count_then_name() {
        let mut stats = RunStats::default();
        for (kind, message) in [
            (ErrorKind::Http(503), "busy"),
            (ErrorKind::Transport, "reset"),
            (ErrorKind::Http(429), "slow down"),
            (ErrorKind::Transport, "reset again"),
        ] {
            let mut m = Measurement::new(0, 0, None, Instant::now());
            m.outcome = Outcome::Failed { kind, message: message.into() };
            stats.add(&m);
        }
        let run = RunOutput::of(stats, 2.0);
        let s = Summary::new(Value::Null, &run, None);
        assert_eq!(
            s.errors_by_count(),
            [("transport", 2, "reset"), ("http_429", 1, "slow down"), ("http_503", 1, "busy")]
        );
        assert_eq!((s.requests.total, s.requests.failed, s.success_rate), (4, 4, Some(0.0)));
        assert_eq!((s.client.cpu_s, s.client.peak_rss_mb, s.client.verdict), (None, None, None));
        assert_eq!((s.client.clock, s.client.read_lag_ms), (Clock::User, None), "nothing was read");
    }
}
