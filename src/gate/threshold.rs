//! `--threshold 'METRIC.STAT OP VALUE'`: parsed once before the run (a bad expression stops it
//! with exit 2 before any request), checked against the run's JSON summary after it. Values are
//! kept in the JSON's units: milliseconds for times, a fraction for rates.

use super::{Kind, Op, Subject, ms_per, number_and_unit, split};
use crate::util::decimals::six;
use serde::Serialize;
use serde_json::Value;

const EXAMPLE: &str = "ttft.p95<500ms or success_rate>=99%";

/// One parsed `--threshold`.
#[derive(Debug, Clone)]
pub struct Threshold {
    /// The expression as given (trimmed), for the table and the JSON.
    pub expr: String,
    pub subject: Subject,
    pub op: Op,
    /// The bound, in the JSON's unit for the subject (ms, a fraction, a plain number).
    pub value: f64,
}

/// One threshold checked against a summary: an element of the JSON's `thresholds`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checked {
    /// The expression as given.
    pub expr: String,
    /// The summary's value for its metric, in the JSON's unit (ms, a fraction, per second);
    /// `null` when the run has no data for it (the threshold then fails).
    #[serde(serialize_with = "six")]
    pub actual: Option<f64>,
    /// Whether the value meets the threshold.
    pub pass: bool,
    /// Why it failed without a value, for the table and stderr.
    #[serde(skip)]
    pub why: Option<String>,
    /// What `actual` is, to write it with its unit.
    #[serde(skip)]
    pub kind: Kind,
}

impl Threshold {
    /// Parses `expr`, or says which part is wrong and how to write it.
    pub fn parse(expr: &str) -> Result<Threshold, String> {
        let expr = expr.trim();
        let (subject, op, right) = split(expr, EXAMPLE)?;
        let value = bound(&subject, &right)?;
        Ok(Threshold { expr: expr.to_string(), subject, op, value })
    }

    /// Checks the threshold against the JSON summary `s`.
    pub fn check(&self, s: &Value) -> Checked {
        let actual = self.subject.value(s);
        Checked {
            expr: self.expr.clone(),
            actual,
            pass: actual.is_some_and(|a| self.op.holds(a, self.value)),
            why: actual.is_none().then(|| self.subject.missing(s)),
            kind: self.subject.kind(),
        }
    }
}

/// The bound `text` gives for `subject`, in the JSON's unit.
fn bound(subject: &Subject, text: &str) -> Result<f64, String> {
    let Some((n, unit)) = number_and_unit(text) else {
        return Err(format!("{text:?} is not a number: give a value such as {}", example_of(subject.kind())));
    };
    if n < 0.0 {
        return Err(format!("{text:?} is negative: {subject} is never below 0"));
    }
    match subject.kind() {
        Kind::Time => match (unit, ms_per(unit)) {
            ("", _) => Err(format!(
                "the value {text} has no unit and {subject} is a time: write {text}ms or {text}s"
            )),
            (_, Some(scale)) => Ok(n * scale),
            (_, None) => {
                Err(format!("unknown time unit {unit:?} in {text:?}: use us, ms, s or m (500ms, 1.5s)"))
            }
        },
        Kind::Share => match unit {
            "%" if n <= 100.0 => Ok(n / 100.0),
            "" if n <= 1.0 => Ok(n),
            "%" => Err(format!("{text} is more than 100%: a rate is at most 100%")),
            "" => Err(format!(
                "{text} is more than 1: {subject} is a fraction, so write {} or {text}%",
                n / 100.0
            )),
            _ => Err(format!(
                "{subject} is a rate: write a fraction (0.99) or a percentage (99%), not {text:?}"
            )),
        },
        Kind::Number if unit.is_empty() => Ok(n),
        Kind::Number => Err(format!(
            "{subject} is a plain number: drop {unit:?} (write {})",
            &text[..text.len() - unit.len()].trim()
        )),
    }
}

fn example_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Time => "500ms or 1.5s",
        Kind::Share => "0.99 or 99%",
        Kind::Number => "10 or 2.5",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(expr: &str) -> Threshold {
        Threshold::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    fn err(expr: &str) -> String {
        Threshold::parse(expr).unwrap_err()
    }

    #[test]
    fn expressions_parse_into_the_jsons_units() {
        let cases = [
            ("ttft.p95<500ms", "ttft.p95", Op::Lt, 500.0),
            (" ttft.p95 <= 1.5s ", "ttft.p95", Op::Le, 1500.0),
            ("itl.p50>800us", "itl.p50", Op::Gt, 0.8),
            ("e2e.max >= 2m", "e2e.max", Op::Ge, 120_000.0),
            ("success_rate>=99%", "success_rate", Op::Ge, 0.99),
            ("success_rate >= 0.995", "success_rate", Op::Ge, 0.995),
            ("error_rate<0.5%", "error_rate", Op::Lt, 0.005),
            ("req_s>10", "req_s", Op::Gt, 10.0),
            ("output_tok_s >= 2500.5", "output_tok_s", Op::Ge, 2500.5),
            ("output_tokens.mean>100", "output_tokens.mean", Op::Gt, 100.0),
        ];
        for (expr, subject, op, value) in cases {
            let th = t(expr);
            assert_eq!(
                (th.subject.to_string(), th.op, th.expr.as_str()),
                (subject.to_string(), op, expr.trim())
            );
            assert!((th.value - value).abs() < 1e-12, "{expr}: {} != {value}", th.value);
        }
    }

    #[test]
    fn each_bad_part_is_named_with_its_fix() {
        assert_eq!(
            err("ttft.p95<500"),
            "the value 500 has no unit and ttft.p95 is a time: write 500ms or 500s"
        );
        assert_eq!(
            err("ttft.p95 < 5 sec"),
            "unknown time unit \"sec\" in \"5 sec\": use us, ms, s or m (500ms, 1.5s)"
        );
        assert_eq!(
            err("ttft.p95 = 5ms"),
            "= is not a comparison here: use <, <=, > or >=, as in ttft.p95<500ms or success_rate>=99%"
        );
        assert_eq!(
            err("ttft.p95 500ms"),
            "it has no comparison: use <, <=, > or >=, as in ttft.p95<500ms or success_rate>=99%"
        );
        assert_eq!(
            err("ttft.p95 =< 5ms"),
            "\"ttft.p95 =\" ends in a stray character before the comparison: write it as ttft.p95<500ms or success_rate>=99%"
        );
        assert_eq!(
            err("ttft.p95 <"),
            "nothing follows <: give a value, as in ttft.p95<500ms or success_rate>=99%"
        );
        assert_eq!(
            err("ttft.p95 << 5ms"),
            "\"< 5ms\" holds a second comparison: give one comparison, as in ttft.p95<500ms or success_rate>=99%"
        );
        assert_eq!(err("ttft.p95 < fast"), "\"fast\" is not a number: give a value such as 500ms or 1.5s");
        assert_eq!(err("ttft.p95 < -5ms"), "\"-5ms\" is negative: ttft.p95 is never below 0");
        assert_eq!(
            err("success_rate > 99"),
            "99 is more than 1: success_rate is a fraction, so write 0.99 or 99%"
        );
        assert_eq!(err("success_rate > 101%"), "101% is more than 100%: a rate is at most 100%");
        assert_eq!(err("req_s > 10/s"), "req_s is a plain number: drop \"/s\" (write 10)");
        assert!(err("ttfx.p95<5ms").starts_with("unknown metric \"ttfx\""));
        assert!(err("<5ms").starts_with("it names no metric before the comparison"));
    }

    #[test]
    fn checks_pass_fail_and_fail_without_data() {
        let s = json!({
            "requests": {"ok": 0, "failed": 2}, "success_rate": 0.0,
            "metrics": {"ttft_ms": {"p95": 500.0}, "itl_ms": null},
        });
        let c = t("ttft.p95<=500ms").check(&s);
        assert_eq!((c.actual, c.pass, c.why), (Some(500.0), true, None));
        assert!(!t("ttft.p95<500ms").check(&s).pass);
        assert!(t("error_rate>=100%").check(&s).pass);
        let c = t("itl.p99<50ms").check(&s);
        assert_eq!((c.actual, c.pass), (None, false));
        assert_eq!(
            c.why.as_deref(),
            Some("no data: no successful request measured itl (see the errors above)")
        );
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"expr":"itl.p99<50ms","actual":null,"pass":false}"#);
    }
}
