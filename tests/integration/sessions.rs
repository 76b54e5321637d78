//! A session's own numbers: how long the sessions that completed every turn took, and how many
//! turns each session completed before it ended, live and rebuilt by `llmload report`.

use crate::util::*;
use serde_json::{Value, json};

fn turns_completed(j: &Value) -> Value {
    j["sessions"]["turns_completed"].clone()
}

#[test]
fn sessions_report_their_duration_and_the_turns_they_completed() {
    let mock = fast_mock(4, &[]);
    let dir = Dir::new("sessions-duration");
    // One worker, so that the six requests are two whole sessions whatever the machine's pace
    // (two workers share the budget of six as fast as each goes).
    let (out, j, recs) = Llmload::run(&mock)
        .args("--api openai-chat --turns 3 --think-time 50ms -c 1 -n 6 --no-preflight --quiet")
        .logged(&dir);
    out.expect_code(0);
    let s = &j["sessions"];
    assert_eq!(s["completed"], 2, "{}", out.context());
    assert_eq!(turns_completed(&j), json!([{"turns": 3, "sessions": 2}]));
    let d = &s["duration_ms"];
    assert_eq!(d["count"], 2);
    // Two think times lie inside every session.
    assert!(d["min"].as_f64().unwrap() >= 100.0, "{d}");
    // The records name each session and its start: the worker's first and second, each
    // started by its turn 1.
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["session"], i / 3 + 1, "{r}");
        let (start, first) = (r["start_ms"].as_f64().unwrap(), r["session_start_ms"].as_f64().unwrap());
        if r["turn"] == 1 {
            assert_eq!(start, first, "{r}");
        } else {
            assert!(first < start, "{r}");
        }
    }
    // `llmload report` rebuilds the same from the records.
    let out = llmload(&[
        "report",
        dir.path(Dir::RECORDS).to_str().unwrap(),
        "--json",
        dir.path("rebuilt.json").to_str().unwrap(),
    ]);
    out.expect_code(0);
    let r = read_json(&dir.path("rebuilt.json"), &out);
    assert_eq!(turns_completed(&r), turns_completed(&j));
    for key in ["count", "min", "p50", "max"] {
        assert_eq!(r["sessions"]["duration_ms"][key], d[key], "{key}");
    }
}

#[test]
fn a_failed_turn_ends_its_session_and_the_counts_say_after_how_many_turns() {
    // The mock fails every second request (1, 3, 5): one worker's sessions each get turn 1
    // right and fail turn 2.
    let mock = fast_mock(4, &["http-500:0.5"]);
    let dir = Dir::new("sessions-failed-turn");
    let (out, j) =
        Llmload::run(&mock).args("--api openai-chat --turns 3 -c 1 -n 6 --no-preflight --quiet").json(&dir);
    assert_eq!(j["requests"]["failed"], 3, "{}", out.context());
    assert_eq!(j["sessions"]["completed"], 0);
    assert_eq!(turns_completed(&j), json!([{"turns": 1, "sessions": 3}]));
    assert!(j["sessions"]["duration_ms"].is_null(), "no session completed every turn");
}
