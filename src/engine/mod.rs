//! The run's threads: workers, the timer, the reporter; the start gate every one of them waits
//! at until the run's clock starts; the stop signal that ends them; and the end of the run: the
//! timer and the reporter are joined, and the workers, once they have sent their last message,
//! let go of what they shared and rest until their `Crew` is dismissed (ten thousand thread exits
//! cost a second, which must not delay the summary). The run's caller dismisses it once the
//! summary is out: the threads end and the run's connections close, before anything else runs.
//! Workers own nothing shared but the config, the client, the stop signal and a sender; all
//! statistics live in the reporter thread. With `--metrics-listen` a thread serves the page of
//! live metrics the reporter publishes, from before the start to the end of the run.

use crate::client::Client;
use crate::config::Config;
use crate::error::Error;
use crate::export::RecordFiles;
use crate::output::progress::Live;
use crate::output::warnings::Warning;
use crate::stop::StopSignal;
use crate::summary::RunOutput;
use crate::util::sys::latch::Latch;
use crossbeam_channel::{Receiver, after, at, select};
use launch::Held;
use reporter::{Msg, Outbox, Report, Reporter, Screen};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

mod closed;
mod launch;
mod metrics;
mod open;
mod reporter;
mod scraper;
mod seat;

/// Small stacks so that 10,000 workers fit in memory; TLS handshakes need well under this.
const WORKER_STACK: usize = 256 * 1024;

/// Runs the load test to its end (budget, deadline, or an interrupt on `interrupts`). Every
/// thread is spawned before the run's clock starts, so starting 10,000 workers takes nothing
/// from the run. Fails only when the OS refuses the run's own threads. The workers are left
/// resting in the `Crew`, with the run's connections. `live` is the line the reporter redraws
/// under the run in place of the request budget's (a sweep's level), on a terminal only.
pub fn run(
    config: Arc<Config>,
    records: RecordFiles,
    interrupts: Receiver<()>,
    live: Option<Live>,
) -> Result<(RunOutput, Crew), Error> {
    crate::util::sys::malloc_arenas_for(config.pacing.concurrency);
    let stop = StopSignal::default();
    let mut crew = Crew::default();
    let mut warnings = Vec::new();
    let client = Arc::new(Client::new(config.client.clone()));
    let budget = Arc::new(config.pacing.budget());
    let (tx, inbox) = reporter::channels();
    let gate = Gate::default();
    let page = metrics::Page::default();
    let publisher = config.metrics.as_ref().map(|_| metrics::Publisher::new(&config, page.clone()));
    let server = match &config.metrics {
        Some(endpoint) => Some(
            metrics::Server::start(endpoint.clone(), page, |f| spawn("metrics", 256 * 1024, f))
                .map_err(refused("metrics"))?,
        ),
        None => None,
    };

    let reporter = {
        let (c, pass, stop) = (config.clone(), gate.pass(), stop.clone());
        spawn("reporter", 1 << 20, move || {
            let started = pass.wait()?;
            let (api, url, workers) = (c.api.name(), &c.client.url, c.pacing.concurrency);
            let budget = c.pacing.requests.filter(|_| c.progress).map(Live::Budget);
            let screen = Screen {
                table: !c.quiet,
                lang: c.lang,
                progress: live.or(budget),
                server: c.scrape.is_some(),
            };
            let reporter = Reporter::new(records, api, url, screen, workers, started, c.series)
                .stamped(&c.scale.run_id, c.scale.shard.map(|s| s.to_string()))
                .publishing(publisher)
                .steady(c.pacing.plateau_start(), stop);
            Some(reporter.run(inbox))
        })
        .map_err(refused("reporter"))?
    };
    let early_interrupts = interrupts.clone(); // for the wait before the start (--start-at)
    let (workers_done, all_done) = crossbeam_channel::bounded::<()>(0);
    let timer = {
        let (stop, deadline, grace, tx, pass, client) =
            (stop.clone(), config.pacing.duration, config.grace, tx.clone(), gate.pass(), client.clone());
        spawn("timer", 64 * 1024, move || {
            let started = pass.wait()?;
            let deadline = deadline.and_then(|d| started.checked_add(d));
            Some(timer(&stop, deadline, grace, &interrupts, &all_done, &client, &tx))
        })
        .map_err(refused("timer"))?
    };
    let mut scraper = match &config.scrape {
        Some(plan) => {
            let s = scraper::start(plan, &config.client.tls, gate.pass(), tx.clone())
                .map_err(refused("scraper"))?;
            Some(s)
        }
        None => None,
    };

    // Each worker (and the open loop's dispatcher) holds a clone of `alive` until it has sent
    // its last message.
    let (alive, all_rested) = crossbeam_channel::bounded::<()>(0);
    let open = match config.pacing.open {
        Some(load) => {
            let (dispatcher, pool) =
                open::start(load, &config, &client, &stop, &tx, &alive, gate.pass(), &crew.workers)
                    .map_err(refused("dispatcher"))?;
            Some((dispatcher, pool))
        }
        None => None,
    };
    let closed_workers = if open.is_some() { 0 } else { config.pacing.concurrency };
    // Each closed-loop worker opens its first connection before the start, then drops its
    // `ready`: the gate opens once all have (or the connect timeout has passed).
    let (ready, all_ready) = crossbeam_channel::unbounded::<()>();
    for i in 0..closed_workers {
        let (cfg, client, budget, stop, pass, tx, alive, ready) = (
            config.clone(),
            client.clone(),
            budget.clone(),
            stop.clone(),
            gate.pass(),
            tx.clone(),
            alive.clone(),
            ready.clone(),
        );
        let dismissed = crew.workers.dismissed();
        match spawn(&format!("worker-{i}"), WORKER_STACK, move || {
            closed::worker(i, &cfg, &client, &budget, &stop, &pass, &tx, ready);
            drop((cfg, client, budget, stop, pass, tx, alive));
            rest(&dismissed);
        }) {
            Ok(h) => crew.workers.add(h),
            Err(e) => {
                let workers = config.pacing.concurrency;
                warnings.push(Warning::WorkersShort { started: i, workers, error: e.to_string() }.into());
                break;
            }
        }
    }
    drop((tx, alive, ready));
    let connects_end = Instant::now() + config.client.timeouts.connect + Duration::from_secs(1);
    while all_ready.recv_deadline(connects_end).is_ok() {}
    let held = launch::hold(config.scale.start_at_system(), &early_interrupts, !config.quiet);
    if held == Held::Interrupted {
        stop.trip(); // interrupted before the start: the gate opens on a run that sends nothing
    }
    let started_at = chrono::Local::now();
    crew.threads = live_threads();
    let started = gate.open();
    let _ = all_rested.recv(); // disconnected once every worker has sent its last message
    if let Some(s) = &mut scraper {
        s.run_ended();
    }
    let wall = started.elapsed();
    drop(workers_done); // wakes the timer if the run ended before its deadline
    let ended = timer.join().ok().flatten();
    if let Some((dispatcher, pool)) = open {
        warnings.extend(dispatcher.join().unwrap_or_default());
        let count = pool.unsent() as u64;
        if count > 0 {
            warnings.push(Warning::Unsent { count, max_concurrency: config.pacing.concurrency }.into());
        }
    }
    crew.client = Some(client);
    let interrupt =
        if held == Held::Interrupted { Some(false) } else { ended.as_ref().and_then(|e| e.interrupt) };
    // The load stopped at the interrupt; the grace period after it is the wind-down.
    let interrupted_after = interrupt.map(|_| {
        ended
            .as_ref()
            .and_then(|e| e.interrupted_at)
            .map_or(Duration::ZERO, |at| at.saturating_duration_since(started))
    });
    if let (Some(forced), Some(after)) = (interrupt, interrupted_after) {
        warnings.push(Warning::Interrupted { after_s: after.as_secs_f64(), forced }.into());
    }
    let (report, stats_lost) = match reporter.join().ok().flatten() {
        Some(report) => (report, false),
        None => {
            warnings.push(Warning::ReporterFailed.into());
            (Report::default(), true)
        }
    };
    if let Some(server) = server {
        server.finish(&early_interrupts); // the final numbers, served for --metrics-linger
    }
    // The measured window ends at the cut or at the last request's end, whichever came first.
    let cut_at = ended.map_or(started + wall, |e| e.cut_at);
    let window_end = report.last_end.map_or(cut_at, |last| last.min(cut_at));
    // With a warm-up it begins where the first measured request was meant to start.
    let window_start =
        if config.pacing.warmup.is_some() { report.first_measured.unwrap_or(started) } else { started };
    let window = window_end.saturating_duration_since(window_start);
    let load_end = stop.load_ended_at().map_or(window_end, |e| e.min(window_end));
    let Report { stats, records_error, mut series, breakdown, steady, .. } = report;
    let steady = steady.and_then(|st| {
        let from = st.from?.max(window_start);
        let at = |i: Instant| i.saturating_duration_since(started);
        (load_end > from).then(|| crate::summary::SteadyRun {
            start: at(from),
            end: at(load_end),
            stats: st.stats,
            ok: st.ok,
            output_tokens: st.output_tokens,
        })
    });
    let server = scraper.map(scraper::Scraper::join).unwrap_or_default();
    crate::summary::server::beside(&mut series, &server);
    let interrupted = interrupt.is_some();
    let output = RunOutput {
        stats,
        wall,
        window,
        started_at,
        warnings,
        records_error,
        interrupted,
        interrupted_after,
        stats_lost,
        series,
        breakdown,
        server,
        steady,
    };
    Ok((output, crew))
}

/// A finished run's workers, resting, and its client with the connections it keeps: what
/// `dismiss` ends. Ten thousand thread exits (each unmapping its stack, which interrupts every
/// core running the process) take about a second on 2 cores: they wait until the summary is out.
/// Dropped undismissed, the threads rest until the process exits.
#[derive(Default)]
pub struct Crew {
    workers: Workers,
    client: Option<Arc<Client>>,
    threads: usize,
}

/// The workers' handles and the word that ends their rest; shared with the open loop's
/// dispatcher, which spawns workers during the run.
#[derive(Default, Clone)]
pub(super) struct Workers {
    handles: Arc<parking_lot::Mutex<Vec<thread::JoinHandle<()>>>>,
    dismissed: Arc<AtomicBool>,
}

impl Workers {
    pub(super) fn add(&self, h: thread::JoinHandle<()>) {
        self.handles.lock().push(h);
    }

    pub(super) fn dismissed(&self) -> Arc<AtomicBool> {
        self.dismissed.clone()
    }
}

impl Crew {
    /// llmload's threads alive when the run's clock started: every thread of the run (its
    /// workers, the timer, the reporter, the open loop's dispatcher) and any an earlier run left.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Ends the run's threads and closes its connections; returns once every thread has ended.
    pub fn dismiss(self) {
        let Crew { workers, client, .. } = self;
        workers.dismissed.store(true, Ordering::Release);
        let handles = std::mem::take(&mut *workers.handles.lock());
        for h in &handles {
            h.thread().unpark();
        }
        for h in handles {
            let _ = h.join();
        }
        drop(client); // the last holder: the pooled connections close
    }

    /// Leaves the threads resting and the connections open for a process about to exit, whose
    /// exit ends them all at once: cheaper than ending them one by one (10,000 threads: about
    /// 0.16 s at the exit against 0.4 s joined, on 2 cores).
    pub fn leave(self) {
        std::mem::forget(self);
    }
}

/// Where a worker goes once it has sent its last message and let go of everything it shared:
/// it waits to be dismissed, so that its exit does not slow the end of the run.
pub(super) fn rest(dismissed: &AtomicBool) {
    while !dismissed.load(Ordering::Acquire) {
        thread::park();
    }
}

/// llmload's run threads alive now: counted from just before each starts to the end of its
/// work, so a thread joined is never counted, whatever the OS is still doing with it.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The engine's threads alive now (`Crew::threads` at a run's start).
pub fn live_threads() -> usize {
    LIVE.load(Ordering::Acquire)
}

/// Keeps a thread counted in `LIVE` until its work ends, even by a panic.
struct Counted;

impl Drop for Counted {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The start gate. Threads spawned before the run's clock starts wait at it (each holds a
/// `Pass`); `open` takes the start instant and lets them all go at once (`Latch`), so the clock
/// starts only once every thread exists. At once, not a wake-up per thread: an opener that
/// unparked 1,000 workers one by one lost the CPU to the first ones woken and let the last ones
/// go 100–330 ms late. Dropped unopened (the OS refused a thread), it lets its waiters go
/// without a start.
#[derive(Default)]
struct Gate(Arc<GateState>);

#[derive(Default)]
struct GateState {
    /// The run's start, or `None` if it never started; set before the latch opens.
    start: OnceLock<Option<Instant>>,
    opened: Latch,
}

/// A thread's way through the gate.
struct Pass(Arc<GateState>);

impl Gate {
    fn pass(&self) -> Pass {
        Pass(self.0.clone())
    }

    /// Starts the run's clock and lets every waiting thread go; returns the start.
    fn open(self) -> Instant {
        let start = Instant::now();
        let _ = self.0.start.set(Some(start));
        start // dropping `self` opens the latch
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        let _ = self.0.start.set(None); // a no-op once opened
        self.0.opened.open();
    }
}

impl Pass {
    /// Waits until the gate opens; returns the run's start, or `None` if it never started.
    fn wait(&self) -> Option<Instant> {
        self.0.opened.wait();
        self.0.start.get().copied().flatten()
    }
}

/// How the timer ended the run.
struct Ended {
    /// `None` without an interrupt, else whether a second one forced the stop.
    interrupt: Option<bool>,
    /// When in-flight requests were cut.
    cut_at: Instant,
    /// When the interrupt came: no request started after it.
    interrupted_at: Option<Instant>,
}

/// The timer thread: waits for the deadline, the workers' end or an interrupt, then stops new
/// requests and, once in-flight ones had their time (none at the deadline), cuts them: the stop
/// signal says they are cancelled, and the client's cut wakes every read still blocked.
/// After an interrupt in-flight requests get `grace`, cut short by a second one.
fn timer(
    stop: &StopSignal,
    deadline: Option<Instant>,
    grace: Duration,
    interrupts: &Receiver<()>,
    all_done: &Receiver<()>,
    client: &Client,
    tx: &Outbox,
) -> Ended {
    let deadline = deadline.map_or_else(crossbeam_channel::never, at);
    let interrupted = select! {
        recv(deadline) -> _ => false,
        recv(interrupts) -> msg => msg.is_ok(),
        recv(all_done) -> _ => false,
    };
    stop.trip(); // no new requests
    let interrupted_at = interrupted.then(Instant::now);
    let mut forced = false;
    if interrupted {
        let _ = tx.now.send(Msg::Stopping { grace });
        select! {
            recv(after(grace)) -> _ => {}
            recv(all_done) -> _ => {}
            recv(interrupts) -> msg => forced = msg.is_ok(),
        }
    }
    stop.cut();
    let cut_at = Instant::now();
    client.cut();
    Ended { interrupt: interrupted.then_some(forced), cut_at, interrupted_at }
}

/// The error for a thread the OS would not start.
fn refused(name: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| {
        Error::Usage(format!(
            "the OS refused to start the {name} thread ({e}): raise `ulimit -u` or free memory"
        ))
    }
}

/// Starts a named thread with a `stack` of that size, counted in `LIVE` while it works.
fn spawn<T: Send + 'static>(
    name: &str,
    stack: usize,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<thread::JoinHandle<T>> {
    LIVE.fetch_add(1, Ordering::AcqRel);
    let counted = Counted;
    // A thread the OS refuses never runs: `counted` is dropped with the closure.
    thread::Builder::new().name(name.to_string()).stack_size(stack).spawn(move || {
        let _counted = counted;
        f()
    })
}
