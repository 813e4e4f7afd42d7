//! The `sheepdog` command: `serve` the HTTP API, `score` NDJSON in batch, `gen-load` synthetic
//! events, `sim` labelled black-market traffic and `eval` the engine on it.

mod alloc;
mod backtest_cmd;
mod config;
mod eval_cmd;
mod intel_cmd;
mod lines;
mod score;
mod sim_cmd;
mod text_cmd;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::{Parser, Subcommand};
use sheepdog_engine::Engine;
use sheepdog_policy::{BuiltinPolicy, Policy};

use crate::config::Config;

// The engine allocates small, short-lived objects per event; mimalloc halves their cost.
#[global_allocator]
static GLOBAL: alloc::MiMalloc = alloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "sheepdog",
    version,
    about = "A real-time risk engine against bulk registration and the phone-number black market",
    long_about = "sheepdog decides, in microseconds, whether an SMS-code request, registration, login, \
profile change, post or promo claim should go through: allow, challenge, review or deny, with a \
score, reasons and the policy that decided.",
    after_help = "Examples:\n  sheepdog serve\n  sheepdog serve --data ./sheepdog-data --listen 0.0.0.0:7878\n  sheepdog score events.ndjson > decisions.ndjson\n  sheepdog gen-load --count 1000000 | sheepdog score > /dev/null"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Print the built-in policy as an editable file (thresholds, weights, rule thresholds)
    ExportDefault,
    /// Compile a policy file; exit 0 when it loads, 1 with every error otherwise
    Check {
        /// The policy file (TOML)
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (POST /v1/events, /v1/events:batch; GET /healthz, /metrics)
    #[command(
        after_help = "Examples:\n  sheepdog serve\n  sheepdog serve --data ./data\n  sheepdog serve --config sheepdog.toml --listen 0.0.0.0:7878\n\nState is in memory unless a data directory is given (--data or state.data_dir):\nthen every answered event is journaled before its answer leaves, and a restart\nresumes with the same state. SIGTERM or Ctrl-C drains and snapshots."
    )]
    Serve {
        /// Configuration file (TOML, version = 1)
        #[arg(long, env = "SHEEPDOG_CONFIG")]
        config: Option<PathBuf>,
        /// Data directory for the durable journal and snapshots (overrides state.data_dir)
        #[arg(long)]
        data: Option<PathBuf>,
        /// Address to listen on (overrides server.listen; default 127.0.0.1:7878)
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Policy file: built-in settings, optionally with rules (overrides policy.file)
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Intel directory with a manifest.toml (overrides intel.dir; default: embedded copy)
        #[arg(long)]
        intel: Option<PathBuf>,
    },
    /// Score NDJSON events from a file or stdin; one NDJSON decision per input line on stdout
    #[command(
        after_help = "Examples:\n  sheepdog score events.ndjson > decisions.ndjson\n  cat events.ndjson | sheepdog score --state ./state\n  sheepdog score --explain --policy tuned.toml events.ndjson\n\nEvents are processed in order as if they arrived at their timestamps. A malformed\nline yields {\"error\":{...},\"line\":N} in its place and processing continues.\nA regular INPUT file is memory-mapped: do not truncate it while it is scored.\nExit status: 0, or 2 when the input cannot be read."
    )]
    Score {
        /// Policy file: built-in settings, optionally with rules
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Keep state in this directory across runs (default: in memory)
        #[arg(long)]
        state: Option<PathBuf>,
        /// Configuration file (TOML, version = 1) for state and engine options
        #[arg(long, env = "SHEEPDOG_CONFIG")]
        config: Option<PathBuf>,
        /// Include the feature values each decision saw
        #[arg(long)]
        explain: bool,
        /// Intel directory with a manifest.toml (default: the copy embedded in the binary)
        #[arg(long)]
        intel: Option<PathBuf>,
        /// NDJSON input file (default: stdin)
        input: Option<PathBuf>,
    },
    /// Inspect, list and manage the intelligence (phone segments, IP ranges, e-mail domains, lists)
    #[command(subcommand)]
    Intel(intel_cmd::IntelCommand),
    /// Write synthetic (unlabelled) load events as NDJSON, for benchmarks
    #[command(after_help = "Example:\n  sheepdog gen-load --count 1000000 --seed 7 > load.ndjson")]
    GenLoad {
        /// Number of events
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        /// Random seed (same seed, same events)
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Size of the simulated user population
        #[arg(long, default_value_t = 200_000)]
        users: u32,
    },
    /// Replay events through a baseline and a new policy: what changes, rule hits, and quality with labels
    #[command(
        after_help = "Examples:\n  sheepdog sim --out ev.ndjson --truth truth.ndjson\n  sheepdog backtest --policy night.toml --events ev.ndjson --labels truth.ndjson\n  sheepdog backtest --policy new.toml --baseline old.toml --events recorded.ndjson --json\n\nEach policy runs on its own state, in event-time order. A progress bar shows on a terminal."
    )]
    Backtest(backtest_cmd::BacktestArgs),
    /// Policy files: check one (every rule compiled, every error with its place) or export the built-in default
    #[command(
        after_help = "Examples:\n  sheepdog policy check night.toml\n\nA policy file is a settings file of the built-in policy ([thresholds], [weights],\n[rules.<id>]) plus [lists], [[feature]] and [[rule]] tables; see GUIDE.md."
    )]
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Simulate the black market and an honest population: labelled events for `eval`
    #[command(
        after_help = "Examples:\n  sheepdog sim --out events.ndjson --truth truth.ndjson\n  sheepdog sim --scenario my.toml --seed 7 --out events.ndjson --truth truth.ndjson\n\nThe scenario keys are documented in the built-in scenario (crates/sheepdog-sim/scenarios/default.toml)."
    )]
    Sim(sim_cmd::SimArgs),
    /// Run the engine on simulated (or recorded, labelled) traffic and measure what it stops
    #[command(
        after_help = "Examples:\n  sheepdog eval\n  sheepdog eval --scenario my.toml --seed 3 --html report.html\n  sheepdog eval --events events.ndjson --truth truth.ndjson --json\n  sheepdog eval --policy tuned.toml"
    )]
    Eval(eval_cmd::EvalArgs),
    /// Content audit: scan texts for black-market ads, contact diversion and scam scripts
    Text {
        #[command(subcommand)]
        command: text_cmd::TextCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Serve { .. } => "info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHEEPDOG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sheepdog: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load_policy(path: Option<&Path>) -> anyhow::Result<Arc<dyn Policy>> {
    match path {
        None => Ok(Arc::new(BuiltinPolicy::default())),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading policy {}", p.display()))?;
            sheepdog_policy::load_policy(&text).with_context(|| format!("policy {}", p.display()))
        }
    }
}

fn intel_source(dir: Option<PathBuf>) -> intel_cmd::IntelSource {
    dir.map_or(intel_cmd::IntelSource::Embedded, intel_cmd::IntelSource::Dir)
}

fn id_prefix() -> String {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    format!("sd-{ms:x}-")
}

fn build_engine(config: &Config, policy: Arc<dyn Policy>, data: Option<&Path>) -> anyhow::Result<Engine> {
    let mut options = config.engine.clone();
    options.id_prefix = id_prefix();
    match data {
        Some(dir) => Engine::open_durable(policy, config.store.clone(), dir, config.journal.clone(), options)
            .with_context(|| format!("opening state in {}", dir.display())),
        None => Ok(Engine::in_memory(policy, config.store.clone(), options)),
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config, data, listen, policy, intel } => {
            let config = Config::load(config.as_deref())?;
            let policy_file = policy.or_else(|| config.policy_file.clone());
            let policy = load_policy(policy_file.as_deref())?;
            let data = data.or_else(|| config.data_dir.clone());
            // Live traffic: an event dated ahead of the server by more than the grace period is
            // clamped (batch scoring trusts event times).
            let mut config = config;
            config.engine.max_future_ms = Some(config.store.grace_ms as i64);
            let engine = Arc::new(build_engine(&config, policy, data.as_deref())?);
            let intel_source = intel_source(intel.or_else(|| config.intel_dir.clone()));
            let loaded = intel_cmd::load(&intel_source)?;
            tracing::info!(version = loaded.version(), load_ms = loaded.load_time().as_millis() as u64, "intel loaded");
            engine.set_intel(Arc::new(loaded));
            // Only a directory can change under a running server; the embedded copy cannot.
            let reloader: Option<sheepdog_server::IntelReloader> = match &intel_source {
                intel_cmd::IntelSource::Embedded => None,
                intel_cmd::IntelSource::Dir(_) => {
                    let engine = engine.clone();
                    let source = intel_source.clone();
                    Some(Arc::new(move || {
                        let intel = intel_cmd::load(&source).map_err(|e| format!("{e:#}"))?;
                        let version = intel.version().to_string();
                        engine.set_intel(Arc::new(intel));
                        Ok(version)
                    }))
                }
            };
            let policy_reloader: Option<sheepdog_server::IntelReloader> = policy_file.map(|file| {
                let engine = engine.clone();
                Arc::new(move || {
                    let policy = load_policy(Some(&file)).map_err(|e| format!("{e:#}"))?;
                    let version = policy.version().to_string();
                    engine.set_policy(policy);
                    Ok(version)
                }) as sheepdog_server::IntelReloader
            });
            let listen = listen.unwrap_or(config.listen);
            let options = sheepdog_server::ServerOptions {
                api_keys: config.api_keys.clone(),
                admin_keys: config.admin_keys.clone(),
                snapshot_interval: data.as_ref().map(|_| config.snapshot_interval),
                intel_reloader: reloader,
                policy_reloader,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
                let addr = listener.local_addr()?;
                println!("sheepdog listening on {addr}");
                let state = sheepdog_server::AppState::new(engine, &options);
                sheepdog_server::serve(listener, state, options).await?;
                anyhow::Ok(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Score { policy, state, config, explain, input, intel } => {
            let config = Config::load(config.as_deref())?;
            let policy_file = policy.or_else(|| config.policy_file.clone());
            let policy = load_policy(policy_file.as_deref())?;
            let engine = build_engine(&config, policy, state.as_deref())?;
            engine.set_intel(Arc::new(intel_cmd::load(&intel_source(intel.or_else(|| config.intel_dir.clone())))?));
            score::run(&engine, input.as_deref(), explain)
        }
        Command::Intel(cmd) => intel_cmd::run(cmd),
        Command::GenLoad { count, seed, users } => {
            let options = sheepdog_sim::load::LoadOptions { count, seed, users, ..Default::default() };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            match sheepdog_sim::load::write_load(&options, &mut out).and_then(|_| std::io::Write::flush(&mut out)) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
                Err(e) => Err(e.into()),
            }
        }
        Command::Sim(args) => sim_cmd::run(args),
        Command::Eval(args) => eval_cmd::run(args),
        Command::Text { command: text_cmd::TextCommand::Scan(args) } => text_cmd::run(args),
        Command::Backtest(args) => backtest_cmd::run(args),
        Command::Policy { command: PolicyCommand::ExportDefault } => {
            print!("{}", sheepdog_policy::default_policy_file(sheepdog_policy::Thresholds::default()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Policy { command: PolicyCommand::Check { file } } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading policy {}", file.display()))?;
            match sheepdog_policy::load_policy(&text) {
                Ok(p) => {
                    println!("{}: ok, version {}", file.display(), p.version());
                    if let Ok(fp) = sheepdog_policy::FilePolicy::from_toml(&text) {
                        for (id, shadow) in fp.rule_ids() {
                            println!("  rule {id}{}", if shadow { " (shadow)" } else { "" });
                        }
                        for lint in fp.lints() {
                            println!("  warning: {lint}");
                        }
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{}:\n{}", file.display(), e.message);
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
