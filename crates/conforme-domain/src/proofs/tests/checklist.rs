use super::{HOP, id, line, load, req};
use crate::proofs::checklist::*;
use crate::rem::{ProofLine, Rem, Requirement, RequirementKind};
use proptest::prelude::*;
use std::collections::BTreeSet;

const DOIT: &str = "Le système DOIT faire la chose.";
const PEUT: &str = "Le système PEUT faire la chose.";
const CIBA: &str = "Authentification PSC par CIBA";
const INS_CHAPTER: &str = "Gestion de l'INS";

/// A small REM in the shape of REM-HOP-DPI-Va2: two wave-2 chapters, then the wave-1 INS
/// chapter.
fn sample() -> Rem {
    Rem {
        requirements: vec![
            req(
                "SC.DMP/UX.12",
                "Vague 2",
                "DMP",
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
                "DMP",
                CIBA,
                DOIT,
                vec![line(Some("PSC/CIBA.01.01"), Some("PSC/CIBA.01.01.01"))],
            ),
            req(
                "SC.DMP/UX.45",
                "Vague 2",
                "DMP",
                "Général",
                PEUT,
                vec![line(Some("DMP/UX.45.01"), Some("DMP/UX.45.01.01"))],
            ),
            req(
                "SC.DB/DPI.01",
                "Vague 2",
                "Exigences liées",
                "Général",
                DOIT,
                vec![line(None, None)],
            ),
            req(
                "INS/va1.01",
                "Vague 1",
                INS_CHAPTER,
                "Général",
                DOIT,
                vec![line(Some("INS/va1.01.01"), Some("INS/va1.01.01.01"))],
            ),
            req(
                "INS/va1.62",
                "Vague 1",
                INS_CHAPTER,
                "Intégration INS",
                "Si le système intègre des données de santé référencées avec l'INS, alors le système DOIT …",
                vec![
                    line(Some("INS/va1.62.01"), Some("INS/va1.62.01.01")),
                    line(Some("INS/va1.62.02"), Some("INS/va1.62.02.01")),
                ],
            ),
            req(
                "DMP/va1.06",
                "Vague 1",
                "DMP",
                "Général",
                PEUT,
                vec![line(None, None)],
            ),
        ],
    }
}

fn general() -> Vec<String> {
    vec!["Général".to_string()]
}

fn key(s: &str) -> ProofKey {
    ProofKey::parse(s).expect("valid key")
}

fn required_keys(c: &Checklist) -> Vec<String> {
    c.required().map(|i| i.key.to_string()).collect()
}

#[test]
fn not_referenced_in_wave_1_deposits_every_applicable_proof() {
    let c = required_proofs(&sample(), &general(), Wave1Status::NotReferenced, &[]);
    assert_eq!(c.items.len(), 9, "one item per line");
    assert_eq!(
        required_keys(&c),
        [
            "SC.DMP/UX.12#preuve=DMP/UX.12.01.01",
            "SC.DMP/UX.12#preuve=DMP/UX.12.01.02",
            "INS/va1.01#preuve=INS/va1.01.01.01",
            "INS/va1.62#preuve=INS/va1.62.01.01",
            "INS/va1.62#preuve=INS/va1.62.02.01",
        ]
    );
    assert_eq!(c.chapters, ["DMP", "Exigences liées", INS_CHAPTER]);
    let reason = |k: &str| {
        c.item(&key(k))
            .map(|i| i.reason.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        reason("SC.DMP/UX.12#preuve=DMP/UX.12.01.01"),
        "Exigée : exigence du profil « Général », applicable à toute solution candidate."
    );
    assert_eq!(
        reason("SC.PSC/CIBA.01#preuve=PSC/CIBA.01.01.01"),
        "Non exigée : exigence du profil « Authentification PSC par CIBA », que l'éditeur n'a pas choisi."
    );
    assert!(
        reason("SC.DMP/UX.45#preuve=DMP/UX.45.01.01").starts_with("Préconisation : jamais exigée")
    );
    assert!(reason("SC.DB/DPI.01#ligne=1").contains("aucune preuve"));
    // The historical wave-1 profile does not filter the requirement out.
    assert_eq!(
        reason("INS/va1.62#preuve=INS/va1.62.01.01"),
        "Exigée : Périmètre vague 1 (profil historique « Intégration INS »), la solution n'étant pas référencée en vague 1 (HOP-DPI-Va1)."
    );
    assert!(reason("DMP/va1.06#ligne=1").starts_with("Préconisation"));
    let item = c
        .item(&key("SC.DMP/UX.12#preuve=DMP/UX.12.01.02"))
        .expect("item");
    assert_eq!(item.requirement, id("SC.DMP/UX.12"));
    assert_eq!(item.chapter, "DMP");
    assert_eq!(item.scenario_number.as_deref(), Some("DMP/UX.12.01"));
    assert_eq!(item.proof_text.as_deref(), Some("Preuve DMP/UX.12.01.02"));
    assert_eq!(item.kind, RequirementKind::Exigence);
    assert_eq!(item.basis, ItemBasis::ProfileApplies);
    assert!(!item.added_by_agency);
}

#[test]
fn chosen_profiles_apply() {
    let profiles = vec!["Général".to_string(), CIBA.to_string()];
    let c = required_proofs(&sample(), &profiles, Wave1Status::NotReferenced, &[]);
    let item = c
        .item(&key("SC.PSC/CIBA.01#preuve=PSC/CIBA.01.01.01"))
        .expect("item");
    assert!(item.required);
    assert_eq!(
        item.reason,
        "Exigée : exigence du profil « Authentification PSC par CIBA », choisi par l'éditeur."
    );
    // Names compare without case or accents.
    let rem = Rem {
        requirements: vec![req(
            "SC.MOB.01",
            "Vague 2",
            "Mobilité",
            "Equipements mobiles",
            DOIT,
            vec![line(Some("MOB.01.01"), Some("MOB.01.01.01"))],
        )],
    };
    let c = required_proofs(
        &rem,
        &["ÉQUIPEMENTS  mobiles".to_string()],
        Wave1Status::NotReferenced,
        &[],
    );
    assert!(c.items[0].required);
    let c = required_proofs(&rem, &general(), Wave1Status::NotReferenced, &[]);
    assert!(!c.items[0].required);
}

#[test]
fn referenced_with_ins_deposits_no_wave_1_proof() {
    let c = required_proofs(&sample(), &general(), Wave1Status::ReferencedWithIns, &[]);
    assert_eq!(
        required_keys(&c),
        [
            "SC.DMP/UX.12#preuve=DMP/UX.12.01.01",
            "SC.DMP/UX.12#preuve=DMP/UX.12.01.02",
        ]
    );
    for item in c.items.iter().filter(|i| i.perimetre == "Vague 1") {
        assert!(!item.required);
        if item.kind == RequirementKind::Exigence {
            assert_eq!(item.basis, ItemBasis::Wave1CoveredWithIns);
            assert_eq!(
                item.reason,
                "Non exigée : Périmètre vague 1 couvert par le référencement vague 1 avec le profil Intégration INS (DSR-HOP-DPI-Va2 §3.1)."
            );
        }
    }
}

#[test]
fn referenced_without_ins_deposits_only_the_ins_wave_1_proofs() {
    let c = required_proofs(
        &sample(),
        &general(),
        Wave1Status::ReferencedWithoutIns,
        &[],
    );
    assert_eq!(
        required_keys(&c),
        [
            "SC.DMP/UX.12#preuve=DMP/UX.12.01.01",
            "SC.DMP/UX.12#preuve=DMP/UX.12.01.02",
            "INS/va1.62#preuve=INS/va1.62.01.01",
            "INS/va1.62#preuve=INS/va1.62.02.01",
        ]
    );
    let general_v1 = c
        .item(&key("INS/va1.01#preuve=INS/va1.01.01.01"))
        .expect("item");
    assert_eq!(general_v1.basis, ItemBasis::Wave1CoveredWithoutIns);
    assert!(
        general_v1
            .reason
            .contains("seules les preuves du Périmètre vague 1")
    );
    let ins = c
        .item(&key("INS/va1.62#preuve=INS/va1.62.02.01"))
        .expect("item");
    assert_eq!(ins.basis, ItemBasis::Wave1InsNotCovered);
    assert!(ins.reason.contains("profil Intégration INS"));
}

#[test]
fn the_wave_1_profile_is_the_historical_one() {
    // « Profil historique » decides when it differs from « Profil ».
    let mut r = req(
        "INS/va1.10",
        "vague 1",
        INS_CHAPTER,
        "Général",
        DOIT,
        vec![line(Some("INS/va1.10.01"), Some("INS/va1.10.01.01"))],
    );
    r.profil_historique = Some("Intégration INS".to_string());
    let rem = Rem {
        requirements: vec![r.clone()],
    };
    let c = required_proofs(&rem, &general(), Wave1Status::ReferencedWithoutIns, &[]);
    assert!(c.items[0].required);
    r.profil_historique = None;
    let rem = Rem {
        requirements: vec![r],
    };
    let c = required_proofs(&rem, &general(), Wave1Status::ReferencedWithoutIns, &[]);
    assert!(!c.items[0].required);
}

#[test]
fn the_agency_may_add_any_proof() {
    let additions = [
        key("SC.DMP/UX.45#preuve=DMP/UX.45.01.01"), // a préconisation
        key("INS/va1.01#preuve=INS/va1.01.01.01"),  // wave 1, covered
        key("SC.DMP/UX.12#preuve=DMP/UX.12.01.01"), // already required
        key("SC.XX.99#preuve=XX.99.01.01"),         // not in this REM
        key("SC.DMP/UX.45#preuve=DMP/UX.45.01.01"), // twice
    ];
    let c = required_proofs(
        &sample(),
        &general(),
        Wave1Status::ReferencedWithIns,
        &additions,
    );
    let preco = c.item(&additions[0]).expect("item");
    assert!(preco.required && preco.added_by_agency);
    assert_eq!(preco.basis, ItemBasis::Preconisation);
    assert!(
        preco
            .reason
            .starts_with("Ajoutée par l'ANS ; sans cet ajout : Préconisation")
    );
    let wave1 = c.item(&additions[1]).expect("item");
    assert!(wave1.required && wave1.added_by_agency);
    assert!(wave1.reason.contains("Périmètre vague 1 couvert"));
    let already = c.item(&additions[2]).expect("item");
    assert!(already.required && already.added_by_agency);
    assert!(already.reason.ends_with("Également demandée par l'ANS."));
    assert_eq!(c.unknown_additions, [additions[3].clone()]);
    assert_eq!(c.required().count(), 4);
}

#[test]
fn keys_fall_back_and_tell_repeats_apart() {
    // The bundled REM repeats DMP/UX.15.01.01 under two scenarios of SC.DMP/UX.15.
    let rem = Rem {
        requirements: vec![
            req(
                "SC.DMP/UX.15",
                "Vague 2",
                "DMP",
                "Général",
                DOIT,
                vec![
                    line(Some("DMP/UX.15.01"), Some("DMP/UX.15.01.01")),
                    line(Some("DMP/UX.15.02"), Some("DMP/UX.15.01.01")),
                    line(Some("DMP/UX.15.03"), None),
                    line(Some("DMP/UX.15.03"), Some("  ")),
                    ProofLine {
                        proof_text: Some("Capture d'écran".into()),
                        ..ProofLine::default()
                    },
                    line(None, None),
                ],
            ),
            req("SC.EMPTY.01", "Vague 2", "DMP", "Général", DOIT, vec![]),
        ],
    };
    let keys: Vec<String> = proof_keys(&rem).iter().map(ToString::to_string).collect();
    assert_eq!(
        keys,
        [
            "SC.DMP/UX.15#preuve=DMP/UX.15.01.01",
            "SC.DMP/UX.15#preuve=DMP/UX.15.01.01~2",
            "SC.DMP/UX.15#scenario=DMP/UX.15.03",
            "SC.DMP/UX.15#scenario=DMP/UX.15.03~2",
            "SC.DMP/UX.15#ligne=5",
            "SC.DMP/UX.15#ligne=6",
            "SC.EMPTY.01#ligne=1",
        ]
    );
    let c = required_proofs(&rem, &general(), Wave1Status::NotReferenced, &[]);
    let item_keys: Vec<String> = c.items.iter().map(|i| i.key.to_string()).collect();
    assert_eq!(item_keys, keys);
    // A scenario without proof asks for a proof; the empty lines ask nothing.
    let required: Vec<bool> = c.items.iter().map(|i| i.required).collect();
    assert_eq!(required, [true, true, true, true, true, false, false]);
    for k in &keys {
        assert_eq!(&key(k).to_string(), k);
    }
    assert_eq!(
        key("SC.DMP/UX.15#preuve=DMP/UX.15.01.01~2").slot,
        ProofSlot::Proof {
            number: "DMP/UX.15.01.01".into(),
            occurrence: 2
        }
    );
}

#[test]
fn keys_parse_strictly() {
    assert!(matches!(
        ProofKey::parse("SC.X.01"),
        Err(ProofKeyError::MissingSeparator(_))
    ));
    assert!(matches!(
        ProofKey::parse(" #preuve=1"),
        Err(ProofKeyError::Requirement { .. })
    ));
    assert!(matches!(
        ProofKey::parse("SC.X.01#numero=1"),
        Err(ProofKeyError::UnknownSlot(_))
    ));
    assert!(matches!(
        ProofKey::parse("SC.X.01#preuve="),
        Err(ProofKeyError::EmptyNumber(_))
    ));
    assert!(matches!(
        ProofKey::parse("SC.X.01#preuve=~2"),
        Err(ProofKeyError::EmptyNumber(_))
    ));
    assert!(matches!(
        ProofKey::parse("SC.X.01#ligne=0"),
        Err(ProofKeyError::BadNumber(_))
    ));
    assert!(matches!(
        ProofKey::parse("SC.X.01#ligne=+1"),
        Err(ProofKeyError::BadNumber(_))
    ));
    assert!(matches!(
        ProofKey::parse("SC.X.01#preuve=A~0"),
        Err(ProofKeyError::BadNumber(_))
    ));
    // A number with a '~' of its own keeps it.
    let k = ProofKey {
        requirement: id("SC.X.01"),
        slot: ProofSlot::Proof {
            number: "A~3".into(),
            occurrence: 1,
        },
    };
    assert_eq!(k.to_string(), "SC.X.01#preuve=A~3~1");
    assert_eq!(key("SC.X.01#preuve=A~3~1"), k);
}

#[test]
fn keys_serialize_as_strings() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Row {
        key: ProofKey,
    }
    let row = Row {
        key: key("SC.DMP/UX.15#preuve=DMP/UX.15.01.01~2"),
    };
    let text = toml::to_string(&row).expect("serializes");
    assert_eq!(
        text.trim(),
        "key = \"SC.DMP/UX.15#preuve=DMP/UX.15.01.01~2\""
    );
    assert_eq!(toml::from_str::<Row>(&text).expect("deserializes"), row);
    assert!(toml::from_str::<Row>("key = \"SC.X\"").is_err());
}

#[test]
fn progress_per_chapter_in_rem_order() {
    let c = required_proofs(&sample(), &general(), Wave1Status::NotReferenced, &[]);
    let deposited = [
        key("SC.DMP/UX.12#preuve=DMP/UX.12.01.01"),
        key("INS/va1.62#preuve=INS/va1.62.01.01"),
        key("INS/va1.62#preuve=INS/va1.62.02.01"),
        // Not required, not counted:
        key("SC.DMP/UX.45#preuve=DMP/UX.45.01.01"),
        // Unknown, not counted:
        key("SC.XX.01#preuve=1"),
    ];
    let p = c.progress(&deposited);
    let rows: Vec<(&str, usize, usize, u8, bool)> = p
        .chapters
        .iter()
        .map(|ch| {
            (
                ch.chapter.as_str(),
                ch.counts.required,
                ch.counts.deposited,
                ch.counts.percent,
                ch.counts.complete,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("DMP", 2, 1, 50, false),
            ("Exigences liées", 0, 0, 100, true),
            (INS_CHAPTER, 3, 2, 66, false),
        ]
    );
    assert_eq!(
        (p.overall.required, p.overall.deposited, p.overall.percent),
        (5, 3, 60)
    );
    assert!(!p.overall.complete);
    let missing: Vec<String> = c
        .missing(&deposited)
        .iter()
        .map(|i| i.key.to_string())
        .collect();
    assert_eq!(
        missing,
        [
            "SC.DMP/UX.12#preuve=DMP/UX.12.01.02",
            "INS/va1.01#preuve=INS/va1.01.01.01"
        ]
    );
    let all: Vec<ProofKey> = c.required().map(|i| i.key.clone()).collect();
    let p = c.progress(&all);
    assert!(p.overall.complete && p.overall.percent == 100);
    assert!(c.missing(&all).is_empty());
}

#[test]
fn profiles_outside_the_programme_are_reported() {
    let hop = load("HOP", HOP);
    let offered: Vec<String> = hop.def.profiles.iter().map(|p| p.name.clone()).collect();
    let mut rem = sample();
    rem.requirements.push(req(
        "SC.SSI/IAM.01",
        "Vague 2",
        "IAM",
        "IAM",
        DOIT,
        vec![line(Some("IAM.01.01"), Some("IAM.01.01.01"))],
    ));
    // The wave-1 « Intégration INS » is historical, not reported; CIBA is offered.
    assert_eq!(profiles_outside_programme(&rem, &offered), ["IAM"]);
}

// --- Properties ---

fn arb_number() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(String::new())),
        4 => prop::sample::select(vec!["1", "1.1", "1.2", "2~1", "x"]).prop_map(|s| Some(s.to_string())),
    ]
}

fn arb_line() -> impl Strategy<Value = ProofLine> {
    (arb_number(), arb_number(), any::<bool>()).prop_map(|(s, p, text)| ProofLine {
        scenario_number: s,
        scenario_text: None,
        proof_number: p,
        proof_text: text.then(|| "Preuve".to_string()),
        ordre: None,
    })
}

fn arb_requirement() -> impl Strategy<Value = Requirement> {
    (
        prop::sample::select(vec!["SC.A.01", "SC.A.02", "DPI.B.01", "INS/va1.01"]),
        prop::sample::select(vec!["Vague 1", "Vague 2", "vague 1"]),
        prop::sample::select(vec!["Chapitre 1", "Chapitre 2", "Chapitre 3"]),
        prop::sample::select(vec!["Général", CIBA, "Intégration INS", "IAM", ""]),
        prop::sample::select(vec![DOIT, PEUT, "Le système"]),
        prop::collection::vec(arb_line(), 0..4),
    )
        .prop_map(|(i, per, ch, prof, text, lines)| req(i, per, ch, prof, text, lines))
}

fn arb_case() -> impl Strategy<Value = (Rem, Vec<String>, Wave1Status, Vec<bool>, Vec<bool>)> {
    (
        prop::collection::vec(arb_requirement(), 0..8)
            .prop_map(|requirements| Rem { requirements }),
        prop::sample::subsequence(
            vec!["Général".to_string(), CIBA.to_string(), "IAM".to_string()],
            0..=3,
        ),
        prop::sample::select(vec![
            Wave1Status::NotReferenced,
            Wave1Status::ReferencedWithIns,
            Wave1Status::ReferencedWithoutIns,
        ]),
        prop::collection::vec(any::<bool>(), 40),
        prop::collection::vec(any::<bool>(), 40),
    )
}

proptest! {
    #[test]
    fn a_preconisation_is_required_only_when_added(
        (rem, profiles, wave1, add, _) in arb_case()
    ) {
        let keys = proof_keys(&rem);
        let additions: Vec<ProofKey> = keys
            .iter()
            .zip(add.iter().cycle())
            .filter(|(_, a)| **a)
            .map(|(k, _)| k.clone())
            .collect();
        let c = required_proofs(&rem, &profiles, wave1, &additions);
        for item in &c.items {
            if item.kind == RequirementKind::Preconisation {
                prop_assert_eq!(item.required, item.added_by_agency);
            }
            prop_assert_eq!(item.added_by_agency, additions.contains(&item.key));
            prop_assert_eq!(item.required, item.added_by_agency || item.basis.requires());
            prop_assert!(!item.reason.is_empty());
            if wave1 == Wave1Status::ReferencedWithIns
                && item.perimetre.to_lowercase() == "vague 1"
            {
                prop_assert_eq!(item.required, item.added_by_agency);
            }
        }
        prop_assert!(c.unknown_additions.is_empty());
    }

    #[test]
    fn keys_are_unique_and_round_trip((rem, profiles, wave1, _, _) in arb_case()) {
        let c = required_proofs(&rem, &profiles, wave1, &[]);
        let keys: Vec<ProofKey> = c.items.iter().map(|i| i.key.clone()).collect();
        prop_assert_eq!(&keys, &proof_keys(&rem));
        let unique: BTreeSet<&ProofKey> = keys.iter().collect();
        prop_assert_eq!(unique.len(), keys.len());
        let lines: usize = rem.requirements.iter().map(|r| r.lines.len().max(1)).sum();
        prop_assert_eq!(keys.len(), lines);
        for k in &keys {
            prop_assert_eq!(&ProofKey::parse(&k.to_string()).expect("parses"), k);
        }
    }

    #[test]
    fn progress_counts_are_consistent(
        (rem, profiles, wave1, add, dep) in arb_case()
    ) {
        let keys = proof_keys(&rem);
        let pick = |flags: &[bool]| -> Vec<ProofKey> {
            keys.iter()
                .zip(flags.iter().cycle())
                .filter(|(_, f)| **f)
                .map(|(k, _)| k.clone())
                .collect()
        };
        let c = required_proofs(&rem, &profiles, wave1, &pick(&add));
        let deposited = pick(&dep);
        let p = c.progress(&deposited);
        prop_assert_eq!(p.chapters.len(), c.chapters.len());
        let (mut r, mut d) = (0, 0);
        for ch in &p.chapters {
            prop_assert!(ch.counts.deposited <= ch.counts.required);
            prop_assert_eq!(ch.counts.complete, ch.counts.deposited == ch.counts.required);
            prop_assert_eq!(ch.counts.percent == 100, ch.counts.complete);
            r += ch.counts.required;
            d += ch.counts.deposited;
        }
        prop_assert_eq!(p.overall.required, r);
        prop_assert_eq!(p.overall.deposited, d);
        prop_assert_eq!(p.overall.required, c.required().count());
        prop_assert!(p.overall.deposited <= p.overall.required);
        prop_assert_eq!(p.overall.required - p.overall.deposited, c.missing(&deposited).len());
        prop_assert_eq!(p.overall.percent == 100, p.overall.complete);
    }
}
