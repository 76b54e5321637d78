//! What programs read: the JSON summary (`json`) and the per-request JSON lines (`records`),
//! each format owned by one file and one derived type whose field docs are its contract
//! (docs/json.md, docs/records.md); and the output files a run opens before it starts. Writing
//! is pure: plain numbers in, bytes out, no `Instant`s and no I/O.

mod file;
pub mod json;
pub mod records;

pub use file::OutputFile;
