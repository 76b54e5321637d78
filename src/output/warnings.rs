//! Warnings about a finished run, each saying what to do next. Pure: summary in, sentences out.

use crate::summary::Summary;

pub fn after_run(s: &Summary) -> Vec<String> {
    let mut w = Vec::new();
    let r = &s.requests;
    if r.ok == 0 && r.failed > 0 {
        if let Some((kind, count, message)) = s.errors_by_count().first() {
            w.push(format!(
                "every request failed; most often {kind} ({count}×): {message} — fix that before reading any latency"
            ));
        }
    } else if r.total > 0 && r.ok == 0 && r.failed == 0 {
        w.push(format!(
            "all {} requests were cancelled at the deadline before they ended: raise --duration",
            r.cancelled
        ));
    } else if r.total == 0 {
        w.push("no request was sent: raise --duration or lower --ramp-up".into());
    }
    if s.tokens.estimated > 0 {
        w.push(format!(
            "{} requests had no usage in their stream, so their output tokens are estimated (CJK characters one each, other text by words); ask the server for usage for exact counts",
            s.tokens.estimated
        ));
    }
    if s.with_warnings > 0 {
        w.push(format!(
            "{} successful requests carried stream problems (malformed events or invalid UTF-8); see `warnings` in --records",
            s.with_warnings
        ));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    if let Some(cpu_s) = s.client.cpu_s
        && s.wall_s > 1.0
        && cpu_s / s.wall_s > 0.8 * cores
    {
        w.push(format!(
            "the client used {:.1} of {cores} CPU cores: its own delays may be in the latencies; lower --concurrency or run llmload on a separate machine",
            cpu_s / s.wall_s
        ));
    }
    w
}
