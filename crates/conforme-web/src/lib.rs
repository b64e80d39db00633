//! The HTTP application: public pages (DSFR), the JSON API under `/api/v1` with its OpenAPI
//! document, health checks, and the server's start and graceful stop.
#![forbid(unsafe_code)]

pub mod account_security;
pub mod accounts;
pub mod api;
pub mod api_candidatures;
pub mod assets;
pub mod attachments;
pub mod auth;
pub mod candidatures;
pub mod demo;
pub mod error;
pub mod format;
pub mod oidc;
pub mod organisation;
pub mod pages;
pub mod proofs;
pub mod query;
pub mod referencing;
pub mod registry;
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
    /// The OpenID Connect provider users may log in with, when one is set up.
    pub oidc: Option<oidc::OidcSettings>,
    /// Demonstration mode: the folder the emails are written to, shown at `/demo/courriels`
    /// so that a newcomer reads the codes and links without a mail server. Never in production.
    pub demo_mail_dir: Option<std::path::PathBuf>,
}

impl WebConfig {
    pub fn new(public_url: &str) -> Self {
        let public_url = public_url.trim_end_matches('/').to_string();
        WebConfig {
            secure_cookies: public_url.starts_with("https://"),
            public_url,
            oidc_label: None,
            oidc: None,
            demo_mail_dir: None,
        }
    }

    /// Offers login through an OpenID Connect provider (its label goes on the login page).
    pub fn with_oidc(mut self, settings: Option<oidc::OidcSettings>) -> Self {
        self.oidc_label = settings.as_ref().map(|s| s.label.clone());
        self.oidc = settings;
        self
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
        .merge(account_security::router())
        .merge(oidc::router())
        .merge(organisation::router())
        .merge(candidatures::router())
        .merge(proofs::pages::router())
        .merge(registry::router())
        .merge(referencing::pages::router())
        .merge(demo::router())
        .nest("/api/v1", api::router())
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::healthz))
        .merge(assets::router())
        .fallback(pages::not_found)
        // 1 MiB and 30 s for every request but the attachments', which set their own limits.
        .layer(RequestBodyLimitLayer::new(1024 * 1024))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .merge(attachments::router())
        .merge(proofs::pages::upload_router())
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
