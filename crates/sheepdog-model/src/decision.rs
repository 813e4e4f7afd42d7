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
