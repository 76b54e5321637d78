//! `llmload report` over 1,000,000 synthetic records: four shard files of 250,000 records each,
//! 64 ITL values a record, as a 4-shard run at 1,024 streams would write them. Prints the
//! generation and the report's wall time (median of 3); `cargo bench --bench report`
//! (`-- 100000` for a smaller count). The files go to the system temp dir and are removed after;
//! with `LLMLOAD_BENCH_DIR=DIR` they go to DIR and are kept, to profile `llmload report` on them.

use std::io::{BufWriter, Write};
use std::process::Command;
use std::time::Instant;

const SHARDS: usize = 4;
const ROUNDS: usize = 3;

fn main() {
    let total: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1_000_000);
    let keep = std::env::var_os("LLMLOAD_BENCH_DIR").map(std::path::PathBuf::from);
    let dir = keep
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("llmload-bench-report-{}", std::process::id())));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let t = Instant::now();
    let epoch = 1_764_633_600_000.0_f64;
    let mut files = Vec::new();
    let mut bytes = 0u64;
    for s in 0..SHARDS {
        let path = dir.join(format!("shard-{s}.jsonl"));
        let mut w = BufWriter::new(std::fs::File::create(&path).expect("create"));
        let run_start = epoch + s as f64 * 1.5;
        for i in 0..total / SHARDS {
            // 256 workers a shard, each request ~1.4 s: a request starts every ~5.5 ms a shard.
            let start_ms = i as f64 * 5.469 + (i % 7) as f64 * 0.013;
            let ttft = 100.0 + (i % 97) as f64 * 0.731;
            let itl: Vec<String> =
                (0..64).map(|k| format!("{:.3}", 10.0 + ((i + k) % 13) as f64 * 0.117)).collect();
            let e2e = ttft + 64.0 * 10.7;
            let line = format!(
                "{{\"worker\":{},\"prompt_index\":{},\"key_index\":null,\"turn\":1,\"conversation_id\":null,\"start_ms\":{start_ms:.3},\"start_unix_ms\":{:.3},\"attempts\":1,\"request_id\":null,\"status\":200,\"outcome\":\"ok\",\"error\":null,\"ttfb_ms\":{:.3},\"ttfe_ms\":{:.3},\"ttft_ms\":{ttft:.3},\"ttfa_ms\":{ttft:.3},\"tpot_ms\":10.7,\"e2e_ms\":{e2e:.3},\"itl_ms\":[{}],\"output_tokens\":65,\"token_source\":\"usage\",\"counted_tokens\":64,\"input_tokens\":12,\"reasoning_tokens\":null,\"server_latency_ms\":null,\"server_ttft_ms\":null,\"events\":67,\"text_events\":65,\"warnings\":[],\"api\":\"openai-chat\",\"url\":\"http://127.0.0.1:8000/v1/chat/completions\",\"read_lag_max_ms\":0.041,\"run_id\":\"20251202T000000.000Z-4\",\"shard\":\"{s}/{SHARDS}\"}}\n",
                i % 256,
                i % 100,
                run_start + start_ms,
                ttft * 0.2,
                ttft * 0.3,
                itl.join(","),
            );
            bytes += line.len() as u64;
            w.write_all(line.as_bytes()).expect("write");
        }
        w.flush().expect("flush");
        files.push(path.to_str().expect("UTF-8 path").to_string());
    }
    println!(
        "generated {total} records ({:.0} MiB) in {:.1} s",
        bytes as f64 / (1 << 20) as f64,
        t.elapsed().as_secs_f64()
    );
    for (name, extra) in [("report", &[][..]), ("report --series", &["--series", "-"][..])] {
        let mut times: Vec<f64> = (0..ROUNDS)
            .map(|_| {
                let t = Instant::now();
                let out = Command::new(env!("CARGO_BIN_EXE_llmload"))
                    .arg("report")
                    .args(&files)
                    .args(extra)
                    .output()
                    .expect("run llmload report");
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                t.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{name} over {total} records in {SHARDS} files: {:.2} s (median of {ROUNDS})",
            times[ROUNDS / 2]
        );
    }
    match keep {
        Some(_) => println!("the files are kept in {}", dir.display()),
        None => drop(std::fs::remove_dir_all(&dir)),
    }
}
