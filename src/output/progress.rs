//! The progress line of a run with a request budget (`-n`): done/total, the share done and the
//! time left at the pace so far, e.g. `progress 37/100 (37.0%) · ETA 12s`. Pure: counts and the
//! elapsed time in, the line out; the reporter redraws it in place (`\r`) on a terminal only,
//! under the per-second table or alone with `--quiet`, and clears it when the run ends. No
//! colour or other escape sequence: only `\r` and spaces.

use crate::lang::Lang;
use std::time::Duration;

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
}
