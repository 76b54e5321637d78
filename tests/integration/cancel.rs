//! `--cancel`: the share of streams the client leaves on purpose, chosen from the seed and each
//! request's number; they are abandoned, neither failures nor in any latency, with the tokens
//! received before the client left.

use crate::util::*;
use llmload::{Cancel, CancelAt};

#[test]
fn a_share_abandoned_after_five_text_events_is_counted_apart_with_its_tokens() {
    let mock = paced_mock(5, 2, 64);
    let dir = Dir::new("cancel-after-tokens");
    let (out, j, recs) = Llmload::run(&mock).args("-c 4 -n 40 --cancel 0.25@5tok --quiet").logged(&dir);
    out.expect_code(0);
    let rule = Cancel { share: 0.25, at: CancelAt::Tokens(5), seed: 1 };
    let chosen = (0..40).filter(|&i| rule.chosen(i)).count() as u64;
    assert!(chosen > 0 && chosen < 40, "the seed chooses some: {chosen}");
    let r = &j["requests"];
    assert_eq!(
        (r["total"].as_u64(), r["ok"].as_u64(), r["failed"].as_u64(), r["abandoned"].as_u64()),
        (Some(40), Some(40 - chosen), Some(0), Some(chosen)),
        "{}",
        out.context()
    );
    let abandoned: Vec<_> = recs.iter().filter(|r| r["outcome"] == "abandoned").collect();
    assert_eq!(abandoned.len() as u64, chosen, "{}", out.context());
    for r in &abandoned {
        assert_eq!(r["text_events"], 5, "{r}{}", out.context());
        assert_eq!(r["attempts"], 1, "never retried: {r}");
    }
    // Not in the latency percentiles: TTFT and E2E count the finished requests only.
    let m = &j["metrics"];
    assert_eq!(m["ttft_ms"]["count"].as_u64(), Some(40 - chosen), "{}", out.context());
    assert_eq!(m["e2e_ms"]["count"].as_u64(), Some(40 - chosen), "{}", out.context());
    // Their tokens are in the totals.
    assert_eq!(j["tokens"]["from_abandoned"].as_u64(), Some(chosen), "{}", out.context());
    let sum: u64 = recs.iter().map(|r| r["output_tokens"].as_u64().unwrap_or(0)).sum();
    assert_eq!(j["tokens"]["output_total"].as_u64(), Some(sum), "{}", out.context());
    assert!(out.stdout.contains(&format!("· {chosen} abandoned on purpose (--cancel)")), "{}", out.context());
    // The mock saw every stream; the abandoned ones never reached their end.
    let truth = mock.truth_when_idle(std::time::Duration::from_secs(10));
    // The preflight reads only to its first text event, so it is not completed either.
    assert_eq!((truth.requests, truth.completed), (40 + 1, 40 - chosen), "{}", out.context());
}

#[test]
fn a_share_abandoned_after_a_delay_ends_with_what_it_read() {
    // 64 tokens 20 ms apart (about 1.4 s a stream): a 300 ms delay leaves each chosen one mid-stream.
    let mock = paced_mock(20, 20, 64);
    let dir = Dir::new("cancel-after-delay");
    let (out, j, recs) = Llmload::run(&mock).args("-c 4 -n 12 --cancel 0.5@300ms --quiet").logged(&dir);
    out.expect_code(0);
    let rule = Cancel { share: 0.5, at: CancelAt::After(std::time::Duration::from_millis(300)), seed: 1 };
    let chosen = (0..12).filter(|&i| rule.chosen(i)).count() as u64;
    assert_eq!(j["requests"]["abandoned"].as_u64(), Some(chosen), "{}", out.context());
    assert_eq!(j["requests"]["failed"], 0, "{}", out.context());
    for r in recs.iter().filter(|r| r["outcome"] == "abandoned") {
        let events = r["text_events"].as_u64().unwrap();
        assert!(events < 64, "left before the end: {r}");
    }
}

#[test]
fn a_bad_cancel_is_refused_with_the_forms() {
    let out = Llmload::new("run").args("--host 127.0.0.1 --port 9 -n 1 --cancel 0.1@5parsecs").output();
    out.expect_code(2);
    assert!(out.stderr.contains("--cancel") && out.stderr.contains("0.2@16tok"), "{}", out.context());
}

/// The mock's side of a stream its client left: a server that notices stops (`abandoned`, no
/// text generated for nobody); one that keeps decoding (`--keep-decoding`) generates the rest.
#[test]
fn the_mock_counts_streams_left_and_what_it_generated_for_nobody() {
    for keep_decoding in [false, true] {
        let mock = mock_with(llmload::mock::MockConfig {
            ttft: std::time::Duration::from_millis(2),
            itl: std::time::Duration::from_millis(2),
            tokens: 64,
            keep_decoding,
            ..llmload::mock::MockConfig::default()
        });
        let dir = Dir::new("cancel-mock-side");
        let (out, j) =
            Llmload::run(&mock).args("-c 4 -n 20 --cancel 0.5@3tok --no-preflight --quiet").json(&dir);
        out.expect_code(0);
        let chosen = j["requests"]["abandoned"].as_u64().unwrap();
        let rule = Cancel { share: 0.5, at: CancelAt::Tokens(3), seed: 1 };
        assert_eq!(chosen, (0..20).filter(|&i| rule.chosen(i)).count() as u64);
        let truth = mock.truth_when_idle(std::time::Duration::from_secs(10));
        assert_eq!(truth.abandoned, chosen, "the mock saw each client leave ({keep_decoding})");
        // Every stream's 64 events were either written or, for nobody, generated.
        let generated = truth.text_events + truth.decoded_unread;
        if keep_decoding {
            assert_eq!(generated, 20 * 64, "each stream ran to its end");
            assert!(truth.decoded_unread > 0);
        } else {
            assert_eq!(truth.decoded_unread, 0, "a server that notices generates nothing more");
            assert!(generated < 20 * 64);
        }
    }
}
