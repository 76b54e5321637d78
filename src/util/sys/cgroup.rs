//! The CPU the process's cgroup lets it use, and how often the cgroup stopped it: the quota in
//! cores (v2 `cpu.max`, v1 `cpu.cfs_quota_us` over `cpu.cfs_period_us`) and the throttle counts
//! of `cpu.stat`, for the process's own cgroup and each ancestor up to its hierarchy's root (a
//! parent's quota limits its children too). The cgroup is found from `/proc/self/cgroup` and
//! `/proc/self/mountinfo`; where there is no `/proc/self/cgroup` (not Linux) there are no cgroups
//! and no quota. The parsers are pure (`&str` in); the readers never fail a run: what they cannot
//! read they name, for the caller to say once that it is unknown. What the numbers mean for the
//! run is the verdict's (`summary::verdict`), not this module's.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

const PROC_CGROUP: &str = "/proc/self/cgroup";
const MOUNTINFO: &str = "/proc/self/mountinfo";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// The process's cgroup in the hierarchy that holds the CPU controller, as `/proc/self/cgroup`
/// names it (relative to that hierarchy's root).
#[derive(Debug, PartialEq)]
struct Membership<'a> {
    version: Version,
    path: &'a str,
}

/// Where a cgroup hierarchy is mounted: the hierarchy's path the mount shows, and the mount point.
#[derive(Debug, PartialEq)]
struct Mount {
    root: String,
    point: PathBuf,
}

/// The throttle counts of `cpu.stat`, since the cgroup was made (`since` gives a run's share).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Throttling {
    /// Enforcement periods in which the cgroup had threads to run (`nr_periods`).
    pub periods: u64,
    /// Of those, the periods in which it used up its quota and was stopped (`nr_throttled`).
    pub throttled: u64,
    /// How long its threads were stopped, seconds summed over CPUs (v2 `throttled_usec`, v1
    /// `throttled_time`).
    pub throttled_s: f64,
}

impl Throttling {
    /// The counts between `start` and `self` (counters only grow; a reset cgroup reads as zero).
    pub fn since(self, start: Throttling) -> Throttling {
        Throttling {
            periods: self.periods.saturating_sub(start.periods),
            throttled: self.throttled.saturating_sub(start.throttled),
            throttled_s: (self.throttled_s - start.throttled_s).max(0.0),
        }
    }

    fn add(self, other: Throttling) -> Throttling {
        Throttling {
            periods: self.periods + other.periods,
            throttled: self.throttled + other.throttled,
            throttled_s: self.throttled_s + other.throttled_s,
        }
    }
}

/// The CPU controller's view of this process.
#[derive(Debug, PartialEq)]
pub struct CpuCgroup {
    /// The tightest quota of the process's cgroup and its ancestors, in cores; `None`: no quota.
    pub quota_cores: Option<f64>,
    /// The `cpu.stat` of each level that sets a quota, where its throttling is counted.
    stats: Vec<PathBuf>,
}

impl CpuCgroup {
    /// The process's CPU cgroup. `Err` names what could not be read (the caller says once that
    /// the quota is unknown; the run goes on).
    pub fn read() -> Result<CpuCgroup, String> {
        let cgroup = match std::fs::read_to_string(PROC_CGROUP) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Ok(CpuCgroup { quota_cores: None, stats: vec![] });
            }
            Err(e) => return Err(format!("{PROC_CGROUP}: {e}")),
        };
        let member =
            membership(&cgroup).ok_or(format!("{PROC_CGROUP} names no cgroup with the CPU controller"))?;
        let mountinfo = std::fs::read_to_string(MOUNTINFO).map_err(|e| format!("{MOUNTINFO}: {e}"))?;
        let mount = mount(&mountinfo, member.version).ok_or(format!(
            "{MOUNTINFO} shows no mount of the cgroup hierarchy that holds the CPU controller"
        ))?;
        let dir = cgroup_dir(&mount, member.path);
        if !dir.is_dir() {
            return Err(format!("the process's cgroup {} is not there", dir.display()));
        }
        CpuCgroup::at(member.version, &dir, &mount.point)
    }

    /// The cgroup whose directory is `dir`, its ancestors' up to the hierarchy's `root` included.
    fn at(version: Version, dir: &Path, root: &Path) -> Result<CpuCgroup, String> {
        let (mut quota_cores, mut stats) = (None::<f64>, Vec::new());
        for level in dir.ancestors().take_while(|d| d.starts_with(root)) {
            let Some(cores) = read_quota(version, level)? else { continue };
            quota_cores = Some(quota_cores.map_or(cores, |q| q.min(cores)));
            stats.push(level.join("cpu.stat"));
        }
        Ok(CpuCgroup { quota_cores, stats })
    }

    /// The throttle counts now, summed over the levels that set a quota (usually one); all zero
    /// when none does. `Err` names a `cpu.stat` that could not be read.
    pub fn throttling(&self) -> Result<Throttling, String> {
        let mut sum = Throttling::default();
        for path in &self.stats {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            sum = sum
                .add(cpu_stat(&text).ok_or(format!("{}: no nr_periods and nr_throttled", path.display()))?);
        }
        Ok(sum)
    }
}

/// The quota a cgroup level sets, in cores: `Ok(None)` when it sets none (its file says `max`
/// or `-1`, or is not there, as at the root or without the CPU controller enabled).
fn read_quota(version: Version, dir: &Path) -> Result<Option<f64>, String> {
    let read = |name: &str| -> Result<Option<String>, String> {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    };
    let unreadable = |name: &str| format!("{}: not a CPU quota", dir.join(name).display());
    match version {
        Version::V2 => match read("cpu.max")? {
            None => Ok(None),
            Some(text) => cpu_max(&text).ok_or_else(|| unreadable("cpu.max")),
        },
        Version::V1 => match (read("cpu.cfs_quota_us")?, read("cpu.cfs_period_us")?) {
            (Some(quota), Some(period)) => {
                cfs_quota(&quota, &period).ok_or_else(|| unreadable("cpu.cfs_quota_us"))
            }
            _ => Ok(None),
        },
    }
}

/// The CPU controller's line of `/proc/self/cgroup`: a v1 hierarchy whose controllers include
/// `cpu` (`4:cpu,cpuacct:/path`) where there is one, else the v2 line (`0::/path`).
fn membership(text: &str) -> Option<Membership<'_>> {
    let lines = || text.lines().filter_map(|l| l.splitn(3, ':').collect::<Vec<_>>().try_into().ok());
    let v1 = lines().find(|[_, controllers, _]: &[&str; 3]| controllers.split(',').any(|c| c == "cpu"));
    let v2 = || lines().find(|[id, controllers, _]: &[&str; 3]| *id == "0" && controllers.is_empty());
    match v1 {
        Some([_, _, path]) => Some(Membership { version: Version::V1, path }),
        None => v2().map(|[_, _, path]| Membership { version: Version::V2, path }),
    }
}

/// The mount of the hierarchy `version` names in `/proc/self/mountinfo`: fields 4 and 5 are the
/// hierarchy's path and the mount point; after ` - ` come the type (`cgroup2`, or `cgroup` with
/// `cpu` among its options) and the options.
fn mount(text: &str, version: Version) -> Option<Mount> {
    text.lines().find_map(|line| {
        let (mine, theirs) = line.split_once(" - ")?;
        let fields: Vec<&str> = mine.split(' ').collect();
        let (root, point) = (*fields.get(3)?, *fields.get(4)?);
        let mut rest = theirs.split(' ');
        let (kind, options) = (rest.next()?, rest.nth(1).unwrap_or(""));
        let fits = match version {
            Version::V2 => kind == "cgroup2",
            Version::V1 => kind == "cgroup" && options.split(',').any(|o| o == "cpu"),
        };
        fits.then(|| Mount { root: unescape(root), point: PathBuf::from(unescape(point)) })
    })
}

/// A mountinfo field with its octal escapes (`\040` for a space) decoded.
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal =
            b.get(i + 1..i + 4).filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push(d.iter().fold(0u8, |n, c| n.wrapping_mul(8).wrapping_add(c - b'0')));
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The directory of the cgroup at `path` of the hierarchy mounted at `mount`: the path below the
/// part the mount shows as its root (a container sees its own cgroup as its mount's root).
fn cgroup_dir(mount: &Mount, path: &str) -> PathBuf {
    let below = match mount.root.as_str() {
        "/" => path,
        root => {
            path.strip_prefix(root).filter(|rest| rest.is_empty() || rest.starts_with('/')).unwrap_or(path)
        }
    };
    mount.point.join(below.trim_start_matches('/'))
}

/// v2 `cpu.max`: `max 100000` (no quota) or `QUOTA PERIOD` in microseconds → cores.
fn cpu_max(text: &str) -> Option<Option<f64>> {
    let mut fields = text.split_whitespace();
    let quota = fields.next()?;
    if quota == "max" {
        return Some(None);
    }
    let period: f64 = fields.next().map_or(Some(100_000.0), |p| p.parse().ok())?;
    cores(quota.parse().ok()?, period)
}

/// v1 `cpu.cfs_quota_us` (`-1`: no quota) over `cpu.cfs_period_us` → cores.
fn cfs_quota(quota: &str, period: &str) -> Option<Option<f64>> {
    let quota: i64 = quota.trim().parse().ok()?;
    if quota < 0 {
        return Some(None);
    }
    cores(quota as f64, period.trim().parse().ok()?)
}

fn cores(quota: f64, period: f64) -> Option<Option<f64>> {
    (quota > 0.0 && period > 0.0).then_some(Some(quota / period))
}

/// `cpu.stat`'s throttle counts: `nr_periods`, `nr_throttled`, and `throttled_usec` (v2) or
/// `throttled_time` in nanoseconds (v1). `None` without the two counts (the v2 root has none).
fn cpu_stat(text: &str) -> Option<Throttling> {
    let value = |key: &str| {
        text.lines().find_map(|l| l.split_once(' ').filter(|(k, _)| *k == key)?.1.trim().parse::<u64>().ok())
    };
    let throttled_s = match (value("throttled_usec"), value("throttled_time")) {
        (Some(us), _) => us as f64 / 1e6,
        (None, Some(ns)) => ns as f64 / 1e9,
        (None, None) => 0.0,
    };
    Some(Throttling { periods: value("nr_periods")?, throttled: value("nr_throttled")?, throttled_s })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_line_is_found_in_v1_hybrid_and_v2() {
        let v1 = "12:pids:/x\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n0::/\n";
        assert_eq!(membership(v1), Some(Membership { version: Version::V1, path: "/docker/abc" }));
        let v2 = "0::/user.slice/user-0.slice/session-1.scope\n";
        assert_eq!(
            membership(v2),
            Some(Membership { version: Version::V2, path: "/user.slice/user-0.slice/session-1.scope" })
        );
        // `cpuset` and `cpuacct` are not `cpu`: a hybrid without a v1 cpu line uses the v2 one.
        let hybrid = "3:cpuset:/a\n2:cpuacct:/b\n0::/c\n";
        assert_eq!(membership(hybrid), Some(Membership { version: Version::V2, path: "/c" }));
        assert_eq!(membership("3:memory:/a\n"), None);
        assert_eq!(membership(""), None);
    }

    #[test]
    fn the_mount_is_found_by_type_and_controller() {
        let info = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
            33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n\
            32 31 0:29 /docker/abc /sys/fs/cgroup/cpu\\040dir rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n\
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(
            mount(info, Version::V1),
            Some(Mount { root: "/docker/abc".into(), point: "/sys/fs/cgroup/cpu dir".into() })
        );
        assert_eq!(
            mount(info, Version::V2),
            Some(Mount { root: "/".into(), point: "/sys/fs/cgroup/unified".into() })
        );
        assert_eq!(mount("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n", Version::V2), None);
    }

    #[test]
    fn the_cgroup_directory_is_below_the_mounts_root() {
        let at = |root: &str, path: &str| cgroup_dir(&Mount { root: root.into(), point: "/cg".into() }, path);
        assert_eq!(at("/", "/a/b"), PathBuf::from("/cg/a/b"));
        assert_eq!(at("/", "/"), PathBuf::from("/cg"));
        // A container sees its own cgroup as the mount's root.
        assert_eq!(at("/docker/abc", "/docker/abc"), PathBuf::from("/cg"));
        assert_eq!(at("/docker/abc", "/docker/abc/child"), PathBuf::from("/cg/child"));
        assert_eq!(at("/docker/ab", "/docker/abc"), PathBuf::from("/cg/docker/abc"));
    }

    #[test]
    fn quotas_read_as_cores() {
        assert_eq!(cpu_max("max 100000\n"), Some(None));
        assert_eq!(cpu_max("max\n"), Some(None));
        assert_eq!(cpu_max("10000 100000\n"), Some(Some(0.1)));
        assert_eq!(cpu_max("250000 100000\n"), Some(Some(2.5)));
        assert_eq!(cpu_max("50000\n"), Some(Some(0.5)));
        assert_eq!((cpu_max(""), cpu_max("lots 100000"), cpu_max("0 100000")), (None, None, None));
        assert_eq!(cfs_quota("-1\n", "100000\n"), Some(None));
        assert_eq!(cfs_quota("150000\n", "100000\n"), Some(Some(1.5)));
        assert_eq!((cfs_quota("x", "100000"), cfs_quota("1000", "0")), (None, None));
    }

    #[test]
    fn throttle_counts_read_from_v1_and_v2() {
        let v2 = "usage_usec 9000\nuser_usec 6000\nsystem_usec 3000\nnr_periods 40\nnr_throttled 12\nthrottled_usec 1500000\nnr_bursts 0\n";
        assert_eq!(cpu_stat(v2), Some(Throttling { periods: 40, throttled: 12, throttled_s: 1.5 }));
        let v1 = "nr_periods 7\nnr_throttled 2\nthrottled_time 250000000\nnr_bursts 0\nburst_time 0\n";
        assert_eq!(cpu_stat(v1), Some(Throttling { periods: 7, throttled: 2, throttled_s: 0.25 }));
        // The v2 root keeps no throttle counts.
        assert_eq!(cpu_stat("usage_usec 1\nuser_usec 1\nsystem_usec 0\n"), None);
        let start = Throttling { periods: 10, throttled: 3, throttled_s: 0.5 };
        let end = Throttling { periods: 50, throttled: 13, throttled_s: 2.0 };
        assert_eq!(end.since(start), Throttling { periods: 40, throttled: 10, throttled_s: 1.5 });
        assert_eq!(start.since(end), Throttling::default());
    }

    /// A cgroup tree in a temporary directory: `files` are (path under it, contents).
    fn tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let root = std::env::temp_dir().join(format!("llmload-cgroup-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the tree");
            std::fs::write(path, text).expect("write a cgroup file");
        }
        root
    }

    #[test]
    fn the_tightest_quota_of_the_cgroup_and_its_ancestors_counts() {
        let root = tree(
            "v2",
            &[
                ("cpu.stat", "usage_usec 1\n"),
                ("pod/cpu.max", "200000 100000\n"),
                ("pod/cpu.stat", "nr_periods 10\nnr_throttled 1\nthrottled_usec 1000\n"),
                ("pod/app/cpu.max", "max 100000\n"),
                ("pod/app/cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n"),
                ("pod/app/run/cpu.max", "50000 100000\n"),
                ("pod/app/run/cpu.stat", "nr_periods 4\nnr_throttled 2\nthrottled_usec 3000\n"),
            ],
        );
        let cg = CpuCgroup::at(Version::V2, &root.join("pod/app/run"), &root).expect("readable");
        assert_eq!(cg.quota_cores, Some(0.5));
        assert_eq!(cg.throttling(), Ok(Throttling { periods: 14, throttled: 3, throttled_s: 0.004 }));
        // Where no level sets a quota, nothing can throttle the process.
        let free =
            CpuCgroup::at(Version::V2, &root.join("pod/app"), &root.join("pod/app")).expect("readable");
        assert_eq!((free.quota_cores, free.throttling()), (None, Ok(Throttling::default())));
        std::fs::remove_file(root.join("pod/cpu.stat")).expect("remove");
        assert!(cg.throttling().is_err_and(|e| e.contains("pod/cpu.stat")));
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn v1_quotas_and_missing_files() {
        let root = tree(
            "v1",
            &[
                ("cpu.cfs_quota_us", "-1\n"),
                ("cpu.cfs_period_us", "100000\n"),
                ("job/cpu.cfs_quota_us", "10000\n"),
                ("job/cpu.cfs_period_us", "100000\n"),
                ("job/cpu.stat", "nr_periods 9\nnr_throttled 9\nthrottled_time 500000000\n"),
                ("job/none/cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n"),
                ("bad/cpu.cfs_quota_us", "lots\n"),
                ("bad/cpu.cfs_period_us", "100000\n"),
            ],
        );
        let cg = CpuCgroup::at(Version::V1, &root.join("job/none"), &root).expect("readable");
        assert_eq!(cg.quota_cores, Some(0.1));
        assert_eq!(cg.throttling(), Ok(Throttling { periods: 9, throttled: 9, throttled_s: 0.5 }));
        assert!(
            CpuCgroup::at(Version::V1, &root.join("bad"), &root)
                .is_err_and(|e| e.contains("bad/cpu.cfs_quota_us"))
        );
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn unescaped_mountinfo_fields() {
        assert_eq!(unescape("/a\\040b\\134c"), "/a b\\c");
        assert_eq!(unescape("/plain\\04"), "/plain\\04");
    }
}
