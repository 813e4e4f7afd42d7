//! Tests of the black-market simulator: determinism, order, the v1 contract, ground truth, and
//! the traits each campaign claims to have (and that adaptive variants drop).

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use sheepdog_sim::{simulate, Scenario, CAMPAIGNS, DEFAULT_SCENARIO};

/// A small week: a few hundred honest users and the given campaign tables.
fn scenario(campaigns: &str) -> Scenario {
    let text = format!(
        "version = 1\nstart = \"2025-11-10T00:00:00+08:00\"\ndays = 7\n[population]\nusers = 400\n[promo]\nstart_hour = 60\n{campaigns}"
    );
    Scenario::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Every campaign on, adaptive or not.
fn all_campaigns(adaptive: bool) -> String {
    CAMPAIGNS.iter().map(|c| format!("[{c}]\nenabled = true\nadaptive = {adaptive}\n")).collect()
}

fn bytes(s: &Scenario, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let sim = simulate(s, seed);
    let mut events = Vec::new();
    let mut truth = Vec::new();
    sim.write(&mut events, Some(&mut truth)).unwrap();
    (events, truth)
}

/// (event, truth) pairs.
fn run(s: &Scenario, seed: u64) -> Vec<(Value, Value)> {
    let (events, truth) = bytes(s, seed);
    let events = std::str::from_utf8(&events).unwrap();
    let truth = std::str::from_utf8(&truth).unwrap();
    events
        .lines()
        .zip(truth.lines())
        .map(|(e, t)| (serde_json::from_str(e).unwrap(), serde_json::from_str(t).unwrap()))
        .collect()
}

/// Events of one campaign.
fn of(all: &[(Value, Value)], campaign: &str) -> Vec<Value> {
    all.iter().filter(|(_, t)| t["campaign"] == campaign).map(|(e, _)| e.clone()).collect()
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = v;
    for p in path {
        v = v.get(p)?;
    }
    v.as_str()
}

fn typed<'a>(evs: &'a [Value], ty: &str) -> Vec<&'a Value> {
    evs.iter().filter(|e| e["type"] == ty).collect()
}

#[test]
fn the_default_scenario_parses_and_the_same_seed_gives_the_same_bytes() {
    let default = Scenario::parse(DEFAULT_SCENARIO).unwrap();
    assert!(CAMPAIGNS.iter().all(|c| default.campaign(c) == Some((true, false))));
    let adaptive = Scenario::parse(sheepdog_sim::ADAPTIVE_SCENARIO).unwrap();
    assert!(CAMPAIGNS.iter().all(|c| adaptive.campaign(c) == Some((true, true))));
    let sc = scenario(&all_campaigns(false));
    let a = bytes(&sc, 7);
    let b = bytes(&sc, 7);
    assert!(a == b, "same seed, different output");
    let c = bytes(&sc, 8);
    assert!(a.0 != c.0, "different seeds, same events");
}

#[test]
fn events_are_sorted_unique_and_valid_v1() {
    let sc = scenario(&all_campaigns(false));
    let (events, _) = bytes(&sc, 3);
    let mut last = i64::MIN;
    let mut ids = HashSet::new();
    let mut n = 0;
    for line in events.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let ev = sheepdog_model::parse_event(line).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(line)));
        let ts = ev.timestamp.expect("every event has a timestamp").0;
        assert!(ts >= last, "timestamps go back at {}", String::from_utf8_lossy(line));
        last = ts;
        assert!(ids.insert(ev.id.expect("every event has an id").into_owned()), "repeated id");
        n += 1;
    }
    assert!(n > 5_000, "{n} events");
    assert!(last < sc.start_ms + 7 * 86_400_000 && last > sc.start_ms);
}

#[test]
fn truth_has_one_line_per_event_in_the_same_order() {
    let sc = scenario(&all_campaigns(false));
    let all = run(&sc, 5);
    let (events, truth) = bytes(&sc, 5);
    assert_eq!(events.iter().filter(|&&b| b == b'\n').count(), truth.iter().filter(|&&b| b == b'\n').count());
    let mut seen = HashSet::new();
    for (e, t) in &all {
        assert_eq!(e["id"], t["id"]);
        let bad = t["bad"].as_bool().unwrap();
        match t["campaign"].as_str() {
            Some(c) => {
                assert!(bad);
                assert!(CAMPAIGNS.contains(&c), "unknown campaign {c}");
                seen.insert(c.to_string());
            }
            None => {
                assert!(!bad);
                assert!(sheepdog_sim::POPULATIONS.contains(&t["population"].as_str().unwrap()));
            }
        }
    }
    assert_eq!(seen.len(), CAMPAIGNS.len(), "every enabled campaign emits events: {seen:?}");
    // Honest traps are all present.
    let pops: HashSet<&str> = all.iter().filter_map(|(_, t)| t["population"].as_str()).collect();
    for p in sheepdog_sim::POPULATIONS {
        assert!(pops.contains(p), "no {p} users");
    }
}

#[test]
fn a_disabled_campaign_emits_nothing_and_leaves_the_others_unchanged() {
    let on = run(&scenario(&all_campaigns(false)), 9);
    let text = all_campaigns(false).replace("[cat_pool]\nenabled = true", "[cat_pool]\nenabled = false");
    let off = run(&scenario(&text), 9);
    assert!(!of(&on, "cat_pool").is_empty());
    assert!(of(&off, "cat_pool").is_empty());
    // Each generator has its own random stream: switching one off changes no other event.
    let strip = |v: &[Value]| -> Vec<String> {
        v.iter()
            .map(|e| {
                let mut e = e.clone();
                e.as_object_mut().unwrap().remove("id");
                e.to_string()
            })
            .collect()
    };
    assert_eq!(strip(&of(&on, "reg_bot")), strip(&of(&off, "reg_bot")));
}

#[test]
fn unknown_keys_and_bad_values_are_errors_naming_the_key() {
    let e = Scenario::parse(
        "version = 1\nstart = \"2025-11-10T00:00:00+08:00\"\ndays = 7\n[cat_pool]\nenabled = true\nsims_per_hots = 3\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("sims_per_hots"), "{e}");
    let e = Scenario::parse("version = 1\nstart = \"2025-11-10T00:00:00+08:00\"\ndays = 7\nspeed = 3\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("speed"), "{e}");
    let e = Scenario::parse("version = 1\nstart = \"yesterday\"\ndays = 7\n").unwrap_err().to_string();
    assert!(e.contains("start"), "{e}");
    let e =
        Scenario::parse("version = 1\nstart = \"2025-11-10T00:00:00+08:00\"\ndays = 7\n[population]\nmvno_share = 2\n")
            .unwrap_err()
            .to_string();
    assert!(e.contains("population.mvno_share"), "{e}");
}

/// Number minus its last four digits, and those digits.
fn block(phone: &str) -> (String, u32) {
    let (b, s) = phone.split_at(phone.len() - 4);
    (b.to_string(), s.parse().unwrap())
}

#[test]
fn cat_pool_numbers_come_in_near_sequential_blocks_on_shared_hardware() {
    for adaptive in [false, true] {
        let all = run(&scenario(&format!("[cat_pool]\nenabled = true\nadaptive = {adaptive}\n")), 1);
        let evs = of(&all, "cat_pool");
        let regs = typed(&evs, "registration");
        assert_eq!(regs.len(), 600);
        let mut blocks: HashMap<String, Vec<u32>> = HashMap::new();
        let mut order: HashMap<String, Vec<u32>> = HashMap::new();
        for r in &regs {
            let (b, suffix) = block(s(r, &["phone"]).unwrap());
            blocks.entry(b.clone()).or_default().push(suffix);
            order.entry(b).or_default().push(suffix);
        }
        assert!(blocks.len() <= 8, "{} blocks", blocks.len());
        for (b, mut v) in blocks {
            assert!(v.len() >= 50, "block {b}: {} numbers", v.len());
            v.sort_unstable();
            let max_gap = v.windows(2).map(|w| w[1] - w[0]).max().unwrap();
            assert!(max_gap <= 4, "block {b}: gap {max_gap}");
            assert!(order[&b] != v, "block {b} used in sequential order, not shuffled");
        }
        let fps: HashSet<&str> = regs.iter().filter_map(|r| s(r, &["device", "fingerprint"])).collect();
        assert!(fps.len() <= 4, "{} fingerprints", fps.len());
        let ips: HashSet<&str> = regs.iter().filter_map(|r| s(r, &["ip"])).collect();
        assert!(ips.len() <= 4);
        let machine_segment = |p: &str| {
            ["+861440", "+861410", "+86170", "+86171", "+86145", "+86147", "+86149"]
                .iter()
                .any(|seg| p.starts_with(seg))
        };
        let n_machine = regs.iter().filter(|r| machine_segment(s(r, &["phone"]).unwrap())).count();
        if adaptive {
            assert_eq!(n_machine, 0, "adaptive cat pool still uses IoT / MVNO / data-only segments");
        } else {
            assert_eq!(n_machine, regs.len());
        }
    }
}

#[test]
fn code_platform_numbers_are_rebound_and_codes_relayed() {
    let listed: HashSet<String> = sheepdog_sim::data::LISTED_NUMBERS.iter().map(|n| format!("+86{n}")).collect();
    for adaptive in [false, true] {
        let all = run(&scenario(&format!("[code_platform]\nenabled = true\nadaptive = {adaptive}\n")), 2);
        let evs = of(&all, "code_platform");
        let mut accounts: HashMap<&str, HashSet<&str>> = HashMap::new();
        let mut n_listed = 0;
        for e in evs.iter().filter(|e| e["type"] == "registration" || e["type"] == "profile_update") {
            let phone = s(e, &["phone"]).unwrap();
            accounts.entry(phone).or_default().insert(s(e, &["account_id"]).unwrap());
            let entry = e["session"]["sms_code_entry_ms"].as_u64().unwrap();
            assert!((45_000..=60_000).contains(&entry), "relay latency {entry}");
            assert_eq!(e["session"]["paste_used"], true);
            let mismatch = e["device"]["sim_present"] == false || e["device"]["sim_phone_match"] == false;
            if adaptive {
                assert!(e["device"].get("sim_present").is_none() && e["device"].get("sim_phone_match").is_none());
            } else {
                assert!(mismatch, "non-adaptive relay shows the SIM is elsewhere");
            }
            n_listed += usize::from(listed.contains(phone));
        }
        let rebound = accounts.values().filter(|a| a.len() >= 3).count();
        assert!(rebound >= 40, "{rebound} numbers bound to 3+ accounts");
        if adaptive {
            assert_eq!(n_listed, 0);
        } else {
            assert!(n_listed >= 12, "{n_listed} events with listed numbers");
        }
    }
}

#[test]
fn reg_bot_fingerprints_carry_many_device_ids() {
    for adaptive in [false, true] {
        let all = run(&scenario(&format!("[reg_bot]\nenabled = true\nadaptive = {adaptive}\n")), 3);
        let evs = of(&all, "reg_bot");
        let regs = typed(&evs, "registration");
        assert_eq!(regs.len(), 600);
        let mut ids: HashMap<&str, HashSet<&str>> = HashMap::new();
        for r in &regs {
            ids.entry(s(r, &["device", "fingerprint"]).unwrap()).or_default().insert(s(r, &["device", "id"]).unwrap());
        }
        assert!(ids.len() <= 8);
        assert!(
            ids.values().all(|v| v.len() >= 20),
            "device ids per fingerprint: {:?}",
            ids.values().map(|v| v.len()).collect::<Vec<_>>()
        );
        let emulators = regs.iter().filter(|r| r["device"]["emulator"] == true).count();
        let form: HashSet<u64> = regs.iter().map(|r| r["session"]["form_fill_ms"].as_u64().unwrap() / 1000).collect();
        if adaptive {
            assert_eq!(emulators, 0);
            let emulator_models: Vec<&str> = sheepdog_sim::data::EMULATOR_MODELS.iter().map(|m| m.0).collect();
            assert!(regs.iter().all(|r| !emulator_models.contains(&s(r, &["device", "model"]).unwrap())));
            assert!(form.len() > 20, "adaptive timings are jittered");
        } else {
            assert_eq!(emulators, regs.len());
            assert!(form.len() <= 2, "form fill is fast and uniform: {form:?}");
        }
    }
}

#[test]
fn profile_templates_reuse_avatar_bio_and_nickname_shape() {
    for adaptive in [false, true] {
        let all = run(&scenario(&format!("[profile_template]\nenabled = true\nadaptive = {adaptive}\n")), 4);
        let evs = of(&all, "profile_template");
        let regs = typed(&evs, "registration");
        let avatars: HashSet<&str> = regs.iter().map(|r| s(r, &["profile", "avatar_hash"]).unwrap()).collect();
        if adaptive {
            assert_eq!(avatars.len(), regs.len());
        } else {
            assert_eq!(avatars.len(), 10, "one avatar per batch");
        }
        let lower_digits = regs
            .iter()
            .filter(|r| {
                let n = s(r, &["profile", "nickname"]).unwrap();
                let letters = n.chars().take_while(|c| c.is_ascii_lowercase()).count();
                letters >= 2 && n[letters..].chars().all(|c| c.is_ascii_digit()) && n.len() > letters
            })
            .count();
        assert!(lower_digits >= 120, "{lower_digits} lowercase+digits nicknames");
    }
}

#[test]
fn low_and_slow_stays_under_hourly_thresholds_but_shares_blocks_and_hardware() {
    let all = run(&scenario("[low_and_slow]\nenabled = true\n"), 5);
    let evs = of(&all, "low_and_slow");
    let regs = typed(&evs, "registration");
    assert_eq!(regs.len(), 140);
    let mut per_hour: HashMap<(String, i64), u32> = HashMap::new();
    let mut ids: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut blocks: HashSet<String> = HashSet::new();
    for r in &regs {
        let hour = r["timestamp"].as_i64().unwrap() / 3_600_000;
        let fp = s(r, &["device", "fingerprint"]).unwrap();
        *per_hour.entry((fp.to_string(), hour)).or_default() += 1;
        *per_hour.entry((block(s(r, &["phone"]).unwrap()).0, hour)).or_default() += 1;
        ids.entry(fp).or_default().insert(s(r, &["device", "id"]).unwrap());
        blocks.insert(block(s(r, &["phone"]).unwrap()).0);
    }
    assert!(per_hour.values().all(|&n| n < 3), "at most two per fingerprint or block and hour");
    assert_eq!(blocks.len(), 6);
    assert!(ids.values().all(|v| v.len() >= 10), "each fingerprint carries many device ids over the week");
}

#[test]
fn adaptive_low_and_slow_retires_hardware_but_keeps_its_blocks() {
    let all = run(&scenario("[low_and_slow]\nenabled = true\nadaptive = true\n"), 5);
    let evs = of(&all, "low_and_slow");
    let regs = typed(&evs, "registration");
    let mut per_fp: HashMap<&str, u32> = HashMap::new();
    let mut blocks: HashSet<String> = HashSet::new();
    for r in &regs {
        *per_fp.entry(s(r, &["device", "fingerprint"]).unwrap()).or_default() += 1;
        blocks.insert(block(s(r, &["phone"]).unwrap()).0);
    }
    assert!(per_fp.values().all(|&n| n <= 3), "{:?}", per_fp.values().max());
    assert_eq!(blocks.len(), 6);
}

#[test]
fn account_resale_takes_over_aged_accounts_from_buyer_devices() {
    for adaptive in [false, true] {
        let all = run(&scenario(&format!("[account_resale]\nenabled = true\nadaptive = {adaptive}\n")), 6);
        let evs = of(&all, "account_resale");
        let reg_ms: HashMap<&str, i64> = typed(&evs, "registration")
            .iter()
            .map(|r| (s(r, &["account_id"]).unwrap(), r["timestamp"].as_i64().unwrap()))
            .collect();
        let logins = typed(&evs, "login");
        assert_eq!(logins.len(), 150);
        let mut per_device: HashMap<&str, u32> = HashMap::new();
        for l in &logins {
            let a = s(l, &["account_id"]).unwrap();
            assert!(l["timestamp"].as_i64().unwrap() - reg_ms[a] >= 3 * 86_400_000, "the account aged");
            assert!(l["changed"].as_array().unwrap().iter().any(|c| c == "password"));
            *per_device.entry(s(l, &["device", "id"]).unwrap()).or_default() += 1;
        }
        let most = *per_device.values().max().unwrap();
        if adaptive {
            assert_eq!(most, 1);
        } else {
            assert!(most >= 15, "one buyer device takes over many accounts: {most}");
        }
        assert!(typed(&evs, "profile_update").iter().all(|p| p["changed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "phone")));
    }
}

#[test]
fn wool_party_claims_cluster_at_the_promo_start() {
    for adaptive in [false, true] {
        let sc = scenario(&format!("[wool_party]\nenabled = true\nadaptive = {adaptive}\n"));
        let promo = sc.start_ms + 60 * 3_600_000;
        let all = run(&sc, 7);
        let evs = of(&all, "wool_party");
        let claims = typed(&evs, "promo_claim");
        assert_eq!(claims.len(), 300);
        let late = claims.iter().filter(|c| c["timestamp"].as_i64().unwrap() - promo > 20_000).count();
        assert!(claims.iter().all(|c| c["timestamp"].as_i64().unwrap() >= promo));
        let fps: HashSet<&str> = claims.iter().map(|c| s(c, &["device", "fingerprint"]).unwrap()).collect();
        let blocks: HashSet<String> =
            typed(&evs, "registration").iter().map(|r| block(s(r, &["phone"]).unwrap()).0).collect();
        assert_eq!(blocks.len(), 4, "numbers from a few blocks either way");
        if adaptive {
            assert!(late > 250, "adaptive claims spread over minutes: {late} late");
            assert_eq!(fps.len(), 300);
        } else {
            assert_eq!(late, 0);
            assert_eq!(fps.len(), 6);
        }
        // Honest users claim too, some early: the trap for a naive "claims at the start" rule.
        let honest_early = all
            .iter()
            .filter(|(e, t)| t["bad"] == false && e["type"] == "promo_claim")
            .filter(|(e, _)| e["timestamp"].as_i64().unwrap() - promo < 600_000)
            .count();
        assert!(honest_early > 0);
    }
}

#[test]
fn scam_content_evades_and_sms_pumping_never_registers() {
    for adaptive in [false, true] {
        let all = run(
            &scenario(&format!(
                "[scam_content]\nenabled = true\nadaptive = {adaptive}\n[sms_pumping]\nenabled = true\nadaptive = {adaptive}\n"
            )),
            8,
        );
        let posts = of(&all, "scam_content");
        let texts: Vec<&str> = typed(&posts, "content").iter().map(|c| s(c, &["text"]).unwrap()).collect();
        assert_eq!(texts.len(), 600);
        let plain =
            texts.iter().filter(|t| t.contains("薇信") || t.contains("ｗｅｉｘｉｎ") || t.contains("V❤")).count();
        let pinyin = texts.iter().filter(|t| t.contains("wei xin") || t.contains("zhuan")).count();
        if adaptive {
            assert_eq!(plain, 0);
            assert!(pinyin > 0);
        } else {
            assert!(plain > 100);
            assert_eq!(pinyin, 0);
        }
        let pump = of(&all, "sms_pumping");
        assert!(pump.iter().all(|e| e["type"] == "sms_code_request"));
        let phones: HashSet<&str> = pump.iter().map(|e| s(e, &["phone"]).unwrap()).collect();
        assert!(all
            .iter()
            .all(|(e, _)| e["type"] != "registration" || !phones.contains(s(e, &["phone"]).unwrap_or(""))));
        let per_number = pump.len() as f64 / phones.len() as f64;
        if adaptive {
            assert!(per_number < 1.1);
        } else {
            assert!(per_number >= 2.9);
            assert!(phones.iter().all(|p| !p.starts_with("+86")));
        }
    }
}

#[test]
fn honest_traps_look_suspicious_one_way_each() {
    let all = run(&scenario(""), 11);
    assert!(all.iter().all(|(_, t)| t["bad"] == false));
    let pop = |p: &str| -> Vec<&Value> { all.iter().filter(|(_, t)| t["population"] == p).map(|(e, _)| e).collect() };
    // Families: several accounts on one device without a SIM.
    let mut family: HashMap<&str, HashSet<&str>> = HashMap::new();
    for e in pop("family").iter().filter(|e| e["type"] == "registration") {
        assert_eq!(e["device"]["sim_present"], false);
        family.entry(s(e, &["device", "id"]).unwrap()).or_default().insert(s(e, &["account_id"]).unwrap());
    }
    assert!(family.values().any(|a| a.len() >= 3));
    // Campus: one address for many accounts.
    let mut campus: HashMap<&str, HashSet<&str>> = HashMap::new();
    for e in pop("campus") {
        if let (Some(ip), Some(a)) = (s(e, &["ip"]), s(e, &["account_id"])) {
            campus.entry(ip).or_default().insert(a);
        }
    }
    assert!(campus.len() <= 2, "{} campus addresses", campus.len());
    assert!(campus.values().map(|a| a.len()).sum::<usize>() >= 12, "campus users share two addresses");
    // MVNO segments, international numbers, human code entry.
    assert!(pop("mvno").iter().filter_map(|e| s(e, &["phone"])).all(|p| [
        "+86170", "+86171", "+86162", "+86165", "+86167"
    ]
    .iter()
    .any(|x| p.starts_with(x))));
    assert!(pop("international").iter().filter_map(|e| s(e, &["phone"])).all(|p| !p.starts_with("+86")));
    for (e, _) in all.iter().filter(|(e, _)| e["type"] == "registration") {
        let entry = e["session"]["sms_code_entry_ms"].as_u64().unwrap();
        assert!((5_000..=40_000).contains(&entry));
    }
    // Phone changes and password resets are profile updates with `changed`.
    assert!(pop("phone_change").iter().any(|e| e["type"] == "profile_update" && e["changed"][0] == "phone"));
    assert!(pop("code_talk")
        .iter()
        .any(|e| s(e, &["text"]).is_some_and(|t| t.contains("验证码") || t.contains("verification code"))));
    // Honest addresses are in no datacenter range the bots use.
    let dc: Vec<(u32, u32)> = sheepdog_sim::data::DATACENTER_RANGES.to_vec();
    let mut n_v6 = 0;
    for (e, _) in &all {
        if let Some(ip) = s(e, &["ip"]) {
            match ip.parse::<std::net::IpAddr>().unwrap() {
                std::net::IpAddr::V4(v4) => {
                    let ip = u32::from(v4);
                    assert!(dc.iter().all(|&(lo, n)| ip < lo || ip >= lo + n));
                }
                std::net::IpAddr::V6(v6) => n_v6 += usize::from(v6.segments()[0] >= 0x2400),
            }
        }
    }
    assert!(n_v6 > 100, "mobile IPv6 users: {n_v6} events");
}
