//! The summary's breakdown tables, printed after the main ones: requests, success and TTFT by
//! API key (masked), and the prompts with the slowest TTFT p99. Each only when the run used more
//! than one key or prompt. Pure: a `Summary` in, text out.

use super::format::{count, display_width, opt_ms, pad_left, pad_right, percent};
use crate::summary::Summary;
use std::fmt::Write;

/// The tables, or `""` when the run had one key (or none) and one prompt.
pub fn tables(s: &Summary) -> String {
    let mut o = String::new();
    if s.by_key.len() > 1 {
        let rows: Vec<[String; 6]> = s
            .by_key
            .iter()
            .map(|k| {
                [
                    k.key.clone().unwrap_or_else(|| format!("key #{}", k.key_index)),
                    count(k.requests),
                    count(k.ok),
                    percent(k.success_rate),
                    opt_ms(k.ttft_p50_ms),
                    opt_ms(k.ttft_p99_ms),
                ]
            })
            .collect();
        let _ = writeln!(o, "\n  by API key");
        o += &table(["key", "requests", "ok", "success", "TTFT p50", "TTFT p99"], 1, &rows);
    }
    if s.by_prompt.len() > 1 {
        let rows: Vec<[String; 6]> = s
            .by_prompt
            .iter()
            .map(|p| {
                [
                    format!("#{}", p.prompt_index),
                    p.prompt.clone().unwrap_or_else(|| "-".into()),
                    count(p.requests),
                    count(p.ok),
                    opt_ms(p.ttft_p50_ms),
                    opt_ms(p.ttft_p99_ms),
                ]
            })
            .collect();
        let _ =
            writeln!(o, "\n  by prompt, slowest TTFT p99 first (at most {})", crate::summary::TOP_PROMPTS);
        o += &table(["prompt", "text", "requests", "ok", "TTFT p50", "TTFT p99"], 2, &rows);
    }
    o
}

/// Rows under a header: the first `left` columns left-aligned, the rest right-aligned, each as
/// wide as its widest cell (in terminal cells, so Chinese text stays aligned).
fn table(header: [&str; 6], left: usize, rows: &[[String; 6]]) -> String {
    let mut widths = header.map(display_width);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(display_width(cell));
        }
    }
    let line = |cells: [&str; 6]| {
        let mut l = String::from("  ");
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let text = if i < left { pad_right(cell, w) } else { pad_left(cell, w) };
            l += &text;
            l += if i + 1 < cells.len() { "  " } else { "" };
        }
        l.trim_end().to_string() + "\n"
    };
    let mut o = line(header);
    for row in rows {
        o += &line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]].map(String::as_str));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{KeyRow, PromptRow, RunOutput};

    fn summary() -> Summary {
        let run = RunOutput::of(Default::default(), 1.0);
        Summary::new(serde_json::Value::Null, &run, None)
    }

    fn key(i: usize, label: Option<&str>, ok: u64, p99: Option<f64>) -> KeyRow {
        KeyRow {
            key_index: i,
            key: label.map(String::from),
            requests: 4,
            ok,
            success_rate: Some(ok as f64 / 4.0),
            ttft_p50_ms: p99.map(|v| v / 2.0),
            ttft_p99_ms: p99,
        }
    }

    fn prompt(i: usize, text: Option<&str>, p99: Option<f64>) -> PromptRow {
        PromptRow {
            prompt_index: i,
            prompt: text.map(String::from),
            requests: 2,
            ok: 2,
            ttft_p50_ms: p99,
            ttft_p99_ms: p99,
        }
    }

    #[test]
    fn tables_show_only_when_there_is_more_than_one_key_or_prompt() {
        let mut s = summary();
        s.by_key = vec![key(0, Some("sk-a…9f3c"), 4, Some(120.0))];
        s.by_prompt = vec![prompt(0, Some("hi"), Some(50.0))];
        assert_eq!(tables(&s), "");
        s.by_key.push(key(1, None, 3, None));
        s.by_prompt.push(prompt(7, Some("你好世界"), Some(12.5)));
        assert_eq!(
            tables(&s),
            "\n  by API key\n\
             \x20 key        requests  ok  success  TTFT p50  TTFT p99\n\
             \x20 sk-a…9f3c         4   4   100.0%    60.0ms   120.0ms\n\
             \x20 key #1            4   3    75.0%         -         -\n\
             \n  by prompt, slowest TTFT p99 first (at most 20)\n\
             \x20 prompt  text      requests  ok  TTFT p50  TTFT p99\n\
             \x20 #0      hi               2   2    50.0ms    50.0ms\n\
             \x20 #7      你好世界         2   2    12.5ms    12.5ms\n"
        );
    }
}
