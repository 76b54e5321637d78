//! The run's threads: workers, the timer, the reporter; the stop signal that ends them; and the
//! joins. Workers own nothing shared but the config, the client, the stop signal and a sender;
//! all statistics live in the reporter thread.

use crate::client::{self, Client, Request};
use crate::config::Config;
use crate::error::Error;
use crate::export::OutputFile;
use crate::output::warnings::Warning;
use crate::reporter::{Msg, Reporter};
use crate::rng::SplitMix64;
use crate::stop::{PanicGuard, StopSignal};
use crate::summary::RunOutput;
use crate::workload::RequestBudget;
use crossbeam_channel::{Receiver, Sender, after, select, unbounded};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Small stacks so that 10,000 workers fit in memory; TLS handshakes need well under this.
const WORKER_STACK: usize = 256 * 1024;

/// Runs the load test to its end (budget, deadline, or an interrupt on `interrupts`). Fails only
/// when the OS refuses the run's own threads.
pub fn run(
    config: Arc<Config>,
    records: Option<OutputFile>,
    interrupts: Receiver<()>,
) -> Result<RunOutput, Error> {
    let stop = StopSignal::default();
    let mut warnings = Vec::new();
    let agent = client::agent(&config.client);
    let client = Arc::new(Client::new(config.client.clone(), agent.clone()));
    let budget = Arc::new(config.pacing.budget());
    let (tx, rx) = unbounded();
    let started = Instant::now();
    let started_at = chrono::Local::now();

    let reporter = Reporter::new(
        records,
        config.api.name(),
        &config.client.url,
        !config.quiet,
        config.pacing.concurrency,
        started,
    );
    let reporter = spawn("reporter", 1 << 20, move || reporter.run(rx)).map_err(refused("reporter"))?;
    let (workers_done, all_done) = crossbeam_channel::bounded::<()>(0);
    let timer = {
        let (stop, deadline, grace, tx) = (stop.clone(), config.pacing.duration, config.grace, tx.clone());
        spawn("timer", 64 * 1024, move || timer(&stop, deadline, grace, &interrupts, &all_done, agent, &tx))
            .map_err(refused("timer"))?
    };

    let mut workers = Vec::with_capacity(config.pacing.concurrency);
    for i in 0..config.pacing.concurrency {
        let (cfg, client, budget, stop, tx) =
            (config.clone(), client.clone(), budget.clone(), stop.clone(), tx.clone());
        match spawn(&format!("worker-{i}"), WORKER_STACK, move || {
            worker(i, &cfg, &client, &budget, &stop, &tx)
        }) {
            Ok(h) => workers.push(h),
            Err(e) => {
                let workers = config.pacing.concurrency;
                warnings
                    .push(Warning::WorkersShort { started: i, workers, error: e.to_string() }.to_string());
                break;
            }
        }
    }
    drop(tx);
    for w in workers {
        let _ = w.join();
    }
    let wall = started.elapsed();
    drop(workers_done); // wakes the timer if the run ended before its deadline
    let interrupt = timer.join().unwrap_or(None);
    if let Some(forced) = interrupt {
        warnings.push(Warning::Interrupted { wall_s: wall.as_secs_f64(), forced }.to_string());
    }
    let ((stats, records_error), stats_lost) = match reporter.join() {
        Ok(done) => (done, false),
        Err(_) => {
            warnings.push(Warning::ReporterFailed.to_string());
            (Default::default(), true)
        }
    };
    let interrupted = interrupt.is_some();
    Ok(RunOutput { stats, wall, started_at, warnings, records_error, interrupted, stats_lost })
}

/// The timer thread: waits for the deadline, the workers' end or an interrupt, then stops new
/// requests and, once in-flight ones had their time (none at the deadline), cuts them: the stop
/// signal says they are cancelled, and shutting the agent wakes every read still blocked.
/// After an interrupt in-flight requests get `grace`, cut short by a second one.
/// Returns `None` without an interrupt, else whether a second one forced the stop.
fn timer(
    stop: &StopSignal,
    deadline: Option<Duration>,
    grace: Duration,
    interrupts: &Receiver<()>,
    all_done: &Receiver<()>,
    agent: ureq::Agent,
    tx: &Sender<Msg>,
) -> Option<bool> {
    let deadline = deadline.map_or_else(crossbeam_channel::never, after);
    let interrupted = select! {
        recv(deadline) -> _ => false,
        recv(interrupts) -> msg => msg.is_ok(),
        recv(all_done) -> _ => false,
    };
    stop.trip(); // no new requests
    let mut forced = false;
    if interrupted {
        let _ = tx.send(Msg::Stopping { grace });
        select! {
            recv(after(grace)) -> _ => {}
            recv(all_done) -> _ => {}
            recv(interrupts) -> msg => forced = msg.is_ok(),
        }
    }
    stop.cut();
    agent.shutdown();
    interrupted.then_some(forced)
}

/// The error for a thread the OS would not start.
fn refused(name: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| {
        Error::Usage(format!(
            "the OS refused to start the {name} thread ({e}): raise `ulimit -u` or free memory"
        ))
    }
}

fn worker(
    i: usize,
    config: &Config,
    client: &Client,
    budget: &RequestBudget,
    stop: &StopSignal,
    tx: &Sender<Msg>,
) {
    let _guard = PanicGuard(stop.clone());
    if stop.wait(config.pacing.start_offset(i)) {
        return;
    }
    let _ = tx.send(Msg::WorkerUp);
    let user = format!("llmload-{i}");
    let limit = config.pacing.per_worker_limit();
    let mut sent = 0u64;
    // The worker's Dify conversation (`--turns`) and how many turns it has had.
    let mut conversation: Option<String> = None;
    let mut turn = 0u32;
    // Requests in a row that could not connect, and the jitter for the wait after them.
    let mut unreachable = 0u32;
    let mut jitter = SplitMix64::new(i as u64 ^ 0x9E37_79B9_7F4A_7C15);
    while !stop.is_set() && limit.is_none_or(|l| sent < l) && budget.take() {
        if turn >= config.turns {
            (conversation, turn) = (None, 0);
        }
        turn += 1;
        let (prompt_index, prompt) = config.prompts.next();
        let key = config.keys.as_ref().map(|k| {
            let (ki, key) = k.next();
            (ki, key.as_str())
        });
        let request = Request {
            worker: i,
            prompt_index,
            prompt,
            key,
            user: &user,
            conversation_id: conversation.as_deref(),
            turn,
        };
        let m = client.execute(&request, stop);
        if config.turns > 1 {
            conversation = conversation.or_else(|| m.conversation_id.clone());
            if conversation.is_none() {
                turn = 0; // no conversation to continue: the next request starts one
            }
        }
        let connect_failed = client::connect_failed(&m.outcome);
        let _ = tx.send(Msg::Finished(Box::new(m)));
        sent += 1;
        // A server that refuses connections answers at once: back off rather than spin.
        unreachable = if connect_failed { unreachable.saturating_add(1) } else { 0 };
        if unreachable > 0 && stop.wait(client::connect_backoff(unreachable, jitter.unit())) {
            break;
        }
    }
    let _ = tx.send(Msg::WorkerDone);
}

fn spawn<T: Send + 'static>(
    name: &str,
    stack: usize,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<thread::JoinHandle<T>> {
    thread::Builder::new().name(name.to_string()).stack_size(stack).spawn(f)
}
