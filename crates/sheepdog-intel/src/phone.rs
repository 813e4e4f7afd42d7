//! Phone numbers: libphonenumber parsing (validity, country, E.164, number type), mainland
//! segment classes and the 7-digit prefix table (operator, MVNO flag, home city), number
//! blocks, and numbers published on receive-SMS sites with their dates.

use rustc_hash::FxHashMap as HashMap;
use std::str::FromStr;
use std::sync::Arc;

use rlibphonenumber::{PhoneNumberFormat, PhoneNumberType, Region, PHONE_NUMBER_UTIL};
use serde::Serialize;

use crate::{parse_date_days, IntelError};

/// Initialises libphonenumber's lazily built metadata and patterns for the common regions, so
/// the first live event does not pay for it (~100 ms otherwise).
pub(crate) fn warm_up() {
    for n in ["+8613800000000", "+14155550123", "+447700900123", "+85291234567"] {
        if let Ok(p) = PHONE_NUMBER_UTIL.parse(n, None) {
            let _ = (p.is_valid(), p.get_type());
        }
    }
}

/// Mainland-China segment class of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentClass {
    /// Ordinary mobile segment of a base operator.
    Carrier,
    /// Virtual operator (162/165/167/170x/171…).
    Mvno,
    /// Data-only "internet cards" (145/147/149).
    DataOnly,
    /// IoT / M2M numbers (13-digit 1410/1440/1441/146/148, 1064).
    Iot,
    /// Satellite (1749).
    Satellite,
    /// MIIT emergency communication segments.
    Emergency,
}

impl SegmentClass {
    pub fn as_str(self) -> &'static str {
        match self {
            SegmentClass::Carrier => "carrier",
            SegmentClass::Mvno => "mvno",
            SegmentClass::DataOnly => "data_only",
            SegmentClass::Iot => "iot",
            SegmentClass::Satellite => "satellite",
            SegmentClass::Emergency => "emergency",
        }
    }

    fn parse(s: &str) -> Option<SegmentClass> {
        Some(match s {
            "carrier" => SegmentClass::Carrier,
            "mvno" => SegmentClass::Mvno,
            "data_only" => SegmentClass::DataOnly,
            "iot" => SegmentClass::Iot,
            "satellite" => SegmentClass::Satellite,
            "emergency" => SegmentClass::Emergency,
            _ => return None,
        })
    }
}

/// libphonenumber's number type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberType {
    FixedLine,
    Mobile,
    FixedLineOrMobile,
    TollFree,
    PremiumRate,
    SharedCost,
    Voip,
    PersonalNumber,
    Pager,
    Uan,
    Voicemail,
    Unknown,
}

impl NumberType {
    pub fn as_str(self) -> &'static str {
        match self {
            NumberType::FixedLine => "fixed_line",
            NumberType::Mobile => "mobile",
            NumberType::FixedLineOrMobile => "fixed_line_or_mobile",
            NumberType::TollFree => "toll_free",
            NumberType::PremiumRate => "premium_rate",
            NumberType::SharedCost => "shared_cost",
            NumberType::Voip => "voip",
            NumberType::PersonalNumber => "personal_number",
            NumberType::Pager => "pager",
            NumberType::Uan => "uan",
            NumberType::Voicemail => "voicemail",
            NumberType::Unknown => "unknown",
        }
    }

    fn from_lib(t: PhoneNumberType) -> NumberType {
        match t {
            PhoneNumberType::FixedLine => NumberType::FixedLine,
            PhoneNumberType::Mobile => NumberType::Mobile,
            PhoneNumberType::FixedLineOrMobile => NumberType::FixedLineOrMobile,
            PhoneNumberType::TollFree => NumberType::TollFree,
            PhoneNumberType::PremiumRate => NumberType::PremiumRate,
            PhoneNumberType::SharedCost => NumberType::SharedCost,
            PhoneNumberType::VoIP => NumberType::Voip,
            PhoneNumberType::PersonalNumber => NumberType::PersonalNumber,
            PhoneNumberType::Pager => NumberType::Pager,
            PhoneNumberType::UAN => NumberType::Uan,
            PhoneNumberType::VoiceMail => NumberType::Voicemail,
            _ => NumberType::Unknown,
        }
    }
}

/// What the mainland tables say about a +86 number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CnFacts {
    pub segment: SegmentClass,
    /// The segment-table prefix that decided the class.
    pub segment_prefix: Arc<str>,
    /// Original operator (number portability makes it the original one only).
    pub operator: Option<Arc<str>>,
    /// The segment is a virtual operator's, or the 7-digit table marks the prefix as one.
    pub mvno: bool,
    pub province: Option<Arc<str>>,
    pub city: Option<Arc<str>>,
}

/// A number's listing on public receive-SMS sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReceiveSmsListing {
    /// Days since the Unix epoch.
    pub first_seen_day: i32,
    pub last_seen_day: i32,
    /// Days between `last_seen` and the event (negative: listed after the event).
    pub days_since_last_seen: i64,
}

/// Everything known about a phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhoneFacts {
    /// libphonenumber could read it at all.
    pub parsed: bool,
    pub valid: bool,
    pub country_code: Option<u16>,
    pub region: Option<String>,
    /// Canonical key: E.164 when parsed, else `<REGION>:<digits>`.
    pub e164: String,
    pub number_type: NumberType,
    /// The number minus its last digits (the card batch it belongs to).
    pub block: Option<String>,
    pub cn: Option<CnFacts>,
    pub receive_sms: Option<ReceiveSmsListing>,
}

#[derive(Default)]
pub(crate) struct PhoneBuilder {
    segments: Vec<(String, SegmentClass, String)>,
    prefixes: Vec<(u32, u16, u8)>,
    locations: HashMap<u16, (String, String)>,
    receive_sms: HashMap<u64, (i32, i32)>,
}

/// A row `prefix,location,card` of ASCII digits only, without spaces; `None` for anything else
/// (including numbers out of their type's range).
fn prefix_row(b: &[u8]) -> Option<(u32, u16, u8)> {
    let mut fields = [0u64; 3];
    let mut k = 0;
    let mut digits = 0;
    for &c in b {
        match c {
            b'0'..=b'9' if digits < 10 => {
                fields[k] = fields[k] * 10 + u64::from(c - b'0');
                digits += 1;
            }
            b',' if digits > 0 && k < 2 => {
                k += 1;
                digits = 0;
            }
            _ => return None,
        }
    }
    if k != 2 || digits == 0 {
        return None;
    }
    Some((u32::try_from(fields[0]).ok()?, u16::try_from(fields[1]).ok()?, u8::try_from(fields[2]).ok()?))
}

/// The data rows of a CSV source with a header: (1-based line number, trimmed fields). Blank
/// lines and `#` comments are skipped. Fields sit on the stack (the receive-SMS table has
/// 126,000 rows).
fn csv_rows(text: &str) -> impl Iterator<Item = (usize, CsvFields<'_>)> {
    text.lines().enumerate().skip(1).filter_map(|(i, l)| csv_fields(l).map(|f| (i + 1, f)))
}

type CsvFields<'a> = smallvec::SmallVec<[&'a str; 8]>;

/// The trimmed fields of one data line; `None` for a blank line or a `#` comment.
fn csv_fields(l: &str) -> Option<CsvFields<'_>> {
    (!l.trim().is_empty() && !l.starts_with('#')).then(|| l.split(',').map(str::trim).collect())
}

impl PhoneBuilder {
    pub(crate) fn add_segments(&mut self, name: &str, text: &str) -> Result<usize, IntelError> {
        let mut n = 0;
        for (line, f) in csv_rows(text) {
            if f.len() < 3 {
                return Err(IntelError::new(name, line, "expected prefix,category,operator,…"));
            }
            if f[0].is_empty() || !f[0].bytes().all(|b| b.is_ascii_digit()) {
                return Err(IntelError::new(name, line, format!("prefix {:?} is not digits", f[0])));
            }
            let class = SegmentClass::parse(f[1])
                .ok_or_else(|| IntelError::new(name, line, format!("unknown category {:?}", f[1])))?;
            self.segments.push((f[0].to_string(), class, f[2].to_string()));
            n += 1;
        }
        Ok(n)
    }

    pub(crate) fn add_prefixes(&mut self, name: &str, text: &str) -> Result<usize, IntelError> {
        let mut n = 0;
        // Half a million rows: a plain `digits,digits,digits` row is read byte by byte, any
        // other (spaces, comments, errors) field by field.
        for (i, l) in text.lines().enumerate().skip(1) {
            let row = match prefix_row(l.as_bytes()) {
                Some(row) => Some(row),
                None => match csv_fields(l) {
                    None => continue,
                    Some(f) => (f.len() == 3)
                        .then(|| Some((f[0].parse::<u32>().ok()?, f[1].parse::<u16>().ok()?, f[2].parse::<u8>().ok()?)))
                        .flatten(),
                },
            };
            let Some((p, loc, card)) = row.filter(|(p, _, _)| (1_000_000..10_000_000).contains(p)) else {
                return Err(IntelError::new(name, i + 1, "expected prefix7,location_id,card_type"));
            };
            self.prefixes.push((p, loc, card));
            n += 1;
        }
        Ok(n)
    }

    pub(crate) fn add_locations(&mut self, name: &str, text: &str) -> Result<usize, IntelError> {
        let mut n = 0;
        for (line, f) in csv_rows(text) {
            let Some(id) = f.first().and_then(|s| s.parse::<u16>().ok()).filter(|_| f.len() >= 3) else {
                return Err(IntelError::new(name, line, "expected location_id,province,city,…"));
            };
            self.locations.insert(id, (f[1].to_string(), f[2].to_string()));
            n += 1;
        }
        Ok(n)
    }

    pub(crate) fn add_receive_sms(&mut self, name: &str, text: &str) -> Result<usize, IntelError> {
        let mut n = 0;
        for (line, f) in csv_rows(text) {
            let bad = || IntelError::new(name, line, "expected number,region,lpn_type,first_seen,last_seen");
            if f.len() < 5 {
                return Err(bad());
            }
            let number: u64 = f[0].parse().map_err(|_| bad())?;
            let last = parse_date_days(f[4]).ok_or_else(bad)?;
            let first = parse_date_days(f[3]).unwrap_or(last);
            let e = self.receive_sms.entry(number).or_insert((first, last));
            e.0 = e.0.min(first);
            e.1 = e.1.max(last);
            n += 1;
        }
        Ok(n)
    }

    pub(crate) fn build(mut self) -> PhoneIntel {
        self.prefixes.sort_unstable();
        self.prefixes.dedup_by_key(|p| p.0);
        let segments: Vec<Segment> = self
            .segments
            .into_iter()
            .map(|(p, c, op)| (Arc::from(p.as_str()), c, (!op.is_empty()).then(|| Arc::from(op.as_str()))))
            .collect();
        let mut segment_index = HashMap::default();
        let mut lengths = (0, usize::MAX);
        for (i, (p, _, _)) in segments.iter().enumerate() {
            if let Some(k) = segment_key(p) {
                // A later file may refine an earlier row with the same prefix.
                segment_index.insert(k, i);
                lengths = (lengths.0.max(p.len()), lengths.1.min(p.len()));
            }
        }
        PhoneIntel {
            verdicts: Default::default(),
            segments,
            segment_index,
            segment_lengths: lengths,
            prefixes: PrefixTable::new(&self.prefixes),
            card_operators: (0..=8u8).map(|c| Arc::from(card(c).0)).collect(),
            locations: self
                .locations
                .into_iter()
                .map(|(k, (p, c))| (k, (Arc::from(p.as_str()), Arc::from(c.as_str()))))
                .collect(),
            receive_sms: self.receive_sms,
        }
    }
}

/// A segment row: prefix, class, operator.
type Segment = (Arc<str>, SegmentClass, Option<Arc<str>>);

/// Key of a segment prefix in the lookup map: its digits and its length.
fn segment_key(prefix: &str) -> Option<u64> {
    Some(prefix.parse::<u64>().ok()? * 10 + prefix.len() as u64)
}

pub(crate) struct PhoneIntel {
    verdicts: parking_lot::RwLock<HashMap<u32, (bool, NumberType)>>,
    segments: Vec<Segment>,
    /// Segment index by (digits, length) of its prefix.
    segment_index: HashMap<u64, usize>,
    /// Longest and shortest segment prefixes.
    segment_lengths: (usize, usize),
    prefixes: PrefixTable,
    /// Operator names of the 7-digit table's card types, shared (no allocation per lookup).
    card_operators: Vec<Arc<str>>,
    locations: HashMap<u16, (Arc<str>, Arc<str>)>,
    receive_sms: HashMap<u64, (i32, i32)>,
}

const DAY_MS: i64 = 86_400_000;

/// The 7-digit prefix table indexed directly by prefix (one memory access instead of a binary
/// search's ~20): `cells[prefix - base]` holds `location << 8 | card type`, `ABSENT_CELL` where
/// the table has no row. Mainland prefixes span 130xxxx–199xxxx: 2.8 MB.
struct PrefixTable {
    base: u32,
    cells: Vec<u32>,
}

const ABSENT_CELL: u32 = u32::MAX;

impl PrefixTable {
    /// From rows sorted and unique by prefix (7-digit numbers: the span is bounded).
    fn new(rows: &[(u32, u16, u8)]) -> Self {
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return PrefixTable { base: 0, cells: Vec::new() };
        };
        let mut cells = vec![ABSENT_CELL; (last.0 - first.0) as usize + 1];
        for &(p, loc, card) in rows {
            cells[(p - first.0) as usize] = u32::from(loc) << 8 | u32::from(card);
        }
        PrefixTable { base: first.0, cells }
    }

    fn get(&self, prefix: u32) -> Option<(u16, u8)> {
        let cell = *self.cells.get(prefix.checked_sub(self.base)? as usize)?;
        (cell != ABSENT_CELL).then_some(((cell >> 8) as u16, cell as u8))
    }
}

/// `card_type` of the 7-digit table: operator name and MVNO flag.
fn card(card: u8) -> (&'static str, bool) {
    match card {
        1 => ("China Mobile", false),
        2 => ("China Unicom", false),
        3 => ("China Telecom", false),
        4 => ("China Telecom", true),
        5 => ("China Unicom", true),
        6 => ("China Mobile", true),
        7 => ("China Broadnet", false),
        8 => ("China Broadnet", true),
        _ => ("unknown", false),
    }
}

impl PhoneIntel {
    pub(crate) fn segment_rows(&self) -> impl Iterator<Item = (&str, SegmentClass)> {
        self.segments.iter().map(|(p, c, _)| (&**p, *c))
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        self.prefixes.cells.capacity() * 4
            + self.receive_sms.capacity() * 17
            + self.segments.len() * 64
            + self.locations.len() * 64
    }

    /// Mainland facts of a national significant number.
    fn cn(&self, national: &str) -> Option<CnFacts> {
        let (longest, shortest) = self.segment_lengths;
        let i = (shortest..=longest.min(national.len()))
            .rev()
            .find_map(|len| self.segment_index.get(&segment_key(&national[..len])?).copied())?;
        let (prefix, class, operator) = &self.segments[i];
        let mut facts = CnFacts {
            segment: *class,
            segment_prefix: prefix.clone(),
            operator: operator.clone(),
            mvno: *class == SegmentClass::Mvno,
            province: None,
            city: None,
        };
        if national.len() == 11 {
            if let Ok(p7) = national[..7].parse::<u32>() {
                if let Some((loc, card_type)) = self.prefixes.get(p7) {
                    let (_, mvno) = card(card_type);
                    facts.mvno |= mvno;
                    if facts.operator.is_none() {
                        // Card types past the table's read as 0, "unknown", as `card` does.
                        let i = if usize::from(card_type) < self.card_operators.len() { card_type } else { 0 };
                        facts.operator = self.card_operators.get(usize::from(i)).cloned();
                    }
                    // The segment rules decide the class: the 7-digit table mistypes some blocks
                    // (1349 satellite as a Mobile MVNO, 1700-1702 as Telecom); its flag is kept.
                    if let Some((prov, city)) = self.locations.get(&loc) {
                        facts.province = Some(prov.clone());
                        facts.city = Some(city.clone());
                    }
                }
            }
        }
        Some(facts)
    }

    pub(crate) fn receive_sms_at(&self, digits: &str, now_ms: i64) -> Option<ReceiveSmsListing> {
        let key: u64 = digits.parse().ok()?;
        let (first, last) = *self.receive_sms.get(&key)?;
        Some(ReceiveSmsListing {
            first_seen_day: first,
            last_seen_day: last,
            days_since_last_seen: now_ms.div_euclid(DAY_MS) - i64::from(last),
        })
    }

    pub(crate) fn receive_sms(&self, e164: &str) -> Option<ReceiveSmsListing> {
        self.receive_sms_at(e164.trim_start_matches('+'), 0).map(|mut l| {
            l.days_since_last_seen = 0;
            l
        })
    }

    /// Validity and type of a mainland mobile number, by its 7-digit prefix: libphonenumber's CN
    /// mobile patterns are decided by the leading digits and the length (11), so its verdict for
    /// one number of a prefix holds for all of them. Asked once per prefix, then remembered.
    fn cn_mobile_verdict(&self, national: &str) -> Option<(bool, NumberType)> {
        let p7: u32 = national.get(..7)?.parse().ok()?;
        if let Some(v) = self.verdicts.read().get(&p7) {
            return Some(*v);
        }
        let n = PHONE_NUMBER_UTIL.parse(format!("+86{national}"), None).ok()?;
        let v = (n.is_valid(), NumberType::from_lib(n.get_type()));
        let mut cache = self.verdicts.write();
        if cache.len() < 1_000_000 {
            cache.insert(p7, v);
        }
        Some(v)
    }

    /// The fast path: a mainland mobile number written `+86 1xx…`, `0086 1xx…` or, with region CN,
    /// `1xx…` (11 digits). Everything else goes through libphonenumber.
    fn cn_mobile_national<'a>(raw: &str, region: &str, digits: &'a str) -> Option<&'a str> {
        let t = raw.trim_start();
        let national = if t.starts_with('+') {
            digits.strip_prefix("86")?
        } else if t.starts_with("00") {
            digits.strip_prefix("0086")?
        } else if region.eq_ignore_ascii_case("CN") {
            digits
        } else {
            return None;
        };
        (national.len() == 11 && national.starts_with('1')).then_some(national)
    }

    pub(crate) fn lookup(&self, raw: &str, region: &str, block_suffix: usize, now_ms: i64) -> Option<PhoneFacts> {
        // The digits, on the stack for any real number (a longer input takes the heap).
        let mut buf = [0u8; 32];
        let mut n = 0;
        for b in raw.bytes().filter(u8::is_ascii_digit) {
            if n == buf.len() {
                n = usize::MAX;
                break;
            }
            buf[n] = b;
            n += 1;
        }
        let long: String;
        let digits: &str = match buf.get(..n) {
            Some(d) => std::str::from_utf8(d).unwrap_or_default(),
            None => {
                long = raw.chars().filter(char::is_ascii_digit).collect();
                &long
            }
        };
        if digits.is_empty() {
            return None;
        }
        if let Some(national) = Self::cn_mobile_national(raw, region, digits) {
            // Only valid prefixes take the fast path: libphonenumber reads some invalid national
            // strings as other countries' numbers, and invalid numbers are rare enough.
            if let Some((valid @ true, number_type)) = self.cn_mobile_verdict(national) {
                let e164 = ["+86", national].concat();
                let block = (11 >= block_suffix + 2).then(|| e164[..e164.len() - block_suffix].to_string());
                return Some(PhoneFacts {
                    parsed: true,
                    valid,
                    country_code: Some(86),
                    region: Some("CN".to_string()),
                    number_type,
                    block,
                    cn: self.cn(national),
                    receive_sms: self.receive_sms_at(&e164[1..], now_ms),
                    e164,
                });
            }
        }
        self.lookup_slow(raw, digits, region, block_suffix, now_ms)
    }

    /// Through libphonenumber, for any number.
    pub(crate) fn lookup_slow(
        &self,
        raw: &str,
        digits: &str,
        region: &str,
        block_suffix: usize,
        now_ms: i64,
    ) -> Option<PhoneFacts> {
        let default_region = Region::from_str(&region.to_ascii_uppercase()).ok();
        let parsed = PHONE_NUMBER_UTIL.parse(raw, default_region).ok();
        let mut facts = match &parsed {
            Some(n) => {
                let national = n.get_national_significant_number();
                let cc = n.country_code as u16;
                let e164 = n.format_as(PhoneNumberFormat::E164).into_owned();
                PhoneFacts {
                    parsed: true,
                    valid: n.is_valid(),
                    country_code: Some(cc),
                    region: n.get_region_code().map(|r| r.to_string()),
                    number_type: NumberType::from_lib(n.get_type()),
                    block: None,
                    cn: if cc == 86 { self.cn(&national) } else { None },
                    receive_sms: self.receive_sms_at(&e164[1..], now_ms),
                    e164,
                }
            }
            None => PhoneFacts {
                parsed: false,
                valid: false,
                country_code: None,
                region: None,
                e164: format!("{}:{digits}", region.to_ascii_uppercase()),
                number_type: NumberType::Unknown,
                block: None,
                cn: None,
                receive_sms: None,
            },
        };
        let n_digits = facts.e164.bytes().filter(u8::is_ascii_digit).count();
        if n_digits >= block_suffix + 4 {
            facts.block = Some(facts.e164[..facts.e164.len() - block_suffix].to_string());
        }
        Some(facts)
    }
}

#[cfg(test)]
mod tests {
    use super::PhoneBuilder;

    /// The byte-by-byte rows and the general CSV path read a table alike, and errors name the
    /// right line whichever path met them.
    #[test]
    fn prefix_rows_read_alike_on_both_paths() {
        let plain = "prefix7,location_id,card_type\n1300000,1,2\n1300001,2,3\r\n1300002,3,4\n";
        let mixed = "prefix7,location_id,card_type\n1300000,1,2\n# a comment\n\n 1300001 , 2 ,3\n1300002,3,4\n";
        let read = |t: &str| {
            let mut b = PhoneBuilder::default();
            let n = b.add_prefixes("p.csv", t).unwrap();
            (n, b.prefixes)
        };
        let expected = (3, vec![(1_300_000, 1, 2), (1_300_001, 2, 3), (1_300_002, 3, 4)]);
        assert_eq!(read(plain), expected);
        assert_eq!(read(mixed), expected);
        for (text, line) in [
            ("h\n1300000,1,2\n130000,1,2\n", 3),    // six digits
            ("h\n1300000,1,2\n1300001,1,256\n", 3), // card type past u8
            ("h\n1300000,1,2\n\n1300001,1\n", 4),   // two fields, after a blank line
            ("h\n1300000,1,2,9\n", 2),              // four fields
            ("h\n1300000,70000,2\n", 2),            // location past u16
            ("h\n13000000000,1,2\n", 2),            // past u32
        ] {
            let e = PhoneBuilder::default().add_prefixes("p.csv", text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
        }
        assert_eq!(super::prefix_row(b"0001300000,01,02"), Some((1_300_000, 1, 2)));
        assert_eq!(super::prefix_row(b"1300000,,2"), None);
        assert_eq!(super::prefix_row(b"1300000,1,"), None);
    }
}
