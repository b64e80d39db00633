#![allow(clippy::unwrap_used)]

use super::*;
use chrono::{NaiveDate, TimeZone};
use std::io::Read;

fn editor() -> Editor {
    Editor {
        company_name: "Hôpital Logiciels SAS".into(),
        siret: "73282932000074".into(),
        head_office_address: "12, rue de l'Église, 69003 Lyon".into(),
        legal_rep_name: "Françoise Lefèvre".into(),
        legal_rep_title: "Présidente".into(),
    }
}

fn sample_convention(clauses: Vec<Clause>) -> ConventionDoc {
    ConventionDoc {
        title: "Convention de référencement — HOP-DPI-Va2".into(),
        programme_code: "HOP-DPI-Va2".into(),
        programme_title: "Dossier patient informatisé, vague 2".into(),
        programme_source: "Arrêté du 30 août 2024 et son annexe (REM HOP DPI Va2)".into(),
        candidature_reference: "CAND-2026-000042".into(),
        editor: editor(),
        solution: "DPI Santé+".into(),
        technical_version: "4.2.1".into(),
        profiles: vec!["DPI".into(), "Imagerie — « option »".into()],
        clauses,
        generated_at: Utc.with_ymd_and_hms(2026, 12, 1, 20, 5, 0).unwrap(),
    }
}

fn short_clauses() -> Vec<Clause> {
    vec![
        Clause {
            title: "Objet".into(),
            body: "La présente convention définit les conditions du référencement.\n\n\
                   L’éditeur s’engage à maintenir la conformité de sa solution, y compris à \
                   l’égard des données de santé à caractère personnel."
                .into(),
        },
        Clause {
            title: "Durée".into(),
            body: "Elle prend effet à la date de sa signature, pour trois ans.".into(),
        },
    ]
}

fn long_clauses() -> Vec<Clause> {
    let paragraph = "L'éditeur garantit que la version référencée de la solution respecte \
                     l'ensemble des exigences du référentiel, qu'il en conserve les preuves \
                     pendant toute la durée du référencement et qu'il informe l'Agence de toute \
                     évolution susceptible d'en affecter la conformité, à peine de retrait. ";
    (1..=12)
        .map(|i| Clause {
            title: format!("Engagement n° {i}"),
            body: [paragraph.repeat(3), paragraph.repeat(2)].join("\n\n"),
        })
        .collect()
}

fn evidence() -> SignatureEvidence {
    SignatureEvidence {
        signer_name: "Françoise Lefèvre".into(),
        signer_email: "f.lefevre@hopital-logiciels.fr".into(),
        signer_title: "Présidente".into(),
        signed_at: Utc.with_ymd_and_hms(2026, 12, 2, 9, 14, 27).unwrap(),
        document_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        method: "Signature électronique simple après confirmation par code TOTP".into(),
    }
}

fn sample_attestation(profiles: Vec<String>) -> AttestationDoc {
    AttestationDoc {
        number: "REF-HOP-DPI-Va2-2026-0042".into(),
        programme_code: "HOP-DPI-Va2".into(),
        programme_title: "Dossier patient informatisé, vague 2".into(),
        editor_name: "Hôpital Logiciels SAS".into(),
        editor_siret: "73282932000074".into(),
        solution: "DPI Santé+".into(),
        technical_version: "4.2.1".into(),
        profiles,
        referenced_on: NaiveDate::from_ymd_opt(2026, 12, 15).unwrap(),
        verification_url: "https://conforme.example.fr/verification/REF-HOP-DPI-Va2-2026-0042"
            .into(),
        issued_at: Utc.with_ymd_and_hms(2026, 12, 15, 10, 0, 0).unwrap(),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Page objects (`/Type/Page`, not the `/Pages` tree).
fn pages(pdf: &[u8]) -> usize {
    let needle = b"/Type/Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| w.starts_with(needle) && w[needle.len()] != b's')
        .count()
}

/// The inflated content of every Flate stream that inflates.
fn streams(pdf: &[u8]) -> Vec<Vec<u8>> {
    let marker = b"stream\n";
    let mut out = Vec::new();
    for (i, w) in pdf.windows(marker.len()).enumerate() {
        if w == marker && (i == 0 || pdf[i - 1] != b'd') {
            let mut inflated = Vec::new();
            let mut decoder = flate2::read::ZlibDecoder::new(&pdf[i + marker.len()..]);
            if decoder.read_to_end(&mut inflated).is_ok() {
                out.push(inflated);
            }
        }
    }
    out
}

/// Closed subpaths (krilla writes rectangles as `m l l l h`) over all content streams.
fn rectangles(pdf: &[u8]) -> usize {
    streams(pdf)
        .iter()
        .map(|s| s.windows(4).filter(|w| w == b" l\nh").count())
        .sum()
}

#[test]
fn convention_is_pdf_a_2b_with_metadata() {
    let pdf = convention(&sample_convention(short_clauses())).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(find(&pdf, b"<pdfaid:part>2</pdfaid:part>"));
    assert!(find(&pdf, b"<pdfaid:conformance>B</pdfaid:conformance>"));
    assert!(find(&pdf, b"<xmp:CreatorTool>Conforme</xmp:CreatorTool>"));
    assert!(find(&pdf, b"2026-12-01T20:05:00"));
    assert!(find(
        &pdf,
        "Convention de référencement — HOP-DPI-Va2".as_bytes()
    ));
    assert!(find(&pdf, b"/Lang(fr)"));
    assert_eq!(pages(&pdf), 1);
}

#[test]
fn long_clauses_flow_over_several_pages() {
    let short = convention(&sample_convention(short_clauses())).unwrap();
    let long = convention(&sample_convention(long_clauses())).unwrap();
    assert_eq!(pages(&short), 1);
    let n = pages(&long);
    assert!(n >= 3, "{n} pages");
    assert!(find(
        &long,
        format!("<xmpTPg:NPages>{n}</xmpTPg:NPages>").as_bytes()
    ));
}

#[test]
fn signed_convention_adds_the_evidence_page() {
    let doc = sample_convention(long_clauses());
    let unsigned = convention(&doc).unwrap();
    let signed = signed_convention(&doc, &evidence()).unwrap();
    assert_eq!(pages(&signed), pages(&unsigned) + 1);
    assert!(find(&signed, "(signée)".as_bytes()));
    assert!(find(&signed, b"<pdfaid:part>2</pdfaid:part>"));
}

#[test]
fn output_is_deterministic() {
    let doc = sample_convention(short_clauses());
    assert_eq!(convention(&doc).unwrap(), convention(&doc).unwrap());
    let att = sample_attestation(vec!["DPI".into()]);
    assert_eq!(attestation(&att).unwrap(), attestation(&att).unwrap());
    let mut later = att.clone();
    later.issued_at += chrono::Duration::seconds(1);
    assert_ne!(attestation(&att).unwrap(), attestation(&later).unwrap());
}

#[test]
fn attestation_is_one_page_with_its_qr_code() {
    let pdf = attestation(&sample_attestation(vec!["DPI".into(), "Imagerie".into()])).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(find(&pdf, b"<pdfaid:conformance>B</pdfaid:conformance>"));
    assert_eq!(pages(&pdf), 1);
    // The QR code: one rectangle per run of dark modules, so far more than the few rules.
    let baseline = baseline_page("Attestation").unwrap();
    assert_eq!(rectangles(&baseline), 0);
    let drawn = rectangles(&pdf);
    assert!(drawn > 150, "{drawn} rectangles");
}

#[test]
fn empty_profiles_and_awkward_text_still_render() {
    let pdf = attestation(&sample_attestation(Vec::new())).unwrap();
    assert_eq!(pages(&pdf), 1);
    let mut doc = sample_convention(vec![Clause {
        title: "Caractères\tdivers\u{0}".into(),
        body: format!(
            "Tabulation\tet emoji 😀, zone privée \u{E000}, BOM \u{FEFF}, mot très long {}\r\n\r\nFin.",
            "x".repeat(400)
        ),
    }]);
    doc.profiles.clear();
    doc.editor.head_office_address = String::new();
    let pdf = convention(&doc).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    signed_convention(&doc, &evidence()).unwrap();
}

#[test]
fn an_overlong_verification_url_is_an_error() {
    let mut doc = sample_attestation(Vec::new());
    doc.verification_url = "https://x/".repeat(500);
    assert!(matches!(attestation(&doc), Err(PdfError::QrCode(_))));
}

#[test]
fn line_breaking_fits_the_width() {
    let fonts = fonts::Fonts::get().unwrap();
    let face = fonts.face(false);
    let text = "Le référencement est prononcé par l'Agence à l'issue de l'instruction.";
    let lines = layout::wrap(face, 10.0, text, 120.0);
    assert!(lines.len() > 1);
    for line in &lines {
        assert!(face.width(line, 10.0) <= 120.0, "{line}");
    }
    assert_eq!(lines.join(" "), text);
    assert_eq!(layout::wrap(face, 10.0, "", 120.0), vec![String::new()]);
    assert_eq!(
        layout::split_paragraphs("a\nb\n\n\n c \n"),
        vec!["a\nb".to_string(), " c".to_string()]
    );
}

/// Writes samples for a look by hand: `CONFORME_PDF_SAMPLES=/tmp cargo test -p conforme-pdf`.
#[test]
fn write_samples_when_asked() {
    let Some(dir) = std::env::var_os("CONFORME_PDF_SAMPLES") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let doc = sample_convention([short_clauses(), long_clauses()].concat());
    std::fs::write(dir.join("convention.pdf"), convention(&doc).unwrap()).unwrap();
    std::fs::write(
        dir.join("convention-signee.pdf"),
        signed_convention(&doc, &evidence()).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("attestation.pdf"),
        attestation(&sample_attestation(vec![
            "DPI".into(),
            "Imagerie — « option »".into(),
        ]))
        .unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("baseline.pdf"),
        baseline_page("Attestation").unwrap(),
    )
    .unwrap();
}
