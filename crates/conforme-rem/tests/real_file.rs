//! The real 2023 DPI REM and the empty Convergence template.

mod common;

use common::{REAL_REM, TEMPLATE, read};
use conforme_domain::rem::diff::diff;
use conforme_domain::rem::{RequirementId, RequirementKind};
use conforme_rem::{Imported, export_xlsx, import_xlsx, scale};

fn real() -> Imported {
    import_xlsx(&read(REAL_REM), "REM-DPI-Va2-prepublication-2023.xlsx")
        .expect("the real REM imports")
}

fn id(raw: &str) -> RequirementId {
    RequirementId::parse(raw).expect("valid id")
}

#[test]
fn real_rem_counts() {
    let imported = real();
    let rem = &imported.rem;
    assert_eq!(rem.requirements.len(), 146);
    assert_eq!(rem.proof_line_count(), 219);
    assert_eq!(
        rem.requirements
            .iter()
            .map(|r| r.proof_count())
            .sum::<usize>(),
        206
    );
    let without_scenario = rem
        .requirements
        .iter()
        .filter(|r| r.scenarios().is_empty())
        .count();
    assert_eq!(without_scenario, 13);
    let sc = rem
        .requirements
        .iter()
        .filter(|r| r.id.prefix() == Some("SC"))
        .count();
    assert_eq!(sc, 97);
    // Ordre runs 1..=219 in file order.
    let ordres: Vec<i64> = rem
        .requirements
        .iter()
        .flat_map(|r| r.lines.iter().filter_map(|l| l.ordre))
        .collect();
    assert_eq!(ordres, (1..=219).collect::<Vec<i64>>());
}

#[test]
fn real_rem_requirements() {
    let rem = real().rem;

    let first = &rem.requirements[0];
    assert_eq!(first.id, id("DPI.CDA/DD.04"));
    assert_eq!(first.kind(), RequirementKind::Preconisation);
    assert_eq!(first.lines.len(), 1);
    assert!(first.scenarios().is_empty());
    // Multi-line text kept, inner spacing untouched.
    assert!(
        first
            .exigence
            .contains("valeurs du champ \n \n   identiques")
    );

    let req = rem.find(&id("SC.CDA/DD.05")).expect("SC.CDA/DD.05");
    assert_eq!(req.perimetre, "Vague 2");
    assert_eq!(
        req.chapitre,
        "Modalités d'intégration d'un document au format CDA"
    );
    assert_eq!(
        req.fonction,
        "Dédoublonnage de document reçu au format CDA — LPS consommateur"
    );
    assert_eq!(req.kind(), RequirementKind::Exigence);
    assert_eq!(req.profil, "Général");
    assert_eq!(req.profil_historique.as_deref(), Some("Général"));
    assert_eq!(req.commentaire, None);
    assert_eq!(req.criticite, None);
    let scenarios = req.scenarios();
    assert_eq!(scenarios.len(), 1);
    assert_eq!(scenarios[0].number.as_deref(), Some("CDA/DD.05.01"));
    assert!(
        scenarios[0]
            .text
            .as_deref()
            .is_some_and(|t| t.starts_with("Vérifier que lorsqu’un utilisateur"))
    );
    assert_eq!(scenarios[0].proofs.len(), 1);
    assert_eq!(
        scenarios[0].proofs[0].number.as_deref(),
        Some("CDA/DD.05.01.01")
    );
    assert_eq!(
        scenarios[0].proofs[0].text.as_deref(),
        Some("Démonstration (vidéo ou copies d'écran) montrant le déroulé des étapes du scénario")
    );
    assert_eq!(req.lines[0].ordre, Some(2));

    // A scenario with four proofs on four rows.
    let airs = rem.find(&id("SC.DMP/AIRS.06")).expect("SC.DMP/AIRS.06");
    assert_eq!(airs.lines.len(), 4);
    let scenarios = airs.scenarios();
    assert_eq!(scenarios.len(), 1);
    assert_eq!(scenarios[0].proofs.len(), 4);

    // A scenario without text (interoperability tests).
    let hl7 = rem.find(&id("DPI.CDA/HL7.01")).expect("DPI.CDA/HL7.01");
    assert_eq!(
        hl7.lines[0].scenario_number.as_deref(),
        Some("CDA/HL7.01.01")
    );
    assert_eq!(hl7.lines[0].scenario_text, None);
    assert_eq!(
        hl7.lines[0].proof_text.as_deref(),
        Some("[INTEROP] Lien vers l'Espace de Test Gazelle")
    );

    // Narrow no-break spaces are cleaned into plain spaces.
    for r in &rem.requirements {
        let texts = [
            Some(&r.exigence),
            r.lines.iter().find_map(|l| l.scenario_text.as_ref()),
        ];
        for t in texts.into_iter().flatten() {
            assert!(
                !t.contains('\u{202F}') && !t.contains('\u{00A0}'),
                "{}",
                r.id
            );
        }
    }

    // Programme-specific requirements use the full ID in their scenario numbers.
    let ins = rem.find(&id("INS/va1.15")).expect("INS/va1.15");
    assert_eq!(
        ins.lines[0].scenario_number.as_deref(),
        Some("INS/va1.15.01")
    );
}

#[test]
fn real_rem_warnings() {
    let warnings = real().warnings;
    let listed: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    let expected = [
        "ligne 4 : le scénario « CDA/HL7.01.01 » n'a pas de texte (colonne I (Scénario de conformité) vide)",
        "ligne 5 : le scénario « CDA/HL7.02.01 » n'a pas de texte (colonne I (Scénario de conformité) vide)",
        "ligne 6 : le scénario « CDA/HL7.04.01 » n'a pas de texte (colonne I (Scénario de conformité) vide)",
        "ligne 24 : le numéro de scénario « DMP/HISTO.03 » ne commence ni par « SC.DMP/HISTO.03.… » ni par « DMP/HISTO.03.… »",
        "ligne 25 : le numéro de scénario « DMP/HISTO.04 » ne commence ni par « SC.DMP/HISTO.04.… » ni par « DMP/HISTO.04.… »",
        "ligne 39 : le numéro de preuve « DMP/UX.15.01.01 » ne prolonge pas celui de son scénario « DMP/UX.15.02 » (attendu : « DMP/UX.15.02.… »)",
        "ligne 60 : le numéro de scénario « 39.01 » ne commence ni par « SC.MSS/UX.39.… » ni par « MSS/UX.39.… »",
        "ligne 64 : le numéro de preuve « PSC.01.01.02 » ne prolonge pas celui de son scénario « PSC.01.02 » (attendu : « PSC.01.02.… »)",
        "ligne 65 : le numéro de preuve « PSC.01.01.03 » ne prolonge pas celui de son scénario « PSC.01.03 » (attendu : « PSC.01.03.… »)",
        "ligne 71 : le numéro de preuve « PSC.01.02.01 » ne prolonge pas celui de son scénario « PSC.02.01 » (attendu : « PSC.02.01.… »)",
        "ligne 72 : le numéro de preuve « PSC.01.08.01 » ne prolonge pas celui de son scénario « PSC.08.01 » (attendu : « PSC.08.01.… »)",
        "ligne 184 : le numéro de scénario « HOP/va1.02.01 » ne commence ni par « HOP/va1.09.… » ni par « 09.… »",
        "ligne 185 : le numéro de scénario « HOP/va1.02.01 » ne commence ni par « HOP/va1.10.… » ni par « 10.… »",
        "ligne 185 : le numéro de scénario « HOP/va1.02.01 » est déjà celui d'un scénario de l'exigence HOP/va1.09 (ligne 184)",
        "ligne 186 : le numéro de scénario « HOP/va1.02.01 » ne commence ni par « HOP/va1.11.… » ni par « 11.… »",
        "ligne 186 : le numéro de scénario « HOP/va1.02.01 » est déjà celui d'un scénario de l'exigence HOP/va1.09 (ligne 184)",
        "ligne 187 : le numéro de scénario « HOP/va1.02.01 » ne commence ni par « HOP/va1.12.… » ni par « 12.… »",
        "ligne 187 : le numéro de scénario « HOP/va1.02.01 » est déjà celui d'un scénario de l'exigence HOP/va1.09 (ligne 184)",
    ];
    assert_eq!(listed, expected);
    let count = |needle: &str| {
        warnings
            .iter()
            .filter(|w| w.message.contains(needle))
            .count()
    };
    assert_eq!(count("ne commence"), 7);
    assert_eq!(count("ne prolonge pas"), 5);
    assert_eq!(count("est déjà celui"), 3);
    assert_eq!(count("n'a pas de texte"), 3);
}

/// The scenario-prefix rule comes from the data: nearly every `SC.` and `DPI.` scenario drops
/// the requirement prefix, programme-specific ones keep the full ID.
#[test]
fn real_rem_scenario_numbering_forms() {
    let rem = real().rem;
    let (mut full, mut short, mut neither) = (0, 0, 0);
    for r in rem
        .requirements
        .iter()
        .filter(|r| matches!(r.id.prefix(), Some("SC" | "DPI")))
    {
        for n in r.lines.iter().filter_map(|l| l.scenario_number.as_deref()) {
            if n.starts_with(&format!("{}.", r.id)) {
                full += 1;
            } else if n.starts_with(&format!("{}.", r.id.without_prefix())) {
                short += 1;
            } else {
                neither += 1;
            }
        }
    }
    assert_eq!((full, short, neither), (0, 140, 3));
}

#[test]
fn real_rem_round_trips() {
    let imported = real();
    let bytes = export_xlsx(&imported.rem).expect("export");
    let again = import_xlsx(&bytes, "export.xlsx").expect("re-import");
    assert_eq!(again.rem, imported.rem);
    assert_eq!(again.warnings, imported.warnings);
    assert!(diff(&imported.rem, &again.rem).is_empty());
    // And the export of the re-import is stable.
    let again2 =
        import_xlsx(&export_xlsx(&again.rem).expect("export"), "export2.xlsx").expect("import");
    assert_eq!(again2.rem, imported.rem);
}

#[test]
fn scaled_real_rem_round_trips_with_the_same_quirks() {
    let imported = real();
    let big = scale(&imported.rem, 5);
    assert_eq!(big.requirements.len(), 5 * 146);
    assert_eq!(big.proof_line_count(), 5 * 219);
    let again = import_xlsx(&export_xlsx(&big).expect("export"), "big.xlsx").expect("import");
    assert_eq!(again.rem, big);
    assert_eq!(again.warnings.len(), 5 * imported.warnings.len());
    let d = diff(&imported.rem, &big);
    assert_eq!(d.added.len(), 4 * 146);
    assert!(d.removed.is_empty() && d.changed.is_empty());
}

#[test]
fn template_imports() {
    let imported =
        import_xlsx(&read(TEMPLATE), "convergence-import-template.xlsx").expect("template");
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let rem = imported.rem;
    assert_eq!(rem.requirements.len(), 1);
    assert_eq!(rem.proof_line_count(), 1);
    let req = &rem.requirements[0];
    assert_eq!(req.id, id("MSS/CDA.01"));
    assert_eq!(req.perimetre, "Vague 1");
    assert_eq!(req.commentaire.as_deref(), Some("test"));
    assert_eq!(req.criticite.as_deref(), Some("Mineure"));
    assert_eq!(
        req.lines[0].scenario_number.as_deref(),
        Some("MSS/CDA.01.01")
    );
    assert_eq!(
        req.lines[0].proof_number.as_deref(),
        Some("MSS/CDA.01.01.01")
    );
    assert_eq!(req.lines[0].ordre, Some(1));
    let again = import_xlsx(&export_xlsx(&rem).expect("export"), "t.xlsx").expect("import");
    assert_eq!(again.rem, rem);
}

#[test]
fn diff_of_edited_real_rem() {
    let old = real().rem;
    let mut new = old.clone();
    new.requirements.remove(0);
    new.requirements[0].fonction.push_str(" (révisée)");
    new.requirements[0].lines[0].proof_text = Some("Vidéo".to_string());
    let d = diff(&old, &new);
    assert_eq!(d.removed.len(), 1);
    assert_eq!(d.changed.len(), 1);
    assert_eq!(
        d.summary(),
        "1 exigence supprimée, 1 modifiée ; 1 preuve modifiée"
    );
}
