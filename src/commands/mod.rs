//! The commands (`run`, `sweep`, `demo`, `mock`, `report`, `compare`, `probe`) from parsed flags to an exit code:
//! validate, run, print, write. The only place that writes to the terminal before and after a run; one exit
//! code policy for all of them.

mod compare;
mod demo;
mod mock;
mod probe;
mod rebuild;
mod repeat;
mod report;
mod run;
mod sweep;

use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::export::OutputFile;
use crate::export::json::summary_json;
use crate::export::vllm::vllm_json;
use crate::gate::Threshold;
use crate::html::Page;
use crate::lang::Lang;
use crate::output::gates;
use crate::output::warnings::Warning;
use crate::summary::{RunOutput, Summary};
use argh::FromArgs;
use std::io::Write;

/// Exit codes (docs/flags.md#exit-codes).
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
    // `-h` is what most tools take for help; argh knows only `--help`.
    for a in args.iter_mut().filter(|a| **a == "-h") {
        *a = "--help";
    }
    // `sweep` takes every `run` flag beside its own, which argh cannot say: it splits them.
    if args.first() == Some(&"sweep") {
        return sweep::sweep(&args[1..]).unwrap_or_else(failed);
    }
    // The seed tool had no subcommands: `llmload --host H --threads 10` means `llmload run …`.
    if args.first().is_some_and(|a| a.starts_with('-') && !matches!(*a, "--help" | "help")) {
        args.insert(0, "run");
    }
    let cli = match Cli::from_args(&["llmload"], &args) {
        Ok(cli) => cli,
        Err(exit) => {
            return if exit.status.is_ok() {
                print_out(&exit.output);
                EXIT_OK
            } else {
                say(&format!("error: {}", crate::config::refused(args.first().copied(), &exit.output)));
                EXIT_USAGE
            };
        }
    };
    let result = match &cli.command {
        Command::Run(a) => run::run(a).map(|(_, code)| code),
        // Reached only if the sweep's arguments were not split off above.
        Command::Sweep(_) => sweep::sweep(&args[1..]),
        Command::Demo(a) => demo::demo(a),
        Command::Mock(a) => mock::serve_mock(a),
        Command::Report(a) => report::report(a),
        Command::Compare(a) => compare::compare(a),
        Command::Probe(a) => probe::probe(a),
    };
    result.unwrap_or_else(failed)
}

/// Says why a command stopped, and its exit code: 130 for an interrupt before anything was
/// measured, else 2.
fn failed(e: Error) -> u8 {
    match e {
        Error::Interrupted { .. } => {
            say(&e.to_string());
            EXIT_INTERRUPTED
        }
        e => {
            say(&format!("error: {e}"));
            EXIT_USAGE
        }
    }
}

/// Writes to stdout, ignoring a closed pipe (`| head` is not an error).
fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// Writes a line to stderr, ignoring a closed pipe: a failed message never ends a run.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// After a run or sweep with `--out-dir`, names the folder and the outputs written there.
fn name_out_dir(dir: Option<&str>, lang: Lang) {
    let Some(dir) = dir else { return };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.flatten().filter_map(|e| e.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    names.sort();
    let listed = if names.is_empty() { lang.pick("nothing", "无").to_string() } else { names.join(", ") };
    say(&lang.pick(format!("outputs in {dir}: {listed}"), format!("输出文件（{dir}）：{listed}")));
}

/// What a finished summary goes to, opened before the run started: the files written at the
/// end, and the thresholds it must meet.
#[derive(Default)]
struct Ends {
    json: Option<OutputFile>,
    vllm_json: Option<OutputFile>,
    series: Option<OutputFile>,
    html: Option<OutputFile>,
    thresholds: Vec<Threshold>,
    /// The language of the summary, the thresholds table and the HTML report.
    lang: Lang,
}

impl Ends {
    /// Whether one of its files is stdout, so the text summary must go to stderr.
    fn holds_stdout(&self) -> bool {
        [&self.json, &self.vllm_json, &self.series, &self.html]
            .into_iter()
            .flatten()
            .any(OutputFile::is_stdout)
    }
}

/// Prints the summary and the thresholds table (to stderr when an output holds stdout), each
/// failed threshold on stderr, writes the JSON files, the series and the HTML report, and picks
/// the exit code: the same for a live run and a rebuilt one. The warnings the summary itself
/// shows join the run's own before anything is written. Each file is written even when another
/// failed; the first failure is the error.
fn finish(summary: &mut Summary, run: &RunOutput, ends: Ends, to_stderr: bool) -> Result<u8, Error> {
    let noticed = crate::output::warnings::after_run(summary);
    summary.warnings.extend(noticed.iter().map(Warning::both));
    summary.check(&ends.thresholds);
    let lang = ends.lang;
    let mut text = crate::output::text::render(summary, lang);
    text += &crate::output::breakdown::tables(summary);
    if !summary.thresholds.is_empty() {
        text += &gates::thresholds(&summary.thresholds, lang);
    }
    if to_stderr {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    } else {
        print_out(&text);
    }
    let failures = gates::threshold_failures(&summary.thresholds, lang);
    for line in &failures {
        say(line);
    }
    let mut failed = None;
    let mut write = |out: Option<OutputFile>, bytes: &dyn Fn() -> Vec<u8>| {
        let Some(mut out) = out else { return };
        if let Err(e) = out.write_all(&bytes()).and_then(|_| out.flush()) {
            let e = Error::Output { flag: out.flag, path: out.path.clone(), problem: e.to_string() };
            failed.get_or_insert(e);
        }
    };
    write(ends.json, &|| summary_json(summary));
    write(ends.vllm_json, &|| vllm_json(summary));
    write(ends.series, &|| crate::export::series::lines(&run.series, run.started_at));
    write(ends.html, &|| {
        let page = Page { summary, series: &run.series, stats: &run.stats, extra: Vec::new(), lang };
        crate::html::page(&page).into_bytes()
    });
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(if summary.interrupted {
        EXIT_INTERRUPTED
    } else if summary.requests.ok == 0 || !failures.is_empty() {
        EXIT_GATE
    } else {
        EXIT_OK
    })
}
