//! Bounded line reading for the NDJSON commands (`score`, `text scan`): a line longer than the
//! limit is skipped to its end and reported, never buffered whole.

use std::io::{self, BufRead};

/// Longest accepted line: the HTTP body limit.
pub const MAX_LINE: usize = 1 << 20;

/// One line read.
#[derive(Debug, Clone, Copy)]
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
        // Room for the longest line that fits and its CRLF.
        if total <= max + 2 {
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
    // Whole in the buffer unless it is longer than any line that fits.
    let whole = total <= max + 2;
    if whole && buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    Ok(Some(LineRead { fits: whole && buf.len() <= max, bytes: total }))
}

/// The lines of an input. A regular file is mapped into memory and its lines are found there,
/// with no `read` system call and no copy through the kernel (at a million events, the kernel's
/// copy alone was 6 % of `score`'s time); each line is then copied into a buffer of ours, so
/// what is parsed cannot change under the parser. Anything else (stdin, pipes) goes through
/// `read_line`. Both give the same lines: endings stripped as `read_line` strips them, an
/// over-long line reported with `fits: false` and an empty slice.
pub enum Lines {
    Mapped { map: memmap2::Mmap, pos: usize, buf: Vec<u8> },
    Read { reader: Box<dyn BufRead>, buf: Vec<u8> },
}

impl Lines {
    /// Maps `file` when it is a non-empty regular file; reads it otherwise.
    pub fn of_file(file: std::fs::File) -> Lines {
        let regular = file.metadata().is_ok_and(|m| m.is_file() && m.len() > 0);
        if regular {
            // SAFETY: the map is read-only, and every line is copied out of it before it is
            // checked or parsed, so a change to the file while it is scored (another process
            // writing it in place) can only give lines with other bytes, which are checked like
            // any input. Truncating the file while it is scored makes reads past its new end
            // fault (SIGBUS) and ends the process, as with any memory-mapped reader: the input
            // file must not be truncated while `score` reads it (said in `score --help`).
            if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                let _ = map.advise(memmap2::Advice::Sequential);
                return Lines::Mapped { map, pos: 0, buf: Vec::with_capacity(4096) };
            }
        }
        Lines::reader(Box::new(file))
    }

    pub fn reader(r: Box<dyn io::Read>) -> Lines {
        Lines::Read { reader: Box::new(io::BufReader::with_capacity(1 << 16, r)), buf: Vec::with_capacity(4096) }
    }

    /// The next line of at most `max` bytes; `None` at the end of the input.
    pub fn next_line(&mut self, max: usize) -> io::Result<Option<(LineRead, &[u8])>> {
        match self {
            Lines::Read { reader, buf } => {
                Ok(read_line(reader.as_mut(), buf, max)?.map(|read| (read, if read.fits { &buf[..] } else { &[][..] })))
            }
            Lines::Mapped { map, pos, buf } => {
                let rest = &map[*pos..];
                if rest.is_empty() {
                    return Ok(None);
                }
                let (mut line, bytes) = match memchr::memchr(b'\n', rest) {
                    Some(i) => {
                        let line = &rest[..i];
                        (line.strip_suffix(b"\r").unwrap_or(line), i + 1)
                    }
                    None => (rest, rest.len()),
                };
                *pos += bytes;
                let fits = line.len() <= max;
                if !fits {
                    line = &[];
                }
                buf.clear();
                buf.extend_from_slice(line);
                Ok(Some((LineRead { fits, bytes }, &buf[..])))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn all(mut lines: Lines, max: usize) -> Vec<(bool, usize, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some((read, line)) = lines.next_line(max).expect("readable") {
            out.push((read.fits, read.bytes, line.to_vec()));
        }
        out
    }

    /// A mapped file and the same bytes read through a buffer give the same lines.
    #[test]
    fn mapped_and_read_lines_agree() {
        let cases: &[&[u8]] = &[
            b"a\nbb\r\nccc",
            b"a\n\n\r\n",
            b"no newline at all\r",
            b"\n",
            b"0123456789\n01234567890\n0123456789a\r\nshort\n",
            "微信\r\n😀\n".as_bytes(),
        ];
        for case in cases {
            let mut f = tempfile::NamedTempFile::new().expect("temp file");
            f.write_all(case).expect("write");
            let mapped = Lines::of_file(std::fs::File::open(f.path()).expect("open"));
            assert!(matches!(mapped, Lines::Mapped { .. }));
            let read = Lines::reader(Box::new(std::io::Cursor::new(case.to_vec())));
            let (m, r) = (all(mapped, 10), all(read, 10));
            assert_eq!(m, r, "{:?}", String::from_utf8_lossy(case));
            assert!(!m.is_empty());
        }
        // The limit is on the line without its ending, LF or CRLF, last line or not.
        for (case, fits) in [
            (&b"0123456789\n"[..], true),
            (b"0123456789\r\n", true),
            (b"0123456789", true),
            (b"0123456789a\n", false),
            (b"0123456789a\r\n", false),
            (b"0123456789a", false),
        ] {
            let read = all(Lines::reader(Box::new(std::io::Cursor::new(case.to_vec()))), 10);
            assert_eq!(read[0].0, fits, "{:?}", String::from_utf8_lossy(case));
        }
        // An empty file is read, not mapped, and has no lines.
        let f = tempfile::NamedTempFile::new().expect("temp file");
        let empty = Lines::of_file(std::fs::File::open(f.path()).expect("open"));
        assert!(matches!(empty, Lines::Read { .. }));
        assert!(all(empty, 10).is_empty());
    }
}
