//! The server face: `plexus serve` exposes the engine over HTTP and WebSocket. It wraps the same
//! engine and gate as the embedded console; it decides nothing on its own.

pub mod agents;
pub mod alerts;
pub mod auth;
pub mod channel;
pub mod error;
pub mod events;
pub mod fl;
pub mod json;
pub mod metrics;
pub mod rollouts;
pub mod routes;
pub mod state;
pub mod stress;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use crate::api::ApiError;
use crate::engine::Engine;
pub use state::AppState;

/// Largest request body accepted (configs and FL updates included).
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

pub struct ServeOptions {
    pub listen: SocketAddr,
    pub tls: Option<(PathBuf, PathBuf)>,
}

pub fn router(state: AppState) -> Router {
    use routes::*;
    let v1 = Router::new()
        .route("/sessions", post(open_session))
        .route("/command", post(command))
        .route("/query", post(query))
        .route("/status", get(status))
        .route("/neurons", get(neurons))
        .route("/neurons/{id}", get(neuron))
        .route("/neurons/{id}/logs", get(logs))
        .route("/neurons/{id}/recover", post(recover))
        .route("/neurons/{id}/forget", post(forget_neuron))
        .route("/failures", get(failures))
        .route("/events", get(events::events))
        .route("/users", get(users).post(add_user))
        .route("/users/{name}", axum::routing::delete(remove_user))
        .route(
            "/users/{name}/token",
            post(issue_token).delete(revoke_token),
        )
        .route("/users/{name}/role", post(set_role))
        .route("/audit", get(audit))
        .route("/audit/verify", get(audit_verify))
        .route("/agents/register", post(agents::register))
        .route("/agents/{id}/messages", post(agents::message))
        .route("/agents/{id}/channel", get(channel::channel))
        .route("/rollouts", get(rollouts::list))
        .route("/rollouts/{id}", get(rollouts::show))
        .route("/rollouts/config", post(rollouts::config))
        .route("/rollouts/experiment", post(rollouts::experiment))
        .route("/rollouts/rollback", post(rollouts::rollback))
        .route("/alerts", get(alerts::list))
        .route("/alerts/{fingerprint}/ack", post(alerts::ack))
        .route(
            "/silences",
            get(alerts::silences).post(alerts::create_silence),
        )
        .route(
            "/silences/{id}",
            axum::routing::delete(alerts::expire_silence),
        )
        .route("/fl/runs", get(fl::list).post(fl::start))
        .route("/fl/runs/{id}", get(fl::show))
        .route("/fl/runs/{id}/stop", post(fl::stop));
    let original = Router::new()
        .route("/status", get(status))
        .route("/failure-detection/status", get(failure_detection_status))
        .route(
            "/failure-detection/failures/{neuron_id}",
            get(neuron_failures),
        )
        .route("/failure-detection/recovery/{neuron_id}", post(recover))
        .route("/stress-test/start", post(stress::start))
        .route("/stress-test/status/{test_id}", get(stress::status))
        .route("/stress-test/stop/{test_id}", post(stress::stop))
        .route("/test/cleanup", post(stress::cleanup))
        .route("/configs/broadcast", post(rollouts::config))
        .route("/experiments/broadcast", post(rollouts::experiment))
        .route("/neurons/{neuron_id}/logs", get(logs));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(routes::metrics))
        .nest("/api/v1", v1)
        .nest("/api/federation", original)
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// An unknown route answers like every other error: `{code, message}` with 404.
async fn no_route(uri: axum::http::Uri) -> error::HttpError {
    error::HttpError::from(ApiError::not_found(format!(
        "no route {}; the API is under /api/v1 and /api/federation (README, Server)",
        uri.path()
    )))
}

/// Record each request's latency under its route pattern (not the raw path: bounded labels).
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    state.0.http.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// How the server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Ctrl-C or SIGTERM.
    Signal,
    /// The engine thread stopped under it: the process must not go on answering 503s.
    EngineStopped,
}

/// How often the server checks that its engine still runs.
const ENGINE_WATCH: std::time::Duration = std::time::Duration::from_millis(500);

/// Serve until Ctrl-C (or SIGTERM), or until the engine stops.
pub async fn serve(engine: Engine, options: ServeOptions) -> Result<Ended, ApiError> {
    let listener = std::net::TcpListener::bind(options.listen)
        .map_err(|e| ApiError::failed(format!("cannot listen on {}: {e}", options.listen)))?;
    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    let watched = engine.clone();
    let ended = tokio::spawn(async move {
        let mut watch = tokio::time::interval(ENGINE_WATCH);
        let ended = tokio::select! {
            _ = shutdown_signal() => Ended::Signal,
            _ = async { loop {
                watch.tick().await;
                if !watched.is_running() { break; }
            } } => Ended::EngineStopped,
        };
        let grace = match ended {
            Ended::Signal => 5,
            Ended::EngineStopped => 1,
        };
        shutdown.graceful_shutdown(Some(std::time::Duration::from_secs(grace)));
        ended
    });
    serve_on(engine, listener, options.tls, handle).await?;
    Ok(ended.await.unwrap_or(Ended::Signal))
}

/// Serve on a bound listener until `handle` shuts it down (tests bind port 0 and read it back).
pub async fn serve_on(
    engine: Engine,
    listener: std::net::TcpListener,
    tls: Option<(PathBuf, PathBuf)>,
    handle: axum_server::Handle,
) -> Result<(), ApiError> {
    listener
        .set_nonblocking(true)
        .map_err(|e| ApiError::failed(format!("listener: {e}")))?;
    let address = listener
        .local_addr()
        .map_err(|e| ApiError::failed(format!("listener: {e}")))?;
    let app = router(AppState::new(engine)).into_make_service_with_connect_info::<SocketAddr>();
    let bind_error =
        |e: std::io::Error| ApiError::failed(format!("cannot serve on {address}: {e}"));
    match tls {
        Some((cert, key)) => {
            // Two TLS back-ends are linked in (the HTTP client's and the server's): pick one for
            // the process. An error only means one was installed already.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| {
                    ApiError::bad_input(format!(
                        "TLS certificate {} / key {}: {e}",
                        cert.display(),
                        key.display()
                    ))
                })?;
            axum_server::from_tcp_rustls(listener, config)
                .handle(handle)
                .serve(app)
                .await
                .map_err(bind_error)
        }
        None => axum_server::from_tcp(listener)
            .handle(handle)
            .serve(app)
            .await
            .map_err(bind_error),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
