//! Every intelligence reason code fires from an event, and a near-miss legitimate event does
//! not (an ordinary 138 number, a residential IP, gmail.com, a Pixel with Chrome).

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};
use sheepdog_engine::{Engine, EngineOptions};
use sheepdog_model::{Decision, Outcome};
use sheepdog_policy::BuiltinPolicy;
use sheepdog_state::MemoryStoreOptions;

/// 2026-11-18, after the intel snapshots.
const T: i64 = 1_795_000_000_000;

fn read(rel: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../intel").join(rel)).unwrap()
}

fn engine_with_list(list: &str) -> Engine {
    let list = list.to_string();
    let intel = sheepdog_intel::load(&read("manifest.toml"), &mut |f| {
        Ok(if f == "sheepdog/operator-list.tsv" { list.clone() } else { read(f) })
    })
    .unwrap();
    let e =
        Engine::in_memory(Arc::new(BuiltinPolicy::default()), MemoryStoreOptions::default(), EngineOptions::default());
    e.set_intel(Arc::new(intel));
    e
}

fn engine() -> &'static Engine {
    static E: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    E.get_or_init(|| engine_with_list(""))
}

fn decide(e: &Engine, mut event: Value) -> Arc<Decision> {
    event["timestamp"] = json!(T);
    e.decide_json(&serde_json::to_vec(&event).unwrap(), T).unwrap().decision
}

fn codes(d: &Decision) -> Vec<String> {
    d.reasons.iter().map(|r| r.code.to_string()).collect()
}

fn fires(event: Value, code: &str) -> Arc<Decision> {
    let d = decide(engine(), event.clone());
    assert!(codes(&d).iter().any(|c| c == code), "{code} should fire on {event}: {:?}", d.reasons);
    d
}

fn quiet(event: Value, code: &str) {
    let d = decide(engine(), event.clone());
    assert!(!codes(&d).iter().any(|c| c == code), "{code} should not fire on {event}: {:?}", d.reasons);
}

fn phone(p: &str) -> Value {
    json!({"type":"registration","phone":p})
}

#[test]
fn phone_classes() {
    let d = fires(phone("+8614512345678"), "phone.data_only");
    assert!(d.reasons[0].message.contains("segment 145"), "{}", d.reasons[0].message);
    fires(phone("+8617012345678"), "phone.mvno");
    fires(phone("+8616512345678"), "phone.mvno");
    fires(phone("+861440123456789"), "phone.iot");
    fires(phone("+8617491234567"), "phone.satellite");
    fires(phone("+86123"), "phone.invalid");
    fires(phone("+445612345678"), "phone.voip");
    fires(phone("+449098790000"), "phone.premium");
    // Near misses: an ordinary China Mobile 138 number, national form, and a valid US mobile.
    for p in ["+8613698765432", "13698765432", "+14155550123"] {
        for code in [
            "phone.data_only",
            "phone.mvno",
            "phone.iot",
            "phone.satellite",
            "phone.invalid",
            "phone.voip",
            "phone.premium",
            "phone.receive_sms_site",
        ] {
            quiet(phone(p), code);
        }
    }
    let iot = decide(engine(), phone("+861440123456789"));
    assert!(!codes(&iot).contains(&"phone.invalid".to_string()), "IoT numbers are not 'invalid'");
    assert_eq!(iot.challenge, Some(sheepdog_model::Challenge::CarrierVerify));
}

#[test]
fn receive_sms_listing_weighs_recency() {
    // Listed 2026-08-22 (about 88 days before the event) and 2019-01-10 (years before).
    let recent = fires(phone("+436805400"), "phone.receive_sms_site");
    let old = fires(phone("+3225885407"), "phone.receive_sms_site");
    let w = |d: &Decision| d.reasons.iter().find(|r| r.code == "phone.receive_sms_site").unwrap().weight;
    assert!(w(&recent) > w(&old), "a recent listing weighs more: {} vs {}", w(&recent), w(&old));
    assert!(recent.reasons.iter().any(|r| r.message.contains("days before the event")));
}

#[test]
fn ip_classes_name_range_and_source() {
    let d = fires(json!({"type":"login","ip":"47.100.1.2"}), "ip.datacenter");
    let r = d.reasons.iter().find(|r| r.code == "ip.datacenter").unwrap();
    assert!(r.message.contains("47.96.0.0/12") && r.message.contains("cn-cloud-ipv4"), "{}", r.message);
    fires(json!({"type":"login","ip":"45.3.32.9"}), "ip.datacenter");
    fires(json!({"type":"login","ip":"2.26.157.10"}), "ip.vpn");
    fires(json!({"type":"login","ip":"2620:7:6003::141"}), "ip.tor");
    // Mainland broadband and mobile, a private address, US cable.
    for ip in ["183.14.25.7", "117.136.12.9", "192.168.1.20", "73.162.10.5"] {
        for code in ["ip.datacenter", "ip.vpn", "ip.tor"] {
            quiet(json!({"type":"login","ip":ip}), code);
        }
    }
}

#[test]
fn email_classes() {
    fires(json!({"type":"registration","email":"x@000-webmail.myhome-server.de"}), "email.disposable");
    fires(json!({"type":"registration","email":"x@sub.mailinator.com"}), "email.disposable");
    fires(json!({"type":"registration","email":"x@0-30-24.com"}), "email.disposable_weak");
    fires(json!({"type":"registration","email":"x@duck.com"}), "email.relay");
    for e in ["a.b+x@gmail.com", "someone@qq.com", "me@163.com", "user@company.example"] {
        for code in ["email.disposable", "email.disposable_weak", "email.relay"] {
            quiet(json!({"type":"registration","email":e}), code);
        }
    }
}

#[test]
fn gmail_variants_share_one_identity_key() {
    let e =
        Engine::in_memory(Arc::new(BuiltinPolicy::default()), MemoryStoreOptions::default(), EngineOptions::default());
    e.set_intel(engine().intel());
    // The same inbox under three spellings; identity keys feed velocity features.
    let mut keys = sheepdog_engine::Keys::default();
    let mut signals = Vec::new();
    let mut key_of = |email: &str| {
        let mut ev = sheepdog_model::Event::new(sheepdog_model::EventType::Registration);
        ev.email = Some(email.to_string().into());
        sheepdog_engine::enrich::enrich(&ev, &Default::default(), &e.intel(), T, &mut keys, &mut signals);
        keys.get_str(sheepdog_model::KeyKind::Email).unwrap().to_string()
    };
    assert_eq!(key_of("a.b+x@gmail.com"), "ab@gmail.com");
    assert_eq!(key_of("AB@googlemail.com"), "ab@gmail.com");
    assert_ne!(key_of("a.b+x@example.com"), "ab@example.com");
}

#[test]
fn device_models_and_user_agents() {
    fires(json!({"type":"registration","device":{"model":"sdk_gphone64_x86_64"}}), "device.emulator_model");
    fires(json!({"type":"registration","device":{"model":"Redfinger Cloud Phone"}}), "device.cloud_phone");
    fires(
        json!({"type":"registration","user_agent":"Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/126.0.0.0 Safari/537.36"}),
        "ua.automation",
    );
    fires(json!({"type":"registration","user_agent":"python-requests/2.31.0"}), "ua.automation");
    fires(json!({"type":"registration","device":{"rooted":true}}), "device.rooted");
    fires(json!({"type":"registration","device":{"hooked":true}}), "device.hooked");
    let pixel = json!({"type":"registration","device":{"model":"Pixel 7","rooted":false,"hooked":false,"emulator":false},
        "user_agent":"Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"});
    for code in [
        "device.emulator_model",
        "device.cloud_phone",
        "ua.automation",
        "device.rooted",
        "device.hooked",
        "device.emulator",
    ] {
        quiet(pixel.clone(), code);
    }
}

#[test]
fn operator_lists_deny_beats_everything_allow_beats_intel() {
    let e = engine_with_list("deny\tphone\t+8613698765432\t-\tconfirmed dealer\nallow\tip\t47.100.0.0/16\t-\toffice egress\nallow\taccount\tqa-bot\n");
    let d = decide(&e, json!({"type":"registration","phone":"13698765432","account_id":"qa-bot"}));
    assert_eq!(d.decision, Outcome::Deny, "deny beats the allow entry of the same event");
    assert_eq!(d.score, 100);
    assert!(d.reasons[0].message.contains("confirmed dealer"));
    let allowed = decide(&e, json!({"type":"registration","ip":"47.100.1.2","device":{"model":"sdk_gphone64_x86_64"}}));
    assert!(!codes(&allowed).contains(&"ip.datacenter".to_string()), "intel is suppressed: {:?}", allowed.reasons);
    assert!(!codes(&allowed).contains(&"device.emulator_model".to_string()));
    assert!(codes(&allowed).contains(&"list.allow".to_string()));
    assert_eq!(allowed.decision, Outcome::Allow);
    // The allow entry does not hide what the event itself says.
    let flagged = decide(&e, json!({"type":"registration","ip":"47.100.1.3","device":{"emulator":true}}));
    assert!(codes(&flagged).contains(&"device.emulator".to_string()));
    // Near miss: nothing listed.
    let d = decide(&e, json!({"type":"registration","phone":"+8613698765431","ip":"183.14.25.7"}));
    assert!(!codes(&d).iter().any(|c| c.starts_with("list.")));
}

#[test]
fn content_audit_reasons_fire_on_evasive_ads_not_on_honest_chat() {
    let ev = |text: &str| json!({"type":"content","account_id":"a","text":text});
    let d = fires(ev("专业接碼 稳定卡商 量大从优"), "text.code_receiving");
    assert!(d.reasons.iter().any(|r| r.code == "text.code_receiving" && r.message.contains("接碼")), "{:?}", d.reasons);
    fires(ev("出售老号 带圈 价格美丽"), "text.account_trade");
    fires(ev("想认识的加薇信 ab1234 私聊"), "text.contact_diversion");
    fires(ev("导师带单 稳赚不赔 充值返利"), "text.scam_script");
    fires(ev("百家乐 时时彩 每天稳定回血"), "text.gambling");
    fires(
        json!({"type":"profile_update","profile":{"nickname":"小美","bio":"出售老号，加ｖｘ aa12345"}}),
        "text.account_trade",
    );
    // Honest messages that mention the same words.
    for honest in ["微信支付可以吗？", "验证码没收到，麻烦客服看一下", "周末一起去爬山吗", "我在QQ音乐听歌"]
    {
        for code in
            ["text.code_receiving", "text.account_trade", "text.contact_diversion", "text.scam_script", "text.gambling"]
        {
            quiet(ev(honest), code);
        }
    }
    // Only content events audit `text`: a login carrying text is not scanned.
    quiet(json!({"type":"login","text":"专业接碼"}), "text.code_receiving");
}

#[test]
fn phone_home_province_against_the_network_province() {
    let ev =
        |province: &str| json!({"type":"registration","phone":"+8613800138000","attributes":{"ip_province":province}});
    let d = fires(ev("广东"), "location.phone_ip_mismatch");
    assert!(d.reasons.iter().any(|r| r.message.contains("北京") && r.message.contains("广东")), "{:?}", d.reasons);
    // Near misses: the same province spelt with its suffix; no province sent at all.
    quiet(ev("北京市"), "location.phone_ip_mismatch");
    quiet(json!({"type":"registration","phone":"+8613800138000"}), "location.phone_ip_mismatch");
}
