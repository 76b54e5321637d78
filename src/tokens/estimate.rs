//! The offline token estimate, the default when a server reports no usage and no tokenizer is
//! given: CJK characters count one token each; other text counts one per run of letters or digits
//! and one per punctuation or symbol character; whitespace counts nothing. Fed incrementally, so
//! a word split across two stream events is still one word. Its error against real tokenizers is
//! measured by `cargo bench --bench tokenizer` (README).

/// Counts estimated tokens over text that arrives in pieces.
#[derive(Debug, Default, Clone)]
pub struct Estimator {
    tokens: u64,
    in_word: bool,
}

impl Estimator {
    pub fn feed(&mut self, text: &str) {
        for c in text.chars() {
            if is_cjk(c) {
                self.tokens += 1;
                self.in_word = false;
            } else if c.is_alphanumeric() {
                if !self.in_word {
                    self.tokens += 1;
                    self.in_word = true;
                }
            } else {
                self.in_word = false;
                if !c.is_whitespace() {
                    self.tokens += 1;
                }
            }
        }
    }

    pub fn tokens(&self) -> u64 {
        self.tokens
    }
}

/// The estimate for a whole text at once.
pub fn estimate(text: &str) -> u64 {
    let mut e = Estimator::default();
    e.feed(text);
    e.tokens()
}

/// Han, kana, Hangul, CJK punctuation and full-width forms: scripts written without spaces,
/// where tokenizers spend about one token per character.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x30FF        // CJK punctuation, Hiragana, Katakana
        | 0x3400..=0x4DBF      // Han extension A
        | 0x4E00..=0x9FFF      // Han
        | 0xAC00..=0xD7AF      // Hangul syllables
        | 0xF900..=0xFAFF      // Han compatibility
        | 0xFF00..=0xFFEF      // full-width forms and punctuation
        | 0x20000..=0x3FFFF) // Han extensions B and later
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cjk_words_and_punctuation() {
        assert_eq!(estimate("你好，世界"), 5);
        assert_eq!(estimate("Hello, world!"), 4);
        assert_eq!(estimate("GPU 利用率 is 95%"), 7);
        assert_eq!(estimate("   \n\t"), 0);
        assert_eq!(estimate(""), 0);
    }

    #[test]
    fn pieces_count_as_the_whole() {
        let text = "The quick brown 狐狸 jumps, 越过 the lazy dog.";
        let whole = estimate(text);
        for cut in 0..text.len() {
            if !text.is_char_boundary(cut) {
                continue;
            }
            let mut e = Estimator::default();
            e.feed(&text[..cut]);
            e.feed(&text[cut..]);
            assert_eq!(e.tokens(), whole, "cut at {cut}");
        }
    }
}
