//! `llmload compare BASE.json NEW.json [--fail-if EXPR]…`: two JSON summaries side by side (the
//! headline metrics with their absolute and relative change) and the gates on that change.
//! Either file may be a sweep's JSON: `--level c8` names the level of it to compare, and a sweep
//! without one is refused with the levels the files have. Refuses a file that is neither an
//! llmload summary nor a sweep's JSON, or two summaries of different versions, naming the file.
//! Exit 1 when a gate is breached, each listed on stderr.

use super::{EXIT_GATE, EXIT_OK, print_out, say};
use crate::cli::CompareArgs;
use crate::config::ComparePlan;
use crate::config::Level;
use crate::error::Error;
use crate::gate::Subject;
use crate::output::gates::{self, Row};
use crate::util::files::{self, cap};
use serde_json::Value;

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

pub fn compare(a: &CompareArgs) -> Result<u8, Error> {
    let ComparePlan { lang, gates, level } = ComparePlan::from_args(a)?;
    let (base, new) = (document(&a.base)?, document(&a.new)?);
    let (base, new, names) = pick(a, base, new, level.as_ref())?;
    let (base_name, new_name) = (&names.0, &names.1);
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
    let rows: Vec<Row> = subjects
        .iter()
        .map(|s| Row { label: s.to_string(), kind: s.kind(), base: s.value(&base), new: s.value(&new) })
        .collect();
    let mut text = gates::compare(base_name, new_name, &rows, lang);
    let checked: Vec<_> = gates.iter().map(|g| (g, g.check(&base, &new))).collect();
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
