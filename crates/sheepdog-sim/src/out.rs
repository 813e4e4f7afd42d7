//! The simulator's output buffer: events are written once, as JSON bodies, into one arena in the
//! order generators produce them; they are then ordered by timestamp and written with their ids,
//! with no per-event allocation or serde on the hot path.

use std::fmt;
use std::io::{self, Write};

use crate::scenario::{CAMPAIGNS, POPULATIONS};

/// Ground truth of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truth {
    /// Index into `CAMPAIGNS`; `None` for honest traffic.
    pub campaign: Option<u8>,
    /// Index into `POPULATIONS` for honest traffic.
    pub population: Option<u8>,
    pub adaptive: bool,
}

impl Truth {
    pub fn honest(population: u8) -> Truth {
        Truth { campaign: None, population: Some(population), adaptive: false }
    }
    pub fn bad(campaign: u8, adaptive: bool) -> Truth {
        Truth { campaign: Some(campaign), population: None, adaptive }
    }
    pub fn campaign_name(&self) -> Option<&'static str> {
        self.campaign.map(|c| CAMPAIGNS[c as usize])
    }
    pub fn population_name(&self) -> Option<&'static str> {
        self.population.map(|p| POPULATIONS[p as usize])
    }
}

struct Entry {
    ts: i64,
    seq: u32,
    start: usize,
    end: usize,
    truth: Truth,
}

/// Events of one simulation run.
pub struct Out {
    arena: Vec<u8>,
    entries: Vec<Entry>,
    id_prefix: String,
    /// Bounds of the run: events outside are dropped.
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Out {
    pub fn new(seed: u64, start_ms: i64, end_ms: i64) -> Out {
        Out {
            arena: Vec::with_capacity(1 << 20),
            entries: Vec::with_capacity(1 << 14),
            id_prefix: format!("sim{seed}-"),
            start_ms,
            end_ms,
        }
    }

    /// Starts an event; its body is complete when the returned writer is dropped. An event outside
    /// the run is written to a scratch position and discarded by `finish`.
    pub fn ev(&mut self, ts: i64, event_type: &str, truth: Truth) -> Ev<'_> {
        let start = self.arena.len();
        let seq = self.entries.len() as u32;
        self.entries.push(Entry { ts, seq, start, end: start, truth });
        let mut ev = Ev { out: self, first: true };
        ev.s("type", event_type);
        ev
    }

    /// Orders events by time (generation order breaks ties) and drops those outside the run.
    pub fn finish(&mut self) {
        let (lo, hi) = (self.start_ms, self.end_ms);
        self.entries.retain(|e| e.ts >= lo && e.ts < hi);
        self.entries.sort_unstable_by_key(|e| (e.ts, e.seq));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn truth(&self, i: usize) -> Truth {
        self.entries[i].truth
    }

    /// Writes event `i` (after `finish`) as one JSON line into `buf` (cleared first).
    pub fn render(&self, i: usize, buf: &mut Vec<u8>) {
        let e = &self.entries[i];
        buf.clear();
        buf.extend_from_slice(b"{\"id\":\"");
        buf.extend_from_slice(self.id_prefix.as_bytes());
        push_u64(buf, i as u64);
        buf.extend_from_slice(b"\",\"timestamp\":");
        push_u64(buf, e.ts as u64);
        buf.push(b',');
        buf.extend_from_slice(&self.arena[e.start..e.end]);
        buf.extend_from_slice(b"}\n");
    }

    /// Writes truth line `i` into `buf` (cleared first).
    pub fn render_truth(&self, i: usize, buf: &mut Vec<u8>) {
        let t = self.entries[i].truth;
        buf.clear();
        buf.extend_from_slice(b"{\"id\":\"");
        buf.extend_from_slice(self.id_prefix.as_bytes());
        push_u64(buf, i as u64);
        match t.campaign_name() {
            Some(c) => {
                buf.extend_from_slice(b"\",\"bad\":true,\"campaign\":\"");
                buf.extend_from_slice(c.as_bytes());
                buf.extend_from_slice(if t.adaptive { b"\",\"adaptive\":true}\n" } else { b"\"}\n" });
            }
            None => {
                buf.extend_from_slice(b"\",\"bad\":false,\"campaign\":null,\"population\":\"");
                buf.extend_from_slice(t.population_name().unwrap_or("ordinary").as_bytes());
                buf.extend_from_slice(b"\"}\n");
            }
        }
    }

    /// Writes all events and, if given, the truth file.
    pub fn write(&self, events: &mut dyn Write, mut truth: Option<&mut dyn Write>) -> io::Result<()> {
        let mut buf = Vec::with_capacity(2048);
        for i in 0..self.entries.len() {
            self.render(i, &mut buf);
            events.write_all(&buf)?;
            if let Some(t) = truth.as_mut() {
                self.render_truth(i, &mut buf);
                t.write_all(&buf)?;
            }
        }
        Ok(())
    }
}

fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// A string written as JSON.
fn push_json_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            0..=0x1f => {
                let _ = write!(buf, "\\u{b:04x}");
            }
            _ => buf.push(b),
        }
    }
    buf.push(b'"');
}

/// Writer of one event body (fields after `id` and `timestamp`).
pub struct Ev<'a> {
    out: &'a mut Out,
    first: bool,
}

impl Drop for Ev<'_> {
    fn drop(&mut self) {
        let end = self.out.arena.len();
        if let Some(e) = self.out.entries.last_mut() {
            e.end = end;
        }
    }
}

impl Ev<'_> {
    fn key(&mut self, k: &str) {
        let buf = &mut self.out.arena;
        if !self.first {
            buf.push(b',');
        }
        self.first = false;
        buf.push(b'"');
        buf.extend_from_slice(k.as_bytes());
        buf.extend_from_slice(b"\":");
    }
    /// A string field (escaped).
    pub fn s(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        push_json_str(&mut self.out.arena, v);
        self
    }
    /// A string field from format arguments (for generated ids: never needs escaping).
    pub fn f(&mut self, k: &str, v: fmt::Arguments<'_>) -> &mut Self {
        self.key(k);
        let buf = &mut self.out.arena;
        buf.push(b'"');
        let _ = buf.write_fmt(v);
        buf.push(b'"');
        self
    }
    pub fn n(&mut self, k: &str, v: u64) -> &mut Self {
        self.key(k);
        push_u64(&mut self.out.arena, v);
        self
    }
    pub fn b(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k);
        self.out.arena.extend_from_slice(if v { b"true" } else { b"false" });
        self
    }
    pub fn opt_b(&mut self, k: &str, v: Option<bool>) -> &mut Self {
        if let Some(v) = v {
            self.b(k, v);
        }
        self
    }
    pub fn opt_n(&mut self, k: &str, v: Option<u64>) -> &mut Self {
        if let Some(v) = v {
            self.n(k, v);
        }
        self
    }
    pub fn open(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.out.arena.push(b'{');
        self.first = true;
        self
    }
    pub fn close(&mut self) -> &mut Self {
        self.out.arena.push(b'}');
        self.first = false;
        self
    }
    pub fn strs(&mut self, k: &str, v: &[&str]) -> &mut Self {
        self.key(k);
        let buf = &mut self.out.arena;
        buf.push(b'[');
        for (i, s) in v.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            push_json_str(buf, s);
        }
        buf.push(b']');
        self
    }
    pub fn account(&mut self, id: u64) -> &mut Self {
        self.f("account_id", format_args!("u{id:012x}"))
    }
    pub fn phone(&mut self, p: &Phone) -> &mut Self {
        self.f("phone", format_args!("{p}"))
    }
    pub fn ip(&mut self, ip: u32) -> &mut Self {
        let [a, b, c, d] = ip.to_be_bytes();
        self.f("ip", format_args!("{a}.{b}.{c}.{d}"))
    }
    /// An IPv4 or IPv6 address.
    pub fn addr(&mut self, ip: Ip) -> &mut Self {
        match ip {
            Ip::V4(v) => self.ip(v),
            Ip::V6(v) => self.f("ip", format_args!("{}", std::net::Ipv6Addr::from(v))),
        }
    }
    pub fn device(&mut self, d: &Device) -> &mut Self {
        self.open("device");
        self.f("id", format_args!("d{:014x}", d.id));
        self.f("fingerprint", format_args!("fp{:016x}", d.fp));
        self.s("model", d.model);
        self.s("os", d.os);
        self.opt_b("emulator", d.emulator);
        self.opt_b("rooted", d.rooted);
        self.opt_b("hooked", d.hooked);
        self.opt_b("sim_present", d.sim_present);
        self.opt_b("sim_phone_match", d.sim_phone_match);
        self.close()
    }
    pub fn session(&mut self, s: &Session) -> &mut Self {
        self.open("session");
        self.opt_n("form_fill_ms", s.form_fill_ms.map(u64::from));
        self.opt_n("sms_code_entry_ms", s.sms_code_entry_ms.map(u64::from));
        self.opt_n("captcha_solve_ms", s.captcha_solve_ms.map(u64::from));
        self.opt_b("paste_used", s.paste_used);
        self.close()
    }
    pub fn profile(&mut self, nickname: &str, bio: Option<&str>, avatar: Option<u64>) -> &mut Self {
        self.open("profile");
        self.s("nickname", nickname);
        if let Some(b) = bio {
            self.s("bio", b);
        }
        if let Some(a) = avatar {
            self.f("avatar_hash", format_args!("{a:016x}"));
        }
        self.close()
    }
}

/// A client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ip {
    V4(u32),
    V6(u128),
}

/// A phone number: country code and national significant number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Phone {
    pub cc: u16,
    pub national: u64,
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}{}", self.cc, self.national)
    }
}

impl Phone {
    pub fn cn(national: u64) -> Phone {
        Phone { cc: 86, national }
    }
}

/// What a client reports about its device.
#[derive(Debug, Clone, Copy)]
pub struct Device {
    pub id: u64,
    pub fp: u64,
    pub model: &'static str,
    pub os: &'static str,
    pub emulator: Option<bool>,
    pub rooted: Option<bool>,
    pub hooked: Option<bool>,
    pub sim_present: Option<bool>,
    pub sim_phone_match: Option<bool>,
}

/// Client-measured timings of a flow.
#[derive(Debug, Clone, Copy, Default)]
pub struct Session {
    pub form_fill_ms: Option<u32>,
    pub sms_code_entry_ms: Option<u32>,
    pub captcha_solve_ms: Option<u32>,
    pub paste_used: Option<bool>,
}
