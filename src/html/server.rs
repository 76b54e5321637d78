//! The report's Server section (`--server-metrics`): the summary's `server` block as cards (the
//! serving stack, its most requests running and waiting, its KV cache at its fullest, its prefix
//! cache, the token accounting against what llmload received, whether it let go of the run's
//! requests), the split of the client's TTFT on one bar, the server's percentiles as their
//! histogram buckets beside the client's p50 and p99, and the server's series charted on the
//! time axis of the page's other time-series charts (`charts::server_series`). The numbers are
//! the text summary's (`output::server`); this only lays them out. A run without the block has
//! no section: `mod` asks for it only when the summary has one.

use super::svg::escape;
use super::{Card, charts};
use crate::lang::Lang;
use crate::output::format::{count, opt_ms, percent, seconds};
use crate::output::server::bucket;
use crate::stats::SeriesRow;
use crate::summary::Metrics;
use crate::summary::server::{Server, TtftSplit};
use std::fmt::Write;

/// A count the server reported (a float in its page), rounded; `-` when unknown.
fn whole(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| count(v.round().max(0.0) as u64))
}

/// A mean to one decimal, `-` when unknown.
fn one(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

/// The section's body for `s`, beside the client's metrics `m` and the run's seconds `rows`.
pub fn section(s: &Server, m: &Metrics, rows: &[SeriesRow], l: Lang) -> String {
    let mut o = String::from("<div class=\"cards\">");
    for c in cards(s, l) {
        o += &c.html();
    }
    o += "</div>";
    if let Some(split) = s.ttft_split {
        let _ = write!(o, "<h3>{}</h3>", l.pick("Where the client's TTFT went", "客户端 TTFT 的去向"));
        o += &ttft_split(&split, l);
    }
    o += &percentiles(s, m, l);
    let _ = write!(
        o,
        "<h3>{}</h3>",
        l.pick("The server second by second, beside the client", "服务端逐秒，与客户端对照")
    );
    o += &charts::server_series(rows, l);
    o
}

/// The headline cards: the stack, its load, its caches, the tokens, the release.
fn cards(s: &Server, l: Lang) -> Vec<Card> {
    let plain = |label: &str, value: String, detail: String| Card {
        class: "",
        label: label.to_string(),
        value,
        detail,
    };
    let scrapes: u64 = s.pages.iter().map(|p| p.scrapes).sum();
    let failed: u64 = s.pages.iter().map(|p| p.failed).sum();
    let (scraped, failed_n) = (count(scrapes), count(failed));
    let pages = match s.pages.len() {
        1 => l.pick("1 page".to_string(), "1 个页面".to_string()),
        n => l.pick(format!("{n} pages"), format!("{n} 个页面")),
    };
    let mut cards = vec![
        plain(
            l.pick("server", "服务端"),
            s.kind.to_string(),
            l.pick(
                format!("{pages} · {scraped} scrapes · {failed_n} failed"),
                format!("{pages} · 抓取 {scraped} 次 · 失败 {failed_n} 次"),
            ),
        ),
        plain(
            l.pick("running max", "运行中最多"),
            whole(s.running_max),
            l.pick(format!("mean {}", one(s.running_mean)), format!("平均 {}", one(s.running_mean))),
        ),
        plain(
            l.pick("waiting max", "等待最多"),
            whole(s.waiting_max),
            l.pick(format!("mean {}", one(s.waiting_mean)), format!("平均 {}", one(s.waiting_mean))),
        ),
        plain(
            l.pick("KV cache max", "KV 缓存最高"),
            percent(s.kv_use_max),
            l.pick(format!("preemptions {}", whole(s.preemptions)), format!("抢占 {}", whole(s.preemptions))),
        ),
    ];
    if let Some(p) = s.prefix_cache {
        let queries = whole(Some(p.queries));
        cards.push(plain(
            l.pick("prefix cache hits", "前缀缓存命中"),
            percent(p.hit_share),
            l.pick(
                format!("of {queries} prompt tokens looked up"),
                format!("查找的 {queries} 个提示词 token 中"),
            ),
        ));
    }
    let t = &s.tokens;
    if let (Some(generated), Some(diff)) = (t.generated, t.difference) {
        let (g, r) = (whole(Some(generated)), count(t.received));
        let value =
            if diff.abs() < 0.5 { l.pick("agree", "一致").to_string() } else { format!("{diff:+.0}") };
        cards.push(Card {
            class: if s.tokens_disagree { "fail" } else { "pass" },
            label: l.pick("tokens: server vs llmload", "token：服务端与 llmload").to_string(),
            value,
            detail: l.pick(
                format!("the server generated {g} · llmload received {r}"),
                format!("服务器生成 {g} · llmload 收到 {r}"),
            ),
        });
    }
    if let Some(r) = s.released {
        let waited = seconds(r.waited_ms / 1e3);
        let (after, before) = (whole(Some(r.after)), whole(Some(r.before)));
        cards.push(Card {
            class: if r.released { "" } else { "fail" },
            label: l.pick("released", "已释放").to_string(),
            value: if r.released { l.pick("yes", "是") } else { l.pick("no", "否") }.to_string(),
            detail: l.pick(
                format!("{after} held {waited} after the end ({before} before the run)"),
                format!("结束 {waited} 后持有 {after}（运行前 {before}）"),
            ),
        });
    }
    cards
}

/// The client's mean TTFT in its parts: a table of the parts and one bar of them.
fn ttft_split(split: &TtftSplit, l: Lang) -> String {
    let parts: Vec<(&str, &str, f64)> = match (split.queue_ms, split.compute_ms) {
        (Some(q), Some(c)) => vec![
            ("s3", l.pick("queue", "排队"), q),
            ("s2", l.pick("compute", "计算"), c),
            ("s0", l.pick("rest", "其余"), split.rest_ms),
        ],
        _ => vec![
            ("s1", l.pick("server", "服务端"), split.server_ms),
            ("s0", l.pick("rest", "其余"), split.rest_ms),
        ],
    };
    let mut o = format!(
        "<table class=\"split\"><thead><tr><th>{}</th>",
        l.pick("client TTFT mean", "客户端 TTFT 平均")
    );
    for (class, name, _) in &parts {
        let _ = write!(o, "<th><span class=\"swatch {class}\"></span>{}</th>", escape(name));
    }
    o += "<th class=\"bar\"></th></tr></thead><tbody><tr>";
    let _ = write!(o, "<td>{}</td>", opt_ms(Some(split.client_ms)));
    for (_, _, v) in &parts {
        let share = (split.client_ms > 0.0).then(|| v / split.client_ms);
        let _ = write!(o, "<td>{} · {}</td>", opt_ms(Some(*v)), percent(share));
    }
    // A part below zero (the server's mean over requests the client did not time) is not drawn.
    let us: Vec<(&str, u64)> =
        parts.iter().map(|(c, _, v)| (*c, (v.max(0.0) * 1e3).round() as u64)).collect();
    let title: Vec<String> = parts.iter().map(|(_, n, v)| format!("{n} {}", opt_ms(Some(*v)))).collect();
    let _ =
        write!(o, "<td class=\"bar\">{}</td></tr></tbody></table>", charts::stacked(&title.join(" · "), &us));
    let note = l.pick(
        "The server's TTFT runs from its receipt of a request to its first token (its queue, then the prompt's compute); the rest is the network, any front end or gateway, and the client. Means, in ms.",
        "服务端 TTFT 从其收到请求算到第一个 token（先排队，再计算提示词）；其余为网络、前端或网关以及客户端。均为平均值，单位 ms。",
    );
    let _ = write!(o, "<p class=\"note\">{note}</p>");
    o
}

/// The server's percentiles (the buckets holding them) beside the client's p50 and p99.
fn percentiles(s: &Server, m: &Metrics, l: Lang) -> String {
    let rows = crate::output::server::latency_rows(s, m, l);
    if rows.iter().all(|r| r.1.is_none()) {
        return String::new();
    }
    let mut o = format!(
        "<h3>{}</h3>",
        l.pick("The server's percentiles beside the client's", "服务端百分位数与客户端对照")
    );
    let _ = write!(o, "<table class=\"server\"><thead><tr><th>{}</th>", l.pick("server", "服务端"));
    for h in [
        l.pick("requests", "请求"),
        "p50",
        "p90",
        "p99",
        l.pick("mean", "平均"),
        l.pick("client p50", "客户端 p50"),
        l.pick("client p99", "客户端 p99"),
    ] {
        let _ = write!(o, "<th>{}</th>", escape(h));
    }
    o += "</tr></thead><tbody>";
    for (name, server, client) in rows {
        let Some(d) = server else { continue };
        let _ = write!(o, "<tr><td>{}</td><td>{}</td>", escape(name), whole(Some(d.count)));
        for b in [d.p50, d.p90, d.p99] {
            let _ = write!(o, "<td>{}</td>", escape(&bucket(b)));
        }
        let _ = write!(
            o,
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            opt_ms(Some(d.mean)),
            opt_ms(client.map(|c| c.p50)),
            opt_ms(client.map(|c| c.p99))
        );
    }
    o += "</tbody></table>";
    let note = l.pick(
        "A server percentile is known only to the histogram bucket that holds it: its bounds are shown (the JSON adds the interpolated estimate). The server's histograms hold every request it served from the scrape before the run to the one after, warm-up and failed requests included.",
        "服务端百分位数只能确定在其所在的直方图桶内：此处给出桶的上下界（JSON 另给插值估算）。服务端直方图包含从运行前一次抓取到运行后一次抓取之间它处理的每个请求，包括预热与失败的请求。",
    );
    let _ = write!(o, "<p class=\"note\">{note}</p>");
    o
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::stats::ServerSecond;
    use crate::summary::server::{Bounded, PageRow, PrefixCache, Released, ServerDistribution, ServerTokens};

    fn dist(count: f64, mean: f64, (low, high): (f64, f64)) -> ServerDistribution {
        let b = Bounded { value: (low + high) / 2.0, low, high };
        ServerDistribution {
            count,
            mean,
            p50: b,
            p90: b,
            p99: Bounded { value: high, low: high, high: f64::INFINITY },
        }
    }

    /// A vLLM server block: 80 tokens generated and received, released, a queue of 12 at most.
    pub fn block() -> Server {
        Server {
            kind: "vllm",
            pages: vec![PageRow {
                url: "http://127.0.0.1:9/metrics".into(),
                kind: "vllm",
                scrapes: 30,
                failed: 1,
                first_error: None,
            }],
            running_mean: Some(3.25),
            running_max: Some(4.0),
            waiting_mean: Some(5.5),
            waiting_max: Some(12.0),
            kv_use_max: Some(0.875),
            preemptions: Some(2.0),
            prefix_cache: Some(PrefixCache { queries: 1000.0, hits: 250.0, hit_share: Some(0.25) }),
            ttft_ms: Some(dist(10.0, 30.0, (20.0, 40.0))),
            itl_ms: Some(dist(70.0, 2.0, (1.0, 2.5))),
            e2e_ms: Some(dist(10.0, 45.0, (40.0, 60.0))),
            queue_ms: Some(dist(10.0, 10.0, (5.0, 10.0))),
            prefill_ms: None,
            ttft_split: Some(TtftSplit {
                client_ms: 40.0,
                server_ms: 30.0,
                queue_ms: Some(10.0),
                compute_ms: Some(20.0),
                rest_ms: 10.0,
            }),
            tokens: ServerTokens {
                generated: Some(80.0),
                received: 80,
                difference: Some(0.0),
                prompt: Some(400.0),
            },
            released: Some(Released { before: 0.0, after: 0.0, waited_ms: 120.0, released: true }),
            tokens_disagree: false,
        }
    }

    /// `rows` with a scrape each: waiting rising by one a second, KV use by 5 %.
    pub fn scraped(rows: &[SeriesRow], kv: bool) -> Vec<SeriesRow> {
        let mut rows = rows.to_vec();
        for (i, r) in rows.iter_mut().enumerate() {
            r.server = Some(ServerSecond {
                running: Some(4.0),
                waiting: Some(i as f64),
                kv_use: kv.then_some(0.05 * i as f64),
                generation_tokens_per_s: Some(100.0),
                prompt_tokens_per_s: None,
                values: Default::default(),
            });
        }
        rows
    }

    #[test]
    fn the_cards_say_the_load_the_caches_the_tokens_and_the_release() {
        let html: String = cards(&block(), Lang::En).iter().map(Card::html).collect();
        for card in [
            "<div class=\"card\"><div class=\"label\">server</div><div class=\"value\">vllm</div><div class=\"detail\">1 page · 30 scrapes · 1 failed</div></div>",
            "<div class=\"label\">running max</div><div class=\"value\">4</div><div class=\"detail\">mean 3.2</div>",
            "<div class=\"label\">waiting max</div><div class=\"value\">12</div><div class=\"detail\">mean 5.5</div>",
            "<div class=\"label\">KV cache max</div><div class=\"value\">87.5%</div><div class=\"detail\">preemptions 2</div>",
            "<div class=\"label\">prefix cache hits</div><div class=\"value\">25.0%</div><div class=\"detail\">of 1,000 prompt tokens looked up</div>",
            "<div class=\"card pass\"><div class=\"label\">tokens: server vs llmload</div><div class=\"value\">agree</div><div class=\"detail\">the server generated 80 · llmload received 80</div></div>",
            "<div class=\"card\"><div class=\"label\">released</div><div class=\"value\">yes</div><div class=\"detail\">0 held 0.12s after the end (0 before the run)</div></div>",
        ] {
            assert!(html.contains(card), "{card}\n{html}");
        }
        let mut off = block();
        off.tokens =
            ServerTokens { generated: Some(95.0), received: 80, difference: Some(15.0), prompt: None };
        off.tokens_disagree = true;
        off.released = Some(Released { before: 0.0, after: 2.0, waited_ms: 3000.0, released: false });
        off.prefix_cache = None;
        let zh: String = cards(&off, Lang::Zh).iter().map(Card::html).collect();
        assert!(zh.contains("<div class=\"card fail\"><div class=\"label\">token：服务端与 llmload</div><div class=\"value\">+15</div><div class=\"detail\">服务器生成 95 · llmload 收到 80</div></div>"), "{zh}");
        assert!(zh.contains("<div class=\"card fail\"><div class=\"label\">已释放</div><div class=\"value\">否</div><div class=\"detail\">结束 3.00s 后持有 2（运行前 0）</div></div>"), "{zh}");
        assert!(!zh.contains("前缀缓存"), "no prefix cache, no card");
    }

    #[test]
    fn the_ttft_split_is_a_row_and_a_bar() {
        let html = ttft_split(&block().ttft_split.unwrap(), Lang::En);
        assert!(html.starts_with("<table class=\"split\"><thead><tr><th>client TTFT mean</th><th><span class=\"swatch s3\"></span>queue</th><th><span class=\"swatch s2\"></span>compute</th><th><span class=\"swatch s0\"></span>rest</th><th class=\"bar\"></th></tr></thead><tbody><tr><td>40.0ms</td><td>10.0ms · 25.0%</td><td>20.0ms · 50.0%</td><td>10.0ms · 25.0%</td><td class=\"bar\"><svg class=\"stacked\""), "{html}");
        // 10 : 20 : 10 of 160 px.
        assert!(html.contains(r#"<rect class="s3" x="0.0" y="0" width="40.0""#), "{html}");
        assert!(html.contains(r#"<rect class="s2" x="40.0" y="0" width="80.0""#), "{html}");
        assert!(html.contains("<title>queue 10.0ms · compute 20.0ms · rest 10.0ms</title>"), "{html}");
        // Without the server's queue time: server and rest; a rest below zero is not drawn.
        let split =
            TtftSplit { client_ms: 25.0, server_ms: 30.0, queue_ms: None, compute_ms: None, rest_ms: -5.0 };
        let zh = ttft_split(&split, Lang::Zh);
        assert!(zh.contains("<th><span class=\"swatch s1\"></span>服务端</th><th><span class=\"swatch s0\"></span>其余</th>"), "{zh}");
        assert!(zh.contains("<td>-5.00ms · -20.0%</td>"), "{zh}");
        assert!(!zh.contains("<rect class=\"s0\""), "{zh}");
    }

    #[test]
    fn the_percentiles_are_buckets_beside_the_clients() {
        let empty = crate::summary::RunOutput::of(crate::stats::RunStats::default(), 1.0);
        let m = crate::summary::Summary::new(serde_json::json!({}), &empty, None).metrics;
        let html = percentiles(&block(), &m, Lang::En);
        assert!(html.contains("<tr><td>TTFT</td><td>10</td><td>20.0–40.0ms</td><td>20.0–40.0ms</td><td>&gt; 40.0ms</td><td>30.0ms</td><td>-</td><td>-</td></tr>"), "{html}");
        assert!(html.contains("<tr><td>queue</td><td>10</td>"), "{html}");
        assert!(!html.contains("<td>prefill</td>"), "no histogram, no row");
        let mut none = block();
        (none.ttft_ms, none.itl_ms, none.e2e_ms, none.queue_ms) = (None, None, None, None);
        assert_eq!(percentiles(&none, &m, Lang::En), "", "a server with no histograms (llama.cpp): no table");
    }
}
