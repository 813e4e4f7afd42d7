//! The one registry of reason codes. Every signal the engine emits is declared here, once:
//! a stable dotted code, a default weight and one human sentence. Sentences may hold `{value}`,
//! replaced by the measured value when the signal fires.
//!
//! Codes are part of the public contract: never rename one; retire it instead.

use std::borrow::Cow;

use crate::decision::{Challenge, Reason};

/// A reason code's registry entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReasonDef {
    pub code: &'static str,
    /// Default weight added to the score when the signal fires.
    pub weight: i32,
    /// One human sentence; `{value}` is replaced by the measured value.
    pub sentence: &'static str,
    /// The check that answers this suspicion best, if a challenge is chosen.
    pub challenge: Option<Challenge>,
}

impl ReasonDef {
    /// A reason instance with the default weight.
    pub fn reason(&'static self, value: Option<f64>) -> Reason {
        self.reason_weighted(self.weight, value)
    }

    /// A reason instance with a weight chosen by the policy.
    pub fn reason_weighted(&'static self, weight: i32, value: Option<f64>) -> Reason {
        self.reason_full(weight, value, None)
    }

    /// A reason instance with a weight, a value for `{value}` and a detail for `{detail}`.
    pub fn reason_full(&'static self, weight: i32, value: Option<f64>, detail: Option<&str>) -> Reason {
        // One string, written once: `{value}` (when there is one) and `{detail}` filled in.
        let mut message = String::with_capacity(self.sentence.len() + detail.map_or(8, str::len));
        let mut rest = self.sentence;
        while let Some(i) = rest.find('{') {
            message.push_str(&rest[..i]);
            let tail = &rest[i..];
            if let (Some(v), Some(after)) = (value, tail.strip_prefix("{value}")) {
                write_value(&mut message, v);
                rest = after;
            } else if let Some(after) = tail.strip_prefix("{detail}") {
                message.push_str(detail.unwrap_or("unknown"));
                rest = after;
            } else {
                message.push('{');
                rest = &tail[1..];
            }
        }
        message.push_str(rest);
        Reason { code: Cow::Borrowed(self.code), message, weight }
    }
}

fn write_value(out: &mut String, v: f64) {
    use std::fmt::Write;
    if v.fract() == 0.0 && v.abs() < 1e15 {
        out.push_str(itoa::Buffer::new().format(v as i64));
    } else {
        let _ = write!(out, "{v:.2}");
    }
}

macro_rules! reasons {
    ($( $(#[$doc:meta])* $name:ident = ($code:literal, $weight:literal, $challenge:expr, $sentence:literal); )*) => {
        $( $(#[$doc])* pub const $name: &ReasonDef = &ReasonDef { code: $code, weight: $weight, sentence: $sentence, challenge: $challenge }; )*
        /// Every registered reason, in documentation order.
        pub const REGISTRY: &[&ReasonDef] = &[ $( $name ),* ];
    };
}

reasons! {
    /// The SDK reports an emulator: registrars run farms of them.
    DEVICE_EMULATOR = ("device.emulator", 40, Some(Challenge::Captcha),
        "the device reports that it is an emulator");
    /// Root or jailbreak: needed by device-ID reset and hook tools.
    DEVICE_ROOTED = ("device.rooted", 15, None,
        "the device is rooted or jailbroken");
    /// A hook framework (Xposed, Frida…) can fake every other device fact.
    DEVICE_HOOKED = ("device.hooked", 35, Some(Challenge::Captcha),
        "a hook framework is present on the device");
    /// The number's SIM is not in the device: relayed codes and SMS-forwarding malware.
    DEVICE_SIM_MISMATCH = ("device.sim_mismatch", 35, Some(Challenge::CarrierVerify),
        "the phone number's SIM card is not in the registering device");
    /// Many phone numbers on one device: a cat pool or a registrar's phone.
    DEVICE_MANY_PHONES = ("device.many_phones", 30, Some(Challenge::CarrierVerify),
        "{value} distinct phone numbers used this device in the last 24 hours");
    /// Device ids churn while the hardware fingerprint stays: an ID-reset tool.
    DEVICE_ID_RESET = ("device.id_reset", 35, Some(Challenge::Captcha),
        "{value} device ids appeared on one hardware fingerprint in the last 24 hours");
    /// Many registrations from one hardware fingerprint.
    DEVICE_REGISTRATION_BURST = ("device.registration_burst", 30, Some(Challenge::Captcha),
        "{value} registrations came from this device hardware in the last hour");
    /// Many accounts registered on one device's hardware over a week: low-and-slow registrars.
    DEVICE_MANY_REGISTRATIONS = ("device.many_registrations", 30, Some(Challenge::Captcha),
        "{value} accounts were registered on this device hardware in the last 7 days");
    /// Many accounts behind one network prefix. Shared NAT makes this weak alone.
    IP_MANY_ACCOUNTS = ("ip.many_accounts", 20, Some(Challenge::Captcha),
        "{value} distinct accounts used this network prefix in the last hour");
    /// Many numbers of one block: a card dealer's batch.
    PHONE_BLOCK_BURST = ("phone.block_burst", 30, Some(Challenge::CarrierVerify),
        "{value} distinct numbers from this number block appeared in the last hour");
    /// Repeated code requests for one number: pumping or a relay retrying.
    PHONE_SMS_BURST = ("phone.sms_burst", 20, Some(Challenge::Captcha),
        "{value} verification codes were requested for this number in the last 10 minutes");

    /// libphonenumber says the number cannot exist.
    PHONE_INVALID = ("phone.invalid", 25, Some(Challenge::Captcha),
        "the phone number is not a valid number ({detail})");
    /// VoIP numbers can be rented by the thousand and receive codes anywhere.
    PHONE_VOIP = ("phone.voip", 25, Some(Challenge::CarrierVerify),
        "the phone number is a VoIP number ({detail})");
    /// Premium-rate numbers have no business registering accounts (and invite SMS pumping).
    PHONE_PREMIUM = ("phone.premium", 30, Some(Challenge::CarrierVerify),
        "the phone number is a premium-rate number ({detail})");
    /// Virtual-operator cards: cheap, bought in batches, weak real-name checks. A few percent of
    /// honest users have one, hence the low weight alone.
    PHONE_MVNO = ("phone.mvno", 15, Some(Challenge::CarrierVerify),
        "the number is on a virtual operator's segment ({detail})");
    /// Data-only cards: no voice, bought for receiving codes.
    PHONE_DATA_ONLY = ("phone.data_only", 25, Some(Challenge::CarrierVerify),
        "the number is a data-only card ({detail})");
    /// IoT / M2M numbers: machine cards, the card dealers' staple.
    PHONE_IOT = ("phone.iot", 45, Some(Challenge::CarrierVerify),
        "the number is an IoT machine card ({detail})");
    /// Satellite numbers.
    PHONE_SATELLITE = ("phone.satellite", 20, Some(Challenge::CarrierVerify),
        "the number is a satellite phone number ({detail})");
    /// Published on public receive-SMS sites; weighed by how recently.
    PHONE_RECEIVE_SMS_SITE = ("phone.receive_sms_site", 45, Some(Challenge::CarrierVerify),
        "the number is published on public receive-SMS sites ({detail})");
    /// Datacenter, hosting or mainland-cloud address: where registration bots run.
    IP_DATACENTER = ("ip.datacenter", 20, Some(Challenge::Captcha),
        "the IP address is in a datacenter or cloud range ({detail})");
    /// Commercial VPN range.
    IP_VPN = ("ip.vpn", 10, Some(Challenge::Captcha),
        "the IP address is in a VPN range ({detail})");
    /// Tor exit relay.
    IP_TOR = ("ip.tor", 30, Some(Challenge::Captcha),
        "the IP address is a Tor exit relay ({detail})");
    /// Disposable mailbox (precise lists).
    EMAIL_DISPOSABLE = ("email.disposable", 30, Some(Challenge::SmsOtp),
        "the e-mail domain is a disposable mailbox ({detail})");
    /// Only the broad, weaker lists call the domain disposable.
    EMAIL_DISPOSABLE_WEAK = ("email.disposable_weak", 10, None,
        "the e-mail domain appears on broad disposable-mail lists ({detail})");
    /// Alias / relay service: a real inbox behind a throwaway-capable address.
    EMAIL_RELAY = ("email.relay", 5, None,
        "the e-mail address is an alias or relay address ({detail})");
    /// Emulator named by the device model.
    DEVICE_EMULATOR_MODEL = ("device.emulator_model", 35, Some(Challenge::Captcha),
        "the device model names an emulator ({detail})");
    /// Cloud phones: rented virtual Android devices, the registrars' device farms.
    DEVICE_CLOUD_PHONE = ("device.cloud_phone", 35, Some(Challenge::Captcha),
        "the device is a cloud phone ({detail})");
    /// Headless browser, crawler or scripted HTTP client.
    UA_AUTOMATION = ("ua.automation", 40, Some(Challenge::Captcha),
        "the user agent is an automation tool or crawler ({detail})");
    /// Code-receiving / card-dealer vocabulary (接码, 卡商, 猫池…) in a post, nickname or bio.
    TEXT_CODE_RECEIVING = ("text.code_receiving", 40, None,
        "the text advertises code receiving or SIM cards ({detail})");
    /// Account trade (出售老号, 带圈, 解封…).
    TEXT_ACCOUNT_TRADE = ("text.account_trade", 40, None,
        "the text trades accounts ({detail})");
    /// Moving the conversation off-platform (薇信 + an ID, V❤, 电报…).
    TEXT_CONTACT_DIVERSION = ("text.contact_diversion", 25, None,
        "the text moves contact off the platform ({detail})");
    /// Investment or romance scam scripts (导师带单, 稳赚, 充值返利…).
    TEXT_SCAM_SCRIPT = ("text.scam_script", 35, None,
        "the text follows a scam script ({detail})");
    /// Gambling promotion.
    TEXT_GAMBLING = ("text.gambling", 30, None,
        "the text promotes gambling ({detail})");
    /// Many registrations from one IP address in an hour (not counted on established shared
    /// networks: campus, corporate and carrier NAT).
    IP_REGISTRATION_BURST = ("ip.registration_burst", 25, Some(Challenge::Captcha),
        "{value} registrations came from this IP address in the last hour");
    /// The block's numbers form a near-sequential run: a card dealer's batch, in any order.
    PHONE_BLOCK_SEQUENTIAL = ("phone.block_sequential", 35, Some(Challenge::CarrierVerify),
        "{value} numbers of this block with near-consecutive endings appeared in the last 24 hours");
    /// Codes requested for many numbers of a block that never register: SMS pumping.
    PHONE_BLOCK_LOW_CONVERSION = ("phone.block_low_conversion", 30, Some(Challenge::Captcha),
        "codes were sent to {detail} numbers of this block in 24 hours and only {value}% registered");
    /// Codes requested from one address that never turn into registrations.
    IP_LOW_CONVERSION = ("ip.low_conversion", 25, Some(Challenge::Captcha),
        "{detail} codes were requested from this IP address in the last hour and only {value}% registered");
    /// Codes entered slowly and uniformly, as a platform relaying them after polling does.
    SESSION_CODE_RELAY_TIMING = ("session.code_relay_timing", 30, Some(Challenge::CarrierVerify),
        "verification codes on this {detail} are entered after a median {value} s with almost no variation");
    /// Forms filled faster or more uniformly than people do.
    SESSION_SCRIPTED_TIMING = ("session.scripted_timing", 25, Some(Challenge::Captcha),
        "forms on this device are filled in a median {value} ms with {detail}");
    /// One number bound to account after account: a rented code-receiving number.
    PHONE_REBOUND = ("phone.rebound", 35, Some(Challenge::CarrierVerify),
        "this number was bound to {value} accounts in the last 30 days");
    /// One account cycling through numbers.
    ACCOUNT_MANY_PHONES = ("account.many_phones", 20, Some(Challenge::CarrierVerify),
        "this account used {value} phone numbers in the last 30 days");
    /// One uploaded avatar on many new accounts: a profile template.
    PROFILE_AVATAR_REUSE = ("profile.avatar_reuse", 25, Some(Challenge::Captcha),
        "the same avatar appeared on {value} accounts in the last 24 hours");
    /// One bio on many accounts.
    PROFILE_BIO_REUSE = ("profile.bio_reuse", 20, Some(Challenge::Captcha),
        "the same bio appeared on {value} accounts in the last 24 hours");
    /// Generated nicknames of one shape from one network.
    PROFILE_NICKNAME_TEMPLATE = ("profile.nickname_template", 20, Some(Challenge::Captcha),
        "{value} accounts from this network took nicknames of one generated shape ({detail}) in 24 hours");
    /// A dormant account wakes on a new device and network and changes its credentials: a sale.
    ACCOUNT_OWNERSHIP_CHANGE = ("account.ownership_change", 35, Some(Challenge::IdVerify),
        "a new device and network changed {detail} after the account's devices were idle {value} days");
    /// One device logging in to many existing accounts: a buyer taking over bought accounts.
    DEVICE_ACCOUNT_TAKEOVER = ("device.account_takeover", 40, Some(Challenge::IdVerify),
        "this device logged in to {value} different accounts in the last 7 days");
    /// A promotion claimed by an account less than a day old.
    PROMO_NEW_ACCOUNT = ("promo.new_account", 15, Some(Challenge::SmsOtp),
        "the account claiming the promotion is {value} hours old");
    /// One device claiming for many accounts.
    PROMO_DEVICE_CLAIMS = ("promo.device_claims", 35, Some(Challenge::CarrierVerify),
        "{value} accounts claimed promotions from this device in the last 24 hours");
    /// Many claims from one network (shared NAT exempted).
    PROMO_NETWORK_CLAIMS = ("promo.network_claims", 25, Some(Challenge::Captcha),
        "{value} accounts claimed promotions from this network in the last hour");
    /// Claims from many numbers of one block.
    PROMO_BLOCK_CLAIMS = ("promo.block_claims", 30, Some(Challenge::CarrierVerify),
        "{value} accounts with numbers of one block claimed promotions in the last 24 hours");
    /// A young account claiming within seconds of the campaign's start: a wool party's rush.
    PROMO_CAMPAIGN_RUSH = ("promo.campaign_rush", 20, Some(Challenge::Captcha),
        "a {detail} account claimed {value} s after the campaign's first claim");
    /// One real-name identity verified on many accounts: bought identities.
    IDENTITY_MANY_ACCOUNTS = ("identity.many_accounts", 40, Some(Challenge::IdVerify),
        "this identity was verified on {value} accounts in the last 30 days");
    /// One device verifying several identities.
    DEVICE_MANY_IDENTITIES = ("device.many_identities", 30, Some(Challenge::IdVerify),
        "{value} different identities were verified on this device in the last 30 days");
    /// The number's home province differs from the network's (when the caller sends it).
    LOCATION_PHONE_IP_MISMATCH = ("location.phone_ip_mismatch", 10, None,
        "the number is registered in {detail}");
    /// The operator's deny list: beats everything.
    LIST_DENY = ("list.deny", 100, None,
        "the operator's deny list holds this event's {detail}");
    /// The operator's allow list: beats intelligence.
    LIST_ALLOW = ("list.allow", 0, None,
        "the operator's allow list holds this event's {detail}");
}

/// The registry entry of a code.
pub fn lookup(code: &str) -> Option<&'static ReasonDef> {
    REGISTRY.iter().copied().find(|d| d.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_dotted_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for def in REGISTRY {
            assert!(seen.insert(def.code), "duplicate code {}", def.code);
            let parts: Vec<&str> = def.code.split('.').collect();
            assert!(parts.len() >= 2, "{} is not dotted", def.code);
            assert!(
                parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')),
                "{} must be lowercase dotted words",
                def.code
            );
            assert!(def.weight >= 0 && def.weight <= 100, "{} weight", def.code);
            assert!(!def.sentence.ends_with('.'), "{} sentence ends with a period", def.code);
        }
    }

    #[test]
    fn sentences_fill_in_as_plain_replacement_would() {
        let reference = |def: &ReasonDef, value: Option<f64>, detail: Option<&str>| {
            let mut m = def.sentence.to_string();
            if let Some(v) = value {
                let v = if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v:.2}") };
                m = m.replace("{value}", &v);
            }
            m.replace("{detail}", detail.unwrap_or("unknown"))
        };
        for def in REGISTRY {
            for value in [None, Some(7.0), Some(0.125), Some(-3.0)] {
                for detail in [None, Some("segment 1700, {value} {detail} {x"), Some("")] {
                    assert_eq!(
                        def.reason_full(5, value, detail).message,
                        reference(def, value, detail),
                        "{}",
                        def.code
                    );
                }
            }
        }
    }

    #[test]
    fn value_is_interpolated() {
        let r = DEVICE_MANY_PHONES.reason(Some(7.0));
        assert_eq!(r.message, "7 distinct phone numbers used this device in the last 24 hours");
        assert_eq!(r.weight, 30);
        assert_eq!(lookup("device.many_phones"), Some(DEVICE_MANY_PHONES));
    }
}
