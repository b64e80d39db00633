use super::{BIO, HOP, PDE, load, paris, utc};
use crate::programme::Programme;
use crate::proofs::cutoff::*;
use chrono::Duration;

const NOON_31_MARCH: &str = "mardi 31 mars 2026 à\u{a0}12\u{a0}h\u{a0}00";
const NOON_30_JUNE: &str = "mardi 30 juin 2026 à\u{a0}12\u{a0}h\u{a0}00";

#[test]
fn date_2bis_is_met_at_its_instant() {
    let hop = load("HOP", HOP);
    let date_2bis = paris(2026, 3, 31, 12, 0, 0);
    assert_eq!(
        date_2bis,
        utc("2026-03-31T10:00:00Z"),
        "CEST since 29 March"
    );

    let ok = check_complete_dossier(&hop, date_2bis).expect("on time at the instant");
    let deadline = ok.deadline.expect("a deadline");
    assert_eq!(deadline.due, date_2bis);
    assert!(deadline.is_met_by(date_2bis));
    assert!(deadline.rule.starts_with(&format!(
        "La date de dépôt du dossier complet de preuves de conformité ne peut être postérieure à la Date 2bis ({NOON_31_MARCH}, heure de Paris)"
    )));
    assert_eq!(
        ok.rule,
        format!(
            "Dossier complet de preuves à soumettre au plus tard le {NOON_31_MARCH}, heure de Paris."
        )
    );
    assert!(check_complete_dossier(&hop, paris(2025, 12, 1, 9, 0, 0)).is_ok());

    let late = date_2bis + Duration::seconds(1);
    let err = check_complete_dossier(&hop, late).expect_err("one second late");
    assert_eq!(err.due(), date_2bis);
    assert!(matches!(
        &err,
        CutOffError::CompleteDossierTooLate { date_label, received, .. }
            if date_label == "Date 2bis" && *received == late
    ));
    assert_eq!(
        err.to_string(),
        format!(
            "Dépôt du dossier complet refusé : la date de dépôt du dossier complet de preuves de conformité ne peut être postérieure à la Date 2bis ({NOON_31_MARCH}, heure de Paris) ; le formulaire a été reçu le 31/03/2026 à 12:00:01 (DSR §4.3)."
        )
    );
}

#[test]
fn permanent_and_dateless_programmes_cut_nothing_off() {
    let pde = load("PDE", PDE);
    let far = utc("2030-01-01T00:00:00Z");
    let ok = check_complete_dossier(&pde, far).expect("permanent");
    assert!(ok.deadline.is_none());
    assert!(ok.rule.starts_with("Dispositif permanent"));
    for kind in [
        ExchangeKind::Answer,
        ExchangeKind::ProofRedeposit,
        ExchangeKind::PentestReport,
    ] {
        let ok = check_exchange(&pde, far, kind).expect("permanent");
        assert!(ok.deadline.is_none());
    }
    // BIO-SGL-Va1 has no complete-dossier date.
    let bio = load("BIO", BIO);
    let ok = check_complete_dossier(&bio, far).expect("no such date");
    assert!(ok.deadline.is_none());
    assert!(ok.rule.contains("ne fixe pas de date limite"));
}

#[test]
fn date_3_closes_the_exchanges() {
    let hop = load("HOP", HOP);
    let date_3 = paris(2026, 6, 30, 12, 0, 0);
    assert_eq!(date_3, utc("2026-06-30T10:00:00Z"));
    let late = date_3 + Duration::seconds(1);

    for kind in [
        ExchangeKind::ProofRedeposit,
        ExchangeKind::Answer,
        ExchangeKind::PentestReport,
    ] {
        let ok = check_exchange(&hop, date_3, kind).expect("at the instant");
        assert_eq!(ok.deadline.as_ref().map(|d| d.due), Some(date_3));
        assert!(
            ok.rule
                .contains(&format!("Date 3 ({NOON_30_JUNE}, heure de Paris)"))
        );
        let err = check_exchange(&hop, late, kind).expect_err("one second late");
        assert_eq!(err.due(), date_3);
        let message = err.to_string();
        assert!(
            message.contains(&format!("Date 3 ({NOON_30_JUNE}, heure de Paris)")),
            "{message}"
        );
        assert!(message.contains("30/06/2026 à 12:00:01"), "{message}");
    }
    let pentest = check_exchange(&hop, date_3, ExchangeKind::PentestReport).expect("on time");
    assert_eq!(
        pentest.rule,
        format!(
            "Un nouveau rapport de test d'intrusion peut être déposé jusqu'à la Date 3 ({NOON_30_JUNE}, heure de Paris) (DSR §4.4)."
        )
    );
    let err = check_exchange(&hop, late, ExchangeKind::PentestReport).expect_err("late");
    assert!(
        err.to_string()
            .starts_with("Rapport de test d'intrusion refusé")
    );
    let err = check_exchange(&hop, late, ExchangeKind::Answer).expect_err("late");
    assert!(
        err.to_string()
            .contains("aucune réponse complémentaire de l'éditeur n'est instruite")
    );
    let err = check_exchange(&hop, late, ExchangeKind::ProofRedeposit).expect_err("late");
    assert!(err.to_string().starts_with(
        "Dépôt refusé : le formulaire de dépôt de preuves est fermé depuis la Date 3"
    ));
    assert!(matches!(
        err,
        CutOffError::ExchangesClosed {
            kind: ExchangeKind::ProofRedeposit,
            ..
        }
    ));
}

#[test]
fn a_cnda_attestation_after_pre_examination_passes_date_3() {
    let hop = load("HOP", HOP);
    let after = paris(2026, 9, 15, 16, 0, 0);
    let ok = check_exchange(
        &hop,
        after,
        ExchangeKind::CndaAttestationAfterPreExamination,
    )
    .expect("derogation");
    assert!(ok.deadline.is_none());
    assert!(ok.rule.starts_with("Par dérogation"));
    assert!(
        ok.rule
            .contains(&format!("après la Date 3 ({NOON_30_JUNE}, heure de Paris)"))
    );
    assert!(ok.rule.contains("compte rendu de pré-examen"));
    // Before Date 3 as well.
    assert!(
        check_exchange(
            &hop,
            paris(2026, 5, 1, 9, 0, 0),
            ExchangeKind::CndaAttestationAfterPreExamination
        )
        .is_ok()
    );
    // The same attestation sent as an ordinary deposit is refused.
    assert!(check_exchange(&hop, after, ExchangeKind::ProofRedeposit).is_err());
}

#[test]
fn bio_complement_answers_end_on_31_august_2022() {
    let bio = load("BIO", BIO);
    let end = paris(2022, 8, 31, 14, 0, 0);
    assert!(check_exchange(&bio, end, ExchangeKind::Answer).is_ok());
    let err =
        check_exchange(&bio, end + Duration::seconds(1), ExchangeKind::Answer).expect_err("late");
    assert!(
        err.to_string()
            .contains("mercredi 31 août 2022 à\u{a0}14\u{a0}h\u{a0}00")
    );
}

#[test]
fn an_unknown_relative_date_cuts_nothing_off_yet() {
    let toml = r#"
code = "TEST-REL-Va1"
title = "Dispositif de test"
corridor = "hopital"
wave = 1
financing = true
summary = "Calendrier relatif sans Date 0."
source = "Test"

[calendar]
mode = "relative"
phase_before = "Avant"

[[calendar.dates]]
key = "date-0"
label = "Date 0"
description = "Lancement"
phase_after = "Ouvert"
role = "launch"

[[calendar.dates]]
key = "date-2bis"
label = "Date 2bis"
description = "Dossier complet"
relative_to = "date-0"
months = 13
phase_after = "Instruction"
role = "complete-dossier-deadline"

[[calendar.dates]]
key = "date-3"
label = "Date 3"
description = "Fin des échanges"
relative_to = "date-0"
months = 16
phase_after = "Clos"
role = "end-of-exchanges"

[[profiles]]
name = "Général"
mandatory = true

[profile_change]

[committee]
decision_modes = ["attribution"]
convention_signed = "after-proofs"
"#;
    let p = match Programme::from_toml("rel", toml) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let now = utc("2030-01-01T00:00:00Z");
    let ok = check_complete_dossier(&p, now).expect("unknown yet");
    assert!(ok.deadline.is_none());
    assert!(ok.rule.contains("« Date 0 + 13 mois »"), "{}", ok.rule);
    let ok = check_exchange(&p, now, ExchangeKind::Answer).expect("unknown yet");
    assert!(ok.rule.contains("pas encore connue"));
}
