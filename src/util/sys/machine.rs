//! How busy the machine was with work other than llmload during a run: the CPU time the CPUs
//! llmload may run on spent outside idle (`/proc/stat`, one line per CPU), less llmload's own,
//! the time a hypervisor gave those CPUs to other guests (steal), and the 1-minute load average
//! (`/proc/loadavg`). A `Snapshot` is taken at the run's start and another at its end; `Load`
//! is the difference. The parsers are pure (`&str` in); where `/proc` is not there (not Linux)
//! or cannot be read, the load is unknown (`None`), never an error. Whether that load is "busy",
//! and what it means for the run, is the verdict's (`summary::verdict`), not this module's.

const PROC_STAT: &str = "/proc/stat";
const LOADAVG: &str = "/proc/loadavg";

/// CPU time of a set of CPUs, in clock ticks (`USER_HZ`) since boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ticks {
    /// Not idle and not stolen: user, nice, system, irq and softirq (guest time is inside
    /// user and nice already).
    pub busy: u64,
    /// Given by the hypervisor to other guests while these CPUs had work (`steal`).
    pub steal: u64,
    /// Everything: busy, idle, iowait and steal.
    pub total: u64,
}

/// The machine at one instant, as a run's start or end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// The CPU time of the CPUs llmload may run on.
    ticks: Ticks,
    /// How many they are.
    cpus: usize,
    /// llmload's own CPU seconds (user and system) by then.
    own_cpu_s: f64,
}

/// The machine's load over a run, from two snapshots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// The CPUs llmload may run on, over which the rest is counted.
    pub cpus: usize,
    /// CPU the other processes on those CPUs used during the run, in cores (CPU seconds over
    /// wall seconds): 1.9 of 2 means other work left the client a tenth of them.
    pub others_cores: f64,
    /// The share of those CPUs' time a hypervisor gave to other guests (0 to 1).
    pub steal: f64,
    /// The 1-minute load average at the run's end: runnable (and uninterruptible) tasks on the
    /// whole machine, llmload's own included; `None` when it cannot be read.
    pub load_1m: Option<f64>,
}

impl Snapshot {
    /// Now, for the CPUs in `cpus` (the affinity mask; empty: every CPU) and llmload's own CPU
    /// seconds `own_cpu_s`; `None` where `/proc/stat` cannot be read or names none of them.
    pub fn now(cpus: &[usize], own_cpu_s: f64) -> Option<Snapshot> {
        let text = std::fs::read_to_string(PROC_STAT).ok()?;
        let (ticks, counted) = cpu_ticks(&text, cpus)?;
        Some(Snapshot { ticks, cpus: counted, own_cpu_s })
    }

    /// The load from `start` to `self`, `wall_s` seconds apart. `None` when no time passed or
    /// the two counted different CPUs.
    pub fn since(&self, start: &Snapshot, wall_s: f64) -> Option<Load> {
        let load_1m = std::fs::read_to_string(LOADAVG).ok().and_then(|t| load_average(&t));
        load_between(start, self, wall_s, ticks_per_second(), load_1m)
    }
}

/// The load between two snapshots `wall_s` seconds apart, with `hz` ticks a second.
fn load_between(
    start: &Snapshot,
    end: &Snapshot,
    wall_s: f64,
    hz: f64,
    load_1m: Option<f64>,
) -> Option<Load> {
    if wall_s <= 0.0 || hz <= 0.0 || start.cpus != end.cpus {
        return None;
    }
    let busy_s = end.ticks.busy.saturating_sub(start.ticks.busy) as f64 / hz;
    let own_s = (end.own_cpu_s - start.own_cpu_s).max(0.0);
    let total = end.ticks.total.saturating_sub(start.ticks.total);
    let steal = end.ticks.steal.saturating_sub(start.ticks.steal);
    Some(Load {
        cpus: end.cpus,
        // Tick counts round to 10 ms each: never less than nothing, never more than every CPU.
        others_cores: ((busy_s - own_s) / wall_s).clamp(0.0, end.cpus as f64),
        steal: if total > 0 { steal as f64 / total as f64 } else { 0.0 },
        load_1m,
    })
}

/// The clock ticks a second that `/proc/stat` counts in (`USER_HZ`, 100 nearly everywhere).
fn ticks_per_second() -> f64 {
    // SAFETY: sysconf takes and returns plain integers.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

/// The CPU time of the CPUs in `cpus` (all of them when empty) from `/proc/stat`'s `cpuN`
/// lines, and how many were found. `None` when none was.
fn cpu_ticks(text: &str, cpus: &[usize]) -> Option<(Ticks, usize)> {
    let mut sum = Ticks::default();
    let mut counted = 0;
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(n) = fields.next().and_then(|name| name.strip_prefix("cpu")?.parse::<usize>().ok()) else {
            continue;
        };
        if !cpus.is_empty() && !cpus.contains(&n) {
            continue;
        }
        let v: Vec<u64> = fields.map_while(|f| f.parse().ok()).collect();
        // user nice system idle iowait irq softirq steal (guest and guest_nice follow, inside
        // user and nice); kernels before 2.6.11 stop at softirq, without steal.
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        if v.len() < 4 {
            continue;
        }
        let busy = at(0) + at(1) + at(2) + at(5) + at(6);
        sum.busy += busy;
        sum.steal += at(7);
        sum.total += busy + at(3) + at(4) + at(7);
        counted += 1;
    }
    (counted > 0).then_some((sum, counted))
}

/// The 1-minute load average, the first field of `/proc/loadavg`.
fn load_average(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok().filter(|l: &f64| l.is_finite() && *l >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  400 10 100 5000 20 1 2 7 0 0\n\
        cpu0 200 10 50 2500 10 1 1 3 0 0\n\
        cpu1 200 0 50 2500 10 0 1 4 0 0\n\
        intr 12345 0 0\n\
        ctxt 999\n\
        procs_running 3\n";

    #[test]
    fn cpu_lines_are_summed_over_the_cpus_asked_for() {
        let t = |busy, steal, total| Ticks { busy, steal, total };
        assert_eq!(cpu_ticks(STAT, &[]), Some((t(513, 7, 5540), 2)));
        assert_eq!(cpu_ticks(STAT, &[1]), Some((t(251, 4, 2765), 1)));
        assert_eq!(cpu_ticks(STAT, &[0, 1, 7]), Some((t(513, 7, 5540), 2)));
        // A CPU the file does not list, or no cpuN line at all, counts nothing.
        assert_eq!(cpu_ticks(STAT, &[5]), None);
        assert_eq!(cpu_ticks("cpu  1 2 3 4\n", &[]), None);
        // An old kernel's line without steal.
        assert_eq!(cpu_ticks("cpu0 10 0 5 100 1 0 0\n", &[]), Some((t(15, 0, 116), 1)));
        assert_eq!(cpu_ticks("cpu0 10 0\n", &[]), None);
    }

    #[test]
    fn the_load_average_is_the_first_field() {
        assert_eq!(load_average("10.31 6.57 3.16 14/201 19212\n"), Some(10.31));
        assert_eq!((load_average(""), load_average("x 1 2")), (None, None));
    }

    #[test]
    fn the_others_are_the_busy_time_less_our_own() {
        let snap = |busy, steal, total, own_cpu_s| Snapshot {
            ticks: Ticks { busy, steal, total },
            cpus: 2,
            own_cpu_s,
        };
        // Over 5 s on 2 CPUs at 100 ticks a second: 960 busy ticks are 9.6 CPU-s, 0.1 of them
        // ours, so the others used 9.5 / 5 = 1.9 cores; 50 of 1000 ticks were stolen.
        let (start, end) = (snap(1000, 0, 10_000, 1.0), snap(1960, 50, 11_000, 1.1));
        let load = load_between(&start, &end, 5.0, 100.0, Some(4.2)).expect("a load");
        assert_eq!((load.cpus, load.steal, load.load_1m), (2, 0.05, Some(4.2)));
        assert!((load.others_cores - 1.9).abs() < 1e-9, "{load:?}");
        // Rounding of the ticks never makes the others negative or more than every CPU.
        let idle = load_between(&start, &snap(1000, 0, 11_000, 1.5), 5.0, 100.0, None).expect("a load");
        assert_eq!(idle.others_cores, 0.0);
        let full = load_between(&start, &snap(5000, 0, 11_000, 1.0), 5.0, 100.0, None).expect("a load");
        assert_eq!(full.others_cores, 2.0);
        // No time, or different CPUs, is no load.
        assert_eq!(load_between(&start, &end, 0.0, 100.0, None), None);
        let other_cpus = Snapshot { cpus: 1, ..end };
        assert_eq!(load_between(&start, &other_cpus, 5.0, 100.0, None), None);
    }
}
