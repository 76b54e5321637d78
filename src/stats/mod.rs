//! Mergeable statistics owned by the reporter thread alone (no `Mutex<Stats>` anywhere), and the
//! run second by second (`series`).
pub mod histogram;
pub mod run_stats;
pub mod series;

pub use histogram::{Distribution, Histogram};
pub use run_stats::RunStats;
pub use series::{SeriesBuilder, SeriesRow};
