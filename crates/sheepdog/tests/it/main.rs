//! Tests of the real `sheepdog` binary: the batch CLI, `text scan` and crash recovery of `serve`.

mod crash;
mod intel;
mod readme;
mod reload;
mod score;
mod text;

use std::path::PathBuf;

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sheepdog"))
}

#[test]
fn every_reason_code_is_documented_in_the_guide() {
    let guide = include_str!("../../../../GUIDE.md");
    for def in sheepdog_model::reason::REGISTRY {
        assert!(
            guide.contains(&format!("| `{}` | {} |", def.code, def.weight)),
            "GUIDE.md lacks {} with weight {}",
            def.code,
            def.weight
        );
    }
}
