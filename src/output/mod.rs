//! What people read: the per-second table (stderr), the final summary (stdout) and its
//! breakdown by key and prompt (`breakdown`), the thresholds table and `compare`'s table
//! (`gates`), `llmload probe`'s events and verdict (`probe`), the `-n` progress line, the server's own metrics beside the client's (`server`), the
//! warnings that say what to do next, and the unit formatting they share. Pure: plain numbers
//! in, text out; the reporter thread and `commands` do the writing.

pub mod breakdown;
pub mod format;
pub mod gates;
pub mod probe;
pub mod progress;
pub mod server;
pub mod sweep;
pub mod table;
pub mod text;
pub mod warnings;
