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
use crate::shard::Shard;
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
/// `--csv`) in file order. Files are taken as parts of one run that ran at the same time (the
/// shards of a run, several load generators, or a run and its retry). Records that carry their
/// wall-clock start (`start_unix_ms`) go on one timeline, from the earliest file's run start: the
/// wall time runs from the first start to the last end of all of them, and the series is by the
/// wall clock. Older records (without it) each start over at their file's start, and the wall
/// time is the longest file's. Records of different runs (`run_id`) are refused; a shard of the
/// run that no file holds is named in a warning. `series`: also rebuild the run second by second,
/// each request in the second its start and its end fell in. `slo`: judge every request against
/// it, as a live run does. `each` sees every record as it is read.
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
    let runs = first_records(paths)?;
    let epoch = runs.epoch_ms;
    let (mut first, mut last, mut all_stamped) = (None::<Instant>, None::<Instant>, true);
    let mut shards = Shards::default();
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
        let timeline = Timeline { base, epoch_ms: epoch };
        let part =
            read(BufReader::new(file), timeline, &mut stats, seconds.as_mut(), MAX_RECORD_BYTES, &mut each)
                .map_err(|p| Error::file("report", path, p))?;
        wall = wall.max(part.span);
        (first, last) = (min_some(first, part.first), part.last.max(last));
        all_stamped &= part.all_stamped;
        runs.check(path, &part.run_ids)?;
        shards.add(path, &part.shards)?;
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
    if let Some(w) = shards.missing() {
        warnings.push(w.into());
    }
    let started_at = match (epoch, all_stamped, first, last) {
        // All on one timeline: the span of all of them, from the earliest run start.
        (Some(ms), true, Some(f), Some(l)) => {
            wall = l.saturating_duration_since(f);
            let start =
                chrono::DateTime::from_timestamp_micros((ms * 1e3).round() as i64).unwrap_or_default();
            start.with_timezone(&chrono::Local) + chrono::Duration::from_std(f - base).unwrap_or_default()
        }
        // The records hold no clock time; the run ended about when its newest file was last written.
        _ => {
            let ended = newest.map_or_else(chrono::Local::now, chrono::DateTime::<chrono::Local>::from);
            ended - chrono::Duration::from_std(wall).unwrap_or_default()
        }
    };
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

fn min_some(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Where records go on the rebuilt run's timeline.
#[derive(Debug, Clone, Copy)]
struct Timeline {
    /// The instant the run's start maps to.
    base: Instant,
    /// The earliest run start by the wall clock (ms since the epoch), when records carry it:
    /// records that do are placed by `start_unix_ms`, the others by `start_ms`.
    epoch_ms: Option<f64>,
}

/// What each file's first record says of its run, read before the whole files are: the run
/// every file must share, and the earliest wall-clock run start.
struct Runs {
    /// The first run id met and the file it is in.
    first: Option<(String, String)>,
    epoch_ms: Option<f64>,
}

/// Reads each file's first record: a run id that differs from the first file's is refused
/// before anything else is read, and the earliest run start is the timeline's start.
fn first_records(paths: &[String]) -> Result<Runs, Error> {
    let mut runs = Runs { first: None, epoch_ms: None };
    for path in paths {
        let mut r = BufReader::new(files::open("report", path, cap::RECORDS)?);
        let mut line = Vec::new();
        // Blank lines are skipped; a first line that is no record is `read`'s error to report.
        while line.iter().all(u8::is_ascii_whitespace) {
            line.clear();
            let n = r.by_ref().take(MAX_RECORD_BYTES).read_until(b'\n', &mut line);
            if n.map_err(|e| Error::file("report", path, format!("cannot be read ({e})")))? == 0 {
                break;
            }
        }
        let Ok(rec) = serde_json::from_slice::<Record>(&line) else { continue };
        if let Some(id) = &rec.run_id {
            runs.check(path, std::slice::from_ref(id))?;
            if runs.first.is_none() {
                runs.first = Some((id.clone(), path.clone()));
            }
        }
        // Each record's run start by the wall clock: its start by the clock less its start in the run.
        if let Some(unix) = rec.start_unix_ms {
            let run_start = unix - rec.start_ms;
            runs.epoch_ms = Some(runs.epoch_ms.map_or(run_start, |e| e.min(run_start)));
        }
    }
    Ok(runs)
}

impl Runs {
    /// Refuses the run ids found in `path` unless they are the first file's.
    fn check(&self, path: &str, ids: &[String]) -> Result<(), Error> {
        if let [a, b, ..] = ids {
            return Err(Error::Usage(format!(
                "{path} holds records of two runs (run_id {a} and {b}): give each run's records file on its own"
            )));
        }
        match (&self.first, ids.first()) {
            (Some((first, first_path)), Some(id)) if first != id => Err(Error::Usage(format!(
                "the records come from different runs: {first_path} has run_id {first}, {path} has run_id {id}; report each run on its own (shards of one run share a run id: start them with the same --start-at or --run-id)"
            ))),
            _ => Ok(()),
        }
    }
}

/// The shards the files hold, each once.
#[derive(Default)]
struct Shards {
    /// Each shard and the file holding it.
    seen: std::collections::BTreeMap<Shard, String>,
}

impl Shards {
    fn add(&mut self, path: &str, shards: &[Shard]) -> Result<(), Error> {
        for &s in shards {
            if let Some((&other, other_path)) = self.seen.iter().find(|(o, _)| o.count != s.count) {
                return Err(Error::Usage(format!(
                    "{other_path} holds shard {other} and {path} shard {s} of the same run: its shards must agree on their count"
                )));
            }
            match self.seen.get(&s) {
                Some(other) if other != path => {
                    return Err(Error::Usage(format!(
                        "{other} and {path} both hold shard {s}: give each shard's records file once"
                    )));
                }
                Some(_) => {}
                None => {
                    self.seen.insert(s, path.to_string());
                }
            }
        }
        Ok(())
    }

    /// The warning naming the shards no file held, if some did and some did not.
    fn missing(&self) -> Option<Warning> {
        let count = self.seen.keys().next()?.count;
        let missing: Vec<String> = (0..count)
            .filter(|&i| !self.seen.contains_key(&Shard { index: i, count }))
            .map(|i| format!("{i}/{count}"))
            .collect();
        let given = self.seen.len();
        (!missing.is_empty()).then_some(Warning::MissingShards { missing, given, count })
    }
}

/// What one file added.
struct Part {
    /// First start to last end.
    span: Duration,
    /// The first start and the last end, on the rebuilt run's timeline.
    first: Option<Instant>,
    last: Option<Instant>,
    /// Whether every record carried its wall-clock start.
    all_stamped: bool,
    partial_last_line: bool,
    /// The distinct origins its records name, in order; at most two (a second says they differ).
    origins: Vec<Origin>,
    /// The distinct run ids, in order; at most two.
    run_ids: Vec<String>,
    /// The distinct shards its records name.
    shards: Vec<Shard>,
}

/// `max_line`: the longest line accepted (`MAX_RECORD_BYTES`; smaller in tests).
fn read(
    mut r: impl BufRead,
    timeline: Timeline,
    stats: &mut RunStats,
    mut series: Option<&mut SeriesBuilder>,
    max_line: u64,
    each: &mut dyn FnMut(&Record),
) -> Result<Part, String> {
    let base = timeline.base;
    let mut part = Part {
        span: Duration::ZERO,
        first: None,
        last: None,
        all_stamped: true,
        partial_last_line: false,
        origins: Vec::new(),
        run_ids: Vec::new(),
        shards: Vec::new(),
    };
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
        let m = rec.and_then(|mut rec| {
            // On the wall-clock timeline, a record starts where its wall-clock start falls.
            let (in_run, scheduled) = (rec.start_ms, rec.scheduled_ms);
            if let (Some(epoch), Some(unix)) = (timeline.epoch_ms, rec.start_unix_ms) {
                rec.start_ms = (unix - epoch).max(0.0);
                // Its intended start moves with it.
                rec.scheduled_ms = scheduled.map(|s| s + rec.start_ms - in_run);
            }
            let m = rec.to_measurement(base);
            (rec.start_ms, rec.scheduled_ms) = (in_run, scheduled);
            Ok((m?, rec))
        });
        let m = match m {
            Ok((m, rec)) => {
                each(&rec);
                part.all_stamped &= rec.start_unix_ms.is_some();
                note(&mut part, rec)?;
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
    (part.first, part.last) = (first, last);
    Ok(part)
}

/// Notes the origin, run id and shard `rec` names in `part`.
fn note(part: &mut Part, rec: Record) -> Result<(), String> {
    if let Some(s) = &rec.shard
        && !part.shards.iter().any(|k| k.to_string() == *s)
    {
        part.shards.push(s.parse().map_err(|e| format!("shard {s:?} is not INDEX/COUNT ({e})"))?);
    }
    if let Some(id) = &rec.run_id
        && part.run_ids.len() < 2
        && !part.run_ids.contains(id)
    {
        part.run_ids.push(id.clone());
    }
    if part.origins.len() < 2
        && let Some(o) = Origin::of(rec).filter(|o| !part.origins.contains(o))
    {
        part.origins.push(o);
    }
    Ok(())
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
            Timeline { base: Instant::now(), epoch_ms: None },
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
        let part = read(
            &file[..],
            Timeline { base, epoch_ms: None },
            &mut stats,
            None,
            MAX_RECORD_BYTES,
            &mut |_| (),
        )
        .unwrap();
        assert_eq!((stats.ok, part.partial_last_line), (1, true));
        let err = read(
            &b"{\"not\":\"a record\"}\n"[..],
            Timeline { base, epoch_ms: None },
            &mut RunStats::default(),
            None,
            MAX_RECORD_BYTES,
            &mut |_| (),
        )
        .err()
        .unwrap();
        assert!(err.starts_with("line 1 is not an llmload record"), "{err}");
        let err = read(&b"\n{\"outcome\":\"boom\",\"worker\":0,\"prompt_index\":0,\"key_index\":null,\"status\":null,\"error\":null,\"ttfb_ms\":null,\"ttfe_ms\":null,\"ttft_ms\":null,\"ttfa_ms\":null,\"tpot_ms\":null,\"e2e_ms\":1.0,\"output_tokens\":0,\"token_source\":\"usage\",\"text_events\":0,\"warnings\":[]}\n"[..], Timeline { base, epoch_ms: None }, &mut RunStats::default(), None, MAX_RECORD_BYTES, &mut |_| ()).err().unwrap();
        assert!(err.contains("line 2") && err.contains("unknown outcome \"boom\""), "{err}");
        // A line longer than the limit in the middle of a file is an error, not a cut last line.
        let mut long = line(&measurement(base, 0, 3), base, "dify-chat");
        long.extend(line(&measurement(base, 5, 3), base, "dify-chat"));
        let err = read(
            &long[..],
            Timeline { base, epoch_ms: None },
            &mut RunStats::default(),
            None,
            64,
            &mut |_| (),
        )
        .err()
        .unwrap();
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
        let part = read(
            &file[..],
            Timeline { base, epoch_ms: None },
            &mut stats,
            None,
            MAX_RECORD_BYTES,
            &mut |_| (),
        )
        .unwrap();
        assert_eq!(stats.ok, 6);
        let apis: Vec<&str> = part.origins.iter().map(|o| o.api.as_str()).collect();
        assert_eq!(apis, ["dify-chat", "openai-chat"]);
    }

    /// The records line of `m`, stamped as shard `shard` of `run` whose start was `epoch_ms`.
    fn stamped(m: &Measurement, base: Instant, run: &str, shard: &str, epoch_ms: f64) -> Vec<u8> {
        let start = m.t0.duration_since(base);
        let mut r = Record::from_measurement(m, start, "dify-chat", URL);
        let stamp = records::Stamp { run_id: run.into(), shard: Some(shard.into()), start_unix_ms: epoch_ms };
        stamp.apply(&mut r, start);
        records::line(&r)
    }

    fn files(name: &str, contents: &[Vec<u8>]) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("llmload-rebuild-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        contents
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let p = dir.join(format!("shard-{i}.jsonl"));
                std::fs::write(&p, c).unwrap();
                p.to_string_lossy().into_owned()
            })
            .collect()
    }

    #[test]
    fn shards_merge_on_the_wall_clock_as_one_process_would_count_them() {
        // Shard 1's run started 1.5 s after shard 0's; one process would have seen all 12 requests.
        let (b0, epoch) = (Instant::now(), 1_748_779_200_000.0);
        let b1 = b0 + Duration::from_millis(1_500);
        let (mut live, mut live_series) = (RunStats::default(), SeriesBuilder::new(false));
        let (mut f0, mut f1) = (Vec::new(), Vec::new());
        for i in 0..6 {
            let (mut m0, mut m1) = (measurement(b0, 300 * i, 2 + i), measurement(b1, 250 * i, 9));
            // One read each on the user clock (what a record without a read lag rebuilds).
            (m0.user_reads, m1.user_reads) = (1, 1);
            f0.extend(stamped(&m0, b0, "r", "0/2", epoch));
            f1.extend(stamped(&m1, b1, "r", "1/2", epoch + 1_500.0));
            for m in [m0, m1] {
                live.add(&m);
                live_series.add(&m, b0);
            }
        }
        let rebuilt = rebuild(&files("merge", &[f1, f0]), true, None, &mut |_| ()).unwrap();
        assert!(rebuilt.run.stats == live, "the merged statistics differ from one process's");
        assert!(rebuilt.run.series == live_series.rows(), "the merged series differs from one process's");
        // From shard 0's first start to shard 1's last end (1.5 s + 1.25 s + 0.2 s).
        assert_eq!(rebuilt.run.wall, Duration::from_millis(2_950));
        assert_eq!(rebuilt.run.started_at.timestamp_millis(), 1_748_779_200_000);
        assert!(rebuilt.run.warnings.is_empty(), "{:?}", rebuilt.run.warnings);
    }

    #[test]
    fn other_runs_are_refused_and_missing_shards_named() {
        let base = Instant::now();
        let m = measurement(base, 0, 3);
        let paths = files("runs", &[stamped(&m, base, "a", "0/2", 0.0), stamped(&m, base, "b", "1/2", 0.0)]);
        let err = rebuild(&paths, false, None, &mut |_| ()).err().unwrap().to_string();
        assert_eq!(
            err,
            format!(
                "the records come from different runs: {} has run_id a, {} has run_id b; report each run on its own (shards of one run share a run id: start them with the same --start-at or --run-id)",
                paths[0], paths[1]
            )
        );
        // Two runs in one file.
        let mut both = stamped(&m, base, "a", "0/1", 0.0);
        both.extend(stamped(&m, base, "b", "0/1", 0.0));
        let one = files("two-in-one", &[both]);
        let err = rebuild(&one, false, None, &mut |_| ()).err().unwrap().to_string();
        assert!(
            err.ends_with(
                "holds records of two runs (run_id a and b): give each run's records file on its own"
            ),
            "{err}"
        );
        // Shards 0 and 2 of 4: 1 and 3 are named.
        let paths =
            files("missing", &[stamped(&m, base, "r", "0/4", 0.0), stamped(&m, base, "r", "2/4", 0.0)]);
        let rebuilt = rebuild(&paths, false, None, &mut |_| ()).unwrap();
        let warnings: Vec<&str> = rebuilt.run.warnings.iter().map(|w| w.en.as_str()).collect();
        assert_eq!(
            warnings,
            [
                "shards 1/4, 3/4 of the run are missing: the totals cover 2 of 4 shards; give every shard's records file"
            ]
        );
        // The same shard twice would count its requests twice.
        let twice = files("twice", &[stamped(&m, base, "r", "1/2", 0.0), stamped(&m, base, "r", "1/2", 0.0)]);
        let err = rebuild(&twice, false, None, &mut |_| ()).err().unwrap().to_string();
        assert!(err.ends_with("both hold shard 1/2: give each shard's records file once"), "{err}");
        let counts =
            files("counts", &[stamped(&m, base, "r", "0/2", 0.0), stamped(&m, base, "r", "1/3", 0.0)]);
        let err = rebuild(&counts, false, None, &mut |_| ()).err().unwrap().to_string();
        assert!(err.ends_with("of the same run: its shards must agree on their count"), "{err}");
    }
}
