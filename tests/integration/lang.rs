//! `--lang`: Chinese headers, summary and report with the same numbers as English, the locale
//! (`LANG`, `LC_ALL`) choosing when the flag is absent, and nothing redrawn (no progress line,
//! no escape byte) when stderr is a pipe.

use crate::util::*;

/// The numbers of a text, sorted: every run of digits, `.`, `,` and `%` that holds a digit.
fn numbers(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .split(|c: char| !(c.is_ascii_digit() || ".,%".contains(c)))
        .map(|w| w.trim_matches(|c| ".,".contains(c)).to_string())
        .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
        .collect();
    found.sort();
    found
}

#[test]
fn chinese_output_has_chinese_labels_and_the_english_numbers() {
    let mock = fast_mock(5, &[]);
    let dir = Dir::new("lang-zh");
    let live = Llmload::run(&mock).args("-c 2 -n 6").records_in(&dir).args("--lang zh").output();
    let rec = dir.path(Dir::RECORDS);
    let rec = rec.to_str().unwrap();
    live.expect_code(0);
    assert!(live.stderr.contains("时间") && live.stderr.contains("工作线程"), "{}", live.context());
    assert!(live.stdout.contains("\nllmload 汇总 · dify-chat · "), "{}", live.context());
    assert!(live.stdout.contains("  成功率      100.0%\n"), "{}", live.context());
    // A -n run names no deadline; the table's last row says 结束 (end), not a clock time again.
    assert!(live.stdout.contains("  请求        共 6 · 成功 6 · 失败 0 · 取消 0\n"), "{}", live.context());
    assert!(live.stdout.contains("\n  TTFT = TTFA (ms)  "), "{}", live.context());
    let last = live.stderr.lines().rfind(|l| l.starts_with("结束 ")).unwrap_or_default();
    assert!(last.split_whitespace().nth(1).is_some_and(|e| e.contains('.')), "{}", live.context());

    let report = |lang: &str, json: &str, html: &str| {
        let (json, html) = (dir.join(json), dir.join(html));
        let args = ["report", rec, "--lang", lang, "--json", json.to_str().unwrap()];
        let out = llmload(&[&args[..], &["--html", html.to_str().unwrap()]].concat());
        out.expect_code(0);
        let page = std::fs::read_to_string(&html).unwrap();
        let summary = read_json(&json, &out);
        (out, summary, page)
    };
    let (en, en_json, en_page) = report("en", "en.json", "en.html");
    let (zh, zh_json, zh_page) = report("zh", "zh.json", "zh.html");
    assert!(
        en.stdout.contains("  metric ") && en.stdout.contains("  success     100.0%"),
        "{}",
        en.context()
    );
    assert!(
        zh.stdout.contains("  指标 ") && zh.stdout.contains("由 ") && zh.stdout.contains("重建"),
        "{}",
        zh.context()
    );
    assert_eq!(numbers(&zh.stdout), numbers(&en.stdout), "the same numbers:{}{}", en.context(), zh.context());
    assert_eq!(zh_json, en_json, "the JSON summary does not depend on the language");
    assert!(en_page.contains("<html lang=\"en\">") && en_page.contains("<h2>Summary</h2>"));
    assert!(zh_page.contains("<html lang=\"zh-CN\">") && zh_page.contains("<h2>汇总</h2>"));
    assert!(zh_page.contains("<h2>客户端判定</h2>") && zh_page.contains("<h2>配置</h2>"));
}

#[test]
fn the_locale_picks_the_language_when_no_flag_does() {
    let mock = fast_mock(3, &[]);
    let dir = Dir::new("lang-env");
    Llmload::run(&mock).args("-n 2 --quiet").records_in(&dir).output().expect_code(0);
    let rec = dir.path(Dir::RECORDS);
    let rec = rec.to_str().unwrap();
    let title = |env: &[(&str, &str)], args: &[&str]| {
        let out = llmload_env(&[&["report", rec][..], args].concat(), env);
        out.expect_code(0);
        out.stdout.lines().nth(1).unwrap_or_default().split(" · ").next().unwrap_or_default().to_string()
    };
    assert_eq!(title(&[("LANG", "zh_CN.UTF-8")], &[]), "llmload 汇总");
    assert_eq!(title(&[("LANG", "en_US.UTF-8")], &[]), "llmload summary");
    assert_eq!(title(&[], &[]), "llmload summary");
    assert_eq!(title(&[("LC_ALL", "C.UTF-8"), ("LANG", "zh_CN.UTF-8")], &[]), "llmload summary");
    assert_eq!(title(&[("LC_MESSAGES", "zh_TW.UTF-8"), ("LANG", "en_US")], &[]), "llmload 汇总");
    assert_eq!(title(&[("LANG", "zh_CN.UTF-8")], &["--lang", "en"]), "llmload summary");
    let bad = llmload(&["report", rec, "--lang", "fr"]);
    bad.expect_code(2);
    assert!(bad.stderr.contains("--lang") && bad.stderr.contains("give zh or en"), "{}", bad.context());
}

#[test]
fn a_piped_stderr_gets_no_progress_line_and_no_escape_bytes() {
    let mock = fast_mock(3, &[]);
    let url = url(&mock);
    for quiet in [false, true] {
        let mut args = vec!["run", "--url", &url, "-c", "2", "-n", "20"];
        if quiet {
            args.push("--quiet");
        }
        let out = llmload_env(&args, &[("LANG", "zh_CN.UTF-8")]);
        out.expect_code(0);
        for text in [&out.stderr, &out.stdout] {
            assert!(!text.contains('\r') && !text.contains('\x1b'), "{}", out.context());
            assert!(!text.contains("进度") && !text.contains("progress"), "{}", out.context());
        }
    }
}

/// The words of ASCII letters in `text` that are not in `allowed`, URLs left out: what is
/// still English in a Chinese output.
fn english(text: &str, allowed: &[&str]) -> Vec<String> {
    let mut words: Vec<String> = text
        .split_whitespace()
        .filter(|w| !w.contains("://"))
        // A flag is a name, not English: `--cache-bust` and `（--prompt-tokens）` alike.
        .flat_map(|w| w.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')))
        .filter(|w| !w.starts_with("--"))
        .flat_map(|w| w.split(|c: char| !c.is_ascii_alphabetic()))
        .filter(|w| w.len() > 1 && !allowed.contains(w))
        .map(String::from)
        .collect();
    words.sort();
    words.dedup();
    words
}

/// What a Chinese output keeps in English: names, units, metric and flag names, the verdict
/// (`ok`, `degraded`, `client-bound`: the JSON's words, as the HTML report shows them too).
const KEPT: [&str; 34] = [
    "llmload", "sweep", "dify", "openai", "chat", "req", "tok", "ms", "TTFB", "TTFE", "TTFT", "TTFA", "ITL",
    "TPOT", "E2E", "ok", "slo", "ttft", "CI", "API", "token", "usage", "estimate", "CPU", "MiB", "Ctrl",
    "key", "degraded", "client", "bound", "api", "auto", "URL", "default",
];

#[test]
fn chinese_goodput_sweeps_and_searches_say_nothing_else_in_english() {
    let mock = fast_mock(5, &[]);
    // No --api: `--api auto`'s note says what it chose, in Chinese too.
    let u = url(&mock);
    let run = llmload(&["run", "--url", &u, "-c", "2", "-n", "6", "--slo", "ttft<=1s", "--lang", "zh"]);
    run.expect_code(0);
    assert!(
        run.stderr.contains("--api auto：dify-chat（URL 路径未指明 API；用 --api 选择）\n"),
        "{}",
        run.context()
    );
    assert!(run.stdout.contains("\n  有效吞吐    "), "{}", run.context());
    assert!(
        run.stdout.contains(" · 无法判定 0 · slo ttft<=1s\n    ttft<=1s  满足 6 · 未满足 0 · 无法判定 0\n"),
        "{}",
        run.context()
    );
    assert!(
        run.stderr.starts_with("llmload ") && run.stderr.contains(" · 2 个工作线程 · 6 个请求 · "),
        "{}",
        run.context()
    );
    assert_eq!(
        english(&format!("{}{}", run.stdout, run.stderr), &KEPT),
        Vec::<String>::new(),
        "{}",
        run.context()
    );

    let sweep = llmload(&[
        "sweep",
        "--url",
        &u,
        "--api",
        "dify-chat",
        "--concurrency",
        "1,2",
        "-n",
        "6",
        "--slo",
        "ttft<=1s",
        "--lang",
        "zh",
    ]);
    sweep.expect_code(0);
    assert!(sweep.stderr.contains(" · 并发 1, 2 · 每级 6 个请求 · "), "{}", sweep.context());
    assert!(sweep.stdout.starts_with("级别 ") && sweep.stdout.contains("有效吞吐"), "{}", sweep.context());
    assert_eq!(sweep.stdout.lines().filter(|l| l.starts_with('c')).count(), 2, "{}", sweep.context());
    let all = format!("{}{}", sweep.stdout, sweep.stderr);
    assert_eq!(english(&all, &KEPT), Vec::<String>::new(), "{}", sweep.context());

    // The search of load_models.rs's capacity test: one slot, so c2 fails and c1 is the answer.
    let config = llmload::mock::MockConfig {
        ttft: std::time::Duration::from_millis(20),
        itl: std::time::Duration::from_millis(10),
        tokens: 15,
        slots: Some(1),
        ..llmload::mock::MockConfig::default()
    };
    let slotted = llmload::mock::start(([127, 0, 0, 1], 0).into(), config).expect("mock starts");
    let args = ["--find", "concurrency", "--slo", "ttft<=100ms", "--slo-target", "0.5", "-d", "1s"];
    let u = url(&slotted);
    let find = llmload(&[&["sweep", "--url", &u, "--api", "dify-chat", "--lang", "zh"][..], &args].concat());
    find.expect_code(0);
    assert!(
        find.stdout.contains("搜索：c1：4 个请求（目标 0.5 下通过至少需要 4 个），时间未知，至多 1.0s\n"),
        "{}",
        find.context()
    );
    assert!(
        find.stdout.contains("\n容量：并发 1（已收敛；目标：0.5 的请求满足 --slo）：c1 通过（"),
        "{}",
        find.context()
    );
    let all = format!("{}{}", find.stdout, find.stderr);
    assert_eq!(english(&all, &KEPT), Vec::<String>::new(), "{}", find.context());
}
