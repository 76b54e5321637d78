//! The final summary a person reads on stdout: counts, errors with their first message,
//! throughput, the client's cost and its verdict when that is not `ok`, and the percentile table
//! of every metric.

use super::format::{
    columns, count, display_width, ms, number, opt_ms, pad_left, pad_right, percent, rate, seconds,
};
use crate::lang::Lang;
use crate::stats::Distribution;
use crate::stats::percentiles::{STANDARD, name};
use crate::summary::verdict::Verdict;
use crate::summary::{ClientUsage, Metrics, Sessions, Summary};
use serde_json::Value;
use std::fmt::Write;

/// The metric table's columns after the label column, each `STAT_WIDTH` wide, right-aligned:
/// count, mean, min, the percentiles the distributions report (`p50` … `p99`, or those of
/// `--percentiles`, `p99.9`), max. `d` is any of the table's distributions (they all report the
/// same percentiles); without one, the standard four.
pub fn stat_columns(d: Option<&Distribution>, l: Lang) -> Vec<String> {
    let percentiles: Vec<f64> = d.map_or(STANDARD.to_vec(), |d| d.reported().iter().map(|r| r.0).collect());
    let mut columns: Vec<String> =
        [("count", "数量"), ("mean", "均值"), ("min", "最小")].iter().map(|c| l.of(*c).to_string()).collect();
    columns.extend(percentiles.into_iter().map(name));
    columns.push(l.pick("max", "最大").to_string());
    columns
}

/// A distribution's values in `stat_columns`' order after the count.
pub fn stat_values(d: &Distribution) -> Vec<f64> {
    let mut values = vec![d.mean, d.min];
    values.extend(d.reported().iter().map(|r| r.1));
    values.push(d.max);
    values
}
const STAT_WIDTH: usize = 10;

/// The summary's labels are padded to this many terminal columns.
const LABEL_WIDTH: usize = 12;

/// `  label       `: two spaces, then the label in `lang` padded by display width.
/// One labelled line of the summary: `label` in `l`, then `text`.
fn said(o: &mut String, l: Lang, name: (&str, &str), text: impl std::fmt::Display) {
    let _ = writeln!(o, "{}{text}", label(l, name));
}

fn label(lang: Lang, pair: (&str, &str)) -> String {
    format!("  {}", pad_right(lang.pick(pair.0, pair.1), LABEL_WIDTH))
}

/// The summary in `lang` (numbers, units, error kinds and server messages as they are).
pub fn render(s: &Summary, lang: Lang) -> String {
    let l = lang;
    let mut o = String::new();
    let _ = writeln!(o, "\n{}", title(&s.config, l));
    said(&mut o, l, ("requests", "请求"), totals(s, l));
    said(&mut o, l, ("success", "成功率"), percent(s.success_rate));
    if s.requests.answers_checked > 0 {
        let (wrong, checked) = (count(s.requests.wrong_answer), count(s.requests.answers_checked));
        let share = percent(s.wrong_answer_rate);
        said(
            &mut o,
            l,
            ("answers", "回答检查"),
            l.pick(
                format!("{wrong} of {checked} checked answers wrong ({share}); their latencies still count"),
                format!("{checked} 个回答经检查，{wrong} 个错误（{share}）；其延迟照常计入"),
            ),
        );
    }
    if s.requests.retried > 0 {
        let (retried, attempts) = (count(s.requests.retried), count(s.requests.attempts));
        said(
            &mut o,
            l,
            ("retries", "重试"),
            l.pick(
                format!(
                    "{retried} requests retried · {attempts} attempts in all (latencies count from the first)"
                ),
                format!("{retried} 个请求重试过 · 共 {attempts} 次尝试（延迟从第一次算起）"),
            ),
        );
    }
    if s.client.reconnects > 0 {
        let n = count(s.client.reconnects);
        said(
            &mut o,
            l,
            ("reconnects", "重连"),
            l.pick(
                format!(
                    "{n} sent again on a fresh connection: the server had closed the pooled one before answering (not failures, not retries)"
                ),
                format!("{n} 次在新连接上重发：服务器在应答前已关闭了复用的连接（不算失败，也不算重试）"),
            ),
        );
    }
    if s.requests.ended_early > 0 {
        let n = count(s.requests.ended_early);
        said(
            &mut o,
            l,
            ("ended early", "提前结束"),
            l.pick(
                format!(
                    "{n} answers stopped by the model before their max_tokens (output lengths not enforced: --ignore-eos where the server honours it)"
                ),
                format!("{n} 个回答在达到 max_tokens 前被模型结束（输出长度未强制：服务器支持时用 --ignore-eos）"),
            ),
        );
    }
    said(&mut o, l, ("throughput", "吞吐"), throughput(s, l));
    if let Some(st) = &s.steady_state {
        said(&mut o, l, ("steady", "稳态"), steady(st, l));
    }
    o.push_str(&goodput(s, l));
    let t = &s.tokens;
    let reasoning = match t.reasoning_total {
        0 => String::new(),
        n => l.pick(format!(" ({} reasoning)", count(n)), format!("（其中推理 {}）", count(n))),
    };
    let cancelled = match t.from_cancelled {
        0 => String::new(),
        n => l.pick(
            format!(", {} cancelled, counted to the cut", count(n)),
            format!("，{} 个已取消、计至切断时", count(n)),
        ),
    };
    let cancelled = match t.from_abandoned {
        0 => cancelled,
        n => {
            cancelled
                + &l.pick(
                    format!(", {} abandoned, counted to where the client left", count(n)),
                    format!("，{} 个被主动放弃、计至客户端离开时", count(n)),
                )
        }
    };
    let (out, input, usage, tokenizer, estimated) = (
        count(t.output_total),
        count(t.input_total),
        count(t.from_usage),
        count(t.from_tokenizer),
        count(t.estimated),
    );
    said(
        &mut o,
        l,
        ("tokens", "token"),
        l.pick(
            format!("{out} output{reasoning} · {input} input (token counts: {usage} requests from usage, {tokenizer} from the tokenizer, {estimated} estimated{cancelled})"),
            format!("输出 {out}{reasoning} · 输入 {input}（token 计数：{usage} 个请求来自 usage，{tokenizer} 个来自分词器，{estimated} 个为估算{cancelled}）"),
        ),
    );
    if let Some(cached) = t.cached_input {
        let (n, share) = (count(cached), percent(t.cache_hit_share));
        said(
            &mut o,
            l,
            ("cache hits", "缓存命中"),
            l.pick(
                format!("{n} input tokens read from the server's cache: {share} of the input of the requests whose usage reported it"),
                format!("{n} 个输入 token 命中服务器缓存：占报告缓存的请求输入的 {share}"),
            ),
        );
    }
    if let Some(c) = &t.usage_vs_counted {
        let counter = s.config["tokenizer"].as_str().unwrap_or("estimate");
        let (differ, compared) = (count(c.differ), count(c.compared));
        let (mean, max) = (c.mean_abs_diff_pct, c.max_abs_diff_pct);
        said(
            &mut o,
            l,
            ("usage check", "usage 核对"),
            l.pick(
                format!("{counter} vs server usage: {differ} of {compared} requests differ · mean |diff| {mean:.1}% · max {max:.1}%"),
                format!("{counter} 对比服务器 usage：{compared} 个请求中 {differ} 个不同 · 平均 |差| {mean:.1}% · 最大 {max:.1}%"),
            ),
        );
    }
    if let Some(sessions) = &s.sessions {
        o.push_str(&sessions_table(sessions, l));
    }
    said(&mut o, l, ("client", "客户端"), client(s, l));
    o.push_str(&verdict(&s.client, l));
    o.push_str(&machine(&s.client, l));
    let errors = s.errors_by_count();
    if !errors.is_empty() {
        let _ = writeln!(o, "  {}", l.pick("errors", "错误"));
        let width = errors.iter().map(|(kind, ..)| kind.len()).max().unwrap_or(0);
        for (kind, n, message) in errors {
            let _ = writeln!(o, "    {}  {}  {message}", pad_right(kind, width), pad_left(&count(n), 7));
        }
    }
    let _ = writeln!(o);
    o.push_str(&metric_table(&s.metrics, l));
    if let Some(r) = &s.repeats {
        let _ = writeln!(o);
        o.push_str(&repeats_table(r, l));
    }
    if let Some(server) = &s.server {
        let _ = writeln!(o);
        o.push_str(&super::server::block(server, &s.metrics, l));
    }
    for w in &s.warnings {
        let _ = writeln!(o, "\n{}{}", l.pick("warning: ", "警告："), w.get(l));
    }
    o
}

/// The sessions line and a row a turn: requests, TTFT, prompt tokens and cache hits against the
/// turn show what the conversation so far and a prefix cache do.
fn sessions_table(s: &Sessions, l: Lang) -> String {
    let mut o = String::new();
    let (done, turns) = (count(s.completed), s.turns);
    said(
        &mut o,
        l,
        ("sessions", "会话"),
        l.pick(
            format!("{done} completed every one of their {turns} turns"),
            format!("{done} 个会话完成全部 {turns} 轮"),
        ),
    );
    if let Some(d) = &s.duration_ms {
        let (p50, p90, max) = (ms(d.p50), ms(d.p90), ms(d.max));
        said(
            &mut o,
            l,
            ("duration", "时长"),
            l.pick(
                format!("p50 {p50}  p90 {p90}  max {max} (first send to last end, think time included)"),
                format!("p50 {p50}  p90 {p90}  max {max}（首轮发送至末轮结束，含思考时间）"),
            ),
        );
    }
    let ended = s.turns_completed.iter().rev().map(|t| {
        let n = count(t.sessions);
        l.pick(format!("{n} after {} turns", t.turns), format!("{} 轮后 {n} 个", t.turns))
    });
    said(&mut o, l, ("ended", "结束"), ended.collect::<Vec<_>>().join(l.pick(", ", "，")));
    let head = [
        l.pick("turn", "轮次"),
        l.pick("requests", "请求"),
        "ok",
        "TTFT p50",
        "TTFT p99",
        l.pick("input tokens", "输入 token"),
        l.pick("cache hits", "缓存命中"),
    ];
    let line = |cells: [String; 7]| columns(&cells, &[6, 9, 6, 10, 10, 13, 11]);
    let _ = writeln!(o, "{}", line(head.map(String::from)));
    for t in &s.by_turn {
        let _ = writeln!(
            o,
            "{}",
            line([
                t.turn.to_string(),
                count(t.requests),
                count(t.ok),
                opt_ms(t.ttft_p50_ms),
                opt_ms(t.ttft_p99_ms),
                t.input_tokens_mean.map_or_else(|| "-".into(), number),
                percent(t.cache_hit_share),
            ])
        );
    }
    o
}

/// The totals line: every measured request by its end, the `--warmup` requests beside them
/// when there was a warm-up, and what cut the cancelled ones: the interrupt, the `--duration`
/// deadline, or nothing named when the run had no deadline (a `-n` run, a rebuilt summary).
fn totals(s: &Summary, l: Lang) -> String {
    let r = &s.requests;
    let (total, ok, failed, cancelled) = (count(r.total), count(r.ok), count(r.failed), count(r.cancelled));
    let warmed = r.warmup > 0 || !s.config["warmup_s"].is_null() || !s.config["warmup_requests"].is_null();
    let warmup = match warmed {
        false => String::new(),
        true => {
            l.pick(format!(" (+{} warm-up)", count(r.warmup)), format!("（另有预热 {}）", count(r.warmup)))
        }
    };
    let by = if s.interrupted {
        l.pick(" by the interrupt", "（因中断）")
    } else if s.config["duration_s"].is_number() {
        l.pick(" at the deadline", "（截止时）")
    } else {
        ""
    };
    let stalled = match r.stalled {
        0 => String::new(),
        n => l.pick(format!(" ({} stalled)", count(n)), format!("（其中停滞 {}）", count(n))),
    };
    let abandoned = match r.abandoned {
        0 => String::new(),
        n => l.pick(
            format!(" · {} abandoned on purpose (--cancel)", count(n)),
            format!(" · 主动放弃 {}（--cancel）", count(n)),
        ),
    };
    l.pick(
        format!("{total} total{warmup} · {ok} ok · {failed} failed · {cancelled} cancelled{by}{stalled}{abandoned}"),
        format!("共 {total}{warmup} · 成功 {ok} · 失败 {failed} · 取消 {cancelled}{by}{stalled}{abandoned}"),
    )
}

/// The throughput line; an open loop (`--rate`) puts the rate it offered beside the rate it
/// achieved (successful requests a second), so a server that fell behind shows at once.
fn throughput(s: &Summary, l: Lang) -> String {
    let (req_s, tok_s) = (rate(s.throughput.requests_per_s), rate(s.throughput.output_tokens_per_s));
    let requests = match s.config["rate"].as_f64() {
        Some(offered) => {
            let offered = rate(offered);
            l.pick(
                format!("offered {offered} req/s · achieved {req_s} req/s"),
                format!("目标 {offered} req/s · 实际 {req_s} req/s"),
            )
        }
        None => format!("{req_s} req/s"),
    };
    let time = elapsed(s, l);
    l.pick(
        format!("{requests} · {tok_s} output tok/s · {time}"),
        format!("{requests} · 输出 {tok_s} tok/s · {time}"),
    )
}

/// The run's time, as the throughput line ends. An interrupted run counts to the interrupt, when
/// the load stopped; the grace period in-flight requests had after it is named apart, and so is
/// the span the rates divide by (the measured window, to the last request's end: the requests
/// that ended in the grace period count, so the time they took counts too). A warm-up's time is
/// in the wall time, not in the rates' span.
/// `--repeat`: each headline number's mean, coefficient of variation and 95 % interval across
/// the runs, under a line that says what the summary above is.
fn repeats_table(r: &crate::summary::Repeats, l: Lang) -> String {
    let mut o = String::new();
    let n = r.runs;
    let _ = writeln!(
        o,
        "  {}",
        l.pick(
            format!("repeats: {n} runs; the summary above pools every run's requests, and across the runs each number's"),
            format!("重复：共 {n} 次运行；上方汇总合并了每次运行的请求，下表为各数字在各次运行间的"),
        )
    );
    let widths = [16, 12, 8, 24];
    let head = [l.pick("metric", "指标"), l.pick("mean", "平均"), "CV", l.pick("95% interval", "95% 区间")];
    let _ = writeln!(o, "{}", columns(&head.map(String::from), &widths));
    for m in &r.metrics {
        let (name, unit) = repeated_metric(m.metric, l);
        let cv = m.cv.map_or_else(|| "-".to_string(), |c| percent(Some(c)));
        let interval =
            m.ci95.map_or_else(|| "-".to_string(), |[lo, hi]| format!("{} – {}", unit(lo), unit(hi)));
        let mean = m.mean.map_or_else(|| "-".to_string(), unit);
        let _ = writeln!(o, "{}", columns(&[name.to_string(), mean, cv, interval], &widths));
    }
    o
}

/// A headline number of `--repeat` as people read it: its label (`ttft_p50_ms` → `TTFT p50`)
/// and how its values are written (a rate, a share, a time), for the summary and the report.
pub fn repeated_metric(key: &'static str, l: Lang) -> (&'static str, fn(f64) -> String) {
    match key {
        "requests_per_s" => ("req/s", rate),
        "output_tokens_per_s" => ("output tok/s", rate),
        "success_rate" => ("success", |v| percent(Some(v))),
        "steady_requests_per_s" => (l.pick("steady req/s", "稳态 req/s"), rate),
        "ttft_p50_ms" => ("TTFT p50", ms),
        "ttft_p99_ms" => ("TTFT p99", ms),
        "itl_p50_ms" => ("ITL p50", ms),
        "itl_p99_ms" => ("ITL p99", ms),
        "tpot_p50_ms" => ("TPOT p50", ms),
        "e2e_p50_ms" => ("E2E p50", ms),
        "e2e_p99_ms" => ("E2E p99", ms),
        other => (other, ms),
    }
}

/// The steady state's line: its bounds, throughput and the latencies of the requests inside it.
fn steady(st: &crate::summary::SteadyState, l: Lang) -> String {
    let (from, to, long) = (seconds(st.start_s), seconds(st.end_s), seconds(st.duration_s));
    let p = |d: &Option<crate::stats::Distribution>| (opt_ms(d.map(|d| d.p50)), opt_ms(d.map(|d| d.p99)));
    let ((t50, t99), (i50, i99)) = (p(&st.ttft_ms), p(&st.itl_ms));
    let (rps, tps) = (rate(st.requests_per_s), rate(st.output_tokens_per_s));
    l.pick(
        format!("{from} → {to} ({long}): {rps} req/s · {tps} output tok/s · TTFT p50 {t50} p99 {t99} · ITL p50 {i50} p99 {i99} (ramp-up and drain left out)"),
        format!("{from} → {to}（{long}）：{rps} req/s · 输出 {tps} tok/s · TTFT p50 {t50} p99 {t99} · ITL p50 {i50} p99 {i99}（不含爬坡与收尾）"),
    )
}

fn elapsed(s: &Summary, l: Lang) -> String {
    let (wall, window) = (seconds(s.wall_s), seconds(s.window_s));
    if let Some(after) = s.interrupted_after_s {
        let grace = seconds((s.wall_s - after).max(0.0));
        let after = seconds(after);
        return l.pick(
            format!("{after} to the interrupt (+{grace} grace for in-flight requests; rates over {window}, to the last one's end)"),
            format!("至中断 {after}（另有 {grace} 宽限期等待进行中的请求；速率按至最后一个请求结束的 {window} 计）"),
        );
    }
    if s.requests.warmup > 0 && wall != window {
        return l.pick(
            format!("wall {wall} (rates over the {window} after the warm-up)"),
            format!("总耗时 {wall}（速率按预热后的 {window} 计）"),
        );
    }
    l.pick(format!("wall {wall}"), format!("总耗时 {wall}"))
}

/// The goodput lines against `--slo` (none without it): good requests per second, the
/// attainment with its 95 % interval and the counts behind it, then each objective's counts.
/// The objectives are shown as given (`ttft<=1s`): they are the flag's words.
fn goodput(s: &Summary, l: Lang) -> String {
    let Some(g) = &s.goodput else { return String::new() };
    let ci = match g.attainment_ci.as_deref() {
        Some([lo, hi]) => {
            let (lo, hi) = (percent(Some(*lo)), percent(Some(*hi)));
            l.pick(format!(" (95% CI {lo}–{hi})"), format!("（95% 置信区间 {lo}–{hi}）"))
        }
        _ => String::new(),
    };
    let (req_s, attainment) = (rate(g.requests_per_s), percent(g.attainment));
    let (good, determined, failed) = (count(g.conforming), count(g.determined), count(g.failed));
    let (undetermined, slo) = (count(g.judged - g.determined), &g.slo);
    let mut o = format!(
        "{}{}\n",
        label(l, ("goodput", "有效吞吐")),
        l.pick(
            format!("{req_s} req/s · attainment {attainment}{ci} · {good} good of {determined} determined · {failed} failed · {undetermined} undetermined · slo {slo}"),
            format!("{req_s} req/s · 达成率 {attainment}{ci} · 已判定 {determined} 个中达标 {good} 个 · 失败 {failed} · 无法判定 {undetermined} · slo {slo}"),
        )
    );
    let width = g.by_objective.iter().map(|b| display_width(&b.objective)).max().unwrap_or(0);
    for b in &g.by_objective {
        let (met, missed, undetermined) = (count(b.met), count(b.missed), count(b.undetermined));
        let _ = writeln!(
            o,
            "    {}  {}",
            pad_right(&b.objective, width),
            l.pick(
                format!("{met} met · {missed} missed · {undetermined} undetermined"),
                format!("满足 {met} · 未满足 {missed} · 无法判定 {undetermined}"),
            )
        );
    }
    o
}

/// `llmload summary · API · URL`, and `· rebuilt from FILES` for `llmload report`; a rebuilt
/// summary names the API and URL only when its records carried them.
fn title(config: &Value, l: Lang) -> String {
    let mut parts = vec![l.pick("llmload summary", "llmload 汇总").to_string()];
    parts.extend(["api", "url"].iter().filter_map(|k| config[k].as_str().map(String::from)));
    if let Some(files) = config["source"].as_array() {
        let files: Vec<&str> = files.iter().filter_map(Value::as_str).collect();
        let files = files.join(", ");
        parts.push(l.pick(format!("rebuilt from {files}"), format!("由 {files} 重建")));
    }
    parts.join(" · ")
}

/// The client's own CPU and memory; a summary rebuilt from records never had them.
fn client(s: &Summary, l: Lang) -> String {
    match (s.client.cpu_s, s.client.peak_rss_mb) {
        (Some(cpu_s), Some(mb)) => l.pick(
            format!("{cpu_s:.2} CPU-s · peak memory {mb:.1} MiB"),
            format!("{cpu_s:.2} CPU-s · 峰值内存 {mb:.1} MiB"),
        ),
        _ => l.pick("not recorded (rebuilt from records)", "未记录（由记录重建）").into(),
    }
}

/// What each verdict means, in both languages (the HTML report says the same).
pub fn verdict_meaning(v: Option<Verdict>) -> (&'static str, &'static str) {
    match v {
        Some(Verdict::Ok) => {
            ("the client kept up: the numbers are the server's", "客户端跟得上：这些数字反映的是服务器")
        }
        Some(Verdict::Degraded) => (
            "the client added delays of its own; read the latencies with care",
            "客户端自身引入了延迟；解读延迟时请谨慎",
        ),
        Some(Verdict::ClientBound) => (
            "the client, not the server, set these numbers; do not read them as the server's",
            "这些数字受限于客户端而非服务器；不要把它们当作服务器的表现",
        ),
        None => (
            "rebuilt from records: the client's own use was not recorded",
            "由记录重建：未记录客户端自身的资源使用",
        ),
    }
}

/// The verdict's lines when it is not `ok` (or not judged): what it means, then each reason,
/// which says what to do.
fn verdict(c: &ClientUsage, l: Lang) -> String {
    let word = match c.verdict {
        Some(v @ (Verdict::Degraded | Verdict::ClientBound)) => v.name(),
        Some(Verdict::Ok) | None => return String::new(),
    };
    let meaning = l.of(verdict_meaning(c.verdict));
    let colon = l.pick(": ", "：");
    let mut o = format!("{}{word}{colon}{meaning}\n", label(l, ("verdict", "判定")));
    for reason in &c.reasons {
        let _ = writeln!(o, "    - {}", reason.get(l));
    }
    o
}

/// A line on the machine when other work kept it busy during the run (whatever the verdict: a
/// server on the same machine shares those cores too).
fn machine(c: &ClientUsage, l: Lang) -> String {
    busy_machine(c, l).map_or(String::new(), |text| format!("{}{text}\n", label(l, ("machine", "本机"))))
}

/// What a busy machine's line says, in `l`; `None` when the machine was not busy or is not
/// known. The HTML report says the same.
pub fn busy_machine(c: &ClientUsage, l: Lang) -> Option<String> {
    let m = c.machine.filter(|m| m.busy)?;
    let cores = m.cpus;
    let others = m.others_cores;
    let core_s = if cores == 1 { "core" } else { "cores" };
    let mut en =
        format!("busy with other work, which used {others:.2} of the {cores} {core_s} the client may run on");
    let mut zh = format!("忙于其他工作：占用了客户端可用的 {cores} 个核中的 {others:.2} 个");
    if m.steal >= 0.01 {
        let steal = percent(Some(m.steal));
        let _ = write!(en, " · steal {steal}");
        let _ = write!(zh, " · 被虚拟机监控程序占用 {steal}");
    }
    if let Some(load) = m.load_1m {
        let _ = write!(en, " · load average {load:.1}");
        let _ = write!(zh, " · 平均负载 {load:.1}");
    }
    Some(l.pick(en, zh))
}

/// The metric table's rows: label and unit in both languages, the distribution, and whether
/// an empty row is left out (only some APIs report the server's own numbers).
type MetricRow<'a> = ((&'static str, &'static str), Option<&'a Distribution>, bool);

fn metric_rows(m: &Metrics) -> [MetricRow<'_>; 16] {
    [
        (("TTFB (ms)", "TTFB (ms)"), m.ttfb_ms.as_ref(), false),
        (("TTFE (ms)", "TTFE (ms)"), m.ttfe_ms.as_ref(), false),
        (("TTFT (ms)", "TTFT 首字 (ms)"), m.ttft_ms.as_ref(), false),
        (("TTFA (ms)", "TTFA 首答 (ms)"), m.ttfa_ms.as_ref(), false),
        (("ITL (ms)", "ITL 字间 (ms)"), m.itl_ms.as_ref(), false),
        (("TPOT (ms)", "TPOT (ms)"), m.tpot_ms.as_ref(), false),
        (("E2E (ms)", "E2E 端到端 (ms)"), m.e2e_ms.as_ref(), false),
        (("input tokens", "输入 token"), m.input_tokens.as_ref(), false),
        (("output tokens", "输出 token"), m.output_tokens.as_ref(), false),
        (("decode tok/s", "解码 tok/s"), m.decode_tokens_per_s.as_ref(), false),
        (("tokens/event", "token/事件"), m.tokens_per_event.as_ref(), false),
        (("ITL per token (ms)", "每 token ITL (ms)"), m.itl_per_token_ms.as_ref(), false),
        (("server latency (ms)", "服务器延迟 (ms)"), m.server_latency_ms.as_ref(), true),
        (("server TTFT (ms)", "服务器 TTFT (ms)"), m.server_ttft_ms.as_ref(), true),
        (("TTFT sched (ms)", "计划起 TTFT (ms)"), beyond_noise(&m.ttft_sched_ms, &m.ttft_ms), true),
        (("E2E sched (ms)", "计划起 E2E (ms)"), beyond_noise(&m.e2e_sched_ms, &m.e2e_ms), true),
    ]
}

/// A latency from the intended start, when it tells more than the latency from the send: its
/// median or p99 is more than 1 ms and 1 % later (a client or a full worker pool held requests
/// back). Otherwise the row would repeat its neighbour. The HTML report shows the same rows by
/// the same rule.
pub fn beyond_noise<'a>(
    sched: &'a Option<Distribution>,
    sent: &Option<Distribution>,
) -> Option<&'a Distribution> {
    let (s, t) = (sched.as_ref()?, sent.as_ref()?);
    let later = |a: f64, b: f64| a - b > 1.0 && a > b * 1.01;
    (later(s.p50, t.p50) || later(s.p99, t.p99)).then_some(s)
}

/// A text in English and Chinese.
type Pair = (&'static str, &'static str);

/// The rows that fold into their neighbour above when both hold the same distribution, and the
/// label of the folded row: an API without reasoning sends its first answer with its first text
/// (TTFA = TTFT), and one whose first event comes with the headers has TTFE = TTFB.
const FOLDS: [(Pair, Pair); 2] = [
    (("TTFE (ms)", "TTFE (ms)"), ("TTFB = TTFE (ms)", "TTFB = TTFE (ms)")),
    (("TTFA (ms)", "TTFA 首答 (ms)"), ("TTFT = TTFA (ms)", "TTFT = TTFA (ms)")),
];

/// The metric rows with identical neighbours folded into one (`FOLDS`): equal in every
/// statistic, count included, the two rows would print the same numbers twice.
fn folded(m: &Metrics) -> Vec<MetricRow<'_>> {
    let mut out: Vec<MetricRow<'_>> = Vec::new();
    for row in metric_rows(m) {
        let fold = FOLDS.iter().find(|(label, _)| *label == row.0).map(|(_, both)| *both);
        match (fold, out.last_mut()) {
            (Some(both), Some(above)) if above.1.is_some() && above.1 == row.1 => above.0 = both,
            _ => out.push(row),
        }
    }
    out
}

/// The percentile table: the label column fits the longest label of any row (shown, folded or
/// not), so every row lines up with the header, by display width.
fn metric_table(m: &Metrics, l: Lang) -> String {
    let all = metric_rows(m);
    let labels = all.iter().map(|(label, ..)| *label).chain(FOLDS.iter().map(|(_, both)| *both));
    let label_width = 2 + labels.map(|label| display_width(l.of(label))).max().unwrap_or(0);
    let rows = folded(m);
    let mut head = pad_right(&format!("  {}", l.pick("metric", "指标")), label_width);
    for c in stat_columns(rows.iter().find_map(|r| r.1), l) {
        head.push_str(&pad_left(&c, STAT_WIDTH));
    }
    let mut o = format!("{head}\n");
    for (label, dist, optional) in rows {
        if optional && dist.is_none() {
            continue;
        }
        let mut line = pad_right(&format!("  {}", l.of(label)), label_width);
        match dist {
            None => line.push_str(&pad_left("0", STAT_WIDTH)),
            Some(d) => {
                line.push_str(&pad_left(&count(d.count), STAT_WIDTH));
                for v in stat_values(d) {
                    line.push_str(&pad_left(&number(v), STAT_WIDTH));
                }
            }
        }
        let _ = writeln!(o, "{line}");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dist(count: u64, base: f64) -> Option<Distribution> {
        Some(Distribution {
            count,
            mean: base * 1.5,
            min: base,
            p50: base * 1.4,
            p90: base * 2.0,
            p95: base * 2.5,
            p99: base * 3.0,
            max: base * 4.0,
            asked: None,
        })
    }

    fn metrics() -> Metrics {
        Metrics {
            ttfb_ms: dist(20, 1.25),
            ttfe_ms: dist(20, 2.5),
            ttft_ms: dist(20, 101.0),
            ttfa_ms: dist(20, 101.0),
            itl_ms: dist(1_180, 10.04),
            tpot_ms: dist(20, 10.0),
            e2e_ms: dist(20, 700.0),
            input_tokens: dist(20, 12.0),
            output_tokens: dist(20, 60.0),
            decode_tokens_per_s: dist(20, 99.6),
            tokens_per_event: None,
            itl_per_token_ms: None,
            server_latency_ms: dist(20, 2_900.0),
            server_ttft_ms: None,
            ttft_sched_ms: dist(20, 101.0),
            e2e_sched_ms: dist(20, 700.0),
            start_delay_ms: dist(20, 0.01),
        }
    }

    #[test]
    fn every_metric_row_lines_up_with_the_header() {
        let table = metric_table(&metrics(), Lang::En);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines,
            [
                "  metric                  count      mean       min       p50       p90       p95       p99       max",
                "  TTFB (ms)                  20      1.88      1.25      1.75      2.50      3.12      3.75      5.00",
                "  TTFE (ms)                  20      3.75      2.50      3.50      5.00      6.25      7.50      10.0",
                "  TTFT = TTFA (ms)           20     151.5     101.0     141.4     202.0     252.5     303.0     404.0",
                "  ITL (ms)                1,180      15.1      10.0      14.1      20.1      25.1      30.1      40.2",
                "  TPOT (ms)                  20      15.0      10.0      14.0      20.0      25.0      30.0      40.0",
                "  E2E (ms)                   20   1,050.0     700.0     980.0   1,400.0   1,750.0   2,100.0   2,800.0",
                "  input tokens               20      18.0      12.0      16.8      24.0      30.0      36.0      48.0",
                "  output tokens              20      90.0      60.0      84.0     120.0     150.0     180.0     240.0",
                "  decode tok/s               20     149.4      99.6     139.4     199.2     249.0     298.8     398.4",
                "  tokens/event                0",
                "  ITL per token (ms)          0",
                "  server latency (ms)        20   4,350.0   2,900.0   4,060.0   5,800.0   7,250.0   8,700.0    11,600",
            ]
        );
        // The label column is as wide as the longest label; after it every cell, header's
        // included, is right-aligned in its own STAT_WIDTH columns with a space before it.
        let label_width = display_width("  server latency (ms)");
        for line in &lines {
            let cells = &line[label_width..];
            assert_eq!(cells.len() % STAT_WIDTH, 0, "{line:?}");
            for cell in cells.as_bytes().chunks(STAT_WIDTH) {
                assert!(cell[0] == b' ' && cell[STAT_WIDTH - 1] != b' ', "{line:?}");
            }
        }
    }

    #[test]
    fn the_chinese_metric_table_lines_up_by_display_width() {
        let zh = metric_table(&metrics(), Lang::Zh);
        let en = metric_table(&metrics(), Lang::En);
        let lines: Vec<&str> = zh.lines().collect();
        assert_eq!(
            lines[0],
            "  指标                   数量      均值      最小       p50       p90       p95       p99      最大"
        );
        assert_eq!(
            lines[3],
            "  TTFT = TTFA (ms)         20     151.5     101.0     141.4     202.0     252.5     303.0     404.0"
        );
        // Full rows are as wide as the header on a terminal, and hold the English table's numbers.
        for (z, e) in lines.iter().zip(en.lines()).skip(1).filter(|(z, _)| z.split_whitespace().count() > 8) {
            assert_eq!(display_width(z), display_width(lines[0]), "{z:?}");
            let numbers = |l: &str| l.split_whitespace().rev().take(8).map(String::from).collect::<Vec<_>>();
            assert_eq!(numbers(z), numbers(e));
        }
    }

    #[test]
    fn identical_rows_fold_into_one_in_both_languages() {
        // The label and the count of the row that starts with `start`; "" when there is none.
        let row = |table: &str, start: &str| {
            let line = table.lines().find(|l| l.starts_with(start)).unwrap_or_default();
            line.split("  ").map(str::trim).filter(|c| !c.is_empty()).take(2).collect::<Vec<_>>().join("|")
        };
        // TTFE = TTFB and TTFA = TTFT: two rows, each named for both.
        let same = Metrics { ttfe_ms: dist(20, 1.25), ..metrics() };
        let (en, zh) = (metric_table(&same, Lang::En), metric_table(&same, Lang::Zh));
        assert_eq!(en.lines().count(), 12, "{en}");
        assert_eq!(row(&en, "  TTFB"), "TTFB = TTFE (ms)|20");
        assert_eq!(row(&en, "  TTFT"), "TTFT = TTFA (ms)|20");
        assert_eq!(row(&en, "  TTFE"), "");
        assert_eq!(row(&en, "  TTFA"), "");
        assert_eq!(row(&zh, "  TTFB"), "TTFB = TTFE (ms)|20");
        assert_eq!(row(&zh, "  TTFT"), "TTFT = TTFA (ms)|20");
        assert_eq!(row(&zh, "  TTFA"), "");
        // One statistic apart (a reasoning model answers after it thinks), each keeps its row.
        let apart =
            Metrics { ttfa_ms: dist(20, 101.0).map(|d| Distribution { max: 405.0, ..d }), ..metrics() };
        let (en, zh) = (metric_table(&apart, Lang::En), metric_table(&apart, Lang::Zh));
        assert_eq!(row(&en, "  TTFT"), "TTFT (ms)|20");
        assert_eq!(row(&en, "  TTFA"), "TTFA (ms)|20");
        assert_eq!(row(&zh, "  TTFT"), "TTFT 首字 (ms)|20");
        assert_eq!(row(&zh, "  TTFA"), "TTFA 首答 (ms)|20");
        // Two empty rows stay two: nothing was measured, so nothing is said to be equal.
        let empty = Metrics { ttft_ms: None, ttfa_ms: None, ..metrics() };
        let en = metric_table(&empty, Lang::En);
        assert_eq!(row(&en, "  TTFT"), "TTFT (ms)|0");
        assert_eq!(row(&en, "  TTFA"), "TTFA (ms)|0");
    }

    /// A live run's summary with `config` as its config.
    fn summary(config: Value) -> Summary {
        let run = crate::summary::RunOutput::of(Default::default(), 2.0);
        Summary::new(config, &run, None)
    }

    #[test]
    fn the_totals_name_the_warm_up_and_what_cut_the_cancelled() {
        let mut s = summary(json!({"duration_s": 20.0, "requests": null, "warmup_requests": 4}));
        (s.requests.total, s.requests.ok, s.requests.warmup, s.requests.cancelled) = (16, 14, 4, 2);
        assert_eq!(
            totals(&s, Lang::En),
            "16 total (+4 warm-up) · 14 ok · 0 failed · 2 cancelled at the deadline"
        );
        assert_eq!(totals(&s, Lang::Zh), "共 16（另有预热 4） · 成功 14 · 失败 0 · 取消 2（截止时）");
        // A -n run has no deadline; an interrupt is named when it cut them.
        let mut s =
            summary(json!({"duration_s": null, "requests": 16, "warmup_s": null, "warmup_requests": null}));
        (s.requests.total, s.requests.ok) = (16, 16);
        assert_eq!(totals(&s, Lang::En), "16 total · 16 ok · 0 failed · 0 cancelled");
        assert_eq!(totals(&s, Lang::Zh), "共 16 · 成功 16 · 失败 0 · 取消 0");
        (s.interrupted, s.requests.ok, s.requests.cancelled, s.requests.stalled) = (true, 13, 3, 1);
        assert_eq!(
            totals(&s, Lang::En),
            "16 total · 13 ok · 0 failed · 3 cancelled by the interrupt (1 stalled)"
        );
        assert_eq!(totals(&s, Lang::Zh), "共 16 · 成功 13 · 失败 0 · 取消 3（因中断）（其中停滞 1）");
        // A warm-up given as a time that finished no request still says so.
        let s = summary(json!({"duration_s": 10.0, "warmup_s": 2.0, "warmup_requests": null}));
        assert_eq!(
            totals(&s, Lang::En),
            "0 total (+0 warm-up) · 0 ok · 0 failed · 0 cancelled at the deadline"
        );
    }

    #[test]
    fn an_open_loop_shows_the_rate_it_offered_beside_the_rate_it_achieved() {
        let mut s = summary(json!({"rate": 10.0}));
        (s.throughput.requests_per_s, s.throughput.output_tokens_per_s, s.wall_s) = (9.84, 590.4, 10.25);
        assert_eq!(
            throughput(&s, Lang::En),
            "offered 10.0 req/s · achieved 9.8 req/s · 590.4 output tok/s · wall 10.25s"
        );
        assert_eq!(
            throughput(&s, Lang::Zh),
            "目标 10.0 req/s · 实际 9.8 req/s · 输出 590.4 tok/s · 总耗时 10.25s"
        );
        s.config = json!({"rate": null, "concurrency": 4});
        assert_eq!(throughput(&s, Lang::En), "9.8 req/s · 590.4 output tok/s · wall 10.25s");
        assert_eq!(throughput(&s, Lang::Zh), "9.8 req/s · 输出 590.4 tok/s · 总耗时 10.25s");
    }

    #[test]
    fn an_interrupted_run_counts_its_time_to_the_interrupt_and_names_the_grace_apart() {
        let mut s = summary(json!({"concurrency": 4}));
        (s.throughput.requests_per_s, s.throughput.output_tokens_per_s) = (9.84, 590.4);
        (s.wall_s, s.window_s, s.interrupted, s.interrupted_after_s) = (4.43, 4.41, true, Some(3.0));
        assert_eq!(
            throughput(&s, Lang::En),
            "9.8 req/s · 590.4 output tok/s · 3.00s to the interrupt (+1.43s grace for in-flight requests; rates over 4.41s, to the last one's end)"
        );
        assert_eq!(
            throughput(&s, Lang::Zh),
            "9.8 req/s · 输出 590.4 tok/s · 至中断 3.00s（另有 1.43s 宽限期等待进行中的请求；速率按至最后一个请求结束的 4.41s 计）"
        );
        // A warm-up's time is the wall's, not the rates'.
        (s.interrupted, s.interrupted_after_s, s.requests.warmup) = (false, None, 12);
        (s.wall_s, s.window_s) = (5.0, 2.81);
        assert_eq!(
            throughput(&s, Lang::En),
            "9.8 req/s · 590.4 output tok/s · wall 5.00s (rates over the 2.81s after the warm-up)"
        );
        assert_eq!(
            throughput(&s, Lang::Zh),
            "9.8 req/s · 输出 590.4 tok/s · 总耗时 5.00s（速率按预热后的 2.81s 计）"
        );
    }

    #[test]
    fn the_cache_line_shows_only_when_usage_reported_the_cache() {
        let mut s = summary(json!({}));
        assert!(!render(&s, Lang::En).contains("cache hits"));
        assert!(!render(&s, Lang::Zh).contains("缓存命中"));
        (s.tokens.cached_input, s.tokens.cache_hit_share) = (Some(1_024), Some(0.8));
        let line = |l| render(&s, l).lines().find(|x| x.contains("1,024")).unwrap_or_default().to_string();
        assert_eq!(
            line(Lang::En),
            "  cache hits  1,024 input tokens read from the server's cache: 80.0% of the input of the requests whose usage reported it"
        );
        assert_eq!(
            line(Lang::Zh),
            "  缓存命中    1,024 个输入 token 命中服务器缓存：占报告缓存的请求输入的 80.0%"
        );
    }

    #[test]
    fn the_goodput_lines_are_in_the_summarys_language() {
        use crate::summary::{Goodput, ObjectiveGoodput};
        let mut s = summary(json!({}));
        let objective = |o: &str, met, missed, undetermined| ObjectiveGoodput {
            objective: o.into(),
            met,
            missed,
            undetermined,
        };
        s.goodput = Some(Goodput {
            slo: "ttft<=1s,tpot<50ms".into(),
            requests_per_s: 2.74,
            attainment: Some(0.9),
            attainment_ci: Some(vec![0.596, 0.982]),
            judged: 11,
            determined: 10,
            conforming: 9,
            failed: 1,
            by_objective: vec![objective("ttft<=1s", 10, 0, 0), objective("tpot<50ms", 9, 0, 1)],
        });
        assert_eq!(
            goodput(&s, Lang::En),
            "  goodput     2.7 req/s · attainment 90.0% (95% CI 59.6%–98.2%) · 9 good of 10 determined · 1 failed · 1 undetermined · slo ttft<=1s,tpot<50ms\n    ttft<=1s   10 met · 0 missed · 0 undetermined\n    tpot<50ms  9 met · 0 missed · 1 undetermined\n"
        );
        assert_eq!(
            goodput(&s, Lang::Zh),
            "  有效吞吐    2.7 req/s · 达成率 90.0%（95% 置信区间 59.6%–98.2%） · 已判定 10 个中达标 9 个 · 失败 1 · 无法判定 1 · slo ttft<=1s,tpot<50ms\n    ttft<=1s   满足 10 · 未满足 0 · 无法判定 0\n    tpot<50ms  满足 9 · 未满足 0 · 无法判定 1\n"
        );
        s.goodput = None;
        assert_eq!(goodput(&s, Lang::Zh), "");
    }

    #[test]
    fn the_verdict_shows_when_it_is_not_ok() {
        let client = |verdict, reasons: &[&str]| ClientUsage {
            cpu_s: Some(1.0),
            peak_rss_mb: Some(8.0),
            clock: crate::summary::Clock::Kernel,
            read_lag_ms: None,
            gaps_read_together: None,
            send_lag_ms: None,
            start_lag_ms: None,
            connect_ms: None,
            reconnects: 0,
            verdict,
            cause: None,
            reasons: reasons.iter().map(|&r| r.into()).collect(),
            machine: None,
        };
        assert_eq!(verdict(&client(Some(Verdict::Ok), &[]), Lang::En), "");
        assert_eq!(verdict(&client(None, &[]), Lang::En), "");
        assert_eq!(
            verdict(
                &client(Some(Verdict::ClientBound), &["it was throttled; lower -c", "it was busy; lower -c"]),
                Lang::En
            ),
            "  verdict     client-bound: the client, not the server, set these numbers; do not read them as the server's\n    - it was throttled; lower -c\n    - it was busy; lower -c\n"
        );
        assert!(
            verdict(&client(Some(Verdict::Degraded), &["r"]), Lang::En)
                .starts_with("  verdict     degraded: ")
        );
    }

    #[test]
    fn a_busy_machine_is_said_whatever_the_verdict() {
        use crate::summary::verdict::Machine;
        let mut c = ClientUsage {
            cpu_s: Some(0.1),
            peak_rss_mb: Some(8.0),
            clock: crate::summary::Clock::Kernel,
            read_lag_ms: None,
            gaps_read_together: None,
            send_lag_ms: None,
            start_lag_ms: None,
            connect_ms: None,
            reconnects: 0,
            verdict: Some(Verdict::Ok),
            cause: None,
            reasons: vec![],
            machine: Some(Machine {
                cpus: 2,
                others_cores: 1.934,
                steal: 0.0,
                load_1m: Some(4.24),
                busy: true,
            }),
        };
        assert_eq!(
            machine(&c, Lang::En),
            "  machine     busy with other work, which used 1.93 of the 2 cores the client may run on · load average 4.2\n"
        );
        assert_eq!(
            machine(&c, Lang::Zh),
            "  本机        忙于其他工作：占用了客户端可用的 2 个核中的 1.93 个 · 平均负载 4.2\n"
        );
        c.machine = Some(Machine { cpus: 1, others_cores: 0.9, steal: 0.0, load_1m: None, busy: true });
        assert_eq!(
            machine(&c, Lang::En),
            "  machine     busy with other work, which used 0.90 of the 1 core the client may run on\n"
        );
        c.machine = Some(Machine { cpus: 4, others_cores: 0.5, steal: 0.2, load_1m: None, busy: true });
        assert_eq!(
            machine(&c, Lang::En),
            "  machine     busy with other work, which used 0.50 of the 4 cores the client may run on · steal 20.0%\n"
        );
        // A quiet machine, or one not known, is not mentioned.
        c.machine = Some(Machine { cpus: 4, others_cores: 0.5, steal: 0.0, load_1m: None, busy: false });
        assert_eq!(machine(&c, Lang::En), "");
        c.machine = None;
        assert_eq!(machine(&c, Lang::En), "");
    }

    #[test]
    fn the_title_names_the_api_the_url_and_the_records() {
        let live = json!({"api": "dify-chat", "url": "http://h:1/v1/chat-messages", "model": "m"});
        assert_eq!(title(&live, Lang::En), "llmload summary · dify-chat · http://h:1/v1/chat-messages");
        let rebuilt = json!({"source": ["a.jsonl", "b.jsonl"], "api": "openai-chat", "url": "http://h:2/v1/chat/completions"});
        assert_eq!(
            title(&rebuilt, Lang::En),
            "llmload summary · openai-chat · http://h:2/v1/chat/completions · rebuilt from a.jsonl, b.jsonl"
        );
        assert_eq!(
            title(&json!({"source": ["old.jsonl"]}), Lang::En),
            "llmload summary · rebuilt from old.jsonl"
        );
    }
}
