//! Tidy checks that read the source tree, so the layering survives the next year: each top-level
//! module imports only from its own tier of `TIERS` or the tiers below (and no import cycles),
//! the crate doc and docs/architecture.md list the same modules in the same order, `client/`
//! never names `config`, `protocol/`, `sse` and `prom/` do no I/O, the embedded mock imports nothing but
//! `stats` and `util::rng`, every file opens with a `//!` paragraph, and one module-file style
//! (`mod.rs`) is used. Test code (a file's trailing `#[cfg(test)] mod tests`) is not checked for
//! layers. And no code, test, bench or CI script names a path outside the repository, so a bare
//! clone tests itself, and the README stays a first screen (the reference lives in docs/).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The one list of the layers: five tiers, lowest first, each module with what it owns. A module
/// may import from the tiers below its own and from its own tier, never in a cycle; the named
/// rules below add what tiers cannot say. The crate doc and docs/architecture.md list the same
/// modules in the same order, a line each (`the_docs_list_the_layers`).
const TIERS: &[(&str, &[(&str, &str)])] = &[
    (
        "leaves: the pure pieces and the batteries",
        &[
            ("error", "fatal errors, each naming the input and the fix"),
            ("cli", "the argh structs: flag names, defaults in help, examples; no logic"),
            (
                "util",
                "batteries: the seeded generator, JSON decimals, the bounded file opener, the process and machine facts std lacks",
            ),
            ("sse", "the pure incremental WHATWG event-stream parser"),
            ("stop", "the stop signal and the panic guard that sets it"),
            ("lang", "the language people read, and the English-Chinese pairs"),
            ("shard", "the exact split of a run over N processes"),
            ("gate", "threshold and compare expressions, checked against a JSON summary"),
            ("measure", "raw instants, the metric definitions, outcomes and error kinds"),
            ("tokens", "the token estimate and --tokenizer"),
            ("slo", "--slo objectives, each request judged, the attainment's interval"),
            ("search", "the capacity search of sweep --find"),
            ("stats", "mergeable histograms, the run second by second, by key and prompt"),
            ("prom", "a server's /metrics read: the parser, bucket percentiles, each stack's known families"),
        ],
    ),
    (
        "the request",
        &[
            ("workload", "prompts, keys and pacing"),
            ("protocol", "API names and paths, one pure adapter per API family"),
            ("client", "one request, streamed and measured, on its own settings"),
        ],
    ),
    (
        "the result",
        &[
            ("summary", "the plain-number result and the verdict on the client"),
            ("export", "what programs read: one file and one derived type per format"),
            ("output", "what people read: the table, the summary, warnings"),
            ("html", "the self-contained HTML reports of a run and of a sweep, and their SVG writer"),
        ],
    ),
    (
        "the run",
        &[
            ("config", "the one front end: every flag checked, a plan per command"),
            ("engine", "threads, the start gate, the load models, the reporter thread, the end of a run"),
        ],
    ),
    (
        "the commands",
        &[(
            "commands",
            "run, sweep, demo, mock, report (records rebuilt), compare, probe: plans run, exit codes",
        )],
    ),
];

/// Apart from the tiers, on purpose: the embedded mock, the instrument.
const APART: (&str, &str) = ("mock", "the embedded mock LLM server, the instrument");

/// The instrument stays apart: an instrument that shared the client's reading of a protocol
/// would share its bugs.
const MOCK_MAY_IMPORT: &[&str] = &["stats", "util::rng"];

/// Words that mean I/O or timing, refused in the pure layers.
const IO_WORDS: &[&str] = &[
    "std::fs",
    "std::net",
    "std::io",
    "std::thread",
    "ureq",
    "File",
    "TcpStream",
    "Instant",
    "println!",
    "eprintln!",
];

/// One source file: its path under `src/` and its text without the trailing test module.
struct Source {
    path: String,
    code: String,
}

fn read_tree(root: &Path) -> Vec<Source> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source is UTF-8");
                let rel = path.strip_prefix(root).expect("under src/").to_string_lossy().replace('\\', "/");
                out.push(Source { path: rel, code: text });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The top-level module a file belongs to: `engine` for `engine.rs`, `client` for `client/x.rs`.
fn module_of(path: &str) -> &str {
    let first = path.split('/').next().unwrap_or(path);
    first.strip_suffix(".rs").unwrap_or(first)
}

/// The code before the file's unit-test module.
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests").map_or(text, |i| &text[..i])
}

/// The top-level modules a file names through `crate::` paths, `use crate::{a, b::c}` included.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    for (i, _) in code.match_indices("crate::") {
        if code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue; // `mycrate::`
        }
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if c.is_whitespace() => {}
                    _ if start && depth == 0 => {
                        found.insert(ident(&group[j..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|m| !m.is_empty() && m != "self");
    found
}

/// What `code` names of the batteries' folder one level down (`util::rng`), or `module` itself
/// for any other module.
fn within(code: &str, module: &str) -> Vec<String> {
    if module != "util" {
        return vec![module.to_string()];
    }
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let found: BTreeSet<String> = code
        .match_indices("crate::util::")
        .map(|(i, m)| format!("util::{}", ident(&code[i + m.len()..])))
        .collect();
    found.into_iter().collect()
}

/// Whether `word` occurs in `code` as a whole word (or path, for words with `::`).
fn has_word(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + word.len()..].chars().next();
        let part = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !part(before) && (word.ends_with('!') || !part(after))
    })
}

/// Whether `code` names the run's `Config` (not another crate's, such as `ureq::config::Config`).
fn names_our_config(code: &str) -> bool {
    code.match_indices("Config").any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + "Config".len()..].chars().next();
        let part = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
        !part(before) && !part(after.filter(|c| *c != ':'))
    })
}

/// Every rule broken by `files`, as sentences that name the file and the fix.
fn problems(files: &[Source], dirs: &BTreeSet<String>) -> Vec<String> {
    let rank: BTreeMap<&str, usize> =
        TIERS.iter().enumerate().flat_map(|(r, (_, tier))| tier.iter().map(move |(m, _)| (*m, r))).collect();
    let mut out = Vec::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let module = module_of(&f.path);
        if !f.code.starts_with("//!") {
            out.push(format!("{}: open the file with a `//!` paragraph saying what it owns", f.path));
        }
        if matches!(module, "lib" | "main" | "tidy") {
            continue;
        }
        let code = without_tests(&f.code);
        let used: BTreeSet<String> = imports(code).into_iter().filter(|m| m != module).collect();
        graph.entry(module.to_string()).or_default().extend(used.iter().cloned());
        if module == "mock" {
            for m in
                used.iter().flat_map(|m| within(code, m)).filter(|m| !MOCK_MAY_IMPORT.contains(&m.as_str()))
            {
                out.push(format!(
                    "{}: the mock imports crate::{m}; it may import only stats and util::rng (it is the instrument)",
                    f.path
                ));
            }
            continue;
        }
        let Some(&mine) = rank.get(module) else {
            out.push(format!("{}: module `{module}` is in no tier: add it to tidy::TIERS", f.path));
            continue;
        };
        for m in &used {
            match rank.get(m.as_str()) {
                Some(&theirs) if theirs <= mine => {}
                Some(_) => {
                    out.push(format!("{}: `{module}` imports crate::{m}, which is in a higher tier", f.path))
                }
                None if m == "mock" => {
                    if !matches!(module, "config" | "commands") {
                        out.push(format!("{}: only config (its plan) and commands may use the mock", f.path));
                    }
                }
                None => out.push(format!("{}: `{module}` imports crate::{m}, which is in no tier", f.path)),
            }
        }
        if module == "client" && (has_word(code, "crate::config") || names_our_config(code)) {
            out.push(format!("{}: the client names config; take what it needs from ClientSettings", f.path));
        }
        if matches!(module, "protocol" | "sse" | "prom") {
            for w in IO_WORDS.iter().filter(|w| has_word(code, w)) {
                out.push(format!("{}: `{module}` must stay pure but uses {w}", f.path));
            }
        }
    }
    out.extend(cycles(&graph));
    for f in files {
        if let Some(stem) = f.path.strip_suffix(".rs")
            && dirs.contains(stem)
        {
            out.push(format!(
                "{}: a module with a folder lives in {stem}/mod.rs (one module-file style)",
                f.path
            ));
        }
    }
    out
}

/// Import cycles between top-level modules, each named once by its path.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        out: &mut Vec<String>,
    ) {
        if let Some(i) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(node.to_string());
            out.push(format!("import cycle: {}", cycle.join(" → ")));
            return;
        }
        if !done.insert(node.to_string()) {
            return;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, stack, done, out);
        }
        stack.pop();
    }
    let (mut out, mut done) = (Vec::new(), BTreeSet::new());
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut out);
    }
    out
}

/// Where a text climbs out of its folder with `../`: every such line, numbered.
fn climbs_out(text: &str) -> Vec<usize> {
    let lines = text.lines().enumerate();
    lines.filter(|(_, l)| l.contains("\"../") || l.contains("/../")).map(|(n, _)| n + 1).collect()
}

#[test]
fn nothing_refers_outside_the_repository() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for dir in ["src", "tests", "benches", ".ci"] {
        let mut dirs = vec![repo.join(dir)];
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_none_or(|e| e == "rs")
                    && path.file_name() != Some("tidy.rs".as_ref())
                {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    found.extend(climbs_out(&text).into_iter().map(|n| format!("{}:{n}", path.display())));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "paths outside the repository (copy the file in instead):\n  {}",
        found.join("\n  ")
    );
}

/// The README is the first screen, not the reference: past this the reference belongs in docs/.
const README_MAX_CHARS: usize = 15_000;

#[test]
fn the_readme_stays_short() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(&path).expect("README.md is readable");
    let chars = text.chars().count();
    assert!(
        chars <= README_MAX_CHARS,
        "README.md has {chars} characters, over {README_MAX_CHARS}: move reference text to docs/ and link it"
    );
}

#[test]
fn the_source_tree_keeps_its_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = read_tree(&root);
    assert!(files.len() > 40, "read {} files from {}", files.len(), root.display());
    let dirs: BTreeSet<String> =
        files.iter().filter_map(|f| f.path.rsplit_once('/').map(|(d, _)| d.to_string())).collect();
    let found = problems(&files, &dirs);
    assert!(found.is_empty(), "tidy:\n  {}", found.join("\n  "));
}

/// The modules a document lists, in order: its lines that open with `- [`name`]` or
/// `- **`name`**` or `- `name`` (the crate doc with its `//! ` taken off), between the line that
/// opens with `start` and the next line that opens with `end`.
fn listed(doc: &str, start: &str, end: &str) -> Vec<String> {
    let lines = doc.lines().map(|l| l.strip_prefix("//!").map_or(l, str::trim_start));
    let section = lines.skip_while(|l| !l.starts_with(start)).skip(1).take_while(|l| !l.starts_with(end));
    section
        .filter_map(|l| {
            l.strip_prefix("- ")?.trim_start_matches(['[', '*']).strip_prefix('`')?.split('`').next()
        })
        .map(String::from)
        .collect()
}

#[test]
fn the_docs_list_the_layers() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut want: Vec<String> =
        TIERS.iter().flat_map(|(_, t)| t.iter().map(|(m, _)| m.to_string())).collect();
    want.push(APART.0.to_string());
    for (file, start, end) in [("src/lib.rs", "# Layers", "# "), ("docs/architecture.md", "## Layers", "## ")]
    {
        let text = std::fs::read_to_string(repo.join(file)).expect("readable");
        assert_eq!(
            listed(&text, start, end),
            want,
            "{file} lists the layers otherwise than tidy::TIERS: a line `- `module`` each, in its order"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(path: &str, code: &str) -> Source {
        Source { path: path.into(), code: format!("//! Test file.\n{code}") }
    }

    #[test]
    fn a_path_out_of_the_repository_is_found() {
        let code = "let ok = \"tests/fixtures/a.sse\";\nlet dir = concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../elsewhere/x\");\nread(\"../y\");";
        assert_eq!(climbs_out(code), [2, 3]);
    }

    #[test]
    fn a_docs_list_of_modules_is_read_in_order() {
        let doc = "//! # Layers\n//!\n//! - [`error`] errors, and [`cli`]\n//! text `x`\n//! - **`sse`** the parser\n//! - `mock` apart\n//! # Next\n//! - [`late`]";
        assert_eq!(listed(doc, "# Layers", "# "), ["error", "sse", "mock"]);
    }

    #[test]
    fn imports_are_read_from_paths_and_groups() {
        let code =
            "use crate::a::B;\nuse crate::{b, c::{D, E}, self};\nfn f() { crate::d::g(); mycrate::x(); }";
        assert_eq!(imports(code), ["a", "b", "c", "d"].map(String::from).into());
    }

    #[test]
    fn each_rule_catches_its_breach() {
        let files = [
            src("stats/mod.rs", "use crate::engine::X;"),
            src("engine.rs", "use crate::stats::Y;"),
            src("client/mod.rs", "fn f(c: &Config) {}"),
            src("client/ok.rs", "fn f(c: ureq::config::Config) {}"),
            src("protocol/x.rs", "use std::fs::File;"),
            src("sse.rs", "fn f() { eprintln!(\"x\"); }"),
            src("mock/a.rs", "use crate::measure::M;"),
            src("workload.rs", "//"),
            src("mock/b.rs", "use crate::util::rng::R; use crate::util::sys::S;"),
            src("output/a.rs", "use crate::export::E;"),
            src("export/a.rs", "use crate::output::O;"),
            Source { path: "util/rng.rs".into(), code: "fn f() {}".into() },
        ];
        let dirs = ["stats", "client", "protocol", "mock", "workload"].map(String::from).into();
        let found = problems(&files, &dirs).join("\n");
        for expected in [
            "stats/mod.rs: `stats` imports crate::engine, which is in a higher tier",
            "import cycle: engine → stats → engine",
            "client/mod.rs: the client names config",
            "!client/ok.rs",
            "protocol/x.rs: `protocol` must stay pure but uses std::fs",
            "sse.rs: `sse` must stay pure but uses eprintln!",
            "mock/a.rs: the mock imports crate::measure",
            "mock/b.rs: the mock imports crate::util::sys",
            "!mock/b.rs: the mock imports crate::util::rng",
            "!output/a.rs: `output` imports",
            "import cycle: export → output → export",
            "workload.rs: a module with a folder lives in workload/mod.rs",
            "util/rng.rs: open the file with a `//!` paragraph",
        ] {
            match expected.strip_prefix('!') {
                Some(clean) => assert!(!found.contains(clean), "{clean} is fine, yet:\n{found}"),
                None => assert!(found.contains(expected), "missing {expected:?} in:\n{found}"),
            }
        }
        // What the rules allow passes.
        let fine = [src("stats/mod.rs", "use crate::measure::M;"), src("engine.rs", "use crate::stats::Y;")];
        assert!(problems(&fine, &BTreeSet::new()).is_empty());
    }
}
