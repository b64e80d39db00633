//! The checklist of a proof dossier: every proof line of the REM, whether the candidature must
//! deposit it and why, and the deposit progress per chapter.
//!
//! # Which proofs are required
//!
//! Each line of the REM is one checklist item (DSR-HOP-DPI-Va2 §4.3: « Chaque preuve demandée
//! dans Convergence est obligatoire »). The first rule that matches decides:
//!
//! 1. the agency added the proof → required, whatever follows (§3.1: « l'ANS se réserve le
//!    droit d'exiger le dépôt de certaines preuves relevant d'Exigences du Périmètre vague 1 »;
//!    Conforme lets the agency add any proof);
//! 2. the requirement is a *préconisation* (PEUT) → never required;
//! 3. the line carries neither a scenario nor a proof (a requirement without conformity
//!    scenario) → nothing to deposit;
//! 4. the requirement is in the « Vague 1 » perimeter → the wave-1 carry-over rule of §3.1:
//!    - not referenced in HOP-DPI-Va1 → required;
//!    - referenced « avec le Profil "Intégration INS", alors le dépôt des preuves des Exigences
//!      du Périmètre vague 1 n'est pas exigé » → not required;
//!    - referenced « sans le Profil "Intégration INS", alors seul le dépôt des preuves du
//!      Périmètre vague 1 correspondant à ce Profil est exigé » → required only when the
//!      requirement's wave-1 profile is « Intégration INS »;
//! 5. otherwise the requirement applies when its profile is « Général » or one of the profiles
//!    the editor chose (§3.1 « Profils applicables »).
//!
//! # REM profiles and programme profiles
//!
//! Profile names are compared after folding case, accents and spaces (« Equipements mobiles »
//! matches « Équipements mobiles »); a blank profile cell is read as « Général », the safe
//! reading. Outside the « Vague 1 » perimeter a requirement's profile must be one the
//! programme offers, or it can never be chosen ([`profiles_outside_programme`] lists the ones
//! that are not, so that an administrator sees a REM that does not match its programme).
//!
//! Inside the « Vague 1 » perimeter the profile is a *historical* profile of HOP-DPI-Va1 (the
//! REM writes it in both « Profil » and « Profil historique »), not a choice of the wave-2
//! candidature: it never filters the requirement out, it matters only through the carry-over
//! rule. The DSR states that « certaines Exigences de la vague 1 qui relevaient d'un Profil
//! optionnel sont désormais imposées à toute Solution candidate », and the carry-over rule
//! itself requires the « Intégration INS » proofs from a solution that never had that profile,
//! which only makes sense if those requirements bind every wave-2 candidate. The wave-1
//! profile of a requirement is its « Profil historique » when filled, else its « Profil ».
//!
//! # Proof keys
//!
//! A [`ProofKey`] names one line of one requirement, stably across imports of the same REM
//! version and, as long as the numbers do not change, across versions:
//!
//! - the proof number when the line has one (`SC.DMP/UX.12#preuve=DMP/UX.12.01.01`);
//! - else the scenario number (`…#scenario=DMP/UX.12.02`);
//! - else the line's position, from 1, among the requirement's lines (`…#ligne=1`).
//!
//! A number repeated under the same requirement (the bundled REM repeats `DMP/UX.15.01.01`
//! under two scenarios of `SC.DMP/UX.15`) is told apart by its occurrence in file order: the
//! first keeps the bare number, the next ones get `~2`, `~3` … (and `~1` is written explicitly
//! when the number itself contains a `~`). Should a REM repeat a requirement identifier,
//! occurrences and positions run on across its repetitions, so keys stay unique.

use crate::programme::GENERAL_PROFILE;
use crate::rem::{ProofLine, Rem, Requirement, RequirementId, RequirementIdError, RequirementKind};
use crate::text::fold_for_search;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// The wave-1 profile whose possession decides the carry-over (DSR-HOP-DPI-Va2 §3.1).
pub const INS_PROFILE: &str = "Intégration INS";

/// The REM perimeter of the requirements carried over from wave 1.
pub const WAVE1_PERIMETER: &str = "Vague 1";

/// Whether the candidate solution is already referenced in wave 1 (HOP-DPI-Va1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Wave1Status {
    NotReferenced,
    ReferencedWithIns,
    ReferencedWithoutIns,
}

impl Wave1Status {
    pub fn label(self) -> &'static str {
        match self {
            Wave1Status::NotReferenced => "Non référencée en vague 1",
            Wave1Status::ReferencedWithIns => {
                "Référencée en vague 1 avec le profil « Intégration INS »"
            }
            Wave1Status::ReferencedWithoutIns => {
                "Référencée en vague 1 sans le profil « Intégration INS »"
            }
        }
    }
}

/// Which line of a requirement a proof key designates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum ProofSlot {
    /// By proof number; `occurrence` counts from 1 among the requirement's lines with the same
    /// proof number.
    Proof { number: String, occurrence: u32 },
    /// By scenario number, for a line without proof number; `occurrence` counts from 1 among
    /// the requirement's lines keyed by the same scenario number.
    Scenario { number: String, occurrence: u32 },
    /// By position (from 1) among the requirement's lines, for a line with neither number.
    Line { position: u32 },
}

/// One proof line of a REM: requirement identifier and slot. Written and parsed as
/// `ID#preuve=N`, `ID#preuve=N~2`, `ID#scenario=N`, `ID#ligne=P` (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProofKey {
    pub requirement: RequirementId,
    pub slot: ProofSlot,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofKeyError {
    #[error("la clé de preuve « {0} » ne contient pas de « # » entre l'exigence et la preuve")]
    MissingSeparator(String),
    #[error("la clé de preuve « {key} » : {source}")]
    Requirement {
        key: String,
        source: RequirementIdError,
    },
    #[error("la clé de preuve « {0} » doit désigner « preuve=… », « scenario=… » ou « ligne=… »")]
    UnknownSlot(String),
    #[error("la clé de preuve « {0} » a un numéro vide")]
    EmptyNumber(String),
    #[error("la clé de preuve « {0} » a un rang ou une position qui n'est pas un entier positif")]
    BadNumber(String),
}

fn write_numbered(f: &mut fmt::Formatter<'_>, number: &str, occurrence: u32) -> fmt::Result {
    f.write_str(number)?;
    if occurrence != 1 || number.contains('~') {
        write!(f, "~{occurrence}")?;
    }
    Ok(())
}

impl fmt::Display for ProofKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#", self.requirement)?;
        match &self.slot {
            ProofSlot::Proof { number, occurrence } => {
                f.write_str("preuve=")?;
                write_numbered(f, number, *occurrence)
            }
            ProofSlot::Scenario { number, occurrence } => {
                f.write_str("scenario=")?;
                write_numbered(f, number, *occurrence)
            }
            ProofSlot::Line { position } => write!(f, "ligne={position}"),
        }
    }
}

fn positive(raw: &str, key: &str) -> Result<u32, ProofKeyError> {
    match raw.parse::<u32>() {
        Ok(n) if n >= 1 && raw.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(ProofKeyError::BadNumber(key.to_string())),
    }
}

fn split_numbered(raw: &str, key: &str) -> Result<(String, u32), ProofKeyError> {
    let (number, occurrence) = match raw.rsplit_once('~') {
        Some((number, occ)) if !occ.is_empty() && occ.bytes().all(|b| b.is_ascii_digit()) => {
            (number, positive(occ, key)?)
        }
        _ => (raw, 1),
    };
    if number.is_empty() {
        return Err(ProofKeyError::EmptyNumber(key.to_string()));
    }
    Ok((number.to_string(), occurrence))
}

impl ProofKey {
    pub fn parse(raw: &str) -> Result<Self, ProofKeyError> {
        // A requirement identifier never contains '#' (RequirementId refuses it).
        let (id, slot) = raw
            .split_once('#')
            .ok_or_else(|| ProofKeyError::MissingSeparator(raw.to_string()))?;
        let requirement =
            RequirementId::parse(id).map_err(|source| ProofKeyError::Requirement {
                key: raw.to_string(),
                source,
            })?;
        let slot = if let Some(rest) = slot.strip_prefix("preuve=") {
            let (number, occurrence) = split_numbered(rest, raw)?;
            ProofSlot::Proof { number, occurrence }
        } else if let Some(rest) = slot.strip_prefix("scenario=") {
            let (number, occurrence) = split_numbered(rest, raw)?;
            ProofSlot::Scenario { number, occurrence }
        } else if let Some(rest) = slot.strip_prefix("ligne=") {
            ProofSlot::Line {
                position: positive(rest, raw)?,
            }
        } else {
            return Err(ProofKeyError::UnknownSlot(raw.to_string()));
        };
        Ok(Self { requirement, slot })
    }
}

impl TryFrom<String> for ProofKey {
    type Error = ProofKeyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ProofKey> for String {
    fn from(value: ProofKey) -> Self {
        value.to_string()
    }
}

impl std::str::FromStr for ProofKey {
    type Err = ProofKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why the REM (before any addition by the agency) requires a proof or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemBasis {
    /// Profile « Général » or a profile the editor chose.
    ProfileApplies,
    /// Profile the editor did not choose.
    ProfileNotChosen,
    /// A préconisation: never required.
    Preconisation,
    /// A line without scenario nor proof: the REM asks nothing to deposit.
    NoProofAsked,
    /// « Vague 1 » perimeter, solution not referenced in wave 1.
    Wave1NotReferenced,
    /// « Vague 1 » perimeter, covered by a wave-1 référencement with « Intégration INS ».
    Wave1CoveredWithIns,
    /// « Vague 1 » perimeter outside « Intégration INS », covered by a wave-1 référencement
    /// without that profile.
    Wave1CoveredWithoutIns,
    /// « Vague 1 » perimeter, profile « Intégration INS », solution referenced in wave 1
    /// without that profile.
    Wave1InsNotCovered,
}

impl ItemBasis {
    /// Whether this basis alone makes the proof required.
    pub fn requires(self) -> bool {
        matches!(
            self,
            ItemBasis::ProfileApplies
                | ItemBasis::Wave1NotReferenced
                | ItemBasis::Wave1InsNotCovered
        )
    }
}

/// One proof line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    pub key: ProofKey,
    pub requirement: RequirementId,
    pub chapter: String,
    pub fonction: String,
    pub perimetre: String,
    pub profil: String,
    pub kind: RequirementKind,
    pub scenario_number: Option<String>,
    pub scenario_text: Option<String>,
    pub proof_number: Option<String>,
    pub proof_text: Option<String>,
    /// Whether the proof must be deposited for the dossier to be complete.
    pub required: bool,
    /// The agency asked for this proof (it is then required whatever the REM says).
    pub added_by_agency: bool,
    /// The REM's own ground, before any addition by the agency.
    pub basis: ItemBasis,
    /// Why the proof is required or not, in French.
    pub reason: String,
}

/// Required and deposited proofs of a chapter or of the whole dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub required: usize,
    /// Required proofs with a deposit (never more than `required`).
    pub deposited: usize,
    /// `deposited × 100 / required`, rounded down so that 100 means complete; 100 when
    /// nothing is required.
    pub percent: u8,
    /// Every required proof is deposited.
    pub complete: bool,
}

impl Counts {
    fn new(required: usize, deposited: usize) -> Self {
        // Nothing required reads as complete.
        let percent = (deposited.saturating_mul(100))
            .checked_div(required)
            .map_or(100, |p| u8::try_from(p).unwrap_or(100));
        Self {
            required,
            deposited,
            percent,
            complete: deposited >= required,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChapterProgress {
    pub chapter: String,
    pub counts: Counts,
}

/// The deposit progress, per chapter in REM order and overall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub chapters: Vec<ChapterProgress>,
    pub overall: Counts,
}

/// The checklist of a candidature's proof dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checklist {
    /// Every proof line, in REM order.
    pub items: Vec<ChecklistItem>,
    /// The chapters, in the order of their first requirement in the REM.
    pub chapters: Vec<String>,
    /// Keys the agency added that designate no line of this REM (ignored; shown so that the
    /// agency can correct them).
    pub unknown_additions: Vec<ProofKey>,
    pub wave1: Wave1Status,
}

fn fold(s: &str) -> String {
    fold_for_search(s)
}

fn is_general(profile: &str) -> bool {
    let folded = fold(profile);
    folded.is_empty() || folded == fold(GENERAL_PROFILE)
}

fn is_wave1(req: &Requirement) -> bool {
    fold(&req.perimetre) == fold(WAVE1_PERIMETER)
}

/// The wave-1 profile of a « Vague 1 » requirement: « Profil historique » when filled, else
/// « Profil ».
fn wave1_profile(req: &Requirement) -> &str {
    req.profil_historique
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or(&req.profil)
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

fn asks_nothing(line: &ProofLine) -> bool {
    blank(&line.scenario_number)
        && blank(&line.scenario_text)
        && blank(&line.proof_number)
        && blank(&line.proof_text)
}

fn basis(
    req: &Requirement,
    line: &ProofLine,
    chosen: &BTreeSet<String>,
    wave1: Wave1Status,
) -> ItemBasis {
    if req.kind() == RequirementKind::Preconisation {
        return ItemBasis::Preconisation;
    }
    if asks_nothing(line) {
        return ItemBasis::NoProofAsked;
    }
    if is_wave1(req) {
        return match wave1 {
            Wave1Status::NotReferenced => ItemBasis::Wave1NotReferenced,
            Wave1Status::ReferencedWithIns => ItemBasis::Wave1CoveredWithIns,
            Wave1Status::ReferencedWithoutIns if fold(wave1_profile(req)) == fold(INS_PROFILE) => {
                ItemBasis::Wave1InsNotCovered
            }
            Wave1Status::ReferencedWithoutIns => ItemBasis::Wave1CoveredWithoutIns,
        };
    }
    if is_general(&req.profil) || chosen.contains(&fold(&req.profil)) {
        ItemBasis::ProfileApplies
    } else {
        ItemBasis::ProfileNotChosen
    }
}

fn basis_reason(basis: ItemBasis, req: &Requirement) -> String {
    match basis {
        ItemBasis::ProfileApplies if is_general(&req.profil) => {
            "Exigée : exigence du profil « Général », applicable à toute solution candidate."
                .to_string()
        }
        ItemBasis::ProfileApplies => format!(
            "Exigée : exigence du profil « {} », choisi par l'éditeur.",
            req.profil.trim()
        ),
        ItemBasis::ProfileNotChosen => format!(
            "Non exigée : exigence du profil « {} », que l'éditeur n'a pas choisi.",
            req.profil.trim()
        ),
        ItemBasis::Preconisation => {
            "Préconisation : jamais exigée (une préconisation n'est pas vérifiée et n'est jamais un motif de refus)."
                .to_string()
        }
        ItemBasis::NoProofAsked => {
            "Non exigée : le REM ne demande aucune preuve pour cette exigence (ni scénario de conformité ni preuve)."
                .to_string()
        }
        ItemBasis::Wave1NotReferenced => format!(
            "Exigée : Périmètre vague 1 (profil historique « {} »), la solution n'étant pas référencée en vague 1 (HOP-DPI-Va1).",
            wave1_profile(req).trim()
        ),
        ItemBasis::Wave1CoveredWithIns => {
            "Non exigée : Périmètre vague 1 couvert par le référencement vague 1 avec le profil Intégration INS (DSR-HOP-DPI-Va2 §3.1)."
                .to_string()
        }
        ItemBasis::Wave1CoveredWithoutIns => {
            "Non exigée : Périmètre vague 1 couvert par le référencement vague 1 ; la solution n'ayant pas le profil Intégration INS, seules les preuves du Périmètre vague 1 relevant de ce profil sont exigées (DSR-HOP-DPI-Va2 §3.1)."
                .to_string()
        }
        ItemBasis::Wave1InsNotCovered => {
            "Exigée : Périmètre vague 1, profil Intégration INS, que le référencement vague 1 de la solution ne comportait pas (DSR-HOP-DPI-Va2 §3.1)."
                .to_string()
        }
    }
}

fn present(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Assigns keys to the lines of a REM, in order (see the module docs).
#[derive(Default)]
struct KeyMaker {
    occurrences: HashMap<(RequirementId, bool, String), u32>,
    positions: HashMap<RequirementId, u32>,
}

impl KeyMaker {
    fn key(&mut self, id: &RequirementId, line: &ProofLine) -> ProofKey {
        let position = self.positions.entry(id.clone()).or_insert(0);
        *position += 1;
        let position = *position;
        let mut numbered = |is_proof: bool, number: &str| {
            let n = self
                .occurrences
                .entry((id.clone(), is_proof, number.to_string()))
                .or_insert(0);
            *n += 1;
            (number.to_string(), *n)
        };
        let slot = if let Some(number) = present(&line.proof_number) {
            let (number, occurrence) = numbered(true, number);
            ProofSlot::Proof { number, occurrence }
        } else if let Some(number) = present(&line.scenario_number) {
            let (number, occurrence) = numbered(false, number);
            ProofSlot::Scenario { number, occurrence }
        } else {
            ProofSlot::Line { position }
        };
        ProofKey {
            requirement: id.clone(),
            slot,
        }
    }
}

/// The keys of every line of `rem`, in REM order (the keys [`required_proofs`] gives its
/// items). A requirement without any line counts as one empty line.
pub fn proof_keys(rem: &Rem) -> Vec<ProofKey> {
    let mut maker = KeyMaker::default();
    let empty = [ProofLine::default()];
    rem.requirements
        .iter()
        .flat_map(|req| {
            let lines: &[ProofLine] = if req.lines.is_empty() {
                &empty
            } else {
                &req.lines
            };
            lines.iter().map(move |l| (req, l))
        })
        .map(|(req, line)| maker.key(&req.id, line))
        .collect()
}

/// The checklist of a candidature: every proof line of `rem`, required or not with its
/// reason, for the chosen `profiles`, the wave-1 status and the proofs the agency added.
pub fn required_proofs(
    rem: &Rem,
    profiles: &[String],
    wave1: Wave1Status,
    agency_additions: &[ProofKey],
) -> Checklist {
    let chosen: BTreeSet<String> = profiles.iter().map(|p| fold(p)).collect();
    let added: BTreeSet<&ProofKey> = agency_additions.iter().collect();
    let mut items = Vec::with_capacity(rem.proof_line_count());
    let mut chapters: Vec<String> = Vec::new();
    let mut maker = KeyMaker::default();
    let empty = [ProofLine::default()];
    for req in &rem.requirements {
        if !chapters.contains(&req.chapitre) {
            chapters.push(req.chapitre.clone());
        }
        let lines: &[ProofLine] = if req.lines.is_empty() {
            &empty
        } else {
            &req.lines
        };
        for line in lines {
            let key = maker.key(&req.id, line);
            let basis = basis(req, line, &chosen, wave1);
            let added_by_agency = added.contains(&key);
            let base_reason = basis_reason(basis, req);
            let reason = match (added_by_agency, basis.requires()) {
                (false, _) => base_reason,
                (true, false) => format!("Ajoutée par l'ANS ; sans cet ajout : {base_reason}"),
                (true, true) => format!("{base_reason} Également demandée par l'ANS."),
            };
            items.push(ChecklistItem {
                key,
                requirement: req.id.clone(),
                chapter: req.chapitre.clone(),
                fonction: req.fonction.clone(),
                perimetre: req.perimetre.clone(),
                profil: req.profil.clone(),
                kind: req.kind(),
                scenario_number: line.scenario_number.clone(),
                scenario_text: line.scenario_text.clone(),
                proof_number: line.proof_number.clone(),
                proof_text: line.proof_text.clone(),
                required: added_by_agency || basis.requires(),
                added_by_agency,
                basis,
                reason,
            });
        }
    }
    let known: BTreeSet<&ProofKey> = items.iter().map(|i| &i.key).collect();
    let unknown_additions = added
        .into_iter()
        .filter(|k| !known.contains(k))
        .cloned()
        .collect();
    Checklist {
        items,
        chapters,
        unknown_additions,
        wave1,
    }
}

impl Checklist {
    pub fn item(&self, key: &ProofKey) -> Option<&ChecklistItem> {
        self.items.iter().find(|i| &i.key == key)
    }

    pub fn required(&self) -> impl Iterator<Item = &ChecklistItem> {
        self.items.iter().filter(|i| i.required)
    }

    /// The required proofs without a deposit, in REM order.
    pub fn missing<'a>(
        &'a self,
        deposited: impl IntoIterator<Item = &'a ProofKey>,
    ) -> Vec<&'a ChecklistItem> {
        let deposited: BTreeSet<&ProofKey> = deposited.into_iter().collect();
        self.required()
            .filter(|i| !deposited.contains(&i.key))
            .collect()
    }

    /// Deposit progress per chapter (REM order) and overall, given the keys that have a
    /// deposited proof. Deposits of proofs that are not required, or unknown to this REM,
    /// are not counted.
    pub fn progress<'a>(&self, deposited: impl IntoIterator<Item = &'a ProofKey>) -> Progress {
        let deposited: BTreeSet<&ProofKey> = deposited.into_iter().collect();
        let mut per_chapter: Vec<(usize, usize)> = vec![(0, 0); self.chapters.len()];
        for item in self.required() {
            if let Some(i) = self.chapters.iter().position(|c| c == &item.chapter) {
                per_chapter[i].0 += 1;
                if deposited.contains(&item.key) {
                    per_chapter[i].1 += 1;
                }
            }
        }
        let (required, done) = per_chapter
            .iter()
            .fold((0, 0), |(r, d), (cr, cd)| (r + cr, d + cd));
        Progress {
            chapters: self
                .chapters
                .iter()
                .zip(per_chapter)
                .map(|(chapter, (r, d))| ChapterProgress {
                    chapter: chapter.clone(),
                    counts: Counts::new(r, d),
                })
                .collect(),
            overall: Counts::new(required, done),
        }
    }
}

/// Profiles of requirements outside the « Vague 1 » perimeter that the programme does not
/// offer (compared folded, « Général » excepted), in REM order: their requirements can never
/// be chosen, which signals a REM that does not match its programme.
pub fn profiles_outside_programme(rem: &Rem, programme_profiles: &[String]) -> Vec<String> {
    let offered: BTreeSet<String> = programme_profiles.iter().map(|p| fold(p)).collect();
    let mut out: Vec<String> = Vec::new();
    for req in rem.requirements.iter().filter(|r| !is_wave1(r)) {
        let name = req.profil.trim();
        if !is_general(name)
            && !offered.contains(&fold(name))
            && !out.iter().any(|o| fold(o) == fold(name))
        {
            out.push(name.to_string());
        }
    }
    out
}
