//! The main job: load tests that succeed, with exact counts in the summary, JSON and records.

use crate::util::*;
use serde_json::json;
use std::time::Duration;

#[test]
fn dify_run_counts_every_request_and_token() {
    let mock = fast_mock(12, &[]);
    let (out, j, recs) = Llmload::run(&mock).args("-c 4 -n 20 --quiet").logged(&Dir::new("dify"));
    out.expect_code(0);
    assert_eq!(j["version"], 1);
    assert_eq!(
        j["requests"],
        json!({"total": 20, "ok": 20, "failed": 0, "cancelled": 0, "stalled": 0, "abandoned": 0, "retried": 0, "attempts": 20, "warmup": 0, "ended_early": 0, "answers_checked": 0, "wrong_answer": 0}),
        "{}",
        out.context()
    );
    assert_eq!(j["success_rate"], 1.0);
    assert_eq!(j["tokens"]["output_total"], 240);
    assert_eq!(j["tokens"]["from_usage"], 20);
    assert_eq!(j["tokens"]["estimated"], 0);
    assert_eq!(j["metrics"]["ttft_ms"]["count"], 20);
    assert_eq!(j["metrics"]["itl_ms"]["count"], 20 * 11);
    assert_eq!(j["metrics"]["tpot_ms"]["count"], 20);
    assert_eq!(j["config"]["api"], "dify-chat");
    for key in ["ttfb_ms", "ttfe_ms", "ttfa_ms", "e2e_ms", "output_tokens"] {
        assert_eq!(j["metrics"][key]["count"], 20, "{key}");
        for p in ["mean", "min", "p50", "p90", "p95", "p99", "max"] {
            assert!(j["metrics"][key][p].is_number(), "{key}.{p}");
        }
    }
    // Decode speed needs text spread over time: a request whose text all came in one read (its
    // events 1 ms apart, a worker busy for longer) arrived at one kernel time, and has none.
    let decode = j["metrics"]["decode_tokens_per_s"]["count"].as_u64().unwrap_or(0);
    assert!(decode <= 20, "{}", out.context());
    assert_eq!(recs.len(), 20);
    for r in &recs {
        assert_eq!(r["outcome"], "ok");
        assert_eq!(r["status"], 200);
        assert_eq!(r["text_events"], 12);
        assert_eq!(r["output_tokens"], 12);
        assert_eq!(r["token_source"], "usage");
        assert!(r["error"].is_null());
        assert!(r["ttft_ms"].as_f64().unwrap() >= 5.0, "TTFT below the mock's 5 ms: {r}");
    }
    // Every request is one mock request: ids from the server's x-request-id, none twice. The
    // mock's first request was the preflight, which is in no record and no count.
    let mut ids: Vec<String> = recs.iter().map(|r| r["request_id"].as_str().unwrap().to_string()).collect();
    ids.sort_by_key(|id| id[5..].parse::<u32>().unwrap());
    assert_eq!(ids, (1..=20).map(|n| format!("mock-{n}")).collect::<Vec<_>>());
    let workers = count_by(&recs, "worker");
    assert_eq!(workers.values().sum::<usize>(), 20);
    let truth = truth(&mock);
    // The preflight read only to its first text and closed: its response did not complete, and
    // the mock wrote between 1 and all 12 of its text events before it saw the close.
    assert_eq!((truth.requests, truth.completed), (21, 20), "{}", out.context());
    assert!((241..=252).contains(&truth.text_events), "{}{}", truth.text_events, out.context());
    // A -n run has no deadline: its cancelled requests are not said to be cut at one.
    assert!(out.stdout.contains("20 total · 20 ok · 0 failed · 0 cancelled\n"), "{}", out.context());
    // The mock's first answer is its first text: TTFT and TTFA fold into one row.
    assert!(out.stdout.contains("\n  TTFT = TTFA (ms)    "), "{}", out.context());
    assert!(!out.stdout.contains("\n  TTFA (ms)"), "{}", out.context());
}

#[test]
fn the_table_ends_with_one_row_marked_end_with_its_elapsed_time_to_a_tenth() {
    let mock = fast_mock(4, &[]);
    let out = Llmload::run(&mock).args("-c 2 -d 1500ms").output();
    out.expect_code(0);
    assert!(out.stdout.contains(" cancelled at the deadline"), "{}", out.context());
    let rows: Vec<&str> = out
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("time      elapsed"))
        .skip(1)
        .filter(|l| l.starts_with("end ") || l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    let (last, ticks) = rows.split_last().expect("a table row");
    let cells: Vec<&str> = last.split_whitespace().collect();
    assert_eq!(cells[0], "end", "{}", out.context());
    let tenths = cells[1].strip_suffix('s').and_then(|e| e.split_once('.')).map(|(_, d)| d.len());
    assert_eq!(tenths, Some(1), "{}", out.context());
    // Every other row is a tick's: its own clock time and whole seconds.
    let clocks: std::collections::BTreeSet<&str> = ticks.iter().map(|r| &r[..8]).collect();
    assert_eq!(clocks.len(), ticks.len(), "{}", out.context());
    for r in ticks {
        let elapsed = r.split_whitespace().nth(1).unwrap_or_default();
        assert!(r.as_bytes()[2] == b':' && !elapsed.contains('.'), "{r:?}{}", out.context());
    }
}

/// On Linux every read is stamped by the kernel: the run says so, its own lags are measured
/// (how large is the benches' business), and each record carries its request's largest.
#[cfg(target_os = "linux")]
#[test]
fn arrival_times_come_from_the_kernel_clock_and_the_lag_is_measured() {
    let mock = fast_mock(8, &[]);
    let (out, j, recs) = Llmload::run(&mock).args("-c 2 -n 6 --quiet").logged(&Dir::new("kernel-clock"));
    out.expect_code(0);
    let client = &j["client"];
    assert_eq!(client["clock"], "kernel", "{}", out.context());
    let reads = client["read_lag_ms"]["count"].as_u64().unwrap_or(0);
    // At least each response head and the read that completed its terminal event.
    assert!(reads >= 2 * 6, "{client}{}", out.context());
    assert!(client["read_lag_ms"]["p50"].as_f64().is_some_and(|p50| p50 >= 0.0), "{client}");
    assert_eq!(client["send_lag_ms"]["count"], 6, "{client}{}", out.context());
    assert!(client["send_lag_ms"]["min"].as_f64().is_some_and(|min| min >= 0.0), "{client}");
    assert_eq!(recs.len(), 6);
    for r in &recs {
        assert!(r["read_lag_max_ms"].as_f64().is_some_and(|lag| lag >= 0.0), "{r}");
    }
}

#[test]
fn openai_run_honours_max_tokens_and_reads_usage() {
    let mock = fast_mock(30, &[]);
    let (out, j) = Llmload::run(&mock)
        .args("--api openai-chat --model m --max-tokens 5 -c 2 -n 6 --quiet")
        .json(&Dir::new("openai"));
    out.expect_code(0);
    assert_eq!(j["requests"]["ok"], 6, "{}", out.context());
    assert_eq!(j["tokens"]["output_total"], 30);
    assert_eq!(j["tokens"]["from_usage"], 6);
    assert_eq!(j["metrics"]["output_tokens"]["max"], 5.0);
    // The role-only first chunk arrives before any text: TTFE counts it, TTFT does not (the
    // two are equal when one read brought both, arriving at one kernel time).
    assert!(j["metrics"]["ttfe_ms"]["p50"].as_f64() <= j["metrics"]["ttft_ms"]["p50"].as_f64());
    // 6 requests of 5 tokens, and the preflight's first (of 5) or more before it closed.
    let sent = truth(&mock).text_events;
    assert!((31..=35).contains(&sent), "{sent} text events");
}

#[test]
fn seed_flags_without_subcommand_send_one_request_per_worker() {
    let mock = fast_mock(4, &[]);
    let port = mock.addr().port().to_string();
    let out = Llmload::new("--host 127.0.0.1 --port")
        .arg(port)
        .args("--threads 3 --api-key app-0123456789abcdef")
        .output();
    out.expect_code(0);
    assert!(out.stdout.contains("3 total · 3 ok"), "{}", out.context());
    assert!(out.stderr.contains("app-…cdef"), "banner shows the masked key{}", out.context());
    assert_eq!(truth(&mock).requests, 4, "3 and the preflight");
}

#[test]
fn duration_cuts_in_flight_requests_as_cancelled() {
    // Each response takes about 5 s, so a 1 s run ends with every request in flight.
    let mock = paced_mock(10, 50, 100);
    let (out, j, recs) =
        Llmload::run(&mock).args("-c 3 -d 1s --quiet --no-preflight").logged(&Dir::new("cancel"));
    out.expect_code(1); // nothing succeeded: a run that measured nothing is not green
    assert_eq!(
        j["requests"],
        json!({"total": 3, "ok": 0, "failed": 0, "cancelled": 3, "stalled": 0, "abandoned": 0, "retried": 0, "attempts": 3, "warmup": 0, "ended_early": 0, "answers_checked": 0, "wrong_answer": 0}),
        "{}",
        out.context()
    );
    assert!(j["success_rate"].is_null());
    // Their first tokens came before the cut and count; their ends never came.
    assert_eq!(j["metrics"]["ttft_ms"]["count"], 3, "{}", out.context());
    assert!(j["metrics"]["e2e_ms"].is_null(), "{}", out.context());
    // The deadline cut the streams: each record stopped short of the mock's 100 tokens (how soon
    // after the deadline is a time: benches/stops.sh measures it).
    assert_eq!(count_by(&recs, "outcome")["cancelled"], 3);
    assert!(recs.iter().all(|r| r["output_tokens"].as_u64().is_some_and(|n| n < 100)), "{recs:?}");
    assert!(out.stdout.contains("cancelled at the deadline before they ended"), "{}", out.context());
}

#[test]
fn every_worker_starts_at_once_and_nothing_ok_ends_after_the_deadline() {
    // Responses take about 1.2 s (few events, so a slow machine keeps up): each worker's first
    // one ends before the 2 s deadline and its second would end after it, so every worker has
    // a request in flight at the deadline.
    let mock = paced_mock(300, 100, 10);
    let (out, j, recs) = Llmload::run(&mock)
        .args("-c 200 --ramp-up 0 -d 2s --quiet --no-preflight")
        .logged(&Dir::new("on-time"));
    out.expect_code(0);
    let lag = &j["client"]["start_lag_ms"];
    assert_eq!(lag["count"], 200, "every worker started{}", out.context());
    assert!(lag["max"].as_f64().unwrap() < 1000.0, "workers started late: {lag}{}", out.context());
    let r = &j["requests"];
    assert_eq!((r["failed"].as_u64(), r["cancelled"].as_u64()), (Some(0), Some(200)), "{}", out.context());
    assert_eq!(r["total"].as_u64().unwrap() as usize, recs.len(), "{}", out.context());
    let (wall, window) = (j["wall_s"].as_f64().unwrap(), j["window_s"].as_f64().unwrap());
    assert!((2.0..2.5).contains(&window) && window <= wall, "window {window} s, wall {wall} s");
    assert!(wall < 2.5, "in-flight requests were not cut at the deadline: wall {wall} s{}", out.context());
    let ok: Vec<_> = recs.iter().filter(|r| r["outcome"] == "ok").collect();
    assert_eq!(ok.len() as u64, r["ok"].as_u64().unwrap());
    for rec in ok {
        let end_ms = rec["start_ms"].as_f64().unwrap() + rec["e2e_ms"].as_f64().unwrap();
        assert!(end_ms <= window * 1000.0 + 0.002, "an ok request ended after the cut: {rec}");
    }
}

#[test]
fn keys_and_prompts_go_round_robin_and_keys_never_leak() {
    let mock = fast_mock(3, &[]);
    let dir = Dir::new("keys");
    let (out, _, recs) = Llmload::run(&mock)
        .args("-c 1 -n 6")
        .opt(
            "--api-key-file",
            dir.create("keys.txt", "sk-secret-key-number-one-AAAA\r\nsk-secret-key-number-two-BBBB\r\n"),
        )
        .opt("--param-file", dir.create("prompts.txt", "你好\n\n请介绍一下你自己\n讲个笑话\n"))
        .logged(&dir);
    out.expect_code(0);
    let keys_used: Vec<i64> = recs.iter().map(|r| r["key_index"].as_i64().unwrap()).collect();
    let prompts_used: Vec<i64> = recs.iter().map(|r| r["prompt_index"].as_i64().unwrap()).collect();
    assert_eq!(keys_used, [0, 1, 0, 1, 0, 1]);
    assert_eq!(prompts_used, [0, 1, 2, 0, 1, 2]);
    let everything = format!(
        "{}{}{}{}",
        out.stdout,
        out.stderr,
        std::fs::read_to_string(dir.path(Dir::JSON)).unwrap(),
        std::fs::read_to_string(dir.path(Dir::RECORDS)).unwrap()
    );
    for secret in
        ["sk-secret-key-number-one-AAAA", "sk-secret-key-number-two-BBBB", "number-one", "number-two"]
    {
        assert!(!everything.contains(secret), "key leaked: {secret}{}", out.context());
    }
    assert!(everything.contains("sk-s…AAAA"));
}

#[test]
fn api_key_env_fallback_is_sent_and_masked() {
    let mock = fast_mock(2, &[]);
    let out = Llmload::run(&mock).args("-n 1").env("API_KEY", "app-envkey-1234567890").output();
    out.expect_code(0);
    assert!(out.stderr.contains("app-…7890"), "{}", out.context());
    assert!(!out.stderr.contains("envkey") && !out.stdout.contains("envkey"));
}

#[test]
fn table_goes_to_stderr_and_summary_to_stdout() {
    let mock = fast_mock(3, &[]);
    let out = Llmload::run(&mock).args("-c 2 -d 1500ms").output();
    out.expect_code(0);
    let header = "time      elapsed        workers";
    assert!(out.stderr.contains(header), "table header on stderr{}", out.context());
    assert!(!out.stdout.contains(header), "no table on stdout{}", out.context());
    assert!(out.stdout.contains("llmload summary"), "{}", out.context());
    let quiet = Llmload::run(&mock).args("-n 2 --quiet").output();
    assert!(!quiet.stderr.contains(header), "--quiet hides the table{}", quiet.context());
}

#[test]
fn version_prints_the_version() {
    let out = llmload(&["--version"]);
    out.expect_code(0);
    assert_eq!(out.stdout, format!("llmload {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn help_shows_worked_examples() {
    let out = llmload(&["run", "--help"]);
    out.expect_code(0);
    for s in ["--api-key", "--ramp-up", "--param-file", "Examples", "openai-chat"] {
        assert!(out.stdout.contains(s), "help lacks {s}{}", out.context());
    }
    let top = llmload(&["--help"]);
    top.expect_code(0);
    assert!(top.stdout.contains("demo"));
}

#[test]
fn mock_subcommand_serves_other_tools() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_llmload"))
        .args(["mock", "--port", "0", "--ttft", "5ms", "--itl", "1ms", "--tokens", "7"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first.trim().rsplit(' ').next().unwrap().to_string();
    let out = llmload(&["run", "--url", &url, "--api", "openai-chat", "-n", "2", "--quiet"]);
    let _ = child.kill();
    let _ = child.wait();
    out.expect_code(0);
    assert!(out.stdout.contains("14 output"), "{}", out.context());
}

#[test]
fn ctrl_c_stops_gracefully_with_summary_and_exit_130() {
    // Responses take about 0.5 s; the run would last 60 s without the interrupt. No preflight:
    // the interrupt must find the run under way.
    let mock = paced_mock(20, 10, 50);
    let dir = Dir::new("sigint");
    let (out, _) = Llmload::run(&mock)
        .args("-c 4 -d 60s --quiet --no-preflight")
        .json_in(&dir)
        .records_in(&dir)
        .signalled(Duration::from_millis(1500), &["INT"], Duration::ZERO);
    out.expect_code(130);
    let (j, recs) = (dir.json(&out), dir.records(&out));
    assert_eq!(j["requests"]["total"].as_u64().unwrap() as usize, recs.len(), "{}", out.context());
    assert!(j["requests"]["ok"].as_u64().unwrap() >= 8, "{}", out.context());
    // The in-flight requests finished within the grace period rather than being cut.
    assert_eq!(j["requests"]["cancelled"], 0, "{}", out.context());
    assert!(out.stdout.contains("interrupted (Ctrl-C or SIGTERM)"), "{}", out.context());
    // Said at once, even with --quiet.
    let stopping = "stopping: waiting up to 5s for 4 in-flight requests (Ctrl-C again to stop now)";
    assert!(out.stderr.contains(stopping), "{}", out.context());
}

/// Two workers on responses of about 5 s, interrupted after 1 s by `signals` (300 ms apart),
/// with `--grace`; returns the output and its JSON. No preflight: it would still be reading its
/// 5 s response at the interrupt.
fn interrupt_slow_run(name: &str, grace: &str, signals: &[&str]) -> (Output, serde_json::Value) {
    let mock = paced_mock(10, 50, 100);
    let dir = Dir::new(name);
    let (out, _) = Llmload::run(&mock)
        .args("-c 2 -d 60s --grace")
        .arg(grace)
        .args("--quiet --no-preflight")
        .json_in(&dir)
        .signalled(Duration::from_millis(1000), signals, Duration::from_millis(300));
    out.expect_code(130);
    let j = dir.json(&out);
    (out, j)
}

#[test]
fn an_interrupted_runs_time_counts_to_the_interrupt_and_names_the_grace_apart() {
    // Responses of about 1 s, interrupted after 1.5 s: each worker is mid-response, and both
    // responses end within the 10 s grace period, after the interrupt.
    let mock = paced_mock(10, 50, 20);
    let dir = Dir::new("sigint-elapsed");
    let run = Llmload::run(&mock).args("-c 2 -d 60s --grace 10s --quiet --no-preflight").json_in(&dir);
    let (out, _) = run.signalled(Duration::from_millis(1500), &["INT"], Duration::ZERO);
    out.expect_code(130);
    let json = dir.json(&out);
    assert_eq!(json["requests"]["cancelled"], 0, "both ended in the grace period{}", out.context());
    // `… output tok/s · A s to the interrupt (+G s grace for in-flight requests; rates over W s, …)`
    let line = out.stdout.lines().find(|l| l.starts_with("  throughput  ")).unwrap_or_default();
    let seconds = |after: &str, before: &str| -> f64 {
        let (_, rest) = line.split_once(after).unwrap_or_else(|| panic!("no {after:?} in {line:?}"));
        let (n, _) = rest.split_once(before).unwrap_or_else(|| panic!("no {before:?} in {line:?}"));
        n.trim().parse().unwrap_or_else(|e| panic!("{n:?}: {e} in {line:?}"))
    };
    let to_interrupt = seconds("output tok/s · ", "s to the interrupt");
    let grace = seconds("s to the interrupt (+", "s grace for in-flight requests");
    let window = seconds("; rates over ", "s, to the last one's end)");
    let (wall_s, window_s) = (json["wall_s"].as_f64().unwrap(), json["window_s"].as_f64().unwrap());
    // The time to the interrupt and the grace make the wall time; the rates' span is the window,
    // which holds the requests that ended in the grace period.
    assert!((to_interrupt + grace - wall_s).abs() <= 0.011, "{line} vs wall_s {wall_s}{}", out.context());
    assert!(grace > 0.0 && window_s > to_interrupt, "{line}{}", out.context());
    assert!((window - window_s).abs() <= 0.005, "{line} vs window_s {window_s}{}", out.context());
    let rate = json["throughput"]["requests_per_s"].as_f64().unwrap();
    let ok = json["requests"]["ok"].as_f64().unwrap();
    assert!((rate - ok / window_s).abs() < 1e-3, "the rates divide by the window{}", out.context());
    // The warning says when the interrupt came, not when the run ended.
    let warning = "interrupted (Ctrl-C or SIGTERM) after ";
    let said = out.stdout.split_once(warning).and_then(|(_, rest)| rest.split_once("s:")).map(|(n, _)| n);
    let said: f64 =
        said.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no warning{}", out.context()));
    assert!((said - to_interrupt).abs() <= 0.051, "{said} vs {to_interrupt}{}", out.context());
}

#[test]
fn a_second_ctrl_c_cuts_the_grace_period_and_still_writes_the_summary() {
    // The grace period is 30 s: only the second interrupt ends the run soon.
    // Without the second interrupt both requests would end within the 30 s grace, as `ok`:
    // that both are cancelled shows it cut the grace period.
    let (out, j) = interrupt_slow_run("sigint-twice", "30s", &["INT", "INT"]);
    assert_eq!(
        (j["requests"]["total"].as_u64(), j["requests"]["cancelled"].as_u64()),
        (Some(2), Some(2)),
        "{}",
        out.context()
    );
    assert!(out.stdout.contains("and again during the grace period"), "{}", out.context());
    assert!(
        out.stdout.contains("cut by the interrupt"),
        "the cause is the interrupt, not the deadline{}",
        out.context()
    );
    assert!(out.stdout.contains("· 2 cancelled by the interrupt"), "{}", out.context());
    assert!(!out.stdout.contains("raise --duration"), "{}", out.context());
}

#[test]
fn token_counts_are_checked_against_usage() {
    // The mock's Chinese text is one character per token, so the estimate agrees with usage.
    let mock = fast_mock(10, &[]);
    let (out, j) = Llmload::run(&mock).args("-n 4 --quiet").json(&Dir::new("tokenizer"));
    out.expect_code(0);
    assert_eq!(j["config"]["tokenizer"], "estimate");
    let check = &j["tokens"]["usage_vs_counted"];
    assert_eq!(
        (check["compared"].as_u64(), check["differ"].as_u64()),
        (Some(4), Some(0)),
        "{}",
        out.context()
    );
    assert_eq!(j["metrics"]["tokens_per_event"]["p50"], 1.0);
    assert_eq!(j["metrics"]["itl_per_token_ms"]["count"], 4 * 9);

    let (out, j, recs) =
        Llmload::run(&mock).args("-n 2 --quiet --tokenizer cl100k").logged(&Dir::new("tokenizer-cl100k"));
    out.expect_code(0);
    assert_eq!(j["config"]["tokenizer"], "cl100k");
    assert_eq!(j["tokens"]["from_usage"], 2, "usage still wins when present");
    assert_eq!(j["tokens"]["usage_vs_counted"]["compared"], 2);
    for r in recs {
        assert_eq!(r["token_source"], "usage");
        assert!(r["counted_tokens"].as_u64().unwrap() > 0, "{r}");
    }
    assert!(out.stdout.contains("usage check cl100k vs server usage"), "{}", out.context());
}

#[test]
fn grace_sets_how_long_in_flight_requests_may_finish_after_ctrl_c() {
    // With --grace 200ms, the two requests in flight at the interrupt are cut.
    // The default 5 s grace would let both end (about 4 s of each is left): cut, they are not.
    let (out, j) = interrupt_slow_run("grace", "200ms", &["TERM"]);
    let stopping = "stopping: waiting up to 200ms for 2 in-flight requests (Ctrl-C again to stop now)";
    assert!(out.stderr.contains(stopping), "{}", out.context());
    assert_eq!(j["requests"]["cancelled"], 2, "{}", out.context());
    assert_eq!(j["requests"]["total"], 2, "{}", out.context());
}

#[test]
fn the_input_tokens_of_each_request_are_a_distribution() {
    // The mock's usage counts the prompt as llmload's estimate does: "hello there" is two words.
    let mock = fast_mock(3, &[]);
    let dir = Dir::new("input-tokens");
    let (out, json) = Llmload::run(&mock)
        .args("--api openai-completions -c 1 -n 3 -q")
        .opt("--prompt", "hello there")
        .json(&dir);
    out.expect_code(0);
    let m = &json["metrics"]["input_tokens"];
    assert_eq!((m["count"].as_u64(), m["min"].as_f64(), m["max"].as_f64()), (Some(3), Some(2.0), Some(2.0)));
    assert_eq!(json["tokens"]["input_total"], 6, "{}", out.context());
    assert!(out.stdout.contains("\n  input tokens                3 "), "{}", out.context());
}

#[test]
fn each_closed_loop_worker_connects_before_the_start_and_keeps_that_connection() {
    // Four workers, twelve requests: four connections in all, each opened before the start and
    // timed apart; the first requests send on them (the mock counts every connection it accepts).
    let mock = fast_mock(4, &[]);
    let dir = Dir::new("preconnect");
    let (out, json) = Llmload::run(&mock).args("--api openai-chat -c 4 -n 12 -q --no-preflight").json(&dir);
    out.expect_code(0);
    assert_eq!(json["requests"]["ok"], 12, "{}", out.context());
    assert_eq!(json["client"]["connect_ms"]["count"], 4, "{}", out.context());
    let t = truth(&mock);
    assert_eq!((t.requests, t.connections), (12, 4), "{}", out.context());
    // An open loop connects at each send, as before: no connect times of its own.
    let (out, json) =
        Llmload::run(&mock).args("--api openai-chat --rate 50 -n 4 -q --no-preflight").json(&dir);
    out.expect_code(0);
    assert_eq!(json["client"]["connect_ms"], serde_json::Value::Null, "{}", out.context());
}

#[test]
fn the_steady_state_leaves_out_the_ramp_up_and_the_drain() {
    // Eight workers over a 2 s ramp-up, answers of about 0.25 s: the steady state begins when
    // the eighth is due (1.75 s) and ends when the budget runs out; every request inside it ran
    // wholly there, and its rate counts the requests that ended there.
    let mock = paced_mock(50, 4, 50);
    let dir = Dir::new("steady");
    let (out, json) = Llmload::run(&mock)
        .args("--api openai-chat -c 8 --ramp-up 2s -n 100 -q")
        .opt("--html", dir.path("steady.html"))
        .json(&dir);
    out.expect_code(0);
    let page = std::fs::read_to_string(dir.path("steady.html")).unwrap();
    assert!(page.contains("steady requests/s"), "the report's card");
    let st = &json["steady_state"];
    assert_eq!(st["start_s"], 1.75, "{}", out.context());
    let (end, window) = (st["end_s"].as_f64().unwrap(), json["window_s"].as_f64().unwrap());
    assert!(end < window, "the drain is left out: {end} {window}");
    let (inside, ok) = (st["requests"].as_u64().unwrap(), json["requests"]["ok"].as_u64().unwrap());
    assert!(inside > 0 && inside < ok, "the first and last requests are outside: {inside} of {ok}");
    assert_eq!(st["ttft_ms"]["count"].as_u64(), Some(inside));
    // Answers longer than the run: none completes, and the steady state's token rate counts the
    // text the cut streams received, as the whole run's does.
    let long = paced_mock(10, 10, 1000);
    let (out, json) = Llmload::run(&long).args("--api openai-chat -c 2 -d 2s -q --no-preflight").json(&dir);
    let (st, whole) = (&json["steady_state"], &json["throughput"]["output_tokens_per_s"]);
    assert_eq!(
        (json["requests"]["ok"].as_u64(), st["requests_per_s"].as_f64()),
        (Some(0), Some(0.0)),
        "{}",
        out.context()
    );
    let (steady_rate, whole_rate) = (st["output_tokens_per_s"].as_f64().unwrap(), whole.as_f64().unwrap());
    assert!(
        steady_rate > 0.0 && (steady_rate - whole_rate).abs() <= whole_rate * 0.01,
        "{steady_rate} {whole_rate}"
    );
    // A run over before any steady state has none.
    let (out, json) = Llmload::run(&mock).args("--api openai-chat -c 2 -n 2 -q").json(&dir);
    out.expect_code(0);
    assert_eq!(json["steady_state"], serde_json::Value::Null, "{}", out.context());
    assert!(!out.stdout.contains("  steady  "), "{}", out.stdout);
}
