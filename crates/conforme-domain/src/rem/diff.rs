//! Comparison of two REM versions.
//!
//! Requirements are matched by identifier. Within a requirement present in both versions,
//! scenarios are matched by scenario number and proofs by the pair (scenario number, proof
//! number); a key repeated within one requirement is matched occurrence by occurrence. A
//! scenario's text is the first text found on its rows.
//!
//! The comparison is about content. Row order, the `Ordre` numbers and rows that carry no
//! scenario and no proof are layout: a difference there only sets [`RemDiff::layout_changed`],
//! so that [`RemDiff::is_empty`] holds exactly when both versions are equal.
//!
//! Proof and scenario counts (in [`RemDiff::summary`] and the per-requirement lists) cover the
//! requirements present in both versions; an added or removed requirement carries its whole
//! content in [`RemDiff::added`] / [`RemDiff::removed`].

use super::{Rem, Requirement, RequirementId, RequirementKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The differences between an old and a new REM version.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RemDiff {
    /// Requirements only in the new version, in its order.
    pub added: Vec<Requirement>,
    /// Requirements only in the old version, in its order.
    pub removed: Vec<Requirement>,
    /// Requirements in both versions whose content differs, in the new version's order.
    pub changed: Vec<RequirementChange>,
    /// The versions also (or only) differ in layout: order of the requirements or of their
    /// rows, `Ordre` numbers, or rows without scenario nor proof.
    pub layout_changed: bool,
}

/// What changed in a requirement present in both versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementChange {
    pub id: RequirementId,
    /// Requirement columns whose value changed, in the Convergence column order.
    pub fields: Vec<FieldChange>,
    /// Set when the change of the requirement text turns a binding requirement into a
    /// recommendation or the reverse.
    pub kind: Option<KindChange>,
    pub scenarios_added: Vec<ScenarioEntry>,
    pub scenarios_removed: Vec<ScenarioEntry>,
    pub scenarios_changed: Vec<ScenarioChange>,
    pub proofs_added: Vec<ProofEntry>,
    pub proofs_removed: Vec<ProofEntry>,
    pub proofs_changed: Vec<ProofChange>,
}

/// A requirement column of the Convergence layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementField {
    Perimetre,
    Chapitre,
    Fonction,
    Exigence,
    Commentaire,
    Profil,
    ProfilHistorique,
    Criticite,
}

impl RequirementField {
    pub const ALL: [RequirementField; 8] = [
        RequirementField::Perimetre,
        RequirementField::Chapitre,
        RequirementField::Fonction,
        RequirementField::Exigence,
        RequirementField::Commentaire,
        RequirementField::Profil,
        RequirementField::ProfilHistorique,
        RequirementField::Criticite,
    ];

    /// The column header, as in the workbook.
    pub fn label(self) -> &'static str {
        match self {
            RequirementField::Perimetre => "Périmètre",
            RequirementField::Chapitre => "Chapitre",
            RequirementField::Fonction => "Fonction",
            RequirementField::Exigence => "Exigence",
            RequirementField::Commentaire => "Commentaire",
            RequirementField::Profil => "Profil",
            RequirementField::ProfilHistorique => "Profil historique",
            RequirementField::Criticite => "Criticité",
        }
    }

    /// This field's value in a requirement.
    pub fn value(self, req: &Requirement) -> Option<&str> {
        match self {
            RequirementField::Perimetre => Some(&req.perimetre),
            RequirementField::Chapitre => Some(&req.chapitre),
            RequirementField::Fonction => Some(&req.fonction),
            RequirementField::Exigence => Some(&req.exigence),
            RequirementField::Commentaire => req.commentaire.as_deref(),
            RequirementField::Profil => Some(&req.profil),
            RequirementField::ProfilHistorique => req.profil_historique.as_deref(),
            RequirementField::Criticite => req.criticite.as_deref(),
        }
    }
}

/// A requirement column's old and new value (`None`: empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: RequirementField,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindChange {
    pub old: RequirementKind,
    pub new: RequirementKind,
}

/// A scenario added to or removed from a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioEntry {
    pub number: Option<String>,
    pub text: Option<String>,
}

/// A scenario whose text changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioChange {
    pub number: Option<String>,
    pub old_text: Option<String>,
    pub new_text: Option<String>,
}

/// A proof added to or removed from a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofEntry {
    pub scenario_number: Option<String>,
    pub number: Option<String>,
    pub text: Option<String>,
}

/// A proof whose text changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofChange {
    pub scenario_number: Option<String>,
    pub number: Option<String>,
    pub old_text: Option<String>,
    pub new_text: Option<String>,
}

impl RequirementChange {
    fn new(id: RequirementId) -> Self {
        Self {
            id,
            fields: Vec::new(),
            kind: None,
            scenarios_added: Vec::new(),
            scenarios_removed: Vec::new(),
            scenarios_changed: Vec::new(),
            proofs_added: Vec::new(),
            proofs_removed: Vec::new(),
            proofs_changed: Vec::new(),
        }
    }

    /// No content change (the requirement may still have been laid out differently).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
            && self.kind.is_none()
            && self.scenarios_added.is_empty()
            && self.scenarios_removed.is_empty()
            && self.scenarios_changed.is_empty()
            && self.proofs_added.is_empty()
            && self.proofs_removed.is_empty()
            && self.proofs_changed.is_empty()
    }
}

impl RemDiff {
    /// True when both versions are identical, layout included.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && !self.layout_changed
    }

    pub fn scenarios_added(&self) -> usize {
        self.changed.iter().map(|c| c.scenarios_added.len()).sum()
    }

    pub fn scenarios_removed(&self) -> usize {
        self.changed.iter().map(|c| c.scenarios_removed.len()).sum()
    }

    pub fn scenarios_changed(&self) -> usize {
        self.changed.iter().map(|c| c.scenarios_changed.len()).sum()
    }

    pub fn proofs_added(&self) -> usize {
        self.changed.iter().map(|c| c.proofs_added.len()).sum()
    }

    pub fn proofs_removed(&self) -> usize {
        self.changed.iter().map(|c| c.proofs_removed.len()).sum()
    }

    pub fn proofs_changed(&self) -> usize {
        self.changed.iter().map(|c| c.proofs_changed.len()).sum()
    }

    /// A one-line French summary, e.g. « 3 exigences ajoutées, 1 supprimée, 4 modifiées ;
    /// 2 scénarios ajoutés ; 5 preuves ajoutées, 1 modifiée ». Scenario and proof counts cover
    /// the requirements present in both versions.
    pub fn summary(&self) -> String {
        if self.is_empty() {
            return "aucune différence".to_string();
        }
        let groups = [
            counted(
                ("exigence", "exigences"),
                true,
                [self.added.len(), self.removed.len(), self.changed.len()],
            ),
            counted(
                ("scénario", "scénarios"),
                false,
                [
                    self.scenarios_added(),
                    self.scenarios_removed(),
                    self.scenarios_changed(),
                ],
            ),
            counted(
                ("preuve", "preuves"),
                true,
                [
                    self.proofs_added(),
                    self.proofs_removed(),
                    self.proofs_changed(),
                ],
            ),
        ];
        let mut parts: Vec<String> = groups.into_iter().flatten().collect();
        if self.layout_changed {
            parts.push("ordre ou numérotation des lignes modifiés".to_string());
        }
        parts.join(" ; ")
    }
}

/// « 3 exigences ajoutées, 1 supprimée » for the non-zero counts of (added, removed, changed).
fn counted(noun: (&str, &str), feminine: bool, counts: [usize; 3]) -> Option<String> {
    let verbs = ["ajouté", "supprimé", "modifié"];
    let mut out: Vec<String> = Vec::new();
    for (verb, n) in verbs.iter().zip(counts) {
        if n == 0 {
            continue;
        }
        let plural = n > 1;
        let participle = format!(
            "{verb}{}{}",
            if feminine { "e" } else { "" },
            if plural { "s" } else { "" }
        );
        if out.is_empty() {
            let noun = if plural { noun.1 } else { noun.0 };
            out.push(format!("{n} {noun} {participle}"));
        } else {
            out.push(format!("{n} {participle}"));
        }
    }
    (!out.is_empty()).then(|| out.join(", "))
}

/// Compares two REM versions. Pure; see the module documentation for how things are matched.
pub fn diff(old: &Rem, new: &Rem) -> RemDiff {
    let old_keys = occurrence_keys(old.requirements.iter().map(|r| &r.id));
    let new_keys = occurrence_keys(new.requirements.iter().map(|r| &r.id));
    let old_index: HashMap<&(&RequirementId, usize), usize> =
        old_keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let new_index: HashMap<&(&RequirementId, usize), usize> =
        new_keys.iter().enumerate().map(|(i, k)| (k, i)).collect();

    let mut out = RemDiff::default();
    let mut common_old_positions = Vec::new();
    for (new_pos, key) in new_keys.iter().enumerate() {
        let new_req = &new.requirements[new_pos];
        match old_index.get(key) {
            None => out.added.push(new_req.clone()),
            Some(&old_pos) => {
                common_old_positions.push(old_pos);
                let old_req = &old.requirements[old_pos];
                let (change, layout) = compare_requirement(old_req, new_req);
                out.layout_changed |= layout;
                if !change.is_empty() {
                    out.changed.push(change);
                }
            }
        }
    }
    for (old_pos, key) in old_keys.iter().enumerate() {
        if !new_index.contains_key(key) {
            out.removed.push(old.requirements[old_pos].clone());
        }
    }
    // Common requirements in the new order must appear in increasing old positions.
    if common_old_positions.windows(2).any(|w| w[0] > w[1]) {
        out.layout_changed = true;
    }
    if out.is_empty() && old != new {
        out.layout_changed = true;
    }
    out
}

/// Pairs each item with its occurrence number among equal items before it.
fn occurrence_keys<T: Eq + std::hash::Hash + Clone>(
    items: impl Iterator<Item = T>,
) -> Vec<(T, usize)> {
    let mut seen: HashMap<T, usize> = HashMap::new();
    items
        .map(|item| {
            let n = seen.entry(item.clone()).or_insert(0);
            let key = (item, *n);
            *n += 1;
            key
        })
        .collect()
}

type ScenarioKey<'a> = Option<&'a str>;
type ProofKey<'a> = (Option<&'a str>, Option<&'a str>, usize);

/// A requirement's scenarios (number → first text, in first-appearance order) and proofs
/// (key → text and `Ordre`, in row order).
struct Content<'a> {
    scenarios: Vec<(ScenarioKey<'a>, Option<&'a str>)>,
    proofs: Vec<(ProofKey<'a>, Option<&'a str>, Option<i64>)>,
}

fn content(req: &Requirement) -> Content<'_> {
    let mut scenarios: Vec<(ScenarioKey<'_>, Option<&str>)> = Vec::new();
    let mut scenario_pos: HashMap<ScenarioKey<'_>, usize> = HashMap::new();
    let mut proof_seen: HashMap<(Option<&str>, Option<&str>), usize> = HashMap::new();
    let mut proofs = Vec::new();
    for line in &req.lines {
        let has_scenario = line.scenario_number.is_some() || line.scenario_text.is_some();
        let has_proof = line.proof_number.is_some() || line.proof_text.is_some();
        if !has_scenario && !has_proof {
            continue;
        }
        let number = line.scenario_number.as_deref();
        match scenario_pos.get(&number) {
            Some(&pos) => {
                if scenarios[pos].1.is_none() {
                    scenarios[pos].1 = line.scenario_text.as_deref();
                }
            }
            None => {
                scenario_pos.insert(number, scenarios.len());
                scenarios.push((number, line.scenario_text.as_deref()));
            }
        }
        if has_proof {
            let pair = (number, line.proof_number.as_deref());
            let n = proof_seen.entry(pair).or_insert(0);
            proofs.push(((pair.0, pair.1, *n), line.proof_text.as_deref(), line.ordre));
            *n += 1;
        }
    }
    Content { scenarios, proofs }
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_string)
}

/// The content change of one requirement, and whether its layout changed.
fn compare_requirement(old: &Requirement, new: &Requirement) -> (RequirementChange, bool) {
    let mut change = RequirementChange::new(new.id.clone());
    for field in RequirementField::ALL {
        let (a, b) = (field.value(old), field.value(new));
        if a != b {
            change.fields.push(FieldChange {
                field,
                old: owned(a),
                new: owned(b),
            });
        }
    }
    if old.kind() != new.kind() {
        change.kind = Some(KindChange {
            old: old.kind(),
            new: new.kind(),
        });
    }

    let (old_c, new_c) = (content(old), content(new));

    let old_scenarios: HashMap<ScenarioKey<'_>, Option<&str>> =
        old_c.scenarios.iter().copied().collect();
    let new_scenarios: HashMap<ScenarioKey<'_>, Option<&str>> =
        new_c.scenarios.iter().copied().collect();
    for &(number, text) in &new_c.scenarios {
        match old_scenarios.get(&number) {
            None => change.scenarios_added.push(ScenarioEntry {
                number: owned(number),
                text: owned(text),
            }),
            Some(&old_text) if old_text != text => change.scenarios_changed.push(ScenarioChange {
                number: owned(number),
                old_text: owned(old_text),
                new_text: owned(text),
            }),
            Some(_) => {}
        }
    }
    for &(number, text) in &old_c.scenarios {
        if !new_scenarios.contains_key(&number) {
            change.scenarios_removed.push(ScenarioEntry {
                number: owned(number),
                text: owned(text),
            });
        }
    }

    let old_proofs: HashMap<ProofKey<'_>, (usize, Option<&str>, Option<i64>)> = old_c
        .proofs
        .iter()
        .enumerate()
        .map(|(i, &(key, text, ordre))| (key, (i, text, ordre)))
        .collect();
    let new_proof_keys: HashMap<ProofKey<'_>, ()> =
        new_c.proofs.iter().map(|&(key, _, _)| (key, ())).collect();
    let mut layout = false;
    let mut common_old_positions = Vec::new();
    for &(key, text, ordre) in &new_c.proofs {
        match old_proofs.get(&key) {
            None => change.proofs_added.push(ProofEntry {
                scenario_number: owned(key.0),
                number: owned(key.1),
                text: owned(text),
            }),
            Some(&(old_pos, old_text, old_ordre)) => {
                common_old_positions.push(old_pos);
                layout |= old_ordre != ordre;
                if old_text != text {
                    change.proofs_changed.push(ProofChange {
                        scenario_number: owned(key.0),
                        number: owned(key.1),
                        old_text: owned(old_text),
                        new_text: owned(text),
                    });
                }
            }
        }
    }
    for &(key, text, _) in &old_c.proofs {
        if !new_proof_keys.contains_key(&key) {
            change.proofs_removed.push(ProofEntry {
                scenario_number: owned(key.0),
                number: owned(key.1),
                text: owned(text),
            });
        }
    }
    layout |= common_old_positions.windows(2).any(|w| w[0] > w[1]);
    if change.is_empty() && old.lines != new.lines {
        layout = true;
    }
    (change, layout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rem::ProofLine;

    fn line(s: Option<&str>, p: Option<&str>, ordre: i64) -> ProofLine {
        ProofLine {
            scenario_number: s.map(str::to_string),
            scenario_text: s.map(|s| format!("texte {s}")),
            proof_number: p.map(str::to_string),
            proof_text: p.map(|p| format!("preuve {p}")),
            ordre: Some(ordre),
        }
    }

    fn req(id: &str, lines: Vec<ProofLine>) -> Requirement {
        Requirement {
            id: RequirementId::parse(id).expect("id"),
            perimetre: "Vague 2".into(),
            chapitre: "Chapitre".into(),
            fonction: "Fonction".into(),
            exigence: "Le système DOIT faire".into(),
            commentaire: None,
            profil: "Général".into(),
            profil_historique: Some("Général".into()),
            criticite: None,
            lines,
        }
    }

    fn sample() -> Rem {
        Rem {
            requirements: vec![
                req(
                    "SC.A.01",
                    vec![line(Some("A.01.01"), Some("A.01.01.01"), 1)],
                ),
                req(
                    "SC.A.02",
                    vec![
                        line(Some("A.02.01"), Some("A.02.01.01"), 2),
                        line(Some("A.02.01"), Some("A.02.01.02"), 3),
                        line(Some("A.02.02"), Some("A.02.02.01"), 4),
                    ],
                ),
                req("DPI.B.01", vec![line(None, None, 5)]),
            ],
        }
    }

    #[test]
    fn identical_versions_have_no_difference() {
        let d = diff(&sample(), &sample());
        assert!(d.is_empty());
        assert_eq!(d.summary(), "aucune différence");
        assert_eq!(d, RemDiff::default());
    }

    #[test]
    fn added_removed_and_changed_requirements() {
        let old = sample();
        let mut new = sample();
        new.requirements.remove(2);
        new.requirements.push(req(
            "SC.C.01",
            vec![line(Some("C.01.01"), Some("C.01.01.01"), 6)],
        ));
        new.requirements[0].fonction = "Nouvelle fonction".into();
        new.requirements[0].commentaire = Some("Précision".into());
        new.requirements[0].exigence = "Le système PEUT faire".into();

        let d = diff(&old, &new);
        assert_eq!(d.added.len(), 1);
        assert_eq!(d.added[0].id.as_str(), "SC.C.01");
        assert_eq!(d.removed.len(), 1);
        assert_eq!(d.removed[0].id.as_str(), "DPI.B.01");
        assert_eq!(d.changed.len(), 1);
        let c = &d.changed[0];
        assert_eq!(c.id.as_str(), "SC.A.01");
        let fields: Vec<RequirementField> = c.fields.iter().map(|f| f.field).collect();
        assert_eq!(
            fields,
            vec![
                RequirementField::Fonction,
                RequirementField::Exigence,
                RequirementField::Commentaire
            ]
        );
        assert_eq!(c.fields[0].old.as_deref(), Some("Fonction"));
        assert_eq!(c.fields[0].new.as_deref(), Some("Nouvelle fonction"));
        assert_eq!(c.fields[2].old, None);
        assert_eq!(
            c.kind,
            Some(KindChange {
                old: RequirementKind::Exigence,
                new: RequirementKind::Preconisation
            })
        );
        assert!(!d.layout_changed);
        assert_eq!(d.summary(), "1 exigence ajoutée, 1 supprimée, 1 modifiée");
    }

    #[test]
    fn scenarios_and_proofs_are_keyed_by_number() {
        let old = sample();
        let mut new = sample();
        let lines = &mut new.requirements[1].lines;
        // A.02.01.02 removed, A.02.02 text changed, A.02.02.01 text changed, A.02.03 added.
        lines.remove(1);
        lines[1].scenario_text = Some("nouveau texte".into());
        lines[1].proof_text = Some("nouvelle preuve".into());
        lines[1].ordre = Some(3);
        lines.push(line(Some("A.02.03"), Some("A.02.03.01"), 4));
        lines.push(line(Some("A.02.03"), Some("A.02.03.02"), 5));

        let d = diff(&old, &new);
        assert_eq!(d.changed.len(), 1);
        let c = &d.changed[0];
        assert!(c.fields.is_empty());
        assert_eq!(c.scenarios_added.len(), 1);
        assert_eq!(c.scenarios_added[0].number.as_deref(), Some("A.02.03"));
        assert_eq!(c.scenarios_added[0].text.as_deref(), Some("texte A.02.03"));
        assert!(c.scenarios_removed.is_empty());
        assert_eq!(c.scenarios_changed.len(), 1);
        assert_eq!(
            c.scenarios_changed[0].old_text.as_deref(),
            Some("texte A.02.02")
        );
        assert_eq!(
            c.scenarios_changed[0].new_text.as_deref(),
            Some("nouveau texte")
        );
        let added: Vec<_> = c.proofs_added.iter().map(|p| p.number.as_deref()).collect();
        assert_eq!(added, vec![Some("A.02.03.01"), Some("A.02.03.02")]);
        assert_eq!(c.proofs_removed.len(), 1);
        assert_eq!(c.proofs_removed[0].number.as_deref(), Some("A.02.01.02"));
        assert_eq!(
            c.proofs_removed[0].scenario_number.as_deref(),
            Some("A.02.01")
        );
        assert_eq!(c.proofs_changed.len(), 1);
        assert_eq!(
            c.proofs_changed[0].new_text.as_deref(),
            Some("nouvelle preuve")
        );
        // The renumbered Ordre of A.02.02.01 is layout.
        assert!(d.layout_changed);
        assert_eq!(
            d.summary(),
            "1 exigence modifiée ; 1 scénario ajouté, 1 modifié ; 2 preuves ajoutées, 1 supprimée, 1 modifiée ; \
             ordre ou numérotation des lignes modifiés"
        );
    }

    #[test]
    fn removed_scenario_and_moved_proof() {
        let old = sample();
        let mut new = sample();
        // A.02.02.01 moves under A.02.01: a different key, so removed + added.
        new.requirements[1].lines[2] = line(Some("A.02.01"), Some("A.02.02.01"), 4);
        let d = diff(&old, &new);
        let c = &d.changed[0];
        assert_eq!(c.scenarios_removed.len(), 1);
        assert_eq!(c.scenarios_removed[0].number.as_deref(), Some("A.02.02"));
        assert_eq!(c.proofs_added.len(), 1);
        assert_eq!(c.proofs_removed.len(), 1);
        assert!(!d.layout_changed);
        assert_eq!(
            d.summary(),
            "1 exigence modifiée ; 1 scénario supprimé ; 1 preuve ajoutée, 1 supprimée"
        );
    }

    #[test]
    fn reordering_is_layout_only() {
        let old = sample();
        let mut new = sample();
        new.requirements.swap(0, 1);
        let d = diff(&old, &new);
        assert!(d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty());
        assert!(d.layout_changed);
        assert!(!d.is_empty());
        assert_eq!(d.summary(), "ordre ou numérotation des lignes modifiés");

        let mut new = sample();
        new.requirements[1].lines.swap(0, 1);
        assert!(diff(&old, &new).layout_changed);

        let mut new = sample();
        new.requirements[2].lines.push(ProofLine::default());
        let d = diff(&old, &new);
        assert!(d.changed.is_empty() && d.layout_changed);
    }

    #[test]
    fn repeated_keys_match_by_occurrence() {
        let mut old = sample();
        old.requirements[0]
            .lines
            .push(line(Some("A.01.01"), Some("A.01.01.01"), 9));
        let mut new = old.clone();
        new.requirements[0].lines[1].proof_text = Some("autre".into());
        let d = diff(&old, &new);
        let c = &d.changed[0];
        assert!(c.proofs_added.is_empty() && c.proofs_removed.is_empty());
        assert_eq!(c.proofs_changed.len(), 1);
        assert_eq!(
            c.proofs_changed[0].old_text.as_deref(),
            Some("preuve A.01.01.01")
        );
    }

    #[test]
    fn serializes() {
        let old = sample();
        let mut new = sample();
        new.requirements[0].criticite = Some("Majeure".into());
        new.requirements.remove(2);
        let d = diff(&old, &new);
        // The domain crate has no JSON dependency: TOML goes through the same serde model.
        let text = toml::to_string(&d).expect("serializable");
        assert!(text.contains("field = \"criticite\""), "{text}");
        assert!(text.contains("new = \"Majeure\""), "{text}");
        assert!(text.contains("DPI.B.01"), "{text}");
        let back: RemDiff = toml::from_str(&text).expect("deserializable");
        assert_eq!(back, d);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn arb_text() -> impl Strategy<Value = Option<String>> {
            prop::option::of(prop::sample::select(vec!["a", "b", "c"]).prop_map(str::to_string))
        }

        fn arb_line() -> impl Strategy<Value = ProofLine> {
            (
                arb_text(),
                arb_text(),
                arb_text(),
                arb_text(),
                prop::option::of(0i64..3),
            )
                .prop_map(
                    |(scenario_number, scenario_text, proof_number, proof_text, ordre)| ProofLine {
                        scenario_number,
                        scenario_text,
                        proof_number,
                        proof_text,
                        ordre,
                    },
                )
        }

        fn arb_req() -> impl Strategy<Value = Requirement> {
            (
                prop::sample::select(vec!["SC.A", "SC.B", "DPI.C"]),
                prop::sample::select(vec!["x", "y"]),
                arb_text(),
                prop::collection::vec(arb_line(), 0..4),
            )
                .prop_map(|(id, fonction, commentaire, lines)| {
                    let mut r = req(id, lines);
                    r.fonction = fonction.to_string();
                    r.commentaire = commentaire;
                    r
                })
        }

        fn arb_rem() -> impl Strategy<Value = Rem> {
            prop::collection::vec(arb_req(), 0..4).prop_map(|requirements| Rem { requirements })
        }

        proptest! {
            #[test]
            fn empty_exactly_when_equal(a in arb_rem(), b in arb_rem()) {
                prop_assert_eq!(diff(&a, &b).is_empty(), a == b);
                prop_assert!(diff(&a, &a).is_empty());
            }

            #[test]
            fn symmetric_counts(a in arb_rem(), b in arb_rem()) {
                let ab = diff(&a, &b);
                let ba = diff(&b, &a);
                prop_assert_eq!(ab.added.len(), ba.removed.len());
                prop_assert_eq!(ab.changed.len(), ba.changed.len());
                prop_assert_eq!(ab.proofs_added(), ba.proofs_removed());
                prop_assert_eq!(ab.scenarios_changed(), ba.scenarios_changed());
                prop_assert_eq!(ab.layout_changed, ba.layout_changed);
            }
        }
    }
}
