//! Shared building blocks of the simulator: a seeded random source with the shapes generators
//! need (diurnal times, human and machine timings), and makers of numbers, devices and addresses.

use crate::data::{self, Range};
use crate::out::{Device, Phone, Session};

pub const SEC: i64 = 1000;
pub const MIN: i64 = 60 * SEC;
pub const HOUR: i64 = 60 * MIN;
pub const DAY: i64 = 24 * HOUR;

/// Relative activity per local hour (0-23): quiet nights, evening peak.
const DIURNAL: [u32; 24] = [3, 2, 1, 1, 1, 2, 4, 7, 9, 9, 8, 8, 9, 8, 8, 8, 8, 9, 10, 12, 13, 12, 9, 6];

/// Random source for one generator: SplitMix64 seeded from the run seed and the generator name,
/// so that switching one campaign on or off never changes another one's events.
pub struct Rng(crate::load::Rng);

impl Rng {
    pub fn new(seed: u64, stream: &str) -> Rng {
        // FNV-1a of the stream name.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in stream.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(crate::load::Rng::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ h))
    }
    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as u64) as i64
    }
    pub fn unit(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            xs.swap(i, j);
        }
    }
    /// Roughly normal (sum of four uniforms), mean 0, sd 1.
    pub fn normal(&mut self) -> f64 {
        (self.unit() + self.unit() + self.unit() + self.unit() - 2.0) * 1.732
    }
    /// Log-normal around `median` with spread `sigma`, clamped to `lo..=hi`.
    pub fn lognormal(&mut self, median: f64, sigma: f64, lo: f64, hi: f64) -> u32 {
        (median * (sigma * self.normal()).exp()).clamp(lo, hi) as u32
    }
    /// Poisson-ish count with the given mean (sum of Bernoulli trials).
    pub fn count(&mut self, mean: f64) -> u32 {
        let whole = mean.floor() as u32;
        whole + u32::from(self.chance(mean - f64::from(whole)))
    }
    /// A time on `day` (0-based from the run's start, a local midnight) following the diurnal rhythm.
    pub fn diurnal(&mut self, start_ms: i64, day: i64) -> i64 {
        let total: u32 = DIURNAL.iter().sum();
        let mut pick = self.below(u64::from(total)) as u32;
        let mut hour = 0;
        for (h, w) in DIURNAL.iter().enumerate() {
            if pick < *w {
                hour = h;
                break;
            }
            pick -= w;
        }
        start_ms + day * DAY + hour as i64 * HOUR + self.below(HOUR as u64) as i64
    }
    pub fn in_range(&mut self, r: Range) -> u32 {
        r.0 + self.below(u64::from(r.1)) as u32
    }
}

/// Human code entry: read the notification, switch apps, type (5-40 s, skewed).
pub fn human_code_entry(rng: &mut Rng) -> Session {
    Session {
        form_fill_ms: Some(rng.lognormal(25_000.0, 0.6, 6_000.0, 180_000.0)),
        sms_code_entry_ms: Some(rng.lognormal(13_000.0, 0.45, 5_000.0, 40_000.0)),
        captcha_solve_ms: rng.chance(0.3).then(|| rng.lognormal(6_000.0, 0.5, 2_000.0, 30_000.0)),
        // Autofill from the SMS notification counts as a paste.
        paste_used: Some(rng.chance(0.3)),
    }
}

/// An ordinary mainland mobile number, random block.
pub fn ordinary_number(rng: &mut Rng) -> Phone {
    let seg =
        if rng.chance(0.85) { *rng.pick(&data::ORDINARY_SEGMENTS) } else { *rng.pick(&data::ORDINARY_SEGMENTS_RARE) };
    Phone::cn(seg * 100_000_000 + rng.below(100_000_000))
}

/// The first number of a random ordinary 7-digit block (suffix 0000).
pub fn ordinary_block(rng: &mut Rng) -> u64 {
    let seg = *rng.pick(&data::ORDINARY_SEGMENTS);
    (seg * 10_000 + rng.below(10_000)) * 10_000
}

/// A honest user's phone.
pub fn honest_device(rng: &mut Rng) -> Device {
    let (model, os) = *rng.pick(&data::PHONE_MODELS);
    let sends_sim = rng.chance(0.6);
    Device {
        id: rng.u64() >> 8,
        fp: rng.u64(),
        model,
        os,
        emulator: rng.chance(0.5).then_some(false),
        rooted: if rng.chance(0.01) { Some(true) } else { rng.chance(0.5).then_some(false) },
        hooked: None,
        sim_present: sends_sim.then_some(true),
        // Carrier number verification fails now and then for honest users (dual SIM, roaming).
        sim_phone_match: (sends_sim && rng.chance(0.7)).then(|| rng.chance(0.98)),
    }
}

/// A random address in a range list.
pub fn addr(rng: &mut Rng, ranges: &[Range]) -> u32 {
    let r = *rng.pick(ranges);
    // Avoid .0 and .255 hosts: they look odd in a report.
    let ip = rng.in_range(r);
    (ip & !0xff) | (1 + (ip & 0xff) % 254)
}
