//! Enrichment: the keys an event can be counted under, and the signals it carries by itself.
//!
//! Keys are written into one byte arena per event (no allocation per key). Phone numbers are
//! brought to a canonical form here with a small syntactic normaliser: `+` and `00` prefixes are
//! international, 11-digit mainland mobiles get `+86`, any other national number keeps its
//! region as a prefix. The intelligence layer replaces this with a full numbering-plan parser.

use std::net::IpAddr;

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
        EnrichOptions {
            default_region: "CN".into(),
            block_suffix_digits: 4,
        }
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

/// Derives keys and enrich-time signals of `event` into `keys` and `signals` (both cleared).
pub fn enrich(event: &Event, options: &EnrichOptions, keys: &mut Keys, signals: &mut Vec<Signal>) {
    keys.clear();
    signals.clear();
    keys.put_str(KeyKind::Account, event.account_id.as_deref());
    keys.put_str(KeyKind::DeviceId, event.device_id());
    keys.put_str(KeyKind::DeviceFingerprint, event.device_fingerprint());
    keys.put_str(KeyKind::Identity, event.identity_hash.as_deref());
    keys.put_str(KeyKind::Campaign, event.campaign_id.as_deref());
    keys.put_str(
        KeyKind::AvatarHash,
        event
            .profile
            .as_ref()
            .and_then(|p| p.avatar_hash.as_deref()),
    );

    if let Some(phone) = &event.phone {
        let region = event.region.as_deref().unwrap_or(&options.default_region);
        keys.put(KeyKind::Phone, |b| normalize_phone(phone, region, b));
        if let Some(p) = keys.get(KeyKind::Phone) {
            let digits = p.iter().filter(|c| c.is_ascii_digit()).count();
            let n = options.block_suffix_digits;
            if digits >= n + 4 {
                let block_len = p.len() - n;
                let (a, _) = keys.spans[KeyKind::Phone.index()].unwrap_or((0, 0));
                keys.spans[KeyKind::PhoneBlock.index()] = Some((a, a + block_len as u32));
            }
        }
    }
    if let Some(ip) = event.ip {
        keys.put(KeyKind::Ip, |b| write_ip(b, ip));
        keys.put(KeyKind::IpPrefix, |b| match ip {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                b.extend_from_slice(b"v4:");
                b.extend_from_slice(&o[..3]);
            }
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => {
                    b.extend_from_slice(b"v4:");
                    b.extend_from_slice(&v4.octets()[..3]);
                }
                None => {
                    b.extend_from_slice(b"v6:");
                    b.extend_from_slice(&v6.octets()[..8]);
                }
            },
        });
    }
    if let Some(email) = &event.email {
        let email = email.trim();
        keys.put(KeyKind::Email, |b| {
            b.extend(email.bytes().map(|c| c.to_ascii_lowercase()))
        });
        if let Some(at) = email.rfind('@') {
            let domain = email[at + 1..].trim_end_matches('.');
            keys.put(KeyKind::EmailDomain, |b| {
                b.extend(domain.bytes().map(|c| c.to_ascii_lowercase()))
            });
        }
    }

    if let Some(d) = &event.device {
        if d.emulator == Some(true) {
            signals.push(Signal {
                def: reason::DEVICE_EMULATOR,
                value: None,
            });
        }
        if d.rooted == Some(true) {
            signals.push(Signal {
                def: reason::DEVICE_ROOTED,
                value: None,
            });
        }
        if d.hooked == Some(true) {
            signals.push(Signal {
                def: reason::DEVICE_HOOKED,
                value: None,
            });
        }
        let binds_phone = matches!(
            event.event_type,
            EventType::Registration | EventType::Login | EventType::SmsCodeRequest
        );
        if binds_phone
            && event.phone.is_some()
            && (d.sim_present == Some(false) || d.sim_phone_match == Some(false))
        {
            signals.push(Signal {
                def: reason::DEVICE_SIM_MISMATCH,
                value: None,
            });
        }
    }
}

fn write_ip(b: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            b.extend_from_slice(b"v4:");
            b.extend_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => {
                b.extend_from_slice(b"v4:");
                b.extend_from_slice(&v4.octets());
            }
            None => {
                b.extend_from_slice(b"v6:");
                b.extend_from_slice(&v6.octets());
            }
        },
    }
}

/// Canonical phone key: `+<country><number>` when the country is known, else `<REGION>:<digits>`.
pub fn normalize_phone(phone: &str, region: &str, out: &mut Vec<u8>) {
    let t = phone.trim();
    let digits = t.bytes().filter(u8::is_ascii_digit);
    if t.starts_with('+') {
        out.push(b'+');
        out.extend(digits);
        return;
    }
    let start = out.len();
    out.extend(digits);
    let n = out.len() - start;
    if n > 2 && out[start..start + 2] == *b"00" {
        out.drain(start..start + 2);
        out.insert(start, b'+');
        return;
    }
    if region.eq_ignore_ascii_case("CN") {
        if n == 11 && out[start] == b'1' {
            out.splice(start..start, *b"+86");
            return;
        }
        if n == 13 && out[start..start + 3] == *b"861" {
            out.insert(start, b'+');
            return;
        }
    }
    let mut prefix = region.to_ascii_uppercase().into_bytes();
    prefix.push(b':');
    out.splice(start..start, prefix);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(p: &str, r: &str) -> String {
        let mut v = Vec::new();
        normalize_phone(p, r, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn phones_normalise_to_one_key() {
        assert_eq!(norm("+86 170-1234-5678", "CN"), "+8617012345678");
        assert_eq!(norm("17012345678", "CN"), "+8617012345678");
        assert_eq!(norm("008617012345678", "US"), "+8617012345678");
        assert_eq!(norm("8617012345678", "CN"), "+8617012345678");
        assert_eq!(norm("(415) 555-0100", "us"), "US:4155550100");
    }

    #[test]
    fn block_drops_the_last_four_digits() {
        let mut e = Event::new(EventType::Registration);
        e.phone = Some("+8617012345678".into());
        e.ip = Some("203.0.113.7".parse().unwrap());
        e.email = Some("A.B@Example.COM".into());
        let mut keys = Keys::default();
        let mut signals = Vec::new();
        enrich(&e, &EnrichOptions::default(), &mut keys, &mut signals);
        assert_eq!(keys.get_str(KeyKind::PhoneBlock), Some("+861701234"));
        assert_eq!(keys.get(KeyKind::IpPrefix), Some(&b"v4:\xcb\x00\x71"[..]));
        assert_eq!(keys.get_str(KeyKind::EmailDomain), Some("example.com"));
        assert!(signals.is_empty());
    }
}
