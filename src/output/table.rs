//! The per-second table: one row a second on stderr while the run goes on. Pure formatting of
//! plain numbers; the reporter thread decides what goes in a row.

use super::format::{count, opt_ms, pad_left, pad_right, percent, rate};

/// One second of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Local wall-clock time, `HH:MM:SS`.
    pub clock: String,
    pub elapsed_s: u64,
    pub active_workers: usize,
    pub total_workers: usize,
    pub done: u64,
    pub done_total: u64,
    /// ok / (ok + failed) of this second's requests.
    pub success: Option<f64>,
    pub tokens_per_s: f64,
    pub ttft_p50_ms: Option<f64>,
    pub itl_p50_ms: Option<f64>,
    pub errors: u64,
    /// The client's own read lag (read time − kernel receive time), p99 over the timed reads of
    /// this second's requests; `None` without kernel stamps.
    pub lag_p99_ms: Option<f64>,
}

const WIDTHS: [usize; 11] = [8, 7, 13, 6, 8, 7, 10, 10, 9, 6, 8];
const TITLES: [&str; 11] = [
    "time", "elapsed", "workers", "done", "total", "ok", "tok/s", "TTFT p50", "ITL p50", "errors", "lag p99",
];

pub fn header() -> String {
    line(TITLES.map(String::from))
}

pub fn row(r: &Row) -> String {
    line([
        r.clock.clone(),
        format!("{}s", r.elapsed_s),
        format!("{}/{}", r.active_workers, r.total_workers),
        count(r.done),
        count(r.done_total),
        percent(r.success),
        rate(r.tokens_per_s),
        opt_ms(r.ttft_p50_ms),
        opt_ms(r.itl_p50_ms),
        count(r.errors),
        opt_ms(r.lag_p99_ms),
    ])
}

fn line(cells: [String; 11]) -> String {
    let mut out = pad_right(&cells[0], WIDTHS[0]);
    for (cell, w) in cells.iter().zip(WIDTHS).skip(1) {
        out.push_str("  ");
        out.push_str(&pad_left(cell, w));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_line_up_with_the_header() {
        let r = Row {
            clock: "12:00:01".into(),
            elapsed_s: 1,
            active_workers: 8,
            total_workers: 10,
            done: 12,
            done_total: 1234,
            success: Some(1.0),
            tokens_per_s: 2048.5,
            ttft_p50_ms: Some(101.25),
            itl_p50_ms: Some(10.04),
            errors: 0,
            lag_p99_ms: Some(0.042),
        };
        assert_eq!(
            header(),
            "time      elapsed        workers    done     total       ok       tok/s    TTFT p50    ITL p50  errors   lag p99"
        );
        assert_eq!(
            row(&r),
            "12:00:01       1s           8/10      12     1,234   100.0%     2,048.5     101.2ms     10.0ms       0    0.04ms"
        );
        assert_eq!(header().len(), row(&r).len());
        let slow = Row { lag_p99_ms: Some(1234.5), ..r.clone() };
        assert!(row(&slow).ends_with("       0     1.23s"), "{}", row(&slow));
        let unstamped = Row { lag_p99_ms: None, ..r };
        assert!(row(&unstamped).ends_with("       0         -"), "{}", row(&unstamped));
    }
}
