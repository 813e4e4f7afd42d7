//! Lookup costs of the intelligence, on the full shipped set:
//! `cargo bench -p sheepdog-intel --bench lookups`

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use divan::{black_box, Bencher};
use sheepdog_intel::Intel;

fn main() {
    divan::main();
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../intel").join(rel)).unwrap()
}

fn intel() -> &'static Intel {
    static I: OnceLock<Intel> = OnceLock::new();
    I.get_or_init(|| sheepdog_intel::load(&read("manifest.toml"), &mut |f| Ok(read(f))).unwrap())
}

const PHONES: [&str; 8] = [
    "+8613698765432",
    "+8614512345678",
    "+8617012345678",
    "13812340000",
    "+861440123456789",
    "+14155550123",
    "+447700900123",
    "+436805400",
];

#[divan::bench(sample_count = 50)]
fn full_load(b: Bencher) {
    let files: Vec<(String, String)> = {
        let m = read("manifest.toml");
        let manifest = sheepdog_intel::Manifest::parse(&m).unwrap();
        manifest.sources.iter().map(|s| (s.file.clone(), read(&s.file))).chain([("manifest.toml".into(), m)]).collect()
    };
    let get = |f: &str| files.iter().find(|(n, _)| n == f).map(|(_, t)| t.clone()).ok_or_else(|| f.to_string());
    b.bench(|| sheepdog_intel::load(&get("manifest.toml").unwrap(), &mut |f| get(f)).unwrap());
}

#[divan::bench]
fn phone_parse_and_classify(b: Bencher) {
    let intel = intel();
    let mut i = 0;
    b.counter(divan::counter::ItemsCount::new(1usize)).bench_local(|| {
        i = (i + 1) % PHONES.len();
        black_box(intel.phone(PHONES[i], "CN", 4, 1_795_000_000_000))
    });
}

#[divan::bench]
fn ip_ranges(b: Bencher) {
    let intel = intel();
    let ips: Vec<IpAddr> = ["47.100.1.2", "183.14.25.7", "2.26.157.10", "2620:7:6003::141", "2001:db8::1", "8.8.8.8"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let mut i = 0;
    b.counter(divan::counter::ItemsCount::new(1usize)).bench_local(|| {
        i = (i + 1) % ips.len();
        black_box(intel.ip(ips[i]))
    });
}

#[divan::bench]
fn email(b: Bencher) {
    let intel = intel();
    let emails = ["a.b+x@gmail.com", "x@sub.mailinator.com", "me@duck.com", "someone@qq.com", "x@0-30-24.com"];
    let mut i = 0;
    b.counter(divan::counter::ItemsCount::new(1usize)).bench_local(|| {
        i = (i + 1) % emails.len();
        black_box(intel.email(emails[i]))
    });
}

#[divan::bench]
fn device_and_user_agent(b: Bencher) {
    let intel = intel();
    let ua = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
    b.bench_local(|| black_box(intel.device(Some("Pixel 7"), Some(ua))));
}
