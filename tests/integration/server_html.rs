//! The server's side in the HTML pages (`--server-metrics` with `--html`), against the mock's
//! `/metrics`: a run's report has a Server section whose cards, TTFT split, percentiles and
//! charts hold the summary's server block (the token accounting exactly), its charts on the
//! time axis of the per-second charts, rendered by a real browser without a console message; a
//! sweep's table and page have each level's running, waiting and KV maxima as its JSON has them.

use crate::series_html::render;
use crate::util::*;
use serde_json::Value;

/// `v`, a count the server reported, as the pages write it (rounded, grouped).
fn whole(v: &Value) -> String {
    let n = v.as_f64().unwrap_or_else(|| panic!("a number: {v}")).round() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share as the pages write it: `87.5%`.
fn percent(v: &Value) -> String {
    format!("{:.1}%", v.as_f64().unwrap_or_else(|| panic!("a share: {v}")) * 100.0)
}

#[test]
fn the_report_shows_the_server_beside_the_client_on_one_time_axis() {
    let mock = paced_mock(20, 2, 8);
    let dir = Dir::new("server-html");
    let html = dir.path("report.html");
    let (out, s) = Llmload::run(&mock)
        .args("-c 2 -n 100 --quiet --lang en")
        .opt("--server-metrics", format!("{}/metrics", url(&mock)))
        .opt("--scrape-interval", "100ms")
        .opt("--html", &html)
        .json(&dir);
    out.expect_code(0);
    let page = std::fs::read_to_string(&html).unwrap_or_else(|e| panic!("{e}{}", out.context()));
    let server = &s["server"];
    assert_eq!(server["tokens"]["generated"], 800.0, "100 × 8 tokens{}", out.context());
    let (series_at, at, end) = (
        page.find("<section id=\"series\">").expect("a series section"),
        page.find("<section id=\"server\">").unwrap_or_else(|| panic!("no server section{}", out.context())),
        page.find("<section id=\"distributions\">").expect("a distributions section"),
    );
    assert!(series_at < at && at < end, "the server section follows the series");
    assert!(page.contains("<a href=\"#server\">Server</a>"));
    let section = &page[at..end];
    // The token accounting, exactly as the JSON has it.
    assert!(
        section.contains("<div class=\"card pass\"><div class=\"label\">tokens: server vs llmload</div><div class=\"value\">agree</div><div class=\"detail\">the server generated 800 · llmload received 800</div></div>"),
        "{section}"
    );
    assert!(section.contains("<div class=\"value\">vllm</div>"), "{section}");
    for (label, key) in [("running max", "running_max"), ("waiting max", "waiting_max")] {
        let card =
            format!("<div class=\"label\">{label}</div><div class=\"value\">{}</div>", whole(&server[key]));
        assert!(section.contains(&card), "{card}: {section}");
    }
    let kv = format!(
        "<div class=\"label\">KV cache max</div><div class=\"value\">{}</div>",
        percent(&server["kv_use_max"])
    );
    assert!(section.contains(&kv), "{kv}: {section}");
    assert!(
        section.contains("<div class=\"label\">released</div><div class=\"value\">yes</div>"),
        "{section}"
    );
    // The TTFT split (the mock keeps a queue histogram) and the server's percentiles.
    assert!(section.contains("<span class=\"swatch s3\"></span>queue</th>"), "{section}");
    assert!(section.contains(&format!("<tr><td>TTFT</td><td>{}</td>", whole(&server["ttft_ms"]["count"]))));
    assert!(section.contains(&format!("<tr><td>ITL</td><td>{}</td>", whole(&server["itl_ms"]["count"]))));
    // Two pairs of charts (queue above TTFT, KV use above tok/s) and the split's bar.
    assert_eq!(section.matches("<figure class=\"pair\">").count(), 2, "{section}");
    assert_eq!(section.matches("<svg class=\"chart\"").count(), 4, "{section}");
    assert_eq!(section.matches("<svg class=\"stacked\"").count(), 1, "{section}");
    for title in ["Requests on the server", "Client TTFT p50", "KV cache use", "Output tokens per second"] {
        assert!(section.contains(&format!("<title>{title}</title>")), "{title}");
    }
    // The server's charts end where the per-second charts do: the same time axis.
    let x_axis = |html: &str| -> String {
        let svg = html.split("<svg class=\"chart\"").nth(1).unwrap();
        let svg = svg.split("</svg>").next().unwrap();
        svg.split("<text class=\"tick\" x=\"")
            .skip(1)
            .filter(|t| {
                let label = t.split_once('>').map_or("", |(_, r)| r.split('<').next().unwrap());
                label.strip_suffix('s').is_some_and(|n| n.parse::<f64>().is_ok())
            })
            .map(|t| t.split('"').next().unwrap().to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(x_axis(section), x_axis(&page[series_at..at]), "one time axis");
    // Six per-second charts, five distributions of two, and the server's five.
    assert_eq!(page.matches("<svg").count(), 6 + 10 + 5, "{}", out.context());

    let Some(r) = render("the_report_shows_the_server_beside_the_client_on_one_time_axis", &html, &dir)
    else {
        return;
    };
    let context = format!("\n--- chromium stderr ---\n{}", r.log);
    assert!(r.dom.contains("<section id=\"server\">"), "{context}");
    assert!(r.dom.contains("the server generated 800 · llmload received 800"), "{context}");
    assert_eq!(r.dom.matches("<figure class=\"pair\">").count(), 2, "{context}");
}

#[test]
fn a_sweep_shows_the_servers_maxima_by_level() {
    let mock = paced_mock(20, 2, 8);
    let dir = Dir::new("server-sweep");
    let (html, json) = (dir.path("sweep.html"), dir.path("sweep.json"));
    let out = Llmload::new("sweep")
        .url(&mock)
        .args("--api openai-chat -c 1,2 -n 16 -q --lang en")
        .opt("--server-metrics", format!("{}/metrics", url(&mock)))
        .opt("--scrape-interval", "100ms")
        .opt("--html", &html)
        .opt("--json", &json)
        .output();
    out.expect_code(0);
    let sweep = read_json(&json, &out);
    let levels = sweep["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 2, "{}", out.context());
    let header = out.stdout.lines().find(|l| l.starts_with("level")).expect("a header");
    assert!(
        header.ends_with("  running max  waiting max       KV max      verdict"),
        "{header}{}",
        out.context()
    );
    let page = std::fs::read_to_string(&html).unwrap_or_else(|e| panic!("{e}{}", out.context()));
    assert!(
        page.contains("<th>running max</th><th>waiting max</th><th>KV max</th><th>verdict</th>"),
        "{page}"
    );
    for level in levels {
        let (label, server) = (level["label"].as_str().unwrap(), &level["summary"]["server"]);
        assert_eq!(server["tokens"]["generated"], 128.0, "16 × 8 tokens at {label}: {server:#}");
        let cells =
            [whole(&server["running_max"]), whole(&server["waiting_max"]), percent(&server["kv_use_max"])];
        // The terminal's row: level … running waiting KV verdict.
        let row = out.stdout.lines().find(|l| l.starts_with(&format!("{label} "))).expect("a row");
        let words: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(words.len(), 15, "{row}");
        assert_eq!(words[11..14], cells.each_ref().map(String::as_str), "{row}{}", out.context());
        // The page's row: … 95% interval, running, waiting, KV, verdict.
        let tr = &page[page.find(&format!("<tr><td>{label}</td>")).expect("a row")..];
        let tr = &tr[..tr.find("</tr>").unwrap()];
        let tds: Vec<&str> = tr.split("<td>").skip(1).map(|c| c.split('<').next().unwrap()).collect();
        assert_eq!(tds[13..16], cells.each_ref().map(String::as_str), "{tr}");
    }
    let section = &page[page.find("<section id=\"server\">").expect("a server section")..];
    let section = &section[..section.find("</section>").unwrap()];
    assert_eq!(section.matches("<svg").count(), 2, "{section}");
    assert!(
        section.contains(
            "<figcaption>Requests on the server by level: the most waiting and running</figcaption>"
        )
    );
    assert!(section.contains("<figcaption>KV cache use by level: its highest</figcaption>"));
}
