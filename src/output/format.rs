//! Units and column alignment in one place. Widths count terminal columns, so Chinese text (two
//! columns a character) keeps tables aligned.
//!
//! One decimal style, so a value prints the same wherever it shows (the per-second table, the
//! summary's metric table, a sweep's row): two decimals below 10, one below 10,000 (times in ms
//! switch to seconds at 1,000 ms, with two decimals: `1.25s`), none above; thousands separated
//! by commas; rates to one decimal; percentages to one decimal (a threshold's share, written to
//! hundredths, keeps two: `output::gates`); a run's seconds to two decimals, as `ms` gives them.

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

/// A table row under a summary heading: four spaces, the first cell left-aligned, the others
/// right-aligned, each in its width of terminal columns.
pub fn columns(cells: &[String], widths: &[usize]) -> String {
    let mut row = String::from("    ");
    for (i, (c, &w)) in cells.iter().zip(widths).enumerate() {
        row += &if i == 0 { pad_right(c, w) } else { pad_left(c, w) };
    }
    row
}

/// Milliseconds with precision that suits their size: 0.42ms, 12.3ms, 1.25s.
/// The bounds are where rounding would carry into the next band (9.996 is `10.0ms`, not
/// `10.00ms`).
pub fn ms(v: f64) -> String {
    if v < 9.995 {
        format!("{v:.2}ms")
    } else if v < 999.95 {
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
    grouped(&format!("{v:.1}"))
}

/// A formatted number with commas between the thousands of its whole part: `-1234.5` →
/// `-1,234.5`. The same rounding as `format!` everywhere, so `number` and `ms` agree.
fn grouped(formatted: &str) -> String {
    let (sign, digits) = formatted.split_at(usize::from(formatted.starts_with('-')));
    let (whole, fraction) = digits.split_once('.').map_or((digits, None), |(w, f)| (w, Some(f)));
    let whole = whole.parse::<u64>().map_or_else(|_| whole.to_string(), count);
    match fraction {
        Some(f) => format!("{sign}{whole}.{f}"),
        None => format!("{sign}{whole}"),
    }
}

/// A share as a percentage: 99.2%; `-` when undefined.
pub fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".into(), |s| format!("{:.1}%", s * 100.0))
}

/// A plain number in a summary cell: two decimals below 10, one below 10,000 (`1,234.5`), else
/// an integer (`12,346`); as `ms` prints a time below a second.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if a < 9.995 {
        format!("{v:.2}")
    } else if a < 9_999.95 {
        grouped(&format!("{v:.1}"))
    } else {
        grouped(&format!("{v:.0}"))
    }
}

/// Seconds of a run, to two decimals: `3.00s`.
pub fn seconds(s: f64) -> String {
    format!("{s:.2}s")
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

    #[test]
    fn one_decimal_style_for_every_number() {
        // A plain number and a time in ms keep the same decimals below a second.
        for (v, n, t) in [
            (0.4219, "0.42", "0.42ms"),
            (9.994, "9.99", "9.99ms"),
            (9.996, "10.0", "10.0ms"),
            (10.04, "10.0", "10.0ms"),
            (99.6, "99.6", "99.6ms"),
            (101.25, "101.2", "101.2ms"),
            (999.94, "999.9", "999.9ms"),
        ] {
            assert_eq!((number(v), ms(v)), (n.to_string(), t.to_string()), "{v}");
        }
        // Above: a count's separators, a time in seconds.
        assert_eq!((number(1050.0), ms(1050.0)), ("1,050.0".into(), "1.05s".into()));
        assert_eq!(number(9_999.96), "10,000");
        assert_eq!(number(11_600.4), "11,600");
        assert_eq!(number(-1234.56), "-1,234.6");
        assert_eq!(number(-0.5), "-0.50");
        // Rates and percentages to one decimal, a run's seconds to two.
        assert_eq!((rate(2.74), percent(Some(0.9))), ("2.7".into(), "90.0%".into()));
        assert_eq!(seconds(3.0), "3.00s");
        assert_eq!(seconds(4.425_1), "4.43s");
    }
}
