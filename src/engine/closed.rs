//! The closed loop: each worker waits at the start gate and for its ramp-up offset (telling
//! the reporter how late it started), then sends one request after another until the stop
//! signal, the shared budget or its own limit ends them. A request's intended start is when its
//! worker was free to send it.

use super::Pass;
use super::reporter::{Msg, Outbox};
use super::seat::Seat;
use crate::client::Client;
use crate::config::Config;
use crate::stop::{PanicGuard, StopSignal};
use crate::workload::RequestBudget;
use std::time::Instant;

/// Worker `i` of a closed loop. It opens its first connection before the start and says so on
/// `ready` (dropped after), so that the gate opens on workers that only have to send.
#[allow(clippy::too_many_arguments)]
pub(super) fn worker(
    i: usize,
    config: &Config,
    client: &Client,
    budget: &RequestBudget,
    stop: &StopSignal,
    pass: &Pass,
    tx: &Outbox,
    ready: crossbeam_channel::Sender<()>,
) {
    let _guard = PanicGuard(stop.clone());
    crate::util::sys::lower_thread_priority();
    let connect = client.preconnect();
    let _ = ready.send(());
    drop(ready);
    let Some(started) = pass.wait() else { return };
    let mut free_at = started + config.pacing.start_offset(i);
    if stop.wait(free_at.saturating_duration_since(Instant::now())) {
        return;
    }
    let start_lag = Instant::now().saturating_duration_since(free_at);
    let _ = tx.later.send(Msg::WorkerUp { start_lag: Some(start_lag), connect });
    let limit = config.pacing.per_worker_limit();
    let mut seat = Seat::new(i, config, client, stop);
    let mut sent = 0u64;
    while !stop.is_set() && limit.is_none_or(|l| sent < l) {
        let Some(index) = budget.take() else { break };
        let offset = free_at.saturating_duration_since(started);
        let warmup = config.pacing.warmup.is_some_and(|w| w.includes(index, offset));
        let m = seat.send(free_at, warmup, None);
        let _ = tx.now.send(Msg::Finished(m));
        sent += 1;
        if seat.backoff().is_some_and(|wait| stop.wait(wait)) {
            break;
        }
        if seat.think().is_some_and(|wait| stop.wait(wait)) {
            break;
        }
        free_at = Instant::now();
    }
    if !stop.is_set() {
        stop.load_ended(); // the budget or this worker's limit is spent: the drain begins
    }
    let _ = tx.later.send(Msg::WorkerDone);
}
