//! Pure functions from plain results to bytes: the JSON summary and the per-request JSON lines.
//! Exporters never see `Instant`s and never do I/O; their output is a documented contract.

pub mod json;
pub mod records;
