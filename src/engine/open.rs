//! The open loop (`--rate`): a dispatcher thread owns the schedule and, at each request's
//! intended start, hands it to a pool of worker threads, spawning one more when none is free
//! until the pool reaches `--max-concurrency`. Past that cap a request waits in the queue for
//! the next free worker: the wait is measured (its latencies from schedule include it), never
//! hidden. The dispatcher sleeps with a tight timer slack, and each request's dispatch lag (its
//! intended start → sent, when a worker was free) is the client's own lateness. A `--trace`
//! gives the schedule instead: each request at the trace's instant, with the trace's prompt,
//! and the run ends with the trace.

use super::reporter::{Msg, Outbox};
use super::seat::Seat;
use super::{Pass, WORKER_STACK, Workers, rest, spawn};
use crate::client::Client;
use crate::config::Config;
use crate::lang::Text;
use crate::output::warnings::Warning;
use crate::stop::{PanicGuard, StopSignal};
use crate::workload::{OpenLoop, Schedule};
use crossbeam_channel::{Receiver, Sender};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Workers ready before the clock starts: about two seconds of arrivals, within the cap;
/// more are spawned as requests find none free.
fn first_workers(load: &OpenLoop, max: usize) -> usize {
    ((load.rate * 2.0).ceil() as usize).clamp(8, 1024).min(max)
}

/// A request handed to the pool.
struct Job {
    scheduled: Instant,
    warmup: bool,
    /// When the dispatcher handed it over.
    dispatched: Instant,
    /// No worker was free then: the pool was at its cap, and the request waits for one.
    queued: bool,
    /// A trace's request number, whose prompt it sends.
    nth: Option<u64>,
}

/// What the pool's workers share.
pub(super) struct Pool {
    jobs: Receiver<Job>,
    /// Workers waiting for a request.
    idle: AtomicUsize,
    config: Arc<Config>,
    client: Arc<Client>,
    stop: StopSignal,
}

impl Pool {
    /// Requests still waiting for a worker: after the run, those never sent.
    pub(super) fn unsent(&self) -> usize {
        self.jobs.len()
    }
}

/// The dispatcher and the first workers, spawned before the gate opens (the dispatcher waits
/// at it); every worker's handle goes to `crew`. The dispatcher's handle gives back its
/// warnings; `pool` tells the run what was left.
#[allow(clippy::too_many_arguments)]
pub(super) fn start(
    load: OpenLoop,
    config: &Arc<Config>,
    client: &Arc<Client>,
    stop: &StopSignal,
    tx: &Outbox,
    alive: &Sender<()>,
    pass: Pass,
    crew: &Workers,
) -> std::io::Result<(std::thread::JoinHandle<Vec<Text>>, Arc<Pool>)> {
    let (jobs_tx, jobs) = crossbeam_channel::unbounded();
    let pool = Arc::new(Pool {
        jobs,
        idle: AtomicUsize::new(0),
        config: config.clone(),
        client: client.clone(),
        stop: stop.clone(),
    });
    let max = config.pacing.concurrency;
    let mut warnings: Vec<Text> = Vec::new();
    let mut spawned = 0;
    while spawned < first_workers(&load, max) {
        if let Err(e) = spawn_worker(&pool, spawned, tx, alive, crew) {
            warnings
                .push(Warning::WorkersShort { started: spawned, workers: max, error: e.to_string() }.into());
            break;
        }
        spawned += 1;
    }
    let (p, tx, alive, crew) = (pool.clone(), tx.clone(), alive.clone(), crew.clone());
    let dispatcher = spawn("dispatcher", 256 * 1024, move || {
        dispatch(&p, load, jobs_tx, &pass, spawned, &tx, &alive, &crew, warnings)
    })?;
    Ok((dispatcher, pool))
}

/// Hands each request to the pool at its intended start until the schedule, the budget or the
/// run ends.
#[allow(clippy::too_many_arguments)]
fn dispatch(
    pool: &Arc<Pool>,
    load: OpenLoop,
    jobs: Sender<Job>,
    pass: &Pass,
    mut spawned: usize,
    tx: &Outbox,
    alive: &Sender<()>,
    crew: &Workers,
    mut warnings: Vec<Text>,
) -> Vec<Text> {
    let _guard = PanicGuard(pool.stop.clone());
    crate::util::sys::tight_timer_slack();
    let Some(started) = pass.wait() else { return warnings };
    let pacing = &pool.config.pacing;
    let deadline = pacing.duration.and_then(|d| started.checked_add(d));
    let mut max = pacing.concurrency;
    let trace = pool.config.trace.clone();
    let arrivals: Box<dyn Iterator<Item = Duration>> = match &trace {
        Some(t) => Box::new(t.iter().copied()),
        None => Box::new(Schedule::new(&load, pacing.ramp_up)),
    };
    for (k, offset) in arrivals.enumerate() {
        let k = k as u64;
        let at = started + offset;
        if pacing.requests.is_some_and(|n| k >= n) || deadline.is_some_and(|d| at >= d) {
            break;
        }
        if pool.stop.wait(at.saturating_duration_since(Instant::now())) {
            break;
        }
        if pool.idle.load(Ordering::Acquire) == 0 && spawned < max {
            match spawn_worker(pool, spawned, tx, alive, crew) {
                Ok(()) => spawned += 1,
                Err(e) => {
                    warnings.push(
                        Warning::WorkersShort { started: spawned, workers: max, error: e.to_string() }.into(),
                    );
                    max = spawned;
                }
            }
        }
        let queued = pool.idle.load(Ordering::Acquire) == 0;
        let warmup = pacing.warmup.is_some_and(|w| w.includes(k, offset));
        let nth = trace.is_some().then_some(k);
        let job = Job { scheduled: at, warmup, dispatched: Instant::now(), queued, nth };
        if jobs.send(job).is_err() {
            break;
        }
    }
    pool.stop.load_ended(); // the last arrival is sent: what follows is the drain
    warnings
}

/// Starts pool worker `i`: it counts as free until it takes a request. Once the queue closes it
/// lets go of the pool (and the client in it) and rests until `crew` is dismissed.
fn spawn_worker(
    pool: &Arc<Pool>,
    i: usize,
    tx: &Outbox,
    alive: &Sender<()>,
    crew: &Workers,
) -> std::io::Result<()> {
    let (p, tx, alive, dismissed) = (pool.clone(), tx.clone(), alive.clone(), crew.dismissed());
    pool.idle.fetch_add(1, Ordering::AcqRel);
    let spawned = spawn(&format!("worker-{i}"), WORKER_STACK, move || {
        serve(i, &p, &tx);
        drop((p, tx, alive));
        rest(&dismissed);
    });
    match spawned {
        Ok(h) => {
            crew.add(h);
            Ok(())
        }
        Err(e) => {
            pool.idle.fetch_sub(1, Ordering::AcqRel);
            Err(e)
        }
    }
}

/// A pool worker: sends each request it takes, until the queue closes or the run stops.
fn serve(i: usize, pool: &Pool, tx: &Outbox) {
    let _guard = PanicGuard(pool.stop.clone());
    crate::util::sys::lower_thread_priority();
    let _ = tx.later.send(Msg::WorkerUp { start_lag: None, connect: None });
    let mut seat = Seat::new(i, &pool.config, &pool.client, &pool.stop);
    while let Ok(job) = pool.jobs.recv() {
        if pool.stop.is_set() {
            break; // the rest stay queued: never sent
        }
        pool.idle.fetch_sub(1, Ordering::AcqRel);
        let mut m = seat.send(job.scheduled, job.warmup, job.nth);
        let sent = if job.queued { job.dispatched } else { m.t0 };
        m.dispatch_lag = Some(sent.saturating_duration_since(job.scheduled));
        let _ = tx.now.send(Msg::Finished(m));
        // An arrival starts a session (`--turns`): its later turns follow on this worker, each
        // after the answer before it and `--think-time`, meant to start then.
        while seat.continues() && !pool.stop.is_set() {
            if seat.think().is_some_and(|wait| pool.stop.wait(wait)) {
                break;
            }
            let m = seat.send(Instant::now(), job.warmup, None);
            let _ = tx.now.send(Msg::Finished(m));
        }
        pool.idle.fetch_add(1, Ordering::AcqRel);
    }
    let _ = tx.later.send(Msg::WorkerDone);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Arrival;

    #[test]
    fn the_first_workers_cover_two_seconds_of_arrivals_within_the_cap() {
        let load = |rate| OpenLoop { rate, arrival: Arrival::Constant, seed: 1 };
        assert_eq!(first_workers(&load(1.0), 10_000), 8);
        assert_eq!(first_workers(&load(50.0), 10_000), 100);
        assert_eq!(first_workers(&load(50.0), 16), 16);
        assert_eq!(first_workers(&load(5000.0), 10_000), 1024);
    }
}
