//! The mock's capacity and its global pause, seen through the client: with `--slots 2`, the 3rd
//! and 4th of 4 concurrent streams wait for a slot, so their TTFB and TTFT come about one stream
//! later; with `--stall-at/--stall-for`, a stream's events stop for the pause. Coarse bounds
//! only: the order and the counts are exact, the times generous.

use crate::util::*;
use llmload::mock::MockConfig;
use serde_json::Value;
use std::time::Duration;

fn ms(r: &Value, key: &str) -> f64 {
    r[key].as_f64().unwrap_or_else(|| panic!("{key} in {r}"))
}

#[test]
fn two_slots_make_the_third_and_fourth_streams_wait_one_stream() {
    // One stream: 50 ms to the first token and 9 gaps of 15 ms, about 185 ms in all.
    let config = MockConfig {
        ttft: Duration::from_millis(50),
        itl: Duration::from_millis(15),
        tokens: 10,
        slots: Some(2),
        ..MockConfig::default()
    };
    let mock = mock_with(config);
    let (out, _, records) =
        Llmload::run(&mock).args("--api openai-chat -c 4 -n 4 --no-preflight").logged(&Dir::new("slots"));
    out.expect_code(0);
    assert_eq!(records.len(), 4, "{}", out.context());
    let mut ttft: Vec<f64> = records.iter().map(|r| ms(r, "ttft_ms")).collect();
    ttft.sort_by(f64::total_cmp);
    let mut ttfb: Vec<f64> = records.iter().map(|r| ms(r, "ttfb_ms")).collect();
    ttfb.sort_by(f64::total_cmp);
    // The first two start at once; the last two wait for them to end (~185 ms).
    assert!(ttft[1] < ttft[2], "{ttft:?}");
    assert!(ttft[2] - ttft[1] >= 100.0, "the 3rd waited about one stream: {ttft:?}");
    assert!(ttfb[2] >= 100.0 && ttfb[0] < ttfb[2], "the head waits too: {ttfb:?}");
    // The mock's own record says the same: its TTFT counts from the request's arrival.
    let truth = mock.truth_when_idle(Duration::from_secs(5));
    assert_eq!((truth.requests, truth.completed), (4, 4));
    let max_us = truth.ttft_us.quantile(1.0).unwrap() as f64;
    assert!(max_us >= 150_000.0, "the mock's TTFT includes the wait: {max_us} µs");
}

#[test]
fn a_stall_holds_every_event_until_it_ends() {
    // A 2 s stream (40 tokens 50 ms apart), paused from 400 ms after the mock starts for 600 ms.
    let config = MockConfig {
        ttft: Duration::from_millis(5),
        itl: Duration::from_millis(50),
        tokens: 40,
        stall: Some((Duration::from_millis(400), Duration::from_millis(600))),
        ..MockConfig::default()
    };
    let mock = mock_with(config);
    let (out, _, records) =
        Llmload::run(&mock).args("--api openai-chat -n 1 --no-preflight").logged(&Dir::new("stall"));
    out.expect_code(0);
    let r = &records[0];
    let longest_gap = r["itl_ms"].as_array().unwrap().iter().filter_map(Value::as_f64).fold(0.0, f64::max);
    let waited = longest_gap.max(ms(r, "ttft_ms"));
    assert!(waited >= 300.0, "the pause shows as a gap (or a late first token): {r}");
    assert_eq!(r["output_tokens"], 40, "every event still went out: {r}");
    let truth = mock.truth_when_idle(Duration::from_secs(5));
    let gap_us = truth.itl_us.quantile(1.0).unwrap_or(0).max(truth.ttft_us.quantile(1.0).unwrap_or(0));
    assert!(gap_us >= 300_000, "the mock's record shows the pause: {gap_us} µs");
}

#[test]
fn mock_flags_for_capacity_are_checked() {
    let out = llmload(&["mock", "--port", "0", "--slots", "0"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--slots \"0\" is invalid: must be at least 1"), "{}", out.context());
    let out = llmload(&["mock", "--port", "0", "--stall-at", "1s"]);
    out.expect_code(2);
    assert!(out.stderr.contains("give --stall-at and --stall-for together"), "{}", out.context());
}
