//! `report`'s and `compare`'s plans: the records or summaries they read, the objectives and
//! gates, and `--level`, each checked before any file is read or written.

use super::{Level, distinct, lang, level, open, percentiles, reported, slo, thresholds};
use crate::cli::{CompareArgs, ReportArgs};
use crate::error::Error;
use crate::export::OutputFile;
use crate::gate::{FailIf, Threshold};
use crate::lang::Lang;
use crate::slo::Slo;
use crate::stats::Percentiles;

/// `report`'s flags, checked: what it runs on, and its outputs, opened before any records file is
/// read (an output that is never written, as a sweep's records leave `--csv`, is removed when
/// dropped: `OutputFile`).
pub struct ReportPlan {
    pub json: Option<OutputFile>,
    pub csv: Option<OutputFile>,
    pub vllm_json: Option<OutputFile>,
    pub series: Option<OutputFile>,
    pub html: Option<OutputFile>,
    pub lang: Lang,
    pub thresholds: Vec<Threshold>,
    pub slo: Option<Slo>,
    /// The percentiles every distribution reports (`--percentiles`; the standard four without).
    pub percentiles: Percentiles,
    /// `--level`: the one level of a sweep's records to report.
    pub level: Option<Level>,
}

impl ReportPlan {
    /// Checks `report`'s flags, before any file is read or written.
    pub fn from_args(a: &ReportArgs) -> Result<ReportPlan, Error> {
        if a.records.is_empty() {
            return Err(Error::Usage(
                "report needs at least one records file: llmload report records.jsonl [--json out.json]"
                    .into(),
            ));
        }
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
        let (lang, thresholds, slo, level) =
            (lang(a.lang.as_deref())?, thresholds(&a.threshold)?, slo(&a.slo)?, level(a.level.as_deref())?);
        let percentiles = percentiles(&a.percentiles)?;
        reported(&thresholds, &percentiles)?;
        Ok(ReportPlan {
            json: open("--json", &a.json)?,
            csv: open("--csv", &a.csv)?,
            vllm_json: open("--vllm-json", &a.vllm_json)?,
            series: open("--series", &a.series)?,
            html: open("--html", &a.html)?,
            lang,
            thresholds,
            slo,
            percentiles,
            level,
        })
    }
}

/// `compare`'s flags, checked: what it runs on.
pub struct ComparePlan {
    pub lang: Lang,
    pub gates: Vec<FailIf>,
    /// `--level`: the level of a sweep's JSON to compare.
    pub level: Option<Level>,
}

/// Checks `compare`'s flags, before any file is read.
impl ComparePlan {
    pub fn from_args(a: &CompareArgs) -> Result<ComparePlan, Error> {
        let gates = a
            .fail_if
            .iter()
            .map(|e| FailIf::parse(e).map_err(|fix| Error::flag("--fail-if", e, fix)))
            .collect::<Result<_, _>>()?;
        Ok(ComparePlan { lang: lang(a.lang.as_deref())?, gates, level: level(a.level.as_deref())? })
    }
}
