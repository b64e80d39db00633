//! Errors of the HTTP layer, mapped once: to `application/problem+json` (RFC 9457) for the
//! API, to an HTML error page for the site. Internal details are logged, never shown.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use conforme_store::StoreError;
use serde::Serialize;

/// What went wrong, in terms a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("erreur interne")]
    Internal(String),
}

/// One invalid input, named.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The parameter or field at fault.
    pub field: String,
    pub message: String,
}

impl AppError {
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        AppError::BadRequest {
            detail: format!("{field} : {message}"),
            errors: vec![FieldError {
                field: field.to_string(),
                message,
            }],
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "Ressource introuvable",
            AppError::BadRequest { .. } => "Requête invalide",
            AppError::Unauthorized(_) => "Connexion requise",
            AppError::Forbidden(_) => "Action refusée",
            AppError::Conflict(_) => "Conflit",
            AppError::Internal(_) => "Erreur interne",
        }
    }

    /// The text shown to the user; internal errors are logged with their cause and shown
    /// without it.
    fn public_detail(&self) -> String {
        match self {
            AppError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "Une erreur interne est survenue. Réessayez plus tard.".to_string()
            }
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::RemVersionExists { .. }
            | StoreError::Conflict(_)
            | StoreError::Stale(_) => AppError::Conflict(e.to_string()),
            StoreError::UnknownProgramme(_) | StoreError::NotFound(_) => {
                AppError::NotFound(e.to_string())
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

/// RFC 9457 problem details.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference identifying the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error answered as `application/problem+json`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let detail = self.0.public_detail();
        let errors = match self.0 {
            AppError::BadRequest { errors, .. } => errors,
            _ => Vec::new(),
        };
        let problem = Problem {
            kind: "about:blank".into(),
            title: status_title(status),
            status: status.as_u16(),
            detail,
            errors,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

fn status_title(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_string()
}

/// An error answered as an HTML page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: crate::auth::Layout,
    title: &'static str,
    status: u16,
    detail: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let page = ErrorPage {
            layout: crate::auth::Layout::public(""),
            title: self.0.title(),
            status: status.as_u16(),
            detail: self.0.public_detail(),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "error page template failed");
                (status, "Erreur").into_response()
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
pub type PageResult<T> = Result<T, PageError>;
