//! The run second by second (`--series`, and the HTML report's time-series charts): for each
//! second after the run's start, requests started, finished (ok, failed, cancelled), in flight at
//! its end, output tokens, and the TTFT, ITL and read-lag percentiles of the requests that ended
//! in it. It owns the bucketing by timestamp (a request counts in the second its start, or its
//! end, fell in, from whole microseconds as records keep them, so a live run and `llmload report`
//! over its records give the same rows) and keeps memory bounded: a second's histograms are
//! reduced to its percentiles once the requests ending in it have all been seen. A builder can
//! be built in parts (`part`, `append`: the next stretch of the same input, built on another
//! thread) with the same rows as one builder fed every request in order. It does not format or
//! write (`export::series` does).

use super::Histogram;
use crate::measure::{Measurement, Outcome};
use crate::util::decimals::{six, three};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How far behind the latest end a second's histograms stay open: a request's end reaches the
/// builder within milliseconds of it (live) or in about end order (one records file).
const OPEN_SECONDS: u64 = 10;

const SECOND_US: u64 = 1_000_000;

/// One second of the run in plain numbers: the JSON line `--series` writes (docs/series.md),
/// keys in field order.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SeriesRow {
    /// Seconds from the run's start to the end of this second (1, 2, …; the last may be a
    /// fraction): the table's `elapsed`.
    #[serde(serialize_with = "six")]
    pub elapsed_s: f64,
    /// How long this second is: 1, except the last, which ends at the last request's end.
    #[serde(serialize_with = "six")]
    pub duration_s: f64,
    /// Requests that started in this second.
    pub started: u64,
    /// Requests that ended in it, whatever their outcome (the table's `done`).
    pub finished: u64,
    /// Requests that ended up to its end (the table's `total`).
    pub finished_total: u64,
    pub ok: u64,
    /// The table's `errors`.
    pub failed: u64,
    pub cancelled: u64,
    /// Requests started before this second's end and not ended by then.
    pub in_flight: u64,
    /// ok / (ok + failed) of the requests that ended in it (the table's `ok`); `null` when none.
    #[serde(serialize_with = "six")]
    pub success_rate: Option<f64>,
    /// ok / `duration_s`.
    #[serde(serialize_with = "three")]
    pub requests_per_s: f64,
    /// Output tokens of the successful requests that ended in it.
    pub output_tokens: u64,
    /// `output_tokens` / `duration_s` (the table's `tok/s`).
    #[serde(serialize_with = "three")]
    pub output_tokens_per_s: f64,
    /// TTFT of the successful requests that ended in it, ms (`ttft_p50_ms`: the table's column).
    #[serde(serialize_with = "three")]
    pub ttft_p50_ms: Option<f64>,
    #[serde(serialize_with = "three")]
    pub ttft_p99_ms: Option<f64>,
    /// Inter-token gaps of those requests, ms (`itl_p50_ms`: the table's column).
    #[serde(serialize_with = "three")]
    pub itl_p50_ms: Option<f64>,
    #[serde(serialize_with = "three")]
    pub itl_p99_ms: Option<f64>,
    /// The client's read lag over the reads of every request that ended in it, ms (the table's
    /// `lag p99`); `null` without kernel stamps.
    #[serde(serialize_with = "three")]
    pub read_lag_p99_ms: Option<f64>,
    /// The server's metrics as last scraped before this second's end (`--server-metrics`);
    /// absent without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerSecond>,
}

/// The server's side of one second: its named series, and every sample each page held.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ServerSecond {
    /// Requests running and waiting, summed over the pages.
    #[serde(serialize_with = "three")]
    pub running: Option<f64>,
    #[serde(serialize_with = "three")]
    pub waiting: Option<f64>,
    /// The KV cache's share in use (0–1), the pages' mean.
    #[serde(serialize_with = "six")]
    pub kv_use: Option<f64>,
    /// The generation- and prompt-token counters' growth a second since the scrape before.
    #[serde(serialize_with = "three")]
    pub generation_tokens_per_s: Option<f64>,
    #[serde(serialize_with = "three")]
    pub prompt_tokens_per_s: Option<f64>,
    /// Every sample of each page, by the page's URL, then the sample's name with its labels as
    /// the page wrote them; `null` for `NaN` and infinities.
    pub values: BTreeMap<String, BTreeMap<String, Option<f64>>>,
}

/// Per-second counts and latencies, fed one finished request at a time.
#[derive(Debug, Clone, Default)]
pub struct SeriesBuilder {
    seconds: Vec<Second>,
    /// Close seconds behind the latest end (input in about end order); off for merged files.
    ordered: bool,
    last_end_us: u64,
    /// Seconds before this one are closed.
    closed: usize,
    /// A part of a builder (`part`): it closes no second; `append` decides for it.
    part: bool,
}

#[derive(Debug, Clone, Default)]
struct Second {
    started: u64,
    ok: u64,
    failed: u64,
    cancelled: u64,
    output_tokens: u64,
    latencies: Latencies,
}

#[derive(Debug, Clone)]
enum Latencies {
    Open(Box<[Histogram; 3]>),
    Closed(Quantiles),
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies::Open(Box::default())
    }
}

/// A closed second's percentiles, ms.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Quantiles {
    ttft: [Option<f64>; 2],
    itl: [Option<f64>; 2],
    read_lag_p99: Option<f64>,
}

impl Latencies {
    fn quantiles(&self) -> Quantiles {
        let ms = |h: &Histogram, q| h.quantile(q).map(|v| v as f64 / 1000.0);
        match self {
            Latencies::Closed(q) => *q,
            Latencies::Open(h) => Quantiles {
                ttft: [ms(&h[0], 0.5), ms(&h[0], 0.99)],
                itl: [ms(&h[1], 0.5), ms(&h[1], 0.99)],
                read_lag_p99: ms(&h[2], 0.99),
            },
        }
    }
}

fn us(d: Duration) -> u64 {
    d.as_micros().min(u64::MAX as u128) as u64
}

impl SeriesBuilder {
    /// A builder for requests that arrive in about the order they ended (a live run, one
    /// records file): it keeps only the last seconds' histograms. `ordered: false` keeps every
    /// second's until the end (several records files, each starting over).
    pub fn new(ordered: bool) -> SeriesBuilder {
        SeriesBuilder { ordered, ..SeriesBuilder::default() }
    }

    /// An empty builder for the requests that come next in the same input, built apart (on
    /// another thread) and then `append`ed to this one, in order. It closes no second, since
    /// it cannot know which of them this one will have closed, but it drops the latencies of a
    /// request that ends more than `OPEN_SECONDS` behind its own latest end: this builder would
    /// have closed that second by then whatever came before.
    pub fn part(&self) -> SeriesBuilder {
        SeriesBuilder { ordered: self.ordered, part: true, ..SeriesBuilder::default() }
    }

    /// Adds `part` (from `part`), whose requests came after all of this builder's: the same
    /// rows as adding each of its requests here. A request in `part` that ended in a second
    /// this builder had closed (or would have, by its latest end) keeps its counts without its
    /// latencies, as `add` would have it.
    pub fn append(&mut self, part: SeriesBuilder) {
        let open_from = self.open_from();
        if part.seconds.len() > self.seconds.len() {
            self.seconds.resize_with(part.seconds.len(), Second::default);
        }
        for (i, (s, p)) in self.seconds.iter_mut().zip(part.seconds).enumerate() {
            s.started += p.started;
            s.ok += p.ok;
            s.failed += p.failed;
            s.cancelled += p.cancelled;
            s.output_tokens += p.output_tokens;
            if i >= open_from
                && let (Latencies::Open(mine), Latencies::Open(theirs)) = (&mut s.latencies, &p.latencies)
            {
                for (m, t) in mine.iter_mut().zip(theirs.iter()) {
                    *m += t;
                }
            }
        }
        self.last_end_us = self.last_end_us.max(part.last_end_us);
        self.close();
    }

    /// The first second still open for latencies: with input in about end order, the seconds
    /// more than `OPEN_SECONDS` behind the latest end are closed (a part only drops them).
    fn open_from(&self) -> usize {
        match self.ordered {
            true => (self.last_end_us / SECOND_US).saturating_sub(OPEN_SECONDS) as usize,
            false => 0,
        }
    }

    /// Reduces the seconds before `open_from` to their percentiles.
    fn close(&mut self) {
        if self.part {
            return;
        }
        let keep_from = self.open_from();
        while self.closed < keep_from.min(self.seconds.len()) {
            let s = &mut self.seconds[self.closed];
            s.latencies = Latencies::Closed(s.latencies.quantiles());
            self.closed += 1;
        }
    }

    fn second(&mut self, at_us: u64) -> &mut Second {
        let i = (at_us / SECOND_US) as usize;
        if i >= self.seconds.len() {
            self.seconds.resize_with(i + 1, Second::default);
        }
        &mut self.seconds[i]
    }

    /// Adds a finished request of a run that started at `run_start`. Latencies come from
    /// successful requests only, as in the summary; the read lag from every request.
    pub fn add(&mut self, m: &Measurement, run_start: Instant) {
        let start_us = us(m.t0.saturating_duration_since(run_start));
        let end_us = start_us + us(m.e2e());
        self.second(start_us).started += 1;
        let (tokens, _) = m.output_tokens();
        // A request that ends in a closed second keeps its counts; its latencies are too late.
        let late = ((end_us / SECOND_US) as usize) < self.open_from();
        let s = self.second(end_us);
        match &m.outcome {
            Outcome::Ok => {
                s.ok += 1;
                s.output_tokens += tokens;
            }
            Outcome::Failed { .. } => s.failed += 1,
            // A request left on purpose (`--cancel`) counts with the cut ones here.
            Outcome::Cancelled | Outcome::Abandoned => s.cancelled += 1,
        }
        if !late && let Latencies::Open(h) = &mut s.latencies {
            for &lag in &m.read_lags_us {
                h[2].record(u64::from(lag));
            }
            if m.outcome == Outcome::Ok {
                if let Some(d) = m.ttft() {
                    h[0].record(us(d));
                }
                for gap in m.itls() {
                    h[1].record(us(gap));
                }
            }
        }
        self.last_end_us = self.last_end_us.max(end_us);
        self.close();
    }

    /// The rows, one a second from the run's start to the last request's end.
    pub fn rows(&self) -> Vec<SeriesRow> {
        // The last second is the one the latest end fell in (a request's start is never later).
        let n = self.seconds.len();
        let (mut started_total, mut finished_total) = (0, 0);
        (0..n)
            .map(|i| {
                let empty = Second::default();
                let s = self.seconds.get(i).unwrap_or(&empty);
                let from = i as u64 * SECOND_US;
                let duration_s =
                    (self.last_end_us.saturating_sub(from).min(SECOND_US) as f64 / 1e6).max(1e-3);
                let finished = s.ok + s.failed + s.cancelled;
                started_total += s.started;
                finished_total += finished;
                let q = s.latencies.quantiles();
                SeriesRow {
                    elapsed_s: i as f64 + duration_s,
                    duration_s,
                    started: s.started,
                    finished,
                    finished_total,
                    ok: s.ok,
                    failed: s.failed,
                    cancelled: s.cancelled,
                    in_flight: started_total - finished_total,
                    success_rate: (s.ok + s.failed > 0).then(|| s.ok as f64 / (s.ok + s.failed) as f64),
                    requests_per_s: s.ok as f64 / duration_s,
                    output_tokens: s.output_tokens,
                    output_tokens_per_s: s.output_tokens as f64 / duration_s,
                    ttft_p50_ms: q.ttft[0],
                    ttft_p99_ms: q.ttft[1],
                    itl_p50_ms: q.itl[0],
                    itl_p99_ms: q.itl[1],
                    read_lag_p99_ms: q.read_lag_p99,
                    server: None,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::ErrorKind;

    /// A request of a run that started at `base`: `start_ms` in, `ttft_ms` to its first token,
    /// then `tokens` 10 ms apart.
    fn request(base: Instant, start_ms: u64, ttft_ms: u64, tokens: u64) -> Measurement {
        let t0 = base + Duration::from_millis(start_ms);
        let mut m = Measurement::new(0, 0, None, t0);
        m.text_at = (0..tokens).map(|i| t0 + Duration::from_millis(ttft_ms + 10 * i)).collect();
        m.end_at = m.text_at.last().copied().unwrap_or(t0) + Duration::from_millis(1);
        m.usage_output_tokens = Some(tokens);
        m.read_lags_us = vec![20, 40];
        m
    }

    #[test]
    fn requests_count_in_the_seconds_they_started_and_ended() {
        let base = Instant::now();
        let mut b = SeriesBuilder::new(true);
        b.add(&request(base, 100, 200, 5), base); // 0.1 s → 0.341 s
        b.add(&request(base, 900, 300, 3), base); // 0.9 s → 1.221 s
        let mut failed = request(base, 1_500, 0, 0);
        failed.outcome = Outcome::Failed { kind: ErrorKind::Http(500), message: "x".into() };
        b.add(&failed, base); // 1.5 s → 1.501 s
        let mut cut = request(base, 2_000, 400, 2); // 2.0 s → 2.411 s
        cut.outcome = Outcome::Cancelled;
        b.add(&cut, base);
        let rows = b.rows();
        assert_eq!(rows.len(), 3);
        let counts: Vec<_> = rows
            .iter()
            .map(|r| (r.started, r.finished, r.finished_total, r.ok, r.failed, r.cancelled, r.in_flight))
            .collect();
        assert_eq!(counts, [(2, 1, 1, 1, 0, 0, 1), (1, 2, 3, 1, 1, 0, 0), (1, 1, 4, 0, 0, 1, 0)]);
        assert_eq!((rows[0].output_tokens, rows[1].output_tokens, rows[2].output_tokens), (5, 3, 0));
        assert_eq!(
            (rows[0].success_rate, rows[1].success_rate, rows[2].success_rate),
            (Some(1.0), Some(0.5), None)
        );
        assert_eq!(
            (rows[0].ttft_p50_ms, rows[1].ttft_p99_ms, rows[2].ttft_p50_ms),
            (Some(200.0), Some(300.0), None)
        );
        assert_eq!((rows[0].itl_p50_ms, rows[0].itl_p99_ms), (Some(10.0), Some(10.0)));
        // The read lag counts every request, the cancelled one too.
        assert_eq!((rows[1].read_lag_p99_ms, rows[2].read_lag_p99_ms), (Some(0.04), Some(0.04)));
        // The last second ends at the last request's end.
        assert_eq!((rows[0].elapsed_s, rows[1].duration_s), (1.0, 1.0));
        assert!((rows[2].duration_s - 0.411).abs() < 1e-9, "{}", rows[2].duration_s);
        assert!((rows[2].elapsed_s - 2.411).abs() < 1e-9);
        assert_eq!((rows[0].requests_per_s, rows[0].output_tokens_per_s), (1.0, 5.0));
        assert!(SeriesBuilder::new(true).rows().is_empty());
        // A request that ends on a second's first microsecond is in that second.
        let mut edge = SeriesBuilder::new(true);
        edge.add(&request(base, 900, 99, 1), base); // 0.9 s → 1.000000 s
        let rows = edge.rows();
        assert_eq!(rows.iter().map(|r| (r.started, r.finished)).collect::<Vec<_>>(), [(1, 0), (0, 1)]);
        assert_eq!((rows[0].in_flight, rows[1].duration_s), (1, 1e-3));
    }

    #[test]
    fn closing_old_seconds_keeps_their_percentiles_and_late_counts() {
        let base = Instant::now();
        let (mut ordered, mut kept) = (SeriesBuilder::new(true), SeriesBuilder::new(false));
        for s in 0..40 {
            for b in [&mut ordered, &mut kept] {
                b.add(&request(base, s * 1000 + 10, 50 + s, 4), base);
            }
        }
        assert_eq!(ordered.closed, 40 - 1 - OPEN_SECONDS as usize);
        assert!(matches!(ordered.seconds[0].latencies, Latencies::Closed(_)));
        assert_eq!(kept.closed, 0);
        assert_eq!(ordered.rows(), kept.rows());
        // A request that ended in a closed second still counts there, without its latencies.
        let before = ordered.rows()[0].clone();
        ordered.add(&request(base, 10, 500, 4), base); // 0.01 s → 0.541 s
        let after = &ordered.rows()[0];
        assert_eq!((after.finished, after.ok, after.started), (2, 2, 2));
        assert_eq!((after.ttft_p50_ms, after.ttft_p99_ms), (before.ttft_p50_ms, before.ttft_p99_ms));
    }

    #[test]
    fn parts_appended_in_order_give_one_builders_rows() {
        let base = Instant::now();
        // In about end order, but every 7th request 12–30 s late: one builder has closed the
        // second it ended in, or has not, depending on everything before it.
        let requests: Vec<Measurement> = (0..120u64)
            .map(|i| {
                let late = if i % 7 == 3 { 12_000 + 1_000 * (i % 19) } else { 0 };
                request(base, (500 * i).saturating_sub(late), 40 + i % 9, 1 + i % 4)
            })
            .collect();
        for ordered in [true, false] {
            let mut one = SeriesBuilder::new(ordered);
            requests.iter().for_each(|m| one.add(m, base));
            for cut in [1, 2, 5, 17, 40, 119] {
                let mut merged = SeriesBuilder::new(ordered);
                for stretch in requests.chunks(cut) {
                    let mut part = merged.part();
                    stretch.iter().for_each(|m| part.add(m, base));
                    merged.append(part);
                }
                assert_eq!(merged.rows(), one.rows(), "ordered {ordered}, parts of {cut}");
                assert_eq!(merged.closed, one.closed);
            }
        }
        // The late requests did lose their latencies in one builder: the test tests something.
        let mut kept = SeriesBuilder::new(false);
        requests.iter().for_each(|m| kept.add(m, base));
        let mut one = SeriesBuilder::new(true);
        requests.iter().for_each(|m| one.add(m, base));
        assert_ne!(one.rows(), kept.rows());
    }
}
