//! The files a run writes, opened before the first request so that a bad path fails in the first
//! millisecond, not after a ten-minute run; `-` means standard output.

use crate::error::Error;
use crate::slo::Slo;
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;

/// An output opened before the run, with the flag that named it (for messages).
#[derive(Debug)]
pub struct OutputFile {
    pub flag: &'static str,
    pub path: PathBuf,
    sink: Sink,
}

#[derive(Debug)]
enum Sink {
    File(File),
    Stdout,
}

impl OutputFile {
    /// Creates (or truncates) `path` for `flag`, or takes stdout for `-`; the error names both
    /// and what to check.
    pub fn create(flag: &'static str, path: &str) -> Result<OutputFile, Error> {
        let sink = if path == "-" {
            Sink::Stdout
        } else {
            Sink::File(File::create(path).map_err(|e| {
                Error::file(
                    flag,
                    path,
                    format!("cannot create it ({e}): check the folder exists and is writable"),
                )
            })?)
        };
        Ok(OutputFile { flag, path: path.into(), sink })
    }

    /// Another handle on the same output, writing where this one does (one file for every level
    /// of a sweep).
    pub fn try_clone(&self) -> Result<OutputFile, Error> {
        let sink = match &self.sink {
            Sink::File(f) => Sink::File(f.try_clone().map_err(|e| {
                Error::file(self.flag, self.path.clone(), format!("cannot write it again ({e})"))
            })?),
            Sink::Stdout => Sink::Stdout,
        };
        Ok(OutputFile { flag: self.flag, path: self.path.clone(), sink })
    }

    /// Whether this output is stdout, so the text summary must go to stderr instead.
    pub fn is_stdout(&self) -> bool {
        matches!(self.sink, Sink::Stdout)
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::File(f) => f.write(buf),
            Sink::Stdout => io::stdout().lock().write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::File(f) => f.write_all(buf),
            // One lock per call, so a records line is never split by other output.
            Sink::Stdout => io::stdout().lock().write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::File(f) => f.flush(),
            Sink::Stdout => io::stdout().lock().flush(),
        }
    }
}

/// What the reporter does with each finished request as it ends: the files it writes it to,
/// `--records` (JSON lines) and `--csv`, and the objectives it judges it against (`--slo`).
#[derive(Debug, Default)]
pub struct RecordFiles {
    pub jsonl: Option<OutputFile>,
    pub csv: Option<OutputFile>,
    pub slo: Option<Slo>,
}
