//! Gives memory pages the process touched and no longer uses back to the kernel, which maps
//! zeroed pages again if they are written: at 10,000 streams each page a stream keeps is 40 MB.
//! Two kinds: a thread's stack below its current frame (a worker's stack is touched deepest
//! while ureq sends a request, its `run` alone a 9 KiB frame, and much less while the answer
//! streams in; glibc does the same to a finished thread's cached stack), and a zeroed buffer
//! of which little will be written (calloc zero-fills by writing memory it had used before).
//! Linux only; elsewhere no-ops.

/// The kernel's page size (4 KiB on x86-64, up to 64 KiB on some ARM kernels): `madvise` works
/// in whole pages, and rounds a length up to one, so every address and length here is aligned
/// to it and never reaches past what is given back.
#[cfg(target_os = "linux")]
fn page() -> usize {
    static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    // SAFETY: sysconf reads a constant of the system.
    *PAGE.get_or_init(|| usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(0).max(4096))
}

/// Releases the calling thread's stack below its current frame, less a page left for the calls
/// that follow (madvise's own frame is a few words): those bytes
/// are dead, and the kernel maps zeroed pages back if a later call goes that deep again. One
/// `madvise` a call; the thread's stack bounds are looked up once.
#[inline(never)]
pub fn release_stack_below() {
    #[cfg(target_os = "linux")]
    {
        let Some(low) = LOW_END.with(|l| *l.get_or_init(low_end)) else { return };
        let here = std::hint::black_box(0u8);
        let page = page();
        let top = (std::ptr::addr_of!(here) as usize).saturating_sub(page) & !(page - 1);
        if top > low {
            // SAFETY: [low, top) is this thread's own stack below its current frame less a
            // margin: nothing live is there, and MADV_DONTNEED on private anonymous memory
            // reads back as zeroes. A failure (a hole in the range) changes nothing.
            unsafe { libc::madvise(low as *mut libc::c_void, top - low, libc::MADV_DONTNEED) };
        }
    }
}

/// Gives back the whole pages inside `buf`, which must hold only zeroes: they read back as
/// zeroes, and cost no memory until written. For buffers the allocator may have zero-filled by
/// writing (calloc does, for memory it had used before), of which little is ever written.
pub fn release_zeroed(buf: &mut [u8]) {
    #[cfg(target_os = "linux")]
    {
        let page = page();
        let start = (buf.as_mut_ptr() as usize).next_multiple_of(page);
        let end = (buf.as_mut_ptr() as usize + buf.len()) & !(page - 1);
        if end > start {
            // SAFETY: [start, end) lies inside `buf`, which we borrow mutably and which holds
            // zeroes; MADV_DONTNEED on private anonymous memory makes it read back as zeroes.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buf;
}

#[cfg(target_os = "linux")]
thread_local! {
    /// The lowest usable address of this thread's stack, once looked up (`None`: unknown).
    static LOW_END: std::cell::OnceCell<Option<usize>> = const { std::cell::OnceCell::new() };
}

/// The lowest usable address of the calling thread's stack (above its guard page).
#[cfg(target_os = "linux")]
fn low_end() -> Option<usize> {
    // SAFETY: pthread_getattr_np fills the attribute object we pass and it is destroyed after
    // pthread_attr_getstack read the stack's bounds from it.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let (mut addr, mut size) = (std::ptr::null_mut(), 0usize);
        let found = libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        (found && !addr.is_null()).then_some(addr as usize)
    }
}

/// How many of the pages in [start, end) are in memory (`mincore`): for tests of the above.
#[cfg(all(test, target_os = "linux"))]
pub fn resident(start: usize, end: usize) -> usize {
    let page = page();
    let (start, end) = (start & !(page - 1), end.next_multiple_of(page));
    let mut flags = vec![0u8; (end - start) / page];
    // SAFETY: mincore writes one byte a page of the range into `flags`, sized to match.
    let ok = unsafe { libc::mincore(start as *mut libc::c_void, end - start, flags.as_mut_ptr()) };
    assert_eq!(ok, 0, "mincore: {}", std::io::Error::last_os_error());
    flags.iter().filter(|&&f| f & 1 == 1).count()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Touches `kib` KiB of stack below the caller, and returns a value that depends on it.
    #[inline(never)]
    fn deep(kib: usize) -> u64 {
        let mut block = [0u8; 1024];
        std::hint::black_box(&mut block);
        if kib > 1 { deep(kib - 1) + u64::from(block[0]) + 1 } else { 1 }
    }

    #[test]
    fn a_released_buffer_leaves_memory_reads_as_zeroes_and_takes_writes() {
        let page = page();
        let mut buf = vec![0u8; 8 * page];
        buf.iter_mut().for_each(|b| *b = std::hint::black_box(0));
        let (start, end) = (buf.as_ptr() as usize, buf.as_ptr() as usize + buf.len());
        assert!(resident(start, end) >= 8, "written, so in memory");
        release_zeroed(&mut buf);
        assert!(resident(start, end) <= 2, "only the partial pages at the ends stay");
        assert!(buf.iter().all(|&b| b == 0));
        buf[3 * page] = 7;
        assert_eq!(buf.iter().map(|&b| u64::from(b)).sum::<u64>(), 7);
    }

    #[test]
    fn a_threads_stack_below_its_frame_leaves_memory_and_works_when_used_again() {
        let page = page();
        let kib = 16 * page / 1024; // 16 pages deep
        let released = std::thread::Builder::new()
            .stack_size(64 * page)
            .spawn(move || {
                let low = LOW_END.with(|l| *l.get_or_init(low_end)).expect("a spawned thread's bounds");
                let here = std::hint::black_box(0u8);
                let below = (std::ptr::addr_of!(here) as usize - 2 * page) & !(page - 1);
                let window = below - 12 * page;
                assert_eq!(deep(kib), kib as u64);
                let touched = resident(window, below);
                release_stack_below();
                let left = resident(window, below);
                assert_eq!(deep(kib), kib as u64, "the released pages come back zeroed and usable");
                release_stack_below();
                assert!(low < window);
                (touched, left)
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(released.0, 12, "16 pages deep touched the 12 pages below: {released:?}");
        assert_eq!(released.1, 0, "and they were given back: {released:?}");
    }
}
