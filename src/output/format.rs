//! Units and column alignment in one place. Widths count terminal columns, so Chinese text (two
//! columns a character) keeps tables aligned.

/// Terminal columns a string takes: East Asian wide and full-width characters take two.
pub fn display_width(s: &str) -> usize {
    s.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F | 0x1F900..=0x1F9FF | 0x20000..=0x3FFFD)
}

/// Right-aligns `s` in `width` columns.
pub fn pad_left(s: &str, width: usize) -> String {
    format!("{}{s}", " ".repeat(width.saturating_sub(display_width(s))))
}

/// Left-aligns `s` in `width` columns.
pub fn pad_right(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(display_width(s))))
}

/// Milliseconds with precision that suits their size: 0.42ms, 12.3ms, 1.25s.
pub fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}ms")
    } else if v < 1000.0 {
        format!("{v:.1}ms")
    } else {
        format!("{:.2}s", v / 1000.0)
    }
}

/// An optional millisecond value; `-` when there is none.
pub fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), ms)
}

/// An integer with thousands separators: 12,345.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate rounded to one decimal, with thousands separators: 1,234.6.
pub fn rate(v: f64) -> String {
    let tenths = (v * 10.0).round() as u64;
    format!("{}.{}", count(tenths / 10), tenths % 10)
}

/// A share as a percentage: 99.2%; `-` when undefined.
pub fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".into(), |s| format!("{:.1}%", s * 100.0))
}

/// A plain number in a summary cell: two decimals below 100, one below 10,000, else an integer.
pub fn number(v: f64) -> String {
    if v.abs() < 100.0 {
        format!("{v:.2}")
    } else if v.abs() < 10_000.0 {
        format!("{v:.1}")
    } else {
        count(v.round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_columns() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("你好"), 4);
        assert_eq!(display_width("TTFT 首字"), 9);
        assert_eq!(pad_left("你好", 6), "  你好");
        assert_eq!(pad_right("你好", 6), "你好  ");
        assert_eq!(pad_left("toolong", 3), "toolong");
    }

    #[test]
    fn units_read_well() {
        assert_eq!(ms(0.4219), "0.42ms");
        assert_eq!(ms(12.34), "12.3ms");
        assert_eq!(ms(1250.0), "1.25s");
        assert_eq!(opt_ms(None), "-");
        assert_eq!(count(0), "0");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(rate(1234.56), "1,234.6");
        assert_eq!(rate(19.19), "19.2");
        assert_eq!(rate(19.96), "20.0");
        assert_eq!(rate(0.04), "0.0");
        assert_eq!(percent(Some(0.9925)), "99.2%");
        assert_eq!(percent(None), "-");
        assert_eq!(number(4.5678), "4.57");
        assert_eq!(number(123.45), "123.5");
        assert_eq!(number(123456.0), "123,456");
    }
}
