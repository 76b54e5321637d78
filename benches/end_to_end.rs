//! End-to-end cost and accuracy of the client against the embedded mock, each in its own process
//! on 127.0.0.1: client CPU-seconds per 1M streamed tokens, client peak memory, and the error of
//! llmload's TTFT/ITL p50 and p99 against what the mock recorded it sent. The mock is the
//! instrument: each row also shows how late it was against its own configured schedule, and a
//! row whose instrument slipped is marked invalid (agreeing with a late instrument proves nothing).
//!
//!
//! The instrument runs at real-time priority (else nice −10) where the OS allows it, so that
//! sharing the cores with the client makes it slip less; the bench says which it got. Each row also
//! shows the client's own verdict (`client.verdict`), and the CPU that oha
//! (<https://github.com/hatoo/oha>, `cargo install oha`) spends on the same scenario against a
//! fresh mock with the same settings, per 1M tokens of the same count (tokens per response × ok
//! responses), with the ratio llmload / oha: oha reads each streamed body whole without parsing
//! its events, so the ratio is what llmload's per-event timing and parsing cost on top of the
//! transport. The oha cell shows how late its mock was too: a mock that slipped bunches events
//! into fewer reads, which flatters either client's cost. Without oha on `PATH` those columns
//! print "—" and a note after the table says why.
//!
//! `cargo bench --bench end_to_end` runs every scenario (about 4 minutes on 2 cores with oha);
//! `cargo bench --bench end_to_end -- 256` runs the scenarios whose name contains "256".

use serde_json::Value;
use std::io::ErrorKind;
use std::process::{Command, Stdio};
use std::time::Instant;

#[path = "support/instrument.rs"]
mod instrument;

use instrument::Mock;

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

/// The body oha sends: an OpenAI chat request that asks for a stream, as llmload's is.
const OHA_BODY: &str = r#"{"model":"mock","messages":[{"role":"user","content":"Hello"}],"stream":true}"#;

/// The instrument with a scenario's settings.
fn start_mock(s: &Scenario) -> Mock {
    Mock::start(BIN, s.ttft, s.itl, s.tokens)
}

/// The mock's record of what it sent.
trait Truth {
    fn truth(&self) -> Value;
}

impl Truth for Mock {
    fn truth(&self) -> Value {
        let mut resp = ureq::get(format!("{}/mock/stats", self.url)).call().expect("GET /mock/stats");
        serde_json::from_str(&resp.body_mut().read_to_string().expect("stats body")).expect("stats JSON")
    }
}

/// The instrument's own lateness in one run.
struct Lateness {
    ttft_ms: f64,
    itl_ms: f64,
}

impl Lateness {
    /// How late the instrument was against the scenario's schedule, from what it recorded it
    /// sent (`truth`): its TTFT p99 and ITL p99 over the configured ones, ms.
    fn of(s: &Scenario, truth: &Value) -> Lateness {
        let ms = |d: &str| d.strip_suffix("ms").and_then(|n| n.parse::<f64>().ok()).unwrap_or(f64::NAN);
        let p99 = |metric: &str| truth[metric]["p99"].as_f64().unwrap_or(f64::NAN);
        Lateness { ttft_ms: p99("ttft_ms") - ms(s.ttft), itl_ms: p99("itl_ms") - ms(s.itl) }
    }

    /// Whether the run is evidence: an instrument on schedule.
    fn valid(&self) -> bool {
        self.ttft_ms <= MAX_INSTRUMENT_LATE_MS && self.itl_ms <= MAX_INSTRUMENT_LATE_MS
    }
}

/// oha's run of a scenario: its CPU-seconds, its ok responses, and how late the mock was.
struct OhaRun {
    cpu_s: f64,
    ok: f64,
    late: Lateness,
}

/// oha's CPU-seconds (user + system, from `wait4`), ok responses and the mock's lateness for the
/// scenario, against a fresh mock with the same settings; `Err` says why there are none.
fn oha(s: &Scenario) -> Result<OhaRun, String> {
    let mock = start_mock(s);
    let mut child = Command::new("oha")
        .args(["-c", &s.concurrency.to_string(), "-n", &s.requests.to_string()])
        .args(["--no-tui", "--output-format", "json", "-m", "POST"])
        .args(["-H", "Content-Type: application/json", "-d", OHA_BODY])
        .arg(format!("{}/v1/chat/completions", mock.url))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| match e.kind() {
            ErrorKind::NotFound => "oha is not installed (`cargo install oha`)".to_string(),
            _ => format!("oha did not start: {e}"),
        })?;
    let mut json = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("oha stdout"), &mut json)
        .map_err(|e| format!("reading oha's output: {e}"))?;
    // SAFETY: wait4 fills the status and the zeroed rusage we pass, for our own child.
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    if unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) } < 0 {
        return Err(format!("wait4 on oha: {}", std::io::Error::last_os_error()));
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = secs(usage.ru_utime) + secs(usage.ru_stime);
    let j: Value = serde_json::from_str(&json).map_err(|e| format!("oha's JSON: {e}"))?;
    let ok = j["statusCodeDistribution"]["200"].as_f64().unwrap_or(0.0);
    Ok(OhaRun { cpu_s: cpu, ok, late: Lateness::of(s, &mock.truth()) })
}

fn run(s: &Scenario, oha_result: &Result<OhaRun, String>) -> String {
    let mock = start_mock(s);
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
    let late = Lateness::of(s, &truth);
    let per_m = cpu / tokens * 1e6;
    let (oha_per_m, ratio) = match oha_result {
        Ok(o) if o.ok > 0.0 => {
            let oha_per_m = o.cpu_s / (o.ok * s.tokens as f64) * 1e6;
            // An instrument that slipped bunches events into fewer reads, which flatters
            // either client's cost per token.
            let slipped = if o.late.valid() { String::new() } else { ", the instrument slipped".into() };
            (
                format!(
                    "{oha_per_m:.2} ({:.0} ok; instrument late {:+.1} / {:+.1} ms{slipped})",
                    o.ok, o.late.ttft_ms, o.late.itl_ms
                ),
                format!("{:.2}", per_m / oha_per_m),
            )
        }
        Ok(_) => ("no ok response".into(), "—".into()),
        Err(_) => ("—".into(), "—".into()),
    };
    let verdict = j["client"]["verdict"].as_str().unwrap_or("none");
    format!(
        "| {} | {} | {}/{} | {} | {:.0} | {:.2} | {oha_per_m} | {ratio} | {:.1} | {verdict} | {:+.2} / {:+.2} | {:+.3} / {:+.3} | {:.1} / {:.1} | {:+.1} / {:+.1} | {} | {} | {:.0} | {} |",
        s.name,
        s.concurrency,
        j["requests"]["ok"],
        s.requests,
        j["requests"]["failed"],
        tokens,
        per_m,
        f(&j["client"]["peak_rss_mb"]),
        err("ttft_ms", "p50"),
        err("ttft_ms", "p99"),
        err("itl_ms", "p50"),
        err("itl_ms", "p99"),
        f(&truth["ttft_ms"]["p50"]),
        f(&j["metrics"]["ttft_ms"]["p50"]),
        late.ttft_ms,
        late.itl_ms,
        if late.valid() { "yes" } else { "no: the instrument slipped" },
        mock.priority,
        wall,
        status.code().map_or("signal".into(), |c| c.to_string()),
    )
}

fn main() {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    println!(
        "| scenario | concurrency | ok/requests | failed | output tokens | client CPU-s per 1M tokens | oha CPU-s per 1M tokens | llmload / oha | client peak MiB | client verdict | TTFT error p50 / p99 (ms) | ITL error p50 / p99 (ms) | TTFT p50 mock / llmload (ms) | instrument late TTFT p99 / ITL p99 (ms) | valid | instrument priority | wall s | exit |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut notes = Vec::new();
    for s in
        SCENARIOS.iter().filter(|s| filter.is_empty() || filter.iter().any(|f| s.name.contains(f.as_str())))
    {
        let oha_result = oha(s);
        if let Err(why) = &oha_result {
            notes.push(format!("{}: no oha comparison: {why}", s.name));
        }
        println!("{}", run(s, &oha_result));
    }
    for note in notes {
        println!("\n{note}");
    }
}
