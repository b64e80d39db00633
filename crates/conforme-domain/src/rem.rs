//! The requirement repository (REM) model: requirements, their conformity scenarios and the
//! proofs each scenario asks for, kept as the lines of the Convergence layout so that an
//! exported version re-imports into the identical model.

use crate::text::fold_for_search;
use serde::{Deserialize, Serialize};
use std::fmt;

pub mod diff;

/// A requirement identifier such as `SC.DMP/ALI/PROG.02` or `DPI.CDA/DD.04`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequirementId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequirementIdError {
    #[error("l'identifiant d'exigence est vide")]
    Empty,
    #[error("l'identifiant d'exigence « {0} » contient un espace")]
    Whitespace(String),
    #[error("l'identifiant d'exigence « {0} » dépasse 100 caractères")]
    TooLong(String),
    #[error("l'identifiant d'exigence « {0} » contient un caractère non admis")]
    Forbidden(String),
}

impl RequirementId {
    pub fn parse(raw: &str) -> Result<Self, RequirementIdError> {
        let id = crate::text::clean_cell(raw);
        if id.is_empty() {
            return Err(RequirementIdError::Empty);
        }
        if id.chars().count() > 100 {
            return Err(RequirementIdError::TooLong(id));
        }
        if id.chars().any(char::is_whitespace) {
            return Err(RequirementIdError::Whitespace(id));
        }
        if id
            .chars()
            .any(|c| c.is_control() || matches!(c, '?' | '#' | '%' | '\\' | '"' | '<' | '>'))
        {
            return Err(RequirementIdError::Forbidden(id));
        }
        Ok(Self(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the first dot (`SC`, `DPI` …): `SC.` marks the common base shared by
    /// several REMs, other prefixes a programme's specific requirements.
    pub fn prefix(&self) -> Option<&str> {
        self.0.split_once('.').map(|(p, _)| p)
    }

    /// The identifier without its prefix (`DMP/ALI/PROG.02` for `SC.DMP/ALI/PROG.02`).
    pub fn without_prefix(&self) -> &str {
        self.0
            .split_once('.')
            .map_or(self.0.as_str(), |(_, rest)| rest)
    }
}

impl TryFrom<String> for RequirementId {
    type Error = RequirementIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RequirementId> for String {
    fn from(value: RequirementId) -> Self {
        value.0
    }
}

impl fmt::Display for RequirementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a requirement binds (DOIT / NE DOIT PAS) or only recommends (PEUT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementKind {
    /// Checked; a proof is required.
    Exigence,
    /// Never checked, never a reason to refuse.
    Preconisation,
}

impl RequirementKind {
    /// Classifies a requirement text: any "DOIT" (upper case, as the REMs write their
    /// normative verbs) makes it binding; otherwise a "PEUT" makes it a recommendation;
    /// a text with neither is treated as binding, the safe reading.
    pub fn of_text(text: &str) -> Self {
        let has_word = |word: &str| text.split(|c: char| !c.is_alphabetic()).any(|w| w == word);
        if has_word("DOIT") || has_word("DOIVENT") {
            RequirementKind::Exigence
        } else if has_word("PEUT") || has_word("PEUVENT") {
            RequirementKind::Preconisation
        } else {
            RequirementKind::Exigence
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequirementKind::Exigence => "exigence",
            RequirementKind::Preconisation => "preconisation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "exigence" => Some(RequirementKind::Exigence),
            "preconisation" => Some(RequirementKind::Preconisation),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RequirementKind::Exigence => "Exigence",
            RequirementKind::Preconisation => "Préconisation",
        }
    }
}

/// A whole REM version.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Rem {
    /// In file order.
    pub requirements: Vec<Requirement>,
}

/// One requirement and the lines that carry its scenarios and proofs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub id: RequirementId,
    pub perimetre: String,
    pub chapitre: String,
    pub fonction: String,
    pub exigence: String,
    pub commentaire: Option<String>,
    pub profil: String,
    pub profil_historique: Option<String>,
    pub criticite: Option<String>,
    /// The Convergence rows of this requirement, in file order. A requirement without any
    /// scenario still has one line, with every scenario and proof cell empty.
    pub lines: Vec<ProofLine>,
}

/// One row of the Convergence layout below its requirement columns.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProofLine {
    pub scenario_number: Option<String>,
    pub scenario_text: Option<String>,
    pub proof_number: Option<String>,
    pub proof_text: Option<String>,
    pub ordre: Option<i64>,
}

/// A conformity scenario with its proofs, as grouped for reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scenario {
    pub number: Option<String>,
    pub text: Option<String>,
    pub proofs: Vec<Proof>,
}

/// A proof asked by a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proof {
    pub number: Option<String>,
    pub text: Option<String>,
}

impl Requirement {
    pub fn kind(&self) -> RequirementKind {
        RequirementKind::of_text(&self.exigence)
    }

    /// Groups the lines into scenarios: consecutive lines with the same scenario number (and
    /// text) form one scenario; lines without any scenario or proof cell are skipped.
    pub fn scenarios(&self) -> Vec<Scenario> {
        let mut out: Vec<Scenario> = Vec::new();
        for line in &self.lines {
            let empty_scenario = line.scenario_number.is_none() && line.scenario_text.is_none();
            let empty_proof = line.proof_number.is_none() && line.proof_text.is_none();
            if empty_scenario && empty_proof {
                continue;
            }
            let proof = (!empty_proof).then(|| Proof {
                number: line.proof_number.clone(),
                text: line.proof_text.clone(),
            });
            match out.last_mut() {
                Some(last)
                    if last.number == line.scenario_number
                        && (line.scenario_text.is_none() || last.text == line.scenario_text) =>
                {
                    last.proofs.extend(proof);
                }
                _ => out.push(Scenario {
                    number: line.scenario_number.clone(),
                    text: line.scenario_text.clone(),
                    proofs: proof.into_iter().collect(),
                }),
            }
        }
        out
    }

    pub fn proof_count(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| l.proof_number.is_some() || l.proof_text.is_some())
            .count()
    }

    /// The folded text searched by full-text queries: identifier, function, requirement,
    /// comment, scenario and proof texts.
    pub fn search_text(&self) -> String {
        let mut parts: Vec<&str> = vec![self.id.as_str(), &self.fonction, &self.exigence];
        parts.extend(self.commentaire.as_deref());
        for line in &self.lines {
            parts.extend(line.scenario_number.as_deref());
            parts.extend(line.scenario_text.as_deref());
            parts.extend(line.proof_number.as_deref());
            parts.extend(line.proof_text.as_deref());
        }
        fold_for_search(&parts.join("\n"))
    }
}

impl Rem {
    pub fn proof_line_count(&self) -> usize {
        self.requirements.iter().map(|r| r.lines.len()).sum()
    }

    pub fn find(&self, id: &RequirementId) -> Option<&Requirement> {
        self.requirements.iter().find(|r| &r.id == id)
    }
}

/// A REM version label: `prepublication-2023`, `v1.2` … letters, digits, `.`, `_`, `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VersionLabel(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "le libellé de version « {0} » n'est pas admis : 1 à 40 caractères parmi lettres, chiffres, « . », « _ » et « - »"
)]
pub struct VersionLabelError(pub String);

impl VersionLabel {
    pub fn parse(raw: &str) -> Result<Self, VersionLabelError> {
        let ok = !raw.is_empty()
            && raw.len() <= 40
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(VersionLabelError(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for VersionLabel {
    type Error = VersionLabelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<VersionLabel> for String {
    fn from(value: VersionLabel) -> Self {
        value.0
    }
}

impl fmt::Display for VersionLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_ids_parse() {
        let id = RequirementId::parse(" SC.DMP/ALI/PROG.02\u{00A0}").expect("valid id");
        assert_eq!(id.as_str(), "SC.DMP/ALI/PROG.02");
        assert_eq!(id.prefix(), Some("SC"));
        assert_eq!(id.without_prefix(), "DMP/ALI/PROG.02");
        assert_eq!(RequirementId::parse("  "), Err(RequirementIdError::Empty));
        assert!(matches!(
            RequirementId::parse("SC.A B"),
            Err(RequirementIdError::Whitespace(_))
        ));
        assert!(matches!(
            RequirementId::parse("SC.A?x"),
            Err(RequirementIdError::Forbidden(_))
        ));
    }

    #[test]
    fn kinds_follow_the_normative_verb() {
        assert_eq!(
            RequirementKind::of_text("le système PEUT informer"),
            RequirementKind::Preconisation
        );
        assert_eq!(
            RequirementKind::of_text("le système NE DOIT PAS"),
            RequirementKind::Exigence
        );
        assert_eq!(
            RequirementKind::of_text("SI x ALORS le système DOIT y, il PEUT z"),
            RequirementKind::Exigence
        );
        assert_eq!(
            RequirementKind::of_text("Le système peut"),
            RequirementKind::Exigence
        );
    }

    #[test]
    fn version_labels() {
        assert!(VersionLabel::parse("prepublication-2023").is_ok());
        assert!(VersionLabel::parse("v1.2").is_ok());
        assert!(VersionLabel::parse("v 1").is_err());
        assert!(VersionLabel::parse("").is_err());
        assert!(VersionLabel::parse("../x").is_err());
    }

    fn line(s: Option<&str>, p: Option<&str>) -> ProofLine {
        ProofLine {
            scenario_number: s.map(str::to_string),
            scenario_text: s.map(|s| format!("texte {s}")),
            proof_number: p.map(str::to_string),
            proof_text: p.map(|p| format!("preuve {p}")),
            ordre: None,
        }
    }

    #[test]
    fn lines_group_into_scenarios() {
        let req = Requirement {
            id: RequirementId::parse("SC.X.01").expect("id"),
            perimetre: "Vague 2".into(),
            chapitre: "C".into(),
            fonction: "F".into(),
            exigence: "Le système DOIT".into(),
            commentaire: None,
            profil: "Général".into(),
            profil_historique: None,
            criticite: None,
            lines: vec![
                line(Some("X.01.01"), Some("X.01.01.01")),
                line(Some("X.01.01"), Some("X.01.01.02")),
                line(Some("X.01.02"), None),
                line(None, None),
            ],
        };
        let scenarios = req.scenarios();
        assert_eq!(scenarios.len(), 2);
        assert_eq!(scenarios[0].proofs.len(), 2);
        assert!(scenarios[1].proofs.is_empty());
        assert_eq!(req.proof_count(), 2);
        assert!(req.search_text().contains("preuve x.01.01.02"));
    }
}
