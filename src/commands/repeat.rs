//! `run --repeat N`: the same test N times, each with its own run id (`RUN:rep2`, as a sweep
//! names its levels) and synthetic prompts drawn afresh (so no run finds the last one's in a
//! server's prefix cache), an optional pause between two; then one summary of every run's
//! requests with each headline number's spread across the runs (`summary::Repeats`). An
//! interrupt ends the test after the run it came in, with what ran.

use super::run::{Start, measure};
use super::say;
use crate::config::Config;
use crate::error::Error;
use crate::export::{OutputFile, RecordFiles};
use crate::output::format::{opt_ms, rate};
use crate::output::warnings::Warning;
use crate::summary::{Repeats, RunOutput, Summary};
use crossbeam_channel::{Receiver, after, select};
use std::sync::Arc;

/// A repeated test's end: the summary of all its runs, their pooled run, and the most threads
/// one of them ran.
pub(super) struct Repeated {
    pub summary: Summary,
    pub run: RunOutput,
    pub threads: usize,
}

/// The runs of `config`, their records in `jsonl` and `csv` (one file each, every run's rows
/// in turn), and the summary of them all. `prompts` numbers the test's synthetic prompts (a
/// sweep level's index; 0 for `run`), so that no two runs of a sweep draw the same.
pub(super) fn repeated(
    config: &Arc<Config>,
    mut jsonl: Option<OutputFile>,
    mut csv: Option<OutputFile>,
    interrupts: &Receiver<()>,
    early: &[Warning],
    prompts: usize,
) -> Result<Repeated, Error> {
    let (first, _) = Start::now();
    let (mut summaries, mut runs, mut threads) = (Vec::new(), Vec::new(), 0);
    let n = config.repeat;
    for k in 1..=n {
        if k > 1 && !config.repeat_pause.is_zero() {
            select! {
                recv(interrupts) -> _ => break,
                recv(after(config.repeat_pause)) -> _ => {}
            }
        }
        if !config.quiet {
            say(&config.lang.pick(format!("run {k} of {n}"), format!("第 {k} 次运行（共 {n} 次）")));
        }
        let mut run_config = (**config).clone();
        // Run 1 keeps the prompts it was given; each later run draws its own.
        if k > 1 {
            run_config.reseed(prompts + PROMPT_DRAWS * (k as usize - 1));
        }
        run_config.scale.run_id = format!("{}:rep{k}", config.scale.run_id);
        let records = RecordFiles {
            jsonl: jsonl.as_mut().map(OutputFile::try_clone).transpose()?,
            csv: csv.as_mut().map(OutputFile::try_clone).transpose()?,
            slo: config.slo.clone(),
            continued: k > 1,
        };
        let (start, _) = Start::now();
        let (summary, run, crew) =
            measure(&Arc::new(run_config), records, interrupts.clone(), early, &start, None)?;
        threads = threads.max(crew.threads());
        crew.dismiss(); // the next run starts with none of this one's threads or connections
        if !config.quiet {
            say(&one_line(k, &summary, config.lang));
        }
        let interrupted = summary.interrupted;
        summaries.push(summary);
        runs.push(run);
        if interrupted {
            break;
        }
    }
    let made = summaries.len();
    let pooled =
        RunOutput::pooled(runs).ok_or_else(|| Error::Interrupted { url: config.client.url.clone() })?;
    let (cpu_s, peak_rss) = crate::util::sys::process_usage();
    let usage = Some((cpu_s - first.cpu_s(), peak_rss));
    let mut summary = Summary::reporting(config.describe(), &pooled, usage, &config.percentiles);
    super::run::name_breakdown(&mut summary, config);
    // The verdict of the run the client judged worst: a test is as trustworthy as its worst run.
    if let Some(worst) = summaries.iter().max_by_key(|s| s.client.verdict) {
        let w = &worst.client;
        (summary.client.verdict, summary.client.cause) = (w.verdict, w.cause);
        (summary.client.reasons, summary.client.machine) = (w.reasons.clone(), w.machine);
    }
    summary.repeats = Some(Repeats::of(&summaries));
    debug_assert_eq!(summary.repeats.as_ref().map(|r| r.runs as usize), Some(made));
    Ok(Repeated { summary, run: pooled, threads })
}

/// Apart between two runs' prompt draws: more than a sweep has levels.
const PROMPT_DRAWS: usize = 1 << 16;

/// A run's line as it ends: its rates and latencies, for the person watching.
fn one_line(k: u32, s: &Summary, l: crate::lang::Lang) -> String {
    let m = &s.metrics;
    let (t50, t99) = (opt_ms(m.ttft_ms.map(|d| d.p50)), opt_ms(m.ttft_ms.map(|d| d.p99)));
    let (rps, tps) = (rate(s.throughput.requests_per_s), rate(s.throughput.output_tokens_per_s));
    let (ok, total) = (s.requests.ok, s.requests.total);
    l.pick(
        format!("run {k}: {ok} of {total} ok · {rps} req/s · {tps} output tok/s · TTFT p50 {t50} p99 {t99}"),
        format!(
            "第 {k} 次：{total} 个中 {ok} 个成功 · {rps} req/s · 输出 {tps} tok/s · TTFT p50 {t50} p99 {t99}"
        ),
    )
}
