//! The summary's server block (`--server-metrics`): what the server's own metrics say, set
//! beside the client's numbers: its load, its cache, the token accounting, whether it let go of
//! the run's requests, where the client's TTFT went, and its latency percentiles beside ours.

use super::format::{columns, count, opt_ms, percent};
use crate::lang::Lang;
use crate::stats::Distribution;
use crate::summary::Metrics;
use crate::summary::server::{Bounded, Server, ServerDistribution};
use std::fmt::Write;

/// The block, under a `server` heading, for `s` beside the client's metrics `m`.
pub fn block(s: &Server, m: &Metrics, l: Lang) -> String {
    let mut o = String::new();
    let pages = match s.pages.len() {
        1 => String::new(),
        n => l.pick(format!(" · {n} pages"), format!(" · {n} 个页面")),
    };
    let n = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| count(v.round().max(0.0) as u64));
    let _ = writeln!(o, "  {}", l.pick("server (its own metrics)", "服务端（其自身指标）"));
    let (running, waiting) =
        ((n(s.running_max), one(s.running_mean)), (n(s.waiting_max), one(s.waiting_mean)));
    let (kv, preemptions, kind) = (percent(s.kv_use_max), n(s.preemptions), s.kind);
    let load = l.pick(
        format!(
            "{kind}{pages} · running max {} (mean {}) · waiting max {} (mean {}) · KV cache max {kv} · preemptions {preemptions}",
            running.0, running.1, waiting.0, waiting.1
        ),
        format!(
            "{kind}{pages} · 运行中最多 {}（平均 {}）· 等待最多 {}（平均 {}）· KV 缓存最高 {kv} · 抢占 {preemptions}",
            running.0, running.1, waiting.0, waiting.1
        ),
    );
    let _ = writeln!(o, "    {load}");
    if let Some(p) = s.prefix_cache {
        let _ = writeln!(
            o,
            "    {}",
            l.pick(
                format!(
                    "prefix cache: {} of {} prompt tokens looked up were found",
                    percent(p.hit_share),
                    n(Some(p.queries))
                ),
                format!(
                    "前缀缓存：查找的 {} 个提示词 token 中命中 {}",
                    n(Some(p.queries)),
                    percent(p.hit_share)
                ),
            )
        );
    }
    let t = &s.tokens;
    if let (Some(generated), Some(diff)) = (t.generated, t.difference) {
        let (g, r) = (n(Some(generated)), count(t.received));
        let d = if diff.abs() < 0.5 { l.pick("agree", "一致").to_string() } else { format!("{diff:+.0}") };
        let _ = writeln!(
            o,
            "    {}",
            l.pick(
                format!("tokens: the server generated {g}, llmload received {r} ({d})"),
                format!("token：服务器生成 {g}，llmload 收到 {r}（{d}）"),
            )
        );
    }
    if let Some(r) = s.released {
        let waited = super::format::seconds(r.waited_ms / 1e3);
        let line = match r.released {
            true => l.pick(
                format!(
                    "released: every request of the run, {waited} after its end ({} held, as before it)",
                    n(Some(r.after))
                ),
                format!(
                    "释放：运行结束 {waited} 后已释放全部请求（持有 {}，与运行前相同）",
                    n(Some(r.after))
                ),
            ),
            false => l.pick(
                format!(
                    "released: no, {} still held {waited} after the end ({} before the run)",
                    n(Some(r.after)),
                    n(Some(r.before))
                ),
                format!(
                    "释放：否，结束 {waited} 后仍持有 {}（运行前 {}）",
                    n(Some(r.after)),
                    n(Some(r.before))
                ),
            ),
        };
        let _ = writeln!(o, "    {line}");
    }
    if let Some(split) = s.ttft_split {
        let parts = match (split.queue_ms, split.compute_ms) {
            (Some(q), Some(c)) => l.pick(
                format!(
                    "queue {} + compute {} + rest {}",
                    opt_ms(Some(q)),
                    opt_ms(Some(c)),
                    opt_ms(Some(split.rest_ms))
                ),
                format!(
                    "排队 {} + 计算 {} + 其余 {}",
                    opt_ms(Some(q)),
                    opt_ms(Some(c)),
                    opt_ms(Some(split.rest_ms))
                ),
            ),
            _ => l.pick(
                format!("server {} + rest {}", opt_ms(Some(split.server_ms)), opt_ms(Some(split.rest_ms))),
                format!("服务端 {} + 其余 {}", opt_ms(Some(split.server_ms)), opt_ms(Some(split.rest_ms))),
            ),
        };
        let _ = writeln!(
            o,
            "    {}",
            l.pick(
                format!(
                    "TTFT mean {} = {parts} (rest: network, front end, client)",
                    opt_ms(Some(split.client_ms))
                ),
                format!("TTFT 平均 {} = {parts}（其余：网络、前端、客户端）", opt_ms(Some(split.client_ms))),
            )
        );
    }
    let rows = latency_rows(s, m, l);
    if rows.iter().any(|r| r.1.is_some()) {
        let line = |cells: [String; 7]| columns(&cells, &[10, 17, 17, 17, 10, 12, 12]);
        let head = [
            l.pick("server", "服务端").to_string(),
            "p50".into(),
            "p90".into(),
            "p99".into(),
            l.pick("mean", "平均").to_string(),
            l.pick("client p50", "客户端 p50").to_string(),
            l.pick("client p99", "客户端 p99").to_string(),
        ];
        let _ = writeln!(o, "{}", line(head));
        for (name, server, client) in rows {
            let Some(d) = server else { continue };
            let _ = writeln!(
                o,
                "{}",
                line([
                    name.to_string(),
                    bucket(d.p50),
                    bucket(d.p90),
                    bucket(d.p99),
                    opt_ms(Some(d.mean)),
                    opt_ms(client.map(|c| c.p50)),
                    opt_ms(client.map(|c| c.p99)),
                ])
            );
        }
        let _ = writeln!(
            o,
            "    {}",
            l.pick(
                "(a server percentile is known only to the histogram bucket that holds it: its bounds are shown; the JSON adds the interpolated estimate)",
                "（服务端百分位数只能确定在其所在的直方图桶内：此处给出桶的上下界；JSON 另给插值估算）",
            )
        );
    }
    o
}

/// A latency the server keeps beside the client's: its name in `l`, the server's histogram,
/// the client's distribution where it measures the same.
pub type LatencyRow<'a> = (&'static str, Option<&'a ServerDistribution>, Option<&'a Distribution>);

/// The server's latencies beside the client's, in the order every report shows them.
pub fn latency_rows<'a>(s: &'a Server, m: &'a Metrics, l: Lang) -> [LatencyRow<'a>; 5] {
    [
        ("TTFT", s.ttft_ms.as_ref(), m.ttft_ms.as_ref()),
        ("ITL", s.itl_ms.as_ref(), m.itl_ms.as_ref()),
        ("E2E", s.e2e_ms.as_ref(), m.e2e_ms.as_ref()),
        (l.pick("queue", "排队"), s.queue_ms.as_ref(), None),
        (l.pick("prefill", "预填充"), s.prefill_ms.as_ref(), None),
    ]
}

/// The bucket that holds a server percentile: `low–high` with one unit (`20–40ms`), `> low`
/// for the `+Inf` bucket.
pub fn bucket(b: Bounded) -> String {
    if !b.high.is_finite() {
        return format!("> {}", opt_ms(Some(b.low)));
    }
    let (low, high) = (opt_ms(Some(b.low)), opt_ms(Some(b.high)));
    match (low.strip_suffix("ms"), high.strip_suffix("ms")) {
        (Some(l), Some(_)) => format!("{l}–{high}"),
        _ => format!("{low}–{high}"),
    }
}

/// A mean to one decimal, `-` when unknown.
fn one(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::server::{PageRow, PrefixCache, Released, ServerTokens, TtftSplit};

    fn server() -> Server {
        let b = |low: f64, high: f64| Bounded { value: (low + high) / 2.0, low, high };
        let ttft = ServerDistribution {
            count: 48.0,
            mean: 173.7,
            p50: b(100.0, 250.0),
            p90: b(250.0, 500.0),
            p99: b(250.0, f64::INFINITY),
        };
        Server {
            kind: "vllm",
            pages: vec![PageRow {
                url: "http://h/metrics".into(),
                kind: "vllm",
                scrapes: 3,
                failed: 0,
                first_error: None,
            }],
            running_mean: Some(6.8),
            running_max: Some(8.0),
            waiting_mean: Some(0.0),
            waiting_max: Some(0.0),
            kv_use_max: Some(0.007),
            preemptions: Some(0.0),
            prefix_cache: Some(PrefixCache { queries: 22_608.0, hits: 12_160.0, hit_share: Some(0.538) }),
            ttft_ms: Some(ttft),
            itl_ms: None,
            e2e_ms: None,
            queue_ms: None,
            prefill_ms: None,
            ttft_split: Some(TtftSplit {
                client_ms: 188.6,
                server_ms: 173.7,
                queue_ms: Some(0.02),
                compute_ms: Some(173.68),
                rest_ms: 14.9,
            }),
            tokens: ServerTokens {
                generated: Some(3072.0),
                received: 3072,
                difference: Some(0.0),
                prompt: Some(22_608.0),
            },
            released: Some(Released { before: 0.0, after: 0.0, waited_ms: 20.0, released: true }),
            tokens_disagree: false,
        }
    }

    #[test]
    fn the_block_in_both_languages() {
        let m = Metrics::default();
        let en = block(&server(), &m, Lang::En);
        let lines: Vec<&str> = en.lines().collect();
        assert_eq!(lines[0], "  server (its own metrics)");
        assert_eq!(
            lines[1],
            "    vllm · running max 8 (mean 6.8) · waiting max 0 (mean 0.0) · KV cache max 0.7% · preemptions 0"
        );
        assert_eq!(lines[2], "    prefix cache: 53.8% of 22,608 prompt tokens looked up were found");
        assert_eq!(lines[3], "    tokens: the server generated 3,072, llmload received 3,072 (agree)");
        assert_eq!(
            lines[4],
            "    released: every request of the run, 0.02s after its end (0 held, as before it)"
        );
        assert_eq!(
            lines[5],
            "    TTFT mean 188.6ms = queue 0.02ms + compute 173.7ms + rest 14.9ms (rest: network, front end, client)"
        );
        assert_eq!(
            lines[7],
            "    TTFT          100.0–250.0ms    250.0–500.0ms        > 250.0ms   173.7ms           -           -"
        );
        let zh = block(&server(), &m, Lang::Zh);
        assert!(zh.contains("token：服务器生成 3,072，llmload 收到 3,072（一致）"), "{zh}");
        assert!(zh.contains("释放：运行结束 0.02s 后已释放全部请求"), "{zh}");
    }
}
