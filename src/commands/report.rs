//! `llmload report`: the summary of a run rebuilt from its records files, with the API and URL
//! the records name and no client usage (the records cannot know it); the records again as CSV
//! (`--csv`), the goodput against `--slo` (judged again from the records), the vLLM result keys, the thresholds, the series and the HTML report, as a live run
//! has them.

use super::{Ends, finish};
use crate::cli::ReportArgs;
use crate::config::{distinct, lang, open, slo, thresholds};
use crate::error::Error;
use crate::export::csv;
use crate::summary::Summary;
use serde_json::json;
use std::io::{BufWriter, Write};

/// `llmload report`: the summary of a run rebuilt from its records.
pub fn report(a: &ReportArgs) -> Result<u8, Error> {
    if a.records.is_empty() {
        return Err(Error::Usage(
            "report needs at least one records file: llmload report records.jsonl [--json out.json]".into(),
        ));
    }
    let lang = lang(a.lang.as_deref())?;
    let thresholds = thresholds(&a.threshold)?;
    let slo = slo(&a.slo)?;
    let outputs = [
        ("--json", &a.json),
        ("--csv", &a.csv),
        ("--vllm-json", &a.vllm_json),
        ("--series", &a.series),
        ("--html", &a.html),
    ];
    distinct(&outputs)?;
    // Creating an output truncates it: one that names a records file would erase the input.
    if let Some((flag, Some(path))) =
        outputs.iter().find(|(_, p)| p.as_ref().is_some_and(|p| a.records.contains(p)))
    {
        return Err(Error::Usage(format!(
            "{flag} {path} is one of the records files being read: give the output another path"
        )));
    }
    let ends = Ends {
        json: open("--json", &a.json)?,
        vllm_json: open("--vllm-json", &a.vllm_json)?,
        series: open("--series", &a.series)?,
        html: open("--html", &a.html)?,
        thresholds,
        lang,
    };
    let mut csv_out = open("--csv", &a.csv)?.map(|o| (o.flag, o.path.clone(), BufWriter::new(o)));
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
    let rebuilt = crate::rebuild::rebuild(&a.records, series, slo.as_ref(), each)?;
    if let Some((flag, path, w)) = csv_out {
        let flushed = w.into_inner().map_err(|e| e.into_error()).and_then(|mut f| f.flush());
        if let Some(e) = csv_error.or(flushed.err()) {
            return Err(Error::Output { flag, path, problem: e.to_string() });
        }
    }
    let mut config = json!({ "source": a.records });
    if let Some(slo) = &slo {
        config["slo"] = json!(slo.to_string());
    }
    if let Some(o) = rebuilt.origin {
        config["api"] = json!(o.api);
        config["url"] = json!(o.url);
    }
    let mut summary = Summary::new(config, &rebuilt.run, None);
    let to_stderr = ends.holds_stdout() || a.csv.as_deref() == Some("-");
    finish(&mut summary, &rebuilt.run, ends, to_stderr)
}
