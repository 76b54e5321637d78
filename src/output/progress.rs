//! The live lines redrawn in place under a run: a run with a request budget (`-n`) shows
//! done/total, the share done and the time left at the pace so far, e.g. `progress 37/100 (37.0%)
//! · ETA 12s`; each level of a sweep shows which level of how many, the time spent and left, the
//! requests done and their rate so far. Pure: counts and the elapsed time in, the line out; the
//! reporter redraws it (`\r`) on a terminal only, and clears it when the run ends. Which line a
//! run gets, and whether it gets one, is its caller's choice. No colour or other escape
//! sequence: only `\r` and spaces.

use crate::lang::Lang;
use std::time::Duration;

/// Which line is redrawn, and how often.
#[derive(Debug, Clone, PartialEq)]
pub enum Live {
    /// A run's request budget (`-n`), redrawn four times a second.
    Budget(u64),
    /// A sweep's level, redrawn each second.
    Level(Level),
}

impl Live {
    /// The line after `done` requests, `elapsed` into the run.
    pub fn line(&self, done: u64, elapsed: Duration, lang: Lang) -> String {
        match self {
            Live::Budget(total) => line(done, *total, elapsed, lang),
            Live::Level(level) => level.line(done, elapsed, lang),
        }
    }

    /// How often the line is redrawn.
    pub fn every(&self) -> Duration {
        match self {
            Live::Budget(_) => Duration::from_millis(250),
            Live::Level(_) => Duration::from_secs(1),
        }
    }
}

/// One level of a sweep, as its live line shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// Its place, from 1.
    pub index: usize,
    /// How many levels the sweep has, when that is known before it ends (not for `--find`).
    pub of: Option<usize>,
    /// Its name in the sweep's table: `c8`, `r2.5`, `saturated c256`.
    pub label: String,
    /// Its end: the longest it runs (`-d`) and its request budget (`-n`), when given.
    pub duration: Option<Duration>,
    pub requests: Option<u64>,
}

impl Level {
    /// The time left: to the deadline, or at the pace so far to the budget, whichever comes
    /// first; `None` with neither known yet.
    pub fn left(&self, done: u64, elapsed: Duration) -> Option<Duration> {
        let deadline = self.duration.map(|d| d.saturating_sub(elapsed));
        let budget = self.requests.and_then(|n| eta(done, n, elapsed));
        match (deadline, budget) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// `level 2 of 5 · c4 · elapsed 12s · left 48s · 120 requests · 10.0 req/s` (`第 2/5 级 · …`).
    pub fn line(&self, done: u64, elapsed: Duration, lang: Lang) -> String {
        let (k, label) = (self.index, &self.label);
        let place = match self.of {
            Some(n) => lang.pick(format!("level {k} of {n}"), format!("第 {k}/{n} 级")),
            None => lang.pick(format!("level {k}"), format!("第 {k} 级")),
        };
        let spent = clock(Duration::from_secs(elapsed.as_secs())); // whole seconds gone
        let left = self.left(done, elapsed).map_or_else(|| "-".to_string(), clock);
        let secs = elapsed.as_secs_f64();
        let req_s = if secs > 0.0 { super::format::rate(done as f64 / secs) } else { "-".to_string() };
        lang.pick(
            format!("{place} · {label} · elapsed {spent} · left {left} · {done} requests · {req_s} req/s"),
            format!("{place} · {label} · 已用 {spent} · 剩余 {left} · {done} 个请求 · {req_s} req/s"),
        )
    }
}

/// The time left at the pace so far: elapsed × (total − done) / done; `None` before the first
/// request ends.
pub fn eta(done: u64, total: u64, elapsed: Duration) -> Option<Duration> {
    if done == 0 {
        return None;
    }
    let left = total.saturating_sub(done);
    Some(Duration::from_secs_f64(elapsed.as_secs_f64() * left as f64 / done as f64))
}

/// A time left as a clock reads it, rounded up to the second: `12s`, `3m05s`, `1h02m`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// The line: `progress 37/100 (37.0%) · ETA 12s` (`进度 … · 预计剩余 12s`).
pub fn line(done: u64, total: u64, elapsed: Duration, lang: Lang) -> String {
    let share = if total == 0 { 100.0 } else { 100.0 * done.min(total) as f64 / total as f64 };
    let left = eta(done, total, elapsed).map_or_else(|| "-".to_string(), clock);
    lang.pick(
        format!("progress {done}/{total} ({share:.1}%) · ETA {left}"),
        format!("进度 {done}/{total} ({share:.1}%) · 预计剩余 {left}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eta_is_the_pace_so_far() {
        let s = Duration::from_secs;
        assert_eq!(eta(0, 100, s(5)), None);
        assert_eq!(eta(25, 100, s(10)), Some(s(30)));
        assert_eq!(eta(100, 100, s(10)), Some(s(0)));
        assert_eq!(eta(120, 100, s(10)), Some(s(0)), "cancelled extras never make it negative");
    }

    #[test]
    fn times_left_read_as_a_clock() {
        let s = Duration::from_secs;
        assert_eq!(clock(s(0)), "0s");
        assert_eq!(clock(Duration::from_millis(200)), "1s");
        assert_eq!(clock(s(59)), "59s");
        assert_eq!(clock(s(185)), "3m05s");
        assert_eq!(clock(s(3720)), "1h02m");
    }

    #[test]
    fn the_line_says_done_total_share_and_eta() {
        let s = Duration::from_secs;
        assert_eq!(line(37, 100, s(37), Lang::En), "progress 37/100 (37.0%) · ETA 1m03s");
        assert_eq!(line(0, 500, s(1), Lang::En), "progress 0/500 (0.0%) · ETA -");
        assert_eq!(line(1, 3, s(1), Lang::En), "progress 1/3 (33.3%) · ETA 2s");
        assert_eq!(line(37, 100, s(37), Lang::Zh), "进度 37/100 (37.0%) · 预计剩余 1m03s");
        assert!(!line(5, 10, s(1), Lang::En).contains('\x1b'), "no escape sequences");
    }

    fn level(of: Option<usize>, duration: Option<u64>, requests: Option<u64>) -> Level {
        let duration = duration.map(Duration::from_secs);
        Level { index: 2, of, label: "c4".into(), duration, requests }
    }

    #[test]
    fn a_sweep_level_line_says_where_the_sweep_is() {
        let s = Duration::from_secs;
        let timed = level(Some(5), Some(60), None);
        assert_eq!(
            timed.line(120, s(12), Lang::En),
            "level 2 of 5 · c4 · elapsed 12s · left 48s · 120 requests · 10.0 req/s"
        );
        assert_eq!(
            timed.line(120, s(12), Lang::Zh),
            "第 2/5 级 · c4 · 已用 12s · 剩余 48s · 120 个请求 · 10.0 req/s"
        );
        let budget = level(None, None, Some(100));
        assert_eq!(
            budget.line(25, s(10), Lang::En),
            "level 2 · c4 · elapsed 10s · left 30s · 25 requests · 2.5 req/s"
        );
        assert_eq!(
            budget.line(25, s(10), Lang::Zh),
            "第 2 级 · c4 · 已用 10s · 剩余 30s · 25 个请求 · 2.5 req/s"
        );
        assert_eq!(
            budget.line(0, s(0), Lang::En),
            "level 2 · c4 · elapsed 0s · left - · 0 requests · - req/s",
            "nothing known before the first request"
        );
        assert_eq!(
            timed.line(8, Duration::from_millis(1_001), Lang::En),
            "level 2 of 5 · c4 · elapsed 1s · left 59s · 8 requests · 8.0 req/s",
            "the time gone rounds down, the time left up"
        );
        let both = level(Some(3), Some(60), Some(100));
        assert_eq!(both.left(50, s(10)), Some(s(10)), "the budget first");
        assert_eq!(both.left(5, s(10)), Some(s(50)), "the deadline first");
        assert_eq!(level(Some(3), Some(5), None).left(9, s(7)), Some(s(0)), "never negative");
        assert_eq!(level(None, None, None).left(9, s(7)), None);
    }

    #[test]
    fn each_line_has_its_pace() {
        assert_eq!(Live::Budget(10).every(), Duration::from_millis(250));
        assert_eq!(Live::Level(level(None, None, Some(3))).every(), Duration::from_secs(1));
        let s = Duration::from_secs;
        assert_eq!(Live::Budget(100).line(37, s(37), Lang::En), line(37, 100, s(37), Lang::En));
    }
}
