//! Is the client the bottleneck? The verdict on a run's own numbers: `ok`, `degraded` (the client
//! added delays of its own: read the latencies with care) or `client-bound` (the client, not the
//! server, set these numbers), with one reason for each finding, and the cause: the client's own
//! work (its CPU against the cores it may use, its cgroup's throttling) or other work on a busy
//! machine. A lag is judged against what it distorts (the read lag against the ITL, the start
//! lag against the run's length or the gap between scheduled requests), and each reason names
//! the knob that applies to the run's load model (`-c` closed loop, `--rate` open loop). A pure
//! function of plain numbers (`Inputs`): `commands` gathers them, the summary carries the result
//! (`client.verdict`, `client.cause`, `client.reasons`, `client.machine`), `output` prints it.
//! The thresholds, and why they are where they are, are in docs/metrics.md ("Is the client the
//! bottleneck?").

use crate::lang::Text;
use crate::util::sys::cgroup::Throttling;
use crate::util::sys::machine::Load;
use serde::Serialize;
use std::cmp::Reverse;

/// Worst last, so the verdict of a run is the largest of its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ok,
    Degraded,
    ClientBound,
}

impl Verdict {
    /// The verdict's word, as the JSON writes it.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Degraded => "degraded",
            Verdict::ClientBound => "client-bound",
        }
    }
}

/// Why the client added delays: what to change differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cause {
    /// llmload's own work: its CPU against the cores it may use, its cgroup's quota, or lags
    /// that neither its CPU nor other work explains. Less load per process helps.
    Client,
    /// Other work on the machine took the CPUs llmload may run on: less load would not help.
    Machine,
}

/// How the run offered its load, which names the knob that lowers it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Model {
    /// `-c`: each worker sends one request after another.
    #[default]
    Closed,
    /// `--rate`: requests start on a schedule, this many a second.
    Open { rate: f64 },
}

/// The machine's load over the run, as the summary carries it (`client.machine`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Machine {
    /// The CPUs the client may run on, over which the others' use is counted.
    pub cpus: usize,
    /// CPU the machine's other work used on those CPUs during the run, in cores.
    #[serde(serialize_with = "crate::util::decimals::three")]
    pub others_cores: f64,
    /// The share of those CPUs' time a hypervisor gave to other guests, 0 to 1.
    #[serde(serialize_with = "crate::util::decimals::six")]
    pub steal: f64,
    /// The 1-minute load average at the run's end (the whole machine, llmload included).
    #[serde(serialize_with = "crate::util::decimals::three")]
    pub load_1m: Option<f64>,
    /// Whether other work kept the machine busy (`BUSY_OTHERS_SHARE`, `BUSY_STEAL`).
    pub busy: bool,
}

/// The two thresholds of one measure: above `degraded` the run is degraded, above
/// `client_bound` client-bound (both strict: a value on a threshold is the milder verdict).
struct Thresholds {
    degraded: f64,
    client_bound: f64,
}

impl Thresholds {
    fn of(&self, v: f64) -> Verdict {
        if v > self.client_bound {
            Verdict::ClientBound
        } else if v > self.degraded {
            Verdict::Degraded
        } else {
            Verdict::Ok
        }
    }
}

/// Read lag p99 over the gap it distorts (ITL p50), with the kernel's receive times: the lag is
/// then out of the latencies, except that events which arrive within it of each other are read
/// together and share a time. That needs a lag past the gap; past ten gaps the ITL's tail is
/// the client's.
const READ_LAG_KERNEL: Thresholds = Thresholds { degraded: 1.0, client_bound: 10.0 };
/// The same with read times (no kernel timestamps): the lag is inside every latency, so a
/// tenth of a gap already shows in the ITL's tail, and a whole gap is as large as what it
/// measures.
const READ_LAG_USER: Thresholds = Thresholds { degraded: 0.1, client_bound: 1.0 };
/// The share of the ITL gaps that read 0 because both events came in one read. The kernel keeps
/// one receive time per read (TCP merges segments waiting unread in a socket and keeps the last
/// one's time), so a client that falls behind cannot recover those events' times; its read lag,
/// taken from that last time, then looks short. Each such 0 has a gap before it as long as
/// both: past 1 % of the gaps the ITL's p99 is the client's, past 10 % its p90.
const READ_TOGETHER: Thresholds = Thresholds { degraded: 0.01, client_bound: 0.10 };
/// The gap read lag is judged against when a run has neither ITL nor TTFT: a fast model's.
const DEFAULT_GAP_MS: f64 = 10.0;
/// Closed loop: the workers' mean start lag over the run's window, the share of the load asked
/// for that was not offered.
const START_LAG_CLOSED: Thresholds = Thresholds { degraded: 0.05, client_bound: 0.25 };
/// Open loop: the mean dispatch lag over the schedule's mean gap (1 / rate): a quarter of a gap
/// reshapes the arrivals; a whole gap behind, the client is a queue of its own.
const START_LAG_OPEN: Thresholds = Thresholds { degraded: 0.25, client_bound: 1.0 };
/// CPU used over the cores the client may use: past 80 % runnable threads queue for a core
/// (reads wait), past 95 % the client is saturated.
const CPU_SHARE: Thresholds = Thresholds { degraded: 0.80, client_bound: 0.95 };
/// The share of the run's quota periods in which the cgroup throttled the client above which it
/// is client-bound: each throttled period stops every client thread until the period ends (up to
/// the default 100 ms), so more than 1 % of them can reach the p99 of every latency.
const THROTTLED_SHARE_CLIENT_BOUND: f64 = 0.01;
/// A lag is the client's own doing when it used more than half of the cores it may use.
const OWN_SHARE_CAUSE: f64 = 0.5;
/// The machine is busy when other work used more than half of the CPUs the client may run on
/// (a waking client thread then often finds none free) …
const BUSY_OTHERS_SHARE: f64 = 0.5;
/// … or a hypervisor took more than a tenth of their time.
const BUSY_STEAL: f64 = 0.10;

/// The numbers the verdict reads, each `None` where it is unknown (it is then not judged).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The run's load model.
    pub model: Model,
    /// Whether every timed read had the kernel's receive time (`client.clock` `kernel`).
    pub kernel_clock: bool,
    /// The p99 of the client's read lag (the bytes' kernel receive time to the read that
    /// returned them), ms.
    pub read_lag_p99_ms: Option<f64>,
    /// The share of the ITL gaps that read 0: their two events came in one read.
    pub gaps_read_together: Option<f64>,
    /// The p50 of the ITL and of the TTFT, ms: the gaps the read lag is judged against.
    pub itl_p50_ms: Option<f64>,
    pub ttft_p50_ms: Option<f64>,
    /// The mean and p99 of the start lag (closed loop: each worker's scheduled start to its
    /// start; open loop: each request's scheduled start to its send), ms.
    pub start_lag_mean_ms: Option<f64>,
    pub start_lag_p99_ms: Option<f64>,
    /// CPU seconds (user and system) the client used during the run.
    pub cpu_s: Option<f64>,
    /// The run's wall time, and its measured window, seconds.
    pub wall_s: f64,
    pub window_s: f64,
    /// The CPUs the process may run on (`sys::cpus`).
    pub cpus: usize,
    /// Its cgroup's CPU quota in cores, `None` without one: with `cpus`, the cores it may use
    /// are the smaller of the two.
    pub quota_cores: Option<f64>,
    /// How often its cgroup throttled it during the run.
    pub throttling: Option<Throttling>,
    /// How busy the machine was with other work during the run.
    pub machine: Option<Load>,
}

/// The verdict, its cause and its reasons, the worst first.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    /// The worst finding's cause; `None` when `ok`.
    pub cause: Option<Cause>,
    /// In both languages; the JSON has the English.
    pub reasons: Vec<Text>,
    /// The machine's load over the run, where it could be read.
    pub machine: Option<Machine>,
}

/// The verdict on a run: the worst of its findings (`ok` with no reasons when there are none).
pub fn judge(i: &Inputs) -> Judgement {
    let mut found: Vec<Finding> =
        [cpu(i), throttling(i), read_lag(i), read_together(i), start_lag(i)].into_iter().flatten().collect();
    found.sort_by_key(|f| Reverse(f.verdict)); // stable: equal verdicts keep their order
    Judgement {
        verdict: found.first().map_or(Verdict::Ok, |f| f.verdict),
        cause: found.first().map(|f| f.cause),
        reasons: found.into_iter().map(|f| f.reason).collect(),
        machine: i.machine.map(|m| Machine {
            cpus: m.cpus,
            others_cores: m.others_cores,
            steal: m.steal,
            load_1m: m.load_1m,
            busy: busy(&m),
        }),
    }
}

struct Finding {
    verdict: Verdict,
    cause: Cause,
    reason: Text,
}

fn busy(m: &Load) -> bool {
    m.others_cores > BUSY_OTHERS_SHARE * m.cpus as f64 || m.steal > BUSY_STEAL
}

/// The cores the client may use, and whose limit they are, in both languages.
fn allowance(i: &Inputs) -> (f64, &'static str, &'static str) {
    match i.quota_cores {
        Some(q) if q < i.cpus as f64 => (q, "its cgroup CPU quota allows", "其 cgroup CPU 配额允许的"),
        _ => (i.cpus as f64, "it may run on", "可用的"),
    }
}

/// The client's CPU over the cores it may use, 0 to 1 (more where a quota was overrun).
fn own_share(i: &Inputs) -> Option<f64> {
    let cpu_s = i.cpu_s.filter(|_| i.wall_s > 0.0)?;
    Some(cpu_s / i.wall_s / allowance(i).0)
}

/// More cores for the client, the usual second remedy.
const MORE_CORES: (&str, &str) = ("give the client more cores", "给客户端更多 CPU 核");
/// A larger quota, the remedy for throttling.
const MORE_QUOTA: (&str, &str) = (
    "raise its cgroup's CPU quota (the container's CPU limit)",
    "调高其 cgroup 的 CPU 配额（容器的 CPU 限制）",
);

/// What to do when the client itself is the cause, for its load model: its knob, `more`, or
/// shards.
fn client_advice(m: Model, more: (&str, &str)) -> Text {
    let (knob, zh) = match m {
        Model::Closed => ("lower -c", "调低 -c"),
        Model::Open { .. } => ("lower --rate", "调低 --rate"),
    };
    Text {
        en: format!("{knob}, {}, or split the load across machines (--shard)", more.0),
        zh: format!("请{zh}、{}，或用 --shard 把负载分到多台机器上", more.1),
    }
}

/// The knob that would not help when the machine is the cause.
fn knob(m: Model) -> &'static str {
    match m {
        Model::Closed => "-c",
        Model::Open { .. } => "--rate",
    }
}

fn cpu(i: &Inputs) -> Option<Finding> {
    let share = own_share(i)?;
    let (cores, whose, whose_zh) = allowance(i);
    let used = share * cores;
    let advice = client_advice(i.model, MORE_CORES);
    finding(
        CPU_SHARE.of(share),
        Cause::Client,
        Text {
            en: format!(
                "the client used {used:.2} of the {} {whose} ({:.0}%) during the run: its threads waited for a core, and that wait is in the latencies; {}",
                cores_text(cores),
                100.0 * share,
                advice.en
            ),
            zh: format!(
                "运行期间客户端用了{whose_zh} {} 个核中的 {used:.2} 个（{:.0}%）：其线程在等待 CPU，这段等待计入了延迟；{}",
                trimmed(cores),
                100.0 * share,
                advice.zh
            ),
        },
    )
}

fn throttling(i: &Inputs) -> Option<Finding> {
    let t = i.throttling.filter(|t| t.throttled > 0)?;
    let share = t.throttled as f64 / t.periods.max(t.throttled) as f64;
    let verdict = if share > THROTTLED_SHARE_CLIENT_BOUND { Verdict::ClientBound } else { Verdict::Degraded };
    let quota = i.quota_cores.map_or(String::new(), |q| format!(" ({})", cores_text(q)));
    let quota_zh = i.quota_cores.map_or(String::new(), |q| format!("（{} 核）", trimmed(q)));
    let advice = client_advice(i.model, MORE_QUOTA);
    finding(
        verdict,
        Cause::Client,
        Text {
            en: format!(
                "the client's cgroup CPU quota{quota} throttled it in {} of {} periods ({:.1}%) during the run, stopping its threads for {:.2} s in all: reads and sends waited for the next period; {}",
                t.throttled,
                t.periods,
                100.0 * share,
                t.throttled_s,
                advice.en
            ),
            zh: format!(
                "运行期间客户端的 cgroup CPU 配额{quota_zh}在 {} 个周期中的 {} 个（{:.1}%）限流了它，共暂停其线程 {:.2} 秒：读和发送都要等下一个周期；{}",
                t.periods,
                t.throttled,
                100.0 * share,
                t.throttled_s,
                advice.zh
            ),
        },
    )
}

fn read_lag(i: &Inputs) -> Option<Finding> {
    let p99 = i.read_lag_p99_ms?;
    let positive = |v: Option<f64>| v.filter(|&v| v > 0.0);
    let (gap, what, what_zh) = match (positive(i.itl_p50_ms), positive(i.ttft_p50_ms)) {
        (Some(itl), _) => (itl, "ITL", "ITL"),
        (None, Some(ttft)) => (ttft, "TTFT", "TTFT"),
        (None, None) => (DEFAULT_GAP_MS, "gap of a fast model", "快速模型的间隔"),
    };
    let ratio = p99 / gap;
    let (thresholds, effect, effect_zh) = if i.kernel_clock {
        (
            &READ_LAG_KERNEL,
            "the kernel's receive times keep that lag out of the latencies, but events that arrived within it of each other were read together and share a time (their gap reads 0, the one before longer)",
            "内核接收时间把这段滞后排除在延迟之外，但彼此相隔不到这段时间到达的事件被一起读到、共用一个时间（它们之间的间隔读作 0，之前的间隔读得更长）",
        )
    } else {
        (
            &READ_LAG_USER,
            "without the kernel's receive times that lag is in TTFT and ITL",
            "没有内核接收时间，这段滞后计入了 TTFT 和 ITL",
        )
    };
    let verdict = thresholds.of(ratio);
    let (cause, why) = cause_of(i);
    finding(
        verdict,
        cause,
        Text {
            en: format!(
                "the client read events {p99:.1} ms (p99) after they reached the machine, {} the {gap:.1} ms {what} (p50): {effect}; {}",
                times(ratio),
                why.en
            ),
            zh: format!(
                "客户端在事件到达本机 {p99:.1} ms（p99）后才读到它们，是 {gap:.1} ms {what_zh}（p50）的 {}：{effect_zh}；{}",
                times_zh(ratio),
                why.zh
            ),
        },
    )
}

/// Events read together, judged only where the client had reason to be late (its CPU, its
/// cgroup's throttling, a busy machine, or a read lag past the ITL): a client with time to spare
/// reads each event as it comes, and then the events it reads together were sent together.
fn read_together(i: &Inputs) -> Option<Finding> {
    let share = i.gaps_read_together?;
    let lagging = i.read_lag_p99_ms.zip(i.itl_p50_ms).is_some_and(|(lag, itl)| lag > itl);
    if !(lagging || i.machine.is_some_and(|m| busy(&m)) || own_doing(i)) {
        return None;
    }
    let verdict = READ_TOGETHER.of(share);
    let (cause, why) = cause_of(i);
    let pct = 100.0 * share;
    let tail = if share > READ_TOGETHER.client_bound { "p90" } else { "p99" };
    finding(
        verdict,
        cause,
        Text {
            en: format!(
                "{pct:.1}% of the gaps between events read 0 ms: the client read both events at once, and the kernel keeps one receive time a read (it merges what waits unread in a socket), so the gap before them reads as long as both and the ITL's {tail} and above are the client's, not the server's; {}",
                why.en
            ),
            zh: format!(
                "{pct:.1}% 的事件间隔读作 0 ms：客户端一次读到了两个事件，而内核每次读取只保留一个接收时间（它会合并套接字中未读的数据），所以它们之前的间隔读得像两者之和，ITL 的 {tail} 及以上来自客户端而不是服务器；{}",
                why.zh
            ),
        },
    )
}

fn start_lag(i: &Inputs) -> Option<Finding> {
    let mean = i.start_lag_mean_ms?;
    let p99 = i.start_lag_p99_ms.unwrap_or(mean);
    let (cause, why) = cause_of(i);
    let (verdict, text) = match i.model {
        Model::Closed => {
            let window_ms = 1000.0 * i.window_s;
            if window_ms <= 0.0 {
                return None;
            }
            let share = mean / window_ms;
            let pct = 100.0 * share;
            let window_s = i.window_s;
            (
                START_LAG_CLOSED.of(share),
                Text {
                    en: format!(
                        "the workers started {mean:.1} ms late on average ({p99:.1} ms p99), {pct:.1}% of the run's {window_s:.1} s: the server got less load than asked; {}",
                        why.en
                    ),
                    zh: format!(
                        "工作线程平均晚 {mean:.1} ms 启动（p99 {p99:.1} ms），占运行时长 {window_s:.1} 秒的 {pct:.1}%：服务器收到的负载低于设定；{}",
                        why.zh
                    ),
                },
            )
        }
        Model::Open { rate } => {
            if rate <= 0.0 {
                return None;
            }
            let gap = 1000.0 / rate;
            let ratio = mean / gap;
            let rate = trimmed(rate);
            (
                START_LAG_OPEN.of(ratio),
                Text {
                    en: format!(
                        "requests were sent {mean:.1} ms after their scheduled start on average ({p99:.1} ms p99), {} the {gap:.1} ms between requests at --rate {rate}: the server got a different load from the one asked; {}",
                        times(ratio),
                        why.en
                    ),
                    zh: format!(
                        "请求平均在计划开始后 {mean:.1} ms 才发出（p99 {p99:.1} ms），是 --rate {rate} 下请求间隔 {gap:.1} ms 的 {}：服务器收到的负载与设定的不同；{}",
                        times_zh(ratio),
                        why.zh
                    ),
                },
            )
        }
    };
    finding(verdict, cause, text)
}

/// Whether the cgroup throttled the client at all during the run.
fn throttled(i: &Inputs) -> bool {
    i.throttling.is_some_and(|t| t.throttled > 0)
}

/// Whether the client's own work explains its lateness: it used more than half of the cores it
/// may use, or its cgroup throttled it.
fn own_doing(i: &Inputs) -> bool {
    own_share(i).is_some_and(|s| s > OWN_SHARE_CAUSE) || throttled(i)
}

/// Why the client's threads were late, and what to do: its own CPU (or quota) when it used
/// much of what it may use, else other work when the machine was busy, else the client.
fn cause_of(i: &Inputs) -> (Cause, Text) {
    let share = own_share(i);
    let (cores, whose, whose_zh) = allowance(i);
    let own = share
        .map_or(String::new(), |s| format!("it used {:.0}% of the {} {whose}", 100.0 * s, cores_text(cores)));
    let own_zh = share
        .map_or(String::new(), |s| format!("它用了{whose_zh} {} 个核的 {:.0}%", trimmed(cores), 100.0 * s));
    let advice = client_advice(i.model, if throttled(i) { MORE_QUOTA } else { MORE_CORES });
    match i.machine.filter(|m| !own_doing(i) && busy(m)) {
        Some(m) => {
            let load = m.load_1m.map_or(String::new(), |l| format!("; load average {l:.1}"));
            let load_zh = m.load_1m.map_or(String::new(), |l| format!("；平均负载 {l:.1}"));
            let steal = if m.steal > BUSY_STEAL {
                format!("; a hypervisor took {:.0}% of their time", 100.0 * m.steal)
            } else {
                String::new()
            };
            let steal_zh = if m.steal > BUSY_STEAL {
                format!("；虚拟机监控程序占用了其 {:.0}% 的时间", 100.0 * m.steal)
            } else {
                String::new()
            };
            let (client, client_zh) = match share {
                Some(_) => (format!(", not the client ({own})"), format!("，而不是客户端（{own_zh}）")),
                None => (String::new(), String::new()),
            };
            let cpus = cores_text(m.cpus as f64);
            let knob = knob(i.model);
            (
                Cause::Machine,
                Text {
                    en: format!(
                        "the cause is other work on the machine (it used {:.2} of the {cpus} the client may run on{steal}{load}){client}: run llmload where it has those cores to itself, or when the other work is done ({knob} would not help)",
                        m.others_cores
                    ),
                    zh: format!(
                        "原因是本机上的其他工作（它占用了客户端可用的 {} 个核中的 {:.2} 个{steal_zh}{load_zh}）{client_zh}：请在 llmload 能独占这些核的地方运行，或等其他工作结束（调 {knob} 无济于事）",
                        m.cpus, m.others_cores
                    ),
                },
            )
        }
        None => {
            let (own, own_zh) =
                if own.is_empty() { (own, own_zh) } else { (format!(" ({own})"), format!("（{own_zh}）")) };
            (
                Cause::Client,
                Text {
                    en: format!("the cause is the client itself{own}: {}", advice.en),
                    zh: format!("原因是客户端自身{own_zh}：{}", advice.zh),
                },
            )
        }
    }
}

fn finding(verdict: Verdict, cause: Cause, reason: Text) -> Option<Finding> {
    (verdict != Verdict::Ok).then_some(Finding { verdict, cause, reason })
}

/// A ratio as people say it: `12% of`, `3.5 times`.
fn times(ratio: f64) -> String {
    if ratio < 1.0 { format!("{:.0}% of", 100.0 * ratio) } else { format!("{ratio:.1} times") }
}

fn times_zh(ratio: f64) -> String {
    if ratio < 1.0 { format!("{:.0}%", 100.0 * ratio) } else { format!("{ratio:.1} 倍") }
}

/// Cores as people write them: `1 core`, `2 cores`, `0.1 cores`, `1.5 cores`.
fn cores_text(cores: f64) -> String {
    let n = trimmed(cores);
    if n == "1" { "1 core".into() } else { format!("{n} cores") }
}

/// A number without trailing zeros: `2`, `0.1`, `1.5`.
fn trimmed(cores: f64) -> String {
    let n = format!("{cores:.2}");
    n.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn english(j: &Judgement) -> Vec<&str> {
        j.reasons.iter().map(|r| r.en.as_str()).collect()
    }

    /// A light closed-loop run on a quiet machine: 10 % of 4 cores over 10 s, nothing
    /// throttled, reads 0.2 ms late against a 10 ms ITL, workers 0.5 ms late.
    fn light() -> Inputs {
        Inputs {
            model: Model::Closed,
            kernel_clock: true,
            read_lag_p99_ms: Some(0.2),
            gaps_read_together: Some(0.0),
            itl_p50_ms: Some(10.0),
            ttft_p50_ms: Some(100.0),
            start_lag_mean_ms: Some(0.5),
            start_lag_p99_ms: Some(0.9),
            cpu_s: Some(4.0),
            wall_s: 10.0,
            window_s: 10.0,
            cpus: 4,
            quota_cores: None,
            throttling: Some(Throttling::default()),
            machine: Some(quiet()),
        }
    }

    fn quiet() -> Load {
        Load { cpus: 4, others_cores: 0.2, steal: 0.0, load_1m: Some(0.5) }
    }

    /// Two CPUs, other work on nearly both of them.
    fn busy_machine() -> Load {
        Load { cpus: 2, others_cores: 1.93, steal: 0.0, load_1m: Some(4.2) }
    }

    /// The light run on a busy machine: 8 workers, 0.12 CPU-s in 5 s on 2 CPUs.
    fn light_on_busy() -> Inputs {
        Inputs {
            cpu_s: Some(0.12),
            wall_s: 5.0,
            window_s: 5.0,
            cpus: 2,
            machine: Some(busy_machine()),
            ..light()
        }
    }

    fn verdict(i: Inputs) -> Verdict {
        judge(&i).verdict
    }

    #[test]
    fn a_light_run_is_ok_with_no_reasons_and_says_the_machine() {
        let j = judge(&light());
        assert_eq!((j.verdict, j.cause, j.reasons.len()), (Verdict::Ok, None, 0));
        assert_eq!(
            j.machine,
            Some(Machine { cpus: 4, others_cores: 0.2, steal: 0.0, load_1m: Some(0.5), busy: false })
        );
        // Nothing known is nothing found.
        assert_eq!(
            judge(&Inputs::default()),
            Judgement { verdict: Verdict::Ok, cause: None, reasons: vec![], machine: None }
        );
    }

    #[test]
    fn a_light_run_on_a_busy_machine_is_ok_while_its_lags_distort_nothing() {
        // Reads up to 9.6 ms late (p99) against a 10 ms ITL, workers started 28 ms late in a
        // 5 s run: the lags seen beside two CPU hogs, none of which reaches what it distorts.
        let j =
            judge(&Inputs { read_lag_p99_ms: Some(9.6), start_lag_mean_ms: Some(28.4), ..light_on_busy() });
        assert_eq!((j.verdict, j.reasons.len()), (Verdict::Ok, 0), "{:?}", j.reasons);
        assert_eq!(j.machine.map(|m| m.busy), Some(true));
        // Past the gap, events are read together: degraded, and the machine is the cause.
        let j = judge(&Inputs { read_lag_p99_ms: Some(12.0), ..light_on_busy() });
        assert_eq!((j.verdict, j.cause), (Verdict::Degraded, Some(Cause::Machine)));
        assert_eq!(
            english(&j),
            [
                "the client read events 12.0 ms (p99) after they reached the machine, 1.2 times the 10.0 ms ITL (p50): the kernel's receive times keep that lag out of the latencies, but events that arrived within it of each other were read together and share a time (their gap reads 0, the one before longer); the cause is other work on the machine (it used 1.93 of the 2 cores the client may run on; load average 4.2), not the client (it used 1% of the 2 cores it may run on): run llmload where it has those cores to itself, or when the other work is done (-c would not help)"
            ]
        );
        assert_eq!(
            j.reasons[0].zh,
            "客户端在事件到达本机 12.0 ms（p99）后才读到它们，是 10.0 ms ITL（p50）的 1.2 倍：内核接收时间把这段滞后排除在延迟之外，但彼此相隔不到这段时间到达的事件被一起读到、共用一个时间（它们之间的间隔读作 0，之前的间隔读得更长）；原因是本机上的其他工作（它占用了客户端可用的 2 个核中的 1.93 个；平均负载 4.2），而不是客户端（它用了可用的 2 个核的 1%）：请在 llmload 能独占这些核的地方运行，或等其他工作结束（调 -c 无济于事）"
        );
    }

    #[test]
    fn read_lag_is_judged_against_the_gap_it_distorts() {
        let at = |ms, itl| verdict(Inputs { read_lag_p99_ms: Some(ms), itl_p50_ms: Some(itl), ..light() });
        // With the kernel's times: past one gap degraded, past ten client-bound.
        assert_eq!(
            [at(10.0, 10.0), at(10.01, 10.0), at(100.0, 10.0), at(100.1, 10.0)],
            [Verdict::Ok, Verdict::Degraded, Verdict::Degraded, Verdict::ClientBound]
        );
        // 2 ms against a 50 ms ITL is nothing; against a 1 ms ITL it is two gaps.
        assert_eq!([at(2.0, 50.0), at(2.0, 1.0)], [Verdict::Ok, Verdict::Degraded]);
        // With read times the lag is in the latencies: a tenth of a gap degrades, a gap is
        // client-bound.
        let user = |ms, itl| {
            verdict(Inputs {
                kernel_clock: false,
                read_lag_p99_ms: Some(ms),
                itl_p50_ms: Some(itl),
                ..light()
            })
        };
        assert_eq!(
            [user(1.0, 10.0), user(1.01, 10.0), user(10.0, 10.0), user(10.01, 10.0), user(2.0, 50.0)],
            [Verdict::Ok, Verdict::Degraded, Verdict::Degraded, Verdict::ClientBound, Verdict::Ok]
        );
        // No ITL (one event a response): the TTFT is the gap; neither: a fast model's 10 ms.
        let without = |ms, ttft| {
            judge(&Inputs { read_lag_p99_ms: Some(ms), itl_p50_ms: Some(0.0), ttft_p50_ms: ttft, ..light() })
        };
        assert_eq!(
            [without(90.0, Some(100.0)).verdict, without(110.0, Some(100.0)).verdict],
            [Verdict::Ok, Verdict::Degraded]
        );
        assert!(english(&without(110.0, Some(100.0)))[0].contains("1.1 times the 100.0 ms TTFT (p50)"));
        let j = without(11.0, None);
        assert_eq!(j.verdict, Verdict::Degraded);
        assert!(
            english(&j)[0].contains("1.1 times the 10.0 ms gap of a fast model (p50)"),
            "{:?}",
            j.reasons
        );
        let user_text = judge(&Inputs { kernel_clock: false, read_lag_p99_ms: Some(2.0), ..light() });
        assert!(
            english(&user_text)[0].starts_with("the client read events 2.0 ms (p99) after they reached the machine, 20% of the 10.0 ms ITL (p50): without the kernel's receive times that lag is in TTFT and ITL; the cause is the client itself"),
            "{:?}",
            user_text.reasons
        );
    }

    #[test]
    fn events_read_together_count_where_the_client_had_reason_to_be_late() {
        // Read lag within the ITL (the merged segments' last time hides the rest), but the
        // machine busy: past 1 % of the gaps degraded (the p99), past 10 % client-bound (p90).
        let at = |share| judge(&Inputs { gaps_read_together: Some(share), ..light_on_busy() });
        assert_eq!(
            [at(0.01).verdict, at(0.0101).verdict, at(0.10).verdict, at(0.1001).verdict],
            [Verdict::Ok, Verdict::Degraded, Verdict::Degraded, Verdict::ClientBound]
        );
        let j = at(0.023);
        assert_eq!(j.cause, Some(Cause::Machine));
        assert!(
            english(&j)[0].starts_with("2.3% of the gaps between events read 0 ms: the client read both events at once, and the kernel keeps one receive time a read (it merges what waits unread in a socket), so the gap before them reads as long as both and the ITL's p99 and above are the client's, not the server's; the cause is other work on the machine"),
            "{:?}",
            j.reasons
        );
        assert!(j.reasons[0].zh.starts_with("2.3% 的事件间隔读作 0 ms"), "{:?}", j.reasons);
        assert!(english(&at(0.2))[0].contains("the ITL's p90 and above"));
        // A client with time to spare, on a quiet machine, reading on time: the events came
        // together from the server (or a proxy), which is not the client's doing.
        assert_eq!(verdict(Inputs { gaps_read_together: Some(0.5), ..light() }), Verdict::Ok);
        // The same client reading past the ITL: its lateness explains them.
        let lagging = Inputs {
            gaps_read_together: Some(0.05),
            read_lag_p99_ms: Some(10.5),
            itl_p50_ms: Some(10.0),
            ..light()
        };
        assert_eq!(verdict(lagging), Verdict::Degraded);
        // Busy with its own work: the client.
        let own = judge(&Inputs { gaps_read_together: Some(0.05), cpu_s: Some(36.0), ..light() });
        assert_eq!((own.verdict, own.cause), (Verdict::Degraded, Some(Cause::Client)));
        assert_eq!(verdict(Inputs { gaps_read_together: None, ..light_on_busy() }), Verdict::Ok);
    }

    #[test]
    fn closed_loop_start_lag_is_the_share_of_the_run_the_workers_missed() {
        // 10 s: a mean of 500 ms is 5 %, 2500 ms 25 %.
        let at = |mean| {
            verdict(Inputs { start_lag_mean_ms: Some(mean), start_lag_p99_ms: Some(2.0 * mean), ..light() })
        };
        assert_eq!(
            [at(500.0), at(501.0), at(2500.0), at(2501.0)],
            [Verdict::Ok, Verdict::Degraded, Verdict::Degraded, Verdict::ClientBound]
        );
        // A 100 ms p99 in a 10 s run is no longer a finding on its own.
        assert_eq!(at(50.0), Verdict::Ok);
        let j = judge(&Inputs { start_lag_mean_ms: Some(600.0), start_lag_p99_ms: Some(900.0), ..light() });
        assert_eq!(
            english(&j),
            [
                "the workers started 600.0 ms late on average (900.0 ms p99), 6.0% of the run's 10.0 s: the server got less load than asked; the cause is the client itself (it used 10% of the 4 cores it may run on): lower -c, give the client more cores, or split the load across machines (--shard)"
            ]
        );
        // No window, no share.
        assert_eq!(verdict(Inputs { start_lag_mean_ms: Some(600.0), window_s: 0.0, ..light() }), Verdict::Ok);
    }

    #[test]
    fn open_loop_start_lag_is_judged_against_the_gap_between_requests() {
        // --rate 20: 50 ms between requests; a quarter is 12.5 ms.
        let open = |mean| Inputs {
            model: Model::Open { rate: 20.0 },
            start_lag_mean_ms: Some(mean),
            start_lag_p99_ms: Some(40.0),
            ..light()
        };
        assert_eq!(
            [
                verdict(open(1.5)),
                verdict(open(12.5)),
                verdict(open(12.6)),
                verdict(open(50.0)),
                verdict(open(50.1))
            ],
            [Verdict::Ok, Verdict::Ok, Verdict::Degraded, Verdict::Degraded, Verdict::ClientBound]
        );
        // The knob of an open loop is --rate, never -c.
        let j = judge(&open(20.0));
        assert_eq!(
            english(&j),
            [
                "requests were sent 20.0 ms after their scheduled start on average (40.0 ms p99), 40% of the 50.0 ms between requests at --rate 20: the server got a different load from the one asked; the cause is the client itself (it used 10% of the 4 cores it may run on): lower --rate, give the client more cores, or split the load across machines (--shard)"
            ]
        );
        assert!(
            !j.reasons[0].en.contains("-c,") && j.reasons[0].zh.contains("调低 --rate"),
            "{:?}",
            j.reasons
        );
        // On a busy machine the cause is the machine, and --rate would not help.
        let busy = judge(&Inputs { machine: Some(busy_machine()), ..open(20.0) });
        assert_eq!(busy.cause, Some(Cause::Machine));
        assert!(busy.reasons[0].en.ends_with("(--rate would not help)"), "{:?}", busy.reasons);
        assert_eq!(verdict(Inputs { model: Model::Open { rate: 0.0 }, ..open(100.0) }), Verdict::Ok);
    }

    #[test]
    fn the_cause_is_the_client_when_it_used_its_cores_or_was_throttled() {
        let late = |i: Inputs| judge(&Inputs { read_lag_p99_ms: Some(15.0), ..i });
        // Half of 2 cores or less, on a busy machine: the machine.
        assert_eq!(late(Inputs { cpu_s: Some(5.0), ..light_on_busy() }).cause, Some(Cause::Machine));
        // More than half: the client, even though the machine was busy too.
        let j = late(Inputs { cpu_s: Some(5.1), ..light_on_busy() });
        assert_eq!((j.verdict, j.cause), (Verdict::Degraded, Some(Cause::Client)));
        assert!(
            j.reasons[0].en.ends_with("the cause is the client itself (it used 51% of the 2 cores it may run on): lower -c, give the client more cores, or split the load across machines (--shard)"),
            "{:?}",
            j.reasons
        );
        // Throttled: the client, and the remedy is the quota.
        let throttling = Some(Throttling { periods: 1000, throttled: 5, throttled_s: 0.1 });
        let j = late(Inputs { throttling, quota_cores: Some(1.0), ..light_on_busy() });
        assert_eq!(j.cause, Some(Cause::Client));
        assert!(j.reasons.iter().all(|r| r.en.contains("raise its cgroup's CPU quota")), "{:?}", j.reasons);
        // A quiet machine, or one not known: the client.
        assert_eq!(late(light()).cause, Some(Cause::Client));
        let unknown = late(Inputs { machine: None, ..light_on_busy() });
        assert_eq!((unknown.cause, unknown.machine), (Some(Cause::Client), None));
        // Steal makes a machine busy too, and the reason says how much.
        let stolen = Load { cpus: 4, others_cores: 0.1, steal: 0.25, load_1m: None };
        let j = late(Inputs { machine: Some(stolen), ..light() });
        assert_eq!(j.cause, Some(Cause::Machine));
        assert!(
            j.reasons[0].en.contains(
                "(it used 0.10 of the 4 cores the client may run on; a hypervisor took 25% of their time)"
            ),
            "{:?}",
            j.reasons
        );
        // Busy is more than half of the CPUs, or more than a tenth stolen.
        let machine = |others_cores, steal| {
            judge(&Inputs { machine: Some(Load { cpus: 2, others_cores, steal, load_1m: None }), ..light() })
                .machine
                .map(|m| m.busy)
        };
        assert_eq!(
            [machine(1.0, 0.0), machine(1.01, 0.0), machine(0.0, 0.1), machine(0.0, 0.11)],
            [Some(false), Some(true), Some(false), Some(true)]
        );
    }

    #[test]
    fn cpu_on_each_side_of_its_thresholds() {
        // 4 cores over 10 s: 32 CPU-s is 80 %, 38 CPU-s 95 %; the client is always the cause.
        let at = |cpu_s| judge(&Inputs { cpu_s: Some(cpu_s), ..light() });
        assert_eq!(
            [at(32.0).verdict, at(32.1).verdict, at(38.0).verdict, at(38.1).verdict],
            [Verdict::Ok, Verdict::Degraded, Verdict::Degraded, Verdict::ClientBound]
        );
        assert_eq!(at(38.1).cause, Some(Cause::Client));
        // A quota below the CPUs is what the client may use: 0.9 of 1 core is degraded.
        let quota = Inputs { cpu_s: Some(9.0), quota_cores: Some(1.0), ..light() };
        assert_eq!(
            english(&judge(&quota)),
            [
                "the client used 0.90 of the 1 core its cgroup CPU quota allows (90%) during the run: its threads waited for a core, and that wait is in the latencies; lower -c, give the client more cores, or split the load across machines (--shard)"
            ]
        );
        assert_eq!(
            judge(&quota).reasons[0].zh,
            "运行期间客户端用了其 cgroup CPU 配额允许的 1 个核中的 0.90 个（90%）：其线程在等待 CPU，这段等待计入了延迟；请调低 -c、给客户端更多 CPU 核，或用 --shard 把负载分到多台机器上"
        );
        // A quota above the CPUs allows no more than the CPUs.
        let loose = Inputs { cpu_s: Some(39.0), quota_cores: Some(8.0), ..light() };
        assert!(
            judge(&loose).reasons[0]
                .en
                .starts_with("the client used 3.90 of the 4 cores it may run on (98%)")
        );
        // Open loop: the knob is --rate.
        let open = Inputs { model: Model::Open { rate: 5.0 }, ..loose };
        assert!(judge(&open).reasons[0].en.ends_with(
            "; lower --rate, give the client more cores, or split the load across machines (--shard)"
        ));
        // No wall time, no share.
        assert_eq!(verdict(Inputs { cpu_s: Some(1.0), wall_s: 0.0, ..light() }), Verdict::Ok);
    }

    #[test]
    fn any_throttling_degrades_and_more_than_one_period_in_a_hundred_is_client_bound() {
        let at = |throttled, periods| {
            let throttling = Some(Throttling { periods, throttled, throttled_s: 0.05 });
            judge(&Inputs { throttling, quota_cores: Some(2.0), ..light() })
        };
        assert_eq!([at(1, 100).verdict, at(1, 99).verdict], [Verdict::Degraded, Verdict::ClientBound]);
        assert_eq!(
            english(&at(1, 200)),
            [
                "the client's cgroup CPU quota (2 cores) throttled it in 1 of 200 periods (0.5%) during the run, stopping its threads for 0.05 s in all: reads and sends waited for the next period; lower -c, raise its cgroup's CPU quota (the container's CPU limit), or split the load across machines (--shard)"
            ]
        );
        assert_eq!(
            at(1, 200).reasons[0].zh,
            "运行期间客户端的 cgroup CPU 配额（2 核）在 200 个周期中的 1 个（0.5%）限流了它，共暂停其线程 0.05 秒：读和发送都要等下一个周期；请调低 -c、调高其 cgroup 的 CPU 配额（容器的 CPU 限制），或用 --shard 把负载分到多台机器上"
        );
        assert_eq!((at(1, 200).cause, at(0, 200).verdict), (Some(Cause::Client), Verdict::Ok));
    }

    #[test]
    fn the_worst_finding_sets_the_verdict_and_cause_and_comes_first() {
        let both = Inputs {
            read_lag_p99_ms: Some(20.0),
            start_lag_mean_ms: Some(3000.0),
            machine: Some(Load { cpus: 4, others_cores: 3.5, steal: 0.0, load_1m: None }),
            ..light()
        };
        let j = judge(&both);
        assert_eq!((j.verdict, j.cause, j.reasons.len()), (Verdict::ClientBound, Some(Cause::Machine), 2));
        assert!(j.reasons[0].en.starts_with("the workers started 3000.0 ms late on average"));
        assert!(j.reasons[1].en.starts_with("the client read events 20.0 ms (p99)"));
        let all = Inputs {
            read_lag_p99_ms: Some(30.0),
            start_lag_mean_ms: Some(600.0),
            cpu_s: Some(35.0),
            throttling: Some(Throttling { periods: 1000, throttled: 5, throttled_s: 0.1 }),
            ..light()
        };
        let j = judge(&all);
        assert_eq!((j.verdict, j.cause, j.reasons.len()), (Verdict::Degraded, Some(Cause::Client), 4));
        assert!(
            j.reasons.iter().all(|r| r.en.contains("lower -c") && r.zh.contains("调低 -c")),
            "{:?}",
            j.reasons
        );
    }

    #[test]
    fn verdicts_and_causes_are_written_as_the_json_names_them() {
        let names = [Verdict::Ok, Verdict::Degraded, Verdict::ClientBound]
            .map(|v| serde_json::to_string(&v).unwrap());
        assert_eq!(names, ["\"ok\"", "\"degraded\"", "\"client-bound\""]);
        let causes = [Cause::Client, Cause::Machine].map(|c| serde_json::to_string(&c).unwrap());
        assert_eq!(causes, ["\"client\"", "\"machine\""]);
        let cores = [1.0, 2.0, 0.1, 1.5, 1.0 / 3.0].map(cores_text);
        assert_eq!(cores, ["1 core", "2 cores", "0.1 cores", "1.5 cores", "0.33 cores"]);
        assert_eq!([times(0.123), times(1.0), times(12.34)], ["12% of", "1.0 times", "12.3 times"]);
    }
}
