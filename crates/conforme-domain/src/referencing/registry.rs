//! The public registry of a programme (DSR-HOP-DPI-Va2 §4.2.4): candidates under instruction
//! are published with their editor and solution only (the confidentiality rule); referenced
//! solutions with what establishments need to check eligibility.
//!
//! This is the one place that decides what of a candidature becomes public: the registry
//! pages, the open-data files and the API all go through [`entry`].

use super::state::{Referencing, Standing};
use crate::candidature::CandidatureState;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// What the registry may read of a candidature.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub state: CandidatureState,
    pub deposited_at: Option<DateTime<Utc>>,
    pub editor: &'a str,
    pub solution: &'a str,
    pub technical_version: &'a str,
    pub profiles: &'a [String],
    pub referencing: Option<&'a Referencing>,
}

/// A public line of the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Entry {
    /// Under instruction: editor and solution, nothing else.
    UnderInstruction {
        editor: String,
        solution: String,
    },
    Referenced(ReferencedEntry),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferencedEntry {
    pub editor: String,
    pub solution: String,
    pub technical_version: String,
    /// Later versions declared under upward compatibility.
    pub compatible_versions: Vec<String>,
    pub profiles: Vec<String>,
    pub referenced_on: NaiveDate,
    pub number: String,
    pub standing: Standing,
    /// When and why the standing last changed (suspension, withdrawal).
    pub standing_since: NaiveDate,
    pub standing_reason: Option<String>,
}

/// The public line of a candidature, if it has one: a deposited candidature still on its
/// way (not rejected, abandoned or refused) is under instruction; a référencement is public
/// with its standing, withdrawn ones included so that nobody relies on them unknowingly.
pub fn entry(f: &Facts<'_>) -> Option<Entry> {
    let r = f.referencing;
    if let Some(r) = r
        && let (Some(number), Some(at), Some(last)) =
            (&r.number, r.referenced_at, r.standing.last())
    {
        return Some(Entry::Referenced(ReferencedEntry {
            editor: f.editor.to_string(),
            solution: f.solution.to_string(),
            technical_version: f.technical_version.to_string(),
            compatible_versions: r
                .versions
                .iter()
                .map(|v| v.technical_version.clone())
                .collect(),
            profiles: f.profiles.to_vec(),
            referenced_on: crate::calendar::paris_date(at),
            number: number.clone(),
            standing: last.standing,
            standing_since: crate::calendar::paris_date(last.at),
            standing_reason: (last.standing != Standing::Valid).then(|| last.reason.clone()),
        }));
    }
    let on_its_way = matches!(
        f.state,
        CandidatureState::Submitted
            | CandidatureState::ComplementRequested
            | CandidatureState::Validated
    );
    let refused = r.is_some_and(|r| r.refused.is_some());
    (f.deposited_at.is_some() && on_its_way && !refused).then(|| Entry::UnderInstruction {
        editor: f.editor.to_string(),
        solution: f.solution.to_string(),
    })
}

/// The registry's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Every deposited candidature, whatever became of it.
    pub candidates: usize,
    pub under_instruction: usize,
    /// Référencements in force (valid or suspended).
    pub referenced: usize,
    pub suspended: usize,
    pub withdrawn: usize,
}

/// Counts the registry of the candidatures `facts` (deposited or not).
pub fn counts(facts: &[Facts<'_>]) -> Counts {
    let mut c = Counts::default();
    for f in facts {
        if f.deposited_at.is_some() {
            c.candidates += 1;
        }
        match entry(f) {
            Some(Entry::UnderInstruction { .. }) => c.under_instruction += 1,
            Some(Entry::Referenced(e)) => match e.standing {
                Standing::Valid => c.referenced += 1,
                Standing::Suspended => {
                    c.referenced += 1;
                    c.suspended += 1;
                }
                Standing::Withdrawn => c.withdrawn += 1,
            },
            None => {}
        }
    }
    c
}

/// "5 référencées sur 34 candidatures".
pub fn summary(c: &Counts) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n > 1 { many } else { one });
    format!(
        "{} sur {}",
        plural(c.referenced, "solution référencée", "solutions référencées"),
        plural(c.candidates, "candidature", "candidatures")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::referencing::state::StandingEvent;

    fn facts<'a>(
        state: CandidatureState,
        r: Option<&'a Referencing>,
        profiles: &'a [String],
    ) -> Facts<'a> {
        Facts {
            state,
            deposited_at: Some("2026-01-05T10:00:00Z".parse().expect("instant")),
            editor: "Éditeur SA",
            solution: "Dossier Patient",
            technical_version: "4.2.1-secret",
            profiles,
            referencing: r,
        }
    }

    #[test]
    fn under_instruction_shows_editor_and_solution_only() {
        let profiles = vec!["Confidentiel".to_string()];
        let e = entry(&facts(CandidatureState::Validated, None, &profiles)).expect("public");
        let json = serde_json::to_string(&e).expect("json");
        assert_eq!(
            json,
            r#"{"status":"under-instruction","editor":"Éditeur SA","solution":"Dossier Patient"}"#
        );
        assert!(!json.contains("4.2.1") && !json.contains("Confidentiel"));
    }

    #[test]
    fn drafts_rejected_abandoned_and_refused_are_not_public() {
        let p = vec![];
        let mut draft = facts(CandidatureState::Draft, None, &p);
        draft.deposited_at = None;
        assert_eq!(entry(&draft), None);
        for s in [CandidatureState::Rejected, CandidatureState::Abandoned] {
            assert_eq!(entry(&facts(s, None, &p)), None);
        }
        let refused = Referencing {
            refused: Some(("x".into(), "2026-02-01T10:00:00Z".parse().expect("instant"))),
            ..Referencing::default()
        };
        assert_eq!(
            entry(&facts(CandidatureState::Validated, Some(&refused), &p)),
            None
        );
    }

    #[test]
    fn referenced_entries_carry_their_standing_and_counts_add_up() {
        let at: DateTime<Utc> = "2026-02-05T23:30:00Z".parse().expect("instant");
        let mut r = Referencing::default();
        r.refer("HOP-DPI-Va2-2026-0001-xx".into(), "cm", at)
            .expect("refer");
        let p = vec!["Général".to_string()];
        let Some(Entry::Referenced(e)) = entry(&facts(CandidatureState::Validated, Some(&r), &p))
        else {
            panic!("referenced");
        };
        assert_eq!(
            e.referenced_on,
            NaiveDate::from_ymd_opt(2026, 2, 6).expect("date"),
            "Paris date"
        );
        assert_eq!(e.standing, Standing::Valid);
        assert_eq!(e.standing_reason, None);
        let mut suspended = r.clone();
        suspended.standing.push(StandingEvent {
            standing: Standing::Suspended,
            reason: "Audit".into(),
            by: "pa".into(),
            at,
        });
        let mut withdrawn = r.clone();
        withdrawn.standing.push(StandingEvent {
            standing: Standing::Withdrawn,
            reason: "Retrait".into(),
            by: "pa".into(),
            at,
        });
        let mut draft = facts(CandidatureState::Draft, None, &p);
        draft.deposited_at = None;
        let all = [
            facts(CandidatureState::Validated, Some(&r), &p),
            facts(CandidatureState::Validated, Some(&suspended), &p),
            facts(CandidatureState::Validated, Some(&withdrawn), &p),
            facts(CandidatureState::Submitted, None, &p),
            facts(CandidatureState::Rejected, None, &p),
            draft,
        ];
        let c = counts(&all);
        assert_eq!(
            c,
            Counts {
                candidates: 5,
                under_instruction: 1,
                referenced: 2,
                suspended: 1,
                withdrawn: 1
            }
        );
        assert_eq!(summary(&c), "2 solutions référencées sur 5 candidatures");
        assert_eq!(
            summary(&Counts {
                referenced: 1,
                candidates: 1,
                ..Counts::default()
            }),
            "1 solution référencée sur 1 candidature"
        );
    }
}
