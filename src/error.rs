//! Fatal errors: everything that stops llmload before or outside a run.
//!
//! Each message names the input that was wrong and how to fix it. Per-request failures are not
//! here: a server's misbehaviour is data (`measure::Outcome`), never an `Err` that ends a run.

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
