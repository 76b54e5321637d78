//! The ureq agents of a run, one a worker: connection pool, timeouts, TLS, buffer sizes and
//! proxies, set up once per run from the client's settings.

use super::settings::ClientSettings;
use super::tls;

/// Bytes a connection buffers as it reads: the largest response head it accepts.
pub(super) const INPUT_BUFFER: usize = 16 * 1024;
/// Bytes a connection buffers as it writes: the largest request head it can send.
pub const OUTPUT_BUFFER: usize = 8 * 1024;

/// One agent a worker, all sharing one connector chain (so TLS settings are built once): a
/// pooled keep-alive connection for the worker, statuses as data (not errors), TLS as
/// configured, proxies from the environment (ureq reads `ALL_PROXY`, `HTTPS_PROXY`,
/// `HTTP_PROXY` and `NO_PROXY`), and timeouts so that no request can hang a run. Not one agent
/// for all: ureq's pool walks every idle connection it holds, under its one lock, at each
/// request's start and end; shared by 1,024 workers, that walk was 15 % of the client's CPU
/// (`perf`, 1,024 streams).
///
/// ureq passes each read its limit and the transport's watchdog keeps it (no socket timeout).
/// The per-read limit is `--idle-timeout`; the whole-request limit (`--timeout`) is checked by
/// `Client::stream` between reads, and caps the others, so that a silent stream ends as idle
/// and a trickling one as total. ureq's per-read limit also covers the wait for headers, so that
/// wait is bounded by the shorter of `--ttfb-timeout` and `--idle-timeout`.
pub(super) fn agents(settings: &ClientSettings) -> Vec<ureq::Agent> {
    let t = &settings.timeouts;
    let (header_limit, read_limit) = (t.ttfb.min(t.total), t.idle.min(t.total));
    let agent_config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls::config(&settings.tls))
        .timeout_connect(Some(t.connect.min(t.total)))
        // Only when tighter than the per-read limit, which bounds the headers' wait already.
        .timeout_recv_response((header_limit < read_limit).then_some(header_limit))
        .timeout_per_read(Some(read_limit))
        // Every connection's buffers are touched, so their size is most of a stream's memory
        // (ureq's 128 KiB would cost 2.5 GiB at 10,000 workers). SSE events are small; the
        // response head must fit the input buffer, and 16 KiB is twice what an nginx in front
        // of a server passes by default, so the header limit says so clearly at that size.
        .input_buffer_size(INPUT_BUFFER)
        .max_response_header_size(INPUT_BUFFER)
        .output_buffer_size(OUTPUT_BUFFER)
        .max_idle_connections(1)
        .max_idle_connections_per_host(1)
        .user_agent(concat!("llmload/", env!("CARGO_PKG_VERSION")))
        .build();
    tls::agents(agent_config, &settings.tls, settings.workers.max(1))
}
