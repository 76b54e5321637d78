//! The few system calls the mock needs beyond std, through libc (Linux and other Unix): a deep
//! listen backlog, a raised open-file limit, precise timer wake-ups, a write that never blocks and
//! a close that resets.
//!
//! Each is a thin wrapper that says why it exists; none of them decides anything about HTTP,
//! streams or timing.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;

/// The listen backlog asked for; the kernel caps it at `net.core.somaxconn` (4096 on current
/// Linux).
const BACKLOG: libc::c_int = 4096;

/// std listens with a backlog of 128 (Rust 1.95 on Linux; `ss -lnt` shows it): thousands of
/// clients connecting at once overflow it, and each dropped SYN costs its client a 1 s (then
/// 3 s) retransmission wait. Listening again on a listening socket only changes its backlog
/// (Linux and the BSDs). Best effort: on failure the listener keeps working with std's backlog.
pub(super) fn deepen_backlog(listener: &TcpListener) {
    // SAFETY: listen(2) on a descriptor we own; it reads nothing from our memory.
    unsafe { libc::listen(listener.as_raw_fd(), BACKLOG) };
}

/// Raises the soft open-file limit to the hard limit: every connection holds a descriptor, and
/// the usual soft limit of 1024 would refuse clients long before memory or threads run out.
/// Best effort: the mock runs with whatever limit it gets.
pub(super) fn raise_open_file_limit() {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Makes the calling thread's timed waits end within about a microsecond of their deadline
/// rather than up to the default 50 µs timer slack later: a pacer's wake-up is an event's send
/// time. Linux only; elsewhere a no-op.
pub(super) fn precise_timers() {
    #[cfg(target_os = "linux")]
    {
        let slack_ns: libc::c_ulong = 1;
        // SAFETY: PR_SET_TIMERSLACK takes one integer and only changes the calling thread.
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, slack_ns) };
    }
}

/// As in std's own socket writes: a gone client is an `EPIPE` error, never a SIGPIPE.
#[cfg(not(target_vendor = "apple"))]
const NO_SIGPIPE: libc::c_int = libc::MSG_NOSIGNAL;
/// Apple systems lack the flag; Rust programs ignore SIGPIPE there by default.
#[cfg(target_vendor = "apple")]
const NO_SIGPIPE: libc::c_int = 0;

/// One `send` that never blocks, whatever the socket's mode: `WouldBlock` when its buffer is
/// full. Per-call `MSG_DONTWAIT` spares the two mode switches per response that
/// `set_nonblocking` would cost, and the socket never has to be put back.
pub(super) fn send_now(stream: &TcpStream, bytes: &[u8]) -> io::Result<usize> {
    let flags = libc::MSG_DONTWAIT | NO_SIGPIPE;
    // SAFETY: the pointer and length describe `bytes`, which outlives the call; the descriptor
    // stays open while `stream` is borrowed.
    let n = unsafe { libc::send(stream.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), flags) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// Makes the socket's close send a TCP reset instead of a FIN (`SO_LINGER` with a zero timeout):
/// the `reset` fault, as a crashed server or a load balancer dropping a connection looks. std
/// has no stable `set_linger`. The reset goes out when the last handle to the socket drops.
pub(super) fn reset_on_close(stream: &TcpStream) {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: setsockopt reads the struct we pass, whose size we give; the descriptor is open.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
}
