//! What a response says and when: the per-response deadline schedule (TTFT, ITL, jitter) and the
//! token text in each language.
//!
//! Deadlines are absolute — each next one is the previous *scheduled* time plus the inter-token
//! latency — so a late wake-up never shifts the rest of the stream. A non-streaming reply waits
//! with a plain `thread::sleep` (no busy waiting); a stream's deadlines are the pacer's to keep.
//! Jitter comes from a seeded splitmix64, so a response is reproducible from its sequence
//! number. This module does not write anything or know protocols.

use std::str::FromStr;
use std::thread;
use std::time::{Duration, Instant};

use super::MockConfig;

/// The language of generated text. Chinese is first-class: one character per token, as
/// Chinese-capable models emit it, so multi-byte UTF-8 crosses every read boundary in clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
    /// Alternates English words and Chinese characters, token by token.
    Mixed,
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "en" => Ok(Lang::En),
            "zh" => Ok(Lang::Zh),
            "mixed" => Ok(Lang::Mixed),
            _ => Err(format!("unknown language '{s}': expected one of en, zh, mixed")),
        }
    }
}

/// English tokens, each with its leading space as BPE tokenizers produce them.
const EN: &[&str] = &[
    " The", " model", " reads", " the", " prompt", ",", " weighs", " each", " word", " and", " writes",
    " an", " answer", " one", " token", " at", " a", " time", ".", " Every", " token", " travels", " to",
    " the", " client", " as", " its", " own", " event", ",", " so", " the", " user", " sees", " the",
    " text", " grow", " while", " it", " is", " written", ".",
];

/// The Chinese passage, one character per token (no character needs JSON escaping).
const ZH: &str = "大语言模型逐个生成词元，服务器以流式事件把每个词元立即发送给客户端。\
                  首个词元的等待时间和词元之间的间隔，决定了用户感受到的速度与流畅程度。";

/// Token `i` of a response in `lang`; the passages repeat as long as needed.
pub(super) fn token(lang: Lang, i: u64) -> &'static str {
    match lang {
        Lang::En => EN[(i % EN.len() as u64) as usize],
        Lang::Zh => zh_char(i),
        Lang::Mixed if i % 2 == 0 => EN[(i / 2 % EN.len() as u64) as usize],
        Lang::Mixed => zh_char(i / 2),
    }
}

fn zh_char(i: u64) -> &'static str {
    let k = (i % ZH.chars().count() as u64) as usize;
    let (start, c) = ZH.char_indices().nth(k).unwrap_or((0, '大'));
    &ZH[start..start + c.len_utf8()]
}

/// Every token of a wrong answer (`MockConfig::wrong_share`): text no real answer contains,
/// that is no JSON and no number.
pub(super) const WRONG: &str = "WRONG ";

/// Token `i` of a response in `lang`, or of a wrong answer.
pub(super) fn answer_token(lang: Lang, wrong: bool, i: u64) -> &'static str {
    if wrong { WRONG } else { token(lang, i) }
}

/// The whole text of a response with `n` tokens (for non-streaming replies).
pub(super) fn text(lang: Lang, wrong: bool, n: u64) -> String {
    (0..n).map(|i| answer_token(lang, wrong, i)).collect()
}

/// Seeded per response: jitter and ids are reproducible.
pub(super) use crate::util::rng::SplitMix64;

/// The text-event deadlines of one response.
pub(super) struct Schedule {
    next: Instant,
    itl: Duration,
    jitter: f64,
    rng: SplitMix64,
}

impl Schedule {
    /// The first deadline is `received + ttft` (jittered).
    pub(super) fn new(received: Instant, config: &MockConfig, seed: u64) -> Self {
        let mut s =
            Schedule { next: received, itl: config.itl, jitter: config.jitter, rng: SplitMix64::new(seed) };
        s.next = later(received, s.jittered(config.ttft));
        s
    }

    /// `d` scaled by 1 ± jitter·u, u uniform in [-1, 1); `start` checked jitter ∈ [0, 1].
    fn jittered(&mut self, d: Duration) -> Duration {
        if self.jitter == 0.0 {
            return d;
        }
        let factor = 1.0 + self.jitter * (2.0 * self.rng.unit() - 1.0);
        Duration::try_from_secs_f64(d.as_secs_f64() * factor).unwrap_or(d)
    }

    /// The next deadline; the one after it is this one plus a jittered ITL.
    pub(super) fn next_deadline(&mut self) -> Instant {
        let due = self.next;
        let gap = self.jittered(self.itl);
        self.next = later(due, gap);
        due
    }
}

/// `t + d`, saturating instead of panicking on absurd durations.
fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d).unwrap_or(t)
}

/// Sleeps until `deadline`; returns at once if it has passed.
pub(super) fn sleep_until(deadline: Instant) {
    let now = Instant::now();
    if deadline > now {
        thread::sleep(deadline - now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(jitter: f64) -> MockConfig {
        MockConfig {
            ttft: Duration::from_millis(100),
            itl: Duration::from_millis(10),
            jitter,
            ..MockConfig::default()
        }
    }

    #[test]
    fn deadlines_are_absolute_from_the_schedule_not_the_clock() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0, &config(0.0), 1);
        let got: Vec<_> = (0..4).map(|_| s.next_deadline() - t0).collect();
        let ms = Duration::from_millis;
        assert_eq!(got, [ms(100), ms(110), ms(120), ms(130)]);
    }

    #[test]
    fn jitter_stays_within_bounds_and_is_reproducible() {
        let t0 = Instant::now();
        let run = |seed| {
            let mut s = Schedule::new(t0, &config(0.5), seed);
            (0..200).map(|_| s.next_deadline()).collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
        let first = a[0] - t0;
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(150));
        for w in a.windows(2) {
            let gap = w[1] - w[0];
            assert!(gap >= Duration::from_millis(5) && gap <= Duration::from_millis(15));
        }
    }

    #[test]
    fn tokens_per_language() {
        assert_eq!(text(Lang::En, false, 3), " The model reads");
        assert_eq!(text(Lang::Zh, false, 5), "大语言模型");
        assert_eq!(text(Lang::Mixed, false, 4), " The大 model语");
        let long = text(Lang::Zh, false, 1000);
        assert_eq!(long.chars().count(), 1000);
        assert!(long.chars().all(|c| !c.is_ascii()));
    }

    #[test]
    fn lang_parse_errors_name_valid_values() {
        assert_eq!("mixed".parse::<Lang>(), Ok(Lang::Mixed));
        let err = "fr".parse::<Lang>().unwrap_err();
        assert!(err.contains("'fr'") && err.contains("en, zh, mixed"), "{err}");
    }
}
