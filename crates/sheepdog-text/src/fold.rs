//! The per-character folding tables: what every character of a text (and of a term) becomes
//! before matching.
//!
//! Folding is one character at a time, never across characters, so every normalised character
//! points back to exactly one original character and spans stay exact. The tables are computed
//! once per process from Unicode compatibility decomposition (NFKD), a curated homoglyph list,
//! OpenCC's traditional→simplified character table and the `pinyin` crate, then only looked up.

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::char::decompose_compatible;

/// Characters below this have a precomputed entry; above it (CJK extensions B–F and the rarely
/// used planes) letters and digits are kept and everything else is noise.
const TABLE_LIMIT: u32 = 0x2_0000;

const KIND_SHIFT: u32 = 21;
const KIND_MASK: u32 = 0b11;
const VALUE_MASK: u32 = (1 << KIND_SHIFT) - 1;
const DIGIT_SHIFT: u32 = 24;

const KIND_SINGLE: u32 = 0;
const KIND_NOISE: u32 = 1;
const KIND_SPACE: u32 = 2;
const KIND_EXPANSION: u32 = 3;

/// Longest expansion kept (`⑽` → `10`, `ﬃ` → `ffi`); longer compatibility decompositions
/// (`ﷺ`) keep the original character instead.
const MAX_EXPANSION: usize = 4;

/// First private-use code point standing for a toneless pinyin syllable in the pinyin view.
/// Private-use characters of the text are noise, so a syllable token never collides with one.
const PINYIN_TOKEN_BASE: u32 = 0xE000;
const PINYIN_FIRST: u32 = 0x3400;
const PINYIN_LAST: u32 = 0x9FFF;

/// What one original character becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Folded<'a> {
    /// One normalised character; `digit` is its value under the opt-in number-style folding.
    Char { c: char, digit: Option<u8> },
    /// Several normalised characters (`⑽` → `10`).
    Expansion(&'a [char]),
    /// Skipped between a term's characters: punctuation, symbols, emoji, format characters.
    Noise,
    /// Whitespace: skipped only between two non-ASCII characters.
    Space,
}

pub(crate) struct Tables {
    entries: Box<[u32]>,
    expansions: Vec<Vec<char>>,
    t2s: HashMap<char, char>,
    pinyin: Box<[u16]>,
    /// Distinct toneless syllables, indexed by pinyin id - 1.
    syllables: Vec<&'static str>,
}

pub(crate) static TABLES: LazyLock<Tables> = LazyLock::new(Tables::build);

impl Tables {
    /// The fast path: a character that folds to exactly one character, with its number-style
    /// digit (`u8::MAX` for none). Everything else goes through [`Tables::fold`].
    #[inline(always)]
    pub(crate) fn fold_single(&self, c: char) -> Option<(char, u8)> {
        let e = *self.entries.get(c as usize)?;
        if (e >> KIND_SHIFT) & KIND_MASK != KIND_SINGLE {
            return None;
        }
        let folded = char::from_u32(e & VALUE_MASK)?;
        Some((folded, ((e >> DIGIT_SHIFT) as u8).wrapping_sub(1)))
    }

    #[cold]
    pub(crate) fn fold(&self, c: char) -> Folded<'_> {
        let code = c as u32;
        if code < TABLE_LIMIT {
            let e = self.entries[code as usize];
            match (e >> KIND_SHIFT) & KIND_MASK {
                KIND_SINGLE => Folded::Char {
                    c: char::from_u32(e & VALUE_MASK).unwrap_or(c),
                    digit: match e >> DIGIT_SHIFT {
                        0 => None,
                        d => Some((d - 1) as u8),
                    },
                },
                KIND_NOISE => Folded::Noise,
                KIND_SPACE => Folded::Space,
                _ => match self.expansions.get((e & VALUE_MASK) as usize) {
                    Some(x) => Folded::Expansion(x),
                    None => Folded::Noise,
                },
            }
        } else if c.is_alphanumeric() {
            Folded::Char { c: self.t2s.get(&c).copied().unwrap_or(c), digit: None }
        } else {
            Folded::Noise
        }
    }

    /// The pinyin-view character of an already folded character: a syllable token for a Chinese
    /// character with a reading, the character itself otherwise.
    #[inline]
    pub(crate) fn pinyin_of(&self, c: char) -> char {
        let code = c as u32;
        if (PINYIN_FIRST..=PINYIN_LAST).contains(&code) {
            let id = self.pinyin[(code - PINYIN_FIRST) as usize];
            if id != 0 {
                return char::from_u32(PINYIN_TOKEN_BASE + u32::from(id)).unwrap_or(c);
            }
        }
        c
    }

    /// The toneless syllable a pinyin token stands for (for diagnostics).
    pub(crate) fn syllable(&self, token: char) -> Option<&'static str> {
        let id = (token as u32).checked_sub(PINYIN_TOKEN_BASE)?;
        self.syllables.get((id as usize).checked_sub(1)?).copied()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.entries.len() * 4
            + self.expansions.iter().map(|x| 24 + x.len() * 4).sum::<usize>()
            + self.t2s.capacity() * 9
            + self.pinyin.len() * 2
            + self.syllables.len() * 16
    }

    fn build() -> Tables {
        let t2s = parse_t2s(include_str!("../data/t2s.tsv"));
        let homoglyphs: HashMap<char, char> = HOMOGLYPHS.iter().copied().collect();
        let mut expansions: Vec<Vec<char>> = Vec::new();
        let mut entries = vec![0u32; TABLE_LIMIT as usize].into_boxed_slice();
        let mut decomposed: Vec<char> = Vec::with_capacity(8);
        let mut out: Vec<char> = Vec::with_capacity(8);
        for code in 0..TABLE_LIMIT {
            let Some(c) = char::from_u32(code) else {
                entries[code as usize] = KIND_NOISE << KIND_SHIFT;
                continue;
            };
            out.clear();
            let kind = classify(c, &homoglyphs, &t2s, &mut decomposed, &mut out);
            entries[code as usize] = match kind {
                Class::Noise => KIND_NOISE << KIND_SHIFT,
                Class::Space => KIND_SPACE << KIND_SHIFT,
                Class::Chars => match out.as_slice() {
                    [] => KIND_NOISE << KIND_SHIFT,
                    [one] => {
                        let digit = numeral(*one).map_or(0, |d| u32::from(d) + 1);
                        (KIND_SINGLE << KIND_SHIFT) | (*one as u32) | (digit << DIGIT_SHIFT)
                    }
                    many => {
                        let idx = expansions.len() as u32;
                        expansions.push(many.to_vec());
                        (KIND_EXPANSION << KIND_SHIFT) | idx
                    }
                },
            };
        }
        let (pinyin, syllables) = pinyin_table();
        Tables { entries, expansions, t2s, pinyin, syllables }
    }
}

enum Class {
    Noise,
    Space,
    Chars,
}

fn classify(
    c: char,
    homoglyphs: &HashMap<char, char>,
    t2s: &HashMap<char, char>,
    decomposed: &mut Vec<char>,
    out: &mut Vec<char>,
) -> Class {
    if c.is_whitespace() {
        return Class::Space;
    }
    let code = c as u32;
    if let Some(letter) = extra_enclosed_letter(code) {
        out.push(letter);
        return Class::Chars;
    }
    let enclosed = (0x2460..=0x24FF).contains(&code) || (0x1F100..=0x1F1FF).contains(&code);
    if !c.is_alphanumeric() && !enclosed {
        // Punctuation, symbols (emoji among them), marks, format and control characters.
        return Class::Noise;
    }
    decomposed.clear();
    if keeps_own_form(code) {
        decomposed.push(c);
    } else {
        decompose_compatible(c, |d| decomposed.push(d));
        // Marks dropped from a Latin, Greek or Cyrillic base fold accents away (`é` → `e`);
        // anywhere else (kana voicing marks, Indic signs) they change the letter, so keep it whole.
        let has_mark = decomposed.iter().any(|&d| is_combining_mark(d));
        if has_mark && decomposed.first().is_none_or(|&b| (b as u32) >= 0x0530) {
            decomposed.clear();
            decomposed.push(c);
        }
    }
    for &d in decomposed.iter() {
        if !d.is_alphanumeric() {
            continue;
        }
        let d = homoglyphs.get(&d).copied().unwrap_or(d);
        for l in d.to_lowercase() {
            if !l.is_alphanumeric() {
                continue;
            }
            let l = homoglyphs.get(&l).copied().unwrap_or(l);
            out.push(t2s.get(&l).copied().unwrap_or(l));
        }
    }
    if out.len() > MAX_EXPANSION {
        out.clear();
        out.push(c);
    }
    if out.is_empty() {
        Class::Noise
    } else {
        Class::Chars
    }
}

/// Characters whose compatibility decomposition would hurt matching: Hangul syllables (would
/// split into jamo), kana (would lose voicing) and the super/subscript digits, which the issue
/// puts under the opt-in number styles.
fn keeps_own_form(code: u32) -> bool {
    (0xAC00..=0xD7AF).contains(&code)
        || (0x3040..=0x30FF).contains(&code)
        || matches!(code, 0x00B2 | 0x00B3 | 0x00B9 | 0x2070..=0x2079 | 0x2080..=0x2089)
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0900..=0x0903 | 0x093A..=0x094F
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0x3099..=0x309A | 0xFE20..=0xFE2F)
}

/// Enclosed letters that have no compatibility decomposition: negative circled (🅐), negative
/// squared (🅰) and the regional indicators (🇼), all used to spell words in ads.
fn extra_enclosed_letter(code: u32) -> Option<char> {
    let base = match code {
        0x1F150..=0x1F169 => 0x1F150,
        0x1F170..=0x1F189 => 0x1F170,
        0x1F1E6..=0x1F1FF => 0x1F1E6,
        _ => return None,
    };
    char::from_u32(u32::from(b'a') + (code - base))
}

/// The digit a folded character stands for under the opt-in number-style folding: Chinese
/// numerals (ordinary, financial, `幺` as read in phone numbers) and super/subscript digits.
pub(crate) fn numeral(c: char) -> Option<u8> {
    Some(match c {
        '〇' | '零' | '⁰' | '₀' => 0,
        '一' | '壹' | '幺' | '¹' | '₁' => 1,
        '二' | '贰' | '两' | '²' | '₂' => 2,
        '三' | '叁' | '³' | '₃' => 3,
        '四' | '肆' | '⁴' | '₄' => 4,
        '五' | '伍' | '⁵' | '₅' => 5,
        '六' | '陆' | '⁶' | '₆' => 6,
        '七' | '柒' | '⁷' | '₇' => 7,
        '八' | '捌' | '⁸' | '₈' => 8,
        '九' | '玖' | '⁹' | '₉' => 9,
        _ => return None,
    })
}

fn parse_t2s(data: &str) -> HashMap<char, char> {
    let mut map = HashMap::new();
    for line in data.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut chars = line.chars();
        if let (Some(t), Some('\t'), Some(s), None) = (chars.next(), chars.next(), chars.next(), chars.next()) {
            map.insert(t, s);
        }
    }
    map
}

fn pinyin_table() -> (Box<[u16]>, Vec<&'static str>) {
    use pinyin::ToPinyin;
    let mut ids: HashMap<&'static str, u16> = HashMap::new();
    let mut syllables = Vec::new();
    let mut table = vec![0u16; (PINYIN_LAST - PINYIN_FIRST + 1) as usize].into_boxed_slice();
    for code in PINYIN_FIRST..=PINYIN_LAST {
        let Some(c) = char::from_u32(code) else {
            continue;
        };
        let Some(p) = c.to_pinyin() else {
            continue;
        };
        let plain = p.plain();
        let id = match ids.get(plain) {
            Some(&id) => id,
            None => {
                syllables.push(plain);
                let id = syllables.len() as u16;
                ids.insert(plain, id);
                id
            }
        };
        table[(code - PINYIN_FIRST) as usize] = id;
    }
    (table, syllables)
}

/// Letters that look like Latin letters, mapped to them. Cyrillic and Greek capitals are mapped
/// before lowercasing (`Н` looks like `H`, its lowercase `н` does not), the small letters after.
/// Small capitals and IPA letters are the usual "fancy text" substitutes.
const HOMOGLYPHS: &[(char, char)] = &[
    // Cyrillic capitals
    ('А', 'a'),
    ('В', 'b'),
    ('Е', 'e'),
    ('Ё', 'e'),
    ('К', 'k'),
    ('М', 'm'),
    ('Н', 'h'),
    ('О', 'o'),
    ('Р', 'p'),
    ('С', 'c'),
    ('Т', 't'),
    ('У', 'y'),
    ('Х', 'x'),
    ('Ѕ', 's'),
    ('І', 'i'),
    ('Ј', 'j'),
    ('Ԛ', 'q'),
    ('Ԝ', 'w'),
    ('Һ', 'h'),
    ('Ү', 'y'),
    // Cyrillic small letters
    ('а', 'a'),
    ('е', 'e'),
    ('ё', 'e'),
    ('о', 'o'),
    ('р', 'p'),
    ('с', 'c'),
    ('у', 'y'),
    ('х', 'x'),
    ('ѕ', 's'),
    ('і', 'i'),
    ('ї', 'i'),
    ('ј', 'j'),
    ('һ', 'h'),
    ('ԁ', 'd'),
    ('ԛ', 'q'),
    ('ԝ', 'w'),
    ('ӏ', 'l'),
    ('ү', 'y'),
    ('ѵ', 'v'),
    ('ɡ', 'g'),
    // Greek capitals
    ('Α', 'a'),
    ('Β', 'b'),
    ('Ε', 'e'),
    ('Ζ', 'z'),
    ('Η', 'h'),
    ('Ι', 'i'),
    ('Κ', 'k'),
    ('Μ', 'm'),
    ('Ν', 'n'),
    ('Ο', 'o'),
    ('Ρ', 'p'),
    ('Τ', 't'),
    ('Υ', 'y'),
    ('Χ', 'x'),
    // Greek small letters
    ('α', 'a'),
    ('β', 'b'),
    ('γ', 'y'),
    ('ε', 'e'),
    ('ι', 'i'),
    ('κ', 'k'),
    ('ν', 'v'),
    ('ο', 'o'),
    ('ρ', 'p'),
    ('τ', 't'),
    ('υ', 'u'),
    ('χ', 'x'),
    ('ω', 'w'),
    ('ϲ', 'c'),
    ('ϳ', 'j'),
    // Latin look-alikes: dotless letters, IPA, small capitals
    ('ı', 'i'),
    ('ȷ', 'j'),
    ('ɑ', 'a'),
    ('ɩ', 'i'),
    ('ʋ', 'v'),
    ('ᴀ', 'a'),
    ('ʙ', 'b'),
    ('ᴄ', 'c'),
    ('ᴅ', 'd'),
    ('ᴇ', 'e'),
    ('ғ', 'f'),
    ('ɢ', 'g'),
    ('ʜ', 'h'),
    ('ɪ', 'i'),
    ('ᴊ', 'j'),
    ('ᴋ', 'k'),
    ('ʟ', 'l'),
    ('ᴍ', 'm'),
    ('ɴ', 'n'),
    ('ᴏ', 'o'),
    ('ᴘ', 'p'),
    ('ǫ', 'q'),
    ('ʀ', 'r'),
    ('ꜱ', 's'),
    ('ᴛ', 't'),
    ('ᴜ', 'u'),
    ('ᴠ', 'v'),
    ('ᴡ', 'w'),
    ('ʏ', 'y'),
    ('ᴢ', 'z'),
];
