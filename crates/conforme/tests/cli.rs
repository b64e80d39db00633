//! The command line as an operator runs it, on SQLite and PostgreSQL: REM import (good,
//! malformed, duplicate), export and diff, programme list, journal verification.
#![allow(clippy::unwrap_used)]

mod common;

use common::{BUNDLED_REM, Backend, FreshDb};
use conforme_store::Store;
use std::path::Path;
use std::process::{Command, Output};

fn conforme(db: &FreshDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conforme"))
        .args(args)
        .env("CONFORME_DATABASE_URL", &db.url)
        .env("CONFORME_DATA_DIR", db.data_dir())
        .current_dir(db.data_dir())
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A workbook in the Convergence layout built from rows of 14 cells.
fn workbook(sheet: &str, header: &[&str], rows: &[Vec<&str>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).unwrap();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

const HEADER: [&str; 14] = [
    "Périmètre",
    "ID",
    "Chapitre",
    "Fonction",
    "Exigence",
    "Commentaire",
    "Profil",
    "N° scénario",
    "Scénario de conformité",
    "N° preuve",
    "Preuve",
    "Profil historique",
    "Criticité",
    "Ordre",
];

fn row<'a>(id: &'a str, exigence: &'a str, scenario: &'a str, proof: &'a str) -> Vec<&'a str> {
    let scenario_text = if scenario.is_empty() {
        ""
    } else {
        "Texte du scénario"
    };
    let proof_text = if proof.is_empty() {
        ""
    } else {
        "Capture d'écran"
    };
    vec![
        "Vague 2",
        id,
        "Chapitre A",
        "Fonction A",
        exigence,
        "",
        "Général",
        scenario,
        scenario_text,
        proof,
        proof_text,
        "Général",
        "",
        "",
    ]
}

async fn state(db: &FreshDb) -> (usize, u64) {
    let store = Store::connect(&db.url).await.unwrap();
    let versions = store.rem_versions("HOP-DPI-Va2").await.unwrap().len();
    let (entries, problems) = store.verify_journal().await.unwrap();
    assert!(problems.is_empty());
    store.close().await;
    (versions, entries)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

async fn rem_import(backend: Backend) {
    let db = FreshDb::new(backend).await;
    let dir = db.data_dir();

    // A well-formed workbook imports, with its counts.
    let good = workbook(
        "Exigences",
        &HEADER,
        &[
            row(
                "SC.TEST/A.01",
                "Le système DOIT faire A.",
                "TEST/A.01.01",
                "TEST/A.01.01.01",
            ),
            row(
                "SC.TEST/A.01",
                "Le système DOIT faire A.",
                "TEST/A.01.01",
                "TEST/A.01.01.02",
            ),
            row("SC.TEST/B.01", "Le système PEUT faire B.", "", ""),
        ],
    );
    let file = write(&dir, "good.xlsx", &good);
    let out = conforme(
        &db,
        &[
            "rem",
            "import",
            "--programme",
            "HOP-DPI-Va2",
            "--version",
            "v-test",
            &file,
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("2 exigences, 3 lignes de preuve"),
        "{stdout}"
    );
    let (versions, entries) = state(&db).await;
    assert_eq!(versions, 2, "bundled + imported");

    // The same label again is refused: versions never change.
    let out = conforme(
        &db,
        &[
            "rem",
            "import",
            "--programme",
            "HOP-DPI-Va2",
            "--version",
            "v-test",
            &file,
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(text(&out).1.contains("existe déjà"));

    // Malformed workbooks are refused naming the row and column; nothing changes.
    let mut missing_column = HEADER.to_vec();
    missing_column.remove(4);
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        (
            "wrong-sheet.xlsx",
            workbook("Feuil1", &HEADER, &[row("SC.X.01", "DOIT", "", "")]),
            vec!["Exigences", "Feuil1"],
        ),
        (
            "missing-column.xlsx",
            workbook("Exigences", &missing_column, &[]),
            vec!["Exigence"],
        ),
        (
            "empty-id.xlsx",
            workbook(
                "Exigences",
                &HEADER,
                &[row("SC.X.01", "DOIT", "", ""), row("", "DOIT", "", "")],
            ),
            vec!["ligne 3", "colonne B"],
        ),
        (
            "contradiction.xlsx",
            workbook(
                "Exigences",
                &HEADER,
                &[
                    row("SC.X.01", "Le système DOIT x.", "X.01.01", "X.01.01.01"),
                    row("SC.X.01", "Le système DOIT y.", "X.01.01", "X.01.01.02"),
                ],
            ),
            vec!["ligne 3", "colonne E"],
        ),
        (
            "not-a-workbook.xlsx",
            b"plain text, not a workbook".to_vec(),
            vec!["not-a-workbook.xlsx"],
        ),
    ];
    for (name, bytes, expected) in cases {
        let file = write(&dir, name, &bytes);
        let out = conforme(
            &db,
            &[
                "rem",
                "import",
                "--programme",
                "HOP-DPI-Va2",
                "--version",
                "v-bad",
                &file,
            ],
        );
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(3), "{name}: {stderr}");
        for e in expected {
            assert!(stderr.contains(e), "{name}: « {e} » missing from: {stderr}");
        }
        assert_eq!(
            state(&db).await,
            (versions, entries),
            "{name} changed the database"
        );
    }
    // A bad label or an unknown programme too.
    let out = conforme(
        &db,
        &[
            "rem",
            "import",
            "--programme",
            "HOP-DPI-Va2",
            "--version",
            "../v1",
            &file,
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let out = conforme(
        &db,
        &[
            "rem",
            "import",
            "--programme",
            "NOPE-X",
            "--version",
            "v1",
            &file,
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(state(&db).await, (versions, entries));

    db.drop_now().await;
}
both!(import, rem_import);

async fn export_diff_and_journal(backend: Backend) {
    let db = FreshDb::new(backend).await;
    let dir = db.data_dir();

    let out = conforme(
        &db,
        &["programme", "list", "--at", "2026-03-31T11:59:00+02:00"],
    );
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout.contains("HOP-DPI-Va2") && stdout.contains("Date 2bis (31/03/2026 12:00)"),
        "{stdout}"
    );

    let exported = dir.join("export.xlsx");
    let out = conforme(
        &db,
        &[
            "rem",
            "export",
            "--programme",
            "HOP-DPI-Va2",
            "--version",
            "prepublication-2023",
            "-o",
            &exported.display().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(text(&out).0.contains("146 exigences"));

    // Export and the stored version, and the original workbook, are the same REM.
    let original = write(&dir, "original.xlsx", BUNDLED_REM);
    for (a, b) in [
        (
            exported.display().to_string(),
            "HOP-DPI-Va2@prepublication-2023".to_string(),
        ),
        (original.clone(), exported.display().to_string()),
    ] {
        let out = conforme(&db, &["rem", "diff", &a, &b]);
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        assert_eq!(text(&out).0.trim(), "aucune différence");
    }

    // A changed copy: one requirement removed, one added, one text changed.
    let rem = conforme_rem::import_xlsx(BUNDLED_REM, "t.xlsx")
        .unwrap()
        .rem;
    let mut changed = rem.clone();
    let removed = changed.requirements.remove(0);
    changed.requirements[0].exigence.push_str(" (modifiée)");
    let mut added = changed.requirements[1].clone();
    added.id = conforme_domain::rem::RequirementId::parse("SC.NOUVELLE.01").unwrap();
    changed.requirements.push(added);
    let changed_file = write(
        &dir,
        "changed.xlsx",
        &conforme_rem::export_xlsx(&changed).unwrap(),
    );
    let out = conforme(
        &db,
        &[
            "rem",
            "diff",
            "HOP-DPI-Va2@prepublication-2023",
            &changed_file,
        ],
    );
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains(&format!("- {}", removed.id)), "{stdout}");
    assert!(stdout.contains("+ SC.NOUVELLE.01"), "{stdout}");
    assert!(
        stdout.contains(&format!("~ {}", changed.requirements[0].id)),
        "{stdout}"
    );
    let out = conforme(
        &db,
        &[
            "rem",
            "diff",
            "--json",
            "HOP-DPI-Va2@prepublication-2023",
            &changed_file,
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["added"].as_array().unwrap().len(), 1);
    assert_eq!(json["removed"].as_array().unwrap().len(), 1);
    let out = conforme(&db, &["rem", "diff", "HOP-DPI-Va2@nope", &changed_file]);
    assert_eq!(out.status.code(), Some(3));
    let out = conforme(&db, &["rem", "diff", "no-such-file.xlsx", &changed_file]);
    assert_eq!(out.status.code(), Some(3));

    // The journal verifies, then detects a modified and a removed entry.
    let out = conforme(&db, &["journal", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(text(&out).0.contains("4 entrées"));
    let store = Store::connect(&db.url).await.unwrap();
    let tamper = |sql: &'static str| {
        let url = db.url.clone();
        async move {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    };
    tamper("UPDATE journal SET actor = 'someone-else' WHERE seq = 2").await;
    let out = conforme(&db, &["journal", "verify"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(text(&out).0.contains("entrée 2"), "{:?}", text(&out));
    tamper("UPDATE journal SET actor = 'system:bundle' WHERE seq = 2").await;
    assert_eq!(conforme(&db, &["journal", "verify"]).status.code(), Some(0));
    tamper("DELETE FROM journal WHERE seq = 3").await;
    let out = conforme(&db, &["journal", "verify"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(text(&out).0.contains("manquante"), "{:?}", text(&out));
    store.close().await;

    db.drop_now().await;
}
both!(export_and_journal, export_diff_and_journal);

#[test]
fn help_explains_every_command() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["programme", "list", "--help"],
        vec!["rem", "import", "--help"],
        vec!["rem", "export", "--help"],
        vec!["rem", "diff", "--help"],
        vec!["journal", "verify", "--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_conforme"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(out.stdout.len() > 100, "{args:?}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_conforme"))
        .args(["serve", "--now", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RFC 3339"));
}
