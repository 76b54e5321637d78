//! Mergeable statistics owned by the reporter thread alone (no `Mutex<Stats>` anywhere), the
//! run second by second (`series`), and by API key and prompt (`breakdown`).
pub mod breakdown;
pub mod histogram;
pub mod percentiles;
pub mod run_stats;
pub mod series;
pub mod significance;

pub use breakdown::Breakdown;
pub use histogram::{Distribution, Histogram};
pub use percentiles::Percentiles;
pub use run_stats::{PromptCheck, RunStats};
pub use series::{SeriesBuilder, SeriesRow, ServerSecond};
