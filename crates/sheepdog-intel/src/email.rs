//! E-mail: disposable domains (a precise list, FakeFilter, and a broad weaker list), alias and
//! relay services as their own class, free webmail as a benign control, and identity keys that
//! fold plus-addressing and Gmail's dots so `a.b+x@gmail.com` and `ab@gmail.com` are one.

use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;

use crate::IntelError;

/// The class a domain list puts a domain in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailClass {
    Disposable,
    DisposableBroad,
    Relay,
    FreeWebmail,
}

const DISPOSABLE: u8 = 1;
const BROAD: u8 = 2;
const RELAY: u8 = 4;
const FREE: u8 = 8;
const NOT_DISPOSABLE: u8 = 16;

/// Everything known about an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailFacts {
    /// Identity key: lower case, plus-tag removed where the provider ignores it, Gmail dots removed.
    pub normalized: String,
    pub domain: String,
    /// The listed domain that matched (the address's domain or a parent) and its source.
    pub disposable: Option<(String, String)>,
    /// Only the broad (weaker) lists have it.
    pub disposable_broad: Option<(String, String)>,
    pub relay: Option<(String, String)>,
    pub free_webmail: bool,
}

/// Providers that deliver `local+tag@` to `local@`.
const PLUS_PROVIDERS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "fastmail.com",
    "yandex.ru",
    "yandex.com",
    "zoho.com",
];

/// The identity key of an address (see `EmailFacts::normalized`); `None` without a local part
/// and a domain.
pub fn normalize_email(email: &str) -> Option<(String, String)> {
    let email = email.trim();
    let at = email.rfind('@')?;
    let (local, domain) = (&email[..at], &email[at + 1..]);
    let mut domain = domain.trim_end_matches('.').to_ascii_lowercase();
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    if domain == "googlemail.com" {
        domain = "gmail.com".to_string();
    }
    let plus = PLUS_PROVIDERS.contains(&domain.as_str());
    let gmail = domain == "gmail.com";
    // The key is built in one string: the local part lowercased, cut at `+` where the provider
    // ignores what follows, without dots at Gmail, then `@domain`.
    let mut key = String::with_capacity(local.len() + 1 + domain.len());
    if local.is_ascii() {
        key.extend(local.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        key.push_str(&local.to_lowercase());
    }
    if plus {
        if let Some(i) = key.find('+') {
            key.truncate(i);
        }
    }
    if gmail {
        key.retain(|c| c != '.');
    }
    if key.is_empty() {
        return None;
    }
    key.push('@');
    key.push_str(&domain);
    Some((key, domain))
}

#[derive(Default)]
pub(crate) struct EmailBuilder {
    domains: HashMap<String, (u8, [u16; 4])>,
    sources: Vec<String>,
    pub(crate) skipped: usize,
}

fn slot(class: u8) -> usize {
    match class {
        DISPOSABLE => 0,
        BROAD => 1,
        RELAY => 2,
        _ => 3,
    }
}

impl EmailBuilder {
    fn source(&mut self, name: &str) -> u16 {
        crate::intern(&mut self.sources, name)
    }

    fn insert(&mut self, domain: &str, flag: u8, source: u16) {
        let e = self.domains.entry(domain.trim().trim_end_matches('.').to_ascii_lowercase()).or_insert((0, [0; 4]));
        if e.0 & flag == 0 {
            e.1[slot(flag)] = source;
        }
        e.0 |= flag;
    }

    fn valid_domain(d: &str) -> bool {
        !d.is_empty() && d.contains('.') && d.len() <= 253 && !d.contains(char::is_whitespace)
    }

    pub(crate) fn add_domains(&mut self, class: EmailClass, name: &str, text: &str) -> Result<usize, IntelError> {
        let flag = match class {
            EmailClass::Disposable => DISPOSABLE,
            EmailClass::DisposableBroad => BROAD,
            EmailClass::Relay => RELAY,
            EmailClass::FreeWebmail => FREE,
        };
        let source = self.source(name);
        let mut n = 0;
        for line in text.lines() {
            let d = line.split('#').next().unwrap_or("").trim();
            if d.is_empty() {
                continue;
            }
            if !Self::valid_domain(d) {
                // Upstream lists carry the odd junk line ("404: not found"): skipped and counted.
                self.skipped += 1;
                continue;
            }
            self.insert(d, flag, source);
            n += 1;
        }
        Ok(n)
    }

    pub(crate) fn add_not_disposable(&mut self, name: &str, text: &str) -> Result<usize, IntelError> {
        let source = self.source(name);
        let mut n = 0;
        for line in text.lines() {
            let d = line.split('#').next().unwrap_or("").trim();
            if Self::valid_domain(d) {
                self.insert(d, NOT_DISPOSABLE, source);
                n += 1;
            }
        }
        Ok(n)
    }

    pub(crate) fn add_fakefilter(&mut self, name: &str, text: &str) -> Result<usize, IntelError> {
        #[derive(serde::Deserialize)]
        struct FakeFilter {
            domains: HashMap<String, serde_json::Value>,
        }
        let parsed: FakeFilter =
            serde_json::from_str(text).map_err(|e| IntelError::new(name, e.line(), e.to_string()))?;
        let source = self.source(name);
        let mut n = 0;
        for d in parsed.domains.keys() {
            if Self::valid_domain(d) {
                self.insert(d, DISPOSABLE, source);
                n += 1;
            }
        }
        Ok(n)
    }

    pub(crate) fn build(self) -> EmailIntel {
        EmailIntel { domains: self.domains, sources: self.sources }
    }
}

pub(crate) struct EmailIntel {
    domains: HashMap<String, (u8, [u16; 4])>,
    sources: Vec<String>,
}

impl EmailIntel {
    pub(crate) fn lookup(&self, email: &str) -> Option<EmailFacts> {
        let (normalized, domain) = normalize_email(email)?;
        let mut facts = EmailFacts {
            normalized,
            // Filled at the end: the loop below borrows `domain`.
            domain: String::new(),
            disposable: None,
            disposable_broad: None,
            relay: None,
            free_webmail: false,
        };
        let mut not_disposable = false;
        // The domain itself, then each parent domain (sub.mailinator.com → mailinator.com).
        let mut d = domain.as_str();
        loop {
            if let Some((flags, src)) = self.domains.get(d) {
                let named = |flag: u8| {
                    (d.to_string(), self.sources.get(usize::from(src[slot(flag)])).cloned().unwrap_or_default())
                };
                not_disposable |= flags & (NOT_DISPOSABLE | FREE) != 0 && d == domain;
                if flags & FREE != 0 && d == domain {
                    facts.free_webmail = true;
                }
                if flags & RELAY != 0 && facts.relay.is_none() {
                    facts.relay = Some(named(RELAY));
                }
                if flags & DISPOSABLE != 0 && facts.disposable.is_none() {
                    facts.disposable = Some(named(DISPOSABLE));
                }
                if flags & BROAD != 0 && facts.disposable_broad.is_none() {
                    facts.disposable_broad = Some(named(BROAD));
                }
            }
            match d.find('.') {
                Some(i) if d[i + 1..].contains('.') => d = &d[i + 1..],
                _ => break,
            }
        }
        // Known webmail and the historical allow-list beat the broad lists, never the precise one.
        if not_disposable {
            facts.disposable_broad = None;
        }
        if facts.disposable.is_some() || facts.relay.is_some() {
            facts.disposable_broad = None;
        }
        facts.domain = domain;
        Some(facts)
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        self.domains.len() * 64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_keys_fold_plus_and_gmail_dots() {
        assert_eq!(normalize_email("A.B+x@Gmail.com").unwrap().0, "ab@gmail.com");
        assert_eq!(normalize_email("ab@googlemail.com").unwrap().0, "ab@gmail.com");
        assert_eq!(normalize_email("a.b+x@outlook.com").unwrap().0, "a.b@outlook.com");
        assert_eq!(normalize_email("a.b+x@example.com").unwrap().0, "a.b+x@example.com");
        assert_eq!(normalize_email("+x@gmail.com"), None);
        assert_eq!(normalize_email("nobody"), None);
        // Non-ASCII local parts lowercase as `str::to_lowercase` does (final sigma included).
        let key = format!("{}@example.com", "ÄB.Σ+x".to_lowercase());
        assert_eq!(normalize_email(" ÄB.Σ+x@Example.COM. ").unwrap(), (key, "example.com".into()));
    }
}
