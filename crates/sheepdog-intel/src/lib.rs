//! Black-market intelligence, looked up at enrich time: number plans and mainland segment
//! classes (carrier, MVNO, data-only, IoT, satellite) with operator and home city, numbers
//! published on receive-SMS sites, datacenter / VPN / Tor / mainland-cloud IP ranges,
//! disposable and relay e-mail domains, automation user agents and emulator models, and the
//! operator's own allow and deny lists.
//!
//! Pure: sources come in as text (`IntelBuilder::add`), reading files is the caller's job. An
//! `Intel` is immutable once built; reload builds a new one and swaps it whole.

mod device;
mod email;
mod ip;
mod lists;
mod load;
mod manifest;
mod phone;

use std::time::Duration;

pub use device::{DeviceFacts, UaMatch};
pub use email::{normalize_email, EmailClass, EmailFacts};
pub use ip::{IpClass, IpFacts, IpMatch, RangeTable};
pub use lists::{parse_list_line, ListAction, ListEntry, ListKind, ListMatch};
pub use load::load;
pub use manifest::{Manifest, ManifestSource};
pub use phone::{CnFacts, NumberType, PhoneFacts, ReceiveSmsListing, SegmentClass};

/// The kinds of source files the builder understands (`kind` in the manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// `prefix,category,operator,…`: mainland segment classes by leading digits.
    CnSegments,
    /// `prefix7,location_id,card_type`: 7-digit prefix → operator, MVNO flag, location.
    CnPrefixes,
    /// `location_id,province,city,zip_code,area_code`.
    CnLocations,
    /// `number,region,lpn_type,first_seen,last_seen`: numbers listed on receive-SMS sites.
    ReceiveSms,
    /// One CIDR per line, optional tab and label: datacenter and hosting ranges.
    IpDatacenter,
    /// Mainland-China clouds and IDCs (`cidr<TAB>label`), a datacenter class of their own.
    IpCnCloud,
    /// One CIDR per line: VPN ranges.
    IpVpn,
    /// `fingerprint, ipaddr, port`: Tor exit relays.
    IpTor,
    /// One domain per line: disposable (precise list).
    EmailDisposable,
    /// One domain per line: disposable (broad, weaker).
    EmailDisposableBroad,
    /// FakeFilter JSON (`{"domains":{d:{…}}}`): temporary-mail domains.
    EmailFakeFilter,
    /// One domain per line: alias / relay services.
    EmailRelay,
    /// One domain per line: free webmail (a benign control class).
    EmailFree,
    /// One domain per line: domains known not to be disposable (overrides the broad lists).
    EmailNotDisposable,
    /// JSON array of regex patterns of automated user agents.
    UaPatterns,
    /// `model<TAB>class` lines: emulator and cloud-phone model names.
    DeviceModels,
    /// Operator list: `action<TAB>kind<TAB>value[<TAB>expires[<TAB>note]]`.
    OperatorList,
}

impl SourceKind {
    pub const ALL: [SourceKind; 17] = [
        SourceKind::CnSegments,
        SourceKind::CnPrefixes,
        SourceKind::CnLocations,
        SourceKind::ReceiveSms,
        SourceKind::IpDatacenter,
        SourceKind::IpCnCloud,
        SourceKind::IpVpn,
        SourceKind::IpTor,
        SourceKind::EmailDisposable,
        SourceKind::EmailDisposableBroad,
        SourceKind::EmailFakeFilter,
        SourceKind::EmailRelay,
        SourceKind::EmailFree,
        SourceKind::EmailNotDisposable,
        SourceKind::UaPatterns,
        SourceKind::DeviceModels,
        SourceKind::OperatorList,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::CnSegments => "cn_segments",
            SourceKind::CnPrefixes => "cn_prefixes",
            SourceKind::CnLocations => "cn_locations",
            SourceKind::ReceiveSms => "receive_sms",
            SourceKind::IpDatacenter => "ip_datacenter",
            SourceKind::IpCnCloud => "ip_cn_cloud",
            SourceKind::IpVpn => "ip_vpn",
            SourceKind::IpTor => "ip_tor",
            SourceKind::EmailDisposable => "email_disposable",
            SourceKind::EmailDisposableBroad => "email_disposable_broad",
            SourceKind::EmailFakeFilter => "email_fakefilter",
            SourceKind::EmailRelay => "email_relay",
            SourceKind::EmailFree => "email_free",
            SourceKind::EmailNotDisposable => "email_not_disposable",
            SourceKind::UaPatterns => "ua_patterns",
            SourceKind::DeviceModels => "device_models",
            SourceKind::OperatorList => "operator_list",
        }
    }

    pub fn parse(s: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A source that failed to load; names the source and the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: line {line}: {message}")]
pub struct IntelError {
    pub source_name: String,
    pub line: usize,
    pub message: String,
}

impl IntelError {
    pub(crate) fn new(source_name: &str, line: usize, message: impl Into<String>) -> IntelError {
        IntelError { source_name: source_name.to_string(), line, message: message.into() }
    }
}

/// What one loaded source contributed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceStats {
    pub name: String,
    pub kind: &'static str,
    pub entries: usize,
    pub version: String,
    pub origin: String,
    pub licence: String,
    /// Lines skipped as not parseable (junk lines in upstream lists).
    pub skipped: usize,
}

/// Collects sources, then builds an immutable `Intel`.
#[derive(Default)]
pub struct IntelBuilder {
    phone: phone::PhoneBuilder,
    ip: ip::IpBuilder,
    email: email::EmailBuilder,
    device: device::DeviceBuilder,
    lists: lists::ListBuilder,
    stats: Vec<SourceStats>,
    hasher: xxhash_rust::xxh3::Xxh3Default,
}

impl IntelBuilder {
    pub fn new() -> IntelBuilder {
        IntelBuilder::default()
    }

    /// Adds one source's text. `info` is its manifest entry (name, version, origin, licence).
    pub fn add(&mut self, kind: SourceKind, info: &ManifestSource, text: &str) -> Result<(), IntelError> {
        let name = info.name.as_str();
        let skipped_before = self.email.skipped;
        let entries = match kind {
            SourceKind::CnSegments => self.phone.add_segments(name, text)?,
            SourceKind::CnPrefixes => self.phone.add_prefixes(name, text)?,
            SourceKind::CnLocations => self.phone.add_locations(name, text)?,
            SourceKind::ReceiveSms => self.phone.add_receive_sms(name, text)?,
            SourceKind::IpDatacenter => self.ip.add_cidrs(IpClass::Datacenter, name, text)?,
            SourceKind::IpCnCloud => self.ip.add_cidrs(IpClass::CnCloud, name, text)?,
            SourceKind::IpVpn => self.ip.add_cidrs(IpClass::Vpn, name, text)?,
            SourceKind::IpTor => self.ip.add_tor(name, text)?,
            SourceKind::EmailDisposable => self.email.add_domains(EmailClass::Disposable, name, text)?,
            SourceKind::EmailDisposableBroad => self.email.add_domains(EmailClass::DisposableBroad, name, text)?,
            SourceKind::EmailFakeFilter => self.email.add_fakefilter(name, text)?,
            SourceKind::EmailRelay => self.email.add_domains(EmailClass::Relay, name, text)?,
            SourceKind::EmailFree => self.email.add_domains(EmailClass::FreeWebmail, name, text)?,
            SourceKind::EmailNotDisposable => self.email.add_not_disposable(name, text)?,
            SourceKind::UaPatterns => self.device.add_ua_patterns(name, text)?,
            SourceKind::DeviceModels => self.device.add_models(name, text)?,
            SourceKind::OperatorList => self.lists.add(name, text)?,
        };
        self.hasher.update(kind.as_str().as_bytes());
        self.hasher.update(name.as_bytes());
        self.hasher.update(text.as_bytes());
        self.stats.push(SourceStats {
            name: name.to_string(),
            kind: kind.as_str(),
            entries,
            version: info.version.clone(),
            origin: info.origin.clone(),
            licence: info.licence.clone(),
            skipped: self.email.skipped - skipped_before,
        });
        Ok(())
    }

    pub fn build(self) -> Intel {
        phone::warm_up();
        Intel {
            version: format!("{:016x}", self.hasher.digest()),
            phone: self.phone.build(),
            ip: self.ip.build(),
            email: self.email.build(),
            device: self.device.build(),
            lists: self.lists.build(),
            stats: self.stats,
            load_time: Duration::ZERO,
            loaded_at_ms: 0,
        }
    }
}

/// All intelligence, immutable; shared as `Arc<Intel>` and swapped whole on reload.
pub struct Intel {
    version: String,
    phone: phone::PhoneIntel,
    ip: ip::IpIntel,
    email: email::EmailIntel,
    device: device::DeviceIntel,
    lists: lists::Lists,
    stats: Vec<SourceStats>,
    load_time: Duration,
    loaded_at_ms: i64,
}

impl Default for Intel {
    fn default() -> Self {
        IntelBuilder::new().build()
    }
}

impl Intel {
    /// Content hash of every source loaded.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn sources(&self) -> &[SourceStats] {
        &self.stats
    }

    /// How long the caller took to load it (set by the loader).
    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    pub fn set_load_time(&mut self, d: Duration) {
        self.load_time = d;
    }

    /// When the caller loaded it (epoch ms; 0 when unknown).
    pub fn loaded_at_ms(&self) -> i64 {
        self.loaded_at_ms
    }

    pub fn set_loaded_at_ms(&mut self, ms: i64) {
        self.loaded_at_ms = ms;
    }

    /// Everything known about a phone number. `region` is the default region for national
    /// numbers; `now_ms` is event time (for listing recency). `None` when the text is not a
    /// phone number at all.
    pub fn phone(&self, raw: &str, region: &str, block_suffix_digits: usize, now_ms: i64) -> Option<PhoneFacts> {
        self.phone.lookup(raw, region, block_suffix_digits, now_ms)
    }

    /// `phone` without the mainland fast path: always through libphonenumber. For agreement
    /// tests of the fast path and for debugging.
    pub fn phone_via_library(
        &self,
        raw: &str,
        region: &str,
        block_suffix_digits: usize,
        now_ms: i64,
    ) -> Option<PhoneFacts> {
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return None;
        }
        self.phone.lookup_slow(raw, &digits, region, block_suffix_digits, now_ms)
    }

    pub fn ip(&self, ip: std::net::IpAddr) -> IpFacts {
        self.ip.lookup(ip)
    }

    pub fn email(&self, email: &str) -> Option<EmailFacts> {
        self.email.lookup(email)
    }

    pub fn device(&self, model: Option<&str>, user_agent: Option<&str>) -> DeviceFacts {
        self.device.lookup(model, user_agent)
    }

    /// Whether any operator-list entry is loaded (lets callers skip building lookup keys).
    pub fn has_lists(&self) -> bool {
        !self.lists.is_empty()
    }

    /// The strongest operator-list entry matching any of the given keys at event time `now_ms`
    /// (deny beats allow).
    pub fn list_match(
        &self,
        keys: &[(ListKind, &str)],
        ip: Option<std::net::IpAddr>,
        now_ms: i64,
    ) -> Option<ListMatch> {
        self.lists.lookup(keys, ip, now_ms)
    }

    /// The receive-SMS listing of an E.164 number, if any.
    pub fn receive_sms(&self, e164: &str) -> Option<ReceiveSmsListing> {
        self.phone.receive_sms(e164)
    }

    /// Every CN segment row and its category (for agreement tests and `intel stats`).
    pub fn cn_segment_rows(&self) -> impl Iterator<Item = (&str, SegmentClass)> {
        self.phone.segment_rows()
    }

    /// Approximate heap bytes of the tables.
    pub fn approx_bytes(&self) -> usize {
        self.phone.approx_bytes() + self.ip.approx_bytes() + self.email.approx_bytes() + self.lists.approx_bytes()
    }
}

/// Index of `name` in a small table of source names, added if absent.
pub(crate) fn intern(names: &mut Vec<String>, name: &str) -> u16 {
    match names.iter().position(|s| s == name) {
        Some(i) => i as u16,
        None => {
            names.push(name.to_string());
            (names.len() - 1) as u16
        }
    }
}

/// Days since the Unix epoch of a `YYYY-MM-DD` date.
pub(crate) fn parse_date_days(s: &str) -> Option<i32> {
    let s = s.trim();
    // The common `YYYY-MM-DD` read digit by digit (the receive-SMS table has 250,000 dates);
    // any other spelling through the general path.
    let (y, m, d) = match s.as_bytes() {
        &[y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1]
            if [y0, y1, y2, y3, m0, m1, d0, d1].iter().all(u8::is_ascii_digit) =>
        {
            let n = |a: u8, b: u8| u32::from(a - b'0') * 10 + u32::from(b - b'0');
            ((n(y0, y1) * 100 + n(y2, y3)) as i32, n(m0, m1), n(d0, d1))
        }
        _ => {
            let mut it = s.splitn(3, '-');
            let y: i32 = it.next()?.parse().ok()?;
            let m: u32 = it.next()?.parse().ok()?;
            let d: u32 = it.next()?.parse().ok()?;
            (y, m, d)
        }
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe as u32 * 365 + yoe as u32 / 4 - yoe as u32 / 100 + doy;
    Some(era * 146_097 + doe as i32 - 719_468)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_to_days() {
        assert_eq!(super::parse_date_days("1970-01-01"), Some(0));
        assert_eq!(super::parse_date_days("2026-11-25"), Some(20_782));
        assert_eq!(super::parse_date_days("2026-13-01"), None);
        // Other spellings take the general path and mean the same day.
        assert_eq!(super::parse_date_days(" 2026-11-25 "), Some(20_782));
        assert_eq!(super::parse_date_days("2026-11-5"), super::parse_date_days("2026-11-05"));
        assert_eq!(super::parse_date_days("+2026-11-25"), Some(20_782));
        assert_eq!(super::parse_date_days("2026-11-2x"), None);
        assert_eq!(super::parse_date_days("1969-12-31"), None);
        // The fast path agrees with the general one on every day of a few years.
        let general = |s: &str| {
            let mut it = s.splitn(3, '-');
            let y: i32 = it.next()?.parse().ok()?;
            let m: u32 = it.next()?.parse().ok()?;
            let d: u32 = it.next()?.parse().ok()?;
            // A leading `+` keeps this reference off the fast path.
            super::parse_date_days(&format!("+{y}-{m}-{d}"))
        };
        for y in [1970, 1999, 2000, 2024, 2026, 2100, 9999] {
            for m in 0..=13 {
                for d in 0..=32 {
                    let s = format!("{y:04}-{m:02}-{d:02}");
                    assert_eq!(super::parse_date_days(&s), general(&s), "{s}");
                }
            }
        }
    }
}
