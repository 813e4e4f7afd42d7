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
#[derive(Default, Clone)]
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

/// What every matcher's table starts from, built once per process: the entries of every
/// character with empty alphabets (its fold kind and whether it can be part of an ID-like token;
/// a handful of distinct values), and, per key a view may number, the characters with that key.
/// A matcher then computes only the entries of the characters its alphabets name (a small
/// lexicon names a few hundred) and shares every block without them from here: before, every
/// matcher folded all 131,072 characters of the table, which made custom lexicons slow to build
/// and the fuzz target that builds one per input crawl.
struct Template {
    /// Distinct entries with empty alphabets; index 0 is `KIND_SLOW`.
    entries: Vec<u64>,
    /// Distinct blocks (indices into `entries`), concatenated.
    blocks: Vec<u16>,
    top: [u16; N_BLOCKS],
    /// Sorted `(key, code)`: the character `code`'s base key, pinyin key or number-style key is
    /// `key` (see [`Codes::entry_of`] for the keys).
    dependents: Vec<(u32, u32)>,
}

static TEMPLATE: std::sync::LazyLock<Template> = std::sync::LazyLock::new(Template::build);

/// Bytes of the process-wide template (built on first use).
pub(crate) fn template_bytes() -> usize {
    TEMPLATE.heap_bytes()
}

impl Template {
    fn build() -> Template {
        let bare = Codes::empty(Alphabet::default(), Alphabet::default(), Alphabet::default(), [&|_| false; 3]);
        let mut dependents = Vec::new();
        for code in 0..LIMIT {
            if let Some(Folded::Char { c, digit }) = char::from_u32(code).map(|c| TABLES.fold(c)) {
                dependents.push((c as u32, code));
                dependents.push((TABLES.pinyin_of(c) as u32, code));
                if let Some(d) = digit {
                    dependents.push((u32::from(b'0' + d), code));
                }
            }
        }
        dependents.sort_unstable();
        dependents.dedup();
        let mut t = Table::new();
        for hi in 0..N_BLOCKS {
            t.add_block(&bare, hi, &[0; BLOCK_LEN], &ALL);
        }
        Template { entries: t.entries, blocks: t.blocks, top: t.top, dependents }
    }

    fn heap_bytes(&self) -> usize {
        self.entries.len() * 8 + self.blocks.len() * 2 + self.dependents.len() * 8
    }

    /// The characters with key `key`.
    fn dependents(&self, key: char) -> impl Iterator<Item = u32> + '_ {
        let key = key as u32;
        let from = self.dependents.partition_point(|&(k, _)| k < key);
        self.dependents[from..].iter().take_while(move |&&(k, _)| k == key).map(|&(_, code)| code)
    }

    /// Block `hi`'s entry indices.
    fn block(&self, hi: usize) -> &[u16] {
        let at = usize::from(self.top[hi]) * BLOCK_LEN;
        &self.blocks[at..at + BLOCK_LEN]
    }
}

/// Every offset of a block.
const ALL: [usize; BLOCK_LEN] = {
    let mut a = [0; BLOCK_LEN];
    let mut i = 0;
    while i < BLOCK_LEN {
        a[i] = i;
        i += 1;
    }
    a
};

/// A code table being built: distinct entries and distinct blocks.
struct Table {
    entries: Vec<u64>,
    index: FxHashMap<u64, u16>,
    blocks: Vec<u16>,
    seen: FxHashMap<Vec<u16>, u16>,
    top: [u16; N_BLOCKS],
}

impl Table {
    fn new() -> Table {
        let mut index = FxHashMap::default();
        index.insert(KIND_SLOW, 0);
        Table { entries: vec![KIND_SLOW], index, blocks: Vec::new(), seen: FxHashMap::default(), top: [0; N_BLOCKS] }
    }

    /// Continues from the template: its entries and blocks keep their indices.
    fn from_template(t: &Template) -> Table {
        let index = t.entries.iter().enumerate().map(|(i, &e)| (e, i as u16)).collect();
        Table { entries: t.entries.clone(), index, blocks: t.blocks.clone(), seen: FxHashMap::default(), top: t.top }
    }

    /// Block `hi`: `start` (the template's block, or all slow) with the characters at `offsets`
    /// computed with `codes`' alphabets.
    fn add_block(&mut self, codes: &Codes, hi: usize, start: &[u16], offsets: &[usize]) {
        let mut block = [0u16; BLOCK_LEN];
        block.copy_from_slice(start);
        for &lo in offsets {
            let slot = &mut block[lo];
            let code = ((hi as u32) << BLOCK_BITS) | lo as u32;
            let entry = match char::from_u32(code) {
                Some(c) => codes.entry_of_original(c),
                None => KIND_NOISE,
            };
            *slot = match self.index.entry(entry) {
                Entry::Occupied(e) => *e.get(),
                Entry::Vacant(e) => match u16::try_from(self.entries.len()) {
                    Ok(i) => {
                        self.entries.push(entry);
                        *e.insert(i)
                    }
                    // Full: the slow path folds it.
                    Err(_) => 0,
                },
            };
        }
        self.top[hi] = match self.seen.get(&block[..]) {
            Some(&idx) => idx,
            None => {
                // At most 2 × N_BLOCKS (1,024) blocks: the template's and this table's own.
                let idx = (self.blocks.len() / BLOCK_LEN) as u16;
                self.blocks.extend_from_slice(&block);
                self.seen.insert(block.to_vec(), idx);
                idx
            }
        };
    }
}

impl Codes {
    /// The table for three views' alphabets; `starts` tells, per view (base, pinyin, numeric),
    /// whether a number starts a pattern.
    pub(crate) fn new(base: Alphabet, pinyin: Alphabet, numeric: Alphabet, starts: [&dyn Fn(u32) -> bool; 3]) -> Codes {
        Codes::build(base, pinyin, numeric, starts, true)
    }

    /// Every block computed, none from the template (the reference for tests).
    #[cfg(test)]
    fn new_full(base: Alphabet, pinyin: Alphabet, numeric: Alphabet, starts: [&dyn Fn(u32) -> bool; 3]) -> Codes {
        Codes::build(base, pinyin, numeric, starts, false)
    }

    fn build(
        base: Alphabet,
        pinyin: Alphabet,
        numeric: Alphabet,
        starts: [&dyn Fn(u32) -> bool; 3],
        use_template: bool,
    ) -> Codes {
        let mut codes = Codes::empty(base, pinyin, numeric, starts);
        // Number 0 (not in an alphabet) starting a pattern would make the template's entries
        // wrong; no automaton has a pattern with it, but then every block is computed.
        let zero_starts = codes.starts.iter().any(|s| s.first().copied().unwrap_or(false));
        let mut table = match (use_template && !zero_starts).then(|| &*TEMPLATE) {
            Some(t) => {
                let mut named: Vec<u32> = codes
                    .base
                    .keys()
                    .chain(codes.pinyin.keys())
                    .chain(codes.numeric.keys())
                    .flat_map(|&key| t.dependents(key))
                    .collect();
                named.sort_unstable();
                named.dedup();
                let mut table = Table::from_template(t);
                for chunk in named.chunk_by(|a, b| a >> BLOCK_BITS == b >> BLOCK_BITS) {
                    let hi = (chunk[0] >> BLOCK_BITS) as usize;
                    let offsets: Vec<usize> = chunk.iter().map(|&c| c as usize & (BLOCK_LEN - 1)).collect();
                    table.add_block(&codes, hi, t.block(hi), &offsets);
                }
                table
            }
            None => {
                let mut table = Table::new();
                for hi in 0..N_BLOCKS {
                    table.add_block(&codes, hi, &[0; BLOCK_LEN], &ALL);
                }
                table
            }
        };
        // Only the blocks in use: the template's replaced blocks go.
        let mut renumber = vec![u16::MAX; table.blocks.len() / BLOCK_LEN];
        let mut blocks = Vec::new();
        for idx in table.top.iter_mut() {
            let old = usize::from(*idx);
            if renumber[old] == u16::MAX {
                renumber[old] = (blocks.len() / BLOCK_LEN) as u16;
                blocks.extend_from_slice(&table.blocks[old * BLOCK_LEN..(old + 1) * BLOCK_LEN]);
            }
            *idx = renumber[old];
        }
        codes.top = Box::new(table.top);
        codes.blocks = blocks.into_boxed_slice();
        codes.entries = table.entries.into_boxed_slice();
        codes
    }

    /// The alphabets and the ASCII table, without the table of other characters.
    fn empty(base: Alphabet, pinyin: Alphabet, numeric: Alphabet, starts: [&dyn Fn(u32) -> bool; 3]) -> Codes {
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

    /// Characters a test lexicon draws from: ASCII, CJK with and without readings, full-width
    /// and circled forms, Chinese and super/subscript numerals, Cyrillic and Greek homoglyphs.
    const POOL: &str =
        "abcxyzAZ09微信薇威卫加QQ号码验证码接收卡商猫池出售老号带圈ａｂ１２①⑴⓪〇一二三壹贰叁幺¹₂аеоΑΒ😀 -_.";

    /// An alphabet as a view numbers it: folded characters, or their pinyin tokens for the
    /// pinyin view.
    fn random_alphabet(rng: &mut impl FnMut() -> u64, pool: &[char], pinyin: bool) -> (Alphabet, Vec<bool>) {
        let mut a = Alphabet::default();
        let n = 1 + rng() as usize % 12;
        for _ in 0..n {
            let len = 1 + rng() as usize % 4;
            let word: Vec<char> = (0..len).map(|_| pool[rng() as usize % pool.len()]).collect();
            // Fold the word as a lexicon term is folded, so the keys are folded characters.
            let folded: Vec<char> = word
                .iter()
                .map(|&c| match TABLES.fold(c) {
                    Folded::Char { c, .. } => c,
                    _ => ' ',
                })
                .collect();
            let view = folded.iter().map(|&c| if pinyin { TABLES.pinyin_of(c) } else { c });
            a.encode(view).expect("small alphabet");
        }
        let starts = (0..=a.size()).map(|i| i > 0 && rng().is_multiple_of(2)).collect();
        (a, starts)
    }

    /// The table built from the template and the table with every block computed give every
    /// character the same entry (below 2^16 distinct entries, which no lexicon nears: past
    /// them, the two may send different characters to the slow path, with the same result).
    #[test]
    fn template_table_equals_full_table() {
        let pool: Vec<char> = POOL.chars().collect();
        let mut rng = crate::automaton::tests::xorshift(0x2545_F491_4F6C_DD1D);
        for case in 0..24 {
            let (b1, mut s1) = random_alphabet(&mut rng, &pool, false);
            // Now and then number 0 "starts a pattern" (no automaton has one): the template would
            // be wrong there, so every block must be computed.
            if case % 6 == 5 {
                s1[0] = true;
            }
            let (p1, s2) = random_alphabet(&mut rng, &pool, true);
            // Every other case without a pinyin view, as most lexicons.
            let p1 = if case % 2 == 0 { Alphabet::default() } else { p1 };
            let (n1, s3) = random_alphabet(&mut rng, &pool, false);
            let (b2, p2, n2) = (b1.clone(), p1.clone(), n1.clone());
            let f = |s: &Vec<bool>| {
                let s = s.clone();
                move |i: u32| s.get(i as usize).copied().unwrap_or(false)
            };
            let (f1, f2, f3) = (f(&s1), f(&s2), f(&s3));
            let fast = Codes::new(b1, p1, n1, [&f1, &f2, &f3]);
            let full = Codes::new_full(b2, p2, n2, [&f1, &f2, &f3]);
            for code in 0..LIMIT + 16 {
                assert_eq!(fast.lookup(code), full.lookup(code), "case {case}, U+{code:04X}");
            }
            for b in 0..128u8 {
                assert_eq!(fast.ascii(b), full.ascii(b));
            }
            assert_eq!(fast.space, full.space);
        }
    }

    #[test]
    fn numbers_start_at_one() {
        let mut a = Alphabet::default();
        assert_eq!(a.encode("ab a".chars()).as_deref(), Some(&[1, 2, 3, 1][..]));
        assert_eq!(a.size(), 3);
    }
}
