//! `llmload run`: one load test, from flags to its summary and files.

use super::{Ends, finish, name_out_dir, say};
use crate::cli::RunArgs;
use crate::client::{Client, Preflight, Tls};
use crate::config::Config;
use crate::engine::{self, Crew};
use crate::error::Error;
use crate::export::{OutputFile, RecordFiles};
use crate::lang::Text;
use crate::output::progress::Live;
use crate::output::warnings::{Warning, human};
use crate::summary::verdict::{Inputs, Judgement, Model, judge};
use crate::summary::{Clock, RunOutput, Summary};
use crate::util::sys::cgroup::{CpuCgroup, Throttling};
use crate::util::sys::machine::Snapshot;
use crate::workload::mask_key;
use std::io::Write;
use std::sync::Arc;

/// `llmload run`: one load test, its summary and its files.
pub fn run(a: &RunArgs) -> Result<(Summary, u8), Error> {
    let (config, outputs) = Config::from_args(a)?;
    let config = Arc::new(config);
    if !config.quiet {
        say(&banner(&config));
        if let Some(m) = &config.metrics {
            say(&metrics_line(&config, m.addr));
        }
    }
    if let Some(note) = &config.api_note {
        say(note.get(config.lang));
    }
    let lang = config.lang;
    let warn = |w: &Warning| say(&format!("{}{}", lang.pick("warning: ", "警告："), w.text(lang)));
    let mut early = warnings_before(&config);
    for w in &early {
        warn(w);
    }
    // From here Ctrl-C and SIGTERM are the run's: during the preflight they end it with nothing
    // measured; after it, with a summary.
    let signals = crate::util::sys::signals::Listener::install();
    let interrupts = signals.as_ref().map_or_else(crossbeam_channel::never, |l| l.interrupts.clone());
    if config.preflight {
        let url = &config.client.url;
        // On a terminal, what the wait is for (a slow first token would otherwise look like a hang).
        let status = !config.quiet && crate::util::sys::stderr_is_terminal();
        if status {
            let _ =
                write!(std::io::stderr(), "preflight: one request to {url}, waiting for its first token…");
        }
        let key = config.keys.as_ref().map(|k| k.items()[0].as_str());
        let found = Client::preflight(&config.client, &config.prompts.items()[0], key, &interrupts);
        if status {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
        match found {
            Preflight::Passed => {}
            Preflight::Noted(what) => {
                let w = Warning::PreflightNoted { what };
                warn(&w);
                early.push(w);
            }
            Preflight::Refused(problem) => return Err(Error::Preflight { url: url.clone(), problem }),
            Preflight::Interrupted => return Err(Error::Interrupted { url: url.clone() }),
        }
    }
    let ends = Ends {
        json: outputs.json,
        vllm_json: outputs.vllm_json,
        series: outputs.series,
        html: outputs.html,
        thresholds: outputs.thresholds,
        lang,
    };
    let to_stderr = ends.holds_stdout()
        || [&outputs.records, &outputs.csv].iter().any(|o| o.as_ref().is_some_and(OutputFile::is_stdout));
    let (start, unknown) = Start::now();
    if let Some(w) = unknown {
        warn(&w);
        early.push(w);
    }
    let measured = if config.repeat > 1 {
        super::repeat::repeated(&config, outputs.records, outputs.csv, &interrupts, &early, 0)
            .map(|r| (r.summary, r.run))
    } else {
        let records = RecordFiles {
            jsonl: outputs.records,
            csv: outputs.csv,
            slo: config.slo.clone(),
            continued: false,
        };
        measure(&config, records, interrupts, &early, &start, None).map(|(summary, run, crew)| {
            crew.leave(); // the process ends next: its exit ends the threads and connections at once
            (summary, run)
        })
    };
    if let Some(l) = signals {
        l.close();
    }
    let (mut summary, run) = measured?;
    let code = finish(&mut summary, &run, ends, to_stderr)?;
    name_out_dir(outputs.out_dir.as_deref(), lang);
    Ok((summary, code))
}

/// One load test on `config` and its summary: the engine's run, the warnings said before it
/// (`early`) and during it, the client's own use of the machine since `start`, and the verdict on
/// it; the run's resting threads come back with it. Shared by `run` and every level of `sweep`
/// (whose live line is `live`).
pub(super) fn measure(
    config: &Arc<Config>,
    records: RecordFiles,
    interrupts: crossbeam_channel::Receiver<()>,
    early: &[Warning],
    start: &Start,
    live: Option<Live>,
) -> Result<(Summary, RunOutput, Crew), Error> {
    let (mut run, crew) = engine::run(config.clone(), records, interrupts, live)?;
    let (cpu_s, peak_rss) = crate::util::sys::process_usage();
    let mut warnings: Vec<Text> = early.iter().map(Warning::both).collect();
    warnings.append(&mut run.warnings);
    if let Some(error) = run.records_error.take() {
        warnings.push(Warning::RecordsStopped { error }.into());
    }
    run.warnings = warnings;
    let usage = Some((cpu_s - start.cpu_s, peak_rss));
    let mut summary = Summary::reporting(config.describe(), &run, usage, &config.percentiles);
    name_breakdown(&mut summary, config);
    summary.client.judged(start.verdict(&summary, config));
    Ok((summary, run, crew))
}

/// The client's own use of the machine, and the machine's, when the run starts, for the verdict
/// on it.
pub(super) struct Start {
    /// CPU seconds the process had used.
    cpu_s: f64,
    /// Its CPU cgroup and that cgroup's throttle counts; `None` when they cannot be read.
    cgroup: Option<(CpuCgroup, Throttling)>,
    /// The CPUs it may run on, and their CPU time; `None` where `/proc/stat` cannot be read.
    machine: Option<(Vec<usize>, Snapshot)>,
}

impl Start {
    /// The CPU seconds the process had used when this was taken.
    pub(super) fn cpu_s(&self) -> f64 {
        self.cpu_s
    }

    /// Now, and a warning (said once; the run goes on) when the cgroup cannot be read.
    pub(super) fn now() -> (Start, Option<Warning>) {
        let cgroup = CpuCgroup::read().and_then(|c| c.throttling().map(|t| (c, t)));
        let cpu_s = crate::util::sys::process_usage().0;
        let cpu_set = crate::util::sys::cpu_set();
        let machine = Snapshot::now(&cpu_set, cpu_s).map(|s| (cpu_set, s));
        match cgroup {
            Ok(cgroup) => (Start { cpu_s, cgroup: Some(cgroup), machine }, None),
            Err(problem) => {
                (Start { cpu_s, cgroup: None, machine }, Some(Warning::CgroupUnknown { problem }))
            }
        }
    }

    /// The verdict on the run `s` sums up, of `config`'s load model: its read and start lags
    /// against the gaps they distort, the CPU it used since the start, the cores it may use,
    /// how often its cgroup throttled it, and how busy other work kept the machine.
    fn verdict(&self, s: &Summary, config: &Config) -> Judgement {
        let quota_cores = self.cgroup.as_ref().and_then(|(c, _)| c.quota_cores);
        let throttling = self.cgroup.as_ref().and_then(|(c, at)| Some(c.throttling().ok()?.since(*at)));
        let machine = self.machine.as_ref().and_then(|(cpus, at)| {
            let now = Snapshot::now(cpus, crate::util::sys::process_usage().0)?;
            now.since(at, s.wall_s)
        });
        let model = match config.pacing.open {
            Some(open) => Model::Open { rate: open.rate },
            None => Model::Closed,
        };
        let c = &s.client;
        judge(&Inputs {
            model,
            kernel_clock: c.clock == Clock::Kernel,
            read_lag_p99_ms: c.read_lag_ms.as_ref().map(|d| d.p99),
            gaps_read_together: c.gaps_read_together,
            itl_p50_ms: s.metrics.itl_ms.as_ref().map(|d| d.p50),
            ttft_p50_ms: s.metrics.ttft_ms.as_ref().map(|d| d.p50),
            start_lag_mean_ms: c.start_lag_ms.as_ref().map(|d| d.mean),
            start_lag_p99_ms: c.start_lag_ms.as_ref().map(|d| d.p99),
            cpu_s: c.cpu_s,
            wall_s: s.wall_s,
            window_s: s.window_s,
            cpus: crate::util::sys::cpus(),
            quota_cores,
            throttling,
            machine,
        })
    }
}

/// Where `--metrics-listen` serves the live metrics (the port the OS chose for `:0`).
fn metrics_line(c: &Config, addr: std::net::SocketAddr) -> String {
    c.lang.pick(format!("live metrics: http://{addr}/metrics"), format!("实时指标：http://{addr}/metrics"))
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
    w.extend(c.prompts_skipped.clone());
    if let Some((limit, need)) = crate::util::sys::raise_open_file_limit(p.concurrency) {
        w.push(Warning::FileLimit { limit, need, workers: p.concurrency });
    }
    w
}

/// The line that says what is about to happen, keys masked, in the run's language (the API,
/// the URL, the arrival and the flags named as they are given).
fn banner(c: &Config) -> String {
    let (p, l) = (&c.pacing, c.lang);
    let how_long = match (p.duration, p.requests) {
        (Some(d), Some(n)) => {
            let d = human(d);
            l.pick(format!("for {d} or {n} requests"), format!("持续 {d} 或 {n} 个请求"))
        }
        (Some(d), None) => l.pick(format!("for {}", human(d)), format!("持续 {}", human(d))),
        (None, Some(n)) => l.pick(format!("{n} requests"), format!("{n} 个请求")),
        (None, None) if c.trace.is_some() => {
            let n = c.trace.as_ref().map_or(0, |t| t.len());
            l.pick(format!("{n} requests, to the trace's end"), format!("{n} 个请求，至轨迹结束"))
        }
        (None, None) => l.pick("one request per worker", "每个工作线程一个请求").into(),
    };
    let ramp = match p.ramp_up.is_zero() {
        true => String::new(),
        false => l.pick(format!(" (ramp-up {})", human(p.ramp_up)), format!("（爬坡 {}）", human(p.ramp_up))),
    };
    let workers = match (p.open, p.concurrency) {
        (Some(o), max) if o.arrival == crate::workload::Arrival::Trace => {
            let rate = crate::util::decimals::round(o.rate, 3);
            l.pick(
                format!("a trace, {rate} req/s on average, at most {max} in flight"),
                format!("回放轨迹，平均 {rate} req/s，至多 {max} 个同时进行"),
            )
        }
        (Some(o), max) => {
            let (rate, arrival) = (o.rate, o.arrival.name());
            l.pick(
                format!("{rate} req/s {arrival}{ramp}, at most {max} in flight"),
                format!("{rate} req/s {arrival}{ramp}，至多 {max} 个同时进行"),
            )
        }
        (None, 1) => l.pick("1 worker", "1 个工作线程").to_string(),
        (None, n) => l.pick(format!("{n} workers{ramp}"), format!("{n} 个工作线程{ramp}")),
    };
    let keys = match &c.keys {
        None => l.pick("no API key", "无 API key").to_string(),
        Some(k) if k.len() == 1 => l.pick("key ", "密钥 ").to_string() + &mask_key(&k.items()[0]),
        Some(k) => l.pick(format!("{} keys round-robin", k.len()), format!("{} 个密钥轮流使用", k.len())),
    };
    let n = c.prompts.len();
    let source = match c.prompt_source.as_str() {
        "default" => l.pick("default", "默认"),
        flag => flag,
    };
    let prompts = match n {
        1 => l.pick(format!("1 prompt from {source}"), format!("1 个提示词（来源：{source}）")),
        n => l.pick(format!("{n} prompts from {source}"), format!("{n} 个提示词（来源：{source}）")),
    };
    format!(
        "llmload {} → {} {} · {workers} · {how_long} · {prompts} · {keys}",
        env!("CARGO_PKG_VERSION"),
        c.api,
        c.client.url,
    )
}

/// Characters of a prompt that `by_prompt` shows.
const PROMPT_SNIPPET: usize = 40;

/// A prompt's first characters on one line (whitespace runs as one space), `…` where cut.
/// Names the summary's rows by key and by prompt from `config`'s keys (masked) and prompts.
pub(super) fn name_breakdown(summary: &mut Summary, config: &Config) {
    summary.name_breakdown(
        |i| config.keys.as_ref().and_then(|k| k.items().get(i)).map(|k| mask_key(k)),
        |i| config.prompts.items().get(i).map(|p| prompt_snippet(&p.input_text())),
    );
}

fn prompt_snippet(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(PROMPT_SNIPPET) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_snippet_is_one_short_line() {
        assert_eq!(prompt_snippet("  你好\n  world "), "你好 world");
        assert_eq!(prompt_snippet(&"字".repeat(50)), format!("{}…", "字".repeat(40)));
    }
}
