//! The prompt half of `Config::from_args`: one of `--param-file` (lines or JSONL), `--prompt`,
//! or the synthetic `--prompt-tokens`; and `--output-tokens`, which sets each prompt's
//! `max_tokens`. Every check names the flag and the fix.

use crate::cli::RunArgs;
use crate::error::Error;
use crate::tokens::Tokenizer;
use crate::workload::synthetic::{self, Lengths, PromptLang};
use crate::workload::{Prompt, lines, prompts as formats};

const DEFAULT_PROMPT: &str = "你好";

/// The prompts, where they came from (for reports), and whether exact output lengths were asked.
pub struct PromptSetup {
    pub prompts: Vec<Prompt>,
    pub source: String,
    pub ignore_eos: bool,
    /// `--param-file`'s numbered lines when any has an `"extra"` (for `body::prompt_extras`).
    pub extra_lines: Vec<(usize, String)>,
}

/// `tokenizer` sizes synthetic prompts (the estimate unless `--tokenizer` names another).
pub fn setup(a: &RunArgs, tokenizer: &Tokenizer) -> Result<PromptSetup, Error> {
    let given = [a.param_file.is_some(), a.prompt.is_some(), a.prompt_tokens.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(Error::Usage("give one of --param-file, --prompt or --prompt-tokens".into()));
    }
    if a.prompt_lang.is_some() && a.prompt_tokens.is_none() {
        return Err(Error::Usage(
            "--prompt-lang only applies to --prompt-tokens: add --prompt-tokens N".into(),
        ));
    }
    let mut extra_lines = Vec::new();
    let (mut prompts, source) = match (&a.param_file, &a.prompt, &a.prompt_tokens) {
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
            (
                synthetic::prompts(lengths, lang, synthetic::PROMPTS, tokenizer),
                format!("--prompt-tokens {spec} ({label})"),
            )
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
    let ignore_eos = match &a.output_tokens {
        None => a.ignore_eos,
        Some(_) if a.max_tokens.is_some() => {
            return Err(Error::Usage(
                "--max-tokens and --output-tokens both set the output length: give one".into(),
            ));
        }
        Some(spec) => {
            let lengths: Lengths = spec.parse().map_err(|fix| Error::flag("--output-tokens", spec, fix))?;
            let draws = lengths.draw(prompts.len(), 2);
            for (p, n) in prompts.iter_mut().zip(draws) {
                p.max_tokens.get_or_insert(n);
            }
            true
        }
    };
    Ok(PromptSetup { prompts, source, ignore_eos, extra_lines })
}
