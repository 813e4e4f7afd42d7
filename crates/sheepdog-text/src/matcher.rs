//! The matcher: the lexicon compiled into automata over the normalised views, and `scan`, which
//! applies the fixed semantics (leftmost-longest, ASCII word boundaries, allow-list,
//! co-occurrence with ID-like tokens) and reports spans in the original text.

use std::collections::hash_map::Entry;
use std::sync::{Arc, LazyLock, RwLock};

use crate::automaton::{Automaton, Dense, Steps, NO_OUTPUT, ROOT};
use crate::codes::{
    self, id_at, Alphabet, Codes, FxHashMap, BASE_SHIFT, ID_CHAR, ID_DIGIT, NUMERIC_SHIFT, PINYIN_SHIFT, STARTS,
    STARTS_BASE, STARTS_NUMERIC, STARTS_PINYIN,
};
use crate::fold::{Folded, TABLES};
use crate::lexicon::{Category, Lexicon, MAX_TERM_CHARS};
use crate::normalize::{describe_pinyin, pinyin_view, walk, Emit};

/// Look-back window of normalised characters: the origins of the last `RING` characters are
/// kept, which is enough to place any term (at most `MAX_TERM_CHARS` long).
const RING: usize = 64;
const _: () = assert!(RING >= MAX_TERM_CHARS && RING.is_power_of_two());

/// Largest total size of the full transition tables (see [`Dense`]) that replace the double
/// arrays of a small lexicon's automata.
const DENSE_BUDGET: usize = 1 << 20;

/// Options of a [`Matcher`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatcherOptions {
    /// A co-occurrence term fires when an ID-like token is at most this many original
    /// characters away (before or after; 0 = touching or overlapping).
    pub id_window: usize,
    /// An ID-like token is a run of at least this many letters/digits (after folding, digits
    /// also as `①`, `二`, `⁹` …), at least one of them a digit.
    pub id_min_len: usize,
}

impl Default for MatcherOptions {
    fn default() -> Self {
        MatcherOptions { id_window: 20, id_min_len: 5 }
    }
}

/// A char range of the original text, end exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// One reported match, borrowing the scanned text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match<'t> {
    /// The lexicon term as written.
    pub term: Arc<str>,
    pub category: Category,
    pub weight: u8,
    /// Char offset of the first original character of the match.
    pub start: usize,
    /// Char offset just past the last original character of the match.
    pub end: usize,
    /// The original text of `start..end` (a slice of the scanned text: no allocation per match).
    pub matched: &'t str,
    /// For a co-occurrence term: the ID-like token that made it fire.
    pub id_token: Option<Span>,
}

/// Why a matcher could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("building the {view} automaton: {message}")]
    Automaton { view: &'static str, message: String },
}

struct TermInfo {
    term: Arc<str>,
    category: Category,
    weight: u8,
    needs_id: bool,
    ascii_letter_start: bool,
    ascii_letter_end: bool,
}

#[derive(Clone, Copy)]
struct PatternInfo {
    /// Index into `terms` of the deny term with this pattern, if any.
    deny: Option<u32>,
    allow: bool,
    /// Length in normalised characters.
    len: u32,
}

/// The compiled lexicon. Immutable once built; share it as `Arc<Matcher>` (see
/// [`SharedMatcher`] to swap in a rebuilt one on reload).
pub struct Matcher {
    /// Original character → what each view's automaton sees.
    codes: Codes,
    base: Option<Automaton>,
    pinyin: Option<Automaton>,
    numeric: Option<Automaton>,
    /// The automata of base, pinyin and number-style view as full transition tables, when
    /// they are small enough (an absent view has the empty one).
    dense: Option<Box<[Dense; 3]>>,
    patterns: Vec<PatternInfo>,
    terms: Vec<TermInfo>,
    options: MatcherOptions,
    pinyin_terms: usize,
    numeric_terms: usize,
    /// Some term fires only near an ID-like token: only then does a scan record tokens.
    id_terms: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum View {
    Base = 0,
    Numeric = 1,
    Pinyin = 2,
}

impl View {
    fn name(self) -> &'static str {
        match self {
            View::Base => "base",
            View::Numeric => "number-style",
            View::Pinyin => "pinyin",
        }
    }
}

/// A deny candidate before selection; offsets in original bytes (32 bits, like the scan
/// loop's, so that a candidate is 32 bytes: there are many to sort on match-dense text).
#[derive(Clone, Copy)]
struct Raw {
    start: u32,
    /// Byte offset of the original character the match's last normalised character came from.
    last: u32,
    end: u32,
    term: u32,
    view: View,
    id_token: Option<(u32, u32)>,
}

impl Raw {
    fn start(&self) -> usize {
        self.start as usize
    }

    fn end(&self) -> usize {
        self.end as usize
    }
}

/// The automaton of a view without patterns.
static EMPTY: LazyLock<Automaton> = LazyLock::new(|| Automaton::new([], 0));

static BUILTIN: LazyLock<Arc<Matcher>> = LazyLock::new(|| {
    // The shipped lexicon is checked by tests; an empty matcher is the safe fallback.
    Arc::new(Matcher::new(&Lexicon::builtin(), MatcherOptions::default()).unwrap_or_else(|_| Matcher::empty()))
});

impl Matcher {
    /// The matcher for the shipped lexicon, built once per process.
    pub fn builtin() -> Arc<Matcher> {
        BUILTIN.clone()
    }

    /// A matcher that matches nothing.
    pub fn empty() -> Matcher {
        Matcher {
            codes: Codes::new(Alphabet::default(), Alphabet::default(), Alphabet::default(), [&|_| false; 3]),
            base: None,
            pinyin: None,
            numeric: None,
            dense: None,
            patterns: Vec::new(),
            terms: Vec::new(),
            options: MatcherOptions::default(),
            pinyin_terms: 0,
            numeric_terms: 0,
            id_terms: false,
        }
    }

    /// Compiles a lexicon. Terms are folded like text; when two deny terms fold to the same
    /// pattern in the same view, the later one wins (so a file added later can override the
    /// built-in category or weight of a term).
    pub fn new(lexicon: &Lexicon, options: MatcherOptions) -> Result<Matcher, BuildError> {
        let mut terms: Vec<TermInfo> = Vec::with_capacity(lexicon.terms().len());
        let mut table = PatternTable::default();
        let (mut pinyin_terms, mut numeric_terms) = (0, 0);
        // One alphabet per view, indexed by `View as usize`.
        let mut alphabets: [Alphabet; 3] = Default::default();
        let too_large = |view: View| BuildError::Automaton {
            view: view.name(),
            message: format!("more than {} distinct characters", codes::MAX_ID),
        };
        for term in lexicon.terms() {
            let folded = fold_term(&term.text);
            let (Some(&first), Some(&last)) = (folded.first(), folded.last()) else {
                continue;
            };
            if folded.len() > MAX_TERM_CHARS {
                continue;
            }
            let view = if term.flags.pinyin {
                pinyin_terms += 1;
                View::Pinyin
            } else if term.flags.numstyle {
                numeric_terms += 1;
                View::Numeric
            } else {
                View::Base
            };
            let alphabet = &mut alphabets[view as usize];
            let pattern = match view {
                View::Pinyin => alphabet.encode(folded.iter().map(|&c| TABLES.pinyin_of(c))),
                View::Base | View::Numeric => alphabet.encode(folded.iter().copied()),
            }
            .ok_or_else(|| too_large(view))?;
            let idx = table.intern(view, pattern, folded.len());
            table.patterns[idx].deny = Some(terms.len() as u32);
            terms.push(TermInfo {
                term: Arc::from(term.text.as_str()),
                category: term.category,
                weight: term.weight,
                needs_id: term.needs_id(),
                ascii_letter_start: first.is_ascii_alphabetic(),
                ascii_letter_end: last.is_ascii_alphabetic(),
            });
        }
        for allow in lexicon.allow() {
            let folded = fold_term(allow);
            if folded.is_empty() || folded.len() > MAX_TERM_CHARS {
                continue;
            }
            let pattern =
                alphabets[View::Base as usize].encode(folded.iter().copied()).ok_or_else(|| too_large(View::Base))?;
            let idx = table.intern(View::Base, pattern, folded.len());
            table.patterns[idx].allow = true;
        }
        let build = |view: View| -> Option<Automaton> {
            let mut patvals =
                table.order.iter().enumerate().filter(|(_, (v, _))| *v == view).map(|(i, (_, p))| (&p[..], i as u32));
            let first = patvals.next()?;
            Some(Automaton::new(std::iter::once(first).chain(patvals), alphabets[view as usize].size()))
        };
        let (base, pinyin, numeric) = (build(View::Base), build(View::Pinyin), build(View::Numeric));
        fn starts(a: &Option<Automaton>) -> impl Fn(u32) -> bool + '_ {
            move |c: u32| a.as_ref().is_some_and(|a| a.starts_with(c))
        }
        let sizes = alphabets.each_ref().map(Alphabet::size);
        let dense = dense_tables([
            (&base, sizes[View::Base as usize]),
            (&pinyin, sizes[View::Pinyin as usize]),
            (&numeric, sizes[View::Numeric as usize]),
        ]);
        let [base_alphabet, numeric_alphabet, pinyin_alphabet] = alphabets;
        let codes = Codes::new(
            base_alphabet,
            pinyin_alphabet,
            numeric_alphabet,
            [&starts(&base), &starts(&pinyin), &starts(&numeric)],
        );
        Ok(Matcher {
            codes,
            base,
            pinyin,
            numeric,
            dense,
            patterns: table.patterns,
            id_terms: terms.iter().any(|t| t.needs_id),
            terms,
            options,
            pinyin_terms,
            numeric_terms,
        })
    }

    /// The options this matcher was built with.
    pub fn options(&self) -> MatcherOptions {
        self.options
    }

    /// Number of deny terms compiled (after folding; duplicates counted once per line).
    pub fn n_terms(&self) -> usize {
        self.terms.len()
    }

    /// Bytes held by the automata and tables of this matcher (not counting the process-wide
    /// folding tables, see [`folding_table_bytes`](crate::folding_table_bytes)).
    pub fn heap_bytes(&self) -> usize {
        let automata: usize = [&self.base, &self.pinyin, &self.numeric]
            .iter()
            .filter_map(|a| a.as_ref().map(Automaton::heap_bytes))
            .sum::<usize>()
            + self.dense.as_ref().map_or(0, |d| d.iter().map(Dense::heap_bytes).sum());
        let terms: usize = self.terms.iter().map(|t| std::mem::size_of::<TermInfo>() + t.term.len() + 16).sum();
        automata + terms + self.patterns.len() * std::mem::size_of::<PatternInfo>() + self.codes.heap_bytes()
    }

    /// A one-line description of how many terms each view holds, for logs.
    pub fn describe(&self) -> String {
        let (states, units) = [&self.base, &self.pinyin, &self.numeric]
            .iter()
            .filter_map(|a| a.as_ref().map(Automaton::fill))
            .fold((0, 0), |(s, u), (a, b)| (s + a, u + b));
        let tables = match &self.dense {
            Some(d) => {
                let shapes: Vec<String> = d
                    .iter()
                    .map(Dense::shape)
                    .filter(|&(_, columns)| columns > 1)
                    .map(|(rows, columns)| format!("{rows}×{columns}"))
                    .collect();
                format!(
                    ", full tables {} ({} KiB)",
                    shapes.join(" + "),
                    d.iter().map(Dense::heap_bytes).sum::<usize>() / 1024
                )
            }
            None => String::new(),
        };
        format!(
            "{} deny terms ({} pinyin, {} number-style), {} patterns, {} states in {} units{}, code table {} KiB",
            self.terms.len(),
            self.pinyin_terms,
            self.numeric_terms,
            self.patterns.len(),
            states,
            units,
            tables,
            self.codes.heap_bytes() / 1024
        )
    }

    /// Scans one text. Matches are non-overlapping, leftmost-longest, sorted by `start`; spans
    /// are char offsets into `text`.
    ///
    /// Time is linear in the text (times the lexicon's nesting depth of terms that are
    /// suffixes of each other, at most 64 per view); memory is that of the matches plus the
    /// candidates, bounded the same way, plus 16 bytes per ID-like token of the text when the
    /// lexicon has co-occurrence terms. Offsets are kept in 32 bits: texts of 4 GiB or more are
    /// not supported (the CLI and the server take at most 1 MiB).
    pub fn scan<'t>(&self, text: &'t str) -> Vec<Match<'t>> {
        let mut found = Candidates::default();
        self.collect(text, &mut found);
        if found.deny.is_empty() {
            return Vec::new();
        }
        self.select(text, found)
    }

    /// Feeds the normalised views of `text` to the automata; collects every deny and allow
    /// occurrence (overlapping) and every ID-like token, with original byte offsets.
    ///
    /// This is [`walk`] (the normaliser) specialised for the matcher: ASCII is folded by a flat
    /// table without decoding, everything else by one look-up in the matcher's code table, which
    /// also gives each view's automaton input, whether the character starts a pattern (per view)
    /// and whether it can be part of an ID-like token.
    fn collect(&self, text: &str, found: &mut Candidates) {
        match &self.dense {
            Some(d) => {
                let [base, pinyin, numeric] = &**d;
                self.collect_with(text, found, [base, pinyin, numeric]);
            }
            None => self.collect_with(text, found, self.automata()),
        }
    }

    /// The double arrays of base, pinyin and number-style view (the empty one for an absent
    /// view).
    fn automata(&self) -> [&Automaton; 3] {
        [&self.base, &self.pinyin, &self.numeric].map(|a| a.as_ref().unwrap_or(&EMPTY))
    }

    /// [`Matcher::collect`] with the automata of base, pinyin and number-style view.
    fn collect_with<A: Steps>(&self, text: &str, found: &mut Candidates, automata: [&A; 3]) {
        // One loop per set of views in use, so absent views cost nothing.
        match (self.pinyin.is_some(), self.numeric.is_some()) {
            (false, false) => self.collect_views::<A, false, false>(text, found, automata),
            (true, false) => self.collect_views::<A, true, false>(text, found, automata),
            (false, true) => self.collect_views::<A, false, true>(text, found, automata),
            (true, true) => self.collect_views::<A, true, true>(text, found, automata),
        }
    }

    /// [`Matcher::collect`] with the pinyin (`P`) and number-style (`N`) views on or off.
    /// Not inlined: one function per loop kept the loops faster than one function holding
    /// all of them (built-in lexicon, honest text: 200–206 vs 183–196 M chars/s).
    #[inline(never)]
    fn collect_views<A: Steps, const P: bool, const N: bool>(
        &self,
        text: &str,
        found: &mut Candidates,
        automata: [&A; 3],
    ) {
        let codes = &self.codes;
        let mut c = self.collector::<A, true, P, N>(found, automata);
        let bytes = text.as_bytes();
        // Offset of the first whitespace character since the last significant one, if any.
        let mut pending_space = NO_SPACE;
        // Whether the last significant original character was non-ASCII; None before the first.
        let mut prev_non_ascii: Option<bool> = None;
        let mut i = 0usize;
        while let Some(&b0) = bytes.get(i) {
            let at = i as u32;
            let (entry, non_ascii) = if b0 < 0x80 {
                i += 1;
                (codes.ascii(b0), false)
            } else {
                let (code, len) = decode(bytes, i);
                i += len;
                (codes.lookup(code), true)
            };
            match entry & codes::KIND_MASK {
                codes::KIND_SINGLE => {
                    if pending_space != NO_SPACE {
                        c.flush_space(pending_space, prev_non_ascii, non_ascii);
                        pending_space = NO_SPACE;
                    }
                    prev_non_ascii = Some(non_ascii);
                    c.push(entry, at);
                }
                codes::KIND_NOISE => {}
                codes::KIND_SPACE => {
                    if pending_space == NO_SPACE {
                        pending_space = at;
                    }
                }
                _ => {
                    let Some(ch) = text.get(at as usize..).and_then(|s| s.chars().next()) else {
                        continue;
                    };
                    match TABLES.fold(ch) {
                        Folded::Noise => {}
                        Folded::Space => {
                            if pending_space == NO_SPACE {
                                pending_space = at;
                            }
                        }
                        Folded::Char { c: folded, digit } => {
                            if pending_space != NO_SPACE {
                                c.flush_space(pending_space, prev_non_ascii, non_ascii);
                                pending_space = NO_SPACE;
                            }
                            prev_non_ascii = Some(non_ascii);
                            c.push(codes.entry_of(folded, digit), at);
                        }
                        Folded::Expansion(chars) => {
                            if pending_space != NO_SPACE {
                                c.flush_space(pending_space, prev_non_ascii, true);
                                pending_space = NO_SPACE;
                            }
                            prev_non_ascii = Some(true);
                            for &folded in chars {
                                c.push(codes.entry_of(folded, None), at);
                            }
                        }
                    }
                }
            }
        }
        c.finish();
    }

    /// [`Matcher::collect`] the slow way, through the normaliser: the reference for tests.
    #[cfg(test)]
    fn collect_reference(&self, text: &str, found: &mut Candidates) {
        let mut c = self.collector::<Automaton, false, true, true>(found, self.automata());
        walk(text, |e: Emit| c.push(self.codes.entry_of(e.c, e.digit), e.orig_byte));
        c.finish();
    }

    /// The per-character work of a scan; `SKIP`: skip what cannot start a match while every
    /// automaton is at its root (off for the reference, which must see every character).
    fn collector<'a, 'o, A: Steps, const SKIP: bool, const P: bool, const N: bool>(
        &'a self,
        found: &'o mut Candidates,
        automata: [&'a A; 3],
    ) -> Collector<'a, 'o, A, SKIP, P, N> {
        let [base, pinyin, numeric] = automata.map(|a| ViewStepper { a, st: ROOT });
        Collector {
            space: self.codes.space,
            base,
            pinyin,
            numeric,
            rec: Recorder { ring: [0; RING], npos: 0, patterns: &self.patterns, found },
            run: Run { start: 0, last: 0, len: 0, digits: 0 },
            // Without co-occurrence terms no token is ever needed: none is long enough.
            min_len: if self.id_terms { self.options.id_min_len } else { usize::MAX },
        }
    }

    fn select<'t>(&self, text: &'t str, found: Candidates) -> Vec<Match<'t>> {
        let Candidates { mut deny, allow, tokens } = found;
        for r in deny.iter_mut() {
            r.end = char_end(text, r.last as usize) as u32;
        }
        // ASCII word boundaries, judged on the original neighbours.
        deny.retain(|r| {
            let Some(t) = self.terms.get(r.term as usize) else {
                return false;
            };
            let before_ok = !t.ascii_letter_start
                || !text.get(..r.start()).and_then(|s| s.chars().next_back()).is_some_and(|c| c.is_ascii_alphabetic());
            let after_ok = !t.ascii_letter_end
                || !text.get(r.end()..).and_then(|s| s.chars().next()).is_some_and(|c| c.is_ascii_alphabetic());
            before_ok && after_ok
        });
        // Co-occurrence: some terms fire only near an ID-like token.
        let needs_id = |r: &Raw| self.terms.get(r.term as usize).is_some_and(|t| t.needs_id);
        if deny.iter().any(needs_id) {
            let tokens: Vec<(usize, usize)> = tokens.into_iter().map(|(s, last)| (s, char_end(text, last))).collect();
            let mut cursor = 0;
            for r in deny.iter_mut() {
                if needs_id(r) {
                    r.id_token = nearest_token(text, &tokens, &mut cursor, r, self.options.id_window)
                        .map(|(s, e)| (s as u32, e as u32));
                }
            }
            deny.retain(|r| !needs_id(r) || r.id_token.is_some());
        }
        // Leftmost-longest, non-overlapping; on equal spans the exact (base) view wins.
        deny.sort_unstable_by(|a, b| {
            a.start.cmp(&b.start).then(b.end.cmp(&a.end)).then(a.view.cmp(&b.view)).then(a.term.cmp(&b.term))
        });
        let mut chosen: Vec<Raw> = Vec::new();
        let mut covered_to = 0usize;
        for r in deny {
            if r.start() >= covered_to {
                covered_to = r.end();
                chosen.push(r);
            }
        }
        // Allow-list: drop a match whose whole span an allow match covers. Sweep both by start,
        // keeping the furthest end of the allow matches started so far.
        let mut allow: Vec<(usize, usize)> = allow.into_iter().map(|(s, last)| (s, char_end(text, last))).collect();
        allow.sort_unstable();
        let mut a = 0usize;
        let mut furthest = 0usize;
        chosen.retain(|r| {
            while a < allow.len() && allow[a].0 <= r.start() {
                furthest = furthest.max(allow[a].1);
                a += 1;
            }
            furthest < r.end()
        });
        // Byte offsets to char offsets, in one forward pass (matches are sorted by start).
        let mut out = Vec::with_capacity(chosen.len());
        let mut counter = CharCounter::new(text);
        for r in chosen {
            let Some(t) = self.terms.get(r.term as usize) else {
                continue;
            };
            let start = counter.char_at(r.start());
            let end = start + text.get(r.start()..r.end()).map_or(0, |s| s.chars().count());
            let id_token = r.id_token.map(|(s, e)| {
                let (s, e) = (s as usize, e as usize);
                let s_chars = counter.char_at(s);
                Span { start: s_chars, end: s_chars + text.get(s..e).map_or(0, |x| x.chars().count()) }
            });
            out.push(Match {
                term: t.term.clone(),
                category: t.category,
                weight: t.weight,
                start,
                end,
                matched: text.get(r.start()..r.end()).unwrap_or_default(),
                id_token,
            });
        }
        out
    }
}

/// No pending whitespace.
const NO_SPACE: u32 = u32::MAX;

/// Decodes the non-ASCII character starting at `i` of valid UTF-8: (code point, length).
#[inline(always)]
fn decode(bytes: &[u8], i: usize) -> (u32, usize) {
    let b = |k: usize| u32::from(bytes.get(i + k).copied().unwrap_or(0) & 0x3F);
    let b0 = u32::from(bytes.get(i).copied().unwrap_or(0));
    if b0 < 0xE0 {
        (((b0 & 0x1F) << 6) | b(1), 2)
    } else if b0 < 0xF0 {
        (((b0 & 0x0F) << 12) | (b(1) << 6) | b(2), 3)
    } else {
        (((b0 & 0x07) << 18) | (b(1) << 12) | (b(2) << 6) | b(3), 4)
    }
}

/// One view's automaton while scanning, and its state.
struct ViewStepper<'a, A> {
    a: &'a A,
    st: u32,
}

/// Records what the automata find.
struct Recorder<'a, 'o> {
    /// Original byte offsets of the last `RING` normalised characters.
    ring: [u32; RING],
    npos: usize,
    patterns: &'a [PatternInfo],
    found: &'o mut Candidates,
}

/// What a scan collects: every deny and allow occurrence (overlapping) and every ID-like token,
/// in original byte offsets (`last`: the byte offset of the last original character).
#[derive(Default)]
struct Candidates {
    deny: Vec<Raw>,
    /// `(start, last)`.
    allow: Vec<(usize, usize)>,
    /// `(start, last)`, in text order.
    tokens: Vec<(usize, usize)>,
}

/// The run of ID characters being read.
struct Run {
    start: u32,
    last: u32,
    len: usize,
    digits: usize,
}

impl Recorder<'_, '_> {
    /// Records the patterns of the output chain of state `s`, which starts at `first`; returns
    /// the state to step from next.
    #[cold]
    fn record_all<A: Steps>(&mut self, a: &A, s: u32, first: u32, view: View) -> u32 {
        let mut o = Some(first);
        while let Some(at) = o {
            let (value, next) = a.output(at);
            self.record(value, view);
            o = next;
        }
        a.resume(s)
    }

    #[inline(always)]
    fn record(&mut self, value: u32, view: View) {
        let Some(p) = self.patterns.get(value as usize) else {
            return;
        };
        let start_pos = (self.npos + 1).saturating_sub(p.len as usize);
        let start = self.ring[start_pos & (RING - 1)];
        let last = self.ring[self.npos & (RING - 1)];
        if p.allow && view == View::Base {
            self.found.allow.push((start as usize, last as usize));
        }
        if let Some(term) = p.deny {
            self.found.deny.push(Raw { start, last, end: last, term, view, id_token: None });
        }
    }
}

/// The matcher's per-character work: step every automaton in use, record what ends here.
/// `P`/`N`: whether the pinyin/number-style views are stepped (an absent view has the empty
/// automaton, so stepping it is correct, only useless).
struct Collector<'a, 'o, A, const SKIP: bool, const P: bool, const N: bool> {
    space: u64,
    base: ViewStepper<'a, A>,
    pinyin: ViewStepper<'a, A>,
    numeric: ViewStepper<'a, A>,
    rec: Recorder<'a, 'o>,
    run: Run,
    min_len: usize,
}

impl<A: Steps, const SKIP: bool, const P: bool, const N: bool> Collector<'_, '_, A, SKIP, P, N> {
    /// Emits the pending whitespace run as one space unless it sits between two non-ASCII
    /// characters (or at the start of the text).
    #[inline(always)]
    fn flush_space(&mut self, space_at: u32, prev_non_ascii: Option<bool>, non_ascii: bool) {
        if let Some(prev) = prev_non_ascii {
            if !(prev && non_ascii) {
                self.push(self.space, space_at);
            }
        }
    }

    /// One normalised character, given by its code-table entry, from original byte `at`.
    #[inline(always)]
    fn push(&mut self, entry: u64, at: u32) {
        // ID-like tokens: maximal runs of ID characters of the normalised text, as the
        // normaliser-based `id_tokens` finds them.
        if entry & ID_CHAR != 0 {
            if self.run.len == 0 {
                self.run.start = at;
            }
            self.run.last = at;
            self.run.len += 1;
            self.run.digits += usize::from(entry & ID_DIGIT != 0);
        } else if self.run.len != 0 {
            self.end_run();
        }
        // `&`, not `&&`: one branch, rarely taken, instead of a second one on whether the
        // automata are at their root (as unpredictable as the text).
        if SKIP && ((entry & STARTS == 0) & self.at_root()) {
            // Every automaton stays at its root: no match can end here nor include this
            // character, so it needs no place in the ring either.
            return;
        }
        let rec = &mut self.rec;
        rec.ring[rec.npos & (RING - 1)] = at;
        for (v, shift, view, on, starts) in [
            (&mut self.base, BASE_SHIFT, View::Base, true, STARTS_BASE),
            (&mut self.pinyin, PINYIN_SHIFT, View::Pinyin, P, STARTS_PINYIN),
            (&mut self.numeric, NUMERIC_SHIFT, View::Numeric, N, STARTS_NUMERIC),
        ] {
            // (`&`: one branch, as above.)
            if !on || (SKIP && ((v.st == ROOT) & (entry & starts == 0))) {
                // Off, or at the root and staying there (nothing ends at the root).
                continue;
            }
            let id = id_at(entry, shift);
            // Number 0: not in the view's alphabet, no pattern goes through this character.
            if id == 0 {
                v.st = ROOT;
                continue;
            }
            let (st, first) = v.a.step_first(v.st, id);
            v.st = st;
            if first != NO_OUTPUT {
                v.st = rec.record_all(v.a, st, first, view);
            }
        }
        rec.npos += 1;
    }

    /// Ends the run of ID characters; records it if it is an ID-like token.
    #[cold]
    fn end_run(&mut self) {
        if self.run.len >= self.min_len && self.run.digits > 0 {
            self.rec.found.tokens.push((self.run.start as usize, self.run.last as usize));
        }
        self.run.len = 0;
        self.run.digits = 0;
    }

    /// After the last character.
    fn finish(&mut self) {
        self.end_run();
    }

    /// Whether every automaton is at its root.
    #[inline(always)]
    fn at_root(&self) -> bool {
        let st = |v: &ViewStepper<A>, on: bool| if on { v.st } else { ROOT };
        (self.base.st | st(&self.pinyin, P) | st(&self.numeric, N)) == ROOT
    }
}

#[derive(Default)]
struct PatternTable {
    keys: FxHashMap<(View, Vec<u32>), usize>,
    patterns: Vec<PatternInfo>,
    order: Vec<(View, Vec<u32>)>,
}

impl PatternTable {
    fn intern(&mut self, view: View, pattern: Vec<u32>, len: usize) -> usize {
        match self.keys.entry((view, pattern)) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let i = self.patterns.len();
                self.patterns.push(PatternInfo { deny: None, allow: false, len: len as u32 });
                self.order.push((view, e.key().1.clone()));
                e.insert(i);
                i
            }
        }
    }
}

/// The full transition tables of the automata of base, pinyin and number-style view (with
/// their alphabet sizes), if they fit in [`DENSE_BUDGET`] together.
fn dense_tables(views: [(&Option<Automaton>, u32); 3]) -> Option<Box<[Dense; 3]>> {
    let mut left = DENSE_BUDGET;
    let mut tables = Vec::with_capacity(3);
    for (a, alphabet) in views {
        let d = match a {
            Some(a) => Dense::new(a, alphabet, left)?,
            None => Dense::new(&EMPTY, 0, left)?,
        };
        left = left.saturating_sub(d.heap_bytes());
        tables.push(d);
    }
    let [base, pinyin, numeric]: [Dense; 3] = tables.try_into().ok()?;
    Some(Box::new([base, pinyin, numeric]))
}

/// The folded characters of a term (base view).
fn fold_term(term: &str) -> Vec<char> {
    let mut out = Vec::new();
    walk(term, |e: Emit| out.push(e.c));
    out
}

/// Byte offset just past the character starting at `byte`.
fn char_end(text: &str, byte: usize) -> usize {
    byte + text.get(byte..).and_then(|s| s.chars().next()).map_or(0, char::len_utf8)
}

/// Converts increasing byte offsets to char offsets without rescanning from the start.
struct CharCounter<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl<'a> CharCounter<'a> {
    fn new(text: &'a str) -> Self {
        CharCounter { text, byte: 0, chars: 0 }
    }

    /// Char offset of `byte`; moves forward only, and counts back from the current position
    /// for an earlier offset (ID tokens sit just before their match).
    fn char_at(&mut self, byte: usize) -> usize {
        if byte < self.byte {
            let back = self.text.get(byte..self.byte).map_or(0, |s| s.chars().count());
            return self.chars.saturating_sub(back);
        }
        self.chars += self.text.get(self.byte..byte).map_or(0, |s| s.chars().count());
        self.byte = byte;
        self.chars
    }
}

/// ID-like tokens of `text` as original byte ranges, the normaliser's way (the reference for
/// the tokens the scan loop collects): maximal runs of at least `min_len` folded
/// ASCII letters/digits (numerals and super/subscripts count as digits) with at least one digit.
/// Noise inside a run is skipped like inside a term (`ab-12-34` is one token), whitespace
/// between ASCII characters ends it.
#[cfg(test)]
fn id_tokens(text: &str, min_len: usize) -> Vec<(usize, usize)> {
    struct Run {
        start: usize,
        last: usize,
        len: usize,
        digits: usize,
    }
    let mut tokens = Vec::new();
    let mut run: Option<Run> = None;
    let flush = |run: &mut Option<Run>, tokens: &mut Vec<(usize, usize)>| {
        if let Some(r) = run.take() {
            if r.len >= min_len && r.digits > 0 {
                tokens.push((r.start, char_end(text, r.last)));
            }
        }
    };
    walk(text, |e: Emit| {
        let is_digit = e.digit.is_some() || e.c.is_ascii_digit();
        if is_digit || e.c.is_ascii_alphabetic() {
            let b = e.orig_byte as usize;
            let r = run.get_or_insert(Run { start: b, last: b, len: 0, digits: 0 });
            r.last = b;
            r.len += 1;
            r.digits += usize::from(is_digit);
        } else {
            flush(&mut run, &mut tokens);
        }
    });
    flush(&mut run, &mut tokens);
    tokens
}

/// The ID-like token closest to `r` if it is within `window` original characters.
///
/// `cursor` carries the search over from the previous call: candidates come by increasing end,
/// so the token index only moves forward (an earlier end is searched from scratch).
fn nearest_token(
    text: &str,
    tokens: &[(usize, usize)],
    cursor: &mut usize,
    r: &Raw,
    window: usize,
) -> Option<(usize, usize)> {
    // Tokens are sorted and disjoint: the candidates are the last one starting before the
    // match ends and the first one starting at or after that.
    let mut i = *cursor;
    let (start, end) = (r.start(), r.end());
    if i > 0 && tokens.get(i - 1).is_none_or(|t| t.0 >= end) {
        i = tokens.partition_point(|t| t.0 < end);
    }
    while tokens.get(i).is_some_and(|t| t.0 < end) {
        i += 1;
    }
    *cursor = i;
    let gap = |a: usize, b: usize| -> usize {
        // Characters strictly between two byte offsets (UTF-8 leading bytes), counted only up
        // to window + 1: 4 * (window + 1) bytes or more hold at least that many.
        let limit = window.saturating_add(1);
        if b.saturating_sub(a) >= limit.saturating_mul(4) {
            return limit;
        }
        text.as_bytes()
            .get(a..b)
            .map_or(0, |s| (s.iter().map(|&b| u32::from(b & 0xC0 != 0x80)).sum::<u32>() as usize).min(limit))
    };
    let mut best: Option<((usize, usize), usize)> = None;
    if i > 0 {
        let t = tokens[i - 1];
        let d = if t.1 > start { 0 } else { gap(t.1, start) };
        best = Some((t, d));
    }
    if let Some(&t) = tokens.get(i) {
        let d = gap(end, t.0);
        if best.is_none_or(|(_, bd)| d < bd) {
            best = Some((t, d));
        }
    }
    best.filter(|(_, d)| *d <= window).map(|(t, _)| t)
}

/// Holds the current matcher and lets a reload swap in a rebuilt one; scans in flight keep
/// the matcher they started with.
pub struct SharedMatcher {
    current: RwLock<Arc<Matcher>>,
}

impl SharedMatcher {
    pub fn new(matcher: Arc<Matcher>) -> SharedMatcher {
        SharedMatcher { current: RwLock::new(matcher) }
    }

    /// The current matcher.
    pub fn get(&self) -> Arc<Matcher> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Installs `matcher`; returns the one it replaces.
    pub fn replace(&self, matcher: Arc<Matcher>) -> Arc<Matcher> {
        let mut g = match self.current.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        std::mem::replace(&mut *g, matcher)
    }
}

/// Debug rendering of how a term is compiled (its folded pattern in its view).
pub fn explain_term(term: &str, pinyin: bool) -> String {
    let base: String = fold_term(term).into_iter().collect();
    if pinyin {
        describe_pinyin(&pinyin_view(&base))
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::Term;
    use proptest::prelude::*;

    fn lexicon() -> Lexicon {
        let mut lexicon = Lexicon::new();
        let specs: &[(&str, bool, bool)] = &[
            ("接码", false, false),
            ("微信", true, false),
            ("vx", false, false),
            ("a b", false, false),
            ("qq", true, false),
            ("520", false, true),
            ("五二零", false, true),
            ("10", false, false),
            ("ffi", false, false),
            ("𠀀码", false, false),
            ("号", false, false),
            ("加微", true, false),
            ("ab1", false, true),
        ];
        for &(text, pinyin, numstyle) in specs {
            let mut term = Term::new(text, Category::ContactDiversion);
            term.flags.pinyin = pinyin;
            term.flags.numstyle = numstyle;
            lexicon.add_term(term).unwrap_or_else(|e| panic!("{e}"));
        }
        for allow in ["接码平台", "b 5", "号码"] {
            lexicon.add_allow(allow).unwrap_or_else(|e| panic!("{e}"));
        }
        lexicon
    }

    static LEXICON_MATCHER: LazyLock<Matcher> =
        LazyLock::new(|| Matcher::new(&lexicon(), MatcherOptions::default()).unwrap_or_else(|e| panic!("{e}")));

    fn text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "接",
            "码",
            "碼",
            "微",
            "薇",
            "威",
            "信",
            "v",
            "x",
            "V",
            "ｖ",
            "𝐰",
            "ⓦ",
            "①",
            "⑽",
            "ﬃ",
            "一",
            "五",
            "二",
            "零",
            "⁵",
            "₂",
            "⁹",
            " ",
            "  ",
            "\u{3000}",
            "\u{200b}",
            "❤",
            "\u{0336}",
            "a",
            "b",
            "1",
            "q",
            "Q",
            "号",
            "卡",
            "平台",
            "-",
            "。",
            "İ",
            "\u{1f1fb}",
            "\u{e000}",
            "\t",
            "\n",
            "Ѕ",
            "가",
            "が",
            "𠀀",
            "\u{10ffff}",
            "é",
            "ß",
            "ǅ",
            "\u{fdfa}",
        ]);
        prop_oneof![prop::collection::vec(pieces, 0..48).prop_map(|v| v.concat()), any::<String>()]
    }

    type Found = (Vec<(usize, usize, u32, View)>, Vec<(usize, usize)>, Vec<(usize, usize)>);

    fn found(m: &Matcher, text: &str, reference: bool) -> Found {
        let mut c = Candidates::default();
        if reference {
            m.collect_reference(text, &mut c);
        } else {
            m.collect(text, &mut c);
        }
        let tokens = c.tokens.iter().map(|&(s, last)| (s, char_end(text, last))).collect();
        (c.deny.iter().map(|r| (r.start(), r.last as usize, r.term, r.view)).collect(), c.allow, tokens)
    }

    /// The test lexicon with shorter ID-like tokens.
    static SHORT_ID_MATCHERS: LazyLock<Vec<Matcher>> = LazyLock::new(|| {
        [1, 3]
            .into_iter()
            .map(|id_min_len| {
                let options = MatcherOptions { id_min_len, ..MatcherOptions::default() };
                Matcher::new(&lexicon(), options).unwrap_or_else(|e| panic!("{e}"))
            })
            .collect()
    });

    /// The test lexicon and the built-in one scanned with the double arrays (both are small
    /// enough for full tables, which the other matchers use).
    static DOUBLE_ARRAY_MATCHERS: LazyLock<Vec<Matcher>> = LazyLock::new(|| {
        [lexicon(), Lexicon::builtin()]
            .iter()
            .map(|l| {
                let mut m = Matcher::new(l, MatcherOptions::default()).unwrap_or_else(|e| panic!("{e}"));
                assert!(m.dense.is_some());
                m.dense = None;
                m
            })
            .collect()
    });

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// The specialised scan loop sees exactly what the normaliser emits, and finds the
        /// ID-like tokens the normaliser-based search finds.
        #[test]
        fn collect_agrees_with_the_normaliser(
            s in prop_oneof![
                text(),
                prop::collection::vec(prop::sample::select(vec![
                    "ab", "12", "3", " ", "  ", "-", "二", "五", "①", "⑽", "x", "微", "信", "\n", "é", "！", "Ⅻ",
                    "\u{200b}", "ｑ", "⁹",
                ]), 0..64).prop_map(|v| v.concat())
            ],
        ) {
            let builtin = Matcher::builtin();
            for m in [&*LEXICON_MATCHER, &*builtin]
                .into_iter()
                .chain(SHORT_ID_MATCHERS.iter())
                .chain(DOUBLE_ARRAY_MATCHERS.iter())
            {
                let fast = found(m, &s, false);
                prop_assert_eq!(&fast, &found(m, &s, true));
                prop_assert_eq!(&fast.2, &id_tokens(&s, m.options.id_min_len));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// The nearest token found with the carried-over cursor is one at the smallest
        /// character distance, as a brute-force search over all tokens finds it.
        #[test]
        fn nearest_token_is_the_nearest(
            s in prop::collection::vec(prop::sample::select(vec![
                "ab", "12", "3", " ", "-", "二", "①", "x", "微", "信", "\n", "é", "😀",
            ]), 0..64).prop_map(|v| v.concat()),
            picks in prop::collection::vec((0usize..1000, 1usize..6), 1..6),
            window in 0usize..12,
        ) {
            let bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
            let mut spans: Vec<(usize, usize)> = picks
                .iter()
                .map(|&(a, n)| {
                    let a = a % bounds.len();
                    (bounds[a], bounds[(a + n).min(bounds.len() - 1)])
                })
                .filter(|(a, b)| a < b)
                .collect();
            // Mostly by increasing end, like the scan's candidates, with one out of order.
            spans.sort_by_key(|sp| sp.1);
            if spans.len() > 2 {
                spans.swap(0, 2);
            }
            let tokens = id_tokens(&s, 2);
            let chars = |a: usize, b: usize| s.get(a..b).map_or(0, |x| x.chars().count());
            let mut cursor = 0;
            for &(start, end) in &spans {
                let (s32, e32) = (start as u32, end as u32);
                let r = Raw { start: s32, last: s32, end: e32, term: 0, view: View::Base, id_token: None };
                let got = nearest_token(&s, &tokens, &mut cursor, &r, window);
                let dist = |t: (usize, usize)| {
                    if t.1 > start && t.0 < end { 0 } else if t.1 <= start { chars(t.1, start) } else { chars(end, t.0) }
                };
                let best = tokens.iter().map(|&t| dist(t)).min().filter(|&d| d <= window);
                prop_assert_eq!(got.map(dist), best);
            }
        }
    }

    #[test]
    fn every_view_finds_its_terms() {
        let m = &*LEXICON_MATCHER;
        let (deny, allow, _) = found(m, "加薇信 ⑤②⓪ v x a b ⑽ ﬃ 𠀀碼 接码平台", false);
        let views: Vec<View> = deny.iter().map(|d| d.3).collect();
        assert!(views.contains(&View::Pinyin) && views.contains(&View::Numeric) && views.contains(&View::Base));
        assert_eq!(allow.len(), 1);
        let (deny_ref, allow_ref, _) = found(m, "加薇信 ⑤②⓪ v x a b ⑽ ﬃ 𠀀碼 接码平台", true);
        assert_eq!((deny, allow), (deny_ref, allow_ref));
    }
}
