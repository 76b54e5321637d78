//! End-to-end tests: the real `llmload` binary against the embedded mock server on 127.0.0.1.
//! One test binary (so it builds once); each module covers one capability.

mod apis;
mod artifacts;
mod bad_input;
mod bodies;
mod breakdown;
mod cancel;
mod capacity;
mod contract;
mod core_run;
mod datasets;
mod exports;
mod faults;
mod fuzz_args;
mod gates;
mod lang;
mod load_models;
mod mock_metrics;
mod preflight;
mod probe;
mod prompts;
mod reconnects;
mod replay;
mod report;
mod retries;
mod secrets;
mod series_html;
mod sessions;
mod shards;
mod slo;
mod stalls;
mod terminal;
mod tls;
mod traces;
mod util;
mod verdict;
