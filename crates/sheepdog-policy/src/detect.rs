//! The built-in features and the detectors that read them: one per link of the chain.
//!
//! A detector is a rule of the built-in policy: an id, a reason code, a threshold (`min`,
//! which a settings file may move) and a check over the features it names. Most are plain
//! thresholds; some weigh several features (conversion ratios, shared-network exemptions,
//! ownership change). The policy language will express the same rules in policy files.

use sheepdog_model::reason::{self, ReasonDef};
use sheepdog_model::{Changed, Event, EventType, FeatureDef, FeatureKind, KeyKind, NumField};

const MINUTE: u64 = 60_000;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

const SMS: u8 = 1 << EventType::SmsCodeRequest as u8;
const REG: u8 = 1 << EventType::Registration as u8;
const LOGIN: u8 = 1 << EventType::Login as u8;
const PROFILE: u8 = 1 << EventType::ProfileUpdate as u8;
const CONTENT: u8 = 1 << EventType::Content as u8;
const PROMO: u8 = 1 << EventType::PromoClaim as u8;
const ANY: u8 = SMS | REG | LOGIN | PROFILE | CONTENT | PROMO;

/// A network prefix counts as an established shared network (campus, office, carrier NAT)
/// when it was first seen this many seconds ago…
pub const SHARED_NET_MIN_AGE_S: f64 = 2.0 * 86_400.0;
/// …and this many distinct device fingerprints used it in the last 7 days.
pub const SHARED_NET_MIN_DEVICES: f64 = 32.0;

struct Def(&'static str, FeatureKind, KeyKind, u8, u8, u64, u16);

/// (name, kind, key, recording types, read-only types, window, buckets)
const FEATURES: &[Def] = &[
    // Velocity and distinct counts.
    Def(
        "phones_per_device_24h",
        FeatureKind::Distinct(KeyKind::Phone),
        KeyKind::DeviceId,
        SMS | REG | LOGIN,
        0,
        DAY,
        24,
    ),
    Def(
        "device_ids_per_fingerprint_24h",
        FeatureKind::Distinct(KeyKind::DeviceId),
        KeyKind::DeviceFingerprint,
        SMS | REG | LOGIN | PROFILE | PROMO,
        0,
        DAY,
        24,
    ),
    Def("registrations_per_fingerprint_1h", FeatureKind::Count, KeyKind::DeviceFingerprint, REG, 0, HOUR, 12),
    Def(
        "accounts_registered_per_fingerprint_7d",
        FeatureKind::Distinct(KeyKind::Account),
        KeyKind::DeviceFingerprint,
        REG,
        0,
        7 * DAY,
        7,
    ),
    Def(
        "accounts_per_ip_prefix_1h",
        FeatureKind::Distinct(KeyKind::Account),
        KeyKind::IpPrefix,
        REG | LOGIN,
        0,
        HOUR,
        12,
    ),
    Def("phones_per_block_1h", FeatureKind::Distinct(KeyKind::Phone), KeyKind::PhoneBlock, SMS | REG, 0, HOUR, 12),
    Def("sms_requests_per_phone_10m", FeatureKind::Count, KeyKind::Phone, SMS, 0, 10 * MINUTE, 10),
    Def("registrations_per_ip_1h", FeatureKind::Count, KeyKind::Ip, REG, SMS, HOUR, 12),
    // Number-block density and conversion.
    Def("block_numbers_24h", FeatureKind::Distinct(KeyKind::PhoneSuffix), KeyKind::PhoneBlock, SMS | REG, 0, DAY, 24),
    Def(
        "block_sequential_run_24h",
        FeatureKind::SequentialRun(KeyKind::PhoneSuffix),
        KeyKind::PhoneBlock,
        SMS | REG,
        0,
        DAY,
        24,
    ),
    Def("block_code_numbers_24h", FeatureKind::Distinct(KeyKind::PhoneSuffix), KeyKind::PhoneBlock, SMS, 0, DAY, 24),
    Def(
        "block_registered_numbers_24h",
        FeatureKind::Distinct(KeyKind::PhoneSuffix),
        KeyKind::PhoneBlock,
        REG,
        SMS,
        DAY,
        24,
    ),
    Def("code_requests_per_ip_1h", FeatureKind::Count, KeyKind::Ip, SMS, 0, HOUR, 12),
    // Code-relay and form timing, as robust statistics per device and per network.
    Def(
        "code_entry_median_ms_fingerprint_24h",
        FeatureKind::Median(NumField::SmsCodeEntryMs),
        KeyKind::DeviceFingerprint,
        REG | LOGIN,
        0,
        DAY,
        24,
    ),
    Def(
        "code_entry_spread_fingerprint_24h",
        FeatureKind::Spread(NumField::SmsCodeEntryMs),
        KeyKind::DeviceFingerprint,
        REG | LOGIN,
        0,
        DAY,
        24,
    ),
    Def(
        "code_entry_median_ms_ip_prefix_24h",
        FeatureKind::Median(NumField::SmsCodeEntryMs),
        KeyKind::IpPrefix,
        REG | LOGIN,
        0,
        DAY,
        24,
    ),
    Def(
        "code_entry_spread_ip_prefix_24h",
        FeatureKind::Spread(NumField::SmsCodeEntryMs),
        KeyKind::IpPrefix,
        REG | LOGIN,
        0,
        DAY,
        24,
    ),
    Def(
        "form_fill_median_ms_fingerprint_24h",
        FeatureKind::Median(NumField::FormFillMs),
        KeyKind::DeviceFingerprint,
        REG,
        0,
        DAY,
        24,
    ),
    Def(
        "form_fill_spread_fingerprint_24h",
        FeatureKind::Spread(NumField::FormFillMs),
        KeyKind::DeviceFingerprint,
        REG,
        0,
        DAY,
        24,
    ),
    // Number reuse.
    Def(
        "accounts_per_phone_30d",
        FeatureKind::Distinct(KeyKind::Account),
        KeyKind::Phone,
        REG | LOGIN | PROFILE,
        0,
        30 * DAY,
        30,
    ),
    Def(
        "phones_per_account_30d",
        FeatureKind::Distinct(KeyKind::Phone),
        KeyKind::Account,
        REG | LOGIN | PROFILE,
        0,
        30 * DAY,
        30,
    ),
    // Profile templates.
    Def(
        "accounts_per_avatar_24h",
        FeatureKind::Distinct(KeyKind::Account),
        KeyKind::AvatarHash,
        REG | PROFILE,
        0,
        DAY,
        24,
    ),
    Def("accounts_per_bio_24h", FeatureKind::Distinct(KeyKind::Account), KeyKind::Bio, REG | PROFILE, 0, DAY, 24),
    Def("avatar_age_s", FeatureKind::Age, KeyKind::AvatarHash, REG | PROFILE, 0, 30 * DAY, 30),
    Def("bio_age_s", FeatureKind::Age, KeyKind::Bio, REG | PROFILE, 0, 30 * DAY, 30),
    Def(
        "accounts_per_nickname_shape_net_24h",
        FeatureKind::Distinct(KeyKind::Account),
        KeyKind::NicknameShapeNet,
        REG | PROFILE,
        0,
        DAY,
        24,
    ),
    // Account life: age, devices, networks (ownership change).
    Def("account_age_s", FeatureKind::Age, KeyKind::Account, REG | LOGIN | PROFILE | CONTENT | PROMO, 0, 90 * DAY, 90),
    Def(
        "fingerprints_per_account_90d",
        FeatureKind::Distinct(KeyKind::DeviceFingerprint),
        KeyKind::Account,
        REG | LOGIN | PROFILE,
        0,
        90 * DAY,
        2160,
    ),
    Def(
        "fingerprint_age_on_account_s",
        FeatureKind::MemberAge(KeyKind::DeviceFingerprint),
        KeyKind::Account,
        REG | LOGIN | PROFILE,
        0,
        90 * DAY,
        2160,
    ),
    Def(
        "other_devices_idle_s",
        FeatureKind::OthersIdle(KeyKind::DeviceFingerprint),
        KeyKind::Account,
        REG | LOGIN | PROFILE,
        0,
        90 * DAY,
        2160,
    ),
    Def(
        "network_age_on_account_s",
        FeatureKind::MemberAge(KeyKind::IpPrefix),
        KeyKind::Account,
        REG | LOGIN | PROFILE,
        0,
        90 * DAY,
        2160,
    ),
    Def(
        "accounts_per_fingerprint_login_7d",
        FeatureKind::Distinct(KeyKind::Account),
        KeyKind::DeviceFingerprint,
        LOGIN,
        0,
        7 * DAY,
        168,
    ),
    // Promotions.
    Def(
        "claims_per_fingerprint_24h",
        FeatureKind::Distinct(KeyKind::Account),
        KeyKind::DeviceFingerprint,
        PROMO,
        0,
        DAY,
        24,
    ),
    Def("claims_per_ip_prefix_1h", FeatureKind::Distinct(KeyKind::Account), KeyKind::IpPrefix, PROMO, 0, HOUR, 12),
    Def("claims_per_block_24h", FeatureKind::Distinct(KeyKind::Account), KeyKind::PhoneBlock, PROMO, 0, DAY, 24),
    Def("campaign_age_s", FeatureKind::Age, KeyKind::Campaign, PROMO, 0, 30 * DAY, 30),
    // Shared networks: how old and how populous a prefix is.
    Def("ip_prefix_age_s", FeatureKind::Age, KeyKind::IpPrefix, ANY, 0, 30 * DAY, 30),
    Def(
        "devices_per_ip_prefix_7d",
        FeatureKind::Distinct(KeyKind::DeviceFingerprint),
        KeyKind::IpPrefix,
        ANY,
        0,
        7 * DAY,
        7,
    ),
    // Bought identities.
    Def("accounts_per_identity_30d", FeatureKind::Distinct(KeyKind::Account), KeyKind::Identity, ANY, 0, 30 * DAY, 30),
    Def(
        "identities_per_fingerprint_30d",
        FeatureKind::Distinct(KeyKind::Identity),
        KeyKind::DeviceFingerprint,
        ANY,
        0,
        30 * DAY,
        30,
    ),
];

/// The built-in features, named as rules see them.
pub fn builtin_features() -> Vec<FeatureDef> {
    FEATURES
        .iter()
        .map(|d| FeatureDef {
            name: d.0.to_string(),
            kind: d.1,
            key: d.2,
            event_types: d.3,
            read_types: d.4,
            window_ms: d.5,
            buckets: d.6,
        })
        .collect()
}

/// What a detector's check sees: the values of the features it names, in order.
pub(crate) struct Args<'a> {
    pub v: &'a [Option<f64>],
    pub min: f64,
    pub event: &'a Event<'a>,
}

impl Args<'_> {
    fn at_least(&self, i: usize) -> Option<f64> {
        self.v[i].filter(|v| *v >= self.min)
    }
}

/// A detector's finding: the value shown in the sentence and an optional detail.
pub(crate) type Finding = Option<(f64, Option<String>)>;

pub(crate) struct Detector {
    pub id: &'static str,
    /// Why the rule exists and what keeps honest users clear of it (printed by
    /// `sheepdog policy export-default`).
    pub why: &'static str,
    pub reason: &'static ReasonDef,
    pub min: f64,
    pub features: &'static [&'static str],
    pub check: fn(&Args) -> Finding,
}

fn threshold(a: &Args) -> Finding {
    a.at_least(0).map(|v| (v, None))
}

/// A profile value shared by `min` accounts in a day is a template while it is young; a value
/// in use for days (a popular phrase, an app's stock avatar) needs a burst of ten.
fn template_reuse(a: &Args) -> Finding {
    let n = a.at_least(0)?;
    let young = a.v[1].is_none_or(|age| age < TEMPLATE_MAX_AGE_S);
    (young || n >= 10.0).then_some((n, None))
}

/// Profile values older than this are established, not a fresh template.
pub const TEMPLATE_MAX_AGE_S: f64 = 3.0 * 86_400.0;

/// A count over `min` (feature 0), unless the prefix (age: feature 1, devices: feature 2) is an
/// established shared network.
fn unless_shared_network(a: &Args) -> Finding {
    a.at_least(0).filter(|_| !shared_network(a.v[1], a.v[2])).map(|v| (v, None))
}

/// Codes asked for (feature 0, at least `min`) of which under 20 % registered (feature 1): the
/// value is the registered share in percent, the detail the number asked.
fn low_conversion(a: &Args) -> Finding {
    let asked = a.at_least(0)?;
    let registered = a.v[1].unwrap_or(0.0);
    let pct = (100.0 * registered / asked).round();
    (pct < 20.0).then(|| (pct, Some(format!("{asked}"))))
}

/// An established shared network: old enough and populous enough that many accounts behind
/// it are ordinary (campus, office, carrier NAT). `age` and `devices` are feature values.
fn shared_network(age: Option<f64>, devices: Option<f64>) -> bool {
    age.is_some_and(|a| a >= SHARED_NET_MIN_AGE_S) && devices.is_some_and(|d| d >= SHARED_NET_MIN_DEVICES)
}

const CREDENTIALS: [Changed; 5] =
    [Changed::Password, Changed::Phone, Changed::Email, Changed::Identity, Changed::DeviceBinding];

pub(crate) const DETECTORS: &[Detector] = &[
    Detector {
        id: "device_many_phones",
        why: "Cat pools and registrars cycle many SIMs through one device. Six numbers a day: a family of five signing up on one tablet stays under it.",
        reason: reason::DEVICE_MANY_PHONES,
        // A family of five signing up on one tablet stays under it.
        min: 6.0,
        features: &["phones_per_device_24h"],
        check: threshold,
    },
    Detector {
        id: "device_id_reset",
        why: "ID-reset tools give one piece of hardware a new device id per account; the hardware fingerprint stays. Three ids a day on one fingerprint; a reinstall makes two.",
        reason: reason::DEVICE_ID_RESET,
        min: 3.0,
        features: &["device_ids_per_fingerprint_24h"],
        check: threshold,
    },
    Detector {
        id: "device_registration_burst",
        why: "A registrar's phone makes accounts back to back: six registrations in an hour from one device hardware. A family of five signing up together on one tablet stays under it (simulator: at 3 it challenged 58 % of the family's registrations and stopped nothing more).",
        reason: reason::DEVICE_REGISTRATION_BURST,
        min: 6.0,
        features: &["registrations_per_fingerprint_1h"],
        check: threshold,
    },
    Detector {
        // Low and slow: a registrar's phone, kept under hourly thresholds, over a week.
        id: "device_many_registrations",
        why: "Low and slow: a registrar kept under the hourly thresholds still makes six accounts a week on one device (simulator: without it the low-and-slow campaign loses 19.6 points).",
        reason: reason::DEVICE_MANY_REGISTRATIONS,
        min: 6.0,
        features: &["accounts_registered_per_fingerprint_7d"],
        check: |a| if a.event.event_type == EventType::Registration { threshold(a) } else { None },
    },
    Detector {
        id: "ip_many_accounts",
        why: "Twenty accounts an hour behind one network prefix, unless the prefix is an established shared network (first seen two days ago or more, 32 devices or more in a week: campus, office, carrier NAT).",
        reason: reason::IP_MANY_ACCOUNTS,
        min: 20.0,
        features: &["accounts_per_ip_prefix_1h", "ip_prefix_age_s", "devices_per_ip_prefix_7d"],
        check: unless_shared_network,
    },
    Detector {
        id: "ip_registration_burst",
        why: "Eight registrations an hour from one IP prefix: a cat pool's modem host. Shared networks are exempt as for ip_many_accounts (the campus of 300 stays clear).",
        reason: reason::IP_REGISTRATION_BURST,
        min: 8.0,
        features: &["registrations_per_ip_1h", "ip_prefix_age_s", "devices_per_ip_prefix_7d"],
        check: |a| {
            if a.event.event_type != EventType::Registration {
                return None;
            }
            unless_shared_network(a)
        },
    },
    Detector {
        id: "phone_block_burst",
        why: "A card dealer's batch fills one number block: eight distinct numbers of a block in an hour. Honest numbers of one block are spread over months.",
        reason: reason::PHONE_BLOCK_BURST,
        min: 8.0,
        features: &["phones_per_block_1h"],
        check: threshold,
    },
    Detector {
        id: "phone_block_sequential",
        why: "Batches are sold in runs: five numbers of a block whose endings are near-consecutive (gaps up to 8, any order) within a day (simulator: the low-and-slow campaign's second catch).",
        reason: reason::PHONE_BLOCK_SEQUENTIAL,
        min: 5.0,
        features: &["block_sequential_run_24h"],
        check: threshold,
    },
    Detector {
        id: "phone_sms_burst",
        why: "Five codes in ten minutes for one number: a platform retrying or SMS pumping. A person who misses a code asks two or three times.",
        reason: reason::PHONE_SMS_BURST,
        min: 5.0,
        features: &["sms_requests_per_phone_10m"],
        check: threshold,
    },
    Detector {
        // Pumping: codes sent to many numbers of a block, few of which ever register. The
        // ratio is the block's, rolling: registrations come later than their codes.
        id: "phone_block_low_conversion",
        why: "SMS pumping: codes sent to ten or more numbers of a block in a day, under 20 % of which ever registered. Rolling: registrations come after their codes.",
        reason: reason::PHONE_BLOCK_LOW_CONVERSION,
        min: 10.0,
        features: &["block_code_numbers_24h", "block_registered_numbers_24h"],
        check: low_conversion,
    },
    Detector {
        id: "ip_low_conversion",
        why: "SMS pumping from one network: fifteen code requests in an hour, under 20 % followed by a registration.",
        reason: reason::IP_LOW_CONVERSION,
        min: 15.0,
        features: &["code_requests_per_ip_1h", "registrations_per_ip_1h"],
        check: low_conversion,
    },
    Detector {
        // A platform polls for the code and relays it: slow (tens of seconds) and uniform.
        // People are quick with a notification, slow when distracted: spread wide.
        id: "session_code_relay_timing",
        why: "A code platform polls for the code and relays it: entered after 25 s or more with almost no variation (spread of 10 % or less, per device or network, five entries at least). People are quick with a notification and vary widely.",
        reason: reason::SESSION_CODE_RELAY_TIMING,
        min: 25_000.0,
        features: &[
            "code_entry_median_ms_fingerprint_24h",
            "code_entry_spread_fingerprint_24h",
            "code_entry_median_ms_ip_prefix_24h",
            "code_entry_spread_ip_prefix_24h",
        ],
        check: |a| {
            let relayed = |m: Option<f64>, s: Option<f64>| {
                m.zip(s).filter(|(m, s)| *m >= a.min && *s <= 100.0).map(|(m, _)| (m / 1000.0).round())
            };
            relayed(a.v[0], a.v[1])
                .map(|v| (v, Some("device".to_string())))
                .or_else(|| relayed(a.v[2], a.v[3]).map(|v| (v, Some("network".to_string()))))
        },
    },
    Detector {
        id: "session_scripted_timing",
        why: "Scripts fill forms faster than people (median under 2.5 s per device) or with machine regularity (spread of 3 % or less, five forms at least).",
        reason: reason::SESSION_SCRIPTED_TIMING,
        min: 2_500.0,
        features: &["form_fill_median_ms_fingerprint_24h", "form_fill_spread_fingerprint_24h"],
        check: |a| {
            let (median, spread) = a.v[0].zip(a.v[1])?;
            if median < a.min {
                Some((median, Some("people need longer".to_string())))
            } else if spread <= 30.0 {
                Some((median, Some(format!("{spread}‰ variation"))))
            } else {
                None
            }
        },
    },
    Detector {
        id: "phone_rebound",
        why: "Code platforms rent one number to account after account: three accounts bound to one number in 30 days (simulator: the code-platform campaign loses 9.7 points without it). A recycled number makes two.",
        reason: reason::PHONE_REBOUND,
        min: 3.0,
        features: &["accounts_per_phone_30d"],
        check: threshold,
    },
    Detector {
        id: "account_many_phones",
        why: "An account moving through four numbers in 30 days is a rental or a resold account being re-bound; a phone change makes two.",
        reason: reason::ACCOUNT_MANY_PHONES,
        min: 4.0,
        features: &["phones_per_account_30d"],
        check: threshold,
    },
    Detector {
        id: "profile_avatar_reuse",
        why: "Registrars fill profiles from templates: one avatar on three accounts in a day while the avatar is young (under 3 days); an app's stock avatar in use for days needs ten (simulator: the profile-template campaign's main catch).",
        reason: reason::PROFILE_AVATAR_REUSE,
        min: 3.0,
        features: &["accounts_per_avatar_24h", "avatar_age_s"],
        check: template_reuse,
    },
    Detector {
        id: "profile_bio_reuse",
        why: "The same bio on three accounts in a day while the bio is young; a popular phrase in use for days needs ten.",
        reason: reason::PROFILE_BIO_REUSE,
        min: 3.0,
        features: &["accounts_per_bio_24h", "bio_age_s"],
        check: template_reuse,
    },
    Detector {
        id: "profile_nickname_template",
        why: "Generated nicknames of one shape (five letters then four digits, two Chinese characters then three digits…) from one network: five accounts a day. Names with fewer than three trailing digits have no shape.",
        reason: reason::PROFILE_NICKNAME_TEMPLATE,
        min: 5.0,
        features: &["accounts_per_nickname_shape_net_24h"],
        check: |a| {
            let v = a.at_least(0)?;
            let shape = a.event.profile.as_ref().and_then(|p| p.nickname.as_deref()).and_then(nickname_shape);
            Some((v, shape))
        },
    },
    Detector {
        // A sale: an account known for three days or more, a device new to it today, the
        // account's other devices silent for three days or more, a network new to it, and
        // credentials changing. One new phone (the old one active yesterday) or a password reset
        // on a known device is life; a dormant owner back on a new phone resetting the password
        // looks the same and gets an identity check, not a block.
        id: "account_ownership_change",
        why: "A sale: an account three days old or more, a device and a network new to it today, its other devices silent for three days or more, and credentials changing. One new phone with the old one active yesterday, or a password reset on a known device, is life (simulator: the resale campaign loses 24.3 points without it).",
        reason: reason::ACCOUNT_OWNERSHIP_CHANGE,
        min: 3.0 * 86_400.0,
        features: &[
            "account_age_s",
            "fingerprint_age_on_account_s",
            "other_devices_idle_s",
            "network_age_on_account_s",
        ],
        check: |a| {
            if !matches!(a.event.event_type, EventType::Login | EventType::ProfileUpdate) {
                return None;
            }
            let changed: Vec<&str> =
                a.event.changed.iter().filter(|c| CREDENTIALS.contains(c)).map(|c| c.as_str()).collect();
            if changed.is_empty() {
                return None;
            }
            let old_account = a.v[0]? >= 3.0 * 86_400.0;
            let new_device = a.v[1]? <= 86_400.0;
            let idle = a.v[2]?;
            let new_network = a.v[3]? <= 86_400.0;
            (old_account && new_device && new_network && idle >= a.min)
                .then(|| ((idle / 86_400.0).floor(), Some(changed.join(", "))))
        },
    },
    Detector {
        id: "device_account_takeover",
        why: "A buyer's device logs in to five accounts in a week, each older than a day and new to the device. The family tablet the accounts were made on takes nothing over.",
        reason: reason::DEVICE_ACCOUNT_TAKEOVER,
        min: 5.0,
        features: &["accounts_per_fingerprint_login_7d", "fingerprint_age_on_account_s", "account_age_s"],
        // Only a login where the device is new to an older account: a family tablet the
        // accounts were made on is not taking anything over.
        check: |a| {
            let takeover_like = a.v[1]? <= 86_400.0 && a.v[2]? >= 86_400.0;
            if a.event.event_type == EventType::Login && takeover_like {
                threshold(a)
            } else {
                None
            }
        },
    },
    Detector {
        id: "promo_new_account",
        why: "Wool parties claim the new-user coupon with accounts hours old: a claim by an account under a day old adds a little weight, not a block.",
        reason: reason::PROMO_NEW_ACCOUNT,
        min: 86_400.0,
        features: &["account_age_s"],
        check: |a| {
            let age = a.v[0]?;
            (a.event.event_type == EventType::PromoClaim && age < a.min).then(|| ((age / 3600.0).floor(), None))
        },
    },
    Detector {
        id: "promo_device_claims",
        why: "Three accounts claiming promotions from one device in a day.",
        reason: reason::PROMO_DEVICE_CLAIMS,
        min: 3.0,
        features: &["claims_per_fingerprint_24h"],
        check: threshold,
    },
    Detector {
        id: "promo_network_claims",
        why: "Ten accounts claiming from one network prefix in an hour, unless it is an established shared network.",
        reason: reason::PROMO_NETWORK_CLAIMS,
        min: 10.0,
        features: &["claims_per_ip_prefix_1h", "ip_prefix_age_s", "devices_per_ip_prefix_7d"],
        check: unless_shared_network,
    },
    Detector {
        id: "promo_block_claims",
        why: "Three accounts whose numbers share a block claiming in a day: the dealer's batch at the coupon counter.",
        reason: reason::PROMO_BLOCK_CLAIMS,
        min: 3.0,
        features: &["claims_per_block_24h"],
        check: threshold,
    },
    Detector {
        // Claims in the campaign's first minute by accounts under three days old.
        id: "promo_campaign_rush",
        why: "Claims within the campaign's first minute by accounts under three days old: scripts waiting for the start.",
        reason: reason::PROMO_CAMPAIGN_RUSH,
        min: 60.0,
        features: &["campaign_age_s", "account_age_s"],
        check: |a| {
            let since = a.v[0]?;
            let age = a.v[1]?;
            (since <= a.min && age < 3.0 * 86_400.0)
                .then(|| (since, Some(format!("{}-hour-old", (age / 3600.0).floor()))))
        },
    },
    Detector {
        id: "identity_many_accounts",
        why: "Bought identities (certifiers): one identity verified on three accounts in 30 days.",
        reason: reason::IDENTITY_MANY_ACCOUNTS,
        min: 3.0,
        features: &["accounts_per_identity_30d"],
        check: threshold,
    },
    Detector {
        id: "device_many_identities",
        why: "One device verifying two different identities in 30 days: a certifier's phone.",
        reason: reason::DEVICE_MANY_IDENTITIES,
        min: 2.0,
        features: &["identities_per_fingerprint_30d"],
        check: threshold,
    },
];

/// The shape class of a generated-looking nickname, with its run lengths (`ld:5:4` is five
/// lowercase letters then four digits; `hd:2:3` two Chinese characters then three digits;
/// `uld:1:5:4` a capital, five lowercase, four digits). Registrars fill templates like these
/// (Ianus, CCS 2019). Plain names, and names with fewer than three trailing digits, have none.
pub fn nickname_shape(nickname: &str) -> Option<String> {
    #[derive(PartialEq, Clone, Copy)]
    enum C {
        Lower,
        Upper,
        Digit,
        Han,
        Other,
    }
    let class = |c: char| match c {
        'a'..='z' => C::Lower,
        'A'..='Z' => C::Upper,
        '0'..='9' => C::Digit,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' => C::Han,
        _ => C::Other,
    };
    let mut runs: Vec<(C, usize)> = Vec::new();
    for c in nickname.trim().chars().take(64) {
        let k = class(c);
        match runs.last_mut() {
            Some((last, n)) if *last == k => *n += 1,
            _ => runs.push((k, 1)),
        }
    }
    let digits = match runs.last() {
        Some((C::Digit, n)) if *n >= 3 => *n,
        _ => return None,
    };
    let shape = match runs.as_slice() {
        [(C::Lower, a), (C::Digit, _)] => format!("ld:{a}:{digits}"),
        [(C::Upper, 1), (C::Lower, a), (C::Digit, _)] => format!("uld:1:{a}:{digits}"),
        [(C::Han, a), (C::Digit, _)] => format!("hd:{a}:{digits}"),
        [(C::Digit, _)] if digits >= 6 => format!("d:{digits}"),
        _ => return None,
    };
    Some(shape)
}

/// The built-in policy as an editable settings file: thresholds, every reason code's weight,
/// every rule's threshold, with what each reads (`sheepdog policy export-default`).
pub fn default_policy_file(t: crate::Thresholds) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "# The built-in policy as a file: edit, then `sheepdog policy check FILE` and");
    let _ = writeln!(s, "# `--policy FILE` (or POST it to /v1/policy). Add [lists], [[feature]] and [[rule]]");
    let _ = writeln!(s, "# tables for your own rules (GUIDE.md, \"Policy files with rules\").");
    let _ = writeln!(s, "# Thresholds, weights and each rule's `min` were set on the simulator, not by intuition:");
    let _ = writeln!(s, "# `sheepdog eval` (docs/eval/default-report.txt) and the per-rule ablation");
    let _ = writeln!(s, "# (docs/eval/signal-ablation.md); re-run them after an edit.");
    let _ = writeln!(s, "version = 1\nlabel = \"edited\"\n");
    let _ = writeln!(s, "# score >= deny denies, >= review reviews, >= challenge challenges; below allows.");
    let _ = writeln!(s, "[thresholds]\nchallenge = {}\nreview = {}\ndeny = {}\n", t.challenge, t.review, t.deny);
    let _ = writeln!(s, "# Weight of every reason code when it fires (0 silences it).\n[weights]");
    for d in reason::REGISTRY {
        let _ = writeln!(s, "{:<32} = {:>3}  # {}", format!("\"{}\"", d.code), d.weight, d.sentence);
    }
    let _ = writeln!(s, "\n# The built-in rules: move `min`, or set `enabled = false`.");
    for d in DETECTORS {
        let _ = writeln!(s);
        for line in wrap(d.why, 98) {
            let _ = writeln!(s, "# {line}");
        }
        let _ = writeln!(s, "[rules.{}]  # {}; reads {}", d.id, d.reason.code, d.features.join(", "));
        let _ = writeln!(s, "min = {}\nenabled = true", d.min);
    }
    s
}

/// Splits `text` into lines of at most `width` chars at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().expect("never empty");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_says_why() {
        for d in DETECTORS {
            assert!(d.why.len() > 40 && d.why.ends_with('.'), "{}: {:?}", d.id, d.why);
        }
        let file = default_policy_file(crate::Thresholds { challenge: 30, review: 60, deny: 80 });
        assert!(file.contains("# A sale: an account three days old or more"), "{file}");
        for d in DETECTORS {
            assert!(wrap(d.why, 98).iter().all(|l| l.chars().count() <= 98), "{} wrapped", d.id);
        }
    }

    #[test]
    fn features_have_unique_names_and_detectors_name_real_features() {
        let names: Vec<&str> = FEATURES.iter().map(|d| d.0).collect();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[..i].contains(n), "duplicate feature {n}");
        }
        for d in DETECTORS {
            for f in d.features {
                assert!(names.contains(f), "{} reads unknown feature {f}", d.id);
            }
        }
    }

    #[test]
    fn nickname_shapes() {
        assert_eq!(nickname_shape("abcde1234").as_deref(), Some("ld:5:4"));
        assert_eq!(nickname_shape("小美123").as_deref(), Some("hd:2:3"));
        assert_eq!(nickname_shape("Lily2024").as_deref(), Some("uld:1:3:4"));
        assert_eq!(nickname_shape("13800138000").as_deref(), Some("d:11"));
        assert_eq!(nickname_shape("lily99"), None, "two digits: ordinary");
        assert_eq!(nickname_shape("Zhang Wei"), None);
        assert_eq!(nickname_shape("李雷"), None);
        assert_eq!(nickname_shape("a_b123"), None);
    }
}
