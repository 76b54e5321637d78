//! The prompt half of `Config::from_args`: one of `--param-file` (lines or JSONL), `--prompt`,
//! the synthetic `--prompt-tokens` (with its pool, shared prefixes and `--cache-bust`), or
//! `--dataset` (with its format, filter and sample); and
//! `--output-tokens`, which sets each prompt's `max_tokens`. Every check names the flag and the fix.

use crate::cli::RunArgs;
use crate::error::Error;
use crate::output::warnings::Warning;
use crate::tokens::Tokenizer;
use crate::util::files::{self, cap};
use crate::workload::synthetic::{self, Lengths, Plan, Prefix, PromptLang};
use crate::workload::{Prompt, dataset, lines, prompts as formats};

const DEFAULT_PROMPT: &str = "你好";

/// The prompts, where they came from (for reports), and whether exact output lengths were asked.
pub struct PromptSetup {
    pub prompts: Vec<Prompt>,
    pub source: String,
    pub ignore_eos: bool,
    /// `--param-file`'s numbered lines when any has an `"extra"` (for `body::prompt_extras`).
    pub extra_lines: Vec<(usize, String)>,
    /// `--dataset` entries left out (no prompt, no reply, too long), said before the run.
    pub skipped: Option<Warning>,
    /// The plan of a synthetic pool, to build it afresh for each sweep level.
    pub synthetic: Option<Plan>,
    /// `--output-tokens`, parsed.
    pub output: Option<Lengths>,
    /// Each prompt is a conversation whose later user turns are its session's next turns
    /// (`--dataset` ShareGPT with `--turns`): a session ends with its conversation.
    pub conversations: bool,
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
    let mut extra_lines = Vec::new();
    dataset_flags_need_a_dataset(a)?;
    let (mut skipped, mut reply_lengths, mut conversations) = (None, false, false);
    let mut synthetic_plan = None;
    let (mut prompts, source) = match (&a.param_file, &a.prompt, &a.prompt_tokens) {
        _ if a.dataset.is_some() => {
            let d = from_dataset(a, a.dataset.as_deref().unwrap_or_default(), tokenizer)?;
            (skipped, reply_lengths, conversations) = (d.skipped, d.reply_lengths, d.conversations);
            (d.prompts, d.source)
        }
        (Some(path), _, _) => {
            let lines = lines::read_numbered_lines("--param-file", path, "prompt")?;
            if lines.iter().any(|(_, l)| l.contains("\"extra\"")) {
                extra_lines.clone_from(&lines);
            }
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
    if !tokenizer.is_estimate() && a.prompt_tokens.is_none() && a.dataset.is_none() {
        // Input tokens without usage come from the same counter as output tokens (synthetic
        // prompts and datasets were already sized and counted by it).
        for p in &mut prompts {
            p.counted_tokens = tokenizer.count(&p.input_text());
        }
    }
    let mut output = synthetic_plan.as_ref().and_then(|p| p.output);
    let ignore_eos = match &a.output_tokens {
        // A synthetic pool drew each prompt's output length with its prompt length.
        Some(_) if output.is_some() => true,
        // A ShareGPT reply's length is asked for exactly, like --output-tokens.
        None => a.ignore_eos || reply_lengths,
        Some(_) if a.max_tokens.is_some() => {
            return Err(Error::Usage(
                "--max-tokens and --output-tokens both set the output length: give one".into(),
            ));
        }
        Some(spec) => {
            // Drawn per request by the client (`ClientSettings::output`) for prompts without
            // their own `max_tokens`, so one prompt gets the whole distribution.
            output = Some(spec.parse().map_err(|fix| Error::flag("--output-tokens", spec, fix))?);
            true
        }
    };
    let conversations = conversations && a.turns.is_some_and(|t| t > 1);
    Ok(PromptSetup {
        prompts,
        source,
        ignore_eos,
        extra_lines,
        skipped,
        synthetic: synthetic_plan,
        output,
        conversations,
    })
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

/// The `--dataset-*` flags without `--dataset` are a mistake, said as one.
fn dataset_flags_need_a_dataset(a: &RunArgs) -> Result<(), Error> {
    if a.dataset.is_some() {
        return Ok(());
    }
    for (flag, given) in [
        ("--dataset-format", a.dataset_format.is_some()),
        ("--dataset-max-prompt-tokens", a.dataset_max_prompt_tokens.is_some()),
        ("--dataset-sample", a.dataset_sample.is_some()),
        ("--dataset-replace", a.dataset_replace),
    ] {
        if given {
            return Err(Error::Usage(format!("{flag} applies to --dataset: add --dataset FILE")));
        }
    }
    Ok(())
}

/// A `--dataset` file's prompts and what `setup` needs to know of them.
struct FromDataset {
    prompts: Vec<Prompt>,
    source: String,
    skipped: Option<Warning>,
    /// Each prompt's `max_tokens` is its ShareGPT reply's length.
    reply_lengths: bool,
    /// ShareGPT conversations: each prompt carries its later user turns.
    conversations: bool,
}

/// `--dataset` and its flags: the file read through the bounded opener, parsed in its format
/// (named or detected), filtered, shuffled by `--seed` (default 1) and sampled.
fn from_dataset(a: &RunArgs, path: &str, tokenizer: &Tokenizer) -> Result<FromDataset, Error> {
    for (flag, given) in [
        ("--param-file", a.param_file.is_some()),
        ("--prompt", a.prompt.is_some()),
        ("--prompt-tokens", a.prompt_tokens.is_some()),
    ] {
        if given {
            return Err(Error::Usage(format!(
                "--dataset and {flag} are both prompt sources: give one (a --dataset file can hold prompt JSONL or one prompt a line too)"
            )));
        }
    }
    if a.dataset_sample == Some(0) {
        return Err(Error::flag(
            "--dataset-sample",
            "0",
            "must be at least 1 (leave it out to send every prompt)",
        ));
    }
    if a.dataset_replace && a.dataset_sample.is_none() {
        return Err(Error::Usage(
            "--dataset-replace applies to --dataset-sample: add --dataset-sample N".into(),
        ));
    }
    let named = match &a.dataset_format {
        None => None,
        Some(f) => Some(f.parse::<dataset::Format>().map_err(|fix| Error::flag("--dataset-format", f, fix))?),
    };
    let bytes = files::read("--dataset", path, cap::DATASET)?;
    let format = named.unwrap_or_else(|| dataset::detect(&bytes));
    // The replies size the answers unless a flag sets the output length.
    let reply_lengths =
        format == dataset::Format::ShareGpt && a.output_tokens.is_none() && a.max_tokens.is_none();
    let choice = dataset::Choice {
        max_prompt_tokens: a.dataset_max_prompt_tokens,
        sample: a.dataset_sample,
        replace: a.dataset_replace,
        seed: a.seed.unwrap_or(1),
        reply_lengths,
        // Sessions send a conversation's later user turns as their next turns.
        followups: a.turns.is_some_and(|t| t > 1),
    };
    let d =
        dataset::load(&bytes, format, &choice, tokenizer).map_err(|p| Error::file("--dataset", path, p))?;
    let (fmt, n, m, entries) = (format.name(), d.prompts.len(), d.entries, format.entries());
    let source = match d.replaced {
        false => format!("--dataset {path} ({fmt}, {n} of {m} {entries})"),
        true => format!("--dataset {path} ({fmt}, {n} drawn with replacement from {m} {entries})"),
    };
    let s = d.skipped;
    let skipped = (s.total() > 0).then_some(Warning::DatasetSkipped {
        entries: m,
        no_prompt: s.no_prompt,
        no_reply: s.no_reply,
        too_long: s.too_long,
        max_prompt_tokens: a.dataset_max_prompt_tokens.unwrap_or(0),
    });
    let conversations = format == dataset::Format::ShareGpt;
    Ok(FromDataset { prompts: d.prompts, source, skipped, reply_lengths, conversations })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(f: impl FnOnce(&mut RunArgs)) -> Result<PromptSetup, Error> {
        let mut a = RunArgs {
            dataset: Some(format!("{}/tests/fixtures/sharegpt_sample.json", env!("CARGO_MANIFEST_DIR"))),
            ..RunArgs::default()
        };
        f(&mut a);
        setup(&a, &Tokenizer::Estimate)
    }

    #[test]
    fn sharegpt_replies_ask_for_exact_lengths_unless_a_flag_sets_them() {
        let caps = |s: &PromptSetup| s.prompts.iter().map(|p| p.max_tokens).collect::<Vec<_>>();
        let s = sample(|_| {}).unwrap();
        assert_eq!((caps(&s), s.ignore_eos), (vec![Some(18), Some(16), Some(17)], true));
        assert!(matches!(s.skipped, Some(Warning::DatasetSkipped { entries: 5, no_prompt: 2, .. })));
        // --max-tokens caps every answer instead, and lets it end early.
        let s = sample(|a| a.max_tokens = Some(50)).unwrap();
        assert_eq!((caps(&s), s.ignore_eos), (vec![None; 3], false));
        // --output-tokens: each request draws its own (the client does), whatever the reply.
        let s = sample(|a| a.output_tokens = Some("4".into())).unwrap();
        assert_eq!((caps(&s), s.ignore_eos, s.output), (vec![None; 3], true, Some(Lengths::Fixed(4))));
        // Another seed, another order.
        let s = sample(|a| a.seed = Some(3)).unwrap();
        assert_ne!(caps(&s), [Some(18), Some(16), Some(17)]);
    }

    #[test]
    fn a_missing_dataset_names_the_flag() {
        let err = sample(|a| a.dataset = Some("/nonexistent/sg.json".into())).err().unwrap();
        assert_eq!(err.to_string(), "--dataset /nonexistent/sg.json: file not found: check the path");
        let err = sample(|a| a.param_file = Some("p.txt".into())).err().unwrap();
        assert!(err.to_string().starts_with("--dataset and --param-file are both prompt sources"), "{err}");
    }
}
