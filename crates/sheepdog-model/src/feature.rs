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
    /// The number's last digits (the part the block drops), as decimal digits: the member of
    /// sequential-run features on a block.
    PhoneSuffix,
    /// Normalised profile bio (hashed by the store).
    Bio,
    /// A generated-looking nickname's shape (e.g. `ld:5:4`, five letters then four digits)
    /// together with the IPv4 /24 or IPv6 /64 it came from: registrars' templates.
    NicknameShapeNet,
}

impl KeyKind {
    pub const ALL: [KeyKind; 15] = [
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
        KeyKind::PhoneSuffix,
        KeyKind::Bio,
        KeyKind::NicknameShapeNet,
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
            KeyKind::PhoneSuffix => "phone_suffix",
            KeyKind::Bio => "bio",
            KeyKind::NicknameShapeNet => "nickname_shape_net",
        }
    }

    pub fn parse(s: &str) -> Option<KeyKind> {
        KeyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A numeric event field that robust statistics are kept of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumField {
    /// `session.form_fill_ms`
    FormFillMs,
    /// `session.sms_code_entry_ms`
    SmsCodeEntryMs,
    /// `session.captcha_solve_ms`
    CaptchaSolveMs,
}

impl NumField {
    pub fn as_str(self) -> &'static str {
        match self {
            NumField::FormFillMs => "session.form_fill_ms",
            NumField::SmsCodeEntryMs => "session.sms_code_entry_ms",
            NumField::CaptchaSolveMs => "session.captcha_solve_ms",
        }
    }
}

/// What a feature computes over its window.
///
/// Features of the distinct family (`Distinct`, `SequentialRun`, `MemberAge`, `OthersIdle`) on
/// the same key, member key, event types and window share one stored set; `Median` and
/// `Spread` of one field share one sample. Durations are in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeatureKind {
    /// Number of matching events for the key.
    Count,
    /// Number of distinct values of another key seen with the key.
    Distinct(KeyKind),
    /// Longest near-sequential run among the distinct numeric members seen with the key (the
    /// member key's value read as a decimal number, e.g. `PhoneSuffix`): consecutive members,
    /// sorted, at most `SEQUENTIAL_GAP` apart. Order of arrival and gaps do not matter.
    SequentialRun(KeyKind),
    /// Seconds since this event's member was first seen with the key (0: new now).
    MemberAge(KeyKind),
    /// Seconds since any other member was last seen with the key; absent when there is none.
    OthersIdle(KeyKind),
    /// Seconds since the key was first seen (0: new now; forgotten after the window idle).
    Age,
    /// Seconds since the key's previous event; absent on its first.
    Idle,
    /// Median of a field over the key's recent events; absent below `MIN_SAMPLES`.
    Median(NumField),
    /// Spread of a field: median absolute deviation over the median, in per mille (0: every
    /// value identical); absent below `MIN_SAMPLES`. Relayed codes and scripts are uniform.
    Spread(NumField),
}

/// Largest gap between neighbouring members of a sequential run.
pub const SEQUENTIAL_GAP: u64 = 8;
/// Samples a key needs before `Median` and `Spread` have a value.
pub const MIN_SAMPLES: usize = 5;

/// A windowed feature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeatureDef {
    /// Stable name visible to rules, e.g. `phones_per_device_24h`.
    pub name: String,
    pub kind: FeatureKind,
    pub key: KeyKind,
    /// Bit set of event types (`EventType::bit`) that update and read this feature.
    pub event_types: u8,
    /// Further event types that only read it (e.g. registrations per block read on code
    /// requests, to measure conversion).
    pub read_types: u8,
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
