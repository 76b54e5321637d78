//! Open-loop load (`--rate`), latency from the intended start, and `--warmup`, from the binary.

use crate::util::*;

#[test]
fn a_constant_rate_starts_requests_on_schedule() {
    let mock = fast_mock(3, &[]);
    let (out, j, recs) = Llmload::run(&mock)
        .args("--rate 40 --arrival constant -n 20 --quiet --no-preflight")
        .logged(&Dir::new("rate"));
    out.expect_code(0);
    assert_eq!(j["requests"]["total"], 20);
    assert_eq!(truth(&mock).requests, 20);
    assert_eq!(
        (j["config"]["rate"].as_f64(), j["config"]["arrival"].as_str()),
        (Some(40.0), Some("constant"))
    );
    let mut scheduled: Vec<f64> = recs.iter().map(|r| r["scheduled_ms"].as_f64().unwrap()).collect();
    scheduled.sort_by(f64::total_cmp);
    for (k, s) in scheduled.iter().enumerate() {
        assert!((s - 25.0 * k as f64).abs() < 0.002, "request {k} scheduled at {s} ms");
    }
    for r in &recs {
        assert!(r["start_ms"].as_f64().unwrap() >= r["scheduled_ms"].as_f64().unwrap());
    }
    assert_eq!(j["client"]["start_lag_ms"]["count"], 20, "each request's dispatch lag");
    assert!(out.stdout.contains("  throughput  offered 40.0 req/s · achieved "), "{}", out.context());
}

#[test]
fn a_full_pool_shows_in_the_latency_from_schedule_only() {
    // One worker, a request every 50 ms, each taking over 150 ms: they queue.
    let mock = paced_mock(150, 1, 2);
    let (out, j, recs) = Llmload::run(&mock)
        .args("--rate 20 --arrival constant -n 5 --max-concurrency 1 --quiet")
        .logged(&Dir::new("full-pool"));
    out.expect_code(0);
    assert_eq!(j["requests"]["ok"], 5);
    let m = &j["metrics"];
    let (ttft, sched) = (m["ttft_ms"]["max"].as_f64().unwrap(), m["ttft_sched_ms"]["max"].as_f64().unwrap());
    // The fifth was meant to start at 200 ms and could start only after four requests of ≥150 ms.
    assert!(ttft < 400.0 && sched > ttft + 300.0, "ttft max {ttft}, from schedule {sched}");
    assert!(m["start_delay_ms"]["max"].as_f64().unwrap() > 300.0);
    let last = recs
        .iter()
        .max_by(|a, b| a["scheduled_ms"].as_f64().partial_cmp(&b["scheduled_ms"].as_f64()).unwrap());
    let last = last.unwrap();
    assert!(last["start_ms"].as_f64().unwrap() - last["scheduled_ms"].as_f64().unwrap() > 300.0);
    // A wait for a free worker is the server's slowness, not the client's: it is not start lag.
    assert!(j["client"]["start_lag_ms"]["max"].as_f64().unwrap() < 300.0, "{}", j["client"]);
}

#[test]
fn the_per_second_table_counts_what_the_summary_counts_and_marks_the_warm_up() {
    // Responses of about 90 ms, the first 1.5 s of them warm-up: the first second's requests
    // are all warm-up.
    let mock = paced_mock(20, 10, 8);
    let u = url(&mock);
    let (out, j, recs) =
        run_logged("warmup-table", &["run", "--url", &u, "-c", "2", "--warmup", "1500ms", "-d", "3s"]);
    out.expect_code(0);
    let (total, warmup) =
        (j["requests"]["total"].as_u64().unwrap(), j["requests"]["warmup"].as_u64().unwrap());
    assert!(warmup > 0 && total > 0, "{}", out.context());
    assert_eq!(recs.len() as u64, total + warmup, "{}", out.context());
    // time, elapsed, workers, done, total, ok… of every row, the last (`end`) included.
    let rows: Vec<Vec<&str>> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("end ") || l.as_bytes().first().is_some_and(u8::is_ascii_digit))
        .map(|l| l.split_whitespace().collect())
        .collect();
    // The last row is `end` when requests ended after the last tick (on a busy machine the last
    // tick can come after them: then the last tick's row holds the run's end).
    assert!(!rows.is_empty(), "{}", out.context());
    let done: u64 = rows.iter().map(|r| r[3].replace(',', "").parse::<u64>().unwrap()).sum();
    assert_eq!(done, total, "the rows' requests are the summary's{}", out.context());
    assert_eq!(rows.last().unwrap()[4].replace(',', ""), total.to_string(), "{}", out.context());
    assert_eq!(rows[0][5], "warm-up", "the first second ended only warm-up requests{}", out.context());
    let said = format!("  requests    {total} total (+{warmup} warm-up) · ");
    assert!(out.stdout.contains(&said), "{said}{}", out.context());
    assert!(out.stdout.contains("s after the warm-up)\n"), "{}", out.context());
}

#[test]
fn warm_up_requests_are_recorded_and_counted_nowhere_else() {
    let mock = fast_mock(3, &[]);
    let (out, j, recs) = Llmload::run(&mock).args("-c 1 -n 6 --warmup 2 --quiet").logged(&Dir::new("warmup"));
    out.expect_code(0);
    assert_eq!(recs.len(), 6);
    assert_eq!(recs.iter().filter(|r| r["warmup"] == true).count(), 2);
    assert_eq!(j["requests"]["total"], 4);
    assert_eq!(j["requests"]["warmup"], 2);
    assert_eq!(j["metrics"]["ttft_ms"]["count"], 4);
    assert_eq!(j["config"]["warmup_requests"], 2);
    assert!(
        out.stdout.contains("  requests    4 total (+2 warm-up) · 4 ok · 0 failed · 0 cancelled\n"),
        "{}",
        out.context()
    );
    // Rebuilt from the records, the same.
    let dir = Dir::new("warmup-report");
    let rec = dir.create("rec.jsonl", recs.iter().map(|r| format!("{r}\n")).collect::<String>());
    let (out, rebuilt) = Llmload::new("report").arg(rec).json(&dir);
    out.expect_code(0);
    assert_eq!(
        (rebuilt["requests"]["total"].as_u64(), rebuilt["requests"]["warmup"].as_u64()),
        (Some(4), Some(2))
    );
    assert!(out.stdout.contains("4 total (+2 warm-up) · 4 ok"), "{}", out.context());
}

#[test]
fn load_model_mistakes_are_refused_before_any_request() {
    let mock = fast_mock(3, &[]);
    let cases: &[(&[&str], &str)] = &[
        (&["--rate", "0", "-n", "3"], "--rate \"0\" is invalid: must be above 0"),
        (&["--rate", "-2", "-n", "3"], "must be above 0"),
        (&["--rate", "5", "-c", "4", "-n", "3"], "--rate 5 and --concurrency 4 are two load models"),
        (&["--rate", "5", "--burstiness", "0.5", "-n", "3"], "--burstiness is the shape of --arrival gamma"),
        (&["--arrival", "poisson", "-n", "3"], "--arrival shapes an open-loop load: give --rate too"),
        (&["--rate", "5"], "give -d (a duration) or -n (a request count)"),
        (&["--rate", "5", "--arrival", "bursty", "-n", "3"], "give constant, poisson or gamma"),
        (&["-n", "3", "--warmup", "3"], "would cover all 3 requests"),
        (&["-d", "2s", "--warmup", "5s"], "would cover the whole --duration"),
    ];
    for (extra, message) in cases {
        let out = Llmload::run(&mock).args("--quiet").arg_list(extra).output();
        out.expect_code(2);
        assert!(out.stderr.contains(message), "{extra:?}: {}", out.context());
    }
    assert_eq!(truth(&mock).requests, 0);
}

#[test]
fn a_sweep_runs_each_level_and_writes_them_all() {
    let mock = fast_mock(3, &[]);
    let (out, j, recs) = Llmload::new("sweep")
        .url(&mock)
        .args("--concurrency 1,3 -n 6 --slo ttft<=10s")
        .logged(&Dir::new("sweep"));
    out.expect_code(0);
    let labels: Vec<&str> =
        j["levels"].as_array().unwrap().iter().map(|l| l["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["c1", "c3"]);
    for l in j["levels"].as_array().unwrap() {
        assert_eq!(l["summary"]["requests"]["ok"], 6);
        assert_eq!(l["summary"]["goodput"]["attainment"], 1.0);
    }
    assert_eq!(j["levels"][1]["summary"]["config"]["concurrency"], 3);
    let tagged =
        |suffix: &str| recs.iter().filter(|r| r["run_id"].as_str().unwrap().ends_with(suffix)).count();
    assert_eq!((recs.len(), tagged(":c1"), tagged(":c3")), (12, 6, 6));
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("level") && lines[1].starts_with("c1") && lines[2].starts_with("c3"),
        "{}",
        out.context()
    );
}

#[test]
fn a_sweep_says_what_it_will_run_and_draws_no_live_line_off_a_terminal() {
    let mock = fast_mock(3, &[]);
    let u = url(&mock);
    let args = ["sweep", "--url", &u, "--concurrency", "1,2", "-n", "4"];
    let out = llmload(&args);
    out.expect_code(0);
    let banner = format!(
        "llmload sweep → dify-chat {u}/v1/chat-messages · concurrency 1, 2 · 4 requests a level · total time unknown: each level ends with its requests"
    );
    let replayed = "sweep: every level sends the same 1 prompt(s) (default): a server's prefix cache keeps them from one level to the next, so later levels read less and look faster; synthetic prompts (--prompt-tokens) are drawn afresh per level, and --cache-bust shares no prefix at all";
    assert_eq!(
        out.stderr,
        format!("{banner}\n{replayed}\n"),
        "the banner, the replay, nothing else{}",
        out.context()
    );
    assert!(
        !out.stderr.contains('\r') && !out.stderr.contains("level 1 of 2"),
        "no live line{}",
        out.context()
    );
    assert_eq!(out.stdout.lines().count(), 3, "the header and a row per level{}", out.context());
    assert_eq!(truth(&mock).requests, 1 + 4 + 4, "one preflight and each level's requests");

    let timed = llmload(&["sweep", "--url", &u, "--rate", "5,10", "-d", "1s", "--lang", "zh"]);
    timed.expect_code(0);
    assert_eq!(
        timed.stderr,
        format!(
            "llmload sweep → dify-chat {u}/v1/chat-messages · 速率 5, 10 req/s · 每级 1s · 总计约 2s\nsweep：每个级别都发送同样的 1 条提示词（default）：服务器的前缀缓存会把它们留到下一级别，后面的级别读得更少、显得更快；合成提示词（--prompt-tokens）每个级别重新生成，加 --cache-bust 则不共享任何前缀\n"
        ),
        "{}",
        timed.context()
    );
    assert!(timed.stdout.starts_with("级别 ") && timed.stdout.contains("有效吞吐"), "{}", timed.context());

    let before = truth(&mock).requests;
    let quiet = llmload(&[&args[..], &["-q"]].concat());
    quiet.expect_code(0);
    assert_eq!(
        quiet.stderr,
        format!("{replayed}\n"),
        "-q: neither banner nor live line, the warning stays{}",
        quiet.context()
    );
    assert_eq!(quiet.stdout.lines().count(), 3, "the table stays{}", quiet.context());
    assert_eq!(truth(&mock).requests - before, 1 + 4 + 4, "-q changes only what is said");
}

#[test]
fn a_sweep_writes_one_page_of_every_level() {
    let mock = fast_mock(3, &[]);
    let u = url(&mock);
    let dir = Dir::new("sweep-html");
    let html = dir.path("sweep.html");
    let out = Llmload::new("sweep")
        .url(&mock)
        .args("--concurrency 1,2 -n 4 --slo ttft<=10s --lang en --html")
        .arg(&html)
        .output();
    out.expect_code(0);
    let page = std::fs::read_to_string(&html).unwrap_or_else(|e| panic!("{e}{}", out.context()));
    for id in ["latency", "attainment", "levels", "config"] {
        assert!(page.contains(&format!("<section id=\"{id}\">")), "no {id}{}", out.context());
    }
    assert!(page.contains("<tr><td>c1</td>") && page.contains("<tr><td>c2</td>"), "both levels");
    assert!(page.contains(">c1</text>") && page.contains(">c2</text>"), "both points labelled");
    assert!(page.contains("SLO TTFT ≤ 10.00s"), "the SLO's TTFT bound");
    for banned in ["<script", "<link", "<img", " src=", "url(", "@import", "href=\"http"] {
        assert!(!page.contains(banned), "{banned}");
    }
    let name = "a_sweep_writes_one_page_of_every_level";
    if let Some(r) = crate::series_html::render(name, &html, &dir) {
        assert!(r.dom.contains("<tr><td>c2</td>"), "the browser's DOM{}", r.log);
    }
    // The path is opened before the first level: a bad one fails before any request.
    let sent = truth(&mock).requests;
    let bad =
        llmload(&["sweep", "--url", &u, "--concurrency", "1", "-n", "1", "--html", "/nonexistent-dir/x"]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("--html /nonexistent-dir/x: cannot create it"), "{}", bad.context());
    assert_eq!(truth(&mock).requests, sent, "nothing was sent");
}

#[test]
fn a_capacity_search_finds_the_servers_slots() {
    // One slot: a second stream waits a whole response (≈170 ms) for its first token.
    let mock = slotted_mock(20, 10, 15, 1);
    let (out, doc) = sweep(&mock)
        .args("--find concurrency --slo ttft<=100ms --slo-target 0.5 -d 1s")
        .json(&Dir::new("find"));
    out.expect_code(0);
    let c = &doc["capacity"];
    assert_eq!(
        (c["value"].as_f64(), c["failing"].as_f64(), c["stop_reason"].as_str()),
        (Some(1.0), Some(2.0), Some("converged")),
        "{c:#}"
    );
    assert!(out.stdout.contains("capacity: concurrency 1 (converged"), "{}", out.context());
}

/// `llmload sweep --url <mock>`.
fn sweep(mock: &llmload::mock::MockHandle) -> Llmload {
    Llmload::new("sweep").url(mock)
}

/// A mock whose `slots` responses generate at once, each `ttft_ms` to its first of `tokens` and
/// `itl_ms` a token after: a stream that waits for a slot waits a whole response first.
fn slotted_mock(ttft_ms: u64, itl_ms: u64, tokens: u32, slots: usize) -> llmload::mock::MockHandle {
    let config = llmload::mock::MockConfig {
        ttft: std::time::Duration::from_millis(ttft_ms),
        itl: std::time::Duration::from_millis(itl_ms),
        tokens,
        slots: Some(slots),
        ..llmload::mock::MockConfig::default()
    };
    mock_with(config)
}

#[test]
fn the_readmes_capacity_search_converges_on_the_servers_slots() {
    // The README's `--find concurrency --slo-target 0.99` with no -d, with smaller numbers: a
    // target of 0.9 (35 requests a pass) and a server of 4 slots. Every level is sized by the
    // requests its decision needs, and the search ends on the slots.
    // A stream that waits for a slot waits a whole response (≈ 90 ms) first.
    let mock = slotted_mock(10, 4, 20, 4);
    let (out, doc) = sweep(&mock)
        .args("--find concurrency --slo ttft<=60ms --slo-target 0.9")
        .json(&Dir::new("find-readme"));
    out.expect_code(0);
    let c = &doc["capacity"];
    assert_eq!(
        (c["answer"].as_str(), c["value"].as_f64(), c["failing"].as_f64(), c["stop_reason"].as_str()),
        (Some("found"), Some(4.0), Some(5.0), Some("converged")),
        "{c:#}"
    );
    let first = &c["probes"][0];
    assert_eq!((first["level"].as_f64(), first["requests"].as_u64()), (Some(1.0), Some(35)), "{first:#}");
    assert!(
        out.stdout.contains("find: c1: 35 requests (a pass at 0.9 needs at least 35)"),
        "{}",
        out.context()
    );
    assert!(
        out.stdout.contains(
            "capacity: concurrency 4 (converged; target 0.9 of requests within --slo): c4 passed ("
        ),
        "{}",
        out.context()
    );
}

#[test]
fn a_rate_search_brackets_the_capacity_to_five_percent() {
    // 2 slots of ≈ 90 ms responses serve about 22 req/s; above that the queue, and the TTFT
    // counted from each request's schedule, grow for as long as the level lasts. A target of
    // 0.5 keeps each level to about two seconds of arrivals.
    let mock = slotted_mock(10, 4, 20, 2);
    let (out, doc) = sweep(&mock)
        .args("--find rate --rate 8 --slo ttft<=60ms --slo-target 0.5")
        .json(&Dir::new("find-rate"));
    let c = &doc["capacity"];
    let (pass, fail) = (c["passing"].as_f64(), c["failing"].as_f64());
    let (Some(pass), Some(fail)) = (pass, fail) else { panic!("no bracket: {c:#}\n{}", out.context()) };
    assert!(fail > pass && (fail - pass) / pass <= 0.05, "{pass} .. {fail}: {c:#}");
    assert!(pass < 2.0 / 0.086, "{pass} req/s passed, more than 2 slots of 86 ms serve: {c:#}");
    assert_eq!((c["answer"].as_str(), c["value"].as_f64()), (Some("found"), Some(pass)), "{c:#}");
    out.expect_code(0);
}

#[test]
fn each_sweep_level_ends_its_threads_before_the_next_starts() {
    // The threads llmload's runs had alive when each level's load started: that level's workers,
    // its timer and its reporter, none left from the levels before.
    let mock = fast_mock(3, &[]);
    let (out, doc) = sweep(&mock).args("--concurrency 10,20,30 -n 60").json(&Dir::new("sweep-threads"));
    out.expect_code(0);
    let threads: Vec<u64> =
        doc["levels"].as_array().unwrap().iter().map(|l| l["threads"].as_u64().unwrap()).collect();
    assert_eq!(threads, [12, 22, 32], "{}", out.context());
}

#[test]
fn sweep_mistakes_are_refused_before_any_request() {
    let mock = fast_mock(3, &[]);
    let u = url(&mock);
    for (args, message) in [
        (vec!["--concurrency", "4,2", "-n", "3"], "give increasing levels"),
        (vec!["--find", "concurrency", "-d", "1s"], "add --slo"),
        (vec!["--find", "rate", "--slo", "ttft<=1s", "--slo-target", "1", "-d", "1s"], "between 0 and 1"),
        (vec!["--concurrency", "1,2"], "give -d"),
    ] {
        let mut all = vec!["sweep", "--url", &u];
        all.extend(args);
        let out = llmload(&all);
        out.expect_code(2);
        assert!(out.stderr.contains(message), "{}", out.context());
    }
    assert_eq!(truth(&mock).requests, 0);
}
