//! A run broken down by API key and by prompt: requests, ok and failed counts for every key and
//! prompt index, and a TTFT histogram for the first `TRACKED` distinct indexes of each (a
//! histogram is tens of KiB; a prompt file can hold thousands of lines, so memory stays bounded:
//! later indexes are counted but have no TTFT). Mergeable, owned by the reporter thread next to
//! the run's total; never kept per second. Labels (masked keys, prompt text) are not its business.

use super::Histogram;
use crate::measure::{Measurement, Outcome};
use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::time::Duration;

/// Distinct key indexes, and distinct prompt indexes, that get a TTFT histogram.
pub const TRACKED: usize = 256;

/// One key's or one prompt's requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slice {
    /// Every request that ended: ok, failed and cancelled.
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
    /// TTFT of its successful requests, µs; `None` past the first `TRACKED` indexes.
    pub ttft: Option<Histogram>,
}

/// How a request ended, as far as a breakdown cares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ended {
    /// Successful, with its TTFT.
    Ok(Option<Duration>),
    Failed,
    Cancelled,
}

impl Slice {
    fn add(&mut self, ended: Ended) {
        self.requests += 1;
        match ended {
            Ended::Ok(ttft) => {
                self.ok += 1;
                if let (Some(h), Some(d)) = (&mut self.ttft, ttft) {
                    h.record(d.as_micros().min(u64::MAX as u128) as u64);
                }
            }
            Ended::Failed => self.failed += 1,
            Ended::Cancelled => {}
        }
    }

    /// ok / (ok + failed), as the run's success rate; `None` when none finished.
    pub fn success_rate(&self) -> Option<f64> {
        let finished = self.ok + self.failed;
        (finished > 0).then(|| self.ok as f64 / finished as f64)
    }

    /// A TTFT quantile in ms; `None` without a histogram or a successful request.
    pub fn ttft_ms(&self, q: f64) -> Option<f64> {
        self.ttft.as_ref()?.quantile(q).map(|v| v as f64 / 1000.0)
    }
}

/// Slices by index, the first `TRACKED` indexes with histograms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slices {
    pub by_index: BTreeMap<usize, Slice>,
    tracked: usize,
}

impl Slices {
    fn slice(&mut self, index: usize) -> &mut Slice {
        let tracked = &mut self.tracked;
        self.by_index.entry(index).or_insert_with(|| {
            let ttft = (*tracked < TRACKED).then(Histogram::new);
            *tracked += usize::from(ttft.is_some());
            Slice { ttft, ..Slice::default() }
        })
    }
}

impl AddAssign<&Slices> for Slices {
    fn add_assign(&mut self, o: &Slices) {
        for (&i, theirs) in &o.by_index {
            let mine = self.slice(i);
            mine.requests += theirs.requests;
            mine.ok += theirs.ok;
            mine.failed += theirs.failed;
            if let (Some(a), Some(b)) = (&mut mine.ttft, &theirs.ttft) {
                *a += b;
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Breakdown {
    /// By `--api-key-file` line (0-based); requests sent without a key are not here.
    pub keys: Slices,
    /// By prompt line (0-based).
    pub prompts: Slices,
}

impl Breakdown {
    pub fn add(&mut self, m: &Measurement) {
        let ended = match m.outcome {
            Outcome::Ok => Ended::Ok(m.ttft()),
            Outcome::Failed { .. } => Ended::Failed,
            Outcome::Cancelled | Outcome::Abandoned => Ended::Cancelled,
        };
        self.record(m.prompt_index, m.key_index, ended);
    }

    /// Adds a request sent with prompt `prompt` and key `key` that ended so (a record, rebuilt).
    pub fn record(&mut self, prompt: usize, key: Option<usize>, ended: Ended) {
        if let Some(k) = key {
            self.keys.slice(k).add(ended);
        }
        self.prompts.slice(prompt).add(ended);
    }

    /// Prompt indexes, the slowest TTFT p99 first (those without one last), ties by index; at
    /// most `n`.
    pub fn slowest_prompts(&self, n: usize) -> Vec<(usize, &Slice)> {
        let mut all: Vec<(usize, &Slice, Option<u64>)> = self
            .prompts
            .by_index
            .iter()
            .map(|(&i, s)| (i, s, s.ttft.as_ref().and_then(|h| h.quantile(0.99))))
            .collect();
        // `None` sorts before `Some`, so reversing the p99 puts prompts without one last.
        all.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        all.into_iter().take(n).map(|(i, s, _)| (i, s)).collect()
    }
}

impl AddAssign<&Breakdown> for Breakdown {
    fn add_assign(&mut self, o: &Breakdown) {
        self.keys += &o.keys;
        self.prompts += &o.prompts;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::ErrorKind;
    use std::time::Instant;

    fn request(prompt: usize, key: Option<usize>, ttft_ms: Option<u64>) -> Measurement {
        let t0 = Instant::now();
        let mut m = Measurement::new(0, prompt, key, t0);
        match ttft_ms {
            Some(ms) => m.text_at = vec![t0 + Duration::from_millis(ms)],
            None => m.outcome = Outcome::Failed { kind: ErrorKind::Http(500), message: "m".into() },
        }
        m
    }

    #[test]
    fn keys_and_prompts_are_counted_and_the_slowest_prompts_come_first() {
        let mut b = Breakdown::default();
        for (prompt, key, ttft) in [
            (0, Some(0), Some(10)),
            (1, Some(1), Some(300)),
            (2, Some(0), None),
            (1, Some(1), Some(200)),
            (3, None, Some(50)),
        ] {
            b.add(&request(prompt, key, ttft));
        }
        let mut cancelled = request(3, Some(0), Some(1));
        cancelled.outcome = Outcome::Cancelled;
        b.add(&cancelled);
        let k0 = &b.keys.by_index[&0];
        assert_eq!((k0.requests, k0.ok, k0.failed, k0.success_rate()), (3, 1, 1, Some(0.5)));
        assert_eq!(b.keys.by_index.len(), 2, "no key, no row");
        let order: Vec<usize> = b.slowest_prompts(20).into_iter().map(|(i, _)| i).collect();
        assert_eq!(order, [1, 3, 0, 2], "by p99 descending; prompt 2 has no TTFT");
        assert_eq!(b.slowest_prompts(2).len(), 2);
        let p99 = b.prompts.by_index[&1].ttft_ms(0.99).unwrap();
        assert!((p99 - 300.0).abs() < 0.5, "{p99}");
    }

    #[test]
    fn only_the_first_tracked_indexes_get_histograms_and_merging_keeps_counts() {
        let mut b = Breakdown::default();
        for i in 0..TRACKED + 10 {
            b.add(&request(i, None, Some(5)));
        }
        let with = b.prompts.by_index.values().filter(|s| s.ttft.is_some()).count();
        assert_eq!((b.prompts.by_index.len(), with), (TRACKED + 10, TRACKED));
        assert_eq!(b.prompts.by_index[&(TRACKED + 3)].ok, 1, "counted all the same");
        assert_eq!(b.slowest_prompts(1)[0].0, 0, "untracked prompts rank last");
        let mut merged = Breakdown::default();
        merged += &b;
        merged += &b;
        assert_eq!(merged.prompts.by_index[&0].requests, 2);
        assert_eq!(merged.prompts.by_index[&0].ttft.as_ref().map(Histogram::count), Some(2));
        assert_eq!(merged.prompts.by_index.values().filter(|s| s.ttft.is_some()).count(), TRACKED);
    }
}
