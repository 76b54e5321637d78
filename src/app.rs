//! The three commands (`run`, `demo`, `mock`) from parsed flags to an exit code: validate, run,
//! print, write. The only place that writes to the terminal before and after a run.

use crate::cli::{Cli, Command, DemoArgs, MockArgs, ReportArgs, RunArgs};
use crate::client::Api;
use crate::config::{Config, OutputFile, Tls, duration};
use crate::engine;
use crate::error::Error;
use crate::export::json::summary_json;
use crate::mock::{self, MockConfig};
use crate::report::format;
use crate::summary::Summary;
use crate::workload::mask_key;
use argh::FromArgs;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

/// Exit codes (DESIGN §6).
pub const EXIT_OK: u8 = 0;
pub const EXIT_GATE: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_INTERRUPTED: u8 = 130;

/// Parses `args` (without the program name) and runs the command; returns the exit code.
pub fn main(args: &[String]) -> u8 {
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    if matches!(args.as_slice(), ["--version" | "-V"]) {
        print_out(concat!("llmload ", env!("CARGO_PKG_VERSION"), "\n"));
        return EXIT_OK;
    }
    // The seed tool had no subcommands: `llmload --host H --threads 10` means `llmload run …`.
    if args.first().is_some_and(|a| a.starts_with('-') && !matches!(*a, "--help" | "-h" | "help")) {
        args.insert(0, "run");
    }
    let cli = match Cli::from_args(&["llmload"], &args) {
        Ok(cli) => cli,
        Err(exit) => {
            return if exit.status.is_ok() {
                print_out(&exit.output);
                EXIT_OK
            } else {
                eprintln!(
                    "error: {}\nRun `llmload --help` (or `llmload run --help`) for the flags.",
                    exit.output.trim_end()
                );
                EXIT_USAGE
            };
        }
    };
    let result = match &cli.command {
        Command::Run(a) => run(a).map(|(_, code)| code),
        Command::Demo(a) => demo(a),
        Command::Mock(a) => serve_mock(a),
        Command::Report(a) => report(a),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        EXIT_USAGE
    })
}

/// Writes to stdout, ignoring a closed pipe (`| head` is not an error).
fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// `llmload run`: one load test, its summary and its files.
pub fn run(a: &RunArgs) -> Result<(Summary, u8), Error> {
    let (config, outputs) = Config::from_args(a)?;
    let config = Arc::new(config);
    if !config.quiet {
        eprintln!("{}", banner(&config));
    }
    if matches!(config.tls, Tls::Insecure) {
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
    if matches!(config.tls, Tls::Insecure) {
        run.warnings.push(INSECURE.into());
    }
    if let Some(l) = signals {
        l.close();
    }
    let (cpu_s, peak_rss) = crate::sys::process_usage();
    let summary = Summary::new(config.describe(), &run, cpu_s, peak_rss);
    let code = finish(&summary, outputs.json, run.interrupted)?;
    if let Some(e) = &run.records_error {
        eprintln!("warning: writing records stopped: {e}; the summary above still counts every request");
    }
    Ok((summary, code))
}

/// Printed at the start and kept in the summary of every run that uses `--insecure`.
const INSECURE: &str = "--insecure: TLS certificates were not verified, so the server may not be who it claims; use --ca-cert for a private CA";

/// Prints the summary, writes the JSON, and picks the exit code: the same for a live run and
/// a rebuilt one.
fn finish(summary: &Summary, json: Option<OutputFile>, interrupted: bool) -> Result<u8, Error> {
    print_out(&crate::report::text::render(summary));
    if let Some(mut out) = json {
        out.file.write_all(&summary_json(summary)).map_err(|e| Error::Output {
            flag: out.flag,
            path: out.path.clone(),
            problem: e.to_string(),
        })?;
    }
    Ok(if interrupted {
        EXIT_INTERRUPTED
    } else if summary.ok == 0 {
        EXIT_GATE
    } else {
        EXIT_OK
    })
}

/// `llmload report`: the summary of a run rebuilt from its records.
fn report(a: &ReportArgs) -> Result<u8, Error> {
    if a.records.is_empty() {
        return Err(Error::Usage(
            "report needs at least one records file: llmload report records.jsonl [--json out.json]".into(),
        ));
    }
    let json = a.json.as_deref().map(|p| crate::config::create_output("--json", p)).transpose()?;
    let run = crate::rebuild::rebuild(&a.records)?;
    let summary = Summary::new(serde_json::json!({ "source": a.records }), &run, 0.0, 0);
    finish(&summary, json, false)
}

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
        c.url,
        p.concurrency,
        p.ramp_up,
        c.prompts.len(),
        c.prompt_source
    )
}

/// `llmload demo`: the embedded mock, a short test against it, and how the numbers compare
/// with what the mock measured it sent.
fn demo(a: &DemoArgs) -> Result<u8, Error> {
    let api: Api = match &a.api {
        None => Api::DifyChat,
        Some(s) => s.parse().map_err(|fix| Error::flag("--api", s, fix))?,
    };
    let mock_config = MockConfig {
        ttft: duration("--ttft", &a.ttft)?,
        itl: duration("--itl", &a.itl)?,
        tokens: a.tokens,
        ..MockConfig::default()
    };
    let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    let server = mock::start(addr, mock_config)
        .map_err(|e| Error::Mock(format!("the demo's mock server could not start: {e}")))?;
    let url = format!("http://{}", server.addr());
    eprintln!(
        "demo: embedded mock LLM server on {url} (TTFT {}, ITL {}, {} tokens a response)",
        a.ttft, a.itl, a.tokens
    );
    let args = RunArgs {
        url: Some(url),
        api: Some(api.name().into()),
        model: Some("mock".into()),
        concurrency: Some(a.concurrency),
        ramp_up: Some("2s".into()),
        duration: Some(a.duration.clone()),
        json: a.json.clone(),
        records: a.records.clone(),
        quiet: a.quiet,
        ..RunArgs::default()
    };
    let (summary, code) = run(&args)?;
    let truth = server.truth_when_idle(std::time::Duration::from_secs(5));
    server.shutdown();
    let cmp = |name: &str, ours: Option<f64>, theirs: Option<f64>| match (ours, theirs) {
        (Some(o), Some(t)) => format!(
            "  {name} p50: llmload measured {}, the mock sent at {} (difference {:+.2}ms)\n",
            format::ms(o),
            format::ms(t),
            o - t
        ),
        _ => format!("  {name} p50: not enough data\n"),
    };
    let p50 = |d: Option<crate::stats::Distribution>| d.map(|d| d.p50);
    let mut text = String::from("\nAccuracy against the mock's own record of when it sent each event:\n");
    text += &cmp("TTFT", summary.metric("ttft_ms").map(|d| d.p50), p50(truth.ttft_us.distribution(0.001)));
    text += &cmp("ITL ", summary.metric("itl_ms").map(|d| d.p50), p50(truth.itl_us.distribution(0.001)));
    text += &format!(
        "\nPoint the same test at a real server:\n  llmload run --url http://YOUR-SERVER:PORT --api {} --api-key YOUR-KEY -c {} --ramp-up 2s -d {}\n",
        api.name(),
        a.concurrency,
        a.duration
    );
    print_out(&text);
    Ok(code)
}

/// `--replay FILE` and `--replay-split`, read and checked before the mock starts.
fn replay(a: &MockArgs) -> Result<Option<mock::Replay>, Error> {
    let split = match &a.replay_split {
        None => mock::Split::Offsets,
        Some(_) if a.replay.is_none() => {
            return Err(Error::Usage("--replay-split only applies to --replay FILE: add --replay".into()));
        }
        Some(s) => s.parse().map_err(|fix: String| Error::flag("--replay-split", s, fix))?,
    };
    a.replay
        .as_ref()
        .map(|path| mock::load_replay(path, split).map_err(|e| Error::file("--replay", path, e)))
        .transpose()
}

/// `llmload mock`: serves until the process is stopped (Ctrl-C).
fn serve_mock(a: &MockArgs) -> Result<u8, Error> {
    if !(0.0..=1.0).contains(&a.jitter) {
        return Err(Error::flag(
            "--jitter",
            a.jitter.to_string(),
            "give a fraction from 0 to 1 (0.1 = ±10%)",
        ));
    }
    let config = MockConfig {
        ttft: duration("--ttft", &a.ttft)?,
        itl: duration("--itl", &a.itl)?,
        tokens: a.tokens,
        jitter: a.jitter,
        lang: a.lang.parse().map_err(|fix: String| Error::flag("--lang", &a.lang, fix))?,
        faults: a
            .fault
            .iter()
            .map(|f| f.parse().map_err(|fix: String| Error::flag("--fault", f, fix)))
            .collect::<Result<_, _>>()?,
        fault_delay: a
            .fault_delay
            .as_deref()
            .map(|d| duration("--fault-delay", d))
            .transpose()?
            .unwrap_or(mock::DEFAULT_FAULT_DELAY),
        replay: replay(a)?,
    };
    let addr: SocketAddr = format!("{}:{}", a.host, a.port)
        .parse()
        .or_else(|_| format!("[{}]:{}", a.host, a.port).parse())
        .map_err(|_| Error::flag("--host", &a.host, "give an IP address such as 127.0.0.1 or ::1"))?;
    let server = mock::start(addr, config).map_err(|e| {
        Error::Mock(format!("cannot listen on {addr}: {e} (pick another --port, or 0 for a free one)"))
    })?;
    let url = format!("http://{}", server.addr());
    print_out(&format!(
        "llmload mock listening on {url}\n  Dify:      POST {url}/v1/chat-messages, /v1/completion-messages, /v1/workflows/run\n  OpenAI:    POST {url}/v1/chat/completions, /v1/completions\n  Anthropic: POST {url}/v1/messages\n  truth:     GET  {url}/mock/stats\n{}Ctrl-C to stop.\n",
        a.replay.as_ref().map_or(String::new(), |f| format!("  replaying {f} to every POST\n"))
    ));
    loop {
        std::thread::park();
    }
}
