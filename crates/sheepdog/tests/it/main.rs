//! Tests of the real `sheepdog` binary: the batch CLI and crash recovery of `serve`.

mod crash;
mod score;

use std::path::PathBuf;

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sheepdog"))
}
