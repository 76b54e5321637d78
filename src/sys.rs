//! The few facts about the process that std does not expose: the open-file limit, CPU time and
//! peak memory. Linux and other Unix only, through libc.

/// Descriptors beyond one per worker: the reporter's files, stdio, the pool's spares.
const SPARE_FILES: u64 = 64;

/// Raises the soft open-file limit toward what `workers` connections need; says so when the
/// hard limit is too low (each worker holds one socket).
pub fn raise_open_file_limit(workers: usize) -> Option<String> {
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
    (lim.rlim_cur < need).then(|| {
        format!(
            "the open-file limit is {} but {workers} workers need about {need}: raise it (`ulimit -n {need}`) or lower --concurrency",
            lim.rlim_cur
        )
    })
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
