//! The proof dossier, editor side and agency side: the checklist of required proofs with its
//! progress, deposits (several files per proof, streamed, with their automatic checks and the
//! history of replaced files), submission chapter by chapter or all at once, the instructor's
//! verdicts, the questions that stop the instruction clock and their answers, the
//! penetration-test results, the test session; and the instructor's workspace.
//!
//! Handlers hold no rule: they load the dossier, call `conforme_domain::proofs`, and hand the
//! outcome to the store, which writes it with its journal entry in one transaction.

use crate::AppState;
use crate::auth::Auth;
use crate::candidatures::{load_visible, notify_instructors, notify_members, programme_of};
use crate::error::AppError;
use chrono::{DateTime, Duration, Utc};
use conforme_domain::candidature::CandidatureState;
use conforme_domain::policy::Action;
use conforme_domain::programme::Programme;
use conforme_domain::proofs::checks::{ArchiveFacts, FileFacts, file_checks};
use conforme_domain::proofs::{
    Checklist, ControlPoint, DossierError, InstructionClock, InstructionRules, ProofDossier,
    ProofKey, ScenarioOutcome, Target, TestWindow, Wave1Status, initial_wave1, proof_keys,
    required_proofs, test_window,
};
use conforme_domain::rem::Rem;
use conforme_files::{FileError, StoredObject, UploadLimits};
use conforme_store::{
    Attachment, Candidature, DossierChange, NewJob, NewMessage, NewNotification, ProofFile,
    StoreError, StoredProofDossier,
};
use serde_json::json;
use std::collections::BTreeSet;

pub mod api;
pub mod pages;

/// The job that abandons a candidature whose question stays unanswered (payload: the due
/// instant). Carried out by the worker of the `conforme` crate.
pub const ABANDONMENT_JOB: &str = "proofs.abandonment";

/// The largest proof file: videos of several GB are common.
pub const MAX_PROOF_BYTES: u64 = 8 * 1024 * 1024 * 1024;

/// The types a proof file may have, as sniffed from its content.
pub const PROOF_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/tiff",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/x-matroska",
    "video/x-msvideo",
    "video/mpeg",
    "application/zip",
    "application/gzip",
    "application/x-tar",
    "application/x-7z-compressed",
    "application/x-xz",
    "application/x-bzip2",
    "text/plain",
    "text/xml",
    "application/xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

pub const PROOF_FORMATS: &str = "PDF, images (PNG, JPEG, GIF, WebP, BMP, TIFF), vidéos (MP4, MOV, WebM, MKV, AVI, MPEG), \
    archives (ZIP, GZIP, TAR, 7z, XZ, BZIP2), texte (journaux, CSV, HL7, XML/CDA), documents bureautiques";

pub fn proof_limits() -> UploadLimits {
    UploadLimits::new(MAX_PROOF_BYTES).allowing(PROOF_TYPES.iter().copied())
}

pub(crate) fn actor(auth: &Auth) -> String {
    format!("user:{}", auth.user.email)
}

impl From<DossierError> for AppError {
    fn from(e: DossierError) -> Self {
        match e {
            DossierError::Incomplete { message, missing } => AppError::BadRequest {
                detail: message,
                errors: missing
                    .into_iter()
                    .map(|m| crate::error::FieldError {
                        field: "preuves".into(),
                        message: m,
                    })
                    .collect(),
            },
            other => AppError::Conflict(other.to_string()),
        }
    }
}

/// A proof dossier with what every view and operation needs.
pub struct Loaded {
    pub c: Candidature,
    pub stored: StoredProofDossier,
    pub rem: Rem,
    pub checklist: Checklist,
    pub files: Vec<ProofFile>,
    /// Targets with a current file.
    pub deposited: BTreeSet<Target>,
}

impl Loaded {
    pub fn dossier(&self) -> &ProofDossier {
        &self.stored.dossier
    }

    /// The deposit progress per chapter and overall.
    pub fn progress(&self) -> conforme_domain::proofs::Progress {
        self.checklist
            .progress(self.deposited.iter().filter_map(|t| match t {
                Target::Proof(k) => Some(k),
                _ => None,
            }))
    }

    /// Whether REM proofs may be deposited now, and under which rule.
    pub fn deposit_window(&self, programme: &Programme, now: DateTime<Utc>) -> (bool, String) {
        let Some(first) = self.checklist.items.first() else {
            return (false, String::new());
        };
        match self
            .dossier()
            .deposit_admission(programme, &Target::Proof(first.key.clone()), now)
        {
            Ok(a) => (self.c.state != CandidatureState::Abandoned, a.rule),
            Err(e) => (false, e.to_string()),
        }
    }

    pub fn current_files(&self, target: &Target) -> Vec<&ProofFile> {
        let t = target.to_string();
        self.files
            .iter()
            .filter(|f| f.current() && f.target == t)
            .collect()
    }

    /// When every required proof of `chapter` had a file: the latest of their first
    /// current deposits.
    pub fn chapter_deposited_at(&self, chapter: &str) -> Option<DateTime<Utc>> {
        let mut latest: Option<DateTime<Utc>> = None;
        for item in self.checklist.required().filter(|i| i.chapter == chapter) {
            let first = self
                .current_files(&Target::Proof(item.key.clone()))
                .iter()
                .map(|f| f.deposited_at)
                .min()?;
            latest = Some(latest.map_or(first, |l| l.max(first)));
        }
        latest
    }

    pub fn test_window(&self, programme: &Programme) -> Option<TestWindow> {
        let chapter_at = programme
            .def
            .test_session
            .as_ref()
            .and_then(|t| t.chapter.as_deref())
            .and_then(|ch| self.chapter_deposited_at(ch));
        test_window(
            programme.def.test_session.as_ref(),
            self.dossier(),
            &self.checklist,
            &self.deposited,
            chapter_at,
        )
    }

    pub fn clock(&self, programme: &Programme) -> Result<InstructionClock, AppError> {
        self.dossier()
            .clock(InstructionRules::for_programme(programme))
            .map_err(|e| AppError::Internal(format!("instruction clock: {e}")))
    }
}

async fn current_rem_id(
    state: &AppState,
    programme: &str,
    label: &str,
) -> Result<String, AppError> {
    state
        .store
        .rem_version(programme, label)
        .await?
        .map(|v| v.id)
        .ok_or_else(|| AppError::Internal(format!("REM {programme}@{label} missing")))
}

/// Opens the proof dossier of a validated candidature on the programme's current REM.
async fn open(
    state: &AppState,
    c: &Candidature,
    actor: &str,
) -> Result<StoredProofDossier, AppError> {
    let versions = state.store.rem_versions(&c.programme_code).await?;
    let current = versions.last().ok_or_else(|| {
        AppError::Conflict(
            "Aucune version du REM n'est publiée pour ce dispositif : le dossier de preuves ne peut pas encore s'ouvrir."
                .into(),
        )
    })?;
    let dossier = ProofDossier::new(&current.label, initial_wave1(c.dossier.wave1_referenced));
    Ok(state
        .store
        .open_proof_dossier(&c.id, &dossier, state.clock.now(), actor)
        .await?)
}

/// Opens the proof dossier right after the administrative dossier is validated.
pub async fn open_after_validation(state: &AppState, c: &Candidature, actor: &str) {
    if let Err(e) = open(state, c, actor).await {
        tracing::warn!(candidature = %c.id, error = %e, "proof dossier not opened");
    }
}

/// Loads the proof dossier of a candidature the actor may see (opening it on first access
/// once the administrative dossier is validated).
pub async fn load(state: &AppState, auth: &Auth, id: &str) -> Result<Loaded, AppError> {
    let c = load_visible(state, auth, id).await?;
    let stored = match state.store.proof_dossier(&c.id).await? {
        Some(s) => s,
        None if c.state == CandidatureState::Validated => open(state, &c, &actor(auth)).await?,
        None => {
            return Err(AppError::Conflict(format!(
                "Le dossier de preuves s'ouvre une fois le dossier administratif validé (état actuel : « {} »).",
                c.state.label()
            )));
        }
    };
    let rem_id = current_rem_id(state, &c.programme_code, &stored.dossier.rem_version).await?;
    let rem = state.store.load_rem(&rem_id).await?;
    let checklist = required_proofs(
        &rem,
        &c.dossier.profiles,
        stored.dossier.wave1,
        &stored.dossier.additions,
    );
    let files = state.store.proof_files(&c.id).await?;
    let deposited = files
        .iter()
        .filter(|f| f.current())
        .filter_map(|f| Target::parse(&f.target).ok())
        .collect();
    Ok(Loaded {
        c,
        stored,
        rem,
        checklist,
        files,
        deposited,
    })
}

fn editor_of(auth: &Auth, l: &Loaded) -> Result<(), AppError> {
    auth.may(&Action::EditCandidature {
        organisation_id: &l.c.organisation_id,
    })
}

fn instructor(auth: &Auth) -> Result<(), AppError> {
    auth.may(&Action::ReviewCandidatures)
}

fn not_abandoned(l: &Loaded) -> Result<(), AppError> {
    if l.c.state == CandidatureState::Abandoned {
        return Err(AppError::Conflict(
            "La candidature est abandonnée : plus aucune action n'est possible sur son dossier de preuves."
                .into(),
        ));
    }
    Ok(())
}

fn queue_key(programme: &Programme, d: &ProofDossier, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    d.clock(InstructionRules::for_programme(programme))
        .ok()
        .and_then(|c| c.queue_key(now))
}

/// Applies a change, turning a concurrent one into a clear refusal.
async fn apply(state: &AppState, auth: &Auth, change: DossierChange) -> Result<(), AppError> {
    state
        .store
        .change_proof_dossier(&change, state.clock.now(), &actor(auth))
        .await
        .map_err(|e| match e {
            StoreError::Stale(_) => AppError::Conflict(
                "Le dossier de preuves a été modifié entre-temps : rechargez la page et recommencez."
                    .into(),
            ),
            other => other.into(),
        })?;
    Ok(())
}

/// Whether `target` designates something this dossier can receive.
fn check_target(
    l: &Loaded,
    programme: &Programme,
    target: &Target,
) -> Result<Option<String>, AppError> {
    match target {
        Target::Proof(key) => l
            .checklist
            .item(key)
            .map(|i| i.proof_text.clone().or_else(|| i.scenario_text.clone()))
            .ok_or_else(|| {
                AppError::bad_field(
                    "target",
                    format!(
                        "la preuve « {key} » n'existe pas dans la version {} du REM",
                        l.dossier().rem_version
                    ),
                )
            }),
        Target::Piece(code) => programme
            .def
            .extra_pieces
            .iter()
            .find(|p| &p.code == code)
            .map(|p| Some(p.description.clone()))
            .ok_or_else(|| {
                AppError::bad_field(
                    "target",
                    format!("pièce inconnue « {code} » pour ce dispositif"),
                )
            }),
        Target::TestRecording => {
            let confirmed = l
                .dossier()
                .test_session
                .as_ref()
                .is_some_and(|t| t.confirmed_at.is_some());
            if confirmed {
                Ok(Some("Enregistrement vidéo de la session de test".into()))
            } else {
                Err(AppError::Conflict(
                    "L'enregistrement se dépose une fois la date de la session de test confirmée."
                        .into(),
                ))
            }
        }
    }
}

/// Before the bytes: whether the actor may deposit for `target` now.
pub fn admit_deposit(
    state: &AppState,
    auth: &Auth,
    l: &Loaded,
    target: &Target,
) -> Result<(), AppError> {
    editor_of(auth, l)?;
    not_abandoned(l)?;
    let programme = programme_of(state, &l.c)?;
    check_target(l, programme, target)?;
    l.dossier()
        .deposit_admission(programme, target, state.clock.now())?;
    Ok(())
}

/// Removes stored bytes that will not be recorded.
pub async fn discard(state: &AppState, key: &str) {
    if let Err(e) = state.files.delete(key).await {
        tracing::error!(error = %e, key, "could not delete an unrecorded upload");
    }
}

/// Records a stored file as a deposit for `target` (replacing `replaces` if given), with its
/// automatic checks. The rules are checked again on the dossier as it is now; on any refusal
/// the stored bytes are deleted.
pub async fn record_deposit(
    state: &AppState,
    auth: &Auth,
    id: &str,
    target: &Target,
    replaces: Option<&str>,
    raw_name: &str,
    stored: StoredObject,
) -> Result<ProofFile, AppError> {
    let key = stored.key.clone();
    let outcome = async {
        let l = load(state, auth, id).await?;
        admit_deposit(state, auth, &l, target)?;
        let programme = programme_of(state, &l.c)?;
        let nature_text = check_target(&l, programme, target)?;
        if let Some(old) = replaces
            && !l.current_files(target).iter().any(|f| f.id == old)
        {
            return Err(AppError::bad_field(
                "replaces",
                "le fichier à remplacer n'est pas un fichier actuel de cette preuve",
            ));
        }
        let archive = match state
            .files
            .inspect_archive(&stored.key, &stored.content_type)
            .await
        {
            Ok(Some(conforme_files::ArchiveInspection::Readable { entries })) => {
                Some(ArchiveFacts::Readable { entries })
            }
            Ok(Some(conforme_files::ArchiveInspection::Unreadable { reason })) => {
                Some(ArchiveFacts::Unreadable { reason })
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "archive inspection failed");
                None
            }
        };
        let facts = FileFacts {
            content_type: stored.content_type.clone(),
            size: stored.size,
            archive,
        };
        let checks = file_checks(nature_text.as_deref(), &facts);
        let attachment = Attachment {
            id: uuid::Uuid::new_v4().to_string(),
            organisation_id: l.c.organisation_id.clone(),
            candidature_id: Some(l.c.id.clone()),
            file_name: crate::attachments::sanitise_file_name(raw_name, &stored.content_type),
            storage_key: stored.key.clone(),
            content_type: stored.content_type.clone(),
            size_bytes: i64::try_from(stored.size).unwrap_or(i64::MAX),
            sha256: stored.sha256.clone(),
            uploaded_by: auth.user.id.clone(),
            uploaded_at: state.clock.now(),
        };
        let checks =
            serde_json::to_value(&checks).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(state
            .store
            .deposit_proof_file(
                &l.c.id,
                &target.to_string(),
                &attachment,
                &checks,
                replaces,
                &actor(auth),
            )
            .await?)
    }
    .await;
    if outcome.is_err() {
        discard(state, &key).await;
    }
    outcome
}

/// A refused file, for pages and API alike.
pub fn file_refusal(e: &FileError) -> (axum::http::StatusCode, String) {
    crate::attachments::refusal_of(e, "pour une preuve", PROOF_FORMATS)
}

/// Withdraws a current file, within the deposit window.
pub async fn withdraw(
    state: &AppState,
    auth: &Auth,
    id: &str,
    file_id: &str,
) -> Result<(), AppError> {
    let l = load(state, auth, id).await?;
    let file = l
        .files
        .iter()
        .find(|f| f.id == file_id && f.current())
        .ok_or_else(|| {
            AppError::NotFound("Ce fichier n'est pas un fichier actuel du dossier.".into())
        })?;
    let target = Target::parse(&file.target).map_err(AppError::Internal)?;
    admit_deposit(state, auth, &l, &target)?;
    state
        .store
        .withdraw_proof_file(&l.c.id, file_id, state.clock.now(), &actor(auth))
        .await?;
    Ok(())
}

/// Who makes a change of the dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    /// An editor of the candidature's organisation.
    Editor,
    /// Agency staff who instruct.
    Instructor,
}

/// One change of a proof dossier in the making: the dossier loaded for an actor who may make
/// the change, and a copy of its value for the domain to change.
struct Edit<'a> {
    state: &'a AppState,
    auth: &'a Auth,
    l: Loaded,
    programme: &'a Programme,
    now: DateTime<Utc>,
    d: ProofDossier,
}

impl<'a> Edit<'a> {
    /// Refused for the wrong actor and on an abandoned candidature.
    async fn begin(
        state: &'a AppState,
        auth: &'a Auth,
        id: &str,
        by: By,
    ) -> Result<Self, AppError> {
        let edit = Self::begin_even_abandoned(state, auth, id, by).await?;
        not_abandoned(&edit.l)?;
        Ok(edit)
    }

    async fn begin_even_abandoned(
        state: &'a AppState,
        auth: &'a Auth,
        id: &str,
        by: By,
    ) -> Result<Self, AppError> {
        if by == By::Instructor {
            instructor(auth)?;
        }
        let l = load(state, auth, id).await?;
        if by == By::Editor {
            editor_of(auth, &l)?;
        }
        let programme = programme_of(state, &l.c)?;
        let d = l.dossier().clone();
        Ok(Self {
            state,
            auth,
            l,
            programme,
            now: state.clock.now(),
            d,
        })
    }

    fn reference(&self) -> &str {
        &self.l.c.reference
    }

    /// The change of the dossier as the domain left the copy.
    fn change(&self, action: &'static str, detail: serde_json::Value) -> DossierChange {
        let key = queue_key(self.programme, &self.d, self.now);
        DossierChange::new(&self.l.stored, self.d.clone(), key, action, detail)
    }

    /// A thread message from the actor.
    fn message(&self, kind: &'static str, body: String) -> Option<NewMessage> {
        Some(NewMessage {
            author_id: Some(self.auth.user.id.clone()),
            kind,
            body,
            attachment_ids: vec![],
        })
    }

    async fn to_editor(
        &self,
        kind: &'static str,
        title: &str,
        body: &str,
    ) -> Result<Vec<NewNotification>, AppError> {
        notify_members(self.state, &self.l.c, kind, title, body).await
    }

    async fn to_agency(
        &self,
        kind: &'static str,
        title: &str,
        body: &str,
    ) -> Result<Vec<NewNotification>, AppError> {
        notify_instructors(self.state, &self.l.c, kind, title, body).await
    }

    async fn commit(&self, change: DossierChange) -> Result<(), AppError> {
        apply(self.state, self.auth, change).await
    }
}

/// Submits a chapter or the whole dossier.
pub async fn submit(
    state: &AppState,
    auth: &Auth,
    id: &str,
    chapter: Option<&str>,
) -> Result<conforme_domain::proofs::Submission, AppError> {
    let mut e = Edit::begin(state, auth, id, By::Editor).await?;
    let outcome =
        e.d.submit(e.programme, &e.l.checklist, &e.l.deposited, chapter, e.now)?;
    let title = if outcome.completed {
        format!("Dossier de preuves complet — {}", e.reference())
    } else {
        format!("Preuves soumises — {}", e.reference())
    };
    let body = match (&outcome.completed, outcome.chapters.is_empty()) {
        (true, _) => format!(
            "Le dossier de preuves est complet à la date du {}. {}",
            crate::format::paris_long(e.now),
            outcome.rule
        ),
        (false, false) => format!("Chapitre(s) soumis : {}.", outcome.chapters.join(", ")),
        (false, true) => "Preuves déposées de nouveau pour instruction.".to_string(),
    };
    let mut ch = e.change(
        if outcome.completed {
            "proofs.completed"
        } else {
            "proofs.submitted"
        },
        json!({ "chapters": outcome.chapters, "completed": outcome.completed, "chapter": chapter }),
    );
    ch.message = e.message("proof-submission", body.clone());
    ch.notifications = e.to_agency("proofs.submitted", &title, &body).await?;
    ch.notifications
        .extend(e.to_editor("proofs.submitted", &title, &body).await?);
    e.commit(ch).await?;
    Ok(outcome)
}

/// The instructor's verdict on a target.
pub async fn rule_on(
    state: &AppState,
    auth: &Auth,
    id: &str,
    target: &Target,
    compliant: bool,
    reason: &str,
) -> Result<(), AppError> {
    let mut e = Edit::begin(state, auth, id, By::Instructor).await?;
    check_target(&e.l, e.programme, target)?;
    e.d.rule_on(target, compliant, reason, &auth.user.id, e.now)?;
    let mut ch = e.change(
        "proofs.verdict",
        json!({ "target": target.to_string(), "compliant": compliant, "reason": reason.trim() }),
    );
    if !compliant {
        let title = format!("Preuve non conforme — {}", e.reference());
        let body = format!("{target} : {}", reason.trim());
        ch.notifications = e.to_editor("proofs.verdict", &title, &body).await?;
    }
    e.commit(ch).await
}

/// The agency asks the editor something: the clock stops, the 30-day abandonment is
/// scheduled.
pub async fn ask(state: &AppState, auth: &Auth, id: &str, message: &str) -> Result<(), AppError> {
    instructor(auth)?;
    let message = non_empty_message(message)?;
    let mut e = Edit::begin(state, auth, id, By::Instructor).await?;
    let rules = InstructionRules::for_programme(e.programme);
    let (abandon_due, keep_due) = e.d.ask(&rules, e.now)?;
    let rule = format!(
        "Sans réponse au plus tard le {}, la candidature est abandonnée ; une réponse au plus tard le {} garde la place dans la file d'attente ({}).",
        crate::format::paris_deadline(abandon_due),
        crate::format::paris_long(keep_due),
        rules.source
    );
    let body = format!("{message}\n\n{rule}");
    let mut ch = e.change(
        "proofs.question-asked",
        json!({ "message": message, "abandonment_due": abandon_due, "keep_place_due": keep_due }),
    );
    ch.message = e.message("proof-question", body.clone());
    ch.schedule = vec![NewJob {
        kind: ABANDONMENT_JOB,
        object_id: e.l.c.id.clone(),
        payload: json!({ "due": abandon_due }),
        // Met by an answer at the due instant itself: fires just after it.
        due_at: abandon_due + Duration::seconds(1),
    }];
    ch.notifications = e
        .to_editor(
            "proofs.question",
            &format!("Question de l'ANS — {}", e.reference()),
            &body,
        )
        .await?;
    e.commit(ch).await
}

fn non_empty_message(message: &str) -> Result<&str, AppError> {
    let m = message.trim();
    if m.is_empty() {
        return Err(AppError::bad_field("message", "le message est vide"));
    }
    if m.chars().count() > 10_000 {
        return Err(AppError::bad_field(
            "message",
            "le message dépasse 10 000 caractères",
        ));
    }
    Ok(m)
}

/// The editor answers the pending question.
pub async fn answer(
    state: &AppState,
    auth: &Auth,
    id: &str,
    message: &str,
) -> Result<bool, AppError> {
    let message = non_empty_message(message)?;
    let mut e = Edit::begin(state, auth, id, By::Editor).await?;
    let rules = InstructionRules::for_programme(e.programme);
    let kept = e.d.answer(e.programme, &rules, e.now)?;
    let mut ch = e.change(
        "proofs.answered",
        json!({ "message": message, "place_kept": kept }),
    );
    ch.cancel_jobs = vec![ABANDONMENT_JOB];
    ch.message = e.message("proof-answer", message.to_string());
    let place = if kept {
        "Réponse dans les 24 heures : la place dans la file d'attente est conservée."
    } else {
        "Réponse au-delà de 24 heures : le dossier reprend rang dans la file à la date de la réponse."
    };
    ch.notifications = e
        .to_agency(
            "proofs.answer",
            &format!("Réponse de l'éditeur — {}", e.reference()),
            &format!("{message}\n\n{place}"),
        )
        .await?;
    e.commit(ch).await?;
    Ok(kept)
}

/// Assigns the dossier to the acting instructor, or releases it.
pub async fn assign(state: &AppState, auth: &Auth, id: &str, to_me: bool) -> Result<(), AppError> {
    let mut e = Edit::begin_even_abandoned(state, auth, id, By::Instructor).await?;
    e.d.assigned_to = to_me.then(|| auth.user.id.clone());
    let ch = e.change("proofs.assigned", json!({ "assigned_to": e.d.assigned_to }));
    e.commit(ch).await
}

/// The agency adds a proof line to the checklist.
pub async fn add_proof(state: &AppState, auth: &Auth, id: &str, key: &str) -> Result<(), AppError> {
    instructor(auth)?;
    let key = ProofKey::parse(key.trim()).map_err(|e| AppError::bad_field("key", e.to_string()))?;
    let mut e = Edit::begin(state, auth, id, By::Instructor).await?;
    if !e.d.add_proof(&proof_keys(&e.l.rem), key.clone())? {
        return Ok(());
    }
    let mut ch = e.change("proofs.proof-added", json!({ "key": key.to_string() }));
    ch.notifications = e
        .to_editor(
            "proofs.proof-added",
            &format!("Preuve ajoutée par l'ANS — {}", e.reference()),
            &format!("L'ANS demande la preuve {key}."),
        )
        .await?;
    e.commit(ch).await
}

/// The agency records the wave-1 status read on the wave-1 attestation and whether the
/// CNDA homologation was pre-examined.
pub async fn set_facts(
    state: &AppState,
    auth: &Auth,
    id: &str,
    wave1: Wave1Status,
    cnda_pre_examined: bool,
) -> Result<(), AppError> {
    let mut e = Edit::begin(state, auth, id, By::Instructor).await?;
    let before = json!({ "wave1": e.d.wave1, "cnda_pre_examined": e.d.cnda_pre_examined });
    e.d.wave1 = wave1;
    e.d.cnda_pre_examined = cnda_pre_examined;
    let ch = e.change(
        "proofs.facts-set",
        json!({ "before": before, "wave1": wave1, "cnda_pre_examined": cnda_pre_examined }),
    );
    e.commit(ch).await
}

/// The editor enters (or imports) the penetration-test control points.
pub async fn enter_pentest(
    state: &AppState,
    auth: &Auth,
    id: &str,
    points: Vec<ControlPoint>,
) -> Result<(), AppError> {
    let mut e = Edit::begin(state, auth, id, By::Editor).await?;
    let piece = Target::Piece(conforme_domain::proofs::PENTEST_PIECE.into());
    admit_deposit(state, auth, &e.l, &piece)?;
    let verdict = e.d.enter_pentest(points, e.now)?;
    let ch = e.change(
        "proofs.pentest-entered",
        json!({ "accepted": verdict.accepted, "failed_high": verdict.failed_high, "failed_medium": verdict.failed_medium, "total": verdict.total }),
    );
    e.commit(ch).await
}

/// The agency proposes the test session's date.
pub async fn propose_test(
    state: &AppState,
    auth: &Auth,
    id: &str,
    date: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut e = Edit::begin(state, auth, id, By::Instructor).await?;
    let window = e.l.test_window(e.programme).ok_or_else(|| {
        AppError::Conflict("Ce dossier n'a pas de session de test à tenir.".into())
    })?;
    e.d.propose_test(&window, date, e.now)?;
    let body = format!(
        "L'ANS propose le {} pour la {}. Confirmez la date depuis le dossier de preuves.",
        crate::format::paris_long(date),
        window.label.to_lowercase()
    );
    let mut ch = e.change("proofs.test-proposed", json!({ "date": date }));
    ch.message = e.message("message", body.clone());
    ch.notifications = e
        .to_editor(
            "proofs.test",
            &format!("{} — {}", window.label, e.reference()),
            &body,
        )
        .await?;
    e.commit(ch).await
}

pub async fn confirm_test(state: &AppState, auth: &Auth, id: &str) -> Result<(), AppError> {
    let mut e = Edit::begin(state, auth, id, By::Editor).await?;
    e.d.confirm_test(e.now)?;
    let mut ch = e.change("proofs.test-confirmed", json!({}));
    ch.notifications = e
        .to_agency(
            "proofs.test",
            &format!("Date de session de test confirmée — {}", e.reference()),
            "L'éditeur a confirmé la date proposée.",
        )
        .await?;
    e.commit(ch).await
}

/// Parses "scénario ; ok|ko ; commentaire" lines.
pub fn parse_outcomes(text: &str) -> Result<Vec<ScenarioOutcome>, AppError> {
    let mut out = vec![];
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.splitn(3, ';').map(str::trim);
        let scenario = parts.next().unwrap_or_default();
        let result = parts.next().unwrap_or_default().to_lowercase();
        let comment = parts.next().unwrap_or_default();
        let passed = match result.as_str() {
            "ok" | "réussi" | "reussi" | "conforme" => true,
            "ko" | "échec" | "echec" | "non conforme" => false,
            _ => {
                return Err(AppError::bad_field(
                    "outcomes",
                    format!(
                        "ligne {} : résultat « {result} » : attendu « ok » ou « ko »",
                        n + 1
                    ),
                ));
            }
        };
        if scenario.is_empty() {
            return Err(AppError::bad_field(
                "outcomes",
                format!("ligne {} : scénario manquant", n + 1),
            ));
        }
        out.push(ScenarioOutcome {
            scenario: scenario.to_string(),
            passed,
            comment: comment.to_string(),
        });
    }
    Ok(out)
}

pub async fn record_test(
    state: &AppState,
    auth: &Auth,
    id: &str,
    outcomes: Vec<ScenarioOutcome>,
) -> Result<(), AppError> {
    let mut e = Edit::begin(state, auth, id, By::Instructor).await?;
    let recording_in = e.l.deposited.contains(&Target::TestRecording);
    e.d.record_test(outcomes.clone(), recording_in, e.now)?;
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    let mut ch = e.change("proofs.test-recorded", json!({ "outcomes": outcomes }));
    ch.notifications = e
        .to_editor(
            "proofs.test",
            &format!("Résultat de la session de test — {}", e.reference()),
            &format!(
                "{} scénario(s) consigné(s), dont {failed} en échec.",
                outcomes.len()
            ),
        )
        .await?;
    e.commit(ch).await
}

/// How soon an abandonment counts as "due soon" in the workspace.
pub const DUE_SOON: Duration = Duration::days(7);
