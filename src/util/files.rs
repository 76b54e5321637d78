//! The one way llmload opens a file a flag names: not found, permission, directories and devices
//! (`/dev/zero`) each get a clear message naming the flag and the fix, and no file is read past
//! its size cap, so a wrong path fails at once instead of reading forever. Pipes are allowed
//! (`--api-key-file <(vault …)`), bounded by the same cap. It does not interpret contents.

use crate::error::Error;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// Caps for the files flags name: larger inputs are the wrong file, not a bigger test.
pub mod cap {
    /// Prompt and key files: every line is kept in memory.
    pub const LINES: u64 = 256 << 20;
    /// `--ca-cert` bundles and `--body-template` templates.
    pub const SMALL: u64 = 4 << 20;
    /// A Hugging Face `tokenizer.json` (the largest common ones are tens of MiB).
    pub const TOKENIZER: u64 = 256 << 20;
    /// A recorded response body for `--replay`.
    pub const REPLAY: u64 = 256 << 20;
    /// A `--dataset` file: ShareGPT dumps are about 600 MiB, read whole and parsed in place.
    pub const DATASET: u64 = 2 << 30;
    /// A `--records` file read back by `llmload report`: a long soak writes hundreds of MiB.
    pub const RECORDS: u64 = 64 << 30;
}

/// Opens `path` for `flag`, refusing what cannot be the file meant. The returned reader stops at
/// `max` + 1 bytes, so a caller that reads more than `max` knows the input was too big.
pub fn open(flag: &'static str, path: &str, max: u64) -> Result<std::io::Take<File>, Error> {
    let p = Path::new(path);
    let file = File::open(p).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound => "file not found: check the path".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied: make it readable".into(),
            _ => format!("cannot be opened ({e})"),
        };
        Error::file(flag, p, hint)
    })?;
    let kind = file.metadata().map_err(|e| Error::file(flag, p, format!("cannot be read ({e})")))?;
    let t = kind.file_type();
    if t.is_dir() {
        return Err(Error::file(flag, p, "is a directory: name a file"));
    }
    if t.is_char_device() || t.is_block_device() || t.is_socket() {
        return Err(Error::file(flag, p, "is a device, not a file: name a regular file"));
    }
    if t.is_file() && kind.len() > max {
        return Err(Error::file(flag, p, too_big(max)));
    }
    Ok(file.take(max + 1))
}

/// The whole file, at most `max` bytes.
pub fn read(flag: &'static str, path: &str, max: u64) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    open(flag, path, max)?
        .read_to_end(&mut bytes)
        .map_err(|e| Error::file(flag, path, format!("cannot be read ({e})")))?;
    if bytes.len() as u64 > max {
        return Err(Error::file(flag, path, too_big(max)));
    }
    Ok(bytes)
}

/// The whole file as UTF-8 text, at most `max` bytes.
pub fn read_text(flag: &'static str, path: &str, max: u64) -> Result<String, Error> {
    String::from_utf8(read(flag, path, max)?)
        .map_err(|_| Error::file(flag, path, "is not UTF-8 text: save it as UTF-8"))
}

/// The message for a file over its cap.
pub fn too_big(max: u64) -> String {
    format!("is larger than {} MiB: is it the right file?", max >> 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(path: &str) -> String {
        read("--flag", path, 16).unwrap_err().to_string()
    }

    #[test]
    fn each_wrong_path_names_the_flag_and_the_fix() {
        assert_eq!(err("/nonexistent/x"), "--flag /nonexistent/x: file not found: check the path");
        assert_eq!(err("/tmp"), "--flag /tmp: is a directory: name a file");
        assert_eq!(err("/dev/zero"), "--flag /dev/zero: is a device, not a file: name a regular file");
        let dir = std::env::temp_dir().join(format!("llmload-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big");
        std::fs::write(&big, [b'x'; 17]).unwrap();
        let small = dir.join("small");
        std::fs::write(&small, "héllo").unwrap();
        assert!(err(big.to_str().unwrap()).ends_with("is larger than 0 MiB: is it the right file?"));
        assert_eq!(read_text("--flag", small.to_str().unwrap(), 16).unwrap(), "héllo");
        std::fs::write(&small, [0xff, 0xfe, 0x00]).unwrap();
        assert!(
            read_text("--flag", small.to_str().unwrap(), 16)
                .unwrap_err()
                .to_string()
                .ends_with("is not UTF-8 text: save it as UTF-8")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_pipe_is_read_up_to_the_cap() {
        let mut fds = [0; 2];
        // SAFETY: pipe fills the two-int array we pass.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let data = [b'y'; 40];
        // SAFETY: writing our own buffer to our own pipe, then closing the write end.
        unsafe {
            libc::write(fds[1], data.as_ptr().cast(), data.len());
            libc::close(fds[1]);
        }
        let path = format!("/proc/self/fd/{}", fds[0]);
        assert!(err(&path).ends_with("is larger than 0 MiB: is it the right file?"));
        // SAFETY: closing the read end we opened.
        unsafe { libc::close(fds[0]) };
    }
}
