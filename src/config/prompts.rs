//! The prompt half of `Config::from_args`: one of `--param-file` (lines or JSONL), `--prompt`,
//! or the synthetic `--prompt-tokens` (with its pool, shared prefixes and `--cache-bust`); and
//! `--output-tokens`, which sets each prompt's `max_tokens`. Every check names the flag and the fix.

use crate::cli::RunArgs;
use crate::error::Error;
use crate::tokens::Tokenizer;
use crate::workload::synthetic::{self, Lengths, Plan, Prefix, PromptLang};
use crate::workload::{Prompt, lines, prompts as formats};

const DEFAULT_PROMPT: &str = "你好";

/// The prompts, where they came from (for reports), and whether exact output lengths were asked.
pub struct PromptSetup {
    pub prompts: Vec<Prompt>,
    pub source: String,
    pub ignore_eos: bool,
    /// The plan of a synthetic pool, to build it afresh for each sweep level.
    pub synthetic: Option<Plan>,
    /// `--output-tokens`, parsed.
    pub output: Option<Lengths>,
}

/// `tokenizer` sizes synthetic prompts (the estimate unless `--tokenizer` names another).
pub fn setup(a: &RunArgs, tokenizer: &Tokenizer) -> Result<PromptSetup, Error> {
    let given = [a.param_file.is_some(), a.prompt.is_some(), a.prompt_tokens.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(Error::Usage("give one of --param-file, --prompt or --prompt-tokens".into()));
    }
    for (flag, given) in [
        ("--prompt-lang", a.prompt_lang.is_some()),
        ("--prompt-pool", a.prompt_pool.is_some()),
        ("--prefix-tokens", a.prefix_tokens.is_some()),
        ("--cache-bust", a.cache_bust),
    ] {
        if given && a.prompt_tokens.is_none() {
            return Err(Error::Usage(format!(
                "{flag} only applies to synthetic prompts: add --prompt-tokens N"
            )));
        }
    }
    let mut synthetic_plan = None;
    let (mut prompts, source) = match (&a.param_file, &a.prompt, &a.prompt_tokens) {
        (Some(path), _, _) => {
            let lines = lines::read_numbered_lines("--param-file", path, "prompt")?;
            let prompts = formats::from_lines(lines).map_err(|p| Error::file("--param-file", path, p))?;
            (prompts, format!("--param-file {path}"))
        }
        (_, Some(p), _) if p.trim().is_empty() => {
            return Err(Error::flag("--prompt", p, "must not be empty"));
        }
        (_, Some(p), _) => (vec![Prompt::text(p.clone())], "--prompt".into()),
        (_, _, Some(spec)) => {
            let lengths: Lengths = spec.parse().map_err(|fix| Error::flag("--prompt-tokens", spec, fix))?;
            let lang = match &a.prompt_lang {
                None => PromptLang::Mixed,
                Some(l) => l.parse().map_err(|fix| Error::flag("--prompt-lang", l, fix))?,
            };
            let label = a.prompt_lang.as_deref().unwrap_or("mixed");
            let plan = synthetic_plan_of(a, lengths, lang)?;
            let prompts = plan.build(0, tokenizer);
            synthetic_plan = Some(plan);
            (prompts, format!("--prompt-tokens {spec} ({label})"))
        }
        _ => (vec![Prompt::text(DEFAULT_PROMPT)], "default".into()),
    };
    if !tokenizer.is_estimate() && a.prompt_tokens.is_none() {
        // Input tokens without usage come from the same counter as output tokens (synthetic
        // prompts were already sized and counted by it).
        for p in &mut prompts {
            p.counted_tokens = tokenizer.count(&p.input_text());
        }
    }
    let mut output = synthetic_plan.as_ref().and_then(|p| p.output);
    let ignore_eos = match &a.output_tokens {
        // A synthetic pool drew each prompt's output length with its prompt length.
        Some(_) if output.is_some() => true,
        None => false,
        Some(_) if a.max_tokens.is_some() => {
            return Err(Error::Usage(
                "--max-tokens and --output-tokens both set the output length: give one".into(),
            ));
        }
        Some(spec) => {
            let lengths: Lengths = spec.parse().map_err(|fix| Error::flag("--output-tokens", spec, fix))?;
            let draws = lengths.draws(prompts.len(), a.seed.unwrap_or(1));
            for (p, n) in prompts.iter_mut().zip(draws) {
                p.max_tokens.get_or_insert(n);
            }
            output = Some(lengths);
            true
        }
    };
    Ok(PromptSetup { prompts, source, ignore_eos, synthetic: synthetic_plan, output })
}

/// The synthetic pool's plan: lengths, output lengths, prefixes, `--cache-bust` and the pool's
/// size, checked.
fn synthetic_plan_of(a: &RunArgs, lengths: Lengths, lang: PromptLang) -> Result<Plan, Error> {
    let output = match (&a.output_tokens, a.max_tokens) {
        (Some(spec), None) => Some(spec.parse().map_err(|fix| Error::flag("--output-tokens", spec, fix))?),
        _ => None,
    };
    for (flag, given) in
        [("--prefix-groups", a.prefix_groups.is_some()), ("--prefix-zipf", a.prefix_zipf.is_some())]
    {
        if given && a.prefix_tokens.is_none() {
            return Err(Error::Usage(format!("{flag} shapes shared prefixes: add --prefix-tokens P")));
        }
    }
    let prefix = match a.prefix_tokens {
        None => None,
        Some(p) if p == 0 || p > 1_000_000 => {
            return Err(Error::flag(
                "--prefix-tokens",
                p.to_string(),
                "give 1 to 1000000 tokens, or leave it out",
            ));
        }
        Some(tokens) => {
            let groups = a.prefix_groups.unwrap_or(1);
            if groups == 0 || groups > 100_000 {
                return Err(Error::flag("--prefix-groups", groups.to_string(), "give 1 to 100000 groups"));
            }
            if let Some(s) = a.prefix_zipf.filter(|s| !(s.is_finite() && *s > 0.0 && *s <= 10.0)) {
                return Err(Error::flag(
                    "--prefix-zipf",
                    s.to_string(),
                    "give an exponent above 0 and at most 10 (1 is the classic Zipf law), or leave it out for uniform groups",
                ));
            }
            Some(Prefix { tokens, groups, zipf: a.prefix_zipf })
        }
    };
    let pool = match a.prompt_pool {
        Some(0) => return Err(Error::flag("--prompt-pool", "0", "must be at least 1")),
        Some(n) if n > synthetic::MAX_POOL => {
            return Err(Error::flag(
                "--prompt-pool",
                n.to_string(),
                format!("at most {}", synthetic::MAX_POOL),
            ));
        }
        Some(n) => n,
        None => a.requests.map_or(synthetic::DEFAULT_POOL, |n| {
            usize::try_from(n).unwrap_or(usize::MAX).min(synthetic::DEFAULT_POOL)
        }),
    };
    let plan =
        Plan { lengths, output, lang, prefix, cache_bust: a.cache_bust, pool, seed: a.seed.unwrap_or(1) };
    if plan.tokens() > synthetic::MAX_POOL_TOKENS {
        return Err(Error::flag(
            "--prompt-pool",
            pool.to_string(),
            format!(
                "{pool} prompts of these lengths hold about {:.0} million tokens, more than the {:.0} million a pool may hold in memory: lower --prompt-pool (prompts are reused round-robin)",
                plan.tokens() / 1e6,
                synthetic::MAX_POOL_TOKENS / 1e6
            ),
        ));
    }
    Ok(plan)
}
