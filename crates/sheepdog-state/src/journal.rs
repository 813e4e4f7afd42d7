//! The durable journal: an append-only log of answered events with group commit, plus
//! snapshots of the store that bound replay time.
//!
//! Layout of the data directory:
//! - `log-<first seq, 20 digits>.ndjson`: segments of records, one JSON object per line:
//!   `{"seq":N,"received_ms":T,"event":{…as sent…},"decision":{…}}`.
//! - `snapshot-<covered seq, 20 digits>.bin`: magic, covered seq, payload, CRC-32. A snapshot
//!   covering `N` holds the effect of records `0..N`; replay starts at `N`.
//!
//! Durability: `append` hands a line to the writer thread, which writes every pending line,
//! calls `fdatasync`, and only then publishes the new durable sequence number. Callers answer
//! after `wait_durable`. A crash can only tear the last line of the last segment, which was never
//! acknowledged; `open` truncates it.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex};

const SNAPSHOT_MAGIC: &[u8; 8] = b"SDSNAP01";

/// Journal options.
#[derive(Debug, Clone)]
pub struct JournalOptions {
    /// A new segment is started past this size.
    pub segment_bytes: u64,
    /// Snapshots kept on disk (at least 1).
    pub keep_snapshots: usize,
    /// Skip fsync (tests and benchmarks only: loses the crash guarantee).
    pub no_sync: bool,
    /// Segments kept as the decision log beyond what the snapshots need (the newest ones):
    /// every event with its decision, for `sheepdog backtest --log` and audits.
    pub keep_log_segments: usize,
    /// ...but none whose records are all older than this (ms of receive time before the newest
    /// record appended); `None`: no age limit.
    pub log_max_age_ms: Option<u64>,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions {
            segment_bytes: 64 << 20,
            keep_snapshots: 2,
            no_sync: false,
            keep_log_segments: 0,
            log_max_age_ms: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal i/o on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("journal corrupt in {path} at line {line}: {message}")]
    Corrupt { path: PathBuf, line: u64, message: String },
    #[error("journal writer failed earlier: {0}")]
    Failed(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io { path: path.to_path_buf(), source }
}

/// Receive time of a segment's first record, if it has a readable one.
fn first_received_ms(path: &Path) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Head {
        received_ms: i64,
    }
    let mut line = String::new();
    // A record line is at most an event (1 MiB) and its decision: bounded read.
    let file = fs::File::open(path).ok()?;
    std::io::BufRead::read_line(&mut std::io::BufReader::new(std::io::Read::take(file, 4 << 20)), &mut line).ok()?;
    serde_json::from_str::<Head>(line.trim_end()).ok().map(|h| h.received_ms)
}

/// One logged record read back for replay.
#[derive(Debug, serde::Deserialize)]
pub struct ReplayRecord {
    pub seq: u64,
    pub received_ms: i64,
    pub event: Box<serde_json::value::RawValue>,
    pub decision: Box<serde_json::value::RawValue>,
    /// The feature values the decision was made with (records written before they were logged
    /// have none).
    #[serde(default)]
    pub features: Option<Box<serde_json::value::RawValue>>,
}

/// What `open` found on disk.
pub struct Recovery {
    /// The newest valid snapshot: (covered seq, payload).
    pub snapshot: Option<(u64, Vec<u8>)>,
    /// First record to replay (the snapshot's covered seq, or 0).
    covered: u64,
    /// One past the last valid record found at open.
    end: u64,
    /// The segments that hold records `covered..end`, in order.
    segments: Vec<PathBuf>,
}

impl Recovery {
    /// Number of records to replay.
    pub fn len(&self) -> u64 {
        self.end - self.covered
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Streams the records after the snapshot, in order, one at a time (memory stays bounded
    /// by one record whatever the journal's length). They were validated by `open`.
    pub fn for_each(&self, f: &mut dyn FnMut(ReplayRecord) -> Result<(), String>) -> Result<u64, JournalError> {
        let mut n = 0;
        for path in &self.segments {
            let mut reader = BufReader::new(File::open(path).map_err(io(path))?);
            let mut line = Vec::new();
            let mut line_no = 0u64;
            loop {
                line.clear();
                if reader.read_until(b'\n', &mut line).map_err(io(path))? == 0 {
                    break;
                }
                line_no += 1;
                let r: ReplayRecord = serde_json::from_slice(&line).map_err(|e| JournalError::Corrupt {
                    path: path.clone(),
                    line: line_no,
                    message: e.to_string(),
                })?;
                if r.seq >= self.end {
                    return Ok(n);
                }
                if r.seq >= self.covered {
                    let seq = r.seq;
                    f(r).map_err(|message| JournalError::Corrupt {
                        path: path.clone(),
                        line: line_no,
                        message: format!("replaying record {seq}: {message}"),
                    })?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// All records after the snapshot, collected (for tests and tools; replay streams).
    pub fn records(&self) -> Result<Vec<ReplayRecord>, JournalError> {
        let mut v = Vec::new();
        self.for_each(&mut |r| {
            v.push(r);
            Ok(())
        })?;
        Ok(v)
    }
}

#[derive(Default)]
struct Durable {
    seq: u64,
    failed: Option<String>,
}

struct Shared {
    durable: Mutex<Durable>,
    cond: Condvar,
    watch: tokio::sync::watch::Sender<u64>,
}

enum Msg {
    Line(Vec<u8>),
    Flush(mpsc::Sender<()>),
}

struct Sender {
    next_seq: u64,
    /// Receive time of the newest record appended (the decision log's "now").
    last_received_ms: i64,
    tx: mpsc::Sender<Msg>,
}

/// The append-only log and snapshot files of one data directory.
pub struct Journal {
    dir: PathBuf,
    options: JournalOptions,
    sender: Mutex<Option<Sender>>,
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

fn segment_name(first_seq: u64) -> String {
    format!("log-{first_seq:020}.ndjson")
}

fn parse_numbered(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    name.strip_prefix(prefix)?.strip_suffix(suffix)?.parse().ok()
}

fn list(dir: &Path, prefix: &str, suffix: &str) -> Result<Vec<(u64, PathBuf)>, JournalError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        if let Some(n) = name.to_str().and_then(|s| parse_numbered(s, prefix, suffix)) {
            out.push((n, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir).and_then(|f| f.sync_all()).map_err(io(dir))
}

fn read_snapshot(path: &Path) -> Option<(u64, Vec<u8>)> {
    let mut bytes = Vec::new();
    File::open(path).ok()?.read_to_end(&mut bytes).ok()?;
    if bytes.len() < 8 + 8 + 4 || &bytes[..8] != SNAPSHOT_MAGIC {
        return None;
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(body).to_le_bytes() != crc {
        return None;
    }
    let covered = u64::from_le_bytes(body[8..16].try_into().ok()?);
    Some((covered, body[16..].to_vec()))
}

impl Journal {
    /// Opens (creating if needed) a data directory, repairs a torn tail, and returns the
    /// snapshot and records to replay. The journal then appends after the last record.
    pub fn open(dir: &Path, options: JournalOptions) -> Result<(Journal, Recovery), JournalError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let snapshots = list(dir, "snapshot-", ".bin")?;
        let snapshot = snapshots.iter().rev().find_map(|(_, p)| {
            let s = read_snapshot(p);
            if s.is_none() {
                tracing::warn!(path = %p.display(), "ignoring an unreadable snapshot");
            }
            s
        });
        let covered = snapshot.as_ref().map_or(0, |(c, _)| *c);

        let segments = list(dir, "log-", ".ndjson")?;
        let mut replay_segments = Vec::new();
        let mut next_seq = covered;
        let mut prev_end: Option<u64> = None;
        let n_segments = segments.len();
        for (i, (first, path)) in segments.iter().enumerate() {
            let is_last = i + 1 == n_segments;
            // Segments wholly before the snapshot are not needed.
            if let Some((next_first, _)) = segments.get(i + 1) {
                if *next_first <= covered {
                    continue;
                }
            }
            // Records must run on without a gap: from the snapshot (or 0) through every segment.
            let expected_first = prev_end.unwrap_or(covered);
            let gap = match prev_end {
                Some(end) => *first != end,
                None => *first > covered,
            };
            if gap {
                return Err(JournalError::Corrupt {
                    path: path.clone(),
                    line: 0,
                    message: format!(
                        "records {expected_first}..{first} are missing (a segment was removed, or the snapshot that covered them is unreadable)"
                    ),
                });
            }
            let file = File::open(path).map_err(io(path))?;
            let mut reader = BufReader::new(file);
            let mut offset: u64 = 0;
            let mut line_no: u64 = 0;
            let mut line = Vec::new();
            let mut expect = *first;
            loop {
                line.clear();
                let n = reader.read_until(b'\n', &mut line).map_err(io(path))?;
                if n == 0 {
                    break;
                }
                line_no += 1;
                let complete = line.last() == Some(&b'\n');
                let parsed = if complete { serde_json::from_slice::<ReplayRecord>(&line).ok() } else { None };
                match parsed {
                    Some(r) if r.seq == expect => {
                        expect += 1;
                        offset += n as u64;
                    }
                    _ => {
                        let at_tail = is_last && reader.fill_buf().map_err(io(path))?.is_empty();
                        if at_tail {
                            // Torn by a crash: never acknowledged, so dropped.
                            tracing::warn!(path = %path.display(), line = line_no, "truncating a torn last record");
                            let f = OpenOptions::new().write(true).open(path).map_err(io(path))?;
                            f.set_len(offset).map_err(io(path))?;
                            f.sync_all().map_err(io(path))?;
                            break;
                        }
                        return Err(JournalError::Corrupt {
                            path: path.clone(),
                            line: line_no,
                            message: format!("expected record {expect}"),
                        });
                    }
                }
            }
            next_seq = next_seq.max(expect);
            prev_end = Some(expect);
            replay_segments.push(path.clone());
        }

        // Append to the last segment, or start one.
        let (path, file) = match segments.last() {
            Some((_, p)) => {
                let mut f = OpenOptions::new().append(true).open(p).map_err(io(p))?;
                f.seek(SeekFrom::End(0)).map_err(io(p))?;
                (p.clone(), f)
            }
            None => {
                let p = dir.join(segment_name(next_seq));
                let f = OpenOptions::new().create(true).append(true).open(&p).map_err(io(&p))?;
                sync_dir(dir)?;
                (p, f)
            }
        };
        let size = file.metadata().map_err(io(&path))?.len();

        let (watch, _) = tokio::sync::watch::channel(next_seq);
        let shared = Arc::new(Shared {
            durable: Mutex::new(Durable { seq: next_seq, failed: None }),
            cond: Condvar::new(),
            watch,
        });
        let (tx, rx) = mpsc::channel();
        let writer = Writer {
            dir: dir.to_path_buf(),
            options: options.clone(),
            file,
            path,
            size,
            next_seq,
            shared: shared.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("sheepdog-journal".into())
            .spawn(move || writer.run(rx))
            .map_err(io(dir))?;
        let journal = Journal {
            dir: dir.to_path_buf(),
            options,
            sender: Mutex::new(Some(Sender { next_seq, last_received_ms: i64::MIN, tx })),
            shared,
            writer: Mutex::new(Some(handle)),
        };
        Ok((journal, Recovery { snapshot, covered, end: next_seq, segments: replay_segments }))
    }

    /// Queues one record; returns its sequence number. The record line is built here so that
    /// sequence numbers follow queue order.
    pub fn append(&self, received_ms: i64, event_json: &[u8], decision_json: &[u8]) -> Result<u64, JournalError> {
        self.append_with_features(received_ms, event_json, decision_json, None)
    }

    /// `append`, with the feature values the decision read (a JSON object) in the record.
    pub fn append_with_features(
        &self,
        received_ms: i64,
        event_json: &[u8],
        decision_json: &[u8],
        features_json: Option<&[u8]>,
    ) -> Result<u64, JournalError> {
        let mut guard = self.sender.lock();
        let Some(sender) = guard.as_mut() else {
            return Err(JournalError::Failed("journal is closed".into()));
        };
        let seq = sender.next_seq;
        let extra = features_json.map_or(0, <[u8]>::len);
        let mut line = Vec::with_capacity(event_json.len() + decision_json.len() + extra + 80);
        line.extend_from_slice(b"{\"seq\":");
        line.extend_from_slice(seq.to_string().as_bytes());
        line.extend_from_slice(b",\"received_ms\":");
        line.extend_from_slice(received_ms.to_string().as_bytes());
        line.extend_from_slice(b",\"event\":");
        // A newline inside JSON can only be whitespace between tokens: safe to flatten.
        line.extend(event_json.iter().map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }));
        line.extend_from_slice(b",\"decision\":");
        line.extend_from_slice(decision_json);
        if let Some(f) = features_json {
            line.extend_from_slice(b",\"features\":");
            line.extend_from_slice(f);
        }
        line.extend_from_slice(b"}\n");
        sender.tx.send(Msg::Line(line)).map_err(|_| JournalError::Failed("journal writer stopped".into()))?;
        sender.next_seq += 1;
        sender.last_received_ms = sender.last_received_ms.max(received_ms);
        Ok(seq)
    }

    /// Number of records queued so far (the next sequence number).
    pub fn queued(&self) -> u64 {
        self.sender.lock().as_ref().map_or(0, |s| s.next_seq)
    }

    /// Blocks until record `seq` is on disk.
    pub fn wait_durable(&self, seq: u64) -> Result<(), JournalError> {
        let mut g = self.shared.durable.lock();
        loop {
            if let Some(f) = &g.failed {
                return Err(JournalError::Failed(f.clone()));
            }
            if g.seq > seq {
                return Ok(());
            }
            self.shared.cond.wait(&mut g);
        }
    }

    /// Waits (async) until record `seq` is on disk.
    pub async fn wait_durable_async(&self, seq: u64) -> Result<(), JournalError> {
        let mut rx = self.shared.watch.subscribe();
        let ok = rx.wait_for(|durable| *durable > seq || *durable == u64::MAX).await.is_ok();
        let g = self.shared.durable.lock();
        if let Some(f) = &g.failed {
            return Err(JournalError::Failed(f.clone()));
        }
        if ok && g.seq > seq {
            Ok(())
        } else {
            Err(JournalError::Failed("journal writer stopped".into()))
        }
    }

    /// Writes every queued record to disk and waits for it.
    pub fn flush(&self) -> Result<(), JournalError> {
        let (tx, rx) = mpsc::channel();
        {
            let guard = self.sender.lock();
            let Some(sender) = guard.as_ref() else {
                return Ok(());
            };
            if sender.tx.send(Msg::Flush(tx)).is_err() {
                return Err(JournalError::Failed("journal writer stopped".into()));
            }
        }
        let _ = rx.recv();
        match &self.shared.durable.lock().failed {
            Some(f) => Err(JournalError::Failed(f.clone())),
            None => Ok(()),
        }
    }

    /// Writes a snapshot covering records `0..covered` atomically (temp file, fsync, rename),
    /// then removes older snapshots and the segments the kept snapshots no longer need.
    pub fn write_snapshot(&self, covered: u64, payload: &[u8]) -> Result<(), JournalError> {
        let final_path = self.dir.join(format!("snapshot-{covered:020}.bin"));
        let tmp = self.dir.join(format!("snapshot-{covered:020}.tmp"));
        let mut body = Vec::with_capacity(payload.len() + 20);
        body.extend_from_slice(SNAPSHOT_MAGIC);
        body.extend_from_slice(&covered.to_le_bytes());
        body.extend_from_slice(payload);
        let crc = crc32fast::hash(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        {
            let mut f = File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(&body).map_err(io(&tmp))?;
            if !self.options.no_sync {
                f.sync_all().map_err(io(&tmp))?;
            }
        }
        fs::rename(&tmp, &final_path).map_err(io(&final_path))?;
        if !self.options.no_sync {
            sync_dir(&self.dir)?;
        }
        // Retention: keep the newest snapshots; drop segments entirely before the oldest kept.
        let snapshots = list(&self.dir, "snapshot-", ".bin")?;
        let keep = self.options.keep_snapshots.max(1);
        let cut = snapshots.len().saturating_sub(keep);
        for (_, p) in &snapshots[..cut] {
            let _ = fs::remove_file(p);
        }
        let oldest_kept = snapshots[cut..].first().map_or(0, |(c, _)| *c);
        let segments = list(&self.dir, "log-", ".ndjson")?;
        // The decision log keeps the newest segments whatever the snapshots need, up to its
        // age limit: a segment is all older than the first record of the next one.
        let removable = segments.len().saturating_sub(self.options.keep_log_segments);
        let horizon = self.options.log_max_age_ms.and_then(|age| {
            let now = self.sender.lock().as_ref().map(|s| s.last_received_ms)?;
            (now != i64::MIN).then(|| now.saturating_sub(age.min(i64::MAX as u64) as i64))
        });
        for i in 0..segments.len().saturating_sub(1) {
            let (_, path) = &segments[i];
            let (next_first, next_path) = &segments[i + 1];
            let expired = || horizon.is_some_and(|h| first_received_ms(next_path).is_some_and(|t| t < h));
            if *next_first <= oldest_kept && (i < removable || expired()) {
                let _ = fs::remove_file(path);
            }
        }
        Ok(())
    }

    /// Flushes and stops the writer. Appends after this fail.
    pub fn close(&self) -> Result<(), JournalError> {
        let result = self.flush();
        self.sender.lock().take();
        if let Some(h) = self.writer.lock().take() {
            let _ = h.join();
        }
        result
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

struct Writer {
    dir: PathBuf,
    options: JournalOptions,
    file: File,
    path: PathBuf,
    size: u64,
    next_seq: u64,
    shared: Arc<Shared>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
        let mut flushes: Vec<mpsc::Sender<()>> = Vec::new();
        while let Ok(first) = rx.recv() {
            let mut n_lines = 0u64;
            let mut take = |m: Msg, buf: &mut Vec<u8>, flushes: &mut Vec<mpsc::Sender<()>>| match m {
                Msg::Line(l) => {
                    buf.extend_from_slice(&l);
                    n_lines += 1;
                }
                Msg::Flush(tx) => flushes.push(tx),
            };
            take(first, &mut buf, &mut flushes);
            // Group commit: everything queued meanwhile goes in the same write and fsync.
            while buf.len() < (8 << 20) {
                match rx.try_recv() {
                    Ok(m) => take(m, &mut buf, &mut flushes),
                    Err(_) => break,
                }
            }
            if n_lines > 0 {
                if let Err(e) = self.write(&buf, n_lines) {
                    let msg = e.to_string();
                    tracing::error!(error = %msg, "journal write failed; refusing further events");
                    let mut g = self.shared.durable.lock();
                    g.failed = Some(msg);
                    self.shared.cond.notify_all();
                    drop(g);
                    self.shared.watch.send_replace(u64::MAX);
                    for f in flushes.drain(..) {
                        let _ = f.send(());
                    }
                    // Drain and fail everything else.
                    while let Ok(m) = rx.recv() {
                        if let Msg::Flush(f) = m {
                            let _ = f.send(());
                        }
                    }
                    return;
                }
                buf.clear();
                {
                    let mut g = self.shared.durable.lock();
                    g.seq = self.next_seq;
                    self.shared.cond.notify_all();
                }
                self.shared.watch.send_replace(self.next_seq);
            }
            for f in flushes.drain(..) {
                let _ = f.send(());
            }
        }
    }

    fn write(&mut self, buf: &[u8], n_lines: u64) -> Result<(), JournalError> {
        self.file.write_all(buf).map_err(io(&self.path))?;
        if !self.options.no_sync {
            self.file.sync_data().map_err(io(&self.path))?;
        }
        self.size += buf.len() as u64;
        self.next_seq += n_lines;
        if self.size >= self.options.segment_bytes {
            let p = self.dir.join(segment_name(self.next_seq));
            let f = OpenOptions::new().create(true).append(true).open(&p).map_err(io(&p))?;
            if !self.options.no_sync {
                sync_dir(&self.dir)?;
            }
            self.file = f;
            self.path = p;
            self.size = 0;
        }
        Ok(())
    }
}
