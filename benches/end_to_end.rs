//! End-to-end cost and accuracy of the client against the embedded mock, each in its own process
//! on 127.0.0.1: client CPU-seconds per 1M streamed tokens, client peak memory, and the error of
//! llmload's TTFT/ITL p50 and p99 against what the mock recorded it sent. The mock is the
//! instrument: each row also shows how late it was against its own configured schedule, and a
//! row whose instrument slipped is marked invalid (agreeing with a late instrument proves nothing).
//!
//! `cargo bench --bench end_to_end` runs every scenario (about 2 minutes on 2 cores);
//! `cargo bench --bench end_to_end -- 256` runs the scenarios whose name contains "256".

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_llmload");
/// The instrument's p99 lateness (its TTFT and ITL over the configured ones) above which a row
/// is not evidence of the client's accuracy.
const MAX_INSTRUMENT_LATE_MS: f64 = 5.0;

struct Scenario {
    name: &'static str,
    concurrency: usize,
    requests: usize,
    ramp_up: &'static str,
    ttft: &'static str,
    itl: &'static str,
    tokens: u32,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "c1",
        concurrency: 1,
        requests: 8,
        ramp_up: "0s",
        ttft: "100ms",
        itl: "10ms",
        tokens: 200,
    },
    Scenario {
        name: "c256",
        concurrency: 256,
        requests: 1024,
        ramp_up: "1s",
        ttft: "100ms",
        itl: "10ms",
        tokens: 200,
    },
    Scenario {
        name: "c1024",
        concurrency: 1024,
        requests: 3072,
        ramp_up: "2s",
        ttft: "100ms",
        itl: "10ms",
        tokens: 200,
    },
    Scenario {
        name: "c10000-itl250",
        concurrency: 10_000,
        requests: 10_000,
        ramp_up: "5s",
        ttft: "100ms",
        itl: "250ms",
        tokens: 20,
    },
];

/// A mock server in its own process, so its CPU is not the client's.
struct Mock {
    child: Child,
    url: String,
}

impl Mock {
    fn start(s: &Scenario) -> Mock {
        let mut child = Command::new(BIN)
            .args([
                "mock",
                "--port",
                "0",
                "--ttft",
                s.ttft,
                "--itl",
                s.itl,
                "--tokens",
                &s.tokens.to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start llmload mock");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("mock stdout"))
            .read_line(&mut first)
            .expect("mock prints its URL");
        let url = first.trim().rsplit(' ').next().expect("URL").to_string();
        Mock { child, url }
    }

    fn truth(&self) -> Value {
        let mut resp = ureq::get(format!("{}/mock/stats", self.url)).call().expect("GET /mock/stats");
        serde_json::from_str(&resp.body_mut().read_to_string().expect("stats body")).expect("stats JSON")
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(s: &Scenario) -> String {
    let mock = Mock::start(s);
    let json = std::env::temp_dir().join(format!("llmload-bench-{}-{}.json", s.name, std::process::id()));
    let started = Instant::now();
    let status = Command::new(BIN)
        .args([
            "run",
            "--url",
            &mock.url,
            "--api",
            "openai-chat",
            "-c",
            &s.concurrency.to_string(),
            "-n",
            &s.requests.to_string(),
            "--ramp-up",
            s.ramp_up,
            "--quiet",
            // The mock's truth is compared request for request: no extra preflight request.
            "--no-preflight",
            "--json",
            json.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .status()
        .expect("run llmload");
    let wall = started.elapsed().as_secs_f64();
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("summary written"))
        .expect("summary JSON");
    let _ = std::fs::remove_file(&json);
    let truth = mock.truth();
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let tokens = f(&j["tokens"]["output_total"]);
    let cpu = f(&j["client"]["cpu_s"]);
    let err = |metric: &str, p: &str| f(&j["metrics"][metric][p]) - f(&truth[metric][p]);
    let ms = |d: &str| d.strip_suffix("ms").and_then(|n| n.parse::<f64>().ok()).unwrap_or(f64::NAN);
    let late_ttft = f(&truth["ttft_ms"]["p99"]) - ms(s.ttft);
    let late_itl = f(&truth["itl_ms"]["p99"]) - ms(s.itl);
    let valid = late_ttft <= MAX_INSTRUMENT_LATE_MS && late_itl <= MAX_INSTRUMENT_LATE_MS;
    format!(
        "| {} | {} | {}/{} | {} | {:.0} | {:.2} | {:.1} | {:+.2} / {:+.2} | {:+.3} / {:+.3} | {:.1} / {:.1} | {:+.1} / {:+.1} | {} | {:.0} | {} |",
        s.name,
        s.concurrency,
        j["requests"]["ok"],
        s.requests,
        j["requests"]["failed"],
        tokens,
        cpu / tokens * 1e6,
        f(&j["client"]["peak_rss_mb"]),
        err("ttft_ms", "p50"),
        err("ttft_ms", "p99"),
        err("itl_ms", "p50"),
        err("itl_ms", "p99"),
        f(&truth["ttft_ms"]["p50"]),
        f(&j["metrics"]["ttft_ms"]["p50"]),
        late_ttft,
        late_itl,
        if valid { "yes" } else { "no: the instrument slipped" },
        wall,
        status.code().map_or("signal".into(), |c| c.to_string()),
    )
}

fn main() {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    println!(
        "| scenario | concurrency | ok/requests | failed | output tokens | client CPU-s per 1M tokens | client peak MiB | TTFT error p50 / p99 (ms) | ITL error p50 / p99 (ms) | TTFT p50 mock / llmload (ms) | instrument late TTFT p99 / ITL p99 (ms) | valid | wall s | exit |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for s in
        SCENARIOS.iter().filter(|s| filter.is_empty() || filter.iter().any(|f| s.name.contains(f.as_str())))
    {
        println!("{}", run(s));
    }
}
