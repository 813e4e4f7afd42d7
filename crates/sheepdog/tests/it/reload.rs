//! Hot reload of intelligence in a running server: SIGHUP and `POST /v1/intel:reload` swap the
//! set while requests flow; a broken file keeps the previous set serving.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bin;

fn post(addr: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let req =
        format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    (resp[9..12].parse().unwrap(), resp.split_once("\r\n\r\n").unwrap().1.to_string())
}

fn score_of(addr: &str) -> Value {
    let (status, body) = post(addr, "/v1/events", r#"{"type":"registration","phone":"+8613698765432"}"#);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn sighup_and_endpoint_reload_without_dropping_requests() {
    let dir = tempfile::tempdir().unwrap();
    let intel = dir.path().join("intel");
    assert!(Command::new(bin()).args(["intel", "export"]).arg(&intel).status().unwrap().success());
    let mut child = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--intel"])
        .arg(&intel)
        .env("SHEEPDOG_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("sheepdog listening on ").unwrap().to_string();
    assert_eq!(score_of(&addr)["decision"], "allow");

    // Requests keep flowing on another thread through every reload.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flow = {
        let (addr, stop) = (addr.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, _) = post(&addr, "/v1/events", r#"{"type":"login","ip":"47.100.1.2"}"#);
                assert_eq!(status, 200);
                n += 1;
            }
            n
        })
    };

    // Deny the number, reload through the endpoint.
    std::fs::write(intel.join("sheepdog/operator-list.tsv"), "deny\tphone\t+8613698765432\n").unwrap();
    let (status, body) = post(&addr, "/v1/intel:reload", "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(score_of(&addr)["decision"], "deny");

    // Break a file: the reload is refused, the previous set keeps serving.
    std::fs::write(intel.join("sheepdog/operator-list.tsv"), "deny\tplanet\tmars\n").unwrap();
    let (status, body) = post(&addr, "/v1/intel:reload", "");
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("operator-list") && body.contains("line 1"), "{body}");
    assert_eq!(score_of(&addr)["decision"], "deny");

    // Lift the entry and reload with SIGHUP.
    std::fs::write(intel.join("sheepdog/operator-list.tsv"), "").unwrap();
    assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    let started = Instant::now();
    while score_of(&addr)["decision"] != "allow" {
        assert!(started.elapsed() < Duration::from_secs(30), "SIGHUP reload did not take effect");
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(flow.join().unwrap() > 0);
    child.kill().unwrap();
    child.wait().unwrap();
}
