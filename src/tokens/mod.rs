//! Counting output tokens when the server reports no usage (and checking usage when it does):
//! the built-in estimate, OpenAI's exact BPE encodings (bundled, no download), or a local
//! Hugging Face `tokenizer.json`. Counting is always over a request's whole text, never per chunk.

pub mod estimate;
pub mod tokenizer;

pub use estimate::{Estimator, estimate};
pub use tokenizer::Tokenizer;
