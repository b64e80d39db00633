//! `import_xlsx(export_xlsx(rem)) == rem` on generated models and awkward texts.

mod common;

use calamine::{Data, Reader, Xlsx};
use common::HEADERS;
use conforme_domain::rem::{ProofLine, Rem, Requirement, RequirementId};
use conforme_domain::text::clean_cell;
use conforme_rem::{ExportError, MAX_CELL_CHARS, export_xlsx, import_xlsx, synthetic_rem};
use std::io::Cursor;

/// A small deterministic generator (xorshift64*), enough to vary models without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Pieces that exercise escaping, cleaning and number-looking texts.
const PIECES: &[&str] = &[
    "Le système DOIT",
    "PEUT",
    "é à ç Œ",
    "l’utilisateur",
    "« guillemets »",
    "\n",
    "\n \n   ",
    "\t",
    " ",
    "\u{00A0}",
    "\u{202F}",
    "\u{200B}",
    "&<>\"'",
    "=SUM(A1:A2)",
    "_x0041_",
    "_x000D_",
    "_x005F_",
    "3.0",
    "0042",
    "1e5",
    "VRAI",
    "#REF!",
    "\u{1}\u{7}\u{1F}",
    "— …",
    "🙂",
    "\r\n",
    "*",
];

fn text(rng: &mut Rng) -> String {
    let n = 1 + rng.below(6);
    let raw: String = (0..n).map(|_| rng.pick(PIECES)).collect();
    clean_cell(&raw)
}

fn mandatory(rng: &mut Rng) -> String {
    let t = text(rng);
    if t.is_empty() { "x".to_string() } else { t }
}

fn optional(rng: &mut Rng) -> Option<String> {
    if rng.chance(30) {
        return None;
    }
    Some(text(rng)).filter(|t| !t.is_empty())
}

const ID_CHARS: &[&str] = &[
    "A", "b", "9", ".", "/", "-", "_", "~", "é", "va1", "SC.", "DPI.",
];

fn ordre(rng: &mut Rng) -> Option<i64> {
    match rng.below(8) {
        0 => None,
        1 => Some(i64::MAX),
        2 => Some(i64::MIN),
        3 => Some((1 << 53) + 1),
        4 => Some(-(rng.below(1000) as i64)),
        _ => Some(rng.below(100_000) as i64),
    }
}

fn line(rng: &mut Rng, n: usize) -> ProofLine {
    let mut line = ProofLine {
        ordre: ordre(rng),
        ..ProofLine::default()
    };
    if rng.chance(15) {
        return line;
    }
    line.scenario_number = Some(if rng.chance(80) {
        format!("S.{n:02}")
    } else {
        mandatory(rng)
    });
    line.scenario_text = optional(rng);
    if rng.chance(85) {
        line.proof_number = Some(if rng.chance(80) {
            format!("S.{n:02}.01")
        } else {
            mandatory(rng)
        });
        line.proof_text = optional(rng);
    }
    line
}

fn model(rng: &mut Rng) -> Rem {
    let mut requirements: Vec<Requirement> = Vec::new();
    for i in 0..rng.below(7) {
        let raw: String = (0..1 + rng.below(5)).map(|_| rng.pick(ID_CHARS)).collect();
        let Ok(id) = RequirementId::parse(&format!("{raw}{i}")) else {
            continue;
        };
        let lines = (0..1 + rng.below(4)).map(|n| line(rng, n)).collect();
        requirements.push(Requirement {
            id,
            perimetre: mandatory(rng),
            chapitre: mandatory(rng),
            fonction: mandatory(rng),
            exigence: mandatory(rng),
            commentaire: optional(rng),
            profil: mandatory(rng),
            profil_historique: optional(rng),
            criticite: optional(rng),
            lines,
        });
    }
    Rem { requirements }
}

#[test]
fn generated_models_round_trip() {
    let mut rng = Rng(0x5EED_C0FF_EE12_3457);
    let (mut requirements, mut escapes, mut controls, mut huge) = (0, 0, 0, 0);
    for case in 0..300 {
        let rem = model(&mut rng);
        requirements += rem.requirements.len();
        for r in &rem.requirements {
            escapes += usize::from(r.exigence.contains("_x0041_"));
            controls += usize::from(r.exigence.contains('\u{1}'));
            huge += r.lines.iter().filter(|l| l.ordre == Some(i64::MAX)).count();
        }
        let bytes = export_xlsx(&rem).unwrap_or_else(|e| panic!("case {case}: {e}"));
        let back = import_xlsx(&bytes, "gen.xlsx")
            .unwrap_or_else(|e| panic!("case {case}: {e}\n{rem:#?}"));
        assert_eq!(back.rem, rem, "case {case}");
    }
    // The generator does reach the awkward cases.
    assert!(requirements > 500, "{requirements}");
    assert!(
        escapes > 10 && controls > 10 && huge > 10,
        "{escapes} {controls} {huge}"
    );
}

#[test]
fn synthetic_rem_round_trips_without_warnings() {
    let rem = synthetic_rem(50);
    assert_eq!(rem.requirements.len(), 400);
    let back = import_xlsx(&export_xlsx(&rem).expect("export"), "synthetic.xlsx").expect("import");
    assert_eq!(back.rem, rem);
    assert!(
        back.warnings.is_empty(),
        "{:?}",
        &back.warnings[..back.warnings.len().min(5)]
    );
}

#[test]
fn export_layout() {
    let rem = synthetic_rem(1);
    let bytes = export_xlsx(&rem).expect("export");
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("xlsx");
    assert_eq!(wb.sheet_names(), vec!["Exigences".to_string()]);
    let range = wb.worksheet_range("Exigences").expect("sheet");
    let header: Vec<String> = range
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(header, HEADERS);
    // One row per line, plus the header; Ordre is a number.
    assert_eq!(range.height(), 1 + rem.proof_line_count());
    assert_eq!(range.get((1, 13)), Some(&Data::Float(1.0)));
}

#[test]
fn requirement_without_lines_exports_one_empty_line() {
    let mut rem = synthetic_rem(1);
    rem.requirements[0].lines.clear();
    let back = import_xlsx(&export_xlsx(&rem).expect("export"), "x.xlsx").expect("import");
    assert_eq!(back.rem.requirements[0].lines, vec![ProofLine::default()]);
}

#[test]
fn over_long_texts_are_refused_on_export() {
    let mut rem = synthetic_rem(1);
    rem.requirements[1].exigence = "a".repeat(MAX_CELL_CHARS + 1);
    let err = export_xlsx(&rem).expect_err("too long");
    assert!(
        matches!(
            err,
            ExportError::TextTooLong {
                column: "Exigence",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "exigence SC.SYN/GEN.02 : le texte de la colonne « Exigence » dépasse 32767 caractères, la limite d'une cellule Excel"
    );
    rem.requirements[1].exigence = "a".repeat(MAX_CELL_CHARS);
    let back = import_xlsx(&export_xlsx(&rem).expect("export"), "x.xlsx").expect("import");
    assert_eq!(back.rem, rem);
}
