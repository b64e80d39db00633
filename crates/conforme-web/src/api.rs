//! The JSON API under `/api/v1`, described by the OpenAPI document it serves at
//! `/api/v1/openapi.json`. Errors are `application/problem+json`.

use crate::AppState;
use crate::error::{ApiResult, AppError, FieldError, Problem};
use crate::query::RequirementParams;
use crate::views::{
    self, CalendarDateView, ExtraPieceView, LabelledCode, PhaseView, ProfileView,
    ProgrammeSummaryView, ProgrammeView, ProofView, RemVersionView, RequirementSummaryView,
    RequirementView, ScenarioView,
};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/programmes", get(list_programmes))
        .route("/programmes/{code}", get(get_programme))
        .route("/programmes/{code}/rem", get(list_rem_versions))
        .route(
            "/programmes/{code}/rem/{version}/requirements",
            get(list_requirements),
        )
        .route(
            "/programmes/{code}/rem/{version}/requirements/{*id}",
            get(get_requirement),
        )
        .route("/_clock", put(set_clock).get(get_clock))
        .merge(crate::api_candidatures::router())
        .merge(crate::proofs::api::router())
        .merge(crate::referencing::api::router())
        .fallback(api_not_found)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Conforme API",
        description = "Programmes de référencement, référentiels d'exigences (REM) et leurs versions. \
                       Errors are RFC 9457 problem details (`application/problem+json`).",
        version = "1"
    ),
    paths(
        list_programmes,
        get_programme,
        list_rem_versions,
        list_requirements,
        get_requirement,
        set_clock,
        get_clock,
        crate::api_candidatures::list_candidatures,
        crate::api_candidatures::create_candidature,
        crate::api_candidatures::get_candidature,
        crate::api_candidatures::update_dossier,
        crate::api_candidatures::submit_candidature,
        crate::api_candidatures::answer_complement,
        crate::api_candidatures::list_messages,
        crate::attachments::upload_attachment,
        crate::attachments::download_attachment,
        crate::proofs::api::get_checklist,
        crate::proofs::api::upload_proof_file,
        crate::proofs::api::submit_proofs,
        crate::proofs::api::answer_question,
        crate::referencing::api::get_referencing,
        crate::referencing::api::request_code,
        crate::referencing::api::sign,
        crate::referencing::api::add_version,
        crate::registry::api_list_registries,
        crate::registry::api_get_registry,
        crate::registry::api_verify
    ),
    modifiers(&BearerAuth),
    components(schemas(
        Problem,
        FieldError,
        ProgrammeList,
        ProgrammeSummaryView,
        ProgrammeView,
        PhaseView,
        CalendarDateView,
        ProfileView,
        LabelledCode,
        ExtraPieceView,
        RemVersionView,
        RemVersionList,
        RequirementList,
        RequirementSummaryView,
        RequirementView,
        ScenarioView,
        ProofView,
        ClockBody,
        Health,
        crate::api_candidatures::CandidatureView,
        crate::api_candidatures::CandidatureList,
        crate::api_candidatures::CreateBody,
        crate::api_candidatures::DossierBody,
        crate::api_candidatures::VersionBody,
        crate::api_candidatures::MessageView,
        crate::api_candidatures::MessageList,
        crate::attachments::AttachmentView,
        crate::proofs::api::ProofFileView,
        crate::proofs::api::ChecklistLine,
        crate::proofs::api::PieceLine,
        crate::proofs::api::ChapterCount,
        crate::proofs::api::ChecklistView,
        crate::proofs::api::SubmitBody,
        crate::proofs::api::SubmissionView,
        crate::proofs::api::AnswerBody,
        crate::proofs::api::AnswerView,
        crate::referencing::api::ConventionView,
        crate::referencing::api::SignatureView,
        crate::referencing::api::DecisionView,
        crate::referencing::api::ReferencingView,
        crate::referencing::api::SignBody,
        crate::referencing::api::VersionBody,
        crate::registry::RegistryList,
        crate::registry::RegistrySummary,
        crate::registry::RegistryDoc,
        crate::registry::RegistryLine,
        crate::registry::CountsView,
        crate::registry::Verification
    ))
)]
pub struct ApiDoc;

/// Declares the bearer-token scheme of the candidature endpoints.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("API token from `conforme token create --user EMAIL` (scopes candidatures:read, candidatures:write)"))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    Json(doc)
}

async fn api_not_found() -> crate::error::ApiError {
    AppError::NotFound("Aucune ressource à cette adresse de l'API.".into()).into()
}

/// A list of programmes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeList {
    pub items: Vec<ProgrammeSummaryView>,
    pub total: i64,
}

/// A programme's REM versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemVersionList {
    pub items: Vec<RemVersionView>,
    pub total: i64,
}

/// One page of requirements.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequirementList {
    pub items: Vec<RequirementSummaryView>,
    /// How many requirements match, over all pages.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[utoipa::path(get, path = "/programmes", tag = "catalogue",
    responses((status = 200, description = "Every programme with its current phase", body = ProgrammeList)))]
async fn list_programmes(State(state): State<AppState>) -> Json<ProgrammeList> {
    let now = state.clock.now();
    let items: Vec<_> = state
        .programmes
        .iter()
        .map(|p| views::programme_summary(p, now))
        .collect();
    Json(ProgrammeList {
        total: items.len() as i64,
        items,
    })
}

fn programme_or_404<'a>(
    state: &'a AppState,
    code: &str,
) -> Result<&'a conforme_domain::programme::Programme, AppError> {
    state
        .programme(code)
        .ok_or_else(|| AppError::NotFound(format!("Aucun dispositif « {code} ».")))
}

#[utoipa::path(get, path = "/programmes/{code}", tag = "catalogue",
    params(("code" = String, Path, description = "Programme code, e.g. HOP-DPI-Va2")),
    responses((status = 200, body = ProgrammeView), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_programme(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<ProgrammeView>> {
    let programme = programme_or_404(&state, &code)?;
    let versions = state.store.rem_versions(&code).await?;
    Ok(Json(views::programme_view(
        programme,
        &versions,
        state.clock.now(),
    )))
}

#[utoipa::path(get, path = "/programmes/{code}/rem", tag = "catalogue",
    params(("code" = String, Path, description = "Programme code")),
    responses((status = 200, body = RemVersionList), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn list_rem_versions(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<RemVersionList>> {
    programme_or_404(&state, &code)?;
    let versions = state.store.rem_versions(&code).await?;
    let items: Vec<_> = versions.iter().map(views::rem_version_view).collect();
    Ok(Json(RemVersionList {
        total: items.len() as i64,
        items,
    }))
}

#[utoipa::path(get, path = "/programmes/{code}/rem/{version}/requirements", tag = "catalogue",
    params(("code" = String, Path), ("version" = String, Path, description = "REM version label"), RequirementParams),
    responses(
        (status = 200, body = RequirementList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn list_requirements(
    State(state): State<AppState>,
    Path((code, version)): Path<(String, String)>,
    params: Result<Query<RequirementParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<RequirementList>> {
    let Query(params) = params.map_err(|e| AppError::bad_field("query", e.body_text()))?;
    let query = params.parse()?;
    let (_, version) = views::find_version(&state, &code, &version).await?;
    let listing = views::list_requirements(&state, &version, &query).await?;
    Ok(Json(RequirementList {
        items: listing.items,
        total: listing.total,
        page: query.page,
        per_page: query.per_page,
    }))
}

#[utoipa::path(get, path = "/programmes/{code}/rem/{version}/requirements/{id}", tag = "catalogue",
    params(("code" = String, Path), ("version" = String, Path),
           ("id" = String, Path, description = "Requirement ID; its slashes may be written as is, e.g. SC.DMP/ALI/PROG.02")),
    responses((status = 200, body = RequirementView), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_requirement(
    State(state): State<AppState>,
    Path((code, version, id)): Path<(String, String, String)>,
) -> ApiResult<Json<RequirementView>> {
    let (_, version) = views::find_version(&state, &code, &version).await?;
    let requirement = state
        .store
        .requirement(&version.id, &id)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "Aucune exigence « {id} » dans la version {} du REM.",
                version.label
            ))
        })?;
    Ok(Json(views::requirement_view(&requirement)))
}

/// The platform clock.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClockBody {
    /// RFC 3339 instant.
    pub now: String,
}

#[utoipa::path(get, path = "/_clock", tag = "operations",
    responses((status = 200, description = "The platform's current time", body = ClockBody)))]
async fn get_clock(State(state): State<AppState>) -> Json<ClockBody> {
    Json(ClockBody {
        now: state.clock.now().to_rfc3339(),
    })
}

#[utoipa::path(put, path = "/_clock", tag = "operations", request_body = ClockBody,
    responses(
        (status = 200, description = "The clock now reads the given instant and runs from there", body = ClockBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The server was not started with --clock-control", body = Problem, content_type = "application/problem+json")))]
async fn set_clock(
    State(state): State<AppState>,
    body: Result<Json<ClockBody>, JsonRejection>,
) -> ApiResult<Json<ClockBody>> {
    let Some(control) = &state.clock_control else {
        return Err(AppError::Forbidden(
            "Le réglage de l'horloge est désactivé : démarrer le serveur avec --clock-control."
                .into(),
        )
        .into());
    };
    let Json(body) = body.map_err(|e| AppError::bad_field("body", e.body_text()))?;
    let instant = DateTime::parse_from_rfc3339(body.now.trim())
        .map_err(|_| {
            AppError::bad_field(
                "now",
                format!("instant RFC 3339 attendu, reçu « {} »", body.now),
            )
        })?
        .with_timezone(&Utc);
    control.set(instant);
    tracing::info!(now = %instant, "clock moved");
    Ok(Json(ClockBody {
        now: state.clock.now().to_rfc3339(),
    }))
}

/// Health of the server and its database.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub database: String,
}

pub async fn healthz(State(state): State<AppState>) -> (axum::http::StatusCode, Json<Health>) {
    match state.store.ping().await {
        Ok(()) => (
            axum::http::StatusCode::OK,
            Json(Health {
                status: "ok".into(),
                database: "ok".into(),
            }),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "degraded".into(),
                    database: "unreachable".into(),
                }),
            )
        }
    }
}
