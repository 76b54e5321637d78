//! The socket under every connection, and when its bytes arrived. This is ureq's TCP step
//! (`TcpConnector`, `TcpTransport`) made ours for three things ureq's cannot do: each read
//! also says when the kernel received the bytes it returned (`recv`: one `recvmsg` on Linux,
//! as ureq's one `recv`), each write notes when it completed, and the read and write limits
//! ureq passes are kept by a watchdog thread rather than socket timeouts (`watchdog`: no kernel
//! timer armed per read). The stamps are kept in thread-locals of the thread doing the I/O,
//! which is the worker that owns the request (each worker reads its own connection), for
//! `attempt` and `read_loop` to take after ureq returns: no lock, no channel, no extra syscall
//! per read.
//!
//! Everything else is what ureq's step does: the connect budget shared over the resolved
//! addresses and no-delay (`connect`), reads retried after EINTR and the agent's buffer sizes,
//! and the probe that keeps a closed connection out of the pool (`is_open`). The run's cut wakes
//! every blocked read through the watchdog's table of sockets (`cut_all`), not ureq's shutdown
//! handles. CONNECT proxies and TLS are the steps around it in the chain (`tls`), and the chain's
//! outermost step notes whether a request's connection was pooled and answered (`reuse`). It
//! does not decide what a stamp means for a metric (`measure` does), nor when a request is sent
//! again (`attempt` does).

mod buffers;
mod connect;
mod recv;
mod reuse;
mod watchdog;

pub(super) use buffers::ConnBuffers;
pub(super) use connect::time_left;
pub(super) use reuse::{Tracked, pooled_without_reply};
pub(super) use watchdog::cut_all;

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Instant;
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, Either, NextTimeout, Transport};

thread_local! {
    /// When the kernel received the bytes of this thread's last socket read; `None` when it
    /// gave no stamp.
    static ARRIVED: Cell<Option<Instant>> = const { Cell::new(None) };
    /// When this thread's last socket write completed.
    static WRITTEN: Cell<Option<Instant>> = const { Cell::new(None) };
    /// When this thread's request is abandoned on purpose (`--cancel` with a delay).
    static ABANDON_AT: Cell<Option<Instant>> = const { Cell::new(None) };
    /// This thread's connection made ready ahead of its first request (`preconnect`).
    static WARM: RefCell<Option<StampedTcp>> = const { RefCell::new(None) };
}

/// Opens a connection to the first of `addrs` that answers within `timeout` and makes it ready
/// to carry a request (its stamps on, its buffers allocated, its watchdog slot taken), for this
/// thread's next connect to that address to take instead of connecting, if it is still open.
/// A worker does this before the run's clock starts: a thousand streams that start together
/// then send a thousand requests, with no connect, allocation or `madvise` among them, and the
/// connect time is measured apart (as wrk does). `input_size` and `output_size` are the agents'
/// buffer sizes.
pub(super) fn preconnect(
    addrs: &[SocketAddr],
    timeout: std::time::Duration,
    no_delay: bool,
    (input_size, output_size): (usize, usize),
) -> io::Result<()> {
    let stream = connect::preconnect(addrs, timeout, no_delay)?;
    let mut transport = StampedTcp::new(stream, ConnBuffers::new(input_size, output_size));
    transport.buffers.allocate();
    WARM.set(Some(transport));
    Ok(())
}

/// Abandons this thread's request at `at` (`None`: never): a read still blocked then is woken by
/// the watchdog, which shuts the socket down, and fails; so does any read after it.
pub(super) fn abandon_at(at: Option<Instant>) {
    ABANDON_AT.set(at);
}

/// Whether this thread's request has passed the instant `abandon_at` set.
pub(super) fn abandon_due() -> bool {
    ABANDON_AT.get().is_some_and(|at| Instant::now() >= at)
}

/// Forgets this thread's last read and write and what its connection was, so that what
/// `arrived`, `written` and `pooled_without_reply` say next belongs to the request about to be
/// sent.
pub(super) fn forget() {
    ARRIVED.set(None);
    WRITTEN.set(None);
    reuse::forget();
}

/// The kernel's receive time, on the `Instant` clock, of the bytes this thread's last socket
/// read returned; `None` where the kernel gave none (not Linux, the option refused) or nothing
/// was read since `forget`. A read that ureq serves from its buffer returns bytes of the last
/// socket read, so this is their arrival too.
pub(super) fn arrived() -> Option<Instant> {
    ARRIVED.get()
}

/// When this thread's last socket write since `forget` completed: after ureq sent a request,
/// when its last byte was handed to the kernel.
pub(super) fn written() -> Option<Instant> {
    WRITTEN.get()
}

/// This thread's warm connection (`preconnect`), if it is to one of `addrs` and the server has
/// not closed it while it waited; taken either way.
fn take_warm(addrs: &[SocketAddr]) -> Option<StampedTcp> {
    WARM.take().filter(|w| {
        w.stream.peer_addr().is_ok_and(|peer| addrs.contains(&peer)) && probe(&w.stream).unwrap_or(false)
    })
}

/// Opens the connection's socket, unless an earlier step (a CONNECT proxy's tunnel) already did.
#[derive(Debug)]
pub(super) struct StampedTcpConnector(());

impl StampedTcpConnector {
    /// The connector, once the kernel's timestamps are on (`recv::switch_on`).
    pub(super) fn new() -> Self {
        recv::switch_on();
        Self(())
    }
}

impl<In: Transport> Connector<In> for StampedTcpConnector {
    type Out = Either<In, StampedTcp>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        if chained.is_some() {
            return Ok(chained.map(Either::A));
        }
        let transport = match take_warm(&details.addrs) {
            Some(warm) => warm,
            None => {
                let (input, output) =
                    (details.config.input_buffer_size(), details.config.output_buffer_size());
                StampedTcp::new(connect::open(details)?, ConnBuffers::new(input, output))
            }
        };
        Ok(Some(Either::B(transport)))
    }
}

/// The connection's socket, shared (weakly) with the watchdog.
pub(super) struct Socket {
    stream: TcpStream,
    /// When the I/O blocked on it now must end.
    deadline: watchdog::Deadline,
}

impl std::ops::Deref for Socket {
    type Target = TcpStream;

    fn deref(&self) -> &TcpStream {
        &self.stream
    }
}

/// A TCP connection whose reads are stamped by the kernel.
pub(super) struct StampedTcp {
    /// In an `Arc` so that the watchdog shares it (weakly) and can shut the socket down
    /// mid-read; all I/O goes through `&TcpStream`.
    stream: Arc<Socket>,
    buffers: ConnBuffers,
}

impl StampedTcp {
    /// Kernel stamps on, a watchdog slot taken. Not registered with ureq's shutdown handles:
    /// `cut_all` reaches it.
    fn new(stream: TcpStream, buffers: ConnBuffers) -> Self {
        recv::enable_stamps(&stream);
        let stream = Arc::new_cyclic(|s| Socket { stream, deadline: watchdog::watch(s.clone()) });
        StampedTcp { stream, buffers }
    }
}

impl Transport for StampedTcp {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = checked(timeout.for_write())?;
        let socket = &self.stream;
        socket.deadline.arm(limit(timeout));
        let mut writer: &TcpStream = socket;
        let written = writer.write_all(&self.buffers.output()[..amount]);
        if socket.deadline.disarm() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        written?;
        WRITTEN.set(Some(Instant::now()));
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = checked(timeout.for_read())?;
        let socket = &self.stream;
        let input = self.buffers.input_append_buf();
        if abandon_due() {
            let _ = socket.stream.shutdown(std::net::Shutdown::Both);
            return Err(ureq::Error::Io(io::Error::other("abandoned on purpose (--cancel)")));
        }
        let abandon = ABANDON_AT.get().map(|at| at.saturating_duration_since(Instant::now()));
        let bound = match (limit(timeout), abandon) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        socket.deadline.arm(bound);
        let received = loop {
            match recv::receive(socket, input) {
                // The watchdog still bounds the retry: it fires on the deadline armed above.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => break result,
            }
        };
        if socket.deadline.disarm() {
            if abandon_due() {
                return Err(ureq::Error::Io(io::Error::other("abandoned on purpose (--cancel)")));
            }
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let (amount, arrived) = received?;
        if amount > 0 {
            ARRIVED.set(arrived);
        }
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        probe(&self.stream.stream).unwrap_or(false)
    }
}

impl fmt::Debug for StampedTcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StampedTcp").field("addr", &self.stream.peer_addr().ok()).finish()
    }
}

/// A timeout that has already run out fails before any I/O, with its reason.
fn checked(timeout: NextTimeout) -> Result<NextTimeout, ureq::Error> {
    if timeout.after.is_zero() { Err(ureq::Error::Timeout(timeout.reason)) } else { Ok(timeout) }
}

/// The limit ureq gives the next I/O (a zero one that must happen is one second, as ureq's own
/// step has it); `None`: no limit.
fn limit(timeout: NextTimeout) -> Option<std::time::Duration> {
    timeout.not_zero().map(|t| *t)
}

/// Whether a pooled connection can carry another request: nothing to read yet (bytes the
/// server sent unasked, or a close, make it unusable). ureq asks as a response ends and as the
/// connection leaves the pool, so a server's close that has arrived by then (a FIN after
/// `Connection: keep-alive`, or a reset) keeps the connection from the next request; one that
/// arrives after the request went out is `attempt`'s to handle. On Unix one non-blocking peek,
/// which leaves the socket as it was.
#[cfg(unix)]
fn probe(stream: &TcpStream) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    let mut byte = 0u8;
    // SAFETY: recv writes at most the one byte it is given, into a live local.
    let n = unsafe {
        libc::recv(stream.as_raw_fd(), (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT)
    };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock => Ok(true),
            io::ErrorKind::Interrupted => probe(stream),
            _ => Err(e),
        };
    }
    // 0: the server closed; 1: it sent bytes nobody asked for.
    Ok(false)
}

#[cfg(not(unix))]
fn probe(mut stream: &TcpStream) -> io::Result<bool> {
    use std::io::Read;
    stream.set_nonblocking(true)?;
    match stream.read(&mut [0]) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        _ => return Ok(false),
    }
    stream.set_nonblocking(false)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;
    use ureq::Timeout;

    /// A transport on one end of a loopback connection, and the other end.
    fn pair() -> (StampedTcp, TcpStream) {
        recv::switch_on();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (StampedTcp::new(stream, ConnBuffers::new(64, 64)), server)
    }

    #[test]
    fn a_warm_connection_is_taken_once_by_a_connect_to_its_address_while_the_server_keeps_it() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let other: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let warm = || preconnect(&[addr], std::time::Duration::from_secs(5), true, (64, 32)).unwrap();
        warm();
        let (_server, _) = listener.accept().unwrap();
        let mut taken = take_warm(&[other, addr]).expect("to one of the addresses, still open");
        assert_eq!(taken.buffers().output().len(), 32, "ready with the agents' buffer sizes");
        assert!(take_warm(&[addr]).is_none(), "taken once");
        warm();
        let (_second, _) = listener.accept().unwrap();
        assert!(take_warm(&[other]).is_none(), "to another address: a fresh connection instead");
        assert!(take_warm(&[addr]).is_none(), "and the warm one is gone");
        warm();
        drop(listener.accept().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(take_warm(&[addr]).is_none(), "closed by the server while it waited");
    }

    #[test]
    fn a_write_notes_its_end_and_a_read_its_bytes_arrival_in_the_thread() {
        let (mut t, mut server) = pair();
        forget();
        assert_eq!((arrived(), written()), (None, None));
        t.buffers().output()[..4].copy_from_slice(b"ping");
        t.transmit_output(4, NextTimeout::default()).unwrap();
        assert!(written().is_some());
        server.write_all(b"pong").unwrap();
        assert!(t.await_input(NextTimeout::default()).unwrap());
        assert_eq!(t.buffers().input(), b"pong");
        assert_eq!(arrived().is_some(), cfg!(target_os = "linux"), "the kernel stamps on Linux only");
        assert!(arrived().is_none_or(|a| a <= Instant::now()));
        forget();
        assert_eq!((arrived(), written()), (None, None));
        assert!(t.is_open(), "nothing unread, so the connection can be pooled");
    }

    #[test]
    fn limits_are_kept_by_the_watchdog_and_fail_as_ureqs_timeouts_with_their_reasons() {
        use ureq::unversioned::transport::time::Duration;
        let (mut t, mut server) = pair();
        let spent =
            NextTimeout { after: Duration::Exact(std::time::Duration::ZERO), ..NextTimeout::default() };
        assert!(matches!(t.await_input(spent), Err(ureq::Error::Timeout(Timeout::Global))));
        let per_read = Some(Duration::Exact(std::time::Duration::from_millis(20)));
        let idle = NextTimeout { per_read, ..NextTimeout::default() };
        assert!(matches!(t.await_input(idle), Err(ureq::Error::Timeout(Timeout::PerRead))));
        assert_eq!(t.stream.read_timeout().unwrap(), None, "no socket timeout: no kernel timer per read");
        // The watchdog shut the timed-out socket down: the server sees it close.
        assert_eq!(server.read(&mut [0; 8]).unwrap(), 0);
        // A read that gets its bytes in time is not cut.
        let (mut t, mut server) = pair();
        server.write_all(b"data").unwrap();
        let generous = Some(Duration::Exact(std::time::Duration::from_secs(60)));
        assert!(t.await_input(NextTimeout { per_read: generous, ..NextTimeout::default() }).unwrap());
        assert_eq!(t.buffers().input(), b"data");
        assert!(!t.stream.deadline.disarm(), "the read disarmed its deadline");
    }

    #[test]
    fn a_connection_the_server_closed_or_wrote_to_unasked_is_not_pooled() {
        let (mut t, server) = pair();
        assert!(t.is_open() && t.is_open(), "asking changes nothing");
        drop(server);
        assert!(wait_until(|| !t.is_open()), "a close (FIN) is seen before the next request");
        let (mut t, mut server) = pair();
        server.write_all(b"HTTP/1.1 408").unwrap();
        assert!(wait_until(|| !t.is_open()), "bytes nobody asked for");
        assert!(t.await_input(NextTimeout::default()).unwrap(), "the probe only peeked");
        assert_eq!(t.buffers().input(), b"HTTP/1.1 408");
    }

    /// Whether `done` holds within 200 tries 5 ms apart (loopback delivers in microseconds).
    fn wait_until(mut done: impl FnMut() -> bool) -> bool {
        for _ in 0..200 {
            if done() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        false
    }
}
