//! The cost of building synthetic prompts before a run: prompts a second for 100,000 prompts of
//! 8,000 tokens, built to the exact count with the estimate and with cl100k, on every core.
//! 100,000 such prompts are about 3 GB of text, more than a pool may hold (`--prompt-pool` is
//! capped at 256 million tokens), so the bench builds them in pools of 1,000 (each pool a fresh
//! level's, as a sweep builds them) and drops each after checking its lengths.
//! `cargo bench --bench prompts`; `LLMLOAD_BENCH_PROMPTS=N` builds N prompts with the estimate
//! instead, `LLMLOAD_BENCH_EXACT_PROMPTS=N` N with cl100k (16,000 by default: about a minute on
//! two cores).

use llmload::{Lengths, PromptLang, SyntheticPlan, Tokenizer};
use std::time::Instant;

fn main() {
    let count = |var: &str, default: usize| -> usize {
        std::env::var(var).ok().and_then(|n| n.parse().ok()).unwrap_or(default)
    };
    let totals = [count("LLMLOAD_BENCH_PROMPTS", 100_000), count("LLMLOAD_BENCH_EXACT_PROMPTS", 16_000)];
    println!("| tokenizer | prompts | tokens each | exact | seconds | prompts/s | tokens/s |");
    println!("|---|---|---|---|---|---|---|");
    for (name, total) in ["estimate", "cl100k"].into_iter().zip(totals) {
        let chunk = total.min(1_000);
        let tokenizer = Tokenizer::builtin(name).and_then(Result::ok).expect("built-in tokenizer");
        let plan = SyntheticPlan {
            lengths: Lengths::Fixed(8_000),
            output: None,
            lang: PromptLang::Mixed,
            prefix: None,
            cache_bust: false,
            pool: chunk,
            seed: 1,
        };
        let start = Instant::now();
        let (mut built, mut exact) = (0, 0);
        for level in 0.. {
            if built >= total {
                break;
            }
            let pool = plan.build(level, &tokenizer);
            exact += pool.iter().filter(|p| p.counted_tokens == 8_000).count();
            built += pool.len();
        }
        let s = start.elapsed().as_secs_f64();
        println!(
            "| {name} | {built} | 8000 | {exact} | {s:.1} | {:.0} | {:.0} |",
            built as f64 / s,
            built as f64 * 8000.0 / s
        );
    }
}
