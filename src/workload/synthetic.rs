//! The synthetic prompt source (`--prompt-tokens N[,stddev]`, `--output-tokens N[,stddev]`):
//! prompts of a chosen estimated token length, built offline from built-in English and Chinese
//! passages, and output lengths asked for through `max_tokens`. Deterministic: the same flags
//! build the same prompts on every run. Lengths are measured with the crate's token estimate
//! (`tokens`), not a model's tokenizer.

use super::Prompt;
use crate::tokens::{Estimator, Tokenizer};
use crate::util::rng::SplitMix64;
use std::str::FromStr;

/// How many distinct prompts a synthetic source builds (handed out round-robin).
pub const PROMPTS: usize = 64;
const SEED: u64 = 0x006c_6c6d_6c6f_6164;

/// `N` or `N,stddev`: a normal distribution of lengths, each at least 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lengths {
    pub mean: u32,
    pub stddev: u32,
}

impl FromStr for Lengths {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        const FIX: &str = "give a token count N or N,stddev such as 512 or 512,64 (N at least 1)";
        let (mean, stddev) = s.split_once(',').unwrap_or((s, "0"));
        match (mean.trim().parse::<u32>(), stddev.trim().parse::<u32>()) {
            (Ok(mean), Ok(stddev)) if mean > 0 && mean <= 1_000_000 => Ok(Lengths { mean, stddev }),
            _ => Err(FIX.into()),
        }
    }
}

impl Lengths {
    /// `count` lengths drawn with `seed`.
    pub fn draw(&self, count: usize, seed: u64) -> Vec<u32> {
        let mut rng = SplitMix64::new(SEED ^ seed);
        (0..count)
            .map(|_| {
                let n = f64::from(self.mean) + f64::from(self.stddev) * normal(&mut rng);
                n.round().clamp(1.0, f64::from(u32::MAX)) as u32
            })
            .collect()
    }
}

/// The language of synthetic prompts (`--prompt-lang`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptLang {
    En,
    Zh,
    Mixed,
}

impl FromStr for PromptLang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "en" => Ok(PromptLang::En),
            "zh" => Ok(PromptLang::Zh),
            "mixed" => Ok(PromptLang::Mixed),
            _ => Err("use en, zh or mixed".into()),
        }
    }
}

const EN: &str = "Large language models read a prompt and write an answer one token at a time. \
    Each token is sent to the client as soon as it is ready, so the reader sees the text grow. \
    The time to the first token depends on the length of the prompt and on how busy the server is. \
    Under heavy load, requests wait in a queue before the model starts to read them. \
    Summarise the passage above in three sentences, then list two questions it leaves open. ";
const ZH: &str = "大语言模型先读完提示词，再逐个生成词元，并把每个词元立即以流式事件发送给客户端。\
    首个词元的等待时间取决于提示词的长度和服务器的繁忙程度。负载很高时，请求会先在队列中等待。\
    请用三句话总结上面的内容，并提出两个仍未回答的问题。";

/// `count` prompts whose lengths, counted by `tokenizer`, follow `lengths`.
pub fn prompts(lengths: Lengths, lang: PromptLang, count: usize, tokenizer: &Tokenizer) -> Vec<Prompt> {
    let pieces = pieces(lang);
    lengths
        .draw(count, 1)
        .into_iter()
        .enumerate()
        .map(|(i, want)| {
            // Each prompt starts at its own place in the passage, so no two share a prefix
            // (servers with prefix caching would otherwise skip the prompt's work).
            let start = (i * 7919) % pieces.len();
            let mut cycle = pieces.iter().cycle().skip(start);
            let mut text = format!("[{i}] ");
            let mut est = Estimator::default();
            est.feed(&text);
            let mut ends = Vec::new(); // text length after each piece, to take pieces back
            while est.tokens() < u64::from(want) {
                let piece = cycle.next().expect("the cycle never ends");
                est.feed(piece);
                text.push_str(piece);
                ends.push(text.len());
            }
            let counted = match tokenizer {
                Tokenizer::Estimate => est.tokens(),
                exact => fit(&mut text, &mut ends, &mut cycle, u64::from(want), exact),
            };
            Prompt { counted_tokens: counted, ..Prompt::text(text) }
        })
        .collect()
}

/// Adjusts a prompt built by the estimate to `want` tokens of an exact tokenizer: a piece is
/// about one estimated token and at most one real token, so adding or taking back the shortfall
/// in pieces converges in a few counts. Returns the final count.
fn fit<'a>(
    text: &mut String,
    ends: &mut Vec<usize>,
    more: &mut impl Iterator<Item = &'a String>,
    want: u64,
    tokenizer: &Tokenizer,
) -> u64 {
    let mut count = tokenizer.count(text);
    for _ in 0..16 {
        if count < want {
            for piece in more.by_ref().take((want - count) as usize) {
                text.push_str(piece);
                ends.push(text.len());
            }
        } else if count > want && ends.len() > 1 {
            let keep = ends.len().saturating_sub((count - want) as usize).max(1);
            ends.truncate(keep);
            text.truncate(ends[keep - 1]);
        } else {
            break;
        }
        count = tokenizer.count(text);
    }
    count
}

/// The passage cut into pieces of about one estimated token: English words with their space,
/// Chinese characters; `mixed` alternates a sentence of each.
fn pieces(lang: PromptLang) -> Vec<String> {
    let en = || EN.split_inclusive(' ').map(str::to_string).collect::<Vec<_>>();
    let zh = || ZH.chars().map(String::from).collect::<Vec<_>>();
    match lang {
        PromptLang::En => en(),
        PromptLang::Zh => zh(),
        PromptLang::Mixed => {
            let split = |v: Vec<String>, end: &str| -> Vec<Vec<String>> {
                let mut out = vec![Vec::new()];
                for p in v {
                    let last = p.trim_end().ends_with(end);
                    out.last_mut().expect("never empty").push(p);
                    if last {
                        out.push(Vec::new());
                    }
                }
                out.retain(|s| !s.is_empty());
                out
            };
            let (e, z) = (split(en(), "."), split(zh(), "。"));
            e.iter().zip(z.iter().cycle()).flat_map(|(a, b)| a.iter().chain(b)).cloned().collect()
        }
    }
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut SplitMix64) -> f64 {
    let (u1, u2) = (rng.unit().max(f64::MIN_POSITIVE), rng.unit());
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::estimate;

    #[test]
    fn lengths_parse_with_a_clear_fix() {
        assert_eq!("512".parse(), Ok(Lengths { mean: 512, stddev: 0 }));
        assert_eq!("512, 64".parse(), Ok(Lengths { mean: 512, stddev: 64 }));
        for bad in ["", "0", "-3", "5,x", "1.5"] {
            assert!(bad.parse::<Lengths>().unwrap_err().starts_with("give a token count"), "{bad}");
        }
    }

    #[test]
    fn fixed_lengths_build_prompts_of_that_estimate_in_every_language() {
        for lang in [PromptLang::En, PromptLang::Zh, PromptLang::Mixed] {
            let ps = prompts(Lengths { mean: 300, stddev: 0 }, lang, 5, &Tokenizer::Estimate);
            assert_eq!(ps.len(), 5);
            for p in &ps {
                assert_eq!(p.counted_tokens, estimate(&p.text));
                assert!((300..=302).contains(&p.counted_tokens), "{lang:?}: {}", p.counted_tokens);
            }
            assert_ne!(ps[0].text, ps[1].text);
        }
        let mixed =
            &prompts(Lengths { mean: 200, stddev: 0 }, PromptLang::Mixed, 1, &Tokenizer::Estimate)[0].text;
        assert!(mixed.contains("模型") && mixed.contains("model"), "{mixed}");
    }

    #[test]
    fn an_exact_tokenizer_sizes_the_prompts() {
        let o200k = Tokenizer::builtin("o200k").unwrap().unwrap();
        for lang in [PromptLang::En, PromptLang::Zh, PromptLang::Mixed] {
            for p in prompts(Lengths { mean: 256, stddev: 0 }, lang, 3, &o200k) {
                assert_eq!(p.counted_tokens, o200k.count(&p.text));
                assert!((254..=258).contains(&p.counted_tokens), "{lang:?}: {}", p.counted_tokens);
            }
        }
    }

    #[test]
    fn spread_is_deterministic_and_centred() {
        let l = Lengths { mean: 1000, stddev: 100 };
        let a = l.draw(2000, 1);
        assert_eq!(a, l.draw(2000, 1));
        let mean = a.iter().map(|&n| f64::from(n)).sum::<f64>() / a.len() as f64;
        assert!((mean - 1000.0).abs() < 10.0, "{mean}");
        assert!(a.iter().any(|&n| n < 900) && a.iter().any(|&n| n > 1100));
    }
}
