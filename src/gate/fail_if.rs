//! `compare --fail-if 'METRIC.STAT OP CHANGE'`: a gate on the change from a base summary to a new
//! one. The change is relative with `%` (`ttft.p95>+10%`: the new p95 is more than 10 % above the
//! base's) or absolute in the subject's unit (`ttft.p95>+50ms`, `success_rate<-0.5pp`,
//! `req_s<-5`). The sign is optional (`>10%` means `>+10%`). A trailing `significant`
//! (`ttft.p99>+10% significant`) breaches the gate only when the change is also significant:
//! its bootstrap interval, from the two runs' per-request samples, excludes 0; it is for a
//! statistic of a metric that records hold per request (`SAMPLED`), not min or max.

use super::{Kind, Op, Subject, ms_per, number_and_unit, split};
use crate::stats::significance::{Interval, Statistic};
use serde_json::Value;

/// The metrics records hold per request, so a change in them can be tested for significance.
pub const SAMPLED: &[&str] = &["ttfb", "ttfe", "ttft", "ttfa", "itl", "tpot", "e2e"];

/// The word after a change that asks for a significant one.
const SIGNIFICANT: &str = "significant";

const EXAMPLE: &str = "ttft.p95>+10% or success_rate<-0.5pp";

/// How a gate measures the change from base to new.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// (new − base) / base, as a fraction (10 % is 0.1).
    Relative(f64),
    /// new − base, in the JSON's unit for the subject (ms, a fraction, a plain number).
    Absolute(f64),
}

/// One parsed `--fail-if`.
#[derive(Debug, Clone)]
pub struct FailIf {
    pub expr: String,
    pub subject: Subject,
    pub op: Op,
    pub limit: Change,
    /// `significant`: breached only when the change is also significant.
    pub significant: bool,
}

/// A gate checked against two summaries.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub base: Option<f64>,
    pub new: Option<f64>,
    /// The change, measured as the gate measures it (a fraction for `%`); `None` without data.
    pub change: Option<f64>,
    /// Whether the change breaches the gate (a gate without data is breached).
    pub breached: bool,
    /// For a `significant` gate: the bootstrap interval of new − base the change was judged by;
    /// `None` when there were too few samples to judge (the gate is then breached, as without data).
    pub interval: Option<Interval>,
}

/// The absolute and relative change from `base` to `new`; the relative one is infinite when
/// the base is 0 and the new value is not.
pub fn change(base: f64, new: f64) -> (f64, f64) {
    let abs = new - base;
    let rel = if base != 0.0 {
        abs / base.abs()
    } else if abs == 0.0 {
        0.0
    } else {
        f64::INFINITY.copysign(abs)
    };
    (abs, rel)
}

impl FailIf {
    /// Parses `expr`, or says which part is wrong and how to write it.
    pub fn parse(expr: &str) -> Result<FailIf, String> {
        let expr = expr.trim();
        let (subject, op, right) = split(expr, EXAMPLE)?;
        let (right, significant) = match right.strip_suffix(SIGNIFICANT) {
            Some(r) if r.trim().is_empty() => {
                return Err(format!(
                    "{SIGNIFICANT} follows no change: write it after one, as in ttft.p99>+10% {SIGNIFICANT}"
                ));
            }
            Some(r) => (r.trim_end().to_string(), true),
            None => (right, false),
        };
        if let Some((_, extra)) = right.split_once(char::is_whitespace) {
            return Err(format!(
                "{:?} follows the change: only {SIGNIFICANT} may, as in ttft.p99>+10% {SIGNIFICANT}",
                extra.trim()
            ));
        }
        if significant {
            sampled(&subject)?;
        }
        let limit = limit(&subject, &right)?;
        Ok(FailIf { expr: expr.to_string(), subject, op, limit, significant })
    }

    /// The gate on the change from the JSON summary `base` to `new`; a `significant` one is
    /// held unless `interval` (of new − base, from the runs' samples) excludes 0, and breached,
    /// as one without data, when there is no interval.
    pub fn check(&self, base: &Value, new: &Value, interval: Option<Interval>) -> Verdict {
        let (b, n) = (self.subject.value(base), self.subject.value(new));
        let change = b.zip(n).map(|(b, n)| {
            let (abs, rel) = change(b, n);
            if matches!(self.limit, Change::Relative(_)) { rel } else { abs }
        });
        let bound = match self.limit {
            Change::Relative(x) | Change::Absolute(x) => x,
        };
        let beyond = change.is_none_or(|c| self.op.holds(c, bound));
        let real = !self.significant || interval.is_none_or(|i| i.significant());
        let interval = if self.significant { interval } else { None };
        Verdict { base: b, new: n, change, breached: beyond && real, interval }
    }
}

/// The metric (`ttft`) and the statistic (`p99`) of `subject` whose change a bootstrap can judge
/// from per-request samples, or why it cannot.
pub fn sampled(subject: &Subject) -> Result<(&'static str, Statistic), String> {
    let text = subject.to_string();
    let (name, stat) = text.split_once('.').unwrap_or((&text, ""));
    let Some(&metric) = SAMPLED.iter().find(|m| **m == name) else {
        return Err(format!(
            "{subject} is not measured per request, so its change cannot be tested for {SIGNIFICANT}: use {SIGNIFICANT} with {}",
            SAMPLED.join(", ")
        ));
    };
    let q = stat.strip_prefix('p').and_then(|p| p.parse::<f64>().ok()).filter(|p| *p > 0.0 && *p < 100.0);
    match (stat, q) {
        ("mean", _) => Ok((metric, Statistic::Mean)),
        (_, Some(p)) => Ok((metric, Statistic::Quantile(p / 100.0))),
        _ => Err(format!(
            "the {stat} of a sample has no bootstrap interval, so {subject} cannot be tested for {SIGNIFICANT}: use a percentile ({name}.p99) or the mean ({name}.mean)"
        )),
    }
}

/// The change `text` gives for `subject`.
fn limit(subject: &Subject, text: &str) -> Result<Change, String> {
    let Some((n, unit)) = number_and_unit(text) else {
        return Err(format!(
            "{text:?} is not a change: give one such as +10% or {}",
            absolute_example(subject.kind())
        ));
    };
    if unit == "%" {
        return Ok(Change::Relative(n / 100.0));
    }
    match subject.kind() {
        Kind::Time => match (unit, ms_per(unit)) {
            ("", _) => Err(format!(
                "the change {text} has neither % nor a unit and {subject} is a time: write {text}% (relative) or {text}ms (absolute)"
            )),
            (_, Some(scale)) => Ok(Change::Absolute(n * scale)),
            (_, None) => {
                Err(format!("unknown unit {unit:?} in {text:?}: use % (relative) or us, ms, s, m (absolute)"))
            }
        },
        Kind::Share => match unit {
            "pp" => Ok(Change::Absolute(n / 100.0)),
            "" if n.abs() <= 1.0 => Ok(Change::Absolute(n)),
            _ => Err(format!(
                "{text:?} is not a change of a rate: write a relative change ({n}%) or percentage points ({n}pp)"
            )),
        },
        Kind::Number if unit.is_empty() => Ok(Change::Absolute(n)),
        Kind::Number => Err(format!(
            "{subject} is a plain number: write a relative change ({n}%) or an absolute one without a unit ({n})"
        )),
    }
}

fn absolute_example(kind: Kind) -> &'static str {
    match kind {
        Kind::Time => "+50ms",
        Kind::Share => "-0.5pp",
        Kind::Number => "-5",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(expr: &str) -> FailIf {
        FailIf::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    #[test]
    fn changes_parse_relative_and_absolute() {
        let cases = [
            ("ttft.p95>+10%", Op::Gt, Change::Relative(0.1)),
            ("ttft.p95 > 10%", Op::Gt, Change::Relative(0.1)),
            ("ttft.p95>+50ms", Op::Gt, Change::Absolute(50.0)),
            ("e2e.p99 >= 1.5s", Op::Ge, Change::Absolute(1500.0)),
            ("success_rate<-0.5%", Op::Lt, Change::Relative(-0.005)),
            ("success_rate<-0.5pp", Op::Lt, Change::Absolute(-0.005)),
            ("error_rate>0.01", Op::Gt, Change::Absolute(0.01)),
            ("req_s<-5", Op::Lt, Change::Absolute(-5.0)),
        ];
        for (expr, op, limit) in cases {
            let g = f(expr);
            assert_eq!((g.op, g.limit), (op, limit), "{expr}");
        }
    }

    #[test]
    fn bad_changes_say_what_to_write() {
        let e = |x: &str| FailIf::parse(x).unwrap_err();
        assert_eq!(
            e("ttft.p95>+10"),
            "the change +10 has neither % nor a unit and ttft.p95 is a time: write +10% (relative) or +10ms (absolute)"
        );
        assert_eq!(
            e("success_rate<-5"),
            "\"-5\" is not a change of a rate: write a relative change (-5%) or percentage points (-5pp)"
        );
        assert_eq!(
            e("req_s<-5ms"),
            "req_s is a plain number: write a relative change (-5%) or an absolute one without a unit (-5)"
        );
        assert_eq!(e("ttft.p95>more"), "\"more\" is not a change: give one such as +10% or +50ms");
        assert!(e("ttft.p95=10%").starts_with("= is not a comparison here"));
        assert_eq!(
            e("req_s<-5% significant"),
            "req_s is not measured per request, so its change cannot be tested for significant: use significant with ttfb, ttfe, ttft, ttfa, itl, tpot, e2e"
        );
        assert_eq!(
            e("ttft.max>+10% significant"),
            "the max of a sample has no bootstrap interval, so ttft.max cannot be tested for significant: use a percentile (ttft.p99) or the mean (ttft.mean)"
        );
        assert!(e("ttft.p99> significant").starts_with("significant follows no change"));
        assert_eq!(
            e("ttft.p99>+10% signifcant"),
            "\"signifcant\" follows the change: only significant may, as in ttft.p99>+10% significant"
        );
    }

    #[test]
    fn significant_gates_parse_and_need_a_significant_change() {
        let g = f("ttft.p99 > +10% significant");
        assert_eq!((g.op, g.limit, g.significant), (Op::Gt, Change::Relative(0.1), true));
        assert!(!f("ttft.p99>+10%").significant);
        assert_eq!(sampled(&g.subject), Ok(("ttft", Statistic::Quantile(0.99))));
        assert_eq!(sampled(&f("itl.mean>+1ms").subject), Ok(("itl", Statistic::Mean)));
        let base = json!({"metrics": {"ttft_ms": {"p99": 100.0}}});
        let new = json!({"metrics": {"ttft_ms": {"p99": 150.0}}});
        let real = Interval { estimate: 50.0, low: 40.0, high: 60.0 };
        let noise = Interval { estimate: 50.0, low: -5.0, high: 90.0 };
        let v = g.check(&base, &new, Some(real));
        assert_eq!((v.breached, v.interval), (true, Some(real)));
        assert!(!g.check(&base, &new, Some(noise)).breached);
        // No interval (too few samples): breached, as a gate without data.
        assert!(g.check(&base, &new, None).breached);
        // A change within the limit holds, significant or not.
        assert!(!f("ttft.p99>+60% significant").check(&base, &new, Some(real)).breached);
        // A plain gate ignores an interval.
        let plain = f("ttft.p99>+10%").check(&base, &new, Some(noise));
        assert_eq!((plain.breached, plain.interval), (true, None));
    }

    #[test]
    fn gates_judge_the_change() {
        let base = json!({"metrics": {"ttft_ms": {"p95": 100.0}}, "success_rate": 1.0, "requests": {"ok": 10, "failed": 0}});
        let new = json!({"metrics": {"ttft_ms": {"p95": 112.0}}, "success_rate": 0.99, "requests": {"ok": 99, "failed": 1}});
        let v = f("ttft.p95>+10%").check(&base, &new, None);
        assert_eq!((v.base, v.new, v.breached), (Some(100.0), Some(112.0), true));
        assert!((v.change.unwrap() - 0.12).abs() < 1e-12);
        assert!(!f("ttft.p95>+15%").check(&base, &new, None).breached);
        assert!(!f("ttft.p95>+12ms").check(&base, &new, None).breached);
        assert!(f("ttft.p95>=+12ms").check(&base, &new, None).breached);
        assert!(f("success_rate<-0.5pp").check(&base, &new, None).breached);
        assert!(!f("success_rate<-1.5%").check(&base, &new, None).breached);
        // From no errors to some: an infinite relative rise.
        let v = f("error_rate>+10%").check(&base, &new, None);
        assert_eq!((v.change, v.breached), (Some(f64::INFINITY), true));
        // No data on one side breaches the gate.
        let v = f("itl.p99>+10%").check(&base, &new, None);
        assert_eq!((v.base, v.change, v.breached), (None, None, true));
        assert_eq!(change(0.0, 0.0), (0.0, 0.0));
        assert_eq!(change(200.0, 150.0), (-50.0, -0.25));
    }
}
