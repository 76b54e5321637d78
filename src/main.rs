//! Thin entry point: arguments in, exit code out. All logic is in the library (`commands`).

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::ExitCode::from(llmload::main(&args))
}
