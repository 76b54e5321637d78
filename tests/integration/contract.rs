//! The output contract: the JSON summary, the records and the vLLM result keys of a real run,
//! and the JSON of `llmload report` over those records, have exactly the keys docs/json.md,
//! docs/records.md and docs/vllm.md list (both ways); the JSON and a record decode into test-side types that refuse unknown keys;
//! and no float carries a binary tail. A new, removed or renamed key fails here until the docs
//! follow.

use crate::util::*;
use serde_json::Value;
use std::collections::BTreeSet;
use wire::{Record, Requests, Summary};

/// The keys a doc's tables list: every row whose first cell is one backticked path.
pub fn documented(doc: &str) -> BTreeSet<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join(doc);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path:?}: {e}"));
    text.lines()
        .filter_map(|l| l.strip_prefix("| `")?.split_once("` |").map(|(key, _)| key))
        .filter(|key| !key.contains('`'))
        .map(String::from)
        .collect()
}

/// Every key path of `v` under `path`, dotted, objects and leaves alike (arrays are leaves, but
/// the keys of objects in an array read `path[].key`):
/// the error-kind maps' keys read `<kind>`, and the statistics of each metric and of the
/// client's lags, its connect time and of `sessions.duration_ms` (the same distribution) `metrics.*.<stat>`.
fn key_paths(v: &Value, path: &str, out: &mut BTreeSet<String>) {
    if let Value::Array(items) = v {
        for item in items.iter().filter(|i| i.is_object()) {
            key_paths(item, &format!("{path}[]"), out);
        }
        return;
    }
    let Value::Object(map) = v else { return };
    for (k, child) in map {
        let child_path = match path {
            "" => k.clone(),
            "errors" | "error_messages" => format!("{path}.<kind>"),
            _ if path.starts_with("metrics.")
                || path.ends_with("_lag_ms")
                || path == "client.connect_ms"
                || (path.starts_with("steady_state.") && path.ends_with("_ms"))
                || path == "sessions.duration_ms" =>
            {
                format!("metrics.*.{k}")
            }
            // The server's five histograms have one shape, and each percentile another.
            _ if path.starts_with("server.") && path.ends_with("_ms") => format!("server.*_ms.{k}"),
            _ if path.starts_with("server.*_ms.p") => format!("server.*_ms.p*.{k}"),
            _ => format!("{path}.{k}"),
        };
        key_paths(child, &child_path, out);
        out.insert(child_path);
    }
}

/// Every number in `v` with its real dotted path, array elements included.
fn numbers(v: &Value, path: &str, out: &mut Vec<(String, f64)>) {
    match v {
        Value::Number(n) => out.push((path.to_string(), n.as_f64().unwrap_or(f64::NAN))),
        Value::Array(items) => items.iter().for_each(|item| numbers(item, path, out)),
        Value::Object(map) => {
            for (k, child) in map {
                numbers(child, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, out);
            }
        }
        _ => {}
    }
}

/// Fails on a number with more decimals than its unit keeps: seconds and shares 6 (a
/// threshold's actual value may be a share), all else 3.
pub fn assert_short_floats(v: &Value, what: &str) {
    let mut found = Vec::new();
    numbers(v, "", &mut found);
    for (path, x) in found {
        let places = if path.ends_with("success_rate")
            || path == "wrong_answer_rate"
            || path.ends_with("cache_hit_share")
            || path == "client.gaps_read_together"
            || path.starts_with("goodput.attainment")
            || path == "thresholds.actual"
            || (path.ends_with("_s") && !path.ends_with("per_s"))
        {
            6
        } else {
            3
        };
        let scale = 10f64.powi(places);
        assert_eq!((x * scale).round() / scale, x, "{what}: {path} = {x} has more than {places} decimals");
    }
}

fn assert_same_keys(found: &BTreeSet<String>, doc: &str) {
    let listed = documented(doc);
    let undocumented: Vec<_> = found.difference(&listed).collect();
    let unseen: Vec<_> = listed.difference(found).collect();
    assert!(
        undocumented.is_empty() && unseen.is_empty(),
        "docs/{doc} and the real output disagree:\n  written but not documented: {undocumented:?}\n  documented but not written: {unseen:?}"
    );
}

/// The summary and a record as a reader would declare them: every key and nothing more, so
/// decoding is the check; most fields are never read after it.
mod wire {
    #![allow(dead_code, reason = "decoded to pin the shape; tests read only some fields")]

    use serde::Deserialize;
    use serde_json::Value;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Summary {
        pub version: u32,
        pub tool: Tool,
        pub config: Value,
        pub started_at: String,
        pub wall_s: f64,
        pub window_s: f64,
        pub requests: Requests,
        pub success_rate: Option<f64>,
        pub wrong_answer_rate: Option<f64>,
        pub errors: BTreeMap<String, u64>,
        pub error_messages: BTreeMap<String, String>,
        pub throughput: Throughput,
        pub steady_state: Option<SteadyState>,
        pub goodput: Option<Goodput>,
        pub tokens: Tokens,
        pub metrics: Metrics,
        pub client: Client,
        pub warnings: Vec<String>,
        pub thresholds: Vec<Threshold>,
        pub by_key: Vec<KeyRow>,
        pub by_prompt: Vec<PromptRow>,
        pub sessions: Option<Sessions>,
        pub server: Option<Server>,
        pub repeats: Option<Repeats>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Repeats {
        pub runs: u32,
        pub metrics: Vec<Spread>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Spread {
        pub metric: String,
        pub values: Vec<Option<f64>>,
        pub mean: Option<f64>,
        pub cv: Option<f64>,
        pub ci95: Option<[f64; 2]>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SteadyState {
        pub start_s: f64,
        pub end_s: f64,
        pub duration_s: f64,
        pub requests_per_s: f64,
        pub output_tokens_per_s: f64,
        pub requests: u64,
        pub ok: u64,
        pub ttft_ms: Option<Stat>,
        pub itl_ms: Option<Stat>,
        pub tpot_ms: Option<Stat>,
        pub e2e_ms: Option<Stat>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Server {
        pub kind: String,
        pub pages: Vec<Page>,
        pub running_mean: Option<f64>,
        pub running_max: Option<f64>,
        pub waiting_mean: Option<f64>,
        pub waiting_max: Option<f64>,
        pub kv_use_max: Option<f64>,
        pub preemptions: Option<f64>,
        pub prefix_cache: Option<PrefixCache>,
        pub ttft_ms: Option<ServerStat>,
        pub itl_ms: Option<ServerStat>,
        pub e2e_ms: Option<ServerStat>,
        pub queue_ms: Option<ServerStat>,
        pub prefill_ms: Option<ServerStat>,
        pub ttft_split: Option<TtftSplit>,
        pub tokens: ServerTokens,
        pub released: Option<Released>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Page {
        pub url: String,
        pub kind: String,
        pub scrapes: u64,
        pub failed: u64,
        pub first_error: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct PrefixCache {
        pub queries: f64,
        pub hits: f64,
        pub hit_share: Option<f64>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ServerStat {
        pub count: f64,
        pub mean: f64,
        pub p50: Bounded,
        pub p90: Bounded,
        pub p99: Bounded,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Bounded {
        pub value: f64,
        pub low: f64,
        pub high: Option<f64>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct TtftSplit {
        pub client_ms: f64,
        pub server_ms: f64,
        pub queue_ms: Option<f64>,
        pub compute_ms: Option<f64>,
        pub rest_ms: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ServerTokens {
        pub generated: Option<f64>,
        pub received: u64,
        pub difference: Option<f64>,
        pub prompt: Option<f64>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Released {
        pub before: f64,
        pub after: f64,
        pub waited_ms: f64,
        pub released: bool,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Sessions {
        pub turns: u32,
        pub completed: u64,
        pub duration_ms: Option<Stat>,
        pub turns_completed: Vec<TurnsCompleted>,
        pub by_turn: Vec<TurnRow>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct TurnsCompleted {
        pub turns: u32,
        pub sessions: u64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct TurnRow {
        pub turn: u32,
        pub requests: u64,
        pub ok: u64,
        pub ttft_p50_ms: Option<f64>,
        pub ttft_p99_ms: Option<f64>,
        pub input_tokens_mean: Option<f64>,
        pub cache_hit_share: Option<f64>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    pub struct KeyRow {
        pub key_index: usize,
        pub key: Option<String>,
        pub requests: u64,
        pub ok: u64,
        pub success_rate: Option<f64>,
        pub ttft_p50_ms: Option<f64>,
        pub ttft_p99_ms: Option<f64>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    pub struct PromptRow {
        pub prompt_index: usize,
        pub prompt: Option<String>,
        pub requests: u64,
        pub ok: u64,
        pub ttft_p50_ms: Option<f64>,
        pub ttft_p99_ms: Option<f64>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Threshold {
        pub expr: String,
        pub actual: Option<f64>,
        pub pass: bool,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Tool {
        pub name: String,
        pub version: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    pub struct Requests {
        pub total: u64,
        pub ok: u64,
        pub failed: u64,
        pub cancelled: u64,
        pub stalled: u64,
        pub abandoned: u64,
        pub retried: u64,
        pub attempts: u64,
        pub warmup: u64,
        pub ended_early: u64,
        pub answers_checked: u64,
        pub wrong_answer: u64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Throughput {
        pub requests_per_s: f64,
        pub output_tokens_per_s: f64,
    }

    #[derive(Debug, Clone, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    pub struct Goodput {
        pub slo: String,
        pub requests_per_s: f64,
        pub attainment: Option<f64>,
        pub attainment_ci: Option<[f64; 2]>,
        pub judged: u64,
        pub determined: u64,
        pub conforming: u64,
        pub failed: u64,
        pub by_objective: Vec<ByObjective>,
    }

    #[derive(Debug, Clone, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    pub struct ByObjective {
        pub objective: String,
        pub met: u64,
        pub missed: u64,
        pub undetermined: u64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Tokens {
        pub output_total: u64,
        pub input_total: u64,
        pub reasoning_total: u64,
        pub cached_input: Option<u64>,
        pub cache_hit_share: Option<f64>,
        pub from_usage: u64,
        pub estimated: u64,
        pub from_tokenizer: u64,
        pub from_cancelled: u64,
        pub from_abandoned: u64,
        pub usage_vs_counted: Option<UsageVsCounted>,
        pub prompt_vs_sent: Option<PromptVsSent>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct PromptVsSent {
        pub compared: u64,
        pub sent_mean: f64,
        pub reported_mean: f64,
        pub diff_mean: f64,
        pub diff_p10: i64,
        pub diff_p50: i64,
        pub diff_p90: i64,
        pub diff_spread_pct: f64,
        pub relative_diff_pct: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct UsageVsCounted {
        pub compared: u64,
        pub differ: u64,
        pub mean_abs_diff_pct: f64,
        pub max_abs_diff_pct: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Metrics {
        pub ttfb_ms: Option<Stat>,
        pub ttfe_ms: Option<Stat>,
        pub ttft_ms: Option<Stat>,
        pub ttfa_ms: Option<Stat>,
        pub itl_ms: Option<Stat>,
        pub tpot_ms: Option<Stat>,
        pub e2e_ms: Option<Stat>,
        pub ttft_sched_ms: Option<Stat>,
        pub e2e_sched_ms: Option<Stat>,
        pub start_delay_ms: Option<Stat>,
        pub input_tokens: Option<Stat>,
        pub output_tokens: Option<Stat>,
        pub decode_tokens_per_s: Option<Stat>,
        pub tokens_per_event: Option<Stat>,
        pub itl_per_token_ms: Option<Stat>,
        pub server_latency_ms: Option<Stat>,
        pub server_ttft_ms: Option<Stat>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    pub struct Stat {
        pub count: u64,
        pub mean: f64,
        pub min: f64,
        pub p50: f64,
        pub p90: f64,
        pub p95: f64,
        pub p99: f64,
        pub max: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Client {
        pub cpu_s: Option<f64>,
        pub peak_rss_mb: Option<f64>,
        pub clock: String,
        pub read_lag_ms: Option<Stat>,
        pub gaps_read_together: Option<f64>,
        pub send_lag_ms: Option<Stat>,
        pub start_lag_ms: Option<Stat>,
        pub connect_ms: Option<Stat>,
        pub reconnects: u64,
        pub verdict: Option<String>,
        pub cause: Option<String>,
        pub reasons: Vec<String>,
        pub machine: Option<Machine>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Machine {
        pub cpus: usize,
        pub others_cores: f64,
        pub steal: f64,
        pub load_1m: Option<f64>,
        pub busy: bool,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Record {
        pub worker: usize,
        pub prompt_index: usize,
        pub key_index: Option<usize>,
        pub turn: u32,
        pub conversation_id: Option<String>,
        pub session: u32,
        pub session_start_ms: Option<f64>,
        pub start_ms: f64,
        pub start_unix_ms: f64,
        pub attempts: u32,
        pub reconnects: u32,
        pub request_id: Option<String>,
        pub status: Option<u16>,
        pub outcome: String,
        pub error: Option<String>,
        pub ttfb_ms: Option<f64>,
        pub ttfe_ms: Option<f64>,
        pub ttft_ms: Option<f64>,
        pub ttfa_ms: Option<f64>,
        pub tpot_ms: Option<f64>,
        pub e2e_ms: f64,
        pub itl_ms: Vec<f64>,
        pub silence_ms: Option<f64>,
        pub output_tokens: u64,
        pub token_source: String,
        pub counted_tokens: u64,
        pub input_tokens: u64,
        pub sent_tokens: Option<u64>,
        pub usage_input_tokens: Option<u64>,
        pub reasoning_tokens: Option<u64>,
        pub cached_tokens: Option<u64>,
        pub max_tokens: Option<u32>,
        pub model_stopped: bool,
        pub expect_ok: Option<bool>,
        pub answer_excerpt: Option<String>,
        pub server_latency_ms: Option<f64>,
        pub server_ttft_ms: Option<f64>,
        pub events: usize,
        pub text_events: usize,
        pub warnings: Vec<String>,
        pub api: String,
        pub url: String,
        pub read_lag_max_ms: Option<f64>,
        pub scheduled_ms: Option<f64>,
        pub warmup: bool,
        pub run_id: String,
        pub shard: Option<String>,
    }
}

fn decode<T: serde::de::DeserializeOwned>(v: &Value, what: &str) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{what} does not decode: {e}\n{v:#}"))
}

#[test]
fn the_json_and_the_records_have_exactly_the_documented_keys() {
    let mock = fast_mock(6, &["http-500:0.3"]);
    let u = url(&mock);
    let dir = tempdir("contract");
    let (live_path, rec_path, rebuilt_path, vllm_path) =
        (dir.join("live.json"), dir.join("rec.jsonl"), dir.join("rebuilt.json"), dir.join("vllm.json"));
    // Two keys, so `by_key` has rows whose keys the docs must list.
    let keys = dir.join("keys.txt");
    std::fs::write(&keys, "app-contract-key-0000\napp-contract-key-1111\n").unwrap();
    let out = llmload(&[
        "run",
        "--url",
        &u,
        "--api",
        "dify-chat",
        "-c",
        "2",
        "-n",
        "10",
        "--turns",
        "2",
        "--quiet",
        "--threshold",
        "ttft.p95<10s",
        "--api-key-file",
        keys.to_str().unwrap(),
        "--slo",
        "ttft<=10s,itl<=10s",
        "--vllm-json",
        vllm_path.to_str().unwrap(),
        "--json",
        live_path.to_str().unwrap(),
        "--records",
        rec_path.to_str().unwrap(),
        "--server-metrics",
        &format!("{u}/metrics"),
    ]);
    out.expect_code(0);
    let (live, records) = (read_json(&live_path, &out), read_records(&rec_path, &out));
    let report = llmload(&[
        "report",
        rec_path.to_str().unwrap(),
        "--slo",
        "ttft<=10s,itl<=10s",
        "--json",
        rebuilt_path.to_str().unwrap(),
    ]);
    report.expect_code(0);
    let rebuilt = read_json(&rebuilt_path, &report);

    // The JSON, pinned by type: the live run and the rebuilt one.
    let l: Summary = decode(&live, "the live summary");
    let r: Summary = decode(&rebuilt, "the rebuilt summary");
    let requests = Requests {
        total: 10,
        ok: 7,
        failed: 3,
        cancelled: 0,
        stalled: 0,
        abandoned: 0,
        retried: 0,
        attempts: 10,
        warmup: 0,
        ended_early: 0,
        answers_checked: 0,
        wrong_answer: 0,
    };
    assert_eq!(l.requests, requests, "{}", out.context());
    assert_eq!(r.requests, requests, "{}", report.context());
    assert_eq!((l.version, l.errors.get("http_500")), (1, Some(&3)));
    let server = l.server.as_ref().expect("--server-metrics gives the server block");
    assert_eq!((server.kind.as_str(), server.pages.len(), server.pages[0].failed), ("vllm", 1, 0));
    assert_eq!(server.tokens.generated, Some(server.tokens.received as f64), "{server:?}");
    assert!(r.server.is_none(), "records hold requests only");
    let g = l.goodput.as_ref().expect("--slo gives goodput");
    assert_eq!((g.judged, g.determined, g.conforming, g.failed), (10, 10, 7, 3), "{}", out.context());
    // The same judgements; the rate is over each summary's own window.
    let mut rg = r.goodput.clone().expect("report --slo gives goodput");
    assert!((rg.requests_per_s - 7.0 / r.window_s).abs() < 0.01, "{rg:?} {}", r.window_s);
    rg.requests_per_s = g.requests_per_s;
    assert_eq!(l.goodput, Some(rg), "report --slo judges the records as the run did");
    assert_eq!((l.thresholds.len(), l.thresholds[0].pass, r.thresholds.len()), (1, true, 0));
    assert!(l.client.cpu_s.is_some() && l.client.peak_rss_mb.is_some(), "{:?}", l.client);
    assert!(l.client.verdict.is_some(), "a live run is judged: {:?}", l.client);
    assert_eq!(
        (r.client.cpu_s, r.client.peak_rss_mb, r.client.verdict.as_ref()),
        (None, None, None),
        "not recorded"
    );
    assert!(r.client.reasons.is_empty() && r.client.send_lag_ms.is_none(), "not recorded: {:?}", r.client);
    assert!(r.client.cause.is_none() && r.client.machine.is_none(), "not recorded: {:?}", r.client);
    // A live run's cause is set exactly when its verdict is not ok; on Linux it reads the
    // machine's load over the CPUs it may run on.
    assert_eq!(l.client.cause.is_some(), l.client.verdict.as_deref() != Some("ok"), "{:?}", l.client);
    if cfg!(target_os = "linux") {
        let m = l.client.machine.as_ref().unwrap_or_else(|| panic!("the machine is read: {:?}", l.client));
        assert!(m.cpus >= 1 && (0.0..=m.cpus as f64).contains(&m.others_cores), "{m:?}");
        assert!((0.0..=1.0).contains(&m.steal), "{m:?}");
    }
    assert_eq!(l.client.start_lag_ms.as_ref().map(|s| s.count), Some(2), "{:?}", l.client);
    assert!(r.client.start_lag_ms.is_none(), "not recorded: {:?}", r.client);
    assert_eq!(l.client.connect_ms.as_ref().map(|s| s.count), Some(2), "each worker's first connection");
    assert!(r.client.connect_ms.is_none(), "not recorded: {:?}", r.client);
    assert!(l.window_s <= l.wall_s && r.window_s == r.wall_s, "{} {}", l.window_s, l.wall_s);
    assert!(l.metrics.server_latency_ms.is_some(), "Dify reports its latency: {:?}", l.metrics);
    assert!(l.tokens.usage_vs_counted.is_some(), "Dify reports usage: {:?}", l.tokens);
    // The mock counts a prompt by the estimate's rule: its usage is what was sent.
    let p = l
        .tokens
        .prompt_vs_sent
        .as_ref()
        .unwrap_or_else(|| panic!("Dify reports prompt tokens: {:?}", l.tokens));
    // Sessions of two turns: the first turns only (a later turn's prompt holds the history).
    let first_turns = l.sessions.as_ref().map_or(0, |s| s.by_turn[0].ok);
    assert!(first_turns > 0 && first_turns < l.requests.ok, "{:?}", l.sessions);
    assert_eq!((p.compared, p.diff_p10, p.diff_p90, p.diff_mean), (first_turns, 0, 0, 0.0), "{p:?}");
    assert_eq!(
        format!("{:?}", r.tokens.prompt_vs_sent),
        format!("{:?}", l.tokens.prompt_vs_sent),
        "records keep both counts of the prompt: the rebuilt comparison is the live one"
    );
    assert_eq!((l.tokens.cached_input, l.tokens.cache_hit_share), (None, None), "Dify reports no cache");
    assert_eq!((r.tokens.cached_input, r.tokens.cache_hit_share), (None, None), "{:?}", r.tokens);
    assert_eq!(
        (&rebuilt["config"]["api"], &rebuilt["config"]["url"]),
        (&live["config"]["api"], &live["config"]["url"])
    );

    // The JSON, by key path, against docs/json.md: a run and a report over its records together
    // write every documented key (`config.source` only the report).
    let mut json_keys = BTreeSet::new();
    key_paths(&live, "", &mut json_keys);
    key_paths(&rebuilt, "", &mut json_keys);
    // A run long enough for a steady state (the one above is over in a moment).
    let mock = paced_mock(20, 2, 8);
    let dir = Dir::new("contract-steady");
    let (out, steady) = Llmload::run(&mock).args("--api openai-chat -c 2 -d 2s -q").json(&dir);
    out.expect_code(0);
    let _: Summary = decode(&steady, "a summary with a steady state");
    assert!(steady["steady_state"].is_object(), "{}", out.context());
    key_paths(&steady, "", &mut json_keys);
    // And a repeated run.
    let (out, repeated) = Llmload::run(&mock).args("--api openai-chat -c 2 -n 4 --repeat 2 -q").json(&dir);
    out.expect_code(0);
    let r: Summary = decode(&repeated, "a repeated run's summary");
    assert_eq!((r.repeats.as_ref().map(|r| r.runs), r.requests.total), (Some(2), 8), "{}", out.context());
    key_paths(&repeated, "", &mut json_keys);
    assert_same_keys(&json_keys, "json.md");

    // The records, against docs/records.md.
    assert_eq!(records.len(), 10);
    let mut record_keys = BTreeSet::new();
    for rec in &records {
        let decoded: Record = decode(rec, "a record");
        assert_eq!(
            (decoded.api.as_str(), decoded.url.as_str()),
            ("dify-chat", live["config"]["url"].as_str().unwrap())
        );
        key_paths(rec, "", &mut record_keys);
        assert_short_floats(rec, "a record");
    }
    assert_same_keys(&record_keys, "records.md");

    // The vLLM result keys, against docs/vllm.md.
    let mut vllm_keys = BTreeSet::new();
    key_paths(&read_json(&vllm_path, &out), "", &mut vllm_keys);
    assert_same_keys(&vllm_keys, "vllm.md");

    assert_short_floats(&live, "the live summary");
    assert_short_floats(&rebuilt, "the rebuilt summary");
}
