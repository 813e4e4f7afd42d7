//! Integration tests of sheepdog-text: the fixed semantics as data-driven cases (conformance
//! with houbb/sensitive-word's dictionary-independent cases, our evasion cases for every
//! folding), co-occurrence, the shipped lexicon on honest and spam corpora, and properties of
//! the normaliser and matcher.

mod corpus;
mod props;

use sheepdog_text::{normalize, summarize, Category, Lexicon, Matcher, MatcherOptions, SharedMatcher, Term};
use std::sync::Arc;

/// Builds a matcher from compact term specs: `term[/flag,flag…]`, where a flag is a lexicon
/// flag (`pinyin`, `numstyle`, `standalone`, `near_id`) or `contact` for the
/// `contact_diversion` category (default category: `code_receiving`).
fn matcher(deny: &[&str], allow: &[&str]) -> Matcher {
    let mut lexicon = Lexicon::new();
    for spec in deny {
        let (text, flags) = spec.rsplit_once('/').unwrap_or((spec, ""));
        let mut term = Term::new(text, Category::CodeReceiving);
        for flag in flags.split(',').filter(|f| !f.is_empty()) {
            match flag {
                "pinyin" => term.flags.pinyin = true,
                "numstyle" => term.flags.numstyle = true,
                "standalone" => term.flags.standalone = true,
                "near_id" => term.flags.near_id = true,
                "contact" => term.category = Category::ContactDiversion,
                other => panic!("bad flag {other} in test spec {spec}"),
            }
        }
        if let Err(e) = lexicon.add_term(term) {
            panic!("test term {spec}: {e}");
        }
    }
    for a in allow {
        if let Err(e) = lexicon.add_allow(*a) {
            panic!("test allow term {a}: {e}");
        }
    }
    match Matcher::new(&lexicon, MatcherOptions::default()) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

/// Renders matches as `start..end:matched`, the form the cases below expect.
fn render(m: &Matcher, text: &str) -> Vec<String> {
    m.scan(text).iter().map(|m| format!("{}..{}:{}", m.start, m.end, m.matched)).collect()
}

struct Case {
    name: &'static str,
    deny: &'static [&'static str],
    allow: &'static [&'static str],
    text: &'static str,
    expect: &'static [&'static str],
}

const fn case(
    name: &'static str,
    deny: &'static [&'static str],
    allow: &'static [&'static str],
    text: &'static str,
    expect: &'static [&'static str],
) -> Case {
    Case { name, deny, allow, text, expect }
}

fn run(cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        let got = render(&matcher(c.deny, c.allow), c.text);
        if got != c.expect {
            failures
                .push(format!("{}: text {:?}\n    expected {:?}\n    got      {:?}", c.name, c.text, c.expect, got));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Dictionary-independent cases of houbb/sensitive-word's suite (and the issue) that agree with
/// our fixed semantics.
#[test]
fn conformance_with_sensitive_word() {
    run(&[
        case(
            "leftmost-longest picks both",
            &["我的世界", "我的"],
            &[],
            "我在我的家里玩我的世界",
            &["2..4:我的", "7..11:我的世界"],
        ),
        case("allow covers deny", &["龟孙"], &["龟孙可"], "这个龟孙可以", &[]),
        case("allow elsewhere does not help", &["龟孙"], &["龟孙可"], "你个龟孙", &["2..4:龟孙"]),
        case("word boundary: av in have", &["av"], &[], "I have a nice day。", &[]),
        case("word boundary: sex in Middlesex", &["sex"], &[], "Middlesex", &[]),
        case("word boundary: digits are not letters", &["av"], &[], "1av2", &["1..3:av"]),
        case("allow longer word", &["口交"], &["地铁口交易"], "我在地铁口交易了", &[]),
        case("allow inside does not cover", &["操你妈"], &["你"], "操你妈", &["0..3:操你妈"]),
        case("repeated short term", &["拼多多", "多少"], &[], "拼多少，多少多", &["1..3:多少", "4..6:多少"]),
        case("upper-case term, lower-case text", &["HER"], &[], "her", &["0..3:her"]),
        case("no match inside ASCII word", &["her"], &[], "xsher", &[]),
    ]);
}

/// One case per normalisation of the fixed semantics, with a near miss where it matters.
#[test]
fn evasions_are_folded() {
    run(&[
        case("case", &["weixin"], &[], "加WeiXin", &["1..7:WeiXin"]),
        case("full width", &["weixin"], &[], "加ｗｅｉｘｉｎ", &["1..7:ｗｅｉｘｉｎ"]),
        case("full width digits", &["qq"], &[], "ＱＱ：１２３", &["0..2:ＱＱ"]),
        case("math bold", &["wx"], &[], "加𝐰𝐱", &["1..3:𝐰𝐱"]),
        case("math script and fraktur", &["vx"], &[], "加𝓋𝔵", &["1..3:𝓋𝔵"]),
        case("circled letters", &["wx"], &[], "加ⓦⓧ", &["1..3:ⓦⓧ"]),
        case("negative squared and regional", &["vx"], &[], "🅥🅧 🇻🇽", &["0..2:🅥🅧", "3..5:🇻🇽"]),
        case("parenthesised digits", &["12345"], &[], "⑴⑵⑶⑷⑸", &["0..5:⑴⑵⑶⑷⑸"]),
        case("circled digits", &["12345"], &[], "①②③④⑤", &["0..5:①②③④⑤"]),
        case("traditional", &["接码", "验证码"], &[], "專業接碼，收驗證碼", &["2..4:接碼", "6..9:驗證碼"]),
        case("traditional account trade", &["出售老号"], &[], "出售老號", &["0..4:出售老號"]),
        case("cyrillic homoglyphs", &["vx", "qq"], &[], "加 ѵх", &["2..4:ѵх"]),
        case("greek homoglyphs", &["kakao"], &[], "ΚΑΚΑΟ", &["0..5:ΚΑΚΑΟ"]),
        case("small capitals", &["telegram"], &[], "ᴛᴇʟᴇɢʀᴀᴍ", &["0..8:ᴛᴇʟᴇɢʀᴀᴍ"]),
        case("accents", &["telegram"], &[], "tëlégràm", &["0..8:tëlégràm"]),
        case("numstyle off: numerals stay words", &["520"], &[], "五二零", &[]),
        case("numstyle: chinese numerals", &["520/numstyle"], &[], "五二零", &["0..3:五二零"]),
        case("numstyle: financial", &["520/numstyle"], &[], "伍贰零", &["0..3:伍贰零"]),
        case("numstyle: traditional financial", &["520/numstyle"], &[], "伍貳零", &["0..3:伍貳零"]),
        case("numstyle: superscripts", &["520/numstyle"], &[], "⁵²⁰", &["0..3:⁵²⁰"]),
        case("numstyle: circled", &["520/numstyle"], &[], "⑤②⓪", &["0..3:⑤②⓪"]),
        case("numstyle: ascii still matches", &["520/numstyle"], &[], "5-2-0", &["0..5:5-2-0"]),
        case("superscripts without numstyle", &["520"], &[], "⁵²⁰", &[]),
        case("pinyin off", &["微信"], &[], "加薇信", &[]),
        case("pinyin on", &["微信/pinyin"], &[], "加薇信", &["1..3:薇信"]),
        case(
            "pinyin on, other homophones",
            &["微信/pinyin"],
            &[],
            "威信 维信 微信",
            &["0..2:威信", "3..5:维信", "6..8:微信"],
        ),
        case("pinyin with traditional", &["验证码/pinyin"], &[], "驗証碼", &["0..3:驗証碼"]),
        case(
            "zero-width characters",
            &["接码"],
            &[],
            "接\u{200b}码 接\u{200d}\u{2060}码 接\u{feff}码",
            &["0..3:接\u{200b}码", "4..8:接\u{200d}\u{2060}码", "9..12:接\u{feff}码"],
        ),
        case("emoji separators", &["微信"], &[], "微❤️信 微🐧信", &["0..4:微❤️信", "5..8:微🐧信"]),
        case("punctuation separators", &["接码"], &[], "接-码、接.码", &["0..3:接-码", "4..7:接.码"]),
        case("combining marks (zalgo)", &["vx"], &[], "v\u{0336}x\u{0336}", &["0..3:v\u{0336}x"]),
        case("space between two non-ASCII", &["微信"], &[], "微 信", &["0..3:微 信"]),
        case("ideographic space", &["微信"], &[], "微\u{3000}信", &["0..3:微\u{3000}信"]),
        case("space between ASCII letters kept", &["ass"], &[], "a ss", &[]),
        case("space between ASCII and CJK kept", &["v信"], &[], "v 信", &[]),
        case("space inside a spaced term", &["wei xin"], &[], "wei   xin", &["0..9:wei   xin"]),
        case("noise between ASCII letters skipped", &["vx"], &[], "v.x", &["0..3:v.x"]),
        case("boundary judged on original neighbour", &["vx"], &[], "avx", &[]),
        case("expansion", &["10"], &[], "⑽", &["0..1:⑽"]),
        case(
            "keycap digits",
            &["12345"],
            &[],
            "1\u{fe0f}\u{20e3}2\u{fe0f}\u{20e3}3\u{fe0f}\u{20e3}4\u{fe0f}\u{20e3}5\u{fe0f}\u{20e3}",
            &["0..13:1\u{fe0f}\u{20e3}2\u{fe0f}\u{20e3}3\u{fe0f}\u{20e3}4\u{fe0f}\u{20e3}5"],
        ),
        case("leading and trailing noise not in the span", &["接码"], &[], "【接码】", &["1..3:接码"]),
    ]);
}

#[test]
fn contact_terms_fire_only_near_an_id() {
    run(&[
        case("honest: no id", &["微信/contact,pinyin"], &[], "微信支付可以吗", &[]),
        case("spam: id after", &["微信/contact,pinyin"], &[], "薇信 ab1234 私聊", &["0..2:薇信"]),
        case("spam: id before", &["微信/contact,pinyin"], &[], "ab1234 是我薇信", &["9..11:薇信"]),
        case("id in circled digits", &["微信/contact"], &[], "微信①②③④⑤⑥", &["0..2:微信"]),
        case("id in chinese numerals", &["微信/contact"], &[], "微信号一三八一二三四五六七八", &["0..2:微信"]),
        case("id in superscripts", &["微信/contact"], &[], "微信 ¹³⁸¹²³⁴", &["0..2:微信"]),
        case("id with separators", &["qq/contact"], &[], "QQ: 12-34-56", &["0..2:QQ"]),
        case("too short an id", &["微信/contact"], &[], "微信 1234", &[]),
        case("letters only is not an id", &["微信/contact"], &[], "微信 hello", &[]),
        case("id too far", &["微信/contact"], &[], "微信我们明天再聊吧，反正今天也很晚了，我的订单号是 ab123456", &[]),
        case("standalone fires alone", &["加薇信/contact,standalone"], &[], "加薇信", &["0..3:加薇信"]),
        case("near_id on another category", &["飞机/near_id"], &[], "飞机 tg12345", &["0..2:飞机"]),
        case("near_id without id", &["飞机/near_id"], &[], "坐飞机去北京", &[]),
        case("allow still applies", &["微信/contact"], &["微信支付"], "微信支付 订单 4200001234", &[]),
    ]);
}

#[test]
fn offsets_are_chars_of_the_original() {
    let m = matcher(&["接码"], &[]);
    let text = "𝐀😀接\u{200b}碼";
    let found = m.scan(text);
    assert_eq!(found.len(), 1);
    let chars: Vec<char> = text.chars().collect();
    let slice: String = chars[found[0].start..found[0].end].iter().collect();
    assert_eq!(slice, found[0].matched);
    assert_eq!((found[0].start, found[0].end), (2, 5));
}

#[test]
fn later_terms_override_earlier_ones() {
    let mut lexicon = Lexicon::new();
    let ok = lexicon.add_tsv("a", "接码\tcode_receiving\t40\n").is_ok()
        && lexicon.add_tsv("b", "接碼\tgambling\t7\n").is_ok();
    assert!(ok);
    let m = Matcher::new(&lexicon, MatcherOptions::default()).ok();
    let found = m.map(|m| m.scan("接码")).unwrap_or_default();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].category, found[0].weight), (Category::Gambling, 7));
}

#[test]
fn summary_groups_by_category() {
    let m = Matcher::builtin();
    let matches = m.scan("专业接码 卡商直供 出售老号带圈 加薇信 ab12345");
    let summary = summarize(&matches);
    let cats: Vec<_> = summary.iter().map(|s| s.category).collect();
    assert_eq!(cats, [Category::CodeReceiving, Category::AccountTrade, Category::ContactDiversion]);
    assert!(summary[0].count >= 2 && summary[0].weight <= 100);
}

#[test]
fn shared_matcher_swaps_on_reload() {
    let shared = SharedMatcher::new(Arc::new(matcher(&["接码"], &[])));
    let before = shared.get();
    shared.replace(Arc::new(matcher(&["卡商"], &[])));
    assert_eq!(before.scan("接码卡商").len(), 1);
    assert_eq!(shared.get().scan("接码卡商")[0].matched, "卡商");
}

#[test]
fn matcher_is_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Matcher>();
    send_sync::<SharedMatcher>();
}

#[test]
fn normalize_reports_origins() {
    let n = normalize("A 微 信 ⑽");
    assert_eq!(n.text, "a 微信10");
    assert_eq!(n.origins, [0, 1, 2, 4, 6, 6]);
}
