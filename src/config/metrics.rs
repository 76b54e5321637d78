//! `--metrics-listen ADDR` and `--metrics-linger D`: the address llmload serves its live
//! Prometheus metrics on, bound here, before any request, so an address in use or mistyped is
//! refused in the first millisecond (exit 2). What is served, and the thread that serves it, are
//! `export::prometheus` and the engine's; this file only checks the flags and holds the socket.

use super::duration;
use crate::cli::RunArgs;
use crate::error::Error;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// The bound socket the live metrics are served on, shared by every run of the command (each
/// sweep level serves on the same one).
#[derive(Debug)]
pub struct MetricsEndpoint {
    pub listener: TcpListener,
    /// Where it listens (the port the OS chose for `:0`).
    pub addr: SocketAddr,
    /// How long the run's final numbers stay served after it ends (`--metrics-linger`).
    pub linger: Duration,
}

const FLAG: &str = "--metrics-listen";

/// The endpoint `--metrics-listen` asks for, bound; `None` without the flag.
pub fn setup(a: &RunArgs) -> Result<Option<Arc<MetricsEndpoint>>, Error> {
    let Some(given) = a.metrics_listen.as_deref() else {
        if a.metrics_linger.is_some() {
            return Err(Error::Usage(
                "--metrics-linger keeps the live metrics served after the run: add --metrics-listen ADDR"
                    .into(),
            ));
        }
        return Ok(None);
    };
    let linger = a.metrics_linger.as_deref().map(|d| duration("--metrics-linger", d)).transpose()?;
    // `:9464` is every interface (a pod scraped from outside), as Go servers read it.
    let spelled = if given.starts_with(':') { format!("0.0.0.0{given}") } else { given.to_string() };
    let addrs: Vec<SocketAddr> = match spelled.to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(_) => Vec::new(),
    };
    if addrs.is_empty() {
        return Err(Error::flag(
            FLAG,
            given,
            "give HOST:PORT, e.g. 127.0.0.1:9464 (or :9464 for every interface)",
        ));
    }
    let listener = TcpListener::bind(&addrs[..]).map_err(|e| {
        Error::flag(
            FLAG,
            given,
            format!("cannot listen there ({e}): pick a free port, or stop what holds it"),
        )
    })?;
    let addr =
        listener.local_addr().map_err(|e| Error::flag(FLAG, given, format!("cannot listen there ({e})")))?;
    Ok(Some(Arc::new(MetricsEndpoint { listener, addr, linger: linger.unwrap_or_default() })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen(addr: &str, linger: Option<&str>) -> Result<Option<Arc<MetricsEndpoint>>, Error> {
        setup(&RunArgs {
            metrics_listen: Some(addr.into()),
            metrics_linger: linger.map(String::from),
            ..RunArgs::default()
        })
    }

    #[test]
    fn binds_a_loopback_port_and_keeps_the_linger() {
        let e = listen("127.0.0.1:0", Some("2s")).unwrap().unwrap();
        assert!(e.addr.ip().is_loopback() && e.addr.port() != 0);
        assert_eq!(e.linger, Duration::from_secs(2));
        assert!(setup(&RunArgs::default()).unwrap().is_none());
    }

    #[test]
    fn refuses_a_bad_address_a_port_in_use_and_a_linger_alone() {
        let bad = listen("nowhere", None).unwrap_err().to_string();
        assert_eq!(
            bad,
            "--metrics-listen \"nowhere\" is invalid: give HOST:PORT, e.g. 127.0.0.1:9464 (or :9464 for every interface)"
        );
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = held.local_addr().unwrap().to_string();
        let busy = listen(&addr, None).unwrap_err().to_string();
        assert!(
            busy.starts_with(&format!("--metrics-listen \"{addr}\" is invalid: cannot listen there (")),
            "{busy}"
        );
        assert!(busy.ends_with("pick a free port, or stop what holds it"), "{busy}");
        let alone = setup(&RunArgs { metrics_linger: Some("1s".into()), ..RunArgs::default() });
        assert!(alone.unwrap_err().to_string().contains("add --metrics-listen ADDR"));
        assert!(listen("127.0.0.1:0", Some("soon")).is_err());
    }
}
