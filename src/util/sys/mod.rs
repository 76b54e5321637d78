//! The few facts about the process that std does not expose: the open-file limit, CPU time and
//! peak memory, the CPUs it may run on and its cgroup's CPU quota and throttling (`cgroup`), how
//! busy the machine is with other work (`machine`), a thread's own scheduling priority, memory
//! pages given back to the kernel (`pages`), a latch that wakes many threads at once (`latch`),
//! a malloc arena per worker, and signals. Linux and other Unix only, through libc. It reads;
//! judging what the numbers mean is the verdict's (`summary::verdict`).

pub mod cgroup;
pub mod latch;
pub mod machine;
pub mod pages;

/// Whether stderr is a terminal: the one place llmload asks. Only a terminal gets what is
/// redrawn in place (the `-n` progress line, `\r`); nothing llmload prints is coloured, so
/// `NO_COLOR` holds everywhere without a check.
pub fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// Descriptors beyond one per worker: the reporter's files, stdio, the pool's spares.
const SPARE_FILES: u64 = 64;

/// Raises the soft open-file limit toward what `workers` connections need; returns the limit
/// and the need when the hard limit is too low (each worker holds one socket).
pub fn raise_open_file_limit(workers: usize) -> Option<(u64, u64)> {
    let need = workers as u64 + SPARE_FILES;
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur >= need {
            return None;
        }
        let raised = libc::rlimit { rlim_cur: need.min(lim.rlim_max), rlim_max: lim.rlim_max };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
            lim = raised;
        }
    }
    (lim.rlim_cur < need).then_some((lim.rlim_cur, need))
}

/// How much workers lower their own priority: nice +5 gives a thread a CFS weight of 335
/// against 1024 at the nice 0 of the timer, the reporter and the thread that opens the start
/// gate, so each of those gets three times the share of any one worker and preempts the workers
/// soon after it wakes, however many there are. More would put every worker's reads (and so its
/// timestamps) further behind other programs on a busy machine, which nice ranks them against
/// too; it is added to what the process had.
const WORKER_NICE: libc::c_int = 5;

/// Lowers the calling thread's scheduling priority by `WORKER_NICE` (capped at nice 19). On
/// Linux a nice value belongs to each thread, and lowering one's own needs no privilege. A
/// failure is ignored: the thread then keeps the priority it had, as every thread did before.
/// Elsewhere a no-op (there nice is per process).
pub fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid, getpriority and setpriority take and return plain integers. getpriority's
    // -1 may be an error; the setpriority below then fails too, or sets nice 4, both harmless.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        let nice = libc::getpriority(libc::PRIO_PROCESS, tid);
        libc::setpriority(libc::PRIO_PROCESS, tid, (nice + WORKER_NICE).min(19));
    }
}

/// The most malloc arenas `malloc_arenas_for` asks for: each is two memory maps, which count
/// against the kernel's limit on maps per process (65,530 by default) as each thread's stack does.
const MAX_ARENAS: usize = 4096;
/// A run's threads besides its workers (main, reporter, timer, scraper, watchdog, metrics…).
const OTHER_THREADS: usize = 16;

/// Lets glibc's malloc give each of a run's `workers` a heap (arena) of its own, up to
/// `MAX_ARENAS`. By default it makes 8 a core and shares them: 1,000 workers on 2 cores are 60
/// to an arena, and every allocation that misses the thread's cache (any `realloc`, anything
/// over 1 KiB) takes the arena's lock. When the thread holding it is preempted, the others
/// sleep on it: at 1,000 streams those waits held requests back for up to a second and doubled
/// the client's CPU per token. A thread takes its arena at its first allocation, which a
/// worker makes before the start (its connection's buffers). Never fewer than glibc's own
/// number; left alone where `GLIBC_TUNABLES` sets `glibc.malloc.arena_max`; elsewhere a no-op.
pub fn malloc_arenas_for(workers: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("GLIBC_TUNABLES").is_some_and(|t| t.to_string_lossy().contains("arena_max")) {
            return;
        }
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let arenas = (workers + OTHER_THREADS).clamp(8 * cores, MAX_ARENAS.max(8 * cores));
        // SAFETY: mallopt takes two plain integers; M_ARENA_MAX only bounds new arenas.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas as libc::c_int);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = workers;
}

/// Asks the kernel to wake the calling thread's timed sleeps on time: its default slack lets a
/// sleep end up to 50 µs late, to batch wake-ups. For the thread that keeps a schedule. A
/// failure is ignored; elsewhere a no-op.
pub fn tight_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer (nanoseconds) and changes only this thread.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

/// CPU seconds (user + system) this process has used so far, and its peak resident memory in bytes.
pub fn process_usage() -> (f64, u64) {
    // SAFETY: getrusage fills the zeroed struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return (0.0, 0);
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(u.ru_utime) + secs(u.ru_stime), u.ru_maxrss as u64 * 1024)
}

/// The numbers of the CPUs this process may run on (its affinity mask) on Linux; empty (every
/// CPU) elsewhere or when unknown.
pub fn cpu_set() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: as in `cpus`; CPU_ISSET only reads the set, for numbers below its size.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        if unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) } == 0 {
            return (0..libc::CPU_SETSIZE as usize)
                .filter(|&n| unsafe { libc::CPU_ISSET(n, &set) })
                .collect();
        }
    }
    Vec::new()
}

/// The CPUs this process may run on: its affinity mask on Linux (std's count also rounds a
/// cgroup quota down to whole cores, which would turn a quota of 1.5 cores into 1; the quota
/// itself is `cgroup::CpuCgroup::quota_cores`), std's count elsewhere; 1 when unknown.
pub fn cpus() -> usize {
    match cpu_set().len() {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// Ctrl-C and SIGTERM, turned into channel messages by a self-pipe: the handler only writes a
/// byte (async-signal-safe); a named thread reads it. The first signal starts the graceful stop
/// and the second cuts its grace period (both still end in a summary); a third exits at once
/// with 130, for a run that is stuck (every finished request is already flushed to `--records`).
/// A signal the process was started with ignored stays ignored, as shells and most tools leave
/// it: a script's background job (`llmload run … &`) ignores SIGINT so that Ctrl-C at the
/// terminal reaches only the job in the foreground; SIGTERM (`kill %1`) still stops it.
pub mod signals {
    use crossbeam_channel::{Receiver, unbounded};
    use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
    use std::thread::JoinHandle;

    static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
    static SIGNALS: AtomicU32 = AtomicU32::new(0);
    const INTERRUPT: u8 = b'i';
    const QUIT: u8 = b'q';
    /// The signals that stop a run.
    const STOPS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

    extern "C" fn on_signal(_: libc::c_int) {
        if SIGNALS.fetch_add(1, Ordering::SeqCst) >= 2 {
            // SAFETY: _exit is async-signal-safe.
            unsafe { libc::_exit(130) };
        }
        write_byte(INTERRUPT);
    }

    fn write_byte(b: u8) {
        let fd = PIPE_WRITE.load(Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: write(2) on our own pipe is async-signal-safe; the byte outlives the call.
            unsafe { libc::write(fd, (&b as *const u8).cast(), 1) };
        }
    }

    /// Whether `signal` is ignored now (as the process may have been started).
    pub fn ignored(signal: libc::c_int) -> bool {
        // SAFETY: sigaction with no new action only reads the current one into `old`.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        unsafe {
            libc::sigaction(signal, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
        }
    }

    /// Listens for SIGINT/SIGTERM until it is closed (or dropped), which gives each signal back
    /// the action it had.
    pub struct Listener {
        pub interrupts: Receiver<()>,
        thread: Option<JoinHandle<()>>,
        /// The signals it handles (those not ignored when it was installed).
        handled: Vec<libc::c_int>,
    }

    impl Listener {
        /// Installs the handlers, for each stop signal not ignored. `None` if the pipe cannot be
        /// made (then signals keep their action, which still keeps every flushed record).
        pub fn install() -> Option<Listener> {
            let mut fds = [0; 2];
            // SAFETY: pipe fills the two-int array we pass.
            if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
                return None;
            }
            let read_fd = fds[0];
            PIPE_WRITE.store(fds[1], Ordering::SeqCst);
            let (tx, rx) = unbounded();
            let thread = std::thread::Builder::new()
                .name("signals".into())
                .stack_size(64 * 1024)
                .spawn(move || {
                    let mut b = 0u8;
                    // SAFETY: read(2) into a one-byte buffer we own.
                    while unsafe { libc::read(read_fd, (&mut b as *mut u8).cast(), 1) } == 1 && b == INTERRUPT
                    {
                        let _ = tx.send(());
                    }
                })
                .ok()?;
            let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            let handled: Vec<libc::c_int> = STOPS.into_iter().filter(|&s| !ignored(s)).collect();
            for &signal in &handled {
                // SAFETY: installing a handler that only touches atomics and write(2).
                unsafe { libc::signal(signal, handler) };
            }
            Some(Listener { interrupts: rx, thread: Some(thread), handled })
        }

        /// Restores the default handlers and joins the listening thread.
        pub fn close(self) {
            drop(self);
        }
    }

    impl Drop for Listener {
        fn drop(&mut self) {
            for &signal in &self.handled {
                // SAFETY: restoring the default action of a signal that was not ignored.
                unsafe { libc::signal(signal, libc::SIG_DFL) };
            }
            write_byte(QUIT);
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cpus_counted_are_at_least_those_std_counts() {
        // std also rounds a cgroup quota down to whole cores; the affinity mask alone is never
        // fewer.
        let std_count = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(super::cpus() >= std_count, "{} < {std_count}", super::cpus());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_cpu_set_is_the_cpus_counted() {
        assert_eq!(super::cpu_set().len(), super::cpus());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_thread_lowers_its_own_priority_and_no_other() {
        // SAFETY: as in `lower_thread_priority`.
        let nice = || unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let before = nice();
        let lowered = std::thread::spawn(move || {
            super::lower_thread_priority();
            nice()
        });
        assert_eq!(lowered.join().unwrap(), (before + super::WORKER_NICE).min(19));
        assert_eq!(nice(), before);
    }
}
