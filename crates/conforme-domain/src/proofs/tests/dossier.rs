use super::{BIO, HOP, PDE, line, load, paris, req, utc};
use crate::calendar::french_deadline;
use crate::programme::Programme;
use crate::proofs::checklist::{Checklist, ProofKey, Wave1Status, proof_keys, required_proofs};
use crate::proofs::cutoff::{CutOffError, ExchangeKind};
use crate::proofs::dossier::*;
use crate::proofs::instruction::{
    ClockError, InstructionClock, InstructionEvent, InstructionRules,
};
use crate::rem::Rem;
use InstructionEvent::{ChapterComplete, Decided, QuestionAsked};
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use std::collections::BTreeSet;

const REM_VERSION: &str = "REM-HOP-DPI-Va2 v1.0";
const DOIT: &str = "Le système DOIT faire la chose.";
const CIBA: &str = "Authentification PSC par CIBA";
const DMP: &str = "DMP";
const LINKED: &str = "Exigences liées";
const INS: &str = "Gestion de l'INS";

const UX_1: &str = "SC.DMP/UX.12#preuve=DMP/UX.12.01.01";
const UX_2: &str = "SC.DMP/UX.12#preuve=DMP/UX.12.01.02";
const CIBA_1: &str = "SC.PSC/CIBA.01#preuve=PSC/CIBA.01.01.01";
const INS_1: &str = "INS/va1.01#preuve=INS/va1.01.01.01";
const INS_62_1: &str = "INS/va1.62#preuve=INS/va1.62.01.01";
const INS_62_2: &str = "INS/va1.62#preuve=INS/va1.62.02.01";

const NOON_31_MARCH: &str = "mardi 31 mars 2026 à\u{a0}12\u{a0}h\u{a0}00";
const NOON_30_JUNE: &str = "mardi 30 juin 2026 à\u{a0}12\u{a0}h\u{a0}00";

/// A small REM in the shape of REM-HOP-DPI-Va2: the « DMP » chapter (two required proofs and
/// one of an optional profile), « Exigences liées » (nothing to deposit), then the wave-1 INS
/// chapter (three proofs, required when not referenced in wave 1).
fn rem() -> Rem {
    Rem {
        requirements: vec![
            req(
                "SC.DMP/UX.12",
                "Vague 2",
                DMP,
                "Général",
                DOIT,
                vec![
                    line(Some("DMP/UX.12.01"), Some("DMP/UX.12.01.01")),
                    line(Some("DMP/UX.12.01"), Some("DMP/UX.12.01.02")),
                ],
            ),
            req(
                "SC.PSC/CIBA.01",
                "Vague 2",
                DMP,
                CIBA,
                DOIT,
                vec![line(Some("PSC/CIBA.01.01"), Some("PSC/CIBA.01.01.01"))],
            ),
            req(
                "SC.DB/DPI.01",
                "Vague 2",
                LINKED,
                "Général",
                DOIT,
                vec![line(None, None)],
            ),
            req(
                "INS/va1.01",
                "Vague 1",
                INS,
                "Général",
                DOIT,
                vec![line(Some("INS/va1.01.01"), Some("INS/va1.01.01.01"))],
            ),
            req(
                "INS/va1.62",
                "Vague 1",
                INS,
                "Intégration INS",
                DOIT,
                vec![
                    line(Some("INS/va1.62.01"), Some("INS/va1.62.01.01")),
                    line(Some("INS/va1.62.02"), Some("INS/va1.62.02.01")),
                ],
            ),
        ],
    }
}

fn checklist_for(d: &ProofDossier) -> Checklist {
    required_proofs(&rem(), &["Général".to_string()], d.wave1, &d.additions)
}

fn key(s: &str) -> ProofKey {
    ProofKey::parse(s).expect("valid key")
}

fn proof(s: &str) -> Target {
    Target::Proof(key(s))
}

fn piece(code: &str) -> Target {
    Target::Piece(code.to_string())
}

fn targets(items: &[Target]) -> BTreeSet<Target> {
    items.iter().cloned().collect()
}

fn dmp_proofs() -> Vec<Target> {
    vec![proof(UX_1), proof(UX_2)]
}

fn ins_proofs() -> Vec<Target> {
    vec![proof(INS_1), proof(INS_62_1), proof(INS_62_2)]
}

/// Every required proof of the sample REM (not referenced in wave 1) and both HOP pieces.
fn everything() -> BTreeSet<Target> {
    let mut all = dmp_proofs();
    all.extend(ins_proofs());
    all.push(piece(CNDA_PIECE));
    all.push(piece(PENTEST_PIECE));
    targets(&all)
}

fn hop() -> Programme {
    load("HOP", HOP)
}

fn hop_rules() -> InstructionRules {
    InstructionRules::hop_dpi_va2()
}

fn date_2bis() -> DateTime<Utc> {
    paris(2026, 3, 31, 12, 0, 0)
}

fn date_3() -> DateTime<Utc> {
    paris(2026, 6, 30, 12, 0, 0)
}

fn second() -> Duration {
    Duration::seconds(1)
}

/// A HOP dossier, not referenced in wave 1, whose « DMP » chapter was submitted at `at`.
fn in_instruction(at: DateTime<Utc>) -> ProofDossier {
    let programme = hop();
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    let c = checklist_for(&d);
    d.submit(&programme, &c, &targets(&dmp_proofs()), Some(DMP), at)
        .expect("complete chapter");
    d
}

/// A HOP dossier completed at `at` (every chapter and piece in).
fn completed(at: DateTime<Utc>) -> ProofDossier {
    let programme = hop();
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    let c = checklist_for(&d);
    let s = d
        .submit(&programme, &c, &everything(), None, at)
        .expect("complete dossier");
    assert!(s.completed);
    d
}

fn missing_of(err: DossierError) -> (String, Vec<String>) {
    match err {
        DossierError::Incomplete { message, missing } => (message, missing),
        other => panic!("expected Incomplete, got {other:?}"),
    }
}

fn refused(err: DossierError) -> String {
    match err {
        DossierError::Refused(message) => message,
        other => panic!("expected Refused, got {other:?}"),
    }
}

// --- Target --------------------------------------------------------------------------------

#[test]
fn targets_round_trip_through_their_text() {
    for raw in [
        UX_1,
        "SC.DMP/UX.15#preuve=DMP/UX.15.01.01~2",
        "SC.DB/DPI.01#ligne=1",
        "SC.DMP/UX.12#scenario=DMP/UX.12.02",
        "piece:pentest-report",
        "piece:cnda-homologation",
        "piece:ssi-maturity",
        "session-de-test",
    ] {
        let target = Target::parse(raw).expect(raw);
        assert_eq!(target.to_string(), raw);
        assert_eq!(Target::parse(&target.to_string()), Ok(target.clone()));
        assert_eq!(String::from(target.clone()), raw);
        assert_eq!(Target::try_from(raw.to_string()), Ok(target));
    }
    assert_eq!(Target::parse(UX_1), Ok(proof(UX_1)));
    assert_eq!(
        Target::parse("piece:pentest-report"),
        Ok(piece(PENTEST_PIECE))
    );
    assert_eq!(
        Target::parse("  session-de-test\n"),
        Ok(Target::TestRecording)
    );
    assert_eq!(
        Target::parse(" piece:cnda-homologation "),
        Ok(piece(CNDA_PIECE))
    );
    assert_eq!(piece("pentest-report").to_string(), "piece:pentest-report");
    assert_eq!(Target::TestRecording.to_string(), "session-de-test");
}

#[test]
fn bad_targets_are_refused() {
    assert_eq!(
        Target::parse("piece:"),
        Err("pièce « piece: » : code invalide".to_string())
    );
    for raw in [
        "piece:pentest report",
        "piece:rapport_final",
        "piece:pièce",
        "piece:a/b",
        "piece:a#b",
    ] {
        assert_eq!(
            Target::parse(raw),
            Err(format!("pièce « {raw} » : code invalide")),
            "{raw}"
        );
    }
    assert_eq!(
        Target::parse("rapport"),
        Err(
            "la clé de preuve « rapport » ne contient pas de « # » entre l'exigence et la preuve"
                .to_string()
        )
    );
    for raw in [
        "",
        "session-de-tests",
        "Session-De-Test",
        "SC.DMP/UX.12#preuve=",
        "SC.DMP/UX.12#autre=1",
        "SC.DMP/UX.12#ligne=0",
        "pieces:pentest-report",
    ] {
        assert!(Target::parse(raw).is_err(), "{raw:?} must be refused");
    }
    assert!(Target::try_from("piece:".to_string()).is_err());
}

// --- deposit_admission ---------------------------------------------------------------------

#[test]
fn before_completion_deposits_close_with_date_2bis() {
    let programme = hop();
    let d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    assert_eq!(date_2bis(), utc("2026-03-31T12:00:00+02:00"));
    for target in [proof(UX_1), piece(CNDA_PIECE), Target::TestRecording] {
        let ok = d
            .deposit_admission(&programme, &target, date_2bis())
            .expect("at the instant of Date 2bis");
        assert_eq!(ok.deadline.map(|x| x.due), Some(date_2bis()), "{target}");
        assert_eq!(
            ok.rule,
            format!(
                "Dossier complet de preuves à soumettre au plus tard le {NOON_31_MARCH}, heure de Paris."
            )
        );
        let late = date_2bis() + second();
        let err = d
            .deposit_admission(&programme, &target, late)
            .expect_err("one second after Date 2bis");
        assert!(
            matches!(
                &err,
                DossierError::CutOff(CutOffError::CompleteDossierTooLate { due, received, .. })
                    if *due == date_2bis() && *received == late
            ),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("le formulaire a été reçu le 31/03/2026 à 12:00:01"),
            "{err}"
        );
    }
}

#[test]
fn once_complete_a_proof_redeposit_is_an_exchange_until_date_3() {
    let programme = hop();
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    d.complete_at = Some(paris(2026, 3, 20, 9, 0, 0));
    assert_eq!(date_3(), utc("2026-06-30T10:00:00Z"));

    // After Date 2bis, before Date 3: allowed as a redeposit.
    let ok = d
        .deposit_admission(&programme, &proof(UX_1), date_2bis() + second())
        .expect("a redeposit after Date 2bis");
    assert_eq!(ok.deadline.as_ref().map(|x| x.due), Some(date_3()));
    assert_eq!(
        ok.rule,
        format!(
            "Le formulaire de dépôt de preuves est ouvert jusqu'à la Date 3 ({NOON_30_JUNE}, heure de Paris), fin des échanges entre l'éditeur et l'ANS ; au-delà, aucun nouvel échange ne peut intervenir (DSR §4.4)."
        )
    );
    for target in [proof(UX_2), Target::TestRecording, piece(CNDA_PIECE)] {
        assert!(
            d.deposit_admission(&programme, &target, date_3()).is_ok(),
            "{target} at Date 3"
        );
        let err = d
            .deposit_admission(&programme, &target, date_3() + second())
            .expect_err("one second after Date 3");
        assert!(
            matches!(
                err,
                DossierError::CutOff(CutOffError::ExchangesClosed {
                    kind: ExchangeKind::ProofRedeposit,
                    ..
                })
            ),
            "{target}: {err:?}"
        );
    }
}

#[test]
fn a_pentest_report_is_accepted_until_date_3() {
    let programme = hop();
    let pentest = piece(PENTEST_PIECE);
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);

    // Before completion it also builds the dossier: Date 2bis applies too.
    let ok = d
        .deposit_admission(&programme, &pentest, date_2bis())
        .expect("before Date 2bis");
    assert_eq!(ok.deadline.map(|x| x.due), Some(date_3()));
    assert_eq!(
        ok.rule,
        format!(
            "Un nouveau rapport de test d'intrusion peut être déposé jusqu'à la Date 3 ({NOON_30_JUNE}, heure de Paris) (DSR §4.4)."
        )
    );
    let err = d
        .deposit_admission(&programme, &pentest, date_2bis() + second())
        .expect_err("incomplete after Date 2bis");
    assert!(matches!(
        err,
        DossierError::CutOff(CutOffError::CompleteDossierTooLate { .. })
    ));

    d.complete_at = Some(paris(2026, 3, 20, 9, 0, 0));
    assert!(
        d.deposit_admission(&programme, &pentest, date_2bis() + second())
            .is_ok()
    );
    let ok = d
        .deposit_admission(&programme, &pentest, date_3())
        .expect("at Date 3");
    assert_eq!(ok.deadline.map(|x| x.due), Some(date_3()));
    let err = d
        .deposit_admission(&programme, &pentest, date_3() + second())
        .expect_err("after Date 3");
    assert!(matches!(
        &err,
        DossierError::CutOff(CutOffError::ExchangesClosed {
            kind: ExchangeKind::PentestReport,
            ..
        })
    ));
    assert!(
        err.to_string()
            .starts_with("Rapport de test d'intrusion refusé"),
        "{err}"
    );
}

#[test]
fn the_cnda_attestation_passes_date_3_only_after_pre_examination() {
    let programme = hop();
    let cnda = piece(CNDA_PIECE);
    let after = paris(2026, 9, 15, 16, 0, 0);
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    d.complete_at = Some(paris(2026, 3, 20, 9, 0, 0));

    let err = d
        .deposit_admission(&programme, &cnda, after)
        .expect_err("not pre-examined");
    assert!(matches!(
        err,
        DossierError::CutOff(CutOffError::ExchangesClosed {
            kind: ExchangeKind::ProofRedeposit,
            ..
        })
    ));

    d.cnda_pre_examined = true;
    let ok = d
        .deposit_admission(&programme, &cnda, after)
        .expect("derogation");
    assert!(ok.deadline.is_none());
    assert!(ok.rule.starts_with("Par dérogation"), "{}", ok.rule);
    assert!(
        ok.rule
            .contains(&format!("après la Date 3 ({NOON_30_JUNE}, heure de Paris)"))
    );
    // The derogation is for that piece only.
    assert!(
        d.deposit_admission(&programme, &proof(UX_1), after)
            .is_err()
    );
    assert!(
        d.deposit_admission(&programme, &piece(PENTEST_PIECE), after)
            .is_err()
    );
}

#[test]
fn a_permanent_programme_never_cuts_deposits_off() {
    let pde = load("PDE", PDE);
    let far = utc("2031-01-01T09:00:00+01:00");
    let mut d = ProofDossier::new("REM-PDE v1", Wave1Status::NotReferenced);
    for complete in [None, Some(utc("2030-01-01T00:00:00Z"))] {
        d.complete_at = complete;
        for target in [
            proof(UX_1),
            piece(PENTEST_PIECE),
            piece(CNDA_PIECE),
            Target::TestRecording,
        ] {
            let ok = d
                .deposit_admission(&pde, &target, far)
                .expect("permanent programme");
            assert!(ok.deadline.is_none(), "{target}");
        }
    }
}

#[test]
fn a_decided_dossier_accepts_no_deposit() {
    let programme = hop();
    let at = paris(2026, 2, 2, 9, 0, 0);
    let mut d = in_instruction(at);
    d.events.push(Decided(at + Duration::days(10)));
    for target in [proof(UX_1), piece(PENTEST_PIECE), piece(CNDA_PIECE)] {
        let err = d
            .deposit_admission(&programme, &target, at + Duration::days(11))
            .expect_err("decided");
        assert_eq!(
            refused(err),
            "L'instruction de ce dossier est close : aucun dépôt n'est plus possible."
        );
    }
    let c = checklist_for(&d);
    let err = d
        .submit(&programme, &c, &everything(), None, at + Duration::days(11))
        .expect_err("decided");
    assert_eq!(
        refused(err),
        "L'instruction de ce dossier est close : aucun dépôt n'est plus possible."
    );
}

// --- submit --------------------------------------------------------------------------------

#[test]
fn an_incomplete_chapter_names_every_missing_proof() {
    let programme = hop();
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    let c = checklist_for(&d);
    let before = d.clone();
    let at = paris(2026, 2, 2, 9, 0, 0);

    let err = d
        .submit(&programme, &c, &BTreeSet::new(), Some(DMP), at)
        .expect_err("nothing deposited");
    let (message, missing) = missing_of(err);
    assert_eq!(
        message,
        "Le chapitre « DMP » est incomplet : 2 preuve(s) ou pièce(s) requise(s) manquante(s)."
    );
    assert_eq!(missing, [format!("{UX_1} — DMP"), format!("{UX_2} — DMP")]);

    // Only the chapter's own proofs count; the extra pieces are for the whole dossier.
    let err = d
        .submit(&programme, &c, &targets(&[proof(INS_62_1)]), Some(INS), at)
        .expect_err("two INS proofs missing");
    let (_, missing) = missing_of(err);
    assert_eq!(
        missing,
        [format!("{INS_1} — {INS}"), format!("{INS_62_2} — {INS}")]
    );

    let err = d
        .submit(&programme, &c, &targets(&[proof(UX_2)]), None, at)
        .expect_err("whole dossier");
    let (message, missing) = missing_of(err);
    assert_eq!(
        message,
        "Le dossier de preuves est incomplet : 6 preuve(s) ou pièce(s) requise(s) manquante(s)."
    );
    assert_eq!(
        missing,
        [
            format!("{UX_1} — DMP"),
            format!("{INS_1} — {INS}"),
            format!("{INS_62_1} — {INS}"),
            format!("{INS_62_2} — {INS}"),
            "Pièce : Attestations d'homologation CNDA".to_string(),
            "Pièce : Rapport de test d'intrusion".to_string(),
        ]
    );
    assert_eq!(d, before, "a refused submission changes nothing");
}

#[test]
fn complete_chapters_queue_the_dossier_and_pieces_complete_it() {
    let programme = hop();
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    let c = checklist_for(&d);
    let t1 = paris(2026, 2, 2, 9, 0, 0);
    let t2 = paris(2026, 2, 3, 10, 0, 0);
    let t3 = paris(2026, 2, 10, 11, 0, 0);
    let t4 = paris(2026, 3, 2, 14, 30, 0);
    let mut deposited = targets(&dmp_proofs());
    // Depositing a proof that is not required does not hurt.
    deposited.insert(proof(CIBA_1));

    let s = d
        .submit(&programme, &c, &deposited, Some(DMP), t1)
        .expect("complete chapter");
    assert_eq!(
        s,
        Submission {
            chapters: vec![DMP.to_string()],
            completed: false,
            rule: format!(
                "Dossier complet de preuves à soumettre au plus tard le {NOON_31_MARCH}, heure de Paris."
            ),
        }
    );
    assert_eq!(d.events, [ChapterComplete(t1)]);
    assert_eq!(d.chapters[DMP], ChapterRecord { submitted_at: t1 });
    assert_eq!(d.complete_at, None);
    let clock = d.clock(hop_rules()).expect("clock");
    assert_eq!(clock.started(), Some(t1));
    assert_eq!(clock.queue_key(t1), Some(t1));

    // The same chapter again is no new place in the queue.
    let s = d
        .submit(&programme, &c, &deposited, Some(DMP), t2)
        .expect("redeposit");
    assert!(s.chapters.is_empty());
    assert!(!s.completed);
    assert_eq!(d.events, [ChapterComplete(t1)]);
    assert_eq!(d.chapters.len(), 1);

    // Every chapter with required proofs, but the pieces are not in yet.
    deposited.extend(ins_proofs());
    let s = d
        .submit(&programme, &c, &deposited, Some(INS), t3)
        .expect("INS chapter");
    assert_eq!(s.chapters, [INS.to_string()]);
    assert!(!s.completed, "the mandatory pieces are missing");
    assert_eq!(d.complete_at, None);
    assert_eq!(d.events, [ChapterComplete(t1), ChapterComplete(t3)]);
    assert!(!d.chapters.contains_key(LINKED));

    // One piece is not enough.
    deposited.insert(piece(PENTEST_PIECE));
    let s = d
        .submit(&programme, &c, &deposited, Some(DMP), t3)
        .expect("still incomplete");
    assert!(!s.completed);
    let err = d
        .submit(&programme, &c, &deposited, None, t3)
        .expect_err("the whole dossier needs the CNDA piece");
    let (_, missing) = missing_of(err);
    assert_eq!(missing, ["Pièce : Attestations d'homologation CNDA"]);

    deposited.insert(piece(CNDA_PIECE));
    let s = d
        .submit(&programme, &c, &deposited, Some(DMP), t4)
        .expect("completes");
    assert!(s.completed);
    assert!(s.chapters.is_empty());
    assert_eq!(d.complete_at, Some(t4));
    assert_eq!(
        d.events,
        [ChapterComplete(t1), ChapterComplete(t3)],
        "completion is not a new receipt"
    );

    // A later submission is an exchange, not a second completion.
    let s = d
        .submit(&programme, &c, &deposited, None, t4 + Duration::days(1))
        .expect("resubmission");
    assert!(!s.completed);
    assert_eq!(d.complete_at, Some(t4));
}

#[test]
fn the_whole_dossier_in_one_submission() {
    let at = paris(2026, 3, 31, 11, 59, 59);
    let d = completed(at);
    assert_eq!(d.complete_at, Some(at));
    assert!(d.chapters.contains_key(DMP));
    assert!(d.chapters.contains_key(INS));
    assert_eq!(d.events.first(), Some(&ChapterComplete(at)));
    assert!(d.events.iter().all(|e| *e == ChapterComplete(at)));
    assert_eq!(d.clock(hop_rules()).expect("clock").started(), Some(at));
}

#[test]
fn completing_after_date_2bis_is_refused() {
    let programme = hop();
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    let c = checklist_for(&d);
    let late = date_2bis() + second();
    for chapter in [None, Some(DMP)] {
        let err = d
            .submit(&programme, &c, &everything(), chapter, late)
            .expect_err("after Date 2bis");
        assert!(
            matches!(
                &err,
                DossierError::CutOff(CutOffError::CompleteDossierTooLate { due, .. })
                    if *due == date_2bis()
            ),
            "{err:?}"
        );
    }
    assert!(d.events.is_empty() && d.chapters.is_empty());

    // A dossier with a chapter in cannot be completed after Date 2bis either.
    let mut d = in_instruction(paris(2026, 3, 1, 9, 0, 0));
    let err = d
        .submit(&programme, &c, &everything(), Some(INS), late)
        .expect_err("after Date 2bis");
    assert!(matches!(
        err,
        DossierError::CutOff(CutOffError::CompleteDossierTooLate { .. })
    ));
    assert_eq!(d.complete_at, None);

    // At the instant itself, it is on time.
    let s = d
        .submit(&programme, &c, &everything(), None, date_2bis())
        .expect("at Date 2bis");
    assert!(s.completed);
    assert_eq!(d.complete_at, Some(date_2bis()));
}

#[test]
fn a_resubmission_after_completion_closes_with_date_3() {
    let programme = hop();
    let mut d = completed(paris(2026, 3, 10, 9, 0, 0));
    let c = checklist_for(&d);
    let events = d.events.clone();

    let s = d
        .submit(&programme, &c, &everything(), Some(DMP), date_3())
        .expect("at Date 3");
    assert!(!s.completed);
    assert!(s.chapters.is_empty());
    assert_eq!(
        s.rule,
        format!(
            "Le formulaire de dépôt de preuves est ouvert jusqu'à la Date 3 ({NOON_30_JUNE}, heure de Paris), fin des échanges entre l'éditeur et l'ANS ; au-delà, aucun nouvel échange ne peut intervenir (DSR §4.4)."
        )
    );
    assert_eq!(d.events, events);

    let err = d
        .submit(
            &programme,
            &c,
            &everything(),
            Some(DMP),
            date_3() + second(),
        )
        .expect_err("after Date 3");
    assert!(matches!(
        &err,
        DossierError::CutOff(CutOffError::ExchangesClosed {
            kind: ExchangeKind::ProofRedeposit,
            received,
            ..
        }) if *received == date_3() + second()
    ));
    assert!(err.to_string().contains("30/06/2026 à 12:00:01"), "{err}");
}

#[test]
fn an_unknown_chapter_is_refused() {
    let programme = hop();
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    let c = checklist_for(&d);
    let err = d
        .submit(
            &programme,
            &c,
            &everything(),
            Some("Messagerie"),
            paris(2026, 2, 2, 9, 0, 0),
        )
        .expect_err("unknown chapter");
    assert_eq!(
        refused(err),
        format!("Le chapitre « Messagerie » n'existe pas dans la version {REM_VERSION} du REM.")
    );
    assert!(d.chapters.is_empty() && d.events.is_empty());
}

#[test]
fn an_added_proof_joins_its_chapter() {
    let programme = hop();
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    let all_keys = proof_keys(&rem());
    assert!(d.add_proof(&all_keys, key(CIBA_1)).expect("known"));
    let c = checklist_for(&d);
    let at = paris(2026, 2, 2, 9, 0, 0);
    let err = d
        .submit(&programme, &c, &targets(&dmp_proofs()), Some(DMP), at)
        .expect_err("the added proof is required");
    let (_, missing) = missing_of(err);
    assert_eq!(missing, [format!("{CIBA_1} — DMP")]);
}

#[test]
fn bio_completion_needs_its_pieces() {
    let bio = load("BIO", BIO);
    let mut d = ProofDossier::new("REM-BIO-SGL-Va1 v1", Wave1Status::NotReferenced);
    let c = checklist_for(&d);
    let at = paris(2022, 6, 1, 10, 0, 0);
    let mut deposited = targets(&dmp_proofs());
    deposited.extend(ins_proofs());
    let err = d
        .submit(&bio, &c, &deposited, None, at)
        .expect_err("pieces missing");
    let (_, missing) = missing_of(err);
    assert_eq!(
        missing,
        [
            "Pièce : Dossier CNDA",
            "Pièce : Questionnaire de maturité SSI"
        ]
    );
    deposited.insert(piece(CNDA_PIECE));
    deposited.insert(piece("ssi-maturity"));
    let s = d.submit(&bio, &c, &deposited, None, at).expect("complete");
    assert!(s.completed);
    assert!(s.rule.contains("ne fixe pas de date limite"), "{}", s.rule);
    assert_eq!(d.complete_at, Some(at));
}

// --- ask / answer ---------------------------------------------------------------------------

#[test]
fn a_question_stops_the_clock_with_french_day_counting() {
    let programme = hop();
    let rules = hop_rules();
    let mut d = in_instruction(paris(2026, 2, 16, 9, 0, 0));
    assert!(!d.question_pending());

    // Monday 2 March 2026, 10:00 CET.
    let asked = paris(2026, 3, 2, 10, 0, 0);
    assert_eq!(asked, utc("2026-03-02T09:00:00Z"));
    let (abandonment, keep_place) = d.ask(&rules, asked).expect("question");
    // 30 days, the day of the question not counted: 24:00 Paris (CEST) on 1 April.
    assert_eq!(abandonment, utc("2026-04-01T22:00:00Z"));
    assert_eq!(
        french_deadline(abandonment),
        "mercredi 1 avril 2026 à\u{a0}24\u{a0}h\u{a0}00"
    );
    assert_ne!(abandonment, asked + Duration::days(30));
    assert_eq!(keep_place, asked + Duration::hours(24));
    assert_eq!(keep_place, utc("2026-03-03T09:00:00Z"));
    assert!(d.question_pending());
    assert_eq!(d.events.last(), Some(&QuestionAsked(asked)));

    // A second question while one is pending.
    let err = d
        .ask(&rules, asked + Duration::hours(1))
        .expect_err("one at a time");
    assert_eq!(
        err,
        DossierError::Clock(ClockError::QuestionPending { asked })
    );
    assert_eq!(d.events.len(), 2);

    // Answered 24 hours later to the second: the place is kept.
    assert_eq!(d.answer(&programme, &rules, keep_place), Ok(true));
    assert!(!d.question_pending());
    let clock = d.clock(rules.clone()).expect("clock");
    assert!(clock.moves().is_empty());

    // No question pending.
    assert_eq!(
        d.answer(&programme, &rules, keep_place + second()),
        Err(DossierError::Clock(ClockError::NoPendingQuestion))
    );

    // A second question, answered one second too late: the place is lost.
    let asked2 = paris(2026, 3, 9, 16, 0, 0);
    let (_, keep2) = d.ask(&rules, asked2).expect("second question");
    assert_eq!(keep2, utc("2026-03-10T15:00:00Z"));
    assert!(d.question_pending());
    let late = keep2 + second();
    assert_eq!(d.answer(&programme, &rules, late), Ok(false));
    assert!(!d.question_pending());
    let clock = d.clock(rules).expect("clock");
    assert_eq!(clock.queue_key(late), Some(late));
    assert_eq!(clock.stops().len(), 2);
}

#[test]
fn an_answer_after_abandonment_is_refused() {
    let programme = hop();
    let rules = hop_rules();
    let mut d = in_instruction(paris(2026, 2, 16, 9, 0, 0));
    let asked = paris(2026, 3, 2, 10, 0, 0);
    let (abandonment, _) = d.ask(&rules, asked).expect("question");
    let mut on_time = d.clone();

    let err = d
        .answer(&programme, &rules, abandonment + second())
        .expect_err("abandoned");
    assert!(
        matches!(err, DossierError::Clock(ClockError::Abandoned { asked: a, due, .. }) if a == asked && due == abandonment),
        "{err:?}"
    );
    assert!(d.question_pending(), "nothing recorded");

    assert_eq!(on_time.answer(&programme, &rules, abandonment), Ok(false));
}

#[test]
fn an_answer_after_date_3_is_not_instructed() {
    let programme = hop();
    let rules = hop_rules();
    let mut d = completed(paris(2026, 3, 10, 9, 0, 0));
    let asked = paris(2026, 6, 30, 11, 0, 0);
    d.ask(&rules, asked).expect("question before Date 3");
    let mut at_date_3 = d.clone();

    let err = d
        .answer(&programme, &rules, date_3() + second())
        .expect_err("after Date 3");
    assert!(
        matches!(
            &err,
            DossierError::CutOff(CutOffError::ExchangesClosed {
                kind: ExchangeKind::Answer,
                ..
            })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("aucune réponse complémentaire de l'éditeur n'est instruite"),
        "{err}"
    );
    assert!(d.question_pending());

    assert_eq!(at_date_3.answer(&programme, &rules, date_3()), Ok(true));
}

#[test]
fn questions_need_an_instruction_in_order() {
    let rules = hop_rules();
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    assert_eq!(
        d.ask(&rules, paris(2026, 2, 2, 9, 0, 0)),
        Err(DossierError::Clock(ClockError::NotInInstruction {
            label: "sollicitation de l'ANS"
        }))
    );
    assert!(d.events.is_empty());

    let chapter = paris(2026, 2, 16, 9, 0, 0);
    let mut d = in_instruction(chapter);
    let err = d
        .ask(&rules, chapter - second())
        .expect_err("before the chapter");
    assert!(matches!(
        err,
        DossierError::Clock(ClockError::OutOfOrder { .. })
    ));
    assert_eq!(d.events, [ChapterComplete(chapter)]);

    // A decision ends a pending question.
    d.ask(&rules, chapter).expect("question");
    assert!(d.question_pending());
    d.events.push(Decided(chapter + Duration::days(3)));
    assert!(!d.question_pending());
    assert!(matches!(
        d.ask(&rules, chapter + Duration::days(4)),
        Err(DossierError::Clock(ClockError::AlreadyDecided { .. }))
    ));
}

// --- rule_on, statuses, all_valid -----------------------------------------------------------

#[test]
fn verdicts_need_something_to_instruct_and_a_reason() {
    let at = paris(2026, 2, 16, 9, 0, 0);
    let mut fresh = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    assert_eq!(
        refused(
            fresh
                .rule_on(&proof(UX_1), true, "", "instructeur-1", at)
                .expect_err("nothing submitted")
        ),
        "Aucun chapitre n'a encore été soumis : rien n'est à instruire."
    );
    assert!(fresh.verdicts.is_empty());

    let mut d = in_instruction(at);
    let later = at + Duration::days(2);
    assert_eq!(
        refused(
            d.rule_on(&proof(UX_1), false, "  \n", "instructeur-1", later)
                .expect_err("unmotivated")
        ),
        "Un avis non conforme doit être motivé : indiquez la raison."
    );
    assert_eq!(
        refused(
            d.rule_on(
                &proof(UX_1),
                false,
                &"é".repeat(4001),
                "instructeur-1",
                later
            )
            .expect_err("too long")
        ),
        "La motivation dépasse 4 000 caractères."
    );
    assert!(d.verdicts.is_empty());
    d.rule_on(
        &proof(UX_1),
        false,
        &"é".repeat(4000),
        "instructeur-1",
        later,
    )
    .expect("4 000 characters are fine");

    d.rule_on(
        &proof(UX_1),
        false,
        "  Capture illisible. ",
        "instructeur-1",
        later,
    )
    .expect("motivated");
    assert_eq!(
        d.verdicts[UX_1],
        Verdict {
            compliant: false,
            reason: Some("Capture illisible.".to_string()),
            by: "instructeur-1".to_string(),
            at: later,
        }
    );
    // A new verdict replaces the previous one.
    d.rule_on(&proof(UX_1), true, " ", "instructeur-2", later + second())
        .expect("compliant");
    assert_eq!(
        d.verdicts[UX_1],
        Verdict {
            compliant: true,
            reason: None,
            by: "instructeur-2".to_string(),
            at: later + second(),
        }
    );
    d.rule_on(&piece(PENTEST_PIECE), true, "RAS", "instructeur-2", later)
        .expect("a piece");
    assert!(d.verdicts["piece:pentest-report"].compliant);
    assert_eq!(d.verdicts.len(), 2);

    d.events.push(Decided(later + Duration::days(1)));
    assert_eq!(
        refused(
            d.rule_on(
                &proof(UX_2),
                true,
                "",
                "instructeur-1",
                later + Duration::days(2)
            )
            .expect_err("decided")
        ),
        "L'instruction de ce dossier est close."
    );

    // A completed dossier without chapter record is still instructed.
    let mut complete_only = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    complete_only.complete_at = Some(at);
    assert!(
        complete_only
            .rule_on(&proof(UX_1), true, "", "instructeur-1", later)
            .is_ok()
    );
}

fn statuses(d: &ProofDossier) -> Vec<(String, RequirementStatus)> {
    requirement_statuses(&checklist_for(d), &d.verdicts)
        .into_iter()
        .map(|(id, s)| (id.to_string(), s))
        .collect()
}

fn status_list(list: &[(&str, RequirementStatus)]) -> Vec<(String, RequirementStatus)> {
    list.iter().map(|(id, s)| (id.to_string(), *s)).collect()
}

#[test]
fn requirement_statuses_follow_the_verdicts() {
    use RequirementStatus::{Compliant, NotCompliant, NotRequired, Pending};
    let programme = hop();
    let at = paris(2026, 3, 2, 9, 0, 0);
    let mut d = completed(at);
    let c = checklist_for(&d);
    let by = "instructeur-1";
    assert_eq!(
        statuses(&d),
        status_list(&[
            ("SC.DMP/UX.12", Pending),
            ("SC.PSC/CIBA.01", NotRequired),
            ("SC.DB/DPI.01", NotRequired),
            ("INS/va1.01", Pending),
            ("INS/va1.62", Pending),
        ])
    );
    assert!(!all_valid(&programme, &c, &d));

    d.rule_on(&proof(UX_1), true, "", by, at).expect("verdict");
    assert_eq!(statuses(&d)[0].1, Pending, "one proof of two");
    d.rule_on(&proof(UX_2), true, "", by, at).expect("verdict");
    assert_eq!(statuses(&d)[0].1, Compliant);
    // A verdict on a proof that is not required changes nothing.
    d.rule_on(&proof(CIBA_1), false, "hors profil", by, at)
        .expect("verdict");
    assert_eq!(statuses(&d)[1].1, NotRequired);

    d.rule_on(&proof(INS_62_2), false, "Scénario non déroulé", by, at)
        .expect("verdict");
    assert_eq!(
        statuses(&d)[4].1,
        NotCompliant,
        "not compliant beats pending"
    );
    d.rule_on(&proof(INS_62_1), true, "", by, at)
        .expect("verdict");
    d.rule_on(&proof(INS_1), true, "", by, at).expect("verdict");
    assert_eq!(
        statuses(&d),
        status_list(&[
            ("SC.DMP/UX.12", Compliant),
            ("SC.PSC/CIBA.01", NotRequired),
            ("SC.DB/DPI.01", NotRequired),
            ("INS/va1.01", Compliant),
            ("INS/va1.62", NotCompliant),
        ])
    );
    assert!(!all_valid(&programme, &c, &d));
    d.rule_on(&proof(INS_62_2), true, "", by, at)
        .expect("verdict");
    assert!(statuses(&d).iter().all(|(_, s)| *s != NotCompliant));

    // Every proof compliant, but the assessed pieces have no verdict yet.
    assert!(!all_valid(&programme, &c, &d));
    d.rule_on(&piece(PENTEST_PIECE), true, "", by, at)
        .expect("verdict");
    assert!(!all_valid(&programme, &c, &d));
    d.rule_on(&piece(CNDA_PIECE), false, "Attestation expirée", by, at)
        .expect("verdict");
    assert!(!all_valid(&programme, &c, &d));
    d.rule_on(&piece(CNDA_PIECE), true, "", by, at)
        .expect("verdict");
    assert!(all_valid(&programme, &c, &d));

    assert_eq!(Pending.label(), "À instruire");
    assert_eq!(Compliant.label(), "Conforme");
    assert_eq!(NotCompliant.label(), "Non conforme");
    assert_eq!(NotRequired.label(), "Non requise");
}

#[test]
fn bio_does_not_assess_the_ssi_questionnaire() {
    let bio = load("BIO", BIO);
    let at = paris(2022, 6, 1, 10, 0, 0);
    let mut d = ProofDossier::new("REM-BIO-SGL-Va1 v1", Wave1Status::ReferencedWithIns);
    d.complete_at = Some(at);
    let c = checklist_for(&d);
    for k in [UX_1, UX_2] {
        d.rule_on(&proof(k), true, "", "instructeur-1", at)
            .expect("verdict");
    }
    assert!(!all_valid(&bio, &c, &d), "the CNDA piece is assessed");
    d.rule_on(&piece(CNDA_PIECE), true, "", "instructeur-1", at)
        .expect("verdict");
    assert!(
        all_valid(&bio, &c, &d),
        "the SSI questionnaire is mandatory but not assessed"
    );
}

// --- add_proof ------------------------------------------------------------------------------

#[test]
fn the_agency_adds_known_proofs_once() {
    let all_keys = proof_keys(&rem());
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::ReferencedWithIns);
    let unknown = key("SC.DMP/UX.99#preuve=DMP/UX.99.01.01");
    assert_eq!(
        refused(
            d.add_proof(&all_keys, unknown)
                .expect_err("not in this REM")
        ),
        format!(
            "La preuve « SC.DMP/UX.99#preuve=DMP/UX.99.01.01 » n'existe pas dans la version {REM_VERSION} du REM."
        )
    );
    assert!(d.additions.is_empty());

    assert_eq!(d.add_proof(&all_keys, key(INS_1)), Ok(true));
    assert_eq!(d.add_proof(&all_keys, key(INS_1)), Ok(false));
    assert_eq!(d.add_proof(&all_keys, key(CIBA_1)), Ok(true));
    assert_eq!(d.additions, [key(INS_1), key(CIBA_1)]);
    let c = checklist_for(&d);
    assert!(c.item(&key(INS_1)).is_some_and(|i| i.required));
    assert!(c.item(&key(INS_62_1)).is_some_and(|i| !i.required));
}

#[test]
fn initial_wave1_takes_the_stricter_reading() {
    assert_eq!(initial_wave1(None), Wave1Status::NotReferenced);
    assert_eq!(initial_wave1(Some(false)), Wave1Status::NotReferenced);
    assert_eq!(initial_wave1(Some(true)), Wave1Status::ReferencedWithoutIns);
}

// --- test session ---------------------------------------------------------------------------

fn scenario(name: &str, passed: bool, comment: &str) -> ScenarioOutcome {
    ScenarioOutcome {
        scenario: name.to_string(),
        passed,
        comment: comment.to_string(),
    }
}

#[test]
fn the_ins_test_day_opens_with_the_ins_chapter() {
    let programme = hop();
    let def = programme.def.test_session.as_ref();
    let d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    let c = checklist_for(&d);
    // Friday 20 March 2026, 15:00 CET; summer time starts on 29 March.
    let deposited_at = paris(2026, 3, 20, 15, 0, 0);

    // Not every INS proof is in: not open yet, whatever the caller says.
    let partial = targets(&[proof(INS_1), proof(INS_62_1)]);
    let w = test_window(def, &d, &c, &partial, Some(deposited_at)).expect("applies");
    assert_eq!(w.label, "Journée de test INS");
    assert_eq!((w.opened_at, w.due), (None, None));
    assert!(
        w.rule.starts_with(
            "Journée de test INS : ouverte une fois déposées toutes les preuves requises du chapitre « Gestion de l'INS », puis à tenir dans les 14 jours ("
        ),
        "{}",
        w.rule
    );
    let mut closed = d.clone();
    let err = closed
        .propose_test(&w, deposited_at + Duration::days(2), deposited_at)
        .expect_err("not open");
    assert!(refused(err).starts_with("Journée de test INS n'est pas encore ouverte : "));
    assert!(closed.test_session.is_none());

    let ins = targets(&ins_proofs());
    let w = test_window(def, &d, &c, &ins, None).expect("applies");
    assert_eq!(w.opened_at, None, "no deposit time");

    let w = test_window(def, &d, &c, &ins, Some(deposited_at)).expect("applies");
    assert_eq!(w.opened_at, Some(deposited_at));
    // 14 days, the day of the deposit not counted: 24:00 Paris (CEST) on Friday 3 April.
    assert_eq!(w.due, Some(utc("2026-04-03T22:00:00Z")));
    assert_eq!(
        w.rule,
        format!(
            "Journée de test INS à tenir au plus tard le vendredi 3 avril 2026 à\u{a0}24\u{a0}h\u{a0}00 ({}).",
            def.map(|t| t.description.as_str()).unwrap_or_default()
        )
    );

    // Referenced in wave 1 (with or without INS): no INS test day.
    for wave1 in [
        Wave1Status::ReferencedWithIns,
        Wave1Status::ReferencedWithoutIns,
    ] {
        let d = ProofDossier::new(REM_VERSION, wave1);
        let c = checklist_for(&d);
        assert_eq!(
            test_window(def, &d, &c, &ins, Some(deposited_at)),
            None,
            "{wave1:?}"
        );
    }
    assert_eq!(test_window(None, &d, &c, &ins, Some(deposited_at)), None);
}

#[test]
fn the_test_date_falls_within_the_window() {
    let programme = hop();
    let def = programme.def.test_session.as_ref();
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    let c = checklist_for(&d);
    let deposited_at = paris(2026, 3, 20, 15, 0, 0);
    let w = test_window(def, &d, &c, &targets(&ins_proofs()), Some(deposited_at)).expect("applies");
    let due = utc("2026-04-03T22:00:00Z");
    let now = paris(2026, 3, 23, 9, 0, 0);

    let err = d
        .propose_test(&w, due + second(), now)
        .expect_err("too late");
    assert_eq!(
        refused(err),
        format!("La date proposée est trop tardive : {}", w.rule)
    );
    let err = d
        .propose_test(&w, now - second(), now)
        .expect_err("in the past");
    assert_eq!(refused(err), "La date proposée est déjà passée.");
    assert!(d.test_session.is_none());

    // The last instant of the window and the present are both fine.
    d.propose_test(&w, now, now).expect("now");
    d.propose_test(&w, due, now).expect("the last instant");
    assert_eq!(
        d.test_session,
        Some(TestSession {
            proposed_at: now,
            date: due,
            confirmed_at: None,
            outcomes: vec![],
            recorded_at: None,
        })
    );

    // A date proposed again replaces the previous one and its confirmation.
    let date = paris(2026, 4, 1, 14, 0, 0);
    d.confirm_test(now + Duration::hours(1)).expect("confirm");
    d.propose_test(&w, date, now + Duration::hours(2))
        .expect("new date");
    let session = d.test_session.as_ref().expect("session");
    assert_eq!((session.date, session.confirmed_at), (date, None));
}

#[test]
fn recording_the_test_session() {
    let programme = hop();
    let def = programme.def.test_session.as_ref();
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    let c = checklist_for(&d);
    let deposited_at = paris(2026, 3, 20, 15, 0, 0);
    let w = test_window(def, &d, &c, &targets(&ins_proofs()), Some(deposited_at)).expect("applies");
    let now = paris(2026, 3, 23, 9, 0, 0);
    let date = paris(2026, 4, 1, 14, 0, 0);
    let after = paris(2026, 4, 1, 17, 0, 0);
    let ok = vec![scenario("INS-01", true, "")];

    assert_eq!(
        refused(d.confirm_test(now).expect_err("nothing proposed")),
        "Aucune date de session de test n'est proposée."
    );
    assert_eq!(
        refused(
            d.record_test(ok.clone(), true, after)
                .expect_err("nothing planned")
        ),
        "Aucune session de test n'est prévue."
    );

    d.propose_test(&w, date, now).expect("proposed");
    assert_eq!(
        refused(
            d.record_test(ok.clone(), true, after)
                .expect_err("not confirmed")
        ),
        "L'éditeur n'a pas encore confirmé la date de la session."
    );
    let confirmed = now + Duration::hours(3);
    d.confirm_test(confirmed).expect("confirmed");
    assert_eq!(
        refused(d.confirm_test(confirmed).expect_err("twice")),
        "La date est déjà confirmée."
    );
    let refusal = refused(
        d.record_test(ok.clone(), true, date - Duration::seconds(1))
            .expect_err("before the session"),
    );
    assert!(
        refusal.starts_with("La session de test est prévue le"),
        "{refusal}"
    );
    assert_eq!(
        refused(
            d.record_test(ok.clone(), false, after)
                .expect_err("no recording")
        ),
        "L'enregistrement de la session n'est pas encore déposé."
    );
    assert_eq!(
        refused(d.record_test(vec![], true, after).expect_err("no outcome")),
        "Indiquez le résultat d'au moins un scénario."
    );
    let failed_silently = vec![
        scenario("INS-01", true, ""),
        scenario("INS-02", false, "  "),
    ];
    assert_eq!(
        refused(
            d.record_test(failed_silently, true, after)
                .expect_err("failure without comment")
        ),
        "Le scénario INS-02 est en échec : indiquez pourquoi."
    );
    let session = d.test_session.clone().expect("session");
    assert!(session.outcomes.is_empty() && session.recorded_at.is_none());

    let outcomes = vec![
        scenario("INS-01", true, ""),
        scenario("INS-02", false, "Identité non qualifiée"),
    ];
    d.record_test(outcomes.clone(), true, after)
        .expect("recorded");
    assert_eq!(
        d.test_session,
        Some(TestSession {
            proposed_at: now,
            date,
            confirmed_at: Some(confirmed),
            outcomes,
            recorded_at: Some(after),
        })
    );

    let err = d
        .propose_test(&w, paris(2026, 4, 2, 9, 0, 0), after)
        .expect_err("already recorded");
    assert_eq!(
        refused(err),
        "Le résultat de la session de test est déjà consigné."
    );
}

#[test]
fn the_bio_test_session_is_due_28_days_after_the_instruction_starts() {
    let bio = load("BIO", BIO);
    let def = bio.def.test_session.as_ref();
    let mut d = ProofDossier::new("REM-BIO-SGL-Va1 v1", Wave1Status::ReferencedWithIns);
    let c = checklist_for(&d);
    let nothing = BTreeSet::new();

    let w = test_window(def, &d, &c, &nothing, None).expect("applies to every solution");
    assert_eq!(w.label, "Session de test");
    assert_eq!((w.opened_at, w.due), (None, None));
    assert_eq!(
        w.rule,
        format!(
            "Session de test : à tenir dans les 28 jours suivant le début de l'instruction ({}).",
            def.map(|t| t.description.as_str()).unwrap_or_default()
        )
    );

    // Wednesday 1 June 2022, 10:00 CEST.
    let start = paris(2022, 6, 1, 10, 0, 0);
    d.events = vec![
        ChapterComplete(start),
        ChapterComplete(start + Duration::days(3)),
    ];
    let w = test_window(def, &d, &c, &nothing, Some(start + Duration::days(9))).expect("applies");
    assert_eq!(w.opened_at, Some(start), "the first complete chapter");
    assert_eq!(w.due, Some(utc("2022-06-29T22:00:00Z")));
    assert!(
        w.rule
            .starts_with("Session de test à tenir au plus tard le mercredi 29 juin 2022 à\u{a0}24\u{a0}h\u{a0}00 ("),
        "{}",
        w.rule
    );

    let now = paris(2022, 6, 10, 9, 0, 0);
    assert!(
        d.propose_test(&w, utc("2022-06-29T22:00:01Z"), now)
            .is_err()
    );
    d.propose_test(&w, paris(2022, 6, 29, 23, 59, 59), now)
        .expect("last day");
}

// --- bugs -----------------------------------------------------------------------------------

/// A chapter that requires no deposit (here « Exigences liées », whose only line asks for no
/// proof) is « complete » with nothing deposited; submitting it alone gives the dossier its
/// queue place, ahead of every editor who deposited real proofs.
#[test]
fn a_chapter_without_required_proof_is_no_queue_receipt() {
    let programme = hop();
    let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
    let c = checklist_for(&d);
    let at = paris(2026, 1, 5, 9, 0, 0);
    let result = d.submit(&programme, &c, &BTreeSet::new(), Some(LINKED), at);
    let started = d.clock(hop_rules()).expect("clock").started();
    assert!(
        result.is_err() || started.is_none(),
        "submitted nothing, yet queued since {started:?}"
    );
}

/// DSR-BIO-SGL-Va1 §4.4 queues by the reception of the complete dossier and counts the
/// indicative 6 weeks (and the 28-day test session) from it; instruction.rs documents
/// `ChapterComplete` as « BIO: the complete dossier ». `submit` pushes it for the first
/// complete chapter whatever the programme.
#[test]
fn bio_queues_on_the_complete_dossier() {
    let bio = load("BIO", BIO);
    let mut d = ProofDossier::new("REM-BIO-SGL-Va1 v1", Wave1Status::NotReferenced);
    let c = checklist_for(&d);
    let at = paris(2022, 6, 1, 10, 0, 0);
    let s = d
        .submit(&bio, &c, &targets(&dmp_proofs()), Some(DMP), at)
        .expect("complete chapter");
    assert!(!s.completed);
    let clock = d
        .clock(InstructionRules::for_programme(&bio))
        .expect("clock");
    assert_eq!(
        clock.started(),
        None,
        "the instruction started before the dossier is complete"
    );
}

/// `submit` records the chapters before pushing their events; when the clock refuses the
/// event (here the candidature is abandoned: a question unanswered for 30 days) the call
/// fails but the dossier keeps the chapter as submitted.
#[test]
fn a_refused_submission_changes_nothing() {
    let programme = hop();
    let rules = hop_rules();
    let mut d = in_instruction(paris(2026, 1, 5, 9, 0, 0));
    let (abandonment, _) = d.ask(&rules, paris(2026, 1, 6, 9, 0, 0)).expect("question");
    let c = checklist_for(&d);
    let before = d.clone();
    let err = d
        .submit(
            &programme,
            &c,
            &everything(),
            Some(INS),
            abandonment + second(),
        )
        .expect_err("abandoned");
    assert!(matches!(
        err,
        DossierError::Clock(ClockError::Abandoned { .. })
    ));
    assert_eq!(d, before);
}

// --- property -------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Step {
    Ask,
    Answer,
}

fn arb_steps() -> impl Strategy<Value = Vec<(Step, i64)>> {
    let step = prop_oneof![Just(Step::Ask), Just(Step::Answer)];
    // Mostly within a few days, sometimes past the 30-day abandonment.
    let delta = prop_oneof![
        4 => 0i64..=2 * 86_400,
        1 => 0i64..=40 * 86_400,
    ];
    proptest::collection::vec((step, delta), 0..24)
}

proptest! {
    #[test]
    fn stored_events_always_rebuild_the_clock(
        steps in arb_steps(),
        permanent in any::<bool>(),
        start_offset in 0i64..=120 * 86_400,
    ) {
        let programme = if permanent { load("PDE", PDE) } else { hop() };
        let rules = InstructionRules::for_programme(&programme);
        let mut now = paris(2026, 1, 5, 9, 0, 0) + Duration::seconds(start_offset);
        let mut d = ProofDossier::new(REM_VERSION, Wave1Status::NotReferenced);
        let c = checklist_for(&d);
        if d.submit(&programme, &c, &targets(&dmp_proofs()), Some(DMP), now).is_err() {
            // Only HOP after Date 2bis: nothing in instruction, nothing to check.
            prop_assert!(!permanent && now > date_2bis());
            prop_assert!(d.events.is_empty());
            return Ok(());
        }
        for (step, delta) in steps {
            now += Duration::seconds(delta);
            let before = d.events.len();
            let pending_before = d.question_pending();
            match step {
                Step::Ask => match d.ask(&rules, now) {
                    Ok((abandonment, keep_place)) => {
                        prop_assert!(!pending_before);
                        prop_assert_eq!(keep_place, now + Duration::hours(24));
                        prop_assert!(abandonment > now + Duration::days(29));
                        prop_assert!(abandonment <= now + Duration::days(31) + Duration::hours(1));
                    }
                    Err(_) => prop_assert_eq!(d.events.len(), before),
                },
                Step::Answer => match d.answer(&programme, &rules, now) {
                    Ok(kept) => {
                        prop_assert!(pending_before);
                        let clock = d.clock(rules.clone()).expect("clock");
                        let stop = clock.stops().last().expect("a stop");
                        prop_assert_eq!(kept, now <= stop.keep_place_due);
                    }
                    Err(_) => prop_assert_eq!(d.events.len(), before),
                },
            }
            prop_assert!(d.events.len() <= before + 1);
            let rebuilt = InstructionClock::from_events(rules.clone(), &d.events);
            prop_assert!(rebuilt.is_ok(), "{:?}: {:?}", d.events, rebuilt.err());
            let clock = d.clock(rules.clone()).expect("clock");
            prop_assert!(d.clock(hop_rules()).is_ok());
            prop_assert_eq!(d.question_pending(), clock.is_stopped());
            prop_assert!(d.events.windows(2).all(|w| w[0].at() <= w[1].at()));
        }
    }
}
