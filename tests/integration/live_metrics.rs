//! `--metrics-listen`: the live metrics served while a run goes on, scraped by hand (the format,
//! counters that only grow, the last scrape within the summary), checked by `promtool check
//! metrics`, and scraped by a real Prometheus whose query returns the run's request count
//! (`--metrics-linger` keeps the final numbers up for its last scrape). The Prometheus tools come
//! from Debian's `prometheus` package; without them these tests skip (`util::skip`), or fail
//! where `LLMLOAD_REQUIRE_PROMETHEUS=1` (as .ci/run sets).

use crate::util::{Dir, Llmload, dead_port, paced_mock, skip};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `GET path` on loopback `port`: the status code and body, or `None` when nothing answered.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").ok()?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).ok()?;
    let (head, body) = reply.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// The samples of an exposition: `name{labels}` → value; panics on a line that is neither a
/// comment nor a sample whose every label is `key="value"` with `run_id` and `shard` among them.
fn samples(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line:?}"));
        let (name, labels) = series.split_once('{').unwrap_or_else(|| panic!("no labels: {line:?}"));
        assert!(name.starts_with("llmload_") && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        let labels = labels.strip_suffix('}').unwrap_or_else(|| panic!("labels unclosed: {line:?}"));
        assert!(labels.starts_with("run_id=\"") && labels.contains(",shard=\""), "{line:?}");
        let labels = labels.strip_suffix('"').unwrap_or_else(|| panic!("label unclosed: {line:?}"));
        for pair in labels.split("\",") {
            let (k, _) = pair.split_once("=\"").unwrap_or_else(|| panic!("bad label in {line:?}"));
            assert!(k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line:?}");
        }
        let v: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line:?}"));
        out.insert(series.to_string(), v);
    }
    out
}

/// The sum of every sample of `name` (its label sets together).
fn total(s: &BTreeMap<String, f64>, name: &str) -> f64 {
    s.iter().filter(|(k, _)| k.starts_with(&format!("{name}{{"))).map(|(_, v)| v).sum()
}

/// Scrapes `port` every 100 ms while `child` runs (at most `limit`): every page served.
fn scrape_while_running(child: &mut Child, port: u16, limit: Duration) -> Vec<String> {
    let (start, mut pages) = (Instant::now(), Vec::new());
    while start.elapsed() < limit && child.try_wait().expect("poll llmload").is_none() {
        if let Some((status, body)) = get(port, "/metrics") {
            assert_eq!(status, 200, "{body}");
            pages.push(body);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    pages
}

fn finished(child: Child, cmd: &Llmload) -> crate::util::Output {
    let out = child.wait_with_output().expect("llmload ends");
    crate::util::Output::of(cmd.shown(), out)
}

/// A run of `args` against `mock` serving its live metrics on a free port, its summary in
/// `dir`: every page scraped while it ran, its output, and the port it served on.
fn scraped_run(
    mock: &llmload::mock::MockHandle,
    args: &str,
    dir: &Dir,
) -> (Vec<String>, crate::util::Output, u16) {
    let port = dead_port();
    let cmd = Llmload::run(mock).args(args).opt("--metrics-listen", format!("127.0.0.1:{port}")).json_in(dir);
    let mut child = cmd.command().stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run llmload");
    let pages = scrape_while_running(&mut child, port, Duration::from_secs(30));
    (pages, finished(child, &cmd), port)
}

#[test]
fn live_metrics_grow_during_the_run_and_stay_within_the_summary() {
    let dir = Dir::new("live_metrics_grow");
    let mock = paced_mock(20, 5, 8);
    let (pages, out, port) = scraped_run(&mock, "--api openai-chat -c 2 -d 4s --quiet --run-id live-1", &dir);
    out.expect_code(0);
    assert!(pages.len() >= 2, "scraped {} pages during a 4 s run{}", pages.len(), out.context());
    let summary = dir.json(&out);
    let families = ["requests", "errors", "warmup_requests", "output_tokens", "input_tokens"];
    let mut last: Option<BTreeMap<String, f64>> = None;
    for page in &pages {
        for (name, kind) in [
            ("llmload_requests_total", "counter"),
            ("llmload_ttft_seconds", "histogram"),
            ("llmload_requests_in_flight", "gauge"),
            ("llmload_client_verdict", "gauge"),
        ] {
            assert!(page.contains(&format!("\n# TYPE {name} {kind}\n")), "{name} in\n{page}");
        }
        let now = samples(page);
        assert!(now.keys().all(|k| k.contains("run_id=\"live-1\",shard=\"\"")), "{page}");
        let info = format!(
            "llmload_run_info{{run_id=\"live-1\",shard=\"\",api=\"openai-chat\",url_host=\"{}\",version=\"{}\"}}",
            mock.addr(),
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(now.get(&info), Some(&1.0), "{info} in\n{page}");
        if let Some(before) = &last {
            for (k, v) in before.iter().filter(|(k, _)| {
                families.iter().any(|f| k.starts_with(&format!("llmload_{f}_total{{")))
                    || k.contains("_seconds_bucket{")
                    || k.contains("_seconds_count{")
            }) {
                assert!(now.get(k).is_some_and(|n| n >= v), "{k} went from {v} to {:?}", now.get(k));
            }
        }
        last = Some(now);
    }
    let last = last.expect("a page");
    let requests = summary["requests"]["total"].as_f64().expect("requests.total");
    let scraped = total(&last, "llmload_requests_total");
    assert!(scraped > 0.0 && scraped <= requests, "last scrape {scraped}, summary {requests}");
    let ttft_count = last["llmload_ttft_seconds_count{run_id=\"live-1\",shard=\"\"}"];
    assert_eq!(ttft_count, last["llmload_ttft_seconds_bucket{run_id=\"live-1\",shard=\"\",le=\"+Inf\"}"]);
    // The server is gone with the run.
    assert!(get(port, "/metrics").is_none(), "still served after the run");
}

#[test]
fn a_bad_or_busy_metrics_address_is_refused_before_any_request() {
    let mock = paced_mock(1, 1, 2);
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = held.local_addr().expect("addr").to_string();
    for (given, says) in
        [(addr.as_str(), "cannot listen there ("), ("localhost", "give HOST:PORT, e.g. 127.0.0.1:9464")]
    {
        let out = Llmload::run(&mock).args("-n 1 --quiet").opt("--metrics-listen", given).output();
        out.expect_code(2);
        assert!(
            out.stderr.contains(&format!("--metrics-listen \"{given}\" is invalid: {says}")),
            "{}",
            out.context()
        );
    }
    let truth = crate::util::truth(&mock);
    assert_eq!(truth.requests, 0, "no request before the refusal");
}

/// `program` on PATH, or why the test cannot run (skipped, or failed where required).
fn tool(test: &str, program: &str) -> Option<String> {
    let found = Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success());
    if found {
        return Some(program.to_string());
    }
    let why = format!("`{program}` is not on PATH: apt-get install -y prometheus");
    let required = std::env::var("LLMLOAD_REQUIRE_PROMETHEUS").is_ok_and(|v| v == "1");
    assert!(!required, "LLMLOAD_REQUIRE_PROMETHEUS=1 but {why}");
    skip(test, &why);
    None
}

#[test]
fn promtool_accepts_the_served_text() {
    const TEST: &str = "promtool_accepts_the_served_text";
    let Some(promtool) = tool(TEST, "promtool") else { return };
    let dir = Dir::new("promtool_metrics");
    let mock = paced_mock(10, 2, 8);
    let (pages, out, _) = scraped_run(&mock, "--api openai-chat -c 2 -d 3s --quiet --cancel 0.2@2tok", &dir);
    out.expect_code(0);
    // The fullest page: the last one with finished requests.
    let page =
        pages.iter().rev().find(|p| total(&samples(p), "llmload_requests_total") > 0.0).unwrap_or_else(
            || panic!("no page with a finished request among {}{}", pages.len(), out.context()),
        );
    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    check.stdin.take().expect("stdin").write_all(page.as_bytes()).expect("feed promtool");
    let checked = check.wait_with_output().expect("promtool ends");
    let said =
        format!("{}{}", String::from_utf8_lossy(&checked.stdout), String::from_utf8_lossy(&checked.stderr));
    assert!(checked.status.success() && said.trim().is_empty(), "promtool check metrics: {said}\n{page}");
}

/// A process killed when dropped (a failing assertion included).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `s` percent-encoded for a URL's query.
fn encoded(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of instant `query` on the Prometheus at `port` (`None` while it has no sample).
fn query(port: u16, query: &str) -> Option<f64> {
    let (status, body) = get(port, &format!("/api/v1/query?query={}", encoded(query)))?;
    assert_eq!(status, 200, "{query}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

#[test]
fn prometheus_scrapes_the_run_and_counts_its_requests() {
    const TEST: &str = "prometheus_scrapes_the_run_and_counts_its_requests";
    let Some(prometheus) = tool(TEST, "prometheus") else { return };
    let dir = Dir::new("prometheus_scrapes");
    let (port, prom_port) = (dead_port(), dead_port());
    let config = dir.create(
        "prometheus.yml",
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: llmload\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    );
    let server = Command::new(&prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start prometheus");
    let mut server = Killed(server);
    let started = Instant::now();
    while get(prom_port, "/-/ready").is_none_or(|(s, _)| s != 200) {
        if started.elapsed() > Duration::from_secs(60) || server.0.try_wait().ok().flatten().is_some() {
            let mut err = String::new();
            if let Some(mut e) = server.0.stderr.take() {
                let _ = server.0.kill();
                let _ = e.read_to_string(&mut err);
            }
            panic!("prometheus did not become ready on port {prom_port}:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Prometheus hands new targets to its scrapers a few seconds after it starts: wait for its
    // first try at the target (down, before the run), so the short run is scraped all along.
    let scraping = |(s, body): (u16, String)| {
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        let last = v["data"]["activeTargets"][0]["lastScrape"].as_str().unwrap_or("0001");
        s == 200 && !last.starts_with("0001")
    };
    while !get(prom_port, "/api/v1/targets").is_some_and(scraping) {
        assert!(started.elapsed() < Duration::from_secs(60), "prometheus never tried its target");
        std::thread::sleep(Duration::from_millis(200));
    }
    let mock = paced_mock(20, 5, 8);
    let out = Llmload::run(&mock)
        .args("--api openai-chat -c 2 -n 40 --quiet --run-id prom-1 --metrics-linger 3s")
        .opt("--metrics-listen", format!("127.0.0.1:{port}"))
        .json_in(&dir)
        .output();
    out.expect_code(0);
    let ok = dir.json(&out)["requests"]["ok"].as_f64().expect("requests.ok");
    assert_eq!(ok, 40.0, "{}", out.context());
    let q = "max_over_time(sum(llmload_requests_total{run_id=\"prom-1\",outcome=\"ok\"})[5m:1s])";
    let (start, mut seen) = (Instant::now(), None);
    while start.elapsed() < Duration::from_secs(15) {
        seen = query(prom_port, q);
        if seen == Some(ok) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(seen, Some(ok), "{q} against the summary's requests.ok{}", out.context());
}

#[test]
fn a_sweep_serves_each_level_on_the_same_address() {
    let mock = paced_mock(20, 5, 8);
    let port = dead_port();
    let cmd = Llmload::new("sweep")
        .url(&mock)
        .args("--api openai-chat -c 1,2 -d 2s --quiet --run-id sw-1")
        .opt("--metrics-listen", format!("127.0.0.1:{port}"));
    let mut child = cmd.command().stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run llmload");
    let pages = scrape_while_running(&mut child, port, Duration::from_secs(60));
    finished(child, &cmd).expect_code(0);
    for level in ["sw-1:c1", "sw-1:c2"] {
        let workers = format!("llmload_workers{{run_id=\"{level}\",shard=\"\"}}");
        assert!(pages.iter().any(|p| samples(p).contains_key(&workers)), "no page of level {level}");
    }
}
