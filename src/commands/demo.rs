//! `llmload demo`: the embedded mock, a short load test against it, and how llmload's numbers
//! compare with the mock's own record of when it sent each event.

use super::run::run;
use super::{print_out, say};
use crate::cli::DemoArgs;
use crate::config::DemoPlan;
use crate::error::Error;
use crate::mock;
use crate::output::format;
use std::net::SocketAddr;

/// `llmload demo`: the embedded mock, a short test against it, and how the numbers compare
/// with what the mock measured it sent.
pub fn demo(a: &DemoArgs) -> Result<u8, Error> {
    let plan = DemoPlan::from_args(a)?;
    let (l, api) = (plan.lang, plan.api);
    let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    let server = mock::start(addr, plan.mock.clone())
        .map_err(|e| Error::Mock(format!("the demo's mock server could not start: {e}")))?;
    let url = format!("http://{}", server.addr());
    let (ttft, itl, tokens) = (&a.ttft, &a.itl, a.tokens);
    say(&l.pick(
        format!(
            "demo: embedded mock LLM server on {url} (TTFT {ttft}, ITL {itl}, {tokens} tokens a response)"
        ),
        format!("demo：内置模拟 LLM 服务器位于 {url}（TTFT {ttft}，ITL {itl}，每个响应 {tokens} 个 token）"),
    ));
    let (summary, code) = run(&plan.run_args(url))?;
    let truth = server.truth_when_idle(std::time::Duration::from_secs(5));
    server.shutdown();
    let cmp = |name: &str, ours: Option<f64>, theirs: Option<f64>| match (ours, theirs) {
        (Some(o), Some(t)) => {
            let (ours, theirs, diff) = (format::ms(o), format::ms(t), o - t);
            l.pick(
                format!("  {name} p50: llmload measured {ours}, the mock sent at {theirs} (difference {diff:+.2}ms)\n"),
                format!("  {name} p50：llmload 测得 {ours}，模拟服务器发送于 {theirs}（相差 {diff:+.2}ms）\n"),
            )
        }
        _ => l.pick(format!("  {name} p50: not enough data\n"), format!("  {name} p50：数据不足\n")),
    };
    let p50 = |d: Option<crate::stats::Distribution>| d.map(|d| d.p50);
    let mut text = l
        .pick(
            "\nAccuracy against the mock's own record of when it sent each event:\n",
            "\n与模拟服务器自己记录的每个事件发送时间相比的准确度：\n",
        )
        .to_string();
    text += &cmp("TTFT", p50(summary.metrics.ttft_ms), p50(truth.ttft_us.distribution(0.001)));
    text += &cmp("ITL ", p50(summary.metrics.itl_ms), p50(truth.itl_us.distribution(0.001)));
    text += l.pick("\nPoint the same test at a real server:\n", "\n把同样的测试指向真实服务器：\n");
    text += &format!(
        "  llmload run --url http://YOUR-SERVER:PORT --api {} --api-key YOUR-KEY -c {} --ramp-up 2s -d {}\n",
        api.name(),
        a.concurrency,
        a.duration
    );
    if let Some(html) = &a.html {
        text += &l.pick(
            format!("\nThe HTML report: {html} (open it in a browser)\n"),
            format!("\nHTML 报告：{html}（用浏览器打开）\n"),
        );
    }
    print_out(&text);
    Ok(code)
}
