//! Deposit cut-offs of the proof dossier.
//!
//! - DSR-HOP-DPI-Va2 §4.3: « La date de dépôt du dossier complet de preuves de conformité est
//!   la date à laquelle le formulaire de dépôt de preuves doit avoir été soumis […]. Cette date
//!   ne peut être postérieure à la Date 2bis. » The Date 2bis is the date with role
//!   [`DateRole::CompleteDossierDeadline`].
//! - DSR-HOP-DPI-Va2 §4.4: « La date limite de fin des échanges […] est la Date 3, date à
//!   laquelle le formulaire de dépôt de preuve n'est plus ouvert. Au-delà de la Date 3, aucun
//!   nouvel échange entre l'Editeur et l'ANS ne peut intervenir et aucune réponse
//!   complémentaire de l'Editeur ne sera instruite. En particulier, l'Editeur peut déposer un
//!   nouveau rapport de test d'intrusion jusqu'à la Date 3. Les Editeurs ayant validé auprès du
//!   CNDA l'ensemble des preuves nécessaires à l'homologation (compte-rendu de pré-examen
//!   déclenchant une date d'examen) et restant dans l'attente d'une attestation d'homologation
//!   […] peuvent, à titre dérogatoire […], transmettre à l'ANS les éléments justificatifs
//!   au-delà de cette date limite. » The Date 3 is the date with role
//!   [`DateRole::EndOfExchanges`] (BIO-SGL-Va1: the 31/08/2022 14:00 limit for complement
//!   answers, DSR-BIO-SGL-Va1 §4.4).
//!
//! A date and hour is met by anything received at or before that instant (« ne peut être
//! postérieure à »). A permanent programme (without financing) has only recommended dates:
//! nothing is cut off. A date whose instant is not known yet (relative calendar before
//! Date 0) cuts nothing off either, and says so.

use super::Deadline;
use crate::calendar::{french_instant, to_paris};
use crate::programme::{DateRole, Programme, ResolvedDate};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the editor sends during the exchanges with the agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExchangeKind {
    /// A new deposit of proofs (after a question, or after blocking reservations).
    ProofRedeposit,
    /// An answer to a question of the agency.
    Answer,
    /// A new penetration-test report.
    PentestReport,
    /// A CNDA homologation attestation from an editor whose homologation file was
    /// pre-examined (« compte-rendu de pré-examen déclenchant une date d'examen »).
    CndaAttestationAfterPreExamination,
}

impl ExchangeKind {
    pub fn label(self) -> &'static str {
        match self {
            ExchangeKind::ProofRedeposit => "Nouveau dépôt de preuves",
            ExchangeKind::Answer => "Réponse à une sollicitation de l'ANS",
            ExchangeKind::PentestReport => "Nouveau rapport de test d'intrusion",
            ExchangeKind::CndaAttestationAfterPreExamination => {
                "Attestation d'homologation CNDA après pré-examen"
            }
        }
    }
}

/// An admitted deposit: the deadline it is subject to, if any, and the rule in French.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Admission {
    pub deadline: Option<Deadline>,
    pub rule: String,
}

/// A deposit refused because its cut-off has passed. The message names the rule and the date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CutOffError {
    #[error("{message}")]
    CompleteDossierTooLate {
        date_label: String,
        due: DateTime<Utc>,
        received: DateTime<Utc>,
        message: String,
    },
    #[error("{message}")]
    ExchangesClosed {
        kind: ExchangeKind,
        date_label: String,
        due: DateTime<Utc>,
        received: DateTime<Utc>,
        message: String,
    },
}

impl CutOffError {
    /// The cut-off instant that has passed.
    pub fn due(&self) -> DateTime<Utc> {
        match self {
            CutOffError::CompleteDossierTooLate { due, .. }
            | CutOffError::ExchangesClosed { due, .. } => *due,
        }
    }
}

/// "mardi 31 mars 2026 à 12 h 00, heure de Paris".
fn paris_hour(instant: DateTime<Utc>) -> String {
    format!("{}, heure de Paris", french_instant(instant))
}

/// "31/03/2026 à 12:00:01": the receipt instant to the second, as the rule is.
fn paris_second(instant: DateTime<Utc>) -> String {
    to_paris(instant).format("%d/%m/%Y à %H:%M:%S").to_string()
}

enum Cut<'a> {
    /// The programme is permanent: its dates are recommendations.
    Permanent,
    /// The programme has no date with this role.
    Absent,
    /// The date exists but its instant is not known yet.
    Unknown(&'a ResolvedDate),
    At(&'a ResolvedDate, DateTime<Utc>),
}

fn cut(programme: &Programme, role: DateRole) -> Cut<'_> {
    if programme.is_permanent() {
        return Cut::Permanent;
    }
    match programme.date_with_role(role).filter(|d| d.binding) {
        None => Cut::Absent,
        Some(d) => match d.instant {
            Some(instant) => Cut::At(d, instant),
            None => Cut::Unknown(d),
        },
    }
}

fn not_yet_fixed(date: &ResolvedDate) -> String {
    match &date.relative_text {
        Some(rel) => format!("« {rel} »"),
        None => "date non encore fixée".to_string(),
    }
}

/// Whether the deposit form may be submitted as the complete proof dossier at `now`: not
/// after the programme's Date 2bis ([`DateRole::CompleteDossierDeadline`]), met at or before
/// its instant.
pub fn check_complete_dossier(
    programme: &Programme,
    now: DateTime<Utc>,
) -> Result<Admission, CutOffError> {
    match cut(programme, DateRole::CompleteDossierDeadline) {
        Cut::Permanent => Ok(Admission {
            deadline: None,
            rule: "Dispositif permanent (sans financement) : aucune date limite ne s'impose au dépôt du dossier complet de preuves de conformité.".to_string(),
        }),
        Cut::Absent => Ok(Admission {
            deadline: None,
            rule: "Ce dispositif ne fixe pas de date limite au dépôt du dossier complet de preuves de conformité.".to_string(),
        }),
        Cut::Unknown(date) => Ok(Admission {
            deadline: None,
            rule: format!(
                "La date de dépôt du dossier complet de preuves de conformité ne pourra être postérieure à la {} ({}) ; cette date n'est pas encore connue.",
                date.label,
                not_yet_fixed(date)
            ),
        }),
        Cut::At(date, due) => {
            let rule = format!(
                "La date de dépôt du dossier complet de preuves de conformité ne peut être postérieure à la {} ({}) — {} (DSR §4.3). Un dépôt reçu à cet instant est dans les délais.",
                date.label,
                paris_hour(due),
                date.description
            );
            if now <= due {
                Ok(Admission {
                    deadline: Some(Deadline { due, rule }),
                    rule: format!(
                        "Dossier complet de preuves à soumettre au plus tard le {}.",
                        paris_hour(due)
                    ),
                })
            } else {
                Err(CutOffError::CompleteDossierTooLate {
                    date_label: date.label.clone(),
                    due,
                    received: now,
                    message: format!(
                        "Dépôt du dossier complet refusé : la date de dépôt du dossier complet de preuves de conformité ne peut être postérieure à la {} ({}) ; le formulaire a été reçu le {} (DSR §4.3).",
                        date.label,
                        paris_hour(due),
                        paris_second(now)
                    ),
                })
            }
        }
    }
}

fn cnda_rule(date: Option<(&ResolvedDate, DateTime<Utc>)>) -> String {
    let after = match date {
        Some((d, due)) => format!("après la {} ({})", d.label, paris_hour(due)),
        None => "après la fin des échanges".to_string(),
    };
    format!(
        "Par dérogation, l'éditeur ayant validé auprès du CNDA l'ensemble des preuves nécessaires à l'homologation (compte rendu de pré-examen déclenchant une date d'examen) et restant dans l'attente de l'attestation d'homologation peut la transmettre à l'ANS {after} (DSR §4.4)."
    )
}

/// Whether the editor may send `kind` at `now`: after Date 3 ([`DateRole::EndOfExchanges`])
/// the deposit form is closed and no exchange is instructed, except a CNDA attestation after
/// a pre-examination; a new penetration-test report may be deposited until Date 3 inclusive
/// of its instant.
pub fn check_exchange(
    programme: &Programme,
    now: DateTime<Utc>,
    kind: ExchangeKind,
) -> Result<Admission, CutOffError> {
    let cut = cut(programme, DateRole::EndOfExchanges);
    if kind == ExchangeKind::CndaAttestationAfterPreExamination {
        let date = match cut {
            Cut::At(d, due) => Some((d, due)),
            _ => None,
        };
        return Ok(Admission {
            deadline: None,
            rule: cnda_rule(date),
        });
    }
    let (date, due) = match cut {
        Cut::Permanent => {
            return Ok(Admission {
                deadline: None,
                rule: "Dispositif permanent (sans financement) : aucune date de fin des échanges ne s'impose.".to_string(),
            });
        }
        Cut::Absent => {
            return Ok(Admission {
                deadline: None,
                rule: "Ce dispositif ne fixe pas de date de fin des échanges entre l'éditeur et l'ANS.".to_string(),
            });
        }
        Cut::Unknown(date) => {
            return Ok(Admission {
                deadline: None,
                rule: format!(
                    "Les échanges avec l'ANS prendront fin à la {} ({}) ; cette date n'est pas encore connue.",
                    date.label,
                    not_yet_fixed(date)
                ),
            });
        }
        Cut::At(date, due) => (date, due),
    };
    let when = paris_hour(due);
    let label = &date.label;
    let rule = match kind {
        ExchangeKind::PentestReport => format!(
            "Un nouveau rapport de test d'intrusion peut être déposé jusqu'à la {label} ({when}) (DSR §4.4)."
        ),
        ExchangeKind::Answer => format!(
            "Les réponses de l'éditeur sont instruites si elles parviennent au plus tard à la {label} ({when}) ; au-delà, aucune réponse complémentaire de l'éditeur n'est instruite (DSR §4.4)."
        ),
        _ => format!(
            "Le formulaire de dépôt de preuves est ouvert jusqu'à la {label} ({when}), fin des échanges entre l'éditeur et l'ANS ; au-delà, aucun nouvel échange ne peut intervenir (DSR §4.4)."
        ),
    };
    if now <= due {
        return Ok(Admission {
            deadline: Some(Deadline {
                due,
                rule: rule.clone(),
            }),
            rule,
        });
    }
    let received = paris_second(now); // to the second, as the cut-off is
    let message = match kind {
        ExchangeKind::PentestReport => format!(
            "Rapport de test d'intrusion refusé : un nouveau rapport pouvait être déposé jusqu'à la {label} ({when}) ; il a été reçu le {received} (DSR §4.4)."
        ),
        ExchangeKind::Answer => format!(
            "Réponse non instruite : depuis la {label} ({when}), fin des échanges entre l'éditeur et l'ANS, aucune réponse complémentaire de l'éditeur n'est instruite ; elle a été reçue le {received} (DSR §4.4)."
        ),
        _ => format!(
            "Dépôt refusé : le formulaire de dépôt de preuves est fermé depuis la {label} ({when}), fin des échanges entre l'éditeur et l'ANS ; au-delà, aucun nouvel échange ne peut intervenir. Dépôt reçu le {received} (DSR §4.4)."
        ),
    };
    Err(CutOffError::ExchangesClosed {
        kind,
        date_label: label.clone(),
        due,
        received: now,
        message,
    })
}
