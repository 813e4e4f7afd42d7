//! `sheepdog intel`: loading the intelligence (the copy embedded in the binary, or a directory
//! with a manifest), and the `check`, `stats` and `import` commands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Subcommand;
use sheepdog_intel::{Intel, Manifest, SourceKind};

/// The `intel/` directory of the repository, compiled in: the default intelligence.
const EMBEDDED: &[(&str, &str)] = &[
    ("manifest.toml", include_str!("../../../intel/manifest.toml")),
    ("cn-segment-categories/segments.csv", include_str!("../../../intel/cn-segment-categories/segments.csv")),
    ("sheepdog/segments-extra.csv", include_str!("../../../intel/sheepdog/segments-extra.csv")),
    ("cn-phone-segments/prefixes.csv", include_str!("../../../intel/cn-phone-segments/prefixes.csv")),
    ("cn-phone-segments/locations.csv", include_str!("../../../intel/cn-phone-segments/locations.csv")),
    ("sms-receive-numbers/numbers.csv", include_str!("../../../intel/sms-receive-numbers/numbers.csv")),
    ("datacenter-vpn-ips/datacenter_ipv4.txt", include_str!("../../../intel/datacenter-vpn-ips/datacenter_ipv4.txt")),
    ("datacenter-vpn-ips/datacenter_ipv6.txt", include_str!("../../../intel/datacenter-vpn-ips/datacenter_ipv6.txt")),
    ("datacenter-vpn-ips/vpn_ipv4.txt", include_str!("../../../intel/datacenter-vpn-ips/vpn_ipv4.txt")),
    ("datacenter-vpn-ips/vpn_ipv6.txt", include_str!("../../../intel/datacenter-vpn-ips/vpn_ipv6.txt")),
    ("cn-cloud-ips/cn_cloud_ipv4.txt", include_str!("../../../intel/cn-cloud-ips/cn_cloud_ipv4.txt")),
    ("cn-cloud-ips/cn_cloud_ipv6.txt", include_str!("../../../intel/cn-cloud-ips/cn_cloud_ipv6.txt")),
    ("tor-exit-nodes/exits.csv", include_str!("../../../intel/tor-exit-nodes/exits.csv")),
    ("disposable-email-domains/blocklist.txt", include_str!("../../../intel/disposable-email-domains/blocklist.txt")),
    ("disposable-email-domains/allowlist.txt", include_str!("../../../intel/disposable-email-domains/allowlist.txt")),
    ("fakefilter/data_version2.json", include_str!("../../../intel/fakefilter/data_version2.json")),
    ("disposable-email-broad/domains.txt", include_str!("../../../intel/disposable-email-broad/domains.txt")),
    ("burner-email-providers/emails.txt", include_str!("../../../intel/burner-email-providers/emails.txt")),
    ("sheepdog/relay-domains.txt", include_str!("../../../intel/sheepdog/relay-domains.txt")),
    ("freemail-free-providers/free.txt", include_str!("../../../intel/freemail-free-providers/free.txt")),
    ("bot-user-agents/isbot_patterns.json", include_str!("../../../intel/bot-user-agents/isbot_patterns.json")),
    ("sheepdog/device-models.tsv", include_str!("../../../intel/sheepdog/device-models.tsv")),
    ("sheepdog/operator-list.tsv", include_str!("../../../intel/sheepdog/operator-list.tsv")),
];

/// Where intelligence comes from.
#[derive(Debug, Clone)]
pub enum IntelSource {
    Embedded,
    Dir(PathBuf),
}

/// Loads intelligence and records how long it took.
pub fn load(source: &IntelSource) -> anyhow::Result<Intel> {
    let started = Instant::now();
    let mut intel = match source {
        IntelSource::Embedded => {
            let get = |name: &str| EMBEDDED.iter().find(|(n, _)| *n == name).map(|(_, t)| t.to_string());
            let manifest = get("manifest.toml").context("embedded manifest missing")?;
            sheepdog_intel::load(&manifest, &mut |f| get(f).ok_or_else(|| format!("{f} is not embedded")))?
        }
        IntelSource::Dir(dir) => {
            let manifest_path = dir.join("manifest.toml");
            let manifest = std::fs::read_to_string(&manifest_path)
                .with_context(|| format!("reading {}", manifest_path.display()))?;
            sheepdog_intel::load(&manifest, &mut |f| std::fs::read_to_string(dir.join(f)).map_err(|e| e.to_string()))
                .with_context(|| format!("loading intel from {}", dir.display()))?
        }
    };
    intel.set_load_time(started.elapsed());
    intel.set_loaded_at_ms(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64),
    );
    Ok(intel)
}

#[derive(Subcommand)]
pub enum IntelCommand {
    /// Print everything known about a phone number, IP address or e-mail address
    #[command(
        after_help = "Examples:\n  sheepdog intel check +8614512345678\n  sheepdog intel check 47.100.1.2\n  sheepdog intel check a.b+x@gmail.com --json"
    )]
    Check {
        /// A phone number (E.164, or national with --region), an IP address or an e-mail address
        value: String,
        /// Default region for national phone numbers
        #[arg(long, default_value = "CN")]
        region: String,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
        /// Intel directory (default: the copy embedded in the binary)
        #[arg(long)]
        intel: Option<PathBuf>,
    },
    /// List the loaded sources with their sizes, versions and licences, and the load time
    #[command(after_help = "Example:\n  sheepdog intel stats --intel ./intel")]
    Stats {
        #[arg(long)]
        intel: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Validate a file and add it to an intel directory (copied in, manifest updated)
    #[command(
        after_help = "Examples:\n  sheepdog intel export ./intel && sheepdog intel import operator_list blocked.tsv --intel ./intel\n  sheepdog intel import ip_datacenter extra-ranges.txt --intel ./intel --name my-hosting\n\nKINDS: cn_segments cn_prefixes cn_locations receive_sms ip_datacenter ip_cn_cloud ip_vpn ip_tor\n       email_disposable email_disposable_broad email_fakefilter email_relay email_free\n       email_not_disposable ua_patterns device_models operator_list\nA running server picks the change up on SIGHUP or POST /v1/intel:reload."
    )]
    Import {
        /// Source kind (see below)
        kind: String,
        /// The file to import
        file: PathBuf,
        /// The intel directory to add it to
        #[arg(long)]
        intel: PathBuf,
        /// Source name in the manifest (default: the file's stem)
        #[arg(long)]
        name: Option<String>,
    },
    /// Write the embedded intelligence out as a directory to edit and load with --intel
    #[command(after_help = "Example:\n  sheepdog intel export ./intel")]
    Export { dir: PathBuf },
}

fn source_of(dir: Option<PathBuf>) -> IntelSource {
    dir.map_or(IntelSource::Embedded, IntelSource::Dir)
}

pub fn run(cmd: IntelCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        IntelCommand::Check { value, region, json, intel } => {
            let intel = Arc::new(load(&source_of(intel))?);
            check(&intel, &value, &region, json)
        }
        IntelCommand::Stats { intel, json } => {
            let intel = load(&source_of(intel))?;
            if json {
                let v = serde_json::json!({
                    "version": intel.version(),
                    "load_ms": intel.load_time().as_secs_f64() * 1000.0,
                    "loaded_at_ms": intel.loaded_at_ms(),
                    "approx_bytes": intel.approx_bytes(),
                    "sources": intel.sources(),
                });
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!(
                    "{:<28} {:<22} {:>9}  {:<24} {:<14} origin",
                    "source", "kind", "entries", "version", "licence"
                );
                for s in intel.sources() {
                    println!(
                        "{:<28} {:<22} {:>9}  {:<24} {:<14} {}",
                        s.name, s.kind, s.entries, s.version, s.licence, s.origin
                    );
                }
                println!(
                    "\nintel {}  loaded in {:.0} ms  ~{:.1} MiB of tables",
                    intel.version(),
                    intel.load_time().as_secs_f64() * 1000.0,
                    intel.approx_bytes() as f64 / (1 << 20) as f64
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        IntelCommand::Import { kind, file, intel, name } => import(&kind, &file, &intel, name),
        IntelCommand::Export { dir } => {
            for (name, text) in EMBEDDED {
                let path = dir.join(name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
                }
                std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            }
            eprintln!("wrote {} files to {}", EMBEDDED.len(), dir.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn import(kind: &str, file: &Path, dir: &Path, name: Option<String>) -> anyhow::Result<ExitCode> {
    let Some(k) = SourceKind::parse(kind) else {
        let known: Vec<&str> = SourceKind::ALL.iter().map(|k| k.as_str()).collect();
        bail!("unknown kind {kind:?}; known: {}", known.join(", "));
    };
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let name = name.unwrap_or_else(|| file.file_stem().map_or("imported".into(), |s| s.to_string_lossy().into_owned()));
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        bail!("--name: use letters, digits, - and _");
    }
    let ext = file.extension().map_or("txt".into(), |e| e.to_string_lossy().into_owned());
    let rel = format!("imported/{name}.{ext}");
    let entry = sheepdog_intel::ManifestSource {
        name: name.clone(),
        kind: k.as_str().to_string(),
        file: rel.clone(),
        version: String::new(),
        origin: file.display().to_string(),
        licence: "-".into(),
    };
    // Validate before touching the directory: a broken file never reaches the manifest.
    let mut b = sheepdog_intel::IntelBuilder::new();
    b.add(k, &entry, &text)?;
    let manifest_path = dir.join("manifest.toml");
    let manifest_text = std::fs::read_to_string(&manifest_path).with_context(|| {
        format!("reading {} (create one with `sheepdog intel export DIR`)", manifest_path.display())
    })?;
    let manifest = Manifest::parse(&manifest_text).map_err(|m| anyhow::anyhow!("{}: {m}", manifest_path.display()))?;
    std::fs::create_dir_all(dir.join("imported"))?;
    std::fs::write(dir.join(&rel), &text).with_context(|| format!("writing {rel}"))?;
    if !manifest.sources.iter().any(|s| s.name == name) {
        let mut out = manifest_text;
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!(
            "\n[[sources]]\nname = {:?}\nkind = {:?}\nfile = {:?}\norigin = {:?}\nlicence = \"-\"\n",
            name,
            k.as_str(),
            rel,
            entry.origin
        ));
        let tmp = dir.join("manifest.toml.tmp");
        std::fs::write(&tmp, out)?;
        std::fs::rename(&tmp, &manifest_path)?;
    }
    // The whole directory must still load.
    load(&IntelSource::Dir(dir.to_path_buf()))?;
    eprintln!(
        "imported {} as {name} ({kind}); reload a running server with SIGHUP or POST /v1/intel:reload",
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn check(intel: &Arc<Intel>, value: &str, region: &str, json: bool) -> anyhow::Result<ExitCode> {
    let value = value.trim();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let mut event = sheepdog_model::Event::new(sheepdog_model::EventType::Registration);
    let mut out = serde_json::Map::new();
    if let Ok(ip) = value.parse::<std::net::IpAddr>() {
        event.ip = Some(ip);
        out.insert("ip".into(), serde_json::to_value(intel.ip(ip))?);
    } else if value.contains('@') {
        event.email = Some(value.into());
        out.insert("email".into(), serde_json::to_value(intel.email(value))?);
    } else {
        event.phone = Some(value.into());
        event.region = Some(region.to_ascii_uppercase().into());
        let facts = intel
            .phone(value, region, 4, now)
            .with_context(|| format!("{value:?} is not a phone number, IP address or e-mail address"))?;
        out.insert("phone".into(), serde_json::to_value(facts)?);
    }
    let mut keys = sheepdog_engine::Keys::default();
    let mut signals = Vec::new();
    sheepdog_engine::enrich::enrich(
        &event,
        &sheepdog_engine::EnrichOptions::default(),
        intel,
        now,
        &mut keys,
        &mut signals,
    );
    let reasons: Vec<_> = signals
        .iter()
        .map(|s| s.def.reason_full(s.weight.unwrap_or(s.def.weight), s.value, s.detail.as_deref()))
        .collect();
    out.insert("reasons".into(), serde_json::to_value(&reasons)?);
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::Value::Object(out))?);
        return Ok(ExitCode::SUCCESS);
    }
    print_table("", &serde_json::Value::Object(out.clone()));
    Ok(ExitCode::SUCCESS)
}

fn print_table(prefix: &str, v: &serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                match v {
                    serde_json::Value::Object(_) => print_table(&key, v),
                    serde_json::Value::Array(a) if k == "reasons" => {
                        if a.is_empty() {
                            println!("{key:<28} none");
                        }
                        for r in a {
                            println!(
                                "{key:<28} {} ({}): {}",
                                r["code"].as_str().unwrap_or(""),
                                r["weight"],
                                r["message"].as_str().unwrap_or("")
                            );
                        }
                    }
                    serde_json::Value::Array(a) => {
                        if a.is_empty() {
                            println!("{key:<28} none");
                        }
                        for (i, item) in a.iter().enumerate() {
                            print_table(&format!("{key}[{i}]"), item);
                        }
                    }
                    serde_json::Value::Null => println!("{key:<28} -"),
                    serde_json::Value::String(s) => println!("{key:<28} {s}"),
                    other => println!("{key:<28} {other}"),
                }
            }
        }
        other => println!("{prefix:<28} {other}"),
    }
}
