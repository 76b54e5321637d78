//! `llmload sweep`: one load test per level against the same target, with the same `run` flags:
//! a list of concurrencies or rates, `--rate auto` (a synchronous run and a saturated one
//! first, then rates evenly between them), or `--find concurrency|rate`, the capacity search
//! of `search` under `--slo`, each level sized by the requests its decision needs and capped by
//! `-d`. A row per level as each ends, one JSON with every level's full summary, every level's
//! records in one file (each record's `run_id` ends with its level), one HTML page of every
//! level (`html::sweep`). Each level's threads end and its connections close before the next
//! level starts. Ctrl-C ends the level running and the sweep, and everything finished is still
//! written. On stderr, unless `-q`: a banner before the first level (the target, the levels, the
//! time they should take) and, on a terminal only, a live line under each level running.

use super::run::{Start, measure};
use super::{EXIT_GATE, EXIT_INTERRUPTED, EXIT_OK, print_out, say};
use crate::cli::{RunArgs, SweepArgs};
use crate::client::{Client, Preflight};
use crate::config::{Config, duration};
use crate::error::Error;
use crate::export::{OutputFile, RecordFiles};
use crate::output::progress::{self, Live};
use crate::output::sweep::{Banner, Row, Shape, banner, find_answer, find_try, header, row};
use crate::search::{self, Answer, Capacity, Measured, Plan, Try, Variable};
use crate::summary::Summary;
use crate::summary::verdict::Verdict;
use argh::FromArgs;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::Arc;
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
];
/// The saturated level of `--rate auto` without `--max-concurrency`.
const SATURATED: usize = 256;
/// `--rate auto`'s rates between its two first levels, without `--levels`.
const AUTO_LEVELS: usize = 5;
/// The largest concurrency a search tries.
const MAX_FIND_CONCURRENCY: f64 = 10_000.0;
/// The longest a `--find` level may take without `--max-level-time`.
const FIND_LEVEL_TIME: Duration = Duration::from_secs(600);
/// `--find`'s exit code when it bracketed the capacity without finding it.
pub const EXIT_BRACKET: u8 = 3;

/// `llmload sweep ARGS…`: its own flags parsed by argh, the rest as `run`'s.
pub fn sweep(args: &[&str]) -> Result<u8, Error> {
    let (own, rest) = split(args);
    let s = match SweepArgs::from_args(&["llmload sweep"], &own) {
        Ok(s) => s,
        Err(exit) if exit.status.is_ok() => {
            print_out(&exit.output);
            return Ok(EXIT_OK);
        }
        Err(exit) => return Err(refused(&exit.output)),
    };
    let base = match RunArgs::from_args(&["llmload sweep"], &rest) {
        Ok(base) => base,
        // `help` among `run`'s flags (`llmload sweep help`): the sweep's help, which names them.
        Err(exit) if exit.status.is_ok() => return sweep(&["--help"]),
        Err(exit) => return Err(refused(&exit.output)),
    };
    let plan = plan(&s, &base)?;
    Sweep::new(&s, base)?.go(plan)
}

/// argh's refusal of the sweep's arguments, its own or `run`'s, worded as every command's is.
fn refused(argh: &str) -> Error {
    Error::Usage(crate::config::refused(Some("sweep"), argh))
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
enum Levels {
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
fn plan(s: &SweepArgs, base: &RunArgs) -> Result<Levels, Error> {
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

/// One level's result.
struct Level {
    label: String,
    value: f64,
    summary: Summary,
    /// llmload's threads alive when its load started (`engine::Crew::threads`).
    threads: usize,
}

/// A sweep under way: the run flags every level shares, the shared outputs, what has run.
struct Sweep {
    base: RunArgs,
    json: Option<OutputFile>,
    records: Option<OutputFile>,
    html: Option<OutputFile>,
    run_id: String,
    done: Vec<Level>,
    interrupts: crossbeam_channel::Receiver<()>,
    signals: Option<crate::sys::signals::Listener>,
    preflight_done: bool,
    /// Redraw a live line under each level: stderr is a terminal and no `-q`.
    live: bool,
    /// How many levels the sweep runs, when known before it ends.
    count: Option<usize>,
    /// The language of what the sweep prints.
    lang: crate::lang::Lang,
}

impl Sweep {
    fn new(s: &SweepArgs, base: RunArgs) -> Result<Sweep, Error> {
        crate::config::distinct(&[("--json", &s.json), ("--records", &s.records), ("--html", &s.html)])?;
        let json = crate::config::open("--json", &s.json)?;
        let records = crate::config::open("--records", &s.records)?;
        let html = crate::config::open("--html", &s.html)?;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let run_id = base
            .run_id
            .clone()
            .unwrap_or_else(|| format!("sweep-{:012x}", nanos.as_micros() & 0xffff_ffff_ffff));
        let signals = crate::sys::signals::Listener::install();
        let interrupts = signals.as_ref().map_or_else(crossbeam_channel::never, |l| l.interrupts.clone());
        let live = !base.quiet && crate::sys::stderr_is_terminal();
        let lang = crate::config::lang(base.lang.as_deref())?;
        Ok(Sweep {
            lang,
            base,
            json,
            records,
            html,
            run_id,
            done: Vec::new(),
            interrupts,
            signals,
            preflight_done: false,
            live,
            count: None,
        })
    }

    fn go(mut self, levels: Levels) -> Result<u8, Error> {
        let shape = shape(&levels);
        self.count = shape.count();
        // The first level's flags, checked before anything is printed, name the target; a
        // search's level ends by its own time and requests, here its longest.
        let (first, _) = match &levels {
            Levels::Concurrency(cs) => self.config(Variable::Concurrency, cs[0] as f64)?,
            Levels::Rate(rs) => self.config(Variable::Rate, rs[0])?,
            Levels::AutoRate { .. } => self.config(Variable::Concurrency, 1.0)?,
            Levels::Find { variable, start, level_time, cap, .. } => {
                let saved = self.base.duration.take();
                self.base.duration = Some(format!("{}s", cap.unwrap_or(*level_time).as_secs_f64()));
                let first = self.config(*variable, *start);
                self.base.duration = saved;
                first?
            }
        };
        if !self.base.quiet {
            let (duration, requests) = match &levels {
                Levels::Find { cap, .. } => (*cap, None),
                _ => (first.pacing.duration, first.pacing.requests),
            };
            let b =
                Banner { api: first.api.name(), url: &first.client.url, shape: &shape, duration, requests };
            say(&banner(&b, first.lang));
        }
        print_out(&format!("{}\n", header(first.lang)));
        let capacity = match levels {
            Levels::Concurrency(cs) => {
                for c in cs {
                    if self.level(Variable::Concurrency, c as f64, None)?.is_none() {
                        break;
                    }
                }
                None
            }
            Levels::Rate(rs) => {
                for r in rs {
                    if self.level(Variable::Rate, r, None)?.is_none() {
                        break;
                    }
                }
                None
            }
            Levels::AutoRate { saturated, between } => {
                self.auto(saturated, between)?;
                None
            }
            Levels::Find { variable, start, target, level_time, cap } => {
                let plan = Plan { variable, start, target, level_time, cap, max_level: max_level(variable) };
                Some(self.find(&plan)?)
            }
        };
        if let Some(c) = &capacity {
            print_out(&format!("{}\n", find_answer(c, self.lang)));
        }
        if let Some(l) = self.signals.take() {
            l.close();
        }
        let interrupted = self.done.last().is_some_and(|l| l.summary.interrupted);
        let written = self.write_json(capacity.as_ref());
        self.write_html(capacity.as_ref())?;
        written?;
        let gate_failed = self.done.iter().any(|l| l.summary.thresholds.iter().any(|t| !t.pass));
        Ok(match capacity.map(|c| c.answer()) {
            _ if interrupted => EXIT_INTERRUPTED,
            Some(Answer::Found) => EXIT_OK,
            Some(Answer::Bracket) => EXIT_BRACKET,
            Some(Answer::Nothing) => EXIT_GATE,
            None if gate_failed || self.done.iter().all(|l| l.summary.requests.ok == 0) => EXIT_GATE,
            None => EXIT_OK,
        })
    }

    /// `--rate auto`: a synchronous level and a saturated one, then `between` rates evenly
    /// spaced from the first's throughput to the second's.
    fn auto(&mut self, saturated: usize, between: usize) -> Result<(), Error> {
        let l = self.lang;
        let Some(sync) =
            self.level(Variable::Concurrency, 1.0, Some(l.pick("synchronous", "同步").into()))?
        else {
            return Ok(());
        };
        let lo = sync.throughput.requests_per_s;
        let name = l.pick(format!("saturated c{saturated}"), format!("饱和 c{saturated}"));
        let Some(sat) = self.level(Variable::Concurrency, saturated as f64, Some(name))? else {
            return Ok(());
        };
        let hi = sat.throughput.requests_per_s;
        if !(hi > lo && lo > 0.0) {
            say(&l.pick(
                format!("sweep: the saturated level ({hi:.3} req/s) is no faster than the synchronous one ({lo:.3} req/s): no rates between to try"),
                format!("sweep：饱和级别（{hi:.3} req/s）不比同步级别（{lo:.3} req/s）快：其间没有可测的速率"),
            ));
            return Ok(());
        }
        for k in 1..=between {
            let rate = lo + (hi - lo) * k as f64 / (between + 1) as f64;
            let rate = (rate * 1000.0).round() / 1000.0;
            if self.level(Variable::Rate, rate, None)?.is_none() {
                break;
            }
        }
        Ok(())
    }

    /// `--find`: the capacity search, each measurement a level of the sweep: its requests, and
    /// at most what is left of the level's time.
    fn find(&mut self, plan: &Plan) -> Result<Capacity, Error> {
        let (variable, target) = (plan.variable, plan.target);
        let mut failure = None;
        // The last level measured and its req/s: the estimate of the next one's.
        let mut pace: Option<(f64, f64)> = None;
        let capacity = search::search(plan, &mut |t: &Try| {
            let rate = match (variable, pace) {
                (Variable::Rate, _) => Some(t.level),
                (Variable::Concurrency, Some((level, req_s))) => Some(req_s * t.level / level),
                (Variable::Concurrency, None) => None,
            };
            print_out(&format!("{}\n", find_try(variable, t, target, rate, self.lang)));
            let saved = (self.base.duration.take(), self.base.requests.take());
            self.base.duration = Some(format!("{}s", t.cap.as_secs_f64().max(0.001)));
            self.base.requests = Some(t.requests);
            let ran = self.level(variable, t.level, None).map(|s| s.map(measured));
            (self.base.duration, self.base.requests) = saved;
            if let Ok(Some(m)) = &ran {
                pace = Some((t.level, m.requests_per_s));
            }
            ran.unwrap_or_else(|e| {
                failure = Some(e);
                None
            })
        });
        match failure {
            Some(e) => Err(e),
            None => Ok(capacity),
        }
    }

    /// Runs one level and prints its row; its summary, or `None` once the sweep must stop (an
    /// interrupt).
    fn level(
        &mut self,
        variable: Variable,
        value: f64,
        name: Option<String>,
    ) -> Result<Option<&Summary>, Error> {
        let label = variable.label(value);
        let (mut config, outputs) = self.config(variable, value)?;
        // The level's own line replaces the request budget's, and `-q` has none.
        config.progress = false;
        let live = self.live.then(|| {
            Live::Level(progress::Level {
                index: self.done.len() + 1,
                of: self.count,
                label: name.clone().unwrap_or_else(|| label.clone()),
                duration: config.pacing.duration,
                requests: config.pacing.requests,
            })
        });
        let config = Arc::new(config);
        if config.preflight {
            let key = config.keys.as_ref().map(|k| k.items()[0].as_str());
            match Client::preflight(&config.client, &config.prompts.items()[0], key, &self.interrupts) {
                Preflight::Refused(problem) => {
                    return Err(Error::Preflight { url: config.client.url.clone(), problem });
                }
                Preflight::Interrupted => return Err(Error::Interrupted { url: config.client.url.clone() }),
                Preflight::Passed | Preflight::Noted(_) => {}
            }
            self.preflight_done = true;
        }
        let records = RecordFiles {
            jsonl: self.records.as_mut().map(OutputFile::try_clone).transpose()?,
            csv: None,
            slo: config.slo.clone(),
        };
        let (start, _) = Start::now();
        let (mut summary, _run, crew) =
            measure(&config, records, self.interrupts.clone(), &[], &start, live)?;
        summary.check(&outputs.thresholds);
        print_out(&format!("{}\n", row(&Row::of(name.as_deref().unwrap_or(&label), &summary))));
        let threads = crew.threads();
        crew.dismiss(); // the next level starts with none of this one's threads or connections
        let interrupted = summary.interrupted;
        self.done.push(Level { label, value, summary, threads });
        Ok(self.done.last().map(|l| &l.summary).filter(|_| !interrupted))
    }

    /// A level's validated flags: the shared ones with its concurrency or rate, its run id, no
    /// per-second table, and no second preflight.
    fn config(&self, variable: Variable, value: f64) -> Result<(Config, crate::config::Outputs), Error> {
        let mut a = self.base.clone();
        match variable {
            Variable::Concurrency => (a.concurrency, a.max_concurrency) = (Some(value as usize), None),
            Variable::Rate => a.rate = Some(value),
        }
        a.run_id = Some(format!("{}:{}", self.run_id, variable.label(value)));
        a.quiet = true;
        a.no_preflight = a.no_preflight || self.preflight_done;
        Config::from_args(&a)
    }

    /// The sweep's JSON: every level's summary, and the capacity found.
    fn write_json(&mut self, capacity: Option<&Capacity>) -> Result<(), Error> {
        let Some(mut out) = self.json.take() else { return Ok(()) };
        let levels: Vec<Value> = self
            .done
            .iter()
            .map(|l| json!({ "level": l.value, "label": l.label, "threads": l.threads, "summary": serde_json::to_value(&l.summary).unwrap_or(Value::Null) }))
            .collect();
        let doc = json!({
            "version": 1,
            "kind": "sweep",
            "run_id": self.run_id,
            "levels": levels,
            "capacity": capacity.map(capacity_json),
        });
        let mut bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
        bytes.push(b'\n');
        out.write_all(&bytes).and_then(|_| out.flush()).map_err(|e| Error::Output {
            flag: out.flag,
            path: out.path.clone(),
            problem: e.to_string(),
        })
    }

    /// The sweep's HTML page: every level, and the capacity found.
    fn write_html(&mut self, capacity: Option<&Capacity>) -> Result<(), Error> {
        let Some(mut out) = self.html.take() else { return Ok(()) };
        let levels: Vec<crate::html::sweep::Level> = self
            .done
            .iter()
            .map(|l| crate::html::sweep::Level { label: &l.label, value: l.value, summary: &l.summary })
            .collect();
        let lang = crate::config::lang(self.base.lang.as_deref())?;
        let page = crate::html::sweep::page(&levels, capacity, lang);
        out.write_all(page.as_bytes()).and_then(|_| out.flush()).map_err(|e| Error::Output {
            flag: out.flag,
            path: out.path.clone(),
            problem: e.to_string(),
        })
    }
}

/// The levels as the banner names them.
fn shape(levels: &Levels) -> Shape {
    match levels {
        Levels::Concurrency(cs) => Shape::List(Variable::Concurrency, cs.iter().map(|&c| c as f64).collect()),
        Levels::Rate(rs) => Shape::List(Variable::Rate, rs.clone()),
        &Levels::AutoRate { saturated, between } => Shape::Auto { saturated, between },
        &Levels::Find { variable, start, target, level_time, .. } => {
            Shape::Find { variable, start, target, level_time }
        }
    }
}

/// The largest level `--find` tries.
fn max_level(variable: Variable) -> f64 {
    match variable {
        Variable::Concurrency => MAX_FIND_CONCURRENCY,
        Variable::Rate => 100_000.0,
    }
}

/// A level's summary as the search reads it.
fn measured(s: &Summary) -> Measured {
    let g = s.goodput.as_ref();
    Measured {
        good: g.map_or(0, |g| g.conforming),
        determined: g.map_or(0, |g| g.determined),
        client_bound: s.client.verdict == Some(Verdict::ClientBound),
        all_failed: s.requests.ok == 0 && s.requests.failed > 0,
        elapsed: Duration::from_secs_f64(s.wall_s.max(0.0)),
        requests_per_s: s.throughput.requests_per_s,
    }
}

fn capacity_json(c: &Capacity) -> Value {
    let probes: Vec<Value> = c
        .probes
        .iter()
        .map(|p| {
            json!({
                "level": p.level,
                "requests": p.requests,
                "good": p.measured.good,
                "determined": p.measured.determined,
                "counted": p.counted,
                "client_bound": p.measured.client_bound,
                "elapsed_s": p.measured.elapsed.as_secs_f64(),
                "cap_s": p.cap.as_secs_f64(),
                "level_good": p.good,
                "level_determined": p.determined,
                "attainment": p.attainment,
                "attainment_ci": p.attainment_ci.map(|(lo, hi)| [lo, hi]),
                "decided": p.decided.map(|d| if d { "pass" } else { "fail" }),
            })
        })
        .collect();
    let answer = match c.answer() {
        Answer::Found => "found",
        Answer::Bracket => "bracket",
        Answer::Nothing => "nothing",
    };
    json!({
        "variable": c.variable.name(),
        "answer": answer,
        "value": c.value,
        "passing": c.passing,
        "failing": c.failing,
        "target": c.target,
        "probes": probes,
        "stop_reason": c.stop_reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(args: &[&str]) -> Result<Levels, String> {
        let (own, rest) = split(args);
        let s = SweepArgs::from_args(&["sweep"], &own).map_err(|e| e.output)?;
        let base = RunArgs::from_args(&["sweep"], &rest).map_err(|e| e.output)?;
        plan(&s, &base).map_err(|e| e.to_string())
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
}
