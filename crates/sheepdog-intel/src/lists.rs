//! The operator's own allow and deny lists: any entity (phone, number block, IP or CIDR,
//! device, fingerprint, e-mail domain or address, account), with optional expiry and a note.
//! A deny entry beats everything; an allow entry beats intelligence.

use rustc_hash::FxHashMap as HashMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::ip::{parse_cidr, Cidr};
use crate::IntelError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListAction {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    Phone,
    PhoneBlock,
    Ip,
    Device,
    Fingerprint,
    EmailDomain,
    Email,
    Account,
}

impl ListKind {
    pub const ALL: [ListKind; 8] = [
        ListKind::Phone,
        ListKind::PhoneBlock,
        ListKind::Ip,
        ListKind::Device,
        ListKind::Fingerprint,
        ListKind::EmailDomain,
        ListKind::Email,
        ListKind::Account,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Phone => "phone",
            ListKind::PhoneBlock => "phone_block",
            ListKind::Ip => "ip",
            ListKind::Device => "device",
            ListKind::Fingerprint => "fingerprint",
            ListKind::EmailDomain => "email_domain",
            ListKind::Email => "email",
            ListKind::Account => "account",
        }
    }

    pub fn parse(s: &str) -> Option<ListKind> {
        ListKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One list entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListEntry {
    pub action: ListAction,
    pub kind: ListKind,
    pub value: String,
    /// Epoch ms after which the entry no longer applies.
    pub expires_ms: Option<i64>,
    pub note: String,
    pub source: String,
}

/// The entry that decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListMatch {
    pub entry: ListEntry,
}

/// Parses one list line (`action<TAB>kind<TAB>value[<TAB>expires[<TAB>note]]`).
pub fn parse_list_line(line: &str, source: &str) -> Result<Option<ListEntry>, String> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() || line.trim_start().starts_with('#') {
        return Ok(None);
    }
    let f: Vec<&str> = line.split('\t').collect();
    if f.len() < 3 {
        return Err("expected action<TAB>kind<TAB>value[<TAB>expires[<TAB>note]]".into());
    }
    let action = match f[0].trim() {
        "allow" => ListAction::Allow,
        "deny" => ListAction::Deny,
        other => return Err(format!("unknown action {other:?}; use allow or deny")),
    };
    let kind = ListKind::parse(f[1].trim()).ok_or_else(|| {
        let known: Vec<&str> = ListKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown kind {:?}; known: {}", f[1].trim(), known.join(", "))
    })?;
    let mut value = f[2].trim().to_string();
    if value.is_empty() {
        return Err("empty value".into());
    }
    if kind == ListKind::Ip && parse_cidr(&value).is_none() {
        return Err(format!("{value:?} is not an IP address or CIDR"));
    }
    if matches!(kind, ListKind::EmailDomain | ListKind::Email) {
        value = value.to_ascii_lowercase();
    }
    let expires_ms = match f.get(3).map(|s| s.trim()) {
        None | Some("") | Some("-") => None,
        Some(s) => Some(parse_time(s).ok_or_else(|| format!("expiry {s:?} is not RFC 3339 or YYYY-MM-DD"))?),
    };
    Ok(Some(ListEntry {
        action,
        kind,
        value,
        expires_ms,
        note: f.get(4).map(|s| s.trim().to_string()).unwrap_or_default(),
        source: source.to_string(),
    }))
}

fn parse_time(s: &str) -> Option<i64> {
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Some((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    crate::parse_date_days(s).map(|d| i64::from(d) * 86_400_000 + 86_400_000 - 1)
}

#[derive(Default)]
pub(crate) struct ListBuilder {
    entries: Vec<ListEntry>,
}

impl ListBuilder {
    pub(crate) fn add(&mut self, name: &str, text: &str) -> Result<usize, IntelError> {
        let mut n = 0;
        for (i, line) in text.lines().enumerate() {
            if let Some(e) = parse_list_line(line, name).map_err(|m| IntelError::new(name, i + 1, m))? {
                self.entries.push(e);
                n += 1;
            }
        }
        Ok(n)
    }

    pub(crate) fn build(self) -> Lists {
        let mut exact: HashMap<(ListKind, String), Vec<usize>> = HashMap::default();
        let mut cidrs = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            if e.kind == ListKind::Ip {
                if let Some(c) = parse_cidr(&e.value) {
                    cidrs.push((c, i));
                }
            } else {
                exact.entry((e.kind, e.value.clone())).or_default().push(i);
            }
        }
        Lists { entries: self.entries, exact, cidrs }
    }
}

pub(crate) struct Lists {
    entries: Vec<ListEntry>,
    exact: HashMap<(ListKind, String), Vec<usize>>,
    cidrs: Vec<(Cidr, usize)>,
}

impl Lists {
    pub(crate) fn lookup(&self, keys: &[(ListKind, &str)], ip: Option<IpAddr>, now_ms: i64) -> Option<ListMatch> {
        if self.entries.is_empty() {
            return None;
        }
        let live = |i: &usize| self.entries[*i].expires_ms.is_none_or(|t| now_ms <= t);
        let mut best: Option<usize> = None;
        let mut consider = |i: usize| {
            if best.is_none_or(|b| {
                self.entries[b].action == ListAction::Allow && self.entries[i].action == ListAction::Deny
            }) {
                best = Some(i);
            }
        };
        let mut key = (ListKind::Phone, String::new());
        for (kind, value) in keys {
            key.0 = *kind;
            key.1.clear();
            key.1.push_str(value);
            if matches!(kind, ListKind::EmailDomain | ListKind::Email) {
                key.1.make_ascii_lowercase();
            }
            if let Some(list) = self.exact.get(&key) {
                list.iter().filter(|i| live(i)).for_each(|i| consider(*i));
            }
        }
        if let Some(ip) = ip {
            let ip = ip.to_canonical();
            for (c, i) in &self.cidrs {
                let hit = match (c, ip) {
                    (Cidr::V4(a, b), IpAddr::V4(v)) => (*a..=*b).contains(&u32::from(v)),
                    (Cidr::V6(a, b), IpAddr::V6(v)) => (*a..=*b).contains(&u128::from(v)),
                    _ => false,
                };
                if hit && live(i) {
                    consider(*i);
                }
            }
        }
        best.map(|i| ListMatch { entry: self.entries[i].clone() })
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        self.entries.len() * 128
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
