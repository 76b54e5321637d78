//! `llmload report`: rebuilds a run's statistics from `--records` files, so a run that was
//! killed (even with SIGKILL) still gets its summary. Each line becomes a `Measurement` again
//! (`Record::to_measurement`) and goes through the same `RunStats::add` as a live run: one
//! code path for statistics, and, when asked, through the same per-second series. It also
//! finds the API and URL the records name. It does not print
//! or format; `commands` does, with the live run's code.

use crate::error::Error;
use crate::export::records::Record;
use crate::files::{self, cap};
use crate::output::warnings::Warning;
use crate::slo::Slo;
use crate::stats::breakdown::Ended;
use crate::stats::{Breakdown, RunStats, SeriesBuilder};
use crate::summary::RunOutput;
use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant, SystemTime};

/// A records line longer than this is not one llmload wrote (a 100k-token stream is ~1 MiB).
const MAX_RECORD_BYTES: u64 = 64 << 20;

/// A run rebuilt from its records.
pub struct Rebuilt {
    pub run: RunOutput,
    /// The API name and endpoint URL the records name (the first, where files disagree);
    /// `None` for records written before they carried them.
    pub origin: Option<Origin>,
}

/// The API and endpoint URL a run tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub api: String,
    pub url: String,
}

impl Origin {
    /// The origin a record names, if it names one (records written before them do not).
    fn of(r: Record) -> Option<Origin> {
        Some(Origin { api: r.api?, url: r.url? })
    }
}

/// Reads every file and merges them into one run, handing each record read to `each` (for
/// `--csv`) in file order. Files are taken as parts of one run that ran
/// at the same time (several load generators, or a run and its retry): the wall time is the
/// longest file's, from its first start to its last end. `series`: also rebuild the run second
/// by second, each request in the second its start and its end fell in. `slo`: judge every
/// request against it, as a live run does. `each` sees every record
/// as it is read.
pub fn rebuild(
    paths: &[String],
    series: bool,
    slo: Option<&Slo>,
    each: &mut dyn FnMut(&Record),
) -> Result<Rebuilt, Error> {
    let base = Instant::now();
    let mut stats = RunStats::judged_by(slo);
    let mut breakdown = Breakdown::default();
    // One file is in about end order (written as requests ended); several each start over.
    let mut seconds = series.then(|| SeriesBuilder::new(paths.len() == 1));
    let (mut wall, mut warnings, mut newest) = (Duration::ZERO, Vec::new(), None::<SystemTime>);
    // The first origin and the file that named it; the first file that named another.
    let (mut origin, mut other) = (None::<(Origin, &str)>, None::<(Origin, &str)>);
    for path in paths {
        let file = files::open("report", path, cap::RECORDS)?;
        newest = newest.max(file.get_ref().metadata().and_then(|m| m.modified()).ok());
        // The breakdown needs only each record's indexes, outcome and TTFT; a warm-up request
        // is in no statistic.
        let mut each = |r: &Record| {
            if !r.warmup {
                breakdown.record(r.prompt_index, r.key_index, ended(r));
            }
            each(r);
        };
        let part =
            read(BufReader::new(file), base, &mut stats, seconds.as_mut(), MAX_RECORD_BYTES, &mut each)
                .map_err(|p| Error::file("report", path, p))?;
        wall = wall.max(part.span);
        for o in part.origins {
            match &origin {
                None => origin = Some((o, path)),
                Some((first, _)) if *first != o && other.is_none() => other = Some((o, path)),
                Some(_) => {}
            }
        }
        if part.partial_last_line {
            warnings.push(Warning::CutRecord { file: path.clone() }.into());
        }
    }
    if stats.total() == 0 {
        return Err(Error::Usage(format!(
            "{} hold no records: give the file(s) a run wrote with --records",
            paths.join(", ")
        )));
    }
    // The records hold no clock time; the run ended about when its newest file was last written.
    let ended = newest.map_or_else(chrono::Local::now, chrono::DateTime::<chrono::Local>::from);
    let started_at = ended - chrono::Duration::from_std(wall).unwrap_or_default();
    if let (Some((first, first_path)), Some((o, path))) = (&origin, &other) {
        let first = format!("{first_path}: {} at {}", first.api, first.url);
        let second = format!("{path}: {} at {}", o.api, o.url);
        warnings.push(Warning::MixedRuns { first, second }.into());
    }
    let run = RunOutput {
        stats,
        wall,
        window: wall, // the records say nothing of a deadline: their span is the window
        started_at,
        warnings,
        records_error: None,
        interrupted: false,
        stats_lost: false,
        series: seconds.map_or_else(Vec::new, |s| s.rows()),
        breakdown,
    };
    Ok(Rebuilt { run, origin: origin.map(|(o, _)| o) })
}

/// How a record's request ended, for the breakdown by key and prompt.
fn ended(r: &Record) -> Ended {
    match r.outcome.as_str() {
        "ok" => Ended::Ok(r.ttft_ms.map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0))),
        "cancelled" => Ended::Cancelled,
        _ => Ended::Failed,
    }
}

/// What one file added.
struct Part {
    /// First start to last end.
    span: Duration,
    partial_last_line: bool,
    /// The distinct origins its records name, in order; at most two (a second says they differ).
    origins: Vec<Origin>,
}

/// `max_line`: the longest line accepted (`MAX_RECORD_BYTES`; smaller in tests).
fn read(
    mut r: impl BufRead,
    base: Instant,
    stats: &mut RunStats,
    mut series: Option<&mut SeriesBuilder>,
    max_line: u64,
    each: &mut dyn FnMut(&Record),
) -> Result<Part, String> {
    let mut part = Part { span: Duration::ZERO, partial_last_line: false, origins: Vec::new() };
    let (mut first, mut last, mut line) = (None::<Instant>, None::<Instant>, Vec::new());
    for n in 1.. {
        line.clear();
        let read = r.by_ref().take(max_line).read_until(b'\n', &mut line);
        if read.map_err(|e| format!("cannot be read ({e})"))? == 0 {
            break;
        }
        let complete = line.ends_with(b"\n");
        let at_end = r.fill_buf().map_or(true, |rest| rest.is_empty());
        if !complete && !at_end {
            return Err(format!("line {n} is longer than {max_line} bytes: give files written by --records"));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let rec = serde_json::from_slice::<Record>(&line).map_err(|e| e.to_string());
        let m = rec.and_then(|rec| Ok((rec.to_measurement(base)?, rec)));
        let m = match m {
            Ok((m, rec)) => {
                each(&rec);
                if part.origins.len() < 2
                    && let Some(o) = Origin::of(rec).filter(|o| !part.origins.contains(o))
                {
                    part.origins.push(o);
                }
                m
            }
            // SIGKILL can land between a line's bytes; only the last line may be cut.
            Err(_) if !complete => {
                part.partial_last_line = true;
                break;
            }
            Err(e) => {
                return Err(format!(
                    "line {n} is not an llmload record ({e}): give files written by --records"
                ));
            }
        };
        first = Some(first.map_or(m.t0, |f| f.min(m.t0)));
        last = Some(last.map_or(m.end_at, |l| l.max(m.end_at)));
        stats.add(&m);
        if let Some(s) = series.as_deref_mut() {
            s.add(&m, base);
        }
    }
    if let (Some(first), Some(last)) = (first, last) {
        part.span = last.saturating_duration_since(first);
    }
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::records;
    use crate::measure::{ErrorKind, Measurement, Outcome};

    const URL: &str = "http://h/v1/chat-messages";

    /// The records line of `m` in a run that started at `base`.
    fn line(m: &Measurement, base: Instant, api: &str) -> Vec<u8> {
        records::line(&Record::from_measurement(m, m.t0.duration_since(base), api, URL))
    }

    fn measurement(base: Instant, start_ms: u64, tokens: u64) -> Measurement {
        let t0 = base + Duration::from_millis(start_ms);
        let mut m = Measurement::new(1, 2, Some(0), t0);
        m.status = Some(200);
        m.headers_at = Some(t0 + Duration::from_micros(1_500));
        m.first_event_at = Some(t0 + Duration::from_micros(2_250));
        m.text_at = (0..tokens).map(|i| t0 + Duration::from_micros(50_000 + 10_123 * i)).collect();
        m.first_answer_at = m.text_at.first().copied();
        m.end_at = t0 + Duration::from_millis(200);
        m.usage_output_tokens = Some(tokens);
        m
    }

    #[test]
    fn records_rebuild_the_same_statistics() {
        let base = Instant::now();
        let mut live = RunStats::default();
        let mut live_series = SeriesBuilder::new(true);
        let mut file = Vec::new();
        for i in 0..20 {
            let mut m = measurement(base, 100 * i, 1 + i % 7);
            if i % 5 == 0 {
                m.outcome = Outcome::Failed { kind: ErrorKind::Http(503), message: "busy".into() };
                m.attempts = 3;
            }
            if i % 6 == 0 {
                m.usage_output_tokens = None;
                m.counted_tokens = 4;
                m.warnings.push("malformed event: x".into());
            }
            // One timed read each (records keep only a request's largest lag), some on the user
            // clock; no send lag (records do not keep it).
            if i % 4 == 0 {
                m.user_reads = 1;
            } else {
                m.read_lags_us = vec![30 + i as u32];
            }
            // Dify's own numbers come in seconds with more digits than a microsecond.
            m.server_latency_s = Some(0.123_456_789 * (1 + i) as f64);
            m.server_ttft_s = Some(0.011_111_111);
            live.add(&m);
            live_series.add(&m, base);
            file.extend(line(&m, base, "dify-chat"));
        }
        let mut rebuilt = RunStats::default();
        let mut rebuilt_series = SeriesBuilder::new(true);
        let part = read(
            &file[..],
            Instant::now(),
            &mut rebuilt,
            Some(&mut rebuilt_series),
            MAX_RECORD_BYTES,
            &mut |_| (),
        )
        .unwrap();
        assert_eq!(rebuilt, live);
        assert_eq!(rebuilt_series.rows(), live_series.rows());
        assert_eq!(rebuilt_series.rows().len(), 3, "requests end up to 2.1 s after the start");
        assert_eq!(rebuilt.server_latency.count(), 16);
        assert_eq!((rebuilt.read_lag.count(), rebuilt.user_reads), (15, 5));
        assert_eq!(part.span, Duration::from_millis(1900 + 200));
        assert!(!part.partial_last_line);
        assert_eq!(part.origins, [Origin { api: "dify-chat".into(), url: URL.into() }]);
    }

    #[test]
    fn a_cut_last_line_is_skipped_and_a_bad_line_is_an_error() {
        let base = Instant::now();
        let mut file = line(&measurement(base, 0, 3), base, "dify-chat");
        let second = line(&measurement(base, 5, 3), base, "dify-chat");
        file.extend_from_slice(&second[..second.len() / 2]);
        let mut stats = RunStats::default();
        let part = read(&file[..], base, &mut stats, None, MAX_RECORD_BYTES, &mut |_| ()).unwrap();
        assert_eq!((stats.ok, part.partial_last_line), (1, true));
        let err = read(
            &b"{\"not\":\"a record\"}\n"[..],
            base,
            &mut RunStats::default(),
            None,
            MAX_RECORD_BYTES,
            &mut |_| (),
        )
        .err()
        .unwrap();
        assert!(err.starts_with("line 1 is not an llmload record"), "{err}");
        let err = read(&b"\n{\"outcome\":\"boom\",\"worker\":0,\"prompt_index\":0,\"key_index\":null,\"status\":null,\"error\":null,\"ttfb_ms\":null,\"ttfe_ms\":null,\"ttft_ms\":null,\"ttfa_ms\":null,\"tpot_ms\":null,\"e2e_ms\":1.0,\"output_tokens\":0,\"token_source\":\"usage\",\"text_events\":0,\"warnings\":[]}\n"[..], base, &mut RunStats::default(), None, MAX_RECORD_BYTES, &mut |_| ()).err().unwrap();
        assert!(err.contains("line 2") && err.contains("unknown outcome \"boom\""), "{err}");
        // A line longer than the limit in the middle of a file is an error, not a cut last line.
        let mut long = line(&measurement(base, 0, 3), base, "dify-chat");
        long.extend(line(&measurement(base, 5, 3), base, "dify-chat"));
        let err = read(&long[..], base, &mut RunStats::default(), None, 64, &mut |_| ()).err().unwrap();
        assert_eq!(err, "line 1 is longer than 64 bytes: give files written by --records");
    }

    #[test]
    fn origins_are_the_distinct_runs_named_in_order() {
        let base = Instant::now();
        let mut file = Vec::new();
        for api in ["dify-chat", "dify-chat", "openai-chat", "anthropic", "dify-chat"] {
            file.extend(line(&measurement(base, 0, 3), base, api));
        }
        // Records written before they named their run add none.
        let mut old: serde_json::Value =
            serde_json::from_slice(&line(&measurement(base, 0, 3), base, "x")).unwrap();
        old.as_object_mut().unwrap().retain(|k, _| k != "api" && k != "url");
        file.extend(format!("{old}\n").into_bytes());
        let mut stats = RunStats::default();
        let part = read(&file[..], base, &mut stats, None, MAX_RECORD_BYTES, &mut |_| ()).unwrap();
        assert_eq!(stats.ok, 6);
        let apis: Vec<&str> = part.origins.iter().map(|o| o.api.as_str()).collect();
        assert_eq!(apis, ["dify-chat", "openai-chat"]);
    }
}
