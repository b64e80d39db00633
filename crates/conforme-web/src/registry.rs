//! The public registry of each programme, its open data, and the public verification of a
//! référencement number.
//!
//! What of a candidature is public is decided by the domain
//! ([`conforme_domain::referencing::registry::entry`]): every page, file and API answer here
//! is built from those entries, never from the candidature itself. Filters apply to the
//! entries too, so that a search never matches what is not shown (the profiles or version of
//! a candidature under instruction, for one).
//!
//! Routes: `/registre`, `/registre/dictionnaire`, `/registre/{code}` and its
//! `donnees.csv` / `donnees.json`, `/verification` and `/verification/{number}` (the address
//! the attestation's QR code encodes), and under the API `/api/v1/registry`,
//! `/api/v1/registry/{code}`, `/api/v1/verification/{number}`.
//!
//! A bad filter value answers 400 everywhere with the parameter named (the page shows the
//! message above its form with the whole registry below, as the REM browser does). A number
//! that is malformed or fails its check digits answers 422, a well-formed unknown one 404.

use crate::AppState;
use crate::auth::{Layout, Viewer};
use crate::error::{ApiResult, AppError, FieldError, PageResult, Problem};
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Datelike, NaiveDate};
use conforme_domain::programme::Programme;
use conforme_domain::referencing::Standing;
use conforme_domain::referencing::number::{self, NumberError};
use conforme_domain::referencing::registry::{self, Counts, Entry, Facts, ReferencedEntry};
use conforme_domain::text::fold_for_search;
use conforme_store::{Candidature, StoredReferencing};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/registre", get(list_registries))
        .route("/registre/dictionnaire", get(show_dictionary))
        .route("/registre/{code}", get(show_registry))
        .route("/registre/{code}/donnees.csv", get(download_csv))
        .route("/registre/{code}/donnees.json", get(download_json))
        .route("/verification", get(show_verification_form))
        .route("/verification/{number}", get(show_verification))
        // Full paths: this router is merged at the top level, beside the API's nested one.
        .route("/api/v1/registry", get(api_list_registries))
        .route("/api/v1/registry/{code}", get(api_get_registry))
        .route("/api/v1/verification/{number}", get(api_verify))
}

// ---------------------------------------------------------------------------------------------
// The open-data columns: one list for the CSV header, the JSON fields and the dictionary.

/// One column of the open data.
pub struct Column {
    pub name: &'static str,
    pub kind: &'static str,
    pub description: &'static str,
    pub example: &'static str,
    /// Which lines fill it.
    pub filled: &'static str,
}

const REFERENCED_LINES: &str = "valid, suspended, withdrawn (vide pour under-instruction)";

/// The open-data columns, in file order.
pub const COLUMNS: &[Column] = &[
    Column {
        name: "programme",
        kind: "texte",
        description: "Code du dispositif de référencement.",
        example: "HOP-DPI-Va2",
        filled: "toutes les lignes",
    },
    Column {
        name: "status",
        kind: "texte : valid, suspended, withdrawn ou under-instruction",
        description: "Statut de la ligne : référencement valide, suspendu ou retiré, ou candidature en cours d’instruction.",
        example: "valid",
        filled: "toutes les lignes",
    },
    Column {
        name: "status_label",
        kind: "texte",
        description: "Libellé du statut : Valide, Suspendu, Retiré ou En cours d’instruction.",
        example: "Valide",
        filled: "toutes les lignes",
    },
    Column {
        name: "editor",
        kind: "texte",
        description: "Raison sociale de l’éditeur, telle que déposée avec la candidature.",
        example: "Éditeur Santé SAS",
        filled: "toutes les lignes",
    },
    Column {
        name: "solution",
        kind: "texte",
        description: "Nom commercial de la solution.",
        example: "DPI Santé",
        filled: "toutes les lignes",
    },
    Column {
        name: "technical_version",
        kind: "texte",
        description: "Numéro de version technique référencée, tel qu’affiché dans l’interface du logiciel.",
        example: "v2.4.1",
        filled: REFERENCED_LINES,
    },
    Column {
        name: "compatible_versions",
        kind: "liste de textes (CSV : séparés par « | »)",
        description: "Versions ultérieures déclarées au titre de la compatibilité ascendante : elles respectent les exigences de la version référencée.",
        example: "v2.5.0|v2.6.0",
        filled: "valid, suspended, withdrawn, lorsque des versions ont été déclarées",
    },
    Column {
        name: "profiles",
        kind: "liste de textes (CSV : séparés par « | »)",
        description: "Profils pour lesquels la solution est référencée.",
        example: "Général|Authentification PSC par CIBA",
        filled: REFERENCED_LINES,
    },
    Column {
        name: "referenced_on",
        kind: "date AAAA-MM-JJ",
        description: "Date du référencement (date de Paris).",
        example: "2026-02-05",
        filled: REFERENCED_LINES,
    },
    Column {
        name: "number",
        kind: "texte : DISPOSITIF-ANNÉE-NUMÉRO-CLÉ",
        description: "Numéro de référencement unique ; ses deux derniers chiffres sont une clé de contrôle (ISO 7064 MOD 97-10) qui révèle un numéro erroné ou altéré.",
        example: "HOP-DPI-Va2-2026-0001-83",
        filled: REFERENCED_LINES,
    },
    Column {
        name: "status_since",
        kind: "date AAAA-MM-JJ",
        description: "Date du dernier changement de statut : le référencement, la suspension ou le retrait (date de Paris).",
        example: "2026-02-05",
        filled: REFERENCED_LINES,
    },
    Column {
        name: "status_reason",
        kind: "texte",
        description: "Motif de la suspension ou du retrait.",
        example: "Écarts majeurs relevés lors de l’audit de conformité",
        filled: "suspended, withdrawn",
    },
    Column {
        name: "verification_url",
        kind: "URL",
        description: "Adresse de la page publique de vérification du numéro (celle qu’encode le QR code de l’attestation).",
        example: "https://conforme.example.fr/verification/HOP-DPI-Va2-2026-0001-83",
        filled: REFERENCED_LINES,
    },
];

/// One public line of the registry, as the open data and the API give it; the fields are
/// [`COLUMNS`], in order. Under instruction: editor and solution only, the rest empty.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegistryLine {
    pub programme: String,
    /// `valid`, `suspended`, `withdrawn` or `under-instruction`.
    pub status: &'static str,
    pub status_label: &'static str,
    pub editor: String,
    pub solution: String,
    pub technical_version: Option<String>,
    /// Later versions declared under upward compatibility.
    pub compatible_versions: Vec<String>,
    pub profiles: Vec<String>,
    /// Paris date.
    pub referenced_on: Option<NaiveDate>,
    pub number: Option<String>,
    /// When the standing last changed (référencement, suspension, withdrawal), Paris date.
    pub status_since: Option<NaiveDate>,
    /// Why it was suspended or withdrawn.
    pub status_reason: Option<String>,
    pub verification_url: Option<String>,
}

const UNDER_INSTRUCTION: &str = "under-instruction";
const UNDER_INSTRUCTION_LABEL: &str = "En cours d’instruction";

fn line(programme: &str, public_url: &str, e: &Entry) -> RegistryLine {
    match e {
        Entry::UnderInstruction { editor, solution } => RegistryLine {
            programme: programme.to_string(),
            status: UNDER_INSTRUCTION,
            status_label: UNDER_INSTRUCTION_LABEL,
            editor: editor.clone(),
            solution: solution.clone(),
            technical_version: None,
            compatible_versions: vec![],
            profiles: vec![],
            referenced_on: None,
            number: None,
            status_since: None,
            status_reason: None,
            verification_url: None,
        },
        Entry::Referenced(r) => RegistryLine {
            programme: programme.to_string(),
            status: r.standing.as_str(),
            status_label: r.standing.label(),
            editor: r.editor.clone(),
            solution: r.solution.clone(),
            technical_version: Some(r.technical_version.clone()),
            compatible_versions: r.compatible_versions.clone(),
            profiles: r.profiles.clone(),
            referenced_on: Some(r.referenced_on),
            number: Some(r.number.clone()),
            status_since: Some(r.standing_since),
            status_reason: r.standing_reason.clone(),
            verification_url: Some(verification_url(public_url, &r.number)),
        },
    }
}

/// The address the attestation's QR code encodes.
pub fn verification_url(public_url: &str, number: &str) -> String {
    format!("{public_url}/verification/{number}")
}

fn csv_cells(l: &RegistryLine) -> [String; 13] {
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    [
        l.programme.clone(),
        l.status.to_string(),
        l.status_label.to_string(),
        l.editor.clone(),
        l.solution.clone(),
        l.technical_version.clone().unwrap_or_default(),
        l.compatible_versions.join("|"),
        l.profiles.join("|"),
        date(l.referenced_on),
        l.number.clone().unwrap_or_default(),
        date(l.status_since),
        l.status_reason.clone().unwrap_or_default(),
        l.verification_url.clone().unwrap_or_default(),
    ]
}

/// The CSV file: UTF-8 without BOM, comma-separated, RFC 4180 quoting and line ends, one
/// header row of [`COLUMNS`].
pub fn to_csv(lines: &[RegistryLine]) -> Result<Vec<u8>, AppError> {
    let internal = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(COLUMNS.iter().map(|c| c.name))
        .map_err(internal)?;
    for l in lines {
        w.write_record(csv_cells(l)).map_err(internal)?;
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(format!("csv: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Filters.

/// The search parameters of the registry, all optional text so that a bad value gets our own
/// message.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistryParams {
    /// Editor, solution or référencement number (accent- and case-insensitive; every word
    /// must match).
    pub q: Option<String>,
    /// `tous` (default), `reference` (valid), `suspendu`, `retire` or `en-instruction`.
    pub statut: Option<String>,
    /// One of the programme's profiles: referenced solutions with that profile only.
    pub profil: Option<String>,
}

const MAX_Q_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusFilter {
    All,
    Valid,
    Suspended,
    Withdrawn,
    UnderInstruction,
}

impl StatusFilter {
    fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "" | "tous" => Self::All,
            "reference" => Self::Valid,
            "suspendu" => Self::Suspended,
            "retire" => Self::Withdrawn,
            "en-instruction" => Self::UnderInstruction,
            _ => return None,
        })
    }

    fn admits(self, e: &Entry) -> bool {
        match (self, e) {
            (Self::All, _) => true,
            (Self::UnderInstruction, Entry::UnderInstruction { .. }) => true,
            (Self::Valid, Entry::Referenced(r)) => r.standing == Standing::Valid,
            (Self::Suspended, Entry::Referenced(r)) => r.standing == Standing::Suspended,
            (Self::Withdrawn, Entry::Referenced(r)) => r.standing == Standing::Withdrawn,
            _ => false,
        }
    }
}

/// Checked filters.
#[derive(Debug, Clone)]
struct Filter {
    words: Vec<String>,
    status: StatusFilter,
    profile: Option<String>,
}

impl Filter {
    fn none() -> Self {
        Filter {
            words: vec![],
            status: StatusFilter::All,
            profile: None,
        }
    }

    fn is_active(&self) -> bool {
        !self.words.is_empty() || self.status != StatusFilter::All || self.profile.is_some()
    }

    /// Only what the entry shows is searched: an entry under instruction has no profile and
    /// no number, so that a profile filter leaves it out.
    fn admits(&self, e: &Entry) -> bool {
        if !self.status.admits(e) {
            return false;
        }
        let haystack = match e {
            Entry::UnderInstruction { editor, solution } => {
                if self.profile.is_some() {
                    return false;
                }
                fold_for_search(&format!("{editor} {solution}"))
            }
            Entry::Referenced(r) => {
                if let Some(p) = &self.profile
                    && !r.profiles.iter().any(|x| x == p)
                {
                    return false;
                }
                fold_for_search(&format!("{} {} {}", r.editor, r.solution, r.number))
            }
        };
        self.words.iter().all(|w| haystack.contains(w.as_str()))
    }
}

fn parse_filter(params: &RegistryParams, programme: &Programme) -> Result<Filter, AppError> {
    let q = params.q.as_deref().unwrap_or("").trim();
    if q.chars().count() > MAX_Q_CHARS {
        return Err(AppError::bad_field(
            "q",
            format!("la recherche est limitée à {MAX_Q_CHARS} caractères"),
        ));
    }
    let raw_status = params.statut.as_deref().unwrap_or("").trim();
    let status = StatusFilter::parse(raw_status).ok_or_else(|| {
        AppError::bad_field(
            "statut",
            format!(
                "valeur inconnue « {} » : attendu tous, reference, suspendu, retire ou en-instruction",
                truncate(raw_status, 60)
            ),
        )
    })?;
    let raw_profile = params.profil.as_deref().unwrap_or("").trim();
    let profile = if raw_profile.is_empty() {
        None
    } else {
        let folded = fold_for_search(raw_profile);
        let found = programme
            .def
            .profiles
            .iter()
            .find(|p| fold_for_search(&p.name) == folded)
            .ok_or_else(|| {
                let names: Vec<String> = programme
                    .def
                    .profiles
                    .iter()
                    .map(|p| format!("« {} »", p.name))
                    .collect();
                AppError::bad_field(
                    "profil",
                    format!(
                        "profil inconnu « {} » pour {} : attendu {}",
                        truncate(raw_profile, 60),
                        programme.code,
                        names.join(", ")
                    ),
                )
            })?;
        Some(found.name.clone())
    };
    Ok(Filter {
        words: fold_for_search(q)
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect(),
        status,
        profile,
    })
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}…")
}

// ---------------------------------------------------------------------------------------------
// Loading.

/// A programme's registry: its counts and public entries (referenced ones in number order,
/// then those under instruction in alphabetical order, which says nothing of their deposit).
struct Loaded {
    counts: Counts,
    entries: Vec<Entry>,
}

/// The editor's name as deposited: the snapshot taken at the deposit, or, for a candidature
/// made without one, the organisation's current name.
async fn editor_names(
    state: &AppState,
    candidatures: &[Candidature],
) -> Result<Vec<String>, AppError> {
    let mut by_org: HashMap<String, String> = HashMap::new();
    let mut names = Vec::with_capacity(candidatures.len());
    for c in candidatures {
        if let Some(s) = &c.editor_snapshot {
            names.push(s.company_name.clone());
            continue;
        }
        if let Some(n) = by_org.get(&c.organisation_id) {
            names.push(n.clone());
            continue;
        }
        let name = state
            .store
            .organisation(&c.organisation_id)
            .await?
            .map(|o| o.identity.company_name)
            .unwrap_or_default();
        by_org.insert(c.organisation_id.clone(), name.clone());
        names.push(name);
    }
    Ok(names)
}

fn facts<'a>(
    c: &'a Candidature,
    editor: &'a str,
    referencing: Option<&'a StoredReferencing>,
) -> Facts<'a> {
    Facts {
        state: c.state,
        deposited_at: c.deposited_at,
        editor,
        solution: &c.dossier.commercial_name,
        technical_version: &c.dossier.technical_version,
        profiles: &c.dossier.profiles,
        referencing: referencing.map(|r| &r.referencing),
    }
}

async fn load(state: &AppState, code: &str) -> Result<Loaded, AppError> {
    let candidatures = state.store.deposited_candidatures(code).await?;
    let referencings: HashMap<String, StoredReferencing> = state
        .store
        .referencings(Some(code))
        .await?
        .into_iter()
        .map(|r| (r.candidature_id.clone(), r))
        .collect();
    let editors = editor_names(state, &candidatures).await?;
    let all: Vec<Facts<'_>> = candidatures
        .iter()
        .zip(&editors)
        .map(|(c, e)| facts(c, e, referencings.get(&c.id)))
        .collect();
    let counts = registry::counts(&all);
    let mut referenced: Vec<Entry> = vec![];
    let mut under: Vec<(String, Entry)> = vec![];
    for e in all.iter().filter_map(registry::entry) {
        match &e {
            Entry::Referenced(_) => referenced.push(e),
            Entry::UnderInstruction { editor, solution } => {
                under.push((fold_for_search(&format!("{editor}\u{1f}{solution}")), e));
            }
        }
    }
    referenced.sort_by(|a, b| number_of(a).cmp(number_of(b)));
    under.sort_by(|a, b| a.0.cmp(&b.0));
    referenced.extend(under.into_iter().map(|(_, e)| e));
    Ok(Loaded {
        counts,
        entries: referenced,
    })
}

fn number_of(e: &Entry) -> &str {
    match e {
        Entry::Referenced(r) => &r.number,
        Entry::UnderInstruction { .. } => "",
    }
}

fn programme_or_404<'a>(state: &'a AppState, code: &str) -> Result<&'a Programme, AppError> {
    state
        .programme(code)
        .ok_or_else(|| AppError::NotFound(format!("Aucun dispositif « {} ».", truncate(code, 80))))
}

fn query_or_400(
    params: Result<Query<RegistryParams>, QueryRejection>,
) -> Result<RegistryParams, AppError> {
    params
        .map(|Query(p)| p)
        .map_err(|e| AppError::bad_field("query", e.body_text()))
}

// ---------------------------------------------------------------------------------------------
// Views shared by the API and the JSON file.

/// The registry's counts.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct CountsView {
    /// Every deposited candidature, whatever became of it.
    pub candidates: usize,
    pub under_instruction: usize,
    /// Référencements in force: valid or suspended.
    pub referenced: usize,
    pub suspended: usize,
    pub withdrawn: usize,
}

impl From<Counts> for CountsView {
    fn from(c: Counts) -> Self {
        CountsView {
            candidates: c.candidates,
            under_instruction: c.under_instruction,
            referenced: c.referenced,
            suspended: c.suspended,
            withdrawn: c.withdrawn,
        }
    }
}

/// A programme's registry in the list of registries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegistrySummary {
    pub programme: String,
    pub programme_title: String,
    /// "5 solutions référencées sur 34 candidatures".
    pub summary: String,
    pub counts: CountsView,
    /// The public page of the registry.
    pub page_url: String,
}

/// Every programme's registry.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistryList {
    pub items: Vec<RegistrySummary>,
    pub total: usize,
}

/// A programme's registry: its counts (always over the whole registry) and its entries
/// (those matching the query).
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistryDoc {
    pub programme: String,
    pub programme_title: String,
    pub summary: String,
    pub counts: CountsView,
    /// Entries returned (after the filters).
    pub total: usize,
    pub entries: Vec<RegistryLine>,
}

fn summary_of(state: &AppState, p: &Programme, counts: Counts) -> RegistrySummary {
    RegistrySummary {
        programme: p.code.to_string(),
        programme_title: p.def.title.clone(),
        summary: registry::summary(&counts),
        counts: counts.into(),
        page_url: format!("{}/registre/{}", state.config.public_url, p.code),
    }
}

async fn summaries(state: &AppState) -> Result<Vec<RegistrySummary>, AppError> {
    let mut items = Vec::with_capacity(state.programmes.len());
    for p in state.programmes.iter() {
        let loaded = load(state, p.code.as_str()).await?;
        items.push(summary_of(state, p, loaded.counts));
    }
    Ok(items)
}

/// The registry of `code` with `params` applied, as a document.
async fn registry_doc(
    state: &AppState,
    code: &str,
    params: &RegistryParams,
) -> Result<RegistryDoc, AppError> {
    let programme = programme_or_404(state, code)?;
    let filter = parse_filter(params, programme)?;
    let loaded = load(state, code).await?;
    let entries: Vec<RegistryLine> = loaded
        .entries
        .iter()
        .filter(|e| filter.admits(e))
        .map(|e| line(programme.code.as_str(), &state.config.public_url, e))
        .collect();
    Ok(RegistryDoc {
        programme: programme.code.to_string(),
        programme_title: programme.def.title.clone(),
        summary: registry::summary(&loaded.counts),
        counts: loaded.counts.into(),
        total: entries.len(),
        entries,
    })
}

// ---------------------------------------------------------------------------------------------
// Pages.

fn html(t: impl Template) -> PageResult<Html<String>> {
    Ok(Html(t.render()?))
}

/// "5 février 2026", "1er mars 2026".
fn french_date(d: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let day = match d.day() {
        1 => "1er".to_string(),
        n => n.to_string(),
    };
    let month = MONTHS.get(d.month0() as usize).copied().unwrap_or("");
    format!("{day} {month} {}", d.year())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n}\u{a0}{}", if n > 1 { many } else { one })
}

/// The counts beyond the summary line: "dont 1 suspendue ; 3 candidatures en cours
/// d'instruction ; 1 référencement retiré".
fn details_line(c: &Counts) -> String {
    let mut parts = vec![];
    if c.suspended > 0 {
        parts.push(format!(
            "dont {}",
            plural(c.suspended, "suspendue", "suspendues")
        ));
    }
    parts.push(plural(
        c.under_instruction,
        "candidature en cours d’instruction",
        "candidatures en cours d’instruction",
    ));
    parts.push(plural(
        c.withdrawn,
        "référencement retiré",
        "référencements retirés",
    ));
    parts.join(" ; ")
}

struct IndexRow {
    code: String,
    title: String,
    summary: String,
    details: String,
}

#[derive(Template)]
#[template(path = "registry_index.html")]
struct IndexPage {
    layout: Layout,
    items: Vec<IndexRow>,
}

async fn list_registries(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
) -> PageResult<Html<String>> {
    let mut items = vec![];
    for p in state.programmes.iter() {
        let loaded = load(&state, p.code.as_str()).await?;
        items.push(IndexRow {
            code: p.code.to_string(),
            title: p.def.title.clone(),
            summary: registry::summary(&loaded.counts),
            details: details_line(&loaded.counts),
        });
    }
    html(IndexPage {
        layout: Layout::of(&state, "registre", viewer.as_ref()).await?,
        items,
    })
}

struct ReferencedRow {
    editor: String,
    solution: String,
    technical_version: String,
    compatible_versions: String,
    profiles: Vec<String>,
    referenced_on: String,
    referenced_on_iso: String,
    number: String,
    badge: &'static str,
    standing: &'static str,
    /// Since when and why, for a suspended or withdrawn référencement.
    standing_note: Option<String>,
}

struct UnderRow {
    editor: String,
    solution: String,
}

/// What the form shows back.
#[derive(Default)]
struct FormValues {
    q: String,
    statut: String,
    profil: String,
}

#[derive(Template)]
#[template(path = "registry.html")]
struct RegistryPage {
    layout: Layout,
    code: String,
    title: String,
    summary: String,
    details: String,
    form: FormValues,
    error: Option<String>,
    profiles: Vec<String>,
    filtered: bool,
    /// The query string of the current filters, for the downloads of the selection.
    selection_query: String,
    referenced: Vec<ReferencedRow>,
    under: Vec<UnderRow>,
    /// Whether the filters leave the table out altogether.
    show_referenced: bool,
    show_under: bool,
}

fn badge(s: Standing) -> &'static str {
    match s {
        Standing::Valid => "fr-badge--success",
        Standing::Suspended => "fr-badge--warning",
        Standing::Withdrawn => "fr-badge--error",
    }
}

fn standing_note(r: &ReferencedEntry) -> Option<String> {
    let since = french_date(r.standing_since);
    match r.standing {
        Standing::Valid => None,
        Standing::Suspended => Some(format!(
            "depuis le {since}{}",
            r.standing_reason
                .as_deref()
                .map(|x| format!(" : {x}"))
                .unwrap_or_default()
        )),
        Standing::Withdrawn => Some(format!(
            "le {since}{}",
            r.standing_reason
                .as_deref()
                .map(|x| format!(" : {x}"))
                .unwrap_or_default()
        )),
    }
}

fn referenced_row(r: &ReferencedEntry) -> ReferencedRow {
    ReferencedRow {
        editor: r.editor.clone(),
        solution: r.solution.clone(),
        technical_version: r.technical_version.clone(),
        compatible_versions: r.compatible_versions.join(", "),
        profiles: r.profiles.clone(),
        referenced_on: french_date(r.referenced_on),
        referenced_on_iso: r.referenced_on.to_string(),
        number: r.number.clone(),
        badge: badge(r.standing),
        standing: r.standing.label(),
        standing_note: standing_note(r),
    }
}

fn selection_query(form: &FormValues) -> String {
    let pairs: Vec<String> = [
        ("q", &form.q),
        ("statut", &form.statut),
        ("profil", &form.profil),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| format!("{k}={}", crate::pages::encode_query(v.trim())))
    .collect();
    pairs.join("&")
}

async fn show_registry(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    Path(code): Path<String>,
    params: Result<Query<RegistryParams>, QueryRejection>,
) -> PageResult<Response> {
    let programme = programme_or_404(&state, &code)?;
    let (params, error) = match query_or_400(params) {
        Ok(p) => (p, None),
        Err(e) => (RegistryParams::default(), Some(e.to_string())),
    };
    let form = FormValues {
        q: params.q.clone().unwrap_or_default(),
        statut: params.statut.clone().unwrap_or_default(),
        profil: params.profil.clone().unwrap_or_default(),
    };
    // A bad value is shown above the form with the whole registry below: nothing typed is
    // lost, and the answer is a 400 as in the API.
    let (filter, error) = match (error, parse_filter(&params, programme)) {
        (Some(e), _) => (Filter::none(), Some(e)),
        (None, Ok(f)) => (f, None),
        (None, Err(e)) => (Filter::none(), Some(e.to_string())),
    };
    let loaded = load(&state, &code).await?;
    let mut referenced = vec![];
    let mut under = vec![];
    for e in loaded.entries.iter().filter(|e| filter.admits(e)) {
        match e {
            Entry::Referenced(r) => referenced.push(referenced_row(r)),
            Entry::UnderInstruction { editor, solution } => under.push(UnderRow {
                editor: editor.clone(),
                solution: solution.clone(),
            }),
        }
    }
    let show_referenced = filter.status != StatusFilter::UnderInstruction;
    let show_under = matches!(
        filter.status,
        StatusFilter::All | StatusFilter::UnderInstruction
    ) && filter.profile.is_none();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = RegistryPage {
        layout: Layout::of(&state, "registre", viewer.as_ref()).await?,
        code: programme.code.to_string(),
        title: programme.def.title.clone(),
        summary: registry::summary(&loaded.counts),
        details: details_line(&loaded.counts),
        filtered: filter.is_active(),
        selection_query: if error.is_some() {
            String::new()
        } else {
            selection_query(&form)
        },
        form,
        error,
        profiles: programme
            .def
            .profiles
            .iter()
            .map(|p| p.name.clone())
            .collect(),
        referenced,
        under,
        show_referenced,
        show_under,
    };
    Ok((status, Html(page.render().map_err(AppError::from)?)).into_response())
}

#[derive(Template)]
#[template(path = "registry_dictionary.html")]
struct DictionaryPage {
    layout: Layout,
    columns: &'static [Column],
    example_code: String,
}

async fn show_dictionary(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
) -> PageResult<Html<String>> {
    html(DictionaryPage {
        layout: Layout::of(&state, "registre", viewer.as_ref()).await?,
        columns: COLUMNS,
        example_code: state
            .programmes
            .first()
            .map(|p| p.code.to_string())
            .unwrap_or_else(|| "HOP-DPI-Va2".into()),
    })
}

async fn download_csv(
    State(state): State<AppState>,
    Path(code): Path<String>,
    params: Result<Query<RegistryParams>, QueryRejection>,
) -> PageResult<Response> {
    let params = query_or_400(params)?;
    let doc = registry_doc(&state, &code, &params).await?;
    let body = to_csv(&doc.entries)?;
    Ok(file_response(
        "text/csv; charset=utf-8",
        &format!("registre-{}.csv", doc.programme),
        body,
    ))
}

async fn download_json(
    State(state): State<AppState>,
    Path(code): Path<String>,
    params: Result<Query<RegistryParams>, QueryRejection>,
) -> PageResult<Response> {
    let params = query_or_400(params)?;
    let doc = registry_doc(&state, &code, &params).await?;
    let body =
        serde_json::to_vec_pretty(&doc).map_err(|e| AppError::Internal(format!("json: {e}")))?;
    Ok(file_response(
        "application/json",
        &format!("registre-{}.json", doc.programme),
        body,
    ))
}

/// A download; `file_name` is made of a known programme code, safe in the header.
fn file_response(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Verification.

/// The public verification of a référencement number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    pub number: String,
    /// `valid`, `suspended` or `withdrawn`.
    pub status: &'static str,
    /// Valide, Suspendu, Retiré.
    pub status_label: &'static str,
    /// When the standing last changed (Paris date).
    pub since: NaiveDate,
    /// Why it was suspended or withdrawn.
    pub reason: Option<String>,
    pub programme: String,
    pub programme_title: String,
    pub editor: String,
    pub solution: String,
    pub technical_version: String,
    pub compatible_versions: Vec<String>,
    pub profiles: Vec<String>,
    /// Paris date.
    pub referenced_on: NaiveDate,
    /// Whether the "Référencé Ségur" logo may be used: only while the référencement is
    /// valid (the convention in force).
    pub logo_rights: bool,
}

/// Why a number could not be verified.
enum Refusal {
    /// Malformed or failing its check digits: 422.
    Invalid(NumberError),
    /// Well-formed, but no référencement carries it: 404.
    Unknown,
    Failed(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::Failed(e)
    }
}

impl From<conforme_store::StoreError> for Refusal {
    fn from(e: conforme_store::StoreError) -> Self {
        Refusal::Failed(e.into())
    }
}

const UNKNOWN_NUMBER: &str = "Ce numéro a la forme d’un numéro de référencement et sa clé de contrôle est juste, mais aucun référencement ne le porte : il n’a pas été délivré par la plateforme.";

/// Checks `raw` and finds its référencement. The programme part is matched without regard
/// to case (the check digits ignore it too) and the number looked up as issued.
async fn verify(state: &AppState, raw: &str) -> Result<Verification, Refusal> {
    let parsed = number::parse(raw).map_err(Refusal::Invalid)?;
    let programme = state
        .programmes
        .iter()
        .find(|p| p.code.as_str().eq_ignore_ascii_case(&parsed.programme))
        .ok_or(Refusal::Unknown)?;
    let canonical = number::issue(programme.code.as_str(), parsed.year, parsed.sequence);
    let stored = state
        .store
        .referencing_by_number(&canonical)
        .await?
        .ok_or(Refusal::Unknown)?;
    let c = state
        .store
        .candidature(&stored.candidature_id)
        .await?
        .ok_or(Refusal::Unknown)?;
    let editors = editor_names(state, std::slice::from_ref(&c)).await?;
    let editor = editors.first().map(String::as_str).unwrap_or("");
    let Some(Entry::Referenced(r)) = registry::entry(&facts(&c, editor, Some(&stored))) else {
        return Err(Refusal::Unknown);
    };
    Ok(Verification {
        number: r.number,
        status: r.standing.as_str(),
        status_label: r.standing.label(),
        since: r.standing_since,
        reason: r.standing_reason,
        programme: programme.code.to_string(),
        programme_title: programme.def.title.clone(),
        editor: r.editor,
        solution: r.solution,
        technical_version: r.technical_version,
        compatible_versions: r.compatible_versions,
        profiles: r.profiles,
        referenced_on: r.referenced_on,
        logo_rights: stored.referencing.logo_rights(),
    })
}

/// A 422 problem naming the number.
fn unprocessable(message: String) -> Response {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    let problem = Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail: format!("number : {message}"),
        errors: vec![FieldError {
            field: "number".into(),
            message,
        }],
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        serde_json::to_vec(&problem).unwrap_or_default(),
    )
        .into_response()
}

#[utoipa::path(get, path = "/verification/{number}", tag = "registry",
    params(("number" = String, Path, description = "Référencement number, e.g. HOP-DPI-Va2-2026-0001-83")),
    responses(
        (status = 200, description = "A référencement carries this number, whatever its standing", body = Verification),
        (status = 404, description = "Well-formed, right check digits, but never issued", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed, or the check digits do not match: mistyped or altered", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn api_verify(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    match verify(&state, &raw).await {
        Ok(v) => Ok(Json(v).into_response()),
        Err(Refusal::Invalid(e)) => Ok(unprocessable(e.to_string())),
        Err(Refusal::Unknown) => Err(AppError::NotFound(UNKNOWN_NUMBER.into()).into()),
        Err(Refusal::Failed(e)) => Err(e.into()),
    }
}

/// What the verification page says.
struct Outcome {
    /// `success`, `warning` or `error` (the DSFR alert).
    alert: &'static str,
    title: String,
    message: String,
    details: Option<Details>,
}

struct Details {
    number: String,
    programme: String,
    programme_title: String,
    editor: String,
    solution: String,
    technical_version: String,
    compatible_versions: String,
    profiles: String,
    referenced_on: String,
    referenced_on_iso: String,
    logo_rights: bool,
}

#[derive(Template)]
#[template(path = "verification.html")]
struct VerificationPage {
    layout: Layout,
    numero: String,
    outcome: Option<Outcome>,
}

fn outcome(v: Verification) -> Outcome {
    let since = french_date(v.since);
    let reason = v
        .reason
        .as_deref()
        .map(|r| format!(" Motif : {r}"))
        .unwrap_or_default();
    let (alert, title, message) = match v.status {
        "valid" => (
            "success",
            "Référencement valide".to_string(),
            format!(
                "Ce numéro correspond à un référencement en vigueur du dispositif {}.",
                v.programme
            ),
        ),
        "suspended" => (
            "warning",
            "Référencement suspendu".to_string(),
            format!("Ce référencement est suspendu depuis le {since}.{reason}"),
        ),
        _ => (
            "error",
            "Référencement retiré".to_string(),
            format!("Ce référencement a été retiré le {since}.{reason}"),
        ),
    };
    Outcome {
        alert,
        title,
        message,
        details: Some(Details {
            referenced_on: french_date(v.referenced_on),
            referenced_on_iso: v.referenced_on.to_string(),
            number: v.number,
            programme: v.programme,
            programme_title: v.programme_title,
            editor: v.editor,
            solution: v.solution,
            technical_version: v.technical_version,
            compatible_versions: v.compatible_versions.join(", "),
            profiles: v.profiles.join(", "),
            logo_rights: v.logo_rights,
        }),
    }
}

async fn verification_page(
    state: &AppState,
    viewer: Option<&crate::auth::Auth>,
    raw: &str,
) -> PageResult<Response> {
    let (status, outcome) = match verify(state, raw).await {
        Ok(v) => (StatusCode::OK, outcome(v)),
        Err(Refusal::Invalid(e)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Outcome {
                alert: "error",
                title: match e {
                    NumberError::CheckDigits => "Numéro erroné ou altéré".to_string(),
                    NumberError::Malformed => "Ce n’est pas un numéro de référencement".to_string(),
                },
                message: match e {
                    NumberError::CheckDigits => format!(
                        "{}. Vérifiez la saisie : un numéro falsifié ne correspond à aucun référencement.",
                        capitalise(&e.to_string())
                    ),
                    NumberError::Malformed => format!("{}.", capitalise(&e.to_string())),
                },
                details: None,
            },
        ),
        Err(Refusal::Unknown) => (
            StatusCode::NOT_FOUND,
            Outcome {
                alert: "error",
                title: "Numéro inconnu".to_string(),
                message: UNKNOWN_NUMBER.to_string(),
                details: None,
            },
        ),
        Err(Refusal::Failed(e)) => return Err(e.into()),
    };
    let page = VerificationPage {
        layout: Layout::of(state, "registre", viewer).await?,
        numero: truncate(raw.trim(), 100),
        outcome: Some(outcome),
    };
    Ok((status, Html(page.render().map_err(AppError::from)?)).into_response())
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[derive(Debug, Deserialize)]
struct VerificationParams {
    numero: Option<String>,
}

async fn show_verification_form(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    params: Result<Query<VerificationParams>, QueryRejection>,
) -> PageResult<Response> {
    let numero = params
        .ok()
        .and_then(|Query(p)| p.numero)
        .unwrap_or_default();
    if !numero.trim().is_empty() {
        return verification_page(&state, viewer.as_ref(), &numero).await;
    }
    let page = VerificationPage {
        layout: Layout::of(&state, "registre", viewer.as_ref()).await?,
        numero: String::new(),
        outcome: None,
    };
    Ok(Html(page.render().map_err(AppError::from)?).into_response())
}

async fn show_verification(
    State(state): State<AppState>,
    Viewer(viewer): Viewer,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    verification_page(&state, viewer.as_ref(), &raw).await
}

// ---------------------------------------------------------------------------------------------
// API.

#[utoipa::path(get, path = "/registry", tag = "registry",
    responses((status = 200, description = "Every programme's registry with its counts", body = RegistryList)))]
pub(crate) async fn api_list_registries(
    State(state): State<AppState>,
) -> ApiResult<Json<RegistryList>> {
    let items = summaries(&state).await?;
    Ok(Json(RegistryList {
        total: items.len(),
        items,
    }))
}

#[utoipa::path(get, path = "/registry/{code}", tag = "registry",
    params(("code" = String, Path, description = "Programme code, e.g. HOP-DPI-Va2"), RegistryParams),
    responses(
        (status = 200, description = "The registry's counts and its public entries; under instruction, editor and solution only", body = RegistryDoc),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn api_get_registry(
    State(state): State<AppState>,
    Path(code): Path<String>,
    params: Result<Query<RegistryParams>, QueryRejection>,
) -> ApiResult<Json<RegistryDoc>> {
    let params = query_or_400(params)?;
    Ok(Json(registry_doc(&state, &code, &params).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields_are_the_csv_columns_in_order() {
        let l = RegistryLine {
            programme: "P".into(),
            status: UNDER_INSTRUCTION,
            status_label: UNDER_INSTRUCTION_LABEL,
            editor: "É".into(),
            solution: "S".into(),
            technical_version: None,
            compatible_versions: vec![],
            profiles: vec![],
            referenced_on: None,
            number: None,
            status_since: None,
            status_reason: None,
            verification_url: None,
        };
        let json = serde_json::to_value(&l).expect("json");
        let keys: Vec<&str> = json
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        names.sort_unstable();
        assert_eq!(sorted, names);
        assert_eq!(csv_cells(&l).len(), COLUMNS.len());
    }

    #[test]
    fn the_dictionary_example_number_is_valid() {
        let n = COLUMNS
            .iter()
            .find(|c| c.name == "number")
            .expect("number column");
        assert_eq!(n.example, number::issue("HOP-DPI-Va2", 2026, 1));
    }

    #[test]
    fn french_dates() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert_eq!(french_date(d(2026, 3, 1)), "1er mars 2026");
        assert_eq!(french_date(d(2026, 2, 5)), "5 février 2026");
    }

    #[test]
    fn status_values() {
        assert_eq!(StatusFilter::parse(""), Some(StatusFilter::All));
        assert_eq!(StatusFilter::parse("retire"), Some(StatusFilter::Withdrawn));
        assert_eq!(StatusFilter::parse("Retiré"), None);
    }
}
