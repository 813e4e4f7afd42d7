//! The decision pipeline: parse → enrich → features → policy → decision.
//!
//! `Engine::decide` takes a parsed event (and its raw bytes, for the journal), derives its keys
//! and signals, updates and reads its windowed features in the state store, asks the policy, and
//! returns the decision, with idempotency by event id. With a journal, every fresh decision is
//! queued to the append-only log before `decide` returns, and callers answer only after the
//! journal says it is durable. The engine does no networking and never reads the wall clock for
//! windows: time is the event's, or the receive time the caller passes in.

pub mod enrich;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;
use sheepdog_intel::Intel;
use sheepdog_model::{
    parse_event, Decision, Event, EventType, FeatureDef, FeatureKind, KeyKind, NumField, Outcome, MIN_SAMPLES,
    SEQUENTIAL_GAP,
};
use sheepdog_policy::{Policy, PolicyInput, Signal, Verdict};
use sheepdog_state::{
    key_hash, member_hash, DistinctRead, Idempotent, Journal, JournalError, JournalOptions, MemoryStore,
    MemoryStoreOptions, Observation, Op, SampleRead, SeenRead, StateStore, StoredDecision, WindowSpec, ABSENT,
};

pub use enrich::{EnrichOptions, Keys};

/// Policies kept for rollback besides the current one.
pub const POLICY_HISTORY: usize = 10;

/// Engine options.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    pub enrich: EnrichOptions,
    /// Prefix of ids assigned to events sent without one.
    pub id_prefix: String,
    /// Take a snapshot once this many records were journaled since the last one (0: never
    /// automatically; `snapshot()` still works).
    pub snapshot_every: u64,
    /// Event times more than this far ahead of the receive time are clamped to it (the server
    /// sets it to the state's grace period: one event dated in the future must not push a key's
    /// window ahead and make everyone else's events "late"). `None`: trust event times (batch
    /// replays of recorded or simulated traffic).
    pub max_future_ms: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("state: {0}")]
    Store(#[from] sheepdog_state::StoreError),
    #[error("replaying record {seq}: {message}")]
    Replay { seq: u64, message: String },
}

/// A policy with its features resolved to state-store windows.
struct Loaded {
    policy: Arc<dyn Policy>,
    features: Vec<Compiled>,
}

struct Compiled {
    /// Storage id: features that read one stored window share it.
    id: u32,
    /// Event types that record.
    types: u8,
    /// Event types that only read.
    read_types: u8,
    key: KeyKind,
    member: Option<KeyKind>,
    read: Read,
    /// The first feature of a shared window records; the others only read.
    records: bool,
    window: WindowSpec,
}

#[derive(Clone, Copy)]
enum Read {
    Count,
    Distinct(DistinctRead),
    Sample(NumField, SampleRead),
    Seen(SeenRead),
}

fn compile_all(defs: &[FeatureDef]) -> Vec<Compiled> {
    let mut out: Vec<Compiled> = Vec::with_capacity(defs.len());
    for def in defs {
        let set = |k: KeyKind, read| (Some(k), Read::Distinct(read), format!("set:{k:?}"));
        let sample = |f: NumField, read| (None, Read::Sample(f, read), format!("sample:{f:?}"));
        let min = MIN_SAMPLES as u8;
        let (member, read, class) = match def.kind {
            FeatureKind::Count => (None, Read::Count, "count".to_string()),
            FeatureKind::Distinct(k) => set(k, DistinctRead::Count),
            FeatureKind::SequentialRun(k) => set(k, DistinctRead::SequentialRun { gap: SEQUENTIAL_GAP as u32 }),
            FeatureKind::MemberAge(k) => set(k, DistinctRead::MemberAge),
            FeatureKind::OthersIdle(k) => set(k, DistinctRead::OthersIdle),
            FeatureKind::Age => (None, Read::Seen(SeenRead::Age), "seen".to_string()),
            FeatureKind::Idle => (None, Read::Seen(SeenRead::Idle), "seen".to_string()),
            FeatureKind::Median(f) => sample(f, SampleRead::Median { min }),
            FeatureKind::Spread(f) => sample(f, SampleRead::Spread { min }),
        };
        // The id covers what is stored, not how it is read: a changed window or key starts a
        // fresh series, unchanged ones keep their state across policy reloads, and features
        // reading one stored window share it.
        let text = format!("{class}|{:?}|{}|{}|{}", def.key, def.event_types, def.window_ms, def.buckets);
        let id = xxhash_rust::xxh3::xxh3_64(text.as_bytes()) as u32;
        let records = !out.iter().any(|c| c.id == id);
        out.push(Compiled {
            id,
            types: def.event_types,
            read_types: def.read_types & !def.event_types,
            key: def.key,
            member,
            read,
            records,
            window: WindowSpec { bucket_ms: def.bucket_ms(), buckets: def.buckets.max(1) },
        });
    }
    out
}

/// The member value of a set: numbers stay numbers (runs need them), the rest is hashed.
fn member_of(kind: KeyKind, value: &[u8]) -> u64 {
    match kind {
        KeyKind::PhoneSuffix if !value.is_empty() && value.len() <= 18 && value.iter().all(u8::is_ascii_digit) => {
            value.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'))
        }
        _ => member_hash(value),
    }
}

fn field_of(event: &Event, f: NumField) -> Option<u32> {
    let s = event.session.as_ref()?;
    match f {
        NumField::FormFillMs => s.form_fill_ms,
        NumField::SmsCodeEntryMs => s.sms_code_entry_ms,
        NumField::CaptchaSolveMs => s.captcha_solve_ms,
    }
}

/// Counters of decisions by event type and outcome, and of labels.
#[derive(Default)]
pub struct EngineStats {
    decisions: [[AtomicU64; 4]; 7],
    repeats: AtomicU64,
}

impl EngineStats {
    pub fn decisions(&self, t: EventType, o: Outcome) -> u64 {
        self.decisions[t.index()][o.index()].load(Ordering::Relaxed)
    }
    pub fn repeats(&self) -> u64 {
        self.repeats.load(Ordering::Relaxed)
    }
}

/// The answer to one event.
#[derive(Debug, Clone)]
pub struct Output {
    pub decision: Arc<Decision>,
    /// The decision as JSON, ready to write (with `features` when explained).
    pub json: StoredDecision,
    /// True when the id was seen before and this is the first decision again.
    pub repeat: bool,
    /// Journal sequence number to wait for before answering.
    pub durable_seq: Option<u64>,
}

/// Scratch buffers reused across events on one thread.
#[derive(Default)]
pub struct Scratch {
    keys: Keys,
    signals: Vec<Signal>,
    observations: Vec<Observation>,
    slots: Vec<usize>,
    values: Vec<u32>,
    features: Vec<Option<f64>>,
}

/// The decision engine. Shared as `Arc<Engine>` by the server and the CLI.
pub struct Engine {
    options: EngineOptions,
    store: Arc<dyn StateStore>,
    loaded: RwLock<Arc<Loaded>>,
    /// The policies loaded before the current one, newest first (at most `POLICY_HISTORY`).
    history: parking_lot::Mutex<std::collections::VecDeque<Arc<dyn Policy>>>,
    intel: RwLock<Arc<Intel>>,
    text: RwLock<Arc<sheepdog_text::Matcher>>,
    journal: Option<Journal>,
    /// Events take it shared; a snapshot takes it exclusively so that the state it exports
    /// matches a journal position exactly.
    gate: RwLock<()>,
    /// With a journal, decisions are made one at a time so that journal order is state order:
    /// replay rebuilds exactly the live state, and an answer never depends on an event whose
    /// record could come later.
    order: parking_lot::Mutex<()>,
    /// One snapshot at a time (periodic and shutdown snapshots may meet).
    snapshotting: parking_lot::Mutex<()>,
    next_id: AtomicU64,
    last_snapshot: AtomicU64,
    stats: EngineStats,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
    static JSON_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Engine {
    /// An engine on the embedded in-memory store, without durability.
    pub fn in_memory(policy: Arc<dyn Policy>, store: MemoryStoreOptions, options: EngineOptions) -> Engine {
        Engine::with_store(policy, Arc::new(MemoryStore::new(store)), None, options)
    }

    /// An engine on any store, with an optional journal.
    pub fn with_store(
        policy: Arc<dyn Policy>,
        store: Arc<dyn StateStore>,
        journal: Option<Journal>,
        options: EngineOptions,
    ) -> Engine {
        Engine {
            options,
            store,
            loaded: RwLock::new(Arc::new(Loaded { features: compile_all(policy.features()), policy })),
            history: parking_lot::Mutex::new(std::collections::VecDeque::new()),
            intel: RwLock::new(Arc::new(Intel::default())),
            text: RwLock::new(sheepdog_text::Matcher::builtin()),
            journal,
            gate: RwLock::new(()),
            order: parking_lot::Mutex::new(()),
            snapshotting: parking_lot::Mutex::new(()),
            next_id: AtomicU64::new(0),
            last_snapshot: AtomicU64::new(0),
            stats: EngineStats::default(),
        }
    }

    /// An engine whose state lives in `dir`: loads the newest snapshot, replays the journal
    /// after it, and journals every new decision.
    pub fn open_durable(
        policy: Arc<dyn Policy>,
        store: MemoryStoreOptions,
        dir: &Path,
        journal_options: JournalOptions,
        options: EngineOptions,
    ) -> Result<Engine, EngineError> {
        let (journal, recovery) = Journal::open(dir, journal_options)?;
        let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new(store));
        let mut covered = 0;
        if let Some((seq, payload)) = &recovery.snapshot {
            store.import(payload)?;
            covered = *seq;
        }
        let engine = Engine::with_store(policy, store, Some(journal), options);
        engine.last_snapshot.store(covered, Ordering::Relaxed);
        let n = recovery.for_each(&mut |r| engine.replay(&r))?;
        tracing::info!(dir = %dir.display(), snapshot_covers = covered, replayed = n, "state recovered");
        Ok(engine)
    }

    fn replay(&self, r: &sheepdog_state::ReplayRecord) -> Result<(), String> {
        let event = parse_event(r.event.get().as_bytes()).map_err(|e| e.message)?;
        let decision: Decision = serde_json::from_str(r.decision.get()).map_err(|e| e.to_string())?;
        let json: StoredDecision = Arc::from(r.decision.get().as_bytes());
        let ts = self.event_time(&event, r.received_ms);
        let loaded = self.loaded.read().clone();
        SCRATCH.with(|s| {
            let s = &mut *s.borrow_mut();
            let intel = self.intel.read().clone();
            enrich::enrich(&event, &self.options.enrich, &intel, ts, &mut s.keys, &mut s.signals);
            if event.event_type != EventType::Label {
                self.features(&loaded, &event, ts, true, s);
            }
        });
        self.store.remember(&decision.event_id, ts, json);
        Ok(())
    }

    /// The time an event counts at: its timestamp (or the receive time), clamped to
    /// `max_future_ms` ahead of the receive time. Live decisions and replay use the same rule.
    fn event_time(&self, event: &Event, received_ms: i64) -> i64 {
        let ts = event.timestamp.map_or(received_ms, |t| t.0);
        match self.options.max_future_ms {
            Some(max) => ts.min(received_ms.saturating_add(max)),
            None => ts,
        }
    }

    pub fn policy(&self) -> Arc<dyn Policy> {
        self.loaded.read().policy.clone()
    }

    /// Swaps the policy atomically: an event in flight sees the old one or the new one whole.
    /// The one it replaces joins the history (the last `POLICY_HISTORY` are kept).
    pub fn set_policy(&self, policy: Arc<dyn Policy>) {
        let loaded = Arc::new(Loaded { features: compile_all(policy.features()), policy });
        let old = std::mem::replace(&mut *self.loaded.write(), loaded);
        let mut h = self.history.lock();
        h.retain(|p| p.version() != old.policy.version());
        h.push_front(old.policy.clone());
        h.truncate(POLICY_HISTORY);
    }

    /// Versions of the policies loaded before the current one, newest first.
    pub fn policy_history(&self) -> Vec<Arc<str>> {
        self.history.lock().iter().map(|p| p.version().clone()).collect()
    }

    /// Makes a policy of the history current again (a rollback); false when it is not kept.
    pub fn activate_policy(&self, version: &str) -> bool {
        let found = self.history.lock().iter().find(|p| &**p.version() == version).cloned();
        match found {
            Some(p) => {
                self.set_policy(p);
                true
            }
            None => false,
        }
    }

    /// The intelligence in use.
    pub fn intel(&self) -> Arc<Intel> {
        self.intel.read().clone()
    }

    /// Swaps the intelligence atomically (reload): an event sees the old or the new set whole.
    /// Keys do not depend on it, so state and journal replay are unaffected.
    pub fn set_intel(&self, intel: Arc<Intel>) {
        *self.intel.write() = intel;
    }

    /// Swaps the content-audit matcher (a custom lexicon, or a rebuilt one).
    pub fn set_text_matcher(&self, matcher: Arc<sheepdog_text::Matcher>) {
        *self.text.write() = matcher;
    }

    pub fn store(&self) -> &Arc<dyn StateStore> {
        &self.store
    }

    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    pub fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    /// Decides one event. `raw` is the event's JSON as received (journaled as is);
    /// `received_ms` is the receive time, used when the event has no timestamp.
    pub fn decide(&self, event: &Event, raw: &[u8], received_ms: i64, explain: bool) -> Result<Output, EngineError> {
        let started = Instant::now();
        let ts = self.event_time(event, received_ms);
        let _gate = self.gate.read();
        let _order = self.journal.as_ref().map(|_| self.order.lock());
        let loaded = self.loaded.read().clone();
        let mut failure: Option<EngineError> = None;
        let mut durable_seq = None;
        let mut explained: Option<BTreeMap<String, f64>> = None;
        let mut fresh: Option<Arc<Decision>> = None;
        // Decides, serialises once (the bytes are remembered, journaled and answered), journals.
        let mut decide_fresh = |id: String| -> StoredDecision {
            let (mut decision, features_json) = SCRATCH.with(|s| {
                let s = &mut *s.borrow_mut();
                let d = self.score(&loaded, event, ts, id, s, explain.then_some(&mut explained));
                // The decision log keeps the feature values each decision read.
                let f = self.journal.as_ref().map(|_| features_json(loaded.policy.features(), &s.features));
                (d, f)
            });
            decision.latency_us = started.elapsed().as_micros() as u64;
            // Serialised into a reused buffer, then copied once into the shared decision.
            let json: StoredDecision = JSON_BUF.with(|buf| {
                let buf = &mut *buf.borrow_mut();
                buf.clear();
                decision.write_json(buf);
                Arc::from(&buf[..])
            });
            if let Some(j) = &self.journal {
                match j.append_with_features(received_ms, raw, &json, features_json.as_deref()) {
                    Ok(seq) => durable_seq = Some(seq),
                    Err(e) => failure = Some(e.into()),
                }
            }
            fresh = Some(Arc::new(decision));
            json
        };
        let (json, repeat) = match &event.id {
            Some(id) => match self.store.idempotent(id, ts, &mut || decide_fresh(id.to_string())) {
                Idempotent::Fresh(d) => (d, false),
                Idempotent::Repeat(d) => (d, true),
            },
            None => {
                let n = self.next_id.fetch_add(1, Ordering::Relaxed);
                (decide_fresh(format!("{}{n}", self.options.id_prefix)), false)
            }
        };
        if let Some(e) = failure {
            return Err(e);
        }
        // A repeat answers with the first decision, which must be on disk before it is
        // answered again: its record was queued before it was remembered, so everything queued
        // so far covers it.
        if repeat {
            if let Some(j) = &self.journal {
                durable_seq = j.queued().checked_sub(1);
            }
        }
        let decision = match fresh {
            Some(d) => d,
            None => Arc::new(
                serde_json::from_slice::<Decision>(&json)
                    .map_err(|e| EngineError::Replay { seq: 0, message: e.to_string() })?,
            ),
        };
        if repeat {
            self.stats.repeats.fetch_add(1, Ordering::Relaxed);
        } else {
            self.stats.decisions[event.event_type.index()][decision.decision.index()].fetch_add(1, Ordering::Relaxed);
        }
        let (decision, json) = match explained {
            Some(map) => {
                let mut d = (*decision).clone();
                d.features = Some(map);
                let mut buf = Vec::with_capacity(1024);
                d.write_json(&mut buf);
                let json: StoredDecision = Arc::from(buf);
                (Arc::new(d), json)
            }
            None => (decision, json),
        };
        Ok(Output { decision, json, repeat, durable_seq })
    }

    /// Parses and decides one JSON event (convenience for tests and the CLI).
    pub fn decide_json(&self, raw: &[u8], received_ms: i64) -> Result<Output, DecideJsonError> {
        let event = parse_event(raw).map_err(DecideJsonError::Input)?;
        self.decide(&event, raw, received_ms, false).map_err(DecideJsonError::Engine)
    }

    /// Enrichment, and with `features` the windowed features too, of one event: no policy, no
    /// idempotency, no decision (the benchmarks' way to cost the stages). Returns how many
    /// features have a value.
    #[doc(hidden)]
    pub fn run_stages(&self, event: &Event, ts: i64, features: bool) -> usize {
        self.stages(event, ts, features, |s| s.features.iter().flatten().count() + s.signals.len())
    }

    /// Enriches an event and updates its features, returning what the policy would be given
    /// (signals and feature values): the benchmarks' way to cost the policy stage alone.
    #[doc(hidden)]
    pub fn policy_input(&self, event: &Event, ts: i64) -> (Vec<Signal>, Vec<Option<f64>>) {
        self.stages(event, ts, true, |s| (s.signals.clone(), s.features.clone()))
    }

    fn stages<R>(&self, event: &Event, ts: i64, features: bool, then: impl FnOnce(&Scratch) -> R) -> R {
        let loaded = self.loaded.read().clone();
        let intel = self.intel.read().clone();
        let text = self.text.read().clone();
        SCRATCH.with(|s| {
            let s = &mut *s.borrow_mut();
            enrich::enrich_with_text(event, &self.options.enrich, &intel, Some(&text), ts, &mut s.keys, &mut s.signals);
            if features {
                self.features(&loaded, event, ts, true, s);
            }
            then(s)
        })
    }

    fn features(&self, loaded: &Loaded, event: &Event, ts: i64, update: bool, s: &mut Scratch) {
        s.observations.clear();
        s.slots.clear();
        s.features.clear();
        s.features.resize(loaded.features.len(), None);
        let bit = event.event_type.bit();
        let mut last: Option<(u32, KeyKind, u64)> = None;
        for (i, f) in loaded.features.iter().enumerate() {
            let own = f.types & bit != 0;
            if !own && f.read_types & bit == 0 {
                continue;
            }
            let Some(key) = s.keys.get(f.key) else {
                continue;
            };
            // Only the event types a window belongs to record in it, once per event.
            let record = own && f.records;
            let op = match (f.read, f.member) {
                (Read::Count, _) if record => Op::Count,
                (Read::Count, _) => Op::Peek,
                (Read::Distinct(read), Some(m)) => match s.keys.get(m) {
                    Some(v) => Op::Distinct { member: member_of(m, v), read, record },
                    // A count or a run reads without this event's member.
                    None if matches!(read, DistinctRead::Count | DistinctRead::SequentialRun { .. }) => {
                        Op::Distinct { member: 0, read, record: false }
                    }
                    None => continue,
                },
                (Read::Distinct(_), None) => continue,
                (Read::Sample(field, read), _) => Op::Sample { value: field_of(event, field), read, record },
                (Read::Seen(read), _) => Op::Seen { read, record },
            };
            // Features reading one stored window are adjacent: hash its key once.
            let hash = match last {
                Some((id, kind, h)) if id == f.id && kind == f.key => h,
                _ => key_hash(f.id, key),
            };
            last = Some((f.id, f.key, hash));
            s.observations.push(Observation { key: hash, window: f.window, op });
            s.slots.push(i);
        }
        s.values.clear();
        s.values.resize(s.observations.len(), 0);
        self.store.observe(ts, &s.observations, update, &mut s.values);
        for (slot, v) in s.slots.iter().zip(&s.values) {
            s.features[*slot] = (*v != ABSENT).then_some(f64::from(*v));
        }
    }

    fn score(
        &self,
        loaded: &Loaded,
        event: &Event,
        ts: i64,
        event_id: String,
        s: &mut Scratch,
        explain: Option<&mut Option<BTreeMap<String, f64>>>,
    ) -> Decision {
        let mut verdict = Verdict::default();
        // Nothing of the previous event on this thread may leak into this one (the decision log
        // writes these features).
        s.features.clear();
        s.signals.clear();
        if event.event_type != EventType::Label {
            let intel = self.intel.read().clone();
            let text = self.text.read().clone();
            enrich::enrich_with_text(event, &self.options.enrich, &intel, Some(&text), ts, &mut s.keys, &mut s.signals);
            self.features(loaded, event, ts, true, s);
            let input = PolicyInput { event, signals: &s.signals, features: &s.features };
            loaded.policy.evaluate(&input, &mut verdict);
            if let Some(out) = explain {
                let defs = loaded.policy.features();
                *out = Some(defs.iter().zip(&s.features).filter_map(|(d, v)| v.map(|v| (d.name.clone(), v))).collect());
            }
        }
        Decision {
            event_id,
            decision: verdict.outcome,
            challenge: verdict.challenge,
            score: verdict.score,
            reasons: verdict.reasons,
            rules: verdict.rules,
            cluster: None,
            policy_version: loaded.policy.version().clone(),
            latency_us: 0,
            shadow_rules: verdict.shadow_rules,
            features: None,
        }
    }

    /// Waits until a decision's journal record is on disk (no-op without a journal).
    pub fn wait_durable(&self, seq: Option<u64>) -> Result<(), EngineError> {
        match (seq, &self.journal) {
            (Some(seq), Some(j)) => Ok(j.wait_durable(seq)?),
            _ => Ok(()),
        }
    }

    pub async fn wait_durable_async(&self, seq: Option<u64>) -> Result<(), EngineError> {
        match (seq, &self.journal) {
            (Some(seq), Some(j)) => Ok(j.wait_durable_async(seq).await?),
            _ => Ok(()),
        }
    }

    /// Writes a snapshot of the whole state at the current journal position. Events pause
    /// while the state is exported.
    pub fn snapshot(&self) -> Result<(), EngineError> {
        let Some(j) = &self.journal else {
            return Ok(());
        };
        let _one = self.snapshotting.lock();
        let started = Instant::now();
        let (covered, capture) = {
            let _g = self.gate.write();
            (j.queued(), self.store.capture()?)
        };
        let paused = started.elapsed();
        let payload = capture.encode()?;
        // The snapshot may only cover records that are durable themselves.
        if covered > 0 {
            j.wait_durable(covered - 1)?;
        }
        j.write_snapshot(covered, &payload)?;
        self.last_snapshot.store(covered, Ordering::Relaxed);
        tracing::info!(
            covered,
            bytes = payload.len(),
            paused_ms = paused.as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "snapshot written"
        );
        Ok(())
    }

    /// Takes a snapshot when `snapshot_every` records were journaled since the last one.
    pub fn maybe_snapshot(&self) -> Result<bool, EngineError> {
        let (Some(j), every) = (&self.journal, self.options.snapshot_every) else {
            return Ok(false);
        };
        if every == 0 || j.queued().saturating_sub(self.last_snapshot.load(Ordering::Relaxed)) < every {
            return Ok(false);
        }
        self.snapshot()?;
        Ok(true)
    }

    /// Flushes the journal, writes a final snapshot and closes the journal.
    pub fn shutdown(&self) -> Result<(), EngineError> {
        if let Some(j) = &self.journal {
            j.flush()?;
            if j.queued() > self.last_snapshot.load(Ordering::Relaxed) {
                self.snapshot()?;
            }
            j.close()?;
        }
        Ok(())
    }
}

/// Error of `decide_json`.
#[derive(Debug, thiserror::Error)]
pub enum DecideJsonError {
    #[error("{0}")]
    Input(sheepdog_model::EventError),
    #[error(transparent)]
    Engine(EngineError),
}

/// The features that have a value, as a JSON object `{"name": value, ...}` (for the decision log).
fn features_json(defs: &[FeatureDef], values: &[Option<f64>]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(32 * values.len() + 2);
    out.push(b'{');
    for (d, v) in defs.iter().zip(values) {
        let Some(v) = v else { continue };
        if out.len() > 1 {
            out.push(b',');
        }
        // Names are identifiers (checked when a policy loads); values are finite.
        let _ = serde_json::to_writer(&mut out, &d.name);
        out.push(b':');
        if v.fract() == 0.0 && v.abs() < 1e15 {
            let _ = write!(out, "{}", *v as i64);
        } else {
            let _ = serde_json::to_writer(&mut out, v);
        }
    }
    out.push(b'}');
    out
}

/// Reason codes a policy may emit, re-exported for callers that list them.
pub fn reason_codes() -> impl Iterator<Item = Cow<'static, str>> {
    sheepdog_model::reason::REGISTRY.iter().map(|d| Cow::Borrowed(d.code))
}
