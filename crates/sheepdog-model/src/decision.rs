//! The decision object returned for every event.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// What the app should do with the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allow,
    Challenge,
    Review,
    Deny,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [Outcome::Allow, Outcome::Challenge, Outcome::Review, Outcome::Deny];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Challenge => "challenge",
            Outcome::Review => "review",
            Outcome::Deny => "deny",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The check a `challenge` decision asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Challenge {
    Captcha,
    SmsOtp,
    /// SIM-in-device number verification: a relayed code cannot pass it.
    CarrierVerify,
    VoiceCall,
    IdVerify,
}

impl Challenge {
    pub fn as_str(self) -> &'static str {
        match self {
            Challenge::Captcha => "captcha",
            Challenge::SmsOtp => "sms_otp",
            Challenge::CarrierVerify => "carrier_verify",
            Challenge::VoiceCall => "voice_call",
            Challenge::IdVerify => "id_verify",
        }
    }
}

/// One reason for a decision: stable dotted code, human sentence, weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub code: Cow<'static, str>,
    pub message: String,
    pub weight: i32,
}

/// The link cluster an event's entities belong to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub id: String,
    pub size: u64,
    pub labelled_bad: u64,
}

/// The engine's answer to one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub event_id: String,
    pub decision: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<Challenge>,
    /// 0-100, higher is riskier.
    pub score: u32,
    /// Strongest first.
    pub reasons: Vec<Reason>,
    pub rules: Vec<Cow<'static, str>>,
    pub cluster: Option<Cluster>,
    pub policy_version: Arc<str>,
    pub latency_us: u64,
    /// Rules that matched in shadow mode: recorded, never acting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shadow_rules: Vec<Cow<'static, str>>,
    /// Feature values the policy saw; only when asked for (`?explain=true`, `score --explain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<BTreeMap<String, f64>>,
}

impl Decision {
    /// Appends the decision as JSON to `out`: the same bytes as `serde_json::to_writer`, written
    /// directly. Strings are checked for characters to escape eight bytes at a time; serde_json
    /// looks at every byte, which made serialising a decision with its reasons a tenth of a
    /// whole `score` run.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"event_id\":");
        write_str(out, &self.event_id);
        out.extend_from_slice(b",\"decision\":\"");
        out.extend_from_slice(self.decision.as_str().as_bytes());
        out.push(b'"');
        if let Some(c) = self.challenge {
            out.extend_from_slice(b",\"challenge\":\"");
            out.extend_from_slice(c.as_str().as_bytes());
            out.push(b'"');
        }
        out.extend_from_slice(b",\"score\":");
        write_int(out, self.score);
        out.extend_from_slice(b",\"reasons\":[");
        for (i, r) in self.reasons.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"code\":");
            write_str(out, &r.code);
            out.extend_from_slice(b",\"message\":");
            write_str(out, &r.message);
            out.extend_from_slice(b",\"weight\":");
            write_int(out, r.weight);
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"rules\":");
        write_strs(out, &self.rules);
        out.extend_from_slice(b",\"cluster\":");
        match &self.cluster {
            None => out.extend_from_slice(b"null"),
            Some(c) => {
                out.extend_from_slice(b"{\"id\":");
                write_str(out, &c.id);
                out.extend_from_slice(b",\"size\":");
                write_int(out, c.size);
                out.extend_from_slice(b",\"labelled_bad\":");
                write_int(out, c.labelled_bad);
                out.push(b'}');
            }
        }
        out.extend_from_slice(b",\"policy_version\":");
        write_str(out, &self.policy_version);
        out.extend_from_slice(b",\"latency_us\":");
        write_int(out, self.latency_us);
        if !self.shadow_rules.is_empty() {
            out.extend_from_slice(b",\"shadow_rules\":");
            write_strs(out, &self.shadow_rules);
        }
        if let Some(f) = &self.features {
            out.extend_from_slice(b",\"features\":");
            // Rare (explained decisions only): floats as serde_json writes them. A map of
            // strings to numbers always serialises; were it ever to fail, `{}` stands in whole.
            match serde_json::to_vec(f) {
                Ok(v) => out.extend_from_slice(&v),
                Err(_) => out.extend_from_slice(b"{}"),
            }
        }
        out.push(b'}');
    }
}

fn write_int(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn write_strs(out: &mut Vec<u8>, v: &[Cow<'static, str>]) {
    out.push(b'[');
    for (i, s) in v.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, s);
    }
    out.push(b']');
}

/// True when one of the eight bytes of `w` is a control character, `"` or `\`.
#[inline]
fn needs_escape(w: u64) -> bool {
    escape_mask(w) != 0
}

/// The high bit of each byte of `w` (little-endian) that is a control character, `"` or `\`.
/// Exact up to its lowest set bit (a borrow may flag bytes above a flagged one, never below),
/// so `trailing_zeros() / 8` is the first such byte.
#[inline]
pub(crate) fn escape_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    below_space | zero_byte(w ^ (ONES * u64::from(b'"'))) | zero_byte(w ^ (ONES * u64::from(b'\\')))
}

/// A JSON string, escaped as serde_json escapes (`\"`, `\\`, `\b\f\n\r\t`, other controls as
/// `\u00xx`; everything else as is).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if let Some(chunk) = b.get(i..i + 8) {
            let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            if !needs_escape(w) {
                i += 8;
                continue;
            }
        }
        let c = b[i];
        let short = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            0..=0x1f => b'u',
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&b[start..i]);
        out.push(b'\\');
        out.push(short);
        if short == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[b'0', b'0', HEX[usize::from(c >> 4)], HEX[usize::from(c & 0xf)]]);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        // Controls, quotes, backslashes, DEL, multi-byte characters, long runs.
        proptest::collection::vec(
            prop_oneof![
                4 => proptest::char::range('a', 'z'),
                1 => proptest::char::range('\0', '\u{1f}'),
                1 => Just('"'),
                1 => Just('\\'),
                1 => Just('\u{7f}'),
                1 => Just('微'),
                1 => Just('😀'),
                1 => Just('/'),
            ],
            0..40,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    fn decision() -> impl Strategy<Value = Decision> {
        let reason =
            (text(), text(), any::<i32>()).prop_map(|(c, m, w)| Reason { code: c.into(), message: m, weight: w });
        let cluster =
            proptest::option::of((text(), any::<u64>(), any::<u64>()).prop_map(|(id, size, labelled_bad)| Cluster {
                id,
                size,
                labelled_bad,
            }));
        let features = proptest::option::of(proptest::collection::btree_map(text(), -1e9f64..1e9, 0..4));
        (
            (text(), 0usize..4, proptest::option::of(0usize..5), any::<u32>()),
            proptest::collection::vec(reason, 0..4),
            proptest::collection::vec(text(), 0..3),
            cluster,
            (text(), any::<u64>(), proptest::collection::vec(text(), 0..2), features),
        )
            .prop_map(|((id, o, c, score), reasons, rules, cluster, (version, latency, shadow, features))| {
                Decision {
                    event_id: id,
                    decision: Outcome::ALL[o],
                    challenge: c.map(|i| {
                        [
                            Challenge::Captcha,
                            Challenge::SmsOtp,
                            Challenge::CarrierVerify,
                            Challenge::VoiceCall,
                            Challenge::IdVerify,
                        ][i]
                    }),
                    score,
                    reasons,
                    rules: rules.into_iter().map(Cow::Owned).collect(),
                    cluster,
                    policy_version: version.into(),
                    latency_us: latency,
                    shadow_rules: shadow.into_iter().map(Cow::Owned).collect(),
                    features,
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        #[test]
        fn write_json_is_byte_for_byte_serde_json(d in decision()) {
            let mut ours = Vec::new();
            d.write_json(&mut ours);
            let theirs = serde_json::to_vec(&d).unwrap();
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn strings_escape_as_serde_json_does(s in text()) {
            let mut ours = Vec::new();
            write_str(&mut ours, &s);
            prop_assert_eq!(ours, serde_json::to_vec(&s).unwrap());
        }
    }

    #[test]
    fn every_byte_that_needs_escaping_is_seen_at_every_position_of_a_word() {
        for c in 0u8..=0x7f {
            for pos in 0..8 {
                let mut w = [b'a'; 8];
                w[pos] = c;
                let expected = c < 0x20 || c == b'"' || c == b'\\';
                assert_eq!(needs_escape(u64::from_le_bytes(w)), expected, "byte {c:#x} at {pos}");
            }
        }
        // Bytes of multi-byte characters never need escaping.
        for c in 0x80u8..=0xff {
            assert!(!needs_escape(u64::from_le_bytes([c; 8])), "byte {c:#x}");
        }
    }
}
