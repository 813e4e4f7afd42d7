//! `sheepdog text scan`: runs the content-audit matcher over texts (one per stdin line, or the
//! argument) and writes one JSON object of matches per text.

use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use serde::Serialize;
use sheepdog_text::{Lexicon, Matcher, MatcherOptions};

/// Longest accepted stdin line, as for `sheepdog score`.
use crate::lines::{read_line, MAX_LINE};

#[derive(clap::Subcommand)]
pub enum TextCommand {
    /// Find black-market ads, contact diversion and scam scripts in texts
    #[command(
        after_help = "Examples:\n  sheepdog text scan '专业接碼，加薇信 ab1234'\n  sheepdog text scan < messages.txt > matches.ndjson\n  sheepdog text scan --lexicon extra.tsv --allow allow.txt < messages.txt\n\nOutput: one line per text, {\"matches\":[{\"term\",\"category\",\"start\",\"end\",\"matched\"}]},\nspans in characters of the original text, end exclusive. A stdin line that is not\nUTF-8 (or longer than 1 MiB) yields {\"error\":{\"code\",\"message\",\"line\"}} and the scan\ngoes on. Lexicon files: term<TAB>category[<TAB>weight[<TAB>flags]], # comments.\nExit status: 0, or 2 when a lexicon file is invalid or the input cannot be read."
    )]
    Scan(TextScanArgs),
}

#[derive(clap::Args)]
pub struct TextScanArgs {
    /// Extra lexicon file (TSV); may be repeated; later terms override earlier ones
    #[arg(long, value_name = "FILE")]
    pub lexicon: Vec<PathBuf>,
    /// Allow-list file (one term per line); may be repeated
    #[arg(long, value_name = "FILE")]
    pub allow: Vec<PathBuf>,
    /// Start from an empty lexicon instead of the built-in one
    #[arg(long)]
    pub no_default_lexicon: bool,
    /// Text to scan (default: one text per line of stdin)
    pub text: Option<String>,
}

#[derive(Serialize)]
struct Found<'a> {
    term: &'a str,
    category: &'static str,
    start: usize,
    end: usize,
    matched: &'a str,
}

#[derive(Serialize)]
struct Matches<'a> {
    matches: Vec<Found<'a>>,
}

#[derive(Serialize)]
struct LineErrorBody {
    code: &'static str,
    message: String,
    line: u64,
}

#[derive(Serialize)]
struct LineErrorOut {
    error: LineErrorBody,
}

fn build_matcher(args: &TextScanArgs) -> anyhow::Result<Arc<Matcher>> {
    if args.lexicon.is_empty() && args.allow.is_empty() && !args.no_default_lexicon {
        return Ok(Matcher::builtin());
    }
    let mut lexicon = if args.no_default_lexicon { Lexicon::new() } else { Lexicon::builtin() };
    for path in &args.lexicon {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading lexicon {}", path.display()))?;
        lexicon.add_tsv(&path.display().to_string(), &text)?;
    }
    for path in &args.allow {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading allow-list {}", path.display()))?;
        lexicon.add_allow_list(&path.display().to_string(), &text)?;
    }
    Ok(Arc::new(Matcher::new(&lexicon, MatcherOptions::default())?))
}

fn write_matches(out: &mut dyn Write, matcher: &Matcher, text: &str) -> io::Result<()> {
    let found = matcher.scan(text);
    let body = Matches {
        matches: found
            .iter()
            .map(|m| Found {
                term: &m.term,
                category: m.category.name(),
                start: m.start,
                end: m.end,
                matched: m.matched,
            })
            .collect(),
    };
    serde_json::to_writer(&mut *out, &body)?;
    out.write_all(b"\n")
}

fn write_error(out: &mut dyn Write, code: &'static str, message: String, line: u64) -> io::Result<()> {
    let body = LineErrorOut { error: LineErrorBody { code, message, line } };
    serde_json::to_writer(&mut *out, &body)?;
    out.write_all(b"\n")
}

pub fn run(args: TextScanArgs) -> anyhow::Result<ExitCode> {
    let matcher = build_matcher(&args)?;
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = match &args.text {
        Some(text) => write_matches(&mut out, &matcher, text),
        None => scan_lines(&mut out, &matcher),
    };
    match result.and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}

fn scan_lines(out: &mut dyn Write, matcher: &Matcher) -> io::Result<()> {
    let stdin = io::stdin();
    let mut reader = BufReader::with_capacity(1 << 16, stdin.lock());
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    while let Some(line) = read_line(&mut reader, &mut buf, MAX_LINE)? {
        let fits = line.fits;
        line_no += 1;
        if !fits {
            write_error(out, "line_too_long", format!("line {line_no} is longer than {MAX_LINE} bytes"), line_no)?;
            continue;
        }
        match std::str::from_utf8(&buf) {
            Ok(text) => write_matches(out, matcher, text)?,
            Err(e) => write_error(
                out,
                "invalid_utf8",
                format!("line {line_no} is not valid UTF-8 (invalid byte at offset {})", e.valid_up_to()),
                line_no,
            )?,
        }
    }
    Ok(())
}
