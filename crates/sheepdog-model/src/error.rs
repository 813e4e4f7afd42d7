//! Structured input errors: a stable code, a human message and the field at fault.

use serde::Serialize;

/// Stable machine-readable error codes of the contract (`error.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body or line is not JSON, or is truncated.
    InvalidJson,
    /// The JSON is valid but a field has the wrong JSON type.
    WrongType,
    /// A required field is absent.
    MissingField,
    /// `type` is not one of the known event types.
    UnknownType,
    /// A value has the right JSON type but is out of its domain.
    InvalidValue,
    /// `phone` cannot be read as a phone number at all.
    InvalidPhone,
    /// `ip` is not an IPv4 or IPv6 address.
    InvalidIp,
    /// `timestamp` is neither RFC 3339 nor epoch milliseconds in range.
    InvalidTimestamp,
    /// A string is longer than its limit.
    TooLong,
    /// A line or body exceeds the size limit.
    TooLarge,
    /// Missing or wrong API key.
    Unauthorized,
    /// No such route.
    NotFound,
    /// Wrong HTTP method for the route.
    MethodNotAllowed,
    /// The engine could not persist or process the event; retry later.
    Unavailable,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::InvalidJson,
        ErrorCode::WrongType,
        ErrorCode::MissingField,
        ErrorCode::UnknownType,
        ErrorCode::InvalidValue,
        ErrorCode::InvalidPhone,
        ErrorCode::InvalidIp,
        ErrorCode::InvalidTimestamp,
        ErrorCode::TooLong,
        ErrorCode::TooLarge,
        ErrorCode::Unauthorized,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Unavailable,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::WrongType => "wrong_type",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::InvalidValue => "invalid_value",
            ErrorCode::InvalidPhone => "invalid_phone",
            ErrorCode::InvalidIp => "invalid_ip",
            ErrorCode::InvalidTimestamp => "invalid_timestamp",
            ErrorCode::TooLong => "too_long",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Unavailable => "unavailable",
        }
    }
}

/// An input error: serialises as `{"error":{"code","message","field"}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?} at {field:?}: {message}")]
pub struct EventError {
    pub code: ErrorCode,
    pub message: String,
    /// Dotted path of the offending field (`device.emulator`, `changed[2]`), if any.
    pub field: Option<String>,
}

impl EventError {
    pub fn new(code: ErrorCode, field: impl Into<Option<String>>, message: impl Into<String>) -> Self {
        EventError { code, message: message.into(), field: field.into() }
    }

    pub fn at(code: ErrorCode, field: &str, message: impl Into<String>) -> Self {
        Self::new(code, Some(field.to_string()), message)
    }
}

#[derive(Serialize)]
struct Body<'a> {
    code: ErrorCode,
    message: &'a str,
    field: &'a Option<String>,
}

impl Serialize for EventError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("error", &Body { code: self.code, message: &self.message, field: &self.field })?;
        m.end()
    }
}
