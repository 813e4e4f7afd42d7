//! `sheepdog sim`: runs a black-market scenario and writes its events (v1 NDJSON, ordered by
//! time) and their ground truth (one line per event, same order).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use sheepdog_sim::Scenario;

#[derive(clap::Args)]
pub struct SimArgs {
    /// Scenario file (TOML), or `default` / `adaptive` for the built-in ones
    #[arg(long, default_value = "default")]
    pub scenario: String,
    /// Random seed (default: the scenario's `seed`); the same seed gives the same bytes
    #[arg(long)]
    pub seed: Option<u64>,
    /// Events output (NDJSON; `-` for stdout)
    #[arg(long)]
    pub out: PathBuf,
    /// Ground truth output (NDJSON: {"id","bad","campaign","population"})
    #[arg(long)]
    pub truth: Option<PathBuf>,
}

/// Reads a scenario: a file, or `default` / `adaptive` for the embedded ones.
pub fn load_scenario(name: &str) -> anyhow::Result<Scenario> {
    match name {
        "default" => return Scenario::parse(sheepdog_sim::DEFAULT_SCENARIO).context("built-in scenario"),
        "adaptive" => return Scenario::parse(sheepdog_sim::ADAPTIVE_SCENARIO).context("built-in adaptive scenario"),
        _ => {}
    }
    let text = std::fs::read_to_string(name).with_context(|| format!("reading scenario {name}"))?;
    Scenario::parse(&text).with_context(|| format!("scenario {name}"))
}

fn create(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    if path == Path::new("-") {
        return Ok(Box::new(BufWriter::with_capacity(1 << 16, std::io::stdout())));
    }
    let f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    Ok(Box::new(BufWriter::with_capacity(1 << 16, f)))
}

pub fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    let scenario = load_scenario(&args.scenario)?;
    let seed = args.seed.unwrap_or(scenario.seed);
    let started = Instant::now();
    let sim = sheepdog_sim::simulate(&scenario, seed);
    let generated = started.elapsed();
    let mut events = create(&args.out)?;
    let mut truth = match &args.truth {
        Some(p) => Some(create(p)?),
        None => None,
    };
    sim.write(&mut events, truth.as_mut().map(|t| t as &mut dyn Write))
        .with_context(|| format!("writing {}", args.out.display()))?;
    events.flush()?;
    if let Some(t) = truth.as_mut() {
        t.flush()?;
    }
    let total = started.elapsed();
    let n = sim.len();
    eprintln!(
        "sheepdog sim: {n} events (seed {seed}) in {:.2} s: {:.0} events/s generated, {:.0} events/s with writing",
        total.as_secs_f64(),
        n as f64 / generated.as_secs_f64().max(1e-9),
        n as f64 / total.as_secs_f64().max(1e-9),
    );
    Ok(ExitCode::SUCCESS)
}
