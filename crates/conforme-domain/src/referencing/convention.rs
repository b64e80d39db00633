//! The convention's articles, rendered from the programme's template (or the platform's
//! generic one) with the candidature's facts.

use crate::programme::{ClauseTemplate, Programme};

/// The variables a template may name.
pub const PLACEHOLDERS: &[&str] = &[
    "editeur",
    "siret",
    "solution",
    "version",
    "programme",
    "intitule",
    "profils",
    "source",
];

/// The facts a convention is written with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConventionFacts<'a> {
    pub editor: &'a str,
    pub siret: &'a str,
    pub solution: &'a str,
    pub version: &'a str,
    pub profiles: &'a [String],
}

/// `Err(name)` for the first `{name}` that is not a known variable.
pub fn check_placeholders(body: &str) -> Result<(), String> {
    let mut rest = body;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            return Err(after.chars().take(20).collect());
        };
        let name = &after[..end];
        if !PLACEHOLDERS.contains(&name) {
            return Err(name.to_string());
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

fn generic() -> (String, Vec<ClauseTemplate>) {
    let c = |title: &str, body: &str| ClauseTemplate {
        title: title.into(),
        body: body.into(),
    };
    (
        "Convention de référencement — {programme}".into(),
        vec![
            c(
                "Objet",
                "La présente convention fixe les engagements de {editeur} (SIRET {siret}) au titre du référencement de la solution {solution}, version technique {version}, dans le dispositif {programme} « {intitule} ».",
            ),
            c(
                "Périmètre",
                "Le référencement porte sur la version technique {version} telle qu'instruite, pour les profils suivants : {profils}.\n\nToute version ultérieure reste conforme aux exigences de la version référencée (compatibilité ascendante).",
            ),
            c(
                "Engagements de l'éditeur",
                "L'éditeur s'engage à maintenir la conformité de la solution aux exigences du référentiel, à se soumettre aux audits de conformité diligentés par l'Agence du numérique en santé et à l'informer de toute évolution affectant le périmètre référencé.",
            ),
            c(
                "Usage du logo",
                "L'éditeur peut faire usage du logo « Référencé Ségur » pour la solution référencée tant que la présente convention est en vigueur. La suspension ou le retrait du référencement met fin à ce droit.",
            ),
            c(
                "Suspension et retrait",
                "En cas de manquement constaté, notamment à l'issue d'un audit, l'Agence du numérique en santé peut suspendre ou retirer le référencement après en avoir informé l'éditeur ; la décision est motivée et publiée au registre.",
            ),
            c(
                "Texte de référence",
                "La présente convention s'applique dans le cadre du texte suivant : {source}.",
            ),
        ],
    )
}

/// The convention's title and articles for `programme`, variables replaced.
pub fn render_clauses(
    programme: &Programme,
    facts: &ConventionFacts<'_>,
) -> (String, Vec<(String, String)>) {
    let (title, clauses) = match &programme.def.convention {
        Some(t) => (t.title.clone(), t.clauses.clone()),
        None => generic(),
    };
    let profiles = if facts.profiles.is_empty() {
        "aucun profil".to_string()
    } else {
        facts.profiles.join(", ")
    };
    let fill = |text: &str| {
        text.replace("{editeur}", facts.editor)
            .replace("{siret}", facts.siret)
            .replace("{solution}", facts.solution)
            .replace("{version}", facts.version)
            .replace("{programme}", programme.code.as_str())
            .replace("{intitule}", &programme.def.title)
            .replace("{profils}", &profiles)
            .replace("{source}", &programme.def.source)
    };
    (
        fill(&title),
        clauses
            .iter()
            .map(|c| (fill(&c.title), fill(&c.body)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_checked() {
        assert_eq!(check_placeholders("{editeur} et {solution}"), Ok(()));
        assert_eq!(check_placeholders("{nom}"), Err("nom".into()));
        assert!(check_placeholders("ouvert {editeur").is_err());
        assert_eq!(check_placeholders("sans variable"), Ok(()));
    }

    #[test]
    fn the_generic_template_knows_only_its_variables() {
        let (title, clauses) = generic();
        assert_eq!(check_placeholders(&title), Ok(()));
        for c in clauses {
            assert_eq!(check_placeholders(&c.body), Ok(()), "{}", c.title);
        }
    }
}
