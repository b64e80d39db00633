//! Programmes (dispositifs) as data: their calendar, financing, profiles and the rules on them,
//! committee decision modes and the extra pieces they require. A definition is parsed from
//! TOML and validated as a whole; a programme's current phase is computed from its calendar
//! and an instant.

use crate::calendar::{add_months, paris_instant};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// A programme code such as `HOP-DPI-Va2` or `MS2-DUI-PDE-Va1-SF`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProgrammeCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "le code de dispositif « {0} » n'est pas admis : 3 à 40 caractères, lettres et chiffres en segments séparés par « - »"
)]
pub struct ProgrammeCodeError(pub String);

impl ProgrammeCode {
    pub fn parse(raw: &str) -> Result<Self, ProgrammeCodeError> {
        let ok = (3..=40).contains(&raw.len())
            && raw
                .split('-')
                .all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric()));
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(ProgrammeCodeError(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProgrammeCode {
    type Error = ProgrammeCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ProgrammeCode> for String {
    fn from(value: ProgrammeCode) -> Self {
        value.0
    }
}

impl fmt::Display for ProgrammeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The care sector a programme belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Corridor {
    Hopital,
    Biologie,
    MedicoSocial,
    Ville,
    Radiologie,
}

impl Corridor {
    pub fn label(self) -> &'static str {
        match self {
            Corridor::Hopital => "Hôpital",
            Corridor::Biologie => "Biologie médicale",
            Corridor::MedicoSocial => "Médico-social",
            Corridor::Ville => "Médecine de ville",
            Corridor::Radiologie => "Radiologie",
        }
    }
}

/// How a calendar states its dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CalendarMode {
    /// Fixed dates and hours, Europe/Paris.
    Absolute,
    /// Dates stated as "Date 0 + N mois"; resolved once the anchor date is known.
    Relative,
    /// Without financing: open permanently, dates are only recommended.
    Permanent,
}

/// What a named date is for in the rules of later steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateRole {
    Launch,
    WindowOpens,
    AdministrativeDossierDeadline,
    FirstCompleteDossierDeadline,
    CompleteDossierDeadline,
    EndOfExchanges,
    FinancingRequestDeadline,
    EndOfDeployments,
    BalanceRequestDeadline,
}

/// A calendar date as written in a definition file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDateDef {
    pub key: String,
    pub label: String,
    pub description: String,
    /// Europe/Paris wall-clock time, `YYYY-MM-DDTHH:MM`; absent for a relative date or an
    /// anchor not yet known.
    #[serde(default)]
    pub at: Option<String>,
    /// For relative calendars: the key of the anchor date and the offset in months.
    #[serde(default)]
    pub relative_to: Option<String>,
    #[serde(default)]
    pub months: Option<u32>,
    /// Time of day of a relative date (`HH:MM`), default the anchor's.
    #[serde(default)]
    pub time: Option<String>,
    /// The name of the period that starts at this date.
    pub phase_after: String,
    #[serde(default)]
    pub role: Option<DateRole>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDef {
    pub mode: CalendarMode,
    /// The name of the period before the first date.
    pub phase_before: String,
    #[serde(default)]
    pub note: Option<String>,
    pub dates: Vec<CalendarDateDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDef {
    pub name: String,
    #[serde(default)]
    pub mandatory: bool,
    #[serde(default)]
    pub description: Option<String>,
}

/// "At least one of these profiles" groups and similar constraints on a profile choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileConstraint {
    pub at_least_one_of: Vec<String>,
}

/// When profiles may be added to or removed from a candidature. Without `add_until` and
/// without `final_choice`, profiles may be added at any time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileChangePolicy {
    /// Key of the date until which profiles may be added (inclusive of its instant).
    #[serde(default)]
    pub add_until: Option<String>,
    /// Whether profiles may be removed at any time.
    #[serde(default)]
    pub remove_anytime: bool,
    /// The choice made at candidature is final: a change needs a new candidature.
    #[serde(default)]
    pub final_choice: bool,
}

/// Committee decision modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionMode {
    Attribution,
    ReservesBloquantes,
    ReservesNonBloquantes,
}

impl DecisionMode {
    pub fn label(self) -> &'static str {
        match self {
            DecisionMode::Attribution => "Attribution du référencement",
            DecisionMode::ReservesBloquantes => "Réserves bloquantes (non-attribution)",
            DecisionMode::ReservesNonBloquantes => {
                "Réserves non bloquantes (levée par procédure simplifiée)"
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitteeDef {
    pub decision_modes: Vec<DecisionMode>,
    /// Delay to lift non-blocking reservations, in weeks.
    #[serde(default)]
    pub lift_reservations_weeks: Option<u32>,
    /// When the convention is signed: after all proofs are valid, or with the candidature.
    pub convention_signed: ConventionMoment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConventionMoment {
    AfterProofs,
    WithCandidature,
}

/// An extra piece a programme requires beside the REM proofs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraPieceDef {
    pub code: String,
    pub label: String,
    pub description: String,
    #[serde(default = "yes")]
    pub mandatory: bool,
    /// Whether the agency assesses it (the SSI maturity questionnaire is required, not assessed).
    #[serde(default = "yes")]
    pub assessed: bool,
}

fn yes() -> bool {
    true
}

/// A programme definition file, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeDef {
    pub code: String,
    pub title: String,
    pub corridor: Corridor,
    pub wave: u32,
    pub financing: bool,
    pub summary: String,
    /// The regulatory text this definition follows.
    pub source: String,
    #[serde(default)]
    pub charter: Option<String>,
    pub calendar: CalendarDef,
    pub profiles: Vec<ProfileDef>,
    #[serde(default)]
    pub profile_constraints: Vec<ProfileConstraint>,
    pub profile_change: ProfileChangePolicy,
    pub committee: CommitteeDef,
    #[serde(default)]
    pub extra_pieces: Vec<ExtraPieceDef>,
    /// The special test session of the instruction (INS test day, 4-week test session).
    #[serde(default)]
    pub test_session: Option<TestSessionDef>,
    /// The convention's template; the platform's generic one when absent.
    #[serde(default)]
    pub convention: Option<ConventionTemplate>,
}

/// The template of a programme's convention: its title and its articles. Bodies may name
/// `{editeur}`, `{siret}`, `{solution}`, `{version}`, `{programme}`, `{intitule}`,
/// `{profils}` and `{source}`, replaced when the convention is generated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConventionTemplate {
    pub title: String,
    pub clauses: Vec<ClauseTemplate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClauseTemplate {
    pub title: String,
    pub body: String,
}

/// From when a programme's test session is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestSessionStart {
    /// Once every proof of `chapter` is in (DSR-HOP-DPI-Va2 §4.4: INS test day).
    ChapterDeposited,
    /// From the start of the instruction (DSR-BIO-SGL-Va1 §4.4, DUI-PDE charter).
    InstructionStart,
}

/// A test session held during the instruction, with the agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSessionDef {
    pub label: String,
    pub description: String,
    pub from: TestSessionStart,
    /// The REM chapter whose deposit opens the session (with `from = "chapter-deposited"`).
    #[serde(default)]
    pub chapter: Option<String>,
    /// Days within which the session is to be held.
    pub within_days: u32,
    /// Only for solutions not referenced in wave 1.
    #[serde(default)]
    pub only_if_not_wave1: bool,
}

/// A validated programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Programme {
    pub code: ProgrammeCode,
    pub def: ProgrammeDef,
    /// Dates with their instants resolved where known.
    pub dates: Vec<ResolvedDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedDate {
    pub key: String,
    pub label: String,
    pub description: String,
    pub instant: Option<DateTime<Utc>>,
    /// "Date 0 + 6 mois" for relative dates.
    pub relative_text: Option<String>,
    pub phase_after: String,
    pub role: Option<DateRole>,
    /// Whether the date binds (false for a permanent programme's recommended dates).
    pub binding: bool,
}

/// Where a programme stands at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseStatus {
    pub current: String,
    /// The last date passed, if any.
    pub since: Option<ResolvedDate>,
    /// The next date to come, if any.
    pub next: Option<ResolvedDate>,
    pub permanent: bool,
}

/// Why a definition was refused. `path` names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgrammeError {
    #[error("{source_name} : TOML illisible : {message}")]
    Syntax {
        source_name: String,
        message: String,
    },
    #[error("{source_name} : {path} : {message}")]
    Invalid {
        source_name: String,
        path: String,
        message: String,
    },
}

impl Programme {
    /// Parses and validates a definition. `source_name` (a file name) prefixes every error.
    pub fn from_toml(source_name: &str, text: &str) -> Result<Self, ProgrammeError> {
        let def: ProgrammeDef = toml::from_str(text).map_err(|e| ProgrammeError::Syntax {
            source_name: source_name.to_string(),
            message: e.to_string(),
        })?;
        Self::validate(source_name, def)
    }

    /// Validates a definition as a whole and resolves its calendar.
    pub fn validate(source_name: &str, def: ProgrammeDef) -> Result<Self, ProgrammeError> {
        let invalid = |path: &str, message: String| ProgrammeError::Invalid {
            source_name: source_name.to_string(),
            path: path.to_string(),
            message,
        };
        let code = ProgrammeCode::parse(&def.code).map_err(|e| invalid("code", e.to_string()))?;
        if def.title.trim().is_empty() {
            return Err(invalid("title", "le titre est vide".into()));
        }

        // Profiles: unique names, exactly one mandatory "Général".
        let mut names = BTreeSet::new();
        for (i, p) in def.profiles.iter().enumerate() {
            if p.name.trim().is_empty() {
                return Err(invalid(
                    &format!("profiles[{i}].name"),
                    "nom de profil vide".into(),
                ));
            }
            if !names.insert(p.name.as_str()) {
                return Err(invalid(
                    &format!("profiles[{i}].name"),
                    format!("le profil « {} » est déclaré deux fois", p.name),
                ));
            }
        }
        match def.profiles.iter().find(|p| p.name == GENERAL_PROFILE) {
            Some(p) if p.mandatory => {}
            Some(_) => {
                return Err(invalid(
                    "profiles",
                    "le profil « Général » doit être obligatoire".into(),
                ));
            }
            None => {
                return Err(invalid(
                    "profiles",
                    "le profil « Général » est absent".into(),
                ));
            }
        }
        for (i, c) in def.profile_constraints.iter().enumerate() {
            if c.at_least_one_of.len() < 2 {
                return Err(invalid(
                    &format!("profile_constraints[{i}].at_least_one_of"),
                    "un groupe « au moins un parmi » doit citer au moins deux profils".into(),
                ));
            }
            for name in &c.at_least_one_of {
                if !names.contains(name.as_str()) {
                    return Err(invalid(
                        &format!("profile_constraints[{i}].at_least_one_of"),
                        format!("profil inconnu « {name} »"),
                    ));
                }
            }
        }

        // Calendar: unique keys, references resolve, instants in order.
        let dates = resolve_calendar(&def.calendar).map_err(|(path, msg)| invalid(&path, msg))?;
        let keys: BTreeSet<&str> = def.calendar.dates.iter().map(|d| d.key.as_str()).collect();
        if let Some(until) = &def.profile_change.add_until
            && !keys.contains(until.as_str())
        {
            return Err(invalid(
                "profile_change.add_until",
                format!("date inconnue « {until} »"),
            ));
        }
        if def.profile_change.final_choice
            && (def.profile_change.add_until.is_some() || def.profile_change.remove_anytime)
        {
            return Err(invalid(
                "profile_change",
                "un choix de profils définitif ne peut pas permettre d'en ajouter ou d'en retirer"
                    .into(),
            ));
        }
        if def.financing == (def.calendar.mode == CalendarMode::Permanent) {
            return Err(invalid(
                "calendar.mode",
                if def.financing {
                    "un dispositif avec financement a un calendrier fixe ou relatif, pas permanent"
                        .into()
                } else {
                    "un dispositif sans financement est ouvert en permanence (mode « permanent »)"
                        .into()
                },
            ));
        }

        // Committee.
        let modes = &def.committee.decision_modes;
        if !modes.contains(&DecisionMode::Attribution) {
            return Err(invalid(
                "committee.decision_modes",
                "le mode « attribution » est absent".into(),
            ));
        }
        if modes.iter().collect::<BTreeSet<_>>().len() != modes.len() {
            return Err(invalid(
                "committee.decision_modes",
                "un mode est cité deux fois".into(),
            ));
        }
        let non_blocking = modes.contains(&DecisionMode::ReservesNonBloquantes);
        if non_blocking != def.committee.lift_reservations_weeks.is_some() {
            return Err(invalid(
                "committee.lift_reservations_weeks",
                "le délai de levée des réserves est requis avec les réserves non bloquantes, et seulement avec elles".into(),
            ));
        }

        if let Some(t) = &def.convention {
            if t.title.trim().is_empty() || t.clauses.is_empty() {
                return Err(invalid(
                    "convention",
                    "le modèle de convention doit avoir un titre et au moins un article".into(),
                ));
            }
            for (i, c) in t.clauses.iter().enumerate() {
                if let Err(unknown) = crate::referencing::check_placeholders(&c.body) {
                    return Err(invalid(
                        &format!("convention.clauses[{i}].body"),
                        format!("variable inconnue « {{{unknown}}} »"),
                    ));
                }
            }
        }

        let mut piece_codes = BTreeSet::new();
        for (i, p) in def.extra_pieces.iter().enumerate() {
            if !piece_codes.insert(p.code.as_str()) {
                return Err(invalid(
                    &format!("extra_pieces[{i}].code"),
                    format!("pièce « {} » déclarée deux fois", p.code),
                ));
            }
        }

        if let Some(t) = &def.test_session {
            if t.within_days == 0 {
                return Err(invalid(
                    "test_session.within_days",
                    "le délai de la session de test doit être d'au moins un jour".into(),
                ));
            }
            let needs_chapter = t.from == TestSessionStart::ChapterDeposited;
            if needs_chapter != t.chapter.as_deref().is_some_and(|c| !c.trim().is_empty()) {
                return Err(invalid(
                    "test_session.chapter",
                    "le chapitre est requis avec from = \"chapter-deposited\", et seulement avec lui".into(),
                ));
            }
        }

        Ok(Programme { code, def, dates })
    }

    pub fn date(&self, key: &str) -> Option<&ResolvedDate> {
        self.dates.iter().find(|d| d.key == key)
    }

    pub fn date_with_role(&self, role: DateRole) -> Option<&ResolvedDate> {
        self.dates.iter().find(|d| d.role == Some(role))
    }

    pub fn is_permanent(&self) -> bool {
        self.def.calendar.mode == CalendarMode::Permanent
    }

    /// The phase at `now`: the period after the last date passed, and the next date.
    /// Dates whose instant is unknown are skipped.
    pub fn phase_at(&self, now: DateTime<Utc>) -> PhaseStatus {
        let dated = self.dates.iter().filter_map(|d| d.instant.map(|i| (i, d)));
        let mut since = None;
        let mut next = None;
        for (instant, date) in dated {
            if instant <= now {
                since = Some(date.clone());
            } else if next.is_none() {
                next = Some(date.clone());
            }
        }
        let current = match (&since, self.is_permanent()) {
            (_, true) => since.as_ref().map_or_else(
                || self.def.calendar.phase_before.clone(),
                |d| d.phase_after.clone(),
            ),
            (Some(d), false) => d.phase_after.clone(),
            (None, false) => self.def.calendar.phase_before.clone(),
        };
        PhaseStatus {
            current,
            since,
            next,
            permanent: self.is_permanent(),
        }
    }

    /// Checks a profile choice against the programme: known profiles, mandatory ones present,
    /// "at least one of" groups satisfied. Returns every problem, in French.
    pub fn check_profiles(&self, chosen: &[String]) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        for name in chosen {
            if !self.def.profiles.iter().any(|p| &p.name == name) {
                problems.push(format!(
                    "le profil « {name} » n'existe pas dans ce dispositif"
                ));
            }
        }
        for p in self.def.profiles.iter().filter(|p| p.mandatory) {
            if !chosen.contains(&p.name) {
                problems.push(format!("le profil « {} » est obligatoire", p.name));
            }
        }
        for c in &self.def.profile_constraints {
            if !c.at_least_one_of.iter().any(|n| chosen.contains(n)) {
                problems.push(format!(
                    "choisir au moins un profil parmi : {}",
                    c.at_least_one_of.join(", ")
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// The mandatory profile every programme has.
pub const GENERAL_PROFILE: &str = "Général";

fn parse_paris(at: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M")
        .ok()
        .map(|dt| paris_instant(dt.date(), dt.time()))
}

fn resolve_calendar(cal: &CalendarDef) -> Result<Vec<ResolvedDate>, (String, String)> {
    if cal.dates.is_empty() {
        return Err((
            "calendar.dates".into(),
            "le calendrier ne contient aucune date".into(),
        ));
    }
    let mut by_key: HashMap<&str, (Option<DateTime<Utc>>, usize)> = HashMap::new();
    let mut out = Vec::with_capacity(cal.dates.len());
    let binding = cal.mode != CalendarMode::Permanent;
    for (i, d) in cal.dates.iter().enumerate() {
        let path = |field: &str| format!("calendar.dates[{i}].{field}");
        if d.key.trim().is_empty() {
            return Err((path("key"), "clé vide".into()));
        }
        if by_key.contains_key(d.key.as_str()) {
            return Err((
                path("key"),
                format!("la date « {} » est déclarée deux fois", d.key),
            ));
        }
        let (instant, relative_text) = match (&d.at, &d.relative_to, d.months) {
            (Some(at), None, None) => {
                let instant = parse_paris(at).ok_or_else(|| {
                    (
                        path("at"),
                        format!("« {at} » n'est pas une date et heure AAAA-MM-JJTHH:MM"),
                    )
                })?;
                (Some(instant), None)
            }
            (None, Some(anchor), Some(months)) => {
                if cal.mode != CalendarMode::Relative {
                    return Err((
                        path("relative_to"),
                        "date relative dans un calendrier qui n'est pas relatif".into(),
                    ));
                }
                let (anchor_instant, _) =
                    by_key.get(anchor.as_str()).copied().ok_or_else(|| {
                        (
                            path("relative_to"),
                            format!("la date d'ancrage « {anchor} » doit être déclarée avant"),
                        )
                    })?;
                let anchor_label = cal
                    .dates
                    .iter()
                    .find(|x| &x.key == anchor)
                    .map_or(anchor.as_str(), |x| x.label.as_str());
                let time = match &d.time {
                    Some(t) => Some(NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| {
                        (path("time"), format!("« {t} » n'est pas une heure HH:MM"))
                    })?),
                    None => None,
                };
                let instant = anchor_instant.map(|a| {
                    let local = crate::calendar::to_paris(a).naive_local();
                    let date: NaiveDate = add_months(local.date(), months);
                    paris_instant(date, time.unwrap_or(local.time()))
                });
                (instant, Some(format!("{anchor_label} + {months} mois")))
            }
            (None, None, None) => {
                if i != 0 {
                    return Err((
                        path("at"),
                        "seule la première date (l'ancrage) peut rester sans date".into(),
                    ));
                }
                (None, None)
            }
            _ => {
                return Err((
                    path("at"),
                    "indiquer soit « at », soit « relative_to » avec « months »".into(),
                ));
            }
        };
        if let Some(instant) = instant
            && let Some(prev) = out.iter().rev().find_map(|r: &ResolvedDate| r.instant)
            && instant < prev
        {
            return Err((
                path("at"),
                "les dates doivent être dans l'ordre chronologique".into(),
            ));
        }
        by_key.insert(&d.key, (instant, i));
        out.push(ResolvedDate {
            key: d.key.clone(),
            label: d.label.clone(),
            description: d.description.clone(),
            instant,
            relative_text,
            phase_after: d.phase_after.clone(),
            role: d.role,
            binding,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
