//! Reads and writes requirement repositories (REM) in the Convergence XLSX layout.
//!
//! The layout is one sheet `Exigences` with fourteen columns (see [`Column`]): `Périmètre`,
//! `ID`, `Chapitre`, `Fonction`, `Exigence`, `Commentaire`, `Profil`, `N° scénario`,
//! `Scénario de conformité`, `N° preuve`, `Preuve`, `Profil historique`, `Criticité`,
//! `Ordre`; one row per proof, the requirement columns repeated on each row.
//!
//! - [`import_xlsx`] reads a workbook into a [`Rem`](conforme_domain::rem::Rem), all or
//!   nothing, with warnings for the quirks real REMs have (see [`import`] for the rules);
//! - [`export_xlsx`] writes the same layout back: for any model the import can produce,
//!   `import_xlsx(&export_xlsx(rem)?, …)?.rem == *rem`;
//! - [`scale`] and [`synthetic_rem`] build large REMs for benchmarks and tests.
#![forbid(unsafe_code)]

pub mod export;
pub mod import;
mod layout;
mod synthetic;

pub use export::{ExportError, MAX_CELL_CHARS, export_xlsx};
pub use import::{
    CellProblem, Contradiction, ImportError, ImportWarning, Imported, MAX_ROWS, import_xlsx,
};
pub use layout::{Column, ColumnRef, SHEET_NAME, column_letter};
pub use synthetic::{scale, synthetic_rem};
