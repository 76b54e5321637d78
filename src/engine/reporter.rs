//! The reporter thread: the single owner of a run's statistics. It defines the messages workers
//! send it (one per worker start and stop, one per finished request) and the two channels they
//! go by, writes each finished request to `--records` and `--csv` at once (flushed) and judges it
//! against `--slo`, prints a table row every second, and keeps the run second by second when
//! `--series` or `--html` asks for it; when its caller asks (a request budget on a terminal, or a
//! sweep's level), it redraws a live line under the table; with `--metrics-listen` it publishes
//! the run so far as a page of live metrics each second. It never blocks a worker (the channels are unbounded), and a terminal
//! that went away ends only the table.

use crate::export::{OutputFile, RecordFiles, csv, records, records::Record, records::Stamp};
use crate::lang::Lang;
use crate::measure::Measurement;
use crate::output::progress;
use crate::output::table::{self, Row, ServerCells};
use crate::output::warnings::human;
use crate::stats::{Breakdown, RunStats, SeriesBuilder, SeriesRow};
use crate::stop::StopSignal;
use crossbeam_channel::{Receiver, Sender, never, select, tick, unbounded};
use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

/// What workers tell the reporter: when they start and stop, and each request as it ends (one
/// message a request, never one a token).
pub enum Msg {
    /// A worker started: closed loop, `start_lag` after its scheduled start (the run's start
    /// plus its ramp-up offset); an open loop's pool worker has no schedule of its own.
    WorkerUp {
        start_lag: Option<Duration>,
        /// How long its first connection took to open, before the start (`Client::preconnect`).
        connect: Option<Duration>,
    },
    Finished(Box<Measurement>),
    WorkerDone,
    /// Ctrl-C: in-flight requests now have `grace` to finish (the timer sends it).
    Stopping {
        grace: Duration,
    },
    /// A scrape of the servers' metrics (`--server-metrics`): requests running and waiting,
    /// summed over the pages, and the KV cache's share in use; `None` where no page has it.
    Server {
        running: Option<f64>,
        waiting: Option<f64>,
        kv_use: Option<f64>,
    },
}

/// Where workers send their messages. A send on a channel the reporter waits on wakes it, a
/// context switch each: finished requests go by `now`, since each is written as it ends; a
/// worker's start and end go by `later`, read once a second, since 1,024 workers start at once.
#[derive(Clone)]
pub struct Outbox {
    pub now: Sender<Msg>,
    pub later: Sender<Msg>,
}

/// The reporter's ends of an `Outbox`.
pub struct Inbox {
    now: Receiver<Msg>,
    later: Receiver<Msg>,
}

/// A new pair of channels.
pub fn channels() -> (Outbox, Inbox) {
    let ((now, now_rx), (later, later_rx)) = (unbounded(), unbounded());
    (Outbox { now, later }, Inbox { now: now_rx, later: later_rx })
}

/// What the reporter hands back when every worker has gone.
#[derive(Default)]
pub struct Report {
    pub stats: RunStats,
    /// Why writing `--records` or `--csv` stopped, if it did.
    pub records_error: Option<String>,
    /// When the last request to end ended.
    pub last_end: Option<Instant>,
    /// The earliest intended start of a request outside `--warmup`: where the measured window
    /// begins when there is a warm-up.
    pub first_measured: Option<Instant>,
    /// The run second by second, when it was kept (empty otherwise).
    pub series: Vec<SeriesRow>,
    /// The run by API key and by prompt.
    pub breakdown: Breakdown,
    /// The steady state's requests, when the run was told where it may begin (`steady`).
    pub steady: Option<Steady>,
}

/// The requests of the steady state: from the moment the load reached its level to the moment
/// it stopped growing (the first worker done, the open loop's last arrival, the deadline).
#[derive(Default)]
pub struct Steady {
    /// Where it begins.
    pub from: Option<Instant>,
    /// Requests that started at or after `from` and ended by the load's end: its latencies.
    pub stats: RunStats,
    /// Successful requests meant to start inside it, whenever they ended, and their output
    /// tokens (with the text cut and abandoned ones received, as the whole run counts it): its
    /// throughput (in a steady state requests start as fast as they end, and
    /// counting starts leaves out both the first answers' fill and the last ones' drain).
    pub ok: u64,
    pub output_tokens: u64,
}

impl Steady {
    /// Adds `m` where it belongs: `load_end` is when the load stopped growing, if it has yet.
    /// A request that started (or ended) before the load stopped is inside, however late the
    /// reporter reads it: had the load stopped first, `load_end` would say so by now.
    fn add(&mut self, m: &Measurement, load_end: Option<Instant>) {
        let Some(from) = self.from else { return };
        if m.scheduled < from || load_end.is_some_and(|end| m.scheduled > end) {
            return;
        }
        use crate::measure::Outcome;
        match m.outcome {
            Outcome::Ok => {
                self.ok += 1;
                self.output_tokens += m.output_tokens().0;
            }
            // As the whole run's output tok/s counts them: the text a cut or abandoned stream
            // received (answers longer than the run would otherwise read as none).
            Outcome::Cancelled | Outcome::Abandoned if !m.text_at.is_empty() => {
                self.output_tokens += m.output_tokens().0;
            }
            _ => {}
        }
        if load_end.is_none_or(|end| m.end_at <= end) {
            self.stats.add(m);
        }
    }
}

/// What the reporter shows on stderr while the run goes on.
pub struct Screen {
    /// The per-second table (off: `--quiet`).
    pub table: bool,
    pub lang: Lang,
    /// The line redrawn in place (`output::progress`), when stderr is a terminal.
    pub progress: Option<progress::Live>,
    /// The server's columns (`--server-metrics`).
    pub server: bool,
}

/// The progress line as last drawn.
struct Progress {
    live: progress::Live,
    /// The terminal columns the line took, to blank them before the next line.
    drawn: usize,
}

/// A file each finished request is written to as it ends.
struct Sink {
    /// The flag and path, for messages.
    name: String,
    out: BufWriter<OutputFile>,
    /// CSV rows (`--csv`, after a header row) instead of JSON lines (`--records`).
    csv: bool,
}

pub struct Reporter {
    /// The records files still being written.
    sinks: Vec<Sink>,
    records_error: Option<String>,
    /// The run's API name and endpoint, written into every record for `llmload report`.
    api: String,
    url: String,
    table: bool,
    lang: Lang,
    progress: Option<Progress>,
    /// The window being ended is the part of a second after the last tick.
    last_row: bool,
    total_workers: usize,
    active_workers: usize,
    started: Instant,
    window: RunStats,
    window_start: Instant,
    total: RunStats,
    /// By key and prompt: the whole run only, never a window.
    breakdown: Breakdown,
    last_end: Option<Instant>,
    first_measured: Option<Instant>,
    series: Option<SeriesBuilder>,
    /// The run id, shard and wall-clock start written into every record.
    stamp: Option<Stamp>,
    /// The servers' last scrape, for the table; `Some` from the start when scraping.
    server: Option<ServerCells>,
    /// The steady state so far, and the stop signal that says when the load stopped growing.
    steady: Option<(Steady, StopSignal)>,
    /// The CSV starts with its header row (not when it goes on from an earlier run's rows).
    csv_header: bool,
    /// Where the live metrics go (`--metrics-listen`).
    publisher: Option<super::metrics::Publisher>,
}

impl Reporter {
    pub fn new(
        records: RecordFiles,
        api: &str,
        url: &str,
        screen: Screen,
        total_workers: usize,
        started: Instant,
        series: bool,
    ) -> Self {
        let sink = |out: OutputFile, csv| Sink {
            name: format!("{} {}", out.flag, out.path.display()),
            out: BufWriter::new(out),
            csv,
        };
        let stats = RunStats::judged_by(records.slo.as_ref());
        let csv_header = !records.continued;
        let sinks = [records.jsonl.map(|o| sink(o, false)), records.csv.map(|o| sink(o, true))];
        Self {
            sinks: sinks.into_iter().flatten().collect(),
            records_error: None,
            api: api.into(),
            url: url.into(),
            table: screen.table,
            lang: screen.lang,
            progress: screen.progress.map(|live| Progress { live, drawn: 0 }),
            last_row: false,
            total_workers,
            active_workers: 0,
            started,
            window: stats.fresh(),
            window_start: started,
            total: stats,
            breakdown: Breakdown::default(),
            last_end: None,
            first_measured: None,
            // Requests reach the reporter as they end: the builder keeps only the last seconds open.
            series: series.then(|| SeriesBuilder::new(true)),
            stamp: None,
            server: screen.server.then(ServerCells::default),
            steady: None,
            csv_header,
            publisher: None,
        }
    }

    /// Publishes the run so far to `publisher` at its start, each second and at its end.
    pub fn publishing(mut self, publisher: Option<super::metrics::Publisher>) -> Self {
        self.publisher = publisher;
        self
    }

    fn publish(&self) {
        if let Some(p) = &self.publisher {
            p.publish(&self.total, self.active_workers, self.started.elapsed());
        }
    }

    /// Stamps every record with `run_id`, `shard` and its wall-clock start. The run's start by
    /// the wall clock is read now, against the monotonic clock (a microsecond's error at most).
    pub fn stamped(mut self, run_id: &str, shard: Option<String>) -> Self {
        let since_start = Instant::now().saturating_duration_since(self.started);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let start_unix_ms = now.saturating_sub(since_start).as_micros() as f64 / 1e3;
        self.stamp = Some(Stamp { run_id: run_id.into(), shard, start_unix_ms });
        self
    }

    /// Keeps the steady state's requests apart too: those that end from `from` after the run's
    /// start (`Pacing::plateau_start`) to when `stop` says the load stopped growing.
    pub fn steady(mut self, from: Duration, stop: StopSignal) -> Self {
        let from = self.started.checked_add(from);
        self.steady = Some((Steady { from, ..Steady::default() }, stop));
        self
    }

    /// Runs until every worker has dropped its sender; returns the statistics, any error the
    /// records file had and when the last request ended.
    pub fn run(mut self, inbox: Inbox) -> Report {
        if self.table {
            self.say(&table::header(self.lang, self.server.is_some()));
        }
        self.begin();
        self.publish();
        let header = self.csv_header;
        self.write(|sink| (sink.csv && header).then(csv::header));
        let ticker = tick(Duration::from_secs(1));
        let redraw = self.progress.as_ref().map_or_else(never, |p| tick(p.live.every()));
        loop {
            select! {
                recv(inbox.now) -> msg => match msg {
                    Ok(msg) => self.on_msg(msg, &inbox.later),
                    Err(_) => break,
                },
                recv(ticker) -> _ => {
                    self.take_later(&inbox.later);
                    self.end_window();
                }
                recv(redraw) -> _ => self.draw_progress(),
            }
        }
        self.take_later(&inbox.later);
        if self.window.total() + self.window.warmup > 0 {
            self.last_row = true;
            self.end_window();
        }
        self.publish();
        self.clear_progress();
        let series = self.series.map_or_else(Vec::new, |s| s.rows());
        Report {
            stats: self.total,
            records_error: self.records_error,
            last_end: self.last_end,
            first_measured: self.first_measured,
            series,
            breakdown: self.breakdown,
            steady: self.steady.map(|(s, _)| s),
        }
    }

    /// Takes what came by the `later` channel.
    fn take_later(&mut self, later: &Receiver<Msg>) {
        while let Ok(msg) = later.try_recv() {
            self.on_msg(msg, later);
        }
    }

    fn on_msg(&mut self, msg: Msg, later: &Receiver<Msg>) {
        match msg {
            Msg::WorkerUp { start_lag, connect } => {
                self.active_workers += 1;
                if let Some(lag) = start_lag {
                    self.total.worker_up(lag); // not a per-second number: straight to the total
                }
                if let Some(c) = connect {
                    self.total.connect.record(c.as_micros().min(u128::from(u64::MAX)) as u64);
                }
            }
            Msg::WorkerDone => self.active_workers = self.active_workers.saturating_sub(1),
            // Said even with --quiet: the person who pressed Ctrl-C is waiting for an answer.
            Msg::Stopping { grace } => {
                self.take_later(later);
                let (grace, n) = (human(grace), self.active_workers);
                self.say(&self.lang.pick(
                    format!("stopping: waiting up to {grace} for {n} in-flight requests (Ctrl-C again to stop now)"),
                    format!("正在停止：最多等待 {grace}，让 {n} 个进行中的请求结束（再按 Ctrl-C 立即停止）"),
                ));
            }
            Msg::Server { running, waiting, kv_use } => {
                self.server = Some(ServerCells { running, waiting, kv_use });
            }
            Msg::Finished(m) => {
                self.last_end = self.last_end.max(Some(m.end_at));
                self.write_record(&m);
                self.window.add(&m);
                if m.warmup {
                    return; // recorded, and in nothing else
                }
                self.first_measured = Some(self.first_measured.map_or(m.scheduled, |f| f.min(m.scheduled)));
                if let Some((steady, stop)) = &mut self.steady {
                    steady.add(&m, stop.load_ended_at());
                }
                self.breakdown.add(&m);
                if let Some(s) = &mut self.series {
                    s.add(&m, self.started);
                }
            }
        }
    }

    fn write_record(&mut self, m: &Measurement) {
        if self.sinks.is_empty() {
            return;
        }
        let start = m.t0.saturating_duration_since(self.started);
        let mut r = Record::from_measurement(m, start, &self.api, &self.url);
        if let Some(stamp) = &self.stamp {
            stamp.apply(&mut r, start);
        }
        self.write(|sink| Some(if sink.csv { csv::row(&r) } else { records::line(&r) }));
    }

    /// Begins each records file as the run starts (an existing one is emptied), so that a run
    /// that ends with no request still leaves its own, empty file; a sink that fails is dropped
    /// as in `write`.
    fn begin(&mut self) {
        let errors = &mut self.records_error;
        self.sinks.retain_mut(|sink| match sink.out.get_mut().begin() {
            Ok(()) => true,
            Err(e) => {
                let e = format!("{}: {e}", sink.name);
                *errors = Some(errors.take().map_or(e.clone(), |first| format!("{first}; {e}")));
                false
            }
        });
    }

    /// Writes what `bytes` gives each sink and flushes it; a sink that fails is dropped (the run
    /// keeps measuring; the summary still has every request) and its error kept.
    fn write(&mut self, bytes: impl Fn(&Sink) -> Option<Vec<u8>>) {
        let errors = &mut self.records_error;
        self.sinks.retain_mut(|sink| {
            let Some(b) = bytes(sink) else { return true };
            match sink.out.write_all(&b).and_then(|_| sink.out.flush()) {
                Ok(()) => true,
                Err(e) => {
                    let e = format!("{}: {e}", sink.name);
                    *errors = Some(errors.take().map_or(e.clone(), |first| format!("{first}; {e}")));
                    false
                }
            }
        });
    }

    /// Folds this second into the total and prints its row.
    fn end_window(&mut self) {
        let next = self.window.fresh();
        let w = std::mem::replace(&mut self.window, next);
        self.total += &w;
        let window_s = self.window_start.elapsed().as_secs_f64().max(1e-3);
        self.window_start = Instant::now();
        self.publish();
        if !self.table {
            return;
        }
        let elapsed = self.started.elapsed();
        let finished = w.ok + w.failed;
        let row = Row {
            clock: chrono::Local::now().format("%H:%M:%S").to_string(),
            elapsed_s: if self.last_row { elapsed.as_secs_f64() } else { elapsed.as_secs_f64().round() },
            last: self.last_row,
            active_workers: self.active_workers,
            total_workers: self.total_workers,
            done: w.total(),
            done_total: self.total.total(),
            warmup: w.warmup,
            success: (finished > 0).then(|| w.ok as f64 / finished as f64),
            tokens_per_s: (!self.last_row || window_s >= table::SHORTEST_RATE_S)
                .then(|| w.output_tokens as f64 / window_s),
            ttft_p50_ms: w.ttft.quantile(0.5).map(|v| v as f64 / 1000.0),
            itl_p50_ms: w.itl.quantile(0.5).map(|v| v as f64 / 1000.0),
            errors: w.failed,
            lag_p99_ms: w.read_lag.quantile(0.99).map(|v| v as f64 / 1000.0),
            server: self.server,
        };
        self.say(&table::row(&row, self.lang));
    }

    /// Writes a line to stderr, over the progress line if one is drawn, which is drawn again
    /// under it. A failed write (a closed pipe: `2>&1 | head -1`) ends the table and the
    /// progress line, never the run: measurement and records go on.
    fn say(&mut self, line: &str) {
        let blank = self.progress.as_ref().map_or(0, |p| p.drawn);
        let ok = {
            let mut err = std::io::stderr().lock();
            match blank {
                0 => writeln!(err, "{line}"),
                n => writeln!(err, "\r{}", crate::output::format::pad_right(line, n)),
            }
            .is_ok()
        };
        if !ok {
            self.table = false;
            self.progress = None;
        }
        if blank > 0 {
            self.draw_progress();
        }
    }

    /// Redraws the progress line in place: `\r`, the line, spaces over what a longer one left.
    fn draw_progress(&mut self) {
        let Some(p) = &mut self.progress else { return };
        let done = self.total.total() + self.window.total();
        let line = p.live.line(done, self.started.elapsed(), self.lang);
        let width = crate::output::format::display_width(&line);
        let shown = crate::output::format::pad_right(&line, p.drawn);
        p.drawn = width;
        let mut err = std::io::stderr().lock();
        if write!(err, "\r{shown}").and_then(|_| err.flush()).is_err() {
            self.progress = None;
        }
    }

    /// Blanks the progress line at the end of the run, so what follows starts on a clean line.
    fn clear_progress(&mut self) {
        if let Some(p) = self.progress.take().filter(|p| p.drawn > 0) {
            let _ = write!(std::io::stderr().lock(), "\r{}\r", " ".repeat(p.drawn));
        }
    }
}
