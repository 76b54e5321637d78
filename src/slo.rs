//! Service-level objectives per request (`--slo 'ttft<=500ms,tpot<=50ms'`), in DistServe's and
//! vLLM's sense: a request is *good* when it succeeded and met every objective. This module owns
//! the parsing (pure text in, an `Slo` or a sentence that points at the bad part), the judgement
//! of one `Measurement` (`Slo::judge`), the tally of judgements (`SloTally`, mergeable like the
//! rest of `stats`) and the Wilson score interval of the attainment. It does not aggregate runs
//! (`stats` holds a tally), serialize (`summary`) or print (`output`).
//!
//! Each metric's per-request value comes from one place, `Metric::value`; a metric without a
//! value for a request (TPOT of a one-token answer, ITL of a single text event) leaves the
//! objective *undetermined* for it.

use crate::measure::{Measurement, Outcome};
use std::ops::AddAssign;
use std::time::Duration;

const EXAMPLE: &str = "ttft<=500ms,tpot<=50ms";

/// A per-request value an objective can bound. A new one (a from-schedule TTFT) is one more
/// variant, its name and its `value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Request sent → first text event.
    Ttft,
    /// (E2E − TTFT) / (output tokens − 1); needs at least 2 tokens.
    Tpot,
    /// Request sent → end of stream.
    E2e,
    /// Every gap between consecutive text events: the request's largest gap is judged, so the
    /// objective holds when every gap meets it. Needs at least 2 text events.
    Itl,
    /// TTFT from the request's intended start (its place in the `--rate` schedule, or when its
    /// worker was free): a wait the client or a full worker pool added counts against it.
    TtftSched,
    /// E2E from the request's intended start.
    E2eSched,
}

/// Every metric, in the order messages list them.
const METRICS: &[Metric] =
    &[Metric::Ttft, Metric::Tpot, Metric::E2e, Metric::Itl, Metric::TtftSched, Metric::E2eSched];

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Ttft => "ttft",
            Metric::Tpot => "tpot",
            Metric::E2e => "e2e",
            Metric::Itl => "itl",
            Metric::TtftSched => "ttft_sched",
            Metric::E2eSched => "e2e_sched",
        }
    }

    fn from_name(name: &str) -> Option<Metric> {
        METRICS.iter().copied().find(|m| m.name() == name)
    }

    /// The request's value for this metric; `None` when the request is too short to have one.
    pub fn value(self, m: &Measurement) -> Option<Duration> {
        match self {
            Metric::Ttft => m.ttft(),
            Metric::Tpot => m.tpot(),
            Metric::E2e => Some(m.e2e()),
            Metric::Itl => m.itls().max(),
            Metric::TtftSched => m.ttft_sched(),
            Metric::E2eSched => Some(m.e2e_sched()),
        }
    }
}

/// `<=` or `<`: objectives are upper bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Le,
    Lt,
}

/// How one objective went for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    /// The request has no value for the metric.
    Undetermined,
}

/// One objective: `metric`, `<=` or `<`, a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objective {
    pub metric: Metric,
    pub bound: Bound,
    /// Whole microseconds, the resolution records keep, so `report --slo` judges as the run did.
    pub limit_us: u64,
}

/// Rounds to whole microseconds, as records do.
fn micros(d: Duration) -> u64 {
    ((d.as_nanos() + 500) / 1000).min(u128::from(u64::MAX)) as u64
}

impl Objective {
    pub fn judge(&self, m: &Measurement) -> Verdict {
        let Some(v) = self.metric.value(m).map(micros) else { return Verdict::Undetermined };
        let met = match self.bound {
            Bound::Le => v <= self.limit_us,
            Bound::Lt => v < self.limit_us,
        };
        if met { Verdict::Met } else { Verdict::Missed }
    }
}

impl std::fmt::Display for Objective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.bound {
            Bound::Le => "<=",
            Bound::Lt => "<",
        };
        let us = self.limit_us;
        let (n, unit) = if us % 1_000_000 == 0 && us > 0 {
            (us / 1_000_000, "s")
        } else if us % 1000 == 0 {
            (us / 1000, "ms")
        } else {
            (us, "us")
        };
        write!(f, "{}{op}{n}{unit}", self.metric.name())
    }
}

/// How a whole request went against every objective.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// One verdict per objective, in the `Slo`'s order; empty for a failed request (whose
    /// times are not judged: it is not good whatever they were).
    pub verdicts: Vec<Verdict>,
    /// `Some(true)`: good; `Some(false)`: failed or missed an objective; `None`: met every
    /// objective it could be judged on but had no value for another.
    pub good: Option<bool>,
}

/// A parsed `--slo`: one or more objectives, each metric at most once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slo {
    pub objectives: Vec<Objective>,
}

impl Slo {
    /// Parses `text` (`ttft<=500ms,tpot<50ms`), or says which part is wrong and how to write it.
    pub fn parse(text: &str) -> Result<Slo, String> {
        if text.trim().is_empty() {
            return Err(format!("it names no objective: give some, as in {EXAMPLE}"));
        }
        let mut objectives: Vec<Objective> = Vec::new();
        for (i, part) in text.split(',').enumerate() {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!(
                    "objective {} is empty (a stray comma): separate objectives with one comma, as in {EXAMPLE}",
                    i + 1
                ));
            }
            let o = objective(part)?;
            if objectives.iter().any(|x| x.metric == o.metric) {
                return Err(format!(
                    "{} is given twice (in {part:?}): give each objective once",
                    o.metric.name()
                ));
            }
            objectives.push(o);
        }
        Ok(Slo { objectives })
    }

    /// Judges one finished request; `None` for a cancelled one (not counted).
    pub fn judge(&self, m: &Measurement) -> Option<Judgement> {
        match m.outcome {
            Outcome::Cancelled | Outcome::Abandoned => None,
            Outcome::Failed { .. } => Some(Judgement { verdicts: Vec::new(), good: Some(false) }),
            Outcome::Ok => {
                let verdicts: Vec<Verdict> = self.objectives.iter().map(|o| o.judge(m)).collect();
                let good = if verdicts.contains(&Verdict::Missed) {
                    Some(false)
                } else if verdicts.contains(&Verdict::Undetermined) {
                    None
                } else {
                    Some(true)
                };
                Some(Judgement { verdicts, good })
            }
        }
    }
}

impl std::fmt::Display for Slo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.objectives.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

/// One `METRIC OP TIME`.
fn objective(part: &str) -> Result<Objective, String> {
    let names = || METRICS.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ");
    let Some(at) = part.find(['<', '>', '=']) else {
        return Err(format!(
            "{part:?} has no comparison: write METRIC<=TIME or METRIC<TIME, as in {EXAMPLE}"
        ));
    };
    let (left, rest) = part.split_at(at);
    let (bound, right) = if let Some(r) = rest.strip_prefix("<=") {
        (Bound::Le, r)
    } else if let Some(r) = rest.strip_prefix('<') {
        (Bound::Lt, r)
    } else if rest.starts_with('>') {
        return Err(format!("{part:?}: an objective is an upper bound: use <= or <, as in {EXAMPLE}"));
    } else {
        return Err(format!("{part:?}: = is not a comparison here: use <= or <, as in {EXAMPLE}"));
    };
    let name = left.trim();
    if name.is_empty() {
        return Err(format!("{part:?} names no metric before the comparison: use one of {}", names()));
    }
    let metric = Metric::from_name(&name.to_ascii_lowercase())
        .ok_or_else(|| format!("unknown metric {name:?} in {part:?}: use one of {}", names()))?;
    let value = right.trim();
    if value.is_empty() {
        return Err(format!("nothing follows the comparison in {part:?}: give a time, as in {EXAMPLE}"));
    }
    if value.contains(['<', '>', '=']) {
        return Err(format!("{part:?} holds a second comparison: give one per objective, as in {EXAMPLE}"));
    }
    let end = value.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(value.len());
    let number: f64 = value[..end].parse().ok().filter(|n: &f64| n.is_finite()).ok_or_else(|| {
        format!("{value:?} in {part:?} is not a time: give a number and a unit, such as 500ms or 2s")
    })?;
    let us_per = match value[end..].trim() {
        "" => {
            return Err(format!("the time {value} in {part:?} has no unit: write {value}ms or {value}s"));
        }
        "us" | "µs" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" | "min" => 6e7,
        unit => {
            return Err(format!("unknown time unit {unit:?} in {part:?}: use us, ms, s or m (500ms, 1.5s)"));
        }
    };
    let limit_us = (number * us_per).round();
    if limit_us > 1e15 {
        return Err(format!("{value:?} in {part:?} is too long to be an objective"));
    }
    if limit_us == 0.0 && bound == Bound::Lt {
        return Err(format!("{part:?} can never be met: give a time above 0"));
    }
    Ok(Objective { metric, bound, limit_us: limit_us as u64 })
}

/// One objective's counts over successful requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectiveCount {
    pub met: u64,
    pub missed: u64,
    pub undetermined: u64,
}

/// The judgements of a run (or one second of it) against one `Slo`. Mergeable with `+=`.
#[derive(Debug, Clone, PartialEq)]
pub struct SloTally {
    pub slo: Slo,
    /// Requests judged: every ok or failed request (cancelled ones are not counted).
    pub judged: u64,
    /// Judged requests whose goodness is known: good, failed, or missed an objective.
    pub determined: u64,
    /// Good requests: succeeded and met every objective.
    pub conforming: u64,
    /// Failed requests (not good, never judged on their times).
    pub failed: u64,
    /// Per objective, in the `Slo`'s order, over successful requests.
    pub by_objective: Vec<ObjectiveCount>,
}

impl SloTally {
    pub fn new(slo: Slo) -> SloTally {
        let by_objective = vec![ObjectiveCount::default(); slo.objectives.len()];
        SloTally { slo, judged: 0, determined: 0, conforming: 0, failed: 0, by_objective }
    }

    /// Judges `m` and counts it.
    pub fn add(&mut self, m: &Measurement) {
        let Some(j) = self.slo.judge(m) else { return };
        self.judged += 1;
        self.failed += u64::from(matches!(m.outcome, Outcome::Failed { .. }));
        if let Some(good) = j.good {
            self.determined += 1;
            self.conforming += u64::from(good);
        }
        for (count, v) in self.by_objective.iter_mut().zip(j.verdicts) {
            match v {
                Verdict::Met => count.met += 1,
                Verdict::Missed => count.missed += 1,
                Verdict::Undetermined => count.undetermined += 1,
            }
        }
    }

    /// conforming / determined; `None` when nothing was determined.
    pub fn attainment(&self) -> Option<f64> {
        (self.determined > 0).then(|| self.conforming as f64 / self.determined as f64)
    }

    /// The Wilson 95 % score interval of the attainment; `None` when nothing was determined.
    pub fn attainment_ci(&self) -> Option<(f64, f64)> {
        wilson(self.conforming, self.determined, Z_95)
    }
}

impl AddAssign<&SloTally> for SloTally {
    /// Adds another tally of the same `Slo` (windows of one run).
    fn add_assign(&mut self, o: &SloTally) {
        debug_assert_eq!(self.slo, o.slo, "tallies of one run share its objectives");
        self.judged += o.judged;
        self.determined += o.determined;
        self.conforming += o.conforming;
        self.failed += o.failed;
        for (mine, theirs) in self.by_objective.iter_mut().zip(&o.by_objective) {
            mine.met += theirs.met;
            mine.missed += theirs.missed;
            mine.undetermined += theirs.undetermined;
        }
    }
}

/// The normal quantile of a two-sided 95 % interval.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval of `k` successes in `n` trials at normal quantile `z`, as
/// `(low, high)`, clamped to [0, 1]; `None` when `n` is 0.
pub fn wilson(k: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (k, n) = (k.min(n) as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::ErrorKind;
    use std::time::Instant;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A successful request: first text at `ttft_ms`, then `gaps_ms`, `tokens` output tokens,
    /// ending at the last text event.
    fn request(ttft_ms: u64, gaps_ms: &[u64], tokens: u64) -> Measurement {
        let t0 = Instant::now();
        let mut m = Measurement::new(0, 0, None, t0);
        let mut at = t0 + ms(ttft_ms);
        m.text_at.push(at);
        for &g in gaps_ms {
            at += ms(g);
            m.text_at.push(at);
        }
        m.end_at = at;
        m.usage_output_tokens = Some(tokens);
        m
    }

    fn e(text: &str) -> String {
        Slo::parse(text).unwrap_err()
    }

    #[test]
    fn objectives_parse_and_print() {
        let s = Slo::parse(" ttft <= 500ms , tpot<50ms,e2e<=10s, ITL<=1.5s").unwrap();
        assert_eq!(
            s.objectives,
            [
                Objective { metric: Metric::Ttft, bound: Bound::Le, limit_us: 500_000 },
                Objective { metric: Metric::Tpot, bound: Bound::Lt, limit_us: 50_000 },
                Objective { metric: Metric::E2e, bound: Bound::Le, limit_us: 10_000_000 },
                Objective { metric: Metric::Itl, bound: Bound::Le, limit_us: 1_500_000 },
            ]
        );
        assert_eq!(s.to_string(), "ttft<=500ms,tpot<50ms,e2e<=10s,itl<=1500ms");
        assert_eq!(Slo::parse("ttft<=250us").unwrap().to_string(), "ttft<=250us");
        assert_eq!(Slo::parse("e2e<1m").unwrap().objectives[0].limit_us, 60_000_000);
    }

    #[test]
    fn every_mistake_points_at_its_part() {
        assert_eq!(e(" "), "it names no objective: give some, as in ttft<=500ms,tpot<=50ms");
        assert_eq!(
            e("ttft<=1s,,tpot<=5ms"),
            "objective 2 is empty (a stray comma): separate objectives with one comma, as in ttft<=500ms,tpot<=50ms"
        );
        assert_eq!(
            e("ttft<=1s,tpot50ms"),
            "\"tpot50ms\" has no comparison: write METRIC<=TIME or METRIC<TIME, as in ttft<=500ms,tpot<=50ms"
        );
        assert_eq!(
            e("ttfx<=5ms"),
            "unknown metric \"ttfx\" in \"ttfx<=5ms\": use one of ttft, tpot, e2e, itl, ttft_sched, e2e_sched"
        );
        assert_eq!(
            e("<=5ms"),
            "\"<=5ms\" names no metric before the comparison: use one of ttft, tpot, e2e, itl, ttft_sched, e2e_sched"
        );
        assert_eq!(
            e("ttft>=5ms"),
            "\"ttft>=5ms\": an objective is an upper bound: use <= or <, as in ttft<=500ms,tpot<=50ms"
        );
        assert_eq!(
            e("ttft=5ms"),
            "\"ttft=5ms\": = is not a comparison here: use <= or <, as in ttft<=500ms,tpot<=50ms"
        );
        assert_eq!(
            e("ttft<="),
            "nothing follows the comparison in \"ttft<=\": give a time, as in ttft<=500ms,tpot<=50ms"
        );
        assert_eq!(
            e("ttft<=5ms<6ms"),
            "\"ttft<=5ms<6ms\" holds a second comparison: give one per objective, as in ttft<=500ms,tpot<=50ms"
        );
        assert_eq!(e("ttft<=500"), "the time 500 in \"ttft<=500\" has no unit: write 500ms or 500s");
        assert_eq!(
            e("ttft<=500mss"),
            "unknown time unit \"mss\" in \"ttft<=500mss\": use us, ms, s or m (500ms, 1.5s)"
        );
        assert_eq!(
            e("ttft<=fast"),
            "\"fast\" in \"ttft<=fast\" is not a time: give a number and a unit, such as 500ms or 2s"
        );
        assert_eq!(
            e("ttft<=-5ms"),
            "\"-5ms\" in \"ttft<=-5ms\" is not a time: give a number and a unit, such as 500ms or 2s"
        );
        assert_eq!(e("ttft<0ms"), "\"ttft<0ms\" can never be met: give a time above 0");
        assert_eq!(e("ttft<=1s,ttft<2s"), "ttft is given twice (in \"ttft<2s\"): give each objective once");
    }

    #[test]
    fn a_request_is_judged_on_every_objective() {
        let slo = Slo::parse("ttft<=100ms,tpot<=10ms,itl<20ms").unwrap();
        let j = |m: &Measurement| slo.judge(m).unwrap();
        // 100 ms to the first token, gaps of 10 ms: TPOT exactly 10 ms.
        let good = request(100, &[10, 10, 10], 4);
        assert_eq!(j(&good), Judgement { verdicts: vec![Verdict::Met; 3], good: Some(true) });
        // A 20 ms gap misses `itl<20ms` although TPOT (30 ms / 3) meets its bound.
        let gap = request(100, &[5, 20, 5], 4);
        assert_eq!(j(&gap).verdicts, [Verdict::Met, Verdict::Met, Verdict::Missed]);
        assert_eq!(j(&gap).good, Some(false));
        let slow = request(101, &[10], 2);
        assert_eq!(j(&slow).verdicts, [Verdict::Missed, Verdict::Met, Verdict::Met]);
        // One token, one text event: TPOT and ITL are undetermined, TTFT met.
        let one = request(50, &[], 1);
        assert_eq!(
            j(&one),
            Judgement {
                verdicts: vec![Verdict::Met, Verdict::Undetermined, Verdict::Undetermined],
                good: None
            }
        );
        // Too short for TPOT, but it missed TTFT: known not good.
        let late = request(150, &[], 1);
        assert_eq!(j(&late).good, Some(false));
        // A failed request is not good, whatever its times; a cancelled one is not judged.
        let mut failed = request(1, &[1], 2);
        failed.outcome = Outcome::Failed { kind: ErrorKind::Http(500), message: "x".into() };
        assert_eq!(j(&failed), Judgement { verdicts: vec![], good: Some(false) });
        let mut cancelled = request(1, &[1], 2);
        cancelled.outcome = Outcome::Cancelled;
        assert_eq!(slo.judge(&cancelled), None);
        // `<` and `<=` at the bound, E2E from the end of the stream.
        let e2e = |t: &str, end_ms: u64| {
            let mut m = request(1, &[], 1);
            m.end_at = m.t0 + ms(end_ms);
            Slo::parse(t).unwrap().judge(&m).unwrap().good
        };
        assert_eq!(
            (e2e("e2e<=2s", 2000), e2e("e2e<2s", 2000), e2e("e2e<2s", 1999)),
            (Some(true), Some(false), Some(true))
        );
    }

    #[test]
    fn wilson_matches_the_table() {
        let r = |k, n| {
            wilson(k, n, Z_95)
                .map(|(lo, hi)| ((lo * 1000.0).round() / 1000.0, (hi * 1000.0).round() / 1000.0))
        };
        assert_eq!(r(8, 10), Some((0.490, 0.943)));
        assert_eq!(r(0, 10), Some((0.0, 0.278)));
        assert_eq!(r(10, 10), Some((0.722, 1.0)));
        assert_eq!(r(1, 2), Some((0.095, 0.905)));
        assert_eq!(r(95, 100), Some((0.888, 0.978)));
        assert_eq!(r(0, 0), None);
    }

    #[test]
    fn a_tally_counts_and_merges() {
        let slo = Slo::parse("ttft<=100ms,tpot<=10ms").unwrap();
        let mut whole = SloTally::new(slo.clone());
        let (mut a, mut b) = (SloTally::new(slo.clone()), SloTally::new(slo));
        let mut failed = request(1, &[1], 2);
        failed.outcome = Outcome::Failed { kind: ErrorKind::Transport, message: "reset".into() };
        let mut cancelled = request(1, &[1], 2);
        cancelled.outcome = Outcome::Cancelled;
        let all = [
            request(50, &[5], 2),
            request(50, &[], 1),
            request(200, &[5], 2),
            failed,
            cancelled,
            request(10, &[10, 10], 3),
        ];
        for (i, m) in all.iter().enumerate() {
            whole.add(m);
            if i % 2 == 0 { a.add(m) } else { b.add(m) }
        }
        a += &b;
        assert_eq!(a, whole);
        assert_eq!((whole.judged, whole.determined, whole.conforming, whole.failed), (5, 4, 2, 1));
        assert_eq!(whole.by_objective[0], ObjectiveCount { met: 3, missed: 1, undetermined: 0 });
        assert_eq!(whole.by_objective[1], ObjectiveCount { met: 3, missed: 0, undetermined: 1 });
        assert_eq!(whole.attainment(), Some(0.5));
        assert!(SloTally::new(Slo::parse("e2e<=1s").unwrap()).attainment_ci().is_none());
    }
}
