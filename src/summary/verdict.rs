//! Is the client the bottleneck? The verdict on a run's own numbers: `ok`, `degraded` (the client
//! added delays of its own: read the latencies with care) or `client-bound` (the client, not the
//! server, set these numbers), with one reason for each finding that names its cause and what to
//! do. A pure function of plain numbers (`Inputs`): `commands` gathers them, the summary carries
//! the result (`client.verdict`, `client.reasons`), `output` prints it. The thresholds, and why
//! they are where they are, are in docs/metrics.md ("Is the client the bottleneck?").

use crate::lang::Text;
use crate::sys::cgroup::Throttling;
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

/// Read lag p99, ms: a millisecond is the accuracy the ITL of a fast model needs (its gaps are
/// 5–20 ms); ten is as large as such a gap, so the ITL then measures the client.
const READ_LAG_MS: Thresholds = Thresholds { degraded: 1.0, client_bound: 10.0 };
/// Start lag p99, ms: requests left late by more than this are the client's schedule slipping,
/// not the server's queue; by 100 ms the load offered is no longer the load asked for.
const START_LAG_MS: Thresholds = Thresholds { degraded: 10.0, client_bound: 100.0 };
/// CPU used over the cores the client may use: past 80 % runnable threads queue for a core
/// (reads wait), past 95 % the client is saturated.
const CPU_SHARE: Thresholds = Thresholds { degraded: 0.80, client_bound: 0.95 };
/// The share of the run's quota periods in which the cgroup throttled the client above which it
/// is client-bound: each throttled period stops every client thread until the period ends (up to
/// the default 100 ms), so more than 1 % of them can reach the p99 of every latency.
const THROTTLED_SHARE_CLIENT_BOUND: f64 = 0.01;

/// What every reason offers to do about it.
const WHAT_TO_DO: &str = "lower -c, give the client more cores, or split the load across machines";
const WHAT_TO_DO_ZH: &str = "请调低 -c、给客户端更多 CPU 核，或把负载分到多台机器上";

/// The numbers the verdict reads, each `None` where it is unknown (it is then not judged).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The p99 of the client's read lag (the bytes' kernel receive time to the read that
    /// returned them), ms: from `client.read_lag_ms` once the client measures it.
    pub read_lag_p99_ms: Option<f64>,
    /// The p99 of the start lag (a request's intended start to its send), ms: from
    /// `client.start_lag_ms` once the client measures it.
    pub start_lag_p99_ms: Option<f64>,
    /// CPU seconds (user and system) the client used during the run.
    pub cpu_s: Option<f64>,
    /// The run's wall time, seconds.
    pub wall_s: f64,
    /// The CPUs the process may run on (`sys::cpus`).
    pub cpus: usize,
    /// Its cgroup's CPU quota in cores, `None` without one: with `cpus`, the cores it may use
    /// are the smaller of the two.
    pub quota_cores: Option<f64>,
    /// How often its cgroup throttled it during the run.
    pub throttling: Option<Throttling>,
}

/// The verdict and its reasons, the worst first.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    /// In both languages; the JSON has the English.
    pub reasons: Vec<Text>,
}

/// The verdict on a run: the worst of its findings (`ok` with no reasons when there are none).
pub fn judge(i: &Inputs) -> Judgement {
    let mut found: Vec<(Verdict, Text)> =
        [cpu(i), throttling(i), read_lag(i), start_lag(i)].into_iter().flatten().collect();
    found.sort_by_key(|&(v, _)| Reverse(v)); // stable: equal verdicts keep their order
    Judgement {
        verdict: found.first().map_or(Verdict::Ok, |&(v, _)| v),
        reasons: found.into_iter().map(|(_, reason)| reason).collect(),
    }
}

fn cpu(i: &Inputs) -> Option<(Verdict, Text)> {
    let cpu_s = i.cpu_s.filter(|_| i.wall_s > 0.0)?;
    let (cores, whose, whose_zh) = match i.quota_cores {
        Some(q) if q < i.cpus as f64 => (q, "its cgroup CPU quota allows", "其 cgroup CPU 配额允许的"),
        _ => (i.cpus as f64, "it may run on", "可用的"),
    };
    let used = cpu_s / i.wall_s;
    let share = used / cores;
    finding(
        CPU_SHARE.of(share),
        Text {
            en: format!(
                "the client used {used:.2} of the {} {whose} ({:.0}%) during the run: its threads waited for a core, and that wait is in the latencies; {WHAT_TO_DO}",
                cores_text(cores),
                100.0 * share
            ),
            zh: format!(
                "运行期间客户端用了{whose_zh} {} 个核中的 {used:.2} 个（{:.0}%）：其线程在等待 CPU，这段等待计入了延迟；{WHAT_TO_DO_ZH}",
                trimmed(cores),
                100.0 * share
            ),
        },
    )
}

fn throttling(i: &Inputs) -> Option<(Verdict, Text)> {
    let t = i.throttling.filter(|t| t.throttled > 0)?;
    let share = t.throttled as f64 / t.periods.max(t.throttled) as f64;
    let verdict = if share > THROTTLED_SHARE_CLIENT_BOUND { Verdict::ClientBound } else { Verdict::Degraded };
    let quota = i.quota_cores.map_or(String::new(), |q| format!(" ({})", cores_text(q)));
    let quota_zh = i.quota_cores.map_or(String::new(), |q| format!("（{} 核）", trimmed(q)));
    finding(
        verdict,
        Text {
            en: format!(
                "the client's cgroup CPU quota{quota} throttled it in {} of {} periods ({:.1}%) during the run, stopping its threads for {:.2} s in all: reads and sends waited for the next period; {WHAT_TO_DO} (raise the cgroup's CPU quota or the container's CPU limit)",
                t.throttled,
                t.periods,
                100.0 * share,
                t.throttled_s
            ),
            zh: format!(
                "运行期间客户端的 cgroup CPU 配额{quota_zh}在 {} 个周期中的 {} 个（{:.1}%）限流了它，共暂停其线程 {:.2} 秒：读和发送都要等下一个周期；{WHAT_TO_DO_ZH}（调高 cgroup 的 CPU 配额或容器的 CPU 限制）",
                t.periods,
                t.throttled,
                100.0 * share,
                t.throttled_s
            ),
        },
    )
}

fn read_lag(i: &Inputs) -> Option<(Verdict, Text)> {
    let p99 = i.read_lag_p99_ms?;
    finding(
        READ_LAG_MS.of(p99),
        Text {
            en: format!(
                "the client read events {p99:.1} ms (p99) after they reached the machine: that lag is in TTFT and ITL; {WHAT_TO_DO}"
            ),
            zh: format!(
                "客户端在事件到达本机 {p99:.1} ms（p99）后才读到它们：这段滞后计入了 TTFT 和 ITL；{WHAT_TO_DO_ZH}"
            ),
        },
    )
}

fn start_lag(i: &Inputs) -> Option<(Verdict, Text)> {
    let p99 = i.start_lag_p99_ms?;
    finding(
        START_LAG_MS.of(p99),
        Text {
            en: format!(
                "requests were sent {p99:.1} ms (p99) after their intended start: the client did not keep its schedule, so the server got less load than asked; {WHAT_TO_DO}"
            ),
            zh: format!(
                "请求在计划开始后 {p99:.1} ms（p99）才发出：客户端没能按计划执行，服务器收到的负载低于设定；{WHAT_TO_DO_ZH}"
            ),
        },
    )
}

fn finding(verdict: Verdict, reason: Text) -> Option<(Verdict, Text)> {
    (verdict != Verdict::Ok).then_some((verdict, reason))
}

/// Cores as people write them: `1 core`, `2 cores`, `0.1 cores`, `1.5 cores`.
fn cores_text(cores: f64) -> String {
    let n = trimmed(cores);
    if n == "1" { "1 core".into() } else { format!("{n} cores") }
}

/// A core count without trailing zeros: `2`, `0.1`, `1.5`.
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

    /// A light run: 10 % of 4 cores over 10 s, nothing throttled, no lag.
    fn light() -> Inputs {
        Inputs {
            read_lag_p99_ms: Some(0.2),
            start_lag_p99_ms: Some(0.5),
            cpu_s: Some(4.0),
            wall_s: 10.0,
            cpus: 4,
            quota_cores: None,
            throttling: Some(Throttling::default()),
        }
    }

    fn verdict(i: Inputs) -> Verdict {
        judge(&i).verdict
    }

    #[test]
    fn a_light_run_is_ok_with_no_reasons() {
        assert_eq!(judge(&light()), Judgement { verdict: Verdict::Ok, reasons: vec![] });
        // Nothing known is nothing found.
        assert_eq!(judge(&Inputs::default()), Judgement { verdict: Verdict::Ok, reasons: vec![] });
    }

    #[test]
    fn read_lag_on_each_side_of_its_thresholds() {
        let at = |ms| verdict(Inputs { read_lag_p99_ms: Some(ms), ..light() });
        assert_eq!(
            [at(1.0), at(1.01), at(10.0), at(10.01)],
            [Verdict::Ok, Verdict::Degraded, Verdict::Degraded, Verdict::ClientBound]
        );
    }

    #[test]
    fn start_lag_on_each_side_of_its_thresholds() {
        let at = |ms| verdict(Inputs { start_lag_p99_ms: Some(ms), ..light() });
        assert_eq!(
            [at(10.0), at(10.01), at(100.0), at(100.01)],
            [Verdict::Ok, Verdict::Degraded, Verdict::Degraded, Verdict::ClientBound]
        );
    }

    #[test]
    fn cpu_on_each_side_of_its_thresholds() {
        // 4 cores over 10 s: 32 CPU-s is 80 %, 38 CPU-s 95 %.
        let at = |cpu_s| verdict(Inputs { cpu_s: Some(cpu_s), ..light() });
        assert_eq!(
            [at(32.0), at(32.1), at(38.0), at(38.1)],
            [Verdict::Ok, Verdict::Degraded, Verdict::Degraded, Verdict::ClientBound]
        );
        // A quota below the CPUs is what the client may use: 0.9 of 1 core is degraded.
        let quota = Inputs { cpu_s: Some(9.0), quota_cores: Some(1.0), ..light() };
        assert_eq!(
            english(&judge(&quota)),
            [
                "the client used 0.90 of the 1 core its cgroup CPU quota allows (90%) during the run: its threads waited for a core, and that wait is in the latencies; lower -c, give the client more cores, or split the load across machines"
            ]
        );
        // A quota above the CPUs allows no more than the CPUs.
        let loose = Inputs { cpu_s: Some(39.0), quota_cores: Some(8.0), ..light() };
        assert!(
            judge(&loose).reasons[0]
                .en
                .starts_with("the client used 3.90 of the 4 cores it may run on (98%)")
        );
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
                "the client's cgroup CPU quota (2 cores) throttled it in 1 of 200 periods (0.5%) during the run, stopping its threads for 0.05 s in all: reads and sends waited for the next period; lower -c, give the client more cores, or split the load across machines (raise the cgroup's CPU quota or the container's CPU limit)"
            ]
        );
        assert_eq!(at(0, 200).verdict, Verdict::Ok);
    }

    #[test]
    fn the_worst_finding_sets_the_verdict_and_comes_first() {
        let both = Inputs { read_lag_p99_ms: Some(2.0), start_lag_p99_ms: Some(150.0), ..light() };
        let j = judge(&both);
        assert_eq!(j.verdict, Verdict::ClientBound);
        assert_eq!(j.reasons.len(), 2);
        assert!(j.reasons[0].en.starts_with("requests were sent 150.0 ms (p99) after their intended start"));
        assert!(
            j.reasons[1].en.starts_with("the client read events 2.0 ms (p99) after they reached the machine")
        );
        let all = Inputs {
            read_lag_p99_ms: Some(3.0),
            start_lag_p99_ms: Some(20.0),
            cpu_s: Some(35.0),
            throttling: Some(Throttling { periods: 1000, throttled: 5, throttled_s: 0.1 }),
            ..light()
        };
        let j = judge(&all);
        assert_eq!((j.verdict, j.reasons.len()), (Verdict::Degraded, 4));
        assert!(
            j.reasons.iter().all(|r| r.en.contains(WHAT_TO_DO) && r.zh.contains(WHAT_TO_DO_ZH)),
            "{:?}",
            j.reasons
        );
    }

    #[test]
    fn verdicts_are_written_as_the_json_names_them() {
        let names = [Verdict::Ok, Verdict::Degraded, Verdict::ClientBound]
            .map(|v| serde_json::to_string(&v).unwrap());
        assert_eq!(names, ["\"ok\"", "\"degraded\"", "\"client-bound\""]);
        let cores = [1.0, 2.0, 0.1, 1.5, 1.0 / 3.0].map(cores_text);
        assert_eq!(cores, ["1 core", "2 cores", "0.1 cores", "1.5 cores", "0.33 cores"]);
    }
}
