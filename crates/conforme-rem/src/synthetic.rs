//! Larger REMs built from smaller ones, for benchmarks and tests.

use conforme_domain::rem::{ProofLine, Rem, Requirement, RequirementId};

/// A REM `times` as large as `rem`, used by benchmarks and tests.
///
/// The first copy is `rem` itself; copy `k` (from 2) suffixes every requirement ID with `~k`
/// and renumbers scenarios and proofs the same way: a scenario number written from the full
/// ID or from the ID without prefix keeps that form (`CDA/DD.05.01` → `CDA/DD.05~2.01` under
/// `SC.CDA/DD.05~2`), a proof number extending its scenario number still extends it, and any
/// other number gets the suffix at its end. The quirks of the original (and so the import
/// warnings) are thus repeated once per copy. `Ordre` values are shifted past the previous
/// copy's. `times == 0` gives an empty REM.
pub fn scale(rem: &Rem, times: usize) -> Rem {
    let span = rem
        .requirements
        .iter()
        .flat_map(|r| r.lines.iter().filter_map(|l| l.ordre))
        .max()
        .unwrap_or(0)
        .max(0);
    let mut requirements = Vec::with_capacity(rem.requirements.len().saturating_mul(times));
    for copy in 1..=times {
        if copy == 1 {
            requirements.extend(rem.requirements.iter().cloned());
            continue;
        }
        let suffix = format!("~{copy}");
        let shift = span.saturating_mul(i64::try_from(copy - 1).unwrap_or(i64::MAX));
        for req in &rem.requirements {
            requirements.push(copy_requirement(req, &suffix, shift));
        }
    }
    Rem { requirements }
}

fn copy_requirement(req: &Requirement, suffix: &str, shift: i64) -> Requirement {
    let new_id = RequirementId::parse(&format!("{}{suffix}", req.id))
        // The suffix adds no forbidden character; keep the original ID past the length limit.
        .unwrap_or_else(|_| req.id.clone());
    let renumber = |number: &str| renumber(number, &req.id, &new_id, suffix);
    let lines = req
        .lines
        .iter()
        .map(|line| {
            let scenario_number = line.scenario_number.as_deref().map(renumber);
            let proof_number = line.proof_number.as_deref().map(|proof| {
                match (&line.scenario_number, &scenario_number) {
                    (Some(old), Some(new)) if proof.starts_with(&format!("{old}.")) => {
                        format!("{new}{}", &proof[old.len()..])
                    }
                    _ => renumber(proof),
                }
            });
            ProofLine {
                scenario_number,
                scenario_text: line.scenario_text.clone(),
                proof_number,
                proof_text: line.proof_text.clone(),
                ordre: line.ordre.map(|o| o.saturating_add(shift)),
            }
        })
        .collect();
    Requirement {
        id: new_id,
        lines,
        ..req.clone()
    }
}

fn renumber(number: &str, old: &RequirementId, new: &RequirementId, suffix: &str) -> String {
    if let Some(rest) = number.strip_prefix(&format!("{old}.")) {
        format!("{new}.{rest}")
    } else if let Some(rest) = number.strip_prefix(&format!("{}.", old.without_prefix())) {
        format!("{}.{rest}", new.without_prefix())
    } else {
        format!("{number}{suffix}")
    }
}

/// A generated REM of `times` × 8 requirements (`times` copies of a small built-in REM, see
/// [`scale`]), used by benchmarks and tests that need a REM without reading a file. It has
/// the shapes met in real REMs: several proofs per scenario, several scenarios, a requirement
/// without scenario, a recommendation, multi-line texts, scenario numbers with and without
/// the ID prefix, optional columns filled or not.
pub fn synthetic_rem(times: usize) -> Rem {
    scale(&base(), times)
}

fn base() -> Rem {
    let mut ordre = 0;
    let mut next = || {
        ordre += 1;
        Some(ordre)
    };
    let mut requirements = Vec::new();
    let shapes: [(&str, &[usize]); 8] = [
        ("SC.SYN/GEN.01", &[1]),
        ("SC.SYN/GEN.02", &[2, 1]),
        ("SC.SYN/UX.03", &[]),
        ("DPI.SYN/UX.04", &[3]),
        ("SC.SYN/SSI.05", &[1, 1, 1]),
        ("SYN/va1.06", &[2]),
        ("SYN/va1.07", &[1]),
        ("SC.SYN/SSI.08", &[4]),
    ];
    for (i, (raw_id, scenarios)) in shapes.iter().enumerate() {
        let Ok(id) = RequirementId::parse(raw_id) else {
            continue;
        };
        // Programme-specific requirements number scenarios from the full ID.
        let base = if id.prefix() == Some("SYN/va1") {
            id.to_string()
        } else {
            id.without_prefix().to_string()
        };
        let mut lines = Vec::new();
        for (s, proofs) in scenarios.iter().enumerate() {
            let scenario = format!("{base}.{:02}", s + 1);
            for p in 0..*proofs {
                lines.push(ProofLine {
                    scenario_number: Some(scenario.clone()),
                    scenario_text: Some(format!(
                        "Vérifier que le système applique la règle {scenario}.\nÉtapes du scénario :\n* accéder au dossier du patient ;\n* constater le résultat."
                    )),
                    proof_number: Some(format!("{scenario}.{:02}", p + 1)),
                    proof_text: Some(format!(
                        "{scenario}.{:02} : Démonstration (vidéo ou copies d'écran) montrant le déroulé des étapes du scénario",
                        p + 1
                    )),
                    ordre: next(),
                });
            }
        }
        if lines.is_empty() {
            lines.push(ProofLine {
                ordre: next(),
                ..ProofLine::default()
            });
        }
        let verb = if i == 3 { "PEUT" } else { "DOIT" };
        requirements.push(Requirement {
            perimetre: "Vague 2".to_string(),
            chapitre: format!("Chapitre {}", i / 3 + 1),
            fonction: format!("Fonction synthétique n° {}", i + 1),
            exigence: format!(
                "Le système {verb} respecter la règle {id}.\nCette règle s’applique à tout dossier patient."
            ),
            commentaire: (i % 2 == 0).then(|| format!("Commentaire sur {id}")),
            profil: "Général".to_string(),
            profil_historique: Some("Général".to_string()),
            criticite: (i % 3 == 0).then(|| "Majeure".to_string()),
            id,
            lines,
        });
    }
    Rem { requirements }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_multiplies_and_keeps_numbering_forms() {
        let base = base();
        assert_eq!(base.requirements.len(), 8);
        let big = scale(&base, 3);
        assert_eq!(big.requirements.len(), 24);
        assert_eq!(big.proof_line_count(), 3 * base.proof_line_count());
        assert_eq!(&big.requirements[..8], &base.requirements[..]);
        let copy = &big.requirements[9];
        assert_eq!(copy.id.as_str(), "SC.SYN/GEN.02~2");
        assert_eq!(
            copy.lines[0].scenario_number.as_deref(),
            Some("SYN/GEN.02~2.01")
        );
        assert_eq!(
            copy.lines[0].proof_number.as_deref(),
            Some("SYN/GEN.02~2.01.01")
        );
        let full = &big.requirements[8 + 5];
        assert_eq!(full.id.as_str(), "SYN/va1.06~2");
        assert_eq!(
            full.lines[0].scenario_number.as_deref(),
            Some("SYN/va1.06~2.01")
        );
        let mut ids: Vec<_> = big.requirements.iter().map(|r| r.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 24);
        assert!(scale(&base, 0).requirements.is_empty());
        assert_eq!(scale(&base, 1), base);
    }

    #[test]
    fn quirky_numbers_get_the_suffix() {
        let id = RequirementId::parse("SC.MSS/UX.39").expect("id");
        let new = RequirementId::parse("SC.MSS/UX.39~2").expect("id");
        assert_eq!(renumber("39.01", &id, &new, "~2"), "39.01~2");
        assert_eq!(renumber("MSS/UX.39", &id, &new, "~2"), "MSS/UX.39~2");
        assert_eq!(
            renumber("SC.MSS/UX.39.01", &id, &new, "~2"),
            "SC.MSS/UX.39~2.01"
        );
    }
}
