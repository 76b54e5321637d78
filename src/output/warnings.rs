//! Every warning llmload gives, in one place: an enum of what happened, produced wherever it is
//! noticed (the engine, `commands`, `llmload report`, the finished summary), whose `Display` is
//! the sentence with what to do next. The same text reaches stderr, the text summary and the
//! JSON's `warnings`. Whether the client itself limited the run is not a warning but the verdict
//! (`summary::verdict`), which the text summary shows under `client`.

use crate::summary::Summary;
use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// `--insecure`: certificates were not verified.
    Insecure,
    /// The open-file limit is below what the workers' connections need.
    FileLimit { limit: u64, need: u64, workers: usize },
    /// `--ramp-up` is longer than `--duration`: the later workers never start.
    RampUpTooLong { ramp_up: Duration, duration: Duration, starting: usize, workers: usize },
    /// The preflight request failed in a way the load test goes on to measure (5xx, 429…).
    PreflightNoted { what: String },
    /// The OS refused to start more worker threads.
    WorkersShort { started: usize, workers: usize, error: String },
    /// Ctrl-C or SIGTERM ended the run; `forced` when a second one cut the grace period.
    Interrupted { wall_s: f64, forced: bool },
    /// Writing `--records` failed mid-run; the summary still counts every request.
    RecordsStopped { error: String },
    /// The reporter thread died, so the statistics are lost (the records on disk are not).
    ReporterFailed,
    /// `llmload report` skipped a records file's unfinished last line.
    CutRecord { file: String },
    /// `llmload report` was given records of some shards of a run, not all.
    MissingShards { missing: Vec<String>, given: usize, count: u32 },
    /// Every request failed: the most common kind, its count and first message.
    AllFailed { kind: String, count: u64, message: String },
    /// Some requests failed: the share of finished requests and the commonest kinds.
    SomeFailed { failed: u64, finished: u64, top: Vec<(String, u64)> },
    /// Every request was cut before it ended.
    AllCancelled { cancelled: u64, interrupted: bool },
    /// The run ended before any request was sent.
    NothingSent,
    /// Requests without usage, whose tokens were estimated.
    TokensEstimated { requests: u64 },
    /// Successful requests whose streams had problems.
    StreamProblems { requests: u64 },
    /// The cgroup's CPU quota or throttle counts could not be read: the verdict judges without.
    CgroupUnknown { problem: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Insecure => f.write_str(
                "--insecure: TLS certificates were not verified, so the server may not be who it claims; use --ca-cert for a private CA",
            ),
            Warning::FileLimit { limit, need, workers } => write!(
                f,
                "the open-file limit is {limit} but {workers} workers need about {need}: raise it (`ulimit -n {need}`) or lower --concurrency"
            ),
            Warning::RampUpTooLong { ramp_up, duration, starting, workers } => write!(
                f,
                "--ramp-up {} is longer than --duration {}: only {starting} of {workers} workers start before the end; shorten --ramp-up or lengthen --duration",
                human(*ramp_up),
                human(*duration)
            ),
            Warning::PreflightNoted { what } => {
                write!(f, "preflight: {what} (the load test goes on and measures it)")
            }
            Warning::WorkersShort { started, workers, error } => write!(
                f,
                "only {started} of {workers} workers could start ({error}): raise `ulimit -u` or lower --concurrency"
            ),
            Warning::Interrupted { wall_s, forced: false } => write!(
                f,
                "interrupted (Ctrl-C or SIGTERM) after {wall_s:.1}s: no new requests were sent, in-flight ones had the grace period, and those still running then are counted as cancelled"
            ),
            Warning::Interrupted { wall_s, forced: true } => write!(
                f,
                "interrupted (Ctrl-C or SIGTERM) after {wall_s:.1}s and again during the grace period: in-flight requests were cut at once and are counted as cancelled"
            ),
            Warning::RecordsStopped { error } => write!(
                f,
                "writing records stopped: {error}; the summary still counts every request, but that file lacks the later ones"
            ),
            Warning::ReporterFailed => f.write_str(
                "the statistics were lost (the reporter thread failed): every request finished before then is in --records; rebuild the summary with `llmload report`",
            ),
            Warning::CutRecord { file } => {
                write!(f, "{file}: ignored an unfinished last line (the run was killed while writing it)")
            }
            Warning::MissingShards { missing, given, count } => write!(
                f,
                "shard{} {} of the run {} missing: the totals cover {given} of {count} shards; give every shard's records file",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" },
            ),
            Warning::AllFailed { kind, count, message } => write!(
                f,
                "every request failed; most often {kind} ({count}×): {message} — fix that before reading any latency"
            ),
            Warning::SomeFailed { failed, finished, top } => {
                let kinds: Vec<String> = top.iter().map(|(k, n)| format!("{k} {n}×")).collect();
                write!(
                    f,
                    "{failed} of {finished} requests failed ({:.1}%): {}; latencies count only the successful ones (see errors above)",
                    100.0 * *failed as f64 / (*finished).max(1) as f64,
                    kinds.join(", ")
                )
            }
            Warning::AllCancelled { cancelled, interrupted: true } => write!(
                f,
                "all {cancelled} requests were cut by the interrupt before they ended: let the run go on longer"
            ),
            Warning::AllCancelled { cancelled, interrupted: false } => write!(
                f,
                "all {cancelled} requests were cancelled at the deadline before they ended: raise --duration"
            ),
            Warning::NothingSent => f.write_str("no request was sent: raise --duration or lower --ramp-up"),
            Warning::TokensEstimated { requests } => write!(
                f,
                "{requests} requests had no usage in their stream, so their output tokens are estimated (CJK characters one each, other text by words); ask the server for usage for exact counts"
            ),
            Warning::StreamProblems { requests } => write!(
                f,
                "{requests} successful requests carried stream problems (malformed events or invalid UTF-8); see `warnings` in --records"
            ),
            Warning::CgroupUnknown { problem } => write!(
                f,
                "the cgroup CPU quota and throttling are unknown ({problem}): the client's verdict counts the CPUs the process may run on and cannot see throttling"
            ),
        }
    }
}

/// A duration as people write it: `2s`, `1.5s`, `500ms`, `2m`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s == 0.0 {
        "0s".into()
    } else if s < 1.0 {
        format!("{}ms", d.as_millis())
    } else if s >= 60.0 && s % 60.0 == 0.0 {
        format!("{}m", s as u64 / 60)
    } else {
        format!("{}s", (s * 1000.0).round() / 1000.0)
    }
}

/// How many error kinds a partial-failure warning names.
const TOP_KINDS: usize = 3;

/// What a finished summary itself shows is worth a warning.
pub fn after_run(s: &Summary) -> Vec<Warning> {
    let mut w = Vec::new();
    let r = &s.requests;
    let finished = r.ok + r.failed;
    let by_count = s.errors_by_count();
    if s.stats_lost {
        // The counts are empty because they were lost: `ReporterFailed` already says so.
    } else if r.ok == 0 && r.failed > 0 {
        if let Some(&(kind, count, message)) = by_count.first() {
            w.push(Warning::AllFailed { kind: kind.into(), count, message: message.into() });
        }
    } else if r.failed > 0 {
        let top = by_count.iter().take(TOP_KINDS).map(|&(k, n, _)| (k.to_string(), n)).collect();
        w.push(Warning::SomeFailed { failed: r.failed, finished, top });
    } else if r.total > 0 && r.ok == 0 {
        w.push(Warning::AllCancelled { cancelled: r.cancelled, interrupted: s.interrupted });
    } else if r.total == 0 {
        w.push(Warning::NothingSent);
    }
    if s.tokens.estimated > 0 {
        w.push(Warning::TokensEstimated { requests: s.tokens.estimated });
    }
    if s.with_warnings > 0 {
        w.push(Warning::StreamProblems { requests: s.with_warnings });
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        let h = |ms| human(Duration::from_millis(ms));
        assert_eq!(
            (h(0), h(500), h(2000), h(1500), h(120_000), h(90_000)),
            ("0s".into(), "500ms".into(), "2s".into(), "1.5s".into(), "2m".into(), "90s".into())
        );
    }

    #[test]
    fn lost_statistics_are_not_read_as_nothing_sent() {
        let run = |stats_lost| crate::summary::RunOutput {
            stats: Default::default(),
            wall: Duration::from_secs(3),
            window: Duration::from_secs(3),
            started_at: chrono::Local::now(),
            warnings: vec![],
            records_error: None,
            interrupted: false,
            stats_lost,
            series: vec![],
        };
        let after = |lost| after_run(&Summary::new(serde_json::Value::Null, &run(lost), None));
        assert_eq!(after(false), [Warning::NothingSent]);
        assert_eq!(after(true), []);
    }

    #[test]
    fn each_warning_says_what_to_do() {
        let some = Warning::SomeFailed {
            failed: 7,
            finished: 13,
            top: vec![("http_500".into(), 5), ("truncated_stream".into(), 2)],
        };
        assert_eq!(
            some.to_string(),
            "7 of 13 requests failed (53.8%): http_500 5×, truncated_stream 2×; latencies count only the successful ones (see errors above)"
        );
        let ramp = Warning::RampUpTooLong {
            ramp_up: Duration::from_secs(10),
            duration: Duration::from_secs(5),
            starting: 5,
            workers: 10,
        };
        assert_eq!(
            ramp.to_string(),
            "--ramp-up 10s is longer than --duration 5s: only 5 of 10 workers start before the end; shorten --ramp-up or lengthen --duration"
        );
        assert!(
            Warning::AllCancelled { cancelled: 3, interrupted: true }
                .to_string()
                .contains("cut by the interrupt")
        );
    }
}
