//! Rules of the editor organisation (PRODUCT.md §1 and §4): who may invite whom, the members of
//! a solidarity group, the mandates of distributors, and the charter text a legal
//! representative accepts (its exact wording is what the recorded fingerprint identifies).

use crate::candidature::FieldProblem;
use crate::identifiers::Siret;
use chrono::NaiveDate;

/// How long an invitation link stays valid.
pub const INVITATION_VALID_DAYS: i64 = 7;

/// Longest company name accepted for a solidarity member or a distributor.
pub const COMPANY_NAME_MAX_CHARS: usize = 300;

fn problem(field: &str, label: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.to_string(),
        label: label.to_string(),
        message: message.into(),
    }
}

/// Why an invitation may not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvitationRefusal {
    /// The power to bind the editor is conferred only by someone who holds it.
    #[error(
        "seul un représentant légal de l'organisation peut inviter un autre représentant légal"
    )]
    LegalRepresentativeOnly,
}

/// Any member may invite a colleague; only a legal representative may invite someone who will
/// be a legal representative (who cannot bind the editor cannot give that power either),
/// except while the organisation has no legal representative at all: then any member may
/// invite the first one, or the organisation could never get one.
pub fn check_invitation(
    inviter_is_legal_representative: bool,
    invitee_will_be_legal_representative: bool,
    organisation_has_legal_representative: bool,
) -> Result<(), InvitationRefusal> {
    if invitee_will_be_legal_representative
        && !inviter_is_legal_representative
        && organisation_has_legal_representative
    {
        Err(InvitationRefusal::LegalRepresentativeOnly)
    } else {
        Ok(())
    }
}

fn check_company_name(name: &str, label: &str, out: &mut Vec<FieldProblem>) -> String {
    let name = name.trim();
    if name.is_empty() {
        out.push(problem("company_name", label, "champ obligatoire"));
    } else if name.chars().count() > COMPANY_NAME_MAX_CHARS {
        out.push(problem(
            "company_name",
            label,
            format!("{COMPANY_NAME_MAX_CHARS} caractères au plus"),
        ));
    } else if name.chars().any(char::is_control) {
        out.push(problem(
            "company_name",
            label,
            "caractères de contrôle interdits",
        ));
    }
    name.to_string()
}

fn check_siret(raw: &str, out: &mut Vec<FieldProblem>) -> Option<Siret> {
    if raw.trim().is_empty() {
        out.push(problem("siret", "SIRET", "champ obligatoire"));
        return None;
    }
    match Siret::parse(raw) {
        Ok(s) => Some(s),
        Err(e) => {
            out.push(problem("siret", "SIRET", e.to_string()));
            None
        }
    }
}

/// A member of the solidarity group, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSolidarityMember {
    pub company_name: String,
    pub siret: Siret,
}

/// Checks a member to add to the solidarity group led by the organisation whose SIRET is
/// `lead_siret`; `existing` are the SIRETs of the members already listed. The lead editor is
/// not its own member, and a member is listed once.
pub fn check_solidarity_member(
    company_name: &str,
    siret: &str,
    lead_siret: &str,
    existing: &[&str],
) -> Result<NewSolidarityMember, Vec<FieldProblem>> {
    let mut out = Vec::new();
    let company_name = check_company_name(company_name, "Raison sociale du membre", &mut out);
    let siret = check_siret(siret, &mut out);
    if let Some(s) = &siret {
        if s.as_str() == lead_siret {
            out.push(problem(
                "siret",
                "SIRET",
                "c'est le SIRET de votre organisation, chef de file du groupement : indiquez celui d'un autre éditeur",
            ));
        } else if existing.contains(&s.as_str()) {
            out.push(problem(
                "siret",
                "SIRET",
                format!("l'éditeur au SIRET {s} est déjà membre du groupement"),
            ));
        }
    }
    match (siret, out.is_empty()) {
        (Some(siret), true) => Ok(NewSolidarityMember {
            company_name,
            siret,
        }),
        _ => Err(out),
    }
}

/// Reads a date from a form: `AAAA-MM-JJ` (what `<input type="date">` sends) or `JJ/MM/AAAA`
/// (what people type when the browser shows a plain text field). Empty means none.
pub fn parse_form_date(raw: &str) -> Result<Option<NaiveDate>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| format!("« {raw} » n'est pas une date valide (format attendu : JJ/MM/AAAA)"))
}

/// A distributor's mandate period, for overlap checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandatePeriod<'a> {
    pub siret: &'a str,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// A mandated distributor, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDistributor {
    pub company_name: String,
    pub siret: Siret,
    pub mandate_start: NaiveDate,
    pub mandate_end: Option<NaiveDate>,
}

fn overlaps(a_start: NaiveDate, a_end: Option<NaiveDate>, b: &MandatePeriod<'_>) -> bool {
    let a_before_b = a_end.is_some_and(|e| e < b.start);
    let b_before_a = b.end.is_some_and(|e| e < a_start);
    !(a_before_b || b_before_a)
}

/// Checks a distributor mandate: name, SIRET, a start date, an optional end not before the
/// start, and no overlap with another mandate of the same distributor (a distributor may be
/// mandated again after a mandate ended, not twice at once).
pub fn check_distributor(
    company_name: &str,
    siret: &str,
    mandate_start: &str,
    mandate_end: &str,
    existing: &[MandatePeriod<'_>],
) -> Result<NewDistributor, Vec<FieldProblem>> {
    let mut out = Vec::new();
    let company_name = check_company_name(company_name, "Raison sociale du distributeur", &mut out);
    let siret = check_siret(siret, &mut out);
    let start = match parse_form_date(mandate_start) {
        Ok(Some(d)) => Some(d),
        Ok(None) => {
            out.push(problem(
                "mandate_start",
                "Début du mandat",
                "champ obligatoire",
            ));
            None
        }
        Err(m) => {
            out.push(problem("mandate_start", "Début du mandat", m));
            None
        }
    };
    let end = match parse_form_date(mandate_end) {
        Ok(d) => d,
        Err(m) => {
            out.push(problem("mandate_end", "Fin du mandat", m));
            None
        }
    };
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        out.push(problem(
            "mandate_end",
            "Fin du mandat",
            format!(
                "la fin du mandat ({}) ne peut pas précéder son début ({})",
                e.format("%d/%m/%Y"),
                s.format("%d/%m/%Y")
            ),
        ));
    }
    if let (Some(sir), Some(s)) = (&siret, start)
        && out.is_empty()
        && let Some(other) = existing
            .iter()
            .find(|p| p.siret == sir.as_str() && overlaps(s, end, p))
    {
        let until = other.end.map_or("sans date de fin".to_string(), |e| {
            format!("jusqu'au {}", e.format("%d/%m/%Y"))
        });
        out.push(problem(
            "mandate_start",
            "Début du mandat",
            format!(
                "ce distributeur a déjà un mandat sur cette période (du {} {until})",
                other.start.format("%d/%m/%Y")
            ),
        ));
    }
    match (siret, start, out.is_empty()) {
        (Some(siret), Some(mandate_start), true) => Ok(NewDistributor {
            company_name,
            siret,
            mandate_start,
            mandate_end: end,
        }),
        _ => Err(out),
    }
}

/// One part of the charter: a heading and its paragraphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CharterSection {
    pub heading: &'static str,
    pub paragraphs: &'static [&'static str],
}

/// The editor's commitments, common to every programme (distilled from the programme charters
/// and the DSR: exact declarations, sincere proofs, the process respected, conformity kept,
/// audits accepted, no personal health data in tests, confidentiality, the logo only while
/// referenced). Changing a word changes the fingerprint of the text accepted, which is the
/// point: an acceptance names the exact text.
pub const CHARTER_SECTIONS: &[CharterSection] = &[
    CharterSection {
        heading: "Objet",
        paragraphs: &[
            "La présente charte fixe les engagements que prend l'éditeur qui candidate au référencement d'une solution logicielle dans ce dispositif. Elle est acceptée, au nom de l'éditeur, par son représentant légal avant toute candidature ; elle vaut pour toutes les candidatures de l'éditeur dans le dispositif.",
        ],
    },
    CharterSection {
        heading: "1. Exactitude des déclarations",
        paragraphs: &[
            "L'éditeur déclare des informations exactes, complètes et à jour sur son organisation et sur ses solutions : identité, SIRET, représentant légal, contact référencement, numéros CNDA, versions, groupement solidaire et distributeurs mandatés. Il signale sans délai tout changement.",
            "Les preuves déposées en réponse aux scénarios de conformité reflètent de manière sincère et fidèle le fonctionnement de la version candidate.",
        ],
    },
    CharterSection {
        heading: "2. Respect du processus de référencement",
        paragraphs: &[
            "L'éditeur respecte l'intégralité du processus décrit par le dispositif : calendrier, réponses aux demandes de compléments dans les délais, sessions de tests, signature de la convention.",
        ],
    },
    CharterSection {
        heading: "3. Maintien de la conformité",
        paragraphs: &[
            "Une solution référencée reste conforme aux exigences au titre desquelles elle l'a été, y compris dans ses versions ultérieures. L'éditeur informe l'Agence de toute évolution susceptible d'affecter cette conformité.",
        ],
    },
    CharterSection {
        heading: "4. Coopération aux contrôles",
        paragraphs: &[
            "L'éditeur se prête aux audits de conformité, sur site ou à distance, et aux contrôles a posteriori ; il fournit les éléments demandés dans les délais fixés.",
        ],
    },
    CharterSection {
        heading: "5. Données et sécurité",
        paragraphs: &[
            "L'éditeur ne transmet aucune donnée de santé à caractère personnel dans les tests et jeux de données demandés : uniquement des données fictives ou anonymisées. Les preuves partagées ne présentent aucun risque pour la sécurité des systèmes d'information de l'Agence ou de ses partenaires.",
        ],
    },
    CharterSection {
        heading: "6. Confidentialité",
        paragraphs: &[
            "L'Agence garde confidentielles les informations recueillies sur la solution candidate et ne communique pas sur sa qualité intrinsèque ; pendant l'instruction, seuls l'identité de l'éditeur et le nom de la solution peuvent être publiés. Les experts éventuellement associés sont tenus à la même confidentialité.",
        ],
    },
    CharterSection {
        heading: "7. Usage du référencement et du logo",
        paragraphs: &[
            "L'éditeur ne fait état du référencement et n'utilise le logo « Référencé Ségur » que pour les versions référencées, et seulement tant que le référencement et la convention sont en vigueur.",
        ],
    },
    CharterSection {
        heading: "8. Manquements",
        paragraphs: &[
            "Le non-respect de ces engagements peut entraîner la suspension ou l'exclusion de la candidature en cours d'instruction, ou le retrait du référencement accordé, dans les conditions de la convention de référencement.",
        ],
    },
    CharterSection {
        heading: "9. Preuve de l'acceptation",
        paragraphs: &[
            "L'acceptation de la présente charte sur la plateforme est enregistrée avec son auteur, sa date et l'empreinte du texte accepté ; elle vaut preuve de son contenu et de l'identité de celui qui l'a acceptée, sauf preuve contraire.",
        ],
    },
];

/// The charter's title for a programme: the one its definition names, or a generic one.
pub fn charter_title(programme_code: &str, defined: Option<&str>) -> String {
    match defined.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => t.to_string(),
        None => format!("Charte d'engagement du dispositif {programme_code}"),
    }
}

/// The exact text accepted: the title, then each heading and paragraph, separated by blank
/// lines. Its SHA-256 identifies the version accepted.
pub fn charter_text(title: &str) -> String {
    let mut text = String::from(title);
    for section in CHARTER_SECTIONS {
        text.push_str("\n\n");
        text.push_str(section.heading);
        for p in section.paragraphs {
            text.push_str("\n\n");
            text.push_str(p);
        }
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn fields(problems: &[FieldProblem]) -> Vec<&str> {
        problems.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn only_a_legal_representative_invites_a_legal_representative() {
        assert_eq!(check_invitation(false, false, true), Ok(()));
        assert_eq!(check_invitation(true, false, true), Ok(()));
        assert_eq!(check_invitation(true, true, true), Ok(()));
        assert_eq!(
            check_invitation(false, true, true),
            Err(InvitationRefusal::LegalRepresentativeOnly)
        );
        // Without any legal representative, a member invites the first one.
        assert_eq!(check_invitation(false, true, false), Ok(()));
    }

    #[test]
    fn solidarity_members() {
        let ok = check_solidarity_member(" Éditeur B ", "732 829 320 00074", "13000940500023", &[]);
        assert_eq!(
            ok.as_ref()
                .map(|m| (m.company_name.as_str(), m.siret.as_str())),
            Ok(("Éditeur B", "73282932000074"))
        );
        let bad = check_solidarity_member("", "73282932000075", "13000940500023", &[])
            .err()
            .unwrap_or_default();
        assert_eq!(fields(&bad), ["company_name", "siret"]);
        let own = check_solidarity_member("Moi", "13000940500023", "13000940500023", &[])
            .err()
            .unwrap_or_default();
        assert!(own[0].message.contains("chef de file"), "{own:?}");
        let twice =
            check_solidarity_member("B", "73282932000074", "13000940500023", &["73282932000074"])
                .err()
                .unwrap_or_default();
        assert!(twice[0].message.contains("déjà membre"), "{twice:?}");
        let long = "x".repeat(COMPANY_NAME_MAX_CHARS + 1);
        assert!(check_solidarity_member(&long, "73282932000074", "1", &[]).is_err());
    }

    #[test]
    fn form_dates() {
        assert_eq!(parse_form_date(""), Ok(None));
        assert_eq!(parse_form_date("2026-04-01"), Ok(Some(d("2026-04-01"))));
        assert_eq!(parse_form_date(" 01/04/2026 "), Ok(Some(d("2026-04-01"))));
        assert!(parse_form_date("2026-02-30").is_err());
        assert!(parse_form_date("demain").is_err());
    }

    #[test]
    fn distributor_mandates() {
        let ok = check_distributor("Distrib", "73282932000074", "2026-01-01", "", &[]);
        assert_eq!(ok.map(|n| n.mandate_end), Ok(None));
        let ok = check_distributor("Distrib", "73282932000074", "2026-01-01", "2026-01-01", &[]);
        assert!(ok.is_ok());
        let reversed =
            check_distributor("Distrib", "73282932000074", "2026-06-01", "2026-01-01", &[])
                .err()
                .unwrap_or_default();
        assert_eq!(fields(&reversed), ["mandate_end"]);
        assert!(reversed[0].message.contains("ne peut pas précéder"));
        let missing = check_distributor("", "", "", "n'importe", &[])
            .err()
            .unwrap_or_default();
        assert_eq!(
            fields(&missing),
            ["company_name", "siret", "mandate_start", "mandate_end"]
        );
        let bad_date = check_distributor("D", "73282932000074", "31/02/2026", "", &[])
            .err()
            .unwrap_or_default();
        assert_eq!(fields(&bad_date), ["mandate_start"]);
    }

    #[test]
    fn a_distributor_is_not_mandated_twice_at_once() {
        let existing = [MandatePeriod {
            siret: "73282932000074",
            start: d("2026-01-01"),
            end: Some(d("2026-06-30")),
        }];
        let overlap = check_distributor("D", "73282932000074", "2026-06-30", "", &existing);
        assert!(overlap.is_err());
        let after = check_distributor("D", "73282932000074", "2026-07-01", "", &existing);
        assert!(after.is_ok());
        let before =
            check_distributor("D", "73282932000074", "2025-01-01", "2025-12-31", &existing);
        assert!(before.is_ok());
        let other = check_distributor("D", "13000940500023", "2026-03-01", "", &existing);
        assert!(other.is_ok());
        let open = [MandatePeriod {
            siret: "73282932000074",
            start: d("2026-01-01"),
            end: None,
        }];
        assert!(check_distributor("D", "73282932000074", "2030-01-01", "", &open).is_err());
        assert!(
            check_distributor("D", "73282932000074", "2020-01-01", "2025-12-31", &open).is_ok()
        );
    }

    #[test]
    fn the_charter_text_names_its_title_and_every_commitment() {
        let text = charter_text("Charte X");
        assert!(text.starts_with("Charte X\n\nObjet\n\n"));
        for s in CHARTER_SECTIONS {
            assert!(text.contains(s.heading));
            for p in s.paragraphs {
                assert!(text.contains(p));
            }
        }
        assert_ne!(charter_text("Charte X"), charter_text("Charte Y"));
        assert_eq!(
            charter_title("P", None),
            "Charte d'engagement du dispositif P"
        );
        assert_eq!(
            charter_title("P", Some("  ")),
            "Charte d'engagement du dispositif P"
        );
        assert_eq!(charter_title("P", Some("Charte P")), "Charte P");
    }
}
