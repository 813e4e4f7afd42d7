//! `sheepdog score`: NDJSON events in, one NDJSON decision per line out, in order.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sheepdog_engine::Engine;
use sheepdog_model::{parse_event, ErrorCode, EventError};

use crate::lines::{Lines, MAX_LINE};

/// Lines decided between two journal waits (group commit) and output flushes.
const CHUNK: usize = 4096;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

enum Answer {
    Decision(std::sync::Arc<[u8]>),
    Error(EventError, u64),
}

pub fn run(engine: &Engine, input: Option<&Path>, explain: bool) -> anyhow::Result<ExitCode> {
    let (mut lines, size) = match input {
        Some(p) if p != Path::new("-") => {
            let f = File::open(p).with_context(|| format!("reading {}", p.display()))?;
            let size = f.metadata().ok().map(|m| m.len());
            (Lines::of_file(f), size)
        }
        _ => (Lines::reader(Box::new(io::stdin())), None),
    };
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
    let mut answers: Vec<Answer> = Vec::with_capacity(CHUNK);
    let mut line_no: u64 = 0;
    let mut read_error = None;
    loop {
        answers.clear();
        let mut last_seq = None;
        let mut bytes_read = 0u64;
        let mut eof = false;
        // Receive time for events without a timestamp: one clock read per chunk.
        let now = now_ms();
        while answers.len() < CHUNK {
            let (line, buf) = match lines.next_line(MAX_LINE) {
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
            let answer = if !line.fits {
                Answer::Error(
                    EventError::new(
                        ErrorCode::TooLarge,
                        None,
                        format!("line is {} bytes; the limit is {MAX_LINE}", line.bytes),
                    ),
                    line_no,
                )
            } else {
                bytes_read += line.bytes as u64;
                if buf.trim_ascii().is_empty() {
                    Answer::Error(EventError::new(ErrorCode::InvalidJson, None, "empty line"), line_no)
                } else {
                    match parse_event(buf) {
                        Err(e) => Answer::Error(e, line_no),
                        Ok(event) => {
                            let o = engine.decide(&event, buf, now, explain)?;
                            last_seq = last_seq.max(o.durable_seq);
                            Answer::Decision(o.json)
                        }
                    }
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
