//! `--server-metrics` against the mock, whose `/metrics` page (vLLM's names) counts exactly what
//! it did: the summary's server block agrees with it (tokens, requests in its histograms,
//! prefix cache), the client's TTFT is split by the server's own, a server that keeps decoding
//! streams its client left is caught and one that frees them is not, a dead page is a warning
//! that never stops the run, and the table and series carry the server's numbers.

use std::time::Duration;

use llmload::mock::MockConfig;

use crate::util::*;

fn page(mock: &llmload::mock::MockHandle) -> String {
    format!("{}/metrics", url(mock))
}

#[test]
fn the_server_block_agrees_with_what_the_mock_counted() {
    let mock = paced_mock(20, 2, 8);
    let dir = Dir::new("server-block");
    let series = dir.path("series.jsonl");
    let (out, s) = Llmload::run(&mock)
        .args("-c 2 -n 10")
        .opt("--server-metrics", page(&mock))
        .opt("--scrape-interval", "100ms")
        .opt("--series", &series)
        .json(&dir);
    out.expect_code(0);
    let server = &s["server"];
    assert_eq!(server["kind"], "vllm", "{server:#}");
    assert_eq!(server["pages"][0]["url"], page(&mock));
    assert_eq!(server["pages"][0]["failed"], 0);
    // The preflight's request ended before the first scrape: the counters hold the run's only.
    assert_eq!(server["tokens"]["generated"], 80.0, "10 × 8 tokens: {server:#}");
    assert_eq!(server["tokens"]["received"], 80);
    assert_eq!(server["tokens"]["difference"], 0.0);
    assert_eq!(s["tokens"]["output_total"], 80);
    for h in ["ttft_ms", "e2e_ms", "queue_ms", "prefill_ms"] {
        assert_eq!(server[h]["count"], 10.0, "{h}: {server:#}");
    }
    assert_eq!(server["itl_ms"]["count"], 70.0, "7 gaps a stream");
    let p50 = &server["ttft_ms"]["p50"];
    assert!(p50["low"].as_f64() <= p50["value"].as_f64() && p50["value"].as_f64() <= p50["high"].as_f64());
    let split = &server["ttft_split"];
    assert_eq!(split["client_ms"], s["metrics"]["ttft_ms"]["mean"], "{split:#}");
    assert_eq!(split["server_ms"], server["ttft_ms"]["mean"]);
    let sum = split["queue_ms"].as_f64().unwrap() + split["compute_ms"].as_f64().unwrap();
    assert!((sum - split["server_ms"].as_f64().unwrap()).abs() < 0.01, "{split:#}");
    assert_eq!(server["released"]["released"], true);
    assert_eq!(
        (server["released"]["before"].as_f64(), server["released"]["after"].as_f64()),
        (Some(0.0), Some(0.0))
    );
    assert!(server["running_max"].as_f64().unwrap() <= 2.0, "{server:#}");
    assert!(!out.stdout.contains("generation counter"), "no warning: {}", out.stdout);
    assert!(out.stdout.contains("server (its own metrics)"), "{}", out.stdout);
    assert!(
        out.stdout.contains("tokens: the server generated 80, llmload received 80 (agree)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("server r/w") && out.stderr.contains("KV"),
        "the table's columns: {}",
        out.stderr
    );
    // Every row of the series carries the server's named numbers and its raw samples.
    let text = std::fs::read_to_string(&series).unwrap();
    let rows: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!rows.is_empty());
    let with_server = rows.iter().filter(|r| r["server"].is_object()).count();
    assert_eq!(with_server, rows.len(), "{text}");
    let values = &rows[0]["server"]["values"][page(&mock)];
    assert!(
        values.as_object().unwrap().keys().any(|k| k.starts_with("vllm:num_requests_running{")),
        "{values:#}"
    );
}

/// With `--cancel`, a server that frees cancelled streams is back to what it held before the
/// run within the settle time; the mock's `--keep-decoding` keeps generating them for nobody,
/// and the summary says the server did not let go.
#[test]
fn a_server_that_keeps_decoding_cancelled_streams_is_caught() {
    for keep_decoding in [false, true] {
        let mock = mock_with(MockConfig {
            ttft: Duration::from_millis(10),
            itl: Duration::from_millis(20),
            tokens: 400, // 8 s a stream: past the 3 s the last scrape waits for the server
            keep_decoding,
            ..MockConfig::default()
        });
        let dir = Dir::new("server-release");
        let (out, s) = Llmload::run(&mock)
            .args("-c 2 -n 2 --cancel 1@2tok --quiet --no-preflight")
            .opt("--server-metrics", page(&mock))
            .json(&dir);
        out.expect_code(1); // no request succeeded: every one was left on purpose
        assert_eq!(s["requests"]["abandoned"], 2, "{}", out.context());
        let released = &s["server"]["released"];
        assert_eq!(released["released"], !keep_decoding, "keep_decoding {keep_decoding}: {:#}", s["server"]);
        let held = out.stdout.contains("did not let go of the run's requests");
        assert_eq!(held, keep_decoding, "{}", out.stdout);
        if keep_decoding {
            assert_eq!(released["after"], 2.0, "both abandoned streams still decoding: {released:#}");
        }
    }
}

#[test]
fn a_dead_metrics_page_is_a_warning_and_the_run_goes_on() {
    let mock = fast_mock(4, &[]);
    let dead = format!("127.0.0.1:{}", dead_port());
    let dir = Dir::new("server-dead");
    let (out, s) = Llmload::run(&mock).args("-c 1 -n 3 --quiet").opt("--server-metrics", &dead).json(&dir);
    out.expect_code(0);
    assert_eq!(s["requests"]["ok"], 3);
    let p = &s["server"]["pages"][0];
    assert_eq!(p["url"], format!("http://{dead}/metrics"));
    assert!(p["failed"].as_u64().unwrap() >= 2, "before and after the run at least: {p:#}");
    assert!(out.stdout.contains(&format!("--server-metrics http://{dead}/metrics: ")), "{}", out.stdout);
    assert_eq!(s["server"]["tokens"]["generated"], serde_json::Value::Null);
}

#[test]
fn bad_scrape_flags_are_refused_before_any_request() {
    let mock = fast_mock(4, &[]);
    for (args, said) in [
        ("--server-metrics ftp://h/metrics", "only http:// and https://"),
        ("--scrape-interval 1s", "give --server-metrics URL too"),
        ("--server-metrics h:1 --scrape-interval 5ms", "from 100ms to 60s"),
    ] {
        let out = Llmload::run(&mock).args("-n 1").args(args).output();
        out.expect_code(2);
        assert!(out.stderr.contains(said), "{args}: {}", out.stderr);
    }
    assert_eq!(truth(&mock).requests, 0);
}
