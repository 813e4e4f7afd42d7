//! IP ranges: datacenter / hosting, mainland clouds, VPN (CIDR lists) and Tor exits (single
//! addresses). CIDRs of one class are flattened into disjoint intervals, each remembering its
//! most specific covering prefix, so a lookup is one binary search (O(log n)) per class.

use rustc_hash::FxHashMap as HashMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::IntelError;

/// The class of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IpClass {
    Datacenter,
    CnCloud,
    Vpn,
    Tor,
}

impl IpClass {
    pub fn as_str(self) -> &'static str {
        match self {
            IpClass::Datacenter => "datacenter",
            IpClass::CnCloud => "cn_cloud",
            IpClass::Vpn => "vpn",
            IpClass::Tor => "tor",
        }
    }
}

/// One matching range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpMatch {
    pub class: IpClass,
    /// The most specific range that holds the address (`47.96.0.0/11`, or the address for Tor).
    pub range: String,
    /// Owner label when the source has one (`Alibaba Cloud AS37963`).
    pub label: Option<String>,
    /// The intel source it came from.
    pub source: String,
}

/// Everything known about an address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IpFacts {
    pub matches: Vec<IpMatch>,
}

impl IpFacts {
    pub fn get(&self, class: IpClass) -> Option<&IpMatch> {
        self.matches.iter().find(|m| m.class == class)
    }
}

#[derive(Debug, Clone)]
struct Info {
    range: String,
    label: Option<String>,
    source: u16,
}

/// Disjoint intervals `[start, end]`, sorted, each with the index of its most specific prefix.
#[derive(Debug, Clone, Default)]
pub struct RangeTable<T> {
    starts: Vec<T>,
    ends: Vec<T>,
    info: Vec<u32>,
    /// IPv4 only: for each /16, the index of the first interval starting in it or later, so a
    /// lookup searches a handful of intervals instead of the whole table.
    by_16: Vec<u32>,
}

/// An integer address type.
pub trait Addr: Copy + Ord {
    fn succ(self) -> Option<Self>;
    fn pred(self) -> Option<Self>;
}

impl RangeTable<u32> {
    /// Builds the /16 index (see `by_16`).
    fn index_by_16(mut self) -> Self {
        let mut by_16 = Vec::with_capacity(65_537);
        for h in 0..=65_536u32 {
            by_16.push(self.starts.partition_point(|s| (s >> 16) < h) as u32);
        }
        self.by_16 = by_16;
        self
    }

    /// `lookup` through the /16 index.
    pub fn lookup_v4(&self, addr: u32) -> Option<u32> {
        if self.by_16.is_empty() {
            return self.lookup(addr);
        }
        let h = (addr >> 16) as usize;
        // The interval holding addr starts in its /16, or is the last one starting before it.
        let lo = (self.by_16[h] as usize).saturating_sub(1);
        self.lookup_in(addr, lo, self.by_16[h + 1] as usize)
    }
}

impl Addr for u32 {
    fn succ(self) -> Option<u32> {
        self.checked_add(1)
    }
    fn pred(self) -> Option<u32> {
        self.checked_sub(1)
    }
}

impl Addr for u128 {
    fn succ(self) -> Option<u128> {
        self.checked_add(1)
    }
    fn pred(self) -> Option<u128> {
        self.checked_sub(1)
    }
}

impl<T: Addr> RangeTable<T> {
    /// Flattens possibly nested prefixes `(start, end, info)` (CIDRs are either disjoint or
    /// nested) into disjoint intervals owned by the innermost prefix.
    pub fn build(mut ranges: Vec<(T, T, u32)>) -> RangeTable<T> {
        // Outer ranges before the ranges they contain.
        ranges.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        ranges.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1);
        let mut t = RangeTable { starts: Vec::new(), ends: Vec::new(), info: Vec::new(), by_16: Vec::new() };
        let mut stack: Vec<(T, T, u32)> = Vec::new();
        // Next address not yet emitted; None once past the top of the address space.
        let mut cursor: Option<T> = None;
        let emit = |t: &mut RangeTable<T>, from: Option<T>, to: T, info: u32| {
            if let Some(from) = from {
                if from <= to {
                    t.starts.push(from);
                    t.ends.push(to);
                    t.info.push(info);
                }
            }
        };
        for r in ranges {
            while let Some(&top) = stack.last() {
                if top.1 >= r.0 {
                    break;
                }
                emit(&mut t, cursor, top.1, top.2);
                cursor = top.1.succ();
                stack.pop();
            }
            if let Some(&top) = stack.last() {
                if let Some(before) = r.0.pred() {
                    emit(&mut t, cursor, before, top.2);
                }
            }
            cursor = Some(r.0);
            stack.push(r);
        }
        while let Some(top) = stack.pop() {
            emit(&mut t, cursor, top.1, top.2);
            cursor = top.1.succ();
        }
        t
    }

    pub fn lookup(&self, addr: T) -> Option<u32> {
        self.lookup_in(addr, 0, self.starts.len())
    }

    /// The interval holding `addr`, knowing it starts in `starts[..hi]` and not before `lo`.
    fn lookup_in(&self, addr: T, lo: usize, hi: usize) -> Option<u32> {
        let i = lo + self.starts[lo..hi].partition_point(|s| *s <= addr);
        if i == 0 {
            return None;
        }
        (addr <= self.ends[i - 1]).then(|| self.info[i - 1])
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }
}

/// Parses `a.b.c.d/n` or `x::/n` (or a bare address) into an inclusive range.
pub(crate) fn parse_cidr(s: &str) -> Option<Cidr> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a.trim().parse::<IpAddr>().ok()?, Some(l.trim().parse::<u8>().ok()?)),
        None => (s.trim().parse::<IpAddr>().ok()?, None),
    };
    Some(match addr {
        IpAddr::V4(v4) => {
            let len = len.unwrap_or(32);
            if len > 32 {
                return None;
            }
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            let start = u32::from(v4) & mask;
            Cidr::V4(start, start | !mask)
        }
        IpAddr::V6(v6) => {
            let len = len.unwrap_or(128);
            if len > 128 {
                return None;
            }
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            let start = u128::from(v6) & mask;
            Cidr::V6(start, start | !mask)
        }
    })
}

pub(crate) enum Cidr {
    V4(u32, u32),
    V6(u128, u128),
}

#[derive(Default)]
pub(crate) struct IpBuilder {
    info: Vec<Info>,
    sources: Vec<String>,
    v4: HashMap<IpClass, Vec<(u32, u32, u32)>>,
    v6: HashMap<IpClass, Vec<(u128, u128, u32)>>,
    tor: HashMap<IpAddr, u32>,
}

impl IpBuilder {
    fn source(&mut self, name: &str) -> u16 {
        crate::intern(&mut self.sources, name)
    }

    pub(crate) fn add_cidrs(&mut self, class: IpClass, name: &str, text: &str) -> Result<usize, IntelError> {
        let source = self.source(name);
        let mut n = 0;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (cidr, label) = match line.split_once('\t') {
                Some((c, l)) => (c.trim(), Some(l.trim().to_string()).filter(|l| !l.is_empty())),
                None => (line, None),
            };
            let Some(parsed) = parse_cidr(cidr) else {
                return Err(IntelError::new(name, i + 1, format!("{cidr:?} is not a CIDR")));
            };
            let idx = self.info.len() as u32;
            self.info.push(Info { range: cidr.to_string(), label, source });
            match parsed {
                Cidr::V4(a, b) => self.v4.entry(class).or_default().push((a, b, idx)),
                Cidr::V6(a, b) => self.v6.entry(class).or_default().push((a, b, idx)),
            }
            n += 1;
        }
        Ok(n)
    }

    pub(crate) fn add_tor(&mut self, name: &str, text: &str) -> Result<usize, IntelError> {
        let source = self.source(name);
        let mut n = 0;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("fingerprint") {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let Some(addr) = fields.get(1).and_then(|a| a.parse::<IpAddr>().ok()) else {
                return Err(IntelError::new(name, i + 1, "expected fingerprint, ipaddr, port"));
            };
            if !self.tor.contains_key(&addr) {
                let idx = self.info.len() as u32;
                self.info.push(Info {
                    range: addr.to_string(),
                    label: fields.first().map(|f| format!("relay {f}")),
                    source,
                });
                self.tor.insert(addr, idx);
                n += 1;
            }
        }
        Ok(n)
    }

    pub(crate) fn build(self) -> IpIntel {
        let classes = [IpClass::Datacenter, IpClass::CnCloud, IpClass::Vpn];
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let (mut m4, mut m6) = (self.v4, self.v6);
        for c in classes {
            v4.push((c, RangeTable::build(m4.remove(&c).unwrap_or_default()).index_by_16()));
            v6.push((c, RangeTable::build(m6.remove(&c).unwrap_or_default())));
        }
        IpIntel { info: self.info, sources: self.sources, v4, v6, tor: self.tor }
    }
}

pub(crate) struct IpIntel {
    info: Vec<Info>,
    sources: Vec<String>,
    v4: Vec<(IpClass, RangeTable<u32>)>,
    v6: Vec<(IpClass, RangeTable<u128>)>,
    tor: HashMap<IpAddr, u32>,
}

impl IpIntel {
    fn to_match(&self, class: IpClass, idx: u32) -> Option<IpMatch> {
        let info = self.info.get(idx as usize)?;
        Some(IpMatch {
            class,
            range: info.range.clone(),
            label: info.label.clone(),
            source: self.sources.get(usize::from(info.source)).cloned().unwrap_or_default(),
        })
    }

    pub(crate) fn lookup(&self, ip: IpAddr) -> IpFacts {
        let ip = ip.to_canonical();
        let mut facts = IpFacts::default();
        match ip {
            IpAddr::V4(v4) => {
                let a = u32::from(v4);
                for (class, table) in &self.v4 {
                    if let Some(m) = table.lookup_v4(a).and_then(|i| self.to_match(*class, i)) {
                        facts.matches.push(m);
                    }
                }
            }
            IpAddr::V6(v6) => {
                let a = u128::from(v6);
                for (class, table) in &self.v6 {
                    if let Some(m) = table.lookup(a).and_then(|i| self.to_match(*class, i)) {
                        facts.matches.push(m);
                    }
                }
            }
        }
        if let Some(m) = self.tor.get(&ip).and_then(|i| self.to_match(IpClass::Tor, *i)) {
            facts.matches.push(m);
        }
        facts
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        self.info.len() * 64
            + self.v4.iter().map(|(_, t)| t.len() * 12).sum::<usize>()
            + self.v6.iter().map(|(_, t)| t.len() * 36).sum::<usize>()
            + self.tor.len() * 40
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_ranges_resolve_to_the_innermost() {
        let c = |s: &str| match parse_cidr(s).unwrap() {
            Cidr::V4(a, b) => (a, b),
            Cidr::V6(..) => unreachable!(),
        };
        let (a, b) = c("10.0.0.0/8");
        let (x, y) = c("10.1.0.0/16");
        let (p, q) = c("10.1.2.0/24");
        let (m, n) = c("11.0.0.0/8");
        let t = RangeTable::build(vec![(a, b, 0), (x, y, 1), (p, q, 2), (m, n, 3)]);
        let at = |s: &str| t.lookup(u32::from(s.parse::<std::net::Ipv4Addr>().unwrap()));
        assert_eq!(at("10.0.0.1"), Some(0));
        assert_eq!(at("10.1.0.1"), Some(1));
        assert_eq!(at("10.1.2.3"), Some(2));
        assert_eq!(at("10.1.3.0"), Some(1));
        assert_eq!(at("10.255.255.255"), Some(0));
        assert_eq!(at("11.2.3.4"), Some(3));
        assert_eq!(at("12.0.0.0"), None);
        assert_eq!(at("9.255.255.255"), None);
        let all = RangeTable::build(vec![(0, u32::MAX, 7), (x, y, 1)]);
        assert_eq!(all.lookup(u32::MAX), Some(7));
        assert_eq!(all.lookup(x), Some(1));
        assert_eq!(all.lookup(y + 1), Some(7));
        // The /16 index answers exactly as the full search, on every interval edge.
        let t = RangeTable::build(vec![(a, b, 0), (x, y, 1), (p, q, 2), (m, n, 3)]).index_by_16();
        for probe in [a, a + 1, x - 1, x, y, y + 1, p, q, q + 1, b, b + 1, m, n, n + 1, 0, u32::MAX] {
            assert_eq!(t.lookup_v4(probe), t.lookup(probe), "{probe:#x}");
        }
    }

    #[test]
    fn the_v4_index_agrees_with_the_full_search_on_random_tables() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let ranges: Vec<(u32, u32, u32)> = (0..3000)
            .map(|i| {
                let len = 8 + (next() % 25) as u32;
                let mask = u32::MAX << (32 - len);
                let start = (next() as u32) & mask;
                (start, start | !mask, i)
            })
            .collect();
        let t = RangeTable::build(ranges).index_by_16();
        for _ in 0..200_000 {
            let probe = next() as u32;
            assert_eq!(t.lookup_v4(probe), t.lookup(probe), "{probe:#x}");
        }
    }
}
