//! The v1 contract of sheepdog: events in, decisions out, and the one registry of reason codes.
//!
//! This crate depends on nothing of ours. It parses and validates events (every error names the
//! field), defines the decision object, and lists every reason code the engine can emit.

mod decision;
mod error;
mod event;
mod feature;
pub mod reason;

pub use decision::{Challenge, Cluster, Decision, Outcome, Reason};
pub use error::{ErrorCode, EventError};
pub use event::{
    parse_event, parse_event_general, parse_event_value, Changed, Device, Event, EventType, LabelValue, Profile,
    Session, Str, Timestamp, LIMITS,
};
pub use feature::{FeatureDef, FeatureKind, KeyKind, NumField, MIN_SAMPLES, SEQUENTIAL_GAP};
