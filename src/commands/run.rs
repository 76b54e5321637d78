//! `llmload run`: one load test, from flags to its summary and files.

use super::finish;
use crate::cli::RunArgs;
use crate::client::Tls;
use crate::config::Config;
use crate::engine;
use crate::error::Error;
use crate::summary::Summary;
use crate::workload::mask_key;
use std::sync::Arc;

/// `llmload run`: one load test, its summary and its files.
pub fn run(a: &RunArgs) -> Result<(Summary, u8), Error> {
    let (config, outputs) = Config::from_args(a)?;
    let config = Arc::new(config);
    if !config.quiet {
        eprintln!("{}", banner(&config));
    }
    if matches!(config.client.tls, Tls::Insecure) {
        eprintln!("warning: {INSECURE}");
    }
    if let Some(note) = &config.api_note {
        eprintln!("{note}");
    }
    let file_limit = crate::sys::raise_open_file_limit(config.pacing.concurrency);
    if let Some(w) = &file_limit {
        eprintln!("warning: {w}");
    }
    let signals = crate::sys::signals::Listener::install();
    let interrupts = signals.as_ref().map_or_else(crossbeam_channel::never, |l| l.interrupts.clone());
    let mut run = engine::run(config.clone(), outputs.records, interrupts);
    run.warnings.extend(file_limit);
    if matches!(config.client.tls, Tls::Insecure) {
        run.warnings.push(INSECURE.into());
    }
    if let Some(l) = signals {
        l.close();
    }
    let mut summary = Summary::new(config.describe(), &run, Some(crate::sys::process_usage()));
    let code = finish(&mut summary, outputs.json, run.interrupted)?;
    if let Some(e) = &run.records_error {
        eprintln!("warning: writing records stopped: {e}; the summary above still counts every request");
    }
    Ok((summary, code))
}

/// Printed at the start and kept in the summary of every run that uses `--insecure`.
const INSECURE: &str = "--insecure: TLS certificates were not verified, so the server may not be who it claims; use --ca-cert for a private CA";

/// The line that says what is about to happen, keys masked.
fn banner(c: &Config) -> String {
    let p = &c.pacing;
    let how_long = match (p.duration, p.requests) {
        (Some(d), Some(n)) => format!("for {:?} or {n} requests", d),
        (Some(d), None) => format!("for {:?}", d),
        (None, Some(n)) => format!("{n} requests"),
        (None, None) => "one request per worker".into(),
    };
    let keys = match &c.keys {
        None => "no API key".to_string(),
        Some(k) if k.len() == 1 => format!("key {}", mask_key(&k.items()[0])),
        Some(k) => format!("{} keys round-robin", k.len()),
    };
    format!(
        "llmload {} → {} {} · {} workers (ramp-up {:?}) · {how_long} · {} prompt(s) from {} · {keys}",
        env!("CARGO_PKG_VERSION"),
        c.api,
        c.client.url,
        p.concurrency,
        p.ramp_up,
        c.prompts.len(),
        c.prompt_source
    )
}
