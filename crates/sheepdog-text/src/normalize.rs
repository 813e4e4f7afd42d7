//! The normaliser: walks a text once and emits its folded characters, each tied to the original
//! character it came from, applying the noise and whitespace rules of the fixed semantics.
//!
//! The matcher feeds the emitted characters straight into its automata (no normalised copy of
//! the text is built); [`normalize`] collects them for tests, tools and the fuzz target.

use crate::fold::{Folded, TABLES};

/// One emitted (normalised) character.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Emit {
    /// The folded character (base view).
    pub c: char,
    /// Its digit under the opt-in number-style folding, if it is a numeral (read by the
    /// matcher's test references; the scan loop has it in its code table).
    #[cfg_attr(not(test), allow(dead_code))]
    pub digit: Option<u8>,
    /// Byte offset in the original text of the character it came from.
    pub orig_byte: u32,
}

/// Receives the normalised characters of a walk. A trait rather than a closure so the matcher's
/// per-character work can be forced inline into the walk loop.
pub(crate) trait Sink {
    fn emit(&mut self, e: Emit);
}

impl<F: FnMut(Emit)> Sink for F {
    #[inline(always)]
    fn emit(&mut self, e: Emit) {
        self(e)
    }
}

/// Walks `text` and calls `emit` for every normalised character, in order.
///
/// Whitespace is emitted as one `' '` for a run, except between two non-ASCII characters
/// (ignoring noise around it), where it is dropped: `微 信` reads `微信`, `a ss` stays `a ss`.
/// Leading and trailing whitespace is dropped.
#[inline(always)]
pub(crate) fn walk(text: &str, mut emit: impl Sink) {
    let tables = &*TABLES;
    // Offset of the first whitespace character seen since the last significant character.
    let mut pending_space: Option<u32> = None;
    // Whether the last significant original character was non-ASCII; None before the first.
    let mut prev_non_ascii: Option<bool> = None;
    for (byte, ch) in text.char_indices() {
        let byte = byte as u32;
        // Fast path: one folded character (letters, digits, Chinese), the bulk of any text.
        if let Some((c, digit)) = tables.fold_single(ch) {
            let non_ascii = !ch.is_ascii();
            if let Some(space_at) = pending_space.take() {
                flush_space(space_at, prev_non_ascii, non_ascii, &mut emit);
            }
            prev_non_ascii = Some(non_ascii);
            emit.emit(Emit { c, digit: (digit != u8::MAX).then_some(digit), orig_byte: byte });
            continue;
        }
        match tables.fold(ch) {
            Folded::Noise => {}
            Folded::Space => {
                if pending_space.is_none() {
                    pending_space = Some(byte);
                }
            }
            Folded::Char { c, digit } => {
                let non_ascii = !ch.is_ascii();
                if let Some(space_at) = pending_space.take() {
                    flush_space(space_at, prev_non_ascii, non_ascii, &mut emit);
                }
                prev_non_ascii = Some(non_ascii);
                emit.emit(Emit { c, digit, orig_byte: byte });
            }
            Folded::Expansion(chars) => {
                if let Some(space_at) = pending_space.take() {
                    flush_space(space_at, prev_non_ascii, true, &mut emit);
                }
                prev_non_ascii = Some(true);
                for &c in chars {
                    emit.emit(Emit { c, digit: None, orig_byte: byte });
                }
            }
        }
    }
}

/// Emits the pending whitespace run as one space unless it sits between two non-ASCII
/// characters (or at the start of the text).
#[inline(always)]
fn flush_space(space_at: u32, prev_non_ascii: Option<bool>, non_ascii: bool, emit: &mut impl Sink) {
    if let Some(prev) = prev_non_ascii {
        if !(prev && non_ascii) {
            emit.emit(Emit { c: ' ', digit: None, orig_byte: space_at });
        }
    }
}

/// A text's normalised (base) view, with each normalised character's origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Normalized {
    /// The folded text the automata see (without the opt-in number-style and pinyin folding).
    pub text: String,
    /// For each character of `text`, the char offset of the original character it came from.
    /// Non-decreasing; several entries share an offset when one character expands (`⑽` → `10`).
    pub origins: Vec<usize>,
}

/// Normalises `text` the way the matcher sees it (base view).
///
/// ```
/// let n = sheepdog_text::normalize("加 V 信，𝐰𝐱 ①②");
/// assert_eq!(n.text, "加 v 信wx12");
/// ```
pub fn normalize(text: &str) -> Normalized {
    let mut out = Normalized { text: String::with_capacity(text.len()), origins: Vec::with_capacity(text.len()) };
    // Convert byte offsets to char offsets incrementally: origins are non-decreasing.
    let mut char_idx = 0usize;
    let mut byte_pos = 0usize;
    walk(text, |e: Emit| {
        let target = e.orig_byte as usize;
        if target > byte_pos {
            char_idx += text.get(byte_pos..target).map_or(0, |s| s.chars().count());
            byte_pos = target;
        }
        out.text.push(e.c);
        out.origins.push(char_idx);
    });
    out
}

/// The pinyin view of a normalised text: every Chinese character with a reading replaced by a
/// token for its toneless syllable, so that same-sounding characters compare equal.
pub(crate) fn pinyin_view(normalized: &str) -> String {
    let tables = &*TABLES;
    normalized.chars().map(|c| tables.pinyin_of(c)).collect()
}

/// Renders a pinyin-view string readably (`{wei}{xin}`), for error messages and debugging.
pub(crate) fn describe_pinyin(view: &str) -> String {
    let tables = &*TABLES;
    let mut s = String::new();
    for c in view.chars() {
        match tables.syllable(c) {
            Some(syl) => {
                s.push('{');
                s.push_str(syl);
                s.push('}');
            }
            None => s.push(c),
        }
    }
    s
}
