//! Every flag or file a user can get wrong: exit 2, one clear line naming it and the fix, and no
//! request sent.

use crate::util::*;

fn assert_usage_error(args: &[&str], expected: &str) {
    let mock = fast_mock(2, &[]);
    let u = url(&mock);
    let mut full = vec!["run", "--url", u.as_str()];
    full.extend_from_slice(args);
    let out = llmload(&full);
    out.expect_code(2);
    assert!(out.stderr.contains(expected), "stderr lacks {expected:?}{}", out.context());
    assert!(out.stdout.is_empty(), "{}", out.context());
    assert_eq!(truth(&mock).requests, 0, "a fatal error must come before any request{}", out.context());
}

#[test]
fn bad_flags_name_themselves() {
    assert_usage_error(
        &["--concurrency", "0"],
        "error: --concurrency \"0\" is invalid: must be at least 1 worker",
    );
    assert_usage_error(&["--threads", "0"], "--threads \"0\" is invalid");
    assert_usage_error(
        &["--api", "grpc"],
        "--api \"grpc\" is invalid: unknown API: use one of auto, dify-chat, dify-completion, dify-workflow, openai-chat, openai-completions, openai-responses, anthropic, custom",
    );
    assert_usage_error(&["--api", "opneai-chat"], "; did you mean openai-chat?");
    assert_usage_error(&["--duration", "ten"], "--duration \"ten\" is invalid: use a duration such as 500ms");
    assert_usage_error(&["--ramp-up", "-1"], "--ramp-up \"-1\" is invalid");
    assert_usage_error(&["--requests", "0"], "--requests \"0\" is invalid");
    assert_usage_error(&["--header", "oops"], "--header \"oops\" is invalid: write it as 'Name: value'");
    assert_usage_error(&["--port", "1"], "give either --url or --host/--port, not both");
    assert_usage_error(&["--concurrency", "x"], "--concurrency");
    assert_usage_error(&["--bogus"], "error: unknown flag --bogus\n");
}

/// An unknown flag, for every command and for the seed-style line without one: exit 2 and
/// exactly two lines, the flag with the nearest real one, and that command's own `--help`. argh
/// refuses these before a command starts, so nothing is listened on or sent.
#[test]
fn an_unknown_flag_names_the_nearest_and_its_commands_help() {
    let cases: [(&[&str], &str); 11] = [
        (
            &["run", "--concurency", "4"],
            "unknown flag --concurency; did you mean --concurrency?\nRun `llmload run --help`",
        ),
        (&["--threds", "10"], "unknown flag --threds; did you mean --threads?\nRun `llmload run --help`"),
        (
            &["sweep", "--concurency", "1,2"],
            "unknown flag --concurency; did you mean --concurrency?\nRun `llmload sweep --help`",
        ),
        (
            &["sweep", "-c", "1", "--duraton", "5s"],
            "unknown flag --duraton; did you mean --duration?\nRun `llmload sweep --help`",
        ),
        (&["sweep", "--foo", "-c", "1"], "unknown flag --foo\nRun `llmload sweep --help`"),
        (&["mock", "--prot", "8080"], "unknown flag --prot; did you mean --port?\nRun `llmload mock --help`"),
        (
            &["demo", "--duratio", "3s"],
            "unknown flag --duratio; did you mean --duration?\nRun `llmload demo --help`",
        ),
        (
            &["report", "r.jsonl", "--jsn", "o.json"],
            "unknown flag --jsn; did you mean --json?\nRun `llmload report --help`",
        ),
        (
            &["compare", "a.json", "b.json", "--fail-iff", "x"],
            "unknown flag --fail-iff; did you mean --fail-if?\nRun `llmload compare --help`",
        ),
        (
            &["probe", "--ur", "http://127.0.0.1:9"],
            "unknown flag --ur; did you mean --url?\nRun `llmload probe --help`",
        ),
        (&["swep"], "unknown command swep; did you mean sweep?\nRun `llmload --help` for the commands."),
    ];
    for (args, expected) in cases {
        let out = llmload(args);
        out.expect_code(2);
        let tail = if expected.ends_with('.') { "\n" } else { " for its flags.\n" };
        assert_eq!(out.stderr, format!("error: {expected}{tail}"), "{}", out.context());
        assert!(out.stdout.is_empty(), "{}", out.context());
    }
}

#[test]
fn sweep_is_a_listed_command() {
    let out = llmload(&["--help"]);
    out.expect_code(0);
    let commands = out.stdout.split("Commands:").nth(1).unwrap_or_default();
    assert!(commands.lines().any(|l| l.trim_start().starts_with("sweep ")), "{}", out.context());
}

/// Each command's help speaks of what that command does: an HTML report only where it writes
/// one, `--api`'s aliases and Anthropic's default `max_tokens` where `--api` is taken, and what
/// `--rate auto`'s saturated level is.
#[test]
fn each_commands_help_matches_the_command() {
    let help = |cmd: &str| {
        let out = llmload(&[cmd, "--help"]);
        out.expect_code(0);
        out.stdout.replace('\n', " ").split_whitespace().collect::<Vec<_>>().join(" ")
    };
    for cmd in ["compare", "mock", "probe"] {
        assert!(!help(cmd).contains("HTML"), "{cmd} writes no HTML report: {}", help(cmd));
    }
    for cmd in ["run", "report", "demo", "sweep"] {
        assert!(help(cmd).contains("HTML"), "{cmd} writes an HTML report");
    }
    for cmd in ["run", "probe"] {
        let text = help(cmd);
        assert!(
            text.contains(
                "vllm, sglang, ollama, llama.cpp, llamacpp, lmdeploy, deepseek and qwen mean openai-chat"
            ),
            "{text}"
        );
        assert!(
            text.contains("anthropic, which requires one, gets 1024 unless this or the prompt sets it"),
            "{text}"
        );
    }
    let sweep = help("sweep");
    assert!(
        sweep.contains("a saturated one (a closed loop of --max-concurrency workers, 256 without it"),
        "{sweep}"
    );
}

#[test]
fn bad_files_name_the_file_and_the_fix() {
    let dir = tempdir("files");
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "\n\n").unwrap();
    let utf16 = dir.join("utf16.txt");
    std::fs::write(&utf16, b"\xFF\xFEh\x00i\x00").unwrap();
    let missing = dir.join("missing.txt");
    let (e, u, m) = (empty.to_str().unwrap(), utf16.to_str().unwrap(), missing.to_str().unwrap());
    assert_usage_error(&["--param-file", e], "has no non-empty lines: put one prompt a line");
    assert_usage_error(&["--api-key-file", e], "has no non-empty lines: put one API key a line");
    assert_usage_error(&["--param-file", u], "is UTF-16 text: save it as UTF-8");
    assert_usage_error(&["--api-key-file", m], "file not found: check the path");
    let binary = dir.join("binary.bin");
    std::fs::write(&binary, [0x7F, b'E', b'L', b'F', 0, 1, 2]).unwrap();
    assert_usage_error(&["--param-file", binary.to_str().unwrap()], "contains NUL bytes (a binary file?)");
    // A sparse 1 GiB file costs no disk; llmload refuses it by its size without reading it.
    let huge = dir.join("huge.txt");
    std::fs::File::create(&huge).unwrap().set_len(1 << 30).unwrap();
    assert_usage_error(&["--api-key-file", huge.to_str().unwrap()], "is larger than 256 MiB");
    let long_line = dir.join("long.txt");
    std::fs::write(&long_line, vec![b'a'; (1 << 20) + 1]).unwrap();
    assert_usage_error(&["--param-file", long_line.to_str().unwrap()], "line 1 is longer than 1 MiB");
    assert_usage_error(&["--ca-cert", e], "holds no PEM certificate");
    let unwritable = dir.join("no-such-dir").join("out.json");
    assert_usage_error(&["--json", unwritable.to_str().unwrap()], "cannot create it");
    assert_usage_error(&["--records", dir.to_str().unwrap()], "--records");
}

#[test]
fn bad_api_and_prompt_flags_name_themselves() {
    assert_usage_error(&["--inputs", "[1]"], "--inputs \"[1]\" is invalid: give a JSON object such as");
    assert_usage_error(&["--api", "openai-chat", "--inputs", "{}"], "--inputs only applies to the Dify APIs");
    assert_usage_error(&["--turns", "0"], "--turns \"0\" is invalid: must be at least 1");
    assert_usage_error(
        &["--api", "openai-completions", "--turns", "3"],
        "--turns only applies to the chat APIs",
    );
    assert_usage_error(&["--api", "custom"], "--api custom needs --body-template FILE");
    assert_usage_error(&["--text-path", "/a"], "--text-path only applies to --api custom");
    assert_usage_error(&["--path", "v1/x"], "--path \"v1/x\" is invalid: give a URL path such as");
    assert_usage_error(
        &["--prompt-tokens", "0"],
        "--prompt-tokens \"0\" is invalid: give a token count N (512), a range A..B (100..900)",
    );
    assert_usage_error(
        &["--prompt-tokens", "64", "--prompt-lang", "fr"],
        "--prompt-lang \"fr\" is invalid: use en, zh or mixed",
    );
    assert_usage_error(
        &["--prompt-lang", "en"],
        "--prompt-lang only applies to synthetic prompts: add --prompt-tokens N",
    );
    assert_usage_error(
        &["--prompt", "hi", "--prompt-tokens", "8"],
        "give one of --param-file, --prompt or --prompt-tokens",
    );
    assert_usage_error(
        &["--api", "openai-chat", "--output-tokens", "8", "--max-tokens", "8"],
        "--max-tokens and --output-tokens both set",
    );
    assert_usage_error(
        &["--api", "openai-chat", "--output-tokens", "8,x"],
        "--output-tokens \"8,x\" is invalid",
    );
    assert_usage_error(&["--output-tokens", "8"], "--output-tokens does not apply to the Dify APIs");
}

#[test]
fn bad_templates_and_jsonl_name_the_file_the_line_and_the_fix() {
    let dir = tempdir("templates");
    let quoted = dir.join("quoted.json");
    std::fs::write(&quoted, r#"{"input": "{{prompt}}"}"#).unwrap();
    let no_prompt = dir.join("no-prompt.json");
    std::fs::write(&no_prompt, r#"{"input": "fixed"}"#).unwrap();
    let jsonl = dir.join("p.jsonl");
    std::fs::write(&jsonl, "{\"prompt\": \"ok\"}\n{\"prompt\": \"x\", \"max_tokens\": -1}\n").unwrap();
    let custom = |t: &std::path::Path| {
        vec![
            "--api".to_string(),
            "custom".into(),
            "--body-template".into(),
            t.display().to_string(),
            "--text-path".into(),
            "/t".into(),
        ]
    };
    let args = custom(&quoted);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_usage_error(
        &args,
        &format!("--body-template {}: is not valid JSON once filled", quoted.display()),
    );
    let args = custom(&no_prompt);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_usage_error(&args, "has no {{prompt}} placeholder");
    let args = custom(&dir.join("missing.json"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_usage_error(&args, "missing.json: file not found");
    assert_usage_error(
        &["--param-file", jsonl.to_str().unwrap()],
        "p.jsonl: JSONL line 2: \"max_tokens\" is -1: give a whole number of at least 1",
    );
}

#[test]
fn a_broken_line_in_a_jsonl_file_stops_the_run_with_its_line_number() {
    let dir = tempdir("broken-jsonl");
    let jsonl = dir.join("p.jsonl");
    // A blank line before the broken one: the number is the file's line, not the prompt's.
    std::fs::write(&jsonl, "{\"prompt\": \"ok\"}\n\n{\"prompt\": \"broken\n").unwrap();
    assert_usage_error(
        &["--param-file", jsonl.to_str().unwrap()],
        &format!(
            "error: --param-file {}: JSONL line 3 is not valid JSON (EOF while parsing a string at line 1 column 18): the file is read as JSONL",
            jsonl.display()
        ),
    );
    // A plain-text file whose lines only look like JSON keeps working.
    let plain = dir.join("plain.txt");
    std::fs::write(&plain, "{name} says hi\n{\"prompt\": \"broken\n").unwrap();
    let mock = fast_mock(2, &[]);
    let u = url(&mock);
    let out = llmload(&["run", "--url", &u, "-n", "2", "--quiet", "--param-file", plain.to_str().unwrap()]);
    out.expect_code(0);
}

#[test]
fn an_unknown_tokenizer_says_what_to_give() {
    assert_usage_error(
        &["--tokenizer", "gpt-9"],
        "--tokenizer \"gpt-9\" is invalid: no such tokenizer or file: give estimate, cl100k, o200k",
    );
}

#[test]
fn mock_fault_and_delay_typos_name_the_valid_values() {
    let out = llmload(&["mock", "--port", "0", "--fault", "boom"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("unknown fault kind 'boom'") && out.stderr.contains("pings-only"),
        "{}",
        out.context()
    );
    let out = llmload(&["mock", "--port", "0", "--fault", "stall", "--fault-delay", "soon"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--fault-delay \"soon\" is invalid"), "{}", out.context());
}

#[test]
fn devices_and_folders_are_refused_at_once_by_every_file_flag() {
    let device = "is a device, not a file: name a regular file";
    for flag in ["--param-file", "--api-key-file", "--ca-cert", "--tokenizer"] {
        assert_usage_error(&[flag, "/dev/zero"], &format!("{flag} /dev/zero: {device}"));
    }
    let custom = ["--api", "custom", "--text-path", "/t", "--body-template"];
    assert_usage_error(
        &[&custom[..], &["/dev/zero"]].concat(),
        &format!("--body-template /dev/zero: {device}"),
    );
    let dir = tempdir("folders");
    let d = dir.to_str().unwrap();
    assert_usage_error(&[&custom[..], &[d]].concat(), "is a directory: name a file");
    assert_usage_error(&["--tokenizer", d], "is a directory: name a file");
    for (args, named) in [
        (&["mock", "--port", "0", "--replay", "/dev/zero"][..], "--replay /dev/zero"),
        (&["report", "/dev/zero"], "report /dev/zero"),
        (&["report", d], "report "),
    ] {
        let out = llmload(args);
        out.expect_code(2);
        assert!(out.stderr.contains(named), "{}", out.context());
        assert!(
            out.stderr.contains(device) || out.stderr.contains("is a directory: name a file"),
            "{}",
            out.context()
        );
    }
}
