//! Fuzzes the event parser and, for every event it accepts, the whole decision pipeline:
//! no input may panic, every rejection must carry a code and a message, and the parser's fast
//! path must agree with serde on every input.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use sheepdog_engine::{Engine, EngineOptions};
use sheepdog_policy::BuiltinPolicy;
use sheepdog_state::MemoryStoreOptions;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let store = MemoryStoreOptions { max_bytes: 8 << 20, ..MemoryStoreOptions::default() };
        Engine::in_memory(Arc::new(BuiltinPolicy::default()), store, EngineOptions::default())
    })
}

fuzz_target!(|data: &[u8]| {
    let parsed = sheepdog_model::parse_event(data);
    assert_eq!(parsed, sheepdog_model::parse_event_general(data), "the fast path and serde disagree");
    match parsed {
        Ok(event) => {
            let out = engine().decide(&event, data, 1_764_000_000_000, true).expect("in-memory engine never fails");
            assert!(out.decision.score <= 100);
            serde_json::to_vec(&*out.decision).expect("decisions serialise");
        }
        Err(e) => {
            assert!(!e.message.is_empty());
            let body = serde_json::to_value(&e).expect("errors serialise");
            assert!(body["error"]["code"].is_string());
        }
    }
});
