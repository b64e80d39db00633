//! The proof dossier's pages: `/candidatures/{id}/preuves` (both sides), its forms, the
//! streamed upload, and the instructor's workspace `/instruction/preuves`.

use super::*;
use crate::auth::{Layout, PageAuth};
use crate::error::PageResult;
use crate::format::{iso, paris_deadline, paris_long};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use conforme_domain::account::Role;
use conforme_domain::calendar::describe_duration_fr;
use conforme_domain::proofs::checks::{CheckOutcome, CheckStatus, parse_pentest_csv};
use conforme_domain::proofs::{QueuePlace, RequirementStatus, requirement_statuses};
use conforme_domain::rem::RequirementKind;
use serde::Deserialize;
use std::collections::HashMap;
use tower_http::timeout::TimeoutLayer;

/// How long a proof upload may last (8 GiB at about 5 MB/s).
pub const UPLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// The small routes (under the application's global limits).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/candidatures/{id}/preuves", get(show_proofs))
        .route("/candidatures/{id}/preuves/retrait", post(withdraw_file))
        .route("/candidatures/{id}/preuves/soumission", post(submit_proofs))
        .route("/candidatures/{id}/preuves/avis", post(rule_on_proof))
        .route("/candidatures/{id}/preuves/sollicitation", post(ask_editor))
        .route("/candidatures/{id}/preuves/reponse", post(answer_agency))
        .route(
            "/candidatures/{id}/preuves/attribution",
            post(assign_dossier),
        )
        .route("/candidatures/{id}/preuves/ajout", post(add_to_checklist))
        .route("/candidatures/{id}/preuves/situation", post(set_situation))
        .route(
            "/candidatures/{id}/preuves/pentest",
            post(enter_pentest_results),
        )
        .route(
            "/candidatures/{id}/preuves/test/proposition",
            post(propose_test_date),
        )
        .route(
            "/candidatures/{id}/preuves/test/confirmation",
            post(confirm_test_date),
        )
        .route(
            "/candidatures/{id}/preuves/test/resultat",
            post(record_test_outcome),
        )
        .route("/instruction/preuves", get(show_workspace))
}

/// The upload routes, with their own limits (merged outside the global ones).
pub fn upload_router() -> Router<AppState> {
    Router::new()
        .route("/candidatures/{id}/preuves/fichiers", post(upload_file))
        .route(
            "/api/v1/candidatures/{id}/proofs/files",
            post(super::api::upload_proof_file),
        )
        .layer(DefaultBodyLimit::max(
            (MAX_PROOF_BYTES + 64 * 1024) as usize,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            UPLOAD_TIMEOUT,
        ))
}

// ---------------------------------------------------------------------------------------------
// Views

struct CheckView {
    label: String,
    status: &'static str,
    message: String,
}

struct FileView {
    id: String,
    attachment_id: String,
    name: String,
    size: String,
    sha256: String,
    at: String,
    checks: Vec<CheckView>,
    replaced_at: Option<String>,
}

struct VerdictView {
    compliant: bool,
    reason: String,
    at: String,
}

struct ItemView {
    target: String,
    anchor: String,
    requirement: String,
    fonction: String,
    profil: String,
    perimetre: String,
    preconisation: bool,
    scenario: String,
    proof: String,
    required: bool,
    added: bool,
    reason: String,
    files: Vec<FileView>,
    history: Vec<FileView>,
    verdict: Option<VerdictView>,
}

struct ChapterView {
    name: String,
    required: usize,
    deposited: usize,
    percent: u8,
    complete: bool,
    submitted: Option<String>,
    items: Vec<ItemView>,
    optional: Vec<ItemView>,
}

struct PieceView {
    anchor: String,
    target: String,
    label: String,
    description: String,
    mandatory: bool,
    files: Vec<FileView>,
    history: Vec<FileView>,
    verdict: Option<VerdictView>,
}

struct ClockLine {
    title: String,
    text: String,
    /// A live countdown to this instant (ISO).
    countdown: Option<String>,
}

struct PentestView {
    accepted: bool,
    explanation: String,
    total: usize,
    failed_high: usize,
    failed_medium: usize,
}

struct TestView {
    label: String,
    rule: String,
    open: bool,
    proposed: Option<String>,
    confirmed: bool,
    recorded: bool,
    outcomes: Vec<(String, bool, String)>,
    recording: Vec<FileView>,
}

#[derive(Template)]
#[template(path = "proofs.html")]
struct ProofsPage {
    layout: Layout,
    id: String,
    reference: String,
    solution: String,
    programme: String,
    state_label: String,
    abandoned: bool,
    csrf: String,
    errors: Vec<String>,
    is_editor: bool,
    is_instructor: bool,
    rem_version: String,
    wave1: String,
    wave1_code: String,
    cnda_pre_examined: bool,
    overall_required: usize,
    overall_deposited: usize,
    overall_percent: u8,
    complete_at: Option<String>,
    deposit_rule: String,
    deposit_open: bool,
    chapters: Vec<ChapterView>,
    pieces: Vec<PieceView>,
    clocks: Vec<ClockLine>,
    question_pending: bool,
    /// A complete chapter was received: the agency may ask the editor.
    in_instruction: bool,
    assigned: Option<String>,
    assigned_to_me: bool,
    pentest: Option<PentestView>,
    test: Option<TestView>,
    statuses: (usize, usize, usize, usize),
    unknown_additions: Vec<String>,
    now_iso: String,
    max_size: String,
    no_history: Vec<FileView>,
}

fn check_views(v: &serde_json::Value) -> Vec<CheckView> {
    serde_json::from_value::<Vec<CheckOutcome>>(v.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|c| CheckView {
            label: c.label,
            status: match c.status {
                CheckStatus::Pass => "pass",
                CheckStatus::Warning => "warning",
                CheckStatus::Fail => "fail",
            },
            message: c.message,
        })
        .collect()
}

fn file_view(f: &ProofFile) -> FileView {
    FileView {
        id: f.id.clone(),
        attachment_id: f.attachment.id.clone(),
        name: f.attachment.file_name.clone(),
        size: conforme_files::format_size(u64::try_from(f.attachment.size_bytes).unwrap_or(0)),
        sha256: f.attachment.sha256.clone(),
        at: paris_long(f.deposited_at),
        checks: check_views(&f.checks),
        replaced_at: f.replaced_at.map(paris_long),
    }
}

fn files_of(l: &Loaded, target: &str) -> (Vec<FileView>, Vec<FileView>) {
    let (current, past): (Vec<&ProofFile>, Vec<&ProofFile>) = l
        .files
        .iter()
        .filter(|f| f.target == target)
        .partition(|f| f.current());
    (
        current.into_iter().map(file_view).collect(),
        past.into_iter().map(file_view).collect(),
    )
}

fn verdict_view(l: &Loaded, target: &str) -> Option<VerdictView> {
    l.dossier().verdicts.get(target).map(|v| VerdictView {
        compliant: v.compliant,
        reason: v.reason.clone().unwrap_or_default(),
        at: paris_long(v.at),
    })
}

fn clock_lines(l: &Loaded, programme: &Programme, now: DateTime<Utc>) -> Vec<ClockLine> {
    let Ok(clock) = l.clock(programme) else {
        return vec![];
    };
    let mut out = vec![];
    let place = match clock.place(now) {
        QueuePlace::NotQueued { rule } => {
            ("Pas encore dans la file d'instruction".to_string(), rule)
        }
        QueuePlace::Queued { key, rule } => {
            (format!("Dans la file depuis le {}", paris_long(key)), rule)
        }
        QueuePlace::PlaceKept { key, until } => (
            format!(
                "Place gardée (rang du {}) jusqu'au {}",
                paris_long(key),
                paris_long(until.due)
            ),
            until.rule,
        ),
        QueuePlace::PlaceLost { previous_key, rule } => (
            format!("Place perdue (rang du {})", paris_long(previous_key)),
            rule,
        ),
        QueuePlace::Abandoned { since } => ("Candidature abandonnée".to_string(), since.rule),
        QueuePlace::Decided { at } => (
            format!("Instruction close le {}", paris_long(at)),
            String::new(),
        ),
    };
    out.push(ClockLine {
        title: place.0,
        text: place.1,
        countdown: None,
    });
    if let Some(d) = clock.keep_place_deadline() {
        out.push(ClockLine {
            title: format!(
                "Réponse dans les 24 heures : avant le {}",
                paris_long(d.due)
            ),
            text: d.rule,
            countdown: Some(iso(d.due)),
        });
    }
    if let Some(d) = clock.abandonment_deadline() {
        out.push(ClockLine {
            title: format!("Sans réponse, abandon le {}", paris_deadline(d.due)),
            text: d.rule,
            countdown: Some(iso(d.due)),
        });
    }
    if clock.started().is_some() {
        let spent = clock.instruction_time(now);
        let stopped = clock.is_stopped();
        out.push(ClockLine {
            title: format!(
                "Temps d'instruction : {}{}",
                describe_duration_fr(spent),
                if stopped { " (horloge arrêtée)" } else { "" }
            ),
            text: format!(
                "Mesuré depuis la réception du premier chapitre complet, arrêts exclus : {} arrêt(s) pour sollicitation de l'éditeur, {} de délai écoulé au total.",
                clock.stops().len(),
                describe_duration_fr(clock.wall_time(now))
            ),
            countdown: None,
        });
    }
    if let Some(ind) = clock.indicative(now) {
        out.push(ClockLine {
            title: "Délai indicatif d'instruction".into(),
            text: ind.message,
            countdown: None,
        });
    }
    for m in clock.moves() {
        out.push(ClockLine {
            title: "Changement de rang".into(),
            text: m.rule.clone(),
            countdown: None,
        });
    }
    out
}

async fn proofs_page(
    state: &AppState,
    auth: &Auth,
    l: &Loaded,
    errors: Vec<String>,
) -> Result<ProofsPage, AppError> {
    let programme = programme_of(state, &l.c)?;
    let now = state.clock.now();
    let layout = Layout::of(
        state,
        if auth.user.role == Role::Instructor {
            "instruction"
        } else {
            "espace"
        },
        Some(auth),
    )
    .await?;
    let is_editor = editor_of(auth, l).is_ok();
    let is_instructor = instructor(auth).is_ok();
    let progress = l.progress();
    let mut chapters: Vec<ChapterView> = progress
        .chapters
        .iter()
        .map(|p| ChapterView {
            name: p.chapter.clone(),
            required: p.counts.required,
            deposited: p.counts.deposited,
            percent: p.counts.percent,
            complete: p.counts.complete,
            submitted: l
                .dossier()
                .chapters
                .get(&p.chapter)
                .map(|r| paris_long(r.submitted_at)),
            items: vec![],
            optional: vec![],
        })
        .collect();
    for (n, item) in l.checklist.items.iter().enumerate() {
        let target = Target::Proof(item.key.clone()).to_string();
        let (files, history) = files_of(l, &target);
        let view = ItemView {
            anchor: format!("preuve-{n}"),
            requirement: item.requirement.to_string(),
            fonction: item.fonction.clone(),
            profil: item.profil.clone(),
            perimetre: item.perimetre.clone(),
            preconisation: item.kind == RequirementKind::Preconisation,
            scenario: [item.scenario_number.clone(), item.scenario_text.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" — "),
            proof: [item.proof_number.clone(), item.proof_text.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" — "),
            required: item.required,
            added: item.added_by_agency,
            reason: item.reason.clone(),
            files,
            history,
            verdict: verdict_view(l, &target),
            target,
        };
        if let Some(ch) = chapters.iter_mut().find(|c| c.name == item.chapter) {
            if view.required {
                ch.items.push(view);
            } else {
                ch.optional.push(view);
            }
        }
    }
    let pieces = programme
        .def
        .extra_pieces
        .iter()
        .map(|p| {
            let target = Target::Piece(p.code.clone()).to_string();
            let (files, history) = files_of(l, &target);
            PieceView {
                anchor: format!("piece-{}", p.code),
                label: p.label.clone(),
                description: p.description.clone(),
                mandatory: p.mandatory,
                files,
                history,
                verdict: verdict_view(l, &target),
                target,
            }
        })
        .collect();
    let (deposit_open, deposit_rule) = l.deposit_window(programme, now);
    let statuses = requirement_statuses(&l.checklist, &l.dossier().verdicts)
        .into_iter()
        .fold((0, 0, 0, 0), |(p, c, n, r), (_, s)| match s {
            RequirementStatus::Pending => (p + 1, c, n, r),
            RequirementStatus::Compliant => (p, c + 1, n, r),
            RequirementStatus::NotCompliant => (p, c, n + 1, r),
            RequirementStatus::NotRequired => (p, c, n, r + 1),
        });
    let assigned = match &l.dossier().assigned_to {
        Some(uid) => state.store.user(uid).await?.map(|u| u.display_name),
        None => None,
    };
    let test = l.test_window(programme).map(|w| {
        let t = l.dossier().test_session.as_ref();
        TestView {
            label: w.label.clone(),
            rule: w.rule.clone(),
            open: w.opened_at.is_some(),
            proposed: t.map(|t| paris_long(t.date)),
            confirmed: t.is_some_and(|t| t.confirmed_at.is_some()),
            recorded: t.is_some_and(|t| t.recorded_at.is_some()),
            outcomes: t
                .map(|t| {
                    t.outcomes
                        .iter()
                        .map(|o| (o.scenario.clone(), o.passed, o.comment.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            recording: files_of(l, &Target::TestRecording.to_string()).0,
        }
    });
    Ok(ProofsPage {
        layout,
        id: l.c.id.clone(),
        reference: l.c.reference.clone(),
        solution: l.c.dossier.commercial_name.clone(),
        programme: l.c.programme_code.clone(),
        state_label: l.c.state.label().to_string(),
        abandoned: l.c.state == CandidatureState::Abandoned,
        csrf: auth.csrf_token(),
        errors,
        is_editor,
        is_instructor,
        rem_version: l.dossier().rem_version.clone(),
        wave1: l.dossier().wave1.label().to_string(),
        wave1_code: serde_json::to_value(l.dossier().wave1)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        cnda_pre_examined: l.dossier().cnda_pre_examined,
        overall_required: progress.overall.required,
        overall_deposited: progress.overall.deposited,
        overall_percent: progress.overall.percent,
        complete_at: l.dossier().complete_at.map(paris_long),
        deposit_rule,
        deposit_open,
        chapters,
        pieces,
        clocks: clock_lines(l, programme, now),
        question_pending: l.dossier().question_pending(),
        in_instruction: l.clock(programme).is_ok_and(|c| c.started().is_some()),
        assigned_to_me: l.dossier().assigned_to.as_deref() == Some(auth.user.id.as_str()),
        assigned,
        pentest: l
            .dossier()
            .pentest
            .as_ref()
            .and_then(|p| p.verdict().ok())
            .map(|v| PentestView {
                accepted: v.accepted,
                explanation: v.explanation,
                total: v.total,
                failed_high: v.failed_high,
                failed_medium: v.failed_medium,
            }),
        test,
        statuses,
        unknown_additions: l
            .checklist
            .unknown_additions
            .iter()
            .map(|k| k.to_string())
            .collect(),
        now_iso: iso(now),
        max_size: conforme_files::format_size(MAX_PROOF_BYTES),
        no_history: vec![],
    })
}

async fn show_proofs(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let l = load(&state, &auth, &id).await?;
    Ok(Html(
        proofs_page(&state, &auth, &l, vec![]).await?.render()?,
    ))
}

/// The page again with the errors of a refused action (409/422).
async fn refused(state: &AppState, auth: &Auth, id: &str, e: AppError) -> PageResult<Response> {
    let (status, errors) = match &e {
        AppError::BadRequest { errors, detail } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            std::iter::once(detail.clone())
                .chain(errors.iter().map(|f| f.message.clone()))
                .collect(),
        ),
        AppError::Conflict(m) => (StatusCode::CONFLICT, vec![m.clone()]),
        _ => return Err(e.into()),
    };
    let l = load(state, auth, id).await?;
    let page = proofs_page(state, auth, &l, errors).await?;
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    chapter: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    file: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    assign: String,
    #[serde(default)]
    wave1: String,
    #[serde(default)]
    cnda_pre_examined: String,
    #[serde(default)]
    csv: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    outcomes: String,
}

macro_rules! proof_action {
    ($name:ident, $anchor:literal, |$state:ident, $auth:ident, $id:ident, $form:ident| $body:expr) => {
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
                    Redirect::to(&format!("/candidatures/{}/preuves{}", $id, $anchor))
                        .into_response(),
                ),
                Err(e) => refused(&$state, &$auth, &$id, e).await,
            }
        }
    };
}

fn target_of(raw: &str) -> Result<Target, AppError> {
    Target::parse(raw).map_err(|e| AppError::bad_field("target", e))
}

proof_action!(withdraw_file, "", |state, auth, id, form| {
    withdraw(&state, &auth, &id, &form.file).await
});

proof_action!(submit_proofs, "", |state, auth, id, form| {
    let chapter = Some(form.chapter.trim()).filter(|c| !c.is_empty());
    submit(&state, &auth, &id, chapter).await.map(|_| ())
});

proof_action!(rule_on_proof, "", |state, auth, id, form| {
    let compliant = match form.verdict.as_str() {
        "conforme" => true,
        "non-conforme" => false,
        _ => {
            return Err(AppError::bad_field(
                "verdict",
                "choisissez « conforme » ou « non conforme »",
            ));
        }
    };
    rule_on(
        &state,
        &auth,
        &id,
        &target_of(&form.target)?,
        compliant,
        &form.reason,
    )
    .await
});

proof_action!(ask_editor, "#horloges", |state, auth, id, form| {
    ask(&state, &auth, &id, &form.message).await
});

proof_action!(answer_agency, "#horloges", |state, auth, id, form| {
    answer(&state, &auth, &id, &form.message).await.map(|_| ())
});

proof_action!(assign_dossier, "", |state, auth, id, form| {
    assign(&state, &auth, &id, form.assign == "moi").await
});

proof_action!(add_to_checklist, "", |state, auth, id, form| {
    add_proof(&state, &auth, &id, &form.key).await
});

proof_action!(set_situation, "", |state, auth, id, form| {
    let wave1 = match form.wave1.as_str() {
        "not-referenced" => Wave1Status::NotReferenced,
        "referenced-with-ins" => Wave1Status::ReferencedWithIns,
        "referenced-without-ins" => Wave1Status::ReferencedWithoutIns,
        _ => {
            return Err(AppError::bad_field(
                "wave1",
                "situation en vague 1 inconnue",
            ));
        }
    };
    set_facts(&state, &auth, &id, wave1, form.cnda_pre_examined == "oui").await
});

proof_action!(enter_pentest_results, "#pieces", |state, auth, id, form| {
    let points =
        parse_pentest_csv(&form.csv).map_err(|e| AppError::bad_field("csv", e.to_string()))?;
    enter_pentest(&state, &auth, &id, points).await
});

/// A date and time typed in a `datetime-local` field, in Paris time.
fn paris_datetime(raw: &str) -> Result<DateTime<Utc>, AppError> {
    let naive = chrono::NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%dT%H:%M")
        .map_err(|_| AppError::bad_field("date", "date et heure attendues (AAAA-MM-JJTHH:MM)"))?;
    Ok(conforme_domain::calendar::paris_instant(
        naive.date(),
        naive.time(),
    ))
}

proof_action!(propose_test_date, "#session", |state, auth, id, form| {
    propose_test(&state, &auth, &id, paris_datetime(&form.date)?).await
});

proof_action!(confirm_test_date, "#session", |state, auth, id, _form| {
    confirm_test(&state, &auth, &id).await
});

proof_action!(record_test_outcome, "#session", |state, auth, id, form| {
    record_test(&state, &auth, &id, parse_outcomes(&form.outcomes)?).await
});

/// `POST /candidatures/{id}/preuves/fichiers`: multipart `csrf`, `target`, optional
/// `replaces`, then `file`, streamed into the store.
async fn upload_file(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let mut multipart = multipart.map_err(|e| AppError::bad_field("file", e.body_text()))?;
    let outcome = receive(&state, &auth, &id, &mut multipart).await;
    // Whatever is left is read so that the browser gets the answer.
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
    match outcome {
        Ok(anchor) => {
            Ok(Redirect::to(&format!("/candidatures/{id}/preuves#{anchor}")).into_response())
        }
        Err(e) => refused(&state, &auth, &id, e).await,
    }
}

async fn small_field(field: axum::extract::multipart::Field<'_>) -> Result<String, AppError> {
    let text = field
        .text()
        .await
        .map_err(|e| AppError::bad_field("form", e.body_text()))?;
    if text.len() > 4096 {
        return Err(AppError::bad_field(
            "form",
            "un champ du formulaire est trop long",
        ));
    }
    Ok(text.trim().to_string())
}

async fn receive(
    state: &AppState,
    auth: &Auth,
    id: &str,
    multipart: &mut Multipart,
) -> Result<String, AppError> {
    let mut csrf = false;
    let mut texts: HashMap<String, String> = HashMap::new();
    while let Some(field) = multipart.next_field().await.map_err(|e| {
        AppError::Conflict(format!("Envoi interrompu ou illisible : {}", e.body_text()))
    })? {
        let name = field.name().unwrap_or_default().to_string();
        if name != "file" {
            let value = small_field(field).await?;
            if name == "csrf" {
                auth.check_csrf(&value)?;
                csrf = true;
            }
            texts.insert(name, value);
            continue;
        }
        if !csrf {
            auth.check_csrf("")?;
        }
        let target = target_of(texts.get("target").map(String::as_str).unwrap_or_default())?;
        // Refused before any byte is stored.
        let l = load(state, auth, id).await?;
        admit_deposit(state, auth, &l, &target)?;
        let raw_name = field.file_name().unwrap_or_default().to_string();
        let mut field = field;
        let stored = match state.files.put_stream(&mut field, &proof_limits()).await {
            Ok(s) => s,
            Err(FileError::Empty) if raw_name.trim().is_empty() => {
                return Err(AppError::bad_field("file", "aucun fichier choisi"));
            }
            Err(e) => {
                let (status, message) = file_refusal(&e);
                return Err(if status == StatusCode::INTERNAL_SERVER_ERROR {
                    AppError::Internal(message)
                } else {
                    AppError::Conflict(message)
                });
            }
        };
        let replaces = texts
            .get("replaces")
            .map(String::as_str)
            .filter(|r| !r.is_empty());
        record_deposit(state, auth, id, &target, replaces, &raw_name, stored).await?;
        return Ok(texts.get("anchor").cloned().unwrap_or_default());
    }
    if !csrf {
        auth.check_csrf("")?;
    }
    Err(AppError::bad_field("file", "aucun fichier choisi"))
}

// ---------------------------------------------------------------------------------------------
// The instructor's workspace

#[derive(Deserialize, Default)]
struct WorkspaceQuery {
    #[serde(default)]
    programme: String,
    #[serde(default)]
    chapitre: String,
    #[serde(default)]
    statut: String,
    #[serde(default)]
    moi: String,
    #[serde(default)]
    attente: String,
    #[serde(default)]
    echeance: String,
}

struct WorkspaceRow {
    id: String,
    reference: String,
    editor: String,
    solution: String,
    programme: String,
    received: String,
    status: &'static str,
    status_label: &'static str,
    progress: String,
    chapters: String,
    assigned: String,
    due: String,
    spent: String,
}

#[derive(Template)]
#[template(path = "proofs_queue.html")]
struct WorkspacePage {
    layout: Layout,
    rows: Vec<WorkspaceRow>,
    programmes: Vec<String>,
    chapters: Vec<String>,
    q_programme: String,
    q_chapter: String,
    q_status: String,
    q_mine: bool,
    q_waiting: bool,
    q_due: bool,
    counts: Vec<(&'static str, usize)>,
    total: usize,
}

async fn show_workspace(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Query(q): Query<WorkspaceQuery>,
) -> PageResult<Html<String>> {
    instructor(&auth)?;
    let now = state.clock.now();
    let mut rems: HashMap<String, Rem> = HashMap::new();
    let mut rows = vec![];
    let mut all_chapters: BTreeSet<String> = BTreeSet::new();
    let mut counts: Vec<(&'static str, usize)> = vec![
        ("À instruire", 0),
        ("Attente éditeur", 0),
        ("Dépôt en cours", 0),
        ("Abandonnée", 0),
    ];
    let mut total = 0;
    for stored in state.store.proof_dossiers().await? {
        let Some(c) = state.store.candidature(&stored.candidature_id).await? else {
            continue;
        };
        let Some(programme) = state.programme(&c.programme_code) else {
            continue;
        };
        let d = &stored.dossier;
        let rem_key = format!("{}@{}", c.programme_code, d.rem_version);
        if !rems.contains_key(&rem_key) {
            let rem_id = current_rem_id(&state, &c.programme_code, &d.rem_version).await?;
            rems.insert(rem_key.clone(), state.store.load_rem(&rem_id).await?);
        }
        let Some(rem) = rems.get(&rem_key) else {
            continue;
        };
        let checklist = required_proofs(rem, &c.dossier.profiles, d.wave1, &d.additions);
        all_chapters.extend(d.chapters.keys().cloned());
        let files = state.store.proof_files(&c.id).await?;
        let keys: Vec<ProofKey> = files
            .iter()
            .filter(|f| f.current())
            .filter_map(|f| ProofKey::parse(&f.target).ok())
            .collect();
        let progress = checklist.progress(keys.iter());
        let clock = d.clock(InstructionRules::for_programme(programme)).ok();
        let (status, status_label) = if c.state == CandidatureState::Abandoned {
            ("abandonnee", "Abandonnée")
        } else if d.question_pending() {
            ("attente", "Attente éditeur")
        } else if !d.chapters.is_empty() {
            ("a-instruire", "À instruire")
        } else {
            ("depot", "Dépôt en cours")
        };
        total += 1;
        if let Some(c) = counts.iter_mut().find(|(l, _)| *l == status_label) {
            c.1 += 1;
        }
        let due = clock.as_ref().and_then(|c| c.abandonment_deadline());
        let keep = q.programme.is_empty() || q.programme == c.programme_code;
        let keep = keep && (q.chapitre.is_empty() || d.chapters.contains_key(&q.chapitre));
        let keep = keep && (q.statut.is_empty() || q.statut == status);
        let keep =
            keep && (q.moi.is_empty() || d.assigned_to.as_deref() == Some(auth.user.id.as_str()));
        let keep = keep && (q.attente.is_empty() || d.question_pending());
        let keep = keep
            && (q.echeance.is_empty()
                || due
                    .as_ref()
                    .is_some_and(|d| d.due - now <= DUE_SOON && d.due >= now));
        if !keep {
            continue;
        }
        let assigned = match &d.assigned_to {
            Some(uid) => state
                .store
                .user(uid)
                .await?
                .map(|u| u.display_name)
                .unwrap_or_default(),
            None => String::new(),
        };
        let editor = state
            .store
            .organisation(&c.organisation_id)
            .await?
            .map(|o| o.identity.company_name)
            .unwrap_or_default();
        rows.push(WorkspaceRow {
            id: c.id.clone(),
            reference: c.reference.clone(),
            editor,
            solution: c.dossier.commercial_name.clone(),
            programme: c.programme_code.clone(),
            received: stored
                .queue_key
                .map(paris_long)
                .unwrap_or_else(|| "—".into()),
            status,
            status_label,
            progress: format!(
                "{} / {} ({} %)",
                progress.overall.deposited, progress.overall.required, progress.overall.percent
            ),
            chapters: format!(
                "{} / {}",
                d.chapters.len(),
                checklist
                    .chapters
                    .iter()
                    .filter(|ch| checklist.required().any(|i| &&i.chapter == ch))
                    .count()
            ),
            assigned,
            due: due
                .map(|d| paris_deadline(d.due))
                .unwrap_or_else(|| "—".into()),
            spent: clock
                .as_ref()
                .filter(|c| c.started().is_some())
                .map(|c| describe_duration_fr(c.instruction_time(now)))
                .unwrap_or_else(|| "—".into()),
        });
    }
    let layout = Layout::of(&state, "instruction", Some(&auth)).await?;
    let page = WorkspacePage {
        layout,
        rows,
        programmes: state
            .programmes
            .iter()
            .map(|p| p.code.as_str().to_string())
            .collect(),
        chapters: all_chapters.into_iter().collect(),
        q_programme: q.programme,
        q_chapter: q.chapitre,
        q_status: q.statut,
        q_mine: !q.moi.is_empty(),
        q_waiting: !q.attente.is_empty(),
        q_due: !q.echeance.is_empty(),
        counts,
        total,
    };
    Ok(Html(page.render()?))
}
