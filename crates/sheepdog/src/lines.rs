//! Bounded line reading for the NDJSON commands (`score`, `text scan`): a line longer than the
//! limit is skipped to its end and reported, never buffered whole.

use std::io::{self, BufRead};

/// Longest accepted line: the HTTP body limit.
pub const MAX_LINE: usize = 1 << 20;

/// One line read.
pub struct LineRead {
    /// The line fitted the limit and is in the buffer (without its line ending).
    pub fits: bool,
    /// Bytes consumed, line ending included.
    pub bytes: usize,
}

/// Reads one line of at most `max` bytes into `buf`; `None` at end of input.
pub fn read_line(r: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<LineRead>> {
    buf.clear();
    let mut total = 0usize;
    let mut any = false;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        total += take;
        if total <= max + 1 {
            buf.extend_from_slice(&chunk[..take]);
        }
        r.consume(take);
        if done {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    Ok(Some(LineRead { fits: total <= max + 1, bytes: total }))
}
