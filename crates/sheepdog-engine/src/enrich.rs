//! Enrichment: the keys an event can be counted under, and the signals it carries by itself.
//!
//! Keys are written into one byte arena per event (no allocation per key). Phone numbers take
//! their E.164 form and block from the intelligence layer (libphonenumber); e-mail addresses
//! their identity key (plus-tags and Gmail dots folded). Signals come from the event's own
//! flags and from intelligence (segment classes, receive-SMS listings, IP ranges, e-mail
//! domains, device models, user agents, operator lists).

use std::net::IpAddr;

use sheepdog_intel::{Intel, IpClass, ListAction, ListKind, NumberType, SegmentClass};
use sheepdog_model::reason;
use sheepdog_model::{Event, EventType, KeyKind};
use sheepdog_policy::Signal;

/// Enrichment options.
#[derive(Debug, Clone)]
pub struct EnrichOptions {
    /// Region for national phone numbers without `region`.
    pub default_region: String,
    /// Digits dropped from the end of a number to form its block.
    pub block_suffix_digits: usize,
}

impl Default for EnrichOptions {
    fn default() -> Self {
        EnrichOptions { default_region: "CN".into(), block_suffix_digits: 4 }
    }
}

const N_KEYS: usize = KeyKind::ALL.len();

/// The derived keys of one event.
#[derive(Debug, Default)]
pub struct Keys {
    buf: Vec<u8>,
    spans: [Option<(u32, u32)>; N_KEYS],
}

impl Keys {
    pub fn get(&self, kind: KeyKind) -> Option<&[u8]> {
        self.spans[kind.index()].map(|(a, b)| &self.buf[a as usize..b as usize])
    }

    pub fn get_str(&self, kind: KeyKind) -> Option<&str> {
        self.get(kind).and_then(|b| std::str::from_utf8(b).ok())
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.spans = [None; N_KEYS];
    }

    fn put(&mut self, kind: KeyKind, f: impl FnOnce(&mut Vec<u8>)) {
        let start = self.buf.len();
        f(&mut self.buf);
        let end = self.buf.len();
        if end > start {
            self.spans[kind.index()] = Some((start as u32, end as u32));
        }
    }

    fn put_str(&mut self, kind: KeyKind, s: Option<&str>) {
        if let Some(s) = s.filter(|s| !s.is_empty()) {
            self.put(kind, |b| b.extend_from_slice(s.as_bytes()));
        }
    }
}

/// Weight of `device.sim_mismatch` when the device has no SIM at all (rather than a failed
/// carrier check): tablets do not, and need another factor before a challenge.
pub const SIM_ABSENT_WEIGHT: i32 = 20;

/// Weight of a receive-SMS listing by how long ago the number was last seen listed: numbers
/// get recycled to real people, so an old listing counts for less.
pub fn receive_sms_weight(days_since_last_seen: i64) -> i32 {
    match days_since_last_seen.max(0) {
        0..=30 => 45,
        31..=180 => 30,
        181..=365 => 20,
        366..=1095 => 10,
        _ => 5,
    }
}

/// Derives keys and enrich-time signals of `event` into `keys` and `signals` (both cleared).
/// `ts` is the event time.
pub fn enrich(
    event: &Event,
    options: &EnrichOptions,
    intel: &Intel,
    ts: i64,
    keys: &mut Keys,
    signals: &mut Vec<Signal>,
) {
    enrich_with_text(event, options, intel, None, ts, keys, signals)
}

/// `enrich`, plus the content audit of `text` (content events) and profile nickname and bio.
pub fn enrich_with_text(
    event: &Event,
    options: &EnrichOptions,
    intel: &Intel,
    matcher: Option<&sheepdog_text::Matcher>,
    ts: i64,
    keys: &mut Keys,
    signals: &mut Vec<Signal>,
) {
    keys.clear();
    signals.clear();
    keys.put_str(KeyKind::Account, event.account_id.as_deref());
    keys.put_str(KeyKind::DeviceId, event.device_id());
    keys.put_str(KeyKind::DeviceFingerprint, event.device_fingerprint());
    keys.put_str(KeyKind::Identity, event.identity_hash.as_deref());
    keys.put_str(KeyKind::Campaign, event.campaign_id.as_deref());
    keys.put_str(KeyKind::AvatarHash, event.profile.as_ref().and_then(|p| p.avatar_hash.as_deref()));

    if let Some(phone) = &event.phone {
        let region = event.region.as_deref().unwrap_or(&options.default_region);
        match intel.phone(phone, region, options.block_suffix_digits, ts) {
            Some(facts) => {
                keys.put_str(KeyKind::Phone, Some(&facts.e164));
                if let Some(block) = facts.block.as_deref() {
                    keys.put_str(KeyKind::PhoneBlock, Some(block));
                    keys.put_str(KeyKind::PhoneSuffix, facts.e164.strip_prefix(block));
                }
                phone_signals(&facts, signals);
                location_signals(event, &facts, signals);
            }
            // Unreachable for parsed events (the contract guarantees digits); kept total.
            None => keys.put_str(KeyKind::Phone, Some(phone.trim())),
        }
    }
    if let Some(ip) = event.ip {
        // IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
        let ip = ip.to_canonical();
        keys.put(KeyKind::Ip, |b| match ip {
            IpAddr::V4(v4) => {
                b.extend_from_slice(b"v4:");
                b.extend_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                b.extend_from_slice(b"v6:");
                b.extend_from_slice(&v6.octets());
            }
        });
        // The prefix (/24 or /64) is the leading bytes of the same key.
        if let Some((a, b)) = keys.spans[KeyKind::Ip.index()] {
            let prefix_len = if ip.is_ipv4() { 3 + 3 } else { 3 + 8 };
            keys.spans[KeyKind::IpPrefix.index()] = Some((a, (a + prefix_len).min(b)));
        }
        for m in intel.ip(ip).matches {
            let def = match m.class {
                IpClass::Datacenter | IpClass::CnCloud => reason::IP_DATACENTER,
                IpClass::Vpn => reason::IP_VPN,
                IpClass::Tor => reason::IP_TOR,
            };
            if signals.iter().any(|s| s.def.code == def.code) {
                continue;
            }
            let (sep, label) = match &m.label {
                Some(l) => (" ", l.as_str()),
                None => ("", ""),
            };
            signals.push(Signal::intel(def, [m.range.as_str(), sep, label, ", source ", &m.source].concat()));
        }
    }
    if let Some(profile) = &event.profile {
        if let Some(bio) = profile.bio.as_deref() {
            // Case and spacing do not make a template's bio another bio.
            let mut words = bio.split_whitespace().peekable();
            if bio.chars().filter(|c| !c.is_whitespace()).count() >= 8 && words.peek().is_some() {
                keys.put(KeyKind::Bio, |b| {
                    for (i, w) in words.enumerate() {
                        if i > 0 {
                            b.push(b' ');
                        }
                        for c in w.chars().flat_map(char::to_lowercase) {
                            let mut tmp = [0; 4];
                            b.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                        }
                    }
                });
            }
        }
        let shape = profile.nickname.as_deref().and_then(sheepdog_policy::nickname_shape);
        if let (Some(shape), Some((a, b))) = (shape, keys.spans[KeyKind::IpPrefix.index()]) {
            let net = keys.buf[a as usize..b as usize].to_vec();
            keys.put(KeyKind::NicknameShapeNet, |buf| {
                buf.extend_from_slice(shape.as_bytes());
                buf.push(b'|');
                buf.extend_from_slice(&net);
            });
        }
    }
    if let Some(email) = &event.email {
        match intel.email(email) {
            Some(facts) => {
                keys.put_str(KeyKind::Email, Some(&facts.normalized));
                keys.put_str(KeyKind::EmailDomain, Some(&facts.domain));
                for (hit, def) in [
                    (&facts.disposable, reason::EMAIL_DISPOSABLE),
                    (&facts.disposable_broad, reason::EMAIL_DISPOSABLE_WEAK),
                    (&facts.relay, reason::EMAIL_RELAY),
                ] {
                    if let Some((d, src)) = hit {
                        signals.push(Signal::intel(def, [d.as_ref(), ", source ", src.as_ref()].concat()));
                    }
                }
            }
            None => {
                let email = email.trim();
                keys.put(KeyKind::Email, |b| b.extend(email.bytes().map(|c| c.to_ascii_lowercase())));
            }
        }
    }

    let model = event.device.as_ref().and_then(|d| d.model.as_deref());
    if model.is_some() || event.user_agent.is_some() {
        let facts = intel.device(model, event.user_agent.as_deref());
        if let Some(m) = facts.emulator_model {
            signals.push(Signal::intel(reason::DEVICE_EMULATOR_MODEL, m));
        }
        if let Some(m) = facts.cloud_phone {
            signals.push(Signal::intel(reason::DEVICE_CLOUD_PHONE, m));
        }
        if let Some(m) = facts.automation_ua {
            signals.push(Signal::intel(
                reason::UA_AUTOMATION,
                ["pattern ", m.pattern.as_ref(), ", source ", m.source.as_ref()].concat(),
            ));
        }
    }
    if let Some(d) = &event.device {
        if d.emulator == Some(true) {
            signals.push(Signal::event(reason::DEVICE_EMULATOR));
        }
        if d.rooted == Some(true) {
            signals.push(Signal::event(reason::DEVICE_ROOTED));
        }
        if d.hooked == Some(true) {
            signals.push(Signal::event(reason::DEVICE_HOOKED));
        }
        let binds_phone =
            matches!(event.event_type, EventType::Registration | EventType::Login | EventType::SmsCodeRequest);
        if binds_phone && event.phone.is_some() {
            // A failed carrier check is strong; a device without any SIM (a tablet) is weaker alone.
            if d.sim_phone_match == Some(false) {
                signals.push(Signal::event(reason::DEVICE_SIM_MISMATCH));
            } else if d.sim_present == Some(false) {
                let mut s = Signal::event(reason::DEVICE_SIM_MISMATCH);
                s.weight = Some(SIM_ABSENT_WEIGHT);
                signals.push(s);
            }
        }
    }

    if let Some(matcher) = matcher {
        text_signals(event, matcher, signals);
    }

    if intel.has_lists() {
        let list_keys = [
            (ListKind::Phone, keys.get_str(KeyKind::Phone)),
            (ListKind::PhoneBlock, keys.get_str(KeyKind::PhoneBlock)),
            (ListKind::Device, event.device_id()),
            (ListKind::Fingerprint, event.device_fingerprint()),
            (ListKind::EmailDomain, keys.get_str(KeyKind::EmailDomain)),
            (ListKind::Email, keys.get_str(KeyKind::Email)),
            (ListKind::Account, event.account_id.as_deref()),
        ];
        let present: Vec<(ListKind, &str)> = list_keys.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
        if let Some(m) = intel.list_match(&present, event.ip, ts) {
            let def = match m.entry.action {
                ListAction::Deny => reason::LIST_DENY,
                ListAction::Allow => reason::LIST_ALLOW,
            };
            let note = if m.entry.note.is_empty() { String::new() } else { format!(" ({})", m.entry.note) };
            let mut s = Signal::intel(def, format!("{} {}{note}", m.entry.kind.as_str(), m.entry.value));
            s.from_intel = false;
            signals.push(s);
        }
    }
}

/// Content audit: one signal per category found, the matched terms and where in the message.
fn text_signals(event: &Event, matcher: &sheepdog_text::Matcher, signals: &mut Vec<Signal>) {
    use sheepdog_text::Category;
    let profile = event.profile.as_ref();
    let fields = [
        ("text", if event.event_type == EventType::Content { event.text.as_deref() } else { None }),
        ("nickname", profile.and_then(|p| p.nickname.as_deref())),
        ("bio", profile.and_then(|p| p.bio.as_deref())),
    ];
    let mut found: Vec<(&'static sheepdog_model::reason::ReasonDef, u32, Vec<String>)> = Vec::new();
    for (field, text) in fields {
        let Some(text) = text.filter(|t| !t.is_empty()) else { continue };
        for m in matcher.scan(text) {
            let def = match m.category {
                Category::CodeReceiving => reason::TEXT_CODE_RECEIVING,
                Category::AccountTrade => reason::TEXT_ACCOUNT_TRADE,
                Category::ContactDiversion => reason::TEXT_CONTACT_DIVERSION,
                Category::ScamInvest | Category::ScamRomance => reason::TEXT_SCAM_SCRIPT,
                Category::Gambling => reason::TEXT_GAMBLING,
            };
            let shown = [field, " \"", m.matched, "\" (", m.term.as_ref(), ")"].concat();
            match found.iter_mut().find(|(d, _, _)| d.code == def.code) {
                Some((_, w, terms)) => {
                    *w += u32::from(m.weight);
                    if terms.len() < 5 && !terms.contains(&shown) {
                        terms.push(shown);
                    }
                }
                None => found.push((def, u32::from(m.weight), vec![shown])),
            }
        }
    }
    for (def, weight, terms) in found {
        let mut s = Signal::event(def);
        s.detail = Some(terms.join(", "));
        s.weight = Some(weight.clamp(1, 100) as i32);
        signals.push(s);
    }
}

/// The number's home province against the network's, when the caller geolocates its IPs and
/// sends `attributes.ip_province` (we ship no IP geolocation). Weak alone: people travel.
fn location_signals(event: &Event, facts: &sheepdog_intel::PhoneFacts, signals: &mut Vec<Signal>) {
    let Some(home) = facts.cn.as_ref().and_then(|c| c.province.as_deref()) else { return };
    let Some(net) = event.attributes.as_ref().and_then(|a| a.get("ip_province")).and_then(|v| v.as_str()) else {
        return;
    };
    let net = net.trim();
    // "广东" and "广东省" are one province.
    if net.is_empty() || net.starts_with(home) || home.starts_with(net) {
        return;
    }
    let mut s = Signal::intel(reason::LOCATION_PHONE_IP_MISMATCH, [home, ", the network in ", net].concat());
    s.from_intel = false;
    signals.push(s);
}

fn phone_signals(facts: &sheepdog_intel::PhoneFacts, signals: &mut Vec<Signal>) {
    let iot = facts.cn.as_ref().is_some_and(|c| c.segment == SegmentClass::Iot);
    if !facts.valid && !iot {
        let why = if facts.parsed {
            [facts.e164.as_str(), " fails its numbering plan"].concat()
        } else {
            "unreadable".to_string()
        };
        signals.push(Signal::intel(reason::PHONE_INVALID, why));
    }
    match facts.number_type {
        NumberType::Voip => signals.push(Signal::intel(reason::PHONE_VOIP, [&facts.e164, ", libphonenumber"].concat())),
        NumberType::PremiumRate => {
            signals.push(Signal::intel(reason::PHONE_PREMIUM, [&facts.e164, ", libphonenumber"].concat()))
        }
        _ => {}
    }
    if let Some(cn) = &facts.cn {
        let def = match cn.segment {
            SegmentClass::Mvno => Some(reason::PHONE_MVNO),
            SegmentClass::DataOnly => Some(reason::PHONE_DATA_ONLY),
            SegmentClass::Iot => Some(reason::PHONE_IOT),
            SegmentClass::Satellite => Some(reason::PHONE_SATELLITE),
            SegmentClass::Carrier | SegmentClass::Emergency => None,
        };
        if let Some(def) = def {
            let op = cn.operator.as_deref().unwrap_or("unknown operator");
            signals.push(Signal::intel(def, ["segment ", cn.segment_prefix.as_ref(), ", ", op].concat()));
        }
    }
    if let Some(l) = &facts.receive_sms {
        let mut s = Signal::intel(
            reason::PHONE_RECEIVE_SMS_SITE,
            ["last seen listed ", itoa::Buffer::new().format(l.days_since_last_seen.max(0)), " days before the event"]
                .concat(),
        );
        s.weight = Some(receive_sms_weight(l.days_since_last_seen));
        s.value = Some(l.days_since_last_seen as f64);
        signals.push(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone_key(p: &str, region: Option<&str>) -> String {
        let mut e = Event::new(EventType::Registration);
        e.phone = Some(p.into());
        e.region = region.map(Into::into);
        let mut keys = Keys::default();
        enrich(&e, &EnrichOptions::default(), &Intel::default(), 0, &mut keys, &mut Vec::new());
        keys.get_str(KeyKind::Phone).unwrap().to_string()
    }

    #[test]
    fn phones_normalise_to_one_key() {
        assert_eq!(phone_key("+86 170-1234-5678", None), "+8617012345678");
        assert_eq!(phone_key("17012345678", None), "+8617012345678", "national, default region CN");
        assert_eq!(phone_key("(415) 555-0100", Some("US")), "+14155550100");
    }

    #[test]
    fn mapped_ipv6_counts_as_its_ipv4_address() {
        let key = |ip: &str| {
            let mut e = Event::new(EventType::Login);
            e.ip = Some(ip.parse().unwrap());
            let mut keys = Keys::default();
            enrich(&e, &EnrichOptions::default(), &Intel::default(), 0, &mut keys, &mut Vec::new());
            (keys.get(KeyKind::Ip).unwrap().to_vec(), keys.get(KeyKind::IpPrefix).unwrap().to_vec())
        };
        assert_eq!(key("::ffff:203.0.113.7"), key("203.0.113.7"));
        assert_eq!(key("2001:db8:1:2:3:4:5:6").1, key("2001:db8:1:2:ffff::1").1, "one /64");
        assert_ne!(key("2001:db8:1:2::1").1, key("2001:db8:1:3::1").1);
    }

    #[test]
    fn block_drops_the_last_four_digits() {
        let mut e = Event::new(EventType::Registration);
        e.phone = Some("+8617012345678".into());
        e.ip = Some("203.0.113.7".parse().unwrap());
        e.email = Some("A.B@Example.COM".into());
        let mut keys = Keys::default();
        let mut signals = Vec::new();
        enrich(&e, &EnrichOptions::default(), &Intel::default(), 0, &mut keys, &mut signals);
        assert_eq!(keys.get_str(KeyKind::PhoneBlock), Some("+861701234"));
        assert_eq!(keys.get_str(KeyKind::Phone), Some("+8617012345678"));
        assert_eq!(keys.get(KeyKind::IpPrefix), Some(&b"v4:\xcb\x00\x71"[..]));
        assert_eq!(keys.get_str(KeyKind::EmailDomain), Some("example.com"));
        assert!(signals.is_empty());
    }
}
