//! Reads the seed's one-item-a-line files (prompts, API keys) with a clear message for each way a
//! file can be wrong. It does not interpret the lines.

use crate::error::Error;
use std::path::Path;

/// Non-empty lines of a UTF-8 text file: CRLF and LF endings, a leading BOM dropped, blank lines
/// skipped. `what` names an item in messages ("prompt", "API key").
pub fn read_lines(flag: &'static str, path: &str, what: &str) -> Result<Vec<String>, Error> {
    let p = Path::new(path);
    let bytes = std::fs::read(p).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound => "file not found: check the path".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied: make it readable".into(),
            _ if p.is_dir() => "is a directory: name a file".into(),
            _ => e.to_string(),
        };
        Error::file(flag, p, hint)
    })?;
    parse_lines(&bytes, what).map_err(|problem| Error::file(flag, p, problem))
}

/// The checks of `read_lines` on bytes already read.
pub fn parse_lines(bytes: &[u8], what: &str) -> Result<Vec<String>, String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err("is UTF-16 text: save it as UTF-8".into());
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        return Err(format!("contains NUL bytes (a binary file?): give a text file, one {what} a line"));
    }
    let mut out = Vec::new();
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line)
            .map_err(|_| format!("line {} is not UTF-8 text: save the file as UTF-8", n + 1))?;
        if !text.trim().is_empty() {
            out.push(text.to_string());
        }
    }
    if out.is_empty() {
        return Err(format!("has no non-empty lines: put one {what} a line"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_lines;

    #[test]
    fn crlf_bom_and_blank_lines() {
        let got = parse_lines("\u{feff}你好\r\n\r\nhello world\n  \n".as_bytes(), "prompt").unwrap();
        assert_eq!(got, ["你好", "hello world"]);
    }

    #[test]
    fn each_bad_file_names_the_problem() {
        let err = |b: &[u8]| parse_lines(b, "prompt").unwrap_err();
        assert_eq!(err(b""), "has no non-empty lines: put one prompt a line");
        assert_eq!(err(b"\n \r\n"), "has no non-empty lines: put one prompt a line");
        assert_eq!(err(b"\xFF\xFEh\x00i\x00"), "is UTF-16 text: save it as UTF-8");
        assert_eq!(err(b"ok\n\xC3\x28\n"), "line 2 is not UTF-8 text: save the file as UTF-8");
        assert!(err(b"a\x00b").starts_with("contains NUL bytes"));
    }
}
