use super::*;
use chrono::TimeZone;

const HOP: &str = include_str!("../../../../programmes/HOP-DPI-Va2/programme.toml");
const BIO: &str = include_str!("../../../../programmes/BIO-SGL-Va1/programme.toml");
const PDE: &str = include_str!("../../../../programmes/MS2-DUI-PDE-Va1-SF/programme.toml");

fn programme(text: &str) -> Programme {
    Programme::from_toml("test", text).expect("bundled programme")
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("instant")
}

pub fn complete_editor() -> EditorIdentity {
    EditorIdentity {
        company_name: "Éditions Santé SA".into(),
        siret: "732 829 320 00074".into(),
        legal_form: "SA".into(),
        head_function: "Président".into(),
        head_office_address: "1 rue de la Paix, 75002 Paris".into(),
        legal_rep_name: "Marie Curie".into(),
        legal_rep_title: "Présidente".into(),
        legal_rep_email: "marie@editions-sante.fr".into(),
        legal_rep_phone: "01 23 45 67 89".into(),
        contact_name: "Louis Pasteur".into(),
        contact_email: "louis@editions-sante.fr".into(),
        contact_phone: "+33 6 12 34 56 78".into(),
        cnda_nie: "NIE-001".into(),
    }
}

pub fn complete_dossier() -> AdministrativeDossier {
    AdministrativeDossier {
        commercial_name: "DPI Santé".into(),
        technical_version: "v2.4.1".into(),
        wave1_referenced: Some(false),
        cnda_nil: "NIL-77".into(),
        cnda_application_proof: Some("att-1".into()),
        documentation: Some("att-2".into()),
        profiles: vec!["Général".into()],
        no_additional_components: true,
        ..AdministrativeDossier::default()
    }
}

#[test]
fn a_complete_dossier_is_submitted_before_date_1() {
    let hop = programme(HOP);
    let at = utc(2024, 11, 19, 11, 0); // Date 1, 12:00 Paris: still on time at the instant
    assert_eq!(
        submit(
            &hop,
            CandidatureState::Draft,
            &complete_dossier(),
            &complete_editor(),
            at
        ),
        Ok(CandidatureState::Submitted)
    );
}

#[test]
fn a_late_submission_names_the_date_and_the_rule() {
    let hop = programme(HOP);
    let late = utc(2024, 11, 19, 11, 0) + chrono::Duration::seconds(1);
    match submit(
        &hop,
        CandidatureState::Draft,
        &complete_dossier(),
        &complete_editor(),
        late,
    ) {
        Err(TransitionError::TooLate(msg)) => {
            assert!(
                msg.contains("Date 1") && msg.contains("19/11/2024 à 12:00"),
                "{msg}"
            );
        }
        other => panic!("{other:?}"),
    }
    // BIO: end of the candidature window, 15/06/2022 14:00.
    let bio = programme(BIO);
    let mut d = complete_dossier();
    d.profiles = vec!["Général".into(), "Esclave de l'identité".into()];
    assert!(
        submit(
            &bio,
            CandidatureState::Draft,
            &d,
            &complete_editor(),
            utc(2022, 6, 15, 12, 0)
        )
        .is_ok()
    );
    assert!(matches!(
        submit(
            &bio,
            CandidatureState::Draft,
            &d,
            &complete_editor(),
            utc(2022, 6, 15, 12, 1)
        ),
        Err(TransitionError::TooLate(_))
    ));
    assert!(matches!(
        submit(&bio, CandidatureState::Draft, &d, &complete_editor(), utc(2021, 8, 1, 12, 0)),
        Err(TransitionError::TooLate(msg)) if msg.contains("ouvrent")
    ));
    // Without financing there is no deadline.
    let pde = programme(PDE);
    assert!(
        submit(
            &pde,
            CandidatureState::Draft,
            &d,
            &complete_editor(),
            utc(2030, 1, 1, 0, 0)
        )
        .is_ok()
    );
}

#[test]
fn an_incomplete_dossier_names_every_field() {
    let hop = programme(HOP);
    let editor = EditorIdentity {
        siret: "73282932000075".into(),
        legal_rep_email: "nope".into(),
        ..complete_editor()
    };
    let dossier = AdministrativeDossier {
        technical_version: "v 2/4".into(),
        wave1_referenced: Some(true),
        profiles: vec![],
        no_additional_components: false,
        ..complete_dossier()
    };
    let Err(TransitionError::Incomplete(problems)) = submit(
        &hop,
        CandidatureState::Draft,
        &dossier,
        &editor,
        utc(2024, 6, 1, 0, 0),
    ) else {
        panic!("accepted an incomplete dossier")
    };
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "siret",
            "legal_rep_email",
            "technical_version",
            "wave1_number",
            "wave1_attestation",
            "profiles",
            "additional_components"
        ]
    );
    assert!(problems[0].message.contains("clé de contrôle"));
    let empty = submit(
        &hop,
        CandidatureState::Draft,
        &AdministrativeDossier::default(),
        &EditorIdentity::default(),
        utc(2024, 6, 1, 0, 0),
    );
    let Err(TransitionError::Incomplete(problems)) = empty else {
        panic!()
    };
    assert_eq!(problems.len(), 13 + 8, "{problems:#?}");
}

#[test]
fn profiles_follow_the_programme_constraints() {
    let bio = programme(BIO);
    let d = complete_dossier(); // only "Général"
    let problems = d.problems(&bio);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.contains("au moins un profil parmi"));
}

#[test]
fn complement_deadline_counts_five_working_days() {
    // Asked on the Thursday before Easter 2026 (2 April, 15:00 Paris): Fri 3, Tue 7 (Easter
    // Monday is a holiday), Wed 8, Thu 9, Fri 10 → 24:00 Paris on Friday 10 April.
    let asked = utc(2026, 4, 2, 13, 0);
    let (state, due) = request_complement(
        CandidatureState::Submitted,
        "Merci de fournir le Kbis.",
        asked,
    )
    .expect("asked");
    assert_eq!(state, CandidatureState::ComplementRequested);
    assert_eq!(due, utc(2026, 4, 10, 22, 0));
    assert_eq!(
        answer_complement(state, "Voici le Kbis.", due, due),
        Ok(CandidatureState::Submitted)
    );
    assert!(matches!(
        answer_complement(state, "Voici", due, due + chrono::Duration::seconds(1)),
        Err(TransitionError::TooLate(_))
    ));
    assert_eq!(expire_complement(state, due, due), None);
    assert_eq!(
        expire_complement(state, due, due + chrono::Duration::seconds(1)),
        Some(CandidatureState::Rejected)
    );
    assert_eq!(
        expire_complement(
            CandidatureState::Submitted,
            due,
            due + chrono::Duration::days(1)
        ),
        None
    );
    assert!(matches!(
        request_complement(CandidatureState::Submitted, " ", asked),
        Err(TransitionError::Missing(_))
    ));
}

#[test]
fn transitions_from_the_wrong_state_are_refused() {
    use CandidatureState::*;
    for s in CandidatureState::ALL {
        assert_eq!(validate(s).is_ok(), s == Submitted, "{s:?}");
        assert_eq!(
            reject(s, "motif").is_ok(),
            matches!(s, Submitted | ComplementRequested),
            "{s:?}"
        );
        assert_eq!(
            request_complement(s, "m", utc(2026, 1, 5, 9, 0)).is_ok(),
            s == Submitted,
            "{s:?}"
        );
    }
    assert!(matches!(
        reject(Submitted, ""),
        Err(TransitionError::Missing(_))
    ));
    let hop = programme(HOP);
    assert!(matches!(
        submit(
            &hop,
            Submitted,
            &complete_dossier(),
            &complete_editor(),
            utc(2024, 6, 1, 0, 0)
        ),
        Err(TransitionError::WrongState(Submitted))
    ));
}

#[test]
fn profile_changes_follow_the_policy() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let hop = programme(HOP);
    let before = s(&["Général"]);
    let after = s(&["Général", "Authentification PSC par CIBA"]);
    // Adding is allowed until Date 2bis (31/03/2026 12:00 Paris), removing at any time.
    assert!(check_profile_change(&hop, &before, &after, true, utc(2026, 3, 31, 10, 0)).is_ok());
    assert!(check_profile_change(&hop, &before, &after, true, utc(2026, 3, 31, 10, 1)).is_err());
    assert!(check_profile_change(&hop, &after, &before, true, utc(2027, 1, 1, 0, 0)).is_ok());
    // BIO: the choice is final once submitted; free before.
    let bio = programme(BIO);
    let b1 = s(&["Général", "Esclave de l'identité"]);
    let b2 = s(&["Général", "Référentiel d'identités"]);
    assert!(check_profile_change(&bio, &b1, &b2, true, utc(2022, 1, 1, 0, 0)).is_err());
    assert!(check_profile_change(&bio, &b1, &b2, false, utc(2022, 1, 1, 0, 0)).is_ok());
}
