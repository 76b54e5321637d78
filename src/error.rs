//! Fatal errors: everything that stops llmload before or outside a run.
//!
//! Each message names the input that was wrong and how to fix it. Per-request failures are not
//! here: a server's misbehaviour is data (`measure::Outcome`), never an `Err` that ends a run.
//! `nearest` finds the name a mistyped one meant (an API, a flag), for every "did you mean".

use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// A flag's value is unusable: `flag`, what was given, and what would work.
    Flag { flag: &'static str, value: String, fix: String },
    /// A file named by a flag cannot be used.
    File { flag: &'static str, path: PathBuf, problem: String },
    /// Two flags that cannot go together, or one that is missing.
    Usage(String),
    /// The embedded mock server could not start.
    Mock(String),
    /// The request that checks the target before the load failed as every request would.
    Preflight { url: String, problem: String },
    /// Writing an output failed after the run (the summary was still printed).
    Output { flag: &'static str, path: PathBuf, problem: String },
    /// Ctrl-C or SIGTERM came before the load started (during the preflight request to `url`):
    /// nothing was measured. Exit 130, not 2.
    Interrupted { url: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Flag { flag, value, fix } => write!(f, "{flag} {value:?} is invalid: {fix}"),
            Error::File { flag, path, problem } => {
                write!(f, "{flag} {}: {problem}", path.display())
            }
            Error::Usage(msg) | Error::Mock(msg) => f.write_str(msg),
            Error::Preflight { url, problem } => write!(
                f,
                "preflight request to {url} failed: {problem}; no load was sent beyond this one request (--no-preflight skips the check)"
            ),
            Error::Output { flag, path, problem } => {
                write!(f, "could not write {flag} {}: {problem}", path.display())
            }
            Error::Interrupted { url } => write!(
                f,
                "interrupted during the preflight request to {url}: nothing was measured and no output file was written"
            ),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    pub fn flag(flag: &'static str, value: impl Into<String>, fix: impl Into<String>) -> Self {
        Error::Flag { flag, value: value.into(), fix: fix.into() }
    }

    pub fn file(flag: &'static str, path: impl Into<PathBuf>, problem: impl fmt::Display) -> Self {
        Error::File { flag, path: path.into(), problem: problem.to_string() }
    }
}

/// The name in `names` within two edits of `given`, the closest first (of equals, the first in
/// alphabetical order): what a "did you mean" suggests. The edits may change at most half of
/// `given`, so a short stranger (`foo`) is not taken for a short name (`slo`).
pub fn nearest<'a>(given: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let most = 2.min(given.chars().count() / 2);
    names.into_iter().map(|n| (edit_distance(given, n), n)).filter(|(d, _)| *d <= most).min().map(|(_, n)| n)
}

/// Levenshtein distance in characters: the fewest insertions, deletions and substitutions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(
            (edit_distance("", "ab"), edit_distance("kitten", "sitting"), edit_distance("好", "好")),
            (2, 3, 0)
        );
    }

    #[test]
    fn nearest_takes_the_closest_within_two_edits() {
        let flags = ["concurrency", "rate", "requests", "records", "slo", "port", "url"];
        assert_eq!(nearest("concurency", flags), Some("concurrency"));
        assert_eq!(nearest("record", flags), Some("records"));
        assert_eq!(nearest("rat", flags), Some("rate"));
        assert_eq!(nearest("prot", flags), Some("port"));
        assert_eq!(nearest("ur", flags), Some("url"));
        // Two edits of three letters is another word.
        assert_eq!(nearest("foo", flags), None);
        assert_eq!(nearest("u", flags), None);
        // Two at the same distance: the first in alphabetical order, whatever the list's order.
        assert_eq!(nearest("abc", ["abx", "aba"]), Some("aba"));
    }
}
