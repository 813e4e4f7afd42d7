//! `sheepdog score`: NDJSON events in, one NDJSON decision per line out, in order.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sheepdog_engine::Engine;
use sheepdog_model::{parse_event, ErrorCode, EventError};

/// Longest accepted line: the HTTP body limit.
pub const MAX_LINE: usize = 1 << 20;
/// Lines decided between two journal waits (group commit) and output flushes.
const CHUNK: usize = 4096;

enum Line {
    Ok(Vec<u8>),
    TooLong(usize),
}

/// Reads one line of at most `max` bytes; longer lines are skipped to their end and reported.
fn read_line(r: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<Line>> {
    buf.clear();
    let mut total = 0usize;
    let mut any = false;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match memchr(chunk) {
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
    if total > max + 1 {
        return Ok(Some(Line::TooLong(total)));
    }
    Ok(Some(Line::Ok(std::mem::take(buf))))
}

fn memchr(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

enum Answer {
    Decision(std::sync::Arc<[u8]>),
    Error(EventError, u64),
}

pub fn run(engine: &Engine, input: Option<&Path>, explain: bool) -> anyhow::Result<ExitCode> {
    let (reader, size): (Box<dyn Read>, Option<u64>) = match input {
        Some(p) if p != Path::new("-") => {
            let f = File::open(p).with_context(|| format!("reading {}", p.display()))?;
            let size = f.metadata().ok().map(|m| m.len());
            (Box::new(f), size)
        }
        _ => (Box::new(io::stdin()), None),
    };
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let progress = if io::stderr().is_terminal() {
        let bar = match size {
            Some(n) => indicatif::ProgressBar::new(n).with_style(
                indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {per_sec} eta {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            ),
            None => indicatif::ProgressBar::new_spinner(),
        };
        Some(bar)
    } else {
        None
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut buf = Vec::with_capacity(4096);
    let mut answers: Vec<Answer> = Vec::with_capacity(CHUNK);
    let mut line_no: u64 = 0;
    let mut read_error = None;
    loop {
        answers.clear();
        let mut last_seq = None;
        let mut bytes_read = 0u64;
        let mut eof = false;
        while answers.len() < CHUNK {
            let line = match read_line(&mut reader, &mut buf, MAX_LINE) {
                Ok(Some(l)) => l,
                Ok(None) => {
                    eof = true;
                    break;
                }
                Err(e) => {
                    read_error = Some(e);
                    eof = true;
                    break;
                }
            };
            line_no += 1;
            let answer = match line {
                Line::TooLong(n) => Answer::Error(
                    EventError::new(ErrorCode::TooLarge, None, format!("line is {n} bytes; the limit is {MAX_LINE}")),
                    line_no,
                ),
                Line::Ok(bytes) => {
                    bytes_read += bytes.len() as u64 + 1;
                    let answer = if bytes.trim_ascii().is_empty() {
                        Answer::Error(EventError::new(ErrorCode::InvalidJson, None, "empty line"), line_no)
                    } else {
                        match parse_event(&bytes) {
                            Err(e) => Answer::Error(e, line_no),
                            Ok(event) => {
                                let o = engine.decide(&event, &bytes, now_ms(), explain)?;
                                last_seq = last_seq.max(o.durable_seq);
                                Answer::Decision(o.json)
                            }
                        }
                    };
                    buf = bytes;
                    answer
                }
            };
            answers.push(answer);
        }
        // Nothing is printed before it is durable.
        engine.wait_durable(last_seq)?;
        for a in &answers {
            let r = match a {
                Answer::Decision(d) => {
                    out.write_all(d)?;
                    Ok(())
                }
                Answer::Error(e, line) => {
                    let mut v = serde_json::to_value(e)?;
                    v["line"] = (*line).into();
                    serde_json::to_writer(&mut out, &v)
                }
            };
            r?;
            out.write_all(b"\n")?;
        }
        if let Some(p) = &progress {
            p.inc(bytes_read);
        }
        engine.maybe_snapshot()?;
        if eof {
            break;
        }
    }
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        r => r?,
    }
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    engine.shutdown()?;
    if let Some(e) = read_error {
        eprintln!("sheepdog: error: reading input: {e}");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
