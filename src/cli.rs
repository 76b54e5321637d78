//! The command line as argh structs: names, defaults shown in help, examples. No logic here;
//! `config/` turns these strings into a validated `Config`, and words argh's refusals from the
//! flags these structs list (`ArgsInfo`).

use argh::{ArgsInfo, FromArgs};

/// The flags that name the target and what is sent to it, shared by `run` (so `sweep` too) and
/// `probe`. argh has no flatten, so they are written once, here: `target_flags! { STRUCT }` pastes
/// them at the top of a command's argument struct and gives it `target()` and `set_target()`;
/// `target_flags!(group)` defines `TargetArgs`, the group on its own. A new target flag is one
/// entry in the list below. Types are written as `Name` or `Name<Arg>`: argh reads a field's
/// type by its spelling, which a macro's `ty` fragment would hide.
macro_rules! target_flags {
    (@with [group] $($(#[$fa:meta])* $f:ident: $t:ident $(<$g:ident>)?,)*) => {
        /// The target flags on their own, as `run` and `probe` both check them.
        #[derive(Debug, Default, Clone)]
        pub struct TargetArgs {
            $(pub $f: $t $(<$g>)?,)*
        }
    };
    (@with [$(#[$m:meta])* pub struct $name:ident { $($own:tt)* }] $($(#[$fa:meta])* $f:ident: $t:ident $(<$g:ident>)?,)*) => {
        $(#[$m])*
        pub struct $name {
            $($(#[$fa])* pub $f: $t $(<$g>)?,)*
            $($own)*
        }

        impl $name {
            /// The target flags given.
            pub fn target(&self) -> TargetArgs {
                TargetArgs { $($f: self.$f.clone(),)* }
            }

            /// Sets every target flag to `t`'s.
            pub fn set_target(&mut self, t: TargetArgs) {
                $(self.$f = t.$f;)*
            }
        }
    };
    ($($item:tt)*) => {
        target_flags!(@with [$($item)*]
            /// base URL of the server (http://host:8000 or https://host/prefix); the API's path is appended unless the URL already ends with it
            #[argh(option)]
            url: Option<String>,
            /// server host when --url is not given (default localhost)
            #[argh(option)]
            host: Option<String>,
            /// server port when --url is not given (default 8080)
            #[argh(option, from_str_fn(port))]
            port: Option<u16>,
            /// API protocol: auto (default: from the URL path, else dify-chat), dify-chat, dify-completion, dify-workflow, openai-chat, openai-completions, openai-responses, anthropic, custom; openai, vllm, sglang, ollama, llama.cpp, llamacpp, lmdeploy, deepseek and qwen mean openai-chat, dify and dify-agent dify-chat
            #[argh(option)]
            api: Option<String>,
            /// URL path to use instead of the API's own (with --api custom, --url is used as is unless --path is given)
            #[argh(option)]
            path: Option<String>,
            /// app variables for the Dify APIs as a JSON object (default {})
            #[argh(option)]
            inputs: Option<String>,
            /// custom API: JSON body file with {{prompt}}, {{model}}, {{max_tokens}}, {{user}} placeholders
            #[argh(option)]
            body_template: Option<String>,
            /// custom API: JSON pointer to each event's text, e.g. /choices/0/delta/content
            #[argh(option)]
            text_path: Option<String>,
            /// custom API: JSON pointer to the output token count in an event, e.g. /usage/completion_tokens
            #[argh(option)]
            usage_path: Option<String>,
            /// custom API: event data that ends the stream (default `[DONE]`; "" = the end of the body)
            #[argh(option)]
            done_marker: Option<String>,
            /// model name sent in the request (the OpenAI APIs and anthropic)
            #[argh(option)]
            model: Option<String>,
            /// JSON object (or @FILE) merged into every request body of the OpenAI APIs and anthropic: sampling options, tools, response_format, chat_template_kwargs…; its keys replace llmload's
            #[argh(option)]
            extra_body: Option<String>,
            /// cap on output tokens sent in the request (anthropic, which requires one, gets 1024 unless this or the prompt sets it)
            #[argh(option)]
            max_tokens: Option<u32>,
            /// API key (Authorization: Bearer; x-api-key for anthropic); env API_KEY is the fallback
            #[argh(option)]
            api_key: Option<String>,
            /// file with one API key a line, used round-robin (probe: the first)
            #[argh(option)]
            api_key_file: Option<String>,
            /// file with one prompt a line, or JSONL ({"prompt"|"messages"|"query", "inputs", "max_tokens"}), used round-robin (probe: the first)
            #[argh(option)]
            param_file: Option<String>,
            /// the prompt when no --param-file is given (default 你好)
            #[argh(option)]
            prompt: Option<String>,
            /// limit for one whole request, retries included (default 300s)
            #[argh(option)]
            timeout: Option<String>,
            /// limit for resolving and connecting, TLS included (default 10s)
            #[argh(option)]
            connect_timeout: Option<String>,
            /// limit from sending the request to its response headers (default 60s)
            #[argh(option)]
            ttfb_timeout: Option<String>,
            /// longest silence between two reads of a response, headers included (default 60s)
            #[argh(option)]
            idle_timeout: Option<String>,
            /// PEM file of CA certificates to trust instead of the bundled web roots (private CAs)
            #[argh(option)]
            ca_cert: Option<String>,
            /// skip TLS certificate verification (testing only; every run that uses it warns)
            #[argh(switch)]
            insecure: bool,
            /// extra request header 'Name: value' (repeatable)
            #[argh(option)]
            header: Vec<String>,
        );
    };
}

target_flags!(group);

#[derive(FromArgs, ArgsInfo, Debug)]
/// llmload: load-test LLM streaming APIs (Dify, OpenAI-compatible, Anthropic, any SSE API) and measure TTFT, ITL and tokens/s.
#[argh(
    example = "llmload demo                                   # mock server + 10 s test, nothing to set up",
    example = "llmload run --url http://127.0.0.1:8000 --api openai-chat --model m -c 64 -d 60s --json out.json",
    example = "llmload run --host 127.0.0.1 --port 80 --api-key app-xxx --threads 10 --ramp-up 10 --duration 60",
    example = "llmload mock --port 8080 --ttft 200ms --itl 20ms --tokens 128",
    example = "llmload report records.jsonl --json out.json     # the summary of a killed run",
    example = "llmload compare base.json new.json --fail-if 'ttft.p95>+10%'",
    example = "llmload probe --url http://127.0.0.1:8000 --api openai-chat   # one request, every event shown",
    example = "llmload sweep --url http://127.0.0.1:8000 --api openai-chat --concurrency 1,4,16 -d 30s   # one test per level (llmload sweep --help)",
    note = "`llmload --version` prints the version. The seed tutorial's flags work without a subcommand too: `llmload --host H --threads 10 ...` means `llmload run ...`."
)]
pub struct Cli {
    #[argh(subcommand)]
    pub command: Command,
}

#[derive(FromArgs, ArgsInfo, Debug, Default)]
/// run one load test per level against the same target, with the same `llmload run` flags: a table of levels, or the largest level that meets an SLO.
#[argh(
    subcommand,
    name = "sweep",
    example = "llmload sweep --url http://127.0.0.1:8000 --api openai-chat --model m --concurrency 1,2,4,8,16 -d 60s --slo 'ttft<=500ms' --json sweep.json",
    example = "llmload sweep ... --rate auto -d 60s                 # synchronous and saturated first, then rates between",
    example = "llmload sweep ... --find concurrency --slo 'ttft<=300ms,e2e<=10s' --slo-target 0.99",
    example = "llmload sweep ... --find rate --rate 2 --slo 'ttft<=300ms' --max-level-time 5m   # doubling from 2 req/s",
    note = "Every other flag is `llmload run`'s and applies to every level (-d or -n is each level's length). --rate auto runs a synchronous level (-c 1) and a saturated one (a closed loop of --max-concurrency workers, 256 without it: the most the server gives), then --levels rates evenly between their throughputs. --find sizes each level by the requests a decision needs at --slo-target (73 at 0.95, 381 at 0.99, more while undecided); -d, if given, caps one measurement (a level cut short is measured again, its counts pooled) and --max-level-time caps a level. A level passes when its attainment's 95% interval lies wholly above --slo-target and fails when wholly below. Records of every level go to one --records file; each record's run_id ends with its level (c8, r12.5). Exit codes: 0 done (with --find, the capacity found), 1 a --threshold failed at some level (not with --find), no level succeeded, or no --find level passed, 2 bad usage, 3 --find bracketed the capacity without finding it, 130 interrupted (what finished is still written)."
)]
pub struct SweepArgs {
    /// the levels: concurrencies, e.g. 1,2,4,8; with --find concurrency, the one to start from
    #[argh(option, short = 'c')]
    pub concurrency: Option<String>,
    /// the levels: request rates (req/s), e.g. 5,10,20, or auto; with --find rate, the rate to start from
    #[argh(option)]
    pub rate: Option<String>,
    /// find the largest concurrency or rate whose --slo attainment meets --slo-target
    #[argh(option)]
    pub find: Option<String>,
    /// the share of requests that must meet --slo for a level to pass --find (default 0.95)
    #[argh(option)]
    pub slo_target: Option<f64>,
    /// the longest one --find level may take, all its measurements together (default 10m)
    #[argh(option)]
    pub max_level_time: Option<String>,
    /// with --rate auto: how many rates between the synchronous and the saturated level (default 5)
    #[argh(option)]
    pub levels: Option<usize>,
    /// write every level's summary, and the capacity found, as one JSON document to this path
    #[argh(option)]
    pub json: Option<String>,
    /// write every level's requests, one JSON line each, to this path
    #[argh(option)]
    pub records: Option<String>,
    /// write one self-contained HTML page of the sweep (each level, latency against throughput, the capacity found) to this path
    #[argh(option)]
    pub html: Option<String>,
    /// write every output under default names in this folder (made if missing): sweep.json, records.jsonl, sweep.html; a flag that names a path for one output wins
    #[argh(option)]
    pub out_dir: Option<String>,
}

#[derive(FromArgs, ArgsInfo, Debug)]
#[argh(subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing would only add noise
pub enum Command {
    Run(RunArgs),
    /// Listed here for `llmload --help`; `commands` gives `sweep` its arguments before argh
    /// parses them, as it takes every `run` flag beside its own.
    Sweep(SweepArgs),
    Demo(DemoArgs),
    Mock(MockArgs),
    Report(ReportArgs),
    Compare(CompareArgs),
    Probe(ProbeArgs),
}

target_flags! {
    #[derive(FromArgs, ArgsInfo, Debug, Default)]
    /// send one request (or read a recorded stream) and show every SSE event and what llmload read from it.
    #[argh(
        subcommand,
        name = "probe",
        example = "llmload probe --url http://127.0.0.1:8000 --api openai-chat --model qwen",
        example = "llmload probe --url https://dify.example/v1 --api-key app-xxx --prompt hello",
        example = "llmload probe --file capture.sse --api anthropic --json    # one JSON object per event",
        note = "The target flags are `llmload run`'s: probe sends the first prompt with the first key, once, with no retries. Each event is shown with its arrival (ms since the request started), its type, data and last event ID, and what the --api adapter read from it; a verdict line follows. With --file and no --api, the adapter that recognises the most events is used. Exit codes: 0 the stream was read and recognised, with text and its terminal event; 1 it was read but gave no text, no terminal event, an error event, or events --api does not recognise (the verdict says why and the likely fix); 2 bad usage, or no stream (connection, TLS, HTTP error status)."
    )]
    pub struct ProbeArgs {
        /// read this recorded response body (e.g. a curl -N capture) instead of sending a request
        #[argh(option)]
        pub file: Option<String>,
        /// one JSON object per event on stdout (event, data, id, offset_ms and the adapter's reading); the verdict goes to stderr
        #[argh(switch)]
        pub json: bool,
    }
}

#[derive(FromArgs, ArgsInfo, Debug)]
/// rebuild a run's summary from its --records files (e.g. after the run was killed).
#[argh(
    subcommand,
    name = "report",
    example = "llmload report records.jsonl --json summary.json",
    example = "llmload report gen1.jsonl gen2.jsonl    # two load generators, one summary",
    example = "llmload report records.jsonl --html report.html --series series.jsonl",
    example = "llmload report sweep-records.jsonl --json sweep.json    # a sweep's records: a row per level",
    example = "llmload report sweep-records.jsonl --level c8 --json c8.json",
    note = "Prints the same summary and writes the same JSON as a live run; several files merge into one summary (taken as parts of one run that ran at the same time). A sweep's records give the sweep's table, --json its JSON and --html its page, or one level with --level. The JSON config names the source files; client CPU and memory are 0 (not recorded)."
)]
pub struct ReportArgs {
    /// records files written by `llmload run --records`
    #[argh(positional)]
    pub records: Vec<String>,
    /// write the summary as JSON to this path
    #[argh(option)]
    pub json: Option<String>,
    /// write the run second by second as JSON lines to this path, rebuilt from the records
    #[argh(option)]
    pub series: Option<String>,
    /// write a self-contained HTML report (charts, distributions, errors) to this path
    #[argh(option)]
    pub html: Option<String>,
    /// write the records as CSV to this path, one row a request with a header row
    #[argh(option)]
    pub csv: Option<String>,
    /// write the summary in the keys of vLLM's `bench serve` results to this path
    #[argh(option)]
    pub vllm_json: Option<String>,
    /// exit 1 unless 'METRIC.STAT OP VALUE' holds, e.g. 'ttft.p95<500ms' or 'success_rate>=99%' (repeatable)
    #[argh(option)]
    pub threshold: Vec<String>,
    /// the percentiles every distribution reports, e.g. 50,90,99,99.9 (each in (0, 100), at most 10; default 50,90,95,99); a --threshold may name any of them (ttft.p99.9)
    #[argh(option)]
    pub percentiles: Option<String>,
    /// language of the table, summary, warnings and HTML report: zh or en (default: from LC_ALL, LC_MESSAGES or LANG; zh_* is zh)
    #[argh(option)]
    pub lang: Option<String>,
    /// judge each request against objectives, e.g. 'ttft<=500ms,tpot<=50ms' (ttft, tpot, e2e, itl; <= or <): goodput and attainment, from the records
    #[argh(option)]
    pub slo: Option<String>,
    /// of a sweep's records (every level in one file), report only this level, as a run: c8 (concurrency 8) or r12.5 (12.5 req/s); without it, a sweep table of every level
    #[argh(option)]
    pub level: Option<String>,
}

#[derive(FromArgs, ArgsInfo, Debug)]
/// compare two JSON summaries side by side, and gate on the change.
#[argh(
    subcommand,
    name = "compare",
    example = "llmload compare base.json new.json",
    example = "llmload compare base.json new.json --fail-if 'ttft.p95>+10%' --fail-if 'success_rate<-0.5pp'",
    example = "llmload compare sweep-a.json sweep-b.json --level c8",
    example = "llmload compare base.jsonl new.jsonl --fail-if 'ttft.p99>+10% significant'    # records: is the change real?",
    example = "llmload compare a1.jsonl,a2.jsonl b1.jsonl,b2.jsonl    # repeated runs, pooled",
    note = "Both files must be llmload --json summaries of the same version, or sweep JSONs (or one of each) with --level naming the level to compare. Either side may be a run's --records files instead (several runs joined by commas are pooled); with records on both sides each per-request row says whether its change is significant (95% bootstrap interval) and a Mann-Whitney test says whether each distribution shifted, and a --fail-if ending in `significant` breaches only on a significant change. A --fail-if change is relative with % (new − base) / base, or absolute in the metric's unit (+50ms; pp, percentage points, for rates; a plain number for req_s and output_tok_s). Exit codes: 0 no gate breached, 1 a gate breached (each listed on stderr), 2 a bad file or expression."
)]
pub struct CompareArgs {
    /// the base summary (`llmload run --json`), or its records files (`--records`; several runs joined by commas)
    #[argh(positional)]
    pub base: String,
    /// the new summary or records files, compared with the base
    #[argh(positional)]
    pub new: String,
    /// exit 1 when the change 'METRIC.STAT OP CHANGE' holds, e.g. 'ttft.p95>+10%'; add ' significant' to require a significant change (records only) (repeatable)
    #[argh(option)]
    pub fail_if: Vec<String>,
    /// the level to compare where a file is a sweep's JSON (`llmload sweep --json`): c8 (concurrency 8) or r12.5 (12.5 req/s)
    #[argh(option)]
    pub level: Option<String>,
    /// language of the comparison and gate tables: zh or en (default: from LC_ALL, LC_MESSAGES or LANG; zh_* is zh)
    #[argh(option)]
    pub lang: Option<String>,
}

target_flags! {
    #[derive(FromArgs, ArgsInfo, Debug, Default, Clone)]
    /// run a load test against a server.
    #[argh(
        subcommand,
        name = "run",
        example = "Dify app (the seed's flags; Dify is the default API):\n  llmload run --host 127.0.0.1 --port 80 --api-key app-xxx --threads 10 --ramp-up 10 --duration 60",
        example = "vLLM / SGLang / llama.cpp / Ollama (OpenAI-compatible):\n  llmload run --url http://127.0.0.1:8000 --api openai-chat --model qwen -c 64 -d 60s --json out.json",
        example = "many keys and prompts, round-robin, one per line:\n  llmload run --url https://dify.example/v1 --api-key-file keys.txt --param-file prompts.txt -c 32 -n 500",
        example = "Anthropic, with synthetic 1,000-token prompts and 200-token answers:\n  llmload run --url https://api.anthropic.com/v1/messages --model claude-sonnet-4-5 --api-key sk-ant-xxx --prompt-tokens 1000 --output-tokens 200 -c 8 -n 100",
        example = "any SSE API, from a body template:\n  llmload run --url http://127.0.0.1:8080/generate_stream --api custom --body-template body.json --text-path /token/text --done-marker \"\"",
        note = "Durations take 500ms, 30s, 5m, 1h or bare seconds (60). Without --duration or --requests each worker sends one request. The per-second table goes to stderr, the summary to stdout. Exit codes: 0 done, 1 every request failed or a --threshold failed, 2 bad usage, 130 interrupted."
    )]
    pub struct RunArgs {
        /// requests per conversation (a session): Dify keeps its conversation_id; for openai-chat, openai-responses and anthropic each turn sends the conversation so far, the server's answers included (default 1)
        #[argh(option)]
        pub turns: Option<u32>,
        /// with --turns: the pause between an answer and the session's next turn, e.g. 2s
        #[argh(option)]
        pub think_time: Option<String>,
        /// how to count output tokens when the server sends no usage (and to check usage when it does): estimate (default), cl100k, o200k, or a tokenizer.json path
        #[argh(option)]
        pub tokenizer: Option<String>,
        /// synthetic prompts of exactly N tokens (counted by --tokenizer), or lengths drawn per prompt: A..B (uniform), normal(M,S), lognormal(M,S)
        #[argh(option)]
        pub prompt_tokens: Option<String>,
        /// with --prompt-tokens: how many distinct prompts to build before the run (default 1024, or -n when smaller)
        #[argh(option)]
        pub prompt_pool: Option<usize>,
        /// with --prompt-tokens: each prompt opens with one of --prefix-groups shared prefixes of exactly P tokens (added to its length)
        #[argh(option)]
        pub prefix_tokens: Option<u32>,
        /// with --prefix-tokens: how many distinct shared prefixes (default 1)
        #[argh(option)]
        pub prefix_groups: Option<u32>,
        /// with --prefix-groups: pick groups by a Zipf law of this exponent (group 1 the most common) instead of uniformly
        #[argh(option)]
        pub prefix_zipf: Option<f64>,
        /// with --prompt-tokens: a unique marker at the very start of every prompt, so that no prefix is reused from a server's cache
        #[argh(switch)]
        pub cache_bust: bool,
        /// language of synthetic prompts: en, zh or mixed (default mixed)
        #[argh(option)]
        pub prompt_lang: Option<String>,
        /// ask for N output tokens via max_tokens, with ignore_eos for OpenAI APIs; or lengths drawn per request from --seed: A..B, normal(M,S), lognormal(M,S)
        #[argh(option)]
        pub output_tokens: Option<String>,
        /// send ignore_eos: true (OpenAI APIs: vLLM, SGLang, llama.cpp), so answers run to max_tokens; needs --max-tokens or --output-tokens
        #[argh(switch)]
        pub ignore_eos: bool,
        /// prompts from a local dataset file: ShareGPT JSON, OpenAI-request JSONL, prompt JSONL or one prompt a line (docs/datasets.md)
        #[argh(option)]
        pub dataset: Option<String>,
        /// the --dataset file's format: sharegpt, openai, prompts or lines (default: detected)
        #[argh(option)]
        pub dataset_format: Option<String>,
        /// skip --dataset prompts longer than N tokens (counted with --tokenizer)
        #[argh(option)]
        pub dataset_max_prompt_tokens: Option<u64>,
        /// take N --dataset prompts (without replacement when N fits the dataset, else with)
        #[argh(option)]
        pub dataset_sample: Option<usize>,
        /// draw --dataset-sample with replacement even when N fits the dataset
        #[argh(switch)]
        pub dataset_replace: bool,
        /// number of concurrent workers (default 1)
        #[argh(option, short = 'c')]
        pub concurrency: Option<usize>,
        /// alias of --concurrency (the seed's name)
        #[argh(option)]
        pub threads: Option<usize>,
        /// time over which worker starts are spread evenly (default 0)
        #[argh(option)]
        pub ramp_up: Option<String>,
        /// how long to run; in-flight requests are cut at the end and counted as cancelled
        #[argh(option, short = 'd')]
        pub duration: Option<String>,
        /// total number of requests across all workers
        #[argh(option, short = 'n')]
        pub requests: Option<u64>,
        /// open loop: start this many requests a second in all, on schedule whatever the server does (instead of -c)
        #[argh(option)]
        pub rate: Option<f64>,
        /// how --rate spaces requests: poisson (default), constant or gamma
        #[argh(option)]
        pub arrival: Option<String>,
        /// the shape of --arrival gamma: 1 is Poisson, below 1 burstier, above 1 more even
        #[argh(option)]
        pub burstiness: Option<f64>,
        /// seed of the --rate schedule, the --dataset order and synthetic lengths, prefixes and prompts, for the same run after run (default 1)
        #[argh(option)]
        pub seed: Option<u64>,
        /// with --rate or --trace: the most requests in flight at once; a request due while all are busy waits, and the wait counts in *_sched latencies (default 10000)
        #[argh(option)]
        pub max_concurrency: Option<usize>,
        /// send and record the first D (e.g. 30s) or N (a bare count) requests, but keep them out of every statistic
        #[argh(option)]
        pub warmup: Option<String>,
        /// replay a trace: each entry sent at its own instant with its lengths (mooncake JSONL, Azure LLM inference CSV, BurstGPT CSV, or an earlier run's --records file, told apart by their first line); the run ends with the trace
        #[argh(option)]
        pub trace: Option<String>,
        /// with --trace: replay time this many times faster (2 = twice as fast, 0.5 = half; default 1)
        #[argh(option)]
        pub trace_speed: Option<f64>,
        /// with --trace: replay only the entries from A to B seconds into the trace (e.g. 60..120), the first sent at once
        #[argh(option)]
        pub trace_window: Option<String>,
        /// with a mooncake --trace: the tokens of each hash_ids block (default 512)
        #[argh(option)]
        pub trace_block_tokens: Option<u32>,
        /// run as shard INDEX/COUNT of a run split over COUNT processes (0-based, e.g. 0/4): -c and -n are the whole run's, split exactly
        #[argh(option)]
        pub shard: Option<String>,
        /// run as one of COUNT shards, the index from env JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)
        #[argh(option)]
        pub shards: Option<u32>,
        /// start the run's clock at this wall-clock instant (RFC 3339, e.g. 2025-06-01T12:00:00Z) or +DURATION from now, once every thread exists
        #[argh(option)]
        pub start_at: Option<String>,
        /// the run id written into every record (default: from --start-at and the shard count, else random)
        #[argh(option)]
        pub run_id: Option<String>,
        /// retry a request up to N times on connect errors, HTTP 429 and 5xx (default 0: failures stay visible)
        #[argh(option)]
        pub retries: Option<u32>,
        /// abandon this share of streams on purpose, chosen by --seed and each request's number: SHARE (right after the send), SHARE@DELAY from the send (0.1@500ms) or SHARE@Ntok after N text events (0.2@16tok)
        #[argh(option)]
        pub cancel: Option<String>,
        /// check every answer whose prompt has no "expect" of its own: contains:TEXT, regex:PATTERN, json or json:KEY,KEY; a wrong answer is counted (wrong_answer) and its latencies still count
        #[argh(option)]
        pub expect: Option<String>,
        /// run the same test N times (fresh synthetic prompt parts each time) and report each headline number's mean, coefficient of variation and 95% interval across the runs, beside a summary of all their requests (default 1)
        #[argh(option)]
        pub repeat: Option<u32>,
        /// with --repeat: the pause between two runs, e.g. 10s, so a server's queues and caches settle (default 0)
        #[argh(option)]
        pub repeat_pause: Option<String>,
        /// scrape a server's Prometheus metrics (vLLM, SGLang, llama.cpp, TGI, a DCGM exporter) at this URL during the run and set them beside the client's (repeatable; a bare host:port gets /metrics)
        #[argh(option)]
        pub server_metrics: Vec<String>,
        /// with --server-metrics: how often to scrape (default 1s); each scrape's timeout is the same
        #[argh(option)]
        pub scrape_interval: Option<String>,
        /// after Ctrl-C or SIGTERM, how long in-flight requests may finish before they are cut (default 5s)
        #[argh(option)]
        pub grace: Option<String>,
        /// skip the one request that checks the target before the load starts (a refused connection, TLS failure or HTTP 401/403/404 there stops the run)
        #[argh(switch)]
        pub no_preflight: bool,
        /// write the summary as JSON to this path
        #[argh(option)]
        pub json: Option<String>,
        /// write one JSON line per finished request to this path, as each finishes
        #[argh(option)]
        pub records: Option<String>,
        /// write one CSV row per finished request to this path (after a header row), as each finishes
        #[argh(option)]
        pub csv: Option<String>,
        /// write the summary in the keys of vLLM's `bench serve` results to this path
        #[argh(option)]
        pub vllm_json: Option<String>,
        /// exit 1 unless 'METRIC.STAT OP VALUE' holds at the end, e.g. 'ttft.p95<500ms' or 'success_rate>=99%' (repeatable)
        #[argh(option)]
        pub threshold: Vec<String>,
        /// the percentiles every distribution reports, e.g. 50,90,99,99.9 (each in (0, 100), at most 10; default 50,90,95,99); a --threshold may name any of them (ttft.p99.9)
        #[argh(option)]
        pub percentiles: Option<String>,
        /// judge each request against objectives, e.g. 'ttft<=500ms,tpot<=50ms,e2e<=10s,itl<=200ms' (<= or <): a request is good when it succeeded and met all; reports goodput and attainment
        #[argh(option)]
        pub slo: Option<String>,
        /// write the run second by second (the per-second table's columns, p99s, in flight) as JSON lines to this path
        #[argh(option)]
        pub series: Option<String>,
        /// write a self-contained HTML report (config, verdict, charts, distributions, errors) to this path
        #[argh(option)]
        pub html: Option<String>,
        /// write every output under default names in this folder (made if missing): summary.json, records.jsonl, records.csv, series.jsonl, report.html, vllm.json; a flag that names a path for one output wins
        #[argh(option)]
        pub out_dir: Option<String>,
        /// serve live metrics in the Prometheus text format on http://ADDR/metrics while the run goes on (e.g. 127.0.0.1:9464; :9464 listens on every interface)
        #[argh(option)]
        pub metrics_listen: Option<String>,
        /// with --metrics-listen: keep serving the final numbers this long after the run ends, so a scrape catches them (e.g. 2s; default 0)
        #[argh(option)]
        pub metrics_linger: Option<String>,
        /// no per-second table; the summary is still printed (with -n on a terminal, a progress line is)
        #[argh(switch, short = 'q')]
        pub quiet: bool,
        /// language of the table, summary, warnings and HTML report: zh or en (default: from LC_ALL, LC_MESSAGES or LANG; zh_* is zh)
        #[argh(option)]
        pub lang: Option<String>,
    }
}

#[derive(FromArgs, ArgsInfo, Debug)]
/// run a short load test against the embedded mock server (no server needed).
#[argh(
    subcommand,
    name = "demo",
    example = "llmload demo                          # 10 s against the embedded mock",
    example = "llmload demo --html demo.html         # and the HTML report, to open in a browser",
    example = "llmload demo --api openai-chat -c 64 --out-dir demo/   # every output in demo/"
)]
pub struct DemoArgs {
    /// API the mock speaks and the test uses: dify-chat (default), dify-completion, dify-workflow, openai-chat, openai-completions, openai-responses or anthropic
    #[argh(option)]
    pub api: Option<String>,
    /// concurrent workers (default 16)
    #[argh(option, short = 'c', default = "16")]
    pub concurrency: usize,
    /// test length (default 10s)
    #[argh(option, short = 'd', default = "String::from(\"10s\")")]
    pub duration: String,
    /// the mock's time to first token (default 150ms)
    #[argh(option, default = "String::from(\"150ms\")")]
    pub ttft: String,
    /// the mock's inter-token latency (default 20ms)
    #[argh(option, default = "String::from(\"20ms\")")]
    pub itl: String,
    /// tokens per mock response (default 64)
    #[argh(option, default = "64")]
    pub tokens: u32,
    /// write the summary as JSON to this path
    #[argh(option)]
    pub json: Option<String>,
    /// write per-request JSON lines to this path
    #[argh(option)]
    pub records: Option<String>,
    /// write the HTML report of the demo run (charts, distributions) to this path
    #[argh(option)]
    pub html: Option<String>,
    /// write every output of the demo run under default names in this folder, as `llmload run --out-dir` does
    #[argh(option)]
    pub out_dir: Option<String>,
    /// no per-second table
    #[argh(switch, short = 'q')]
    pub quiet: bool,
    /// language of the table, summary, warnings and HTML report: zh or en (default: from LC_ALL, LC_MESSAGES or LANG; zh_* is zh)
    #[argh(option)]
    pub lang: Option<String>,
}

#[derive(FromArgs, ArgsInfo, Debug)]
/// serve the embedded mock LLM server (Dify, OpenAI and Anthropic paths) for other tools.
#[argh(
    subcommand,
    name = "mock",
    example = "llmload mock --port 8080 --ttft 200ms --itl 20ms --tokens 128",
    example = "llmload mock --fault http-429:0.1 --fault cut:0.05    # 10% HTTP 429, 5% cut streams",
    example = "llmload mock --replay capture.sse --replay-split bytes   # serve a recorded stream, one byte a write",
    note = "Paths: POST /v1/chat-messages and /v1/completion-messages (Dify), /v1/workflows/run (Dify workflow), /v1/chat/completions and /v1/completions (OpenAI), /v1/messages (Anthropic); GET /mock/stats (what the mock measured it sent), GET /metrics (the same in vLLM's Prometheus names), GET /mock/arrivals (when each request arrived), GET /health. Faults: http-CODE, html-CODE, http-429-no-retry-after, reset, slow-headers, not-sse, cut, stall, malformed, bad-utf8, huge-line, stream-error, pings-only, no-end, close, each with an optional :share (0-1)."
)]
pub struct MockArgs {
    /// address to bind (default 127.0.0.1)
    #[argh(option, default = "String::from(\"127.0.0.1\")")]
    pub host: String,
    /// port to listen on (default 8080; 0 picks a free one)
    #[argh(option, default = "8080", from_str_fn(port))]
    pub port: u16,
    /// time to first token (default 100ms)
    #[argh(option, default = "String::from(\"100ms\")")]
    pub ttft: String,
    /// inter-token latency (default 10ms)
    #[argh(option, default = "String::from(\"10ms\")")]
    pub itl: String,
    /// tokens per response, capped by the request's max_tokens; a request with ignore_eos gets exactly its max_tokens (default 64)
    #[argh(option, default = "64")]
    pub tokens: u32,
    /// share of answers without ignore_eos that end early, after half their tokens with finish reason stop, 0 to 1 (default 0)
    #[argh(option, default = "0.0")]
    pub eos_share: f64,
    /// share of answers whose text is wrong (every token WRONG), chosen by request number, 0 to 1 (default 0)
    #[argh(option, default = "0.0")]
    pub wrong_share: f64,
    /// uniform timing jitter as a fraction of ttft/itl, 0 to 1 (default 0)
    #[argh(option, default = "0.0")]
    pub jitter: f64,
    /// text language: zh (default), en or mixed
    #[argh(option, default = "String::from(\"zh\")")]
    pub lang: String,
    /// inject a fault into a share of responses: KIND or KIND:share, e.g. http-429:0.1 (repeatable)
    #[argh(option)]
    pub fault: Vec<String>,
    /// how long slow-headers holds the response head and stall goes silent (default 75s, past llmload's 60s timeouts)
    #[argh(option)]
    pub fault_delay: Option<String>,
    /// answer every POST with this recorded SSE body (e.g. a curl -N capture) instead of generated text
    #[argh(option)]
    pub replay: Option<String>,
    /// how --replay writes the body: whole, bytes (one byte a write) or offsets (response n cut at offset n) (default offsets)
    #[argh(option)]
    pub replay_split: Option<String>,
    /// at most N responses generate at once; later requests wait in arrival order, their head and tokens starting when a slot frees (default: no limit)
    #[argh(option)]
    pub slots: Option<usize>,
    /// pause every stream this long after the mock starts (with --stall-for): no event is sent, and what falls due goes out when it ends
    #[argh(option)]
    pub stall_at: Option<String>,
    /// how long the --stall-at pause lasts
    #[argh(option)]
    pub stall_for: Option<String>,
    /// close each connection after one response, as llama.cpp's server does, while the response says keep-alive; the close comes when the next request arrives, which gets no answer
    #[argh(switch)]
    pub close_after_response: bool,
    /// generate a stream to its planned end even after its client left, for nobody, as a server that does not notice would (/mock/stats decoded_unread counts those events)
    #[argh(switch)]
    pub keep_decoding: bool,
}

/// A TCP port, with a message that says what a port is (argh's own would be "number too large
/// to fit in target type").
fn port(value: &str) -> Result<u16, String> {
    value.trim().parse().map_err(|_| "give a port number from 0 to 65535".to_string())
}
