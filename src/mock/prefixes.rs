//! The mock's reading of prompt length and its prefix cache: prompts are counted in token-ish
//! units (a CJK character, a run of letters or digits, or any other character but whitespace:
//! the mock's own rule, close to real tokenizers without one), and a bounded table of the
//! prompts' leading blocks of 16 units, chained as a serving engine's prefix cache chains its
//! KV blocks, says how much of a new prompt's start the mock has read before. It does not
//! decide what to send (`respond`) or word usage (`shapes`).

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Units a cached block holds: a prompt's cached part is a whole number of blocks.
pub(super) const BLOCK: u64 = 16;
/// The most blocks the table holds (about 1 MB); when full, it starts empty again.
const MAX_BLOCKS: usize = 1 << 16;

/// Token-ish units in `text`.
pub(super) fn units(text: &str) -> u64 {
    Units::new(text).count() as u64
}

/// Leading blocks of the prompts seen, each by the hash of all the text up to its end.
#[derive(Default)]
pub(super) struct PrefixTable {
    blocks: HashSet<u64>,
}

impl PrefixTable {
    /// The units of `prompt`'s start already seen, in whole blocks; the prompt's blocks are
    /// remembered for the next.
    pub(super) fn read(&mut self, prompt: &str) -> u64 {
        let (mut hasher, mut start, mut cached, mut hit) = (DefaultHasher::new(), 0, 0, true);
        for (i, end) in Units::new(prompt).enumerate() {
            if (i as u64 + 1) % BLOCK != 0 {
                continue;
            }
            prompt[start..end].hash(&mut hasher);
            start = end;
            let h = hasher.finish();
            hit = hit && self.blocks.contains(&h);
            cached += if hit { BLOCK } else { 0 };
            if self.blocks.len() >= MAX_BLOCKS {
                self.blocks.clear();
            }
            self.blocks.insert(h);
        }
        cached
    }
}

/// The byte offset where each unit of a text ends.
struct Units<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
}

impl<'a> Units<'a> {
    fn new(text: &'a str) -> Self {
        Units { chars: text.char_indices().peekable() }
    }
}

impl Iterator for Units<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        loop {
            let (i, c) = self.chars.next()?;
            if c.is_whitespace() {
                continue;
            }
            let mut end = i + c.len_utf8();
            if c.is_alphanumeric() && !cjk(c) {
                while let Some(&(j, d)) = self.chars.peek() {
                    if !d.is_alphanumeric() || cjk(d) {
                        break;
                    }
                    end = j + d.len_utf8();
                    self.chars.next();
                }
            }
            return Some(end);
        }
    }
}

/// Scripts written without spaces, one unit a character: Han, kana, Hangul, CJK punctuation.
fn cjk(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_count_words_cjk_and_punctuation() {
        assert_eq!(units("Hello, world!"), 4);
        assert_eq!(units("你好，世界"), 5);
        assert_eq!(units("GPU 利用率 is 95%"), 7);
        assert_eq!(units("  \n"), 0);
    }

    #[test]
    fn a_seen_prefix_is_cached_in_whole_blocks() {
        let words = |from: usize, n: usize| (from..from + n).map(|i| format!("w{i} ")).collect::<String>();
        let mut t = PrefixTable::default();
        let shared = words(0, 40);
        assert_eq!(t.read(&(shared.clone() + &words(100, 30))), 0);
        // 40 shared units: two whole blocks, the third differs after unit 40.
        assert_eq!(t.read(&(shared.clone() + &words(200, 30))), 32);
        assert_eq!(t.read(&(shared.clone() + &words(200, 30))), 64, "the whole prompt, in whole blocks");
        assert_eq!(t.read(&(String::from("x ") + &shared)), 0, "a marker first shares nothing");
        assert_eq!(t.read("short"), 0);
    }
}
