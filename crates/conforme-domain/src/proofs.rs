//! The proof dossier and its instruction (DSR-HOP-DPI-Va2 §3.1, §3.2.6, §4.3, §4.4;
//! DSR-BIO-SGL-Va1 §4.3, §4.4): which proofs a candidature must deposit, the penetration-test
//! threshold, the deposit cut-offs (Date 2bis, Date 3 and its CNDA exception) and the
//! instruction clocks (queue place, stops, abandonment, time spent).
//!
//! Every rule is pure and synchronous. Every refusal and every computed deadline carries its
//! rule in French, with the date in Paris time, so that the editor and the agency read the
//! same explanation.
//!
//! - [`checklist`] — [`required_proofs`] and [`Checklist::progress`];
//! - [`pentest`] — [`pentest_verdict`];
//! - [`checks`] — [`file_checks`], [`pentest_checks`] and [`parse_pentest_csv`];
//! - [`cutoff`] — [`check_complete_dossier`] and [`check_exchange`];
//! - [`instruction`] — [`InstructionClock`].

use chrono::{DateTime, Utc};
use serde::Serialize;

pub mod checklist;
pub mod checks;
pub mod cutoff;
pub mod dossier;
pub mod instruction;
pub mod pentest;

pub use checklist::{
    ChapterProgress, Checklist, ChecklistItem, Counts, INS_PROFILE, ItemBasis, Progress, ProofKey,
    ProofKeyError, ProofSlot, WAVE1_PERIMETER, Wave1Status, profiles_outside_programme, proof_keys,
    required_proofs,
};
pub use checks::{
    ArchiveFacts, CheckOutcome, CheckStatus, FileFacts, FileNature, PentestImportError,
    expected_natures, file_checks, nature_of, parse_pentest_csv, pentest_checks,
};
pub use cutoff::{Admission, CutOffError, ExchangeKind, check_complete_dossier, check_exchange};
pub use dossier::{
    CNDA_PIECE, ChapterRecord, DossierError, PENTEST_PIECE, PentestRecord, ProofDossier,
    RequirementStatus, ScenarioOutcome, Submission, Target, TestSession, TestWindow, Verdict,
    all_valid, initial_wave1, requirement_statuses, test_window,
};
pub use instruction::{
    ClockError, IndicativeComparison, InstructionClock, InstructionEvent, InstructionRules,
    LateAnswerEffect, QueueMove, QueuePlace, Stop,
};
pub use pentest::{
    ControlPoint, ControlResult, MAX_FAILED_HIGH, MAX_FAILED_MEDIUM, PentestError, PentestVerdict,
    Severity, pentest_verdict,
};

/// A computed deadline: the instant it falls at and the rule that sets it, in French.
/// It is met by anything received at or before `due`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub due: DateTime<Utc>,
    pub rule: String,
}

impl Deadline {
    /// Whether something received at `at` meets the deadline (`at <= due`).
    pub fn is_met_by(&self, at: DateTime<Utc>) -> bool {
        at <= self.due
    }
}

#[cfg(test)]
mod tests;
