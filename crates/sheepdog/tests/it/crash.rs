//! Crash recovery: SIGKILL a real `sheepdog serve` mid-stream, restart it on the same data
//! directory, and find every answered event counted and remembered.

use std::ffi::OsStr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{post, serve, Server};

const T0: i64 = 1_764_000_000_000;

fn start(data: &std::path::Path) -> Server {
    serve(&[OsStr::new("--data"), data.as_os_str()])
}

fn event(i: u64) -> String {
    json!({"id": format!("c{i}"), "type": "registration", "timestamp": T0 + i as i64,
           "ip": "192.0.2.77", "account_id": format!("acct-{i}"), "device": {"id": format!("d{i}")}})
    .to_string()
}

fn count_after(addr: &str, probe_id: &str) -> f64 {
    let probe =
        json!({"id": probe_id, "type": "registration", "timestamp": T0 + 100_000, "ip": "192.0.2.77"}).to_string();
    let (status, body) = post(addr, "/v1/events?explain=true", &probe).expect("probe answered");
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["features"]["registrations_per_ip_1h"].as_f64().unwrap()
}

#[test]
fn answered_events_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path());
    let addr = server.addr.clone();
    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let answered: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let (addr, next, stop, answered) = (addr.clone(), next.clone(), stop.clone(), answered.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    match post(&addr, "/v1/events", &event(i)) {
                        Some((200, body)) => answered.lock().unwrap().push((i, body)),
                        Some((status, body)) => panic!("{status}: {body}"),
                        None => break,
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    while answered.lock().unwrap().len() < 400 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.child.kill().unwrap(); // SIGKILL, mid-stream
    server.child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.join().unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    let sent = next.load(Ordering::Relaxed);
    assert!(answered.len() >= 400, "only {} answered before the kill", answered.len());

    let mut server = start(dir.path());
    let counted = count_after(&server.addr, "probe-1");
    // Every answered event is counted; events in flight at the kill may or may not be.
    assert!(counted >= answered.len() as f64 + 1.0, "counted {counted}, answered {}", answered.len());
    assert!(counted <= sent as f64 + 1.0, "counted {counted}, sent {sent}");
    // Every answered id is remembered: the same decision comes back and nothing counts twice.
    for (i, first) in &answered {
        let (status, again) = post(&server.addr, "/v1/events", &event(*i)).unwrap();
        assert_eq!(status, 200);
        let (a, b): (Value, Value) = (serde_json::from_str(first).unwrap(), serde_json::from_str(&again).unwrap());
        assert_eq!(a, b, "event c{i}");
    }
    assert_eq!(count_after(&server.addr, "probe-2"), counted + 1.0, "repeats did not count");

    // A clean stop (SIGTERM) snapshots; the next start resumes from it.
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(server.child.wait().unwrap().success(), "graceful shutdown exits 0");
    assert!(std::fs::read_dir(dir.path()).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("snapshot-")));
    let mut server = start(dir.path());
    assert_eq!(count_after(&server.addr, "probe-3"), counted + 2.0);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
