//! Feature definitions: what to count, keyed by which entity, over which event-time window.
//!
//! The built-in policy defines a set of these today; the policy language will declare more of
//! the same kinds in policy files. The engine derives the keys, the state store keeps the windows.

/// An entity or derived key an event can be counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// Normalised phone number.
    Phone,
    /// Phone number minus its last digits (a card dealer's batch shares it).
    PhoneBlock,
    DeviceId,
    DeviceFingerprint,
    Ip,
    /// IPv4 /24 or IPv6 /64.
    IpPrefix,
    EmailDomain,
    /// Normalised e-mail address.
    Email,
    Account,
    Identity,
    Campaign,
    AvatarHash,
}

impl KeyKind {
    pub const ALL: [KeyKind; 12] = [
        KeyKind::Phone,
        KeyKind::PhoneBlock,
        KeyKind::DeviceId,
        KeyKind::DeviceFingerprint,
        KeyKind::Ip,
        KeyKind::IpPrefix,
        KeyKind::EmailDomain,
        KeyKind::Email,
        KeyKind::Account,
        KeyKind::Identity,
        KeyKind::Campaign,
        KeyKind::AvatarHash,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Phone => "phone",
            KeyKind::PhoneBlock => "phone_block",
            KeyKind::DeviceId => "device_id",
            KeyKind::DeviceFingerprint => "device_fingerprint",
            KeyKind::Ip => "ip",
            KeyKind::IpPrefix => "ip_prefix",
            KeyKind::EmailDomain => "email_domain",
            KeyKind::Email => "email",
            KeyKind::Account => "account",
            KeyKind::Identity => "identity",
            KeyKind::Campaign => "campaign",
            KeyKind::AvatarHash => "avatar_hash",
        }
    }

    pub fn parse(s: &str) -> Option<KeyKind> {
        KeyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// What a feature computes over its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeatureKind {
    /// Number of matching events for the key.
    Count,
    /// Number of distinct values of another key seen with the key.
    Distinct(KeyKind),
}

/// A windowed feature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeatureDef {
    /// Stable name visible to rules, e.g. `phones_per_device_24h`.
    pub name: String,
    pub kind: FeatureKind,
    pub key: KeyKind,
    /// Bit set of event types (`EventType::bit`) that update and read this feature.
    pub event_types: u8,
    /// Window length in milliseconds.
    pub window_ms: u64,
    /// Number of buckets the window is cut into: the resolution is `window_ms / buckets`.
    pub buckets: u16,
}

impl FeatureDef {
    /// Bucket width in milliseconds (at least 1).
    pub fn bucket_ms(&self) -> u64 {
        (self.window_ms / u64::from(self.buckets.max(1))).max(1)
    }
}
