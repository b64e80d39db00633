//! The référencement convention: parties, object, numbered articles, signature block; and its
//! signed version, the same pages followed by the signature evidence.

use crate::layout::{Align, BLUE, GREY, Layout, MM, Style};
use crate::{ConventionDoc, PdfError, SignatureEvidence, dates, metadata, profile_list};

const TITLE: Style = Style {
    bold: true,
    size: 16.0,
    color: BLUE,
};
const SECTION: Style = Style {
    bold: true,
    size: 12.0,
    color: BLUE,
};
const ARTICLE: Style = Style {
    bold: true,
    size: 11.0,
    color: crate::layout::BLACK,
};
const NOTE: Style = Style {
    bold: false,
    size: 9.0,
    color: GREY,
};

/// The convention as presented for signature.
pub fn convention(doc: &ConventionDoc) -> Result<Vec<u8>, PdfError> {
    let layout = body(doc)?;
    layout.finish(metadata(
        &doc.title,
        subject(doc),
        document_id(doc),
        doc.generated_at,
    ))
}

/// The same convention followed by a final page « Preuve de signature électronique ».
pub fn signed_convention(
    doc: &ConventionDoc,
    evidence: &SignatureEvidence,
) -> Result<Vec<u8>, PdfError> {
    let mut layout = body(doc)?;
    evidence_page(&mut layout, doc, evidence);
    layout.finish(metadata(
        &format!("{} (signée)", doc.title),
        subject(doc),
        document_id(doc),
        evidence.signed_at,
    ))
}

fn subject(doc: &ConventionDoc) -> String {
    format!(
        "Convention de référencement, programme {}, candidature {}, éditeur {} (SIRET {})",
        doc.programme_code, doc.candidature_reference, doc.editor.company_name, doc.editor.siret
    )
}

/// Shared by the unsigned and the signed versions: two versions of one document.
fn document_id(doc: &ConventionDoc) -> String {
    format!(
        "conforme:convention:{}:{}",
        doc.programme_code, doc.candidature_reference
    )
}

fn body(doc: &ConventionDoc) -> Result<Layout, PdfError> {
    let mut l = Layout::new(&format!(
        "{} — candidature {}",
        doc.title, doc.candidature_reference
    ))?;
    l.text(&doc.title, TITLE, Align::Left);
    l.text(
        &format!("Programme {} — {}", doc.programme_code, doc.programme_title),
        Style {
            size: 11.0,
            ..Style::BODY
        },
        Align::Left,
    );
    l.text(
        &format!(
            "Candidature {} · document établi le {}",
            doc.candidature_reference,
            dates::date_time(doc.generated_at)
        ),
        NOTE,
        Align::Left,
    );
    l.rule(GREY);

    let e = &doc.editor;
    l.heading("Entre les soussignés", SECTION);
    l.paragraphs(
        "L'Agence du numérique en santé (ANS), agissant pour le compte de l'État dans le cadre \
         du programme Ségur du numérique en santé, ci-après « l'Agence », d'une part,\n\nEt",
        Style::BODY,
    );
    l.key_values(&[
        ("Société", e.company_name.clone()),
        ("SIRET", e.siret.clone()),
        ("Siège social", e.head_office_address.clone()),
        (
            "Représentée par",
            format!("{}, {}", e.legal_rep_name, e.legal_rep_title),
        ),
    ]);
    l.paragraphs("ci-après « l'Éditeur », d'autre part.", Style::BODY);
    l.space(2.0 * MM);

    l.heading("Objet du référencement", SECTION);
    l.key_values(&[
        ("Solution", doc.solution.clone()),
        ("Version technique", doc.technical_version.clone()),
        (
            "Programme",
            format!("{} — {}", doc.programme_code, doc.programme_title),
        ),
        ("Référentiel", doc.programme_source.clone()),
        ("Profils", profile_list(&doc.profiles)),
        ("Candidature", doc.candidature_reference.clone()),
    ]);
    l.space(2.0 * MM);

    l.heading("Il a été convenu ce qui suit", SECTION);
    for (i, clause) in doc.clauses.iter().enumerate() {
        l.space(1.0 * MM);
        l.heading(&format!("Article {} — {}", i + 1, clause.title), ARTICLE);
        l.paragraphs(&clause.body, Style::BODY);
    }

    l.space(3.0 * MM);
    l.heading("Signatures", SECTION);
    l.paragraphs(
        &format!(
            "Convention établie sous forme électronique le {}.",
            dates::date_time(doc.generated_at)
        ),
        Style::BODY,
    );
    l.text(
        &format!(
            "Pour l'éditeur : {}, {}",
            e.legal_rep_name, e.legal_rep_title
        ),
        Style::LABEL,
        Align::Left,
    );
    l.space(1.5 * MM);
    l.text(
        "Pour l'Agence du numérique en santé",
        Style::LABEL,
        Align::Left,
    );
    Ok(l)
}

fn evidence_page(l: &mut Layout, doc: &ConventionDoc, ev: &SignatureEvidence) {
    l.new_page();
    l.text("Preuve de signature électronique", TITLE, Align::Left);
    l.rule(GREY);
    l.text(
        "Signée électroniquement sur la plateforme Conforme.",
        Style {
            size: 11.0,
            ..Style::LABEL
        },
        Align::Left,
    );
    l.space(2.0 * MM);
    l.paragraphs(
        &format!(
            "La convention « {} » (candidature {}) a été signée pour l'éditeur {} (SIRET {}) \
             par la personne désignée ci-dessous. L'empreinte indiquée est celle du document \
             non signé qui lui a été présenté ; les pages qui précèdent en reproduisent le \
             contenu.",
            doc.title, doc.candidature_reference, doc.editor.company_name, doc.editor.siret
        ),
        Style::BODY,
    );
    l.key_values(&[
        ("Signataire", ev.signer_name.clone()),
        ("Qualité", ev.signer_title.clone()),
        ("Adresse électronique", ev.signer_email.clone()),
        ("Date et heure", dates::date_time_precise(ev.signed_at)),
        (
            "Horodatage (UTC)",
            ev.signed_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ),
        ("Méthode", ev.method.clone()),
    ]);
    l.text(
        "Empreinte SHA-256 du document non signé :",
        Style::LABEL,
        Align::Left,
    );
    // On a line of its own, at a size where 64 hex digits fit the content width.
    l.text(
        &ev.document_sha256,
        Style {
            size: 9.0,
            ..Style::BODY
        },
        Align::Left,
    );
    l.space(4.0 * MM);
    l.text(
        &format!("Pour l'éditeur : {}, {}", ev.signer_name, ev.signer_title),
        Style::LABEL,
        Align::Left,
    );
    l.text(
        &format!(
            "Signée électroniquement sur la plateforme Conforme le {}.",
            dates::date_time(ev.signed_at)
        ),
        Style::BODY,
        Align::Left,
    );
}
