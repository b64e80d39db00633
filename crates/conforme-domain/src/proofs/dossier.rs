//! The proof dossier of one candidature, as a value: what the agency added to its checklist,
//! the chapters submitted, the complete-dossier date, the instruction's dated events, the
//! verdicts per proof, the penetration-test results and the test session. Every operation is
//! pure: it takes the time and the programme, checks the rule, and changes the value or says
//! why not, in French. The store keeps the value and the deposited files; the web layer only
//! calls these functions.
//!
//! A deposit target is either a proof line of the REM ([`ProofKey`]) or an extra piece of the
//! programme (`piece:CODE`, e.g. `piece:pentest-report`), see [`Target`].

use super::checklist::{Checklist, ProofKey, Wave1Status};
use super::cutoff::{Admission, CutOffError, ExchangeKind, check_complete_dossier, check_exchange};
use super::instruction::{ClockError, InstructionClock, InstructionEvent, InstructionRules};
use super::pentest::{ControlPoint, PentestError, PentestVerdict, pentest_verdict};
use crate::calendar::{deadline_after_days, french_deadline};
use crate::programme::{Programme, TestSessionDef, TestSessionStart};
use crate::rem::RequirementId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The extra piece whose deposit may come after Date 3 for an editor whose CNDA homologation
/// was pre-examined.
pub const CNDA_PIECE: &str = "cnda-homologation";
/// The penetration-test report.
pub const PENTEST_PIECE: &str = "pentest-report";

/// What a deposited file is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Target {
    Proof(ProofKey),
    /// An extra piece of the programme, by code.
    Piece(String),
    /// The recording of the test session.
    TestRecording,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Proof(k) => write!(f, "{k}"),
            Target::Piece(code) => write!(f, "piece:{code}"),
            Target::TestRecording => f.write_str("session-de-test"),
        }
    }
}

impl Target {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw == "session-de-test" {
            return Ok(Target::TestRecording);
        }
        if let Some(code) = raw.strip_prefix("piece:") {
            if code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(format!("pièce « {raw} » : code invalide"));
            }
            return Ok(Target::Piece(code.to_string()));
        }
        ProofKey::parse(raw)
            .map(Target::Proof)
            .map_err(|e| e.to_string())
    }
}

impl TryFrom<String> for Target {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Target> for String {
    fn from(value: Target) -> Self {
        value.to_string()
    }
}

/// A submitted chapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChapterRecord {
    pub submitted_at: DateTime<Utc>,
}

/// An instructor's verdict on one deposit target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub compliant: bool,
    pub reason: Option<String>,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// The control-point results of the penetration-test report and their verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PentestRecord {
    pub points: Vec<ControlPoint>,
    pub entered_at: DateTime<Utc>,
}

impl PentestRecord {
    pub fn verdict(&self) -> Result<PentestVerdict, PentestError> {
        pentest_verdict(&self.points)
    }
}

/// The outcome of one scenario at the test session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioOutcome {
    pub scenario: String,
    pub passed: bool,
    pub comment: String,
}

/// The test session of the instruction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestSession {
    pub proposed_at: DateTime<Utc>,
    pub date: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub outcomes: Vec<ScenarioOutcome>,
    pub recorded_at: Option<DateTime<Utc>>,
}

/// The proof dossier of a candidature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofDossier {
    /// The REM version the checklist is computed from (the programme's current one at opening).
    pub rem_version: String,
    pub wave1: Wave1Status,
    /// Proofs the agency added to the checklist.
    #[serde(default)]
    pub additions: Vec<ProofKey>,
    #[serde(default)]
    pub chapters: BTreeMap<String, ChapterRecord>,
    /// The complete-dossier date: the submission that completed the dossier.
    #[serde(default)]
    pub complete_at: Option<DateTime<Utc>>,
    /// The instruction's dated events, in order.
    #[serde(default)]
    pub events: Vec<InstructionEvent>,
    /// The instructor in charge (user id).
    #[serde(default)]
    pub assigned_to: Option<String>,
    /// Verdicts by target (`Target` as text).
    #[serde(default)]
    pub verdicts: BTreeMap<String, Verdict>,
    #[serde(default)]
    pub pentest: Option<PentestRecord>,
    /// The editor's CNDA homologation was pre-examined (compte rendu de pré-examen
    /// déclenchant une date d'examen), as the agency recorded.
    #[serde(default)]
    pub cnda_pre_examined: bool,
    #[serde(default)]
    pub test_session: Option<TestSession>,
}

/// Why an operation on the proof dossier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DossierError {
    #[error(transparent)]
    CutOff(#[from] CutOffError),
    #[error(transparent)]
    Clock(#[from] ClockError),
    #[error("{message}")]
    Incomplete {
        message: String,
        missing: Vec<String>,
    },
    #[error("{0}")]
    Refused(String),
}

/// The wave-1 status the administrative dossier implies, before the agency checks the
/// wave-1 attestation: not referenced, or referenced without « Intégration INS » (the
/// stricter reading; the agency records « avec INS » from the attestation).
pub fn initial_wave1(wave1_referenced: Option<bool>) -> Wave1Status {
    match wave1_referenced {
        Some(true) => Wave1Status::ReferencedWithoutIns,
        _ => Wave1Status::NotReferenced,
    }
}

impl ProofDossier {
    pub fn new(rem_version: &str, wave1: Wave1Status) -> Self {
        Self {
            rem_version: rem_version.to_string(),
            wave1,
            additions: vec![],
            chapters: BTreeMap::new(),
            complete_at: None,
            events: vec![],
            assigned_to: None,
            verdicts: BTreeMap::new(),
            pentest: None,
            cnda_pre_examined: false,
            test_session: None,
        }
    }

    /// The instruction clock of this dossier.
    pub fn clock(&self, rules: InstructionRules) -> Result<InstructionClock, ClockError> {
        InstructionClock::from_events(rules, &self.events)
    }

    fn decided(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, InstructionEvent::Decided(_)))
    }

    /// Whether a question of the agency waits for the editor's answer.
    pub fn question_pending(&self) -> bool {
        let mut pending = false;
        for e in &self.events {
            match e {
                InstructionEvent::QuestionAsked(_) => pending = true,
                InstructionEvent::Answered(_) | InstructionEvent::Decided(_) => pending = false,
                InstructionEvent::ChapterComplete(_) => {}
            }
        }
        pending
    }

    /// Whether the editor may deposit a file for `target` at `now`, and under which rule.
    ///
    /// Before the dossier is complete, deposits build it and close with the last date for a
    /// complete dossier (Date 2bis). Once complete, a deposit is an exchange: closed after
    /// Date 3, a new penetration-test report until Date 3, the CNDA attestation of a
    /// pre-examined homologation at any time.
    pub fn deposit_admission(
        &self,
        programme: &Programme,
        target: &Target,
        now: DateTime<Utc>,
    ) -> Result<Admission, DossierError> {
        if self.decided() {
            return Err(DossierError::Refused(
                "L'instruction de ce dossier est close : aucun dépôt n'est plus possible.".into(),
            ));
        }
        let exchange = match target {
            Target::Piece(code) if code == CNDA_PIECE && self.cnda_pre_examined => {
                Some(ExchangeKind::CndaAttestationAfterPreExamination)
            }
            Target::Piece(code) if code == PENTEST_PIECE => Some(ExchangeKind::PentestReport),
            _ if self.complete_at.is_some() => Some(ExchangeKind::ProofRedeposit),
            _ => None,
        };
        Ok(match exchange {
            Some(kind) => {
                let admitted = check_exchange(programme, now, kind)?;
                // A penetration-test report before the dossier is complete also builds it.
                if kind == ExchangeKind::PentestReport && self.complete_at.is_none() {
                    check_complete_dossier(programme, now)?;
                }
                admitted
            }
            None => check_complete_dossier(programme, now)?,
        })
    }

    /// The mandatory extra pieces of the programme without a deposit.
    pub fn missing_pieces<'a>(
        programme: &'a Programme,
        deposited: &BTreeSet<Target>,
    ) -> Vec<&'a str> {
        programme
            .def
            .extra_pieces
            .iter()
            .filter(|p| p.mandatory && !deposited.contains(&Target::Piece(p.code.clone())))
            .map(|p| p.label.as_str())
            .collect()
    }

    /// Submits one chapter (`Some`) or the whole dossier (`None`) at `now`.
    ///
    /// A submitted chapter must have every required proof deposited; the whole dossier also
    /// needs the programme's mandatory extra pieces. The first complete chapter puts the
    /// dossier in the instruction queue; the submission after which every chapter is
    /// submitted and every piece is in is the complete-dossier date, refused after Date 2bis.
    /// Once complete, a new submission (proofs redeposited after a question or a verdict)
    /// is an exchange, refused after Date 3.
    pub fn submit(
        &mut self,
        programme: &Programme,
        checklist: &Checklist,
        deposited: &BTreeSet<Target>,
        chapter: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Submission, DossierError> {
        if self.decided() {
            return Err(DossierError::Refused(
                "L'instruction de ce dossier est close : aucun dépôt n'est plus possible.".into(),
            ));
        }
        let rule = match self.complete_at {
            None => check_complete_dossier(programme, now)?.rule,
            Some(_) => check_exchange(programme, now, ExchangeKind::ProofRedeposit)?.rule,
        };
        let chapters: Vec<&String> = match chapter {
            Some(name) => {
                let found = checklist.chapters.iter().find(|c| c.as_str() == name);
                vec![found.ok_or_else(|| {
                    DossierError::Refused(format!(
                        "Le chapitre « {name} » n'existe pas dans la version {} du REM.",
                        self.rem_version
                    ))
                })?]
            }
            None => checklist
                .chapters
                .iter()
                .filter(|c| checklist.required().any(|i| &&i.chapter == c))
                .collect(),
        };
        if let Some(name) = chapter
            && !checklist.required().any(|i| i.chapter == name)
        {
            return Err(DossierError::Refused(format!(
                "Le chapitre « {name} » ne demande aucune preuve pour ce dossier : il n'y a rien à soumettre."
            )));
        }
        let keys: BTreeSet<&ProofKey> = deposited
            .iter()
            .filter_map(|t| match t {
                Target::Proof(k) => Some(k),
                _ => None,
            })
            .collect();
        let mut missing: Vec<String> = checklist
            .missing(keys.iter().copied())
            .into_iter()
            .filter(|i| chapters.contains(&&i.chapter))
            .map(|i| format!("{} — {}", i.key, i.chapter))
            .collect();
        if chapter.is_none() {
            missing.extend(
                Self::missing_pieces(programme, deposited)
                    .into_iter()
                    .map(|p| format!("Pièce : {p}")),
            );
        }
        if !missing.is_empty() {
            let what = match chapter {
                Some(c) => format!("Le chapitre « {c} »"),
                None => "Le dossier de preuves".to_string(),
            };
            return Err(DossierError::Incomplete {
                message: format!(
                    "{what} est incomplet : {} preuve(s) ou pièce(s) requise(s) manquante(s).",
                    missing.len()
                ),
                missing,
            });
        }
        // Work on a copy: a refusal below leaves the dossier as it was.
        let mut next = self.clone();
        let rules = InstructionRules::for_programme(programme);
        let mut newly = vec![];
        for c in &chapters {
            if !next.chapters.contains_key(c.as_str()) {
                newly.push((*c).clone());
            }
            next.chapters
                .insert((*c).clone(), ChapterRecord { submitted_at: now });
        }
        let every_chapter = checklist
            .chapters
            .iter()
            .filter(|c| checklist.required().any(|i| &&i.chapter == c))
            .all(|c| next.chapters.contains_key(c));
        let pieces_in = Self::missing_pieces(programme, deposited).is_empty();
        let completed = next.complete_at.is_none() && every_chapter && pieces_in;
        let queued = next
            .events
            .iter()
            .any(|e| matches!(e, InstructionEvent::ChapterComplete(_)));
        if rules.queue_on_complete_dossier {
            // BIO: the complete dossier is the one receipt.
            if completed && !queued {
                next.push_event(&rules, InstructionEvent::ChapterComplete(now))?;
            }
        } else {
            // Each newly complete chapter is a receipt; a redeposit of a chapter already in
            // instruction is not a new place in the queue.
            for _ in &newly {
                next.push_event(&rules, InstructionEvent::ChapterComplete(now))?;
            }
            if completed && !queued && newly.is_empty() {
                next.push_event(&rules, InstructionEvent::ChapterComplete(now))?;
            }
        }
        if completed {
            next.complete_at = Some(now);
        }
        *self = next;
        Ok(Submission {
            chapters: newly,
            completed,
            rule,
        })
    }

    fn push_event(
        &mut self,
        rules: &InstructionRules,
        event: InstructionEvent,
    ) -> Result<(), ClockError> {
        // Validated against the clock so that an impossible sequence is never stored.
        let mut events = self.events.clone();
        events.push(event);
        InstructionClock::from_events(rules.clone(), &events)?;
        self.events = events;
        Ok(())
    }

    /// The agency asks the editor something: the instruction clock stops. Returns the
    /// abandonment due time (30 days) and the place-keeping due time (24 hours).
    pub fn ask(
        &mut self,
        rules: &InstructionRules,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), DossierError> {
        let mut clock = self.clock(rules.clone())?;
        clock.apply(InstructionEvent::QuestionAsked(now))?;
        self.events.push(InstructionEvent::QuestionAsked(now));
        let stop = clock
            .stops()
            .last()
            .ok_or_else(|| DossierError::Refused("sollicitation non enregistrée".into()))?;
        Ok((stop.abandonment_due, stop.keep_place_due))
    }

    /// The editor answers the pending question at `now`: refused after Date 3 (no exchange
    /// is instructed) and after the 30-day abandonment. Returns whether the queue place was
    /// kept (answer within 24 hours).
    pub fn answer(
        &mut self,
        programme: &Programme,
        rules: &InstructionRules,
        now: DateTime<Utc>,
    ) -> Result<bool, DossierError> {
        check_exchange(programme, now, ExchangeKind::Answer)?;
        let mut clock = self.clock(rules.clone())?;
        clock.apply(InstructionEvent::Answered(now))?;
        self.events.push(InstructionEvent::Answered(now));
        Ok(clock
            .stops()
            .last()
            .and_then(|s| s.place_kept())
            .unwrap_or(true))
    }

    /// Records the instructor's verdict on a target.
    pub fn rule_on(
        &mut self,
        target: &Target,
        compliant: bool,
        reason: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DossierError> {
        if self.decided() {
            return Err(DossierError::Refused(
                "L'instruction de ce dossier est close.".into(),
            ));
        }
        if self.chapters.is_empty() && self.complete_at.is_none() {
            return Err(DossierError::Refused(
                "Aucun chapitre n'a encore été soumis : rien n'est à instruire.".into(),
            ));
        }
        let reason = reason.trim();
        if !compliant && reason.is_empty() {
            return Err(DossierError::Refused(
                "Un avis non conforme doit être motivé : indiquez la raison.".into(),
            ));
        }
        if reason.chars().count() > 4000 {
            return Err(DossierError::Refused(
                "La motivation dépasse 4 000 caractères.".into(),
            ));
        }
        self.verdicts.insert(
            target.to_string(),
            Verdict {
                compliant,
                reason: (!reason.is_empty()).then(|| reason.to_string()),
                by: by.to_string(),
                at: now,
            },
        );
        Ok(())
    }

    /// Adds a proof line to the checklist (the agency may ask for any proof, wave 1
    /// included); refused for a key this REM does not have.
    pub fn add_proof(
        &mut self,
        all_keys: &[ProofKey],
        key: ProofKey,
    ) -> Result<bool, DossierError> {
        if !all_keys.contains(&key) {
            return Err(DossierError::Refused(format!(
                "La preuve « {key} » n'existe pas dans la version {} du REM.",
                self.rem_version
            )));
        }
        if self.additions.contains(&key) {
            return Ok(false);
        }
        self.additions.push(key);
        Ok(true)
    }

    /// Records the control-point results of the penetration-test report.
    pub fn enter_pentest(
        &mut self,
        points: Vec<ControlPoint>,
        now: DateTime<Utc>,
    ) -> Result<PentestVerdict, DossierError> {
        let verdict = pentest_verdict(&points).map_err(|e| DossierError::Refused(e.to_string()))?;
        self.pentest = Some(PentestRecord {
            points,
            entered_at: now,
        });
        Ok(verdict)
    }
}

/// What a submission did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submission {
    /// Chapters submitted for the first time.
    pub chapters: Vec<String>,
    /// This submission completed the dossier (its complete-dossier date).
    pub completed: bool,
    pub rule: String,
}

/// The status of a requirement from the verdicts on its required proofs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequirementStatus {
    /// No required proof.
    NotRequired,
    /// Some required proof has no verdict yet.
    Pending,
    /// Every required proof is compliant.
    Compliant,
    /// Some required proof is not compliant.
    NotCompliant,
}

impl RequirementStatus {
    pub fn label(self) -> &'static str {
        match self {
            RequirementStatus::NotRequired => "Non requise",
            RequirementStatus::Pending => "À instruire",
            RequirementStatus::Compliant => "Conforme",
            RequirementStatus::NotCompliant => "Non conforme",
        }
    }
}

/// The status of each requirement of the checklist, in REM order.
pub fn requirement_statuses(
    checklist: &Checklist,
    verdicts: &BTreeMap<String, Verdict>,
) -> Vec<(RequirementId, RequirementStatus)> {
    let mut out: Vec<(RequirementId, RequirementStatus)> = vec![];
    for item in &checklist.items {
        let status = if !item.required {
            RequirementStatus::NotRequired
        } else {
            match verdicts.get(&item.key.to_string()) {
                None => RequirementStatus::Pending,
                Some(v) if v.compliant => RequirementStatus::Compliant,
                Some(_) => RequirementStatus::NotCompliant,
            }
        };
        match out.last_mut() {
            Some((id, s)) if *id == item.requirement => *s = combine(*s, status),
            _ => out.push((item.requirement.clone(), status)),
        }
    }
    out
}

fn combine(a: RequirementStatus, b: RequirementStatus) -> RequirementStatus {
    use RequirementStatus::*;
    match (a, b) {
        (NotCompliant, _) | (_, NotCompliant) => NotCompliant,
        (Pending, _) | (_, Pending) => Pending,
        (Compliant, _) | (_, Compliant) => Compliant,
        _ => NotRequired,
    }
}

/// Whether every required proof and every assessed mandatory piece is compliant: the
/// condition for the convention (DSR-HOP-DPI-Va2 §4.5).
pub fn all_valid(programme: &Programme, checklist: &Checklist, d: &ProofDossier) -> bool {
    let ok = |t: &Target| d.verdicts.get(&t.to_string()).is_some_and(|v| v.compliant);
    checklist
        .required()
        .all(|i| ok(&Target::Proof(i.key.clone())))
        && programme
            .def
            .extra_pieces
            .iter()
            .filter(|p| p.mandatory && p.assessed)
            .all(|p| ok(&Target::Piece(p.code.clone())))
}

/// When the test session is due for this dossier, if the programme has one that applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestWindow {
    pub label: String,
    /// The session is open (its starting event happened).
    pub opened_at: Option<DateTime<Utc>>,
    /// The last day on which it may be held.
    pub due: Option<DateTime<Utc>>,
    pub rule: String,
}

/// The test session this dossier must hold, if any: the INS test day (HOP-DPI-Va2, solutions
/// not referenced in wave 1) opens when every required proof of its chapter is deposited and
/// is held within two weeks; the BIO and DUI-PDE sessions are held within four weeks of the
/// start of the instruction.
pub fn test_window(
    def: Option<&TestSessionDef>,
    d: &ProofDossier,
    checklist: &Checklist,
    deposited: &BTreeSet<Target>,
    chapter_done_at: Option<DateTime<Utc>>,
) -> Option<TestWindow> {
    let def = def?;
    if def.only_if_not_wave1 && d.wave1 != Wave1Status::NotReferenced {
        return None;
    }
    let opened_at = match def.from {
        TestSessionStart::InstructionStart => d.events.iter().find_map(|e| match e {
            InstructionEvent::ChapterComplete(at) => Some(*at),
            _ => None,
        }),
        TestSessionStart::ChapterDeposited => {
            let chapter = def.chapter.as_deref().unwrap_or_default();
            let all_in = checklist
                .required()
                .filter(|i| i.chapter == chapter)
                .all(|i| deposited.contains(&Target::Proof(i.key.clone())));
            if all_in { chapter_done_at } else { None }
        }
    };
    let due = opened_at.map(|at| deadline_after_days(at, def.within_days));
    let rule = match (def.from, due) {
        (_, Some(due)) => format!(
            "{} à tenir au plus tard le {} ({}).",
            def.label,
            french_deadline(due),
            def.description
        ),
        (TestSessionStart::ChapterDeposited, None) => format!(
            "{} : ouverte une fois déposées toutes les preuves requises du chapitre « {} », puis à tenir dans les {} jours ({}).",
            def.label,
            def.chapter.as_deref().unwrap_or_default(),
            def.within_days,
            def.description
        ),
        (TestSessionStart::InstructionStart, None) => format!(
            "{} : à tenir dans les {} jours suivant le début de l'instruction ({}).",
            def.label, def.within_days, def.description
        ),
    };
    Some(TestWindow {
        label: def.label.clone(),
        opened_at,
        due,
        rule,
    })
}

impl ProofDossier {
    /// The agency proposes the test session's date; it must fall within the window.
    pub fn propose_test(
        &mut self,
        window: &TestWindow,
        date: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), DossierError> {
        let (Some(_), Some(due)) = (window.opened_at, window.due) else {
            return Err(DossierError::Refused(format!(
                "{} n'est pas encore ouverte : {}",
                window.label, window.rule
            )));
        };
        if date < now {
            return Err(DossierError::Refused(
                "La date proposée est déjà passée.".into(),
            ));
        }
        if date > due {
            return Err(DossierError::Refused(format!(
                "La date proposée est trop tardive : {}",
                window.rule
            )));
        }
        if self
            .test_session
            .as_ref()
            .is_some_and(|t| t.recorded_at.is_some())
        {
            return Err(DossierError::Refused(
                "Le résultat de la session de test est déjà consigné.".into(),
            ));
        }
        self.test_session = Some(TestSession {
            proposed_at: now,
            date,
            confirmed_at: None,
            outcomes: vec![],
            recorded_at: None,
        });
        Ok(())
    }

    /// The editor confirms the proposed date.
    pub fn confirm_test(&mut self, now: DateTime<Utc>) -> Result<(), DossierError> {
        let t = self.test_session.as_mut().ok_or_else(|| {
            DossierError::Refused("Aucune date de session de test n'est proposée.".into())
        })?;
        if t.confirmed_at.is_some() {
            return Err(DossierError::Refused("La date est déjà confirmée.".into()));
        }
        t.confirmed_at = Some(now);
        Ok(())
    }

    /// The agency records the outcome per scenario, once the date is confirmed.
    pub fn record_test(
        &mut self,
        outcomes: Vec<ScenarioOutcome>,
        recording_in: bool,
        now: DateTime<Utc>,
    ) -> Result<(), DossierError> {
        let t = self
            .test_session
            .as_mut()
            .ok_or_else(|| DossierError::Refused("Aucune session de test n'est prévue.".into()))?;
        if t.confirmed_at.is_none() {
            return Err(DossierError::Refused(
                "L'éditeur n'a pas encore confirmé la date de la session.".into(),
            ));
        }
        if now < t.date {
            return Err(DossierError::Refused(format!(
                "La session de test est prévue le {} : son résultat se consigne une fois tenue.",
                crate::calendar::french_instant(t.date)
            )));
        }
        if !recording_in {
            return Err(DossierError::Refused(
                "L'enregistrement de la session n'est pas encore déposé.".into(),
            ));
        }
        if outcomes.is_empty() {
            return Err(DossierError::Refused(
                "Indiquez le résultat d'au moins un scénario.".into(),
            ));
        }
        if let Some(o) = outcomes
            .iter()
            .find(|o| !o.passed && o.comment.trim().is_empty())
        {
            return Err(DossierError::Refused(format!(
                "Le scénario {} est en échec : indiquez pourquoi.",
                o.scenario
            )));
        }
        t.outcomes = outcomes;
        t.recorded_at = Some(now);
        Ok(())
    }
}
