//! `llmload demo`: the embedded mock, a short load test against it, and how llmload's numbers
//! compare with the mock's own record of when it sent each event.

use super::run::run;
use super::{print_out, say};
use crate::cli::{DemoArgs, RunArgs};
use crate::config::duration;
use crate::error::Error;
use crate::mock::{self, MockConfig};
use crate::output::format;
use crate::protocol::Api;
use std::net::SocketAddr;

/// `llmload demo`: the embedded mock, a short test against it, and how the numbers compare
/// with what the mock measured it sent.
pub fn demo(a: &DemoArgs) -> Result<u8, Error> {
    let api: Api = match &a.api {
        None => Api::DifyChat,
        Some(s) => s.parse().map_err(|fix| Error::flag("--api", s, fix))?,
    };
    if api == Api::Custom {
        return Err(Error::flag(
            "--api",
            "custom",
            "demo speaks every API but custom, which needs your body template: run `llmload mock` and point `llmload run --api custom --body-template …` at it",
        ));
    }
    let mock_config = MockConfig {
        ttft: duration("--ttft", &a.ttft)?,
        itl: duration("--itl", &a.itl)?,
        tokens: a.tokens,
        ..MockConfig::default()
    };
    let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    let server = mock::start(addr, mock_config)
        .map_err(|e| Error::Mock(format!("the demo's mock server could not start: {e}")))?;
    let url = format!("http://{}", server.addr());
    say(&format!(
        "demo: embedded mock LLM server on {url} (TTFT {}, ITL {}, {} tokens a response)",
        a.ttft, a.itl, a.tokens
    ));
    let args = RunArgs {
        url: Some(url),
        api: Some(api.name().into()),
        model: Some("mock".into()),
        concurrency: Some(a.concurrency),
        ramp_up: Some("2s".into()),
        duration: Some(a.duration.clone()),
        json: a.json.clone(),
        records: a.records.clone(),
        quiet: a.quiet,
        lang: a.lang.clone(),
        // The mock is ours and up; its record must hold only the run's requests to compare.
        no_preflight: true,
        ..RunArgs::default()
    };
    let (summary, code) = run(&args)?;
    let truth = server.truth_when_idle(std::time::Duration::from_secs(5));
    server.shutdown();
    let cmp = |name: &str, ours: Option<f64>, theirs: Option<f64>| match (ours, theirs) {
        (Some(o), Some(t)) => format!(
            "  {name} p50: llmload measured {}, the mock sent at {} (difference {:+.2}ms)\n",
            format::ms(o),
            format::ms(t),
            o - t
        ),
        _ => format!("  {name} p50: not enough data\n"),
    };
    let p50 = |d: Option<crate::stats::Distribution>| d.map(|d| d.p50);
    let mut text = String::from("\nAccuracy against the mock's own record of when it sent each event:\n");
    text += &cmp("TTFT", p50(summary.metrics.ttft_ms), p50(truth.ttft_us.distribution(0.001)));
    text += &cmp("ITL ", p50(summary.metrics.itl_ms), p50(truth.itl_us.distribution(0.001)));
    text += &format!(
        "\nPoint the same test at a real server:\n  llmload run --url http://YOUR-SERVER:PORT --api {} --api-key YOUR-KEY -c {} --ramp-up 2s -d {}\n",
        api.name(),
        a.concurrency,
        a.duration
    );
    print_out(&text);
    Ok(code)
}
