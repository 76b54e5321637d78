//! One worker's side of its requests, the same in both load models: its user name, the prompt
//! and key each request takes, its Dify conversation (`--turns`), and what a finished request
//! carries besides the client's measurement (its intended start, whether it warms up). A
//! trace's request names its own prompt.

use crate::client::{self, Client, Request};
use crate::config::Config;
use crate::measure::{Measurement, Outcome};
use crate::stop::StopSignal;
use crate::util::rng::SplitMix64;
use crate::workload::{Expect, Prompt, expect};
use serde_json::{Value, json};
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
    /// The worker's sessions so far, and the current one's first send.
    session: u32,
    session_t0: Option<Instant>,
    /// A session's conversation so far, for the chat APIs but Dify (which keeps its own): each
    /// turn's prompt and the server's real answer, as chat messages, and our count of them.
    history: Vec<Value>,
    history_tokens: u64,
    /// The session's first prompt, its number and index, when it carries a dataset
    /// conversation's later user turns (`Prompt::followups`), which are its next turns.
    opening: Option<(u64, usize, Prompt)>,
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
            session: 0,
            session_t0: None,
            history: Vec::new(),
            history_tokens: 0,
            opening: None,
            unreachable: 0,
            jitter: SplitMix64::new(worker as u64 ^ 0x9E37_79B9_7F4A_7C15),
        }
    }

    /// Sends a request meant to start at `scheduled` (a `--warmup` one when `warmup`) and
    /// returns its measurement. `nth`: the request's number in a trace, whose prompt it sends;
    /// else the next prompt in turn.
    pub(super) fn send(&mut self, scheduled: Instant, warmup: bool, nth: Option<u64>) -> Box<Measurement> {
        let config = self.config;
        // A dataset conversation has as many turns as user turns: past them, a new session.
        let spent = self.opening.as_ref().is_some_and(|(.., p)| p.followups.len() < self.turn as usize);
        if self.turn >= config.turns || spent {
            (self.conversation, self.turn) = (None, 0);
            self.history.clear();
            self.history_tokens = 0;
            self.opening = None;
        }
        self.turn += 1;
        if self.turn == 1 {
            (self.session, self.session_t0) = (self.session + 1, None);
        }
        let followup = match &self.opening {
            Some((n, i, p)) if self.turn > 1 => {
                // Numbered after its opening, for the seeded draws (output length, --cancel).
                Some((
                    n ^ (u64::from(self.turn) << 48),
                    *i,
                    Prompt::text(p.followups[self.turn as usize - 2].clone()),
                ))
            }
            _ => None,
        };
        let (index, prompt_index, prompt) = match (&followup, nth) {
            (Some((n, i, p)), _) => (*n, *i, p),
            (None, Some(n)) => config.prompts.numbered(n),
            (None, None) => config.prompts.next_numbered(),
        };
        if self.turn == 1 && config.conversations {
            self.opening = Some((index, prompt_index, prompt.clone()));
        }
        let continued = (!self.history.is_empty()).then(|| self.continued(prompt));
        let prompt = continued.as_ref().unwrap_or(prompt);
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
        let in_flight = super::metrics::InFlight::enter();
        let mut m = self.client.execute(&request, self.stop);
        drop(in_flight);
        (m.scheduled, m.warmup) = (scheduled.min(m.t0), warmup);
        check_answer(&mut m, prompt.expect.as_ref().or(config.client.expect.as_ref()));
        if !config.client.keep_answers {
            m.answer = None; // kept only for the check: the reporter never holds answers
        }
        self.session_t0 = self.session_t0.or(Some(m.t0));
        (m.session, m.session_t0) = (self.session, self.session_t0);
        if config.client.keep_answers {
            match (&m.outcome, m.answer.take()) {
                (Outcome::Ok, Some(answer)) => {
                    self.history.extend(turn_messages(prompt));
                    self.history.push(json!({"role": "assistant", "content": answer}));
                    self.history_tokens = prompt.counted_tokens + m.counted_tokens;
                }
                // A session whose turn failed ends there: the next request starts a new one.
                _ => {
                    (self.turn, self.history, self.history_tokens) = (0, Vec::new(), 0);
                    self.opening = None;
                }
            }
        } else if config.turns > 1 {
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
    /// `prompt` as a session's next turn: the conversation so far, then its own messages.
    fn continued(&self, prompt: &Prompt) -> Prompt {
        let mut messages = self.history.clone();
        messages.extend(turn_messages(prompt));
        Prompt {
            messages: Some(Value::Array(messages)),
            counted_tokens: self.history_tokens + prompt.counted_tokens,
            ..prompt.clone()
        }
    }

    /// Whether the session goes on: its last turn succeeded and was not its last.
    pub(super) fn continues(&self) -> bool {
        self.turn > 0 && self.turn < self.config.turns
    }

    /// The pause before a session's next turn (`--think-time`): a user reading the answer;
    /// `None` when the next request starts a new session.
    pub(super) fn think(&self) -> Option<Duration> {
        (self.turn > 0 && self.turn < self.config.turns).then_some(self.config.think_time).flatten()
    }

    pub(super) fn backoff(&mut self) -> Option<Duration> {
        (self.unreachable > 0).then(|| client::connect_backoff(self.unreachable, self.jitter.unit()))
    }
}

/// A prompt's own messages: its JSONL `messages`, or its text as one user message.
fn turn_messages(prompt: &Prompt) -> Vec<Value> {
    match prompt.messages.as_ref().and_then(Value::as_array) {
        Some(list) => list.clone(),
        None => vec![json!({"role": "user", "content": prompt.text})],
    }
}

/// Judges a successful request's answer by its check, once, on the worker thread after the
/// request has ended (its end instant is taken, so the check is off every timed path): sets
/// `expect_ok`, and for a wrong answer its excerpt. A request without a check, or that did not
/// succeed, is not judged.
fn check_answer(m: &mut Measurement, check: Option<&Expect>) {
    if let (Some(check), Outcome::Ok) = (check, &m.outcome) {
        let answer = m.answer.as_deref().unwrap_or_default();
        let ok = check.check(answer);
        m.expect_ok = Some(ok);
        m.answer_excerpt = (!ok).then(|| expect::excerpt(answer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_successful_answers_with_a_check_are_judged() {
        let check = Expect::parse_spec("contains:模型").unwrap();
        let judged = |outcome: Outcome, answer: &str, check: Option<&Expect>| {
            let mut m = Measurement::new(0, 0, None, Instant::now());
            (m.outcome, m.answer) = (outcome, Some(answer.to_string()));
            check_answer(&mut m, check);
            (m.expect_ok, m.answer_excerpt)
        };
        assert_eq!(judged(Outcome::Ok, "大语言模型", Some(&check)), (Some(true), None));
        assert_eq!(judged(Outcome::Ok, "WRONG ", Some(&check)), (Some(false), Some("WRONG ".into())));
        assert_eq!(judged(Outcome::Ok, "WRONG ", None), (None, None));
        assert_eq!(judged(Outcome::Cancelled, "WRONG ", Some(&check)), (None, None));
    }
}
