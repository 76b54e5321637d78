//! The run's threads: workers, the timer, the reporter; the stop signal that ends them; and the
//! joins. Workers own nothing shared but the config, the client, the stop signal and a sender;
//! all statistics live in the reporter thread.

use crate::client::{self, Client, Request};
use crate::config::Config;
use crate::export::OutputFile;
use crate::reporter::{Msg, Reporter};
use crate::stop::{PanicGuard, StopSignal};
use crate::summary::RunOutput;
use crate::workload::RequestBudget;
use crossbeam_channel::{Receiver, Sender, after, select, unbounded};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

/// Small stacks so that 10,000 workers fit in memory; TLS handshakes need well under this.
const WORKER_STACK: usize = 256 * 1024;

/// Runs the load test to its end (budget, deadline, or an interrupt on `interrupts`).
pub fn run(config: Arc<Config>, records: Option<OutputFile>, interrupts: Receiver<()>) -> RunOutput {
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
    let reporter = spawn("reporter", 1 << 20, move || reporter.run(rx)).expect("reporter thread");
    let (workers_done, all_done) = crossbeam_channel::bounded::<()>(0);
    let timer = {
        let (stop, deadline, grace) = (stop.clone(), config.pacing.duration, config.grace);
        spawn("timer", 64 * 1024, move || {
            let deadline = deadline.map_or_else(crossbeam_channel::never, after);
            let interrupted = select! {
                recv(deadline) -> _ => false,
                recv(interrupts) -> msg => msg.is_ok(),
                recv(all_done) -> _ => false,
            };
            stop.trip(); // no new requests
            if interrupted {
                // In-flight requests get the grace period to finish.
                select! {
                    recv(after(grace)) -> _ => {}
                    recv(all_done) -> _ => {}
                }
            }
            agent.shutdown(); // cuts every read still in flight at once
            interrupted
        })
        .expect("timer thread")
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
                warnings.push(format!(
                    "only {i} of {} workers could start ({e}): raise `ulimit -u` or lower --concurrency",
                    config.pacing.concurrency
                ));
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
    let interrupted = timer.join().unwrap_or(false);
    let (stats, records_error) = reporter.join().unwrap_or_default();
    RunOutput { stats, wall, started_at, warnings, records_error, interrupted }
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
        let _ = tx.send(Msg::Finished(Box::new(m)));
        sent += 1;
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
