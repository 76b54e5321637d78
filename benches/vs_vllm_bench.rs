//! llmload side by side with vLLM's Rust client `vllm-bench` (<https://github.com/vllm-project/vllm-bench>)
//! on the same machine, against the same instrument: the embedded mock in its own process
//! (`llmload mock`, TTFT 50 ms, ITL 10 ms, 100 tokens a response, so 1.05 s a request in theory),
//! a fresh one for each client's run, at real-time priority (else nice −10) where the OS allows it.
//!
//! The matrix: 10 streams and 100 requests (10 rounds), 100/200, 500/500 and 1,000/1,000, no
//! ramp-up. For each row and client: CPU-seconds per 1M tokens (the client process's user +
//! system time from `wait4`, over the text events the mock recorded sending), peak RSS (`wait4`'s
//! `ru_maxrss`), the most streams the server held at once (`vllm:num_requests_running` on the
//! mock's `/metrics`, polled every 20 ms by the bench while the client runs), the client's own
//! duration and the process's wall time, the TTFT mean error (the client's mean TTFT minus the
//! mean the mock recorded: request read → first token written), and the client's ITL p99 beside
//! the mock's largest gap between two tokens. Then the ratios llmload / vllm-bench. vllm-bench's
//! TTFT mean and ITL p99 are computed here from its per-request `--save-detailed` JSON (the ITL
//! p99 by nearest rank over every gap); llmload's are its summary's.
//!
//! The mock is the instrument: each row shows how late it was against its own schedule (its TTFT
//! p99 and ITL p99 over the configured ones) while that client ran, and a run where it slipped by
//! more than 5 ms is marked invalid.
//!
//! vllm-bench is never built or downloaded here: the bench runs the binary named by the
//! environment variable `VLLM_BENCH`, or `vllm-bench` on `PATH`, and without either prints why
//! it skips and exits 0 (a `VLLM_BENCH` that names no file is an error). It gets the repository's tokenizer fixture as `--tokenizer` and
//! `HF_HUB_OFFLINE=1`, so it never reaches for the network.
//!
//! `cargo bench --bench vs_vllm_bench` runs every row (about 2 minutes on 2 cores);
//! `cargo bench --bench vs_vllm_bench -- 500` runs the rows whose name contains "500".

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[path = "support/instrument.rs"]
mod instrument;

use instrument::Mock;

const BIN: &str = env!("CARGO_BIN_EXE_llmload");
/// The tokenizer vllm-bench loads for its random prompts (a local file: no download).
const TOKENIZER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny_llama_tokenizer.json");
/// The instrument's p99 lateness (its TTFT and ITL over the configured ones) above which a run
/// is not evidence.
const MAX_INSTRUMENT_LATE_MS: f64 = 5.0;
/// The mock's schedule, the same for both clients.
const TTFT_MS: f64 = 50.0;
const ITL_MS: f64 = 10.0;
const TOKENS: u32 = 100;
/// vllm-bench's random prompts' length in tokens (its own overhead bench's).
const PROMPT_TOKENS: u32 = 32;
/// How often the bench reads the mock's running-requests gauge during a run.
const POLL_EVERY: Duration = Duration::from_millis(20);
/// A bound on any one client run (the longest row takes seconds).
const MAX_RUN: Duration = Duration::from_secs(300);

struct Row {
    name: &'static str,
    streams: usize,
    requests: usize,
}

const ROWS: &[Row] = &[
    Row { name: "c10-n100", streams: 10, requests: 100 },
    Row { name: "c100-n200", streams: 100, requests: 200 },
    Row { name: "c500-n500", streams: 500, requests: 500 },
    Row { name: "c1000-n1000", streams: 1000, requests: 1000 },
];

/// The instrument with the matrix's settings.
fn start_mock() -> Mock {
    Mock::start(BIN, &format!("{TTFT_MS}ms"), &format!("{ITL_MS}ms"), TOKENS)
}

/// What the benches read from the instrument.
trait Read {
    fn get(&self, path: &str) -> Result<String, String>;
    fn truth(&self) -> Value;
    fn watch_running(&self, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64>;
}

impl Read for Mock {
    fn get(&self, path: &str) -> Result<String, String> {
        let agent: ureq::Agent =
            ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(5))).build().into();
        let mut resp =
            agent.get(format!("{}{path}", self.url)).call().map_err(|e| format!("GET {path}: {e}"))?;
        resp.body_mut().read_to_string().map_err(|e| format!("GET {path} body: {e}"))
    }

    fn truth(&self) -> Value {
        serde_json::from_str(&self.get("/mock/stats").expect("the mock's stats")).expect("stats JSON")
    }

    /// Reads `vllm:num_requests_running` every `POLL_EVERY` until `stop`, and returns the most
    /// it saw (bounded by `MAX_RUN` too).
    fn watch_running(&self, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
        let url = self.url.clone();
        std::thread::spawn(move || {
            let agent: ureq::Agent =
                ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(2))).build().into();
            let started = Instant::now();
            let mut peak = 0;
            while !stop.load(Ordering::Relaxed) && started.elapsed() < MAX_RUN {
                if let Ok(mut resp) = agent.get(format!("{url}/metrics")).call()
                    && let Ok(text) = resp.body_mut().read_to_string()
                {
                    peak = peak.max(running(&text));
                }
                std::thread::sleep(POLL_EVERY);
            }
            peak
        })
    }
}

/// `vllm:num_requests_running`'s value in a Prometheus exposition (0 when absent).
fn running(exposition: &str) -> u64 {
    exposition
        .lines()
        .filter(|l| l.starts_with("vllm:num_requests_running"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .max()
        .unwrap_or(0)
}

/// What one client's run cost and measured, against the truth of its own fresh mock.
struct Run {
    exit: String,
    ok: u64,
    cpu_s: f64,
    rss_mb: f64,
    /// The most streams the server held at once.
    peak: u64,
    /// The client's own duration of the run, and the process's wall time, s.
    duration_s: f64,
    wall_s: f64,
    ttft_error_ms: f64,
    itl_p99_ms: f64,
    /// The mock's largest gap between two tokens, ms.
    mock_itl_max_ms: f64,
    /// The mock's text events: the tokens both clients are charged for.
    tokens: f64,
    late_ttft_ms: f64,
    late_itl_ms: f64,
    priority: String,
    /// The mock's own CPU time while the client ran, s: on loopback a client's reads are woken
    /// by the mock's sends, so what a client's way of waiting costs shows here too.
    mock_cpu_s: f64,
}

impl Run {
    fn valid(&self) -> bool {
        self.late_ttft_ms <= MAX_INSTRUMENT_LATE_MS && self.late_itl_ms <= MAX_INSTRUMENT_LATE_MS
    }

    fn cpu_per_m(&self) -> f64 {
        self.cpu_s / self.tokens * 1e6
    }

    fn mock_cpu_per_m(&self) -> f64 {
        self.mock_cpu_s / self.tokens * 1e6
    }
}

/// A process's user + system CPU time so far, s, from `/proc/PID/stat` (NaN where unreadable).
fn process_cpu_s(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return f64::NAN };
    // The fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    // SAFETY: sysconf takes and returns plain integers.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (field(11) + field(12)) / ticks
}

/// What a client reported: ok requests, its duration (s), mean TTFT (ms), ITL p99 (ms).
struct Reported {
    ok: u64,
    duration_s: f64,
    ttft_mean_ms: f64,
    itl_p99_ms: f64,
}

/// Runs `command` (its output to `log`), measuring its CPU and peak memory with `wait4` and the
/// server's peak of running requests, and compares what `read` makes of its output with the truth.
fn measure(
    mut command: Command,
    log: &Path,
    mock: Mock,
    read: impl FnOnce() -> Result<Reported, String>,
) -> Run {
    let out = std::fs::File::create(log).expect("client log");
    command.stdout(out.try_clone().expect("client log")).stderr(out).stdin(Stdio::null());
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = mock.watch_running(Arc::clone(&stop));
    let mock_cpu_before = process_cpu_s(mock.child.id());
    let started = Instant::now();
    // Reaped by the wait4 below, which also reads its rusage.
    let pid = command.spawn().expect("start the client").id() as libc::pid_t;
    // SAFETY: wait4 fills the status and the zeroed rusage we pass, for our own child.
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall_s = started.elapsed().as_secs_f64();
    let mock_cpu_s = process_cpu_s(mock.child.id()) - mock_cpu_before;
    stop.store(true, Ordering::Relaxed);
    let peak = watcher.join().unwrap_or(0);
    assert!(waited >= 0, "wait4 on the client: {}", std::io::Error::last_os_error());
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let exit = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status).to_string()
    } else {
        format!("signal {}", libc::WTERMSIG(status))
    };
    let truth = mock.truth();
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let reported = read().unwrap_or_else(|why| {
        let tail = std::fs::read_to_string(log).unwrap_or_default();
        let tail: String =
            tail.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
        eprintln!("{why} (exit {exit}); the client's last output:\n{tail}");
        Reported { ok: 0, duration_s: f64::NAN, ttft_mean_ms: f64::NAN, itl_p99_ms: f64::NAN }
    });
    Run {
        exit,
        ok: reported.ok,
        cpu_s: secs(usage.ru_utime) + secs(usage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        rss_mb: usage.ru_maxrss as f64 / 1024.0,
        peak,
        duration_s: reported.duration_s,
        wall_s,
        ttft_error_ms: reported.ttft_mean_ms - f(&truth["ttft_ms"]["mean"]),
        itl_p99_ms: reported.itl_p99_ms,
        mock_itl_max_ms: f(&truth["itl_ms"]["max"]),
        tokens: f(&truth["text_events"]),
        late_ttft_ms: f(&truth["ttft_ms"]["p99"]) - TTFT_MS,
        late_itl_ms: f(&truth["itl_ms"]["p99"]) - ITL_MS,
        priority: mock.priority.clone(),
        mock_cpu_s,
    }
}

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("llmload-vs-vllm-bench-{}-{name}", std::process::id()))
}

fn llmload(row: &Row) -> Run {
    let mock = start_mock();
    let json = scratch(&format!("{}-llmload.json", row.name));
    let mut command = Command::new(BIN);
    command.args(["run", "--url", &mock.url, "--api", "openai-completions"]);
    command.args(["-c", &row.streams.to_string(), "-n", &row.requests.to_string(), "--ramp-up", "0s"]);
    command.args(["--max-tokens", &TOKENS.to_string(), "--ignore-eos", "--quiet"]);
    // The mock's truth is compared request for request: no extra preflight request.
    command.args(["--no-preflight", "--json"]).arg(&json);
    let log = scratch(&format!("{}-llmload.log", row.name));
    let read = || {
        let text = std::fs::read_to_string(&json)
            .map_err(|e| format!("llmload's summary {}: {e}", json.display()))?;
        let j: Value = serde_json::from_str(&text).map_err(|e| format!("llmload's summary: {e}"))?;
        let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        Ok(Reported {
            ok: j["requests"]["ok"].as_u64().unwrap_or(0),
            duration_s: f(&j["wall_s"]),
            ttft_mean_ms: f(&j["metrics"]["ttft_ms"]["mean"]),
            itl_p99_ms: f(&j["metrics"]["itl_ms"]["p99"]),
        })
    };
    let run = measure(command, &log, mock, read);
    let _ = std::fs::remove_file(&json);
    let _ = std::fs::remove_file(&log);
    run
}

fn vllm_bench(exe: &Path, row: &Row) -> Run {
    let mock = start_mock();
    let dir = scratch(&format!("{}-vllm-bench", row.name));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let mut command = Command::new(exe);
    command.env("HF_HUB_OFFLINE", "1");
    command.args([
        "--backend",
        "openai",
        "--base-url",
        &mock.url,
        "--model",
        "mock",
        "--tokenizer",
        TOKENIZER,
    ]);
    command.args(["--dataset-name", "random", "--random-input-len", &PROMPT_TOKENS.to_string()]);
    command.args(["--random-output-len", &TOKENS.to_string(), "--ignore-eos"]);
    command.args(["--num-prompts", &row.requests.to_string(), "--max-concurrency", &row.streams.to_string()]);
    command.args(["--num-warmups", "0", "--disable-tqdm", "--save-result", "--save-detailed"]);
    command.args(["--result-filename", "result.json", "--result-dir"]).arg(&dir);
    let log = dir.join("log.txt");
    let json = dir.join("result.json");
    let read = || {
        let text = std::fs::read_to_string(&json)
            .map_err(|e| format!("vllm-bench's result {}: {e}", json.display()))?;
        let j: Value = serde_json::from_str(&text).map_err(|e| format!("vllm-bench's result: {e}"))?;
        let ttfts: Vec<f64> = j["ttfts"].as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
        let mut itls: Vec<f64> = j["itls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(Value::as_f64)
            .collect();
        itls.sort_by(f64::total_cmp);
        let p99 = match itls.len() {
            0 => f64::NAN,
            n => itls[((n as f64 * 0.99).ceil() as usize).clamp(1, n) - 1],
        };
        Ok(Reported {
            ok: j["completed"].as_u64().unwrap_or(0),
            duration_s: j["duration"].as_f64().unwrap_or(f64::NAN),
            ttft_mean_ms: ttfts.iter().sum::<f64>() / ttfts.len() as f64 * 1000.0,
            itl_p99_ms: p99 * 1000.0,
        })
    };
    let run = measure(command, &log, mock, read);
    let _ = std::fs::remove_dir_all(&dir);
    run
}

/// The vllm-bench to run: `VLLM_BENCH`, else `vllm-bench` on `PATH`; `Err` says why there is none.
fn find_vllm_bench() -> Result<PathBuf, String> {
    if let Some(given) = std::env::var_os("VLLM_BENCH") {
        let path = PathBuf::from(&given);
        return match path.is_file() {
            true => Ok(path),
            false => Err(format!(
                "VLLM_BENCH={} is not a file: give the path of a built vllm-bench binary",
                path.display()
            )),
        };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("vllm-bench"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "no vllm-bench: set VLLM_BENCH to its binary or put it on PATH (build it from \
             https://github.com/vllm-project/vllm-bench with `cargo build --release`); this bench never downloads it"
                .to_string()
        })
}

fn cells(name: &str, row: &Row, client: &str, r: &Run) -> String {
    format!(
        "| {name} | {} | {client} | {}/{} | {:.1} | {:.1} | {:.0} | {} | {:.2} / {:.2} | {:+.1} | {:.1} / {:.1} | {:+.1} / {:+.1} | {} | {} | {} |",
        row.streams,
        r.ok,
        row.requests,
        r.cpu_per_m(),
        r.mock_cpu_per_m(),
        r.rss_mb,
        r.peak,
        r.duration_s,
        r.wall_s,
        r.ttft_error_ms,
        r.itl_p99_ms,
        r.mock_itl_max_ms,
        r.late_ttft_ms,
        r.late_itl_ms,
        match (r.tokens > 0.0, r.valid()) {
            (false, _) => "no: the mock recorded no tokens",
            (true, true) => "yes",
            (true, false) => "no: the instrument slipped",
        },
        r.priority,
        r.exit,
    )
}

fn main() {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let exe = match find_vllm_bench() {
        Ok(exe) => exe,
        // Asked for by name and not there: an error, not a skip.
        Err(why) if std::env::var_os("VLLM_BENCH").is_some() => {
            eprintln!("vs_vllm_bench: {why}");
            std::process::exit(1);
        }
        Err(why) => {
            println!("vs_vllm_bench skipped: {why}");
            return;
        }
    };
    println!("vllm-bench: {}", exe.display());
    println!(
        "| row | streams | client | ok/requests | CPU-s per 1M tokens | the mock's CPU-s per 1M tokens | peak RSS MB | server's peak streams | duration / process wall s (theory {:.2} s a round) | TTFT mean error ms | ITL p99 / mock's largest gap ms | instrument late TTFT p99 / ITL p99 ms | valid | instrument priority | exit |",
        (TTFT_MS + ITL_MS * f64::from(TOKENS)) / 1000.0
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in ROWS.iter().filter(|r| filter.is_empty() || filter.iter().any(|f| r.name.contains(f.as_str())))
    {
        let ours = llmload(row);
        println!("{}", cells(row.name, row, "llmload", &ours));
        let theirs = vllm_bench(&exe, row);
        println!("{}", cells(row.name, row, "vllm-bench", &theirs));
        println!(
            "| {} | {} | llmload / vllm-bench | | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} / {:.2} | {:.2} (of absolute errors) | {:.2} | | {} | | |",
            row.name,
            row.streams,
            ours.cpu_per_m() / theirs.cpu_per_m(),
            ours.mock_cpu_per_m() / theirs.mock_cpu_per_m(),
            ours.rss_mb / theirs.rss_mb,
            ours.peak as f64 / theirs.peak as f64,
            ours.duration_s / theirs.duration_s,
            ours.wall_s / theirs.wall_s,
            ours.ttft_error_ms.abs() / theirs.ttft_error_ms.abs(),
            ours.itl_p99_ms / theirs.itl_p99_ms,
            if ours.valid() && theirs.valid() { "both" } else { "no" },
        );
    }
}
