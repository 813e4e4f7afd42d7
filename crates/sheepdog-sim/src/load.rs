//! Synthetic load: a stream of v1 events from a population of users, devices, networks and
//! number blocks, with increasing timestamps. Deterministic for a seed. Not labelled and not a
//! model of attacks: it exercises every code path of the pipeline at realistic key cardinality.

use std::io::{self, Write};

/// Load options.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub count: u64,
    pub seed: u64,
    /// Epoch ms of the first event.
    pub start_ms: i64,
    /// Mean gap between events, ms.
    pub gap_ms: u32,
    /// Size of the user population.
    pub users: u32,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { count: 100_000, seed: 1, start_ms: 1_764_000_000_000, gap_ms: 5, users: 200_000 }
    }
}

/// SplitMix64: small, fast, good enough for load shapes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const TYPES: [(&str, u32); 6] = [
    ("sms_code_request", 30),
    ("registration", 20),
    ("login", 30),
    ("profile_update", 8),
    ("content", 8),
    ("promo_claim", 4),
];
const SEGMENTS: [&str; 8] = ["138", "139", "150", "186", "170", "171", "145", "199"];

/// Writes `options.count` events, one JSON object per line.
pub fn write_load(options: &LoadOptions, out: &mut dyn Write) -> io::Result<()> {
    let mut rng = Rng::new(options.seed);
    let mut ts = options.start_ms;
    let total: u32 = TYPES.iter().map(|t| t.1).sum();
    let mut line = String::with_capacity(512);
    for i in 0..options.count {
        ts += rng.below(u64::from(options.gap_ms) * 2 + 1) as i64;
        let mut pick = rng.below(u64::from(total)) as u32;
        let kind = TYPES.iter().find(|(_, w)| {
            if pick < *w {
                true
            } else {
                pick -= w;
                false
            }
        });
        let kind = kind.map_or("login", |k| k.0);
        let user = rng.below(u64::from(options.users));
        let seg = SEGMENTS[(user % SEGMENTS.len() as u64) as usize];
        let device = if rng.below(20) == 0 { rng.below(u64::from(options.users)) } else { user };
        let ip_host = user % 50_000;
        line.clear();
        use std::fmt::Write as _;
        let _ = write!(
            line,
            r#"{{"id":"load-{seed}-{i}","type":"{kind}","timestamp":{ts},"account_id":"acct-{user}","phone":"+86{seg}{num:08}","ip":"{a}.{b}.{c}.{d}","device":{{"id":"dev-{device}","fingerprint":"fp-{fp}","model":"Phone {m}","os":"Android 14","emulator":{emu},"sim_present":true}},"session":{{"form_fill_ms":{form},"sms_code_entry_ms":{entry},"paste_used":false}},"email":"user{user}@example.com""#,
            seed = options.seed,
            num = user * 37 % 100_000_000,
            a = 10 + ip_host % 200,
            b = (ip_host / 200) % 250,
            c = user % 250,
            d = 1 + user % 250,
            fp = device / 2,
            m = user % 40,
            emu = rng.below(200) == 0,
            form = 3000 + rng.below(20_000),
            entry = 4000 + rng.below(30_000),
        );
        match kind {
            "content" => line.push_str(r#","text":"hello, anyone up for hiking this weekend? add me""#),
            "promo_claim" => line.push_str(r#","campaign_id":"new-user-coupon""#),
            "profile_update" => {
                line.push_str(r#","changed":["nickname","bio"],"profile":{"nickname":"river","bio":"likes tea"}"#)
            }
            _ => {}
        }
        line.push_str("}\n");
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_for_a_seed() {
        let opts = LoadOptions { count: 200, ..LoadOptions::default() };
        let mut a = Vec::new();
        let mut b = Vec::new();
        write_load(&opts, &mut a).unwrap();
        write_load(&opts, &mut b).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.iter().filter(|&&c| c == b'\n').count(), 200);
        let other = LoadOptions { seed: 2, ..opts };
        let mut c = Vec::new();
        write_load(&other, &mut c).unwrap();
        assert_ne!(a, c);
    }
}
