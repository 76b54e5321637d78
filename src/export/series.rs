//! The `--series` file: one JSON line a second of the run, in the shape of `stats::SeriesRow`
//! (whose field docs are the contract, docs/series.md) with the second's wall-clock end first.
//! Pure: rows in, bytes out.

use crate::stats::SeriesRow;
use serde::Serialize;

/// One line: when the second ended on the wall clock, then the row's keys.
#[derive(Serialize)]
struct Line<'a> {
    /// The end of the second, RFC 3339 with milliseconds and the local offset.
    time: String,
    #[serde(flatten)]
    row: &'a SeriesRow,
}

/// The lines for `rows` of a run that started at `started_at`.
pub fn lines(rows: &[SeriesRow], started_at: chrono::DateTime<chrono::Local>) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 400);
    for row in rows {
        let end = started_at + chrono::Duration::microseconds((row.elapsed_s * 1e6).round() as i64);
        let time = end.to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
        // Plain fields and finite-or-null floats: serializing cannot fail.
        let _ = serde_json::to_writer(&mut out, &Line { time, row });
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_line() {
        let row = SeriesRow {
            elapsed_s: 2.0,
            duration_s: 1.0,
            started: 4,
            finished: 3,
            finished_total: 5,
            ok: 2,
            failed: 1,
            cancelled: 0,
            in_flight: 6,
            success_rate: Some(2.0 / 3.0),
            requests_per_s: 2.0,
            output_tokens: 128,
            output_tokens_per_s: 128.0,
            ttft_p50_ms: Some(101.25),
            ttft_p99_ms: Some(180.5),
            itl_p50_ms: Some(10.0),
            itl_p99_ms: None,
            read_lag_p99_ms: Some(0.042),
            server: None,
        };
        let started = chrono::DateTime::parse_from_rfc3339("2026-11-26T11:43:16.512+00:00").unwrap();
        let got = String::from_utf8(lines(&[row], started.with_timezone(&chrono::Local))).unwrap();
        let (time, rest) = got.split_once("\",").unwrap();
        let back = chrono::DateTime::parse_from_rfc3339(time.strip_prefix("{\"time\":\"").unwrap()).unwrap();
        assert_eq!(back, started + chrono::Duration::seconds(2));
        assert_eq!(
            rest,
            "\"elapsed_s\":2.0,\"duration_s\":1.0,\"started\":4,\"finished\":3,\"finished_total\":5,\"ok\":2,\"failed\":1,\"cancelled\":0,\"in_flight\":6,\"success_rate\":0.666667,\"requests_per_s\":2.0,\"output_tokens\":128,\"output_tokens_per_s\":128.0,\"ttft_p50_ms\":101.25,\"ttft_p99_ms\":180.5,\"itl_p50_ms\":10.0,\"itl_p99_ms\":null,\"read_lag_p99_ms\":0.042}\n"
        );
    }
}
