//! Tests of the proof-dossier rules, with concrete dates in Europe/Paris.

use crate::calendar::paris_instant;
use crate::programme::Programme;
use crate::rem::{ProofLine, Requirement, RequirementId};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

mod checklist;
mod checks;
mod cutoff;
mod dossier;
mod instruction;
mod pentest;

const HOP: &str = include_str!("../../../../programmes/HOP-DPI-Va2/programme.toml");
const BIO: &str = include_str!("../../../../programmes/BIO-SGL-Va1/programme.toml");
const PDE: &str = include_str!("../../../../programmes/MS2-DUI-PDE-Va1-SF/programme.toml");

fn load(name: &str, text: &str) -> Programme {
    match Programme::from_toml(name, text) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// A Paris wall-clock instant, to the second.
fn paris(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    paris_instant(
        NaiveDate::from_ymd_opt(y, mo, d).expect("valid date"),
        NaiveTime::from_hms_opt(h, mi, s).expect("valid time"),
    )
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("valid RFC 3339 instant")
}

fn id(s: &str) -> RequirementId {
    RequirementId::parse(s).expect("valid requirement id")
}

/// A line with the given scenario and proof numbers (and texts derived from them).
fn line(scenario: Option<&str>, proof: Option<&str>) -> ProofLine {
    ProofLine {
        scenario_number: scenario.map(str::to_string),
        scenario_text: scenario.map(|s| format!("Scénario {s}")),
        proof_number: proof.map(str::to_string),
        proof_text: proof.map(|p| format!("Preuve {p}")),
        ordre: None,
    }
}

fn req(
    requirement: &str,
    perimetre: &str,
    chapitre: &str,
    profil: &str,
    exigence: &str,
    lines: Vec<ProofLine>,
) -> Requirement {
    Requirement {
        id: id(requirement),
        perimetre: perimetre.to_string(),
        chapitre: chapitre.to_string(),
        fonction: format!("Fonction de {requirement}"),
        exigence: exigence.to_string(),
        commentaire: None,
        profil: profil.to_string(),
        profil_historique: Some(profil.to_string()),
        criticite: None,
        lines,
    }
}
