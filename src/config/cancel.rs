//! `--cancel SHARE[@DELAY]`: the share of streams the client leaves on purpose and when, as the
//! client's `Cancel`. Only the parse and its checks; which request is chosen is the client's
//! (`Cancel::chosen`).

use super::duration;
use crate::client::{Cancel, CancelAt};
use crate::error::Error;
use std::time::Duration;

const FIX: &str =
    "give a share in (0, 1] and, after @, a delay from the send or a text count: 0.1, 0.1@500ms, 0.2@16tok";

/// Parses `--cancel` with the run's seed: `0.1` (right after the send), `0.1@500ms`
/// (that long after the send), `0.2@16tok` (after 16 text events).
pub fn cancel(s: &str, seed: u64) -> Result<Cancel, Error> {
    let bad = || Error::flag("--cancel", s, FIX);
    let (share, delay) = match s.trim().split_once('@') {
        Some((share, delay)) => (share.trim(), Some(delay.trim())),
        None => (s.trim(), None),
    };
    let share = share
        .strip_suffix('%')
        .map_or_else(|| share.parse::<f64>().ok(), |pct| pct.trim().parse::<f64>().ok().map(|p| p / 100.0));
    let share = share.filter(|&x| x > 0.0 && x <= 1.0).ok_or_else(bad)?;
    let at = match delay {
        None => CancelAt::After(Duration::ZERO),
        Some(d) => match d.strip_suffix("tok") {
            Some(n) => CancelAt::Tokens(n.trim().parse::<u32>().ok().filter(|&n| n > 0).ok_or_else(bad)?),
            None => CancelAt::After(duration("--cancel", d).map_err(|_| bad())?),
        },
    };
    Ok(Cancel { share, at, seed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_alone_a_delay_or_a_text_count() {
        let c = cancel("0.1", 7).unwrap();
        assert_eq!((c.share, c.at, c.seed), (0.1, CancelAt::After(Duration::ZERO), 7));
        assert_eq!(cancel("0.1@500ms", 1).unwrap().at, CancelAt::After(Duration::from_millis(500)));
        assert_eq!(
            cancel("25%@2s", 1).unwrap(),
            Cancel { share: 0.25, at: CancelAt::After(Duration::from_secs(2)), seed: 1 }
        );
        assert_eq!(cancel(" 0.2 @ 16tok ", 1).unwrap().at, CancelAt::Tokens(16));
        assert_eq!(cancel("1@1tok", 1).unwrap().share, 1.0);
    }

    #[test]
    fn bad_values_name_the_flag_and_the_forms() {
        for bad in
            ["", "0", "1.5", "-0.1", "x", "0.1@", "0.1@0tok", "0.1@xtok", "0.1@5parsecs", "0.1@-1s", "@5tok"]
        {
            let e = cancel(bad, 1).unwrap_err().to_string();
            assert!(e.contains("--cancel") && e.contains("0.2@16tok"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn the_choice_repeats_and_follows_the_seed_and_the_share() {
        let c = cancel("0.25", 1).unwrap();
        let chosen: Vec<u64> = (0..400).filter(|&i| c.chosen(i)).collect();
        assert_eq!(
            chosen,
            (0..400).filter(|&i| c.chosen(i)).collect::<Vec<_>>(),
            "the same run, the same choice"
        );
        // A uniform draw: about a quarter of 400 (a binomial's sd is 8.7; five of them either side).
        assert!((57..=143).contains(&chosen.len()), "{}", chosen.len());
        let other = cancel("0.25", 2).unwrap();
        assert_ne!(
            chosen,
            (0..400).filter(|&i| other.chosen(i)).collect::<Vec<_>>(),
            "another seed, another choice"
        );
        let all = cancel("1", 1).unwrap();
        assert!((0..400).all(|i| all.chosen(i)));
        // A larger share keeps every request a smaller one chose (the same draw, a higher bar).
        let half = cancel("0.5", 1).unwrap();
        assert!(chosen.iter().all(|&i| half.chosen(i)));
    }
}
