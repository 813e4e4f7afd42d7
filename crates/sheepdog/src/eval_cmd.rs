//! `sheepdog eval`: runs the engine in-process on labelled traffic (a simulated scenario, or
//! recorded events with a truth file) and measures what it stops: per campaign, per honest
//! population trap, per event type; precision and recall; reasons; throughput and latency. Text,
//! JSON or a self-contained HTML report.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use serde::Deserialize;
use serde_json::json;
use sheepdog_engine::Engine;
use sheepdog_model::{parse_event, EventType, Outcome};

use crate::config::Config;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Scenario file (TOML), or `default` (when no --events is given) / `adaptive` for the built-in ones
    #[arg(long, conflicts_with_all = ["events", "truth"])]
    pub scenario: Option<String>,
    /// Random seed for the scenario (default: the scenario's `seed`)
    #[arg(long, conflicts_with_all = ["events", "truth"])]
    pub seed: Option<u64>,
    /// Recorded events (NDJSON) instead of a scenario; needs --truth
    #[arg(long, requires = "truth")]
    pub events: Option<PathBuf>,
    /// Ground truth for --events: one {"id","bad","campaign"[,"population"]} line per event, same order
    #[arg(long, requires = "events")]
    pub truth: Option<PathBuf>,
    /// Built-in policy settings file (default: the built-in policy)
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Intel directory (default: the copy embedded in the binary)
    #[arg(long)]
    pub intel: Option<PathBuf>,
    /// Also write a self-contained HTML report here
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Print JSON instead of text tables
    #[arg(long)]
    pub json: bool,
}

/// One line of a truth file.
#[derive(Deserialize)]
struct TruthLine {
    id: String,
    bad: bool,
    #[serde(default)]
    campaign: Option<String>,
    #[serde(default)]
    population: Option<String>,
    #[serde(default)]
    adaptive: bool,
}

const N_TYPES: usize = EventType::ALL.len();
const HOUR_MS: i64 = 3_600_000;

/// Counts of outcomes.
#[derive(Default, Clone, Copy)]
struct Counts {
    events: u64,
    outcomes: [u64; 4],
}

impl Counts {
    fn add(&mut self, o: Outcome) {
        self.events += 1;
        self.outcomes[o.index()] += 1;
    }
    fn stopped(&self) -> u64 {
        self.events - self.outcomes[Outcome::Allow.index()]
    }
    fn blocked(&self) -> u64 {
        self.outcomes[Outcome::Review.index()] + self.outcomes[Outcome::Deny.index()]
    }
    fn denied(&self) -> u64 {
        self.outcomes[Outcome::Deny.index()]
    }
}

fn rate(n: u64, d: u64) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

/// A campaign or an honest population: where an event's counts go.
struct Group {
    name: String,
    bad: bool,
    by_type: [Counts; N_TYPES],
    reasons: HashMap<String, u64>,
}

impl Group {
    fn total(&self) -> Counts {
        let mut c = Counts::default();
        for t in &self.by_type {
            c.events += t.events;
            for i in 0..4 {
                c.outcomes[i] += t.outcomes[i];
            }
        }
        c
    }
}

/// Everything measured.
struct Eval {
    groups: Vec<Group>,
    index: HashMap<(bool, String), usize>,
    latencies: Vec<u32>,
    /// Per hour since the first event: outcome counts for honest (0) and bad (1) traffic.
    timeline: Vec<[[u64; 4]; 2]>,
    first_ms: Option<i64>,
    /// Score histograms in 10-point bins (100 in the last), honest and bad.
    scores: [[u64; 10]; 2],
    parse_errors: u64,
    first_parse_error: Option<String>,
    elapsed_s: f64,
    source: String,
    policy_version: String,
}

impl Eval {
    fn new(source: String) -> Eval {
        Eval {
            groups: Vec::new(),
            index: HashMap::new(),
            latencies: Vec::new(),
            timeline: Vec::new(),
            first_ms: None,
            scores: [[0; 10]; 2],
            parse_errors: 0,
            first_parse_error: None,
            elapsed_s: 0.0,
            source,
            policy_version: String::new(),
        }
    }

    fn group(&mut self, bad: bool, name: &str) -> usize {
        if let Some(&i) = self.index.get(&(bad, name.to_string())) {
            return i;
        }
        self.groups.push(Group {
            name: name.to_string(),
            bad,
            by_type: [Counts::default(); N_TYPES],
            reasons: HashMap::new(),
        });
        self.index.insert((bad, name.to_string()), self.groups.len() - 1);
        self.groups.len() - 1
    }

    /// Decides one event line and records the outcome under its group.
    fn one(&mut self, engine: &Engine, line: &[u8], group: usize, now: i64) -> anyhow::Result<()> {
        let event = match parse_event(line) {
            Ok(e) => e,
            Err(e) => {
                self.parse_errors += 1;
                if self.first_parse_error.is_none() {
                    self.first_parse_error = Some(e.to_string());
                }
                return Ok(());
            }
        };
        let out = engine.decide(&event, line, now, false)?;
        let d = &out.decision;
        let g = &mut self.groups[group];
        g.by_type[event.event_type.index()].add(d.decision);
        if d.decision != Outcome::Allow {
            for r in d.reasons.iter() {
                *g.reasons.entry(r.code.to_string()).or_default() += 1;
            }
        }
        let bad = usize::from(g.bad);
        self.latencies.push(d.latency_us.min(u64::from(u32::MAX)) as u32);
        self.scores[bad][(d.score as usize / 10).min(9)] += 1;
        if let Some(ts) = event.timestamp.map(|t| t.0) {
            let first = *self.first_ms.get_or_insert(ts);
            let hour = ((ts - first).max(0) / HOUR_MS) as usize;
            if hour < 24 * 400 {
                if self.timeline.len() <= hour {
                    self.timeline.resize(hour + 1, [[0; 4]; 2]);
                }
                self.timeline[hour][bad][d.decision.index()] += 1;
            }
        }
        if self.policy_version.is_empty() {
            self.policy_version = d.policy_version.to_string();
        }
        Ok(())
    }

    fn honest(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter().filter(|g| !g.bad)
    }
    fn bad(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter().filter(|g| g.bad)
    }
    fn sum(&self, bad: bool, ty: Option<EventType>) -> Counts {
        let mut c = Counts::default();
        for g in self.groups.iter().filter(|g| g.bad == bad) {
            let t = match ty {
                Some(t) => g.by_type[t.index()],
                None => g.total(),
            };
            c.events += t.events;
            for i in 0..4 {
                c.outcomes[i] += t.outcomes[i];
            }
        }
        c
    }
    fn n_events(&self) -> u64 {
        self.groups.iter().map(|g| g.total().events).sum()
    }
    fn latency(&self, q: f64) -> u32 {
        let mut v = self.latencies.clone();
        if v.is_empty() {
            return 0;
        }
        let k = ((v.len() - 1) as f64 * q).round() as usize;
        *v.select_nth_unstable(k).1
    }
    /// Precision and recall of "stopped" (or "blocked") as a detector of bad events.
    fn pr(&self, ty: Option<EventType>, blocked: bool) -> (u64, u64, u64, f64, f64) {
        let bad = self.sum(true, ty);
        let good = self.sum(false, ty);
        let pos = |c: Counts| if blocked { c.blocked() } else { c.stopped() };
        let tp = pos(bad);
        let fp = pos(good);
        let fnn = bad.events - tp;
        (tp, fp, fnn, rate(tp, tp + fp), rate(tp, bad.events))
    }
    fn honest_reasons(&self) -> Vec<(String, u64)> {
        let mut m: HashMap<&str, u64> = HashMap::new();
        for g in self.honest() {
            for (k, v) in &g.reasons {
                *m.entry(k).or_default() += v;
            }
        }
        top(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), 8)
    }
}

fn top(mut v: Vec<(String, u64)>, n: usize) -> Vec<(String, u64)> {
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

fn group_name(campaign: Option<&str>, population: Option<&str>, adaptive: bool, bad: bool) -> String {
    match (bad, campaign) {
        (true, Some(c)) if adaptive => format!("{c} (adaptive)"),
        (true, Some(c)) => c.to_string(),
        (true, None) => "unlabelled bad".to_string(),
        (false, _) => population.unwrap_or("honest").to_string(),
    }
}

fn build_engine(args: &EvalArgs) -> anyhow::Result<Engine> {
    let mut config = Config::load(None)?;
    // Replays trust event times.
    config.engine.max_future_ms = None;
    let policy = crate::load_policy(args.policy.as_deref())?;
    let engine = crate::build_engine(&config, policy, None)?;
    engine.set_intel(Arc::new(crate::intel_cmd::load(&crate::intel_source(args.intel.clone()))?));
    Ok(engine)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn eval_scenario(engine: &Engine, name: &str, seed: Option<u64>) -> anyhow::Result<Eval> {
    let scenario = crate::sim_cmd::load_scenario(name)?;
    let seed = seed.unwrap_or(scenario.seed);
    let sim = sheepdog_sim::simulate(&scenario, seed);
    let mut eval = Eval::new(format!("scenario {name} (seed {seed})"));
    // Groups in a stable order: honest populations, then campaigns.
    for p in sheepdog_sim::POPULATIONS {
        eval.group(false, p);
    }
    for c in sheepdog_sim::CAMPAIGNS {
        if let Some((true, adaptive)) = scenario.campaign(c) {
            eval.group(true, &group_name(Some(c), None, adaptive, true));
        }
    }
    let mut buf = Vec::with_capacity(2048);
    let mut group_of: HashMap<(Option<&str>, Option<&str>, bool), usize> = HashMap::new();
    let now = now_ms();
    let started = Instant::now();
    for i in 0..sim.len() {
        sim.render(i, &mut buf);
        let t = sim.truth(i);
        let key = (t.campaign_name(), t.population_name(), t.adaptive);
        let g = match group_of.get(&key) {
            Some(&g) => g,
            None => {
                let g = eval.group(t.campaign.is_some(), &group_name(key.0, key.1, key.2, t.campaign.is_some()));
                group_of.insert(key, g);
                g
            }
        };
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        eval.one(engine, line, g, now)?;
    }
    eval.elapsed_s = started.elapsed().as_secs_f64();
    eval.groups.retain(|g| g.total().events > 0);
    eval.index.clear();
    Ok(eval)
}

fn eval_files(engine: &Engine, events: &PathBuf, truth: &PathBuf) -> anyhow::Result<Eval> {
    let ev = BufReader::new(File::open(events).with_context(|| format!("reading {}", events.display()))?);
    let tr = BufReader::new(File::open(truth).with_context(|| format!("reading {}", truth.display()))?);
    let mut eval = Eval::new(format!("events {} with truth {}", events.display(), truth.display()));
    let mut truth_lines = tr.lines();
    let now = now_ms();
    let started = Instant::now();
    let mut n = 0u64;
    for line in ev.split(b'\n') {
        let line = line.with_context(|| format!("reading {}", events.display()))?;
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        n += 1;
        let Some(t) = truth_lines.next() else {
            bail!("{} has {} lines, fewer than the events: line {n} has no truth", truth.display(), n - 1);
        };
        let t = t.with_context(|| format!("reading {}", truth.display()))?;
        let t: TruthLine = serde_json::from_str(&t).with_context(|| format!("{} line {n}", truth.display()))?;
        if line.trim_ascii().is_empty() {
            bail!("{} line {n} is empty", events.display());
        }
        // Ids must line up, so a shuffled or filtered file cannot produce silently wrong figures.
        let id = parse_event(line).ok().and_then(|e| e.id.map(|s| s.into_owned()));
        match id {
            Some(id) if id == t.id => {}
            Some(id) => bail!(
                "{} line {n}: truth id \"{}\" does not match the event's id \"{id}\" ({} line {n})",
                truth.display(),
                t.id,
                events.display()
            ),
            None => {
                // Unparsable events are counted as parse errors; an event without id cannot be checked.
                if parse_event(line).is_ok() {
                    bail!("{} line {n}: the event has no id to match truth id \"{}\"", events.display(), t.id);
                }
            }
        }
        let name = group_name(t.campaign.as_deref(), t.population.as_deref(), t.adaptive, t.bad);
        let g = eval.group(t.bad, &name);
        eval.one(engine, line, g, now)?;
    }
    if truth_lines.next().is_some() {
        bail!("{} has more lines than the {n} events of {}", truth.display(), events.display());
    }
    eval.elapsed_s = started.elapsed().as_secs_f64();
    Ok(eval)
}

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let engine = build_engine(&args)?;
    let eval = match (&args.events, &args.truth) {
        (Some(e), Some(t)) => eval_files(&engine, e, t)?,
        _ => eval_scenario(&engine, args.scenario.as_deref().unwrap_or("default"), args.seed)?,
    };
    engine.shutdown()?;
    if let Some(path) = &args.html {
        std::fs::write(path, html(&eval)).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&to_json(&eval))?);
    } else {
        print!("{}", text(&eval));
    }
    Ok(ExitCode::SUCCESS)
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn counts_json(c: Counts) -> serde_json::Value {
    json!({
        "events": c.events,
        "allow": c.outcomes[0], "challenge": c.outcomes[1], "review": c.outcomes[2], "deny": c.outcomes[3],
        "stopped": c.stopped(), "stopped_rate": rate(c.stopped(), c.events),
        "blocked": c.blocked(), "blocked_rate": rate(c.blocked(), c.events),
        "denied": c.denied(), "denied_rate": rate(c.denied(), c.events),
    })
}

fn to_json(e: &Eval) -> serde_json::Value {
    let group_json = |g: &Group| {
        let mut types = serde_json::Map::new();
        for t in EventType::ALL {
            let c = g.by_type[t.index()];
            if c.events > 0 {
                types.insert(t.as_str().to_string(), counts_json(c));
            }
        }
        let reasons: Vec<_> = top(g.reasons.iter().map(|(k, v)| (k.clone(), *v)).collect(), 8)
            .into_iter()
            .map(|(k, v)| json!({"code": k, "events": v}))
            .collect();
        json!({"name": g.name, "total": counts_json(g.total()), "by_type": types, "top_reasons": reasons})
    };
    let pr = |ty: Option<EventType>, blocked: bool| {
        let (tp, fp, fnn, p, r) = e.pr(ty, blocked);
        json!({"tp": tp, "fp": fp, "fn": fnn, "precision": p, "recall": r})
    };
    let reg = Some(EventType::Registration);
    json!({
        "source": e.source,
        "policy_version": e.policy_version,
        "events": e.n_events(),
        "parse_errors": e.parse_errors,
        "campaigns": e.bad().map(group_json).collect::<Vec<_>>(),
        "honest": {
            "total": counts_json(e.sum(false, None)),
            "registrations": counts_json(e.sum(false, reg)),
            "by_type": EventType::ALL.iter().filter(|t| e.sum(false, Some(**t)).events > 0)
                .map(|t| (t.as_str().to_string(), counts_json(e.sum(false, Some(*t))))).collect::<serde_json::Map<_, _>>(),
            "populations": e.honest().map(group_json).collect::<Vec<_>>(),
            "top_friction_reasons": e.honest_reasons().into_iter().map(|(k, v)| json!({"code": k, "events": v})).collect::<Vec<_>>(),
        },
        "bad_total": counts_json(e.sum(true, None)),
        "precision_recall": {
            "stopped": {"all": pr(None, false), "registrations": pr(reg, false)},
            "blocked": {"all": pr(None, true), "registrations": pr(reg, true)},
        },
        "performance": {
            "seconds": e.elapsed_s,
            "events_per_second": e.n_events() as f64 / e.elapsed_s.max(1e-9),
            "latency_us_p50": e.latency(0.5),
            "latency_us_p99": e.latency(0.99),
        },
    })
}

fn text(e: &Eval) -> String {
    let mut s = String::new();
    let bad = e.sum(true, None);
    let good = e.sum(false, None);
    let _ = writeln!(s, "sheepdog eval: {}; policy {}", e.source, e.policy_version);
    let _ = writeln!(
        s,
        "{} events ({} honest, {} black-market{}) in {:.2} s: {:.0} events/s; engine latency p50 {} us, p99 {} us",
        e.n_events(),
        good.events,
        bad.events,
        if e.parse_errors > 0 {
            format!("; {} lines did not parse, first: {}", e.parse_errors, e.first_parse_error.as_deref().unwrap_or(""))
        } else {
            String::new()
        },
        e.elapsed_s,
        e.n_events() as f64 / e.elapsed_s.max(1e-9),
        e.latency(0.5),
        e.latency(0.99),
    );
    let _ = writeln!(s, "\nBlack-market campaigns (stopped = any outcome but allow; denied = deny)");
    let _ = writeln!(
        s,
        "{:<28} {:<18} {:>8} {:>8} {:>8} {:>8}",
        "campaign", "event type", "events", "stopped", "blocked", "denied"
    );
    for g in e.bad() {
        let t = g.total();
        let _ = writeln!(
            s,
            "{:<28} {:<18} {:>8} {:>8} {:>8} {:>8}",
            g.name,
            "all",
            t.events,
            pct(rate(t.stopped(), t.events)),
            pct(rate(t.blocked(), t.events)),
            pct(rate(t.denied(), t.events))
        );
        for ty in EventType::ALL {
            let c = g.by_type[ty.index()];
            if c.events > 0 {
                let _ = writeln!(
                    s,
                    "{:<28} {:<18} {:>8} {:>8} {:>8} {:>8}",
                    "",
                    ty.as_str(),
                    c.events,
                    pct(rate(c.stopped(), c.events)),
                    pct(rate(c.blocked(), c.events)),
                    pct(rate(c.denied(), c.events))
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "{:<28} {:<18} {:>8} {:>8} {:>8} {:>8}",
        "all campaigns",
        "all",
        bad.events,
        pct(rate(bad.stopped(), bad.events)),
        pct(rate(bad.blocked(), bad.events)),
        pct(rate(bad.denied(), bad.events))
    );
    let _ = writeln!(s, "\nHonest traffic (friction = any outcome but allow; blocked = review or deny)");
    let _ = writeln!(
        s,
        "{:<16} {:>8} {:>9} {:>8} {:>10} {:>9} {:>8}",
        "population", "events", "friction", "blocked", "reg events", "reg frict", "reg blkd"
    );
    let reg = EventType::Registration.index();
    let mut row = |name: &str, t: Counts, r: Counts| {
        let _ = writeln!(
            s,
            "{:<16} {:>8} {:>9} {:>8} {:>10} {:>9} {:>8}",
            name,
            t.events,
            pct(rate(t.stopped(), t.events)),
            pct(rate(t.blocked(), t.events)),
            r.events,
            pct(rate(r.stopped(), r.events)),
            pct(rate(r.blocked(), r.events))
        );
    };
    for g in e.honest() {
        row(&g.name, g.total(), g.by_type[reg]);
    }
    row("all honest", good, e.sum(false, Some(EventType::Registration)));
    let _ = writeln!(s, "\nHonest traffic by event type");
    let _ = writeln!(s, "{:<18} {:>8} {:>9} {:>8}", "event type", "events", "friction", "blocked");
    for ty in EventType::ALL {
        let c = e.sum(false, Some(ty));
        if c.events > 0 {
            let _ = writeln!(
                s,
                "{:<18} {:>8} {:>9} {:>8}",
                ty.as_str(),
                c.events,
                pct(rate(c.stopped(), c.events)),
                pct(rate(c.blocked(), c.events))
            );
        }
    }
    let _ = writeln!(s, "\nPrecision / recall (positive = the engine's outcome; bad = the campaign's events)");
    let _ = writeln!(s, "{:<34} {:>8} {:>8} {:>8} {:>10} {:>8}", "scope", "tp", "fp", "fn", "precision", "recall");
    for (label, ty, blocked) in [
        ("all events, stopped", None, false),
        ("registrations, stopped", Some(EventType::Registration), false),
        ("all events, blocked", None, true),
        ("registrations, blocked", Some(EventType::Registration), true),
    ] {
        let (tp, fp, fnn, p, r) = e.pr(ty, blocked);
        let _ = writeln!(s, "{:<34} {:>8} {:>8} {:>8} {:>10} {:>8}", label, tp, fp, fnn, pct(p), pct(r));
    }
    let _ = writeln!(s, "\nTop reasons on stopped events");
    for g in e.bad() {
        let r = top(g.reasons.iter().map(|(k, v)| (k.clone(), *v)).collect(), 6);
        let _ = writeln!(s, "{:<28} {}", g.name, fmt_reasons(&r));
    }
    let _ = writeln!(s, "{:<28} {}", "honest friction", fmt_reasons(&e.honest_reasons()));
    for g in e.honest() {
        let r = top(g.reasons.iter().map(|(k, v)| (k.clone(), *v)).collect(), 4);
        if !r.is_empty() {
            let _ = writeln!(s, "{:<28} {}", format!("  {}", g.name), fmt_reasons(&r));
        }
    }
    s
}

fn fmt_reasons(r: &[(String, u64)]) -> String {
    if r.is_empty() {
        return "-".to_string();
    }
    r.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const OUTCOME_COLORS: [&str; 4] = ["#9ccc9c", "#f2c744", "#f08a3c", "#d64541"];

/// Decisions per hour, stacked by outcome.
fn svg_timeline(e: &Eval, bad: usize, title: &str) -> String {
    let (w, h, left, bottom) = (900.0, 220.0, 50.0, 30.0);
    let n = e.timeline.len().max(1);
    let max = e.timeline.iter().map(|b| b[bad].iter().sum::<u64>()).max().unwrap_or(0).max(1) as f64;
    let bw = (w - left - 10.0) / n as f64;
    let mut s = format!(r#"<svg width="{w}" height="{h}" role="img"><title>{}</title>"#, esc(title));
    let _ = write!(s, r#"<text x="{left}" y="14" font-size="13">{}</text>"#, esc(title));
    let plot_h = h - bottom - 22.0;
    for (i, b) in e.timeline.iter().enumerate() {
        let mut y = h - bottom;
        for o in 0..4 {
            let v = b[bad][o] as f64;
            if v == 0.0 {
                continue;
            }
            let bh = v / max * plot_h;
            y -= bh;
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.2}" height="{:.1}" fill="{}"><title>hour {i}: {} {}</title></rect>"#,
                left + i as f64 * bw,
                y,
                bw.max(0.5),
                bh,
                OUTCOME_COLORS[o],
                v,
                Outcome::ALL[o].as_str()
            );
        }
    }
    let _ = write!(s, r#"<line x1="{left}" y1="{0}" x2="{1}" y2="{0}" stroke="black"/>"#, h - bottom, w - 10.0);
    for d in (0..n).step_by(24) {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" font-size="11">day {}</text>"#,
            left + d as f64 * bw,
            h - bottom + 14.0,
            d / 24
        );
    }
    let _ = write!(s, r#"<text x="4" y="{}" font-size="11">{max:.0}/h</text>"#, 32);
    s.push_str("</svg>");
    s
}

/// Horizontal bars of a rate per row.
fn svg_bars(rows: &[(String, f64)], title: &str, color: &str) -> String {
    let (w, row_h, left) = (900.0, 20.0, 230.0);
    let h = 30.0 + rows.len() as f64 * row_h;
    let mut s = format!(r#"<svg width="{w}" height="{h}" role="img"><title>{}</title>"#, esc(title));
    let _ = write!(s, r#"<text x="4" y="14" font-size="13">{}</text>"#, esc(title));
    for (i, (name, v)) in rows.iter().enumerate() {
        let y = 24.0 + i as f64 * row_h;
        let bw = v.clamp(0.0, 1.0) * (w - left - 70.0);
        let _ = write!(
            s,
            r#"<text x="4" y="{:.1}" font-size="12">{}</text><rect x="{left}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
            y + 13.0,
            esc(name),
            y + 2.0,
            bw,
            row_h - 5.0,
            left + bw + 4.0,
            y + 13.0,
            pct(*v)
        );
    }
    s.push_str("</svg>");
    s
}

/// Score histogram, honest vs bad, as shares of each class.
fn svg_scores(e: &Eval) -> String {
    let (w, h, left, bottom) = (900.0, 240.0, 50.0, 30.0);
    let totals = [e.scores[0].iter().sum::<u64>().max(1) as f64, e.scores[1].iter().sum::<u64>().max(1) as f64];
    let mut s = format!(r#"<svg width="{w}" height="{h}" role="img"><title>scores</title>"#);
    s.push_str(r#"<text x="50" y="14" font-size="13">Score distribution: share of honest (blue) and black-market (red) events per 10-point bin (square-root scale)</text>"#);
    let plot_h = h - bottom - 24.0;
    let bin_w = (w - left - 10.0) / 10.0;
    for bin in 0..10 {
        for (class, total) in totals.iter().enumerate() {
            let v = e.scores[class][bin] as f64 / total;
            // Square-root scale: the honest mass at 0 would flatten everything else.
            let bh = v.sqrt() * plot_h;
            let x = left + bin as f64 * bin_w + 4.0 + class as f64 * (bin_w / 2.0 - 4.0);
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{}"><title>{}: {}</title></rect>"#,
                h - bottom - bh,
                bin_w / 2.0 - 6.0,
                if class == 0 { "#4a78c2" } else { "#d64541" },
                if class == 0 { "honest" } else { "black-market" },
                pct(v)
            );
            if v > 0.0 {
                let _ =
                    write!(s, r#"<text x="{x:.1}" y="{:.1}" font-size="10">{}</text>"#, h - bottom - bh - 3.0, pct(v));
            }
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" font-size="11">{}-{}</text>"#,
            left + bin as f64 * bin_w + bin_w / 3.0,
            h - bottom + 14.0,
            bin * 10,
            if bin == 9 { 100 } else { bin * 10 + 9 }
        );
    }
    let _ = write!(s, r#"<line x1="{left}" y1="{0}" x2="{1}" y2="{0}" stroke="black"/>"#, h - bottom, w - 10.0);
    s.push_str("</svg>");
    s
}

fn html(e: &Eval) -> String {
    let mut s = String::new();
    s.push_str("<!doctype html><html><head><meta charset=\"utf-8\"><title>sheepdog eval</title><style>body{font-family:system-ui,sans-serif;margin:24px;max-width:960px}pre{background:#f6f6f6;padding:12px;font-size:12px;overflow-x:auto}h2{margin-top:28px}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}</style></head><body>");
    let _ =
        write!(s, "<h1>sheepdog eval</h1><p>{}; policy <code>{}</code></p>", esc(&e.source), esc(&e.policy_version));
    s.push_str("<div class=\"legend\">");
    for (color, o) in OUTCOME_COLORS.iter().zip(Outcome::ALL) {
        let _ = write!(s, "<span style=\"background:{color}\"></span>{}", o.as_str());
    }
    s.push_str("</div><h2>Decisions over time</h2>");
    s.push_str(&svg_timeline(e, 0, "Honest traffic per hour, by outcome"));
    s.push_str(&svg_timeline(e, 1, "Black-market traffic per hour, by outcome"));
    s.push_str("<h2>Stopped rate per campaign</h2>");
    let rows: Vec<(String, f64)> =
        e.bad().map(|g| (g.name.clone(), rate(g.total().stopped(), g.total().events))).collect();
    s.push_str(&svg_bars(&rows, "Share of each campaign's events not allowed", "#d64541"));
    let rows: Vec<(String, f64)> =
        e.honest().map(|g| (g.name.clone(), rate(g.total().stopped(), g.total().events))).collect();
    s.push_str(&svg_bars(&rows, "Friction on honest populations (share not allowed)", "#4a78c2"));
    let reg = EventType::Registration.index();
    let rows: Vec<(String, f64)> =
        e.honest().map(|g| (g.name.clone(), rate(g.by_type[reg].stopped(), g.by_type[reg].events))).collect();
    s.push_str(&svg_bars(&rows, "Friction on honest registrations per population (share not allowed)", "#4a78c2"));
    s.push_str("<h2>Scores</h2>");
    s.push_str(&svg_scores(e));
    s.push_str("<h2>Tables</h2><pre>");
    s.push_str(&esc(&text(e)));
    s.push_str("</pre></body></html>\n");
    s
}
