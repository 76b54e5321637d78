//! `llmload run`: one load test, from flags to its summary and files.

use super::{finish, say};
use crate::cli::RunArgs;
use crate::client::{Client, Preflight, Tls};
use crate::config::Config;
use crate::engine;
use crate::error::Error;
use crate::export::OutputFile;
use crate::output::warnings::{Warning, human};
use crate::summary::Summary;
use crate::workload::mask_key;
use std::sync::Arc;

/// `llmload run`: one load test, its summary and its files.
pub fn run(a: &RunArgs) -> Result<(Summary, u8), Error> {
    let (config, outputs) = Config::from_args(a)?;
    let config = Arc::new(config);
    if !config.quiet {
        say(&banner(&config));
    }
    if let Some(note) = &config.api_note {
        say(note);
    }
    let mut early = warnings_before(&config);
    for w in &early {
        say(&format!("warning: {w}"));
    }
    if config.preflight {
        let key = config.keys.as_ref().map(|k| k.items()[0].as_str());
        match Client::preflight(&config.client, &config.prompts.items()[0], key) {
            Preflight::Passed => {}
            Preflight::Noted(what) => {
                let w = Warning::PreflightNoted { what };
                say(&format!("warning: {w}"));
                early.push(w);
            }
            Preflight::Refused(problem) => {
                return Err(Error::Preflight { url: config.client.url.clone(), problem });
            }
        }
    }
    let to_stderr = outputs.json.as_ref().is_some_and(OutputFile::is_stdout)
        || outputs.records.as_ref().is_some_and(OutputFile::is_stdout);
    let signals = crate::sys::signals::Listener::install();
    let interrupts = signals.as_ref().map_or_else(crossbeam_channel::never, |l| l.interrupts.clone());
    let mut run = engine::run(config.clone(), outputs.records, interrupts)?;
    if let Some(l) = signals {
        l.close();
    }
    let mut warnings: Vec<String> = early.iter().map(Warning::to_string).collect();
    warnings.append(&mut run.warnings);
    if let Some(error) = run.records_error.take() {
        warnings.push(Warning::RecordsStopped { error }.to_string());
    }
    run.warnings = warnings;
    let mut summary = Summary::new(config.describe(), &run, Some(crate::sys::process_usage()));
    let code = finish(&mut summary, outputs.json, to_stderr)?;
    Ok((summary, code))
}

/// What the configuration alone shows is worth a warning, said before the first request and
/// kept in the summary.
fn warnings_before(c: &Config) -> Vec<Warning> {
    let mut w = Vec::new();
    if matches!(c.client.tls, Tls::Insecure) {
        w.push(Warning::Insecure);
    }
    let p = &c.pacing;
    if let Some(duration) = p.duration.filter(|d| p.ramp_up > *d) {
        let starting = (0..p.concurrency).filter(|&i| p.start_offset(i) < duration).count();
        w.push(Warning::RampUpTooLong { ramp_up: p.ramp_up, duration, starting, workers: p.concurrency });
    }
    if let Some((limit, need)) = crate::sys::raise_open_file_limit(p.concurrency) {
        w.push(Warning::FileLimit { limit, need, workers: p.concurrency });
    }
    w
}

/// The line that says what is about to happen, keys masked.
fn banner(c: &Config) -> String {
    let p = &c.pacing;
    let how_long = match (p.duration, p.requests) {
        (Some(d), Some(n)) => format!("for {} or {n} requests", human(d)),
        (Some(d), None) => format!("for {}", human(d)),
        (None, Some(n)) => format!("{n} requests"),
        (None, None) => "one request per worker".into(),
    };
    let workers = match (p.concurrency, p.ramp_up.is_zero()) {
        (1, _) => "1 worker".to_string(),
        (n, true) => format!("{n} workers"),
        (n, false) => format!("{n} workers (ramp-up {})", human(p.ramp_up)),
    };
    let keys = match &c.keys {
        None => "no API key".to_string(),
        Some(k) if k.len() == 1 => format!("key {}", mask_key(&k.items()[0])),
        Some(k) => format!("{} keys round-robin", k.len()),
    };
    let prompts = match c.prompts.len() {
        1 => "1 prompt".to_string(),
        n => format!("{n} prompts"),
    };
    format!(
        "llmload {} → {} {} · {workers} · {how_long} · {prompts} from {} · {keys}",
        env!("CARGO_PKG_VERSION"),
        c.api,
        c.client.url,
        c.prompt_source
    )
}
