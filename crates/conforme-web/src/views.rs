//! The views of the catalogue that both the pages and the API show: built once here from the
//! domain and the store, serialised as JSON by the API and rendered by the templates.

use crate::AppState;
use crate::error::AppError;
use crate::format::{iso, paris_long};
use crate::query::RequirementQuery;
use chrono::{DateTime, Utc};
use conforme_domain::calendar::describe_duration_fr;
use conforme_domain::programme::{ConventionMoment, Programme, ResolvedDate};
use conforme_domain::rem::{Requirement, RequirementKind};
use conforme_store::{Facets, RemVersionInfo, RequirementSummary};
use serde::Serialize;
use utoipa::ToSchema;

/// A calendar date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarDateView {
    pub key: String,
    pub label: String,
    pub description: String,
    /// The instant, UTC; absent while a relative calendar's anchor is unknown.
    pub at: Option<DateTime<Utc>>,
    /// The same instant written in Paris time, in French.
    pub at_paris: Option<String>,
    /// For relative calendars: "Date 0 + 6 mois".
    pub relative: Option<String>,
    /// False for the recommended dates of a permanent programme.
    pub binding: bool,
    pub passed: bool,
}

/// Where a programme stands now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PhaseView {
    /// The platform's clock reading the phase was computed at.
    pub now: DateTime<Utc>,
    pub current: String,
    pub permanent: bool,
    pub since: Option<CalendarDateView>,
    pub next: Option<CalendarDateView>,
    /// Seconds until the next date.
    pub remaining_seconds: Option<i64>,
    /// The same, in French ("12 jours 3 heures").
    pub remaining: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgrammeSummaryView {
    pub code: String,
    pub title: String,
    pub corridor: String,
    pub wave: u32,
    pub financing: bool,
    pub summary: String,
    pub phase: PhaseView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileView {
    pub name: String,
    pub mandatory: bool,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LabelledCode {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExtraPieceView {
    pub code: String,
    pub label: String,
    pub description: String,
    pub mandatory: bool,
    pub assessed: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RemVersionView {
    pub label: String,
    pub imported_at: DateTime<Utc>,
    pub imported_at_paris: String,
    pub source_name: String,
    pub source_sha256: String,
    pub requirement_count: i64,
    pub proof_line_count: i64,
    /// Quirks found at import, each with its row.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgrammeView {
    #[serde(flatten)]
    pub summary: ProgrammeSummaryView,
    pub source: String,
    pub calendar_note: Option<String>,
    pub calendar: Vec<CalendarDateView>,
    pub profiles: Vec<ProfileView>,
    /// Groups of profiles of which at least one must be chosen.
    pub at_least_one_of: Vec<Vec<String>>,
    /// The profile-change policy, in French.
    pub profile_change: Vec<String>,
    pub decision_modes: Vec<LabelledCode>,
    pub lift_reservations_weeks: Option<u32>,
    /// When the convention is signed, in French.
    pub convention: String,
    pub extra_pieces: Vec<ExtraPieceView>,
    pub rem_versions: Vec<RemVersionView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequirementSummaryView {
    pub id: String,
    pub perimetre: String,
    pub chapitre: String,
    pub fonction: String,
    pub exigence: String,
    pub profil: String,
    /// `exigence` (checked) or `preconisation` (never checked).
    pub nature: String,
    pub scenario_count: i64,
    pub proof_count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProofView {
    pub number: Option<String>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScenarioView {
    pub number: Option<String>,
    pub text: Option<String>,
    pub proofs: Vec<ProofView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequirementView {
    pub id: String,
    pub perimetre: String,
    pub chapitre: String,
    pub fonction: String,
    pub exigence: String,
    pub commentaire: Option<String>,
    pub profil: String,
    pub profil_historique: Option<String>,
    pub criticite: Option<String>,
    pub nature: String,
    pub scenarios: Vec<ScenarioView>,
}

fn date_view(d: &ResolvedDate, now: DateTime<Utc>) -> CalendarDateView {
    CalendarDateView {
        key: d.key.clone(),
        label: d.label.clone(),
        description: d.description.clone(),
        at: d.instant,
        at_paris: d.instant.map(paris_long),
        relative: d.relative_text.clone(),
        binding: d.binding,
        passed: d.instant.is_some_and(|i| i <= now),
    }
}

pub fn phase_view(p: &Programme, now: DateTime<Utc>) -> PhaseView {
    let status = p.phase_at(now);
    let remaining = status
        .next
        .as_ref()
        .and_then(|d| d.instant)
        .map(|i| i - now);
    PhaseView {
        now,
        current: status.current,
        permanent: status.permanent,
        since: status.since.as_ref().map(|d| date_view(d, now)),
        next: status.next.as_ref().map(|d| date_view(d, now)),
        remaining_seconds: remaining.map(|r| r.num_seconds()),
        remaining: remaining.map(describe_duration_fr),
    }
}

pub fn programme_summary(p: &Programme, now: DateTime<Utc>) -> ProgrammeSummaryView {
    ProgrammeSummaryView {
        code: p.code.to_string(),
        title: p.def.title.clone(),
        corridor: p.def.corridor.label().to_string(),
        wave: p.def.wave,
        financing: p.def.financing,
        summary: p.def.summary.clone(),
        phase: phase_view(p, now),
    }
}

pub fn rem_version_view(v: &RemVersionInfo) -> RemVersionView {
    RemVersionView {
        label: v.label.clone(),
        imported_at: v.imported_at,
        imported_at_paris: paris_long(v.imported_at),
        source_name: v.source_name.clone(),
        source_sha256: v.source_sha256.clone(),
        requirement_count: v.requirement_count,
        proof_line_count: v.proof_line_count,
        warnings: v.warnings.clone(),
    }
}

fn profile_change_text(p: &Programme) -> Vec<String> {
    let policy = &p.def.profile_change;
    if policy.final_choice {
        return vec!["Le choix des profils est définitif : tout changement nécessite une nouvelle candidature.".into()];
    }
    let mut out = Vec::new();
    match policy.add_until.as_deref().and_then(|k| p.date(k)) {
        Some(d) => out.push(format!(
            "Des profils optionnels peuvent être ajoutés jusqu'à la {} ({}).",
            d.label,
            d.instant
                .map_or_else(|| d.relative_text.clone().unwrap_or_default(), paris_long)
        )),
        None => out.push("Des profils optionnels peuvent être ajoutés à tout moment.".into()),
    }
    if policy.remove_anytime {
        out.push("Des profils optionnels peuvent être retirés tout au long du processus.".into());
    }
    out
}

pub fn programme_view(
    p: &Programme,
    versions: &[RemVersionInfo],
    now: DateTime<Utc>,
) -> ProgrammeView {
    let def = &p.def;
    ProgrammeView {
        summary: programme_summary(p, now),
        source: def.source.clone(),
        calendar_note: def.calendar.note.clone(),
        calendar: p.dates.iter().map(|d| date_view(d, now)).collect(),
        profiles: def
            .profiles
            .iter()
            .map(|pr| ProfileView {
                name: pr.name.clone(),
                mandatory: pr.mandatory,
                description: pr.description.clone(),
            })
            .collect(),
        at_least_one_of: def
            .profile_constraints
            .iter()
            .map(|c| c.at_least_one_of.clone())
            .collect(),
        profile_change: profile_change_text(p),
        decision_modes: def
            .committee
            .decision_modes
            .iter()
            .map(|m| LabelledCode {
                code: serde_json::to_value(m)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                label: m.label().to_string(),
            })
            .collect(),
        lift_reservations_weeks: def.committee.lift_reservations_weeks,
        convention: match def.committee.convention_signed {
            ConventionMoment::AfterProofs => {
                "La convention est signée une fois toutes les preuves validées, avant le comité."
                    .into()
            }
            ConventionMoment::WithCandidature => {
                "La convention est signée avec la candidature.".into()
            }
        },
        extra_pieces: def
            .extra_pieces
            .iter()
            .map(|e| ExtraPieceView {
                code: e.code.clone(),
                label: e.label.clone(),
                description: e.description.clone(),
                mandatory: e.mandatory,
                assessed: e.assessed,
            })
            .collect(),
        rem_versions: versions.iter().map(rem_version_view).collect(),
    }
}

pub fn requirement_summary_view(r: &RequirementSummary) -> RequirementSummaryView {
    RequirementSummaryView {
        id: r.id.clone(),
        perimetre: r.perimetre.clone(),
        chapitre: r.chapitre.clone(),
        fonction: r.fonction.clone(),
        exigence: r.exigence.clone(),
        profil: r.profil.clone(),
        nature: r.kind.as_str().to_string(),
        scenario_count: r.scenario_count,
        proof_count: r.proof_count,
    }
}

pub fn requirement_view(r: &Requirement) -> RequirementView {
    RequirementView {
        id: r.id.to_string(),
        perimetre: r.perimetre.clone(),
        chapitre: r.chapitre.clone(),
        fonction: r.fonction.clone(),
        exigence: r.exigence.clone(),
        commentaire: r.commentaire.clone(),
        profil: r.profil.clone(),
        profil_historique: r.profil_historique.clone(),
        criticite: r.criticite.clone(),
        nature: r.kind().as_str().to_string(),
        scenarios: r
            .scenarios()
            .into_iter()
            .map(|s| ScenarioView {
                number: s.number,
                text: s.text,
                proofs: s
                    .proofs
                    .into_iter()
                    .map(|p| ProofView {
                        number: p.number,
                        text: p.text,
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub fn nature_label(nature: &str) -> &'static str {
    RequirementKind::parse(nature).map_or("", RequirementKind::label)
}

/// The ISO form used in `data-` attributes.
pub fn iso_now(now: DateTime<Utc>) -> String {
    iso(now)
}

/// Resolves a programme and one of its REM versions, or says which is missing.
pub async fn find_version(
    state: &AppState,
    code: &str,
    label: &str,
) -> Result<(Programme, RemVersionInfo), AppError> {
    let programme = state
        .programme(code)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("Aucun dispositif « {code} ».")))?;
    let version = state.store.rem_version(code, label).await?.ok_or_else(|| {
        AppError::NotFound(format!(
            "Le dispositif {code} n'a pas de version « {label} » du REM."
        ))
    })?;
    Ok((programme, version))
}

/// A page of requirements and the filter values, for the browser and the API.
pub struct RequirementListing {
    pub items: Vec<RequirementSummaryView>,
    pub total: i64,
    pub facets: Facets,
}

pub async fn list_requirements(
    state: &AppState,
    version: &RemVersionInfo,
    query: &RequirementQuery,
) -> Result<RequirementListing, AppError> {
    let page = state
        .store
        .list_requirements(&version.id, &query.filter, query.offset(), query.per_page)
        .await?;
    let facets = state.store.facets(&version.id).await?;
    Ok(RequirementListing {
        items: page.items.iter().map(requirement_summary_view).collect(),
        total: page.total,
        facets,
    })
}
