//! What people read about gates: the `--threshold` table after a summary, the lines that name
//! each failure on stderr, and `llmload compare`'s side-by-side table with its breached gates,
//! and, for records, whether each difference is significant. Pure: checked values in, text out.

use super::format::{display_width, ms, number, pad_left, pad_right};
use crate::gate::fail_if::Verdict;
use crate::gate::{Checked, FailIf, Kind};
use crate::lang::Lang;
use crate::stats::significance::{Interval, MannWhitney};
use std::fmt::Write;

/// A value of `kind` with its unit; `no data` when there is none.
pub fn value(kind: Kind, v: Option<f64>) -> String {
    match (kind, v) {
        (_, None) => "no data".into(),
        (Kind::Time, Some(v)) => ms(v),
        (Kind::Share, Some(v)) => format!("{:.2}%", v * 100.0),
        (Kind::Number, Some(v)) => number(v),
    }
}

/// A change of a `kind` value, signed: `+12.3ms`, `-0.50pp`, `+1.20`.
fn absolute(kind: Kind, d: f64) -> String {
    let sign = if d < 0.0 { "-" } else { "+" };
    match kind {
        Kind::Time => format!("{sign}{}", ms(d.abs())),
        Kind::Share => format!("{sign}{:.2}pp", d.abs() * 100.0),
        Kind::Number => format!("{sign}{}", number(d.abs())),
    }
}

/// A relative change, signed: `+12.0%`, `+∞%`.
fn relative(r: f64) -> String {
    let sign = if r < 0.0 { "-" } else { "+" };
    if r.is_infinite() { format!("{sign}∞%") } else { format!("{sign}{:.1}%", r.abs() * 100.0) }
}

/// The thresholds table in `lang`: each expression, the run's value, pass or FAIL.
pub fn thresholds(checks: &[Checked], lang: Lang) -> String {
    let l = lang;
    let failed = checks.iter().filter(|c| !c.pass).count();
    let passed = checks.len() - failed;
    let mut o = l.pick(
        format!("\nThresholds: {passed} passed, {failed} failed\n"),
        format!("\n阈值：通过 {passed}，失败 {failed}\n"),
    );
    let width = checks.iter().map(|c| display_width(&c.expr)).max().unwrap_or(0).max(9);
    let _ = writeln!(
        o,
        "  {}  {}  {}",
        pad_right(l.pick("threshold", "阈值"), width),
        pad_left(l.pick("actual", "实际值"), 10),
        l.pick("result", "结果")
    );
    for c in checks {
        let shown = match c.actual {
            None => l.pick("no data", "无数据").to_string(),
            Some(_) => value(c.kind, c.actual),
        };
        let _ = writeln!(
            o,
            "  {}  {}  {}",
            pad_right(&c.expr, width),
            pad_left(&shown, 10),
            if c.pass { l.pick("pass", "通过") } else { l.pick("FAIL", "失败") }
        );
    }
    o
}

/// One stderr line per failed threshold, saying what the run measured or why it has no value
/// (that reason is the gate's own, in English).
pub fn threshold_failures(checks: &[Checked], lang: Lang) -> Vec<String> {
    let l = lang;
    checks
        .iter()
        .filter(|c| !c.pass)
        .map(|c| match &c.why {
            Some(why) => {
                l.pick(format!("threshold failed: {}: {why}", c.expr), format!("未达阈值：{}：{why}", c.expr))
            }
            None => {
                let actual = value(c.kind, c.actual);
                l.pick(
                    format!("threshold failed: {} (actual {actual})", c.expr),
                    format!("未达阈值：{}（实际 {actual}）", c.expr),
                )
            }
        })
        .collect()
}

/// One row of `compare`'s table: a label, the kind of its values, and the two values.
pub struct Row {
    pub label: String,
    pub kind: Kind,
    pub base: Option<f64>,
    pub new: Option<f64>,
    /// The bootstrap interval of new − base, where both sides have per-request samples of it.
    pub interval: Option<Interval>,
}

/// Whether a difference is significant, with the 95 % interval it was judged by:
/// `yes [+19.8ms, +20.3ms]`.
pub fn significance(kind: Kind, i: &Interval, lang: Lang) -> String {
    let word = if i.significant() { lang.pick("yes", "是") } else { lang.pick("no", "否") };
    format!("{word} [{}, {}]", absolute(kind, i.low), absolute(kind, i.high))
}

/// `compare`'s table in `lang`: each row's two values, the absolute and the relative change,
/// and with `judged` (both sides are records) a `significant` column: each row's verdict and
/// 95 % bootstrap interval of the change, `-` where the row has no per-request samples.
pub fn compare(base: &str, new: &str, rows: &[Row], judged: bool, lang: Lang) -> String {
    let l = lang;
    let mut o =
        l.pick(format!("\nllmload compare: {base} → {new}\n"), format!("\nllmload 对比：{base} → {new}\n"));
    let label_w = rows.iter().map(|r| r.label.len()).max().unwrap_or(0).max(6);
    let _ = write!(
        o,
        "  {}  {}  {}  {}  {}",
        pad_right(l.pick("metric", "指标"), label_w),
        pad_left(l.pick("base", "基线"), 10),
        pad_left(l.pick("new", "新"), 10),
        pad_left(l.pick("change", "变化"), 10),
        pad_left(l.pick("change %", "变化 %"), 9)
    );
    let _ = writeln!(
        o,
        "{}",
        if judged { format!("  {}", l.pick("significant", "显著")) } else { String::new() }
    );
    for r in rows {
        let (abs, rel) = match r.base.zip(r.new) {
            Some((b, n)) => {
                let (a, rel) = crate::gate::fail_if::change(b, n);
                (absolute(r.kind, a), relative(rel))
            }
            None => ("-".into(), "-".into()),
        };
        let _ = write!(
            o,
            "  {}  {}  {}  {}  {}",
            pad_right(&r.label, label_w),
            pad_left(&value(r.kind, r.base), 10),
            pad_left(&value(r.kind, r.new), 10),
            pad_left(&abs, 10),
            pad_left(&rel, 9)
        );
        let cell = match (&r.interval, judged) {
            (_, false) => String::new(),
            (Some(i), true) => format!("  {}", significance(r.kind, i, l)),
            (None, true) => "  -".into(),
        };
        let _ = writeln!(o, "{cell}");
    }
    if !judged {
        o += l.pick(
            "  significant: not judged: JSON summaries hold percentiles, not the per-request samples a test needs; compare the runs' --records files to judge it\n",
            "  显著性：未判断：JSON 汇总只有百分位数，没有检验所需的逐请求样本；对比两次运行的 --records 文件即可判断\n",
        );
    }
    o
}

/// One metric's Mann–Whitney test: its name, the two sides' sample sizes and the test.
pub struct Shift {
    pub metric: &'static str,
    pub n_base: usize,
    pub n_new: usize,
    pub test: MannWhitney,
}

/// The Mann–Whitney lines after `compare`'s table: for each metric, whether its whole
/// distribution moved (up, down, or not significantly) and the two-sided p-value.
pub fn shifts(rows: &[Shift], lang: Lang) -> String {
    let l = lang;
    let mut o = l.pick(
        "\nDistributions (Mann–Whitney U, two-sided, significant below p = 0.05):\n".to_string(),
        "\n分布（Mann–Whitney U 双侧检验，p < 0.05 为显著）：\n".to_string(),
    );
    for s in rows {
        let verdict = match (s.test.significant(), s.test.z > 0.0) {
            (false, _) => l.pick("no significant shift", "无显著偏移"),
            (true, true) => l.pick("shifted up", "显著升高"),
            (true, false) => l.pick("shifted down", "显著降低"),
        };
        let _ = writeln!(
            o,
            "  {}  n {} → {}  p={}  {verdict}",
            pad_right(s.metric, 6),
            s.n_base,
            s.n_new,
            p_value(s.test.p)
        );
    }
    o
}

/// A p-value in few digits: `0.032`, `1.2e-9`.
fn p_value(p: f64) -> String {
    if p >= 0.001 { format!("{p:.3}") } else { format!("{p:.1e}") }
}

/// The `--fail-if` lines after the table: each gate, breached or not, with the change it saw
/// (the verdict words and reasons stay English: `BREACHED` is what scripts grep for).
pub fn gates(checked: &[(&FailIf, Verdict)], lang: Lang) -> String {
    let breached = checked.iter().filter(|(_, v)| v.breached).count();
    let held = checked.len() - breached;
    let mut o = lang.pick(
        format!("\nGates: {held} held, {breached} breached\n"),
        format!("\n门限：守住 {held}，突破 {breached}\n"),
    );
    for (g, v) in checked {
        let _ = writeln!(o, "  {}  {}", pad_right(&g.expr, 24), gate_result(g, v));
    }
    o
}

/// One stderr line per breached gate.
pub fn breaches(checked: &[(&FailIf, Verdict)]) -> Vec<String> {
    checked
        .iter()
        .filter(|(_, v)| v.breached)
        .map(|(g, v)| {
            format!("gate breached: {}: {}", g.expr, gate_result(g, v).trim_start_matches("BREACHED: "))
        })
        .collect()
}

fn gate_result(g: &FailIf, v: &Verdict) -> String {
    let kind = g.subject.kind();
    let seen = match (v.change, g.limit) {
        (None, _) => {
            let side = if v.base.is_none() { "the base" } else { "the new summary" };
            return format!("BREACHED: {side} has no data for {}", g.subject);
        }
        (Some(c), crate::gate::fail_if::Change::Relative(_)) => relative(c),
        (Some(c), crate::gate::fail_if::Change::Absolute(_)) => absolute(kind, c),
    };
    let verdict = if v.breached { "BREACHED" } else { "held" };
    let judged = match (g.significant, &v.interval) {
        (false, _) => String::new(),
        (true, None) => ", significance not judged: too few requests with a value (2 a side at least)".into(),
        (true, Some(i)) => format!(
            ", {} (95% interval of the change {}, {})",
            if i.significant() { "significant" } else { "not significant" },
            absolute(kind, i.low),
            absolute(kind, i.high)
        ),
    };
    format!("{verdict}: {seen} ({} → {}){judged}", value(kind, v.base), value(kind, v.new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Threshold;
    use serde_json::json;

    /// A compare row of these values.
    fn row(label: &str, kind: Kind, base: Option<f64>, new: Option<f64>, interval: Option<Interval>) -> Row {
        Row { label: label.into(), kind, base, new, interval }
    }

    #[test]
    fn exact_thresholds_table_and_failures() {
        let s = json!({"requests": {"ok": 7, "failed": 1}, "success_rate": 0.875,
            "metrics": {"ttft_ms": {"p95": 152.4}, "itl_ms": null}});
        let checks: Vec<Checked> = ["ttft.p95<500ms", "success_rate>=99%", "itl.p99<50ms"]
            .iter()
            .map(|t| Threshold::parse(t).unwrap().check(&s))
            .collect();
        assert_eq!(
            thresholds(&checks, Lang::En),
            "\nThresholds: 1 passed, 2 failed\n  threshold              actual  result\n  ttft.p95<500ms        152.4ms  pass\n  success_rate>=99%      87.50%  FAIL\n  itl.p99<50ms          no data  FAIL\n"
        );
        assert_eq!(
            threshold_failures(&checks, Lang::En),
            [
                "threshold failed: success_rate>=99% (actual 87.50%)",
                "threshold failed: itl.p99<50ms: no data: no successful request measured itl (see the errors above)"
            ]
        );
    }

    #[test]
    fn exact_compare_table_and_gates() {
        let rows = [
            row("req_s", Kind::Number, Some(20.0), Some(18.0), None),
            row("success_rate", Kind::Share, Some(1.0), Some(0.995), None),
            row("ttft.p95", Kind::Time, Some(100.0), Some(112.0), None),
            row("itl.p99", Kind::Time, None, Some(5.0), None),
        ];
        assert_eq!(
            compare("a.json", "b.json", &rows, false, Lang::En),
            "\nllmload compare: a.json → b.json\n  metric              base         new      change   change %\n  req_s               20.0        18.0       -2.00     -10.0%\n  success_rate     100.00%      99.50%     -0.50pp      -0.5%\n  ttft.p95         100.0ms     112.0ms     +12.0ms     +12.0%\n  itl.p99          no data      5.00ms           -          -\n  significant: not judged: JSON summaries hold percentiles, not the per-request samples a test needs; compare the runs' --records files to judge it\n"
        );
        let base = json!({"metrics": {"ttft_ms": {"p95": 100.0}}, "success_rate": 1.0});
        let new = json!({"metrics": {"ttft_ms": {"p95": 112.0}}, "success_rate": 0.995});
        let gs = [
            FailIf::parse("ttft.p95>+10%").unwrap(),
            FailIf::parse("success_rate<-1pp").unwrap(),
            FailIf::parse("itl.p99>+1ms").unwrap(),
        ];
        let checked: Vec<_> = gs.iter().map(|g| (g, g.check(&base, &new, None))).collect();
        assert_eq!(
            gates(&checked, Lang::En),
            "\nGates: 1 held, 2 breached\n  ttft.p95>+10%             BREACHED: +12.0% (100.0ms → 112.0ms)\n  success_rate<-1pp         held: -0.50pp (100.00% → 99.50%)\n  itl.p99>+1ms              BREACHED: the base has no data for itl.p99\n"
        );
        assert_eq!(
            breaches(&checked),
            [
                "gate breached: ttft.p95>+10%: +12.0% (100.0ms → 112.0ms)",
                "gate breached: itl.p99>+1ms: the base has no data for itl.p99"
            ]
        );
    }

    #[test]
    fn exact_significance_column_gates_and_shifts() {
        let real = Interval { estimate: 12.0, low: 10.5, high: 13.3 };
        let noise = Interval { estimate: 0.5, low: -1.0, high: 2.0 };
        let rows = [
            row("req_s", Kind::Number, Some(20.0), Some(18.0), None),
            row("ttft.p50", Kind::Time, Some(100.0), Some(112.0), Some(real)),
            row("e2e.p50", Kind::Time, Some(900.0), Some(900.5), Some(noise)),
        ];
        assert_eq!(
            compare("a.jsonl", "b.jsonl", &rows, true, Lang::En),
            "\nllmload compare: a.jsonl → b.jsonl\n  metric          base         new      change   change %  significant\n  req_s           20.0        18.0       -2.00     -10.0%  -\n  ttft.p50     100.0ms     112.0ms     +12.0ms     +12.0%  yes [+10.5ms, +13.3ms]\n  e2e.p50      900.0ms     900.5ms     +0.50ms      +0.1%  no [-1.00ms, +2.00ms]\n"
        );
        let base = json!({"metrics": {"ttft_ms": {"p50": 100.0}}});
        let new = json!({"metrics": {"ttft_ms": {"p50": 112.0}}});
        let g = FailIf::parse("ttft.p50>+10% significant").unwrap();
        let checked = [(&g, g.check(&base, &new, Some(real))), (&g, g.check(&base, &new, Some(noise)))];
        assert_eq!(
            gates(&checked, Lang::En),
            "\nGates: 1 held, 1 breached\n  ttft.p50>+10% significant  BREACHED: +12.0% (100.0ms → 112.0ms), significant (95% interval of the change +10.5ms, +13.3ms)\n  ttft.p50>+10% significant  held: +12.0% (100.0ms → 112.0ms), not significant (95% interval of the change -1.00ms, +2.00ms)\n"
        );
        let t = |p, z| MannWhitney { u: 0.0, z, p };
        let s = [
            Shift { metric: "ttft", n_base: 60, n_new: 60, test: t(1.5e-21, 9.0) },
            Shift { metric: "itl", n_base: 60, n_new: 59, test: t(0.4321, -0.8) },
        ];
        assert_eq!(
            shifts(&s, Lang::En),
            "\nDistributions (Mann–Whitney U, two-sided, significant below p = 0.05):\n  ttft    n 60 → 60  p=1.5e-21  shifted up\n  itl     n 60 → 59  p=0.432  no significant shift\n"
        );
    }

    #[test]
    fn the_thresholds_table_in_chinese_keeps_its_numbers_and_columns() {
        let s = json!({"success_rate": 0.875, "metrics": {"ttft_ms": {"p95": 152.4}, "itl_ms": null}});
        let checks: Vec<Checked> = ["ttft.p95<500ms", "success_rate>=99%", "itl.p99<50ms"]
            .iter()
            .map(|t| Threshold::parse(t).unwrap().check(&s))
            .collect();
        let table = thresholds(&checks, Lang::Zh);
        assert_eq!(
            table,
            "\n阈值：通过 1，失败 2\n  阈值                   实际值  结果\n  ttft.p95<500ms        152.4ms  通过\n  success_rate>=99%      87.50%  失败\n  itl.p99<50ms           无数据  失败\n"
        );
        let lines: Vec<&str> = table.lines().skip(2).collect();
        let widths: Vec<usize> = lines.iter().map(|l| display_width(l)).collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{widths:?}");
        assert_eq!(threshold_failures(&checks, Lang::Zh)[0], "未达阈值：success_rate>=99%（实际 87.50%）");
    }
}
