//! `llmload report`: the summary of a run rebuilt from its records files, with the API and URL
//! the records name and no client usage (the records cannot know it); the records again as CSV
//! (`--csv`), the goodput against `--slo` (judged again from the records), the vLLM result keys,
//! the thresholds, the series and the HTML report, as a live run has them. A sweep's records
//! (every level's in one file, each record's run id ending with its level) give one summary per
//! level: the sweep's table, its JSON and its HTML page, as the live sweep writes them; or, with
//! `--level c8`, that level alone, as a run. It does not rebuild `--find`'s capacity (the
//! search's decisions are not in the records).

use super::rebuild::{Rebuilt, SweepLevel, SweepLevels};
use super::sweep::{JsonLevel, sweep_json};
use super::{EXIT_GATE, EXIT_OK, Ends, finish, print_out, say};
use crate::cli::ReportArgs;
use crate::config::ReportPlan;
use crate::error::Error;
use crate::export::csv;
use crate::output::gates;
use crate::output::sweep::{Row, header, row};
use crate::output::warnings::Warning;
use crate::slo::Slo;
use crate::stats::Percentiles;
use crate::summary::Summary;
use serde_json::{Value, json};
use std::io::{BufWriter, Write};

/// `llmload report`: the summary of a run rebuilt from its records, or of each level of a
/// sweep's.
pub fn report(a: &ReportArgs) -> Result<u8, Error> {
    let plan = ReportPlan::from_args(a)?;
    let files = a.records.join(", ");
    match (super::rebuild::sweep_levels(&a.records)?, &plan.level) {
        (None, None) => one(a, plan, None),
        (Some(sweep), None) => levels(a, plan, &sweep),
        (Some(sweep), Some(want)) => {
            let Some(level) = sweep.levels.iter().find(|l| want.is(&l.label)) else {
                return Err(Error::Usage(format!(
                    "--level {} names no level of {files}: its levels are {} (give one of them)",
                    want.text,
                    labels(&sweep)
                )));
            };
            let level = level.clone();
            one(a, plan, Some(&level))
        }
        (None, Some(want)) => Err(Error::Usage(format!(
            "--level {} picks a level of a sweep's records, and {files} hold no sweep's (their run ids do not end with a level, as sweep-…:c8 does): leave --level out",
            want.text
        ))),
    }
}

/// The levels' labels, in order: `c1, c2, c4`.
fn labels(sweep: &SweepLevels) -> String {
    sweep.levels.iter().map(|l| l.label.as_str()).collect::<Vec<_>>().join(", ")
}

/// The first level's label, for a `--level` to suggest.
fn first_label(sweep: &SweepLevels) -> &str {
    sweep.levels.first().map_or("c1", |l| l.label.as_str())
}

/// The summary's `config`: the files read, the objectives, and the API and URL the records name.
fn config(a: &ReportArgs, slo: Option<&Slo>, percentiles: &Percentiles, rebuilt: &Rebuilt) -> Value {
    let mut config = json!({ "source": a.records });
    if let Some(slo) = slo {
        config["slo"] = json!(slo.to_string());
    }
    if !percentiles.is_standard() {
        config["percentiles"] = json!(percentiles.as_slice());
    }
    if let Some(o) = &rebuilt.origin {
        config["api"] = json!(o.api);
        config["url"] = json!(o.url);
    }
    config
}

/// One run's summary: every record of the files, or those of `only` (a sweep's level).
fn one(a: &ReportArgs, plan: ReportPlan, only: Option<&SweepLevel>) -> Result<u8, Error> {
    let ends = Ends {
        json: plan.json,
        vllm_json: plan.vllm_json,
        series: plan.series,
        html: plan.html,
        thresholds: plan.thresholds,
        lang: plan.lang,
    };
    let mut csv_out = plan.csv.map(|o| (o.flag, o.path.clone(), BufWriter::new(o)));
    let mut csv_error = None;
    if let Some((_, _, w)) = &mut csv_out {
        csv_error = w.write_all(&csv::header()).err();
    }
    let series = a.series.is_some() || a.html.is_some();
    let mut row = |r: &_| {
        if let (Some((_, _, w)), None) = (&mut csv_out, &csv_error) {
            csv_error = w.write_all(&csv::row(r)).err();
        }
    };
    let each: Option<&mut dyn FnMut(&_)> = if a.csv.is_some() { Some(&mut row) } else { None };
    let slo = plan.slo.as_ref();
    let (rebuilt, runs) = match only {
        Some(level) => rebuild_level(&a.records, level, series, slo, each)?,
        None => match super::rebuild::repeat_runs(&a.records)? {
            Some(ids) => repeated(&a.records, &ids, series, slo, each)?,
            None => (super::rebuild::rebuild(&a.records, series, slo, each)?, Vec::new()),
        },
    };
    if let Some((flag, path, w)) = csv_out {
        let flushed = w.into_inner().map_err(|e| e.into_error()).and_then(|mut f| f.flush());
        if let Some(e) = csv_error.or(flushed.err()) {
            return Err(Error::Output { flag, path, problem: e.to_string() });
        }
    }
    let percentiles = &plan.percentiles;
    let mut summary =
        Summary::reporting(config(a, slo, percentiles, &rebuilt), &rebuilt.run, None, percentiles);
    if !runs.is_empty() {
        summary.repeats = Some(crate::summary::Repeats::of(&runs));
    }
    let to_stderr = ends.holds_stdout() || a.csv.as_deref() == Some("-");
    finish(&mut summary, &rebuilt.run, ends, to_stderr)
}

/// A sweep level's records: its run's, or each of its runs' pooled when the sweep repeated it;
/// with the runs' summaries then.
fn rebuild_level(
    paths: &[String],
    level: &SweepLevel,
    series: bool,
    slo: Option<&Slo>,
    each: Option<&mut dyn FnMut(&crate::export::records::Record)>,
) -> Result<(Rebuilt, Vec<Summary>), Error> {
    match level.runs.is_empty() {
        true => Ok((super::rebuild::rebuild_run(paths, &level.run_id, series, slo, each)?, Vec::new())),
        false => repeated(paths, &level.runs, series, slo, each),
    }
}

/// A repeated test's records (`run --repeat`): each run rebuilt on its own, in the order run,
/// and all of them pooled as the live test pooled them; the runs' summaries give the spread.
fn repeated(
    paths: &[String],
    ids: &[String],
    series: bool,
    slo: Option<&Slo>,
    mut each: Option<&mut dyn FnMut(&crate::export::records::Record)>,
) -> Result<(Rebuilt, Vec<Summary>), Error> {
    let (mut outputs, mut summaries, mut origin) = (Vec::new(), Vec::new(), None);
    for id in ids {
        let each_run: Option<&mut dyn FnMut(&_)> = match &mut each {
            Some(f) => Some(&mut **f),
            None => None,
        };
        let rebuilt = super::rebuild::rebuild_run(paths, id, series, slo, each_run)?;
        summaries.push(Summary::new(json!({}), &rebuilt.run, None));
        origin = origin.or(rebuilt.origin);
        outputs.push(rebuilt.run);
    }
    let run = crate::summary::RunOutput::pooled(outputs)
        .ok_or_else(|| Error::Usage(format!("{}: no records of the repeated runs", paths.join(", "))))?;
    Ok((Rebuilt { run, origin }, summaries))
}

/// A sweep's records, every level: the sweep's table, `--json` the sweep's JSON and `--html`
/// its page. Exit 1 when a `--threshold` fails at a level or no level had a request succeed,
/// as the live sweep's.
fn levels(a: &ReportArgs, plan: ReportPlan, sweep: &SweepLevels) -> Result<u8, Error> {
    let one_run = [("--csv", &a.csv), ("--vllm-json", &a.vllm_json), ("--series", &a.series)];
    if let Some((flag, _)) = one_run.iter().find(|(_, p)| p.is_some()) {
        let first = first_label(sweep);
        return Err(Error::Usage(format!(
            "{flag} writes what one run has, and {} holds the levels {} of the sweep {}: add --level {first} (or another) to write one level's",
            a.records.join(", "),
            labels(sweep),
            sweep.run_id
        )));
    }
    let (mut json, mut html) = (plan.json, plan.html);
    let to_stderr =
        json.as_ref().is_some_and(|o| o.is_stdout()) || html.as_ref().is_some_and(|o| o.is_stdout());
    let lang = plan.lang;
    let show = |text: &str| {
        if to_stderr {
            say(text.trim_end_matches('\n'));
        } else {
            print_out(text);
        }
    };
    let (files, n, first) = (a.records.join(", "), sweep.levels.len(), first_label(sweep));
    say(&lang.pick(
        format!(
            "{files}: the sweep {}, {n} level{} ({}); --level {first} reports one as a run",
            sweep.run_id,
            if n == 1 { "" } else { "s" },
            labels(sweep),
        ),
        format!(
            "{files}：扫描 {}，{n} 个级别（{}）；--level {first} 把其中一级作为一次运行报告",
            sweep.run_id,
            labels(sweep)
        ),
    ));
    // Records hold requests only: a rebuilt level has no server block, and no server columns.
    show(&format!("{}\n", header(lang, false)));
    let mut done: Vec<(&SweepLevel, Summary)> = Vec::new();
    for level in &sweep.levels {
        let (rebuilt, runs) = rebuild_level(&a.records, level, false, plan.slo.as_ref(), None)?;
        let config = config(a, plan.slo.as_ref(), &plan.percentiles, &rebuilt);
        let mut summary = Summary::reporting(config, &rebuilt.run, None, &plan.percentiles);
        if !runs.is_empty() {
            summary.repeats = Some(crate::summary::Repeats::of(&runs));
        }
        let noticed = crate::output::warnings::after_run(&summary);
        summary.warnings.extend(noticed.iter().map(Warning::both));
        summary.check(&plan.thresholds);
        show(&format!("{}\n", row(&Row::of(&level.label, &summary), false)));
        done.push((level, summary));
    }
    for (level, summary) in &done {
        for w in &summary.warnings {
            say(&format!("{}: {}", level.label, w.get(lang)));
        }
        for line in gates::threshold_failures(&summary.thresholds, lang) {
            say(&format!("{}: {line}", level.label));
        }
    }
    let mut failed = None;
    if let Some(out) = &mut json {
        let levels: Vec<JsonLevel> = done
            .iter()
            .map(|(l, s)| JsonLevel { value: l.value, label: &l.label, threads: None, summary: s })
            .collect();
        let bytes = sweep_json(&sweep.run_id, &levels, None);
        if let Err(e) = out.write_all(&bytes).and_then(|_| out.flush()) {
            failed.get_or_insert(Error::Output {
                flag: out.flag,
                path: out.path.clone(),
                problem: e.to_string(),
            });
        }
    }
    if let Some(out) = &mut html {
        let levels: Vec<crate::html::sweep::Level> = done
            .iter()
            .map(|(l, s)| crate::html::sweep::Level { label: &l.label, value: l.value, summary: s })
            .collect();
        let page = crate::html::sweep::page(&levels, None, lang);
        if let Err(e) = out.write_all(page.as_bytes()).and_then(|_| out.flush()) {
            failed.get_or_insert(Error::Output {
                flag: out.flag,
                path: out.path.clone(),
                problem: e.to_string(),
            });
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    let gate_failed = done.iter().any(|(_, s)| s.thresholds.iter().any(|t| !t.pass));
    Ok(if gate_failed || done.iter().all(|(_, s)| s.requests.ok == 0) { EXIT_GATE } else { EXIT_OK })
}
