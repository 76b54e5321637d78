//! The socket under every connection, and when its bytes arrived. This is ureq's TCP step
//! (`TcpConnector`, `TcpTransport`) made ours for two things ureq cannot tell us: each read
//! also says when the kernel received the bytes it returned (`recv`: one `recvmsg` on Linux,
//! as ureq's one `recv`), and each write notes when it completed. Both are kept in
//! thread-locals of the thread doing the I/O, which is the worker that owns the request (each
//! worker reads its own connection), for `attempt` and `read_loop` to take after ureq returns:
//! no lock, no channel, no extra syscall per read.
//!
//! Everything else is what ureq's step does: the connect budget shared over the resolved
//! addresses and no-delay (`connect`), the per-read and per-write timeouts ureq passes, each a
//! `setsockopt` only when it changes, reads retried after EINTR within what is left of the
//! limit, the agent's buffer sizes, and the shutdown handle through which the timer interrupts
//! a blocked read. CONNECT proxies and TLS are the steps around it in the chain (`tls`). It does
//! not decide what a stamp means for a metric (`measure` does).

mod connect;
mod recv;

pub(super) use connect::time_left;

use std::cell::Cell;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Weak};
use std::time::Instant;
use ureq::unversioned::transport::time::Duration;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, ShutdownHandle, Transport,
};

thread_local! {
    /// When the kernel received the bytes of this thread's last socket read; `None` when it
    /// gave no stamp.
    static ARRIVED: Cell<Option<Instant>> = const { Cell::new(None) };
    /// When this thread's last socket write completed.
    static WRITTEN: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Forgets this thread's last read and write, so that what `arrived` and `written` say next
/// belongs to the request about to be sent.
pub(super) fn forget() {
    ARRIVED.set(None);
    WRITTEN.set(None);
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
        let stream = connect::open(details)?;
        recv::enable_stamps(&stream);
        let buffers =
            LazyBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size());
        let transport =
            StampedTcp { stream: Arc::new(Socket(stream)), buffers, timeout_read: None, timeout_write: None };
        (details.register_shutdown)(Arc::downgrade(&transport.stream) as Weak<dyn ShutdownHandle>)?;
        Ok(Some(Either::B(transport)))
    }
}

/// The connection's socket, as the agent's shutdown handle sees it.
pub(super) struct Socket(TcpStream);

impl std::ops::Deref for Socket {
    type Target = TcpStream;

    fn deref(&self) -> &TcpStream {
        &self.0
    }
}

impl ShutdownHandle for Socket {
    /// Shuts down the read side only: it wakes a blocked read at once (with the end of the
    /// stream) and sends nothing, where a full shutdown sends a FIN on every socket from the
    /// one thread that stops the run: measured at 10,000 streams, 0.3 s against 0.6–5.9 s. The
    /// FIN goes when each worker drops its connection. A write blocked on a full send buffer is
    /// not woken; requests are small, and the write timeout still bounds it.
    fn shutdown(&self) {
        let _ = self.0.shutdown(std::net::Shutdown::Read);
    }
}

/// A TCP connection whose reads are stamped by the kernel.
pub(super) struct StampedTcp {
    /// In an `Arc` so that the agent's shutdown handle shares it (weakly) and can shut the
    /// socket down mid-read; all I/O goes through `&TcpStream`.
    stream: Arc<Socket>,
    buffers: LazyBuffers,
    /// The timeouts last set on the socket, so that an unchanged one costs no syscall.
    timeout_read: Option<Duration>,
    timeout_write: Option<Duration>,
}

impl Transport for StampedTcp {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = checked(timeout.for_write())?;
        let stream: &TcpStream = &self.stream;
        update_timeout(timeout.not_zero(), &mut self.timeout_write, |t| stream.set_write_timeout(t))?;
        let mut writer = stream;
        writer.write_all(&self.buffers.output()[..amount]).map_err(|e| io_error(e, timeout))?;
        WRITTEN.set(Some(Instant::now()));
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = checked(timeout.for_read())?;
        let stream: &TcpStream = &self.stream;
        let limit = timeout.not_zero();
        update_timeout(limit, &mut self.timeout_read, |t| stream.set_read_timeout(t))?;
        let input = self.buffers.input_append_buf();
        let started = Instant::now();
        let (amount, arrived) = loop {
            match recv::receive(stream, input) {
                // Linux does not restart a socket read under SO_RCVTIMEO, even with SA_RESTART:
                // retry with what is left of the limit. Without a limit, the handler that
                // interrupted the read asked for it.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    let Some(limit) = limit else { return Err(e.into()) };
                    let left = limit.saturating_sub(started.elapsed());
                    if left.is_zero() {
                        return Err(ureq::Error::Timeout(timeout.reason));
                    }
                    update_timeout(Some(left.into()), &mut self.timeout_read, |t| {
                        stream.set_read_timeout(t)
                    })?;
                }
                result => break result.map_err(|e| io_error(e, timeout))?,
            }
        };
        if amount > 0 {
            ARRIVED.set(arrived);
        }
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        probe(&self.stream.0).unwrap_or(false)
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

/// An I/O error as ureq's step reports it: a socket timeout (`WouldBlock` on Unix) is a ureq
/// timeout with the limit's reason.
fn io_error(e: io::Error, timeout: NextTimeout) -> ureq::Error {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ureq::Error::Timeout(timeout.reason),
        _ => e.into(),
    }
}

/// Sets a socket timeout when it differs from the one last set. macOS can refuse the change
/// after the peer closed with unread request data while the response is still readable: the
/// I/O then reports the outcome, and the cache keeps the old value.
fn update_timeout(
    wanted: Option<Duration>,
    last: &mut Option<Duration>,
    set: impl FnOnce(Option<std::time::Duration>) -> io::Result<()>,
) -> io::Result<()> {
    if wanted == *last {
        return Ok(());
    }
    match set(wanted.map(|t| *t)) {
        Ok(()) => *last = wanted,
        Err(e) if cfg!(target_os = "macos") && e.kind() == io::ErrorKind::InvalidInput => {}
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Whether a pooled connection can carry another request: nothing to read yet (bytes the
/// server sent unasked, or a close, make it unusable).
fn probe(mut stream: &TcpStream) -> io::Result<bool> {
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
    use std::net::TcpListener;
    use ureq::Timeout;

    /// A transport on one end of a loopback connection, and the other end.
    fn pair() -> (StampedTcp, TcpStream) {
        recv::switch_on();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        recv::enable_stamps(&stream);
        let (server, _) = listener.accept().unwrap();
        let buffers = LazyBuffers::new(64, 64);
        (
            StampedTcp { stream: Arc::new(Socket(stream)), buffers, timeout_read: None, timeout_write: None },
            server,
        )
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
    fn timeouts_are_ureqs_with_their_reasons() {
        let (mut t, _server) = pair();
        let spent =
            NextTimeout { after: Duration::Exact(std::time::Duration::ZERO), ..NextTimeout::default() };
        assert!(matches!(t.await_input(spent), Err(ureq::Error::Timeout(Timeout::Global))));
        assert_eq!(t.timeout_read, None, "a spent timeout fails before any syscall");
        let per_read = Some(Duration::Exact(std::time::Duration::from_millis(20)));
        let idle = NextTimeout { per_read, ..NextTimeout::default() };
        assert!(matches!(t.await_input(idle), Err(ureq::Error::Timeout(Timeout::PerRead))));
        assert_eq!(t.timeout_read, per_read, "set once, and kept for the next read");
    }

    #[test]
    fn a_timeout_is_set_only_when_it_changes_and_a_refusal_keeps_the_last() {
        let five = Some(Duration::Exact(std::time::Duration::from_secs(5)));
        let (mut last, mut calls) = (None, Vec::new());
        let mut set = |t| {
            calls.push(t);
            Ok(())
        };
        update_timeout(five, &mut last, &mut set).unwrap();
        update_timeout(five, &mut last, &mut set).unwrap();
        assert_eq!((last, calls), (five, vec![Some(std::time::Duration::from_secs(5))]));
        let refused = update_timeout(None, &mut last, |_| Err(io::ErrorKind::PermissionDenied.into()));
        assert_eq!((refused.unwrap_err().kind(), last), (io::ErrorKind::PermissionDenied, five));
    }
}
