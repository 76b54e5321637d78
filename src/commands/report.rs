//! `llmload report`: the summary of a run rebuilt from its records files.

use super::finish;
use crate::cli::ReportArgs;
use crate::error::Error;
use crate::export::OutputFile;
use crate::summary::Summary;

/// `llmload report`: the summary of a run rebuilt from its records.
pub fn report(a: &ReportArgs) -> Result<u8, Error> {
    if a.records.is_empty() {
        return Err(Error::Usage(
            "report needs at least one records file: llmload report records.jsonl [--json out.json]".into(),
        ));
    }
    let json = a.json.as_deref().map(|p| OutputFile::create("--json", p)).transpose()?;
    let run = crate::rebuild::rebuild(&a.records)?;
    let mut summary = Summary::new(serde_json::json!({ "source": a.records }), &run, 0.0, 0);
    let to_stderr = json.as_ref().is_some_and(OutputFile::is_stdout);
    finish(&mut summary, json, false, to_stderr)
}
