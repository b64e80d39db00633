//! The référencement of one candidature, from its convention to its standing in the
//! registry. A [`Referencing`] is a value: every change is a method that checks the rule and
//! either changes it or says why not, in French.

use crate::calendar::deadline_after_days;
use crate::programme::{ConventionMoment, DecisionMode, Programme};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The generated convention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConventionRecord {
    pub generated_at: DateTime<Utc>,
    pub generated_by: String,
    pub attachment_id: String,
    /// SHA-256 of the unsigned PDF: what the signer signs.
    pub sha256: String,
}

/// The evidence of the electronic signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureRecord {
    pub signer_id: String,
    pub signer_name: String,
    pub signer_email: String,
    pub signed_at: DateTime<Utc>,
    /// The digest of the document signed (the unsigned convention).
    pub document_sha256: String,
    /// How the signer was authenticated at the time of signing.
    pub method: String,
    /// The signed document: the convention followed by its evidence page.
    pub signed_attachment_id: String,
    pub signed_sha256: String,
}

/// One decision of the committee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitteeDecision {
    pub session_id: String,
    pub mode: DecisionMode,
    pub reasons: String,
    /// Blocking reservations before Date 3: the proofs to redeposit (targets as text).
    #[serde(default)]
    pub at_fault: Vec<String>,
    /// Blocking reservations after Date 3: the référencement is refused.
    #[serde(default)]
    pub final_refusal: bool,
    pub decided_by: String,
    pub decided_at: DateTime<Utc>,
}

/// A deposit made to lift non-blocking reservations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiftingDeposit {
    pub attachment_id: String,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// Non-blocking reservations to lift through the simplified review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifting {
    pub due: DateTime<Utc>,
    #[serde(default)]
    pub deposits: Vec<LiftingDeposit>,
    /// The review: lifted or not, why, by whom, when.
    #[serde(default)]
    pub review: Option<(bool, String, String, DateTime<Utc>)>,
}

/// The standing of a referenced solution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    Valid,
    Suspended,
    Withdrawn,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Valid => "valid",
            Standing::Suspended => "suspended",
            Standing::Withdrawn => "withdrawn",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Standing::Valid => "Valide",
            Standing::Suspended => "Suspendu",
            Standing::Withdrawn => "Retiré",
        }
    }
}

/// A change of standing, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandingEvent {
    pub standing: Standing,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditOutcome {
    Compliant,
    MinorFindings,
    MajorFindings,
}

impl AuditOutcome {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "compliant" => Some(Self::Compliant),
            "minor-findings" => Some(Self::MinorFindings),
            "major-findings" => Some(Self::MajorFindings),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Compliant => "Conforme",
            Self::MinorFindings => "Écarts mineurs",
            Self::MajorFindings => "Écarts majeurs",
        }
    }
}

/// A conformity audit (on site, on documents, or a random a-posteriori check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    pub kind: String,
    pub held_on: NaiveDate,
    pub findings: String,
    pub outcome: AuditOutcome,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A new version declared under upward compatibility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredVersion {
    pub technical_version: String,
    pub commercial_name: String,
    pub declared_by: String,
    pub declared_at: DateTime<Utc>,
}

/// The référencement part of a candidature.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referencing {
    #[serde(default)]
    pub convention: Option<ConventionRecord>,
    #[serde(default)]
    pub signature: Option<SignatureRecord>,
    #[serde(default)]
    pub decisions: Vec<CommitteeDecision>,
    #[serde(default)]
    pub lifting: Option<Lifting>,
    #[serde(default)]
    pub refused: Option<(String, DateTime<Utc>)>,
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub referenced_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub attestation_id: Option<String>,
    #[serde(default)]
    pub standing: Vec<StandingEvent>,
    #[serde(default)]
    pub audits: Vec<Audit>,
    #[serde(default)]
    pub versions: Vec<DeclaredVersion>,
}

/// Where the candidature stands on the way to, and after, its référencement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "kebab-case")]
pub enum Phase {
    /// Proofs are still under instruction.
    Instruction,
    /// The agency is to generate the convention.
    AwaitingConvention,
    /// The legal representative is to sign the convention.
    AwaitingSignature,
    /// Convention signed and every proof valid: on the committee's agenda.
    OnAgenda,
    /// Non-blocking reservations to lift before `due`.
    LiftingReservations {
        due: DateTime<Utc>,
    },
    Referenced {
        standing: Standing,
    },
    Refused,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Instruction => "instruction",
            Phase::AwaitingConvention => "awaiting-convention",
            Phase::AwaitingSignature => "awaiting-signature",
            Phase::OnAgenda => "on-agenda",
            Phase::LiftingReservations { .. } => "lifting-reservations",
            Phase::Referenced { standing } => match standing {
                Standing::Valid => "referenced",
                Standing::Suspended => "suspended",
                Standing::Withdrawn => "withdrawn",
            },
            Phase::Refused => "refused",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Phase::Instruction => "Instruction des preuves",
            Phase::AwaitingConvention => "Convention en préparation",
            Phase::AwaitingSignature => "Convention à signer",
            Phase::OnAgenda => "Inscrit à l'ordre du jour du comité",
            Phase::LiftingReservations { .. } => "Réserves non bloquantes à lever",
            Phase::Referenced { standing } => match standing {
                Standing::Valid => "Référencé",
                Standing::Suspended => "Référencement suspendu",
                Standing::Withdrawn => "Référencement retiré",
            },
            Phase::Refused => "Référencement refusé",
        }
    }
}

/// What a committee decision or a review leads to; the caller applies it (a number for a
/// référencement, the proofs at fault reopened for blocking reservations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Referenced,
    /// Blocking reservations before Date 3: the proofs at fault return to instruction.
    Returned {
        at_fault: Vec<String>,
    },
    Refused,
    Lifting {
        due: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RefError(pub String);

fn refuse<T>(message: impl Into<String>) -> Result<T, RefError> {
    Err(RefError(message.into()))
}

/// A reason, trimmed, required unless `optional`, at most 4,000 characters.
fn reason(text: &str, optional: bool, what: &str) -> Result<String, RefError> {
    let t = text.trim();
    if t.is_empty() && !optional {
        return refuse(format!("{what} doit être motivé : indiquez les raisons."));
    }
    if t.chars().count() > 4000 {
        return refuse("Les raisons dépassent 4 000 caractères.");
    }
    Ok(t.to_string())
}

impl Referencing {
    /// The current phase. `proofs_valid`: every required proof is valid (`all_valid`).
    pub fn phase(&self, moment: ConventionMoment, proofs_valid: bool) -> Phase {
        if let Some(last) = self.standing.last() {
            return Phase::Referenced {
                standing: last.standing,
            };
        }
        if self.refused.is_some() {
            return Phase::Refused;
        }
        if let Some(l) = &self.lifting
            && l.review.is_none()
        {
            return Phase::LiftingReservations { due: l.due };
        }
        if self.convention.is_none() {
            return match moment {
                ConventionMoment::WithCandidature => Phase::AwaitingConvention,
                ConventionMoment::AfterProofs if proofs_valid => Phase::AwaitingConvention,
                ConventionMoment::AfterProofs => Phase::Instruction,
            };
        }
        if self.signature.is_none() {
            return Phase::AwaitingSignature;
        }
        if proofs_valid {
            Phase::OnAgenda
        } else {
            Phase::Instruction
        }
    }

    /// The standing of a référencement, if there is one.
    pub fn current_standing(&self) -> Option<Standing> {
        self.standing.last().map(|e| e.standing)
    }

    /// The "Référencé Ségur" logo may be used only while the convention runs: referenced and
    /// neither suspended nor withdrawn.
    pub fn logo_rights(&self) -> bool {
        self.current_standing() == Some(Standing::Valid)
    }

    /// Records a generated convention; a new one replaces an unsigned one.
    pub fn record_convention(
        &mut self,
        moment: ConventionMoment,
        proofs_valid: bool,
        record: ConventionRecord,
    ) -> Result<(), RefError> {
        match self.phase(moment, proofs_valid) {
            Phase::AwaitingConvention | Phase::AwaitingSignature => {
                self.convention = Some(record);
                Ok(())
            }
            Phase::Instruction if self.convention.is_none() => refuse(
                "La convention se prépare lorsque toutes les preuves exigées sont conformes.",
            ),
            _ => refuse("La convention est déjà signée."),
        }
    }

    /// Records the signature of the current convention. `seen_sha256` is the digest of the
    /// document the signer was shown: a convention regenerated meanwhile is not signed.
    pub fn sign(
        &mut self,
        moment: ConventionMoment,
        proofs_valid: bool,
        seen_sha256: &str,
        record: SignatureRecord,
    ) -> Result<(), RefError> {
        if self.phase(moment, proofs_valid) != Phase::AwaitingSignature {
            return refuse(match (&self.convention, &self.signature) {
                (None, _) => "Aucune convention n'attend de signature.",
                (_, Some(_)) => "La convention est déjà signée.",
                _ => "La convention ne peut plus être signée à ce stade.",
            });
        }
        let Some(c) = &self.convention else {
            return refuse("Aucune convention n'attend de signature.");
        };
        if c.sha256 != seen_sha256 || record.document_sha256 != c.sha256 {
            return refuse(
                "La convention a été modifiée depuis son affichage : relisez la nouvelle version avant de signer.",
            );
        }
        self.signature = Some(record);
        Ok(())
    }

    /// Records the committee's decision. `exchanges_open`: Date 3 has not passed, so the
    /// editor may still redeposit proofs.
    #[allow(clippy::too_many_arguments)]
    pub fn decide(
        &mut self,
        programme: &Programme,
        proofs_valid: bool,
        session_id: &str,
        mode: DecisionMode,
        reasons: &str,
        at_fault: Vec<String>,
        exchanges_open: bool,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Outcome, RefError> {
        let committee = &programme.def.committee;
        if !committee.decision_modes.contains(&mode) {
            return refuse(format!(
                "Le dispositif {} ne prévoit pas la décision « {} ».",
                programme.code.as_str(),
                mode.label()
            ));
        }
        if self.phase(committee.convention_signed, proofs_valid) != Phase::OnAgenda {
            return refuse(
                "Cette candidature n'est pas à l'ordre du jour : la convention doit être signée et toutes les preuves conformes.",
            );
        }
        let mut decision = CommitteeDecision {
            session_id: session_id.to_string(),
            mode,
            reasons: String::new(),
            at_fault: vec![],
            final_refusal: false,
            decided_by: by.to_string(),
            decided_at: now,
        };
        let outcome = match mode {
            DecisionMode::Attribution => {
                decision.reasons = reason(reasons, true, "")?;
                Outcome::Referenced
            }
            DecisionMode::ReservesBloquantes => {
                decision.reasons = reason(reasons, false, "Un refus")?;
                if exchanges_open {
                    let mut at_fault = at_fault;
                    at_fault.sort();
                    at_fault.dedup();
                    if at_fault.is_empty() {
                        return refuse(
                            "Indiquez les preuves en cause : avant la date de fin des échanges, l'éditeur peut les déposer à nouveau.",
                        );
                    }
                    decision.at_fault = at_fault.clone();
                    Outcome::Returned { at_fault }
                } else {
                    decision.final_refusal = true;
                    self.refused = Some((decision.reasons.clone(), now));
                    Outcome::Refused
                }
            }
            DecisionMode::ReservesNonBloquantes => {
                decision.reasons = reason(reasons, false, "Une réserve")?;
                let weeks = committee.lift_reservations_weeks.unwrap_or(4);
                let due = deadline_after_days(now, weeks * 7);
                self.lifting = Some(Lifting {
                    due,
                    deposits: vec![],
                    review: None,
                });
                Outcome::Lifting { due }
            }
        };
        self.decisions.push(decision);
        Ok(outcome)
    }

    /// The editor deposits what lifts the reservations, before their deadline.
    pub fn deposit_lifting(
        &mut self,
        attachment_id: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RefError> {
        let Some(l) = self.lifting.as_mut().filter(|l| l.review.is_none()) else {
            return refuse("Aucune réserve n'est à lever.");
        };
        if now > l.due {
            return refuse(format!(
                "Le délai de levée des réserves a expiré le {}.",
                crate::calendar::to_paris(l.due).format("%d/%m/%Y à %H:%M")
            ));
        }
        l.deposits.push(LiftingDeposit {
            attachment_id: attachment_id.to_string(),
            note: reason(note, true, "")?,
            at: now,
        });
        Ok(())
    }

    /// The simplified review: reservations lifted (référencement attributed) or not (refused).
    pub fn review_lifting(
        &mut self,
        lifted: bool,
        reasons: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Outcome, RefError> {
        let Some(l) = self.lifting.as_mut().filter(|l| l.review.is_none()) else {
            return refuse("Aucune réserve n'est en cours de levée.");
        };
        if lifted && l.deposits.is_empty() {
            return refuse("L'éditeur n'a encore rien déposé pour lever les réserves.");
        }
        let reasons = reason(reasons, lifted, "Un refus")?;
        l.review = Some((lifted, reasons.clone(), by.to_string(), now));
        if lifted {
            Ok(Outcome::Referenced)
        } else {
            self.refused = Some((reasons, now));
            Ok(Outcome::Refused)
        }
    }

    /// At the deadline, reservations with nothing deposited to lift them refuse the
    /// référencement. `None` when nothing happens (lifted, reviewed, deposited, not yet due).
    pub fn lapse_lifting(&mut self, now: DateTime<Utc>) -> Option<Outcome> {
        let l = self.lifting.as_mut().filter(|l| l.review.is_none())?;
        if now <= l.due || !l.deposits.is_empty() {
            return None;
        }
        let reasons =
            "Les réserves non bloquantes n'ont pas été levées dans le délai imparti.".to_string();
        l.review = Some((false, reasons.clone(), "system".into(), now));
        self.refused = Some((reasons, now));
        Some(Outcome::Refused)
    }

    /// Records the référencement under `number`.
    pub fn refer(&mut self, number: String, by: &str, now: DateTime<Utc>) -> Result<(), RefError> {
        if self.number.is_some() {
            return refuse("Cette candidature est déjà référencée.");
        }
        self.number = Some(number);
        self.referenced_at = Some(now);
        self.standing.push(StandingEvent {
            standing: Standing::Valid,
            reason: "Référencement attribué".into(),
            by: by.to_string(),
            at: now,
        });
        Ok(())
    }

    /// Suspends, reinstates or withdraws a référencement, with its reason.
    pub fn change_standing(
        &mut self,
        to: Standing,
        reasons: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RefError> {
        let from = self.current_standing();
        let allowed = matches!(
            (from, to),
            (Some(Standing::Valid), Standing::Suspended)
                | (Some(Standing::Suspended), Standing::Valid)
                | (
                    Some(Standing::Valid | Standing::Suspended),
                    Standing::Withdrawn
                )
        );
        if !allowed {
            return refuse(match from {
                None => "Cette candidature n'est pas référencée.",
                Some(Standing::Withdrawn) => {
                    "Ce référencement a été retiré : la décision est définitive."
                }
                Some(Standing::Valid) => "Ce référencement est déjà valide.",
                Some(Standing::Suspended) => "Ce référencement est déjà suspendu.",
            });
        }
        let reasons = reason(reasons, false, "Ce changement")?;
        self.standing.push(StandingEvent {
            standing: to,
            reason: reasons,
            by: by.to_string(),
            at: now,
        });
        Ok(())
    }

    /// Records a conformity audit of a referenced solution.
    pub fn record_audit(&mut self, audit: Audit) -> Result<(), RefError> {
        if self.current_standing().is_none() {
            return refuse("Seule une solution référencée fait l'objet d'un audit de conformité.");
        }
        let kind = audit.kind.trim();
        if kind.is_empty() || kind.chars().count() > 200 {
            return refuse("Indiquez la nature de l'audit (200 caractères au plus).");
        }
        reason(&audit.findings, false, "Un audit")?;
        self.audits.push(audit);
        Ok(())
    }

    /// Declares a new version of the referenced solution under upward compatibility: the
    /// editor states that version N+1 meets every requirement version N met.
    pub fn declare_version(
        &mut self,
        referenced_version: &str,
        version: DeclaredVersion,
        compatible: bool,
    ) -> Result<(), RefError> {
        if self.current_standing() != Some(Standing::Valid) {
            return refuse("Une nouvelle version se déclare sur un référencement valide.");
        }
        if !compatible {
            return refuse(
                "Cochez l'engagement de compatibilité ascendante : la nouvelle version respecte toutes les exigences de la version référencée.",
            );
        }
        let v = version.technical_version.trim();
        if v.is_empty()
            || v.chars().count() > 100
            || !v
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return refuse(
                "Le numéro de version technique est obligatoire : lettres, chiffres, points, tirets (100 caractères au plus).",
            );
        }
        if version.commercial_name.trim().is_empty()
            || version.commercial_name.chars().count() > 200
        {
            return refuse("Le nom commercial est obligatoire (200 caractères au plus).");
        }
        if v == referenced_version || self.versions.iter().any(|d| d.technical_version == v) {
            return refuse(format!("La version technique « {v} » est déjà connue."));
        }
        self.versions.push(DeclaredVersion {
            technical_version: v.to_string(),
            commercial_name: version.commercial_name.trim().to_string(),
            ..version
        });
        Ok(())
    }
}
