//! `llmload mock`: the embedded mock LLM server, served until the process is stopped.

use super::print_out;
use crate::cli::MockArgs;
use crate::config::MockPlan;
use crate::error::Error;
use crate::mock;

/// `llmload mock`: serves until the process is stopped (Ctrl-C).
pub fn serve_mock(a: &MockArgs) -> Result<u8, Error> {
    let MockPlan { addr, mock: config, replay } = MockPlan::from_args(a)?;
    let server = mock::start(addr, config).map_err(|e| {
        Error::Mock(format!("cannot listen on {addr}: {e} (pick another --port, or 0 for a free one)"))
    })?;
    let url = format!("http://{}", server.addr());
    print_out(&format!(
        "llmload mock listening on {url}\n  Dify:      POST {url}/v1/chat-messages, /v1/completion-messages, /v1/workflows/run\n  OpenAI:    POST {url}/v1/chat/completions, /v1/completions\n  Anthropic: POST {url}/v1/messages\n  truth:     GET  {url}/mock/stats, /metrics, /mock/arrivals\n{}Ctrl-C to stop.\n",
        replay.as_ref().map_or(String::new(), |f| format!("  replaying {f} to every POST\n"))
    ));
    loop {
        std::thread::park();
    }
}
