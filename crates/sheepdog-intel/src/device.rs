//! Devices and user agents: automation / headless / crawler user agents (isbot's patterns,
//! which need look-around: plain patterns run as one `regex` automaton, the few with
//! look-around through `fancy-regex`), and emulator and cloud-phone model names.

use serde::Serialize;

use crate::IntelError;

/// A user-agent pattern that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UaMatch {
    pub pattern: String,
    pub source: String,
}

/// What the model name and user agent say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeviceFacts {
    /// The model name contains a known emulator name (the listed name).
    pub emulator_model: Option<String>,
    /// The model name (or user agent) contains a known cloud-phone name.
    pub cloud_phone: Option<String>,
    pub automation_ua: Option<UaMatch>,
}

#[derive(Default)]
pub(crate) struct DeviceBuilder {
    plain: Vec<String>,
    ua_source: String,
    models: Vec<(String, ModelClass)>,
    /// Compiled at load, so that a pattern `build` could not compile is refused with its
    /// position instead of silently switching the checks off.
    any: Option<(regex::bytes::Regex, regex::bytes::RegexSet)>,
    fancy: Vec<(String, regex::bytes::Regex, fancy_regex::Regex)>,
    model_names: Option<aho_corasick::AhoCorasick>,
}

/// A plain pattern as it is compiled: ASCII case folding over bytes (Unicode word boundaries
/// would push the automaton off its fast path, and user agents are ASCII in practice).
fn plain_regex(p: &str) -> String {
    format!("(?i-u){p}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn js_class_dashes_are_escaped() {
        assert_eq!(super::js_to_rust(r"[\w\d-.]+"), r"[\w\d\-.]+");
        assert_eq!(super::js_to_rust(r"a-b[a-z]\d-x"), r"a-b[a-z]\d-x");
        assert_eq!(super::without_lookaround(r"(?<! cu)bots?(?:\b|_)"), r"bots?(?:\b|_)");
        assert_eq!(super::without_lookaround(r"google(?!(?:wv|app))x"), "googlex");
        assert_eq!(super::without_lookaround("a\\é(?!x)b\\"), "a\\éb\\");
    }

    /// A pattern that would not compile the way `build` compiles it is refused at load, with its
    /// position: one bad pattern must not silently switch off every user-agent check.
    #[test]
    fn a_bad_pattern_is_refused_with_its_position() {
        for (bad, why) in [
            ("(unclosed", "syntax"),
            ("[z-a]", "range"),
            (r"\p{Han}bot", "Unicode class in ASCII mode"),
            (r"(?<!x)\p{Han}bot", "Unicode class in a prefilter"),
            ("[a-z]{1000}{1000}", "too large"),
        ] {
            let mut b = super::DeviceBuilder::default();
            let json = serde_json::to_string(&["headless", bad]).unwrap();
            let e = b.add_ua_patterns("ua.json", &json).unwrap_err();
            assert!(e.to_string().contains(":2") || e.to_string().contains("line 2"), "{why}: {e}");
        }
        let mut b = super::DeviceBuilder::default();
        assert_eq!(b.add_ua_patterns("ua.json", r#"["headless", "bot(?!tle)", "[a-z]+spider"]"#).unwrap(), 3);
        let d = b.build();
        assert!(d.ua("Mozilla HeadlessChrome").is_some());
        assert!(d.ua("my ABCspider").is_some());
        assert!(d.ua("bottle opener").is_none());
    }

    /// The automaton finds, per class, the first listed name the lower-cased text contains.
    #[test]
    fn model_names_match_as_a_lower_cased_contains_would() {
        let mut b = super::DeviceBuilder::default();
        let list = "Google_SDK\temulator\nsdk\temulator\n雷电模拟器\temulator\nRedFinger\tcloud_phone\nfinger\tcloud_phone\nk9\temulator\n";
        b.add_models("models", list).unwrap();
        let d = b.build();
        let texts = [
            "",
            "Android SDK built for x86",
            "google_sdk",
            "GOOGLE_SDK phone",
            "my sdk",
            "雷电模拟器9",
            "redfinger cloud",
            "FINGER",
            "\u{212a}9 (Kelvin sign)",
            "İstanbul sdk",
            "Ünïcode RedFinger",
            "nothing here",
            "sd k",
        ];
        for model in texts {
            for ua in [None, Some("Mozilla/5.0 (Linux; Android 9; SDK)"), Some("x")] {
                let got = d.lookup(Some(model), ua);
                let (mut emulator, mut cloud) = (None, None);
                for text in [Some(model), ua].into_iter().flatten() {
                    let lower = text.to_lowercase();
                    for (name, class) in &d.models {
                        if lower.contains(name.as_str()) {
                            match class {
                                super::ModelClass::Emulator if emulator.is_none() => emulator = Some(name.clone()),
                                super::ModelClass::CloudPhone if cloud.is_none() => cloud = Some(name.clone()),
                                _ => {}
                            }
                        }
                    }
                }
                assert_eq!((got.emulator_model, got.cloud_phone), (emulator, cloud), "{model:?} / {ua:?}");
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ModelClass {
    Emulator,
    CloudPhone,
}

/// JavaScript reads `[\w-.]` as "word character, '-' or '.'"; Rust's regex refuses a range that
/// starts at a class escape. Escape such dashes so isbot's patterns mean the same here.
fn js_to_rust(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 4);
    let mut in_class = false;
    let mut after_class_escape = false;
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                    after_class_escape = in_class && matches!(n, 'w' | 'W' | 'd' | 'D' | 's' | 'S');
                }
                continue;
            }
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '-' if in_class && after_class_escape => {
                out.push_str("\\-");
                after_class_escape = false;
                continue;
            }
            _ => {}
        }
        after_class_escape = false;
        out.push(c);
    }
    out
}

/// The pattern with its look-around groups removed: a necessary condition of the pattern, run as
/// a cheap prefilter before the backtracking engine.
fn without_lookaround(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = String::with_capacity(p.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            // The escape and the whole (possibly multi-byte) character it escapes.
            let next = p[i + 1..].chars().next().map_or(0, char::len_utf8);
            out.push_str(&p[i..i + 1 + next]);
            i += 1 + next;
            continue;
        }
        let rest = &p[i..];
        if rest.starts_with("(?<=") || rest.starts_with("(?<!") || rest.starts_with("(?=") || rest.starts_with("(?!") {
            // Skip to the matching parenthesis.
            let mut depth = 0;
            while i < b.len() {
                match b[i] {
                    b'\\' => i += 1,
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn has_lookaround(p: &str) -> bool {
    p.contains("(?<=") || p.contains("(?<!") || p.contains("(?=") || p.contains("(?!")
}

impl DeviceBuilder {
    pub(crate) fn add_ua_patterns(&mut self, name: &str, text: &str) -> Result<usize, IntelError> {
        let patterns: Vec<String> =
            serde_json::from_str(text).map_err(|e| IntelError::new(name, e.line(), e.to_string()))?;
        let patterns: Vec<String> = patterns.iter().map(|p| js_to_rust(p)).collect();
        let bad = |i: usize, p: &str, e: &dyn std::fmt::Display| {
            IntelError::new(name, i + 1, format!("pattern {p:?} does not compile: {e}"))
        };
        let mut plain = self.plain.clone();
        let mut fancy = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            if has_lookaround(p) {
                // Few: each is compiled, with the look-around-free prefilter that runs first.
                let pre = regex::bytes::Regex::new(&plain_regex(&without_lookaround(p))).map_err(|e| bad(i, p, &e))?;
                let full = fancy_regex::Regex::new(&format!("(?i){p}")).map_err(|e| bad(i, p, &e))?;
                fancy.push((p.clone(), pre, full));
            } else {
                // Parsed one by one (compiling each took 40 ms of every start), compiled together
                // below.
                regex_syntax::ParserBuilder::new()
                    .utf8(false)
                    .build()
                    .parse(&plain_regex(p))
                    .map_err(|e| bad(i, p, &e))?;
                plain.push(p.clone());
            }
        }
        if plain.len() > self.plain.len() {
            let joined = plain.iter().map(|p| format!("(?:{p})")).collect::<Vec<_>>().join("|");
            let compiled = regex::bytes::Regex::new(&plain_regex(&joined))
                .and_then(|any| Ok((any, regex::bytes::RegexSet::new(plain.iter().map(|p| plain_regex(p)))?)));
            match compiled {
                Ok(c) => self.any = Some(c),
                Err(e) => {
                    // Name the pattern that does not compile alone, if one does not.
                    for (i, p) in patterns.iter().enumerate().filter(|(_, p)| !has_lookaround(p)) {
                        regex::bytes::Regex::new(&plain_regex(p)).map_err(|e| bad(i, p, &e))?;
                    }
                    return Err(IntelError::new(name, 1, format!("the patterns together do not compile: {e}")));
                }
            }
        }
        self.plain = plain;
        self.fancy.extend(fancy);
        self.ua_source = name.to_string();
        Ok(patterns.len())
    }

    pub(crate) fn add_models(&mut self, name: &str, text: &str) -> Result<usize, IntelError> {
        let mut n = 0;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (model, class) =
                line.split_once('\t').ok_or_else(|| IntelError::new(name, i + 1, "expected model<TAB>class"))?;
            let class = match class.trim() {
                "emulator" => ModelClass::Emulator,
                "cloud_phone" => ModelClass::CloudPhone,
                other => {
                    return Err(IntelError::new(
                        name,
                        i + 1,
                        format!("unknown class {other:?}; use emulator or cloud_phone"),
                    ))
                }
            };
            self.models.push((model.trim().to_lowercase(), class));
            n += 1;
        }
        // Names are lower-cased; ASCII case is folded by the automaton, so an ASCII text is
        // searched as sent (no lower-cased copy).
        let names = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(self.models.iter().map(|(n, _)| n))
            .map_err(|e| IntelError::new(name, 1, format!("the model names do not compile: {e}")))?;
        self.model_names = Some(names);
        Ok(n)
    }

    pub(crate) fn build(self) -> DeviceIntel {
        let (any, set) = self.any.map_or((None, None), |(a, s)| (Some(a), Some(s)));
        DeviceIntel {
            any,
            set,
            plain: self.plain,
            fancy: self.fancy,
            source: self.ua_source,
            models: self.models,
            model_names: self.model_names,
        }
    }
}

pub(crate) struct DeviceIntel {
    /// All plain patterns as one automaton: the fast "no" for ordinary user agents.
    any: Option<regex::bytes::Regex>,
    /// The same patterns as a set, to name the one that matched.
    set: Option<regex::bytes::RegexSet>,
    plain: Vec<String>,
    /// Look-around patterns: (pattern, prefilter without the look-arounds, full pattern).
    fancy: Vec<(String, regex::bytes::Regex, fancy_regex::Regex)>,
    source: String,
    models: Vec<(String, ModelClass)>,
    /// The model names as one automaton (pattern i is `models[i]`).
    model_names: Option<aho_corasick::AhoCorasick>,
}

impl DeviceIntel {
    fn ua(&self, ua: &str) -> Option<UaMatch> {
        if self.any.as_ref().is_some_and(|r| r.is_match(ua.as_bytes())) {
            let pattern = self
                .set
                .as_ref()
                .and_then(|s| s.matches(ua.as_bytes()).iter().next())
                .and_then(|i| self.plain.get(i).cloned())
                .unwrap_or_default();
            return Some(UaMatch { pattern, source: self.source.clone() });
        }
        self.fancy
            .iter()
            .find(|(_, pre, r)| pre.is_match(ua.as_bytes()) && r.is_match(ua).unwrap_or(false))
            .map(|(p, _, _)| UaMatch { pattern: p.clone(), source: self.source.clone() })
    }

    pub(crate) fn lookup(&self, model: Option<&str>, user_agent: Option<&str>) -> DeviceFacts {
        let mut facts = DeviceFacts::default();
        if let Some(names) = &self.model_names {
            for text in [model, user_agent].into_iter().flatten() {
                // Non-ASCII text is lower-cased first, as the names were (`K` (Kelvin) is `k`).
                let lower;
                let text = if text.is_ascii() {
                    text
                } else {
                    lower = text.to_lowercase();
                    &lower
                };
                // Per class, the first name of the list found in the text.
                let (mut emulator, mut cloud) = (None::<usize>, None::<usize>);
                for m in names.find_overlapping_iter(text) {
                    let i = m.pattern().as_usize();
                    let best = match self.models[i].1 {
                        ModelClass::Emulator => &mut emulator,
                        ModelClass::CloudPhone => &mut cloud,
                    };
                    *best = Some(best.map_or(i, |b| b.min(i)));
                }
                if facts.emulator_model.is_none() {
                    facts.emulator_model = emulator.map(|i| self.models[i].0.clone());
                }
                if facts.cloud_phone.is_none() {
                    facts.cloud_phone = cloud.map(|i| self.models[i].0.clone());
                }
            }
        }
        if let Some(ua) = user_agent {
            facts.automation_ua = self.ua(ua);
        }
        facts
    }
}
