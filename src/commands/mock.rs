//! `llmload mock`: the embedded mock LLM server, served until the process is stopped.

use super::print_out;
use crate::cli::MockArgs;
use crate::config::duration;
use crate::error::Error;
use crate::files::{self, cap};
use crate::mock::{self, MockConfig};
use std::net::SocketAddr;

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

/// `llmload mock`: serves until the process is stopped (Ctrl-C).
pub fn serve_mock(a: &MockArgs) -> Result<u8, Error> {
    if !(0.0..=1.0).contains(&a.jitter) {
        return Err(Error::flag(
            "--jitter",
            a.jitter.to_string(),
            "give a fraction from 0 to 1 (0.1 = ±10%)",
        ));
    }
    let config = MockConfig {
        ttft: duration("--ttft", &a.ttft)?,
        itl: duration("--itl", &a.itl)?,
        tokens: a.tokens,
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
            Some(0) => return Err(Error::flag("--slots", "0", "must be at least 1 (omit it for no limit)")),
            n => n,
        },
        stall: stall(a)?,
        close_after_response: a.close_after_response,
    };
    let addr: SocketAddr = format!("{}:{}", a.host, a.port)
        .parse()
        .or_else(|_| format!("[{}]:{}", a.host, a.port).parse())
        .map_err(|_| Error::flag("--host", &a.host, "give an IP address such as 127.0.0.1 or ::1"))?;
    let server = mock::start(addr, config).map_err(|e| {
        Error::Mock(format!("cannot listen on {addr}: {e} (pick another --port, or 0 for a free one)"))
    })?;
    let url = format!("http://{}", server.addr());
    print_out(&format!(
        "llmload mock listening on {url}\n  Dify:      POST {url}/v1/chat-messages, /v1/completion-messages, /v1/workflows/run\n  OpenAI:    POST {url}/v1/chat/completions, /v1/completions\n  Anthropic: POST {url}/v1/messages\n  truth:     GET  {url}/mock/stats\n{}Ctrl-C to stop.\n",
        a.replay.as_ref().map_or(String::new(), |f| format!("  replaying {f} to every POST\n"))
    ));
    loop {
        std::thread::park();
    }
}
