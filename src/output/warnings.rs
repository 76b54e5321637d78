//! Every warning llmload gives, in one place: an enum of what happened, produced wherever it is
//! noticed (the engine, `commands`, `llmload report`, the finished summary), whose `Display` is
//! the sentence with what to do next. The same text reaches stderr, the text summary and the
//! JSON's `warnings`. Whether the client itself limited the run is not a warning but the verdict
//! (`summary::verdict`), which the text summary shows under `client`.

use crate::lang::{Lang, Text};
use crate::summary::Summary;
use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// `--insecure`: certificates were not verified.
    Insecure,
    /// The open-file limit is below what the workers' connections need.
    FileLimit { limit: u64, need: u64, workers: usize },
    /// `--ramp-up` is longer than `--duration`: the later workers never start.
    RampUpTooLong { ramp_up: Duration, duration: Duration, starting: usize, workers: usize },
    /// The preflight request failed in a way the load test goes on to measure (5xx, 429…).
    PreflightNoted { what: String },
    /// The OS refused to start more worker threads.
    WorkersShort { started: usize, workers: usize, error: String },
    /// Open loop: requests the schedule called for that were still waiting for a free worker
    /// when the run ended, so never sent.
    Unsent { count: u64, max_concurrency: usize },
    /// Ctrl-C or SIGTERM ended the run; `forced` when a second one cut the grace period.
    Interrupted { after_s: f64, forced: bool },
    /// Writing `--records` failed mid-run; the summary still counts every request.
    RecordsStopped { error: String },
    /// The reporter thread died, so the statistics are lost (the records on disk are not).
    ReporterFailed,
    /// `llmload report` skipped a records file's unfinished last line.
    CutRecord { file: String },
    /// `llmload report` read records of different runs: each named by its file, API and URL.
    MixedRuns { first: String, second: String },
    /// `llmload report` was given records of some shards of a run, not all.
    MissingShards { missing: Vec<String>, given: usize, count: u32 },
    /// Every request failed: the most common kind, its count and first message.
    AllFailed { kind: String, count: u64, message: String },
    /// Some requests failed: the share of finished requests and the commonest kinds.
    SomeFailed { failed: u64, finished: u64, top: Vec<(String, u64)> },
    /// Every request was cut before it ended.
    AllCancelled { cancelled: u64, interrupted: bool },
    /// Requests the server had left silent when the run cut them (`RunStats::stalls`).
    Stalled { count: u64, longest_ms: u64, interrupted: bool },
    /// The run ended before any request was sent.
    NothingSent,
    /// Requests without usage, whose tokens were estimated.
    TokensEstimated { requests: u64 },
    /// Successful requests whose streams had problems.
    StreamProblems { requests: u64 },
    /// The cgroup's CPU quota or throttle counts could not be read: the verdict judges without.
    CgroupUnknown { problem: String },
    /// `--dataset` entries left out: without a prompt, without a reply to size the answer, or
    /// over `--dataset-max-prompt-tokens` (`max_prompt_tokens`, 0 when not given).
    DatasetSkipped {
        entries: usize,
        no_prompt: usize,
        no_reply: usize,
        too_long: usize,
        max_prompt_tokens: u64,
    },
    /// The server's prompt tokens are not our count of the prompts sent
    /// (`summary::PromptVsSent::disagree`): `counter` is ours (`estimate`, a tokenizer), the
    /// means and the 10th and 90th percentiles of reported − sent are in tokens, and
    /// `relative_pct` is given where the API adds no template (`None` where it does).
    PromptCountsDiffer {
        counter: String,
        compared: u64,
        sent_mean: f64,
        reported_mean: f64,
        diff_p10: i64,
        diff_p90: i64,
        relative_pct: Option<f64>,
    },
    /// A `--server-metrics` page failed `failed` of its scrapes (`scrapes` answered).
    ScrapesFailed { url: String, failed: u64, scrapes: u64, error: String },
    /// The server's generation counter grew by `generated` over the run, while llmload
    /// received `received` output tokens (`summary::server::Server::tokens_disagree`).
    ServerTokensDiffer { generated: f64, received: u64, cut: u64 },
    /// Once the run had ended the server still held `after` requests (running and waiting),
    /// against `before` before it, `waited_s` after the end.
    ServerHeld { before: f64, after: f64, waited_s: f64, cut: u64 },
}

impl Warning {
    /// The sentence in `lang`, with what to do next. Flags, error kinds and commands stay as
    /// typed; numbers are the same in both languages.
    pub fn text(&self, lang: Lang) -> String {
        let l = lang;
        match self {
            Warning::Insecure => l.pick(
                "--insecure: TLS certificates were not verified, so the server may not be who it claims; use --ca-cert for a private CA".into(),
                "--insecure：未校验 TLS 证书，服务器可能并非其所声称的身份；私有 CA 请用 --ca-cert".into(),
            ),
            Warning::FileLimit { limit, need, workers } => l.pick(
                format!("the open-file limit is {limit} but {workers} workers need about {need}: raise it (`ulimit -n {need}`) or lower --concurrency"),
                format!("打开文件数上限为 {limit}，但 {workers} 个工作线程约需 {need}：请调高上限（`ulimit -n {need}`）或调低 --concurrency"),
            ),
            Warning::RampUpTooLong { ramp_up, duration, starting, workers } => {
                let (r, d) = (human(*ramp_up), human(*duration));
                l.pick(
                    format!("--ramp-up {r} is longer than --duration {d}: only {starting} of {workers} workers start before the end; shorten --ramp-up or lengthen --duration"),
                    format!("--ramp-up {r} 长于 --duration {d}：{workers} 个工作线程中只有 {starting} 个能在结束前启动；请缩短 --ramp-up 或延长 --duration"),
                )
            }
            Warning::PreflightNoted { what } => l.pick(
                format!("preflight: {what} (the load test goes on and measures it)"),
                format!("预检：{what}（压测照常进行，并会测量它）"),
            ),
            Warning::Unsent { count, max_concurrency } => l.pick(
                format!("{count} scheduled requests were never sent: all --max-concurrency {max_concurrency} workers were busy until the run ended (the server could not keep up with --rate; their wait shows in ttft_sched and e2e_sched); raise --max-concurrency or lower --rate"),
                format!("{count} 个按计划应发出的请求从未发出：--max-concurrency 的 {max_concurrency} 个工作线程直到运行结束都在忙（服务器跟不上 --rate；其等待计入 ttft_sched 和 e2e_sched）；请调高 --max-concurrency 或调低 --rate"),
            ),
            Warning::WorkersShort { started, workers, error } => l.pick(
                format!("only {started} of {workers} workers could start ({error}): raise `ulimit -u` or lower --concurrency"),
                format!("{workers} 个工作线程中只有 {started} 个能启动（{error}）：请调高 `ulimit -u` 或调低 --concurrency"),
            ),
            Warning::Interrupted { after_s, forced } => {
                let after = super::format::seconds(*after_s);
                match forced {
                    false => l.pick(
                        format!("interrupted (Ctrl-C or SIGTERM) after {after}: no new requests were sent, in-flight ones had the grace period, and those still running then are counted as cancelled"),
                        format!("运行 {after} 后被中断（Ctrl-C 或 SIGTERM）：不再发送新请求，进行中的请求有宽限期，届时仍未结束的计为已取消"),
                    ),
                    true => l.pick(
                        format!("interrupted (Ctrl-C or SIGTERM) after {after} and again during the grace period: in-flight requests were cut at once and are counted as cancelled"),
                        format!("运行 {after} 后被中断，且在宽限期内再次中断：进行中的请求被立即切断，计为已取消"),
                    ),
                }
            }
            Warning::RecordsStopped { error } => l.pick(
                format!("writing records stopped: {error}; the summary still counts every request, but that file lacks the later ones"),
                format!("记录写入已停止：{error}；汇总仍计入每个请求，但该文件缺少之后的请求"),
            ),
            Warning::ReporterFailed => l.pick(
                "the statistics were lost (the reporter thread failed): every request finished before then is in --records; rebuild the summary with `llmload report`".into(),
                "统计数据已丢失（报告线程失败）：此前结束的每个请求都在 --records 中；请用 `llmload report` 重建汇总".into(),
            ),
            Warning::CutRecord { file } => l.pick(
                format!("{file}: ignored an unfinished last line (the run was killed while writing it)"),
                format!("{file}：忽略了未写完的最后一行（运行在写入时被终止）"),
            ),
            Warning::MixedRuns { first, second } => l.pick(
                format!("the records come from different runs ({first}; {second}): the summary header names the first; report each run's records on their own to compare them"),
                format!("这些记录来自不同的运行（{first}；{second}）：汇总标题只列出第一个；请分别汇总每次运行的记录再比较"),
            ),
            Warning::MissingShards { missing, given, count } => {
                let (list, one) = (missing.join(", "), missing.len() == 1);
                l.pick(
                    format!(
                        "shard{} {list} of the run {} missing: the totals cover {given} of {count} shards; give every shard's records file",
                        if one { "" } else { "s" },
                        if one { "is" } else { "are" },
                    ),
                    format!("缺少本次运行的分片 {list}：合计只含 {count} 个分片中的 {given} 个；请给出每个分片的记录文件"),
                )
            }
            Warning::AllFailed { kind, count, message } => l.pick(
                format!("every request failed; most often {kind} ({count}×): {message} — fix that before reading any latency"),
                format!("所有请求均失败；最常见的是 {kind}（{count}×）：{message} —— 请先解决它，再看任何延迟数据"),
            ),
            Warning::SomeFailed { failed, finished, top } => {
                let kinds: Vec<String> = top.iter().map(|(k, n)| format!("{k} {n}×")).collect();
                let share = 100.0 * *failed as f64 / (*finished).max(1) as f64;
                l.pick(
                    format!("{failed} of {finished} requests failed ({share:.1}%): {}; latencies count only the successful ones (see errors above)", kinds.join(", ")),
                    format!("{finished} 个请求中有 {failed} 个失败（{share:.1}%）：{}；延迟只统计成功的请求（见上方错误）", kinds.join("，")),
                )
            }
            Warning::AllCancelled { cancelled, interrupted: true } => l.pick(
                format!("all {cancelled} requests were cut by the interrupt before they ended: let the run go on longer"),
                format!("全部 {cancelled} 个请求都在结束前被中断切断：请让运行持续更久"),
            ),
            Warning::AllCancelled { cancelled, interrupted: false } => l.pick(
                format!("all {cancelled} requests were cancelled at the deadline before they ended: raise --duration"),
                format!("全部 {cancelled} 个请求都在结束前到达截止时间而被取消：请调大 --duration"),
            ),
            Warning::Stalled { count, longest_ms, interrupted } => {
                let longest = super::format::ms(*longest_ms as f64);
                let by = l.pick(
                    if *interrupted { "the interrupt" } else { "the deadline" },
                    if *interrupted { "中断" } else { "截止时间" },
                );
                l.pick(
                    format!("{count} requests were stalled when {by} cut them: no text from the server for at least 10 × the run's ITL p99 (TTFT p99 before any text) and 1s, the longest {longest}; they count as cancelled, not failed, and the success rate leaves them out: set --idle-timeout below the stall to fail them, or gate with --threshold 'stalled<1'"),
                    format!("{count} 个请求在被{by}切断时已停滞：服务器至少 10 × 本次 ITL p99（尚无文本时为 TTFT p99）且不少于 1s 没有发来文本，最长 {longest}；它们计为已取消而非失败，成功率不含它们：把 --idle-timeout 设得低于停滞时长可让其失败，或用 --threshold 'stalled<1' 设门槛"),
                )
            }
            Warning::NothingSent => l.pick(
                "no request was sent: raise --duration or lower --ramp-up".into(),
                "没有发送任何请求：请调大 --duration 或调小 --ramp-up".into(),
            ),
            Warning::TokensEstimated { requests } => l.pick(
                format!("{requests} requests had no usage in their stream, so their output tokens are estimated (CJK characters one each, other text by words); ask the server for usage for exact counts"),
                format!("{requests} 个请求的流中没有 usage，其输出 token 数为估算（每个中日韩字符计一个，其他文本按词计）；要精确计数请让服务器返回 usage"),
            ),
            Warning::StreamProblems { requests } => l.pick(
                format!("{requests} successful requests carried stream problems (malformed events or invalid UTF-8); see `warnings` in --records"),
                format!("{requests} 个成功的请求带有流问题（格式错误的事件或无效的 UTF-8）；见 --records 中的 `warnings`"),
            ),
            Warning::CgroupUnknown { problem } => l.pick(
                format!("the cgroup CPU quota and throttling are unknown ({problem}): the client's verdict counts the CPUs the process may run on and cannot see throttling"),
                format!("无法得知 cgroup 的 CPU 配额与限流（{problem}）：客户端判定只按进程可用的 CPU 计算，看不到限流"),
            ),
            Warning::DatasetSkipped { entries, no_prompt, no_reply, too_long, max_prompt_tokens } => {
                let (mut en, mut zh) = (Vec::new(), Vec::new());
                if *no_prompt > 0 {
                    en.push(format!("{no_prompt} without a human turn or with an empty one"));
                    zh.push(format!("{no_prompt} 个没有 human 轮次或其为空"));
                }
                if *no_reply > 0 {
                    en.push(format!("{no_reply} without a reply to size the answer (--output-tokens keeps them)"));
                    zh.push(format!("{no_reply} 个没有可确定输出长度的回复（给出 --output-tokens 可保留）"));
                }
                if *too_long > 0 {
                    en.push(format!("{too_long} over --dataset-max-prompt-tokens {max_prompt_tokens}"));
                    zh.push(format!("{too_long} 个超过 --dataset-max-prompt-tokens {max_prompt_tokens}"));
                }
                let n = no_prompt + no_reply + too_long;
                let rest = entries.saturating_sub(n);
                l.pick(
                    format!("--dataset: {n} of {entries} entries skipped ({}); prompts are taken from the other {rest}", en.join(", ")),
                    format!("--dataset：{entries} 个条目中跳过 {n} 个（{}）；提示词取自其余 {rest} 个", zh.join("，")),
                )
            }
            Warning::PromptCountsDiffer { counter, compared, sent_mean, reported_mean, diff_p10, diff_p90, relative_pct } => {
                let (en, zh) = match relative_pct {
                    Some(r) => (format!(", {r:+.1}% in all"), format!("，总计 {r:+.1}%")),
                    None => (" (a chat template adds the same number to every prompt; this varied with the prompt)".into(), "（聊天模板给每个提示词加上相同数目；此差值却随提示词而变）".into()),
                };
                l.pick(
                    format!("the server counts the prompts differently from llmload's {counter}: over {compared} requests {sent_mean:.1} tokens sent on average, {reported_mean:.1} reported; reported − sent from {diff_p10} (p10) to {diff_p90} (p90){en}. Prompt lengths from --prompt-tokens, --prefix-tokens and --dataset filters, and input tokens without usage, are off: give --tokenizer the served model's tokenizer.json"),
                    format!("服务器对提示词的计数与 llmload 的 {counter} 不同：{compared} 个请求平均发送 {sent_mean:.1} 个 token，服务器报告 {reported_mean:.1} 个；报告 − 发送 从 {diff_p10}（p10）到 {diff_p90}（p90）{zh}。--prompt-tokens、--prefix-tokens 与 --dataset 过滤所定的提示词长度，以及没有 usage 时的输入 token 数都有偏差：请给 --tokenizer 传入所服务模型的 tokenizer.json"),
                )
            }
            Warning::ScrapesFailed { url, failed, scrapes, error } => l.pick(
                format!("--server-metrics {url}: {failed} scrapes failed ({scrapes} answered; first: {error}); the server's numbers cover the scrapes that answered: check the URL, or raise --scrape-interval for a slow page"),
                format!("--server-metrics {url}：{failed} 次抓取失败（{scrapes} 次成功；首个错误：{error}）；服务端数字只来自成功的抓取：请检查 URL，页面慢时请调大 --scrape-interval"),
            ),
            Warning::ServerTokensDiffer { generated, received, cut } => {
                let (g, r) = (super::format::count(generated.round().max(0.0) as u64), super::format::count(*received));
                let (en, zh) = match cut {
                    0 => (String::new(), String::new()),
                    n => (format!(" ({n} streams were cut, so the server may have generated more than was read, never less)"), format!("（有 {n} 个流被切断，服务器生成的可能多于读到的，但不会更少）")),
                };
                l.pick(
                    format!("the server's generation counter grew by {g} tokens during the run, llmload received {r}{en}: a wrong --tokenizer (without usage), a gateway that retries, or another client on the same server"),
                    format!("运行期间服务器的生成 token 计数增长了 {g}，llmload 收到 {r}{zh}：可能是 --tokenizer 不对（无 usage 时）、网关重试，或同一服务器上还有其他客户端"),
                )
            }
            Warning::ServerHeld { before, after, waited_s, cut } => {
                let (b, a) = (super::format::count(before.round() as u64), super::format::count(after.round() as u64));
                let w = super::format::seconds(*waited_s);
                l.pick(
                    format!("{w} after the run ended the server still held {a} requests (running and waiting; {b} before the run): it did not let go of the run's requests ({cut} streams were cut or abandoned), or another client is using it"),
                    format!("运行结束 {w} 后服务器仍持有 {a} 个请求（运行与等待；运行前为 {b}）：它没有释放本次运行的请求（有 {cut} 个流被切断或放弃），或有其他客户端在使用它"),
                )
            }
        }
    }

    /// The sentence in both languages, as the summary keeps it.
    pub fn both(&self) -> Text {
        Text { en: self.text(Lang::En), zh: self.text(Lang::Zh) }
    }
}

/// English, as the JSON summary has it.
impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

impl From<Warning> for Text {
    fn from(w: Warning) -> Text {
        w.both()
    }
}

/// A duration as people write it: `2s`, `1.5s`, `500ms`, `2m`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s == 0.0 {
        "0s".into()
    } else if s < 1.0 {
        format!("{}ms", d.as_millis())
    } else if s >= 60.0 && s % 60.0 == 0.0 {
        format!("{}m", s as u64 / 60)
    } else {
        format!("{}s", (s * 1000.0).round() / 1000.0)
    }
}

/// How many error kinds a partial-failure warning names.
const TOP_KINDS: usize = 3;

/// What a finished summary itself shows is worth a warning.
pub fn after_run(s: &Summary) -> Vec<Warning> {
    let mut w = Vec::new();
    let r = &s.requests;
    let finished = r.ok + r.failed;
    let by_count = s.errors_by_count();
    if s.stats_lost {
        // The counts are empty because they were lost: `ReporterFailed` already says so.
    } else if r.ok == 0 && r.failed > 0 {
        if let Some(&(kind, count, message)) = by_count.first() {
            w.push(Warning::AllFailed { kind: kind.into(), count, message: message.into() });
        }
    } else if r.failed > 0 {
        let top = by_count.iter().take(TOP_KINDS).map(|&(k, n, _)| (k.to_string(), n)).collect();
        w.push(Warning::SomeFailed { failed: r.failed, finished, top });
    } else if r.cancelled > 0 && r.ok == 0 {
        w.push(Warning::AllCancelled { cancelled: r.cancelled, interrupted: s.interrupted });
    } else if r.total == 0 {
        w.push(Warning::NothingSent);
    }
    if r.stalled > 0 {
        w.push(Warning::Stalled {
            count: r.stalled,
            longest_ms: s.stalled_longest_ms,
            interrupted: s.interrupted,
        });
    }
    if s.tokens.estimated > 0 {
        w.push(Warning::TokensEstimated { requests: s.tokens.estimated });
    }
    if s.with_warnings > 0 {
        w.push(Warning::StreamProblems { requests: s.with_warnings });
    }
    if let Some(w2) = prompt_counts(s) {
        w.push(w2);
    }
    if let Some(server) = &s.server {
        w.extend(server_warnings(server, r.cancelled + r.abandoned));
    }
    w
}

/// What the server's own numbers show is worth a warning: pages that failed, a generation
/// counter that disagrees with what was received, requests the server held after the run.
fn server_warnings(server: &crate::summary::server::Server, cut: u64) -> Vec<Warning> {
    let mut w: Vec<Warning> = server
        .pages
        .iter()
        .filter(|p| p.failed > 0)
        .map(|p| Warning::ScrapesFailed {
            url: p.url.clone(),
            failed: p.failed,
            scrapes: p.scrapes,
            error: p.first_error.clone().unwrap_or_default(),
        })
        .collect();
    if let (true, Some(generated)) = (server.tokens_disagree, server.tokens.generated) {
        w.push(Warning::ServerTokensDiffer { generated, received: server.tokens.received, cut });
    }
    if let Some(r) = server.released.filter(|r| !r.released) {
        w.push(Warning::ServerHeld { before: r.before, after: r.after, waited_s: r.waited_ms / 1e3, cut });
    }
    w
}

/// Whether the server's prompt tokens show our counts are not the served model's. Judged where
/// the prompt sent is all the model reads besides a template of the same length each time: the
/// completions API (no template: the totals must agree too), the chat, Responses and Anthropic
/// APIs and a custom body (a template). Not for Dify, whose usage counts the app's whole prompt
/// (its instructions, the conversation's memory, retrieved context).
fn prompt_counts(s: &Summary) -> Option<Warning> {
    let templated = match s.config["api"].as_str()? {
        "openai-completions" => false,
        "openai-chat" | "openai-responses" | "anthropic" | "custom" => true,
        _ => return None,
    };
    let p = s.tokens.prompt_vs_sent.filter(|p| p.disagree(templated))?;
    Some(Warning::PromptCountsDiffer {
        counter: s.config["tokenizer"].as_str().unwrap_or("estimate").into(),
        compared: p.compared,
        sent_mean: p.sent_mean,
        reported_mean: p.reported_mean,
        diff_p10: p.diff_p10,
        diff_p90: p.diff_p90,
        relative_pct: (!templated).then_some(p.relative_diff_pct),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        let h = |ms| human(Duration::from_millis(ms));
        assert_eq!(
            (h(0), h(500), h(2000), h(1500), h(120_000), h(90_000)),
            ("0s".into(), "500ms".into(), "2s".into(), "1.5s".into(), "2m".into(), "90s".into())
        );
    }

    #[test]
    fn lost_statistics_are_not_read_as_nothing_sent() {
        let run = |stats_lost| crate::summary::RunOutput {
            stats_lost,
            ..crate::summary::RunOutput::of(Default::default(), 3.0)
        };
        let after = |lost| after_run(&Summary::new(serde_json::Value::Null, &run(lost), None));
        assert_eq!(after(false), [Warning::NothingSent]);
        assert_eq!(after(true), []);
    }

    /// The prompt-count warning of a run of `api` whose requests sent and were reported these
    /// prompt tokens.
    fn prompt_warning(api: &str, pairs: impl IntoIterator<Item = (u64, u64)>) -> Option<Warning> {
        let mut stats = crate::stats::RunStats::default();
        for (sent, reported) in pairs {
            stats.prompt_check.add(sent, reported);
        }
        let config = serde_json::json!({"api": api, "tokenizer": "cl100k"});
        let s = Summary::new(config, &crate::summary::RunOutput::of(stats, 3.0), None);
        after_run(&s).into_iter().find(|w| matches!(w, Warning::PromptCountsDiffer { .. }))
    }

    #[test]
    fn a_chat_template_is_not_a_wrong_tokenizer_and_a_wrong_tokenizer_is() {
        let lengths = [100, 300, 500, 800, 1200, 2000, 150, 900, 450, 1600];
        // vLLM with the served model's tokenizer: the chat template's 15 tokens on every prompt;
        // the completions API, exactly what was sent.
        let template = || lengths.map(|n| (n, n + 15));
        assert_eq!(prompt_warning("openai-chat", template()), None);
        assert_eq!(prompt_warning("openai-completions", lengths.map(|n| (n, n))), None);
        // A tokenizer that counts a third more than the server's: off in proportion to length.
        let wrong = || lengths.map(|n| (n, n * 3 / 4 + 15));
        let Some(Warning::PromptCountsDiffer { compared, diff_p10, diff_p90, relative_pct, .. }) =
            prompt_warning("openai-chat", wrong())
        else {
            panic!("a wrong tokenizer goes unnoticed");
        };
        assert_eq!((compared, diff_p10, diff_p90, relative_pct), (10, -485, -23, None));
        assert!(prompt_warning("anthropic", wrong()).is_some());
        assert!(prompt_warning("custom", wrong()).is_some());
        // Dify's usage counts the app's whole prompt: never judged.
        assert_eq!(prompt_warning("dify-chat", wrong()), None);
        // Prompts all of one length, 20 % over: a template to a chat API, not to completions.
        let fixed = || [(500, 600); 8];
        assert_eq!(prompt_warning("openai-chat", fixed()), None);
        let Some(Warning::PromptCountsDiffer { relative_pct, .. }) =
            prompt_warning("openai-completions", fixed())
        else {
            panic!("completions 20 % over go unnoticed");
        };
        assert_eq!(relative_pct, Some(20.0));
        // Under 2 tokens of spread or mean difference is never a disagreement (short prompts).
        assert_eq!(prompt_warning("openai-completions", [(10, 11), (12, 13), (8, 9), (10, 10)]), None);
        assert_eq!(prompt_warning("openai-chat", [(10, 10), (12, 13), (8, 9), (10, 10)]), None);
    }

    #[test]
    fn each_warning_says_what_to_do() {
        let some = Warning::SomeFailed {
            failed: 7,
            finished: 13,
            top: vec![("http_500".into(), 5), ("truncated_stream".into(), 2)],
        };
        assert_eq!(
            some.to_string(),
            "7 of 13 requests failed (53.8%): http_500 5×, truncated_stream 2×; latencies count only the successful ones (see errors above)"
        );
        let ramp = Warning::RampUpTooLong {
            ramp_up: Duration::from_secs(10),
            duration: Duration::from_secs(5),
            starting: 5,
            workers: 10,
        };
        assert_eq!(
            ramp.to_string(),
            "--ramp-up 10s is longer than --duration 5s: only 5 of 10 workers start before the end; shorten --ramp-up or lengthen --duration"
        );
        assert!(
            Warning::AllCancelled { cancelled: 3, interrupted: true }
                .to_string()
                .contains("cut by the interrupt")
        );
    }

    /// One of each variant; the match below has no `_` arm, so a new variant does not compile
    /// until it has a sample here.
    fn samples() -> Vec<Warning> {
        let s = Duration::from_secs;
        let all = vec![
            Warning::Insecure,
            Warning::FileLimit { limit: 1024, need: 4160, workers: 4096 },
            Warning::RampUpTooLong { ramp_up: s(10), duration: s(5), starting: 5, workers: 10 },
            Warning::PreflightNoted { what: "HTTP 503".into() },
            Warning::WorkersShort { started: 900, workers: 1000, error: "EAGAIN".into() },
            Warning::Interrupted { after_s: 3.25, forced: false },
            Warning::Interrupted { after_s: 3.25, forced: true },
            Warning::RecordsStopped { error: "disk full".into() },
            Warning::ReporterFailed,
            Warning::CutRecord { file: "r.jsonl".into() },
            Warning::MixedRuns {
                first: "a.jsonl: openai-chat at http://h:1".into(),
                second: "b.jsonl: dify-chat at http://h:2".into(),
            },
            Warning::MissingShards { missing: vec!["1/4".into(), "3/4".into()], given: 2, count: 4 },
            Warning::AllFailed { kind: "http_500".into(), count: 12, message: "boom".into() },
            Warning::SomeFailed {
                failed: 7,
                finished: 13,
                top: vec![("http_500".into(), 5), ("timeout_ttfb".into(), 2)],
            },
            Warning::AllCancelled { cancelled: 3, interrupted: true },
            Warning::AllCancelled { cancelled: 3, interrupted: false },
            Warning::NothingSent,
            Warning::Stalled { count: 4, longest_ms: 5250, interrupted: false },
            Warning::Stalled { count: 1, longest_ms: 1000, interrupted: true },
            Warning::TokensEstimated { requests: 42 },
            Warning::StreamProblems { requests: 2 },
            Warning::CgroupUnknown { problem: "no cpu.max".into() },
            Warning::DatasetSkipped {
                entries: 100,
                no_prompt: 3,
                no_reply: 2,
                too_long: 5,
                max_prompt_tokens: 512,
            },
            Warning::Unsent { count: 9, max_concurrency: 64 },
            Warning::PromptCountsDiffer {
                counter: "cl100k".into(),
                compared: 40,
                sent_mean: 812.5,
                reported_mean: 640.25,
                diff_p10: -311,
                diff_p90: -40,
                relative_pct: None,
            },
            Warning::PromptCountsDiffer {
                counter: "estimate".into(),
                compared: 200,
                sent_mean: 500.0,
                reported_mean: 620.0,
                diff_p10: 118,
                diff_p90: 121,
                relative_pct: Some(24.0),
            },
            Warning::ScrapesFailed {
                url: "http://127.0.0.1:8000/metrics".into(),
                failed: 3,
                scrapes: 57,
                error: "HTTP 404".into(),
            },
            Warning::ServerTokensDiffer { generated: 12_400.0, received: 12_288, cut: 0 },
            Warning::ServerTokensDiffer { generated: 100.0, received: 120, cut: 4 },
            Warning::ServerHeld { before: 0.0, after: 2.0, waited_s: 3.02, cut: 2 },
        ];
        for w in &all {
            match w {
                Warning::Insecure
                | Warning::FileLimit { .. }
                | Warning::RampUpTooLong { .. }
                | Warning::PreflightNoted { .. }
                | Warning::WorkersShort { .. }
                | Warning::Unsent { .. }
                | Warning::Interrupted { .. }
                | Warning::RecordsStopped { .. }
                | Warning::ReporterFailed
                | Warning::CutRecord { .. }
                | Warning::MixedRuns { .. }
                | Warning::MissingShards { .. }
                | Warning::AllFailed { .. }
                | Warning::SomeFailed { .. }
                | Warning::AllCancelled { .. }
                | Warning::Stalled { .. }
                | Warning::NothingSent
                | Warning::TokensEstimated { .. }
                | Warning::StreamProblems { .. }
                | Warning::CgroupUnknown { .. }
                | Warning::DatasetSkipped { .. }
                | Warning::PromptCountsDiffer { .. }
                | Warning::ScrapesFailed { .. }
                | Warning::ServerTokensDiffer { .. }
                | Warning::ServerHeld { .. } => {}
            }
        }
        all
    }

    /// The numbers, flags and names of a text: its runs of ASCII letters, digits and `-._%/`.
    fn tokens(text: &str) -> Vec<String> {
        let mut words: Vec<String> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.%/`".contains(c)))
            .filter(|w| w.chars().any(|c| c.is_ascii_digit()) || w.starts_with("--"))
            .map(|w| w.trim_end_matches('.').to_string())
            .collect();
        words.sort();
        words
    }

    #[test]
    fn every_warning_has_a_chinese_text_with_the_same_numbers_and_flags() {
        for w in samples() {
            let (en, zh) = (w.text(Lang::En), w.text(Lang::Zh));
            assert_eq!(en, w.to_string(), "Display is the English text");
            assert_ne!(en, zh, "{w:?} has no Chinese text");
            assert!(zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{w:?}: {zh}");
            assert_eq!(tokens(&en), tokens(&zh), "{w:?} keeps its numbers and flags:\n{en}\n{zh}");
            assert_eq!(w.both(), Text { en, zh });
        }
        assert_eq!(
            Warning::SomeFailed { failed: 7, finished: 13, top: vec![("http_500".into(), 5)] }.text(Lang::Zh),
            "13 个请求中有 7 个失败（53.8%）：http_500 5×；延迟只统计成功的请求（见上方错误）"
        );
    }
}
