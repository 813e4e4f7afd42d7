//! The embedded store: sharded in-memory event-time windows with a memory cap.
//!
//! A key's window is a ring of `buckets + grace` buckets. In-order events advance the ring;
//! out-of-order events inside the grace period land in their own bucket; older ones are dropped
//! and counted. A read as of time `t` sums the `buckets` buckets ending at `t`'s bucket, so the
//! window covers between `window - bucket` and `window` of history (resolution = one bucket).
//!
//! Distinct counts are exact up to `distinct_cap` members per key and window; at the cap the
//! value is the cap (a lower bound). Members remember their first and last bucket: a member is
//! counted as of `t` when it was first seen at or before `t` and last seen inside the window.
//!
//! Memory: every key's bytes are estimated and summed per shard; over the shard's share of the
//! cap, the coldest of a random sample of keys (by last event time) is evicted, as Redis does.
//!
//! Layout, for the hot path: one open-addressing table per shard holds the entries inline, one
//! 64-byte cache line each: rings of up to 16 buckets (16-bit counts, saturating at 65,535 per
//! bucket), one distinct member, one sample or the seen-times live inside the entry; more
//! members, samples or buckets on the heap. `observe` prefetches the slots of all its windows
//! before it updates the first (see `table`), so an event's cache misses overlap.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::few::Few;

use crate::table::{self, Table};
use crate::{
    DistinctRead, Idempotent, Observation, Op, SampleRead, SeenRead, StateStore, StoreError, StoreErrorKind,
    StoreStats, StoredDecision, WindowSpec, ABSENT,
};

const SHARDS: usize = 64;
const EVICTION_SAMPLE: usize = 8;
/// Values a sample keeps per key (the newest win).
const SAMPLE_CAP: usize = 32;
/// Bytes per key besides spilled rings: the key and the value slot at the table's 3/4 load.
const KEY_OVERHEAD: usize = (8 + std::mem::size_of::<table::Slot<Entry>>()) * 4 / 3;
/// Longest ring a key may hold, whatever the window and grace.
const MAX_RING: u64 = 4096;

/// Options of the embedded store.
#[derive(Debug, Clone)]
pub struct MemoryStoreOptions {
    /// Cap on the estimated bytes of window state; coldest keys are evicted above it.
    pub max_bytes: usize,
    /// Out-of-order events up to this much older than a key's newest are still counted.
    pub grace_ms: u64,
    /// Distinct counts are exact up to this many members.
    pub distinct_cap: usize,
    /// Event ids are remembered for idempotency this long (event time)...
    pub idempotency_window_ms: u64,
    /// ...and at most this many ids (oldest forgotten first).
    pub idempotency_max_ids: usize,
}

impl Default for MemoryStoreOptions {
    fn default() -> Self {
        MemoryStoreOptions {
            max_bytes: 512 << 20,
            grace_ms: 5 * 60_000,
            distinct_cap: 64,
            idempotency_window_ms: 24 * 3_600_000,
            idempotency_max_ids: 250_000,
        }
    }
}

/// Keys are already xxh3 hashes: the table uses them as they are.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdTable<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Member {
    hash: u64,
    first: i64,
    last: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Sample {
    value: u32,
    /// Bucket index.
    at: i64,
}

/// First, newest and previous event times of a key, in ms (`prev == i64::MIN`: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Seen {
    first: i64,
    last: i64,
    prev: i64,
}

/// Rings up to this long keep 16-bit buckets inline; a bucket about to pass 65,535 moves its
/// ring to 32-bit buckets on the heap.
const SMALL_RING: usize = 16;

/// A key's window. Every variant fits in 32 bytes so that an entry is one cache line: short
/// rings inline with 16-bit buckets, one member or sample inline, more on the heap.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Window {
    CountSmall([u16; SMALL_RING]),
    Count(Box<[u32]>),
    Distinct(Few<Member>),
    Sample(Few<Sample>),
    Seen(Seen),
}

impl Window {
    fn count(ring: usize) -> Window {
        if ring <= SMALL_RING {
            Window::CountSmall([0; SMALL_RING])
        } else {
            Window::Count(vec![0; ring].into_boxed_slice())
        }
    }

    /// Prefetches the first lines of what the window keeps on the heap.
    fn prefetch_heap(&self) {
        let p = match self {
            Window::Distinct(Few::Many(m)) => m.as_ptr() as *const u8,
            Window::Sample(Few::Many(v)) => v.as_ptr() as *const u8,
            Window::Count(c) => c.as_ptr() as *const u8,
            _ => return,
        };
        table::prefetch_line(p);
        table::prefetch_line(p.wrapping_add(64));
    }

    fn fits(&self, op: Op) -> bool {
        matches!(
            (self, op),
            (Window::Count(_) | Window::CountSmall(_), Op::Count | Op::Peek)
                | (Window::Distinct(_), Op::Distinct { .. })
                | (Window::Sample(_), Op::Sample { .. })
                | (Window::Seen(_), Op::Seen { .. })
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// Newest event time seen (for eviction).
    last_touch: i64,
    /// Bucket index of the newest bucket.
    head: i64,
    /// Ring length (buckets + grace buckets).
    ring: u32,
    window: Window,
}

impl Entry {
    fn new(ts_ms: i64, b: i64, ring: u32, op: Op) -> Entry {
        Entry {
            last_touch: ts_ms,
            head: b,
            ring,
            window: match op {
                Op::Count | Op::Peek => Window::count(ring as usize),
                Op::Distinct { .. } => Window::Distinct(Few::new()),
                Op::Sample { .. } => Window::Sample(Few::new()),
                Op::Seen { .. } => Window::Seen(Seen { first: ts_ms, last: i64::MIN, prev: i64::MIN }),
            },
        }
    }

    fn bytes(&self) -> usize {
        KEY_OVERHEAD
            + match &self.window {
                Window::Count(c) => c.len() * 4,
                Window::Distinct(m) => m.heap_bytes(),
                Window::Sample(v) => v.heap_bytes(),
                Window::CountSmall(_) | Window::Seen(_) => 0,
            }
    }
}

#[derive(Default)]
struct Shard {
    entries: Table<Entry>,
    bytes: usize,
    rng: u64,
}

/// A shard and where its table lives, published for prefetching without the lock (a stale
/// address after a resize only wastes a prefetch).
struct ShardCell {
    shard: Mutex<Shard>,
    keys: AtomicPtr<u64>,
    values: AtomicPtr<table::Slot<Entry>>,
    mask: AtomicUsize,
}

impl ShardCell {
    fn new(shard: Shard) -> Self {
        let cell = ShardCell {
            shard: Mutex::new(Shard::default()),
            keys: AtomicPtr::new(std::ptr::null_mut()),
            values: AtomicPtr::new(std::ptr::null_mut()),
            mask: AtomicUsize::new(0),
        };
        cell.publish(&shard);
        *cell.shard.lock() = shard;
        cell
    }

    /// Records where the shard's table lives (call with the lock held, after any insert).
    fn publish(&self, shard: &Shard) {
        let home = shard.entries.home();
        if !std::ptr::eq(self.keys.load(Ordering::Relaxed), home.keys) {
            self.mask.store(home.mask, Ordering::Relaxed);
            self.values.store(home.values as *mut _, Ordering::Relaxed);
            self.keys.store(home.keys as *mut _, Ordering::Relaxed);
        }
    }

    fn prefetch(&self, key: u64) {
        let home = table::Home {
            keys: self.keys.load(Ordering::Relaxed),
            values: self.values.load(Ordering::Relaxed),
            mask: self.mask.load(Ordering::Relaxed),
        };
        if !home.keys.is_null() {
            table::prefetch(home, key);
        }
    }
}

#[derive(Default)]
struct IdShard {
    ids: IdTable<(i64, StoredDecision)>,
    /// Insertion order, roughly event order: forgotten from the front.
    order: std::collections::VecDeque<u64>,
}

/// The embedded default store.
pub struct MemoryStore {
    options: MemoryStoreOptions,
    shards: Vec<ShardCell>,
    ids: Vec<Mutex<IdShard>>,
    evictions: AtomicU64,
    late_dropped: AtomicU64,
}

impl MemoryStore {
    pub fn new(options: MemoryStoreOptions) -> Self {
        MemoryStore {
            shards: (0..SHARDS)
                .map(|i| ShardCell::new(Shard { rng: 0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1), ..Shard::default() }))
                .collect(),
            ids: (0..SHARDS).map(|_| Mutex::new(IdShard::default())).collect(),
            options,
            evictions: AtomicU64::new(0),
            late_dropped: AtomicU64::new(0),
        }
    }

    fn shard_budget(&self) -> usize {
        (self.options.max_bytes / SHARDS).max(KEY_OVERHEAD * 4)
    }

    fn ring_len(&self, w: WindowSpec) -> u32 {
        let grace = self.options.grace_ms.div_ceil(w.bucket_ms.max(1));
        (u64::from(w.buckets.max(1)) + grace).min(MAX_RING) as u32
    }
}

/// Estimated bytes of one key whose ring or member list is inline.
#[cfg(test)]
pub(crate) fn key_overhead() -> usize {
    KEY_OVERHEAD
}

/// The key an observation is stored under: the table keeps 0 for empty slots and stores a
/// key of 0 as another value; the store does the same before choosing the shard, so that the
/// key read back from the table (snapshots) lands in the same shard.
fn key_of(obs: &Observation) -> u64 {
    table::stored(obs.key)
}

/// Shard of a key hash. Middle bits: the tables inside a shard use the low bits (bucket) and
/// the top 7 bits (control byte) of the same hash, which must stay random within a shard.
fn shard_of(hash: u64) -> usize {
    ((hash >> 32) as usize) % SHARDS
}

fn bucket_of(ts_ms: i64, bucket_ms: u64) -> i64 {
    ts_ms.div_euclid(bucket_ms.max(1) as i64)
}

fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

impl Shard {
    fn insert(&mut self, key: u64, e: Entry) {
        self.bytes += e.bytes();
        if let Some(old) = self.entries.insert(key, e) {
            self.bytes = self.bytes.saturating_sub(old.bytes());
        }
    }

    fn remove_slot(&mut self, i: usize) -> Option<Entry> {
        let e = self.entries.remove_at(i)?;
        self.bytes = self.bytes.saturating_sub(e.bytes());
        Some(e)
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    fn evict_until(&mut self, budget: usize, keep: u64) -> u64 {
        let mut evicted = 0;
        while self.bytes > budget && self.entries.len() > 1 {
            let mut victim: Option<(usize, i64)> = None;
            let consider = |i: usize, victim: &mut Option<(usize, i64)>| match self.entries.at(i) {
                Some((k, e)) if k != keep && victim.is_none_or(|(_, t)| e.last_touch < t) => {
                    *victim = Some((i, e.last_touch))
                }
                _ => {}
            };
            let rng = &mut self.rng;
            for _ in 0..EVICTION_SAMPLE.min(self.entries.len()) {
                if let Some(i) = self.entries.random_slot(|| xorshift(rng)) {
                    consider(i, &mut victim);
                }
            }
            if victim.is_none() {
                // Every draw missed or hit the key being written: take the first other key.
                if let Some(i) = self.entries.occupied().find(|&i| self.entries.at(i).is_some_and(|(k, _)| k != keep)) {
                    consider(i, &mut victim);
                }
            }
            let Some((i, _)) = victim else { break };
            if self.remove_slot(i).is_some() {
                evicted += 1;
            }
        }
        evicted
    }
}

/// Advances `e` to bucket `b` (clearing skipped buckets) or reports that `b` is too old.
/// Returns false when `b` fell out of the ring.
fn advance(e: &mut Entry, b: i64) -> bool {
    let ring = i64::from(e.ring);
    if b > e.head {
        let steps = (b - e.head).min(ring) as usize;
        let start = (e.head + 1).rem_euclid(ring) as usize;
        match &mut e.window {
            Window::Count(c) => clear_buckets(c, start, steps),
            Window::CountSmall(c) => clear_buckets(&mut c[..ring as usize], start, steps),
            _ => {}
        }
        e.head = b;
        let oldest = e.head - ring + 1;
        match &mut e.window {
            Window::Distinct(m) => m.retain(|x| x.last >= oldest),
            Window::Sample(v) => v.retain(|x| x.at >= oldest),
            _ => {}
        }
        true
    } else {
        b > e.head - ring
    }
}

fn clear_buckets<T: Copy + Default>(c: &mut [T], start: usize, steps: usize) {
    let len = c.len();
    let mut i = start;
    for _ in 0..steps {
        c[i] = T::default();
        i += 1;
        if i == len {
            i = 0;
        }
    }
}

/// `c` is the ring (exactly `ring` buckets).
fn read_count<T: Copy + Into<u32>>(c: &[T], head: i64, ring: i64, b: i64, buckets: i64) -> u32 {
    let lo = (b - buckets + 1).max(head - ring + 1);
    let hi = b.min(head);
    if hi < lo {
        return 0;
    }
    // One division for the start, then walk the ring (a division per bucket costs more than
    // the whole sum).
    let n = (hi - lo + 1) as usize;
    let start = lo.rem_euclid(ring) as usize;
    let first = n.min(c.len() - start);
    let sum = c[start..start + first].iter().fold(0u32, |a, &x| a.saturating_add(x.into()));
    c[..n - first].iter().fold(sum, |a, &x| a.saturating_add(x.into()))
}

fn read_distinct(m: &[Member], b: i64, buckets: i64) -> u32 {
    let lo = b - buckets + 1;
    m.iter().filter(|x| x.first <= b && x.last >= lo).count() as u32
}

/// Bucket distance in whole seconds.
fn bucket_secs(buckets: i64, bucket_ms: u64) -> u32 {
    (buckets.max(0) as u64).saturating_mul(bucket_ms).div_ceil(1000).min(u64::from(ABSENT - 1)) as u32
}

fn read_members(m: &[Member], read: DistinctRead, member: u64, b: i64, buckets: i64, bucket_ms: u64) -> u32 {
    let lo = b - buckets + 1;
    let live = |x: &&Member| x.first <= b && x.last >= lo;
    match read {
        DistinctRead::Count => read_distinct(m, b, buckets),
        DistinctRead::SequentialRun { gap } => {
            let mut v: SmallVec<[u64; 64]> = m.iter().filter(live).map(|x| x.hash).collect();
            v.sort_unstable();
            let (mut best, mut run) = (0u32, 0u32);
            for (i, x) in v.iter().enumerate() {
                run = if i > 0 && x - v[i - 1] <= u64::from(gap) { run + 1 } else { 1 };
                best = best.max(run);
            }
            best
        }
        DistinctRead::MemberAge => match m.iter().find(|x| x.hash == member) {
            Some(x) if x.first <= b => bucket_secs(b - x.first, bucket_ms),
            _ => ABSENT,
        },
        DistinctRead::OthersIdle => {
            match m.iter().filter(live).filter(|x| x.hash != member).map(|x| x.last.min(b)).max() {
                Some(last) => bucket_secs(b - last, bucket_ms),
                None => ABSENT,
            }
        }
    }
}

fn read_sample(v: &[Sample], read: SampleRead, b: i64, buckets: i64) -> u32 {
    let lo = b - buckets + 1;
    let mut vals: SmallVec<[u32; SAMPLE_CAP]> = v.iter().filter(|x| x.at >= lo && x.at <= b).map(|x| x.value).collect();
    let min = match read {
        SampleRead::Median { min } | SampleRead::Spread { min } => usize::from(min.max(1)),
    };
    if vals.len() < min {
        return ABSENT;
    }
    let median = |vals: &mut [u32]| {
        vals.sort_unstable();
        let n = vals.len();
        if n % 2 == 1 {
            vals[n / 2]
        } else {
            ((u64::from(vals[n / 2 - 1]) + u64::from(vals[n / 2])) / 2) as u32
        }
    };
    let med = median(&mut vals);
    match read {
        SampleRead::Median { .. } => med.min(ABSENT - 1),
        SampleRead::Spread { .. } => {
            if med == 0 {
                return ABSENT;
            }
            for x in vals.iter_mut() {
                *x = x.abs_diff(med);
            }
            let mad = median(&mut vals);
            (u64::from(mad) * 1000 / u64::from(med)).min(u64::from(ABSENT - 1)) as u32
        }
    }
}

fn read_seen(s: &Seen, read: SeenRead, ts_ms: i64, recorded: bool) -> u32 {
    let secs = |ms: i64| (ms.max(0) / 1000).min(i64::from(ABSENT - 1)) as u32;
    match read {
        SeenRead::Age => secs(ts_ms - s.first),
        // After recording, `prev` is the event before this one; when only reading, `last` is.
        SeenRead::Idle if recorded => {
            if s.prev == i64::MIN {
                ABSENT
            } else {
                secs(ts_ms - s.prev)
            }
        }
        SeenRead::Idle if s.last == i64::MIN => ABSENT,
        SeenRead::Idle => secs(ts_ms - s.last),
    }
}

/// Reads a window as of bucket `b` (event time `ts_ms`).
fn read_window(e: &Entry, op: Op, ts_ms: i64, b: i64, w: WindowSpec, recorded: bool) -> u32 {
    let buckets = i64::from(w.buckets.max(1));
    match (&e.window, op) {
        (Window::Count(c), _) => read_count(c, e.head, i64::from(e.ring), b, buckets),
        (Window::CountSmall(c), _) => read_count(&c[..e.ring as usize], e.head, i64::from(e.ring), b, buckets),
        (Window::Distinct(m), Op::Distinct { member, read, .. }) => {
            read_members(m, read, member, b, buckets, w.bucket_ms)
        }
        (Window::Distinct(m), _) => read_distinct(m, b, buckets),
        (Window::Sample(v), Op::Sample { read, .. }) => read_sample(v, read, b, buckets),
        (Window::Seen(s), Op::Seen { read, .. }) => read_seen(s, read, ts_ms, recorded),
        _ => ABSENT,
    }
}

/// What an observation reads when its key holds nothing.
fn read_empty(op: Op) -> u32 {
    match op {
        Op::Count | Op::Peek | Op::Distinct { read: DistinctRead::Count | DistinctRead::SequentialRun { .. }, .. } => 0,
        _ => ABSENT,
    }
}

impl StateStore for MemoryStore {
    fn observe(&self, ts_ms: i64, observations: &[Observation], update: bool, out: &mut [u32]) {
        let budget = self.shard_budget();
        // Nearly every window of an event is cold: fetch them all before touching the first,
        // so the cache misses overlap.
        for obs in observations {
            let key = key_of(obs);
            self.shards[shard_of(key)].prefetch(key);
        }
        // Then, once those lines have arrived (the first look waits for them all at once): what
        // present windows keep on the heap (member lists, samples, long rings), and for new keys
        // the slot they will take, which is past their home when home is taken.
        for obs in observations {
            let key = key_of(obs);
            let g = self.shards[shard_of(key)].shard.lock();
            match g.entries.probe(key) {
                Ok(i) => {
                    if let Some((_, e)) = g.entries.at(i) {
                        e.window.prefetch_heap();
                    }
                }
                Err(i) => g.entries.prefetch_slot(i),
            }
        }
        for (obs, slot) in observations.iter().zip(out.iter_mut()) {
            let b = bucket_of(ts_ms, obs.window.bucket_ms);
            let key = key_of(obs);
            let cell = &self.shards[shard_of(key)];
            let mut shard = cell.shard.lock();
            let shard = &mut *shard;
            if !update || !obs.op.records() {
                *slot = match shard.entries.get(key) {
                    // In an updating call, a non-recording reader follows the observation that
                    // recorded this event.
                    Some(e) if e.window.fits(obs.op) => read_window(e, obs.op, ts_ms, b, obs.window, update),
                    _ => read_empty(obs.op),
                };
                continue;
            }
            let ring = self.ring_len(obs.window);
            // One probe of the table whether the key exists or not.
            let (entry, inserted) = shard.entries.get_or_insert_with(key, || Entry::new(ts_ms, b, ring, obs.op));
            if inserted {
                shard.bytes += entry.bytes();
            }
            let before = entry.bytes();
            // A key reused with another window shape (policy change) starts afresh.
            if entry.ring != ring || !entry.window.fits(obs.op) {
                *entry = Entry::new(ts_ms, b, ring, obs.op);
            }
            entry.last_touch = entry.last_touch.max(ts_ms);
            let in_ring = advance(entry, b);
            if !in_ring {
                self.late_dropped.fetch_add(1, Ordering::Relaxed);
            } else {
                self.record(entry, obs, ts_ms, b);
            }
            *slot = read_window(entry, obs.op, ts_ms, b, obs.window, true);
            let after = entry.bytes();
            shard.bytes = (shard.bytes + after).saturating_sub(before);
            if inserted {
                // Only an insert grows the table.
                cell.publish(shard);
            }
            if shard.bytes > budget {
                let n = shard.evict_until(budget, key);
                if n > 0 {
                    self.evictions.fetch_add(n, Ordering::Relaxed);
                }
            }
        }
    }

    fn idempotent(&self, id: &str, ts_ms: i64, decide: &mut dyn FnMut() -> StoredDecision) -> Idempotent {
        let h = crate::member_hash(id.as_bytes());
        let mut shard = self.ids[shard_of(h)].lock();
        if let Some((seen, d)) = shard.ids.get(&h) {
            if ts_ms.saturating_sub(*seen) <= self.options.idempotency_window_ms as i64 {
                return Idempotent::Repeat(d.clone());
            }
        }
        let d = decide();
        self.insert_id(&mut shard, h, ts_ms, d.clone());
        Idempotent::Fresh(d)
    }

    fn remember(&self, id: &str, ts_ms: i64, decision: StoredDecision) {
        let h = crate::member_hash(id.as_bytes());
        let mut shard = self.ids[shard_of(h)].lock();
        // An id decided again after its window expired has two records: the later one is the
        // decision a retry must get.
        if shard.ids.get(&h).is_none_or(|(seen, _)| *seen < ts_ms) {
            self.insert_id(&mut shard, h, ts_ms, decision);
        }
    }

    fn stats(&self) -> StoreStats {
        let mut s = StoreStats::default();
        for cell in &self.shards {
            let g = cell.shard.lock();
            s.keys += g.entries.len() as u64;
            s.bytes += g.bytes as u64;
        }
        for shard in &self.ids {
            s.idempotency_keys += shard.lock().ids.len() as u64;
        }
        s.evictions = self.evictions.load(Ordering::Relaxed);
        s.late_dropped = self.late_dropped.load(Ordering::Relaxed);
        s
    }

    fn health(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn capture(&self) -> Result<Box<dyn crate::Capture>, StoreError> {
        // Plain clones only (rings are inline, decisions are shared): the pause stays short.
        let mut windows = Vec::new();
        for cell in &self.shards {
            let g = cell.shard.lock();
            windows.reserve(g.entries.len());
            windows.extend(g.entries.iter().map(|(k, e)| (k, e.clone())));
        }
        let mut ids = Vec::new();
        for shard in &self.ids {
            let g = shard.lock();
            ids.extend(g.order.iter().filter_map(|k| g.ids.get(k).map(|(ts, d)| (*k, *ts, d.clone()))));
        }
        Ok(Box::new(MemoryCapture { windows, ids }))
    }

    fn import(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let snap: Snapshot = postcard::from_bytes(bytes)
            .map_err(|e| StoreError::new(StoreErrorKind::Corrupt, format!("snapshot: {e}")))?;
        for cell in &self.shards {
            let mut g = cell.shard.lock();
            g.clear();
            cell.publish(&g);
        }
        for shard in &self.ids {
            let mut g = shard.lock();
            g.ids.clear();
            g.order.clear();
        }
        for (k, e) in snap.windows {
            let ok = match &e.window {
                SnapWindow::Count(c) => c.len() == e.ring as usize && e.ring > 0,
                SnapWindow::Distinct(_) | SnapWindow::Sample(_) | SnapWindow::Seen(_) => e.ring > 0,
            };
            if !ok {
                return Err(StoreError::new(StoreErrorKind::Corrupt, "snapshot holds a malformed window"));
            }
            let window = match e.window {
                SnapWindow::Count(c) if c.len() <= SMALL_RING && c.iter().all(|&v| v <= u32::from(u16::MAX)) => {
                    let mut cells = [0u16; SMALL_RING];
                    for (cell, v) in cells.iter_mut().zip(c) {
                        *cell = v as u16;
                    }
                    Window::CountSmall(cells)
                }
                SnapWindow::Count(c) => Window::Count(c.into_boxed_slice()),
                SnapWindow::Distinct(m) => Window::Distinct(Few::from_vec(m)),
                SnapWindow::Sample(v) => Window::Sample(Few::from_vec(v)),
                SnapWindow::Seen(s) => Window::Seen(s),
            };
            let cell = &self.shards[shard_of(k)];
            let mut g = cell.shard.lock();
            g.insert(k, Entry { last_touch: e.last_touch, head: e.head, ring: e.ring, window });
            cell.publish(&g);
        }
        for (k, ts, json) in snap.ids {
            if serde_json::from_slice::<serde::de::IgnoredAny>(&json).is_err() {
                return Err(StoreError::new(StoreErrorKind::Corrupt, "snapshot holds a malformed decision"));
            }
            let mut g = self.ids[shard_of(k)].lock();
            self.insert_id(&mut g, k, ts, Arc::from(json));
        }
        Ok(())
    }
}

impl MemoryStore {
    /// Records one observation at bucket `b` (inside the ring).
    fn record(&self, entry: &mut Entry, obs: &Observation, ts_ms: i64, b: i64) {
        let ring_i = i64::from(entry.ring);
        // A 16-bit bucket about to overflow: the ring moves to 32-bit buckets on the heap.
        if let Window::CountSmall(c) = &entry.window {
            if c[b.rem_euclid(ring_i) as usize] == u16::MAX {
                entry.window = Window::Count(c[..entry.ring as usize].iter().map(|&x| u32::from(x)).collect());
            }
        }
        match (&mut entry.window, obs.op) {
            (Window::Count(c), _) => {
                let cell = &mut c[b.rem_euclid(ring_i) as usize];
                *cell = cell.saturating_add(1);
            }
            (Window::CountSmall(c), _) => {
                let cell = &mut c[b.rem_euclid(ring_i) as usize];
                *cell = cell.saturating_add(1);
            }
            (Window::Distinct(m), Op::Distinct { member, .. }) => {
                if let Some(x) = m.as_mut_slice().iter_mut().find(|x| x.hash == member) {
                    x.first = x.first.min(b);
                    x.last = x.last.max(b);
                } else if m.len() < self.options.distinct_cap {
                    m.push(Member { hash: member, first: b, last: b });
                } else if let Some(oldest) = m.as_mut_slice().iter_mut().min_by_key(|x| x.last) {
                    // At the cap: the stalest member makes room; the count stays a lower bound.
                    if oldest.last < b {
                        *oldest = Member { hash: member, first: b, last: b };
                    }
                }
            }
            (Window::Sample(v), Op::Sample { value: Some(value), .. }) => {
                if v.len() >= SAMPLE_CAP {
                    // The oldest value makes room (ties: the first kept).
                    if let Some((i, _)) = v.iter().enumerate().min_by_key(|(_, x)| x.at) {
                        if v[i].at > b {
                            return;
                        }
                        v.remove(i);
                    }
                }
                v.push(Sample { value, at: b });
            }
            (Window::Seen(s), Op::Seen { .. }) => {
                let span = (obs.window.bucket_ms.saturating_mul(u64::from(obs.window.buckets.max(1)))) as i64;
                if s.last == i64::MIN || ts_ms.saturating_sub(s.last) > span {
                    // New, or silent for a whole window: a new life for the key.
                    *s = Seen { first: ts_ms, last: ts_ms, prev: i64::MIN };
                } else if ts_ms >= s.last {
                    s.prev = s.last;
                    s.last = ts_ms;
                } else {
                    s.first = s.first.min(ts_ms);
                    s.prev = s.prev.max(ts_ms);
                }
            }
            _ => {}
        }
    }

    fn insert_id(&self, shard: &mut IdShard, h: u64, ts_ms: i64, d: StoredDecision) {
        let cap = (self.options.idempotency_max_ids / SHARDS).max(1);
        let horizon = ts_ms.saturating_sub(self.options.idempotency_window_ms as i64);
        while let Some(&front) = shard.order.front() {
            let stale = shard.ids.get(&front).is_none_or(|(seen, _)| *seen < horizon);
            if shard.ids.len() >= cap || stale {
                shard.order.pop_front();
                shard.ids.remove(&front);
            } else {
                break;
            }
        }
        if shard.ids.insert(h, (ts_ms, d)).is_none() {
            shard.order.push_back(h);
        }
    }
}

struct MemoryCapture {
    windows: Vec<(u64, Entry)>,
    ids: Vec<(u64, i64, StoredDecision)>,
}

impl crate::Capture for MemoryCapture {
    fn encode(self: Box<Self>) -> Result<Vec<u8>, StoreError> {
        let this = *self;
        let snap = Snapshot {
            windows: this
                .windows
                .into_iter()
                .map(|(k, e)| {
                    let window = match e.window {
                        Window::Count(c) => SnapWindow::Count(c.into_vec()),
                        Window::CountSmall(c) => {
                            SnapWindow::Count(c[..e.ring as usize].iter().map(|&x| u32::from(x)).collect())
                        }
                        Window::Distinct(m) => SnapWindow::Distinct(m.into_vec()),
                        Window::Sample(v) => SnapWindow::Sample(v.into_vec()),
                        Window::Seen(s) => SnapWindow::Seen(s),
                    };
                    (k, SnapEntry { last_touch: e.last_touch, head: e.head, ring: e.ring, window })
                })
                .collect(),
            ids: this.ids.into_iter().map(|(k, ts, d)| (k, ts, d.to_vec())).collect(),
        };
        postcard::to_stdvec(&snap).map_err(|e| StoreError::new(StoreErrorKind::Corrupt, e.to_string()))
    }
}

#[derive(Serialize, Deserialize)]
enum SnapWindow {
    Count(Vec<u32>),
    Distinct(Vec<Member>),
    // New kinds go last: snapshots name variants by index.
    Sample(Vec<Sample>),
    Seen(Seen),
}

#[derive(Serialize, Deserialize)]
struct SnapEntry {
    last_touch: i64,
    head: i64,
    ring: u32,
    window: SnapWindow,
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    windows: Vec<(u64, SnapEntry)>,
    ids: Vec<(u64, i64, Vec<u8>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_finds_the_one_other_key() {
        // Two keys, the one being written and one other, over a budget of nothing: the other goes,
        // whatever the random draws and wherever the two keys sit in the table.
        for round in 0..200u64 {
            let mut shard = Shard { rng: 0x9E37_79B9_7F4A_7C15 ^ (round + 1), ..Shard::default() };
            let op = Op::Count;
            let (keep, other) = (round % 16 + 1, (round * 7 + 3) % 16 + 17);
            shard.insert(keep, Entry::new(2_000, 0, 4, op));
            shard.insert(other, Entry::new(1_000, 0, 4, op));
            assert_eq!(shard.evict_until(0, keep), 1, "round {round}");
            assert!(shard.entries.get(keep).is_some() && shard.entries.get(other).is_none(), "round {round}");
        }
    }
}
