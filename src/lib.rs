//! llmload: a load tester for LLM streaming APIs (Dify apps, OpenAI-compatible, Anthropic, and any
//! SSE API through a body template).
//!
//! # The map
//!
//! ```text
//! cli (argh) ─► config (validated; files opened) ─► engine ─┬─ timer thread: deadline → stop + agent shutdown
//!                                                           ├─ worker threads × N: prompt/key (round-robin)
//!                                                           │    → client (ureq) → sse → protocol → Measurement
//!                                                           └─ reporter thread: owns RunStats, per-second table,
//!                                                                --records lines ─► Summary ─► report / export
//! ```
//!
//! - [`cli`] argh structs only; [`config`] every check a user can fail; [`error`] fatal errors.
//! - [`workload`] prompts, keys and pacing; [`client`] one request, streamed and measured, behind a
//!   [`client::Protocol`] per API; [`sse`] the pure event-stream parser; [`tokens`] the estimate
//!   and `--tokenizer`; [`summary`] the plain-number result; [`sys`] file limits, CPU, signals.
//! - [`measure`] raw instants and the metric definitions; [`stats`] mergeable histograms.
//! - [`engine`] threads, stop signal, joins; [`report`] what people read; [`export`] what programs read.
//! - [`rebuild`] `llmload report`: records back into the same statistics.
//! - [`mock`] the embedded mock LLM server, which records when it sent every event; [`rng`] the
//!   seeded generator it and the synthetic prompts share.
//!
//! # Invariants (DESIGN §3)
//!
//! 1. Workers never print; only the reporter thread and `app` write to the terminal.
//! 2. Time is measured with `Instant` only; `chrono` is for wall-clock labels.
//! 3. A failed request is data (`Outcome`), never an `Err` that unwinds a worker.
//! 4. Every finished request reaches `--records` as soon as it ends (flushed).
//! 5. API keys are masked in every output.
//! 6. Memory is bounded: SSE line/event limits, histograms rather than sample vectors.
//! 7. Exporters take a `Summary` of plain numbers and return bytes.

pub mod app;
pub mod cli;
pub mod client;
pub mod config;
pub mod engine;
pub mod error;
pub mod export;
pub mod measure;
pub mod mock;
pub mod rebuild;
pub mod report;
pub mod rng;
pub mod sse;
pub mod stats;
pub mod summary;
pub mod sys;
pub mod tokens;
pub mod workload;
