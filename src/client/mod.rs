//! Sends one request and measures it. The client owns the transport and the read loop only:
//! `agent` sets up ureq's agents once per run, `transport` is the socket under it (whose reads the kernel
//! stamps with their bytes' arrival, and which notes whether a request's connection was
//! pooled), `attempt` sends a request, makes the attempts `--retries` allows and sends one again
//! on a fresh connection when its pooled connection turns out closed (a reconnect), `read_loop` feeds the streamed bytes to the SSE parser and the events to
//! the protocol, and `failure` maps every failure to an `Outcome`, with any key a server echoed
//! masked; `preflight` checks the target with one request before the load. It never prints and
//! never panics on what a server sends. Its settings come from `config` as a `ClientSettings`;
//! the client never imports `config`.

mod agent;
mod attempt;
mod failure;
mod page;
mod preflight;
mod read_loop;
mod retry;
mod settings;
pub mod tls;
mod transport;

pub use agent::OUTPUT_BUFFER;
pub use page::PageReader;
pub use preflight::Preflight;
pub use retry::{connect_backoff, connect_failed};
pub use settings::{Cancel, CancelAt, ClientSettings, Timeouts, Tls};

use crate::sse;
use crate::workload::Prompt;

/// Longer `x-request-id` values are cut: a record stays small whatever a server sends.
const MAX_REQUEST_ID: usize = 128;
/// Warnings kept per request; more are counted, not stored (bounded memory).
const MAX_WARNINGS: usize = 8;

/// What one worker asks the client to send: which prompt and key, as whom, in which conversation.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub worker: usize,
    pub prompt_index: usize,
    /// The request's number in the run (prompts handed out before it), which draws its output
    /// length (`ClientSettings::output`).
    pub index: u64,
    pub prompt: &'a Prompt,
    pub key: Option<(usize, &'a str)>,
    pub user: &'a str,
    /// The Dify conversation this request continues (`--turns`).
    pub conversation_id: Option<&'a str>,
    /// 1-based position in the worker's conversation.
    pub turn: u32,
}

/// Sends requests for one run; shared by all workers.
pub struct Client {
    /// One a worker (`agent`).
    agents: Vec<ureq::Agent>,
    settings: ClientSettings,
    /// Header values that may be credentials, masked wherever a server echoes them.
    secret_headers: Vec<String>,
    limits: sse::Limits,
    /// The URL's host resolved once, for every worker's `preconnect` (`None`: it does not
    /// resolve, or a proxy carries the connections).
    warm_addrs: std::sync::OnceLock<Option<Vec<std::net::SocketAddr>>>,
}

impl Client {
    pub fn new(settings: ClientSettings) -> Self {
        let secret_headers = settings
            .headers
            .iter()
            .filter(|(k, _)| crate::workload::is_secret_header(k))
            // `Bearer sk-…`: the token alone is what a server would echo.
            .flat_map(|(_, v)| [v.clone(), v.split_whitespace().last().unwrap_or("").to_string()])
            .collect();
        Self {
            agents: agent::agents(&settings),
            settings,
            secret_headers,
            limits: sse::Limits::default(),
            warm_addrs: std::sync::OnceLock::new(),
        }
    }

    /// The run's cut: every read blocked on one of the client's connections returns at once,
    /// and the agents take no more requests (ureq's own shutdown reaches the connections a
    /// CONNECT proxy's step opened; the transport's table reaches the rest).
    pub fn cut(&self) {
        for agent in &self.agents {
            agent.clone().shutdown();
        }
        transport::cut_all();
    }

    /// Opens the calling worker's first connection now, before the run's clock starts (to the
    /// host resolved once for all workers), so its first request sends at once (the connection is kept in the thread's slot: see
    /// `transport::preconnect`); returns how long the connect took. `None` where there is nothing
    /// to open ahead: a proxy carries the connection (its tunnel is made per request), or the
    /// URL's host does not resolve or does not answer (the first request then says why, as it
    /// would have).
    pub fn preconnect(&self) -> Option<std::time::Duration> {
        let agent = self.agents.first()?;
        let addrs = self.warm_addrs.get_or_init(|| {
            if agent.config().proxy().is_some() {
                return None;
            }
            let uri: ureq::http::Uri = self.settings.url.parse().ok()?;
            let https = uri.scheme_str() == Some("https");
            let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
            let host = uri.host()?.trim_matches(['[', ']']);
            Some(std::net::ToSocketAddrs::to_socket_addrs(&(host, port)).ok()?.collect())
        });
        let started = std::time::Instant::now();
        let timeout = self.settings.timeouts.connect.min(self.settings.timeouts.total);
        let config = agent.config();
        let buffers = (config.input_buffer_size(), config.output_buffer_size());
        transport::preconnect(addrs.as_deref()?, timeout, config.no_delay(), buffers).ok()?;
        Some(started.elapsed())
    }

    fn agent(&self, worker: usize) -> &ureq::Agent {
        &self.agents[worker % self.agents.len()]
    }
}
