//! The client's verdict through the real binary: a light run is `ok` with no reasons, and a run
//! inside a cgroup capped at a tenth of a core is not, with a reason that names the quota and
//! the throttling. The capped run needs a cgroup this test may create (root, a writable v2 or v1
//! CPU hierarchy); where it cannot, it prints why and passes without asserting.

use crate::util::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn a_light_run_is_ok_with_no_reasons() {
    let mock = fast_mock(6, &[]);
    let u = url(&mock);
    let (out, j, _) =
        run_logged("verdict-light", &["run", "--url", &u, "--api", "openai-chat", "-c", "2", "-n", "4"]);
    out.expect_code(0);
    let client = &j["client"];
    // The test suite keeps both cores busy: when this run's own reads or worker starts lagged
    // past the `ok` thresholds (1 ms, 10 ms), the verdict must say exactly that, and nothing
    // else; otherwise it is ok with no reasons.
    let p99 =
        |key: &str| client[key]["p99"].as_f64().unwrap_or_else(|| panic!("{key} measured{}", out.context()));
    let (read_late, start_late) = (p99("read_lag_ms") > 1.0, p99("start_lag_ms") > 10.0);
    if !read_late && !start_late {
        assert_eq!((&client["verdict"], &client["reasons"]), (&json!("ok"), &json!([])), "{}", out.context());
        assert!(!out.stdout.contains("  verdict "), "an ok verdict is not printed{}", out.context());
    } else {
        assert_ne!(client["verdict"], "ok", "{}", out.context());
        let reasons: Vec<&str> =
            client["reasons"].as_array().unwrap().iter().filter_map(|r| r.as_str()).collect();
        let expected = usize::from(read_late) + usize::from(start_late);
        assert_eq!(reasons.len(), expected, "{}", out.context());
        for r in reasons {
            assert!(
                r.starts_with("the client read events") || r.starts_with("requests were sent"),
                "{r}{}",
                out.context()
            );
        }
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
            eprintln!(
                "a_run_capped_at_a_tenth_of_a_core_is_not_ok: not run: cannot make a capped cgroup ({why})"
            );
            return;
        }
    };
    let mock = fast_mock(6, &[]);
    let u = url(&mock);
    let json_path = tempdir("verdict-capped").join("out.json");
    let args = [
        "run",
        "--url",
        &u,
        "--api",
        "openai-chat",
        "-c",
        "4",
        "-d",
        "1s",
        "--no-preflight",
        "--quiet",
        "--json",
        json_path.to_str().unwrap(),
    ];
    // The shell joins the cgroup, then becomes llmload: every thread it starts is capped.
    let procs = capped.dir.join("cgroup.procs");
    let script = format!("echo $$ > '{}' && exec \"$0\" \"$@\"", procs.display());
    let run = Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_llmload")])
        .args(args)
        .env_remove("API_KEY")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .output()
        .expect("run sh");
    let out = Output {
        cmd: format!("sh -c {script:?} llmload {}", args.join(" ")),
        code: run.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&run.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&run.stderr).into_owned(),
    };
    out.expect_code(0);
    let j = read_json(&json_path, &out);
    let client = &j["client"];
    eprintln!("capped at 0.1 cores in {}: {client:#}", capped.dir.display());
    assert!(
        matches!(client["verdict"].as_str(), Some("degraded" | "client-bound")),
        "{client:#}{}",
        out.context()
    );
    let reasons: Vec<&str> =
        client["reasons"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    assert!(
        reasons.iter().any(|r| r.contains("throttled") || r.contains("quota")),
        "{reasons:?}{}",
        out.context()
    );
    // The quota was read: the reasons name it.
    assert!(reasons.iter().any(|r| r.contains("0.1 cores")), "{reasons:?}{}", out.context());
    assert!(out.stdout.contains("  verdict     "), "a verdict that is not ok is printed{}", out.context());
}
