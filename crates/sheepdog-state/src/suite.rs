//! The behavioural suite every `StateStore` backend must pass: one suite, run against each
//! implementation (`suite::run_all(|| Arc::new(Backend::new(..)))`). Backends are created with
//! a grace period of at least 60 s and a distinct cap of at least 8.

use std::borrow::Cow;
use std::sync::Arc;

use sheepdog_model::{Decision, Outcome};

use crate::{
    key_hash, member_hash, DistinctRead, Idempotent, Observation, Op, SampleRead, SeenRead, StateStore, WindowSpec,
    ABSENT,
};

const SEC: i64 = 1000;
/// 60 s window in 6 buckets of 10 s.
const W: WindowSpec = WindowSpec { bucket_ms: 10_000, buckets: 6 };
const T0: i64 = 1_764_000_000_000;

fn count(store: &dyn StateStore, key: &str, ts: i64) -> u32 {
    let mut out = [0];
    store.observe(ts, &[Observation { key: key_hash(1, key.as_bytes()), window: W, op: Op::Count }], true, &mut out);
    out[0]
}

fn peek(store: &dyn StateStore, key: &str, ts: i64) -> u32 {
    let mut out = [0];
    store.observe(ts, &[Observation { key: key_hash(1, key.as_bytes()), window: W, op: Op::Count }], false, &mut out);
    out[0]
}

fn distinct(store: &dyn StateStore, key: &str, member: &str, ts: i64) -> u32 {
    let mut out = [0];
    let op = Op::distinct(member_hash(member.as_bytes()));
    store.observe(ts, &[Observation { key: key_hash(2, key.as_bytes()), window: W, op }], true, &mut out);
    out[0]
}

/// Records `member` in `key`'s set and reads it back with each of `reads` (one call).
fn members(store: &dyn StateStore, key: &str, member: u64, ts: i64, reads: &[DistinctRead]) -> Vec<u32> {
    let k = key_hash(3, key.as_bytes());
    let obs: Vec<Observation> = reads
        .iter()
        .enumerate()
        .map(|(i, &read)| Observation { key: k, window: W, op: Op::Distinct { member, read, record: i == 0 } })
        .collect();
    let mut out = vec![0; obs.len()];
    store.observe(ts, &obs, true, &mut out);
    out
}

fn sample(store: &dyn StateStore, key: &str, value: Option<u32>, ts: i64) -> (u32, u32) {
    let k = key_hash(4, key.as_bytes());
    let obs = [
        Observation { key: k, window: W, op: Op::Sample { value, read: SampleRead::Median { min: 4 }, record: true } },
        Observation { key: k, window: W, op: Op::Sample { value, read: SampleRead::Spread { min: 4 }, record: false } },
    ];
    let mut out = [0; 2];
    store.observe(ts, &obs, true, &mut out);
    (out[0], out[1])
}

fn seen(store: &dyn StateStore, key: &str, ts: i64) -> (u32, u32) {
    let k = key_hash(5, key.as_bytes());
    let obs = [
        Observation { key: k, window: W, op: Op::Seen { read: SeenRead::Age, record: true } },
        Observation { key: k, window: W, op: Op::Seen { read: SeenRead::Idle, record: false } },
    ];
    let mut out = [0; 2];
    store.observe(ts, &obs, true, &mut out);
    (out[0], out[1])
}

/// The score of a stored decision.
pub fn score_of(d: &[u8]) -> u32 {
    serde_json::from_slice::<Decision>(d).map(|d| d.score).unwrap_or(u32::MAX)
}

/// A decision for idempotency tests, stored as the engine stores it (JSON).
pub fn decision(id: &str, score: u32) -> crate::StoredDecision {
    let d = Decision {
        event_id: id.to_string(),
        decision: Outcome::Allow,
        challenge: None,
        score,
        reasons: vec![],
        rules: vec![Cow::Borrowed("r")],
        cluster: None,
        policy_version: "test".into(),
        latency_us: 1,
        shadow_rules: vec![],
        features: None,
    };
    Arc::from(serde_json::to_vec(&d).unwrap_or_default())
}

pub fn counts_in_event_time(store: &dyn StateStore) {
    // Aligned start so bucket edges are exact.
    let t = T0 - T0.rem_euclid(10 * SEC);
    assert_eq!(count(store, "a", t), 1);
    assert_eq!(count(store, "a", t + 5 * SEC), 2);
    assert_eq!(count(store, "a", t + 59 * SEC), 3, "59 s later the first bucket is still inside");
    assert_eq!(peek(store, "a", t + 59 * SEC), 3, "a read does not count");
    // 60 s later: the window is buckets 1..=6, the first bucket (two events) has left.
    assert_eq!(count(store, "a", t + 60 * SEC), 2);
    assert_eq!(count(store, "b", t + 60 * SEC), 1, "keys are independent");
    // An hour later, everything has expired.
    assert_eq!(count(store, "a", t + 3600 * SEC), 1);
}

pub fn out_of_order_within_grace(store: &dyn StateStore) {
    let t = T0 - T0.rem_euclid(10 * SEC) + 100 * SEC;
    assert_eq!(count(store, "k", t), 1);
    assert_eq!(count(store, "k", t + 30 * SEC), 2);
    // 25 s late: counted, and its value is as of its own time (the later event excluded).
    assert_eq!(count(store, "k", t + 5 * SEC), 2);
    assert_eq!(peek(store, "k", t + 30 * SEC), 3, "the late event counts for later reads");
    // Far too late (beyond window + grace): not counted.
    let before = store.stats().late_dropped;
    count(store, "k", t - 3600 * SEC);
    assert_eq!(store.stats().late_dropped, before + 1);
    assert_eq!(peek(store, "k", t + 30 * SEC), 3);
}

pub fn distinct_counts(store: &dyn StateStore) {
    let t = T0 - T0.rem_euclid(10 * SEC);
    assert_eq!(distinct(store, "dev", "p1", t), 1);
    assert_eq!(distinct(store, "dev", "p2", t + SEC), 2);
    assert_eq!(distinct(store, "dev", "p1", t + 2 * SEC), 2, "a repeat is not distinct");
    assert_eq!(distinct(store, "dev", "p3", t + 30 * SEC), 3);
    // p1, p2 last seen in bucket 0; at t+60 s the window is buckets 1..=6.
    assert_eq!(distinct(store, "dev", "p3", t + 60 * SEC), 1);
    assert_eq!(distinct(store, "other", "p1", t + 60 * SEC), 1);
}

pub fn sequential_runs(store: &dyn StateStore) {
    let t = T0 - T0.rem_euclid(10 * SEC);
    let run = DistinctRead::SequentialRun { gap: 8 };
    // A card batch in shuffled order with gaps: 1203, 1207, 1201, 1212, 1209 → one run of 5.
    let mut last = vec![];
    for (i, suffix) in [1203u64, 1207, 1201, 1212, 1209].into_iter().enumerate() {
        last = members(store, "blk", suffix, t + i as i64 * SEC, &[DistinctRead::Count, run]);
    }
    assert_eq!(last, vec![5, 5]);
    // A far number does not extend the run; a gap over 8 breaks it.
    assert_eq!(members(store, "blk", 7777, t + 6 * SEC, &[DistinctRead::Count, run]), vec![6, 5]);
    assert_eq!(members(store, "blk", 1221, t + 7 * SEC, &[run]), vec![5], "1212 → 1221 is 9 apart");
    // Scattered numbers of one block: no run.
    for (i, suffix) in [100u64, 2300, 4711, 9000].into_iter().enumerate() {
        last = members(store, "spread", suffix, t + i as i64 * SEC, &[run]);
    }
    assert_eq!(last, vec![1]);
}

pub fn member_ages(store: &dyn StateStore) {
    let t = T0 - T0.rem_euclid(10 * SEC);
    let reads = [DistinctRead::Count, DistinctRead::MemberAge, DistinctRead::OthersIdle];
    assert_eq!(members(store, "acct", 1, t, &reads), vec![1, 0, ABSENT], "new member, nobody else");
    assert_eq!(members(store, "acct", 1, t + 20 * SEC, &reads), vec![1, 20, ABSENT]);
    // Another member arrives: it is new, and the first was last seen 10 s (one bucket) ago.
    assert_eq!(members(store, "acct", 2, t + 30 * SEC, &reads), vec![2, 0, 10]);
    // A read-only observation of an unknown member reports nothing about it.
    let k = key_hash(3, b"acct");
    let mut out = [0];
    let op = Op::Distinct { member: 3, read: DistinctRead::MemberAge, record: false };
    store.observe(t + 30 * SEC, &[Observation { key: k, window: W, op }], true, &mut out);
    assert_eq!(out[0], ABSENT);
}

pub fn samples(store: &dyn StateStore) {
    let t = T0 - T0.rem_euclid(10 * SEC);
    assert_eq!(sample(store, "fp", Some(50_000), t), (ABSENT, ABSENT), "too few values");
    sample(store, "fp", Some(52_000), t + SEC);
    sample(store, "fp", Some(48_000), t + 2 * SEC);
    let (median, spread) = sample(store, "fp", Some(51_000), t + 3 * SEC);
    assert_eq!(median, 50_500);
    // Deviations 500, 1500, 2500, 500 → MAD 1000 → 1000/50500 = 19 ‰.
    assert_eq!(spread, 19);
    assert_eq!(sample(store, "fp", None, t + 4 * SEC), (50_500, 19), "no value: read only");
    // Humans: wide spread.
    for (i, v) in [6_000u32, 31_000, 12_000, 19_000, 9_000].into_iter().enumerate() {
        sample(store, "human", Some(v), t + i as i64 * SEC);
    }
    let (median, spread) = sample(store, "human", None, t + 5 * SEC);
    assert_eq!(median, 12_000);
    assert!(spread > 250, "{spread}");
    // Values leave with the window.
    assert_eq!(sample(store, "fp", Some(1), t + 120 * SEC), (ABSENT, ABSENT));
}

pub fn seen_times(store: &dyn StateStore) {
    let t = T0 - T0.rem_euclid(10 * SEC);
    assert_eq!(seen(store, "a", t), (0, ABSENT), "new key: age 0, no previous event");
    assert_eq!(seen(store, "a", t + 25 * SEC), (25, 25));
    assert_eq!(seen(store, "a", t + 40 * SEC), (40, 15));
    // A read-only call sees the newest event as the previous one.
    let k = key_hash(5, b"a");
    let mut out = [0];
    let idle = Observation { key: k, window: W, op: Op::Seen { read: SeenRead::Idle, record: false } };
    store.observe(t + 50 * SEC, &[idle], false, &mut out);
    assert_eq!(out[0], 10);
    // A whole window (60 s) of silence starts a new life.
    assert_eq!(seen(store, "a", t + 200 * SEC), (0, ABSENT));
    assert_eq!(seen(store, "b", t), (0, ABSENT), "keys are independent");
}

pub fn idempotency(store: &dyn StateStore) {
    let mut runs = 0;
    let first = store.idempotent("evt-1", T0, &mut || {
        runs += 1;
        decision("evt-1", 10)
    });
    assert!(matches!(first, Idempotent::Fresh(ref d) if score_of(d) == 10));
    let again = store.idempotent("evt-1", T0 + 1000, &mut || {
        runs += 1;
        decision("evt-1", 99)
    });
    assert!(matches!(again, Idempotent::Repeat(ref d) if score_of(d) == 10), "the first decision comes back");
    assert_eq!(runs, 1);
    let other = store.idempotent("evt-2", T0, &mut || decision("evt-2", 5));
    assert!(matches!(other, Idempotent::Fresh(_)));
    store.remember("evt-3", T0, decision("evt-3", 7));
    assert!(
        matches!(store.idempotent("evt-3", T0, &mut || decision("evt-3", 1)), Idempotent::Repeat(ref d) if score_of(d) == 7)
    );
}

pub fn export_import(make: &dyn Fn() -> Arc<dyn StateStore>) {
    let a = make();
    let t = T0 - T0.rem_euclid(10 * SEC);
    for i in 0..20 {
        count(&*a, &format!("k{}", i % 5), t + i * SEC);
        distinct(&*a, "d", &format!("m{}", i % 7), t + i * SEC);
        sample(&*a, "s", Some(1000 + i as u32), t + i * SEC);
        seen(&*a, "n", t + i * SEC);
    }
    a.idempotent("evt-x", t, &mut || decision("evt-x", 42));
    let bytes = a.export().expect("export");
    let b = make();
    b.import(&bytes).expect("import");
    for i in 0..5 {
        let key = format!("k{i}");
        assert_eq!(peek(&*a, &key, t + 20 * SEC), peek(&*b, &key, t + 20 * SEC));
    }
    assert_eq!(distinct(&*b, "d", "m0", t + 20 * SEC), 7);
    assert_eq!(sample(&*a, "s", None, t + 20 * SEC), sample(&*b, "s", None, t + 20 * SEC));
    assert_eq!(seen(&*b, "n", t + 20 * SEC).0, 20);
    assert!(
        matches!(b.idempotent("evt-x", t, &mut || decision("evt-x", 1)), Idempotent::Repeat(ref d) if score_of(d) == 42)
    );
    assert!(b.import(b"not a snapshot").is_err(), "garbage is refused");
    b.health().expect("healthy");
}

/// Runs the whole suite, each case on a fresh store.
pub fn run_all(make: &dyn Fn() -> Arc<dyn StateStore>) {
    counts_in_event_time(&*make());
    out_of_order_within_grace(&*make());
    distinct_counts(&*make());
    sequential_runs(&*make());
    member_ages(&*make());
    samples(&*make());
    seen_times(&*make());
    idempotency(&*make());
    export_import(make);
}
