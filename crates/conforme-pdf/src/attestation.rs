//! The référencement attestation: one page, the number in large type, the référencement's
//! particulars, and a QR code leading to the public verification page.

use crate::layout::{Align, BLACK, BLUE, GREY, Layout, MM, Style};
use crate::{AttestationDoc, PdfError, dates, metadata, profile_list};
use qrcode::{Color, EcLevel, QrCode};

pub const VERIFY_SENTENCE: &str = "L'authenticité et la validité de cette attestation se vérifient sur la page publique de vérification.";

pub fn attestation(doc: &AttestationDoc) -> Result<Vec<u8>, PdfError> {
    // Medium error correction: a printed, possibly folded page, with modules still large
    // enough at 35 mm for URLs of the usual length.
    let code = QrCode::with_error_correction_level(doc.verification_url.as_bytes(), EcLevel::M)
        .map_err(|e| PdfError::QrCode(e.to_string()))?;
    let dark: Vec<bool> = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();

    let title = format!("Attestation de référencement n° {}", doc.number);
    let mut l = Layout::new(&title)?;
    l.space(4.0 * MM);
    l.text(
        "Attestation de référencement",
        Style {
            bold: true,
            size: 22.0,
            color: BLUE,
        },
        Align::Center,
    );
    l.text(
        &format!("Programme {} — {}", doc.programme_code, doc.programme_title),
        Style {
            bold: false,
            size: 11.0,
            color: GREY,
        },
        Align::Center,
    );
    l.space(4.0 * MM);
    l.text(
        &format!("N° {}", doc.number),
        Style {
            bold: true,
            size: 20.0,
            color: BLACK,
        },
        Align::Center,
    );
    l.space(3.0 * MM);
    l.rule(GREY);
    l.paragraphs(
        &format!(
            "L'Agence du numérique en santé atteste que la solution désignée ci-dessous est \
             référencée au titre du programme {} — {} du Ségur du numérique en santé.",
            doc.programme_code, doc.programme_title
        ),
        Style::BODY,
    );
    l.space(1.0 * MM);
    l.key_values(&[
        ("Éditeur", doc.editor_name.clone()),
        ("SIRET", doc.editor_siret.clone()),
        ("Solution", doc.solution.clone()),
        ("Version technique", doc.technical_version.clone()),
        (
            "Programme",
            format!("{} — {}", doc.programme_code, doc.programme_title),
        ),
        ("Profils", profile_list(&doc.profiles)),
        ("Date de référencement", dates::date(doc.referenced_on)),
        ("Attestation délivrée le", dates::date_time(doc.issued_at)),
    ]);
    l.rule(GREY);
    l.matrix(&dark, code.width(), 35.0 * MM);
    l.text(
        &doc.verification_url,
        Style {
            bold: false,
            size: 8.5,
            color: BLACK,
        },
        Align::Center,
    );
    l.space(2.0 * MM);
    l.text(
        VERIFY_SENTENCE,
        Style {
            size: 9.0,
            ..Style::BODY
        },
        Align::Center,
    );

    l.finish(metadata(
        &title,
        format!(
            "Attestation de référencement {}, programme {}, solution {} {} de {} (SIRET {})",
            doc.number,
            doc.programme_code,
            doc.solution,
            doc.technical_version,
            doc.editor_name,
            doc.editor_siret
        ),
        format!("conforme:attestation:{}", doc.number),
        doc.issued_at,
    ))
}
