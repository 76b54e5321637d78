//! What each request sends: prompts (a line file, JSONL, or synthetic), API keys (handed out
//! round-robin) and how requests are paced across workers. It does not send anything or measure
//! anything.

pub mod lines;
pub mod pacing;
pub mod prompts;
pub mod round_robin;
pub mod synthetic;

pub use pacing::{Pacing, RequestBudget};
pub use prompts::Prompt;
pub use round_robin::RoundRobin;

/// Shows a key as `sk-a…9f3c` so reports identify it without leaking it (DESIGN invariant 5).
pub fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 12 {
        return "****".to_string();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::mask_key;

    #[test]
    fn masks_keep_only_the_ends() {
        assert_eq!(mask_key("app-1234567890abcdef"), "app-…cdef");
        assert_eq!(mask_key("short-key"), "****");
        assert_eq!(mask_key(""), "****");
    }
}
