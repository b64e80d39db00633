//! The référencement rules of each programme, decision mode by decision mode.

use super::*;
use crate::programme::{ConventionMoment, DecisionMode, Programme};
use crate::proofs::cutoff::{ExchangeKind, check_exchange};
use chrono::{DateTime, Duration, NaiveDate, Utc};

const HOP: &str = include_str!("../../../../programmes/HOP-DPI-Va2/programme.toml");
const BIO: &str = include_str!("../../../../programmes/BIO-SGL-Va1/programme.toml");
const PDE: &str = include_str!("../../../../programmes/MS2-DUI-PDE-Va1-SF/programme.toml");

fn load(text: &str) -> Programme {
    match Programme::from_toml("test", text) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

fn convention(at: DateTime<Utc>) -> ConventionRecord {
    ConventionRecord {
        generated_at: at,
        generated_by: "instr".into(),
        attachment_id: "att-1".into(),
        sha256: "abc".into(),
    }
}

fn signature(at: DateTime<Utc>, digest: &str) -> SignatureRecord {
    SignatureRecord {
        signer_id: "rep".into(),
        signer_name: "Claire Martin".into(),
        signer_email: "rep@editeur.fr".into(),
        signed_at: at,
        document_sha256: digest.into(),
        method: "TOTP".into(),
        signed_attachment_id: "att-2".into(),
        signed_sha256: "def".into(),
    }
}

/// A referencing signed and on the agenda of `p`.
fn on_agenda(p: &Programme, now: DateTime<Utc>) -> Referencing {
    let m = p.def.committee.convention_signed;
    let mut r = Referencing::default();
    r.record_convention(m, true, convention(now))
        .expect("convention");
    r.sign(m, true, "abc", signature(now, "abc"))
        .expect("signed");
    assert_eq!(r.phase(m, true), Phase::OnAgenda);
    r
}

fn open(p: &Programme, now: DateTime<Utc>) -> bool {
    check_exchange(p, now, ExchangeKind::ProofRedeposit).is_ok()
}

#[test]
fn after_proofs_the_convention_waits_for_every_valid_proof() {
    let hop = load(HOP);
    let m = hop.def.committee.convention_signed;
    assert_eq!(m, ConventionMoment::AfterProofs);
    let mut r = Referencing::default();
    assert_eq!(r.phase(m, false), Phase::Instruction);
    let now = at("2026-03-02T10:00:00Z");
    assert!(r.record_convention(m, false, convention(now)).is_err());
    assert_eq!(r.phase(m, true), Phase::AwaitingConvention);
    r.record_convention(m, true, convention(now))
        .expect("generated");
    assert_eq!(r.phase(m, true), Phase::AwaitingSignature);
}

#[test]
fn bio_signs_with_the_candidature_and_waits_for_proofs_before_the_agenda() {
    let bio = load(BIO);
    let m = bio.def.committee.convention_signed;
    assert_eq!(m, ConventionMoment::WithCandidature);
    let now = at("2022-03-01T10:00:00Z");
    let mut r = Referencing::default();
    assert_eq!(r.phase(m, false), Phase::AwaitingConvention);
    r.record_convention(m, false, convention(now))
        .expect("generated");
    r.sign(m, false, "abc", signature(now, "abc"))
        .expect("signed");
    assert_eq!(r.phase(m, false), Phase::Instruction);
    assert_eq!(r.phase(m, true), Phase::OnAgenda);
}

#[test]
fn a_signature_covers_the_document_shown_and_only_once() {
    let hop = load(HOP);
    let m = hop.def.committee.convention_signed;
    let now = at("2026-03-02T10:00:00Z");
    let mut r = Referencing::default();
    assert!(r.sign(m, true, "abc", signature(now, "abc")).is_err());
    r.record_convention(m, true, convention(now))
        .expect("generated");
    let e = r
        .sign(m, true, "old", signature(now, "old"))
        .expect_err("stale document");
    assert!(e.0.contains("modifiée"), "{e}");
    r.sign(m, true, "abc", signature(now, "abc"))
        .expect("signed");
    assert!(r.sign(m, true, "abc", signature(now, "abc")).is_err());
    assert!(
        r.record_convention(m, true, convention(now)).is_err(),
        "signed: no regeneration"
    );
}

#[test]
fn attribution_in_every_programme() {
    for text in [HOP, BIO, PDE] {
        let p = load(text);
        let now = at("2026-02-05T15:00:00Z");
        let mut r = on_agenda(&p, now);
        let out = r
            .decide(
                &p,
                true,
                "s1",
                DecisionMode::Attribution,
                "",
                vec![],
                true,
                "cm",
                now,
            )
            .expect("decided");
        assert_eq!(out, Outcome::Referenced);
        r.refer("N-1".into(), "cm", now).expect("referred");
        assert_eq!(
            r.phase(p.def.committee.convention_signed, true),
            Phase::Referenced {
                standing: Standing::Valid
            }
        );
        assert!(r.logo_rights());
        assert!(r.refer("N-2".into(), "cm", now).is_err());
    }
}

#[test]
fn no_decision_off_the_agenda() {
    let hop = load(HOP);
    let now = at("2026-02-05T15:00:00Z");
    let mut r = on_agenda(&hop, now);
    // A proof was found non-compliant meanwhile.
    let e = r
        .decide(
            &hop,
            false,
            "s1",
            DecisionMode::Attribution,
            "",
            vec![],
            true,
            "cm",
            now,
        )
        .expect_err("off the agenda");
    assert!(e.0.contains("ordre du jour"), "{e}");
    assert!(r.decisions.is_empty());
}

#[test]
fn blocking_reservations_before_date_3_return_the_proofs_at_fault() {
    let hop = load(HOP);
    let now = at("2026-05-07T10:00:00Z");
    assert!(open(&hop, now));
    let mut r = on_agenda(&hop, now);
    let m = hop.def.committee.convention_signed;
    assert!(
        r.decide(
            &hop,
            true,
            "s1",
            DecisionMode::ReservesBloquantes,
            "  ",
            vec!["x".into()],
            true,
            "cm",
            now
        )
        .is_err(),
        "reasons required"
    );
    assert!(
        r.decide(
            &hop,
            true,
            "s1",
            DecisionMode::ReservesBloquantes,
            "INS KO",
            vec![],
            true,
            "cm",
            now
        )
        .is_err(),
        "proofs at fault required before Date 3"
    );
    let out = r
        .decide(
            &hop,
            true,
            "s1",
            DecisionMode::ReservesBloquantes,
            "Le test INS a échoué",
            vec!["b".into(), "a".into(), "a".into()],
            true,
            "cm",
            now,
        )
        .expect("decided");
    assert_eq!(
        out,
        Outcome::Returned {
            at_fault: vec!["a".into(), "b".into()]
        }
    );
    // The caller reopens those proofs: the file is under instruction again, then back on the
    // agenda once they are valid, without a new signature.
    assert_eq!(r.phase(m, false), Phase::Instruction);
    assert_eq!(r.phase(m, true), Phase::OnAgenda);
}

#[test]
fn blocking_reservations_after_date_3_refuse() {
    let hop = load(HOP);
    let now = at("2026-07-02T10:00:00Z");
    assert!(!open(&hop, now), "Date 3 is 30/06/2026 12:00");
    let mut r = on_agenda(&hop, now);
    let out = r
        .decide(
            &hop,
            true,
            "s1",
            DecisionMode::ReservesBloquantes,
            "Exigence non tenue",
            vec![],
            false,
            "cm",
            now,
        )
        .expect("decided");
    assert_eq!(out, Outcome::Refused);
    assert_eq!(
        r.phase(hop.def.committee.convention_signed, true),
        Phase::Refused
    );
    assert!(!r.logo_rights());
}

#[test]
fn non_blocking_reservations_exist_only_for_bio() {
    for text in [HOP, PDE] {
        let p = load(text);
        let now = at("2026-02-05T15:00:00Z");
        let mut r = on_agenda(&p, now);
        let e = r
            .decide(
                &p,
                true,
                "s1",
                DecisionMode::ReservesNonBloquantes,
                "x",
                vec![],
                true,
                "cm",
                now,
            )
            .expect_err("not in this programme");
        assert!(e.0.contains("ne prévoit pas"), "{e}");
    }
}

#[test]
fn bio_non_blocking_reservations_lifted_within_four_weeks() {
    let bio = load(BIO);
    let m = bio.def.committee.convention_signed;
    let now = at("2022-05-05T08:00:00Z");
    let mut r = on_agenda(&bio, now);
    let out = r
        .decide(
            &bio,
            true,
            "s1",
            DecisionMode::ReservesNonBloquantes,
            "Guide d'installation incomplet",
            vec![],
            true,
            "cm",
            now,
        )
        .expect("decided");
    // 28 days from 5 May (not counted): ends 2 June 2022 at 24:00 Paris.
    let due = at("2022-06-02T22:00:00Z");
    assert_eq!(out, Outcome::Lifting { due });
    assert_eq!(r.phase(m, true), Phase::LiftingReservations { due });
    assert!(
        r.review_lifting(true, "", "instr", now).is_err(),
        "nothing deposited yet"
    );
    r.deposit_lifting("att-9", "Guide complété", due)
        .expect("on time, to the second");
    assert!(
        r.lapse_lifting(due + Duration::days(1)).is_none(),
        "deposited: the agency reviews"
    );
    assert_eq!(
        r.review_lifting(true, "", "instr", due + Duration::days(2)),
        Ok(Outcome::Referenced)
    );
    assert!(r.deposit_lifting("att-10", "", due).is_err(), "reviewed");
}

#[test]
fn bio_non_blocking_reservations_refused_or_lapsed() {
    let bio = load(BIO);
    let m = bio.def.committee.convention_signed;
    let now = at("2022-05-05T08:00:00Z");
    let mut r = on_agenda(&bio, now);
    r.decide(
        &bio,
        true,
        "s1",
        DecisionMode::ReservesNonBloquantes,
        "R",
        vec![],
        true,
        "cm",
        now,
    )
    .expect("decided");
    let due = r.lifting.as_ref().map(|l| l.due).expect("due");
    assert!(
        r.deposit_lifting("att", "", due + Duration::seconds(1))
            .is_err(),
        "late"
    );
    assert!(r.lapse_lifting(due).is_none(), "not yet due");
    assert_eq!(
        r.lapse_lifting(due + Duration::seconds(1)),
        Some(Outcome::Refused)
    );
    assert_eq!(r.phase(m, true), Phase::Refused);

    let mut r = on_agenda(&bio, now);
    r.decide(
        &bio,
        true,
        "s1",
        DecisionMode::ReservesNonBloquantes,
        "R",
        vec![],
        true,
        "cm",
        now,
    )
    .expect("decided");
    r.deposit_lifting("att", "", now).expect("deposit");
    assert!(
        r.review_lifting(false, "", "instr", now).is_err(),
        "a refusal is reasoned"
    );
    assert_eq!(
        r.review_lifting(false, "Toujours incomplet", "instr", now),
        Ok(Outcome::Refused)
    );
    assert_eq!(r.phase(m, true), Phase::Refused);
}

fn referenced(p: &Programme, now: DateTime<Utc>) -> Referencing {
    let mut r = on_agenda(p, now);
    r.decide(
        p,
        true,
        "s1",
        DecisionMode::Attribution,
        "",
        vec![],
        true,
        "cm",
        now,
    )
    .expect("decided");
    r.refer("N-1".into(), "cm", now).expect("referred");
    r
}

#[test]
fn suspension_reinstatement_withdrawal() {
    let hop = load(HOP);
    let now = at("2026-02-05T15:00:00Z");
    let mut r = referenced(&hop, now);
    assert!(
        r.change_standing(Standing::Suspended, " ", "pa", now)
            .is_err(),
        "reasoned"
    );
    assert!(
        r.change_standing(Standing::Valid, "x", "pa", now).is_err(),
        "already valid"
    );
    r.change_standing(Standing::Suspended, "Audit : écarts majeurs", "pa", now)
        .expect("suspended");
    assert!(!r.logo_rights());
    r.change_standing(Standing::Valid, "Écarts corrigés", "pa", now)
        .expect("reinstated");
    assert!(r.logo_rights());
    r.change_standing(Standing::Withdrawn, "Manquement grave", "pa", now)
        .expect("withdrawn");
    assert!(
        r.change_standing(Standing::Valid, "x", "pa", now).is_err(),
        "final"
    );
    assert_eq!(r.current_standing(), Some(Standing::Withdrawn));
    assert!(
        Referencing::default()
            .change_standing(Standing::Suspended, "x", "pa", now)
            .is_err()
    );
}

#[test]
fn audits_and_new_versions_need_a_referencement() {
    let hop = load(HOP);
    let now = at("2026-02-05T15:00:00Z");
    let audit = Audit {
        kind: "Audit sur site".into(),
        held_on: NaiveDate::from_ymd_opt(2026, 9, 1).expect("date"),
        findings: "RAS".into(),
        outcome: AuditOutcome::Compliant,
        by: "pa".into(),
        at: now,
    };
    let v = |tv: &str| DeclaredVersion {
        technical_version: tv.into(),
        commercial_name: "Solution 2".into(),
        declared_by: "ed".into(),
        declared_at: now,
    };
    let mut none = Referencing::default();
    assert!(none.record_audit(audit.clone()).is_err());
    assert!(none.declare_version("1.0", v("1.1"), true).is_err());
    let mut r = referenced(&hop, now);
    assert!(
        r.record_audit(Audit {
            findings: " ".into(),
            ..audit.clone()
        })
        .is_err()
    );
    r.record_audit(audit).expect("audit");
    assert!(
        r.declare_version("1.0", v("1.1"), false).is_err(),
        "compatibility commitment"
    );
    assert!(
        r.declare_version("1.0", v("1.0"), true).is_err(),
        "the referenced version"
    );
    assert!(r.declare_version("1.0", v("1 1<"), true).is_err(), "format");
    r.declare_version("1.0", v("1.1"), true).expect("declared");
    assert!(r.declare_version("1.0", v("1.1"), true).is_err(), "twice");
    r.change_standing(Standing::Suspended, "x", "pa", now)
        .expect("suspended");
    assert!(
        r.declare_version("1.0", v("1.2"), true).is_err(),
        "suspended"
    );
}

#[test]
fn weekly_sessions_on_working_days() {
    use committee::{Session, check_schedule, check_sitting};
    let now = at("2026-12-01T10:00:00Z");
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).expect("date");
    assert!(check_schedule(&[], d(2026, 11, 30), now).is_err(), "past");
    assert!(
        check_schedule(&[], d(2026, 12, 5), now).is_err(),
        "Saturday"
    );
    assert!(
        check_schedule(&[], d(2026, 12, 25), now)
            .expect_err("holiday")
            .contains("férié")
    );
    check_schedule(&[], d(2026, 12, 3), now).expect("Thursday");
    let s = Session {
        id: "s".into(),
        programme_code: "HOP-DPI-Va2".into(),
        held_on: d(2026, 12, 3),
        closed_at: None,
    };
    assert!(
        check_schedule(std::slice::from_ref(&s), d(2026, 12, 4), now).is_err(),
        "same week"
    );
    check_schedule(std::slice::from_ref(&s), d(2026, 12, 10), now).expect("next week");
    assert!(check_sitting(&s, now).is_err(), "not yet held");
    check_sitting(&s, at("2026-12-03T08:00:00Z")).expect("held");
    let closed = Session {
        closed_at: Some(now),
        ..s
    };
    assert!(check_sitting(&closed, at("2026-12-03T08:00:00Z")).is_err());
}

#[test]
fn conventions_render_each_programme_template() {
    for text in [HOP, BIO, PDE] {
        let p = load(text);
        let profiles = vec!["Général".to_string()];
        let (title, clauses) = convention::render_clauses(
            &p,
            &convention::ConventionFacts {
                editor: "Éditeur SA",
                siret: "73282932000074",
                solution: "Dossier Patient",
                version: "4.2.1",
                profiles: &profiles,
            },
        );
        assert!(title.contains(p.code.as_str()), "{title}");
        let all: String = clauses.iter().map(|(t, b)| format!("{t} {b}")).collect();
        assert!(all.contains("Éditeur SA") && all.contains("4.2.1") && all.contains("Général"));
        assert!(!all.contains('{'), "every variable replaced: {all}");
    }
}
