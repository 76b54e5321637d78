//! The families each serving stack is known to expose, mapped onto one set of named series: a
//! `View` of requests running and waiting, KV-cache use, preemptions, prefix-cache hits and
//! queries, token counters and the server's latency histograms. The server kind is told by the
//! family names' prefixes (`vllm:`, `sglang:`, `llamacpp:`, `tgi_`). Counters and gauges are
//! summed over label sets (several models or engines); shares (KV use, a hit rate) are averaged
//! over them. Where a stack renamed a family, the newer name is tried first. Everything a page
//! holds beyond this stays in the `Page`; differences over a run are `hist`'s.
//! docs/server-metrics.md lists the same names (a test keeps it so).

use super::hist::Hist;
use super::parse::Page;

/// The serving stack behind a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerKind {
    Vllm,
    Sglang,
    LlamaCpp,
    Tgi,
    #[default]
    Other,
}

impl ServerKind {
    /// The stack whose family prefix the page uses (the first of vLLM, SGLang, llama.cpp, TGI).
    pub fn detect(page: &Page) -> ServerKind {
        let has = |prefix: &str| page.families.iter().any(|f| f.name.starts_with(prefix));
        if has("vllm:") {
            ServerKind::Vllm
        } else if has("sglang:") {
            ServerKind::Sglang
        } else if has("llamacpp:") {
            ServerKind::LlamaCpp
        } else if has("tgi_") {
            ServerKind::Tgi
        } else {
            ServerKind::Other
        }
    }

    /// The stack's name as outputs print it.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Vllm => "vllm",
            ServerKind::Sglang => "sglang",
            ServerKind::LlamaCpp => "llama.cpp",
            ServerKind::Tgi => "tgi",
            ServerKind::Other => "other",
        }
    }
}

/// One scrape's known series. Counters are the server's totals since it started (a run takes
/// differences: `counter_since`, `Hist::since`); gauges are the value at the scrape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct View {
    pub kind: ServerKind,
    /// Requests in the running batch, and waiting in the server's queue (gauges).
    pub running: Option<f64>,
    pub waiting: Option<f64>,
    /// KV-cache use, a share 0..1 (gauge; averaged over engines).
    pub kv_use: Option<f64>,
    /// Requests preempted (vLLM) or retracted (SGLang) (counter).
    pub preemptions: Option<f64>,
    /// Prompt tokens found in the prefix cache, and prompt tokens looked up (counters).
    pub prefix_hits: Option<f64>,
    pub prefix_queries: Option<f64>,
    /// The server's own prefix-cache hit rate, 0..1, where it exposes only a rate (SGLang's
    /// gauge, over its recent batches); prefer `prefix_hits / prefix_queries` over a run.
    pub prefix_hit_rate: Option<f64>,
    /// Prompt tokens processed (llama.cpp: excluding cached ones) and tokens generated (counters).
    pub prompt_tokens: Option<f64>,
    pub generation_tokens: Option<f64>,
    /// The server's latency histograms, seconds: time to first token, inter-token latency (or
    /// time per output token), end to end, time queued.
    pub ttft: Option<Hist>,
    pub itl: Option<Hist>,
    pub e2e: Option<Hist>,
    pub queue: Option<Hist>,
    /// Server compute before the first token (vLLM's prefill phase), where known.
    pub prefill: Option<Hist>,
}

/// The known series of a page, by the kind its family names tell.
pub fn view(page: &Page) -> View {
    let kind = ServerKind::detect(page);
    let sum = |names: &[&str]| names.iter().find_map(|n| page.sum(n));
    let mean = |names: &[&str]| names.iter().find_map(|n| page.mean(n));
    let hist = |names: &[&str]| names.iter().find_map(|n| page.family(n)).and_then(Hist::from_family);
    // A histogram's `_sum` over its label sets (TGI's tokens per request, summed: the total).
    let total = |name: &str| {
        let f = page.family(name)?;
        let mut sums = f.with_suffix("_sum").peekable();
        sums.peek()?;
        Some(sums.map(|s| s.value).sum::<f64>())
    };
    match kind {
        ServerKind::Vllm => View {
            kind,
            running: sum(&["vllm:num_requests_running"]),
            waiting: sum(&["vllm:num_requests_waiting"]),
            kv_use: mean(&["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"]),
            preemptions: sum(&["vllm:num_preemptions_total"]),
            prefix_hits: sum(&["vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total"]),
            prefix_queries: sum(&["vllm:prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries_total"]),
            prefix_hit_rate: None,
            prompt_tokens: sum(&["vllm:prompt_tokens_total"]),
            generation_tokens: sum(&["vllm:generation_tokens_total"]),
            ttft: hist(&["vllm:time_to_first_token_seconds"]),
            itl: hist(&["vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"]),
            e2e: hist(&["vllm:e2e_request_latency_seconds"]),
            queue: hist(&["vllm:request_queue_time_seconds"]),
            prefill: hist(&["vllm:request_prefill_time_seconds"]),
        },
        ServerKind::Sglang => {
            // SGLang counts cached tokens inside its prompt tokens; the cached counter is
            // declared by newer versions only.
            let hits = sum(&["sglang:cached_tokens_total"]);
            let prompt = sum(&["sglang:prompt_tokens_total"]);
            View {
                kind,
                running: sum(&["sglang:num_running_reqs"]),
                waiting: sum(&["sglang:num_queue_reqs"]),
                kv_use: mean(&["sglang:token_usage"]),
                preemptions: sum(&["sglang:num_retracted_requests_total"]),
                prefix_hits: hits,
                prefix_queries: hits.and(prompt),
                prefix_hit_rate: mean(&["sglang:cache_hit_rate"]),
                prompt_tokens: prompt,
                generation_tokens: sum(&["sglang:generation_tokens_total"]),
                ttft: hist(&["sglang:time_to_first_token_seconds"]),
                itl: hist(&["sglang:inter_token_latency_seconds", "sglang:time_per_output_token_seconds"]),
                e2e: hist(&["sglang:e2e_request_latency_seconds"]),
                queue: hist(&["sglang:queue_time_seconds"]),
                prefill: None,
            }
        }
        ServerKind::LlamaCpp => {
            // llama.cpp counts the prompt tokens it computed apart from those the cache gave.
            let hits = sum(&["llamacpp:prompt_tokens_cached_total"]);
            let prompt = sum(&["llamacpp:prompt_tokens_total"]);
            View {
                kind,
                running: sum(&["llamacpp:requests_processing"]),
                waiting: sum(&["llamacpp:requests_deferred"]),
                kv_use: mean(&["llamacpp:kv_cache_usage_ratio"]),
                prefix_hits: hits,
                prefix_queries: hits.zip(prompt).map(|(h, p)| h + p),
                prompt_tokens: prompt,
                generation_tokens: sum(&["llamacpp:tokens_predicted_total"]),
                ..View::default()
            }
        }
        ServerKind::Tgi => View {
            kind,
            running: sum(&["tgi_batch_current_size"]),
            waiting: sum(&["tgi_queue_size"]),
            prompt_tokens: total("tgi_request_input_length"),
            generation_tokens: total("tgi_request_generated_tokens"),
            itl: hist(&["tgi_request_mean_time_per_token_duration"]),
            e2e: hist(&["tgi_request_duration"]),
            queue: hist(&["tgi_request_queue_duration"]),
            ..View::default()
        },
        ServerKind::Other => View::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prom::parse;

    fn fixture(name: &str) -> Page {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics/");
        let text = std::fs::read_to_string(format!("{dir}{name}")).expect("fixture is readable");
        parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn vllm_from_a_real_page() {
        let v = view(&fixture("vllm-0.32-cpu.prom"));
        assert_eq!(v.kind, ServerKind::Vllm);
        assert_eq!(
            (v.running, v.waiting, v.kv_use, v.preemptions),
            (Some(0.0), Some(0.0), Some(0.0), Some(0.0))
        );
        assert_eq!((v.prefix_hits, v.prefix_queries), (Some(0.0), Some(289.0)));
        assert_eq!((v.prompt_tokens, v.generation_tokens), (Some(289.0), Some(537.0)));
        let ttft = v.ttft.expect("ttft");
        assert_eq!((ttft.count, ttft.sum), (17.0, 0.3569488525390625));
        assert_eq!(ttft.buckets.len(), 23);
        assert_eq!(ttft.buckets[3], (0.02, 10.0));
        // Rank 8.5 of 17 lies in (0.01, 0.02], which holds 10: 8.5/10 of the way.
        let p50 = ttft.quantile(0.5).expect("p50");
        assert_eq!((p50.low, p50.high), (0.01, 0.02));
        assert!((p50.value - 0.0185).abs() < 1e-12, "{p50:?}");
        let itl = v.itl.expect("itl");
        assert_eq!((itl.count, itl.sum), (520.0, 2.887960718998329));
        let e2e = v.e2e.expect("e2e");
        assert_eq!((e2e.count, e2e.sum), (17.0, 3.234882116317749));
        let queue = v.queue.expect("queue");
        assert_eq!((queue.count, queue.sum), (17.0, 0.0004932310002914164));
        let prefill = v.prefill.expect("prefill");
        assert_eq!((prefill.count, prefill.sum), (17.0, 0.18571308900072836));
        assert_eq!(v.prefix_hit_rate, None);
    }

    #[test]
    fn llama_cpp_from_a_real_page() {
        let v = view(&fixture("llama-server.prom"));
        assert_eq!(v.kind, ServerKind::LlamaCpp);
        assert_eq!((v.running, v.waiting), (Some(0.0), Some(0.0)));
        assert_eq!((v.prompt_tokens, v.generation_tokens), (Some(65.0), Some(544.0)));
        assert_eq!((v.prefix_hits, v.prefix_queries), (Some(224.0), Some(289.0)));
        assert_eq!((v.kv_use, v.preemptions, v.ttft, v.queue), (None, None, None, None));
    }

    #[test]
    fn older_vllm_names_and_several_engines() {
        let page = parse(
            "# TYPE vllm:num_requests_running gauge\n\
             vllm:num_requests_running{engine=\"0\"} 3\nvllm:num_requests_running{engine=\"1\"} 4\n\
             # TYPE vllm:gpu_cache_usage_perc gauge\n\
             vllm:gpu_cache_usage_perc{engine=\"0\"} 0.5\nvllm:gpu_cache_usage_perc{engine=\"1\"} 0.25\n\
             # TYPE vllm:gpu_prefix_cache_hits_total counter\nvllm:gpu_prefix_cache_hits_total 7\n\
             # TYPE vllm:time_per_output_token_seconds histogram\n\
             vllm:time_per_output_token_seconds_bucket{le=\"0.1\"} 4\nvllm:time_per_output_token_seconds_bucket{le=\"+Inf\"} 4\n\
             vllm:time_per_output_token_seconds_sum 0.2\nvllm:time_per_output_token_seconds_count 4\n",
        )
        .unwrap();
        let v = view(&page);
        assert_eq!((v.running, v.waiting), (Some(7.0), None));
        assert_eq!(v.kv_use, Some(0.375), "a share is averaged over engines");
        assert_eq!(v.prefix_hits, Some(7.0));
        assert_eq!(v.itl.map(|h| h.count), Some(4.0));
    }

    #[test]
    fn vllm_in_openmetrics() {
        let page = parse(
            "# TYPE vllm:generation_tokens counter\nvllm:generation_tokens_total{engine=\"0\"} 12\n\
             vllm:generation_tokens_created{engine=\"0\"} 1.7e9\n# EOF\n",
        )
        .unwrap();
        assert_eq!(view(&page).generation_tokens, Some(12.0));
    }

    #[test]
    fn sglang_page() {
        let page = parse(
            "# HELP sglang:num_running_reqs The number of running requests.\n# TYPE sglang:num_running_reqs gauge\n\
             sglang:num_running_reqs{model_name=\"m\",tp_rank=\"0\"} 5.0\n\
             # TYPE sglang:num_queue_reqs gauge\nsglang:num_queue_reqs{model_name=\"m\",tp_rank=\"0\"} 2.0\n\
             # TYPE sglang:token_usage gauge\nsglang:token_usage{model_name=\"m\",tp_rank=\"0\"} 0.28\n\
             # TYPE sglang:cache_hit_rate gauge\nsglang:cache_hit_rate{model_name=\"m\",tp_rank=\"0\"} 0.5\n\
             # TYPE sglang:num_retracted_requests_total counter\nsglang:num_retracted_requests_total{model_name=\"m\"} 3.0\n\
             # TYPE sglang:prompt_tokens_total counter\nsglang:prompt_tokens_total{model_name=\"m\"} 800.0\n\
             # TYPE sglang:cached_tokens_total counter\nsglang:cached_tokens_total{model_name=\"m\"} 600.0\n\
             # TYPE sglang:generation_tokens_total counter\nsglang:generation_tokens_total{model_name=\"m\"} 90.0\n\
             # TYPE sglang:time_to_first_token_seconds histogram\n\
             sglang:time_to_first_token_seconds_bucket{le=\"0.1\",model_name=\"m\"} 1.0\n\
             sglang:time_to_first_token_seconds_bucket{le=\"0.2\",model_name=\"m\"} 3.0\n\
             sglang:time_to_first_token_seconds_bucket{le=\"+Inf\",model_name=\"m\"} 3.0\n\
             sglang:time_to_first_token_seconds_sum{model_name=\"m\"} 0.4\n\
             sglang:time_to_first_token_seconds_count{model_name=\"m\"} 3.0\n\
             # TYPE sglang:queue_time_seconds histogram\n\
             sglang:queue_time_seconds_bucket{le=\"0.0\",model_name=\"m\"} 2.0\n\
             sglang:queue_time_seconds_bucket{le=\"0.1\",model_name=\"m\"} 3.0\n\
             sglang:queue_time_seconds_bucket{le=\"+Inf\",model_name=\"m\"} 3.0\n\
             sglang:queue_time_seconds_sum{model_name=\"m\"} 0.05\nsglang:queue_time_seconds_count{model_name=\"m\"} 3.0\n",
        )
        .unwrap();
        let v = view(&page);
        assert_eq!(v.kind, ServerKind::Sglang);
        assert_eq!(
            (v.running, v.waiting, v.kv_use, v.preemptions),
            (Some(5.0), Some(2.0), Some(0.28), Some(3.0))
        );
        assert_eq!(
            (v.prefix_hits, v.prefix_queries, v.prefix_hit_rate),
            (Some(600.0), Some(800.0), Some(0.5))
        );
        assert_eq!((v.prompt_tokens, v.generation_tokens), (Some(800.0), Some(90.0)));
        assert_eq!(v.ttft.as_ref().map(|h| h.count), Some(3.0));
        assert_eq!(v.queue.as_ref().and_then(|h| h.quantile(0.5)).map(|e| e.value), Some(0.0));
        assert_eq!((v.itl, v.e2e, v.prefill), (None, None, None));
    }

    #[test]
    fn sglang_without_a_cached_counter_has_only_its_rate() {
        let page = parse(
            "# TYPE sglang:cache_hit_rate gauge\nsglang:cache_hit_rate{name=\"m\"} 0.0075\n\
             # TYPE sglang:prompt_tokens_total counter\nsglang:prompt_tokens_total{name=\"m\"} 7.0\n",
        )
        .unwrap();
        let v = view(&page);
        assert_eq!((v.prefix_hits, v.prefix_queries, v.prefix_hit_rate), (None, None, Some(0.0075)));
        assert_eq!(v.prompt_tokens, Some(7.0));
    }

    #[test]
    fn tgi_page() {
        let page = parse(
            "# TYPE tgi_queue_size gauge\ntgi_queue_size 4\n# TYPE tgi_batch_current_size gauge\ntgi_batch_current_size 8\n\
             # TYPE tgi_request_generated_tokens histogram\n\
             tgi_request_generated_tokens_bucket{le=\"10\"} 1\ntgi_request_generated_tokens_bucket{le=\"+Inf\"} 3\n\
             tgi_request_generated_tokens_sum 130\ntgi_request_generated_tokens_count 3\n\
             # TYPE tgi_request_input_length histogram\n\
             tgi_request_input_length_bucket{le=\"+Inf\"} 3\ntgi_request_input_length_sum 45\ntgi_request_input_length_count 3\n\
             # TYPE tgi_request_queue_duration histogram\n\
             tgi_request_queue_duration_bucket{le=\"0.1\"} 3\ntgi_request_queue_duration_bucket{le=\"+Inf\"} 3\n\
             tgi_request_queue_duration_sum 0.03\ntgi_request_queue_duration_count 3\n\
             # TYPE tgi_request_mean_time_per_token_duration histogram\n\
             tgi_request_mean_time_per_token_duration_bucket{le=\"0.05\"} 3\n\
             tgi_request_mean_time_per_token_duration_bucket{le=\"+Inf\"} 3\n\
             tgi_request_mean_time_per_token_duration_sum 0.06\ntgi_request_mean_time_per_token_duration_count 3\n\
             # TYPE tgi_request_duration histogram\n\
             tgi_request_duration_bucket{le=\"1\"} 2\ntgi_request_duration_bucket{le=\"+Inf\"} 3\n\
             tgi_request_duration_sum 2.5\ntgi_request_duration_count 3\n",
        )
        .unwrap();
        let v = view(&page);
        assert_eq!(v.kind, ServerKind::Tgi);
        assert_eq!((v.running, v.waiting), (Some(8.0), Some(4.0)));
        assert_eq!((v.prompt_tokens, v.generation_tokens), (Some(45.0), Some(130.0)));
        assert_eq!(v.queue.map(|h| h.count), Some(3.0));
        assert_eq!(v.itl.map(|h| h.sum), Some(0.06));
        assert_eq!(v.e2e.and_then(|h| h.quantile(0.5)).map(|e| e.value), Some(0.75));
        assert_eq!((v.ttft, v.kv_use, v.prefill), (None, None, None));
    }

    #[test]
    fn another_server_is_other_with_nothing_known() {
        let page = parse("# TYPE http_requests_total counter\nhttp_requests_total 3\n").unwrap();
        assert_eq!(view(&page), View::default());
        assert_eq!(ServerKind::detect(&page).name(), "other");
    }

    /// Every family name the mapping reads, from this file's code.
    fn names_in_code() -> Vec<String> {
        let code = include_str!("known.rs");
        let code = &code[..code.find("#[cfg(test)]\nmod tests").expect("a test module")];
        let mut names = Vec::new();
        for quoted in code.split('"').skip(1).step_by(2) {
            let prefixes = ["vllm:", "sglang:", "llamacpp:", "tgi_"];
            if prefixes.iter().any(|p| quoted.starts_with(p) && quoted != *p) {
                names.push(quoted.to_string());
            }
        }
        names
    }

    #[test]
    fn the_docs_list_every_known_family() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/server-metrics.md"))
            .expect("docs/server-metrics.md is readable");
        let names = names_in_code();
        assert!(names.len() > 30, "read {} names", names.len());
        let missing: Vec<_> = names.iter().filter(|n| !doc.contains(&format!("`{n}`"))).collect();
        assert!(missing.is_empty(), "docs/server-metrics.md does not name {missing:?}");
    }
}
