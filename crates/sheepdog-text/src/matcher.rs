//! The matcher: the lexicon compiled into automata over the normalised views, and `scan`, which
//! applies the fixed semantics (leftmost-longest, ASCII word boundaries, allow-list,
//! co-occurrence with ID-like tokens) and reports spans in the original text.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use daachorse::charwise::iter::FindOverlappingStepper;
use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};

use crate::fold::{Tables, TABLES};
use crate::lexicon::{Category, Lexicon, MAX_TERM_CHARS};
use crate::normalize::{describe_pinyin, pinyin_view, walk, Emit, Sink};

/// Look-back window of normalised characters: the origins of the last `RING` characters are
/// kept, which is enough to place any term (at most `MAX_TERM_CHARS` long).
const RING: usize = 64;
const _: () = assert!(RING >= MAX_TERM_CHARS && RING.is_power_of_two());

type Automaton = CharwiseDoubleArrayAhoCorasick<u32>;

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

/// One reported match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// The lexicon term as written.
    pub term: Arc<str>,
    pub category: Category,
    pub weight: u8,
    /// Char offset of the first original character of the match.
    pub start: usize,
    /// Char offset just past the last original character of the match.
    pub end: usize,
    /// The original text of `start..end`.
    pub matched: String,
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
    base: Option<Automaton>,
    pinyin: Option<Automaton>,
    numeric: Option<Automaton>,
    patterns: Vec<PatternInfo>,
    terms: Vec<TermInfo>,
    options: MatcherOptions,
    pinyin_terms: usize,
    numeric_terms: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum View {
    Base = 0,
    Numeric = 1,
    Pinyin = 2,
}

/// A deny candidate before selection; offsets in original bytes.
#[derive(Clone, Copy)]
struct Raw {
    start: usize,
    /// Byte offset of the original character the match's last normalised character came from.
    last: usize,
    end: usize,
    term: u32,
    view: View,
    id_token: Option<(usize, usize)>,
}

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
            base: None,
            pinyin: None,
            numeric: None,
            patterns: Vec::new(),
            terms: Vec::new(),
            options: MatcherOptions::default(),
            pinyin_terms: 0,
            numeric_terms: 0,
        }
    }

    /// Compiles a lexicon. Terms are folded like text; when two deny terms fold to the same
    /// pattern in the same view, the later one wins (so a file added later can override the
    /// built-in category or weight of a term).
    pub fn new(lexicon: &Lexicon, options: MatcherOptions) -> Result<Matcher, BuildError> {
        let mut terms: Vec<TermInfo> = Vec::with_capacity(lexicon.terms().len());
        let mut table = PatternTable::default();
        let (mut pinyin_terms, mut numeric_terms) = (0, 0);
        for term in lexicon.terms() {
            let folded = fold_term(&term.text);
            let (Some(&first), Some(&last)) = (folded.first(), folded.last()) else {
                continue;
            };
            if folded.len() > MAX_TERM_CHARS {
                continue;
            }
            let base: String = folded.iter().collect();
            let (view, pattern) = if term.flags.pinyin {
                pinyin_terms += 1;
                (View::Pinyin, pinyin_view(&base))
            } else if term.flags.numstyle {
                numeric_terms += 1;
                (View::Numeric, base)
            } else {
                (View::Base, base)
            };
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
            let idx = table.intern(View::Base, folded.iter().collect(), folded.len());
            table.patterns[idx].allow = true;
        }
        let build = |view: View, name: &'static str| -> Result<Option<Automaton>, BuildError> {
            let patvals: Vec<(&str, u32)> = table
                .order
                .iter()
                .enumerate()
                .filter(|(_, (v, _))| *v == view)
                .map(|(i, (_, p))| (p.as_str(), i as u32))
                .collect();
            if patvals.is_empty() {
                return Ok(None);
            }
            CharwiseDoubleArrayAhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build_with_values(patvals)
                .map(Some)
                .map_err(|e| BuildError::Automaton { view: name, message: e.to_string() })
        };
        Ok(Matcher {
            base: build(View::Base, "base")?,
            pinyin: build(View::Pinyin, "pinyin")?,
            numeric: build(View::Numeric, "number-style")?,
            patterns: table.patterns,
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
            .sum();
        let terms: usize = self.terms.iter().map(|t| std::mem::size_of::<TermInfo>() + t.term.len() + 16).sum();
        automata + terms + self.patterns.len() * std::mem::size_of::<PatternInfo>()
    }

    /// A one-line description of how many terms each view holds, for logs.
    pub fn describe(&self) -> String {
        format!(
            "{} deny terms ({} pinyin, {} number-style), {} patterns",
            self.terms.len(),
            self.pinyin_terms,
            self.numeric_terms,
            self.patterns.len()
        )
    }

    /// Scans one text. Matches are non-overlapping, leftmost-longest, sorted by `start`; spans
    /// are char offsets into `text`.
    ///
    /// Time is linear in the text (times the lexicon's nesting depth of terms that are
    /// suffixes of each other, at most 64 per view); memory is that of the matches plus the
    /// candidates, bounded the same way.
    pub fn scan(&self, text: &str) -> Vec<Match> {
        let mut deny: Vec<Raw> = Vec::new();
        let mut allow: Vec<(usize, usize)> = Vec::new();
        self.collect(text, &mut deny, &mut allow);
        if deny.is_empty() {
            return Vec::new();
        }
        self.select(text, deny, allow)
    }

    /// Feeds the normalised views of `text` to the automata; collects every deny and allow
    /// occurrence (overlapping), with original byte offsets.
    fn collect(&self, text: &str, deny: &mut Vec<Raw>, allow: &mut Vec<(usize, usize)>) {
        let mut sink = CollectSink {
            tables: &TABLES,
            ring: [0usize; RING],
            npos: 0,
            base: self.base.as_ref().map(|a| a.find_overlapping_stepper()),
            pinyin: self.pinyin.as_ref().map(|a| a.find_overlapping_stepper()),
            numeric: self.numeric.as_ref().map(|a| a.find_overlapping_stepper()),
            patterns: &self.patterns,
            deny,
            allow,
        };
        walk(text, &mut sink);
    }

    fn select(&self, text: &str, mut deny: Vec<Raw>, allow: Vec<(usize, usize)>) -> Vec<Match> {
        for r in deny.iter_mut() {
            r.end = char_end(text, r.last);
        }
        // ASCII word boundaries, judged on the original neighbours.
        deny.retain(|r| {
            let Some(t) = self.terms.get(r.term as usize) else {
                return false;
            };
            let before_ok = !t.ascii_letter_start
                || !text.get(..r.start).and_then(|s| s.chars().next_back()).is_some_and(|c| c.is_ascii_alphabetic());
            let after_ok = !t.ascii_letter_end
                || !text.get(r.end..).and_then(|s| s.chars().next()).is_some_and(|c| c.is_ascii_alphabetic());
            before_ok && after_ok
        });
        // Co-occurrence: some terms fire only near an ID-like token.
        let needs_id = |r: &Raw| self.terms.get(r.term as usize).is_some_and(|t| t.needs_id);
        if deny.iter().any(needs_id) {
            let tokens = id_tokens(text, self.options.id_min_len);
            for r in deny.iter_mut() {
                if needs_id(r) {
                    r.id_token = nearest_token(text, &tokens, r, self.options.id_window);
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
            if r.start >= covered_to {
                covered_to = r.end;
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
            while a < allow.len() && allow[a].0 <= r.start {
                furthest = furthest.max(allow[a].1);
                a += 1;
            }
            furthest < r.end
        });
        // Byte offsets to char offsets, in one forward pass (matches are sorted by start).
        let mut out = Vec::with_capacity(chosen.len());
        let mut counter = CharCounter::new(text);
        for r in chosen {
            let Some(t) = self.terms.get(r.term as usize) else {
                continue;
            };
            let start = counter.char_at(r.start);
            let end = start + text.get(r.start..r.end).map_or(0, |s| s.chars().count());
            let id_token = r.id_token.map(|(s, e)| {
                let s_chars = counter.char_at(s);
                Span { start: s_chars, end: s_chars + text.get(s..e).map_or(0, |x| x.chars().count()) }
            });
            out.push(Match {
                term: t.term.clone(),
                category: t.category,
                weight: t.weight,
                start,
                end,
                matched: text.get(r.start..r.end).unwrap_or_default().to_owned(),
                id_token,
            });
        }
        out
    }
}

/// The matcher's per-character work: step every automaton in use, record what ends here.
struct CollectSink<'a, 'o> {
    tables: &'a Tables,
    /// Original byte offsets of the last `RING` normalised characters.
    ring: [usize; RING],
    npos: usize,
    base: Option<FindOverlappingStepper<'a, u32>>,
    pinyin: Option<FindOverlappingStepper<'a, u32>>,
    numeric: Option<FindOverlappingStepper<'a, u32>>,
    patterns: &'a [PatternInfo],
    deny: &'o mut Vec<Raw>,
    allow: &'o mut Vec<(usize, usize)>,
}

impl CollectSink<'_, '_> {
    #[cold]
    fn record(&mut self, value: u32, view: View) {
        let Some(p) = self.patterns.get(value as usize) else {
            return;
        };
        let start_pos = (self.npos + 1).saturating_sub(p.len as usize);
        let start = self.ring[start_pos & (RING - 1)];
        let last = self.ring[self.npos & (RING - 1)];
        if p.allow && view == View::Base {
            self.allow.push((start, last));
        }
        if let Some(term) = p.deny {
            self.deny.push(Raw { start, last, end: last, term, view, id_token: None });
        }
    }
}

impl Sink for &mut CollectSink<'_, '_> {
    #[inline(always)]
    fn emit(&mut self, e: Emit) {
        self.ring[self.npos & (RING - 1)] = e.orig_byte as usize;
        if let Some(st) = self.base.as_mut() {
            st.consume(e.c);
            let mut found = st.matches();
            if let Some(first) = found.next() {
                self.record(first.value(), View::Base);
                for m in found {
                    self.record(m.value(), View::Base);
                }
            }
        }
        if let Some(st) = self.pinyin.as_mut() {
            st.consume(self.tables.pinyin_of(e.c));
            let mut found = st.matches();
            if let Some(first) = found.next() {
                self.record(first.value(), View::Pinyin);
                for m in found {
                    self.record(m.value(), View::Pinyin);
                }
            }
        }
        if let Some(st) = self.numeric.as_mut() {
            let c = match e.digit {
                Some(d) => char::from(b'0' + d),
                None => e.c,
            };
            st.consume(c);
            let mut found = st.matches();
            if let Some(first) = found.next() {
                self.record(first.value(), View::Numeric);
                for m in found {
                    self.record(m.value(), View::Numeric);
                }
            }
        }
        self.npos += 1;
    }
}

#[derive(Default)]
struct PatternTable {
    keys: HashMap<(View, String), usize>,
    patterns: Vec<PatternInfo>,
    order: Vec<(View, String)>,
}

impl PatternTable {
    fn intern(&mut self, view: View, pattern: String, len: usize) -> usize {
        if let Some(&i) = self.keys.get(&(view, pattern.clone())) {
            return i;
        }
        let i = self.patterns.len();
        self.patterns.push(PatternInfo { deny: None, allow: false, len: len as u32 });
        self.keys.insert((view, pattern.clone()), i);
        self.order.push((view, pattern));
        i
    }
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

/// ID-like tokens of `text` as original byte ranges: maximal runs of at least `min_len` folded
/// ASCII letters/digits (numerals and super/subscripts count as digits) with at least one digit.
/// Noise inside a run is skipped like inside a term (`ab-12-34` is one token), whitespace
/// between ASCII characters ends it.
pub(crate) fn id_tokens(text: &str, min_len: usize) -> Vec<(usize, usize)> {
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
fn nearest_token(text: &str, tokens: &[(usize, usize)], r: &Raw, window: usize) -> Option<(usize, usize)> {
    // Tokens are sorted and disjoint: the candidates are the last one starting before the
    // match ends and the first one starting at or after that.
    let i = tokens.partition_point(|t| t.0 < r.end);
    let gap = |a: usize, b: usize| -> usize {
        // Characters strictly between two byte offsets, counted only up to window + 1.
        text.get(a..b).map_or(0, |s| s.chars().take(window.saturating_add(1)).count())
    };
    let mut best: Option<((usize, usize), usize)> = None;
    if i > 0 {
        let t = tokens[i - 1];
        let d = if t.1 > r.start { 0 } else { gap(t.1, r.start) };
        best = Some((t, d));
    }
    if let Some(&t) = tokens.get(i) {
        let d = gap(r.end, t.0);
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
