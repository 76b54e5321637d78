//! Soak: a long run at many streams against the mock with mixed faults, checking that nothing is
//! lost and nothing leaks. Defaults: 30 minutes, 512 streams, 5 % faults (503, 429, cut streams,
//! in-stream errors, malformed events, resets before the headers, stalls past the idle timeout).
//!
//! It reports requests made, that every one is accounted for — the records' lines equal the
//! summary's total, their attempts equal the requests the mock received, and their
//! `x-request-id`s are all distinct mock ids (none duplicated; the only records without one are
//! resets and requests cancelled before their headers) — and the client's resident memory
//! sampled through the run (start after ramp-up, end, max), which should stay flat.
//!
//! `cargo bench --bench soak` runs 30 minutes; `cargo bench --bench soak -- 300` runs 300 s;
//! `LLMLOAD_SOAK_STREAMS=128` changes the stream count. Mock and client each run in their own
//! process, like `benches/end_to_end.rs`.

use serde_json::Value;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_llmload");
const DEFAULT_SECS: u64 = 30 * 60;
const DEFAULT_STREAMS: usize = 512;
/// How long `stall` goes silent: past the client's `--idle-timeout 1s`.
const FAULT_DELAY_MS: u64 = 3000;
/// 5 % of requests in all; the first rule that hits a request wins.
const FAULTS: &[&str] = &[
    "http-503:0.01",
    "http-429:0.005",
    "cut:0.01",
    "stream-error:0.01",
    "malformed:0.005",
    "reset:0.005",
    "stall:0.005",
];

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let secs: u64 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .and_then(|a| a.parse().ok())
        .unwrap_or(DEFAULT_SECS);
    let streams: usize =
        std::env::var("LLMLOAD_SOAK_STREAMS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_STREAMS);
    let dir = std::env::temp_dir().join(format!("llmload-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (json, records) = (dir.join("summary.json"), dir.join("records.jsonl"));

    let mut mock_args: Vec<String> =
        ["mock", "--port", "0", "--ttft", "200ms", "--itl", "20ms", "--tokens", "64", "--fault-delay"]
            .map(String::from)
            .to_vec();
    mock_args.push(format!("{FAULT_DELAY_MS}ms"));
    for f in FAULTS {
        mock_args.extend(["--fault".into(), f.to_string()]);
    }
    let mut mock = Command::new(BIN).args(&mock_args).stdout(Stdio::piped()).spawn().expect("start mock");
    let mut first = String::new();
    BufReader::new(mock.stdout.take().expect("mock stdout")).read_line(&mut first).expect("mock URL");
    let url = first.trim().rsplit(' ').next().expect("URL").to_string();

    println!("soak: {streams} streams for {secs} s against {url}, faults {}", FAULTS.join(" "));
    let started = Instant::now();
    let mut client = Command::new(BIN)
        .args(["run", "--url", &url, "--api", "dify-chat", "-c", &streams.to_string(), "--ramp-up", "10s"])
        // No preflight: every request the mock counts must be one of the run's records.
        .args(["-d", &format!("{secs}s"), "--idle-timeout", "1s", "--quiet", "--no-preflight"])
        .args(["--json", json.to_str().unwrap(), "--records", records.to_str().unwrap()])
        .stdout(Stdio::null())
        .spawn()
        .expect("start llmload run");
    let pid = client.id();
    // Samples every 10 s: the first after the ramp-up is "start", the last before exit "end".
    let mut samples: Vec<(u64, u64)> = Vec::new();
    let status = loop {
        if let Some(status) = client.try_wait().expect("wait") {
            break status;
        }
        let t = started.elapsed().as_secs();
        if let Some(kib) = rss_kib(pid).filter(|_| t >= 15 && samples.last().is_none_or(|s| t >= s.0 + 10)) {
            samples.push((t, kib));
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let wall = started.elapsed().as_secs_f64();

    // The mock merges a response's truth once its last byte is out or its client is gone; a
    // stalled stream notices that only after the fault delay. Wait until the truth has been
    // still for longer than that delay.
    let stats = || -> Value {
        let mut r = ureq::get(format!("{url}/mock/stats")).call().expect("GET /mock/stats");
        serde_json::from_str(&r.body_mut().read_to_string().expect("body")).expect("stats JSON")
    };
    let (mut truth, mut still) = (stats(), 0);
    for _ in 0..120 {
        std::thread::sleep(Duration::from_millis(500));
        let again = stats();
        still = if again == truth { still + 1 } else { 0 };
        truth = again;
        if still * 500 > FAULT_DELAY_MS + 1000 {
            break;
        }
    }
    let _ = mock.kill();
    let _ = mock.wait();

    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("summary")).expect("JSON");
    let lines: Vec<Value> = std::fs::read_to_string(&records)
        .expect("records")
        .lines()
        .map(|l| serde_json::from_str(l).expect("record line"))
        .collect();
    let attempts: u64 = lines.iter().map(|r| r["attempts"].as_u64().unwrap_or(0)).sum();
    let mut ids = HashSet::new();
    let (mut duplicated, mut without_id, mut foreign) = (0u64, 0u64, 0u64);
    for r in &lines {
        match r["request_id"].as_str() {
            None => without_id += 1,
            Some(id) => {
                let n = id.strip_prefix("mock-").and_then(|n| n.parse::<u64>().ok());
                match n {
                    Some(n) if n < truth["requests"].as_u64().unwrap_or(0) => {}
                    _ => foreign += 1,
                }
                if !ids.insert(id.to_string()) {
                    duplicated += 1;
                }
            }
        }
    }
    let resets = truth["faults"]["reset"].as_u64().unwrap_or(0);
    let cancelled = summary["requests"]["cancelled"].as_u64().unwrap_or(0);
    let total = summary["requests"]["total"].as_u64().unwrap_or(0);
    let received = truth["requests"].as_u64().unwrap_or(0);
    let checks = [
        ("records == summary total", lines.len() as u64 == total),
        ("attempts in records == requests the mock received", attempts == received),
        ("no request id twice", duplicated == 0),
        ("every id is one the mock gave", foreign == 0),
        ("records without an id <= resets + cancelled", without_id <= resets + cancelled),
    ];
    let mib = |k: u64| k as f64 / 1024.0;
    println!("exit {:?} after {wall:.0} s", status.code());
    println!(
        "requests: {total} in the summary ({} ok, {} failed, {cancelled} cancelled at the deadline), {} record lines, mock received {received} ({} completed), faults injected {}",
        summary["requests"]["ok"],
        summary["requests"]["failed"],
        lines.len(),
        truth["completed"],
        truth["faults"]
    );
    println!("errors: {}", summary["errors"]);
    println!(
        "ids: {} distinct, {duplicated} duplicated, {without_id} records without one ({resets} resets)",
        ids.len()
    );
    // The curve, in ten steps: flat after warm-up, or growing with time (a leak)?
    let step = samples.len().div_ceil(10).max(1);
    let curve: Vec<String> =
        samples.iter().step_by(step).map(|(t, k)| format!("{t}s {:.1}", mib(*k))).collect();
    println!("client RSS over time (MiB): {}", curve.join(", "));
    if let (Some(start), Some(end)) = (samples.first(), samples.last()) {
        let max = samples.iter().map(|s| s.1).max().unwrap_or(0);
        println!(
            "client RSS: start {:.1} MiB (t={} s), end {:.1} MiB (t={} s), max {:.1} MiB, {} samples; summary peak {:.1} MiB, client CPU {:.1} s",
            mib(start.1),
            start.0,
            mib(end.1),
            end.0,
            mib(max),
            samples.len(),
            summary["client"]["peak_rss_mb"].as_f64().unwrap_or(0.0),
            summary["client"]["cpu_s"].as_f64().unwrap_or(0.0)
        );
    }
    let mut ok = true;
    for (name, passed) in checks {
        println!("{} {name}", if passed { "PASS" } else { "FAIL" });
        ok &= passed;
    }
    let _ = std::fs::remove_dir_all(&dir);
    if !ok {
        std::process::exit(1);
    }
}
