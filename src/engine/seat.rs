//! One worker's side of its requests, the same in both load models: its user name, the prompt
//! and key each request takes, its Dify conversation (`--turns`), and what a finished request
//! carries besides the client's measurement (its intended start, whether it warms up). A
//! trace's request names its own prompt.

use crate::client::{self, Client, Request};
use crate::config::Config;
use crate::measure::Measurement;
use crate::stop::StopSignal;
use crate::util::rng::SplitMix64;
use std::time::{Duration, Instant};

/// A worker's state across its requests.
pub(super) struct Seat<'a> {
    worker: usize,
    config: &'a Config,
    client: &'a Client,
    stop: &'a StopSignal,
    user: String,
    /// The worker's Dify conversation and how many turns it has had.
    conversation: Option<String>,
    turn: u32,
    /// Requests in a row that could not connect, and the jitter for the wait after them.
    unreachable: u32,
    jitter: SplitMix64,
}

impl<'a> Seat<'a> {
    pub(super) fn new(worker: usize, config: &'a Config, client: &'a Client, stop: &'a StopSignal) -> Self {
        Seat {
            worker,
            config,
            client,
            stop,
            user: crate::shard::user_id(config.scale.shard, worker),
            conversation: None,
            turn: 0,
            unreachable: 0,
            jitter: SplitMix64::new(worker as u64 ^ 0x9E37_79B9_7F4A_7C15),
        }
    }

    /// Sends a request meant to start at `scheduled` (a `--warmup` one when `warmup`) and
    /// returns its measurement. `nth`: the request's number in a trace, whose prompt it sends;
    /// else the next prompt in turn.
    pub(super) fn send(&mut self, scheduled: Instant, warmup: bool, nth: Option<u64>) -> Box<Measurement> {
        let config = self.config;
        if self.turn >= config.turns {
            (self.conversation, self.turn) = (None, 0);
        }
        self.turn += 1;
        let (index, prompt_index, prompt) = match nth {
            Some(n) => config.prompts.numbered(n),
            None => config.prompts.next_numbered(),
        };
        let key = config.keys.as_ref().map(|k| {
            let (ki, key) = k.next();
            (ki, key.as_str())
        });
        let request = Request {
            worker: self.worker,
            prompt_index,
            index,
            prompt,
            key,
            user: &self.user,
            conversation_id: self.conversation.as_deref(),
            turn: self.turn,
        };
        let mut m = Box::new(self.client.execute(&request, self.stop));
        (m.scheduled, m.warmup) = (scheduled.min(m.t0), warmup);
        if config.turns > 1 {
            self.conversation = self.conversation.take().or_else(|| m.conversation_id.clone());
            if self.conversation.is_none() {
                self.turn = 0; // no conversation to continue: the next request starts one
            }
        }
        self.unreachable =
            if client::connect_failed(&m.outcome) { self.unreachable.saturating_add(1) } else { 0 };
        m
    }

    /// After a request that could not connect, how long to wait before the next (a server that
    /// refuses connections answers at once: a closed loop would spin); `None` otherwise.
    pub(super) fn backoff(&mut self) -> Option<Duration> {
        (self.unreachable > 0).then(|| client::connect_backoff(self.unreachable, self.jitter.unit()))
    }
}
