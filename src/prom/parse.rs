//! The Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text, parsed whole into a
//! `Page` of families, or into the first error with its line number. Every sample kind is read
//! (counters, gauges, histograms, gauge histograms, summaries, info, state sets, untyped), with
//! label escapes, `NaN`/`±Inf`, optional timestamps (OpenMetrics' seconds become milliseconds),
//! `_created` samples, exemplars (skipped), `# UNIT` lines (skipped) and `# EOF`.
//!
//! Tolerant where real servers are sloppy: blank lines and CRLF, a family's samples interleaved
//! with another's, a HELP or TYPE line for a family declared after others' samples, samples with
//! no TYPE line (an untyped family named by the sample). Strict where the meaning would be lost:
//! the same sample twice, a second TYPE or HELP for one family, a TYPE after the family's own
//! samples, a histogram bucket without a numeric `le`, a sample that cannot belong to its
//! declared family, text after `# EOF`, and anything that is not a sample or a comment. Never a
//! panic, whatever the bytes. Not here: fetching the page, or what the families mean (`known`).

use std::collections::HashMap;
use std::fmt;

/// A family's type, from its `# TYPE` line (`Unknown` without one, or for `untyped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    Unknown,
}

impl Kind {
    fn from_type(word: &str) -> Option<Kind> {
        Some(match word {
            "counter" => Kind::Counter,
            "gauge" => Kind::Gauge,
            "histogram" => Kind::Histogram,
            "gaugehistogram" => Kind::GaugeHistogram,
            "summary" => Kind::Summary,
            "info" => Kind::Info,
            "stateset" => Kind::StateSet,
            "unknown" | "untyped" => Kind::Unknown,
            _ => return None,
        })
    }

    /// The suffixes a sample of this kind of family may add to the family's name ("" for none).
    fn suffixes(self) -> &'static [&'static str] {
        match self {
            Kind::Counter => &["", "_total", "_created"],
            Kind::Gauge | Kind::StateSet | Kind::Unknown => &[""],
            Kind::Histogram => &["_bucket", "_sum", "_count", "_created"],
            Kind::GaugeHistogram => &["_bucket", "_gsum", "_gcount", "_sum", "_count"],
            Kind::Summary => &["", "_sum", "_count", "_created"],
            Kind::Info => &["_info", ""],
        }
    }

    /// Whether the family's samples are buckets or quantiles rather than plain values.
    fn is_distribution(self) -> bool {
        matches!(self, Kind::Histogram | Kind::GaugeHistogram | Kind::Summary)
    }
}

/// One sample line: its full name (`foo_bucket`), labels in the page's order, value and
/// timestamp (milliseconds since the epoch, whichever format the page was in).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub timestamp_ms: Option<f64>,
}

impl Sample {
    /// The value of label `name`, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A metric family: its name as declared (`foo` for a histogram whose samples are `foo_bucket`,
/// `foo_sum`, `foo_count`), its kind, its HELP text, and its samples in page order.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: String,
    pub kind: Kind,
    pub help: Option<String>,
    pub samples: Vec<Sample>,
}

impl Family {
    /// The samples that carry the family's value itself: a counter's `_total` (or bare) samples,
    /// a gauge's, an info's; never `_created`, buckets, quantiles, sums or counts.
    pub fn plain(&self) -> impl Iterator<Item = &Sample> {
        let kind = self.kind;
        self.samples.iter().filter(move |s| {
            !kind.is_distribution()
                && match s.name.strip_prefix(self.name.as_str()) {
                    Some("") => true,
                    Some("_total") => kind == Kind::Counter,
                    Some("_info") => kind == Kind::Info,
                    _ => false,
                }
        })
    }

    /// The samples named `<family><suffix>` (`_sum`, `_count`, `_bucket`).
    pub fn with_suffix<'a>(&'a self, suffix: &'a str) -> impl Iterator<Item = &'a Sample> {
        self.samples.iter().filter(move |s| s.name.strip_prefix(self.name.as_str()) == Some(suffix))
    }
}

/// A parsed page: its families in the order they first appear.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub families: Vec<Family>,
}

impl Page {
    /// The family named `name`; `foo_total` also finds an OpenMetrics counter declared as `foo`.
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name).or_else(|| {
            let base = name.strip_suffix("_total")?;
            self.families.iter().find(|f| f.name == base && f.kind == Kind::Counter)
        })
    }

    /// The sum of a family's plain samples over all its label sets (several models, engines or
    /// reasons). A declared family with no samples yet sums to 0 (a labelled metric before its
    /// first observation); a missing family, a histogram or a summary is `None`.
    pub fn sum(&self, name: &str) -> Option<f64> {
        let f = self.family(name)?;
        if f.kind.is_distribution() {
            return None;
        }
        Some(f.plain().map(|s| s.value).sum())
    }

    /// The mean of a family's plain samples over its label sets: for shares (KV-cache use, a
    /// hit rate), which do not add up across engines. `None` without samples.
    pub fn mean(&self, name: &str) -> Option<f64> {
        let f = self.family(name)?;
        if f.kind.is_distribution() {
            return None;
        }
        let (n, total) = f.plain().fold((0usize, 0.0), |(n, t), s| (n + 1, t + s.value));
        (n > 0).then(|| total / n as f64)
    }
}

/// Why a page could not be read: the line (from 1) and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Reads a whole page. The first malformed line is the error; nothing panics.
pub fn parse(text: &str) -> Result<Page, ParseError> {
    let mut page = Builder::default();
    let mut eof_at = None;
    for (i, raw) in text.split('\n').enumerate() {
        let n = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw).trim_start_matches([' ', '\t']);
        let fail = |message: String| ParseError { line: n, message };
        if line.trim_end().is_empty() {
            continue;
        }
        if let Some(at) = eof_at {
            return Err(fail(format!(
                "text after `# EOF` on line {at} (an OpenMetrics page ends there; two pages joined?)"
            )));
        }
        if let Some(comment) = line.strip_prefix('#') {
            if comment.trim() == "EOF" {
                eof_at = Some(n);
            } else {
                page.comment(comment).map_err(fail)?;
            }
        } else {
            page.sample(line, n).map_err(fail)?;
        }
    }
    let mut families = page.families;
    if eof_at.is_some() {
        // OpenMetrics timestamps are seconds; the text format's are milliseconds.
        for s in families.iter_mut().flat_map(|f| f.samples.iter_mut()) {
            s.timestamp_ms = s.timestamp_ms.map(|t| t * 1000.0);
        }
    }
    Ok(Page { families })
}

#[derive(Default)]
struct Builder {
    families: Vec<Family>,
    by_name: HashMap<String, usize>,
    /// Per family: whether a TYPE line declared it.
    typed: Vec<bool>,
    /// Every sample's name and sorted labels, with the line that first had it.
    seen: HashMap<(String, Vec<(String, String)>), usize>,
}

impl Builder {
    fn index(&mut self, name: &str) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        self.families.push(Family {
            name: name.into(),
            kind: Kind::Unknown,
            help: None,
            samples: Vec::new(),
        });
        self.typed.push(false);
        self.by_name.insert(name.into(), self.families.len() - 1);
        self.families.len() - 1
    }

    /// A `#` line: HELP, TYPE and UNIT are read; anything else is a comment.
    fn comment(&mut self, comment: &str) -> Result<(), String> {
        let rest = comment.trim_start_matches([' ', '\t']);
        let (keyword, rest) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
        if !matches!(keyword, "HELP" | "TYPE" | "UNIT") {
            return Ok(());
        }
        let rest = rest.trim_start_matches([' ', '\t']);
        let (name, tail) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
        if name.is_empty() {
            return Err(format!("`# {keyword}` without a metric name"));
        }
        if !is_metric_name(name) {
            return Err(format!("`# {keyword}` names `{}`, which is not a metric name", clip(name)));
        }
        let tail = tail.trim_start_matches([' ', '\t']);
        match keyword {
            "HELP" => {
                let i = self.index(name);
                if self.families[i].help.is_some() {
                    return Err(format!("a second HELP line for `{name}`"));
                }
                self.families[i].help = Some(unescape_help(tail.trim_end()));
            }
            "TYPE" => {
                let word = tail.trim_end();
                let kind = Kind::from_type(word).ok_or_else(|| {
                    format!(
                        "`# TYPE {name}` has type `{}`; expected counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown or untyped",
                        clip(word)
                    )
                })?;
                let i = self.index(name);
                if self.typed[i] {
                    return Err(format!("a second TYPE line for `{name}`"));
                }
                if !self.families[i].samples.is_empty() {
                    return Err(format!("the TYPE line for `{name}` comes after its samples"));
                }
                self.typed[i] = true;
                self.families[i].kind = kind;
            }
            _ => {} // UNIT: the name says it already (`_seconds`).
        }
        Ok(())
    }

    /// The family a sample named `name` belongs to: its own, a declared family it is a suffix of
    /// (`foo_bucket` of histogram `foo`), or a new untyped one.
    fn family_for(&mut self, name: &str) -> Result<usize, String> {
        let exact = self.by_name.get(name).copied();
        if let Some(i) = exact
            && (self.families[i].kind.suffixes().contains(&"") || !self.typed[i])
        {
            return Ok(i);
        }
        for suffix in ["_bucket", "_sum", "_count", "_created", "_total", "_gsum", "_gcount", "_info"] {
            if let Some(base) = name.strip_suffix(suffix)
                && let Some(&i) = self.by_name.get(base)
                && self.typed[i]
                && self.families[i].kind.suffixes().contains(&suffix)
            {
                return Ok(i);
            }
        }
        if let Some(i) = exact {
            let f = &self.families[i];
            let want: Vec<String> = f.kind.suffixes().iter().map(|s| format!("{}{s}", f.name)).collect();
            return Err(format!(
                "sample `{name}` cannot belong to {} `{name}`: its samples are named {}",
                kind_word(f.kind),
                want.join(", ")
            ));
        }
        Ok(self.index(name))
    }

    fn sample(&mut self, line: &str, n: usize) -> Result<(), String> {
        let (name, labels, value, timestamp_ms) = sample_line(line)?;
        let i = self.family_for(&name)?;
        let f = &self.families[i];
        if matches!(f.kind, Kind::Histogram | Kind::GaugeHistogram) && name.ends_with("_bucket") {
            match labels.iter().find(|(k, _)| k == "le") {
                Some((_, le)) if parse_value(le).is_some_and(|v| !v.is_nan()) => {}
                Some((_, le)) => {
                    return Err(format!("bucket `{name}` has le=\"{}\", not a number", clip(le)));
                }
                None => return Err(format!("bucket `{name}` has no `le` label")),
            }
        }
        let mut key = labels.clone();
        key.sort();
        if let Some(first) = self.seen.get(&(name.clone(), key.clone())) {
            return Err(format!("sample `{name}` with these labels again (first on line {first})"));
        }
        self.seen.insert((name.clone(), key), n);
        self.families[i].samples.push(Sample { name, labels, value, timestamp_ms });
        Ok(())
    }
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Histogram => "histogram",
        Kind::GaugeHistogram => "gauge histogram",
        Kind::Summary => "summary",
        Kind::Info => "info",
        Kind::StateSet => "state set",
        Kind::Unknown => "untyped family",
    }
}

/// A sample's labels, in the page's order.
type Labels = Vec<(String, String)>;

type Line = (String, Labels, f64, Option<f64>);

/// `name{labels} value [timestamp] [# exemplar]`, taken apart.
fn sample_line(line: &str) -> Result<Line, String> {
    let end = line.find(|c: char| !is_name_char(c, true)).unwrap_or(line.len());
    let name = &line[..end];
    if name.is_empty() || !is_metric_name(name) {
        return Err(format!(
            "expected a sample (`name{{labels}} value`) or a `#` comment, found `{}`",
            clip(line)
        ));
    }
    let mut rest = line[end..].trim_start_matches([' ', '\t']);
    let mut labels = Vec::new();
    if let Some(inside) = rest.strip_prefix('{') {
        let (parsed, after) = label_set(inside).map_err(|e| format!("sample `{name}`: {e}"))?;
        labels = parsed;
        rest = after;
    } else if !rest.is_empty() && rest.len() == line.len() - end {
        // Nothing separated the name from what follows (`foo-1 2`).
        return Err(format!("sample `{name}`: unexpected `{}` after the name", clip(rest)));
    }
    // An OpenMetrics exemplar (`# {trace_id="…"} 1.0`) follows the value; it is skipped.
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let mut words = rest.split([' ', '\t']).filter(|w| !w.is_empty());
    let value = match words.next() {
        None => return Err(format!("sample `{name}` has no value")),
        Some(w) => {
            parse_value(w).ok_or_else(|| format!("sample `{name}` has value `{}`, not a number", clip(w)))?
        }
    };
    let timestamp_ms = match words.next() {
        None => None,
        Some(w) => Some(
            parse_value(w)
                .filter(|t| t.is_finite())
                .ok_or_else(|| format!("sample `{name}` has timestamp `{}`, not a number", clip(w)))?,
        ),
    };
    if let Some(extra) = words.next() {
        return Err(format!("sample `{name}`: unexpected `{}` after the value and timestamp", clip(extra)));
    }
    Ok((name.to_string(), labels, value, timestamp_ms))
}

/// The labels after `{`, and the text after the closing `}`.
fn label_set(mut s: &str) -> Result<(Labels, &str), String> {
    let mut labels: Labels = Vec::new();
    loop {
        s = s.trim_start_matches([' ', '\t']);
        if let Some(after) = s.strip_prefix('}') {
            return Ok((labels, after));
        }
        let end = s.find(|c: char| !is_name_char(c, false)).unwrap_or(s.len());
        let name = &s[..end];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("expected a label name or `}}`, found `{}`", clip(s)));
        }
        s = s[end..].trim_start_matches([' ', '\t']);
        s = s.strip_prefix('=').ok_or_else(|| format!("label `{name}` has no `=`"))?;
        s = s.trim_start_matches([' ', '\t']);
        s = s.strip_prefix('"').ok_or_else(|| format!("label `{name}`'s value is not quoted"))?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let close = loop {
            match chars.next() {
                None => return Err(format!("label `{name}`'s value has no closing quote")),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => {
                        return Err(format!(
                            "label `{name}`'s value has `\\{c}`; only \\\\, \\\" and \\n are escapes"
                        ));
                    }
                    None => return Err(format!("label `{name}`'s value has no closing quote")),
                },
                Some((_, c)) => value.push(c),
            }
        };
        if labels.iter().any(|(k, _)| k == name) {
            return Err(format!("label `{name}` twice"));
        }
        labels.push((name.to_string(), value));
        s = s[close + 1..].trim_start_matches([' ', '\t']);
        if let Some(after) = s.strip_prefix(',') {
            s = after;
        } else if !s.starts_with('}') {
            return Err(format!("expected `,` or `}}` after label `{name}`, found `{}`", clip(s)));
        }
    }
}

/// A sample value or timestamp: a float, `NaN`, `+Inf`, `-Inf` (any case, as Prometheus reads them).
fn parse_value(word: &str) -> Option<f64> {
    // Rust's float syntax takes these spellings too, as Go's ParseFloat does.
    word.parse::<f64>().ok()
}

/// Letters, digits, `_`, and `:` in metric names (not label names).
fn is_name_char(c: char, colon: bool) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':')
}

fn is_metric_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| is_name_char(c, true))
}

/// HELP text escapes: `\\`, `\n` (and OpenMetrics' `\"`); any other backslash stays.
fn unescape_help(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// At most 40 characters of `s`, for an error message.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Family {
        let page = parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(page.families.len(), 1, "{page:?}");
        page.families.into_iter().next().expect("one family")
    }

    fn err(text: &str) -> String {
        parse(text).expect_err(text).to_string()
    }

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_counter_and_a_gauge() {
        let page = parse(
            "# HELP a_total Things done.\n# TYPE a_total counter\na_total{x=\"1\"} 3\na_total{x=\"2\"} 4.5\n\
             # TYPE b gauge\nb -2e-3\n",
        )
        .unwrap();
        assert_eq!(page.families.len(), 2);
        let a = &page.families[0];
        assert_eq!(
            (a.name.as_str(), a.kind, a.help.as_deref()),
            ("a_total", Kind::Counter, Some("Things done."))
        );
        assert_eq!(
            a.samples[1],
            Sample { name: "a_total".into(), labels: labels(&[("x", "2")]), value: 4.5, timestamp_ms: None }
        );
        assert_eq!(page.sum("a_total"), Some(7.5));
        assert_eq!(page.mean("a_total"), Some(3.75));
        assert_eq!(page.sum("b"), Some(-0.002));
        assert_eq!(page.sum("c"), None);
    }

    #[test]
    fn a_histogram_groups_its_buckets_sum_count_and_created() {
        let f = one(
            "# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.75\nh_count 2\nh_created 1.7e9\n",
        );
        assert_eq!((f.name.as_str(), f.kind, f.samples.len()), ("h", Kind::Histogram, 5));
        assert_eq!(f.with_suffix("_count").map(|s| s.value).collect::<Vec<_>>(), [2.0]);
        assert_eq!(f.plain().count(), 0);
    }

    #[test]
    fn a_summary_keeps_its_quantiles() {
        let page = parse(
            "# TYPE s summary\ns{quantile=\"0.5\"} 0.1\ns{quantile=\"0.99\"} 0.4\ns_sum 3\ns_count 20\n",
        )
        .unwrap();
        let f = &page.families[0];
        assert_eq!((f.kind, f.samples.len()), (Kind::Summary, 4));
        assert_eq!(f.samples[1].label("quantile"), Some("0.99"));
        assert_eq!(page.sum("s"), None, "a summary has no plain value");
    }

    #[test]
    fn openmetrics_kinds_created_units_exemplars_and_eof() {
        let text = "# TYPE c counter\n# UNIT c requests\n# HELP c Done \\\"ok\\\".\nc_total 5 # {trace_id=\"ab\"} 1 1.5\nc_created 1700000000.25\n\
                    # TYPE g gaugehistogram\ng_bucket{le=\"1\"} 2\ng_bucket{le=\"+Inf\"} 3\ng_gcount 3\ng_gsum 2.5\n\
                    # TYPE i info\ni_info{version=\"1.2\"} 1\n\
                    # TYPE st stateset\nst{st=\"a\"} 1\nst{st=\"b\"} 0\n\
                    # TYPE u unknown\nu 7 1700000000.5\n# EOF\n";
        let page = parse(text).unwrap();
        let kinds: Vec<_> =
            page.families.iter().map(|f| (f.name.as_str(), f.kind, f.samples.len())).collect();
        assert_eq!(
            kinds,
            [
                ("c", Kind::Counter, 2),
                ("g", Kind::GaugeHistogram, 4),
                ("i", Kind::Info, 1),
                ("st", Kind::StateSet, 2),
                ("u", Kind::Unknown, 1)
            ]
        );
        assert_eq!(page.families[0].help.as_deref(), Some("Done \"ok\"."));
        assert_eq!(page.sum("c_total"), Some(5.0), "the counter is found by its sample's name");
        assert_eq!(page.sum("c"), Some(5.0), "_created is not a value");
        assert_eq!(page.sum("i"), Some(1.0));
        assert_eq!(page.sum("st"), Some(1.0));
        // OpenMetrics timestamps are seconds; they come out in milliseconds.
        assert_eq!(page.families[4].samples[0].timestamp_ms, Some(1_700_000_000_500.0));
        assert_eq!(page.families[0].samples[1].value, 1_700_000_000.25);
    }

    #[test]
    fn text_format_timestamps_are_milliseconds() {
        let f = one("x 1 1700000000123\n");
        assert_eq!(f.samples[0].timestamp_ms, Some(1_700_000_000_123.0));
    }

    #[test]
    fn nan_and_infinities() {
        let f = one(
            "# TYPE v gauge\nv{a=\"1\"} NaN\nv{a=\"2\"} +Inf\nv{a=\"3\"} -Inf\nv{a=\"4\"} inf\nv{a=\"5\"} 1e400\n",
        );
        let v: Vec<f64> = f.samples.iter().map(|s| s.value).collect();
        assert!(v[0].is_nan());
        assert_eq!(v[1..], [f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::INFINITY]);
    }

    #[test]
    fn label_escapes_and_odd_characters() {
        let f = one("m{path=\"C:\\\\dir\",q=\"say \\\"hi\\\"\",nl=\"a\\nb\",odd=\"} # , = 你好\" , } 1\n");
        assert_eq!(
            f.samples[0].labels,
            labels(&[("path", "C:\\dir"), ("q", "say \"hi\""), ("nl", "a\nb"), ("odd", "} # , = 你好")])
        );
        assert_eq!(f.samples[0].value, 1.0);
    }

    #[test]
    fn help_escapes() {
        let f = one("# HELP m Line one\\nline two, a \\\\ and \\q kept\n# TYPE m gauge\nm 1\n");
        assert_eq!(f.help.as_deref(), Some("Line one\nline two, a \\ and \\q kept"));
    }

    #[test]
    fn untyped_samples_make_their_own_family() {
        let page = parse("# a comment\nfoo_bucket{le=\"1\"} 1\nbar 2\n  \n#\n").unwrap();
        let names: Vec<_> = page.families.iter().map(|f| (f.name.as_str(), f.kind)).collect();
        assert_eq!(names, [("foo_bucket", Kind::Unknown), ("bar", Kind::Unknown)]);
    }

    #[test]
    fn crlf_blank_lines_and_spaces_are_tolerated() {
        let page = parse("\r\n# TYPE a gauge\r\n\r\n  a { x = \"1\" , }   2   \r\n\ta 3\r\n").unwrap();
        let a = page.family("a").unwrap();
        assert_eq!(a.samples.len(), 2);
        assert_eq!(a.samples[0].labels, labels(&[("x", "1")]));
        assert_eq!(page.sum("a"), Some(5.0));
    }

    #[test]
    fn sloppy_servers_are_read() {
        // A TYPE for a family declared after another's samples, and one family's samples
        // interleaved with another's.
        let page = parse("a 1\n# TYPE b gauge\nb{x=\"1\"} 2\na{y=\"1\"} 3\nb{x=\"2\"} 4\n").unwrap();
        assert_eq!((page.sum("a"), page.sum("b")), (Some(4.0), Some(6.0)));
    }

    #[test]
    fn a_declared_family_without_samples_sums_to_zero() {
        let page = parse("# HELP c_total Done.\n# TYPE c_total counter\n").unwrap();
        assert_eq!(page.sum("c_total"), Some(0.0));
        assert_eq!(page.mean("c_total"), None);
    }

    #[test]
    fn malformed_lines_name_their_line() {
        assert_eq!(err("a 1\nb\n"), "line 2: sample `b` has no value");
        assert_eq!(err("a 1\na 2\n"), "line 2: sample `a` with these labels again (first on line 1)");
        assert_eq!(
            err("a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 1\n"),
            "line 2: sample `a` with these labels again (first on line 1)"
        );
        assert_eq!(err("a 1\n\na x\n"), "line 3: sample `a` has value `x`, not a number");
        assert_eq!(err("a 1 2 3\n"), "line 1: sample `a`: unexpected `3` after the value and timestamp");
        assert_eq!(err("a 1 NaN\n"), "line 1: sample `a` has timestamp `NaN`, not a number");
        assert_eq!(err("a{x=\"1} 1\n"), "line 1: sample `a`: label `x`'s value has no closing quote");
        assert_eq!(
            err("a{x=\"\\t\"} 1\n"),
            "line 1: sample `a`: label `x`'s value has `\\t`; only \\\\, \\\" and \\n are escapes"
        );
        assert_eq!(err("a{x=1} 1\n"), "line 1: sample `a`: label `x`'s value is not quoted");
        assert_eq!(
            err("a{x=\"1\" y=\"2\"} 1\n"),
            "line 1: sample `a`: expected `,` or `}` after label `x`, found `y=\"2\"} 1`"
        );
        assert_eq!(err("a{x=\"1\",x=\"2\"} 1\n"), "line 1: sample `a`: label `x` twice");
        assert_eq!(
            err("a{1x=\"1\"} 1\n"),
            "line 1: sample `a`: expected a label name or `}`, found `1x=\"1\"} 1`"
        );
        assert_eq!(
            err("{x=\"1\"} 1\n"),
            "line 1: expected a sample (`name{labels} value`) or a `#` comment, found `{x=\"1\"} 1`"
        );
        assert_eq!(
            err("9a 1\n"),
            "line 1: expected a sample (`name{labels} value`) or a `#` comment, found `9a 1`"
        );
        assert_eq!(err("a-b 1\n"), "line 1: sample `a`: unexpected `-b 1` after the name");
        assert_eq!(err("# TYPE a gauge\n# TYPE a gauge\n"), "line 2: a second TYPE line for `a`");
        assert_eq!(err("# HELP a x\n# HELP a y\n"), "line 2: a second HELP line for `a`");
        assert_eq!(err("a 1\n# TYPE a gauge\n"), "line 2: the TYPE line for `a` comes after its samples");
        assert!(err("# TYPE a flux\n").starts_with("line 1: `# TYPE a` has type `flux`; expected counter"));
        assert_eq!(err("# TYPE\n"), "line 1: `# TYPE` without a metric name");
        assert_eq!(err("# HELP 1a x\n"), "line 1: `# HELP` names `1a`, which is not a metric name");
        assert_eq!(err("# TYPE h histogram\nh_bucket 1\n"), "line 2: bucket `h_bucket` has no `le` label");
        assert_eq!(
            err("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n"),
            "line 2: bucket `h_bucket` has le=\"x\", not a number"
        );
        assert_eq!(
            err("# TYPE h histogram\nh 1\n"),
            "line 2: sample `h` cannot belong to histogram `h`: its samples are named h_bucket, h_sum, h_count, h_created"
        );
        assert_eq!(
            err("a 1\n# EOF\nb 2\n"),
            "line 3: text after `# EOF` on line 2 (an OpenMetrics page ends there; two pages joined?)"
        );
    }

    #[test]
    fn an_empty_page_is_empty() {
        assert_eq!(parse("").unwrap(), Page::default());
        assert_eq!(parse("\n# EOF\n").unwrap(), Page::default());
    }

    #[test]
    fn the_real_pages_parse() {
        let vllm =
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics/vllm-0.32-cpu.prom"));
        let page = parse(vllm).unwrap();
        let ttft = page.family("vllm:time_to_first_token_seconds").unwrap();
        assert_eq!((ttft.kind, ttft.samples.len()), (Kind::Histogram, 23 + 2));
        // A histogram whose name ends in _total keeps its buckets.
        let it = page.family("vllm:iteration_tokens_total").unwrap();
        assert_eq!(it.kind, Kind::Histogram);
        assert_eq!(it.with_suffix("_count").next().map(|s| s.value), Some(323.0));
        assert_eq!(page.sum("vllm:request_success_total"), Some(17.0));
        assert_eq!(page.family("http_request_size_bytes").map(|f| f.kind), Some(Kind::Summary));
        let llama =
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics/llama-server.prom"));
        let page = parse(llama).unwrap();
        assert_eq!(page.families.len(), 15);
        assert_eq!(page.sum("llamacpp:tokens_predicted_total"), Some(544.0));
    }
}
