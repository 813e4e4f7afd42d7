//! The built-in policy: threshold rules over built-in features plus enrich-time signals, summed
//! into a score and cut into a decision by thresholds.
//!
//! Its settings file (TOML, `version = 1`) can relabel it, move the thresholds, re-weight any
//! reason code and change or disable any rule's threshold:
//!
//! ```toml
//! version = 1
//! label = "night-shift"
//! [thresholds]
//! challenge = 30
//! review = 60
//! deny = 80
//! [weights]
//! "device.emulator" = 50
//! [rules.device_many_phones]
//! min = 5
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use sheepdog_model::reason::{self, ReasonDef};
use sheepdog_model::{Challenge, EventType, FeatureDef, FeatureKind, KeyKind, Outcome};

use crate::{Policy, PolicyInput, Verdict};

const HOUR: u64 = 3_600_000;
const MINUTE: u64 = 60_000;

/// Score cut-offs: `score >= deny` denies, and so on down; below `challenge` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub challenge: u32,
    pub review: u32,
    pub deny: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { challenge: 30, review: 60, deny: 80 }
    }
}

fn types(list: &[EventType]) -> u8 {
    list.iter().fold(0, |m, t| m | t.bit())
}

/// The built-in features, named as rules see them.
pub fn builtin_features() -> Vec<FeatureDef> {
    use EventType::*;
    let f = |name: &str, kind, key, ts: &[EventType], window_ms, buckets| FeatureDef {
        name: name.to_string(),
        kind,
        key,
        event_types: types(ts),
        window_ms,
        buckets,
    };
    vec![
        f(
            "phones_per_device_24h",
            FeatureKind::Distinct(KeyKind::Phone),
            KeyKind::DeviceId,
            &[SmsCodeRequest, Registration, Login],
            24 * HOUR,
            24,
        ),
        f(
            "device_ids_per_fingerprint_24h",
            FeatureKind::Distinct(KeyKind::DeviceId),
            KeyKind::DeviceFingerprint,
            &[SmsCodeRequest, Registration, Login, ProfileUpdate, PromoClaim],
            24 * HOUR,
            24,
        ),
        f(
            "registrations_per_fingerprint_1h",
            FeatureKind::Count,
            KeyKind::DeviceFingerprint,
            &[Registration],
            HOUR,
            12,
        ),
        f(
            "accounts_per_ip_prefix_1h",
            FeatureKind::Distinct(KeyKind::Account),
            KeyKind::IpPrefix,
            &[Registration, Login],
            HOUR,
            12,
        ),
        f(
            "phones_per_block_1h",
            FeatureKind::Distinct(KeyKind::Phone),
            KeyKind::PhoneBlock,
            &[SmsCodeRequest, Registration],
            HOUR,
            12,
        ),
        f("sms_requests_per_phone_10m", FeatureKind::Count, KeyKind::Phone, &[SmsCodeRequest], 10 * MINUTE, 10),
        f("registrations_per_ip_1h", FeatureKind::Count, KeyKind::Ip, &[Registration], HOUR, 12),
    ]
}

struct RuleDef {
    id: &'static str,
    feature: &'static str,
    min: f64,
    reason: &'static ReasonDef,
}

const RULES: &[RuleDef] = &[
    RuleDef {
        id: "device_many_phones",
        feature: "phones_per_device_24h",
        min: 4.0,
        reason: reason::DEVICE_MANY_PHONES,
    },
    RuleDef {
        id: "device_id_reset",
        feature: "device_ids_per_fingerprint_24h",
        min: 3.0,
        reason: reason::DEVICE_ID_RESET,
    },
    RuleDef {
        id: "device_registration_burst",
        feature: "registrations_per_fingerprint_1h",
        min: 3.0,
        reason: reason::DEVICE_REGISTRATION_BURST,
    },
    RuleDef {
        id: "ip_many_accounts",
        feature: "accounts_per_ip_prefix_1h",
        min: 50.0,
        reason: reason::IP_MANY_ACCOUNTS,
    },
    RuleDef { id: "phone_block_burst", feature: "phones_per_block_1h", min: 8.0, reason: reason::PHONE_BLOCK_BURST },
    RuleDef { id: "phone_sms_burst", feature: "sms_requests_per_phone_10m", min: 5.0, reason: reason::PHONE_SMS_BURST },
];

struct Rule {
    id: &'static str,
    feature: usize,
    min: f64,
    reason: &'static ReasonDef,
    weight: i32,
}

/// The built-in policy (see the module docs for its settings file).
pub struct BuiltinPolicy {
    version: Arc<str>,
    features: Vec<FeatureDef>,
    rules: Vec<Rule>,
    thresholds: Thresholds,
    /// Weight overrides by reason code.
    weights: BTreeMap<String, i32>,
}

/// A settings file that does not load: the message names the key or value at fault.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct PolicyFileError {
    pub message: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RuleSettings {
    min: Option<f64>,
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    version: u32,
    label: Option<String>,
    #[serde(default)]
    thresholds: Option<Thresholds>,
    #[serde(default)]
    weights: BTreeMap<String, i32>,
    #[serde(default)]
    rules: BTreeMap<String, RuleSettings>,
}

impl Default for BuiltinPolicy {
    fn default() -> Self {
        Self::build("builtin", &[], Thresholds::default(), BTreeMap::new(), &BTreeMap::new())
    }
}

impl BuiltinPolicy {
    /// Loads a settings file's text.
    pub fn from_toml(text: &str) -> Result<BuiltinPolicy, PolicyFileError> {
        let de = toml::Deserializer::new(text);
        let settings: Settings = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let msg = inner.message().to_string();
            PolicyFileError { message: if path == "." { msg } else { format!("{path}: {msg}") } }
        })?;
        if settings.version != 1 {
            return Err(PolicyFileError {
                message: format!("version: unsupported policy file version {}; this build reads 1", settings.version),
            });
        }
        let t = settings.thresholds.unwrap_or_default();
        if !(t.challenge <= t.review && t.review <= t.deny) {
            return Err(PolicyFileError { message: "thresholds: need challenge <= review <= deny".into() });
        }
        for code in settings.weights.keys() {
            if reason::lookup(code).is_none() {
                return Err(PolicyFileError { message: format!("weights.{code}: unknown reason code") });
            }
        }
        for id in settings.rules.keys() {
            if !RULES.iter().any(|r| r.id == id) {
                let known: Vec<&str> = RULES.iter().map(|r| r.id).collect();
                return Err(PolicyFileError {
                    message: format!("rules.{id}: unknown rule; built-in rules: {}", known.join(", ")),
                });
            }
        }
        let hash = xxhash_rust::xxh3::xxh3_64(text.as_bytes());
        let label = settings.label.unwrap_or_else(|| "custom".to_string());
        let mut p = Self::build(&label, text.as_bytes(), t, settings.weights, &settings.rules);
        p.version = format!("{label}-{:08x}", hash as u32).into();
        Ok(p)
    }

    fn build(
        label: &str,
        content: &[u8],
        thresholds: Thresholds,
        weights: BTreeMap<String, i32>,
        overrides: &BTreeMap<String, RuleSettings>,
    ) -> BuiltinPolicy {
        let features = builtin_features();
        let rules = RULES
            .iter()
            .filter(|r| overrides.get(r.id).and_then(|o| o.enabled) != Some(false))
            .filter_map(|r| {
                let feature = features.iter().position(|f| f.name == r.feature)?;
                let min = overrides.get(r.id).and_then(|o| o.min).unwrap_or(r.min);
                let weight = weights.get(r.reason.code).copied().unwrap_or(r.reason.weight);
                Some(Rule { id: r.id, feature, min, reason: r.reason, weight })
            })
            .collect();
        let hash = xxhash_rust::xxh3::xxh3_64(content);
        BuiltinPolicy { version: format!("{label}-{:08x}", hash as u32).into(), features, rules, thresholds, weights }
    }

    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }
}

impl Policy for BuiltinPolicy {
    fn version(&self) -> &Arc<str> {
        &self.version
    }

    fn features(&self) -> &[FeatureDef] {
        &self.features
    }

    fn evaluate(&self, input: &PolicyInput<'_>, out: &mut Verdict) {
        if input.event.event_type == EventType::Label {
            return;
        }
        let mut best_challenge: Option<(i32, Challenge)> = None;
        let mut total: i64 = 0;
        let mut consider =
            |def: &'static ReasonDef, weight: i32, value: Option<f64>, detail: Option<&str>, out: &mut Verdict| {
                if weight <= 0 {
                    return;
                }
                total += i64::from(weight);
                if let Some(c) = def.challenge {
                    if best_challenge.is_none_or(|(w, _)| weight > w) {
                        best_challenge = Some((weight, c));
                    }
                }
                out.reasons.push(def.reason_full(weight, value, detail));
            };
        // Operator lists: deny beats everything, allow beats intelligence.
        let deny = input.signals.iter().find(|s| s.def.code == reason::LIST_DENY.code);
        let allow = input.signals.iter().find(|s| s.def.code == reason::LIST_ALLOW.code);
        if let Some(d) = deny {
            out.reasons.push(d.def.reason_full(100, None, d.detail.as_deref()));
            out.rules.push(Cow::Borrowed("list_deny"));
            out.score = 100;
            out.outcome = Outcome::Deny;
            return;
        }
        for s in input.signals {
            if s.def.code == reason::LIST_ALLOW.code || (allow.is_some() && s.from_intel) {
                continue;
            }
            let weight = match (self.weights.get(s.def.code), s.weight) {
                (Some(w), _) => *w,
                (None, Some(w)) => w,
                (None, None) => s.def.weight,
            };
            consider(s.def, weight, s.value, s.detail.as_deref(), out);
        }
        for rule in &self.rules {
            if let Some(Some(v)) = input.features.get(rule.feature) {
                if *v >= rule.min {
                    consider(rule.reason, rule.weight, Some(*v), None, out);
                    out.rules.push(Cow::Borrowed(rule.id));
                }
            }
        }
        if let Some(a) = allow {
            out.reasons.push(a.def.reason_full(0, None, a.detail.as_deref()));
            out.rules.push(Cow::Borrowed("list_allow"));
        }
        // Strongest first; ties keep a stable order by code.
        out.reasons.sort_by(|a, b| b.weight.cmp(&a.weight).then_with(|| a.code.cmp(&b.code)));
        out.score = total.clamp(0, 100) as u32;
        let t = self.thresholds;
        out.outcome = if out.score >= t.deny {
            Outcome::Deny
        } else if out.score >= t.review {
            Outcome::Review
        } else if out.score >= t.challenge {
            Outcome::Challenge
        } else {
            Outcome::Allow
        };
        if out.outcome == Outcome::Challenge {
            out.challenge = Some(best_challenge.map_or(Challenge::Captcha, |(_, c)| c));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_reject_unknown_keys_by_name() {
        let e = BuiltinPolicy::from_toml("version = 1\n[thresholds]\nchallenge = 1\nreview = 2\ndeny = 3\nfoo = 4\n")
            .err()
            .unwrap();
        assert!(e.message.contains("foo"), "{}", e.message);
        let e = BuiltinPolicy::from_toml("version = 1\n[weights]\n\"no.such\" = 3\n").err().unwrap();
        assert!(e.message.contains("no.such"), "{}", e.message);
        let e = BuiltinPolicy::from_toml("version = 2\n").err().unwrap();
        assert!(e.message.contains("version"), "{}", e.message);
    }

    #[test]
    fn version_carries_label_and_hash() {
        let a = BuiltinPolicy::from_toml("version = 1\nlabel = \"night\"\n").unwrap();
        let b = BuiltinPolicy::from_toml(
            "version = 1\nlabel = \"night\"\n[thresholds]\nchallenge = 20\nreview = 60\ndeny = 80\n",
        )
        .unwrap();
        assert!(a.version().starts_with("night-"));
        assert_ne!(a.version(), b.version());
        assert_eq!(b.thresholds().challenge, 20);
    }
}
