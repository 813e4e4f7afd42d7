//! The matcher's own character codes: one compact table per matcher that takes an original
//! character straight to what each view's automaton sees, so a scan does one look-up per
//! character instead of a fold look-up plus one alphabet look-up per view.
//!
//! Every view has a dense alphabet: the distinct characters of its patterns, numbered from 1.
//! The automata (see [`crate::automaton`]) are built over those numbers, so their root tables
//! are as small as the alphabet. A text character whose folded form is not in a view's
//! alphabet gets number 0 there: it can be part of no pattern, so the view's automaton goes
//! back to its root without being looked at.
//!
//! The table composes the process-wide folding (see [`crate::fold`]) with the alphabets: an
//! entry holds the fold kind (one character, noise, space, or "ask the slow path") and the
//! three view numbers of the folded character, and whether it starts a pattern. It is
//! two-level (256-character blocks of 16-bit indices into the distinct entries, equal blocks
//! shared), with a flat table of entries for ASCII.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::fold::{Folded, TABLES};

/// A fast non-cryptographic hasher (the `FxHash` multiply-rotate) for the build-time maps,
/// whose keys come from the lexicon: SipHash was a tenth of the build time.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Characters below this are in the table; the rest take the slow path.
const LIMIT: u32 = 0x2_0000;
const BLOCK_BITS: u32 = 8;
const BLOCK_LEN: usize = 1 << BLOCK_BITS;
const N_BLOCKS: usize = (LIMIT >> BLOCK_BITS) as usize;

pub(crate) const KIND_MASK: u64 = 0b11;
/// One folded character; its view numbers follow.
pub(crate) const KIND_SINGLE: u64 = 0;
pub(crate) const KIND_NOISE: u64 = 1;
pub(crate) const KIND_SPACE: u64 = 2;
/// Expansions (`⑽` → `10`) and characters beyond the table: fold with [`crate::fold`].
pub(crate) const KIND_SLOW: u64 = 3;

const ID_BITS: u32 = 19;
/// Largest view number: alphabets are Unicode letters and digits (fewer than 2^18 of them)
/// plus pinyin syllables (about 400), so this bound is never reached by a real lexicon.
pub(crate) const MAX_ID: u32 = (1 << ID_BITS) - 1;
pub(crate) const BASE_SHIFT: u32 = 2;
pub(crate) const PINYIN_SHIFT: u32 = BASE_SHIFT + ID_BITS;
pub(crate) const NUMERIC_SHIFT: u32 = PINYIN_SHIFT + ID_BITS;
const _: () = assert!(NUMERIC_SHIFT + ID_BITS <= 59);
/// Set when the folded character can be part of an ID-like token: an ASCII letter or a digit
/// (numerals and super/subscripts count as digits).
pub(crate) const ID_CHAR: u64 = 1 << 61;
/// Set when the folded character is a digit (with [`ID_CHAR`]).
pub(crate) const ID_DIGIT: u64 = 1 << 62;
/// Set when the character starts a pattern of the base / pinyin / number-style view: a view at
/// its root stays there on a character without its bit, so the scan need not step it.
pub(crate) const STARTS_BASE: u64 = 1 << 59;
pub(crate) const STARTS_PINYIN: u64 = 1 << 60;
pub(crate) const STARTS_NUMERIC: u64 = 1 << 63;
/// Set when the character starts a pattern in some view: a character without it leaves every
/// automaton at its root when they all are there, so the scan can skip it.
pub(crate) const STARTS: u64 = STARTS_BASE | STARTS_PINYIN | STARTS_NUMERIC;

/// The view number at `shift` of an entry.
#[inline(always)]
pub(crate) fn id_at(entry: u64, shift: u32) -> u32 {
    (entry >> shift) as u32 & MAX_ID
}

/// One view's alphabet while the matcher is built: folded (view) character → number.
#[derive(Default)]
pub(crate) struct Alphabet {
    ids: FxHashMap<char, u32>,
}

impl Alphabet {
    /// The pattern as the view's automaton sees it, numbering new characters. `None` when the
    /// alphabet would exceed [`MAX_ID`].
    pub(crate) fn encode(&mut self, pattern: impl Iterator<Item = char>) -> Option<Vec<u32>> {
        let mut out = Vec::new();
        for c in pattern {
            let next = self.ids.len() as u32 + 1;
            let id = *self.ids.entry(c).or_insert(next);
            if id > MAX_ID {
                return None;
            }
            out.push(id);
        }
        Some(out)
    }

    /// The largest number given so far.
    pub(crate) fn size(&self) -> u32 {
        self.ids.len() as u32
    }
}

/// The per-matcher code table.
pub(crate) struct Codes {
    ascii: [u64; 128],
    top: Box<[u16; N_BLOCKS]>,
    /// Per character of a block, an index into `entries`: a quarter of the size of the entries
    /// themselves, so more of the blocks a text touches stay in the first-level cache.
    blocks: Box<[u16]>,
    /// The distinct entries; index 0 is `KIND_SLOW` (also for any beyond 2^16 distinct ones).
    entries: Box<[u64]>,
    base: FxHashMap<char, u32>,
    pinyin: FxHashMap<char, u32>,
    numeric: FxHashMap<char, u32>,
    /// Per view (base, pinyin, numeric), whether each number starts a pattern.
    starts: [Vec<bool>; 3],
    /// The entry of an emitted space.
    pub(crate) space: u64,
}

impl Codes {
    /// The table for three views' alphabets; `starts` tells, per view (base, pinyin, numeric),
    /// whether a number starts a pattern.
    pub(crate) fn new(base: Alphabet, pinyin: Alphabet, numeric: Alphabet, starts: [&dyn Fn(u32) -> bool; 3]) -> Codes {
        let starts = [(&base, starts[0]), (&pinyin, starts[1]), (&numeric, starts[2])]
            .map(|(a, f)| (0..=a.size()).map(f).collect::<Vec<bool>>());
        let mut codes = Codes {
            ascii: [0; 128],
            top: Box::new([0; N_BLOCKS]),
            blocks: Box::new([]),
            entries: Box::new([]),
            base: base.ids,
            pinyin: pinyin.ids,
            numeric: numeric.ids,
            starts,
            space: 0,
        };
        codes.space = codes.entry_of(' ', None);
        let mut blocks: Vec<u16> = Vec::new();
        let mut entries: Vec<u64> = vec![KIND_SLOW];
        let mut index: FxHashMap<u64, u16> = FxHashMap::default();
        index.insert(KIND_SLOW, 0);
        let mut seen: FxHashMap<Vec<u16>, u16> = FxHashMap::default();
        let mut block = vec![0u16; BLOCK_LEN];
        for hi in 0..N_BLOCKS {
            for (lo, slot) in block.iter_mut().enumerate() {
                let code = ((hi as u32) << BLOCK_BITS) | lo as u32;
                let entry = match char::from_u32(code) {
                    Some(c) => codes.entry_of_original(c),
                    None => KIND_NOISE,
                };
                *slot = match index.entry(entry) {
                    Entry::Occupied(e) => *e.get(),
                    Entry::Vacant(e) => match u16::try_from(entries.len()) {
                        Ok(i) => {
                            entries.push(entry);
                            *e.insert(i)
                        }
                        // Full: the slow path folds it.
                        Err(_) => 0,
                    },
                };
            }
            let idx = match seen.get(&block) {
                Some(&idx) => idx,
                None => {
                    // At most N_BLOCKS (512) distinct blocks, so the index fits.
                    let idx = (blocks.len() / BLOCK_LEN) as u16;
                    blocks.extend_from_slice(&block);
                    seen.insert(block.clone(), idx);
                    idx
                }
            };
            codes.top[hi] = idx;
        }
        codes.blocks = blocks.into_boxed_slice();
        codes.entries = entries.into_boxed_slice();
        for b in 0..128u8 {
            codes.ascii[usize::from(b)] = codes.entry_of_original(char::from(b));
        }
        codes
    }

    /// The entry of one folded character (with its number-style digit).
    pub(crate) fn entry_of(&self, c: char, digit: Option<u8>) -> u64 {
        let base = self.base.get(&c).copied().unwrap_or(0);
        let pinyin =
            if self.pinyin.is_empty() { 0 } else { self.pinyin.get(&TABLES.pinyin_of(c)).copied().unwrap_or(0) };
        let numeric = match digit {
            Some(d) => self.numeric.get(&char::from(b'0' + d)),
            None => self.numeric.get(&c),
        }
        .copied()
        .unwrap_or(0);
        let starts = [(base, STARTS_BASE), (pinyin, STARTS_PINYIN), (numeric, STARTS_NUMERIC)]
            .iter()
            .zip(&self.starts)
            .filter(|((id, _), s)| s.get(*id as usize).copied().unwrap_or(false))
            .fold(0, |bits, ((_, bit), _)| bits | bit);
        let is_digit = digit.is_some() || c.is_ascii_digit();
        let id = if is_digit {
            ID_CHAR | ID_DIGIT
        } else if c.is_ascii_alphabetic() {
            ID_CHAR
        } else {
            0
        };
        starts
            | id
            | KIND_SINGLE
            | (u64::from(base) << BASE_SHIFT)
            | (u64::from(pinyin) << PINYIN_SHIFT)
            | (u64::from(numeric) << NUMERIC_SHIFT)
    }

    fn entry_of_original(&self, c: char) -> u64 {
        match TABLES.fold(c) {
            Folded::Char { c, digit } => self.entry_of(c, digit),
            Folded::Noise => KIND_NOISE,
            Folded::Space => KIND_SPACE,
            Folded::Expansion(_) => KIND_SLOW,
        }
    }

    /// The entry of an original ASCII character.
    #[inline(always)]
    pub(crate) fn ascii(&self, b: u8) -> u64 {
        self.ascii[usize::from(b & 0x7F)]
    }

    /// The entry of an original non-ASCII character given by its code point.
    #[inline(always)]
    pub(crate) fn lookup(&self, code: u32) -> u64 {
        if code >= LIMIT {
            return KIND_SLOW;
        }
        let block = usize::from(self.top[(code >> BLOCK_BITS) as usize]);
        let i = self.blocks.get((block << BLOCK_BITS) | (code as usize & (BLOCK_LEN - 1))).copied().unwrap_or(0);
        self.entries.get(usize::from(i)).copied().unwrap_or(KIND_SLOW)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let maps = (self.base.capacity() + self.pinyin.capacity() + self.numeric.capacity()) * 9;
        N_BLOCKS * 2
            + self.blocks.len() * 2
            + self.entries.len() * 8
            + maps
            + self.starts.iter().map(Vec::len).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_start_at_one() {
        let mut a = Alphabet::default();
        assert_eq!(a.encode("ab a".chars()).as_deref(), Some(&[1, 2, 3, 1][..]));
        assert_eq!(a.size(), 3);
    }
}
