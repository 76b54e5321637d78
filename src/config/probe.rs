//! `probe`'s plan: the target checked exactly as `run` checks it (the same flags, one
//! definition), sent once with no retries; or the recorded body `--file` names, read, with the
//! adapter that reads it best when no `--api` is given.

use super::Config;
use crate::cli::{ProbeArgs, RunArgs};
use crate::error::Error;
use crate::protocol::Api;
use crate::util::files::{self, cap};

/// A validated probe.
pub struct ProbePlan {
    /// The run of one request the probe sends (or reads from `recorded`).
    pub config: Config,
    /// `--file` and the body it holds.
    pub recorded: Option<(String, Vec<u8>)>,
    /// The API was chosen by `guess` from the recorded body, not by `--api`.
    pub guessed: bool,
    /// One JSON object per event (`--json`).
    pub json: bool,
}

impl ProbePlan {
    /// `guess` names the adapter that reads a recorded body best.
    pub fn from_args(a: &ProbeArgs, guess: &dyn Fn(&[u8]) -> Api) -> Result<ProbePlan, Error> {
        if a.file.is_some() && (a.url.is_some() || a.host.is_some() || a.port.is_some()) {
            return Err(Error::Usage(
                "give --file (a recorded body) or --url/--host/--port (a live request), not both".into(),
            ));
        }
        let recorded = match &a.file {
            Some(path) => Some((path.clone(), files::read("--file", path, cap::REPLAY)?)),
            None => None,
        };
        let guessed = match (&recorded, a.api.as_deref()) {
            (Some((_, body)), None | Some("auto")) => Some(guess(body)),
            _ => None,
        };
        let mut run = RunArgs::default();
        run.set_target(a.target());
        run.api = guessed.map(|api| api.name().to_string()).or(run.api);
        (run.no_preflight, run.quiet) = (true, true);
        let (mut config, _) = Config::from_args(&run)?;
        (config.client.retries, config.client.workers) = (0, 1);
        Ok(ProbePlan { config, recorded, guessed: guessed.is_some(), json: a.json })
    }
}
