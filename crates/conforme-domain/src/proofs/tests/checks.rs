use crate::proofs::checks::*;
use crate::proofs::pentest::*;
use FileNature::{Archive, Document, Image, Text, Video};

fn natures(text: &str) -> Vec<FileNature> {
    expected_natures(Some(text))
}

// Proof texts as they are worded in programmes/HOP-DPI-Va2/rem/prepublication-2023.xlsx.

#[test]
fn screenshots_or_video_ask_for_images_documents_or_videos() {
    for text in [
        "Démonstration (vidéo ou copies d'écran) montrant le déroulé des étapes du scénario",
        "Copies d'écran ou vidéo de la séquence",
        "Copies d'écran ou vidéos de la séquence d'inscription pour chaque méthode supportée",
        "Démonstration (capture d'écran, vidéo...) montrant la saisie de la date de naissance et l'ensemble des résultats retournés",
    ] {
        assert_eq!(natures(text), vec![Image, Video, Document], "{text}");
    }
}

#[test]
fn a_screenshot_alone_asks_for_an_image_or_a_pdf() {
    assert_eq!(
        natures("capture d'écran, de la qualification effective de cet INS"),
        vec![Image, Document]
    );
    // Typographic apostrophe and capitals.
    assert_eq!(natures("COPIE D’ÉCRAN DE L’IHM"), vec![Image, Document]);
    assert_eq!(
        natures("Scan de l'édition comportant le datamatrix"),
        vec![Image, Document, Archive]
    );
}

#[test]
fn a_video_asks_for_a_video() {
    for text in [
        "Capture vidéo montrant le bon déroulé du scénario de conformité (capture réalisée en plein écran avec l'ensemble des fenêtres impliquées visibles)",
        "Fournir une vidéo montrant les étapes du scénario de conformité",
        "Vidéo démontrant le déroulé des étapes du scénario",
        "SSI/IAM.83.01 : Video montrant le bon déroulé du scénario de conformité SC.SSI/IAM.83.01",
        "Enregistrement de la séance",
    ] {
        assert_eq!(natures(text), vec![Video], "{text}");
    }
}

#[test]
fn logs_traces_and_messages_ask_for_text_archives_or_documents() {
    for text in [
        "Log des transactions TD0.2 et TD0.3",
        "Traces du système démontrant la recherche initiale puis le contrôle périodique du numéro RPPS du PS",
        "Message SOAP contenant le jeton VIHF de l'utilisateur PS n°1",
        "Source SMTP du message émis",
        "DUMP du message à fournir par l'éditeur",
        "Fournir les extractions correspondant aux flux du scénario de conformité",
        "Extrait de configuration de la période de consultation",
        "Message HL7 reçu",
        "Export CSV du journal",
    ] {
        assert_eq!(natures(text), vec![Document, Text, Archive], "{text}");
    }
}

#[test]
fn written_documents_ask_for_documents_or_archives() {
    for text in [
        "Attestation sur l'honneur décrivant qu'un processus de veille sur les vulnérabilités des composants du système est défini",
        "Documentation éditeur",
        "Rapport d'intégration de l'annuaire santé.fr",
        "Justificatif de l'homologation CNDA pour le DMP",
        "Procès-verbal de recette",
        "La prescription au format PDF/A-1",
        "Matrice des flux spécifiant les flux essentiels au fonctionnement du système",
        "PAS (Plan d'Assurance de Sécurité), précisant les propositions de mesures de sécurité",
        "Engagement écrit du candidat confirmant la valeur attendue du paramétrage de l'acr_values",
    ] {
        assert_eq!(natures(text), vec![Document, Archive], "{text}");
    }
}

#[test]
fn the_pentest_form_may_be_a_csv_export() {
    assert_eq!(
        natures(
            "Formulaire du test d'intrusion dûment complété et signé par un auditeur d'un organisme qualifié PASSI"
        ),
        vec![Document, Text, Archive]
    );
}

#[test]
fn several_clues_add_up() {
    assert_eq!(
        natures(
            "39.01.01 : Démonstration (vidéo ou copies d'écran) montrant le déroulé des étapes du scénario\n39.01.02 : Archive IHE XDM intégrée dans le logiciel"
        ),
        vec![Image, Video, Document, Archive]
    );
    assert_eq!(
        natures(
            "SSI/IAM.80.02 : Capture vidéo montrant le bon déroulé du scénario de conformité\n\nSSI/IAM.81.02 : Document présentant le contrat d'interface utilisé entre le système et le fournisseur d'identités"
        ),
        vec![Video, Document, Archive]
    );
}

#[test]
fn no_clue_means_any_file() {
    assert_eq!(expected_natures(None), vec![]);
    assert_eq!(natures(""), vec![]);
    assert_eq!(
        natures(
            "[Si modalité de type : Application native avec navigateur interne] Nom des librairies et versions utilisées"
        ),
        vec![]
    );
}

#[test]
fn words_are_matched_whole() {
    // « logiciel » is not a log, « catalogue » neither, « tracer » is not « trace ».
    assert_eq!(natures("Paramétrage du logiciel et du catalogue"), vec![]);
    assert_eq!(natures("Il faut tracer"), vec![]);
    // « montrant » alone is not a demonstration, « démontrant » neither.
    assert_eq!(natures("Vidéo démontrant les étapes"), vec![Video]);
}

#[test]
fn sniffed_types_have_natures() {
    let cases = [
        ("image/png", Some(Image)),
        ("image/jpeg", Some(Image)),
        ("video/mp4", Some(Video)),
        ("video/x-matroska", Some(Video)),
        ("application/x-matroska", Some(Video)),
        ("application/pdf", Some(Document)),
        ("application/msword", Some(Document)),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Some(Document),
        ),
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Some(Document),
        ),
        ("application/vnd.oasis.opendocument.text", Some(Document)),
        ("text/plain", Some(Text)),
        ("text/plain; charset=utf-8", Some(Text)),
        ("text/xml", Some(Text)),
        ("Text/CSV", Some(Text)),
        ("application/zip", Some(Archive)),
        ("application/gzip", Some(Archive)),
        ("application/x-tar", Some(Archive)),
        ("application/x-7z-compressed", Some(Archive)),
        ("application/x-bzip2", Some(Archive)),
        ("application/x-xz", Some(Archive)),
        ("application/octet-stream", None),
        ("application/x-executable", None),
        ("audio/mpeg", None),
        ("nonsense", None),
        ("", None),
    ];
    for (content_type, nature) in cases {
        assert_eq!(nature_of(content_type), nature, "{content_type}");
    }
}

#[test]
fn labels_are_french() {
    let labels: Vec<&str> = FileNature::ALL.iter().map(|n| n.label()).collect();
    assert_eq!(
        labels,
        ["image", "vidéo", "document", "fichier texte", "archive"]
    );
}

fn facts(content_type: &str, size: u64, archive: Option<ArchiveFacts>) -> FileFacts {
    FileFacts {
        content_type: content_type.to_string(),
        size,
        archive,
    }
}

fn statuses(outcomes: &[CheckOutcome]) -> Vec<(&str, CheckStatus)> {
    outcomes
        .iter()
        .map(|o| (o.check.as_str(), o.status))
        .collect()
}

const SCREENSHOTS: &str = "Copies d'écran ou vidéo de la séquence";

#[test]
fn a_matching_file_passes() {
    let outcomes = file_checks(Some(SCREENSHOTS), &facts("image/png", 120_000, None));
    assert_eq!(
        statuses(&outcomes),
        [
            ("not-empty", CheckStatus::Pass),
            ("type-matches-nature", CheckStatus::Pass)
        ]
    );
    assert_eq!(outcomes[0].message, "Le fichier contient 120000 octets.");
    assert_eq!(
        outcomes[1].message,
        "Fichier reçu : image (image/png), conforme à ce que demande la preuve (image, vidéo ou document)."
    );
    assert_eq!(outcomes[1].label, "Type de fichier attendu");
}

#[test]
fn an_empty_file_fails() {
    let outcomes = file_checks(
        Some(SCREENSHOTS),
        &facts("application/octet-stream", 0, None),
    );
    assert_eq!(outcomes[0].status, CheckStatus::Fail);
    assert_eq!(outcomes[0].message, "Le fichier est vide (0 octet).");
}

#[test]
fn a_mismatched_type_only_warns() {
    let outcomes = file_checks(
        Some("Log des transactions TD0.2 et TD0.3"),
        &facts("video/mp4", 5_000_000, None),
    );
    assert_eq!(outcomes[1].status, CheckStatus::Warning);
    assert_eq!(
        outcomes[1].message,
        "La preuve demande : document, fichier texte ou archive ; fichier reçu : vidéo (video/mp4). À apprécier par l'instructeur."
    );
    // An unrecognised type against a proof that asks for something: a warning too.
    let outcomes = file_checks(
        Some(SCREENSHOTS),
        &facts("application/octet-stream", 10, None),
    );
    assert_eq!(outcomes[1].status, CheckStatus::Warning);
    assert!(
        outcomes[1]
            .message
            .contains("de type non reconnu (application/octet-stream)")
    );
}

#[test]
fn any_type_passes_when_the_proof_gives_no_clue() {
    for text in [None, Some("Nom des librairies et versions utilisées")] {
        let outcomes = file_checks(text, &facts("application/octet-stream", 1, None));
        assert_eq!(
            statuses(&outcomes),
            [
                ("not-empty", CheckStatus::Pass),
                ("type-matches-nature", CheckStatus::Pass)
            ]
        );
        assert_eq!(outcomes[0].message, "Le fichier contient 1 octet.");
    }
}

#[test]
fn archives_are_checked_when_read() {
    let archive = |a: ArchiveFacts| {
        let outcomes = file_checks(
            Some("Archive IHE XDM intégrée dans le logiciel"),
            &facts("application/zip", 2048, Some(a)),
        );
        assert_eq!(outcomes.len(), 3);
        assert_eq!(outcomes[1].status, CheckStatus::Pass);
        assert_eq!(outcomes[2].check, "archive-readable");
        outcomes[2].clone()
    };
    let one = archive(ArchiveFacts::Readable { entries: 1 });
    assert_eq!(
        (one.status, one.message.as_str()),
        (
            CheckStatus::Pass,
            "L'archive s'ouvre et contient 1 élément."
        )
    );
    let many = archive(ArchiveFacts::Readable { entries: 12 });
    assert_eq!(many.message, "L'archive s'ouvre et contient 12 éléments.");
    let empty = archive(ArchiveFacts::Readable { entries: 0 });
    assert_eq!(empty.status, CheckStatus::Warning);
    let broken = archive(ArchiveFacts::Unreadable {
        reason: "répertoire central introuvable".to_string(),
    });
    assert_eq!(
        (broken.status, broken.message.as_str()),
        (
            CheckStatus::Fail,
            "L'archive ne peut pas être ouverte : répertoire central introuvable."
        )
    );
}

#[test]
fn outcomes_serialise_in_kebab_case() {
    let text = toml::to_string(&facts(
        "application/zip",
        3,
        Some(ArchiveFacts::Readable { entries: 2 }),
    ))
    .expect("serialise");
    assert!(text.contains("[archive.readable]"), "{text}");
    let outcome = &file_checks(None, &facts("text/plain", 3, None))[1];
    let text = toml::to_string(outcome).expect("serialise");
    assert!(text.contains("status = \"pass\""), "{text}");
    let back: CheckOutcome = toml::from_str(&text).expect("deserialise");
    assert_eq!(&back, outcome);
}

fn verdict(points: &[ControlPoint]) -> PentestVerdict {
    pentest_verdict(points).expect("a verdict")
}

#[test]
fn the_pentest_verdict_is_a_check() {
    let passed = pentest_checks(&verdict(&[ControlPoint {
        id: "CP-01".to_string(),
        severity: Severity::High,
        result: ControlResult::Passed,
    }]));
    assert_eq!(passed.check, "pentest-thresholds");
    assert_eq!(passed.status, CheckStatus::Pass);
    assert!(
        passed
            .message
            .starts_with("Rapport de test d'intrusion conforme")
    );
    let failed = pentest_checks(&verdict(&[ControlPoint {
        id: "CP-01".to_string(),
        severity: Severity::High,
        result: ControlResult::Failed,
    }]));
    assert_eq!(failed.status, CheckStatus::Fail);
    assert!(failed.message.contains("(CP-01)"), "{}", failed.message);
}

// The penetration-test form as CSV.

fn parsed(text: &str) -> Vec<ControlPoint> {
    match parse_pentest_csv(text) {
        Ok(points) => points,
        Err(e) => panic!("{e}"),
    }
}

fn error(text: &str) -> String {
    match parse_pentest_csv(text) {
        Ok(points) => panic!("accepted: {points:?}"),
        Err(e) => e.to_string(),
    }
}

fn cp(id: &str, severity: Severity, result: ControlResult) -> ControlPoint {
    ControlPoint {
        id: id.to_string(),
        severity,
        result,
    }
}

#[test]
fn reads_a_french_export_with_semicolons() {
    let text = "\u{feff}Point de contrôle;Description;Criticité;Résultat\r\n\
                CP-01;Injection SQL;Haute;Conforme\r\n\
                CP-02;\"Jeton; \"\"expiré\"\"\";Élevée;Non conforme\r\n\
                CP-03;XSS;moyenne;KO\r\n\
                \r\n\
                CP-04;Bannière;Faible;N/A\r\n";
    assert_eq!(
        parsed(text),
        vec![
            cp("CP-01", Severity::High, ControlResult::Passed),
            cp("CP-02", Severity::High, ControlResult::Failed),
            cp("CP-03", Severity::Medium, ControlResult::Failed),
            cp("CP-04", Severity::Low, ControlResult::NotApplicable),
        ]
    );
}

#[test]
fn reads_an_english_export_with_commas() {
    let text = "ID,Severity,Result,Comment\n\
                A1,high,passed,\"ok, nothing found\"\n\
                A2,Medium,FAILED,\"multi\nline\"\n\
                A3,low,na,\n\
                A4,basse,échec,\n\
                A5,moyenne,non-conforme,\n\
                A6,haute,réussi,";
    let points = parsed(text);
    assert_eq!(
        points
            .iter()
            .map(|p| (p.id.as_str(), p.severity, p.result))
            .collect::<Vec<_>>(),
        [
            ("A1", Severity::High, ControlResult::Passed),
            ("A2", Severity::Medium, ControlResult::Failed),
            ("A3", Severity::Low, ControlResult::NotApplicable),
            ("A4", Severity::Low, ControlResult::Failed),
            ("A5", Severity::Medium, ControlResult::Failed),
            ("A6", Severity::High, ControlResult::Passed),
        ]
    );
    // And the points go straight to the verdict.
    let v = verdict(&points);
    assert!(v.accepted);
    assert_eq!((v.failed_medium, v.failed_low), (2, 1));
}

#[test]
fn header_names_are_folded() {
    let text = "  IDENTIFIANT ; Sévérité ; Statut \nX;MOYENNE;OK\n";
    assert_eq!(
        parsed(text),
        vec![cp("X", Severity::Medium, ControlResult::Passed)]
    );
}

#[test]
fn a_line_later_in_a_multiline_record_counts_lines() {
    let text = "id;criticité;résultat;note\nA;haute;ok;\"deux\nlignes\"\nB;haute;peut-être;\n";
    assert_eq!(
        error(text),
        "ligne 4, colonne 3 : résultat « peut-être » inconnu (valeurs acceptées : conforme, non conforme, non applicable)"
    );
}

#[test]
fn malformed_files_are_refused_with_their_line_and_column() {
    let cases = [
        (
            "",
            "le fichier CSV est vide : une ligne d'en-tête est attendue",
        ),
        (
            "\u{feff}\n\n",
            "le fichier CSV est vide : une ligne d'en-tête est attendue",
        ),
        (
            "id;criticité;résultat\n",
            "le fichier CSV ne contient aucun point de contrôle après la ligne d'en-tête",
        ),
        (
            "id;criticité;commentaire\nA;haute;ok\n",
            "ligne 1 : colonne « résultat » introuvable dans l'en-tête (intitulés acceptés : resultat, result, statut, status)",
        ),
        (
            "id;criticité;résultat;statut\nA;haute;ok;ok\n",
            "ligne 1, colonne 4 : deuxième colonne « résultat » (la colonne 3 l'est déjà)",
        ),
        (
            "id;criticité;résultat\nA;critique grave;ok\n",
            "ligne 2, colonne 2 : criticité « critique grave » inconnue (valeurs acceptées : haute, moyenne, basse)",
        ),
        (
            "id;criticité;résultat\nA;haute\n",
            "ligne 2 : la colonne 3 (« résultat ») manque, la ligne n'a que 2 champ(s)",
        ),
        (
            "id;criticité;résultat\nA; ;ok\n",
            "ligne 2, colonne 2 (« criticité ») : valeur vide",
        ),
        (
            "id;criticité;résultat\nA;haute;ok\n\"B;haute;ok\n",
            "ligne 3, colonne 1 : guillemet ouvrant jamais refermé",
        ),
        (
            "id;criticité;résultat\nA;haute;ok\nB\"x;haute;ok\n",
            "ligne 3, colonne 1 : guillemet inattendu (un champ contenant des guillemets doit être entouré de guillemets, et ses guillemets doublés)",
        ),
        (
            "id;criticité;résultat\nA;\"haute\"x;ok\n",
            "ligne 2, colonne 2 : guillemet inattendu (un champ contenant des guillemets doit être entouré de guillemets, et ses guillemets doublés)",
        ),
        (
            "id;criticité;résultat\nA;haute;ok\nB;haute;ko\nA;moyenne;ok\n",
            "ligne 4, colonne 1 : le point de contrôle « A » figure déjà ligne 2",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(error(text), message, "{text:?}");
    }
}

#[test]
fn quoted_fields_may_have_spaces_around_them() {
    let text = "\"Point de contrôle\" , \"Gravité\" , \"Résultat\"\n \"A\" , \"haute\" , \"ok\" \n";
    assert_eq!(
        parsed(text),
        vec![cp("A", Severity::High, ControlResult::Passed)]
    );
}
