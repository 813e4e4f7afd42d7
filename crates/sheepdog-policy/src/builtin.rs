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
use sheepdog_model::{Challenge, EventType, FeatureDef, Outcome};

use crate::detect::{builtin_features, Args, Finding, DETECTORS};

use crate::{Policy, PolicyInput, Verdict};

/// Score cut-offs: `score >= deny` denies, and so on down; below `challenge` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub challenge: u32,
    pub review: u32,
    pub deny: u32,
}

impl Thresholds {
    /// The outcome a score earns.
    pub fn outcome(self, score: u32) -> Outcome {
        if score >= self.deny {
            Outcome::Deny
        } else if score >= self.review {
            Outcome::Review
        } else if score >= self.challenge {
            Outcome::Challenge
        } else {
            Outcome::Allow
        }
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { challenge: 30, review: 60, deny: 80 }
    }
}

struct Rule {
    id: &'static str,
    /// Indices of the detector's features in the policy's feature list.
    features: Vec<usize>,
    min: f64,
    reason: &'static ReasonDef,
    weight: i32,
    check: fn(&Args) -> Finding,
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
            if !DETECTORS.iter().any(|r| r.id == id) {
                let known: Vec<&str> = DETECTORS.iter().map(|r| r.id).collect();
                return Err(PolicyFileError {
                    message: format!("rules.{id}: unknown rule; built-in rules: {}", known.join(", ")),
                });
            }
        }
        let label = settings.label.unwrap_or_else(|| "custom".to_string());
        Ok(Self::build(&label, text.as_bytes(), t, settings.weights, &settings.rules))
    }

    fn build(
        label: &str,
        content: &[u8],
        thresholds: Thresholds,
        weights: BTreeMap<String, i32>,
        overrides: &BTreeMap<String, RuleSettings>,
    ) -> BuiltinPolicy {
        let features = builtin_features();
        let rules = DETECTORS
            .iter()
            .filter(|r| overrides.get(r.id).and_then(|o| o.enabled) != Some(false))
            .filter_map(|r| {
                let features =
                    r.features.iter().map(|n| features.iter().position(|f| f.name == *n)).collect::<Option<_>>()?;
                let min = overrides.get(r.id).and_then(|o| o.min).unwrap_or(r.min);
                let weight = weights.get(r.reason.code).copied().unwrap_or(r.reason.weight);
                Some(Rule { id: r.id, features, min, reason: r.reason, weight, check: r.check })
            })
            .collect();
        // The version covers the settings and the built-in rule set they apply to: a release
        // that changes a feature or a rule reports a new version.
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(content);
        h.update(format!("{features:?}").as_bytes());
        for r in DETECTORS {
            h.update(r.id.as_bytes());
            h.update(&r.min.to_le_bytes());
            h.update(r.reason.code.as_bytes());
        }
        let hash = h.digest();
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
        let mut values = [None; 8];
        for rule in &self.rules {
            let n = rule.features.len().min(values.len());
            for (slot, &i) in values.iter_mut().zip(&rule.features[..n]) {
                *slot = input.features.get(i).copied().flatten();
            }
            let args = Args { v: &values[..n], min: rule.min, event: input.event };
            if let Some((value, detail)) = (rule.check)(&args) {
                consider(rule.reason, rule.weight, Some(value), detail.as_deref(), out);
                out.rules.push(Cow::Borrowed(rule.id));
            }
        }
        if let Some(a) = allow {
            out.reasons.push(a.def.reason_full(0, None, a.detail.as_deref()));
            out.rules.push(Cow::Borrowed("list_allow"));
        }
        // Strongest first; ties keep a stable order by code.
        out.reasons.sort_by(|a, b| b.weight.cmp(&a.weight).then_with(|| a.code.cmp(&b.code)));
        out.score = total.clamp(0, 100) as u32;
        out.outcome = self.thresholds.outcome(out.score);
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

#[cfg(test)]
mod export_tests {
    use super::*;

    #[test]
    fn the_exported_default_loads_and_keeps_every_rule_and_weight() {
        let text = crate::default_policy_file(Thresholds::default());
        let p = BuiltinPolicy::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let d = BuiltinPolicy::default();
        assert_eq!(p.thresholds(), d.thresholds());
        assert_eq!(p.rules.len(), d.rules.len());
        for (a, b) in p.rules.iter().zip(&d.rules) {
            assert_eq!((a.id, a.min, a.weight), (b.id, b.min, b.weight));
        }
        assert!(p.version().starts_with("edited-"));
    }
}
