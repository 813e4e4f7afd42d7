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
    fancy: Vec<String>,
    ua_source: String,
    models: Vec<(String, ModelClass)>,
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
        for (bad, why) in [("(unclosed", "syntax"), ("[z-a]", "range"), (r"\\p{Han}bot", "Unicode class in ASCII mode")]
        {
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
        for (i, p) in patterns.iter().enumerate() {
            // Plain patterns are checked as `build` compiles them (ASCII case folding over
            // bytes), by the parser alone: compiling each one took 40 ms of every start.
            let ok = if has_lookaround(p) {
                fancy_regex::Regex::new(&format!("(?i){p}")).is_ok()
            } else {
                regex_syntax::ParserBuilder::new().utf8(false).build().parse(&format!("(?i-u){p}")).is_ok()
            };
            if !ok {
                return Err(IntelError::new(name, i + 1, format!("pattern {p:?} does not compile")));
            }
            if has_lookaround(p) {
                self.fancy.push(p.clone());
            } else {
                self.plain.push(p.clone());
            }
        }
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
        Ok(n)
    }

    pub(crate) fn build(self) -> DeviceIntel {
        // ASCII mode over bytes: Unicode word boundaries would push the automaton off its fast
        // path, and user agents are ASCII in practice.
        let any = if self.plain.is_empty() {
            None
        } else {
            let joined = self.plain.iter().map(|p| format!("(?:{p})")).collect::<Vec<_>>().join("|");
            regex::bytes::Regex::new(&format!("(?i-u){joined}")).ok()
        };
        let set = regex::bytes::RegexSet::new(self.plain.iter().map(|p| format!("(?i-u){p}"))).ok();
        let fancy = self
            .fancy
            .iter()
            .filter_map(|p| {
                let pre = regex::bytes::Regex::new(&format!("(?i-u){}", without_lookaround(p))).ok()?;
                Some((p.clone(), pre, fancy_regex::Regex::new(&format!("(?i){p}")).ok()?))
            })
            .collect();
        // Names are lower-cased; ASCII case is folded by the automaton, so an ASCII text is
        // searched as sent (no lower-cased copy).
        let model_names = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(self.models.iter().map(|(n, _)| n))
            .ok();
        DeviceIntel { any, set, plain: self.plain, fancy, source: self.ua_source, models: self.models, model_names }
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
