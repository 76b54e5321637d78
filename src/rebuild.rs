//! `llmload report`: rebuilds a run's statistics from `--records` files, so a run that was
//! killed (even with SIGKILL) still gets its summary. Each line becomes a `Measurement` again
//! (`Measurement::from_record`) and goes through the same `RunStats::add` as a live run: one
//! code path for statistics. It does not print or format; `app` does, with the live run's code.

use crate::error::Error;
use crate::measure::{Measurement, Record};
use crate::output::warnings::Warning;
use crate::stats::RunStats;
use crate::summary::RunOutput;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant, SystemTime};

/// A records line longer than this is not one llmload wrote (a 100k-token stream is ~1 MiB).
const MAX_RECORD_BYTES: u64 = 64 << 20;

/// Reads every file and merges them into one run. Files are taken as parts of one run that ran
/// at the same time (several load generators, or a run and its retry): the wall time is the
/// longest file's, from its first start to its last end.
pub fn rebuild(paths: &[String]) -> Result<RunOutput, Error> {
    let base = Instant::now();
    let mut stats = RunStats::default();
    let (mut wall, mut warnings, mut newest) = (Duration::ZERO, Vec::new(), None::<SystemTime>);
    for path in paths {
        let file = File::open(path).map_err(|e| {
            let hint = match e.kind() {
                std::io::ErrorKind::NotFound => "file not found: check the path".to_string(),
                _ => format!("cannot be read ({e})"),
            };
            Error::file("report", path, hint)
        })?;
        newest = newest.max(file.metadata().and_then(|m| m.modified()).ok());
        let part = read(BufReader::new(file), base, &mut stats, MAX_RECORD_BYTES)
            .map_err(|p| Error::file("report", path, p))?;
        wall = wall.max(part.span);
        if part.partial_last_line {
            warnings.push(Warning::CutRecord { file: path.clone() }.to_string());
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
    Ok(RunOutput { stats, wall, started_at, warnings, records_error: None, interrupted: false })
}

/// What one file added.
struct Part {
    /// First start to last end.
    span: Duration,
    partial_last_line: bool,
}

/// `max_line`: the longest line accepted (`MAX_RECORD_BYTES`; smaller in tests).
fn read(mut r: impl BufRead, base: Instant, stats: &mut RunStats, max_line: u64) -> Result<Part, String> {
    let mut part = Part { span: Duration::ZERO, partial_last_line: false };
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
        let m = serde_json::from_slice::<Record>(&line)
            .map_err(|e| e.to_string())
            .and_then(|rec| Measurement::from_record(&rec, base));
        let m = match m {
            Ok(m) => m,
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
    use crate::measure::{ErrorKind, Outcome};

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
            live.add(&m);
            file.extend(records::line(&m.record(base)));
        }
        let mut rebuilt = RunStats::default();
        let part = read(&file[..], Instant::now(), &mut rebuilt, MAX_RECORD_BYTES).unwrap();
        assert_eq!(rebuilt, live);
        assert_eq!(part.span, Duration::from_millis(1900 + 200));
        assert!(!part.partial_last_line);
    }

    #[test]
    fn a_cut_last_line_is_skipped_and_a_bad_line_is_an_error() {
        let base = Instant::now();
        let mut file = records::line(&measurement(base, 0, 3).record(base));
        let second = records::line(&measurement(base, 5, 3).record(base));
        file.extend_from_slice(&second[..second.len() / 2]);
        let mut stats = RunStats::default();
        let part = read(&file[..], base, &mut stats, MAX_RECORD_BYTES).unwrap();
        assert_eq!((stats.ok, part.partial_last_line), (1, true));
        let err = read(&b"{\"not\":\"a record\"}\n"[..], base, &mut RunStats::default(), MAX_RECORD_BYTES)
            .err()
            .unwrap();
        assert!(err.starts_with("line 1 is not an llmload record"), "{err}");
        let err = read(&b"\n{\"outcome\":\"boom\",\"worker\":0,\"prompt_index\":0,\"key_index\":null,\"status\":null,\"error\":null,\"ttfb_ms\":null,\"ttfe_ms\":null,\"ttft_ms\":null,\"ttfa_ms\":null,\"tpot_ms\":null,\"e2e_ms\":1.0,\"output_tokens\":0,\"token_source\":\"usage\",\"text_events\":0,\"warnings\":[]}\n"[..], base, &mut RunStats::default(), MAX_RECORD_BYTES).err().unwrap();
        assert!(err.contains("line 2") && err.contains("unknown outcome \"boom\""), "{err}");
        // A line longer than the limit in the middle of a file is an error, not a cut last line.
        let mut long = records::line(&measurement(base, 0, 3).record(base));
        long.extend(records::line(&measurement(base, 5, 3).record(base)));
        let err = read(&long[..], base, &mut RunStats::default(), 64).err().unwrap();
        assert_eq!(err, "line 1 is longer than 64 bytes: give files written by --records");
    }
}
