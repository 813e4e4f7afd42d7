//! Benchmarks of the content-audit matcher: scan throughput with the built-in lexicon and with
//! 60,000 generated terms on mixed Chinese/English text, against raw automata on the same terms
//! and text without normalisation, in the same run; build time; memory.
//!
//! Run: `cargo bench -p sheepdog-text --bench scan`

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind as AcMatchKind};
use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};
use divan::counter::CharsCount;
use divan::{black_box, Bencher};
use sheepdog_text::{normalize, Category, Lexicon, Matcher, MatcherOptions, Term};

const GENERATED_TERMS: usize = 60_000;

/// Mixed Chinese/English chat: our honest and spam corpora, repeated to about 200k chars. Half
/// of its lines are spam, so it is match-dense (a worst case for the post-processing).
static TEXT: LazyLock<String> =
    LazyLock::new(|| repeat(&[include_str!("../tests/data/honest.txt"), include_str!("../tests/data/spam.txt")]));

/// The honest corpus alone, repeated to about 200k chars: what most traffic looks like.
static HONEST: LazyLock<String> = LazyLock::new(|| repeat(&[include_str!("../tests/data/honest.txt")]));

fn repeat(files: &[&str]) -> String {
    let corpus = files.concat();
    let lines: Vec<&str> = corpus.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let mut text = String::new();
    while text.chars().count() < 200_000 {
        for l in &lines {
            text.push_str(l);
            text.push('\n');
        }
    }
    text
}

/// Deterministic pseudo-random terms: 2–6 common Chinese characters, or 4–9 ASCII letters for
/// one term in five, like a large moderation list.
fn generated_terms(n: usize) -> Vec<String> {
    const CJK: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严";
    let cjk: Vec<char> = CJK.chars().collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut terms = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::new();
    while terms.len() < n {
        let r = next();
        let term: String = if r % 5 == 0 {
            let len = 4 + (r >> 8) as usize % 6;
            (0..len).map(|_| char::from(b'a' + (next() % 26) as u8)).collect()
        } else {
            let len = 2 + (r >> 8) as usize % 5;
            (0..len).map(|_| cjk[next() as usize % cjk.len()]).collect()
        };
        if seen.insert(term.clone()) {
            terms.push(term);
        }
    }
    terms
}

static BIG_LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let mut lexicon = Lexicon::builtin();
    let categories = Category::ALL;
    for (i, t) in generated_terms(GENERATED_TERMS).into_iter().enumerate() {
        // Generated terms are well-formed; a rejected one would only shrink the lexicon.
        let _ = lexicon.add_term(Term::new(t, categories[i % categories.len()]));
    }
    lexicon
});

static BUILTIN: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new(&Lexicon::builtin(), MatcherOptions::default()).unwrap_or_else(|_| Matcher::empty()));
static BIG: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new(&BIG_LEXICON, MatcherOptions::default()).unwrap_or_else(|_| Matcher::empty()));

fn raw_terms(lexicon: &Lexicon) -> Vec<String> {
    let mut v: Vec<String> = lexicon.terms().iter().map(|t| t.text.clone()).collect();
    v.sort();
    v.dedup();
    v
}

fn aho(terms: &[String]) -> AhoCorasick {
    AhoCorasick::builder().match_kind(AcMatchKind::LeftmostLongest).build(terms).unwrap_or_else(|e| panic!("{e}"))
}

fn daac(terms: &[String], kind: MatchKind) -> CharwiseDoubleArrayAhoCorasick<u32> {
    CharwiseDoubleArrayAhoCorasickBuilder::new().match_kind(kind).build(terms).unwrap_or_else(|e| panic!("{e}"))
}

static RAW_BUILTIN: LazyLock<Vec<String>> = LazyLock::new(|| raw_terms(&Lexicon::builtin()));
static RAW_BIG: LazyLock<Vec<String>> = LazyLock::new(|| raw_terms(&BIG_LEXICON));

fn chars() -> CharsCount {
    CharsCount::of_str(TEXT.as_str())
}

fn honest_chars() -> CharsCount {
    CharsCount::of_str(HONEST.as_str())
}

fn main() {
    let started = std::time::Instant::now();
    let table_bytes = sheepdog_text::folding_table_bytes();
    println!("folding tables: built in {:.1} ms, {} KiB", started.elapsed().as_secs_f64() * 1e3, table_bytes / 1024);
    let n_chars = TEXT.chars().count();
    let ac_big = aho(&RAW_BIG);
    println!("text: {n_chars} chars; built-in: {}; built-in + generated: {}", BUILTIN.describe(), BIG.describe());
    println!(
        "memory: folding tables {} KiB (once per process); built-in matcher {} KiB; 60k matcher {} KiB; raw aho-corasick 60k {} KiB; raw daachorse 60k {} KiB",
        sheepdog_text::folding_table_bytes() / 1024,
        BUILTIN.heap_bytes() / 1024,
        BIG.heap_bytes() / 1024,
        ac_big.memory_usage() / 1024,
        daac(&RAW_BIG, MatchKind::LeftmostLongest).heap_bytes() / 1024,
    );
    println!(
        "matches: mixed text ({n_chars} chars) built-in {}, 60k {}; honest text ({} chars) built-in {}, 60k {}",
        BUILTIN.scan(&TEXT).len(),
        BIG.scan(&TEXT).len(),
        HONEST.chars().count(),
        BUILTIN.scan(&HONEST).len(),
        BIG.scan(&HONEST).len()
    );
    divan::main();
}

mod scan {
    use super::*;

    #[divan::bench]
    fn sheepdog_builtin(b: Bencher) {
        LazyLock::force(&BUILTIN);
        b.counter(chars()).bench(|| BUILTIN.scan(black_box(&TEXT)));
    }

    #[divan::bench]
    fn sheepdog_60k(b: Bencher) {
        LazyLock::force(&BIG);
        b.counter(chars()).bench(|| BIG.scan(black_box(&TEXT)));
    }

    #[divan::bench]
    fn sheepdog_builtin_honest(b: Bencher) {
        LazyLock::force(&BUILTIN);
        b.counter(honest_chars()).bench(|| BUILTIN.scan(black_box(&HONEST)));
    }

    #[divan::bench]
    fn sheepdog_60k_honest(b: Bencher) {
        LazyLock::force(&BIG);
        b.counter(honest_chars()).bench(|| BIG.scan(black_box(&HONEST)));
    }

    #[divan::bench]
    fn raw_aho_corasick_60k_honest(b: Bencher) {
        let ac = aho(&RAW_BIG);
        b.counter(honest_chars()).bench(|| ac.find_iter(black_box(HONEST.as_str())).count());
    }

    #[divan::bench]
    fn raw_aho_corasick_builtin(b: Bencher) {
        let ac = aho(&RAW_BUILTIN);
        b.counter(chars()).bench(|| ac.find_iter(black_box(TEXT.as_str())).count());
    }

    #[divan::bench]
    fn raw_aho_corasick_60k(b: Bencher) {
        let ac = aho(&RAW_BIG);
        b.counter(chars()).bench(|| ac.find_iter(black_box(TEXT.as_str())).count());
    }

    #[divan::bench]
    fn raw_daachorse_60k(b: Bencher) {
        let da = daac(&RAW_BIG, MatchKind::LeftmostLongest);
        b.counter(chars()).bench(|| da.leftmost_find_iter(black_box(TEXT.as_str())).count());
    }

    /// The normaliser alone (collecting the view and origins, which `scan` does not do).
    #[divan::bench]
    fn normalize_only(b: Bencher) {
        b.counter(chars()).bench(|| normalize(black_box(&TEXT)));
    }
}

/// The automaton choice: overlapping search (what the matcher needs to merge views and apply
/// boundaries before choosing leftmost-longest) over the normalised view, 60k terms.
mod automaton_choice {
    use super::*;

    static VIEW: LazyLock<String> = LazyLock::new(|| normalize(&TEXT).text);
    static FOLDED_TERMS: LazyLock<Vec<String>> = LazyLock::new(|| {
        let mut v: Vec<String> = RAW_BIG.iter().map(|t| normalize(t).text).collect();
        v.sort();
        v.dedup();
        v.retain(|t| !t.is_empty());
        v
    });

    #[divan::bench]
    fn daachorse_charwise_overlapping(b: Bencher) {
        let da = daac(&FOLDED_TERMS, MatchKind::Standard);
        b.counter(chars()).bench(|| da.find_overlapping_iter(black_box(VIEW.as_str())).count());
    }

    #[divan::bench]
    fn aho_corasick_overlapping(b: Bencher) {
        let ac = AhoCorasick::builder()
            .match_kind(AcMatchKind::Standard)
            .build(FOLDED_TERMS.iter())
            .unwrap_or_else(|e| panic!("{e}"));
        b.counter(chars()).bench(|| ac.find_overlapping_iter(black_box(VIEW.as_str())).count());
    }
}

mod build {
    use super::*;

    #[divan::bench(sample_count = 10)]
    fn sheepdog_60k(b: Bencher) {
        LazyLock::force(&BIG_LEXICON);
        sheepdog_text::folding_table_bytes();
        b.bench(|| Matcher::new(black_box(&BIG_LEXICON), MatcherOptions::default()).map(|m| m.n_terms()));
    }

    #[divan::bench(sample_count = 10)]
    fn raw_aho_corasick_60k(b: Bencher) {
        b.bench(|| aho(black_box(&RAW_BIG)).patterns_len());
    }

    #[divan::bench(sample_count = 10)]
    fn raw_daachorse_60k(b: Bencher) {
        b.bench(|| daac(black_box(&RAW_BIG), MatchKind::LeftmostLongest).num_states());
    }
}
