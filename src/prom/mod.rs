//! A server's `/metrics` page, read: the Prometheus text format (0.0.4) and OpenMetrics 1.0
//! parsed into families of samples (`parse`), a histogram's cumulative buckets with the
//! per-run difference and the percentile estimate Prometheus makes from them (`hist`), and the
//! families that vLLM, SGLang, llama.cpp and TGI are known to expose mapped onto one set of
//! named series (`known`). Pure: text in, numbers out. Fetching the page, the scrape thread and
//! what the run does with the numbers live elsewhere.

mod hist;
mod known;
mod parse;

#[cfg(test)]
mod fuzz;

pub use hist::{Estimate, Hist, counter_since};
pub use known::{ServerKind, View, view};
pub use parse::parse;
