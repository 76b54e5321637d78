//! One run split across N processes (`--shard i/N`): which part of a total this shard takes,
//! where in the prompt and key lists it starts, and the user id each of its workers sends. Pure
//! arithmetic and parsing; reading `JOB_COMPLETION_INDEX` and refusing bad totals is `config`'s.
//!
//! The split is exact: the parts of every shard add up to the total, the remainder going one each
//! to the lowest indexes, so `-c 10` over 4 shards is 3, 3, 2, 2 and `-n 32` is 8 each. An
//! open-loop rate splits with `rate_part` (the total over N: a rate has no remainder).

use std::fmt;
use std::str::FromStr;

/// Shard `index` (0-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// One shard's slice of a total: items `start .. start + len` of `0 .. total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub start: u64,
    pub len: u64,
}

/// The accepted form, for messages.
pub const FORM: &str = "give INDEX/COUNT with a 0-based index below the count, e.g. 0/4 … 3/4";

impl Shard {
    /// A shard, if `index` is below `count`.
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 {
            return Err(format!("the shard count must be at least 1: {FORM}"));
        }
        if index >= count {
            let last = count - 1;
            return Err(format!(
                "shard indexes are 0-based: {index} is not below {count} (give 0/{count} … {last}/{count})"
            ));
        }
        Ok(Shard { index, count })
    }

    /// This shard's slice of `total` items: `total / N` each, one more for each of the lowest
    /// `total % N` indexes; the slices of shards 0 … N−1 tile `0 .. total` in order.
    pub fn slice(self, total: u64) -> Slice {
        let (n, i) = (u64::from(self.count), u64::from(self.index));
        let (each, extra) = (total / n, total % n);
        Slice { start: i * each + i.min(extra), len: each + u64::from(i < extra) }
    }

    /// This shard's part of `total` (concurrency, a request budget).
    pub fn part(self, total: u64) -> u64 {
        self.slice(total).len
    }

    /// This shard's part of a rate (requests a second): an even share.
    pub fn rate_part(self, total: f64) -> f64 {
        total / f64::from(self.count)
    }

    /// Where this shard starts in a list of `len` items handed out round-robin (prompts, keys),
    /// so shards do not all send the same prompt with the same key first.
    pub fn offset_in(self, len: usize) -> usize {
        if len == 0 {
            return 0;
        }
        (self.slice(len as u64).start % len as u64) as usize
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `INDEX/COUNT`, e.g. `0/4`.
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s.trim().split_once('/').ok_or_else(|| FORM.to_string())?;
        let num = |t: &str| t.trim().parse::<u32>().map_err(|_| FORM.to_string());
        Shard::new(num(i)?, num(n)?)
    }
}

/// The `user` worker `worker` sends: `llmload-<worker>` in an unsharded run (as always), and
/// `llmload-<shard>-<worker>` in a shard, so users are unique across every shard of a run.
pub fn user_id(shard: Option<Shard>, worker: usize) -> String {
    match shard {
        None => format!("llmload-{worker}"),
        Some(s) => format!("llmload-{}-{worker}", s.index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(total: u64, n: u32) -> Vec<u64> {
        (0..n).map(|i| Shard::new(i, n).unwrap().part(total)).collect()
    }

    #[test]
    fn parts_are_exact_with_remainders_to_the_lowest_indexes() {
        assert_eq!(parts(32, 4), [8, 8, 8, 8]);
        assert_eq!(parts(10, 4), [3, 3, 2, 2]);
        assert_eq!(parts(7, 3), [3, 2, 2]);
        assert_eq!(parts(5, 5), [1; 5]);
        assert_eq!(parts(9, 1), [9]);
        for (total, n) in [(1_000_003u64, 7u32), (64, 64), (100, 3), (u64::MAX, 9)] {
            let mut next = 0u64;
            for i in 0..n {
                let s = Shard::new(i, n).unwrap().slice(total);
                assert_eq!(s.start, next, "slices tile the total in order");
                next = next.wrapping_add(s.len);
            }
            assert_eq!(next, total, "{total} over {n}");
        }
    }

    #[test]
    fn offsets_and_rates() {
        let s = |i| Shard::new(i, 4).unwrap();
        assert_eq!((0..4).map(|i| s(i).offset_in(8)).collect::<Vec<_>>(), [0, 2, 4, 6]);
        assert_eq!((0..4).map(|i| s(i).offset_in(10)).collect::<Vec<_>>(), [0, 3, 6, 8]);
        assert_eq!((0..4).map(|i| s(i).offset_in(3)).collect::<Vec<_>>(), [0, 1, 2, 0]);
        assert_eq!((0..4).map(|i| s(i).offset_in(1)).collect::<Vec<_>>(), [0; 4]);
        assert_eq!(s(3).offset_in(0), 0);
        assert_eq!(s(1).rate_part(10.0), 2.5);
    }

    #[test]
    fn parsing_and_its_messages() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(" 0/1 ".parse::<Shard>(), Ok(Shard { index: 0, count: 1 }));
        assert_eq!(Shard { index: 1, count: 3 }.to_string(), "1/3");
        assert_eq!(
            "4/4".parse::<Shard>().unwrap_err(),
            "shard indexes are 0-based: 4 is not below 4 (give 0/4 … 3/4)"
        );
        assert_eq!(
            "1/0".parse::<Shard>().unwrap_err(),
            format!("the shard count must be at least 1: {FORM}")
        );
        for bad in ["", "1", "a/4", "1/b", "-1/4", "1/4/5", "1.0/4"] {
            assert_eq!(bad.parse::<Shard>().unwrap_err(), FORM, "{bad}");
        }
    }

    #[test]
    fn user_ids_are_unique_across_shards() {
        assert_eq!(user_id(None, 7), "llmload-7");
        assert_eq!(user_id(Some(Shard { index: 2, count: 4 }), 7), "llmload-2-7");
        let mut all: Vec<String> = (0..4)
            .flat_map(|i| (0..3).map(move |w| user_id(Some(Shard { index: i, count: 4 }), w)))
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 12);
    }
}
