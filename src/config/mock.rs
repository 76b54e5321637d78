//! `mock`'s and `demo`'s plans: the embedded mock's settings from their flags (durations,
//! faults, the replayed body, the stall), and for `demo` the run it makes against the mock.

use super::{duration, lang};
use crate::cli::{DemoArgs, MockArgs, RunArgs};
use crate::error::Error;
use crate::lang::Lang;
use crate::mock::{self, MockConfig};
use crate::protocol::Api;
use crate::util::files::{self, cap};
use std::net::SocketAddr;

/// A validated `llmload mock`.
pub struct MockPlan {
    pub addr: SocketAddr,
    pub mock: MockConfig,
    /// `--replay`'s file, for the banner.
    pub replay: Option<String>,
}

impl MockPlan {
    pub fn from_args(a: &MockArgs) -> Result<MockPlan, Error> {
        if !(0.0..=1.0).contains(&a.jitter) {
            return Err(Error::flag(
                "--jitter",
                a.jitter.to_string(),
                "give a fraction from 0 to 1 (0.1 = ±10%)",
            ));
        }
        if !(0.0..=1.0).contains(&a.eos_share) {
            return Err(Error::flag(
                "--eos-share",
                a.eos_share.to_string(),
                "give a fraction from 0 to 1 (0.25 = every 4th answer ends early)",
            ));
        }
        if !(0.0..=1.0).contains(&a.wrong_share) {
            return Err(Error::flag(
                "--wrong-share",
                a.wrong_share.to_string(),
                "give a fraction from 0 to 1 (0.25 = every 4th answer is wrong)",
            ));
        }
        let mock = MockConfig {
            ttft: duration("--ttft", &a.ttft)?,
            itl: duration("--itl", &a.itl)?,
            tokens: a.tokens,
            eos_share: a.eos_share,
            wrong_share: a.wrong_share,
            keep_bodies: 0,
            jitter: a.jitter,
            lang: a.lang.parse().map_err(|fix: String| Error::flag("--lang", &a.lang, fix))?,
            faults: a
                .fault
                .iter()
                .map(|f| f.parse().map_err(|fix: String| Error::flag("--fault", f, fix)))
                .collect::<Result<_, _>>()?,
            fault_delay: a
                .fault_delay
                .as_deref()
                .map(|d| duration("--fault-delay", d))
                .transpose()?
                .unwrap_or(mock::DEFAULT_FAULT_DELAY),
            replay: replay(a)?,
            slots: match a.slots {
                Some(0) => {
                    return Err(Error::flag("--slots", "0", "must be at least 1 (omit it for no limit)"));
                }
                n => n,
            },
            stall: stall(a)?,
            close_after_response: a.close_after_response,
            keep_decoding: a.keep_decoding,
        };
        let addr: SocketAddr = format!("{}:{}", a.host, a.port)
            .parse()
            .or_else(|_| format!("[{}]:{}", a.host, a.port).parse())
            .map_err(|_| Error::flag("--host", &a.host, "give an IP address such as 127.0.0.1 or ::1"))?;
        Ok(MockPlan { addr, mock, replay: a.replay.clone() })
    }
}

/// `--replay FILE` and `--replay-split`, read and checked before the mock starts.
fn replay(a: &MockArgs) -> Result<Option<mock::Replay>, Error> {
    let split = match &a.replay_split {
        None => mock::Split::Offsets,
        Some(_) if a.replay.is_none() => {
            return Err(Error::Usage("--replay-split only applies to --replay FILE: add --replay".into()));
        }
        Some(s) => s.parse().map_err(|fix: String| Error::flag("--replay-split", s, fix))?,
    };
    a.replay
        .as_ref()
        .map(|path| {
            let body = files::read("--replay", path, cap::REPLAY)?;
            mock::Replay::new(body, split).map_err(|e| Error::file("--replay", path, e))
        })
        .transpose()
}

/// `--stall-at` and `--stall-for`, which come together.
fn stall(a: &MockArgs) -> Result<Option<(std::time::Duration, std::time::Duration)>, Error> {
    match (&a.stall_at, &a.stall_for) {
        (None, None) => Ok(None),
        (Some(at), Some(length)) => Ok(Some((duration("--stall-at", at)?, duration("--stall-for", length)?))),
        _ => Err(Error::Usage(
            "give --stall-at and --stall-for together: when the pause starts, and how long it lasts (--stall-at 5s --stall-for 2s)".into(),
        )),
    }
}

/// A validated `llmload demo`: the mock it starts and the run it makes against it.
pub struct DemoPlan {
    pub lang: Lang,
    pub api: Api,
    pub mock: MockConfig,
    /// The run, all but its `--url` (the mock's, known once it listens); `run` checks it.
    run: RunArgs,
}

impl DemoPlan {
    pub fn from_args(a: &DemoArgs) -> Result<DemoPlan, Error> {
        let lang = lang(a.lang.as_deref())?;
        let api: Api = match &a.api {
            None => Api::DifyChat,
            Some(s) => s.parse().map_err(|fix| Error::flag("--api", s, fix))?,
        };
        if api == Api::Custom {
            return Err(Error::flag(
                "--api",
                "custom",
                "demo speaks every API but custom, which needs your body template: run `llmload mock` and point `llmload run --api custom --body-template …` at it",
            ));
        }
        let mock = MockConfig {
            ttft: duration("--ttft", &a.ttft)?,
            itl: duration("--itl", &a.itl)?,
            tokens: a.tokens,
            ..MockConfig::default()
        };
        let run = RunArgs {
            api: Some(api.name().into()),
            model: Some("mock".into()),
            concurrency: Some(a.concurrency),
            ramp_up: Some("2s".into()),
            duration: Some(a.duration.clone()),
            json: a.json.clone(),
            records: a.records.clone(),
            html: a.html.clone(),
            out_dir: a.out_dir.clone(),
            quiet: a.quiet,
            lang: a.lang.clone(),
            // The mock is ours and up; its record must hold only the run's requests to compare.
            no_preflight: true,
            ..RunArgs::default()
        };
        Ok(DemoPlan { lang, api, mock, run })
    }

    /// The run against the mock listening at `url`.
    pub fn run_args(&self, url: String) -> RunArgs {
        RunArgs { url: Some(url), ..self.run.clone() }
    }
}
