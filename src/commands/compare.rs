//! `llmload compare BASE.json NEW.json [--fail-if EXPR]…`: two JSON summaries side by side (the
//! headline metrics with their absolute and relative change) and the gates on that change.
//! Either file may be a sweep's JSON: `--level c8` names the level of it to compare, and a sweep
//! without one is refused with the levels the files have. Refuses a file that is neither an
//! llmload summary nor a sweep's JSON, or two summaries of different versions, naming the file.
//! Exit 1 when a gate is breached, each listed on stderr.
//!
//! Either side may instead be a run's `--records` files (told from a summary by their first
//! line), or several runs' joined by commas (`a1.jsonl,a2.jsonl`): the summary is rebuilt from
//! them as `llmload report` does (files of one run id merged as one run; several runs' numbers
//! each the mean over the runs), and the per-request samples of every run are pooled. With
//! records on both sides, each per-request row says whether its change is significant (a seeded
//! bootstrap interval, `stats::significance`) and a Mann–Whitney test says whether each
//! distribution shifted; a `--fail-if … significant` gate needs them and is refused on summaries.

use super::rebuild;
use super::{EXIT_GATE, EXIT_OK, print_out, say};
use crate::cli::CompareArgs;
use crate::config::ComparePlan;
use crate::config::Level;
use crate::error::Error;
use crate::export::records::Record;
use crate::gate::Subject;
use crate::gate::fail_if::{SAMPLED, sampled};
use crate::output::gates::{self, Row, Shift};
use crate::stats::significance::{self, Interval, Statistic};
use crate::summary::Summary;
use crate::util::files::{self, cap};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};

/// The rows every comparison shows, before the gated subjects it does not already show.
const HEADLINE: &[&str] = &[
    "req_s",
    "output_tok_s",
    "success_rate",
    "ttft.p50",
    "ttft.p99",
    "itl.p50",
    "itl.p99",
    "tpot.p50",
    "tpot.p99",
    "e2e.p50",
    "e2e.p99",
];

/// The distributions the Mann–Whitney lines test, each as `SAMPLED` names it.
const SHIFTS: &[&str] = &["ttft", "itl", "tpot", "e2e"];

pub fn compare(a: &CompareArgs) -> Result<u8, Error> {
    let ComparePlan { lang, gates, level } = ComparePlan::from_args(a)?;
    let (base_records, new_records) = (records(&a.base)?, records(&a.new)?);
    if base_records.is_none() || new_records.is_none() {
        if let Some(g) = gates.iter().find(|g| g.significant) {
            let summary = if base_records.is_none() { &a.base } else { &a.new };
            return Err(Error::Usage(format!(
                "--fail-if {:?} tests the change in {} against each request's value, and {summary} is a JSON summary (percentiles only, no per-request samples): give both runs' records files (`llmload run --records FILE`), as in llmload compare base.jsonl new.jsonl --fail-if {:?}",
                g.expr, g.subject, g.expr
            )));
        }
    }
    let (base, base_samples, base_level) = match base_records {
        Some(files) => side(&files, level.as_ref())?,
        None => (document(&a.base)?, None, false),
    };
    let (new, new_samples, new_level) = match new_records {
        Some(files) => side(&files, level.as_ref())?,
        None => (document(&a.new)?, None, false),
    };
    // A level a sweep's records used is not `pick`'s to refuse when no sweep's JSON is left.
    let sweep_json = [&base, &new].iter().any(|d| matches!(d, Document::Sweep(_)));
    let level = if (base_level || new_level) && !sweep_json { None } else { level };
    let (base, new, names) = pick(a, base, new, level.as_ref())?;
    let (base_name, new_name) = (&names.0, &names.1);
    let samples = base_samples.as_ref().zip(new_samples.as_ref());
    if base["version"] != new["version"] {
        return Err(Error::Usage(format!(
            "{base_name} is a version {} summary and {new_name} version {}: compare summaries of one version (rebuild the older run's summary with this llmload: `llmload report RECORDS --json FILE`)",
            base["version"], new["version"]
        )));
    }
    let mut subjects: Vec<Subject> = HEADLINE.iter().filter_map(|s| Subject::parse(s).ok()).collect();
    for g in &gates {
        if !subjects.iter().any(|s| s.to_string() == g.subject.to_string()) {
            subjects.push(g.subject);
        }
    }
    let interval = |s: &Subject| -> Option<Interval> {
        let (b, n) = samples?;
        let (metric, stat) = sampled(s).ok()?;
        let at = SAMPLED.iter().position(|m| *m == metric)?;
        significance::bootstrap(&b.by[at], &n.by[at], stat, significance::SEED)
    };
    let rows: Vec<Row> = subjects
        .iter()
        .map(|s| Row {
            label: s.to_string(),
            kind: s.kind(),
            base: s.value(&base),
            new: s.value(&new),
            interval: interval(s),
        })
        .collect();
    let mut text = gates::compare(base_name, new_name, &rows, samples.is_some(), lang);
    if let Some((b, n)) = samples {
        text += &gates::shifts(&shifts(b, n), lang);
    }
    let checked: Vec<_> = gates
        .iter()
        .map(|g| {
            let judged = if g.significant {
                rows.iter().find(|r| r.label == g.subject.to_string()).and_then(|r| r.interval)
            } else {
                None
            };
            (g, g.check(&base, &new, judged))
        })
        .collect();
    if !checked.is_empty() {
        text += &gates::gates(&checked, lang);
    }
    print_out(&text);
    let breaches = gates::breaches(&checked);
    for line in &breaches {
        say(line);
    }
    Ok(if breaches.is_empty() { EXIT_OK } else { EXIT_GATE })
}

/// Each successful request's values of each `SAMPLED` metric, in its order: one value (none
/// where the request had none), or, for `itl`, every gap.
#[derive(Default)]
struct Samples {
    by: [Vec<Vec<f64>>; SAMPLED.len()],
}

impl Samples {
    fn add(&mut self, r: &Record) {
        if r.outcome != "ok" {
            return;
        }
        for (at, metric) in SAMPLED.iter().enumerate() {
            let v = match *metric {
                "ttfb" => r.ttfb_ms.into_iter().collect(),
                "ttfe" => r.ttfe_ms.into_iter().collect(),
                "ttft" => r.ttft_ms.into_iter().collect(),
                "ttfa" => r.ttfa_ms.into_iter().collect(),
                "itl" => r.itl_ms.clone(),
                "tpot" => r.tpot_ms.into_iter().collect(),
                _ => vec![r.e2e_ms],
            };
            self.by[at].push(v);
        }
    }

    /// One value a request for the Mann–Whitney test: its own, or its median gap.
    fn per_request(&self, metric: &str) -> Vec<f64> {
        let at = SAMPLED.iter().position(|m| *m == metric).unwrap_or(0);
        self.by[at].iter().filter_map(|v| Statistic::Quantile(0.5).of(&mut v.clone())).collect()
    }
}

/// The Mann–Whitney test of each of `SHIFTS` that both sides measured.
fn shifts(base: &Samples, new: &Samples) -> Vec<Shift> {
    SHIFTS
        .iter()
        .filter_map(|&metric| {
            let (b, n) = (base.per_request(metric), new.per_request(metric));
            let test = significance::mann_whitney(&b, &n)?;
            Some(Shift { metric, n_base: b.len(), n_new: n.len(), test })
        })
        .collect()
}

/// The records files `arg` names, or `None` when it names a JSON summary: one path, or several
/// joined by commas (when no file has the whole name). Every one must be a records file.
fn records(arg: &str) -> Result<Option<Vec<String>>, Error> {
    let paths: Vec<String> = if arg.contains(',') && !std::path::Path::new(arg).exists() {
        arg.split(',').filter(|p| !p.trim().is_empty()).map(|p| p.trim().to_string()).collect()
    } else {
        vec![arg.to_string()]
    };
    let mut all = true;
    for p in &paths {
        let is = first_record(p)?.is_some();
        if !is && paths.len() > 1 {
            return Err(Error::file(
                "compare",
                p,
                format!(
                    "is not a records file (`llmload run --records`): a list joined by commas ({arg}) is of records files, each one run's or part of one"
                ),
            ));
        }
        all &= is;
    }
    Ok(all.then_some(paths))
}

/// The first record of `path`, when its first line that is not blank is one.
fn first_record(path: &str) -> Result<Option<Record>, Error> {
    let mut r = BufReader::new(files::open("compare", path, cap::RECORDS)?);
    let mut line = Vec::new();
    // A records line is at most a few MiB; a summary's first line is `{`.
    for _ in 0..1000 {
        line.clear();
        let n = r.by_ref().take(64 << 20).read_until(b'\n', &mut line);
        if n.map_err(|e| Error::file("compare", path, format!("cannot be read ({e})")))? == 0 {
            return Ok(None);
        }
        if !line.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::from_slice::<Record>(&line).ok());
        }
    }
    Ok(None)
}

/// One side's summary, rebuilt from its records files, and its samples. Files of one run id are
/// merged as one run (its shards), a repeated run's file gives each of its runs; several runs
/// give each number's mean over the runs, and their samples pooled. A sweep's records are one level's, by `--level` (and then the last is true).
fn side(paths: &[String], level: Option<&Level>) -> Result<(Document, Option<Samples>, bool), Error> {
    let mut runs: Vec<(Option<String>, Vec<String>)> = Vec::new();
    for p in paths {
        let id = first_record(p)?.and_then(|r| r.run_id);
        match runs.iter_mut().find(|(r, _)| id.is_some() && *r == id) {
            Some((_, files)) => files.push(p.clone()),
            None => runs.push((id, vec![p.clone()])),
        }
    }
    let mut samples = Samples::default();
    let (mut summaries, mut used_level) = (Vec::new(), false);
    for (_, files) in &runs {
        let mut each = |r: &Record| samples.add(r);
        // A repeated run's records (`run --repeat`): each of its runs is a run here.
        if let Some(ids) = rebuild::repeat_runs(files)? {
            summaries.extend(each_run(files, &ids, &mut each)?);
            continue;
        }
        let rebuilt = match rebuild::sweep_levels(files)? {
            None => rebuild::rebuild(files, false, None, Some(&mut each))?,
            Some(sweep) => {
                let names = sweep.levels.iter().map(|l| l.label.as_str()).collect::<Vec<_>>().join(", ");
                let Some(want) = level else {
                    return Err(Error::Usage(format!(
                        "{} holds a sweep's records (levels {names}): name the level to compare with --level",
                        files.join(", ")
                    )));
                };
                let Some(l) = sweep.levels.iter().find(|l| want.is(&l.label)) else {
                    return Err(Error::Usage(format!(
                        "--level {} names no level of {}: its levels are {names} (give one of them)",
                        want.text,
                        files.join(", ")
                    )));
                };
                used_level = true;
                // A level the sweep repeated: each of its runs is a run here.
                if !l.runs.is_empty() {
                    summaries.extend(each_run(files, &l.runs, &mut each)?);
                    continue;
                }
                rebuild::rebuild_run(files, &l.run_id, false, None, Some(&mut each))?
            }
        };
        let summary = Summary::new(json!({ "source": files }), &rebuilt.run, None);
        // Plain structs, string map keys and finite-or-null floats: serializing cannot fail.
        summaries.push(serde_json::to_value(&summary).unwrap_or_default());
    }
    Ok((Document::Run(mean(&summaries)), Some(samples), used_level))
}

/// The summary of each run `ids` names in `files` (a repeated test's), `each` seeing their records.
fn each_run(files: &[String], ids: &[String], each: &mut dyn FnMut(&Record)) -> Result<Vec<Value>, Error> {
    ids.iter()
        .map(|id| {
            let rebuilt = rebuild::rebuild_run(files, id, false, None, Some(&mut *each))?;
            let summary = Summary::new(json!({ "source": files }), &rebuilt.run, None);
            // Plain structs, string map keys and finite-or-null floats: serializing cannot fail.
            Ok(serde_json::to_value(&summary).unwrap_or_default())
        })
        .collect()
}

/// The summaries' mean: each number the mean of the numbers at its place (those that have one;
/// one the same in all stays as it is, as `version`), anything else the first's.
fn mean(all: &[Value]) -> Value {
    match all {
        [] => Value::Null,
        [one] => one.clone(),
        [first, ..] => match first {
            Value::Object(m) => Value::Object(
                m.keys()
                    .map(|k| (k.clone(), mean(&all.iter().map(|v| v[k].clone()).collect::<Vec<_>>())))
                    .collect(),
            ),
            Value::Number(_) if all.iter().all(|v| v == first) => first.clone(),
            Value::Number(_) => {
                let ns: Vec<f64> = all.iter().filter_map(Value::as_f64).collect();
                json!(ns.iter().sum::<f64>() / ns.len() as f64)
            }
            other => other.clone(),
        },
    }
}

/// What a file given to `compare` holds.
enum Document {
    /// A run's JSON summary.
    Run(Value),
    /// A sweep's JSON (docs/sweep.md): its levels, each with its label and summary.
    Sweep(Value),
}

/// The JSON summary or sweep JSON at `path`, or why it is neither.
fn document(path: &str) -> Result<Document, Error> {
    let bytes = files::read("compare", path, cap::SMALL)?;
    let fix = "give a summary written by `llmload run --json` or `llmload report --json`, or a sweep's by `llmload sweep --json`";
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::file("compare", path, format!("is not JSON ({e}): {fix}")))?;
    if v["kind"] == "sweep" && v["levels"].is_array() {
        return Ok(Document::Sweep(v));
    }
    summary(path, v, fix).map(Document::Run)
}

/// `v`, when it is an llmload summary.
fn summary(path: &str, v: Value, fix: &str) -> Result<Value, Error> {
    if v["tool"]["name"] != "llmload" || !v["version"].is_u64() {
        return Err(Error::file(
            "compare",
            path,
            format!(
                "is not an llmload summary (no \"version\" and \"tool\": {{\"name\": \"llmload\"}}): {fix}"
            ),
        ));
    }
    Ok(v)
}

/// A sweep's level labels, in order, each once.
fn labels(sweep: &Value) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for l in sweep["levels"].as_array().into_iter().flatten() {
        if let Some(label) = l["label"].as_str()
            && !labels.iter().any(|x| x == label)
        {
            labels.push(label.to_string());
        }
    }
    labels
}

/// The summaries to compare and the names to show them by: a run's summary as it is, a
/// sweep's level `--level` names (its last measurement, for a `--find` level measured more
/// than once). A sweep without `--level`, or a `--level` with no sweep, is refused with the
/// levels the files have.
fn pick(
    a: &CompareArgs,
    base: Document,
    new: Document,
    level: Option<&Level>,
) -> Result<(Value, Value, (String, String)), Error> {
    let sweeps: Vec<(&str, Vec<String>)> = [(&a.base, &base), (&a.new, &new)]
        .into_iter()
        .filter_map(|(p, d)| match d {
            Document::Sweep(v) => Some((p.as_str(), labels(v))),
            Document::Run(_) => None,
        })
        .collect();
    let Some(level) = level else {
        if let (Document::Run(base), Document::Run(new)) = (base, new) {
            return Ok((base, new, (a.base.clone(), a.new.clone())));
        }
        let each: Vec<String> = sweeps.iter().map(|(p, l)| format!("{p} has {}", l.join(", "))).collect();
        let both: Vec<&String> =
            sweeps[0].1.iter().filter(|l| sweeps.iter().all(|(_, ls)| ls.contains(l))).collect();
        let fix = match both.first() {
            Some(first) if sweeps.len() == 2 => format!(
                "name the level to compare with --level, e.g. --level {first} (in both: {})",
                both.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", ")
            ),
            Some(first) => format!("name the level to compare with --level, e.g. --level {first}"),
            None => "no level is in both, so none can be compared".to_string(),
        };
        let what = if sweeps.len() == 2 { "both are sweeps" } else { "one is a sweep" };
        return Err(Error::Usage(format!(
            "compare {} {}: {what} ({}): {fix}",
            a.base,
            a.new,
            each.join("; ")
        )));
    };
    if sweeps.is_empty() {
        return Err(Error::Usage(format!(
            "--level {} picks a level of a sweep's JSON, and {} and {} are run summaries: leave --level out",
            level.text, a.base, a.new
        )));
    }
    let side = |path: &str, d: Document| -> Result<(Value, String), Error> {
        match d {
            Document::Run(v) => Ok((v, path.to_string())),
            Document::Sweep(mut v) => {
                let found = v["levels"].as_array_mut().and_then(|ls| {
                    ls.iter_mut().rev().find(|l| l["label"].as_str().is_some_and(|t| level.is(t)))
                });
                let Some(l) = found else {
                    return Err(Error::file(
                        "compare",
                        path,
                        format!(
                            "has no level {}: its levels are {} (give one of them to --level)",
                            level.text,
                            labels(&v).join(", ")
                        ),
                    ));
                };
                let name = format!("{path} {}", l["label"].as_str().unwrap_or(&level.text));
                let s = summary(path, l["summary"].take(), "a level's summary is a run's JSON summary")?;
                Ok((s, name))
            }
        }
    };
    let (b, b_name) = side(&a.base, base)?;
    let (n, n_name) = side(&a.new, new)?;
    Ok((b, n, (b_name, n_name)))
}
