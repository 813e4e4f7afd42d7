//! Tests of the real `sheepdog` binary: the batch CLI, `text scan`, crash recovery of `serve`, `sim` and `eval`.

mod crash;
mod eval;
mod intel;
mod readme;
mod reload;
mod score;
mod text;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sheepdog"))
}

/// Runs `sheepdog ARGS…` with `stdin`, parses stdout as NDJSON: (exit code, lines, stderr).
pub fn run_ndjson(args: &[&str], stdin: &[u8]) -> (i32, Vec<serde_json::Value>, String) {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (out.status.code().unwrap(), lines, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A running `sheepdog serve` on an ephemeral loopback port; killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `sheepdog serve --listen 127.0.0.1:0 ARGS…` and waits for its address.
pub fn serve<S: AsRef<OsStr>>(args: &[S]) -> Server {
    let mut child = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env("SHEEPDOG_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr =
        line.trim().strip_prefix("sheepdog listening on ").unwrap_or_else(|| panic!("unexpected: {line}")).to_string();
    Server { child, addr }
}

/// One HTTP/1.1 POST on a fresh connection: status and body; `None` when the server is gone.
pub fn post(addr: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let status = resp.get(9..12)?.parse().ok()?;
    let body = resp.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
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

#[test]
fn the_guides_policy_examples_compile() {
    let guide = include_str!("../../../../GUIDE.md");
    let section = &guide[guide.find("## Policy files with rules").expect("section")..];
    let section = &section[..section[3..].find("\n## ").expect("next section")];
    let blocks: Vec<&str> = section.split("```toml").skip(1).map(|b| &b[..b.find("```").unwrap()]).collect();
    assert_eq!(blocks.len(), 2);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("guide.toml");
    std::fs::write(&file, blocks.concat()).unwrap();
    let out = std::process::Command::new(bin()).args(["policy", "check"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).matches("  rule ").count(), 7);
}
