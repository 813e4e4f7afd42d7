//! Policy files with rules: the built-in policy's settings plus declared features, lists and
//! rules whose conditions are CEL-syntax expressions (`sheepdog-expr`), compiled once.
//!
//! ```toml
//! version = 1
//! label = "night-shift"
//! [thresholds]                      # as in a settings file; so are [weights] and [rules.<id>]
//! challenge = 30
//! review = 60
//! deny = 80
//!
//! [lists]
//! vip_campaigns = ["spring-vip"]
//!
//! [[feature]]                       # more windowed features, visible as features.<name>
//! name = "regs_per_fp_6h"
//! kind = "count"                    # count | distinct | sequential_run | member_age |
//! key = "device_fingerprint"        # others_idle | age | idle | median | spread
//! events = ["registration"]
//! window = "6h"                     # s, m, h, d
//! buckets = 12
//!
//! [[rule]]
//! id = "iot_farm"
//! when = 'phone.segment == "iot" && features.regs_per_fp_6h >= 3'
//! score = 40                        # adds to the score…
//! action = "challenge:carrier_verify"   # …and/or decides: allow | deny | review | challenge:<kind>
//! reason = { code = "custom.iot_farm", message = "{features.regs_per_fp_6h} IoT registrations on one device" }
//! mode = "live"                     # or "shadow": evaluated, recorded in shadow_rules, never acting
//! ```
//!
//! Evaluation: the built-in policy decides first (its signals, detectors and score); then each
//! live rule that fires adds its score and reason. The outcome is the score's (thresholds)
//! unless a firing rule names an action; among actions, precedence is allow, then deny, then
//! challenge, then review. Shadow rules only land in `shadow_rules`.
//!
//! Names a rule can read: `event.type`, `event.account_id`, `event.phone`, `event.region`,
//! `event.email`, `event.user_agent`, `event.identity_hash`, `event.text`, `event.campaign_id`,
//! `device.id|fingerprint|model|os` (strings), `device.emulator|rooted|hooked|sim_present|
//! sim_phone_match` (bools), `session.form_fill_ms|sms_code_entry_ms|captcha_solve_ms` (ints),
//! `session.paste_used`, `profile.nickname|bio|avatar_hash`, `changed` and `signals` (lists of
//! strings: the changed attributes; the reason codes found at enrich time, e.g.
//! `"phone.iot" in signals`), `phone.segment` (the segment class behind `phone.*` signals:
//! `iot`, `data_only`, `mvno`, `satellite`, …), `features.<name>` (doubles, built-in and
//! declared), `lists.<name>` (lists of strings).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use sheepdog_expr::{compile, Program, Schema, Type, Value};
use sheepdog_model::{Challenge, EventType, FeatureDef, FeatureKind, KeyKind, NumField, Outcome, Reason};

use crate::{BuiltinPolicy, Policy, PolicyFileError, PolicyInput, Verdict};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeatureSpec {
    name: String,
    kind: String,
    key: String,
    /// Member key (distinct family) or field (median, spread).
    of: Option<String>,
    events: Vec<String>,
    #[serde(default)]
    read_on: Vec<String>,
    window: String,
    buckets: Option<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonSpec {
    code: String,
    message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    when: String,
    score: Option<i32>,
    action: Option<String>,
    reason: Option<ReasonSpec>,
    mode: Option<String>,
}

#[derive(Deserialize)]
struct Extra {
    #[serde(default)]
    feature: Vec<FeatureSpec>,
    #[serde(default)]
    rule: Vec<RuleSpec>,
    #[serde(default)]
    lists: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    // Precedence order: the smallest wins.
    Allow,
    Deny,
    Challenge(Challenge),
    Review,
}

impl Action {
    /// Precedence: allow, then deny, then challenge, then review.
    fn rank(self) -> u8 {
        match self {
            Action::Allow => 0,
            Action::Deny => 1,
            Action::Challenge(_) => 2,
            Action::Review => 3,
        }
    }
}

enum Piece {
    Text(String),
    Slot(usize),
}

struct Rule {
    id: Cow<'static, str>,
    program: Program,
    score: i32,
    action: Option<Action>,
    code: Cow<'static, str>,
    message: Vec<Piece>,
    shadow: bool,
}

/// A policy file with rules (see the module docs).
pub struct FilePolicy {
    version: Arc<str>,
    builtin: BuiltinPolicy,
    features: Vec<FeatureDef>,
    schema: Schema,
    slots: Slots,
    lists: Vec<(usize, Vec<String>)>,
    rules: Vec<Rule>,
    /// Slots any rule or message reads (others are left absent).
    used: Vec<bool>,
}

/// Fixed slots of the schema.
struct Slots {
    fixed: Vec<(Field, usize)>,
    features: usize,
    changed: usize,
    signals: usize,
    segment: usize,
}

#[derive(Clone, Copy)]
enum Field {
    Type,
    Account,
    Phone,
    Region,
    Email,
    UserAgent,
    Identity,
    Text,
    Campaign,
    DeviceId,
    Fingerprint,
    Model,
    Os,
    Emulator,
    Rooted,
    Hooked,
    SimPresent,
    SimMatch,
    FormFill,
    CodeEntry,
    Captcha,
    Paste,
    Nickname,
    Bio,
    Avatar,
}

const FIELDS: &[(&str, Field, Type)] = &[
    ("event.type", Field::Type, Type::String),
    ("event.account_id", Field::Account, Type::String),
    ("event.phone", Field::Phone, Type::String),
    ("event.region", Field::Region, Type::String),
    ("event.email", Field::Email, Type::String),
    ("event.user_agent", Field::UserAgent, Type::String),
    ("event.identity_hash", Field::Identity, Type::String),
    ("event.text", Field::Text, Type::String),
    ("event.campaign_id", Field::Campaign, Type::String),
    ("device.id", Field::DeviceId, Type::String),
    ("device.fingerprint", Field::Fingerprint, Type::String),
    ("device.model", Field::Model, Type::String),
    ("device.os", Field::Os, Type::String),
    ("device.emulator", Field::Emulator, Type::Bool),
    ("device.rooted", Field::Rooted, Type::Bool),
    ("device.hooked", Field::Hooked, Type::Bool),
    ("device.sim_present", Field::SimPresent, Type::Bool),
    ("device.sim_phone_match", Field::SimMatch, Type::Bool),
    ("session.form_fill_ms", Field::FormFill, Type::Int),
    ("session.sms_code_entry_ms", Field::CodeEntry, Type::Int),
    ("session.captcha_solve_ms", Field::Captcha, Type::Int),
    ("session.paste_used", Field::Paste, Type::Bool),
    ("profile.nickname", Field::Nickname, Type::String),
    ("profile.bio", Field::Bio, Type::String),
    ("profile.avatar_hash", Field::Avatar, Type::String),
];

fn err(message: String) -> PolicyFileError {
    PolicyFileError { message }
}

fn parse_window(s: &str) -> Option<u64> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = n.parse().ok()?;
    let ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(ms).filter(|w| *w > 0 && *w <= 400 * 86_400_000)
}

fn event_type(s: &str) -> Option<EventType> {
    EventType::ALL.into_iter().find(|t| t.as_str() == s)
}

fn feature_def(i: usize, f: FeatureSpec) -> Result<FeatureDef, PolicyFileError> {
    let at = |field: &str| format!("feature[{i}].{field}");
    let key = KeyKind::parse(&f.key).ok_or_else(|| err(format!("{}: unknown key {:?}", at("key"), f.key)))?;
    let member = || -> Result<KeyKind, PolicyFileError> {
        let of = f.of.as_deref().ok_or_else(|| err(format!("{}: this kind needs `of` (a key)", at("of"))))?;
        KeyKind::parse(of).ok_or_else(|| err(format!("{}: unknown key {of:?}", at("of"))))
    };
    let field = || -> Result<NumField, PolicyFileError> {
        match f.of.as_deref() {
            Some("form_fill_ms") => Ok(NumField::FormFillMs),
            Some("sms_code_entry_ms") => Ok(NumField::SmsCodeEntryMs),
            Some("captcha_solve_ms") => Ok(NumField::CaptchaSolveMs),
            other => Err(err(format!(
                "{}: {other:?} is not a field; known: form_fill_ms, sms_code_entry_ms, captcha_solve_ms",
                at("of")
            ))),
        }
    };
    let kind = match f.kind.as_str() {
        "count" => FeatureKind::Count,
        "distinct" => FeatureKind::Distinct(member()?),
        "sequential_run" => FeatureKind::SequentialRun(member()?),
        "member_age" => FeatureKind::MemberAge(member()?),
        "others_idle" => FeatureKind::OthersIdle(member()?),
        "age" => FeatureKind::Age,
        "idle" => FeatureKind::Idle,
        "median" => FeatureKind::Median(field()?),
        "spread" => FeatureKind::Spread(field()?),
        other => return Err(err(format!("{}: unknown kind {other:?}", at("kind")))),
    };
    let types = |list: &[String], field: &str| -> Result<u8, PolicyFileError> {
        list.iter().try_fold(0u8, |m, t| {
            event_type(t).map(|t| m | t.bit()).ok_or_else(|| err(format!("{}: unknown event type {t:?}", at(field))))
        })
    };
    let event_types = types(&f.events, "events")?;
    if event_types == 0 {
        return Err(err(format!("{}: name at least one event type", at("events"))));
    }
    let window_ms = parse_window(&f.window)
        .ok_or_else(|| err(format!("{}: {:?} is not a window like 30s, 10m, 6h or 7d", at("window"), f.window)))?;
    let buckets = f.buckets.unwrap_or(12).clamp(1, 2048);
    if f.name.is_empty() || !f.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(err(format!("{}: use letters, digits and _", at("name"))));
    }
    Ok(FeatureDef {
        name: f.name,
        kind,
        key,
        event_types,
        read_types: types(&f.read_on, "read_on")?,
        window_ms,
        buckets,
    })
}

fn action(s: &str) -> Option<Action> {
    Some(match s {
        "allow" => Action::Allow,
        "deny" => Action::Deny,
        "review" => Action::Review,
        "challenge" | "challenge:captcha" => Action::Challenge(Challenge::Captcha),
        "challenge:sms_otp" => Action::Challenge(Challenge::SmsOtp),
        "challenge:carrier_verify" => Action::Challenge(Challenge::CarrierVerify),
        "challenge:voice_call" => Action::Challenge(Challenge::VoiceCall),
        "challenge:id_verify" => Action::Challenge(Challenge::IdVerify),
        _ => return None,
    })
}

impl FilePolicy {
    /// Whether a policy file's text declares rules, features or lists (else it is a plain
    /// settings file for the built-in policy).
    pub fn has_rules(text: &str) -> bool {
        toml::from_str::<toml::Table>(text)
            .is_ok_and(|t| t.contains_key("rule") || t.contains_key("feature") || t.contains_key("lists"))
    }

    /// Loads a policy file; every expression error is reported, each as
    /// `rule[i].when line:column: message`.
    pub fn from_toml(text: &str) -> Result<FilePolicy, PolicyFileError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let mut extra = toml::Table::new();
        for k in ["feature", "rule", "lists"] {
            if let Some(v) = table.remove(k) {
                extra.insert(k.to_string(), v);
            }
        }
        let base = toml::to_string(&table).map_err(|e| err(e.to_string()))?;
        let builtin = BuiltinPolicy::from_toml(&base)?;
        let extra: Extra = serde_path_to_error::deserialize(extra).map_err(|e| {
            let path = e.path().to_string();
            err(format!("{path}: {}", e.into_inner().message()))
        })?;

        let mut features = builtin.features().to_vec();
        for (i, f) in extra.feature.into_iter().enumerate() {
            let def = feature_def(i, f)?;
            if features.iter().any(|x| x.name == def.name) {
                return Err(err(format!("feature[{i}].name: {:?} is already defined", def.name)));
            }
            features.push(def);
        }

        let mut schema = Schema::new();
        let fixed = FIELDS.iter().map(|(name, field, ty)| (*field, schema.declare(name, *ty))).collect();
        let changed = schema.declare("changed", Type::StringList);
        let signals = schema.declare("signals", Type::StringList);
        let segment = schema.declare("phone.segment", Type::String);
        let first_feature = schema.len();
        for f in &features {
            schema.declare(&format!("features.{}", f.name), Type::Double);
        }
        let mut lists = Vec::new();
        for (name, values) in extra.lists {
            lists.push((schema.declare(&format!("lists.{name}"), Type::StringList), values));
        }
        let slots = Slots { fixed, features: first_feature, changed, signals, segment };

        let mut rules = Vec::new();
        let mut problems: Vec<String> = Vec::new();
        let mut used = vec![false; schema.len()];
        for (i, r) in extra.rule.into_iter().enumerate() {
            if rules.iter().any(|x: &Rule| x.id == r.id) {
                problems.push(format!("rule[{i}].id: {:?} is used twice", r.id));
            }
            let act = match r.action.as_deref().map(|a| (a, action(a))) {
                None => None,
                Some((_, Some(a))) => Some(a),
                Some((a, None)) => {
                    problems.push(format!(
                        "rule[{i}].action: unknown action {a:?}; allow, deny, review, challenge:<captcha|sms_otp|carrier_verify|voice_call|id_verify>"
                    ));
                    None
                }
            };
            let shadow = match r.mode.as_deref() {
                None | Some("live") => false,
                Some("shadow") => true,
                Some(m) => {
                    problems.push(format!("rule[{i}].mode: {m:?} is neither live nor shadow"));
                    false
                }
            };
            if r.score.is_none() && act.is_none() {
                problems.push(format!("rule[{i}]: a rule needs a score or an action"));
            }
            let (code, message) = match r.reason {
                Some(s) => (s.code, s.message),
                None => (format!("rule.{}", r.id), format!("rule {} fired", r.id)),
            };
            let mut pieces = Vec::new();
            let mut rest = message.as_str();
            while let Some(open) = rest.find('{') {
                let Some(close) = rest[open..].find('}') else { break };
                let name = &rest[open + 1..open + close];
                match schema.slot(name) {
                    Some((slot, _)) => {
                        pieces.push(Piece::Text(rest[..open].to_string()));
                        pieces.push(Piece::Slot(slot));
                        used[slot] = true;
                    }
                    None => {
                        problems.push(format!("rule[{i}].reason.message: unknown name {{{name}}}"));
                        pieces.push(Piece::Text(rest[..open + close + 1].to_string()));
                    }
                }
                rest = &rest[open + close + 1..];
            }
            pieces.push(Piece::Text(rest.to_string()));
            match compile(&r.when, &schema, Type::Bool) {
                Ok(program) => {
                    for &s in program.slots() {
                        used[s] = true;
                    }
                    rules.push(Rule {
                        id: Cow::Owned(r.id),
                        program,
                        score: r.score.unwrap_or(0),
                        action: act,
                        code: Cow::Owned(code),
                        message: pieces,
                        shadow,
                    });
                }
                Err(diags) => problems.extend(diags.iter().map(|d| format!("rule[{i}].when {d}"))),
            }
        }
        if !problems.is_empty() {
            return Err(err(problems.join("\n")));
        }
        let label = table.get("label").and_then(|l| l.as_str()).unwrap_or("custom").to_string();
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(text.as_bytes());
        h.update(builtin.version().as_bytes());
        let version: Arc<str> = format!("{label}-{:08x}", h.digest() as u32).into();
        Ok(FilePolicy { version, builtin, features, schema, slots, lists, rules, used })
    }

    /// The compiled rules' ids, live and shadow.
    pub fn rule_ids(&self) -> impl Iterator<Item = (&str, bool)> {
        self.rules.iter().map(|r| (&*r.id, r.shadow))
    }

    /// Lints for `policy check`: rules whose condition reads nothing (they always or never fire)
    /// and rules an earlier always-firing `allow` or `deny` makes pointless.
    pub fn lints(&self) -> Vec<String> {
        let empty: [Value; 0] = [];
        let mut out = Vec::new();
        let mut decided_by: Option<&str> = None;
        for r in &self.rules {
            if let Some(by) = decided_by {
                if !r.shadow {
                    out.push(format!("rule {} can never change an outcome: rule {by} always decides first", r.id));
                }
            }
            if r.program.slots().is_empty() {
                match r.program.eval_bool(&empty) {
                    Some(true) => {
                        out.push(format!("rule {} always fires (its condition reads nothing)", r.id));
                        if !r.shadow && matches!(r.action, Some(Action::Allow | Action::Deny)) && decided_by.is_none() {
                            decided_by = Some(&r.id);
                        }
                    }
                    _ => out.push(format!("rule {} can never fire (its condition is never true)", r.id)),
                }
            }
        }
        out.extend(
            self.unused_declared_features()
                .into_iter()
                .map(|f| format!("feature {f} is declared but no rule reads it")),
        );
        out
    }

    /// Features declared or built in that no rule reads (a lint for `policy check`).
    pub fn unused_declared_features(&self) -> Vec<&str> {
        let builtin = self.builtin.features().len();
        self.features[builtin..]
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.used[self.slots.features + builtin + i])
            .map(|(_, f)| f.name.as_str())
            .collect()
    }
}

fn segment_of(codes: &[&'static str]) -> Option<&'static str> {
    codes.iter().find_map(|c| match *c {
        "phone.iot" => Some("iot"),
        "phone.data_only" => Some("data_only"),
        "phone.mvno" => Some("mvno"),
        "phone.satellite" => Some("satellite"),
        "phone.voip" => Some("voip"),
        "phone.premium" => Some("premium"),
        _ => None,
    })
}

fn render(pieces: &[Piece], env: &[Value]) -> String {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => s.push_str(t),
            Piece::Slot(i) => match env.get(*i).copied().unwrap_or_default() {
                Value::Absent => s.push('?'),
                Value::Bool(b) => s.push_str(if b { "true" } else { "false" }),
                Value::Int(n) => s.push_str(&n.to_string()),
                Value::Double(d) if d.fract() == 0.0 && d.abs() < 1e15 => s.push_str(&(d as i64).to_string()),
                Value::Double(d) => s.push_str(&format!("{d:.2}")),
                Value::Str(t) => s.push_str(t),
                Value::StrList(l) => s.push_str(&l.join(", ")),
            },
        }
    }
    s
}

impl Policy for FilePolicy {
    fn version(&self) -> &Arc<str> {
        &self.version
    }

    fn features(&self) -> &[FeatureDef] {
        &self.features
    }

    fn evaluate(&self, input: &PolicyInput<'_>, out: &mut Verdict) {
        self.builtin.evaluate(input, out);
        // The operator's deny list beats every rule.
        let listed = out.rules.iter().any(|r| r == "list_deny");
        if input.event.event_type == EventType::Label || self.rules.is_empty() || listed {
            return;
        }
        let e = input.event;
        let codes: Vec<&'static str> = input.signals.iter().map(|s| s.def.code).collect();
        // Only what some rule reads is gathered.
        let changed: Vec<&'static str> = match self.used[self.slots.changed] {
            true => e.changed.iter().map(|c| c.as_str()).collect(),
            false => Vec::new(),
        };
        let list_refs: Vec<Vec<&str>> = self
            .lists
            .iter()
            .map(|(slot, v)| if self.used[*slot] { v.iter().map(String::as_str).collect() } else { Vec::new() })
            .collect();
        let mut env: Vec<Value> = vec![Value::Absent; self.schema.len()];
        fn s<'a>(v: &'a Option<Cow<'_, str>>) -> Value<'a> {
            v.as_deref().map_or(Value::Absent, Value::Str)
        }
        let b = |v: Option<bool>| v.map_or(Value::Absent, Value::Bool);
        let n = |v: Option<u32>| v.map_or(Value::Absent, |n| Value::Int(i64::from(n)));
        let d = e.device.as_ref();
        let ses = e.session.as_ref();
        let p = e.profile.as_ref();
        for &(field, slot) in &self.slots.fixed {
            if !self.used[slot] {
                continue;
            }
            env[slot] = match field {
                Field::Type => Value::Str(e.event_type.as_str()),
                Field::Account => s(&e.account_id),
                Field::Phone => s(&e.phone),
                Field::Region => s(&e.region),
                Field::Email => s(&e.email),
                Field::UserAgent => s(&e.user_agent),
                Field::Identity => s(&e.identity_hash),
                Field::Text => s(&e.text),
                Field::Campaign => s(&e.campaign_id),
                Field::DeviceId => d.map_or(Value::Absent, |d| s(&d.id)),
                Field::Fingerprint => d.map_or(Value::Absent, |d| s(&d.fingerprint)),
                Field::Model => d.map_or(Value::Absent, |d| s(&d.model)),
                Field::Os => d.map_or(Value::Absent, |d| s(&d.os)),
                Field::Emulator => b(d.and_then(|d| d.emulator)),
                Field::Rooted => b(d.and_then(|d| d.rooted)),
                Field::Hooked => b(d.and_then(|d| d.hooked)),
                Field::SimPresent => b(d.and_then(|d| d.sim_present)),
                Field::SimMatch => b(d.and_then(|d| d.sim_phone_match)),
                Field::FormFill => n(ses.and_then(|s| s.form_fill_ms)),
                Field::CodeEntry => n(ses.and_then(|s| s.sms_code_entry_ms)),
                Field::Captcha => n(ses.and_then(|s| s.captcha_solve_ms)),
                Field::Paste => b(ses.and_then(|s| s.paste_used)),
                Field::Nickname => p.map_or(Value::Absent, |p| s(&p.nickname)),
                Field::Bio => p.map_or(Value::Absent, |p| s(&p.bio)),
                Field::Avatar => p.map_or(Value::Absent, |p| s(&p.avatar_hash)),
            };
        }
        env[self.slots.changed] = Value::StrList(&changed);
        env[self.slots.signals] = Value::StrList(&codes);
        env[self.slots.segment] =
            if e.phone.is_some() { Value::Str(segment_of(&codes).unwrap_or("ordinary")) } else { Value::Absent };
        for (i, v) in input.features.iter().enumerate() {
            env[self.slots.features + i] = v.map_or(Value::Absent, Value::Double);
        }
        for ((slot, _), values) in self.lists.iter().zip(&list_refs) {
            env[*slot] = Value::StrList(values);
        }
        let mut best: Option<Action> = None;
        let mut added: i64 = 0;
        for r in &self.rules {
            if r.program.eval_bool(&env) != Some(true) {
                continue;
            }
            if r.shadow {
                out.shadow_rules.push(r.id.clone());
                continue;
            }
            out.rules.push(r.id.clone());
            added += i64::from(r.score);
            out.reasons.push(Reason { code: r.code.clone(), message: render(&r.message, &env), weight: r.score });
            if let Some(a) = r.action {
                best = Some(best.map_or(a, |b| if a.rank() < b.rank() { a } else { b }));
            }
        }
        out.reasons.sort_by(|a, b| b.weight.cmp(&a.weight).then_with(|| a.code.cmp(&b.code)));
        out.score = (i64::from(out.score) + added).clamp(0, 100) as u32;
        let by_score = self.builtin.thresholds().outcome(out.score);
        match best {
            Some(Action::Allow) => {
                out.outcome = Outcome::Allow;
                out.challenge = None;
            }
            Some(Action::Deny) => {
                out.outcome = Outcome::Deny;
                out.challenge = None;
            }
            Some(Action::Challenge(c)) => {
                out.outcome = Outcome::Challenge;
                out.challenge = Some(c);
            }
            Some(Action::Review) => {
                out.outcome = Outcome::Review;
                out.challenge = None;
            }
            None => {
                out.challenge = match by_score {
                    Outcome::Challenge => Some(out.challenge.unwrap_or(Challenge::Captcha)),
                    _ => None,
                };
                out.outcome = by_score;
            }
        }
    }
}
