//! The HTTP baseline for `BENCHMARKS.md`: a hello-world axum JSON endpoint, built like the real
//! server (same axum features, same runtime), that parses the posted JSON and answers a small
//! JSON object. `cargo run --release -p sheepdog-server --example hello -- 127.0.0.1:7879`

use axum::body::Bytes;
use axum::routing::post;
use axum::{Json, Router};

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7879".into());
    let app = Router::new().route(
        "/v1/events",
        post(|body: Bytes| async move {
            let v: serde_json::Value =
                serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            Json(serde_json::json!({"event_id": v.get("id"), "decision": "allow", "score": 0}))
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!("hello listening on {addr}");
    axum::serve(listener, app).await.expect("serve");
}
