//! Reads the seed's one-item-a-line files (prompts, API keys) with a clear message for each way a
//! file can be wrong. It does not interpret the lines.

use crate::error::Error;
use crate::util::files::{self, cap, too_big};
use std::io::{BufRead, BufReader, Read};

/// One prompt or key longer than this is a wrong file, not a prompt; the reader never buffers more.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Non-empty lines of a UTF-8 text file: CRLF and LF endings, a leading BOM dropped, blank lines
/// skipped. `what` names an item in messages ("prompt", "API key"). The file is streamed with
/// bounded line and total sizes, so a huge or endless input fails fast instead of filling memory.
pub fn read_lines(flag: &'static str, path: &str, what: &str) -> Result<Vec<String>, Error> {
    Ok(read_numbered_lines(flag, path, what)?.into_iter().map(|(_, line)| line).collect())
}

/// `read_lines`, each line with its 1-based line number in the file (blank lines counted), for
/// messages about one line.
pub fn read_numbered_lines(
    flag: &'static str,
    path: &str,
    what: &str,
) -> Result<Vec<(usize, String)>, Error> {
    let file = files::open(flag, path, cap::LINES)?;
    parse_lines(BufReader::new(file), what).map_err(|p| Error::file(flag, path, p))
}

/// The checks of `read_lines` on a reader, which is read at most to `cap::LINES` + 1: the
/// non-empty lines with their line numbers.
pub fn parse_lines(mut r: impl BufRead, what: &str) -> Result<Vec<(usize, String)>, String> {
    let head = r.fill_buf().map_err(|e| e.to_string())?;
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err("is UTF-16 text: save it as UTF-8".into());
    }
    if head.starts_with(b"\xEF\xBB\xBF") {
        r.consume(3);
    }
    let (mut out, mut line, mut total) = (Vec::new(), Vec::new(), 0u64);
    for n in 1.. {
        line.clear();
        let read = r.by_ref().take(MAX_LINE_BYTES as u64 + 2).read_until(b'\n', &mut line);
        let read = read.map_err(|e| format!("cannot be read ({e})"))?;
        if read == 0 {
            break;
        }
        total += read as u64;
        if total > cap::LINES {
            return Err(too_big(cap::LINES));
        }
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if body.len() > MAX_LINE_BYTES {
            return Err(format!(
                "line {n} is longer than {} MiB: put one {what} a line",
                MAX_LINE_BYTES >> 20
            ));
        }
        if body.contains(&0) {
            return Err(format!("contains NUL bytes (a binary file?): give a text file, one {what} a line"));
        }
        let text = std::str::from_utf8(body)
            .map_err(|_| format!("line {n} is not UTF-8 text: save the file as UTF-8"))?;
        if !text.trim().is_empty() {
            out.push((n, text.to_string()));
        }
    }
    if out.is_empty() {
        return Err(format!("has no non-empty lines: put one {what} a line"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_bom_and_blank_lines() {
        let got = parse_lines("\u{feff}你好\r\n\r\nhello world\n  \n".as_bytes(), "prompt").unwrap();
        assert_eq!(got, [(1, "你好".to_string()), (3, "hello world".to_string())]);
    }

    #[test]
    fn each_bad_file_names_the_problem() {
        let err = |b: &[u8]| parse_lines(b, "prompt").unwrap_err();
        assert_eq!(err(b""), "has no non-empty lines: put one prompt a line");
        assert_eq!(err(b"\n \r\n"), "has no non-empty lines: put one prompt a line");
        assert_eq!(err(b"\xFF\xFEh\x00i\x00"), "is UTF-16 text: save it as UTF-8");
        assert_eq!(err(b"ok\n\xC3\x28\n"), "line 2 is not UTF-8 text: save the file as UTF-8");
        assert!(err(b"a\x00b").starts_with("contains NUL bytes"));
        let long = vec![b'x'; MAX_LINE_BYTES + 1];
        assert_eq!(
            parse_lines(&long[..], "prompt").unwrap_err(),
            "line 1 is longer than 1 MiB: put one prompt a line"
        );
        let mut just_fits = vec![b'x'; MAX_LINE_BYTES];
        just_fits.extend_from_slice(b"\r\nnext");
        assert_eq!(parse_lines(&just_fits[..], "prompt").unwrap().len(), 2);
    }

    #[test]
    fn a_huge_file_is_refused_without_reading_it() {
        let dir = std::env::temp_dir().join(format!("llmload-lines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sparse.txt");
        // A sparse 1 GiB file: no disk blocks, and read_lines must not read it.
        std::fs::File::create(&path).unwrap().set_len(1 << 30).unwrap();
        let err = read_lines("--param-file", path.to_str().unwrap(), "prompt").unwrap_err().to_string();
        assert!(err.ends_with("is larger than 256 MiB: is it the right file?"), "{err}");
        let err = read_lines("--param-file", dir.to_str().unwrap(), "prompt").unwrap_err().to_string();
        assert!(err.ends_with("is a directory: name a file"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
