//! Export of a REM in the Convergence layout, so that [`crate::import_xlsx`] reads back the
//! identical model.
//!
//! One sheet `Exigences`, the fourteen headers in layout order (bold, frozen, with a filter),
//! one row per proof line with the requirement columns repeated, texts wrapped and aligned to
//! the top. `Ordre` is written as a number (as text beyond 2⁵³, where a spreadsheet number
//! would lose digits). A requirement without any line is written as one row with empty
//! scenario and proof cells, which re-imports as one empty line.

use crate::layout::{Column, SHEET_NAME};
use conforme_domain::rem::{ProofLine, Rem, Requirement, RequirementId};
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

/// Excel's limit on the characters of one cell.
pub const MAX_CELL_CHARS: usize = 32_767;

/// Excel's limit on the rows of one sheet.
const MAX_SHEET_ROWS: usize = 1_048_576;

const EXACT_FLOAT_INT: i64 = 9_007_199_254_740_992;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "exigence {id} : le texte de la colonne « {column} » dépasse {limit} caractères, la limite d'une cellule Excel"
    )]
    TextTooLong {
        id: RequirementId,
        column: &'static str,
        limit: usize,
    },
    #[error("le référentiel compte {rows} lignes, au-delà des {limit} lignes d'une feuille Excel")]
    TooManyRows { rows: usize, limit: usize },
    #[error("impossible d'écrire le classeur : {0}")]
    Xlsx(#[from] XlsxError),
}

struct Formats {
    header: Format,
    text: Format,
    number: Format,
}

/// Writes the REM as an XLSX workbook in the Convergence layout.
pub fn export_xlsx(rem: &Rem) -> Result<Vec<u8>, ExportError> {
    let rows: usize = rem.requirements.iter().map(|r| r.lines.len().max(1)).sum();
    if rows + 1 > MAX_SHEET_ROWS {
        return Err(ExportError::TooManyRows {
            rows,
            limit: MAX_SHEET_ROWS - 1,
        });
    }
    let formats = Formats {
        header: Format::new()
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Top)
            .set_background_color(Color::RGB(0xDD_E6_F0))
            .set_border_bottom(FormatBorder::Thin),
        text: Format::new().set_text_wrap().set_align(FormatAlign::Top),
        number: Format::new().set_align(FormatAlign::Top),
    };

    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEET_NAME)?;
    for column in Column::ALL {
        let col = column_number(column);
        sheet.write_string_with_format(0, col, column.header(), &formats.header)?;
        sheet.set_column_width(col, column.width())?;
    }

    let empty = ProofLine::default();
    let mut row: u32 = 0;
    for req in &rem.requirements {
        let lines: &[ProofLine] = if req.lines.is_empty() {
            std::slice::from_ref(&empty)
        } else {
            &req.lines
        };
        for line in lines {
            row += 1;
            write_row(sheet, row, req, line, &formats)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, row, column_number(Column::Ordre))?;
    Ok(workbook.save_to_buffer()?)
}

fn column_number(column: Column) -> u16 {
    // Fourteen columns: the index always fits.
    u16::try_from(column.index()).unwrap_or(u16::MAX)
}

fn write_row(
    sheet: &mut Worksheet,
    row: u32,
    req: &Requirement,
    line: &ProofLine,
    formats: &Formats,
) -> Result<(), ExportError> {
    let texts: [(Column, Option<&str>); 13] = [
        (Column::Perimetre, Some(&req.perimetre)),
        (Column::Id, Some(req.id.as_str())),
        (Column::Chapitre, Some(&req.chapitre)),
        (Column::Fonction, Some(&req.fonction)),
        (Column::Exigence, Some(&req.exigence)),
        (Column::Commentaire, req.commentaire.as_deref()),
        (Column::Profil, Some(&req.profil)),
        (Column::ScenarioNumber, line.scenario_number.as_deref()),
        (Column::ScenarioText, line.scenario_text.as_deref()),
        (Column::ProofNumber, line.proof_number.as_deref()),
        (Column::ProofText, line.proof_text.as_deref()),
        (Column::ProfilHistorique, req.profil_historique.as_deref()),
        (Column::Criticite, req.criticite.as_deref()),
    ];
    for (column, text) in texts {
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            continue;
        };
        if text.chars().count() > MAX_CELL_CHARS {
            return Err(ExportError::TextTooLong {
                id: req.id.clone(),
                column: column.header(),
                limit: MAX_CELL_CHARS,
            });
        }
        sheet.write_string_with_format(row, column_number(column), text, &formats.text)?;
    }
    if let Some(ordre) = line.ordre {
        let col = column_number(Column::Ordre);
        if (-EXACT_FLOAT_INT..=EXACT_FLOAT_INT).contains(&ordre) {
            sheet.write_number_with_format(row, col, ordre as f64, &formats.number)?;
        } else {
            sheet.write_string_with_format(row, col, ordre.to_string(), &formats.number)?;
        }
    }
    Ok(())
}
