//! The chain's signals (issue 4): each fires from a short event sequence, and a near-miss
//! legitimate sequence (a family tablet, a campus NAT, a traveller, a user who changes phones)
//! does not.

use serde_json::{json, Value};
use sheepdog_engine::Engine;

use crate::{codes, decide, engine, T0};

const SEC: i64 = 1000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

fn has(e: &Engine, event: Value, code: &str) -> bool {
    let d = decide(e, event);
    codes(&d).contains(&code)
}

/// Sends `events`; true when `code` fired on the last one.
fn last_fires(e: &Engine, events: impl IntoIterator<Item = Value>, code: &str) -> bool {
    let mut last = false;
    for ev in events {
        last = has(e, ev, code);
    }
    last
}

/// Sends `events`; true when `code` fired on any of them.
fn any_fires(e: &Engine, events: impl IntoIterator<Item = Value>, code: &str) -> bool {
    // Every event is sent, even after the code fired.
    let mut any = false;
    for ev in events {
        any |= has(e, ev, code);
    }
    any
}

fn reg(ts: i64, account: &str, phone: &str, fp: &str, ip: &str) -> Value {
    json!({"type":"registration","timestamp":ts,"account_id":account,"phone":phone,"ip":ip,
           "device":{"id":format!("id-{fp}-{account}"),"fingerprint":fp,"sim_present":true,"sim_phone_match":true}})
}

fn login(ts: i64, account: &str, fp: &str, ip: &str) -> Value {
    json!({"type":"login","timestamp":ts,"account_id":account,"ip":ip,"device":{"id":format!("id-{fp}"),"fingerprint":fp}})
}

/// 3 days of a campus: 300 students (one device each) behind one NAT address.
fn campus_history(e: &Engine, ip: &str) {
    for day in 0..3 {
        for s in 0..300 {
            decide(e, login(T0 + day * DAY + s * 10 * SEC, &format!("stu-{s}"), &format!("fp-stu-{s}"), ip));
        }
    }
}

#[test]
fn registration_burst_from_one_address() {
    let e = engine();
    let evs = (0..8).map(|i| {
        reg(T0 + i * MIN, &format!("a{i}"), &format!("+86138000{:05}", i * 997), &format!("fp{i}"), "198.51.100.7")
    });
    assert!(last_fires(&e, evs, "ip.registration_burst"));
    let e = engine();
    let evs = (0..7).map(|i| {
        reg(T0 + i * MIN, &format!("a{i}"), &format!("+86138000{:05}", i * 997), &format!("fp{i}"), "198.51.100.7")
    });
    assert!(!any_fires(&e, evs, "ip.registration_burst"), "7 in an hour is under the threshold");
}

#[test]
fn a_campus_behind_one_ip_is_not_punished() {
    let e = engine();
    let ip = "192.0.2.44";
    campus_history(&e, ip);
    let t = T0 + 3 * DAY;
    // An hour of term start: 12 freshers register and 60 students log in, all behind the NAT.
    for i in 0..12 {
        let d = decide(
            &e,
            reg(t + i * MIN, &format!("fresh-{i}"), &format!("+86139{:08}", i * 7919), &format!("fp-new-{i}"), ip),
        );
        let c = codes(&d);
        assert!(!c.contains(&"ip.registration_burst") && !c.contains(&"ip.many_accounts"), "{c:?}");
    }
    for s in 0..60 {
        let d = decide(&e, login(t + s * 30 * SEC, &format!("stu-{s}"), &format!("fp-stu-{s}"), ip));
        assert!(d.reasons.is_empty(), "{:?}", codes(&d));
    }
    // The same hour on a fresh address is a burst.
    let e = engine();
    let evs = (0..12).map(|i| {
        reg(t + i * MIN, &format!("bot-{i}"), &format!("+86139{:08}", i * 7919), &format!("fp-b{i}"), "198.51.100.9")
    });
    assert!(any_fires(&e, evs, "ip.registration_burst"));
}

#[test]
fn a_card_batch_in_shuffled_order_is_a_sequential_run() {
    let e = engine();
    let evs = [1203, 1207, 1201, 1212, 1209].iter().enumerate().map(|(i, s)| {
        json!({"type":"sms_code_request","timestamp":T0 + i as i64 * 20 * MIN,"phone":format!("+86138123{s:05}")})
    });
    assert!(last_fires(&e, evs, "phone.block_sequential"));
    // Near miss: five honest numbers of one block, endings far apart.
    let e = engine();
    let evs = [100, 2300, 4711, 9000, 6000].iter().enumerate().map(|(i, s)| {
        json!({"type":"sms_code_request","timestamp":T0 + i as i64 * 20 * MIN,"phone":format!("+86138123{s:05}")})
    });
    assert!(!any_fires(&e, evs, "phone.block_sequential"));
}

fn code(ts: i64, phone: &str, ip: &str) -> Value {
    json!({"type":"sms_code_request","timestamp":ts,"phone":phone,"ip":ip})
}

#[test]
fn codes_that_never_register_are_pumping() {
    let e = engine();
    let evs = (0..10).map(|i| code(T0 + i * 3 * MIN, &format!("+86139876{:05}", i * 631), &format!("203.0.113.{i}")));
    assert!(last_fires(&e, evs, "phone.block_low_conversion"));
    // Near miss: ten people of one block who register after their code.
    let e = engine();
    let mut fired = false;
    for i in 0..10 {
        let phone = format!("+86139876{:05}", i * 631);
        fired |= has(&e, code(T0 + i * 3 * MIN, &phone, &format!("203.0.113.{i}")), "phone.block_low_conversion");
        decide(
            &e,
            reg(T0 + i * 3 * MIN + 40 * SEC, &format!("p{i}"), &phone, &format!("fp{i}"), &format!("203.0.113.{i}")),
        );
    }
    assert!(!fired);
}

#[test]
fn codes_from_one_address_that_never_register() {
    let e = engine();
    let evs = (0..15).map(|i| code(T0 + i * MIN, &format!("+8613{:09}", i * 7_654_321), "198.51.100.20"));
    assert!(last_fires(&e, evs, "ip.low_conversion"));
    let e = engine();
    let mut fired = false;
    for i in 0..15 {
        let phone = format!("+8613{:09}", i * 7_654_321);
        fired |= has(&e, code(T0 + i * MIN, &phone, "198.51.100.20"), "ip.low_conversion");
        decide(&e, reg(T0 + i * MIN + 30 * SEC, &format!("u{i}"), &phone, &format!("fp{i}"), "198.51.100.20"));
    }
    assert!(!fired, "an office whose people register after their codes");
}

fn timed_reg(ts: i64, i: i64, fp: &str, ip: &str, code_ms: u32, form_ms: u32) -> Value {
    let mut v = reg(ts, &format!("t{fp}{i}"), &format!("+8615{:09}", i * 1_234_567 + 11), fp, ip);
    v["session"] = json!({"sms_code_entry_ms": code_ms, "form_fill_ms": form_ms});
    v
}

#[test]
fn relayed_codes_are_slow_and_uniform() {
    let e = engine();
    let evs = [50_000, 52_000, 48_000, 51_000, 49_500]
        .iter()
        .enumerate()
        .map(|(i, ms)| timed_reg(T0 + i as i64 * 2 * HOUR, i as i64, "fp-relay", "198.51.100.30", *ms, 20_000));
    assert!(last_fires(&e, evs, "session.code_relay_timing"));
    // The platform's numbers spread over devices: the network shows the same rhythm.
    let e = engine();
    let evs = [47_000, 52_000, 49_000, 50_000, 51_500]
        .iter()
        .enumerate()
        .map(|(i, ms)| timed_reg(T0 + i as i64 * 2 * HOUR, i as i64, &format!("fp-{i}"), "198.51.100.31", *ms, 20_000));
    assert!(last_fires(&e, evs, "session.code_relay_timing"));
    // Near miss: a family on one tablet, one of them slow: humans vary.
    let e = engine();
    let evs = [6_000, 31_000, 12_000, 45_000, 27_000]
        .iter()
        .enumerate()
        .map(|(i, ms)| timed_reg(T0 + i as i64 * 2 * HOUR, i as i64, "fp-family", "203.0.113.40", *ms, 20_000));
    assert!(!any_fires(&e, evs, "session.code_relay_timing"));
}

#[test]
fn scripted_forms_are_fast_or_uniform() {
    let e = engine();
    let evs = [900, 950, 1_000, 880, 1_020]
        .iter()
        .enumerate()
        .map(|(i, ms)| timed_reg(T0 + i as i64 * 2 * HOUR, i as i64, "fp-bot", "198.51.100.50", 9_000, *ms));
    assert!(last_fires(&e, evs, "session.scripted_timing"));
    let e = engine();
    let evs = [12_000, 12_010, 11_995, 12_005, 12_002]
        .iter()
        .enumerate()
        .map(|(i, ms)| timed_reg(T0 + i as i64 * 2 * HOUR, i as i64, "fp-bot2", "198.51.100.51", 9_000, *ms));
    assert!(last_fires(&e, evs, "session.scripted_timing"), "jitter-free delays are a script too");
    let e = engine();
    let evs = [12_000, 30_000, 8_000, 45_000, 21_000]
        .iter()
        .enumerate()
        .map(|(i, ms)| timed_reg(T0 + i as i64 * 2 * HOUR, i as i64, "fp-family", "203.0.113.50", 9_000, *ms));
    assert!(!any_fires(&e, evs, "session.scripted_timing"));
}

#[test]
fn a_number_rebound_to_account_after_account() {
    let phone = "+8613512345678";
    let e = engine();
    let evs = (0..3).map(|i| reg(T0 + i * DAY, &format!("r{i}"), phone, &format!("fp{i}"), "203.0.113.60"));
    assert!(last_fires(&e, evs, "phone.rebound"));
    // Near miss: someone abandons an account and registers a new one with the same number.
    let e = engine();
    let evs = (0..2).map(|i| reg(T0 + i * DAY, &format!("r{i}"), phone, "fp-own", "203.0.113.60"));
    assert!(!any_fires(&e, evs, "phone.rebound"));
}

fn phone_change(ts: i64, account: &str, phone: &str) -> Value {
    json!({"type":"profile_update","timestamp":ts,"account_id":account,"phone":phone,"changed":["phone"],
           "device":{"id":"d-own","fingerprint":"fp-own"},"ip":"203.0.113.61"})
}

#[test]
fn an_account_cycling_through_numbers() {
    let e = engine();
    let evs = (0..4).map(|i| phone_change(T0 + i * DAY, "acct", &format!("+8613600000{:03}", i * 37)));
    assert!(last_fires(&e, evs, "account.many_phones"));
    // Near miss: a user who changes phones once.
    let e = engine();
    let evs = (0..2).map(|i| phone_change(T0 + i * DAY, "acct", &format!("+8613600000{:03}", i * 37)));
    assert!(!any_fires(&e, evs, "account.many_phones"));
}

fn profile_reg(ts: i64, i: i64, ip: &str, profile: Value) -> Value {
    let mut v = reg(ts, &format!("pr{i}"), &format!("+8618{:09}", i * 7_777_777 + 5), &format!("fp-p{i}"), ip);
    v["profile"] = profile;
    v
}

#[test]
fn templated_profiles() {
    let e = engine();
    let evs = (0..3).map(|i| profile_reg(T0 + i * HOUR, i, &format!("203.0.{i}.1"), json!({"avatar_hash":"a1b2c3"})));
    assert!(last_fires(&e, evs, "profile.avatar_reuse"));
    let e = engine();
    let evs = (0..3)
        .map(|i| profile_reg(T0 + i * HOUR, i, &format!("203.0.{i}.1"), json!({"avatar_hash":format!("own-{i}")})));
    assert!(!any_fires(&e, evs, "profile.avatar_reuse"));

    let bios = ["Love travel and  FOOD", "love travel and food", " Love Travel and food "];
    let e = engine();
    let evs = bios
        .iter()
        .enumerate()
        .map(|(i, b)| profile_reg(T0 + i as i64 * HOUR, i as i64, "203.0.113.70", json!({"bio":b})));
    assert!(last_fires(&e, evs, "profile.bio_reuse"), "case and spacing do not hide a template");
    let e = engine();
    let evs = (0..3).map(|i| profile_reg(T0 + i * HOUR, i, "203.0.113.70", json!({"bio":"hi there"})));
    assert!(!any_fires(&e, evs, "profile.bio_reuse"), "short greetings are common, not templates");

    let nicks = ["kdjew3829", "pqowe1120", "zmxnc9921", "lakso4410", "qpwoe7765"];
    let e = engine();
    let evs = nicks.iter().enumerate().map(|(i, n)| {
        profile_reg(T0 + i as i64 * HOUR, i as i64, &format!("198.51.100.{}", 80 + i), json!({"nickname":n}))
    });
    assert!(last_fires(&e, evs, "profile.nickname_template"), "one /24, one shape");
    let honest = ["lily99", "Zhang Wei", "小美", "tom_2024", "ann"];
    let e = engine();
    let evs = honest.iter().enumerate().map(|(i, n)| {
        profile_reg(T0 + i as i64 * HOUR, i as i64, &format!("198.51.100.{}", 80 + i), json!({"nickname":n}))
    });
    assert!(!any_fires(&e, evs, "profile.nickname_template"));
}

fn login_changing(ts: i64, account: &str, fp: &str, ip: &str, changed: &[&str]) -> Value {
    let mut v = login(ts, account, fp, ip);
    v["changed"] = json!(changed);
    v
}

#[test]
fn a_sold_account_changes_hands() {
    let e = engine();
    decide(&e, reg(T0, "old", "+8613712345678", "fp-seller", "203.0.113.90"));
    decide(&e, login(T0 + DAY, "old", "fp-seller", "203.0.113.90"));
    // A month of silence, then a new device on a new network resets the password.
    assert!(has(
        &e,
        login_changing(T0 + 31 * DAY, "old", "fp-buyer", "198.51.100.91", &["password"]),
        "account.ownership_change"
    ));

    // Near miss: a user with a new phone (the old one active yesterday) resets the password.
    let e = engine();
    decide(&e, reg(T0, "me", "+8613712345679", "fp-old-phone", "203.0.113.92"));
    decide(&e, login(T0 + 30 * DAY, "me", "fp-old-phone", "203.0.113.92"));
    assert!(!has(
        &e,
        login_changing(T0 + 31 * DAY, "me", "fp-new-phone", "198.51.100.93", &["password"]),
        "account.ownership_change"
    ));
    // Near miss: a traveller on a known device, abroad, changing the password.
    let e = engine();
    decide(&e, reg(T0, "trav", "+8613712345670", "fp-trav", "203.0.113.94"));
    assert!(!has(
        &e,
        login_changing(T0 + 40 * DAY, "trav", "fp-trav", "198.51.100.95", &["password"]),
        "account.ownership_change"
    ));
    // Near miss: the dormant owner back on a new phone without touching credentials.
    let e = engine();
    decide(&e, reg(T0, "back", "+8613712345671", "fp-a", "203.0.113.96"));
    assert!(!has(&e, login(T0 + 40 * DAY, "back", "fp-b", "198.51.100.97"), "account.ownership_change"));
}

#[test]
fn one_device_taking_over_many_accounts() {
    // A registrar made the accounts ten days ago; the buyer's device logs in to five of them.
    let e = engine();
    for i in 0..5 {
        decide(
            &e,
            reg(
                T0,
                &format!("bought-{i}"),
                &format!("+8613{:09}", i * 1_111_111),
                &format!("fp-reg{i}"),
                "203.0.113.99",
            ),
        );
    }
    let evs = (0..5).map(|i| login(T0 + 10 * DAY + i * HOUR, &format!("bought-{i}"), "fp-buyer", "198.51.100.100"));
    assert!(last_fires(&e, evs, "device.account_takeover"));
    // Near miss: a family of five whose accounts were made on the tablet they log in from.
    let e = engine();
    for i in 0..5 {
        decide(
            &e,
            reg(T0, &format!("family-{i}"), &format!("+8613{:09}", i * 1_111_111), "fp-tablet", "203.0.113.100"),
        );
    }
    let evs = (0..5).map(|i| login(T0 + 10 * DAY + i * HOUR, &format!("family-{i}"), "fp-tablet", "203.0.113.100"));
    assert!(!any_fires(&e, evs, "device.account_takeover"));
    // Near miss: a new tablet for a family of four, each logging in to an old account.
    let e = engine();
    let evs = (0..4).map(|i| login(T0 + 10 * DAY + i * HOUR, &format!("family-{i}"), "fp-new-tablet", "203.0.113.101"));
    assert!(!any_fires(&e, evs, "device.account_takeover"));
}

#[test]
fn a_registrar_low_and_slow_over_a_week() {
    // Six accounts on one phone's hardware, one a day from six addresses: no hourly burst.
    let e = engine();
    let evs = (0..6).map(|i| {
        reg(
            T0 + i * DAY,
            &format!("slow-{i}"),
            &format!("+8615{:09}", i * 2_222_222),
            "fp-slow",
            &format!("198.51.{i}.7"),
        )
    });
    assert!(last_fires(&e, evs, "device.many_registrations"));
    // Near miss: a family of five signing up on one tablet.
    let e = engine();
    let evs = (0..5).map(|i| {
        reg(T0 + i * 10 * MIN, &format!("fam-{i}"), &format!("+8615{:09}", i * 2_222_222), "fp-tablet", "203.0.113.7")
    });
    assert!(!any_fires(&e, evs, "device.many_registrations"));
}

#[test]
fn a_popular_bio_is_not_a_template() {
    // A phrase in use for a week (many people write 热爱生活，热爱自由) stays quiet at three a day…
    let e = engine();
    let bio = json!({"bio":"热爱生活，热爱自由，热爱旅行"});
    for d in 0..7 {
        decide(&e, profile_reg(T0 + d * DAY, 100 + d, "203.0.113.71", bio.clone()));
    }
    let evs = (0..3).map(|i| profile_reg(T0 + 8 * DAY + i * HOUR, 200 + i, &format!("203.0.{i}.72"), bio.clone()));
    assert!(!any_fires(&e, evs, "profile.bio_reuse"));
    // …but a burst of ten in a day is a template even on an old phrase.
    let evs = (3..10).map(|i| profile_reg(T0 + 8 * DAY + i * HOUR, 200 + i, &format!("203.0.{i}.72"), bio.clone()));
    assert!(last_fires(&e, evs, "profile.bio_reuse"));
}

fn claim(ts: i64, account: &str, fp: &str, ip: &str, phone: &str, campaign: &str) -> Value {
    json!({"type":"promo_claim","timestamp":ts,"account_id":account,"campaign_id":campaign,"phone":phone,"ip":ip,
           "device":{"id":format!("id-{fp}"),"fingerprint":fp}})
}

#[test]
fn promotions_claimed_by_new_accounts_and_shared_devices() {
    // New account.
    let e = engine();
    decide(&e, reg(T0, "fresh", "+8613812340001", "fp-f", "203.0.113.110"));
    assert!(has(
        &e,
        claim(T0 + HOUR, "fresh", "fp-f", "203.0.113.110", "+8613812340001", "c-late"),
        "promo.new_account"
    ));
    let e = engine();
    decide(&e, reg(T0, "loyal", "+8613812340002", "fp-l", "203.0.113.111"));
    decide(&e, login(T0 + 20 * DAY, "loyal", "fp-l", "203.0.113.111"));
    assert!(!has(
        &e,
        claim(T0 + 30 * DAY, "loyal", "fp-l", "203.0.113.111", "+8613812340002", "c"),
        "promo.new_account"
    ));

    // One device, many claimants; a family of two is fine.
    let e = engine();
    let evs = (0..3).map(|i| {
        claim(
            T0 + i * MIN,
            &format!("w{i}"),
            "fp-wool",
            &format!("203.0.{i}.5"),
            &format!("+86139{:08}", i * 4_444_444),
            "c1",
        )
    });
    assert!(last_fires(&e, evs, "promo.device_claims"));
    let e = engine();
    let evs = (0..2).map(|i| {
        claim(
            T0 + i * MIN,
            &format!("fam{i}"),
            "fp-tablet",
            "203.0.113.112",
            &format!("+86139{:08}", i * 4_444_444),
            "c1",
        )
    });
    assert!(!any_fires(&e, evs, "promo.device_claims"));

    // Numbers of one block.
    let e = engine();
    let evs = (0..3).map(|i| {
        claim(
            T0 + i * MIN,
            &format!("b{i}"),
            &format!("fp-b{i}"),
            &format!("203.0.{i}.6"),
            &format!("+86170123400{i:02}"),
            "c2",
        )
    });
    assert!(last_fires(&e, evs, "promo.block_claims"));
    let e = engine();
    let evs = (0..3).map(|i| {
        claim(
            T0 + i * MIN,
            &format!("b{i}"),
            &format!("fp-b{i}"),
            &format!("203.0.{i}.6"),
            &format!("+861{}0123400{i:02}", 36 + i),
            "c2",
        )
    });
    assert!(!any_fires(&e, evs, "promo.block_claims"));
}

#[test]
fn promotion_claims_from_one_network_spare_a_campus() {
    let e = engine();
    let evs = (0..10).map(|i| {
        claim(
            T0 + i * MIN,
            &format!("n{i}"),
            &format!("fp-n{i}"),
            "198.51.100.120",
            &format!("+86150{:08}", i * 3_333_333),
            "c3",
        )
    });
    assert!(last_fires(&e, evs, "promo.network_claims"));
    let e = engine();
    let ip = "192.0.2.55";
    campus_history(&e, ip);
    let t = T0 + 3 * DAY;
    let evs = (0..10).map(|s| {
        claim(
            t + s * MIN,
            &format!("stu-{s}"),
            &format!("fp-stu-{s}"),
            ip,
            &format!("+86150{:08}", s * 3_333_333),
            "c3",
        )
    });
    assert!(!any_fires(&e, evs, "promo.network_claims"));
}

#[test]
fn a_wool_party_rushes_the_campaign_start() {
    let e = engine();
    decide(&e, claim(T0, "early-bird", "fp-e", "203.0.113.130", "+8613900000001", "c-rush"));
    decide(&e, reg(T0 - HOUR, "w1", "+8613900000002", "fp-w1", "198.51.100.131"));
    assert!(has(
        &e,
        claim(T0 + 5 * SEC, "w1", "fp-w1", "198.51.100.131", "+8613900000002", "c-rush"),
        "promo.campaign_rush"
    ));
    // Near misses: a loyal user as fast, and a new user an hour later.
    decide(&e, reg(T0 - 60 * DAY, "loyal", "+8613900000003", "fp-l", "203.0.113.132"));
    decide(&e, login(T0 - 10 * DAY, "loyal", "fp-l", "203.0.113.132"));
    assert!(!has(
        &e,
        claim(T0 + 6 * SEC, "loyal", "fp-l", "203.0.113.132", "+8613900000003", "c-rush"),
        "promo.campaign_rush"
    ));
    decide(&e, reg(T0 - HOUR, "w2", "+8613900000004", "fp-w2", "203.0.113.133"));
    assert!(!has(
        &e,
        claim(T0 + HOUR, "w2", "fp-w2", "203.0.113.133", "+8613900000004", "c-rush"),
        "promo.campaign_rush"
    ));
}

fn verify(ts: i64, account: &str, identity: &str, fp: &str) -> Value {
    json!({"type":"profile_update","timestamp":ts,"account_id":account,"identity_hash":identity,"changed":["identity"],
           "device":{"id":format!("id-{fp}"),"fingerprint":fp},"ip":"203.0.113.140"})
}

#[test]
fn bought_identities() {
    let e = engine();
    let evs = (0..3).map(|i| verify(T0 + i * DAY, &format!("acct{i}"), "id-sold", &format!("fp{i}")));
    assert!(last_fires(&e, evs, "identity.many_accounts"));
    let e = engine();
    let evs = (0..2).map(|i| verify(T0 + i * DAY, &format!("acct{i}"), "id-me", &format!("fp{i}")));
    assert!(!any_fires(&e, evs, "identity.many_accounts"), "one person, an old and a new account");

    let e = engine();
    let evs = (0..2).map(|i| verify(T0 + i * HOUR, &format!("acct{i}"), &format!("id-{i}"), "fp-certifier"));
    assert!(last_fires(&e, evs, "device.many_identities"));
    let e = engine();
    let evs = (0..2).map(|i| verify(T0 + i * HOUR, "acct", "id-me", "fp-mine"));
    assert!(!any_fires(&e, evs, "device.many_identities"), "one identity verified twice");
}
