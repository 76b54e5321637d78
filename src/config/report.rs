//! `report`'s and `compare`'s plans: the records or summaries they read, the objectives and
//! gates, and `--level`, each checked before any file is read or written.

use super::{Level, distinct, lang, level, slo, thresholds};
use crate::cli::{CompareArgs, ReportArgs};
use crate::error::Error;
use crate::gate::{FailIf, Threshold};
use crate::lang::Lang;
use crate::slo::Slo;

/// `report`'s flags, checked: what it runs on. Opening the outputs waits until the records
/// are known to allow them.
pub struct ReportPlan {
    pub lang: Lang,
    pub thresholds: Vec<Threshold>,
    pub slo: Option<Slo>,
    /// `--level`: the one level of a sweep's records to report.
    pub level: Option<Level>,
}

/// Checks `report`'s flags, before any file is read or written.
impl ReportPlan {
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
        Ok(ReportPlan {
            lang: lang(a.lang.as_deref())?,
            thresholds: thresholds(&a.threshold)?,
            slo: slo(&a.slo)?,
            level: level(a.level.as_deref())?,
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
