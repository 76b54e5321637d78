//! `--series` and `--html` on `run` and `report`: the series has exactly the keys docs/series.md
//! lists and adds up to the summary; `report` rebuilds the same rows from the records; the HTML
//! report holds its sections and fetches nothing, and with `--slo`, `--threshold`, two keys and
//! several prompts its thresholds, goodput, by-key and by-prompt sections and the latency from
//! the intended start; a path that cannot be written fails at once, naming the flag; and a real
//! browser (Debian's `chromium`) renders the fuller page without a console message.

use crate::contract::{assert_short_floats, documented};
use crate::util::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A `--series` line as a reader would declare it: every key and nothing more.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "decoded to pin the shape; the test reads the values as JSON")]
struct Line {
    time: String,
    elapsed_s: f64,
    duration_s: f64,
    started: u64,
    finished: u64,
    finished_total: u64,
    ok: u64,
    failed: u64,
    cancelled: u64,
    in_flight: u64,
    success_rate: Option<f64>,
    requests_per_s: f64,
    output_tokens: u64,
    output_tokens_per_s: f64,
    ttft_p50_ms: Option<f64>,
    ttft_p99_ms: Option<f64>,
    itl_p50_ms: Option<f64>,
    itl_p99_ms: Option<f64>,
    read_lag_p99_ms: Option<f64>,
    server: ServerLine,
}

/// A second's `server` (`--server-metrics`).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "decoded to pin the shape")]
struct ServerLine {
    running: Option<f64>,
    waiting: Option<f64>,
    kv_use: Option<f64>,
    generation_tokens_per_s: Option<f64>,
    prompt_tokens_per_s: Option<f64>,
    values: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Option<f64>>>,
}

fn read_lines(path: &Path, out: &Output) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path:?}: {e}{}", out.context()));
    text.lines().map(|l| serde_json::from_str(l).expect("a series line is JSON")).collect()
}

fn sum(lines: &[Value], key: &str) -> u64 {
    lines.iter().map(|l| l[key].as_u64().unwrap()).sum()
}

/// A run of 24 requests (1 in 8 failing) with every output; its directory, summary and output.
fn live(name: &str) -> (PathBuf, Value, Output) {
    let mock = fast_mock(8, &["http-500:0.125"]);
    let dir = Dir::new(name);
    let out = Llmload::run(&mock)
        .args("--api openai-chat --api-key sk-abcdefghijklmnop9f3c")
        .opt("--prompt", "<b>你好</b> & hi")
        .args("-c 3 -n 24 --quiet")
        .opt("--json", dir.path("live.json"))
        .opt("--records", dir.path("rec.jsonl"))
        .opt("--series", dir.path("live-series.jsonl"))
        .opt("--html", dir.path("live.html"))
        .opt("--server-metrics", format!("{}/metrics", url(&mock)))
        .output();
    out.expect_code(0);
    let json = read_json(&dir.join("live.json"), &out);
    (dir.to_path_buf(), json, out)
}

/// A run held to `--slo` and three `--threshold`s (one fails: 1 in 8 requests is an HTTP 500),
/// with two keys and three prompts round-robin, and an open-loop rate one worker cannot keep up
/// with (so requests wait past their intended start); its directory, summary and output.
fn judged(name: &str) -> (PathBuf, Value, Output) {
    let mock = fast_mock(8, &["http-500:0.125"]);
    let dir = Dir::new(name);
    let out = Llmload::run(&mock)
        .args("--api openai-chat")
        .opt("--api-key-file", dir.create("keys.txt", "sk-first-key-00000001\nsk-second-key-0000002\n"))
        .opt("--param-file", dir.create("prompts.txt", "<b>first</b> & prompt\n第二个提示词\nthird\n"))
        .args("--rate 400 --arrival constant --max-concurrency 1 -n 24 --slo ttft<=10s,tpot<10s")
        .args("--threshold ttft.p99<1m --threshold success_rate>0.5 --threshold error_rate<1% --quiet")
        .opt("--json", dir.path("judged.json"))
        .opt("--html", dir.path("judged.html"))
        .output();
    out.expect_code(1);
    let json = read_json(&dir.join("judged.json"), &out);
    (dir.to_path_buf(), json, out)
}

/// The sections of the judged run's page, in the order the page has them.
const JUDGED_SECTIONS: [&str; 11] = [
    "summary",
    "thresholds",
    "goodput",
    "client",
    "series",
    "distributions",
    "keys",
    "prompts",
    "errors",
    "warnings",
    "config",
];

/// What the judged run's page (as written, or as the browser's DOM) must hold.
fn check_judged(page: &str, json: &Value, context: &str) {
    let at: Vec<usize> = JUDGED_SECTIONS
        .iter()
        .map(|id| page.find(&format!("<section id=\"{id}\">")).unwrap_or_else(|| panic!("no {id}{context}")))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "sections out of order: {at:?}{context}");
    assert_eq!(json["thresholds"].as_array().unwrap().len(), 3, "{context}");
    assert!(
        page.contains("<div class=\"label\">thresholds passed</div><div class=\"value\">2 of 3</div>"),
        "the headline card{context}"
    );
    assert!(page.contains("<strong>FAIL</strong>: 2 of 3 passed"), "the thresholds' result{context}");
    assert!(page.contains("<code>error_rate&lt;1%</code>") && page.contains("✗ FAIL"), "{context}");
    assert!(page.contains("<code>ttft&lt;=10s,tpot&lt;10s</code>"), "the objectives{context}");
    assert!(page.contains("chart interval") && page.matches("class=\"stacked\"").count() == 2, "{context}");
    assert!(page.contains("<code>sk-f…0001</code>") && page.contains("<code>sk-s…0002</code>"), "{context}");
    assert!(!page.contains("sk-first-key-00000001"), "a key in clear{context}");
    assert!(
        page.contains("&lt;b&gt;first&lt;/b&gt; &amp; prompt") && !page.contains("<b>first"),
        "{context}"
    );
    assert!(page.contains("第二个提示词"), "{context}");
    // One worker for a request every 2.5 ms: requests waited, and the page says so.
    assert!(page.contains("<td>TTFT sched ms</td>") && page.contains("from the intended start"), "{context}");
    // Six series charts, five distributions of two, the interval and two objectives' bars.
    assert_eq!(page.matches("<svg").count(), 6 + 10 + 1 + 2, "{context}");
}

#[test]
fn the_html_report_shows_thresholds_goodput_and_the_breakdowns() {
    let (dir, json, out) = judged("html-judged");
    let page = std::fs::read_to_string(dir.join("judged.html")).unwrap();
    check_judged(&page, &json, &out.context());
    for banned in ["<script", "<link", "<img", " src=", "url(", "@import", "href=\"http"] {
        assert!(!page.contains(banned), "{banned}");
    }
}

#[test]
fn the_series_adds_up_to_the_summary_and_report_rebuilds_it() {
    let (dir, json, out) = live("series");
    let lines = read_lines(&dir.join("live-series.jsonl"), &out);
    assert!(!lines.is_empty(), "{}", out.context());
    let mut keys = BTreeSet::new();
    for l in &lines {
        let _: Line = serde_json::from_value(l.clone()).unwrap_or_else(|e| panic!("{e}: {l}"));
        keys.extend(l.as_object().unwrap().keys().cloned());
        keys.extend(
            l["server"].as_object().into_iter().flat_map(|o| o.keys().map(|k| format!("server.{k}"))),
        );
        assert_short_floats(l, "a series line");
    }
    let listed = documented("series.md");
    assert_eq!(keys, listed, "docs/series.md and the real lines disagree");
    // Every request starts and ends in some second; nothing is in flight after the last.
    let requests = &json["requests"];
    assert_eq!((sum(&lines, "started"), sum(&lines, "finished")), (24, 24));
    assert_eq!(
        (sum(&lines, "ok"), sum(&lines, "failed"), sum(&lines, "cancelled")),
        (requests["ok"].as_u64().unwrap(), requests["failed"].as_u64().unwrap(), 0)
    );
    assert_eq!(requests["failed"], 3, "{}", out.context());
    assert_eq!(sum(&lines, "output_tokens"), json["tokens"]["output_total"].as_u64().unwrap());
    let last = lines.last().unwrap();
    assert_eq!((&last["finished_total"], &last["in_flight"]), (&Value::from(24), &Value::from(0)));

    // `report` rebuilds the same seconds from the records: all but the read lag, of which records
    // keep each request's largest, the wall clock and the server's scrapes, which records do not
    // hold.
    let (series, html) = (dir.join("rebuilt-series.jsonl"), dir.join("rebuilt.html"));
    let rec = dir.join("rec.jsonl");
    let report = Llmload::new("report").arg(rec).opt("--series", &series).opt("--html", &html).output();
    report.expect_code(0);
    let strip = |mut l: Value| {
        let o = l.as_object_mut().unwrap();
        o.remove("time");
        o.remove("read_lag_p99_ms");
        o.remove("server");
        l
    };
    let rebuilt: Vec<Value> = read_lines(&series, &report).into_iter().map(strip).collect();
    assert_eq!(rebuilt, lines.into_iter().map(strip).collect::<Vec<_>>(), "{}", report.context());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<strong>not judged</strong>"), "a rebuilt run is not judged");
}

#[test]
fn the_html_report_holds_its_sections_and_fetches_nothing() {
    let (dir, _, out) = live("html");
    let page =
        std::fs::read_to_string(dir.join("live.html")).unwrap_or_else(|e| panic!("{e}{}", out.context()));
    for id in ["summary", "client", "series", "distributions", "errors", "warnings", "config"] {
        assert!(page.contains(&format!("<section id=\"{id}\">")), "no {id} section");
    }
    assert!(page.contains("<td><code>http_500</code></td><td>3</td>"), "the error table");
    assert!(!page.contains("<b>你好"), "text from the run is escaped");
    assert!(!page.contains("abcdefghijklmnop") && page.contains("sk-a…9f3c"), "the key is masked");
    for banned in ["<script", "<link", "<img", " src=", "url(", "@import", "href=\"http"] {
        assert!(!page.contains(banned), "{banned}");
    }
    // Six per-second charts and five distributions of two, besides the server's (whose charts
    // depend on whether a scrape fell inside so short a run: server_html.rs counts them).
    let server = &page[page.find("<section id=\"server\">").expect("a server section")..];
    let server = &server[..server.find("</section>").unwrap()];
    assert_eq!(page.matches("<svg").count() - server.matches("<svg").count(), 16);
}

/// The points of the first step line (`polyline` of class `class`) in `page`.
fn polyline(page: &str, class: &str) -> Vec<(f64, f64)> {
    let pts = page.split(&format!("<polyline class=\"{class}\" points=\"")).nth(1).expect("a line");
    pts.split('"')
        .next()
        .unwrap()
        .split(' ')
        .map(|p| p.split_once(',').map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap())).unwrap())
        .collect()
}

#[test]
fn the_reports_cumulative_shares_are_steps() {
    let (dir, _, out) = live("html-steps");
    let page =
        std::fs::read_to_string(dir.join("live.html")).unwrap_or_else(|e| panic!("{e}{}", out.context()));
    let distributions = &page[page.find("<section id=\"distributions\">").expect("distributions")..];
    let pts = polyline(distributions, "s2");
    assert!(pts.len() > 4, "{pts:?}");
    for w in pts.windows(2) {
        assert!(w[0].0 == w[1].0 || w[0].1 == w[1].1, "a slanted segment {w:?} in {pts:?}");
    }
}

#[test]
fn an_interrupted_run_is_marked_at_the_top_of_its_report() {
    let mock = paced_mock(10, 50, 100);
    let dir = Dir::new("html-interrupted");
    let html = dir.path("r.html");
    let run =
        Llmload::run(&mock).args("-c 2 -d 60s --grace 1s -q --no-preflight --lang zh").opt("--html", &html);
    let (out, _) = run.signalled(Duration::from_millis(1000), &["INT"], Duration::ZERO);
    out.expect_code(130);
    let page = std::fs::read_to_string(&html).unwrap_or_else(|e| panic!("{e}{}", out.context()));
    let main = &page[page.find("<main>\n").expect("main") + 7..];
    assert!(
        main.starts_with("<p class=\"notice\" role=\"status\"><strong>已中断（Ctrl-C 或 SIGTERM），运行 "),
        "{}{}",
        &main[..300.min(main.len())],
        out.context()
    );
}

#[test]
fn a_sweep_page_charts_each_level_in_level_order_with_its_errors() {
    let mock = fast_mock(4, &["http-500:0.25"]);
    let dir = Dir::new("sweep-by-level");
    let html = dir.path("s.html");
    let out = Llmload::new("sweep")
        .url(&mock)
        .args("--api openai-chat --concurrency 1,2,4 -n 20 -q --no-preflight --lang en")
        .opt("--html", &html)
        .output();
    out.expect_code(0);
    let page = std::fs::read_to_string(&html).unwrap_or_else(|e| panic!("{e}{}", out.context()));
    let by = &page[page.find("<section id=\"by-level\">").expect("by level")
        ..page.find("<section id=\"levels\">").unwrap()];
    for caption in ["Output tokens per second by level", "ITL by level", "Errors by level"] {
        assert!(by.contains(&format!("<figcaption>{caption}")), "{caption}{}", out.context());
    }
    // Against the concurrency, joined 1, 2, 4: x rises along every line.
    let xs: Vec<f64> = polyline(by, "s1").iter().map(|p| p.0).collect();
    assert_eq!(xs.len(), 3, "{xs:?}");
    assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
    let failed = |level: &str| {
        let row = &page[page.find(&format!("<tr><td>{level}</td>")).expect("a row")..];
        let cells: Vec<&str> =
            row.split("<td>").skip(1).take(10).map(|c| c.split('<').next().unwrap()).collect();
        cells[8].parse::<u64>().unwrap()
    };
    let total: u64 = ["c1", "c2", "c4"].iter().map(|l| failed(l)).sum();
    let faults: u64 = truth(&mock).faults.values().sum();
    assert!(faults > 0, "1 in 4 of 60 requests failed{}", out.context());
    assert_eq!(total, faults, "the failed column adds up to the mock's faults{}", out.context());
    assert!(page.contains("<th>failed</th><th>error share</th>"));
}

#[test]
fn an_unwritable_series_or_html_path_fails_before_any_load() {
    let mock = fast_mock(2, &[]);
    for flag in ["--series", "--html"] {
        let out = llmload(&["run", "--url", &url(&mock), "-n", "1", flag, "/nonexistent-dir/out"]);
        out.expect_code(2);
        let expected = format!("error: {flag} /nonexistent-dir/out: cannot create it (");
        assert!(out.stderr.starts_with(&expected), "{}", out.context());
        assert!(out.stderr.contains("check the folder exists and is writable"), "{}", out.context());
        let report = llmload(&["report", "/nonexistent-dir/rec.jsonl", flag, "/nonexistent-dir/out"]);
        report.expect_code(2);
        assert!(report.stderr.starts_with(&expected), "{}", report.context());
    }
    assert_eq!(truth(&mock).requests, 0, "nothing was sent");
    let same = llmload(&["run", "--url", &url(&mock), "--series", "x", "--html", "x"]);
    same.expect_code(2);
    assert!(same.stderr.contains("--series and --html name the same file"), "{}", same.context());
    let dir = Dir::new("html-over-input");
    let rec = dir.create("rec.jsonl", "keep me\n");
    let over = llmload(&["report", rec.to_str().unwrap(), "--html", rec.to_str().unwrap()]);
    over.expect_code(2);
    assert!(over.stderr.contains("is one of the records files being read"), "{}", over.context());
    assert_eq!(std::fs::read_to_string(&rec).unwrap(), "keep me\n", "the input is untouched");
}

/// Whether `chromium` runs here.
fn chromium() -> bool {
    std::process::Command::new("chromium").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// What a headless chromium made of a page: its DOM, its screenshot's path, and its stderr.
pub struct Rendered {
    pub dom: String,
    pub png: PathBuf,
    pub log: String,
}

/// `page` rendered by a headless `chromium` (its profile and screenshot in `dir`), after
/// asserting it ran and printed no console message (the pages have no script: any message is
/// something refused, or an error); `None`, the test `name` saying it skipped, without one
/// (unless `LLMLOAD_REQUIRE_CHROMIUM=1`).
pub fn render(name: &str, page: &Path, dir: &Path) -> Option<Rendered> {
    if !chromium() {
        let required = std::env::var("LLMLOAD_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "LLMLOAD_REQUIRE_CHROMIUM=1 but `chromium` is not on PATH: apt-get install -y chromium"
        );
        eprintln!(
            "SKIPPED {name}: `chromium` is not on PATH (apt-get install -y chromium; .ci/run installs it)"
        );
        return None;
    }
    let (png, profile) = (dir.join("report.png"), dir.join("profile"));
    let out = std::process::Command::new("timeout")
        .arg("120")
        .arg("chromium")
        .args(["--headless", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", "--window-size=1280,6000"])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let (dom, log) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "chromium failed: {:?}\n--- chromium stderr ---\n{log}", out.status);
    let console: Vec<&str> =
        log.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught")).collect();
    assert!(console.is_empty(), "console messages:\n{}", console.join("\n"));
    Some(Rendered { dom: dom.into_owned(), png, log: log.into_owned() })
}

#[test]
fn a_real_browser_renders_the_report_without_a_console_message() {
    let (dir, json, _) = judged("browser");
    let Some(r) =
        render("a_real_browser_renders_the_report_without_a_console_message", &dir.join("judged.html"), &dir)
    else {
        return;
    };
    let context = format!("\n--- chromium stderr ---\n{}", r.log);
    check_judged(&r.dom, &json, &context);
    assert!(r.dom.contains("<td><code>http_500</code></td>"), "the error table");
    let shot = std::fs::read(&r.png).unwrap_or_else(|e| panic!("no screenshot {:?}: {e}{context}", r.png));
    assert!(shot.starts_with(b"\x89PNG") && shot.len() > 10_000, "{} bytes", shot.len());
}
