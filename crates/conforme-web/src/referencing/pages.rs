//! The référencement pages: `/candidatures/{id}/referencement` (both sides: convention and
//! signature, decisions, lifting of reservations, attestation, standing, audits, versions)
//! and the committee's `/comite` (sessions) and `/comite/{session}` (agenda and decisions).

use super::*;
use crate::auth::{Layout, PageAuth};
use crate::error::PageResult;
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/candidatures/{id}/referencement", get(show))
        .route(
            "/candidatures/{id}/referencement/convention",
            post(generate),
        )
        .route("/candidatures/{id}/referencement/code", post(send_code))
        .route("/candidatures/{id}/referencement/signature", post(sign))
        .route(
            "/candidatures/{id}/referencement/examen-levee",
            post(review),
        )
        .route("/candidatures/{id}/referencement/statut", post(standing))
        .route("/candidatures/{id}/referencement/audit", post(audit))
        .route("/candidatures/{id}/referencement/version", post(version))
        .route("/comite", get(sessions_page).post(schedule))
        .route("/comite/{session}", get(agenda_page))
        .route("/comite/{session}/decision", post(decision))
        .route("/comite/{session}/cloture", post(close))
}

// ---------------------------------------------------------------------------------------------
// The candidature's référencement page

struct DecisionView {
    session: String,
    mode: String,
    reasons: String,
    at_fault: Vec<String>,
    at: String,
}

struct EventView {
    label: String,
    reason: String,
    at: String,
}

#[derive(Template)]
#[template(path = "referencing.html")]
struct ReferencingPage {
    layout: Layout,
    id: String,
    reference: String,
    solution: String,
    version: String,
    programme: String,
    phase: &'static str,
    phase_label: &'static str,
    moment_with_candidature: bool,
    csrf: String,
    errors: Vec<String>,
    notice: Option<String>,
    is_editor: bool,
    is_signer: bool,
    may_prepare: bool,
    may_supervise: bool,
    proofs_open: bool,
    proofs_valid: bool,
    convention: Option<(String, String, String)>,
    signature: Option<(String, String, String, String, String)>,
    signer_has_app: bool,
    decisions: Vec<DecisionView>,
    lifting_due: Option<String>,
    lifting_open: bool,
    lifting_deposits: Vec<(String, String, String, String)>,
    number: Option<String>,
    attestation: Option<String>,
    verification: Option<String>,
    logo_rights: bool,
    standing: Vec<EventView>,
    audits: Vec<(String, String, String, String)>,
    versions: Vec<(String, String, String)>,
    referenced: bool,
    refused: Option<(String, String)>,
    today: String,
}

async fn page(
    state: &AppState,
    auth: &Auth,
    id: &str,
    errors: Vec<String>,
    notice: Option<String>,
) -> Result<ReferencingPage, AppError> {
    let ctx = context(state, auth, id).await?;
    let phase = ctx.phase();
    let is_editor = auth
        .may(&Action::EditCandidature {
            organisation_id: &ctx.c.organisation_id,
        })
        .is_ok();
    let is_signer = auth
        .may(&Action::SignConvention {
            organisation_id: &ctx.c.organisation_id,
        })
        .is_ok();
    let r = &ctx.r;
    let sessions = state.store.committee_sessions().await?;
    let session_label = |sid: &str| {
        sessions
            .iter()
            .find(|s| s.id == sid)
            .map(|s| committee::label(s.held_on))
            .unwrap_or_else(|| "Comité".into())
    };
    let lifting_open =
        matches!(phase, Phase::LiftingReservations { due } if state.clock.now() <= due);
    let nav = match auth.user.role {
        Role::Editor => "espace",
        Role::Instructor => "instruction",
        _ => "comite",
    };
    Ok(ReferencingPage {
        layout: Layout::of(state, nav, Some(auth)).await?,
        id: ctx.c.id.clone(),
        reference: ctx.c.reference.clone(),
        solution: ctx.c.dossier.commercial_name.clone(),
        version: ctx.c.dossier.technical_version.clone(),
        programme: ctx.programme.code.as_str().to_string(),
        phase: phase.as_str(),
        phase_label: phase.label(),
        moment_with_candidature: ctx.moment()
            == conforme_domain::programme::ConventionMoment::WithCandidature,
        csrf: auth.csrf.clone().unwrap_or_default(),
        errors,
        notice,
        is_editor,
        is_signer,
        may_prepare: auth.may(&Action::PrepareConvention).is_ok(),
        may_supervise: auth.may(&Action::SuperviseReferencing).is_ok(),
        proofs_open: ctx.proofs.is_some(),
        proofs_valid: ctx.proofs_valid,
        convention: r.convention.as_ref().map(|c| {
            (
                format!("/pieces/{}", c.attachment_id),
                c.sha256.clone(),
                paris_long(c.generated_at),
            )
        }),
        signature: r.signature.as_ref().map(|s| {
            (
                s.signer_name.clone(),
                paris_long(s.signed_at),
                s.method.clone(),
                s.document_sha256.clone(),
                format!("/pieces/{}", s.signed_attachment_id),
            )
        }),
        signer_has_app: auth.user.totp_secret.is_some(),
        decisions: r
            .decisions
            .iter()
            .map(|d| DecisionView {
                session: session_label(&d.session_id),
                mode: d.mode.label().to_string(),
                reasons: d.reasons.clone(),
                at_fault: d.at_fault.clone(),
                at: paris_long(d.decided_at),
            })
            .collect(),
        lifting_due: r.lifting.as_ref().map(|l| paris_deadline(l.due)),
        lifting_open,
        lifting_deposits: r
            .lifting
            .as_ref()
            .map(|l| {
                l.deposits
                    .iter()
                    .map(|d| {
                        (
                            format!("/pieces/{}", d.attachment_id),
                            d.attachment_id.clone(),
                            d.note.clone(),
                            paris_long(d.at),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        number: r.number.clone(),
        attestation: r.attestation_id.as_ref().map(|a| format!("/pieces/{a}")),
        verification: r.number.as_ref().map(|n| format!("/verification/{n}")),
        logo_rights: r.logo_rights(),
        standing: r
            .standing
            .iter()
            .map(|e| EventView {
                label: e.standing.label().to_string(),
                reason: e.reason.clone(),
                at: paris_long(e.at),
            })
            .collect(),
        audits: r
            .audits
            .iter()
            .map(|a| {
                (
                    a.kind.clone(),
                    a.held_on.format("%d/%m/%Y").to_string(),
                    a.outcome.label().to_string(),
                    a.findings.clone(),
                )
            })
            .collect(),
        versions: r
            .versions
            .iter()
            .map(|v| {
                (
                    v.technical_version.clone(),
                    v.commercial_name.clone(),
                    paris_long(v.declared_at),
                )
            })
            .collect(),
        referenced: r.current_standing().is_some(),
        refused: r
            .refused
            .as_ref()
            .map(|(why, at)| (why.clone(), paris_long(*at))),
        today: paris_date(state.clock.now()).format("%Y-%m-%d").to_string(),
    })
}

async fn show(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    Ok(Html(
        page(&state, &auth, &id, vec![], None).await?.render()?,
    ))
}

/// The errors of a refused action, for a page shown again with them (409/422); other errors
/// are answered as error pages.
fn refusal(e: AppError) -> Result<(StatusCode, Vec<String>), AppError> {
    match &e {
        AppError::BadRequest { errors, detail } => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            std::iter::once(detail.clone())
                .chain(errors.iter().map(|f| f.message.clone()))
                .collect(),
        )),
        AppError::Conflict(m) => Ok((StatusCode::CONFLICT, vec![m.clone()])),
        _ => Err(e),
    }
}

/// The référencement page again with the errors of a refused action.
pub(crate) async fn refused(
    state: &AppState,
    auth: &Auth,
    id: &str,
    e: AppError,
) -> PageResult<Response> {
    let (status, errors) = refusal(e)?;
    let page = page(state, auth, id, errors, None).await?;
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    sha256: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    lifted: String,
    #[serde(default)]
    reasons: String,
    #[serde(default)]
    standing: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    held_on: String,
    #[serde(default)]
    findings: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    technical_version: String,
    #[serde(default)]
    commercial_name: String,
    #[serde(default)]
    compatible: String,
}

macro_rules! referencing_action {
    ($name:ident, |$state:ident, $auth:ident, $id:ident, $form:ident| $body:expr) => {
        async fn $name(
            State($state): State<AppState>,
            PageAuth($auth): PageAuth,
            Path($id): Path<String>,
            Form($form): Form<ActionForm>,
        ) -> PageResult<Response> {
            $auth.check_csrf(&$form.csrf)?;
            let outcome: Result<(), AppError> = async { $body }.await;
            match outcome {
                Ok(()) => Ok(
                    Redirect::to(&format!("/candidatures/{}/referencement", $id)).into_response(),
                ),
                Err(e) => refused(&$state, &$auth, &$id, e).await,
            }
        }
    };
}

referencing_action!(generate, |state, auth, id, _form| {
    generate_convention(&state, &auth, &id).await
});

async fn send_code(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> PageResult<Response> {
    auth.check_csrf(&form.csrf)?;
    match send_signature_code(&state, &auth, &id).await {
        Ok(()) => {
            let notice = format!(
                "Un code de confirmation a été envoyé à {} ; il est valable {OTP_VALID_MINUTES} minutes.",
                auth.user.email
            );
            Ok(Html(
                page(&state, &auth, &id, vec![], Some(notice))
                    .await?
                    .render()?,
            )
            .into_response())
        }
        Err(e) => refused(&state, &auth, &id, e).await,
    }
}

referencing_action!(sign, |state, auth, id, form| {
    sign_convention(&state, &auth, &id, &form.sha256, &form.code).await
});

referencing_action!(review, |state, auth, id, form| {
    let lifted = match form.lifted.as_str() {
        "oui" => true,
        "non" => false,
        _ => {
            return Err(AppError::bad_field(
                "lifted",
                "indiquez si les réserves sont levées",
            ));
        }
    };
    review_lifting(&state, &auth, &id, lifted, &form.reasons).await
});

referencing_action!(standing, |state, auth, id, form| {
    change_standing(&state, &auth, &id, &form.standing, &form.reasons).await
});

referencing_action!(audit, |state, auth, id, form| {
    record_audit(
        &state,
        &auth,
        &id,
        &form.kind,
        &form.held_on,
        &form.findings,
        &form.outcome,
    )
    .await
});

referencing_action!(version, |state, auth, id, form| {
    declare_version(
        &state,
        &auth,
        &id,
        &form.technical_version,
        &form.commercial_name,
        form.compatible == "oui",
    )
    .await
    .map(|_| ())
});

// ---------------------------------------------------------------------------------------------
// The committee

struct SessionView {
    id: String,
    programme: String,
    label: String,
    closed: bool,
}

#[derive(Template)]
#[template(path = "committee_sessions.html")]
struct SessionsPage {
    layout: Layout,
    csrf: String,
    errors: Vec<String>,
    may_schedule: bool,
    programmes: Vec<(String, String, usize)>,
    sessions: Vec<SessionView>,
    today: String,
}

async fn sessions_view(
    state: &AppState,
    auth: &Auth,
    errors: Vec<String>,
) -> Result<SessionsPage, AppError> {
    if auth.may(&Action::ScheduleCommittee).is_err() {
        auth.may(&Action::DecideInCommittee)?;
    }
    let mut programmes = Vec::new();
    for p in state.programmes.iter() {
        let n = agenda(state, auth, p.code.as_str()).await?.len();
        programmes.push((p.code.as_str().to_string(), p.def.title.clone(), n));
    }
    Ok(SessionsPage {
        layout: Layout::of(state, "comite", Some(auth)).await?,
        csrf: auth.csrf.clone().unwrap_or_default(),
        errors,
        may_schedule: auth.may(&Action::ScheduleCommittee).is_ok(),
        programmes,
        sessions: state
            .store
            .committee_sessions()
            .await?
            .into_iter()
            .map(|s| SessionView {
                label: committee::label(s.held_on),
                closed: s.closed_at.is_some(),
                id: s.id,
                programme: s.programme_code,
            })
            .collect(),
        today: paris_date(state.clock.now()).format("%Y-%m-%d").to_string(),
    })
}

async fn sessions_page(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
) -> PageResult<Html<String>> {
    Ok(Html(sessions_view(&state, &auth, vec![]).await?.render()?))
}

#[derive(Deserialize)]
struct ScheduleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    programme: String,
    #[serde(default)]
    date: String,
}

async fn schedule(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Form(form): Form<ScheduleForm>,
) -> PageResult<Response> {
    auth.check_csrf(&form.csrf)?;
    match schedule_session(&state, &auth, &form.programme, &form.date).await {
        Ok(s) => Ok(Redirect::to(&format!("/comite/{}", s.id)).into_response()),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            let page = sessions_view(&state, &auth, errors).await?;
            Ok((status, Html(page.render()?)).into_response())
        }
    }
}

struct AgendaItem {
    id: String,
    reference: String,
    editor: String,
    solution: String,
    version: String,
    profiles: String,
    signed: String,
    targets: Vec<(String, String)>,
}

struct SessionDecision {
    reference: String,
    id: String,
    mode: String,
    reasons: String,
}

#[derive(Template)]
#[template(path = "committee_agenda.html")]
struct AgendaPage {
    layout: Layout,
    csrf: String,
    errors: Vec<String>,
    session_id: String,
    label: String,
    programme: String,
    programme_title: String,
    closed: bool,
    sitting: bool,
    may_decide: bool,
    may_schedule: bool,
    modes: Vec<(&'static str, &'static str)>,
    items: Vec<AgendaItem>,
    decided: Vec<SessionDecision>,
    exchanges_rule: String,
}

fn mode_code(m: DecisionMode) -> &'static str {
    match m {
        DecisionMode::Attribution => "attribution",
        DecisionMode::ReservesBloquantes => "reserves-bloquantes",
        DecisionMode::ReservesNonBloquantes => "reserves-non-bloquantes",
    }
}

async fn agenda_view(
    state: &AppState,
    auth: &Auth,
    session_id: &str,
    errors: Vec<String>,
) -> Result<AgendaPage, AppError> {
    if auth.may(&Action::ScheduleCommittee).is_err() {
        auth.may(&Action::DecideInCommittee)?;
    }
    let s = session(state, session_id).await?;
    let programme = state
        .programme(&s.programme_code)
        .ok_or_else(|| AppError::Internal(format!("programme {} missing", s.programme_code)))?;
    let now = state.clock.now();
    let items = agenda(state, auth, &s.programme_code)
        .await?
        .into_iter()
        .map(|ctx| {
            let targets = ctx
                .proofs
                .as_ref()
                .map(|l| {
                    l.checklist
                        .required()
                        .map(|i| {
                            let t = Target::Proof(i.key.clone()).to_string();
                            let text: String = i
                                .proof_text
                                .as_deref()
                                .unwrap_or_default()
                                .chars()
                                .take(90)
                                .collect();
                            let label = if text.is_empty() {
                                i.requirement.to_string()
                            } else {
                                format!("{} — {text}", i.requirement)
                            };
                            (t, label)
                        })
                        .chain(
                            programme
                                .def
                                .extra_pieces
                                .iter()
                                .filter(|p| p.assessed)
                                .map(|p| {
                                    (Target::Piece(p.code.clone()).to_string(), p.label.clone())
                                }),
                        )
                        .collect()
                })
                .unwrap_or_default();
            AgendaItem {
                id: ctx.c.id.clone(),
                reference: ctx.c.reference.clone(),
                editor: ctx
                    .c
                    .editor_snapshot
                    .as_ref()
                    .map(|e| e.company_name.clone())
                    .unwrap_or_default(),
                solution: ctx.c.dossier.commercial_name.clone(),
                version: ctx.c.dossier.technical_version.clone(),
                profiles: ctx.c.dossier.profiles.join(", "),
                signed: ctx
                    .r
                    .signature
                    .as_ref()
                    .map(|x| paris_long(x.signed_at))
                    .unwrap_or_default(),
                targets,
            }
        })
        .collect();
    let mut decided = Vec::new();
    for r in state.store.referencings(Some(&s.programme_code)).await? {
        for d in r
            .referencing
            .decisions
            .iter()
            .filter(|d| d.session_id == s.id)
        {
            let reference = state
                .store
                .candidature(&r.candidature_id)
                .await?
                .map(|c| c.reference)
                .unwrap_or_default();
            decided.push(SessionDecision {
                reference,
                id: r.candidature_id.clone(),
                mode: d.mode.label().to_string(),
                reasons: d.reasons.clone(),
            });
        }
    }
    let exchanges_rule = match check_exchange(programme, now, ExchangeKind::ProofRedeposit) {
        Ok(a) => a.rule,
        Err(e) => format!("{e} Des réserves bloquantes valent donc refus du référencement."),
    };
    Ok(AgendaPage {
        layout: Layout::of(state, "comite", Some(auth)).await?,
        csrf: auth.csrf.clone().unwrap_or_default(),
        errors,
        session_id: s.id.clone(),
        label: committee::label(s.held_on),
        programme: s.programme_code.clone(),
        programme_title: programme.def.title.clone(),
        closed: s.closed_at.is_some(),
        sitting: committee::check_sitting(&s, now).is_ok(),
        may_decide: auth.may(&Action::DecideInCommittee).is_ok(),
        may_schedule: auth.may(&Action::ScheduleCommittee).is_ok(),
        modes: programme
            .def
            .committee
            .decision_modes
            .iter()
            .map(|m| (mode_code(*m), m.label()))
            .collect(),
        items,
        decided,
        exchanges_rule,
    })
}

async fn agenda_page(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(session_id): Path<String>,
) -> PageResult<Html<String>> {
    Ok(Html(
        agenda_view(&state, &auth, &session_id, vec![])
            .await?
            .render()?,
    ))
}

async fn agenda_refused(
    state: &AppState,
    auth: &Auth,
    session_id: &str,
    e: AppError,
) -> PageResult<Response> {
    let (status, errors) = refusal(e)?;
    let page = agenda_view(state, auth, session_id, errors).await?;
    Ok((status, Html(page.render()?)).into_response())
}

/// `POST /comite/{session}/decision`: `candidature`, `mode`, `reasons`, `at_fault` (repeated).
async fn decision(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(session_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    auth.check_csrf(&field("csrf"))?;
    let at_fault: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "at_fault")
        .map(|(_, v)| v.clone())
        .collect();
    match decide(
        &state,
        &auth,
        &session_id,
        &field("candidature"),
        &field("mode"),
        &field("reasons"),
        &at_fault,
    )
    .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/comite/{session_id}")).into_response()),
        Err(AppError::NotFound(m)) => Err(AppError::NotFound(m).into()),
        Err(e) => agenda_refused(&state, &auth, &session_id, e).await,
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn close(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(session_id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult<Response> {
    auth.check_csrf(&form.csrf)?;
    match close_session(&state, &auth, &session_id).await {
        Ok(()) => Ok(Redirect::to(&format!("/comite/{session_id}")).into_response()),
        Err(e) => agenda_refused(&state, &auth, &session_id, e).await,
    }
}
