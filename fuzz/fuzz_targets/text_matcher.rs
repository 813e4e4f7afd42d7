//! Fuzzes the content-audit normaliser and matcher: with the built-in lexicon and with a lexicon
//! taken from the input itself, no text may panic, every reported span must lie inside the
//! original text, `matched` must equal that slice, and matches must be sorted and disjoint.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sheepdog_text::{normalize, Category, Lexicon, Matcher, MatcherOptions, Term};

fn check(matcher: &Matcher, text: &str) {
    let chars: Vec<char> = text.chars().collect();
    let mut prev_end = 0;
    for m in matcher.scan(text) {
        assert!(m.start < m.end && m.end <= chars.len(), "span {}..{} outside {} chars", m.start, m.end, chars.len());
        assert!(m.start >= prev_end, "matches overlap or are unsorted");
        prev_end = m.end;
        let slice: String = chars[m.start..m.end].iter().collect();
        assert_eq!(slice, m.matched);
        if let Some(t) = m.id_token {
            assert!(t.start < t.end && t.end <= chars.len());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    // Before the first NUL: lexicon lines (also parsed as TSV); after it: the text.
    let (lexicon_part, text) = input.split_once('\0').unwrap_or(("", &input));

    let n = normalize(text);
    let n_chars = text.chars().count();
    assert_eq!(n.text.chars().count(), n.origins.len());
    assert!(n.origins.windows(2).all(|w| w[0] <= w[1]));
    assert!(n.origins.iter().all(|&o| o < n_chars));

    check(&Matcher::builtin(), text);

    if !lexicon_part.is_empty() {
        let mut lexicon = Lexicon::new();
        let _ = lexicon.add_tsv("fuzz.tsv", lexicon_part);
        let _ = lexicon.add_allow_list("fuzz.txt", lexicon_part);
        for (i, line) in lexicon_part.lines().take(32).enumerate() {
            let mut term = Term::new(line, Category::ALL[i % Category::ALL.len()]);
            term.flags.pinyin = i % 3 == 1;
            term.flags.numstyle = i % 3 == 2;
            term.flags.standalone = i % 2 == 0;
            term.flags.near_id = i % 5 == 0;
            let _ = lexicon.add_term(term);
            if i % 4 == 3 {
                let _ = lexicon.add_allow(line);
            }
        }
        let options = MatcherOptions { id_window: data.len() % 40, id_min_len: 1 + data.len() % 7 };
        if let Ok(matcher) = Matcher::new(&lexicon, options) {
            check(&matcher, text);
        }
    }
});
