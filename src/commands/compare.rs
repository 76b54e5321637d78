//! `llmload compare BASE.json NEW.json [--fail-if EXPR]…`: two JSON summaries side by side (the
//! headline metrics with their absolute and relative change) and the gates on that change.
//! Refuses a file that is not an llmload summary, or two summaries of different versions, naming
//! the file. Exit 1 when a gate is breached, each listed on stderr.

use super::{EXIT_GATE, EXIT_OK, print_out, say};
use crate::cli::CompareArgs;
use crate::error::Error;
use crate::gate::{FailIf, Subject};
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
    let lang = crate::config::lang(a.lang.as_deref())?;
    let gates: Vec<FailIf> = a
        .fail_if
        .iter()
        .map(|e| FailIf::parse(e).map_err(|fix| Error::flag("--fail-if", e, fix)))
        .collect::<Result<_, _>>()?;
    let (base, new) = (summary(&a.base)?, summary(&a.new)?);
    if base["version"] != new["version"] {
        return Err(Error::Usage(format!(
            "{} is a version {} summary and {} version {}: compare summaries of one version (rebuild the older run's summary with this llmload: `llmload report RECORDS --json FILE`)",
            a.base, base["version"], a.new, new["version"]
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
    let mut text = gates::compare(&a.base, &a.new, &rows, lang);
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

/// The JSON summary at `path`, or why it is not one.
fn summary(path: &str) -> Result<Value, Error> {
    let bytes = files::read("compare", path, cap::SMALL)?;
    let fix = "give a summary written by `llmload run --json` or `llmload report --json`";
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::file("compare", path, format!("is not JSON ({e}): {fix}")))?;
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
