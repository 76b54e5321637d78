//! `llmload report`: the summary of a run rebuilt from its records files, with the API and URL
//! the records name and no client usage (the records cannot know it); and, when asked, its
//! series and HTML report.

use super::{Written, finish};
use crate::cli::ReportArgs;
use crate::error::Error;
use crate::export::OutputFile;
use crate::summary::Summary;
use serde_json::json;

/// `llmload report`: the summary of a run rebuilt from its records.
pub fn report(a: &ReportArgs) -> Result<u8, Error> {
    if a.records.is_empty() {
        return Err(Error::Usage(
            "report needs at least one records file: llmload report records.jsonl [--json out.json]".into(),
        ));
    }
    let outputs = [("--json", &a.json), ("--series", &a.series), ("--html", &a.html)];
    crate::config::distinct_outputs(&outputs)?;
    // Creating an output truncates it: one that names a records file would erase the input.
    if let Some((flag, Some(path))) =
        outputs.iter().find(|(_, p)| p.as_ref().is_some_and(|p| a.records.contains(p)))
    {
        return Err(Error::Usage(format!(
            "{flag} {path} is one of the records files being read: give the output another path"
        )));
    }
    let open = |flag, path: &Option<String>| path.as_deref().map(|p| OutputFile::create(flag, p)).transpose();
    let written = Written {
        json: open("--json", &a.json)?,
        series: open("--series", &a.series)?,
        html: open("--html", &a.html)?,
    };
    let rebuilt = crate::rebuild::rebuild(&a.records, a.series.is_some() || a.html.is_some())?;
    let mut config = json!({ "source": a.records });
    if let Some(o) = rebuilt.origin {
        config["api"] = json!(o.api);
        config["url"] = json!(o.url);
    }
    let mut summary = Summary::new(config, &rebuilt.run, None);
    let to_stderr = written.holds_stdout();
    finish(&mut summary, &rebuilt.run, written, to_stderr)
}
