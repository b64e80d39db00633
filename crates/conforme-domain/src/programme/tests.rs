use super::*;
use chrono::TimeZone;

const HOP: &str = include_str!("../../../../programmes/HOP-DPI-Va2/programme.toml");
const BIO: &str = include_str!("../../../../programmes/BIO-SGL-Va1/programme.toml");
const PDE: &str = include_str!("../../../../programmes/MS2-DUI-PDE-Va1-SF/programme.toml");

fn load(name: &str, text: &str) -> Programme {
    match Programme::from_toml(name, text) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid instant")
}

#[test]
fn bundled_programmes_load() {
    let hop = load("HOP", HOP);
    assert_eq!(hop.code.as_str(), "HOP-DPI-Va2");
    assert_eq!(hop.dates.len(), 8);
    // Date 2bis, 31/03/2026 12:00 Paris (CEST since 29/03) = 10:00 UTC.
    let d2bis = hop.date("date-2bis").expect("date 2bis");
    assert_eq!(d2bis.instant, Some(utc(2026, 3, 31, 10, 0)));
    // Date 1, 19/11/2024 12:00 Paris (CET) = 11:00 UTC.
    assert_eq!(
        hop.date_with_role(DateRole::AdministrativeDossierDeadline)
            .and_then(|d| d.instant),
        Some(utc(2024, 11, 19, 11, 0))
    );
    let bio = load("BIO", BIO);
    assert!(bio.def.profile_change.final_choice);
    assert_eq!(bio.def.committee.lift_reservations_weeks, Some(4));
    let pde = load("PDE", PDE);
    assert!(pde.is_permanent());
    assert!(pde.dates.iter().all(|d| !d.binding));
}

#[test]
fn phase_follows_the_clock() {
    let hop = load("HOP", HOP);
    let before = hop.phase_at(utc(2024, 1, 1, 0, 0));
    assert_eq!(before.current, "Avant le lancement du dispositif");
    assert_eq!(before.next.as_ref().map(|d| d.key.as_str()), Some("date-0"));

    // One minute before Date 2bis: still in the last deposit period.
    let at = hop.phase_at(utc(2026, 3, 31, 9, 59));
    assert_eq!(at.since.as_ref().map(|d| d.key.as_str()), Some("date-2"));
    assert_eq!(at.next.as_ref().map(|d| d.key.as_str()), Some("date-2bis"));
    // At the instant itself the date has passed.
    let at = hop.phase_at(utc(2026, 3, 31, 10, 0));
    assert_eq!(at.since.as_ref().map(|d| d.key.as_str()), Some("date-2bis"));
    assert_eq!(
        at.current,
        "Instruction et échanges sur les dossiers de preuves"
    );

    let after = hop.phase_at(utc(2030, 1, 1, 0, 0));
    assert_eq!(after.current, "Dispositif clos");
    assert!(after.next.is_none());

    let pde = load("PDE", PDE);
    let p = pde.phase_at(utc(2026, 11, 22, 0, 0));
    assert!(p.permanent);
    assert_eq!(p.current, "Ouvert en permanence");
}

const RELATIVE: &str = r#"
code = "HOP-DPI-Va2"
title = "DPI vague 2 (pré-publication)"
corridor = "hopital"
wave = 2
financing = true
summary = "s"
source = "DSR-HOP-DPI-Va2 pré-publication"
[calendar]
mode = "relative"
phase_before = "Avant"
[[calendar.dates]]
key = "date-0"
label = "Date 0"
description = "JO"
ANCHOR
phase_after = "Dossiers administratifs"
[[calendar.dates]]
key = "date-1"
label = "Date 1"
description = "Dossier administratif"
relative_to = "date-0"
months = 6
time = "12:00"
phase_after = "Preuves"
[[calendar.dates]]
key = "date-2"
label = "Date 2"
description = "Dossier complet"
relative_to = "date-0"
months = 13
phase_after = "Instruction"
[[profiles]]
name = "Général"
mandatory = true
[profile_change]
add_until = "date-2"
remove_anytime = true
[committee]
decision_modes = ["attribution", "reserves-bloquantes"]
convention_signed = "after-proofs"
"#;

#[test]
fn relative_calendar_resolves_from_its_anchor() {
    let unknown = load("rel", &RELATIVE.replace("ANCHOR", ""));
    assert!(unknown.dates.iter().all(|d| d.instant.is_none()));
    assert_eq!(
        unknown
            .date("date-1")
            .and_then(|d| d.relative_text.clone())
            .as_deref(),
        Some("Date 0 + 6 mois")
    );
    // With no instant known the phase stays before the first date.
    assert_eq!(unknown.phase_at(utc(2026, 1, 1, 0, 0)).current, "Avant");

    let known = load(
        "rel",
        &RELATIVE.replace("ANCHOR", "at = \"2024-05-19T00:00\""),
    );
    // 19/05/2024 + 6 months = 19/11/2024, 12:00 Paris = 11:00 UTC: the v1.2 Date 1.
    assert_eq!(
        known.date("date-1").and_then(|d| d.instant),
        Some(utc(2024, 11, 19, 11, 0))
    );
    // + 13 months = 19/06/2025 at the anchor's time, 00:00 Paris (CEST) = 22:00 UTC the day before.
    assert_eq!(
        known.date("date-2").and_then(|d| d.instant),
        Some(utc(2025, 6, 18, 22, 0))
    );
}

fn refused(text: &str) -> String {
    match Programme::from_toml("bad.toml", text) {
        Ok(_) => panic!("accepted a bad definition"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn invalid_definitions_are_refused_with_the_field_named() {
    let e = refused("code = ");
    assert!(e.starts_with("bad.toml : TOML illisible"), "{e}");
    let e = refused(&HOP.replace("name = \"Général\"\nmandatory = true", "name = \"Général\""));
    assert!(e.contains("profiles") && e.contains("obligatoire"), "{e}");
    let e = refused(&HOP.replace("add_until = \"date-2bis\"", "add_until = \"date-9\""));
    assert!(
        e.contains("profile_change.add_until") && e.contains("date-9"),
        "{e}"
    );
    let e = refused(&HOP.replace("at = \"2025-12-15T12:00\"", "at = \"2027-12-15T12:00\""));
    assert!(
        e.contains("calendar.dates[3].at") && e.contains("chronologique"),
        "{e}"
    );
    let e = refused(&HOP.replace("at = \"2024-11-19T12:00\"", "at = \"19/11/2024\""));
    assert!(e.contains("calendar.dates[1].at"), "{e}");
    let e = refused(&BIO.replace("\"Esclave de l'identité\"]", "\"Esclave\"]"));
    assert!(e.contains("profil inconnu « Esclave »"), "{e}");
    let e = refused(&BIO.replace("lift_reservations_weeks = 4\n", ""));
    assert!(e.contains("committee.lift_reservations_weeks"), "{e}");
    let e = refused(&PDE.replace("financing = false", "financing = true"));
    assert!(e.contains("calendar.mode"), "{e}");
    let e = refused(&HOP.replace("code = \"HOP-DPI-Va2\"", "code = \"HOP DPI\""));
    assert!(e.contains("code"), "{e}");
    let e = refused(&HOP.replace("wave = 2", "wave = 2\nunknown_field = 1"));
    assert!(e.contains("unknown_field"), "{e}");
    let e = refused(&HOP.replace("(SIRET {siret})", "(SIRET {numero})"));
    assert!(
        e.contains("convention.clauses[0].body") && e.contains("{numero}"),
        "{e}"
    );
}

#[test]
fn profile_choices_follow_the_constraints() {
    let bio = load("BIO", BIO);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert!(
        bio.check_profiles(&s(&["Général", "Esclave de l'identité"]))
            .is_ok()
    );
    let problems = bio
        .check_profiles(&s(&["Opérateur Mailiz", "Inconnu"]))
        .expect_err("invalid");
    assert_eq!(problems.len(), 3, "{problems:?}");
    let hop = load("HOP", HOP);
    assert!(hop.check_profiles(&s(&["Général"])).is_ok());
}

#[test]
fn programme_codes() {
    assert!(ProgrammeCode::parse("MS2-DUI-PDE-Va1-SF").is_ok());
    assert!(ProgrammeCode::parse("HOP--DPI").is_err());
    assert!(ProgrammeCode::parse("x").is_err());
    assert!(ProgrammeCode::parse("HOP-DPI/../x").is_err());
}
