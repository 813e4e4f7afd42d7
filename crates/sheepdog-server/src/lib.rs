//! The HTTP API: `POST /v1/events`, `POST /v1/events:batch`, `GET /healthz`, `GET /metrics`.
//!
//! Holds no detection logic: it parses, authenticates, calls the engine, waits until the
//! decision is durable, and answers. Every error is one `ApiError` body
//! `{"error":{"code","message","field"}}`; internals never reach the client.

mod error;
mod metrics;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use sheepdog_engine::{Engine, Output};
use sheepdog_model::{parse_event, ErrorCode, EventError};
use subtle::ConstantTimeEq;

pub use error::ApiError;
use metrics::Metrics;

/// Largest request body.
pub const BODY_LIMIT: usize = 1 << 20;
/// Most events in one batch.
pub const BATCH_LIMIT: usize = 10_000;

/// Reloads intelligence from its source and swaps it into the engine; returns the new intel
/// version, or why the load failed (the previous intelligence keeps serving).
pub type IntelReloader = Arc<dyn Fn() -> Result<String, String> + Send + Sync>;

/// Server options.
#[derive(Clone, Default)]
pub struct ServerOptions {
    /// Accepted API keys; empty: no authentication.
    pub api_keys: Vec<String>,
    /// Keys for admin routes (`/v1/intel:reload`); empty: the API keys.
    pub admin_keys: Vec<String>,
    /// Snapshot at least this often while new events arrive (durable engines only).
    pub snapshot_interval: Option<Duration>,
    /// How to reload intelligence (SIGHUP, `POST /v1/intel:reload`); none: reload is refused.
    pub intel_reloader: Option<IntelReloader>,
    /// How to reload the policy file on SIGHUP (returns the new version); none: not on SIGHUP.
    pub policy_reloader: Option<IntelReloader>,
}

struct Inner {
    engine: Arc<Engine>,
    api_keys: Vec<Vec<u8>>,
    admin_keys: Vec<Vec<u8>>,
    reloader: Option<IntelReloader>,
    metrics: Metrics,
}

/// Shared state of the routes.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    pub fn new(engine: Arc<Engine>, options: &ServerOptions) -> AppState {
        AppState(Arc::new(Inner {
            engine,
            api_keys: options.api_keys.iter().map(|k| k.as_bytes().to_vec()).collect(),
            admin_keys: options.admin_keys.iter().map(|k| k.as_bytes().to_vec()).collect(),
            reloader: options.intel_reloader.clone(),
            metrics: Metrics::new(),
        }))
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.0.engine
    }
}

/// The router, ready for `axum::serve` or `oneshot` in tests.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/v1/events", post(post_event))
        .route("/v1/events:batch", post(post_batch))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    let admin = Router::new()
        .route("/v1/intel:reload", post(reload_intel))
        .route("/v1/policy", post(post_policy).get(get_policy))
        .route("/v1/policy:activate", post(activate_policy))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate_admin));
    Router::new()
        .merge(api)
        .merge(admin)
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                "method not allowed on this route",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn key_matches(keys: &[Vec<u8>], headers: &HeaderMap) -> bool {
    let presented =
        headers.get(header::AUTHORIZATION).and_then(|v| v.as_bytes().strip_prefix(b"Bearer ")).map(|k| k.trim_ascii());
    // Check every key so the time taken does not tell which one was close.
    presented.is_some_and(|p| keys.iter().fold(subtle::Choice::from(0u8), |acc, k| acc | k.as_slice().ct_eq(p)).into())
}

fn unauthorized(state: &AppState) -> Response {
    state.0.metrics.error(ErrorCode::Unauthorized);
    let mut r =
        ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "missing or wrong API key").into_response();
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

async fn authenticate(State(state): State<AppState>, headers: HeaderMap, req: Request, next: Next) -> Response {
    if state.0.api_keys.is_empty() || key_matches(&state.0.api_keys, &headers) {
        next.run(req).await
    } else {
        unauthorized(&state)
    }
}

/// Admin routes take an admin key; without admin keys configured, an API key.
async fn authenticate_admin(State(state): State<AppState>, headers: HeaderMap, req: Request, next: Next) -> Response {
    let keys = if state.0.admin_keys.is_empty() { &state.0.api_keys } else { &state.0.admin_keys };
    if keys.is_empty() || key_matches(keys, &headers) {
        next.run(req).await
    } else {
        unauthorized(&state)
    }
}

/// Loads the policy in the body (a policy file's TOML) and swaps it in atomically: an event in
/// flight sees the old or the new policy whole. A policy that fails to load is refused with
/// every error, and the running one keeps serving.
async fn post_policy(State(state): State<AppState>, body: axum::body::Bytes) -> Result<Response, ApiError> {
    let Ok(text) = std::str::from_utf8(&body) else {
        state.0.metrics.error(ErrorCode::InvalidValue);
        return Err(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidValue, "the policy is not UTF-8"));
    };
    match sheepdog_policy::load_policy(text) {
        Ok(policy) => {
            let version = policy.version().to_string();
            state.0.engine.set_policy(policy);
            tracing::info!(%version, "policy loaded");
            Ok((StatusCode::OK, axum::Json(serde_json::json!({"status": "loaded", "policy_version": version})))
                .into_response())
        }
        Err(e) => {
            state.0.metrics.error(ErrorCode::InvalidValue);
            tracing::warn!(error = %e.message, "policy refused; the previous policy keeps serving");
            Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidValue, e.message))
        }
    }
}

/// The current policy version and the earlier ones kept for rollback, newest first.
async fn get_policy(State(state): State<AppState>) -> Response {
    let e = &state.0.engine;
    axum::Json(serde_json::json!({
        "policy_version": e.policy().version().to_string(),
        "history": e.policy_history().iter().map(|v| v.to_string()).collect::<Vec<_>>(),
    }))
    .into_response()
}

/// Rolls back to a kept version: body `{"policy_version": "…"}`.
async fn activate_policy(State(state): State<AppState>, body: axum::body::Bytes) -> Result<Response, ApiError> {
    let version = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("policy_version").and_then(|v| v.as_str()).map(str::to_string));
    let Some(version) = version else {
        state.0.metrics.error(ErrorCode::InvalidValue);
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidValue,
            "send {\"policy_version\": \"…\"}, one of GET /v1/policy's history",
        ));
    };
    if state.0.engine.activate_policy(&version) {
        tracing::info!(%version, "policy rolled back");
        Ok(axum::Json(serde_json::json!({"status": "loaded", "policy_version": version})).into_response())
    } else {
        state.0.metrics.error(ErrorCode::InvalidValue);
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::InvalidValue,
            format!("policy version {version} is not among the kept ones"),
        ))
    }
}

async fn reload_intel(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some(reloader) = state.0.reloader.clone() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::InvalidValue,
            "intelligence reload is not configured",
        ));
    };
    let result = tokio::task::spawn_blocking(move || reloader()).await.map_err(|e| unavailable(&state, e))?;
    match result {
        Ok(version) => {
            Ok((StatusCode::OK, axum::Json(serde_json::json!({"status": "reloaded", "intel_version": version})))
                .into_response())
        }
        Err(why) => {
            tracing::warn!(error = %why, "intel reload refused; the previous intelligence keeps serving");
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidValue,
                format!("intel reload failed, previous version kept: {why}"),
            ))
        }
    }
}

#[derive(Deserialize, Default)]
struct EventQuery {
    #[serde(default)]
    explain: bool,
}

fn body_or_error(state: &AppState, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        let e = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::TooLarge,
                format!("request body exceeds {BODY_LIMIT} bytes"),
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidJson, "could not read the request body")
        };
        state.0.metrics.error(e.code());
        e
    })
}

fn explain(state: &AppState, query: Result<Query<EventQuery>, QueryRejection>) -> Result<bool, ApiError> {
    match query {
        Ok(q) => Ok(q.explain),
        Err(_) => {
            state.0.metrics.error(ErrorCode::InvalidValue);
            Err(ApiError::from(EventError::at(
                ErrorCode::InvalidValue,
                "explain",
                "query parameter explain must be true or false",
            )))
        }
    }
}

fn json_response(status: StatusCode, bytes: Vec<u8>, content_type: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], bytes).into_response()
}

fn unavailable(state: &AppState, e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "engine failure");
    state.0.metrics.error(ErrorCode::Unavailable);
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Unavailable,
        "the engine cannot take events right now; retry later",
    )
}

fn decide_one(
    state: &AppState,
    raw: &[u8],
    received: i64,
    explain: bool,
) -> Result<Result<Output, EventError>, ApiError> {
    let event = match parse_event(raw) {
        Ok(e) => e,
        Err(e) => {
            state.0.metrics.error(e.code);
            return Ok(Err(e));
        }
    };
    let out = state.0.engine.decide(&event, raw, received, explain).map_err(|e| unavailable(state, e))?;
    if !out.repeat {
        state.0.metrics.decision(event.event_type, &out.decision);
    }
    Ok(Ok(out))
}

async fn post_event(
    State(state): State<AppState>,
    query: Result<Query<EventQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_or_error(&state, body)?;
    let explain = explain(&state, query)?;
    let out = match decide_one(&state, &body, now_ms(), explain)? {
        Ok(out) => out,
        Err(e) => return Err(ApiError::from(e)),
    };
    state.0.engine.wait_durable_async(out.durable_seq).await.map_err(|e| unavailable(&state, e))?;
    Ok(json_response(StatusCode::OK, out.json.to_vec(), "application/json"))
}

async fn post_batch(
    State(state): State<AppState>,
    query: Result<Query<EventQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_or_error(&state, body)?;
    let explain = explain(&state, query)?;
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let is_array = first == Some(&b'[');
    let items: Vec<&[u8]> = if is_array {
        let raws: Vec<&serde_json::value::RawValue> = serde_json::from_slice(&body).map_err(|e| {
            state.0.metrics.error(ErrorCode::InvalidJson);
            ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidJson,
                format!("batch is not a JSON array of events: {e}"),
            )
        })?;
        raws.into_iter().map(|r| r.get().as_bytes()).collect()
    } else {
        body.split(|b| *b == b'\n').filter(|l| !l.trim_ascii().is_empty()).collect()
    };
    if items.len() > BATCH_LIMIT {
        state.0.metrics.error(ErrorCode::TooLarge);
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!("a batch holds at most {BATCH_LIMIT} events"),
        ));
    }
    let received = now_ms();
    let mut results = Vec::with_capacity(items.len());
    let mut last_seq = None;
    for raw in items {
        let r = decide_one(&state, raw, received, explain)?;
        if let Ok(out) = &r {
            last_seq = last_seq.max(out.durable_seq);
        }
        results.push(r);
    }
    state.0.engine.wait_durable_async(last_seq).await.map_err(|e| unavailable(&state, e))?;
    let ndjson_out =
        !is_array || headers.get(header::ACCEPT).is_some_and(|a| a.as_bytes().starts_with(b"application/x-ndjson"));
    let mut out = Vec::with_capacity(results.len() * 256);
    if !ndjson_out {
        out.push(b'[');
    }
    for (i, r) in results.iter().enumerate() {
        if i > 0 && !ndjson_out {
            out.push(b',');
        }
        match r {
            Ok(o) => out.extend_from_slice(&o.json),
            Err(e) => serde_json::to_writer(&mut out, e).map_err(|e| unavailable(&state, e))?,
        }
        if ndjson_out {
            out.push(b'\n');
        }
    }
    if !ndjson_out {
        out.push(b']');
    }
    let ct = if ndjson_out { "application/x-ndjson" } else { "application/json" };
    Ok(json_response(StatusCode::OK, out, ct))
}

async fn healthz(State(state): State<AppState>) -> Response {
    let store = state.0.engine.store().health();
    let status = if store.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = serde_json::json!({
        "status": if store.is_ok() { "ok" } else { "unavailable" },
        "policy_version": &*state.0.engine.policy().version().clone(),
        "intel_version": state.0.engine.intel().version(),
        "intel_loaded_at_ms": state.0.engine.intel().loaded_at_ms(),
    });
    (status, axum::Json(body)).into_response()
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    let text = state.0.metrics.render(&state.0.engine);
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
        .into_response()
}

/// Serves until SIGTERM or Ctrl-C, then drains connections and shuts the engine down (journal
/// flush and a final snapshot).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState, options: ServerOptions) -> std::io::Result<()> {
    let engine = state.engine().clone();
    let snapshots = options.snapshot_interval.map(|every| {
        let engine = engine.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut last = tokio::time::Instant::now();
            loop {
                tick.tick().await;
                let due = last.elapsed() >= every;
                let e = engine.clone();
                let took =
                    tokio::task::spawn_blocking(
                        move || {
                            if due {
                                e.snapshot().map(|_| true)
                            } else {
                                e.maybe_snapshot()
                            }
                        },
                    )
                    .await;
                match took {
                    Ok(Ok(true)) => last = tokio::time::Instant::now(),
                    Ok(Ok(false)) => {}
                    Ok(Err(err)) => tracing::error!(error = %err, "snapshot failed"),
                    Err(err) => tracing::error!(error = %err, "snapshot task failed"),
                }
            }
        })
    });
    #[cfg(unix)]
    let reloaders: Vec<(&'static str, IntelReloader)> =
        [("intel", &options.intel_reloader), ("policy", &options.policy_reloader)]
            .into_iter()
            .filter_map(|(what, r)| r.clone().map(|r| (what, r)))
            .collect();
    let hup = (!reloaders.is_empty()).then(|| {
        tokio::spawn(async move {
            let Ok(mut hups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else { return };
            while hups.recv().await.is_some() {
                for (what, reloader) in &reloaders {
                    let r = reloader.clone();
                    match tokio::task::spawn_blocking(move || r()).await {
                        Ok(Ok(version)) => tracing::info!(what, %version, "reloaded on SIGHUP"),
                        Ok(Err(why)) => {
                            tracing::warn!(what, error = %why, "reload on SIGHUP failed; previous version kept")
                        }
                        Err(e) => tracing::error!(what, error = %e, "reload task failed"),
                    }
                }
            }
        })
    });
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(?addr, "serving");
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown_signal()).await?;
    if let Some(t) = snapshots {
        t.abort();
    }
    #[cfg(unix)]
    if let Some(t) = hup {
        t.abort();
    }
    tracing::info!("shutting down: flushing state");
    tokio::task::spawn_blocking(move || engine.shutdown())
        .await
        .map_err(std::io::Error::other)?
        .map_err(std::io::Error::other)?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
