//! The client's verdict through the real binary: a light run is `ok` with no reasons; a run
//! pinned to one CPU beside a busy loop on that CPU finds the machine busy, and any finding it
//! makes names the machine as the cause, not the client; and a run inside a cgroup capped at a
//! tenth of a core is not `ok`, with a reason that names the quota and the throttling. The capped
//! run needs a cgroup this test may create (root, a writable v2 or v1 CPU hierarchy); where it
//! cannot, it says why and passes, or fails under `CI`.

use crate::util::*;
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The reasons of a summary's `client`, as text.
fn reasons(client: &Value) -> Vec<&str> {
    client["reasons"].as_array().into_iter().flatten().filter_map(Value::as_str).collect()
}

#[test]
fn a_light_run_is_ok_with_no_reasons() {
    // Events 20 ms apart: a read would have to be 20 ms late (p99) to merge two of them; and
    // over 2 s, workers would have to start 100 ms late to miss 5 % of the run.
    let mock = paced_mock(5, 20, 6);
    let (out, j, _) =
        Llmload::run(&mock).args("--api openai-chat -c 2 -d 2s").logged(&Dir::new("verdict-light"));
    out.expect_code(0);
    let client = &j["client"];
    let itl =
        j["metrics"]["itl_ms"]["p50"].as_f64().unwrap_or_else(|| panic!("ITL measured{}", out.context()));
    let lag =
        client["read_lag_ms"]["p99"].as_f64().unwrap_or_else(|| panic!("read lag measured{}", out.context()));
    if client["clock"] == "kernel" && lag <= itl {
        assert_eq!(
            (&client["verdict"], &client["cause"], &client["reasons"]),
            (&json!("ok"), &json!(null), &json!([])),
            "{}",
            out.context()
        );
        assert!(!out.stdout.contains("  verdict "), "an ok verdict is not printed{}", out.context());
    } else {
        // A machine so busy that reads came later than the gap between events: the verdict
        // must say exactly that, with its cause.
        assert_ne!(client["verdict"], "ok", "{}", out.context());
        assert!(reasons(client).iter().any(|r| r.starts_with("the client read events")), "{}", out.context());
        assert!(client["cause"].is_string(), "{}", out.context());
    }
}

/// Pins the calling thread to CPU `cpu`; false where that cannot be done.
fn pin_to(cpu: usize) -> bool {
    // SAFETY: sched_setaffinity reads the set we pass, of the size we give; CPU_SET writes a
    // bit inside it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// The first CPU this process may run on.
fn first_cpu() -> Option<usize> {
    // SAFETY: as in `pin_to`; CPU_ISSET only reads the set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        (0..libc::CPU_SETSIZE as usize).find(|&n| libc::CPU_ISSET(n, &set))
    }
}

#[test]
fn other_work_on_the_clients_only_cpu_is_the_machines_not_the_clients() {
    const TEST: &str = "other_work_on_the_clients_only_cpu_is_the_machines_not_the_clients";
    let Some(cpu) = first_cpu() else {
        return skip(TEST, "this process's CPU affinity cannot be read");
    };
    let mock = fast_mock(20, &[]);
    let dir = Dir::new("verdict-busy");
    // A busy loop on that CPU for as long as the run lasts: other work, to the client.
    let stop = Arc::new(AtomicBool::new(false));
    let spinning = stop.clone();
    let hog = std::thread::spawn(move || {
        if !pin_to(cpu) {
            return false;
        }
        let mut n = 0u64;
        while !spinning.load(Ordering::Relaxed) {
            n = std::hint::black_box(n.wrapping_add(1));
        }
        true
    });
    let llmload = Llmload::run(&mock).args("--api openai-chat -c 2 -d 2s --no-preflight").json_in(&dir);
    let mut cmd = llmload.command();
    // SAFETY: between fork and exec the child only calls sched_setaffinity, which is
    // async-signal-safe; `pin_to` allocates nothing.
    unsafe {
        cmd.pre_exec(move || if pin_to(cpu) { Ok(()) } else { Err(std::io::Error::last_os_error()) });
    }
    let run = cmd.output().expect("run llmload");
    stop.store(true, Ordering::Relaxed);
    if !hog.join().expect("the busy loop ends") {
        return skip(TEST, "the busy loop could not be pinned to the client's CPU");
    }
    let out = Output::of(format!("{} (pinned to CPU {cpu} beside a busy loop)", llmload.shown()), run);
    out.expect_code(0);
    let j = dir.json(&out);
    let client = &j["client"];
    let machine = &client["machine"];
    // The client may run on one CPU, and the loop kept it busy most of the run.
    assert_eq!(machine["cpus"], 1, "{client:#}{}", out.context());
    assert!(machine["others_cores"].as_f64().is_some_and(|c| c > 0.5), "{client:#}{}", out.context());
    assert_eq!(machine["busy"], true, "{client:#}{}", out.context());
    assert!(out.stdout.contains("  machine     busy with other work, which used "), "{}", out.context());
    // Whatever it found, the cause is the machine, and lowering -c is not the advice.
    match client["verdict"].as_str() {
        Some("ok") => assert_eq!((&client["cause"], &client["reasons"]), (&json!(null), &json!([]))),
        Some(_) => {
            assert_eq!(client["cause"], "machine", "{client:#}{}", out.context());
            for r in reasons(client) {
                assert!(r.contains("the cause is other work on the machine"), "{r}{}", out.context());
                assert!(r.ends_with("(-c would not help)"), "{r}{}", out.context());
            }
        }
        None => panic!("a live run is judged{}", out.context()),
    }
}

/// A cgroup whose processes may use 10 % of one core (10 ms of every 100 ms), removed on drop.
struct Capped {
    dir: PathBuf,
}

impl Capped {
    /// Makes it in the v2 hierarchy at /sys/fs/cgroup when the CPU controller is there, else in
    /// the v1 CPU hierarchy; `Err` says why it cannot.
    fn create() -> Result<Capped, String> {
        let name = format!("llmload-test-{}", std::process::id());
        let v2 = Path::new("/sys/fs/cgroup");
        let controllers = std::fs::read_to_string(v2.join("cgroup.controllers")).unwrap_or_default();
        if controllers.split_whitespace().any(|c| c == "cpu") {
            let capped = Capped::make(v2.join(&name))?;
            capped.write("cpu.max", "10000 100000")?;
            return Ok(capped);
        }
        let v1 = ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"]
            .map(PathBuf::from)
            .into_iter()
            .find(|d| d.join("cpu.cfs_quota_us").is_file())
            .ok_or("no cgroup v2 CPU controller at /sys/fs/cgroup and no v1 CPU hierarchy")?;
        let capped = Capped::make(v1.join(&name))?;
        capped.write("cpu.cfs_period_us", "100000")?;
        capped.write("cpu.cfs_quota_us", "10000")?;
        Ok(capped)
    }

    fn make(dir: PathBuf) -> Result<Capped, String> {
        std::fs::create_dir(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        Ok(Capped { dir })
    }

    fn write(&self, file: &str, value: &str) -> Result<(), String> {
        let path = self.dir.join(file);
        std::fs::write(&path, value).map_err(|e| format!("write {value:?} to {}: {e}", path.display()))
    }
}

impl Drop for Capped {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[test]
fn a_run_capped_at_a_tenth_of_a_core_is_not_ok() {
    let capped = match Capped::create() {
        Ok(c) => c,
        Err(why) => {
            return skip(
                "a_run_capped_at_a_tenth_of_a_core_is_not_ok",
                &format!("cannot make a capped cgroup ({why})"),
            );
        }
    };
    let mock = fast_mock(6, &[]);
    let dir = Dir::new("verdict-capped");
    let llmload =
        Llmload::run(&mock).args("--api openai-chat -c 4 -d 1s --no-preflight --quiet").json_in(&dir);
    // The shell joins the cgroup, then becomes llmload: every thread it starts is capped.
    let procs = capped.dir.join("cgroup.procs");
    let script = format!("echo $$ > '{}' && exec \"$0\" \"$@\"", procs.display());
    let run = clean_command("sh", &["-c", &script, env!("CARGO_BIN_EXE_llmload")])
        .args(llmload.argv())
        .output()
        .expect("run sh");
    let out = Output::of(format!("sh -c {script:?} {}", llmload.shown()), run);
    out.expect_code(0);
    let j = dir.json(&out);
    let client = &j["client"];
    eprintln!("capped at 0.1 cores in {}: {client:#}", capped.dir.display());
    assert!(
        matches!(client["verdict"].as_str(), Some("degraded" | "client-bound")),
        "{client:#}{}",
        out.context()
    );
    let reasons = reasons(client);
    assert_eq!(client["cause"], "client", "the quota is the client's{}", out.context());
    assert!(
        reasons.iter().any(|r| r.contains("throttled") || r.contains("quota")),
        "{reasons:?}{}",
        out.context()
    );
    // The quota was read: the reasons name it.
    assert!(reasons.iter().any(|r| r.contains("0.1 cores")), "{reasons:?}{}", out.context());
    assert!(out.stdout.contains("  verdict     "), "a verdict that is not ok is printed{}", out.context());
}
