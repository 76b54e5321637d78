//! `--trace` and its flags (`--trace-speed`, `--trace-window`, `--trace-block-tokens`): the file
//! read through the bounded opener and parsed, the window cut and scaled into the run's instants,
//! and each entry's prompt built with the tokenizer in use. Every flag that would fight the
//! trace's own schedule or lengths is refused here, naming it. It does not dispatch anything
//! (the open loop does, from `Config::trace`).

use crate::cli::RunArgs;
use crate::error::Error;
use crate::tokens::Tokenizer;
use crate::util::files::{self, cap};
use crate::workload::Prompt;
use crate::workload::synthetic::MAX_POOL_TOKENS;
use crate::workload::trace::{self, Format};
use std::time::Duration;

/// `--trace-block-tokens`' default: mooncake's block.
const DEFAULT_BLOCK_TOKENS: u32 = 512;

/// A trace ready to replay: the run's instants and, in the same order, the prompts.
pub struct Replay {
    pub offsets: Vec<Duration>,
    pub prompts: Vec<Prompt>,
    /// What was replayed, for reports.
    pub source: String,
    /// Requests a second over the replay (for the first workers and the verdict's gaps).
    pub rate: f64,
}

/// The replay `--trace` asks for, or `None` without it; errors name the flag and the fix.
pub fn setup(a: &RunArgs, tokenizer: &Tokenizer) -> Result<Option<Replay>, Error> {
    let Some(path) = a.trace.as_deref() else {
        for (flag, given) in [
            ("--trace-speed", a.trace_speed.is_some()),
            ("--trace-window", a.trace_window.is_some()),
            ("--trace-block-tokens", a.trace_block_tokens.is_some()),
        ] {
            if given {
                return Err(Error::Usage(format!("{flag} applies to --trace: add --trace FILE")));
            }
        }
        return Ok(None);
    };
    for (flag, given, why) in [
        ("--rate", a.rate.is_some(), "the trace sets when requests start"),
        ("--arrival", a.arrival.is_some(), "the trace sets when requests start"),
        ("--burstiness", a.burstiness.is_some(), "the trace sets when requests start"),
        ("--ramp-up", a.ramp_up.is_some(), "the trace sets when requests start"),
        ("--concurrency", a.concurrency.is_some(), "a trace is an open loop: cap it with --max-concurrency"),
        ("--threads", a.threads.is_some(), "a trace is an open loop: cap it with --max-concurrency"),
        ("--param-file", a.param_file.is_some(), "the trace's lengths make the prompts"),
        ("--prompt", a.prompt.is_some(), "the trace's lengths make the prompts"),
        ("--prompt-tokens", a.prompt_tokens.is_some(), "the trace's lengths make the prompts"),
        ("--dataset", a.dataset.is_some(), "the trace's lengths make the prompts"),
        ("--output-tokens", a.output_tokens.is_some(), "the trace sets each output length"),
        ("--max-tokens", a.max_tokens.is_some(), "the trace sets each output length"),
        ("--shard", a.shard.is_some() || a.shards.is_some(), "every shard would replay the whole trace"),
    ] {
        if given {
            return Err(Error::Usage(format!("--trace and {flag} clash: {why}; leave {flag} out")));
        }
    }
    let speed = a.trace_speed.unwrap_or(1.0);
    if !(speed.is_finite() && speed > 0.0) {
        return Err(Error::flag(
            "--trace-speed",
            speed.to_string(),
            "must be above 0 (2 replays twice as fast, 0.5 half as fast)",
        ));
    }
    let window = a.trace_window.as_deref().map(window).transpose()?;
    let block_tokens = a.trace_block_tokens.unwrap_or(DEFAULT_BLOCK_TOKENS);
    if block_tokens == 0 || u64::from(block_tokens) > trace::MAX_LENGTH {
        return Err(Error::flag(
            "--trace-block-tokens",
            block_tokens.to_string(),
            format!("give 1 to {} tokens (the trace's block size; mooncake's is 512)", trace::MAX_LENGTH),
        ));
    }
    let bytes = files::read("--trace", path, cap::DATASET)?;
    let t = trace::parse(&bytes).map_err(|p| Error::file("--trace", path, p))?;
    if a.trace_block_tokens.is_some() && t.format != Format::Mooncake {
        return Err(Error::Usage(format!(
            "--trace-block-tokens sizes a mooncake trace's hash_ids blocks; {path} is in the {} format, without blocks: leave it out",
            t.format.name()
        )));
    }
    let chosen = trace::replay(&t.entries, window, speed);
    let Some(last) = chosen.last().map(|(_, at)| *at) else {
        let span = t.entries.last().map_or(0.0, |e| e.at_ms / 1000.0);
        return Err(Error::flag(
            "--trace-window",
            a.trace_window.clone().unwrap_or_default(),
            format!(
                "holds no entry of the trace, which spans 0 to {span:.3} seconds: give a window inside it"
            ),
        ));
    };
    let tokens: f64 = chosen.iter().map(|(i, _)| f64::from(t.entries[*i].input)).sum();
    if tokens > MAX_POOL_TOKENS {
        return Err(Error::file(
            "--trace",
            path,
            format!(
                "the replayed entries hold about {:.0} million prompt tokens, more than the {:.0} million that fit in memory: replay a part with --trace-window A..B",
                tokens / 1e6,
                MAX_POOL_TOKENS / 1e6
            ),
        ));
    }
    let mut builder = trace::Builder::new(tokenizer, block_tokens);
    let prompts = chosen.iter().map(|(i, _)| builder.prompt(*i, &t.entries[*i])).collect();
    let n = chosen.len();
    let mut source = format!("--trace {path} ({}, {n} of {} entries", t.format.name(), t.entries.len());
    if t.skipped > 0 {
        source.push_str(&format!(", {} without tokens left out", t.skipped));
    }
    if speed != 1.0 {
        source.push_str(&format!(", speed {speed}"));
    }
    source.push(')');
    let rate = if last.is_zero() { n as f64 } else { n as f64 / last.as_secs_f64() };
    let offsets = chosen.into_iter().map(|(_, at)| at).collect();
    Ok(Some(Replay { offsets, prompts, source, rate }))
}

/// `--trace-window A..B`: seconds into the trace, A before B.
fn window(text: &str) -> Result<(f64, f64), Error> {
    let bad = |fix: &str| Error::flag("--trace-window", text, fix.to_string());
    let (a, b) =
        text.split_once("..").ok_or_else(|| bad("give A..B in seconds into the trace, e.g. 60..120"))?;
    let secs = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
    match (secs(a), secs(b)) {
        (Some(a), Some(b)) if a < b => Ok((a, b)),
        (Some(_), Some(_)) => Err(bad("the start must come before the end")),
        _ => Err(bad("give A..B in seconds (at least 0) into the trace, e.g. 60..120")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(f: impl FnOnce(&mut RunArgs)) -> String {
        let mut a = RunArgs { trace: Some("t.jsonl".into()), ..RunArgs::default() };
        f(&mut a);
        match setup(&a, &Tokenizer::Estimate) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn flags_that_fight_the_trace_are_named() {
        assert_eq!(
            refused(|a| a.rate = Some(5.0)),
            "--trace and --rate clash: the trace sets when requests start; leave --rate out"
        );
        assert!(refused(|a| a.concurrency = Some(4)).contains("cap it with --max-concurrency"));
        assert!(refused(|a| a.output_tokens = Some("9".into())).contains("--output-tokens clash"));
        assert!(refused(|a| a.trace_speed = Some(0.0)).contains("--trace-speed \"0\" is invalid"));
        assert!(refused(|a| a.trace_window = Some("9..3".into())).contains("the start must come before"));
        assert!(refused(|a| a.trace_window = Some("3".into())).contains("give A..B"));
        assert!(refused(|a| a.trace_block_tokens = Some(0)).contains("give 1 to 1000000 tokens"));
        let a = RunArgs { trace_window: Some("1..2".into()), ..RunArgs::default() };
        let e = setup(&a, &Tokenizer::Estimate).err().unwrap().to_string();
        assert_eq!(e, "--trace-window applies to --trace: add --trace FILE");
        assert_eq!(window("1.5..3").unwrap(), (1.5, 3.0));
    }
}
