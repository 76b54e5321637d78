//! The instrument of the end-to-end benches: `llmload mock` in a process of its own (so its CPU
//! is not the client's), at the highest priority the OS allows (so that sharing the cores with
//! the client makes it slip less), killed when dropped. Each bench reads its record.
//!
//! Real-time (`SCHED_FIFO`) first: a client with a thread per stream is woken once per token,
//! and at 1,000 streams those 100,000 wake-ups a second outnumber a mock at nice −10 for the
//! cores, which made it fall 120 ms behind its schedule; a real-time mock runs whenever it has
//! a token due. Then nice −10, then the default, each named in the bench's table.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

/// The instrument's real-time priority where the OS allows it (the kernel's throttling keeps 5 %
/// of each core for everything else).
const MOCK_RT_PRIORITY: libc::c_int = 10;
/// Its nice value where real-time is refused (negative: more CPU when contended).
const MOCK_NICE: libc::c_int = -10;

/// A mock server in its own process.
pub struct Mock {
    pub child: Child,
    pub url: String,
    /// The priority it runs at, and why not a higher one.
    pub priority: String,
}

/// How the mock's process is raised before it starts.
#[derive(Clone, Copy)]
enum Raise {
    RealTime,
    Nice,
    No,
}

impl Mock {
    /// `bin mock` with these times and answer length, on a free port it names.
    pub fn start(bin: &str, ttft: &str, itl: &str, tokens: u32) -> Mock {
        let tokens = tokens.to_string();
        let args = ["mock", "--port", "0", "--ttft", ttft, "--itl", itl, "--tokens", &tokens];
        let spawn = |raise: Raise| {
            let mut command = Command::new(bin);
            command.args(args).stdout(Stdio::piped());
            // SAFETY: sched_setscheduler and setpriority are async-signal-safe and change only
            // the child's own scheduling; set before exec, every thread the mock starts
            // inherits it.
            unsafe {
                command.pre_exec(move || {
                    let refused = match raise {
                        Raise::RealTime => {
                            let param = libc::sched_param { sched_priority: MOCK_RT_PRIORITY };
                            libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) != 0
                        }
                        Raise::Nice => libc::setpriority(libc::PRIO_PROCESS, 0, MOCK_NICE) != 0,
                        Raise::No => false,
                    };
                    if refused { Err(std::io::Error::last_os_error()) } else { Ok(()) }
                })
            };
            command.spawn()
        };
        let (mut child, priority) = match spawn(Raise::RealTime) {
            Ok(child) => (child, format!("real-time (FIFO {MOCK_RT_PRIORITY})")),
            Err(rt) => match spawn(Raise::Nice) {
                Ok(child) => (child, format!("nice {MOCK_NICE} (real-time refused: {rt})")),
                Err(nice) => (spawn(Raise::No).expect("start llmload mock"), format!("nice 0 ({nice})")),
            },
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
