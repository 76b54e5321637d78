//! The files a run writes, opened before the first request so that a bad path fails in the first
//! millisecond, not after a ten-minute run; `-` means standard output. Opening does not yet
//! truncate: a file is emptied when its writing begins (`begin`, or the first write), and one
//! this process created and never began is removed when it is dropped, so a run that ends before
//! measuring anything (a failed check, a refused or interrupted preflight) leaves no empty file
//! behind and an existing file as it was.

use crate::error::Error;
use crate::slo::Slo;
use std::fs::{File, OpenOptions};
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
    File { file: File, state: State },
    Stdout,
}

/// Where a file's writing stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Opened and not written: `made` when this process created it (then it is removed if it is
    /// dropped so), else a file that existed, still as it was.
    Pending { made: bool },
    /// Emptied (an existing file) and being written.
    Begun,
}

impl OutputFile {
    /// Opens `path` for `flag` (creating it, but leaving an existing file as it is until the
    /// writing begins), or takes stdout for `-`; the error names both and what to check.
    pub fn create(flag: &'static str, path: &str) -> Result<OutputFile, Error> {
        let failed = |e: io::Error| {
            Error::file(
                flag,
                path,
                format!("cannot create it ({e}): check the folder exists and is writable"),
            )
        };
        let sink = if path == "-" {
            Sink::Stdout
        } else {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(file) => Sink::File { file, state: State::Pending { made: true } },
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let file = OpenOptions::new().write(true).open(path).map_err(failed)?;
                    Sink::File { file, state: State::Pending { made: false } }
                }
                Err(e) => return Err(failed(e)),
            }
        };
        Ok(OutputFile { flag, path: path.into(), sink })
    }

    /// Begins the writing: an existing regular file is emptied (a device or a pipe is written as
    /// it is). Once begun, the file stays when dropped, even with nothing written.
    pub fn begin(&mut self) -> io::Result<()> {
        if let Sink::File { file, state } = &mut self.sink
            && let State::Pending { made } = *state
        {
            if !made && file.metadata()?.is_file() {
                file.set_len(0)?;
            }
            *state = State::Begun;
        }
        Ok(())
    }

    /// Another handle on the same output, writing where this one does (one file for every level
    /// of a sweep); the writing begins now, so no handle empties what another wrote.
    pub fn try_clone(&mut self) -> Result<OutputFile, Error> {
        let (flag, path) = (self.flag, self.path.clone());
        let again =
            move |e: io::Error| Error::file(flag, path.clone(), format!("cannot write it again ({e})"));
        self.begin().map_err(&again)?;
        let sink = match &self.sink {
            Sink::File { file, .. } => {
                Sink::File { file: file.try_clone().map_err(&again)?, state: State::Begun }
            }
            Sink::Stdout => Sink::Stdout,
        };
        Ok(OutputFile { flag: self.flag, path: self.path.clone(), sink })
    }

    /// Whether this output is stdout, so the text summary must go to stderr instead.
    pub fn is_stdout(&self) -> bool {
        matches!(self.sink, Sink::Stdout)
    }
}

impl Drop for OutputFile {
    /// Removes a file this process created and never began: nothing was measured into it.
    fn drop(&mut self) {
        if let Sink::File { state: State::Pending { made: true }, .. } = self.sink {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.begin()?;
        match &mut self.sink {
            Sink::File { file, .. } => file.write(buf),
            Sink::Stdout => io::stdout().lock().write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.begin()?;
        match &mut self.sink {
            Sink::File { file, .. } => file.write_all(buf),
            // One lock per call, so a records line is never split by other output.
            Sink::Stdout => io::stdout().lock().write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::File { file, .. } => file.flush(),
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
    /// The CSV goes on from an earlier run's rows (`--repeat`): no header row again.
    pub continued: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_emptied_when_its_writing_begins_and_one_never_begun_is_left_as_it_was() {
        let dir = std::env::temp_dir().join(format!("llmload-output-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (new, old) = (dir.join("new.json"), dir.join("old.json"));
        let path = |p: &PathBuf| p.to_str().unwrap().to_string();
        std::fs::write(&old, "earlier run").unwrap();
        // Opened and dropped unbegun: the new one is gone, the old one untouched.
        drop((
            OutputFile::create("--json", &path(&new)).unwrap(),
            OutputFile::create("--json", &path(&old)).unwrap(),
        ));
        assert!(!new.exists());
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "earlier run");
        // Begun with nothing written: both stay, empty.
        for p in [&new, &old] {
            OutputFile::create("--json", &path(p)).unwrap().begin().unwrap();
            assert_eq!(std::fs::read_to_string(p).unwrap(), "", "{p:?}");
        }
        // A write begins it; a clone begins it once, and both handles add to it.
        std::fs::write(&old, "earlier run, longer than what follows").unwrap();
        let mut out = OutputFile::create("--records", &path(&old)).unwrap();
        let mut again = out.try_clone().unwrap();
        again.write_all(b"one\n").unwrap();
        out.write_all(b"two\n").unwrap();
        drop((out, again));
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "one\ntwo\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
