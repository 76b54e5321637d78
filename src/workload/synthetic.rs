//! The synthetic prompt source (`--prompt-tokens`, `--output-tokens`, `--prefix-tokens`,
//! `--prefix-groups`, `--prefix-zipf`, `--cache-bust`, `--prompt-pool`): a pool of prompts built
//! before the run, each of an exact token length drawn from a distribution and counted by the
//! tokenizer in use, optionally opening with one of a few shared prefixes, and the output length
//! each asks for through `max_tokens`. Deterministic: the same flags, seed and level build the
//! same pool. It does not hand prompts out (`round_robin`) or send them.

use super::Prompt;
use crate::tokens::Tokenizer;
use crate::util::rng::SplitMix64;
use std::fmt;
use std::str::FromStr;

/// `--prompt-pool`'s default: distinct prompts built before a run (fewer when `-n` asks fewer).
pub const DEFAULT_POOL: usize = 1024;
/// The most prompts a pool holds.
pub const MAX_POOL: usize = 1_000_000;
/// The most tokens a pool holds in all (about 1 GB of text): a larger pool is refused.
pub const MAX_POOL_TOKENS: f64 = 256e6;
/// The longest length a distribution may ask for.
const MAX_LENGTH: f64 = 1_000_000.0;
const SEED: u64 = 0x006c_6c6d_6c6f_6164;

/// A distribution of token lengths: `N`, `A..B` (uniform), `normal(M,S)` (or the older `M,S`),
/// `lognormal(M,S)` (M and S the mean and standard deviation of the lengths). Every draw is at
/// least 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lengths {
    Fixed(u32),
    Uniform(u32, u32),
    Normal { mean: f64, stddev: f64 },
    LogNormal { mean: f64, stddev: f64 },
}

impl FromStr for Lengths {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        const FIX: &str = "give a token count N (512), a range A..B (100..900), normal(M,S) or lognormal(M,S) such as normal(512,64); lengths at least 1 and at most 1000000";
        let s = s.trim();
        let num = |t: &str| t.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
        let pair = |t: &str| {
            let (m, sd) = t.split_once(',')?;
            Some((num(m)?, num(sd)?)).filter(|(m, _)| *m >= 1.0 && *m <= MAX_LENGTH)
        };
        let whole = |t: &str| t.trim().parse::<u32>().ok().filter(|&n| n >= 1 && f64::from(n) <= MAX_LENGTH);
        let call = |name: &str| s.strip_prefix(name).and_then(|r| r.strip_prefix('(')?.strip_suffix(')'));
        let parsed = if let Some(args) = call("lognormal") {
            pair(args).map(|(mean, stddev)| Lengths::LogNormal { mean, stddev })
        } else if let Some(args) = call("normal") {
            pair(args).map(|(mean, stddev)| Lengths::Normal { mean, stddev })
        } else if let Some((a, b)) = s.split_once("..") {
            match (whole(a), whole(b)) {
                (Some(a), Some(b)) if a <= b => Some(Lengths::Uniform(a, b)),
                _ => None,
            }
        } else if s.contains(',') {
            pair(s).map(|(mean, stddev)| match stddev {
                0.0 if mean.fract() == 0.0 => Lengths::Fixed(mean as u32),
                _ => Lengths::Normal { mean, stddev },
            })
        } else {
            whole(s).map(Lengths::Fixed)
        };
        parsed.ok_or_else(|| FIX.into())
    }
}

impl fmt::Display for Lengths {
    /// The canonical form, which parses back to the same distribution.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lengths::Fixed(n) => write!(f, "{n}"),
            Lengths::Uniform(a, b) => write!(f, "{a}..{b}"),
            Lengths::Normal { mean, stddev } => write!(f, "normal({mean},{stddev})"),
            Lengths::LogNormal { mean, stddev } => write!(f, "lognormal({mean},{stddev})"),
        }
    }
}

impl Lengths {
    /// One length drawn from `rng`, at least 1.
    pub fn draw(&self, rng: &mut SplitMix64) -> u32 {
        let n = match *self {
            Lengths::Fixed(n) => return n,
            Lengths::Uniform(a, b) => return a + (rng.next_u64() % u64::from(b - a + 1)) as u32,
            Lengths::Normal { mean, stddev } => mean + stddev * normal(rng),
            Lengths::LogNormal { mean, stddev } => {
                // The log's parameters that give lengths of this mean and standard deviation.
                let var = (1.0 + (stddev / mean).powi(2)).ln();
                (mean.ln() - var / 2.0 + var.sqrt() * normal(rng)).exp()
            }
        };
        n.round().clamp(1.0, MAX_LENGTH) as u32
    }

    /// The distribution's mean (before clipping), for sizing a pool.
    pub fn mean(&self) -> f64 {
        match *self {
            Lengths::Fixed(n) => f64::from(n),
            Lengths::Uniform(a, b) => (f64::from(a) + f64::from(b)) / 2.0,
            Lengths::Normal { mean, .. } | Lengths::LogNormal { mean, .. } => mean,
        }
    }

    /// `count` lengths drawn with `seed`, the `index`th of them by `draw_for`.
    pub fn draws(&self, count: usize, seed: u64) -> Vec<u32> {
        (0..count).map(|i| self.draw_for(seed, i as u64)).collect()
    }

    /// The length of request `index` of a run with `seed` (`--output-tokens` for prompts that
    /// set none): a few SplitMix64 steps, cheap enough for a worker to draw before each request.
    pub fn draw_for(&self, seed: u64, index: u64) -> u32 {
        self.draw(&mut rng_for(seed, u64::MAX, index))
    }
}

/// The language of synthetic prompts (`--prompt-lang`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptLang {
    En,
    Zh,
    Mixed,
}

impl FromStr for PromptLang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "en" => Ok(PromptLang::En),
            "zh" => Ok(PromptLang::Zh),
            "mixed" => Ok(PromptLang::Mixed),
            _ => Err("use en, zh or mixed".into()),
        }
    }
}

/// Shared prefixes: `groups` of them, each exactly `tokens` long, chosen uniformly or by a Zipf
/// law of exponent `zipf` over the groups (group 0 the most common).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prefix {
    pub tokens: u32,
    pub groups: u32,
    pub zipf: Option<f64>,
}

/// Everything that builds a pool.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The length of each prompt's own part (after any shared prefix).
    pub lengths: Lengths,
    pub output: Option<Lengths>,
    pub lang: PromptLang,
    pub prefix: Option<Prefix>,
    /// A unique marker at the very start of every prompt, before any prefix.
    pub cache_bust: bool,
    /// How many prompts the pool holds.
    pub pool: usize,
    pub seed: u64,
}

const EN: &str = "Large language models read a prompt and write an answer one token at a time. \
    Each token is sent to the client as soon as it is ready, so the reader sees the text grow. \
    The time to the first token depends on the length of the prompt and on how busy the server is. \
    Under heavy load, requests wait in a queue before the model starts to read them. \
    Summarise the passage above in three sentences, then list two questions it leaves open. ";
const ZH: &str = "大语言模型先读完提示词，再逐个生成词元，并把每个词元立即以流式事件发送给客户端。\
    首个词元的等待时间取决于提示词的长度和服务器的繁忙程度。负载很高时，请求会先在队列中等待。\
    请用三句话总结上面的内容，并提出两个仍未回答的问题。";
/// Appended to reach an exact count when no whole piece fits: one token in every counter tried.
const FILLER: &str = "a ";

/// The passage's pieces and each one's count alone (a first guess of what it adds).
struct Source<'a> {
    pieces: Vec<String>,
    counts: Vec<u64>,
    tokenizer: &'a Tokenizer,
}

impl Plan {
    /// The pool of `level` (0 for a run, a sweep's level index otherwise: each level draws
    /// fresh unique parts; the shared prefixes stay the same). Built on every core.
    pub fn build(&self, level: u64, tokenizer: &Tokenizer) -> Vec<Prompt> {
        let src = Source::new(self.lang, tokenizer);
        let prefixes: Vec<String> = match self.prefix {
            None => Vec::new(),
            Some(p) => (0..p.groups)
                .map(|g| {
                    let mut rng = rng_for(self.seed, u64::MAX - 1, u64::from(g));
                    let head = format!("[{:08x}] ", rng.next_u64() as u32);
                    src.fill(head, "", rng.next_u64() as usize, u64::from(p.tokens)).0
                })
                .collect(),
        };
        let cdf = self.prefix.map(|p| group_cdf(p.groups, p.zipf.unwrap_or(0.0)));
        let one = |i: usize| {
            let mut rng = rng_for(self.seed, level, i as u64);
            let own = u64::from(self.lengths.draw(&mut rng));
            let max_tokens = self.output.map(|o| o.draw(&mut rng));
            let (group, start) = (rng.unit(), rng.next_u64() as usize);
            let marker = format!("[{:016x}] ", rng.next_u64());
            let (mut text, mut want) = (String::new(), own);
            if self.cache_bust && self.prefix.is_some() {
                text.push_str(&marker);
            }
            if let (Some(p), Some(cdf)) = (self.prefix, &cdf) {
                text.push_str(&prefixes[cdf.iter().position(|&c| group < c).unwrap_or(cdf.len() - 1)]);
                want += u64::from(p.tokens);
            }
            // Each prompt's own part starts with its marker, so no two share more than the prefix.
            let (text, counted) = src.fill(text, &marker, start, want);
            Prompt { counted_tokens: counted, max_tokens, ..Prompt::text(text) }
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(self.pool.max(1));
        let chunk = self.pool.div_ceil(threads.max(1)).max(1);
        std::thread::scope(|s| {
            let parts: Vec<_> = (0..self.pool)
                .step_by(chunk)
                .map(|from| {
                    s.spawn(move || (from..(from + chunk).min(self.pool)).map(one).collect::<Vec<_>>())
                })
                .collect();
            parts.into_iter().flat_map(|h| h.join().expect("prompt builders do not panic")).collect()
        })
    }

    /// The tokens the pool holds, about, for refusing one too large to build.
    pub fn tokens(&self) -> f64 {
        let prefix = self.prefix.map_or(0.0, |p| f64::from(p.tokens));
        self.pool as f64 * (self.lengths.mean() + prefix)
    }
}

/// Text blocks of exact token lengths for trace replay (`--trace`): the block of an id and a
/// length is the same text every time, so requests that name the same block send the same
/// bytes; a shorter block of the same id is built from the same start (a prefix of the longer
/// one with the estimate, nearly so with a BPE tokenizer, whose last tokens may differ).
pub struct Blocks<'a> {
    src: Source<'a>,
}

impl<'a> Blocks<'a> {
    pub fn new(tokenizer: &'a Tokenizer) -> Self {
        Blocks { src: Source::new(PromptLang::Mixed, tokenizer) }
    }

    /// Block `id` of namespace `space` (trace replay: 0 for shared ids, else the entry's own),
    /// exactly `tokens` long by the tokenizer in use, and its count.
    pub fn block(&self, (space, id): (u64, u64), tokens: u64) -> (String, u64) {
        let mut rng = rng_for(space, u64::MAX - 2, id);
        let marker = format!("[{:016x}] ", rng.next_u64());
        self.src.fill(String::new(), &marker, rng.next_u64() as usize, tokens)
    }
}

impl<'a> Source<'a> {
    fn new(lang: PromptLang, tokenizer: &'a Tokenizer) -> Self {
        let pieces = pieces(lang);
        // What each piece adds in its place: its count before the next piece, less the next's
        // (a piece's trailing space joins the next word in BPE pre-tokenization).
        let counts = (0..pieces.len())
            .map(|i| {
                let next = &pieces[(i + 1) % pieces.len()];
                tokenizer.count(&format!("{}{next}", pieces[i])).saturating_sub(tokenizer.count(next)).max(1)
            })
            .collect();
        Source { pieces, counts, tokenizer }
    }

    /// Appends `marker` (unless it alone would pass `want`) and pieces (from piece `start` on)
    /// to `text` until the tokenizer counts exactly `want` tokens in it, never cutting into what
    /// it was given; returns the text and its count. Pieces go on by their counts alone (no count
    /// of the text per piece); the whole is then counted once, and a few rounds of whole pieces
    /// taken back or added by their counts correct it (the estimate needs none: it adds up
    /// exactly). What a piece adds depends on its neighbours in BPE, so a round can flip between
    /// one token short and one over: then `finish` ends the text with single units, each checked.
    fn fill(&self, mut text: String, marker: &str, start: usize, want: u64) -> (String, u64) {
        let n = self.pieces.len();
        let mut next = start % n;
        let mut ends: Vec<(usize, u64)> = Vec::new(); // text length and count guessed after each piece
        let given = text.len();
        text.push_str(marker);
        let mut guess = self.tokenizer.count(&text);
        if guess > want {
            text.truncate(given);
            guess = self.tokenizer.count(&text);
        }
        let keep = text.len();
        let mut add = |text: &mut String, ends: &mut Vec<(usize, u64)>, guess: &mut u64, want: u64| {
            while *guess < want {
                let (piece, c) = (&self.pieces[next], self.counts[next]);
                let (piece, c) = if *guess + c <= want { (piece.as_str(), c) } else { (FILLER, 1) };
                text.push_str(piece);
                *guess += c;
                ends.push((text.len(), *guess));
                next = (next + 1) % n;
            }
        };
        add(&mut text, &mut ends, &mut guess, want);
        if self.tokenizer.is_estimate() {
            return (text, guess);
        }
        let mut count = self.tokenizer.count(&text);
        let mut seen = vec![count];
        for _ in 0..ROUNDS {
            if count == want {
                return (text, count);
            }
            if count < want {
                let target = guess + (want - count);
                add(&mut text, &mut ends, &mut guess, target);
            } else {
                guess = take_back(&mut text, &mut ends, keep, count - want);
            }
            count = self.tokenizer.count(&text);
            if ends.is_empty() {
                guess = count;
            }
            if seen.contains(&count) {
                break; // flipping between states: single units end it
            }
            seen.push(count);
        }
        if count == want {
            return (text, count);
        }
        self.finish(text, ends, keep, count, want)
    }

    /// Brings `text` (of `count` tokens, pieces ending at `ends` after `keep`) to exactly `want`:
    /// pieces are taken back until it is under, then units from `UNITS` are appended one at a
    /// time, each kept only when the count it makes is above the last and at most `want`. The
    /// units' effect is counted on the text's last bytes only (what follows a BPE word changes
    /// nothing far before it), and the whole is counted once at the end to confirm; should that
    /// disagree, the units are tried again with whole counts.
    fn finish(
        &self,
        mut text: String,
        mut ends: Vec<(usize, u64)>,
        keep: usize,
        mut count: u64,
        want: u64,
    ) -> (String, u64) {
        for _ in 0..ROUNDS * 4 {
            while count >= want && text.len() > keep {
                take_back(&mut text, &mut ends, keep, count + 1 - want);
                count = self.tokenizer.count(&text);
            }
            if count >= want {
                return (text, count); // what was given is already this long
            }
            let base = text.len();
            if let Some(grown) = self.grow(&text, count, want, true) {
                text.push_str(&grown);
                let whole = self.tokenizer.count(&text);
                if whole == want {
                    return (text, whole);
                }
                text.truncate(base);
            }
            if let Some(grown) = self.grow(&text, count, want, false) {
                text.push_str(&grown);
                return (text, want);
            }
            // No unit moves this text on by one: take back a piece more and try again.
            if text.len() == keep {
                break;
            }
            take_back(&mut text, &mut ends, keep, 1);
            count = self.tokenizer.count(&text);
        }
        let count = self.tokenizer.count(&text);
        (text, count)
    }

    /// The units that bring `text` (of `count` tokens) to `want`, one unit at a time; counted on
    /// the text's last `TAIL` bytes when `tail`, else on the whole text. `None` when no unit moves
    /// it on.
    fn grow(&self, text: &str, mut count: u64, want: u64, tail: bool) -> Option<String> {
        let mut from = if tail { text.len().saturating_sub(TAIL) } else { 0 };
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let mut end = text[from..].to_string();
        let base = if tail { count - self.tokenizer.count(&end).min(count) } else { 0 };
        let mut added = String::new();
        while count < want {
            let step = UNITS.iter().find_map(|u| {
                let len = end.len();
                end.push_str(u);
                let c = base + self.tokenizer.count(&end);
                end.truncate(len);
                (c > count && c <= want).then_some((*u, c))
            });
            let (u, c) = step?;
            end.push_str(u);
            added.push_str(u);
            count = c;
        }
        Some(added)
    }
}

/// Correction rounds by whole pieces before single units finish a prompt.
const ROUNDS: usize = 4;
/// The bytes at a text's end on which a unit's effect is counted.
const TAIL: usize = 256;
/// Short texts of one token each in most contexts, tried in order to add exactly one.
const UNITS: [&str; 10] = ["a ", " a", "a", "。", "的", " 7", "7", ".", " the", "\n"];

/// Takes back the pieces that make up `over` tokens (at least one piece), by their guesses, never
/// cutting before `keep`; returns the guess left.
fn take_back(text: &mut String, ends: &mut Vec<(usize, u64)>, keep: usize, over: u64) -> u64 {
    let mut taken = 0;
    let mut guess = ends.last().map_or(0, |e| e.1);
    while taken < over.max(1) {
        let Some((_, g)) = ends.pop() else {
            text.truncate(keep);
            break;
        };
        let before = ends.last().map_or(keep, |e| e.0).max(keep);
        let prev = ends.last().map_or(g, |e| e.1);
        taken += g.saturating_sub(prev).max(1);
        text.truncate(before);
        guess = prev;
    }
    guess
}

/// Each prompt's own generator: the seed, the level and the index mixed, so a prompt is the
/// same however many threads build the pool.
fn rng_for(seed: u64, level: u64, index: u64) -> SplitMix64 {
    let mut mix = SplitMix64::new(SEED ^ seed);
    let a = mix.next_u64() ^ level.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut mix = SplitMix64::new(a);
    SplitMix64::new(mix.next_u64() ^ index.wrapping_mul(0xbf58_476d_1ce4_e5b9))
}

/// The cumulative shares of `groups` groups under a Zipf law of exponent `s` (0: uniform).
fn group_cdf(groups: u32, s: f64) -> Vec<f64> {
    let weights: Vec<f64> = (1..=groups).map(|k| 1.0 / f64::from(k).powf(s)).collect();
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    weights
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect()
}

/// The passage cut into pieces of about one estimated token: English words with their space,
/// Chinese characters; `mixed` alternates a sentence of each.
fn pieces(lang: PromptLang) -> Vec<String> {
    let en = || EN.split_inclusive(' ').map(str::to_string).collect::<Vec<_>>();
    let zh = || ZH.chars().map(String::from).collect::<Vec<_>>();
    match lang {
        PromptLang::En => en(),
        PromptLang::Zh => zh(),
        PromptLang::Mixed => {
            let split = |v: Vec<String>, end: &str| -> Vec<Vec<String>> {
                let mut out = vec![Vec::new()];
                for p in v {
                    let last = p.trim_end().ends_with(end);
                    out.last_mut().expect("never empty").push(p);
                    if last {
                        out.push(Vec::new());
                    }
                }
                out.retain(|s| !s.is_empty());
                out
            };
            let (e, z) = (split(en(), "."), split(zh(), "。"));
            e.iter().zip(z.iter().cycle()).flat_map(|(a, b)| a.iter().chain(b)).cloned().collect()
        }
    }
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut SplitMix64) -> f64 {
    let (u1, u2) = (rng.unit().max(f64::MIN_POSITIVE), rng.unit());
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::estimate;

    fn plan(lengths: &str, lang: PromptLang, pool: usize) -> Plan {
        Plan {
            lengths: lengths.parse().unwrap(),
            output: None,
            lang,
            prefix: None,
            cache_bust: false,
            pool,
            seed: 1,
        }
    }

    #[test]
    fn lengths_parse_with_a_clear_fix() {
        assert_eq!("512".parse(), Ok(Lengths::Fixed(512)));
        assert_eq!("512,0".parse(), Ok(Lengths::Fixed(512)));
        assert_eq!("512, 64".parse(), Ok(Lengths::Normal { mean: 512.0, stddev: 64.0 }));
        assert_eq!("normal(512,64)".parse(), Ok(Lengths::Normal { mean: 512.0, stddev: 64.0 }));
        assert_eq!("lognormal(300, 200)".parse(), Ok(Lengths::LogNormal { mean: 300.0, stddev: 200.0 }));
        assert_eq!("100..900".parse(), Ok(Lengths::Uniform(100, 900)));
        assert_eq!("7..7".parse(), Ok(Lengths::Uniform(7, 7)));
        for bad in ["", "0", "-3", "5,x", "1.5", "9..3", "0..4", "normal(512)", "normal(0,3)", "poisson(4,1)"]
        {
            assert!(bad.parse::<Lengths>().unwrap_err().starts_with("give a token count"), "{bad}");
        }
        for d in ["512", "100..900", "normal(512,64)", "lognormal(300.5,20)"] {
            assert_eq!(d.parse::<Lengths>().unwrap().to_string(), d);
        }
    }

    #[test]
    fn each_distribution_draws_exact_values_for_a_seed() {
        let draw = |s: &str| {
            let mut rng = SplitMix64::new(7);
            let l: Lengths = s.parse().unwrap();
            (0..5).map(|_| l.draw(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw("40"), [40; 5]);
        assert_eq!(draw("10..20"), [12, 10, 10, 10, 17]);
        assert_eq!(draw("normal(100,10)"), [114, 96, 100, 94, 83]);
        assert_eq!(draw("lognormal(100,50)"), [170, 74, 90, 68, 40]);
        assert_eq!(draw("normal(1,50)").iter().min(), Some(&1), "clipped to at least 1");
    }

    #[test]
    fn spread_is_deterministic_and_centred() {
        for (l, lo, hi) in
            [("normal(1000,100)", 900, 1100), ("lognormal(1000,300)", 700, 1300), ("500..1500", 600, 1400)]
        {
            let l: Lengths = l.parse().unwrap();
            let a = l.draws(4000, 1);
            assert_eq!(a, l.draws(4000, 1));
            let mean = a.iter().map(|&n| f64::from(n)).sum::<f64>() / a.len() as f64;
            assert!((mean - 1000.0).abs() < 20.0, "{l}: {mean}");
            assert!(a.iter().any(|&n| n < lo) && a.iter().any(|&n| n > hi), "{l}");
        }
    }

    #[test]
    fn the_estimate_builds_exact_lengths_in_every_language() {
        for lang in [PromptLang::En, PromptLang::Zh, PromptLang::Mixed] {
            let ps = plan("100..400", lang, 40).build(0, &Tokenizer::Estimate);
            assert_eq!(ps.len(), 40);
            let want: Vec<u64> = {
                let l: Lengths = "100..400".parse().unwrap();
                (0..40).map(|i| u64::from(l.draw(&mut rng_for(1, 0, i)))).collect()
            };
            for (p, w) in ps.iter().zip(&want) {
                assert_eq!((p.counted_tokens, estimate(&p.text)), (*w, *w), "{lang:?}");
            }
            assert_ne!(ps[0].text, ps[1].text);
        }
        let mixed = &plan("200", PromptLang::Mixed, 1).build(0, &Tokenizer::Estimate)[0].text;
        assert!(mixed.contains("模型") && mixed.contains("model"), "{mixed}");
    }

    /// Every length from 1 to 200, every 3rd to 600 and every 389th up to 8,192: the short
    /// lengths, where one token is the most of a prompt, all of them (the long ones cost a debug
    /// build seconds each; benches/prompts.rs checks 100,000 of 8,000 tokens).
    fn every_length() -> Vec<u64> {
        (1..=200).chain((201..=600).step_by(3)).chain((601..=8_192).step_by(389)).chain([8_192]).collect()
    }

    /// Each of `lengths`, alone and after a shared prefix of 50 tokens, in `lang`, built to
    /// exactly that many tokens of `t`.
    fn assert_exact_everywhere(t: &Tokenizer, lang: PromptLang, lengths: &[u64]) {
        let src = Source::new(lang, t);
        let prefix = src.fill("[0badc0de] ".into(), "", 3, 50).0;
        assert_eq!(t.count(&prefix), 50, "{t} {lang:?}: the prefix");
        let mut off = Vec::new();
        for (i, &want) in lengths.iter().enumerate() {
            let marker = format!("[{:016x}] ", SplitMix64::new(i as u64).next_u64());
            for (given, want) in [(String::new(), want), (prefix.clone(), want + 50)] {
                let (text, counted) = src.fill(given, &marker, i * 7, want);
                if (t.count(&text), counted) != (want, want) {
                    off.push((want, t.count(&text), counted));
                }
            }
        }
        assert!(
            off.is_empty(),
            "{t} {lang:?}: {} of {} off (want, counted, said): {off:?}",
            off.len(),
            2 * lengths.len()
        );
    }

    #[test]
    fn cl100k_builds_exact_lengths() {
        let cl = Tokenizer::builtin("cl100k").unwrap().unwrap();
        let every = every_length();
        let sample: Vec<u64> = every.iter().copied().step_by(7).collect();
        for lang in [PromptLang::En, PromptLang::Zh, PromptLang::Mixed] {
            let all = lang == PromptLang::Mixed; // both scripts and where they meet: every length
            assert_exact_everywhere(&cl, lang, if all { &every } else { &sample });
            let mut p = plan("1..600", lang, 24);
            p.prefix = Some(Prefix { tokens: 50, groups: 3, zipf: None });
            p.cache_bust = lang == PromptLang::Mixed;
            for (i, prompt) in p.build(0, &cl).iter().enumerate() {
                let own = u64::from(p.lengths.draw(&mut rng_for(1, 0, i as u64)));
                assert_eq!(cl.count(&prompt.text), own + 50, "{lang:?} prompt {i}");
                assert_eq!(prompt.counted_tokens, own + 50);
            }
        }
    }

    #[test]
    fn o200k_builds_exact_lengths() {
        let o = Tokenizer::builtin("o200k").unwrap().unwrap();
        let every = every_length();
        let sample: Vec<u64> = every.iter().copied().step_by(7).collect();
        for lang in [PromptLang::En, PromptLang::Zh, PromptLang::Mixed] {
            let all = lang == PromptLang::Mixed; // both scripts and where they meet: every length
            assert_exact_everywhere(&o, lang, if all { &every } else { &sample });
        }
    }

    #[test]
    fn a_tokenizer_json_builds_exact_lengths() {
        // The byte-level BPE tokenizer (8,192 tokens) of the tiny model the real-server checks serve.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny_llama_tokenizer.json");
        let t = Tokenizer::from_json(path, &std::fs::read(path).unwrap()).unwrap();
        // As for cl100k: every length in mixed text, a sample in each script alone.
        assert_exact_everywhere(&t, PromptLang::Mixed, &every_length());
        let sample: Vec<u64> = every_length().into_iter().step_by(7).collect();
        for lang in [PromptLang::En, PromptLang::Zh] {
            assert_exact_everywhere(&t, lang, &sample);
        }
    }

    #[test]
    fn prompts_share_prefixes_by_group_and_none_with_cache_bust() {
        let mut p = plan("30", PromptLang::En, 200);
        p.prefix = Some(Prefix { tokens: 64, groups: 4, zipf: Some(1.5) });
        let ps = p.build(0, &Tokenizer::Estimate);
        let heads: Vec<&str> = ps.iter().map(|p| &p.text[..p.text.find("] ").unwrap()]).collect();
        let mut groups: Vec<(&str, usize)> = Vec::new();
        for h in &heads {
            match groups.iter_mut().find(|g| g.0 == *h) {
                Some(g) => g.1 += 1,
                None => groups.push((h, 1)),
            }
        }
        groups.sort_by_key(|g| std::cmp::Reverse(g.1));
        assert_eq!(groups.len(), 4, "{groups:?}");
        assert!(groups[0].1 > 2 * groups[3].1, "Zipf favours the first group: {groups:?}");
        assert!(ps.iter().all(|p| p.counted_tokens == 94 && estimate(&p.text) == 94));
        let first = &ps[0].text;
        let prefix_end = ps.iter().skip(1).map(|p| common(first, &p.text)).max().unwrap();
        assert!(prefix_end > 100, "a shared prefix: {prefix_end}");
        p.cache_bust = true;
        let ps = p.build(0, &Tokenizer::Estimate);
        assert!(ps.iter().skip(1).all(|p| common(&ps[0].text, &p.text) < 4), "no shared start");
        assert!(ps.iter().all(|p| estimate(&p.text) == 94));
    }

    #[test]
    fn a_level_draws_fresh_prompts_with_the_same_prefixes_and_lengths() {
        let mut p = plan("normal(80,20)", PromptLang::Zh, 8);
        p.prefix = Some(Prefix { tokens: 16, groups: 1, zipf: None });
        p.output = Some("10..20".parse().unwrap());
        let (a, b) = (p.build(0, &Tokenizer::Estimate), p.build(1, &Tokenizer::Estimate));
        assert_eq!(a, p.build(0, &Tokenizer::Estimate));
        for (x, y) in a.iter().zip(&b) {
            assert_ne!(x.text, y.text);
            assert!(common(&x.text, &y.text) >= 16 * 3, "the prefix stays");
            assert!(x.max_tokens.is_some_and(|m| (10..=20).contains(&m)));
        }
    }

    fn common(a: &str, b: &str) -> usize {
        a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
    }
}
