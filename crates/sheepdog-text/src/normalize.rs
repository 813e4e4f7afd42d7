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
    /// Its digit under the opt-in number-style folding, if it is a numeral.
    pub digit: Option<u8>,
    /// Byte offset in the original text of the character it came from.
    pub orig_byte: u32,
}

/// Walks `text` and calls `emit` for every normalised character, in order.
///
/// Whitespace is emitted as one `' '` for a run, except between two non-ASCII characters
/// (ignoring noise around it), where it is dropped: `微 信` reads `微信`, `a ss` stays `a ss`.
/// Leading and trailing whitespace is dropped.
#[inline]
pub(crate) fn walk(text: &str, mut emit: impl FnMut(Emit)) {
    let tables = &*TABLES;
    // Offset of the first whitespace character seen since the last significant character.
    let mut pending_space: Option<u32> = None;
    // Whether the last significant original character was non-ASCII; None before the first.
    let mut prev_non_ascii: Option<bool> = None;
    for (byte, ch) in text.char_indices() {
        let byte = byte as u32;
        let folded = tables.fold(ch);
        match folded {
            Folded::Noise => continue,
            Folded::Space => {
                if pending_space.is_none() {
                    pending_space = Some(byte);
                }
                continue;
            }
            Folded::Char { .. } | Folded::Expansion(_) => {}
        }
        let non_ascii = !ch.is_ascii();
        if let (Some(space_at), Some(prev)) = (pending_space, prev_non_ascii) {
            if !(prev && non_ascii) {
                emit(Emit {
                    c: ' ',
                    digit: None,
                    orig_byte: space_at,
                });
            }
        }
        pending_space = None;
        prev_non_ascii = Some(non_ascii);
        match folded {
            Folded::Char { c, digit } => emit(Emit {
                c,
                digit,
                orig_byte: byte,
            }),
            Folded::Expansion(chars) => {
                for &c in chars {
                    emit(Emit {
                        c,
                        digit: None,
                        orig_byte: byte,
                    });
                }
            }
            Folded::Noise | Folded::Space => {}
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
    let mut out = Normalized {
        text: String::with_capacity(text.len()),
        origins: Vec::with_capacity(text.len()),
    };
    // Convert byte offsets to char offsets incrementally: origins are non-decreasing.
    let mut char_idx = 0usize;
    let mut byte_pos = 0usize;
    walk(text, |e| {
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
