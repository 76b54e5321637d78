//! `llmload report`: the summary of a run rebuilt from its records files, with the API and URL
//! the records name and no client usage (the records cannot know it).

use super::finish;
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
    let json = a.json.as_deref().map(|p| OutputFile::create("--json", p)).transpose()?;
    let rebuilt = crate::rebuild::rebuild(&a.records)?;
    let mut config = json!({ "source": a.records });
    if let Some(o) = rebuilt.origin {
        config["api"] = json!(o.api);
        config["url"] = json!(o.url);
    }
    let mut summary = Summary::new(config, &rebuilt.run, None);
    let to_stderr = json.as_ref().is_some_and(OutputFile::is_stdout);
    finish(&mut summary, json, to_stderr)
}
