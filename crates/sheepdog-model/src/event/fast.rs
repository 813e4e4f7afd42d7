//! The fast path of the event parser: a scanner for the shape events nearly always have.
//!
//! It reads the fields of the contract straight into `RawEvent` and accepts only input that it
//! reads exactly as serde would: strings without escapes, `null`, `true`/`false`, integers of up
//! to 15 digits without sign, the nested `device`, `session` and `profile` objects with their own
//! fields, `changed` as a list of such strings. Anything else (an escape, an unknown or repeated
//! field, a float, `attributes`, any syntax error) makes it give up, and the caller parses the
//! event again with serde, which also names the field of any error. So the fast path never
//! decides whether an event is valid; it only saves serde's work on the events it can read.
//! The tests (this module's, and the contract suite on every case) and the fuzz target compare
//! both paths on every input they try.

use super::{RawEvent, RawSession, RawTimestamp, Str};
use crate::event::{Device, Profile};

/// Reads one event into `raw` (default on entry); false when the input needs the general
/// parser (`raw` then holds part of the event).
pub(super) fn scan<'a>(text: &'a str, raw: &mut RawEvent<'a>) -> bool {
    scan_into(text, raw).is_some()
}

fn scan_into<'a>(text: &'a str, raw: &mut RawEvent<'a>) -> Option<()> {
    let mut s = Scanner { text, b: text.as_bytes(), i: 0 };
    s.ws();
    s.members(raw, event)?;
    s.ws();
    (s.i == s.b.len()).then_some(())
}

/// One member of the event; returns its bit (serde refuses a field given twice).
fn event<'a>(s: &mut Scanner<'a>, key: &[u8], raw: &mut RawEvent<'a>) -> Option<u32> {
    Some(match key {
        b"id" => s.opt_str(&mut raw.id, 0)?,
        b"type" => s.opt_str(&mut raw.event_type, 1)?,
        b"timestamp" => {
            raw.timestamp = match s.peek()? {
                b'"' => Some(RawTimestamp::Text(s.str()?.to_owned())),
                _ => s.opt_int()?.map(|ms| RawTimestamp::Millis(ms.into())),
            };
            2
        }
        b"account_id" => s.opt_str(&mut raw.account_id, 3)?,
        b"phone" => s.opt_str(&mut raw.phone, 4)?,
        b"region" => s.opt_str(&mut raw.region, 5)?,
        b"email" => s.opt_str(&mut raw.email, 6)?,
        b"ip" => s.opt_str(&mut raw.ip, 7)?,
        b"device" => {
            raw.device = s.object(device)?;
            8
        }
        b"user_agent" => s.opt_str(&mut raw.user_agent, 9)?,
        b"session" => {
            raw.session = s.object(session)?;
            10
        }
        b"profile" => {
            raw.profile = s.object(profile)?;
            11
        }
        b"identity_hash" => s.opt_str(&mut raw.identity_hash, 12)?,
        b"text" => s.opt_str(&mut raw.text, 13)?,
        b"campaign_id" => s.opt_str(&mut raw.campaign_id, 14)?,
        b"changed" => {
            raw.changed = s.str_list()?;
            15
        }
        _ => return None,
    })
}

fn device<'a>(s: &mut Scanner<'a>, key: &[u8], d: &mut Device<'a>) -> Option<u32> {
    Some(match key {
        b"id" => s.opt_str(&mut d.id, 0)?,
        b"fingerprint" => s.opt_str(&mut d.fingerprint, 1)?,
        b"model" => s.opt_str(&mut d.model, 2)?,
        b"os" => s.opt_str(&mut d.os, 3)?,
        b"emulator" => s.opt_bool(&mut d.emulator, 4)?,
        b"rooted" => s.opt_bool(&mut d.rooted, 5)?,
        b"hooked" => s.opt_bool(&mut d.hooked, 6)?,
        b"sim_present" => s.opt_bool(&mut d.sim_present, 7)?,
        b"sim_phone_match" => s.opt_bool(&mut d.sim_phone_match, 8)?,
        _ => return None,
    })
}

fn session(s: &mut Scanner<'_>, key: &[u8], r: &mut RawSession) -> Option<u32> {
    // Exact as `f64`: at most 15 digits.
    let (slot, bit) = match key {
        b"form_fill_ms" => (&mut r.form_fill_ms, 0),
        b"sms_code_entry_ms" => (&mut r.sms_code_entry_ms, 1),
        b"captcha_solve_ms" => (&mut r.captcha_solve_ms, 2),
        b"paste_used" => return s.opt_bool(&mut r.paste_used, 3),
        _ => return None,
    };
    *slot = s.opt_int()?.map(|n| n as f64);
    Some(bit)
}

fn profile<'a>(s: &mut Scanner<'a>, key: &[u8], p: &mut Profile<'a>) -> Option<u32> {
    Some(match key {
        b"nickname" => s.opt_str(&mut p.nickname, 0)?,
        b"bio" => s.opt_str(&mut p.bio, 1)?,
        b"avatar_hash" => s.opt_str(&mut p.avatar_hash, 2)?,
        b"gender" => s.opt_str(&mut p.gender, 3)?,
        b"birth_year" => {
            p.birth_year = s.opt_int()?.map(|n| n as i64);
            4
        }
        _ => return None,
    })
}

struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.eat_if(c).then_some(())
    }

    fn eat_if(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.i += usize::from(hit);
        hit
    }

    fn lit(&mut self, word: &[u8]) -> Option<()> {
        let hit = self.b.get(self.i..self.i + word.len()) == Some(word);
        self.i += if hit { word.len() } else { 0 };
        hit.then_some(())
    }

    fn null(&mut self) -> Option<()> {
        self.lit(b"null")
    }

    /// A string without escapes or control characters (the input is valid UTF-8, and both
    /// ends are ASCII quotes, so the slice is on character boundaries).
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let b = self.b;
        let mut i = start;
        loop {
            if let Some(chunk) = b.get(i..i + 8) {
                let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
                let m = crate::decision::escape_mask(w);
                if m == 0 {
                    i += 8;
                    continue;
                }
                i += (m.trailing_zeros() / 8) as usize;
            }
            match *b.get(i)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => i += 1,
            }
        }
        self.i = i + 1;
        self.text.get(start..i)
    }

    /// An integer of 1 to 15 digits, no sign, no leading zero, no fraction or exponent.
    fn int(&mut self) -> Option<u64> {
        let start = self.i;
        let mut n = 0u64;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            n = n * 10 + u64::from(d - b'0');
            self.i += 1;
            if self.i - start > 15 {
                return None;
            }
        }
        let len = self.i - start;
        if len == 0 || (len > 1 && self.b[start] == b'0') {
            return None;
        }
        match self.peek() {
            Some(b'.' | b'e' | b'E') => None,
            _ => Some(n),
        }
    }

    /// `null` or an integer (see `int`).
    fn opt_int(&mut self) -> Option<Option<u64>> {
        match self.peek()? {
            b'n' => self.null().map(|_| None),
            _ => self.int().map(Some),
        }
    }

    fn opt_str(&mut self, slot: &mut Option<Str<'a>>, bit: u32) -> Option<u32> {
        *slot = match self.peek()? {
            b'n' => self.null().map(|_| None)?,
            _ => Some(Str::Borrowed(self.str()?)),
        };
        Some(bit)
    }

    fn opt_bool(&mut self, slot: &mut Option<bool>, bit: u32) -> Option<u32> {
        *slot = match self.peek()? {
            b'n' => self.null().map(|_| None)?,
            b't' => self.lit(b"true").map(|_| Some(true))?,
            _ => self.lit(b"false").map(|_| Some(false))?,
        };
        Some(bit)
    }

    /// `"key"` and the colon after it, with the whitespace around.
    fn key(&mut self) -> Option<&'a [u8]> {
        self.ws();
        let k = self.str()?.as_bytes();
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(k)
    }

    /// After a member: true at a comma (another member follows), false at the closing brace.
    fn next_member(&mut self) -> Option<bool> {
        self.ws();
        match self.peek()? {
            b',' => {
                self.i += 1;
                Some(true)
            }
            b'}' => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// `null` or an object whose members `member` reads (see `members`).
    fn object<T: Default>(&mut self, member: impl Fn(&mut Self, &[u8], &mut T) -> Option<u32>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            return self.null().map(|_| None);
        }
        let mut v = T::default();
        self.members(&mut v, member)?;
        Some(Some(v))
    }

    /// An object into `v`: `member` reads one member and returns its bit; a member given twice
    /// is refused, as serde refuses it.
    fn members<T>(&mut self, v: &mut T, member: impl Fn(&mut Self, &[u8], &mut T) -> Option<u32>) -> Option<()> {
        self.eat(b'{')?;
        let mut seen = 0u32;
        self.ws();
        if self.eat_if(b'}') {
            return Some(());
        }
        loop {
            let key = self.key()?;
            let bit = member(self, key, v)?;
            if seen & (1 << bit) != 0 {
                return None;
            }
            seen |= 1 << bit;
            if !self.next_member()? {
                return Some(());
            }
        }
    }

    /// `null` or a list of strings.
    fn str_list(&mut self) -> Option<Option<Vec<Str<'a>>>> {
        if self.peek()? == b'n' {
            return self.null().map(|_| None);
        }
        self.eat(b'[')?;
        let mut v = Vec::new();
        self.ws();
        if self.eat_if(b']') {
            return Some(Some(v));
        }
        loop {
            self.ws();
            // Bounded by the input: each entry takes at least three bytes.
            v.push(Str::Borrowed(self.str()?));
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(Some(v));
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::scan;
    use crate::event::{parse_event, parse_event_general};

    /// Both paths agree; returns whether the fast path read the input itself.
    fn agree(input: &str) -> bool {
        assert_eq!(parse_event(input.as_bytes()), parse_event_general(input.as_bytes()), "{input}");
        scan(input, &mut Default::default())
    }

    #[test]
    fn reads_the_usual_events() {
        for input in [
            r#"{"id":"e1","type":"registration","timestamp":1764000000007,"account_id":"a","phone":"+8613800138000","ip":"1.2.3.4","device":{"id":"d","fingerprint":"f","model":"M","os":"Android 14","emulator":false,"sim_present":true},"session":{"form_fill_ms":5475,"sms_code_entry_ms":6032,"paste_used":false},"email":"u@example.com"}"#,
            r#" { "type" : "content" , "text" : "加薇信 ab1234" , "timestamp" : "2026-11-25T10:00:00Z" } "#,
            r#"{"type":"profile_update","changed":["nickname","bio"],"profile":{"nickname":"Ann","bio":null,"birth_year":1990}}"#,
            r#"{"type":"login","device":null,"session":{},"profile":{},"changed":[],"region":"cn"}"#,
            "{\"type\":\"login\",\n\t\"user_agent\":\"Mozilla/5.0 \u{1F600}\"\r\n}",
        ] {
            assert!(agree(input), "{input}");
        }
    }

    #[test]
    fn leaves_everything_else_to_serde() {
        for input in [
            r#"{"type":"login","account_id":"a\"b"}"#,
            r#"{"type":"login","account_id":"a\u0041"}"#,
            "{\"type\":\"login\",\"account_id\":\"a\u{1}b\"}",
            r#"{"type":"login","extra":1}"#,
            r#"{"type":"login","type":"login"}"#,
            r#"{"type":"login","device":{"id":"a","id":"b"}}"#,
            r#"{"type":"login","device":{"color":"red"}}"#,
            r#"{"type":"login","device":[]}"#,
            r#"{"type":"login","timestamp":1.5}"#,
            r#"{"type":"login","timestamp":1e3}"#,
            r#"{"type":"login","timestamp":1E3}"#,
            r#"{"type":"login","timestamp":-1}"#,
            r#"{"type":"login","timestamp":0123}"#,
            r#"{"type":"login","timestamp":1234567890123456}"#,
            r#"{"type":"login","session":{"form_fill_ms":12.5}}"#,
            r#"{"type":"login","attributes":{"label":"fraud"}}"#,
            r#"{"type":"login",}"#,
            r#"{"type":"login"} x"#,
            r#"{"type":"login""#,
            r#"{"type":"login","device":{"emulator":tru}}"#,
            r#"{"type":nul}"#,
            r#"{"type":"login","changed":["a",]}"#,
            r#"{"t\u0079pe":"login"}"#,
        ] {
            assert!(!agree(input), "{input}");
        }
    }

    /// A JSON value the fast path may or may not take: plain, escaped and non-ASCII strings,
    /// integers with leading zeros or too many digits, floats, booleans, null.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => "[a-z0-9+@.:\\- 微信中文😀]{0,12}".prop_map(|s| format!("\"{s}\"")),
            1 => "[a-z\"\\\\\u{1}]{0,4}".prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
            3 => "[1-9][0-9]{0,14}",
            1 => "0[0-9]{0,2}|[1-9][0-9]{15,16}",
            1 => "-?[0-9]{1,3}(\\.[0-9])?([eE][+-]?[0-9])?",
            1 => Just("true".to_string()),
            1 => Just("false".to_string()),
            2 => Just("null".to_string()),
        ]
    }

    fn ws() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", "", "", " ", "\n", "\t", "\r\n "])
    }

    /// Members and the kind of value each takes: `s` string, `n` integer, `b` boolean.
    const TOP: &[(&str, char)] = &[
        ("id", 's'),
        ("timestamp", 'n'),
        ("account_id", 's'),
        ("phone", 's'),
        ("region", 's'),
        ("email", 's'),
        ("ip", 's'),
        ("user_agent", 's'),
        ("identity_hash", 's'),
        ("text", 's'),
        ("campaign_id", 's'),
        ("extra", 's'),
    ];
    const DEVICE: &[(&str, char)] = &[
        ("id", 's'),
        ("fingerprint", 's'),
        ("model", 's'),
        ("os", 's'),
        ("emulator", 'b'),
        ("rooted", 'b'),
        ("hooked", 'b'),
        ("sim_present", 'b'),
        ("sim_phone_match", 'b'),
    ];
    const SESSION: &[(&str, char)] =
        &[("form_fill_ms", 'n'), ("sms_code_entry_ms", 'n'), ("captcha_solve_ms", 'n'), ("paste_used", 'b')];
    const PROFILE: &[(&str, char)] =
        &[("nickname", 's'), ("bio", 's'), ("avatar_hash", 's'), ("gender", 's'), ("birth_year", 'n')];

    /// Mostly a value of the member's kind, now and then any value.
    fn value_of(kind: char) -> BoxedStrategy<String> {
        let typed = match kind {
            's' => "[a-z0-9+@.:\\- 微信中文😀]{0,12}".prop_map(|s| format!("\"{s}\"")).boxed(),
            'n' => "[1-9][0-9]{0,14}".boxed(),
            _ => prop::sample::select(vec!["true".to_string(), "false".to_string()]).boxed(),
        };
        prop_oneof![8 => typed, 1 => Just("null".to_string()), 2 => value()].boxed()
    }

    /// An object of distinct members in any order; now and then one repeated.
    fn object(members: &'static [(&'static str, char)], max: usize) -> impl Strategy<Value = String> {
        let keys = prop::sample::subsequence(members, 0..=max.min(members.len())).prop_shuffle();
        (keys, any::<u8>())
            .prop_flat_map(|(mut keys, dup)| {
                if dup < 16 && !keys.is_empty() {
                    keys.push(keys[usize::from(dup) % keys.len()]);
                }
                let values: Vec<_> = keys.iter().map(|(_, kind)| (value_of(*kind), ws(), ws())).collect();
                (Just(keys), values)
            })
            .prop_map(|(keys, values)| {
                let body: Vec<String> =
                    keys.iter().zip(values).map(|((k, _), (v, a, b))| format!("{a}\"{k}\"{b}:{a}{v}{b}")).collect();
                format!("{{{}}}", body.join(","))
            })
    }

    fn event() -> impl Strategy<Value = String> {
        let ty = prop::sample::select(vec!["login", "registration", "content", "sms_code_request", "bogus"]);
        (
            ty,
            object(TOP, 8),
            object(DEVICE, 6),
            object(SESSION, 4),
            object(PROFILE, 5),
            any::<[bool; 4]>(),
            any::<[u8; 4]>(),
            ws(),
        )
            .prop_map(|(ty, top, device, session, profile, with, shape, w)| {
                let mut members = vec![format!("{w}\"type\"{w}:{w}\"{ty}\"")];
                let inner = top.trim_start_matches('{').trim_end_matches('}');
                if !inner.is_empty() {
                    members.push(inner.to_string());
                }
                for (i, (on, name, v)) in
                    [(with[0], "device", device), (with[1], "session", session), (with[2], "profile", profile)]
                        .into_iter()
                        .enumerate()
                {
                    // Mostly an object; now and then null or a list (which serde refuses).
                    let v = match shape[i] % 8 {
                        0 => "null".to_string(),
                        1 => "[]".to_string(),
                        _ => v,
                    };
                    if on {
                        members.push(format!("\"{name}\":{v}"));
                    }
                }
                if with[3] {
                    const CHANGED: &[&str] = &[
                        r#"["nickname" , "bio"]"#,
                        "[]",
                        "null",
                        r#"["password"]"#,
                        r#"["nickname","nickname"]"#,
                        r#"["bogus"]"#,
                        r#"["bio",]"#,
                        r#"[1]"#,
                    ];
                    members.push(format!("\"changed\":{}", CHANGED[usize::from(shape[3]) % CHANGED.len()]));
                }
                format!("{w}{{{}}}{w}", members.join(","))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn fast_path_agrees_with_serde(input in event()) {
            agree(&input);
        }
    }

    /// The generator above reaches the fast path often enough for the property to mean
    /// something: a fixed sample of its cases, counted.
    #[test]
    fn the_generator_reaches_the_fast_path() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
        let mut runner =
            TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
        let strategy = event();
        let (mut fast, mut accepted) = (0, 0);
        for _ in 0..2000 {
            let input = strategy.new_tree(&mut runner).expect("a case").current();
            fast += usize::from(agree(&input));
            accepted += usize::from(parse_event(input.as_bytes()).is_ok());
        }
        eprintln!("{fast} of 2000 cases took the fast path, {accepted} parsed");
        assert!(fast >= 300, "only {fast} of 2000 cases took the fast path");
        assert!(accepted >= 100, "only {accepted} of 2000 cases parsed");
    }
}
