//! Tests of the embedded store and the journal.

use std::sync::Arc;

use proptest::prelude::*;

use crate::suite;
use crate::*;

fn opts() -> MemoryStoreOptions {
    MemoryStoreOptions { grace_ms: 60_000, distinct_cap: 8, ..MemoryStoreOptions::default() }
}

#[test]
fn memory_store_passes_the_backend_suite() {
    suite::run_all(&|| Arc::new(MemoryStore::new(opts())) as Arc<dyn StateStore>);
}

#[test]
fn distinct_saturates_at_the_cap() {
    let store = MemoryStore::new(opts());
    let w = WindowSpec { bucket_ms: 1000, buckets: 60 };
    let mut last = 0;
    for i in 0..100u64 {
        let mut out = [0];
        let obs = Observation { key: 7, window: w, op: Op::distinct(i) };
        store.observe(1_000_000 + i as i64, &[obs], true, &mut out);
        last = out[0];
    }
    assert_eq!(last, 8, "exact up to the cap, then the cap");
}

#[test]
fn memory_stays_under_the_cap_under_a_flood_of_unique_keys() {
    let cap = 2 << 20;
    let store = MemoryStore::new(MemoryStoreOptions { max_bytes: cap, ..opts() });
    let w = WindowSpec { bucket_ms: 300_000, buckets: 12 };
    let mut out = [0u32; 4];
    for i in 0..200_000u64 {
        let obs: Vec<Observation> = (0..4)
            .map(|j| Observation {
                key: key_hash(j, &i.to_le_bytes()),
                window: w,
                op: if j == 3 { Op::distinct(i) } else { Op::Count },
            })
            .collect();
        store.observe(1_764_000_000_000 + i as i64, &obs, true, &mut out);
    }
    let s = store.stats();
    assert!(s.bytes as usize <= cap, "{} bytes over a cap of {cap}", s.bytes);
    assert!(s.evictions > 0);
    assert!(s.keys < 800_000, "{} keys kept", s.keys);
    assert!(s.keys > 1000, "the cap is used, not emptied: {} keys", s.keys);
}

#[test]
fn eviction_prefers_cold_keys() {
    let store = MemoryStore::new(MemoryStoreOptions { max_bytes: 1 << 20, ..opts() });
    let w = WindowSpec { bucket_ms: 300_000, buckets: 12 };
    let hot = key_hash(1, b"hot");
    let t0 = 1_764_000_000_000i64;
    let mut out = [0];
    for i in 0..100_000i64 {
        store.observe(
            t0 + i,
            &[Observation { key: key_hash(2, &i.to_le_bytes()), window: w, op: Op::Count }],
            true,
            &mut out,
        );
        if i % 50 == 0 {
            store.observe(t0 + i, &[Observation { key: hot, window: w, op: Op::Count }], true, &mut out);
        }
    }
    assert!(store.stats().evictions > 0);
    store.observe(t0 + 100_000, &[Observation { key: hot, window: w, op: Op::Count }], false, &mut out);
    assert_eq!(out[0], 2000, "the key touched all along survived eviction");
}

#[test]
fn idempotency_forgets_by_count_and_age() {
    let store =
        MemoryStore::new(MemoryStoreOptions { idempotency_max_ids: 64 * 4, idempotency_window_ms: 10_000, ..opts() });
    let t = 1_764_000_000_000;
    for i in 0..10_000 {
        let id = format!("e{i}");
        store.idempotent(&id, t + i, &mut || suite::decision(&id, 1));
    }
    assert!(store.stats().idempotency_keys <= 64 * 4);
    store.idempotent("old", t, &mut || suite::decision("old", 1));
    let again = store.idempotent("old", t + 20_000, &mut || suite::decision("old", 2));
    assert!(matches!(again, Idempotent::Fresh(ref d) if suite::score_of(d) == 2), "past the window an id is new again");
}

/// Brute-force model of one count window: accepted events and the ring head.
struct Model {
    head: Option<i64>,
    events: Vec<i64>,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn count_window_matches_a_brute_force_model(
        steps in proptest::collection::vec((0i64..40_000, any::<bool>(), 0i64..200_000), 1..120)
    ) {
        let store = MemoryStore::new(MemoryStoreOptions { grace_ms: 20_000, ..opts() });
        let w = WindowSpec { bucket_ms: 5_000, buckets: 6 };
        let ring = 6 + 4;
        let mut model = Model { head: None, events: vec![] };
        let mut now: i64 = 1_764_000_000_000;
        for (forward, late, back) in steps {
            let ts = if late { now - back } else { now += forward; now };
            let b = ts.div_euclid(5_000);
            let head = model.head.map_or(b, |h| h.max(b));
            let accepted = b > head - ring;
            model.head = Some(head);
            if accepted {
                model.events.push(b);
            }
            let lo = (b - 5).max(head - ring + 1);
            let hi = b.min(head);
            // Events in recycled buckets are gone from the ring.
            let expect = model.events.iter().filter(|&&e| e >= lo && e <= hi && e > head - ring).count() as u32;
            let mut out = [0];
            store.observe(ts, &[Observation { key: 1, window: w, op: Op::Count }], true, &mut out);
            prop_assert_eq!(out[0], expect, "ts {} bucket {} head {}", ts, b, head);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Distinct counts with out-of-order events inside the grace period match a model of the
    /// documented semantics: each member keeps its first and last bucket while it stays in the
    /// ring, and counts as of `t` when first seen at or before `t`'s bucket and last seen inside
    /// the window. With events in order this is the exact distinct count of the window.
    #[test]
    fn distinct_window_matches_a_brute_force_model(
        steps in proptest::collection::vec((0i64..8_000, 0u64..6, any::<bool>(), 0i64..15_000), 1..80)
    ) {
        let store = MemoryStore::new(MemoryStoreOptions { grace_ms: 20_000, distinct_cap: 64, ..opts() });
        let w = WindowSpec { bucket_ms: 5_000, buckets: 6 };
        let ring = 6 + 4;
        let mut model: Vec<(u64, i64, i64)> = vec![];
        let mut sightings: Vec<(u64, i64)> = vec![];
        let mut in_order = true;
        let mut now: i64 = 1_764_000_000_000;
        let mut head = i64::MIN;
        for (forward, member, late, back) in steps {
            // Late events stay inside the grace period (4 buckets), so none is dropped.
            let ts = if late { now - back } else { now += forward; now };
            let b = ts.div_euclid(5_000);
            in_order &= b >= head;
            if b > head {
                head = b;
                model.retain(|(_, _, last)| *last > head - ring);
            }
            match model.iter_mut().find(|(m, _, _)| *m == member) {
                Some(x) => { x.1 = x.1.min(b); x.2 = x.2.max(b); }
                None => model.push((member, b, b)),
            }
            sightings.push((member, b));
            let lo = b - 5;
            let expect = model.iter().filter(|(_, first, last)| *first <= b && *last >= lo).count() as u32;
            let mut out = [0];
            store.observe(ts, &[Observation { key: 9, window: w, op: Op::distinct(member) }], true, &mut out);
            prop_assert_eq!(out[0], expect, "ts {} bucket {} head {}", ts, b, head);
            if in_order {
                let mut exact: Vec<u64> =
                    sightings.iter().filter(|(_, x)| *x >= lo && *x <= b).map(|(m, _)| *m).collect();
                exact.sort_unstable();
                exact.dedup();
                prop_assert_eq!(out[0], exact.len() as u32, "in order: exact");
            }
        }
    }

    /// A number batch's longest run does not depend on the order its numbers arrive in.
    #[test]
    fn sequential_run_ignores_arrival_order(
        mut suffixes in proptest::collection::vec(0u64..200, 1..40),
        seed in any::<u64>(),
    ) {
        let run = |xs: &[u64]| {
            let store = MemoryStore::new(MemoryStoreOptions { distinct_cap: 64, ..opts() });
            let w = WindowSpec { bucket_ms: 60_000, buckets: 60 };
            let mut out = [0];
            for (i, x) in xs.iter().enumerate() {
                let op = Op::Distinct { member: *x, read: DistinctRead::SequentialRun { gap: 8 }, record: true };
                store.observe(1_764_000_000_000 + i as i64, &[Observation { key: 3, window: w, op }], true, &mut out);
            }
            out[0]
        };
        let a = run(&suffixes);
        // Reference: longest chain of sorted distinct values with gaps <= 8.
        let mut sorted = suffixes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let mut best = 0;
        let mut cur = 0;
        for (i, x) in sorted.iter().enumerate() {
            cur = if i > 0 && x - sorted[i - 1] <= 8 { cur + 1 } else { 1 };
            best = best.max(cur);
        }
        prop_assert_eq!(a, best);
        let mut rng = seed | 1;
        for i in (1..suffixes.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            suffixes.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(run(&suffixes), a);
    }
}

mod journal {
    use super::*;

    fn open(dir: &std::path::Path) -> (Journal, Recovery) {
        Journal::open(dir, JournalOptions { segment_bytes: 2048, ..JournalOptions::default() }).unwrap()
    }

    #[test]
    fn records_survive_reopen_in_order() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (j, rec) = open(dir.path());
            assert!(rec.is_empty() && rec.snapshot.is_none());
            for i in 0..100 {
                let seq = j.append(i, format!("{{\"type\":\"login\",\"n\":{i}}}").as_bytes(), b"{\"d\":1}").unwrap();
                assert_eq!(seq, i as u64);
            }
            j.wait_durable(99).unwrap();
        }
        let (j, rec) = open(dir.path());
        let records = rec.records().unwrap();
        assert_eq!(records.len(), 100);
        assert_eq!(rec.len(), 100);
        assert!(records.iter().enumerate().all(|(i, r)| r.seq == i as u64 && r.received_ms == i as i64));
        assert_eq!(j.queued(), 100, "appends continue after the last record");
        let segments = std::fs::read_dir(dir.path()).unwrap().count();
        assert!(segments > 1, "small segments rotate");
    }

    #[test]
    fn a_torn_tail_is_dropped_and_appends_continue() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (j, _) = open(dir.path());
            for i in 0..3 {
                j.append(i, b"{\"type\":\"login\"}", b"{}").unwrap();
            }
            j.close().unwrap();
        }
        let mut segs: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
        segs.sort();
        let last = segs.last().unwrap();
        let mut f = std::fs::OpenOptions::new().append(true).open(last).unwrap();
        std::io::Write::write_all(&mut f, b"{\"seq\":3,\"received_ms\":1,\"ev").unwrap();
        drop(f);
        let (j, rec) = open(dir.path());
        assert_eq!(rec.records().unwrap().len(), 3);
        let seq = j.append(9, b"{\"type\":\"login\"}", b"{}").unwrap();
        assert_eq!(seq, 3);
        j.close().unwrap();
        let (_, rec) = open(dir.path());
        assert_eq!(rec.records().unwrap().len(), 4);
    }

    #[test]
    fn corruption_before_the_tail_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (j, _) = open(dir.path());
            for i in 0..3 {
                j.append(i, b"{\"type\":\"login\"}", b"{}").unwrap();
            }
            j.close().unwrap();
        }
        let seg = dir.path().join("log-00000000000000000000.ndjson");
        let text = std::fs::read_to_string(&seg).unwrap().replacen("\"seq\":1", "\"seq\":7", 1);
        std::fs::write(&seg, text).unwrap();
        let err = Journal::open(dir.path(), JournalOptions::default()).err().expect("refused");
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn snapshots_bound_replay_and_prune_segments() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (j, _) = Journal::open(
                dir.path(),
                JournalOptions { segment_bytes: 2048, no_sync: true, ..JournalOptions::default() },
            )
            .unwrap();
            for i in 0..200 {
                let seq = j.append(i, b"{\"type\":\"login\"}", b"{}").unwrap();
                j.wait_durable(seq).unwrap();
            }
            j.flush().unwrap();
            j.write_snapshot(150, b"state-at-150").unwrap();
            j.write_snapshot(180, b"state-at-180").unwrap();
            j.write_snapshot(190, b"state-at-190").unwrap();
        }
        let (_, rec) = open(dir.path());
        let (covered, payload) = rec.snapshot.clone().unwrap();
        assert_eq!((covered, payload.as_slice()), (190, &b"state-at-190"[..]));
        let records = rec.records().unwrap();
        assert_eq!(records.first().unwrap().seq, 190);
        assert_eq!(records.len(), 10);
        let snaps = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("snapshot-"))
            .count();
        assert_eq!(snaps, 2, "older snapshots are pruned");
        let first_seg = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| {
                let n = e.unwrap().file_name().to_string_lossy().to_string();
                n.strip_prefix("log-").map(|s| s[..20].parse::<u64>().unwrap())
            })
            .min()
            .unwrap();
        assert!(first_seg > 0, "segments before the oldest kept snapshot are gone");
    }

    #[test]
    fn a_damaged_snapshot_falls_back_to_the_previous_one() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (j, _) = open(dir.path());
            for i in 0..20 {
                j.append(i, b"{\"type\":\"login\"}", b"{}").unwrap();
            }
            j.flush().unwrap();
            j.write_snapshot(5, b"five").unwrap();
            j.write_snapshot(10, b"ten").unwrap();
        }
        let p = dir.path().join(format!("snapshot-{:020}.bin", 10));
        let mut bytes = std::fs::read(&p).unwrap();
        let n = bytes.len();
        bytes[n - 6] ^= 0xff;
        std::fs::write(&p, bytes).unwrap();
        let (_, rec) = open(dir.path());
        assert_eq!(rec.snapshot.as_ref().unwrap().0, 5);
        assert_eq!(rec.records().unwrap().len(), 15);
    }
}

#[test]
fn key_overhead_is_reported() {
    // Printed for BENCHMARKS.md; the bound keeps the layout from silently growing (a key and a
    // one-cache-line slot at 3/4 load: 96 bytes; issue 4's goal is 200 per active key).
    println!("bytes per key before spilling: {}", crate::memory::key_overhead());
    assert!(crate::memory::key_overhead() <= 96);
}

#[test]
fn remember_keeps_the_latest_decision_of_an_id() {
    let store = MemoryStore::new(opts());
    store.remember("e", 1_000, suite::decision("e", 1));
    store.remember("e", 5_000, suite::decision("e", 2));
    store.remember("e", 3_000, suite::decision("e", 3));
    let got = store.idempotent("e", 5_001, &mut || suite::decision("e", 9));
    assert!(matches!(got, Idempotent::Repeat(ref d) if suite::score_of(d) == 2));
}

mod journal_gaps {
    use super::*;

    fn small(dir: &std::path::Path) -> (Journal, Recovery) {
        Journal::open(dir, JournalOptions { segment_bytes: 512, no_sync: true, ..JournalOptions::default() }).unwrap()
    }

    fn fill(dir: &std::path::Path, n: i64) {
        let (j, _) = small(dir);
        for i in 0..n {
            let seq = j.append(i, b"{\"type\":\"login\"}", b"{}").unwrap();
            j.wait_durable(seq).unwrap();
        }
        j.close().unwrap();
    }

    fn segments(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("log-"))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_missing_segment_stops_start_up() {
        let dir = tempfile::tempdir().unwrap();
        fill(dir.path(), 60);
        let segs = segments(dir.path());
        assert!(segs.len() >= 3, "{} segments", segs.len());
        std::fs::remove_file(&segs[1]).unwrap();
        let err = Journal::open(dir.path(), JournalOptions::default()).err().expect("refused");
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn an_unreadable_only_snapshot_is_not_silently_replaced_by_a_partial_log() {
        let dir = tempfile::tempdir().unwrap();
        fill(dir.path(), 60);
        {
            let (j, _) = Journal::open(
                dir.path(),
                JournalOptions { keep_snapshots: 1, no_sync: true, ..JournalOptions::default() },
            )
            .unwrap();
            j.write_snapshot(50, b"state").unwrap();
        }
        let first = segments(dir.path())[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(!first.starts_with("log-00000000000000000000"), "the first segments were pruned: {first}");
        let snap = dir.path().join(format!("snapshot-{:020}.bin", 50));
        std::fs::write(&snap, b"garbage").unwrap();
        let err = Journal::open(dir.path(), JournalOptions::default()).err().expect("refused");
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn the_decision_log_forgets_segments_past_its_age_limit() {
        // Records 1 s apart (receive time); 1,000 segments allowed but only 20 s of age: the
        // segments whose records are all older than 20 s before the newest go, the rest stay.
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = Journal::open(
            dir.path(),
            JournalOptions {
                segment_bytes: 512,
                keep_snapshots: 1,
                no_sync: true,
                keep_log_segments: 1000,
                log_max_age_ms: Some(20_000),
            },
        )
        .unwrap();
        for i in 0..60 {
            let seq = j.append(i * 1000, b"{\"type\":\"login\"}", b"{}").unwrap();
            j.wait_durable(seq).unwrap();
        }
        let before = segments(dir.path()).len();
        j.write_snapshot(60, b"state").unwrap();
        let after = segments(dir.path());
        assert!(after.len() < before, "old segments pruned: {before} -> {}", after.len());
        let first = std::fs::read_to_string(&after[0]).unwrap();
        let oldest: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
        let oldest = oldest["received_ms"].as_i64().unwrap();
        assert!(oldest <= 59_000 - 20_000, "everything younger than 20 s is kept (oldest kept: {oldest})");
        assert!(oldest > 59_000 - 20_000 - 10_000, "what is older is gone (oldest kept: {oldest})");
    }

    #[test]
    fn the_decision_log_keeps_its_segments_past_a_snapshot() {
        for (keep, expect_all) in [(0usize, false), (1000, true)] {
            let dir = tempfile::tempdir().unwrap();
            fill(dir.path(), 60);
            let before = segments(dir.path()).len();
            let (j, _) = Journal::open(
                dir.path(),
                JournalOptions {
                    keep_snapshots: 1,
                    no_sync: true,
                    keep_log_segments: keep,
                    ..JournalOptions::default()
                },
            )
            .unwrap();
            j.write_snapshot(59, b"state").unwrap();
            let after = segments(dir.path()).len();
            if expect_all {
                assert_eq!(after, before, "kept as the decision log");
            } else {
                assert!(after < before, "pruned: {before} -> {after}");
            }
        }
    }
}

#[test]
fn key_hash_is_stable() {
    // Written to snapshots: a change here orphans every stored window.
    let mut h = xxhash_rust::xxh3::Xxh3::with_seed(7 ^ 0x5348_4545_5044_4f47);
    h.update(b"+8613800138000");
    assert_eq!(crate::key_hash(7, b"+8613800138000"), h.digest());
    assert_eq!(crate::key_hash(7, b""), xxhash_rust::xxh3::Xxh3::with_seed(7 ^ 0x5348_4545_5044_4f47).digest());
}

#[test]
fn short_rings_count_past_sixteen_bits() {
    // A one-bucket window (inline 16-bit ring) and a 60-bucket one (heap ring) read the same.
    let store = MemoryStore::new(opts());
    let short = WindowSpec { bucket_ms: 3_600_000, buckets: 1 };
    let long = WindowSpec { bucket_ms: 60_000, buckets: 60 };
    let mut out = [0u32; 2];
    for _ in 0..70_000 {
        let obs = [
            Observation { key: crate::key_hash(1, b"nat"), window: short, op: Op::Count },
            Observation { key: crate::key_hash(2, b"nat"), window: long, op: Op::Count },
        ];
        store.observe(1_000, &obs, true, &mut out);
    }
    assert_eq!(out, [70_000, 70_000]);
    // And across a snapshot.
    let copy = MemoryStore::new(opts());
    copy.import(&store.export().unwrap()).unwrap();
    let peek = [
        Observation { key: crate::key_hash(1, b"nat"), window: short, op: Op::Peek },
        Observation { key: crate::key_hash(2, b"nat"), window: long, op: Op::Peek },
    ];
    copy.observe(1_000, &peek, false, &mut out);
    assert_eq!(out, [70_000, 70_000]);
}

#[test]
fn key_zero_survives_a_snapshot() {
    let store = MemoryStore::new(opts());
    let w = WindowSpec { bucket_ms: 60_000, buckets: 10 };
    let mut out = [0u32];
    for _ in 0..3 {
        store.observe(1_000, &[Observation { key: 0, window: w, op: Op::Count }], true, &mut out);
    }
    let copy = MemoryStore::new(opts());
    copy.import(&store.export().unwrap()).unwrap();
    copy.observe(1_000, &[Observation { key: 0, window: w, op: Op::Peek }], false, &mut out);
    assert_eq!(out, [3]);
}

#[test]
fn eviction_always_finds_a_victim_in_a_small_shard() {
    // Keys of one shard over its smallest budget (4 keys): each new key must evict another one,
    // never itself, whatever the table's layout; the sampler's draws may all miss.
    let floor = crate::memory::key_overhead() * 4;
    for round in 0..100u64 {
        let store = MemoryStore::new(MemoryStoreOptions { max_bytes: 1, ..opts() });
        let w = WindowSpec { bucket_ms: 60_000, buckets: 10 };
        let mut out = [0u32];
        for i in 0..8u64 {
            // Shard 0 (the shard is the hash's middle bits), slots spread by the low bits.
            let key = ((round * 8 + i) << 40) | ((i * 5 + round) % 16 + 1);
            store.observe(1_000 * i as i64, &[Observation { key, window: w, op: Op::Count }], true, &mut out);
            let s = store.stats();
            assert!(s.bytes as usize <= floor, "round {round}, key {i}: {s:?}");
            store.observe(1_000 * i as i64, &[Observation { key, window: w, op: Op::Peek }], false, &mut out);
            assert_eq!(out, [1], "round {round}: the key being written stays");
        }
    }
}

/// Threads observing events whose windows fall in overlapping sets of shards (each event locks
/// all of its shards at once) neither deadlock nor lose a count.
#[test]
fn concurrent_events_over_shared_shards_count_every_observation() {
    let store = Arc::new(MemoryStore::new(MemoryStoreOptions::default()));
    let w = WindowSpec { bucket_ms: 1_000, buckets: 60 };
    // 16 keys over the 64 shards; every event counts 6 of them, in an order of its own.
    let keys: Vec<u64> = (0..16u64).map(|i| key_hash(1, format!("k{i}").as_bytes())).collect();
    let threads = 4;
    let per_thread = 5_000u64;
    let (tx, rx) = std::sync::mpsc::channel();
    for t in 0..threads {
        let (store, keys, tx) = (store.clone(), keys.clone(), tx.clone());
        std::thread::spawn(move || {
            let mut out = [0u32; 6];
            for n in 0..per_thread {
                let start = ((n * 7 + t) % 16) as usize;
                let obs: Vec<Observation> = (0..6)
                    .map(|j| {
                        let k = keys[(start + j * if n % 2 == 0 { 1 } else { 15 }) % 16];
                        Observation { key: k, window: w, op: Op::Count }
                    })
                    .collect();
                store.observe(1_000_000, &obs, true, &mut out);
            }
            tx.send(()).unwrap();
        });
    }
    for _ in 0..threads {
        rx.recv_timeout(std::time::Duration::from_secs(60)).expect("a thread is stuck: deadlock");
    }
    // Every key was counted as often as events named it.
    let mut expected = std::collections::HashMap::<u64, u32>::new();
    for t in 0..threads {
        for n in 0..per_thread {
            let start = ((n * 7 + t) % 16) as usize;
            for j in 0..6 {
                *expected.entry(keys[(start + j * if n % 2 == 0 { 1 } else { 15 }) % 16]).or_default() += 1;
            }
        }
    }
    for k in &keys {
        let mut out = [0u32];
        store.observe(1_000_000, &[Observation { key: *k, window: w, op: Op::Peek }], false, &mut out);
        assert_eq!(out[0], expected[k], "key {k:x}");
    }
}
