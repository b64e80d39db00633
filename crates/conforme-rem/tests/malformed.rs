//! Malformed workbooks are refused naming the file, the row and the column; quirky ones import
//! with warnings.

mod common;

use common::{C, HEADERS, exigences, header, row, s, workbook};
use conforme_domain::rem::RequirementIdError;
use conforme_rem::{CellProblem, ImportError, Imported, MAX_ROWS, export_xlsx, import_xlsx};

const FILE: &str = "rem-test.xlsx";

fn import(rows: Vec<Vec<C>>) -> Result<Imported, ImportError> {
    import_xlsx(&exigences(rows), FILE)
}

fn refused(rows: Vec<Vec<C>>) -> ImportError {
    match import(rows) {
        Ok(imported) => panic!("should be refused, imported {imported:?}"),
        Err(e) => e,
    }
}

/// Checks the error is about `row` and column `letter (header)`, and says so.
fn assert_at(err: &ImportError, row: usize, letter: &str, header: &str) {
    assert_eq!(err.file(), FILE);
    assert_eq!(err.row(), Some(row), "{err}");
    let column = err.column().unwrap_or_else(|| panic!("no column in {err}"));
    assert_eq!(column.letter, letter, "{err}");
    assert_eq!(column.header, header, "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("« {FILE} »")), "{text}");
    assert!(text.contains(&format!("ligne {row}")), "{text}");
    assert!(
        text.contains(&format!("colonne {letter} ({header})")),
        "{text}"
    );
}

fn problem(err: &ImportError) -> &CellProblem {
    match err {
        ImportError::Cell { problem, .. } => problem,
        other => panic!("not a cell error: {other}"),
    }
}

fn valid() -> Vec<Vec<C>> {
    vec![
        header(),
        row("SC.A/B.01", Some("A/B.01.01"), Some("A/B.01.01.01"), 1.0),
        row("SC.A/B.01", Some("A/B.01.01"), Some("A/B.01.01.02"), 2.0),
        row("DPI.C.02", None, None, 3.0),
    ]
}

fn messages(imported: &Imported) -> Vec<String> {
    imported.warnings.iter().map(ToString::to_string).collect()
}

#[test]
fn the_valid_base_imports_cleanly() {
    let imported = import(valid()).expect("valid");
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    assert_eq!(imported.rem.requirements.len(), 2);
    assert_eq!(imported.rem.proof_line_count(), 3);
    assert_eq!(imported.rem.requirements[0].lines[1].ordre, Some(2));
}

#[test]
fn not_a_workbook() {
    for (bytes, needle) in [
        (b"".to_vec(), "vide"),
        (b"Perimetre;ID;Chapitre\n".to_vec(), "ZIP"),
        (
            vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0],
            "97-2003",
        ),
    ] {
        let err = import_xlsx(&bytes, FILE).expect_err("refused");
        assert!(matches!(err, ImportError::Unreadable { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("« {FILE} » n'est pas un classeur XLSX lisible")),
            "{text}"
        );
        assert!(text.contains(needle), "{text}");
        assert_eq!(err.row(), None);
    }
}

#[test]
fn no_exigences_sheet() {
    let bytes = workbook(&[("Feuil1", valid()), ("Preuves", vec![vec![s("x")]])]);
    let err = import_xlsx(&bytes, FILE).expect_err("refused");
    assert_eq!(
        err,
        ImportError::MissingSheet {
            file: FILE.into(),
            found: vec!["Feuil1".into(), "Preuves".into()]
        }
    );
    assert_eq!(
        err.to_string(),
        "« rem-test.xlsx » : aucune feuille « Exigences » ; feuilles trouvées : « Feuil1 », « Preuves »"
    );
}

#[test]
fn sheet_name_is_found_loosely_among_others() {
    let bytes = workbook(&[
        ("Lisez-moi", vec![vec![s("notes")]]),
        (" EXIGENCES", valid()),
    ]);
    let imported = import_xlsx(&bytes, FILE).expect("imported");
    assert_eq!(imported.rem.requirements.len(), 2);
}

#[test]
fn empty_sheet() {
    let err = import_xlsx(&exigences(vec![]), FILE).expect_err("refused");
    assert!(matches!(err, ImportError::EmptySheet { .. }), "{err}");
    // A header alone is an empty REM, not an error.
    let imported = import(vec![header()]).expect("header only");
    assert!(imported.rem.requirements.is_empty());
}

#[test]
fn missing_column() {
    let rows: Vec<Vec<C>> = valid()
        .into_iter()
        .map(|mut r| {
            r.remove(6); // Profil
            r
        })
        .collect();
    let err = refused(rows);
    assert_eq!(
        err,
        ImportError::MissingColumn {
            file: FILE.into(),
            row: 1,
            column: "Profil",
            unrecognised: vec![]
        }
    );
    assert_eq!(
        err.to_string(),
        "« rem-test.xlsx », ligne 1 (en-tête) : la colonne « Profil » est introuvable"
    );
}

#[test]
fn misnamed_column_lists_the_unrecognised_headers() {
    let mut rows = valid();
    rows[0][7] = s("Numéro de scénario");
    let err = refused(rows);
    assert_eq!(err.row(), Some(1));
    assert_eq!(
        err.to_string(),
        "« rem-test.xlsx », ligne 1 (en-tête) : la colonne « N° scénario » est introuvable ; en-têtes non reconnus : colonne H (Numéro de scénario)"
    );
}

#[test]
fn duplicate_column() {
    let mut rows = valid();
    rows[0].push(s(" id "));
    let err = refused(rows);
    assert_eq!(
        err.to_string(),
        "« rem-test.xlsx », ligne 1 (en-tête) : la colonne « ID » apparaît deux fois, en B et en O"
    );
    assert_eq!(err.row(), Some(1));
}

#[test]
fn headers_are_mapped_by_name_not_position() {
    // Reverse the columns, vary case and spacing, add unknown columns in front and at the end.
    let loose = [
        "\u{00A0}PÉRIMÈTRE ",
        "id",
        "chapitre",
        " Fonction",
        "EXIGENCE",
        "commentaire",
        "profil",
        "Nº scénario",
        "scénario  de\u{00A0}conformité",
        "n° PREUVE",
        "preuve",
        "Profil\nhistorique",
        "CRITICITÉ",
        "ordre",
    ];
    let transform = |cells: Vec<C>, first: C, last: C| {
        let mut out = vec![first];
        out.extend(cells.into_iter().rev());
        out.push(last);
        out
    };
    let mut rows = vec![transform(
        loose.iter().map(|h| s(h)).collect(),
        s("Notes"),
        s("Relecture"),
    )];
    for r in valid().into_iter().skip(1) {
        rows.push(transform(r, s("une note"), C::Empty));
    }
    let imported = import(rows).expect("imported");
    assert_eq!(imported.rem, import(valid()).expect("valid").rem);
    assert_eq!(
        messages(&imported),
        vec![
            "ligne 1 : la colonne A (Notes) n'est pas une colonne du format Convergence : elle est ignorée",
            "ligne 1 : la colonne P (Relecture) n'est pas une colonne du format Convergence : elle est ignorée",
        ]
    );
}

#[test]
fn header_may_sit_below_empty_rows() {
    let mut rows = vec![vec![], vec![]];
    rows.extend(valid());
    let imported = import(rows).expect("imported");
    assert_eq!(imported.rem.requirements.len(), 2);
    let mut rows = vec![vec![], vec![]];
    rows.extend(valid());
    rows[4][1] = C::Empty;
    let err = refused(rows);
    assert_at(&err, 5, "B", "ID");
}

#[test]
fn empty_id() {
    let mut rows = valid();
    rows[2][1] = s("  \u{00A0}");
    let err = refused(rows);
    assert_at(&err, 3, "B", "ID");
    assert_eq!(problem(&err), &CellProblem::EmptyId);
    assert_eq!(
        err.to_string(),
        "« rem-test.xlsx », ligne 3, colonne B (ID) : l'identifiant d'exigence est vide alors que la ligne est remplie"
    );
}

#[test]
fn invalid_id() {
    for (raw, expected) in [
        (
            "SC.A B.01",
            RequirementIdError::Whitespace("SC.A B.01".into()),
        ),
        ("SC.A?.01", RequirementIdError::Forbidden("SC.A?.01".into())),
        ("SC.A\"01", RequirementIdError::Forbidden("SC.A\"01".into())),
    ] {
        let mut rows = valid();
        rows[3][1] = s(raw);
        let err = refused(rows);
        assert_at(&err, 4, "B", "ID");
        assert_eq!(problem(&err), &CellProblem::InvalidId(expected));
    }
    let mut rows = valid();
    rows[3][1] = s(&"X".repeat(101));
    assert!(matches!(
        problem(&refused(rows)),
        CellProblem::InvalidId(RequirementIdError::TooLong(_))
    ));
}

#[test]
fn empty_mandatory_cells() {
    for (index, letter) in [(0, "A"), (2, "C"), (3, "D"), (4, "E"), (6, "G")] {
        let mut rows = valid();
        rows[3][index] = C::Empty;
        let err = refused(rows);
        assert_at(&err, 4, letter, HEADERS[index]);
        assert_eq!(problem(&err), &CellProblem::EmptyMandatory);
        assert!(
            err.to_string()
                .contains("cette cellule obligatoire est vide")
        );
    }
}

#[test]
fn optional_cells_may_be_empty() {
    let mut rows = valid();
    for index in [5, 11, 12, 13] {
        rows[3][index] = C::Empty;
    }
    let imported = import(rows).expect("imported");
    let req = &imported.rem.requirements[1];
    assert_eq!(
        (
            req.commentaire.as_ref(),
            req.profil_historique.as_ref(),
            req.criticite.as_ref()
        ),
        (None, None, None)
    );
    assert_eq!(req.lines[0].ordre, None);
}

#[test]
fn contradicting_requirement_columns() {
    let mut rows = valid();
    rows[2][3] = s("Une autre fonction");
    let err = refused(rows);
    assert_at(&err, 3, "D", "Fonction");
    match &err {
        ImportError::Contradiction { detail, .. } => {
            assert_eq!(detail.first_row, 2);
            assert_eq!(detail.id.as_str(), "SC.A/B.01");
            assert_eq!(detail.value.as_deref(), Some("Une autre fonction"));
            assert_eq!(detail.first_value.as_deref(), Some("Fonction de SC.A/B.01"));
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        err.to_string(),
        "« rem-test.xlsx », ligne 3, colonne D (Fonction) : l'exigence SC.A/B.01 y porte « Une autre fonction » alors que sa ligne 2 porte « Fonction de SC.A/B.01 » ; les colonnes d'une exigence doivent être identiques sur toutes ses lignes"
    );

    // An optional column filled on one row only also contradicts.
    let mut rows = valid();
    rows[2][12] = s("Majeure");
    let err = refused(rows);
    assert_at(&err, 3, "M", "Criticité");
    assert!(
        err.to_string()
            .contains("« Majeure » alors que sa ligne 2 porte une cellule vide"),
        "{err}"
    );

    // Cleaning happens before comparing: spacing differences are no contradiction.
    let mut rows = valid();
    rows[2][3] = s("\u{00A0}Fonction de SC.A/B.01  ");
    assert!(import(rows).is_ok());
}

#[test]
fn long_values_are_shortened_in_messages() {
    let mut rows = valid();
    let long = format!("Le système DOIT {}", "vraiment ".repeat(30));
    rows[2][4] = s(&long);
    let err = refused(rows);
    assert_at(&err, 3, "E", "Exigence");
    let text = err.to_string();
    assert!(text.contains("… »"), "{text}");
    assert!(text.len() < 400, "{text}");
}

#[test]
fn ordre_must_be_an_integer() {
    for (cell, shown) in [
        (s("trois"), "trois"),
        (C::N(2.5), "2.5"),
        (C::B(true), "VRAI"),
        (s("4.0"), "4.0"),
    ] {
        let mut rows = valid();
        rows[2][13] = cell;
        let err = refused(rows);
        assert_at(&err, 3, "N", "Ordre");
        assert_eq!(problem(&err), &CellProblem::NotAnInteger(shown.into()));
    }
    // Integers as floats or texts are fine.
    let mut rows = valid();
    rows[1][13] = C::N(7.0);
    rows[2][13] = s(" 8 ");
    rows[3][13] = s("-9");
    let rem = import(rows).expect("imported").rem;
    assert_eq!(rem.requirements[0].lines[0].ordre, Some(7));
    assert_eq!(rem.requirements[0].lines[1].ordre, Some(8));
    assert_eq!(rem.requirements[1].lines[0].ordre, Some(-9));
}

#[test]
fn scenario_and_proof_need_their_numbers() {
    // Scenario text without scenario number.
    let mut rows = valid();
    rows[3][8] = s("Vérifier quelque chose");
    let err = refused(rows);
    assert_at(&err, 4, "H", "N° scénario");
    assert_eq!(problem(&err), &CellProblem::MissingScenarioNumber);

    // Proof number without scenario number.
    let mut rows = valid();
    rows[1][7] = C::Empty;
    rows[1][8] = C::Empty;
    let err = refused(rows);
    assert_at(&err, 2, "H", "N° scénario");

    // Proof text without proof number.
    let mut rows = valid();
    rows[2][9] = C::Empty;
    let err = refused(rows);
    assert_at(&err, 3, "J", "N° preuve");
    assert_eq!(problem(&err), &CellProblem::MissingProofNumber);
}

#[test]
fn excel_errors_and_dates_are_refused() {
    let mut rows = valid();
    rows[2][10] = C::Err("#REF!");
    let err = refused(rows);
    assert_at(&err, 3, "K", "Preuve");
    assert_eq!(problem(&err), &CellProblem::ExcelError("#REF!".into()));

    let mut rows = valid();
    rows[3][13] = C::Err("#N/A");
    let err = refused(rows);
    assert_at(&err, 4, "N", "Ordre");

    let mut rows = valid();
    rows[1][7] = C::Date(2023, 2, 1);
    let err = refused(rows);
    assert_at(&err, 2, "H", "N° scénario");
    assert_eq!(problem(&err), &CellProblem::Date("01/02/2023".into()));
}

#[test]
fn numbers_and_booleans_in_text_columns_read_as_text() {
    let mut rows = valid();
    rows[3][2] = C::N(3.0);
    rows[3][5] = C::B(false);
    rows[3][12] = C::N(1.5);
    let req = &import(rows).expect("imported").rem.requirements[1];
    assert_eq!(req.chapitre, "3");
    assert_eq!(req.commentaire.as_deref(), Some("FAUX"));
    assert_eq!(req.criticite.as_deref(), Some("1.5"));
}

#[test]
fn the_first_error_in_row_order_is_reported() {
    let mut rows = valid();
    rows[3][0] = C::Empty;
    rows[2][1] = C::Empty;
    let err = refused(rows);
    assert_at(&err, 3, "B", "ID");
}

#[test]
fn too_many_rows() {
    let mut rows = vec![header()];
    rows.extend((0..=MAX_ROWS).map(|_| vec![C::Empty, s("X")]));
    let err = refused(rows);
    assert_eq!(
        err,
        ImportError::TooManyRows {
            file: FILE.into(),
            limit: MAX_ROWS
        }
    );
    assert!(err.to_string().contains("plus de 100000 lignes"), "{err}");
}

#[test]
fn at_the_row_limit_rows_are_checked_normally() {
    let mut rows = vec![header()];
    rows.extend((0..MAX_ROWS).map(|_| vec![C::Empty, s("X")]));
    let err = refused(rows);
    assert_at(&err, 2, "A", "Périmètre");
}

#[test]
fn empty_rows_are_skipped_and_ordre_only_rows_reported() {
    let mut rows = valid();
    rows.insert(2, vec![C::Empty, s("  "), s("\u{00A0}")]);
    rows.insert(4, vec![]);
    let mut ordre_only = vec![C::Empty; 13];
    ordre_only.push(C::N(99.0));
    rows.push(ordre_only);
    let imported = import(rows).expect("imported");
    assert_eq!(imported.rem.proof_line_count(), 3);
    assert_eq!(
        messages(&imported),
        vec!["ligne 7 : seule la colonne N (Ordre) est remplie : la ligne est ignorée"]
    );
}

#[test]
fn non_contiguous_rows_are_grouped_and_round_trip() {
    let rows = vec![
        header(),
        row("SC.A/B.01", Some("A/B.01.01"), Some("A/B.01.01.01"), 1.0),
        row("DPI.C.02", None, None, 2.0),
        row("SC.A/B.01", Some("A/B.01.02"), Some("A/B.01.02.01"), 3.0),
    ];
    let imported = import(rows).expect("imported");
    assert_eq!(
        messages(&imported),
        vec![
            "ligne 4 : les lignes de l'exigence SC.A/B.01 ne se suivent pas (première ligne : 2) ; elles sont regroupées sous sa première ligne"
        ]
    );
    let rem = &imported.rem;
    assert_eq!(rem.requirements[0].lines.len(), 2);
    assert_eq!(rem.requirements[0].lines[1].ordre, Some(3));
    let again = import_xlsx(&export_xlsx(rem).expect("export"), FILE).expect("re-import");
    assert_eq!(&again.rem, rem);
    assert!(again.warnings.is_empty());
}

#[test]
fn scenario_prefix_rule() {
    let rows = vec![
        header(),
        // Without prefix, with the full ID: both accepted.
        row("SC.A/B.01", Some("A/B.01.01"), Some("A/B.01.01.01"), 1.0),
        row(
            "SC.A/B.01",
            Some("SC.A/B.01.02"),
            Some("SC.A/B.01.02.01"),
            2.0,
        ),
        // Neither: reported once per scenario.
        row("SC.A/B.03", Some("B.03.01"), Some("B.03.01.01"), 3.0),
        row("SC.A/B.03", Some("B.03.01"), Some("B.03.01.02"), 4.0),
        // The ID alone, without a scenario ordinal, is not a prefix.
        row("SC.A/B.04", Some("A/B.04"), Some("A/B.04.01"), 5.0),
        // No prefix at all.
        row("LIBRE", Some("LIBRE.01"), Some("LIBRE.01.01"), 6.0),
        row("AUTRE", Some("X.01"), Some("X.01.01"), 7.0),
    ];
    let imported = import(rows).expect("imported");
    assert_eq!(
        messages(&imported),
        vec![
            "ligne 4 : le numéro de scénario « B.03.01 » ne commence ni par « SC.A/B.03.… » ni par « A/B.03.… »",
            "ligne 6 : le numéro de scénario « A/B.04 » ne commence ni par « SC.A/B.04.… » ni par « A/B.04.… »",
            "ligne 8 : le numéro de scénario « X.01 » ne commence pas par « AUTRE.… »",
        ]
    );
}

#[test]
fn proof_and_scenario_quirks_are_warnings() {
    let mut rows = vec![
        header(),
        // Proof not extending its scenario.
        row("SC.A.01", Some("A.01.02"), Some("A.01.01.02"), 1.0),
        // Scenario shared with another requirement.
        row("SC.A.02", Some("A.01.02"), Some("A.01.02.01"), 2.0),
        // Scenario without proof.
        row("SC.A.03", Some("A.03.01"), None, 3.0),
        // Same proof twice in a scenario, and the scenario's text differs.
        row("SC.A.04", Some("A.04.01"), Some("A.04.01.01"), 4.0),
        row("SC.A.04", Some("A.04.01"), Some("A.04.01.01"), 5.0),
        // Proof without text; scenario without text on all its rows.
        row("SC.A.05", Some("A.05.01"), Some("A.05.01.01"), 6.0),
    ];
    rows[5][8] = s("Un autre texte");
    rows[6][10] = C::Empty;
    rows[6][8] = C::Empty;
    let imported = import(rows).expect("imported");
    assert_eq!(
        messages(&imported),
        vec![
            "ligne 2 : le numéro de preuve « A.01.01.02 » ne prolonge pas celui de son scénario « A.01.02 » (attendu : « A.01.02.… »)",
            "ligne 3 : le numéro de scénario « A.01.02 » ne commence ni par « SC.A.02.… » ni par « A.02.… »",
            "ligne 3 : le numéro de scénario « A.01.02 » est déjà celui d'un scénario de l'exigence SC.A.01 (ligne 2)",
            "ligne 4 : aucune preuve n'est indiquée pour le scénario « A.03.01 »",
            "ligne 6 : le texte du scénario « A.04.01 » diffère de celui de la ligne 5",
            "ligne 6 : la preuve « A.04.01.01 » du scénario « A.04.01 » figure déjà ligne 5",
            "ligne 7 : la preuve « A.05.01.01 » n'a pas de description (colonne K (Preuve) vide)",
            "ligne 7 : le scénario « A.05.01 » n'a pas de texte (colonne I (Scénario de conformité) vide)",
        ]
    );
    // Everything was kept as is.
    let rem = &imported.rem;
    assert_eq!(rem.proof_line_count(), 6);
    assert_eq!(
        rem.requirements[3].lines[1].scenario_text.as_deref(),
        Some("Un autre texte")
    );
    let again = import_xlsx(&export_xlsx(rem).expect("export"), FILE).expect("re-import");
    assert_eq!(&again.rem, rem);
    assert_eq!(again.warnings, imported.warnings);
}

#[test]
fn scenario_text_given_on_a_later_row_is_enough() {
    let mut rows = vec![
        header(),
        row("SC.A.01", Some("A.01.01"), Some("A.01.01.01"), 1.0),
        row("SC.A.01", Some("A.01.01"), Some("A.01.01.02"), 2.0),
    ];
    rows[1][8] = C::Empty;
    let imported = import(rows).expect("imported");
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
}
