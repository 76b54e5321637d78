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
use super::{EXIT_GATE, EXIT_INTERRUPTED, EXIT_OK, name_out_dir, print_out, say};
use crate::client::{Client, Preflight};
use crate::config::{Levels, Parsed, SweepPlan, max_level};
use crate::error::Error;
use crate::export::{OutputFile, RecordFiles};
use crate::output::progress::{self, Live};
use crate::output::sweep::{Banner, Row, Shape, banner, find_answer, find_try, header, row};
use crate::search::{self, Answer, Capacity, Measured, Plan, Try, Variable};
use crate::summary::Summary;
use crate::summary::verdict::Verdict;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// `--find`'s exit code when it bracketed the capacity without finding it.
pub const EXIT_BRACKET: u8 = 3;

/// `llmload sweep ARGS…`: the levels of its plan, one after another.
pub fn sweep(args: &[&str]) -> Result<u8, Error> {
    match SweepPlan::from_args(args)? {
        Parsed::Help(text) => {
            print_out(&text);
            Ok(EXIT_OK)
        }
        Parsed::Plan(plan) => Sweep::new(plan).go(),
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

/// A sweep under way: its plan, what has run.
struct Sweep {
    plan: SweepPlan,
    done: Vec<Level>,
    interrupts: crossbeam_channel::Receiver<()>,
    signals: Option<crate::util::sys::signals::Listener>,
    preflight_done: bool,
    /// Redraw a live line under each level: stderr is a terminal and no `-q`.
    live: bool,
    /// How many levels the sweep runs, when known before it ends.
    count: Option<usize>,
    /// The language of what the sweep prints.
    lang: crate::lang::Lang,
}

impl Sweep {
    fn new(plan: SweepPlan) -> Sweep {
        let signals = crate::util::sys::signals::Listener::install();
        let interrupts = signals.as_ref().map_or_else(crossbeam_channel::never, |l| l.interrupts.clone());
        let live = !plan.base.quiet && crate::util::sys::stderr_is_terminal();
        let lang = plan.base.lang;
        Sweep { plan, done: Vec::new(), interrupts, signals, preflight_done: false, live, count: None, lang }
    }

    fn go(mut self) -> Result<u8, Error> {
        let levels = self.plan.levels.clone();
        let shape = shape(&levels);
        self.count = shape.count();
        let (base, lang) = (&self.plan.base, self.plan.base.lang);
        if !self.plan.base.quiet {
            let (duration, requests) = match &levels {
                Levels::Find { cap, .. } => (*cap, None),
                _ => (base.pacing.duration, base.pacing.requests),
            };
            let b = Banner { api: base.api.name(), url: &base.client.url, shape: &shape, duration, requests };
            say(&banner(&b, lang));
        }
        if base.synthetic.is_none() && shape.count().is_none_or(|n| n > 1) {
            say(&replayed(base.prompts.len(), &base.prompt_source, lang));
        }
        print_out(&format!("{}\n", header(lang, base.scrape.is_some())));
        let capacity = match levels {
            Levels::Concurrency(cs) => {
                for c in cs {
                    if self.level(Variable::Concurrency, c as f64, None, None)?.is_none() {
                        break;
                    }
                }
                None
            }
            Levels::Rate(rs) => {
                for r in rs {
                    if self.level(Variable::Rate, r, None, None)?.is_none() {
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
        name_out_dir(self.plan.out_dir.as_deref(), self.plan.base.lang);
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
            self.level(Variable::Concurrency, 1.0, Some(l.pick("synchronous", "同步").into()), None)?
        else {
            return Ok(());
        };
        let lo = sync.throughput.requests_per_s;
        let name = l.pick(format!("saturated c{saturated}"), format!("饱和 c{saturated}"));
        let Some(sat) = self.level(Variable::Concurrency, saturated as f64, Some(name), None)? else {
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
            if self.level(Variable::Rate, rate, None, None)?.is_none() {
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
            let budget = (t.cap.max(Duration::from_millis(1)), t.requests);
            let ran = self.level(variable, t.level, None, Some(budget)).map(|s| s.map(measured));
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
        budget: Option<(Duration, u64)>,
    ) -> Result<Option<&Summary>, Error> {
        let label = variable.label(value);
        let run_id = format!("{}:{label}", self.plan.run_id);
        let mut config = self.plan.base.at(variable, value, budget, run_id);
        config.reseed(self.done.len());
        config.preflight = config.preflight && !self.preflight_done;
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
        let jsonl = self.plan.records.as_mut().map(OutputFile::try_clone).transpose()?;
        let (mut summary, threads) = if config.repeat > 1 {
            let r = super::repeat::repeated(&config, jsonl, None, &self.interrupts, &[], self.done.len())?;
            (r.summary, r.threads)
        } else {
            let records = RecordFiles { jsonl, csv: None, slo: config.slo.clone(), continued: false };
            let (start, _) = Start::now();
            let (summary, _run, crew) =
                measure(&config, records, self.interrupts.clone(), &[], &start, live)?;
            let threads = crew.threads();
            crew.dismiss(); // the next level starts with none of this one's threads or connections
            (summary, threads)
        };
        summary.check(&self.plan.thresholds);
        let server = self.plan.base.scrape.is_some();
        print_out(&format!("{}\n", row(&Row::of(name.as_deref().unwrap_or(&label), &summary), server)));
        let interrupted = summary.interrupted;
        self.done.push(Level { label, value, summary, threads });
        Ok(self.done.last().map(|l| &l.summary).filter(|_| !interrupted))
    }

    /// The sweep's JSON: every level's summary, and the capacity found.
    fn write_json(&mut self, capacity: Option<&Capacity>) -> Result<(), Error> {
        let Some(mut out) = self.plan.json.take() else { return Ok(()) };
        let levels: Vec<JsonLevel> = self
            .done
            .iter()
            .map(|l| JsonLevel {
                value: l.value,
                label: &l.label,
                threads: Some(l.threads),
                summary: &l.summary,
            })
            .collect();
        let bytes = sweep_json(&self.plan.run_id, &levels, capacity);
        out.write_all(&bytes).and_then(|_| out.flush()).map_err(|e| Error::Output {
            flag: out.flag,
            path: out.path.clone(),
            problem: e.to_string(),
        })
    }

    /// The sweep's HTML page: every level, and the capacity found.
    fn write_html(&mut self, capacity: Option<&Capacity>) -> Result<(), Error> {
        let Some(mut out) = self.plan.html.take() else { return Ok(()) };
        let levels: Vec<crate::html::sweep::Level> = self
            .done
            .iter()
            .map(|l| crate::html::sweep::Level { label: &l.label, value: l.value, summary: &l.summary })
            .collect();
        let page = crate::html::sweep::page(&levels, capacity, self.plan.base.lang);
        out.write_all(page.as_bytes()).and_then(|_| out.flush()).map_err(|e| Error::Output {
            flag: out.flag,
            path: out.path.clone(),
            problem: e.to_string(),
        })
    }
}

/// One level as the sweep's JSON has it.
pub(super) struct JsonLevel<'a> {
    /// Its concurrency or rate.
    pub value: f64,
    pub label: &'a str,
    /// llmload's run threads alive when its load started; `None` where that is not known (a
    /// sweep rebuilt from its records).
    pub threads: Option<usize>,
    pub summary: &'a Summary,
}

/// The line that says every level sends the same prompts, so a server's prefix cache, warm
/// from the last level, speeds the next.
fn replayed(n: usize, source: &str, l: crate::lang::Lang) -> String {
    l.pick(
        format!("sweep: every level sends the same {n} prompt(s) ({source}): a server's prefix cache keeps them from one level to the next, so later levels read less and look faster; synthetic prompts (--prompt-tokens) are drawn afresh per level, and --cache-bust shares no prefix at all"),
        format!("sweep：每个级别都发送同样的 {n} 条提示词（{source}）：服务器的前缀缓存会把它们留到下一级别，后面的级别读得更少、显得更快；合成提示词（--prompt-tokens）每个级别重新生成，加 --cache-bust 则不共享任何前缀"),
    )
}

/// The sweep's JSON (docs/sweep.md): every level's summary, and the capacity found; the same
/// document for a live sweep and one rebuilt from its records (`llmload report`).
pub(super) fn sweep_json(run_id: &str, levels: &[JsonLevel], capacity: Option<&Capacity>) -> Vec<u8> {
    let levels: Vec<Value> = levels
        .iter()
        .map(|l| json!({ "level": l.value, "label": l.label, "threads": l.threads, "summary": serde_json::to_value(l.summary).unwrap_or(Value::Null) }))
        .collect();
    let doc = json!({
        "version": 1,
        "kind": "sweep",
        "run_id": run_id,
        "levels": levels,
        "capacity": capacity.map(capacity_json),
    });
    let mut bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    bytes.push(b'\n');
    bytes
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
