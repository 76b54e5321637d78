//! `--tokenizer`: which counter turns a request's text into a token count. It loads once before
//! the run (a bad file fails at startup) and is shared read-only by every worker; `config` reads
//! a `tokenizer.json` through the bounded opener and hands its bytes here.

use std::fmt;

pub enum Tokenizer {
    /// The CJK-aware estimate (`estimate.rs`); counted incrementally while streaming.
    Estimate,
    /// An OpenAI BPE encoding bundled in the binary.
    Tiktoken { name: &'static str, bpe: tiktoken_rs::CoreBPE },
    /// A Hugging Face `tokenizer.json` (Qwen, DeepSeek, Llama…), exact for that model.
    HuggingFace { path: String, tokenizer: Box<tokenizers::Tokenizer> },
}

impl Tokenizer {
    pub const CHOICES: &'static str = "estimate, cl100k, o200k, or the path of a tokenizer.json";

    /// A built-in counter by name; `None` when `name` names none (it may be a file's path).
    pub fn builtin(name: &str) -> Option<Result<Tokenizer, String>> {
        fn bpe<E: fmt::Display>(
            name: &'static str,
            r: Result<tiktoken_rs::CoreBPE, E>,
        ) -> Result<Tokenizer, String> {
            r.map(|bpe| Tokenizer::Tiktoken { name, bpe }).map_err(|e| format!("cannot load {name}: {e}"))
        }
        Some(match name {
            "estimate" => Ok(Tokenizer::Estimate),
            "cl100k" | "cl100k_base" => bpe("cl100k", tiktoken_rs::cl100k_base()),
            "o200k" | "o200k_base" => bpe("o200k", tiktoken_rs::o200k_base()),
            _ => return None,
        })
    }

    /// A Hugging Face `tokenizer.json` read from `path` (the caller reads it, bounded).
    pub fn from_json(path: &str, json: &[u8]) -> Result<Tokenizer, String> {
        tokenizers::Tokenizer::from_bytes(json)
            .map(|t| Tokenizer::HuggingFace { path: path.to_string(), tokenizer: Box::new(t) })
            .map_err(|e| format!("is not a usable Hugging Face tokenizer.json ({e}): give {}", Self::CHOICES))
    }

    /// True for the built-in estimate, which needs no stored text.
    pub fn is_estimate(&self) -> bool {
        matches!(self, Tokenizer::Estimate)
    }

    /// Tokens in `text` (without special tokens: servers count generated text the same way).
    pub fn count(&self, text: &str) -> u64 {
        match self {
            Tokenizer::Estimate => super::estimate(text),
            Tokenizer::Tiktoken { bpe, .. } => bpe.encode_ordinary(text).len() as u64,
            Tokenizer::HuggingFace { tokenizer, .. } => {
                tokenizer.encode_fast(text, false).map_or_else(|_| super::estimate(text), |e| e.len() as u64)
            }
        }
    }
}

impl fmt::Display for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tokenizer::Estimate => f.write_str("estimate"),
            Tokenizer::Tiktoken { name, .. } => f.write_str(name),
            Tokenizer::HuggingFace { path, .. } => write!(f, "tokenizer.json {path}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_encodings_count_exactly() {
        let builtin = |name| Tokenizer::builtin(name).unwrap().unwrap();
        let cl = builtin("cl100k");
        assert_eq!(cl.count("Hello, world!"), 4);
        assert_eq!(cl.count(""), 0);
        let o = builtin("o200k");
        assert_eq!(o.count("Hello, world!"), 4);
        assert_eq!(builtin("estimate").count("你好，世界"), 5);
    }

    #[test]
    fn a_hugging_face_file_loads_and_counts() {
        // A minimal word-level tokenizer.json: whitespace pre-tokenizer, three known words.
        let json = r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],
            "normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
            "model":{"type":"WordLevel","vocab":{"[UNK]":0,"hello":1,"world":2},"unk_token":"[UNK]"}}"#;
        let t = Tokenizer::from_json("t.json", json.as_bytes()).unwrap();
        assert_eq!(t.count("hello world hello"), 3);
        assert_eq!(t.to_string(), "tokenizer.json t.json");
        let err = Tokenizer::from_json("t.json", b"{not json").err().unwrap();
        assert!(err.starts_with("is not a usable Hugging Face tokenizer.json"), "{err}");
    }

    #[test]
    fn unknown_names_are_not_builtin() {
        assert!(Tokenizer::builtin("gpt5").is_none());
    }
}
