//! Property tests of the metrics parser: real pages mutated at random must never panic the
//! parser, the histogram estimate or the known-family view; and random valid pages, in the text
//! format and in OpenMetrics, must parse back to exactly the families they were written from.
//! A deterministic generator (no crate, reproducible by seed); `LLMLOAD_FUZZ_CASES` raises the
//! case count beyond the default CI-sized budget.

use super::parse::{Family, Kind, Page, Sample};
use super::{Hist, parse, view};
use crate::util::rng::SplitMix64;

/// Cases per test by default: a few seconds in a debug build on a small machine.
const DEFAULT_CASES: u64 = 3_000;

fn cases() -> u64 {
    std::env::var("LLMLOAD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES)
}

fn below(rng: &mut SplitMix64, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

fn pick<'a, T>(rng: &mut SplitMix64, items: &'a [T]) -> &'a T {
    &items[below(rng, items.len())]
}

const VLLM: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics/vllm-0.32-cpu.prom"));
const LLAMA: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics/llama-server.prom"));
const OPENMETRICS: &str = "# TYPE c counter\n# UNIT c seconds\n# HELP c A \\\"c\\\".\nc_total{a=\"x\\\\y\"} 5 # {trace_id=\"ab\"} 1 1.5\n\
    c_created 1700000000.25\n# TYPE h histogram\nh_bucket{le=\"0.1\"} 1 # {id=\"1\"} 0.05\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.3\nh_count 2\n\
    # TYPE s summary\ns{quantile=\"0.5\"} NaN\ns_sum 1\ns_count 1\n# TYPE i info\ni_info{v=\"1\"} 1\n# TYPE st stateset\nst{st=\"a\"} 1\n# EOF\n";

/// Pieces that break or bend a page.
const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "\"",
    "\\",
    "=",
    ",",
    "#",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "_bucket",
    "_sum",
    "_count",
    "_total",
    "_created",
    "le=\"+Inf\"",
    "quantile=\"0.5\"",
    "NaN",
    "+Inf",
    "-Inf",
    "1e999",
    "-0",
    "# TYPE x histogram\n",
    "# HELP x \\n\n",
    "# EOF\n",
    "# TYPE",
    "你好",
    "\u{feff}",
    "\0",
    "999999999999999999999",
    "x{le=\"1\"} 1\n",
];

/// One mutation of `page`: flipped bytes, cut ranges, inserted fragments, repeated or swapped lines.
fn mutate(rng: &mut SplitMix64, page: &str) -> String {
    let mut bytes = page.as_bytes().to_vec();
    for _ in 0..1 + below(rng, 4) {
        if bytes.is_empty() {
            break;
        }
        let at = below(rng, bytes.len());
        match below(rng, 6) {
            0 => bytes[at] ^= 1 << below(rng, 8),
            1 => {
                let end = (at + below(rng, 64)).min(bytes.len());
                bytes.drain(at..end);
            }
            2 => {
                let piece = pick(rng, FRAGMENTS).as_bytes();
                bytes.splice(at..at, piece.iter().copied());
            }
            3 => bytes.truncate(at),
            _ => {
                // Repeat or move a whole line.
                let start = bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                let end = bytes[at..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| at + i + 1);
                let line: Vec<u8> = bytes[start..end].to_vec();
                let to = below(rng, bytes.len() + 1);
                if below(rng, 2) == 0 {
                    bytes.drain(start..end);
                }
                let to = to.min(bytes.len());
                bytes.splice(to..to, line);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// What a parsed page may be asked: every number the view and the histograms give.
fn exercise(page: &Page) {
    let v = view(page);
    for h in [&v.ttft, &v.itl, &v.e2e, &v.queue, &v.prefill].into_iter().flatten() {
        let _ = (h.quantile(0.5), h.quantile(0.0), h.quantile(1.0), h.mean(), h.since(h));
    }
    for f in &page.families {
        if let Some(h) = Hist::from_family(f) {
            let _ = (h.quantile(0.99), h.since(&Hist { buckets: vec![], sum: 0.0, count: 0.0 }));
        }
        let _ = (page.sum(&f.name), page.mean(&f.name));
    }
}

#[test]
fn mutated_real_pages_never_panic() {
    let mut rng = SplitMix64::new(0x9E7E);
    let (mut ok, mut failed) = (0u64, 0u64);
    for case in 0..cases() {
        // The large vLLM page in one case of eight keeps the test fast.
        let page = match case % 8 {
            0 => VLLM,
            1..4 => LLAMA,
            _ => OPENMETRICS,
        };
        let text = mutate(&mut rng, page);
        match parse(&text) {
            Ok(page) => {
                ok += 1;
                exercise(&page);
            }
            Err(e) => {
                failed += 1;
                assert!(
                    e.line >= 1 && e.line <= text.split('\n').count(),
                    "{e} for a page of {} lines",
                    text.lines().count()
                );
                assert!(!e.message.is_empty());
            }
        }
    }
    // The mutations reach both outcomes, or this test proves little.
    assert!(ok > cases() / 10 && failed > cases() / 10, "parsed {ok}, refused {failed}");
}

/// Label values with everything that needs care: escapes, the format's own punctuation, UTF-8.
const VALUES: &[&str] =
    &["", "0", "a b", "C:\\dir", "say \"hi\"", "two\nlines", "} # , =", "你好", "\\n", "le"];
const NUMBERS: &[f64] = &[0.0, 1.0, -2.5e-3, 1.5e300, 17.0, 0.1, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A random valid page and the families it must parse into. OpenMetrics pages end with
/// `# EOF` and carry timestamps in seconds; text-format pages carry milliseconds.
fn valid_page(rng: &mut SplitMix64) -> (String, Vec<Family>) {
    let openmetrics = below(rng, 2) == 0;
    let end = if below(rng, 3) == 0 { "\r\n" } else { "\n" };
    let mut text = String::new();
    let mut want = Vec::new();
    for n in 0..below(rng, 7) {
        let prefix = pick(rng, &["", "vllm:", "a_b:", "_"]);
        let name = format!("{prefix}m{n}");
        let kinds: &[Kind] = if openmetrics {
            &[
                Kind::Counter,
                Kind::Gauge,
                Kind::Histogram,
                Kind::GaugeHistogram,
                Kind::Summary,
                Kind::Info,
                Kind::StateSet,
                Kind::Unknown,
            ]
        } else {
            &[Kind::Counter, Kind::Gauge, Kind::Histogram, Kind::Summary, Kind::Unknown]
        };
        let kind = *pick(rng, kinds);
        // Text-format counters are declared with their `_total` name; untyped families have no TYPE.
        let family =
            if kind == Kind::Counter && !openmetrics { format!("{name}_total") } else { name.clone() };
        let help = (below(rng, 2) == 0).then(|| pick(rng, VALUES).to_string());
        if let Some(h) = &help {
            text += &format!("# HELP {family} {}{end}", escape_help(h));
        }
        let typed = kind != Kind::Unknown || below(rng, 2) == 0;
        if typed {
            let word = match kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
                Kind::Histogram => "histogram",
                Kind::GaugeHistogram => "gaugehistogram",
                Kind::Summary => "summary",
                Kind::Info => "info",
                Kind::StateSet => "stateset",
                Kind::Unknown => pick(rng, &["untyped", "unknown"]),
            };
            text += &format!("# TYPE {family} {word}{end}");
        }
        if below(rng, 4) == 0 {
            text += &format!("# a comment about {family}{end}");
            if !openmetrics {
                text += end;
            }
        }
        let mut samples = Vec::new();
        for set in 0..below(rng, 3) + usize::from(!typed) {
            let base =
                vec![("id".to_string(), format!("{set}")), ("v".to_string(), pick(rng, VALUES).to_string())];
            let mut push = |suffix: &str, extra: Option<(&str, String)>, value: f64, rng: &mut SplitMix64| {
                let mut labels = base.clone();
                if let Some((k, v)) = extra {
                    labels.insert(below(rng, labels.len() + 1), (k.to_string(), v));
                }
                let stamp = (below(rng, 4) == 0).then(|| 1_700_000_000 + below(rng, 1000));
                samples.push(Sample {
                    name: format!("{family}{suffix}"),
                    labels,
                    value,
                    timestamp_ms: stamp
                        .map(|s| if openmetrics { s as f64 * 1000.0 + 500.0 } else { s as f64 }),
                });
                let s = samples.last().expect("just pushed");
                let labels: Vec<String> = s
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}{}=\"{}\"", pick(rng, &["", " "]), escape_label(v)))
                    .collect();
                text += &format!("{}{{{}}} {}", s.name, labels.join(","), number(s.value));
                if let Some(t) = stamp {
                    text += &if openmetrics { format!(" {t}.5") } else { format!(" {t}") };
                }
                if openmetrics && below(rng, 4) == 0 {
                    text += " # {trace_id=\"0af7\"} 0.5 1700000000.001";
                }
                text += end;
            };
            let v = *pick(rng, NUMBERS);
            match kind {
                Kind::Counter if openmetrics => {
                    push("_total", None, v, rng);
                    push("_created", None, 1.7e9, rng);
                }
                Kind::Counter | Kind::Gauge | Kind::Unknown => push("", None, v, rng),
                Kind::Histogram | Kind::GaugeHistogram => {
                    let mut c = 0.0;
                    for le in ["0.1", "1", "+Inf"] {
                        c += below(rng, 5) as f64;
                        push("_bucket", Some(("le", le.to_string())), c, rng);
                    }
                    let (s, n) =
                        if kind == Kind::Histogram { ("_sum", "_count") } else { ("_gsum", "_gcount") };
                    push(s, None, v, rng);
                    push(n, None, c, rng);
                }
                Kind::Summary => {
                    push("", Some(("quantile", "0.5".into())), v, rng);
                    push("", Some(("quantile", "0.99".into())), v, rng);
                    push("_sum", None, 2.0, rng);
                    push("_count", None, 3.0, rng);
                }
                Kind::Info => push("_info", None, 1.0, rng),
                Kind::StateSet => push("", Some(("st", "on".into())), 1.0, rng),
            }
        }
        want.push(Family { name: family, kind, help, samples });
    }
    if openmetrics {
        text += &format!("# EOF{end}");
    }
    (text, want)
}

/// Families equal, with NaN equal to NaN.
fn same(a: &[Family], b: &[Family]) -> bool {
    let value = |x: f64, y: f64| x == y || (x.is_nan() && y.is_nan());
    a.len() == b.len()
        && a.iter().zip(b).all(|(f, g)| {
            (&f.name, f.kind, &f.help) == (&g.name, g.kind, &g.help)
                && f.samples.len() == g.samples.len()
                && f.samples.iter().zip(&g.samples).all(|(s, t)| {
                    (&s.name, &s.labels, s.timestamp_ms) == (&t.name, &t.labels, t.timestamp_ms)
                        && value(s.value, t.value)
                })
        })
}

#[test]
fn every_valid_page_parses_back() {
    let mut rng = SplitMix64::new(0x0A6E);
    let mut samples = 0;
    for _ in 0..cases() {
        let (text, want) = valid_page(&mut rng);
        let page = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(same(&page.families, &want), "{text}\nparsed {:#?}\nwanted {want:#?}", page.families);
        samples += want.iter().map(|f| f.samples.len()).sum::<usize>();
        exercise(&page);
    }
    assert!(samples as u64 > cases(), "the generator wrote {samples} samples");
}
