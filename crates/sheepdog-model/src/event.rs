//! Events of the v1 contract: parsing, validation and the typed `Event`.
//!
//! Parsing is two steps: the JSON is read into a raw shape, then `validate` checks domains and
//! limits (phone syntax, IP, timestamp, string lengths) and names the field at fault. The raw
//! shape is read by a scanner for the usual shape of an event (`fast`), and by serde for any
//! input the scanner does not read exactly as serde would (wrong JSON types are then reported
//! with the dotted path of the field by `serde_path_to_error`). Both paths give the same result
//! on every input: tests and the fuzz target compare them.
//! Unknown top-level fields are ignored. Nothing here panics on any input, and every string is
//! bounded by `LIMITS`, so memory per event is bounded by the input size.

use std::net::IpAddr;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{ErrorCode, EventError};

mod fast;

/// Size limits of event strings, in bytes unless said otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `id`, in characters.
    pub id_chars: usize,
    /// `text`.
    pub text: usize,
    /// `profile.bio`.
    pub bio: usize,
    /// `user_agent`.
    pub user_agent: usize,
    /// `email`.
    pub email: usize,
    /// `phone`.
    pub phone: usize,
    /// every other string field.
    pub short: usize,
    /// entries in `changed`.
    pub changed_entries: usize,
}

/// The limits the contract enforces.
pub const LIMITS: Limits = Limits {
    id_chars: 128,
    text: 64 * 1024,
    bio: 4096,
    user_agent: 2048,
    email: 320,
    phone: 64,
    short: 256,
    changed_entries: 16,
};

/// Latest accepted epoch millisecond (9999-12-31T23:59:59.999Z).
const MAX_EPOCH_MS: i64 = 253_402_300_799_999;

/// The event types of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    SmsCodeRequest,
    Registration,
    Login,
    ProfileUpdate,
    Content,
    PromoClaim,
    Label,
}

impl EventType {
    /// Every type, in contract order.
    pub const ALL: [EventType; 7] = [
        EventType::SmsCodeRequest,
        EventType::Registration,
        EventType::Login,
        EventType::ProfileUpdate,
        EventType::Content,
        EventType::PromoClaim,
        EventType::Label,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::SmsCodeRequest => "sms_code_request",
            EventType::Registration => "registration",
            EventType::Login => "login",
            EventType::ProfileUpdate => "profile_update",
            EventType::Content => "content",
            EventType::PromoClaim => "promo_claim",
            EventType::Label => "label",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Dense index (0..7), for per-type arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// A one-bit mask for this type, for sets of types.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Attributes changed by a `profile_update` (or `login`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Changed {
    Password,
    Phone,
    Email,
    Nickname,
    Avatar,
    Bio,
    DeviceBinding,
    Identity,
}

impl Changed {
    pub const ALL: [Changed; 8] = [
        Changed::Password,
        Changed::Phone,
        Changed::Email,
        Changed::Nickname,
        Changed::Avatar,
        Changed::Bio,
        Changed::DeviceBinding,
        Changed::Identity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Changed::Password => "password",
            Changed::Phone => "phone",
            Changed::Email => "email",
            Changed::Nickname => "nickname",
            Changed::Avatar => "avatar",
            Changed::Bio => "bio",
            Changed::DeviceBinding => "device_binding",
            Changed::Identity => "identity",
        }
    }
}

/// Ground truth carried by a `label` event in `attributes.label`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelValue {
    Fraud,
    Legit,
}

/// An event timestamp in epoch milliseconds (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// Device facts reported by the app's SDK.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Device<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub fingerprint: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub model: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub os: Option<Str<'a>>,
    pub emulator: Option<bool>,
    pub rooted: Option<bool>,
    pub hooked: Option<bool>,
    pub sim_present: Option<bool>,
    pub sim_phone_match: Option<bool>,
}

/// Client-measured timings of the flow.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Session {
    pub form_fill_ms: Option<u32>,
    pub sms_code_entry_ms: Option<u32>,
    pub captcha_solve_ms: Option<u32>,
    pub paste_used: Option<bool>,
}

/// Public profile fields.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Profile<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub nickname: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub bio: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub avatar_hash: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub gender: Option<Str<'a>>,
    pub birth_year: Option<i64>,
}

/// A string of an event: borrowed from the input when it holds no escapes.
pub type Str<'a> = std::borrow::Cow<'a, str>;

/// A validated event of the v1 contract.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    pub id: Option<Str<'a>>,
    pub event_type: EventType,
    pub timestamp: Option<Timestamp>,
    pub account_id: Option<Str<'a>>,
    /// As sent, syntactically checked (digits, separators, optional leading `+`).
    pub phone: Option<Str<'a>>,
    /// Upper-cased ISO 3166 alpha-2.
    pub region: Option<Str<'a>>,
    pub email: Option<Str<'a>>,
    pub ip: Option<IpAddr>,
    pub device: Option<Device<'a>>,
    pub user_agent: Option<Str<'a>>,
    pub session: Option<Session>,
    pub profile: Option<Profile<'a>>,
    pub identity_hash: Option<Str<'a>>,
    pub text: Option<Str<'a>>,
    pub campaign_id: Option<Str<'a>>,
    pub changed: Vec<Changed>,
    pub attributes: Option<Map<String, Value>>,
    /// `attributes.label` of a `label` event.
    pub label: Option<LabelValue>,
}

impl<'a> Event<'a> {
    /// A minimal event of the given type, for tests and generators.
    pub fn new(event_type: EventType) -> Event<'a> {
        Event {
            id: None,
            event_type,
            timestamp: None,
            account_id: None,
            phone: None,
            region: None,
            email: None,
            ip: None,
            device: None,
            user_agent: None,
            session: None,
            profile: None,
            identity_hash: None,
            text: None,
            campaign_id: None,
            changed: Vec::new(),
            attributes: None,
            label: None,
        }
    }

    /// The same event, owning all its strings.
    pub fn into_owned(self) -> Event<'static> {
        Event {
            id: owned(self.id),
            event_type: self.event_type,
            timestamp: self.timestamp,
            account_id: owned(self.account_id),
            phone: owned(self.phone),
            region: owned(self.region),
            email: owned(self.email),
            ip: self.ip,
            device: self.device.map(|d| Device {
                id: owned(d.id),
                fingerprint: owned(d.fingerprint),
                model: owned(d.model),
                os: owned(d.os),
                emulator: d.emulator,
                rooted: d.rooted,
                hooked: d.hooked,
                sim_present: d.sim_present,
                sim_phone_match: d.sim_phone_match,
            }),
            user_agent: owned(self.user_agent),
            session: self.session,
            profile: self.profile.map(|p| Profile {
                nickname: owned(p.nickname),
                bio: owned(p.bio),
                avatar_hash: owned(p.avatar_hash),
                gender: owned(p.gender),
                birth_year: p.birth_year,
            }),
            identity_hash: owned(self.identity_hash),
            text: owned(self.text),
            campaign_id: owned(self.campaign_id),
            changed: self.changed,
            attributes: self.attributes,
            label: self.label,
        }
    }

    pub fn device_id(&self) -> Option<&str> {
        self.device.as_ref().and_then(|d| d.id.as_deref())
    }

    pub fn device_fingerprint(&self) -> Option<&str> {
        self.device.as_ref().and_then(|d| d.fingerprint.as_deref())
    }
}

fn owned(s: Option<Str<'_>>) -> Option<Str<'static>> {
    s.map(|s| Str::Owned(s.into_owned()))
}

#[derive(Deserialize, Default)]
struct RawSession {
    form_fill_ms: Option<f64>,
    sms_code_entry_ms: Option<f64>,
    captcha_solve_ms: Option<f64>,
    paste_used: Option<bool>,
}

#[derive(Deserialize, Default)]
struct RawEvent<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    id: Option<Str<'a>>,
    #[serde(rename = "type", borrow, default, deserialize_with = "opt_str")]
    event_type: Option<Str<'a>>,
    timestamp: Option<RawTimestamp>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    account_id: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    phone: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    region: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    email: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    ip: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "map_only")]
    device: Option<Device<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    user_agent: Option<Str<'a>>,
    #[serde(default, deserialize_with = "map_only")]
    session: Option<RawSession>,
    #[serde(borrow, default, deserialize_with = "map_only")]
    profile: Option<Profile<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    identity_hash: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    text: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    campaign_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    changed: Option<Vec<Str<'a>>>,
    attributes: Option<Map<String, Value>>,
}

enum RawTimestamp {
    Text(String),
    Millis(i128),
    Float,
}

impl<'de> Deserialize<'de> for RawTimestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawTimestamp;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an RFC 3339 string or integer epoch milliseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawTimestamp, E> {
                Ok(RawTimestamp::Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawTimestamp, E> {
                Ok(RawTimestamp::Millis(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawTimestamp, E> {
                Ok(RawTimestamp::Millis(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawTimestamp, E> {
                let _ = v;
                Ok(RawTimestamp::Float)
            }
        }
        d.deserialize_any(V)
    }
}

/// Accepts only a JSON object for `T` (serde's derive would also read a positional array).
struct MapOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for MapOnly<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = MapOnly<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<MapOnly<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(MapOnly)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// An optional string that borrows from the input when it holds no escapes. serde's own
/// `Option<Cow<str>>` always copies, `borrow` or not (serde-rs/serde#1497): ten allocations an
/// event.
fn opt_str<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Str<'a>>, D::Error> {
    struct Text;
    impl<'de> Visitor<'de> for Text {
        type Value = Str<'de>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
            Ok(Str::Borrowed(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
            Ok(Str::Owned(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'de>, E> {
            Ok(Str::Owned(v))
        }
    }
    struct Optional;
    impl<'de> Visitor<'de> for Optional {
        type Value = Option<Str<'de>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(Text).map(Some)
        }
    }
    d.deserialize_option(Optional)
}

fn map_only<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Ok(Option::<MapOnly<T>>::deserialize(d)?.map(|m| m.0))
}

/// Parses one event from JSON bytes.
pub fn parse_event(bytes: &[u8]) -> Result<Event<'_>, EventError> {
    parse(bytes, true)
}

/// `parse_event` without its fast path: serde reads every event. For tests and the fuzz
/// target, which check that both paths agree.
#[doc(hidden)]
pub fn parse_event_general(bytes: &[u8]) -> Result<Event<'_>, EventError> {
    parse(bytes, false)
}

fn parse(bytes: &[u8], fast: bool) -> Result<Event<'_>, EventError> {
    // Validated once, here: the parser below then reads a `str` and checks no string again.
    let Ok(text) = simdutf8::basic::from_utf8(bytes) else {
        return Err(EventError::new(ErrorCode::InvalidJson, None, "the event is not valid UTF-8"));
    };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let syntax = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err();
        return Err(if syntax {
            EventError::new(ErrorCode::InvalidJson, None, "malformed JSON: expected an event object")
        } else {
            EventError::new(ErrorCode::WrongType, None, "an event must be a JSON object")
        });
    }
    if fast {
        let mut raw = RawEvent::default();
        if fast::scan(text, &mut raw) {
            return validate(raw);
        }
    }
    // serde without path tracking; on failure, parse again to name the field.
    let mut de = serde_json::Deserializer::from_str(text);
    let raw = match RawEvent::deserialize(&mut de) {
        Ok(raw) => raw,
        Err(_) => {
            let mut de = serde_json::Deserializer::from_str(text);
            return Err(match serde_path_to_error::deserialize::<_, RawEvent>(&mut de) {
                Err(e) => serde_error(e),
                Ok(_) => EventError::new(ErrorCode::InvalidJson, None, "malformed JSON"),
            });
        }
    };
    if let Err(e) = de.end() {
        return Err(EventError::new(ErrorCode::InvalidJson, None, format!("trailing characters after the event: {e}")));
    }
    validate(raw)
}

/// Parses one event from an already-parsed JSON value (batch arrays).
pub fn parse_event_value(value: &serde_json::value::RawValue) -> Result<Event<'_>, EventError> {
    parse_event(value.get().as_bytes())
}

fn serde_error(e: serde_path_to_error::Error<serde_json::Error>) -> EventError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    use serde_json::error::Category;
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            EventError::new(ErrorCode::InvalidJson, None, format!("malformed JSON: {inner}"))
        }
        Category::Data => {
            // serde's message carries the position; keep the part a caller can act on.
            let msg = inner.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            let parent = path.trim_start_matches('.');
            if let Some(name) = msg.strip_prefix("duplicate field `").and_then(|m| m.strip_suffix('`')) {
                let field = if parent.is_empty() { name.to_string() } else { format!("{parent}.{name}") };
                return EventError::new(ErrorCode::InvalidValue, Some(field.clone()), format!("{field} appears twice"));
            }
            if parent.is_empty() {
                return EventError::new(ErrorCode::WrongType, None, msg);
            }
            EventError::new(ErrorCode::WrongType, Some(parent.to_string()), msg)
        }
    }
}

fn check_len(field: &str, value: &Option<Str<'_>>, max: usize) -> Result<(), EventError> {
    if let Some(v) = value {
        if v.len() > max {
            return Err(EventError::at(
                ErrorCode::TooLong,
                field,
                format!("{field} is {} bytes; the limit is {max}", v.len()),
            ));
        }
    }
    Ok(())
}

fn validate(raw: RawEvent<'_>) -> Result<Event<'_>, EventError> {
    let Some(type_name) = raw.event_type else {
        return Err(EventError::at(ErrorCode::MissingField, "type", "type is required"));
    };
    let Some(event_type) = EventType::parse(&type_name) else {
        let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        let shown: String = type_name.chars().take(64).collect();
        return Err(EventError::at(
            ErrorCode::UnknownType,
            "type",
            format!("unknown event type {shown:?}; known types: {}", known.join(", ")),
        ));
    };
    if let Some(id) = &raw.id {
        let n = id.chars().count();
        if n > LIMITS.id_chars {
            return Err(EventError::at(
                ErrorCode::TooLong,
                "id",
                format!("id is {n} characters; the limit is {}", LIMITS.id_chars),
            ));
        }
        if id.is_empty() {
            return Err(EventError::at(ErrorCode::InvalidValue, "id", "id must not be empty"));
        }
    }
    let timestamp = raw.timestamp.map(parse_timestamp).transpose()?;
    check_len("account_id", &raw.account_id, LIMITS.short)?;
    check_len("phone", &raw.phone, LIMITS.phone)?;
    check_len("region", &raw.region, LIMITS.short)?;
    check_len("email", &raw.email, LIMITS.email)?;
    check_len("ip", &raw.ip, LIMITS.short)?;
    check_len("user_agent", &raw.user_agent, LIMITS.user_agent)?;
    check_len("identity_hash", &raw.identity_hash, LIMITS.short)?;
    check_len("text", &raw.text, LIMITS.text)?;
    check_len("campaign_id", &raw.campaign_id, LIMITS.short)?;
    if let Some(d) = &raw.device {
        check_len("device.id", &d.id, LIMITS.short)?;
        check_len("device.fingerprint", &d.fingerprint, LIMITS.short)?;
        check_len("device.model", &d.model, LIMITS.short)?;
        check_len("device.os", &d.os, LIMITS.short)?;
    }
    if let Some(p) = &raw.profile {
        check_len("profile.nickname", &p.nickname, LIMITS.short)?;
        check_len("profile.bio", &p.bio, LIMITS.bio)?;
        check_len("profile.avatar_hash", &p.avatar_hash, LIMITS.short)?;
        check_len("profile.gender", &p.gender, LIMITS.short)?;
        if let Some(y) = p.birth_year {
            if !(1900..=2100).contains(&y) {
                return Err(EventError::at(
                    ErrorCode::InvalidValue,
                    "profile.birth_year",
                    format!("birth_year {y} is outside 1900..=2100"),
                ));
            }
        }
    }
    let region = match raw.region {
        Some(r) => {
            if r.len() != 2 || !r.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(EventError::at(
                    ErrorCode::InvalidValue,
                    "region",
                    "region must be an ISO 3166 alpha-2 code such as CN",
                ));
            }
            Some(if r.bytes().all(|b| b.is_ascii_uppercase()) { r } else { Str::Owned(r.to_ascii_uppercase()) })
        }
        None => None,
    };
    if let Some(phone) = &raw.phone {
        check_phone_syntax(phone)?;
    }
    let ip = match &raw.ip {
        Some(s) => Some(
            s.trim()
                .parse::<IpAddr>()
                .map_err(|_| EventError::at(ErrorCode::InvalidIp, "ip", "ip must be an IPv4 or IPv6 address"))?,
        ),
        None => None,
    };
    if let Some(email) = &raw.email {
        if !email.contains('@') {
            return Err(EventError::at(ErrorCode::InvalidValue, "email", "email must contain @"));
        }
    }
    let session = raw.session.map(validate_session).transpose()?;
    let changed = match raw.changed {
        None => Vec::new(),
        Some(list) => {
            if list.len() > LIMITS.changed_entries {
                return Err(EventError::at(
                    ErrorCode::TooLong,
                    "changed",
                    format!("changed has {} entries; the limit is {}", list.len(), LIMITS.changed_entries),
                ));
            }
            let mut out = Vec::with_capacity(list.len());
            for (i, name) in list.iter().enumerate() {
                let Some(c) = Changed::ALL.into_iter().find(|c| c.as_str() == name) else {
                    let known: Vec<&str> = Changed::ALL.iter().map(|c| c.as_str()).collect();
                    let shown: String = name.chars().take(64).collect();
                    return Err(EventError::new(
                        ErrorCode::InvalidValue,
                        Some(format!("changed[{i}]")),
                        format!("unknown changed attribute {shown:?}; known: {}", known.join(", ")),
                    ));
                };
                if !out.contains(&c) {
                    out.push(c);
                }
            }
            out
        }
    };
    let label = if event_type == EventType::Label {
        let value = raw.attributes.as_ref().and_then(|a| a.get("label"));
        let label = match value {
            Some(Value::String(s)) if s == "fraud" => LabelValue::Fraud,
            Some(Value::String(s)) if s == "legit" => LabelValue::Legit,
            None | Some(Value::Null) => {
                return Err(EventError::at(
                    ErrorCode::MissingField,
                    "attributes.label",
                    "a label event needs attributes.label: fraud or legit",
                ))
            }
            Some(_) => {
                return Err(EventError::at(
                    ErrorCode::InvalidValue,
                    "attributes.label",
                    "attributes.label must be fraud or legit",
                ))
            }
        };
        let has_subject =
            raw.account_id.is_some() || raw.phone.is_some() || raw.device.as_ref().is_some_and(|d| d.id.is_some());
        if !has_subject {
            return Err(EventError::at(
                ErrorCode::MissingField,
                "account_id",
                "a label event needs account_id, phone or device.id",
            ));
        }
        Some(label)
    } else {
        None
    };
    Ok(Event {
        id: raw.id,
        event_type,
        timestamp,
        account_id: raw.account_id,
        phone: raw.phone,
        region,
        email: raw.email,
        ip,
        device: raw.device,
        user_agent: raw.user_agent,
        session,
        profile: raw.profile,
        identity_hash: raw.identity_hash,
        text: raw.text,
        campaign_id: raw.campaign_id,
        changed,
        attributes: raw.attributes,
        label,
    })
}

fn parse_timestamp(raw: RawTimestamp) -> Result<Timestamp, EventError> {
    let bad = |msg: String| EventError::at(ErrorCode::InvalidTimestamp, "timestamp", msg);
    match raw {
        RawTimestamp::Millis(ms) => {
            if ms < 0 || ms > MAX_EPOCH_MS as i128 {
                return Err(bad(format!("epoch milliseconds {ms} are out of range")));
            }
            Ok(Timestamp(ms as i64))
        }
        RawTimestamp::Float => Err(bad("timestamp must be an integer number of epoch milliseconds".into())),
        RawTimestamp::Text(s) => {
            let parsed =
                time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339).map_err(|_| {
                    bad("timestamp must be RFC 3339, e.g. 2026-11-25T10:00:00Z, or epoch milliseconds".into())
                })?;
            let ms = parsed.unix_timestamp_nanos().div_euclid(1_000_000);
            if ms < 0 || ms > MAX_EPOCH_MS as i128 {
                return Err(bad("timestamp is before 1970 or after 9999".into()));
            }
            Ok(Timestamp(ms as i64))
        }
    }
}

fn check_phone_syntax(phone: &str) -> Result<(), EventError> {
    let bad = |msg: &str| EventError::at(ErrorCode::InvalidPhone, "phone", msg);
    let t = phone.trim();
    let mut digits = 0usize;
    for (i, c) in t.char_indices() {
        match c {
            '0'..='9' => digits += 1,
            '+' if i == 0 => {}
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return Err(bad("phone may hold only digits, a leading +, spaces, dashes, dots and parentheses")),
        }
    }
    if !(3..=20).contains(&digits) {
        return Err(bad("phone must have between 3 and 20 digits"));
    }
    Ok(())
}

fn validate_session(raw: RawSession) -> Result<Session, EventError> {
    fn ms(field: &str, v: Option<f64>) -> Result<Option<u32>, EventError> {
        match v {
            None => Ok(None),
            Some(x) if x.is_finite() && (0.0..=86_400_000.0).contains(&x) => Ok(Some(x.round() as u32)),
            Some(_) => Err(EventError::at(
                ErrorCode::InvalidValue,
                field,
                format!("{field} must be between 0 and 86400000 milliseconds"),
            )),
        }
    }
    Ok(Session {
        form_fill_ms: ms("session.form_fill_ms", raw.form_fill_ms)?,
        sms_code_entry_ms: ms("session.sms_code_entry_ms", raw.sms_code_entry_ms)?,
        captcha_solve_ms: ms("session.captcha_solve_ms", raw.captcha_solve_ms)?,
        paste_used: raw.paste_used,
    })
}
