//! `sweep`'s plan: its own flags split from `run`'s, its levels (a list of concurrencies or
//! rates, `--rate auto`, or `--find`), the run every level varies, checked once at the first
//! level's load (`Config::at` makes each level from it), and its three outputs, opened.

use super::{Config, OutDir, Parsed, distinct, duration, open};
use crate::cli::{RunArgs, SweepArgs};
use crate::error::Error;
use crate::export::OutputFile;
use crate::gate::Threshold;
use crate::search::Variable;
use argh::FromArgs;
use std::time::Duration;

/// The flags that are the sweep's own; every other flag is `run`'s, the same for every level.
const OWN: &[&str] = &[
    "--concurrency",
    "-c",
    "--rate",
    "--find",
    "--slo-target",
    "--max-level-time",
    "--levels",
    "--json",
    "--records",
    "--html",
    "--out-dir",
];
/// The saturated level of `--rate auto` without `--max-concurrency`.
const SATURATED: usize = 256;
/// `--rate auto`'s rates between its two first levels, without `--levels`.
const AUTO_LEVELS: usize = 5;
/// The largest concurrency a search tries.
const MAX_FIND_CONCURRENCY: f64 = 10_000.0;
/// The longest a `--find` level may take without `--max-level-time`.
const FIND_LEVEL_TIME: Duration = Duration::from_secs(600);

/// A validated sweep.
pub struct SweepPlan {
    pub levels: Levels,
    /// The run every level varies, checked at the first level's load.
    pub base: Config,
    /// What every level's summary is checked against (`--threshold`).
    pub thresholds: Vec<Threshold>,
    pub json: Option<OutputFile>,
    pub records: Option<OutputFile>,
    pub html: Option<OutputFile>,
    /// The sweep's run id; each level's is this with its label (`sweep-…:c8`).
    pub run_id: String,
    /// `--out-dir`, named after the sweep with what went there.
    pub out_dir: Option<String>,
}

impl SweepPlan {
    /// `llmload sweep ARGS…`: its own flags parsed by argh, the rest as `run`'s.
    pub fn from_args(args: &[&str]) -> Result<Parsed<SweepPlan>, Error> {
        let (own, rest) = split(args);
        let s = match SweepArgs::from_args(&["llmload sweep"], &own) {
            Ok(s) => s,
            Err(exit) if exit.status.is_ok() => return Ok(Parsed::Help(exit.output)),
            Err(exit) => return Err(refused(&exit.output)),
        };
        let base = match RunArgs::from_args(&["llmload sweep"], &rest) {
            Ok(base) => base,
            // `help` among `run`'s flags (`llmload sweep help`): the sweep's help, which names them.
            Err(exit) if exit.status.is_ok() => return SweepPlan::from_args(&["--help"]),
            Err(exit) => return Err(refused(&exit.output)),
        };
        if base.trace.is_some() {
            return Err(Error::Usage(
                "a sweep sets each level's load and --trace brings its own: replay a trace with `llmload run --trace FILE`".into(),
            ));
        }
        if base.repeat.is_some_and(|n| n > 1) && s.find.is_some() {
            return Err(Error::Usage(
                "sweep --find measures each level until it can decide, and --repeat repeats a level a set number of times: give one".into(),
            ));
        }
        let levels = levels(&s, &base)?;
        let dir = OutDir::create(&s.out_dir)?;
        let json = dir.pick(&s.json, "sweep.json");
        let records = dir.pick(&s.records, "records.jsonl");
        let html = dir.pick(&s.html, "sweep.html");
        // The first level's load, so that every flag is checked as that run's.
        let mut first = base.clone();
        match &levels {
            Levels::Concurrency(cs) => first.concurrency = Some(cs[0]),
            Levels::Rate(rs) => first.rate = Some(rs[0]),
            // Its rates come from its first two levels; an open loop checks the flags they share.
            Levels::AutoRate { .. } => first.rate = Some(1.0),
            Levels::Find { variable: Variable::Concurrency, start, .. } => {
                first.concurrency = Some(*start as usize)
            }
            Levels::Find { variable: Variable::Rate, start, .. } => first.rate = Some(*start),
        }
        let (config, outputs) = Config::build(&first, matches!(levels, Levels::Find { .. }))?;
        distinct(&[("--json", &json), ("--records", &records), ("--html", &html)])?;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let run_id = base
            .run_id
            .clone()
            .unwrap_or_else(|| format!("sweep-{:012x}", nanos.as_micros() & 0xffff_ffff_ffff));
        Ok(Parsed::Plan(SweepPlan {
            levels,
            base: config,
            thresholds: outputs.thresholds,
            json: open("--json", &json)?,
            records: open("--records", &records)?,
            html: open("--html", &html)?,
            run_id,
            out_dir: dir.written(),
        }))
    }
}

/// argh's refusal of the sweep's arguments, its own or `run`'s, worded as every command's is.
fn refused(argh: &str) -> Error {
    Error::Usage(super::refused(Some("sweep"), argh))
}

/// Splits the arguments into the sweep's own flags (each with its value) and `run`'s.
fn split<'a>(args: &[&'a str]) -> (Vec<&'a str>, Vec<&'a str>) {
    let (mut own, mut rest) = (Vec::new(), Vec::new());
    let mut it = args.iter();
    while let Some(&a) = it.next() {
        if OWN.contains(&a) {
            own.push(a);
            own.extend(it.next());
        } else if a == "--help" {
            own.push(a);
        } else {
            rest.push(a);
        }
    }
    (own, rest)
}

/// What the sweep runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Levels {
    Concurrency(Vec<usize>),
    Rate(Vec<f64>),
    /// A synchronous run, a saturated one at this concurrency, then this many rates between.
    AutoRate {
        saturated: usize,
        between: usize,
    },
    Find {
        variable: Variable,
        start: f64,
        target: f64,
        /// The longest one level may take, all its measurements together.
        level_time: Duration,
        /// The longest one measurement may take (`-d`).
        cap: Option<Duration>,
    },
}

/// The sweep's levels from its flags; every mistake is named before any request.
fn levels(s: &SweepArgs, base: &RunArgs) -> Result<Levels, Error> {
    for (flag, given) in [
        ("--threads", base.threads.is_some()),
        ("--csv", base.csv.is_some()),
        ("--series", base.series.is_some()),
        ("--vllm-json", base.vllm_json.is_some()),
    ] {
        if given {
            return Err(Error::Usage(format!(
                "{flag} is not a sweep flag: sweep sets each level's load itself and writes one --json, one --records and one --html for all levels (`llmload report` over them gives the rest)"
            )));
        }
    }
    if base.duration.is_none() && base.requests.is_none() && s.find.is_none() {
        return Err(Error::Usage("each sweep level needs an end: give -d (e.g. -d 60s) or -n".into()));
    }
    let chosen =
        [s.concurrency.is_some() && s.find.is_none(), s.rate.is_some() && s.find.is_none(), s.find.is_some()];
    if chosen.iter().filter(|&&c| c).count() != 1 {
        return Err(Error::Usage(
            "give the sweep's levels: --concurrency LIST, --rate LIST, --rate auto, or --find concurrency|rate".into(),
        ));
    }
    if let Some(find) = &s.find {
        let variable = match find.as_str() {
            "concurrency" => Variable::Concurrency,
            "rate" => Variable::Rate,
            other => return Err(Error::flag("--find", other, "give concurrency or rate")),
        };
        if base.slo.is_none() {
            return Err(Error::Usage(
                "--find needs the objectives to meet: add --slo, e.g. --slo 'ttft<=500ms'".into(),
            ));
        }
        let target = s.slo_target.unwrap_or(0.95);
        if !(target > 0.0 && target < 1.0) {
            return Err(Error::flag(
                "--slo-target",
                target.to_string(),
                "must be between 0 and 1 (e.g. 0.95)",
            ));
        }
        if base.requests.is_some() {
            return Err(Error::Usage(
                "--find sizes each level by the requests its decision needs: leave -n out (-d caps one measurement, --max-level-time a level)"
                    .into(),
            ));
        }
        let cap = base.duration.as_deref().map(|d| duration("--duration", d)).transpose()?;
        let level_time = match s.max_level_time.as_deref() {
            Some(t) => duration("--max-level-time", t)?,
            None => FIND_LEVEL_TIME,
        };
        // The level to double from: 1, or a single --concurrency / --rate.
        let start = match (variable, s.concurrency.as_deref(), s.rate.as_deref()) {
            (Variable::Rate, None, Some(r)) => positive("--rate", r)?,
            (Variable::Concurrency, Some(c), None) => match c.parse::<u32>() {
                Ok(c) if c >= 1 => f64::from(c),
                _ => {
                    return Err(Error::flag(
                        "--concurrency",
                        c,
                        "give the one concurrency to start from, e.g. 4",
                    ));
                }
            },
            (_, None, None) => 1.0,
            (Variable::Rate, ..) => {
                return Err(Error::Usage("--find rate starts from --rate R: leave --concurrency out".into()));
            }
            (Variable::Concurrency, ..) => {
                return Err(Error::Usage(
                    "--find concurrency starts from --concurrency N: leave --rate out".into(),
                ));
            }
        };
        return Ok(Levels::Find { variable, start, target, level_time, cap });
    }
    if s.slo_target.is_some() || s.max_level_time.is_some() {
        return Err(Error::Usage(
            "--slo-target and --max-level-time shape --find: add --find, or leave them out".into(),
        ));
    }
    if let Some(list) = &s.concurrency {
        let levels = increasing("--concurrency", list)?;
        if levels.iter().any(|&c| c.fract() != 0.0 || c > MAX_FIND_CONCURRENCY) {
            return Err(Error::flag(
                "--concurrency",
                list,
                "give whole numbers from 1 to 10000, e.g. 1,2,4,8",
            ));
        }
        return Ok(Levels::Concurrency(levels.into_iter().map(|c| c as usize).collect()));
    }
    match s.rate.as_deref() {
        Some("auto") => Ok(Levels::AutoRate {
            saturated: base.max_concurrency.unwrap_or(SATURATED),
            between: s.levels.unwrap_or(AUTO_LEVELS),
        }),
        Some(list) => Ok(Levels::Rate(increasing("--rate", list)?)),
        None => unreachable!("one of the level flags was given"),
    }
}

/// A comma-separated list of positive numbers in increasing order.
fn increasing(flag: &'static str, list: &str) -> Result<Vec<f64>, Error> {
    let levels = list.split(',').map(|v| positive(flag, v.trim())).collect::<Result<Vec<f64>, Error>>()?;
    if levels.is_empty() || levels.windows(2).any(|w| w[1] <= w[0]) {
        return Err(Error::flag(flag, list, "give increasing levels, e.g. 1,2,4,8"));
    }
    Ok(levels)
}

fn positive(flag: &'static str, v: &str) -> Result<f64, Error> {
    match v.parse::<f64>() {
        Ok(x) if x > 0.0 && x.is_finite() => Ok(x),
        _ => Err(Error::flag(flag, v, "give numbers above 0, comma-separated (e.g. 1,2,4,8)")),
    }
}

/// The largest level `--find` tries.
pub fn max_level(variable: Variable) -> f64 {
    match variable {
        Variable::Concurrency => MAX_FIND_CONCURRENCY,
        Variable::Rate => 100_000.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(args: &[&str]) -> Result<Levels, String> {
        let (own, rest) = split(args);
        let s = SweepArgs::from_args(&["sweep"], &own).map_err(|e| e.output)?;
        let base = RunArgs::from_args(&["sweep"], &rest).map_err(|e| e.output)?;
        super::levels(&s, &base).map_err(|e| e.to_string())
    }

    #[test]
    fn level_lists_auto_and_find() {
        assert_eq!(levels(&["--concurrency", "1,2,4", "-d", "5s"]), Ok(Levels::Concurrency(vec![1, 2, 4])));
        assert_eq!(levels(&["-n", "9", "--rate", "2.5,5"]), Ok(Levels::Rate(vec![2.5, 5.0])));
        assert_eq!(
            levels(&["--rate", "auto", "-d", "5s"]),
            Ok(Levels::AutoRate { saturated: 256, between: 5 })
        );
        let find = levels(&["--find", "concurrency", "--slo", "ttft<=1s", "-d", "5s"]).unwrap();
        assert_eq!(
            find,
            Levels::Find {
                variable: Variable::Concurrency,
                start: 1.0,
                target: 0.95,
                level_time: FIND_LEVEL_TIME,
                cap: Some(Duration::from_secs(5))
            }
        );
        let find = levels(&["--find", "concurrency", "--slo", "ttft<=1s", "--max-level-time", "2m"]).unwrap();
        assert!(
            matches!(find, Levels::Find { level_time, cap: None, .. } if level_time == Duration::from_secs(120)),
            "{find:?}"
        );
        let find = levels(&[
            "--find",
            "rate",
            "--rate",
            "4",
            "--slo",
            "ttft<=1s",
            "--slo-target",
            "0.9",
            "-d",
            "5s",
        ]);
        assert!(matches!(find, Ok(Levels::Find { variable: Variable::Rate, start: 4.0, .. })), "{find:?}");
    }

    #[test]
    fn every_mistake_is_named() {
        let err = |args: &[&str]| levels(args).unwrap_err();
        assert!(err(&["--concurrency", "4,2", "-d", "5s"]).contains("give increasing levels"));
        assert!(err(&["--concurrency", "", "-d", "5s"]).contains("--concurrency"));
        assert!(err(&["--rate", "0,5", "-d", "5s"]).contains("above 0"));
        assert!(err(&["--concurrency", "1,2"]).contains("give -d"));
        assert!(err(&["-d", "5s"]).contains("give the sweep's levels"));
        assert!(err(&["--find", "concurrency", "-d", "5s"]).contains("add --slo"));
        assert!(
            err(&["--find", "users", "--slo", "ttft<=1s", "-d", "5s"]).contains("give concurrency or rate")
        );
        assert!(
            err(&["--find", "rate", "--slo", "ttft<=1s", "--slo-target", "1.5", "-d", "5s"])
                .contains("between 0 and 1")
        );
        assert!(err(&["--find", "rate", "--slo", "ttft<=1s", "-n", "5"]).contains("leave -n out"));
        assert!(err(&["--concurrency", "1", "--slo-target", "0.9", "-d", "5s"]).contains("add --find"));
        assert!(
            err(&["--concurrency", "1", "--series", "s.jsonl", "-d", "5s"])
                .contains("--series is not a sweep flag")
        );
    }

    fn planned(args: &[&str]) -> SweepPlan {
        match SweepPlan::from_args(args) {
            Ok(Parsed::Plan(p)) => p,
            Ok(Parsed::Help(_)) => panic!("help"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_level_is_the_base_run_at_another_load() {
        let args =
            ["--rate", "2,4", "-d", "5s", "--arrival", "constant", "--seed", "9", "--max-concurrency", "50"];
        let p = planned(&args);
        assert_eq!(p.levels, Levels::Rate(vec![2.0, 4.0]));
        let r4 = p.base.at(Variable::Rate, 4.0, None, "s:r4".into());
        let open = r4.pacing.open.unwrap();
        assert_eq!((open.rate, open.arrival, open.seed), (4.0, crate::workload::Arrival::Constant, 9));
        assert_eq!((r4.pacing.concurrency, r4.client.workers), (50, 50));
        assert_eq!(r4.pacing.duration, Some(Duration::from_secs(5)));
        assert_eq!((r4.scale.run_id.as_str(), r4.quiet), ("s:r4", true));
        let c8 = p.base.at(Variable::Concurrency, 8.0, None, "s:c8".into());
        assert_eq!((c8.pacing.open, c8.pacing.concurrency, c8.client.workers), (None, 8, 8));
        let p = planned(&["--find", "concurrency", "--slo", "ttft<=1s"]);
        assert_eq!((p.base.pacing.duration, p.base.pacing.requests), (None, None));
        let m = p.base.at(Variable::Concurrency, 4.0, Some((Duration::from_secs(3), 73)), "s:c4".into());
        assert_eq!((m.pacing.duration, m.pacing.requests), (Some(Duration::from_secs(3)), Some(73)));
    }

    #[test]
    fn the_shared_flags_are_checked_at_the_first_level() {
        let err = |args: &[&str]| SweepPlan::from_args(args).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err(&["-c", "1,2", "-d", "5s", "--max-concurrency", "9"])
                .starts_with("--max-concurrency shapes an open-loop load")
        );
        assert!(
            err(&["--rate", "1,2", "-d", "5s", "--arrival", "burst"])
                .contains("--arrival \"burst\" is invalid")
        );
        assert!(err(&["--find", "rate", "--slo", "ttft<=1s", "--warmup", "0"]).contains("--warmup"));
    }
}
