//! The instrument of the end-to-end benches: `llmload mock` in a process of its own (so its CPU
//! is not the client's), at a higher priority where the OS allows it (so that sharing the cores
//! with the client makes it slip less), killed when dropped. Each bench reads its record.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

/// The instrument's nice value where the OS allows it (negative: more CPU when contended).
pub const MOCK_NICE: libc::c_int = -10;

/// A mock server in its own process.
pub struct Mock {
    pub child: Child,
    pub url: String,
    /// Whether it runs at `MOCK_NICE`, or why not.
    pub priority: Result<(), String>,
}

impl Mock {
    /// `bin mock` with these times and answer length, on a free port it names.
    pub fn start(bin: &str, ttft: &str, itl: &str, tokens: u32) -> Mock {
        let tokens = tokens.to_string();
        let args = ["mock", "--port", "0", "--ttft", ttft, "--itl", itl, "--tokens", &tokens];
        let spawn = |raise: bool| {
            let mut command = Command::new(bin);
            command.args(args).stdout(Stdio::piped());
            if raise {
                // SAFETY: setpriority is async-signal-safe and sets only the child's own
                // priority; set before exec, every thread the mock starts inherits it.
                unsafe {
                    command.pre_exec(|| match libc::setpriority(libc::PRIO_PROCESS, 0, MOCK_NICE) {
                        0 => Ok(()),
                        _ => Err(std::io::Error::last_os_error()),
                    })
                };
            }
            command.spawn()
        };
        let (mut child, priority) = match spawn(true) {
            Ok(child) => (child, Ok(())),
            Err(e) => (spawn(false).expect("start llmload mock"), Err(e.to_string())),
        };
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("mock stdout"))
            .read_line(&mut first)
            .expect("mock prints its URL");
        let url = first.trim().rsplit(' ').next().expect("URL").to_string();
        Mock { child, url, priority }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
