//! Candidatures, editor side and agency side: the dashboard, creating a candidature once the
//! charter is accepted, the administrative dossier (drafts saved at any time, submission
//! checked for completeness and the deadline), the thread, complements with their 5-working-day
//! clock, the instructor's queue and decisions, and the candidature's history from the journal.

use crate::AppState;
use crate::auth::{Auth, Layout, PageAuth};
use crate::error::{AppError, PageResult};
use crate::format::{paris_long, paris_short};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use conforme_domain::account::Role;
use conforme_domain::candidature::{
    self as rules, AdditionalComponent, AdministrativeDossier, CandidatureState, ExistingVersion,
    FieldProblem, TransitionError,
};
use conforme_domain::policy::Action;
use conforme_domain::programme::Programme;
use conforme_store::{Candidature, NewJob, NewMessage, NewNotification, StoreError, Transition};
use serde_json::json;

/// Job kinds the worker knows (see the `conforme` crate's worker).
pub const COMPLEMENT_DEADLINE: &str = "candidature.complement-deadline";
pub const COMPLEMENT_REMINDER: &str = "candidature.complement-reminder";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/espace", get(show_workspace))
        .route("/candidatures", post(create_candidature))
        .route("/candidatures/{id}", get(show_candidature))
        .route(
            "/candidatures/{id}/dossier",
            get(edit_dossier).post(save_dossier),
        )
        .route("/candidatures/{id}/depot", post(submit_candidature))
        .route("/candidatures/{id}/reponse", post(answer_complement))
        .route("/candidatures/{id}/messages", post(post_message))
        .route("/candidatures/{id}/complement", post(request_complement))
        .route("/candidatures/{id}/validation", post(validate_candidature))
        .route("/candidatures/{id}/rejet", post(reject_candidature))
        .route("/instruction", get(show_queue))
}

// ---------------------------------------------------------------------------------------------
// Shared operations (pages and API)

/// Loads a candidature the actor may see; another organisation's reads as not found.
pub async fn load_visible(
    state: &AppState,
    auth: &Auth,
    id: &str,
) -> Result<Candidature, AppError> {
    let c = state.store.candidature(id).await?.ok_or_else(|| {
        AppError::NotFound("Cette candidature n'existe pas ou ne vous est pas accessible.".into())
    })?;
    auth.may(&Action::ViewCandidature {
        organisation_id: &c.organisation_id,
    })?;
    Ok(c)
}

pub fn programme_of<'a>(state: &'a AppState, c: &Candidature) -> Result<&'a Programme, AppError> {
    state
        .programme(&c.programme_code)
        .ok_or_else(|| AppError::Internal(format!("programme {} missing", c.programme_code)))
}

fn transition_error(e: TransitionError) -> AppError {
    match e {
        TransitionError::Incomplete(problems) => AppError::BadRequest {
            detail: format!(
                "Le dossier est incomplet : {} point(s) à corriger.",
                problems.len()
            ),
            errors: problems
                .into_iter()
                .map(|p| crate::error::FieldError {
                    field: p.field,
                    message: format!("{} : {}", p.label, p.message),
                })
                .collect(),
        },
        TransitionError::WrongState(s) => AppError::Conflict(format!(
            "Action impossible : le dossier est à l'état « {} ».",
            s.label()
        )),
        TransitionError::TooLate(m) => AppError::Conflict(m),
        TransitionError::Missing(m) => AppError::bad_field("message", m),
    }
}

/// Refuses an action decided on a version of the candidature that has changed since.
fn fresh(c: &Candidature, expected_version: i64) -> Result<(), AppError> {
    if c.version == expected_version {
        Ok(())
    } else {
        Err(StoreError::Stale("la candidature".into()).into())
    }
}

pub(crate) async fn notify_members(
    state: &AppState,
    c: &Candidature,
    kind: &'static str,
    title: &str,
    body: &str,
) -> Result<Vec<NewNotification>, AppError> {
    Ok(state
        .store
        .organisation_members(&c.organisation_id)
        .await?
        .into_iter()
        .map(|u| NewNotification {
            user_id: u.id,
            email: u.email,
            kind,
            title: title.to_string(),
            body: body.to_string(),
            link: Some(format!("/candidatures/{}", c.id)),
        })
        .collect())
}

pub(crate) async fn notify_instructors(
    state: &AppState,
    c: &Candidature,
    kind: &'static str,
    title: &str,
    body: &str,
) -> Result<Vec<NewNotification>, AppError> {
    Ok(state
        .store
        .users_with_role(Role::Instructor)
        .await?
        .into_iter()
        .map(|u| NewNotification {
            user_id: u.id,
            email: u.email,
            kind,
            title: title.to_string(),
            body: body.to_string(),
            link: Some(format!("/candidatures/{}", c.id)),
        })
        .collect())
}

fn actor(auth: &Auth) -> String {
    format!("user:{}", auth.user.email)
}

fn base_transition(
    c: &Candidature,
    new_state: CandidatureState,
    action: &'static str,
) -> Transition {
    Transition {
        candidature_id: c.id.clone(),
        expected_version: c.version,
        new_state,
        action,
        deposited_at: None,
        submitted_at: None,
        editor_snapshot: None,
        complement_due_at: None,
        decision: None,
        message: None,
        schedule: vec![],
        cancel_jobs: vec![],
        notifications: vec![],
        fired_job: None,
    }
}

/// Creates a draft for the actor's organisation, once its legal representative accepted the
/// programme's charter.
pub async fn create(
    state: &AppState,
    auth: &Auth,
    programme_code: &str,
) -> Result<Candidature, AppError> {
    let organisation_id = auth.user.organisation_id.clone().ok_or_else(|| {
        AppError::Conflict("Créez d'abord l'espace de votre organisation.".into())
    })?;
    auth.may(&Action::CreateCandidature {
        organisation_id: &organisation_id,
    })?;
    let programme = state.programme(programme_code).ok_or_else(|| {
        AppError::bad_field(
            "programme",
            format!("dispositif inconnu « {programme_code} »"),
        )
    })?;
    let accepted = state.store.charter_acceptances(&organisation_id).await?;
    if !accepted
        .iter()
        .any(|a| a.programme_code == programme.code.as_str())
    {
        return Err(AppError::Conflict(format!(
            "Le représentant légal de votre organisation doit d'abord accepter la charte du dispositif {} (/dispositifs/{}/charte).",
            programme.code, programme.code
        )));
    }
    let dossier = AdministrativeDossier {
        profiles: programme
            .def
            .profiles
            .iter()
            .filter(|p| p.mandatory)
            .map(|p| p.name.clone())
            .collect(),
        ..AdministrativeDossier::default()
    };
    Ok(state
        .store
        .create_candidature(
            &organisation_id,
            programme.code.as_str(),
            &dossier,
            &auth.user.id,
            state.clock.now(),
            &actor(auth),
        )
        .await?)
}

/// Saves the dossier while the editor may still change it, checking the profile-change policy.
pub async fn save(
    state: &AppState,
    auth: &Auth,
    c: &Candidature,
    expected_version: i64,
    dossier: &AdministrativeDossier,
) -> Result<Candidature, AppError> {
    auth.may(&Action::EditCandidature {
        organisation_id: &c.organisation_id,
    })?;
    if !c.state.editable() {
        return Err(AppError::Conflict(format!(
            "Le dossier ne peut plus être modifié : il est à l'état « {} ».",
            c.state.label()
        )));
    }
    fresh(c, expected_version)?;
    // A piece must be a file uploaded to this very candidature.
    for (field, old, new) in [
        (
            "cnda_application_proof",
            &c.dossier.cnda_application_proof,
            &dossier.cnda_application_proof,
        ),
        (
            "documentation",
            &c.dossier.documentation,
            &dossier.documentation,
        ),
        (
            "wave1_attestation",
            &c.dossier.wave1_attestation,
            &dossier.wave1_attestation,
        ),
    ] {
        if let Some(id) = new
            && new != old
        {
            let owned = state
                .store
                .attachment(id)
                .await?
                .is_some_and(|a| a.candidature_id.as_deref() == Some(c.id.as_str()));
            if !owned {
                return Err(AppError::bad_field(
                    field,
                    format!("la pièce « {id} » n'a pas été déposée pour cette candidature"),
                ));
            }
        }
    }
    let programme = programme_of(state, c)?;
    rules::check_profile_change(
        programme,
        &c.dossier.profiles,
        &dossier.profiles,
        c.deposited_at.is_some(),
        state.clock.now(),
    )
    .map_err(|m| AppError::bad_field("profiles", m))?;
    Ok(state
        .store
        .save_dossier(
            &c.id,
            expected_version,
            dossier,
            state.clock.now(),
            &actor(auth),
        )
        .await?)
}

/// Submits a draft: completeness and deadline decided by the domain; the deposit date is now.
pub async fn submit(
    state: &AppState,
    auth: &Auth,
    c: &Candidature,
    expected_version: i64,
) -> Result<Candidature, AppError> {
    auth.may(&Action::EditCandidature {
        organisation_id: &c.organisation_id,
    })?;
    fresh(c, expected_version)?;
    let programme = programme_of(state, c)?;
    let organisation = state
        .store
        .organisation(&c.organisation_id)
        .await?
        .ok_or_else(|| AppError::NotFound("organisation".into()))?;
    let now = state.clock.now();
    let new_state = rules::submit(programme, c.state, &c.dossier, &organisation.identity, now)
        .map_err(transition_error)?;
    let body = format!(
        "Le dossier administratif {} ({}, {}) a été déposé le {}.",
        c.reference,
        c.dossier.commercial_name,
        c.programme_code,
        paris_long(now)
    );
    let mut t = base_transition(c, new_state, "candidature.submitted");
    t.deposited_at = Some(now);
    t.submitted_at = Some(now);
    t.editor_snapshot = Some(organisation.identity.clone());
    t.message = Some(NewMessage {
        author_id: Some(auth.user.id.clone()),
        kind: "submission",
        body: body.clone(),
        attachment_ids: vec![],
    });
    t.notifications = notify_instructors(
        state,
        c,
        "candidature.submitted",
        &format!("Nouveau dossier {}", c.reference),
        &body,
    )
    .await?;
    Ok(state.store.apply_transition(&t, now, &actor(auth)).await?)
}

/// The editor answers a complement request in time.
pub async fn answer(
    state: &AppState,
    auth: &Auth,
    c: &Candidature,
    expected_version: i64,
    message: &str,
) -> Result<Candidature, AppError> {
    auth.may(&Action::EditCandidature {
        organisation_id: &c.organisation_id,
    })?;
    fresh(c, expected_version)?;
    let now = state.clock.now();
    let due = c.complement_due_at.unwrap_or(now);
    let new_state =
        rules::answer_complement(c.state, message, due, now).map_err(transition_error)?;
    let mut t = base_transition(c, new_state, "candidature.complement-answered");
    t.submitted_at = Some(now);
    t.complement_due_at = Some(None);
    t.cancel_jobs = vec![COMPLEMENT_DEADLINE, COMPLEMENT_REMINDER];
    t.message = Some(NewMessage {
        author_id: Some(auth.user.id.clone()),
        kind: "complement-answer",
        body: message.trim().to_string(),
        attachment_ids: vec![],
    });
    t.notifications = notify_instructors(
        state,
        c,
        "candidature.complement-answered",
        &format!("Complément reçu : {}", c.reference),
        message.trim(),
    )
    .await?;
    Ok(state.store.apply_transition(&t, now, &actor(auth)).await?)
}

/// The instructor asks for a complement: the 5-working-day clock starts.
pub async fn ask_complement(
    state: &AppState,
    auth: &Auth,
    c: &Candidature,
    expected_version: i64,
    message: &str,
) -> Result<Candidature, AppError> {
    auth.may(&Action::ReviewCandidatures)?;
    fresh(c, expected_version)?;
    let now = state.clock.now();
    let (new_state, due) =
        rules::request_complement(c.state, message, now).map_err(transition_error)?;
    let body = format!(
        "{}\n\nRéponse attendue au plus tard le {} (heure de Paris). {}",
        message.trim(),
        crate::format::paris_deadline(due),
        rules::complement_rule()
    );
    let mut t = base_transition(c, new_state, "candidature.complement-requested");
    t.complement_due_at = Some(Some(due));
    t.schedule = vec![
        NewJob {
            kind: COMPLEMENT_DEADLINE,
            object_id: c.id.clone(),
            payload: json!({ "due_at": due.to_rfc3339() }),
            due_at: due,
        },
        NewJob {
            kind: COMPLEMENT_REMINDER,
            object_id: c.id.clone(),
            payload: json!({ "due_at": due.to_rfc3339() }),
            due_at: (due - chrono::Duration::hours(48)).max(now),
        },
    ];
    t.message = Some(NewMessage {
        author_id: Some(auth.user.id.clone()),
        kind: "complement-request",
        body: message.trim().to_string(),
        attachment_ids: vec![],
    });
    t.notifications = notify_members(
        state,
        c,
        "candidature.complement-requested",
        &format!("Complément demandé : {}", c.reference),
        &body,
    )
    .await?;
    Ok(state.store.apply_transition(&t, now, &actor(auth)).await?)
}

pub async fn decide(
    state: &AppState,
    auth: &Auth,
    c: &Candidature,
    expected_version: i64,
    validate: bool,
    reason: &str,
) -> Result<Candidature, AppError> {
    auth.may(&Action::ReviewCandidatures)?;
    fresh(c, expected_version)?;
    let now = state.clock.now();
    let (new_state, action, title, body) = if validate {
        let s = rules::validate(c.state).map_err(transition_error)?;
        let body = format!(
            "Le dossier administratif {} est validé. Vous pouvez préparer le dossier de preuves.",
            c.reference
        );
        (
            s,
            "candidature.validated",
            format!("Dossier {} validé", c.reference),
            body,
        )
    } else {
        let s = rules::reject(c.state, reason).map_err(|e| match e {
            TransitionError::Missing(m) => AppError::bad_field("reason", m),
            other => transition_error(other),
        })?;
        let body = format!(
            "Le dossier administratif {} est rejeté. Motif : {}",
            c.reference,
            reason.trim()
        );
        (
            s,
            "candidature.rejected",
            format!("Dossier {} rejeté", c.reference),
            body,
        )
    };
    let mut t = base_transition(c, new_state, action);
    t.complement_due_at = Some(None);
    t.cancel_jobs = vec![COMPLEMENT_DEADLINE, COMPLEMENT_REMINDER];
    t.decision = Some(if validate {
        "validé".to_string()
    } else {
        reason.trim().to_string()
    });
    t.message = Some(NewMessage {
        author_id: Some(auth.user.id.clone()),
        kind: "decision",
        body: body.clone(),
        attachment_ids: vec![],
    });
    t.notifications = notify_members(state, c, action, &title, &body).await?;
    let decided = state.store.apply_transition(&t, now, &actor(auth)).await?;
    if validate {
        crate::proofs::open_after_validation(state, &decided, &actor(auth)).await;
    }
    Ok(decided)
}

pub async fn message(
    state: &AppState,
    auth: &Auth,
    c: &Candidature,
    body: &str,
) -> Result<(), AppError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 10_000 {
        return Err(AppError::bad_field(
            "message",
            "le message est obligatoire (10 000 caractères au plus)",
        ));
    }
    let (notifications, kind) = if auth.user.role == Role::Editor {
        auth.may(&Action::EditCandidature {
            organisation_id: &c.organisation_id,
        })?;
        (
            notify_instructors(
                state,
                c,
                "candidature.message",
                &format!("Message sur {}", c.reference),
                body,
            )
            .await?,
            "message",
        )
    } else {
        auth.may(&Action::ReviewCandidatures)?;
        (
            notify_members(
                state,
                c,
                "candidature.message",
                &format!("Message de l'ANS sur {}", c.reference),
                body,
            )
            .await?,
            "message",
        )
    };
    state
        .store
        .post_message(
            &c.id,
            &NewMessage {
                author_id: Some(auth.user.id.clone()),
                kind,
                body: body.to_string(),
                attachment_ids: vec![],
            },
            &notifications,
            state.clock.now(),
            &actor(auth),
        )
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Pages

struct CandidatureRow {
    id: String,
    reference: String,
    programme: String,
    name: String,
    state: String,
    deposited: String,
    due: Option<String>,
}

fn row(c: &Candidature) -> CandidatureRow {
    CandidatureRow {
        id: c.id.clone(),
        reference: c.reference.clone(),
        programme: c.programme_code.clone(),
        name: if c.dossier.commercial_name.is_empty() {
            "(sans nom)".into()
        } else {
            c.dossier.commercial_name.clone()
        },
        state: c.state.label().to_string(),
        deposited: c.deposited_at.map_or_else(|| "—".into(), paris_short),
        due: c.complement_due_at.map(crate::format::paris_deadline),
    }
}

struct ProgrammeChoice {
    code: String,
    title: String,
    charter_accepted: bool,
}

#[derive(Template)]
#[template(path = "workspace.html")]
struct WorkspacePage {
    layout: Layout,
    name: String,
    role: String,
    is_editor: bool,
    is_instructor: bool,
    organisation: Option<(String, String)>,
    legal_representative: bool,
    candidatures: Vec<CandidatureRow>,
    programmes: Vec<ProgrammeChoice>,
    queue_count: usize,
    csrf: String,
}

async fn show_workspace(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
) -> PageResult<Html<String>> {
    let layout = Layout::of(&state, "espace", Some(&auth)).await?;
    let mut organisation = None;
    let mut candidatures = vec![];
    let mut programmes = vec![];
    if let Some(org_id) = &auth.user.organisation_id {
        if let Some(org) = state.store.organisation(org_id).await? {
            let siret = conforme_domain::identifiers::Siret::parse(&org.siret)
                .map_or_else(|_| org.siret.clone(), |s| s.to_string());
            organisation = Some((org.identity.company_name.clone(), siret));
        }
        candidatures = state
            .store
            .candidatures_of(org_id)
            .await?
            .iter()
            .map(row)
            .collect();
        let accepted = state.store.charter_acceptances(org_id).await?;
        programmes = state
            .programmes
            .iter()
            .map(|p| ProgrammeChoice {
                code: p.code.to_string(),
                title: p.def.title.clone(),
                charter_accepted: accepted.iter().any(|a| a.programme_code == p.code.as_str()),
            })
            .collect();
    }
    let queue_count = if auth.user.role == Role::Instructor {
        state.store.review_queue().await?.len()
    } else {
        0
    };
    Ok(Html(
        WorkspacePage {
            layout,
            name: auth.user.display_name.clone(),
            role: auth.user.role.label().to_string(),
            is_editor: auth.user.role == Role::Editor,
            is_instructor: auth.user.role == Role::Instructor,
            organisation,
            legal_representative: auth.user.legal_representative,
            candidatures,
            programmes,
            queue_count,
            csrf: auth.csrf_token(),
        }
        .render()?,
    ))
}

#[derive(serde::Deserialize)]
struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    programme: String,
}

async fn create_candidature(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Form(form): Form<CreateForm>,
) -> PageResult<Response> {
    auth.check_csrf(&form.csrf)?;
    let c = create(&state, &auth, form.programme.trim()).await?;
    Ok(Redirect::to(&format!("/candidatures/{}/dossier", c.id)).into_response())
}

struct ThreadEntry {
    author: String,
    kind: String,
    body: String,
    at: String,
    /// Attached files: id, name, size.
    files: Vec<(String, String, String)>,
}

struct HistoryEntry {
    at: String,
    actor: String,
    action: String,
}

struct Field {
    label: String,
    value: String,
}

#[derive(Template)]
#[template(path = "candidature.html")]
struct CandidaturePage {
    layout: Layout,
    c: CandidatureRow,
    /// Seen by agency staff: the editor organisation (name, id).
    editor_org: Option<(String, String)>,
    version: i64,
    programme_title: String,
    state_code: String,
    fields: Vec<Field>,
    thread: Vec<ThreadEntry>,
    history: Vec<HistoryEntry>,
    due: Option<(String, String, String)>,
    now_iso: String,
    rule: String,
    deadline_rule: Option<String>,
    can_edit: bool,
    can_submit: bool,
    can_answer: bool,
    can_review: bool,
    can_message: bool,
    decision: Option<String>,
    errors: Vec<String>,
    csrf: String,
    pieces: crate::attachments::Pieces,
}

fn action_label(action: &str) -> String {
    match action {
        "candidature.created" => "Candidature créée",
        "candidature.dossier-saved" => "Dossier enregistré",
        "candidature.submitted" => "Dossier déposé",
        "candidature.complement-requested" => "Complément demandé",
        "candidature.complement-answered" => "Complément apporté",
        "candidature.validated" => "Dossier validé",
        "candidature.rejected" => "Dossier rejeté",
        "candidature.rejected-automatically" => "Rejet automatique (délai de réponse dépassé)",
        "candidature.message-posted" => "Message",
        "proofs.opened" => "Dossier de preuves ouvert",
        "proofs.file-deposited" => "Fichier de preuve déposé",
        "proofs.file-replaced" => "Fichier de preuve remplacé",
        "proofs.file-withdrawn" => "Fichier de preuve retiré",
        "proofs.submitted" => "Preuves soumises",
        "proofs.completed" => "Dossier de preuves complet",
        "proofs.verdict" => "Avis sur une preuve",
        "proofs.question-asked" => "Sollicitation de l'ANS (horloge arrêtée)",
        "proofs.answered" => "Réponse de l'éditeur (horloge relancée)",
        "proofs.assigned" => "Attribution de l'instruction",
        "proofs.proof-added" => "Preuve ajoutée par l'ANS",
        "proofs.facts-set" => "Situation vague 1 / CNDA enregistrée",
        "proofs.pentest-entered" => "Résultats du test d'intrusion saisis",
        "proofs.test-proposed" => "Date de session de test proposée",
        "proofs.test-confirmed" => "Date de session de test confirmée",
        "proofs.test-recorded" => "Résultat de la session de test consigné",
        "proofs.abandoned" => "Abandon automatique (30 jours sans réponse)",
        other => other,
    }
    .to_string()
}

/// Who did it, as the history shows: a user's address, or the platform itself.
fn actor_label(actor: &str) -> String {
    match actor {
        "system:deadline" => "Conforme, échéance automatique".into(),
        a if a.starts_with("system") => "Conforme".into(),
        a => a
            .trim_start_matches("user:")
            .trim_start_matches("cli:")
            .to_string(),
    }
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "submission" => "Dépôt",
        "complement-request" => "Demande de complément",
        "complement-answer" => "Réponse au complément",
        "decision" => "Décision",
        "proof-submission" => "Dépôt de preuves",
        "proof-question" => "Sollicitation de l'ANS",
        "proof-answer" => "Réponse à la sollicitation",
        _ => "Message",
    }
}

fn dossier_fields(d: &AdministrativeDossier) -> Vec<Field> {
    let yes_no = |b: bool| if b { "oui" } else { "non" }.to_string();
    let mut out = vec![
        Field {
            label: "Nom commercial".into(),
            value: d.commercial_name.clone(),
        },
        Field {
            label: "Version technique".into(),
            value: d.technical_version.clone(),
        },
        Field {
            label: "Date prévue du dossier de preuves complet".into(),
            value: d
                .planned_complete_dossier_date
                .map(|x| x.format("%d/%m/%Y").to_string())
                .unwrap_or_default(),
        },
        Field {
            label: "Référencée en vague 1".into(),
            value: d.wave1_referenced.map(yes_no).unwrap_or_default(),
        },
        Field {
            label: "Numéro de référencement vague 1".into(),
            value: d.wave1_number.clone(),
        },
        Field {
            label: "Numéro CNDA du logiciel (NIL)".into(),
            value: d.cnda_nil.clone(),
        },
        Field {
            label: "Profils".into(),
            value: d.profiles.join(", "),
        },
    ];
    for (i, v) in d.existing_versions.iter().enumerate() {
        out.push(Field {
            label: format!("Version existante n° {}", i + 1),
            value: format!(
                "{} — {} (vague 1 : {} ; fin annoncée avant la Date 0 : {})",
                v.technical_version,
                v.commercial_name,
                yes_no(v.wave1_referenced),
                yes_no(v.end_announced)
            ),
        });
    }
    if d.no_additional_components {
        out.push(Field {
            label: "Composants additionnels".into(),
            value: "aucun".into(),
        });
    }
    for (i, c) in d.additional_components.iter().enumerate() {
        out.push(Field {
            label: format!("Composant additionnel n° {}", i + 1),
            value: format!(
                "{} — {} {} (NIL : {} ; chapitre : {})",
                c.editor, c.commercial_name, c.version, c.nil, c.rem_chapter
            ),
        });
    }
    out
}

async fn candidature_page(
    state: &AppState,
    auth: &Auth,
    c: &Candidature,
    errors: Vec<String>,
) -> Result<CandidaturePage, AppError> {
    let programme = programme_of(state, c)?;
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
    let mut thread = vec![];
    for m in state.store.messages(&c.id).await? {
        let mut files = vec![];
        for id in &m.attachment_ids {
            if let Some(a) = state.store.attachment(id).await? {
                files.push((
                    a.id,
                    a.file_name,
                    conforme_files::format_size(u64::try_from(a.size_bytes).unwrap_or(0)),
                ));
            }
        }
        thread.push(ThreadEntry {
            author: m.author_name.unwrap_or_else(|| "Conforme".into()),
            kind: kind_label(&m.kind).to_string(),
            body: m.body,
            at: paris_long(m.created_at),
            files,
        });
    }
    let history = state
        .store
        .journal_for("candidature", &c.id)
        .await?
        .into_iter()
        .map(|e| HistoryEntry {
            at: paris_long(e.at),
            actor: actor_label(&e.actor),
            action: action_label(&e.action),
        })
        .collect();
    let is_editor = auth
        .may(&Action::EditCandidature {
            organisation_id: &c.organisation_id,
        })
        .is_ok();
    let is_instructor = auth.may(&Action::ReviewCandidatures).is_ok();
    let now = state.clock.now();
    let deadline_rule = rules::submission_deadline(programme).and_then(|d| {
        d.instant.map(|i| {
            format!(
                "Dépôt du dossier administratif au plus tard le {} ({}, heure de Paris).",
                paris_long(i),
                d.label
            )
        })
    });
    let editor_org = if is_instructor {
        state
            .store
            .organisation(&c.organisation_id)
            .await?
            .map(|o| (o.identity.company_name, o.id))
    } else {
        None
    };
    Ok(CandidaturePage {
        layout,
        editor_org,
        c: row(c),
        version: c.version,
        programme_title: programme.def.title.clone(),
        state_code: c.state.as_str().to_string(),
        fields: dossier_fields(&c.dossier),
        thread,
        history,
        due: c.complement_due_at.map(|d| {
            (
                crate::format::paris_deadline(d),
                d.to_rfc3339(),
                crate::format::iso(d),
            )
        }),
        now_iso: crate::format::iso(now),
        rule: rules::complement_rule(),
        deadline_rule: if c.deposited_at.is_none() {
            deadline_rule
        } else {
            None
        },
        can_edit: is_editor && c.state.editable(),
        can_submit: is_editor && c.state == CandidatureState::Draft,
        can_answer: is_editor && c.state == CandidatureState::ComplementRequested,
        can_review: is_instructor && c.state == CandidatureState::Submitted,
        can_message: (is_editor || is_instructor) && !matches!(c.state, CandidatureState::Draft),
        decision: c.decision_reason.clone(),
        errors,
        csrf: auth.csrf_token(),
        pieces: crate::attachments::pieces(state, auth, c).await?,
    })
}

async fn show_candidature(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let c = load_visible(&state, &auth, &id).await?;
    Ok(Html(
        candidature_page(&state, &auth, &c, vec![])
            .await?
            .render()?,
    ))
}

/// Re-renders the candidature page with the errors of a refused action (status 409/422).
async fn refused(state: &AppState, auth: &Auth, id: &str, e: AppError) -> PageResult<Response> {
    let (status, errors) = match &e {
        AppError::BadRequest { errors, detail } => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            if errors.is_empty() {
                vec![detail.clone()]
            } else {
                errors.iter().map(|f| f.message.clone()).collect()
            },
        ),
        AppError::Conflict(m) => (axum::http::StatusCode::CONFLICT, vec![m.clone()]),
        _ => return Err(e.into()),
    };
    let c = load_visible(state, auth, id).await?;
    let page = candidature_page(state, auth, &c, errors).await?;
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(serde::Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    reason: String,
}

macro_rules! page_action {
    ($name:ident, |$state:ident, $auth:ident, $c:ident, $form:ident| $body:expr) => {
        async fn $name(
            State($state): State<AppState>,
            PageAuth($auth): PageAuth,
            Path(id): Path<String>,
            Form($form): Form<ActionForm>,
        ) -> PageResult<Response> {
            $auth.check_csrf(&$form.csrf)?;
            let $c = load_visible(&$state, &$auth, &id).await?;
            let outcome: Result<(), AppError> = async { $body }.await;
            match outcome {
                Ok(()) => Ok(Redirect::to(&format!("/candidatures/{id}")).into_response()),
                Err(e) => refused(&$state, &$auth, &id, e).await,
            }
        }
    };
}

page_action!(submit_candidature, |state, auth, c, form| submit(
    &state,
    &auth,
    &c,
    form.version
)
.await
.map(drop));
page_action!(answer_complement, |state, auth, c, form| answer(
    &state,
    &auth,
    &c,
    form.version,
    &form.message
)
.await
.map(drop));
page_action!(request_complement, |state, auth, c, form| ask_complement(
    &state,
    &auth,
    &c,
    form.version,
    &form.message
)
.await
.map(drop));
page_action!(validate_candidature, |state, auth, c, form| decide(
    &state,
    &auth,
    &c,
    form.version,
    true,
    ""
)
.await
.map(drop));
page_action!(reject_candidature, |state, auth, c, form| decide(
    &state,
    &auth,
    &c,
    form.version,
    false,
    &form.reason
)
.await
.map(drop));
page_action!(post_message, |state, auth, c, form| message(
    &state,
    &auth,
    &c,
    &form.message
)
.await);

// ---------------------------------------------------------------------------------------------
// The dossier form

struct ProfileOption {
    name: String,
    mandatory: bool,
    checked: bool,
}

#[derive(Template)]
#[template(path = "dossier.html")]
pub(crate) struct DossierPage {
    layout: Layout,
    id: String,
    reference: String,
    programme: String,
    version: i64,
    d: AdministrativeDossier,
    planned: String,
    profiles: Vec<ProfileOption>,
    constraints: Vec<String>,
    problems: Vec<FieldProblem>,
    errors: Vec<String>,
    saved: bool,
    csrf: String,
    pieces: crate::attachments::Pieces,
}

impl DossierPage {
    fn error_for(&self, field: &str) -> Option<String> {
        let msgs: Vec<&str> = self
            .problems
            .iter()
            .filter(|p| p.field == field)
            .map(|p| p.message.as_str())
            .collect();
        (!msgs.is_empty()).then(|| msgs.join(" ; "))
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn dossier_page(
    layout: Layout,
    auth: &Auth,
    c: &Candidature,
    programme: &Programme,
    d: AdministrativeDossier,
    version: i64,
    problems: Vec<FieldProblem>,
    errors: Vec<String>,
    saved: bool,
    pieces: crate::attachments::Pieces,
) -> DossierPage {
    DossierPage {
        layout,
        id: c.id.clone(),
        reference: c.reference.clone(),
        programme: programme.code.to_string(),
        version,
        planned: d
            .planned_complete_dossier_date
            .map(|x| x.to_string())
            .unwrap_or_default(),
        profiles: programme
            .def
            .profiles
            .iter()
            .map(|p| ProfileOption {
                name: p.name.clone(),
                mandatory: p.mandatory,
                checked: d.profiles.contains(&p.name),
            })
            .collect(),
        constraints: programme
            .def
            .profile_constraints
            .iter()
            .map(|g| {
                format!(
                    "Au moins un profil parmi : {}.",
                    g.at_least_one_of.join(", ")
                )
            })
            .collect(),
        d,
        problems,
        errors,
        saved,
        csrf: auth.csrf_token(),
        pieces,
    }
}

async fn edit_dossier(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let c = load_visible(&state, &auth, &id).await?;
    auth.may(&Action::EditCandidature {
        organisation_id: &c.organisation_id,
    })?;
    if !c.state.editable() {
        return Ok(Redirect::to(&format!("/candidatures/{id}")).into_response());
    }
    let programme = programme_of(&state, &c)?;
    let layout = Layout::of(&state, "espace", Some(&auth)).await?;
    // A draft never saved shows no errors yet: the fields are simply to be filled.
    let problems = if c.version > 1 {
        c.dossier.problems(programme)
    } else {
        vec![]
    };
    let page = dossier_page(
        layout,
        &auth,
        &c,
        programme,
        c.dossier.clone(),
        c.version,
        problems,
        vec![],
        false,
        crate::attachments::pieces(&state, &auth, &c).await?,
    );
    Ok(Html(page.render()?).into_response())
}

/// Reads the dossier form: plain fields, checkboxes, and the two repeated lists written
/// `existing_versions[N][field]` and `additional_components[N][field]`.
pub fn parse_dossier_form(
    pairs: &[(String, String)],
) -> Result<AdministrativeDossier, Vec<String>> {
    let mut d = AdministrativeDossier::default();
    let mut errors = vec![];
    let mut versions: std::collections::BTreeMap<usize, ExistingVersion> = Default::default();
    let mut components: std::collections::BTreeMap<usize, AdditionalComponent> = Default::default();
    let limit = |v: &str| v.chars().take(500).collect::<String>().trim().to_string();
    for (k, v) in pairs {
        let v = limit(v);
        match k.as_str() {
            "commercial_name" => d.commercial_name = v,
            "technical_version" => d.technical_version = v,
            "planned_complete_dossier_date" => {
                if !v.is_empty() {
                    match NaiveDate::parse_from_str(&v, "%Y-%m-%d") {
                        Ok(date) => d.planned_complete_dossier_date = Some(date),
                        Err(_) => errors.push(format!("Date prévue du dossier complet : « {v} » n'est pas une date (AAAA-MM-JJ)")),
                    }
                }
            }
            "wave1_referenced" => {
                d.wave1_referenced = match v.as_str() {
                    "oui" => Some(true),
                    "non" => Some(false),
                    _ => None,
                }
            }
            "wave1_number" => d.wave1_number = v,
            "cnda_nil" => d.cnda_nil = v,
            "profiles" => {
                if !v.is_empty() && !d.profiles.contains(&v) {
                    d.profiles.push(v)
                }
            }
            "no_additional_components" => d.no_additional_components = v == "on" || v == "true",
            "wave1_attestation" if !v.is_empty() => d.wave1_attestation = Some(v),
            "cnda_application_proof" if !v.is_empty() => d.cnda_application_proof = Some(v),
            "documentation" if !v.is_empty() => d.documentation = Some(v),
            other => {
                if let Some((list, i, field)) = indexed(other) {
                    if i >= 50 {
                        errors.push("50 lignes au plus par liste".into());
                        continue;
                    }
                    match list {
                        "existing_versions" => {
                            let e = versions.entry(i).or_default();
                            match field {
                                "technical_version" => e.technical_version = v,
                                "commercial_name" => e.commercial_name = v,
                                "wave1_referenced" => e.wave1_referenced = v == "on",
                                "end_announced" => e.end_announced = v == "on",
                                _ => {}
                            }
                        }
                        "additional_components" => {
                            let e = components.entry(i).or_default();
                            match field {
                                "editor" => e.editor = v,
                                "commercial_name" => e.commercial_name = v,
                                "version" => e.version = v,
                                "nil" => e.nil = v,
                                "rem_chapter" => e.rem_chapter = v,
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    // Rows left entirely empty are dropped: the form always offers one spare row.
    d.existing_versions = versions
        .into_values()
        .filter(|v| !(v.technical_version.is_empty() && v.commercial_name.is_empty()))
        .collect();
    d.additional_components = components
        .into_values()
        .filter(|c| {
            !(c.editor.is_empty()
                && c.commercial_name.is_empty()
                && c.version.is_empty()
                && c.nil.is_empty()
                && c.rem_chapter.is_empty())
        })
        .collect();
    if errors.is_empty() {
        Ok(d)
    } else {
        Err(errors)
    }
}

fn indexed(key: &str) -> Option<(&str, usize, &str)> {
    let (list, rest) = key.split_once('[')?;
    let (index, rest) = rest.split_once("][")?;
    let field = rest.strip_suffix(']')?;
    Some((list, index.parse().ok()?, field))
}

async fn save_dossier(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult<Response> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    auth.check_csrf(&get("csrf"))?;
    let c = load_visible(&state, &auth, &id).await?;
    auth.may(&Action::EditCandidature {
        organisation_id: &c.organisation_id,
    })?;
    let programme = programme_of(&state, &c)?;
    let version: i64 = get("version").parse().unwrap_or(-1);
    let layout = Layout::of(&state, "espace", Some(&auth)).await?;
    let mut dossier = match parse_dossier_form(&pairs) {
        Ok(d) => d,
        Err(errors) => {
            let page = dossier_page(
                layout,
                &auth,
                &c,
                programme,
                c.dossier.clone(),
                version,
                vec![],
                errors,
                false,
                crate::attachments::pieces(&state, &auth, &c).await?,
            );
            return Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                Html(page.render()?),
            )
                .into_response());
        }
    };
    // Attachments are set through their own upload form; the dossier form keeps them.
    dossier.wave1_attestation = dossier
        .wave1_attestation
        .or(c.dossier.wave1_attestation.clone());
    dossier.cnda_application_proof = dossier
        .cnda_application_proof
        .or(c.dossier.cnda_application_proof.clone());
    dossier.documentation = dossier.documentation.or(c.dossier.documentation.clone());
    match save(&state, &auth, &c, version, &dossier).await {
        Ok(saved) => {
            let problems = saved.dossier.problems(programme);
            let page = dossier_page(
                layout,
                &auth,
                &saved,
                programme,
                saved.dossier.clone(),
                saved.version,
                problems,
                vec![],
                true,
                crate::attachments::pieces(&state, &auth, &saved).await?,
            );
            Ok(Html(page.render()?).into_response())
        }
        Err(e) => {
            let status = match &e {
                AppError::Conflict(_) => axum::http::StatusCode::CONFLICT,
                AppError::BadRequest { .. } => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                _ => return Err(e.into()),
            };
            // What the user typed stays in the form; the version stays the one they had, so a
            // stale form is refused again until reloaded.
            let page = dossier_page(
                layout,
                &auth,
                &c,
                programme,
                dossier,
                version,
                vec![],
                vec![e.to_string()],
                false,
                crate::attachments::pieces(&state, &auth, &c).await?,
            );
            Ok((status, Html(page.render()?)).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The instructor's queue

struct QueueRow {
    row: CandidatureRow,
    organisation: String,
    waiting_editor: bool,
    /// Back from the editor with an answer to a complement request.
    answered: bool,
    since: String,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    layout: Layout,
    rows: Vec<QueueRow>,
}

async fn show_queue(
    State(state): State<AppState>,
    PageAuth(auth): PageAuth,
) -> PageResult<Html<String>> {
    auth.may(&Action::ReviewCandidatures)?;
    let layout = Layout::of(&state, "instruction", Some(&auth)).await?;
    let mut rows = vec![];
    for c in state.store.review_queue().await? {
        let organisation = state
            .store
            .organisation(&c.organisation_id)
            .await?
            .map(|o| o.identity.company_name)
            .unwrap_or_default();
        let answered = c.state == CandidatureState::Submitted
            && state
                .store
                .messages(&c.id)
                .await?
                .iter()
                .rev()
                .find(|m| m.kind != "message")
                .is_some_and(|m| m.kind == "complement-answer");
        rows.push(QueueRow {
            answered,
            waiting_editor: c.state == CandidatureState::ComplementRequested,
            since: c.last_submitted_at.map_or_else(|| "—".into(), paris_short),
            organisation,
            row: row(&c),
        });
    }
    Ok(Html(QueuePage { layout, rows }.render()?))
}
