//! The files a run writes, opened before the first request so that a bad path fails in the first
//! millisecond, not after a ten-minute run.

use crate::error::Error;
use std::fs::File;
use std::path::PathBuf;

/// An output file opened before the run, with the flag that named it (for messages).
#[derive(Debug)]
pub struct OutputFile {
    pub flag: &'static str,
    pub path: PathBuf,
    pub file: File,
}

impl OutputFile {
    /// Creates (or truncates) `path` for `flag`; the error names both and what to check.
    pub fn create(flag: &'static str, path: &str) -> Result<OutputFile, Error> {
        let file = File::create(path).map_err(|e| {
            Error::file(
                flag,
                path,
                format!("cannot create it ({e}): check the folder exists and is writable"),
            )
        })?;
        Ok(OutputFile { flag, path: path.into(), file })
    }
}
