//! The in-process pipeline against its baseline, measured in the same run:
//! - `baseline_parse_serialize`: parse each event and serialise an allow decision for it (with the
//!   same JSON writer as the engine);
//! - `pipeline`: parse, decide (enrich, windows, policy, idempotency) and serialise, with no
//!   intelligence loaded;
//! - `pipeline_with_intel`: the same with the full shipped intelligence (`intel/`);
//!   `pipeline_with_intel_warm` on an engine that has decided 60,000 earlier events first;
//! - `state_observe`: the state store alone, for five windows of one registration;
//! - `registration_enrich` / `registration_features`: a registration with every field the
//!   built-in features read (phone, device, IP, account, profile, session, identity), enriched
//!   only, then enriched and run through every built-in feature; the difference is the cost of
//!   all features of a registration, on a store that already holds the windows of 60,000 other
//!   registrations (steady state); `registration_features_empty_store` starts from an empty
//!   store instead. Bytes per state key are printed after the run.
//!
//! `cargo bench -p sheepdog-engine --bench pipeline`

use std::sync::Arc;

use divan::{black_box, Bencher};
use sheepdog_engine::{Engine, EngineOptions};
use sheepdog_model::{parse_event, Decision, Outcome};
use sheepdog_policy::BuiltinPolicy;
use sheepdog_sim::load::{write_load, LoadOptions};
use sheepdog_state::{key_hash, member_hash, MemoryStore, MemoryStoreOptions, Observation, Op, StateStore, WindowSpec};

// The allocator the `sheepdog` binary ships with (its very source), for the baseline and the
// pipeline alike.
#[path = "../../sheepdog/src/alloc.rs"]
mod alloc;
#[global_allocator]
static GLOBAL: alloc::MiMalloc = alloc::MiMalloc;

const N: u64 = 20_000;
/// Registrations already in the store before the registration benches time theirs.
const WARM: u64 = 60_000;

fn main() {
    divan::main();
}

fn events() -> Vec<Vec<u8>> {
    load(LoadOptions { count: N, ..LoadOptions::default() })
}

fn load(options: LoadOptions) -> Vec<Vec<u8>> {
    let mut buf = Vec::new();
    write_load(&options, &mut buf).unwrap();
    buf.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()
}

/// Traffic of the same population before the timed events (other ids, earlier times): a warm
/// engine's state, as a running server's.
fn warm_events() -> Vec<Vec<u8>> {
    let d = LoadOptions::default();
    load(LoadOptions { count: WARM, seed: 2, start_ms: d.start_ms - WARM as i64 * i64::from(d.gap_ms), ..d })
}

fn allow(id: String) -> Decision {
    Decision {
        event_id: id,
        decision: Outcome::Allow,
        challenge: None,
        score: 0,
        reasons: vec![],
        rules: vec![],
        cluster: None,
        policy_version: "baseline".into(),
        latency_us: 0,
        shadow_rules: vec![],
        features: None,
    }
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn baseline_parse_serialize(b: Bencher) {
    let events = events();
    let mut out = Vec::with_capacity(1 << 20);
    b.counter(divan::counter::ItemsCount::new(events.len())).bench_local(|| {
        out.clear();
        for raw in &events {
            let e = parse_event(raw).unwrap();
            allow(e.id.map(|s| s.into_owned()).unwrap_or_default()).write_json(&mut out);
            out.push(b'\n');
        }
        black_box(out.len());
    });
}

/// A fresh in-memory engine on the built-in policy, with the intelligence when given.
fn builtin_engine(intel: Option<&Arc<sheepdog_intel::Intel>>) -> Engine {
    let e =
        Engine::in_memory(Arc::new(BuiltinPolicy::default()), MemoryStoreOptions::default(), EngineOptions::default());
    if let Some(i) = intel {
        e.set_intel(i.clone());
    }
    e
}

/// Parse, decide and serialise every event on a fresh engine per sample (warmed with `WARM`
/// earlier events first when `warm`).
fn run_pipeline(b: Bencher, intel: Option<Arc<sheepdog_intel::Intel>>, warm: bool) {
    let events = events();
    let warm = if warm { warm_events() } else { Vec::new() };
    let mut out = Vec::with_capacity(1 << 20);
    b.counter(divan::counter::ItemsCount::new(events.len()))
        .with_inputs(|| {
            let e = builtin_engine(intel.as_ref());
            for raw in &warm {
                let ev = parse_event(raw).unwrap();
                e.decide(&ev, raw, 0, false).unwrap();
            }
            e
        })
        .bench_local_values(|engine| {
            out.clear();
            for raw in &events {
                let e = parse_event(raw).unwrap();
                let o = engine.decide(&e, raw, 0, false).unwrap();
                out.extend_from_slice(&o.json);
                out.push(b'\n');
            }
            black_box(out.len());
            engine
        });
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn pipeline(b: Bencher) {
    run_pipeline(b, None, false);
}

fn intel() -> Arc<sheepdog_intel::Intel> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../intel");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).map_err(|e| e.to_string());
    Arc::new(sheepdog_intel::load(&read("manifest.toml").unwrap(), &mut |f| read(f)).unwrap())
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn pipeline_with_intel(b: Bencher) {
    run_pipeline(b, Some(intel()), false);
}

/// The same on an engine that has decided 60,000 earlier events of the same population first
/// (its tables grown, its users partly known): steady state, as a running server.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn pipeline_with_intel_warm(b: Bencher) {
    run_pipeline(b, Some(intel()), true);
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn state_observe_registration(b: Bencher) {
    // Five windowed features of a registration: two counts, three distinct counts.
    let w1 = WindowSpec { bucket_ms: 300_000, buckets: 12 };
    let w24 = WindowSpec { bucket_ms: 3_600_000, buckets: 24 };
    b.counter(divan::counter::ItemsCount::new(N as usize))
        .with_inputs(|| MemoryStore::new(MemoryStoreOptions::default()))
        .bench_local_values(|store| {
            let mut out = [0u32; 5];
            for i in 0..N {
                let user = (i * 7919) % 50_000;
                let obs = [
                    Observation { key: key_hash(1, &user.to_le_bytes()), window: w1, op: Op::Count },
                    Observation { key: key_hash(2, &(user / 2).to_le_bytes()), window: w1, op: Op::Count },
                    Observation {
                        key: key_hash(3, &user.to_le_bytes()),
                        window: w24,
                        op: Op::distinct(member_hash(&i.to_le_bytes())),
                    },
                    Observation { key: key_hash(4, &(user % 997).to_le_bytes()), window: w1, op: Op::distinct(user) },
                    Observation { key: key_hash(5, &(user / 10).to_le_bytes()), window: w24, op: Op::distinct(user) },
                ];
                store.observe(1_764_000_000_000 + i as i64 * 5, &obs, true, &mut out);
                black_box(out);
            }
            store
        });
}

/// Registrations of a population with every field the built-in features read: `n` events from
/// `t0`, 50 ms apart, of users `base..base + 200,000`.
fn registrations(n: u64, base: u64, t0: i64, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = seed;
    let mut next = |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    (0..n)
        .map(|i| {
            let user = base + next(200_000);
            let fp = user / 3;
            let ts = t0 + i as i64 * 50;
            format!(
                r#"{{"id":"r{i}","type":"registration","timestamp":{ts},"account_id":"acct-{user}","phone":"+86138{num:08}","ip":"10.{b}.{c}.{d}","device":{{"id":"dev-{user}","fingerprint":"fp-{fp}","model":"Phone","sim_present":true,"sim_phone_match":true}},"session":{{"form_fill_ms":{form},"sms_code_entry_ms":{entry}}},"profile":{{"nickname":"user{nick:04}","bio":"likes tea and long walks {bio}","avatar_hash":"av{av}"}},"identity_hash":"id{user}"}}"#,
                num = user * 37 % 100_000_000,
                b = user % 200,
                c = (user / 200) % 250,
                d = 1 + user % 250,
                form = 3000 + next(20_000),
                entry = 4000 + next(30_000),
                nick = next(10_000),
                bio = user % 1000,
                av = user,
            )
            .into_bytes()
        })
        .collect()
}

fn run_stages(b: Bencher, features: bool, warm: bool) {
    const T0: i64 = 1_764_000_000_000;
    let events = registrations(N, 0, T0, 0x2545_F491_4F6C_DD1D);
    // A store in steady state: it already holds the windows of WARM earlier registrations of
    // other users (about 1.1 M keys, tables sized for what comes), as a running server's does.
    let warm =
        if !warm { vec![] } else { registrations(WARM, 1_000_000, T0 - WARM as i64 * 50, 0x9E37_79B9_7F4A_7C15) };
    let intel = intel();
    b.counter(divan::counter::ItemsCount::new(events.len()))
        .with_inputs(|| {
            let e = builtin_engine(Some(&intel));
            for raw in &warm {
                let ev = parse_event(raw).unwrap();
                e.run_stages(&ev, ev.timestamp.map_or(0, |t| t.0), true);
            }
            e
        })
        .bench_local_values(|engine| {
            let mut n = 0;
            for raw in &events {
                let e = parse_event(raw).unwrap();
                n += engine.run_stages(&e, e.timestamp.map_or(0, |t| t.0), features);
            }
            black_box(n);
            engine
        });
    if features && warm.is_empty() {
        let engine = builtin_engine(None);
        for raw in &events {
            let e = parse_event(raw).unwrap();
            engine.run_stages(&e, e.timestamp.map_or(0, |t| t.0), true);
        }
        let s = engine.store().stats();
        eprintln!(
            "state after {} registrations: {} keys, {} bytes, {:.0} bytes per key",
            events.len(),
            s.keys,
            s.bytes,
            s.bytes as f64 / s.keys.max(1) as f64
        );
    }
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn registration_enrich(b: Bencher) {
    run_stages(b, false, true);
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn registration_features(b: Bencher) {
    run_stages(b, true, true);
}

/// The same on an empty store: every table grows while the run fills it (page faults, rehashing).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn registration_features_empty_store(b: Bencher) {
    run_stages(b, true, false);
}

/// The policy stage alone: the default (built-in) policy, then the same with the GUIDE's seven
/// example rules, evaluated on the signals and feature values of the load's events (captured
/// once, outside the timing).
fn run_policy(b: Bencher, rules: bool) {
    let events = events();
    let policy: Arc<dyn sheepdog_policy::Policy> =
        if rules { sheepdog_policy::load_policy(EXAMPLE_RULES).unwrap() } else { Arc::new(BuiltinPolicy::default()) };
    let engine = Engine::in_memory(policy.clone(), MemoryStoreOptions::default(), EngineOptions::default());
    engine.set_intel(intel());
    let parsed: Vec<_> = events.iter().map(|raw| parse_event(raw).unwrap()).collect();
    let inputs: Vec<_> = parsed.iter().map(|e| engine.policy_input(e, e.timestamp.map_or(0, |t| t.0))).collect();
    b.counter(divan::counter::ItemsCount::new(events.len())).bench_local(|| {
        let mut n = 0u64;
        for (event, (signals, features)) in parsed.iter().zip(&inputs) {
            let mut verdict = sheepdog_policy::Verdict::default();
            policy.evaluate(&sheepdog_policy::PolicyInput { event, signals, features }, &mut verdict);
            n += u64::from(verdict.score);
        }
        black_box(n)
    });
}

const EXAMPLE_RULES: &str = include_str!("example_rules.toml");

#[divan::bench(sample_count = 50, sample_size = 1)]
fn policy_default(b: Bencher) {
    run_policy(b, false);
}

#[divan::bench(sample_count = 50, sample_size = 1)]
fn policy_default_plus_7_rules(b: Bencher) {
    run_policy(b, true);
}
