//! The honest population: ordinary users with a diurnal rhythm, and the honest "hard" users that
//! look suspicious one way (MVNO numbers, shared family tablets, campus NAT, carrier CGNAT,
//! travellers, phone changes, posts about verification codes, international numbers).

use crate::data;
use crate::out::{Device, Ip, Out, Phone, Truth};
use crate::scenario::Scenario;
use crate::world::{addr, honest_device, human_code_entry, ordinary_number, Rng, DAY, HOUR, MIN, SEC};

const ORDINARY: u8 = 0;
const MVNO: u8 = 1;
const INTERNATIONAL: u8 = 2;
const FAMILY: u8 = 3;
const CAMPUS: u8 = 4;
const CGNAT: u8 = 5;
const TRAVELLER: u8 = 6;
const PHONE_CHANGE: u8 = 7;
const CODE_TALK: u8 = 8;

/// How a user reaches the service.
#[derive(Clone, Copy)]
enum Net {
    /// A mobile carrier address that changes per session (IPv4 behind CGNAT).
    Mobile,
    /// Mobile IPv6: the handset's own /64 (upper 64 bits), a new interface id per session.
    MobileV6(u64),
    /// One home address.
    Fixed(u32),
    /// Abroad: a home address in another country.
    Abroad(u32),
}

struct User {
    pop: u8,
    account: u64,
    phone: Phone,
    device: Device,
    net: Net,
    /// Day of registration (`None`: the account existed before the run).
    reg_day: Option<i64>,
    /// Registration time when the run saw it, for ordering later events after it.
    reg_ms: i64,
}

pub fn generate(sc: &Scenario, seed: u64, out: &mut Out) {
    let mut rng = Rng::new(seed, "population");
    let p = &sc.population;
    let days = i64::from(sc.days);
    let start = sc.start_ms;
    let cgnat_pool: Vec<u32> = (0..8).map(|_| addr(&mut rng, &data::MOBILE_RANGES[..1])).collect();
    let shares = [
        (MVNO, p.mvno_share),
        (INTERNATIONAL, p.international_share),
        // A family is picked once for its 3-5 members (4 on average).
        (FAMILY, p.family_share / 4.0),
        (CAMPUS, p.campus_share),
        (CGNAT, p.cgnat_share),
        (TRAVELLER, p.traveller_share),
        (PHONE_CHANGE, p.phone_change_share),
        (CODE_TALK, p.code_talk_share),
    ];
    let mut made = 0u32;
    while made < p.users {
        let mut x = rng.unit();
        let mut pop = ORDINARY;
        for (c, s) in shares {
            if x < s {
                pop = c;
                break;
            }
            x -= s;
        }
        let new = rng.chance(p.new_user_share);
        let reg_day = new.then(|| rng.below(days as u64) as i64);
        if pop == FAMILY {
            // One tablet without a SIM card, one home address, three to five accounts.
            let k = rng.range(3, 5) as u32;
            let (model, os) = *rng.pick(&data::TABLET_MODELS);
            let tablet = Device {
                id: rng.u64() >> 8,
                fp: rng.u64(),
                model,
                os,
                emulator: Some(false),
                rooted: None,
                hooked: None,
                sim_present: Some(false),
                sim_phone_match: None,
            };
            let home = addr(&mut rng, &data::BROADBAND_RANGES);
            // The family signs up together one evening.
            let evening = reg_day.map(|d| start + d * DAY + 19 * HOUR + rng.below(3 * HOUR as u64) as i64);
            for i in 0..k {
                let mut u = User {
                    pop,
                    account: rng.u64() >> 16,
                    phone: ordinary_number(&mut rng),
                    device: tablet,
                    net: Net::Fixed(home),
                    reg_day,
                    reg_ms: 0,
                };
                if let Some(t) = evening {
                    u.reg_ms = t + i64::from(i) * rng.range(2 * MIN, 12 * MIN);
                }
                life(sc, &mut rng, out, &mut u);
            }
            made += k;
            continue;
        }
        let phone = match pop {
            MVNO => {
                let prefix = *rng.pick(&data::MVNO_PREFIXES);
                Phone::cn(prefix * 10_000_000 + rng.below(10_000_000))
            }
            INTERNATIONAL => {
                let (cc, prefix, digits) = *rng.pick(&data::INTERNATIONAL);
                let m = 10u64.pow(digits);
                // North American exchange codes never start with 0 or 1.
                let rest = if cc == 1 { (200 + rng.below(800)) * 10_000 + rng.below(10_000) } else { rng.below(m) };
                Phone { cc, national: prefix * m + rest }
            }
            _ => ordinary_number(&mut rng),
        };
        let net = match pop {
            CAMPUS => Net::Fixed(data::CAMPUS_NAT[rng.below(2) as usize]),
            CGNAT => Net::Fixed(*rng.pick(&cgnat_pool)),
            INTERNATIONAL if rng.chance(0.6) => Net::Abroad(addr(&mut rng, &data::ABROAD_RANGES)),
            _ if rng.chance(0.15) => {
                let p = *rng.pick(&data::MOBILE_V6_PREFIXES);
                Net::MobileV6((u64::from(p) << 32) | (rng.u64() & 0xffff_ffff))
            }
            _ if rng.chance(0.4) => Net::Mobile,
            _ => Net::Fixed(addr(&mut rng, &data::BROADBAND_RANGES)),
        };
        let mut u = User {
            pop,
            account: rng.u64() >> 16,
            phone,
            device: honest_device(&mut rng),
            net,
            reg_day,
            reg_ms: reg_day.map_or(0, |d| rng.diurnal(start, d)),
        };
        life(sc, &mut rng, out, &mut u);
        made += 1;
    }
}

fn ip_of(rng: &mut Rng, net: Net) -> Ip {
    match net {
        Net::Mobile => Ip::V4(addr(rng, &data::MOBILE_RANGES)),
        Net::MobileV6(prefix) => Ip::V6((u128::from(prefix) << 64) | u128::from(rng.u64() | 1)),
        Net::Fixed(ip) | Net::Abroad(ip) => Ip::V4(ip),
    }
}

/// One user's week.
fn life(sc: &Scenario, rng: &mut Rng, out: &mut Out, u: &mut User) {
    let p = &sc.population;
    let days = i64::from(sc.days);
    let start = sc.start_ms;
    let truth = Truth::honest(u.pop);
    let first_day = match u.reg_day {
        Some(_) => {
            register(rng, out, u, truth);
            (u.reg_ms - start) / DAY
        }
        None => 0,
    };
    // Campus users open the app between classes: more sessions.
    let logins = if u.pop == CAMPUS { p.logins_per_day * 2.0 } else { p.logins_per_day };
    // Trips, phone changes: one day each.
    let trip = (u.pop == TRAVELLER).then(|| {
        let d = rng.range(first_day, days - 1);
        (d, d + rng.range(2, 4), addr(rng, &data::ABROAD_RANGES))
    });
    let change_day = (u.pop == PHONE_CHANGE).then(|| rng.range(first_day, days - 1));
    let reset_day = rng.chance(p.password_reset_share).then(|| rng.range(first_day, days - 1));
    for day in first_day..days {
        let after = |t: i64| if u.reg_day.is_some() { t.max(u.reg_ms + 10 * MIN) } else { t };
        let abroad = trip.filter(|&(a, b, _)| day >= a && day < b).map(|t| t.2);
        let net = abroad.map_or(u.net, Net::Abroad);
        if change_day == Some(day) {
            // A new handset and a new number: log in on the new phone, verify and bind the number.
            let t = after(rng.diurnal(start, day));
            u.device = honest_device(rng);
            let ip = ip_of(rng, net);
            out.ev(t, "login", truth)
                .account(u.account)
                .device(&u.device)
                .addr(ip)
                .strs("changed", &["device_binding"]);
            u.phone = ordinary_number(rng);
            let t2 = t + rng.range(MIN, 20 * MIN);
            let s = human_code_entry(rng);
            out.ev(t2, "sms_code_request", truth).account(u.account).phone(&u.phone).device(&u.device).addr(ip);
            out.ev(t2 + i64::from(s.sms_code_entry_ms.unwrap_or(0)), "profile_update", truth)
                .account(u.account)
                .phone(&u.phone)
                .device(&u.device)
                .addr(ip)
                .session(&s)
                .strs("changed", &["phone"]);
        }
        if reset_day == Some(day) {
            let t = after(rng.diurnal(start, day));
            let ip = ip_of(rng, net);
            let s = human_code_entry(rng);
            out.ev(t, "sms_code_request", truth).account(u.account).phone(&u.phone).device(&u.device).addr(ip);
            out.ev(t + i64::from(s.sms_code_entry_ms.unwrap_or(0)), "profile_update", truth)
                .account(u.account)
                .phone(&u.phone)
                .device(&u.device)
                .addr(ip)
                .session(&s)
                .strs("changed", &["password"]);
        }
        for _ in 0..rng.count(logins) {
            let t = after(rng.diurnal(start, day));
            let ip = ip_of(rng, net);
            out.ev(t, "login", truth).account(u.account).device(&u.device).addr(ip);
        }
        if rng.chance(p.content_per_day) || (u.pop == CODE_TALK && rng.chance(0.3)) {
            let t = after(rng.diurnal(start, day));
            let ip = ip_of(rng, net);
            let text = if u.pop == CODE_TALK || rng.chance(0.01) {
                *rng.pick(&data::CODE_TALK_POSTS)
            } else {
                *rng.pick(&data::HONEST_POSTS)
            };
            out.ev(t, "content", truth).account(u.account).device(&u.device).addr(ip).s("text", text);
        }
        if rng.chance(p.profile_updates_per_week / 7.0) {
            let t = after(rng.diurnal(start, day));
            let ip = ip_of(rng, net);
            let nick = honest_nickname(rng);
            let bio = *rng.pick(&data::HONEST_BIOS);
            let what: &[&str] = match rng.below(3) {
                0 => &["nickname"],
                1 => &["bio"],
                _ => &["avatar"],
            };
            out.ev(t, "profile_update", truth)
                .account(u.account)
                .device(&u.device)
                .addr(ip)
                .strs("changed", what)
                .profile(&nick, Some(bio), Some(rng.u64()));
        }
    }
    // The new-user promotion: honest users claim too, some right when the push arrives.
    let promo_ms = start + i64::from(sc.promo.start_hour) * HOUR;
    let eligible = u.reg_day.is_none_or(|_| u.reg_ms < promo_ms + DAY);
    if eligible && rng.chance(p.promo_claim_share) {
        let t = if rng.chance(0.2) {
            promo_ms + rng.range(3 * SEC, 10 * MIN)
        } else {
            let d = (promo_ms - start) / DAY + rng.range(0, 2);
            rng.diurnal(start, d).max(promo_ms + 10 * MIN)
        };
        let t = t.max(u.reg_ms + MIN);
        let ip = ip_of(rng, u.net);
        out.ev(t, "promo_claim", truth)
            .account(u.account)
            .device(&u.device)
            .addr(ip)
            .s("campaign_id", &sc.promo.campaign_id);
    }
}

fn register(rng: &mut Rng, out: &mut Out, u: &User, truth: Truth) {
    let ip = ip_of(rng, u.net);
    let mut t = u.reg_ms;
    out.ev(t, "sms_code_request", truth).phone(&u.phone).device(&u.device).addr(ip);
    let mut s = human_code_entry(rng);
    if rng.chance(0.05) {
        // The code did not arrive: ask again a minute later.
        t += rng.range(60 * SEC, 150 * SEC);
        out.ev(t, "sms_code_request", truth).phone(&u.phone).device(&u.device).addr(ip);
    }
    s.form_fill_ms = s.form_fill_ms.map(|f| f.max(s.sms_code_entry_ms.unwrap_or(0) + 2_000));
    let t = t + i64::from(s.sms_code_entry_ms.unwrap_or(0)) + rng.range(2 * SEC, 20 * SEC);
    let nick = honest_nickname(rng);
    let with_bio = rng.chance(0.3).then(|| *rng.pick(&data::HONEST_BIOS));
    let avatar = rng.chance(0.6).then(|| rng.u64());
    let mut ev = out.ev(t, "registration", truth);
    ev.account(u.account).phone(&u.phone).device(&u.device).addr(ip).session(&s).profile(&nick, with_bio, avatar);
    if rng.chance(0.2) {
        ev.f("email", format_args!("{}{}@qq.com", u.account % 1_000_000_007, rng.below(100)));
    }
}

/// Honest nicknames: a name, a word, sometimes with a year or a lucky number.
fn honest_nickname(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("{}{}", rng.pick(&data::SURNAMES), rng.pick(&data::NICK_WORDS)),
        1 => rng.pick(&data::NICK_WORDS).to_string(),
        2 => format!("{}_{}", rng.pick(&data::NICK_WORDS), 1970 + rng.below(40)),
        _ => format!("{}{}", rng.pick(&data::NICK_WORDS), rng.pick(&data::NICK_WORDS)),
    }
}
