//! What the run was held to, in the report: the **Goodput** section against `--slo` (good
//! requests per second, the attainment with its Wilson 95 % interval drawn on one bar, and each
//! objective's met / missed / undetermined counts) and the **Thresholds** section of
//! `--threshold` (each expression, the run's value, pass or FAIL in words and a sign, not colour
//! alone), with the headline card each puts at the top of the page. Built from the `Summary`'s
//! `goodput` and `thresholds` alone; the page shows them only when the run had them. It does not
//! judge anything itself: `slo` and `gate` did.

use super::svg::escape;
use super::{Card, charts};
use crate::gate::Checked;
use crate::lang::Lang;
use crate::output::format::{count, percent, rate};
use crate::output::gates::value;
use crate::summary::Goodput;
use std::fmt::Write;

/// `2 of 3 passed`, in `l`.
fn passed_of(checks: &[Checked], l: Lang) -> String {
    let (passed, all) = (checks.iter().filter(|c| c.pass).count(), checks.len());
    l.pick(format!("{passed} of {all} passed"), format!("{all} 项中通过 {passed} 项"))
}

/// The headline card of the thresholds: how many passed, and the overall result in words.
pub fn thresholds_card(checks: &[Checked], l: Lang) -> Card {
    let failed = checks.iter().filter(|c| !c.pass).count();
    let detail = if failed == 0 {
        l.pick("PASS: every threshold held".to_string(), "通过：全部阈值满足".to_string())
    } else {
        l.pick(format!("FAIL: {failed} not met"), format!("失败：{failed} 项未满足"))
    };
    let (passed, all) = (checks.len() - failed, checks.len());
    Card {
        class: if failed == 0 { "pass" } else { "fail" },
        label: l.pick("thresholds passed", "通过的阈值").into(),
        value: l.pick(format!("{passed} of {all}"), format!("{passed} / {all}")),
        detail,
    }
}

/// The headline card of the goodput: good requests per second and the attainment.
pub fn goodput_card(g: &Goodput, l: Lang) -> Card {
    let a = percent(g.attainment);
    Card {
        class: "",
        label: l.pick("goodput req/s", "有效吞吐 请求/秒").into(),
        value: rate(g.requests_per_s),
        detail: l.pick(format!("SLO attainment {a}"), format!("SLO 达成率 {a}")),
    }
}

/// The Thresholds section: the overall result, then one row per expression in the order given.
pub fn thresholds(checks: &[Checked], l: Lang) -> String {
    let failed = checks.iter().filter(|c| !c.pass).count();
    let (class, word) =
        if failed == 0 { ("ok", l.pick("PASS", "通过")) } else { ("bound", l.pick("FAIL", "失败")) };
    let mut o = format!(
        "<p class=\"verdict {class}\"><strong>{word}</strong>: {}{}</p>",
        escape(&passed_of(checks, l)),
        l.pick(
            if failed == 0 { "" } else { "; the run exits 1" },
            if failed == 0 { "" } else { "；运行以退出码 1 结束" }
        )
    );
    // The reason column only when a threshold had no value to check.
    let why = checks.iter().any(|c| c.why.is_some());
    let _ = write!(
        o,
        "<table class=\"thresholds\"><thead><tr><th>{}</th><th>{}</th><th class=\"result\">{}</th>{}</tr></thead><tbody>",
        l.pick("threshold", "阈值"),
        l.pick("actual", "实际值"),
        l.pick("result", "结果"),
        if why { format!("<th class=\"message\">{}</th>", l.pick("why", "原因")) } else { String::new() },
    );
    for c in checks {
        let shown = match c.actual {
            None => l.pick("no data", "无数据").to_string(),
            Some(_) => value(c.kind, c.actual),
        };
        let (row, result) = if c.pass {
            ("pass", l.pick("✓ pass", "✓ 通过"))
        } else {
            ("fail", l.pick("✗ FAIL", "✗ 失败"))
        };
        let _ = write!(
            o,
            "<tr class=\"{row}\"><td><code>{}</code></td><td>{}</td><td class=\"result\"><strong>{result}</strong></td>{}</tr>",
            escape(&c.expr),
            escape(&shown),
            if why {
                format!("<td class=\"message\">{}</td>", escape(c.why.as_deref().unwrap_or("")))
            } else {
                String::new()
            },
        );
    }
    o += "</tbody></table>";
    o
}

/// The Goodput section: the objectives, the numbers, the interval bar and the table of
/// objectives.
pub fn goodput(g: &Goodput, l: Lang) -> String {
    let undetermined = g.judged - g.determined;
    let mut o = format!("<p>{} <code>{}</code></p>", l.pick("Objectives:", "目标："), escape(&g.slo));
    o += "<div class=\"cards\">";
    let cards = [
        Card {
            class: "",
            label: l.pick("goodput req/s", "有效吞吐 请求/秒").into(),
            value: rate(g.requests_per_s),
            detail: l.pick("good requests over the measured window", "达标请求，按测量窗口计").into(),
        },
        Card {
            class: "",
            label: l.pick("attainment", "达成率").into(),
            value: percent(g.attainment),
            detail: match g.attainment_ci.as_deref() {
                Some([lo, hi]) => {
                    let (lo, hi) = (percent(Some(*lo)), percent(Some(*hi)));
                    l.pick(format!("95% interval {lo}–{hi}"), format!("95% 区间 {lo}–{hi}"))
                }
                _ => l.pick("no interval", "无区间").into(),
            },
        },
        Card {
            class: "",
            label: l.pick("judged", "已判定").into(),
            value: count(g.judged),
            detail: {
                let (good, failed, und) = (count(g.conforming), count(g.failed), count(undetermined));
                l.pick(
                    format!("{good} good · {failed} failed · {und} undetermined"),
                    format!("达标 {good} · 失败 {failed} · 无法判定 {und}"),
                )
            },
        },
    ];
    for c in &cards {
        o += &c.html();
    }
    o += "</div>";
    match (g.attainment, g.attainment_ci.as_deref()) {
        (Some(a), Some([lo, hi])) => {
            let (ap, lop, hip) = (percent(Some(a)), percent(Some(*lo)), percent(Some(*hi)));
            let caption = l.pick(
                format!("Attainment {ap} (the mark) and its 95% Wilson interval {lop}–{hip} (the band)"),
                format!("达成率 {ap}（标记）及其 95% Wilson 区间 {lop}–{hip}（色带）"),
            );
            let _ = write!(
                o,
                "<figure class=\"wide\">{}<figcaption>{}</figcaption></figure>",
                charts::interval(&caption, a, (*lo, *hi)),
                escape(&caption)
            );
        }
        _ => {
            let none = l.pick(
                "No request was determined: there is no attainment to draw.",
                "没有可判定的请求：没有可画的达成率。",
            );
            let _ = write!(o, "<p class=\"none\">{none}</p>");
        }
    }
    let (met, missed, und) =
        (l.pick("met", "满足"), l.pick("missed", "未满足"), l.pick("undetermined", "无法判定"));
    let _ = write!(
        o,
        "<h3>{}</h3><table class=\"objectives\"><thead><tr><th>{}</th>\
<th><span class=\"swatch s1\"></span>{met}</th><th><span class=\"swatch s3\"></span>{missed}</th>\
<th><span class=\"swatch s0\"></span>{und}</th><th>{}</th><th class=\"bar\">{}</th></tr></thead><tbody>",
        l.pick("By objective, over successful requests", "按目标（成功的请求）"),
        l.pick("objective", "目标"),
        l.pick("met share", "满足占比"),
        l.pick("share", "占比"),
    );
    for b in &g.by_objective {
        let decided = b.met + b.missed;
        let share = (decided > 0).then(|| b.met as f64 / decided as f64);
        let title = format!(
            "{}: {met} {} · {missed} {} · {und} {}",
            b.objective,
            count(b.met),
            count(b.missed),
            count(b.undetermined)
        );
        let _ = write!(
            o,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"bar\">{}</td></tr>",
            escape(&b.objective),
            count(b.met),
            count(b.missed),
            count(b.undetermined),
            percent(share),
            charts::stacked(&title, &[("s1", b.met), ("s3", b.missed), ("s0", b.undetermined)]),
        );
    }
    o += "</tbody></table>";
    let note = l.pick(
        "A request is good when it succeeded and met every objective; failed requests count against the attainment, cancelled ones are not judged. A request with no value for an objective (TPOT of a one-token answer) and every other objective met is undetermined and left out of the attainment. The met share is met / (met + missed).",
        "请求成功且满足每个目标才算达标；失败的请求计入未达标，取消的请求不判定。某个目标没有值（如只有一个 token 的回答的 TPOT）而其余目标都满足的请求为无法判定，不计入达成率。满足占比 = 满足 / (满足 + 未满足)。",
    );
    let _ = write!(o, "<p class=\"note\">{note}</p>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Kind;
    use crate::summary::ObjectiveGoodput;

    fn sample_goodput() -> Goodput {
        Goodput {
            slo: "ttft<=500ms,tpot<50ms".into(),
            requests_per_s: 12.5,
            attainment: Some(0.9),
            attainment_ci: Some(vec![0.8, 0.95]),
            judged: 22,
            determined: 20,
            conforming: 18,
            failed: 1,
            by_objective: vec![
                ObjectiveGoodput { objective: "ttft<=500ms".into(), met: 20, missed: 1, undetermined: 0 },
                ObjectiveGoodput { objective: "tpot<50ms".into(), met: 18, missed: 1, undetermined: 2 },
            ],
        }
    }

    fn sample_checks() -> Vec<Checked> {
        vec![
            Checked {
                expr: "ttft.p95<500ms".into(),
                actual: Some(120.5),
                pass: true,
                why: None,
                kind: Kind::Time,
            },
            Checked {
                expr: "error_rate<1%".into(),
                actual: Some(0.125),
                pass: false,
                why: None,
                kind: Kind::Share,
            },
            Checked {
                expr: "tpot.p99<<b>".into(),
                actual: None,
                pass: false,
                why: Some("no <data> & none".into()),
                kind: Kind::Time,
            },
        ]
    }

    #[test]
    fn the_goodput_section_draws_the_interval_and_each_objective() {
        let html = goodput(&sample_goodput(), Lang::En);
        assert!(html.contains("<code>ttft&lt;=500ms,tpot&lt;50ms</code>"), "the objectives, escaped");
        assert!(html.contains(">12.5<") && html.contains(">90.0%<"), "goodput and attainment");
        assert!(html.contains("95% interval 80.0%–95.0%"), "{html}");
        assert!(html.contains("18 good · 1 failed · 2 undetermined"), "{html}");
        assert_eq!(html.matches("<svg class=\"chart interval\"").count(), 1);
        assert_eq!(html.matches("<svg class=\"stacked\"").count(), 2, "one bar per objective");
        assert!(
            html.contains(
                "<tr><td><code>tpot&lt;50ms</code></td><td>18</td><td>1</td><td>2</td><td>94.7%</td>"
            ),
            "{html}"
        );
        let zh = goodput(&sample_goodput(), Lang::Zh);
        assert!(zh.contains("达成率") && zh.contains("无法判定") && zh.contains("95% 区间"), "{zh}");
        assert!(!zh.contains("attainment") && !zh.contains("undetermined"), "{zh}");
        // Nothing determined: no bar to draw, and the page says so.
        let none = Goodput { attainment: None, attainment_ci: None, determined: 0, ..sample_goodput() };
        let html = goodput(&none, Lang::En);
        assert!(html.contains("No request was determined") && !html.contains("chart interval"), "{html}");
    }

    #[test]
    fn thresholds_say_pass_or_fail_in_words() {
        let checks = sample_checks();
        let html = thresholds(&checks, Lang::En);
        assert!(html.contains("<strong>FAIL</strong>: 1 of 3 passed; the run exits 1"), "{html}");
        assert!(html.contains("<tr class=\"pass\"><td><code>ttft.p95&lt;500ms</code></td><td>120.5ms</td><td class=\"result\"><strong>✓ pass</strong>"), "{html}");
        assert!(html.contains("<td>12.50%</td><td class=\"result\"><strong>✗ FAIL</strong>"), "{html}");
        assert!(html.contains("<td>no data</td>") && html.contains("no &lt;data&gt; &amp; none"), "{html}");
        assert!(!html.contains("<b>") && !html.contains("<data>"), "run text is escaped");
        let zh = thresholds(&checks, Lang::Zh);
        assert!(
            zh.contains("<strong>失败</strong>: 3 项中通过 1 项")
                && zh.contains("✗ 失败")
                && zh.contains("无数据")
        );
        let card = thresholds_card(&checks, Lang::En);
        assert_eq!(
            (card.class, card.label.as_str(), card.value.as_str(), card.detail.as_str()),
            ("fail", "thresholds passed", "1 of 3", "FAIL: 2 not met")
        );
        let all = thresholds_card(&checks[..1], Lang::Zh);
        assert_eq!(
            (all.class, all.value.as_str(), all.detail.as_str()),
            ("pass", "1 / 1", "通过：全部阈值满足")
        );
        let one = thresholds(&checks[..1], Lang::En);
        assert!(one.contains("<strong>PASS</strong>: 1 of 1 passed</p>"), "{one}");
        assert!(!one.contains(">why<"), "no reason column when every threshold had a value: {one}");
    }
}
