//! The server's side of a run, from the Prometheus pages `--server-metrics` scraped: what each
//! scrape held (`PageRun`, filled by the engine's scraper), and the summary's `server` block
//! made of it: the server's own percentiles beside the client's, the split of the client's TTFT,
//! the token accounting against what llmload counted, and whether the server let go of every
//! request once the run ended. Counters count from the scrape before the run's start to the
//! one after its end; histograms likewise, their percentiles estimated from the buckets.

use crate::prom::{Estimate, Hist, ServerKind, View, counter_since};
use crate::stats::{RunStats, SeriesRow, ServerSecond};
use crate::util::decimals::{six, three};
use serde::Serialize;
use std::collections::BTreeMap;

/// One scrape during the run.
#[derive(Debug, Clone)]
pub struct Scraped {
    /// Seconds from the run's start to the scrape's answer.
    pub at_s: f64,
    pub view: View,
    /// Every sample on the page, by its index in `PageRun::names`; `NaN` for one absent then.
    pub values: Vec<f64>,
}

/// What became of the requests the server still ran when the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Released {
    /// Requests running and waiting on the server before the run started.
    pub before: f64,
    /// The same once the run had ended, at the last scrape.
    pub after: f64,
    /// How long after the run's end the last scrape came (it is taken again, every 100 ms, up
    /// to the settle time, while the server holds more than before).
    #[serde(serialize_with = "three")]
    pub waited_ms: f64,
    /// `after` fell back to `before`: the server let go of every request of the run,
    /// cancelled and abandoned streams included.
    pub released: bool,
}

/// One page's scrapes over a run.
#[derive(Debug, Clone, Default)]
pub struct PageRun {
    pub url: String,
    /// The scrape just before the run's start.
    pub before: Option<View>,
    pub during: Vec<Scraped>,
    /// The scrape once the run had ended (and the server settled, or the settle time passed).
    pub after: Option<View>,
    /// Scrapes that failed (no answer in time, an HTTP error, a page that did not parse).
    pub failed: u64,
    pub first_error: Option<String>,
    /// Each sample's name with its labels, as `Scraped::values` holds them.
    pub names: Vec<String>,
    pub released: Option<Released>,
}

/// The `server` block of the summary; `null` without `--server-metrics`.
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    /// The serving stack the pages show: `vllm`, `sglang`, `llama.cpp`, `tgi`, `other`, or
    /// `mixed` when pages differ.
    pub kind: &'static str,
    pub pages: Vec<PageRow>,
    /// Requests the server ran and held waiting, summed over the pages, over the run's scrapes.
    #[serde(serialize_with = "three")]
    pub running_mean: Option<f64>,
    #[serde(serialize_with = "three")]
    pub running_max: Option<f64>,
    #[serde(serialize_with = "three")]
    pub waiting_mean: Option<f64>,
    #[serde(serialize_with = "three")]
    pub waiting_max: Option<f64>,
    /// The KV cache's share in use (0–1), the pages' mean, at its highest.
    #[serde(serialize_with = "six")]
    pub kv_use_max: Option<f64>,
    /// Preemptions during the run (a server out of KV cache evicts running requests).
    #[serde(serialize_with = "three")]
    pub preemptions: Option<f64>,
    /// The server's prefix cache during the run: prompt tokens looked up and found.
    pub prefix_cache: Option<PrefixCache>,
    /// The server's own latency histograms over the run, ms, percentiles estimated from their
    /// buckets (`ServerDistribution`); `null` where the server keeps none (llama.cpp).
    pub ttft_ms: Option<ServerDistribution>,
    pub itl_ms: Option<ServerDistribution>,
    pub e2e_ms: Option<ServerDistribution>,
    pub queue_ms: Option<ServerDistribution>,
    pub prefill_ms: Option<ServerDistribution>,
    /// The client's mean TTFT split into the server's queue time, its compute to the first
    /// token, and the rest (network, front end, client); `null` without the server's TTFT.
    pub ttft_split: Option<TtftSplit>,
    pub tokens: ServerTokens,
    /// Whether the server let go of the run's requests once it ended; `null` without a
    /// running count on the pages.
    pub released: Option<Released>,
    /// The generation counter disagrees with what was received (`tokens_disagree`): a warning.
    #[serde(skip)]
    pub tokens_disagree: bool,
}

/// One page scraped.
#[derive(Debug, Clone, Serialize)]
pub struct PageRow {
    pub url: String,
    pub kind: &'static str,
    /// Scrapes during the run that answered.
    pub scrapes: u64,
    pub failed: u64,
    pub first_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PrefixCache {
    #[serde(serialize_with = "three")]
    pub queries: f64,
    #[serde(serialize_with = "three")]
    pub hits: f64,
    /// hits / queries; `null` when nothing was looked up.
    #[serde(serialize_with = "six")]
    pub hit_share: Option<f64>,
}

/// A server histogram's run: requests counted, the mean (exact: the sum over the count) and
/// percentiles estimated by linear interpolation inside the bucket holding them, each with the
/// bucket's bounds (`low`, `high`): the estimate's error is at most their distance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServerDistribution {
    #[serde(serialize_with = "three")]
    pub count: f64,
    #[serde(serialize_with = "three")]
    pub mean: f64,
    pub p50: Bounded,
    pub p90: Bounded,
    pub p99: Bounded,
}

/// An estimate and the bucket bounds around it, ms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bounded {
    #[serde(serialize_with = "three")]
    pub value: f64,
    #[serde(serialize_with = "three")]
    pub low: f64,
    #[serde(serialize_with = "three")]
    pub high: f64,
}

/// The client's mean TTFT, ms, and where it went.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TtftSplit {
    #[serde(serialize_with = "three")]
    pub client_ms: f64,
    /// The server's mean TTFT: from its receipt of the request to its first token.
    #[serde(serialize_with = "three")]
    pub server_ms: f64,
    /// Of `server_ms`, the mean wait in the server's queue; `null` where it keeps none.
    #[serde(serialize_with = "three")]
    pub queue_ms: Option<f64>,
    /// `server_ms` less `queue_ms`: the prompt's compute and the first token's.
    #[serde(serialize_with = "three")]
    pub compute_ms: Option<f64>,
    /// `client_ms` less `server_ms`: the network, any front end or gateway, and the client.
    #[serde(serialize_with = "three")]
    pub rest_ms: f64,
}

/// The server's token counters over the run against llmload's own counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServerTokens {
    /// The growth of the server's generation-token counter; `null` without one.
    #[serde(serialize_with = "three")]
    pub generated: Option<f64>,
    /// Output tokens llmload received: `tokens.output_total` plus those of warm-up and failed
    /// requests, which the server generated too.
    pub received: u64,
    /// `generated` − `received`.
    #[serde(serialize_with = "three")]
    pub difference: Option<f64>,
    /// The growth of the server's prompt-token counter.
    #[serde(serialize_with = "three")]
    pub prompt: Option<f64>,
}

impl Server {
    /// The block for `pages`, beside the client's `stats` (`client_ttft_ms`: its mean TTFT).
    pub fn of(pages: &[PageRun], stats: &RunStats, client_ttft_ms: Option<f64>) -> Server {
        let kinds: Vec<ServerKind> = pages.iter().map(kind_of).collect();
        let kind = match kinds.split_first() {
            Some((first, rest)) if rest.iter().all(|k| k == first) => first.name(),
            Some(_) => "mixed",
            None => "other",
        };
        let seconds = seconds_of(pages);
        let during = |f: &dyn Fn(&View) -> Option<f64>| -> Vec<f64> {
            seconds.iter().filter_map(|views| sum(views.iter().map(|v| f(v)))).collect()
        };
        let running = during(&|v| v.running);
        let waiting = during(&|v| v.waiting);
        let kv: Vec<f64> =
            seconds.iter().filter_map(|views| mean(views.iter().filter_map(|v| v.kv_use))).collect();
        let grew = |f: &dyn Fn(&View) -> Option<f64>| -> Option<f64> {
            sum(pages.iter().map(|p| Some(counter_since(f(p.after.as_ref()?)?, f(p.before.as_ref()?)?))))
        };
        let hist = |f: &dyn Fn(&View) -> Option<&Hist>| -> Option<ServerDistribution> {
            let mut total: Option<Hist> = None;
            for p in pages {
                let (Some(after), Some(before)) = (p.after.as_ref(), p.before.as_ref()) else { continue };
                let Some(h) = f(after) else { continue };
                let run = f(before).map_or_else(|| h.clone(), |b| h.since(b));
                total = Some(match total {
                    Some(t) => plus(&t, &run),
                    None => run,
                });
            }
            ServerDistribution::of(&total?)
        };
        let ttft_ms = hist(&|v| v.ttft.as_ref());
        let queue_ms = hist(&|v| v.queue.as_ref());
        let generated = grew(&|v| v.generation_tokens);
        let received = stats.output_tokens + stats.unmeasured_output_tokens;
        let queries = grew(&|v| v.prefix_queries);
        let released = pages.iter().filter_map(|p| p.released).reduce(|a, b| Released {
            before: a.before + b.before,
            after: a.after + b.after,
            waited_ms: a.waited_ms.max(b.waited_ms),
            released: a.released && b.released,
        });
        let mut server = Server {
            kind,
            pages: pages
                .iter()
                .zip(&kinds)
                .map(|(p, k)| PageRow {
                    url: p.url.clone(),
                    kind: k.name(),
                    scrapes: p.during.len() as u64,
                    failed: p.failed,
                    first_error: p.first_error.clone(),
                })
                .collect(),
            running_mean: mean(running.iter().copied()),
            running_max: running.iter().copied().reduce(f64::max),
            waiting_mean: mean(waiting.iter().copied()),
            waiting_max: waiting.iter().copied().reduce(f64::max),
            kv_use_max: kv.iter().copied().reduce(f64::max),
            preemptions: grew(&|v| v.preemptions),
            prefix_cache: queries.map(|queries| {
                let hits = grew(&|v| v.prefix_hits).unwrap_or(0.0);
                PrefixCache { queries, hits, hit_share: (queries > 0.0).then(|| hits / queries) }
            }),
            ttft_split: ttft_ms.zip(client_ttft_ms).filter(|(s, _)| s.count > 0.0).map(|(s, client_ms)| {
                let queue = queue_ms.filter(|q| q.count > 0.0).map(|q| q.mean);
                TtftSplit {
                    client_ms,
                    server_ms: s.mean,
                    queue_ms: queue,
                    compute_ms: queue.map(|q| s.mean - q),
                    rest_ms: client_ms - s.mean,
                }
            }),
            ttft_ms,
            itl_ms: hist(&|v| v.itl.as_ref()),
            e2e_ms: hist(&|v| v.e2e.as_ref()),
            queue_ms,
            prefill_ms: hist(&|v| v.prefill.as_ref()),
            tokens: ServerTokens {
                generated,
                received,
                difference: generated.map(|g| g - received as f64),
                prompt: grew(&|v| v.prompt_tokens),
            },
            released,
            tokens_disagree: false,
        };
        server.tokens_disagree = server.disagrees(stats);
        server
    }

    /// Whether the server's generation counter disagrees with what llmload received by more
    /// than counting can explain: exactly, when every request's tokens came from the server's
    /// own usage and no stream was cut (a cut stream may have had tokens in flight, or the
    /// server may have generated more before it noticed); else by more than 1 %, or by
    /// fewer tokens than received (a server never generates less than it sent).
    fn disagrees(&self, stats: &RunStats) -> bool {
        let Some(diff) = self.tokens.difference else { return false };
        let exact = stats.tokens_from_usage == stats.ok && stats.cancelled + stats.abandoned == 0;
        let received = self.tokens.received as f64;
        if exact {
            diff.abs() >= 0.5
        } else if stats.cancelled + stats.abandoned > 0 {
            diff < -(received * 0.01).max(0.5)
        } else {
            diff.abs() > (received * 0.01).max(0.5)
        }
    }
}

impl ServerDistribution {
    /// A histogram of seconds as ms; `None` when empty.
    fn of(h: &Hist) -> Option<ServerDistribution> {
        let ms = |e: Estimate| Bounded { value: e.value * 1e3, low: e.low * 1e3, high: e.high * 1e3 };
        Some(ServerDistribution {
            count: h.count,
            mean: h.mean()? * 1e3,
            p50: ms(h.quantile(0.5)?),
            p90: ms(h.quantile(0.9)?),
            p99: ms(h.quantile(0.99)?),
        })
    }
}

/// The kind of page `p` is, from its last view.
fn kind_of(p: &PageRun) -> ServerKind {
    p.after
        .as_ref()
        .or(p.during.last().map(|s| &s.view))
        .or(p.before.as_ref())
        .map_or(ServerKind::Other, |v| v.kind)
}

/// The views scraped in each whole second of the run (the last scrape in it, of each page).
fn seconds_of(pages: &[PageRun]) -> Vec<Vec<&View>> {
    let mut by_second: BTreeMap<u64, Vec<&View>> = BTreeMap::new();
    for p in pages {
        let mut last: BTreeMap<u64, &View> = BTreeMap::new();
        for s in &p.during {
            last.insert(s.at_s.max(0.0) as u64, &s.view);
        }
        for (sec, v) in last {
            by_second.entry(sec).or_default().push(v);
        }
    }
    by_second.into_values().collect()
}

/// Two pages' histograms as one, bucket by bucket (`sum by (le)` over replicas); buckets one
/// page lacks take the other's nearest lower bucket count, as the count of observations at or
/// below that bound is at least that.
fn plus(a: &Hist, b: &Hist) -> Hist {
    let at = |h: &Hist, le: f64| h.buckets.iter().take_while(|(l, _)| *l <= le).last().map_or(0.0, |b| b.1);
    let mut les: Vec<f64> = a.buckets.iter().chain(&b.buckets).map(|b| b.0).collect();
    les.sort_by(f64::total_cmp);
    les.dedup();
    Hist {
        buckets: les.into_iter().map(|le| (le, at(a, le) + at(b, le))).collect(),
        sum: a.sum + b.sum,
        count: a.count + b.count,
    }
}

fn sum(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    values.flatten().fold(None, |acc, v| Some(acc.unwrap_or(0.0) + v))
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (n, total) = values.fold((0u64, 0.0), |(n, t), v| (n + 1, t + v));
    (n > 0).then(|| total / n as f64)
}

/// Puts the scrapes beside the run's seconds: each row gets the last scrape of each page
/// before its end, and the counters' growth since the row before as rates.
pub fn beside(rows: &mut [SeriesRow], pages: &[PageRun]) {
    if pages.is_empty() {
        return;
    }
    let mut last_seen: Vec<Option<&Scraped>> = vec![None; pages.len()];
    for row in rows.iter_mut() {
        let end = row.elapsed_s;
        let mut now: Vec<(usize, &Scraped)> = Vec::new();
        for (i, p) in pages.iter().enumerate() {
            if let Some(s) = p.during.iter().rev().find(|s| s.at_s <= end + 1e-9) {
                now.push((i, s));
            }
        }
        let rate = |f: &dyn Fn(&View) -> Option<f64>| -> Option<f64> {
            sum(now.iter().map(|&(i, s)| -> Option<f64> {
                let (view, at_s) = match last_seen[i] {
                    Some(e) => (&e.view, e.at_s),
                    None => (pages[i].before.as_ref()?, 0.0),
                };
                let dt = s.at_s - at_s;
                if dt <= 0.0 {
                    return None;
                }
                Some(counter_since(f(&s.view)?, f(view)?) / dt)
            }))
        };
        let values = now
            .iter()
            .map(|&(i, s)| {
                let page = &pages[i];
                let named = page
                    .names
                    .iter()
                    .zip(&s.values)
                    .filter(|(_, v)| !v.is_nan())
                    .map(|(n, &v)| (n.clone(), v.is_finite().then_some(v)))
                    .collect();
                (page.url.clone(), named)
            })
            .collect();
        row.server = Some(ServerSecond {
            running: sum(now.iter().map(|(_, s)| s.view.running)),
            waiting: sum(now.iter().map(|(_, s)| s.view.waiting)),
            kv_use: mean(now.iter().filter_map(|(_, s)| s.view.kv_use)),
            generation_tokens_per_s: rate(&|v| v.generation_tokens),
            prompt_tokens_per_s: rate(&|v| v.prompt_tokens),
            values,
        });
        for (i, s) in now {
            last_seen[i] = Some(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(running: f64, generated: f64, ttft: Hist) -> View {
        View {
            kind: ServerKind::Vllm,
            running: Some(running),
            waiting: Some(0.0),
            generation_tokens: Some(generated),
            ttft: Some(ttft),
            ..View::default()
        }
    }

    fn hist(buckets: &[(f64, f64)], sum: f64) -> Hist {
        Hist { buckets: buckets.to_vec(), sum, count: buckets.last().map_or(0.0, |b| b.1) }
    }

    /// A page whose counters grew by `generated` and whose TTFT histogram gained `ttft`.
    fn page(url: &str, generated: f64, ttft: Hist, after_running: f64) -> PageRun {
        let empty = hist(&[(0.1, 0.0), (0.25, 0.0), (f64::INFINITY, 0.0)], 0.0);
        let before = view(0.0, 1000.0, empty);
        let after = view(after_running, 1000.0 + generated, ttft);
        let during = vec![Scraped { at_s: 0.5, view: after.clone(), values: Vec::new() }];
        let released = Some(Released {
            before: 0.0,
            after: after_running,
            waited_ms: 10.0,
            released: after_running == 0.0,
        });
        PageRun {
            url: url.into(),
            before: Some(before),
            during,
            after: Some(after),
            released,
            ..PageRun::default()
        }
    }

    fn stats(ok: u64, output_tokens: u64, from_usage: u64, abandoned: u64) -> RunStats {
        RunStats { ok, output_tokens, tokens_from_usage: from_usage, abandoned, ..RunStats::default() }
    }

    #[test]
    fn two_pages_add_up_counters_and_merge_histograms_by_bucket() {
        let a =
            page("http://a/metrics", 300.0, hist(&[(0.1, 2.0), (0.25, 3.0), (f64::INFINITY, 3.0)], 0.3), 0.0);
        let b =
            page("http://b/metrics", 200.0, hist(&[(0.1, 0.0), (0.25, 1.0), (f64::INFINITY, 1.0)], 0.2), 0.0);
        let s = Server::of(&[a, b], &stats(4, 500, 4, 0), Some(140.0));
        assert_eq!((s.kind, s.pages.len()), ("vllm", 2));
        assert_eq!((s.tokens.generated, s.tokens.difference), (Some(500.0), Some(0.0)));
        let ttft = s.ttft_ms.unwrap();
        assert_eq!((ttft.count, ttft.mean), (4.0, 125.0));
        // Rank 2 of 4 lies in (0, 100] ms, which holds 2: its top.
        assert_eq!((ttft.p50.low, ttft.p50.high, ttft.p50.value), (0.0, 100.0, 100.0));
        let split = s.ttft_split.unwrap();
        assert_eq!(
            (split.client_ms, split.server_ms, split.rest_ms, split.queue_ms),
            (140.0, 125.0, 15.0, None)
        );
        assert_eq!(s.released.map(|r| (r.after, r.released)), Some((0.0, true)));
        assert!(!s.tokens_disagree);
    }

    #[test]
    fn the_token_accounting_is_exact_with_usage_and_one_sided_with_cut_streams() {
        let h = || hist(&[(0.1, 1.0), (f64::INFINITY, 1.0)], 0.05);
        let one = |generated, st: &RunStats| {
            Server::of(&[page("u", generated, h(), 0.0)], st, None).tokens_disagree
        };
        // Every count from usage, nothing cut: one token off is a disagreement.
        assert!(!one(500.0, &stats(4, 500, 4, 0)));
        assert!(one(501.0, &stats(4, 500, 4, 0)));
        // Some counts estimated: within 1 % passes.
        assert!(!one(504.0, &stats(4, 500, 2, 0)));
        assert!(one(506.0, &stats(4, 500, 2, 0)));
        // Streams cut: the server may have generated more, never fewer.
        assert!(!one(900.0, &stats(4, 500, 4, 2)));
        assert!(one(480.0, &stats(4, 500, 4, 2)));
    }

    #[test]
    fn a_server_still_holding_requests_is_not_released() {
        let h = hist(&[(0.1, 1.0), (f64::INFINITY, 1.0)], 0.05);
        let s = Server::of(&[page("u", 10.0, h, 2.0)], &stats(1, 10, 1, 2), None);
        assert_eq!(s.released.map(|r| (r.before, r.after, r.released)), Some((0.0, 2.0, false)));
        assert_eq!((s.running_max, s.running_mean), (Some(2.0), Some(2.0)));
    }

    #[test]
    fn each_second_gets_the_last_scrape_before_its_end_and_counter_rates() {
        let h = hist(&[(0.1, 0.0), (f64::INFINITY, 0.0)], 0.0);
        let mut p = page("u", 0.0, h.clone(), 0.0);
        p.names = vec!["vllm:num_requests_running".into()];
        p.during = vec![
            Scraped { at_s: 0.5, view: view(3.0, 1100.0, h.clone()), values: vec![3.0] },
            Scraped { at_s: 1.5, view: view(5.0, 1300.0, h.clone()), values: vec![f64::INFINITY] },
        ];
        let row = |elapsed_s| SeriesRow { elapsed_s, ..crate::stats::SeriesRow::default() };
        let mut rows = vec![row(1.0), row(2.0)];
        beside(&mut rows, &[p]);
        let (a, b) = (rows[0].server.as_ref().unwrap(), rows[1].server.as_ref().unwrap());
        assert_eq!((a.running, b.running), (Some(3.0), Some(5.0)));
        // From the scrape before the start (1,000 at 0 s) to 0.5 s; then 200 over 1 s.
        assert_eq!((a.generation_tokens_per_s, b.generation_tokens_per_s), (Some(200.0), Some(200.0)));
        assert_eq!(a.values["u"]["vllm:num_requests_running"], Some(3.0));
        assert_eq!(b.values["u"]["vllm:num_requests_running"], None, "infinity is null");
    }
}
