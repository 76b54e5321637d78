//! Batteries with no domain of their own: the seeded generator (`rng`), how many decimals a JSON
//! float keeps (`decimals`), the one bounded opener for every file a flag names (`files`), and the
//! facts about the process and the machine that std does not expose (`sys`).

pub mod decimals;
pub mod files;
pub mod rng;
pub mod sys;
