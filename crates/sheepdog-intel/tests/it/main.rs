//! Agreement of the loaded intelligence with the sources it was built from (the project's own
//! `intel/` copy, never `../shared`), and the behaviour of each lookup.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use sheepdog_intel::{Intel, IpClass, ListAction, ListKind, NumberType, SegmentClass};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../intel")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn intel() -> &'static Intel {
    static INTEL: OnceLock<Intel> = OnceLock::new();
    INTEL.get_or_init(|| {
        let started = std::time::Instant::now();
        let intel =
            sheepdog_intel::load(&read("manifest.toml"), &mut |f| Ok(read(f))).expect("the shipped intel loads");
        println!(
            "loaded {} sources in {:?}, ~{} KiB",
            intel.sources().len(),
            started.elapsed(),
            intel.approx_bytes() >> 10
        );
        intel
    })
}

const NOW: i64 = 1_795_000_000_000; // 2026-11-18

#[test]
fn every_cn_segment_row_classifies_to_its_category() {
    let intel = intel();
    let rows = read("cn-segment-categories/segments.csv") + &read("sheepdog/segments-extra.csv");
    let mut checked = 0;
    for line in rows.lines().filter(|l| !l.starts_with("prefix") && !l.is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        let (prefix, category, len) = (f[0], f[1], f[3].parse::<usize>().unwrap());
        // Pad with a digit that does not make a longer, more specific row match.
        let number = (0..10)
            .map(|d| format!("{prefix}{}", d.to_string().repeat(len - prefix.len())))
            .find(|n| {
                intel.cn_segment_rows().filter(|(p, _)| n.starts_with(p)).max_by_key(|(p, _)| p.len()).map(|(p, _)| p)
                    == Some(prefix)
            })
            .expect("some padding keeps the row most specific");
        let facts = intel.phone(&format!("+86{number}"), "CN", 4, NOW).unwrap();
        let cn = facts.cn.unwrap_or_else(|| panic!("{number}: no CN facts"));
        assert_eq!(cn.segment.as_str(), category, "{number} (row {prefix})");
        checked += 1;
    }
    assert_eq!(checked, 91, "every row of the two segment files");
}

#[test]
fn mainland_numbers_get_operator_city_and_block() {
    let f = intel().phone("+8614512345678", "CN", 4, NOW).unwrap();
    assert!(f.valid);
    assert_eq!(f.e164, "+8614512345678");
    assert_eq!(f.block.as_deref(), Some("+861451234"));
    let cn = f.cn.unwrap();
    assert_eq!(cn.segment, SegmentClass::DataOnly);
    assert_eq!(cn.operator.as_deref(), Some("China Unicom"));
    assert!(cn.city.is_some(), "the 7-digit table names a home city");
    // National form with the default region is the same number.
    assert_eq!(intel().phone("145 1234 5678", "CN", 4, NOW).unwrap().e164, "+8614512345678");
    // An ordinary China Mobile 138 number is a carrier number.
    let ordinary = intel().phone("+8613812345678", "CN", 4, NOW).unwrap();
    assert_eq!(ordinary.cn.unwrap().segment, SegmentClass::Carrier);
    assert_eq!(ordinary.number_type, NumberType::Mobile);
    // 13-digit IoT numbers are recognised even though they are not diallable.
    let iot = intel().phone("+861440123456789", "CN", 4, NOW).unwrap();
    assert_eq!(iot.cn.unwrap().segment, SegmentClass::Iot);
    // MVNO by segment rule even where the 7-digit table types it as the base operator.
    assert_eq!(intel().phone("+8617001234567", "CN", 4, NOW).unwrap().cn.unwrap().segment, SegmentClass::Mvno);
    assert_eq!(intel().phone("+8617491234567", "CN", 4, NOW).unwrap().cn.unwrap().segment, SegmentClass::Satellite);
}

#[test]
fn number_types_and_validity_come_from_libphonenumber() {
    let us_toll_free = intel().phone("+18005550199", "US", 4, NOW).unwrap();
    assert_eq!(us_toll_free.number_type, NumberType::TollFree);
    let gb_premium = intel().phone("+449098790000", "GB", 4, NOW).unwrap();
    assert_eq!(gb_premium.number_type, NumberType::PremiumRate);
    let gb_voip = intel().phone("+445612345678", "GB", 4, NOW).unwrap();
    assert_eq!(gb_voip.number_type, NumberType::Voip);
    let invalid = intel().phone("+86123", "CN", 4, NOW).unwrap();
    assert!(!invalid.valid);
    // Digits past the stack buffer take the heap: the same answer as any invalid number.
    let long = intel().phone(&"9".repeat(40), "CN", 4, NOW).unwrap();
    assert!(!long.valid);
    assert!(long.e164.ends_with(&"9".repeat(40)), "{}", long.e164);
    let spaced = intel().phone("+86 138-0013-8000", "CN", 4, NOW).unwrap();
    assert_eq!(spaced.e164, "+8613800138000");
}

#[test]
fn every_receive_sms_number_is_found() {
    let intel = intel();
    let text = read("sms-receive-numbers/numbers.csv");
    let mut n = 0;
    for line in text.lines().skip(1) {
        let number = line.split(',').next().unwrap();
        assert!(intel.receive_sms(&format!("+{number}")).is_some(), "{number} missing");
        n += 1;
    }
    assert_eq!(n, 125_878);
    // Listing dates are kept: recency is computed at event time.
    let f = intel.phone("+46200231", "SE", 4, NOW);
    let listing = f.and_then(|f| f.receive_sms);
    if let Some(l) = listing {
        assert!(l.days_since_last_seen > 300, "listed 2023-12-20, event 2026-11");
    }
    assert!(intel.receive_sms("+8613698765432").is_none(), "an ordinary number is not listed");
    assert!(
        intel.receive_sms("+8613812345678").is_some(),
        "the famous example number is listed, so no test uses it as clean"
    );
}

#[test]
fn ranges_tor_exits_and_disposable_domains_are_found() {
    let intel = intel();
    let mut sampled = 0;
    for (file, class) in [
        ("datacenter-vpn-ips/datacenter_ipv4.txt", IpClass::Datacenter),
        ("datacenter-vpn-ips/datacenter_ipv6.txt", IpClass::Datacenter),
        ("datacenter-vpn-ips/vpn_ipv4.txt", IpClass::Vpn),
        ("cn-cloud-ips/cn_cloud_ipv4.txt", IpClass::CnCloud),
        ("cn-cloud-ips/cn_cloud_ipv6.txt", IpClass::CnCloud),
    ] {
        for line in read(file).lines().step_by(37) {
            let cidr = line.split('\t').next().unwrap().trim();
            let first: IpAddr = cidr.split('/').next().unwrap().parse().unwrap();
            let facts = intel.ip(first);
            let m = facts.get(class).unwrap_or_else(|| panic!("{cidr} not found as {class:?}"));
            assert!(!m.range.is_empty() && !m.source.is_empty());
            sampled += 1;
        }
    }
    assert!(sampled > 1500, "{sampled} ranges sampled");
    let mut exits = 0;
    for line in read("tor-exit-nodes/exits.csv").lines().skip(1) {
        let ip: IpAddr = line.split(',').nth(1).unwrap().trim().parse().unwrap();
        assert!(intel.ip(ip).get(IpClass::Tor).is_some(), "{ip}");
        exits += 1;
    }
    assert!(exits > 5000);
    for line in read("disposable-email-domains/blocklist.txt").lines().step_by(11) {
        let f = intel.email(&format!("someone@{line}")).unwrap();
        assert!(f.disposable.is_some(), "{line}");
    }
}

#[test]
fn free_webmail_is_a_control_not_disposable() {
    let intel = intel();
    let free = read("freemail-free-providers/free.txt");
    let (mut total, mut precise, mut broad) = (0, 0, 0);
    for d in free.lines().map(str::trim).filter(|d| d.contains('.') && !d.contains(' ')) {
        let f = intel.email(&format!("user@{d}")).unwrap();
        total += 1;
        precise += usize::from(f.disposable.is_some());
        broad += usize::from(f.disposable_broad.is_some());
    }
    println!(
        "free-webmail control: {total} domains, {precise} on precise disposable lists, {broad} on broad lists only"
    );
    assert_eq!(broad, 0, "known webmail overrides the broad lists");
    // The overlap is 10 exact domains (99.com, sify.com…) plus subdomains of dynamic-DNS parents
    // that the precise list holds (mooo.com, us.to, …): listed for cause.
    assert!(precise * 50 < total, "under 2% of the control set is on a precise list: {precise}/{total}");
    for d in ["gmail.com", "qq.com", "163.com", "outlook.com", "126.com", "yahoo.com", "icloud.com"] {
        let f = intel.email(&format!("a.b+x@{d}")).unwrap();
        assert!(f.disposable.is_none() && f.disposable_broad.is_none(), "{d}");
    }
    let g = intel.email("A.B+promo@Gmail.com").unwrap();
    assert_eq!(g.normalized, "ab@gmail.com");
    assert!(g.free_webmail);
    assert!(intel.email("me@duck.com").unwrap().relay.is_some());
    assert!(intel.email("x@sub.mailinator.com").unwrap().disposable.is_some(), "parent domains count");
}

#[test]
fn user_agents_and_models() {
    let intel = intel();
    let fixtures = read("bot-user-agents/isbot_fixtures.csv");
    let (mut bots, mut bot_hits, mut browsers, mut browser_hits) = (0, 0, 0, 0);
    for line in fixtures.lines().skip(1) {
        let (label, rest) = line.split_once(',').unwrap();
        let ua = rest.split_once(',').map(|(_, ua)| ua.trim_matches('"')).unwrap_or("");
        let hit = intel.device(None, Some(ua)).automation_ua.is_some();
        if label == "crawler" {
            bots += 1;
            bot_hits += usize::from(hit);
        } else {
            browsers += 1;
            browser_hits += usize::from(hit);
        }
    }
    println!("isbot fixtures: {bot_hits}/{bots} crawlers flagged, {browser_hits}/{browsers} browsers flagged");
    assert!(bot_hits * 100 >= bots * 90, "recall on crawler fixtures {bot_hits}/{bots}");
    assert!(browser_hits * 100 <= browsers * 5, "false positives on browser fixtures {browser_hits}/{browsers}");
    let chrome = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";
    assert!(intel.device(Some("Pixel 7"), Some(chrome)).automation_ua.is_none());
    assert!(intel.device(None, Some("Mozilla/5.0 HeadlessChrome/126.0")).automation_ua.is_some());
    assert!(intel.device(None, Some("python-requests/2.31")).automation_ua.is_some());
    assert!(intel.device(Some("sdk_gphone64_x86_64"), None).emulator_model.is_some());
    assert!(intel.device(Some("Redfinger Cloud Phone"), None).cloud_phone.is_some());
    let plain = intel.device(Some("SM-G991B"), None);
    assert!(plain.emulator_model.is_none() && plain.cloud_phone.is_none());
}

#[test]
fn operator_lists_deny_beats_allow_and_expire() {
    let list = "deny\tphone\t+8617012345678\t-\tknown card dealer\n\
                allow\tphone\t+8617012345678\n\
                allow\taccount\tvip-1\t2026-01-01\n\
                deny\tip\t203.0.113.0/24\n\
                allow\temail_domain\tExample.ORG\n";
    let mut b = sheepdog_intel::IntelBuilder::new();
    let info = sheepdog_intel::ManifestSource {
        name: "ops".into(),
        kind: "operator_list".into(),
        file: "ops.tsv".into(),
        version: String::new(),
        origin: String::new(),
        licence: String::new(),
    };
    b.add(sheepdog_intel::SourceKind::OperatorList, &info, list).unwrap();
    let intel = b.build();
    let m = intel.list_match(&[(ListKind::Phone, "+8617012345678")], None, NOW).unwrap();
    assert_eq!(m.entry.action, ListAction::Deny);
    assert_eq!(m.entry.note, "known card dealer");
    assert!(intel.list_match(&[(ListKind::Account, "vip-1")], None, NOW).is_none(), "expired");
    assert!(intel.list_match(&[(ListKind::Account, "vip-1")], None, 1_700_000_000_000).is_some(), "before expiry");
    let ip: IpAddr = "203.0.113.77".parse().unwrap();
    assert_eq!(intel.list_match(&[], Some(ip), NOW).unwrap().entry.action, ListAction::Deny);
    assert!(intel.list_match(&[], Some("198.51.100.1".parse().unwrap()), NOW).is_none());
    assert_eq!(
        intel.list_match(&[(ListKind::EmailDomain, "example.org")], None, NOW).unwrap().entry.action,
        ListAction::Allow
    );
    let bad =
        sheepdog_intel::IntelBuilder::new().add(sheepdog_intel::SourceKind::OperatorList, &info, "block\tphone\t1\n");
    assert!(bad.unwrap_err().to_string().contains("line 1"));
}

#[test]
fn a_broken_source_is_named() {
    let e = sheepdog_intel::load(&read("manifest.toml"), &mut |f| {
        if f.ends_with("segments.csv") {
            Ok("prefix,category,operator\n170,not_a_class,x\n".into())
        } else {
            Ok(read(f))
        }
    })
    .err()
    .expect("refused");
    assert_eq!(e.source_name, "cn-segment-categories");
    assert_eq!(e.line, 2);
}

#[test]
fn the_mainland_fast_path_agrees_with_libphonenumber() {
    let intel = intel();
    let prefixes = read("cn-phone-segments/prefixes.csv");
    let mut tabled: Vec<u32> = prefixes.lines().skip(1).filter_map(|l| l.split(',').next()?.parse().ok()).collect();
    tabled.sort_unstable();
    // Every prefix of the 7-digit table, and every 13th prefix of 1000000..1999999 besides.
    let candidates = tabled.iter().copied().chain((1_000_000..2_000_000).step_by(13));
    let mut n = 0;
    for (i, p7) in candidates.enumerate() {
        let suffix = (i as u32).wrapping_mul(2_654_435_761) % 10_000;
        for raw in [format!("+86{p7}{suffix:04}"), format!("{p7}{suffix:04}")] {
            let fast = intel.phone(&raw, "CN", 4, NOW).unwrap();
            let slow = intel.phone_via_library(&raw, "CN", 4, NOW).unwrap();
            assert_eq!(fast, slow, "{raw}");
        }
        n += 1;
    }
    assert!(n > 550_000, "{n} prefixes compared");
}
