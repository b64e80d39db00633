//! Automatic checks on a deposited proof file, shown to the instructor next to the file: is it
//! empty, is its type what the REM's proof text asks for, can an archive be opened; and the
//! import of a penetration-test form exported as CSV (DSR-HOP-DPI-Va2 §3.2.6).
//!
//! The checks inform, they never decide: a type that does not match the proof text is a
//! warning, since only the instructor can tell whether « copies d'écran » delivered as a ZIP
//! is acceptable. Only an empty file, an archive that cannot be opened and a penetration test
//! over the thresholds fail.
//!
//! The facts on the file (sniffed type, size, archive reading) are gathered by the file store;
//! everything here is pure.

use serde::{Deserialize, Serialize};

use crate::proofs::pentest::{ControlPoint, ControlResult, PentestVerdict, Severity};
use crate::text::fold_for_search;

/// What kind of file something is, or what kind a proof asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileNature {
    Image,
    Video,
    Document,
    Text,
    Archive,
}

impl FileNature {
    /// Every nature, in the order they are listed.
    pub const ALL: [FileNature; 5] = [
        FileNature::Image,
        FileNature::Video,
        FileNature::Document,
        FileNature::Text,
        FileNature::Archive,
    ];

    pub fn label(self) -> &'static str {
        match self {
            FileNature::Image => "image",
            FileNature::Video => "vidéo",
            FileNature::Document => "document",
            FileNature::Text => "fichier texte",
            FileNature::Archive => "archive",
        }
    }
}

use FileNature::{Archive, Document, Image, Text, Video};

/// Keywords of the REM's proof texts and the natures they call for. A keyword is a sequence of
/// words of the folded text (accents and case dropped, punctuation splitting words: « d'écran »
/// is `d ecran`); a word ending with `*` matches every word it starts.
const CLUES: &[(&[&str], &[FileNature])] = &[
    // « Copies d'écran », « capture d'écran », « scan des éditions »: images, often gathered
    // in a PDF.
    (&["capture*", "d", "ecran*"], &[Image, Document]),
    (&["copie*", "d", "ecran*"], &[Image, Document]),
    (&["impression*", "d", "ecran*"], &[Image, Document]),
    (&["screenshot*"], &[Image, Document]),
    (&["scan*"], &[Image, Document]),
    (&["photo*"], &[Image, Document]),
    // « Vidéo montrant… », « capture vidéo », « enregistrement ».
    (&["video*"], &[Video]),
    (&["enregistrement*"], &[Video]),
    (&["screencast*"], &[Video]),
    // « Démonstration montrant… », « Montrer l'historique… » with no medium named: screenshots
    // or a video.
    (&["demonstration*"], &[Image, Video, Document]),
    (&["montrer"], &[Image, Video, Document]),
    // Logs, traces, messages, extractions: text files, alone or zipped, or printed to PDF.
    (&["log"], &[Text, Archive, Document]),
    (&["logs"], &[Text, Archive, Document]),
    (&["trace"], &[Text, Archive, Document]),
    (&["traces"], &[Text, Archive, Document]),
    (&["journal"], &[Text, Archive, Document]),
    (&["journaux"], &[Text, Archive, Document]),
    (&["fichier*"], &[Text, Archive, Document]),
    (&["hl7"], &[Text, Archive, Document]),
    (&["cda"], &[Text, Archive, Document]),
    (&["csv"], &[Text, Archive, Document]),
    (&["xml"], &[Text, Archive, Document]),
    (&["json"], &[Text, Archive, Document]),
    (&["soap"], &[Text, Archive, Document]),
    (&["smtp"], &[Text, Archive, Document]),
    (&["dump*"], &[Text, Archive, Document]),
    (&["extraction*"], &[Text, Archive, Document]),
    (
        &["extrait*", "de", "configuration"],
        &[Text, Archive, Document],
    ),
    (&["certificat*"], &[Text, Archive, Document]),
    (&["crl"], &[Text, Archive, Document]),
    // « Lien permanent … vers le rapport de validation »: a link, pasted in a text file or a PDF.
    (&["lien*"], &[Text, Archive, Document]),
    // IHE XDM archives, ZIP files.
    (&["archive*"], &[Archive]),
    (&["xdm"], &[Archive]),
    (&["zip"], &[Archive]),
    // Written documents: reports, sworn statements, procedures, forms, matrices.
    (&["document*"], &[Document, Archive]),
    (&["rapport*"], &[Document, Archive]),
    (&["attestation*"], &[Document, Archive]),
    (&["proces", "verba*"], &[Document, Archive]),
    (&["declaration*"], &[Document, Archive]),
    (&["engagement*"], &[Document, Archive]),
    (&["justificatif*"], &[Document, Archive]),
    (&["lettre*"], &[Document, Archive]),
    (&["formulaire*"], &[Document, Archive]),
    (&["pdf"], &[Document, Archive]),
    (&["procedure*"], &[Document, Archive]),
    (&["processus"], &[Document, Archive]),
    (&["politique*"], &[Document, Archive]),
    (&["description*"], &[Document, Archive]),
    (&["pssi"], &[Document, Archive]),
    (&["plan", "d", "assurance"], &[Document, Archive]),
    (&["dossier", "d", "architecture"], &[Document, Archive]),
    (&["contrat*"], &[Document, Archive]),
    (&["matrice*"], &[Document, Archive]),
    (&["tableau*"], &[Document, Archive]),
    (&["liste*"], &[Document, Archive]),
    (&["fiche*"], &[Document, Archive]),
    (&["edition*"], &[Document, Archive]),
    // The penetration-test form may be exported as CSV (see `parse_pentest_csv`).
    (&["test*", "d", "intrusion"], &[Document, Text]),
];

/// Splits a folded text into words: runs of letters and digits.
fn words(text: &str) -> Vec<String> {
    fold_for_search(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn word_matches(pattern: &str, word: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => word.starts_with(prefix),
        None => word == pattern,
    }
}

fn contains_phrase(words: &[String], phrase: &[&str]) -> bool {
    !phrase.is_empty()
        && words.windows(phrase.len()).any(|window| {
            window
                .iter()
                .zip(phrase)
                .all(|(word, pattern)| word_matches(pattern, word))
        })
}

/// The kinds of file a REM proof text asks for, read from its French wording (« Copies d'écran
/// ou vidéo de la séquence » asks for images, documents or videos). Several clues add up. An
/// empty list means the text gives no clue (or there is no text): any file will do.
///
/// The natures are listed in the order of [`FileNature::ALL`], each once.
pub fn expected_natures(proof_text: Option<&str>) -> Vec<FileNature> {
    let Some(text) = proof_text else {
        return Vec::new();
    };
    let words = words(text);
    let mut wanted = [false; FileNature::ALL.len()];
    for (phrase, natures) in CLUES {
        if contains_phrase(&words, phrase) {
            for nature in *natures {
                wanted[*nature as usize] = true;
            }
        }
    }
    FileNature::ALL
        .into_iter()
        .filter(|nature| wanted[*nature as usize])
        .collect()
}

/// The nature of a file from its sniffed MIME type (parameters such as `; charset=utf-8` are
/// ignored); `None` for a type of no nature a proof asks for (executables, audio, unknown
/// binary). Office documents are ZIP or OLE files underneath but are sniffed as their own
/// types, hence documents.
pub fn nature_of(content_type: &str) -> Option<FileNature> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let (family, subtype) = essence.split_once('/')?;
    match family {
        "image" => return Some(Image),
        "video" => return Some(Video),
        "text" => return Some(Text),
        "application" => {}
        _ => return None,
    }
    let nature = match subtype {
        "x-matroska" => Video,
        "pdf" | "msword" | "vnd.ms-excel" | "vnd.ms-powerpoint" | "rtf" | "postscript"
        | "epub+zip" | "x-ole-storage" => Document,
        s if s.starts_with("vnd.openxmlformats-officedocument.")
            || s.starts_with("vnd.oasis.opendocument.") =>
        {
            Document
        }
        "json" | "xml" => Text,
        "zip"
        | "gzip"
        | "x-tar"
        | "x-7z-compressed"
        | "x-bzip2"
        | "x-xz"
        | "vnd.rar"
        | "zstd"
        | "x-lzip"
        | "x-lz4"
        | "x-compress"
        | "vnd.bzip3"
        | "x-cpio"
        | "vnd.ms-cab-compressed"
        | "x-unix-archive" => Archive,
        _ => return None,
    };
    Some(nature)
}

/// What reading an archive's table of contents found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArchiveFacts {
    Readable { entries: usize },
    Unreadable { reason: String },
}

/// What is known of a deposited file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    /// The MIME type sniffed from its content.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// For an archive the store could read, what reading it found.
    pub archive: Option<ArchiveFacts>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    Pass,
    Warning,
    Fail,
}

/// The outcome of one check, in French for the instructor and the editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// A stable code: `not-empty`, `type-matches-nature`, `archive-readable`,
    /// `pentest-thresholds`.
    pub check: String,
    /// What is checked.
    pub label: String,
    pub status: CheckStatus,
    /// What was found.
    pub message: String,
}

impl CheckOutcome {
    fn new(check: &str, label: &str, status: CheckStatus, message: String) -> Self {
        CheckOutcome {
            check: check.to_string(),
            label: label.to_string(),
            status,
            message,
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n <= 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// « image, vidéo ou document ».
fn natures_list(natures: &[FileNature]) -> String {
    match natures {
        [] => String::new(),
        [only] => only.label().to_string(),
        [rest @ .., last] => format!(
            "{} ou {}",
            rest.iter()
                .map(|n| n.label())
                .collect::<Vec<_>>()
                .join(", "),
            last.label()
        ),
    }
}

/// The checks on a deposited file, in this order: not empty, type matching what the proof
/// text asks for, and, when the store read it as an archive, the archive readable.
pub fn file_checks(proof_text: Option<&str>, facts: &FileFacts) -> Vec<CheckOutcome> {
    let mut outcomes = Vec::with_capacity(3);

    outcomes.push(if facts.size == 0 {
        CheckOutcome::new(
            "not-empty",
            "Fichier non vide",
            CheckStatus::Fail,
            "Le fichier est vide (0 octet).".to_string(),
        )
    } else {
        CheckOutcome::new(
            "not-empty",
            "Fichier non vide",
            CheckStatus::Pass,
            format!(
                "Le fichier contient {}.",
                if facts.size == 1 {
                    "1 octet".to_string()
                } else {
                    format!("{} octets", facts.size)
                }
            ),
        )
    });

    let expected = expected_natures(proof_text);
    let nature = nature_of(&facts.content_type);
    let received = match nature {
        Some(n) => format!("{} ({})", n.label(), facts.content_type),
        None => format!("de type non reconnu ({})", facts.content_type),
    };
    let label = "Type de fichier attendu";
    outcomes.push(if expected.is_empty() {
        CheckOutcome::new(
            "type-matches-nature",
            label,
            CheckStatus::Pass,
            format!("La preuve n'impose pas de type de fichier ; fichier reçu : {received}."),
        )
    } else if nature.is_some_and(|n| expected.contains(&n)) {
        CheckOutcome::new(
            "type-matches-nature",
            label,
            CheckStatus::Pass,
            format!(
                "Fichier reçu : {received}, conforme à ce que demande la preuve ({}).",
                natures_list(&expected)
            ),
        )
    } else {
        CheckOutcome::new(
            "type-matches-nature",
            label,
            CheckStatus::Warning,
            format!(
                "La preuve demande : {} ; fichier reçu : {received}. À apprécier par l'instructeur.",
                natures_list(&expected)
            ),
        )
    });

    if let Some(archive) = &facts.archive {
        let label = "Archive lisible";
        outcomes.push(match archive {
            ArchiveFacts::Readable { entries: 0 } => CheckOutcome::new(
                "archive-readable",
                label,
                CheckStatus::Warning,
                "L'archive s'ouvre mais ne contient aucun fichier.".to_string(),
            ),
            ArchiveFacts::Readable { entries } => CheckOutcome::new(
                "archive-readable",
                label,
                CheckStatus::Pass,
                format!(
                    "L'archive s'ouvre et contient {}.",
                    plural(*entries, "élément", "éléments")
                ),
            ),
            ArchiveFacts::Unreadable { reason } => CheckOutcome::new(
                "archive-readable",
                label,
                CheckStatus::Fail,
                format!("L'archive ne peut pas être ouverte : {reason}."),
            ),
        });
    }
    outcomes
}

/// The penetration-test verdict as a check: it passes iff the report is within the thresholds
/// of SC.SSI/GEN.18; its message is the verdict's explanation.
pub fn pentest_checks(verdict: &PentestVerdict) -> CheckOutcome {
    CheckOutcome::new(
        "pentest-thresholds",
        "Seuils du test d'intrusion (SC.SSI/GEN.18)",
        if verdict.accepted {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        },
        verdict.explanation.clone(),
    )
}

// ---------------------------------------------------------------------------------------------
// Penetration-test form as CSV.

/// Why a penetration-test CSV cannot be read. Lines and columns count from 1, as a spreadsheet
/// shows them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PentestImportError {
    #[error("le fichier CSV est vide : une ligne d'en-tête est attendue")]
    Empty,
    #[error(
        "ligne {line} : colonne « {column} » introuvable dans l'en-tête (intitulés acceptés : {accepted})"
    )]
    MissingColumn {
        line: usize,
        column: &'static str,
        accepted: String,
    },
    #[error(
        "ligne {line}, colonne {second} : deuxième colonne « {column} » (la colonne {first} l'est déjà)"
    )]
    DuplicateColumn {
        line: usize,
        column: &'static str,
        first: usize,
        second: usize,
    },
    #[error("ligne {line}, colonne {column} : guillemet ouvrant jamais refermé")]
    UnterminatedQuote { line: usize, column: usize },
    #[error(
        "ligne {line}, colonne {column} : guillemet inattendu (un champ contenant des guillemets doit être entouré de guillemets, et ses guillemets doublés)"
    )]
    StrayQuote { line: usize, column: usize },
    #[error(
        "ligne {line} : la colonne {column} (« {name} ») manque, la ligne n'a que {found} champ(s)"
    )]
    MissingField {
        line: usize,
        column: usize,
        name: &'static str,
        found: usize,
    },
    #[error("ligne {line}, colonne {column} (« {name} ») : valeur vide")]
    EmptyField {
        line: usize,
        column: usize,
        name: &'static str,
    },
    #[error(
        "ligne {line}, colonne {column} : criticité « {value} » inconnue (valeurs acceptées : haute, moyenne, basse)"
    )]
    UnknownSeverity {
        line: usize,
        column: usize,
        value: String,
    },
    #[error(
        "ligne {line}, colonne {column} : résultat « {value} » inconnu (valeurs acceptées : conforme, non conforme, non applicable)"
    )]
    UnknownResult {
        line: usize,
        column: usize,
        value: String,
    },
    #[error(
        "ligne {line}, colonne {column} : le point de contrôle « {id} » figure déjà ligne {first}"
    )]
    DuplicateId {
        line: usize,
        column: usize,
        id: String,
        first: usize,
    },
    #[error("le fichier CSV ne contient aucun point de contrôle après la ligne d'en-tête")]
    NoPoints,
}

/// One record of the CSV: the line it starts on and its fields.
struct Record {
    line: usize,
    fields: Vec<String>,
}

/// The separator, told from the header line: `;` (what French spreadsheets export) unless
/// the header has more commas than semicolons outside quotes.
fn detect_separator(text: &str) -> char {
    let (mut semicolons, mut commas, mut quoted) = (0usize, 0usize, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => semicolons += 1,
            ',' if !quoted => commas += 1,
            '\n' | '\r' if !quoted => break,
            _ => {}
        }
    }
    if commas > semicolons { ',' } else { ';' }
}

/// Splits CSV text into records (RFC 4180: quoted fields, doubled quotes, line breaks inside
/// quotes, `\n` or `\r\n` line ends). Blank lines are skipped.
fn records(text: &str, separator: char) -> Result<Vec<Record>, PentestImportError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    loop {
        let start_line = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        // Whether the current field was quoted and its quotes are closed.
        let mut closed_quote = false;
        let mut at_field_start = true;
        let end_of_text = loop {
            let Some(c) = chars.next() else {
                break true;
            };
            match c {
                '"' if at_field_start => {
                    // Spaces before the opening quote are dropped.
                    field.clear();
                    let column = fields.len() + 1;
                    let quote_line = line;
                    loop {
                        match chars.next() {
                            None => {
                                return Err(PentestImportError::UnterminatedQuote {
                                    line: quote_line,
                                    column,
                                });
                            }
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some('"') => break,
                            Some('\n') => {
                                line += 1;
                                field.push('\n');
                            }
                            Some(other) => field.push(other),
                        }
                    }
                    closed_quote = true;
                    at_field_start = false;
                }
                c if c == separator => {
                    fields.push(std::mem::take(&mut field));
                    closed_quote = false;
                    at_field_start = true;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                ' ' | '\t' if at_field_start => field.push(c),
                '\n' => {
                    line += 1;
                    break false;
                }
                '"' => {
                    return Err(PentestImportError::StrayQuote {
                        line,
                        column: fields.len() + 1,
                    });
                }
                // Spaces after a closing quote are tolerated, anything else is not.
                c if closed_quote && c.is_whitespace() => {}
                _ if closed_quote => {
                    return Err(PentestImportError::StrayQuote {
                        line,
                        column: fields.len() + 1,
                    });
                }
                c => {
                    field.push(c);
                    at_field_start = false;
                }
            }
        };
        fields.push(field);
        let blank = fields.len() == 1 && fields[0].trim().is_empty();
        if !blank {
            out.push(Record {
                line: start_line,
                fields,
            });
        }
        if end_of_text {
            return Ok(out);
        }
    }
}

/// A column of the form: its name in messages and the header names it is known by (folded).
struct Column {
    name: &'static str,
    aliases: &'static [&'static str],
}

const ID_COLUMN: Column = Column {
    name: "point de contrôle",
    aliases: &[
        "point de controle",
        "points de controle",
        "identifiant",
        "id",
        "reference",
        "ref",
    ],
};
const SEVERITY_COLUMN: Column = Column {
    name: "criticité",
    aliases: &["criticite", "severite", "gravite", "severity"],
};
const RESULT_COLUMN: Column = Column {
    name: "résultat",
    aliases: &["resultat", "result", "statut", "status"],
};

/// A header name folded for comparison: accents, case, surrounding spaces and a trailing
/// « n° » or colon dropped.
fn fold_header(header: &str) -> String {
    let folded = fold_for_search(header);
    let folded = folded.trim().trim_end_matches(':').trim();
    let folded = folded
        .strip_suffix(" no")
        .or_else(|| folded.strip_suffix(" n°"))
        .or_else(|| folded.strip_suffix(" n o"))
        .unwrap_or(folded);
    folded.trim().to_string()
}

/// Folds a cell's value: accents and case dropped, hyphens and underscores read as spaces.
fn fold_value(value: &str) -> String {
    fold_for_search(&value.replace(['-', '_'], " "))
}

fn severity_of(value: &str) -> Option<Severity> {
    match fold_value(value).as_str() {
        "haute" | "haut" | "elevee" | "eleve" | "high" | "critique" | "critical" => {
            Some(Severity::High)
        }
        "moyenne" | "moyen" | "medium" | "moderee" | "modere" => Some(Severity::Medium),
        "basse" | "bas" | "faible" | "low" => Some(Severity::Low),
        _ => None,
    }
}

fn result_of(value: &str) -> Option<ControlResult> {
    match fold_value(value).as_str() {
        "conforme" | "ok" | "passed" | "pass" | "reussi" | "reussite" | "succes" => {
            Some(ControlResult::Passed)
        }
        "non conforme" | "ko" | "failed" | "fail" | "echec" | "echoue" | "nok" => {
            Some(ControlResult::Failed)
        }
        "non applicable" | "na" | "n/a" | "sans objet" | "not applicable" => {
            Some(ControlResult::NotApplicable)
        }
        _ => None,
    }
}

/// Reads a penetration-test form exported as CSV: a header row naming the columns (control
/// point, severity, result; other columns are ignored), then one control point per row.
///
/// The separator (`;` or `,`) is told from the header row; a UTF-8 byte-order mark is skipped;
/// fields may be quoted (`"…"`, quotes inside doubled). Header names and values are compared
/// without accents or case: « Criticité » haute/élevée/high, moyenne/medium, basse/faible/low;
/// « Résultat » conforme/OK/passed/réussi, non conforme/KO/failed/échec, non applicable/NA/N/A.
/// An identifier appearing twice is refused, naming both lines. Judging the points is
/// [`pentest_verdict`](crate::proofs::pentest_verdict)'s job.
pub fn parse_pentest_csv(text: &str) -> Result<Vec<ControlPoint>, PentestImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let separator = detect_separator(text);
    let mut rows = records(text, separator)?.into_iter();
    let header = rows.next().ok_or(PentestImportError::Empty)?;

    let folded: Vec<String> = header.fields.iter().map(|h| fold_header(h)).collect();
    let find = |column: &Column| -> Result<usize, PentestImportError> {
        let mut found: Option<usize> = None;
        for (i, name) in folded.iter().enumerate() {
            if column.aliases.contains(&name.as_str()) {
                if let Some(first) = found {
                    return Err(PentestImportError::DuplicateColumn {
                        line: header.line,
                        column: column.name,
                        first: first + 1,
                        second: i + 1,
                    });
                }
                found = Some(i);
            }
        }
        found.ok_or_else(|| PentestImportError::MissingColumn {
            line: header.line,
            column: column.name,
            accepted: column.aliases.join(", "),
        })
    };
    let id_at = find(&ID_COLUMN)?;
    let severity_at = find(&SEVERITY_COLUMN)?;
    let result_at = find(&RESULT_COLUMN)?;

    let mut points = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for row in rows {
        let cell = |at: usize, column: &Column| -> Result<String, PentestImportError> {
            let value = row
                .fields
                .get(at)
                .ok_or(PentestImportError::MissingField {
                    line: row.line,
                    column: at + 1,
                    name: column.name,
                    found: row.fields.len(),
                })?
                .trim();
            if value.is_empty() {
                return Err(PentestImportError::EmptyField {
                    line: row.line,
                    column: at + 1,
                    name: column.name,
                });
            }
            Ok(value.to_string())
        };
        let id = cell(id_at, &ID_COLUMN)?;
        let severity_text = cell(severity_at, &SEVERITY_COLUMN)?;
        let result_text = cell(result_at, &RESULT_COLUMN)?;
        let severity =
            severity_of(&severity_text).ok_or_else(|| PentestImportError::UnknownSeverity {
                line: row.line,
                column: severity_at + 1,
                value: severity_text.clone(),
            })?;
        let result = result_of(&result_text).ok_or_else(|| PentestImportError::UnknownResult {
            line: row.line,
            column: result_at + 1,
            value: result_text.clone(),
        })?;
        if let Some(first) = seen.insert(id.clone(), row.line) {
            return Err(PentestImportError::DuplicateId {
                line: row.line,
                column: id_at + 1,
                id,
                first,
            });
        }
        points.push(ControlPoint {
            id,
            severity,
            result,
        });
    }
    if points.is_empty() {
        return Err(PentestImportError::NoPoints);
    }
    Ok(points)
}
