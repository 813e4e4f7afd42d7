//! State for sheepdog: the `StateStore` trait every backend implements, the embedded in-memory
//! store (event-time sliding windows, distinct counts, idempotency, bounded memory), and the
//! durable journal (append-only log with group commit, snapshots, replay).
//!
//! Windows run on event time only: every call carries the event's timestamp; nothing here reads
//! the wall clock.

mod journal;
mod memory;
#[doc(hidden)]
pub mod suite;
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

/// What an observation does to its key's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Count events.
    Count,
    /// Count distinct members (hashes of another key).
    Distinct { member: u64 },
}

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
    /// of `ts_ms` including this event. With `update == false` nothing is recorded (read only).
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
    let mut h = xxhash_rust::xxh3::Xxh3::with_seed(u64::from(feature) ^ 0x5348_4545_5044_4f47);
    h.update(value);
    h.digest()
}

/// Stable 64-bit hash of a member value of a distinct count.
pub fn member_hash(value: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(value)
}
