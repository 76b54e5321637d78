//! Shared helpers: start a mock, run the binary, read its outputs, and fail with the command,
//! status, stdout and stderr in view.

use llmload::mock::{self, FaultRule, MockConfig, MockHandle};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub struct Output {
    pub cmd: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn context(&self) -> String {
        format!(
            "\ncommand: {}\nexit: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.cmd, self.code, self.stdout, self.stderr
        )
    }

    /// The output of a finished process, with `cmd` as the command it shows on failure.
    pub fn of(cmd: String, out: std::process::Output) -> Output {
        Output {
            cmd,
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code{}", self.context());
        self
    }
}

/// A mock of `config` on a free loopback port.
pub fn mock_with(config: MockConfig) -> MockHandle {
    mock::start(([127, 0, 0, 1], 0).into(), config).expect("mock starts")
}

/// A fast mock: 5 ms to the first token, 1 ms between tokens.
pub fn fast_mock(tokens: u32, faults: &[&str]) -> MockHandle {
    slow_fault_mock(tokens, faults, mock::DEFAULT_FAULT_DELAY)
}

/// A fast mock whose `slow-headers` and `stall` faults last `fault_delay`.
pub fn slow_fault_mock(tokens: u32, faults: &[&str], fault_delay: Duration) -> MockHandle {
    let config = MockConfig {
        ttft: Duration::from_millis(5),
        itl: Duration::from_millis(1),
        tokens,
        faults: faults.iter().map(|f| f.parse::<FaultRule>().expect("valid fault")).collect(),
        fault_delay,
        ..MockConfig::default()
    };
    mock_with(config)
}

/// A mock with its own pace and no faults, for tests about time (deadlines, signals, timeouts).
pub fn paced_mock(ttft_ms: u64, itl_ms: u64, tokens: u32) -> MockHandle {
    let config = MockConfig {
        ttft: Duration::from_millis(ttft_ms),
        itl: Duration::from_millis(itl_ms),
        tokens,
        ..MockConfig::default()
    };
    mock_with(config)
}

/// A loopback port with nothing listening: bound, noted, and closed again.
pub fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("its address").port()
}

pub fn url(m: &MockHandle) -> String {
    format!("http://{}", m.addr())
}

pub fn llmload(args: &[&str]) -> Output {
    llmload_env(args, &[])
}

/// `program args…` with the test process's key, proxy and locale removed from its environment:
/// English output (unless a test asks for a locale) and nothing the machine set leaks in.
pub fn clean_command(program: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args).env_remove("API_KEY").env_remove("HTTP_PROXY").env_remove("http_proxy");
    cmd.env_remove("LC_ALL").env_remove("LC_MESSAGES").env_remove("LANG");
    cmd
}

pub fn llmload_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = clean_command(env!("CARGO_BIN_EXE_llmload"), args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run llmload");
    Output::of(format!("llmload {}", args.join(" ")), out)
}

/// Runs `llmload` with `args`, waits `after`, then sends each signal (`"INT"`, `"TERM"`) with a
/// pause between them; returns the output and how long the process took from the first signal.
pub fn signalled(args: &[&str], after: Duration, signals: &[&str], pause: Duration) -> (Output, Duration) {
    let child = clean_command(env!("CARGO_BIN_EXE_llmload"), args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run llmload");
    std::thread::sleep(after);
    let started = std::time::Instant::now();
    for (i, sig) in signals.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(pause);
        }
        let sent = Command::new("kill").args([&format!("-{sig}"), &child.id().to_string()]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -{sig}");
    }
    let out = child.wait_with_output().expect("wait for llmload");
    let out = Output::of(format!("llmload {} (then SIG{})", args.join(" "), signals.join(", SIG")), out);
    (out, started.elapsed())
}

/// How a spawned llmload starts with SIGINT: as the test runs it, or ignored (a script's
/// background job).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sigint {
    Default,
    Ignored,
}

/// Starts `llmload` with `args`, stdout and stderr piped, SIGINT set as `sigint` says (whatever
/// the test process itself inherited).
pub fn spawn_llmload(args: &[&str], sigint: Sigint) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    let mut cmd = clean_command(env!("CARGO_BIN_EXE_llmload"), args);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let action = if sigint == Sigint::Ignored { libc::SIG_IGN } else { libc::SIG_DFL };
    // SAFETY: between fork and exec the child only sets one signal's action, which is
    // async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGINT, action);
            Ok(())
        });
    }
    cmd.spawn().expect("run llmload")
}

/// Sends `signal` to `child`.
pub fn signal(child: &std::process::Child, signal: libc::c_int) {
    // SAFETY: kill(2) on our own child's pid, which we have not yet waited for.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(sent, 0, "kill({}, {signal})", child.id());
}

/// Waits for `child` to exit and returns its output, with `args` as its command.
pub fn finish(child: std::process::Child, args: &[&str]) -> Output {
    let out = child.wait_with_output().expect("wait for llmload");
    Output::of(format!("llmload {}", args.join(" ")), out)
}

/// Checks `done` every 10 ms, up to 30 s: whether it came true. Bounded, so a broken
/// precondition fails the test instead of hanging it.
pub fn wait_for(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..3000 {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Every directory `tempdir` made in this process gets the next number.
static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A fresh temporary directory for one test's files, never shared: the process id, a counter
/// and `name` (ripgrep's `Dir::new`), so tests running in parallel, or one test asking twice
/// with the same name, never write into each other's files.
pub fn tempdir(name: &str) -> PathBuf {
    let n = NEXT_DIR.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("llmload-test-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create temp dir {}: {e}", dir.display()));
    dir
}

/// A fresh temporary directory for one test's files, made by `tempdir` (so no two tests, nor one
/// test asking twice, share one). It reads as the `Path` it is (`dir.join`, `&dir` for a `&Path`).
pub struct Dir {
    root: PathBuf,
}

impl Dir {
    pub fn new(name: &str) -> Dir {
        Dir { root: tempdir(name) }
    }

    /// The summary's name in `Llmload::json_in`.
    pub const JSON: &str = "out.json";
    /// The records' name in `Llmload::records_in`.
    pub const RECORDS: &str = "rec.jsonl";

    /// Where `file` is, or would be, in this directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.root.join(file)
    }

    /// Writes `contents` to `file` in this directory and returns its path.
    pub fn create(&self, file: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(file);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// The summary `out` wrote by `Llmload::json_in`.
    pub fn json(&self, out: &Output) -> Value {
        read_json(&self.path(Dir::JSON), out)
    }

    /// The records `out` wrote by `Llmload::records_in`.
    pub fn records(&self, out: &Output) -> Vec<Value> {
        read_records(&self.path(Dir::RECORDS), out)
    }
}

impl AsRef<Path> for Dir {
    fn as_ref(&self) -> &Path {
        &self.root
    }
}

impl std::ops::Deref for Dir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.root
    }
}

/// One `llmload` command line, built up and then run, so that a test states only its own flags:
/// `Llmload::run(&mock).args("-c 2 -n 6 --quiet").json(&dir)` runs `llmload run --url <mock> -c 2
/// -n 6 --quiet --json <dir>/out.json` and returns the output and the summary it wrote. The
/// process runs as `clean_command` makes it; the exit code is the caller's to check.
#[derive(Clone, Default)]
pub struct Llmload {
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Llmload {
    /// `llmload` with the words of `line` (split at white space: a value with a space, or an
    /// empty one, goes in by `arg`).
    pub fn new(line: &str) -> Llmload {
        Llmload::default().args(line)
    }

    /// `llmload run --url <mock>`.
    pub fn run(mock: &MockHandle) -> Llmload {
        Llmload::new("run").url(mock)
    }

    /// Adds `--url <mock>`.
    pub fn url(self, mock: &MockHandle) -> Llmload {
        self.opt("--url", url(mock))
    }

    /// Adds the words of `line`, split at white space.
    pub fn args(mut self, line: &str) -> Llmload {
        self.args.extend(line.split_whitespace().map(String::from));
        self
    }

    /// Adds one argument as it is: a path, or a value with spaces.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Llmload {
        let arg = arg.as_ref();
        self.args.push(arg.to_str().unwrap_or_else(|| panic!("{arg:?} is not UTF-8")).to_string());
        self
    }

    /// Adds `flag` and its value as they are: `.opt("--csv", dir.path("run.csv"))`.
    pub fn opt(self, flag: &str, value: impl AsRef<OsStr>) -> Llmload {
        self.arg(flag).arg(value)
    }

    /// Adds each of `args` as it is.
    pub fn arg_list(self, args: &[&str]) -> Llmload {
        args.iter().fold(self, |cmd, a| cmd.arg(a))
    }

    /// Sets `key` to `value` in the process's environment.
    pub fn env(mut self, key: &str, value: &str) -> Llmload {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// The arguments, for `signalled`, `spawn_llmload` and `finish`.
    pub fn argv(&self) -> Vec<&str> {
        self.args.iter().map(String::as_str).collect()
    }

    /// The command line as a failure shows it.
    pub fn shown(&self) -> String {
        format!("llmload {}", self.args.join(" "))
    }

    /// The process, not yet started, for a test that sets more on it.
    pub fn command(&self) -> Command {
        let mut cmd = clean_command(env!("CARGO_BIN_EXE_llmload"), &self.argv());
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs it.
    pub fn output(&self) -> Output {
        Output::of(self.shown(), self.command().output().expect("run llmload"))
    }

    /// Runs it, then sends each signal as `signalled` does.
    pub fn signalled(&self, after: Duration, signals: &[&str], pause: Duration) -> (Output, Duration) {
        signalled(&self.argv(), after, signals, pause)
    }

    /// Adds `--json <dir>/out.json` (read back by `Dir::json`).
    pub fn json_in(self, dir: &Dir) -> Llmload {
        self.opt("--json", dir.path(Dir::JSON))
    }

    /// Adds `--records <dir>/rec.jsonl` (read back by `Dir::records`).
    pub fn records_in(self, dir: &Dir) -> Llmload {
        self.opt("--records", dir.path(Dir::RECORDS))
    }

    /// Runs it with `--json <dir>/out.json`: the output and the summary.
    pub fn json(self, dir: &Dir) -> (Output, Value) {
        self.json_at(&dir.path(Dir::JSON))
    }

    /// Runs it with `--json <path>`: the output and the summary.
    pub fn json_at(self, path: &Path) -> (Output, Value) {
        let out = self.opt("--json", path).output();
        let json = read_json(path, &out);
        (out, json)
    }

    /// Runs it with `--json <dir>/out.json` and `--records <dir>/rec.jsonl`: the output, the
    /// summary and the records.
    pub fn logged(self, dir: &Dir) -> (Output, Value, Vec<Value>) {
        let out = self.json_in(dir).records_in(dir).output();
        let (json, records) = (dir.json(&out), dir.records(&out));
        (out, json, records)
    }
}

/// A test that cannot set up what it needs says why on stderr and passes, except under CI (the
/// `CI` environment variable set), where it fails: there the precondition is the job's to give.
pub fn skip(test: &str, why: &str) {
    let message = format!("{test}: skipped: {why}");
    if std::env::var_os("CI").is_some() {
        panic!("{message} (CI is set: a skipped test fails there)");
    }
    eprintln!("{message}");
}

pub fn read_json(path: &Path, out: &Output) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path:?}: {e}{}", out.context()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {path:?}: {e}{}", out.context()))
}

pub fn read_records(path: &Path, out: &Output) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path:?}: {e}{}", out.context()));
    text.lines().map(|l| serde_json::from_str(l).expect("record line is JSON")).collect()
}

/// Runs `llmload` with `args` plus `--json` and `--records` into a fresh `Dir` `name`, and
/// returns the output with the summary and records it wrote (the exit code is the caller's check).
pub fn run_logged(name: &str, args: &[&str]) -> (Output, Value, Vec<Value>) {
    Llmload::default().arg_list(args).logged(&Dir::new(name))
}

/// How many records have each value of `field`.
pub fn count_by(records: &[Value], field: &str) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for r in records {
        *m.entry(r[field].to_string().trim_matches('"').to_string()).or_default() += 1;
    }
    m
}

/// A fast mock of `tokens` a response that keeps the first 16 request bodies and ends
/// `eos_share` of the answers early.
pub fn recording_mock(tokens: u32, eos_share: f64) -> MockHandle {
    mock_with(MockConfig {
        ttft: Duration::from_millis(2),
        itl: Duration::from_millis(1),
        tokens,
        eos_share,
        keep_bodies: 16,
        ..MockConfig::default()
    })
}

/// What the mock sent, once every response it started has been recorded.
pub fn truth(m: &MockHandle) -> llmload::mock::Truth {
    m.truth_when_idle(Duration::from_secs(5))
}
