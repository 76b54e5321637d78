//! The report's breakdown tables: requests, success and TTFT by API key (the masked labels the
//! summary holds, or the key's index when rebuilt from records) and the prompts with the slowest
//! TTFT p99 (their snippets escaped). Each only when the run used more than one key or prompt,
//! as the text summary does. Pure: the summary's rows in, HTML out; the ranking is `summary`'s.

use super::svg::escape;
use crate::lang::Lang;
use crate::output::format::{count, opt_ms, percent};
use crate::summary::{KeyRow, PromptRow, TOP_PROMPTS};
use std::fmt::Write;

/// Keys the table lists; the rest are counted in a note (a key file may hold thousands, and
/// the page keeps its size bound). The JSON summary's `by_key` has them all.
pub const MAX_KEY_ROWS: usize = 50;

/// A table's head; the column `text` (if any) is left-aligned, as its cells are.
fn head(o: &mut String, cells: &[&str], text: Option<usize>) {
    o.push_str("<table class=\"breakdown\"><thead><tr>");
    for (i, c) in cells.iter().enumerate() {
        let class = if Some(i) == text { " class=\"message\"" } else { "" };
        let _ = write!(o, "<th{class}>{c}</th>");
    }
    o.push_str("</tr></thead><tbody>");
}

/// The table by API key, or `None` when the run had one key or none.
pub fn keys(rows: &[KeyRow], l: Lang) -> Option<String> {
    if rows.len() < 2 {
        return None;
    }
    let mut o = String::new();
    head(
        &mut o,
        &[
            l.pick("key", "密钥"),
            l.pick("requests", "请求"),
            l.pick("ok", "成功"),
            l.pick("success", "成功率"),
            "TTFT p50",
            "TTFT p99",
        ],
        None,
    );
    for k in rows.iter().take(MAX_KEY_ROWS) {
        let label = match &k.key {
            Some(key) => format!("<code>{}</code>", escape(key)),
            None => l.pick(format!("key #{}", k.key_index), format!("密钥 #{}", k.key_index)),
        };
        let _ = write!(
            o,
            "<tr><td>{label}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            count(k.requests),
            count(k.ok),
            percent(k.success_rate),
            opt_ms(k.ttft_p50_ms),
            opt_ms(k.ttft_p99_ms)
        );
    }
    o += "</tbody></table>";
    if rows.len() > MAX_KEY_ROWS {
        let (shown, more) = (MAX_KEY_ROWS, rows.len() - MAX_KEY_ROWS);
        let note = l.pick(
            format!("The first {shown} keys by index; {more} more are in the JSON summary's by_key."),
            format!("按序号列出前 {shown} 个密钥；其余 {more} 个见 JSON 汇总的 by_key。"),
        );
        let _ = write!(o, "<p class=\"note\">{note}</p>");
    }
    Some(o)
}

/// The table of the slowest prompts, or `None` when the run had one prompt.
pub fn prompts(rows: &[PromptRow], l: Lang) -> Option<String> {
    if rows.len() < 2 {
        return None;
    }
    let note = l.pick(
        format!("The slowest TTFT p99 first, at most {TOP_PROMPTS}; # is the prompt's line in its source (from 0)."),
        format!("按 TTFT p99 从慢到快，最多 {TOP_PROMPTS} 条；# 为提示词在来源中的行号（从 0 起）。"),
    );
    let mut o = format!("<p class=\"note\">{note}</p>");
    head(
        &mut o,
        &[
            "#",
            l.pick("prompt", "提示词"),
            l.pick("requests", "请求"),
            l.pick("ok", "成功"),
            "TTFT p50",
            "TTFT p99",
        ],
        Some(1),
    );
    for p in rows {
        let text = p.prompt.as_deref().map_or_else(
            || format!("<span class=\"none\">{}</span>", l.pick("(not in the records)", "（记录中没有）")),
            escape,
        );
        let _ = write!(
            o,
            "<tr><td>{}</td><td class=\"message\">{text}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            p.prompt_index,
            count(p.requests),
            count(p.ok),
            opt_ms(p.ttft_p50_ms),
            opt_ms(p.ttft_p99_ms)
        );
    }
    o += "</tbody></table>";
    Some(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize, label: Option<&str>) -> KeyRow {
        KeyRow {
            key_index: i,
            key: label.map(String::from),
            requests: 4,
            ok: 3,
            success_rate: Some(0.75),
            ttft_p50_ms: Some(12.0),
            ttft_p99_ms: None,
        }
    }

    fn prompt(i: usize, text: Option<&str>) -> PromptRow {
        PromptRow {
            prompt_index: i,
            prompt: text.map(String::from),
            requests: 2,
            ok: 2,
            ttft_p50_ms: Some(1500.0),
            ttft_p99_ms: Some(2.5),
        }
    }

    #[test]
    fn one_key_or_prompt_has_no_table() {
        assert_eq!(keys(&[], Lang::En), None);
        assert_eq!(keys(&[key(0, Some("sk-a…9f3c"))], Lang::En), None);
        assert_eq!(prompts(&[prompt(0, Some("hi"))], Lang::En), None);
    }

    #[test]
    fn keys_are_listed_masked_or_by_index() {
        let html = keys(&[key(0, Some("sk-a…9f3c")), key(1, None)], Lang::En).unwrap();
        assert!(
            html.contains("<tr><td><code>sk-a…9f3c</code></td><td>4</td><td>3</td><td>75.0%</td><td>12.0ms</td><td>-</td></tr>"),
            "{html}"
        );
        assert!(html.contains("<td>key #1</td>") && !html.contains("note"), "{html}");
        let zh = keys(&[key(0, None), key(1, None)], Lang::Zh).unwrap();
        assert!(zh.contains("<th>密钥</th>") && zh.contains("<td>密钥 #1</td>"), "{zh}");
        // A long key file is cut, and the note says where the rest are.
        let many: Vec<KeyRow> = (0..MAX_KEY_ROWS + 7).map(|i| key(i, None)).collect();
        let html = keys(&many, Lang::En).unwrap();
        assert_eq!(html.matches("<tr><td>").count(), MAX_KEY_ROWS);
        assert!(html.contains("50 keys by index; 7 more are in the JSON summary's by_key."), "{html}");
    }

    #[test]
    fn prompt_snippets_are_escaped() {
        let rows = [prompt(2, Some("<script>alert(1)</script> & 你好")), prompt(0, None)];
        let html = prompts(&rows, Lang::En).unwrap();
        assert!(
            html.contains("<td class=\"message\">&lt;script&gt;alert(1)&lt;/script&gt; &amp; 你好</td>"),
            "{html}"
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("<tr><td>2</td>") && html.contains("(not in the records)"), "{html}");
        assert!(html.contains("<td>1.50s</td><td>2.50ms</td>"), "{html}");
        let zh = prompts(&rows, Lang::Zh).unwrap();
        assert!(
            zh.contains("<th class=\"message\">提示词</th>")
                && zh.contains("（记录中没有）")
                && zh.contains("最多 20 条"),
            "{zh}"
        );
    }
}
