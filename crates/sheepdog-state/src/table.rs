//! The window table of one shard: open addressing with linear probing over a dense array of
//! key hashes, values in a parallel array.
//!
//! Why not `HashMap`: the store reads about twenty windows per event, nearly all of them cold
//! (a DRAM miss each). Knowing where a key's home slot lies lets `observe` prefetch every window
//! of an event before it touches the first, so the misses overlap instead of queueing; and the
//! dense key array lets eviction sample random keys without a side vector.
//!
//! Keys are already uniform 64-bit hashes: the home slot is the key's low bits. Load stays at
//! most 3/4 (successful probes average 2.5 keys, one cache line). Removal shifts the following
//! cluster back (no tombstones), so probe lengths never degrade.

/// Key value that marks an empty slot; a real key equal to it is stored as `ZERO_KEY`.
const EMPTY: u64 = 0;
const ZERO_KEY: u64 = 0x9E37_79B9_7F4A_7C15;
const MIN_CAPACITY: usize = 16;

pub(crate) fn stored(key: u64) -> u64 {
    if key == EMPTY {
        ZERO_KEY
    } else {
        key
    }
}

/// Where a key's home slot lives, for prefetching without the shard's lock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Home<V> {
    pub keys: *const u64,
    pub values: *const Slot<V>,
    pub mask: usize,
}

/// A value's slot, aligned to cache lines so that prefetching its first two lines fetches all
/// of a value up to 128 bytes.
#[repr(align(64))]
pub(crate) struct Slot<V>(Option<V>);

pub(crate) struct Table<V> {
    keys: Box<[u64]>,
    values: Box<[Slot<V>]>,
    len: usize,
}

impl<V> Default for Table<V> {
    fn default() -> Self {
        Table::with_capacity(MIN_CAPACITY)
    }
}

impl<V> Table<V> {
    fn with_capacity(cap: usize) -> Self {
        let cap = cap.next_power_of_two().max(MIN_CAPACITY);
        Table {
            keys: vec![EMPTY; cap].into_boxed_slice(),
            values: std::iter::repeat_with(|| Slot(None)).take(cap).collect(),
            len: 0,
        }
    }

    fn mask(&self) -> usize {
        self.keys.len() - 1
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Slots (occupied or not).
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.keys.len()
    }

    pub fn home(&self) -> Home<V> {
        Home { keys: self.keys.as_ptr(), values: self.values.as_ptr(), mask: self.mask() }
    }

    /// Slot index of `key`, if present.
    pub fn find(&self, key: u64) -> Option<usize> {
        self.probe(key).ok()
    }

    /// `Ok(slot)` of `key`, or `Err(slot)` where an insert would put it now.
    pub fn probe(&self, key: u64) -> Result<usize, usize> {
        let key = stored(key);
        let mask = self.mask();
        let mut i = key as usize & mask;
        loop {
            match self.keys[i] {
                k if k == key => return Ok(i),
                EMPTY => return Err(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Prefetches the value slot `i` (see `prefetch`).
    pub fn prefetch_slot(&self, i: usize) {
        if let Some(slot) = self.values.get(i) {
            prefetch_line(slot as *const Slot<V> as *const u8);
        }
    }

    pub fn get(&self, key: u64) -> Option<&V> {
        self.find(key).and_then(|i| self.values[i].0.as_ref())
    }

    /// The value at slot `i` (from `find` or `random_slot`).
    pub fn at(&self, i: usize) -> Option<(u64, &V)> {
        let k = *self.keys.get(i)?;
        self.values[i].0.as_ref().map(|v| (k, v))
    }

    /// The value of `key`, inserting `make()` first when absent; `true` when inserted. One
    /// probe sequence, unless the insert grows the table (only an insert does).
    pub fn get_or_insert_with(&mut self, key: u64, make: impl FnOnce() -> V) -> (&mut V, bool) {
        let mut i = match self.probe(key) {
            Ok(i) => return (self.values[i].0.as_mut().expect("occupied slot holds a value"), false),
            Err(i) => i,
        };
        // The value first: a panic in `make` leaves the table as it was.
        let value = make();
        if (self.len + 1) * 4 > self.keys.len() * 3 {
            self.grow();
            i = self.probe(key).expect_err("absent before growing");
        }
        self.keys[i] = stored(key);
        // The slot is empty (its key is): write without reading (and dropping) what it held,
        // which would wait for the cache line.
        std::mem::forget(std::mem::replace(&mut self.values[i], Slot(Some(value))));
        self.len += 1;
        (self.values[i].0.as_mut().expect("just inserted"), true)
    }

    pub fn insert(&mut self, key: u64, value: V) -> Option<V> {
        let mut value = Some(value);
        let (slot, inserted) = self.get_or_insert_with(key, || value.take().expect("taken once"));
        if inserted {
            None
        } else {
            Some(std::mem::replace(slot, value.take().expect("not taken")))
        }
    }

    /// Removes the value at slot `i`, shifting the rest of its cluster back.
    pub fn remove_at(&mut self, mut i: usize) -> Option<V> {
        if self.keys.get(i).is_none_or(|&k| k == EMPTY) {
            return None;
        }
        let removed = self.values[i].0.take();
        self.keys[i] = EMPTY;
        self.len -= 1;
        let mask = self.mask();
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let k = self.keys[j];
            if k == EMPTY {
                break;
            }
            // The key at `j` may move to the hole at `i` unless its home lies cyclically in
            // (i, j]: then moving it before its home would hide it from lookups.
            let home = k as usize & mask;
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(i) & mask) {
                self.keys[i] = k;
                self.values[i] = Slot(self.values[j].0.take());
                self.keys[j] = EMPTY;
                i = j;
            }
        }
        removed
    }

    #[cfg(test)]
    pub fn remove(&mut self, key: u64) -> Option<V> {
        let i = self.find(key)?;
        self.remove_at(i)
    }

    /// A uniformly drawn occupied slot, for eviction sampling: up to 16 draws from `next`
    /// (the table is at least 3/8 full after its first growth), `None` when all miss.
    pub fn random_slot(&self, mut next: impl FnMut() -> u64) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        (0..16).map(|_| next() as usize & mask).find(|&i| self.keys[i] != EMPTY)
    }

    /// Occupied slots in table order (the eviction sampler's fallback).
    pub fn occupied(&self) -> impl Iterator<Item = usize> + '_ {
        self.keys.iter().enumerate().filter(|(_, &k)| k != EMPTY).map(|(i, _)| i)
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &V)> {
        self.keys.iter().zip(self.values.iter()).filter_map(|(k, v)| v.0.as_ref().map(|v| (*k, v)))
    }

    pub fn clear(&mut self) {
        *self = Table::default();
    }

    fn grow(&mut self) {
        let old = std::mem::replace(self, Table::with_capacity(self.keys.len() * 2));
        for (k, v) in old.keys.into_vec().into_iter().zip(old.values.into_vec()) {
            if let Slot(Some(v)) = v {
                let mask = self.mask();
                let mut i = k as usize & mask;
                while self.keys[i] != EMPTY {
                    i = (i + 1) & mask;
                }
                self.keys[i] = k;
                self.values[i] = Slot(Some(v));
                self.len += 1;
            }
        }
    }
}

/// Asks the CPU to fetch the home slot of `key`: its key, and the two cache lines from its value
/// on (the rest of a two-line value, or the next slot, where a new key lands when home is taken).
/// `home` may be stale (read without the lock): a prefetch never faults and never reads into
/// the program, so a stale address only wastes the fetch.
#[inline]
pub(crate) fn prefetch<V>(home: Home<V>, key: u64) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let i = stored(key) as usize & home.mask;
        let k = home.keys.wrapping_add(i) as *const i8;
        let v = home.values.wrapping_add(i) as *const i8;
        // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 CPU has; it is a hint that reads
        // nothing into the program and does not fault, whatever the address.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(k);
            _mm_prefetch::<_MM_HINT_T0>(v);
            // The next line: the rest of a two-line slot, or the next slot, where a new key
            // lands when its home is taken.
            _mm_prefetch::<_MM_HINT_T0>(v.wrapping_add(64));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (home, key);
}

/// Asks the CPU to fetch the cache line of `p` (any address: see `prefetch`).
#[inline]
pub(crate) fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `prefetch`.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Step {
        Insert(u64, u32),
        Remove(u64),
        RemoveRandom(u64),
    }

    fn step() -> impl Strategy<Value = Step> {
        // Few distinct low bits: long clusters that wrap around the end of the table.
        let key = prop_oneof![0u64..8, (0u64..64).prop_map(|k| k << 40 | 0xF), any::<u64>()];
        prop_oneof![
            (key.clone(), any::<u32>()).prop_map(|(k, v)| Step::Insert(k, v)),
            key.prop_map(Step::Remove),
            any::<u64>().prop_map(Step::RemoveRandom),
        ]
    }

    proptest! {
        /// The table answers exactly as a `HashMap` under any mix of inserts and removals.
        #[test]
        fn behaves_as_a_map(steps in proptest::collection::vec(step(), 1..400)) {
            let mut t: Table<u32> = Table::default();
            let mut m: HashMap<u64, u32> = HashMap::new();
            for s in steps {
                match s {
                    Step::Insert(k, v) => prop_assert_eq!(t.insert(k, v), m.insert(k, v)),
                    Step::Remove(k) => prop_assert_eq!(t.remove(k), m.remove(&k)),
                    Step::RemoveRandom(seed) => {
                        let mut x = seed | 1;
                        let next = || { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x };
                        if let Some(i) = t.random_slot(next).or_else(|| t.occupied().next()) {
                            let k = if t.keys[i] == ZERO_KEY && m.contains_key(&0) { 0 } else { t.keys[i] };
                            prop_assert_eq!(t.remove_at(i), m.remove(&k));
                        } else {
                            prop_assert!(m.is_empty());
                        }
                    }
                }
                prop_assert_eq!(t.len(), m.len());
                prop_assert!(t.len() * 4 <= t.capacity() * 3);
                for (k, v) in &m {
                    prop_assert_eq!(t.get(*k), Some(v));
                }
                prop_assert_eq!(t.iter().count(), m.len());
            }
        }
    }

    #[test]
    fn key_zero_is_a_key() {
        let mut t: Table<u8> = Table::default();
        assert_eq!(t.get(0), None);
        t.insert(0, 7);
        assert_eq!(t.get(0), Some(&7));
        assert_eq!(t.remove(0), Some(7));
        assert_eq!(t.len(), 0);
    }
}
