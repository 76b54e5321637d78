//! llmload: a load tester for LLM streaming APIs (Dify apps, OpenAI-compatible, Anthropic, and any
//! SSE API through a body template).
//!
//! # The map
//!
//! ```text
//! cli (argh) ─► config (validated; files opened) ─► engine ─┬─ timer thread: deadline → cut (stop signal + every socket's read side)
//!                                                           ├─ closed loop: worker threads × N, one request after another
//!                                                           ├─ open loop: dispatcher thread (--rate schedule) → worker pool ≤ M
//!                                                           │    each: prompt/key (round-robin) → client (ureq) → sse → protocol → Measurement
//!                                                           └─ reporter thread: owns RunStats, per-second table,
//!                                                                --records lines ─► Summary ─► output / export
//! ```
//!
//! Layers, each importing only from the ones before it (`tidy` checks this in `cargo test`):
//!
//! - leaves: [`error`] fatal errors; [`cli`] argh structs only; [`rng`] the seeded generator;
//!   [`sys`] file limits, CPU, the cgroup's CPU quota and throttling, signals, thread priority;
//!   [`sse`] the pure event-stream parser; [`files`] the one bounded opener for every file a flag
//!   names; [`gate`] threshold and compare expressions, checked against a JSON summary; [`measure`] raw instants and the metric definitions; [`stats`] mergeable histograms,
//!   the run second by second and by key and prompt; [`slo`] `--slo` objectives, the judgement of
//!   each request and the attainment's interval; [`tokens`] the estimate
//!   and `--tokenizer`; [`stop`] the stop signal and panic guard; [`decimals`] how many decimals
//!   JSON floats keep; [`svg`] the SVG writer of the report's charts; [`lang`] the language people
//!   read (`--lang`, the locale) and the English–Chinese pairs every translated text is made of;
//!   [`shard`] the exact split of a run over N processes; [`launch`] the wait for `--start-at`
//!   before the start gate; then [`search`] the capacity search of `sweep --find`, over `slo`'s
//!   interval.
//! - [`workload`] prompts, keys and pacing; [`protocol`] API names and paths, and one pure adapter
//!   per API family; [`client`] one request, streamed and measured (its own settings; never
//!   `config`).
//! - [`summary`] the plain-number result, in the JSON summary's shape, and the verdict on whether
//!   the client itself was the bottleneck; [`export`] what programs read (one file and one
//!   derived type per format); [`output`] what people read; [`html`] the self-contained HTML
//!   report.
//! - [`config`] every check a user can fail; [`reporter`] the thread that owns statistics;
//!   [`engine`] threads, the start gate and the end of a run; [`rebuild`] records back into statistics (`llmload report`);
//!   [`commands`] on top (`probe` included: one request through the client's read loop, every
//!   event shown).
//! - [`mock`] the embedded mock LLM server, apart on purpose: it imports only `stats` and `rng`,
//!   so the instrument never shares the client's reading of a protocol.
//!
//! # Invariants
//!
//! 1. Workers never print; only the reporter thread and `commands` write to the terminal.
//! 2. Time is measured with `Instant` only; `chrono` is for wall-clock labels.
//! 3. A failed request is data (`Outcome`), never an `Err` that unwinds a worker.
//! 4. Every finished request reaches `--records` as soon as it ends (flushed).
//! 5. API keys are masked in every output.
//! 6. Memory is bounded: SSE line/event limits, histograms rather than sample vectors.
//! 7. Exporters take a `Summary` of plain numbers and return bytes.

// The crate doc is the engineers' map of private modules; `cargo doc --document-private-items`
// (as CI runs it) renders it with working links.
#![allow(rustdoc::private_intra_doc_links)]

mod cli;
mod client;
mod commands;
mod config;
mod engine;
mod error;
mod export;
mod gate;
mod html;
mod lang;
mod measure;
pub mod mock;
mod output;
mod protocol;
mod rebuild;
mod reporter;
mod search;
mod shard;
mod slo;
mod sse;
mod stats;
mod stop;
mod summary;
mod svg;
#[cfg(test)]
mod tidy;
mod tokens;
mod util;
mod workload;

pub use cli::{Cli, Command};
pub use commands::main;
pub use config::Config;
pub use protocol::{Anthropic, Delta, Dify, OpenAi, Protocol};
pub use sse::{Event, Limits, Parser};
pub use stats::Histogram;
pub use tokens::Tokenizer;
