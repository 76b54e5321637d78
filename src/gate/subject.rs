//! The values a threshold or a compare gate can name, each read from a JSON summary: one row of
//! `SUBJECTS` per name, with its kind (how its values are written and parsed) and where it lives
//! in the summary. A new run-level value (goodput, attainment…) is one more row. It does not
//! parse expressions or judge values.

use crate::stats::percentiles;
use serde_json::Value;

/// What a subject's values are, which fixes how an expression writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Milliseconds in the JSON; written with a unit (`500ms`, `1.5s`).
    Time,
    /// A share from 0 to 1 in the JSON; written as a fraction (`0.99`) or a percentage (`99%`).
    Share,
    /// A plain number (requests per second, tokens).
    Number,
}

/// Where a subject's value is in a JSON summary.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A distribution in `metrics`, by its key; the expression names one of its statistics.
    Metric(&'static str),
    /// A value computed from the whole summary.
    Run(fn(&Value) -> Option<f64>),
}

/// One name an expression can use.
struct Row {
    name: &'static str,
    kind: Kind,
    source: Source,
}

/// The statistics of a distribution an expression may name: these, and any percentile `pN`
/// with N in (0, 100) that the summary reports (`p99.9` with `--percentiles 99.9`).
pub const STATS: &[&str] = &["mean", "min", "max", "p50", "p90", "p95", "p99"];

/// A distribution's statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stat {
    /// `mean`, `min` or `max`.
    Named(&'static str),
    /// A percentile, 0–100 (`p95`, `p99.9`).
    Percentile(f64),
}

impl Stat {
    fn parse(text: &str) -> Option<Stat> {
        match STATS.iter().find(|s| **s == text && !s.starts_with('p')) {
            Some(s) => Some(Stat::Named(s)),
            None => percentiles::of_name(text).map(Stat::Percentile),
        }
    }

    /// Its key in a distribution's JSON (`mean`, `p99.9`).
    fn key(self) -> String {
        match self {
            Stat::Named(s) => s.to_string(),
            Stat::Percentile(p) => percentiles::name(p),
        }
    }
}

/// Every name, distributions first (as `metrics` lists them), then run-level values.
const SUBJECTS: &[Row] = &[
    Row { name: "ttfb", kind: Kind::Time, source: Source::Metric("ttfb_ms") },
    Row { name: "ttfe", kind: Kind::Time, source: Source::Metric("ttfe_ms") },
    Row { name: "ttft", kind: Kind::Time, source: Source::Metric("ttft_ms") },
    Row { name: "ttfa", kind: Kind::Time, source: Source::Metric("ttfa_ms") },
    Row { name: "itl", kind: Kind::Time, source: Source::Metric("itl_ms") },
    Row { name: "tpot", kind: Kind::Time, source: Source::Metric("tpot_ms") },
    Row { name: "e2e", kind: Kind::Time, source: Source::Metric("e2e_ms") },
    Row { name: "ttft_sched", kind: Kind::Time, source: Source::Metric("ttft_sched_ms") },
    Row { name: "e2e_sched", kind: Kind::Time, source: Source::Metric("e2e_sched_ms") },
    Row { name: "start_delay", kind: Kind::Time, source: Source::Metric("start_delay_ms") },
    Row { name: "input_tokens", kind: Kind::Number, source: Source::Metric("input_tokens") },
    Row { name: "output_tokens", kind: Kind::Number, source: Source::Metric("output_tokens") },
    Row { name: "decode_tokens_per_s", kind: Kind::Number, source: Source::Metric("decode_tokens_per_s") },
    Row { name: "tokens_per_event", kind: Kind::Number, source: Source::Metric("tokens_per_event") },
    Row { name: "itl_per_token", kind: Kind::Time, source: Source::Metric("itl_per_token_ms") },
    Row { name: "server_latency", kind: Kind::Time, source: Source::Metric("server_latency_ms") },
    Row { name: "server_ttft", kind: Kind::Time, source: Source::Metric("server_ttft_ms") },
    Row { name: "success_rate", kind: Kind::Share, source: Source::Run(success_rate) },
    Row { name: "error_rate", kind: Kind::Share, source: Source::Run(error_rate) },
    Row { name: "wrong_answer_rate", kind: Kind::Share, source: Source::Run(wrong_answer_rate) },
    Row { name: "req_s", kind: Kind::Number, source: Source::Run(req_s) },
    Row { name: "output_tok_s", kind: Kind::Number, source: Source::Run(output_tok_s) },
    Row { name: "goodput", kind: Kind::Number, source: Source::Run(goodput) },
    Row { name: "attainment", kind: Kind::Share, source: Source::Run(attainment) },
    Row { name: "stalled", kind: Kind::Number, source: Source::Run(stalled) },
];

fn success_rate(s: &Value) -> Option<f64> {
    s["success_rate"].as_f64()
}

/// failed / (ok + failed), from the counts (cancelled requests are neither).
fn error_rate(s: &Value) -> Option<f64> {
    let (ok, failed) = (s["requests"]["ok"].as_f64()?, s["requests"]["failed"].as_f64()?);
    (ok + failed > 0.0).then(|| failed / (ok + failed))
}

/// Wrong answers / checked answers (`expect`, `--expect`).
fn wrong_answer_rate(s: &Value) -> Option<f64> {
    s["wrong_answer_rate"].as_f64()
}

fn req_s(s: &Value) -> Option<f64> {
    s["throughput"]["requests_per_s"].as_f64()
}

fn output_tok_s(s: &Value) -> Option<f64> {
    s["throughput"]["output_tokens_per_s"].as_f64()
}

/// Requests the server had left silent when the run cut them.
fn stalled(s: &Value) -> Option<f64> {
    s["requests"]["stalled"].as_f64()
}

/// Good requests per second (`--slo`).
fn goodput(s: &Value) -> Option<f64> {
    s["goodput"]["requests_per_s"].as_f64()
}

/// The share of determined requests that were good (`--slo`).
fn attainment(s: &Value) -> Option<f64> {
    s["goodput"]["attainment"].as_f64()
}

/// A named value: a distribution's statistic (`ttft.p95`) or a run-level value (`req_s`).
#[derive(Debug, Clone, Copy)]
pub struct Subject {
    row: &'static Row,
    stat: Option<Stat>,
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Subject {
    /// The subject `text` names (`ttft.p95`, `success_rate`), or what is wrong and how to write it.
    pub fn parse(text: &str) -> Result<Subject, String> {
        let text = text.trim();
        let (name, stat) = match text.split_once('.') {
            Some((n, s)) => (n.trim(), Some(s.trim())),
            None => (text, None),
        };
        // `ttft_ms.p95` is the JSON's spelling of `ttft.p95`.
        let row = SUBJECTS
            .iter()
            .find(|r| r.name == name || matches!(r.source, Source::Metric(key) if key == name))
            .ok_or_else(|| {
                if name.is_empty() {
                    format!("it names no metric before the comparison: start with one of {}", names())
                } else {
                    format!("unknown metric {name:?}: use one of {}", names())
                }
            })?;
        let stat = match (row.source, stat) {
            (Source::Metric(_), Some(s)) => Some(Stat::parse(s).ok_or_else(|| {
                format!(
                    "unknown statistic {s:?} of {}: use one of {}, or another percentile in (0, 100) that --percentiles reports ({}.p99.9)",
                    row.name,
                    STATS.join(", "),
                    row.name
                )
            })?),
            (Source::Metric(_), None) => {
                return Err(format!(
                    "{} needs a statistic: write {0}.p95 (or {})",
                    row.name,
                    STATS.iter().map(|s| format!("{}.{s}", row.name)).collect::<Vec<_>>().join(", ")
                ));
            }
            (Source::Run(_), Some(s)) => {
                return Err(format!("{} is one value and takes no statistic: drop \".{s}\"", row.name));
            }
            (Source::Run(_), None) => None,
        };
        Ok(Subject { row, stat })
    }

    pub fn kind(&self) -> Kind {
        self.row.kind
    }

    /// The percentile it names (`ttft.p99.9` → 99.9), if it names one.
    pub fn percentile(&self) -> Option<f64> {
        match self.stat {
            Some(Stat::Percentile(p)) => Some(p),
            _ => None,
        }
    }

    /// Its value in the JSON summary `s`; `None` when the summary has no data for it.
    pub fn value(&self, s: &Value) -> Option<f64> {
        match (self.row.source, self.stat) {
            (Source::Metric(key), Some(stat)) => s["metrics"][key][stat.key()].as_f64(),
            (Source::Metric(_), None) => None,
            (Source::Run(f), _) => f(s),
        }
    }

    /// Why the summary `s` has no value for it, for a threshold that fails on missing data.
    pub fn missing(&self, s: &Value) -> String {
        match self.row.source {
            Source::Metric(key) if s["metrics"][key].is_object() => format!(
                "no data: the summary does not report {}: name it in --percentiles",
                self.stat.map_or_else(String::new, Stat::key)
            ),
            Source::Metric(_) => {
                format!("no data: no successful request measured {} (see the errors above)", self.row.name)
            }
            Source::Run(_) if matches!(self.row.name, "goodput" | "attainment") => format!(
                "no data: {} needs --slo and a request judged against it (see the goodput above)",
                self.row.name
            ),
            Source::Run(_) if self.row.name == "wrong_answer_rate" => {
                "no data: no answer was checked: give --expect or an \"expect\" on the prompts' lines".into()
            }
            Source::Run(_) => format!("no data: no request finished, so {} is undefined", self.row.name),
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.stat {
            Some(stat) => write!(f, "{}.{}", self.row.name, stat.key()),
            None => f.write_str(self.row.name),
        }
    }
}

/// Every name, for messages.
fn names() -> String {
    let metrics: Vec<&str> =
        SUBJECTS.iter().filter(|r| matches!(r.source, Source::Metric(_))).map(|r| r.name).collect();
    let run: Vec<&str> =
        SUBJECTS.iter().filter(|r| matches!(r.source, Source::Run(_))).map(|r| r.name).collect();
    format!("{} (with .STAT), or {}", metrics.join(", "), run.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn summary() -> Value {
        json!({
            "requests": {"ok": 3, "failed": 1},
            "success_rate": 0.75,
            "throughput": {"requests_per_s": 1.5, "output_tokens_per_s": 40.0},
            "metrics": {"ttft_ms": {"p95": 152.4, "p99.9": 180.5, "mean": 100.0}, "itl_ms": null},
        })
    }

    #[test]
    fn names_read_their_values() {
        let s = summary();
        let v = |t: &str| Subject::parse(t).unwrap().value(&s);
        assert_eq!(v("ttft.p95"), Some(152.4));
        // A percentile's dot is the statistic's own: `ttft.p99.9` reads the key `p99.9`.
        assert_eq!((v("ttft.p99.9"), v("ttft.p99.90"), v("ttft.p50")), (Some(180.5), Some(180.5), None));
        let p = Subject::parse("ttft.p99.90").unwrap();
        assert_eq!((p.to_string(), p.percentile()), ("ttft.p99.9".into(), Some(99.9)));
        assert_eq!(Subject::parse("ttft.mean").unwrap().percentile(), None);
        let missing = |t: &str| Subject::parse(t).unwrap().missing(&s);
        let (no_key, no_data) = (missing("ttft.p50"), missing("itl.p99"));
        assert_eq!(no_key, "no data: the summary does not report p50: name it in --percentiles");
        assert!(no_data.starts_with("no data: no successful request measured itl"), "{no_data}");
        assert_eq!(v("ttft_ms.mean"), Some(100.0));
        assert_eq!(v(" itl . p99 "), None);
        assert_eq!((v("success_rate"), v("error_rate")), (Some(0.75), Some(0.25)));
        assert_eq!((v("req_s"), v("output_tok_s")), (Some(1.5), Some(40.0)));
        assert_eq!(Subject::parse("ttft_ms.p95").unwrap().to_string(), "ttft.p95");
        assert_eq!(Subject::parse("req_s").unwrap().kind(), Kind::Number);
        let slo = json!({"goodput": {"requests_per_s": 2.5, "attainment": 0.8}});
        let g = |t: &str| Subject::parse(t).unwrap().value(&slo);
        assert_eq!((g("goodput"), g("attainment")), (Some(2.5), Some(0.8)));
        assert_eq!(Subject::parse("attainment").unwrap().kind(), Kind::Share);
        assert_eq!(Subject::parse("goodput").unwrap().value(&json!({"goodput": null})), None);
        assert!(Subject::parse("attainment").unwrap().missing(&json!({})).contains("needs --slo"));
        let checked = json!({"wrong_answer_rate": 0.25});
        assert_eq!(Subject::parse("wrong_answer_rate").unwrap().value(&checked), Some(0.25));
        assert_eq!(Subject::parse("wrong_answer_rate").unwrap().kind(), Kind::Share);
        assert!(Subject::parse("wrong_answer_rate").unwrap().missing(&json!({})).contains("give --expect"));
        let none = json!({"requests": {"ok": 0, "failed": 0}, "success_rate": null});
        assert_eq!(Subject::parse("error_rate").unwrap().value(&none), None);
    }

    #[test]
    fn bad_names_say_what_to_write() {
        let e = |t: &str| Subject::parse(t).unwrap_err();
        assert!(
            e("ttfx.p95").starts_with("unknown metric \"ttfx\": use one of ttfb, ttfe, ttft"),
            "{}",
            e("ttfx.p95")
        );
        assert!(
            e("ttfx.p95")
                .ends_with("or success_rate, error_rate, wrong_answer_rate, req_s, output_tok_s, goodput, attainment, stalled")
        );
        assert_eq!(
            e("ttft.p999"),
            "unknown statistic \"p999\" of ttft: use one of mean, min, max, p50, p90, p95, p99, or another percentile in (0, 100) that --percentiles reports (ttft.p99.9)"
        );
        assert!(e("ttft.median").starts_with("unknown statistic \"median\" of ttft"));
        assert!(
            e("ttft").starts_with("ttft needs a statistic: write ttft.p95 (or ttft.mean, "),
            "{}",
            e("ttft")
        );
        assert_eq!(e("req_s.p95"), "req_s is one value and takes no statistic: drop \".p95\"");
    }
}
