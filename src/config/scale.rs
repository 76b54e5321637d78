//! A run beyond one machine: `--shard i/N` (or `--shards N` with the index from
//! `JOB_COMPLETION_INDEX`), `--start-at` and `--run-id`, checked here before any thread starts.
//! The split itself is `shard`'s arithmetic; the wait is `launch`'s.
//!
//! The run id: `--run-id` when given; else, with `--start-at`, one derived from the start instant
//! and the shard count (`20250601T120000.000Z-4`), so every shard started for the same instant
//! names the same run without talking to the others; else a random one.

use super::duration;
use crate::cli::RunArgs;
use crate::error::Error;
use crate::shard::Shard;
use crate::util::rng::SplitMix64;
use chrono::{DateTime, SecondsFormat, Utc};
use std::time::{Duration, SystemTime};

/// The environment variable a Kubernetes Indexed Job sets to each pod's index.
pub const INDEX_ENV: &str = "JOB_COMPLETION_INDEX";
/// A start further in the past than this is refused (a restarted pod, a stale instant).
const PAST_SLACK: Duration = Duration::from_secs(1);
/// A start further ahead than this is a typo.
const MAX_AHEAD: Duration = Duration::from_secs(24 * 3600);
const START_FORMS: &str = "give an RFC 3339 instant such as 2025-06-01T12:00:00Z or 2025-06-01T14:00:00+02:00, or +DURATION from now such as +30s or +2m";

/// Where this process stands in a run that may span several.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    /// This process's shard; `None` for a run in one process.
    pub shard: Option<Shard>,
    /// Names the run in every record; shards of one run share it.
    pub run_id: String,
    /// When the run's clock starts (`--start-at`); `None`: as soon as every thread exists.
    pub start_at: Option<DateTime<Utc>>,
}

impl Scale {
    /// This process's part of `total` (concurrency, a request budget).
    pub fn part(&self, total: u64) -> u64 {
        self.shard.map_or(total, |s| s.part(total))
    }

    /// Where this process starts in a round-robin list of `len` items.
    pub fn offset_in(&self, len: usize) -> usize {
        self.shard.map_or(0, |s| s.offset_in(len))
    }

    pub fn start_at_system(&self) -> Option<SystemTime> {
        self.start_at.map(SystemTime::from)
    }
}

/// Checks the scale-out flags against the totals they split (`concurrency` workers, the
/// `--requests` budget), at `now`, with `env` reading environment variables.
pub fn setup(
    a: &RunArgs,
    concurrency: usize,
    now: DateTime<Utc>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Scale, Error> {
    let shard = shard(a, env)?;
    if let Some(s) = shard {
        let n = s.count;
        if concurrency < n as usize {
            return Err(Error::Usage(format!(
                "--concurrency {concurrency} is smaller than the shard count {n}: every shard needs a worker; give the whole run's concurrency, -c {n} or more (it is split over the shards)"
            )));
        }
        if let Some(r) = a.requests.filter(|&r| r < u64::from(n)) {
            return Err(Error::Usage(format!(
                "--requests {r} is smaller than the shard count {n}: every shard needs a request; give the whole run's budget, -n {n} or more (it is split over the shards)"
            )));
        }
    }
    let start_at = a.start_at.as_deref().map(|s| start_at(s, now)).transpose()?;
    let run_id = match (&a.run_id, start_at) {
        (Some(id), _) => check_run_id(id)?,
        (None, Some(at)) => derived_run_id(at, shard.map_or(1, |s| s.count)),
        (None, None) => random_run_id(),
    };
    Ok(Scale { shard, run_id, start_at })
}

fn shard(a: &RunArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Shard>, Error> {
    match (&a.shard, a.shards) {
        (Some(_), Some(_)) => Err(Error::Usage(format!(
            "give --shard INDEX/COUNT or --shards COUNT (the index from {INDEX_ENV}), not both"
        ))),
        (Some(s), None) => s.parse().map(Some).map_err(|fix| Error::flag("--shard", s, fix)),
        (None, Some(0)) => Err(Error::flag("--shards", "0", "must be at least 1")),
        (None, Some(n)) => {
            let Some(v) = env(INDEX_ENV) else {
                return Err(Error::Usage(format!(
                    "--shards {n} takes this process's index from the environment variable {INDEX_ENV} (a Kubernetes Indexed Job sets it), which is not set: set it to 0 … {}, or give --shard INDEX/{n}",
                    n - 1
                )));
            };
            let bad = || {
                Error::Usage(format!(
                    "{INDEX_ENV}={v:?} is not a shard index for --shards {n}: it must be a whole number from 0 to {}",
                    n - 1
                ))
            };
            let i = v.trim().parse::<u32>().map_err(|_| bad())?;
            Shard::new(i, n).map(Some).map_err(|_| bad())
        }
        (None, None) => Ok(None),
    }
}

/// `--start-at`: an RFC 3339 instant, or `+DURATION` from `now` rounded up to a whole second
/// (so processes launched in the same second with the same `+D` name the same instant).
pub fn start_at(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
    let bad = |fix: String| Error::flag("--start-at", s, fix);
    let t = s.trim();
    let at = if let Some(d) = t.strip_prefix('+') {
        let d = duration("--start-at", d).map_err(|_| bad(START_FORMS.into()))?;
        let at = now + chrono::Duration::from_std(d).map_err(|_| bad(START_FORMS.into()))?;
        match at.timestamp_subsec_nanos() {
            0 => at,
            ns => at + chrono::Duration::nanoseconds(1_000_000_000 - i64::from(ns)),
        }
    } else {
        DateTime::parse_from_rfc3339(t).map_err(|_| bad(START_FORMS.into()))?.with_timezone(&Utc)
    };
    let stamp = at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let now_stamp = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let ahead = at.signed_duration_since(now);
    if ahead < -chrono::Duration::from_std(PAST_SLACK).unwrap_or_default() {
        let ago = (-ahead).num_milliseconds() as f64 / 1e3;
        return Err(Error::Usage(format!(
            "--start-at {stamp} is {ago:.1} s in the past (now is {now_stamp}): give a later instant, or +30s for 30 s from now"
        )));
    }
    if ahead > chrono::Duration::from_std(MAX_AHEAD).unwrap_or_default() {
        return Err(Error::Usage(format!(
            "--start-at {stamp} is more than 24 h ahead (now is {now_stamp}): give an instant within a day"
        )));
    }
    Ok(at)
}

/// The run id every shard started for `at` derives alike: the instant to the millisecond and
/// the shard count.
pub fn derived_run_id(at: DateTime<Utc>, shards: u32) -> String {
    format!("{}-{shards}", at.format("%Y%m%dT%H%M%S%.3fZ"))
}

/// 16 hex digits from the clock and the process id.
fn random_run_id() -> String {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut rng = SplitMix64::new(nanos ^ (u64::from(std::process::id()) << 32));
    format!("{:016x}", rng.next_u64())
}

fn check_run_id(id: &str) -> Result<String, Error> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "._:-".contains(c);
    if id.is_empty() || id.len() > 64 || !id.chars().all(ok) {
        return Err(Error::flag(
            "--run-id",
            id,
            "give 1 to 64 letters, digits, '.', '_', ':' or '-' (every shard of the run gives the same)",
        ));
    }
    Ok(id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-01T12:00:00.250Z").unwrap().with_timezone(&Utc)
    }

    fn setup_with(f: impl FnOnce(&mut RunArgs), c: usize, index: Option<&str>) -> Result<Scale, String> {
        let mut a = RunArgs::default();
        f(&mut a);
        let index = index.map(String::from);
        setup(&a, c, now(), &|k| (k == INDEX_ENV).then(|| index.clone()).flatten()).map_err(|e| e.to_string())
    }

    #[test]
    fn shards_from_the_flag_or_the_environment() {
        let s = setup_with(|a| a.shard = Some("1/4".into()), 8, None).unwrap();
        assert_eq!(
            (s.shard, s.part(8), s.part(10), s.offset_in(8)),
            (Some(Shard { index: 1, count: 4 }), 2, 3, 2)
        );
        let s = setup_with(|a| a.shards = Some(4), 8, Some("3")).unwrap();
        assert_eq!(s.shard, Some(Shard { index: 3, count: 4 }));
        let s = setup_with(|_| {}, 8, Some("3")).unwrap();
        assert_eq!((s.shard, s.part(8), s.offset_in(8)), (None, 8, 0));
        assert_eq!(s.run_id.len(), 16, "a random id without --start-at");
    }

    #[test]
    fn every_bad_input_says_what_to_give() {
        let e = |f: fn(&mut RunArgs), c, i| setup_with(f, c, i).unwrap_err();
        assert_eq!(
            e(|a| a.shard = Some("4/4".into()), 8, None),
            "--shard \"4/4\" is invalid: shard indexes are 0-based: 4 is not below 4 (give 0/4 … 3/4)"
        );
        assert!(
            e(|a| a.shard = Some("1/0".into()), 8, None)
                .starts_with("--shard \"1/0\" is invalid: the shard count must be at least 1")
        );
        assert_eq!(
            e(|a| a.shard = Some("x".into()), 8, None),
            format!("--shard \"x\" is invalid: {}", crate::shard::FORM)
        );
        assert_eq!(
            e(|a| (a.shard, a.shards) = (Some("0/2".into()), Some(2)), 8, None),
            "give --shard INDEX/COUNT or --shards COUNT (the index from JOB_COMPLETION_INDEX), not both"
        );
        assert_eq!(
            e(|a| a.shards = Some(4), 8, None),
            "--shards 4 takes this process's index from the environment variable JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it), which is not set: set it to 0 … 3, or give --shard INDEX/4"
        );
        for bad in ["4", "x", "-1", ""] {
            assert_eq!(
                e(|a| a.shards = Some(4), 8, Some(bad)),
                format!(
                    "JOB_COMPLETION_INDEX={bad:?} is not a shard index for --shards 4: it must be a whole number from 0 to 3"
                )
            );
        }
        assert_eq!(e(|a| a.shards = Some(0), 8, Some("0")), "--shards \"0\" is invalid: must be at least 1");
        assert_eq!(
            e(|a| a.shard = Some("0/4".into()), 3, None),
            "--concurrency 3 is smaller than the shard count 4: every shard needs a worker; give the whole run's concurrency, -c 4 or more (it is split over the shards)"
        );
        assert_eq!(
            e(|a| (a.shard, a.requests) = (Some("0/4".into()), Some(3)), 8, None),
            "--requests 3 is smaller than the shard count 4: every shard needs a request; give the whole run's budget, -n 4 or more (it is split over the shards)"
        );
        assert!(
            e(|a| a.run_id = Some("a b".into()), 1, None)
                .starts_with("--run-id \"a b\" is invalid: give 1 to 64")
        );
        assert!(e(|a| a.run_id = Some(String::new()), 1, None).starts_with("--run-id \"\" is invalid"));
    }

    #[test]
    fn start_instants_in_both_forms() {
        let at = |s| start_at(s, now()).map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true));
        assert_eq!(at("2025-06-01T12:00:30Z").unwrap(), "2025-06-01T12:00:30.000Z");
        assert_eq!(at("2025-06-01T14:00:30+02:00").unwrap(), "2025-06-01T12:00:30.000Z");
        // Up to a second in the past is taken: it starts at once.
        assert_eq!(at("2025-06-01T11:59:59.5Z").unwrap(), "2025-06-01T11:59:59.500Z");
        // +D is rounded up to a whole second.
        assert_eq!(at("+30s").unwrap(), "2025-06-01T12:00:31.000Z");
        assert_eq!(at("+2m").unwrap(), "2025-06-01T12:02:01.000Z");
        assert_eq!(at(" +1.75 ").unwrap(), "2025-06-01T12:00:02.000Z");
        for bad in ["", "soon", "+", "+10x", "12:00", "2025-06-01 12:00", "2025-13-01T00:00:00Z"] {
            assert_eq!(
                at(bad).unwrap_err().to_string(),
                format!("--start-at {bad:?} is invalid: {START_FORMS}"),
                "{bad}"
            );
        }
        assert_eq!(
            at("2025-06-01T11:59:57Z").unwrap_err().to_string(),
            "--start-at 2025-06-01T11:59:57.000Z is 3.2 s in the past (now is 2025-06-01T12:00:00.250Z): give a later instant, or +30s for 30 s from now"
        );
        assert!(at("+25h").unwrap_err().to_string().contains("more than 24 h ahead"));
    }

    #[test]
    fn shards_started_for_one_instant_agree_on_the_run_id() {
        let ids: Vec<String> = (0..4)
            .map(|i| {
                let s = setup_with(
                    |a| (a.shard, a.start_at) = (Some(format!("{i}/4")), Some("2025-06-01T12:00:30Z".into())),
                    8,
                    None,
                );
                s.unwrap().run_id
            })
            .collect();
        assert_eq!(ids, ["20250601T120030.000Z-4"; 4]);
        let one = setup_with(|a| a.start_at = Some("2025-06-01T12:00:30Z".into()), 8, None).unwrap();
        assert_eq!(one.run_id, "20250601T120030.000Z-1");
        let given =
            setup_with(|a| (a.run_id, a.start_at) = (Some("load-7".into()), Some("+5s".into())), 8, None);
        assert_eq!(given.unwrap().run_id, "load-7");
        assert_ne!(setup_with(|_| {}, 1, None).unwrap().run_id, "", "random otherwise");
    }
}
