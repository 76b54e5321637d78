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
//! # Layers
//!
//! Five tiers, lowest first; a module imports from the tiers below its own and from its own
//! tier, never in a cycle. `tidy::TIERS` is the list, and `cargo test` keeps this copy (and
//! docs/architecture.md's) to its modules and order.
//!
//! Leaves, the pure pieces and the batteries:
//! - [`error`] fatal errors, each naming the input and the fix
//! - [`cli`] the argh structs only: flag names, defaults shown in help, examples; the target
//!   flags that `run` and `probe` share are one definition (`target_flags!`)
//! - [`util`] batteries: the seeded generator, how many decimals JSON floats keep, the one
//!   bounded opener for every file a flag names, and the process and machine facts std lacks
//!   (file limits, CPU, the cgroup's quota and throttling, signals, thread priority)
//! - [`sse`] the pure incremental event-stream parser
//! - [`stop`] the stop signal and the panic guard that sets it
//! - [`lang`] the language people read (`--lang`, the locale) and the English–Chinese pairs
//!   every translated text is made of
//! - [`shard`] the exact split of a run over N processes
//! - [`gate`] threshold and compare expressions, checked against a JSON summary
//! - [`measure`] raw instants and the metric definitions
//! - [`tokens`] the estimate and `--tokenizer`
//! - [`slo`] `--slo` objectives, the judgement of each request and the attainment's interval
//! - [`search`] the capacity search of `sweep --find`, over `slo`'s interval
//! - [`stats`] mergeable histograms, the run second by second and by key and prompt
//! - [`prom`] a server's `/metrics` page read: the Prometheus text and OpenMetrics parser, a
//!   histogram's percentiles estimated from its buckets, and the families each serving stack
//!   (vLLM, SGLang, llama.cpp, TGI) is known to expose
//!
//! The request:
//! - [`workload`] prompts, keys and pacing
//! - [`protocol`] API names and paths, and one pure adapter per API family
//! - [`client`] one request, streamed and measured (its own settings; never `config`)
//!
//! The result:
//! - [`summary`] the plain-number result, in the JSON summary's shape, and the verdict on
//!   whether the client itself was the bottleneck
//! - [`export`] what programs read (one file and one derived type per format)
//! - [`output`] what people read
//! - [`html`] the self-contained HTML reports of a run and of a sweep, with their SVG writer
//!
//! The run:
//! - [`config`] the one front end: every check a user can fail, a validated plan per command
//!   (a sweep level is `Config::at`, a copy of one validated run at another load)
//! - [`engine`] threads, the start gate (and the wait for `--start-at`), the two load models,
//!   the reporter thread that owns the statistics, and the end of a run
//!
//! The commands:
//! - [`commands`] each command runs its plan (`probe` included: one request through the
//!   client's read loop, every event shown; `report`: records back into the statistics)
//!
//! Apart:
//! - [`mock`] the embedded mock LLM server, apart on purpose: it imports only `stats` and
//!   `util::rng`, so the instrument never shares the client's reading of a protocol.
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
mod prom;
mod protocol;
mod search;
mod shard;
mod slo;
mod sse;
mod stats;
mod stop;
mod summary;
#[cfg(test)]
mod tidy;
mod tokens;
mod util;
mod workload;

pub use cli::{Cli, Command};
pub use client::{Cancel, CancelAt};
pub use commands::main;
pub use config::Config;
pub use protocol::{Anthropic, Delta, Dify, OpenAi, Protocol};
pub use sse::{Event, Limits, Parser};
pub use stats::Histogram;
pub use tokens::Tokenizer;
pub use workload::synthetic::{Lengths, Plan as SyntheticPlan, PromptLang};
