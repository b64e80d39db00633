//! The candidature API for editors' own tools: create, read, update the administrative
//! dossier, submit, answer a complement, read the thread. Bearer tokens with scopes
//! (`candidatures:read`, `candidatures:write`); the same operations as the pages.

use crate::AppState;
use crate::auth::ApiAuth;
use crate::candidatures as ops;
use crate::error::{ApiResult, AppError, Problem};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use conforme_domain::candidature::AdministrativeDossier;
use conforme_domain::policy::Action;
use conforme_store::Candidature;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/candidatures",
            get(list_candidatures).post(create_candidature),
        )
        .route("/candidatures/{id}", get(get_candidature))
        .route("/candidatures/{id}/dossier", put(update_dossier))
        .route("/candidatures/{id}/submit", post(submit_candidature))
        .route("/candidatures/{id}/answer", post(answer_complement))
        .route("/candidatures/{id}/messages", get(list_messages))
}

/// A candidature as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidatureView {
    pub id: String,
    pub reference: String,
    pub programme: String,
    /// `draft`, `submitted`, `complement-requested`, `validated`, `rejected`.
    pub state: String,
    pub state_label: String,
    /// Send it back with changes: a change made meanwhile makes the request fail with 409.
    pub version: i64,
    /// The administrative dossier (see `AdministrativeDossier` fields in the documentation).
    #[schema(value_type = Object)]
    pub dossier: AdministrativeDossier,
    pub deposited_at: Option<DateTime<Utc>>,
    /// When an unanswered complement request rejects the candidature.
    pub complement_due_at: Option<DateTime<Utc>>,
    pub decision: Option<String>,
    /// What is still missing or invalid for submission.
    pub missing: Vec<crate::error::FieldError>,
}

fn view(state: &AppState, c: &Candidature) -> CandidatureView {
    let missing = state
        .programme(&c.programme_code)
        .map(|p| {
            c.dossier
                .problems(p)
                .into_iter()
                .map(|f| crate::error::FieldError {
                    field: f.field,
                    message: format!("{} : {}", f.label, f.message),
                })
                .collect()
        })
        .unwrap_or_default();
    CandidatureView {
        id: c.id.clone(),
        reference: c.reference.clone(),
        programme: c.programme_code.clone(),
        state: c.state.as_str().to_string(),
        state_label: c.state.label().to_string(),
        version: c.version,
        dossier: c.dossier.clone(),
        deposited_at: c.deposited_at,
        complement_due_at: c.complement_due_at,
        decision: c.decision_reason.clone(),
        missing,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidatureList {
    pub items: Vec<CandidatureView>,
    pub total: i64,
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, AppError> {
    b.map(|Json(v)| v)
        .map_err(|e| AppError::bad_field("body", e.body_text()))
}

#[utoipa::path(get, path = "/candidatures", tag = "candidatures", security(("bearer" = [])),
    responses((status = 200, body = CandidatureList), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list_candidatures(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
) -> ApiResult<Json<CandidatureList>> {
    let org = auth.user.organisation_id.clone().ok_or_else(|| {
        AppError::Forbidden("Ce compte n'appartient à aucune organisation.".into())
    })?;
    auth.may(&Action::ViewCandidature {
        organisation_id: &org,
    })?;
    let items: Vec<_> = state
        .store
        .candidatures_of(&org)
        .await?
        .iter()
        .map(|c| view(&state, c))
        .collect();
    Ok(Json(CandidatureList {
        total: items.len() as i64,
        items,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateBody {
    /// Programme code, e.g. `HOP-DPI-Va2`.
    pub programme: String,
}

#[utoipa::path(post, path = "/candidatures", tag = "candidatures", security(("bearer" = [])), request_body = CreateBody,
    responses((status = 201, body = CandidatureView), (status = 409, description = "Charter not accepted", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn create_candidature(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    b: Result<Json<CreateBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<CandidatureView>)> {
    let b = body(b)?;
    let c = ops::create(&state, &auth, b.programme.trim()).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &c))))
}

#[utoipa::path(get, path = "/candidatures/{id}", tag = "candidatures", security(("bearer" = [])),
    responses((status = 200, body = CandidatureView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_candidature(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<CandidatureView>> {
    let c = ops::load_visible(&state, &auth, &id).await?;
    Ok(Json(view(&state, &c)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DossierBody {
    /// The `version` read with the candidature.
    pub version: i64,
    #[schema(value_type = Object)]
    pub dossier: AdministrativeDossier,
}

#[utoipa::path(put, path = "/candidatures/{id}/dossier", tag = "candidatures", security(("bearer" = [])), request_body = DossierBody,
    responses((status = 200, body = CandidatureView), (status = 409, description = "Stale version or not editable", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn update_dossier(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    b: Result<Json<DossierBody>, JsonRejection>,
) -> ApiResult<Json<CandidatureView>> {
    let b = body(b)?;
    let c = ops::load_visible(&state, &auth, &id).await?;
    let saved = ops::save(&state, &auth, &c, b.version, &b.dossier).await?;
    Ok(Json(view(&state, &saved)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VersionBody {
    pub version: i64,
    /// The answer, for `answer`.
    #[serde(default)]
    pub message: String,
}

#[utoipa::path(post, path = "/candidatures/{id}/submit", tag = "candidatures", security(("bearer" = [])), request_body = VersionBody,
    responses((status = 200, body = CandidatureView),
        (status = 400, description = "Incomplete: every missing field is listed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Late, already submitted, or stale", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn submit_candidature(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    b: Result<Json<VersionBody>, JsonRejection>,
) -> ApiResult<Json<CandidatureView>> {
    let b = body(b)?;
    let c = ops::load_visible(&state, &auth, &id).await?;
    let done = ops::submit(&state, &auth, &c, b.version).await?;
    Ok(Json(view(&state, &done)))
}

#[utoipa::path(post, path = "/candidatures/{id}/answer", tag = "candidatures", security(("bearer" = [])), request_body = VersionBody,
    responses((status = 200, body = CandidatureView), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn answer_complement(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    b: Result<Json<VersionBody>, JsonRejection>,
) -> ApiResult<Json<CandidatureView>> {
    let b = body(b)?;
    let c = ops::load_visible(&state, &auth, &id).await?;
    let done = ops::answer(&state, &auth, &c, b.version, &b.message).await?;
    Ok(Json(view(&state, &done)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub author: Option<String>,
    pub kind: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    pub items: Vec<MessageView>,
    pub total: i64,
}

#[utoipa::path(get, path = "/candidatures/{id}/messages", tag = "candidatures", security(("bearer" = [])),
    responses((status = 200, body = MessageList), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list_messages(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<MessageList>> {
    let c = ops::load_visible(&state, &auth, &id).await?;
    let items: Vec<_> = state
        .store
        .messages(&c.id)
        .await?
        .into_iter()
        .map(|m| MessageView {
            author: m.author_name,
            kind: m.kind,
            body: m.body,
            created_at: m.created_at,
        })
        .collect();
    Ok(Json(MessageList {
        total: items.len() as i64,
        items,
    }))
}
