//! The per-second table: one row a second on stderr while the run goes on, and a last row for
//! the part of a second between the last tick and the run's end. Pure formatting of plain
//! numbers; the reporter thread decides what goes in a row. Its counts are the summary's:
//! `--warmup` requests are in none of them, and a second whose requests were all warm-up says
//! `warm-up` in the `ok` column.

use super::format::{count, opt_ms, pad_left, pad_right, percent, rate};
use crate::lang::Lang;

/// One second of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Local wall-clock time, `HH:MM:SS`.
    pub clock: String,
    /// Seconds since the run started: whole seconds on a tick's row, tenths on the last one.
    pub elapsed_s: f64,
    /// The last row, for the part of a second after the last tick: it says `end` in place of
    /// the clock (which would repeat the row above) and its elapsed time to a tenth.
    pub last: bool,
    pub active_workers: usize,
    pub total_workers: usize,
    /// Measured requests that ended this second, and so far (the summary's `total` at the end).
    pub done: u64,
    pub done_total: u64,
    /// `--warmup` requests that ended this second (in no other number of the row).
    pub warmup: u64,
    /// ok / (ok + failed) of this second's requests.
    pub success: Option<f64>,
    /// Output tokens of the requests that ended this second, a second; `None` for a last row
    /// shorter than `SHORTEST_RATE_S`, where the requests cut at the end would read as a burst.
    pub tokens_per_s: Option<f64>,
    pub ttft_p50_ms: Option<f64>,
    pub itl_p50_ms: Option<f64>,
    pub errors: u64,
    /// The client's own read lag (read time − kernel receive time), p99 over the timed reads of
    /// this second's requests; `None` without kernel stamps.
    pub lag_p99_ms: Option<f64>,
    /// The servers' last scrape (`--server-metrics`): its columns appear only with one.
    pub server: Option<ServerCells>,
}

/// The server's columns: requests running and waiting, and the KV cache's share in use, as
/// last scraped; `None` where the pages have no such number (or no scrape answered yet).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ServerCells {
    pub running: Option<f64>,
    pub waiting: Option<f64>,
    pub kv_use: Option<f64>,
}

/// The shortest last row whose tok/s is shown: the tokens of every request cut at the end land
/// in it, so over a few milliseconds they would read as hundreds of thousands a second.
pub const SHORTEST_RATE_S: f64 = 0.5;

const WIDTHS: [usize; 11] = [8, 7, 13, 6, 8, 7, 10, 10, 9, 6, 8];
/// The column titles, English and Chinese; each fits its width in terminal columns.
const TITLES: [(&str, &str); 11] = [
    ("time", "时间"),
    ("elapsed", "已运行"),
    ("workers", "工作线程"),
    ("done", "完成"),
    ("total", "累计"),
    ("ok", "成功率"),
    ("tok/s", "tok/s"),
    ("TTFT p50", "TTFT p50"),
    ("ITL p50", "ITL p50"),
    ("errors", "错误"),
    ("lag p99", "滞后 p99"),
];

/// The server's columns' widths and titles.
const SERVER_WIDTHS: [usize; 2] = [12, 6];
const SERVER_TITLES: [(&str, &str); 2] = [("server r/w", "服务端 运/等"), ("KV", "KV")];

/// The titles; the server's columns when `server` (scraping its metrics).
pub fn header(lang: Lang, server: bool) -> String {
    let mut out = line(TITLES.map(|t| lang.of(t).to_string()));
    if server {
        out.push_str(&server_line(SERVER_TITLES.map(|t| lang.of(t).to_string())));
    }
    out
}

pub fn row(r: &Row, lang: Lang) -> String {
    let (clock, elapsed) = match r.last {
        false => (r.clock.clone(), format!("{:.0}s", r.elapsed_s)),
        true => (lang.pick("end", "结束").to_string(), format!("{:.1}s", r.elapsed_s)),
    };
    line([
        clock,
        elapsed,
        format!("{}/{}", r.active_workers, r.total_workers),
        count(r.done),
        count(r.done_total),
        match (r.done, r.warmup) {
            (0, 1..) => lang.pick("warm-up", "预热").to_string(),
            _ => percent(r.success),
        },
        r.tokens_per_s.map_or_else(|| "-".into(), rate),
        opt_ms(r.ttft_p50_ms),
        opt_ms(r.itl_p50_ms),
        count(r.errors),
        opt_ms(r.lag_p99_ms),
    ]) + &r.server.map_or_else(String::new, |c| {
        let n = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| count(v.round().max(0.0) as u64));
        server_line([format!("{}/{}", n(c.running), n(c.waiting)), percent(c.kv_use)])
    })
}

fn server_line(cells: [String; 2]) -> String {
    right_aligned(&cells, &SERVER_WIDTHS)
}

fn line(cells: [String; 11]) -> String {
    pad_right(&cells[0], WIDTHS[0]) + &right_aligned(&cells[1..], &WIDTHS[1..])
}

/// Each cell right-aligned in its width, two spaces before it.
fn right_aligned(cells: &[String], widths: &[usize]) -> String {
    cells.iter().zip(widths).map(|(cell, &w)| format!("  {}", pad_left(cell, w))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Row {
        Row {
            clock: "12:00:01".into(),
            elapsed_s: 1.0,
            last: false,
            active_workers: 8,
            total_workers: 10,
            done: 12,
            done_total: 1234,
            warmup: 0,
            success: Some(1.0),
            tokens_per_s: Some(2048.5),
            ttft_p50_ms: Some(101.25),
            itl_p50_ms: Some(10.04),
            errors: 0,
            lag_p99_ms: Some(0.042),
            server: None,
        }
    }

    #[test]
    fn rows_line_up_with_the_header() {
        let r = sample();
        assert_eq!(
            header(Lang::En, false),
            "time      elapsed        workers    done     total       ok       tok/s    TTFT p50    ITL p50  errors   lag p99"
        );
        assert_eq!(
            row(&r, Lang::En),
            "12:00:01       1s           8/10      12     1,234   100.0%     2,048.5     101.2ms     10.0ms       0    0.04ms"
        );
        assert_eq!(header(Lang::En, false).len(), row(&r, Lang::En).len());
        let slow = Row { lag_p99_ms: Some(1234.5), ..r.clone() };
        assert!(row(&slow, Lang::En).ends_with("       0     1.23s"), "{}", row(&slow, Lang::En));
        let unstamped = Row { lag_p99_ms: None, ..r };
        assert!(row(&unstamped, Lang::En).ends_with("       0         -"), "{}", row(&unstamped, Lang::En));
    }

    #[test]
    fn the_servers_columns_follow_when_scraping() {
        let cells = ServerCells { running: Some(8.0), waiting: Some(12.0), kv_use: Some(0.456) };
        let r = Row { server: Some(cells), ..sample() };
        let (head, line) = (header(Lang::En, true), row(&r, Lang::En));
        assert!(head.ends_with("lag p99    server r/w      KV"), "{head}");
        assert!(line.ends_with("0.04ms          8/12   45.6%"), "{line}");
        assert_eq!(head.len(), line.len());
        let none = Row { server: Some(ServerCells::default()), ..sample() };
        assert!(row(&none, Lang::En).ends_with("           -/-       -"), "{}", row(&none, Lang::En));
        assert_eq!(
            crate::output::format::display_width(&header(Lang::Zh, true)),
            crate::output::format::display_width(&row(&r, Lang::Zh))
        );
    }

    /// Where each column ends, in terminal columns: the right edge of every cell but the first
    /// (left-aligned) one.
    fn right_edges(line: &str) -> Vec<usize> {
        let (mut edges, mut col, mut prev_space) = (Vec::new(), 0, true);
        for c in line.chars() {
            let space = c == ' ';
            if space && !prev_space {
                edges.push(col);
            }
            col += crate::output::format::display_width(c.encode_utf8(&mut [0; 4]));
            prev_space = space;
        }
        edges.push(col);
        edges
    }

    #[test]
    fn a_chinese_header_lines_up_with_its_rows_by_display_width() {
        let r = sample();
        let head = header(Lang::Zh, false);
        assert_eq!(
            head,
            "时间       已运行       工作线程    完成      累计   成功率       tok/s    TTFT p50    ITL p50    错误  滞后 p99"
        );
        let width = crate::output::format::display_width;
        assert_eq!(width(&head), width(&row(&r, Lang::En)));
        assert!(head.len() > width(&head), "the header holds wide characters");
        // Every right-aligned column ends where its row's cell ends (the clock's is left-aligned,
        // and "TTFT p50" holds a space, so compare the ends of the last words of each cell).
        let (h, v) = (right_edges(&head), right_edges(&row(&r, Lang::En)));
        for edge in &v[1..] {
            assert!(h.contains(edge), "a cell ends at column {edge}, no title does: {h:?} vs {v:?}");
        }
    }

    #[test]
    fn a_second_of_warm_up_says_so_and_counts_nothing() {
        let r = Row { done: 0, done_total: 0, warmup: 4, success: None, tokens_per_s: Some(0.0), ..sample() };
        let r = Row { ttft_p50_ms: None, itl_p50_ms: None, lag_p99_ms: None, ..r };
        assert_eq!(
            row(&r, Lang::En),
            "12:00:01       1s           8/10       0         0  warm-up         0.0           -          -       0         -"
        );
        assert_eq!(
            row(&r, Lang::Zh),
            "12:00:01       1s           8/10       0         0     预热         0.0           -          -       0         -"
        );
        let width = crate::output::format::display_width;
        assert_eq!(width(&row(&r, Lang::Zh)), width(&header(Lang::Zh, false)));
        assert_eq!(width(&row(&r, Lang::En)), width(&header(Lang::En, false)));
        // A second with measured requests too shows their success, as any other.
        let mixed = Row { done: 2, done_total: 2, success: Some(1.0), ..r };
        assert!(row(&mixed, Lang::En).contains("       2         2   100.0% "), "{}", row(&mixed, Lang::En));
    }

    #[test]
    fn the_last_row_says_end_and_its_elapsed_time_to_a_tenth() {
        let r = Row { clock: "12:00:20".into(), elapsed_s: 20.43, last: true, ..sample() };
        assert_eq!(
            row(&r, Lang::En),
            "end         20.4s           8/10      12     1,234   100.0%     2,048.5     101.2ms     10.0ms       0    0.04ms"
        );
        assert_eq!(
            row(&r, Lang::Zh),
            "结束        20.4s           8/10      12     1,234   100.0%     2,048.5     101.2ms     10.0ms       0    0.04ms"
        );
        let width = crate::output::format::display_width;
        assert_eq!(width(&row(&r, Lang::Zh)), width(&header(Lang::Zh, false)));
        // A tick's row rounds to whole seconds and shows the clock.
        let tick = Row { elapsed_s: 19.96, ..sample() };
        assert!(row(&tick, Lang::Zh).starts_with("12:00:01      20s "), "{}", row(&tick, Lang::Zh));
        // A last row too short for a rate says so.
        let short = Row { tokens_per_s: None, ..r };
        assert!(
            row(&short, Lang::En).contains("100.0%           -     101.2ms"),
            "{}",
            row(&short, Lang::En)
        );
    }
}
