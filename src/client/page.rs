//! A plain GET of a small text page off the measured path: a server's Prometheus `/metrics`.
//! Its own agent on ureq's own connector (no kernel stamps, out of reach of the run's cut), its
//! own timeout and the run's TLS settings; nothing here is timed or counted as a request of the
//! run.

use super::{agent::INPUT_BUFFER, settings::Tls, tls};
use std::time::Duration;

/// The largest page read: vLLM's is about 60 KB with one model; a page this large is a wrong URL.
const MAX_PAGE: u64 = 16 * 1024 * 1024;

/// Reads pages with one keep-alive connection a host.
pub struct PageReader {
    agent: ureq::Agent,
}

impl PageReader {
    /// A reader whose every GET ends within `timeout`, connect to last byte.
    pub fn new(tls: &Tls, timeout: Duration) -> PageReader {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls::config(tls))
            .timeout_global(Some(timeout))
            .max_response_header_size(INPUT_BUFFER)
            .user_agent(concat!("llmload/", env!("CARGO_PKG_VERSION")))
            .build();
        // ureq's own connector, not the run's: the run's cut at its end shuts every connection
        // the stamped transport made, and the last scrape comes after it.
        PageReader { agent: ureq::Agent::new_with_config(config) }
    }

    /// The page at `url`, or why not, in a short sentence (the status, the transport error,
    /// a body that is too large or not UTF-8).
    pub fn get(&self, url: &str) -> Result<String, String> {
        let mut response = self.agent.get(url).call().map_err(|e| e.to_string())?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP {}", status.as_u16()));
        }
        response.body_mut().with_config().limit(MAX_PAGE).read_to_string().map_err(|e| e.to_string())
    }
}
