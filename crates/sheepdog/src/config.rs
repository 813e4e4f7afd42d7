//! The configuration file: one TOML file, `version = 1`, every key optional, unknown keys
//! rejected with their dotted path.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;
use sheepdog_engine::{EngineOptions, EnrichOptions};
use sheepdog_state::{JournalOptions, MemoryStoreOptions};

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    version: Option<u32>,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    state: RawState,
    #[serde(default)]
    engine: RawEngine,
    #[serde(default)]
    policy: RawPolicy,
    #[serde(default)]
    intel: RawIntel,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawIntel {
    dir: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<SocketAddr>,
    api_keys: Option<Vec<String>>,
    admin_keys: Option<Vec<String>>,
    snapshot_interval_secs: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawState {
    data_dir: Option<PathBuf>,
    max_memory_mb: Option<u64>,
    grace_secs: Option<u64>,
    distinct_cap: Option<usize>,
    idempotency_window_secs: Option<u64>,
    idempotency_max_ids: Option<usize>,
    snapshot_every_events: Option<u64>,
    segment_mb: Option<u64>,
    /// Journal segments kept as the decision log beyond what snapshots need.
    decision_log_segments: Option<usize>,
    /// ...and none older than this many hours (receive time).
    decision_log_max_age_hours: Option<u64>,
    fsync: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawEngine {
    default_region: Option<String>,
    phone_block_suffix_digits: Option<usize>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    file: Option<PathBuf>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub api_keys: Vec<String>,
    pub admin_keys: Vec<String>,
    pub snapshot_interval: Duration,
    pub data_dir: Option<PathBuf>,
    pub store: MemoryStoreOptions,
    pub journal: JournalOptions,
    pub engine: EngineOptions,
    pub policy_file: Option<PathBuf>,
    /// Intel directory; none: the copy embedded in the binary.
    pub intel_dir: Option<PathBuf>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";

impl Config {
    /// Reads a config file; `None` gives the defaults.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let raw = match path {
            None => RawConfig::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| format!("reading config {}", p.display()))?;
                parse(&text).with_context(|| format!("config {}", p.display()))?
            }
        };
        Config::from_raw(raw, path.and_then(Path::parent))
    }

    fn from_raw(raw: RawConfig, base: Option<&Path>) -> anyhow::Result<Config> {
        if let Some(v) = raw.version {
            if v != 1 {
                bail!("version: unsupported config version {v}; this build reads 1");
            }
        }
        let resolve = |p: PathBuf| match base {
            Some(b) if p.is_relative() => b.join(p),
            _ => p,
        };
        let d = MemoryStoreOptions::default();
        let s = raw.state;
        let store = MemoryStoreOptions {
            max_bytes: s.max_memory_mb.map_or(d.max_bytes, |mb| (mb as usize) << 20),
            grace_ms: s.grace_secs.map_or(d.grace_ms, |x| x * 1000),
            distinct_cap: s.distinct_cap.unwrap_or(d.distinct_cap),
            idempotency_window_ms: s.idempotency_window_secs.map_or(d.idempotency_window_ms, |x| x * 1000),
            idempotency_max_ids: s.idempotency_max_ids.unwrap_or(d.idempotency_max_ids),
        };
        if store.max_bytes < 1 << 20 {
            bail!("state.max_memory_mb: must be at least 1");
        }
        if !(1..=4096).contains(&store.distinct_cap) {
            bail!("state.distinct_cap: must be between 1 and 4096");
        }
        let jd = JournalOptions::default();
        let journal = JournalOptions {
            segment_bytes: s.segment_mb.map_or(jd.segment_bytes, |mb| mb.max(1) << 20),
            keep_snapshots: jd.keep_snapshots,
            no_sync: s.fsync == Some(false),
            keep_log_segments: s.decision_log_segments.unwrap_or(jd.keep_log_segments),
            log_max_age_ms: s.decision_log_max_age_hours.map(|h| h.saturating_mul(3_600_000)),
        };
        let mut enrich = EnrichOptions::default();
        if let Some(r) = raw.engine.default_region {
            if r.len() != 2 || !r.bytes().all(|b| b.is_ascii_alphabetic()) {
                bail!("engine.default_region: must be an ISO 3166 alpha-2 code such as CN");
            }
            enrich.default_region = r.to_ascii_uppercase();
        }
        if let Some(n) = raw.engine.phone_block_suffix_digits {
            if !(1..=8).contains(&n) {
                bail!("engine.phone_block_suffix_digits: must be between 1 and 8");
            }
            enrich.block_suffix_digits = n;
        }
        Ok(Config {
            listen: raw.server.listen.unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default address")),
            api_keys: raw.server.api_keys.unwrap_or_default(),
            admin_keys: raw.server.admin_keys.unwrap_or_default(),
            snapshot_interval: Duration::from_secs(raw.server.snapshot_interval_secs.unwrap_or(60).max(1)),
            data_dir: s.data_dir.map(resolve),
            store,
            journal,
            engine: EngineOptions {
                enrich,
                id_prefix: String::new(),
                snapshot_every: s.snapshot_every_events.unwrap_or(1_000_000),
                max_future_ms: None,
            },
            policy_file: raw.policy.file.map(resolve),
            intel_dir: raw.intel.dir.map(resolve),
        })
    }
}

fn parse(text: &str) -> anyhow::Result<RawConfig> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        anyhow::anyhow!("{path}: {}", inner.message())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::from_raw(parse("").unwrap(), None).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert!(c.data_dir.is_none());
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = parse("version = 1\n[state]\nmax_memory = 3\n").unwrap_err().to_string();
        assert!(e.contains("state.max_memory"), "{e}");
        let e = parse("colour = 1\n").unwrap_err().to_string();
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn values_are_checked() {
        let e = Config::from_raw(parse("version = 2\n").unwrap(), None).unwrap_err().to_string();
        assert!(e.contains("version"), "{e}");
        let e =
            Config::from_raw(parse("[engine]\ndefault_region = \"China\"\n").unwrap(), None).unwrap_err().to_string();
        assert!(e.contains("engine.default_region"), "{e}");
        let c = Config::from_raw(parse("[state]\ndata_dir = \"d\"\n").unwrap(), Some(Path::new("/etc/sd"))).unwrap();
        assert_eq!(c.data_dir.unwrap(), Path::new("/etc/sd/d"));
    }
}
