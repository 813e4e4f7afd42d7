//! The lexicon: deny terms with a category, weight and folding flags, and the allow-list; the
//! TSV and allow-list file formats; the built-in lexicon shipped in `data/`.

use std::fmt;
use std::str::FromStr;

use crate::normalize::walk;

/// Longest term, in normalised characters. Bounds the matcher's look-back window (and so its
/// per-scan memory); real terms are a few characters long.
pub const MAX_TERM_CHARS: usize = 64;

/// What a deny term is evidence of. The names are stable: the engine derives reason codes from
/// them (`text.code_receiving`, …; both scam categories map to `text.scam_script`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Code-receiving platforms and card dealers: 接码, 收码, 卡商, 猫池, 白卡 …
    CodeReceiving,
    /// Buying and selling accounts: 出售老号, 收购白号, 带圈, 解封 …
    AccountTrade,
    /// Moving the conversation off-platform: 微信/QQ/电报 and their disguises, near an ID.
    ContactDiversion,
    /// Investment-scam scripts: 导师带单, 稳赚, 充值返利 …
    ScamInvest,
    /// Romance-scam (pig-butchering) scripts.
    ScamRomance,
    /// Gambling ads.
    Gambling,
}

impl Category {
    /// Every category, in the order summaries use.
    pub const ALL: [Category; 6] = [
        Category::CodeReceiving,
        Category::AccountTrade,
        Category::ContactDiversion,
        Category::ScamInvest,
        Category::ScamRomance,
        Category::Gambling,
    ];

    /// The stable name used in lexicon files, JSON and reason codes.
    pub const fn name(self) -> &'static str {
        match self {
            Category::CodeReceiving => "code_receiving",
            Category::AccountTrade => "account_trade",
            Category::ContactDiversion => "contact_diversion",
            Category::ScamInvest => "scam_invest",
            Category::ScamRomance => "scam_romance",
            Category::Gambling => "gambling",
        }
    }

    /// Parses a stable name.
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The weight of a term of this category whose lexicon line gives none.
    pub const fn default_weight(self) -> u8 {
        match self {
            Category::CodeReceiving => 40,
            Category::AccountTrade => 35,
            Category::ContactDiversion => 25,
            Category::ScamInvest => 30,
            Category::ScamRomance => 25,
            Category::Gambling => 30,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Category {
    type Err = LineErrorKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::from_name(s).ok_or_else(|| LineErrorKind::UnknownCategory(s.to_owned()))
    }
}

/// Per-term options (the TSV's fourth column, comma-separated).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TermFlags {
    /// `pinyin`: also match characters with the same toneless pinyin (`微信` matches `薇信`).
    pub pinyin: bool,
    /// `numstyle`: digits of the term also match Chinese numerals and super/subscripts
    /// (`520` matches `五二零`, `⁵²⁰`).
    pub numstyle: bool,
    /// `standalone`: a `contact_diversion` term that fires without an ID-like token nearby.
    pub standalone: bool,
    /// `near_id`: a term of another category that, like contact diversion, fires only near an
    /// ID-like token.
    pub near_id: bool,
}

/// One deny term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    /// The term as written (it is folded like the text when the matcher is built).
    pub text: String,
    pub category: Category,
    /// 1–100.
    pub weight: u8,
    pub flags: TermFlags,
}

impl Term {
    /// A term with its category's default weight and no flags.
    pub fn new(text: impl Into<String>, category: Category) -> Term {
        Term { text: text.into(), category, weight: category.default_weight(), flags: TermFlags::default() }
    }

    /// Whether the term fires only with an ID-like token nearby (the co-occurrence rule).
    pub fn needs_id(&self) -> bool {
        match self.category {
            Category::ContactDiversion => !self.flags.standalone,
            _ => self.flags.near_id,
        }
    }
}

/// Why one lexicon line (or one term added in code) was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LineErrorKind {
    #[error("missing category (expected term<TAB>category[<TAB>weight[<TAB>flags]])")]
    MissingCategory,
    #[error("unknown category `{0}` (expected one of code_receiving, account_trade, contact_diversion, scam_invest, scam_romance, gambling)")]
    UnknownCategory(String),
    #[error("weight `{0}` is not an integer from 1 to 100")]
    BadWeight(String),
    #[error("unknown flag `{0}` (expected pinyin, numstyle, standalone or near_id)")]
    UnknownFlag(String),
    #[error("flags pinyin and numstyle cannot be combined")]
    ConflictingFlags,
    #[error("too many columns (expected at most 4)")]
    TooManyColumns,
    #[error("term `{0}` is empty once folded (only punctuation, symbols or spaces)")]
    EmptyTerm(String),
    #[error("term `{0}` is longer than {MAX_TERM_CHARS} characters once folded")]
    TermTooLong(String),
}

/// One rejected line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}:{line}: {kind}")]
pub struct LineError {
    /// The file (or other source) name given to the parser.
    pub source_name: String,
    /// 1-based line number; 0 for a term added in code.
    pub line: usize,
    pub kind: LineErrorKind,
}

/// Every rejected line of a lexicon or allow-list file (nothing of the file is added then).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_errors(.0))]
pub struct LexiconError(pub Vec<LineError>);

fn render_errors(errors: &[LineError]) -> String {
    let mut s = String::new();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        s.push_str(&e.to_string());
    }
    s
}

/// Deny terms and allow terms, in the order added (a later duplicate overrides an earlier one).
#[derive(Clone, Debug, Default)]
pub struct Lexicon {
    terms: Vec<Term>,
    allow: Vec<String>,
}

const BUILTIN_TERMS: &str = include_str!("../data/lexicon.tsv");
const BUILTIN_ALLOW: &str = include_str!("../data/allow.txt");

impl Lexicon {
    /// An empty lexicon.
    pub fn new() -> Lexicon {
        Lexicon::default()
    }

    /// The lexicon shipped with sheepdog (`data/lexicon.tsv` and `data/allow.txt`).
    pub fn builtin() -> Lexicon {
        // The shipped files are checked by a test; should they ever fail to parse, an empty
        // lexicon (no matches) is safer than a panic in the engine.
        Lexicon::try_builtin().unwrap_or_default()
    }

    pub(crate) fn try_builtin() -> Result<Lexicon, LexiconError> {
        let mut lexicon = Lexicon::new();
        lexicon.add_tsv("lexicon.tsv", BUILTIN_TERMS)?;
        lexicon.add_allow_list("allow.txt", BUILTIN_ALLOW)?;
        Ok(lexicon)
    }

    /// The deny terms.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The allow terms.
    pub fn allow(&self) -> &[String] {
        &self.allow
    }

    /// Adds one deny term after checking it.
    pub fn add_term(&mut self, term: Term) -> Result<(), LineErrorKind> {
        check_term(&term.text)?;
        if term.flags.pinyin && term.flags.numstyle {
            return Err(LineErrorKind::ConflictingFlags);
        }
        if !(1..=100).contains(&term.weight) {
            return Err(LineErrorKind::BadWeight(term.weight.to_string()));
        }
        self.terms.push(term);
        Ok(())
    }

    /// Adds one allow term after checking it.
    pub fn add_allow(&mut self, term: impl Into<String>) -> Result<(), LineErrorKind> {
        let term = term.into();
        check_term(&term)?;
        self.allow.push(term);
        Ok(())
    }

    /// Adds the deny terms of a TSV file: `term<TAB>category[<TAB>weight[<TAB>flags]]`, `#`
    /// starts a comment line, blank lines are skipped. Returns how many terms were added; on
    /// error nothing is added and every bad line is reported.
    pub fn add_tsv(&mut self, source_name: &str, text: &str) -> Result<usize, LexiconError> {
        let mut added = Vec::new();
        let mut errors = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            match parse_line(line) {
                Ok(term) => added.push(term),
                Err(kind) => errors.push(LineError { source_name: source_name.to_owned(), line: i + 1, kind }),
            }
        }
        if !errors.is_empty() {
            return Err(LexiconError(errors));
        }
        let n = added.len();
        self.terms.extend(added);
        Ok(n)
    }

    /// Adds the allow terms of an allow-list file: one term per line, `#` comments.
    pub fn add_allow_list(&mut self, source_name: &str, text: &str) -> Result<usize, LexiconError> {
        let mut added = Vec::new();
        let mut errors = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let term = line.trim();
            if term.is_empty() || term.starts_with('#') {
                continue;
            }
            match check_term(term) {
                Ok(()) => added.push(term.to_owned()),
                Err(kind) => errors.push(LineError { source_name: source_name.to_owned(), line: i + 1, kind }),
            }
        }
        if !errors.is_empty() {
            return Err(LexiconError(errors));
        }
        let n = added.len();
        self.allow.extend(added);
        Ok(n)
    }
}

fn parse_line(line: &str) -> Result<Term, LineErrorKind> {
    let mut cols = line.split('\t');
    let text = cols.next().unwrap_or_default().trim();
    let category: Category = match cols.next().map(str::trim) {
        None | Some("") => return Err(LineErrorKind::MissingCategory),
        Some(c) => c.parse()?,
    };
    let mut term = Term::new(text, category);
    if let Some(w) = cols.next().map(str::trim).filter(|w| !w.is_empty()) {
        term.weight = w
            .parse::<u8>()
            .ok()
            .filter(|w| (1..=100).contains(w))
            .ok_or_else(|| LineErrorKind::BadWeight(w.to_owned()))?;
    }
    if let Some(flags) = cols.next() {
        for flag in flags.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            match flag {
                "pinyin" => term.flags.pinyin = true,
                "numstyle" => term.flags.numstyle = true,
                "standalone" => term.flags.standalone = true,
                "near_id" => term.flags.near_id = true,
                other => return Err(LineErrorKind::UnknownFlag(other.to_owned())),
            }
        }
    }
    if cols.next().is_some() {
        return Err(LineErrorKind::TooManyColumns);
    }
    if term.flags.pinyin && term.flags.numstyle {
        return Err(LineErrorKind::ConflictingFlags);
    }
    check_term(&term.text)?;
    Ok(term)
}

/// A term must fold to 1..=MAX_TERM_CHARS characters.
fn check_term(text: &str) -> Result<(), LineErrorKind> {
    let mut n = 0usize;
    walk(text, |_: crate::normalize::Emit| n += 1);
    match n {
        0 => Err(LineErrorKind::EmptyTerm(text.to_owned())),
        n if n > MAX_TERM_CHARS => Err(LineErrorKind::TermTooLong(text.to_owned())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lexicon_and_allow_list_parse() {
        let lexicon = match Lexicon::try_builtin() {
            Ok(l) => l,
            Err(e) => panic!("{e}"),
        };
        assert!(lexicon.terms().len() > 100);
        assert!(!lexicon.allow().is_empty());
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let mut lexicon = Lexicon::new();
        let err = lexicon
            .add_tsv(
                "x.tsv",
                "# c\n接码\tcode_receiving\n卡商\tnope\n猫池\tcode_receiving\t0\n！！\tgambling\nvx\tcontact_diversion\t\tpinyin,numstyle\n",
            )
            .err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("x.tsv:3: unknown category `nope`"), "{text}");
        assert!(text.contains("x.tsv:4: weight `0`"), "{text}");
        assert!(text.contains("x.tsv:5: term `！！` is empty"), "{text}");
        assert!(text.contains("x.tsv:6: flags pinyin and numstyle"), "{text}");
        assert!(lexicon.terms().is_empty());
    }
}
