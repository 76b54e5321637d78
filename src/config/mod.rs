//! `Config::from_args`: every check a user can fail, done before any thread starts. Durations,
//! URLs, flag conflicts, prompt and key files, and output files (opened here, so a typo fails in
//! the first millisecond, not after a ten-minute run). The API flags live in `config/api.rs`,
//! the prompt sources in `config/prompts.rs`, the words of argh's refusals in `config/usage.rs`.

mod api;
mod body;
mod cancel;
mod load;
mod metrics;
mod mock;
mod probe;
mod prompts;
mod report;
mod scale;
mod server;
mod sweep;
mod trace;
mod usage;

use crate::cli::RunArgs;
use crate::client::{self, ClientSettings, Timeouts, Tls};
use crate::error::Error;
use crate::export::OutputFile;
use crate::gate::Threshold;
use crate::lang::{Lang, Text};
use crate::protocol::Api;
use crate::search::Variable;
use crate::slo::Slo;
use crate::stats::Percentiles;
use crate::tokens::Tokenizer;
use crate::util::files::{self, cap};
use crate::workload::synthetic::{Lengths, Plan};
use crate::workload::{
    Arrival, Expect, OpenLoop, Pacing, Prompt, RoundRobin, Warmup, is_secret_header, lines, mask_key,
};
use serde_json::{Value, json};

pub use metrics::MetricsEndpoint;
pub use mock::{DemoPlan, MockPlan};
pub use probe::ProbePlan;
pub use report::{ComparePlan, ReportPlan};
pub use scale::Scale;
pub use server::ScrapePlan;
use std::sync::Arc;
use std::time::Duration;
pub use sweep::{Levels, SweepPlan, max_level};
pub use usage::refused;

/// A command's arguments: a plan to run, or the help text asked for.
pub enum Parsed<T> {
    Plan(T),
    Help(String),
}

/// More workers than this is a typo, not a test: each one is a thread and a connection.
pub const MAX_CONCURRENCY: usize = 100_000;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_TTFB_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_GRACE: Duration = Duration::from_secs(5);
/// More retries than this is a typo: each one multiplies the load a failing server gets.
const MAX_RETRIES: u32 = 100;

/// A validated run. A sweep level is a copy with another load (`Config::at`).
#[derive(Clone)]
pub struct Config {
    pub api: Api,
    /// How `--api auto` chose the API, for the banner.
    pub api_note: Option<Text>,
    /// What the client sends and enforces: endpoint, protocol, bodies, limits, TLS.
    pub client: ClientSettings,
    /// Requests per conversation (`--turns`), 1 = a new conversation every time.
    pub turns: u32,
    /// The pause before a session's next turn (`--think-time`).
    pub think_time: Option<Duration>,
    /// A session is one prompt's conversation (`PromptSetup::conversations`).
    pub conversations: bool,
    pub keys: Option<RoundRobin<String>>,
    pub prompts: RoundRobin<Prompt>,
    /// Where prompts came from, for reports ("--param-file p.txt", "--prompt").
    pub prompt_source: String,
    /// `--dataset` entries left out, said before the run.
    pub prompts_skipped: Option<crate::output::warnings::Warning>,
    /// `--trace`: each request's instant in the run, in the order of `prompts` (request k sends
    /// prompt k at its instant).
    pub trace: Option<Arc<Vec<Duration>>>,
    /// A synthetic pool's plan (`Config::at` builds a fresh pool from it for each sweep level).
    pub synthetic: Option<Arc<Plan>>,
    /// `--output-tokens`: the distribution of output lengths asked for.
    pub output_tokens: Option<Lengths>,
    pub pacing: Pacing,
    /// After Ctrl-C, how long in-flight requests may finish before they are cut.
    pub grace: Duration,
    pub quiet: bool,
    /// Check the target with one request before the load starts (off: `--no-preflight`).
    pub preflight: bool,
    /// Keep the run second by second (for `--series` and `--html`).
    pub series: bool,
    /// The language people read (`--lang`, else the locale).
    pub lang: Lang,
    /// Redraw a progress line on stderr: a request budget (`-n`) and stderr a terminal.
    pub progress: bool,
    /// The objectives each request is judged against (`--slo`).
    pub slo: Option<Slo>,
    /// The percentiles every distribution reports (`--percentiles`; the standard four without).
    pub percentiles: Percentiles,
    /// This process's shard of a run over several, the run id and the start instant.
    pub scale: Scale,
    /// The servers' metrics pages read during the run (`--server-metrics`).
    pub scrape: Option<server::ScrapePlan>,
    /// `--repeat`: how many times the test runs, and the pause between two runs.
    pub repeat: u32,
    pub repeat_pause: Duration,
    /// Where the live metrics are served (`--metrics-listen`), bound before the run.
    pub metrics: Option<Arc<MetricsEndpoint>>,
}

/// What a run leaves behind: the files it writes, owned by whoever writes them (never by
/// workers), and the thresholds its summary is checked against.
#[derive(Debug, Default)]
pub struct Outputs {
    pub json: Option<OutputFile>,
    pub records: Option<OutputFile>,
    pub csv: Option<OutputFile>,
    pub vllm_json: Option<OutputFile>,
    pub series: Option<OutputFile>,
    pub html: Option<OutputFile>,
    pub thresholds: Vec<Threshold>,
    /// `--out-dir`, to name after the run with what went there.
    pub out_dir: Option<String>,
}

/// `--out-dir DIR`: every output of a command under its default name in DIR, unless the
/// output's own flag names a path.
struct OutDir(Option<String>);

impl OutDir {
    /// Makes the folder (and its parents) now, so a bad path fails before any request.
    fn create(given: &Option<String>) -> Result<OutDir, Error> {
        if let Some(dir) = given {
            let path = std::path::Path::new(dir);
            if path.exists() && !path.is_dir() {
                return Err(Error::file("--out-dir", dir, "is a file, not a folder: give a folder's path"));
            }
            std::fs::create_dir_all(path).map_err(|e| {
                Error::file(
                    "--out-dir",
                    dir,
                    format!("cannot make the folder ({e}): check the path and its permissions"),
                )
            })?;
        }
        Ok(OutDir(given.clone()))
    }

    /// `own` when given, else `name` in the folder.
    fn pick(&self, own: &Option<String>, name: &str) -> Option<String> {
        own.clone().or_else(|| {
            self.0.as_ref().map(|d| std::path::Path::new(d).join(name).to_string_lossy().into_owned())
        })
    }

    /// The folder, when one was given.
    fn written(&self) -> Option<String> {
        self.0.clone()
    }
}

impl Config {
    pub fn from_args(a: &RunArgs) -> Result<(Config, Outputs), Error> {
        Config::build(a, false)
    }

    /// Every check of `run`'s flags; `measured_by_sweep`: each run's length is a sweep's to set
    /// (`--find` sizes its measurements), so an open loop needs neither -d nor -n.
    fn build(a: &RunArgs, measured_by_sweep: bool) -> Result<(Config, Outputs), Error> {
        let dir = OutDir::create(&a.out_dir)?;
        let a = &RunArgs {
            json: dir.pick(&a.json, "summary.json"),
            records: dir.pick(&a.records, "records.jsonl"),
            csv: dir.pick(&a.csv, "records.csv"),
            vllm_json: dir.pick(&a.vllm_json, "vllm.json"),
            series: dir.pick(&a.series, "series.jsonl"),
            html: dir.pick(&a.html, "report.html"),
            ..a.clone()
        };
        let base = base_url(a)?;
        let api = api::setup(a, &base)?;
        let open = load::open_loop(a)?;
        let total_concurrency = if open.is_some() || a.trace.is_some() {
            load::max_concurrency(a, MAX_CONCURRENCY)?
        } else {
            concurrency(a)?
        };
        let scale = scale::setup(a, total_concurrency, chrono::Utc::now(), &|k| std::env::var(k).ok())?;
        // A shard runs its part of the whole run's workers (or cap), rate and budget.
        let concurrency = scale.part(total_concurrency as u64) as usize;
        // Each shard its own arrivals: the same seed would start every shard's requests together.
        let open = open.map(|o| match scale.shard {
            Some(s) => {
                OpenLoop { rate: s.rate_part(o.rate), seed: o.seed.wrapping_add(u64::from(s.index)), ..o }
            }
            None => o,
        });
        let run_for = a.duration.as_deref().map(|d| duration("--duration", d)).transpose()?;
        if open.is_some()
            && run_for.is_none()
            && a.requests.is_none()
            && !measured_by_sweep
            && a.trace.is_none()
        {
            return Err(Error::Usage(
                "--rate starts requests until the run ends: give -d (a duration) or -n (a request count)"
                    .into(),
            ));
        }
        let warmup = load::warmup(a, run_for)?;
        if run_for == Some(Duration::ZERO) {
            return Err(Error::flag("--duration", "0", "must be longer than 0 (e.g. 60s)"));
        }
        if a.requests == Some(0) {
            return Err(Error::flag("--requests", "0", "must be at least 1"));
        }
        let ramp_up = a.ramp_up.as_deref().map(|d| duration("--ramp-up", d)).transpose()?;
        let timeouts = Timeouts {
            total: positive("--timeout", &a.timeout, DEFAULT_TIMEOUT)?,
            connect: positive("--connect-timeout", &a.connect_timeout, DEFAULT_CONNECT_TIMEOUT)?,
            ttfb: positive("--ttfb-timeout", &a.ttfb_timeout, DEFAULT_TTFB_TIMEOUT)?,
            idle: positive("--idle-timeout", &a.idle_timeout, DEFAULT_IDLE_TIMEOUT)?,
        };
        let retries = a.retries.unwrap_or(0);
        if retries > MAX_RETRIES {
            return Err(Error::flag("--retries", retries.to_string(), format!("at most {MAX_RETRIES}")));
        }
        if a.max_tokens == Some(0) {
            return Err(Error::flag("--max-tokens", "0", "must be at least 1"));
        }
        let tokenizer = match a.tokenizer.as_deref() {
            None => Tokenizer::Estimate,
            Some(v) => match Tokenizer::builtin(v) {
                Some(t) => t.map_err(|fix| Error::flag("--tokenizer", v, fix))?,
                None if std::path::Path::new(v).exists() => {
                    let json = files::read("--tokenizer", v, cap::TOKENIZER)?;
                    Tokenizer::from_json(v, &json).map_err(|p| Error::file("--tokenizer", v, p))?
                }
                None => {
                    return Err(Error::flag(
                        "--tokenizer",
                        v,
                        format!("no such tokenizer or file: give {}", Tokenizer::CHOICES),
                    ));
                }
            },
        };
        let replay = trace::setup(a, &tokenizer)?;
        // A trace is an open loop at its own instants (its mean rate sizes the first workers).
        let open = match &replay {
            Some(r) => Some(OpenLoop { rate: r.rate, arrival: Arrival::Trace, seed: 1 }),
            None => open,
        };
        let (prompts, trace) = match replay {
            Some(r) => {
                let setup = prompts::PromptSetup {
                    prompts: r.prompts,
                    source: r.source,
                    ignore_eos: true,
                    extra_lines: Vec::new(),
                    skipped: None,
                    synthetic: None,
                    output: None,
                    conversations: false,
                };
                (setup, Some(Arc::new(r.offsets)))
            }
            None => (prompts::setup(a, &tokenizer)?, None),
        };
        body::ignore_eos(a, api.api, &prompts.prompts)?;
        let extra = body::extra_body(a, api.api)?;
        let prompt_extra = match (&a.param_file, &a.dataset) {
            (Some(path), _) => body::prompt_extras(path, &prompts.extra_lines, extra.as_ref(), api.api)?,
            (None, Some(path)) => body::dataset_extras(path, &prompts.prompts, extra.as_ref(), api.api)?,
            (None, None) => Vec::new(),
        };
        let config = Config {
            api: api.api,
            api_note: api.note,
            client: ClientSettings {
                protocol: api.protocol,
                url: api.url,
                headers: a.header.iter().map(|h| header(h)).collect::<Result<_, _>>()?,
                model: a.model.clone(),
                max_tokens: a.max_tokens,
                output: prompts
                    .output
                    .filter(|_| prompts.synthetic.is_none())
                    .map(|o| (o, a.seed.unwrap_or(1))),
                inputs: api.inputs,
                ignore_eos: prompts.ignore_eos,
                extra,
                prompt_extra: Arc::new(prompt_extra),
                tokenizer: Arc::new(tokenizer),
                timeouts,
                retries,
                tls: tls(a)?,
                workers: concurrency,
                keep_answers: api.turns > 1 && api.api != Api::DifyChat,
                expect: a
                    .expect
                    .as_deref()
                    .map(|e| Expect::parse_spec(e).map_err(|fix| Error::flag("--expect", e, fix)))
                    .transpose()?,
                cancel: a.cancel.as_deref().map(|c| cancel::cancel(c, a.seed.unwrap_or(1))).transpose()?,
            },
            turns: api.turns,
            think_time: think_time(a, api.turns)?,
            conversations: prompts.conversations,
            keys: keys(a)?.map(|k| {
                let offset = scale.offset_in(k.len());
                RoundRobin::new(k).starting_at(offset)
            }),
            prompts: {
                let offset = scale.offset_in(prompts.prompts.len());
                RoundRobin::new(prompts.prompts).starting_at(offset)
            },
            prompt_source: prompts.source,
            trace,
            prompts_skipped: prompts.skipped,
            synthetic: prompts.synthetic.map(Arc::new),
            output_tokens: prompts.output,
            pacing: Pacing {
                concurrency,
                ramp_up: ramp_up.unwrap_or_default(),
                duration: run_for,
                requests: a.requests.map(|n| scale.part(n)),
                open,
                warmup,
            },
            grace: a.grace.as_deref().map(|d| duration("--grace", d)).transpose()?.unwrap_or(DEFAULT_GRACE),
            quiet: a.quiet,
            preflight: !a.no_preflight,
            series: a.series.is_some() || a.html.is_some(),
            lang: lang(a.lang.as_deref())?,
            progress: a.requests.is_some() && crate::util::sys::stderr_is_terminal(),
            slo: slo(&a.slo)?,
            percentiles: percentiles(&a.percentiles)?,
            scale,
            scrape: server::plan(&a.server_metrics, a.scrape_interval.as_deref())?,
            repeat: repeat(a)?,
            repeat_pause: a
                .repeat_pause
                .as_deref()
                .map(|d| duration("--repeat-pause", d))
                .transpose()?
                .unwrap_or_default(),
            metrics: metrics::setup(a)?,
        };
        request_head_fits(&config)?;
        let mut outputs = outputs(a, &config.percentiles)?;
        outputs.out_dir = dir.written();
        Ok((config, outputs))
    }

    /// This run at another load, as a sweep level: `value` workers or requests a second (split
    /// like the flags when this process is a shard), `budget` the length of one `--find`
    /// measurement, `run_id` the level's own. No table and no progress line: the sweep draws
    /// its own. An open loop keeps this run's arrivals, seed and `--max-concurrency`.
    pub fn at(
        &self,
        variable: Variable,
        value: f64,
        budget: Option<(Duration, u64)>,
        run_id: String,
    ) -> Config {
        let mut c = self.clone();
        match variable {
            Variable::Concurrency => {
                let workers = c.scale.part(value as u64) as usize;
                (c.pacing.concurrency, c.pacing.open) = (workers, None);
            }
            Variable::Rate => {
                let rate = c.scale.shard.map_or(value, |s| s.rate_part(value));
                let open = self.pacing.open.unwrap_or(OpenLoop { rate, arrival: Arrival::Poisson, seed: 1 });
                c.pacing.open = Some(OpenLoop { rate, ..open });
            }
        }
        c.client.workers = c.pacing.concurrency;
        if let Some((duration, requests)) = budget {
            (c.pacing.duration, c.pacing.requests) = (Some(duration), Some(c.scale.part(requests)));
        }
        c.scale.run_id = run_id;
        (c.quiet, c.progress) = (true, false);
        c
    }

    /// The same run with synthetic prompts drawn afresh for sweep level `level` (0 keeps the
    /// run's own pool): the same lengths and shared prefixes, new unique parts, so a level does
    /// not find the last level's prompts in a server's prefix cache. Prompts from a file or
    /// `--prompt` stay as they are. Built here, before the level's threads start.
    pub fn reseed(&mut self, level: usize) {
        let Some(plan) = self.synthetic.as_ref().filter(|_| level > 0) else { return };
        let prompts = plan.build(level as u64, &self.client.tokenizer);
        let offset = self.scale.offset_in(prompts.len());
        self.prompts = RoundRobin::new(prompts).starting_at(offset);
    }

    /// The configuration as reported in summaries, with every secret masked.
    pub fn describe(&self) -> Value {
        let secs = |d: Duration| crate::util::decimals::round(d.as_secs_f64(), 6);
        let c = &self.client;
        let mut described = json!({
            "api": self.api.name(),
            "url": c.url,
            "model": c.model,
            "max_tokens": c.max_tokens,
            "tokenizer": c.tokenizer.to_string(),
            "concurrency": self.pacing.concurrency,
            "ramp_up_s": secs(self.pacing.ramp_up),
            "duration_s": self.pacing.duration.map(secs),
            "requests": self.pacing.requests,
            "rate": self.pacing.open.map(|o| o.rate),
            "arrival": self.pacing.open.map(|o| o.arrival.name()),
            "burstiness": self.pacing.open.and_then(|o| match o.arrival {
                crate::workload::Arrival::Gamma(k) => Some(k),
                _ => None,
            }),
            "seed": self.pacing.open.map(|o| o.seed),
            "warmup_s": match self.pacing.warmup {
                Some(Warmup::Time(d)) => Some(secs(d)),
                _ => None,
            },
            "warmup_requests": match self.pacing.warmup {
                Some(Warmup::Requests(n)) => Some(n),
                _ => None,
            },
            "timeout_s": secs(c.timeouts.total),
            "connect_timeout_s": secs(c.timeouts.connect),
            "ttfb_timeout_s": secs(c.timeouts.ttfb),
            "idle_timeout_s": secs(c.timeouts.idle),
            "retries": c.retries,
            "tls": match c.tls {
                Tls::WebPki => "webpki-roots",
                Tls::CaCerts(_) => "ca-cert",
                Tls::Insecure => "insecure",
            },
            "prompts": self.prompts.len(),
            "prompt_tokens": self.synthetic.as_ref().map(|p| p.lengths.to_string()),
            "output_tokens": self.output_tokens.map(|o| o.to_string()),
            "prefix_tokens": self.synthetic.as_ref().and_then(|p| p.prefix).map(|p| p.tokens),
            "prefix_groups": self.synthetic.as_ref().and_then(|p| p.prefix).map(|p| p.groups),
            "prefix_zipf": self.synthetic.as_ref().and_then(|p| p.prefix).and_then(|p| p.zipf),
            "cache_bust": self.synthetic.as_ref().is_some_and(|p| p.cache_bust),
            "prompt_pool": self.synthetic.as_ref().map(|p| p.pool),
            "prompt_source": self.prompt_source,
            "turns": self.turns,
            "think_time_s": self.think_time.map(secs),
            "api_keys": self.keys.as_ref().map_or(vec![], |k| k.items().iter().map(|k| mask_key(k)).collect()),
            "slo": self.slo.as_ref().map(ToString::to_string),
            "percentiles": (!self.percentiles.is_standard()).then(|| self.percentiles.as_slice()),
            "headers": c.headers.iter().map(|(k, v)| format!("{k}: {}", mask_header(k, v))).collect::<Vec<_>>(),
            "run_id": self.scale.run_id,
            "shard": self.scale.shard.map(|s| s.to_string()),
            "start_at": self.scale.start_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            "server_metrics": self.scrape.as_ref().map_or(vec![], |p| p.urls.clone()),
            "scrape_interval_s": self.scrape.as_ref().map(|p| secs(p.every)),
        });
        // Past what one `json!` can expand.
        described["repeat"] = json!(self.repeat);
        described["repeat_pause_s"] = json!(secs(self.repeat_pause));
        described
    }
}

/// `--repeat N`: 1 to 1,000 runs; `--repeat-pause` only with more than one. A `--start-at`
/// instant starts one run only (the others would start at once, out of step with other shards).
fn repeat(a: &RunArgs) -> Result<u32, Error> {
    let n = a.repeat.unwrap_or(1);
    if !(1..=1000).contains(&n) {
        return Err(Error::flag("--repeat", n.to_string(), "give a count from 1 to 1000"));
    }
    if n == 1 && a.repeat_pause.is_some() {
        return Err(Error::flag(
            "--repeat-pause",
            a.repeat_pause.as_deref().unwrap_or_default(),
            "it is the pause between repeated runs: give --repeat N (N > 1) too",
        ));
    }
    if n > 1 && a.start_at.is_some() {
        return Err(Error::Usage(
            "--repeat and --start-at: a start instant holds one run (the next would start at once, out of step with the other shards); repeat the command instead".into(),
        ));
    }
    Ok(n)
}

/// `--think-time`: only between the turns of a session. Sessions do not go with `--trace`,
/// whose every request has its own instant.
fn think_time(a: &RunArgs, turns: u32) -> Result<Option<Duration>, Error> {
    if turns > 1 && a.trace.is_some() {
        return Err(Error::Usage(
            "--turns and --trace both say when requests start: a trace's every entry has its own instant; give one"
                .into(),
        ));
    }
    let Some(given) = a.think_time.as_deref() else { return Ok(None) };
    if turns < 2 {
        return Err(Error::Usage(
            "--think-time is the pause between a session's turns: add --turns N (N ≥ 2)".into(),
        ));
    }
    duration("--think-time", given).map(Some)
}

/// Header values that can carry credentials are masked like keys.
fn mask_header(name: &str, value: &str) -> String {
    if is_secret_header(name) { mask_key(value) } else { value.to_string() }
}

fn base_url(a: &RunArgs) -> Result<String, Error> {
    if let Some(url) = &a.url {
        if a.host.is_some() || a.port.is_some() {
            return Err(Error::Usage(
                "give either --url or --host/--port, not both (--url http://host:port is the same as --host host --port port)".into(),
            ));
        }
        return check_url(url);
    }
    let host = a.host.as_deref().unwrap_or("localhost");
    let port = a.port.unwrap_or(8080);
    if host.contains("://") {
        return check_url(&format!("{}:{port}", host.trim_end_matches('/')));
    }
    if host.is_empty() || host.contains('/') {
        return Err(Error::flag("--host", host, "give a host name or IP such as 127.0.0.1 (or use --url)"));
    }
    let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.into() };
    Ok(format!("http://{host}:{port}"))
}

fn check_url(url: &str) -> Result<String, Error> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && !url.contains(char::is_whitespace) => {
            Ok(url.to_string())
        }
        _ => Err(Error::flag("--url", url, "give an http:// or https:// URL such as http://127.0.0.1:8000")),
    }
}

fn concurrency(a: &RunArgs) -> Result<usize, Error> {
    let (flag, n) = match (a.concurrency, a.threads) {
        (Some(c), Some(t)) if c != t => {
            return Err(Error::Usage(format!(
                "--concurrency {c} and --threads {t} disagree: --threads is an alias, give one of them"
            )));
        }
        (Some(c), _) => ("--concurrency", c),
        (None, Some(t)) => ("--threads", t),
        (None, None) => return Ok(1),
    };
    if n == 0 {
        return Err(Error::flag(flag, "0", "must be at least 1 worker"));
    }
    if n > MAX_CONCURRENCY {
        return Err(Error::flag(flag, n.to_string(), format!("at most {MAX_CONCURRENCY} workers")));
    }
    Ok(n)
}

fn keys(a: &RunArgs) -> Result<Option<Vec<String>>, Error> {
    match (&a.api_key, &a.api_key_file) {
        (Some(_), Some(_)) => Err(Error::Usage("give --api-key or --api-key-file, not both".into())),
        (Some(k), None) if k.trim().is_empty() => {
            Err(Error::flag("--api-key", "", "must not be empty (omit it if the server needs no key)"))
        }
        (Some(k), None) => Ok(Some(vec![k.trim().to_string()])),
        (None, Some(path)) => {
            let keys = lines::read_lines("--api-key-file", path, "API key")?;
            Ok(Some(keys.into_iter().map(|k| k.trim().to_string()).collect()))
        }
        (None, None) => Ok(std::env::var("API_KEY").ok().filter(|k| !k.trim().is_empty()).map(|k| vec![k])),
    }
}

/// Room for the request line's method and version and the headers llmload adds itself
/// (`Host`, `Content-Type`, `Accept`, `Content-Length`, `User-Agent`, the API's own).
const FIXED_HEAD_BYTES: usize = 512;

/// A request head must fit the connection's output buffer; one that cannot would fail every
/// request, so it is refused here, with the parts that make it long.
fn request_head_fits(c: &Config) -> Result<(), Error> {
    let key = c.keys.as_ref().map_or(0, |k| k.items().iter().map(String::len).max().unwrap_or(0));
    let headers: usize = c.client.headers.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    let size = FIXED_HEAD_BYTES + c.client.url.len() + headers + key;
    if size > client::OUTPUT_BUFFER {
        return Err(Error::Usage(format!(
            "the request head would be about {size} bytes (--url {} bytes, --header {headers} bytes, the longest API key {key} bytes): llmload sends request heads up to {} KiB; shorten the headers",
            c.client.url.len(),
            client::OUTPUT_BUFFER >> 10
        )));
    }
    Ok(())
}

fn header(h: &str) -> Result<(String, String), Error> {
    // The error quotes the header masked when it may hold a credential (`Authorization Bearer …`).
    let bad = || {
        let shown = if is_secret_header(h) { mask_key(h) } else { h.to_string() };
        Error::flag("--header", shown, "write it as 'Name: value'")
    };
    let (name, value) = h.split_once(':').ok_or_else(bad)?;
    let name = name.trim();
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(bad());
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// A duration flag that must be longer than zero, or its default.
fn positive(flag: &'static str, given: &Option<String>, default: Duration) -> Result<Duration, Error> {
    match given.as_deref().map(|d| duration(flag, d)).transpose()? {
        Some(Duration::ZERO) => Err(Error::flag(flag, "0", "must be longer than 0 (e.g. 30s)")),
        Some(d) => Ok(d),
        None => Ok(default),
    }
}

fn tls(a: &RunArgs) -> Result<Tls, Error> {
    match (&a.ca_cert, a.insecure) {
        (Some(_), true) => Err(Error::Usage(
            "give --ca-cert or --insecure, not both (--ca-cert keeps verification on)".into(),
        )),
        (None, true) => Ok(Tls::Insecure),
        (None, false) => Ok(Tls::WebPki),
        (Some(path), false) => {
            let bytes = files::read("--ca-cert", path, cap::SMALL)?;
            let certs =
                client::tls::pem_certificates(&bytes).map_err(|p| Error::file("--ca-cert", path, p))?;
            Ok(Tls::CaCerts(certs))
        }
    }
}

fn outputs(a: &RunArgs, percentiles: &Percentiles) -> Result<Outputs, Error> {
    // Checked before any file is created, so a typo truncates nothing.
    let thresholds = thresholds(&a.threshold)?;
    reported(&thresholds, percentiles)?;
    distinct(&[
        ("--json", &a.json),
        ("--records", &a.records),
        ("--csv", &a.csv),
        ("--vllm-json", &a.vllm_json),
        ("--series", &a.series),
        ("--html", &a.html),
    ])?;
    Ok(Outputs {
        json: open("--json", &a.json)?,
        records: open("--records", &a.records)?,
        csv: open("--csv", &a.csv)?,
        vllm_json: open("--vllm-json", &a.vllm_json)?,
        series: open("--series", &a.series)?,
        html: open("--html", &a.html)?,
        thresholds,
        out_dir: None,
    })
}

/// Creates the output `path` names for `flag`, if it names one.
/// `--lang` when given, else the locale's language (`LC_ALL`, then `LC_MESSAGES`, then `LANG`).
pub fn lang(flag: Option<&str>) -> Result<Lang, Error> {
    let var = |name| std::env::var(name).ok();
    let (all, messages, lang) = (var("LC_ALL"), var("LC_MESSAGES"), var("LANG"));
    Lang::resolve(flag, all.as_deref(), messages.as_deref(), lang.as_deref())
        .map_err(|fix| Error::flag("--lang", flag.unwrap_or_default(), fix))
}

pub fn open(flag: &'static str, path: &Option<String>) -> Result<Option<OutputFile>, Error> {
    path.as_deref().map(|p| OutputFile::create(flag, p)).transpose()
}

/// `--slo`, parsed, when given; a bad one is an error that names the part and the fix.
pub fn slo(text: &Option<String>) -> Result<Option<Slo>, Error> {
    text.as_deref().map(|t| Slo::parse(t).map_err(|fix| Error::flag("--slo", t, fix))).transpose()
}

/// `--percentiles`, parsed, or the standard four without it.
pub fn percentiles(text: &Option<String>) -> Result<Percentiles, Error> {
    text.as_deref()
        .map_or(Ok(Percentiles::default()), Percentiles::parse)
        .map_err(|fix| Error::flag("--percentiles", text.as_deref().unwrap_or_default(), fix))
}

/// Every threshold that names a percentile names one the summary reports: a threshold reads
/// the JSON, which holds only those.
pub fn reported(thresholds: &[Threshold], percentiles: &Percentiles) -> Result<(), Error> {
    for t in thresholds {
        if let Some(p) = t.subject.percentile().filter(|p| !percentiles.contains(*p)) {
            let (now, with) = (percentiles.to_string(), Percentiles::parse(&format!("{percentiles},{p}")));
            let with = with.map_or_else(|_| format!("{p}"), |w| w.to_string());
            return Err(Error::flag(
                "--threshold",
                &t.expr,
                format!(
                    "{} is not reported (the percentiles are {now}): give --percentiles {with}",
                    t.subject
                ),
            ));
        }
    }
    Ok(())
}

/// Every `--threshold`, parsed; the first bad one is an error that names it and the fix.
pub fn thresholds(exprs: &[String]) -> Result<Vec<Threshold>, Error> {
    exprs.iter().map(|e| Threshold::parse(e).map_err(|fix| Error::flag("--threshold", e, fix))).collect()
}

/// A sweep level `--level` names (`report`, `compare`): `c8` or `r12.5`, as the sweep labels it.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub variable: Variable,
    pub value: f64,
    /// As given.
    pub text: String,
}

impl Level {
    /// Whether a sweep's level label (`c8`, `r12.500`) names this level.
    pub fn is(&self, label: &str) -> bool {
        Variable::parse_label(label) == Some((self.variable, self.value))
    }
}

/// `--level`, parsed, when given.
pub fn level(text: Option<&str>) -> Result<Option<Level>, Error> {
    let Some(t) = text else { return Ok(None) };
    match Variable::parse_label(t) {
        Some((variable, value)) => Ok(Some(Level { variable, value, text: t.to_string() })),
        None => Err(Error::flag(
            "--level",
            t,
            "give a sweep level as its label: c8 (concurrency 8) or r12.5 (12.5 req/s)",
        )),
    }
}

/// Refuses two output flags that name one file (or both `-`): one would overwrite the other.
pub fn distinct(outputs: &[(&str, &Option<String>)]) -> Result<(), Error> {
    for (i, (flag, path)) in outputs.iter().enumerate() {
        let Some(path) = path else { continue };
        if let Some((other, _)) = outputs[i + 1..].iter().find(|(_, p)| p.as_ref() == Some(path)) {
            let file = if path == "-" { "stdout" } else { path };
            return Err(Error::Usage(format!(
                "{flag} and {other} name the same file ({file}): give them different paths"
            )));
        }
    }
    Ok(())
}

/// Parses `500ms`, `30s`, `5m`, `1h`, `1.5s` or bare seconds (`60`, the seed's form).
pub fn duration(flag: &'static str, s: &str) -> Result<Duration, Error> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "" | "s" | "sec" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => f64::NAN,
    };
    match num.parse::<f64>() {
        Ok(n) if scale.is_finite() && n.is_finite() && n * scale < 1e9 => {
            Ok(Duration::from_secs_f64(n * scale))
        }
        _ => Err(Error::flag(flag, s, "use a duration such as 500ms, 30s, 5m, 1h or bare seconds (60)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(f: impl FnOnce(&mut RunArgs)) -> RunArgs {
        let mut a = RunArgs::default();
        f(&mut a);
        a
    }

    fn err(f: impl FnOnce(&mut RunArgs)) -> String {
        match Config::from_args(&args(f)) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn durations_in_every_form() {
        let d = |s| duration("--duration", s).unwrap();
        assert_eq!(d("500ms"), Duration::from_millis(500));
        assert_eq!(d("30s"), Duration::from_secs(30));
        assert_eq!(d("5m"), Duration::from_secs(300));
        assert_eq!(d("1h"), Duration::from_secs(3600));
        assert_eq!(d("60"), Duration::from_secs(60));
        assert_eq!(d("1.5s"), Duration::from_millis(1500));
        for bad in ["", "abc", "10x", "-5", "5 minutes", "1e99"] {
            assert!(duration("--duration", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seed_flags_build_a_dify_config() {
        let a = args(|a| {
            a.host = Some("127.0.0.1".into());
            a.port = Some(80);
            a.api_key = Some("app-1234567890abcdef".into());
            a.threads = Some(10);
            a.ramp_up = Some("10".into());
            a.duration = Some("60".into());
        });
        let (c, _) = Config::from_args(&a).unwrap();
        assert_eq!(c.api, Api::DifyChat);
        assert_eq!(c.client.url, "http://127.0.0.1:80/v1/chat-messages");
        assert_eq!(c.pacing.concurrency, 10);
        assert_eq!(c.pacing.ramp_up, Duration::from_secs(10));
        assert_eq!(c.pacing.duration, Some(Duration::from_secs(60)));
        assert_eq!(c.prompts.items(), [Prompt::text("你好")]);
        assert_eq!(
            c.api_note.as_ref().map(|t| t.en.as_str()),
            Some("--api auto: dify-chat (the URL path names no API; give --api to choose)")
        );
        assert_eq!(c.describe()["api_keys"], json!(["app-…cdef"]));
    }

    #[test]
    fn each_bad_flag_names_itself_and_the_fix() {
        assert_eq!(
            err(|a| a.concurrency = Some(0)),
            "--concurrency \"0\" is invalid: must be at least 1 worker"
        );
        assert!(
            err(|a| a.api = Some("grpc".into()))
                .starts_with("--api \"grpc\" is invalid: unknown API: use one of")
        );
        assert!(
            err(|a| a.url = Some("localhost:8000".into())).starts_with("--url \"localhost:8000\" is invalid")
        );
        assert!(err(|a| a.duration = Some("10x".into())).starts_with("--duration \"10x\" is invalid"));
        assert!(
            err(|a| {
                a.concurrency = Some(2);
                a.threads = Some(3)
            })
            .contains("disagree")
        );
        assert!(
            err(|a| {
                a.url = Some("http://h".into());
                a.port = Some(1)
            })
            .starts_with("give either --url")
        );
        assert!(err(|a| a.header = vec!["NoColon".into()]).starts_with("--header \"NoColon\" is invalid"));
        assert!(
            err(|a| a.param_file = Some("/nonexistent/p.txt".into()))
                .ends_with("file not found: check the path")
        );
        assert!(
            err(|a| a.json = Some("/nonexistent-dir/out.json".into()))
                .starts_with("--json /nonexistent-dir/out.json: cannot create it")
        );
        assert_eq!(err(|a| a.requests = Some(0)), "--requests \"0\" is invalid: must be at least 1");
        assert!(
            err(|a| a.percentiles = Some("50,100".into()))
                .starts_with("--percentiles \"50,100\" is invalid: 100 is not between 0 and 100")
        );
        assert_eq!(
            err(|a| a.threshold = vec!["ttft.p99.9<2s".into()]),
            "--threshold \"ttft.p99.9<2s\" is invalid: ttft.p99.9 is not reported (the percentiles are 50,90,95,99): give --percentiles 50,90,95,99,99.9"
        );
        assert_eq!(
            err(|a| {
                a.percentiles = Some("50,99.9".into());
                a.threshold = vec!["ttft.p95<2s".into()]
            }),
            "--threshold \"ttft.p95<2s\" is invalid: ttft.p95 is not reported (the percentiles are 50,99.9): give --percentiles 50,95,99.9"
        );
    }

    #[test]
    fn percentiles_are_recorded_only_when_asked_for() {
        let (c, _) = Config::from_args(&args(|_| {})).unwrap();
        assert_eq!(c.describe()["percentiles"], Value::Null);
        let (c, _) = Config::from_args(&args(|a| {
            a.percentiles = Some("99.90,50".into());
            a.threshold = vec!["ttft.p99.9<2s".into(), "ttft.mean<1s".into()];
        }))
        .unwrap();
        assert_eq!(c.describe()["percentiles"], json!([50.0, 99.9]));
    }

    #[test]
    fn a_request_head_too_long_to_send_is_refused() {
        let e = err(|a| a.header = vec![format!("X-Big: {}", "a".repeat(9000))]);
        assert!(e.starts_with("the request head would be about 9"), "{e}");
        assert!(e.ends_with("llmload sends request heads up to 8 KiB; shorten the headers"), "{e}");
        assert!(
            Config::from_args(&args(|a| a.header = vec![format!("X-Big: {}", "a".repeat(6000))])).is_ok()
        );
    }

    #[test]
    fn credentials_in_headers_are_masked() {
        let a = args(|a| {
            a.header = vec!["Authorization: Bearer sk-abcdefghijklmnop".into(), "X-Trace: 1".into()]
        });
        let (c, _) = Config::from_args(&a).unwrap();
        assert_eq!(c.describe()["headers"], json!(["Authorization: Bear…mnop", "X-Trace: 1"]));
    }

    #[test]
    fn a_tokenizer_also_counts_the_prompts() {
        let text = "internationalization and localization";
        let a = args(|a| {
            a.prompt = Some(text.into());
            a.tokenizer = Some("cl100k".into());
        });
        let (c, _) = Config::from_args(&a).unwrap();
        let cl100k = Tokenizer::builtin("cl100k").unwrap().unwrap().count(text);
        assert_ne!(cl100k, crate::tokens::estimate(text), "the test needs a text they disagree on");
        assert_eq!(c.prompts.items()[0].counted_tokens, cl100k);
    }
}
