//! `sheepdog backtest`: replays events through the running policy (or a baseline file) and a new
//! one, each on its own state, and reports which decisions change from what to what, per-rule
//! hits, and, with labels, precision, recall and honest friction of old against new.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use serde::Deserialize;
use sheepdog_engine::Engine;
use sheepdog_model::{parse_event, Outcome};

use crate::config::Config;

#[derive(Args)]
pub struct BacktestArgs {
    /// The new policy file
    #[arg(long)]
    pub policy: PathBuf,
    /// The policy to compare against (default: the built-in policy)
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Events to replay (NDJSON, in time order)
    #[arg(long, required_unless_present = "log", conflicts_with = "log")]
    pub events: Option<PathBuf>,
    /// A data directory's decision log (journal segments): its events are replayed, and the
    /// decisions logged with them are the baseline
    #[arg(long, conflicts_with = "baseline")]
    pub log: Option<PathBuf>,
    /// Labels: one {"id","bad"} line per event, same order (a `sheepdog sim` truth file)
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Intel directory (default: the copy embedded in the binary)
    #[arg(long)]
    pub intel: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Deserialize)]
struct LogRecord {
    received_ms: i64,
    event: Box<serde_json::value::RawValue>,
    decision: Box<serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct Label {
    id: String,
    bad: bool,
}

#[derive(Default, Clone, Copy)]
struct Confusion {
    tp: u64,
    fp: u64,
    fn_: u64,
    honest: u64,
}

impl Confusion {
    fn add(&mut self, bad: bool, stopped: bool) {
        match (bad, stopped) {
            (true, true) => self.tp += 1,
            (true, false) => self.fn_ += 1,
            (false, true) => self.fp += 1,
            (false, false) => {}
        }
        if !bad {
            self.honest += 1;
        }
    }
    fn json(&self) -> serde_json::Value {
        let r = |n: u64, d: u64| if d == 0 { 0.0 } else { n as f64 / d as f64 };
        serde_json::json!({
            "precision": r(self.tp, self.tp + self.fp),
            "recall": r(self.tp, self.tp + self.fn_),
            "honest_friction": r(self.fp, self.honest),
            "tp": self.tp, "fp": self.fp, "fn": self.fn_,
        })
    }
}

fn engine(
    config: &Config,
    policy: Option<&std::path::Path>,
    intel: &Arc<sheepdog_intel::Intel>,
) -> anyhow::Result<Engine> {
    let engine = crate::build_engine(config, crate::load_policy(policy)?, None)?;
    engine.set_intel(intel.clone());
    Ok(engine)
}

pub fn run(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(None)?;
    // Replays trust event times.
    config.engine.max_future_ms = None;
    let intel = Arc::new(crate::intel_cmd::load(&crate::intel_source(args.intel.clone()))?);
    let old = engine(&config, args.baseline.as_deref(), &intel)?;
    let new = engine(&config, Some(&args.policy), &intel)?;
    // The input: an events file, or the log's segments in order, one reader over all of them.
    let files: Vec<PathBuf> = match (&args.events, &args.log) {
        (Some(f), _) => vec![f.clone()],
        (None, Some(dir)) => {
            let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
                .with_context(|| format!("reading {}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("log-")))
                .collect();
            v.sort();
            if v.is_empty() {
                bail!("{} holds no decision log (log-*.ndjson)", dir.display());
            }
            v
        }
        (None, None) => bail!("give --events FILE or --log DIR"),
    };
    let from_log = args.log.is_some();
    let mut size = 0;
    let mut chained: Box<dyn std::io::Read> = Box::new(std::io::empty());
    for f in &files {
        let file = File::open(f).with_context(|| format!("reading {}", f.display()))?;
        size += file.metadata().map(|m| m.len()).unwrap_or(0);
        chained = Box::new(std::io::Read::chain(chained, file));
    }
    let mut reader = BufReader::new(chained);
    let mut labels = match &args.labels {
        Some(p) => Some(BufReader::new(File::open(p).with_context(|| format!("reading {}", p.display()))?).lines()),
        None => None,
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(size);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {per_sec} eta {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut changes: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
    let mut hits: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    let (mut c_old, mut c_new) = (Confusion::default(), Confusion::default());
    let (mut n, mut errors) = (0u64, 0u64);
    let started = Instant::now();
    let mut line = Vec::new();
    while let Some(read) = crate::lines::read_line(&mut reader, &mut line, crate::lines::MAX_LINE)? {
        if let Some(b) = &bar {
            b.inc(read.bytes as u64);
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        n += 1;
        let label = match labels.as_mut() {
            Some(l) => {
                let Some(t) = l.next() else { bail!("the labels end before event line {n}") };
                let t: Label = serde_json::from_str(&t?).with_context(|| format!("labels line {n}"))?;
                Some(t)
            }
            None => None,
        };
        // A log record carries the event as received and the decision it got.
        let record: Option<LogRecord> = if from_log {
            match serde_json::from_slice(&line) {
                Ok(r) => Some(r),
                Err(_) => {
                    errors += 1;
                    continue;
                }
            }
        } else {
            None
        };
        let raw: &[u8] = match &record {
            Some(r) => r.event.get().as_bytes(),
            None => &line,
        };
        let event = match read.fits.then(|| parse_event(raw)) {
            Some(Ok(e)) => e,
            _ => {
                errors += 1;
                continue;
            }
        };
        if let (Some(t), Some(id), false) = (&label, &event.id, from_log) {
            if t.id != **id {
                bail!("labels line {n}: id \"{}\" does not match the event's id \"{id}\"", t.id);
            }
        }
        let received = record.as_ref().map_or(0, |r| r.received_ms);
        let a = match &record {
            Some(r) => Arc::new(
                serde_json::from_str::<sheepdog_model::Decision>(r.decision.get())
                    .with_context(|| format!("log record {n}: its decision"))?,
            ),
            None => old.decide(&event, raw, received, false)?.decision,
        };
        let b = new.decide(&event, raw, received, false)?.decision;
        *changes.entry((a.decision.as_str(), b.decision.as_str())).or_default() += 1;
        for (i, d) in [&a, &b].into_iter().enumerate() {
            for r in &d.rules {
                hits.entry(r.to_string()).or_default()[i] += 1;
            }
            for r in &d.shadow_rules {
                hits.entry(format!("{r} (shadow)")).or_default()[i] += 1;
            }
        }
        if let Some(t) = &label {
            c_old.add(t.bad, a.decision != Outcome::Allow);
            c_new.add(t.bad, b.decision != Outcome::Allow);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let secs = started.elapsed().as_secs_f64();
    let changed: u64 = changes.iter().filter(|((a, b), _)| a != b).map(|(_, v)| v).sum();
    if args.json {
        let out = serde_json::json!({
            "events": n, "unreadable": errors, "changed": changed, "seconds": secs,
            "old_policy": if from_log { "logged decisions".to_string() } else { old.policy().version().to_string() }, "new_policy": new.policy().version().to_string(),
            "transitions": changes.iter().map(|((a, b), v)| serde_json::json!({"from": a, "to": b, "events": v})).collect::<Vec<_>>(),
            "rule_hits": hits.iter().map(|(r, [o, w])| serde_json::json!({"rule": r, "old": o, "new": w})).collect::<Vec<_>>(),
            "labelled": labels.is_some().then(|| serde_json::json!({"old": c_old.json(), "new": c_new.json()})),
        });
        println!("{out}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "backtest: {n} events ({errors} unreadable) in {secs:.2} s ({:.0} events/s, both policies)",
        n as f64 / secs.max(1e-9)
    );
    let old_name = if from_log { "the logged decisions".to_string() } else { old.policy().version().to_string() };
    println!("old {old_name}  →  new {}", new.policy().version());
    println!("{changed} decisions change ({:.2} %)", 100.0 * changed as f64 / n.max(1) as f64);
    println!("\nfrom → to           events");
    for ((a, b), v) in &changes {
        println!("{a:>9} → {b:<9} {v:>8}{}", if a != b { "  *" } else { "" });
    }
    println!("\nrule                                      old      new");
    for (r, [o, w]) in &hits {
        println!("{r:<38} {o:>8} {w:>8}");
    }
    if labels.is_some() {
        println!("\nlabelled (stopped = any outcome but allow)  precision   recall   honest friction");
        for (name, c) in [("old", c_old), ("new", c_new)] {
            let j = c.json();
            println!(
                "{name:<43} {:>8.1}% {:>7.1}% {:>10.2}%",
                j["precision"].as_f64().unwrap_or(0.0) * 100.0,
                j["recall"].as_f64().unwrap_or(0.0) * 100.0,
                j["honest_friction"].as_f64().unwrap_or(0.0) * 100.0
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
