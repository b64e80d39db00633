//! The HTTP application: public pages (DSFR), the JSON API under `/api/v1` with its OpenAPI
//! document, health checks, and the server's start and graceful stop.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod api;
pub mod api_candidatures;
pub mod assets;
pub mod auth;
pub mod candidatures;
pub mod error;
pub mod format;
pub mod organisation;
pub mod pages;
pub mod query;
pub mod secrets;
pub mod totp;
pub mod views;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use conforme_domain::clock::{Clock, SettableClock};
use conforme_domain::programme::Programme;
use conforme_store::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// Present only when the server runs with `--clock-control`: then `PUT /api/v1/_clock`
    /// moves this clock (which is also `clock`).
    pub clock_control: Option<Arc<SettableClock>>,
    /// The validated programmes, in display order; loaded at start.
    pub programmes: Arc<Vec<Programme>>,
    pub config: Arc<WebConfig>,
    /// Where attachments are kept.
    pub files: conforme_files::FileStore,
}

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The address users reach the platform at, for links in emails (no trailing slash).
    pub public_url: String,
    /// Cookies marked `Secure` (when the public address is https).
    pub secure_cookies: bool,
    /// The name of the OpenID Connect provider offered on the login page, when one is set up.
    pub oidc_label: Option<String>,
}

impl WebConfig {
    pub fn new(public_url: &str) -> Self {
        let public_url = public_url.trim_end_matches('/').to_string();
        WebConfig {
            secure_cookies: public_url.starts_with("https://"),
            public_url,
            oidc_label: None,
        }
    }
}

impl AppState {
    pub fn programme(&self, code: &str) -> Option<&Programme> {
        self.programmes.iter().find(|p| p.code.as_str() == code)
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::router())
        .merge(accounts::router())
        .merge(organisation::router())
        .merge(candidatures::router())
        .nest("/api/v1", api::router())
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::healthz))
        .merge(assets::router())
        .fallback(pages::not_found)
        .with_state(state)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(1024 * 1024))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
}

/// Serves the application on `listener` until `shutdown` completes, then lets requests in
/// flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
