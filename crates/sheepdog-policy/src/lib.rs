//! The policy seam: what turns an enriched event and its features into a decision.
//!
//! `Policy` is the one extension point the engine calls. Today it is filled by `BuiltinPolicy`
//! (threshold rules over the built-in features, sum of reason weights → decision thresholds),
//! configurable by a small TOML file. The policy language plugs in behind the same trait.
//!
//! Pure: no I/O, no clock, no environment.

mod builtin;
mod detect;
mod file;

use std::borrow::Cow;
use std::sync::Arc;

use sheepdog_model::reason::ReasonDef;
use sheepdog_model::{Challenge, Event, FeatureDef, Outcome, Reason};

pub use builtin::{BuiltinPolicy, PolicyFileError, Thresholds};
pub use detect::{builtin_features, default_policy_file, nickname_shape};
pub use file::FilePolicy;

/// Loads a policy file: one with rules, features or lists becomes a `FilePolicy`, a plain
/// settings file the `BuiltinPolicy` it configures.
pub fn load_policy(text: &str) -> Result<Arc<dyn Policy>, PolicyFileError> {
    if FilePolicy::has_rules(text) {
        Ok(Arc::new(FilePolicy::from_toml(text)?))
    } else {
        Ok(Arc::new(BuiltinPolicy::from_toml(text)?))
    }
}

/// A signal found at enrich time (device flags, intel matches): a registered reason, the value
/// and detail that triggered it, and where it came from.
#[derive(Debug, Clone)]
pub struct Signal {
    pub def: &'static ReasonDef,
    pub value: Option<f64>,
    /// Fills `{detail}` in the reason's sentence (the matched range and its source, …).
    pub detail: Option<String>,
    /// A weight decided at enrich time (e.g. decayed by how old a listing is); else the
    /// policy's weight for the code.
    pub weight: Option<i32>,
    /// Came from intelligence (an allow-list entry suppresses these), not from the event itself.
    pub from_intel: bool,
}

impl Signal {
    /// A signal from the event's own fields.
    pub fn event(def: &'static ReasonDef) -> Signal {
        Signal { def, value: None, detail: None, weight: None, from_intel: false }
    }

    /// A signal from intelligence, with its detail.
    pub fn intel(def: &'static ReasonDef, detail: String) -> Signal {
        Signal { def, value: None, detail: Some(detail), weight: None, from_intel: true }
    }
}

/// Everything a policy may look at for one event.
pub struct PolicyInput<'a> {
    pub event: &'a Event<'a>,
    /// Signals found at enrich time.
    pub signals: &'a [Signal],
    /// Feature values, in the order of `Policy::features()`; `None` when the event lacks the key.
    pub features: &'a [Option<f64>],
}

/// What a policy concluded.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub challenge: Option<Challenge>,
    pub score: u32,
    /// Strongest first.
    pub reasons: Vec<Reason>,
    pub rules: Vec<Cow<'static, str>>,
    pub shadow_rules: Vec<Cow<'static, str>>,
}

impl Default for Verdict {
    fn default() -> Self {
        Verdict {
            outcome: Outcome::Allow,
            challenge: None,
            score: 0,
            reasons: Vec::new(),
            rules: Vec::new(),
            shadow_rules: Vec::new(),
        }
    }
}

/// A loaded, immutable policy. Shared as `Arc<dyn Policy>`; reload swaps the whole object.
pub trait Policy: Send + Sync {
    /// Content hash plus label, carried by every decision.
    fn version(&self) -> &Arc<str>;

    /// The windowed features this policy reads; the engine computes them for every event.
    fn features(&self) -> &[FeatureDef];

    /// Decides one event. `out` arrives reset to `Verdict::default()`.
    fn evaluate(&self, input: &PolicyInput<'_>, out: &mut Verdict);
}
