//! Precision and recall of the built-in lexicon on our honest corpus (chat that mentions 微信支付,
//! 验证码, 客服 …) and our evasive spam corpus. Prints the figures and every miss.

use sheepdog_text::Matcher;

/// Corpus lines, with `\uXXXX` escapes turned into the character (zero-width characters are
/// written that way so the file stays readable).
fn lines(data: &str) -> Vec<String> {
    data.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).map(unescape).collect()
}

fn unescape(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find("\\u") {
        out.push_str(&rest[..i]);
        let hex = rest.get(i + 2..i + 6).unwrap_or("");
        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
            Some(c) if hex.len() == 4 => {
                out.push(c);
                rest = &rest[i + 6..];
            }
            _ => {
                out.push_str("\\u");
                rest = &rest[i + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn precision_and_recall_of_the_builtin_lexicon() {
    let matcher = Matcher::builtin();
    let honest = lines(include_str!("../data/honest.txt"));
    let spam_file = include_str!("../data/spam.txt");
    let spam = lines(spam_file);
    // The last section (paraphrases that avoid the lexicon's words) is reported on its own.
    let paraphrases = spam_file
        .split_once("\n# Paraphrases")
        .and_then(|(_, tail)| tail.split_once('\n'))
        .map_or(Vec::new(), |(_, tail)| lines(tail));
    assert!(honest.len() >= 200 && spam.len() >= 150);

    let mut false_positives = Vec::new();
    for text in &honest {
        let found = matcher.scan(text);
        if !found.is_empty() {
            let terms: Vec<String> = found.iter().map(|m| format!("{}={}", m.matched, m.term)).collect();
            false_positives.push(format!("{text}  [{}]", terms.join(", ")));
        }
    }
    let mut misses = Vec::new();
    for text in &spam {
        if matcher.scan(text).is_empty() {
            misses.push(text.clone());
        }
    }
    let tp = (spam.len() - misses.len()) as f64;
    let fp = false_positives.len() as f64;
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let recall = tp / spam.len() as f64;
    println!(
        "built-in lexicon: {} honest texts, {} spam texts: precision {:.3} ({} false positives), recall {:.3} ({} missed)",
        honest.len(),
        spam.len(),
        precision,
        false_positives.len(),
        recall,
        misses.len()
    );
    let missed_paraphrases = paraphrases.iter().filter(|p| misses.contains(p)).count();
    let evasive = spam.len() - paraphrases.len();
    println!(
        "  of which evasive spellings of known terms: recall {:.3} ({}/{}); paraphrases: recall {:.3} ({}/{})",
        (evasive - (misses.len() - missed_paraphrases)) as f64 / evasive.max(1) as f64,
        evasive - (misses.len() - missed_paraphrases),
        evasive,
        (paraphrases.len() - missed_paraphrases) as f64 / paraphrases.len().max(1) as f64,
        paraphrases.len() - missed_paraphrases,
        paraphrases.len()
    );
    for f in &false_positives {
        println!("  false positive: {f}");
    }
    for m in &misses {
        println!("  missed: {m}");
    }
    assert!(precision >= 0.95, "precision {precision:.3}");
    assert!(recall >= 0.90, "recall {recall:.3}");
}
