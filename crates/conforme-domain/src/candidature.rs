//! The candidature's administrative part: the editor's identity and the administrative dossier
//! with their completeness rules (DSR-DPI §4.2, DSR-BIO §4.2), the submission deadline, the
//! profile-change policy, and the state machine of the agency's review with its complement
//! deadline (5 working days, after which the candidature is rejected).

use crate::calendar::deadline_after_working_days;
use crate::identifiers::{Email, Phone, Siret};
use crate::programme::{DateRole, Programme, ResolvedDate};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// One missing or invalid field, named as the form and the API name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub label: String,
    pub message: String,
}

fn problem(
    field: impl Into<String>,
    label: impl Into<String>,
    message: impl Into<String>,
) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        label: label.into(),
        message: message.into(),
    }
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// The editor as the administrative dossier describes it; `*` fields are mandatory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EditorIdentity {
    pub company_name: String,
    pub siret: String,
    pub legal_form: String,
    pub head_function: String,
    pub head_office_address: String,
    pub legal_rep_name: String,
    pub legal_rep_title: String,
    pub legal_rep_email: String,
    pub legal_rep_phone: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    /// CNDA editor number (NIE).
    pub cnda_nie: String,
}

/// The labels of the editor's fields, in form order.
pub const EDITOR_FIELDS: &[(&str, &str)] = &[
    ("company_name", "Raison sociale"),
    ("siret", "SIRET"),
    ("legal_form", "Forme juridique"),
    ("head_function", "Fonction du dirigeant"),
    ("head_office_address", "Adresse du siège social"),
    ("legal_rep_name", "Nom du représentant légal"),
    ("legal_rep_title", "Qualité du représentant légal"),
    ("legal_rep_email", "Courriel du représentant légal"),
    ("legal_rep_phone", "Téléphone du représentant légal"),
    ("contact_name", "Nom du contact référencement"),
    ("contact_email", "Courriel du contact référencement"),
    ("contact_phone", "Téléphone du contact référencement"),
    ("cnda_nie", "Numéro CNDA de l'éditeur (NIE)"),
];

impl EditorIdentity {
    pub fn field(&self, name: &str) -> &str {
        match name {
            "company_name" => &self.company_name,
            "siret" => &self.siret,
            "legal_form" => &self.legal_form,
            "head_function" => &self.head_function,
            "head_office_address" => &self.head_office_address,
            "legal_rep_name" => &self.legal_rep_name,
            "legal_rep_title" => &self.legal_rep_title,
            "legal_rep_email" => &self.legal_rep_email,
            "legal_rep_phone" => &self.legal_rep_phone,
            "contact_name" => &self.contact_name,
            "contact_email" => &self.contact_email,
            "contact_phone" => &self.contact_phone,
            "cnda_nie" => &self.cnda_nie,
            _ => "",
        }
    }

    /// Every missing or invalid field; all are mandatory.
    pub fn problems(&self) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        for (name, label) in EDITOR_FIELDS {
            let value = self.field(name);
            if blank(value) {
                out.push(problem(*name, *label, "champ obligatoire"));
                continue;
            }
            if value.chars().count() > 500 {
                out.push(problem(*name, *label, "500 caractères au plus"));
                continue;
            }
            let invalid = match *name {
                "siret" => Siret::parse(value).err().map(|e| e.to_string()),
                "legal_rep_email" | "contact_email" => {
                    Email::parse(value).err().map(|e| e.to_string())
                }
                "legal_rep_phone" | "contact_phone" => {
                    Phone::parse(value).err().map(|e| e.to_string())
                }
                _ => None,
            };
            if let Some(message) = invalid {
                out.push(problem(*name, *label, message));
            }
        }
        out
    }
}

/// A version of the solution that exists besides the candidate one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExistingVersion {
    pub technical_version: String,
    pub commercial_name: String,
    pub wave1_referenced: bool,
    /// Announced to clients as end of maintenance or of sale before Date 0.
    pub end_announced: bool,
}

/// A component added to the main solution.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdditionalComponent {
    pub editor: String,
    pub commercial_name: String,
    pub version: String,
    /// NIL, when the component replaces the main one for a CNDA homologation.
    pub nil: String,
    pub rem_chapter: String,
}

/// The administrative dossier of one solution version. Attachments are referenced by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdministrativeDossier {
    pub commercial_name: String,
    /// Unique, shown in the software, alphanumeric, chronologically ordered.
    pub technical_version: String,
    pub planned_complete_dossier_date: Option<NaiveDate>,
    /// "oui" / "non"; unanswered until chosen.
    pub wave1_referenced: Option<bool>,
    pub wave1_number: String,
    pub wave1_attestation: Option<String>,
    /// CNDA software number (NIL).
    pub cnda_nil: String,
    /// Proof of the CNDA application (attachment id).
    pub cnda_application_proof: Option<String>,
    /// Documentation showing the minimal functions (attachment id).
    pub documentation: Option<String>,
    pub profiles: Vec<String>,
    pub existing_versions: Vec<ExistingVersion>,
    /// The editor states the solution has no additional component.
    pub no_additional_components: bool,
    pub additional_components: Vec<AdditionalComponent>,
}

fn technical_version_ok(v: &str) -> bool {
    let v = v.trim();
    !v.is_empty()
        && v.len() <= 64
        && v.chars().any(|c| c.is_ascii_alphanumeric())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
}

impl AdministrativeDossier {
    /// Every missing or invalid field for submission to `programme`, in form order.
    pub fn problems(&self, programme: &Programme) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        if blank(&self.commercial_name) {
            out.push(problem(
                "commercial_name",
                "Nom commercial de la solution",
                "champ obligatoire",
            ));
        }
        if blank(&self.technical_version) {
            out.push(problem(
                "technical_version",
                "Numéro de version technique",
                "champ obligatoire",
            ));
        } else if !technical_version_ok(&self.technical_version) {
            out.push(problem(
                "technical_version",
                "Numéro de version technique",
                "lettres, chiffres et « . - _ + » seulement, 64 caractères au plus",
            ));
        }
        match self.wave1_referenced {
            None => out.push(problem(
                "wave1_referenced",
                "Référencement en vague 1",
                "indiquer si la solution est référencée en vague 1",
            )),
            Some(true) => {
                if blank(&self.wave1_number) {
                    out.push(problem(
                        "wave1_number",
                        "Numéro de référencement vague 1",
                        "obligatoire pour une solution référencée en vague 1",
                    ));
                }
                if self.wave1_attestation.is_none() {
                    out.push(problem(
                        "wave1_attestation",
                        "Attestation de référencement vague 1",
                        "obligatoire pour une solution référencée en vague 1",
                    ));
                }
            }
            Some(false) => {}
        }
        if blank(&self.cnda_nil) {
            out.push(problem(
                "cnda_nil",
                "Numéro CNDA du logiciel (NIL)",
                "champ obligatoire",
            ));
        }
        if self.cnda_application_proof.is_none() {
            out.push(problem(
                "cnda_application_proof",
                "Preuve de la demande d'homologation CNDA",
                "pièce obligatoire",
            ));
        }
        if self.documentation.is_none() {
            out.push(problem(
                "documentation",
                "Documentation des fonctions minimales",
                "pièce obligatoire",
            ));
        }
        if let Err(problems) = programme.check_profiles(&self.profiles) {
            for p in problems {
                out.push(problem("profiles", "Profils", p));
            }
        }
        for (i, v) in self.existing_versions.iter().enumerate() {
            if blank(&v.technical_version) || blank(&v.commercial_name) {
                out.push(problem(
                    format!("existing_versions[{i}]"),
                    format!("Version existante n° {}", i + 1),
                    "numéro de version technique et nom commercial obligatoires",
                ));
            } else if v.technical_version.trim() == self.technical_version.trim() {
                out.push(problem(
                    format!("existing_versions[{i}]"),
                    format!("Version existante n° {}", i + 1),
                    "le numéro de version technique doit être unique : c'est celui de la version candidate",
                ));
            }
        }
        if self.no_additional_components && !self.additional_components.is_empty() {
            out.push(problem(
                "additional_components",
                "Composants additionnels",
                "des composants sont déclarés alors que « aucun composant additionnel » est coché",
            ));
        }
        if !self.no_additional_components && self.additional_components.is_empty() {
            out.push(problem(
                "additional_components",
                "Composants additionnels",
                "déclarer les composants additionnels ou cocher « aucun composant additionnel »",
            ));
        }
        for (i, c) in self.additional_components.iter().enumerate() {
            if blank(&c.editor)
                || blank(&c.commercial_name)
                || blank(&c.version)
                || blank(&c.rem_chapter)
            {
                out.push(problem(
                    format!("additional_components[{i}]"),
                    format!("Composant additionnel n° {}", i + 1),
                    "éditeur, nom commercial, version et chapitre du REM obligatoires",
                ));
            }
        }
        out
    }
}

/// Where a candidature's administrative review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CandidatureState {
    Draft,
    Submitted,
    ComplementRequested,
    Validated,
    Rejected,
    /// No answer to a question of the agency within 30 days during the instruction of the
    /// proofs (DSR-HOP-DPI-Va2 §4.4).
    Abandoned,
}

impl CandidatureState {
    pub const ALL: [CandidatureState; 6] = [
        CandidatureState::Draft,
        CandidatureState::Submitted,
        CandidatureState::ComplementRequested,
        CandidatureState::Validated,
        CandidatureState::Rejected,
        CandidatureState::Abandoned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CandidatureState::Draft => "draft",
            CandidatureState::Submitted => "submitted",
            CandidatureState::ComplementRequested => "complement-requested",
            CandidatureState::Validated => "validated",
            CandidatureState::Rejected => "rejected",
            CandidatureState::Abandoned => "abandoned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            CandidatureState::Draft => "Brouillon",
            CandidatureState::Submitted => "Déposé, en attente d'examen",
            CandidatureState::ComplementRequested => "Complément demandé",
            CandidatureState::Validated => "Dossier administratif validé",
            CandidatureState::Rejected => "Rejeté",
            CandidatureState::Abandoned => "Abandonnée (sans réponse sous 30 jours)",
        }
    }

    /// Whether the editor may still change the dossier.
    pub fn editable(self) -> bool {
        matches!(
            self,
            CandidatureState::Draft | CandidatureState::ComplementRequested
        )
    }
}

/// Why an action on a candidature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("action impossible : le dossier est à l'état « {} »", .0.label())]
    WrongState(CandidatureState),
    #[error("le dossier est incomplet : {} point(s) à corriger", .0.len())]
    Incomplete(Vec<FieldProblem>),
    #[error("{0}")]
    TooLate(String),
    #[error("{0}")]
    Missing(&'static str),
}

/// The binding deadline for a first submission, if the programme has one.
pub fn submission_deadline(programme: &Programme) -> Option<&ResolvedDate> {
    programme
        .date_with_role(DateRole::AdministrativeDossierDeadline)
        .filter(|d| d.binding && d.instant.is_some())
}

fn paris(i: DateTime<Utc>) -> String {
    crate::calendar::to_paris(i)
        .format("%d/%m/%Y à %H:%M")
        .to_string()
}

/// Submits a draft. The deposit date is this first submission; it must not be after the
/// programme's deadline for it (met at or before the instant), nor before its window opens.
pub fn submit(
    programme: &Programme,
    state: CandidatureState,
    dossier: &AdministrativeDossier,
    editor: &EditorIdentity,
    now: DateTime<Utc>,
) -> Result<CandidatureState, TransitionError> {
    if state != CandidatureState::Draft {
        return Err(TransitionError::WrongState(state));
    }
    if let Some(opens) = programme
        .date_with_role(DateRole::WindowOpens)
        .and_then(|d| d.instant)
        && now < opens
    {
        return Err(TransitionError::TooLate(format!(
            "Les candidatures ouvrent le {} (heure de Paris).",
            paris(opens)
        )));
    }
    if let Some(deadline) = submission_deadline(programme)
        && let Some(instant) = deadline.instant
        && now > instant
    {
        return Err(TransitionError::TooLate(format!(
            "Dépôt refusé : la date de dépôt du dossier administratif ne peut être postérieure à la {} ({} heure de Paris) — {}.",
            deadline.label,
            paris(instant),
            deadline.description
        )));
    }
    let mut problems = editor.problems();
    problems.extend(dossier.problems(programme));
    if !problems.is_empty() {
        return Err(TransitionError::Incomplete(problems));
    }
    Ok(CandidatureState::Submitted)
}

/// The number of working days an editor has to answer a complement request.
pub const COMPLEMENT_WORKING_DAYS: u32 = 5;

/// The agency asks for a complement: returns the new state and the instant after which an
/// unanswered request rejects the candidature (24:00 Paris on the 5th working day).
pub fn request_complement(
    state: CandidatureState,
    message: &str,
    now: DateTime<Utc>,
) -> Result<(CandidatureState, DateTime<Utc>), TransitionError> {
    if state != CandidatureState::Submitted {
        return Err(TransitionError::WrongState(state));
    }
    if blank(message) {
        return Err(TransitionError::Missing(
            "le message de demande de complément est obligatoire",
        ));
    }
    Ok((
        CandidatureState::ComplementRequested,
        deadline_after_working_days(now, COMPLEMENT_WORKING_DAYS),
    ))
}

/// The editor answers a complement request, on time.
pub fn answer_complement(
    state: CandidatureState,
    message: &str,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<CandidatureState, TransitionError> {
    if state != CandidatureState::ComplementRequested {
        return Err(TransitionError::WrongState(state));
    }
    if now > due {
        return Err(TransitionError::TooLate(format!(
            "Le délai de réponse est dépassé depuis le {} (heure de Paris) : sans réponse dans les {COMPLEMENT_WORKING_DAYS} jours ouvrés, la candidature est rejetée.",
            crate::calendar::french_deadline(due)
        )));
    }
    if blank(message) {
        return Err(TransitionError::Missing("la réponse est obligatoire"));
    }
    Ok(CandidatureState::Submitted)
}

pub fn validate(state: CandidatureState) -> Result<CandidatureState, TransitionError> {
    if state != CandidatureState::Submitted {
        return Err(TransitionError::WrongState(state));
    }
    Ok(CandidatureState::Validated)
}

pub fn reject(state: CandidatureState, reason: &str) -> Result<CandidatureState, TransitionError> {
    if !matches!(
        state,
        CandidatureState::Submitted | CandidatureState::ComplementRequested
    ) {
        return Err(TransitionError::WrongState(state));
    }
    if blank(reason) {
        return Err(TransitionError::Missing(
            "le motif du rejet est obligatoire",
        ));
    }
    Ok(CandidatureState::Rejected)
}

/// The complement deadline fired: rejects only if the request is still unanswered.
pub fn expire_complement(
    state: CandidatureState,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<CandidatureState> {
    (state == CandidatureState::ComplementRequested && now > due)
        .then_some(CandidatureState::Rejected)
}

/// The rule of the complement deadline, in French, shown to both sides.
pub fn complement_rule() -> String {
    format!(
        "Sans réponse dans un délai de {COMPLEMENT_WORKING_DAYS} jours ouvrés (samedis, dimanches et jours fériés exclus, heure de Paris), la candidature est rejetée automatiquement."
    )
}

/// Checks a change of profiles after the first submission against the programme's policy.
pub fn check_profile_change(
    programme: &Programme,
    before: &[String],
    after: &[String],
    submitted_once: bool,
    now: DateTime<Utc>,
) -> Result<(), String> {
    if !submitted_once {
        return Ok(());
    }
    let added: Vec<&String> = after.iter().filter(|p| !before.contains(p)).collect();
    let removed: Vec<&String> = before.iter().filter(|p| !after.contains(p)).collect();
    let policy = &programme.def.profile_change;
    if policy.final_choice && (!added.is_empty() || !removed.is_empty()) {
        return Err("Le choix des profils est définitif pour ce dispositif : un changement nécessite une nouvelle candidature.".into());
    }
    if !removed.is_empty() && !policy.remove_anytime {
        return Err("Ce dispositif ne permet pas de retirer un profil.".into());
    }
    if !added.is_empty()
        && let Some(until) = policy.add_until.as_deref().and_then(|k| programme.date(k))
        && let Some(instant) = until.instant
        && now > instant
    {
        return Err(format!(
            "Des profils ne peuvent plus être ajoutés depuis la {} ({} heure de Paris).",
            until.label,
            paris(instant)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
