//! One socket read that also says when the kernel received the bytes it returned. On Linux it
//! is one `recvmsg` on a socket with `SO_TIMESTAMPNS` set (once, by `enable_stamps`): the kernel
//! stamps each packet as it arrives and hands the stamp of the data a read returns back in an
//! `SCM_TIMESTAMPNS` control message. Elsewhere it is a plain read, without a stamp.
//!
//! The kernel turns its receive stamps on for the whole system when the first socket asks for
//! them, but asynchronously (a deferred work item), and TCP data that arrives before carries no
//! stamp. `switch_on` makes sure they are on before the first connection, and keeps them on.
//!
//! The stamp is `CLOCK_REALTIME`; the run times everything on the monotonic clock (`Instant`).
//! One anchor pair (an `Instant` and the realtime clock, read together once per process) maps a
//! stamp onto `Instant`s by its distance from the anchor. NTP's slewing moves both clocks alike
//! and costs nothing; a step of the realtime clock during a run (set by hand, an NTP step, a leap
//! second) shifts every later stamp by the step, so the read loop never takes a stamp as later
//! than the read that returned it. The anchor reads the monotonic clock first: the moment between
//! the two reads can only make a mapped stamp early, never late.

use std::io;
use std::net::TcpStream;
use std::time::Instant;

/// Asks the kernel to stamp what this socket receives. A refusal leaves reads unstamped: each
/// is then timed when it returns and the run says `clock: "user"`.
#[cfg(target_os = "linux")]
pub(super) fn enable_stamps(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads an int the size we pass from a live local.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

#[cfg(not(target_os = "linux"))]
pub(super) fn enable_stamps(_: &TcpStream) {}

/// Turns the kernel's receive stamps on, once per process: a loopback connection that asks for
/// them, whose first stamped byte shows they are on (within 100 ms; without them reads are timed
/// when they return, and the run says `clock: "user"`), stays open for the rest of the process,
/// so that they stay on while connections come and go.
#[cfg(target_os = "linux")]
pub(super) fn switch_on() {
    use std::io::Write;
    use std::net::{Ipv4Addr, TcpListener};
    static KEEPER: std::sync::OnceLock<Option<TcpStream>> = std::sync::OnceLock::new();
    KEEPER.get_or_init(|| {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).ok()?;
        let keeper = TcpStream::connect(listener.local_addr().ok()?).ok()?;
        enable_stamps(&keeper);
        keeper.set_read_timeout(Some(std::time::Duration::from_secs(1))).ok()?;
        let (mut peer, _) = listener.accept().ok()?;
        for _ in 0..100 {
            peer.write_all(b".").ok()?;
            if receive(&keeper, &mut [0]).ok()?.1.is_some() {
                break;
            }
            // A poll of the kernel's switch, not a deadline: nothing can wake it sooner.
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Some(keeper)
    });
}

#[cfg(not(target_os = "linux"))]
pub(super) fn switch_on() {}

/// Control-message space: one `SCM_TIMESTAMPNS` needs 32 bytes; room for one more the kernel
/// might add. Aligned as `cmsghdr` wants.
#[cfg(target_os = "linux")]
#[repr(C, align(8))]
struct Control([u8; 64]);

/// Reads into `buf`: how many bytes, and when the kernel received them, if it said.
#[cfg(target_os = "linux")]
pub(super) fn receive(stream: &TcpStream, buf: &mut [u8]) -> io::Result<(usize, Option<Instant>)> {
    use std::os::fd::AsRawFd;
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let mut control = Control([0; 64]);
    // SAFETY: an all-zero msghdr is valid (no name, no buffers) before the fields set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<Control>() as _;
    // The system call itself rather than libc's `recvmsg`, which makes every read a thread
    // cancellation point (turning asynchronous cancellation on and off around it: 2 % of the
    // client's CPU at 256 streams); nothing here cancels threads.
    // SAFETY: msg points at `buf` and `control`, both live and as long as the lengths say.
    let n = unsafe { libc::syscall(libc::SYS_recvmsg, stream.as_raw_fd(), &mut msg as *mut libc::msghdr, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((n as usize, stamp(&msg).and_then(|s| on_monotonic(&ANCHOR, s))))
}

#[cfg(not(target_os = "linux"))]
pub(super) fn receive(stream: &TcpStream, buf: &mut [u8]) -> io::Result<(usize, Option<Instant>)> {
    use std::io::Read;
    let mut stream = stream;
    Ok((stream.read(buf)?, None))
}

/// The `SCM_TIMESTAMPNS` stamp among a received message's control messages, as time since the
/// Unix epoch; `None` when there is none, or the kernel had to cut the control data short.
#[cfg(target_os = "linux")]
fn stamp(msg: &libc::msghdr) -> Option<std::time::Duration> {
    if msg.msg_flags & libc::MSG_CTRUNC != 0 {
        return None;
    }
    let want = size_of::<libc::timespec>();
    // SAFETY: the CMSG_* walk stays within msg_control[..msg_controllen], which the kernel
    // filled (or the caller did); the data of a header long enough for a timespec is one.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            let c = &*cmsg;
            if c.cmsg_level == libc::SOL_SOCKET
                && c.cmsg_type == libc::SCM_TIMESTAMPNS
                && c.cmsg_len as usize >= libc::CMSG_LEN(want as u32) as usize
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                let nanos = u32::try_from(ts.tv_nsec).ok().filter(|&n| n < 1_000_000_000)?;
                return Some(std::time::Duration::new(u64::try_from(ts.tv_sec).ok()?, nanos));
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    None
}

/// The monotonic and the realtime clock read together, once per process.
#[cfg(target_os = "linux")]
struct Anchor {
    at: Instant,
    /// The realtime clock at `at`, since the Unix epoch.
    realtime: std::time::Duration,
}

#[cfg(target_os = "linux")]
static ANCHOR: std::sync::LazyLock<Anchor> = std::sync::LazyLock::new(|| Anchor {
    at: Instant::now(),
    realtime: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default(),
});

/// A realtime stamp on the monotonic clock: the anchor's `Instant` moved by the stamp's distance
/// from the anchor's realtime. `None` only beyond what an `Instant` can hold.
#[cfg(target_os = "linux")]
fn on_monotonic(anchor: &Anchor, stamp: std::time::Duration) -> Option<Instant> {
    match stamp.checked_sub(anchor.realtime) {
        Some(after) => anchor.at.checked_add(after),
        None => anchor.at.checked_sub(anchor.realtime - stamp),
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;
    use std::time::Duration;

    #[test]
    fn a_stamp_maps_by_its_distance_from_the_anchor() {
        let at = Instant::now();
        let anchor = Anchor { at, realtime: Duration::new(1_700_000_000, 500) };
        let later = Duration::new(1_700_000_001, 250);
        assert_eq!(on_monotonic(&anchor, later), Some(at + Duration::from_nanos(999_999_750)));
        assert_eq!(on_monotonic(&anchor, anchor.realtime), Some(at));
        let earlier = Duration::new(1_699_999_999, 500);
        assert_eq!(on_monotonic(&anchor, earlier), at.checked_sub(Duration::from_secs(1)));
    }

    /// A control buffer holding the given messages (level, type, data), laid out as the kernel
    /// lays them out, and a msghdr over it.
    fn message(
        control: &mut Control,
        cmsgs: &[(libc::c_int, libc::c_int, &[u8])],
        flags: libc::c_int,
    ) -> libc::msghdr {
        // SAFETY: as in `receive`; the CMSG_* writes stay within `control`, sized by CMSG_SPACE.
        unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_control = control.0.as_mut_ptr().cast();
            msg.msg_controllen =
                cmsgs.iter().map(|c| libc::CMSG_SPACE(c.2.len() as u32) as usize).sum::<usize>() as _;
            msg.msg_flags = flags;
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            for &(level, kind, data) in cmsgs {
                (*cmsg).cmsg_level = level;
                (*cmsg).cmsg_type = kind;
                (*cmsg).cmsg_len = libc::CMSG_LEN(data.len() as u32) as _;
                std::ptr::copy_nonoverlapping(data.as_ptr(), libc::CMSG_DATA(cmsg), data.len());
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
            msg
        }
    }

    fn timespec_bytes(sec: i64, nsec: i64) -> Vec<u8> {
        let ts = libc::timespec { tv_sec: sec as libc::time_t, tv_nsec: nsec as _ };
        // SAFETY: a timespec is plain data.
        unsafe {
            std::slice::from_raw_parts(
                (&ts as *const libc::timespec).cast::<u8>(),
                size_of::<libc::timespec>(),
            )
        }
        .to_vec()
    }

    #[test]
    fn the_timestamp_control_message_is_found_among_others() {
        let ts = timespec_bytes(1_700_000_000, 123_456_789);
        let other = 7u32.to_ne_bytes();
        let mut control = Control([0; 64]);
        let msg = message(&mut control, &[(libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS, &ts)], 0);
        assert_eq!(stamp(&msg), Some(Duration::new(1_700_000_000, 123_456_789)));
        let mut control = Control([0; 64]);
        let msg = message(
            &mut control,
            &[(libc::IPPROTO_IP, libc::IP_TOS, &other), (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS, &ts)],
            0,
        );
        assert_eq!(stamp(&msg), Some(Duration::new(1_700_000_000, 123_456_789)));
    }

    #[test]
    fn no_stamp_when_absent_cut_short_or_out_of_range() {
        let ts = timespec_bytes(1_700_000_000, 1);
        let mut control = Control([0; 64]);
        assert_eq!(stamp(&message(&mut control, &[], 0)), None);
        let mut control = Control([0; 64]);
        let other = message(&mut control, &[(libc::SOL_SOCKET, libc::SCM_TIMESTAMP, &ts)], 0);
        assert_eq!(stamp(&other), None, "a microsecond stamp is not the one asked for");
        let mut control = Control([0; 64]);
        let cut = message(&mut control, &[(libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS, &ts)], libc::MSG_CTRUNC);
        assert_eq!(stamp(&cut), None);
        let bad = timespec_bytes(1_700_000_000, 1_000_000_000);
        let mut control = Control([0; 64]);
        assert_eq!(
            stamp(&message(&mut control, &[(libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS, &bad)], 0)),
            None
        );
        let mut control = Control([0; 64]);
        let short = message(&mut control, &[(libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS, &ts[..8])], 0);
        assert_eq!(stamp(&short), None);
    }

    #[test]
    fn a_loopback_read_comes_with_a_stamp_no_later_than_the_read() {
        switch_on();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        enable_stamps(&client);
        let (mut server, _) = listener.accept().unwrap();
        server.write_all(b"data: hi\n\n").unwrap();
        let mut buf = [0u8; 64];
        let (n, arrived) = receive(&client, &mut buf).unwrap();
        let read_at = Instant::now();
        assert_eq!(&buf[..n], b"data: hi\n\n");
        let arrived = arrived.expect("Linux stamps loopback TCP once switched on");
        assert!(arrived <= read_at, "{arrived:?} after the read at {read_at:?}");
    }
}
