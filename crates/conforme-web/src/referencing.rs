//! The end of the référencement path, editor side and agency side: the convention generated
//! from the programme's template and signed by the legal representative after a fresh second
//! factor, the weekly committee and its decisions, the lifting of non-blocking reservations,
//! the attestation, and what follows a référencement (audits, suspension, withdrawal, new
//! versions under upward compatibility).
//!
//! Handlers hold no rule: they load the candidature, call `conforme_domain::referencing`, and
//! hand the outcome to the store, which writes it with its journal entry, documents, message
//! and notifications in one transaction.

use crate::AppState;
use crate::auth::Auth;
use crate::candidatures::{load_visible, notify_instructors, notify_members, programme_of};
use crate::error::AppError;
use crate::format::{paris_deadline, paris_long};
use crate::proofs::Loaded;
use crate::secrets::{numeric_code, sha256_hex};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use conforme_domain::account::{OTP_DIGITS, OTP_VALID_MINUTES, Role, judge_otp};
use conforme_domain::calendar::{paris_date, to_paris};
use conforme_domain::candidature::{CandidatureState, EditorIdentity};
use conforme_domain::policy::Action;
use conforme_domain::programme::{DecisionMode, Programme};
use conforme_domain::proofs::cutoff::{ExchangeKind, check_exchange};
use conforme_domain::proofs::{InstructionEvent, ProofDossier, Target, Verdict, all_valid};
use conforme_domain::referencing::committee::{self, Session};
use conforme_domain::referencing::convention::{ConventionFacts, render_clauses};
use conforme_domain::referencing::{
    Audit, AuditOutcome, ConventionRecord, DeclaredVersion, Outcome, Phase, RefError, Referencing,
    SignatureRecord, Standing, number,
};
use conforme_files::UploadLimits;
use conforme_store::{
    Attachment, Candidature, NewJob, NewMessage, NewNotification, ReferencingChange, StoreError,
    StoredReferencing,
};
use serde_json::json;

pub mod api;
pub mod pages;

/// The job that refuses a référencement whose non-blocking reservations were not lifted in
/// time (nothing deposited by the deadline). Carried out by the worker.
pub const LAPSE_JOB: &str = "referencing.reservations-lapse";

/// The one-time-code purpose of a signature.
pub const PURPOSE_SIGN: &str = "sign-convention";

impl From<RefError> for AppError {
    fn from(e: RefError) -> Self {
        AppError::Conflict(e.0)
    }
}

fn actor(auth: &Auth) -> String {
    format!("user:{}", auth.user.email)
}

/// A candidature with its référencement and, once open, its proof dossier.
pub struct Context<'a> {
    pub c: Candidature,
    pub programme: &'a Programme,
    pub stored: Option<StoredReferencing>,
    pub r: Referencing,
    pub proofs: Option<Loaded>,
    pub proofs_valid: bool,
}

impl Context<'_> {
    pub fn phase(&self) -> Phase {
        self.r.phase(
            self.programme.def.committee.convention_signed,
            self.proofs_valid,
        )
    }

    fn moment(&self) -> conforme_domain::programme::ConventionMoment {
        self.programme.def.committee.convention_signed
    }

    fn change(&self, action: &'static str, detail: serde_json::Value) -> ReferencingChange {
        ReferencingChange::new(
            &self.c.id,
            &self.c.programme_code,
            self.stored.as_ref(),
            self.r.clone(),
            action,
            detail,
        )
    }

    /// The editor's identity as submitted.
    fn editor(&self) -> Result<&EditorIdentity, AppError> {
        self.c.editor_snapshot.as_ref().ok_or_else(|| {
            AppError::Conflict(
                "L'identité de l'éditeur n'a pas été déposée avec le dossier.".into(),
            )
        })
    }
}

/// Loads what the référencement of a candidature the actor may see needs.
pub async fn context<'a>(
    state: &'a AppState,
    auth: &Auth,
    id: &str,
) -> Result<Context<'a>, AppError> {
    let c = load_visible(state, auth, id).await?;
    let programme = programme_of(state, &c)?;
    let stored = state.store.referencing(&c.id).await?;
    let r = stored
        .as_ref()
        .map(|s| s.referencing.clone())
        .unwrap_or_default();
    let proofs = if c.state == CandidatureState::Validated
        || state.store.proof_dossier(&c.id).await?.is_some()
    {
        Some(crate::proofs::load(state, auth, &c.id).await?)
    } else {
        None
    };
    let proofs_valid = proofs
        .as_ref()
        .is_some_and(|l| all_valid(programme, &l.checklist, l.dossier()));
    Ok(Context {
        c,
        programme,
        stored,
        r,
        proofs,
        proofs_valid,
    })
}

/// Applies a change, turning a concurrent one into a clear refusal.
async fn apply(
    state: &AppState,
    auth: &Auth,
    change: &ReferencingChange,
) -> Result<StoredReferencing, AppError> {
    state
        .store
        .change_referencing(change, state.clock.now(), &actor(auth))
        .await
        .map_err(|e| match e {
            StoreError::Stale(_) => AppError::Conflict(
                "Le dossier a été modifié entre-temps : rechargez la page et recommencez.".into(),
            ),
            other => other.into(),
        })
}

fn decision_message(body: String) -> Option<NewMessage> {
    Some(NewMessage {
        author_id: None,
        kind: "decision",
        body,
        attachment_ids: vec![],
    })
}

async fn users_of_role(
    state: &AppState,
    c: &Candidature,
    role: Role,
    kind: &'static str,
    title: &str,
    body: &str,
) -> Result<Vec<NewNotification>, AppError> {
    Ok(state
        .store
        .users_with_role(role)
        .await?
        .into_iter()
        .map(|u| NewNotification {
            user_id: u.id,
            email: u.email,
            kind,
            title: title.to_string(),
            body: body.to_string(),
            link: Some(format!("/candidatures/{}/referencement", c.id)),
        })
        .collect())
}

/// The editor's members, linked to the référencement page.
async fn tell_editor(
    state: &AppState,
    c: &Candidature,
    kind: &'static str,
    title: &str,
    body: &str,
) -> Result<Vec<NewNotification>, AppError> {
    let mut n = notify_members(state, c, kind, title, body).await?;
    for x in &mut n {
        x.link = Some(format!("/candidatures/{}/referencement", c.id));
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Documents

/// Stores generated PDF bytes as an attachment of the candidature.
async fn store_pdf(
    state: &AppState,
    auth: &Auth,
    c: &Candidature,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<Attachment, AppError> {
    let limits = UploadLimits::new(64 * 1024 * 1024).allowing(["application/pdf"]);
    let stored = state
        .files
        .put_bytes(bytes, &limits)
        .await
        .map_err(|e| AppError::Internal(format!("storing {file_name}: {e}")))?;
    Ok(Attachment {
        id: uuid::Uuid::new_v4().to_string(),
        organisation_id: c.organisation_id.clone(),
        candidature_id: Some(c.id.clone()),
        storage_key: stored.key,
        file_name: file_name.to_string(),
        content_type: stored.content_type,
        size_bytes: i64::try_from(stored.size).unwrap_or(i64::MAX),
        sha256: stored.sha256,
        uploaded_by: auth.user.id.clone(),
        uploaded_at: state.clock.now(),
    })
}

async fn discard_all(state: &AppState, attachments: &[Attachment]) {
    for a in attachments {
        crate::proofs::discard(state, &a.storage_key).await;
    }
}

/// Applies a change that carries generated documents; they are deleted if it fails.
async fn apply_with_documents(
    state: &AppState,
    auth: &Auth,
    change: &ReferencingChange,
) -> Result<StoredReferencing, AppError> {
    let outcome = apply(state, auth, change).await;
    if outcome.is_err() {
        discard_all(state, &change.attachments).await;
    }
    outcome
}

fn pdf_error(e: conforme_pdf::PdfError) -> AppError {
    AppError::Internal(format!("PDF: {e}"))
}

/// The convention document of a candidature, as generated at `generated_at`.
fn convention_doc(
    ctx: &Context<'_>,
    generated_at: DateTime<Utc>,
) -> Result<conforme_pdf::ConventionDoc, AppError> {
    let e = ctx.editor()?;
    let d = &ctx.c.dossier;
    let (title, clauses) = render_clauses(
        ctx.programme,
        &ConventionFacts {
            editor: &e.company_name,
            siret: &e.siret,
            solution: &d.commercial_name,
            version: &d.technical_version,
            profiles: &d.profiles,
        },
    );
    Ok(conforme_pdf::ConventionDoc {
        title,
        programme_code: ctx.programme.code.as_str().to_string(),
        programme_title: ctx.programme.def.title.clone(),
        programme_source: ctx.programme.def.source.clone(),
        candidature_reference: ctx.c.reference.clone(),
        editor: conforme_pdf::Editor {
            company_name: e.company_name.clone(),
            siret: e.siret.clone(),
            head_office_address: e.head_office_address.clone(),
            legal_rep_name: e.legal_rep_name.clone(),
            legal_rep_title: e.legal_rep_title.clone(),
        },
        solution: d.commercial_name.clone(),
        technical_version: d.technical_version.clone(),
        profiles: d.profiles.clone(),
        clauses: clauses
            .into_iter()
            .map(|(title, body)| conforme_pdf::Clause { title, body })
            .collect(),
        generated_at,
    })
}

/// The public address that verifies `number`.
pub fn verification_url(state: &AppState, number: &str) -> String {
    crate::registry::verification_url(&state.config.public_url, number)
}

/// The attestation of a référencement.
pub fn attestation_doc(
    state: &AppState,
    c: &Candidature,
    programme: &Programme,
    number: &str,
    referenced_at: DateTime<Utc>,
) -> conforme_pdf::AttestationDoc {
    let editor = c.editor_snapshot.clone().unwrap_or_default();
    conforme_pdf::AttestationDoc {
        number: number.to_string(),
        programme_code: programme.code.as_str().to_string(),
        programme_title: programme.def.title.clone(),
        editor_name: editor.company_name,
        editor_siret: editor.siret,
        solution: c.dossier.commercial_name.clone(),
        technical_version: c.dossier.technical_version.clone(),
        profiles: c.dossier.profiles.clone(),
        referenced_on: paris_date(referenced_at),
        verification_url: verification_url(state, number),
        issued_at: referenced_at,
    }
}

// ---------------------------------------------------------------------------------------------
// Convention

/// The agency generates the convention from the programme's template and sends it for
/// signature.
pub async fn generate_convention(state: &AppState, auth: &Auth, id: &str) -> Result<(), AppError> {
    auth.may(&Action::PrepareConvention)?;
    let mut ctx = context(state, auth, id).await?;
    if ctx.c.state != CandidatureState::Validated {
        return Err(AppError::Conflict(
            "La convention se prépare une fois le dossier administratif validé.".into(),
        ));
    }
    let now = state.clock.now();
    let doc = convention_doc(&ctx, now)?;
    // Checked before the document is generated, and again on the value below.
    ctx.r.clone().record_convention(
        ctx.moment(),
        ctx.proofs_valid,
        ConventionRecord {
            generated_at: now,
            generated_by: auth.user.id.clone(),
            attachment_id: String::new(),
            sha256: String::new(),
        },
    )?;
    let bytes = conforme_pdf::convention(&doc).map_err(pdf_error)?;
    let file = store_pdf(
        state,
        auth,
        &ctx.c,
        &format!("convention-{}.pdf", ctx.c.reference),
        bytes,
    )
    .await?;
    let replaced = ctx.r.convention.is_some();
    ctx.r.record_convention(
        ctx.moment(),
        ctx.proofs_valid,
        ConventionRecord {
            generated_at: now,
            generated_by: auth.user.id.clone(),
            attachment_id: file.id.clone(),
            sha256: file.sha256.clone(),
        },
    )?;
    let mut change = ctx.change(
        "referencing.convention-generated",
        json!({ "attachment_id": file.id, "sha256": file.sha256, "replaces_unsigned": replaced }),
    );
    let title = format!("Convention à signer — {}", ctx.c.reference);
    let body = "La convention de référencement est prête. Le représentant légal la relit et la signe électroniquement sur la plateforme.".to_string();
    change.message = decision_message(body.clone());
    change.notifications =
        tell_editor(state, &ctx.c, "referencing.convention", &title, &body).await?;
    change.attachments = vec![file];
    apply_with_documents(state, auth, &change).await?;
    Ok(())
}

/// Sends the signer a one-time code by email for the signature.
pub async fn send_signature_code(state: &AppState, auth: &Auth, id: &str) -> Result<(), AppError> {
    let c = load_visible(state, auth, id).await?;
    auth.may(&Action::SignConvention {
        organisation_id: &c.organisation_id,
    })?;
    let now = state.clock.now();
    let code = numeric_code(OTP_DIGITS).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    state
        .store
        .issue_code(&auth.user.id, PURPOSE_SIGN, &sha256_hex(&code), now)
        .await?;
    state
        .store
        .queue_email(
            &auth.user.email,
            json!({ "to": auth.user.email, "template": "one_time_code", "code": code, "minutes": OTP_VALID_MINUTES }),
            now,
        )
        .await?;
    Ok(())
}

/// Checks the fresh second factor typed at the signature: a code of the signer's
/// authenticator app, or the one-time code just sent by email. Returns the method.
async fn fresh_second_factor(
    state: &AppState,
    auth: &Auth,
    code: &str,
) -> Result<String, AppError> {
    let now = state.clock.now();
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.is_empty() {
        return Err(AppError::bad_field(
            "code",
            "saisissez le code de confirmation (application d'authentification ou courriel)",
        ));
    }
    if let Some(secret) = auth.user.totp_secret.as_deref()
        && crate::totp::verify(secret, &code, now)
    {
        return Ok("Signature électronique sur la plateforme Conforme : session authentifiée, puis code de l'application d'authentification (TOTP, RFC 6238) saisi au moment de la signature".into());
    }
    let Some(pending) = state
        .store
        .pending_code(&auth.user.id, PURPOSE_SIGN)
        .await?
    else {
        return Err(AppError::bad_field(
            "code",
            "code incorrect ; demandez un code par courriel si vous n'utilisez pas d'application d'authentification",
        ));
    };
    let matches = crate::secrets::constant_time_eq(&pending.code_hash, &sha256_hex(&code));
    let judged = judge_otp(pending.issued_at, pending.attempts, matches, now);
    state
        .store
        .record_code_attempt(&pending.id, judged.is_ok(), now)
        .await?;
    judged.map_err(|e| AppError::bad_field("code", e.to_string()))?;
    Ok(format!(
        "Signature électronique sur la plateforme Conforme : session authentifiée, puis code à usage unique envoyé par courriel à {} et saisi au moment de la signature",
        auth.user.email
    ))
}

/// The legal representative signs the convention shown (`seen_sha256`) after a fresh
/// second-factor confirmation; the signed document carries the evidence.
pub async fn sign_convention(
    state: &AppState,
    auth: &Auth,
    id: &str,
    seen_sha256: &str,
    code: &str,
) -> Result<(), AppError> {
    let mut ctx = context(state, auth, id).await?;
    auth.may(&Action::SignConvention {
        organisation_id: &ctx.c.organisation_id,
    })?;
    let Some(convention) = ctx.r.convention.clone() else {
        return Err(AppError::Conflict(
            "Aucune convention n'attend de signature.".into(),
        ));
    };
    if ctx.phase() != Phase::AwaitingSignature {
        return Err(AppError::Conflict("La convention est déjà signée.".into()));
    }
    if convention.sha256 != seen_sha256.trim() {
        return Err(AppError::Conflict(
            "La convention a été modifiée depuis son affichage : relisez la nouvelle version avant de signer.".into(),
        ));
    }
    let method = fresh_second_factor(state, auth, code).await?;
    let now = state.clock.now();
    let doc = convention_doc(&ctx, convention.generated_at)?;
    let e = ctx.editor()?;
    let evidence = conforme_pdf::SignatureEvidence {
        signer_name: auth.user.display_name.clone(),
        signer_email: auth.user.email.clone(),
        signer_title: e.legal_rep_title.clone(),
        signed_at: now,
        document_sha256: convention.sha256.clone(),
        method: method.clone(),
    };
    let bytes = conforme_pdf::signed_convention(&doc, &evidence).map_err(pdf_error)?;
    let file = store_pdf(
        state,
        auth,
        &ctx.c,
        &format!("convention-signee-{}.pdf", ctx.c.reference),
        bytes,
    )
    .await?;
    let record = SignatureRecord {
        signer_id: auth.user.id.clone(),
        signer_name: auth.user.display_name.clone(),
        signer_email: auth.user.email.clone(),
        signed_at: now,
        document_sha256: convention.sha256.clone(),
        method,
        signed_attachment_id: file.id.clone(),
        signed_sha256: file.sha256.clone(),
    };
    if let Err(e) = ctx.r.sign(
        ctx.moment(),
        ctx.proofs_valid,
        seen_sha256.trim(),
        record.clone(),
    ) {
        discard_all(state, std::slice::from_ref(&file)).await;
        return Err(e.into());
    }
    let mut change = ctx.change(
        "referencing.convention-signed",
        json!({ "evidence": record }),
    );
    let title = format!("Convention signée — {}", ctx.c.reference);
    let body = if ctx.proofs_valid {
        format!(
            "{} a signé la convention le {}. La candidature est inscrite à l'ordre du jour du prochain comité.",
            record.signer_name,
            paris_long(now)
        )
    } else {
        format!(
            "{} a signé la convention le {}. La candidature sera inscrite à l'ordre du jour du comité lorsque toutes les preuves seront conformes.",
            record.signer_name,
            paris_long(now)
        )
    };
    change.message = decision_message(body.clone());
    let mut n = notify_instructors(state, &ctx.c, "referencing.signed", &title, &body).await?;
    n.extend(tell_editor(state, &ctx.c, "referencing.signed", &title, &body).await?);
    if ctx.proofs_valid {
        n.extend(
            users_of_role(
                state,
                &ctx.c,
                Role::CommitteeMember,
                "referencing.agenda",
                &title,
                &body,
            )
            .await?,
        );
    }
    change.notifications = n;
    change.attachments = vec![file];
    apply_with_documents(state, auth, &change).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Committee

/// Schedules a weekly session of a programme's committee.
pub async fn schedule_session(
    state: &AppState,
    auth: &Auth,
    programme_code: &str,
    date: &str,
) -> Result<Session, AppError> {
    auth.may(&Action::ScheduleCommittee)?;
    let programme = state.programme(programme_code).ok_or_else(|| {
        AppError::bad_field(
            "programme",
            format!("dispositif inconnu « {programme_code} »"),
        )
    })?;
    let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::bad_field("date", "date attendue au format AAAA-MM-JJ"))?;
    let now = state.clock.now();
    let others: Vec<Session> = state
        .store
        .committee_sessions()
        .await?
        .into_iter()
        .filter(|s| s.programme_code == programme.code.as_str())
        .collect();
    committee::check_schedule(&others, date, now).map_err(AppError::Conflict)?;
    state
        .store
        .create_committee_session(programme.code.as_str(), date, now, &actor(auth))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => AppError::Conflict(format!("Séance non créée : {m}.")),
            other => other.into(),
        })
}

pub async fn close_session(
    state: &AppState,
    auth: &Auth,
    session_id: &str,
) -> Result<(), AppError> {
    auth.may(&Action::ScheduleCommittee)?;
    state
        .store
        .close_committee_session(session_id, state.clock.now(), &actor(auth))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                AppError::Conflict("Cette séance est inconnue ou déjà close.".into())
            }
            other => other.into(),
        })
}

pub async fn session(state: &AppState, session_id: &str) -> Result<Session, AppError> {
    state
        .store
        .committee_session(session_id)
        .await?
        .ok_or_else(|| AppError::NotFound("Cette séance n'existe pas.".into()))
}

/// The agenda of a programme: every candidature whose convention is signed and whose proofs
/// are all valid, oldest signature first.
pub async fn agenda<'a>(
    state: &'a AppState,
    auth: &Auth,
    programme_code: &str,
) -> Result<Vec<Context<'a>>, AppError> {
    let mut out = Vec::new();
    for s in state.store.referencings(Some(programme_code)).await? {
        if s.referencing.signature.is_none() || s.referencing.current_standing().is_some() {
            continue;
        }
        let ctx = context(state, auth, &s.candidature_id).await?;
        if ctx.phase() == Phase::OnAgenda {
            out.push(ctx);
        }
    }
    out.sort_by_key(|c| c.r.signature.as_ref().map(|s| s.signed_at));
    Ok(out)
}

/// Whether `raw` names a target of this dossier the committee may hold at fault.
fn fault_target(l: &Loaded, programme: &Programme, raw: &str) -> Result<String, AppError> {
    let t = Target::parse(raw.trim()).map_err(|e| AppError::bad_field("at_fault", e))?;
    let known = match &t {
        Target::Proof(k) => l.checklist.item(k).is_some(),
        Target::Piece(code) => programme.def.extra_pieces.iter().any(|p| &p.code == code),
        Target::TestRecording => l.dossier().test_session.is_some(),
    };
    if !known {
        return Err(AppError::bad_field(
            "at_fault",
            format!("« {raw} » n'est pas une preuve de ce dossier"),
        ));
    }
    Ok(t.to_string())
}

/// The proof dossier with its instruction closed by a decision.
fn closed(l: &Loaded, now: DateTime<Utc>) -> (i64, ProofDossier) {
    let mut d = l.dossier().clone();
    d.events.push(InstructionEvent::Decided(now));
    (l.stored.version, d)
}

/// Issues the number and the attestation of a référencement just attributed, on `change`.
async fn attribute(
    state: &AppState,
    auth: &Auth,
    ctx: &Context<'_>,
    change: &mut ReferencingChange,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let year = to_paris(now).year();
    let seq = state
        .store
        .next_referencing_sequence(ctx.programme.code.as_str(), year)
        .await?;
    let n = number::issue(ctx.programme.code.as_str(), year, seq);
    change.referencing.refer(n.clone(), &auth.user.id, now)?;
    let doc = attestation_doc(state, &ctx.c, ctx.programme, &n, now);
    let bytes = conforme_pdf::attestation(&doc).map_err(pdf_error)?;
    let file = store_pdf(state, auth, &ctx.c, &format!("attestation-{n}.pdf"), bytes).await?;
    change.referencing.attestation_id = Some(file.id.clone());
    change.attachments.push(file);
    if let Some(l) = &ctx.proofs {
        change.proof_dossier = Some(closed(l, now));
    }
    Ok(n)
}

/// A committee member records the decision on a candidature of the session's agenda.
pub async fn decide(
    state: &AppState,
    auth: &Auth,
    session_id: &str,
    id: &str,
    mode: &str,
    reasons: &str,
    at_fault: &[String],
) -> Result<(), AppError> {
    auth.may(&Action::DecideInCommittee)?;
    let session = session(state, session_id).await?;
    let now = state.clock.now();
    committee::check_sitting(&session, now).map_err(AppError::Conflict)?;
    let mode = match mode {
        "attribution" => DecisionMode::Attribution,
        "reserves-bloquantes" => DecisionMode::ReservesBloquantes,
        "reserves-non-bloquantes" => DecisionMode::ReservesNonBloquantes,
        _ => {
            return Err(AppError::bad_field(
                "mode",
                "choisissez une décision : attribution, réserves bloquantes ou réserves non bloquantes",
            ));
        }
    };
    let mut ctx = context(state, auth, id).await?;
    if ctx.c.programme_code != session.programme_code {
        return Err(AppError::Conflict(
            "Cette candidature relève du comité d'un autre dispositif.".into(),
        ));
    }
    let Some(l) = ctx.proofs.as_ref() else {
        return Err(AppError::Conflict(
            "Le dossier de preuves n'est pas ouvert.".into(),
        ));
    };
    let at_fault = at_fault
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|raw| fault_target(l, ctx.programme, raw))
        .collect::<Result<Vec<_>, _>>()?;
    let exchanges_open = check_exchange(ctx.programme, now, ExchangeKind::ProofRedeposit).is_ok();
    let outcome = ctx.r.decide(
        ctx.programme,
        ctx.proofs_valid,
        &session.id,
        mode,
        reasons,
        at_fault,
        exchanges_open,
        &auth.user.id,
        now,
    )?;
    let label = committee::label(session.held_on);
    let reasons = ctx
        .r
        .decisions
        .last()
        .map(|d| d.reasons.clone())
        .unwrap_or_default();
    let with_reasons = |text: String| {
        if reasons.is_empty() {
            text
        } else {
            format!("{text}\n\nMotifs : {reasons}")
        }
    };
    let mut change = ctx.change(
        "referencing.committee-decision",
        json!({ "session_id": session.id, "held_on": session.held_on, "mode": mode, "outcome": outcome }),
    );
    let (title, body) = match &outcome {
        Outcome::Referenced => {
            let n = attribute(state, auth, &ctx, &mut change, now).await?;
            (
                format!("Référencement attribué — {}", ctx.c.reference),
                with_reasons(format!(
                    "{label} : le référencement de {} (version {}) est attribué sous le numéro {n}. L'attestation est disponible sur la plateforme ; elle se vérifie publiquement à l'adresse {}.",
                    ctx.c.dossier.commercial_name,
                    ctx.c.dossier.technical_version,
                    verification_url(state, &n)
                )),
            )
        }
        Outcome::Returned { at_fault } => {
            let l = ctx
                .proofs
                .as_ref()
                .ok_or_else(|| AppError::Internal("proofs".into()))?;
            let mut d = l.dossier().clone();
            for t in at_fault {
                d.verdicts.insert(
                    t.clone(),
                    Verdict {
                        compliant: false,
                        reason: Some(format!("Réserve bloquante du {label} : {reasons}")),
                        by: auth.user.id.clone(),
                        at: now,
                    },
                );
            }
            change.proof_dossier = Some((l.stored.version, d));
            (
                format!("Réserves bloquantes — {}", ctx.c.reference),
                format!(
                    "{label} : le référencement n'est pas attribué en l'état (réserves bloquantes).\n\nMotifs : {reasons}\n\nPreuves en cause : {}. Vous pouvez les déposer à nouveau jusqu'à la date de fin des échanges ; le dossier retourne alors en instruction.",
                    at_fault.join(", ")
                ),
            )
        }
        Outcome::Refused => {
            if let Some(l) = &ctx.proofs {
                change.proof_dossier = Some(closed(l, now));
            }
            (
                format!("Référencement refusé — {}", ctx.c.reference),
                format!(
                    "{label} : le référencement est refusé (réserves bloquantes après la date de fin des échanges).\n\nMotifs : {reasons}"
                ),
            )
        }
        Outcome::Lifting { due } => {
            change.schedule = vec![NewJob {
                kind: LAPSE_JOB,
                object_id: ctx.c.id.clone(),
                payload: json!({ "due": due }),
                due_at: *due + chrono::Duration::seconds(1),
            }];
            (
                format!("Réserves non bloquantes — {}", ctx.c.reference),
                format!(
                    "{label} : des réserves non bloquantes sont émises.\n\nMotifs : {reasons}\n\nDéposez les éléments qui les lèvent avant le {} ; l'ANS les examine en procédure simplifiée, puis attribue ou refuse le référencement.",
                    paris_deadline(*due)
                ),
            )
        }
    };
    change.message = decision_message(body.clone());
    let mut n = tell_editor(state, &ctx.c, "referencing.decision", &title, &body).await?;
    n.extend(notify_instructors(state, &ctx.c, "referencing.decision", &title, &body).await?);
    change.notifications = n;
    apply_with_documents(state, auth, &change).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Non-blocking reservations

/// Before the bytes: whether the actor may deposit what lifts the reservations now.
pub async fn admit_lifting(state: &AppState, auth: &Auth, id: &str) -> Result<(), AppError> {
    let ctx = context(state, auth, id).await?;
    auth.may(&Action::EditCandidature {
        organisation_id: &ctx.c.organisation_id,
    })?;
    ctx.r
        .clone()
        .deposit_lifting("", "", state.clock.now())
        .map_err(AppError::from)
}

/// Records a stored file deposited to lift the reservations.
pub async fn record_lifting(
    state: &AppState,
    auth: &Auth,
    id: &str,
    attachment: Attachment,
    note: &str,
) -> Result<(), AppError> {
    let mut ctx = context(state, auth, id).await?;
    auth.may(&Action::EditCandidature {
        organisation_id: &ctx.c.organisation_id,
    })?;
    let now = state.clock.now();
    ctx.r.deposit_lifting(&attachment.id, note, now)?;
    let mut change = ctx.change(
        "referencing.lifting-deposited",
        json!({ "attachment_id": attachment.id, "file_name": attachment.file_name, "sha256": attachment.sha256, "note": note.trim() }),
    );
    let title = format!("Levée des réserves déposée — {}", ctx.c.reference);
    let body = format!(
        "L'éditeur a déposé « {} » pour lever les réserves non bloquantes. {}",
        attachment.file_name,
        note.trim()
    );
    change.message = Some(NewMessage {
        author_id: Some(auth.user.id.clone()),
        kind: "message",
        body: body.clone(),
        attachment_ids: vec![attachment.id.clone()],
    });
    change.notifications =
        notify_instructors(state, &ctx.c, "referencing.lifting", &title, &body).await?;
    change.attachments = vec![attachment];
    // The caller deletes the stored bytes on any refusal.
    apply(state, auth, &change).await?;
    Ok(())
}

/// The simplified review of the lifting: attributed or refused.
pub async fn review_lifting(
    state: &AppState,
    auth: &Auth,
    id: &str,
    lifted: bool,
    reasons: &str,
) -> Result<(), AppError> {
    auth.may(&Action::PrepareConvention)?;
    let mut ctx = context(state, auth, id).await?;
    let now = state.clock.now();
    let outcome = ctx.r.review_lifting(lifted, reasons, &auth.user.id, now)?;
    let mut change = ctx.change(
        "referencing.lifting-reviewed",
        json!({ "lifted": lifted, "reasons": reasons.trim(), "outcome": outcome }),
    );
    change.cancel_jobs = vec![LAPSE_JOB];
    let (title, body) = if outcome == Outcome::Referenced {
        let n = attribute(state, auth, &ctx, &mut change, now).await?;
        (
            format!("Référencement attribué — {}", ctx.c.reference),
            format!(
                "Les réserves non bloquantes sont levées : le référencement est attribué sous le numéro {n}. Vérification publique : {}.",
                verification_url(state, &n)
            ),
        )
    } else {
        if let Some(l) = &ctx.proofs {
            change.proof_dossier = Some(closed(l, now));
        }
        (
            format!("Référencement refusé — {}", ctx.c.reference),
            format!(
                "Les réserves non bloquantes ne sont pas levées : le référencement est refusé.\n\nMotifs : {}",
                reasons.trim()
            ),
        )
    };
    change.message = decision_message(body.clone());
    change.notifications =
        tell_editor(state, &ctx.c, "referencing.decision", &title, &body).await?;
    apply_with_documents(state, auth, &change).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// After the référencement

/// Suspends (`suspended`), reinstates (`valid`) or withdraws (`withdrawn`) a référencement.
pub async fn change_standing(
    state: &AppState,
    auth: &Auth,
    id: &str,
    to: &str,
    reasons: &str,
) -> Result<(), AppError> {
    auth.may(&Action::SuperviseReferencing)?;
    let to = match to {
        "suspended" => Standing::Suspended,
        "valid" => Standing::Valid,
        "withdrawn" => Standing::Withdrawn,
        _ => {
            return Err(AppError::bad_field(
                "standing",
                "choisissez : suspendre, rétablir ou retirer",
            ));
        }
    };
    let mut ctx = context(state, auth, id).await?;
    let now = state.clock.now();
    ctx.r.change_standing(to, reasons, &auth.user.id, now)?;
    let number = ctx.r.number.clone().unwrap_or_default();
    let change_label = match to {
        Standing::Suspended => "suspendu",
        Standing::Valid => "rétabli",
        Standing::Withdrawn => "retiré",
    };
    let mut change = ctx.change(
        "referencing.standing-changed",
        json!({ "number": number, "standing": to, "reasons": reasons.trim() }),
    );
    let title = format!("Référencement {change_label} — {number}");
    let body = format!(
        "Le référencement {number} de {} est {change_label} à compter du {}.\n\nMotifs : {}\n\nLe registre public et la page de vérification l'indiquent.{}",
        ctx.c.dossier.commercial_name,
        paris_long(now),
        reasons.trim(),
        if to == Standing::Valid {
            ""
        } else {
            " Le logo « Référencé Ségur » ne peut plus être utilisé."
        }
    );
    change.message = decision_message(body.clone());
    let mut n = tell_editor(state, &ctx.c, "referencing.standing", &title, &body).await?;
    n.extend(notify_instructors(state, &ctx.c, "referencing.standing", &title, &body).await?);
    change.notifications = n;
    apply(state, auth, &change).await?;
    Ok(())
}

/// Records a conformity audit and its findings.
pub async fn record_audit(
    state: &AppState,
    auth: &Auth,
    id: &str,
    kind: &str,
    held_on: &str,
    findings: &str,
    outcome: &str,
) -> Result<(), AppError> {
    auth.may(&Action::SuperviseReferencing)?;
    let held_on = NaiveDate::parse_from_str(held_on.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::bad_field("held_on", "date attendue au format AAAA-MM-JJ"))?;
    let outcome = AuditOutcome::parse(outcome).ok_or_else(|| {
        AppError::bad_field(
            "outcome",
            "choisissez : conforme, écarts mineurs ou écarts majeurs",
        )
    })?;
    let now = state.clock.now();
    if held_on > paris_date(now) {
        return Err(AppError::bad_field(
            "held_on",
            "un audit se consigne une fois tenu",
        ));
    }
    let mut ctx = context(state, auth, id).await?;
    let audit = Audit {
        kind: kind.trim().to_string(),
        held_on,
        findings: findings.trim().to_string(),
        outcome,
        by: auth.user.id.clone(),
        at: now,
    };
    ctx.r.record_audit(audit.clone())?;
    let mut change = ctx.change("referencing.audit-recorded", json!({ "audit": audit }));
    let title = format!("Audit de conformité consigné — {}", ctx.c.reference);
    let body = format!(
        "{} du {} : {}.\n\nConstats : {}",
        audit.kind,
        held_on.format("%d/%m/%Y"),
        outcome.label(),
        audit.findings
    );
    change.message = decision_message(body.clone());
    change.notifications = tell_editor(state, &ctx.c, "referencing.audit", &title, &body).await?;
    apply(state, auth, &change).await?;
    Ok(())
}

/// The editor declares a new version of the referenced solution under upward compatibility.
pub async fn declare_version(
    state: &AppState,
    auth: &Auth,
    id: &str,
    technical_version: &str,
    commercial_name: &str,
    compatible: bool,
) -> Result<DeclaredVersion, AppError> {
    let mut ctx = context(state, auth, id).await?;
    auth.may(&Action::EditCandidature {
        organisation_id: &ctx.c.organisation_id,
    })?;
    let now = state.clock.now();
    let referenced_version = ctx.c.dossier.technical_version.clone();
    ctx.r.declare_version(
        &referenced_version,
        DeclaredVersion {
            technical_version: technical_version.to_string(),
            commercial_name: commercial_name.to_string(),
            declared_by: auth.user.id.clone(),
            declared_at: now,
        },
        compatible,
    )?;
    let declared = ctx
        .r
        .versions
        .last()
        .cloned()
        .ok_or_else(|| AppError::Internal("declared version missing".into()))?;
    let mut change = ctx.change(
        "referencing.version-declared",
        json!({ "version": declared }),
    );
    let title = format!("Nouvelle version déclarée — {}", ctx.c.reference);
    let body = format!(
        "L'éditeur déclare la version {} ({}) de la solution référencée en version {referenced_version}, sous l'engagement de compatibilité ascendante.",
        declared.technical_version, declared.commercial_name
    );
    change.message = Some(NewMessage {
        author_id: Some(auth.user.id.clone()),
        kind: "message",
        body: body.clone(),
        attachment_ids: vec![],
    });
    change.notifications =
        notify_instructors(state, &ctx.c, "referencing.version", &title, &body).await?;
    apply(state, auth, &change).await?;
    Ok(declared)
}
