//! One JSON line per finished request (`--records`). The reporter writes each line as the
//! request ends, so a killed run keeps every finished request.

use crate::measure::Record;
use serde_json::json;

pub fn line(r: &Record) -> Vec<u8> {
    let v = json!({
        "start_ms": r.start_ms,
        "attempts": r.attempts,
        "request_id": r.request_id,
        "itl_ms": r.itl_ms,
        "worker": r.worker,
        "prompt_index": r.prompt_index,
        "key_index": r.key_index,
        "status": r.status,
        "outcome": r.outcome,
        "error": r.error,
        "ttfb_ms": r.ttfb_ms,
        "ttfe_ms": r.ttfe_ms,
        "ttft_ms": r.ttft_ms,
        "ttfa_ms": r.ttfa_ms,
        "tpot_ms": r.tpot_ms,
        "e2e_ms": r.e2e_ms,
        "output_tokens": r.output_tokens,
        "token_source": r.token_source.to_string(),
        "counted_tokens": r.counted_tokens,
        "input_tokens": r.input_tokens,
        "reasoning_tokens": r.reasoning_tokens,
        "server_latency_ms": r.server_latency_ms,
        "server_ttft_ms": r.server_ttft_ms,
        "turn": r.turn,
        "conversation_id": r.conversation_id,
        "events": r.events,
        "text_events": r.text_events,
        "warnings": r.warnings,
    });
    let mut out = v.to_string().into_bytes();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::TokenSource;

    #[test]
    fn exact_line() {
        let r = Record {
            start_ms: 12.5,
            attempts: 1,
            request_id: Some("req-7".into()),
            itl_ms: vec![10.0, 9.875],
            worker: 3,
            prompt_index: 1,
            key_index: Some(0),
            status: Some(200),
            outcome: "ok".into(),
            error: None,
            ttfb_ms: Some(1.5),
            ttfe_ms: Some(2.0),
            ttft_ms: Some(100.25),
            ttfa_ms: Some(100.25),
            tpot_ms: Some(10.0),
            e2e_ms: 200.0,
            output_tokens: 11,
            token_source: TokenSource::Usage,
            counted_tokens: 10,
            input_tokens: 7,
            reasoning_tokens: Some(4),
            server_latency_ms: Some(190.5),
            server_ttft_ms: None,
            turn: 2,
            conversation_id: Some("c1".into()),
            events: 13,
            text_events: 11,
            warnings: vec![],
        };
        let got = String::from_utf8(line(&r)).unwrap();
        assert_eq!(
            got,
            "{\"attempts\":1,\"conversation_id\":\"c1\",\"counted_tokens\":10,\"e2e_ms\":200.0,\"error\":null,\"events\":13,\"input_tokens\":7,\"itl_ms\":[10.0,9.875],\"key_index\":0,\"outcome\":\"ok\",\"output_tokens\":11,\"prompt_index\":1,\"reasoning_tokens\":4,\"request_id\":\"req-7\",\"server_latency_ms\":190.5,\"server_ttft_ms\":null,\"start_ms\":12.5,\"status\":200,\"text_events\":11,\"token_source\":\"usage\",\"tpot_ms\":10.0,\"ttfa_ms\":100.25,\"ttfb_ms\":1.5,\"ttfe_ms\":2.0,\"ttft_ms\":100.25,\"turn\":2,\"warnings\":[],\"worker\":3}\n"
        );
    }
}
