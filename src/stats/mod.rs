//! Mergeable statistics owned by the reporter thread alone (no `Mutex<Stats>` anywhere).
pub mod histogram;
pub mod run_stats;

pub use histogram::{Distribution, Histogram};
pub use run_stats::RunStats;
