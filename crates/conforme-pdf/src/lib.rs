//! The platform's legal documents as PDF/A-2b: the référencement convention (unsigned, and
//! signed with a final page of signature evidence) and the référencement attestation, whose
//! QR code leads to the public verification page.
//!
//! Output is deterministic: equal input gives identical bytes (the creation date is the
//! document's own date, the file identifiers are hashes of the content). Text is set in the
//! embedded DejaVu Sans (subset by krilla), laid out on A4 pages by [`layout`], times are
//! printed in Europe/Paris.
#![forbid(unsafe_code)]

mod attestation;
mod convention;
mod dates;
mod fonts;
mod layout;

use chrono::{DateTime, Utc};

pub use attestation::attestation;
pub use convention::{convention, signed_convention};

/// The editor (« éditeur ») party to a convention.
#[derive(Debug, Clone)]
pub struct Editor {
    pub company_name: String,
    pub siret: String,
    pub head_office_address: String,
    pub legal_rep_name: String,
    pub legal_rep_title: String,
}

/// One article of a convention.
#[derive(Debug, Clone)]
pub struct Clause {
    pub title: String,
    /// Plain text, paragraphs separated by blank lines.
    pub body: String,
}

/// A référencement convention between the Agence du numérique en santé and an editor.
#[derive(Debug, Clone)]
pub struct ConventionDoc {
    /// e.g. « Convention de référencement — HOP-DPI-Va2 ».
    pub title: String,
    pub programme_code: String,
    pub programme_title: String,
    pub programme_source: String,
    pub candidature_reference: String,
    pub editor: Editor,
    pub solution: String,
    pub technical_version: String,
    pub profiles: Vec<String>,
    pub clauses: Vec<Clause>,
    pub generated_at: DateTime<Utc>,
}

/// What the signed convention's last page records of the signature.
#[derive(Debug, Clone)]
pub struct SignatureEvidence {
    pub signer_name: String,
    pub signer_email: String,
    pub signer_title: String,
    pub signed_at: DateTime<Utc>,
    /// Hex SHA-256 digest of the unsigned convention PDF bytes.
    pub document_sha256: String,
    /// e.g. « Signature électronique simple après confirmation par code TOTP ».
    pub method: String,
}

/// A référencement attestation.
#[derive(Debug, Clone)]
pub struct AttestationDoc {
    /// The unique référencement number.
    pub number: String,
    pub programme_code: String,
    pub programme_title: String,
    pub editor_name: String,
    pub editor_siret: String,
    pub solution: String,
    pub technical_version: String,
    pub profiles: Vec<String>,
    pub referenced_on: chrono::NaiveDate,
    /// Encoded in the QR code and printed under it.
    pub verification_url: String,
    pub issued_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The vendored fonts could not be read (a build defect, not an input error).
    #[error("the embedded fonts could not be read")]
    Font,
    /// The verification URL does not fit in a QR code.
    #[error("QR code: {0}")]
    QrCode(String),
    /// krilla refused the document (validation or serialisation).
    #[error("PDF rendering: {0}")]
    Render(String),
}

/// A one-page PDF/A-2b with one line of `text` and nothing else: the baseline of the
/// attestation benchmark (same fonts, same serialisation, minimal content).
pub fn baseline_page(text: &str) -> Result<Vec<u8>, PdfError> {
    let mut layout = layout::Layout::bare()?;
    layout.text(text, layout::Style::BODY, layout::Align::Left);
    layout.finish(
        krilla::metadata::Metadata::new()
            .title(text.to_string())
            .language("fr".to_string())
            .creator("Conforme".to_string())
            .creation_date(krilla::metadata::DateTime::new(2026).month(1).day(1)),
    )
}

/// The metadata common to every document.
fn metadata(
    title: &str,
    subject: String,
    id: String,
    date: DateTime<Utc>,
) -> krilla::metadata::Metadata {
    krilla::metadata::Metadata::new()
        .title(title.to_string())
        .description(subject)
        .language("fr".to_string())
        .creator("Conforme".to_string())
        .producer("Conforme (krilla)".to_string())
        .authors(vec!["Agence du numérique en santé".to_string()])
        .document_id(id)
        .creation_date(dates::metadata(date))
}

/// Profiles as one line each, or a statement that there are none.
fn profile_list(profiles: &[String]) -> String {
    if profiles.is_empty() {
        "Aucun profil".to_string()
    } else {
        profiles
            .iter()
            .map(|p| format!("• {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests;
