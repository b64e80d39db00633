//! The Convergence import layout: one sheet, fourteen named columns.

use conforme_domain::text::fold_for_search;
use std::fmt;

/// The name of the sheet holding the requirements.
pub const SHEET_NAME: &str = "Exigences";

/// A column of the Convergence layout, in the order the layout gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Perimetre,
    Id,
    Chapitre,
    Fonction,
    Exigence,
    Commentaire,
    Profil,
    ScenarioNumber,
    ScenarioText,
    ProofNumber,
    ProofText,
    ProfilHistorique,
    Criticite,
    Ordre,
}

impl Column {
    /// Every column, in layout order.
    pub const ALL: [Column; 14] = [
        Column::Perimetre,
        Column::Id,
        Column::Chapitre,
        Column::Fonction,
        Column::Exigence,
        Column::Commentaire,
        Column::Profil,
        Column::ScenarioNumber,
        Column::ScenarioText,
        Column::ProofNumber,
        Column::ProofText,
        Column::ProfilHistorique,
        Column::Criticite,
        Column::Ordre,
    ];

    /// The header, exactly as the layout writes it.
    pub fn header(self) -> &'static str {
        match self {
            Column::Perimetre => "Périmètre",
            Column::Id => "ID",
            Column::Chapitre => "Chapitre",
            Column::Fonction => "Fonction",
            Column::Exigence => "Exigence",
            Column::Commentaire => "Commentaire",
            Column::Profil => "Profil",
            Column::ScenarioNumber => "N° scénario",
            Column::ScenarioText => "Scénario de conformité",
            Column::ProofNumber => "N° preuve",
            Column::ProofText => "Preuve",
            Column::ProfilHistorique => "Profil historique",
            Column::Criticite => "Criticité",
            Column::Ordre => "Ordre",
        }
    }

    /// Position in [`Column::ALL`] (and in an exported sheet).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Width of the column in an exported sheet, in characters.
    pub(crate) fn width(self) -> f64 {
        match self {
            Column::Perimetre => 12.0,
            Column::Id => 24.0,
            Column::Chapitre => 30.0,
            Column::Fonction => 34.0,
            Column::Exigence => 70.0,
            Column::Commentaire => 40.0,
            Column::Profil => 14.0,
            Column::ScenarioNumber => 20.0,
            Column::ScenarioText => 70.0,
            Column::ProofNumber => 22.0,
            Column::ProofText => 50.0,
            Column::ProfilHistorique => 16.0,
            Column::Criticite => 12.0,
            Column::Ordre => 8.0,
        }
    }

    /// Finds the column a header cell names. Surrounding and inner spacing (non-breaking spaces
    /// included), case and accents are ignored, and « Nº » reads as « N° ».
    pub fn from_header(raw: &str) -> Option<Column> {
        let key = header_key(raw);
        Column::ALL
            .into_iter()
            .find(|c| header_key(c.header()) == key)
    }
}

fn header_key(raw: &str) -> String {
    fold_for_search(&raw.replace('\u{00BA}', "°"))
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The spreadsheet letter of a 0-based column index: 0 → `A`, 27 → `AB`.
pub fn column_letter(index: u32) -> String {
    let mut n = u64::from(index) + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        letters.push(char::from(b'A' + rem));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// A column as the workbook shows it: its letter and its header, « colonne B (ID) ».
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef {
    pub letter: String,
    pub header: String,
}

impl ColumnRef {
    pub(crate) fn new(index: u32, header: &str) -> Self {
        Self {
            letter: column_letter(index),
            header: header.to_string(),
        }
    }
}

impl fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "colonne {} ({})", self.letter, self.header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(1), "B");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
        assert_eq!(column_letter(16_383), "XFD");
    }

    #[test]
    fn headers_are_found_loosely() {
        for c in Column::ALL {
            assert_eq!(Column::from_header(c.header()), Some(c));
            assert_eq!(
                c.index(),
                Column::ALL.iter().position(|x| *x == c).unwrap_or(99)
            );
        }
        assert_eq!(
            Column::from_header("\u{00A0} périmètre "),
            Some(Column::Perimetre)
        );
        assert_eq!(Column::from_header("PERIMETRE"), Some(Column::Perimetre));
        assert_eq!(
            Column::from_header("Nº  Scénario"),
            Some(Column::ScenarioNumber)
        );
        assert_eq!(
            Column::from_header("N°scénario"),
            Some(Column::ScenarioNumber)
        );
        assert_eq!(
            Column::from_header("profil\nhistorique"),
            Some(Column::ProfilHistorique)
        );
        assert_eq!(Column::from_header("Profils"), None);
        assert_eq!(Column::from_header(""), None);
    }
}
