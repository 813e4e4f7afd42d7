//! The black-market campaigns. Each one generates the traits its real counterpart has (shared
//! hardware, number blocks, relay timings, templates, takeovers…), whether or not today's engine
//! looks at them; each has an adaptive variant that drops its most obvious single signal.

use crate::data;
use crate::out::{Device, Out, Phone, Session, Truth};
use crate::scenario::Scenario;
use crate::world::{addr, human_code_entry, ordinary_block, ordinary_number, Rng, DAY, HOUR, MIN, SEC};

/// Runs every enabled campaign.
pub fn generate(sc: &Scenario, seed: u64, out: &mut Out) {
    if sc.cat_pool.enabled {
        cat_pool(sc, &mut Rng::new(seed, "cat_pool"), out);
    }
    if sc.code_platform.enabled {
        code_platform(sc, &mut Rng::new(seed, "code_platform"), out);
    }
    if sc.reg_bot.enabled {
        reg_bot(sc, &mut Rng::new(seed, "reg_bot"), out);
    }
    if sc.profile_template.enabled {
        profile_template(sc, &mut Rng::new(seed, "profile_template"), out);
    }
    if sc.low_and_slow.enabled {
        low_and_slow(sc, &mut Rng::new(seed, "low_and_slow"), out);
    }
    if sc.account_resale.enabled {
        account_resale(sc, &mut Rng::new(seed, "account_resale"), out);
    }
    if sc.wool_party.enabled {
        wool_party(sc, &mut Rng::new(seed, "wool_party"), out);
    }
    if sc.scam_content.enabled {
        scam_content(sc, &mut Rng::new(seed, "scam_content"), out);
    }
    if sc.sms_pumping.enabled {
        sms_pumping(sc, &mut Rng::new(seed, "sms_pumping"), out);
    }
}

fn account(rng: &mut Rng) -> u64 {
    rng.u64() >> 16
}

/// A real-looking handset that sends no SIM fields (protocol-level clients, group control).
fn plain_device(rng: &mut Rng) -> Device {
    let (model, os) = *rng.pick(&data::PHONE_MODELS);
    Device {
        id: rng.u64() >> 8,
        fp: rng.u64(),
        model,
        os,
        emulator: None,
        rooted: None,
        hooked: None,
        sim_present: None,
        sim_phone_match: None,
    }
}

/// `n` suffixes of one block in a near-run: mostly consecutive, with small gaps.
fn near_run(rng: &mut Rng, n: u64) -> Vec<u64> {
    let n = n.min(3000);
    let mut s = rng.below(10_000 - 3 * n);
    (0..n)
        .map(|_| {
            let v = s;
            s += 1 + if rng.chance(0.15) { rng.range(1, 3) as u64 } else { 0 };
            v
        })
        .collect()
}

/// A residential address (mobile or broadband): what residential proxies hand out.
fn residential(rng: &mut Rng) -> u32 {
    if rng.chance(0.5) {
        addr(rng, &data::MOBILE_RANGES)
    } else {
        addr(rng, &data::BROADBAND_RANGES)
    }
}

fn machine_session(rng: &mut Rng, entry: (i64, i64)) -> Session {
    Session {
        form_fill_ms: Some(rng.range(1_500, 2_500) as u32),
        sms_code_entry_ms: Some(rng.range(entry.0, entry.1) as u32),
        captcha_solve_ms: None,
        paste_used: Some(true),
    }
}

/// Card dealers' multi-SIM modem hosts: batches of IoT / data-only / MVNO cards from narrow
/// blocks with near-sequential suffixes, registered in shuffled order from a few group-control
/// devices on one hardware fingerprint and one or a few addresses.
fn cat_pool(sc: &Scenario, rng: &mut Rng, out: &mut Out) {
    let c = &sc.cat_pool;
    let truth = Truth::bad(0, c.adaptive);
    let days = i64::from(sc.days);
    for h in 0..c.hosts {
        let per_block = u64::from(c.sims_per_host).div_ceil(2).max(1);
        let mut numbers: Vec<Phone> = Vec::new();
        for _ in 0..2 {
            // National number of the block's first member; suffix digits follow.
            let base = if c.adaptive {
                ordinary_block(rng)
            } else {
                match h % 4 {
                    // 13-digit IoT cards: the block is the 9-digit prefix.
                    0 => (1440 * 100_000 + rng.below(100_000)) * 10_000,
                    1 => (1410 * 100_000 + rng.below(100_000)) * 10_000,
                    2 => (*rng.pick(&[1700u64, 1705, 1709, 1710, 1711]) * 1_000 + rng.below(1_000)) * 10_000,
                    _ => (*rng.pick(&[145u64, 147, 149]) * 10_000 + rng.below(10_000)) * 10_000,
                }
            };
            numbers.extend(near_run(rng, per_block).into_iter().map(|s| Phone::cn(base + s)));
        }
        numbers.truncate(c.sims_per_host as usize);
        rng.shuffle(&mut numbers);
        let fp = rng.u64();
        let (model, os) = *rng.pick(&data::PHONE_MODELS);
        let devices: Vec<Device> =
            (0..rng.range(2, 3)).map(|_| Device { fp, model, os, ..plain_device(rng) }).collect();
        let ips: Vec<u32> = (0..c.ips_per_host).map(|_| addr(rng, &data::BROADBAND_RANGES)).collect();
        let mut t = sc.start_ms + rng.below(days as u64) as i64 * DAY + rng.below(DAY as u64 - 6 * HOUR as u64) as i64;
        let gap = i64::from(c.gap_secs) * SEC;
        for (i, phone) in numbers.iter().enumerate() {
            t += rng.range(gap / 2, gap * 3 / 2);
            let d = &devices[i % devices.len()];
            let ip = ips[i % ips.len()];
            out.ev(t, "sms_code_request", truth).phone(phone).device(d).ip(ip);
            // The modem reads the SMS itself: fast, machine-regular.
            let s = machine_session(rng, (2_500, 4_000));
            let a = account(rng);
            out.ev(t + i64::from(s.sms_code_entry_ms.unwrap_or(0)) + 800, "registration", truth)
                .account(a)
                .phone(phone)
                .device(d)
                .ip(ip)
                .session(&s);
            if rng.chance(0.3) {
                // Warming: the account is logged in again the next day before it is sold.
                out.ev(t + DAY + rng.range(0, 2 * HOUR), "login", truth).account(a).device(d).ip(ip);
            }
        }
    }
}

/// A code-receiving platform: numbers (some published on receive-SMS sites) rented to many
/// registrars, each number bound to account after account over days; the code is relayed
/// (slow, uniform entry, pasted) to a device that does not hold the SIM.
fn code_platform(sc: &Scenario, rng: &mut Rng, out: &mut Out) {
    let c = &sc.code_platform;
    let truth = Truth::bad(1, c.adaptive);
    let days = i64::from(sc.days);
    let listed = if c.adaptive { 0 } else { (c.numbers as usize / 3).min(data::LISTED_NUMBERS.len()) };
    let numbers: Vec<Phone> = (0..c.numbers as usize)
        .map(|i| if i < listed { Phone::cn(data::LISTED_NUMBERS[i]) } else { ordinary_number(rng) })
        .collect();
    let buyers: Vec<(Device, u32)> = (0..c.buyers)
        .map(|_| {
            let mut d = plain_device(rng);
            if !c.adaptive {
                // The relayed number's SIM is not in the buyer's device.
                if rng.chance(0.5) {
                    d.sim_present = Some(false);
                } else {
                    d.sim_present = Some(true);
                    d.sim_phone_match = Some(false);
                }
            }
            (d, residential(rng))
        })
        .collect();
    let mut accounts: Vec<u64> = Vec::new();
    for phone in &numbers {
        let mut t = sc.start_ms + rng.below(days as u64 * DAY as u64 / 3) as i64;
        for _ in 0..c.accounts_per_number {
            let (d, ip) = buyers[rng.below(buyers.len() as u64) as usize];
            out.ev(t, "sms_code_request", truth).phone(phone).device(&d).ip(ip);
            // The platform polls the operator every few seconds, then the buyer's tool pastes.
            let s = Session {
                form_fill_ms: Some(rng.range(50_000, 70_000) as u32),
                sms_code_entry_ms: Some(rng.range(45_000, 60_000) as u32),
                captcha_solve_ms: None,
                paste_used: Some(true),
            };
            let done = t + i64::from(s.sms_code_entry_ms.unwrap_or(0)) + rng.range(SEC, 3 * SEC);
            if !accounts.is_empty() && rng.chance(c.rebind_share) {
                // Rebinding: an existing account swaps its number for the rented one.
                let a = *rng.pick(&accounts);
                out.ev(done, "profile_update", truth)
                    .account(a)
                    .phone(phone)
                    .device(&d)
                    .ip(ip)
                    .session(&s)
                    .strs("changed", &["phone"]);
            } else {
                let a = account(rng);
                accounts.push(a);
                out.ev(done, "registration", truth).account(a).phone(phone).device(&d).ip(ip).session(&s);
            }
            t += rng.range(4 * HOUR, 30 * HOUR);
        }
    }
}

/// Registration bots on emulators / cloud phones: the device id is reset for every account while
/// the hardware fingerprint stays; datacenter addresses; fast, uniform form and captcha timings.
fn reg_bot(sc: &Scenario, rng: &mut Rng, out: &mut Out) {
    let c = &sc.reg_bot;
    let truth = Truth::bad(2, c.adaptive);
    let days = i64::from(sc.days);
    let fps: Vec<(u64, &'static str, &'static str)> = (0..c.fingerprints)
        .map(|_| {
            let (m, o) = if c.adaptive { *rng.pick(&data::PHONE_MODELS) } else { *rng.pick(&data::EMULATOR_MODELS) };
            (rng.u64(), m, o)
        })
        .collect();
    let mut left = c.registrations;
    while left > 0 {
        let burst = left.min(c.burst_size);
        left -= burst;
        let mut t = sc.start_ms + rng.below(days as u64) as i64 * DAY + rng.below(DAY as u64) as i64;
        for _ in 0..burst {
            t += if c.adaptive { rng.range(2 * MIN, 10 * MIN) } else { rng.range(15 * SEC, 60 * SEC) };
            let (fp, model, os) = *rng.pick(&fps);
            let d = Device {
                id: rng.u64() >> 8,
                fp,
                model,
                os,
                emulator: (!c.adaptive).then_some(true),
                rooted: (!c.adaptive).then_some(true),
                hooked: (!c.adaptive).then(|| rng.chance(0.5)),
                sim_present: (!c.adaptive).then_some(false),
                sim_phone_match: None,
            };
            let ip = if c.adaptive { residential(rng) } else { addr(rng, &data::DATACENTER_RANGES) };
            let phone = ordinary_number(rng);
            let s = if c.adaptive {
                let mut s = human_code_entry(rng);
                s.captcha_solve_ms = Some(rng.lognormal(7_000.0, 0.5, 2_000.0, 30_000.0));
                s
            } else {
                Session {
                    form_fill_ms: Some(rng.range(900, 1_100) as u32),
                    sms_code_entry_ms: Some(rng.range(20_000, 22_000) as u32),
                    captcha_solve_ms: Some(rng.range(1_200, 1_500) as u32),
                    paste_used: Some(true),
                }
            };
            let ua = (!c.adaptive && rng.chance(0.5)).then_some("okhttp/4.12.0");
            let mut e = out.ev(t, "sms_code_request", truth);
            e.phone(&phone).device(&d).ip(ip);
            if let Some(ua) = ua {
                e.s("user_agent", ua);
            }
            drop(e);
            // Throwaway mailboxes (adaptive: numeric QQ mail, like everyone's).
            let mailbox = rng.u64() % 10_000_000_000;
            let domain = if c.adaptive { "qq.com" } else { *rng.pick(&data::DISPOSABLE_DOMAINS) };
            let with_email = rng.chance(0.5);
            let mut e = out.ev(t + i64::from(s.sms_code_entry_ms.unwrap_or(0)) + 500, "registration", truth);
            e.account(account(rng)).phone(&phone).device(&d).ip(ip).session(&s);
            if with_email {
                e.f("email", format_args!("{mailbox}@{domain}"));
            }
            if let Some(ua) = ua {
                e.s("user_agent", ua);
            }
        }
    }
}

/// A nickname of one of the template shapes: lowercase+digits, Chinese+digits, syllables.
fn template_nickname(rng: &mut Rng, shape: u64) -> String {
    match shape % 3 {
        0 => {
            let letters: String = (0..rng.range(2, 4)).map(|_| (b'a' + rng.below(26) as u8) as char).collect();
            format!("{letters}{}", rng.range(1000, 99_999))
        }
        1 => format!("{}{}", rng.pick(&data::TEMPLATE_CHINESE), rng.range(100, 9999)),
        _ => {
            let mut s: String = (0..3).map(|_| *rng.pick(&data::SYLLABLES)).collect();
            if let Some(f) = s.get_mut(0..1) {
                f.make_ascii_uppercase();
            }
            s
        }
    }
}

/// Batches of accounts created from one profile template: generated nicknames of one shape, the
/// same avatar and bio.
fn profile_template(sc: &Scenario, rng: &mut Rng, out: &mut Out) {
    let c = &sc.profile_template;
    let truth = Truth::bad(3, c.adaptive);
    let days = i64::from(sc.days);
    for b in 0..c.batches {
        let shape = u64::from(b);
        let avatar = rng.u64();
        let bio = *rng.pick(&data::TEMPLATE_BIOS);
        let mut t = sc.start_ms + rng.below(days as u64) as i64 * DAY + rng.below(DAY as u64) as i64;
        for _ in 0..c.batch_size {
            t += rng.range(MIN, 5 * MIN);
            let d = plain_device(rng);
            let ip = residential(rng);
            let phone = ordinary_number(rng);
            let nick = template_nickname(rng, shape);
            let (bio, avatar) = if c.adaptive {
                let b = if rng.chance(0.5) { *rng.pick(&data::TEMPLATE_BIOS) } else { *rng.pick(&data::HONEST_BIOS) };
                (b, rng.u64())
            } else {
                (bio, avatar)
            };
            out.ev(t, "sms_code_request", truth).phone(&phone).device(&d).ip(ip);
            let s = Session {
                form_fill_ms: Some(rng.range(3_000, 5_000) as u32),
                sms_code_entry_ms: Some(rng.range(8_000, 12_000) as u32),
                captcha_solve_ms: None,
                paste_used: Some(true),
            };
            let a = account(rng);
            out.ev(t + i64::from(s.sms_code_entry_ms.unwrap_or(0)) + SEC, "registration", truth)
                .account(a)
                .phone(&phone)
                .device(&d)
                .ip(ip)
                .session(&s)
                .profile(&nick, Some(bio), Some(avatar));
            // The template is applied again after the account settles.
            out.ev(t + rng.range(HOUR, DAY), "profile_update", truth)
                .account(a)
                .device(&d)
                .ip(residential(rng))
                .strs("changed", &["avatar", "bio"])
                .profile(&nick, Some(bio), Some(avatar));
        }
    }
}

/// Registrations kept under every per-hour threshold (a few a day per device and block, a new
/// address each time) that still share number blocks and hardware fingerprints over days.
fn low_and_slow(sc: &Scenario, rng: &mut Rng, out: &mut Out) {
    let c = &sc.low_and_slow;
    let truth = Truth::bad(4, c.adaptive);
    let days = i64::from(sc.days);
    let mut fps: Vec<(u64, &'static str, &'static str)> = (0..c.fingerprints)
        .map(|_| {
            let (m, o) = *rng.pick(&data::PHONE_MODELS);
            (rng.u64(), m, o)
        })
        .collect();
    let mut blocks: Vec<(u64, u64)> = (0..c.blocks).map(|_| (ordinary_block(rng), rng.below(2_000))).collect();
    let mut uses = 0u32;
    let per_day = i64::from(c.registrations_per_day.max(1));
    for day in 0..days {
        for k in 0..per_day {
            // Evenly spaced with jitter: never two close together.
            let t = sc.start_ms + day * DAY + k * DAY / per_day + rng.range(0, DAY / per_day / 2);
            let slot = (day * per_day + k) as usize % fps.len();
            if c.adaptive {
                // Each hardware profile is retired after three accounts.
                uses += 1;
                if uses == 3 {
                    uses = 0;
                    let (m, o) = *rng.pick(&data::PHONE_MODELS);
                    fps[slot] = (rng.u64(), m, o);
                }
            }
            let (fp, model, os) = fps[slot];
            let d = Device { fp, model, os, ..plain_device(rng) };
            let bi = rng.below(blocks.len() as u64) as usize;
            let (base, cursor) = &mut blocks[bi];
            *cursor = (*cursor + 1 + rng.below(3)) % 10_000;
            let phone = Phone::cn(*base + *cursor);
            let ip = residential(rng);
            out.ev(t, "sms_code_request", truth).phone(&phone).device(&d).ip(ip);
            let s = human_code_entry(rng);
            out.ev(t + i64::from(s.sms_code_entry_ms.unwrap_or(0)) + 2 * SEC, "registration", truth)
                .account(account(rng))
                .phone(&phone)
                .device(&d)
                .ip(ip)
                .session(&s);
        }
    }
}

/// Accounts registered by a registrar, left idle, then taken over by buyers: a new device and a
/// new region, password and phone re-bound, the profile rewritten; one buyer device takes many.
fn account_resale(sc: &Scenario, rng: &mut Rng, out: &mut Out) {
    let c = &sc.account_resale;
    let truth = Truth::bad(5, c.adaptive);
    let days = i64::from(sc.days);
    let idle = i64::from(c.idle_days);
    let registrar: Vec<Device> = (0..3).map(|_| plain_device(rng)).collect();
    let reg_ips: Vec<u32> = (0..2).map(|_| addr(rng, &data::BROADBAND_RANGES)).collect();
    let mut accounts = Vec::with_capacity(c.accounts as usize);
    for i in 0..c.accounts {
        let t = sc.start_ms + i64::from(i) * 2 * DAY / i64::from(c.accounts.max(1)) + rng.range(0, 10 * MIN);
        let d = registrar[i as usize % registrar.len()];
        let ip = reg_ips[i as usize % reg_ips.len()];
        let phone = ordinary_number(rng);
        out.ev(t, "sms_code_request", truth).phone(&phone).device(&d).ip(ip);
        let s = human_code_entry(rng);
        let a = account(rng);
        let reg_ms = t + i64::from(s.sms_code_entry_ms.unwrap_or(0)) + 3 * SEC;
        out.ev(reg_ms, "registration", truth).account(a).phone(&phone).device(&d).ip(ip).session(&s).profile(
            &format!("用户{}", a % 100_000_000),
            None,
            None,
        );
        accounts.push((a, reg_ms));
    }
    let buyer = |rng: &mut Rng| {
        let ip = if rng.chance(0.5) { addr(rng, &data::ABROAD_RANGES) } else { addr(rng, &data::MOBILE_RANGES) };
        (plain_device(rng), ip)
    };
    let takeover = |rng: &mut Rng, out: &mut Out, a: u64, t: i64, d: &Device, ip: u32| {
        out.ev(t, "login", truth).account(a).device(d).ip(ip).strs("changed", &["password", "device_binding"]);
        let phone = ordinary_number(rng);
        let t2 = t + rng.range(MIN, 10 * MIN);
        out.ev(t2, "sms_code_request", truth).account(a).phone(&phone).device(d).ip(ip);
        let s = human_code_entry(rng);
        let nick = format!("{}{}", rng.pick(&data::TEMPLATE_CHINESE), rng.range(10, 99));
        out.ev(t2 + i64::from(s.sms_code_entry_ms.unwrap_or(0)), "profile_update", truth)
            .account(a)
            .phone(&phone)
            .device(d)
            .ip(ip)
            .session(&s)
            .strs("changed", &["phone", "password", "nickname", "avatar", "bio"])
            .profile(&nick, Some(*rng.pick(&data::TEMPLATE_BIOS)), Some(rng.u64()));
    };
    if c.adaptive {
        // One buyer device per account, takeovers spread over the remaining days.
        for &(a, reg) in &accounts {
            let first_day = (reg - sc.start_ms) / DAY + idle;
            let day = rng.range(first_day.min(days - 1), days - 1);
            let t = rng.diurnal(sc.start_ms, day).max(reg + idle * DAY);
            let (d, ip) = buyer(rng);
            takeover(rng, out, a, t, &d, ip);
        }
    } else {
        let per = accounts.len().div_ceil(c.buyers as usize).max(1);
        for chunk in accounts.chunks(per) {
            let (d, ip) = buyer(rng);
            let last_reg = chunk.iter().map(|x| x.1).max().unwrap_or(sc.start_ms);
            let earliest = last_reg + idle * DAY;
            let mut t = earliest + rng.range(0, (sc.start_ms + days * DAY - earliest - 4 * HOUR).max(1));
            for &(a, _) in chunk {
                t += rng.range(MIN, 4 * MIN);
                takeover(rng, out, a, t, &d, ip);
            }
        }
    }
}

/// The wool party: fresh accounts claiming the new-user promotion within seconds of its start,
/// from shared hardware and one address block.
fn wool_party(sc: &Scenario, rng: &mut Rng, out: &mut Out) {
    let c = &sc.wool_party;
    let truth = Truth::bad(6, c.adaptive);
    let promo_ms = sc.start_ms + i64::from(sc.promo.start_hour) * HOUR;
    let mut blocks: Vec<(u64, u64)> = (0..4).map(|_| (ordinary_block(rng), rng.below(3_000))).collect();
    let fps: Vec<Device> = (0..c.fingerprints).map(|_| plain_device(rng)).collect();
    let nets: Vec<u32> = (0..2).map(|_| addr(rng, &data::BROADBAND_RANGES) & !0xff).collect();
    for i in 0..c.accounts as usize {
        let bi = i % blocks.len();
        let (base, cursor) = &mut blocks[bi];
        *cursor = (*cursor + 1 + rng.below(2)) % 10_000;
        let phone = Phone::cn(*base + *cursor);
        let (d, ip) = if c.adaptive {
            (plain_device(rng), residential(rng))
        } else {
            // Device ids reset on a few phones; one or two /24s.
            let hw = fps[i % fps.len()];
            (Device { id: rng.u64() >> 8, ..hw }, nets[i % nets.len()] | rng.range(2, 250) as u32)
        };
        let t = promo_ms - rng.range(10 * MIN, 120 * MIN);
        out.ev(t, "sms_code_request", truth).phone(&phone).device(&d).ip(ip);
        let s = machine_session(rng, (6_000, 9_000));
        let a = account(rng);
        out.ev(t + i64::from(s.sms_code_entry_ms.unwrap_or(0)) + SEC, "registration", truth)
            .account(a)
            .phone(&phone)
            .device(&d)
            .ip(ip)
            .session(&s);
        let claim =
            if c.adaptive { promo_ms + rng.range(30 * SEC, 15 * MIN) } else { promo_ms + rng.range(500, 20 * SEC) };
        out.ev(claim, "promo_claim", truth).account(a).device(&d).ip(ip).s("campaign_id", &sc.promo.campaign_id);
    }
}

/// Romance and investment scam accounts: a scripted bio, then posts that divert victims to
/// another messenger with evasive spellings.
fn scam_content(sc: &Scenario, rng: &mut Rng, out: &mut Out) {
    let c = &sc.scam_content;
    let truth = Truth::bad(7, c.adaptive);
    let days = i64::from(sc.days);
    let (posts, bios): (&[&str], &[&str]) = if c.adaptive {
        (&data::SCAM_POSTS_ADAPTIVE, &data::SCAM_BIOS_ADAPTIVE)
    } else {
        (&data::SCAM_POSTS, &data::SCAM_BIOS)
    };
    for _ in 0..c.accounts {
        let d = plain_device(rng);
        let ip = addr(rng, &data::MOBILE_RANGES);
        let phone = ordinary_number(rng);
        let reg_day = rng.range(0, (days - 2).max(0));
        let t = rng.diurnal(sc.start_ms, reg_day);
        out.ev(t, "sms_code_request", truth).phone(&phone).device(&d).ip(ip);
        let s = human_code_entry(rng);
        let a = account(rng);
        let nick = format!("{}{}", rng.pick(&data::TEMPLATE_CHINESE), rng.range(1, 99));
        out.ev(t + i64::from(s.sms_code_entry_ms.unwrap_or(0)) + 5 * SEC, "registration", truth)
            .account(a)
            .phone(&phone)
            .device(&d)
            .ip(ip)
            .session(&s)
            .profile(&nick, None, Some(rng.u64()));
        out.ev(t + rng.range(10 * MIN, 2 * HOUR), "profile_update", truth)
            .account(a)
            .device(&d)
            .ip(ip)
            .strs("changed", &["bio", "avatar"])
            .profile(&nick, Some(*rng.pick(bios)), Some(rng.u64()));
        for _ in 0..c.posts_per_account {
            let day = rng.range(reg_day, days - 1);
            let pt = rng.diurnal(sc.start_ms, day).max(t + 2 * HOUR);
            let text = *rng.pick(posts);
            let ip = addr(rng, &data::MOBILE_RANGES);
            out.ev(pt, "content", truth).account(a).device(&d).ip(ip).s("text", text);
        }
    }
}

/// Destinations of SMS pumping: country code, national prefix, digits after it.
const PUMP_BLOCKS: [(u16, u64, u32); 6] = [
    (44, 909, 7),  // UK premium rate
    (882, 16, 6),  // Thuraya satellite (international network)
    (371, 25, 6),  // Latvia mobile
    (255, 71, 7),  // Tanzania mobile
    (44, 7911, 6), // UK mobile
    (994, 50, 7),  // Azerbaijan mobile
];

/// SMS pumping (toll fraud): bursts of code requests to premium and high-cost international
/// number blocks that never lead to a registration.
fn sms_pumping(sc: &Scenario, rng: &mut Rng, out: &mut Out) {
    let c = &sc.sms_pumping;
    let truth = Truth::bad(8, c.adaptive);
    let days = i64::from(sc.days);
    for _ in 0..c.bursts {
        let mut t = sc.start_ms + rng.below(days as u64) as i64 * DAY + rng.below(DAY as u64) as i64;
        let ip = addr(rng, &data::DATACENTER_RANGES);
        let (cc, prefix, digits) = *rng.pick(&PUMP_BLOCKS);
        let m = 10u64.pow(digits);
        let base = prefix * m + rng.below(m / 10_000) * 10_000;
        let suffixes = near_run(rng, u64::from(c.numbers_per_burst));
        for s in suffixes {
            if c.adaptive {
                // One request per number, any destination, a different proxy each time.
                let (cc, prefix, digits) = *rng.pick(&PUMP_BLOCKS);
                let m = 10u64.pow(digits);
                let phone = Phone { cc, national: prefix * m + rng.below(m) };
                t += rng.range(10 * SEC, 90 * SEC);
                out.ev(t, "sms_code_request", truth)
                    .phone(&phone)
                    .ip(residential(rng))
                    .s("user_agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15");
            } else {
                let phone = Phone { cc, national: base + s };
                for _ in 0..c.requests_per_number {
                    t += rng.range(SEC, 5 * SEC);
                    out.ev(t, "sms_code_request", truth).phone(&phone).ip(ip).s("user_agent", "python-requests/2.31.0");
                }
            }
        }
    }
}
