//! Replay mode (`llmload mock --replay FILE`): every API request gets the file's bytes as a 200
//! `text/event-stream`, written in adversarial pieces so that a client's SSE framing, UTF-8
//! handling and protocol reading are tested on recorded shapes through a real socket.
//!
//! It owns the split and the writes; it does not time tokens, inject faults or record truth
//! (a replayed stream has no schedule to compare against).

use std::io::Write;
use std::str::FromStr;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::http::{self, Length, Next, SSE};

/// Between one-byte writes: long enough that most reads see one write.
const BYTE_PAUSE: Duration = Duration::from_micros(50);
/// Between the two halves of a cut response.
const CUT_PAUSE: Duration = Duration::from_millis(2);
/// A prime: consecutive responses cut far apart, and any len − 1 of them at every offset of a
/// body shorter than this.
const CUT_STRIDE: u64 = 7919;

/// How a replayed body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// One write.
    Whole,
    /// One byte per write.
    Bytes,
    /// Response n is cut in two writes at offset 1 + (n × 7919) mod (len − 1): consecutive
    /// responses cut all over the body, and len − 1 of them at every offset once.
    Offsets,
}

impl FromStr for Split {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "whole" => Ok(Split::Whole),
            "bytes" => Ok(Split::Bytes),
            "offsets" => Ok(Split::Offsets),
            _ => Err("use whole, bytes or offsets".into()),
        }
    }
}

/// A recorded body and how to split it.
#[derive(Debug, Clone)]
pub struct Replay {
    pub body: Arc<Vec<u8>>,
    pub split: Split,
}

impl Replay {
    /// The pieces of response `n`, in order.
    fn pieces(&self, n: u64) -> Vec<&[u8]> {
        let body = &self.body[..];
        match self.split {
            Split::Whole => vec![body],
            Split::Bytes => body.chunks(1).collect(),
            Split::Offsets if body.len() < 2 => vec![body],
            Split::Offsets => {
                let at = 1 + (n.wrapping_mul(CUT_STRIDE) % (body.len() as u64 - 1)) as usize;
                vec![&body[..at], &body[at..]]
            }
        }
    }

    /// Writes response `n`: the head, then each piece in its own write with a pause between.
    pub(super) fn serve(&self, w: &mut impl Write, n: u64, close: bool) -> Next {
        let headers = [("x-mock-request", n.to_string())];
        let head = http::head(200, SSE, Length::Fixed(self.body.len()), close, &headers);
        let pause = if self.split == Split::Bytes { BYTE_PAUSE } else { CUT_PAUSE };
        let written = w.write_all(&head).and_then(|_| {
            self.pieces(n).iter().enumerate().try_for_each(|(i, piece)| {
                if i > 0 {
                    thread::sleep(pause);
                }
                w.write_all(piece)
            })
        });
        match written {
            Ok(()) => Next::after(close),
            Err(_) => Next::Close,
        }
    }
}

impl Replay {
    /// A recorded body for `--replay` (read by the caller); the error says what is wrong with it.
    pub fn new(body: Vec<u8>, split: Split) -> Result<Replay, String> {
        if body.is_empty() {
            return Err("the file is empty: give a recorded SSE body (e.g. from curl -N)".into());
        }
        Ok(Replay { body: Arc::new(body), split })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(split: Split) -> Replay {
        Replay { body: Arc::new(b"data: 1\n\n".to_vec()), split }
    }

    #[test]
    fn pieces_always_join_to_the_body() {
        for split in [Split::Whole, Split::Bytes, Split::Offsets] {
            for n in 0..20 {
                let r = replay(split);
                assert_eq!(r.pieces(n).concat(), *r.body, "{split:?} {n}");
            }
        }
        assert_eq!(replay(Split::Bytes).pieces(0).len(), 9);
        let mut cuts: Vec<usize> = (0..8).map(|n| replay(Split::Offsets).pieces(n)[0].len()).collect();
        assert_eq!(cuts[..3], [1, 8, 7], "7919 ≡ 7 (mod 8)");
        cuts.sort();
        assert_eq!(cuts, [1, 2, 3, 4, 5, 6, 7, 8], "8 responses cut at all 8 offsets");
    }

    #[test]
    fn serves_a_fixed_length_event_stream() {
        let mut out = Vec::new();
        assert_eq!(replay(Split::Offsets).serve(&mut out, 3, false), Next::KeepAlive);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream"), "{text}");
        assert!(text.contains("content-length: 9\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\ndata: 1\n\n"), "{text}");
        assert_eq!("bytes".parse(), Ok(Split::Bytes));
        assert!("lines".parse::<Split>().is_err());
    }
}
