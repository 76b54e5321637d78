//! What each request sends: prompts (a line file, JSONL, a dataset file, or synthetic) and the
//! checks of their answers (`expect`), API keys (handed out
//! round-robin), how requests are paced across workers, the open-loop schedule, and trace files
//! (`--trace`). It does not send anything or measure anything.

pub mod dataset;
pub mod expect;
pub mod lines;
pub mod pacing;
pub mod prompts;
pub mod round_robin;
pub mod schedule;
pub mod synthetic;
pub mod trace;

pub use expect::Expect;
pub use pacing::{Pacing, RequestBudget, Warmup};
pub use prompts::Prompt;
pub use round_robin::RoundRobin;
pub use schedule::{Arrival, OpenLoop, Schedule};
pub use synthetic::Lengths;

/// Shows a key as `sk-a…9f3c` so reports identify it without leaking it (invariant 5 of the crate doc).
pub fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 12 {
        return "****".to_string();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// Whether a header (name, or a whole `Name: value` line) may carry a credential.
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["auth", "key", "token", "secret", "cookie"].iter().any(|s| n.contains(s))
}

/// Replaces every occurrence of each secret in `text` with its mask: servers echo keys back in
/// error bodies ("invalid key sk-…"), and those messages reach every output.
pub fn mask_secrets<'a>(text: &mut String, secrets: impl IntoIterator<Item = &'a str>) {
    for s in secrets {
        if !s.is_empty() && text.contains(s) {
            *text = text.replace(s, &mask_key(s));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_messages_are_masked() {
        let mut t = "HTTP 401: invalid key sk-abcdefghijklmnop (Bearer sk-abcdefghijklmnop)".to_string();
        mask_secrets(&mut t, ["sk-abcdefghijklmnop", ""]);
        assert_eq!(t, "HTTP 401: invalid key sk-a…mnop (Bearer sk-a…mnop)");
        assert!(is_secret_header("X-Api-Key") && !is_secret_header("X-Trace"));
    }

    #[test]
    fn masks_keep_only_the_ends() {
        assert_eq!(mask_key("app-1234567890abcdef"), "app-…cdef");
        assert_eq!(mask_key("short-key"), "****");
        assert_eq!(mask_key(""), "****");
    }
}
