//! The wait for `--start-at`: after every thread of the run exists and before its clock starts,
//! the engine holds here until the wall-clock instant, so N shards started at different moments
//! open their start gates together. It runs on the main thread before the run (the only
//! terminal output is the countdown on stderr, when stderr is a terminal); it parses nothing
//! (`config` does) and sends nothing.

use crossbeam_channel::{Receiver, after, select};
use std::io::{IsTerminal, Write};
use std::time::{Duration, SystemTime};

/// How the wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// The instant came (or there was none to wait for).
    Started,
    /// Ctrl-C or SIGTERM came first: the run sends nothing.
    Interrupted,
}

/// Waits until `at` by the wall clock (re-read at least once a second, so a clock step during a
/// long wait moves the start with it), or an interrupt. `countdown`: print the time left on
/// stderr once a second, when stderr is a terminal.
pub fn hold(at: Option<SystemTime>, interrupts: &Receiver<()>, countdown: bool) -> Held {
    let Some(at) = at else { return Held::Started };
    let countdown = countdown && std::io::stderr().is_terminal();
    let mut shown = false;
    let mut interrupts = interrupts.clone();
    while let Ok(left) = at.duration_since(SystemTime::now())
        && !left.is_zero()
    {
        if countdown {
            let _ = write!(std::io::stderr().lock(), "\r{}", countdown_line(left));
            shown = true;
        }
        // To the next whole second left (or to the start), so the countdown ticks on its seconds.
        let step = match left.subsec_nanos() {
            0 => Duration::from_secs(1),
            n => Duration::from_nanos(u64::from(n)),
        }
        .min(left);
        select! {
            recv(after(step)) -> _ => {}
            recv(interrupts) -> msg => {
                if msg.is_err() {
                    interrupts = crossbeam_channel::never(); // no sender left: no interrupt can come
                    continue;
                }
                if shown {
                    let _ = writeln!(std::io::stderr().lock());
                }
                return Held::Interrupted;
            },
        }
    }
    if shown {
        let _ = writeln!(std::io::stderr().lock(), "\r{:<40}", "starting");
    }
    Held::Started
}

/// The countdown's text for `left` to go, in whole seconds rounded up.
pub fn countdown_line(left: Duration) -> String {
    let s = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("starting in {h}:{m:02}:{s:02} (--start-at)   ")
    } else {
        format!("starting in {m}:{s:02} (--start-at)   ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdown_rounds_up_to_whole_seconds() {
        assert_eq!(countdown_line(Duration::from_millis(29_200)), "starting in 0:30 (--start-at)   ");
        assert_eq!(countdown_line(Duration::from_secs(90)), "starting in 1:30 (--start-at)   ");
        assert_eq!(countdown_line(Duration::from_secs(3_725)), "starting in 1:02:05 (--start-at)   ");
    }

    #[test]
    fn holds_until_the_instant_or_an_interrupt() {
        let (_tx, none) = crossbeam_channel::unbounded::<()>();
        assert_eq!(hold(None, &none, false), Held::Started);
        let at = SystemTime::now() + Duration::from_millis(150);
        assert_eq!(hold(Some(at), &none, false), Held::Started);
        assert!(SystemTime::now() >= at, "not before the instant");
        // An instant already past starts at once.
        assert_eq!(hold(Some(SystemTime::now() - Duration::from_secs(1)), &none, false), Held::Started);
        // A channel with no sender left is no interrupt.
        let (gone, dropped) = crossbeam_channel::unbounded::<()>();
        drop(gone);
        let soon = SystemTime::now() + Duration::from_millis(50);
        assert_eq!(hold(Some(soon), &dropped, false), Held::Started);
        let (tx, rx) = crossbeam_channel::unbounded();
        tx.send(()).unwrap();
        let later = SystemTime::now() + Duration::from_secs(60);
        assert_eq!(hold(Some(later), &rx, false), Held::Interrupted);
    }
}
