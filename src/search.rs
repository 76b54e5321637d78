//! The capacity search of `llmload sweep --find`: the largest load level whose SLO attainment
//! meets a target. It doubles the level from a start until a level fails, then bisects between
//! the last that passed and the first that failed: to the unit for a concurrency, to 5 % for a
//! rate. A level passes or fails only when its attainment's 95 % interval lies wholly above or
//! below the target; otherwise it is measured again for longer, up to a limit, and if it is
//! still undecided the search stops and says so. A level the client itself could not drive
//! (`client-bound`), or whose every request failed, is never used as a bound. Pure: running a
//! level is the caller's closure.

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

    /// The level halfway between `pass` and `fail`, or `None` once they are close enough.
    fn between(self, pass: f64, fail: f64) -> Option<f64> {
        match self {
            Variable::Concurrency => {
                let mid = ((pass + fail) / 2.0).floor();
                (mid > pass && mid < fail).then_some(mid)
            }
            Variable::Rate => ((fail - pass) / pass > 0.05).then_some((pass + fail) / 2.0),
        }
    }
}

/// One level's measurement, as the caller's run of it found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub attainment: Option<f64>,
    pub attainment_ci: Option<(f64, f64)>,
    /// The client's verdict said it could not drive the load (`client-bound`).
    pub client_bound: bool,
    /// Every request failed.
    pub all_failed: bool,
}

/// A level as the search judged it.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub level: f64,
    pub measured: Measured,
    /// `Some(true)` passed, `Some(false)` failed, `None` undecided.
    pub decided: Option<bool>,
    pub duration: Duration,
}

/// The search's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    pub variable: Variable,
    /// The largest level that passed, when one did and the search ended cleanly.
    pub value: Option<f64>,
    pub passing: Option<f64>,
    pub failing: Option<f64>,
    pub target: f64,
    pub probes: Vec<Probe>,
    pub stop_reason: String,
}

/// How the search runs.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub variable: Variable,
    pub start: f64,
    pub target: f64,
    /// Each level's first measurement lasts this long.
    pub duration: Duration,
    /// An undecided level is measured again for twice as long, up to this.
    pub max_duration: Duration,
    /// Levels above this are not tried (the tool's limit).
    pub max_level: f64,
}

/// Judges `m` against `target`: passed, failed, or undecided.
pub fn decide(m: &Measured, target: f64) -> Option<bool> {
    let (lo, hi) = m.attainment_ci?;
    if lo >= target {
        Some(true)
    } else if hi < target {
        Some(false)
    } else {
        None
    }
}

/// Runs the search; `run(level, duration)` measures one level (`None`: the run was stopped,
/// e.g. by Ctrl-C).
pub fn search(plan: &Plan, run: &mut dyn FnMut(f64, Duration) -> Option<Measured>) -> Capacity {
    let mut c = Capacity {
        variable: plan.variable,
        value: None,
        passing: None,
        failing: None,
        target: plan.target,
        probes: Vec::new(),
        stop_reason: String::new(),
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
            (None, Some(_)) => break format!("the first level, {}, failed", show(level)),
            (Some(pass), Some(fail)) => plan.variable.between(pass, fail),
        };
        match next {
            Some(l) => level = l,
            None if c.failing.is_none() => {
                break format!("every level up to the limit {} passed", show(plan.max_level));
            }
            None => break "converged".to_string(),
        }
    };
    if stop == "converged" {
        c.value = c.passing;
    }
    c.stop_reason = stop;
    c
}

/// Measures `level`, again for longer while undecided; its decision, or why the search stops.
fn probe(
    plan: &Plan,
    level: f64,
    probes: &mut Vec<Probe>,
    run: &mut dyn FnMut(f64, Duration) -> Option<Measured>,
) -> Result<bool, String> {
    let mut duration = plan.duration;
    loop {
        let Some(measured) = run(level, duration) else {
            return Err(format!("stopped during level {}", show(level)));
        };
        let decided = decide(&measured, plan.target);
        let (client_bound, all_failed) = (measured.client_bound, measured.all_failed);
        probes.push(Probe { level, measured, decided, duration });
        if client_bound {
            return Err(format!(
                "level {} was client-bound: the client, not the server, limited it; give the client more cores or split the load across machines",
                show(level)
            ));
        }
        if all_failed {
            return Err(format!(
                "every request of level {} failed: that is an error, not capacity",
                show(level)
            ));
        }
        if let Some(d) = decided {
            return Ok(d);
        }
        if duration >= plan.max_duration {
            return Err(format!(
                "level {} stayed undecided: its attainment's interval holds the target {} after {:?}; raise --max-level-time",
                show(level),
                plan.target,
                duration
            ));
        }
        duration = (duration * 2).min(plan.max_duration);
    }
}

fn next_up(variable: Variable, level: f64) -> f64 {
    match variable {
        Variable::Concurrency => (level * 2.0).max(level + 1.0),
        Variable::Rate => level * 2.0,
    }
}

/// A level as people read it: a whole number without decimals.
pub fn show(level: f64) -> String {
    if level.fract() == 0.0 { format!("{level:.0}") } else { format!("{level:.3}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(variable: Variable, start: f64) -> Plan {
        Plan {
            variable,
            start,
            target: 0.95,
            duration: Duration::from_secs(10),
            max_duration: Duration::from_secs(40),
            max_level: 10_000.0,
        }
    }

    /// A server that meets the target up to `capacity`, with intervals of width 0.02.
    fn server(capacity: f64) -> impl FnMut(f64, Duration) -> Option<Measured> {
        move |level, _| {
            let a = if level <= capacity { 0.99 } else { 0.5 };
            Some(Measured {
                attainment: Some(a),
                attainment_ci: Some((a - 0.01, a + 0.01)),
                client_bound: false,
                all_failed: false,
            })
        }
    }

    #[test]
    fn concurrency_is_found_exactly_by_doubling_then_bisecting() {
        for capacity in [1.0, 8.0, 13.0, 100.0] {
            let c = search(&plan(Variable::Concurrency, 1.0), &mut server(capacity));
            assert_eq!((c.value, c.stop_reason.as_str()), (Some(capacity), "converged"), "{c:?}");
        }
        let levels: Vec<f64> = search(&plan(Variable::Concurrency, 1.0), &mut server(8.0))
            .probes
            .iter()
            .map(|p| p.level)
            .collect();
        assert_eq!(levels, [1.0, 2.0, 4.0, 8.0, 16.0, 12.0, 10.0, 9.0]);
    }

    #[test]
    fn a_rate_is_found_to_five_percent() {
        let c = search(&plan(Variable::Rate, 5.0), &mut server(33.0));
        let (pass, fail) = (c.passing.unwrap(), c.failing.unwrap());
        assert!(pass <= 33.0 && fail > 33.0 && (fail - pass) / pass <= 0.05, "{c:?}");
        assert_eq!(c.value, Some(pass));
    }

    #[test]
    fn an_undecided_level_is_measured_longer_then_reported() {
        let mut calls = Vec::new();
        let mut run = |level: f64, d: Duration| {
            calls.push((level, d.as_secs()));
            Some(Measured {
                attainment: Some(0.95),
                attainment_ci: Some((0.9, 0.99)),
                client_bound: false,
                all_failed: false,
            })
        };
        let c = search(&plan(Variable::Concurrency, 4.0), &mut run);
        assert_eq!(calls, [(4.0, 10), (4.0, 20), (4.0, 40)]);
        assert_eq!(c.value, None);
        assert!(c.stop_reason.starts_with("level 4 stayed undecided"), "{}", c.stop_reason);
    }

    #[test]
    fn client_bound_and_all_failed_levels_are_never_bounds() {
        let mut bound = |_: f64, _: Duration| {
            Some(Measured {
                attainment: Some(0.2),
                attainment_ci: Some((0.1, 0.3)),
                client_bound: true,
                all_failed: false,
            })
        };
        let c = search(&plan(Variable::Concurrency, 1.0), &mut bound);
        assert_eq!((c.value, c.failing), (None, None));
        assert!(c.stop_reason.contains("client-bound"), "{}", c.stop_reason);
        let mut failing = |_: f64, _: Duration| {
            Some(Measured {
                attainment: Some(0.0),
                attainment_ci: Some((0.0, 0.1)),
                client_bound: false,
                all_failed: true,
            })
        };
        let c = search(&plan(Variable::Concurrency, 1.0), &mut failing);
        assert!(c.stop_reason.contains("every request of level 1 failed"), "{}", c.stop_reason);
        assert_eq!(
            search(&plan(Variable::Concurrency, 2.0), &mut server(1.0)).stop_reason,
            "the first level, 2, failed"
        );
        let mut stopped = |_: f64, _: Duration| None;
        assert_eq!(search(&plan(Variable::Rate, 2.0), &mut stopped).stop_reason, "stopped during level 2");
    }
}
