//! A connection's read and write buffers, as ureq's `LazyBuffers` keeps them (allocated on first
//! use; the input buffer consumed from the front and reset when emptied; the request body read
//! through the input buffer's free space), but with their whole pages given back to the kernel
//! once allocated. `LazyBuffers` fills both with zeros when a connection opens, which touches
//! every page: 24 KiB a connection, a third of a stream's memory at 10,000 streams, of which a
//! stream writes little (a request head and body, a response head, then one small event at a
//! time at the buffer's start). One `madvise` a buffer, when its connection opens.

use ureq::unversioned::transport::Buffers;

/// The least scratch space a request body is read through, as ureq's buffers give it.
const MIN_TMP: usize = 10 * 1024;

/// The buffers of one connection.
#[derive(Debug)]
pub(in crate::client) struct ConnBuffers {
    input_size: usize,
    output_size: usize,
    input: Vec<u8>,
    /// `input[consumed..filled]` is read and not yet consumed.
    filled: usize,
    consumed: usize,
    output: Vec<u8>,
    /// Whether the last consume took anything (ureq's `can_use_input`).
    progress: bool,
}

impl ConnBuffers {
    /// Buffers of these sizes, allocated when first used.
    pub(in crate::client) fn new(input_size: usize, output_size: usize) -> Self {
        let (input, output) = (Vec::new(), Vec::new());
        ConnBuffers { input_size, output_size, input, filled: 0, consumed: 0, output, progress: false }
    }

    /// Allocates both now rather than at first use (and gives their pages back).
    pub(in crate::client) fn allocate(&mut self) {
        self.ensure_allocation();
    }

    fn ensure_allocation(&mut self) {
        if self.output.is_empty() {
            self.output = vec![0; self.output_size.max(1)];
            crate::util::sys::pages::release_zeroed(&mut self.output);
        }
        if self.input.is_empty() {
            self.input = vec![0; self.input_size.max(1)];
            crate::util::sys::pages::release_zeroed(&mut self.input);
        }
    }

    /// Moves what is unconsumed to the front once it is all consumed, or once it fills more
    /// than half the buffer (ureq's rule), so that reads keep landing at the buffer's start.
    fn shift(&mut self) {
        if self.consumed == 0 {
            return;
        }
        if self.consumed == self.filled {
            (self.consumed, self.filled) = (0, 0);
        } else if self.filled > self.input.len() / 2 {
            self.input.copy_within(self.consumed..self.filled, 0);
            self.filled -= self.consumed;
            self.consumed = 0;
        }
    }
}

impl Buffers for ConnBuffers {
    fn output(&mut self) -> &mut [u8] {
        self.ensure_allocation();
        &mut self.output
    }

    fn input(&self) -> &[u8] {
        &self.input[self.consumed..self.filled]
    }

    fn input_append_buf(&mut self) -> &mut [u8] {
        self.ensure_allocation();
        self.shift();
        &mut self.input[self.filled..]
    }

    fn input_appended(&mut self, amount: usize) {
        self.filled = (self.filled + amount).min(self.input.len());
    }

    fn input_consume(&mut self, amount: usize) {
        self.progress = amount > 0;
        self.consumed = (self.consumed + amount).min(self.filled);
    }

    fn tmp_and_output(&mut self) -> (&mut [u8], &mut [u8]) {
        self.ensure_allocation();
        self.shift();
        let free = self.input.len() - self.filled;
        if free < MIN_TMP {
            // Only when a server sent much before the body went out (ureq's case too).
            self.input.resize(self.filled + MIN_TMP, 0);
        }
        (&mut self.input[self.filled..], &mut self.output)
    }

    fn can_use_input(&self) -> bool {
        self.filled > self.consumed && self.progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append(b: &mut ConnBuffers, bytes: &[u8]) {
        b.input_append_buf()[..bytes.len()].copy_from_slice(bytes);
        b.input_appended(bytes.len());
    }

    #[test]
    fn reads_append_consumes_take_from_the_front_and_an_emptied_buffer_starts_over() {
        let mut b = ConnBuffers::new(16, 8);
        assert_eq!(b.input(), b"");
        assert_eq!(b.output().len(), 8);
        assert_eq!(b.input_append_buf().len(), 16);
        append(&mut b, b"data: a\n\n");
        assert_eq!(b.input(), b"data: a\n\n");
        assert!(!b.can_use_input(), "nothing consumed yet: ureq must read");
        b.input_consume(6);
        assert!(b.can_use_input());
        assert_eq!(b.input(), b"a\n\n");
        b.input_consume(3);
        assert_eq!(b.input(), b"");
        assert_eq!(b.input_append_buf().len(), 16, "all consumed: the next read lands at the start");
    }

    #[test]
    fn unconsumed_bytes_move_to_the_front_past_half_the_buffer() {
        let mut b = ConnBuffers::new(16, 8);
        append(&mut b, b"0123456789");
        b.input_consume(8);
        assert_eq!(b.input_append_buf().len(), 14, "moved: 2 unconsumed bytes at the front");
        assert_eq!(b.input(), b"89");
        append(&mut b, b"ab");
        assert_eq!(b.input(), b"89ab");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_connections_buffers_take_no_memory_until_written() {
        use crate::util::sys::pages::resident;
        // Memory the allocator had handed out and taken back, which calloc zero-fills by writing.
        drop(std::hint::black_box(vec![1u8; 64 * 1024]));
        drop(std::hint::black_box(vec![1u8; 32 * 1024]));
        let mut b = ConnBuffers::new(64 * 1024, 32 * 1024);
        append(&mut b, b"HTTP/1.1 200 OK\r\n");
        let span = |v: &Vec<u8>| (v.as_ptr() as usize, v.as_ptr() as usize + v.len());
        let ((i0, i1), (o0, o1)) = (span(&b.input), span(&b.output));
        assert!(resident(i0, i1) <= 2, "the head's page and the partial page at the end");
        assert!(resident(o0, o1) <= 2);
        assert_eq!(b.input(), b"HTTP/1.1 200 OK\r\n");
        assert!(b.output().iter().all(|&x| x == 0));
    }

    #[test]
    fn the_body_scratch_space_is_the_inputs_free_part_and_at_least_ureqs_minimum() {
        let mut b = ConnBuffers::new(32 * 1024, 8);
        let (tmp, out) = b.tmp_and_output();
        assert_eq!((tmp.len(), out.len()), (32 * 1024, 8));
        let mut b = ConnBuffers::new(4 * 1024, 8);
        append(&mut b, b"early");
        let (tmp, _) = b.tmp_and_output();
        assert_eq!(tmp.len(), MIN_TMP);
        assert_eq!(b.input(), b"early", "what was read stays");
    }
}
