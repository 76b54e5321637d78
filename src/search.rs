//! The capacity search of `llmload sweep --find`: the largest load level whose SLO attainment
//! meets a target. It doubles the level from a start until a level fails, then bisects between
//! the last that passed and the first that failed: to the unit for a concurrency, to 5 % for a
//! rate. A level passes or fails only when its attainment's 95 % interval lies wholly above or
//! below the target. A level is sized by requests, not by time: its first measurement sends the
//! requests a pass needs when every one is good (`needed`), and while it stays undecided it is
//! measured again with the requests its attainment so far says a decision needs, the counts of
//! every measurement pooled, until the level's time (`Plan::level_time`) is spent; a level still
//! undecided then ends the search with what is known. A measurement may be capped in time
//! (`Plan::cap`): a level cut short is measured again, its counts pooled. A level the client itself could not drive
//! (`client-bound`) is measured once more; if the client is the limit again, its result is used
//! and the answer says so. A level whose every request failed is an error, never a bound.
//! Pure (the interval is `slo`'s): running a level is the caller's closure; what the answer means is `Answer`.

use crate::lang::Text;
use crate::slo::{self, Z_95 as Z};
use std::time::Duration;

/// What the search looks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Variable {
    Concurrency,
    Rate,
}

impl Variable {
    pub fn name(self) -> &'static str {
        match self {
            Variable::Concurrency => "concurrency",
            Variable::Rate => "rate",
        }
    }

    /// A level as the sweep labels it: `c8`, `r12.5`.
    pub fn label(self, level: f64) -> String {
        match self {
            Variable::Concurrency => format!("c{}", show(level)),
            Variable::Rate => format!("r{}", show(level)),
        }
    }

    /// The level a label names (`c8`, `r12.5`, `r12.500`): `label`'s inverse.
    pub fn parse_label(label: &str) -> Option<(Variable, f64)> {
        let number = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !s.is_empty();
        if let Some(c) = label.strip_prefix('c').filter(|c| c.bytes().all(|b| b.is_ascii_digit())) {
            return c.parse::<u32>().ok().filter(|&c| c >= 1).map(|c| (Variable::Concurrency, f64::from(c)));
        }
        let r = label.strip_prefix('r').filter(|r| number(r))?;
        r.parse::<f64>().ok().filter(|r| r.is_finite() && *r > 0.0).map(|r| (Variable::Rate, r))
    }

    /// The level halfway between `pass` and `fail`, or `None` once they are close enough.
    fn between(self, pass: f64, fail: f64) -> Option<f64> {
        match self {
            Variable::Concurrency => {
                let mid = ((pass + fail) / 2.0).floor();
                (mid > pass && mid < fail).then_some(mid)
            }
            Variable::Rate => ((fail - pass) / pass > RATE_TOLERANCE).then_some((pass + fail) / 2.0),
        }
    }

    /// The requests a level's first measurement sends: those a pass needs, and at least two
    /// rounds of its workers (a concurrency) or `RATE_SECONDS` of its arrivals (a rate), so that
    /// the load is the level's for most of the measurement.
    pub fn first_requests(self, level: f64, target: f64) -> u64 {
        let floor = match self {
            Variable::Concurrency => 2.0 * level,
            Variable::Rate => RATE_SECONDS * level,
        };
        needed(target).max(floor.ceil() as u64)
    }
}

/// How close `--find rate` brackets the capacity: the failing rate within 5 % of the passing.
pub const RATE_TOLERANCE: f64 = 0.05;
/// A rate level's first measurement lasts at least this many seconds of its arrivals.
const RATE_SECONDS: f64 = 2.0;

/// The fewest requests whose attainment can pass `target` at all: with every one good, the
/// Wilson interval's low end is n / (n + z²), so n ≥ z²·t / (1 − t) (73 for 0.95, 381 for 0.99).
pub fn needed(target: f64) -> u64 {
    let mut n = (Z * Z * target / (1.0 - target)).ceil().max(1.0) as u64;
    while wilson(n, n).is_some_and(|(lo, _)| lo < target) {
        n += 1; // the closed form's rounding
    }
    n
}

/// The Wilson 95 % interval of `good` of `n`.
pub fn wilson(good: u64, n: u64) -> Option<(f64, f64)> {
    slo::wilson(good, n, slo::Z_95)
}

/// The requests to add to `good` of `n` for a decision at `target`: where the attainment so far
/// would put the interval's edge past the target, at least `first / 2` and at most `2n`.
pub fn more_requests(good: u64, n: u64, target: f64, first: u64) -> u64 {
    let total = if n == 0 {
        first
    } else {
        let p = good as f64 / n as f64;
        if p >= 1.0 {
            needed(target)
        } else {
            let gap = (p - target).abs().max(1e-3);
            (Z * Z * p * (1.0 - p) / (gap * gap)).ceil() as u64
        }
    };
    total.saturating_sub(n).clamp((first / 2).max(1), (2 * n).max(first))
}

/// What one measurement of a level asks the caller to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Try {
    pub level: f64,
    /// Requests to send.
    pub requests: u64,
    /// The longest it may last: `Plan::cap`, within what is left of the level's time.
    pub cap: Duration,
    /// Why it runs.
    pub why: Why,
    /// The level's counts so far: good of determined.
    pub so_far: (u64, u64),
}

/// Why a level is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    First,
    /// It was undecided: more requests.
    Undecided,
    /// The measurement before was client-bound: once again.
    ClientBound,
}

/// One measurement, as the caller's run of it found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Requests that met every objective.
    pub good: u64,
    /// Requests known good or not (`goodput.determined`).
    pub determined: u64,
    /// The client's verdict said it could not drive the load (`client-bound`).
    pub client_bound: bool,
    /// Every request failed.
    pub all_failed: bool,
    /// How long it lasted.
    pub elapsed: Duration,
    /// Requests finished per second.
    pub requests_per_s: f64,
}

/// One measurement as the search judged it, with the level's counts up to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub level: f64,
    /// Requests asked for.
    pub requests: u64,
    pub measured: Measured,
    /// Whether its counts joined the level's: a client-bound measurement measured again is not.
    pub counted: bool,
    /// The level's good and determined requests, every counted measurement so far.
    pub good: u64,
    pub determined: u64,
    /// Their attainment and Wilson 95 % interval.
    pub attainment: Option<f64>,
    pub attainment_ci: Option<(f64, f64)>,
    /// `Some(true)` passed, `Some(false)` failed, `None` undecided (so far).
    pub decided: Option<bool>,
    /// The longest it could last.
    pub cap: Duration,
    /// The level's time so far, this measurement included.
    pub level_elapsed: Duration,
}

/// The search's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    pub variable: Variable,
    /// The largest level that passed, when the level above it (by the search's step) failed.
    pub value: Option<f64>,
    pub passing: Option<f64>,
    pub failing: Option<f64>,
    pub target: f64,
    pub probes: Vec<Probe>,
    /// Why the search stopped, in both languages (English in the JSON).
    pub stop_reason: Text,
}

/// What kind of answer the search gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The capacity: a level passed and the next one up failed.
    Found,
    /// A level passed, but the search stopped before the next one up failed.
    Bracket,
    /// No level passed.
    Nothing,
}

impl Capacity {
    pub fn answer(&self) -> Answer {
        match (self.value, self.passing) {
            (Some(_), _) => Answer::Found,
            (None, Some(_)) => Answer::Bracket,
            (None, None) => Answer::Nothing,
        }
    }

    /// The last measurement of `level`: its counts are the level's.
    pub fn last_of(&self, level: f64) -> Option<&Probe> {
        self.probes.iter().rev().find(|p| p.level == level)
    }

    /// Whether any measurement of `level` that was counted was client-bound.
    pub fn client_bound(&self, level: f64) -> bool {
        self.probes.iter().any(|p| p.level == level && p.counted && p.measured.client_bound)
    }

    /// The level the search stopped on without deciding it, if it did.
    pub fn undecided(&self) -> Option<&Probe> {
        self.probes.last().filter(|p| p.decided.is_none())
    }
}

/// How the search runs.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub variable: Variable,
    pub start: f64,
    pub target: f64,
    /// The longest one level may be measured, all its measurements together.
    pub level_time: Duration,
    /// The longest one measurement may last; a level cut short is measured again.
    pub cap: Option<Duration>,
    /// Levels above this are not tried (the tool's limit).
    pub max_level: f64,
}

/// Judges `good` of `n` against `target`: passed, failed, or undecided.
pub fn decide(good: u64, n: u64, target: f64) -> Option<bool> {
    let (lo, hi) = wilson(good, n)?;
    if lo >= target {
        Some(true)
    } else if hi < target {
        Some(false)
    } else {
        None
    }
}

/// Runs the search; `run` measures what a `Try` asks (`None`: the run was stopped, e.g. by
/// Ctrl-C).
pub fn search(plan: &Plan, run: &mut dyn FnMut(&Try) -> Option<Measured>) -> Capacity {
    let mut c = Capacity {
        variable: plan.variable,
        value: None,
        passing: None,
        failing: None,
        target: plan.target,
        probes: Vec::new(),
        stop_reason: say(String::new(), String::new()),
    };
    let mut level = plan.start;
    let stop = loop {
        let decided = match probe(plan, level, &mut c.probes, run) {
            Err(reason) => break reason,
            Ok(decided) => decided,
        };
        if decided {
            c.passing = Some(level);
        } else {
            c.failing = Some(level);
        }
        let next = match (c.passing, c.failing) {
            (_, None) => Some(next_up(plan.variable, level)).filter(|&l| l <= plan.max_level),
            (None, Some(_)) => {
                let l = show(level);
                break say(format!("the first level, {l}, failed"), format!("第一个级别 {l} 即未通过"));
            }
            (Some(pass), Some(fail)) => plan.variable.between(pass, fail),
        };
        match next {
            Some(l) => level = l,
            None if c.failing.is_none() => {
                let l = show(plan.max_level);
                break say(
                    format!("every level up to the limit {l} passed"),
                    format!("直到上限 {l} 的每个级别都通过了"),
                );
            }
            None => {
                c.value = c.passing;
                break say("converged".into(), "已收敛".into());
            }
        }
    };
    c.stop_reason = stop;
    c
}

/// Measures `level` until it is decided or its time is spent; its decision, or why the search
/// stops.
fn probe(
    plan: &Plan,
    level: f64,
    probes: &mut Vec<Probe>,
    run: &mut dyn FnMut(&Try) -> Option<Measured>,
) -> Result<bool, Text> {
    let first = plan.variable.first_requests(level, plan.target);
    let (mut good, mut n, mut elapsed) = (0u64, 0u64, Duration::ZERO);
    let (mut requests, mut why, mut reran) = (first, Why::First, false);
    loop {
        let left = plan.level_time.saturating_sub(elapsed);
        let cap = plan.cap.map_or(left, |c| c.min(left));
        let t = Try { level, requests, cap, why, so_far: (good, n) };
        let Some(measured) = run(&t) else {
            let l = show(level);
            return Err(say(format!("stopped during level {l}"), format!("在级别 {l} 期间停止")));
        };
        elapsed += measured.elapsed;
        let again = measured.client_bound && !reran;
        if !again {
            good += measured.good;
            n += measured.determined;
        }
        let decided = if again { None } else { decide(good, n, plan.target) };
        let all_failed = measured.all_failed;
        probes.push(Probe {
            level,
            requests,
            measured,
            counted: !again,
            good,
            determined: n,
            attainment: (n > 0).then(|| good as f64 / n as f64),
            attainment_ci: wilson(good, n),
            decided,
            cap,
            level_elapsed: elapsed,
        });
        if all_failed && good == 0 && !again {
            let l = show(level);
            return Err(say(
                format!("every request of level {l} failed: that is an error, not capacity"),
                format!("级别 {l} 的每个请求都失败了：这是错误，不是容量"),
            ));
        }
        if let Some(d) = decided {
            return Ok(d);
        }
        if elapsed >= plan.level_time {
            let (l, t, target) = (show(level), human(elapsed), plan.target);
            return Err(say(
                format!(
                    "level {l} stayed undecided after {t}: its attainment's interval holds the target {target}; give it more time with --max-level-time"
                ),
                format!(
                    "级别 {l} 在 {t} 后仍无法判定：其达成率区间包含目标 {target}；请用 --max-level-time 给它更多时间"
                ),
            ));
        }
        if again {
            reran = true;
            why = Why::ClientBound;
        } else {
            why = Why::Undecided;
            requests = more_requests(good, n, plan.target, first);
        }
    }
}

fn next_up(variable: Variable, level: f64) -> f64 {
    match variable {
        Variable::Concurrency => (level * 2.0).max(level + 1.0),
        Variable::Rate => level * 2.0,
    }
}

/// A text in English and Chinese.
fn say(en: String, zh: String) -> Text {
    Text { en, zh }
}

/// A level as people read it: a whole number without decimals.
pub fn show(level: f64) -> String {
    if level.fract() == 0.0 { format!("{level:.0}") } else { format!("{level:.3}") }
}

/// A duration to the tenth of a second, in minutes past two: `8.0s`, `3m20s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 120.0 { format!("{s:.1}s") } else { format!("{}m{:02}s", (s / 60.0) as u64, s as u64 % 60) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(variable: Variable, start: f64) -> Plan {
        Plan {
            variable,
            start,
            target: 0.95,
            level_time: Duration::from_secs(600),
            cap: None,
            max_level: 10_000.0,
        }
    }

    fn measured(good: u64, n: u64) -> Measured {
        Measured {
            good,
            determined: n,
            client_bound: false,
            all_failed: false,
            elapsed: Duration::from_secs(1),
            requests_per_s: 1.0,
        }
    }

    /// A server whose every request is good up to `capacity` and one in two above.
    fn server(capacity: f64) -> impl FnMut(&Try) -> Option<Measured> {
        move |t| {
            let good = if t.level <= capacity { t.requests } else { t.requests / 2 };
            Some(measured(good, t.requests))
        }
    }

    #[test]
    fn a_label_names_its_level_back() {
        for (v, level) in [
            (Variable::Concurrency, 8.0),
            (Variable::Rate, 12.5),
            (Variable::Rate, 0.25),
            (Variable::Rate, 40.0),
        ] {
            assert_eq!(Variable::parse_label(&v.label(level)), Some((v, level)), "{}", v.label(level));
        }
        assert_eq!(Variable::parse_label("r12.5"), Some((Variable::Rate, 12.5)));
        for bad in ["c0", "c1.5", "c", "r", "r0", "rinf", "r-1", "8", "x8", "c 8", "r1e3"] {
            assert_eq!(Variable::parse_label(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_requests_a_pass_needs_follow_the_wilson_bound() {
        assert_eq!((needed(0.5), needed(0.9), needed(0.95), needed(0.99)), (4, 35, 73, 381));
        for t in [0.5, 0.9, 0.95, 0.99] {
            let n = needed(t);
            assert!(wilson(n, n).unwrap().0 >= t && wilson(n - 1, n - 1).unwrap().0 < t, "{t}");
        }
        assert_eq!(Variable::Concurrency.first_requests(8.0, 0.95), 73);
        assert_eq!(Variable::Concurrency.first_requests(100.0, 0.95), 200);
        assert_eq!(Variable::Rate.first_requests(40.0, 0.95), 80);
        // All good so far: what is left of the pass's count; a near miss: many more, at most 2n.
        assert_eq!(more_requests(100, 100, 0.99, 381), 281);
        assert_eq!(more_requests(95, 100, 0.95, 73), 200);
        assert_eq!(more_requests(80, 100, 0.95, 73), 36);
    }

    #[test]
    fn concurrency_is_found_exactly_by_doubling_then_bisecting() {
        for capacity in [1.0, 8.0, 13.0, 100.0] {
            let c = search(&plan(Variable::Concurrency, 1.0), &mut server(capacity));
            assert_eq!((c.value, c.stop_reason.en.as_str()), (Some(capacity), "converged"), "{c:?}");
            assert_eq!(c.answer(), Answer::Found);
        }
        let c = search(&plan(Variable::Concurrency, 1.0), &mut server(8.0));
        let levels: Vec<f64> = c.probes.iter().map(|p| p.level).collect();
        assert_eq!(levels, [1.0, 2.0, 4.0, 8.0, 16.0, 12.0, 10.0, 9.0]);
        let asked: Vec<u64> = c.probes.iter().map(|p| p.requests).collect();
        assert_eq!(asked, [73, 73, 73, 73, 73, 73, 73, 73], "one measurement a level, sized by the target");
    }

    #[test]
    fn a_rate_is_bracketed_to_its_tolerance() {
        let c = search(&plan(Variable::Rate, 5.0), &mut server(33.0));
        let (pass, fail) = (c.passing.unwrap(), c.failing.unwrap());
        assert!(pass <= 33.0 && fail > 33.0 && (fail - pass) / pass <= RATE_TOLERANCE, "{c:?}");
        assert_eq!((c.value, c.answer()), (Some(pass), Answer::Found));
    }

    #[test]
    fn an_undecided_level_gets_more_requests_pooled_until_it_is_decided() {
        let mut calls = Vec::new();
        // 96 % good: undecided at 73, decided once the pooled interval clears 0.95.
        let mut run = |t: &Try| {
            calls.push((t.requests, t.why, t.so_far));
            Some(measured(t.requests * 24 / 25, t.requests))
        };
        let c = search(&Plan { max_level: 1.0, ..plan(Variable::Concurrency, 1.0) }, &mut run);
        assert_eq!(calls[0], (73, Why::First, (0, 0)));
        assert_eq!(calls[1].1, Why::Undecided);
        assert_eq!(calls[1].2, (70, 73));
        assert!(calls.len() > 2, "{calls:?}");
        let last = c.probes.last().unwrap();
        assert_eq!((last.decided, c.passing), (Some(true), Some(1.0)), "{c:?}");
        assert_eq!(last.determined, c.probes.iter().map(|p| p.measured.determined).sum::<u64>());
    }

    #[test]
    fn a_level_still_undecided_when_its_time_is_spent_ends_the_search_with_what_is_known() {
        // Passes up to 8, sits on the target at 10, fails above.
        let mut run = |t: &Try| {
            let good = match t.level {
                l if l <= 8.0 => t.requests,
                10.0 => t.requests * 95 / 100,
                _ => 0,
            };
            Some(Measured { elapsed: Duration::from_secs(30), ..measured(good, t.requests) })
        };
        let c = search(
            &Plan { level_time: Duration::from_secs(120), ..plan(Variable::Concurrency, 1.0) },
            &mut run,
        );
        assert_eq!((c.passing, c.failing, c.value), (Some(8.0), Some(12.0), None), "{c:?}");
        assert_eq!(c.answer(), Answer::Bracket);
        assert!(c.stop_reason.en.starts_with("level 10 stayed undecided after 2m00s"), "{}", c.stop_reason);
        let u = c.undecided().unwrap();
        assert_eq!((u.level, u.level_elapsed), (10.0, Duration::from_secs(120)));
        let caps: Vec<u64> = c.probes.iter().filter(|p| p.level == 10.0).map(|p| p.cap.as_secs()).collect();
        assert_eq!(caps, [120, 90, 60, 30], "each measurement gets what is left of the level's time");
    }

    #[test]
    fn a_level_cut_short_by_the_measurement_cap_is_measured_again_and_pooled() {
        // 8 s measurements of 13 requests each (one every 0.6 s), every one good: c1 passes once
        // 73 are pooled, as the scenario of a slow first level with -d 8s.
        let mut calls = Vec::new();
        let mut run = |t: &Try| {
            calls.push((t.requests, t.cap.as_secs()));
            let done = t.requests.min(13);
            Some(Measured { elapsed: Duration::from_secs(8), ..measured(done, done) })
        };
        let p =
            Plan { cap: Some(Duration::from_secs(8)), max_level: 1.0, ..plan(Variable::Concurrency, 1.0) };
        let c = search(&p, &mut run);
        assert_eq!(c.passing, Some(1.0), "{c:?}");
        assert_eq!(calls.len(), 6, "{calls:?}"); // 6 × 13 = 78 ≥ 73
        assert!(calls.iter().all(|&(_, cap)| cap == 8), "{calls:?}");
        assert_eq!(calls[1].0, 60, "the rest of the 73 a pass needs");
    }

    #[test]
    fn a_client_bound_level_is_measured_again_once_then_used_and_named() {
        let mut calls = 0;
        let mut bound_at_2 = |t: &Try| {
            calls += 1;
            let mut m = measured(if t.level <= 2.0 { t.requests } else { 0 }, t.requests);
            m.client_bound = t.level == 2.0;
            Some(m)
        };
        let c = search(&plan(Variable::Concurrency, 1.0), &mut bound_at_2);
        assert_eq!((c.value, c.answer()), (Some(2.0), Answer::Found), "{c:?}");
        let at_2: Vec<(bool, Option<bool>)> =
            c.probes.iter().filter(|p| p.level == 2.0).map(|p| (p.counted, p.decided)).collect();
        assert_eq!(at_2, [(false, None), (true, Some(true))]);
        assert!(c.client_bound(2.0) && !c.client_bound(1.0));
        assert_eq!(calls, 5); // c1, c2 twice, c4, c3
        // Client-bound once: the second measurement alone counts.
        let mut first_bound = |t: &Try| {
            let mut m = measured(if t.why == Why::First { 0 } else { t.requests }, t.requests);
            m.client_bound = t.why == Why::First;
            Some(m)
        };
        let c = search(&Plan { max_level: 1.0, ..plan(Variable::Concurrency, 1.0) }, &mut first_bound);
        assert_eq!((c.passing, c.client_bound(1.0)), (Some(1.0), false), "{c:?}");
    }

    #[test]
    fn every_other_end_is_named() {
        let mut failing = |t: &Try| Some(Measured { all_failed: true, ..measured(0, t.requests) });
        let c = search(&plan(Variable::Concurrency, 1.0), &mut failing);
        assert!(c.stop_reason.en.contains("every request of level 1 failed"), "{}", c.stop_reason);
        assert_eq!(c.answer(), Answer::Nothing);
        let c = search(&plan(Variable::Concurrency, 2.0), &mut server(1.0));
        assert_eq!((c.stop_reason.en.as_str(), c.answer()), ("the first level, 2, failed", Answer::Nothing));
        let c = search(&Plan { max_level: 4.0, ..plan(Variable::Concurrency, 1.0) }, &mut server(100.0));
        assert_eq!(
            (c.stop_reason.en.as_str(), c.answer()),
            ("every level up to the limit 4 passed", Answer::Bracket)
        );
        let mut stopped = |_: &Try| None;
        assert_eq!(search(&plan(Variable::Rate, 2.0), &mut stopped).stop_reason.en, "stopped during level 2");
    }
}
