//! The in-process pipeline against its baseline, measured in the same run:
//! - `baseline_parse_serialize`: parse each event and serialise an allow decision for it;
//! - `pipeline`: parse, decide (enrich, windows, policy, idempotency) and serialise, with no
//!   intelligence loaded;
//! - `pipeline_with_intel`: the same with the full shipped intelligence (`intel/`);
//! - `state_observe`: the state store alone, for the features of one registration.
//!
//! `cargo bench -p sheepdog-engine --bench pipeline`

use std::sync::Arc;

use divan::{black_box, Bencher};
use sheepdog_engine::{Engine, EngineOptions};
use sheepdog_model::{parse_event, Decision, Outcome};
use sheepdog_policy::BuiltinPolicy;
use sheepdog_sim::load::{write_load, LoadOptions};
use sheepdog_state::{key_hash, member_hash, MemoryStore, MemoryStoreOptions, Observation, Op, StateStore, WindowSpec};

const N: u64 = 20_000;

fn main() {
    divan::main();
}

fn events() -> Vec<Vec<u8>> {
    let mut buf = Vec::new();
    write_load(&LoadOptions { count: N, ..LoadOptions::default() }, &mut buf).unwrap();
    buf.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()
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
            serde_json::to_writer(&mut out, &allow(e.id.map(|s| s.into_owned()).unwrap_or_default())).unwrap();
            out.push(b'\n');
        }
        black_box(out.len());
    });
}

/// Parse, decide and serialise every event on a fresh engine per sample.
fn run_pipeline(b: Bencher, intel: Option<Arc<sheepdog_intel::Intel>>) {
    let events = events();
    let mut out = Vec::with_capacity(1 << 20);
    b.counter(divan::counter::ItemsCount::new(events.len()))
        .with_inputs(|| {
            let e = Engine::in_memory(
                Arc::new(BuiltinPolicy::default()),
                MemoryStoreOptions::default(),
                EngineOptions::default(),
            );
            if let Some(i) = &intel {
                e.set_intel(i.clone());
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
    run_pipeline(b, None);
}

fn intel() -> Arc<sheepdog_intel::Intel> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../intel");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).map_err(|e| e.to_string());
    Arc::new(sheepdog_intel::load(&read("manifest.toml").unwrap(), &mut |f| read(f)).unwrap())
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn pipeline_with_intel(b: Bencher) {
    run_pipeline(b, Some(intel()));
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
