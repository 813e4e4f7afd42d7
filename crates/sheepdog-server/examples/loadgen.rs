//! An open-loop HTTP load generator for `BENCHMARKS.md`: sends NDJSON events from a file to
//! `POST /v1/events` at a fixed total rate over keep-alive connections, and reports latency
//! percentiles measured two ways: from each request's *scheduled* send time (a stalled server
//! cannot hide its queueing: no coordinated omission; includes up to ~1 ms of tokio timer slack)
//! and from its actual send time (service latency). Loopback only.
//!
//! `cargo run --release -p sheepdog-server --example loadgen -- ADDR RATE SECONDS CONNECTIONS FILE`
//! e.g. `… --example loadgen -- 127.0.0.1:7878 25000 15 64 /tmp/load-live.ndjson`

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: loadgen ADDR RATE SECONDS CONNECTIONS FILE");
        std::process::exit(2);
    }
    let addr = args[1].clone();
    assert!(addr.starts_with("127.") || addr.starts_with("localhost") || addr.starts_with("[::1]"), "loopback only");
    let rate: f64 = args[2].parse().expect("RATE");
    let seconds: f64 = args[3].parse().expect("SECONDS");
    let conns: usize = args[4].parse().expect("CONNECTIONS");
    let text = std::fs::read_to_string(&args[5]).expect("FILE");
    let bodies: Arc<Vec<String>> = Arc::new(text.lines().filter(|l| !l.is_empty()).map(str::to_string).collect());
    let total = (rate * seconds) as usize;
    let per_conn_interval = Duration::from_secs_f64(conns as f64 / rate);
    let start = Instant::now() + Duration::from_millis(100);
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (addr, bodies) = (addr.clone(), bodies.clone());
        let n = total / conns;
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(&addr).await.expect("connect");
            stream.set_nodelay(true).ok();
            let mut lat = Vec::with_capacity(n);
            let mut service = Vec::with_capacity(n);
            let mut errors = 0u64;
            let mut buf = vec![0u8; 64 * 1024];
            // Stagger connections across one interval.
            let offset = per_conn_interval.mul_f64(c as f64 / conns as f64);
            for i in 0..n {
                let due = start + offset + per_conn_interval.mul_f64(i as f64);
                tokio::time::sleep_until(due.into()).await;
                let body = &bodies[(c * 7919 + i * conns) % bodies.len()];
                let sent = Instant::now();
                let req = format!("POST /v1/events HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                stream.write_all(req.as_bytes()).await.expect("write");
                // Read one response: headers, then Content-Length bytes.
                let mut got = 0usize;
                let complete = loop {
                    let k = stream.read(&mut buf[got..]).await.expect("read");
                    if k == 0 {
                        break None;
                    }
                    got += k;
                    if let Some(h) = find(&buf[..got], b"\r\n\r\n") {
                        let head = std::str::from_utf8(&buf[..h]).unwrap_or("");
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                            .unwrap_or(0);
                        if got >= h + 4 + len {
                            break Some(head.starts_with("HTTP/1.1 200"));
                        }
                    }
                };
                match complete {
                    Some(true) => {}
                    Some(false) => errors += 1,
                    None => panic!("server closed the connection"),
                }
                lat.push(due.elapsed());
                service.push(sent.elapsed());
            }
            (lat, service, errors)
        }));
    }
    let mut all = Vec::with_capacity(total);
    let mut service = Vec::with_capacity(total);
    let mut errors = 0;
    for t in tasks {
        let (l, s, e) = t.await.expect("task");
        all.extend(l);
        service.extend(s);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!("sent={} achieved={:.0}/s non200={errors}", all.len(), all.len() as f64 / elapsed);
    for (name, mut v) in [("from schedule", all), ("from send", service)] {
        v.sort();
        let p = |q: f64| v[((v.len() as f64 - 1.0) * q) as usize].as_micros();
        println!(
            "  {name:>13}: p50={}us p90={}us p99={}us p999={}us max={}us",
            p(0.5),
            p(0.9),
            p(0.99),
            p(0.999),
            v.last().map_or(0, |d| d.as_micros())
        );
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}
