//! The référencement API, for editors' own tooling: read where the référencement stands (the
//! convention to sign and its digest, decisions, number, attestation, standing), ask for a
//! signature code, sign the convention with a fresh second factor, declare a new version.
//! Agency acts (convention generation, committee, supervision) are done in the pages.

use super::*;
use crate::auth::ApiAuth;
use crate::error::{ApiResult, Problem};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/candidatures/{id}/referencing", get(get_referencing))
        .route(
            "/candidatures/{id}/referencing/signature-code",
            post(request_code),
        )
        .route("/candidatures/{id}/referencing/sign", post(sign))
        .route("/candidatures/{id}/referencing/versions", post(add_version))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConventionView {
    /// Download with `GET /api/v1/attachments/{attachment_id}`.
    pub attachment_id: String,
    /// SHA-256 of the unsigned convention: send it back to sign.
    pub sha256: String,
    pub generated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignatureView {
    pub signer_name: String,
    pub signer_email: String,
    pub signed_at: DateTime<Utc>,
    pub document_sha256: String,
    pub method: String,
    /// The signed document, with its evidence page.
    pub signed_attachment_id: String,
    pub signed_sha256: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    /// `attribution`, `reserves-bloquantes` or `reserves-non-bloquantes`.
    pub mode: String,
    pub reasons: String,
    pub at_fault: Vec<String>,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferencingView {
    /// `instruction`, `awaiting-convention`, `awaiting-signature`, `on-agenda`,
    /// `lifting-reservations`, `referenced`, `suspended`, `withdrawn` or `refused`.
    pub phase: String,
    pub phase_label: String,
    pub convention: Option<ConventionView>,
    pub signature: Option<SignatureView>,
    pub decisions: Vec<DecisionView>,
    /// Deadline to lift non-blocking reservations.
    pub lifting_due: Option<DateTime<Utc>>,
    pub number: Option<String>,
    pub attestation_id: Option<String>,
    /// Public verification page of the number.
    pub verification_url: Option<String>,
    pub logo_rights: bool,
    pub compatible_versions: Vec<String>,
}

fn view(state: &AppState, ctx: &Context<'_>) -> ReferencingView {
    let r = &ctx.r;
    let phase = ctx.phase();
    ReferencingView {
        phase: phase.as_str().to_string(),
        phase_label: phase.label().to_string(),
        convention: r.convention.as_ref().map(|c| ConventionView {
            attachment_id: c.attachment_id.clone(),
            sha256: c.sha256.clone(),
            generated_at: c.generated_at,
        }),
        signature: r.signature.as_ref().map(|s| SignatureView {
            signer_name: s.signer_name.clone(),
            signer_email: s.signer_email.clone(),
            signed_at: s.signed_at,
            document_sha256: s.document_sha256.clone(),
            method: s.method.clone(),
            signed_attachment_id: s.signed_attachment_id.clone(),
            signed_sha256: s.signed_sha256.clone(),
        }),
        decisions: r
            .decisions
            .iter()
            .map(|d| DecisionView {
                mode: mode_name(d.mode).to_string(),
                reasons: d.reasons.clone(),
                at_fault: d.at_fault.clone(),
                decided_at: d.decided_at,
            })
            .collect(),
        lifting_due: r
            .lifting
            .as_ref()
            .filter(|l| l.review.is_none())
            .map(|l| l.due),
        number: r.number.clone(),
        attestation_id: r.attestation_id.clone(),
        verification_url: r.number.as_ref().map(|n| verification_url(state, n)),
        logo_rights: r.logo_rights(),
        compatible_versions: r
            .versions
            .iter()
            .map(|v| v.technical_version.clone())
            .collect(),
    }
}

fn mode_name(m: DecisionMode) -> &'static str {
    match m {
        DecisionMode::Attribution => "attribution",
        DecisionMode::ReservesBloquantes => "reserves-bloquantes",
        DecisionMode::ReservesNonBloquantes => "reserves-non-bloquantes",
    }
}

#[utoipa::path(get, path = "/candidatures/{id}/referencing", tag = "referencing", security(("bearer" = [])),
    params(("id" = String, Path, description = "Candidature id")),
    responses((status = 200, body = ReferencingView),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_referencing(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ReferencingView>> {
    let ctx = context(&state, &auth, &id).await?;
    Ok(Json(view(&state, &ctx)))
}

#[utoipa::path(post, path = "/candidatures/{id}/referencing/signature-code", tag = "referencing", security(("bearer" = [])),
    params(("id" = String, Path, description = "Candidature id")),
    responses((status = 202, description = "A one-time code was sent to the token owner's address"),
        (status = 403, description = "Not the legal representative, or the token lacks candidatures:write", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn request_code(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    send_signature_code(&state, &auth, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignBody {
    /// The digest of the convention read (`convention.sha256`).
    pub sha256: String,
    /// A code of the signer's authenticator app, or the code just sent by email.
    pub code: String,
}

#[utoipa::path(post, path = "/candidatures/{id}/referencing/sign", tag = "referencing", security(("bearer" = [])),
    params(("id" = String, Path, description = "Candidature id")), request_body = SignBody,
    responses((status = 200, body = ReferencingView),
        (status = 400, description = "Wrong, expired or missing code", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the legal representative", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No convention to sign, already signed, or a newer convention", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn sign(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    b: Result<Json<SignBody>, JsonRejection>,
) -> ApiResult<Json<ReferencingView>> {
    let b = b
        .map(|Json(v)| v)
        .map_err(|e| AppError::bad_field("body", e.body_text()))?;
    sign_convention(&state, &auth, &id, &b.sha256, &b.code).await?;
    let ctx = context(&state, &auth, &id).await?;
    Ok(Json(view(&state, &ctx)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VersionBody {
    pub technical_version: String,
    pub commercial_name: String,
    /// The editor's commitment: this version meets every requirement the referenced one met.
    pub upward_compatible: bool,
}

#[utoipa::path(post, path = "/candidatures/{id}/referencing/versions", tag = "referencing", security(("bearer" = [])),
    params(("id" = String, Path, description = "Candidature id")), request_body = VersionBody,
    responses((status = 201, body = ReferencingView),
        (status = 409, description = "Not referenced, suspended, no commitment, or a known version", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn add_version(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    b: Result<Json<VersionBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<ReferencingView>)> {
    let b = b
        .map(|Json(v)| v)
        .map_err(|e| AppError::bad_field("body", e.body_text()))?;
    declare_version(
        &state,
        &auth,
        &id,
        &b.technical_version,
        &b.commercial_name,
        b.upward_compatible,
    )
    .await?;
    let ctx = context(&state, &auth, &id).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &ctx))))
}
