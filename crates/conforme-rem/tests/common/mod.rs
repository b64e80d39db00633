//! Shared helpers: the real files and a small workbook builder. The real REM is the copy the
//! platform bundles; the empty Convergence template is kept beside these tests.
#![allow(dead_code)]

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};

pub const REAL_REM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../programmes/HOP-DPI-Va2/rem/prepublication-2023.xlsx"
);
pub const TEMPLATE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/convergence-import-template.xlsx"
);

pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// A cell to write.
#[derive(Debug, Clone)]
pub enum C {
    Empty,
    S(String),
    N(f64),
    B(bool),
    /// A formula whose cached result is an Excel error such as `#REF!`.
    Err(&'static str),
    /// A date, formatted as one.
    Date(u16, u8, u8),
}

pub fn s(text: &str) -> C {
    C::S(text.to_string())
}

pub const HEADERS: [&str; 14] = [
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

pub fn header() -> Vec<C> {
    HEADERS.iter().map(|h| s(h)).collect()
}

/// A valid row of requirement `id`: scenario and proof numbers as given (`None`: empty, with
/// their texts), `Ordre` as a number.
pub fn row(id: &str, scenario: Option<&str>, proof: Option<&str>, ordre: f64) -> Vec<C> {
    let opt = |v: Option<String>| v.map_or(C::Empty, C::S);
    vec![
        s("Vague 2"),
        s(id),
        s("Chapitre"),
        s(&format!("Fonction de {id}")),
        s(&format!("Le système DOIT respecter {id}.")),
        C::Empty,
        s("Général"),
        opt(scenario.map(str::to_string)),
        opt(scenario.map(|sc| format!("Vérifier le scénario {sc}"))),
        opt(proof.map(str::to_string)),
        opt(proof.map(|p| format!("Démonstration {p}"))),
        s("Général"),
        C::Empty,
        C::N(ordre),
    ]
}

/// A workbook with one sheet per `(name, rows)`.
pub fn workbook(sheets: &[(&str, Vec<Vec<C>>)]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).expect("sheet name");
        for (r, cells) in rows.iter().enumerate() {
            let r = u32::try_from(r).expect("row");
            for (c, cell) in cells.iter().enumerate() {
                let c = u16::try_from(c).expect("col");
                match cell {
                    C::Empty => {}
                    C::S(text) => {
                        ws.write_string(r, c, text).expect("write");
                    }
                    C::N(n) => {
                        ws.write_number(r, c, *n).expect("write");
                    }
                    C::B(b) => {
                        ws.write_boolean(r, c, *b).expect("write");
                    }
                    C::Err(e) => {
                        ws.write_formula(r, c, Formula::new("=A1/0").set_result(*e))
                            .expect("write");
                    }
                    C::Date(y, m, d) => {
                        let dt = ExcelDateTime::from_ymd(*y, *m, *d).expect("date");
                        ws.write_datetime_with_format(r, c, dt, &date)
                            .expect("write");
                    }
                }
            }
        }
    }
    wb.save_to_buffer().expect("save")
}

/// A workbook with the single sheet `Exigences`.
pub fn exigences(rows: Vec<Vec<C>>) -> Vec<u8> {
    workbook(&[("Exigences", rows)])
}
