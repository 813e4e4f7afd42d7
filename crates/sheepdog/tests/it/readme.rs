//! The README's curl example, sent to a real `sheepdog serve`, returns the decision the README
//! shows (everything but `latency_us`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::bin;

const README: &str = include_str!("../../../../README.md");

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let a = text.find(start).unwrap_or_else(|| panic!("README lacks {start:?}")) + start.len();
    let b = text[a..].find(end).unwrap_or_else(|| panic!("README lacks {end:?} after {start:?}")) + a;
    &text[a..b]
}

#[test]
fn the_readme_example_returns_the_documented_decision() {
    let request = between(README, "-d '", "'\n```");
    let documented: Value = serde_json::from_str(between(README, "```json\n", "```")).unwrap();
    let mut child = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SHEEPDOG_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("sheepdog listening on ").unwrap().to_string();
    let mut s = TcpStream::connect(&addr).unwrap();
    let req = format!(
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{request}",
        request.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let mut got: Value = serde_json::from_str(resp.split_once("\r\n\r\n").unwrap().1).unwrap();
    let mut want = documented;
    got.as_object_mut().unwrap().remove("latency_us");
    want.as_object_mut().unwrap().remove("latency_us");
    assert_eq!(got, want);
}
