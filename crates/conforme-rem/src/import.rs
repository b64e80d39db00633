//! Import of a REM workbook in the Convergence layout.
//!
//! # What is read
//!
//! The sheet `Exigences` (found ignoring case and surrounding spaces). Its first non-empty row
//! is the header; columns are found by header name, wherever they stand, ignoring case,
//! accents and spacing (non-breaking spaces included); « Nº » reads as « N° ». Columns with
//! another header are ignored, with a warning. Every following row is one proof line; the
//! requirement columns repeat on each line of a requirement. Every text is cleaned with
//! [`clean_cell`]; an empty optional text becomes `None`. A number in a text column is read
//! as its decimal writing (`3.0` → `3`), a boolean as `VRAI` / `FAUX`.
//!
//! # Errors: the whole file is refused
//!
//! - not an XLSX workbook (empty, Excel 97-2003, password-protected, corrupt);
//! - no sheet `Exigences` (the sheets found are listed), or an empty one;
//! - a header missing (the unrecognised headers are listed to spot a misspelling) or present
//!   twice;
//! - more than [`MAX_ROWS`] non-empty rows;
//! - on a non-empty row: an empty or invalid ID; an empty mandatory requirement cell
//!   (Périmètre, Chapitre, Fonction, Exigence, Profil); a scenario text or proof without
//!   scenario number (a scenario is identified by its number, a proof by the pair scenario
//!   number + proof number, so such a line could be neither found nor compared); a proof text
//!   without proof number; an `Ordre` that is not an integer; a cell holding an Excel error
//!   (`#REF!` …) or a date (typically a number Excel turned into a date);
//! - a requirement whose rows disagree on a requirement column (the error names both rows and
//!   the column; an empty cell disagrees with a filled one).
//!
//! Errors name the file, the row as the spreadsheet numbers it and the column by letter and
//! header (« colonne B (ID) »). The first error found, in row order, is reported.
//!
//! # Warnings: imported as is, reported with their row
//!
//! - a scenario number that starts neither with the requirement ID nor with the ID without its
//!   prefix ([`RequirementId::without_prefix`]), followed by a dot. In the 2023 DPI REM, 137 of
//!   the 140 scenario rows of `SC.` requirements and all those of `DPI.` requirements use the
//!   ID without prefix (`CDA/DD.05.01` for `SC.CDA/DD.05`) while programme-specific
//!   requirements (`INS/va1.15`) use the full ID: both forms are accepted. Reported once per
//!   scenario and requirement;
//! - a proof number that does not extend its scenario number (`X.Y.Z` should start with the
//!   scenario `X.Y` followed by a dot);
//! - a scenario number already used by another requirement (reported on the first row of
//!   the second requirement);
//! - a scenario without text on any of its rows; a scenario whose text differs between two of
//!   its rows; a proof number without proof text; a scenario row without proof; a proof
//!   repeated within a scenario;
//! - rows of one requirement that are not contiguous: they are grouped under the first
//!   occurrence, in file order. The model then re-exports them contiguously; the `Ordre`
//!   column of each line keeps the original row order, so nothing is lost and the re-import
//!   of the export yields the same model;
//! - a row where only `Ordre` is filled (skipped), a header not recognised (column ignored).
//!
//! Fully empty rows are skipped.

use crate::layout::{Column, ColumnRef, SHEET_NAME, column_letter};
use calamine::{DataRef, Reader, Xlsx, XlsxError};
use conforme_domain::rem::{ProofLine, Rem, Requirement, RequirementId, RequirementIdError};
use conforme_domain::text::{clean_cell, fold_for_search};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Cursor;

/// Workbooks with more non-empty rows than this (header excluded) are refused.
pub const MAX_ROWS: usize = 100_000;

/// A successfully imported REM and the quirks found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub rem: Rem,
    /// In row order.
    pub warnings: Vec<ImportWarning>,
}

/// Something odd that did not prevent the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportWarning {
    /// The row, numbered as the spreadsheet shows it (1-based).
    pub row: usize,
    /// In French.
    pub message: String,
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ligne {} : {}", self.row, self.message)
    }
}

/// Why a workbook was refused. Rows are numbered as the spreadsheet shows them (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("« {file} » n'est pas un classeur XLSX lisible : {reason}")]
    Unreadable { file: String, reason: String },
    #[error(
        "« {file} » : aucune feuille « Exigences » ; feuilles trouvées : {}",
        list(found)
    )]
    MissingSheet { file: String, found: Vec<String> },
    #[error("« {file} » : la feuille « {sheet} » est vide")]
    EmptySheet { file: String, sheet: String },
    #[error(
        "« {file} », ligne {row} (en-tête) : la colonne « {column} » est introuvable{}",
        unrecognised_hint(unrecognised)
    )]
    MissingColumn {
        file: String,
        row: usize,
        column: &'static str,
        /// The headers found that name no column of the layout, « colonne O (Profils) ».
        unrecognised: Vec<String>,
    },
    #[error(
        "« {file} », ligne {row} (en-tête) : la colonne « {column} » apparaît deux fois, en {first_letter} et en {second_letter}"
    )]
    DuplicateColumn {
        file: String,
        row: usize,
        column: &'static str,
        first_letter: String,
        second_letter: String,
    },
    #[error(
        "« {file} » : la feuille « Exigences » compte plus de {limit} lignes remplies ; un référentiel d'exigences n'en demande pas autant, vérifiez le fichier"
    )]
    TooManyRows { file: String, limit: usize },
    #[error("« {file} », ligne {row}, {column} : {problem}")]
    Cell {
        file: String,
        row: usize,
        column: ColumnRef,
        problem: CellProblem,
    },
    #[error(
        "« {file} », ligne {row}, {column} : l'exigence {} y porte {} alors que sa ligne {} porte {} ; les colonnes d'une exigence doivent être identiques sur toutes ses lignes",
        detail.id,
        shown(detail.value.as_deref()),
        detail.first_row,
        shown(detail.first_value.as_deref())
    )]
    Contradiction {
        file: String,
        row: usize,
        column: ColumnRef,
        detail: Box<Contradiction>,
    },
}

/// Two rows of one requirement disagreeing on a requirement column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contradiction {
    pub id: RequirementId,
    /// The requirement's first row, where the value was first read.
    pub first_row: usize,
    /// The value on the row at fault (`None`: empty cell).
    pub value: Option<String>,
    /// The value on the first row.
    pub first_value: Option<String>,
}

impl ImportError {
    /// The file name given to [`import_xlsx`].
    pub fn file(&self) -> &str {
        match self {
            ImportError::Unreadable { file, .. }
            | ImportError::MissingSheet { file, .. }
            | ImportError::EmptySheet { file, .. }
            | ImportError::MissingColumn { file, .. }
            | ImportError::DuplicateColumn { file, .. }
            | ImportError::TooManyRows { file, .. }
            | ImportError::Cell { file, .. }
            | ImportError::Contradiction { file, .. } => file,
        }
    }

    /// The row at fault (1-based), when there is one.
    pub fn row(&self) -> Option<usize> {
        match self {
            ImportError::MissingColumn { row, .. }
            | ImportError::DuplicateColumn { row, .. }
            | ImportError::Cell { row, .. }
            | ImportError::Contradiction { row, .. } => Some(*row),
            _ => None,
        }
    }

    /// The cell's column, for errors about one cell.
    pub fn column(&self) -> Option<&ColumnRef> {
        match self {
            ImportError::Cell { column, .. } | ImportError::Contradiction { column, .. } => {
                Some(column)
            }
            _ => None,
        }
    }
}

/// What is wrong with one cell.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellProblem {
    #[error("l'identifiant d'exigence est vide alors que la ligne est remplie")]
    EmptyId,
    #[error("{0}")]
    InvalidId(RequirementIdError),
    #[error(
        "cette cellule obligatoire est vide (les colonnes d'une exigence se répètent sur chacune de ses lignes)"
    )]
    EmptyMandatory,
    #[error("« {0} » n'est pas un nombre entier")]
    NotAnInteger(String),
    #[error("la cellule contient l'erreur Excel {0}")]
    ExcelError(String),
    #[error(
        "la cellule contient une date ({0}), sans doute une saisie convertie par Excel ; saisissez-la au format texte"
    )]
    Date(String),
    #[error("un scénario ou une preuve est renseigné sans numéro de scénario")]
    MissingScenarioNumber,
    #[error("une preuve est décrite sans numéro de preuve")]
    MissingProofNumber,
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "aucune".to_string()
    } else {
        items
            .iter()
            .map(|s| format!("« {s} »"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn unrecognised_hint(items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!(" ; en-têtes non reconnus : {}", items.join(", "))
    }
}

/// « le texte « … » » or « une cellule vide », shortened for messages.
fn shown(value: Option<&str>) -> String {
    const MAX: usize = 60;
    match value {
        None => "une cellule vide".to_string(),
        Some(v) => {
            let one_line = v.replace('\n', " ");
            if one_line.chars().count() > MAX {
                let cut: String = one_line.chars().take(MAX).collect();
                format!("« {cut}… »")
            } else {
                format!("« {one_line} »")
            }
        }
    }
}

/// A cell as read, texts already cleaned (an empty text is [`Value::Empty`]).
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(String),
    Error(String),
}

impl Value {
    fn of(data: &DataRef<'_>) -> Value {
        match data {
            DataRef::Empty => Value::Empty,
            DataRef::String(s) => Value::text(s),
            DataRef::SharedString(s) => Value::text(s),
            DataRef::Int(i) => Value::Int(*i),
            DataRef::Float(f) => Value::Float(*f),
            DataRef::Bool(b) => Value::Bool(*b),
            DataRef::DateTime(dt) => {
                let (y, m, d, h, min, s, _) = dt.to_ymd_hms_milli();
                if dt.is_duration() {
                    Value::Date(format!("durée {}", dt.as_f64()))
                } else if (h, min, s) == (0, 0, 0) {
                    Value::Date(format!("{d:02}/{m:02}/{y}"))
                } else {
                    Value::Date(format!("{d:02}/{m:02}/{y} {h:02}:{min:02}:{s:02}"))
                }
            }
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Value::Date(s.clone()),
            DataRef::Error(e) => Value::Error(e.to_string()),
        }
    }

    fn text(raw: &str) -> Value {
        let cleaned = clean_cell(raw);
        if cleaned.is_empty() {
            Value::Empty
        } else {
            Value::Text(cleaned)
        }
    }

    fn is_empty(&self) -> bool {
        *self == Value::Empty
    }

    /// The cell as text, for headers (never fails).
    fn display(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Text(s) | Value::Date(s) | Value::Error(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => float_text(*f),
            Value::Bool(b) => bool_text(*b).to_string(),
        }
    }
}

fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn bool_text(b: bool) -> &'static str {
    if b { "VRAI" } else { "FAUX" }
}

/// Largest float magnitude below which every integer is exact.
const EXACT_FLOAT_INT: f64 = 9_007_199_254_740_992.0;

/// The header mapping: where each layout column stands.
struct Mapping {
    header_row: usize,
    positions: [u32; 14],
    by_position: HashMap<u32, Column>,
}

/// The cells of the `Exigences` sheet that matter.
struct Sheet {
    mapping: Mapping,
    /// 0-based row → the cells of the 14 layout columns, in layout order.
    rows: BTreeMap<u32, Vec<Value>>,
    warnings: Vec<ImportWarning>,
}

/// Reads a REM workbook in the Convergence layout. `file_name` is only used in messages.
/// All or nothing: see the [module documentation](self) for what is an error and what only a
/// warning.
pub fn import_xlsx(bytes: &[u8], file_name: &str) -> Result<Imported, ImportError> {
    let sheet = read_sheet(bytes, file_name)?;
    Builder::new(file_name, &sheet.mapping).build(sheet.rows, sheet.warnings)
}

fn unreadable(file: &str, reason: impl Into<String>) -> ImportError {
    ImportError::Unreadable {
        file: file.to_string(),
        reason: reason.into(),
    }
}

fn xlsx_reason(e: &XlsxError) -> String {
    match e {
        XlsxError::Zip(_) => "ce n'est pas une archive XLSX (ZIP) valide".to_string(),
        XlsxError::Password => "le classeur est protégé par un mot de passe".to_string(),
        XlsxError::FileNotFound(part) => {
            format!("la partie « {part} » manque : ce n'est pas un classeur Excel")
        }
        other => format!("contenu illisible ({other})"),
    }
}

const OLE_SIGNATURE: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

fn read_sheet(bytes: &[u8], file: &str) -> Result<Sheet, ImportError> {
    if bytes.is_empty() {
        return Err(unreadable(file, "le fichier est vide"));
    }
    if bytes.starts_with(&OLE_SIGNATURE) {
        return Err(unreadable(
            file,
            "c'est un classeur Excel 97-2003 (.xls) ou un classeur protégé par un mot de passe ; enregistrez-le au format .xlsx sans mot de passe",
        ));
    }
    let mut workbook =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(file, xlsx_reason(&e)))?;
    let names = workbook.sheet_names();
    let wanted = fold_for_search(SHEET_NAME);
    let Some(name) = names.iter().find(|n| fold_for_search(n) == wanted).cloned() else {
        return Err(ImportError::MissingSheet {
            file: file.to_string(),
            found: names,
        });
    };
    let mut reader = workbook
        .worksheet_cells_reader(&name)
        .map_err(|e| unreadable(file, xlsx_reason(&e)))?;

    let mut header: Option<(u32, Vec<(u32, Value)>)> = None;
    let mut mapping: Option<Mapping> = None;
    let mut rows: BTreeMap<u32, Vec<Value>> = BTreeMap::new();
    let mut warnings = Vec::new();
    while let Some(cell) = reader
        .next_cell()
        .map_err(|e| unreadable(file, xlsx_reason(&e)))?
    {
        let value = Value::of(cell.get_value());
        if value.is_empty() {
            continue;
        }
        let (row, col) = cell.get_position();
        if mapping.is_none() {
            match &mut header {
                None => {
                    header = Some((row, vec![(col, value)]));
                    continue;
                }
                Some((header_row, cells)) if row == *header_row => {
                    cells.push((col, value));
                    continue;
                }
                Some((header_row, cells)) => {
                    mapping = Some(map_header(file, *header_row, cells, &mut warnings)?);
                }
            }
        }
        let Some(m) = &mapping else { continue };
        if (row as usize) < m.header_row {
            return Err(unreadable(
                file,
                "les lignes de la feuille sont dans le désordre",
            ));
        }
        let Some(column) = m.by_position.get(&col) else {
            continue;
        };
        let cells = rows
            .entry(row)
            .or_insert_with(|| vec![Value::Empty; Column::ALL.len()]);
        cells[column.index()] = value;
        if rows.len() > MAX_ROWS {
            return Err(ImportError::TooManyRows {
                file: file.to_string(),
                limit: MAX_ROWS,
            });
        }
    }
    let mapping = match (mapping, header) {
        (Some(m), _) => m,
        (None, Some((header_row, cells))) => map_header(file, header_row, &cells, &mut warnings)?,
        (None, None) => {
            return Err(ImportError::EmptySheet {
                file: file.to_string(),
                sheet: name,
            });
        }
    };
    Ok(Sheet {
        mapping,
        rows,
        warnings,
    })
}

fn map_header(
    file: &str,
    header_row: u32,
    cells: &[(u32, Value)],
    warnings: &mut Vec<ImportWarning>,
) -> Result<Mapping, ImportError> {
    let row = header_row as usize + 1;
    let mut found: [Option<u32>; 14] = [None; 14];
    let mut unrecognised = Vec::new();
    for (col, value) in cells {
        let text = value.display();
        match Column::from_header(&text) {
            Some(column) => {
                if let Some(first) = found[column.index()] {
                    return Err(ImportError::DuplicateColumn {
                        file: file.to_string(),
                        row,
                        column: column.header(),
                        first_letter: column_letter(first),
                        second_letter: column_letter(*col),
                    });
                }
                found[column.index()] = Some(*col);
            }
            None => unrecognised.push(format!("colonne {} ({text})", column_letter(*col))),
        }
    }
    let mut positions = [0u32; 14];
    for column in Column::ALL {
        match found[column.index()] {
            Some(p) => positions[column.index()] = p,
            None => {
                return Err(ImportError::MissingColumn {
                    file: file.to_string(),
                    row,
                    column: column.header(),
                    unrecognised,
                });
            }
        }
    }
    for u in unrecognised {
        warnings.push(ImportWarning {
            row,
            message: format!(
                "la {u} n'est pas une colonne du format Convergence : elle est ignorée"
            ),
        });
    }
    let by_position = Column::ALL
        .iter()
        .map(|c| (positions[c.index()], *c))
        .collect();
    Ok(Mapping {
        header_row: row,
        positions,
        by_position,
    })
}

/// What was seen of one scenario of one requirement.
struct ScenarioSeen {
    first_row: usize,
    /// The first text found and its row.
    text: Option<(usize, String)>,
}

/// What was seen of one requirement.
struct Group {
    first_row: usize,
    scenarios: HashMap<String, ScenarioSeen>,
    /// Scenario order of first appearance, for the end-of-file checks.
    scenario_order: Vec<String>,
    proofs: HashMap<(String, String), usize>,
}

struct Builder<'a> {
    file: &'a str,
    mapping: &'a Mapping,
    requirements: Vec<Requirement>,
    groups: Vec<Group>,
    index: HashMap<RequirementId, usize>,
    /// Scenario number → the requirement that first used it, and the row.
    scenario_owners: HashMap<String, (usize, usize)>,
    warnings: Vec<ImportWarning>,
}

/// One row's cells, read and checked.
struct RowData {
    id: RequirementId,
    perimetre: String,
    chapitre: String,
    fonction: String,
    exigence: String,
    commentaire: Option<String>,
    profil: String,
    profil_historique: Option<String>,
    criticite: Option<String>,
    line: ProofLine,
}

impl<'a> Builder<'a> {
    fn new(file: &'a str, mapping: &'a Mapping) -> Self {
        Self {
            file,
            mapping,
            requirements: Vec::new(),
            groups: Vec::new(),
            index: HashMap::new(),
            scenario_owners: HashMap::new(),
            warnings: Vec::new(),
        }
    }

    fn column_ref(&self, column: Column) -> ColumnRef {
        ColumnRef::new(self.mapping.positions[column.index()], column.header())
    }

    fn cell_error(&self, row: usize, column: Column, problem: CellProblem) -> ImportError {
        ImportError::Cell {
            file: self.file.to_string(),
            row,
            column: self.column_ref(column),
            problem,
        }
    }

    fn warn(&mut self, row: usize, message: String) {
        self.warnings.push(ImportWarning { row, message });
    }

    fn build(
        mut self,
        rows: BTreeMap<u32, Vec<Value>>,
        header_warnings: Vec<ImportWarning>,
    ) -> Result<Imported, ImportError> {
        self.warnings = header_warnings;
        let mut previous_group: Option<usize> = None;
        for (r, cells) in rows {
            let row = r as usize + 1;
            let only_ordre = cells
                .iter()
                .enumerate()
                .all(|(i, v)| v.is_empty() || i == Column::Ordre.index());
            if only_ordre {
                self.warn(
                    row,
                    format!(
                        "seule la {} est remplie : la ligne est ignorée",
                        self.column_ref(Column::Ordre)
                    ),
                );
                continue;
            }
            let data = self.read_row(row, &cells)?;
            let group = self.place(row, data, previous_group)?;
            previous_group = Some(group);
        }
        self.final_checks();
        self.warnings.sort_by_key(|w| w.row);
        Ok(Imported {
            rem: Rem {
                requirements: self.requirements,
            },
            warnings: self.warnings,
        })
    }

    fn text(
        &self,
        row: usize,
        cells: &[Value],
        column: Column,
    ) -> Result<Option<String>, ImportError> {
        match &cells[column.index()] {
            Value::Empty => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            Value::Int(i) => Ok(Some(i.to_string())),
            Value::Float(f) => Ok(Some(float_text(*f))),
            Value::Bool(b) => Ok(Some(bool_text(*b).to_string())),
            Value::Date(d) => Err(self.cell_error(row, column, CellProblem::Date(d.clone()))),
            Value::Error(e) => {
                Err(self.cell_error(row, column, CellProblem::ExcelError(e.clone())))
            }
        }
    }

    fn mandatory(
        &self,
        row: usize,
        cells: &[Value],
        column: Column,
    ) -> Result<String, ImportError> {
        self.text(row, cells, column)?
            .ok_or_else(|| self.cell_error(row, column, CellProblem::EmptyMandatory))
    }

    fn ordre(&self, row: usize, cells: &[Value]) -> Result<Option<i64>, ImportError> {
        let column = Column::Ordre;
        let not_integer =
            |shown: String| self.cell_error(row, column, CellProblem::NotAnInteger(shown));
        match &cells[column.index()] {
            Value::Empty => Ok(None),
            Value::Int(i) => Ok(Some(*i)),
            Value::Float(f) => {
                if f.fract() == 0.0 && f.abs() <= EXACT_FLOAT_INT {
                    Ok(Some(*f as i64))
                } else {
                    Err(not_integer(float_text(*f)))
                }
            }
            Value::Text(s) => s
                .parse::<i64>()
                .map(Some)
                .map_err(|_| not_integer(s.clone())),
            Value::Bool(b) => Err(not_integer(bool_text(*b).to_string())),
            Value::Date(d) => Err(not_integer(d.clone())),
            Value::Error(e) => {
                Err(self.cell_error(row, column, CellProblem::ExcelError(e.clone())))
            }
        }
    }

    fn read_row(&self, row: usize, cells: &[Value]) -> Result<RowData, ImportError> {
        let raw_id = self
            .text(row, cells, Column::Id)?
            .ok_or_else(|| self.cell_error(row, Column::Id, CellProblem::EmptyId))?;
        let id = RequirementId::parse(&raw_id)
            .map_err(|e| self.cell_error(row, Column::Id, CellProblem::InvalidId(e)))?;
        let perimetre = self.mandatory(row, cells, Column::Perimetre)?;
        let chapitre = self.mandatory(row, cells, Column::Chapitre)?;
        let fonction = self.mandatory(row, cells, Column::Fonction)?;
        let exigence = self.mandatory(row, cells, Column::Exigence)?;
        let commentaire = self.text(row, cells, Column::Commentaire)?;
        let profil = self.mandatory(row, cells, Column::Profil)?;
        let scenario_number = self.text(row, cells, Column::ScenarioNumber)?;
        let scenario_text = self.text(row, cells, Column::ScenarioText)?;
        let proof_number = self.text(row, cells, Column::ProofNumber)?;
        let proof_text = self.text(row, cells, Column::ProofText)?;
        let profil_historique = self.text(row, cells, Column::ProfilHistorique)?;
        let criticite = self.text(row, cells, Column::Criticite)?;
        let ordre = self.ordre(row, cells)?;
        if scenario_number.is_none()
            && (scenario_text.is_some() || proof_number.is_some() || proof_text.is_some())
        {
            return Err(self.cell_error(
                row,
                Column::ScenarioNumber,
                CellProblem::MissingScenarioNumber,
            ));
        }
        if proof_number.is_none() && proof_text.is_some() {
            return Err(self.cell_error(row, Column::ProofNumber, CellProblem::MissingProofNumber));
        }
        Ok(RowData {
            id,
            perimetre,
            chapitre,
            fonction,
            exigence,
            commentaire,
            profil,
            profil_historique,
            criticite,
            line: ProofLine {
                scenario_number,
                scenario_text,
                proof_number,
                proof_text,
                ordre,
            },
        })
    }

    /// Adds the row to its requirement (created on its first row); returns the requirement's
    /// position.
    fn place(
        &mut self,
        row: usize,
        data: RowData,
        previous: Option<usize>,
    ) -> Result<usize, ImportError> {
        let position = match self.index.get(&data.id) {
            Some(&position) => {
                self.check_same_requirement(row, position, &data)?;
                if previous != Some(position) {
                    let first_row = self.groups[position].first_row;
                    self.warn(
                        row,
                        format!(
                            "les lignes de l'exigence {} ne se suivent pas (première ligne : {first_row}) ; elles sont regroupées sous sa première ligne",
                            data.id
                        ),
                    );
                }
                position
            }
            None => {
                let position = self.requirements.len();
                self.index.insert(data.id.clone(), position);
                self.groups.push(Group {
                    first_row: row,
                    scenarios: HashMap::new(),
                    scenario_order: Vec::new(),
                    proofs: HashMap::new(),
                });
                self.requirements.push(Requirement {
                    id: data.id,
                    perimetre: data.perimetre,
                    chapitre: data.chapitre,
                    fonction: data.fonction,
                    exigence: data.exigence,
                    commentaire: data.commentaire,
                    profil: data.profil,
                    profil_historique: data.profil_historique,
                    criticite: data.criticite,
                    lines: Vec::new(),
                });
                position
            }
        };
        self.check_line(row, position, &data.line);
        self.requirements[position].lines.push(data.line);
        Ok(position)
    }

    fn check_same_requirement(
        &self,
        row: usize,
        position: usize,
        data: &RowData,
    ) -> Result<(), ImportError> {
        let first = &self.requirements[position];
        let pairs: [(Column, Option<&str>, Option<&str>); 8] = [
            (
                Column::Perimetre,
                Some(&first.perimetre),
                Some(&data.perimetre),
            ),
            (
                Column::Chapitre,
                Some(&first.chapitre),
                Some(&data.chapitre),
            ),
            (
                Column::Fonction,
                Some(&first.fonction),
                Some(&data.fonction),
            ),
            (
                Column::Exigence,
                Some(&first.exigence),
                Some(&data.exigence),
            ),
            (
                Column::Commentaire,
                first.commentaire.as_deref(),
                data.commentaire.as_deref(),
            ),
            (Column::Profil, Some(&first.profil), Some(&data.profil)),
            (
                Column::ProfilHistorique,
                first.profil_historique.as_deref(),
                data.profil_historique.as_deref(),
            ),
            (
                Column::Criticite,
                first.criticite.as_deref(),
                data.criticite.as_deref(),
            ),
        ];
        for (column, expected, found) in pairs {
            if expected != found {
                return Err(ImportError::Contradiction {
                    file: self.file.to_string(),
                    row,
                    column: self.column_ref(column),
                    detail: Box::new(Contradiction {
                        id: first.id.clone(),
                        first_row: self.groups[position].first_row,
                        value: found.map(str::to_string),
                        first_value: expected.map(str::to_string),
                    }),
                });
            }
        }
        Ok(())
    }

    /// The per-row warnings about scenario and proof numbers.
    fn check_line(&mut self, row: usize, position: usize, line: &ProofLine) {
        let id = self.requirements[position].id.clone();
        if let Some(scenario) = &line.scenario_number {
            self.check_scenario(row, position, &id, scenario, line.scenario_text.as_deref());
            match &line.proof_number {
                None => self.warn(
                    row,
                    format!("aucune preuve n'est indiquée pour le scénario « {scenario} »"),
                ),
                Some(proof) => {
                    if !proof.starts_with(&format!("{scenario}.")) {
                        self.warn(
                            row,
                            format!(
                                "le numéro de preuve « {proof} » ne prolonge pas celui de son scénario « {scenario} » (attendu : « {scenario}.… »)"
                            ),
                        );
                    }
                    let key = (scenario.clone(), proof.clone());
                    if let Some(&first) = self.groups[position].proofs.get(&key) {
                        self.warn(
                            row,
                            format!("la preuve « {proof} » du scénario « {scenario} » figure déjà ligne {first}"),
                        );
                    } else {
                        self.groups[position].proofs.insert(key, row);
                    }
                }
            }
        }
        if let (Some(proof), None) = (&line.proof_number, &line.proof_text) {
            let column = self.column_ref(Column::ProofText);
            self.warn(
                row,
                format!("la preuve « {proof} » n'a pas de description ({column} vide)"),
            );
        }
    }

    fn check_scenario(
        &mut self,
        row: usize,
        position: usize,
        id: &RequirementId,
        scenario: &str,
        text: Option<&str>,
    ) {
        if let Some(seen) = self.groups[position].scenarios.get_mut(scenario) {
            match (&seen.text, text) {
                (None, Some(t)) => seen.text = Some((row, t.to_string())),
                (Some((first, first_text)), Some(t)) if first_text != t => {
                    let first = *first;
                    self.warn(
                        row,
                        format!("le texte du scénario « {scenario} » diffère de celui de la ligne {first}"),
                    );
                }
                _ => {}
            }
            return;
        }
        // First row of this scenario in this requirement.
        self.groups[position].scenarios.insert(
            scenario.to_string(),
            ScenarioSeen {
                first_row: row,
                text: text.map(|t| (row, t.to_string())),
            },
        );
        self.groups[position]
            .scenario_order
            .push(scenario.to_string());

        let full = format!("{id}.");
        let short = format!("{}.", id.without_prefix());
        if !scenario.starts_with(&full) && !scenario.starts_with(&short) {
            let message = if full == short {
                format!("le numéro de scénario « {scenario} » ne commence pas par « {full}… »")
            } else {
                format!(
                    "le numéro de scénario « {scenario} » ne commence ni par « {full}… » ni par « {short}… »"
                )
            };
            self.warn(row, message);
        }

        match self.scenario_owners.get(scenario) {
            Some(&(owner, owner_row)) if owner != position => {
                let owner_id = self.requirements[owner].id.clone();
                self.warn(
                    row,
                    format!(
                        "le numéro de scénario « {scenario} » est déjà celui d'un scénario de l'exigence {owner_id} (ligne {owner_row})"
                    ),
                );
            }
            Some(_) => {}
            None => {
                self.scenario_owners
                    .insert(scenario.to_string(), (position, row));
            }
        }
    }

    fn final_checks(&mut self) {
        let column = self.column_ref(Column::ScenarioText);
        let mut found = Vec::new();
        for group in &self.groups {
            for scenario in &group.scenario_order {
                if let Some(seen) = group.scenarios.get(scenario)
                    && seen.text.is_none()
                {
                    found.push((seen.first_row, scenario.clone()));
                }
            }
        }
        for (row, scenario) in found {
            self.warn(
                row,
                format!("le scénario « {scenario} » n'a pas de texte ({column} vide)"),
            );
        }
    }
}
