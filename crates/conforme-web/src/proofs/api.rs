//! The proof dossier API, for editors' own tooling: read the checklist and its progress,
//! upload a proof file (the request body is the file, streamed), submit a chapter or the
//! whole dossier, answer the agency's question. The same operations as the pages.

use super::*;
use crate::auth::ApiAuth;
use crate::error::{ApiResult, Problem};
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use conforme_domain::proofs::requirement_statuses;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/candidatures/{id}/proofs", get(get_checklist))
        .route("/candidatures/{id}/proofs/submit", post(submit_proofs))
        .route("/candidatures/{id}/proofs/answer", post(answer_question))
}

/// A deposited file.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProofFileView {
    pub id: String,
    /// Download with `GET /api/v1/attachments/{attachment_id}`.
    pub attachment_id: String,
    pub target: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub deposited_at: DateTime<Utc>,
    /// Set when the file was replaced or withdrawn (it stays in the history).
    pub replaced_at: Option<DateTime<Utc>>,
    /// The automatic checks (`check`, `label`, `status`: pass, warning, fail; `message`).
    #[schema(value_type = Vec<Object>)]
    pub checks: serde_json::Value,
}

fn file_view(f: &ProofFile) -> ProofFileView {
    ProofFileView {
        id: f.id.clone(),
        attachment_id: f.attachment.id.clone(),
        target: f.target.clone(),
        file_name: f.attachment.file_name.clone(),
        content_type: f.attachment.content_type.clone(),
        size: f.attachment.size_bytes,
        sha256: f.attachment.sha256.clone(),
        deposited_at: f.deposited_at,
        replaced_at: f.replaced_at,
        checks: f.checks.clone(),
    }
}

/// One line of the checklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistLine {
    /// The target to upload to (`ID#preuve=N`…).
    pub target: String,
    pub requirement: String,
    pub chapter: String,
    pub perimetre: String,
    pub profil: String,
    pub scenario_number: Option<String>,
    pub proof_number: Option<String>,
    pub proof_text: Option<String>,
    pub required: bool,
    pub added_by_agency: bool,
    /// Why it is required or not, in French.
    pub reason: String,
    pub files: Vec<ProofFileView>,
    /// `compliant`, `not-compliant` or absent.
    pub verdict: Option<String>,
    pub verdict_reason: Option<String>,
}

/// An extra piece of the programme.
#[derive(Debug, Serialize, ToSchema)]
pub struct PieceLine {
    /// The target to upload to (`piece:CODE`).
    pub target: String,
    pub label: String,
    pub mandatory: bool,
    pub files: Vec<ProofFileView>,
    pub verdict: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChapterCount {
    pub chapter: String,
    pub required: usize,
    pub deposited: usize,
    pub percent: u8,
    pub submitted_at: Option<DateTime<Utc>>,
}

/// The proof dossier as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistView {
    pub candidature_id: String,
    pub rem_version: String,
    /// `not-referenced`, `referenced-with-ins`, `referenced-without-ins`.
    pub wave1: String,
    pub required: usize,
    pub deposited: usize,
    pub percent: u8,
    pub complete_at: Option<DateTime<Utc>>,
    pub question_pending: bool,
    /// When an unanswered question abandons the candidature.
    pub abandonment_due: Option<DateTime<Utc>>,
    /// Whether deposits are admitted now, and the rule.
    pub deposit_open: bool,
    pub deposit_rule: String,
    pub chapters: Vec<ChapterCount>,
    pub items: Vec<ChecklistLine>,
    pub pieces: Vec<PieceLine>,
    /// Requirement statuses: `pending`, `compliant`, `not-compliant`, `not-required`.
    #[schema(value_type = Object)]
    pub requirements: serde_json::Value,
}

fn verdict_code(l: &Loaded, target: &str) -> (Option<String>, Option<String>) {
    match l.dossier().verdicts.get(target) {
        Some(v) => (
            Some(
                if v.compliant {
                    "compliant"
                } else {
                    "not-compliant"
                }
                .to_string(),
            ),
            v.reason.clone(),
        ),
        None => (None, None),
    }
}

pub fn checklist_view(state: &AppState, l: &Loaded) -> Result<ChecklistView, AppError> {
    let programme = programme_of(state, &l.c)?;
    let now = state.clock.now();
    let progress = l.progress();
    let files_for = |t: &str| {
        l.files
            .iter()
            .filter(|f| f.target == t)
            .map(file_view)
            .collect::<Vec<_>>()
    };
    let items = l
        .checklist
        .items
        .iter()
        .map(|i| {
            let target = i.key.to_string();
            let (verdict, verdict_reason) = verdict_code(l, &target);
            ChecklistLine {
                files: files_for(&target),
                requirement: i.requirement.to_string(),
                chapter: i.chapter.clone(),
                perimetre: i.perimetre.clone(),
                profil: i.profil.clone(),
                scenario_number: i.scenario_number.clone(),
                proof_number: i.proof_number.clone(),
                proof_text: i.proof_text.clone(),
                required: i.required,
                added_by_agency: i.added_by_agency,
                reason: i.reason.clone(),
                verdict,
                verdict_reason,
                target,
            }
        })
        .collect();
    let pieces = programme
        .def
        .extra_pieces
        .iter()
        .map(|p| {
            let target = Target::Piece(p.code.clone()).to_string();
            PieceLine {
                files: files_for(&target),
                label: p.label.clone(),
                mandatory: p.mandatory,
                verdict: verdict_code(l, &target).0,
                target,
            }
        })
        .collect();
    let (deposit_open, deposit_rule) = l.deposit_window(programme, now);
    let statuses: serde_json::Map<String, serde_json::Value> =
        requirement_statuses(&l.checklist, &l.dossier().verdicts)
            .into_iter()
            .map(|(id, s)| (id.to_string(), serde_json::to_value(s).unwrap_or_default()))
            .collect();
    Ok(ChecklistView {
        candidature_id: l.c.id.clone(),
        rem_version: l.dossier().rem_version.clone(),
        wave1: serde_json::to_value(l.dossier().wave1)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        required: progress.overall.required,
        deposited: progress.overall.deposited,
        percent: progress.overall.percent,
        complete_at: l.dossier().complete_at,
        question_pending: l.dossier().question_pending(),
        abandonment_due: l
            .clock(programme)
            .ok()
            .and_then(|c| c.abandonment_deadline())
            .map(|d| d.due),
        deposit_open,
        deposit_rule,
        chapters: progress
            .chapters
            .iter()
            .map(|c| ChapterCount {
                chapter: c.chapter.clone(),
                required: c.counts.required,
                deposited: c.counts.deposited,
                percent: c.counts.percent,
                submitted_at: l.dossier().chapters.get(&c.chapter).map(|r| r.submitted_at),
            })
            .collect(),
        items,
        pieces,
        requirements: serde_json::Value::Object(statuses),
    })
}

#[utoipa::path(get, path = "/candidatures/{id}/proofs", tag = "proofs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Candidature id")),
    responses((status = 200, body = ChecklistView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Administrative dossier not validated yet", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_checklist(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<ChecklistView>> {
    let l = load(&state, &auth, &id).await?;
    Ok(Json(checklist_view(&state, &l)?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// What the file is for: a checklist target (`SC.DMP/ALI/PROG.02#preuve=1.1.1`), a piece
    /// (`piece:pentest-report`) or `session-de-test`.
    pub target: String,
    /// The file's name; otherwise taken from `Content-Disposition`.
    pub name: Option<String>,
    /// A current file of the same target that this one replaces.
    pub replaces: Option<String>,
}

#[utoipa::path(post, path = "/candidatures/{id}/proofs/files", tag = "proofs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Candidature id"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file itself, streamed (up to 8 GiB)"),
    responses((status = 201, body = ProofFileView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Deposit closed (Date 2bis, Date 3) or dossier changed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty file or type not accepted", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn upload_proof_file(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    params: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, crate::error::ApiError> {
    let Query(params) = params.map_err(|e| AppError::bad_field("query", e.body_text()))?;
    let target = Target::parse(&params.target).map_err(|e| AppError::bad_field("target", e))?;
    // Refused before any byte is stored.
    let l = load(&state, &auth, &id).await?;
    admit_deposit(&state, &auth, &l, &target)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_PROOF_BYTES) {
        return Ok(problem(&FileError::TooLarge {
            limit: MAX_PROOF_BYTES,
        }));
    }
    let raw_name = crate::attachments::body_file_name(params.name.as_deref(), &headers);
    let stored = match state
        .files
        .put_stream(body.into_data_stream(), &proof_limits())
        .await
    {
        Ok(s) => s,
        Err(e) => return Ok(problem(&e)),
    };
    let f = record_deposit(
        &state,
        &auth,
        &id,
        &target,
        params.replaces.as_deref().filter(|r| !r.is_empty()),
        &raw_name,
        stored,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/attachments/{}", f.attachment.id),
        )],
        Json(file_view(&f)),
    )
        .into_response())
}

fn problem(e: &FileError) -> Response {
    let (status, message) = file_refusal(e);
    crate::attachments::file_problem(status, message)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubmitBody {
    /// The chapter to submit; absent: the whole dossier.
    pub chapter: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionView {
    /// Chapters submitted for the first time.
    pub chapters: Vec<String>,
    /// This submission completed the dossier.
    pub completed: bool,
    pub rule: String,
}

#[utoipa::path(post, path = "/candidatures/{id}/proofs/submit", tag = "proofs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Candidature id")), request_body = SubmitBody,
    responses((status = 200, body = SubmissionView),
        (status = 400, description = "Missing proofs, each named", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "After Date 2bis (incomplete dossier) or Date 3", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn submit_proofs(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    b: Result<Json<SubmitBody>, JsonRejection>,
) -> ApiResult<Json<SubmissionView>> {
    let b = b
        .map(|Json(v)| v)
        .map_err(|e| AppError::bad_field("body", e.body_text()))?;
    let chapter = b
        .chapter
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let s = submit(&state, &auth, &id, chapter).await?;
    Ok(Json(SubmissionView {
        chapters: s.chapters,
        completed: s.completed,
        rule: s.rule,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerBody {
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerView {
    /// The answer came within 24 hours: the queue place is kept.
    pub place_kept: bool,
}

#[utoipa::path(post, path = "/candidatures/{id}/proofs/answer", tag = "proofs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Candidature id")), request_body = AnswerBody,
    responses((status = 200, body = AnswerView),
        (status = 409, description = "No pending question, after Date 3, or abandoned", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn answer_question(
    State(state): State<AppState>,
    ApiAuth(auth): ApiAuth,
    Path(id): Path<String>,
    b: Result<Json<AnswerBody>, JsonRejection>,
) -> ApiResult<Json<AnswerView>> {
    let b = b
        .map(|Json(v)| v)
        .map_err(|e| AppError::bad_field("body", e.body_text()))?;
    let place_kept = answer(&state, &auth, &id, &b.message).await?;
    Ok(Json(AnswerView { place_kept }))
}
