//! Warnings about a finished run, each saying what to do next. Pure: summary in, sentences out.

use crate::summary::Summary;

pub fn after_run(s: &Summary) -> Vec<String> {
    let mut w = Vec::new();
    if s.ok == 0 && s.failed > 0 {
        let (kind, t) = &s.errors[0];
        w.push(format!(
            "every request failed; most often {kind} ({}×): {} — fix that before reading any latency",
            t.count, t.first_message
        ));
    } else if s.total > 0 && s.ok == 0 && s.failed == 0 {
        w.push(format!(
            "all {} requests were cancelled at the deadline before they ended: raise --duration",
            s.cancelled
        ));
    } else if s.total == 0 {
        w.push("no request was sent: raise --duration or lower --ramp-up".into());
    }
    if s.tokens_estimated > 0 {
        w.push(format!(
            "{} requests had no usage in their stream, so their output tokens are estimated (CJK characters one each, other text by words); ask the server for usage for exact counts",
            s.tokens_estimated
        ));
    }
    if s.with_warnings > 0 {
        w.push(format!(
            "{} successful requests carried stream problems (malformed events or invalid UTF-8); see `warnings` in --records",
            s.with_warnings
        ));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    if s.wall_s > 1.0 && s.client_cpu_s / s.wall_s > 0.8 * cores {
        w.push(format!(
            "the client used {:.1} of {cores} CPU cores: its own delays may be in the latencies; lower --concurrency or run llmload on a separate machine",
            s.client_cpu_s / s.wall_s
        ));
    }
    w
}
