//! Opening a connection's socket as ureq's TCP step does (its code is private to ureq, so it is
//! repeated here): the connect timeout is shared over the resolved addresses, halving from one to
//! the next so that the shares add up to the whole (at least 10 ms each); an address-specific
//! failure (refused, unreachable) moves on to the next address, another failure ends the attempt;
//! no-delay as the agent is configured. It knows nothing of what the socket will carry.
//!
//! `preconnect` opens a worker's first connection before the run's clock starts, for the
//! transport to keep until its first request (see `transport::preconnect`).

use std::io;
use std::net::{SocketAddr, TcpStream};
use ureq::Timeout;
use ureq::unversioned::transport::time::{Duration, Instant};
use ureq::unversioned::transport::{ConnectionDetails, NextTimeout};

/// The shortest share of the connect timeout an address gets.
const MIN_PER_ADDRESS: std::time::Duration = std::time::Duration::from_millis(10);

/// A connection to the first of `addrs` that answers within `timeout`; `no_delay` as the agents
/// are configured.
pub(super) fn preconnect(
    addrs: &[SocketAddr],
    timeout: std::time::Duration,
    no_delay: bool,
) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::AddrNotAvailable, "the host resolved to no address");
    for &addr in addrs {
        match open_one(addr, Some(timeout), no_delay) {
            Ok(stream) => return Ok(stream),
            Err(ureq::Error::Io(e)) => last = e,
            Err(e) => last = io::Error::other(e.to_string()),
        }
    }
    Err(last)
}

/// A connected socket to the first of the resolved addresses that answers.
pub(super) fn open(details: &ConnectionDetails) -> Result<TcpStream, ureq::Error> {
    let addrs = &details.addrs;
    // The shares 1, 1/2, 1/4… of the whole, scaled to sum to exactly it.
    let total_weight = 2.0 * (1.0 - 0.5_f64.powi(addrs.len() as i32));
    let mut weight = 1.0_f64;
    let mut last_err = None;
    for addr in addrs {
        let share = details.timeout.not_zero().map(|t| {
            let ms = (t.as_secs_f64() * weight / total_weight * 1000.0) as u64;
            std::time::Duration::from_millis(ms).max(MIN_PER_ADDRESS)
        });
        match open_one(*addr, share, details.config.no_delay()) {
            Ok(stream) => return Ok(stream),
            Err(ureq::Error::Io(e)) if address_specific(&e) => {
                last_err = Some(ureq::Error::Io(e));
                continue;
            }
            Err(e @ ureq::Error::Timeout(_)) => {
                if time_left(details).after.is_zero() {
                    return Err(ureq::Error::Timeout(details.timeout.reason));
                }
                last_err = Some(e);
            }
            Err(e) => return Err(e),
        }
        weight /= 2.0;
    }
    Err(last_err
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::ConnectionRefused, "Connection refused").into()))
}

fn open_one(
    addr: SocketAddr,
    timeout: Option<std::time::Duration>,
    no_delay: bool,
) -> Result<TcpStream, ureq::Error> {
    let stream = match timeout {
        Some(t) => TcpStream::connect_timeout(&addr, t),
        None => TcpStream::connect(addr),
    };
    let stream = match stream {
        Ok(s) => s,
        Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
            return Err(ureq::Error::Timeout(Timeout::Connect));
        }
        Err(e) => return Err(e.into()),
    };
    if no_delay {
        stream.set_nodelay(true)?;
    }
    Ok(stream)
}

/// Whether a failed connect concerns only the address tried, so that the next one may still
/// answer: it refused, or the local network stack has no route for its family (an IPv6 address
/// first on a host without IPv6).
fn address_specific(e: &io::Error) -> bool {
    use io::ErrorKind as K;
    matches!(
        e.kind(),
        K::ConnectionRefused
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::NetworkDown
            | K::AddrNotAvailable
    )
}

/// What is left of the connect timeout: it counts from the start of the connection, so each
/// later step (TCP to another address, a TLS handshake) gets what the earlier ones left of it.
pub fn time_left(details: &ConnectionDetails) -> NextTimeout {
    let mut timeout = details.timeout;
    if let (Duration::Exact(limit), Instant::Exact(start), Instant::Exact(now)) =
        (timeout.after, details.now, (details.current_time)())
    {
        timeout.after = Duration::Exact(limit.saturating_sub(now.saturating_duration_since(start)));
    }
    timeout
}
