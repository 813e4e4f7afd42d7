//! Content audit that sees through evasion: finds black-market ads (code receiving, account
//! trade), contact diversion and scam scripts in posts, messages, nicknames and bios.
//!
//! Pure: no I/O, no clock, no environment, no async.
//!
//! # Use
//!
//! ```
//! use sheepdog_text::{summarize, Category, Matcher};
//!
//! let matcher = Matcher::builtin(); // Arc<Matcher>, built once per process
//! let matches = matcher.scan("专业接碼，出售老号带圈，加薇信 ab1234 私聊");
//! let found: Vec<(&str, &str)> =
//!     matches.iter().map(|m| (m.matched, m.category.name())).collect();
//! assert_eq!(
//!     found,
//!     [
//!         ("接碼", "code_receiving"),
//!         ("出售老号", "account_trade"),
//!         ("带圈", "account_trade"),
//!         ("加薇信", "contact_diversion"), // a disguise that fires on its own
//!         ("私聊", "contact_diversion"),   // fires because an ID-like token is near
//!     ]
//! );
//! assert_eq!(matches[0].matched, "接碼"); // the original text, traditional 碼 and all
//! assert_eq!((matches[0].start, matches[0].end), (2, 4)); // char offsets, end exclusive
//!
//! let summary = summarize(&matches);
//! assert_eq!(summary[0].category, Category::CodeReceiving);
//! ```
//!
//! The engine calls [`Matcher::scan`] on `content` events and on profile nickname/bio, and
//! turns [`summarize`]'s per-category result into reason codes (`text.code_receiving`,
//! `text.account_trade`, `text.contact_diversion`, `text.scam_script` for both scam
//! categories, `text.gambling`) with the matched terms in the message. A custom lexicon is
//! a [`Lexicon`] built from TSV files ([`Lexicon::add_tsv`], [`Lexicon::add_allow_list`]) and
//! compiled with [`Matcher::new`]; [`SharedMatcher`] swaps a rebuilt matcher in on reload.
//!
//! # Semantics
//!
//! - Matching runs on a normalised view; spans are reported in the **original** text as char
//!   (Unicode scalar) offsets, end exclusive, with the original substring.
//! - Always folded: case; full/half width; mathematical alphanumerics, enclosed and circled
//!   letters and digits (`𝐰`, `ⓦ`, `⑴`, `①`, `🅦`, `🇼`) and other compatibility forms (NFKD);
//!   accents on Latin/Greek/Cyrillic letters; traditional → simplified Chinese (OpenCC's
//!   character table); Latin look-alikes from Cyrillic, Greek, IPA and small capitals.
//! - Opt-in per term: `numstyle` (the term's digits also match `一/壹/幺/〇/⁹/₉` …) and `pinyin`
//!   (Chinese characters match any character with the same toneless pinyin: a `微信` entry
//!   matches `薇信`, `威信`).
//! - Noise between a term's characters is skipped: punctuation, symbols, emoji, zero-width and
//!   other format characters, combining marks; whitespace only between two non-ASCII
//!   characters (`微 信` matches `微信`, `a ss` does not match `ass`).
//! - Matches are non-overlapping, leftmost-longest.
//! - A term whose first (last) folded character is an ASCII letter matches only where the
//!   original character before (after) the match is not an ASCII letter (`sex` is not found
//!   in `Middlesex`, `av` is found in `1av2`).
//! - Allow-list: a deny match is dropped when one allow-term match covers its whole span
//!   (`地铁口交易` allowed drops `口交` inside it; allow `你` does not drop `操你妈`).
//! - Co-occurrence: `contact_diversion` terms (unless flagged `standalone`), and terms flagged
//!   `near_id`, fire only within [`MatcherOptions::id_window`] characters of an ID-like token:
//!   a run of 5+ letters/digits with at least one digit, folded the same way (digits written
//!   `①`, `二`, `⁹` count). `微信支付可以吗` is honest; `薇信 ab1234 私聊` is not.
//!
//! # Lexicon format
//!
//! TSV, one term per line: `term<TAB>category[<TAB>weight[<TAB>flags]]`; `#` starts a comment
//! line. Categories: `code_receiving`, `account_trade`, `contact_diversion`, `scam_invest`,
//! `scam_romance`, `gambling`. Weight 1–100 (default per category). Flags, comma-separated:
//! `pinyin`, `numstyle`, `standalone`, `near_id`. Allow-list: one term per line, `#` comments.
//!
//! # Cost
//!
//! One pass over the text, no normalised copy: ASCII is folded by a flat table without
//! decoding, other characters by one look-up in the matcher's two-level code table, which gives
//! each view's automaton (our own double-array Aho–Corasick over dense per-view character
//! numbers, see `src/automaton.rs`) its input; a view whose alphabet lacks the character is
//! reset without a step, and a character that starts no pattern is skipped while every
//! automaton is at its root. ID-like tokens are collected by the same pass (only when the lexicon
//! has co-occurrence terms). Memory per scan is the matches, the candidate occurrences and the
//! ID-like tokens. The folding tables (about 0.6 MB)
//! are computed once per process; the scan itself reads them only for rare characters.

mod automaton;
mod codes;
mod fold;
mod lexicon;
mod matcher;
mod normalize;

pub use lexicon::{Category, Lexicon, LexiconError, LineError, LineErrorKind, Term, TermFlags, MAX_TERM_CHARS};
pub use matcher::{explain_term, BuildError, Match, Matcher, MatcherOptions, SharedMatcher, Span};
pub use normalize::{normalize, Normalized};

use std::sync::Arc;

/// What one category amounts to in a scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategorySummary {
    pub category: Category,
    /// Number of matches.
    pub count: usize,
    /// Sum of the matches' weights, capped at 100.
    pub weight: u8,
    /// The distinct terms that matched, in order of first match.
    pub terms: Vec<Arc<str>>,
}

/// Groups matches by category, in [`Category::ALL`] order; categories without a match are
/// left out.
pub fn summarize(matches: &[Match<'_>]) -> Vec<CategorySummary> {
    let mut out: Vec<CategorySummary> = Vec::new();
    for category in Category::ALL {
        let mut summary = CategorySummary { category, count: 0, weight: 0, terms: Vec::new() };
        let mut weight = 0u32;
        for m in matches.iter().filter(|m| m.category == category) {
            summary.count += 1;
            weight += u32::from(m.weight);
            if !summary.terms.contains(&m.term) {
                summary.terms.push(m.term.clone());
            }
        }
        if summary.count > 0 {
            summary.weight = weight.min(100) as u8;
            out.push(summary);
        }
    }
    out
}

/// Bytes of the process-wide folding tables and code-table template (computed on first use).
pub fn folding_table_bytes() -> usize {
    fold::TABLES.heap_bytes() + codes::template_bytes()
}
