//! State for sheepdog: the `StateStore` trait every backend implements, the embedded in-memory
//! store (event-time sliding windows, distinct counts, idempotency, bounded memory), and the
//! durable journal (append-only log with group commit, snapshots, replay).
//!
//! Windows run on event time only: every call carries the event's timestamp; nothing here reads
//! the wall clock.

mod few;
mod journal;
mod memory;
#[doc(hidden)]
pub mod suite;
mod table;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use journal::{Journal, JournalError, JournalOptions, Recovery, ReplayRecord};
pub use memory::{MemoryStore, MemoryStoreOptions};

/// How a window is cut: `buckets` buckets of `bucket_ms` each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowSpec {
    pub bucket_ms: u64,
    pub buckets: u16,
}

/// What an observation does to its key's window, and what it reads back.
///
/// Several features may share one stored window (a set of members read as a count, a run, an
/// age): the first observation of an event records (`record: true`), the others only read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Count events.
    Count,
    /// Read a count without counting this event.
    Peek,
    /// A set of members (hashes of another key, or small numbers such as phone suffixes).
    Distinct { member: u64, read: DistinctRead, record: bool },
    /// A bounded sample of a numeric field (`value: None` reads without adding).
    Sample { value: Option<u32>, read: SampleRead, record: bool },
    /// When the key was first and previously seen (windows end after `window` of silence).
    Seen { read: SeenRead, record: bool },
}

impl Op {
    /// Plain distinct count of `member`, recorded.
    pub fn distinct(member: u64) -> Op {
        Op::Distinct { member, read: DistinctRead::Count, record: true }
    }

    fn records(self) -> bool {
        match self {
            Op::Count => true,
            Op::Peek => false,
            Op::Distinct { record, .. } | Op::Seen { record, .. } => record,
            Op::Sample { value, record, .. } => record && value.is_some(),
        }
    }
}

/// What a distinct window reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistinctRead {
    /// Members seen in the window.
    Count,
    /// Longest run of members (as numbers), sorted, with neighbours at most `gap` apart.
    SequentialRun { gap: u32 },
    /// Seconds since this observation's member was first seen (`ABSENT` if never).
    MemberAge,
    /// Seconds since any other member was last seen in the window (`ABSENT` if none).
    OthersIdle,
}

/// What a sample reads; `ABSENT` below `min` values in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleRead {
    Median {
        min: u8,
    },
    /// Median absolute deviation over the median, per mille.
    Spread {
        min: u8,
    },
}

/// What a seen-times window reads, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeenRead {
    /// Since the key was first seen (0 for a new key).
    Age,
    /// Since the key's previous event (`ABSENT` on its first).
    Idle,
}

/// The value of a read that has nothing to report (no sample, no other member…).
pub const ABSENT: u32 = u32::MAX;

/// One update-and-read of a windowed feature for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// Hash of (feature, key value): see `key_hash`.
    pub key: u64,
    pub window: WindowSpec,
    pub op: Op,
}

/// A decision as remembered for idempotency: its JSON, exactly as first answered (compact: one
/// allocation, and the bytes are what the caller writes anyway).
pub type StoredDecision = Arc<[u8]>;

/// Whether an idempotent call decided anew or returned the first decision of its id.
#[derive(Debug, Clone)]
pub enum Idempotent {
    Fresh(StoredDecision),
    Repeat(StoredDecision),
}

/// Counters a store reports for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Live window keys.
    pub keys: u64,
    /// Estimated bytes held by window keys.
    pub bytes: u64,
    /// Keys evicted to stay under the memory cap.
    pub evictions: u64,
    /// Observations older than the grace period, not counted.
    pub late_dropped: u64,
    /// Remembered event ids (idempotency).
    pub idempotency_keys: u64,
}

/// Why a store call failed; callers choose to retry or degrade by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    Unavailable,
    Timeout,
    Corrupt,
    Unsupported,
}

#[derive(Debug, thiserror::Error)]
#[error("state store {kind:?}: {message}")]
pub struct StoreError {
    pub kind: StoreErrorKind,
    pub message: String,
}

impl StoreError {
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        StoreError { kind, message: message.into() }
    }
}

/// The state every decision reads and writes. Implementations: `MemoryStore` (embedded, the
/// default); distributed backends plug in behind the same trait and the same test suite.
pub trait StateStore: Send + Sync {
    /// Applies each observation at event time `ts_ms` and writes, for each, the window value as
    /// of `ts_ms` including this event (`ABSENT` when a read has nothing to report). With
    /// `update == false` nothing is recorded (read only). Observations apply in order: a read
    /// sees what earlier observations of the same call recorded.
    fn observe(&self, ts_ms: i64, observations: &[Observation], update: bool, out: &mut [u32]);

    /// Runs `decide` once per event id: the first call stores its decision, later calls with
    /// the same id (within the retention) get that decision back without running `decide`.
    fn idempotent(&self, id: &str, ts_ms: i64, decide: &mut dyn FnMut() -> StoredDecision) -> Idempotent;

    /// Remembers a decision for an id without deciding (journal replay).
    fn remember(&self, id: &str, ts_ms: i64, decision: StoredDecision);

    fn stats(&self) -> StoreStats;

    fn health(&self) -> Result<(), StoreError>;

    /// Copies the whole state as of now, quickly (the caller holds events off meanwhile); the
    /// copy is encoded afterwards, while events flow again.
    fn capture(&self) -> Result<Box<dyn Capture>, StoreError>;

    /// Serialises the whole state (for snapshots). The caller guarantees no concurrent writes.
    fn export(&self) -> Result<Vec<u8>, StoreError> {
        self.capture()?.encode()
    }

    /// Replaces the whole state with an exported one.
    fn import(&self, bytes: &[u8]) -> Result<(), StoreError>;
}

/// A point-in-time copy of a store's state, to be encoded for a snapshot.
pub trait Capture: Send {
    fn encode(self: Box<Self>) -> Result<Vec<u8>, StoreError>;
}

/// Stable 64-bit hash of a feature id and a key value (stable across runs and versions: it is
/// written to snapshots).
pub fn key_hash(feature: u32, value: &[u8]) -> u64 {
    // One-shot: the same value as the streaming hasher, at a fraction of its set-up cost.
    xxhash_rust::xxh3::xxh3_64_with_seed(value, u64::from(feature) ^ 0x5348_4545_5044_4f47)
}

/// Stable 64-bit hash of a member value of a distinct count.
pub fn member_hash(value: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(value)
}
