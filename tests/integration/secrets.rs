//! API keys never leave the process: every output of a run — stdout, stderr, JSON, records, the
//! rebuilt report, `--help` — is searched for the key, including error paths where the server
//! echoes the key back.

use crate::util::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};

const KEY: &str = "sk-live-4f9c2a7e1b3d5f6a8c0e2b4d";
const HEADER_KEY: &str = "hk-9a8b7c6d5e4f3a2b1c0d";

/// A server that answers every request 401 with a JSON body quoting the credentials it got,
/// as some gateways do.
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut reader = BufReader::new(conn);
            let (mut echoed, mut length) = (Vec::new(), 0usize);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("authorization:") || lower.starts_with("x-api-key:") {
                    echoed.push(line.trim_end().to_string());
                }
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let _ = reader.by_ref().take(length as u64).read_to_end(&mut Vec::new());
            let body =
                serde_json::json!({ "message": format!("invalid credentials: {}", echoed.join("; ")) });
            let body = body.to_string();
            let head = format!(
                "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = reader.get_mut().write_all(format!("{head}{body}").as_bytes());
        }
    });
    addr
}

fn assert_no_secret(outputs: &[(&str, String)]) {
    for (what, text) in outputs {
        for secret in [KEY, HEADER_KEY, "4f9c2a7e1b3d", "9a8b7c6d5e4f"] {
            assert!(!text.contains(secret), "{secret} leaked in {what}:\n{text}");
        }
    }
}

#[test]
fn a_key_echoed_by_the_server_is_masked_in_every_output() {
    let addr = echo_server();
    let dir = Dir::new("secrets");
    let (json_path, rec_path, rebuilt) =
        (dir.path(Dir::JSON), dir.path(Dir::RECORDS), dir.path("rebuilt.json"));
    let (out, j) = Llmload::new("run --url")
        .arg(format!("http://{addr}"))
        .args("-n 3 --api-key")
        .arg(KEY)
        .opt("--header", format!("X-Api-Key: {HEADER_KEY}"))
        .args("--no-preflight")
        .records_in(&dir)
        .json(&dir);
    out.expect_code(1);
    let msg = j["error_messages"]["http_401"].as_str().unwrap();
    assert!(msg.contains("sk-l…2b4d") && msg.contains("hk-9…1c0d"), "the echo is there, masked: {msg}");
    let report = Llmload::new("report").arg(&rec_path).opt("--json", &rebuilt).output();
    report.expect_code(1);
    let mut outputs = vec![
        ("stdout", out.stdout.clone()),
        ("stderr", out.stderr.clone()),
        ("json", std::fs::read_to_string(&json_path).unwrap()),
        ("records", std::fs::read_to_string(&rec_path).unwrap()),
        ("report stdout", report.stdout.clone()),
        ("report stderr", report.stderr.clone()),
        ("report json", std::fs::read_to_string(&rebuilt).unwrap()),
    ];
    for help in
        [&["--help"][..], &["run", "--help"], &["report", "--help"], &["mock", "--help"], &["demo", "--help"]]
    {
        let h = llmload(help);
        h.expect_code(0);
        outputs.push(("help", h.stdout));
    }
    assert_no_secret(&outputs);
}

#[test]
fn usage_errors_never_quote_a_key() {
    for args in [
        vec!["run", "--header", &format!("Authorization Bearer {KEY}")[..]],
        vec!["run", "--api-key", KEY, "--concurrency", "0"],
        vec!["run", "--api-key", KEY, "--api-key-file", "/nonexistent"],
        vec!["run", "--api-key", KEY, "--bogus-flag", "1"],
        vec!["--api-key", KEY, "--url", "not-a-url"],
    ] {
        let out = llmload(&args);
        out.expect_code(2);
        assert_eq!(out.stderr.lines().filter(|l| l.starts_with("error")).count(), 1, "{}", out.context());
        assert_no_secret(&[("stderr", out.stderr.clone()), ("stdout", out.stdout.clone())]);
    }
    let out = llmload(&["run", "--header", &format!("Authorization Bearer {KEY}")]);
    assert!(
        out.stderr.contains("--header \"Auth…2b4d\" is invalid: write it as 'Name: value'"),
        "{}",
        out.context()
    );
}

#[test]
fn a_key_echoed_to_the_preflight_is_masked_in_its_error() {
    let addr = echo_server();
    let out = Llmload::new("run --url")
        .arg(format!("http://{addr}"))
        .opt("--api-key", KEY)
        .opt("--header", format!("X-Api-Key: {HEADER_KEY}"))
        .output();
    out.expect_code(2);
    assert!(out.stderr.contains("error: preflight request to"), "{}", out.context());
    assert!(out.stderr.contains("sk-l…2b4d") && out.stderr.contains("hk-9…1c0d"), "{}", out.context());
    assert_no_secret(&[("stderr", out.stderr.clone()), ("stdout", out.stdout.clone())]);
}
