//! Nonsense on the command line: generated argument vectors through the real parser and
//! `Config::from_args`, and the failing ones through `app::main`. None may panic; every refusal
//! is exit 2 with one error line. Deterministic; `LLMLOAD_FUZZ_CASES` raises the count.

use crate::util::tempdir;
use argh::FromArgs;
use llmload::Config;
use llmload::{Cli, Command};

const FLAGS: &[&str] = &[
    "--url",
    "--host",
    "--port",
    "--api",
    "--model",
    "--max-tokens",
    "--api-key",
    "--api-key-file",
    "--param-file",
    "--prompt",
    "-c",
    "--concurrency",
    "--threads",
    "--ramp-up",
    "-d",
    "--duration",
    "-n",
    "--requests",
    "--timeout",
    "--connect-timeout",
    "--ttfb-timeout",
    "--idle-timeout",
    "--retries",
    "--grace",
    "--ca-cert",
    "--insecure",
    "--no-preflight",
    "--header",
    "--json",
    "--records",
    "-q",
    "--path",
    "--inputs",
    "--turns",
    "--body-template",
    "--text-path",
    "--usage-path",
    "--done-marker",
    "--tokenizer",
    "--prompt-tokens",
    "--prompt-lang",
    "--output-tokens",
];

fn values(dir: &std::path::Path) -> Vec<String> {
    let file = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let mut v: Vec<String> = [
        "",
        " ",
        "0",
        "1",
        "-1",
        "4294967296",
        "99999999999999999999",
        "1e99",
        "NaN",
        "inf",
        "1.5",
        "abc",
        "10x",
        "5 minutes",
        "1s",
        "500ms",
        "1h",
        "0ms",
        "http://",
        "https://",
        "http://127.0.0.1:1",
        "ftp://x",
        "localhost:80",
        "::1",
        "[::1]",
        "dify-chat",
        "openai-chat",
        "grpc",
        "anthropic",
        "custom",
        "auto",
        "{}",
        "{\"a\":1}",
        "/choices/0",
        "Name: value",
        "NoColon",
        ": empty",
        "Authorization: Bearer x",
        "😀",
        "\u{0}",
        "--",
        "-",
        "-c",
        "--url",
        "/",
        "/nonexistent/file",
        "/dev/null",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("x".repeat(10_000));
    v.push(file("empty.txt", b""));
    v.push(file("binary.bin", &[0, 159, 146, 150, 255]));
    v.push(file("utf16.txt", b"\xFF\xFEh\x00i\x00"));
    v.push(file("ok.txt", b"hello\r\nworld\n"));
    v.push(dir.to_str().unwrap().to_string());
    v
}

#[test]
fn generated_argument_vectors_never_panic_and_fail_in_one_line() {
    let dir = tempdir("fuzz-args");
    let pool = values(&dir);
    let outputs: Vec<String> = ["out.json", "rec.jsonl", "no-such-dir/x.json", ""]
        .iter()
        .map(|name| dir.join(name).to_str().unwrap().to_string())
        .collect();
    let cases: u64 = std::env::var("LLMLOAD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let mut seed = 0xA5A5_u64;
    let mut next = move |n: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) % n as u64) as usize
    };
    let (mut refused, mut accepted) = (0, 0);
    for case in 0..cases {
        let mut args: Vec<String> = vec!["run".into()];
        for _ in 0..1 + next(6) {
            let flag = FLAGS[next(FLAGS.len())];
            args.push(flag.into());
            if matches!(flag, "--json" | "--records") {
                // Output files are created by a valid config: only ever inside the temp dir.
                args.push(outputs[next(outputs.len())].clone());
            } else if next(8) != 0 {
                args.push(pool[next(pool.len())].clone());
            }
        }
        let strs: Vec<&str> = args.iter().map(String::as_str).collect();
        let problem = match Cli::from_args(&["llmload"], &strs) {
            // argh's own messages: unknown flags, missing or unparsable values.
            Err(e) => Some(e.output),
            Ok(Cli { command: Command::Run(a) }) => Config::from_args(&a).err().map(|e| {
                let msg = e.to_string();
                assert_eq!(msg.lines().count(), 1, "{args:?}: {msg}");
                msg
            }),
            Ok(_) => unreachable!("only `run` is generated"),
        };
        let Some(problem) = problem else {
            accepted += 1;
            continue;
        };
        refused += 1;
        assert!(!problem.trim().is_empty(), "{args:?}");
        // Only refused vectors reach `main`: it stops where `Config` did, before the preflight
        // or any worker, so no generated URL is ever sent a request.
        if case % 50 == 0 {
            assert_eq!(llmload::main(&args), 2, "{args:?}: {problem}");
        }
    }
    assert!(refused > cases / 2 && accepted > 0, "refused {refused}, accepted {accepted}");
}
