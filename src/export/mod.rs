//! What programs read: the JSON summary (`json`), the per-request JSON lines (`records`) and
//! their CSV (`csv`), vLLM's `bench serve` result keys (`vllm`), the per-second JSON lines
//! (`series`) and the live metrics `--metrics-listen` serves (`prometheus`), each format owned
//! by one file and one derived type whose field docs are its contract (docs/json.md,
//! docs/records.md, docs/series.md, docs/server-metrics.md); and the output files a run opens
//! before it starts. Writing is pure: plain numbers in, bytes out, no I/O. The one place an
//! `Instant` appears is `Record::to_measurement`, which puts a record read back by `llmload
//! report` on a timeline; it sits beside `Record::from_measurement` so that the two stay each
//! other's inverse.

pub mod csv;
mod file;
pub mod json;
pub mod prometheus;
pub mod records;
pub mod series;
pub mod vllm;

pub use file::{OutputFile, RecordFiles};
