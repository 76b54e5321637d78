//! What programs read: the JSON summary and the per-request JSON lines, as pure functions from
//! plain results to bytes (exporters never see `Instant`s and never do I/O; their output is a
//! documented contract), and the output files a run opens before it starts.

mod file;
pub mod json;
pub mod records;

pub use file::OutputFile;
