//! The token estimate's error against exact tokenizers, on English, Chinese and mixed text, and
//! the cost of each counter. `cargo bench --bench tokenizer`; set `LLMLOAD_TOKENIZER_JSON` to a
//! Hugging Face tokenizer.json (README: how to get DeepSeek's offline from PyPI) to add it.

use llmload::Tokenizer;
use std::time::Instant;

const ENGLISH: &str = "Load testing a language model server is different from load testing a web \
API. A request does not end when the first byte arrives: the server streams tokens for seconds, and \
users feel two numbers, the time to the first token and the pace of the tokens after it. Under \
concurrency the scheduler batches requests, so the first token waits behind other prompts while \
decoding slows as the batch grows. A good client measures both at once, without adding its own \
delay, and counts tokens the way the server does. When the server reports usage, that count is \
exact; when it does not, the client must estimate it from the text, which is where English words, \
punctuation, numbers like 3.14159 or 2048, and code such as `fn main() { println!(\"hi\"); }` all \
behave differently inside a byte-pair tokenizer.";

const CHINESE: &str = "大语言模型服务的压测与普通网页接口不同：请求不会在收到第一个字节时结束，\
服务器会在几秒钟内持续流式输出内容，用户最在意两个数字，一是首字延迟，二是之后每个字出现的节奏。\
在高并发下，调度器会把多个请求合并成批处理，首字要排在其他提示词之后等待，而批次越大，解码就越慢。\
一个好的压测工具要同时测量这两者，不能引入自己的延迟，还要像服务器那样统计词元数量。\
当服务器返回用量信息时，这个数字是准确的；否则只能根据文本估算，而中文、标点和数字在分词器里的表现各不相同。";

const MIXED: &str = "我们用 vLLM 部署了 Qwen2.5-7B-Instruct，在 2 张 A100 上开启 tensor parallel，\
然后用 llmload 以 64 并发压测 60 秒。结果显示 TTFT 的 p50 是 180ms，p99 是 1.2s；ITL 的 p50 约为 \
25ms。对比 Dify 的 chat-messages 接口，同样的模型多了大约 40ms 的网关开销。JSON 输出里的 \
output_tokens_per_s 字段可以直接接入 Grafana 面板，命令是 `llmload run --json out.json`。";

fn main() {
    let mut counters: Vec<(String, Tokenizer)> = ["estimate", "cl100k", "o200k"]
        .iter()
        .map(|n| (n.to_string(), Tokenizer::builtin(n).and_then(Result::ok).expect("built-in tokenizer")))
        .collect();
    if let Ok(path) = std::env::var("LLMLOAD_TOKENIZER_JSON") {
        let json = std::fs::read(&path).map_err(|e| e.to_string());
        match json.and_then(|j| Tokenizer::from_json(&path, &j)) {
            Ok(t) => counters.push(("tokenizer.json".into(), t)),
            Err(e) => eprintln!("LLMLOAD_TOKENIZER_JSON {path}: {e}"),
        }
    }
    let estimate = &counters[0].1;
    println!(
        "| text | chars | estimate | {} |",
        counters[1..].iter().map(|c| format!("{} (estimate error)", c.0)).collect::<Vec<_>>().join(" | ")
    );
    println!("|---|---|---|{}", "---|".repeat(counters.len() - 1));
    for (name, text) in [("English", ENGLISH), ("Chinese", CHINESE), ("mixed", MIXED)] {
        let est = estimate.count(text) as f64;
        let cells: Vec<String> = counters[1..]
            .iter()
            .map(|(_, t)| {
                let exact = t.count(text) as f64;
                format!("{exact} ({:+.1}%)", (est - exact) / exact * 100.0)
            })
            .collect();
        println!("| {name} | {} | {est} | {} |", text.chars().count(), cells.join(" | "));
    }
    let all = [ENGLISH, CHINESE, MIXED].concat().repeat(20);
    for (name, t) in &counters {
        let rounds = 5;
        let started = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(t.count(&all));
        }
        let us_per_kb = started.elapsed().as_secs_f64() * 1e6 / rounds as f64 / (all.len() as f64 / 1024.0);
        println!("{name:15} {us_per_kb:8.1} µs per KiB of text");
    }
}
